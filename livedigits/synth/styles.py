"""A user's own writing habits that MNIST rarely shows, drawn onto MNIST digits.

``restyle_digit`` adds one habit's stroke to a digit; ``user_digits`` makes a ``Digits`` pair of them,
ready for ``make_page`` or ``render_video`` to write a page in that hand.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from livedigits.synth.page import Digits, check_digits, mnist_test_digits

#: Styles of writing that MNIST (American writers) rarely shows: a seven with a bar through its stem,
#: and the continental one, whose long flag runs down-left from the top (MNIST models read it as a 7).
USER_STYLES = {"barred7": 7, "flagged1": 1}
_STYLE_UPSCALE = 4  # strokes are drawn on a 112x112 copy, then shrunk back, so their edges are soft like MNIST's


def _pen_width(image28: np.ndarray) -> float:
    """The stroke width of an MNIST digit in pixels (twice the typical distance from ink to its edge)."""
    ink = (image28 > 127).astype(np.uint8)
    if not ink.any():
        return 2.0
    distance = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    return float(max(1.5, 2.0 * np.percentile(distance[ink > 0], 75)))


def restyle_digit(image28: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """Add a writer's habit to one MNIST digit: ``barred7`` crosses the stem of a 7 at mid height;
    ``flagged1`` gives a 1 a long flag from its top, down to the left (30-50% of its height).

    ``image28``: uint8 (28, 28), white ink on black. The new stroke is drawn with a pen as wide as
    the digit's own. Returns a uint8 (28, 28) image, white on black.
    """
    if style not in USER_STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {sorted(USER_STYLES)}")
    k = _STYLE_UPSCALE
    big = cv2.resize(image28, (28 * k, 28 * k), interpolation=cv2.INTER_CUBIC)
    ys, xs = np.nonzero(image28 > 127)
    if ys.size == 0:
        raise ValueError("the digit image has no ink to restyle")
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    height = bottom - top + 1
    thickness = max(1, int(round(_pen_width(image28) * k * rng.uniform(0.85, 1.1))))

    def column_at(row: int) -> float:
        cols = np.nonzero(image28[row] > 127)[0]
        return float(cols.mean()) if cols.size else float((left + right) / 2)

    if style == "barred7":
        # The stem at mid height: the ink of that row nearest to the digit's lower half.
        row = int(round(top + height * rng.uniform(0.45, 0.58)))
        stem = column_at(row)
        half = height * rng.uniform(0.22, 0.32)
        tilt = height * rng.uniform(-0.06, 0.03)
        start = (stem - half, row - tilt / 2)
        end = (stem + half * rng.uniform(0.8, 1.1), row + tilt / 2)
    else:
        tip = column_at(int(top))
        length = height * rng.uniform(0.3, 0.5)
        angle = math.radians(rng.uniform(25, 45))  # below the horizontal, pointing left
        start = (tip + 0.3, float(top) + 0.3)
        end = (tip - length * math.cos(angle), top + length * math.sin(angle))
    p0 = (int(round(start[0] * k + k / 2)), int(round(start[1] * k + k / 2)))
    p1 = (int(round(end[0] * k + k / 2)), int(round(end[1] * k + k / 2)))
    cv2.line(big, p0, p1, 255, thickness, cv2.LINE_AA)
    out = cv2.resize(big, (28, 28), interpolation=cv2.INTER_AREA)
    return out.astype(np.uint8)


def user_digits(style: str, count: int, seed: int = 0, digits: Digits | None = None) -> Digits:
    """``count`` digits written in one of ``USER_STYLES``: MNIST digits of that class (from ``digits``,
    by default the MNIST test set), each with the style's extra stroke. A ``Digits`` pair, ready for
    ``make_page(..., digits=...)`` or ``render_video(..., digits=...)`` to write a page of them."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    images, labels = check_digits(mnist_test_digits() if digits is None else digits)
    if style not in USER_STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {sorted(USER_STYLES)}")
    label = USER_STYLES[style]
    pool = np.flatnonzero(labels == label)
    if pool.size == 0:
        raise ValueError(f"no {label} among the given digits to restyle")
    rng = np.random.default_rng(seed)
    picks = rng.choice(pool, size=count, replace=count > pool.size)
    out = np.stack([restyle_digit(images[i], style, rng) for i in picks])
    return out, np.full(count, label, np.int64)

"""Paper scenes with known ground truth: a handwritten page seen by a hand-held camera.

Used for the bundled demo samples, for tests, and for augmentation. Everything is
deterministic for a given seed: the page, the camera's path and every frame's
noise come from separate random streams derived from the seed, so frame ``i``
renders the same whether it is asked for alone or as part of a whole clip.

Two stages:

* ``make_page`` draws a page: white-ish paper, numbers written with MNIST
  **test** digits (random picks, no selection by any classifier), non-digit marks
  from ``marks.draw_mark``, optional faint ruled lines. It returns the page image
  and the tight ink box of every digit, number and mark in page pixels.
* ``SyntheticClip`` puts the page on a darker table and films it with a
  hand-held camera: a perspective homography per frame with a smooth shake,
  lighting gradient, a soft hand shadow, defocus and motion blur, sensor noise.
  Ground truth per frame is each page box's corners mapped through that frame's
  homography, as an axis-aligned box.

Ground truth layout (what ``render_video`` writes as JSON)::

    {"source": "demo.mp4", "fps": 30, "size": [640, 480],
     "frames": [{"frame": 0,
                 "digits": [{"box": [x, y, w, h], "digit": 4}],
                 "numbers": [{"text": "407", "box": [x, y, w, h]}],
                 "marks": [{"box": [x, y, w, h], "kind": "letter"}]}]}

Boxes are ints in frame pixels, ``[x, y, width, height]``.

Example::

    from livedigits.synth import render_frame
    image, truth = render_frame(seed=3, size=(640, 480))
    image.shape                           # (480, 640, 3), uint8 BGR
    truth["frames"][0]["numbers"][0]      # {"text": "...", "box": [...]}
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from . import marks as marks_module
from .types import Box

# A pixel whose ink alpha (0 = bare paper, 1 = full ink) reaches this level counts
# as ink for the truth boxes and for the spacing between digits.
INK_ALPHA_LEVEL = 0.1

# An item whose projected box lies less than this fraction inside the frame is
# left out of that frame's truth (a half-seen digit cannot be read).
MIN_VISIBLE_FRACTION = 0.999

# Seeds of the separate random streams derived from the user's seed.
_PAGE_STREAM, _CAMERA_STREAM, _FRAME_STREAM = 1, 2, 3

# Pen inks as BGR reflectance in [0, 1].
INKS = {
    "black": (0.13, 0.12, 0.12),
    "blue": (0.58, 0.27, 0.13),
    "dark_blue": (0.45, 0.18, 0.10),
}
PENCIL = (0.42, 0.42, 0.44)  # smudges and some marks
RULE_TINTS = {"blue": (0.35, 0.9, 1.0), "grey": (1.0, 1.0, 1.0)}  # share of darkening per BGR channel

SAMPLE_SEED = 2024
SAMPLE_VIDEO_FRAMES = 150
SAMPLE_STILL_SIZE = (1280, 960)
MAX_SAMPLE_BYTES = 5 * 1024 * 1024


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class PageOptions:
    """What is written on the page. Lengths are fractions of the page height unless stated.

    Ranges are ``(low, high)`` and drawn uniformly per page, number, digit or mark.
    """

    width: int = 1600  # page pixels
    height: int = 1200  # page pixels
    margin: float = 0.07  # free border at every edge of the page
    numbers: tuple[int, int] = (6, 9)  # numbers on the page (fewer if they do not fit)
    digits_per_number: tuple[int, int] = (1, 4)
    digit_height: tuple[float, float] = (0.065, 0.16)  # ink height of one number's digits
    digit_height_jitter: float = 0.05  # relative change in height from digit to digit
    digit_gap: tuple[float, float] = (0.18, 0.35)  # ink gap between neighbouring digits, in digit heights
    baseline_jitter: float = 0.04  # vertical wander of each digit, in digit heights
    number_gap: tuple[float, float] = (1.2, 2.5)  # gap between numbers of a row, in the taller digit height
    row_gap: tuple[float, float] = (0.5, 1.0)  # gap between rows, in the taller row's digit height
    marks: tuple[int, int] = (5, 8)  # non-digit marks on the page
    mark_size: tuple[float, float] = (0.4, 0.85)  # in the median digit height of the page
    mark_kind_weights: tuple[float, ...] = (0.35, 0.25, 0.1, 0.1, 0.1, 0.1)  # over marks.MARK_KINDS
    mark_clearance: float = 1.0  # least gap between a mark and a number, in that number's digit height
    stroke_gamma: tuple[float, float] = (0.6, 1.5)  # ink alpha ** gamma: < 1 thickens strokes, > 1 thins
    thick_pen: float = 0.2  # probability that a number's strokes are also dilated (a felt pen)
    ink_opacity: tuple[float, float] = (0.85, 0.97)
    blue_ink: float = 0.5  # probability that an ink is blue rather than black
    ink_per_number: float = 0.3  # probability that a number uses its own ink instead of the page's
    paper_tint: float = 0.03  # per-channel spread of the paper colour around off-white
    paper_texture: float = 0.012  # amplitude of the paper's slow brightness variation
    paper_grain: float = 0.008  # std of the paper's per-pixel grain
    ruled: float = 0.5  # probability that the paper is ruled
    rule_spacing: tuple[float, float] = (0.07, 0.1)
    rule_darkness: tuple[float, float] = (0.08, 0.16)  # share of the paper's brightness a rule removes
    rule_thickness: float = 0.0017

    def __post_init__(self) -> None:
        if self.width < 64 or self.height < 64:
            raise ValueError(f"page must be at least 64x64 px, got {self.width}x{self.height}")
        if len(self.mark_kind_weights) != len(marks_module.MARK_KINDS):
            raise ValueError(
                f"mark_kind_weights needs {len(marks_module.MARK_KINDS)} weights "
                f"(for {marks_module.MARK_KINDS}), got {len(self.mark_kind_weights)}"
            )
        for name in ("numbers", "digits_per_number", "marks"):
            low, high = getattr(self, name)
            if low < 0 or high < low:
                raise ValueError(f"{name} must be a range (low, high) with 0 <= low <= high, got {(low, high)}")
        if self.digits_per_number[0] < 1:
            raise ValueError(f"digits_per_number must start at 1 or more, got {self.digits_per_number}")


@dataclass(frozen=True)
class CameraOptions:
    """How the hand-held camera sees the page. Ranges are drawn once per clip.

    Pixel amounts are given for a 480 px tall frame and scale with the frame height.
    """

    fill: tuple[float, float] = (0.80, 0.90)  # share of the frame the page spans (its tighter side)
    offset: float = 0.03  # largest shift of the page centre, as a share of the frame size
    tilt_degrees: tuple[float, float] = (2.0, 12.0)  # tilt of the page plane away from the camera axis
    roll_degrees: float = 4.0  # largest in-plane rotation
    distance: float = 1.6  # camera distance in page widths: smaller means stronger perspective
    shake_pixels: tuple[float, float] = (1.5, 5.0)  # amplitude of the hand's wander
    shake_hz: tuple[float, float] = (0.15, 1.2)
    shake_roll_degrees: float = 0.4
    shake_scale: float = 0.01  # relative zoom wander (the hand moving closer and away)
    table_margin: float = 0.35  # table drawn around the page, in page heights
    table_brightness: tuple[float, float] = (0.25, 0.5)
    light_gradient: tuple[float, float] = (0.08, 0.3)  # brightness lost from the lit side to the far side
    vignette: float = 0.15
    exposure: tuple[float, float] = (0.92, 1.04)
    shadow: float = 0.8  # probability of a soft hand/phone shadow
    shadow_strength: tuple[float, float] = (0.2, 0.45)
    shadow_softness: float = 0.08  # blur of the shadow's edge, in frame widths
    defocus_sigma: tuple[float, float] = (0.3, 0.9)
    shutter: tuple[float, float] = (0.3, 1.0)  # share of a frame interval the shutter is open (motion blur)
    noise_sigma: tuple[float, float] = (1.5, 4.0)  # sensor noise, grey levels


def _options(cls, values: dict, what: str):
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown {what} option(s) {unknown}; valid ones are {sorted(names)}")
    return cls(**values)


# --------------------------------------------------------------------------- truth types


@dataclass(frozen=True)
class TrueDigit:
    """A written digit: its tight ink box and its MNIST label. ``number`` indexes ``Page.numbers``."""

    box: Box
    digit: int
    number: int


@dataclass(frozen=True)
class TrueNumber:
    """Digits written together, left to right; ``digits`` index ``Page.digits``."""

    text: str
    box: Box
    digits: tuple[int, ...]


@dataclass(frozen=True)
class TrueMark:
    """A non-digit mark: its tight ink box and its kind (one of ``marks.MARK_KINDS``)."""

    box: Box
    kind: str


@dataclass(frozen=True)
class Page:
    """A written page. ``image`` is BGR uint8 of shape ``(height, width, 3)``; boxes are in its pixels."""

    image: np.ndarray = field(repr=False)
    digits: tuple[TrueDigit, ...]
    numbers: tuple[TrueNumber, ...]
    marks: tuple[TrueMark, ...]

    @property
    def size(self) -> tuple[int, int]:
        return (self.image.shape[1], self.image.shape[0])

    def truth(self, index: int = 0) -> dict:
        """The page's truth as one frame dict of the JSON layout, in page pixels."""
        return {
            "frame": int(index),
            "digits": [{"box": d.box.as_list(), "digit": d.digit} for d in self.digits],
            "numbers": [{"text": n.text, "box": n.box.as_list()} for n in self.numbers],
            "marks": [{"box": m.box.as_list(), "kind": m.kind} for m in self.marks],
        }


# --------------------------------------------------------------------------- page drawing


# Handwritten digits to write with: ``(images, labels)``, uint8 ``(N, 28, 28)`` white
# ink on black and integer ``(N,)`` labels 0..9.
Digits = tuple[np.ndarray, np.ndarray]


@lru_cache(maxsize=1)
def mnist_test_digits() -> Digits:
    """The full MNIST test set (``load_mnist()``'s ``x_test, y_test``): the default ink."""
    from .data import load_mnist

    _, (x_test, y_test) = load_mnist()
    return x_test, y_test


def _check_digits(digits: Digits) -> Digits:
    try:
        images, labels = digits
    except (TypeError, ValueError):
        raise ValueError("digits must be a pair (images, labels)") from None
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"digit images must be uint8 of shape (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.shape != (len(images),) or len(images) == 0:
        raise ValueError(f"digit labels must have shape ({len(images)},) with N > 0, got {labels.shape}")
    if not images.reshape(len(images), -1).any(axis=1).all():
        raise ValueError("every digit image needs some ink; found an all-black image")
    return images, labels


def _ink_extent(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(x, y, w, h)`` of the pixels with alpha >= INK_ALPHA_LEVEL, or None if there are none."""
    ys, xs = np.nonzero(alpha >= INK_ALPHA_LEVEL)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


@dataclass(frozen=True)
class _Stamp:
    """Ink to put on the page: ``alpha`` float32 (h, w) in [0, 1] and the ink box inside it."""

    alpha: np.ndarray
    ink: tuple[int, int, int, int]  # x, y, w, h inside alpha


def _digit_stamp(image28: np.ndarray, height: float, gamma: float, dilate: int) -> _Stamp:
    """Upscale one MNIST digit (uint8 28x28, white on black) so its ink is ``height`` px tall."""
    ys, xs = np.nonzero(image28)
    crop = image28[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0
    crop = np.pad(crop, 2)  # room for the cubic kernel to fade out
    scale = height / (ys.max() - ys.min() + 1)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    alpha = np.clip(cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC), 0.0, 1.0) ** gamma
    if dilate > 0:
        alpha = cv2.dilate(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1)))
    ink = _ink_extent(alpha)
    if ink is None:  # every MNIST digit has ink; this would be a bug upstream
        raise ValueError("an MNIST digit rendered with no ink")
    return _Stamp(alpha.astype(np.float32), ink)


def _mark_stamp(rng: np.random.Generator, size: int, kind: str) -> _Stamp:
    """One mark from ``marks.draw_mark``, cropped to its ink with a small border."""
    for _ in range(20):
        drawn = marks_module.draw_mark(rng, size, kind).astype(np.float32) / 255.0
        ink = _ink_extent(drawn)
        if ink is not None and ink[2] >= 2 and ink[3] >= 2:
            x, y, w, h = ink
            pad = 2
            y0, x0 = max(0, y - pad), max(0, x - pad)
            alpha = drawn[y0 : y + h + pad, x0 : x + w + pad]
            return _Stamp(np.ascontiguousarray(alpha), (x - x0, y - y0, w, h))
    raise ValueError(f"marks.draw_mark({kind!r}) kept drawing nothing")


def _pick_ink(rng: np.random.Generator, options: PageOptions) -> np.ndarray:
    if rng.random() < options.blue_ink:
        name = "blue" if rng.random() < 0.7 else "dark_blue"
    else:
        name = "black"
    # A small per-pen variation so two blue pens are not identical.
    return np.clip(np.array(INKS[name], np.float32) + rng.normal(0, 0.02, 3).astype(np.float32), 0, 1)


@dataclass
class _NumberPlan:
    """Random choices for one number, drawn once; the layout may re-render it smaller."""

    labels: list[int]
    images: list[np.ndarray]
    height: float  # page px at scale 1
    height_factors: list[float]
    gaps: list[float]  # in digit heights, before digit i (first is 0)
    drops: list[float]  # baseline wander, in digit heights
    gamma: float
    dilate_fraction: float  # dilation radius as a share of the digit height
    ink: np.ndarray
    opacity: float

    def render(self, scale: float) -> tuple[list[_Stamp], list[tuple[int, int]], tuple[int, int, int, int]]:
        """Stamps, their top-left offsets from (left, baseline), and the number's ink extent there."""
        stamps, offsets = [], []
        x = 0.0
        for image, factor, gap, drop in zip(self.images, self.height_factors, self.gaps, self.drops):
            h = self.height * scale * factor
            stamp = _digit_stamp(image, h, self.gamma, int(round(self.dilate_fraction * h)))
            ix, iy, iw, ih = stamp.ink
            x += gap * self.height * scale
            # The ink's bottom sits on the baseline (plus wander); its left edge at x.
            ox = int(round(x)) - ix
            oy = int(round(drop * self.height * scale)) - (iy + ih)
            stamps.append(stamp)
            offsets.append((ox, oy))
            x = ox + ix + iw
        boxes = [(ox + s.ink[0], oy + s.ink[1], ox + s.ink[0] + s.ink[2], oy + s.ink[1] + s.ink[3]) for s, (ox, oy) in zip(stamps, offsets)]
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        return stamps, offsets, (x0, y0, x1 - x0, y1 - y0)


@dataclass
class _MarkPlan:
    kind: str
    stamp: _Stamp
    ink: np.ndarray
    opacity: float


def _plan_numbers(rng: np.random.Generator, options: PageOptions, page_ink: np.ndarray, digits: Digits) -> list[_NumberPlan]:
    x_test, y_test = digits
    count = int(rng.integers(options.numbers[0], options.numbers[1] + 1))
    plans = []
    for _ in range(count):
        n = int(rng.integers(options.digits_per_number[0], options.digits_per_number[1] + 1))
        picks = rng.integers(0, len(x_test), n)
        ink = _pick_ink(rng, options) if rng.random() < options.ink_per_number else page_ink
        plans.append(
            _NumberPlan(
                labels=[int(y_test[i]) for i in picks],
                images=[x_test[i] for i in picks],
                height=float(rng.uniform(*options.digit_height) * options.height),
                height_factors=list(1.0 + rng.uniform(-1, 1, n) * options.digit_height_jitter),
                gaps=[0.0] + list(rng.uniform(*options.digit_gap, n - 1)),
                drops=list(rng.uniform(-1, 1, n) * options.baseline_jitter),
                gamma=float(rng.uniform(*options.stroke_gamma)),
                dilate_fraction=float(rng.uniform(0.02, 0.05)) if rng.random() < options.thick_pen else 0.0,
                ink=ink,
                opacity=float(rng.uniform(*options.ink_opacity)),
            )
        )
    return plans


def _plan_marks(rng: np.random.Generator, options: PageOptions, page_ink: np.ndarray, reference: float) -> list[_MarkPlan]:
    count = int(rng.integers(options.marks[0], options.marks[1] + 1))
    weights = np.asarray(options.mark_kind_weights, np.float64)
    plans = []
    for _ in range(count):
        kind = str(rng.choice(marks_module.MARK_KINDS, p=weights / weights.sum()))
        size = max(8, int(round(rng.uniform(*options.mark_size) * reference)))
        stamp = _mark_stamp(rng, size, kind)
        if kind == "smudge":
            ink, opacity = np.array(PENCIL, np.float32), float(rng.uniform(0.25, 0.5))
        else:
            ink = page_ink if rng.random() < 0.7 else _pick_ink(rng, options)
            opacity = float(rng.uniform(*options.ink_opacity))
        plans.append(_MarkPlan(kind, stamp, ink, opacity))
    return plans


def _paper(rng: np.random.Generator, options: PageOptions) -> np.ndarray:
    """Off-white paper, float32 (H, W, 3) BGR in [0, 1], with slow texture and grain."""
    w, h = options.width, options.height
    colour = np.array([0.94, 0.95, 0.96], np.float32) + rng.uniform(-1, 1, 3).astype(np.float32) * options.paper_tint
    coarse = rng.standard_normal((h // 64 + 2, w // 64 + 2)).astype(np.float32)
    texture = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) * options.paper_texture
    grain = rng.standard_normal((h, w), dtype=np.float32) * options.paper_grain
    paper = colour[None, None, :] * (1.0 + texture + grain)[..., None]
    return np.clip(paper, 0.0, 1.0)


def _rule(paper: np.ndarray, rng: np.random.Generator, options: PageOptions) -> None:
    """Faint ruled lines across the page, in place."""
    h, w = paper.shape[:2]
    spacing = rng.uniform(*options.rule_spacing) * h
    darkness = rng.uniform(*options.rule_darkness)
    tint = np.array(RULE_TINTS["blue" if rng.random() < 0.7 else "grey"], np.float32)
    thickness = max(1, int(round(options.rule_thickness * h)))
    mask = np.zeros((h, w), np.float32)
    y = rng.uniform(0.3, 1.0) * spacing
    while y < h:
        cv2.line(mask, (0, int(round(y))), (w - 1, int(round(y + rng.normal(0, 1.0)))), 1.0, thickness, cv2.LINE_AA)
        y += spacing
    paper *= 1.0 - mask[..., None] * (darkness * tint)[None, None, :]


def _stamp_onto(paper: np.ndarray, stamp: _Stamp, x: int, y: int, ink: np.ndarray, opacity: float) -> None:
    """Lay ``stamp`` with its top-left at page (x, y): ink as alpha over the paper, in place."""
    h, w = stamp.alpha.shape
    ph, pw = paper.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(pw, x + w), min(ph, y + h)
    if x0 >= x1 or y0 >= y1:
        return
    a = stamp.alpha[y0 - y : y1 - y, x0 - x : x1 - x, None] * opacity
    region = paper[y0:y1, x0:x1]
    region *= 1.0 - a
    region += a * ink[None, None, :]


def _gap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Chebyshev gap between two (x, y, w, h) boxes: 0 if they touch or overlap."""
    dx = max(a[0] - (b[0] + b[2]), b[0] - (a[0] + a[2]), 0)
    dy = max(a[1] - (b[1] + b[3]), b[1] - (a[1] + a[3]), 0)
    return float(max(dx, dy))


def _layout(
    rng: np.random.Generator,
    options: PageOptions,
    numbers: list[_NumberPlan],
    marks: list[_MarkPlan],
    scale: float,
) -> tuple[list, list, bool]:
    """Flow the items into rows. Returns (placed numbers, placed marks, everything fitted).

    A placed number is ``(plan, stamps, page offsets, ink box)``; a placed mark ``(plan, x, y, ink box)``.
    The random draws here depend only on the item order and count, so a retry at a
    smaller scale stays deterministic.
    """
    margin = options.margin * options.height
    usable_w = options.width - 2 * margin
    usable_h = options.height - 2 * margin
    rendered = [(plan, *plan.render(scale)) for plan in numbers]
    order = [("number", i) for i in range(len(numbers))] + [("mark", i) for i in range(len(marks))]
    order = [order[i] for i in rng.permutation(len(order))]
    gap_draws = rng.uniform(0.0, 1.0, len(order))
    median_h = float(np.median([p.height for p in numbers])) * scale if numbers else options.height * 0.1

    def height_of(item) -> float:
        kind, i = item
        return rendered[i][0].height * scale if kind == "number" else median_h

    def width_of(item) -> int:
        kind, i = item
        return rendered[i][3][2] if kind == "number" else marks[i].stamp.ink[2]

    def gap_between(prev, item, draw: float) -> float:
        if prev[0] == "number" and item[0] == "number":
            low, high = options.number_gap
            return (low + draw * (high - low)) * max(height_of(prev), height_of(item))
        if prev[0] == "mark" and item[0] == "mark":
            return (0.5 + draw) * median_h
        number = prev if prev[0] == "number" else item
        return (options.mark_clearance + 0.15 + 0.5 * draw) * height_of(number)

    # Horizontal flow: rows of (item, x) with x relative to the row's start.
    rows: list[list[tuple[tuple[str, int], float]]] = [[]]
    cursor = 0.0
    for item, draw in zip(order, gap_draws):
        row = rows[-1]
        x = cursor + gap_between(row[-1][0], item, draw) if row else 0.0
        if row and x + width_of(item) > usable_w:
            rows.append([])
            row, x = rows[-1], 0.0
        if width_of(item) > usable_w:
            continue  # far too wide for any row: leave it out
        row.append((item, x))
        cursor = x + width_of(item)
    rows = [row for row in rows if row]

    # Vertical extent of each row, relative to its baseline.
    def row_extent(row) -> tuple[float, float, float]:
        top, bottom, tallest = 0.0, 0.0, 0.0
        for (kind, i), _ in row:
            if kind == "number":
                _, _, _, (bx, by, bw, bh) = rendered[i]
                top, bottom = min(top, by), max(bottom, by + bh)
                tallest = max(tallest, rendered[i][0].height * scale)
            else:
                ih = marks[i].stamp.ink[3]
                centre = -0.5 * median_h
                top, bottom = min(top, centre - ih / 2), max(bottom, centre + ih / 2)
        return top, bottom, tallest or median_h

    extents = [row_extent(row) for row in rows]
    row_gaps = [rng.uniform(*options.row_gap) * max(a[2], b[2]) for a, b in zip(extents, extents[1:])]
    heights = [bottom - top for top, bottom, _ in extents]
    while rows and sum(heights) + sum(row_gaps) > usable_h:
        rows.pop(), extents.pop(), heights.pop()
        if row_gaps:
            row_gaps.pop()
    spare_v = max(0.0, usable_h - sum(heights) - sum(row_gaps))
    # Spread the spare height: some above the first row, the rest between rows.
    shares = rng.dirichlet(np.ones(len(rows) + 1)) * spare_v

    placed_numbers, placed_marks = [], []
    y = margin + shares[0]
    for r, row in enumerate(rows):
        top, bottom, _ = extents[r]
        baseline = y - top
        width = row[-1][1] + width_of(row[-1][0])
        spare_h = max(0.0, usable_w - width)
        stretch = rng.dirichlet(np.ones(len(row) + 1)) * spare_h
        shift = margin + stretch[0]
        for k, ((kind, i), x) in enumerate(row):
            if k:
                shift += stretch[k]
            left = int(round(x + shift))
            if kind == "number":
                plan, stamps, offsets, (bx, by, bw, bh) = rendered[i]
                dx = left - bx
                page_offsets = [(dx + ox, int(round(baseline)) + oy) for ox, oy in offsets]
                box = (left, int(round(baseline)) + by, bw, bh)
                placed_numbers.append((plan, stamps, page_offsets, box))
            else:
                ix, iy, iw, ih = marks[i].stamp.ink
                top_ink = int(round(baseline - 0.5 * median_h - ih / 2))
                placed_marks.append((marks[i], left - ix, top_ink - iy, (left, top_ink, iw, ih)))
        y += heights[r] + (row_gaps[r] if r < len(row_gaps) else 0.0) + shares[r + 1]
    fitted = sum(len(row) for row in rows) == len(order)
    return placed_numbers, placed_marks, fitted


def _clear_of_numbers(box, placed_numbers, options: PageOptions, scale: float) -> bool:
    return all(_gap(box, nbox) >= options.mark_clearance * plan.height * scale for plan, _, _, nbox in placed_numbers)


def make_page(seed: int | np.random.Generator, options: PageOptions | None = None, digits: Digits | None = None) -> Page:
    """Draw one page of handwritten numbers and marks with its ground truth.

    ``seed``: an int (the page's own stream is derived from it, as ``SyntheticClip`` does)
    or a ``Generator`` to draw from directly. ``digits``: the ``(images, labels)`` to
    write with, uint8 ``(N, 28, 28)`` and ``(N,)``; the MNIST test set when None (pass
    training digits for augmentation). Returns a ``Page`` whose image is BGR uint8
    ``(options.height, options.width, 3)``.
    """
    options = options or PageOptions()
    digits = _check_digits(mnist_test_digits() if digits is None else digits)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng([int(seed), _PAGE_STREAM])
    paper = _paper(rng, options)
    if rng.random() < options.ruled:
        _rule(paper, rng, options)
    page_ink = _pick_ink(rng, options)
    numbers = _plan_numbers(rng, options, page_ink, digits)
    reference = float(np.median([p.height for p in numbers])) if numbers else 0.1 * options.height
    marks = _plan_marks(rng, options, page_ink, reference)

    # Shrink the writing until it all fits, at most a few times; then keep what fits.
    layout_seed = int(rng.integers(2**31))
    scale = 1.0
    for _ in range(5):
        placed_numbers, placed_marks, fitted = _layout(np.random.default_rng(layout_seed), options, numbers, marks, scale)
        if fitted:
            break
        scale *= 0.9

    margin = int(round(options.margin * options.height))
    usable = (margin, margin, options.width - 2 * margin, options.height - 2 * margin)
    kept_marks = []
    for plan, x, y, box in placed_marks:
        if _clear_of_numbers(box, placed_numbers, options, scale) and all(_gap(box, b) > 0 for *_, b in kept_marks):
            kept_marks.append((plan, x, y, box))
    # Marks the rows could not hold clear of numbers: try free spots anywhere on the page.
    wanted = len(marks)
    placed_plans = {id(p) for p, *_ in kept_marks}
    for plan in marks:
        if len(kept_marks) >= wanted or id(plan) in placed_plans:
            continue
        ix, iy, iw, ih = plan.stamp.ink
        for _ in range(300):
            left = int(rng.integers(usable[0], max(usable[0] + 1, usable[0] + usable[2] - iw)))
            top = int(rng.integers(usable[1], max(usable[1] + 1, usable[1] + usable[3] - ih)))
            box = (left, top, iw, ih)
            if _clear_of_numbers(box, placed_numbers, options, scale) and all(_gap(box, b) > 0.3 * reference for *_, b in kept_marks):
                kept_marks.append((plan, left - ix, top - iy, box))
                break

    digits: list[TrueDigit] = []
    true_numbers: list[TrueNumber] = []
    for plan, stamps, offsets, _ in placed_numbers:
        indices = []
        for label, stamp, (x, y) in zip(plan.labels, stamps, offsets):
            _stamp_onto(paper, stamp, x, y, plan.ink, plan.opacity)
            ix, iy, iw, ih = stamp.ink
            indices.append(len(digits))
            digits.append(TrueDigit(Box(x + ix, y + iy, iw, ih), label, len(true_numbers)))
        box = digits[indices[0]].box
        for i in indices[1:]:
            box = box.union(digits[i].box)
        true_numbers.append(TrueNumber("".join(str(digits[i].digit) for i in indices), box, tuple(indices)))
    true_marks = []
    for plan, x, y, (bx, by, bw, bh) in kept_marks:
        _stamp_onto(paper, plan.stamp, x, y, plan.ink, plan.opacity)
        true_marks.append(TrueMark(Box(bx, by, bw, bh), plan.kind))

    image = np.clip(paper * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Page(image, tuple(digits), tuple(true_numbers), tuple(true_marks))


# --------------------------------------------------------------------------- camera


def _rotation(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """3x3 rotation: yaw about y, then pitch about x, then roll about the camera axis (radians)."""
    cr, sr = math.cos(roll), math.sin(roll)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    return rz @ rx @ ry


@dataclass(frozen=True)
class CameraPath:
    """A clip's camera: a base pose plus a smooth hand-held wander, as a function of time.

    ``homography(t)`` maps page pixels to frame pixels (3x3 float64). Each wander is
    a sum of sinusoids ``(amplitude, hz, phase)``; shifts are in frame pixels.
    """

    page_size: tuple[int, int]
    frame_size: tuple[int, int]
    scale: float  # frame px per page px at the page centre
    roll: float  # radians
    pitch: float
    yaw: float
    shift: tuple[float, float]  # page centre offset from the frame centre, frame px
    distance: float  # camera distance, page px
    shake_x: tuple[tuple[float, float, float], ...]
    shake_y: tuple[tuple[float, float, float], ...]
    shake_roll: tuple[tuple[float, float, float], ...]
    shake_zoom: tuple[tuple[float, float, float], ...]

    @staticmethod
    def _wave(parts, t: float) -> float:
        return float(sum(a * math.sin(2 * math.pi * hz * t + phase) for a, hz, phase in parts))

    def offset(self, t: float) -> tuple[float, float]:
        """The hand's wander at time ``t``, frame px."""
        return self._wave(self.shake_x, t), self._wave(self.shake_y, t)

    def homography(self, t: float) -> np.ndarray:
        pw, ph = self.page_size
        fw, fh = self.frame_size
        scale = self.scale * (1.0 + self._wave(self.shake_zoom, t))
        dx, dy = self.offset(t)
        rotation = _rotation(self.roll + self._wave(self.shake_roll, t), self.pitch, self.yaw)
        focal = scale * self.distance
        camera = np.array([[focal, 0, fw / 2], [0, focal, fh / 2], [0, 0, 1]])
        # A shift of s frame px at the page's depth is s / scale page px sideways.
        pose = np.column_stack([rotation[:, 0], rotation[:, 1], [(self.shift[0] + dx) / scale, (self.shift[1] + dy) / scale, self.distance]])
        centre = np.array([[1, 0, -pw / 2], [0, 1, -ph / 2], [0, 0, 1]])
        h = camera @ pose @ centre
        return h / h[2, 2]


def make_camera_path(rng: np.random.Generator, page_size: tuple[int, int], frame_size: tuple[int, int], options: CameraOptions) -> CameraPath:
    """Draw a clip's camera pose and wander. Sizes are ``(width, height)`` in px."""
    pw, ph = page_size
    fw, fh = frame_size
    unit = fh / 480.0
    scale = rng.uniform(*options.fill) * min(fw / pw, fh / ph)
    tilt = math.radians(rng.uniform(*options.tilt_degrees))
    direction = rng.uniform(0, 2 * math.pi)

    def wave(total: float, parts: int = 3) -> tuple[tuple[float, float, float], ...]:
        amplitudes = rng.dirichlet(np.ones(parts)) * total
        return tuple((float(a), float(rng.uniform(*options.shake_hz)), float(rng.uniform(0, 2 * math.pi))) for a in amplitudes)

    return CameraPath(
        page_size=(pw, ph),
        frame_size=(fw, fh),
        scale=float(scale),
        roll=math.radians(rng.uniform(-1, 1) * options.roll_degrees),
        pitch=tilt * math.cos(direction),
        yaw=tilt * math.sin(direction),
        shift=(float(rng.uniform(-1, 1) * options.offset * fw), float(rng.uniform(-1, 1) * options.offset * fh)),
        distance=options.distance * pw,
        shake_x=wave(rng.uniform(*options.shake_pixels) * unit),
        shake_y=wave(rng.uniform(*options.shake_pixels) * unit),
        shake_roll=wave(math.radians(options.shake_roll_degrees), 2),
        shake_zoom=wave(options.shake_scale, 2),
    )


def project_box(box: Box, homography: np.ndarray, frame_size: tuple[int, int], min_visible: float = MIN_VISIBLE_FRACTION) -> Box | None:
    """Map a page box through ``homography`` to an axis-aligned frame box, clipped to the frame.

    Pixel ``c`` covers ``[c - 0.5, c + 0.5)``, so the box's outer edges are mapped.
    Returns None when less than ``min_visible`` of the mapped box lies in the frame.
    """
    x0, y0, x1, y1 = box.x - 0.5, box.y - 0.5, box.x2 - 0.5, box.y2 - 0.5
    corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
    mapped = cv2.perspectiveTransform(corners, homography)[0]
    left = math.floor(mapped[:, 0].min() + 0.5)
    top = math.floor(mapped[:, 1].min() + 0.5)
    right = math.ceil(mapped[:, 0].max() + 0.5)
    bottom = math.ceil(mapped[:, 1].max() + 0.5)
    area = (right - left) * (bottom - top)
    fw, fh = frame_size
    cl, ct, cr, cb = max(0, left), max(0, top), min(fw, right), min(fh, bottom)
    if cr <= cl or cb <= ct or area <= 0 or (cr - cl) * (cb - ct) < min_visible * area:
        return None
    return Box(cl, ct, cr - cl, cb - ct)


def frame_truth(page: Page, homography: np.ndarray, frame_size: tuple[int, int], index: int) -> dict:
    """One frame's truth dict: the page's boxes mapped into the frame.

    A number is kept only when all of its digits are; its box is the union of
    their frame boxes.
    """
    digit_boxes = [project_box(d.box, homography, frame_size) for d in page.digits]
    digits = [{"box": b.as_list(), "digit": d.digit} for d, b in zip(page.digits, digit_boxes) if b is not None]
    numbers = []
    for number in page.numbers:
        boxes = [digit_boxes[i] for i in number.digits]
        if any(b is None for b in boxes):
            continue
        box = boxes[0]
        for b in boxes[1:]:
            box = box.union(b)
        numbers.append({"text": number.text, "box": box.as_list()})
    marks = []
    for mark in page.marks:
        box = project_box(mark.box, homography, frame_size)
        if box is not None:
            marks.append({"box": box.as_list(), "kind": mark.kind})
    return {"frame": int(index), "digits": digits, "numbers": numbers, "marks": marks}


def _table(rng: np.random.Generator, size: tuple[int, int], options: CameraOptions) -> np.ndarray:
    """A darker table top, float32 (h, w, 3) BGR in [0, 1]: wood or plain, with slow texture."""
    w, h = size
    brightness = rng.uniform(*options.table_brightness)
    if rng.random() < 0.5:  # wood: warm, with grain along one axis
        colour = np.array([0.45, 0.65, 0.85], np.float32) * brightness * 1.3
        along = np.linspace(0, 1, w, dtype=np.float32)[None, :]
        wobble = cv2.resize(rng.standard_normal((h // 128 + 2, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        grain = 0.08 * np.sin(2 * np.pi * (along * rng.uniform(20, 40) + 0.6 * wobble))
        if rng.random() < 0.5:
            grain = np.ascontiguousarray(cv2.resize(grain.T, (w, h)))
    else:  # plain desk, grey or dark green
        colour = np.array([0.9, 0.9, 0.92] if rng.random() < 0.6 else [0.6, 0.75, 0.6], np.float32) * brightness
        grain = np.zeros((h, w), np.float32)
    coarse = rng.standard_normal((h // 24 + 2, w // 24 + 2)).astype(np.float32)
    texture = 0.08 * cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(colour[None, None, :] * (1.0 + grain + texture)[..., None], 0, 1)


class SyntheticClip:
    """A page filmed by a hand-held camera: ``frame(i)`` renders frame ``i`` with its truth.

    Holds the page, the table around it (the "world", pre-shrunk near the frame
    scale so one warp per frame needs no further anti-aliasing), the camera path and
    the per-clip lighting. Frames can be asked for in any order and any number.

    Example::

        clip = SyntheticClip(seed=1, size=(320, 240))
        image, truth = clip.frame(0)   # (240, 320, 3) uint8, {"frame": 0, "digits": [...], ...}
    """

    def __init__(
        self,
        seed: int,
        size: tuple[int, int] = (640, 480),
        fps: float = 30.0,
        page: PageOptions | None = None,
        camera: CameraOptions | None = None,
        digits: Digits | None = None,
    ) -> None:
        width, height = (int(v) for v in size)
        if width < 32 or height < 32:
            raise ValueError(f"frame size must be at least 32x32, got {size}")
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.seed = int(seed)
        self.size = (width, height)
        self.fps = float(fps)
        self.page_options = page or PageOptions()
        self.camera_options = camera or CameraOptions()
        self.page = make_page(self.seed, self.page_options, digits)
        rng = np.random.default_rng([self.seed, _CAMERA_STREAM])
        self.path = make_camera_path(rng, self.page.size, self.size, self.camera_options)
        self._build_world(rng)
        self._build_lighting(rng)

    # -- per clip

    def _build_world(self, rng: np.random.Generator) -> None:
        options = self.camera_options
        pw, ph = self.page.size
        margin = int(round(options.table_margin * ph))
        world_w, world_h = pw + 2 * margin, ph + 2 * margin
        # Build the table small (it is smooth) and shade it with the page's soft drop shadow.
        coarse = 4
        small = (world_w // coarse, world_h // coarse)
        table = _table(rng, small, options)
        shadow = np.zeros((small[1], small[0]), np.float32)
        offset = max(1, int(round(0.006 * ph / coarse)))
        cv2.rectangle(shadow, ((margin // coarse) + offset, (margin // coarse) + offset), ((margin + pw) // coarse + offset, (margin + ph) // coarse + offset), 1.0, -1)
        shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, 0.01 * ph / coarse))
        table *= (1.0 - 0.5 * shadow)[..., None]
        world = cv2.resize((table * 255.0).astype(np.uint8), (world_w, world_h), interpolation=cv2.INTER_LINEAR)
        world[margin : margin + ph, margin : margin + pw] = self.page.image
        # Shrink the world to about the frame's scale; the warp then only resamples near 1:1.
        k = min(1.0, 1.15 * self.path.scale)
        shrunk = (max(1, round(world_w * k)), max(1, round(world_h * k)))
        self._world = cv2.resize(world, shrunk, interpolation=cv2.INTER_AREA)
        kx, ky = shrunk[0] / world_w, shrunk[1] / world_h
        # Shrunk-world pixel -> page pixel (pixel centres: q = k (p + 0.5) - 0.5).
        self._world_to_page = np.array(
            [[1 / kx, 0, 0.5 / kx - 0.5 - margin], [0, 1 / ky, 0.5 / ky - 0.5 - margin], [0, 0, 1]], np.float64
        )

    def _build_lighting(self, rng: np.random.Generator) -> None:
        options = self.camera_options
        w, h = self.size
        xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        angle = rng.uniform(0, 2 * np.pi)
        gradient = rng.uniform(*options.light_gradient)
        ramp = 0.5 + 0.5 * (np.cos(angle) * xs + np.sin(angle) * ys) / math.sqrt(2)
        light = (1.0 - gradient * ramp) * (1.0 - options.vignette * (xs**2 + ys**2) / 2) * rng.uniform(*options.exposure)
        self._light = light.astype(np.float32)
        # A hand or phone: a long soft ellipse reaching in from one edge.
        self._shadow = None
        self._shadow_strength = 0.0
        if rng.random() < options.shadow:
            mask = np.zeros((h, w), np.float32)
            edge_angle = rng.uniform(0, 2 * np.pi)
            cx = w / 2 + np.cos(edge_angle) * w * 0.6
            cy = h / 2 + np.sin(edge_angle) * h * 0.6
            axes = (int(w * rng.uniform(0.35, 0.55)), int(w * rng.uniform(0.1, 0.2)))
            cv2.ellipse(mask, (int(cx), int(cy)), axes, math.degrees(edge_angle) + rng.normal(0, 20), 0, 360, 1.0, -1)
            self._shadow = cv2.GaussianBlur(mask, (0, 0), options.shadow_softness * w)
            self._shadow_strength = float(rng.uniform(*options.shadow_strength))
        self._defocus = float(rng.uniform(*options.defocus_sigma)) * h / 480.0
        self._shutter = float(rng.uniform(*options.shutter))
        self._noise = float(rng.uniform(*options.noise_sigma))

    # -- per frame

    def homography(self, index: int) -> np.ndarray:
        """Page px -> frame px for frame ``index`` (3x3 float64)."""
        return self.path.homography(index / self.fps)

    def truth(self, index: int) -> dict:
        """Frame ``index``'s truth dict without rendering the image."""
        return frame_truth(self.page, self.homography(index), self.size, index)

    def frame(self, index: int) -> tuple[np.ndarray, dict]:
        """Render frame ``index``: a BGR uint8 ``(h, w, 3)`` image and its truth dict."""
        if index < 0:
            raise ValueError(f"frame index must be >= 0, got {index}")
        w, h = self.size
        page_to_frame = self.homography(index)
        image = cv2.warpPerspective(
            self._world, page_to_frame @ self._world_to_page, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ).astype(np.float32)
        rng = np.random.default_rng([self.seed, _FRAME_STREAM, int(index)])
        light = self._light
        if self._shadow is not None:
            # The shadow follows the hand, a little more than the page appears to move.
            dx, dy = self.path.offset(index / self.fps)
            moved = cv2.warpAffine(self._shadow, np.float32([[1, 0, 1.5 * dx], [0, 1, 1.5 * dy]]), (w, h), borderMode=cv2.BORDER_REPLICATE)
            light = light * (1.0 - self._shadow_strength * moved)
        image *= light[..., None]
        image = self._blur(image, index, rng)
        image += rng.standard_normal(image.shape, dtype=np.float32) * self._noise
        image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
        return image, frame_truth(self.page, page_to_frame, self.size, index)

    def _blur(self, image: np.ndarray, index: int, rng: np.random.Generator) -> np.ndarray:
        sigma = self._defocus * rng.uniform(0.85, 1.15)
        if sigma > 0.05:
            image = cv2.GaussianBlur(image, (0, 0), sigma)
        # Motion blur: how far the page centre moves while the shutter is open.
        pw, ph = self.page.size
        centre = np.array([[[pw / 2, ph / 2]]], np.float64)
        now = cv2.perspectiveTransform(centre, self.homography(index))[0, 0]
        before = cv2.perspectiveTransform(centre, self.path.homography((index - 1) / self.fps))[0, 0]
        streak = (now - before) * self._shutter
        length = float(np.hypot(*streak))
        if length < 0.7:
            return image
        size = int(math.ceil(length)) | 1
        size += 2
        kernel = np.zeros((size, size), np.float32)
        c = size / 2 - 0.5
        precision = 4  # cv2.line's fractional bits
        p = tuple(int(round((c - streak[i] / 2) * (1 << precision))) for i in (0, 1))
        q = tuple(int(round((c + streak[i] / 2) * (1 << precision))) for i in (0, 1))
        cv2.line(kernel, p, q, 1.0, 1, cv2.LINE_AA, precision)
        if kernel.sum() <= 0:
            return image
        return cv2.filter2D(image, -1, kernel / kernel.sum())

    def frames(self, count: int, start: int = 0) -> Iterator[tuple[np.ndarray, dict]]:
        """Frames ``start .. start + count - 1`` as ``(image, truth)`` pairs."""
        for index in range(start, start + count):
            yield self.frame(index)

    def truth_document(self, frames: list[dict], source: str) -> dict:
        """The JSON layout around a list of frame truth dicts."""
        fps = int(self.fps) if float(self.fps).is_integer() else self.fps
        return {"source": source, "fps": fps, "size": list(self.size), "frames": frames}


# --------------------------------------------------------------------------- entry points


def _clip(seed: int, size, fps, camera: CameraOptions | None, page_options: dict) -> SyntheticClip:
    """A clip from the entry points' keywords: ``PageOptions`` fields, or ``page=``; and ``digits=``."""
    page_options = dict(page_options)
    digits = page_options.pop("digits", None)
    page = page_options.pop("page", None)
    if page is not None and page_options:
        raise ValueError("pass either page=PageOptions(...) or page option keywords, not both")
    page = page or _options(PageOptions, page_options, "page")
    return SyntheticClip(seed, size=size, fps=fps, page=page, camera=camera, digits=digits)


def iter_frames(
    *, seed: int, frames: int = 150, fps: float = 30, size: tuple[int, int] = (640, 480), camera: CameraOptions | None = None, **page_options
) -> Iterator[tuple[np.ndarray, dict]]:
    """Yield ``(image, frame_truth)`` for frames ``0 .. frames - 1`` of a clip, without files.

    ``image`` is BGR uint8 ``(size[1], size[0], 3)``; ``frame_truth`` one frame
    dict of the JSON layout. ``page_options`` are ``PageOptions`` fields (or
    ``page=PageOptions(...)``), plus ``digits=(images, labels)`` to write with
    something other than the MNIST test set.
    """
    clip = _clip(seed, size, fps, camera, page_options)
    yield from clip.frames(frames)


def render_frame(
    *, seed: int, index: int = 0, fps: float = 30, size: tuple[int, int] = (640, 480), camera: CameraOptions | None = None, **page_options
) -> tuple[np.ndarray, dict]:
    """Render frame ``index`` of a clip in memory: ``(image, truth)``.

    ``image`` is BGR uint8 ``(size[1], size[0], 3)``, identical to frame ``index``
    of ``render_video`` with the same seed, size and options; ``truth`` is the full
    JSON layout holding that one frame.
    """
    clip = _clip(seed, size, fps, camera, page_options)
    image, truth = clip.frame(index)
    return image, clip.truth_document([truth], f"synth:seed={seed}")


def _check_size(path: Path, what: str) -> None:
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError(f"{path}: the {what} was not written (is the folder writable, the codec available?)")


def render_video(
    path: str | Path,
    truth_path: str | Path,
    *,
    seed: int,
    frames: int = 150,
    fps: float = 30,
    size: tuple[int, int] = (640, 480),
    camera: CameraOptions | None = None,
    **page_options,
) -> dict:
    """Write a clip as an ``.mp4`` (mp4v) and its ground truth as JSON; return the truth dict."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    path, truth_path = Path(path), Path(truth_path)
    clip = _clip(seed, size, fps, camera, page_options)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), clip.size)
    if not writer.isOpened():
        raise OSError(f"{path}: cannot open a video writer for mp4v; is the folder writable?")
    truths = []
    try:
        for image, truth in clip.frames(frames):
            writer.write(image)
            truths.append(truth)
    finally:
        writer.release()
    _check_size(path, "video")
    document = clip.truth_document(truths, path.name)
    truth_path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    return document


def render_still(
    path: str | Path,
    truth_path: str | Path,
    *,
    seed: int,
    size: tuple[int, int] = (1280, 960),
    jpeg_quality: int = 92,
    camera: CameraOptions | None = None,
    **page_options,
) -> dict:
    """Write one photo of a page (PNG, or JPEG by the extension) and its truth JSON; return the truth."""
    path, truth_path = Path(path), Path(truth_path)
    clip = _clip(seed, size, 30, camera, page_options)
    image, truth = clip.frame(0)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if path.suffix.lower() in (".jpg", ".jpeg") else [cv2.IMWRITE_PNG_COMPRESSION, 9]
    if not cv2.imwrite(str(path), image, params):
        raise OSError(f"{path}: cannot write the image (unknown extension or folder not writable)")
    _check_size(path, "image")
    document = clip.truth_document([truth], path.name)
    truth_path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    return document


def draw_truth(image: np.ndarray, truth: dict) -> np.ndarray:
    """A copy of ``image`` (BGR uint8) with one frame's truth drawn: digits green, numbers orange, marks red."""
    out = image.copy()
    for number in truth.get("numbers", []):
        x, y, w, h = number["box"]
        cv2.rectangle(out, (x - 3, y - 3), (x + w + 2, y + h + 2), (0, 140, 255), 1)
        cv2.putText(out, number["text"], (x, max(10, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 140, 255), 1, cv2.LINE_AA)
    for digit in truth.get("digits", []):
        x, y, w, h = digit["box"]
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (0, 200, 0), 1)
        cv2.putText(out, str(digit["digit"]), (x, y + h + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 160, 0), 1, cv2.LINE_AA)
    for mark in truth.get("marks", []):
        x, y, w, h = mark["box"]
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (0, 0, 230), 1)
        cv2.putText(out, mark["kind"], (x, y + h + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 200), 1, cv2.LINE_AA)
    return out


_SAMPLES_README = """# Sample media

Synthetic, generated by `livedigits/synth.py`; every file is reproducible from the seed.

| file | what |
| --- | --- |
| `demo.mp4` | {frames} frames, {width}x{height}, {fps} fps (mp4v): a hand-held camera over a handwritten page |
| `demo.json` | ground truth per frame of `demo.mp4` |
| `page.png` | one {still_w}x{still_h} photo of another page |
| `page.json` | its ground truth (one frame) |
| `demo_truth.png` | frame 0 of `demo.mp4` with its ground truth drawn (digits green, numbers orange, marks red) |

`demo.mp4` shows {video_digits} digits in {video_numbers} numbers ({video_texts}) and {video_marks} non-digit marks;
`page.png` shows {still_digits} digits in {still_numbers} numbers and {still_marks} marks.

## How they are made

* **Page.** Off-white paper with a slight tint, slow texture and grain, sometimes faint
  ruled lines. Numbers of 1 to 4 digits are written in rows; each digit is an MNIST
  **test** image (`load_mnist()`'s `x_test`), picked at random from the seed with no
  selection by any classifier, upscaled with cubic interpolation and laid on the paper
  as ink alpha (black or blue ink, per page or per number; stroke weight varied a
  little). Digits of a number never touch: their ink is at least 18% of the digit
  height apart. Letters, signs (+ = x - ...), line pieces, smudges, hatching and dots
  from `livedigits/marks.py` sit in free spots at least one digit height from any number.
* **Camera.** The page lies on a darker table. Each frame is a perspective view of
  it (tilt, a few degrees of rotation, the page filling most of the frame) with a
  smooth hand-held wander of a few pixels, a lighting gradient and vignette, a soft
  hand/phone shadow, defocus and motion blur, and sensor noise.
* **Truth.** Every box is the tight ink box on the page, its four corners mapped
  through that frame's homography, as an axis-aligned `[x, y, w, h]` in frame pixels.
  A digit not wholly inside the frame is left out, and so is its number.
  Layout: `{{"source", "fps", "size", "frames": [{{"frame", "digits": [{{"box", "digit"}}],
  "numbers": [{{"text", "box"}}], "marks": [{{"box", "kind"}}]}}]}}`.

## Regenerate

```
python -m livedigits.synth samples --seed {seed}
```

Score a run against the truth with `livedigits.score.score(load_jsonl("run.jsonl"), truth)`.
"""


# --------------------------------------------------------------------------- a user's own writing

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
    images, labels = _check_digits(mnist_test_digits() if digits is None else digits)
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


def generate_samples(out_dir: str | Path = "samples", seed: int = SAMPLE_SEED, frames: int = SAMPLE_VIDEO_FRAMES) -> dict[str, int]:
    """Write the bundled samples into ``out_dir`` and return ``{file name: size in bytes}``.

    Raises ``ValueError`` if a file ends up over 5 MB.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    video = render_video(out / "demo.mp4", out / "demo.json", seed=seed, frames=frames, fps=30, size=(640, 480))
    still = render_still(out / "page.png", out / "page.json", seed=seed + 1, size=SAMPLE_STILL_SIZE)
    first = video["frames"][0]
    capture = cv2.VideoCapture(str(out / "demo.mp4"))
    try:
        ok, image = capture.read()
    finally:
        capture.release()
    if not ok:
        raise OSError(f"{out / 'demo.mp4'}: written but cannot be read back")
    cv2.imwrite(str(out / "demo_truth.png"), draw_truth(image, first), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    (out / "README.md").write_text(
        _SAMPLES_README.format(
            frames=frames,
            width=640,
            height=480,
            fps=30,
            still_w=SAMPLE_STILL_SIZE[0],
            still_h=SAMPLE_STILL_SIZE[1],
            video_digits=len(first["digits"]),
            video_numbers=len(first["numbers"]),
            video_texts=", ".join(n["text"] for n in first["numbers"]),
            video_marks=len(first["marks"]),
            still_digits=len(still["frames"][0]["digits"]),
            still_numbers=len(still["frames"][0]["numbers"]),
            still_marks=len(still["frames"][0]["marks"]),
            seed=seed,
        )
    )
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}
    too_big = {name: size for name, size in sizes.items() if size > MAX_SAMPLE_BYTES}
    if too_big:
        raise ValueError(f"sample files over {MAX_SAMPLE_BYTES} bytes: {too_big}; lower the frame count or the still size")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """``python -m livedigits.synth [OUT_DIR] [--seed N] [--frames N]``: regenerate the samples."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m livedigits.synth", description="Regenerate the synthetic sample media.")
    parser.add_argument("out_dir", nargs="?", default="samples")
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    parser.add_argument("--frames", type=int, default=SAMPLE_VIDEO_FRAMES)
    args = parser.parse_args(argv)
    sizes = generate_samples(args.out_dir, seed=args.seed, frames=args.frames)
    for name, size in sizes.items():
        print(f"{Path(args.out_dir) / name}: {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The written page: handwritten numbers and marks on paper, with the tight ink box of each.

``make_page`` draws white-ish paper, numbers written with MNIST **test** digits (random picks, no
selection by any classifier), non-digit marks from ``marks.draw_mark`` and optional faint ruled
lines; it returns a ``Page``: the image and the truth (``TrueDigit``, ``TrueNumber``, ``TrueMark``) in
page pixels. ``PageOptions`` says what is written and how.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from livedigits.train import marks as marks_module
from livedigits.types import Box

# A pixel whose ink alpha (0 = bare paper, 1 = full ink) reaches this level counts
# as ink for the truth boxes and for the spacing between digits.
INK_ALPHA_LEVEL = 0.1

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
    from livedigits.train.data import load_mnist

    _, (x_test, y_test) = load_mnist()
    return x_test, y_test


def check_digits(digits: Digits) -> Digits:
    """``digits`` as a checked ``(images, labels)`` pair of arrays; ValueError saying what is wrong."""
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
    digits = check_digits(mnist_test_digits() if digits is None else digits)
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

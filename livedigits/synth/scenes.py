"""Photos of real paper with known truth: the test scenes for "real paper, real writing".

``synth`` draws pages that the reader gets nearly all right. Real photos differ: digits from
12 px to the whole frame, pens from a hairline to a thick marker, squared and ruled paper whose
lines run through the writing, print showing through from the back, hard shadows, dim light,
glare, phone JPEGs and noisy webcams, letters and signs written right next to the digits.
This module draws such photos, each with its truth, so a test can say what a user would check:
"these are the numbers on the page".

Ink is drawn as a pen, not as an upscaled MNIST bitmap: each MNIST **test** digit is thinned to
its centre line (once, at 4x its 28 px size) and that line is drawn again with a round pen of the
asked width, at the asked height, supersampled so a 1 px hairline keeps its soft edge. So a 300 px
digit drawn with a 2 px pen is a 300 px digit with 2 px strokes, which is what a fine-liner makes
and what an upscaled MNIST bitmap never is.

Writing is given as lines of text: ``"12+7 8-3"`` is the digits 1, 2, a plus sign, 7, a space,
8, a minus sign and 3. Digits are MNIST test digits of that label; any other character is a
mark (a hand-drawn sign, or a letter in a Hershey font with a slant). A run of digits with no
space or mark between them is one number; the truth lists those numbers in reading order (line
by line, left to right) and says every mark is not a digit.

Truth layout (one frame of ``synth``'s JSON, with the extra keys ``size``, ``line`` and ``text``)::

    {"frame": 0, "size": [w, h],
     "numbers": [{"text": "12", "box": [x, y, w, h], "line": 0}],
     "digits": [{"box": [x, y, w, h], "digit": 1, "number": 0}],
     "marks": [{"box": [x, y, w, h], "kind": "sign", "text": "+"}]}

Writing can also come from pen trajectories (``StrokeDigits``; ``load_pendigits`` reads the UCI
pendigits trajectories from a ``pendigits_strokes.npz`` path, the test-file writers by default),
drawn the same way at any pen width.

API: ``render(SceneOptions(...), seed, digits)`` draws any scene; ``SCENES`` names one scene per
failure kind and ``render_scene(name, seed, **overrides)`` draws it; ``write_scene`` saves one with its
truth JSON (``livedigits samples --scene NAME --out FILE.png``); ``draw_digit``, ``draw_strokes``,
``draw_mark`` and ``stroke_width`` are the pen and its measure.

Example::

    from livedigits.synth.scenes import render_scene, SCENES
    image, truth = render_scene("operators", seed=0)
    [n["text"] for n in truth["numbers"]]      # ['12', '7', '8', '3', '4', '2']
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from livedigits.synth.page import Digits, check_digits, mnist_test_digits
from livedigits.synth.render import draw_truth

# Inks as BGR reflectance in [0, 1], and how they lie on paper.
#   opacity: share of the paper's light the ink takes at its full width;
#   texture: how much the deposit varies along the stroke (pencil on paper's tooth, a drying ballpoint);
#   bleed: blur of the ink's edge in pen widths (a felt tip soaks into the paper).
INKS = {
    "ballpoint_blue": dict(colour=(0.62, 0.30, 0.14), opacity=0.9, texture=0.25, bleed=0.0),
    "ballpoint_black": dict(colour=(0.16, 0.15, 0.15), opacity=0.88, texture=0.25, bleed=0.0),
    "pencil": dict(colour=(0.40, 0.40, 0.42), opacity=0.75, texture=0.6, bleed=0.0),
    "fineliner": dict(colour=(0.08, 0.08, 0.09), opacity=0.97, texture=0.05, bleed=0.0),
    "marker": dict(colour=(0.07, 0.07, 0.08), opacity=0.98, texture=0.05, bleed=0.08),
    "purple": dict(colour=(0.50, 0.14, 0.40), opacity=0.92, texture=0.15, bleed=0.0),
    "red": dict(colour=(0.14, 0.12, 0.72), opacity=0.92, texture=0.15, bleed=0.0),
    "green": dict(colour=(0.28, 0.50, 0.12), opacity=0.92, texture=0.15, bleed=0.0),
}
PAPERS = ("plain", "ruled", "grid", "table")
# Share of the paper's brightness a printed line takes away, per BGR channel (blue lines keep blue).
LINE_TINTS = {"blue": (0.25, 0.75, 1.0), "grey": (1.0, 1.0, 1.0), "black": (1.0, 1.0, 1.0)}
SIGNS = "+-x/=()"
LETTERS = "ATKSOlZ"
_THIN_SIZE = 112  # MNIST digits are thinned at 4x their 28 px
_INK_LEVEL = 0.1  # alpha at or above which a pixel counts as ink for the truth boxes


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class SceneOptions:
    """What is written, on what, and how the camera sees it.

    Lengths called "in h" are multiples of the digit height; ranges ``(low, high)`` are drawn
    uniformly per digit or gap. Pixel lengths are in frame pixels.
    """

    size: tuple[int, int] = (1280, 960)  # frame (width, height)
    lines: tuple[str, ...] = ("407 92",)  # what is written, one string per line (see the module doc)
    digit_height: float = 60.0  # ink height of a digit, px
    height_jitter: float = 0.06  # relative change of height from digit to digit
    pen_width: float = 4.0  # stroke width, px
    pen_jitter: float = 0.1  # relative change of the pen width from glyph to glyph
    digit_gap: tuple[float, float] = (0.15, 0.3)  # ink gap between digits of a number, in h (< 0: touching)
    space_gap: tuple[float, float] = (1.0, 1.5)  # ink gap at a space, in h
    sign_gap: tuple[float, float] = (0.2, 0.35)  # ink gap next to a mark with no space, in h
    column_pitch: float | None = None  # if set, each space-separated word starts on a column this many h apart
    line_pitch: float = 2.0  # baseline to baseline, in h
    origin: tuple[float, float] | None = None  # top-left of the writing as a share of the frame; None: centred
    slope_degrees: float = 0.0  # baselines rise (> 0) or fall to the right by this angle
    baseline_jitter: float = 0.04  # vertical wander of each glyph, in h
    slant_degrees: tuple[float, float] = (-6.0, 6.0)  # shear of each glyph (handwriting leans)
    ink: str = "ballpoint_blue"
    paper: str = "plain"  # one of PAPERS
    paper_tint: tuple[float, float, float] = (0.93, 0.95, 0.96)  # BGR of the bare paper
    line_tint: str = "blue"  # colour of ruled or grid lines: blue, grey, black
    line_spacing: float | None = None  # ruled/grid/table line spacing, px; None: from the layout
    line_darkness: float = 0.18  # share of the paper's light a printed line takes (a printed table: 0.5-0.7)
    line_width: float = 1.2  # px
    show_through: float = 0.0  # darkness of mirrored print from the back of the sheet (0: none; 0.1 is plain to see)
    shadow: float = 0.0  # darkness of a hard shadow across part of the frame (0: none)
    glare: float = 0.0  # strength of a glare spot (0: none, 1: washed out at its centre)
    exposure: float = 1.0  # < 1: dim, underexposed
    light_gradient: float = 0.1  # brightness lost across the frame from the lit side
    vignette: float = 0.15
    cast: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per BGR channel gain (a warm lamp: (0.8, 0.93, 1.05))
    perspective: float = 0.0  # largest corner shift of the page, as a share of the frame size
    desk: float = 0.0  # share of the frame left for a desk around the sheet (0: the sheet fills the frame)
    blur: float = 0.6  # defocus sigma, px
    noise: float = 2.0  # sensor noise at mid grey, grey levels (scales with sqrt of brightness)
    jpeg: int | None = None  # JPEG quality of the saved photo; None: no JPEG round trip

    def __post_init__(self) -> None:
        if self.size[0] < 32 or self.size[1] < 32:
            raise ValueError(f"size must be at least 32x32, got {self.size}")
        if self.ink not in INKS:
            raise ValueError(f"unknown ink {self.ink!r}; choose one of {sorted(INKS)}")
        if self.paper not in PAPERS:
            raise ValueError(f"unknown paper {self.paper!r}; choose one of {PAPERS}")
        if self.line_tint not in LINE_TINTS:
            raise ValueError(f"unknown line_tint {self.line_tint!r}; choose one of {sorted(LINE_TINTS)}")
        if self.digit_height < 4 or self.pen_width <= 0:
            raise ValueError(f"digit_height must be >= 4 px and pen_width > 0, got {self.digit_height}, {self.pen_width}")
        for line in self.lines:
            bad = sorted(set(line) - set("0123456789 " + SIGNS + LETTERS))
            if bad:
                raise ValueError(f"line {line!r} has characters the scenes cannot write: {bad}")


# --------------------------------------------------------------------------- pen strokes


def thin(mask: np.ndarray) -> np.ndarray:
    """The centre line of a binary mask, one pixel wide (Zhang-Suen thinning); uint8 0/1."""
    image = (np.asarray(mask) > 0).astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            p = np.pad(image, 1)
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:], p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]
            count = sum(v.astype(np.int32) for v in n)
            turns = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.int32) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                side = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                side = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            remove = (image == 1) & (count >= 2) & (count <= 6) & (turns == 1) & side
            if remove.any():
                image[remove] = 0
                changed = True
        if not changed:
            return image


def stroke_width(alpha: np.ndarray, level: float = 0.5) -> float:
    """Mean stroke width of drawn ink in px: its area (alpha >= level) over the length of its centre line."""
    mask = np.asarray(alpha) >= level
    length = int(thin(mask).sum())
    return float(mask.sum()) / max(1, length)


@lru_cache(maxsize=4096)
def _centre_line_cached(key: bytes) -> np.ndarray:
    image28 = np.frombuffer(key, np.uint8).reshape(28, 28)
    big = (cv2.resize(image28, (_THIN_SIZE, _THIN_SIZE), interpolation=cv2.INTER_CUBIC) >= 128).astype(np.uint8)
    # Stray specks of the scan (a few MNIST digits have them) are not part of the writing.
    count, parts, stats, _ = cv2.connectedComponentsWithStats(big, connectivity=8)
    if count > 2:
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = 1 + np.flatnonzero(areas >= 0.08 * areas.max())
        big = np.isin(parts, keep).astype(np.uint8)
    bone = thin(big)
    ys, xs = np.nonzero(bone)
    return np.stack([xs, ys], axis=1).astype(np.float32)


def centre_line(image28: np.ndarray) -> np.ndarray:
    """Points ``(x, y)`` (float32, ``(N, 2)``) of an MNIST digit's centre line, on a 112x112 grid."""
    image28 = np.ascontiguousarray(image28, np.uint8)
    if image28.shape != (28, 28) or not image28.any():
        raise ValueError("a digit image must be uint8 (28, 28) with some ink")
    return _centre_line_cached(image28.tobytes())


def _segments(points: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of indices of 8-connected neighbours among integer grid points (each pair once)."""
    index = {(int(x), int(y)): i for i, (x, y) in enumerate(points)}
    pairs = []
    for i, (x, y) in enumerate(points):
        for dx, dy in ((1, 0), (0, 1), (1, 1), (-1, 1)):
            j = index.get((int(x) + dx, int(y) + dy))
            if j is not None:
                pairs.append((i, j))
    return pairs


@dataclass(frozen=True)
class Glyph:
    """Ink of one written character: ``alpha`` float32 (h, w) in [0, 1]; ``ink`` its tight box inside alpha."""

    alpha: np.ndarray = field(repr=False)
    ink: tuple[int, int, int, int]  # x, y, w, h


def _ink_box(alpha: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(alpha >= _INK_LEVEL)
    if len(xs) == 0:
        raise ValueError("a glyph rendered with no ink")
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _supersample(pen: float) -> int:
    return 4 if pen < 3 else 2 if pen < 8 else 1


def _draw_polylines(paths: list[np.ndarray], box_w: float, box_h: float, pen: float, pairs=None) -> Glyph:
    """Draw point paths (px, relative to a box of ``box_w`` x ``box_h`` whose ink spans it) with a round pen.

    The centre line is drawn one pixel wide on a supersampled canvas; every pixel within half the pen
    width of it is ink, with a one-pixel soft edge; the canvas is then shrunk to size.
    """
    ss = _supersample(pen)
    pad = int(math.ceil(pen)) + 2
    width, height = int(math.ceil(box_w)) + 2 * pad, int(math.ceil(box_h)) + 2 * pad
    canvas = np.full((height * ss, width * ss), 255, np.uint8)
    for path in paths:
        pts = np.round((path + pad) * ss - 0.5).astype(np.int32)
        if pairs is None:
            cv2.polylines(canvas, [pts.reshape(-1, 1, 2)], False, 0, 1, cv2.LINE_8)
        else:
            for i, j in pairs:
                cv2.line(canvas, (int(pts[i][0]), int(pts[i][1])), (int(pts[j][0]), int(pts[j][1])), 0, 1, cv2.LINE_8)
            for x, y in pts:  # every centre point, paired or not (a dot still gets ink)
                canvas[y, x] = 0
    distance = cv2.distanceTransform(canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    alpha = np.clip(pen * ss / 2 + 0.5 - distance, 0.0, 1.0)
    if pen * ss >= 8:
        # Round off the bumps a wide pen makes of the centre line's tiny spurs: blur the edge, then make it
        # sharp again (one pixel of soft edge) at the same place.
        sigma = 0.25 * pen * ss
        alpha = np.clip((cv2.GaussianBlur(alpha, (0, 0), sigma) - 0.5) * sigma * 2.5 + 0.5, 0.0, 1.0)
    if ss > 1:
        alpha = cv2.resize(alpha, (width, height), interpolation=cv2.INTER_AREA)
    return Glyph(alpha.astype(np.float32), _ink_box(alpha))


def _shear(points: np.ndarray, slant_degrees: float, height: float) -> np.ndarray:
    """Lean points right (> 0) about their bottom: x += (bottom - y) * tan(slant)."""
    out = points.copy()
    out[:, 0] += (height - out[:, 1]) * math.tan(math.radians(slant_degrees))
    return out


def _fit(points: np.ndarray, height: float, pen: float, slant: float) -> tuple[np.ndarray, float, float]:
    """Scale points so the drawn ink (centre line plus the pen) is ``height`` tall; shift to (0, 0)."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = max(1.0, float(hi[1] - lo[1]))
    scale = max(0.5, height - pen) / span
    p = (points - lo) * scale + pen / 2
    p = _shear(p, slant, height)
    p[:, 0] -= p[:, 0].min() - pen / 2
    return p, float(p[:, 0].max() + pen / 2), float(height)


def draw_digit(image28: np.ndarray, height: float, pen_width: float, slant_degrees: float = 0.0) -> Glyph:
    """One MNIST digit (uint8 28x28, white on black) written ``height`` px tall with a ``pen_width`` px pen."""
    points = centre_line(image28)
    pairs = _segments(points)
    fitted, w, h = _fit(points, height, pen_width, slant_degrees)
    return _draw_polylines([fitted], w, h, pen_width, pairs)


@dataclass(frozen=True)
class StrokeDigits:
    """Digits as pen trajectories: ``strokes[i]`` is digit i's pen-down strokes, each float32 ``(n, 2)``
    points ``(x, y)`` with x to the right and y DOWN (image convention); ``labels`` int ``(N,)``, 0..9."""

    strokes: tuple[tuple[np.ndarray, ...], ...]
    labels: np.ndarray

    def __post_init__(self) -> None:
        if len(self.strokes) != len(self.labels) or len(self.labels) == 0:
            raise ValueError(f"need one label per digit and at least one digit, got {len(self.strokes)} and {len(self.labels)}")
        if any(len(digit) == 0 or any(np.asarray(s).ndim != 2 or np.asarray(s).shape[1:] != (2,) or len(s) == 0 for s in digit)
               for digit in self.strokes):
            raise ValueError("every digit needs one or more strokes, each an (n, 2) array of points with n >= 1")


def load_pendigits(path: str | Path, writers: range | tuple[int, ...] = range(30, 44)) -> StrokeDigits:
    """Pen trajectories from a ``pendigits_strokes.npz`` (UCI Pen-Based Recognition of Handwritten Digits,
    CC BY 4.0: points with y UP, CSR offsets ``stroke_starts``/``sample_starts``, ``labels``, ``writer``).
    By default only the 14 writers of its test file (ids 30..43). y is flipped to point down."""
    with np.load(path) as z:
        points, stroke_starts, sample_starts = z["points"], z["stroke_starts"], z["sample_starts"]
        labels, writer = z["labels"].astype(np.int64), z["writer"]
    keep = np.flatnonzero(np.isin(writer, np.asarray(tuple(writers))))
    if keep.size == 0:
        raise ValueError(f"{path}: no digits by writers {tuple(writers)}")
    digits = []
    for i in keep:
        strokes = []
        for k in range(sample_starts[i], sample_starts[i + 1]):
            stroke = points[stroke_starts[k] : stroke_starts[k + 1]].astype(np.float32)
            strokes.append(np.stack([stroke[:, 0], -stroke[:, 1]], axis=1))
        digits.append(tuple(strokes))
    return StrokeDigits(tuple(digits), labels[keep])


def draw_strokes(strokes, height: float, pen_width: float, slant_degrees: float = 0.0) -> Glyph:
    """A digit given as pen strokes (y down, any scale) written ``height`` px tall with a ``pen_width`` px pen."""
    allpoints = np.concatenate([np.asarray(s, np.float32) for s in strokes])
    lo, hi = allpoints.min(axis=0), allpoints.max(axis=0)
    scale = max(0.5, height - pen_width) / max(1e-6, float(hi[1] - lo[1]))
    paths = [_shear((np.asarray(s, np.float32) - lo) * scale + pen_width / 2, slant_degrees, height) for s in strokes]
    left = min(float(p[:, 0].min()) for p in paths) - pen_width / 2
    paths = [p - np.float32([left, 0]) for p in paths]
    right = max(float(p[:, 0].max()) for p in paths) + pen_width / 2
    return _draw_polylines(paths, right, height, pen_width)


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 24) -> list[tuple[float, float]]:
    t = np.radians(np.linspace(start, end, steps))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


# Marks as pen strokes in digit heights, y down from the top of the mark: (strokes, where the mark's centre
# sits above the baseline). Signs float at mid height; letters stand on the baseline.
_MARKS = {
    "+": ([[(0, 0.25), (0.5, 0.25)], [(0.25, 0), (0.25, 0.5)]], 0.5),
    "-": ([[(0, 0), (0.45, 0.01)]], 0.5),
    "x": ([[(0, 0), (0.42, 0.42)], [(0.42, 0), (0, 0.42)]], 0.45),
    "/": ([[(0.45, 0), (0, 1.0)]], 0.5),
    "=": ([[(0, 0), (0.5, 0)], [(0, 0.24), (0.5, 0.24)]], 0.5),
    "(": ([_arc(0.3, 0.6, 0.3, 0.6, 120, 240)], 0.5),
    ")": ([_arc(0.0, 0.6, 0.3, 0.6, -60, 60)], 0.5),
    "A": ([[(0, 1), (0.32, 0), (0.64, 1)], [(0.14, 0.62), (0.5, 0.62)]], 0.5),
    "T": ([[(0, 0), (0.64, 0)], [(0.32, 0), (0.32, 1)]], 0.5),
    "K": ([[(0, 0), (0, 1)], [(0.5, 0), (0, 0.55)], [(0.16, 0.42), (0.52, 1)]], 0.5),
    "Z": ([[(0, 0), (0.56, 0), (0, 1), (0.58, 1)]], 0.5),
    "l": ([[(0.12, 0), (0.06, 0.85), (0.12, 1.0), (0.26, 0.94)]], 0.5),
    "O": ([_arc(0.3, 0.5, 0.3, 0.5, -90, 275, 40)], 0.5),
    "S": ([_arc(0.28, 0.25, 0.26, 0.25, -30, -270, 20)[:-1] + _arc(0.28, 0.75, 0.28, 0.25, -90, 150, 20)], 0.5),
}


def _mark_paths(char: str, rng: np.random.Generator) -> tuple[list[np.ndarray], float]:
    """A mark's strokes in digit heights, each point moved a little by the hand, and its centre's height
    above the baseline. A sign is drawn at 80-110% of its size, a letter at 90-105% of a digit's height."""
    strokes, centre = _MARKS[char]
    size = rng.uniform(0.8, 1.1) if char in SIGNS else rng.uniform(0.9, 1.05)
    paths = []
    for stroke in strokes:
        p = np.array(stroke, np.float32) * size
        p += rng.normal(0, 0.025, p.shape).astype(np.float32)
        if len(p) > 6:  # a curve: wobble it smoothly rather than point by point
            p = cv2.GaussianBlur(p.reshape(-1, 1, 2), (1, 5), 0).reshape(-1, 2)
        paths.append(p)
    return paths, centre


def draw_mark(char: str, height: float, pen_width: float, rng: np.random.Generator, slant_degrees: float = 0.0) -> tuple[Glyph, float]:
    """A sign (``SIGNS``) or letter (``LETTERS``) written with a pen next to digits ``height`` px tall;
    returns the glyph and where its ink centre sits above the baseline, in digit heights."""
    if char not in _MARKS:
        raise ValueError(f"cannot draw {char!r}; signs are {SIGNS!r}, letters {LETTERS!r}")
    paths, centre = _mark_paths(char, rng)
    scaled = [_shear(p * height, slant_degrees, height) for p in paths]
    lo = np.min([p.min(axis=0) for p in scaled], axis=0)
    hi = np.max([p.max(axis=0) for p in scaled], axis=0)
    scaled = [p - lo + pen_width / 2 for p in scaled]
    w, h = hi - lo + pen_width
    glyph = _draw_polylines(scaled, float(w), float(h), pen_width)
    if char in LETTERS:  # stands on the baseline
        centre = glyph.ink[3] / 2 / height
    return glyph, centre


# --------------------------------------------------------------------------- layout


@dataclass
class _Placed:
    glyph: Glyph
    x: int  # top-left of glyph.alpha in the page
    y: int
    char: str
    number: int | None  # index into numbers, for digits
    line: int
    label: int | None = None
    word: int = 0  # index of the space-separated word in its line

    @property
    def box(self) -> tuple[int, int, int, int]:
        ix, iy, iw, ih = self.glyph.ink
        return self.x + ix, self.y + iy, iw, ih


def _writer(digits: "Digits | StrokeDigits"):
    """(labels, draw(index, height, pen, slant) -> Glyph) for bitmaps or pen strokes."""
    if isinstance(digits, StrokeDigits):
        return np.asarray(digits.labels), lambda i, h, pen, slant: draw_strokes(digits.strokes[i], h, pen, slant)
    images, labels = digits
    return labels, lambda i, h, pen, slant: draw_digit(images[i], h, pen, slant)


def _layout(options: SceneOptions, rng: np.random.Generator, digits: Digits) -> list[_Placed]:
    """Write every line: glyphs with their places on the page and which number each digit is in."""
    labels, draw = _writer(digits)
    pool = {d: np.flatnonzero(labels == d) for d in range(10)}
    h = options.digit_height
    tan_slope = math.tan(math.radians(options.slope_degrees))
    placed: list[_Placed] = []
    number_count = 0
    for line_index, text in enumerate(options.lines):
        x = 0.0
        baseline = line_index * options.line_pitch * h
        previous = None  # kind of the previous glyph in this line: "digit", "mark" or None after a space
        word = -1
        current_number = None
        for char in text:
            if char == " ":
                if previous is not None:
                    x += rng.uniform(*options.space_gap) * h
                previous = None
                current_number = None
                continue
            if previous is None:
                word += 1
                if options.column_pitch is not None:
                    x = max(x, word * options.column_pitch * h)
            pen = options.pen_width * (1 + rng.uniform(-1, 1) * options.pen_jitter)
            slant = rng.uniform(*options.slant_degrees)
            if char.isdigit():
                if pool[int(char)].size == 0:
                    raise ValueError(f"no {char} among the digits to write with")
                height = h * (1 + rng.uniform(-1, 1) * options.height_jitter)
                glyph = draw(int(rng.choice(pool[int(char)])), height, pen, slant)
                if previous == "digit":
                    x += rng.uniform(*options.digit_gap) * h
                elif previous == "mark":
                    x += rng.uniform(*options.sign_gap) * h
                if current_number is None:
                    current_number = number_count
                    number_count += 1
                bottom = baseline + rng.normal(0, options.baseline_jitter) * h
                ix, iy, iw, ih = glyph.ink
                gx, gy = x - ix, bottom - (iy + ih)
                placed.append(_Placed(glyph, 0, 0, char, current_number, line_index, int(char), word))
                previous = "digit"
            else:
                glyph, centre = draw_mark(char, h, pen, rng, slant)
                if previous is not None:
                    x += rng.uniform(*options.sign_gap) * h
                current_number = None
                ix, iy, iw, ih = glyph.ink
                middle = baseline - centre * h + rng.normal(0, options.baseline_jitter) * h
                gx, gy = x - ix, middle - (iy + ih / 2)
                placed.append(_Placed(glyph, 0, 0, char, None, line_index, None, word))
                previous = "mark"
            rise = -(x + iw / 2) * tan_slope  # image y grows downwards: a rising line goes up
            placed[-1].x, placed[-1].y = int(round(gx)), int(round(gy + rise))
            x += iw
    return placed


def _place_block(placed: list[_Placed], options: SceneOptions, size: tuple[int, int]) -> None:
    """Move the writing so it is centred in the frame (or at ``options.origin``); raise if it does not fit."""
    if not placed:
        return
    boxes = np.array([p.box for p in placed])
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    w, h = size
    if options.origin is None:
        dx, dy = (w - (x1 - x0)) // 2 - x0, (h - (y1 - y0)) // 2 - y0
    else:
        dx, dy = int(options.origin[0] * w) - x0, int(options.origin[1] * h) - y0
    if x1 - x0 > w or y1 - y0 > h or x0 + dx < 0 or y0 + dy < 0 or x1 + dx > w or y1 + dy > h:
        raise ValueError(f"the writing ({x1 - x0}x{y1 - y0} px) does not fit in the {w}x{h} frame at that place; "
                         f"use fewer or smaller digits, or a larger frame")
    for p in placed:
        p.x += int(dx)
        p.y += int(dy)


# --------------------------------------------------------------------------- paper and light


def _smooth_noise(rng: np.random.Generator, size: tuple[int, int], cell: int) -> np.ndarray:
    w, h = size
    coarse = rng.standard_normal((h // cell + 2, w // cell + 2)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _paper(rng: np.random.Generator, options: SceneOptions, size: tuple[int, int]) -> np.ndarray:
    """Bare paper, float32 (h, w, 3) BGR: its colour, a slow unevenness and fibre grain."""
    w, h = size
    colour = np.array(options.paper_tint, np.float32) + rng.uniform(-0.015, 0.015, 3).astype(np.float32)
    field = _smooth_noise(rng, size, max(8, min(w, h) // 12))
    field *= 0.01
    field += 1.0
    field += _smooth_noise(rng, size, 2) * 0.006  # fibres
    field += rng.standard_normal((h, w), dtype=np.float32) * 0.004  # grain
    return field[..., None] * colour[None, None, :]


def _print_lines(paper: np.ndarray, positions, horizontal: bool, width: float, darkness: float, tint) -> None:
    """Printed lines across the paper at the given positions (px), in place."""
    h, w = paper.shape[:2]
    coords = np.arange(h if horizontal else w, dtype=np.float32)
    profile = np.zeros_like(coords)
    for p in positions:
        profile = np.maximum(profile, np.clip(width / 2 + 0.5 - np.abs(coords - p), 0, 1))
    take = profile * darkness
    if horizontal:
        paper *= 1.0 - take[:, None, None] * np.asarray(tint, np.float32)[None, None, :]
    else:
        paper *= 1.0 - take[None, :, None] * np.asarray(tint, np.float32)[None, None, :]


def _rules(paper: np.ndarray, options: SceneOptions, placed: list[_Placed], rng: np.random.Generator) -> None:
    """Ruled, squared or table lines, in place. Ruled lines sit under the baselines of the writing."""
    if options.paper == "plain":
        return
    h, w = paper.shape[:2]
    tint = LINE_TINTS[options.line_tint]
    digit_bottoms = sorted({max(p.box[1] + p.box[3] for p in placed if p.line == line) for line in {p.line for p in placed}}) if placed else []
    if options.paper == "ruled":
        spacing = options.line_spacing or options.line_pitch * options.digit_height
        start = (digit_bottoms[0] + rng.uniform(1, 3)) if digit_bottoms else rng.uniform(0, spacing)
        ys = np.arange(start % spacing, h, spacing)
        _print_lines(paper, ys, True, options.line_width, options.line_darkness, tint)
        return
    if options.paper == "grid":
        spacing = options.line_spacing or 0.55 * options.digit_height
        ox, oy = rng.uniform(0, spacing, 2)
        _print_lines(paper, np.arange(oy, h, spacing), True, options.line_width, options.line_darkness, tint)
        _print_lines(paper, np.arange(ox, w, spacing), False, options.line_width, options.line_darkness, tint)
        return
    # table: printed dark rules between the lines of writing and between its columns (words of a line)
    hpx = options.digit_height
    pitch = options.line_pitch * hpx
    if placed:
        tops = [min(p.box[1] for p in placed if p.line == line) for line in sorted({p.line for p in placed})]
        columns = sorted({p.word for p in placed})
        lefts = [min(p.box[0] for p in placed if p.word == k) for k in columns]
        rights = [max(p.box[0] + p.box[2] for p in placed if p.word == k) for k in columns]
        xs = [lefts[0] - 0.4 * hpx] + [(r + l) / 2 for r, l in zip(rights[:-1], lefts[1:])] + [rights[-1] + 0.4 * hpx]
    else:
        tops, xs = [h / 2], [w / 4, 3 * w / 4]
    ys = [t - (pitch - hpx) / 2 for t in tops] + [tops[-1] + hpx + (pitch - hpx) / 2]
    table = np.ones(paper.shape[:2], np.float32)
    width = max(1, int(round(options.line_width)))
    for y in ys:
        cv2.line(table, (int(xs[0]), int(y)), (int(xs[-1]), int(y)), 0.0, width, cv2.LINE_AA)
    for x in xs:
        cv2.line(table, (int(x), int(ys[0])), (int(x), int(ys[-1])), 0.0, width, cv2.LINE_AA)
    paper *= (1.0 - (1.0 - table) * options.line_darkness)[..., None]


def _show_through(paper: np.ndarray, options: SceneOptions, rng: np.random.Generator) -> None:
    """Mirrored, blurred printed text from the back of the sheet, in place."""
    if options.show_through <= 0:
        return
    h, w = paper.shape[:2]
    back = np.zeros((h, w), np.uint8)
    font = cv2.FONT_HERSHEY_COMPLEX
    text_h = max(8.0, h * rng.uniform(0.014, 0.02))
    (_, cap), _ = cv2.getTextSize("T", font, 1.0, 1)
    scale = text_h / cap
    thickness = max(1, int(round(text_h / 10)))
    words = ["the", "and", "report", "total", "of", "paper", "sample", "page", "with", "notes", "table", "value",
             "section", "is", "for", "from", "each", "were", "measured", "results", "in", "a", "this"]
    y = rng.uniform(0.5, 1.5) * text_h * 2
    margin = int(w * rng.uniform(0.06, 0.1))
    while y < h:
        line = " ".join(rng.choice(words, size=40))
        cv2.putText(back, line, (margin, int(y)), font, scale, 255, thickness, cv2.LINE_AA)
        y += text_h * rng.uniform(1.9, 2.1)
    back = cv2.flip(back, 1)  # seen from the front, print on the back is mirrored
    sigma = max(0.8, text_h * 0.12)  # the paper diffuses it
    ghost = cv2.GaussianBlur(back.astype(np.float32) / 255.0, (0, 0), sigma)
    paper *= (1.0 - ghost * (options.show_through / max(1e-6, float(ghost.max()))))[..., None]


def _ink(paper: np.ndarray, placed: list[_Placed], options: SceneOptions, rng: np.random.Generator) -> None:
    """Lay every glyph's ink on the paper, in place, with the ink's colour, opacity, texture and bleed."""
    kind = INKS[options.ink]
    colour = np.array(kind["colour"], np.float32)
    h, w = paper.shape[:2]
    alpha = np.zeros((h, w), np.float32)
    for p in placed:
        a = p.glyph.alpha
        x0, y0, x1, y1 = max(0, p.x), max(0, p.y), min(w, p.x + a.shape[1]), min(h, p.y + a.shape[0])
        if x0 < x1 and y0 < y1:
            region = alpha[y0:y1, x0:x1]
            np.maximum(region, a[y0 - p.y : y1 - p.y, x0 - p.x : x1 - p.x], out=region)
    if kind["bleed"] > 0:
        alpha = np.maximum(alpha, cv2.GaussianBlur(alpha, (0, 0), max(0.5, kind["bleed"] * options.pen_width)) * 0.9)
    ys, xs = np.nonzero(alpha > 0)
    a = alpha[ys, xs]
    if kind["texture"] > 0:
        # Deposit varies along the stroke at about the pen's scale (paper tooth, a ballpoint's skips).
        cell = max(2, int(round(options.pen_width * 1.5)))
        slow = _smooth_noise(rng, (w, h), cell)[ys, xs]
        deposit = 1.0 + kind["texture"] * 0.5 * (slow + 0.6 * rng.standard_normal(len(a), dtype=np.float32))
        a = a * np.clip(deposit, 0.15, 1.0 + kind["texture"] * 0.3)
    a = np.clip(a * kind["opacity"], 0.0, 1.0)[:, None]
    brightness = float(paper[:: 8, :: 8].mean()) / 0.95
    paper[ys, xs] = paper[ys, xs] * (1.0 - a) + a * colour[None, :] * brightness


def _light_gain(options: SceneOptions, size: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Smooth light fields at the frame size: (gain, glare), float32 (h, w). Drawn at a quarter size and
    enlarged (they vary slowly), except the shadow's hard edge, which is drawn at full size."""
    w, h = size
    sw, sh = max(8, w // 4), max(8, h // 4)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xn, yn = (xx - sw / 2) / (sw / 2), (yy - sh / 2) / (sh / 2)
    angle = rng.uniform(0, 2 * math.pi)
    gain = 1.0 - options.light_gradient * (0.5 + 0.5 * (math.cos(angle) * xn + math.sin(angle) * yn))
    gain *= 1.0 - options.vignette * (xn**2 + yn**2) / 2
    glare = np.zeros_like(gain)
    if options.glare > 0:
        cx, cy = rng.uniform(0.25, 0.75) * sw, rng.uniform(0.25, 0.75) * sh
        radius = rng.uniform(0.12, 0.2) * min(sw, sh)
        glare = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2)) * options.glare
    gain = cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)
    glare = cv2.resize(glare, (w, h), interpolation=cv2.INTER_LINEAR)
    if options.shadow > 0:
        # A hard edge (a phone or a hand right over the page), straight, across part of the frame.
        theta = rng.uniform(0, 2 * math.pi)
        nx, ny = math.cos(theta), math.sin(theta)
        offset = rng.uniform(-0.35, 0.1)
        xs = (np.arange(w, dtype=np.float32) - w / 2) / (w / 2)
        ys = (np.arange(h, dtype=np.float32) - h / 2) / (h / 2)
        side = (nx * xs[None, :] + ny * ys[:, None] - offset) * (min(w, h) / 2)
        edge = np.clip(0.5 + side / max(1.5, 0.004 * min(w, h)), 0, 1)  # a few px of penumbra
        gain *= 1.0 - options.shadow * edge
    return gain, glare


def _light(image: np.ndarray, options: SceneOptions, rng: np.random.Generator) -> np.ndarray:
    """Light on the sheet: colour cast, gradient, vignette, a hard shadow, glare, exposure; float32 in, out."""
    h, w = image.shape[:2]
    gain, glare = _light_gain(options, (w, h), rng)
    image *= (gain * options.exposure)[..., None]
    image *= np.asarray(options.cast, np.float32)[None, None, :]
    if options.glare > 0:
        image *= (1 - glare)[..., None]
        image += (glare * 1.15 * options.exposure)[..., None]
    return image


def _perspective(options: SceneOptions, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Homography from page to frame: the sheet (shrunk by ``desk``) with its corners moved a little."""
    w, h = size
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = options.desk / 2
    dst = np.float32([[m * w, m * h], [(1 - m) * w, m * h], [(1 - m) * w, (1 - m) * h], [m * w, (1 - m) * h]])
    dst += (rng.uniform(-1, 1, (4, 2)) * options.perspective * np.float32([w, h])).astype(np.float32)
    if options.desk == 0 and options.perspective > 0:
        # With no desk in view the sheet must still cover the frame: grow it about its centre.
        centre = dst.mean(axis=0)
        dst = (dst - centre) * (1 + 2.5 * options.perspective) + centre
    return cv2.getPerspectiveTransform(src, dst)


def _map_box(box, homography: np.ndarray) -> list[int]:
    x, y, w, h = box
    corners = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]).reshape(-1, 1, 2)
    mapped = cv2.perspectiveTransform(corners, homography).reshape(-1, 2)
    x0, y0 = np.floor(mapped.min(axis=0)).astype(int)
    x1, y1 = np.ceil(mapped.max(axis=0)).astype(int)
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


# --------------------------------------------------------------------------- rendering


def render(options: SceneOptions, seed: int = 0, digits: Digits | StrokeDigits | None = None) -> tuple[np.ndarray, dict]:
    """Draw one photo of written paper: ``(image, truth)``; image BGR uint8 ``(size[1], size[0], 3)``.

    ``digits`` is an ``(images, labels)`` pair to write with (uint8 (N, 28, 28), white on black;
    by default the MNIST test set), or ``StrokeDigits`` (pen trajectories, e.g. ``load_pendigits``). Same options and seed, same image.
    """
    if not isinstance(digits, StrokeDigits):
        digits = check_digits(mnist_test_digits() if digits is None else digits)
    layout_seed, paper_seed, ink_seed, light_seed, camera_seed = np.random.SeedSequence(seed).spawn(5)
    size = tuple(int(v) for v in options.size)
    placed = _layout(options, np.random.default_rng(layout_seed), digits)
    _place_block(placed, options, size)

    paper_rng = np.random.default_rng(paper_seed)
    page = _paper(paper_rng, options, size)
    _show_through(page, options, paper_rng)
    _rules(page, options, placed, paper_rng)
    _ink(page, placed, options, np.random.default_rng(ink_seed))

    camera_rng = np.random.default_rng(camera_seed)
    homography = np.eye(3)
    if options.perspective > 0 or options.desk > 0:
        homography = _perspective(options, size, camera_rng)
        desk = np.array([0.22, 0.3, 0.38], np.float32) * camera_rng.uniform(0.7, 1.2)
        page = cv2.warpPerspective(page, homography, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                   borderValue=tuple(float(v) for v in desk))
    image = _light(page, options, np.random.default_rng(light_seed))
    if options.blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), options.blur)
    if options.noise > 0:
        # Shot noise grows with the light; read noise does not: both in grey levels at mid grey.
        # One draw per pixel shared by the channels (a camera's demosaicing correlates them anyway).
        level = np.maximum(image[..., 1], 0.0)  # green: the channel most of a camera's pixels see
        level *= 2.0
        level += 0.05
        np.sqrt(level, out=level)
        level *= camera_rng.standard_normal((size[1], size[0]), dtype=np.float32)
        level *= options.noise / 255.0
        image += level[..., None]
    image *= 255.0
    image += 0.5
    out = np.clip(image, 0, 255, out=image).astype(np.uint8)
    if options.jpeg is not None:
        ok, buffer = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(options.jpeg)])
        if not ok:
            raise OSError("JPEG encoding failed")
        out = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    return out, _truth(placed, homography, size)


def _truth(placed: list[_Placed], homography: np.ndarray, size: tuple[int, int]) -> dict:
    digits, marks = [], []
    numbers: dict[int, dict] = {}
    for p in placed:
        box = _map_box(p.box, homography)
        if p.number is None:
            marks.append({"box": box, "kind": "sign" if p.char in SIGNS else "letter", "text": p.char})
            continue
        digits.append({"box": box, "digit": p.label, "number": p.number})
        entry = numbers.setdefault(p.number, {"text": "", "boxes": [], "line": p.line})
        entry["text"] += p.char
        entry["boxes"].append(box)
    out_numbers = []
    for index in sorted(numbers):
        entry = numbers[index]
        b = np.array(entry["boxes"])
        x0, y0 = b[:, 0].min(), b[:, 1].min()
        x1, y1 = (b[:, 0] + b[:, 2]).max(), (b[:, 1] + b[:, 3]).max()
        out_numbers.append({"text": entry["text"], "box": [int(x0), int(y0), int(x1 - x0), int(y1 - y0)], "line": entry["line"]})
    return {"frame": 0, "size": list(size), "numbers": out_numbers, "digits": digits, "marks": marks}


def truth_document(truth: dict, source: str) -> dict:
    """A scene's truth in ``synth``'s file layout (one frame), for ``livedigits score``."""
    return {"source": source, "fps": 1, "size": truth["size"], "frames": [truth]}


# --------------------------------------------------------------------------- named scenes


def _scene_large_single(rng: np.random.Generator) -> SceneOptions:
    h = 480 * rng.uniform(0.68, 0.78)
    return SceneOptions(size=(640, 480), lines=(str(rng.integers(0, 10)),), digit_height=h, pen_width=h * rng.uniform(0.12, 0.15),
                        ink="marker", noise=4.0, blur=1.0, jpeg=80, perspective=0.02, vignette=0.3)


def _scene_thick_marker(rng: np.random.Generator) -> SceneOptions:
    h = rng.uniform(110, 140)
    return SceneOptions(size=(640, 480), lines=("3450",), digit_height=h, pen_width=h * rng.uniform(0.13, 0.17),
                        digit_gap=(0.12, 0.22), ink="marker", noise=5.0, blur=1.0, jpeg=75, light_gradient=0.25,
                        perspective=0.02)


def _scene_thin_small(rng: np.random.Generator) -> SceneOptions:
    return SceneOptions(size=(1280, 960), lines=("2718 45 903 6", "31 8 572 64"), digit_height=rng.uniform(15, 20),
                        pen_width=rng.uniform(1.2, 1.8), digit_gap=(0.15, 0.3), space_gap=(1.2, 1.6), ink="fineliner",
                        noise=2.5, blur=0.5, jpeg=88)


def _scene_grid_paper(rng: np.random.Generator) -> SceneOptions:
    h = rng.uniform(45, 60)
    return SceneOptions(size=(1280, 960), lines=("385 16", "7042 29"), digit_height=h, pen_width=h * 0.07,
                        paper="grid", line_tint="blue", line_spacing=h * rng.uniform(0.5, 0.6), line_darkness=0.5,
                        line_width=1.5, ink="ballpoint_blue", perspective=0.01, noise=2.5, jpeg=88)


def _scene_show_through(rng: np.random.Generator) -> SceneOptions:
    h = rng.uniform(150, 190)
    return SceneOptions(size=(1280, 960), lines=(str(rng.integers(0, 10)),), digit_height=h, pen_width=h * 0.12,
                        ink="marker", show_through=0.13, shadow=0.45, light_gradient=0.2, noise=3.0, jpeg=85)


def _scene_letters(rng: np.random.Generator) -> SceneOptions:
    return SceneOptions(size=(1280, 960), lines=("A 7 T 4", "12 A T 7"), digit_height=70.0, pen_width=5.0,
                        space_gap=(0.5, 0.7), sign_gap=(0.3, 0.4), ink="ballpoint_black", noise=2.5, jpeg=88)


def _scene_even_row(rng: np.random.Generator) -> SceneOptions:
    row = " ".join(str(d) for d in rng.permutation(10))
    return SceneOptions(size=(1280, 960), lines=(row,), digit_height=55.0, pen_width=4.0, space_gap=(1.1, 1.3),
                        slope_degrees=5.0, ink="ballpoint_blue", paper="ruled", line_pitch=2.0, noise=2.5, jpeg=88)


def _scene_spaced_numbers(rng: np.random.Generator) -> SceneOptions:
    return SceneOptions(size=(1280, 960), lines=("5619 384",), digit_height=80.0, pen_width=6.0, digit_gap=(0.12, 0.18),
                        space_gap=(0.6, 0.7), ink="ballpoint_black", noise=2.5, jpeg=88)


DENSE_SHEET_COUNT = 120


def _scene_dense_sheet(rng: np.random.Generator) -> SceneOptions:
    numbers = [str(n) for n in range(1, DENSE_SHEET_COUNT + 1)]
    lines = tuple(" ".join(numbers[i : i + 10]) for i in range(0, len(numbers), 10))
    # 52 px on the 3000x4000 photo is 25 px once a reader shrinks it to 1920 px on its long side.
    return SceneOptions(size=(3000, 4000), lines=lines, digit_height=52.0, pen_width=4.0, column_pitch=4.2,
                        line_pitch=2.6, space_gap=(1.0, 1.4), ink="ballpoint_blue", paper="ruled", line_spacing=52.0 * 2.6,
                        noise=3.0, blur=1.0, jpeg=85, perspective=0.01, light_gradient=0.15)


def _scene_operators(rng: np.random.Generator) -> SceneOptions:
    return SceneOptions(size=(1280, 960), lines=("12+7 8-3 (4x2)",), digit_height=70.0, pen_width=5.0,
                        sign_gap=(0.2, 0.3), space_gap=(1.0, 1.3), ink="ballpoint_blue", noise=2.5, jpeg=88)


#: Named scenes, one per way real photos fail: name -> (what it shows, options from a random stream).
SCENES: dict[str, tuple[str, Callable[[np.random.Generator], SceneOptions]]] = {
    "large_single": ("one digit filling most of a 640x480 webcam frame, thick marker", _scene_large_single),
    "thick_marker": ("3450 in thick marker (strokes 13-17% of the digit height), noisy 640x480 webcam JPEG", _scene_thick_marker),
    "thin_small": ("two lines of numbers with a 1-2 px fine-liner, digits 15-20 px tall, 1280x960", _scene_thin_small),
    "grid_paper": ("numbers in blue ballpoint on squared paper whose lines run through the digits", _scene_grid_paper),
    "show_through": ("a marker digit on a sheet with mirrored print showing through and a hard shadow edge", _scene_show_through),
    "letters": ("A 7 T 4 and 12 A T 7: letters right next to the digits", _scene_letters),
    "even_row": ("ten single digits in one row, gaps ~1.2 digit heights, the line rising 5 degrees, ruled paper", _scene_even_row),
    "spaced_numbers": ("5619 384: digits 0.12-0.18 h apart, the numbers 0.6-0.7 h apart", _scene_spaced_numbers),
    "dense_sheet": (f"a counting sheet 1..{DENSE_SHEET_COUNT} in ballpoint on ruled paper, 3000x4000 phone JPEG", _scene_dense_sheet),
    "operators": ("12+7 8-3 (4x2) in one line", _scene_operators),
}


def scene_options(name: str, seed: int = 0, **overrides) -> SceneOptions:
    """The options of a named scene for ``seed``, with any ``SceneOptions`` fields replaced by ``overrides``."""
    if name not in SCENES:
        raise ValueError(f"unknown scene {name!r}; choose one of {sorted(SCENES)}")
    options = SCENES[name][1](np.random.default_rng([seed, 0x5CE7E]))
    valid = {f.name for f in fields(SceneOptions)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ValueError(f"unknown scene option(s) {unknown}; valid ones are {sorted(valid)}")
    return replace(options, **overrides)


def render_scene(name: str, seed: int = 0, digits: Digits | StrokeDigits | None = None, **overrides) -> tuple[np.ndarray, dict]:
    """Render a named scene (see ``SCENES``): ``(BGR image, truth)``."""
    return render(scene_options(name, seed, **overrides), seed=seed, digits=digits)


def write_scene(name: str, path: str | Path, seed: int = 0, digits: Digits | StrokeDigits | None = None) -> dict:
    """Write a named scene as an image (PNG, or JPEG by the extension), its truth beside it as ``.json``
    and the truth drawn on it as ``_truth.png``; return the truth document."""
    path = Path(path)
    image, truth = render_scene(name, seed, digits=digits)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"{path}: cannot write the image (unknown extension or folder not writable)")
    document = truth_document(truth, path.name)
    path.with_suffix(".json").write_text(json.dumps(document, separators=(",", ":")) + "\n")
    cv2.imwrite(str(path.with_name(path.stem + "_truth.png")), draw_truth(image, truth))
    return document

"""Digits from writers outside MNIST, rendered as MNIST-style 28x28 uint8 images.

One job: load the non-MNIST handwriting kept in ``livedigits/train/writers_data/`` (see the README
there for sources, citations and licences) and draw it as white ink on black, ready for the same
camera augmentation and ``normalize_ink`` as the MNIST digits.

Sources and how they are split (no writer is both trained on and validated on):

* ``pendigits``: pen trajectories of 44 writers on a tablet (y points up in the data, so it is
  flipped). Rendered as polylines with a random pen (hairline to thick marker), slant, aspect and
  size; separate strokes are never joined. Writers 0-29 (the official train file) train; writers
  30-43 (the test file) are validation only.
* ``optdigits`` (32x32) and ``semeion`` (16x16): scanned bitmaps that were stretched to fill their
  box. The width is squeezed back to a natural aspect (much narrower for 1s) before use. optdigits
  ``windep`` (13 writers not in its training part) is validation only; semeion has no split and
  trains.
* ``fonts``: handwriting font families (SIL OFL), digits drawn with pen-width change, slant,
  rotation and elastic distortion. ``VALIDATION_FAMILIES`` are never trained on.
* ``styles``: habits MNIST (American writers) hardly shows, drawn as strokes: the continental 1 with
  a long straight flag falling steeply from an upright stem (sometimes a foot), the plain 7 whose flat
  top bounds it, the barred 7, the open-topped 4, the straight-stem 9, the 2 with a loop, the
  school-style 6, the one-stroke 4 whose upright starts at its bar and the small-loop 6 that bounds it.
* ``usps``: USPS zip-code digits, validation only and never shipped (their terms are unclear); read
  from a path the user gives.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from livedigits.train.augment import elastic
from livedigits.vision.normalize import normalize_ink

DATA_DIR = Path(__file__).resolve().parent / "writers_data"
FONT_DIR = DATA_DIR / "fonts"
FONT_FAMILIES = (
    "architects-daughter", "caveat", "covered-by-your-grace", "gloria-hallelujah", "indie-flower",
    "kalam", "nanum-pen-script", "patrick-hand", "reenie-beanie", "shadows-into-light",
)
#: Font families kept out of training, to measure how the model reads a hand it never saw.
VALIDATION_FAMILIES = ("covered-by-your-grace", "patrick-hand", "reenie-beanie")
TRAIN_FAMILIES = tuple(f for f in FONT_FAMILIES if f not in VALIDATION_FAMILIES)

#: Handwriting fonts of Debian's packages, for evaluation only (``other_hands``): generated worksheets and
#: stress pages written whole in hands nobody here trained or tuned on. The package, then the font file. Left
#: out: fonts-femkeklaver (an outline font, not a pen), fonts-tomsontalks (no + = ( )) and fonts-ecolier-court
#: (a calligraphic face: its hairlines vanish at a worksheet's size, which no pen's stroke does).
OTHER_HANDS = (
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeBuild-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeConnect-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeCreate-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeLearn-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeMentor-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf"),
    ("fonts-comic-neue", "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf"),
    ("fonts-dancingscript", "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf"),
    ("fonts-kaushanscript", "/usr/share/fonts/opentype/kaushanscript/KaushanScript-Regular.otf"),
    ("fonts-tlwg-purisa-otf", "/usr/share/fonts/opentype/tlwg/Purisa.otf"),
    ("fonts-breip", "/usr/share/fonts/truetype/breip/Breip.ttf"),
    ("fonts-dkg-handwriting", "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf"),
    ("fonts-humor-sans", "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf"),
    ("fonts-kiloji", "/usr/share/fonts/truetype/kiloji/kiloji.ttf"),
    ("fonts-klee", "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf"),
    ("fonts-kristi", "/usr/share/fonts/truetype/kristi/Kristi.ttf"),
    ("fonts-rufscript", "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf"),
    ("fonts-seto", "/usr/share/fonts/truetype/seto/setofont.ttf"),
    ("fonts-sjfonts", "/usr/share/fonts/truetype/sjfonts/Delphine.ttf"),
    ("fonts-sjfonts", "/usr/share/fonts/truetype/sjfonts/SteveHand.ttf"),
    ("fonts-yusei-magic", "/usr/share/fonts/truetype/yusei-magic/YuseiMagic-Regular.ttf"),
)


def other_hands() -> tuple[str, ...]:
    """The font files of ``OTHER_HANDS`` on this machine; a ValueError naming the Debian packages to
    install when none is."""
    from pathlib import Path

    found = tuple(path for _, path in OTHER_HANDS if Path(path).is_file())
    if not found:
        packages = " ".join(sorted({package for package, _ in OTHER_HANDS}))
        raise ValueError(f"no handwriting font of Debian's packages is installed: apt install {packages}")
    return found


PENDIGITS_TRAIN_WRITERS = range(0, 30)
PENDIGITS_TEST_WRITERS = range(30, 44)
STYLES = {"flag1": 1, "flat7": 7, "barred7": 7, "open4": 4, "stem9": 9, "loop2": 2, "school6": 6, "bar4": 4, "small6": 6}
#: Degrees below horizontal of the continental 1's flag (``flag1``) and at most of a plain 7's top bar
#: (``flat7``): the gap between them is the boundary the two styles teach.
FLAG1_ANGLE = (35.0, 62.0)
FLAT7_ANGLE = 12.0
#: Drawings per style in the training pool, per unit of scale (800 unless named): the continental 1 and
#: the plain 7 that bounds it get twice as many, so that the boundary between the two is learned; the 4
#: whose upright starts at its bar (``bar4``) four times as many, about 1,000 of the 16,200 pool digits an
#: epoch draws, so that a short continuation sees it (no other source draws it); its counterpart, the 6 with a
#: small closed loop (``small6``), twice as many (session 30's runs Y3 and Y4, docs/model.md).
STYLE_COUNTS = {"flag1": 1600, "flat7": 1600, "bar4": 3200, "small6": 1600}
#: Environment variable naming the USPS ``usps_16x16.npz`` (validation only).
USPS_ENV = "LIVEDIGITS_USPS"
_RENDER = 96  # digits are drawn about this many px tall, then normalised


# --------------------------------------------------------------------------- loading


def _load(name: str) -> dict:
    path = DATA_DIR / f"{name}.npz"
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


@lru_cache(maxsize=1)
def load_pendigits() -> dict:
    """``strokes`` (list per sample of (n, 2) float32 arrays, x right and **y down**), ``labels``, ``writer``."""
    z = _load("pendigits_strokes")
    points, ss, sm = z["points"].astype(np.float32), z["stroke_starts"], z["sample_starts"]
    points = points.copy()
    points[:, 1] = 500.0 - points[:, 1]  # the tablet's y axis points up; images count rows down
    strokes = [[points[ss[k]: ss[k + 1]] for k in range(sm[i], sm[i + 1])] for i in range(len(z["labels"]))]
    return {"strokes": strokes, "labels": z["labels"].astype(np.int64), "writer": z["writer"].astype(np.int64)}


def load_bitmaps(name: str) -> dict:
    """``optdigits_32x32`` or ``semeion_16x16`` (or a USPS file path): images, labels, split."""
    z = _load(name)
    return {"images": z["images"], "labels": z["labels"].astype(np.int64), "split": z["split"]}


def default_usps_path() -> Path | None:
    """The USPS file ``$LIVEDIGITS_USPS`` names, or None: USPS is not shipped, so it is read only from a
    file the user names (this, or ``--usps``)."""
    env = os.environ.get(USPS_ENV)
    return Path(env).expanduser() if env else None


# --------------------------------------------------------------------------- drawing strokes


def _smooth(points: np.ndarray, passes: int = 2) -> np.ndarray:
    """Round the corners of a coarsely sampled pen track (corner cutting, ends kept)."""
    for _ in range(passes):
        if len(points) < 3:
            return points
        q = 0.75 * points[:-1] + 0.25 * points[1:]
        r = 0.25 * points[:-1] + 0.75 * points[1:]
        mid = np.empty((2 * len(q), 2), np.float32)
        mid[0::2], mid[1::2] = q, r
        points = np.vstack([points[:1], mid, points[-1:]])
    return points


def _pen_fraction(rng: np.random.Generator, low: float = 0.03, high: float = 0.2) -> float:
    """Pen width as a share of the digit's height, log-uniform: hairline (3%) to thick marker (20%)."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def draw_strokes(strokes, rng: np.random.Generator, height: int = _RENDER, pen: float | None = None,
                 slant: float | None = None, aspect: float | None = None) -> np.ndarray:
    """Draw pen strokes (lists of (x, y) points, y down, any units) as a uint8 ink image about
    ``height`` px tall. Each stroke is its own polyline: pen-up travel is never drawn."""
    allp = np.vstack([np.asarray(s, np.float32) for s in strokes])
    lo, hi = allp.min(0), allp.max(0)
    span = max(float(hi[1] - lo[1]), float(hi[0] - lo[0]) * 0.5, 1e-3)
    scale = height / span
    slant = float(np.clip(rng.normal(0, 0.18), -0.45, 0.45)) if slant is None else slant
    aspect = float(np.exp(rng.normal(0, 0.12))) if aspect is None else aspect
    angle = np.deg2rad(rng.normal(0, 4))
    c, s = np.cos(angle), np.sin(angle)
    # x' = aspect * (x - slant * y) then a small rotation; y down, so a positive slant leans right.
    transform = np.array([[c, -s], [s, c]], np.float32) @ np.array([[aspect, -slant], [0, 1]], np.float32)
    drawn = [((np.asarray(st, np.float32) - lo) * scale) @ transform.T for st in strokes]
    allp = np.vstack(drawn)
    width = max(1, int(round((pen if pen is not None else _pen_fraction(rng)) * height)))
    margin = width + 4
    offset = -allp.min(0) + margin
    size = np.ceil(allp.max(0) - allp.min(0) + 2 * margin).astype(int)
    canvas = np.zeros((int(size[1]) + 1, int(size[0]) + 1), np.uint8)
    shift = 2  # sub-pixel precision for cv2
    for stroke in drawn:
        pts = _smooth(stroke + offset) if len(stroke) > 2 else stroke + offset
        ipts = np.round(pts * (1 << shift)).astype(np.int32)
        if len(ipts) == 1 or np.ptp(pts, axis=0).max() < 0.5:
            cv2.circle(canvas, tuple(int(v) for v in ipts[0]), max(1, width // 2) << shift, 255, -1, cv2.LINE_AA, shift)
        else:
            cv2.polylines(canvas, [ipts.reshape(-1, 1, 2)], False, 255, width, cv2.LINE_AA, shift)
    return canvas


def to_mnist(ink: np.ndarray) -> np.ndarray:
    """An ink image of any size -> a 28x28 uint8 MNIST-style digit (via ``normalize_ink``)."""
    return np.round(normalize_ink(ink) * 255).astype(np.uint8)


# --------------------------------------------------------------------------- procedural styles


def _arc(cx, cy, rx, ry, start_deg, end_deg, n=24):
    t = np.deg2rad(np.linspace(start_deg, end_deg, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _polyline(corners, bow: float = 0.0, per_segment: int = 16) -> np.ndarray:
    """Straight segments through ``corners``, sampled densely so that ``draw_strokes``' corner rounding
    stays at the corners; ``bow`` bends each segment sideways by that share of its length (0: straight)."""
    corners = np.asarray(corners, np.float32)
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False, dtype=np.float32)[:, None]
    parts = []
    for a, b in zip(corners[:-1], corners[1:]):
        d = b - a
        normal = np.array([-d[1], d[0]], np.float32)
        parts.append(a + t * d + bow * np.sin(np.pi * t) * normal)
    return np.vstack(parts + [corners[-1:]])


def style_strokes(style: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Strokes (unit box, y down) of one digit written in ``style`` (a key of ``STYLES``)."""
    j = lambda scale=0.03: rng.normal(0, scale)  # noqa: E731
    if style == "flag1":
        # The continental 1: a STRAIGHT flag from the top of a near-vertical stem, going down-left at
        # 35-62 degrees below horizontal and reaching 20-50% of the height. The angle is what tells it
        # from a 7, whose top is near horizontal (``flat7``); the corner is kept sharp (``_polyline``) so
        # that the pen's rounding does not bend the flag into a 7's curved top.
        angle = np.deg2rad(rng.uniform(FLAG1_ANGLE[0], FLAG1_ANGLE[1]))
        reach = rng.uniform(0.2, 0.5)
        run = min(reach / np.tan(angle), 0.6)
        top = np.array([0.5 + j(), 0.0])
        foot = top + np.array([rng.normal(0, 0.04), 1.0])
        start = top + np.array([-run, run * np.tan(angle)])
        strokes = [_polyline([start, top, foot], bow=0.02 * rng.standard_normal())]
        if rng.random() < 0.25:
            w = rng.uniform(0.15, 0.3)
            strokes.append(np.array([foot + [-w, j(0.01)], foot + [w, j(0.01)]]))
        return strokes
    if style == "flat7":
        # A plain 7 with the top the continental 1 lacks: a bar within 12 degrees of horizontal, as long as
        # 50-90% of the height, and a stem from its right end that may be vertical or slanted to the left.
        bar = rng.uniform(0.5, 0.9)
        tilt = np.deg2rad(rng.uniform(-6, FLAT7_ANGLE))  # positive: the bar's left end lower
        corner = np.array([0.9 + j(), 0.0])
        left = corner + np.array([-bar, bar * np.tan(tilt)])
        foot = corner + np.array([-rng.uniform(0.0, 0.5), 1.0])
        return [_polyline([left, corner, foot], bow=0.03 * rng.standard_normal())]
    if style == "barred7":
        a = np.array([0.05 + j(), 0.05 + j()])
        b = np.array([0.95 + j(), 0.0 + j()])
        c = np.array([rng.uniform(0.25, 0.5), 1.0])
        first = [a, b, c]
        if rng.random() < 0.3:  # a little tick down at the start of the top bar
            first = [a + [0, 0.12 + j(0.02)]] + first
        mid = b + (c - b) * rng.uniform(0.4, 0.6)
        w = rng.uniform(0.18, 0.3)
        return [np.array(first), np.array([mid + [-w, j(0.02)], mid + [w * 0.9, j(0.02)]])]
    if style == "open4":
        cross_y = rng.uniform(0.5, 0.68)
        stem_x = rng.uniform(0.6, 0.75)
        left_top = np.array([rng.uniform(0.05, 0.4), 0.0 + j()])
        arm = [left_top, np.array([0.05 + j(), cross_y]), np.array([0.95 + j(), cross_y + j()])]
        stem = [np.array([stem_x + j(), rng.uniform(0.0, 0.2)]), np.array([stem_x + j(), 1.0])]
        return [np.array(arm), np.array(stem)]
    if style == "bar4":
        # A 4 in one stroke whose upright starts at its bar: down the arm (often bowed), right along a low,
        # short bar, then down, with nothing above the bar's right end; its corners sharp to fully rounded
        # (pendigits test writer 42's 4, read as 5: no training source draws it). A 5 has its top bar and
        # ends at the bottom left; this has no top bar and ends at the bottom right.
        cross_y = rng.uniform(0.45, 0.8)
        right = np.array([rng.uniform(0.35, 1.0), cross_y + rng.uniform(-0.05, 0.12)])
        top = np.array([rng.uniform(0.05, 0.45) * right[0], 0.0 + j()])  # over the bar's left half: no 5's top
        corner = np.array([rng.uniform(0.0, 0.1), cross_y + j()])
        foot = np.array([right[0] + rng.normal(0.02, 0.05), 1.0])
        arm = _polyline([top, corner], bow=rng.uniform(-0.05, 0.25), per_segment=4)  # bowed out to the left
        rest = _polyline([corner, right, foot], bow=0.03 * rng.standard_normal(), per_segment=4)
        # Sharp corners to one smooth curve: the pen's own rounding plus 0-5 more passes of it.
        return [_smooth(np.vstack([arm[:-1], rest]), passes=int(rng.integers(0, 6)))]
    if style == "small6":
        # The counterpart of ``bar4``: a 6 whose stem comes down from the top into a SMALL loop (28-42% of the
        # height) that closes on it, as narrow as tall writers make it. Rounded, it is the nearest 6 to a
        # rounded ``bar4`` (the held-out fonts' and USPS's 6s that the runs taught ``bar4`` read 4,
        # docs/model.md session 30); the loop closing and nothing below it are what tell them apart.
        ry = rng.uniform(0.14, 0.21)
        rx = ry * rng.uniform(0.9, 1.5)
        cx, cy = 0.5, 1.0 - ry
        top = np.array([cx + rng.uniform(-0.1, 0.3), 0.0])
        lead = _polyline([top, np.array([cx - rx * rng.uniform(0.6, 1.0) + j(), 0.5 + j()]), np.array([cx - rx, cy])],
                         bow=0.03 * rng.standard_normal(), per_segment=6)
        loop = _arc(cx, cy, rx, ry, 180, 180 - rng.uniform(330, 360), 26)
        return [_smooth(np.vstack([lead[:-1], loop]), passes=int(rng.integers(0, 4)))]
    if style == "stem9":
        ry, rx = rng.uniform(0.2, 0.28), rng.uniform(0.28, 0.4)
        cx, cy = 0.9 - rx, ry
        loop = _arc(cx, cy, rx, ry, 0, -360, 28)  # from the right side, anticlockwise on paper
        stem = np.array([[cx + rx, cy], [cx + rx + j(0.04), 1.0]])
        return [np.vstack([loop, stem[1:]])]
    if style == "loop2":
        top = _arc(0.5, 0.28, 0.38, 0.28, 200, 360 + 20, 18)
        low = np.array([0.2 + j(), 0.82 + j(0.02)])
        loop = _arc(low[0] + 0.06, low[1] + 0.03, 0.08, 0.07, 200, -140, 14)
        end = np.array([[0.95 + j(), 0.9 + j(0.02)]])
        return [np.vstack([top, low[None], loop, end])]
    if style == "school6":
        r = rng.uniform(0.22, 0.3)
        cx, cy = 0.5, 1.0 - r
        lead = np.array([[0.7 + j(), 0.0], [0.35 + j(), 0.25 + j()], [cx - r, cy]])
        loop = _arc(cx, cy, r * rng.uniform(0.9, 1.2), r, 180, 180 - 340, 26)
        return [np.vstack([lead, loop[1:]])]
    raise ValueError(f"unknown style {style!r}; expected one of {', '.join(STYLES)}")


def render_style(style: str, rng: np.random.Generator) -> np.ndarray:
    strokes = style_strokes(style, rng)
    if style == "flag1":  # a near-vertical stem: a strong slant or a wide aspect would flatten the flag into a 7's top
        slant = float(np.clip(rng.normal(0.04, 0.07), -0.1, 0.18))
        aspect = float(np.clip(np.exp(rng.normal(0, 0.08)), 0.85, 1.15))
        return to_mnist(draw_strokes(strokes, rng, slant=slant, aspect=aspect))
    if style == "bar4":  # a strong slant would carry the top over the bar's right end, where a 5's top bar is
        return to_mnist(draw_strokes(strokes, rng, slant=float(np.clip(rng.normal(0.05, 0.1), -0.15, 0.25))))
    if style == "flat7":  # its stem goes down to the left or straight down, never to the right
        return to_mnist(draw_strokes(strokes, rng, slant=float(np.clip(rng.normal(0.1, 0.12), -0.05, 0.4))))
    return to_mnist(draw_strokes(strokes, rng))


# --------------------------------------------------------------------------- fonts


@lru_cache(maxsize=64)
def _font(family: str, size: int):
    """A Fontsource family of ``FONT_DIR`` by name, or a font file by its path (``synth.worksheet``'s other
    hands)."""
    from PIL import ImageFont

    if family.endswith((".ttf", ".otf")):
        return ImageFont.truetype(family, size)
    return ImageFont.truetype(str(FONT_DIR / f"{family}-latin-400-normal.woff"), size)


def draw_glyph(char: str, family: str, rng: np.random.Generator, size: int = _RENDER, max_grow: int = 3) -> np.ndarray:
    """One character of a handwriting font as uint8 ink: pen width changed (thickened by up to
    ``max_grow`` px, or thinned), slanted, rotated, elastically bent."""
    from PIL import Image, ImageDraw

    font = _font(family, size)
    canvas = Image.new("L", (size * 2, size * 2), 0)
    grow = int(rng.choice([0, 0] + list(range(1, max_grow + 1))))
    ImageDraw.Draw(canvas).text((size // 2, size // 4), char, font=font, fill=255, stroke_width=grow, stroke_fill=255)
    ink = np.asarray(canvas, np.uint8)
    if rng.random() < 0.3:
        ink = cv2.erode(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
        if not ink.any():
            ink = np.asarray(canvas, np.uint8)
    h, w = ink.shape
    slant = float(np.clip(rng.normal(0, 0.15), -0.4, 0.4))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.normal(0, 6)), 1.0)
    matrix[0, 1] += -slant
    matrix[0, 2] += slant * h / 2
    ink = cv2.warpAffine(ink, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    return elastic(ink, rng, amplitude=size * rng.uniform(0.02, 0.06), sigma=size * 0.12)


def render_font_digit(digit: int, family: str, rng: np.random.Generator) -> np.ndarray:
    return to_mnist(draw_glyph(str(digit), family, rng))


# --------------------------------------------------------------------------- bitmaps


def unstretch(image: np.ndarray, label: int, rng: np.random.Generator, height: int = _RENDER) -> np.ndarray:
    """Undo the stretch-to-box of optdigits/semeion: a plausible width for the digit (a 1 much
    narrower than the rest), smoothed edges; uint8 ink ``height`` px tall."""
    aspect = rng.uniform(0.12, 0.3) if label == 1 else rng.uniform(0.55, 0.85)
    ys, xs = np.nonzero(image > 127)
    if ys.size == 0:
        return np.zeros((height, height), np.uint8)
    box = image[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    width = max(2, int(round(height * aspect)))
    big = cv2.resize(box, (width, height), interpolation=cv2.INTER_LINEAR)
    big = cv2.GaussianBlur(big, (0, 0), max(0.8, height / box.shape[0] * 0.35))
    return cv2.copyMakeBorder(big, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=0)


# --------------------------------------------------------------------------- training pool and validation


def _pendigits_indices(train: bool) -> np.ndarray:
    writers = load_pendigits()["writer"]
    wanted = PENDIGITS_TRAIN_WRITERS if train else PENDIGITS_TEST_WRITERS
    return np.nonzero((writers >= wanted.start) & (writers < wanted.stop))[0]


def training_pool(seed: int = 0, scale: float = 1.0, log=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render the non-MNIST training digits once: ``(images uint8 (N, 28, 28), labels, source names)``.

    Per unit of ``scale``: every pendigits training sample twice (two pens), every optdigits training and
    semeion bitmap twice (two widths), 300 of each digit per training font family and ``STYLE_COUNTS``
    of each style. ``scale`` < 1 subsamples (quick checks). Seeded: the same seed gives the same pool.
    """
    rng = np.random.default_rng((seed, 7))
    images, labels, sources = [], [], []

    def add(name, image, label):
        images.append(image)
        labels.append(label)
        sources.append(name)

    def count(n):
        return max(1, int(round(n * scale)))

    pen = load_pendigits()
    ids = _pendigits_indices(train=True)
    for i in rng.choice(ids, size=count(2 * len(ids)), replace=2 * scale > 1):
        add("pendigits", to_mnist(draw_strokes(pen["strokes"][i], rng)), int(pen["labels"][i]))
    for name in ("optdigits_32x32", "semeion_16x16"):
        bm = load_bitmaps(name)
        ids = np.nonzero(bm["split"] == "train")[0]
        for i in rng.choice(ids, size=count(2 * len(ids)), replace=2 * scale > 1):
            add(name.split("_")[0], to_mnist(unstretch(bm["images"][i], int(bm["labels"][i]), rng)), int(bm["labels"][i]))
    for family in TRAIN_FAMILIES:
        for digit in range(10):
            for _ in range(count(300)):
                add("fonts", render_font_digit(digit, family, rng), digit)
    for style, digit in STYLES.items():
        for _ in range(count(STYLE_COUNTS.get(style, 800))):
            add(f"styles/{style}", render_style(style, rng), digit)
    x = np.stack(images)
    keep = x.reshape(len(x), -1).max(1) > 0
    if log:
        log(f"non-MNIST training pool: {int(keep.sum())} digits ({', '.join(f'{s} {n}' for s, n in zip(*np.unique(np.array(sources)[keep], return_counts=True)))})")
    return x[keep], np.array(labels, np.int64)[keep], np.array(sources)[keep]


def validation_sets(seed: int = 0, usps: str | os.PathLike | None = None, limit: int | None = None) -> dict:
    """Held-out non-MNIST digits, each ``name -> (images uint8 (N, 28, 28), labels)``.

    ``pendigits_test``: writers 30-43 drawn with an ordinary pen (4% to 15% of the digit's height),
    then through the camera distortions (seeded). The camera's own thinning and thickening come on
    top, so the hairlines and markers of the training pool are left out here: a hairline thinned
    again breaks into fragments no reader could name. ``optdigits_windep``: optdigits' writer-independent test set, unstretched, normalised.
    ``usps_test``: USPS test, normalised (only when ``usps`` or ``default_usps_path()`` names a file).
    ``fonts_heldout``: the ``VALIDATION_FAMILIES``, 100 of each digit each, thickened by at most 1 px
    (then the camera may thicken them again), through the camera distortions.
    ``limit``: at most that many per set (quick checks).
    """
    from livedigits.train.augment import AugmentConfig, as_seen_by_camera

    rng = np.random.default_rng((seed, 11))
    cfg = AugmentConfig()

    def camera(ink):
        crop = normalize_ink(as_seen_by_camera(ink.astype(np.float32) / 255.0, rng, cfg, cfg.low_res_digits))
        if crop.max() == 0:  # the threshold erased a hairline: keep the clean drawing
            crop = normalize_ink(ink)
        return np.round(crop * 255).astype(np.uint8)

    sets = {}
    pen = load_pendigits()
    ids = _pendigits_indices(train=False)[:limit]
    sets["pendigits_test"] = (np.stack([camera(draw_strokes(pen["strokes"][i], rng, pen=_pen_fraction(rng, 0.04, 0.15)))
                                        for i in ids]), pen["labels"][ids])
    opt = load_bitmaps("optdigits_32x32")
    ids = np.nonzero(opt["split"] == "test")[0][:limit]
    sets["optdigits_windep"] = (
        np.stack([to_mnist(unstretch(opt["images"][i], int(opt["labels"][i]), rng)) for i in ids]), opt["labels"][ids])
    usps_path = Path(usps) if usps else default_usps_path()
    if usps_path is not None:
        with np.load(usps_path, allow_pickle=False) as z:
            test = np.nonzero(z["split"] == "test")[0][:limit]
            sets["usps_test"] = (np.stack([to_mnist(cv2.resize(im, (64, 64), interpolation=cv2.INTER_CUBIC))
                                           for im in z["images"][test]]), z["labels"][test].astype(np.int64))
    per = 100 if limit is None else max(1, limit // (10 * len(VALIDATION_FAMILIES)))
    fx, fy = [], []
    for family in VALIDATION_FAMILIES:
        for digit in range(10):
            for _ in range(per):
                fx.append(camera(draw_glyph(str(digit), family, rng, max_grow=1)))
                fy.append(digit)
    sets["fonts_heldout"] = (np.stack(fx), np.array(fy, np.int64))
    return sets

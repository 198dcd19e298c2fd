"""Non-digit marks a camera sees on paper: letters, signs, lines, grid pieces, smudges.

Used to train the "not a digit" class (``draw_training_mark``, and ``negatives``: marks distorted as
the camera distorts digits) and to place distractors in
synthetic scenes (``draw_mark``, the smaller set of clearly non-digit marks). Every function draws
white ink on a black uint8 canvas.

Training letters: the ones segmentation meets beside numbers and must reject, drawn with OpenCV's
Hershey fonts or with the handwriting fonts that train the digits (``writers.TRAIN_FAMILIES``).
A, T, K, b, g and q are in, although a sloppy one can pass for a 4, 7, 6 or 9: they are written
often next to numbers, and in isolation they still differ from those digits (the bar of a T sits
centred on its stem, b and q have a stem taller than a 6 or 9 loop allows, g a hooked tail).
Letters that are *identical* to digits in isolation are left out on purpose: O o D Q (0), I l i
(1), S s (5), Z z (2), B (8). Trained as "not a digit", they would swallow real digits; telling
"O" from "0" needs the neighbouring characters, which is the reading stage's job, not this one's.

Signs: + - x = * % and the slash and parentheses. A slash is drawn leaning at least 45 degrees
from upright (the camera distortion may tilt it back by up to 30) and parentheses as clearly
bowed arcs, so a slanted or curved 1 is not taught as a reject. Grid pieces are fragments of
squared-paper lines (crosses, L-corners, T-junctions, horizontal lines; never a lone upright
line, which is a 1, nor a corner shaped like a 7). Show-through is the faint, blotchy texture of
writing on the back of the sheet.
"""

from __future__ import annotations

import cv2
import numpy as np

from livedigits.train.augment import AugmentConfig, as_seen_by_camera
from livedigits.vision.normalize import CROP_SIZE, normalize_ink

# Letters that are easy to tell from digits in handwriting (synthetic scenes draw these as distractors).
LETTERS = "CEFHKMNRVWXcefkmrvwx"
SIGNS = ("+", "=", "x", "-", "%", "*")
MARK_KINDS = ("letter", "sign", "line", "smudge", "hatch", "dots")
MARK_WEIGHTS = (0.4, 0.25, 0.1, 0.1, 0.1, 0.05)

# What the "not a digit" class trains on: the above, plus letters met next to numbers that come close
# to a digit (A T b g q), the slash and parentheses, grid pieces and show-through. Left out on
# purpose, because some writers' digits are identical to them (see the module docstring):
# O o D Q d (0), I l i j t (1, 4), S s (5), Z z (2), B (8), G P p (6, 9), U u y Y h n (an open 4), a (9).
TRAINING_LETTERS = LETTERS + "ATbgq"
TRAINING_SIGNS = SIGNS + ("/", "(", ")")
TRAINING_KINDS = MARK_KINDS + ("grid", "showthrough")
TRAINING_WEIGHTS = (0.3, 0.2, 0.07, 0.08, 0.08, 0.05, 0.13, 0.09)

_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
)


def _stroke(rng: np.random.Generator, size: int) -> int:
    return max(1, int(round(size * rng.uniform(0.04, 0.12))))


def _line(canvas, p, q, thickness):
    cv2.line(canvas, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), 255, thickness, cv2.LINE_AA)


def draw_letter(rng: np.random.Generator, size: int, char: str | None = None) -> np.ndarray:
    char = char or str(rng.choice(list(LETTERS)))
    font = int(rng.choice(_FONTS))
    canvas = np.zeros((size * 2, size * 2), np.uint8)
    thickness = max(1, int(round(size * rng.uniform(0.03, 0.09))))
    scale = cv2.getFontScaleFromHeight(font, size, thickness)
    (tw, th), _ = cv2.getTextSize(char, font, scale, thickness)
    cv2.putText(canvas, char, ((2 * size - tw) // 2, (2 * size + th) // 2), font, scale, 255, thickness, cv2.LINE_AA)
    return _jitter(canvas, rng)


def draw_sign(rng: np.random.Generator, size: int, sign: str | None = None) -> np.ndarray:
    sign = sign or str(rng.choice(SIGNS))
    canvas = np.zeros((size, size), np.uint8)
    t = _stroke(rng, size)
    m, c = size * 0.15, size / 2
    a, b = m, size - m
    if sign == "+":
        _line(canvas, (a, c), (b, c), t); _line(canvas, (c, a), (c, b), t)
    elif sign == "=":
        gap = size * rng.uniform(0.12, 0.22)
        _line(canvas, (a, c - gap), (b, c - gap), t); _line(canvas, (a, c + gap), (b, c + gap), t)
    elif sign == "x" or sign == "*":
        _line(canvas, (a, a), (b, b), t); _line(canvas, (a, b), (b, a), t)
        if sign == "*":
            _line(canvas, (c, a), (c, b), t)
    elif sign == "-":
        _line(canvas, (a, c), (b, c), t)
    elif sign == "/":
        lean = np.tan(np.deg2rad(rng.uniform(45, 65))) * (b - a) / 2
        _line(canvas, (c - lean, b), (c + lean, a), t)
    elif sign in "()":
        sweep = rng.uniform(100, 150)  # degrees of arc: clearly bowed, never a straight stroke
        radius = (b - a) / 2 / np.sin(np.deg2rad(sweep / 2))
        start = 180 - sweep / 2 if sign == "(" else -sweep / 2
        angles = np.deg2rad(np.linspace(start, start + sweep, 24))
        pts = np.stack([radius * np.cos(angles), c + radius * np.sin(angles)], 1)
        pts[:, 0] += c - (pts[:, 0].min() + pts[:, 0].max()) / 2
        cv2.polylines(canvas, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], False, 255, t, cv2.LINE_AA)
    elif sign == "%":
        _line(canvas, (b, a), (a, b), t)
        r = max(2, int(size * 0.1))
        cv2.circle(canvas, (int(a + r), int(a + r)), r, 255, t, cv2.LINE_AA)
        cv2.circle(canvas, (int(b - r), int(b - r)), r, 255, t, cv2.LINE_AA)
    return _jitter(canvas, rng)


def draw_line(rng: np.random.Generator, size: int) -> np.ndarray:
    """A piece of a ruled line or an underline: long, thin, nearly straight."""
    canvas = np.zeros((size, size * 3), np.uint8)
    y = size / 2 + rng.normal(0, size * 0.05)
    tilt = rng.normal(0, size * 0.05)
    _line(canvas, (0, y - tilt), (size * 3 - 1, y + tilt), _stroke(rng, size))
    return canvas


def draw_smudge(rng: np.random.Generator, size: int) -> np.ndarray:
    """A blot: a filled blob of random ellipses, optionally smeared."""
    canvas = np.zeros((size, size), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        centre = (int(rng.uniform(0.3, 0.7) * size), int(rng.uniform(0.3, 0.7) * size))
        axes = (int(rng.uniform(0.1, 0.35) * size) + 1, int(rng.uniform(0.1, 0.35) * size) + 1)
        cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA)
    k = int(size * 0.1) | 1
    return cv2.GaussianBlur(canvas, (k, k), 0) if rng.random() < 0.5 else canvas


def draw_hatch(rng: np.random.Generator, size: int) -> np.ndarray:
    """Scribbled-out ink: several parallel or crossing strokes."""
    canvas = np.zeros((size, size), np.uint8)
    t = _stroke(rng, size)
    angle = rng.uniform(0, np.pi)
    n = int(rng.integers(3, 7))
    for i in range(n):
        off = (i - n / 2) * size / (n + 1)
        dx, dy = np.cos(angle), np.sin(angle)
        cx, cy = size / 2 - dy * off, size / 2 + dx * off
        _line(canvas, (cx - dx * size * 0.45, cy - dy * size * 0.45), (cx + dx * size * 0.45, cy + dy * size * 0.45), t)
    if rng.random() < 0.5:
        return np.maximum(canvas, cv2.rotate(canvas, cv2.ROTATE_90_CLOCKWISE))
    return canvas


def draw_dots(rng: np.random.Generator, size: int) -> np.ndarray:
    """A cluster of dots: a colon, an ellipsis, pen taps."""
    canvas = np.zeros((size, size), np.uint8)
    r = max(1, int(size * rng.uniform(0.05, 0.1)))
    for _ in range(int(rng.integers(2, 5))):
        cv2.circle(canvas, (int(rng.uniform(0.15, 0.85) * size), int(rng.uniform(0.15, 0.85) * size)), r, 255, -1, cv2.LINE_AA)
    return canvas


def draw_grid(rng: np.random.Generator, size: int) -> np.ndarray:
    """A piece of squared paper's printed lines as a crop cuts it: a cross, an L-corner, a
    T-junction or a short line; thin, straight, running to the crop's edge."""
    canvas = np.zeros((size, size), np.uint8)
    t = max(1, int(round(size * rng.uniform(0.015, 0.05))))
    x = size * rng.uniform(0.2, 0.8)
    y = size * rng.uniform(0.2, 0.8)
    shape = str(rng.choice(["cross", "corner", "tee", "line", "double"]))
    end = size - 1
    if shape == "cross":
        _line(canvas, (0, y), (end, y), t); _line(canvas, (x, 0), (x, end), t)
    elif shape == "corner":
        right, down = rng.random() < 0.5, rng.random() < 0.5
        if not right and down:  # a right-angled 7 in all but name: turn it into an L instead
            right = True
        _line(canvas, (x, y), (end if right else 0, y), t); _line(canvas, (x, y), (x, end if down else 0), t)
    elif shape == "tee":
        _line(canvas, (0, y), (end, y), t); _line(canvas, (x, y), (x, end if rng.random() < 0.5 else 0), t)
    elif shape == "line":  # horizontal only: a lone upright line is a 1
        _line(canvas, (0, y), (end, y), t)
    else:  # two parallel lines, one grid square apart
        gap = size * rng.uniform(0.3, 0.6)
        _line(canvas, (0, y - gap / 2), (end, y - gap / 2), t); _line(canvas, (0, y + gap / 2), (end, y + gap / 2), t)
        if rng.random() < 0.5:
            _line(canvas, (x, 0), (x, end), t)
    angle = rng.normal(0, 4)
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1.0)
    return cv2.warpAffine(canvas, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)


def draw_showthrough(rng: np.random.Generator, size: int) -> np.ndarray:
    """Faint, blotchy texture: writing on the back of the sheet seen through it, or paper grain,
    after a threshold picked it up. Patchy specks and broken stroke pieces, no clean line."""
    cells = max(3, size // int(rng.integers(4, 9)))
    noise = cv2.resize(rng.random((cells, cells)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    noise = cv2.GaussianBlur(noise, (0, 0), size * 0.03 + 0.5)
    canvas = (noise > np.quantile(noise, rng.uniform(0.7, 0.9))).astype(np.uint8) * 255
    if rng.random() < 0.5:  # a blurred, mirrored stroke piece broken by the grain
        stroke = np.zeros_like(canvas)
        pts = np.cumsum(rng.normal(0, size * 0.12, (5, 2)), 0) + size / 2
        cv2.polylines(stroke, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], False, 255, _stroke(rng, size), cv2.LINE_AA)
        grain = rng.random(canvas.shape) < rng.uniform(0.4, 0.7)
        canvas = np.maximum(canvas // 2, np.where(grain, stroke, 0).astype(np.uint8))
    return cv2.GaussianBlur(canvas, (0, 0), rng.uniform(0.5, 1.5))


_DRAWERS = {
    "letter": draw_letter,
    "sign": draw_sign,
    "line": draw_line,
    "smudge": draw_smudge,
    "hatch": draw_hatch,
    "dots": draw_dots,
    "grid": draw_grid,
    "showthrough": draw_showthrough,
}


def draw_mark(rng: np.random.Generator, size: int = 64, kind: str | None = None) -> np.ndarray:
    """Draw one non-digit mark of ``kind`` (random among ``MARK_KINDS`` if None) about ``size`` px tall."""
    kind = kind or str(rng.choice(MARK_KINDS, p=MARK_WEIGHTS))
    if kind not in _DRAWERS:
        raise ValueError(f"unknown mark kind {kind!r}; expected one of {TRAINING_KINDS}")
    return _DRAWERS[kind](rng, size)


def draw_training_mark(rng: np.random.Generator, size: int = 64, kind: str | None = None) -> np.ndarray:
    """One mark for the "not a digit" class: ``TRAINING_KINDS`` (random if None), letters from
    ``TRAINING_LETTERS`` (half of them in a handwriting font) and signs from ``TRAINING_SIGNS``."""
    kind = kind or str(rng.choice(TRAINING_KINDS, p=TRAINING_WEIGHTS))
    if kind == "letter":
        char = str(rng.choice(list(TRAINING_LETTERS)))
        if rng.random() < 0.5:
            from livedigits.train.writers import TRAIN_FAMILIES, draw_glyph

            return draw_glyph(char, str(rng.choice(TRAIN_FAMILIES)), rng, size=max(24, size))
        return draw_letter(rng, size, char)
    if kind == "sign":
        return draw_sign(rng, size, str(rng.choice(TRAINING_SIGNS)))
    return draw_mark(rng, size, kind)


# --------------------------------------------------------------------------- letters as negatives

#: Letters taught to the "not a digit" class by ``--letters`` (``letter_negatives``), chosen by principle
#: and by measurement (docs/model.md has the figures): in are the letters that no usual way of writing a
#: digit matches, even those the shipped model read surely as digits (Y as 4, b as 6, a as 9, A and H
#: as 4, P and p as 8). ``LETTER_LOOKALIKES`` stay out: each is *one* usual way of writing a digit, so
#: only the neighbours can tell them apart (the reading stage's job): O o D Q (0), I l i j (1), Z z (2),
#: S s (5), B (8), q (a straight-stem 9, exactly the ``stem9`` style the digits train on), g (a 9
#: whose tail curls), U u y (an open-topped 4). A first run with L, J, t and G in rejected more digits
#: (MNIST 99.46%): the nearest training letters to the digits it newly rejected were L and t (a 1 with
#: a foot or a flag), J (a 9 or 1 whose stem hooks) and G (an open 6 or 5), so they are lookalikes too.
LETTER_NEGATIVES = "ACEFHKMNPRTVWXYabcdefhkmnprvwx"
LETTER_LOOKALIKES = "ODQoIlijZzSsBqgUuyLJtG"
#: Where the letters of ``draw_training_letter`` come from: the training handwriting fonts
#: (``writers.TRAIN_FAMILIES``, never the validation families nor Debian's handwriting fonts, which
#: measure), pen strokes drawn as the digits' procedural styles are (``letter_strokes``), and Hershey
#: print (printed words beside the numbers).
LETTER_SOURCES = ("font", "strokes", "hershey")
LETTER_SOURCE_WEIGHTS = (0.4, 0.35, 0.25)


def _letter_arc(cx, cy, rx, ry, start_deg, end_deg, n=20):
    t = np.deg2rad(np.linspace(start_deg, end_deg, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _letter_shapes() -> dict[str, list[np.ndarray]]:
    """Pen strokes of each of ``LETTER_NEGATIVES`` (unit box, y down): capitals 0 to 1 tall, lowercase
    with the x-height from 0.45 to 1, ascenders from 0 and descenders to 1.45."""
    a, P = _letter_arc, lambda *pts: np.array(pts, np.float32)  # noqa: E731
    bowl_p = np.vstack([P((0, 1), (0, 0), (0.4, 0)), a(0.4, 0.25, 0.32, 0.25, -90, 90, 14), P((0, 0.5))])
    return {
        "A": [P((0, 1), (0.4, 0), (0.8, 1)), P((0.17, 0.62), (0.63, 0.62))],
        "C": [a(0.45, 0.5, 0.45, 0.5, -40, -320)],
        "E": [P((0.7, 0), (0, 0), (0, 1), (0.7, 1)), P((0, 0.5), (0.55, 0.5))],
        "F": [P((0.7, 0), (0, 0), (0, 1)), P((0, 0.48), (0.55, 0.48))],
        "H": [P((0, 0), (0, 1)), P((0.7, 0), (0.7, 1)), P((0, 0.5), (0.7, 0.5))],
        "K": [P((0, 0), (0, 1)), P((0.7, 0), (0, 0.55)), P((0.22, 0.42), (0.75, 1))],
        "M": [P((0, 1), (0, 0), (0.4, 0.65), (0.8, 0), (0.8, 1))],
        "N": [P((0, 1), (0, 0), (0.7, 1), (0.7, 0))],
        "P": [bowl_p],
        "R": [bowl_p, P((0.3, 0.5), (0.75, 1))],
        "T": [P((0, 0), (0.8, 0)), P((0.4, 0), (0.4, 1))],
        "V": [P((0, 0), (0.4, 1), (0.8, 0))],
        "W": [P((0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0))],
        "X": [P((0, 0), (0.75, 1)), P((0.75, 0), (0, 1))],
        "Y": [P((0, 0), (0.4, 0.5), (0.8, 0)), P((0.4, 0.5), (0.4, 1))],
        "a": [a(0.3, 0.72, 0.3, 0.27, -20, -360), P((0.6, 0.45), (0.6, 1))],
        "b": [P((0, 0), (0, 1)), a(0.3, 0.73, 0.3, 0.27, 0, 360)],
        "c": [a(0.3, 0.72, 0.3, 0.28, -40, -320)],
        "d": [P((0.6, 0), (0.6, 1)), a(0.3, 0.73, 0.3, 0.27, 0, 360)],
        "e": [np.vstack([P((0.02, 0.72), (0.6, 0.72)), a(0.3, 0.72, 0.3, 0.28, 0, -315)])],
        "f": [np.vstack([a(0.45, 0.2, 0.2, 0.2, -20, -180, 10), P((0.25, 1))]), P((0.05, 0.45), (0.5, 0.45))],
        "h": [P((0, 0), (0, 1)), np.vstack([P((0, 0.7)), a(0.28, 0.7, 0.28, 0.22, 180, 360, 12), P((0.56, 1))])],
        "k": [P((0, 0), (0, 1)), P((0.5, 0.45), (0, 0.75), (0.55, 1))],
        "m": [P((0, 0.45), (0, 1)), np.vstack([a(0.2, 0.65, 0.2, 0.18, 180, 360, 10), P((0.4, 1))]),
              np.vstack([a(0.6, 0.65, 0.2, 0.18, 180, 360, 10), P((0.8, 1))])],
        "n": [P((0, 0.45), (0, 1)), np.vstack([a(0.28, 0.68, 0.28, 0.22, 180, 360, 12), P((0.56, 1))])],
        "p": [P((0, 0.45), (0, 1.45)), a(0.3, 0.72, 0.3, 0.27, 0, 360)],
        "r": [P((0, 0.45), (0, 1)), np.vstack([P((0, 0.72)), a(0.3, 0.68, 0.3, 0.2, 180, 300, 8)])],
        "v": [P((0, 0.45), (0.3, 1), (0.6, 0.45))],
        "w": [P((0, 0.45), (0.18, 1), (0.35, 0.6), (0.52, 1), (0.7, 0.45))],
        "x": [P((0, 0.45), (0.55, 1)), P((0.55, 0.45), (0, 1))],
    }


_LETTER_SHAPES: dict[str, list[np.ndarray]] = {}


def letter_strokes(char: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Pen strokes of ``char`` (one of ``LETTER_NEGATIVES``), each point moved a little as a hand does."""
    if not _LETTER_SHAPES:
        _LETTER_SHAPES.update(_letter_shapes())
    if char not in _LETTER_SHAPES:
        raise ValueError(f"no strokes for {char!r}; letters drawn: {LETTER_NEGATIVES}")
    wobble = rng.uniform(0.01, 0.04)
    return [s + rng.normal(0, wobble, s.shape).astype(np.float32) for s in _LETTER_SHAPES[char]]


def draw_training_letter(rng: np.random.Generator, size: int = 64, char: str | None = None) -> np.ndarray:
    """One of ``LETTER_NEGATIVES`` (random if None) as uint8 ink about ``size`` px tall, from one of
    ``LETTER_SOURCES``: a training handwriting font, pen strokes, or Hershey print."""
    from livedigits.train.writers import TRAIN_FAMILIES, _pen_fraction, draw_glyph, draw_strokes

    char = char or str(rng.choice(list(LETTER_NEGATIVES)))
    source = str(rng.choice(LETTER_SOURCES, p=LETTER_SOURCE_WEIGHTS))
    if source == "font":
        return draw_glyph(char, str(rng.choice(TRAIN_FAMILIES)), rng, size=max(24, size))
    if source == "strokes":
        return draw_strokes(letter_strokes(char, rng), rng, height=max(24, size), pen=_pen_fraction(rng, 0.04, 0.15))
    return draw_letter(rng, size, char)


def letter_negatives(count: int, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """``count`` normalised crops of ``LETTER_NEGATIVES``, float32 ``(count, 28, 28)``, distorted like live
    crops. Training must not mirror them: a mirrored E is a flat-topped 3, a mirrored P a 9."""
    out = np.empty((count, CROP_SIZE, CROP_SIZE), np.float32)
    for i in range(count):
        ink = draw_training_letter(rng, size=int(rng.integers(28, 96))).astype(np.float32) / 255.0
        out[i] = normalize_ink(as_seen_by_camera(ink, rng, cfg, low_res_probability=cfg.low_res_marks))
    return out


def _jitter(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Small rotation and shear, as a hand writes."""
    h, w = canvas.shape
    angle = rng.normal(0, 8)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[0, 1] += rng.normal(0, 0.15)
    return cv2.warpAffine(canvas, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)


def negatives(count: int, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """``count`` normalised crops of non-digit marks, float32 ``(count, 28, 28)``, distorted like live crops."""
    out = np.empty((count, CROP_SIZE, CROP_SIZE), np.float32)
    for i in range(count):
        mark = draw_training_mark(rng, size=int(rng.integers(28, 96))).astype(np.float32) / 255.0
        out[i] = normalize_ink(as_seen_by_camera(mark, rng, cfg, low_res_probability=cfg.low_res_marks))
    return out

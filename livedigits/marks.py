"""Non-digit marks a camera sees on paper: letters, signs, lines, smudges.

Used to train the "not a digit" class and to place distractors in synthetic
scenes. Every function draws white ink on a black uint8 canvas.
"""

from __future__ import annotations

import cv2
import numpy as np

# Letters that are easy to tell from digits in handwriting. Left out on purpose, because some
# writers' digits look just like them and a reject class trained on them would swallow those digits:
# O o D Q d (0), I l i j T t (1, 7, 4), S s (5), Z z (2), B (8), g q b G P p (9, 6),
# U u y Y h n (an open-topped 4), A (4), a (9).
LETTERS = "CEFHKMNRVWXcefkmrvwx"
# No "/": a slash is a slanted 1 in all but name.
SIGNS = ("+", "=", "x", "-", "%", "*")
MARK_KINDS = ("letter", "sign", "line", "smudge", "hatch", "dots")

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


_DRAWERS = {
    "letter": draw_letter,
    "sign": draw_sign,
    "line": draw_line,
    "smudge": draw_smudge,
    "hatch": draw_hatch,
    "dots": draw_dots,
}


def draw_mark(rng: np.random.Generator, size: int = 64, kind: str | None = None) -> np.ndarray:
    """Draw one non-digit mark of ``kind`` (random if None) about ``size`` px tall."""
    kind = kind or str(rng.choice(MARK_KINDS, p=(0.4, 0.25, 0.1, 0.1, 0.1, 0.05)))
    if kind not in _DRAWERS:
        raise ValueError(f"unknown mark kind {kind!r}; expected one of {MARK_KINDS}")
    return _DRAWERS[kind](rng, size)


def _jitter(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Small rotation and shear, as a hand writes."""
    h, w = canvas.shape
    angle = rng.normal(0, 8)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[0, 1] += rng.normal(0, 0.15)
    return cv2.warpAffine(canvas, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)

"""Train the printed-digit model: is a crop read as a digit type or handwriting? (``classify.printed``)

Type: every digit of the printed (not handwriting) fonts found on this machine: the Debian packages
``fonts-dejavu-core``, ``fonts-liberation2``, ``fonts-freefont-ttf`` and ``fonts-urw-base35`` (calligraphic
and symbol faces left out), and OpenCV's Hershey fonts (upright and italic; the script ones, which imitate a
hand, left out). Handwriting: ``writers.training_pool`` (pendigits training writers, optdigits, semeion, the
training handwriting fonts and the procedural styles); never the validation font families, the pendigits
test writers or Debian's handwriting fonts, which the generated pages of ``livedigits stress`` are drawn
with or kept for evaluation.

Both kinds go through one degradation before they are cut like a live crop: turned a little, sheared, shrunk
to a digit height of a frame (12-56 px), blurred and thresholded at a random level into a mask, then
``normalize_ink``. So the model cannot tell them apart by how they were rendered, only by their shape: type
has straight strokes, exact curves, serifs and an upright axis; no hand has.

The model is a small perceptron (784 inputs, ``HIDDEN`` units, one output) trained with NumPy (Adam, a
few epochs, about a minute on one core); it is written as ``models/printed.npz``. Run::

    python -m livedigits.train.printed [--out models/printed.npz] [--seed 0]
"""

from __future__ import annotations

import argparse
import glob
import math
import os
from pathlib import Path

import cv2
import numpy as np

from livedigits.vision.normalize import normalize_ink

#: Hidden units of the perceptron.
HIDDEN = 48
#: Font files searched for printed digits, and the faces left out of them (calligraphy, symbols, dingbats).
FONT_GLOBS = ("/usr/share/fonts/truetype/dejavu/*.ttf", "/usr/share/fonts/truetype/liberation2/*.ttf",
              "/usr/share/fonts/truetype/freefont/*.ttf", "/usr/share/fonts/opentype/urw-base35/*.otf")
LEFT_OUT = ("Z003", "StandardSymbols", "D050000L", "MathTeX")
HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
           cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL)


def font_files() -> list[str]:
    files = sorted(f for pattern in FONT_GLOBS for f in glob.glob(pattern))
    return [f for f in files if not any(bad in os.path.basename(f) for bad in LEFT_OUT)]


def _ttf_digit(path: str, digit: int, rng: np.random.Generator) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(path, 72)
    canvas = Image.new("L", (160, 160), 0)
    ImageDraw.Draw(canvas).text((40, 20), str(digit), fill=255, font=font)
    return np.asarray(canvas)


def _hershey_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    font = HERSHEY[int(rng.integers(len(HERSHEY)))] | (cv2.FONT_ITALIC if rng.random() < 0.2 else 0)
    canvas = np.zeros((160, 160), np.uint8)
    scale = 2.2
    thickness = int(rng.integers(1, 9))
    cv2.putText(canvas, str(digit), (40, 120), font, scale, 255, thickness, cv2.LINE_AA)
    return canvas


def degrade(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An ink image (bright on dark, any size) -> the 28x28 float32 crop a camera frame would give of it."""
    points = cv2.findNonZero((ink > 40).astype(np.uint8))
    if points is None:
        return np.zeros((28, 28), np.float32)
    x, y, w, h = cv2.boundingRect(points)
    pad = max(w, h) // 3 + 4
    ink = cv2.copyMakeBorder(ink[y: y + h, x: x + w], pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    ih, iw = ink.shape
    angle = math.radians(rng.uniform(-5, 5))
    shear = rng.uniform(-0.12, 0.12)
    m = np.array([[math.cos(angle), -math.sin(angle) + shear, 0], [math.sin(angle), math.cos(angle), 0]], np.float32)
    m[:, 2] = np.array([iw / 2, ih / 2]) - m[:, :2] @ np.array([iw / 2, ih / 2])
    ink = cv2.warpAffine(ink, m, (iw, ih), flags=cv2.INTER_LINEAR)
    height = rng.uniform(12, 56)
    scale = height / max(h, 1)
    small = cv2.resize(ink, (max(2, int(round(iw * scale))), max(2, int(round(ih * scale)))), interpolation=cv2.INTER_AREA)
    sigma = rng.uniform(0.0, 1.0)
    if sigma > 0.3:
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    mask = (small > rng.uniform(0.25, 0.6) * max(1, int(small.max()))).astype(np.uint8) * 255
    return normalize_ink(mask)


def dataset(seed: int = 0, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``(crops (N, 28, 28) float32, printed (N,) 0/1)``: type and handwriting in about equal numbers."""
    from livedigits.train.writers import training_pool

    rng = np.random.default_rng((seed, 19))
    hand, _, _ = training_pool(seed, scale=0.5 * scale)
    crops = [degrade(cv2.resize(img, (84, 84), interpolation=cv2.INTER_LINEAR), rng) for img in hand]
    labels = [0] * len(crops)
    fonts = font_files()
    per_font = max(1, int(round(len(hand) * 0.6 / (10 * max(1, len(fonts))))))
    renders = {}
    for path in fonts:
        for digit in range(10):
            renders[(path, digit)] = _ttf_digit(path, digit, rng)
            for _ in range(per_font):
                crops.append(degrade(renders[(path, digit)], rng))
                labels.append(1)
    for _ in range(int(len(hand) * 0.4)):
        crops.append(degrade(_hershey_digit(int(rng.integers(10)), rng), rng))
        labels.append(1)
    return np.stack(crops).astype(np.float32), np.array(labels, np.float32)


def _forward(x, w1, b1, w2, b2):
    hidden = np.maximum(x @ w1 + b1, 0.0)
    return hidden, 1.0 / (1.0 + np.exp(-(hidden @ w2 + b2)))


def forward(x: np.ndarray, weights: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(hidden units, probability)`` of flat crops ``x`` (N, 784) under ``fit``'s ``weights``."""
    return _forward(x, weights["w1"], weights["b1"], weights["w2"], weights["b2"])


def fit(x: np.ndarray, y: np.ndarray, seed: int = 0, epochs: int = 12, batch: int = 128, rate: float = 2e-3, log=print,
        hidden: int = HIDDEN) -> dict:
    """Train the perceptron (``hidden`` units) on flat crops ``x`` (N, 784) and labels ``y`` (N,); its weights.
    Also trains the letter model (``train.letters``)."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((x.shape[1], hidden)) * math.sqrt(2.0 / x.shape[1])).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = (rng.standard_normal(hidden) * math.sqrt(1.0 / hidden)).astype(np.float32)
    b2 = np.zeros((), np.float32)
    params = [w1, b1, w2, b2]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        loss = 0.0
        for at in range(0, len(x), batch):
            idx = order[at: at + batch]
            xb, yb = x[idx], y[idx]
            hidden, p = _forward(xb, *params)
            loss += float(-np.sum(yb * np.log(p + 1e-7) + (1 - yb) * np.log(1 - p + 1e-7)))
            grad_out = (p - yb) / len(idx)
            g_w2 = hidden.T @ grad_out
            g_b2 = grad_out.sum()
            grad_hidden = np.outer(grad_out, params[2]) * (hidden > 0)
            g_w1 = xb.T @ grad_hidden + 1e-4 * params[0]
            g_b1 = grad_hidden.sum(0)
            step += 1
            for k, g in enumerate((g_w1, g_b1, g_w2, g_b2)):
                moments[k] = 0.9 * moments[k] + 0.1 * g
                squares[k] = 0.999 * squares[k] + 0.001 * g * g
                corrected = moments[k] / (1 - 0.9 ** step)
                params[k] = (params[k] - rate * corrected / (np.sqrt(squares[k] / (1 - 0.999 ** step)) + 1e-8)).astype(np.float32)
        if log:
            log(f"epoch {epoch + 1}/{epochs}: loss {loss / len(x):.4f}")
    return {"w1": params[0], "b1": params[1], "w2": params[2], "b2": np.asarray(params[3], np.float32)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "models" / "printed.npz"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the data set (quick checks below 1)")
    args = parser.parse_args(argv)
    x, y = dataset(args.seed, args.scale)
    x = x.reshape(len(x), -1)
    print(f"{len(x)} crops: {int(y.sum())} printed ({len(font_files())} font files and Hershey), {int(len(y) - y.sum())} handwritten")
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x))
    held = order[: len(x) // 10]
    train = order[len(x) // 10:]
    weights = fit(x[train], y[train], args.seed)
    _, p = _forward(x[held], weights["w1"], weights["b1"], weights["w2"], weights["b2"])
    right = float(((p >= 0.5) == (y[held] >= 0.5)).mean())
    print(f"held-out crops (same sources): {100 * right:.2f}% right; type read as hand {int(((p < 0.5) & (y[held] == 1)).sum())}, "
          f"hand read as type {int(((p >= 0.5) & (y[held] == 0)).sum())} of {len(held)}")
    np.savez_compressed(args.out, **weights)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

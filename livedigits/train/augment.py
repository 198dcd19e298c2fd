"""Training data that looks like what the camera pipeline produces.

MNIST is clean, anti-aliased and centred. The crops ``segment`` cuts from a
camera frame are thresholded masks of ink written with thin or thick pens,
slightly rotated or sheared, sometimes blurred or cut off at an edge. Each
training sample is drawn through the same ``normalize_ink`` as live crops, after
the distortions a camera and a pen add. Pure NumPy/OpenCV, no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from livedigits.vision.normalize import CROP_SIZE, normalize_ink



@dataclass(frozen=True)
class AugmentConfig:
    """How strongly to distort; the defaults match a hand-held webcam on paper."""

    camera_fraction: float = 0.6  # share of samples rebuilt like live crops (the rest: light affine only)
    rotation_deg: float = 12.0  # std of rotation
    shear: float = 0.2  # std of horizontal shear
    aspect: float = 0.12  # std of log aspect squeeze
    binarize_probability: float = 0.7  # live crops come from a thresholded mask
    cut_probability: float = 0.08  # a digit partly outside its box
    max_cut: float = 0.12  # at most this share of the ink's height or width is lost
    upscale: int = 3  # work at 84x84 so thickness changes are gradual
    low_res_digits: float = 0.15  # share of digits also seen as small writing (10-18 px tall)
    low_res_marks: float = 0.4  # small letters and signs are the ones that look most like digits
    # Share of digits bent by a smooth random displacement field before the rest (Simard et al., 2003:
    # the shapes of other writers -- a curled top, an opened loop, a longer tail -- that an affine map
    # cannot make); 0 = off, and then no random number is drawn for it, so older runs replay exactly.
    elastic: float = 0.0
    elastic_px: tuple[float, float] = (1.5, 3.5)  # largest displacement at 28x28, drawn uniformly in this range
    elastic_sigma: float = 3.5  # smoothness of the field at 28x28 (px): lower bends strokes, higher moves parts


def elastic(image: np.ndarray, rng: np.random.Generator, amplitude: float, sigma: float) -> np.ndarray:
    """Bend an image (any dtype OpenCV remaps) by a smooth random field: uniform noise blurred by
    ``sigma`` px, scaled so that the largest displacement is ``amplitude`` px."""
    h, w = image.shape
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma)
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma)
    norm = amplitude / max(1e-6, float(np.abs(np.concatenate([dx, dy])).max()))
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, xs + dx * norm, ys + dy * norm, cv2.INTER_LINEAR, borderValue=0)


def _affine(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, shift: float) -> np.ndarray:
    h, w = image.shape
    angle = float(np.clip(rng.normal(0, cfg.rotation_deg), -2.5 * cfg.rotation_deg, 2.5 * cfg.rotation_deg))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    squeeze = float(np.exp(rng.normal(0, cfg.aspect)))
    shear = float(np.clip(rng.normal(0, cfg.shear), -0.5, 0.5))
    # Compose shear and aspect on top of the rotation, about the centre.
    extra = np.array([[squeeze, shear, 0], [0, 1 / squeeze, 0], [0, 0, 1]], np.float64)
    centre = np.array([[1, 0, w / 2], [0, 1, h / 2], [0, 0, 1]], np.float64)
    uncentre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]], np.float64)
    full = np.vstack([matrix, [0, 0, 1]]) @ centre @ extra @ uncentre
    full[:2, 2] += rng.uniform(-shift, shift, size=2)
    return cv2.warpAffine(image, full[:2].astype(np.float32), (w, h), flags=cv2.INTER_LINEAR, borderValue=0)


def light(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """MNIST look kept: small rotation, shear and shift of a 28x28 uint8 digit; float32 [0,1] out."""
    small = AugmentConfig(rotation_deg=cfg.rotation_deg * 0.6, shear=cfg.shear * 0.6, aspect=cfg.aspect * 0.6)
    out = _affine(image.astype(np.float32) / 255.0, rng, small, shift=2.0)
    return np.clip(out, 0, 1)


def camera(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Rebuild a 28x28 uint8 digit as the live pipeline would cut it; float32 [0,1] 28x28 out."""
    size = CROP_SIZE * cfg.upscale
    big = cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    return normalize_ink(as_seen_by_camera(big, rng, cfg, low_res_probability=cfg.low_res_digits))


def as_seen_by_camera(ink: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, low_res_probability: float) -> np.ndarray:
    """What a pen and a camera do to ink (float32, bright on dark, any size): tilt and shear, a thinner
    or thicker pen, a few pixels of resolution for small writing, blur, the threshold, a cut edge."""
    pad = max(ink.shape) // 4
    big = cv2.copyMakeBorder(ink, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    big = _affine(big, rng, cfg, shift=0.0)
    # Pen width: thinner or thicker strokes than the MNIST writers used.
    choice = rng.random()
    if choice < 0.3:
        k = int(rng.choice([3, 5]))
        big = cv2.erode(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    elif choice < 0.65:
        k = int(rng.choice([3, 5, 7, 9]))
        big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    if rng.random() < low_res_probability:
        # Small writing: the camera saw it 10 to 18 px tall.
        ys, xs = np.nonzero(big > 0.1)
        if ys.size:
            height = ys.max() - ys.min() + 1
            factor = float(rng.uniform(10, 18)) / height
            if factor < 1:
                small = cv2.resize(big, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
                big = cv2.resize(small, (big.shape[1], big.shape[0]), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.4:
        big = cv2.GaussianBlur(big, (0, 0), rng.uniform(0.8, 2.5))
    if rng.random() < cfg.binarize_probability:
        level = rng.uniform(0.2, 0.6) * float(big.max() or 1.0)
        big = (big > level).astype(np.float32)
    if rng.random() < cfg.cut_probability:
        big = _cut_edge(big, rng, cfg)
    return big


def _cut_edge(big: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Lose a strip of the ink at one side, as when a digit's box is cut short."""
    ys, xs = np.nonzero(big > 0.1)
    if not ys.size:
        return big
    side = int(rng.integers(4))
    if side < 2:
        cut = int((ys.max() - ys.min()) * rng.uniform(0.03, cfg.max_cut))
        if side == 0:
            big[: ys.min() + cut] = 0
        else:
            big[ys.max() - cut + 1:] = 0
    else:
        cut = int((xs.max() - xs.min()) * rng.uniform(0.03, cfg.max_cut))
        if side == 2:
            big[:, : xs.min() + cut] = 0
        else:
            big[:, xs.max() - cut + 1:] = 0
    return big


def augment_batch(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Augment a batch of 28x28 uint8 digits; float32 ``(N, 28, 28)`` in [0, 1] out."""
    out = np.empty(images.shape, np.float32)
    for i, image in enumerate(images):
        if cfg.elastic > 0 and rng.random() < cfg.elastic:
            bent = elastic(image, rng, float(rng.uniform(*cfg.elastic_px)), cfg.elastic_sigma)
            image = bent if bent.max() > 0 else image
        crop = camera(image, rng, cfg) if rng.random() < cfg.camera_fraction else None
        # A thin pen and a strong threshold can erase a faint digit altogether: an empty crop labelled
        # as a digit would teach nonsense, so that sample keeps the MNIST look instead.
        out[i] = crop if crop is not None and crop.max() > 0 else light(image, rng, cfg)
    return out

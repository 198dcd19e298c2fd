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

from livedigits.vision.deblur import Blur  # the streak the pipeline measures and the generator draws
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
    # Share of the digits cut instead as the pipeline cuts small writing on a blurred, grainy photo (``grainy``):
    # written 10-20 px tall on paper, out of focus or streaked, sensor noise, JPEG, thresholded and cropped by
    # ``segment.ink_crop``; 0 = off, and then no random number is drawn for it, so older runs replay exactly.
    grainy: float = 0.0


#: Height of the writing in ``grainy`` (px, before normalisation): the single-piece crops the classifier
#: rejects on the stress pages ``mixed`` 36, 61, 67, 73, 137, 172 (978 crops on true digits) are 13 / 16 / 20 px
#: tall at the 10th / 50th / 90th percentile (docs/model.md, "Small, blurred, grainy digits").
GRAINY_HEIGHT = (10.0, 20.0)
#: The generator's camera (``synth.stress.film`` at 720 px): defocus of 1.3-2.6 px, a streak of 5-12 px, sensor
#: noise of 7-16 grey levels (1-3 without), JPEG quality 20-50 (88-95 without).
GRAINY_DEFOCUS = (1.0, 2.6)
GRAINY_STREAK = (4.0, 12.0)
GRAINY_NOISE = (3.0, 16.0)
GRAINY_JPEG = (20, 51)
#: How dark the ink is against its paper (a share of the paper's brightness, before the blur): pale and
#: coloured ink under shade to black pen. On the stress pages of ``GRAINY_HEIGHT`` the darkest of a digit's ink
#: (5th percentile, smoothed by 1 px) is 23 / 36 / 58% darker than its paper at the 10th / 50th / 90th
#: percentile, after the blur (61, 73, 137: 22-26% at the median).
GRAINY_CONTRAST = (0.25, 0.85)
#: Where the threshold cuts the blurred stroke, as a share of its darkest point: the pipeline's clear, faint
#: and pale-ink levels each cut a pale, soft stroke at some height of its slope.
GRAINY_LEVEL = (0.3, 0.7)
#: Sensor noise (grey levels) above which the mask is ``despeckled`` first, as ``segment`` does on a photo
#: measured grainy (``segment.GRAINY``, 14 of its grain measure: the generator's noise of 7-16 levels).
GRAINY_DESPECKLE = 9.0
#: A crop kept only where it still looks like its digit: the correlation of the two, each smoothed by 1 px,
#: with the same digit cut sharp and clean (``normalize_ink`` of the small writing before the camera), at least
#: this. A 10 px digit under a 12 px streak and 16 levels of noise is a blob of no digit; labelled as one it would
#: teach that blobs are digits. Over 2,000 MNIST test digits (seed 0) the correlations run 0.42 / 0.67 / 0.79 /
#: 0.89 / 0.98 at the 1st / 10th / 25th / 50th / 90th percentile; below 0.7 the crops, looked at, are mostly blobs
#: and scraps (about one in eight is dropped; docs/model.md).
GRAINY_LIKENESS = 0.7


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


def grainy(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """A 28x28 digit (uint8, or float in [0, 1]; ink bright on dark) written small on paper, photographed
    out of focus or streaked, with sensor noise and JPEG, then cut as the pipeline cuts a piece: a threshold
    on its darkness against the paper, the pieces of that mask on the digit, ``segment.despeckled`` on a
    noisy photo and ``segment.ink_crop`` (the mask, or graded darkness for small soft ink). float32 28x28
    out; all zero where the threshold left no ink."""
    from livedigits.vision.segment import DEFAULT_CONFIG, ink_crop  # the pipeline's own crop

    ink = image.astype(np.float32) / (255.0 if image.dtype == np.uint8 else 1.0)
    size = CROP_SIZE * cfg.upscale
    big = cv2.resize(ink, (size, size), interpolation=cv2.INTER_CUBIC)
    big = _affine(cv2.copyMakeBorder(big, size // 4, size // 4, size // 4, size // 4, cv2.BORDER_CONSTANT, value=0),
                  rng, cfg, shift=0.0)
    choice = rng.random()  # a thinner or thicker pen, as ``as_seen_by_camera``
    if choice < 0.25:
        big = cv2.erode(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    elif choice < 0.6:
        k = int(rng.choice([3, 5, 7]))
        big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    ys, xs = np.nonzero(big > 0.1)
    if not ys.size:
        return np.zeros((CROP_SIZE, CROP_SIZE), np.float32)
    big = big[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    factor = float(rng.uniform(*GRAINY_HEIGHT)) / big.shape[0]
    small = cv2.resize(big, (max(1, round(big.shape[1] * factor)), max(1, round(big.shape[0] * factor))),
                       interpolation=cv2.INTER_AREA)
    pad = 12
    small = np.clip(cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0), 0, 1)
    paper = float(rng.uniform(0.45, 0.95))
    page = paper * (1.0 - float(rng.uniform(*GRAINY_CONTRAST)) * small)
    kind = rng.random()
    if kind < 0.45:
        page = cv2.GaussianBlur(page, (0, 0), float(rng.uniform(*GRAINY_DEFOCUS)))
    elif kind < 0.8:
        streak = Blur(float(rng.uniform(*GRAINY_STREAK)), float(np.degrees(rng.uniform(0, np.pi))))
        page = cv2.filter2D(page, -1, streak.kernel(),
                            borderType=cv2.BORDER_REPLICATE)
    else:
        page = cv2.GaussianBlur(page, (0, 0), float(rng.uniform(0.4, 0.8)))
    noise = float(rng.uniform(*GRAINY_NOISE))
    # The generator's sensor noise: stronger on bright paper (shot noise), plus colour noise averaged to grey.
    page = page + np.sqrt(np.maximum(page, 0) * 2 + 0.05) * rng.standard_normal(page.shape).astype(np.float32) * noise / 255
    page = page + rng.standard_normal(page.shape).astype(np.float32) * (0.25 * noise / 255)
    gray = np.clip(page * 255 + 0.5, 0, 255).astype(np.uint8)
    quality = int(rng.integers(*GRAINY_JPEG)) if rng.random() < 0.5 else int(rng.integers(88, 96))
    gray = cv2.imdecode(cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_GRAYSCALE)
    paper_level = float(np.median(np.concatenate([gray[:pad // 2].ravel(), gray[-pad // 2:].ravel()])))
    dark = paper_level - cv2.GaussianBlur(gray, (0, 0), 1.0).astype(np.float32)
    on_digit = cv2.dilate((small > 0.2).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    peak = float(dark[on_digit].max()) if on_digit.any() else 0.0
    if peak <= 0:
        return np.zeros((CROP_SIZE, CROP_SIZE), np.float32)
    level = paper_level - float(rng.uniform(*GRAINY_LEVEL)) * peak
    mask = (gray < level).astype(np.uint8)
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    keep = np.unique(labels[on_digit & (mask > 0)])
    keep = keep[keep > 0]
    if not keep.size:
        return np.zeros((CROP_SIZE, CROP_SIZE), np.float32)
    piece = np.isin(labels, keep).astype(np.uint8) * 255
    x, y, w, h = cv2.boundingRect(piece)
    limit = np.full(gray.shape, paper_level * (1.0 - DEFAULT_CONFIG.ink_contrast), np.uint8)
    crop = ink_crop(gray, limit, (x, y, w, h), piece[y: y + h, x: x + w], DEFAULT_CONFIG, grainy=noise > GRAINY_DESPECKLE)
    if likeness_to(crop, normalize_ink(small)) < GRAINY_LIKENESS:
        return np.zeros((CROP_SIZE, CROP_SIZE), np.float32)
    return crop


def likeness_to(crop: np.ndarray, clean: np.ndarray) -> float:
    """Correlation of two 28x28 crops, each smoothed by 1 px (``GRAINY_LIKENESS``)."""
    a = cv2.GaussianBlur(crop, (0, 0), 1.0).ravel()
    b = cv2.GaussianBlur(clean, (0, 0), 1.0).ravel()
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def augment_batch(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, with_grainy: bool = False):
    """Augment a batch of 28x28 uint8 digits; float32 ``(N, 28, 28)`` in [0, 1] out. With ``with_grainy``,
    ``(crops, cut)``: ``cut`` (bool, ``(N,)``) marks the crops cut through ``grainy`` (the same random stream)."""
    out = np.empty(images.shape, np.float32)
    cut = np.zeros(len(images), bool)
    for i, image in enumerate(images):
        if cfg.elastic > 0 and rng.random() < cfg.elastic:
            bent = elastic(image, rng, float(rng.uniform(*cfg.elastic_px)), cfg.elastic_sigma)
            image = bent if bent.max() > 0 else image
        if cfg.grainy > 0 and rng.random() < cfg.grainy:
            crop = grainy(image, rng, cfg)
            cut[i] = crop.max() > 0
        else:
            crop = camera(image, rng, cfg) if rng.random() < cfg.camera_fraction else None
        # A thin pen and a strong threshold can erase a faint digit altogether: an empty crop labelled
        # as a digit would teach nonsense, so that sample keeps the MNIST look instead.
        out[i] = crop if crop is not None and crop.max() > 0 else light(image, rng, cfg)
    return (out, cut) if with_grainy else out


def grainy_marks(marks: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, with_grainy: bool = False):
    """A copy of the "not a digit" crops ``marks`` (float32 ``(N, 28, 28)`` in [0, 1]) with a share ``cfg.grainy``
    of them cut through ``grainy`` as the digits are (those the threshold empties stay as they were). With
    ``with_grainy``, ``(crops, cut)`` as ``augment_batch`` gives."""
    out = np.array(marks, np.float32, copy=True)
    cut = np.zeros(len(out), bool)
    for i in range(len(out)):
        if rng.random() < cfg.grainy:
            crop = grainy(out[i], rng, cfg)
            if crop.max() > 0:
                out[i] = crop
                cut[i] = True
    return (out, cut) if with_grainy else out

"""The MNIST normalisation every crop goes through, in training and live.

MNIST digits are white ink on black, scaled so the longer side of the ink fits a
20x20 box (aspect kept), then placed in a 28x28 field with the ink's centre of
mass at the centre. The network only ever sees crops made by ``normalize_ink``,
so the crops cut from camera frames and the ones it was trained on match.
"""

from __future__ import annotations

import cv2
import numpy as np

from livedigits.util.threads import one_blas_thread

CROP_SIZE = 28
INK_BOX = 20  # MNIST fits the ink's longer side into 20 px


def normalize_ink(ink: np.ndarray) -> np.ndarray:
    """Turn an ink patch into an MNIST-style crop.

    ``ink``: 2-D uint8 (or float) array, ink bright on a dark background, any
    size. Returns a ``(28, 28)`` float32 array in [0, 1]. An empty patch gives
    an all-zero crop. A uint8 patch (the segmentation's masks, every crop of every
    frame) is worked on in uint8 throughout, several times cheaper than in float;
    the two agree to within two grey levels.
    """
    if ink.ndim != 2:
        raise ValueError(f"normalize_ink expects a 2-D array, got shape {ink.shape}")
    if ink.dtype == np.uint8:
        return _normalize_uint8(ink)
    ink = ink.astype(np.float32, copy=False)
    if ink.size and ink.max() > 1.0:
        ink = ink / 255.0
    # OpenCV finds the ink's box (this runs for every crop of every frame).
    points = cv2.findNonZero((ink > 0.05).astype(np.uint8))
    if points is None:
        return np.zeros((CROP_SIZE, CROP_SIZE), np.float32)
    x, y, w, h = cv2.boundingRect(points)
    ink = ink[y: y + h, x: x + w]
    # Faint and bold ink look the same to the network: live crops are masks.
    ink = ink / float(ink.max())
    scale = INK_BOX / max(h, w)
    new_w = max(1, int(round(w * scale)))
    new_h = max(1, int(round(h * scale)))
    # INTER_AREA averages when shrinking (anti-aliased edges, like MNIST's);
    # INTER_LINEAR when a tiny patch is enlarged.
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    small = cv2.resize(ink, (new_w, new_h), interpolation=interp)
    # Centre of mass with NumPy: cv2.moments would read an N x 2 image as a list of points.
    rows, cols = small.sum(axis=1), small.sum(axis=0)
    total = float(rows.sum())
    if total <= 0:
        return np.zeros((CROP_SIZE, CROP_SIZE), np.float32)
    cy = float(rows @ np.arange(new_h)) / total
    cx = float(cols @ np.arange(new_w)) / total
    # Shift so the centre of mass lands at the field's centre, with sub-pixel
    # precision via an affine warp (MNIST's own centring is fractional too).
    centre = (CROP_SIZE - 1) / 2.0
    matrix = np.float32([[1, 0, centre - cx], [0, 1, centre - cy]])
    out = cv2.warpAffine(small, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderValue=0)
    return np.clip(out, 0.0, 1.0)


#: Ink below this (5% of white, as the float path's 0.05) is background when finding the ink's box.
_FAINT_U8 = 12


def _normalize_uint8(ink: np.ndarray) -> np.ndarray:
    """``normalize_ink`` for a uint8 patch, in uint8 until the last step (same steps, same rounding to
    within a grey level at each of the resize and the shift). It runs for every crop of every frame (30-40
    a frame on a page), so it makes as few calls as it can: the ink's box straight from the thresholded
    patch, and the centre of mass from ``cv2.moments`` (exact integer sums, as NumPy's)."""
    x, y, w, h = cv2.boundingRect(cv2.compare(ink, _FAINT_U8, cv2.CMP_GT))
    if w == 0 or h == 0:
        return np.zeros((CROP_SIZE, CROP_SIZE), np.float32)
    ink = ink[y: y + h, x: x + w]
    peak = int(cv2.minMaxLoc(ink)[1])  # one OpenCV call: cheaper than NumPy's reduction on a small patch
    if peak < 255:  # faint and bold ink look the same to the network
        ink = cv2.convertScaleAbs(ink, alpha=255.0 / peak)
    scale = INK_BOX / max(h, w)
    new_w, new_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    small = cv2.resize(ink, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR)
    # A uint8 array is always an image to cv2.moments (only int32 and float32 ones can be read as points).
    moments = cv2.moments(small)
    total = moments["m00"]
    if total <= 0:
        return np.zeros((CROP_SIZE, CROP_SIZE), np.float32)
    cy, cx = moments["m01"] / total, moments["m10"] / total
    centre = (CROP_SIZE - 1) / 2.0
    matrix = np.array([[1, 0, centre - cx], [0, 1, centre - cy]], np.float32)
    out = cv2.warpAffine(small, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderValue=0)
    return np.multiply(out, _ONE_255, dtype=np.float32)  # each grey level times 1/255 in float32, in one pass


_ONE_255 = np.float32(1.0 / 255.0)


#: How a crop is nudged to ask the classifier again (``nudged``): shifts (px), turns (degrees), scales, and
#: the ink thinned and thickened by a 2x2 step. A hand's real misread of one digit for another that looks
#: like it on the page can be unstable under these (the cut of the crop decided it); a digit that is what it
#: is read as stays.
NUDGE_SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1), (2, 0), (-2, 0), (0, 2), (0, -2))
NUDGE_TURNS = (-15.0, -8.0, 8.0, 15.0)
NUDGE_SCALES = (0.85, 1.15)


def nudged(crop: np.ndarray) -> np.ndarray:
    """The ``(28, 28)`` crop moved by each of ``NUDGE_SHIFTS``, turned by each of ``NUDGE_TURNS`` and scaled by
    each of ``NUDGE_SCALES`` about its centre, then thinned and thickened: ``(16, 28, 28)`` float32 in [0, 1],
    in that order (the crop itself not among them)."""
    crop = np.asarray(crop, np.float32)
    size = (CROP_SIZE, CROP_SIZE)
    centre = (CROP_SIZE / 2.0, CROP_SIZE / 2.0)
    out = [cv2.warpAffine(crop, np.float32([[1, 0, dx], [0, 1, dy]]), size) for dx, dy in NUDGE_SHIFTS]
    out += [cv2.warpAffine(crop, cv2.getRotationMatrix2D(centre, angle, 1.0), size) for angle in NUDGE_TURNS]
    out += [cv2.warpAffine(crop, cv2.getRotationMatrix2D(centre, 0.0, scale), size) for scale in NUDGE_SCALES]
    step = np.ones((2, 2), np.uint8)
    out += [cv2.erode(crop, step), cv2.dilate(crop, step)]
    return np.clip(np.stack(out), 0.0, 1.0)


def likeness(crop: np.ndarray, others: np.ndarray, shift: int = 1, sigma: float | None = None) -> np.ndarray:
    """How alike the ``(28, 28)`` crop is to each of ``others`` (``(n, 28, 28)``): the correlation of the two,
    blurred a little and less their mean ink, at the best of the shifts by up to ``shift`` px each way (wrapped
    round: a crop's margin is paper; 1.0: the same shape). Blurred by a 3x3 Gaussian, or by one of ``sigma``.
    Two crops of one hand's digit written alike score near 1; a 7 and a 9 of one hand lower."""
    return likenesses(np.asarray(crop)[None], others, shift, sigma)[0]


def likenesses(crops: np.ndarray, others: np.ndarray, shift: int = 1, sigma: float | None = None) -> np.ndarray:
    """:func:`likeness` of each of ``crops`` (``(k, 28, 28)``) to each of ``others`` (``(n, 28, 28)``), as a
    ``(k, n)`` array: each crop blurred once, every shift of every crop in one product."""
    def flat(stack: np.ndarray) -> np.ndarray:
        # Blurred (the crops of the stack as one image's channels, ``_CHANNELS`` at a time), less its mean, to
        # unit length: (n, 28, 28).
        c = np.moveaxis(np.asarray(stack, np.float32), 0, -1)
        c = np.concatenate([_blur(c[..., k:k + _CHANNELS], sigma) for k in range(0, c.shape[-1], _CHANNELS)], axis=-1)
        c = np.moveaxis(c, -1, 0)
        c = c - c.mean(axis=(1, 2), keepdims=True)
        return c / (np.sqrt((c * c).sum(axis=(1, 2), keepdims=True)) + 1e-9)

    if not len(others) or not len(crops):
        return np.zeros((len(crops), len(others)), np.float32)
    mine = flat(crops)
    steps = range(-shift, shift + 1)
    shifted = np.stack([np.roll(mine, (dy, dx), (1, 2)).reshape(len(mine), -1) for dy in steps for dx in steps])
    theirs = flat(others).reshape(len(others), -1)
    with one_blas_thread():  # small products: BLAS threads only wait for busy cores (util.threads)
        return (shifted @ theirs.T).max(axis=0)


#: The most channels OpenCV's Python binding blurs as one image.
_CHANNELS = 128


def _blur(c: np.ndarray, sigma: float | None) -> np.ndarray:
    """``(h, w, k)`` crops blurred each on its own (a 3x3 Gaussian, or one of ``sigma``), ``(h, w, k)``."""
    c = np.ascontiguousarray(c)
    out = cv2.GaussianBlur(c, (3, 3), 0) if sigma is None else cv2.GaussianBlur(c, (0, 0), sigma)
    return out.reshape(c.shape)

"""Undo the streak of a moving camera, or the defocus of one out of focus, on a page measured blurred.

A page whose ink ``segment.measure_pale_ink`` finds pale and soft-edged is blurred. Under a streak of L px a
stroke across it is spread over L px and keeps only its width / L of its contrast (a pencil stroke under a
10 px streak: 10-15% darker than the paper, no clear ink at all), and what is left of a digit is a smear the
classifier does not read. Here the streak is measured on the page and taken out of the whole working frame
once (a Wiener filter), so that everything after it (ink, lines, pieces, cuts, crops) works on a sharp page.

* **A streak or not** (:func:`measure_blur`). A streak smooths along its direction only: the gradient's
  structure tensor over the writing has one small eigenvalue, along the streak (its smaller / larger below
  ``STREAK_RATIO``). Defocus smooths every direction alike.
* **The streak's direction and length.** Along the streak, the derivative of the blurred page is the sharp
  page shifted by +L/2 minus the same shifted by -L/2, over L: its autocorrelation along the streak dips
  most deeply at a lag of L. The dip is looked for at directions within ``ANGLE_SPREAD`` of the tensor's,
  and the length is the lag less ``LAG_BIAS`` (the Sobel derivative's own width).
* **Not a printed pattern** (:func:`periodic`). Squared paper's lines, or a table's checks and stripes near the
  writing, dip too: a ruling of period P dips a line's width short of P (stripes at P / 2), as a streak at its
  length. A pattern repeats, and its autocorrelation peaks again a little farther out (at P); a streak's only
  comes back to nothing. A peak above ``PERIODIC_PEAK`` within ``2 lag + PERIOD_SLACK`` of the dip is a
  pattern, and no streak.
* **Defocus** (:func:`_defocus`), where no streak is found. The derivative's autocorrelation (the mean over
  every direction) keeps half its value out to an edge's own width: a sharp edge's is the Sobel derivative's
  (1-1.75 px), a round blur's grows with its sigma (``DEFOCUS_HALF``, ``HALF_PER_SIGMA``). Not the dip's lag:
  the dip lies at a stroke's width, and a thick sharp stroke dips as far out as a thin blurred one. Taken
  out as a Gaussian of the measured sigma.

The filter's noise term (``NOISE``) bounds how much it amplifies what the streak all but erased: paper grain
and JPEG blocks stay paper. On a grainy photo (sensor noise) it grows with the grain (:func:`noise_term`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from livedigits.vision.labels import components

#: The gradient's structure tensor over the ink, smaller eigenvalue over larger, below which the blur is a
#: streak. On the stress generator's ``blur`` pages (seeds 0-39) that the pale-ink rule finds blurred: a
#: streak of 6-12 px measures 0.13-0.32, defocus of sigma 1.3-2.6 px 0.48-0.91 (over all their ink).
STREAK_RATIO = 0.4
#: The streak's direction is looked for this many degrees either side of the tensor's, ...
ANGLE_SPREAD = 12.0
#: ... every this many degrees ...
ANGLE_STEP = 3.0
#: ... and its length among lags from MIN_LAG to MAX_LAG px, every LAG_STEP: a thin stroke's own width
#: makes a shallower dip at 1-2 px.
MIN_LAG, MAX_LAG, LAG_STEP = 3.0, 20.0, 0.25
#: The deepest dip lies this much beyond the streak's length (the 3x3 Sobel derivative widens it): measured
#: 1.16 px on average over the streaks of seeds 0-39 (standard deviation 0.58).
LAG_BIAS = 1.2
#: Where the tensor does not tell, a streak is a dip at least this deep (a share of the autocorrelation at lag
#: 0), ...
DEEP_DIP = -0.3
#: ... at a lag of at least this many px along the streak, ...
LONG_LAG = 6.5
#: ... and at most this many across it. On the stress generator's pages the pale-ink rule finds blurred
#: (``blur`` 0-39 and 1000-1039, ``dense`` and ``mixed`` 0-39): along a streak of 6-12 px the dip is -0.37 to
#: -0.46 at 7-12.5 px, across it at 3-5 px; out of focus the dip lies 5-13.5 px out across too; a dense page
#: of small sharp digits dips at 3-4.5 px every way; one sharp page (``mixed`` 11) dips at 7 px, but only to
#: -0.17.
SHARP_ACROSS = 5.0
#: Past the dip, out to twice its lag and PERIOD_SLACK px more (a table's stripes dip at half their period),
#: the autocorrelation along a streak peaks at most this high (a share of its value at lag 0); above, the dip
#: is a printed pattern's. On the stress generator's pages that the pale-ink rule finds blurred, seeds 0-99:
#: the 26 streaks measured on ``blur`` pages peak at -0.08 to +0.14; the false streaks of squared paper
#: (``grid`` 14) and patterned tables (``patterned_table`` 35, 65) at +0.37 to +0.71. Set between the two.
PERIODIC_PEAK = 0.25
PERIOD_SLACK = 3.0
#: A streak shorter than this is no streak worth undoing.
MIN_STREAK = 3.0
#: Defocus: the derivative's autocorrelation, the mean over ROUND directions, keeps half its value at lag 0
#: out to at least this many px (an edge's width, not a stroke's). On the stress generator's pages that the
#: pale-ink rule finds blurred and that have no streak, seeds 0-39: ``blur`` out of focus (sigma 1.7-2.6 px)
#: 2.25-3.5 px; ``dense``, ``grid``, ``patterned_table`` 1.0-1.75; ``noise`` 0.75; ``mixed`` 0.75-1.75 and 2.5-3.25
#: (its pages out of focus). Set between the two.
DEFOCUS_HALF = 2.0
#: ... and its sigma is that width over this: fitted to the generator's own sigma on ``blur`` seeds 0-39
#: (1.3 and 1.15 read alike: 95.3% and 95.7% of the digits found, 85.6% and 85.3% of the numbers exact).
HALF_PER_SIGMA = 1.3
#: The sigma restored is at most this (px).
MAX_SIGMA = 3.0
#: The directions the autocorrelation is averaged over (every 180 / ROUND degrees), and its lags: out to
#: HALF_REACH px, every HALF_STEP (the crossing is interpolated between two).
ROUND, HALF_REACH, HALF_STEP = 12, 8.0, 0.125
#: The Wiener filter's noise-to-signal term. Tuned on ``blur`` seeds 0-39 with the measured blur, defocus then
#: undone too (digits found, numbers exact, pages fully right): 0.005 95.1%, 84.0%, 18; 0.01 95.1%, 85.6%, 20;
#: 0.02 95.0%, 85.3%, 17; 0.03 94.5%, 83.4%, 15.
NOISE = 0.01
#: ... which holds for a photo of up to this much grain (``segment.measure_grain``, grey levels): the ``blur`` row's
#: pages, on which it was tuned, measure 0-4.24. The term is the noise's power over the writing's, so on a grainier
#: photo it grows with the square of the grain (:func:`noise_term`). Restored with 0.01, a page of 11 grey levels
#: of grain under a 9 px streak came out as grains and lost every digit (``mixed`` seed 67: 0 of 224 found with the
#: generator's own streak, 117 with 0.1, 96 with 0.3). Anchored just above the clean pages' grain (0.066 at 10.9
#: grey levels), ``mixed`` seeds 15, 58 and 67 read 140 digits right with the streaks measured (``main``: 79); anchored
#: at 3.0, 121; at 4.5, 129; at 5.5, 88.
NOISE_GRAIN = 4.25
#: The ink's neighbourhood, where the gradients are measured: the ink mask grown by this many px a side.
NEAR_INK = 7


@dataclass(frozen=True)
class Blur:
    """A page's streak, as :func:`measure_blur` found it: ``length`` px at ``angle`` degrees (image axes, x
    right and y down)."""

    length: float
    angle: float

    def kernel(self) -> np.ndarray:
        """The point spread function, float32, summing to 1."""
        side = (int(math.ceil(self.length)) + 2) | 1  # room for the whole streak and its anti-aliased ends
        kernel = np.zeros((side, side), np.float32)
        c = side // 2
        dx, dy = math.cos(math.radians(self.angle)) * self.length / 2, math.sin(math.radians(self.angle)) * self.length / 2
        # Drawn with 4 bits of sub-pixel precision, anti-aliased: a streak of any length and slant.
        ends = [(int(round((c - dx) * 16)), int(round((c - dy) * 16))), (int(round((c + dx) * 16)), int(round((c + dy) * 16)))]
        cv2.line(kernel, ends[0], ends[1], 1.0, 1, cv2.LINE_AA, 4)
        return kernel / max(float(kernel.sum()), 1e-6)


@dataclass(frozen=True)
class Defocus:
    """A page out of focus, as :func:`measure_blur` found it: a round (Gaussian) blur of ``sigma`` px."""

    sigma: float

    def kernel(self) -> np.ndarray:
        """The point spread function, float32, summing to 1."""
        half = int(math.ceil(3 * self.sigma))
        line = cv2.getGaussianKernel(2 * half + 1, self.sigma, cv2.CV_32F)
        return line @ line.T


def _bilinear(table: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``table`` (periodic) at the points ``(x, y)``, bilinear."""
    h, w = table.shape
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    return ((1 - fx) * (1 - fy) * table[y0 % h, x0 % w] + fx * (1 - fy) * table[y0 % h, (x0 + 1) % w]
            + (1 - fx) * fy * table[(y0 + 1) % h, x0 % w] + fx * fy * table[(y0 + 1) % h, (x0 + 1) % w])


def measure_blur(gray: np.ndarray, ink: np.ndarray, longest: int) -> Blur | Defocus | None:
    """The streak of a page already found blurred (``segment.measure_pale_ink``), measured on the gradients of
    ``gray`` near the pieces of the ``ink`` mask (255 = ink) no longer than ``longest`` px either way: writing,
    not the long pieces of a line, a table's edge or its stripes, whose gradients all point one way. None where
    the blur is no streak; a :class:`Defocus` where it is a round blur (:func:`_defocus`), measured where no
    streak is."""
    _, labels, stats, _ = components(ink)
    short = (stats[:, cv2.CC_STAT_WIDTH] <= longest) & (stats[:, cv2.CC_STAT_HEIGHT] <= longest)
    short[0] = False  # the background
    if not short.any():
        return None
    ink = np.where(short[labels], np.uint8(255), np.uint8(0))
    near = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * NEAR_INK + 1, 2 * NEAR_INK + 1)))
    weight = np.float32(1.0 / 255.0) * near.astype(np.float32)
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) * weight
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) * weight
    xx, yy, xy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    half, root = (xx + yy) / 2, math.sqrt(max(0.0, ((xx - yy) / 2) ** 2 + xy * xy))
    if half + root <= 0:
        return None
    # The gradients' auto- and cross-correlations, once: the derivative along any direction is
    # cos * gx + sin * gy, so its autocorrelation at any lag is a sum of these three. Padded past the farthest
    # lag looked at (a pattern's period), float32 spectra (their scale is the same for all three).
    h, w = g.shape
    reach = int(math.ceil(2 * MAX_LAG + PERIOD_SLACK)) + 2
    size = (cv2.getOptimalDFTSize(h + reach), cv2.getOptimalDFTSize(w + reach))
    fx = cv2.dft(cv2.copyMakeBorder(gx, 0, size[0] - h, 0, size[1] - w, cv2.BORDER_CONSTANT), nonzeroRows=h)
    fy = cv2.dft(cv2.copyMakeBorder(gy, 0, size[0] - h, 0, size[1] - w, cv2.BORDER_CONSTANT), nonzeroRows=h)
    tables = tuple(cv2.idft(cv2.mulSpectrums(a, b, 0, conjB=True), flags=cv2.DFT_REAL_OUTPUT)
                   for a, b in ((fx, fx), (fy, fy), (fx, fy)))
    if (half - root) / (half + root) < STREAK_RATIO:
        across = math.degrees(0.5 * math.atan2(2 * xy, xx - yy))  # the direction of the most change
        dips = _dips(tables, across + 90.0 + np.arange(-ANGLE_SPREAD, ANGLE_SPREAD + ANGLE_STEP / 2, ANGLE_STEP))
        deepest, angle, lag = min(dips)
        if deepest >= 0:
            return None
    else:
        # The writing's own slant can hide a streak from the tensor (a streak along the slant evens it out):
        # then the dip itself tells. Along a streak it lies at the streak's length; across it, at a stroke's
        # own width, for the strokes stay sharp across. Defocus puts it as far out in every direction.
        dips = _dips(tables, np.arange(0.0, 180.0, ANGLE_STEP))
        k = min(range(len(dips)), key=lambda i: dips[i])
        deepest, angle, lag = dips[k]
        across_lag = dips[(k + len(dips) // 2) % len(dips)][2]
        if not (deepest <= DEEP_DIP and lag >= LONG_LAG and across_lag <= SHARP_ACROSS):
            return _defocus(tables)
    length = lag - LAG_BIAS
    if length < MIN_STREAK or periodic(tables, angle, lag):
        return None
    return Blur(length, angle % 180.0)


def _defocus(tables: tuple) -> Defocus | None:
    """Defocus, measured by how far the derivative's autocorrelation (``tables``, as in :func:`_dips`), the
    mean over ``ROUND`` directions, keeps half its value at lag 0: an edge's own width, whatever the stroke's
    (the dip lies at a stroke's width, and a thick sharp stroke dips as far out as a thin blurred one). At
    least ``DEFOCUS_HALF`` px, the page is out of focus, by that width over ``HALF_PER_SIGMA``; None below."""
    lags = np.arange(0.0, HALF_REACH + HALF_STEP / 2, HALF_STEP)
    profile = np.mean([_profile(tables, float(a), lags) for a in np.arange(0.0, 180.0, 180.0 / ROUND)], axis=0)
    below = np.flatnonzero(profile < 0.5)
    if not len(below) or below[0] == 0:
        return None
    k = int(below[0])  # the crossing, between lags k - 1 and k
    half = float(lags[k - 1] + HALF_STEP * (profile[k - 1] - 0.5) / max(profile[k - 1] - profile[k], 1e-9))
    if half < DEFOCUS_HALF:
        return None
    return Defocus(round(min(MAX_SIGMA, half / HALF_PER_SIGMA), 2))


def periodic(tables: tuple, angle: float, lag: float) -> bool:
    """Whether the dip at ``lag`` px along ``angle`` degrees is a printed pattern's (squared paper, a table's
    checks or stripes), not a streak's: the autocorrelation (``tables``, as in :func:`_dips`) peaks above
    ``PERIODIC_PEAK`` again past the dip, out to ``2 lag + PERIOD_SLACK``."""
    lags = np.arange(lag, 2 * lag + PERIOD_SLACK + LAG_STEP / 2, LAG_STEP)
    return float(_profile(tables, angle, lags).max()) > PERIODIC_PEAK


def _dips(tables: tuple, angles: np.ndarray) -> list[tuple[float, float, float]]:
    """Per direction of ``angles`` (degrees), the deepest dip of the derivative's autocorrelation along it
    (``tables``: the gradients' correlations, x with x, y with y, x with y), as a share of its value at lag 0,
    among the lags ``MIN_LAG`` to ``MAX_LAG``: ``(dip, angle, lag)``."""
    lags = np.arange(MIN_LAG, MAX_LAG + LAG_STEP / 2, LAG_STEP)
    out = []
    for degrees in angles:
        profile = _profile(tables, float(degrees), lags)
        k = int(np.argmin(profile))
        out.append((float(profile[k]), float(degrees), float(lags[k])))
    return out


def _profile(tables: tuple, degrees: float, lags: np.ndarray) -> np.ndarray:
    """The autocorrelation of the derivative along ``degrees`` at ``lags`` px, as a share of its value at lag
    0 (``tables`` as in :func:`_dips`)."""
    axx, ayy, axy = tables
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    at_zero = float(c * c * axx[0, 0] + s * s * ayy[0, 0] + 2 * c * s * axy[0, 0])
    x, y = lags * c, lags * s
    return (c * c * _bilinear(axx, x, y) + s * s * _bilinear(ayy, x, y)
            + c * s * (_bilinear(axy, x, y) + _bilinear(axy, -x, -y))) / max(at_zero, 1e-9)


def noise_term(grain: float) -> float:
    """The Wiener filter's noise-to-signal term for a photo of ``grain`` grey levels (``Paper.grain``): ``NOISE`` up
    to ``NOISE_GRAIN``, then growing with the grain's square."""
    return NOISE * max(1.0, grain / NOISE_GRAIN) ** 2


def restore(gray: np.ndarray, blur: Blur, noise: float = NOISE) -> np.ndarray:
    """``gray`` (uint8) with ``blur`` taken out (a Wiener filter, noise term ``noise``: :func:`noise_term`), uint8. The frame is
    mirrored at its edges first, so that no edge rings into the page. In float32 (``cv2.dft``): the filter's
    spectrum is made once per streak and frame size (:func:`_wiener`), as every frame of a view restores the
    same streak."""
    kh, kw = blur.kernel().shape
    pad = max(kh, kw) + 8
    h, w = gray.shape
    size = (cv2.getOptimalDFTSize(h + 2 * pad), cv2.getOptimalDFTSize(w + 2 * pad))
    framed = cv2.copyMakeBorder(gray, pad, size[0] - h - pad, pad, size[1] - w - pad, cv2.BORDER_REFLECT)
    spectrum = cv2.mulSpectrums(cv2.dft(np.float32(framed)), _wiener(blur, size, float(noise)), 0)
    out = cv2.idft(spectrum, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)
    return cv2.add(out[pad: pad + h, pad: pad + w], 0.0, dtype=cv2.CV_8U)  # rounded and saturated


@functools.lru_cache(maxsize=4)
def _wiener(blur: Blur, size: tuple[int, int], noise: float = NOISE) -> np.ndarray:
    """The Wiener filter of ``blur`` for a frame of ``size`` (rows, columns), noise term ``noise``, as ``cv2.dft`` packs a real
    image's spectrum (for ``cv2.mulSpectrums``). Scaled by 1 + noise: where the blur passes everything (the
    paper's level, a response of 1), it is kept."""
    kernel = blur.kernel()
    kh, kw = kernel.shape
    spread = np.zeros(size, np.float32)
    spread[:kh, :kw] = kernel
    spread = np.roll(spread, (-(kh // 2), -(kw // 2)), (0, 1))
    response = cv2.dft(spread, flags=cv2.DFT_COMPLEX_OUTPUT)
    re, im = response[..., 0], response[..., 1]
    gain = (1.0 + noise) / (re * re + im * im + noise)
    inverse = np.dstack([re * gain, -im * gain]).astype(np.float32)
    # The filter is real in space (its spectrum conjugate-symmetric): back to space and forward again packs it.
    return cv2.dft(cv2.idft(inverse, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT))

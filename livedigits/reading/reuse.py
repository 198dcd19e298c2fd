"""Temporal reuse on live video: a crop that has not changed since the classifier last read it keeps
that reading, so the classifier runs only on new or changed crops.

Between two frames of a page held in front of a camera, 94-96% of the candidate boxes move by 1 px or
less (measured on ``samples/demo.mp4`` and a ruled-page clip). The recognizer keeps one
:class:`ReuseCache` per source, and only for video, cameras and streams (never across still images).

Each cache entry is an *anchor*: the box, the 28x28 crop and the probabilities of the last time the
classifier read that piece of ink. A new crop takes an anchor's probabilities only when

- its box is within ``max_shift`` pixels of the anchor's box, on every side;
- its crop is close to the anchor's crop: a small mean difference over the whole crop (sensor noise,
  a sub-pixel shift) *and* no 4x4 block of the crop changed much (a stroke added or taken away, a
  digit rewritten in the same box, which can leave the mean small);
- the anchor is younger than ``max_age`` frames (a last safety net: every crop is read afresh at least
  that often).

A reused crop keeps comparing against the anchor, never against the previous frame's crop, so slow
drift (the hand wandering, the light changing) cannot add up unseen: once the crop has drifted past a
threshold from what the classifier saw, it is read again.

Measured thresholds (same box within 1 px, consecutive frames, both clips): the mean difference of the
same piece of ink is 0.015-0.02 at the median and 0.06 at most; the 4x4-block difference 0.09-0.11 at
the median and 0.45 at most. Between crops of two different digits the mean difference is 0.056 at the
least (0.09 at the 1st percentile) and the block difference 0.29 at the least (0.55 at the 1st
percentile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np

from livedigits.types import Box, Candidate


@dataclass(frozen=True)
class ReuseConfig:
    """When a crop's earlier reading stands for it (see the module docstring for the measurements)."""

    max_shift: int = 1
    """Largest move, in frame pixels, of any side of the box from the anchor's box."""
    max_mean_diff: float = 0.03
    """Largest mean absolute difference (crops in [0, 1]) from the anchor's crop: about the 80th
    percentile of the same ink from frame to frame, half the smallest seen between two digits."""
    max_block_diff: float = 0.2
    """Largest mean absolute difference in any 4x4 block of the 28x28 crop: a new stroke 2-3 px wide
    across a block changes it by 0.4 or more, noise and sub-pixel shifts by 0.1 at the median."""
    max_age: int = 15
    """Frames an anchor may stand in for the crop before the classifier reads it again (half a second
    at 30 fps)."""

    def __post_init__(self) -> None:
        if self.max_shift < 0 or self.max_age < 1 or self.max_mean_diff < 0 or self.max_block_diff < 0:
            raise ValueError("ReuseConfig: max_shift, max_mean_diff and max_block_diff must be >= 0, max_age >= 1")


DEFAULT_REUSE = ReuseConfig()

#: The side of the blocks compared by ``max_block_diff`` (28 = 7 x 4).
_BLOCK = 4


def box_corners(candidates: list[Candidate]) -> np.ndarray:
    """``(N, 4)`` int64 ``x, y, x2, y2`` of the candidates' boxes."""
    return corners_of([c.box for c in candidates])


def corners_of(boxes: Sequence[Box]) -> np.ndarray:
    """``(N, 4)`` int64 ``x, y, x2, y2`` of ``boxes``."""
    corners = np.array([(b.x, b.y, b.w, b.h) for b in boxes], np.int64).reshape(len(boxes), 4)
    corners[:, 2:] += corners[:, :2]
    return corners


def read_reusing(cache: "ReuseCache | None", boxes: Sequence[Box], crops: np.ndarray,
                 predict: Callable[[np.ndarray], np.ndarray], sure: float | None = None) -> np.ndarray:
    """``predict(crops)`` (one row of probabilities per 28x28 crop at ``boxes``) with the rows of the crops an
    anchor of ``cache`` stands for taken from it, so that ``predict`` runs on the others only: the same
    test as the digit classifier's (:meth:`ReuseCache.match`), for another per-crop model of a video frame
    (the sign model), with a cache of its own. The frame's crops become the anchors for the next one.
    ``cache`` None: ``predict(crops)``. ``sure``: an anchor stands for a crop only where its reading's
    largest value reached this (a reading near a decision is made afresh)."""
    crops = np.asarray(crops, np.float32)
    if cache is None:
        return predict(crops)
    if not len(crops):
        cache.reset()  # nothing read this frame: no anchor may stand for a later frame's crop
        return predict(crops)
    corners = corners_of(boxes)
    anchors = cache.match(corners, crops)
    if sure is not None:
        anchors[(anchors >= 0) & ~(cache.readings(anchors).max(axis=1) >= sure)] = -1
    wanted = crops[anchors < 0]
    if len(wanted):
        fresh = np.asarray(predict(wanted), np.float32)
    else:  # every crop kept its anchor's reading
        fresh = np.zeros((0, cache.readings(anchors).shape[1]), np.float32)
    return cache.fill(corners, crops, anchors, fresh, fresh.shape[1])


def match_anchors(boxes: np.ndarray, crops: np.ndarray, anchor_boxes: np.ndarray, anchor_crops: np.ndarray,
                  anchor_ages: np.ndarray, config: ReuseConfig = DEFAULT_REUSE) -> np.ndarray:
    """The test of :meth:`ReuseCache.match`, for any store of anchors (the segmentation's cut decisions,
    ``vision.view.CutAnchors``, use it too): for each crop (``boxes`` from :func:`corners_of`, ``crops``
    ``(N, 28, 28[, 1])`` float32), the index of the anchor (``anchor_boxes`` ``(M, 4)``, ``anchor_crops``
    ``(M, 28, 28)``, ``anchor_ages`` ``(M,)``) that stands for it, or -1."""
    cfg = config
    count = len(boxes)
    anchors = np.full(count, -1, np.int64)
    if not count or not len(anchor_ages):
        return anchors
    shift = np.abs(boxes[:, None, :] - anchor_boxes[None, :, :]).max(axis=2)  # (N, anchors), largest side move
    nearest = shift.argmin(axis=1)
    near = np.flatnonzero((shift[np.arange(count), nearest] <= cfg.max_shift) & (anchor_ages[nearest] < cfg.max_age))
    if not len(near):
        return anchors
    count_near = len(near)
    crops = np.asarray(crops, np.float32)
    diff = cv2.absdiff(crops[near].reshape(count_near * 28, 28), anchor_crops[nearest[near]].reshape(count_near * 28, 28))
    # The mean of every 4x4 block of every crop in one OpenCV call (area averaging at an integer
    # factor: no block straddles two crops); the whole crop's mean is the mean of its blocks.
    k = 28 // _BLOCK
    blocks = cv2.resize(diff, (k, count_near * k), interpolation=cv2.INTER_AREA).reshape(count_near, k * k)
    same = (blocks.mean(axis=1) <= cfg.max_mean_diff) & (blocks.max(axis=1) <= cfg.max_block_diff)
    anchors[near[same]] = nearest[near[same]]
    return anchors


class ReuseCache:
    """The anchors of one source. :meth:`match` says which crops of a frame an anchor stands for,
    :meth:`fill` completes the frame's probabilities with the anchors' and keeps the frame's anchors
    for the next one."""

    def __init__(self, config: ReuseConfig = DEFAULT_REUSE) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Forget every anchor (another page, a reset of the source)."""
        self._boxes = np.zeros((0, 4), np.int64)
        self._crops = np.zeros((0, 28, 28), np.float32)
        self._probs: np.ndarray | None = None
        self._ages = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self._ages)

    def older(self) -> None:
        """Every anchor one frame older (a frame that read no crop: live video carried whole)."""
        self._ages = self._ages + 1

    def match(self, boxes: np.ndarray, crops: np.ndarray) -> np.ndarray:
        """For each of the frame's crops (``boxes`` from :func:`box_corners`, ``crops`` the classifier's
        ``(N, 28, 28, 1)`` input), the index of the anchor whose reading stands for it, or -1 where the
        classifier must read it."""
        return match_anchors(boxes, crops, self._boxes, self._crops, self._ages, self.config)

    def readings(self, anchors: np.ndarray) -> np.ndarray:
        """The anchors' readings ``(N, classes)``, one row per entry of ``anchors`` (a row of
        :meth:`match`; -1 gives a row of zeros)."""
        if self._probs is None or not len(self._probs):
            return np.zeros((len(anchors), 1 if self._probs is None else self._probs.shape[1]), np.float32)
        return np.where((anchors >= 0)[:, None], self._probs[np.maximum(anchors, 0)], 0.0)

    def fill(self, boxes: np.ndarray, crops: np.ndarray, anchors: np.ndarray, fresh: np.ndarray, classes: int) -> np.ndarray:
        """The frame's ``(N, classes)`` probabilities: ``fresh`` (the classifier's, for the crops where
        ``anchors`` is -1, in their order) and the anchors' for the others. The frame's crops become the
        anchors for the next frame: a reused crop keeps its anchor (box, crop, reading, one frame older),
        a freshly read one is a new anchor."""
        count = len(boxes)
        read = anchors < 0
        reused = ~read
        probs = np.empty((count, classes), np.float32)
        probs[read] = fresh
        if reused.any():
            probs[reused] = self._probs[anchors[reused]]
        new_boxes = boxes.copy()
        new_crops = crops.reshape(count, 28, 28).copy()
        ages = np.zeros(count, np.int64)
        if reused.any():
            new_boxes[reused] = self._boxes[anchors[reused]]
            new_crops[reused] = self._crops[anchors[reused]]
            ages[reused] = self._ages[anchors[reused]] + 1
        self._boxes, self._crops, self._probs, self._ages = new_boxes, new_crops, probs.copy(), ages
        return probs

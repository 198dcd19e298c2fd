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
- the anchor is younger than ``max_age`` frames read and ``max_span`` frames in all (a last safety net:
  every crop is read afresh at least that often). A frame carried whole (the page stood still since a
  frame read whole, ``vision.view``) reads no crop: it counts towards ``max_span`` only.

A reused crop keeps comparing against the anchor, never against the previous frame's crop, so slow
drift (the hand wandering, the light changing) cannot add up unseen: once the crop has drifted past a
threshold from what the classifier saw, it is read again.

The test itself and its measured thresholds: :mod:`livedigits.vision.anchors`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from livedigits.types import Box, Candidate
# The anchor test and its settings live with the segmentation, which carries cut decisions by the same test;
# they are named here too, where the classifier's reuse is.
from livedigits.vision.anchors import DEFAULT_REUSE, ReuseConfig, corners_of, match_anchors

__all__ = ["DEFAULT_REUSE", "ReuseCache", "ReuseConfig", "box_corners", "corners_of", "match_anchors", "read_reusing"]


def box_corners(candidates: list[Candidate]) -> np.ndarray:
    """``(N, 4)`` int64 ``x, y, x2, y2`` of the candidates' boxes."""
    return corners_of([c.box for c in candidates])


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
        self._ages = np.zeros(0, np.int64)  # frames read since the classifier read the crop
        self._spans = np.zeros(0, np.int64)  # frames in all, frames carried whole included

    def __len__(self) -> int:
        return len(self._ages)

    def older(self) -> None:
        """A frame that read no crop went by (live video carried whole: the page stood still since a frame
        read whole): every anchor's span grows by one, not its age in frames read."""
        self._spans = self._spans + 1

    def match(self, boxes: np.ndarray, crops: np.ndarray) -> np.ndarray:
        """For each of the frame's crops (``boxes`` from :func:`box_corners`, ``crops`` the classifier's
        ``(N, 28, 28, 1)`` input), the index of the anchor whose reading stands for it, or -1 where the
        classifier must read it."""
        return match_anchors(boxes, crops, self._boxes, self._crops, self._ages, self.config, self._spans)

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
        spans = np.zeros(count, np.int64)
        if reused.any():
            new_boxes[reused] = self._boxes[anchors[reused]]
            new_crops[reused] = self._crops[anchors[reused]]
            ages[reused] = self._ages[anchors[reused]] + 1
            spans[reused] = self._spans[anchors[reused]] + 1
        self._boxes, self._crops, self._probs, self._ages, self._spans = new_boxes, new_crops, probs.copy(), ages, spans
        return probs

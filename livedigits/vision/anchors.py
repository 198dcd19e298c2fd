"""When an earlier crop of live video stands for a new one: the *anchor* test that the classifier's reuse
(``reading.reuse``) and the segmentation's carried cut decisions (``vision.view.CutAnchors``) share.

An anchor is the box and the 28x28 crop of a piece of ink as something was last decided on it (the
classifier's reading, the search of the ways to cut it). A crop of a later frame of the same source is
stood for by an anchor only when its box is within ``max_shift`` pixels of the anchor's on every side, its
crop differs little from the anchor's (a small mean difference over the whole crop *and* no 4x4 block
changed much: a stroke added or rubbed out, a digit rewritten in the same box), and the anchor is young
enough (``max_age`` frames read, ``max_span`` frames in all). The comparison is always with the anchor,
never with the previous frame, so a slow drift cannot add up unseen.

This is a test of the frames alone, so it lives with the segmentation: the reading builds on it, never the
other way round.

Measured thresholds (same box within 1 px, consecutive frames of ``samples/demo.mp4`` and a ruled-page
clip): the mean difference of the same piece of ink is 0.015-0.02 at the median and 0.06 at most; the
4x4-block difference 0.09-0.11 at the median and 0.45 at most. Between crops of two different digits the
mean difference is 0.056 at the least (0.09 at the 1st percentile) and the block difference 0.29 at the
least (0.55 at the 1st percentile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from livedigits.types import Box


@dataclass(frozen=True)
class ReuseConfig:
    """When a crop's earlier reading (or cut decision) stands for it (see the module docstring for the
    measurements)."""

    max_shift: int = 1
    """Largest move, in frame pixels, of any side of the box from the anchor's box."""
    max_mean_diff: float = 0.03
    """Largest mean absolute difference (crops in [0, 1]) from the anchor's crop: about the 80th
    percentile of the same ink from frame to frame, half the smallest seen between two digits."""
    max_block_diff: float = 0.2
    """Largest mean absolute difference in any 4x4 block of the 28x28 crop: a new stroke 2-3 px wide
    across a block changes it by 0.4 or more, noise and sub-pixel shifts by 0.1 at the median."""
    max_age: int = 15
    """Frames *read* (segmented, their crops compared with the anchors) an anchor may stand in for the crop
    before it is read again (half a second at 30 fps when every frame is read)."""
    max_span: int = 60
    """Frames in all, frames carried whole included, an anchor may stand in (2 s at 30 fps). A frame carried
    whole (``vision.view``'s still test found no window of the page changed since a frame read whole) reads
    no crop, so it ages the anchors by this count only: a forced whole frame after a still stretch does not
    read every crop afresh, and every crop is still read afresh at least this often."""

    def __post_init__(self) -> None:
        if self.max_shift < 0 or self.max_age < 1 or self.max_mean_diff < 0 or self.max_block_diff < 0 \
                or self.max_span < self.max_age:
            raise ValueError("ReuseConfig: max_shift, max_mean_diff and max_block_diff must be >= 0, max_age >= 1, "
                             "max_span >= max_age")


DEFAULT_REUSE = ReuseConfig()

#: The side of the blocks compared by ``max_block_diff`` (28 = 7 x 4).
_BLOCK = 4


def corners_of(boxes: Sequence[Box]) -> np.ndarray:
    """``(N, 4)`` int64 ``x, y, x2, y2`` of ``boxes``."""
    corners = np.array([(b.x, b.y, b.w, b.h) for b in boxes], np.int64).reshape(len(boxes), 4)
    corners[:, 2:] += corners[:, :2]
    return corners


def match_anchors(boxes: np.ndarray, crops: np.ndarray, anchor_boxes: np.ndarray, anchor_crops: np.ndarray,
                  anchor_ages: np.ndarray, config: ReuseConfig = DEFAULT_REUSE,
                  anchor_spans: np.ndarray | None = None) -> np.ndarray:
    """For each crop (``boxes`` from :func:`corners_of`, ``crops`` ``(N, 28, 28[, 1])`` float32), the index of
    the anchor (``anchor_boxes`` ``(M, 4)``, ``anchor_crops`` ``(M, 28, 28)``, ``anchor_ages`` ``(M,)``: frames
    read since, ``anchor_spans`` ``(M,)``: frames in all since, None: the ages) that stands for it, or -1."""
    cfg = config
    count = len(boxes)
    anchors = np.full(count, -1, np.int64)
    if not count or not len(anchor_ages):
        return anchors
    young = anchor_ages < cfg.max_age
    if anchor_spans is not None:
        young &= anchor_spans < cfg.max_span
    shift = np.abs(boxes[:, None, :] - anchor_boxes[None, :, :]).max(axis=2)  # (N, anchors), largest side move
    nearest = shift.argmin(axis=1)
    near = np.flatnonzero((shift[np.arange(count), nearest] <= cfg.max_shift) & young[nearest])
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

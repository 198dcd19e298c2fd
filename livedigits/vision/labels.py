"""The 8-connected pieces of a mask, labelled with their stats in 16 bits where the labels surely fit.

``cv2.connectedComponentsWithStats(mask, connectivity=8)`` labels in 32 bits (``CV_32S``) by default. Asked for
16-bit labels (``CV_16U``), the same call gives the same labels and stats for a third to a half of the CPU (this
OpenCV build, best of 30: a 640x480 ink mask 1.6-1.8 -> 0.8 ms, 1280x720 5.2-5.3 -> 2.4-2.6 ms, 2000x1500
17.1-17.6 -> 6.5-6.8 ms, with one OpenCV thread and with two; 4-connected and without stats it is no cheaper). But
16-bit labels hold only so many *provisional* labels, those the first scan hands out before the pieces they join are
merged: past 65,534 OpenCV 5 raises ``cv2.error`` ("Total number of labels overflowed label type"), and so it does
on a mask of fewer pieces than that whose pieces each took several provisional labels (a comb of three teeth takes
three). Counting the pieces first is therefore no guard, and costs a labelling itself (10 ms of CPU on ``real06``'s
faint ink, more than the 16-bit labelling it chose).

:func:`components` bounds the provisional labels instead, in a few cheap passes: the labelling scans 2x2 blocks
(OpenCV's default 8-connected algorithm, Spaghetti, and BBDT before it), gives a block at most one new label, and no
new one to a block whose ink touches the ink of the block to its left. In each band of two rows a run of columns
holding ink is one chain of touching blocks, so the runs, over all the bands, are at least as many as the new labels
(and the ink pixels at least as many as the runs). Where that bound is at most ``LABELS_16``, the 16-bit call is
made; elsewhere the 32-bit one.

Example::

    count, labels, stats, centroids = components(ink)   # as cv2.connectedComponentsWithStats(ink, connectivity=8)
"""

from __future__ import annotations

import cv2
import numpy as np

#: The most provisional labels a 16-bit labelling holds: OpenCV checks that a new label is under 65,535
#: (``numeric_limits<uint16_t>::max()``) before handing it out, and labels count from 1.
LABELS_16 = 65534


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats(mask, connectivity=8)`` of a uint8 ``mask`` (nonzero = ink): the count of
    labels (the background's among them), the ``(H, W)`` labels, the ``(count, 5)`` int32 stats and the centroids,
    the same labels and stats; the labels are uint16 where they surely fit in 16 bits (:func:`new_labels_at_most`
    at most ``LABELS_16``), else int32. Compare or index with them as with any integer array; do not write a
    label over 65,535 into them."""
    fits = mask.size > 0 and (cv2.countNonZero(mask) <= LABELS_16 or new_labels_at_most(mask) <= LABELS_16)
    return cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U if fits else cv2.CV_32S)


def new_labels_at_most(mask: np.ndarray) -> int:
    """At least as many as the provisional labels the 8-connected labelling of the uint8 ``mask`` hands out: the runs
    of columns holding ink (in either row) in each band of two rows from the top (the last row alone where the rows
    are odd)."""
    h = mask.shape[0]
    bands = cv2.max(mask[0: h - 1: 2], mask[1::2]) if h > 1 else mask[:0]
    runs = _runs(bands) if len(bands) else 0
    return runs + (_runs(mask[h - 1:]) if h % 2 else 0)


def _runs(rows: np.ndarray) -> int:
    """The runs of nonzero pixels along the rows of ``rows`` (uint8), all rows together."""
    ink = cv2.compare(rows, 0, cv2.CMP_GT)
    return cv2.countNonZero(ink[:, :1]) + cv2.countNonZero(cv2.subtract(ink[:, 1:], ink[:, :-1]))

"""Ruled and grid lines in an ink mask: find them, take them out, bridge the strokes that crossed them.

A line is a long straight run of ink, much longer than thick and longer than any digit's stroke. Runs
are found on a mask pooled across their direction, so a line that slopes a few degrees (a page held at
an angle) still counts; a line broken by noise is carried on along itself. Pure functions, no state.
"""

from __future__ import annotations

import cv2
import numpy as np


def outer_contours(mask: np.ndarray) -> list[np.ndarray]:
    """The outer contours of the ink in a uint8 mask (OpenCV 3, 4 and 5 return shapes differ)."""
    contours = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return list(contours[0] if len(contours) == 2 else contours[1])


#: Rows (for horizontal lines) or columns (vertical) are pooled by this factor before looking for
#: straight runs, so a line sloping a few degrees still gives long runs.
LINE_POOL = 4
#: A run is a ruled or grid line only if it is at least this many times longer than it is thick (as
#: measured on the pooled mask, which overstates a thin line's thickness up to fourfold).
LINE_ASPECT = 15.0
#: Ink darker than this share of a printed line's typical grey level is a pen stroke running along it.
PEN_DARKER = 0.8
#: Gaps up to this many pixels along a line (a faint or dotted printed line) do not end its run.
LINE_GAP = 9


def _runs(mask: np.ndarray, length: int, vertical: bool) -> np.ndarray:
    """Straight runs of ink at least ``length`` px long along one axis, found on the mask pooled by
    ``LINE_POOL`` across that axis (any ink in the pooled pixel counts), so a line sloping a few degrees
    still gives long runs. Returned at the pooled size."""
    h, w = mask.shape
    size = (w, max(1, h // LINE_POOL)) if not vertical else (max(1, w // LINE_POOL), h)
    along = (LINE_GAP, 1) if not vertical else (1, LINE_GAP)
    run = (length, 1) if not vertical else (1, length)
    pooled = cv2.compare(cv2.resize(mask, size, interpolation=cv2.INTER_AREA), 0, cv2.CMP_GT)
    # Bridge the small gaps of a faint or dotted printed line first, then keep only the long runs.
    pooled = cv2.morphologyEx(pooled, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, along))
    return cv2.morphologyEx(pooled, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, run))


def line_lengths(frame_w: int, frame_h: int, share: float, digit_height: float | None = None,
                 digits: float = 1.5) -> tuple[int, int]:
    """The shortest horizontal and vertical runs that count as lines in a frame: ``share`` of its width
    (or height), and, when the writing's digit height is known, ``digits`` digit heights."""
    protect = int(digits * digit_height) if digit_height else 0
    return max(int(frame_w * share), protect), max(int(frame_h * share), protect)


def line_regions(mask: np.ndarray, boxes: np.ndarray, lengths: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Boxes of the pieces of ink that may hold ruled or grid lines: long and thin for their length (a
    ruled line, with the digits that touch it), or long both ways and mostly empty (a grid). A big digit
    is long but not thin, so it is never searched for lines. ``boxes``: ``(x, y, w, h)`` rows of the
    pieces; ``lengths``: the shortest horizontal and vertical lines (``line_lengths``)."""
    long_x, long_y = lengths
    regions = []
    for x, y, bw, bh in boxes.tolist():
        if bw < long_x and bh < long_y:
            continue
        ink = cv2.countNonZero(mask[y: y + bh, x: x + bw])
        long_side = max(bw, bh)
        thin = ink / float(long_side) * LINE_ASPECT <= long_side
        net = bw >= long_x and bh >= long_y and ink <= 0.2 * bw * bh
        if thin or net:
            regions.append((x, y, bw, bh))
    return regions


def remove_lines(mask: np.ndarray, lengths: tuple[int, int], gray: np.ndarray | None = None,
                 regions: list[tuple[int, int, int, int]] | None = None) -> np.ndarray:
    """Remove ruled and grid lines, in both directions, from the ink mask (within ``regions``, boxes
    ``(x, y, w, h)``, or everywhere); a new mask is returned.

    A line is a straight run of ink at least ``lengths`` (horizontal, vertical) long and at least
    ``LINE_ASPECT`` times longer than thick; with the digit height in ``lengths`` (``line_lengths``), the
    stem of a 1 or the bar of a 7, however large, stays. With the frame's ``gray`` values,
    ink much darker than the line's own (a pen stroke along a faint printed line) stays too. Where a
    stroke crossed a removed line, the gap is bridged again.
    """
    h, w = mask.shape
    long_x, long_y = lengths
    out = mask.copy()
    for x, y, bw, bh in regions if regions is not None else [(0, 0, w, h)]:
        for vertical in (False, True):
            length = long_y if vertical else long_x
            if length < 8 or length > (bh if vertical else bw):
                continue
            # A margin around the region, for the bridging across lines at its border.
            x0, y0, x1, y1 = max(0, x - 8), max(0, y - 8), min(w, x + bw + 8), min(h, y + bh + 8)
            _remove_runs(mask[y0:y1, x0:x1], out[y0:y1, x0:x1], None if gray is None else gray[y0:y1, x0:x1],
                         length, vertical)
    return out


def _remove_runs(mask: np.ndarray, out: np.ndarray, gray: np.ndarray | None, length: int, vertical: bool) -> None:
    """Take the lines of one direction out of ``out`` (a view, changed in place), found on ``mask``."""
    h, w = mask.shape
    runs = _runs(mask, length, vertical)
    if not runs.any():
        return
    contours = outer_contours(runs)
    rects = np.array([cv2.boundingRect(c) for c in contours], np.float64).reshape(-1, 4)
    long_side = rects[:, 3] if vertical else rects[:, 2]
    # A run's thickness in source pixels, from its pooled outline's area: an upper bound, since a
    # pooled pixel stands for LINE_POOL of them across the run.
    thickness = (np.array([cv2.contourArea(c) for c in contours]) / np.maximum(1.0, long_side) + 1.0) * LINE_POOL
    is_line = (long_side >= length) & (long_side >= LINE_ASPECT * thickness)
    if not is_line.any():
        return
    band = np.zeros_like(runs)
    cv2.drawContours(band, [c for c, keep in zip(contours, is_line) if keep], -1, 255, thickness=cv2.FILLED)
    # A line broken by noise or a faint stretch leaves short pieces between its runs: carry each run on
    # along its own direction by half the shortest line, so the pieces in line with it go too.
    carry = max(3, length // 2) | 1
    band = cv2.dilate(band, cv2.getStructuringElement(cv2.MORPH_RECT, (1, carry) if vertical else (carry, 1)))
    # Back to full size: each pooled pixel covers LINE_POOL rows (or columns) of the mask.
    band = cv2.resize(band, (w, h), interpolation=cv2.INTER_NEAREST)
    lines = cv2.bitwise_and(mask, band)
    if gray is not None and lines.any():
        # Printed lines are usually fainter than pen ink: where a stroke runs along a line, the
        # pixels clearly darker than the line's own ink are the stroke's, and stay.
        typical = float(np.median(gray[lines > 0]))
        lines = cv2.bitwise_and(lines, cv2.compare(gray, typical * PEN_DARKER, cv2.CMP_GE))
    cleaned = cv2.subtract(out, lines)
    # Bridge strokes that crossed a line: close across it, but only inside what was removed.
    across = max(3, int(np.percentile(thickness[is_line], 90)) + 3)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (across, 1) if vertical else (1, across))
    bridged = cv2.bitwise_and(cv2.morphologyEx(cleaned, cv2.MORPH_CLOSE, kernel), lines)
    out[:] = cv2.bitwise_or(cleaned, bridged)

"""Box overlap for many boxes at once, and one-to-one matching by it.

Frame to frame tracking (``reading.Tracker``, the collect tracker) and scoring against ground truth
(``score``) all pair boxes the same way: the IoU of every box with every other, then greedy matching,
best overlap first. A single pair's IoU is ``Box.iou``; ``iou_matrix`` gives the same numbers.

Example::

    iou = iou_matrix(new_boxes, old_boxes)          # (len(new), len(old)) float64
    for i, j in greedy_match(iou, threshold=0.3):   # new_boxes[i] continues old_boxes[j]
        ...
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from livedigits.types import Box


def _as_array(boxes: Sequence[Box] | np.ndarray) -> np.ndarray:
    if isinstance(boxes, np.ndarray):
        array = boxes.astype(np.float64, copy=False)
    else:
        array = np.array([b.as_list() for b in boxes], np.float64)
    array = array.reshape(-1, 4) if array.size == 0 else array
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"boxes must be Box objects or an (N, 4) array of x, y, w, h; got shape {array.shape}")
    return array


def iou_matrix(a: Sequence[Box] | np.ndarray, b: Sequence[Box] | np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` with every box in ``b``: a float64 ``(len(a), len(b))`` array.

    Boxes are ``Box`` objects or ``(N, 4)`` arrays of ``x, y, w, h``. Boxes with no area overlap
    nothing (IoU 0), as with ``Box.iou``.
    """
    a, b = _as_array(a), _as_array(b)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    # Dividing only where the union is positive: two empty boxes have no overlap to speak of.
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def greedy_match(iou: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """One-to-one pairs ``(row, column)`` of ``iou`` with overlap >= ``threshold``, best overlap first.

    Each row and each column is used at most once; equal overlaps go to the lower row, then the
    lower column, so the result does not depend on the sort. Entries a caller wants never paired
    can be set below ``threshold`` (``-inf`` works for any threshold).
    """
    iou = np.asarray(iou, np.float64)
    if iou.ndim != 2:
        raise ValueError(f"iou must be a 2-D matrix, got shape {iou.shape}")
    if iou.size == 0:
        return []
    # Only the overlaps that reach the threshold (NaN does not) are ever paired: a stable sort of them,
    # negated, keeps ties in row-major order, as a sort of the whole matrix would.
    flat = iou.ravel()
    reach = np.flatnonzero(flat >= threshold)
    order = reach[np.argsort(-flat[reach], kind="stable")]
    used_rows, used_columns, pairs = set(), set(), []
    for flat_index in order.tolist():
        row, column = divmod(flat_index, iou.shape[1])
        if row in used_rows or column in used_columns:
            continue
        used_rows.add(row)
        used_columns.add(column)
        pairs.append((row, column))
    return pairs

"""Box overlap and one-to-one matching, shared by the tracker, the collect tracker and the scorer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livedigits.vision.boxes import greedy_match, iou_matrix
from livedigits.types import Box

boxes = st.lists(st.builds(Box, st.integers(-50, 200), st.integers(-50, 200), st.integers(0, 80), st.integers(0, 80)),
                 max_size=8)


@settings(max_examples=80, deadline=None)
@given(boxes, boxes)
def test_the_matrix_holds_each_pairs_iou(left, right):
    iou = iou_matrix(left, right)
    assert iou.shape == (len(left), len(right)) and iou.dtype == np.float64
    for i, j in itertools.product(range(len(left)), range(len(right))):
        assert iou[i, j] == left[i].iou(right[j])
    # The same boxes as an (N, 4) array give the same matrix.
    as_array = np.array([b.as_list() for b in left], np.int64).reshape(-1, 4)
    assert np.array_equal(iou_matrix(as_array, right), iou)


def test_known_overlaps_and_empty_boxes():
    iou = iou_matrix([Box(0, 0, 10, 10)], [Box(5, 0, 10, 10), Box(20, 20, 5, 5), Box(0, 0, 10, 10), Box(3, 3, 0, 0)])
    assert iou.tolist() == [[50 / 150, 0.0, 1.0, 0.0]]
    assert iou_matrix([], [Box(0, 0, 1, 1)]).shape == (0, 1)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        iou_matrix(np.zeros((2, 3)), [])


def test_greedy_match_pairs_best_first_one_to_one():
    iou = np.array([
        [0.9, 0.8, 0.0],
        [0.85, 0.2, 0.0],
        [0.0, 0.0, 0.3],
    ])
    # Row 0 takes column 0 (0.9); row 1 cannot have it and its 0.2 with column 1 is under the bar;
    # 0.3 is exactly the threshold and counts.
    assert greedy_match(iou, 0.3) == [(0, 0), (2, 2)]
    assert greedy_match(iou, 0.1) == [(0, 0), (2, 2), (1, 1)]
    assert greedy_match(iou, 0.95) == []
    assert greedy_match(np.zeros((0, 4)), 0.3) == []


def test_ties_go_to_the_lower_row_then_column_and_forbidden_pairs_never_match():
    iou = np.full((3, 3), 0.5)
    assert greedy_match(iou, 0.3) == [(0, 0), (1, 1), (2, 2)]
    iou[0, 0] = -np.inf
    assert greedy_match(iou, 0.0) == [(0, 1), (1, 0), (2, 2)]

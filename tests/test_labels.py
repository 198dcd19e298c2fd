"""The pieces of a mask labelled in 16 bits where they fit: the same labels and stats as OpenCV's 32-bit call."""
import cv2
import numpy as np
import pytest

from livedigits.vision.labels import LABELS_16, components, new_labels_at_most


def _few_pieces() -> np.ndarray:
    mask = np.zeros((480, 640), np.uint8)
    cv2.putText(mask, "12 + 34 = 46", (20, 250), cv2.FONT_HERSHEY_SIMPLEX, 3, 255, 7)
    return mask


def _dots() -> np.ndarray:
    """75,000 one-pixel pieces: more than 16 bits may label."""
    mask = np.zeros((500, 600), np.uint8)
    mask[::2, ::2] = 255
    return mask


def _combs() -> np.ndarray:
    """25,000 combs of three teeth joined below: fewer pieces than 16 bits label, but each takes three
    provisional labels, 75,000 in all (counting the pieces first chose 16 bits, and OpenCV raised)."""
    tile = np.zeros((6, 9), np.uint8)
    tile[0:2, [0, 3, 6]] = 255
    tile[2:4, 0:7] = 255
    return np.tile(tile, (125, 200))


@pytest.mark.parametrize("make, bits", [(_few_pieces, 16), (_dots, 32), (_combs, 32)])
def test_the_pieces_are_opencvs_32_bit_labelling_in_16_bits_where_they_fit(make, bits):
    mask = make()
    count, labels, stats, centroids = components(mask)
    want = cv2.connectedComponentsWithStats(mask, connectivity=8)
    assert count == want[0]
    assert np.array_equal(labels, want[1]) and np.array_equal(stats, want[2]) and np.array_equal(centroids, want[3])
    assert labels.dtype == (np.uint16 if bits == 16 else np.int32)


def test_the_bound_holds_where_16_bits_overflow_and_on_views_of_random_ink():
    combs = _combs()
    assert cv2.connectedComponents(combs, connectivity=8)[0] - 1 < LABELS_16 < new_labels_at_most(combs)
    with pytest.raises(cv2.error):
        cv2.connectedComponentsWithStats(combs, connectivity=8, ltype=cv2.CV_16U)
    rng = np.random.default_rng(0)
    for _ in range(30):
        h, w = (int(v) for v in rng.integers(2, 120, 2))
        mask = cv2.dilate(((rng.random((h, w)) < 0.2) * 255).astype(np.uint8), np.ones((2, 1), np.uint8))[1:, 1:]
        runs = sum(int(band[0]) + int((band[1:] & ~band[:-1]).sum())
                   for band in ((mask[r: r + 2] > 0).any(axis=0) for r in range(0, mask.shape[0], 2)))
        assert new_labels_at_most(mask) == runs
        want = cv2.connectedComponentsWithStats(mask, connectivity=8)
        got = components(mask)
        assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])

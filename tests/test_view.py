"""The view carried across live video frames (``livedigits.vision.view``): the paper estimate and the
ruled lines of an anchor frame serve the next frames while the view holds still, moved with it; a cut, a
pan, a shadow or a change in size is read afresh on its own frame, and no digit is ever carried over."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livedigits.classify.backends import load_classifier
from livedigits.reading.recognizer import Recognizer
from livedigits.types import Frame
from livedigits.vision.lines import find_lines, line_lengths, remove_lines, take_out_lines
from livedigits.vision.segment import segment
from livedigits.vision.view import REESTIMATE_EVERY

SIZE = (640, 480)
#: MNIST test images (of the repository's slice) and the page rows they are written on.
FIRST = (0, 1, 2, 3, 4)  # 7 2 1 0 4
SECOND = (5, 6, 7, 8, 11)  # 1 4 9 5 6


def _ink(image28: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(image28 > 30)
    return image28[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]


def _boxes(count: int, row: int = 0, height: int = 50) -> list[tuple[int, int, int, int]]:
    """Digit boxes ``height`` px tall, spaced as separate numbers, sitting 6 px above the ruled line of
    ``row``."""
    return [(90 + 100 * k, 154 - height + 90 * row, int(0.72 * height), height) for k in range(count)]


def _page(digits, boxes, seed: int, shift=(0, 0), pitch: int = 90, shade: float = 0.0) -> np.ndarray:
    """A ruled page (a line every ``pitch`` px) on a dark table, digits inked in their boxes, sensor noise
    from ``seed``, the whole view moved by ``shift`` px; ``shade`` darkens the left half (a shadow)."""
    rng = np.random.default_rng(seed)
    w, h = SIZE
    image = np.full((h, w), 45.0, np.float32)  # the table
    dx, dy = shift
    image[30 + dy: 450 + dy, 40 + dx: 600 + dx] = np.linspace(200, 225, 560, dtype=np.float32)[None, :]
    for y in range(160, 450, pitch):
        image[y + dy: y + dy + 2, 40 + dx: 600 + dx] = 150.0  # a ruled line
    alpha = np.zeros((h, w), np.float32)
    for digit, (x, y, bw, bh) in zip(digits, boxes):
        alpha[y + dy: y + dy + bh, x + dx: x + dx + bw] = cv2.resize(_ink(digit), (bw, bh)) / 255.0
    image = image * (1.0 - 0.8 * alpha)
    if shade:
        image[:, : w // 2] *= 1.0 - shade
    image += rng.normal(0.0, 2.0, image.shape)
    return cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _boxes_of(found) -> list[tuple[int, int, int, int]]:
    return [(c.box.x, c.box.y, c.box.w, c.box.h) for c in found.candidates]


def _longest_on_the_page(mask: np.ndarray) -> int:
    """The widest piece of ink on the page (10 px inside its edges, wherever the view moved it): the
    table around it, and the page's own border against the table, are no writing."""
    page = np.ascontiguousarray(mask[40:440, 50:590])
    rects = [cv2.boundingRect(c) for c in cv2.findContours(page, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]]
    return max([w for x, y, w, h in rects], default=0)


def _near(a, b, tolerance: int) -> bool:
    return len(a) == len(b) and all(all(abs(p - q) <= tolerance for p, q in zip(u, v)) for u, v in zip(sorted(a), sorted(b)))


@pytest.fixture(scope="module")
def digits(mnist_slice):
    (_, _), (x_test, y_test) = mnist_slice
    return x_test, y_test


def _follow(frames):
    """Each frame segmented with the view carried over from the one before, and on its own."""
    memory, out = None, []
    for image in frames:
        found = segment(image, memory=memory, remember=True)
        memory = found.view
        out.append((found, segment(image)))
    return out


def test_a_still_view_keeps_its_estimates_and_reads_the_same(digits) -> None:
    x_test, _ = digits
    boxes = _boxes(5) + _boxes(5, row=2)
    written = [x_test[i] for i in FIRST + SECOND]
    # The camera drifts by a pixel a frame, as a hand-held page does.
    frames = [_page(written, boxes, seed=k, shift=(k // 2, k // 3)) for k in range(2 * REESTIMATE_EVERY)]
    followed = _follow(frames)
    ages = [found.view.age for found, _ in followed]
    # Estimated on the anchor, carried over for the next frames, estimated again every REESTIMATE_EVERY.
    assert ages == list(range(REESTIMATE_EVERY)) * 2
    for k, (found, alone) in enumerate(followed):
        # The same ten digits, in the same boxes (to a pixel or two: the carried lines sit where the
        # shift put them), and the ruled lines are gone either way: no long piece of ink is left.
        assert len(found.candidates) == 10, k
        assert _near(_boxes_of(found), _boxes_of(alone), 2), k
        assert _longest_on_the_page(found.mask) < 100, k


def test_a_cut_to_another_page_and_a_pan_are_read_fresh(digits) -> None:
    x_test, _ = digits
    first, second = [x_test[i] for i in FIRST], [x_test[i] for i in SECOND]
    frames = [_page(first, _boxes(5), seed=k) for k in range(3)]
    frames.append(_page(second, _boxes(5, row=1), seed=3, pitch=60))  # another page, ruled otherwise
    frames += [_page(second, _boxes(5, row=1), seed=k, pitch=60) for k in (4, 5)]
    frames.append(_page(second, _boxes(5, row=1), seed=6, pitch=60, shift=(30, 12)))  # a pan
    frames.append(_page(second, _boxes(5, row=1), seed=7, pitch=60, shift=(30, 12), shade=0.35))  # a shadow
    followed = _follow(frames)
    assert [found.view.age for found, _ in followed] == [0, 1, 2, 0, 1, 2, 0, 0]
    for k in (3, 6, 7):
        # Read afresh on the very frame: exactly what reading it alone finds.
        found, alone = followed[k]
        assert _boxes_of(found) == _boxes_of(alone) and np.array_equal(found.mask, alone.mask), k
    assert len(followed[3][0].candidates) == 5


def test_no_digit_is_carried_over(digits) -> None:
    x_test, _ = digits
    # Small writing (28 px): a digit changes too little of its part of the view to start afresh, so the
    # estimates are carried over the frames where digits come and go.
    boxes = _boxes(5, height=28)
    written = [x_test[i] for i in FIRST]
    frames = [_page(written, boxes, seed=k) for k in range(3)]
    frames.append(_page(written[:4], boxes[:4], seed=3))  # the last digit rubbed out
    frames.append(_page(written + [x_test[9]], boxes + [(560, 126, 20, 28)], seed=4))  # one written
    followed = _follow(frames)
    assert [found.view.age for found, _ in followed] == [0, 1, 2, 3, 4]
    counts = [len(found.candidates) for found, _ in followed]
    assert counts == [5, 5, 5, 4, 6]
    for found, alone in followed:
        assert _near(_boxes_of(found), _boxes_of(alone), 2)


def test_the_recognizer_carries_the_view_for_video_only(digits) -> None:
    x_test, y_test = digits
    classifier = load_classifier("lite-int8")
    image = _page([x_test[i] for i in FIRST], _boxes(5), seed=0)
    recognizer = Recognizer(classifier, carry=False)  # every frame segmented (whole frames carried: test_reuse.py)
    # Stills are read alone, every time.
    for name in ("a.png", "a.png"):
        found, _ = recognizer.segment(Frame(0, 0.0, image, file=name), "folder")
        assert found.view is None
    # Video: the view goes on from frame to frame, per source; another page is read within two frames.
    second = _page([x_test[i] for i in SECOND], _boxes(5, row=1), seed=5, pitch=60)
    results = [recognizer.process(Frame(k, k / 30, image if k < 4 else second), source="cam") for k in range(6)]
    assert recognizer.segment(Frame(6, 0.2, second), "cam")[0].view.age == 2
    assert recognizer.segment(Frame(0, 0.0, second), "cam2")[0].view.age == 0
    fresh = Recognizer(classifier, smooth=False).process(Frame(0, 0.0, second))
    assert [n.text for n in results[5].numbers] == [n.text for n in fresh.numbers] == [str(int(y_test[i])) for i in SECOND]
    # Turned off, nothing is carried.
    off = Recognizer(classifier, view_memory=False)
    assert off.segment(Frame(0, 0.0, image), "cam")[0].view is None


def test_lines_found_once_serve_a_moved_view(digits) -> None:
    x_test, _ = digits
    image = cv2.cvtColor(_page([x_test[i] for i in FIRST], _boxes(5), seed=0), cv2.COLOR_BGR2GRAY)
    mask = cv2.compare(image, 175, cv2.CMP_LT)  # the ruled lines (150) too
    mask[:30] = mask[450:] = 0
    mask[:, :40] = mask[:, 600:] = 0  # the page only, as the paper estimate leaves it
    lengths = line_lengths(*SIZE, 0.12)
    lines = find_lines(mask, lengths)
    assert [band.vertical for band in lines.bands] == [False]
    assert np.array_equal(take_out_lines(mask, lines), remove_lines(mask, lengths))
    moved = np.zeros_like(mask)
    moved[3:, 2:] = mask[:-3, :-2]
    # The lines moved with the view take the moved lines out as finding them again does.
    again = take_out_lines(moved, lines.shifted(2, 3))
    assert cv2.countNonZero(cv2.bitwise_xor(again, remove_lines(moved, lengths))) < 0.02 * cv2.countNonZero(again)
    assert _longest_on_the_page(again) < 100


def test_only_lines_two_anchors_both_found_are_carried() -> None:
    def ruled(rows):
        mask = np.zeros((480, 640), np.uint8)
        for y in rows:
            mask[y: y + 2, 40:600] = 255
        return mask

    lengths = line_lengths(*SIZE, 0.12)
    both, one = find_lines(ruled((160, 250)), lengths), find_lines(ruled((160,)), lengths)
    common = both.found_in_both(one)
    assert len(common.bands) == 1
    band = common.bands[0].mask
    # The line at row 160 is kept, the one only the first search found (row 250) is not.
    assert band[160:162, 100:500].all() and not band[240:260].any()
    assert cv2.countNonZero(take_out_lines(ruled((160, 250)), common)[150:170]) == 0
    assert cv2.countNonZero(take_out_lines(ruled((160, 250)), common)[245:255]) > 0
    # Nothing in common in a direction: no band there.
    assert find_lines(ruled((160,)), lengths).found_in_both(find_lines(np.zeros((480, 640), np.uint8), lengths)).bands == ()


def test_a_line_missed_by_one_anchor_is_taken_out_again_later(digits) -> None:
    x_test, _ = digits
    # Frames of one still view; the second anchor's search misses a line (it is erased from that frame
    # only). A line is carried when two anchors in a row found it, and each anchor is compared with the
    # last one's own search, not with what was carried: so the line is taken out again from the fourth
    # anchor on, not lost for as long as the view holds.
    base = _page([x_test[i] for i in FIRST], _boxes(5), seed=0)
    gap = base.copy()
    gap[340:343, 40:600] = gap[330:333, 40:600]  # the line at row 340: gone from this frame
    frames = [base] * REESTIMATE_EVERY + [gap] + [base] * (3 * REESTIMATE_EVERY)
    followed = _follow(frames)
    anchors = [k for k, (found, _) in enumerate(followed) if found.view.age == 0]
    assert anchors == [0, REESTIMATE_EVERY, 2 * REESTIMATE_EVERY, 3 * REESTIMATE_EVERY, 4 * REESTIMATE_EVERY]

    def line_ink(k: int) -> int:
        return cv2.countNonZero(followed[k][0].mask[336:346, 60:580])

    assert line_ink(REESTIMATE_EVERY - 1) < 50  # the first view's line, taken out
    assert line_ink(REESTIMATE_EVERY + 1) > 500 and line_ink(2 * REESTIMATE_EVERY) > 500  # not carried
    assert all(line_ink(k) < 50 for k in range(3 * REESTIMATE_EVERY, 4 * REESTIMATE_EVERY + 1))


def test_blur_is_measured_on_the_anchor_and_a_new_page_is_measured_afresh(monkeypatch) -> None:
    """A blurred page of pale ink is read with a lower faint level (``segment.measure_pale_ink``). On live
    video that measurement is made on the anchor frame only and carried with the paper; a cut to a sharp
    page is measured afresh on its own frame, never read with the blurred page's level."""
    from livedigits.bench.stress import row_scene
    from livedigits.vision import segment as seg

    blurred, _ = row_scene("blur", 34)
    sharp, _ = row_scene("none", 0)
    measured = []
    real = seg.measure_pale_ink
    monkeypatch.setattr(seg, "measure_pale_ink", lambda *a: measured.append(real(*a)) or measured[-1])
    frames = [blurred] * (REESTIMATE_EVERY + 2) + [sharp] * 2
    followed = _follow(frames)
    # Measured on each frame read alone, but on live video only on the anchors: frames 0, 8 and the cut.
    assert len(measured) == len(frames) + 3
    pale = followed[0][0].view.pale
    assert pale is not None and pale.share < seg.DEFAULT_CONFIG.faint_contrast
    for k, (found, alone) in enumerate(followed[:REESTIMATE_EVERY + 2]):
        assert found.view.pale == pale, k
        # Carried or measured, the blurred page reads as many pieces as it does alone.
        assert len(found.candidates) == len(alone.candidates), k
    for found, alone in followed[REESTIMATE_EVERY + 2:]:
        assert found.view.pale is None
        assert _boxes_of(found) == _boxes_of(alone)
    assert followed[REESTIMATE_EVERY + 2][0].view.age == 0



@pytest.mark.parametrize("factor", [1, 2, 3, 4, 5])
def test_the_still_views_shrink_is_opencvs_area_resize(factor) -> None:
    """``block_mean`` gives the bytes ``cv2.resize(..., INTER_AREA)`` gives at a whole factor (at 3, a box
    filter's sums: a 1280x720 frame's still view), on noise and on smooth grey."""
    from livedigits.vision.view import block_mean

    rng = np.random.default_rng(factor)
    for k in range(40):
        h, w = factor * int(rng.integers(1, 60)), factor * int(rng.integers(1, 60))
        gray = rng.integers(0, 256, (h, w), dtype=np.uint8)
        if k % 2:
            gray = cv2.GaussianBlur(gray, (5, 5), 0)
        expected = cv2.resize(gray, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
        assert np.array_equal(block_mean(gray, factor), expected)

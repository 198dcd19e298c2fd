"""Temporal reuse on live video (``livedigits.reading.reuse``): the classifier reads only new or changed
crops, a changed digit or page is read afresh, and stills never share a reading."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits.capture.sources import open_source
from livedigits.classify.backends import load_classifier
from livedigits.engine.loop import Engine
from livedigits.reading.recognizer import Recognizer
from livedigits.reading.reuse import ReuseCache, read_reusing
from livedigits.types import Box, Frame

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
#: MNIST test images (of the repository's slice) written on the synthetic page, and the one that
#: replaces the last of them in the same box.
WRITTEN = (0, 1, 2, 3, 4)  # 7 2 1 0 4
REWRITTEN = 8  # a 5
SIZE = (640, 480)


@pytest.fixture(scope="module")
def classifier():
    return load_classifier("lite-int8")


def _ink(image28: np.ndarray) -> np.ndarray:
    """The MNIST digit cut to its ink box (bright ink on black, uint8)."""
    ys, xs = np.nonzero(image28 > 30)
    return image28[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]


def _page(digits: list[np.ndarray], boxes: list[tuple[int, int, int, int]], seed: int, shift=(0, 0)) -> np.ndarray:
    """A light page with each digit inked into its box, sensor noise drawn from ``seed``, and the whole
    view moved by ``shift`` pixels."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(200, 225, SIZE[0], dtype=np.float32)[None, :]
    paper = np.repeat(ramp, SIZE[1], axis=0)
    alpha = np.zeros((SIZE[1], SIZE[0]), np.float32)
    for digit, (x, y, w, h) in zip(digits, boxes):
        x, y = x + shift[0], y + shift[1]
        alpha[y: y + h, x: x + w] = cv2.resize(_ink(digit), (w, h), interpolation=cv2.INTER_LINEAR) / 255.0
    image = paper * (1.0 - 0.8 * alpha) + rng.normal(0.0, 2.0, paper.shape)
    return cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _boxes(count: int) -> list[tuple[int, int, int, int]]:
    """A row of ``count`` digit boxes, 50 px tall, spaced as separate numbers."""
    return [(80 + 100 * k, 200, 36, 50) for k in range(count)]


def _detection_at(result, box, tolerance: int = 3):
    """The detection within ``tolerance`` px of ``box`` (x, y, w, h) on every side, or None."""
    return next((d for d in result.detections if all(abs(a - b) <= tolerance for a, b in zip(d.box.as_list(), box))), None)


def _digit_at(result, box, tolerance: int = 3):
    """The digit read within ``tolerance`` px of ``box``, or None."""
    found = _detection_at(result, box, tolerance)
    return None if found is None else found.digit


def test_a_digit_rewritten_in_the_same_box_is_read_afresh(classifier, mnist_slice) -> None:
    (_, _), (x_test, y_test) = mnist_slice
    boxes = _boxes(len(WRITTEN))
    before = [x_test[i] for i in WRITTEN]
    after = before[:-1] + [x_test[REWRITTEN]]
    changed_at = 8
    frames = [_page(before if k < changed_at else after, boxes, seed=k) for k in range(changed_at + 4)]
    on, off = Recognizer(classifier, carry=False), Recognizer(classifier, reuse=None)
    read_on, read_off, reused = [], [], []
    for k, image in enumerate(frames):
        batch = on.process_batch([("cam", Frame(k, k / 30, image), None)])
        reused.append(batch.reused)
        read_on.append(batch.results[0])
        read_off.append(off.process(Frame(k, k / 30, image), source="cam"))
    last = boxes[-1]
    old_digit, new_digit = int(y_test[WRITTEN[-1]]), int(y_test[REWRITTEN])
    # The page is read, and while it stays the same the classifier's readings are reused.
    assert [_digit_at(read_on[changed_at - 1], b) for b in boxes] == [int(y_test[i]) for i in WRITTEN]
    assert min(reused[1:changed_at]) >= len(WRITTEN) - 1
    # The rewritten digit's box is where the old one was (so only the crop tells them apart) ...
    old_box = _detection_at(read_on[changed_at - 1], last).box
    new_box = _detection_at(read_off[changed_at + 1], last).box
    assert max(abs(a - b) for a, b in zip(old_box.as_list(), new_box.as_list())) <= 1
    # ... yet the old digit is never shown once the new one is written, and the next frame reads it.
    assert all(_digit_at(r, last) != old_digit for r in read_on[changed_at:])
    assert _digit_at(read_on[changed_at + 1], last) == new_digit
    assert reused[changed_at] <= len(WRITTEN) - 1  # the rewritten crop went to the classifier
    # What is read is what a classifier reading every crop afresh reads.
    assert [[n.text for n in r.numbers] for r in read_on] == [[n.text for n in r.numbers] for r in read_off]


def test_a_moving_page_is_read_afresh(classifier, mnist_slice) -> None:
    (_, _), (x_test, y_test) = mnist_slice
    boxes = _boxes(len(WRITTEN))
    digits = [x_test[i] for i in WRITTEN]
    recognizer = Recognizer(classifier, carry=False)
    for k in range(6):  # the page slides 3 px a frame: no box stays within 1 px of where it was read
        batch = recognizer.process_batch([("cam", Frame(k, k / 30, _page(digits, boxes, seed=k, shift=(3 * k, 2 * k))), None)])
        assert batch.reused == 0 and batch.classified >= len(WRITTEN)
        assert [_digit_at(batch.results[0], (x + 3 * k, y + 2 * k, w, h)) for x, y, w, h in boxes] == [int(y_test[i]) for i in WRITTEN]


def test_another_page_in_the_same_boxes_is_read_within_two_frames(classifier, mnist_slice) -> None:
    (_, _), (x_test, y_test) = mnist_slice
    boxes = _boxes(5)
    first, second = [x_test[i] for i in WRITTEN], [x_test[i] for i in (5, 6, 7, 8, 11)]
    recognizer = Recognizer(classifier)
    results = [recognizer.process(Frame(k, k / 30, _page(first if k < 5 else second, boxes, seed=k)), source="cam")
               for k in range(7)]
    fresh = Recognizer(classifier, smooth=False).process(Frame(0, 0.0, _page(second, boxes, seed=6)))
    assert [n.text for n in results[6].numbers] == [n.text for n in fresh.numbers] == [str(int(y_test[i])) for i in (5, 6, 7, 8, 11)]


def test_stills_and_other_sources_never_share_a_reading(classifier, mnist_slice) -> None:
    (_, _), (x_test, _) = mnist_slice
    image = _page([x_test[i] for i in WRITTEN], _boxes(len(WRITTEN)), seed=0)
    recognizer = Recognizer(classifier)
    # The same picture as two still files: each is read whole.
    for name in ("a.png", "b.png", "a.png"):
        assert recognizer.process_batch([("folder", Frame(0, 0.0, image, file=name), None)]).reused == 0
    # Two cameras: each has its own cache, so the second's first frame is read whole.
    first = recognizer.process_batch([("cam1", Frame(0, 0.0, image), None)])
    both = recognizer.process_batch([("cam1", Frame(1, 0.03, image), None), ("cam2", Frame(0, 0.0, image), None)])
    # cam1's second frame keeps every piece's reading (a digit notched like a pair, offered cuts, keeps its
    # decision to be read whole without its parts read again: ``Segmentation.carried``); cam2's is read whole.
    assert first.reused == 0 and both.reused == len(WRITTEN) and both.classified == first.classified
    # Reading without smoothing (one picture at a time, as ``Reader.read``) never reuses.
    single = Recognizer(classifier, smooth=False)
    assert [single.process_batch([("", Frame(k, 0.0, image), None)]).reused for k in range(3)] == [0, 0, 0]


def test_the_cache_compares_against_what_the_classifier_read() -> None:
    cache = ReuseCache()
    crop = np.zeros((1, 28, 28, 1), np.float32)
    crop[0, 6:22, 12:15] = 1.0  # a 1
    corners = np.array([[10, 10, 30, 40]])
    probs = np.eye(11, dtype=np.float32)[[1]]
    assert (cache.match(corners, crop) == -1).all()
    cache.fill(corners, crop, np.array([-1]), probs, 11)
    # Noise is tolerated; a stroke added in the same box (a 1 becoming a 7) is not.
    noisy = np.clip(crop + np.random.default_rng(0).normal(0, 0.02, crop.shape), 0, 1).astype(np.float32)
    assert cache.match(corners + 1, noisy)[0] == 0
    seven = crop.copy()
    seven[0, 6:9, 5:15] = 1.0
    assert cache.match(corners, seven)[0] == -1
    assert cache.match(corners + 2, crop)[0] == -1  # moved 2 px: read again
    # A crop reused frame after frame is read again after max_age frames at the latest.
    anchors = []
    for _ in range(cache.config.max_age + 1):
        anchor = cache.match(corners, crop)
        anchors.append(int(anchor[0]))
        cache.fill(corners, crop, anchor, probs[:0] if anchor[0] >= 0 else probs, 11)
    assert anchors.count(-1) == 1 and anchors[-1] == -1


def test_frames_carried_whole_age_the_anchors_by_their_span_only() -> None:
    # A frame carried whole (the page stood still: vision.view) reads no crop. The anchors do not grow older in
    # frames read, so the first frame read after a still stretch keeps their readings; but no anchor stands in
    # for more than max_span frames in all.
    cache = ReuseCache()
    crop = np.zeros((1, 28, 28, 1), np.float32)
    crop[0, 6:22, 12:15] = 1.0
    corners = np.array([[10, 10, 30, 40]])
    probs = np.eye(11, dtype=np.float32)[[1]]
    cache.fill(corners, crop, np.array([-1]), probs, 11)
    for _ in range(cache.config.max_age + 5):  # more frames carried than max_age
        cache.older()
    anchor = cache.match(corners, crop)
    assert anchor[0] == 0
    cache.fill(corners, crop, anchor, probs[:0], 11)
    for _ in range(cache.config.max_span - 1 - (cache.config.max_age + 6)):  # its span was max_age + 6
        cache.older()
    assert cache.match(corners, crop)[0] == 0  # span max_span - 1
    cache.older()
    assert cache.match(corners, crop)[0] == -1  # max_span frames in all: read afresh
    # A stroke added is still never matched, however young the anchor.
    seven = crop.copy()
    seven[0, 6:9, 5:15] = 1.0
    cache.fill(corners, crop, np.array([-1]), probs, 11)
    cache.older()
    assert cache.match(corners, seven)[0] == -1


@pytest.mark.parametrize("clip, frames", [("demo.mp4", 150), ("realistic.mp4", 120)])
def test_sample_records_agree_with_reuse_on_and_off(classifier, clip, frames) -> None:
    runs = {}
    for name, recognizer in (("on", Recognizer(classifier, carry=False)), ("off", Recognizer(classifier, reuse=None))):
        stats, records = [], []
        Engine([open_source(SAMPLES / clip)], recognizer, draw=False,
               on_result=lambda result, _image, s: (stats.append(s), records.append(result.to_record()))).run()
        runs[name] = (stats, records)
    (stats_on, on), (stats_off, off) = runs["on"], runs["off"]
    assert len(on) == len(off) == frames
    # Every frame: the same digits in the same boxes with the same track ids, and the same numbers.
    # Only confidences may differ a little (a reused reading is the anchor frame's, not this frame's).
    key = lambda r: ([(d["box"], d["digit"], d["track_id"]) for d in r["detections"]], [n["text"] for n in r["numbers"]])
    assert [key(r) for r in on] == [key(r) for r in off]
    classified_on, reused = sum(s.batch for s in stats_on), sum(s.reused for s in stats_on)
    classified_off = sum(s.batch for s in stats_off)
    # Every crop made is read or kept its reading; the parts of a wide piece whose cut decision was carried
    # over are not made at all (the demo's touching-digit cuts: 8,565 crops read with reuse off, 5,047 made
    # with it on).
    assert sum(s.reused for s in stats_off) == 0 and classified_on + reused <= classified_off
    assert classified_on < 0.5 * classified_off  # measured: 32% (demo) and 40% (realistic)


def _sign(image: np.ndarray, char: str, x: int, y: int, side: int = 24) -> np.ndarray:
    """``image`` with a + or an x drawn in pen, ``side`` px square, its corner at ``x, y``."""
    out = image.copy()
    ink, mid = (40, 40, 40), side // 2
    strokes = (((x, y + mid), (x + side, y + mid)), ((x + mid, y), (x + mid, y + side))) if char == "+" else \
        (((x, y), (x + side, y + side)), ((x, y + side), (x + side, y)))
    for a, b in strokes:
        cv2.line(out, a, b, ink, 3)
    return out


def test_a_sign_rewritten_in_the_same_box_is_read_afresh(classifier, mnist_slice) -> None:
    """The sign model keeps its reading of an unchanged crop on video, as the digit classifier does; a +
    turned into an x in the same box is read as the x on that very frame, as reading every crop afresh."""
    (_, _), (x_test, _) = mnist_slice
    boxes = [(80, 200, 36, 50), (180, 200, 36, 50), (300, 200, 36, 50)]
    digits = [x_test[i] for i in (0, 1, 2)]  # 7 2 1
    changed_at = 6
    frames = [_sign(_page(digits, boxes, seed=k), "+" if k < changed_at else "x", 130, 212) for k in range(changed_at + 3)]
    on, off = Recognizer(classifier, carry=False), Recognizer(classifier, reuse=None)
    read = []
    predict = on.sign_classifier.predict
    on.sign_classifier = type("Counting", (), {"classes": on.sign_classifier.classes,
                                               "predict": staticmethod(lambda crops: read.append(len(crops)) or predict(crops))})()
    sums_on, sums_off = [], []
    for k, image in enumerate(frames):
        sums_on.append([e.text for e in on.process(Frame(k, k / 30, image), source="cam").expressions])
        sums_off.append([e.text for e in off.process(Frame(k, k / 30, image), source="cam").expressions])
    assert sums_on == sums_off
    assert sums_on[changed_at - 1] == ["7+2"] and all(s == ["7x2"] for s in sums_on[changed_at:])
    # While the page held still, the sign model read fewer crops than the first frame gave it.
    assert len(read) <= len(frames) and min(read[1:changed_at], default=0) < read[0]


def test_other_per_crop_models_keep_only_unchanged_sure_readings() -> None:
    """``read_reusing``: a crop an anchor stands for is not read again, a changed or moved one is, a
    reading short of ``sure`` is made afresh, and a frame with nothing to read leaves no anchor behind."""
    crop = np.zeros((1, 28, 28), np.float32)
    crop[0, 6:22, 12:15] = 1.0
    box = [Box(10, 10, 20, 30)]
    calls = []

    def model(rows):
        calls.append(len(rows))
        return np.tile(np.float32([0.995, 0.005]), (len(rows), 1))

    cache = ReuseCache()
    first = read_reusing(cache, box, crop, model)
    assert calls == [1] and np.allclose(read_reusing(cache, [Box(11, 10, 20, 30)], crop, model), first) and calls == [1]
    changed = crop.copy()
    changed[0, 6:9, 5:15] = 1.0  # a stroke added: a 1 becoming a 7
    read_reusing(cache, box, changed, model)
    read_reusing(cache, [Box(14, 10, 20, 30)], changed, model)  # moved 4 px
    assert calls == [1, 1, 1]
    read_reusing(cache, box[:0], crop[:0], model)  # nothing to read: the anchors go
    read_reusing(cache, [Box(14, 10, 20, 30)], changed, model)
    assert calls == [1, 1, 1, 0, 1]
    read_reusing(cache, [Box(14, 10, 20, 30)], changed, model, sure=0.999)  # 0.995 is not sure enough
    assert calls == [1, 1, 1, 0, 1, 1]


def _touching_page(numbers: list[list[np.ndarray]], seed: int) -> np.ndarray:
    """A light page with each number's digits written 32 px apart in boxes 36 px wide, so that the ink of
    neighbours touches (one wide piece of ink, read only cut), one number a row; sensor noise from ``seed``."""
    rng = np.random.default_rng(seed)
    paper = np.repeat(np.linspace(200, 225, SIZE[0], dtype=np.float32)[None, :], SIZE[1], axis=0)
    alpha = np.zeros((SIZE[1], SIZE[0]), np.float32)
    for row, digits in enumerate(numbers):
        y = 80 + 120 * row
        for n, digit in enumerate(digits):
            x = 120 + 32 * n
            ink = cv2.resize(_ink(digit), (36, 50), interpolation=cv2.INTER_LINEAR) / 255.0
            alpha[y: y + 50, x: x + 36] = np.maximum(alpha[y: y + 50, x: x + 36], ink)
    image = paper * (1.0 - 0.8 * alpha) + rng.normal(0.0, 2.0, paper.shape)
    return cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _read_both(on: Recognizer, off: Recognizer, images: list[np.ndarray]) -> tuple[list, list, list]:
    """Each frame read by ``on`` (its segmentation kept, to see which cuts it carried) and by ``off``."""
    found, read_on, read_off = [], [], []
    for k, image in enumerate(images):
        frame = Frame(k, k / 30, image)
        segmented = on.segment(frame, "cam")
        found.append(segmented[0])
        read_on.append(on.process_batch([("cam", frame, None, segmented)]).results[0])
        read_off.append(off.process(frame, source="cam"))
    return found, read_on, read_off


def test_a_digit_rewritten_in_a_cut_piece_is_never_read_stale(classifier, mnist_slice) -> None:
    """A still view of digits whose ink touches: the cut (where the piece is cut, and its parts' readings) is
    carried from frame to frame, not searched again; a digit of the piece rewritten into another is never
    shown as the old one, and is read on the next frame at the latest, as reading every frame afresh."""
    (_, _), (x_test, y_test) = mnist_slice
    seven, two, five, four, one = (x_test[i] for i in (0, 1, 15, 4, 2))  # 7 2 5 4 1
    changed_at, frames = 6, 24
    images = [_touching_page([[seven, two if k < changed_at else five], [four, one]], seed=k) for k in range(frames)]
    found, read_on, read_off = _read_both(Recognizer(classifier, carry=False), Recognizer(classifier, reuse=None), images)
    texts = lambda r: [n.text for n in r.numbers]
    assert texts(read_off[0]) == ["72", "41"] and texts(read_off[changed_at + 1]) == ["75", "41"]

    def top(f):  # the first row's piece of ink (the touching 7 and 2, then 7 and 5)
        return next(k for k, c in enumerate(f.candidates) if c.box.y < 150)

    # The touching pair is one wide piece, read cut: its ways searched on the first frame, then carried.
    assert top(found[0]) in found[0].splits and not found[0].carried
    assert all(top(f) in f.carried and top(f) not in f.splits for f in found[1:changed_at])
    # The rewritten piece is searched afresh at once, and its old digit never shown again.
    assert top(found[changed_at]) in found[changed_at].splits and top(found[changed_at]) not in found[changed_at].carried
    assert all("72" not in texts(r) for r in read_on[changed_at:])
    assert texts(read_on[changed_at + 1]) == ["75", "41"]
    # Every frame reads what a recognizer reading every piece afresh reads, boxes and digits alike.
    key = lambda r: [(d.box, d.digit) for d in r.detections]
    assert [key(r) for r in read_on] == [key(r) for r in read_off]
    assert [texts(r) for r in read_on] == [texts(r) for r in read_off]
    # A decision stands for the max_age frames after the one searched at most, as a reused reading does.
    searched = [k for k, f in enumerate(found) if top(f) in f.splits]
    assert searched == [0, changed_at, changed_at + Recognizer(classifier).reuse.max_age + 1]


def test_a_cut_is_carried_with_a_drifting_view_and_a_rewritten_digit_is_read_at_once(classifier, mnist_slice) -> None:
    """The view drifts 1 px a frame (a hand-held page): the touching pair keeps its cut while only the view moved
    (its box compared moved back by the view's shift), and a digit of it rewritten is searched and read afresh."""
    (_, _), (x_test, y_test) = mnist_slice
    seven, two, five, four, one = (x_test[i] for i in (0, 1, 15, 4, 2))  # 7 2 5 4 1
    changed_at, frames = 5, 24

    def drifted(image, k):
        return cv2.warpAffine(image, np.float32([[1, 0, k], [0, 1, 0]]), (image.shape[1], image.shape[0]),
                              borderMode=cv2.BORDER_REPLICATE)

    images = [drifted(_touching_page([[seven, two if k < changed_at else five], [four, one]], seed=k), k)
              for k in range(frames)]
    found, read_on, read_off = _read_both(Recognizer(classifier, carry=False), Recognizer(classifier, reuse=None), images)
    texts = lambda r: [n.text for n in r.numbers]

    def top(f):
        return next(k for k, c in enumerate(f.candidates) if c.box.y < 150)

    assert [found[k].candidates[top(found[k])].box.x for k in (0, 4)] == [found[0].candidates[top(found[0])].box.x + d
                                                                          for d in (0, 4)]
    # Searched on the first frame, carried while it only drifts, searched at once when rewritten, and again
    # once its decision is max_age frames old.
    searched = [k for k, f in enumerate(found) if top(f) in f.splits]
    assert searched == [0, changed_at, changed_at + Recognizer(classifier).reuse.max_age + 1]
    assert all(top(f) in f.carried for f in found[1:changed_at])
    assert all("72" not in texts(r) for r in read_on[changed_at:]) and texts(read_on[changed_at + 1]) == ["75", "41"]
    assert [texts(r) for r in read_on] == [texts(r) for r in read_off]
    assert [[(d.box, d.digit) for d in r.detections] for r in read_on] == \
        [[(d.box, d.digit) for d in r.detections] for r in read_off]


def test_another_page_of_touching_digits_is_read_within_two_frames(classifier, mnist_slice) -> None:
    (_, _), (x_test, y_test) = mnist_slice
    first = [[x_test[0], x_test[1]], [x_test[4], x_test[2]]]  # 72 and 41, each pair touching
    second = [[x_test[0], x_test[15]], [x_test[1], x_test[2]]]  # 75 and 21 in the same places
    images = [_touching_page(first if k < 5 else second, seed=k) for k in range(7)]
    found, read_on, _ = _read_both(Recognizer(classifier, carry=False), Recognizer(classifier, reuse=None), images)
    assert all(f.carried for f in found[1:5])  # the first page's cuts were carried while it stayed
    fresh = Recognizer(classifier, smooth=False).process(Frame(0, 0.0, images[6]))
    assert [n.text for n in read_on[6].numbers] == [n.text for n in fresh.numbers] == ["75", "21"]
    assert not found[5].carried  # no cut of the first page stands for the second's


# -- Whole frames carried where the page stood still (vision.view "Whole frames carried") ---------------


def _texts(result) -> list[str]:
    return sorted(n.text for n in result.numbers)


def _batches(recognizer: Recognizer, images: list[np.ndarray], source: str = "cam") -> list:
    """Each frame's batch, read one at a time as the engine reads video (segmented first)."""
    batches = []
    for k, image in enumerate(images):
        frame = Frame(k, k / 30, image)
        batches.append(recognizer.process_batch([(source, frame, None, recognizer.segment(frame, source))]))
    return batches


def _follow(recognizer: Recognizer, images: list[np.ndarray], source: str = "cam") -> tuple[list[bool], list]:
    """Whether each frame was carried whole, and its result, read as the engine reads video (segmented first)."""
    batches = _batches(recognizer, images, source)
    return [b.carried == 1 for b in batches], [b.results[0] for b in batches]


def test_a_still_page_is_carried_and_a_rewritten_digit_is_read_within_two_frames(classifier, mnist_slice) -> None:
    (_, _), (x_test, y_test) = mnist_slice
    boxes = _boxes(len(WRITTEN))
    before = [x_test[i] for i in WRITTEN]
    after = before[:-1] + [x_test[REWRITTEN]]
    changed_at = 9
    images = [_page(before if k < changed_at else after, boxes, seed=k) for k in range(changed_at + 5)]
    kept, carried = _follow(Recognizer(classifier), images)
    _, whole = _follow(Recognizer(classifier, carry=False), images)
    # The first two frames are read whole (their readings agree), the next ones carried while the page stands.
    assert kept[:2] == [False, False] and all(kept[2:changed_at])
    assert all(_texts(r) == _texts(whole[k]) for k, r in enumerate(carried[:changed_at]))
    # The rewritten digit's frame is read whole at once: the old digit is never shown again, the new one is
    # read within 2 frames, and every frame reads what a recognizer that segments every frame reads.
    assert not kept[changed_at] and not kept[changed_at + 1]
    last, old_digit, new_digit = boxes[-1], int(y_test[WRITTEN[-1]]), int(y_test[REWRITTEN])
    assert all(_digit_at(r, last) != old_digit for r in carried[changed_at:])
    assert _digit_at(carried[changed_at + 1], last) == new_digit
    assert [_texts(r) for r in carried] == [_texts(r) for r in whole]
    # A carried frame's result is the frame's own (index, source), with the digits of the reading it carries.
    assert carried[4].frame.index == 4 and carried[4].source == "cam" and carried[4].timings["classify"] < 1e3


def test_a_carried_reading_follows_the_view_and_a_new_page_is_read_within_two_frames(classifier, mnist_slice) -> None:
    (_, _), (x_test, y_test) = mnist_slice
    boxes = _boxes(5)
    first, second = [x_test[i] for i in WRITTEN], [x_test[i] for i in (5, 6, 7, 8, 11)]
    # The view drifts 1 px a frame to the right: carried frames move the boxes with it.
    images = [_page(first if k < 8 else second, boxes, seed=k, shift=(k, 0)) for k in range(11)]
    kept, results = _follow(Recognizer(classifier), images)
    carried = [k for k, c in enumerate(kept) if c]
    assert carried and max(carried) < 8
    for k in carried:
        assert [_digit_at(results[k], (x + k, y, w, h), tolerance=2) for x, y, w, h in boxes] == [int(y_test[i]) for i in WRITTEN]
    # Another page in the same boxes: read whole, and right within 2 frames.
    assert not kept[8] and not kept[9]
    fresh = Recognizer(classifier, smooth=False).process(Frame(0, 0.0, images[9]))
    assert _texts(results[9]) == _texts(fresh) == sorted(str(int(y_test[i])) for i in (5, 6, 7, 8, 11))


def test_whole_frames_are_read_at_least_every_carry_every_frames(classifier, mnist_slice) -> None:
    from livedigits.vision.view import CARRY_EVERY

    (_, _), (x_test, _) = mnist_slice
    images = [_page([x_test[i] for i in WRITTEN], _boxes(5), seed=k) for k in range(2 * CARRY_EVERY + 4)]
    kept, _ = _follow(Recognizer(classifier), images)
    runs, run = [], 0
    for c in kept:
        run = run + 1 if c else 0
        runs.append(run)
    # The first anchor and the frame that agrees with it are read whole, then CARRY_EVERY - 2 carried. After
    # that the page is read whole once every CARRY_EVERY frames: a new anchor made only for the last one's age
    # (the page stood still) whose reading agrees with the last one's is carried at once (Segmentation.renews).
    assert kept == [False, False] + [True] * (CARRY_EVERY - 2) + [False] + [True] * (CARRY_EVERY - 1) + [False] + [True] * 3
    assert max(runs) == CARRY_EVERY - 1
    # Stills, smooth=False and reuse=None never carry a frame.
    still = Recognizer(classifier)
    assert all(still.segment(Frame(k, 0.0, images[0], file="a.png"), "folder")[0].kept is None for k in range(4))
    for off in (Recognizer(classifier, smooth=False), Recognizer(classifier, reuse=None)):
        assert not any(_follow(off, images[:5])[0])


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_a_digit_rewritten_as_the_anchor_is_renewed_is_never_carried_stale(classifier, mnist_slice, offset) -> None:
    """A page read whole once every CARRY_EVERY frames carries its new anchor's reading at once: a digit
    rewritten on that very frame, or on the frames just after it, is read afresh, never shown as the old one."""
    from livedigits.vision.view import CARRY_EVERY

    (_, _), (x_test, y_test) = mnist_slice
    boxes = _boxes(len(WRITTEN))
    before = [x_test[i] for i in WRITTEN]
    after = before[:-1] + [x_test[REWRITTEN]]
    renewal = CARRY_EVERY  # the first anchor's age runs out here
    changed_at = renewal + offset
    images = [_page(before if k < changed_at else after, boxes, seed=k) for k in range(changed_at + 4)]
    kept, carried = _follow(Recognizer(classifier), images)
    _, whole = _follow(Recognizer(classifier, carry=False), images)
    assert not kept[changed_at] and not kept[changed_at + 1]  # read whole, twice, from the change on
    last, old_digit, new_digit = boxes[-1], int(y_test[WRITTEN[-1]]), int(y_test[REWRITTEN])
    assert all(_digit_at(r, last) != old_digit for r in carried[changed_at:])
    assert _digit_at(carried[changed_at + 1], last) == new_digit
    assert [_texts(r) for r in carried] == [_texts(r) for r in whole]
    if offset:  # the renewal before the change agreed with the last reading: carried from the next frame on
        assert not kept[renewal] and all(kept[renewal + 1: changed_at])


def test_a_change_that_leaves_the_reading_as_it_was_is_read_whole_once(classifier, mnist_slice) -> None:
    """The hand's motion blur smears every stroke (the still test finds the page changed): the frame is read
    whole, its reading is the one carried so far, and the next frames carry it at once (Segmentation.changes),
    reading what a recognizer that reads every frame whole reads."""
    (_, _), (x_test, y_test) = mnist_slice
    boxes = _boxes(len(WRITTEN))
    digits = [x_test[i] for i in WRITTEN]
    smear = np.zeros((9, 9), np.float32)
    smear[4, :] = 1.0 / 9
    blurred_at = 9
    images = [_page(digits, boxes, seed=k) for k in range(blurred_at + 6)]
    images = [image if k < blurred_at else cv2.filter2D(image, -1, smear) for k, image in enumerate(images)]
    kept, carried = _follow(Recognizer(classifier), images)
    _, whole = _follow(Recognizer(classifier, carry=False), images)
    assert all(kept[2:blurred_at]) and not kept[blurred_at] and all(kept[blurred_at + 1:])
    assert [_texts(r) for r in carried] == [_texts(r) for r in whole]
    assert _texts(carried[-1]) == sorted(str(int(y_test[i])) for i in WRITTEN)


def test_a_rewritten_digit_whose_track_still_shows_the_old_one_is_never_carried(classifier, mnist_slice) -> None:
    """A digit rewritten that the classifier reads only fairly (0.62 the new digit, 0.38 the old): on the frame
    of the change, the track's average still shows the old digit, which is what was carried so far. That
    reading is not carried (its track does not say what its crop says): the page is read whole until the
    track shows what the crops show, and every frame reads what a recognizer that reads every frame whole
    reads. The old digit is never shown after the frame of the change."""
    (_, _), (x_test, y_test) = mnist_slice
    old_digit, new_digit = int(y_test[WRITTEN[-1]]), int(y_test[REWRITTEN])

    class Leaning:
        name, device, num_classes = classifier.name, classifier.device, classifier.num_classes

        def predict(self, batch: np.ndarray) -> np.ndarray:
            probabilities = np.array(classifier.predict(batch), np.float32)
            rows = probabilities.argmax(axis=1) == new_digit
            probabilities[rows] = 0.0
            probabilities[rows, new_digit], probabilities[rows, old_digit] = 0.62, 0.38
            return probabilities

    boxes = _boxes(len(WRITTEN))
    before = [x_test[i] for i in WRITTEN]
    after = before[:-1] + [x_test[REWRITTEN]]
    changed_at = 9
    images = [_page(before if k < changed_at else after, boxes, seed=k) for k in range(changed_at + 8)]
    kept, carried = _follow(Recognizer(Leaning()), images)
    _, whole = _follow(Recognizer(Leaning(), carry=False), images)
    last = boxes[-1]
    assert _digit_at(whole[changed_at], last) == old_digit  # the track's inertia, read whole or not
    assert not any(kept[changed_at: changed_at + 3])
    assert all(_digit_at(r, last) != old_digit for r in carried[changed_at + 1:])
    assert _digit_at(carried[-1], last) == new_digit
    assert [_texts(r) for r in carried] == [_texts(r) for r in whole]


def test_two_readings_agree_within_more_pixels_on_a_bigger_frame() -> None:
    from livedigits.reading.recognizer import agree_px

    assert agree_px((480, 640, 3)) == agree_px((240, 320)) == agree_px((720, 1280, 3)) == 5
    assert agree_px((1080, 1920)) == 7 and agree_px((2160, 3840)) == 14


def test_a_digit_rewritten_after_a_long_still_stretch_is_read_afresh_at_once(classifier, mnist_slice) -> None:
    from livedigits.vision.view import CARRY_EVERY

    # Frames carried whole no longer age the crops' anchors in frames read: the frames read whole for the
    # still anchor's age keep most crops' readings. A digit rewritten after two such renewals is never shown
    # as the old one, and the new one is read within 2 frames, as a recognizer that reads every frame reads.
    (_, _), (x_test, y_test) = mnist_slice
    boxes = _boxes(len(WRITTEN))
    before = [x_test[i] for i in WRITTEN]
    after = before[:-1] + [x_test[REWRITTEN]]
    changed_at = 2 * CARRY_EVERY + 4
    images = [_page(before if k < changed_at else after, boxes, seed=k) for k in range(changed_at + 4)]
    batches = _batches(Recognizer(classifier), images)
    kept, carried = [b.carried == 1 for b in batches], [b.results[0] for b in batches]
    classified = [b.classified for b in batches]
    _, whole = _follow(Recognizer(classifier, carry=False), images)
    renewals = [k for k in range(2, changed_at) if not kept[k]]
    assert renewals == [CARRY_EVERY, 2 * CARRY_EVERY]
    assert classified[0] >= len(WRITTEN) and all(classified[k] < len(WRITTEN) for k in renewals)
    last, old_digit, new_digit = boxes[-1], int(y_test[WRITTEN[-1]]), int(y_test[REWRITTEN])
    assert not kept[changed_at] and all(_digit_at(r, last) != old_digit for r in carried[changed_at:])
    assert _digit_at(carried[changed_at + 1], last) == new_digit
    assert [_texts(r) for r in carried] == [_texts(r) for r in whole]


def test_sources_in_step_renew_their_whole_frames_on_their_own_phases(classifier, mnist_slice) -> None:
    from livedigits.reading.recognizer import STAGGER_SPAN, stagger_phases
    from livedigits.vision.view import CARRY_EVERY

    # Four copies of one still page, read in step: each source's still anchors live CARRY_EVERY frames less its
    # phase, so that after the first frames (read whole on every source at once) their periodic whole frames
    # come on different frames; each is still read whole at least every CARRY_EVERY frames, and each reads
    # what a recognizer reading every frame whole reads.
    (_, _), (x_test, _) = mnist_slice
    images = [_page([x_test[i] for i in WRITTEN], _boxes(5), seed=k) for k in range(3 * CARRY_EVERY)]
    sources = ["a", "b", "c", "d"]
    assert stagger_phases(1) == [None] and stagger_phases(4) == list(range(STAGGER_SPAN)) == [0, 1, 2, 3]
    recognizer = Recognizer(classifier)
    recognizer.stagger(sources)
    whole: dict[str, list[int]] = {s: [] for s in sources}
    texts: dict[str, list] = {s: [] for s in sources}
    for k, image in enumerate(images):
        frame = Frame(k, k / 30, image)
        for source in sources:  # one batch each, to tell which were carried
            batch = recognizer.process_batch([(source, frame, None, recognizer.segment(frame, source))])
            if not batch.carried:
                whole[source].append(k)
            texts[source].append(_texts(batch.results[0]))
    _, alone = _follow(Recognizer(classifier, carry=False), images)
    for phase, source in enumerate(sources):
        frames = whole[source]
        anchors = frames[:1] + frames[2:]  # frame 1 read whole to agree with frame 0, the anchor
        assert frames[:2] == [0, 1] and {b - a for a, b in zip(anchors, anchors[1:])} == {CARRY_EVERY - phase}
        assert texts[source] == [_texts(r) for r in alone]
    later = [set(whole[s][2:]) for s in sources]
    assert all(not (later[i] & later[j]) for i in range(4) for j in range(i + 1, 4))  # never on the same frame
    # The engine gives its live sources their phases, and a run of one source none.
    demo = SAMPLES / "demo.mp4"
    Engine([open_source(demo), open_source(demo)], recognizer, max_frames=2, draw=False).run()
    assert recognizer.phases == {str(demo): 0, f"{demo}#2": 1}
    Engine([open_source(demo)], recognizer, max_frames=2, draw=False).run()
    assert recognizer.phases == {}


def test_a_carried_box_stays_inside_the_frame() -> None:
    from livedigits.reading.recognizer import carried_result
    from livedigits.types import Detection, FrameResult, Number

    digit = Detection(box=Box(630, 2, 8, 20), digit=7, confidence=0.99)
    kept = FrameResult(frame=Frame(0, 0.0, np.zeros((480, 640, 3), np.uint8)), detections=(digit,),
                       numbers=(Number(text="7", box=digit.box, confidence=0.99, digits=(digit,)),), timings={})
    for dx, dy in ((5, -4), (-700, 500)):
        moved = carried_result(kept, Frame(1, 0.0, np.zeros((480, 640, 3), np.uint8)), dx, dy, None, "cam", {})
        for box in (moved.detections[0].box, moved.numbers[0].box, moved.numbers[0].digits[0].box):
            assert 0 <= box.x and box.x + box.w <= 640 and 0 <= box.y and box.y + box.h <= 480 and box.w >= 1 and box.h >= 1
    moved = carried_result(kept, Frame(1, 0.0, np.zeros((480, 640, 3), np.uint8)), 5, -4, None, "cam", {})
    assert moved.detections[0].box == Box(635, 0, 5, 18)


@pytest.mark.parametrize("clip", ["demo.mp4", "realistic.mp4"])
def test_sample_clips_score_as_well_with_whole_frames_carried(classifier, clip) -> None:
    from livedigits.reading.score import load_truth, score

    truth = load_truth(SAMPLES / clip.replace(".mp4", ".json"))
    scores, carried = {}, {}
    for carry in (True, False):
        records, recognizer = [], Recognizer(classifier, carry=carry)
        count = [0]
        process_batch = recognizer.process_batch

        def counting(items):
            batch = process_batch(items)
            count[0] += batch.carried
            return batch

        recognizer.process_batch = counting
        Engine([open_source(SAMPLES / clip)], recognizer, draw=False,
               on_result=lambda result, _image, _s: records.append(result.to_record())).run()
        scores[carry], carried[carry] = score(records, truth), count[0]
    assert carried[False] == 0 and carried[True] >= 0.3 * scores[True]["frames_scored"]
    # measured: demo 2850/2850 digits and 1050/1050 numbers both ways; realistic 4080/4080 and 1440/1440
    # carried, 4076 and 1436 read whole.
    for key in ("correct_digits", "correct_numbers", "matched_digits"):
        assert scores[True][key] >= scores[False][key]
    assert scores[True]["false_positives"] <= scores[False]["false_positives"]

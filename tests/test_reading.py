import numpy as np

from livedigits.reading import ReadingConfig, Tracker, decide, group_numbers
from livedigits.types import Box, Candidate, Detection


def det(x, y, digit, w=20, h=30, conf=0.99):
    return Detection(box=Box(x, y, w, h), digit=digit, confidence=conf)


def probs(digit, p=0.95, classes=11):
    out = np.full(classes, (1 - p) / (classes - 1), np.float32)
    out[digit] = p
    return out


def cand(x, y, w=20, h=30):
    return Candidate(box=Box(x, y, w, h), crop=np.zeros((28, 28), np.float32))


def test_digits_on_a_line_form_one_number_in_reading_order():
    numbers = group_numbers([det(60, 102, 7), det(10, 100, 4), det(35, 98, 0)])
    assert [n.text for n in numbers] == ["407"]
    assert numbers[0].box == Box(10, 98, 70, 34)


def test_separate_numbers_and_lines_in_reading_order():
    dets = [det(10, 100, 1), det(35, 100, 2), det(200, 100, 9),  # line 1: "12" and "9"
            det(10, 200, 3), det(35, 203, 4), det(60, 200, 5)]  # line 2: "345"
    assert [n.text for n in group_numbers(dets)] == ["12", "9", "345"]


def test_digit_of_a_very_different_size_is_not_joined():
    assert [n.text for n in group_numbers([det(10, 100, 1), det(33, 60, 2, w=50, h=80)])] == ["1", "2"]


def test_number_confidence_is_the_product():
    (number,) = group_numbers([det(10, 100, 1, conf=0.9), det(35, 100, 2, conf=0.8)])
    assert abs(number.confidence - 0.72) < 1e-6


def test_not_a_digit_and_unsure_crops_are_not_reported():
    cands = [cand(0, 0), cand(50, 0), cand(100, 0)]
    p = np.stack([probs(3), probs(10), probs(5, p=0.4)])
    assert [d.digit for d in decide(cands, p)] == [3]


def test_tracker_keeps_a_label_through_one_bad_frame():
    tracker = Tracker(ReadingConfig())
    c = [cand(100, 100)]
    for _ in range(3):
        tracker.update(c, np.stack([probs(7, 0.95)]))
    smoothed = tracker.update([cand(101, 100)], np.stack([probs(1, 0.55)]))  # a blurred frame
    assert int(smoothed[0].argmax()) == 7


def test_tracker_follows_a_page_that_changes_within_a_few_frames():
    tracker = Tracker(ReadingConfig())
    c = [cand(100, 100)]
    for _ in range(10):
        tracker.update(c, np.stack([probs(7, 0.99)]))
    labels = [int(tracker.update(c, np.stack([probs(2, 0.99)]))[0].argmax()) for _ in range(3)]
    assert labels[-1] == 2


def test_tracker_forgets_tracks_that_are_gone():
    tracker = Tracker(ReadingConfig(max_missed=2))
    tracker.update([cand(100, 100)], np.stack([probs(7)]))
    for _ in range(3):
        tracker.update([], np.zeros((0, 11), np.float32))
    fresh = tracker.update([cand(100, 100)], np.stack([probs(2, 0.9)]))
    assert int(fresh[0].argmax()) == 2 and abs(float(fresh[0].max()) - 0.9) < 1e-6

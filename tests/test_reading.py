import numpy as np

from livedigits.reading.numbers import ReadingConfig, Tracker, decide, group_numbers
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
    smoothed = tracker.update([cand(101, 100)], np.stack([probs(1, 0.55)])).probabilities  # a blurred frame
    assert int(smoothed[0].argmax()) == 7


def test_tracker_follows_a_page_that_changes_within_a_few_frames():
    tracker = Tracker(ReadingConfig())
    c = [cand(100, 100)]
    for _ in range(10):
        tracker.update(c, np.stack([probs(7, 0.99)]))
    labels = [int(tracker.update(c, np.stack([probs(2, 0.99)])).probabilities[0].argmax()) for _ in range(3)]
    assert labels[-1] == 2


def test_tracker_forgets_tracks_that_are_gone():
    tracker = Tracker(ReadingConfig(max_missed=2))
    tracker.update([cand(100, 100)], np.stack([probs(7)]))
    for _ in range(3):
        tracker.update([], np.zeros((0, 11), np.float32))
    fresh = tracker.update([cand(100, 100)], np.stack([probs(2, 0.9)])).probabilities
    assert int(fresh[0].argmax()) == 2 and abs(float(fresh[0].max()) - 0.9) < 1e-6


def test_tracker_returns_the_track_ids_it_follows():
    tracker = Tracker(ReadingConfig())
    first = tracker.update([cand(100, 100), cand(300, 100)], np.stack([probs(7), probs(2)]))
    assert len(set(first.ids)) == 2
    # The two pieces of ink moved a pixel and a third appeared: the first two keep their ids.
    second = tracker.update([cand(301, 100), cand(500, 100), cand(101, 101)], np.stack([probs(2), probs(4), probs(7)]))
    assert second.ids[0] == first.ids[1] and second.ids[2] == first.ids[0] and second.ids[1] not in first.ids
    tracker.reset()  # another page: new ids, never one used before in this source
    third = tracker.update([cand(100, 100)], np.stack([probs(7)]))
    assert third.ids[0] not in first.ids + second.ids


def test_a_track_seen_again_counts_its_missed_frames_afresh():
    tracker = Tracker(ReadingConfig(max_missed=2))
    first = tracker.update([cand(100, 100)], np.stack([probs(7)])).ids
    for _ in range(3):  # two frames unseen, then seen: three times over, the track lives on
        for _ in range(2):
            tracker.update([], np.zeros((0, 11), np.float32))
        assert tracker.update([cand(100, 100)], np.stack([probs(7)])).ids == first


def test_evenly_spaced_row_on_a_slope_reads_as_single_digits_in_order():
    # Ten digits 30 px tall, gaps of 1.2 heights, the line falling 3 degrees (about 0.05 px per px).
    dets = [det(10 + 56 * k, int(100 + 0.05 * 56 * k), k) for k in range(10)]
    assert [n.text for n in group_numbers(dets)] == [str(k) for k in range(10)]


def test_two_numbers_a_space_apart_are_not_joined():
    # "37" and "52": 0.15-height gaps inside each number, a 0.7-height space between them.
    xs = [10, 34.5, 80, 104.5]
    dets = [det(int(x), 100, d) for x, d in zip(xs, (3, 7, 5, 2))]
    assert [n.text for n in group_numbers(dets)] == ["37", "52"]


def test_a_spaced_but_even_string_stays_one_number():
    # Gaps of 0.4-0.65 heights, all alike: one number, as people write a long number loosely.
    xs, x = [], 10
    for gap in (0.6, 0.65, 0.45, 0.4, 0.0):
        xs.append(x)
        x += 20 + gap * 30
    dets = [det(x, 100, d) for x, d in zip(xs, (1, 3, 5, 4, 0))]
    assert [n.text for n in group_numbers(dets)] == ["13540"]


def test_a_sign_between_digits_ends_the_number():
    dets = [det(10, 100, 1), det(32, 100, 2), det(64, 100, 7)]  # "12+7", written tight
    assert [n.text for n in group_numbers(dets)] == ["127"]  # without the sign: one number
    assert [n.text for n in group_numbers(dets, marks=[Box(53, 110, 10, 10)])] == ["12", "7"]
    # A big plus (0.6 of the digits' height) at letter spacing is still a sign, not a letter of a word.
    assert [n.text for n in group_numbers(dets, marks=[Box(54, 106, 18, 18)])] == ["12", "7"]


def test_a_digit_shaped_letter_in_a_word_is_no_number():
    # "A7" (the A read as not a digit, beside the 7 at letter spacing): no number; "12 A" keeps 12.
    assert group_numbers([det(40, 100, 7)], marks=[Box(15, 100, 22, 30)]) == []
    dets = [det(10, 100, 1), det(32, 100, 2)]
    assert [n.text for n in group_numbers(dets, marks=[Box(80, 100, 22, 30)])] == ["12"]


def test_a_bracket_or_slash_beside_a_lone_digit_is_no_letter():
    # "(4" and "5)": a bracket stands taller than the digit it encloses, so the digit is no word's letter;
    # a capital A at the digit's height still is ("A7" above).
    assert [n.text for n in group_numbers([det(40, 100, 4)], marks=[Box(10, 92, 24, 44)])] == ["4"]
    assert [n.text for n in group_numbers([det(40, 100, 5)], marks=[Box(63, 92, 24, 44)])] == ["5"]
    # A plus at letter spacing beside a lone digit ("8 +"), three quarters of its height, is a sign.
    assert [n.text for n in group_numbers([det(40, 100, 8)], marks=[Box(64, 104, 22, 22)])] == ["8"]

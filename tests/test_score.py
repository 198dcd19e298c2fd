"""Scoring runs against ground truth."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livedigits import synth
from livedigits.score import load_jsonl, records_from_truth, score

TRUTH = {
    "source": "hand-made",
    "fps": 30,
    "size": [640, 480],
    "frames": [
        {
            "frame": 0,
            "digits": [
                {"box": [100, 100, 20, 30], "digit": 4},
                {"box": [126, 100, 20, 30], "digit": 0},
                {"box": [152, 100, 20, 30], "digit": 7},
                {"box": [300, 200, 18, 28], "digit": 1},
            ],
            "numbers": [{"text": "407", "box": [100, 100, 72, 30]}, {"text": "1", "box": [300, 200, 18, 28]}],
            "marks": [{"box": [400, 50, 30, 30], "kind": "letter"}],
        },
        {
            "frame": 1,
            "digits": [{"box": [101, 101, 20, 30], "digit": 4}, {"box": [127, 101, 20, 30], "digit": 0}],
            "numbers": [{"text": "40", "box": [101, 101, 46, 30]}],
            "marks": [],
        },
    ],
}
TOTAL_DIGITS = 6
TOTAL_NUMBERS = 3


def perfect() -> list[dict]:
    return records_from_truth(TRUTH, confidence=0.99)


def test_a_perfect_run_scores_one():
    report = score(perfect(), TRUTH)
    assert report["digit_recall"] == 1.0
    assert report["digit_accuracy"] == 1.0
    assert report["digit_precision"] == 1.0
    assert report["number_accuracy"] == 1.0
    assert report["mark_detections"] == 0 and report["false_positives"] == 0
    assert report["true_digits"] == TOTAL_DIGITS and report["true_numbers"] == TOTAL_NUMBERS
    assert report["worst_frames"] == [] and report["misreads"] == []
    json.dumps(report)  # JSON-ready


def test_a_perfect_run_on_a_synthetic_clip_scores_one(mnist_slice):
    page = synth.PageOptions(width=400, height=300)
    clip = synth.SyntheticClip(seed=2, size=(320, 240), page=page, digits=mnist_slice[1])
    truth = clip.truth_document([clip.truth(i) for i in range(5)], "synthetic")
    report = score(records_from_truth(truth), truth)
    assert report["digit_recall"] == report["digit_accuracy"] == report["number_accuracy"] == 1.0


def test_boxes_that_are_a_little_off_still_match():
    records = perfect()
    for record in records:
        for d in record["detections"]:
            d["box"] = [d["box"][0] + 3, d["box"][1] - 2, d["box"][2] + 2, d["box"][3]]
    assert score(records, TRUTH)["digit_recall"] == 1.0


def test_a_dropped_digit_lowers_recall_by_its_share():
    records = perfect()
    del records[0]["detections"][2]
    report = score(records, TRUTH)
    assert report["digit_recall"] == pytest.approx((TOTAL_DIGITS - 1) / TOTAL_DIGITS)
    assert report["digit_accuracy"] == 1.0
    assert report["worst_frames"][0]["frame"] == 0 and report["worst_frames"][0]["missed"] == 1


def test_a_wrong_label_lowers_accuracy_not_recall():
    records = perfect()
    records[1]["detections"][0]["digit"] = 9
    report = score(records, TRUTH)
    assert report["digit_recall"] == 1.0
    assert report["digit_accuracy"] == pytest.approx((TOTAL_DIGITS - 1) / TOTAL_DIGITS)
    assert report["confusion"][4][9] == 1
    assert report["misreads"][0] | {"confidence": None} == {
        "frame": 1,
        "box": [101, 101, 20, 30],
        "true": 4,
        "predicted": 9,
        "confidence": None,
        "iou": 1.0,
    }


def test_a_wrong_number_text_lowers_number_accuracy():
    records = perfect()
    records[0]["numbers"][0]["text"] = "401"
    report = score(records, TRUTH)
    assert report["number_accuracy"] == pytest.approx((TOTAL_NUMBERS - 1) / TOTAL_NUMBERS)


def test_a_detection_on_a_mark_is_counted_apart_from_false_positives():
    records = perfect()
    records[0]["detections"].append({"box": [402, 52, 25, 28], "digit": 7, "confidence": 0.6})  # on the mark
    records[0]["detections"].append({"box": [405, 55, 60, 60], "digit": 1, "confidence": 0.6})  # IoU 0.16, centre outside: not a mark
    records[0]["detections"].append({"box": [500, 400, 20, 30], "digit": 3, "confidence": 0.5})  # on bare paper
    report = score(records, TRUTH)
    assert report["mark_detections"] == 1
    assert report["false_positives"] == 2
    assert report["digit_recall"] == 1.0
    assert report["digit_precision"] == pytest.approx(TOTAL_DIGITS / (TOTAL_DIGITS + 3))


def test_a_detection_whose_centre_is_on_a_mark_counts_as_a_mark():
    records = perfect()
    records[0]["detections"].append({"box": [380, 62, 80, 4], "digit": 1, "confidence": 0.6})  # IoU 0.11, centre inside
    report = score(records, TRUTH)
    assert report["mark_detections"] == 1 and report["false_positives"] == 0


def test_missing_frames_count_only_when_required():
    records = perfect()[:1]
    strict = score(records, TRUTH)
    assert strict["frames_missing"] == 1
    assert strict["digit_recall"] == pytest.approx(4 / TOTAL_DIGITS)
    lenient = score(records, TRUTH, require_all_frames=False)
    assert lenient["digit_recall"] == 1.0 and lenient["true_digits"] == 4


def test_records_for_unknown_frames_are_ignored():
    records = perfect() + [{"frame": 99, "detections": [{"box": [0, 0, 5, 5], "digit": 1}], "numbers": []}]
    report = score(records, TRUTH)
    assert report["frames_extra"] == 1 and report["false_positives"] == 0


def test_one_detection_matches_only_one_digit():
    truth = copy.deepcopy(TRUTH)
    records = perfect()
    # One box spanning the 4 and the 0 of "407" (IoU 0.43 with each): it may match only one of them.
    records[0]["detections"] = [{"box": [100, 100, 46, 30], "digit": 4, "confidence": 0.9}]
    report = score(records, truth)
    assert report["matched_digits"] == 1 + 2  # frame 0: one; frame 1: both
    assert report["false_positives"] == 0


def test_load_jsonl_reads_records_and_skips_blank_lines(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in perfect()) + "\n\n")
    assert load_jsonl(path) == perfect()


def test_load_jsonl_names_the_bad_line(tmp_path):
    path = tmp_path / "run.jsonl"
    lines = [json.dumps(r) for r in perfect()]
    path.write_text(lines[0] + "\n" + lines[1] + "\n" + '{"frame": 2, "detections": [\n')
    with pytest.raises(ValueError, match=r"line 3"):
        load_jsonl(path)
    path.write_text(lines[0] + "\n[1, 2]\n")
    with pytest.raises(ValueError, match=r"line 2"):
        load_jsonl(path)


@settings(max_examples=40, deadline=None)
@given(
    cells=st.lists(st.tuples(st.integers(0, 9), st.booleans(), st.booleans()), min_size=1, max_size=30),
)
def test_recall_and_accuracy_count_exactly(cells):
    """Digits in separate grid cells; some detections dropped (first flag), some misread (second)."""
    digits, detections = [], []
    for k, (label, keep, misread) in enumerate(cells):
        box = [40 * (k % 10), 50 * (k // 10), 20, 30]
        digits.append({"box": box, "digit": label})
        if keep:
            detections.append({"box": box, "digit": (label + 1) % 10 if misread else label, "confidence": 0.9})
    truth = {"source": "grid", "fps": 30, "size": [640, 480], "frames": [{"frame": 0, "digits": digits, "numbers": [], "marks": []}]}
    report = score([{"frame": 0, "detections": detections, "numbers": []}], truth)
    kept = [c for c in cells if c[1]]
    assert report["digit_recall"] == pytest.approx(len(kept) / len(cells))
    if kept:
        assert report["digit_accuracy"] == pytest.approx(sum(not c[2] for c in kept) / len(kept))
    else:
        assert report["digit_accuracy"] is None
    assert report["false_positives"] == 0

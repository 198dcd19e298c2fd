"""Scoring runs against ground truth."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livedigits import synth
from livedigits.reading.score import load_jsonl, records_from_truth, score

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


# --------------------------------------------------------------------------- numbers-only truth

from pathlib import Path  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from livedigits.cli.main import main  # noqa: E402
from livedigits.reading.score import check_numbers_truth, load_truth, match_digits, numbers_report_text, score_numbers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _record(file, *texts, frame=0):
    """A run's record of one image that read ``texts`` (boxes do not matter to this scorer)."""
    numbers = [{"text": t, "box": [10 * k, 0, 8, 10], "confidence": 0.9} for k, t in enumerate(texts)]
    detections = [{"box": [0, 0, 5, 5], "digit": int(c), "confidence": 0.9} for t in texts for c in t]
    return {"frame": frame, "time": 0.0, "latency_ms": 1.0, "detections": detections, "numbers": numbers, "file": file}


def _one(entry, *texts):
    report = score_numbers([_record("photos/" + entry["file"], *texts)], [entry])
    return report["images"][0], report["overall"]


def test_numbers_read_exactly_are_fully_right():
    image, overall = _one({"file": "a.jpg", "numbers": ["407", "12", "12"]}, "12", "407", "12")
    assert image["fully_right"] and image["found"]
    assert (image["matched_numbers"], image["true_numbers"], image["matched_digits"], image["true_digits"]) == (3, 3, 7, 7)
    assert overall["number_recall"] == overall["number_precision"] == overall["digit_recall"] == overall["digit_precision"] == 1.0
    assert overall["detections"] == 7


def test_a_number_read_in_two_pieces_keeps_its_digits_but_not_the_number():
    image, overall = _one({"file": "a.jpg", "numbers": ["13540"]}, "135", "40")
    assert image["matched_digits"] == 5 and image["read_digits_matched"] == 5
    assert image["matched_numbers"] == 0 and image["extra_numbers"] == 2 and not image["fully_right"]
    assert overall["number_recall"] == 0.0 and overall["number_precision"] == 0.0 and overall["digit_recall"] == 1.0


def test_two_numbers_read_as_one_keep_their_digits():
    image, _ = _one({"file": "a.jpg", "numbers": ["12", "34"]}, "1234")
    assert image["matched_digits"] == 4 and image["matched_numbers"] == 0 and not image["fully_right"]
    # ... and the leftovers pair again: "12 34" read as "123", "4"
    assert match_digits(["12", "34"], ["123", "4"]) == (4, 4)


def test_a_wrong_digit_is_not_counted():
    image, overall = _one({"file": "a.jpg", "numbers": ["407", "55"]}, "401", "55")
    assert image["matched_digits"] == 4 and image["true_digits"] == 5 and image["read_digits_matched"] == 4
    assert image["matched_numbers"] == 1 and not image["fully_right"]
    assert overall["digit_recall"] == pytest.approx(4 / 5) and overall["digit_precision"] == pytest.approx(4 / 5)
    assert overall["number_recall"] == 0.5 and overall["number_precision"] == 0.5
    # Leftovers are paired again, so digits read in another order still count (the order is the
    # numbers' business); an extra digit does not.
    assert match_digits(["123"], ["3217"]) == (3, 3)
    assert match_digits(["123"], ["456"]) == (0, 0)


def test_the_best_of_the_alternative_readings_counts():
    entry = {"file": "a.jpg", "numbers": ["13540"], "alt_numbers": [["1", "3", "5", "4", "0"], ["13", "540"]]}
    image, _ = _one(entry, "1", "3", "5", "4", "0")
    assert image["fully_right"] and image["reading"] == "alt_numbers[0]" and image["true_numbers"] == 5
    image, _ = _one(entry, "13", "540")
    assert image["fully_right"] and image["reading"] == "alt_numbers[1]"
    image, _ = _one(entry, "13540")
    assert image["fully_right"] and image["reading"] == "numbers"
    image, _ = _one(entry, "135", "40")  # no reading has these: digits all count, no number does
    assert not image["fully_right"] and image["matched_digits"] == 5 and image["matched_numbers"] == 0


def test_an_illegible_digit():
    entry = {"file": "a.jpg", "numbers": ["4?7", "12"]}
    image, overall = _one(entry, "437", "12")
    # "4?7" is left out of number recall; "437" fits it, so it is no false read
    assert image["true_numbers"] == 1 and image["illegible_numbers"] == 1 and image["illegible_read"] == 1
    assert image["fully_right"] and overall["number_recall"] == 1.0 and overall["number_precision"] == 1.0
    # a "?" is no true digit; the read digit on it is read right
    assert (image["true_digits"], image["matched_digits"], image["read_digits"], image["read_digits_matched"]) == (4, 4, 5, 5)
    image, overall = _one(entry, "4371", "12")  # does not fit the pattern: a false read
    assert not image["fully_right"] and image["illegible_read"] == 0 and overall["number_precision"] == 0.5
    image, _ = _one(entry, "12")  # nothing read there: the pattern is not met, so not fully right
    assert not image["fully_right"] and overall["number_recall"] == 1.0


def test_digits_only_entries():
    entry = {"file": "a.jpg", "numbers": ["13540"], "score_numbers": False}
    image, overall = _one(entry, "13", "5", "40")
    assert image["fully_right"] and overall["number_recall"] is None and overall["true_numbers"] == 0
    image, _ = _one(entry, "13", "5", "40", "7")
    assert not image["fully_right"]  # an extra digit


def test_records_are_matched_by_file_name_per_tag_and_overall():
    truth = [
        {"file": "a.jpg", "numbers": ["1"], "tags": ["phone", "dim"]},
        {"file": "sub/b.jpg", "numbers": ["22"], "tags": ["phone"]},
        {"file": "c.jpg", "numbers": ["3"]},
    ]
    records = [_record("run/b.jpg", "2", frame=0), _record("run/a.jpg", "9", frame=1), _record("run/a.jpg", "1", frame=2),
               _record("run/zzz.jpg", "5", frame=3)]
    report = score_numbers(records, truth)
    by_file = {r["file"]: r for r in report["images"]}
    assert by_file["a.jpg"]["fully_right"]  # the last record of a file counts
    assert by_file["sub/b.jpg"]["matched_digits"] == 1 and not by_file["sub/b.jpg"]["fully_right"]
    assert not by_file["c.jpg"]["found"] and by_file["c.jpg"]["read"] == [] and report["missing"] == ["c.jpg"]
    assert report["extra_files"] == ["zzz.jpg"] and report["duplicate_records"] == 1
    assert report["overall"]["images"] == 3 and report["overall"]["images_fully_right"] == 1
    assert report["overall"]["digit_recall"] == pytest.approx(2 / 4)
    assert report["tags"]["phone"]["images"] == 2 and report["tags"]["phone"]["digit_recall"] == pytest.approx(2 / 3)
    assert report["tags"]["dim"]["images_fully_right"] == 1 and set(report["tags"]) == {"phone", "dim"}
    json.dumps(report)
    text = numbers_report_text(report)
    assert "tag phone: 2 images" in text and "NO RECORD" in text and "zzz.jpg" in text
    assert "digits 2/4" in text and "1/3 images fully right" in text


def test_a_single_image_run_without_file_names():
    old = {k: v for k, v in _record("x.jpg", "12", "7").items() if k != "file"}
    report = score_numbers([old], [{"file": "mine.jpg", "numbers": ["12", "7"]}])
    assert report["images"][0]["fully_right"]
    with pytest.raises(ValueError, match="name no image file"):
        score_numbers([old], [{"file": "a.jpg", "numbers": ["1"]}, {"file": "b.jpg", "numbers": ["2"]}])
    with pytest.raises(ValueError, match="none of the 1 images"):
        score_numbers([_record("other.jpg", "1")], [{"file": "mine.jpg", "numbers": ["1"]}])
    with pytest.raises(ValueError, match="no records"):
        score_numbers([], [{"file": "mine.jpg", "numbers": ["1"]}])


@pytest.mark.parametrize(
    "truth, message",
    [
        ([], "empty"),
        ({"images": []}, "neither kind"),
        ("407", "neither kind"),
        ([{"numbers": ["1"]}], 'no "file"'),
        ([{"file": "a.jpg"}], 'no "numbers"'),
        ([{"file": "a.jpg", "numbers": [407]}], "not a number"),
        ([{"file": "a.jpg", "numbers": ["4a7"]}], "not a number"),
        ([{"file": "a.jpg", "numbers": "407"}], "expected a list"),
        ([{"file": "a.jpg", "numbers": ["1"], "alt_numbers": [["1", 2]]}], "alt_numbers"),
        ([{"file": "a.jpg", "numbers": ["1"], "score_numbers": "no"}], "score_numbers"),
        ([{"file": "a.jpg", "numbers": ["1"], "tags": "phone"}], "tags"),
        ([{"file": "x/a.jpg", "numbers": ["1"]}, {"file": "y/a.jpg", "numbers": ["2"]}], "same file name"),
        (["a.jpg"], "expected an object"),
    ],
)
def test_bad_truths_get_one_clear_line(tmp_path, capsys, truth, message):
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(truth))
    records = tmp_path / "out.jsonl"
    records.write_text(json.dumps(_record("a.jpg", "1")) + "\n")
    with pytest.raises(ValueError, match=message):
        load_truth(truth_path)
    assert main(["score", str(records), str(truth_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("livedigits: error: ") and message in err[0], err


def test_score_command_errors_for_files(tmp_path, capsys):
    records = tmp_path / "out.jsonl"
    records.write_text(json.dumps(_record("a.jpg", "1")) + "\n")
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps([{"file": "b.jpg", "numbers": ["1"]}]))
    cases = [
        ([str(records), str(tmp_path / "missing.json")], "cannot read the ground truth"),
        ([str(tmp_path / "missing.jsonl"), str(truth)], "cannot read the records"),
        ([str(records), str(truth)], "none of the 1 images"),
        ([str(tmp_path / "two.jsonl"), str(truth)], "line 2 is not valid JSON"),
        ([str(records), str(records)], "neither kind"),  # the arguments swapped
    ]
    (tmp_path / "two.jsonl").write_text(json.dumps(_record("b.jpg", "1")) + "\n{oops\n")
    (tmp_path / "frames.json").write_text(json.dumps({"frames": [{"digits": []}]}))
    cases.append(([str(records), str(tmp_path / "frames.json")], "lacks 'frame'"))
    for argv, message in cases:
        assert main(["score", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (argv, err)


def test_check_numbers_truth_keeps_notes_and_fills_defaults():
    [entry] = check_numbers_truth([{"file": "a.jpg", "numbers": ["1"], "notes": "pencil"}])
    assert entry == {"file": "a.jpg", "numbers": ["1"], "notes": "pencil", "alt_numbers": [], "tags": [], "score_numbers": True}


def test_a_folder_run_scored_against_its_numbers(tmp_path):
    """`livedigits run FOLDER --jsonl` then `livedigits score` with a numbers truth, end to end.

    The photos: the top half of the bundled page (PNG), the whole page as a phone stores a
    portrait shot (a JPEG turned a quarter, with EXIF orientation 6), and a blank sheet.
    """
    from PIL import Image

    page = json.loads((ROOT / "samples" / "page.json").read_text())["frames"][0]["numbers"]
    picture = Image.open(ROOT / "samples" / "page.png").convert("RGB")
    photos = tmp_path / "photos"
    photos.mkdir()
    picture.crop((0, 0, 1280, 530)).save(photos / "a_top.png")
    exif = Image.Exif()
    exif[0x0112] = 6
    picture.transpose(Image.Transpose.ROTATE_90).save(photos / "b_turned.jpg", "JPEG", quality=92, exif=exif.tobytes())
    Image.new("RGB", (640, 480), (250, 250, 245)).save(photos / "c_blank.png")
    (photos / "notes.txt").write_text("not an image")
    top = [n["text"] for n in page if n["box"][1] + n["box"][3] <= 530]
    truth = [
        {"file": "a_top.png", "numbers": top, "tags": ["half"]},
        {"file": "b_turned.jpg", "numbers": [n["text"] for n in page], "tags": ["exif"], "notes": "portrait"},
        {"file": "c_blank.png", "numbers": []},
    ]
    assert len(top) == 5
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    out = tmp_path / "out.jsonl"
    run = subprocess.run([sys.executable, "-m", "livedigits", "run", str(photos), "--headless", "--jsonl", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    records = load_jsonl(out)
    assert [Path(r["file"]).name for r in records] == ["a_top.png", "b_turned.jpg", "c_blank.png"]
    done = subprocess.run([sys.executable, "-m", "livedigits", "score", str(out), str(tmp_path / "truth.json"), "--json"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    by_file = {r["file"]: r for r in report["images"]}
    assert by_file["b_turned.jpg"]["fully_right"], by_file["b_turned.jpg"]  # read upright: every number
    assert by_file["a_top.png"]["fully_right"], by_file["a_top.png"]
    assert by_file["c_blank.png"]["fully_right"] and by_file["c_blank.png"]["read"] == []
    overall = report["overall"]
    assert overall["images"] == 3 and overall["images_fully_right"] == 3
    assert overall["true_digits"] == sum(len(t) for t in top) + sum(len(n["text"]) for n in page)
    assert overall["digit_recall"] == 1.0 and overall["number_recall"] == 1.0 and report["missing"] == []
    text = subprocess.run([sys.executable, "-m", "livedigits", "score", str(out), str(tmp_path / "truth.json")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT).stdout
    assert "3/3 images fully right" in text and "tag exif: 1 images" in text

"""Scoring a run's JSON Lines output against ground truth (``synth`` layout).

``records`` are the per-frame dicts a run writes (DESIGN.md, "Per-frame output")::

    {"frame": 12, "time": 0.4, "latency_ms": 7.9,
     "detections": [{"box": [x, y, w, h], "digit": 7, "confidence": 0.99}],
     "numbers": [{"text": "407", "box": [x, y, w, h], "confidence": 0.97}]}

``truth`` is the ground-truth dict ``synth.render_video`` writes::

    {"source": ..., "fps": 30, "size": [640, 480],
     "frames": [{"frame": 0, "digits": [{"box": [...], "digit": 4}],
                 "numbers": [{"text": "407", "box": [...]}],
                 "marks": [{"box": [...], "kind": "letter"}]}]}

Example::

    from livedigits.score import load_jsonl, score
    report = score(load_jsonl("run.jsonl"), json.load(open("samples/demo.json")))
    report["digit_recall"], report["digit_accuracy"], report["number_accuracy"]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .types import Box

DIGIT_IOU = 0.3  # a detection and a true digit match at or above this IoU
NUMBER_IOU = 0.5  # a predicted number with the right text counts at or above this IoU
MARK_IOU = 0.2  # a detection on a mark: this IoU, or its centre inside the mark's box
WORST_COUNT = 10  # how many worst frames and misreads the report lists


def load_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read JSON Lines records. Blank lines are skipped.

    Raises ``ValueError`` naming the file and line number when a line is not valid
    JSON or not a JSON object.
    """
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: line {number} is not valid JSON ({exc.msg} at column {exc.colno}): {text[:80]!r}") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}: line {number} is a JSON {type(record).__name__}, expected an object with a 'frame' key")
            records.append(record)
    return records


def load_truth(path: str | os.PathLike) -> dict:
    """Read a ground-truth JSON file; raises ``ValueError`` if it lacks the ``frames`` list."""
    with open(path, encoding="utf-8") as handle:
        try:
            truth = json.load(handle)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(truth, dict) or not isinstance(truth.get("frames"), list):
        raise ValueError(f"{path}: expected a ground-truth object with a 'frames' list")
    return truth


def _box(value, where: str) -> Box:
    try:
        x, y, w, h = (int(round(float(v))) for v in value)
        return Box(x, y, w, h)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: box must be [x, y, w, h] with w, h >= 0, got {value!r}") from None


def _centre_inside(box: Box, area: Box) -> bool:
    cx, cy = box.center
    return area.x <= cx < area.x2 and area.y <= cy < area.y2


def _greedy_pairs(left: list[Box], right: list[Box], threshold: float, allowed=None) -> list[tuple[int, int, float]]:
    """One-to-one pairs ``(i, j, iou)`` with IoU >= threshold, best IoU first."""
    candidates = []
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            if allowed is not None and not allowed(i, j):
                continue
            overlap = a.iou(b)
            if overlap >= threshold:
                candidates.append((overlap, i, j))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_left, used_right, pairs = set(), set(), []
    for overlap, i, j in candidates:
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        pairs.append((i, j, overlap))
    return pairs


@dataclass
class _FrameScore:
    frame: int
    true_digits: int = 0
    matched: int = 0
    correct: int = 0
    detections: int = 0
    on_marks: int = 0
    false_positives: int = 0
    true_numbers: int = 0
    correct_numbers: int = 0

    @property
    def errors(self) -> int:
        missed = self.true_digits - self.matched
        wrong = self.matched - self.correct
        return missed + wrong + self.false_positives + (self.true_numbers - self.correct_numbers)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def score(
    records: list[dict],
    truth: dict,
    *,
    require_all_frames: bool = True,
    digit_iou: float = DIGIT_IOU,
    number_iou: float = NUMBER_IOU,
    mark_iou: float = MARK_IOU,
    worst: int = WORST_COUNT,
) -> dict:
    """Score per-frame records against ground truth, matching frames by index.

    Per frame, detections are matched one-to-one to true digits by IoU (greedy,
    best first, IoU >= ``digit_iou``). A true number counts as read when a
    predicted number with the same text overlaps it with IoU >= ``number_iou``
    (one-to-one). An unmatched detection whose box overlaps a mark by IoU >=
    ``mark_iou``, or whose centre lies in a mark's box, is a mark detection; any
    other unmatched detection is a false positive.

    Truth frames with no record are misses when ``require_all_frames`` (a file was
    processed and should have every frame), and are left out otherwise (a live run
    drops frames). Records for frames not in the truth are counted and ignored.

    Returns a JSON-ready dict: ``digit_recall`` (matched / true digits),
    ``digit_precision`` (matched / detections), ``digit_accuracy`` (right label /
    matched), ``number_accuracy`` (read / true numbers) - each None when its
    denominator is 0 - plus ``mark_detections``, ``false_positives``, the counts,
    ``confusion`` (10x10, rows true digit, columns predicted), ``worst_frames`` and
    ``misreads`` (at most ``worst`` each, worst first).
    """
    if not isinstance(truth, dict) or not isinstance(truth.get("frames"), list):
        raise ValueError("truth must be a dict with a 'frames' list (the layout synth.render_video writes)")
    by_frame: dict[int, dict] = {}
    duplicates = 0
    for position, record in enumerate(records):
        if not isinstance(record, dict) or "frame" not in record:
            raise ValueError(f"record {position} has no 'frame' key: {str(record)[:80]}")
        index = int(record["frame"])
        if index in by_frame:
            duplicates += 1
        by_frame[index] = record  # the last record of a frame wins
    truth_frames = {int(f["frame"]): f for f in truth["frames"]}

    confusion = [[0] * 10 for _ in range(10)]
    frame_scores: list[_FrameScore] = []
    misreads: list[dict] = []
    missing = 0
    for index in sorted(truth_frames):
        true_frame = truth_frames[index]
        record = by_frame.get(index)
        if record is None:
            missing += 1
            if not require_all_frames:
                continue
            record = {"detections": [], "numbers": []}
        where = f"frame {index}"
        true_boxes = [_box(d["box"], f"{where} truth digit") for d in true_frame.get("digits", [])]
        true_labels = [int(d["digit"]) for d in true_frame.get("digits", [])]
        mark_boxes = [_box(m["box"], f"{where} truth mark") for m in true_frame.get("marks", [])]
        detections = record.get("detections", []) or []
        det_boxes = [_box(d["box"], f"{where} detection") for d in detections]
        result = _FrameScore(index, true_digits=len(true_boxes), detections=len(det_boxes))

        pairs = _greedy_pairs(true_boxes, det_boxes, digit_iou)
        matched_detections = set()
        for i, j, overlap in pairs:
            matched_detections.add(j)
            result.matched += 1
            predicted = int(detections[j]["digit"])
            if 0 <= true_labels[i] <= 9 and 0 <= predicted <= 9:
                confusion[true_labels[i]][predicted] += 1
            if predicted == true_labels[i]:
                result.correct += 1
            else:
                misreads.append(
                    {
                        "frame": index,
                        "box": true_boxes[i].as_list(),
                        "true": true_labels[i],
                        "predicted": predicted,
                        "confidence": detections[j].get("confidence"),
                        "iou": round(overlap, 3),
                    }
                )
        for j, box in enumerate(det_boxes):
            if j in matched_detections:
                continue
            if any(box.iou(m) >= mark_iou or _centre_inside(box, m) for m in mark_boxes):
                result.on_marks += 1
            else:
                result.false_positives += 1

        true_numbers = true_frame.get("numbers", [])
        predicted_numbers = record.get("numbers", []) or []
        result.true_numbers = len(true_numbers)
        number_pairs = _greedy_pairs(
            [_box(n["box"], f"{where} truth number") for n in true_numbers],
            [_box(n["box"], f"{where} number") for n in predicted_numbers],
            number_iou,
            allowed=lambda i, j: str(true_numbers[i]["text"]) == str(predicted_numbers[j].get("text")),
        )
        result.correct_numbers = len(number_pairs)
        frame_scores.append(result)

    true_digits = sum(f.true_digits for f in frame_scores)
    matched = sum(f.matched for f in frame_scores)
    correct = sum(f.correct for f in frame_scores)
    detection_count = sum(f.detections for f in frame_scores)
    true_numbers_count = sum(f.true_numbers for f in frame_scores)
    correct_numbers = sum(f.correct_numbers for f in frame_scores)
    worst_frames = sorted((f for f in frame_scores if f.errors), key=lambda f: (-f.errors, f.frame))[:worst]
    misreads.sort(key=lambda m: (-(m["confidence"] or 0.0), m["frame"]))
    return {
        "digit_recall": _ratio(matched, true_digits),
        "digit_precision": _ratio(matched, detection_count),
        "digit_accuracy": _ratio(correct, matched),
        "number_accuracy": _ratio(correct_numbers, true_numbers_count),
        "mark_detections": sum(f.on_marks for f in frame_scores),
        "false_positives": sum(f.false_positives for f in frame_scores),
        "frames_scored": len(frame_scores),
        "frames_missing": missing,
        "frames_extra": len(set(by_frame) - set(truth_frames)),
        "duplicate_records": duplicates,
        "true_digits": true_digits,
        "detections": detection_count,
        "matched_digits": matched,
        "correct_digits": correct,
        "true_numbers": true_numbers_count,
        "correct_numbers": correct_numbers,
        "confusion": confusion,
        "worst_frames": [
            {
                "frame": f.frame,
                "errors": f.errors,
                "missed": f.true_digits - f.matched,
                "wrong": f.matched - f.correct,
                "false_positives": f.false_positives,
                "mark_detections": f.on_marks,
                "numbers_missed": f.true_numbers - f.correct_numbers,
            }
            for f in worst_frames
        ],
        "misreads": misreads[:worst],
    }


def records_from_truth(truth: dict, confidence: float = 1.0) -> list[dict]:
    """Records that read every truth frame perfectly: a reference for tests and a sanity check."""
    fps = float(truth.get("fps") or 30)
    return [
        {
            "frame": int(f["frame"]),
            "time": round(int(f["frame"]) / fps, 4),
            "latency_ms": 0.0,
            "detections": [{"box": list(d["box"]), "digit": int(d["digit"]), "confidence": confidence} for d in f.get("digits", [])],
            "numbers": [{"text": n["text"], "box": list(n["box"]), "confidence": confidence} for n in f.get("numbers", [])],
        }
        for f in truth["frames"]
    ]

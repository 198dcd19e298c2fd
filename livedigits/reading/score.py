"""Scoring a run's JSON Lines output against ground truth: with boxes (``synth`` layout) or numbers only.

``records`` are the per-frame dicts a run writes (their fields are described in docs/usage.md, "The JSON Lines record")::

    {"frame": 12, "time": 0.4, "latency_ms": 7.9,
     "detections": [{"box": [x, y, w, h], "digit": 7, "confidence": 0.99}],
     "numbers": [{"text": "407", "box": [x, y, w, h], "confidence": 0.97}]}

``truth`` is the ground-truth dict ``synth.render_video`` writes::

    {"source": ..., "fps": 30, "size": [640, 480],
     "frames": [{"frame": 0, "digits": [{"box": [...], "digit": 4}],
                 "numbers": [{"text": "407", "box": [...]}],
                 "marks": [{"box": [...], "kind": "letter"}]}]}

Example::

    from livedigits.reading.score import load_jsonl, score
    report = score(load_jsonl("run.jsonl"), json.load(open("samples/demo.json")))
    report["digit_recall"], report["digit_accuracy"], report["number_accuracy"]

A *numbers truth* is for photos of your own: no boxes, only the numbers on each image,
scored by :func:`score_numbers` against the records of a run on the folder (each record
names its ``file``)::

    [{"file": "invoice.jpg", "numbers": ["4217"], "alt_numbers": [["42", "17"]],
      "tags": ["phone"], "notes": "..."},
     {"file": "column.jpg", "numbers": ["1", "2", "3"]}]

``alt_numbers`` lists other full readings that are equally right (ambiguous spacing); the
best-scoring one counts. A ``?`` in a number is an illegible digit. ``"score_numbers": false``
scores the image's digits only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from livedigits.vision.boxes import greedy_match, iou_matrix
from livedigits.types import Box

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


def load_truth(path: str | os.PathLike) -> dict | list[dict]:
    """Read a ground-truth JSON file of either kind, checked.

    Returns the box truth (a dict with a ``frames`` list) as it is, or the numbers truth (a
    list of entries) checked by :func:`check_numbers_truth`. Raises ``ValueError`` naming the
    file for invalid JSON or a document that is neither; ``OSError`` when it cannot be read.
    """
    with open(path, encoding="utf-8") as handle:
        try:
            truth = json.load(handle)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a JSON text file (not UTF-8)") from None
    if isinstance(truth, dict) and isinstance(truth.get("frames"), list):
        return truth
    if isinstance(truth, list):
        return check_numbers_truth(truth, where=str(path))
    raise ValueError(
        f"{path}: neither kind of ground truth: expected an object with a 'frames' list (boxes, as "
        'livedigits samples writes) or a list of {"file": ..., "numbers": [...]} entries, one per image'
    )


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
    """One-to-one pairs ``(i, j, iou)`` with IoU >= threshold, best IoU first; ``allowed(i, j)`` may forbid a pair."""
    iou = iou_matrix(left, right)
    if allowed is not None:
        for i, j in np.argwhere(iou >= threshold):
            if not allowed(int(i), int(j)):
                iou[i, j] = -np.inf
    return [(i, j, float(iou[i, j])) for i, j in greedy_match(iou, threshold)]


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


# --------------------------------------------------------------------------- numbers only

ILLEGIBLE = "?"  # a digit of a true number that cannot be made out
_NUMBER_CHARS = frozenset("0123456789" + ILLEGIBLE)


def _check_reading(value, where: str) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of numbers as strings, got {json.dumps(value)[:60]}")
    for text in value:
        if not isinstance(text, str) or not text or not set(text) <= _NUMBER_CHARS:
            raise ValueError(
                f"{where}: {json.dumps(text)[:40]} is not a number; write each number as a string of digits "
                'such as "407" (quoted, so leading zeros stay), with ? for a digit that cannot be read'
            )
    return list(value)


def check_numbers_truth(entries, where: str = "truth") -> list[dict]:
    """Check a numbers truth (a list of per-image entries) and return it normalised.

    Each entry: ``file`` (the image's name; matched by its base name), ``numbers`` (strings of
    digits, ``?`` for an illegible digit), optional ``alt_numbers`` (a list of such lists),
    ``tags`` (strings), ``score_numbers`` (bool, default true); other keys (notes...) are kept
    and ignored. Raises ``ValueError`` saying which entry is wrong and how.
    """
    if not isinstance(entries, list):
        raise ValueError(f"{where}: a numbers truth is a list of entries, one per image")
    if not entries:
        raise ValueError(f'{where}: the list is empty ([]); add one {{"file": ..., "numbers": [...]}} entry per image')
    checked, seen = [], {}
    for position, entry in enumerate(entries):
        at = f"{where}: entry {position}"
        if not isinstance(entry, dict):
            raise ValueError(f'{at} is a JSON {type(entry).__name__}, expected an object {{"file": ..., "numbers": [...]}}')
        file = entry.get("file")
        if not isinstance(file, str) or not file.strip():
            raise ValueError(f'{at} has no "file" (the image\'s file name, e.g. "invoice.jpg")')
        at = f"{where}: entry {position} ({file})"
        name = _base_name(file)
        if name in seen:
            raise ValueError(f"{at}: the same file name as entry {seen[name]}; each image needs one entry and a name of its own")
        seen[name] = position
        if "numbers" not in entry:
            raise ValueError(f'{at} has no "numbers" (the numbers on the image, e.g. ["407", "12"]; [] for none)')
        numbers = _check_reading(entry["numbers"], f"{at} numbers")
        alternatives = entry.get("alt_numbers", [])
        if not isinstance(alternatives, list):
            raise ValueError(f"{at} alt_numbers: expected a list of readings (each a list of numbers)")
        alternatives = [_check_reading(alt, f"{at} alt_numbers[{k}]") for k, alt in enumerate(alternatives)]
        tags = entry.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ValueError(f"{at} tags: expected a list of strings")
        score_numbers = entry.get("score_numbers", True)
        if not isinstance(score_numbers, bool):
            raise ValueError(f"{at} score_numbers: expected true or false, got {json.dumps(score_numbers)[:40]}")
        checked.append({**entry, "numbers": numbers, "alt_numbers": alternatives, "tags": list(tags),
                        "score_numbers": score_numbers})
    return checked


def _base_name(path: str) -> str:
    """The file name without folders, for either separator."""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _align(true_text: str, read_text: str) -> tuple[int, list[int], list[int], int]:
    """Longest common subsequence of a true number (may hold ``?``) and a read one.

    A digit equal on both sides weighs 2, a ``?`` against any read digit 1, so real matches are
    preferred. Returns ``(weight, true positions used, read positions used, exact pairs)``.
    """
    rows, cols = len(true_text), len(read_text)
    # best[i][j]: the weight of the best alignment of the first i true and first j read characters
    best = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            gain = _pair_weight(true_text[i - 1], read_text[j - 1])
            value = max(best[i - 1][j], best[i][j - 1])
            if gain:
                value = max(value, best[i - 1][j - 1] + gain)
            best[i][j] = value
    used_true, used_read, exact = [], [], 0
    i, j = rows, cols
    while i and j:
        gain = _pair_weight(true_text[i - 1], read_text[j - 1])
        if gain and best[i][j] == best[i - 1][j - 1] + gain:
            used_true.append(i - 1)
            used_read.append(j - 1)
            exact += gain == 2
            i, j = i - 1, j - 1
        elif best[i - 1][j] >= best[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return best[rows][cols], used_true, used_read, exact


def _pair_weight(true_char: str, read_char: str) -> int:
    if not read_char.isdigit():
        return 0
    if true_char == read_char:
        return 2
    return 1 if true_char == ILLEGIBLE else 0


def match_digits(true_numbers: list[str], read_numbers: list[str]) -> tuple[int, int]:
    """Digits read right, matched through the numbers: ``(true digits matched, read digits matched)``.

    Repeatedly the true and read numbers with the heaviest common subsequence (see ``_align``)
    are paired and the digits they share taken out of both; what is left of each is paired
    again. So a number read in two pieces, or two read as one, keeps its digits; a wrong digit
    matches nothing. A read digit on a ``?`` counts as read right but a ``?`` is no true digit.
    """
    left_true = list(true_numbers)
    left_read = ["".join(c for c in text if c.isdigit()) for text in read_numbers]
    cache: dict[tuple[int, int], tuple] = {}
    true_matched = read_matched = 0
    while True:
        pick, pick_weight = None, 0
        for i, t in enumerate(left_true):
            if not t:
                continue
            for j, r in enumerate(left_read):
                if not r:
                    continue
                if (i, j) not in cache:
                    cache[(i, j)] = _align(t, r)
                if cache[(i, j)][0] > pick_weight:
                    pick, pick_weight = (i, j), cache[(i, j)][0]
        if pick is None:
            return true_matched, read_matched
        i, j = pick
        _, used_true, used_read, exact = cache[pick]
        true_matched += exact
        read_matched += len(used_read)
        used_true, used_read = set(used_true), set(used_read)
        left_true[i] = "".join(c for k, c in enumerate(left_true[i]) if k not in used_true)
        left_read[j] = "".join(c for k, c in enumerate(left_read[j]) if k not in used_read)
        for key in [key for key in cache if key[0] == i or key[1] == j]:
            del cache[key]


def _fits(pattern: str, text: str) -> bool:
    return len(pattern) == len(text) and all(p in (ILLEGIBLE, c) for p, c in zip(pattern, text))


def score_reading(true_numbers: list[str], read_numbers: list[str]) -> dict:
    """One image's read numbers against one full reading of its truth (counts, JSON-ready)."""
    unread = list(read_numbers)
    matched = 0
    legible = [n for n in true_numbers if ILLEGIBLE not in n]
    illegible = [n for n in true_numbers if ILLEGIBLE in n]
    for number in legible:  # a multiset match: each read number counts once
        if number in unread:
            unread.remove(number)
            matched += 1
    illegible_read = 0
    for pattern in illegible:
        fit = next((k for k, text in enumerate(unread) if _fits(pattern, text)), None)
        if fit is not None:
            del unread[fit]
            illegible_read += 1
    true_digits_matched, read_digits_matched = match_digits(true_numbers, read_numbers)
    return {
        "true_numbers": len(legible),
        "illegible_numbers": len(illegible),
        "read_numbers": len(read_numbers),
        "matched_numbers": matched,
        "illegible_read": illegible_read,
        "extra_numbers": len(unread),
        "true_digits": sum(c.isdigit() for n in true_numbers for c in n),
        "read_digits": sum(c.isdigit() for n in read_numbers for c in n),
        "matched_digits": true_digits_matched,
        "read_digits_matched": read_digits_matched,
    }


def score_image(entry: dict, read_numbers: list[str]) -> dict:
    """Score one image: the best of its readings (``numbers``, then each ``alt_numbers``)."""
    best, best_key = None, None
    readings = [("numbers", entry["numbers"])]
    readings += [(f"alt_numbers[{k}]", alt) for k, alt in enumerate(entry.get("alt_numbers", []))]
    by_numbers = entry.get("score_numbers", True)
    for order, (name, reading) in enumerate(readings):
        result = score_reading(reading, read_numbers)
        if by_numbers:
            right = (result["matched_numbers"] == result["true_numbers"]
                     and result["illegible_read"] == result["illegible_numbers"] and result["extra_numbers"] == 0)
        else:
            right = (result["matched_digits"] == result["true_digits"]
                     and result["read_digits_matched"] == result["read_digits"])
        result["fully_right"] = right
        result["reading"] = name
        key = (right, result["matched_numbers"] + result["illegible_read"] if by_numbers else 0,
               result["matched_digits"], result["read_digits_matched"], -result["extra_numbers"], -order)
        if best_key is None or key > best_key:
            best, best_key = result, key
    best["score_numbers"] = by_numbers
    return best


def _record_numbers(record: dict, where: str) -> list[str]:
    numbers = record.get("numbers", []) or []
    if not isinstance(numbers, list) or not all(isinstance(n, dict) for n in numbers):
        raise ValueError(f"{where}: 'numbers' must be a list of objects with a 'text'")
    return [str(n.get("text", "")) for n in numbers]


def _totals(images: list[dict]) -> dict:
    numbered = [r for r in images if r["score_numbers"]]

    def total(key, rows=images):
        return sum(r[key] for r in rows)

    return {
        "images": len(images),
        "images_fully_right": sum(r["fully_right"] for r in images),
        "digit_recall": _ratio(total("matched_digits"), total("true_digits")),
        "digit_precision": _ratio(total("read_digits_matched"), total("read_digits")),
        "number_recall": _ratio(total("matched_numbers", numbered), total("true_numbers", numbered)),
        "number_precision": _ratio(total("matched_numbers", numbered) + total("illegible_read", numbered),
                                   total("read_numbers", numbered)),
        "true_digits": total("true_digits"),
        "read_digits": total("read_digits"),
        "matched_digits": total("matched_digits"),
        "detections": total("detections"),
        "true_numbers": total("true_numbers", numbered),
        "read_numbers": total("read_numbers", numbered),
        "matched_numbers": total("matched_numbers", numbered),
    }


def score_numbers(records: list[dict], entries: list[dict]) -> dict:
    """Score a run's records against a numbers truth (see :func:`check_numbers_truth`).

    Records are matched to entries by the base name of their ``file`` (a run on an image, a
    folder or a glob writes it); the last record of a file counts. When the records name no
    file (an older run) and the truth has one entry, the last record is that image's. An image
    with no record counts as read with nothing (``missing``); records of other files are
    ignored (``extra_files``).

    Per image: ``matched_digits`` of ``true_digits`` and ``read_digits_matched`` of
    ``read_digits`` (digits matched through the numbers, :func:`match_digits`), numbers read
    exactly (a multiset match; ``?`` numbers apart), ``fully_right`` (exactly the true numbers,
    nothing more; for ``score_numbers: false`` every digit and nothing more). ``overall`` and
    each tag in ``tags`` sum them into ``digit_recall``, ``digit_precision``,
    ``number_recall``, ``number_precision`` (None when the denominator is 0) and
    ``images_fully_right``.

    Raises ``ValueError`` when no record can be matched to any image.
    """
    entries = check_numbers_truth(entries)
    if not records:
        raise ValueError("the JSONL holds no records; run `livedigits run IMAGES --headless --jsonl FILE` first")
    named: dict[str, dict] = {}
    duplicates = unnamed = 0
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(f"record {position} is not a JSON object")
        file = record.get("file")
        if not isinstance(file, str) or not file:
            unnamed += 1
            continue
        name = _base_name(file)
        duplicates += name in named
        named[name] = record  # the last record of an image wins
    if not named:
        if len(entries) != 1:
            raise ValueError(
                f"the records name no image file (a video or camera run, or an older livedigits), and the truth "
                f"has {len(entries)} images; run on the folder of those images: livedigits run FOLDER --headless --jsonl FILE"
            )
        named = {_base_name(entries[0]["file"]): records[-1]}
    truth_names = [_base_name(e["file"]) for e in entries]
    if not set(truth_names) & set(named):
        shown = ", ".join(sorted(named)[:5]) + (", ..." if len(named) > 5 else "")
        raise ValueError(
            f"none of the {len(entries)} images in the truth has a record (the records are of {shown}); "
            "check that the truth's file names are those of the images run"
        )

    images = []
    for entry, name in zip(entries, truth_names):
        record = named.get(name)
        read = [] if record is None else _record_numbers(record, f"record of {name}")
        result = score_image(entry, read)
        images.append({
            "file": entry["file"],
            "tags": entry["tags"],
            "found": record is not None,
            "read": read,
            "detections": 0 if record is None else len(record.get("detections", []) or []),
            **result,
        })
    tags = sorted({t for r in images for t in r["tags"]})
    return {
        "truth": "numbers",
        "overall": _totals(images),
        "tags": {tag: _totals([r for r in images if tag in r["tags"]]) for tag in tags},
        "images": images,
        "missing": [r["file"] for r in images if not r["found"]],
        "extra_files": sorted(set(named) - set(truth_names)),
        "duplicate_records": duplicates,
        "records_without_file": unnamed,
    }


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def numbers_report_text(report: dict) -> str:
    """The report of :func:`score_numbers` as lines for a terminal: per image, per tag, overall."""
    lines = []
    width = max(len(r["file"]) for r in report["images"])
    for r in report["images"]:
        if r["score_numbers"]:
            numbers = f"numbers {r['matched_numbers']}/{r['true_numbers']} (read {r['read_numbers']})"
        else:
            numbers = "numbers not scored"
        state = "fully right" if r["fully_right"] else ("NO RECORD" if not r["found"] else "")
        read = " ".join(r["read"]) or "(nothing)"
        lines.append(f"{r['file']:<{width}}  digits {r['matched_digits']}/{r['true_digits']}  {numbers}  "
                     f"{state:<11}  read: {read[:60]}")
    if report["tags"]:
        lines.append("")
        for tag, t in report["tags"].items():
            lines.append(f"tag {tag}: {t['images']} images, digit recall {_percent(t['digit_recall'])}, "
                         f"number recall {_percent(t['number_recall'])}, {t['images_fully_right']}/{t['images']} fully right")
    o = report["overall"]
    lines.append("")
    lines.append(
        f"overall: digits {o['matched_digits']}/{o['true_digits']} (recall {_percent(o['digit_recall'])}, precision "
        f"{_percent(o['digit_precision'])}), numbers {o['matched_numbers']}/{o['true_numbers']} read exactly (recall "
        f"{_percent(o['number_recall'])}, precision {_percent(o['number_precision'])}), "
        f"{o['images_fully_right']}/{o['images']} images fully right"
    )
    if report["missing"]:
        lines.append(f"no record for {len(report['missing'])} images (unreadable, or not in the run): "
                     + ", ".join(report["missing"][:10]))
    if report["extra_files"]:
        lines.append(f"ignored records of {len(report['extra_files'])} files not in the truth: "
                     + ", ".join(report["extra_files"][:10]))
    return "\n".join(lines)

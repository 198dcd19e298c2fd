"""Sort every handwritten number a stress row does not read exactly by why (issue 19's tables and forms).

usage: python tools/number_losses.py [ROW] [COUNT] [FIRST_SEED] [DETAILS.json]   (default: table 40 0)

Each scene (``livedigits.bench.stress.row_scene``) is read as ``livedigits run IMAGE`` reads a still and scored
as ``livedigits stress`` scores it: detections matched one-to-one to true digits by IoU (``reading.score``), a
number exact when a number read with its text overlaps it. A detection belongs to the number read whose box
holds its centre. A true number not read exactly is put down to the first of:

* "digit missed": a digit of it has no detection (``near rule``: its ink box within ``RULE_REACH`` pixels of a
  printed rule, where the scene differs from itself drawn again with its rules faded, else ``clear``);
* "split": its digits, all found, lie in two or more numbers read;
* "merged with handwriting": the number read holding it holds digits of another true number too (``across a
  rule`` when a rule runs between the two, else ``no rule between``);
* "joined to print" / "joined to a letter" / "joined to a stray": the number read holding it holds a detection on a
  printed digit or word, on a handwritten letter, or on nothing in the truth (a piece of a rule);
* "misread": grouped right, a digit read as another;
* "box off": read with the right text, but its box does not overlap enough.

On a form (the printed fields the segmentation found, ``Segmentation.fields``, as the reading got them), each
cause but "misread" and "box off" says where the number's digits lie: ``in one field`` (the comb or box that
holds them all), ``across fields`` (the boxes of one comb found as two fields or more), ``no field`` (the comb
not found), and a split number in one field whether a side of a box was read between its digits (``box side
read``: a detection on nothing in the truth, inside the field). Off a form (no field found) nothing is added.

Prints the counts by cause; DETAILS.json gets one entry per number (seed, text, what was read around it).
"""
import sys
from collections import Counter
from contextlib import contextmanager
from unittest import mock

import numpy as np

import touching_causes

import livedigits.reading.numbers as numbers_module
import livedigits.reading.recognizer as recognizer_module
from livedigits.bench.stress import pipeline_reader, row_scene
from livedigits.reading.score import DIGIT_IOU, _greedy_pairs
from livedigits.synth import stress
from livedigits.types import Box

#: A digit whose ink box comes within this many frame pixels of a printed rule "touches" it.
RULE_REACH = 3


def _centre_in(box, area) -> bool:
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return area[0] <= cx <= area[0] + area[2] and area[1] <= cy <= area[1] + area[3]


def faded(form):
    """``synth.stress._table_form`` or ``_box_form`` drawing its rules faded to nothing (every draw the same)."""
    def draw(page, *args, **kwargs):
        y = form(page, *args, **kwargs)
        page.rules *= 1e-4  # still "any" (the same draws follow), too faint to see
        return y
    return draw


def _rule_layers(row: str, seed: int):
    """The scene, its truth, and where its printed rules lie in the frame: the scene is drawn again with the rules
    faded to nothing (every random draw the same), and the rules are where the two frames differ."""
    image, truth = row_scene(row, seed)
    with mock.patch.object(stress, "_table_form", faded(stress._table_form)), \
            mock.patch.object(stress, "_box_form", faded(stress._box_form)):
        bare, _ = row_scene(row, seed)
    diff = np.abs(image.astype(np.int16) - bare.astype(np.int16)).max(axis=2) > 40
    return image, truth, diff


def _near_rule(box, rules: np.ndarray) -> bool:
    """Whether a digit's ink box (``x, y, w, h``) comes within ``RULE_REACH`` pixels of a rule (``rules``: a mask)."""
    x, y, w, h = box
    r = RULE_REACH
    return bool(rules[max(0, y - r): y + h + r, max(0, x - r): x + w + r].any())


def _rule_between(a, b, rules: np.ndarray) -> bool:
    """A rule across the band between two digit boxes (side by side or one above the other)."""
    if a[0] > b[0]:
        a, b = b, a
    x0, x1 = a[0] + a[2], b[0]
    y0, y1 = min(a[1], b[1]), max(a[1] + a[3], b[1] + b[3])
    if x1 - x0 >= 2:
        band = rules[y0:y1, x0:x1]
        return bool((band.sum(axis=0) > 0.6 * (y1 - y0)).any())
    top, bottom = (a, b) if a[1] <= b[1] else (b, a)
    band = rules[top[1] + top[3]: bottom[1], min(a[0], b[0]): max(a[0] + a[2], b[0] + b[2])]
    return bool(band.size and (band.sum(axis=1) > 0.6 * band.shape[1]).any())


@contextmanager
def _fields_seen():
    """The printed fields (``Segmentation.fields``, source pixels) each reading hands the word rules: a list
    that holds, while inside, the fields of the last call."""
    seen: list = []
    original = numbers_module.read_context

    def spy(*args, fields=(), **kwargs):
        seen[:] = [tuple(b.as_list()) if hasattr(b, "as_list") else tuple(b) for b in fields]
        return original(*args, fields=fields, **kwargs)

    with mock.patch.object(numbers_module, "read_context", spy), mock.patch.object(recognizer_module, "read_context", spy):
        yield seen


def _where(boxes: list, fields: list) -> str:
    """Where digit boxes lie among a form's fields: "in one field", "across fields" or "no field"."""
    homes = {next((k for k, f in enumerate(fields) if _centre_in(b, f)), None) for b in boxes}
    if homes == {None}:
        return "no field"
    return "in one field" if len(homes) == 1 else "across fields"


def losses(row: str, count: int, first: int) -> tuple[Counter, Counter, list]:
    with _fields_seen() as seen:
        return _losses(row, count, first, seen)


def _losses(row: str, count: int, first: int, seen: list) -> tuple[Counter, Counter, list]:
    read = pipeline_reader()
    totals, causes, details = Counter(), Counter(), []
    for seed in range(first, first + count):
        image, truth, rules = _rule_layers(row, seed)
        seen.clear()
        record = read(image)
        fields = list(seen)
        digits, numbers = truth["digits"], truth["numbers"]
        detections = record.get("detections", [])
        read_numbers = record.get("numbers", [])
        pairs = _greedy_pairs([Box(*d["box"]) for d in digits], [Box(*x["box"]) for x in detections], DIGIT_IOU)
        det_of = {i: j for i, j, _ in pairs}
        truth_of = {j: i for i, j, _ in pairs}
        marks = truth.get("marks", [])

        def holder(j):
            return next((n for n, r in enumerate(read_numbers) if _centre_in(detections[j]["box"], r["box"])), None)

        exact = _greedy_pairs([Box(*n["box"]) for n in numbers], [Box(*r["box"]) for r in read_numbers], 0.5,
                              allowed=lambda i, j: numbers[i]["text"] == read_numbers[j]["text"])
        exact_truth = {i for i, _, _ in exact}
        for t, number in enumerate(numbers):
            totals["numbers"] += 1
            mine = [i for i, d in enumerate(digits) if d.get("number") == t]
            touching = any(_near_rule(digits[i]["box"], rules) for i in mine)
            totals["touching a rule"] += touching
            if t in exact_truth:
                totals["exact"] += 1
                continue
            info = {"seed": seed, "text": number["text"], "box": number["box"], "touching": touching}
            missed = [i for i in mine if i not in det_of]
            holders = {holder(det_of[i]) for i in mine if i in det_of}
            if missed:
                near = any(_near_rule(digits[i]["box"], rules) for i in missed)
                cause = "digit missed, " + ("near rule" if near else "clear")
            elif len(holders) > 1 or None in holders:
                cause = "split"
                info["read"] = [read_numbers[h]["text"] for h in holders if h is not None]
            else:
                h = holders.pop()
                info["read"] = read_numbers[h]["text"]
                inside = [j for j in range(len(detections)) if holder(j) == h]
                others = [j for j in inside if j in truth_of and digits[truth_of[j]].get("number") != t]
                strays = [j for j in inside if j not in truth_of]
                if others:
                    between = any(_rule_between(digits[i]["box"], digits[truth_of[j]]["box"], rules)
                                  for i in mine for j in others)
                    cause = "merged with handwriting, " + ("across a rule" if between else "no rule between")
                elif strays:
                    kinds = {m["kind"] for j in strays for m in marks if _centre_in(detections[j]["box"], m["box"])}
                    cause = ("joined to print" if kinds & {"printed_digit", "printed_text"}
                             else "joined to a letter" if "letter" in kinds else "joined to a stray")
                elif any(detections[det_of[i]]["digit"] != digits[i]["digit"] for i in mine):
                    cause = "misread"
                else:
                    cause = "box off"
            if fields and not cause.startswith(("misread", "box off")):
                where = _where([digits[i]["box"] for i in mine], fields)
                if cause == "split" and where == "in one field":
                    home = next(f for f in fields if _centre_in(digits[mine[0]]["box"], f))
                    sides = [j for j in range(len(detections)) if j not in truth_of
                             and _centre_in(detections[j]["box"], home)]
                    where += ", box side read" if sides else ""
                cause += ", " + where
            info["cause"] = cause
            causes[cause] += 1
            details.append(info)
    return totals, causes, details


def main(argv: list[str]) -> int:
    row, count, first, out = touching_causes.row_arguments(argv, "table")
    totals, causes, details = losses(row, count, first)
    print(f"{row}, seeds {first}-{first + count - 1}: {totals['numbers']} numbers ({totals['touching a rule']} touching "
          f"a rule), {totals['exact']} read exactly; {totals['numbers'] - totals['exact']} not:")
    for cause, n in causes.most_common():
        print(f"{n:5d}  {cause}")
    print("by seed:", ", ".join(f"{seed}: {n}" for seed, n in Counter(d["seed"] for d in details).most_common(12)))
    touching_causes.write_json(out, details)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

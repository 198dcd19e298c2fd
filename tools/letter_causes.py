"""Where the letters read as digits come from (issue 19, kind 4): record every glyph the words rule judges.

usage: python tools/letter_causes.py ROWS COUNT FIRST_SEED OUT.pkl

Each scene of each row (``livedigits.bench.stress.row_scene``) is read as ``livedigits run IMAGE`` reads a
still; the last call of ``reading.words.read_context`` is recorded (the glyphs it judged: boxes, the
classifier's probabilities, the 28x28 crops, the fields, blots, small pieces and signs), with what the truth says each
glyph is (a handwritten digit, a handwritten letter, a printed character, nothing) and whether it was read
as a digit in the end. OUT.pkl holds one entry a scene, for replaying word rules without reading again; the
totals by kind (field, run, alone; sure letter or not) are printed.
"""
import pickle
import sys
from collections import Counter

import numpy as np

import livedigits.reading.numbers as numbers_module
import livedigits.reading.recognizer as recognizer_module
from livedigits.bench.stress import pipeline_reader, row_scene
from livedigits.reading import words
from livedigits.types import NOT_A_DIGIT, Box


def _truth_of(box: Box, truth: dict):
    """("digit", d), ("letter", char), ("printed", text) or ("none", None), as ``reading.score`` pairs them."""
    best, kind = 0.0, ("none", None)
    for d in truth["digits"]:
        iou = box.iou(Box(*d["box"]))
        if iou >= 0.3 and iou > best:
            best, kind = iou, ("digit", d["digit"])
    if kind[0] == "digit":
        return kind
    for m in truth["marks"]:
        mb = Box(*m["box"])
        cx, cy = box.x + box.w / 2, box.y + box.h / 2
        if box.iou(mb) >= 0.2 or (mb.x <= cx <= mb.x + mb.w and mb.y <= cy <= mb.y + mb.h):
            return ("letter" if m["kind"] == "letter" else m["kind"], m.get("text"))
    return kind


def record(rows, count, first):
    calls = []
    original = words.read_context

    def spy(candidates, probabilities, detections, rejected, config, signs=(), fields=(), blots=(), small=(), possible=()):
        calls.append({"boxes": [c.box for c in candidates], "crops": np.stack([c.crop for c in candidates]) if candidates else None,
                      "probabilities": np.asarray(probabilities, np.float32), "signs": list(signs), "fields": list(fields),
                      "blots": list(blots), "small": list(small), "possible": list(possible)})
        return original(candidates, probabilities, detections, rejected, config, signs=signs, fields=fields, blots=blots,
                        small=small, possible=possible)

    recognizer_module.read_context = spy
    numbers_module.read_context = spy
    read = pipeline_reader()
    out = []
    for row in rows:
        for seed in range(first, first + count):
            image, truth = row_scene(row, seed)
            calls.clear()
            rec = read(image)
            if not calls:
                continue
            call = calls[-1]
            final = {Box(*d["box"]) for d in rec.get("detections", [])}
            call.update(row=row, seed=seed, truth=[_truth_of(b, truth) for b in call["boxes"]],
                        read=[b in final for b in call["boxes"]])
            out.append(call)
    return out


def groups_of(call):
    """The runs and fields ``word_glyphs`` judges, as indexes of the call's glyphs (signs left out, blots
    neutral), and the index where the fields begin."""
    skip = set(call["signs"])
    keep = [k for k, b in enumerate(call["boxes"]) if b not in skip]
    # As ``words.read_context``: blots, signs and small pieces stand in their lines, neither letter nor digit.
    boxes = [call["boxes"][k] for k in keep] + list(call["blots"]) + list(skip) + list(call.get("small", ()))
    held = words.field_runs(boxes, call["fields"])
    groups = words.with_fields(words.runs(boxes), held)
    n = len(keep)
    groups = [[keep[k] for k in g if k < n] for g in groups]
    return groups, len(groups) - len(held)


def summary(entries):
    kinds = Counter()
    letters = Counter()
    for call in entries:
        p = call["probabilities"]
        groups, first_field = groups_of(call)
        where = {}
        for number, g in enumerate(groups):
            for k in g:
                where[k] = (number, g)
        for k, (kind, text) in enumerate(call["truth"]):
            if not call["read"][k] or kind in ("digit", "printed_digit", "none"):
                continue
            number, g = where.get(k, (-1, [k]))
            nd = p[g, NOT_A_DIGIT] if g else np.zeros(0)
            if number >= first_field:
                place = "field"
            elif len(g) < 2:
                place = "alone"
            else:
                place = "run"
            has_sure = bool((nd >= 0.9).any())
            has_letter = bool((p[g].argmax(1) == NOT_A_DIGIT).any())
            tag = f"{call['row']:8s} {kind:12s} {place:6s} " + ("sure" if has_sure else "letter" if has_letter else "no-letter")
            kinds[tag] += 1
            letters[(call["row"], text)] += 1
    for tag, n in sorted(kinds.items()):
        print(f"{n:5d}  {tag}")
    return kinds, letters


if __name__ == "__main__":
    rows = sys.argv[1].split(",")
    entries = record(rows, int(sys.argv[2]), int(sys.argv[3]))
    with open(sys.argv[4], "wb") as f:
        pickle.dump(entries, f)
    summary(entries)


def replay(entries, config=words.DEFAULT_WORDS, model=None, rows=None, seeds=None):
    """Replay ``words.word_glyphs`` on recorded calls: per row, letters still read as digits, handwritten digits
    read and lost, printed digits lost, against what was read when recorded."""
    tally = {}
    for call in entries:
        if (rows and call["row"] not in rows) or (seeds and call["seed"] not in seeds):
            continue
        t = tally.setdefault(call["row"], Counter())
        skip = set(call["signs"])
        keep = [k for k, b in enumerate(call["boxes"]) if b not in skip]
        extra = list(call["blots"]) + list(skip) + list(call.get("small", ()))
        boxes = [call["boxes"][k] for k in keep] + extra
        probs = call["probabilities"][keep]
        if extra:
            probs = np.concatenate([probs, np.zeros((len(extra), probs.shape[1]), probs.dtype)])
        crops = [call["crops"][k] for k in keep] + [np.zeros((28, 28), np.float32)] * len(extra)
        possible = set(call.get("possible", ()))
        found = words.word_glyphs(boxes, probs, 0.5, config, fields=call["fields"], neutral=range(len(keep), len(boxes)),
                                  crops=crops, letter_model=model,
                                  small=[*range(len(keep), len(keep) + len(call["blots"])),
                                         *range(len(boxes) - len(call.get("small", ())), len(boxes))],
                                  maybe_signs=[i for i, k in enumerate(keep) if call["boxes"][k] in possible])
        gone = {keep[i] for i in found if i < len(keep)}
        for k, (kind, _) in enumerate(call["truth"]):
            if not call["read"][k]:
                continue
            lost = k in gone
            if kind in ("letter", "printed_text"):
                t["letters"] += not lost
                t["letters_before"] += 1
            elif kind == "digit":
                t["digits_lost"] += lost
                t["digits_read"] += 1
            elif kind == "printed_digit":
                t["printed_lost"] += lost
            else:
                t["other_lost"] += lost
    return tally

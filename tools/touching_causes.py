"""Sort every digit a stress row does not read right by why (issue 19's touching digits).

usage: python tools/touching_causes.py [ROW] [COUNT] [FIRST_SEED] [DETAILS.json]   (default: touching 40 0)

Each scene (``livedigits.bench.stress.row_scene``) is segmented and read as ``livedigits run IMAGE`` reads a
still, and scored as ``livedigits stress`` scores it (detections matched one-to-one to true digits by IoU,
``reading.score``). A true digit not read right is put down to the piece of ink that holds most of it:

* "found, misread": matched, read as another digit;
* "no candidate": no piece holds a third of it;
* one true digit in the piece: "single piece rejected" (read as no digit, or too unsurely), "single cut
  wrongly", "joined wrongly" or "broken / piece too small";
* several (``multi2``: two, ``multi3``: three or more): "no cut offered" (``Segmentation.splits`` holds no
  way), "no right cut offered" (no way whose parts each overlap one true digit by IoU 0.5), "right cut misread"
  (such a way, read as other digits), "right cut read right, not kept" (read as the right digits, but
  ``recognizer.decide_splits`` kept no way), "cut wrong" (it kept another way), "cut right, lost after".

Prints the totals and the counts by cause; DETAILS.json gets one entry per digit (its piece, the piece's
aspect, what the whole read as, the right ways and their sureness).
"""
import json
import sys
from collections import Counter

from livedigits.bench.stress import row_scene
from livedigits.classify.backends import load_classifier
from livedigits.reading.recognizer import Recognizer, decide_splits, second_look, split_crops
from livedigits.reading.score import DIGIT_IOU, _greedy_pairs
from livedigits.types import Box, Frame
from livedigits.vision.segment import DEFAULT_CONFIG, crops_batch, segment


def _iou(a, b) -> float:
    inter = _inter(a, b)
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def _inter(a, b) -> int:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return iw * ih


def _centre_in(d, p) -> bool:
    cx, cy = d[0] + d[2] / 2, d[1] + d[3] / 2
    return p[0] <= cx <= p[0] + p[2] and p[1] <= cy <= p[1] + p[3]


def _xywh(box) -> tuple:
    return (box.x, box.y, box.w, box.h)


def causes_of(row: str, count: int, first: int):
    """``(totals, causes, details)`` over scenes ``first .. first + count - 1`` of ``row``."""
    classifier = load_classifier("auto")
    causes, totals, details = Counter(), Counter(), []
    for seed in range(first, first + count):
        image, truth = row_scene(row, seed)
        found = segment(image, DEFAULT_CONFIG)
        probabilities = classifier.predict(crops_batch(split_crops(found)))
        found, probabilities = second_look(found, probabilities, classifier)
        read, _, _, _ = decide_splits(found, probabilities)
        record = Recognizer(classifier, smooth=False).process_batch(
            [("", Frame(0, 0.0, image), None, (found, 0.0))]).results[0].to_record()
        detections = record["detections"]
        boxes = [_xywh(c.box) for c in found.candidates]
        base = probabilities[: len(boxes)]
        at, way_rows = len(boxes), {}
        for k in sorted(found.splits):
            way_rows[k] = []
            for way in found.splits[k]:
                way_rows[k].append(probabilities[at: at + len(way)])
                at += len(way)
        kept = {id(c) for c in read}
        chosen = {k: n for k in found.splits for n, way in enumerate(found.splits[k]) if all(id(p) in kept for p in way)}
        joined = {m for members, ways in found.joins for way in ways if all(id(p) in kept for p in way) for m in members}
        digits = truth["digits"]
        totals["digits"] += len(digits)
        pairs = _greedy_pairs([Box(*d["box"]) for d in digits], [Box(*x["box"]) for x in detections], DIGIT_IOU)
        matched = {i: detections[j] for i, j, _ in pairs}
        for i, digit in enumerate(digits):
            box, info = tuple(digit["box"]), {}
            if i in matched:
                totals["found"] += 1
                if matched[i]["digit"] == digit["digit"]:
                    totals["right"] += 1
                    continue
                cause = "found, misread"
            else:
                share, k = max(((_inter(box, b) / float(box[2] * box[3]), k) for k, b in enumerate(boxes)), default=(0, None))
                if k is None or share < 0.3:
                    cause = "no candidate"
                else:
                    piece = boxes[k]
                    inside = sorted((e for e in digits if _centre_in(tuple(e["box"]), piece)), key=lambda e: e["box"][0])
                    info = {"piece": piece, "aspect": round(piece[2] / piece[3], 2),
                            "label": "".join(str(e["digit"]) for e in inside), "wide": k in found.wide,
                            "ways": len(found.splits.get(k, ())), "whole": [int(base[k].argmax()), round(float(base[k].max()), 3)]}
                    many = f"multi{min(len(inside), 3)}: "
                    if len(inside) <= 1:
                        cause = ("single cut wrongly" if k in chosen else "joined wrongly" if k in joined
                                 else "broken / piece too small" if _iou(box, piece) < DIGIT_IOU else "single piece rejected")
                    elif k in joined:
                        cause = many + "joined"
                    elif k not in found.splits:
                        cause = many + "no cut offered"
                    else:
                        right = []
                        for n, way in enumerate(found.splits[k]):
                            if len(way) == len(inside) and all(_iou(_xywh(p.box), tuple(t["box"])) >= 0.5 for p, t in zip(way, inside)):
                                rows = way_rows[k][n]
                                said = [int(r.argmax()) for r in rows]
                                right.append((n, said == [t["digit"] for t in inside], round(float(rows[:, :10].max(axis=1).min()), 3), said))
                        info["right_ways"] = right
                        if k in chosen:
                            cause = many + ("cut right, lost after" if any(r[0] == chosen[k] for r in right) else "cut wrong")
                        elif any(r[1] for r in right):
                            cause = many + "right cut read right, not kept"
                        else:
                            cause = many + ("right cut misread" if right else "no right cut offered")
                details.append({"seed": seed, "digit": digit["digit"], "box": box, "cause": cause, **info})
            causes[cause] += 1
    return totals, causes, details


def row_arguments(argv: list[str], default_row: str) -> tuple[str, int, int, str | None]:
    """``ROW [COUNT [FIRST [OUT.json]]]`` of this tool and of ``line_losses.py``: the stress row, how many
    seeds from which, and where to write the digits sorted (None: nowhere)."""
    row = argv[0] if argv else default_row
    count = int(argv[1]) if len(argv) > 1 else 40
    first = int(argv[2]) if len(argv) > 2 else 0
    return row, count, first, argv[3] if len(argv) > 3 else None


def write_json(path: str | None, details: list[dict]) -> None:
    if path is not None:
        with open(path, "w") as out:
            json.dump(details, out, default=str)


def main(argv: list[str]) -> int:
    row, count, first, out = row_arguments(argv, "touching")
    totals, causes, details = causes_of(row, count, first)
    print(f"{row}, seeds {first}-{first + count - 1}: {totals['digits']} digits, {totals['found']} found "
          f"({100 * totals['found'] / max(1, totals['digits']):.1f}%), {totals['right']} read right")
    for cause, n in causes.most_common():
        print(f"{n:5d}  {cause}")
    write_json(out, details)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

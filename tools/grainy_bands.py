"""How surely a model reads the candidates of grainy pages, right and wrong: the evidence for the reader's level there.

usage: python tools/grainy_bands.py ROW COUNT [FIRST] [MODEL]

Scenes ``FIRST .. FIRST + COUNT - 1`` of a stress row (``livedigits.bench.stress.row_scene``) whose paper measures
grainy (``Paper.grain`` at least ``segment.GRAINY``; the others are skipped before they are cut). Every candidate
``segment`` cuts there is read by MODEL (an int8 ``.tflite``; default the shipped one, or ``$LIVEDIGITS_MODELS``'s)
and sorted by what it lies on: one true digit (IoU at least ``DIGIT_IOU``, no other digit's centre in it), a letter
(its centre in a word of the truth), nothing of the truth (no digit's centre in it, IoU under 0.1 with every
digit: signs, lines, blots, grain, print), or part of a digit or several. Printed: for the candidates read as a
digit, how many are right and how many wrong (a true digit misread, a letter, nothing, a part) in each band of
their top probability, and how many of each the reader's level (``ReadingConfig.min_confidence``) and 0.7 accept.
docs/model.md ("The grainy cut with the shipped model as teacher") has the bands of ``mixed`` and ``noise``.
"""
import sys

import cv2
import numpy as np
from touching_causes import _centre_in, _iou, _xywh

from livedigits.bench.stress import row_scene
from livedigits.classify.backends import load_classifier
from livedigits.classify.modelfile import default_model_path
from livedigits.reading.numbers import DEFAULT_READING
from livedigits.reading.score import DIGIT_IOU
from livedigits.types import NOT_A_DIGIT
from livedigits.vision.segment import DEFAULT_CONFIG, GRAINY, estimate_paper, segment, shrink_for_paper

#: The bands of the top digit probability the table shows.
EDGES = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def grainy_candidates(row: str, count: int, first: int):
    """``(crops, kinds, digits, pages)`` of the grainy scenes: kind ``digit``, ``letter``, ``nothing`` or ``part``;
    the true digit for ``digit`` (-1 otherwise); the number of grainy pages."""
    crops, kinds, digits, pages = [], [], [], 0
    for seed in range(first, first + count):
        image, truth = row_scene(row, seed)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        small, _ = shrink_for_paper(gray, DEFAULT_CONFIG)
        if estimate_paper(gray, DEFAULT_CONFIG, small).grain < GRAINY:
            continue
        pages += 1
        true = [(tuple(d["box"]), d["digit"]) for d in truth["digits"]]
        words = [tuple(m["box"]) for m in truth["marks"] if m.get("kind") == "letter"]
        for c in segment(image, DEFAULT_CONFIG).candidates:
            box = _xywh(c.box)
            inside = [d for d in true if _centre_in(d[0], box)]
            best = max(((_iou(d[0], box), k) for k, d in enumerate(true)), default=(0.0, None))
            if best[0] >= DIGIT_IOU and (not inside or (len(inside) == 1 and inside[0] is true[best[1]])):
                kind, digit = "digit", true[best[1]][1]
            elif not inside and best[0] < 0.1:
                kind, digit = ("letter" if any(_centre_in(box, w) for w in words) else "nothing"), -1
            else:
                kind, digit = "part", -1
            crops.append(c.crop)
            kinds.append(kind)
            digits.append(digit)
    return np.array(crops, np.float32).reshape(-1, 28, 28), np.array(kinds), np.array(digits), pages


def main(argv) -> None:
    row, count = argv[1], int(argv[2])
    first = int(argv[3]) if len(argv) > 3 else 0
    model = argv[4] if len(argv) > 4 else default_model_path("lite-int8")
    crops, kinds, digits, pages = grainy_candidates(row, count, first)
    p = np.asarray(load_classifier("lite-int8", model_path=model).predict(crops)) if len(crops) else np.zeros((0, 11))
    top, conf = p.argmax(1), p.max(1)
    read = top != NOT_A_DIGIT
    right = read & (kinds == "digit") & (top == digits)
    groups = {"right": right, "misread": read & (kinds == "digit") & ~right, "letter": read & (kinds == "letter"),
              "nothing": read & (kinds == "nothing"), "part": read & (kinds == "part")}
    wrong = read & ~right
    print(f"{row} {first}-{first + count - 1}: {pages} grainy pages, {len(crops)} candidates, "
          f"{(kinds == 'digit').sum()} on one true digit ({((kinds == 'digit') & ~read).sum()} read as no digit)")
    print("| read as a digit | " + " | ".join(f"{a:.1f}-{min(b, 1):.1f}" for a, b in zip(EDGES, EDGES[1:])) + " |")
    print("| --- |" + " --- |" * (len(EDGES) - 1))
    for name, mask in list(groups.items()) + [("wrong", wrong)]:
        print(f"| {name} | " + " | ".join(str(v) for v in np.histogram(conf[mask], EDGES)[0]) + " |")
    for level in sorted({DEFAULT_READING.min_confidence, 0.7}):
        print(f"accepted at {level}: right {(right & (conf >= level)).sum()}, wrong {(wrong & (conf >= level)).sum()}")


if __name__ == "__main__":
    main(sys.argv)

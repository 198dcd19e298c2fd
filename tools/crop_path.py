"""Is a worksheet digit misread by the crop path or by the model? The same held-out digits read three ways.

usage: python tools/crop_path.py [pendigits|mnist|fonts|hands] [LIMIT]

For each digit of the set (pendigits: the test writers 30-43, 3,498 pen tracks; mnist: the MNIST test set;
fonts: 100 of each digit in each of ``VALIDATION_FAMILIES``, as ``writers.validation_sets``; hands: 30 of each digit in
each of the other hands, ``writers.other_hands()``, kept for evaluation), the digit model (``load_classifier()``) reads:

- ``evaluate``: the digit as ``livedigits evaluate`` renders it (pendigits: ``writers.validation_sets``' own
  steps, its pen and the camera distortions, seed 0 as there; mnist: the 28x28 image itself; fonts: the glyph
  through the same camera distortions);
- ``drawn``: the ink as ``synth.worksheet._Writer.digit`` draws it (pendigits: 96 px, a pen of 6-14% of the
  height, slant 0.05; mnist: the image enlarged to 84 px; fonts: the glyph), straight through ``normalize_ink``;
- ``page``: that ink written on a worksheet's page (``synth.worksheet._Canvas``: placed 51-69 px tall, rendered
  on plain paper with its blur, ink colour and noise), sixty to a page ten abreast, the page cut by
  ``vision.segment.segment``, and the candidate that overlaps the glyph most (IoU over 0.2) read.

So ``drawn`` against ``evaluate`` is the worksheet's pen against the evaluator's, and ``page`` against
``drawn`` is the crop path (cut box, padding, centring by mass, stroke thickness, the mask): what the page
loses that the straight render reads. Prints one JSON line per way (accuracy, the commonest confusions
``meant->read``, ``10`` the "not a digit" class) and, for pendigits, one per writer (accuracy of each way,
with the 4s, 7s and 9s read right of each).
"""
import json
import sys
from collections import Counter

import cv2
import numpy as np

from livedigits.classify.backends import load_classifier
from livedigits.synth.worksheet import _Canvas
from livedigits.train.writers import (VALIDATION_FAMILIES, _pen_fraction, _pendigits_indices, draw_glyph,
                                      draw_strokes, load_pendigits, other_hands)
from livedigits.vision.normalize import normalize_ink
from livedigits.vision.segment import segment

#: Digits written on one page, in rows of ``ACROSS``, each in a cell of ``CELL`` px (wide enough that no two
#: touch: a pen track is drawn at most twice as wide as tall).
PER_PAGE, ACROSS, CELL = 60, 10, (120, 115)
#: The digit height of a worksheet of five rows on a 720 px page (``make_worksheet``: 720 / (5 * 2.4)).
DIGIT_H = 60.0


def page_crops(inks: list, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Each ink written on a worksheet page and cut by ``segment``: the crops ``(n, 28, 28)`` and whether a
    candidate lay on the glyph."""
    rng = np.random.default_rng(seed)
    crops, found = np.zeros((len(inks), 28, 28), np.float32), np.zeros(len(inks), bool)
    for start in range(0, len(inks), PER_PAGE):
        canvas, boxes = _Canvas(rng, (1280, 720), "plain", DIGIT_H), {}
        for k in range(start, min(start + PER_PAGE, len(inks))):
            row, col = divmod(k - start, ACROSS)
            # A worksheet's sum height (0.85-1.1 of the digit height) and each digit's own (0.95-1.05).
            boxes[k] = canvas.put(inks[k], 40 + col * CELL[0], 30 + row * CELL[1],
                                  DIGIT_H * rng.uniform(0.85, 1.1) * rng.uniform(0.95, 1.05))
        candidates = segment(canvas.render()).candidates
        for k, box in boxes.items():
            overlaps = [box.iou(c.box) for c in candidates] if box is not None else []
            if overlaps and max(overlaps) > 0.2:
                crops[k], found[k] = candidates[int(np.argmax(overlaps))].crop, True
    return crops, found


def _sets(which: str, limit: int | None):
    """``(labels, writers or None, {way: crops})`` of the set."""
    from livedigits.train.augment import AugmentConfig, as_seen_by_camera

    rng, cfg = np.random.default_rng((0, 11)), AugmentConfig()

    def camera(ink):  # writers.validation_sets' camera, step for step
        crop = normalize_ink(as_seen_by_camera(ink.astype(np.float32) / 255.0, rng, cfg, cfg.low_res_digits))
        return crop if crop.max() > 0 else normalize_ink(ink)

    if which == "pendigits":
        pen = load_pendigits()
        ids = _pendigits_indices(train=False)[:limit]
        evaluate = np.stack([camera(draw_strokes(pen["strokes"][i], rng, pen=_pen_fraction(rng, 0.04, 0.15))) for i in ids])
        wrng = np.random.default_rng(77)
        inks = [draw_strokes(pen["strokes"][i], wrng, height=96, pen=_pen_fraction(wrng, 0.06, 0.14), slant=0.05) for i in ids]
        return pen["labels"][ids], pen["writer"][ids], evaluate, inks
    if which == "mnist":
        from livedigits.synth.page import mnist_test_digits

        x, y = mnist_test_digits()
        x, y = x[:limit], y[:limit]
        return y, None, x.astype(np.float32) / 255.0, [cv2.resize(im, (84, 84), interpolation=cv2.INTER_CUBIC) for im in x]
    if which in ("fonts", "hands"):
        families, per = (VALIDATION_FAMILIES, 100) if which == "fonts" else (other_hands(), 30)
        labels, inks = [], []
        for family in families:
            for digit in range(10):
                for _ in range(per):
                    inks.append(draw_glyph(str(digit), family, rng, size=96, max_grow=1))
                    labels.append(digit)
        labels, inks = np.array(labels[:limit]), inks[:limit]
        return labels, np.repeat(np.arange(len(families)), 10 * per)[:limit], np.stack([camera(k) for k in inks]), inks
    sys.exit(__doc__)


def main(which: str = "pendigits", limit: int | None = None) -> dict:
    classifier = load_classifier()
    labels, writers, evaluate, inks = _sets(which, limit)
    page, found = page_crops(inks)
    ways = {"evaluate": evaluate, "drawn": np.stack([normalize_ink(k) for k in inks]), "page": page}
    read = {way: np.asarray(classifier.predict(crops[..., None].astype(np.float32))).argmax(1) for way, crops in ways.items()}
    out = {}
    for way, said in read.items():
        keep = found if way == "page" else np.ones(len(labels), bool)
        wrong = Counter(f"{m}->{r}" for m, r, k in zip(labels, said, keep) if k and m != r)
        out[way] = {"set": which, "way": way, "digits": int(keep.sum()),
                    "accuracy": round(float((said == labels)[keep].mean()), 4), "confusions": dict(wrong.most_common(10))}
        print(json.dumps(out[way]))
    if which == "pendigits":
        for writer in np.unique(writers):
            mine = writers == writer
            row = {"writer": int(writer)}
            for way, said in read.items():
                row[way] = round(float((said == labels)[mine].mean()), 3)
                for digit in (4, 7, 9):
                    these = mine & (labels == digit)
                    row[f"{way} {digit}s"] = f"{int((said == labels)[these].sum())}/{int(these.sum())}"
            print(json.dumps(row))
    else:
        for k, family in enumerate(VALIDATION_FAMILIES if which == "fonts" else other_hands()):
            mine = writers == k
            print(json.dumps({"font": family.rsplit("/", 1)[-1], **{way: round(float((said == labels)[mine].mean()), 3) for way, said in read.items()}}))
    return out


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "pendigits", int(sys.argv[2]) if len(sys.argv) > 2 else None)

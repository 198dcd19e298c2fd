"""The 'digit misread' misses of generated worksheets, digit by digit: what the classifier saw and said.

usage: python tools/score_worksheets.py 60 7000 2> misses.txt
       python tools/misread_crops.py misses.txt [OUTDIR]

For each miss ``tools/score_worksheets.py`` printed with the cause ``digit misread`` (detail ``4->5``: meant,
read), the worksheet is made and read again (``Recognizer(keep_debug=True)``), and each meant digit's glyph
(``Worksheet.glyphs``, in the true sum's box, each glyph taken once) is matched with the candidate whose box
overlaps it most. One JSON line per misread digit: seed, writer, the true and read sums, the pair, the
classifier's probability of the digit read and of the digit meant, its three likeliest classes, the glyph's
and the candidate's boxes and their overlap (IoU: 0.85 to 1.0 for every misread crop of 7000-9059, none cut;
one far under that is a crop cut or joined, not misread), and ``stage``: ``crop`` where the classifier itself
read the crop as the digit read, ``sums`` where it read another and the reading of the sums chose the digit
read (an alternative that makes a sum right, a digit read as the page's digits of another). With OUTDIR, a PNG
per digit: the 28x28 crop the classifier saw (4x), beside the page around the glyph, the glyph's box green and
the candidate's red.
"""
import json
import re
import sys
from pathlib import Path

import cv2
import numpy as np

from livedigits.classify.backends import load_classifier
from livedigits.reading.recognizer import Recognizer
from livedigits.synth.worksheet import make_worksheet, miss_cause, score_sheet
from livedigits.types import Frame


def _inside(inner, outer, slack: int = 2) -> bool:
    return (inner.x >= outer.x - slack and inner.y >= outer.y - slack and inner.x + inner.w <= outer.x + outer.w + slack
            and inner.y + inner.h <= outer.y + outer.h + slack)


def _picture(sheet, glyph, candidate) -> np.ndarray:
    crop = cv2.resize((candidate.crop * 255).astype(np.uint8), (112, 112), interpolation=cv2.INTER_NEAREST)
    x0, y0 = max(0, glyph.x - 15), max(0, glyph.y - 15)
    page = sheet.image[y0:glyph.y + glyph.h + 15, x0:glyph.x + glyph.w + 15].copy()
    if page.ndim == 2:
        page = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
    for box, colour in ((glyph, (0, 200, 0)), (candidate.box, (0, 0, 255))):
        cv2.rectangle(page, (box.x - x0, box.y - y0), (box.x - x0 + box.w - 1, box.y - y0 + box.h - 1), colour, 1)
    page = cv2.resize(page, (max(1, int(page.shape[1] * 112 / page.shape[0])), 112))
    return np.hstack([cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR), page])


def main(misses: str, out: str | None = None) -> list[dict]:
    seeds = sorted({int(m.group(1)) for m in re.finditer(r"seed (\d+) .*\[digit misread: ", Path(misses).read_text())})
    recognizer = Recognizer(load_classifier(), smooth=False, keep_debug=True)
    rows = []
    for seed in seeds:
        sheet = make_worksheet(seed)
        result = recognizer.process(Frame(seed, 0.0, sheet.image))
        candidates, probabilities = list(result.candidates), result.probabilities
        for miss in score_sheet(sheet, result.expressions or ())["misses"]:
            cause, detail = miss_cause(*miss)
            if cause != "digit misread":
                continue
            truth = next(t for t in sheet.expressions if t.text == miss[0])
            glyphs = [(int(c), b) for c, b in sheet.glyphs if c.isdigit() and _inside(b, truth.box)]
            used = set()
            for pair in detail.split():
                meant, read = (int(v) for v in pair.split("->"))
                best = None
                for digit, glyph in glyphs:
                    if digit != meant or glyph in used or not candidates:
                        continue
                    overlaps = [glyph.iou(c.box) for c in candidates]
                    k = int(np.argmax(overlaps))
                    row = probabilities[k]
                    # Of two glyphs of the digit meant, the one the classifier read as the digit read.
                    rank = (int(np.argmax(row)) == read, -float(row[meant]))
                    if best is None or rank > best[0]:
                        best = (rank, glyph, k, overlaps[k])
                record = {"seed": seed, "writer": sheet.writer, "truth": miss[0], "read": miss[2], "pair": pair}
                if best is None:
                    rows.append({**record, "stage": "no candidate"})
                    continue
                _, glyph, k, overlap = best
                used.add(glyph)
                row = probabilities[k]
                top = np.argsort(-row)[:3]
                record.update(p_read=round(float(row[read]), 3), p_meant=round(float(row[meant]), 3),
                              top=[(int(t), round(float(row[t]), 3)) for t in top], glyph=glyph.as_list(),
                              candidate=candidates[k].box.as_list(), iou=round(overlap, 2),
                              stage="crop" if int(top[0]) == read else "sums")
                if out is not None:
                    Path(out).mkdir(parents=True, exist_ok=True)
                    name = Path(out) / f"{seed}_{glyph.x}_{glyph.y}_{meant}to{read}.png"
                    cv2.imwrite(str(name), _picture(sheet, glyph, candidates[k]))
                    record["png"] = str(name)
                rows.append(record)
    for record in rows:
        print(json.dumps(record))
    return rows


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(*sys.argv[1:3])

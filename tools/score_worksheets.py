"""Read generated worksheets (livedigits.synth.worksheet) and score the expressions and verdicts; or count
the expressions read on generated pages that hold no arithmetic at all (every one is false).

usage: python tools/score_worksheets.py [COUNT] [FIRST_SEED] [TOUCHING_MINUS]
       python tools/score_worksheets.py --other-hands [COUNT] [FIRST_SEED]
       python tools/score_worksheets.py --stress ROWS [COUNT] [FIRST_SEED]   (ROWS: boxes,table,printed,dense)
The first prints a line per miss, with its cause (``synth.worksheet.miss_cause``), and one JSON line of
totals with the misses counted by cause; every worksheet is 1280x720, writers and
papers drawn by seed (held-out fonts, pendigits test writers, MNIST test digits; plain, ruled, squared).
TOUCHING_MINUS (a share, default 0) writes that share of the minuses run into the digit after them
(``make_worksheet(touching_minus=...)``); the totals also count the sums with a minus, and those read exactly.
``--other-hands`` writes each sheet, digits and signs, in one of Debian's handwriting fonts
(``train.writers.other_hands``, sheet SEED in hand SEED modulo their number), kept for evaluation: nothing
is trained or tuned on them; the totals count verdicts per hand.
The last reads ``livedigits stress`` scenes of each phenomenon alone (``synth.stress.stress_scene``),
prints each expression read there and one JSON line: pages and expressions per row.
"""
import json
import sys
import time
from collections import Counter

from livedigits.classify.backends import load_classifier
from livedigits.reading.recognizer import Recognizer
from livedigits.synth.worksheet import make_worksheet, miss_cause, score_sheet
from livedigits.train.writers import other_hands
from livedigits.types import Frame


def main(count: int = 30, first: int = 1000, touching_minus: float = 0.0, hands: tuple[str, ...] = ()) -> dict:
    recognizer = Recognizer(load_classifier(), smooth=False)
    totals = {"sheets": 0, "truth": 0, "read_exactly": 0, "verdict_right": 0, "right_marked_wrong": 0, "unsure": 0, "extra": 0}
    by_writer = {}
    causes = Counter()
    ms = []
    for seed in range(first, first + count):
        sheet = make_worksheet(seed, touching_minus=touching_minus, hand=hands[seed % len(hands)] if hands else None)
        started = time.perf_counter()
        result = recognizer.process(Frame(seed, 0.0, sheet.image))
        ms.append((time.perf_counter() - started) * 1e3)
        counts = score_sheet(sheet, result.expressions or ())
        totals["sheets"] += 1
        for key in totals:
            if key in counts:
                totals[key] += counts[key]
        # The sums with a minus, and of them those read exactly (a minus run into the digit after it:
        # TOUCHING_MINUS).
        minus = [t for t in sheet.expressions if "-" in t.text]
        texts = [e.text for e in result.expressions or ()]
        totals["minus_sums"] = totals.get("minus_sums", 0) + len(minus)
        totals["minus_read_exactly"] = totals.get("minus_read_exactly", 0) + sum(t.text in texts for t in minus)
        w = by_writer.setdefault(sheet.writer if hands else sheet.writer.split(" ")[0], [0, 0])
        w[0] += counts["truth"]
        w[1] += counts["verdict_right"]
        for miss in counts["misses"]:
            cause, detail = miss_cause(*miss)
            causes[cause] += 1
            print(f"  seed {seed} {sheet.writer:28s} {sheet.paper:6s} truth {miss[0]} {miss[1]}  read {miss[2]} {miss[3]}"
                  f"  [{cause}: {detail}]", file=sys.stderr)
    totals["verdict_accuracy"] = round(totals["verdict_right"] / max(1, totals["truth"]), 4)
    totals["read_exactly_share"] = round(totals["read_exactly"] / max(1, totals["truth"]), 4)
    totals["causes"] = dict(causes.most_common())
    totals["by_writer"] = {k: f"{v[1]}/{v[0]}" for k, v in by_writer.items()}
    ms.sort()
    totals["median_ms_per_sheet"] = round(ms[len(ms) // 2], 1)
    print(json.dumps(totals))
    return totals


def stress(rows: str = "boxes,table,printed,dense", count: int = 40, first: int = 0) -> dict:
    """Expressions read on stress pages of each phenomenon alone: they hold numbers, forms, tables and
    print, and no arithmetic, so every expression is a false one."""
    from livedigits.synth.stress import stress_scene

    recognizer = Recognizer(load_classifier(), smooth=False)
    totals = {}
    for row in rows.split(","):
        pages = found = 0
        for seed in range(first, first + count):
            image, _ = stress_scene(seed, only=(row,))
            result = recognizer.process(Frame(seed, 0.0, image))
            pages += 1
            for e in result.expressions or ():
                found += 1
                print(f"  {row}-{seed} {e.text} {e.verdict} {e.box.as_list()}", file=sys.stderr)
        totals[row] = {"pages": pages, "expressions": found}
    print(json.dumps(totals))
    return totals


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stress"]:
        stress(sys.argv[2], *(int(a) for a in sys.argv[3:5]))
    elif sys.argv[1:2] == ["--other-hands"]:
        try:
            hands = other_hands()
        except ValueError as error:
            sys.exit(f"score_worksheets: {error}")
        main(*(int(a) for a in sys.argv[2:4]), hands=hands)
    else:
        main(*(int(a) for a in sys.argv[1:3]), *(float(a) for a in sys.argv[3:4]))

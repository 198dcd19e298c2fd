"""The digits a stress row loses to its printed lines (issue 19's ruled ledger pages).

usage: python tools/line_losses.py [ROW] [COUNT] [FIRST_SEED] [DETAILS.json]   (default: ledger 40 0)

Each scene is read twice, as ``tools/touching_causes.py`` reads and sorts it: as generated, and drawn again
from the same seed with no printed line (``synth.scenes._print_lines`` draws nothing: ruled paper's and a
ledger's rulings and margin line, a grid's lines; a table's and a form's rules are drawn otherwise and stay).
Every other draw is the same: the lines take nothing from the generator's random stream. A
digit read right without the lines and not with them was lost to the lines; they are counted by the cause
``touching_causes`` gives them with the lines, and by seed. DETAILS.json gets one entry per such digit.
"""
import sys
from collections import Counter
from unittest import mock

import touching_causes

from livedigits.synth import scenes


def line_losses(row: str, count: int, first: int) -> tuple[Counter, Counter, list]:
    """``(totals, causes, lost)``: the right digits with and without the lines, and the digits lost to them."""
    totals_lined, _, lined = touching_causes.causes_of(row, count, first)
    with mock.patch.object(scenes, "_print_lines", lambda *args, **kwargs: None):
        totals_bare, _, bare = touching_causes.causes_of(row, count, first)
    missed = {(d["seed"], tuple(d["box"])) for d in bare}
    lost = [d for d in lined if (d["seed"], tuple(d["box"])) not in missed]
    totals = Counter({"digits": totals_lined["digits"], "right with lines": totals_lined["right"],
                      "right without": totals_bare["right"]})
    return totals, Counter(d["cause"] for d in lost), lost


def main(argv: list[str]) -> int:
    row, count, first, out = touching_causes.row_arguments(argv, "ledger")
    totals, causes, lost = line_losses(row, count, first)
    print(f"{row}, seeds {first}-{first + count - 1}: {totals['digits']} digits, {totals['right with lines']} read "
          f"right, {totals['right without']} without the lines; {len(lost)} lost to the lines")
    for cause, n in causes.most_common():
        print(f"{n:5d}  {cause}")
    print("by seed:", ", ".join(f"{seed}: {n}" for seed, n in Counter(d["seed"] for d in lost).most_common()))
    touching_causes.write_json(out, lost)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

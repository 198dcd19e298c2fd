"""The digits a stress row loses to its printed lines (issue 19's ruled ledger pages and tables).

usage: python tools/line_losses.py [ROW] [COUNT] [FIRST_SEED] [DETAILS.json]   (default: ledger 40 0)

Each scene is read twice, as ``tools/touching_causes.py`` reads and sorts it: as generated, and drawn again
from the same seed with no printed line (``synth.scenes._print_lines`` draws nothing: ruled paper's and a
ledger's rulings and margin line, a grid's lines; a table's and a form's rules are drawn faded to nothing,
as ``tools/number_losses.py`` fades them). Every other draw is the same: the lines take nothing from the
generator's random stream. A digit read right without the lines and not with them was lost to the lines;
they are counted by the cause ``touching_causes`` gives them with the lines, and by seed.

Each such digit is also put down to what the lines did to its ink in the mask the pieces are cut from
(``Segmentation.mask``, inside the digit's box, against the same scene's mask without the lines):
"stroke taken" (of the ink it has without the lines, more than ``TAKEN`` is gone with them: a stroke lying
along a rule, taken out with it), "line left" (ink the lines leave in the box, more than ``LEFT`` of the
digit's own: a rule not found or not all taken out, or a stub of one, joined to the digit), else "other".
DETAILS.json gets one entry per such digit (with ``ink``: that split).
"""
import sys
from collections import Counter
from contextlib import ExitStack
from unittest import mock

import cv2
import numpy as np

import touching_causes
from number_losses import faded

from livedigits.bench.stress import row_scene
from livedigits.synth import scenes, stress
from livedigits.vision.segment import DEFAULT_CONFIG, segment

#: A digit lost to the lines whose ink in the mask lacks more than this share of what it has without them had a
#: stroke taken out with a line...
TAKEN = 0.15
#: ... and one with more than this share of its own ink added by the lines had a line (or a stub of one) left on it.
LEFT = 0.15


def _without_lines(stack: ExitStack) -> None:
    stack.enter_context(mock.patch.object(scenes, "_print_lines", lambda *args, **kwargs: None))
    stack.enter_context(mock.patch.object(stress, "_table_form", faded(stress._table_form)))
    stack.enter_context(mock.patch.object(stress, "_box_form", faded(stress._box_form)))


def _masks(row: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The frame-sized ink masks the pieces are cut from, with the lines and without them."""
    out = []
    for bare in (False, True):
        with ExitStack() as stack:
            if bare:
                _without_lines(stack)
            image, _ = row_scene(row, seed)
        mask = segment(image, DEFAULT_CONFIG).mask
        out.append(cv2.resize(mask, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST) > 0)
    return out[0], out[1]


def ink_change(box, lined: np.ndarray, bare: np.ndarray) -> str:
    """What the lines did to a digit's ink in its box (``x, y, w, h``): "stroke taken", "line left" or "other"."""
    x, y, w, h = box
    a, b = lined[y: y + h, x: x + w], bare[y: y + h, x: x + w]
    own = max(1, int(np.count_nonzero(b)))
    if np.count_nonzero(b & ~a) > TAKEN * own:
        return "stroke taken"
    if np.count_nonzero(a & ~b) > LEFT * own:
        return "line left"
    return "other"


def line_losses(row: str, count: int, first: int) -> tuple[Counter, Counter, list]:
    """``(totals, causes, lost)``: the right digits with and without the lines, and the digits lost to them."""
    totals_lined, _, lined = touching_causes.causes_of(row, count, first)
    with ExitStack() as stack:
        _without_lines(stack)
        totals_bare, _, bare = touching_causes.causes_of(row, count, first)
    missed = {(d["seed"], tuple(d["box"])) for d in bare}
    lost = [d for d in lined if (d["seed"], tuple(d["box"])) not in missed]
    for seed in sorted({d["seed"] for d in lost}):
        masks = _masks(row, seed)
        for d in lost:
            if d["seed"] == seed:
                d["ink"] = ink_change(d["box"], *masks)
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
    print("by what the lines did to the ink:",
          ", ".join(f"{ink}: {n}" for ink, n in Counter(d["ink"] for d in lost).most_common()))
    print("by seed:", ", ".join(f"{seed}: {n}" for seed, n in Counter(d["seed"] for d in lost).most_common()))
    touching_causes.write_json(out, lost)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

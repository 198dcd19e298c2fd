"""Where the digits of the stress row ``mixed`` go: by the phenomena each scene combines, and by stage.

usage: python tools/mixed_losses.py [ROW] [COUNT] [FIRST_SEED] [DETAILS.json]   (default: mixed 40 0)

(any row sorts the same way: ``thin``, ``dotted``, ...)

Every true digit not read right is sorted by ``tools/touching_causes.py`` (the piece of ink that holds most of
it), and put down to a stage of the pipeline:

* "no piece": no piece of the final ink mask holds a third of it, and no filter dropped one there; split further
  (``no_piece_cause``, the entry's ``where``) into "off the page found" (half its box or more where ``Paper.limit``
  is 0), "no ink at the usual faint level" (under 3% of its box in the faint mask of ``ink_against``, before any
  pale-ink level), "ink, taken out with lines or nets" (under 3% of its box left in the final mask), and, in the
  final mask (``Segmentation.mask``), by the connected piece holding most of its ink there: "in bits" (that piece's
  box under 0.3 of the digit's), "merged into a larger piece" (2.5 times its width or 1.8 times its height), "a
  piece of its size, dropped by a filter" (too short, too sparse, a speck);
* "dropped: no paper on a side" / "dropped: off the page": a piece was there and ``vision.segment``'s
  ``_paper_on_every_side`` or ``_surrounded_all`` dropped it (its box covers a third of the digit);
* "rejected": one digit in one piece, read as no digit or too unsurely;
* "cut": several digits in one piece (no cut offered, or the right one misread or not kept), or one digit
  cut or joined wrongly, or broken;
* "misread": found, read as another digit (counted, not listed: ``touching_causes`` lists only the digits not found).

Prints the digits not read right by stage; then the digits not found by phenomenon (the scenes that show it:
their digits, how many not found, and the stage that lost most), and by scene (its digits, not found, stages;
its phenomena). DETAILS.json gets one entry a digit not found (``touching_causes``' entry plus ``stage`` and ``phenomena``).
"""
import sys
from collections import Counter, defaultdict
from contextlib import ExitStack
from unittest import mock

import cv2
import numpy as np
import touching_causes

import livedigits.vision.segment as segment_module
from livedigits.bench.stress import row_scene

STAGES = ("no piece", "dropped: no paper on a side", "dropped: off the page", "rejected", "cut", "misread")


def _watch(name: str, calls: list) -> mock._patch:
    """Patch ``segment_module.NAME`` (a filter returning one verdict a box) to record, per call, the boxes it
    dropped (working pixels: the frame's on a stress scene, which is never shrunk)."""
    original = getattr(segment_module, name)

    def watched(*args, **kwargs):
        verdicts = original(*args, **kwargs)
        boxes = args[3] if name == "_paper_on_every_side" else args[0]
        calls[-1][name] = [box if name == "_surrounded_all" else box[0]
                           for box, ok in zip(boxes, verdicts) if not ok]
        return verdicts

    return mock.patch.object(segment_module, name, watched)


def _stage(entry: dict, dropped: dict) -> str:
    cause = entry["cause"]
    if cause == "found, misread":
        return "misread"
    if cause == "single piece rejected":
        return "rejected"
    if cause != "no candidate":
        return "cut"
    box = entry["box"]
    for name, stage in (("_paper_on_every_side", "dropped: no paper on a side"), ("_surrounded_all", "dropped: off the page")):
        if any(touching_causes._inter(box, piece) >= 0.3 * box[2] * box[3] for piece in dropped.get(name, ())):
            return stage
    return "no piece"


def no_piece_cause(box: tuple, limit: np.ndarray, usual: np.ndarray, labels: np.ndarray, stats: np.ndarray) -> str:
    """Where a digit with no piece (``box``, x y w h in working pixels) was lost: ``limit`` is the scene's
    ``Paper.limit``, ``usual`` its ink mask at the usual faint level, ``labels`` and ``stats`` the connected pieces
    (8-connected) of its final mask."""
    x, y, w, h = box
    window = (slice(y, y + h), slice(x, x + w))
    if (limit[window] > 0).mean() < 0.5:
        return "off the page found"
    if (usual[window] > 0).mean() < 0.03:
        return "no ink at the usual faint level"
    inside = labels[window]
    if (inside > 0).mean() < 0.03:
        return "ink, taken out with lines or nets"
    ids, counts = np.unique(inside[inside > 0], return_counts=True)
    piece = ids[counts.argmax()]
    pw, ph = int(stats[piece, cv2.CC_STAT_WIDTH]), int(stats[piece, cv2.CC_STAT_HEIGHT])
    if pw > 2.5 * w or ph > 1.8 * h:
        return "merged into a larger piece"
    if pw * ph < 0.3 * w * h:
        return "in bits"
    return "a piece of its size, dropped by a filter"


def _no_piece_causes(lost: list, row: str, masks: dict) -> None:
    """Set ``where`` on each digit of ``lost`` whose stage is "no piece" (``no_piece_cause``); ``masks``: each
    seed's final ink mask."""
    for seed in sorted({d["seed"] for d in lost if d["stage"] == "no piece"}):
        image, _ = row_scene(row, seed)
        gray = segment_module.to_gray(image)
        paper = segment_module.estimate_paper(gray, segment_module.DEFAULT_CONFIG)
        clear, faint = segment_module.ink_against(gray, paper)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(masks[seed], connectivity=8)
        for d in lost:
            if d["seed"] == seed and d["stage"] == "no piece":
                d["where"] = no_piece_cause(tuple(d["box"]), paper.limit, clear if faint is None else faint, labels, stats)


def mixed_losses(count: int, first: int, row: str = "mixed") -> tuple[Counter, list, dict]:
    """``(totals, lost, scenes)``: ``touching_causes``' totals, the digits lost (with ``stage`` and ``phenomena``),
    and per seed ``(phenomena, digits)``."""
    calls: list[dict] = []
    real_segment = segment_module.segment

    def segment(*args, **kwargs):
        calls.append({})
        found = real_segment(*args, **kwargs)
        calls[-1]["mask"] = found.mask  # (a stress scene is read at its own size: working pixels are the frame's)
        return found

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(touching_causes, "segment", segment))
        for name in ("_paper_on_every_side", "_surrounded_all"):
            stack.enter_context(_watch(name, calls))
        totals, _, details = touching_causes.causes_of(row, count, first)
    scenes = {}
    for seed in range(first, first + count):
        _, truth = row_scene(row, seed)
        scenes[seed] = (tuple(truth["phenomena"]), len(truth["digits"]))
    lost = details  # the digits not found (a digit found and misread has no entry)
    for d in lost:
        d["stage"] = _stage(d, calls[d["seed"] - first])
        d["phenomena"] = scenes[d["seed"]][0]
    _no_piece_causes(lost, row, {seed: calls[seed - first]["mask"] for seed in scenes})
    return totals, lost, scenes


def main(argv: list[str]) -> int:
    row = argv.pop(0) if argv and not argv[0].isdigit() else "mixed"
    count = int(argv[0]) if argv else 40
    first = int(argv[1]) if len(argv) > 1 else 0
    totals, lost, scenes = mixed_losses(count, first, row)
    print(f"{row}, seeds {first}-{first + count - 1}: {totals['digits']} digits, {totals['found']} found, "
          f"{totals['right']} read right; {totals['digits'] - totals['right']} not read right")
    stages = Counter(d["stage"] for d in lost)
    stages["misread"] = totals["found"] - totals["right"]
    print("by stage:", ", ".join(f"{stage}: {stages[stage]}" for stage in STAGES if stages[stage]))
    where = Counter(d["where"] for d in lost if "where" in d)
    print("no piece, where:", ", ".join(f"{name}: {n}" for name, n in where.most_common()))
    digits, lost_by, stage_by = Counter(), Counter(), defaultdict(Counter)
    for seed, (phenomena, n) in scenes.items():
        for name in phenomena:
            digits[name] += n
    for d in lost:
        for name in d["phenomena"]:
            lost_by[name] += 1
            stage_by[name][d["stage"]] += 1
    print("not found, by phenomenon (scenes showing it: digits, not found, share, the stage that lost most):")
    for name, n in sorted(lost_by.items(), key=lambda item: -item[1]):
        stage, most = stage_by[name].most_common(1)[0]
        print(f"  {name:16s} {digits[name]:5d} {n:4d} {100 * n / digits[name]:5.1f}%  {stage} ({most})")
    print("not found, by scene (seed: digits, not found, stages; phenomena):")
    per_seed = defaultdict(Counter)
    for d in lost:
        per_seed[d["seed"]][d["stage"]] += 1
    for seed, stage_counts in sorted(per_seed.items(), key=lambda item: -sum(item[1].values())):
        phenomena, n = scenes[seed]
        print(f"  {seed}: {n}, {sum(stage_counts.values())}, {dict(stage_counts.most_common())}; {', '.join(phenomena)}")
    touching_causes.write_json(argv[2] if len(argv) > 2 else None, lost)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

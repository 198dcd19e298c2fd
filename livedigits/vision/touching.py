"""Touching digits cut apart: a piece of ink too wide for one digit, offered in parts for the classifier to
choose among.

A piece as wide as tall is offered in two halves; one 1.4 times as wide (``THREE_ASPECT``) is cut into up to
four (``MAX_PARTS``, "1000" in one stroke), one too wide for a digit, but as tall as writing, into up to five
(``RUN_PARTS``, "90697"). The cuts come from the ink itself:

- **Loops.** Each closed loop of a chain of zeros is one digit and gets its whole ring of ink
  (``_loop_parts``, ``_ringed_parts``); a digit before the chain keeps its ink (``_chain_cuts``); pieces of
  one line close enough to be links of a chain are joined and their gaps bridged first (``_loop_joins``).
- **Thin places.** The columns with the least ink, and paths through the ink's thin places
  (``_cut_paths``), straight or slanted (``_halves``, ``_edge_halves``).
- **Equal widths** (``_even_parts``): zeros run into each other like chain links leave no thin place; where
  two outlines cross at a boundary, each arm goes to the side it leans to (``_lean_map``, ``_by_lean``). A pair
  written into each other, where the least ink lies inside one of them, is offered its equal halves too
  (``_even_halves``).

Pure functions on a piece's mask (``patch``) and its box; ``segment.segment`` calls ``_split_touching``
and the loop joins, and the reading stage (``reading.recognizer``) decides which cut to keep.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from livedigits.vision.labels import components
from livedigits.vision.normalize import INK_BOX

#: A hole at least this many pixels across in each direction makes its piece a closed glyph (smaller
#: holes are pen gaps and noise in a thick stroke).
LOOP_SIDE = 3


#: Two pieces of a line are neighbours in a chain of loops (``_loop_joins``) when the paper between them is at
#: most this share of the taller one's height (or they overlap): the pen's skip at the top of a fast zero, a
#: few pixels, not the gap between two digits written apart.
JOIN_GAP = 0.15
#: ... and they overlap in rows by at least this share of the shorter one, which is at least this share of
#: the taller one (pieces of one line of writing, not a digit and a speck or the line above).
JOIN_ROWS = 0.6
#: The gaps of a joined chain are bridged by a closing this share of its height wide (the gaps ``JOIN_GAP``
#: allows, and the wider ones where a ruled line took the bottoms of loops sitting on it): a loop it closes is
#: a loop the pen meant, where no member alone closes it. On the stress rows touching and ledger (seeds 0-39
#: and 1000-1039) 0.15, 0.25 and 0.35 read within half a point of each other.
JOIN_BRIDGE = 0.25


def _loops(patch: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The boxes of the loops ``patch`` closes: holes at least ``LOOP_SIDE`` across in each direction."""
    found = cv2.findContours(patch, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    contours, hierarchy = (found[0], found[1]) if len(found) == 2 else (found[1], found[2])
    if hierarchy is None:
        return []
    boxes = [cv2.boundingRect(contour) for contour, (_, _, _, parent) in zip(contours, hierarchy[0]) if parent >= 0]
    return [b for b in boxes if b[2] >= LOOP_SIDE and b[3] >= LOOP_SIDE]


def _loop_parts(patch: np.ndarray, box: tuple, loops: list | None = None, ringed: bool = True):
    """``patch`` (at ``box``) cut between its loops side by side: a chain of zeros ("1000" written fast) has no
    thin place between its links, where the least inked column falls inside a loop, but each loop is one
    digit. Loops that share most of their columns are one digit's (the two of an 8). Cut at the middle of
    the ink between two loops, and before the first loop or after the last where ink a digit wide stands
    there (:func:`_chain_cuts`: the 1 of "100"), each loop's part its whole ring (:func:`_ringed_parts`); None
    with fewer than two loops side by side, or when a part is less than half as tall as the piece.
    ``loops``: ``_loops(patch)`` where the caller has it already. Not ``ringed``: only cut midway between the
    loops, each part its columns' ink (zeros run together so far that their shared arcs are one stroke)."""
    h = box[3]
    loops = sorted((b for b in (_loops(patch) if loops is None else loops) if b[3] >= LOOP_SHARE * h), key=lambda b: b[0])
    spans = _loop_spans(loops, h)
    if len(spans) < 2 or len(spans) > MAX_PARTS:
        return None
    if not ringed:
        return _parts_between(box, [(a[1] + b[0]) // 2 for a, b in zip(spans, spans[1:])], lambda start, end: patch)
    stroke = _stroke_width(patch, h)
    cuts = _chain_cuts(patch, spans, h, stroke)
    if len(cuts) + 1 > MAX_PARTS:
        return None
    return _ringed_parts(patch, box, cuts, patch, spans, LOOP_SHARE * h, stroke)


def _parts_between(box: tuple, cuts: list[int], source) -> tuple | None:
    """The parts of a piece at ``box`` between its columns ``cuts`` (the cut columns belong to neither), each
    cropped to its ink in ``source(start, end)``, the patch its columns ``start .. end - 1`` are taken from:
    ``((box, patch), ...)``, or None where a part has no ink or is less than half as tall as the piece."""
    x, y, w, h = box
    parts = []
    for start, end in zip([0] + [c + 1 for c in cuts], cuts + [w]):
        ink = source(start, end)
        points = cv2.findNonZero(ink[:, start:end]) if end > start else None
        if points is None:
            return None
        px, py, pw, ph = cv2.boundingRect(points)
        if ph < 0.5 * h:
            return None
        parts.append(((x + start + px, y + py, pw, ph), ink[py: py + ph, start + px: start + px + pw]))
    return tuple(parts)


def _stroke_width(patch: np.ndarray, height: int) -> int:
    """The pen's width in ``patch``, a piece ``height`` tall: the ink's mean run along its rows (the flat tops of
    loops make it a little wide), at most 0.15 of the height."""
    inked_rows = patch > 0
    runs = int(np.count_nonzero(inked_rows[:, 1:] & ~inked_rows[:, :-1]) + np.count_nonzero(inked_rows[:, 0]))
    return max(1, int(round(min(np.count_nonzero(inked_rows) / max(1, runs), 0.15 * height))))


def _chain_cuts(patch: np.ndarray, spans: list[list[int]], h: int, stroke: int, outside: int = 0,
                edge: float | None = None) -> list[int]:
    """The columns that cut a chain of loops side by side (``spans``) in ``patch`` (``h`` rows) into digits:
    midway between neighbouring loops, and, where ink a digit wide stands before the first loop or after the
    last (the 3 of "3000": a loop's ring, a stroke either side of its hole, and ``EDGE_DIGIT`` of the height
    more; before the first loop ``edge`` of it where given), ``outside`` columns outside that loop's hole: 0
    where :func:`_ringed_parts` takes the loop's ring out of the digit's part, a pen's width where the cut
    alone parts them."""
    columns = np.count_nonzero(patch, axis=0)
    inked = np.flatnonzero(columns)
    first, last = int(inked[0]), int(inked[-1])
    cuts = [(a[1] + b[0]) // 2 for a, b in zip(spans, spans[1:])]
    edge = EDGE_DIGIT if edge is None else edge
    if spans[0][0] - stroke - first >= edge * h:
        cuts.insert(0, spans[0][0] - outside)
    if last - spans[-1][1] - stroke >= EDGE_DIGIT * h:
        cuts.append(spans[-1][1] + outside)
    return cuts


def _ringed_parts(patch: np.ndarray, box: tuple, cuts: list[int], source: np.ndarray, spans: list[list[int]],
                  tall: float, stroke: int | None = None) -> tuple | None:
    """The digits of a chain of loops (``patch`` at ``box``), each loop's part its whole ring. Cut at the
    columns ``cuts`` alone, zeros written overlapping like the links of a chain each lose the arc they share to
    one side and keep a stub of the other's ("a", "2" and "c" for "000"). Here the part of the digit whose
    loop spans ``spans[i]`` (a loop: a hole of ``source``, the piece's ink or its bridged ink, at least ``tall``
    rows high) is the ink ringing its hole, the lens-shaped holes it shares with a neighbour and the arc
    between them (the whole outline of an overlapping zero), with the rest of the ink between its cuts (a
    9's tail) less the other loops' rings. A part without a loop (the 3 of "3000") is its columns' ink of
    ``patch`` less the rings. Each part is cropped to its ink: ``((box, patch), ...)``, or None where a part has
    no ink or is less than half as tall as the piece, or a span holds no loop of ``source``."""
    x, y, w, h = box
    if stroke is None:
        stroke = _stroke_width(patch, h)
    found = cv2.findContours(source, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    contours, hierarchy = (found[0], found[1]) if len(found) == 2 else (found[1], found[2])
    if hierarchy is None:
        return None
    found_holes = []
    for i, (contour, (_, _, _, parent)) in enumerate(zip(contours, hierarchy[0])):
        if parent < 0:
            continue
        hx, _, hw, hh = cv2.boundingRect(contour)
        if hw < 2 or hh < 2:
            continue
        hole = np.zeros_like(source)
        cv2.drawContours(hole, contours, i, 255, -1)
        hole = cv2.bitwise_and(hole, cv2.bitwise_not(source))
        centre = hx + hw / 2.0
        at = [k for k, (a, b) in enumerate(spans) if a <= centre < b]
        big = hw >= LOOP_SIDE and hh >= max(LOOP_SIDE, tall)
        found_holes.append((hole, at[0] if at and big else None, cv2.countNonZero(hole)))
    # Each digit's loop: the largest hole of its span. A lens two zeros overlapping enclose is a hole too, as
    # tall perhaps, in one of their spans: it touches both their loops.
    main = [None] * len(spans)
    for n, (_, k, area) in enumerate(found_holes):
        if k is not None and (main[k] is None or area > found_holes[main[k]][2]):
            main[k] = n
    if any(n is None for n in main):
        return None
    reach = _ellipse(2 * stroke + 3)  # a stroke and a pixel each way
    near = [cv2.dilate(found_holes[n][0], reach) for n in main]
    own = [found_holes[n][0].copy() for n in main]  # each digit's loops
    lenses = [np.zeros_like(source) for _ in main]  # ... and the lenses it shares with a neighbour
    for n, (hole, k, _) in enumerate(found_holes):
        if n in main:
            continue
        touched = [j for j, grown in enumerate(near) if cv2.countNonZero(cv2.bitwise_and(grown, hole))]
        if len(touched) >= 2:
            for j in touched:
                lenses[j] = cv2.bitwise_or(lenses[j], hole)
        elif k is not None:
            own[k] = cv2.bitwise_or(own[k], hole)  # a digit's other loop (an 8's)
    rings = []
    for loops, shared in zip(own, lenses):
        core = cv2.bitwise_or(loops, shared)
        ring = cv2.bitwise_and(cv2.dilate(core, reach), source)
        if cv2.countNonZero(shared):
            # The neighbour's arc between this digit's loop and a lens they share lies inside this digit: ink
            # near both and near nothing else (the paper outside, another digit's loop). Where the two outlines
            # cross, the ink is near the paper or the neighbour's loop too, and stays this digit's.
            rest = cv2.bitwise_and(cv2.bitwise_not(source), cv2.bitwise_not(core))
            between = cv2.bitwise_and(cv2.dilate(shared, reach), cv2.dilate(loops, reach))
            between = cv2.bitwise_and(between, cv2.bitwise_not(cv2.dilate(rest, reach)))
            ring = cv2.bitwise_and(ring, cv2.bitwise_not(between))
        rings.append(ring)
    anyring = np.bitwise_or.reduce(rings) if len(rings) > 1 else rings[0]
    parts = []
    for start, end in zip([0] + [c + 1 for c in cuts], cuts + [w]):
        mine = [k for k, (a, b) in enumerate(spans) if start <= (a + b) / 2 < end]
        part = np.zeros_like(patch)
        if mine:
            others = np.zeros_like(patch)
            for k in range(len(rings)):
                if k not in mine:
                    others = cv2.bitwise_or(others, rings[k])
            part[:, start:end] = cv2.bitwise_and(source[:, start:end], cv2.bitwise_not(others[:, start:end]))
            for k in mine:
                part = cv2.bitwise_or(part, rings[k])
        else:
            part[:, start:end] = cv2.bitwise_and(patch[:, start:end], cv2.bitwise_not(anyring[:, start:end]))
        # Stubs of a neighbour's stroke cut off from the rest: specks smaller than a pen's dot.
        count, labels, stats, _ = components(part)
        if count > 2:
            small = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] < stroke * stroke * 2) + 1
            if len(small) and len(small) < count - 1:
                part[np.isin(labels, small)] = 0
        points = cv2.findNonZero(part)
        if points is None:
            return None
        px, py, pw, ph = cv2.boundingRect(points)
        if ph < 0.5 * h:
            return None
        parts.append(((x + px, y + py, pw, ph), part[py: py + ph, px: px + pw]))
    return tuple(parts)


def _loop_spans(loops: list, height: int | None = None) -> list[list[int]]:
    """The column spans ``[start, end)`` of ``loops`` (boxes sorted by x) side by side: a loop that starts
    under the last span (by more than half the narrower's width) is the same digit's and widens it. With the
    piece's ``height``, a span between two others, less than ``LENS_WIDTH`` as wide as either and apart from
    each by less than a pen's width (``LENS_GAP`` of the height), is no digit's: it is the lens two zeros
    written overlapping enclose, a hole of both (:func:`_ringed_parts`)."""
    spans: list[list[int]] = []
    for lx, _, lw, _ in loops:
        if spans and lx < spans[-1][1] - 0.5 * min(lw, spans[-1][1] - spans[-1][0]):
            spans[-1][1] = max(spans[-1][1], lx + lw)  # under the last one: the same digit's
        else:
            spans.append([lx, lx + lw])
    if height is None or len(spans) < 3:
        return spans
    kept = [spans[0]]
    for before, span, after in zip(spans, spans[1:], spans[2:]):
        width = span[1] - span[0]
        lens = (width < LENS_WIDTH * min(before[1] - before[0], after[1] - after[0])
                and span[0] - before[1] < LENS_GAP * height and after[0] - span[1] < LENS_GAP * height)
        if not lens:
            kept.append(span)
    kept.append(spans[-1])
    return kept


#: A hole between two loops is the lens of two zeros overlapping (:func:`_loop_spans`) when narrower than this
#: share of either's width ...
LENS_WIDTH = 0.5
#: ... and apart from each by less than this share of the piece's height (a pen's width: at most 0.15 of it,
#: as :func:`_stroke_width` takes it).
LENS_GAP = 0.15


def _bridged_loops(patch: np.ndarray, height: int) -> tuple[np.ndarray, list[list[int]]]:
    """``patch`` bridged (``_bridge``) at the share of ``height`` of ``BRIDGES`` whose closing holds the most
    loops side by side (at least ``BRIDGED_LOOP`` of the height tall, ``_loop_spans``), the widest of equals:
    ``(bridged, spans)``. A closing fills every hole narrower than itself, so the closing wide enough for a
    fast zero's skip (a quarter of its height) fills the zeros themselves where the pen is thick for them or
    they are squeezed by their neighbours; a narrower one keeps them."""
    best = None
    for share in BRIDGES:
        bridged = _bridge(patch, height, share)
        loops = sorted((b for b in _loops(bridged) if b[3] >= BRIDGED_LOOP * height), key=lambda b: b[0])
        spans = _loop_spans(loops, height)
        if best is None or len(spans) > len(best[1]):
            best = (bridged, spans)
    return best


def _bridged_loop_parts(patch: np.ndarray, box: tuple, ringed: bool = True, found: tuple | None = None,
                        edge: float | None = None):
    """``patch`` (at ``box``) read as a chain of loops once its small gaps are bridged (``_bridged_loops``):
    zeros written fast run into each other like the links of a chain and open at the top, so the piece closes
    few loops of its own, and every cut through it leaves "U"s and "X"s. Bridged, each zero closes again. The
    piece is cut midway between the loops side by side, and, where ink a digit wide stands before the first
    loop or after the last (the 3 of "3000"), at the edge of that loop's hole (:func:`_chain_cuts`). A part
    holding a loop is its ring of the bridged ink (a whole zero, :func:`_ringed_parts`), any other the piece's
    own ink less those rings (a 3 bridged is a blot). Not ``ringed``: each part is its columns' ink, the cut
    before the first loop a pen's width outside its hole (where zeros overlap so far that their bridged rings
    are one stroke, columns part them better). None with fewer than two parts, more than ``MAX_PARTS``, or a
    part less than half as tall as the piece. ``found``: ``_bridged_loops(patch, box[3])`` where the caller
    has it already. ``edge``: the ink before the first loop is a digit of its own already at this share of the
    height wide (``ONE_EDGE``: a 1 written into the first zero), and None where that gives no other cut than
    ``EDGE_DIGIT`` does."""
    h = box[3]
    bridged, spans = _bridged_loops(patch, h) if found is None else found
    if not spans:
        return None
    stroke = _stroke_width(patch, h)
    cuts = _chain_cuts(patch, spans, h, stroke, edge=edge)
    if edge is not None and cuts == _chain_cuts(patch, spans, h, stroke):
        return None  # offered already, cut at EDGE_DIGIT
    if not cuts or len(cuts) + 1 > MAX_PARTS:
        return None
    if not ringed:
        # Cut at columns alone, a pen's width outside the first and last loop's hole: each part a loop's
        # bridged ink or a digit's own.
        cuts = _chain_cuts(patch, spans, h, stroke, stroke)
        return _parts_between(box, cuts, lambda start, end: bridged if any(start <= (a + b) / 2 < end for a, b in spans) else patch)
    return _ringed_parts(patch, box, cuts, bridged, spans, BRIDGED_LOOP * h, stroke)


#: A loop of the bridged ink counts for :func:`_bridged_loop_parts` when at least this share of the piece's
#: height tall: a zero's (most of it), not the gap a closing leaves between two strokes.
BRIDGED_LOOP = 0.4
#: ... and ink at least this share of the piece's height wide before its first loop or after its last is a
#: digit of its own (a 1 is narrower, but a 1 is often a stroke apart).
EDGE_DIGIT = 0.3
#: ... and, in a way of its own (:func:`_bridged_loop_parts`), ink this share of the height wide before the first
#: loop: the 1 of "1000" written into its first zero, a stem and its flag (stress rows ledger and touching,
#: seeds 0-39: 90.1% and 73.2% of the digits found without this way, 90.8% and 75.1% with it; 1000-1039:
#: 90.8% and 73.9% without, 91.4% and 73.9% with).
ONE_EDGE = 0.15
#: The closings a piece's ink is bridged with to close its fast zeros (:func:`_bridged_loops`), as shares of its
#: height: the joins' ``JOIN_BRIDGE``, and narrower ones that keep the holes of zeros a thick pen or a
#: neighbour squeezes (on the stress row ``ledger``, seeds 0-39: 88.6% of the digits found with the widest
#: alone, 89.7% with all three; the narrowest first, equals to the narrowest, 89.5%).
BRIDGES = (JOIN_BRIDGE, 0.15, 0.1)


#: A hole counts as a digit's loop for :func:`_loop_parts` when at least this share of the piece's height tall
#: (a zero's is most of it, the loops of an 8 a third each; a pen's gap in a stroke is smaller).
LOOP_SHARE = 0.2


def _loop_joins(kept: list, min_height: int, loops_of=None) -> list:
    """Runs of pieces side by side on one line (``JOIN_GAP``, ``JOIN_ROWS``) at most ``MAX_PARTS`` heights
    wide whose joined ink, its gaps bridged (``JOIN_BRIDGE``), closes more loops than its pieces do, each
    bridged alone: zeros written fast run into each other and open at the top, and come out of the threshold
    as "(", "X" and ")" that no cut of one piece joins again. Each ``(members, box, patch)``: the pieces'
    indices in ``kept`` left to right, and the joined ink, bridged. ``loops_of``: ``_loops`` of ``kept[i]``'s
    patch by ``i``, where the caller keeps them (None: found here)."""
    if loops_of is None:
        def loops_of(i: int) -> list:
            return _loops(kept[i][1])
    n = len(kept)
    if n < 2:
        return []
    x, y, w, h = np.array([box for box, _ in kept], np.int64).T
    right, bottom = x + w, y + h
    rows = np.minimum(bottom[:, None], bottom[None]) - np.maximum(y[:, None], y[None])
    low, tall = np.minimum(h[:, None], h[None]), np.maximum(h[:, None], h[None])
    # j follows i: it starts right of i's start and ends right of its end, with little paper between.
    link = ((x[None] > x[:, None]) & (right[None] > right[:, None]) & (x[None] - right[:, None] <= JOIN_GAP * tall)
            & (rows >= JOIN_ROWS * low) & (low >= JOIN_ROWS * tall) & (low >= min_height))
    if not link.any():
        return []
    root = list(range(n))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i, j in zip(*np.nonzero(link)):
        root[find(int(i))] = find(int(j))
    runs = {}
    for i in range(n):
        runs.setdefault(find(i), []).append(i)
    out = []
    for members in runs.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: (x[i], y[i]))
        found = _bridged_run(kept, members, loops_of)
        if found is None:
            continue
        # A piece at either end that closes no loop with the others (the 1 of "1000", close by) is no link.
        while len(members) > 2:
            for end in (members[:-1], members[1:]):
                fewer = _bridged_run(kept, end, loops_of)
                if fewer is not None and fewer[2] >= found[2]:
                    members, found = end, fewer
                    break
            else:
                break
        out.append((tuple(members), found[0], found[1]))
    return out


@lru_cache(maxsize=None)
def _ellipse(side: int) -> np.ndarray:
    """:func:`_bridge`'s kernel, ``side`` across: made once per size (a few, one per height of writing; it is
    only read)."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))


def _bridge(patch: np.ndarray, height: int, share: float = JOIN_BRIDGE) -> np.ndarray:
    """``patch`` with its gaps up to ``share`` of ``height`` bridged (a closing, on a padded copy so that
    it does not stick to the edge): the pen's skips at the top of fast zeros."""
    side = max(3, int(round(share * height)) | 1)
    kernel = _ellipse(side)
    padded = cv2.copyMakeBorder(patch, side, side, side, side, cv2.BORDER_CONSTANT, value=0)
    return cv2.morphologyEx(padded, cv2.MORPH_CLOSE, kernel)[side:-side, side:-side]


def _bridged_run(kept: list, members: list, loops_of):
    """The joined ink of ``kept``'s pieces ``members``, its gaps bridged (``JOIN_BRIDGE``): ``(box, patch,
    new)``, ``new`` the loops it closes beyond those its pieces close alone, bridged alike; None when it
    closes none more (or is too wide for ``MAX_PARTS`` digits). ``loops_of``: a piece's own loops by index."""
    boxes = [kept[i][0] for i in members]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    if x1 - x0 > MAX_PARTS * (y1 - y0):
        return None  # a line of writing run close, not one number's loops
    def bridge(patch: np.ndarray) -> np.ndarray:
        return _bridge(patch, y1 - y0)

    joined = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for (bx, by, bw, bh), i in zip(boxes, members):
        window = joined[by - y0: by - y0 + bh, bx - x0: bx - x0 + bw]
        np.maximum(window, kept[i][1], out=window)
    bridged = bridge(joined)
    found = len(_loops(bridged))
    # First against the pieces' own loops (no closing: cheap, and a piece bridged alone closes at least as
    # many), then against each bridged alone.
    new = found - sum(len(loops_of(i)) for i in members)
    if new > 0:
        new = found - sum(len(_loops(bridge(kept[i][1]))) for i in members)
    return ((x0, y0, x1 - x0, y1 - y0), bridged, new) if new > 0 else None


#: A wide piece is offered cut into at most this many digits ("1000" written in one stroke of loops).
MAX_PARTS = 4
#: ... and first cut in two at this many columns (the least inked ones, apart): where the digits overlap, the
#: column with the least ink may be under the tail of one of them. Each is also tried along the path
#: through the least ink that ends there (``_cut_paths``).
CUT_CHOICES = 5
#: Which search a wide piece gets (``vision.view.CutAnchors.kinds``): too wide for one digit, wide enough for
#: three, or perhaps two.
_WIDE, _THREE, _TWO = 0, 1, 2
#: A piece at least this much wider than tall, though within ``max_aspect``, is cut as a too-wide piece is
#: (into up to ``MAX_PARTS``), not only in two: three touching digits fit in it ("100" at the stress
#: generator's gaps), and one digit hardly does (single digits on the generator's none, boxes, dense and
#: ledger rows, seeds 0-39: 99th percentile of width / height 1.15-1.27; 63 of 18,330 at 1.4 or more).
THREE_ASPECT = 1.4
#: ... first cut in two at this many columns: fewer than a too-wide piece, which is surely several digits.
THREE_CHOICES = 3
#: A piece of the writing's height at least this much wider than tall, narrower than ``THREE_ASPECT`` (cut only in
#: two), is offered its equal thirds (``_even_ways``) where read whole as no digit (``segment.Segmentation.late_thirds``):
#: three digits written into each other (gaps down to -0.15 of their height) make such a piece, "986", "949",
#: "419" (stress row touching, seeds 0-199: 23 pieces of three, 1.05-1.39 times as wide as tall). Below it a
#: third would be under a third of the height wide, narrower than a 1 of the generator's touching runs.
THIRDS_ASPECT = 1.0
#: A piece too wide for one digit is offered cut into up to this many (``_split_touching``'s ``most``: its first
#: cut at a column and along a path, each cut again, and its equal widths): a run of five digits written into
#: each other ("34001", "90697", "40408") had no way in five parts at ``MAX_PARTS``, and lost at least one digit
#: whatever was read: 11 pieces, 18 digits lost on the stress row touching, seeds 0-99
#: (``tools/touching_causes.py``). Such pieces are 2.3-3.5 times as wide as tall, no wider than ``MAX_PARTS``
#: heights (``segment``: wider ones are marks).
RUN_PARTS = 5


def _split_touching(patch: np.ndarray, box: tuple, min_height: int, aspect: float, choices: int = 1,
                    paths: bool = True, even: bool = True, bridged: bool = False, most: int = MAX_PARTS):
    """Digits written so close that their ink touches ("10", "1000") make one wide piece. For a piece at
    least ``aspect`` times as wide as tall, the ways to read it as several digits, each a tuple of parts
    (box, patch) left to right: cut in two, then each part that is itself that wide cut again, up to
    ``MAX_PARTS`` parts (up to ``most`` from the first of the ``choices`` first cuts: ``RUN_PARTS`` for a piece
    too wide for one digit), first at straight columns (``choices`` first cuts), then, with ``paths``, along
    the paths through the least ink (:func:`_cut_paths`: where digits overlap or loops touch at a slant, no
    column parts them), and, with ``even``, in 2 to ``most`` equal widths (:func:`_even_parts`); None for a
    narrower piece. The classifier decides which reading wins
    (``recognizer.choose_splits``)."""
    x, y, w, h = box
    if w < aspect * h or w < min_height:
        return None
    ways = []
    # The paths are worked out once for the piece: the first cut's choice-th path is the choice-th usable one
    # of the first choice + 3 (the cheapest ends come first, whatever their number).
    options = _path_options(patch, box, choices + 2) if paths else []
    for along in ((False, True) if paths else (False,)):
        for choice in range(choices):
            parts = _pick(options[: choice + 3], choice) if along else _cut_in_two(patch, box, choice)
            if parts is None:
                break
            ways.append(tuple(parts))
            # Past ``MAX_PARTS`` only from the first cut of each kind: the later first cuts' deeper ways read no
            # digit more on the stress row touching (seeds 0-99) and cost half the crops added on mixed.
            while len(parts) < (most if choice == 0 else MAX_PARTS):
                # The widest part that is still wide for its height is the next to cut (a "335": "3" and "35").
                wide = [k for k, ((_, _, pw, ph), _) in enumerate(parts) if pw >= aspect * ph and pw >= min_height]
                cut = None
                for k in sorted(wide, key=lambda k: -parts[k][0][2]):
                    cut = _cut_in_two(parts[k][1], parts[k][0], 0, along)
                    if cut is not None:
                        parts = parts[:k] + cut + parts[k + 1:]
                        break
                if cut is None:
                    break
                ways.append(tuple(parts))
    if paths:
        ways.append(_loop_parts(patch, box))
        ways.append(_loop_parts(patch, box, ringed=False))
    if bridged:
        found = _bridged_loops(patch, h)
        ways.append(_bridged_loop_parts(patch, box, found=found))
        ways.append(_bridged_loop_parts(patch, box, ringed=False, found=found))
        ways.append(_bridged_loop_parts(patch, box, found=found, edge=ONE_EDGE))
    if even and w >= 2 * EVEN_WIDTH * h:
        lean = _lean_map(patch) if h >= LEAN_HEIGHT else None
        ways.extend(_even_parts(patch, box, n, slanted, lean) for n in range(2, most + 1) if w >= n * EVEN_WIDTH * h
                    for slanted in (False, True))
    # A path that is a straight column cuts as the column does: read once.
    unique = {}
    for way in ways:
        if way:
            unique.setdefault(tuple(b for b, _ in way), way)  # the first of equal ways: a cut through thin ink
    unique = list(unique.values())
    return unique or None


#: A piece is offered cut into ``n`` equal widths when each is at least this share of its height wide (a zero
#: of a hand's "1000" is about 0.5-0.8 of it).
EVEN_WIDTH = 0.4


def _even_parts(patch: np.ndarray, box: tuple, n: int, slanted: bool = False, lean: np.ndarray | None = None):
    """``patch`` (at ``box``) cut into ``n`` parts of equal width along the writing's slant, each cropped to its
    ink, or None when a part has no ink or is less than half as tall as the piece (a tail or a flag). The
    digits of one number are written about equally wide: where loops overlap (the zeros of "1000" run into
    each other like the links of a chain), every cut through the least ink falls inside a loop, and leaves
    "(", "X" and ")", while equal widths keep each zero nearly whole. The slant is the ink's own (its
    horizontal drift per row, from its second moments): digits side by side at one height add none. Ink near
    a boundary between two parts goes to the side its stroke leans to (:func:`_by_lean`): where digits
    overlap, their outlines cross there, and a straight boundary gives each part a stub of its neighbour's.
    ``lean``: the piece's :func:`_lean_map` (None: the boundaries stay straight)."""
    x, y, w, h = box
    ys, xs = np.nonzero(patch)
    if len(xs) < n:
        return None
    dy = ys - ys.mean()
    spread = float((dy * dy).mean())
    shear = float(np.clip((dy * (xs - xs.mean())).mean() / spread, -MAX_SHEAR, MAX_SHEAR)) if spread > 0 and slanted else 0.0
    upright = xs - shear * dy  # each pixel's column were the writing upright
    left, right = float(upright.min()), float(upright.max()) + 1.0
    which = np.minimum(((upright - left) * n / (right - left)).astype(np.int64), n - 1)
    step = (right - left) / n
    if lean is not None:
        which = _by_lean(lean, xs, ys, upright, which, [left + k * step for k in range(1, n)])
    parts = []
    for k in range(n):
        mine = which == k
        if not mine.any():
            return None
        px, py = xs[mine], ys[mine]
        x0, y0 = int(px.min()), int(py.min())
        pw, ph = int(px.max()) - x0 + 1, int(py.max()) - y0 + 1
        if ph < 0.5 * h:
            return None
        part = np.zeros((ph, pw), patch.dtype)
        part[py - y0, px - x0] = patch[py, px]
        parts.append(((x + x0, y + y0, pw, ph), part))
    return tuple(parts)


#: Ink within this share of the piece's height of a boundary between two parts (:func:`_by_lean`) may go to
#: the other side: about a pen's width (at most 0.15 of the height, ``_stroke_width``), as far as digits
#: written overlapping share (the stress generator's touching digits overlap by up to 0.15 of their height).
LEAN_REACH = 0.1
#: ... where its stroke leans at least this much: the structure tensor's ``Jxy / (Jxx + Jyy)``, half the sine
#: of twice the stroke's angle from upright (at most 0.5, on a diagonal): 0.3 is more than 18 degrees from
#: upright and from level. A stroke nearer upright or level says nothing of which outline it is on. On the
#: stress row touching (seeds 0-39) 0.15, 0.3 and 0.4 read 624, 634 and 630 digits right of 921 (617 without).
LEAN_SURE = 0.3
#: ... on pieces at least this many pixels tall (the crop's ink box, ``normalize.INK_BOX``): on smaller writing
#: the mask is a poor picture of the ink (``segment.SOFT_SIDE``) and a pen's width a pixel or two, narrower
#: than the least window the lean is measured over. A dense page's "68" of 15 px run together lost its 8.
LEAN_HEIGHT = INK_BOX


def _lean_map(patch: np.ndarray) -> np.ndarray:
    """How the stroke through each pixel of ``patch`` leans: the structure tensor's ``Jxy / (Jxx + Jyy)`` of
    the ink blurred over about a pen's width (``LEAN_REACH`` of its height), > 0 where it runs "/", < 0 "\\"
    (the gradient across a stroke runs along the other diagonal). Worked out once for a piece, for all the
    equal widths :func:`_even_parts` cuts it into."""
    side = max(3, int(round(LEAN_REACH * patch.shape[0])) | 1)
    ink = cv2.GaussianBlur(patch.astype(np.float32), (side, side), 0)
    gx = cv2.Sobel(ink, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(ink, cv2.CV_32F, 0, 1, ksize=3)
    window = (max(3, int(round(1.5 * LEAN_REACH * patch.shape[0])) | 1),) * 2
    return cv2.GaussianBlur(gx * gy, window, 0) / np.maximum(cv2.GaussianBlur(gx * gx + gy * gy, window, 0), 1e-6)


def _by_lean(lean: np.ndarray, xs: np.ndarray, ys: np.ndarray, upright: np.ndarray, which: np.ndarray,
             bounds: list[float]) -> np.ndarray:
    """``which`` (the part of each ink pixel ``ys, xs`` of a piece, by its column ``upright``), with the ink
    within ``LEAN_REACH`` of the piece's height of a boundary ``bounds[b]`` (between parts ``b`` and ``b + 1``)
    given to the side its stroke leans to (``lean``: :func:`_lean_map`), where it leans at least
    ``LEAN_SURE``. A digit's outline bulges outwards: on its right side the stroke runs down to the right
    ("\\") above its middle and down to the left ("/") below it, and its right-hand neighbour's left side the
    other way round. Where two digits overlap ("00", "80" written fast), their outlines cross near the
    boundary as an "X", and each arm goes to its own digit, where a straight boundary leaves each part a stub
    of the other ("a" and ")" for "00")."""
    reach = LEAN_REACH * lean.shape[0]
    leans = lean[ys, xs]
    sure = np.abs(leans) >= LEAN_SURE
    # Above the ink's middle a left digit's outline runs "\\", below it "/".
    to_left = (leans > 0) != (ys < (ys.min() + ys.max()) / 2.0)
    out = which.copy()
    for b, bound in enumerate(bounds):
        moved = sure & (np.abs(upright - bound) < reach)
        out[moved & to_left] = b
        out[moved & ~to_left] = b + 1
    return out


#: The slant of :func:`_even_parts` is at most this many columns a row (about 35 degrees from upright).
MAX_SHEAR = 0.7


def _halves(patch: np.ndarray, box: tuple, min_height: int, aspect: float, paths: bool = True):
    """Two digits written so close that their ink touches ("10", "25") make one wide piece. For a piece
    at least ``aspect`` times as wide as tall, the two halves on either side of the column with the least
    ink in its middle part, and, with ``paths``, on either side of the path through the least ink that ends
    in its middle 40% (:func:`_cut_paths`), where it is another cut: one or two ways, each a pair of parts;
    None for a narrower piece, or when a part is less than half as tall as the piece (a tail or a flag, not
    a digit of its own). The classifier decides which reading wins."""
    _, _, w, h = box
    if w < aspect * h or w < min_height:
        return None
    columns = np.count_nonzero(patch, axis=0)
    lo, hi = int(w * 0.3), int(w * 0.7) + 1
    ways = [_parts_at(patch, box, lo + int(np.argmin(columns[lo:hi])))]
    if paths:
        reach = max(1, int(round(0.1 * w)))
        found = _cut_paths(patch > 0, max(1, lo - reach), min(w - 1, hi + reach), (max(1, lo), min(w - 1, hi)), 1, 0)
        if found:
            ways.append(_parts_at(patch, box, found[0]))
    ways = [tuple(way) for way in ways if way is not None and all(ph >= 0.5 * h for (_, _, _, ph), _ in way)]
    unique = {}
    for way in ways:
        unique.setdefault(tuple(b for b, _ in way), way)
    unique = list(unique.values())
    return tuple(unique) or None


#: A piece is offered the cuts a pair reads only at the classifier's ceiling (narrower than the page's usual
#: aspect, or near its edges: :func:`_edge_halves`) when at least this share of the writing's median height.
PAIR_HEIGHT = 0.85
#: Two digits written into each other (gaps down to -0.15 of their height) make a piece narrower than tall
#: ("17", "79", "60"), which no aspect tells from one digit. A piece of the writing's height at least
#: ``NARROW_PAIR`` times as wide as tall is offered a pair's cuts where its outline dips between the two
#: digits, from the top and from the bottom, by at least ``PAIR_NOTCH`` of its height together
#: (:func:`pair_notches`, on its crop); cut only where it reads whole as no sure digit
#: (``Segmentation.narrow``: an open-topped 4 dips from both too).
NARROW_PAIR = 0.55
PAIR_NOTCH = 0.4
#: A crop's pixels at least this share of its darkest are its ink, for :func:`pair_notches`.
NOTCH_INK = 0.3


def pair_notches(crops: np.ndarray) -> np.ndarray:
    """For each of ``crops`` (N, S, S: the classifier's crops), how deep its ink's outline dips into it between
    its sides, from the top and from the bottom together, as a share of its ink's height: two digits side by
    side meet lower than their tops and higher than their feet (a notch above and below where they touch);
    one digit's outline seldom dips so from both (a 4's open top from one). Each dip is the most a column's
    first (last) ink lies below the highest (lowest) ink on both its sides, over the middle 70% of the ink's
    columns. All crops at once: a few array operations a frame, not a few a piece."""
    ink = crops > NOTCH_INK * crops.max(axis=(1, 2), keepdims=True)
    n, size, _ = ink.shape
    cols = ink.any(axis=1)  # (N, S): the columns with ink
    rows = ink.any(axis=2)
    height = size - rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)
    x0 = cols.argmax(axis=1)
    x1 = size - cols[:, ::-1].argmax(axis=1)  # past the last
    width = x1 - x0
    at = np.arange(size)
    # Each column's rows above its first ink and below its last, the top's and the bottom's one under the other
    # (2N, S); an empty column between inked ones a full dip, the columns outside the ink none (no side).
    profile = np.where(cols, np.concatenate([ink.argmax(axis=1), ink[:, ::-1, :].argmax(axis=1)]).reshape(2, n, size),
                       size).reshape(2 * n, size)
    inside = np.tile((at >= x0[:, None]) & (at < x1[:, None]), (2, 1))
    profile[~inside] = 4 * size
    left = np.minimum.accumulate(profile, axis=1)
    right = np.minimum.accumulate(profile[:, ::-1], axis=1)[:, ::-1]
    middle = np.tile((at >= (x0 + 0.15 * width)[:, None]) & (at < (x0 + 0.85 * width)[:, None]), (2, 1))
    dips = np.where(middle, profile - np.maximum(left, right), 0).max(axis=1).reshape(2, n).sum(axis=0)
    return dips / np.maximum(height, 1)


def narrow_pair_ways(patch: np.ndarray, box: tuple, min_height: int) -> tuple[tuple, int]:
    """The ways a pair's cuts offer a piece narrower than tall (``NARROW_PAIR`` to 1 times as wide): its halves
    either side of the least ink in its middle 40% (:func:`_halves`), then its edge halves
    (:func:`_edge_halves`), and how many of them, first, are the halves (counted as a pair's first cut; the
    edge cuts only at the classifier's ceiling, as on any pair)."""
    halves = tuple(_halves(patch, box, min_height, NARROW_PAIR) or ())
    return halves + tuple(_edge_halves(patch, box, min_height)), len(halves)


#: :func:`_edge_halves` looks for a cut in these bands of a piece's width, either side of the middle 40% that
#: :func:`_halves` searches: a 1 is a fifth to a third of a touching pair's width.
EDGE_BANDS = ((0.1, 0.3), (0.7, 0.9))


def _edge_halves(patch: np.ndarray, box: tuple, min_height: int) -> tuple:
    """A 1 touching its neighbour ("10", "12", "41") makes a piece whose thinnest place is beside the 1's stem,
    a fifth to a third of the way across, where :func:`_halves` does not look: the two parts either side of the
    path through the least ink (:func:`_cut_paths`) that ends in each of ``EDGE_BANDS``, where both are at least
    half as tall as the piece. Such a cut also parts a single digit's stem from its bowl (a 4, a 6), so the
    classifier keeps it only at its ceiling (``Segmentation.doubtful``)."""
    _, _, w, h = box
    if w < min_height:
        return ()
    reach = max(1, int(round(0.1 * w)))
    bands = []
    for low, high in EDGE_BANDS:
        lo, hi = max(1, int(w * low)), min(w - 1, int(w * high) + 1)
        if hi > lo:
            bands.append((max(1, lo - reach), min(w - 1, hi + reach), (lo, hi), 1, 0))
    ways = []
    for found in (_cut_paths_in(patch > 0, bands) if bands else ()):
        parts = _parts_at(patch, box, found[0]) if found else None
        if parts is not None and all(ph >= 0.5 * h for (_, _, _, ph), _ in parts):
            ways.append(tuple(parts))
    return tuple(ways)


def _even_halves(patch: np.ndarray, box: tuple) -> tuple:
    """A pair written into each other ("39", "46", "27": gaps down to -0.15 of their height) in equal halves
    (:func:`_even_parts`, upright and along the ink's slant, the ink near the boundary given to the side its
    stroke leans to where the piece is tall enough for the lean, ``LEAN_HEIGHT``): the two digits of a number
    are written about equally wide, so their boundary is near the middle of the ink. :func:`_halves` and
    :func:`_edge_halves` cut through the least ink instead; where the two overlap, that falls inside one of
    them (its loop's side, a 4's open top), and every such cut leaves one part with the other's arc. Small
    writing makes more of these (a pen and a camera's blur a pixel or two wide join digits a thick pen's
    larger writing keeps apart). Such a cut also halves one wide digit, so it counts only read at the
    classifier's ceiling (``Segmentation.doubtful``). ``()`` where no half has ink or one is less than half as
    tall as the piece; a slanted cut equal to the upright one is given once."""
    return _even_ways(patch, box, 2)


def _even_ways(patch: np.ndarray, box: tuple, n: int) -> tuple:
    """``patch`` (at ``box``) in ``n`` equal widths (:func:`_even_parts`), upright and along the ink's slant, the
    ink near a boundary given to the side its stroke leans to where the piece is tall enough (``LEAN_HEIGHT``);
    a slanted cut equal to the upright one given once, ``()`` where neither gives ``n`` parts."""
    lean = _lean_map(patch) if box[3] >= LEAN_HEIGHT else None
    ways = {}
    for slanted in (False, True):
        way = _even_parts(patch, box, n, slanted, lean)
        if way:
            ways.setdefault(tuple(b for b, _ in way), way)
    return tuple(ways.values())


def _parts_at(patch: np.ndarray, box: tuple, cut):
    """The two parts of ``patch`` (at ``box``) left and right of ``cut``, each cropped to its ink:
    ``[(box, patch), (box, patch)]``, or None when one side has no ink. ``cut`` is a column, or a path (its
    column in every row of the patch, from :func:`_cut_paths`): the pixels on it belong to neither part."""
    x, y = box[0], box[1]
    if np.ndim(cut):
        columns = np.arange(patch.shape[1])[None, :]
        sides = ((patch * (columns < cut[:, None]), 0), (patch * (columns > cut[:, None]), 0))
    else:
        sides = ((patch[:, :cut], 0), (patch[:, cut + 1:], cut + 1))
    parts = []
    for part, offset in sides:
        points = cv2.findNonZero(part)
        if points is None:
            return None
        px, py, pw, ph = cv2.boundingRect(points)
        parts.append(((x + offset + px, y + py, pw, ph), part[py: py + ph, px: px + pw]))
    return parts


#: A cut path (:func:`_cut_paths`) pays this many ink pixels for each column it steps aside: it leaves the
#: straight line only to go round ink, along the valley between two touching loops or the slant of two
#: digits written overlapping, never wandering for nothing (ties go straight). A fifth: a path may drift five
#: columns to cross one pixel less, as far as two digits written overlapping at a slant lean apart over a
#: digit's height. On the stress rows touching and ledger (seeds 0-39) 0.2 and 0.5 read within 3 pieces of
#: each other.
CUT_STEP = 0.2
#: Cut paths are worked out on the piece shrunk to at most this many rows (a path's columns follow the
#: valley to within a pixel of the shrunk piece, and each row costs a few array operations).
CUT_ROWS = 32


def _cut_paths(inked: np.ndarray, lo: int, hi: int, ends: tuple[int, int], choices: int, apart: float) -> list[np.ndarray]:
    """Up to ``choices`` paths from the top of ``inked`` (bool, h x w) to its bottom that cross the least
    ink, each a column per row, moving at most one column a row within columns ``lo .. hi - 1`` and ending
    in columns ``ends[0] .. ends[1] - 1``; their ends at least ``apart`` columns from each other, the
    cheapest first (ties: the nearest the middle).
    A straight column is one such path: a path never crosses more ink than the best column does, and where
    two digits overlap or two loops touch at a slant it goes round them instead of through one of them."""
    return _cut_paths_in(inked, [(lo, hi, ends, choices, apart)])[0]


def _cut_paths_in(inked: np.ndarray, bands: list[tuple]) -> list[list[np.ndarray]]:
    """:func:`_cut_paths` for each ``(lo, hi, ends, choices, apart)`` of ``bands`` of one piece, worked out in
    one pass: the bands' columns side by side, each walled off from the next by a column no path can enter,
    so each band's paths are exactly those it would have alone (the row-by-row pass costs per row, not per
    column, and a piece's bands are a few dozen columns)."""
    h, w = inked.shape
    rows = min(h, CUT_ROWS)
    wall = np.full((rows, 1), np.inf, np.float32)
    pieces, starts = [], []
    at = 0
    for lo, hi, _, _, _ in bands:
        ink = inked[:, lo:hi].astype(np.float32)
        if h > CUT_ROWS:  # shrunk: the share of ink in each shrunk cell, so a path through it costs as much
            ink = cv2.resize(ink, (hi - lo, rows), interpolation=cv2.INTER_AREA) * (h / rows)
        if pieces:
            pieces.append(wall)
            at += 1
        starts.append(at)
        pieces.append(ink)
        at += hi - lo
    ink = np.concatenate(pieces, axis=1) if len(pieces) > 1 else pieces[0]
    total = np.empty(ink.shape, np.float32)  # the least ink on a path from the top to each pixel
    total[0] = ink[0]
    for r in range(1, rows):
        above, row = total[r - 1], total[r]
        row[:] = above
        np.minimum(row[1:], above[:-1] + CUT_STEP, out=row[1:])
        np.minimum(row[:-1], above[1:] + CUT_STEP, out=row[:-1])
        row += ink[r]
    found = []
    for (lo, hi, ends, choices, apart), start in zip(bands, starts):
        n = hi - lo
        band = total[:, start: start + n]
        first, last = ends[0] - lo, ends[1] - lo
        middle = (w - 1) / 2.0 - lo
        order = first + np.lexsort((np.abs(np.arange(first, last) - middle), np.round(band[-1, first:last], 3)))
        chosen: list[int] = []
        for end in order.tolist():
            if all(abs(end - e) >= apart for e in chosen):
                chosen.append(end)
                if len(chosen) >= choices:
                    break
        sums = band.tolist()
        paths = []
        for end in chosen:
            path, c = [end] * rows, end
            for r in range(rows - 1, 0, -1):  # back up the way it came, the cheapest step each row
                above = sums[r - 1]
                best, come = above[c], c
                if c > 0 and above[c - 1] + CUT_STEP < best:
                    best, come = above[c - 1] + CUT_STEP, c - 1
                if c < n - 1 and above[c + 1] + CUT_STEP < best:
                    come = c + 1
                c = come
                path[r - 1] = c
            path = np.asarray(path, np.int64) + lo
            if rows != h:  # back to the piece's rows
                path = path[np.minimum((np.arange(h) * rows) // h, rows - 1)]
            paths.append(path)
        found.append(paths)
    return found


def _path_options(patch: np.ndarray, box: tuple, count: int) -> list:
    """For the first ``count`` paths through the least ink that end in the middle 40% of ``patch`` (at ``box``;
    :func:`_cut_paths`), the two parts on either side, or None where a part is less than half as tall as the
    piece (a tail or a flag is no digit of its own)."""
    _, _, w, h = box
    lo, hi = max(1, int(w * 0.3)), min(w - 1, int(w * 0.7) + 1)
    if w < 3 or hi <= lo:
        return []
    # A path may step outside the middle 40% to go round ink, never to the piece's edge.
    reach = max(1, int(round(0.1 * w)))
    options = []
    for path in _cut_paths(patch > 0, max(1, lo - reach), min(w - 1, hi + reach), (lo, hi), count, 0.1 * w):
        parts = _parts_at(patch, box, path)
        options.append(None if parts is None or any(ph < 0.5 * h for (_, _, _, ph), _ in parts) else parts)
    return options


def _pick(options: list, choice: int):
    """The ``choice``-th (from 0) of ``options`` that is not None, or None."""
    found = [parts for parts in options if parts is not None]
    return found[choice] if len(found) > choice else None


def _cut_in_two(patch: np.ndarray, box: tuple, choice: int = 0, paths: bool = False):
    """The two parts of ``patch`` (at ``box``) on either side of the column with the least ink, of those
    in its middle 40% that leave a part at least half as tall on either side (a tail or a flag is no digit
    of its own; the base of a 2 may run under its neighbour), each cropped to its ink (ties: the column
    nearest the middle); ``choice`` 1, 2, ...: the next columns, at least a tenth of the width from every
    better one. With ``paths``, the same along the paths through the least ink that end in the middle 40%
    (:func:`_cut_paths`) instead of straight columns. None when there is no such cut."""
    _, _, w, h = box
    if w < 3:
        return None
    if paths:
        return _pick(_path_options(patch, box, choice + 3), choice)
    inked = patch > 0
    columns = np.count_nonzero(inked, axis=0)
    # The ink's top and bottom row in each column, and the height of the ink left and right of a cut.
    top = np.where(columns > 0, inked.argmax(axis=0), h)
    bottom = np.where(columns > 0, h - 1 - inked[::-1].argmax(axis=0), -1)
    left = np.maximum.accumulate(bottom) - np.minimum.accumulate(top) + 1
    right = (np.maximum.accumulate(bottom[::-1]) - np.minimum.accumulate(top[::-1]) + 1)[::-1]
    at = np.arange(max(1, int(w * 0.3)), min(w - 1, int(w * 0.7) + 1))
    at = at[(left[at - 1] >= 0.5 * h) & (right[at + 1] >= 0.5 * h)]
    if not len(at):
        return None
    order = at[np.argsort(columns[at] * w + np.abs(2 * at - w), kind="stable")]
    # The next choices: the best columns at least a tenth of the width from every better one.
    cuts = []
    for c in order.tolist():
        if all(abs(c - d) >= 0.1 * w for d in cuts):
            cuts.append(c)
            if len(cuts) > choice:
                break
    if len(cuts) <= choice:
        return None
    return _parts_at(patch, box, cuts[choice])


#: A minus run into the digit after it (issue 21, "625-3000" with the minus touching the 3): a piece at least
#: this many times as wide as tall is looked at for a flat stroke at its left end (``minus_head``): room for a
#: minus (``MINUS_LENGTH``) and a digit's share (``MINUS_REST``), 0.55, and a little more.
MINUS_GATE = 0.6
#: ... its first columns, from the left end, each at most this share of the piece's height from its top ink to
#: its bottom ink (a pen's stroke is a tenth of a digit height thick on the worksheets, and a slanted minus
#: a little more; a digit's left flank, a 2's, 3's or 7's end, a 4's or 5's corner, spans more within a few
#: columns), and all of them together as thin (a level stroke) ...
MINUS_THICK = 0.25
#: ... centred within this band of the piece's height (a minus sits at the digits' mid-height; a 2's or 7's
#: foot or a 5's or 7's top bar lie outside it) ...
MINUS_BAND = (0.3, 0.7)
#: ... over at least this share of the piece's height (``signs.SignConfig.min_dash`` is 0.2: a shorter run is the
#: round of a 0 or a 6 as much as a minus) ...
MINUS_LENGTH = 0.3
#: ... level: its middle at its end at most this many columns higher or lower per column of its length than at
#: its start (14 degrees; a hand's touching minus on the generated worksheets rises 0.18 at most, a 1's flag
#: rising into its stem 0.38, the slanted arm of a + 0.25 to 0.43) ...
MINUS_SLOPE = 0.22
#: ... in a piece with no thin stroke at mid-height at least this share of the height long, level or not, at its
#: right end (the right arm of a + as tall as the digits: a slanted hand's is 0.2 to 0.3 long; the digits end
#: round or upright there) ...
MINUS_ARM = 0.15
#: ... with at least this share of the height left to the right of it for the digit, ...
MINUS_REST = 0.25
#: ... which has ink in at least this share of the height's rows above the stroke and as many below it (a minus
#: sits at the mid-height of the digit after it; a 7's top bar, with a speck of a square's rule above it on the
#: ``grid`` row's seed 14, has only its bar's own rise and the speck above it, 7 rows of 30: 0.2 parted it).
MINUS_SIDES = 0.3


def minus_head(patch: np.ndarray, mirrored: bool = False) -> int | None:
    """The column where a minus run into the digit after it ends, or None: ``patch`` (a piece's ink, rows x
    columns, nonzero ink) whose left end is a flat thin stroke at its mid-height (``MINUS_THICK``,
    ``MINUS_BAND``) at least ``MINUS_LENGTH`` of its height long and level (``MINUS_SLOPE``), with a digit's
    width of ink right of it, and whose right end is no such stroke (a + as tall as the digits, its arms level).
    ``mirrored``: the patch is the piece flipped, looked at for that right end."""
    h, w = patch.shape
    if w < MINUS_GATE * h or h < 4:
        return None
    length = int((MINUS_ARM if mirrored else MINUS_LENGTH) * h + 0.999)
    reach = min(w, int(w - MINUS_REST * h))  # the stroke ends left of the digit's share
    if reach < length:
        return None
    for c in (0, length - 1):  # two columns first: most pieces (a digit's round or upright flank) end here
        rows = np.flatnonzero(patch[:, c])
        if not len(rows) or rows[-1] - rows[0] + 1 > MINUS_THICK * h \
                or not MINUS_BAND[0] * h <= (rows[0] + rows[-1]) / 2.0 <= MINUS_BAND[1] * h:
            return None
    ink = patch > 0
    head = ink[:, :reach]
    filled = head.any(axis=0)
    if not filled[:length].all():
        return None
    top = np.argmax(head, axis=0)
    bottom = h - 1 - np.argmax(head[::-1], axis=0)
    centre = (top + bottom) / 2.0
    flat = filled & (bottom - top + 1 <= MINUS_THICK * h) & (centre >= MINUS_BAND[0] * h) & (centre <= MINUS_BAND[1] * h)
    # ... and the stroke as a whole as thin: level, not a 1's flag rising into its stem (pendigits writer 37's)
    flat &= np.maximum.accumulate(bottom) - np.minimum.accumulate(top) + 1 <= MINUS_THICK * h
    run = int(np.argmin(flat)) if not flat.all() else reach
    if run < length:
        return None
    if mirrored:
        return run
    if abs(centre[run - 1] - centre[0]) > MINUS_SLOPE * run:
        return None  # rising or falling: a 1's flag, an arm of an x
    rows = ink[:, run:].any(axis=1)
    if rows[: int(top[:run].min())].sum() < MINUS_SIDES * h or rows[int(bottom[:run].max()) + 1:].sum() < MINUS_SIDES * h:
        return None  # the digit after a minus has ink above it and below it: this is a 7's bar, a 5's
    if minus_head(patch[:, ::-1], mirrored=True) is not None:
        return None  # as flat at its right end: the arms of a +, not a minus and a digit
    return run

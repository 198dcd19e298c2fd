"""The printed fields of a form: the boxes a hand writes into, found as holes of the ink mask.

A form asks for a name, a date, a phone number in printed boxes: one long box holding a word, or a comb
of small boxes holding one character each. Read one crop at a time, the block capitals of a name are
digits (an O is a 0, an I a 1, an S a 5), and spaced out to fill their boxes they stand farther apart than
the letters of a word (``reading.words`` joins no such run). The box says what the glyphs in it are: one
field, one word or one number. This module finds the fields; ``reading.words`` judges each as one run.

A box is a **hole** of the ink mask (a contour at an odd depth of ``cv2.RETR_TREE``, the tree the
segmentation builds anyway) that is a rectangle: it fills its rotated bounding rectangle (a page turned on
the table turns its boxes; a loop of a 0 or an 8 is an oval, about 0.79 of its rectangle), as tall as
the writing or somewhat taller (a loop of a digit is shorter than the digit; the ring of table around a
page, a page-wide frame, are far taller). On a page tilted away from the camera a box is a parallelogram,
which fills the quadrilateral around it as a rectangle fills its rectangle (``PARALLEL``). A glyph touching its box's side bites into the hole, not into
its hull. Boxes of a comb (narrow, one character each, of one height, side by side) make one field; any
other box is a field alone (a long box holding a name, a table's cell holding a number). A comb whose glyphs cross
its rules leaves a hole only in some of its boxes: beside a box found alone, a box stands where that box's own
rules, moved one pitch on, fall on ink of the mask (``RULED``).

A printed grid (squared paper) holds holes of the same kind: its squares, where the mask holds their faint
lines whole (often only a few of them, where writing or a darker stretch closes the square). A grid is a
lattice: its lines run on past each square, both ways, as no form's rules do; a field along whose top or
bottom a found line runs on past both its ends, and along a side of one of whose boxes a found line runs on
past its top or bottom, is squares of a grid, no field (``RUNS_ON``): a digit written over them is read as
any digit, not cut at their rules or dropped as a box's side.

Pure functions, no state: ``find_fields`` takes the holes from ``segment._pieces_of``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

#: A box is at least this many of the writing's digit heights tall: a glyph of the writing fits in it
#: (the loops of 0, 6, 8, 9 are shorter than their digit, and are no box) ...
FIELD_MIN_HEIGHT = 0.9
#: ... and at most this many: one line of writing (the generated forms' boxes are 1.1-2 of their glyphs'
#: height, a printed table's cells 1.2-3.8, and the typical height is a median over the printed labels
#: too, smaller than the handwriting); the ring of table around a page is many times taller. As
#: ``segment.TOO_BIG``: no digit is taller.
FIELD_MAX_HEIGHT = 4.0
#: A box smaller than ``FIELD_MIN_HEIGHT`` (a check box, 0.84-1.6 of the writing's height on the generated forms,
#: beside labels smaller than the writing) is no field, but it is still a box, and its rules are no 0: a hole
#: down to this many digit heights tall is looked at as a box alone (``Cell.small``) ...
BOX_MIN_HEIGHT = 0.5
#: ... when it fills at least this share of its upright bounding rectangle, a cheap test first (a printed
#: square turned by up to 5 degrees 0.84 or more, the oval loop of a 0, 6, 8 or 9 about 0.79), so that the
#: loops of a page of digits, as tall as this, cost no hull each.
BOX_UPRIGHT = 0.84
#: A box's hole fills at least this share of its rotated bounding rectangle, by its convex hull (a
#: printed rectangle about 1.0, turned or not; an oval loop 0.79).
RECTANGLE = 0.9
#: ... and at least this share by its own area: a glyph touching the box's side takes a bite out of the
#: hole (a quarter of it at most), a hole that is mostly bites is no box.
FILLED = 0.5
#: A box at most this many times as wide as tall holds one character: a comb's box (square on the forms
#: of issue 19 and the generated ones); a wider one holds a word or a number, and is a field alone.
COMB_BOX = 1.6
#: Two character boxes are of one comb when of heights within this share of the taller ...
COMB_HEIGHTS = 0.25
#: ... overlapping vertically by at least this share of the shorter ...
COMB_OVERLAP = 0.7
#: ... and at most this many heights apart (a comb of joined boxes shares its sides: a rule's width
#: apart; separate boxes are set up to 0.3 of a side apart on the generated forms).
COMB_GAP = 0.6
#: A box's hole whose area is less than this share of its hull's has a glyph touching the rules bitten
#: into it (a printed box's hole fills its hull to within a rule's jitter).
BITTEN = 0.93
#: Ink inside an empty box of a comb is a glyph when at least this share of the box's height (the glyphs
#: of the generated forms are 0.5-0.92 of their box; the sliver of a rule along a turned box is thin).
GLYPH_IN_BOX = 0.35
#: The inside of a box is taken this many pixels in from its rules: a rule's edge is ragged by a pixel or
#: two (a scanned or turned box), and a sliver of it is no glyph.
INSET = 2
#: A printed rule is at most this share of its box's height wide (1-3 px rules around boxes of 20-60 px).
RULE = 0.15
#: A field is squares of a printed lattice (squared paper), no form's boxes, when its rules run on as lines
#: (``lines.find_lines``, a line's middle within ``RULE`` of the inside's edge) both ways by at least this share
#: of its height: a line along its top or bottom past both its ends, and a line along a side of one of its
#: boxes past that box's top or bottom. A form's rules end at its boxes (a rule's width past their inside),
#: a grid's run on to the next square, a whole pitch, and across the page (session 23, issue 19/21). Half a
#: square is far beyond any rule and short of the pitch, so that a grid line found only in stretches (squared
#: paper's faint lines break up in the ink mask) still tells. Both ways: the line search chains the sides of
#: combs stacked one under another into one vertical line (``boxes`` seed 19), never their top rules past
#: their ends. Only fields of narrow boxes (``COMB_BOX``: a square of a grid is square) are looked at: a long
#: box alone in a row and a column of boxes is a form's, whatever lines the search chains through them.
RUNS_ON = 0.5
#: A box seen on a page tilted away from the camera (``livedigits stress``' ``perspective``: 18-32 degrees, from 1.2
#: page widths) is no rectangle in the frame: the page is foreshortened along a slant of its own, and its boxes come out
#: as parallelograms, sheared, filling their rotated bounding rectangle by 0.85-0.89 (the combs of ``mixed`` seed 83),
#: where an oval loop fills 0.79. Over a box's own span the view is all but affine: a parallelogram fills the
#: quadrilateral around its hull (``cv2.approxPolyN``) as a rectangle fills its rectangle, ``RECTANGLE``, and each
#: triangle of three of that quadrilateral's corners holds half of it. A box is therefore also a hole that fills its
#: quadrilateral by ``RECTANGLE`` and whose largest corner triangle holds at most this share of it (session 24,
#: issue 19): a box's far side shortened by foreshortening (at the generator's 32 degrees, 1.2 page widths away, a box
#: spanning a sixth of the page keeps its far side 0.93 of its near one) gives 0.52 at most (most boxes of those pages
#: measure 0.50-0.53), a trapezoid of sides 0.82:1 gives 0.55, and a
#: triangle (a box's corner cut off by a glyph's stroke across it) or an oval (its quadrilateral's corners stand
#: off it) holds more or fills less. Asked only of holes failing the rectangle test. On the generated forms in
#: perspective (``stress_scene(seed, only=("boxes", "perspective"))``, seeds 0-39) it takes 132 holes more for boxes
#: (501 pass the rectangle test): digits found 90.0% -> 93.4%, precision 78.1% -> 88.1%, capitals read as digits 37 -> 29.
PARALLEL = 0.55
#: A box that fails the rectangle test (``RECTANGLE``, 0.9) by its shear alone is sheared by at least atan(r / 9)
#: degrees, r its width over its height (a parallelogram fills its bounding rectangle by r / (r + tan shear)): 3.2
#: degrees for a comb's box half as wide as tall, more for a wider one. A quadrilateral with a corner within that
#: of a right angle is no sheared box but a box a glyph bit at a corner (the hull cut there, a trapezoid with two
#: right angles), whose glyph is cut out of it as a bitten box's (``_fill_combs``): the lead, session 24, after
#: ``boxes`` seeds 43 and 72 lost three digits touching their boxes to ``PARALLEL``.
SHEARED = 3.0
#: A comb whose capitals cross its rules (a letter larger than its box, written over its top, bottom or side) has
#: no hole in those boxes, only in a box its letter stands clear of: that box is a field alone, and its neighbours'
#: sides, no side of a field's box, read 1 beside the capitals read as digits ("ISLA" read 1151). The rules are
#: still in the mask: a box one comb's pitch beside such a box is there when the ink of the found box's own rules
#: (the ring just outside its hole), moved by that pitch, lands on ink (the mask grown by a pixel) by at least this
#: share (``_ruled_boxes``; session 25, issue 19). A glyph adds ink to a rule, never takes it away. On the generated
#: forms (``boxes`` seeds 0-99, each box found as a hole beside a box of its size found as a hole) the share at that
#: neighbour's pitch is 0.97 or more for 99% of 1,483 boxes (0.9 or more for 99.5%); outward from a comb's last box
#: found as a hole it is 0.34 at the median; of the 14 of 273 at 0.9 or more, the four looked at (seeds 14, 35, 75)
#: have a box there: a check box after the comb (a box found already stops the search), boxes whose glyph broke their hole.
RULED = 0.9
#: ... from a box at least this share of its height wide: a comb's box is square (``COMB_BOX``; 97% of the 868 boxes
#: of the generated combs found as holes, ``boxes`` seeds 0-99, measure 0.93 or more, the narrowest 0.34), and a
#: narrow hole is a part of a box a glyph's stem parted off, whose sides, a rule and the stem, are no comb's pitch
#: apart: from such a part (0.55, ``boxes`` seed 152) the ring matched glyph strokes every half pitch.
RULED_SEED = 0.7


Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class Cell:
    """One printed box: the inside of its rules."""

    box: Rect
    """``x, y, w, h`` of its inside (the hole's bounding rectangle), in the mask's pixels."""
    hull: np.ndarray = field(repr=False)
    """The hole's convex hull: the inside, a glyph touching the rules included."""
    bitten: bool
    """Something touching the rules takes a bite out of the hole (its area well short of its hull's)."""
    single: bool
    """A box of a comb, for one character."""
    small: bool = False
    """Shorter than a field's box (``BOX_MIN_HEIGHT``): a check box, no field, only rules that are no glyph."""


def find_fields(holes: list[np.ndarray], digit_height: float | None, lines=None,
                mask: np.ndarray | None = None) -> tuple[list[Rect], list[Cell]]:
    """The printed fields among ``holes`` (the hole contours of an ink mask), as ``(x, y, w, h)`` boxes in
    the mask's pixels: each comb of character boxes as one box around it, each other box alone; and the
    boxes themselves (``Cell``). ``digit_height``: the writing's typical digit height (None: no writing,
    no fields). ``lines``: the lines found in the same mask (``lines.LineBands``, None: none looked for): a
    field whose rules run on as lines both ways is squares of a grid, no field (``RUNS_ON``). ``mask``: the ink
    mask the holes are of, its rules in it (None: no box is found by its rules, ``RULED``)."""
    if not digit_height or not holes:
        return [], []
    low, high = FIELD_MIN_HEIGHT * digit_height, FIELD_MAX_HEIGHT * digit_height
    least = BOX_MIN_HEIGHT * digit_height
    cells, small, broken = [], [], []
    for hole in holes:
        x, y, w, h = cv2.boundingRect(hole)
        # Cheap tests first: most holes are loops of digits, far too small.
        if not least <= h <= high or w < BOX_MIN_HEIGHT * digit_height:
            continue
        tiny = h < low or w < 0.5 * digit_height
        if tiny and cv2.contourArea(hole) < BOX_UPRIGHT * w * h:
            continue  # a loop of a digit, most likely: an oval
        hull = cv2.convexHull(hole)
        (_, _), (rw, rh), _ = cv2.minAreaRect(hull)
        hull_area, area = cv2.contourArea(hull), cv2.contourArea(hole)
        if rw * rh <= 0 or area < FILLED * hull_area or (hull_area < RECTANGLE * rw * rh
                                                          and not _parallelogram(hull, hull_area)):
            if not tiny:
                broken.append((x, y, w, h))  # perhaps what a glyph left of a box's inside (``_fill_combs``)
            continue
        (small if tiny else cells).append(Cell((x, y, w, h), hull, area < BITTEN * hull_area, False, tiny))
    # The cells of a printed table (boxes stacked on boxes, sharing their rules) are no form's fields: a
    # table's column holds numbers and words of any kind, one to a cell, read by their own runs.
    cells = [c for c in cells if not any(_stacked(c.box, o.box) for o in cells if o is not c)]
    fields, single = _combs([c.box for c in cells])
    # Nor are the squares of a grid, whose lines run on past them both ways (``RUNS_ON``).
    sides = _paths(lines, True) if cells else []
    rows = _paths(lines, False) if sides else []
    if rows:
        # A grid's square is square: only fields of narrow boxes (``COMB_BOX``) are looked at; a long box alone,
        # in a row and a column of boxes whose rules the line search chains across the paper between them, is
        # a form's.
        grid = [f for f in fields if _runs_across(f, rows) and
                all(c.box[2] <= COMB_BOX * c.box[3] for c in cells if _holds(f, c.box)) and
                any(_runs_on(c.box, sides) for c in cells if _holds(f, c.box))]
        if grid:
            cells = [c for c in cells if not any(_holds(f, c.box) for f in grid)]
            fields, single = _combs([c.box for c in cells])
    if broken and single:
        cells = cells + _fill_combs(fields, cells, single, broken)
        fields, single = _combs([c.box for c in cells])
    # A box found alone whose neighbours' holes a glyph broke open: the comb by its rules (``RULED``).
    if mask is not None and any(_lone_box(c, single) for c in cells):
        before = {id(c) for c in cells}
        found, cells = cells, _ruled_boxes(cells, single, mask)
        fields, single = _combs([c.box for c in cells])
        # A table's cells, no comb, as before: the side of a box runs on as a line past its top or bottom, down the
        # table's column (on a table seen in perspective the row above is no box of the same print, and its
        # slanted rows are found as no line).
        made = [c for c in cells if id(c) not in before]
        grid = [f for f in fields if any(_holds(f, c.box) for c in made)
                and any(_runs_on(c.box, sides) for c in cells if _holds(f, c.box))]
        if grid:
            cells = [c for c in cells if id(c) in before] + \
                [c for c in made if not any(_holds(f, c.box) for f in grid)]
            cells += [c for c in found if all(c is not k for k in cells) and any(_holds(f, c.box) for f in grid)]
            fields, single = _combs([c.box for c in cells])
    return fields, [replace(c, single=c.box in single) for c in cells] + small


def _parallelogram(hull: np.ndarray, hull_area: float) -> bool:
    """Whether a hole's convex hull is a box seen in perspective (``PARALLEL``): it fills the quadrilateral around
    it by ``RECTANGLE``, and that quadrilateral is a parallelogram (none of the four triangles of three of its
    corners holds more than ``PARALLEL`` of it)."""
    quad = cv2.approxPolyN(hull, 4, ensure_convex=True).reshape(-1, 2).astype(np.float32)
    if len(quad) != 4:
        return False
    area = cv2.contourArea(quad)
    if area <= 0 or hull_area < RECTANGLE * area:
        return False
    if max(cv2.contourArea(np.delete(quad, k, 0)) for k in range(4)) > PARALLEL * area:
        return False
    # Sheared, not bitten (``SHEARED``): no corner near a right angle.
    sides = np.roll(quad, -1, axis=0) - quad
    before = -np.roll(sides, 1, axis=0)
    cosines = np.einsum("ij,ij->i", sides, before) / np.maximum(
        np.linalg.norm(sides, axis=1) * np.linalg.norm(before, axis=1), 1e-6)
    return bool(np.degrees(np.abs(np.arcsin(np.clip(cosines, -1.0, 1.0)))).min() >= SHEARED)


def _paths(lines, vertical: bool) -> list[np.ndarray]:
    """The paths of the vertical (or horizontal) lines of ``lines`` (``lines.LineBands`` or None), each sorted
    along its length (top to bottom, or left to right)."""
    if lines is None:
        return []
    axis = 1 if vertical else 0
    return [p[np.argsort(p[:, axis], kind="stable")] for band in lines.bands if band.vertical == vertical
            for p in band.paths if len(p)]


def _holds(field_: Rect, box: Rect) -> bool:
    """Whether a box's centre lies in a field."""
    x, y, w, h = field_
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return x <= cx <= x + w and y <= cy <= y + h


def _runs_across(field_: Rect, rows: list[np.ndarray]) -> bool:
    """Whether a line of ``rows`` (horizontal paths, left to right) runs along the top or bottom of ``field_``
    (its middle within ``RULE`` of the inside's edge, along half the field's width at least) and on past both
    its ends by ``RUNS_ON`` of its height: a lattice's line, no form's rule."""
    x, y, w, h = field_
    near, past = RULE * h, RUNS_ON * h
    for path in rows:
        left, right = path[0, 0], path[-1, 0]
        if min(right, x + w) - max(left, x) < 0.5 * w or left > x - past or right < x + w + past:
            continue
        along = np.interp(x + w / 2, path[:, 0], path[:, 1])
        if abs(along - y) <= near or abs(along - (y + h)) <= near:
            return True
    return False


def _runs_on(box: Rect, sides: list[np.ndarray]) -> bool:
    """Whether a line of ``sides`` (vertical paths, top to bottom) runs along the left or right side of ``box``
    (its middle within ``RULE`` of the box's inside along the half of the box's height it covers at least) and
    on past the box's top or bottom by ``RUNS_ON`` of its height: the box is a cell of a lattice."""
    x, y, w, h = box
    near, past = RULE * h, RUNS_ON * h
    for path in sides:
        top, bottom = path[0, 1], path[-1, 1]
        if min(bottom, y + h) - max(top, y) < 0.5 * h or (top > y - past and bottom < y + h + past):
            continue
        along = np.interp(y + h / 2, path[:, 1], path[:, 0])
        if abs(along - x) <= near or abs(along - (x + w)) <= near:
            return True
    return False


def _fill_combs(fields: list[Rect], cells: list[Cell], single: set[Rect], broken: list) -> list[Cell]:
    """The boxes of combs that are no hole of their own: a glyph touching its box's rules on two sides cuts
    its inside in two, or bites so much out of it that it is no rectangle, and the comb falls apart in two
    fields around it (or ends one box short): the box's sides, no side of a field's box then, read as 1s
    between the digits, and the number in two. Such a box stands one pitch of its comb beyond a box of the
    comb, and what is left of its inside is holes reaching from its top rule to its bottom one (one hole, or
    two parted by a stroke across the box; ``broken``: the holes of writing's height that are no box,
    ``(x, y, w, h)``); a space between two combs, or paper after one, holds none, and a loop of a glyph is
    shorter than its box. Each such box is made a cell (``bitten``), its inside its neighbour's moved on by one
    pitch (the holes left may miss a corner the glyph filled), repeatedly: two such boxes side by side are
    both found, and a box found alone beyond one (one glyph bit into its neighbours) is passed on to the next."""
    made: list[Cell] = []
    taken: set[int] = set()
    for fx, fy, fw, fh in fields:
        comb = sorted((c for c in cells if c.box in single and fx <= c.box[0] + c.box[2] / 2 <= fx + fw and fy <= c.box[1] + c.box[3] / 2 <= fy + fh),
                      key=lambda c: c.box)
        if len(comb) < 2:
            continue
        boxes = [c.box for c in comb]
        steps = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(boxes, boxes[1:])]
        pitch, rise = float(np.median([d[0] for d in steps])), float(np.median([d[1] for d in steps]))
        width, height = float(np.median([b[2] for b in boxes])), float(np.median([b[3] for b in boxes]))
        if pitch < 0.5 * width or pitch > (1 + COMB_GAP) * height + width:
            continue  # no comb's pitch to carry on (a turned comb's boxes' rectangles overlap by a pixel or two)
        tol = RULE * height
        for end, step in ((comb[-1], 1), (comb[0], -1)):
            while True:
                x, y = end.box[0] + step * pitch, end.box[1] + step * rise
                beside = next((c for c in cells if c.box not in single and c.box[2] <= COMB_BOX * c.box[3]
                               and abs(c.box[0] - x) <= tol
                               and abs(c.box[1] - y) <= tol and abs(c.box[3] - height) <= tol), None)
                if beside is not None:
                    end = beside  # a box of the comb found alone, its other neighbour the box made here
                    continue
                inside = [k for k, b in enumerate(broken) if k not in taken and x - tol <= b[0]
                          and b[0] + b[2] <= x + width + tol and y - tol <= b[1] and b[1] + b[3] <= y + height + tol]
                # From its top rule to its bottom one: one hole, or two a glyph's stroke across the box parts.
                if not inside or min(broken[k][1] for k in inside) > y + tol \
                        or max(broken[k][1] + broken[k][3] for k in inside) < y + height - tol:
                    break
                taken.update(inside)
                # Placed by the holes left where they reach the rules (from top to bottom always; from side to
                # side unless the glyph fills a side), else by the pitch.
                left = min(broken[k][0] for k in inside)
                right = max(broken[k][0] + broken[k][2] for k in inside)
                top = min(broken[k][1] for k in inside)
                dx = (left if right - left >= width - tol else int(round(x))) - end.box[0]
                dy = top - end.box[1]
                end = Cell((end.box[0] + dx, end.box[1] + dy, end.box[2], end.box[3]),
                           end.hull + np.array([dx, dy], end.hull.dtype), True, False)
                made.append(end)
    return made


def _lone_box(cell: Cell, single: set[Rect]) -> bool:
    """Is ``cell`` a box for one character found alone (in no comb of ``single`` boxes), of a comb box's shape
    (``RULED_SEED`` to ``COMB_BOX`` of its height wide): where a comb by its rules may start (``_ruled_boxes``)?"""
    x, y, w, h = cell.box
    return not cell.small and cell.box not in single and RULED_SEED * h <= w <= COMB_BOX * h


def _ruled_boxes(cells: list[Cell], single: set[Rect], mask: np.ndarray) -> list[Cell]:
    """``cells`` with the boxes of combs found by their rules (``RULED``): beside a box for one character found
    alone (no comb of holes), each box one pitch on along its row whose rules are where the found box's own rules
    moved by that pitch fall, repeatedly, both ways. The pitch is the best shift from the box's width (boxes sharing a
    rule) to ``COMB_GAP`` of its height more (separate boxes), then carried on within a rule's width (``RULE``). A
    box whose rules are found again right above or below it is a table's cell or a grid's square: it is no comb's.
    A box made is ``bitten`` (its glyph is cut out at its rules, a capital crossing them cut there); a lone box whose
    centre it holds, a piece of its inside a glyph's stroke parted off, goes."""
    made: list[Cell] = []
    seeds = sorted((c for c in cells if _lone_box(c, single)), key=lambda c: -c.box[2] * c.box[3])
    for seed in seeds:
        if any(_holds(m.box, seed.box) for m in made):
            continue
        ring = _ring(seed, mask)
        if ring is None:
            continue
        x, y, w, h = seed.box
        tol = int(np.ceil(RULE * h))
        near = np.arange(-tol, tol + 1)
        # Right above or below, however far aside (a table seen in perspective slants its columns).
        aside = np.arange(-(w // 2), w // 2 + 1)
        if max(_ring_share(ring, mask, aside, sign * np.arange(h, int(h + COMB_GAP * h) + 1)).max()
               for sign in (1, -1)) >= RULED:
            continue  # stacked on a box of the same print: a table's cell, a grid's square
        for sign in (1, -1):
            dx, dy, pitch = 0, 0, None
            while True:
                dxs = sign * (np.arange(w, int(w + COMB_GAP * h) + tol + 1) if pitch is None else pitch + near) + dx
                share = _ring_share(ring, mask, dxs, dy + near)
                if share.max() < RULED:
                    break
                # The grown mask forgives a pixel's jitter, so the best shifts are a plateau: the rules land on
                # the mask's own ink best at its middle.
                raw = np.where(share >= share.max() - 1e-6, _ring_share(ring, mask, dxs, dy + near, grow=False), -1.0)
                i, j = np.unravel_index(np.argmax(raw), raw.shape)
                step = abs(int(dxs[j]) - dx)
                dx, dy, pitch = int(dxs[j]), dy + int(near[i]), step
                cx, cy = x + dx + w / 2, y + dy + h / 2
                if any(_holds(o.box, (cx, cy, 0, 0)) for o in cells if o.small or o.box[2] * o.box[3] >= 0.8 * w * h) \
                        or any(_holds(m.box, (cx, cy, 0, 0)) for m in made):
                    break  # a box found already (a check box after the comb too): its own comb goes on from there
                made.append(Cell((x + dx, y + dy, w, h), seed.hull + np.array([dx, dy], seed.hull.dtype), True, False))
    if not made:
        return cells
    kept = [c for c in cells if c.box in single or c.small or not any(_holds(m.box, c.box) for m in made)]
    return kept + made


def _ring(cell: Cell, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The ink of a box's own rules: the mask's pixels (rows, columns) in a band ``INSET`` pixels wide just
    outside its hole's hull; None when the band is off the mask."""
    x, y, w, h = cell.box
    pad = INSET + 1
    x0, y0, x1, y1 = x - pad, y - pad, x + w + pad, y + h + pad
    if x0 < 0 or y0 < 0 or x1 > mask.shape[1] or y1 > mask.shape[0]:
        return None
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(inside, cell.hull.reshape(-1, 2).astype(np.int32) - np.array([x0, y0], np.int32), 1)
    band = cv2.dilate(inside, np.ones((2 * INSET + 1, 2 * INSET + 1), np.uint8)) & ~inside.astype(bool)
    ys, xs = np.nonzero(band & (mask[y0:y1, x0:x1] > 0))
    if len(ys) < 2 * (w + h):  # less rule than a 1 px ring all round: no printed box's rules
        return None
    return ys + y0, xs + x0


def _ring_share(ring: tuple[np.ndarray, np.ndarray], mask: np.ndarray, dxs: np.ndarray, dys: np.ndarray,
                grow: bool = True) -> np.ndarray:
    """For each shift (``dys`` x ``dxs``, each a run of whole pixels, up or down), the share of ``ring``'s pixels
    that land on ink of ``mask`` (grown by a pixel where ``grow``: a rule's edge jitters; none beyond the mask), by
    one ``cv2.matchTemplate``."""
    ys, xs = ring
    top, left = int(ys.min()), int(xs.min())
    template = np.zeros((int(ys.max()) - top + 1, int(xs.max()) - left + 1), np.float32)
    template[ys - top, xs - left] = 1.0
    dy0, dy1, dx0, dx1 = int(dys.min()), int(dys.max()), int(dxs.min()), int(dxs.max())
    th, tw = template.shape
    pad = 1 if grow else 0  # the region taken a pixel wider, so that ink just beyond it grows into it
    region = np.zeros((dy1 - dy0 + th + 2 * pad, dx1 - dx0 + tw + 2 * pad), np.float32)
    y0, x0 = top + dy0 - pad, left + dx0 - pad
    H, W = mask.shape
    sy0, sx0 = max(y0, 0), max(x0, 0)
    sy1, sx1 = min(y0 + region.shape[0], H), min(x0 + region.shape[1], W)
    if sy0 < sy1 and sx0 < sx1:
        region[sy0 - y0: sy1 - y0, sx0 - x0: sx1 - x0] = mask[sy0:sy1, sx0:sx1] > 0
    if grow:
        region = cv2.dilate(region, np.ones((3, 3), np.uint8))[1:-1, 1:-1]
    share = cv2.matchTemplate(region, template, cv2.TM_CCORR) / len(ys)
    return share[np.asarray(dys) - dy0][:, np.asarray(dxs) - dx0]


def comb_fields(fields: list[Rect], cells: list[Cell]) -> list[Rect]:
    """Of ``find_fields``' fields, the combs: those holding a box for one character (``Cell.single``). A comb
    holds one number or one word, a character a box: its boxes' pitch is the printing's, not the writer's
    spacing (``reading.numbers.group_numbers``)."""
    single = [c.box for c in cells if c.single]
    return [f for f in fields if any(_holds(f, box) for box in single)]


def _stacked(a: Rect, b: Rect) -> bool:
    """Whether box ``b`` sits right above or below box ``a``, parted by one rule, overlapping it across."""
    gap = max(a[1], b[1]) - min(a[1] + a[3], b[1] + b[3])
    across = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    return gap <= RULE * min(a[3], b[3]) and across >= 0.5 * min(a[2], b[2])


def shifted(found: tuple[list[Rect], list[Cell]], dx: int, dy: int) -> tuple[list[Rect], list[Cell]]:
    """``find_fields``' fields and boxes moved by ``(dx, dy)`` pixels (live video: the view drifted)."""
    fields, cells = found
    return ([(x + dx, y + dy, w, h) for x, y, w, h in fields],
            [replace(c, box=(c.box[0] + dx, c.box[1] + dy, c.box[2], c.box[3]), hull=c.hull + np.array([dx, dy], c.hull.dtype))
             for c in cells])


def on_rules(piece: Rect, fields: list[Rect], cells: list[Cell]) -> bool:
    """Whether a piece of ink (``x, y, w, h``) is part of a form's printing, not writing in it: its centre
    is on a field (or within a rule's width of its edge, ``RULE``) but in none of its boxes: the side of a
    box, left standing where the rules along the comb were taken out as lines (a hairline read as a 1)."""
    cx, cy = piece[0] + piece[2] / 2, piece[1] + piece[3] / 2
    for x, y, w, h in fields:
        pad = RULE * h
        if x - pad <= cx <= x + w + pad and y - pad <= cy <= y + h + pad:
            return _cell_at(cx, cy, cells) is None
    return False


def _cell_at(cx: float, cy: float, cells: list[Cell]) -> Cell | None:
    """The box whose inside holds the point: inside its hull, not its bounding rectangle (a turned box's
    rectangle holds a stretch of its rules)."""
    for cell in cells:
        bx, by, bw, bh = cell.box
        if bx <= cx <= bx + bw and by <= cy <= by + bh and \
                cv2.pointPolygonTest(cell.hull, (float(cx), float(cy)), True) >= INSET:
            return cell
    return None


def in_boxes(kept: list, fields: list[Rect], cells: list[Cell], mask: np.ndarray, min_height: int) -> list:
    """The kept pieces of the segmentation (``(box, patch)``, mask pixels) read in a form's boxes: a piece on
    the rules (``on_rules``) goes, and a box of a comb holds one glyph. A piece wholly inside its box is that
    glyph; else the glyph is all the ink inside the box, cut at its rules: a glyph touching its box took the
    box's side with it, a 7 whose bar lay on the rule taken out as a line is two pieces, and a glyph
    touching the rules all round is one piece with them, a frame, and no candidate at all (then the hole
    bitten into the box tells that a glyph is there). Any other box (a box alone, a check box) is never a
    glyph itself: a piece around its inside is its rules, and only the ink inside it that is no piece of its
    own is read (a glyph touching the rules); an empty box reads nothing."""
    out, held, rules = [], {}, {}
    for box, patch in kept:
        x, y, w, h = box
        cell = _cell_at(x + w / 2, y + h / 2, cells)
        if cell is not None and not cell.single and _encloses(box, cell):
            rules[id(cell)] = (box, patch)  # the box's own rules: no glyph (read below for what touches them)
        elif cell is None:
            if not on_rules(box, fields, cells):
                out.append((box, patch))
        elif cell.single:
            held.setdefault(id(cell), []).append((box, patch))
        else:
            out.append((box, patch))  # writing in a long box or a table's cell may run across its rules
    for cell in cells:
        bx, by, bw, bh = cell.box
        if not cell.single:
            if id(cell) in rules:
                # A box standing alone is a ring of printed rule: empty, a glyph inside it (a piece of its own,
                # read above), or one touching its rules (one piece with them). Only the ink inside it that
                # is no piece of its own is the glyph the rules hold; an empty box is no 0.
                inner = [item for item in out if _cell_at(item[0][0] + item[0][2] / 2, item[0][1] + item[0][3] / 2, [cell])]
                cut = _inside(_without(mask[by: by + bh, bx: bx + bw], (bx, by), inner), (bx, by), cell)
                if cut is not None and cut[0][3] >= max(min_height, GLYPH_IN_BOX * bh):
                    out.append(cut)
            continue
        pieces = held.get(id(cell), [])
        if len(pieces) == 1 and _within(pieces[0][0], cell):
            out.append(pieces[0])  # the usual case: the glyph stands clear of its box
        elif pieces or cell.bitten:
            cut = _inside(mask[by: by + bh, bx: bx + bw], (bx, by), cell)
            # A glyph, not a speck or a sliver of rule: as tall as a glyph of its box may be.
            if cut is not None and cut[0][3] >= max(min_height, 0.0 if pieces else GLYPH_IN_BOX * bh):
                out.append(cut)
    return out


def _without(region: np.ndarray, origin: tuple[int, int], pieces: list) -> np.ndarray:
    """``region`` of the mask (placed at ``origin``) without the ink of ``pieces`` (``(box, patch)``)."""
    if not pieces:
        return region
    ox, oy = origin
    out = region.copy()
    for (px, py, pw, ph), patch in pieces:
        x0, y0 = max(px, ox), max(py, oy)
        x1, y1 = min(px + pw, ox + out.shape[1]), min(py + ph, oy + out.shape[0])
        if x0 < x1 and y0 < y1:
            out[y0 - oy: y1 - oy, x0 - ox: x1 - ox][patch[y0 - py: y1 - py, x0 - px: x1 - px] > 0] = 0
    return out


def _encloses(piece: Rect, cell: Cell) -> bool:
    """Whether a piece's box holds a box's inside whole: the piece is that box's rules (and what touches
    them), not writing in it (a glyph in a box is inside its rules, the rules are around it)."""
    x, y, w, h = piece
    bx, by, bw, bh = cell.box
    return x <= bx and y <= by and x + w >= bx + bw and y + h >= by + bh


def _within(piece: Rect, cell: Cell) -> bool:
    """Whether a piece lies inside its box, clear of the rules (``INSET``)."""
    x, y, w, h = piece
    bx, by, bw, bh = cell.box
    return bx + INSET <= x and by + INSET <= y and x + w <= bx + bw - INSET and y + h <= by + bh - INSET


def _inside(patch: np.ndarray, origin: tuple[int, int], cell: Cell):
    """The ink of ``patch`` (placed at ``origin`` in the mask) inside ``cell``'s hull, ``INSET`` pixels in from
    the rules, as ``(box, patch)`` cut to its ink; None when none is left."""
    ox, oy = origin
    inside = np.zeros(patch.shape, np.uint8)
    cv2.fillConvexPoly(inside, cell.hull - np.array([ox, oy], np.int32), 1)
    # Nothing beyond the patch is inside (erosion's default border would keep the hull's edge there).
    inside = cv2.erode(inside, np.ones((2 * INSET + 1, 2 * INSET + 1), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    ink = cv2.bitwise_and(patch, patch, mask=inside)
    points = cv2.findNonZero(ink)
    if points is None:
        return None
    px, py, pw, ph = cv2.boundingRect(points)
    return (ox + px, oy + py, pw, ph), ink[py: py + ph, px: px + pw]


def _combs(boxes: list[Rect]) -> tuple[list[Rect], set[Rect]]:
    """Character boxes side by side joined into one field per comb, other boxes left alone; and the
    character boxes that are of a comb."""
    boxes = sorted(boxes)
    fields: list[list] = []  # per field: x, y, x2, y2 of its union, its last box's x2, y, h, narrow, boxes
    for x, y, w, h in boxes:
        narrow = w <= COMB_BOX * h
        for field_ in fields:
            lx2, ly, lh = field_[4], field_[5], field_[6]
            if not (narrow and field_[7]) or abs(h - lh) > COMB_HEIGHTS * max(h, lh):
                continue
            if min(y + h, ly + lh) - max(y, ly) < COMB_OVERLAP * min(h, lh) or not -0.2 * h <= x - lx2 <= COMB_GAP * h:
                continue
            field_[:7] = [min(field_[0], x), min(field_[1], y), max(field_[2], x + w), max(field_[3], y + h), x + w, y, h]
            field_[8].append((x, y, w, h))
            break
        else:
            fields.append([x, y, x + w, y + h, x + w, y, h, narrow, [(x, y, w, h)]])
    single = {b for f in fields if len(f[8]) >= 2 for b in f[8]}
    return [(f[0], f[1], f[2] - f[0], f[3] - f[1]) for f in fields], single

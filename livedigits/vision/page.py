"""Find the page in a frame: the sheet of paper, as a region, so that what lies outside it is never ink.

A page on a table is the frame's brightest large region that is smooth inside (paper, with writing
here and there) and bounded by a sharp edge (the sheet's border). The table around it is darker
(wood, a dark desk) or textured (checks, stripes, dots, cloth): its texture breaks it into small
pieces, and what is smooth in it is darker than the page. The search runs on the shrunk copy of the
frame that the paper estimate already works on (``segment._ink_and_paper``, about 120 px on its shorter
side), so it costs about a millisecond a frame at any frame size.

1. **Edges** are steps in the logarithm of the brightness: a soft shadow, a shade, or a page curling
   away from the light multiplies the brightness slowly and makes no edge; the border of the sheet on
   a table, the checks of a cloth and the seams of a table do. Writing and printed rules are closed
   away first (thin dark strokes), so a page is smooth where it is written on.
2. **Smooth regions** are what is left, opened so that a bright check touching the page is cut off
   from it (the opening is wider than any check of a patterned table at this size). A ring of table
   around the page has the page as its hole: the hole is a region too.
3. **The page** grows from the brightest large region, region by region, across the printed lines and
   the page's own edges: a neighbour about as bright as the part of the page it touches joins (the
   cells of a printed table, the margin around them), and so does a convex neighbour darker than
   the page but bright enough to be paper that holds writing (the half of a sheet under a hard
   shadow). A darker neighbour (the table) does not. The page is the convex hull of what joined,
   widened over any paper just outside it (a margin too narrow for the opening).
4. **Paper going on beyond the hull** is page too: smooth, as bright as the page and touching it, no
   smaller than the opening's square (a label stuck across the sheet's edge, a second sheet showing
   from under the first; a bright check of a table is smaller).

No page is returned (``None``: the whole frame may be paper) when no large smooth region is found, when
the hull holds a region that did not join (a bright table around a darker page), when smooth paper as
bright as the page lies just outside it (the hull cut across a sheet: the margin beside a printed table
that fills the view, a white table cloth), or when the page fills the frame. Pure functions, no state.
"""

from __future__ import annotations

import cv2
import numpy as np

#: A step of at least this much in the natural logarithm of the brightness, per pixel of the shrunk
#: frame, is an edge: the border of a sheet on a table is a step of 0.3 or more (paper a third brighter
#: than the table, over one or two pixels); the softest shadow edge of the stress generator (a hand's
#: shadow blurred over 3-10 px at this size) rises less than 0.1 a pixel.
PAGE_EDGE = 0.12
#: Dark strokes up to this many pixels wide at this size less one (a digit's stroke, a printed rule, a
#: dense line of small digits) are closed away before the edges are looked for.
PAGE_CLOSE = 3
#: The smooth regions are opened by a square this share of the shrunk frame's shorter side: wider
#: than the checks, stripes and dots of a patterned table at this size (up to about 8 px), which are cut
#: off from the page where they touch it, far narrower than a page (half the frame or more).
PAGE_OPEN = 0.08
#: A smooth region smaller than this share of the frame is no page nor part of one (table texture).
MIN_REGION = 0.05
#: A region next to the page (within ``NEIGHBOUR`` pixels of it) joins it when at least this bright
#: relative to the part of the page it touches: the cells of a printed table and the margin around them,
#: parted by printed lines; the same sheet a little darker further from the lamp. A table is darker.
SAME_PAPER = 0.8
#: Regions parted by no more than this many pixels of edge are next to each other (a printed line, the
#: border of a sheet, is an edge one to three pixels wide at this size).
NEIGHBOUR = 3
#: A region darker than that joins the page (a part of the sheet under a hard shadow) only when it is
#: itself convex, covering at least this share of its hull (a table seen beside a page is a ring, a U or
#: an L) ...
CONVEX = 0.85
#: ... and holds writing: edges (before the closing) cover at least this share of it (a line of digits
#: on a strip of the shrunk page covers a few percent; the grain of a wood table, below ``PAGE_EDGE``,
#: none).
WRITING_SHARE = 0.01
#: At most this share of the page's hull may belong to regions that did not join it (a bright table
#: around a darker page, two sheets far apart): else it is no sheet.
TABLE_IN_HULL = 0.2
#: The band just outside the page (from ``NEIGHBOUR`` to this many pixels beyond its hull) must be
#: table: at most ``OPEN_BORDER`` of it smooth and as bright as the page.
RING = 6
OPEN_BORDER = 0.25
#: A page whose hull covers this share of the frame or more is the whole frame: nothing is cut away.
FULL_FRAME = 0.97


#: ln(v + 8) for every grey level v: the offset keeps the sensor noise of a dark table from becoming
#: large steps in the logarithm.
_LOG = np.log(np.arange(256, dtype=np.float32) + 8.0)


def edges(small: np.ndarray) -> np.ndarray:
    """The magnitude of the gradient of the log brightness of a uint8 gray image, per pixel (float32)."""
    log = _LOG[small]
    gx = cv2.Sobel(log, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(log, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    return cv2.magnitude(gx, gy)


def _shapes(component: np.ndarray, min_area: float) -> list[np.ndarray]:
    """The region with its holes filled (the writing on a page is part of it), then each of its holes of
    at least ``min_area`` pixels, filled (a page seen through a ring of table), as uint8 0/1 masks."""
    found = cv2.findContours(component, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    contours, hierarchy = (found[0], found[1]) if len(found) == 2 else (found[1], found[2])
    outer = np.zeros_like(component)
    holes = []
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0]):
        if parent < 0:
            cv2.drawContours(outer, [contour], -1, 1, thickness=cv2.FILLED)
        elif cv2.contourArea(contour) >= min_area:
            hole = np.zeros_like(component)
            cv2.drawContours(hole, [contour], -1, 1, thickness=cv2.FILLED)
            holes.append(hole)
    return [outer, *holes]


def _hull(region: np.ndarray) -> np.ndarray:
    """The convex hull of a region (uint8 0/1), from its outlines (far fewer points than its pixels)."""
    found = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return cv2.convexHull(np.concatenate(found[0] if len(found) == 2 else found[1]))


def _convexity(region: np.ndarray) -> float:
    """The share of its convex hull that a region (uint8 0/1) covers: 1 for a sheet, less for a ring, a
    U or an L."""
    hull = _hull(region)
    return min(1.0, cv2.countNonZero(region) / max(1.0, cv2.contourArea(hull)))


def _shaded_part(shape: np.ndarray, own: np.ndarray, plain: np.ndarray) -> bool:
    """A region darker than the page may be part of it under a hard shadow: when it is convex (a table
    seen beside a page is a ring, a U or an L) and holds writing (edges well inside it, in the frame
    before the writing was closed away: ``plain`` is 255 where the frame is smooth). A region with no
    writing has nothing to read: leaving it out loses nothing."""
    if _convexity(own) < CONVEX:
        return False
    inner = cv2.erode(shape, np.ones((5, 5), np.uint8))
    marks = cv2.countNonZero(cv2.bitwise_and(inner, cv2.bitwise_not(plain) & 1))
    return marks >= WRITING_SHARE * max(1, cv2.countNonZero(inner))


def closed_edges(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shrunk gray frame ``small`` with its writing and printed lines closed away (``PAGE_CLOSE``), and the
    edges of that (``edges``): the borders of sheets, tables and hard shadows, where the page is looked for."""
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (PAGE_CLOSE, PAGE_CLOSE)))
    return closed, edges(closed)


def find_page(small: np.ndarray, min_paper: float = 0.45,
              closed: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray | None:
    """The page in a shrunk gray frame ``small`` (uint8, about 120 px on its shorter side): a uint8 mask
    of its size, 1 on the page and 0 on the table around it, or None when the whole frame may be paper.

    ``min_paper``: a region beside the page joins it only when at least this bright relative to it (the
    paper estimate's own rule for what can be paper, ``SegmentConfig.min_paper``). ``closed``: the frame's
    :func:`closed_edges`, when the caller has them."""
    h, w = small.shape
    if min(h, w) < 16:
        return None
    # Without the closing: what is smooth paper (fine texture and writing are not).
    raw = small
    plain = cv2.compare(edges(raw), PAGE_EDGE, cv2.CMP_LE)
    # Writing and printed lines are thin dark strokes: closed away, so that the page is smooth where it
    # is written on, up to its border (a table's texture is coarser, or leaves it as bright as paper).
    small, closed_edge = closed if closed is not None else closed_edges(small)
    smooth_all = cv2.compare(closed_edge, PAGE_EDGE, cv2.CMP_LE)
    k = max(3, int(round(min(h, w) * PAGE_OPEN)))
    smooth = cv2.morphologyEx(smooth_all, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(smooth, connectivity=4)
    large = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= MIN_REGION * h * w]
    if not large:
        return None
    regions = []  # (brightness, filled outline, own pixels): the large smooth regions and their large holes
    for i in large:
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        component = np.zeros((h, w), np.uint8)
        component[y: y + bh, x: x + bw] = labels[y: y + bh, x: x + bw] == i
        outer, *holes = _shapes(component, MIN_REGION * h * w)
        # A region is as bright as its own smooth part (a ring of table is as dark as the table, whatever
        # lies in its hole); a hole as what fills it.
        regions.append((cv2.mean(small, mask=component)[0], outer, component))
        regions.extend((cv2.mean(small, mask=hole)[0], hole, hole) for hole in holes)
    regions.sort(key=lambda region: -region[0])
    bright = regions[0][0]
    joined = [False] * len(regions)
    joined[0] = True
    near = np.ones((2 * NEIGHBOUR + 1, 2 * NEIGHBOUR + 1), np.uint8)
    grown = True
    while grown:  # the page grows region by region, across the printed lines that part them
        grown = False
        for r, (brightness, shape, own) in enumerate(regions):
            if joined[r]:
                continue
            reach = cv2.dilate(own, near)
            beside = [regions[j][0] for j in range(len(regions))
                      if joined[j] and cv2.countNonZero(cv2.bitwise_and(reach, regions[j][2]))]
            if not beside:
                continue
            if brightness >= SAME_PAPER * max(beside) or (brightness >= min_paper * bright and _shaded_part(shape, own, plain)):
                joined[r] = grown = True
    for r, (brightness, shape, own) in enumerate(regions):
        # A smooth, convex neighbour bright enough to be paper that did not join (no writing seen in
        # it) may still be the same sheet under a hard shadow, with writing on the shadow's edge: no
        # cut is safer than a cut across the sheet.
        if not joined[r] and brightness >= min_paper * bright and _convexity(own) >= CONVEX and any(
                joined[j] and cv2.countNonZero(cv2.bitwise_and(cv2.dilate(own, near), regions[j][2]))
                for j in range(len(regions))):
            return None
    union = np.zeros((h, w), np.uint8)
    others = np.zeros((h, w), np.uint8)
    for (_, shape, own), part in zip(regions, joined):
        if part:
            union = cv2.bitwise_or(union, shape)
        else:
            others = cv2.bitwise_or(others, own)
    hull = _hull(union)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    core = mask.copy()
    # A sheet is convex: its hull holds none of the table. When it does (a bright table around a darker
    # page, two sheets far apart), this is no page.
    if cv2.countNonZero(cv2.bitwise_and(mask, cv2.subtract(others, union))) > TABLE_IN_HULL * cv2.countNonZero(mask):
        return None
    # A sheet ends where the table begins: just outside the hull, inside the frame, the frame is no
    # longer smooth paper as bright as the page (else the hull cut across the paper: the L-shaped margin
    # around a printed table that fills the frame, a bright table cloth).
    paper = cv2.bitwise_and(plain, cv2.compare(raw, SAME_PAPER * bright, cv2.CMP_GE)) & 1
    # A margin narrower than the opening (writing close to the sheet's edge) was opened away: paper just
    # outside the hull joins it, once.
    # (A band along the hull, not the bright checks of a table cloth that touch it: those are pieces
    # smaller than the opening's square.)
    margin = cv2.bitwise_and(cv2.subtract(cv2.dilate(mask, np.ones((k + 1, k + 1), np.uint8)), mask), paper)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(margin, connectivity=4)
    bands = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= 2 * k * k) + 1
    margin = np.isin(labels, bands).astype(np.uint8) if len(bands) else None
    if margin is not None:
        cv2.fillConvexPoly(mask, _hull(cv2.bitwise_or(mask, margin)), 1)
    # Paper does not end where the hull does when it goes on beyond it: a label pasted across the sheet's
    # edge, a second sheet under the first reaching out from under it (too narrow or too oddly shaped to be
    # a region of their own). What is smooth and as bright as the page, the writing closed away, touches
    # the page and is no smaller than the opening's square is paper, whatever lies beyond it: the table
    # is darker, or textured, its bright checks smaller than that (which is why the opening cut them off).
    beyond = cv2.bitwise_and(smooth_all, cv2.compare(small, SAME_PAPER * bright, cv2.CMP_GE)) & 1
    beyond = cv2.bitwise_and(beyond, 1 - core)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(beyond, connectivity=4)
    if count > 1:
        touching = np.unique(labels[cv2.bitwise_and(cv2.dilate(core, np.ones((3, 3), np.uint8)), beyond) > 0])
        keep = [i for i in touching.tolist() if i and stats[i, cv2.CC_STAT_AREA] >= k * k]
        if keep:
            # The edge between the two (a label brighter than the sheet) is no paper of either: closed.
            mask = cv2.bitwise_or(mask, np.isin(labels, keep).astype(np.uint8))
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((2 * NEIGHBOUR - 1, 2 * NEIGHBOUR - 1), np.uint8))
    ring = cv2.subtract(cv2.dilate(mask, np.ones((2 * RING + 1, 2 * RING + 1), np.uint8)), cv2.dilate(mask, near))
    if cv2.countNonZero(cv2.bitwise_and(ring, paper)) > OPEN_BORDER * cv2.countNonZero(ring):
        return None
    # The edge pixels along the sheet's border were left out of the smooth region: one pixel back.
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    if cv2.countNonZero(mask) >= FULL_FRAME * h * w:
        return None
    return mask

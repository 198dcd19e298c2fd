"""What live video keeps of a view from one frame to the next: the paper estimate (with what it measured of
blurred ink) and the line bands.

Searching the ruled lines is the dearest part of segmenting a frame (about half of it on a ruled page),
and the paper estimate comes next. A page held in front of a camera hardly changes between frames: the
view drifts by a pixel or so a frame, the light and the lines stay. So on live video both are estimated
on one frame, the *anchor*, and the next frames only measure how far the view has moved since then
(phase correlation of the shrunk frames, a fraction of a millisecond) and move the anchor's estimates by
as much. The digits themselves are cut out of every frame afresh: only the paper and the lines carry over.

Everything is estimated afresh when:

- ``REESTIMATE_EVERY`` frames have gone by since the anchor (a slow change in the light or a page that
  slowly turns is caught within a third of a second at 30 fps);
- the view no longer matches the anchor (``MIN_MATCH``): another page, a cut, a hand over the page;
- it has moved further than ``MAX_SHIFT`` (a pan brings in what the anchor never saw);
- once aligned, some part of it changed (``TILE_CHANGE``): a hand, a shadow, a page turned over.

The comparison is always with the anchor, never with the previous frame, so a slow drift cannot add
up unseen.

The cut decisions ride along (:class:`CutAnchors`): a wide piece of ink (perhaps digits whose ink touches) is searched
for the ways to cut it, and every part of every way classified, only when its box or its crop changed
since the frame whose search the recognizer decided on, by the test of the classifier's own reuse
(``vision.anchors``); a still piece keeps that decision. They are dropped with the view when it no longer
matches (another page, a hand), not when the paper is only estimated afresh for its age.

The state is a frozen :class:`ViewMemory` that ``segment`` hands back and its caller passes in
with the source's next frame (the recognizer keeps one per video source); stills never get one.

Whole frames ride along too (:class:`StillAnchor`, ``ViewMemory.still``; "Whole frames carried" below):
where the page stood still since a frame read whole, and two readings of that view agreed, the next
frames are not segmented, classified or read at all: they carry that reading, moved with the view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import itertools
import os

import cv2
import numpy as np

from livedigits.vision.anchors import DEFAULT_REUSE, ReuseConfig, corners_of, match_anchors
from livedigits.types import Candidate

#: The paper and the lines are estimated afresh at least every this many frames (8: about four times a
#: second at 30 fps). On the bundled clips the view drifts up to 6 px in that time; the shift follows it.
REESTIMATE_EVERY = 8
#: Below this phase-correlation response the frame is not the anchor's view moved: measured 0.93 or more
#: between frames up to 8 apart on both bundled clips, under 0.05 between two different pages.
MIN_MATCH = 0.5
#: A shift larger than this share of the frame's shorter side is a pan, not a drift (2% is 10 px at
#: 640x480; the bundled clips drift at most 1.3 px a frame).
MAX_SHIFT = 0.02
#: Side of the tiles, in shrunk pixels (8: 32 px at 640x480), over which the aligned frames are compared.
TILE = 8
#: A tile whose mean grey moved by more than this (0-255) once the frames are aligned has changed: on
#: both bundled clips, within 8 frames, the largest tile change was 23-26 (noise, blur, the light's
#: flicker). A digit written meanwhile changes its tile by about 20; a hand or its shadow, by far more.
TILE_CHANGE = 40.0


@dataclass(frozen=True)
class ViewMemory:
    """The anchor frame's estimates, for the next frames of the same view. In working pixels (after
    ``SegmentConfig.roi`` and the ``max_side`` shrink)."""

    small: np.ndarray
    """The anchor frame shrunk (float32), as the paper estimate shrinks it: what later frames are
    compared with."""
    shape: tuple[int, int]
    """The working frame's (height, width)."""
    config: object
    """The ``SegmentConfig`` the estimates were made with (another one starts afresh)."""
    paper: object
    """The anchor's ``segment.Paper``."""
    lines: object | None
    """The anchor's ``lines.LineBands``, or None when the anchor needed no line search (no long ink)."""
    age: int = 0
    """Frames since the anchor."""
    found: object | None = None
    """The lines the anchor's own search found (``lines`` is what both it and the anchor before, in
    the same view, found)."""
    fields: object | None = None
    """The anchor's printed fields and boxes (``fields.find_fields``): found before the lines are taken
    out, which the later frames, whose lines are carried, do not see."""

    pale: object | None = None
    """What the anchor measured of pale, blurred ink (``segment.PaleInk``), or None: a page that is not
    blurred on the anchor frame is not on the next frames of the same view either."""

    cuts: "CutAnchors | None" = None
    """The wide pieces of the last frame whose cut the recognizer decided on (:class:`CutAnchors`), for
    the next frame of the same view; None before any."""

    still: "StillAnchor | None" = None
    """The last frame read whole, whose reading the next frames carry while the page stands still
    (:class:`StillAnchor`); None where whole frames are not carried."""

    def older(self) -> "ViewMemory":
        return replace(self, age=self.age + 1)


@lru_cache(maxsize=8)
def _window(w: int, h: int) -> np.ndarray:
    return cv2.createHanningWindow((w, h), cv2.CV_32F)


def view_shift(memory: ViewMemory | None, small: np.ndarray, shape: tuple[int, int], config: object,
               scale: int, any_age: bool = False) -> tuple[int, int] | None:
    """How far, in working pixels ``(dx, dy)``, the view has moved since ``memory``'s anchor, when the
    anchor's estimates still hold for this frame; None when they must be made afresh. ``small``: this
    frame shrunk (uint8 or float32) by ``scale``, as the anchor's was. ``any_age``: whatever the
    anchor's age (is this still the anchor's view?)."""
    if (memory is None or (memory.age + 1 >= REESTIMATE_EVERY and not any_age) or memory.shape != tuple(shape)
            or memory.config != config or memory.small.shape != small.shape or min(small.shape) < 2 * TILE):
        return None
    now = np.float32(small)
    (sx, sy), match = cv2.phaseCorrelate(memory.small, now, _window(small.shape[1], small.shape[0]))
    if not match >= MIN_MATCH or max(abs(sx), abs(sy)) * scale > MAX_SHIFT * min(shape):
        return None
    # Aligned back onto the anchor (the edges that came in are left out), tile by tile.
    back = cv2.warpAffine(now, np.float32([[1, 0, -sx], [0, 1, -sy]]), (small.shape[1], small.shape[0]),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    edge = int(np.ceil(max(abs(sx), abs(sy)))) + 1
    change = cv2.absdiff(back, memory.small)[edge: small.shape[0] - edge, edge: small.shape[1] - edge]
    if min(change.shape) < TILE:
        return None
    tiles = cv2.resize(change, (change.shape[1] // TILE, change.shape[0] // TILE), interpolation=cv2.INTER_AREA)
    if float(tiles.max()) > TILE_CHANGE:
        return None
    return int(round(sx * scale)), int(round(sy * scale))


#: Every chain of cut anchors (one per video source's view memory, and one more each time a worker process
#: or a source starts afresh) numbers its anchors from its own random base: an anchor's id names one
#: decision of one recognizer's stream, never another chain's.
_CHAINS = itertools.count()


def _fresh_base() -> int:
    """An int64 id base: 22 random bits (another process's chains), 9 bits of this process's chain count,
    and 32 bits for the chain's own anchors."""
    return (((int.from_bytes(os.urandom(3), "little") & 0x3FFFFF) << 9 | (next(_CHAINS) & 0x1FF)) << 32)


@dataclass(frozen=True)
class CutAnchors:
    """The wide pieces of ink whose ways to cut were searched and classified, each an *anchor*: its box and
    crop (source pixels, the whole piece's 28x28 crop) as the search saw them, which search it was
    (``kinds``: ``segment``'s too-wide, three-wide or two-halves), its age in frames and its ``ids``, by
    which the recognizer keeps what it decided (cut or not, and where: ``Segmentation.carried``).

    A piece of a later frame of the same view is *carried* (no search, no part classified) when the same
    search applies to it and :func:`vision.anchors.match_anchors` finds an anchor that stands for it, with
    the classifier's reuse settings: every side of the box within 1 px, the crop within the same mean and
    4x4-block differences, and an anchor younger than ``max_age`` frames segmented and ``max_span`` frames in
    all (frames carried whole count only there), so every wide piece is searched and decided afresh at
    least every 2 s at 30 fps. It is compared with the anchor, never with the
    previous frame: a slow drift cannot add up unseen."""

    boxes: np.ndarray
    """``(M, 4)`` int64 ``x, y, x2, y2`` (``reuse.corners_of``), where the pieces lie on the view memory's anchor
    frame (``segment`` compares a frame's boxes moved back by the view's shift since it)."""
    crops: np.ndarray
    """``(M, 28, 28)`` float32."""
    kinds: np.ndarray
    """``(M,)`` int64: which search found the ways."""
    ages: np.ndarray
    """``(M,)`` int64: frames segmented since the search."""
    ids: np.ndarray
    """``(M,)`` int64: the decision's name in the recognizer (``Segmentation.carried``)."""
    base: int
    """This chain's id base (the first anchor's id)."""
    made: int = 0
    """Anchors made so far in this chain (the next id is ``base + made``)."""
    config: ReuseConfig = DEFAULT_REUSE
    spans: np.ndarray | None = None
    """``(M,)`` int64: frames in all since the search, frames carried whole included (None: ``ages``)."""

    @classmethod
    def empty(cls, config: ReuseConfig = DEFAULT_REUSE) -> "CutAnchors":
        return cls(np.zeros((0, 4), np.int64), np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64),
                   np.zeros(0, np.int64), np.zeros(0, np.int64), _fresh_base(), 0, config)

    def match(self, pieces: list[Candidate], kinds: list[int], at: tuple[int, int] = (0, 0)) -> list[int]:
        """For each of ``pieces`` (this frame's wide candidates, searched by ``kinds``), the index of the anchor
        that stands for it, or -1. ``at``: how far (source pixels) this frame's view lies from the one the
        anchors' boxes are kept on (``segment`` keeps them on its view memory's anchor frame)."""
        if not pieces or not len(self.ids):
            return [-1] * len(pieces)
        found = match_anchors(_back(corners_of([p.box for p in pieces]), at), np.stack([p.crop for p in pieces]),
                              self.boxes, self.crops, self.ages, self.config, self._spans())
        return [int(a) if a >= 0 and self.kinds[a] == kind else -1 for a, kind in zip(found.tolist(), kinds)]

    def _spans(self) -> np.ndarray:
        return self.ages if self.spans is None else self.spans

    def older(self) -> "CutAnchors":
        """A frame carried whole went by (no piece searched or carried): the span grows, not the age in
        frames segmented."""
        return replace(self, spans=self._spans() + 1)

    def moved(self, dx: int, dy: int) -> "CutAnchors":
        """The same anchors, their boxes kept on a view that lies ``dx, dy`` (source pixels) from the one they
        were kept on: what the next frames compare with once the view memory is estimated afresh on a frame
        of the same view, that far from its last anchor frame."""
        return replace(self, boxes=self.boxes + np.asarray([dx, dy, dx, dy], np.int64)) if dx or dy else self

    def after(self, carried: list[int], fresh: list[tuple[Candidate, int]], at: tuple[int, int] = (0, 0)
              ) -> tuple["CutAnchors", list[int]]:
        """The anchors for the next frame: those of ``carried`` (indices of :meth:`match`), one frame older,
        and one new anchor per ``(piece, kind)`` of ``fresh``, searched this frame (whose view lies ``at`` from
        the anchors', as in :meth:`match`); and the new ones' ids."""
        keep = np.asarray(carried, np.int64)
        ids = [self.base + self.made + n for n in range(len(fresh))]
        boxes = np.concatenate([self.boxes[keep], _back(corners_of([p.box for p, _ in fresh]), at)]) if fresh \
            else self.boxes[keep]
        crops = np.concatenate([self.crops[keep], np.stack([np.asarray(p.crop, np.float32).reshape(28, 28)
                                                            for p, _ in fresh])]) if fresh else self.crops[keep]
        return CutAnchors(boxes, crops, np.concatenate([self.kinds[keep], np.asarray([k for _, k in fresh], np.int64)]),
                          np.concatenate([self.ages[keep] + 1, np.zeros(len(fresh), np.int64)]),
                          np.concatenate([self.ids[keep], np.asarray(ids, np.int64)]), self.base, self.made + len(fresh),
                          self.config, np.concatenate([self._spans()[keep] + 1, np.zeros(len(fresh), np.int64)])), ids


def _back(corners: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """``corners`` (``(N, 4)`` ``x, y, x2, y2``) moved back by ``at`` (``dx, dy``)."""
    return corners - np.asarray([at[0], at[1], at[0], at[1]], corners.dtype) if at[0] or at[1] else corners


# -- Whole frames carried where the page stood still ----------------------------------------------------
#
# A page held still in front of a camera reads the same from one frame to the next: on live video the
# whole reading of a frame (its digits, numbers and expressions) is carried to the next frames while the
# view has not changed since it, the *still anchor*: no segmentation, no classifier, no reading, only a
# comparison of the shrunk frames (about half a millisecond at 640x480) and the anchor's boxes moved by
# the view's shift. The comparison is always with the anchor, never with the previous frame, so a slow
# change cannot add up unseen. Every frame is read whole again when:
#
# - ``CARRY_EVERY`` frames have gone by since the anchor (half a second at 30 fps);
# - the view is not the anchor's moved (``MIN_MATCH``) or moved more than ``MAX_SHIFT``: another page, a pan;
# - once aligned, some window of the frame holds ``CARRY_PIXELS`` pixels or more whose grey lies
#   ``CARRY_GREY`` beyond the grey range around the same place of the anchor (and the other way round):
#   ink written or rubbed out, a rewritten digit, a hand or a shadow;
# - the reading is not yet *agreed*: a frame is carried only once two frames read whole on the anchor's
#   view (the anchor's own and a later one, their boxes moved back onto the anchor's view) read the same
#   (``recognizer.same_reading``), and the second's tracked reading says what its crops say
#   (``recognizer.says_the_same``). A page just come into view is read whole at least twice; a digit that
#   comes and goes from one reading to the next keeps the page read whole. A new anchor made on a frame that
#   still shows the last anchor's view (``still_compare``: only because the last one grew ``CARRY_EVERY``
#   frames old, ``Segmentation.renews``; or because a window changed or the view moved far,
#   ``Segmentation.changes``) counts the last reading of that view as the first of the two: a page that
#   stands still is read whole once every ``CARRY_EVERY`` frames, and a change that leaves the reading as
#   it was (the hand's motion blur on the ink) once, the new anchor's own reading carried. A digit rewritten
#   reads otherwise, or its track still leans to the old digit: the page is read whole again.

#: The whole reading is carried at most this many frames after the frame it was read on.
CARRY_EVERY = 15
#: The frames are compared shrunk by the whole factor that brings their shorter side to about this (2:
#: 320x240 at 640x480, where a pen stroke is still 1-2 px wide; 3 at 1280x720).
CARRY_SIDE = 240
#: ... and aligned on a frame shrunk this much again (phase correlation on 80x60 at 640x480, about 0.1 ms;
#: at 2, 0.3-0.4 ms, and 4 fewer of the realistic clip's 120 frames carried).
CARRY_ALIGN_SHRINK = 4
#: A pixel of the frame, aligned, agrees with the anchor where it lies within the grey range of the
#: anchor's pixels up to this far (shrunk pixels: 2 is 4 px at 640x480, 6 px at 1280x720): the hand-held wander bends the
#: view by a few pixels across the frame in half a second, which a shift alone does not take out (at 1,
#: a third more frames of ``samples/realistic.mp4`` were read whole for it).
CARRY_REACH = 2
#: Grey levels (0-255) beyond that range that make a pixel changed. Measured on ``samples/realistic.mp4``
#: and ``samples/demo.mp4`` (JPEG, noise, the shadow's drift), each frame against an anchor up to 14
#: frames older: a window holds 2 such pixels at the median and 6 at the 90th percentile (realistic; 0 and
#: 0 on the demo). An MNIST digit 28-34 px tall pasted onto the paper of a frame of the realistic clip, at
#: 50-95% of the paper's grey, gives a window of 11 or more (400 pastes); with this test as it stands, none
#: of 393 such pastes and none of 295 digits rubbed out (their box filled with the paper's grey) was missed.
CARRY_GREY = 40
#: Side of the cells (shrunk pixels) whose changed pixels are counted, by windows of 2x2 cells (a digit
#: 30 px tall at 640x480 falls in one window whatever its place).
CARRY_CELL = 8
#: A window with this many changed pixels or more has changed: the frame is read whole.
CARRY_PIXELS = 7

#: Still anchors are numbered from a random base per process (a restarted worker's never meet a reading
#: kept under an earlier one's).
_STILL_IDS = itertools.count()
_STILL_BASE = int.from_bytes(os.urandom(4), "little") << 24
_STILL_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * CARRY_REACH + 1, 2 * CARRY_REACH + 1))


def block_mean(gray: np.ndarray, k: int) -> np.ndarray:
    """``gray`` (uint8, both sides whole multiples of ``k``) shrunk ``k`` times by the mean of each ``k`` x ``k``
    block, rounded: what ``cv2.resize(..., INTER_AREA)`` gives at a whole factor. OpenCV's area resize is fast
    at a factor of 2 but takes 0.4 ms at 3 (1280x720, a 16:9 frame's factor here); at an odd factor a block's
    sum never lies half way between two means, so a box filter's sums, taken at every ``k``-th pixel and
    rounded, are the same bytes in under half the time (checked against OpenCV at factors 1-5 by the tests)."""
    if k == 1:
        return gray
    if k % 2 == 0 or k * k * 255 > 65535:
        return cv2.resize(gray, (gray.shape[1] // k, gray.shape[0] // k), interpolation=cv2.INTER_AREA)
    sums = cv2.boxFilter(gray, cv2.CV_16U, (k, k), anchor=(0, 0), normalize=False,
                         borderType=cv2.BORDER_REPLICATE)[::k, ::k]
    return ((sums.astype(np.uint32) * 2 + k * k) // (2 * k * k)).astype(np.uint8)


@dataclass(frozen=True)
class StillView:
    """One frame shrunk for the comparison: ``fine`` (uint8, by ``scale``, see ``CARRY_SIDE``) and ``coarse``
    (float32, by ``CARRY_ALIGN_SHRINK`` more), and the frame's ``shape`` (height, width)."""

    fine: np.ndarray
    coarse: np.ndarray
    shape: tuple[int, int]
    scale: int = 1

    @classmethod
    def of(cls, gray: np.ndarray) -> "StillView":
        h, w = gray.shape[:2]
        k = max(1, min(h, w) // CARRY_SIDE)
        fh, fw = max(1, h // k), max(1, w // k)
        fine = block_mean(gray[: fh * k, : fw * k], k) if h >= k and w >= k else gray
        a = CARRY_ALIGN_SHRINK
        ch, cw = max(1, fine.shape[0] // a), max(1, fine.shape[1] // a)
        coarse = cv2.resize(fine[: ch * a, : cw * a], (cw, ch), interpolation=cv2.INTER_AREA) \
            if fine.shape[0] >= a and fine.shape[1] >= a else fine
        return cls(fine, np.float32(coarse), (h, w), k)


@dataclass(frozen=True)
class StillAnchor:
    """The frame whose whole reading later frames of a still view carry (see "Whole frames carried" above):
    its :class:`StillView`, the grey range around each of its shrunk pixels, its ``id`` (the recognizer
    keeps the reading under it: ``Segmentation.still``, ``Segmentation.kept``) and ``age`` (frames since)."""

    view: StillView
    low: np.ndarray
    high: np.ndarray
    id: int
    age: int = 0

    @classmethod
    def of(cls, view: StillView) -> "StillAnchor":
        return cls(view, cv2.erode(view.fine, _STILL_KERNEL), cv2.dilate(view.fine, _STILL_KERNEL),
                   _STILL_BASE + next(_STILL_IDS), 0)

    def older(self) -> "StillAnchor":
        return replace(self, age=self.age + 1)


def still_shift(anchor: StillAnchor | None, view: StillView) -> tuple[int, int] | None:
    """How far (``dx, dy``, frame pixels) the view moved since ``anchor`` where nothing else changed, so
    that the anchor's reading, moved by as much, stands for this frame; None where it does not (whatever
    the anchor's age: the caller checks it)."""
    found = still_compare(anchor, view)
    return found[:2] if found is not None and found[2] else None


def still_compare(anchor: StillAnchor | None, view: StillView) -> tuple[int, int, bool] | None:
    """``(dx, dy, still)``: how far (frame pixels) the view moved since ``anchor`` where this frame still
    shows the anchor's view (the phase correlation matches, ``MIN_MATCH``), and whether nothing else
    changed (the shift within ``MAX_SHIFT`` and no window changed: :func:`still_shift`); None where it
    shows another view. A frame of the anchor's view that changed is read whole, and its reading may be
    compared with the anchor's, moved by ``dx, dy`` (``Segmentation.changes``)."""
    if anchor is None or anchor.view.shape != view.shape or anchor.view.fine.shape != view.fine.shape \
            or min(view.coarse.shape) < 2 * CARRY_CELL:
        return None
    coarse = view.coarse
    (sx, sy), match = cv2.phaseCorrelate(anchor.view.coarse, coarse, _window(coarse.shape[1], coarse.shape[0]))
    if not match >= MIN_MATCH:
        return None
    scale = view.scale * CARRY_ALIGN_SHRINK
    moved = int(round(sx * scale)), int(round(sy * scale))
    if max(abs(sx), abs(sy)) * scale > MAX_SHIFT * min(view.shape):
        return (*moved, False)
    fine = view.fine
    sx, sy = sx * CARRY_ALIGN_SHRINK, sy * CARRY_ALIGN_SHRINK  # in fine pixels
    back = cv2.warpAffine(fine, np.float32([[1, 0, -sx], [0, 1, -sy]]), (fine.shape[1], fine.shape[0]),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Both ways: ink come (darker than all the anchor held around it) and ink gone (the anchor darker
    # than all this frame holds around it).
    changed = cv2.max(cv2.max(cv2.subtract(anchor.low, back), cv2.subtract(back, anchor.high)),
                      cv2.max(cv2.subtract(cv2.erode(back, _STILL_KERNEL), anchor.view.fine),
                              cv2.subtract(anchor.view.fine, cv2.dilate(back, _STILL_KERNEL))))
    edge = int(np.ceil(max(abs(sx), abs(sy)))) + CARRY_REACH + 1  # what came into view is left out
    changed = changed[edge: fine.shape[0] - edge, edge: fine.shape[1] - edge]
    rows, cols = changed.shape[0] // CARRY_CELL, changed.shape[1] // CARRY_CELL
    if rows < 2 or cols < 2:
        return (*moved, False)
    over = cv2.compare(changed[: rows * CARRY_CELL, : cols * CARRY_CELL], CARRY_GREY, cv2.CMP_GT)  # 0 or 255
    # Changed pixels per cell (a block mean of 0 and 255 at an integer factor: 255 k / 64 rounded, one value
    # per count k), then per window of 2x2 cells.
    cells = np.rint(cv2.resize(over, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32)
                    * (CARRY_CELL * CARRY_CELL / 255.0)).astype(np.int32)
    windows = cells[:-1, :-1] + cells[1:, :-1] + cells[:-1, 1:] + cells[1:, 1:]
    if int(windows.max()) >= CARRY_PIXELS:
        return (*moved, False)
    return int(round(sx * view.scale)), int(round(sy * view.scale)), True

"""Cut candidate digits out of a camera frame: image in, ``Candidate`` list out.

The recipe, built to hold at every scale a camera sees (a 12 px digit in a phone photo of a
dense page, or one marker digit that fills the frame):

1. **Paper.** The paper's local brightness is a morphological closing of a shrunk frame with a
   window a quarter of the frame's shorter side: wider than any pen or marker stroke, so a stroke is
   never mistaken for paper, while the hard edge of a shadow survives a closing (a max filter
   alone would spread the lit side into the shade). In shade that the closing filled (a hand's
   fingers), the paper is a soft envelope of the light instead, which follows light that falls off
   no faster than a shadow's soft edge.
2. **Ink** is what is clearly darker than the paper around it, and fainter ink where it continues
   such ink (hysteresis; on a blurred page of pale ink, fainter and further, ``measure_pale_ink``, and where
   that blur is a camera's streak, the streak measured and taken out of the frame first: ``deblur.py``); where the "paper" is far darker than the page over a wide area and a step
   (the page's edge) leads into it, it is the table around the page, and nothing is ink there; deep
   shade that comes on softly is still paper. Nor is anything ink outside the page when a page lies on
   a table in view (``page.py`` finds it as the brightest large smooth region: a patterned, wood or
   cloth table is no paper).
3. **Lines** (``lines.py``). Ruled, grid and table lines, in both directions, sloping or bowed, are
   found once per frame and taken out where the ink is no thicker than the line; strokes of digits
   that crossed them stay, or are bridged again.
4. **Pieces.** Every piece of ink is one, also those inside the holes of another (a ring of table around
   the page, a printed table's net): a piece that holds writing in its holes, or is many digit heights
   tall, is no digit and owns none, so no one wrong piece can hide the page. A net the line search left
   in the mask (turned past its slope, blurred past its thickness) has its straight rules taken out at
   their own slope (``lines.take_out_nets``), so the digits written touching it are pieces again. Contours are grouped into
   digits (the detached bar of a 7, a broken stroke), filtered by size, shape, density, the paper on
   every side and the frame's edge, and normalised as MNIST does
   (``normalize_ink``): the mask, or for small writing out of focus the ink's darkness (``ink_crop``). A
   piece as wide as tall is also offered in two halves (touching digits), and so is a narrower one whose
   outline dips from the top and the bottom (two digits written into each other), one 1.4 times as wide or too wide
   for a digit (but as tall as writing) cut into up to four ("1000" in one stroke): at the columns with the
   least ink, along paths through the ink's thin places, and into equal widths (zeros run into each other like
   chain links): ``touching.py``. Wide
   pieces on a line (a minus, a dash) are kept as ``marks``: the reading stage ends a number there. Specks far smaller than the page's other pieces are dropped.

Pure functions. Live video may carry the paper estimate and the lines from frame to frame
(``vision.view``): that state is passed in and handed back (``segment(..., memory, remember)``), never
kept here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache, partial

import cv2
import numpy as np

from livedigits.vision.boxes import iou_matrix
from livedigits.vision.fields import comb_fields, find_fields, in_boxes, shifted
from livedigits.vision.labels import components
from livedigits.vision.lines import LineBands, column_rules, find_lines, line_lengths, shift_image, take_out_lines, take_out_nets
from livedigits.vision.view import CutAnchors, ViewMemory, view_shift
from livedigits.vision.anchors import ReuseConfig
from livedigits.vision.deblur import Blur, Defocus, measure_blur, noise_term, restore
from livedigits.vision.normalize import INK_BOX, normalize_ink
from livedigits.vision.page import NEIGHBOUR, PAGE_EDGE, PAGE_OPEN, closed_edges, find_page
from livedigits.vision.touching import (CUT_CHOICES, LOOP_SIDE, MAX_PARTS, NARROW_PAIR, ONE_EDGE, PAIR_HEIGHT, PAIR_NOTCH, RUN_PARTS, THIRDS_ASPECT, THREE_ASPECT, THREE_CHOICES, _THREE,
                                        _TWO, _WIDE, _bridged_loop_parts, _bridged_loops, _edge_halves, _even_halves, _even_ways, _halves, _loop_joins, _loop_parts, _loops, narrow_pair_ways, pair_notches,
                                        _split_touching, minus_head, MINUS_GATE)
from livedigits.types import Box, Candidate


@dataclass(frozen=True)
class SegmentConfig:
    """Named, documented knobs of the segmentation. Sizes are in source pixels unless said."""

    ink_contrast: float = 0.30
    """Ink must be at least this much darker than the local paper (0.3 = 30%). Faint ruled lines,
    pencil guide lines and text showing through from the back of the sheet stay below it; pen ink of
    any colour is far above."""
    faint_contrast: float = 0.22
    """Fainter ink (at least this much darker than the paper) counts where it continues clear ink..."""
    faint_reach: int = 6
    """... up to this many pixels from it (0: no hysteresis)."""
    background_side: int = 120
    """The paper brightness is estimated on a copy of the frame shrunk until its shorter side is about
    this many pixels (the light on a page changes slowly; this keeps the estimate cheap at any size)."""
    background_kernel: float = 0.25
    """Window of the closing that estimates the paper, as a share of the frame's shorter side. It must
    be wider than the thickest stroke: a quarter of the frame holds a marker digit that fills it."""
    shadow_edge: float = 0.04
    """The paper estimate follows light that falls off no faster than by half over this share of the
    frame's shorter side (0: a closing alone). A hand's or a page's soft shadow falls off more slowly (the
    stress generator's steepest halve the light over 4-5% of the frame), so its shade, however narrow (a
    finger), is paper; a pen stroke is far steeper, and is filled with the paper beside it."""
    min_paper: float = 0.45
    """Ink counts only where the local paper is at least this bright relative to the page's brightest
    (95th percentile): the dark table around the page, and its texture, are not paper."""
    table_width: float = 0.15
    """A dark area (darker than ``min_paper``) at least this share of the frame's shorter side wide in
    every direction is the table, not a stroke (a marker stroke of a digit filling the frame is
    narrower)."""
    min_height: int = 10
    """Smallest digit height in pixels that is still read (MNIST crops from 10 px are legible)."""
    max_height: float = 1.0
    """Largest digit height as a share of the frame height (1.0: a digit may fill the frame)."""
    min_area: int = 12
    """Components with fewer ink pixels are noise."""
    max_aspect: float = 2.0
    """Width / height above this is not a digit (dashes, ruled lines, words run together)."""
    min_density: float = 0.03
    """Ink pixels / box area below this is a loose scribble or a frame of lines (a hairline 0 is
    about 0.05)."""
    blob_density: float = 0.85
    """A box at least ``blob_aspect`` wide that is this full of ink is a solid blot, not writing (a bold 8
    can fill 75% of its box; rounder smudges are left to the classifier's not-a-digit class)."""
    blob_aspect: float = 0.45
    paper_margin: float = 0.25
    """Paper must extend this many digit heights beyond every side of a candidate's box that is inside
    the frame (beyond the frame's edge nothing is known, so nothing is asked)."""
    border_contact: float = 0.35
    """A piece touching the frame's edge is kept when the ink on that edge covers at most this share of
    the piece's extent along it: a digit grazing the edge, not one cut in half or the table's edge."""
    line_length: float = 0.12
    """Straight ink runs longer than this share of the frame (width for horizontal runs, height for
    vertical ones) can be ruled or grid lines..."""
    line_digits: float = 1.5
    """... and, when the writing's digit height is known, longer than this many digit heights (no stroke
    of a digit is)."""
    merge_gap: float = 0.2
    """A small piece within this share of a digit's height of its box is merged into it (a broken stroke)."""
    max_piece_height: float = 0.5
    """A piece beside a digit (not above or below it) and inside its padded box joins it when at most this
    share of the digit's height: the detached tail of a 1, not a second digit written close by."""
    min_piece_overlap: float = 0.5
    """... and if it overlaps the digit horizontally by this share of the narrower of the two."""
    split_aspect: float = 1.0
    """A candidate at least this wide for its height may be two touching digits: its two halves are read
    too, and win when the classifier is surer of them than of the whole."""
    pixels_per_candidate: int = 400
    """The candidate budget: at most one candidate per this many frame pixels (768 at 640x480), the
    largest first. It bounds the classifier's batch on a frame of noise; a dense page never reaches it,
    and when it bites ``Segmentation.dropped`` says how many were left out."""
    max_side: int = 2560
    """Frames larger than this are shrunk for segmentation, by the smallest whole factor that brings them
    to it (an 8K frame is read, not choked on; a 12 MP phone photo, halved to 2000 px, keeps its small
    writing legible)."""
    roi: tuple[int, int, int, int] | None = None
    """Optional region of interest ``(x, y, w, h)`` in source pixels; only ink inside it is read."""


DEFAULT_CONFIG = SegmentConfig()

#: A dark area of the frame is the table, not the page in shade, where it lies this far below the soft
#: envelope of the light (``SegmentConfig.shadow_edge``): a step. The table is darker than ``min_paper``
#: (0.45) of the page, so a pixel or two beyond the page's edge it is at most about half the envelope
#: (0.45 / 0.87); shade that falls off as softly as the envelope allows is the envelope (1). Between the
#: two, in ratio.
STEP_SHARE = 0.7
#: The paper estimate takes the soft envelope instead of the closing where the envelope is darker by more
#: than a tenth: a shadow (the generator's are 35-65% darker). A smaller difference is not worth
#: following: it costs a third of the ink contrast's margin at most, and the envelope dips a little
#: under dense writing, where every point of sensitivity counts for a blurred or pale stroke.
SHADE_SHARE = 0.9
#: The soft envelope is built on brightness in logarithms, this many uint8 steps a halving (8 halvings
#: from 255 to 1 fill 0-255): the light's fall per pixel (a fifth of a halving at 640x480) is a whole
#: number of steps to within a few percent.
LOG_STEPS = 32
_LOG = np.clip(np.round(LOG_STEPS * np.log2(np.maximum(np.arange(256), 1))), 0, 255).astype(np.uint8)
_EXP = np.clip(np.round(2.0 ** (np.arange(256) / LOG_STEPS)), 0, 255).astype(np.uint8)
#: The cone reaches this many halvings of the light far: beyond, the paper it carries is darker than a
#: quarter of itself, below any ink threshold that matters.
CONE_HALVINGS = 2.0
#: Rows of the pieces-by-pieces matrix built at a time when merging strokes (bounds its memory).
MERGE_BLOCK_ROWS = 512
#: A speck or short piece joins a digit when at least this share of it lies in the digit's padded box.
MIN_INSIDE_SHARE = 0.6
#: Up to this many item-root pairs, matching is done as one matrix; above it (noise, texture), by columns.
FULL_MATRIX_LIMIT = 200_000
#: A mask of more pieces than this (faint grid lines broken up by the threshold, texture) is searched
#: for lines everywhere, not only around long pieces.
MANY_PIECES = 300
#: A piece more than this many of the writing's digit heights tall (or as wide, and not flat) is no digit
#: (digits of one hand differ in height far less; two digits whose ink touches are about two wide).
TOO_BIG = 4.0
#: On a page of three pieces or more, a piece less than this share of their median height is a speck,
#: a dot or a decimal point, not a digit of the same hand (digits of one writer differ in height by
#: far less than three to one; a lone small digit in a big empty frame is a page of one piece).
SPECK_SHARE = 0.3
#: A piece whose outer contour encloses less than this many pixels per pixel of its height is a hairline, a
#: stroke one pixel wide (its contour runs out and back along the same pixels, enclosing nearly nothing; a
#: stroke two pixels wide encloses about one pixel per row): the writing's height is measured without
#: hairlines where pieces with a wider stroke are there (``_digit_height``).
HAIRLINE_AREA = 0.5
#: On live video, frames after the anchor read no ink within this share of the frame's shorter side of the
#: page's edge (1%: 5 px at 640x480): the paper estimate carried over is placed to within a pixel or two
#: (``Paper.guarded``). The anchor frames, every few frames, read up to the edge.
PAGE_EDGE_GUARD = 0.01


def to_gray(image: np.ndarray) -> np.ndarray:
    """Any uint8/uint16 image with 1, 3 or 4 channels -> 2-D uint8 gray."""
    if image.dtype != np.uint8:
        if image.dtype == np.uint16:
            image = (image >> 8).astype(np.uint8)
        elif np.issubdtype(image.dtype, np.floating):
            image = np.clip(image * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        else:
            image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}")


@dataclass(frozen=True)
class Paper:
    """The paper under the ink of one frame, at the working size: what :func:`ink_against` measures ink
    against. Made by :func:`estimate_paper`; on live video carried to the next frames of the same view
    (``vision.view``), moved with it by :meth:`shifted`."""

    limit: np.ndarray
    """uint8, the frame's size: the clear-ink threshold, the local paper's brightness times
    ``1 - ink_contrast`` (0 off the paper: the table around it)."""
    faint: np.ndarray | None
    """uint8, the frame's size: the faint-ink threshold (``faint_contrast``), or None without hysteresis."""
    inside: np.ndarray
    """uint8, shrunk by ``scale``: 1 well inside the page."""
    scale: int
    """Working pixels per pixel of ``inside``."""
    grain: float = 0.0
    """The photo's grain, in grey levels (:func:`measure_grain`): about the standard deviation of the sensor
    noise on the paper; 1-5 on a phone's or a webcam's picture, 10 and more on a dim, noisy one."""

    def shifted(self, dx: int, dy: int) -> "Paper":
        """The same paper, ``dx`` pixels right and ``dy`` down (the view moved so)."""
        if not (dx or dy):
            return self
        return Paper(shift_image(self.limit, dx, dy), None if self.faint is None else shift_image(self.faint, dx, dy),
                     shift_image(self.inside, int(round(dx / self.scale)), int(round(dy / self.scale))), self.scale,
                     self.grain)

    def guarded(self, margin: int) -> "Paper":
        """The same paper with no ink threshold within ``margin`` pixels of where there is none (the table
        around the page). Carried to later frames, the estimate is moved by the view's measured shift,
        which is off by a pixel or two when the page also turns or the camera zooms: the dark table
        beside the page's edge would then be read as a long line of ink."""
        if margin < 1:
            return self
        off = cv2.dilate(cv2.compare(self.limit, 0, cv2.CMP_EQ),
                         cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1, 2 * margin + 1)))
        keep = cv2.bitwise_not(off)
        return Paper(cv2.bitwise_and(self.limit, keep), None if self.faint is None else cv2.bitwise_and(self.faint, keep),
                     self.inside, self.scale, self.grain)


def shrink_for_paper(gray: np.ndarray, config: SegmentConfig) -> tuple[np.ndarray, int]:
    """The frame shrunk by the whole factor that brings its shorter side to about ``background_side``
    (a block mean: the last few rows and columns that do not make a whole block are left out), and that
    factor. The paper is estimated on it, and live video compares views on it (``vision.view``)."""
    h, w = gray.shape
    scale = max(1, min(h, w) // max(1, config.background_side))
    small_w, small_h = max(1, w // scale), max(1, h // scale)
    if scale > 1 and small_w * scale <= w and small_h * scale <= h:
        gray = gray[: small_h * scale, : small_w * scale]
    return cv2.resize(gray, (small_w, small_h), interpolation=cv2.INTER_AREA), scale


def _shaded_paper(border: np.ndarray, not_paper: np.ndarray, step: np.ndarray, brightest: np.ndarray) -> np.ndarray:
    """The dark areas of the shrunk frame (``not_paper``, bool) that are the page in shade: no ``step``
    down into them (the envelope of the light falls no faster there than a shadow's edge does), reached from the
    page's ``brightest`` paper without crossing a step.

    The sheet's border parts the dark areas first, also where a shade or a hand's shadow darkens the page's corner
    and the table beyond it alike: there the envelope, followed down into the shade, finds no step along the edge,
    and the corner and the shaded table were one dark area that the table's step made all table (``mixed`` seed 93:
    47 of its 285 digits off the paper found). The border is an edge in the logarithm of the brightness
    (``border``, bool: ``page.closed_edges`` over ``page.PAGE_EDGE``; paper against a table is a step of 0.3 or more,
    a shadow's soft edge under 0.1 a pixel, the writing closed away first). Neither the steps nor those edges are crossed
    on the way from the brightest paper. The edge pixels themselves go with what they lie in: one beside shaded paper
    is paper (the rim of a shaded area), and so is a cluster of them that touches shaded paper and no dark area with
    a step (a bold stroke's edge that the closing left, in deep shade); the others stay table (the border between the
    page's corner and the table beyond it)."""
    parts = not_paper & ~border
    count, labels = cv2.connectedComponents(parts.astype(np.uint8), connectivity=8)
    table = _labelled(labels, count, step & parts)
    if (table == parts).all():  # every dark area has a step into it
        return np.zeros_like(not_paper)
    barrier = step | border
    count, smooth = cv2.connectedComponents((~barrier).astype(np.uint8), connectivity=4)
    shaded = parts & ~table & _labelled(smooth, count, brightest & ~barrier)
    bits = not_paper & border
    ring = np.ones((3, 3), np.uint8)
    beside_shade = cv2.dilate(shaded.astype(np.uint8), ring).astype(bool) & bits
    beside_table = cv2.dilate(table.astype(np.uint8), ring).astype(bool) & bits
    count, labels = cv2.connectedComponents(bits.astype(np.uint8), connectivity=8)
    return shaded | beside_shade | (_labelled(labels, count, beside_shade) & ~_labelled(labels, count, beside_table))


def _stepped_fill(filled: np.ndarray, step: np.ndarray, border: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Of the areas the paper's closing ``filled`` (bool), those that are a stroke or the table and keep the closing:
    an area with a ``step`` down into it (or beside it), but not the page's shade that a step reaches only across the
    sheet's ``border`` (bool: ``page.closed_edges`` over ``page.PAGE_EDGE``).

    A hand's shadow falling across the page and on over the table beyond its edge is one filled area, page and
    table; the table's step at the page's edge made all of it "stepped", and the page's shade kept the closing (the
    paper beside the shadow): it was ink, one blob that swallowed the digits in it (``mixed`` seed 9: 12 of its 23
    digits). Parted at the border, the page's part has no step of its own. It is shade where it is no smaller than
    ``find_page``'s opening (``page.PAGE_OPEN``: the bits of table and rim that edges part off along a page's border
    are smaller). A part reaching the frame's edge may be the strip of table between the page's edge and the
    frame's, parted from its step at the page's edge as well (``cloth`` seed 94: its cloth above the page, 23
    detections in the weave when taken for shade): it is shade only where a part beside it across the border (within
    ``page.NEIGHBOUR`` px), the same shadow on the table, is darker (its median in ``small``, the shrunk frame), for
    the table is darker than the page (``mixed`` seed 9's shadow runs off the frame's top on the page). The border's
    own pixels beside the shade (and beside no part with a step) are its rim."""
    count, labels = cv2.connectedComponents(filled.astype(np.uint8), connectivity=8)
    near_step = cv2.dilate(step.astype(np.uint8), None).astype(bool)
    stepped = _labelled(labels, count, near_step & filled)
    parts = stepped & ~border
    count, labels = cv2.connectedComponents(parts.astype(np.uint8), connectivity=8)
    own_step = _labelled(labels, count, near_step & parts)
    side = max(3, int(round(min(filled.shape) * PAGE_OPEN)))
    wide = cv2.morphologyEx((parts & ~own_step).astype(np.uint8), cv2.MORPH_OPEN, np.ones((side, side), np.uint8)) > 0
    if not wide.any():
        return stepped
    shade = _labelled(labels, count, wide)
    rim_of_frame = np.zeros_like(parts)
    rim_of_frame[[0, -1], :] = rim_of_frame[:, [0, -1]] = True
    near = np.ones((2 * NEIGHBOUR + 1, 2 * NEIGHBOUR + 1), np.uint8)
    for i in np.unique(labels[shade & rim_of_frame]).tolist():
        # Reaching the frame's edge: perhaps the table between the page's edge and the frame's. The page's only
        # where a part across the border, in the same shadow, is darker (the table is darker than the page).
        part = labels == i
        own = float(np.median(small[part]))
        beyond = np.unique(labels[cv2.dilate(part.astype(np.uint8), near).astype(bool) & parts & ~part]).tolist()
        if not any(float(np.median(small[labels == j])) < own for j in beyond):
            shade &= ~part
    if not shade.any():
        return stepped
    ring = np.ones((3, 3), np.uint8)
    bits = stepped & border
    beside_shade = cv2.dilate(shade.astype(np.uint8), ring).astype(bool) & bits
    beside_step = cv2.dilate(own_step.astype(np.uint8), ring).astype(bool) & bits
    count, labels = cv2.connectedComponents(bits.astype(np.uint8), connectivity=8)
    rim = _labelled(labels, count, beside_shade) & ~_labelled(labels, count, beside_step)
    return stepped & ~shade & ~rim


def estimate_paper(gray: np.ndarray, config: SegmentConfig, small: np.ndarray | None = None) -> Paper:
    """The paper's local brightness under the frame ``gray``, and where the page is. ``small``: the
    frame's :func:`shrink_for_paper`, when the caller has it already."""
    h, w = gray.shape
    scale = max(1, min(h, w) // max(1, config.background_side))
    if small is None:
        small, scale = shrink_for_paper(gray, config)
    small_h, small_w = small.shape
    k = max(3, int(min(small_w, small_h) * config.background_kernel) | 1)
    # A closing (max filter, then min filter) fills every dark stroke narrower than k with the paper
    # around it, and keeps the step of a hard shadow edge where it is.
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    # ... but it also fills a shadow narrower than k with the light around it (the fingers of a hand's
    # shadow, all ink then): in shade, the paper is the soft envelope, which follows it.
    paper, step = closed, None
    page_view = closed_edges(small)  # the sheet's border, for the shade (``_stepped_fill``, ``_shaded_paper``) and the page
    if config.shadow_edge > 0:
        fine, envelope = _soft_envelope(small, config.shadow_edge, k // 2)
        # The light falls off faster than any shadow's edge into these pixels: a step (the page's edge,
        # the edge of a marker stroke wider than the envelope's first closing).
        step = fine < STEP_SHARE * envelope.astype(np.float32)
        # Where the closing is clearly brighter than the envelope, it filled something: a shadow narrower
        # than k, or a stroke, or a strip of table. Each such area with a step at its edge is a stroke or
        # the table, and keeps the closing (a stroke is filled; a strip of table stays as it was); the
        # others are shade, and take the envelope, and so does the page's part of a shadow that goes on
        # over the table beyond the page's edge (parted at the sheet's border: ``_stepped_fill``).
        filled = (closed.astype(np.float32) * SHADE_SHARE > envelope).astype(np.uint8)
        if filled.any():
            stepped = _stepped_fill(filled > 0, step, page_view[1] > PAGE_EDGE, small)
            paper = np.where(stepped | (filled == 0), closed, envelope)
    # Smooth, then take the darker neighbour: blown up to full size, the estimate ramps across a shadow's
    # edge over a few pixels, and that ramp must fall on the lit side (where it only costs a little
    # sensitivity), not on the shaded side (where it would make a line of false ink).
    paper = cv2.erode(cv2.blur(paper, (3, 3)), cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    # Where the frame is much darker than the page over an area wider than any stroke, it is the table
    # around the page: no ink threshold there. Judged on the closing, in which no stroke is left (the
    # envelope dims the middle of a wide one).
    brightest = float(np.percentile(closed[::2, ::2], 95))
    dark = cv2.compare(small, brightest * config.min_paper, cv2.CMP_LT)
    wide = max(3, int(min(small_w, small_h) * config.table_width) | 1)
    table = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (wide, wide)))
    not_paper = (closed < brightest * config.min_paper) | (table != 0)
    if step is not None and not_paper.any():
        # ... unless it is the page in shade. The table meets the page at a step (its edge); shade comes
        # softly, as the envelope follows it: a dark area with no step down into it, that the page's
        # brightest paper reaches without crossing a step, is shaded paper (a dark knot in a wood table
        # has no step around it either, but the table's edge lies between it and the page).
        not_paper &= ~_shaded_paper(page_view[1] > PAGE_EDGE, not_paper, step, closed >= brightest)
    on_paper = (~not_paper).astype(np.uint8)
    on_paper = _on_the_page(small, on_paper, config, page_view)
    paper[on_paper == 0] = 0
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    # ink where gray < paper * (1 - contrast); computed in integers for speed.
    limit = cv2.multiply(paper, np.full_like(paper, 1), scale=1.0 - config.ink_contrast)
    inside = cv2.erode(on_paper, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    faint = None
    if config.faint_contrast < config.ink_contrast and config.faint_reach > 0:
        faint = cv2.multiply(paper, np.full_like(paper, 1), scale=1.0 - config.faint_contrast)
    return Paper(limit, faint, inside, scale, measure_grain(gray))


#: The grain is measured on every this many rows of the working frame (45 of 720): noise is the same all over a
#: photo, and one row in eight holds tens of thousands of pixels.
GRAIN_ROW_STEP = 8
#: A pixel's second difference along its row (``2 p - left - right``), of pure noise of standard deviation s,
#: has a median size of 0.674 * sqrt(6) s, about 1.65 s.
_GRAIN_SPREAD = 0.674 * 6 ** 0.5
_SECOND_DIFFERENCE = np.array([[-1, 2, -1]], np.float32)


def measure_grain(gray: np.ndarray) -> float:
    """The grain of the photo ``gray`` (uint8, the working frame), in grey levels: the median size of each pixel's
    second difference along its row, over every ``GRAIN_ROW_STEP``-th row, as the standard deviation of pure noise
    that gives it. Paper fills most of a page's photo, and there the second difference is the noise alone (the
    light changes over tens of pixels, not three); ink, rulings and the table's texture are a minority of the
    pixels, above the median. About 0.1 ms on a 960x720 frame."""
    rows = np.ascontiguousarray(gray[::GRAIN_ROW_STEP])
    if rows.shape[1] < 3:
        return 0.0
    steps = cv2.convertScaleAbs(cv2.filter2D(rows, cv2.CV_16S, _SECOND_DIFFERENCE))  # |2p - l - r|, saturated at 255
    counts = cv2.calcHist([steps], [0], None, [256], [0, 256]).ravel().cumsum()
    return float(np.searchsorted(counts, counts[-1] / 2.0)) / _GRAIN_SPREAD


def _labelled(labels: np.ndarray, count: int, seeds: np.ndarray) -> np.ndarray:
    """The pixels whose component (``labels``, ``count`` labels, 0 = none) holds one of ``seeds``."""
    hit = np.zeros(count, bool)
    hit[labels[seeds]] = True
    hit[0] = False
    return hit[labels]


def _soft_envelope(small: np.ndarray, edge: float, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """``small`` closed over a shadow's soft edge (no stroke left in it), and the brightest the paper can
    be at each pixel of it if light falls off no faster than by half over ``edge`` of its shorter side:
    its upper envelope under a cone (a max-plus dilation, in logarithms, one ring of pixels at a time,
    at most ``reach`` rings). A shadow whose light falls off more slowly is followed down into its
    shade, however narrow it is (the fingers of a hand)."""
    width = edge * min(small.shape)
    fall = float(2.0 ** (-1.0 / max(1e-6, width)))  # the light's least ratio per pixel
    # Nothing narrower than a shadow's soft edge is a shadow: close it first, so that pen strokes (and
    # blurred or pale ones, which the cone would half follow) leave no dip in the envelope.
    side = max(3, int(round(width)) | 1)
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))
    # In logarithms (uint8, LOG_STEPS a halving) the cone is a dilation minus a constant per ring:
    # integer passes on the shrunk frame, a few microseconds each.
    drop = max(1, int(round(-np.log2(fall) * LOG_STEPS)))
    envelope = cv2.LUT(small, _LOG)
    ring = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    for _ in range(max(1, min(reach, int(np.ceil(CONE_HALVINGS * width))))):
        cv2.max(envelope, cv2.subtract(cv2.dilate(envelope, ring), drop), dst=envelope)
    return small, cv2.LUT(envelope, _EXP)


def ink_against(gray: np.ndarray, paper: Paper) -> tuple[np.ndarray, np.ndarray | None]:
    """The clear ink mask (uint8, 255 = ink) of ``gray`` against ``paper``, and the faint ink mask (None
    without hysteresis)."""
    faint = None if paper.faint is None else cv2.compare(gray, paper.faint, cv2.CMP_LT)
    return cv2.compare(gray, paper.limit, cv2.CMP_LT), faint


#: Faint ink continues clear ink where it is darker than the paper by at least this share of the contrast of
#: the page's clearest ink (``CLEAREST``), when that is below ``SegmentConfig.faint_contrast``. A thin stroke
#: out of focus or smeared by motion is at best 40-60% darker than the paper where it is darkest, against
#: 55-90% when sharp: its fading edges, that the default faint level cuts off, still count. Pen ink whose
#: clearest is 0.73 or darker keeps ``faint_contrast`` (0.22 = 0.3 x 0.73).
FAINT_SHARE = 0.3
#: The page's clearest ink is the contrast that this share of its clear ink pixels reach or exceed.
CLEAREST = 0.1
#: ... and the faint level never falls below this contrast: paper grain, JPEG ringing and the soft light are
#: a few percent. (It sets the reach; a page read with no blur taken out follows its ink down to ``PALE_FOLLOW`` of
#: its clearest ink at that reach, to ``PALE_FLOOR`` at the lowest.)
MIN_FAINT = 0.12
REACH_POWER = 2
#: Pale ink is followed further only where its edges are soft: the median step across the clear ink's edge
#: (the larger central difference, over the paper) below this. Out of focus or smeared, the stress
#: generator's pages measure 0.07-0.32 (20 seeds), sharp ones 0.27-0.67 (a plain page) and 0.14-0.62 (a dense
#: page of 12-20 px digits, where the skirt of one digit would join it to the next).
BLURRED_EDGE = 0.2
#: A page of pale ink whose edges are a little sharper than that, up to this, is measured for a streak only
#: (``deblur.measure_blur``): a short streak (5-8 px) across dark grey ink leaves its edges along the streak
#: sharp, and the median edge at 0.21-0.24 (``blur`` seeds 0-39: 3, 8, 12, 31, 33, 38); a plain page's measure
#: 0.27 and more. Found no streak, such a page is read as it is (no defocus, no lower faint level): sharp pages
#: of small digits measure as low (``dense``, from 0.14).
STREAK_EDGE = 0.24
#: A page of pale ink read with no blur taken out (its faint level lowered, its reach longer) keeps its faint level at
#: least this many grains (``Paper.grain``, over the paper's brightness under the clear ink) darker than the paper
#: (``_above_grain``), or is read at the usual level where that is no lower. The grain is about the noise's standard
#: deviation, and a faint level two of them below the paper takes one pixel of bare paper in 40 for ink (Gaussian
#: tail), which the longer reach of pale ink then joins into a web over the whole page (a sharp page of blue ink on
#: blue paper under 18 grey levels of grain, the pale-ink rule fired by the edges the noise frays: other hands
#: ``mixed`` seed 14, 7% of 81 digits found); three take one in 700. Photos without sensor noise (grain 0-5.5 on
#: 150-230 grey paper) stay at ``MIN_FAINT``.
GRAIN_FAINT = 3.0
#: On a photo with this much grain or more (``Paper.grain``, grey levels) the edges and the blur are measured on the
#: photo smoothed by a 3x3 median (``measure_pale_ink``). Pages drawn without sensor noise measure 0-5.5, with it
#: 10-21 (``GRAINY``).
SMOOTH_GRAIN = 8.0


def _edge_sharpness(gray: np.ndarray, paper: Paper, clear: np.ndarray, config: SegmentConfig) -> float:
    """How sharp the clear ink's edges are: the median, over its edge pixels, of the larger of the two
    central differences of ``gray`` across them, as a share of the paper there (0: no step at all)."""
    edge = cv2.subtract(clear, cv2.erode(clear, None))
    ys, xs = np.nonzero(edge[1:-1, 1:-1])
    if not len(ys):
        return 1.0
    ys, xs = ys + 1, xs + 1
    g = gray.astype(np.int16)
    step = np.maximum(np.abs(g[ys, xs + 1] - g[ys, xs - 1]), np.abs(g[ys + 1, xs] - g[ys - 1, xs]))
    under = paper.limit[ys, xs].astype(np.float32) / (1.0 - config.ink_contrast)
    return float(np.median(step / np.maximum(under, 1.0)))


@dataclass(frozen=True)
class PaleInk:
    """What :func:`measure_pale_ink` found on a page of pale, blurred ink: how faint its followed ink may be,
    and how far it is followed. Carried with the paper estimate across the frames of one view
    (``ViewMemory.pale``)."""

    share: float
    """The faint level, as a share of the local paper's brightness (below ``faint_contrast``)."""
    reach: int
    """The hysteresis reach in pixels (above ``faint_reach``)."""
    blur: Blur | Defocus | None = None
    """The page's blur, a streak or defocus (``deblur.measure_blur``), taken out of the frame before its ink is found
    (``deblur.restore``); the restored page is read with the usual faint level and reach."""
    thin: bool = False
    """A thin pen's sharp strokes (``_thin_strokes``): its lines are looked for at the usual faint level."""
    follow: float | None = None
    """With no blur taken out: the lower level (a share of the paper, ``PALE_FOLLOW``) the faint ink is followed down
    to on a frame where no line is found (None: ``share``)."""


def measure_pale_ink(gray: np.ndarray, paper: Paper, clear: np.ndarray, config: SegmentConfig) -> PaleInk | None:
    """On a page of pale ink (blur), a lower faint level (``FAINT_SHARE`` of the page's clearest ink) reached
    farther (a blurred stroke's skirt widens as its contrast falls: the reach grows with the square of the
    level's fall); None on any other page, or without hysteresis. A page whose edges are only a little soft
    (below ``STREAK_EDGE``) is kept only where a streak is measured on it, to be taken out. Measured on the clear ink
    pixels of ``gray`` against ``paper`` (:func:`_pale_ink_of`); where those fail the tests a printed word's ink fails
    (:func:`_print_like`), on the writing's alone, where the page's ink is mostly not writing (:func:`_writing_pale`).
    This is the dear part (about a quarter of a millisecond at 960x720, and a labelling of the faint ink on a page
    that is not pale): live video measures it on the anchor frame only."""
    if paper.faint is None:
        return None
    edge = cache(partial(_edge_sharpness, gray, paper, clear, config))  # measured once for both tests
    pale = _pale_ink_of(gray, paper, clear, config, edge=edge)
    if pale is None and _print_like(gray, paper, clear, config, edge):
        pale = _writing_pale(gray, paper, clear, config)
    return pale


def _print_like(gray: np.ndarray, paper: Paper, clear: np.ndarray, config: SegmentConfig,
                edge: Callable[[], float]) -> bool:
    """Whether the ``clear`` ink fails the pale-ink tests that a printed word's ink fails, whatever the writing beside
    it: its clearest ink too dark (``FAINT_SHARE`` of it at or over ``faint_contrast``), or its edges too sharp
    (``STREAK_EDGE``; ``edge`` returns :func:`_edge_sharpness` of these arguments, measured once). (Its grain, a
    property of the photo, is no print's.)"""
    faint = _faint_share(gray, paper, clear, config)
    return faint is not None and (faint[0] >= config.faint_contrast or edge() >= STREAK_EDGE)


def _writing_pale(gray: np.ndarray, paper: Paper, clear: np.ndarray, config: SegmentConfig) -> PaleInk | None:
    """:func:`_pale_ink_of` the writing alone: the ``clear`` pixels of the faint ink's pieces shaped like digits
    (``_writing_of``), its streak or defocus measured on those pieces too; None where they are most of the page's ink
    (the whole ink's measure is theirs) or hold no clear pixel. A page whose clearest ink, sharpest edges and widest
    strokes are a printed word's (a form's label, a heading) is not measured pale on its whole ink, however pale and
    soft the handwriting beside it: other hands ``mixed`` seed 47, "788" and "105" in pale blue under a streak beside a
    printed "Remarks:", whose edges measure 0.30 (sharp) on the whole ink and 0.11 on the writing's. Not on a page
    whose faint ink holds a ruling or a net (:func:`_ruled_or_netted`: a ``grid`` page's writing measured pale alone was
    joined to its grid at that level). Here the writing alone also says whether the page is blurred: its whole ink,
    the print's, said it is not pale at all (docs/stress.md, "Where ``mixed`` 0-99 loses its digits, session 27; pale
    writing measured on its own pieces")."""
    ink, longest = cv2.compare(gray, paper.faint, cv2.CMP_LT), int(config.line_length * min(gray.shape))
    _, labels, stats, _ = components(ink)
    if _ruled_or_netted(stats[1:, :4], ink.shape, config):
        return None
    writing = _writing_in(ink.shape, labels, stats, config, longest)
    if writing is None:
        return None
    kept = cv2.bitwise_and(clear, writing)
    return _pale_ink_of(gray, paper, kept, config, writing) if cv2.countNonZero(kept) else None


def _ruled_or_netted(boxes: np.ndarray, shape: tuple, config: SegmentConfig) -> bool:
    """Whether one of the pieces ``boxes`` (x, y, w, h rows) of a mask of ``shape`` is a ruling (as long as a line,
    ``_as_long_as_a_line``, and thinner than a digit, ``min_height``) or a net (as long as a line both ways: a grid,
    a table): the ink a lowered faint level joins to the writing (``PALE_FOLLOW``)."""
    h, w = shape[:2]
    wide, tall = boxes[:, 2] >= w * config.line_length, boxes[:, 3] >= h * config.line_length
    thin = np.minimum(boxes[:, 2], boxes[:, 3]) < config.min_height
    return bool(((wide | tall) & thin).any() or (wide & tall).any())


def _pale_ink_of(gray: np.ndarray, paper: Paper, clear: np.ndarray, config: SegmentConfig,
                 writing: np.ndarray | None = None, edge: Callable[[], float] | None = None) -> PaleInk | None:
    """The pale-ink measure of :func:`measure_pale_ink` on the ink pixels ``clear``: with ``writing`` (the mask of the
    pieces ``clear`` was cut to, :func:`_writing_pale`), the blur is measured on those pieces alone; ``edge``, where
    given, returns :func:`_edge_sharpness` of these arguments (measured once, :func:`_soft_edges`)."""
    faint = _faint_share(gray, paper, clear, config)
    if faint is None or faint[0] >= config.faint_contrast:
        return None
    share, clearest = faint
    inked = clear > 0
    pale = _soft_edges(gray, paper, clear, config, share, writing, edge)
    if paper.grain >= SMOOTH_GRAIN and (pale is None or pale.blur is None):
        # The grain is steps of its own at every pixel: they sharpen the edges measured and drown a streak's dip
        # in the gradients' autocorrelation. On the photo smoothed a pixel either way, a blur measured is taken
        # out (with the filter's noise term for that grain, ``deblur.noise_term``); the smoothed photo passing
        # the edge test alone (a sharp noisy page of pale ink) changes nothing.
        smoothed = _soft_edges(cv2.medianBlur(gray, 3), paper, clear, config, share, writing)
        if smoothed is not None and smoothed.blur is not None:
            return smoothed
    if pale is None and paper.grain < SMOOTH_GRAIN:
        # (On a grainy photo the noise frays the clear ink into bits as thin as any pen's: its width tells nothing.)
        pale = _thin_strokes(clear, config, share)
    if pale is not None and pale.blur is None and paper.grain > 0:
        pale = _above_grain(pale, paper, inked, config)
    if pale is not None and pale.blur is None:
        # No blur taken out: the pale strokes are followed down to their own faintest stretches (``PALE_FOLLOW``),
        # where that lies clear of the grain: a level the grain sets (``_above_grain``) is at the noise's edge
        # already, and lower the noise joins the writing.
        follow = max(PALE_FLOOR, PALE_FOLLOW * clearest)
        if GRAIN_FAINT * paper.grain / _paper_under(paper, inked, config) < follow < pale.share:
            pale = replace(pale, follow=follow)
    return pale


def _faint_share(gray: np.ndarray, paper: Paper, clear: np.ndarray, config: SegmentConfig
                 ) -> tuple[float, float] | None:
    """The faint level the ``clear`` ink's clearest pixels set (``FAINT_SHARE`` of their contrast, at least
    ``MIN_FAINT``) and that contrast (:func:`_clearest`); None where ``clear`` holds no ink."""
    inked = clear > 0
    if not inked.any():
        return None
    # Gray over the paper under it (limit / (1 - ink_contrast)), at the clearest pixels.
    ratio = gray[inked].astype(np.float32) * (1.0 - config.ink_contrast) / np.maximum(paper.limit[inked], 1)
    clearest = _clearest(ratio)
    return max(MIN_FAINT, FAINT_SHARE * clearest), clearest


def _clearest(ratio: np.ndarray) -> float:
    """The contrast of the clearest ink: ``CLEAREST`` of the pixels (``ratio``: grey over the paper's limit, scaled
    so that 1 is the paper) reach it or more."""
    at = int(CLEAREST * (len(ratio) - 1))
    return 1.0 - float(np.partition(ratio, at)[at])


def _paper_under(paper: Paper, inked: np.ndarray, config: SegmentConfig) -> float:
    """The paper's brightness under the clear ``inked`` pixels (their median), at least 1."""
    return max(float(np.median(paper.limit[inked])) / (1.0 - config.ink_contrast), 1.0)


def _above_grain(pale: PaleInk, paper: Paper, inked: np.ndarray, config: SegmentConfig) -> PaleInk | None:
    """``pale``, a page whose faint level is lowered with no blur taken out, with that level kept ``GRAIN_FAINT``
    grains above the paper (its brightness under the clear ``inked`` pixels, their median): None where that is
    no lower than the usual faint level. A page restored is not asked (its ink is sharp again, and read at the
    usual level)."""
    floor = GRAIN_FAINT * paper.grain / _paper_under(paper, inked, config)
    if pale.share >= floor:
        return pale
    if floor >= config.faint_contrast:
        return None
    reach = pale.reach if pale.thin else int(round(config.faint_reach * (config.faint_contrast / floor) ** REACH_POWER))
    return replace(pale, share=floor, reach=reach)


#: A page of pale ink read with no blur taken out (a thin pen's, or pale ink out of focus that no blur measured explains)
#: follows its faint ink down to this share of its clearest ink (``CLEAREST``), not ``FAINT_SHARE`` of it, at the reach
#: that ``FAINT_SHARE`` gives: a thin pen's stroke is darkest where the pen crossed itself or slowed (the clearest
#: ink), and a stretch drawn once and fast keeps a third of that or less (``thin`` seed 54: the diagonal of a 2 at
#: 0.08-0.16 below the paper, the page's clearest 0.46; at the level 0.14 the 2 was two bits). On ``thin`` seeds 0-99
#: (1875 digits; 1741 found at 0.3 and 0.12), with ``PALE_FLOOR``: 0.1 and 0.08 found 1779, 0.15 and 0.08 1780, 0.2
#: and 0.08 1765 (0.15 with floors of 0.06 and 0.1: 1778 and 1775). Lower, the strokes of one digit run into the next.
#: Only on a frame where no line is found (``segment``), and where the ink grown at that level holds no piece as long
#: as a line may be (``_as_long_as_a_line``): a ruling, a grid or a table fainter than the writing's faint level
#: joins the writing into a web at this one (``mixed`` 0-99 with no such gate: seed 61, dense on ruled paper, 91 -> 19
#: digits found; 18, on a grid, 55 -> 36; 46, dense on dotted paper, 155 -> 111 numbers exact; 34, a grid the line
#: search does not find at the page's level, 30 -> 22 found); nor where the specks at the page's level are a printed
#: lattice (``_on_a_lattice``: the dots of dotted paper join the strokes at this level, ``dotted`` seeds 2 and 15:
#: 12 -> 9 and 26 -> 19 found).
PALE_FOLLOW = 0.15
#: ... but never below this (a few percent is the soft light's and a JPEG's ringing, ``MIN_FAINT``); and only where it
#: lies more than ``GRAIN_FAINT`` grains below the paper (``_above_grain``): where the grain sets a page's level, that
#: level is at the noise's edge already (3 grains: one pixel of bare paper in 700 for Gaussian noise, far more for a
#: camera's blotchy noise after JPEG), and lower the noise joins the writing into pieces.
PALE_FLOOR = 0.08

#: Pale ink whose clear strokes are at most this many px wide (twice their area over their outline) is a thin pen's:
#: a stroke narrower than the camera's blur is spread over its neighbours and keeps only part of its darkness. The
#: stress generator's plain pages (pen 6-14% of 20-55 px digits) measure 2.7-6.6 px, ``dense`` ones 1.4-2.8 (seeds 0-11),
#: ``thin`` ones (0.55-1.1 px) 1.2-1.8: a dense page's thinnest pens count as thin too.
THIN_STROKE = 1.8
#: On a page of pale ink with no blur taken out (a thin pen's, or pale ink out of focus that no blur measured explains)
#: the clear level falls to the faint level (``SegmentConfig.faint_contrast``) where the page holds less clear ink than
#: this share of its faint ink, the lines found left out (a faint ruling or grid is no writing): its strokes reach
#: the clear level in a few pixels or none (pages of pen ink, seeds 0-5 counted with their lines: ``none`` 0.85-0.95,
#: ``ruled`` 0.70-0.92, ``dotted`` 0.40-0.90).
SCARCE_CLEAR = 0.2


def _thin_strokes(clear: np.ndarray, config: SegmentConfig, share: float) -> PaleInk | None:
    """On a page of pale ink with sharp edges, the faint level ``share`` where its clear strokes are thin
    (``THIN_STROKE``), followed no further than usual (a thin stroke has no skirt). None where the strokes are a
    wider pen's."""
    contours, _ = cv2.findContours(clear, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    inked = cv2.countNonZero(clear)
    if outline <= 0 or 2.0 * inked / outline > THIN_STROKE:
        return None
    return PaleInk(share, config.faint_reach, thin=True)


def _soft_edges(gray: np.ndarray, paper: Paper, clear: np.ndarray, config: SegmentConfig, share: float,
                writing: np.ndarray | None = None, edge: Callable[[], float] | None = None) -> PaleInk | None:
    """The rest of :func:`measure_pale_ink` once the ink is found pale (its faint level ``share``): the edges soft
    enough, and the blur measured (on the faint ink, or on ``writing``, a mask of its pieces, where given). ``edge``,
    where given, returns :func:`_edge_sharpness` of these arguments (measured once for :func:`_print_like` too)."""
    edge = edge() if edge is not None else _edge_sharpness(gray, paper, clear, config)
    if edge >= STREAK_EDGE:
        return None
    ink, longest = cv2.compare(gray, paper.faint, cv2.CMP_LT), int(config.line_length * min(gray.shape))
    if writing is not None:  # the writing measured alone: its blur is its own
        blur = measure_blur(gray, writing, longest)
    else:
        blur = measure_blur(gray, ink, longest)
        writing = _writing_of(ink, config, longest) if isinstance(blur, Blur) else None
        if writing is not None:
            # A streak is found on a page whose ink is mostly print, words or rules: its length and direction are
            # the writing's.
            along = measure_blur(gray, writing, longest)
            blur = along if isinstance(along, Blur) else blur
    if edge >= BLURRED_EDGE and not isinstance(blur, Blur):
        return None
    return PaleInk(share, int(round(config.faint_reach * (config.faint_contrast / share) ** REACH_POWER)), blur)


#: A streak found on a page is measured again on its writing (``_writing_of``) where the pieces shaped like digits hold
#: less than this share of the ink ``measure_blur`` measures (its pieces shorter than a line): the rest is print, words,
#: boxes, rules, and its straight strokes set the streak. Where the writing is most of the ink, the whole ink's measure
#: is already the writing's, and the digits written joined (numbers wider than ``max_aspect``) that the shape leaves
#: out are writing too (``blur`` seed 172, 56% of its ink digit-shaped: 0.5 -> 6.1 degrees off the generator's streak
#: measured on the digit-shaped pieces, 11 -> 6 of 17 digits found). Over the 78 pages of ``mixed`` 0-299 and
#: 1000-1099 and ``blur`` 0-199 whose streak the digit-shaped pieces measure differently, the share is 0.11-0.29 on
#: eight (mostly forms and print: ``mixed`` 233 0.18, its direction 34.9 -> 4.2 degrees off; 58 0.27, 18.1 -> 12.6) and
#: 0.49-1.0 on the rest: set in that gap (docs/stress.md, "A streak measured on the writing").
WRITING_SHARE = 0.4


def _writing_of(faint: np.ndarray, config: SegmentConfig, longest: int) -> np.ndarray | None:
    """The pieces of the ``faint`` ink mask (uint8, 255 = ink) shaped like digits (``_digit_shaped``) and no longer than
    ``longest`` either way, those a streak found on the page is measured again on (``deblur.measure_blur``,
    ``_soft_edges``), where they hold under ``WRITING_SHARE`` of the ink no longer than that; None elsewhere (no such
    piece, or the writing is most of the ink). A page's printed words, a form's boxes and its combs are long straight
    strokes that all point one way (along the rows and columns), and their gradients set the structure tensor's
    direction and the dip: on a form under a 9.5 px streak at 140 degrees (``mixed`` seed 233) the whole ink measures
    4.8 px at 175 degrees, the digits' pieces 9.8 px at 144 degrees. Whether a page is streaked at all stays the whole
    ink's to say (``measure_blur``'s tests were set on it): a sharp page of a few thin digits can dip along their own
    strokes once its other ink is left out (docs/stress.md, "A streak measured on the writing")."""
    return _writing_in(faint.shape, *components(faint)[1:3], config, longest)


def _writing_in(shape: tuple, labels: np.ndarray, stats: np.ndarray, config: SegmentConfig, longest: int) -> np.ndarray | None:
    """:func:`_writing_of` on a mask of ``shape`` labelled already (``labels``, ``stats``: 8-connected)."""
    h, w = shape[:2]
    short = (stats[1:, cv2.CC_STAT_WIDTH] <= longest) & (stats[1:, cv2.CC_STAT_HEIGHT] <= longest)
    shaped = _digit_shaped(stats[1:, :4], config, w, h)
    if shaped is None:
        return None
    shaped &= short
    area = stats[1:, cv2.CC_STAT_AREA]
    if not shaped.any() or area[shaped].sum() >= WRITING_SHARE * area[short].sum():
        return None
    keep = np.concatenate(([False], shaped))
    return np.where(keep[labels], np.uint8(255), np.uint8(0))


def _faint_for_pale_ink(gray: np.ndarray, paper: Paper, faint: np.ndarray | None, pale: PaleInk | None,
                        config: SegmentConfig, share: float | None = None) -> tuple[np.ndarray | None, int]:
    """The faint ink mask and the hysteresis reach for this frame: ``faint`` and ``faint_reach`` as they
    are, or on a page of pale ink (``pale``, from :func:`measure_pale_ink`) its lower level (``share``: another
    one) and reach; a page whose blur was taken out (``PaleInk.blur``) is sharp again, and keeps the usual ones."""
    if faint is None or pale is None or pale.blur is not None:
        return faint, config.faint_reach
    level = cv2.multiply(paper.limit, np.full_like(paper.limit, 1),
                         scale=(1.0 - (pale.share if share is None else share)) / (1.0 - config.ink_contrast))
    return cv2.compare(gray, level, cv2.CMP_LT), pale.reach


#: The faint ink followed down to the lower level (``PALE_FOLLOW``) is kept in a piece only where it joins a bit to
#: it: a piece of the usual faint level less than this share of the piece's height. Where every piece of the usual
#: level in it is taller, the lower level joined nothing that was broken: it widened a whole digit by its halo, or
#: joined two whole digits side by side (``dense`` seeds 0-99 lost 0.7 point of numbers exact to the lower level: each
#: small digit a pixel wider, so numbers 2-3 px apart were grouped as one, seed 34 235 -> 207 of 238). Measured on
#: the pieces grown at the lower level (10 px tall or more): on ``dense`` seeds 30-39, 1,398 hold one piece of the
#: usual level, at least 0.87 of their height in 99% of them (the halo), and 60 hold several, the shortest at least
#: 0.81 of the height in 90% and never under 0.6 (digits side by side); on ``thin`` seeds 0-29, 29 hold several and
#: 79% of them a bit under 0.6 (median 0.26): a digit's arc and foot, a stroke broken where the pen drew it fast.
JOINED_TALL = 0.6


def _part_digits_joined(lower: np.ndarray, grown: tuple, usual: np.ndarray, level: np.ndarray,
                        config: SegmentConfig) -> None:
    """Give up the lower level (``lower`` takes the usual faint level ``level``, in place) in each piece of the ink
    grown at the lower level (``grown``: its ``labels.components``) whose pieces of the usual level's grown ink
    (``usual``) are all at least ``JOINED_TALL`` of its height: followed down, a thin pen's stroke joins its own bits
    to it, and there the lower level stays."""
    count, labels, stats, _ = components(usual)
    low_count, low_labels, low_stats, _ = grown
    if count < 2 or low_count < 2:
        return
    ys, xs = np.nonzero(labels)
    owner = np.zeros(count, np.int64)
    np.maximum.at(owner, labels[ys, xs], low_labels[ys, xs])
    owned = owner[1:] > 0
    pieces, homes = np.flatnonzero(owned) + 1, owner[1:][owned]
    # A piece with a bit in it: some piece of the usual level shorter than JOINED_TALL of it.
    bit = np.zeros(low_count, bool)
    bit[homes[stats[pieces, 3] < JOINED_TALL * low_stats[homes, 3]]] = True
    give_up = ~bit
    give_up[0] = False
    chosen = give_up[low_labels]
    lower[chosen] = level[chosen]


def _as_long_as_a_line(boxes: np.ndarray, w: int, h: int, config: SegmentConfig) -> bool:
    """Whether one of the pieces ``boxes`` (``(N, 4)`` x, y, w, h) of a ``w`` x ``h`` mask is as long as a line may
    be (``SegmentConfig.line_length``)."""
    return bool(((boxes[:, 2] >= w * config.line_length) | (boxes[:, 3] >= h * config.line_length)).any())


def _on_a_lattice(mask: np.ndarray, config: SegmentConfig) -> bool:
    """Whether the specks of ``mask`` (pieces under ``min_height`` both ways, 2 px or more one way) hold a printed
    lattice of dots (``_lattice_dots``: dotted paper). Costs one labelling, and the lattice test only where there
    are ``LATTICE_SPECKS`` specks or more."""
    stats = components(mask)[2][1:, :4]
    w, h = stats[:, 2], stats[:, 3]
    specks = np.flatnonzero((w < config.min_height) & (h < config.min_height) & ((w >= 2) | (h >= 2)))
    if len(specks) < LATTICE_SPECKS:
        return False
    boxes = [tuple(row) for row in stats.tolist()]
    return bool(_lattice_dots(boxes, specks.tolist(), np.arange(len(specks))))


def _search_lines(mask: np.ndarray, config: SegmentConfig, gray: np.ndarray | None = None):
    """The lines of the ink ``mask`` (``lines.find_lines``), or None when no piece of ink is long and
    thin enough to hold one (the search costs a few morphological passes: only paid where needed); and
    the printed fields of the mask, the lines still in it (``vision.fields``; None: not looked for). Last,
    ``_pieces_of(mask)``, which the search looks at first: the pieces themselves where no line is taken out
    of the mask (and no faint ink grown into it) afterwards."""
    h, w = mask.shape
    pieces = _pieces_of(mask, config.min_height)  # also the pieces inside a ring: the writing's height
    _, boxes, _, holes, _ = pieces
    if not (len(boxes) > MANY_PIECES or _as_long_as_a_line(boxes, w, h, config)):
        return None, None, pieces
    shaped = _digit_shaped(boxes, config, w, h, pieces[0])
    typical = float(np.median(boxes[shaped, 3])) if shaped is not None and shaped.any() else None  # _digit_height
    lengths = line_lengths(w, h, config.line_length, typical, config.line_digits)
    # One search over the whole frame, on one pooled mask (lines.find_lines); a field whose rules run on as
    # found lines both ways is squares of a grid, no form's boxes (``fields.RUNS_ON``).
    lines = None
    if typical is not None and typical >= min(line_lengths(w, h, config.line_length)) and \
            np.median(boxes[shaped, 3] / np.maximum(boxes[shaped, 2], 1)) >= SLENDER_WRITING:
        lines, typical = _lines_measuring_themselves(mask, config, gray, typical)
        lengths = line_lengths(w, h, config.line_length, typical, config.line_digits)
    if lines is None:
        lines = find_lines(mask, lengths, gray, typical)
    return lines, find_fields(holes, typical, lines, mask), pieces


#: Writing measured as tall as a line (``_lines_measuring_themselves``) is checked only where its pieces are, at the
#: median, at least this many times taller than wide: stretches of line with a digit on them, not digits. The median
#: height over width of the digit-shaped pieces (``_digit_shaped``, in the mask the lines are searched in) is 0.9-2.9 on
#: the 27 real dev files, 18 of them with writing as tall as the frame's share (large writing, seen close), and at most
#: 2.2 on every page of the stress rows ``none``, ``grid``, ``ruled``, ``thin``, ``column``, ``dense``, ``table``,
#: ``boxes`` (seeds 0-99); a grid whose digits all touch its lines measures 4.7 and 6.9 (``mixed`` 152, where the trial
#: keeps the height, and 291). A few pages with lines still in that mask reach 7-11.5 (``mixed`` 143 and 161,
#: ``ledger`` 83) but measure their writing at 11-49 px, under the frame's share: not asked. Only the stem of a 1
#: alone is 10-20 times taller than wide, and a page's median piece is no lone 1. Without this test the trial ran on
#: those 18 dev photos and on 20-30% of the worksheets, each paying a second line search for the same reading.
SLENDER_WRITING = 4.0


def _lines_measuring_themselves(mask: np.ndarray, config: SegmentConfig, gray: np.ndarray | None,
                                typical: float) -> tuple[LineBands | None, float]:
    """``(lines, typical)`` for a mask whose writing, measured with its lines in it (``typical``), is as tall as the
    shortest run that counts as a line (``line_length`` of the frame): by its length, such writing can no longer be
    told from a line. It is either writing that large, or a grid whose digits all touch its lines, so that every
    piece measured is a stretch of line with a digit on it, and ``line_digits`` of that height protect the lines
    themselves from the search (``mixed`` seed 291: 418 px measured for digits of 23, no line taken out, every digit
    merged into its line, 0 of 11 found). The lines of the frame's share are found and taken out on trial, and the
    writing measured again on what is left: where ``line_digits`` of that height no longer reach the frame's share,
    the runs taken out were lines no digit of the page is tall enough to hold, and they are the page's lines
    (returned, with that height); otherwise ``(None, typical)``, and the search is the usual one. Asked only where
    the pieces measured are slender as well (``SLENDER_WRITING``): writing shorter than the frame's share (every
    stress page but ``mixed`` 152 and 291 of the rows measured; the worksheets' 58-75 px on 720 rows) or shaped like
    digits (the real dev files' large writing) never pays the trial."""
    h, w = mask.shape
    base = line_lengths(w, h, config.line_length)
    trial = find_lines(mask, base, gray)  # (the digit height not known: its bridges join no piece)
    if not trial.bands:
        return None, typical
    rest = take_out_lines(mask, trial, gray)
    contours, boxes, _, _, _ = _pieces_of(rest, config.min_height)
    again = _digit_height(boxes, config, w, h, contours)
    if again is None or line_lengths(w, h, config.line_length, again, config.line_digits) != base:
        return None, typical
    return replace(trial, digit_height=again), again


def _on_the_page(small: np.ndarray, on_paper: np.ndarray, config: SegmentConfig,
                 closed: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The paper region (shrunk, 1 = paper) cut to the page when the page lies on a table in view
    (``page.find_page``, given the frame's ``page.closed_edges`` where known): the table's texture, its seams and
    the dark ring around a page are never ink."""
    page = find_page(small, config.min_paper, closed)
    return on_paper if page is None else cv2.bitwise_and(on_paper, page)




def _pieces_of(mask: np.ndarray, min_side: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
    """Every piece of ink in ``mask``, also those inside the holes of another: their outer contours, their
    boxes (``(N, 4)`` x, y, w, h) and, per piece, whether it is a frame (one of its holes holds a piece at
    least ``min_side`` tall or wide: a ring of table around the page, a printed table's net, a box drawn
    around a number). Only outer contours would let one such piece hide every digit inside it. Last, the
    contours of the holes, where a form's printed boxes are (``vision.fields``), and per piece whether it
    closes a loop of its own."""
    found = cv2.findContours(mask, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    every, hierarchy = (found[0], found[1]) if len(found) == 2 else (found[1], found[2])
    if hierarchy is None or not len(every):
        return [], np.zeros((0, 4), np.int64), np.zeros(0, bool), [], np.zeros(0, bool)
    parent = hierarchy[0][:, 3]
    # Depth in the tree: outer contours at even depths, holes at odd ones (a few passes: writing is
    # rarely nested more than a ring, a net and a loop deep).
    depth = np.zeros(len(every), np.int64)
    up = parent.copy()
    while (up >= 0).any():
        depth += up >= 0
        up = np.where(up >= 0, parent[np.maximum(up, 0)], -1)
    outer = np.flatnonzero(depth % 2 == 0)
    contours = [every[i] for i in outer]
    boxes = np.array([cv2.boundingRect(c) for c in contours], np.int64).reshape(-1, 4)
    # The pieces that sit in a hole, and are big enough to be writing, make the piece around it a frame.
    holder = np.where(parent[outer] >= 0, parent[np.maximum(parent[outer], 0)], -1)
    sized = (boxes[:, 2] >= min_side) | (boxes[:, 3] >= min_side)
    frame_ids = set(holder[(holder >= 0) & sized].tolist())
    frames = np.array([i in frame_ids for i in outer.tolist()], bool)
    holes = np.flatnonzero(depth % 2 == 1)
    # A piece with a hole of its own at least LOOP_SIDE across (a 0, a 6, the loop of a 9): a closed glyph,
    # not a stray stroke of another one.
    hole_boxes = np.array([cv2.boundingRect(every[i]) for i in holes], np.int64).reshape(-1, 4)
    open_holes = holes[(hole_boxes[:, 2] >= LOOP_SIDE) & (hole_boxes[:, 3] >= LOOP_SIDE)]
    # A lookup by contour index, not np.isin (which sorts both sides: a tenth of a millisecond a frame).
    closes = np.zeros(len(every), bool)
    closes[parent[open_holes]] = True
    return contours, boxes, frames, [every[i] for i in holes], closes[outer]


def _grow(clear: np.ndarray, faint: np.ndarray, reach: int) -> np.ndarray:
    """Hysteresis: the faint ink that continues clear ink (a pencil line that fades, a thin pen whose
    stroke breaks up), grown from the clear ink a pixel at a time, up to ``reach`` pixels."""
    # Steps of up to 3 pixels: fewer passes than one pixel at a time, and a faint stroke is 3 px wide or
    # more wherever it matters.
    size = min(reach, 3)
    step = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * size + 1, 2 * size + 1))
    grown = cv2.bitwise_and(clear, faint)
    for _ in range(-(-reach // size)):
        grown = cv2.bitwise_and(cv2.dilate(grown, step), faint)
    return grown


def _keep(w: int, h: int, area: int, config: SegmentConfig) -> bool:
    """Ink count and density of a grouped piece of ink (its height and aspect are checked before): can
    it be a digit?"""
    if area < config.min_area:
        return False
    aspect = w / h
    density = area / float(w * h)
    if density < config.min_density:
        return False
    if density > config.blob_density and aspect > config.blob_aspect:
        return False
    return True


def _solid(w: int, h: int, area: int, config: SegmentConfig) -> bool:
    """A piece that ``_keep`` turns away as a solid blot (``blob_density``, ``blob_aspect``)."""
    return area >= config.min_area and area > config.blob_density * w * h and w > config.blob_aspect * h


#: A piece at least this share of the page's digit height is a whole digit, not a stroke of one: the
#: halves of a 3 written in two strokes, the bar of a 7 or a 5 are each at most about 0.6 of it.
WHOLE_DIGIT = 0.75

#: A flat piece at least this share of the page's digit height long may be a fraction's bar whose digits
#: are in pieces (``_merge_pieces``): a digit is about half as wide as it is tall, and a bar spans its digits.
BAR_WIDTH = 0.5


def _merge_pieces(boxes: list[tuple], pieces: list[int], specks: list[int], config: SegmentConfig,
                  digit_height: float | None = None, looped: set[int] = frozenset()) -> dict[int, list[int]]:
    """Group the contours of one digit: smaller strokes stacked right above or below a taller one
    (a 3 or 5 written in two strokes, the detached bar of a 7), and specks inside its box (but the dots of a
    printed lattice, ``_lattice_dots``: dotted paper, a faint grid's crossings).

    A piece belongs to the tallest contour that is taller than it, overlaps it horizontally by
    ``min_piece_overlap`` of the narrower, and lies within ``merge_gap`` of its height above or below.
    Lines of writing are mostly further apart than that; where they are not (a list written one entry
    under another, a dense page), two pieces that are each a whole digit of the page's ``digit_height``
    (``WHOLE_DIGIT`` of it) are two digits, one above the other, and are not joined.
    Returns ``{root: [members]}`` where ``root`` is the tallest contour of each group.
    """
    parent: dict[int, int] = {}
    bars: set[int] = set()  # fraction bars: they join no digit
    if len(pieces) > 1:
        b = np.array([boxes[i] for i in pieces], np.float32)
        x, y, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
        # Row i is the piece, column j its possible owner: all pairs at once instead of a Python loop,
        # in blocks of rows so a frame of texture or noise (thousands of pieces) does not need
        # gigabytes for the pairs matrix.
        for start in range(0, len(pieces), MERGE_BLOCK_ROWS):
            rows = slice(start, start + MERGE_BLOCK_ROWS)
            xr, yr, wr, hr = x[rows, None], y[rows, None], w[rows, None], h[rows, None]
            # Taller, or as tall and wider (two halves of a 2 or a 3 may be equally tall): no cycles.
            taller = (h[None, :] > hr) | ((h[None, :] == hr) & (w[None, :] > wr))
            overlap = np.minimum(xr + wr, x[None] + w[None]) - np.maximum(xr, x[None])
            overlaps = overlap >= config.min_piece_overlap * np.minimum(wr, w[None])
            gap = np.maximum(y[None] - (yr + hr), yr - (y[None] + h[None]))
            close = gap <= config.merge_gap * h[None]
            # A piece far wider than a digit is tall (a ruled line) belongs to no digit.
            fits = wr <= 3.0 * h[None]
            joins = taller & overlaps & close & fits
            if digit_height:
                # Two whole digits stacked (the 0s of "1000" written in a list, row under row) stay two:
                # a stroke of a digit is a part of its height.
                joins &= ~((hr >= WHOLE_DIGIT * digit_height) & (h[None] >= WHOLE_DIGIT * digit_height))
            # A fraction's bar: a flat piece with writing right above it and right below it belongs to
            # neither (the detached bar of a 7 or a 5 has nothing above it, the base of a 2 nothing below).
            # A bar at least BAR_WIDTH of the page's digit height long (a digit's width) has its writing
            # looked for within ``merge_gap`` of that height too, however wide the bar: the digit over it
            # may be in two pieces, the nearest a short one (the foot of a 1, the hat of a 5), and a bar
            # under two digits is more than three times as wide as one of them is tall.
            flat = (wr > config.max_aspect * hr)[:, 0]
            if flat.any():
                near = joins
                if digit_height:
                    near = near | ((wr >= BAR_WIDTH * digit_height) & taller & overlaps
                                   & (gap <= config.merge_gap * digit_height))
                above = (near & (y[None] + h[None] <= yr + hr)).any(axis=1)
                below = (near & (y[None] >= yr)).any(axis=1)
                bar = flat & above & below
                joins &= ~bar[:, None]
                bars.update(pieces[start + int(r)] for r in np.flatnonzero(bar))
            owners = np.where(joins, h[None], -1.0)
            best = owners.argmax(axis=1)
            for row, col in enumerate(best):
                if owners[row, col] > 0:  # the tallest piece it belongs to
                    parent[pieces[start + row]] = pieces[int(col)]

    def root(i: int) -> int:
        while i in parent:
            i = parent[i]
        return i

    groups: dict[int, list[int]] = {}
    for i in pieces:
        groups.setdefault(root(i), []).append(i)
    if len(groups) > 1:
        # A short piece beside a digit, inside its padded box (the detached tail of a 1 or a 4), joins it.
        roots = sorted(groups, key=lambda r: -boxes[r][3])
        owner = _inside_padded(np.array([_union(boxes, groups[r]) for r in roots], np.float64), roots, boxes,
                               config, max_height_share=config.max_piece_height)
        for k in range(len(roots) - 1, -1, -1):  # shortest first, so a chain ends at the tallest
            # A short piece that closes a loop of its own is a glyph (a small 6 raised after a slash), not
            # the tail of a 1 or a 4.
            if owner[k] >= 0 and owner[k] != k and roots[k] in groups and roots[k] not in bars \
                    and roots[k] not in looped:
                target = roots[owner[k]]
                while target not in groups:  # its owner was itself folded into a taller one
                    target = roots[owner[roots.index(target)]]
                groups[target].extend(groups.pop(roots[k]))
    if not specks or not groups:
        return groups
    roots = list(groups)
    owner = _inside_padded(np.array([boxes[j] for j in specks], np.float64).reshape(-1, 4), roots, boxes, config)
    # The dots of a printed lattice (dotted paper, the crossings a faint grid leaves in the mask) are no part of
    # the digit written over them: the crop would hold them beside its strokes.
    joining = np.flatnonzero(owner >= 0)
    dots = set(_lattice_dots(boxes, specks, joining)) if len(joining) else set()
    for n in joining.tolist():
        if n not in dots:
            groups[roots[owner[n]]].append(specks[n])
    return groups


#: A page holds a printed lattice of dots (dotted paper; squared paper whose faint lines the mask keeps only where
#: they cross) only with at least this many specks: the coarsest lattice the stress generator draws (a dot a digit
#: height of 55 px apart, ``dotted`` and ``grid``) leaves about 200 in a 960x720 frame, half of it the page; a plain
#: page has none to a few dozen (noise, a broken stroke's bits).
LATTICE_SPECKS = 60
#: ... and only where at least this share of them (a sample of ``LATTICE_SAMPLE``) lies on it (``_lattice_dots``):
#: 0.91-0.97 of the specks of stress ``dotted`` seeds 14, 93 and 95, 0.87 of a faint grid's (``grid`` seed 31), 0.59 and
#: 0.37 where a grid's lines hold in longer bits (seeds 22 and 83: the second is no lattice of dots), 0.08 of the grain
#: of a noisy, blurred page (``mixed`` seed 36: 151 of 1882).
LATTICE_SHARE = 0.5
LATTICE_SAMPLE = 64
#: A speck lies on the lattice when two other specks lie either side of it, at the same step ``v`` and ``-v`` to
#: within this share of the step (or ``LATTICE_SLACK`` px: boxes are whole pixels, a dot's centre half a pixel
#: off), the step between ``LATTICE_STEP`` times the lattice's spacing (the median distance from a speck to its
#: nearest one: a page seen askew or curled spaces its dots unevenly), and no other speck lies nearer than the
#: shorter of those (a dot stands alone; the bits of a broken stroke lie a few pixels apart).
LATTICE_TOLERANCE = 0.15
LATTICE_SLACK = 1.5
LATTICE_STEP = (0.6, 1.6)
#: A lattice finer than this many pixels is grain, not paper.
LATTICE_FINEST = 4.0


def _lattice_dots(boxes: list[tuple], specks: list[int], asked: np.ndarray) -> list[int]:
    """Of ``asked`` (indices into ``specks``, the pieces below ``min_height``), those that are dots of a printed
    lattice: the page has one (``LATTICE_SPECKS``, ``LATTICE_SHARE``), and the speck has two others either side of
    it at one step of the lattice's spacing (``LATTICE_STEP``, ``LATTICE_TOLERANCE``). A digit's broken stroke is
    no lattice: too few bits, not spaced as the page's dots are. Costs nothing on a page without many specks."""
    if len(specks) < LATTICE_SPECKS:
        return []
    b = np.array([boxes[j] for j in specks], np.float64)
    centres = b[:, :2] + 0.5 * b[:, 2:]
    order = np.argsort(centres[:, 0], kind="stable")
    xs, ordered = centres[order, 0], centres[order]

    def around(i: int, reach: float) -> tuple[np.ndarray, np.ndarray]:
        """The steps from speck ``i`` to the others within ``reach`` of it along x and y, and their lengths."""
        x, y = centres[i]
        near = ordered[np.searchsorted(xs, x - reach): np.searchsorted(xs, x + reach, "right")] - centres[i]
        near = near[np.abs(near[:, 1]) <= reach]
        length = np.hypot(near[:, 0], near[:, 1])
        keep = length >= 0.5  # not itself
        return near[keep], length[keep]

    def on_lattice(i: int, spacing: float) -> bool:
        steps, length = around(i, LATTICE_STEP[1] * spacing)
        # A dot stands alone on its lattice: no speck nearer than a step (a stroke broken into bits has its next
        # bit a few pixels away, however evenly its bits are spaced).
        if len(steps) < 2 or length.min() < LATTICE_STEP[0] * spacing:
            return False
        off = np.hypot(*(steps[:, None, :] + steps[None, :, :]).transpose(2, 0, 1))
        return bool((off <= np.maximum(LATTICE_SLACK, LATTICE_TOLERANCE * length[:, None])).any())

    sample = np.linspace(0, len(specks) - 1, min(LATTICE_SAMPLE, len(specks))).astype(np.int64)
    # The spacing: the median distance from a sampled speck to its nearest (within a reach no lattice the
    # generator draws exceeds on the frame: a tenth of its width), None where it has none so near.
    reach = 0.1 * max(1.0, float(xs[-1] - xs[0]))
    nearest = [length.min() for length in (around(int(i), reach)[1] for i in sample) if len(length)]
    if len(nearest) < LATTICE_SHARE * len(sample):
        return []
    spacing = float(np.median(nearest))
    if spacing < LATTICE_FINEST or np.mean([on_lattice(int(i), spacing) for i in sample]) < LATTICE_SHARE:
        return []
    return [int(i) for i in asked if on_lattice(int(i), spacing)]


def _inside_padded(items: np.ndarray, roots: list[int], boxes: list[tuple], config: SegmentConfig,
                   max_height_share: float | None = None) -> np.ndarray:
    """For each item box ``(x, y, w, h)``, the index in ``roots`` of the box whose padded outline holds
    the largest share of it (at least ``MIN_INSIDE_SHARE``), or -1. With ``max_height_share``, only roots
    at least that many times taller qualify. Items are sorted by x so each root only looks at the items in
    its own column: a noisy frame has tens of thousands of specks and thousands of roots."""
    sx, sy, sw, sh = items.T
    area = np.maximum(1.0, sw * sh)
    if len(items) * len(roots) <= FULL_MATRIX_LIMIT:
        # The usual page: a few dozen of each, so all pairs at once beat a loop over the roots.
        r = np.array([boxes[i] for i in roots], np.float64)
        pad = config.merge_gap * r[:, 3]
        ox = np.minimum(sx[:, None] + sw[:, None], (r[:, 0] + r[:, 2] + pad)[None]) - np.maximum(sx[:, None], (r[:, 0] - pad)[None])
        oy = np.minimum(sy[:, None] + sh[:, None], (r[:, 1] + r[:, 3] + pad)[None]) - np.maximum(sy[:, None], (r[:, 1] - pad)[None])
        share = np.where((ox > 0) & (oy > 0), ox * oy / area[:, None], 0.0)
        if max_height_share is not None:
            share = np.where(sh[:, None] <= max_height_share * r[:, 3][None], share, 0.0)
        # The first root with the largest share wins, as in the loop below.
        best = share.argmax(axis=1)
        return np.where(share[np.arange(len(items)), best] > MIN_INSIDE_SHARE, best, -1)
    by_x = np.argsort(sx, kind="stable")
    sorted_x = sx[by_x]
    widest = float(sw.max()) if len(sw) else 0.0
    owner = np.full(len(items), -1, np.int64)
    best = np.full(len(items), MIN_INSIDE_SHARE)
    for k, i in enumerate(roots):
        x, y, w, h = boxes[i]
        pad = config.merge_gap * h
        first = np.searchsorted(sorted_x, x - pad - widest, "right")
        near = by_x[first: np.searchsorted(sorted_x, x + w + pad, "left")]
        if near.size == 0:
            continue
        ox = np.minimum(sx[near] + sw[near], x + w + pad) - np.maximum(sx[near], x - pad)
        oy = np.minimum(sy[near] + sh[near], y + h + pad) - np.maximum(sy[near], y - pad)
        share = (ox * oy) / area[near]
        better = (ox > 0) & (oy > 0) & (share > best[near])
        if max_height_share is not None:
            better &= sh[near] <= max_height_share * h
        owner[near[better]] = k
        best[near[better]] = share[better]
    return owner


#: A side of a box whose point lies in the shrunk pixel just outside the page found is paper where the frame there is
#: at least this share of the paper's brightness under the box (``_surrounded_all``) ...
PAPER_BRIGHT = 0.9
#: ... and at least this share of the page's paper (the median over the page found).
PAGE_BRIGHT = 0.75


def _surrounded_all(boxes: list[tuple], inside: np.ndarray, scale_x: float, scale_y: float, config: SegmentConfig,
                    gray: np.ndarray | None = None, limit: np.ndarray | None = None) -> list[bool]:
    """Writing has paper all around it; the page's own edge has the table on one side. For each box, look a
    little beyond each side in the (shrunk) paper region ``inside``; beyond the frame's edge nothing is
    known, so a side there passes (a digit that fills the view). Every box at once: a frame's 30-40.

    ``inside`` is the page found, eroded by a shrunk pixel (the page's rim and the table just beyond it are off it);
    where the page's edge is blurred or foreshortened, the page found already ends up to a shrunk pixel short of it,
    and a digit written within half its height of the edge had its outer side off the page. With the frame's
    ``gray`` and the ink ``limit`` (working size), a side whose point lies in the shrunk pixel just outside
    ``inside``, of a box whose middle is on it, passes where the frame there (the median of 3x3 pixels) is as
    bright as paper: ``PAPER_BRIGHT`` of the paper under the box and ``PAGE_BRIGHT`` of the page's. The table
    beyond the page's rim is darker; a bit of table that the page found takes in has its own "paper" (the
    table's), and the page's as a whole tells it.
    """
    if not boxes:
        return []
    x, y, w, h = np.array(boxes, np.int64).reshape(-1, 4).T
    margin = np.maximum(2.0, config.paper_margin * h)
    cx, cy = x + w / 2.0, y + h / 2.0
    px = np.stack([x - margin, (x + w) + margin, cx, cx], 1)
    py = np.stack([cy, cy, y - margin, (y + h) + margin], 1)
    sx, sy = (px * scale_x).astype(np.int64), (py * scale_y).astype(np.int64)
    there = (sx >= 0) & (sx < inside.shape[1]) & (sy >= 0) & (sy < inside.shape[0])
    sx, sy = np.where(there, sx, 0), np.where(there, sy, 0)
    off = there & (inside[sy, sx] == 0)
    if gray is not None and limit is not None and off.any():
        # Only for a box whose own middle is on the page (a bit of table in that pixel is no digit written there).
        mx = np.clip((cx * scale_x).astype(np.int64), 0, inside.shape[1] - 1)
        my = np.clip((cy * scale_y).astype(np.int64), 0, inside.shape[0] - 1)
        near = off & (inside[my, mx] != 0)[:, None]
        if near.any():
            near &= cv2.dilate(inside, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))[sy, sx] != 0
        if near.any():
            fh, fw = gray.shape[:2]
            box, side = np.nonzero(near)
            # The grey there: the median of the 3x3 pixels about the point (a grain of noise is no table).
            step = np.array([-1, 0, 1])
            fx = np.clip(px[box, side].astype(np.int64)[:, None, None] + step[None, None, :], 0, fw - 1)
            fy = np.clip(py[box, side].astype(np.int64)[:, None, None] + step[None, :, None], 0, fh - 1)
            grey = np.partition(gray[fy, fx].reshape(-1, 9), 4, axis=1)[:, 4]
            own = limit[np.clip(cy[box].astype(np.int64), 0, fh - 1), np.clip(cx[box].astype(np.int64), 0, fw - 1)]
            bright = grey >= PAPER_BRIGHT / (1.0 - config.ink_contrast) * own
            if bright.any() and inside[::2, ::2].any():
                # ... and not far darker than the page's paper as a whole (a bit of table that the page found
                # takes in has its own "paper" there: the table's). The page's paper: the median of the limit
                # over every other pixel of the page found.
                iy, ix = np.nonzero(inside[::2, ::2])
                paper = limit[np.minimum((2 * iy / scale_y).astype(np.int64), fh - 1),
                              np.minimum((2 * ix / scale_x).astype(np.int64), fw - 1)]
                page = float(np.partition(paper, len(paper) // 2)[len(paper) // 2])
                bright &= grey >= PAGE_BRIGHT / (1.0 - config.ink_contrast) * page
                off[box[bright], side[bright]] = False
    return (~off.any(axis=1)).tolist()


def _grazes_border(patch: np.ndarray, box: tuple, frame_w: int, frame_h: int, config: SegmentConfig) -> bool:
    """True when the piece is clear of the frame's edges, or touches them only briefly (a digit close
    to the edge); False when the edge cuts through it (half a digit, or the table's edge)."""
    x, y, w, h = box
    edges = []
    if x <= 0:
        edges.append((patch[:, 0], h))
    if x + w >= frame_w:
        edges.append((patch[:, -1], h))
    if y <= 0:
        edges.append((patch[0, :], w))
    if y + h >= frame_h:
        edges.append((patch[-1, :], w))
    return all(np.count_nonzero(line) <= config.border_contact * extent for line, extent in edges)


def _set_tight(boxes: list[tuple], sides_ok: np.ndarray) -> list[tuple]:
    """Of ``boxes`` (``x, y, w, h``), those without paper on every side (``sides_ok`` False) that stand set tight
    beside another: a box of the list at most a side strip (``SIDE_STRIP``, a quarter of the box's smaller side)
    to its left or right, overlapping it by half the shorter's height. Type sets its letters a pixel or two apart,
    so that the strip beside a letter holds its neighbour's edge; handwriting leaves paper between its glyphs, and
    a sliver along a shadow or a knot of wood stands beside no glyph."""
    failed = np.flatnonzero(~np.asarray(sides_ok, bool))
    if not len(failed):
        return []
    x, y, w, h = np.asarray(boxes, np.int64).reshape(-1, 4).T
    fx, fy, fw, fh = x[failed, None], y[failed, None], w[failed, None], h[failed, None]  # (F, 1) against (N,)
    gap = np.maximum(x - (fx + fw), fx - (x + w))
    overlap = np.minimum(fy + fh, y + h) - np.maximum(fy, y)
    beside = ((gap >= -0.5 * np.minimum(fw, w)) & (gap <= np.maximum(SIDE_STRIP, np.minimum(fw, fh) // 4))
              & (overlap >= 0.5 * np.minimum(fh, h)) & (failed[:, None] != np.arange(len(x))))
    return [boxes[k] for k in failed[beside.any(axis=1)].tolist()]


#: The integral images of :func:`_paper_on_every_side` pay by the pixel of the region the strips cover
#: (about 2-3 ns here), the strip-by-strip path by the box (about 30-60 us); the integral images are taken
#: while the region holds at most this many pixels per box (a page at 640x480: 30 boxes in 160,000 px; a
#: 12 MP still with one digit: the strips).
SUMMED_PIXELS_PER_BOX = 12_000
#: The strips of :func:`_paper_on_every_side` are a quarter of the box's smaller side wide, and at least this many
#: pixels. At 2 px (a quarter of a 12-20 px digit) a faint ruling out of focus under a small digit's feet filled
#: both halves of the strip, and the digit was dropped for want of paper below it: on the stress row ``mixed``
#: (seeds 0-39) 51 digits of dense pages on ruled paper had no candidate. At 3, 4 or 5 px the row found 1878,
#: 1878 and 1880 of its 2302 digits (1839 at 2); at 4 a printed letter beside a table's rule passed too
#: (``table`` seed 24).
SIDE_STRIP = 3
#: A side of a piece is "clearly brighter" than its ink where it is half the ink contrast brighter than the ink's
#: mean grey (``ink_contrast`` / 2 of it), or, for pale ink, where it lies this share of the way from the ink's mean
#: grey to the paper (``_brighter_than_ink``). The first alone asks a piece whose ink is on average less than about
#: 0.26 darker than the paper for sides brighter than the paper itself: a thin pen's, whose mask is followed down
#: a lower faint level, measures 0.15-0.19 on ``thin`` seed 38 and its sides 0.00-0.04 (noise), and 8 of its 20 digits
#: were dropped. The sliver along a shadow's edge that the test is for has the shade beside it as dark as itself. Not
#: on every page: on a page of dark ink, a piece that pale is no pen's
#: stroke, and the first test alone keeps the faint remnants of a grid and the texture of a table out (``grid``
#: 0-99 with the share on every page: 22 more stray detections, precision 95.0% -> 93.8%; ``cloth`` 6, ``wood`` 2;
#: with it on every page of pale ink with no blur taken out, ``grid`` seeds 14, 26 and 83 still 13 more). So only on a
#: frame whose ink was followed down to ``PALE_FOLLOW``: its pieces are that pale.
PALE_SIDE = 0.5


def _brighter_than_ink(ink_grey, paper_limit, config: SegmentConfig, pale: bool = False):
    """How bright a side of a piece must be to be "clearly brighter" than its ink (``_paper_on_every_side``), given
    the mean grey of its ink ``ink_grey`` and the paper estimate there (``paper_limit``, stored as the ink
    threshold): half the ink contrast brighter than the ink (``ink_contrast`` / 2 of its grey), or, on a page of
    ``pale`` ink where that asks more, nearer the paper than the ink (``PALE_SIDE``). Scalars or arrays alike."""
    brighter = ink_grey / (1.0 - 0.5 * config.ink_contrast)
    if not pale:
        return brighter
    paper = paper_limit / (1.0 - config.ink_contrast)
    return np.minimum(brighter, ink_grey + PALE_SIDE * (paper - ink_grey))


def _paper_on_every_side(gray: np.ndarray, limit: np.ndarray, ink: np.ndarray, kept: list, config: SegmentConfig,
                         pale: bool = False) -> np.ndarray:
    """Writing has paper on all its sides. For each kept ``(box, patch)``: just outside the box, each side
    inside the frame (a strip a quarter of the box's smaller side wide) must be, where it is not ink
    itself, clearly brighter than the piece's ink and about as bright as the paper estimate there (the whole
    strip, or one half of it across: a faint ruling that small writing sits on). The
    sliver of false ink along a shadow's edge fails the first (the shade on one side is as dark as it); a
    knot in the wood of the table beside the page fails the second. ``ink`` is every pixel that is no
    paper: the ink, and the ruled and printed lines taken out of it (a digit touching a cell's border has
    paper on that side, behind the border).

    Every strip of every box is summed at once from three integral images (the paper, and the grey and
    the estimate where paper is) of the part of the frame the strips cover: a few whole-array OpenCV
    passes that release the GIL, instead of five calls per strip in Python (30-40 boxes a frame). The
    sums are exact integers, and each mean is taken as ``cv2.mean`` takes it (the sum times 1 / count),
    so every verdict is the one the strip-by-strip means gave."""
    frame_h, frame_w = gray.shape
    # The estimate is stored as the ink threshold, paper * (1 - contrast); "about as bright" is at least
    # (1 - contrast / 2) of the paper (a little noise is fine; a shade or a table is not).
    near_paper = (1.0 - 0.5 * config.ink_contrast) / (1.0 - config.ink_contrast)
    boxes = np.array([box for box, _ in kept], np.int64).reshape(-1, 4)
    x, y, w, h = boxes.T
    t = np.maximum(SIDE_STRIP, np.minimum(w, h) // 4)
    # The four strips of each box (left, right, above, below), clipped to the frame: (N, 4) each.
    x0 = np.clip(np.stack([x - t - 1, x + w + 1, x, x], 1), 0, frame_w)
    x1 = np.clip(np.stack([x - 1, x + w + t + 1, x + w, x + w], 1), 0, frame_w)
    y0 = np.clip(np.stack([y, y, y - t - 1, y + h + 1], 1), 0, frame_h)
    y1 = np.clip(np.stack([y + h, y + h, y - 1, y + h + t + 1], 1), 0, frame_h)
    inside = (x1 > x0) & (y1 > y0)  # outside the frame nothing is known: such a side passes
    # Only the part of the frame the strips cover is summed.
    rx0, ry0 = int(x0[inside].min(initial=frame_w)), int(y0[inside].min(initial=frame_h))
    rx1, ry1 = int(x1[inside].max(initial=0)), int(y1[inside].max(initial=0))
    ok = np.ones(len(kept), bool)
    if rx1 <= rx0 or ry1 <= ry0:
        return ok
    if (rx1 - rx0) * (ry1 - ry0) > SUMMED_PIXELS_PER_BOX * len(kept):
        return _paper_sides_strip_by_strip(gray, limit, ink, kept, config, pale)
    region = (slice(ry0, ry1), slice(rx0, rx1))
    # In NumPy: cv2.compare takes a region one pixel wide for a scalar itself (stress grid seed 31).
    paper = (ink[region] == 0).view(np.uint8)
    sums = [cv2.integral(paper), cv2.integral(cv2.bitwise_and(gray[region], gray[region], mask=paper)),
            cv2.integral(cv2.bitwise_and(limit[region], limit[region], mask=paper))]
    x0, x1 = np.where(inside, x0 - rx0, 0), np.where(inside, x1 - rx0, 0)
    y0, y1 = np.where(inside, y0 - ry0, 0), np.where(inside, y1 - ry0, 0)

    def means(x0, x1, y0, y1):
        """Per strip: whether it is judged (paper in a fifth of it at least: a side all ink, a neighbour's
        stroke, says nothing), its mean grey and the mean paper estimate there, over its paper pixels."""
        paper_px, gray_sum, limit_sum = (s[y1, x1].astype(np.int64) - s[y0, x1] - s[y1, x0] + s[y0, x0] for s in sums)
        per_pixel = 1.0 / np.maximum(paper_px, 1)
        return (paper_px > 0) & (paper_px >= 0.2 * (x1 - x0) * (y1 - y0)), gray_sum * per_pixel, limit_sum * per_pixel

    judged, side, paper_there = means(x0, x1, y0, y1)
    judged &= inside
    ink_grey = np.array([cv2.mean(gray[by: by + bh, bx: bx + bw], mask=patch)[0] for (bx, by, bw, bh), patch in kept])
    brighter = _brighter_than_ink(ink_grey[:, None], paper_there, config, pale)
    paper_like = side >= near_paper * paper_there
    if (judged & ~paper_like).any():
        # ... or either half of it is, across the strip (its inner or its outer half): a faint ruling under the
        # faint-ink level, that small digits sit on or that runs along their tops, fills a narrow strip (2-3 px
        # beside a 12-20 px digit) but for one half; the table, a shade or a knot of wood fills it all. (Only
        # looked at where the whole strip fails: most frames have no such side.)
        across_x = np.zeros_like(inside)
        across_x[:, :2] = True  # the left and right strips are split across x, the others across y
        xm, ym = np.where(across_x, (x0 + x1) // 2, x1), np.where(across_x, y1, (y0 + y1) // 2)
        for half in ((x0, xm, y0, ym), (np.where(across_x, xm, x0), x1, np.where(across_x, y0, ym), y1)):
            half_judged, half_side, half_paper = means(*half)
            paper_like |= half_judged & (half_side >= near_paper * half_paper)
    ok &= ~(judged & ((side < brighter) | ~paper_like)).any(axis=1)
    return ok


def _paper_sides_strip_by_strip(gray: np.ndarray, limit: np.ndarray, ink: np.ndarray, kept: list, config: SegmentConfig,
                                pale: bool = False) -> np.ndarray:
    """:func:`_paper_on_every_side` measured where each strip is (five OpenCV calls a strip): cheaper than
    the integral images when a few boxes stand far apart in a big frame (a 12 MP still)."""
    frame_h, frame_w = gray.shape
    # The estimate is stored as the ink threshold, paper * (1 - contrast); "about as bright" is at least
    # (1 - contrast / 2) of the paper (a little noise is fine; a shade or a table is not).
    near_paper = (1.0 - 0.5 * config.ink_contrast) / (1.0 - config.ink_contrast)
    ok = np.ones(len(kept), bool)
    for k, ((x, y, w, h), patch) in enumerate(kept):
        ink_grey = cv2.mean(gray[y: y + h, x: x + w], mask=patch)[0]
        t = max(SIDE_STRIP, min(w, h) // 4)
        for index, (x0, y0, x1, y1) in enumerate(((x - t - 1, y, x - 1, y + h), (x + w + 1, y, x + w + t + 1, y + h),
                                                  (x, y - t - 1, x + w, y - 1), (x, y + h + 1, x + w, y + h + t + 1))):
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(frame_w, x1), min(frame_h, y1)
            if x1 <= x0 or y1 <= y0:
                continue  # outside the frame: nothing is known there
            # In numpy: cv2.compare takes a one-pixel strip for a scalar itself and answers (4, 1), which
            # cv2.mean then refuses as a mask for the (1, 1) strip.
            paper = (ink[y0:y1, x0:x1] == 0).view(np.uint8)
            # A side all ink (a neighbour's stroke fills it) says nothing.
            if cv2.countNonZero(paper) < 0.2 * (x1 - x0) * (y1 - y0):
                continue
            side = cv2.mean(gray[y0:y1, x0:x1], mask=paper)[0]
            if side < _brighter_than_ink(ink_grey, cv2.mean(limit[y0:y1, x0:x1], mask=paper)[0], config, pale):
                ok[k] = False
                break
            # About as bright as the paper, the strip or one half of it across (``_paper_on_every_side``).
            across_x = index < 2  # the left and right strips are split across x, the others across y
            xm, ym = ((x0 + x1) // 2, y1) if across_x else (x1, (y0 + y1) // 2)
            like = False
            for a, b, c, d in ((x0, y0, x1, y1), (x0, y0, xm, ym), (xm if across_x else x0, y0 if across_x else ym, x1, y1)):
                part = paper[b - y0: d - y0, a - x0: c - x0]
                count = cv2.countNonZero(part) if part.size else 0
                if count and count >= 0.2 * part.size and \
                        cv2.mean(gray[b:d, a:c], mask=part)[0] >= near_paper * cv2.mean(limit[b:d, a:c], mask=part)[0]:
                    like = True
                    break
            if not like:
                ok[k] = False
                break
    return ok


def _minus_heads(kept: list, members_of: dict, wide: set, marks: list,
                 flats: list, sign_pieces: list | None, loopless: dict, config: SegmentConfig) -> list:
    """``kept`` with the minus run into the digit after it parted from each piece that has one at its left end
    (``touching.minus_head``; issue 21, a hand's "625-3000"): the rest of the piece is kept, the stroke is a
    mark (it ends a number) and a sign piece (``vision.signs`` reads it as a minus). Only pieces at least
    ``touching.MINUS_GATE`` times as wide as tall are looked at, and parted only when at least
    ``touching.PAIR_HEIGHT`` of the median height of the pieces kept (where five or more tell it); ``members_of``, ``wide``, ``marks``, ``flats``
    and ``loopless`` follow the pieces parted."""
    out = []
    usual = None
    for box, patch in kept:
        x, y, bw, bh = box
        cut = minus_head(patch) if bw >= MINUS_GATE * bh else None
        if cut is not None:
            # As tall as the writing's digits (a minus is inside its digit's height): a + or an x is shorter,
            # and its left arm is as flat as a minus.
            if usual is None:
                usual = float(np.median([b[3] for b, _ in kept])) if len(kept) >= 5 else 0.0
            if bh < PAIR_HEIGHT * usual:
                cut = None
        if cut is None:
            out.append((box, patch))
            continue
        rest = patch[:, cut:]
        rows = np.flatnonzero(rest.any(axis=1))
        cols = np.flatnonzero(rest.any(axis=0))
        stroke_rows = np.flatnonzero(patch[:, :cut].any(axis=1))
        rest_box = (x + cut + int(cols[0]), y + int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
        if rest_box[3] < config.min_height:
            out.append((box, patch))
            continue
        stroke = (x, y + int(stroke_rows[0]), cut, int(stroke_rows[-1] - stroke_rows[0] + 1))
        rest_patch = np.ascontiguousarray(rest[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1])
        members = members_of.pop(box, [])
        members_of[rest_box] = members
        if id(patch) in loopless:
            del loopless[id(patch)]
            loopless[id(rest_patch)] = rest_patch
        if box in wide:
            wide.discard(box)
            if rest_box[2] > config.max_aspect * rest_box[3]:
                wide.add(rest_box)
        if box in marks:
            marks.remove(box)
        flats[:] = [f for f in flats if f[0] != box]
        marks.append(stroke)
        if sign_pieces is not None:
            sign_pieces.append((stroke, members))
        out.append((rest_box, rest_patch))
    return out


def _without_specks(kept: list) -> list:
    """The kept ``(box, patch)`` pieces without the specks (``SPECK_SHARE`` of their median height)."""
    typical = float(np.median([box[3] for box, _ in kept]))
    return [(box, patch) for box, patch in kept if box[3] >= SPECK_SHARE * typical]


def _union(boxes: list[tuple], members: list[int]) -> tuple[int, int, int, int]:
    if len(members) == 1:  # most digits are one piece of ink
        return boxes[members[0]]
    x0 = min(boxes[m][0] for m in members)
    y0 = min(boxes[m][1] for m in members)
    x1 = max(boxes[m][0] + boxes[m][2] for m in members)
    y1 = max(boxes[m][1] + boxes[m][3] for m in members)
    return x0, y0, x1 - x0, y1 - y0


def _member_patch(mask: np.ndarray, contours: list[np.ndarray], members: list[int], box: tuple) -> np.ndarray:
    """The ink of these contours only, inside ``box``: the mask ANDed with their filled outlines.

    Filling the outer contour and ANDing with the mask keeps the holes of 0, 6, 8, 9 and leaves out
    the ink of neighbours whose boxes overlap this one.
    """
    x, y, w, h = box
    shape = np.zeros((h, w), np.uint8)
    cv2.drawContours(shape, [contours[m] for m in members], -1, 255, thickness=cv2.FILLED, offset=(-x, -y))
    return cv2.bitwise_and(mask[y: y + h, x: x + w], shape)


@dataclass(frozen=True)
class Segmentation:
    """What the segmentation found in one frame, in source pixels.

    ``candidates``: pieces of ink that may be digits, top to bottom then left to right.
    ``marks``: wide flat pieces (a minus sign, a dash) that are no digit but may stand between digits;
    the reading stage ends a number at them. ``mask``: the ink mask (at the working size).
    ``dropped``: candidates left out because the frame's budget was reached (0 on any real page).
    ``splits``: for a wide candidate (digits whose ink touches?), by candidate index, the ways to cut it into
    digits (two parts, then more), each a tuple of parts left to right; ``recognizer.decide_splits`` keeps
    whichever reading the classifier is surer of. ``timings``: milliseconds of
    the sub-stages ``paper`` (grey, paper estimate, ink), ``lines`` (finding and removing lines) and
    ``pieces`` (grouping, filters, crops).
    """

    candidates: list[Candidate]
    marks: list[Box]
    mask: np.ndarray
    dropped: int = 0
    splits: dict[int, tuple[tuple[Candidate, ...], ...]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    signs: list[Candidate] = field(default_factory=list)
    """Pieces of ink too small or too flat to be digits, that may be signs or parts of signs (a +, the
    bars of an = or a fraction, the dots of a ÷): the arithmetic reader (``vision.signs``) groups and
    reads them. The largest first, at most one per ``pixels_per_candidate`` of the frame; empty unless
    ``segment(..., signs=True)``."""
    view: ViewMemory | None = None
    """With ``segment(..., remember=True)`` (live video): the paper and lines this frame was read with,
    for the source's next frame (``vision.view``)."""
    fields: list[Box] = field(default_factory=list)
    """The printed fields of a form (``vision.fields``): each comb of character boxes, or a box alone (a
    name's long box, a table's cell). The glyphs in one are read as one run (``reading.words``): a field
    holding letters is a word, none of its glyphs a digit."""
    wide: frozenset[int] = frozenset()
    """Candidates wider than ``max_aspect`` for their height (digits whose ink touches, or a word), also in
    ``marks``: no digit as a whole. ``recognizer.choose_splits`` reads them cut into digits (``splits``), or whole
    where the whole reads as a digit at the classifier's ceiling (one wide digit, a 2 with a long foot), and then
    they are no mark (``recognizer.uncut_marks``), or leaves them out."""
    blots: list[Box] = field(default_factory=list)
    """Pieces as tall as writing turned away as solid blots (``SegmentConfig.blob_density``): no digit, but
    the bold letters of print are such blots (the a, e and r of a bold label fill their boxes), and
    ``reading.words`` lets them hold a word's run together: without them its l stands alone and reads 1."""
    small: list[Box] = field(default_factory=list)
    """Pieces of ink the size of a small printed letter, too small to read (``SMALL_LETTER``) and joined to no
    digit: the x-height letters of a small printed label (the o, e, a of "Total", "Sheet": 8-9 px beside its 10-11
    px T, h, l, t, which are read, each alone a 1 or a 7). ``reading.words`` lets them stand in their runs, as the
    x-height letters they are when on the baseline beside taller glyphs; a page of digits alone never asks."""
    combs: list[Box] = field(default_factory=list)
    """Of ``fields``, the combs of character boxes (``vision.fields.comb_fields``): the digits in one are one
    number, however the boxes space them (``reading.numbers.group_numbers``)."""
    rules: tuple[np.ndarray, ...] = ()
    """A printed table's column rules, taken out of the ink (``vision.lines.column_rules``), each its path, float
    ``(N, 2)`` source ``(x, y)`` points from top to bottom: no number runs across one
    (``reading.numbers.group_numbers``)."""
    doubtful: dict[int, frozenset[int]] = field(default_factory=dict)
    """Of the candidates not in ``wide`` (perhaps one glyph), by index, the ways in ``splits`` beyond the
    first: ``recognizer.choose_splits`` keeps one only when every part reads at the classifier's ceiling (a
    handwritten G cut along a path reads as a fair 07, an @ cut into equal widths as a fair 00)."""
    narrow: frozenset[int] = frozenset()
    """Of the candidates in ``splits``, those narrower than tall offered a pair's cuts only because their outline
    dips from the top and the bottom (``vision.touching.pair_notches``): one digit's outline can dip so too (a 4
    open at the top, a gap left of its stem's foot), so ``recognizer.decide_splits`` cuts one only where it reads
    whole as no sure digit."""
    looked: frozenset[int] = frozenset()
    """Of ``narrow``, those offered their cuts on a second look (``late``, :func:`with_late_pairs`): no outline
    and no aspect says two digits, so ``recognizer.decide_splits`` takes a way of one only as a pair's parts,
    each of the piece's height (``recognizer.PAIR_PART_HEIGHT``), the first not read as 1."""
    cut_ids: dict[int, int] = field(default_factory=dict)
    """Live video with cut memory (``segment(..., cuts=...)``): by candidate index, the id under which the
    recognizer keeps what it decided for the ways in ``splits`` (``vision.view.CutAnchors``)."""
    carried: dict[int, int] = field(default_factory=dict)
    """... and, by candidate index, the wide pieces unchanged since such a decision (its id): not searched
    again (no entry in ``splits``); the recognizer applies what it decided then."""
    chains: frozenset[int] = frozenset()
    """Of the candidates not in ``wide``, those whose ink, its small gaps bridged, holds loops side by side (no
    one digit does: an 8's are one above the other): ``splits`` holds them cut between the loops, and
    ``recognizer.choose_splits`` takes parts read at the ceiling even where the whole reads as a digit as
    surely ("00" run together read as an 8)."""
    loop_ways: dict[int, frozenset[int]] = field(default_factory=dict)
    """Of ``chains``, by index, the ways in ``splits`` cut between the loops side by side (each loop's part its
    ring, ``vision.touching._loop_parts`` and ``_bridged_loop_parts``): where the whole reads as no digit,
    ``recognizer.decide_splits`` keeps one whose every part reads at ``SPLIT_CONFIDENCE``, as it does a
    too-wide piece's ways (fast zeros run into each other: "00" whose parts read 0.996 and 0.992)."""
    origin: tuple[float, int, int] = (1.0, 0, 0)
    """How ``mask`` lies on the frame: working pixels per source pixel, and the source offset of its corner
    (a region of interest): a mask box ``(x, y, w, h)`` is ``to_frame(origin, x, y, w, h)`` there."""
    even_ways: dict[int, frozenset[int]] = field(default_factory=dict)
    """By candidate index, the ways in ``splits`` that cut a pair in equal halves (``vision.touching._even_halves``):
    offered by no thin place in the ink, so they also halve one wide digit (a 5 whose bowl reads 6), and
    ``recognizer.decide_splits`` takes one only where the whole reads as no sure digit."""
    third_ways: dict[int, frozenset[int]] = field(default_factory=dict)
    """By candidate index, the ways in ``splits`` that cut a piece of ``late_thirds`` in equal thirds, upright and
    along the ink's slant (``vision.touching._even_ways``, :func:`with_late_thirds`): ``recognizer.decide_splits``
    keeps one only where both read as the same three digits (``recognizer._agreed_thirds``)."""
    tall: frozenset[int] = frozenset()
    """Of the candidates in ``splits``, those at least ``touching.PAIR_HEIGHT`` of the writing's usual height
    (every one where too few pieces tell that height): a piece much shorter (a printed word on a form, a small
    letter) is no run of digits at the writing's size, and ``recognizer.decide_splits`` keeps its ways only on
    the parts' sure readings, not on the likeliest way (``recognizer.FALLBACK_MEAN``)."""
    joins: tuple[tuple[tuple[int, ...], tuple[tuple[Candidate, ...], ...]], ...] = ()
    """Pieces side by side on one line whose ink, its small gaps bridged, closes loops that none of them closes
    alone (the zeros of a fast "1000" come out as "(", "X" and ")" where the pen skipped at the top of each
    loop): each ``(members, ways)``, ``members`` the candidates' indices left to right, ``ways`` the ways to
    read their joined ink, the whole first, then cut (``_split_touching``). ``recognizer.choose_splits`` keeps
    one only when every part reads at the classifier's ceiling and a member alone reads as no fair digit."""
    hats: dict[int, Box] = field(default_factory=dict)
    """Of ``joins``, by index, those of one piece and a flat mark (or a speck wider than tall, ``HAT_ASPECT``)
    sitting on its top-right (a 5 whose pen lifted before its top bar, ``_lifted_hats``): the mark's box, a mark
    (a speck is none) and a possible sign (a minus) unless the join is read, and then part of the digit
    (``recognizer.digit_marks``)."""
    still: tuple[int, int, int] | None = None
    """Live video read whole where whole frames may be carried (``recognizer.segment_frame``): ``(anchor id,
    dx, dy)``, the still anchor whose view this frame shows (``vision.view.StillAnchor``; made on this frame,
    or an earlier one of the page standing still) and how far (source pixels) the view moved since it."""
    kept: tuple[int, int, int] | None = None
    """A frame of live video not segmented because the page stood still since a frame read whole:
    ``(anchor id, dx, dy)``, that frame's still anchor and how far (source pixels) the view moved since.
    Nothing else is found: the recognizer carries that frame's reading, moved by ``dx, dy``."""
    deferred: bool = False
    """Such a frame segmented after all, by the recognizer, with the view memory it kept
    (``Recognizer.segment_kept``): the cut anchors it made are not the next frames'."""
    renews: tuple[int, int, int] | None = None
    """A frame read whole (``still``, a new still anchor) only because the last anchor grew too old to carry
    from, the page standing still since it: ``(last anchor id, dx, dy)``, that anchor and how far (source
    pixels) the view moved since it. The recognizer may take the last reading of that anchor's view as the
    first of the two readings that must agree (``recognizer.same_reading``)."""
    changes: tuple[int, int, int] | None = None
    """A frame read whole (a new still anchor) that still shows the last anchor's view but changed since it
    (a window of the still test changed, or the view moved further than ``view.MAX_SHIFT``): ``(last anchor
    id, dx, dy)``, as ``renews``. The recognizer may take the last reading of that view as the first of the
    two that must agree, where this frame's tracked reading says what its own crops say
    (``Recognizer._renewal_agrees``)."""
    late: dict[int, "LatePair"] = field(default_factory=dict)
    """By candidate index, the pieces offered no cut that a pair's cuts may yet be offered:
    ``touching.NARROW_PAIR`` to 1 times as wide as tall, of the writing's height (any, where fewer than five
    pieces tell it), not notched (``narrow``; on a page of so few pieces, notched too). Two digits written into
    each other make such a piece, and so does nearly every round single digit (a 0, a 4, an 8), so they are cut
    only where the classifier reads them whole as no sure digit (``recognizer.second_look``, with
    :func:`with_late_pairs`): a second, small batch, not a crop more on a page whose digits read surely."""
    late_thirds: dict[int, "LatePair"] = field(default_factory=dict)
    """By candidate index, the pieces of the writing's height (``Segmentation.tall``) ``touching.THIRDS_ASPECT`` to
    ``touching.THREE_ASPECT`` times as wide as tall, offered a pair's cuts only: three digits written into each other
    (gaps down to -0.15 of their height) make such a piece, and so do most wide single digits and pairs, so they are
    offered equal thirds only where the classifier reads them whole as no digit (``recognizer.second_look``, with
    :func:`with_late_thirds`)."""


@dataclass(frozen=True)
class LatePair:
    """A piece of ``Segmentation.late``: its box and mask (``patch``) on the working frame, the working frame's
    grey and clear-ink threshold under that box (what :func:`ink_crop` reads), and how its crops are made."""

    box: tuple[int, int, int, int]
    patch: np.ndarray
    gray: np.ndarray
    limit: np.ndarray
    grainy: bool
    config: "SegmentConfig"


def with_late_pairs(found: Segmentation, chosen) -> Segmentation:
    """``found`` with the pieces ``chosen`` of ``found.late`` offered a pair's cuts (``touching.narrow_pair_ways``)
    as a notched piece narrower than tall is (``narrow``): its halves counted as a pair's first cut, its edge
    cuts only at the classifier's ceiling (``doubtful``); each in ``looked``; ``late`` emptied."""
    splits, doubtful = dict(found.splits), dict(found.doubtful)
    narrow, tall, looked = set(found.narrow), set(found.tall), set(found.looked)
    to_source = partial(to_frame, found.origin)
    for k in chosen:
        piece = found.late[k]
        ways, trusted = narrow_pair_ways(piece.patch, piece.box, piece.config.min_height)
        if not ways:
            continue
        x, y = piece.box[:2]
        splits[k] = tuple(tuple(Candidate(box=to_source(*b), crop=ink_crop(piece.gray, piece.limit, (b[0] - x, b[1] - y, b[2], b[3]), p,
                                                                           piece.config, piece.grainy)) for b, p in parts)
                          for parts in ways)
        if len(ways) > trusted:
            doubtful[k] = frozenset(range(trusted, len(ways)))
        narrow.add(k)
        tall.add(k)
        looked.add(k)
    return replace(found, splits=splits, doubtful=doubtful, narrow=frozenset(narrow), tall=frozenset(tall), late={},
                   looked=frozenset(looked))


def with_late_thirds(found: Segmentation, chosen) -> Segmentation:
    """``found`` with the pieces ``chosen`` of ``found.late_thirds`` offered their equal thirds, upright and along
    the ink's slant (``touching._even_ways``), after the ways they had: each such way in ``third_ways``, and
    ``doubtful`` (``recognizer.decide_splits`` weighs them as one glyph's other cuts, and by their agreement,
    ``recognizer._agreed_thirds``); ``late_thirds`` emptied."""
    splits, doubtful, thirds, tall = dict(found.splits), dict(found.doubtful), dict(found.third_ways), set(found.tall)
    to_source = partial(to_frame, found.origin)
    for k in chosen:
        piece = found.late_thirds[k]
        ways = _even_ways(piece.patch, piece.box, 3)
        if not ways:
            continue
        x, y = piece.box[:2]
        old = splits.get(k, ())
        splits[k] = old + tuple(tuple(Candidate(box=to_source(*b), crop=ink_crop(piece.gray, piece.limit, (b[0] - x, b[1] - y, b[2], b[3]),
                                                                                 p, piece.config, piece.grainy)) for b, p in parts)
                                for parts in ways)
        thirds[k] = frozenset(range(len(old), len(splits[k])))
        doubtful[k] = doubtful.get(k, frozenset()) | thirds[k]
        tall.add(k)
    return replace(found, splits=splits, doubtful=doubtful, third_ways=thirds, tall=frozenset(tall), late_thirds={})


def _same_cut(way: tuple, other: tuple) -> bool:
    """Whether two ways to cut a piece (``((box, patch), ...)``) give the same parts: one is offered once."""
    return len(way) == len(other) and all(a[0] == b[0] and np.array_equal(a[1], b[1]) for a, b in zip(way, other))


def _digit_height(boxes: np.ndarray, config: SegmentConfig, frame_w: int, frame_h: int,
                  contours: list[np.ndarray] | None = None) -> float | None:
    """The writing's typical digit height: the median height of the pieces of ink shaped like digits
    (``boxes``: x, y, w, h rows), or None when there are none (a page whose every stroke touches a grid).
    With the pieces' outer ``contours`` (one per row of ``boxes``), the hairlines (``HAIRLINE_AREA``) are left
    out where pieces drawn with a wider stroke are there to measure."""
    shaped = _digit_shaped(boxes, config, frame_w, frame_h, contours)
    return float(np.median(boxes[shaped, 3])) if shaped is not None and shaped.any() else None


def _digit_shaped(boxes: np.ndarray, config: SegmentConfig, frame_w: int, frame_h: int,
                  contours: list[np.ndarray] | None = None) -> np.ndarray | None:
    """Which of the pieces ``boxes`` (x, y, w, h rows) are shaped like digits, those :func:`_digit_height` measures
    the writing on (None: no piece)."""
    if not len(boxes):
        return None
    y, w, h = boxes[:, 1], boxes[:, 2], boxes[:, 3]
    # A hairline 1 may be twenty times taller than wide.
    shaped = (h >= config.min_height) & (w <= config.max_aspect * h) & (w * 20 >= h)
    # A frame of lines (a grid, a table, the page's edges) spans the frame, and so does a rule that runs
    # from the frame's top to its bottom: not writing.
    shaped &= ~((h > 0.5 * frame_h) & (w > 0.5 * frame_w)) & (h <= 0.9 * frame_h) & ~((y <= 0) & (y + h >= frame_h))
    if contours is not None and shaped.any():
        # A faint grid that the threshold breaks up leaves hundreds of bits one pixel wide, a few pixels
        # tall: measured with the writing they would set its height to theirs (and TOO_BIG would drop the
        # digits). A stroke a pixel wide encloses no area inside its outer contour; a pen's does.
        which = np.flatnonzero(shaped)
        area = np.array([cv2.contourArea(contours[i]) for i in which.tolist()])
        stroked = area >= HAIRLINE_AREA * h[which]
        if stroked.any():
            shaped = np.zeros_like(shaped)
            shaped[which[stroked]] = True
    return shaped


def segment(image: np.ndarray, config: SegmentConfig = DEFAULT_CONFIG, signs: bool = False,
            memory: ViewMemory | None = None, remember: bool = False, source_scale: int = 1,
            cuts: ReuseConfig | None = None) -> Segmentation:
    """Cut every candidate digit out of ``image``.

    ``image``: uint8 (or uint16) array, shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, any size
    from 1x1. Boxes are in source pixels; crops are (28, 28) float32 in [0, 1]. ``signs``: also hand over
    the small and flat pieces that may be signs (``Segmentation.signs``).

    Live video: with ``remember``, the paper estimate and the lines found are handed back
    (``Segmentation.view``), and ``memory``, what the same source's previous frame handed back, is used
    for this frame where the view still matches (``vision.view``). Without ``remember`` (stills, the
    default) every frame is read on its own.

    ``cuts`` (live video, with ``remember``): a wide piece unchanged since the frame whose ways to cut it the
    recognizer decided on, by this test of the classifier's reuse, is not searched again
    (``Segmentation.carried``, ``vision.view.CutAnchors``); None: every wide piece is searched on every frame.

    ``source_scale``: ``image`` is its source shrunk by this whole factor already (a big JPEG decoded
    smaller, ``Frame.scale``); boxes are given in the source's pixels, and ``config.roi`` is taken in them.
    """
    started = time.perf_counter()
    gray = to_gray(np.asarray(image))
    full_h, full_w = gray.shape[:2]
    source_scale = max(1, int(source_scale))
    offset_x = offset_y = 0
    if config.roi is not None:
        rx, ry, rw, rh = (int(v) // source_scale for v in config.roi)
        rx, ry = min(max(0, int(rx)), full_w), min(max(0, int(ry)), full_h)
        rw, rh = max(0, min(int(rw), full_w - rx)), max(0, min(int(rh), full_h - ry))
        gray = gray[ry: ry + rh, rx: rx + rw]
        offset_x, offset_y = rx * source_scale, ry * source_scale
    scale = 1.0 / source_scale  # working pixels per source pixel
    if gray.size and max(gray.shape) > config.max_side:
        # Shrunk by a whole factor: INTER_AREA at an integer ratio is a plain block mean, several times
        # cheaper than at a fractional one (a 12 MP photo: 4000 -> 2000 px).
        factor = -(-max(gray.shape) // config.max_side)
        scale = 1.0 / (factor * source_scale)
        gh, gw = gray.shape[0] - gray.shape[0] % factor, gray.shape[1] - gray.shape[1] % factor
        if gh and gw:
            gray = cv2.resize(gray[:gh, :gw], (gw // factor, gh // factor), interpolation=cv2.INTER_AREA)
        else:  # a sliver thinner than the factor: shrunk along its length only
            gray = cv2.resize(gray, (max(1, gray.shape[1] // factor), max(1, gray.shape[0] // factor)),
                              interpolation=cv2.INTER_AREA)
    h, w = gray.shape[:2]
    if h < config.min_height or w < 2:
        return Segmentation([], [], np.zeros((h, w), np.uint8))
    if memory is not None and not remember:
        raise ValueError("segment(memory=...) needs remember=True: the memory is only for live video")

    small, small_scale = shrink_for_paper(gray, config)
    shift = view_shift(memory, small, (h, w), config, small_scale) if remember else None
    if shift is None:
        paper = estimate_paper(gray, config, small)
    else:
        paper = memory.paper.shifted(*shift)
    clear, faint = ink_against(gray, paper)
    # Pale, blurred ink is measured with the paper: on the anchor frame of a view, then carried.
    pale = measure_pale_ink(gray, paper, clear, config) if shift is None else memory.pale
    if pale is not None and pale.blur is not None:
        # The blur measured on the anchor is taken out of every frame of the view: ink, lines, pieces and
        # crops are found on the page restored.
        gray = restore(gray, pale.blur, noise_term(paper.grain))
        clear, faint = ink_against(gray, paper)
    usual_faint = faint
    faint, reach = _faint_for_pale_ink(gray, paper, faint, pale, config)
    inside, limit = paper.inside, paper.limit
    grainy = paper.grain >= GRAINY  # a noisy photo: each piece's mask despeckled for its crop (``ink_crop``)
    paper_done = time.perf_counter()
    # Lines are looked for in the faint ink, so that a faint printed line is gone before the hysteresis
    # could carry clear ink along it.
    mask = clear if faint is None else faint
    unlined = mask
    found = fields = searched = held = None
    # A thin pen's page: its lines are looked for at the usual faint level, where the stems of 1s written one under
    # another do not join into a ruling, and taken out of its lower faint ink.
    search = usual_faint if pale is not None and pale.thin and usual_faint is not None else mask
    if shift is None:
        lines, fields, searched = _search_lines(search, config, gray)
        if search is not mask:
            searched = None
        found = lines
        held = view_shift(memory, small, (h, w), config, small_scale, any_age=True) if remember else None
        if lines is not None and held is not None and memory.found is not None:
            # Estimated afresh only because the anchor grew old: the same view, the same lines. One
            # frame's search finds a line, or a stretch of one, that the next frame's does not (the flat
            # base of a 2 sitting on a ruled line), or measures its lines a pixel thicker; what is
            # carried lasts several frames, so only what this anchor and the last both found is taken out.
            lines = lines.found_in_both(memory.found.shifted(*held))
    else:
        lines = None if memory.lines is None else memory.lines.shifted(*shift)
    if lines is not None:
        mask = take_out_lines(mask, lines, gray)
    followed = False
    if pale is not None and pale.follow is not None and faint is not None and (lines is None or not lines.bands):
        # Pale strokes with no blur taken out, on a page with no ruling: followed down to their faintest stretches
        # (``PALE_FOLLOW``), where nothing at that level may be a line either (a grid fainter than the page's
        # faint level would join the writing into a web).
        lower = _faint_for_pale_ink(gray, paper, faint, pale, config, pale.follow)[0]
        grown = components(_grow(clear, lower, reach))
        if not _as_long_as_a_line(grown[2][1:, :4], w, h, config) and not _on_a_lattice(faint, config):
            _part_digits_joined(lower, grown, _grow(clear, mask, reach), mask, config)
            faint = mask = unlined = lower
            searched = None  # the pieces of the mask at the page's faint level
            followed = True
    if pale is not None and pale.blur is None and faint is not None and \
            cv2.countNonZero(cv2.bitwise_and(clear, mask)) < SCARCE_CLEAR * cv2.countNonZero(cv2.bitwise_and(usual_faint, mask)):
        # Pale writing whose clear ink is scarce: strokes that barely reach the clear level (a thin pen's) are
        # followed from the faint level's darkest (``SCARCE_CLEAR``).
        clear = usual_faint
    if faint is not None:
        mask = _grow(clear, mask, reach)
    # The mask the line search cut into pieces, unchanged (no line taken out, no faint ink grown): its
    # pieces (a page with no long ink, read on its anchor frame or alone).
    contours, boxes, frames, holes, looped = searched if searched is not None and mask is unlined else \
        _pieces_of(mask, config.min_height)
    if frames.any():
        # A net still in the mask (a table turned or blurred past the line search) would take every digit
        # touching its rules with it: its rules go, measured against the writing in its cells.
        writing = np.flatnonzero(~frames).tolist()
        netless = take_out_nets(mask, contours, boxes, frames,
                                _digit_height(boxes[~frames], config, w, h, [contours[i] for i in writing]))
        if netless is not None:
            mask = netless
            contours, boxes, frames, _, looped = _pieces_of(mask, config.min_height)
    view = None
    if remember:
        view = memory.older() if shift is not None else ViewMemory(
            np.float32(small), (h, w), config, paper.guarded(max(1, int(round(PAGE_EDGE_GUARD * min(h, w))))), lines,
            found=found, pale=pale)

    lines_done = time.perf_counter()
    # Pieces first, filters after: a 3 written in two strokes has a lower part wider than tall,
    # which only passes the aspect filter once it is joined to its upper part.
    big = (boxes[:, 3] >= config.min_height) | (boxes[:, 2] >= config.min_height)
    small = ~big & ((boxes[:, 3] >= 2) | (boxes[:, 2] >= 2))
    # A piece holding writing in its holes is a ring, a frame or a net: no digit, nor part of one (its
    # contents are pieces of their own).
    big &= ~frames
    # So is a piece many digit heights tall (or wide, and not flat): a band of table along the page's
    # edge, a frame line. It would own the digits inside its box (``_merge_pieces``) and take them with it.
    typical = _digit_height(boxes, config, w, h, contours)
    if fields is None and shift is not None and memory.fields is not None:
        fields = shifted(memory.fields, *shift)  # the anchor's, seen before its lines were taken out
    if fields is None:  # no lines looked for (none there, or carried from the last frame): this mask's holes
        fields = find_fields(holes, typical, mask=mask)
    if view is not None and shift is None:
        view = replace(view, fields=fields)
    fields, cells = fields
    if typical is not None:
        too_big = TOO_BIG * typical
        big &= ~((boxes[:, 3] > too_big) | ((boxes[:, 2] > too_big) & (boxes[:, 2] <= config.max_aspect * boxes[:, 3])))
    # Ink that the frame's edge cuts through (the table beside the page, half a digit) joins nothing.
    for i in np.flatnonzero(big & ((boxes[:, 0] <= 0) | (boxes[:, 1] <= 0) | (boxes[:, 0] + boxes[:, 2] >= w) | (boxes[:, 1] + boxes[:, 3] >= h))):
        box = tuple(int(v) for v in boxes[i])
        big[i] = _grazes_border(mask[box[1]: box[1] + box[3], box[0]: box[0] + box[2]], box, w, h, config)
    pieces, specks = np.flatnonzero(big).tolist(), np.flatnonzero(small).tolist()
    box_list = [tuple(row) for row in boxes.tolist()]  # plain ints: read per group below
    groups = _merge_pieces(box_list, pieces, specks, config, _digit_height(boxes[big], config, w, h, [contours[i] for i in np.flatnonzero(big).tolist()]),
                           looped=set(np.flatnonzero(looped).tolist())) if pieces else {}

    scale_x = inside.shape[1] / float(w)
    scale_y = inside.shape[0] / float(h)
    kept, marks, blots, low = [], [], [], []
    # The patches of kept pieces none of whose members closes a loop (``_pieces_of``): their patch closes none
    # either (a patch is its members' ink and what sits in their holes; a hole holding ink that closes a loop
    # is wider and taller than that loop, so a loop itself), so the loop tests skip their contour search. By
    # id, the patch held so that no other array takes its id while the frame is read.
    loopless: dict[int, np.ndarray] = {}
    wide = set()  # boxes of pieces too wide for one digit, read only cut into digits
    sign_pieces = []  # (box, members) of pieces too small or flat for a digit: perhaps a sign
    flats = []  # (box, members) of pieces too flat for a digit: perhaps a 5's lifted hat (``_lifted_hats``)
    hat_pieces = []  # (box, members) of specks wider than tall: perhaps a 5's hat too
    members_of = {}  # box -> members of the pieces kept
    united = [_union(box_list, members) for members in groups.values()]
    surrounded = _surrounded_all(united, inside, scale_x, scale_y, config, gray, limit)
    for members, box, paper_around in zip(groups.values(), united, surrounded):
        x, y, bw, bh = box
        if bw > config.max_aspect * bh:
            if bw >= config.min_height and bh >= 2 and bw <= 0.25 * w:
                marks.append(box)  # a dash or a minus sign, perhaps between two digits
                flats.append((box, members))
            if signs and bw <= 0.25 * w:
                sign_pieces.append((box, members))
            if not (config.min_height <= bh <= config.max_height * h and bw <= MAX_PARTS * bh):
                continue
            # As tall as writing: perhaps digits whose ink touches ("1000" in one stroke), a digit only
            # when cut (``Segmentation.wide``); else it stays the mark it is.
            wide.add(box)
        if bh < config.min_height or bh > config.max_height * h:
            if signs and bh < config.min_height:
                sign_pieces.append((box, members))
            if bh < config.min_height and _small_letter(bw, bh, config):
                low.append(box)  # as wide as a digit, too short: perhaps a small printed letter (an m, a w)
            continue
        if not paper_around:
            continue
        patch = _member_patch(mask, contours, members, box)
        area = cv2.countNonZero(patch)
        if _keep(bw, bh, area, config) and _grazes_border(patch, box, w, h, config):
            kept.append((box, patch))
            members_of[box] = members
            if not any(looped[m] for m in members):
                loopless[id(patch)] = patch
        elif _solid(bw, bh, area, config):
            blots.append(box)  # a bold printed letter, filled: no digit, but a glyph of its line
    if kept:
        # Ink is no paper, nor are the lines taken out of it, with their soft edges (a pixel either side).
        no_paper = mask
        if unlined is not mask:
            no_paper = cv2.bitwise_or(mask, cv2.dilate(cv2.subtract(unlined, mask), np.ones((3, 3), np.uint8)))
        # A frame whose pale strokes were followed down to their faintest (``PALE_FOLLOW``): its pieces are judged
        # against their own contrast (``PALE_SIDE``).
        sides_ok = _paper_on_every_side(gray, limit, no_paper, kept, config, followed)
        if not sides_ok.all():
            # Type is set tight: a printed letter a pixel or two from the next fails on the side it faces (the O and
            # d of a bold "Old", the "ta" of "Total"). No digit, but a glyph of its line, as the solid blots are.
            blots += _set_tight([box for box, _ in kept], sides_ok)
        kept = [item for item, ok in zip(kept, sides_ok) if ok]
    if cells:
        # In a form's boxes: the side of a box is no digit, a glyph ends at its box's rules, an empty box is
        # no 0 (vision.fields).
        kept = in_boxes(kept, fields, cells, mask, config.min_height)
    if len(kept) >= 3:
        whole = kept
        kept = _without_specks(kept)
        if signs and len(kept) < len(whole):
            # A speck is no digit, but it may be a sign: an = whose bars ran together, a small x
            # (``vision.signs`` reads it, as it reads the pieces too small for a digit). A flat one is a sign
            # piece already.
            taken = {box for box, _ in kept} | {box for box, _ in sign_pieces}
            sign_pieces += [(box, members_of[box]) for box, _ in whole if box not in taken and box in members_of]
        if len(kept) < len(whole):
            # ... or a 5's short, thick hat, lying flat yet no flat piece (``HAT_ASPECT``): offered to
            # ``_lifted_hats`` as the flat ones are.
            left = {box for box, _ in kept}
            hat_pieces = [(box, members_of[box]) for box, _ in whole
                          if box not in left and box in members_of and box[2] > HAT_ASPECT * box[3]]
    kept = _minus_heads(kept, members_of, wide, marks, flats, sign_pieces if signs else None,
                        loopless, config)
    budget = max(16, (h * w) // max(1, config.pixels_per_candidate))
    dropped = max(0, len(kept) - budget)
    if dropped:
        kept = sorted(kept, key=lambda item: -(item[0][2] * item[0][3]))[:budget]

    origin = (scale, offset_x, offset_y)
    to_source = partial(to_frame, origin)

    kept.sort(key=lambda item: (item[0][1], item[0][0]))
    candidates = [Candidate(box=to_source(*box), crop=ink_crop(gray, limit, box, patch, config, grainy)) for box, patch in kept]
    too_wide = frozenset(k for k, (box, _) in enumerate(kept) if box in wide)
    sign_candidates = _sign_candidates(mask, contours, box_list, sign_pieces, specks, groups, budget, to_source) if signs else []
    small_letters = [to_source(*box) for box in (low + [box_list[k] for k in _small_letters(box_list, specks, groups, config)])[:budget]]
    splits = {}
    # A piece is wide for this writing when wider than split_aspect, and, on a page of some writing, than
    # half again its usual width for its height (a wide hand, or a frame stretched to another aspect).
    split_at = config.split_aspect
    aspects = [bw / bh for k, ((_, _, bw, bh), _) in enumerate(kept) if k not in too_wide]
    if len(aspects) >= 5:
        split_at = max(split_at, 1.5 * float(np.median(aspects)))
    # The writing's usual height: a piece much shorter (a star, a dot, a small letter) is no pair of digits
    # whose ink touches, and is not offered the cuts that only a pair's reading at the ceiling keeps.
    usual = float(np.median([bh for k, ((_, _, _, bh), _) in enumerate(kept) if k not in too_wide])) \
        if len(aspects) >= 5 else 0.0
    doubtful = {}
    chains = set()
    full_height = set()  # ``Segmentation.tall``
    loop_ways = {}
    even_ways = {}
    late_thirds = {}
    # Cut decisions carried over (``vision.view.CutAnchors``): only within one view, dropped with it.
    anchors = None
    if remember and cuts is not None:
        anchors = memory.cuts if memory is not None and memory.cuts is not None and (shift is not None or held is not None) \
            and memory.cuts.config == cuts else CutAnchors.empty(cuts)
    # The anchors' boxes are kept where they lie on the view memory's anchor frame (``CutAnchors``): this frame's
    # boxes are compared moved back by the view's shift since it, so a piece that only moved with the page (the
    # frames carried whole between two read whole drift a few pixels) keeps its decision. A memory estimated
    # afresh on this frame (the same view) takes them over moved onto it.
    at = (0, 0)
    if anchors is not None:
        if shift is not None:
            at = (int(round(shift[0] / scale)), int(round(shift[1] / scale)))
        elif held is not None:
            anchors = anchors.moved(int(round(held[0] / scale)), int(round(held[1] / scale)))
    kinds, narrow = {}, {}
    for k, (box, _) in enumerate(kept):
        three = box[2] >= THREE_ASPECT * box[3]
        aspect = config.split_aspect if k in too_wide or three else split_at
        # Else no search below finds a way: neither a cut nor loops side by side (``_loop_parts``).
        if (box[2] >= aspect * box[3] and box[2] >= config.min_height) or (k not in too_wide and box[2] >= config.split_aspect * box[3]):
            kinds[k] = _WIDE if k in too_wide else _THREE if three else _TWO
        elif k not in too_wide and (not usual or box[3] >= PAIR_HEIGHT * usual) and box[2] >= NARROW_PAIR * box[3] \
                and box[2] >= config.min_height:
            narrow[k] = _TWO
    late = {}
    if narrow:
        # Narrower than tall, the outline notched above and below: two digits written into each other.
        notched = pair_notches(np.stack([candidates[k].crop for k in narrow]))
        # The others, and every such piece of a page too few pieces tell the writing's height on, are offered a
        # pair's cuts only once the classifier read them whole as no sure digit (``Segmentation.late``,
        # ``recognizer.second_look``): most such pieces are one round digit.
        late = {k: LatePair(box, kept[k][1], gray[box[1]: box[1] + box[3], box[0]: box[0] + box[2]],
                            limit[box[1]: box[1] + box[3], box[0]: box[0] + box[2]], grainy, config)
                for k, depth in zip(narrow, notched) if depth < PAIR_NOTCH or not usual for box in (kept[k][0],)}
        narrow = {k: _TWO for k, depth in zip(narrow, notched) if depth >= PAIR_NOTCH and usual}
        kinds.update(narrow)
    carried, cut_ids, fresh = {}, {}, []
    if anchors is not None:
        order = sorted(kinds)
        stand = anchors.match([candidates[k] for k in order], [kinds[k] for k in order], at)
        carried = {k: a for k, a in zip(order, stand) if a >= 0}
    # The loops of each kept piece, found at most once a frame: the cuts between loops side by side and the
    # joins of pieces side by side both ask for them (one contour search a piece, not one per test; none for
    # a piece known to close no loop, most digits).
    own_loops: dict[int, list] = {}

    def loops_of(k: int) -> list:
        if k not in own_loops:
            patch = kept[k][1]
            own_loops[k] = [] if loopless.get(id(patch)) is patch else _loops(patch)
        return own_loops[k]

    for k, (box, patch) in enumerate(kept):
        if k not in kinds or k in carried:
            continue
        # A piece too wide for one digit loses nothing by being cut, so it is cut in more ways and into more
        # parts; one that may be a single wide digit (a 5 in a form's box) only in two, at its least inked
        # column (cut more ways, such pieces on the stress rows gave fewer numbers exact, and a real form
        # lost a digit).
        trusted = 1  # the ways, first in ``ways``, that count read at SPLIT_CONFIDENCE; the others at the ceiling
        if k in too_wide:
            ways = _split_touching(patch, box, config.min_height, config.split_aspect, CUT_CHOICES, bridged=True, most=RUN_PARTS)
        elif box[2] >= THREE_ASPECT * box[3]:
            # Wider than nearly any one digit, though not too wide for one: three digits whose ink touches
            # fit in it, so it is cut as a too-wide piece is, in fewer ways.
            ways = _split_touching(patch, box, config.min_height, config.split_aspect, THREE_CHOICES)
        else:
            ways = _halves(patch, box, config.min_height, split_at)
            tall = box[3] >= PAIR_HEIGHT * usual
            if not ways and tall:
                # Narrower than the page's usual aspect allows (a page of touching pairs has a wide median):
                # still two digits perhaps, but read cut only at the ceiling.
                trusted = 0
                ways = _halves(patch, box, config.min_height, NARROW_PAIR if k in narrow else config.split_aspect)
                if k in narrow:
                    # Narrower than tall, but notched above and below (``touching.pair_notches``): that is the
                    # sign of two digits the aspect gives a wide piece, so its halves count as a pair's do, unless
                    # it reads whole as one sure digit (``narrow``: a 4 open at the top dips so too).
                    trusted = len(ways or ())
            # A 1 touching its neighbour ("10", "41") is parted near the piece's edge, outside the middle 40%.
            edges = () if not tall else _edge_halves(patch, box, config.min_height)
            if edges:
                ways = (tuple(ways) if ways else ()) + edges
            # ... and a pair written into each other, where the least ink lies inside one of them, in equal halves.
            evens = () if not tall or box[2] < config.split_aspect * box[3] else \
                tuple(e for e in _even_halves(patch, box) if not any(_same_cut(e, other) for other in (ways or ())))
            if evens:
                if not ways:
                    trusted = 0
                even_ways[k] = frozenset(range(len(ways or ()), len(ways or ()) + len(evens)))
                ways = (tuple(ways) if ways else ()) + evens
            if tall and box[2] >= THIRDS_ASPECT * box[3]:
                # Perhaps three digits written into each other: cut in thirds only once read whole as no digit.
                late_thirds[k] = LatePair(box, patch, gray[box[1]: box[1] + box[3], box[0]: box[0] + box[2]],
                                          limit[box[1]: box[1] + box[3], box[0]: box[0] + box[2]], grainy, config)
        if k not in too_wide and box[2] >= config.split_aspect * box[3]:
            # Loops side by side are two digits: no one digit has them (an 8's are one above the other), and
            # few letters do. Such a piece ("00" run together, "08") is cut between them, even where the page's
            # pieces are as wide (a page of touching digits) or it reads as one sure digit.
            looped = _loop_parts(patch, box, loops_of(k))
            # ... and so are loops its ink closes once the pen's skips are bridged: zeros written fast, open
            # at the top and run into each other ("CCO", real18's amounts), close no loop of their own. Only
            # for a piece of the writing's height, as the pair cuts (a star or a dot is no chain of zeros).
            bridged = one = None
            if box[3] >= PAIR_HEIGHT * usual:
                found_loops = _bridged_loops(patch, box[3])
                bridged = _bridged_loop_parts(patch, box, found=found_loops)
                # ... the 1 of "1000" written into the first zero a digit of its own too (``ONE_EDGE``)
                one = _bridged_loop_parts(patch, box, found=found_loops, edge=ONE_EDGE)
            for way in (looped, bridged, one):
                if way is None:
                    continue
                chains.add(k)
                same = [n for n, other in enumerate(ways or ()) if _same_cut(way, other)]
                if same:
                    loop_ways.setdefault(k, set()).add(same[0])
                    continue  # offered already (a piece wide enough for three is cut between its own loops)
                if not ways:
                    trusted = 0
                ways = (tuple(ways) if ways else ()) + (way,)
                loop_ways.setdefault(k, set()).add(len(ways) - 1)
        if ways and k not in too_wide and len(ways) > trusted:
            # A piece that may be one glyph (a letter in a form's name box, an @) read cut in many ways is as
            # many chances for it to read as digits by luck: beyond the first way (cut in two at the column
            # with the least ink, as such pieces always were), a way counts only read at the classifier's
            # ceiling.
            doubtful[k] = frozenset(range(trusted, len(ways)))
        if ways:
            if box[3] >= PAIR_HEIGHT * usual:
                full_height.add(k)
            splits[k] = tuple(tuple(Candidate(box=to_source(*b), crop=ink_crop(gray, limit, b, p, config, grainy)) for b, p in parts)
                              for parts in ways)
        # Searched, with or without ways: an anchor either way. A piece no search finds a way to cut (most digits
        # of a page whose digits are all a little wide, the stretched bench) is read whole, and while it stays
        # unchanged it is not searched again (the recognizer keeps "whole" for it, as for a way not taken).
        fresh.append(k)
    if anchors is not None:
        before = anchors
        anchors, ids = before.after(list(carried.values()), [(candidates[k], kinds[k]) for k in fresh], at)
        cut_ids = dict(zip(fresh, ids))
        carried = {k: int(before.ids[a]) for k, a in carried.items()}
        if view is not None:
            view = replace(view, cuts=anchors)
    joins = []
    for members, box, patch in _loop_joins(kept, config.min_height, loops_of):
        ways = [((box, patch),)] + list(_split_touching(patch, box, config.min_height, config.split_aspect, THREE_CHOICES) or ())
        joins.append((members, tuple(tuple(Candidate(box=to_source(*b), crop=ink_crop(gray, limit, b, p, config, grainy)) for b, p in parts)
                                     for parts in ways)))
    hats = {}
    joined_already = {m for members, _ in joins for m in members}
    for k, hat, box, patch in _lifted_hats(kept, flats + hat_pieces, mask, contours, typical, config.min_height,
                                           config.max_aspect):
        if k in joined_already:
            continue
        hats[len(joins)] = to_source(*hat)
        joins.append(((k,), ((Candidate(box=to_source(*box), crop=ink_crop(gray, limit, box, patch, config, grainy)),),)))
    done = time.perf_counter()
    timings = {"paper": (paper_done - started) * 1e3, "lines": (lines_done - paper_done) * 1e3,
               "pieces": (done - lines_done) * 1e3}
    rules = () if lines is None else tuple(path / scale + (offset_x, offset_y) for path in column_rules(lines, typical))
    return Segmentation(candidates, [to_source(*box) for box in marks], mask, dropped, splits, timings, sign_candidates,
                        view, [to_source(*box) for box in fields], too_wide, [to_source(*box) for box in blots],
                        rules=rules, doubtful=doubtful, narrow=frozenset(k for k in narrow if k in splits), joins=tuple(joins), chains=frozenset(chains), tall=frozenset(full_height),
                        cut_ids=cut_ids,
                        loop_ways={k: frozenset(v) for k, v in loop_ways.items()}, even_ways=even_ways, carried=carried,
                        hats=hats, small=small_letters, combs=[to_source(*box) for box in comb_fields(fields, cells)],
                        origin=origin, late=late, late_thirds=late_thirds)


def ink_pieces(found: Segmentation, known=()) -> list[Box]:
    """The box, on the frame, of every piece of ``found``'s ink mask (its connected parts) that meets none of
    the ``known`` boxes (the pieces read: candidates, signs, marks): a digit the segmentation turned away (taken
    for a form's box, a rule, a blot) is still ink on the page. (A piece the segmentation parted, a minus run
    into the digit after it, meets its parts.)"""
    if found.mask is None or not found.mask.size:
        return []
    # The outer contours' boxes are the connected parts' (several times cheaper than their stats here).
    contours, _ = cv2.findContours(found.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [to_frame(found.origin, *cv2.boundingRect(c)) for c in contours]
    if len(known) and boxes:
        boxes = [box for box, meets in zip(boxes, (iou_matrix(boxes, list(known)) > 0).any(axis=1)) if not meets]
    return boxes


def to_frame(origin: tuple[float, int, int], x: int, y: int, w: int, h: int) -> Box:
    """The box on the frame of the mask box ``(x, y, w, h)`` of a segmentation whose mask lies on the frame as
    ``origin`` says (``Segmentation.origin``: working pixels per source pixel, and the source offset of the
    mask's corner)."""
    scale, ox, oy = origin
    return Box(int(x / scale) + ox, int(y / scale) + oy, max(1, int(round(w / scale))), max(1, int(round(h / scale))))


#: A piece whose longer side is shorter than the crop's ink box (``normalize.INK_BOX``, 20 px) is enlarged to
#: make its crop, and so is the staircase of its mask: small writing is where a mask is a poor picture of
#: the ink (``ink_crop``).
SOFT_SIDE = INK_BOX
#: ... and its ink is graded, not a mask's worth of it, where the mean darkness over the mask is below this
#: share of its darkest pixel: a stroke blurred to about its own width (a camera's blur on 12-20 px digits) is
#: dark only along its middle, and the threshold cuts its outline out of the slope, filling the small loop of
#: a 6 or the eye of an 8. Sharp ink fills its mask. On the stress generator's pages (5 seeds a row, 10th /
#: 50th / 90th percentile over the pieces): printed type 0.74 / 0.81 / 0.85, the small digits of ``dense``
#: 0.61 / 0.66 / 0.71. Tuned on the stress rows (seeds 0-39, the crop then scaled by its 90th percentile):
#: 0.6 gave back a third of what 0.65 gives on ``dense``; 0.7 read 7 more small printed letters as digits
#: on ``printed`` (38 against 31).
GRADED_FILL = 0.65
#: A graded crop is scaled so that this percentile of its darkness over the mask is full ink (above it
#: saturates): the darkest pixel of a small noisy piece is a grain of noise on the stroke, and scaled by it
#: the stroke came out a mottled grey of half the ink's strength, which the network reads as no digit.
#: ... and darkness below this share of that level is no ink: the mask's outline on a noisy page is a fringe
#: of grains a little darker than the paper, which made a small digit a blob (the strokes thicker, the loops
#: smaller). Tuned on ``mixed`` seeds 0-39 (2302 digits, 81.7% found scaled by the darkest pixel): scaled by
#: the 90th percentile 82.4%, the 75th 82.6%, the 50th 82.2% (no floor); the 75th with floors of 0.25 and
#: 0.4, 83.0% and 82.9% (19 letters read as digits against 17); the 90th with 0.25, 82.9% (docs/page.md,
#: section 11, has the other rows).
GRADED_TOP = 75
GRADED_FLOOR = 0.25


#: A photo with more grain than this (``Paper.grain``, grey levels) is a noisy one: its mask is frayed by the noise,
#: and each piece's mask is smoothed before its crop is made (``ink_crop``, ``despeckled``). On the stress generator
#: (seeds 0-39 of every row) the pages drawn without ``noise`` measure 0-5.5, those with it 10-21 (sensor noise of
#: 7-16 grey levels, with colour noise); the real dev files 0-3.6. Smoothing changed the digits found and read right
#: by nothing on average below 15 (``noise`` seeds 0-39 and 1000-1039, ``mixed`` 0-39: -2 found and -1 read right
#: over 36 pages of 9-15), where a stroke's outline is frayed by a pixel at most, and it cost 5 letters read as
#: digits on a page of 10 (``mixed`` 1005, handwritten words beside dense digits); from 15 up it gained 35 found and
#: 45 read right over 51 pages.
GRAINY = 14.0


def despeckled(patch: np.ndarray) -> np.ndarray:
    """A piece's mask (uint8, 255 = ink) smoothed as a 3x3 median would be, but for thin strokes: a pixel of ink
    stays ink where 4 or more of the 9 pixels about it (itself among them) are ink, and a pixel of paper becomes
    ink where 5 or more are. On a noisy photo the threshold frays a stroke's outline, pricks holes in it and
    leaves grains beside it, at the scale of a pixel, and the network reads such a crop as no digit: a lone grain
    (1 or 2 of 9) goes, a pinhole (8 of 9) and a notch (5 or more of 9) are filled. A straight stroke 2 px wide
    (6 of 9 along it) stays, as under a median, and so do the pixels of a thin curved or frayed one with 4 of 9,
    which a median (5) takes: on the stress pages it ate the thin loops of 6s and the bars of 7s. A stroke 1 px
    wide (3 of 9) goes, as under a median."""
    ink = cv2.compare(patch, 0, cv2.CMP_GT) // 255
    count = cv2.boxFilter(ink, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    return cv2.bitwise_or(cv2.compare(count, 5, cv2.CMP_GE), cv2.bitwise_and(cv2.compare(count, 4, cv2.CMP_GE), patch))


def ink_crop(gray: np.ndarray, limit: np.ndarray, box: tuple, patch: np.ndarray, config: SegmentConfig,
             grainy: bool = False) -> np.ndarray:
    """The classifier's crop (``normalize_ink``) of the piece ``patch`` (its mask, 255 = ink) at ``box`` of the
    working frame ``gray``, whose clear-ink threshold is ``limit`` (``Paper.limit``): the mask itself, or,
    for a small piece of graded ink (``SOFT_SIDE``, ``GRADED_FILL``: small blurred writing), how much darker
    than the paper each pixel of the mask is, scaled by the stroke's darkness and its pale fringe taken off
    (``GRADED_TOP``, ``GRADED_FLOOR``). The mask's outline is where one threshold cut a soft slope;
    the darkness keeps the pale middle of a loop it filled, and the network was trained on soft crops as on
    masks (``train.augment``). Sharp or large ink keeps the mask: the not-a-digit class learned letters as
    masks, and small printed letters (an o, an s) read as digits more often from their darkness. ``grainy``:
    the photo is a noisy one (``GRAINY``), and the mask is ``despeckled`` first."""
    x, y, w, h = box
    if grainy:
        patch = despeckled(patch)
    if max(w, h) >= SOFT_SIDE:
        return normalize_ink(patch)
    # The paper's brightness under the piece: the threshold is paper * (1 - ink_contrast).
    paper = cv2.convertScaleAbs(limit[y: y + h, x: x + w], alpha=1.0 / (1.0 - config.ink_contrast))
    dark = cv2.bitwise_and(cv2.subtract(paper, gray[y: y + h, x: x + w]), patch)
    peak = cv2.minMaxLoc(dark)[1]
    if peak <= 0 or cv2.mean(dark, mask=patch)[0] >= GRADED_FILL * peak:
        return normalize_ink(patch)
    # Scaled by its stroke's darkness, not its darkest pixel (a speck of noise, on a noisy photo), and the
    # pale floor that is the mask's noisy outline taken off (``GRADED_TOP``, ``GRADED_FLOOR``).
    values = dark[patch > 0]
    rank = (len(values) - 1) * GRADED_TOP // 100
    top = float(np.partition(values, rank)[rank])  # the percentile's lower value, a partial sort
    if top <= 0:
        return normalize_ink(dark)
    if GRADED_FLOOR:
        dark = cv2.subtract(dark, GRADED_FLOOR * top)  # saturates at 0
    return normalize_ink(cv2.convertScaleAbs(dark, alpha=255.0 / (top * (1.0 - GRADED_FLOOR))))


#: A speck with a side of at least this many pixels (at the working size) may be part of a sign (the dot
#: of a ÷, a small +); smaller ones are noise.
SIGN_MIN_SIDE = 2
#: At most this many sign pieces a frame (the largest): a page of writing has far fewer signs, and a frame
#: of texture must not cost a crop per speck.
MAX_SIGN_PIECES = 160


#: A speck at least this share of ``SegmentConfig.min_height`` tall, about as wide as tall (``SMALL_LETTER_ASPECT``),
#: is handed on as a small letter (``Segmentation.small``): printed x-height letters below ``min_height`` stand
#: 5-9 px tall beside the 10-12 px capitals and ascenders of their word on the generated pages.
SMALL_LETTER = 0.5
SMALL_LETTER_ASPECT = (0.3, 2.5)


def _small_letter(w, h, config: SegmentConfig):
    """Is a piece ``w`` x ``h`` (below ``min_height``) of a small letter's size and shape (``SMALL_LETTER``)?"""
    return SMALL_LETTER * config.min_height <= h < config.min_height and SMALL_LETTER_ASPECT[0] * h <= w <= SMALL_LETTER_ASPECT[1] * h


def _small_letters(box_list: list[tuple], specks: list[int], groups: dict, config: SegmentConfig) -> list[int]:
    """Of the ``specks`` (pieces below ``min_height`` both ways), those of a small letter's size and shape that joined
    no digit (``groups``): with the pieces as wide as a digit but too short (``segment``), ``Segmentation.small``. A
    plain loop: a frame holds a few specks, and NumPy's calls would cost more than it."""
    fit = [k for k in specks if _small_letter(box_list[k][2], box_list[k][3], config)]
    if not fit:
        return []
    joined = {m for members in groups.values() for m in members}
    return [k for k in fit if k not in joined]


def _sign_candidates(mask, contours, box_list, sign_pieces, specks, groups, budget, to_source) -> list[Candidate]:
    """The pieces that may be signs, with their crops: the small and flat groups of ``segment``, and the
    specks that joined no digit. The largest first, at most ``budget`` of them."""
    joined = {m for members in groups.values() for m in members}
    items = list(sign_pieces) + [(box_list[j], [j]) for j in specks if j not in joined
                                 and max(box_list[j][2], box_list[j][3]) >= SIGN_MIN_SIDE]
    items.sort(key=lambda item: -max(item[0][2], item[0][3]))
    out = []
    for box, members in items[:min(budget, MAX_SIGN_PIECES)]:
        patch = _member_patch(mask, contours, members, box)
        out.append(Candidate(box=to_source(*box), crop=normalize_ink(patch)))
    return out


#: A 5 written in two strokes, its top bar (the hat) lifted off the body (``_lifted_hats``): the hat is a flat
#: piece at most this share of the body's height tall ...
HAT_HEIGHT = 0.4
#: ... whose bottom sits no lower than this share of the body's height below the body's top (a minus sign sits
#: at mid-height between its operands, an = has its upper bar a third of the way down) ...
HAT_LOW = 0.25
#: ... with at most this share of the writing's digit height of paper above the body (the pen lifted, not a
#: line of writing above) ...
HAT_GAP = 0.3
#: ... and a body at least this share of the digit height tall (a digit's body, not a speck under a dash).
HAT_BODY = 0.5
#: ... and a hat that starts within the body's columns or at most this share of the digit height right of them.
HAT_SIDE = 0.15
#: A speck (a piece far shorter than the pieces kept, ``_without_specks``) is offered as a hat too where it is
#: wider than this many times its height, not only a piece wider than ``max_aspect``: a short, thick hat (1.7 to
#: 2 times as wide as tall on the held-out worksheets, issue 21 session 30) lies flat as a bar does, yet is no
#: "flat" piece.
HAT_ASPECT = 1.0


def _lifted_hats(kept: list, flats: list, mask: np.ndarray, contours: list, typical: float | None,
                 min_height: int, max_aspect: float) -> list:
    """Flat pieces (``flats``: ``(box, members)``, marks wider than ``max_aspect``) that may be the top bar of
    a 5 whose pen lifted before it (the hat, ``HAT_*``), each with the kept piece under it: the hat sits on
    the body's top, within a small gap, starting within the body's columns (not left of it) and reaching
    right of its middle, as a 5's bar runs right from the top of its stem. A minus sign sits at mid-height
    and a fraction's bar runs over the whole of the digit under it, so neither is one. Each
    ``(k, hat_box, box, patch)``: the body's index in ``kept``, the hat's box, and their joined ink, which
    the recognizer reads as one candidate (``Segmentation.joins``, ``Segmentation.hats``)."""
    if not flats or not kept:
        return []
    height = typical if typical is not None else float(min_height)
    out = []
    taken = set()
    for hat, members in flats:
        hx, hy, hw, hh = hat
        best = None
        for k, ((x, y, w, h), _) in enumerate(kept):
            if k in taken or h < max(min_height, HAT_BODY * height) or hh > HAT_HEIGHT * h:
                continue
            gap = y - (hy + hh)
            if gap > HAT_GAP * height or hy + hh > y + HAT_LOW * h or hy < y - h:
                continue
            # Top-right: from within the body's columns, or just right of them (HAT_SIDE: the bowl of a 5
            # drawn narrower than its top), to right of its middle (a fraction's bar overhangs the digit
            # under it on the left).
            if not (x <= hx < x + w + HAT_SIDE * height and hx + hw > x + 0.5 * w):
                continue
            x0, y0 = min(x, hx), min(y, hy)
            x1, y1 = max(x + w, hx + hw), max(y + h, hy + hh)
            if x1 - x0 > max_aspect * (y1 - y0):
                continue
            if best is None or gap < best[1]:
                best = (k, gap, (x0, y0, x1 - x0, y1 - y0))
        if best is None:
            continue
        k, _, box = best
        x0, y0, bw, bh = box
        joined = _member_patch(mask, contours, members, box)
        (x, y, w, h), patch = kept[k]
        window = joined[y - y0: y - y0 + h, x - x0: x - x0 + w]
        np.maximum(window, patch, out=window)
        taken.add(k)
        out.append((k, hat, box, joined))
    return out


def find_candidates(image: np.ndarray, config: SegmentConfig = DEFAULT_CONFIG, *, return_mask: bool = False):
    """The candidates of ``segment(image, config)`` (and, with ``return_mask``, the ink mask used)."""
    found = segment(image, config)
    return (found.candidates, found.mask) if return_mask else found.candidates


def crops_batch(candidates: list[Candidate]) -> np.ndarray:
    """Stack candidate crops into the classifier's input: float32 ``(N, 28, 28, 1)``."""
    if not candidates:
        return np.zeros((0, 28, 28, 1), np.float32)
    return np.stack([c.crop for c in candidates])[..., None]

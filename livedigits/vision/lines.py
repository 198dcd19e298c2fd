"""Ruled, grid and table lines in an ink mask: find them, take them out, bridge the strokes that crossed them.

A line is a long thread of thin ink, much longer than thick and longer than any digit's stroke. Threads
are found once per frame on the mask max-pooled by an integer factor, cut where writing joins two lines,
chained across the digits written on them and followed piece by piece, so a line that slopes (a page
held at an angle) or bends (a curled sheet) is followed; a line broken by noise is carried on along
itself. A vertical thread across ruled lines that stops at most of them and wanders is a column of
digits written one under another, not a line. Only the line's own pixels go (its place and thickness
measured along it at full size), and of those only ink no thicker across the line than the line itself and
no darker than it: a stroke crossing a line, or sitting on it, stays. A printed table's net that this search
leaves in the mask (turned past ``LINE_SLOPE``, blurred past ``THIN_RUN``) is found as a piece of ink holding
writing in its cells, and its straight rules are taken out at any slope (``take_out_nets``). Pure functions: the lines
found (``LineBands``) are handed back to the caller, which may use them again (``vision.view``).

Squared paper is also found as a whole (``_squared_paper``): where the lines found both ways are part of two
evenly spaced sets at one spacing in the frame's grey, every line of them is the page's, and is taken out where the
mask holds bits of it alone (a faint grid's hairlines between its crossings, which the search does not follow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from livedigits.vision.labels import components


#: The line search runs on the mask max-pooled by an integer factor, so that its shorter side is about
#: this many pixels: a ruled line stays a connected thread of ink (max pooling keeps a 1 px line), and
#: every pass costs the same at 640x480 and on a 12 MP photo.
LINE_SIDE = 360
#: Ink whose run across the line's direction is shorter than this many pooled pixels is thin enough
#: to be part of a ruled or printed line (a 1-3 px line at 720p pools to 1-2 px; the stem of a digit
#: crossing it is far longer across, so the line's thread breaks there and is closed again below).
THIN_RUN = 5
#: A thread of thin ink is a line when its mean thickness (ink / length, pooled pixels) is at most
#: this: a ruled line with the odd flat stroke of a digit sitting on it, not a word or a digit.
LINE_THICKNESS = 4.0
#: A line is at least this many times longer than it is thick (mean thickness on the pooled mask): a
#: ruled line across a page is hundreds of times, the stem of a 1 ten to twenty.
LINE_ASPECT = 30.0
#: ... but a thread this many times longer than thick that crosses or meets ``GRID_CROSSINGS`` lines of the other
#: direction (found, or such threads themselves) is a rule of a printed table or form too: a short table's rules
#: (2-5 columns 2.6-4.5 digit heights wide, 1-3 px, on the stress row ``table``) are 20-30 times their pooled
#: thickness, and a column of 3-4 rows as few; its horizontal rules left in the mask took the digits written
#: in its cells. The stem of a 1 or the bar of a 7 is 7-17 times longer than thick, and crosses no line.
GRID_ASPECT = 15.0
#: A thread of ``GRID_ASPECT`` is a rule when it crosses or meets at least this many lines of the other
#: direction (a table's row rule meets its column rules: two at least, its two sides), and a line of its own
#: direction (found, or such a thread) runs beside it from where it starts to where it ends, within
#: ``THIN_RUN`` pooled pixels and their thicknesses: a table's rules come in sets of one length, its column
#: rules from its top rule to its bottom one. On ruled paper the stems of a few digits written one under
#: another line up into such a thread across two rulings (real ledger photos), with none beside it.
GRID_CROSSINGS = 2
#: A line has ink within a pixel of its path in at least this share of its columns (a dashed or faint
#: printed line too; the stems of a column of digits one under the other do not line up so).
LINE_PRESENT = 0.7
#: A line may slope up to this much (rise over run): a page photographed up to ~8 degrees askew.
LINE_SLOPE = 0.15
#: Ink on a line's own pixels darker than the line by this share of the line's contrast (its grey against the
#: paper's, both measured along the line, ``_paint_line_rows``) is a stroke sitting on it, and stays (0: off).
#: On the stress row ``ledger`` (blue ballpoint on blue rulings, the digits' feet on them; seeds 0-39) 0 / 0.1 /
#: 0.25 / 0.5 found 2567 / 2578 / 2591 / 2588 of 3091 digits; ``ruled`` the same within a digit.
LINE_DARKER = 0.25
#: A line of one direction crossing lines of the other (a margin or table line across the rulings) has ink
#: on both sides of at least this share of them, within ``CROSSING_REACH`` pooled pixels of each; a
#: column of digits on ruled paper, each digit between two rulings, does not (``_crosses_as_a_line``).
CROSSING_SHARE = 0.5
#: Pooled pixels either side of a crossed line (beyond its own thickness) where the crossing line's ink
#: is looked for.
CROSSING_REACH = 2
#: The crossing test judges a line that crosses at least this many lines of the other direction
#: (fewer: a box's side, a short table; the other tests judge it).
CROSSINGS_TO_JUDGE = 3
#: A line's path strays at most this far (root mean square, pooled pixels) from the parabola through it:
#: printed lines, faint or bent with the page, 0.2-0.6 on the stress pages (squared paper, ledger
#: margins); the stems of a column of digits across the rulings 0.9-2.5 (stress row ``ledger``). On
#: ledger seeds 0-199, 0.6 / 0.8 / 1.0 / 1.2 found 74.0 / 73.8 / 73.6 / 72.9% of the digits: 0.8 leaves
#: a bent line the most room for the least loss.
LINE_WANDER = 0.8
#: A thread of several pieces is a line only when one piece is at least this share of the shortest line
#: long: the written bars of a row of stacked fractions and the flat strokes of the + and = signs between them
#: are short pieces in a row; a ruled line crossed by writing runs on clear of it somewhere.
SHORT_PIECES = 0.45
#: A line that the ink mask loses on more than ``1 - LINE_PRESENT`` of its length is still this much darker than
#: the paper beside it in its gaps (a share of the paper's grey, ``_runs_on_between``). On the stress pages
#: (seeds 0-11) the faint ruled, squared and ledger lines measure 0.15-0.21 there; the threads that small
#: writing makes on a dense page (rows of feet, columns of stems), 0.00-0.013: bare paper.
LINE_BETWEEN = 0.07
#: A line measured more than this many times as thick as the median line of its direction, and more than
#: ``THICK_SLACK`` pixels thicker (full size), is no printed line of the page: on squared paper at 720p
#: (1 px lines) such threads (4 to 8 px) ran along the stems of a column of digits or a stroke on a line,
#: and the band's one thickness cut every pen stroke crossing a grid line with them.
THICK_OUTLIER = 3.0
THICK_SLACK = 2.5
#: A line's own pixels (``Band.floor``) are measured in the columns where its ink is one run at most this many
#: pixels thicker than its median thickness (a pixel of fringe or JPEG; a stroke on the line adds more)...
LINE_ALONE = 1
#: ... as medians over blocks of this many such columns (source pixels along the line: about a digit's width at
#: 30-40 px, so that the columns of one digit sitting on the line are outvoted by the line's own either side)...
LINE_PROFILE = 31
#: ... and taken out with this many pixels either side (a pixel's wobble of the line about its median place).
#: On ``ledger`` seeds 0-39 (``LINE_DARKER`` 0.25, running medians) 0 / 1 / 2 found 2575 / 2591 / 2589 of 3091
#: digits (``LINE_ALONE`` 2: 2588).
LINE_SLACK = 1
#: Of a line's "alone" columns, those darker against the paper than this many times the contrast of the
#: direction's lines (``_line_contrast``) are pen strokes lying along it (a zero's bottom on a faint ruling under
#: blue ballpoint), left out of the measure of its place and grey (``_paint_line_rows``).
STROKE_CONTRAST = 1.5
#: That contrast is at most this many times the lines' median contrast where the mask loses them but they still
#: show in the grey: ink on a faint line's rows is darker than the line itself where the threshold holds it...
UNSEEN_FACTOR = 1.5
#: ... where the mask loses them on at least this share as many columns as it holds them alone: a line the mask
#: holds nearly everywhere is paler in its few gaps (a ruling at 0.31 of the paper's grey lost where it is 0.13,
#: stress ``ledger`` seed 1010), one it holds little of is as faint as it shows there (seeds 27 and 1001: about
#: as many gaps as alone columns, these mostly the pen).
UNSEEN_SHARE = 0.5
#: Threads are labelled on the thin mask squeezed by this factor along the lines' direction.
SQUEEZE = 4
#: Gaps up to this many source pixels along a line (a faint or dotted printed line, a digit's stroke
#: crossing it) do not end its thread.
LINE_GAP = 9


def line_lengths(frame_w: int, frame_h: int, share: float, digit_height: float | None = None,
                 digits: float = 1.5) -> tuple[int, int]:
    """The shortest horizontal and vertical runs that count as lines in a frame: ``share`` of its width
    (or height), and, when the writing's digit height is known, ``digits`` digit heights."""
    protect = int(digits * digit_height) if digit_height else 0
    return max(int(frame_w * share), protect), max(int(frame_h * share), protect)


def pool_factor(frame_w: int, frame_h: int) -> int:
    """The integer factor the line search pools the mask by (``LINE_SIDE``)."""
    return max(1, min(frame_w, frame_h) // LINE_SIDE)


@dataclass(frozen=True)
class Band:
    """Where the lines of one direction run, and how to take them out."""

    mask: np.ndarray
    """uint8, the frame's size: 255 on the band around every line of this direction."""
    width: int
    """Pixels across the band (the bridging closes strokes across this much)."""
    thickness: int
    """The thickest of its lines, in pixels: only ink no thicker than this across the line goes."""
    vertical: bool
    strips: tuple[tuple[int, int], ...]
    """The rows (or, vertical, the columns) ``(start, stop)`` worked on: those that hold the band, with
    a margin for the bridging and the residue test."""
    measured: int = 0
    """``thickness`` as measured on the frame the lines were found on (0: ``thickness``), whatever
    :meth:`LineBands.found_in_both` made of it."""
    floor: np.ndarray | None = None
    """uint8, the frame's size: on each line's own pixels (its place and thickness measured along it,
    ``_paint_line_rows``, with ``LINE_SLACK`` either side), the grey from which ink there is the line's (under
    it, a stroke darker than the line by ``LINE_DARKER`` of its contrast; 0 where the grey was not measured);
    255 elsewhere: no ink beside a line is the line's. None: the whole band is the line's. (One image, so
    that moving the lines with the view costs one copy more a direction, not two.)"""
    paths: tuple[np.ndarray, ...] = ()
    """Each line's path over its own length, float ``(N, 2)`` frame ``(x, y)`` points in order along it: where a
    printed rule runs between two digits (``reading.numbers.group_numbers`` ends a number there)."""


@dataclass(frozen=True)
class LineBands:
    """The lines :func:`find_lines` found in one frame, horizontal band first: what
    :func:`take_out_lines` takes out. On live video the same bands serve the next frames of a view
    that holds still (``vision.view``), moved with it by :meth:`shifted`."""

    bands: tuple[Band, ...] = ()
    digit_height: float | None = None
    """The writing's digit height in the frame they were found on (None: not known): a bridge across a line
    joins no two pieces that each reach ``BRIDGE_TALL`` of it away from the line (:func:`take_out_lines`)."""

    def shifted(self, dx: int, dy: int) -> "LineBands":
        """The same lines, ``dx`` pixels right and ``dy`` down (the view moved so)."""
        if not (dx or dy):
            return self
        moved = []
        for band in self.bands:
            size = band.mask.shape[1 if band.vertical else 0]
            step = dx if band.vertical else dy
            strips = tuple((max(0, a + step), min(size, b + step)) for a, b in band.strips
                           if min(size, b + step) > max(0, a + step))
            floor = None if band.floor is None else shift_image(band.floor, dx, dy, cv2.BORDER_CONSTANT, 255)
            moved.append(Band(shift_image(band.mask, dx, dy, cv2.BORDER_CONSTANT), band.width, band.thickness,
                              band.vertical, strips, band.measured, floor, tuple(p + (dx, dy) for p in band.paths)))
        return LineBands(tuple(moved), self.digit_height)

    def found_in_both(self, other: "LineBands") -> "LineBands":
        """The lines both found, where both found them: each direction's band where this one's and
        ``other``'s overlap (the same view's lines found on an earlier frame, moved to this one), at the
        smaller thickness."""
        theirs = {band.vertical: band for band in other.bands}
        kept = []
        for band in self.bands:
            other_band = theirs.get(band.vertical)
            if other_band is None:
                continue
            mask = cv2.bitwise_and(band.mask, other_band.mask)
            rows = np.flatnonzero(mask.any(axis=0 if band.vertical else 1))
            if not len(rows):
                continue
            strips = tuple(_strips(rows, 2 * band.width + 4, mask.shape[1 if band.vertical else 0]))
            # The line's own pixels as either frame measured them (a line placed a pixel apart on the two
            # frames is all taken out), where both found it; a stroke is what is darker than the line on both
            # frames' measures (the lower floor).
            floor = None if band.floor is None or other_band.floor is None else \
                cv2.max(cv2.min(band.floor, other_band.floor), cv2.bitwise_not(mask))
            kept.append(Band(mask, band.width, min(band.thickness, other_band.measured or other_band.thickness),
                             band.vertical, strips, band.measured or band.thickness, floor, band.paths))
        return LineBands(tuple(kept), self.digit_height)



#: A direction's lines spaced closer than twice their band width get bands at most this share of their spacing
#: wide (``find_lines``).
BAND_SPACING = 0.5


def _spacing(paths: list[np.ndarray]) -> float | None:
    """The median distance across between neighbouring lines of one direction (paths ``(N, 2)``, x along the
    lines), each taken where the lines' middles lie on average; None for fewer than three lines."""
    if len(paths) < 3:
        return None
    paths = [p[np.argsort(p[:, 0], kind="stable")] for p in paths]
    at = float(np.median([0.5 * (p[0, 0] + p[-1, 0]) for p in paths]))
    across = np.sort([np.interp(at, p[:, 0], p[:, 1]) for p in paths])
    gaps = np.diff(across)
    gaps = gaps[gaps > 1.0]
    return float(np.median(gaps)) if len(gaps) else None


def shift_image(image: np.ndarray, dx: int, dy: int, border: int = cv2.BORDER_REPLICATE, value: int = 0) -> np.ndarray:
    """``image`` moved by whole pixels, ``dx`` right and ``dy`` down; what comes in at the edges is the
    edge repeated (``BORDER_REPLICATE``) or ``value`` (``BORDER_CONSTANT``). One copy, no interpolation."""
    h, w = image.shape[:2]
    dx, dy = int(np.clip(dx, -(w - 1), w - 1)), int(np.clip(dy, -(h - 1), h - 1))
    if not (dx or dy):
        return image
    kept = image[max(0, -dy): h - max(0, dy), max(0, -dx): w - max(0, dx)]
    return cv2.copyMakeBorder(kept, max(0, dy), max(0, -dy), max(0, dx), max(0, -dx), border, value=value)


def remove_lines(mask: np.ndarray, lengths: tuple[int, int], gray: np.ndarray | None = None) -> np.ndarray:
    """Remove ruled, grid and table lines, in both directions, from the ink mask; a new mask is returned:
    :func:`take_out_lines` of :func:`find_lines`."""
    return take_out_lines(mask, find_lines(mask, lengths), gray)


def find_lines(mask: np.ndarray, lengths: tuple[int, int], gray: np.ndarray | None = None,
               digit_height: float | None = None) -> LineBands:
    """The ruled, grid and table lines of the ink mask, in both directions.

    A line is a thread of thin ink (``THIN_RUN``) at least ``lengths`` (horizontal, vertical) long,
    ``LINE_THICKNESS`` thick at most, ``LINE_ASPECT`` times longer than thick, and followed piece by
    piece (a page held askew, a sheet that curls). With the digit height in ``lengths``
    (``line_lengths``) the stem of a 1 or the bar of a 7, however large, stays. A vertical line that
    crosses horizontal ones must cross them as a line does, or run straight (``_crosses_as_a_line``): a
    column of digits written one under another on ruled paper is writing. With the frame's ``gray`` (the
    mask's size), a thread the mask loses on much of its length must still be darker than the paper in its
    gaps, or have a piece of a line's length (``_runs_on_between``): the rows of feet and columns of stems of a
    dense page of small digits have bare paper between the digits. The search runs once over the whole frame,
    on the mask pooled by ``pool_factor``. ``digit_height``: the writing's, kept with the lines
    (``LineBands.digit_height``).
    """
    h, w = mask.shape
    f = pool_factor(w, h)
    pooled = mask if f == 1 else cv2.compare(
        cv2.resize(mask[: h - h % f, : w - w % f], (w // f, h // f), interpolation=cv2.INTER_AREA), 0, cv2.CMP_GT)
    bands = []
    across: list[tuple[np.ndarray, float]] = []  # the horizontal lines found, pooled px
    lines, grids = {}, {}
    for vertical in (False, True):
        length = lengths[1] if vertical else lengths[0]
        if length < 8:
            continue
        oriented = np.ascontiguousarray(pooled.T) if vertical else pooled
        grid: list[tuple[np.ndarray, float]] = []
        found = _follow_lines(oriented, max(2, length // f), max(2, LINE_GAP // f), grid)
        if gray is not None and (found or grid):
            found = [line for line in found if _runs_on_between(gray, mask, line, f, vertical, length)]
            grid = [line for line in grid if _runs_on_between(gray, mask, line, f, vertical, length)]
        if vertical and across:
            found = [line for line in found if _crosses_as_a_line(oriented, line, across)]
            grid = [line for line in grid if _crosses_as_a_line(oriented, line, across)]
        elif not vertical:
            across = found
        lines[vertical], grids[vertical] = found, grid
    # A path's points are the middles of the pieces it was followed by: its ends lie up to half a piece
    # (``_follow_lines``' step) beyond its first and last points.
    slack = {vertical: 0.5 * max(8, (lengths[1 if vertical else 0] // f) // 2) for vertical in grids}
    for vertical, grid in _grid_rules(lines, grids, slack).items():
        lines[vertical] = lines[vertical] + grid
    # Squared paper: every line of its lattice, found in the grey, also those the mask holds only in bits.
    lattice = {} if gray is None else _squared_paper(
        gray, {vertical: [path * f + (f - 1) / 2.0 for path, _ in found] for vertical, found in lines.items()})
    for vertical, found in lines.items():
        length = lengths[1] if vertical else lengths[0]
        if not found:
            continue
        # The band is drawn at full size: a pooled pixel stands for f of them, so the line's path runs
        # through the middle of its pooled pixels, placed to within f or so either side: the band is the
        # line's thickness and 2f each side (on 20 seeds of the squared-paper scene, 1f each side left
        # bits of line beside it, 3f cut shallow strokes crossing it). Only the ink as thin as the line
        # under the band goes (take_out_lines), so a wider band does not take a stroke.
        band = np.zeros_like(mask)
        widest = thickest = 0
        full = np.ascontiguousarray(mask.T if vertical else mask)
        floor = np.full_like(full, 255)  # the lines' own pixels and their greys, in the lines' direction
        shade = None if gray is None else np.ascontiguousarray(gray.T if vertical else gray)
        measured, paths = [], []
        for path, thickness in found:
            path = path * f + (f - 1) / 2.0
            if f > 1:
                # Pooling overstates a line's thickness up to f times: measured again at full size
                # (every f-th column).
                thickness = _thickness(full, path, THIN_RUN * f, f)
            measured.append((path, thickness))
        # One thickness serves the whole band (only ink no thicker goes): a thread measured far thicker
        # than the other lines of its direction is pen ink followed along (the stems of a column of digits,
        # a stroke running along a grid line), and would have the band cut every pen stroke crossing the
        # page's real lines.
        typical = float(np.median([t for _, t in measured]))
        measured = [(p, t) for p, t in measured if t <= max(THICK_OUTLIER * typical, typical + THICK_SLACK)]
        # Each line's own pixels, measured along it where it is alone; then painted, judged against the
        # contrast of all the direction's lines (``_paint_line_rows``).
        columns = [_line_columns(full, path, thickness, max(1, int(round(thickness)) + 4 * f) // 2 + 1, shade)
                   for path, thickness in measured]
        reference = _line_contrast([c for c in columns if c is not None and c.contrast is not None])
        stretches: list[np.ndarray | None] = [None] * len(measured)  # (the lines found: all their length)
        # A squared paper's lines the search did not find, as thick as those it found: only those the mask holds
        # alone in two columns at least as pale as a printed line (``STROKE_CONTRAST`` times the found lines'
        # contrast): elsewhere the mask holds nothing of the line to take out, and a pen stroke written along it
        # (the stem of a 1 on a grid line) would be measured as the line, and taken out with it.
        for path in lattice.get(vertical, ()):
            line = _line_columns(full, path, typical, max(1, int(round(typical)) + 4 * f) // 2 + 1, shade)
            if line is None or line.contrast is None or reference is None:
                continue
            plain = line.xs[line.alone[line.contrast <= STROKE_CONTRAST * reference]]
            if len(plain) >= 2:
                measured.append((path, typical))
                columns.append(line)
                # Its band only on the columns where the mask holds it alone (and ``LINE_SLACK`` beside them): by a
                # digit written on it or across it, neither its band nor its crossings with the other direction's
                # lines take the strokes' ends (``take_out_lines``).
                near = np.zeros(full.shape[1], bool)
                near[np.clip(plain[:, None] + np.arange(-LINE_SLACK, LINE_SLACK + 1), 0, full.shape[1] - 1)] = True
                stretches.append(np.flatnonzero(near))
        # Lines closer together than twice their band (fine squared paper under small writing) would have their
        # bands cover the paper between them: no ink would lie outside the band, and the residue test below
        # (``_take_out``) takes every stroke inside it for the line's. The band is then at most BAND_SPACING of
        # the lines' spacing wide, leaving paper between bands.
        spacing = _spacing([p for p, _ in measured])
        for (path, thickness), line, held in zip(measured, columns, stretches):
            thickest = max(thickest, thickness)
            width = max(1, int(round(thickness)) + 4 * f)
            if spacing is not None and BAND_SPACING:
                width = max(1, min(width, max(int(round(thickness)) + 2, int(BAND_SPACING * spacing))))
            widest = max(widest, width)
            _paint_line_rows(floor, line, reference, None if held is None else np.searchsorted(line.xs, held))
            # Its own stretch, in order along it: its points are the middles of the pieces it was followed by,
            # its ends half a piece beyond the first and last (on the path carried on past them).
            order = path[np.argsort(path[:, 0], kind="stable")]
            ends = np.array([order[1, 0] - slack[vertical] * f, order[-2, 0] + slack[vertical] * f])
            own = np.concatenate([[(ends[0], np.interp(ends[0], order[:, 0], order[:, 1]))], order[1:-1],
                                  [(ends[1], np.interp(ends[1], order[:, 0], order[:, 1]))]])
            paths.append(own[:, ::-1] if vertical else own)
            if held is not None:
                # (the band as the polyline would draw it, ``width + 1`` across, on those columns only)
                rows = np.round(np.interp(held, path[:, 0], path[:, 1])).astype(np.int64)[:, None] + \
                    np.arange(-(width // 2) - 1, width // 2 + 2)
                inside = (rows >= 0) & (rows < full.shape[0])
                along = np.broadcast_to(held[:, None], rows.shape)[inside]
                if vertical:
                    band[along, rows[inside]] = 255
                else:
                    band[rows[inside], along] = 255
                continue
            if vertical:
                path = path[:, ::-1]
            cv2.polylines(band, [np.round(path).astype(np.int32).reshape(-1, 1, 2)], False, 255, thickness=width + 1)
        width = widest + 2
        # Only the strips of the frame that hold a band are worked on (with a margin for the bridging and
        # the residue test): a page with its two edges in view costs two strips, not two whole frames.
        rows = np.flatnonzero(band.any(axis=0 if vertical else 1))
        strips = tuple(_strips(rows, 2 * width + 4, band.shape[1 if vertical else 0]))
        floor = cv2.max(np.ascontiguousarray(floor.T) if vertical else floor, cv2.bitwise_not(band))
        bands.append(Band(band, width, int(thickest), vertical, strips, floor=floor, paths=tuple(paths)))
    return LineBands(tuple(bands), digit_height)


#: Squared paper (issue 19, session 25): the lines of a direction are found again as a whole, from the frame's grey
#: straightened along them (``_lattice``). The grey is sampled every this many source pixels along the lines...
LATTICE_EVERY = 8
#: ... and a line's paper is the brightest of the straightened profile within this many rows either side (the paper
#: between two lines of the finest squared paper the generator draws, 10 px apart, is within 5; a line is 1-3 px).
LATTICE_PAPER = 6
#: A direction is a lattice where its straightened profile shows at least this many lines (each darker than its
#: paper by ``LINE_BETWEEN``: the faint-line test of ``_runs_on_between``, on the median along the whole line) ...
LATTICE_LINES = 6
#: ... and at least this share of the gaps between neighbouring ones are within ``LATTICE_TOLERANCE`` of their
#: median (the spacing): squared paper is evenly printed, seen in perspective its spacing changes by a few percent
#: across the frame (stress ``grid`` 100-199, the 19 squared pages whose lines are found both ways: 0.83-1.0 of the
#: gaps regular, 16-72 lines a direction; a table's rows are as even, its columns too on 7 pages of ``table`` 0-99, but
#: 1.5-2.6 times as far apart as its rows: ``LATTICE_SQUARE``).
LATTICE_REGULAR = 0.8
LATTICE_TOLERANCE = 0.2
#: Squared paper is a lattice both ways at one spacing, to within this ratio (perspective; the squared stress pages
#: 1.00-1.03); a table's columns are 1.5-2.6 times as far apart as its rows on the stress pages, ruled paper a
#: lattice one way.
LATTICE_SQUARE = 1.25
#: Each lattice line is placed in this many stretches along it (the darkest row within a quarter spacing of the
#: straightened line, in each stretch's median), and its own straight line fitted through them: perspective turns
#: each line of the page by its own slope.
LATTICE_STRETCHES = 8
#: A line found is the lattice's line where its path (full size) is within this many pixels of it all along (the
#: line's own pixels are placed to ``LINE_SLACK`` about it).
LATTICE_SAME = 2.0


def _slopes(paths: list[np.ndarray], across: int, along: int) -> tuple[float, float] | None:
    """The lines' slope as a linear function of their place across, ``(b0, b1)``: a line through ``a`` (where it
    crosses the middle along) runs ``y = a + (b0 + b1 (a - across / 2)) (x - along / 2)``; fitted to the straight
    lines through ``paths`` (full size, in their own direction), those far off the fit left out (a thread of
    writing followed as a line). None: no path."""
    if not paths:
        return None
    ab = []
    for p in paths:
        x = p[:, 0] - along / 2.0
        b = np.polyfit(x, p[:, 1], 1)[0] if np.ptp(x) > 0 else 0.0
        ab.append((float(np.interp(along / 2.0, p[:, 0], p[:, 1])) if np.ptp(p[:, 0]) > 0 else float(p[0, 1]), b))
    ab = np.array(ab)
    b0, b1 = float(np.median(ab[:, 1])), 0.0
    keep = np.ones(len(ab), bool)
    for _ in range(3):
        if np.count_nonzero(keep) < 3 or np.ptp(ab[keep, 0]) <= 0:
            break
        b1, b0 = np.polyfit(ab[keep, 0] - across / 2.0, ab[keep, 1], 1)
        off = np.abs(ab[:, 1] - (b0 + b1 * (ab[:, 0] - across / 2.0)))
        keep = off <= max(0.004, 2.5 * float(np.median(off[keep])))
    return float(b0), float(b1)


class _Lattice(NamedTuple):
    """The evenly spaced lines of one direction, found in the grey (``_lattice``)."""

    lines: list[tuple[float, float]]
    """Each line's ``(a, b)``: ``y = a + b (x - along / 2)`` in its own direction, full size."""
    spacing: float
    slopes: tuple[float, float]


def _lattice(gray: np.ndarray, slopes: tuple[float, float]) -> _Lattice | None:
    """The lines of ``gray`` (in their own direction: they run along x) that the grey straightened along
    ``slopes`` (``_slopes``) shows as rows darker than the paper beside them, where they are evenly spaced
    (``LATTICE_LINES``, ``LATTICE_REGULAR``); None where they are not.

    A printed line is darker than its paper all along, however faint, and wherever the threshold holds it or not
    (the vignette darkens the paper and its lines alike); the row's median along the whole frame is that grey, and a
    row of writing (the feet of a row of digits) is paper along most of its length."""
    across, along = gray.shape
    b0, b1 = slopes
    xs = np.arange(LATTICE_EVERY // 2, along, LATTICE_EVERY, dtype=np.float32)
    if len(xs) < 2 * LATTICE_STRETCHES:
        return None
    rows = np.arange(across, dtype=np.float32)[:, None]
    map_x = np.broadcast_to(xs[None, :], (across, len(xs)))
    map_y = (rows + (b0 + b1 * (rows - across / 2.0)) * (xs[None, :] - along / 2.0)).astype(np.float32)
    straight = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    profile = np.median(straight, axis=1)
    paper = cv2.dilate(profile.reshape(-1, 1), np.ones((2 * LATTICE_PAPER + 1, 1), np.uint8)).ravel()
    dark = (paper - profile) / np.maximum(paper, 1.0)
    peaks = np.flatnonzero((dark[1:-1] >= dark[:-2]) & (dark[1:-1] > dark[2:]) & (dark[1:-1] >= LINE_BETWEEN)) + 1
    if len(peaks) < LATTICE_LINES:
        return None
    gaps = np.diff(peaks).astype(np.float32)
    spacing = float(np.median(gaps))
    if np.count_nonzero(np.abs(gaps - spacing) <= LATTICE_TOLERANCE * spacing) < LATTICE_REGULAR * len(gaps):
        return None
    # Each line placed along its length: in each stretch, the darkest row within a quarter spacing of it.
    count = len(xs) // LATTICE_STRETCHES
    stretches = np.median(straight[:, : count * LATTICE_STRETCHES].reshape(across, LATTICE_STRETCHES, count), axis=2)
    centres = xs[: count * LATTICE_STRETCHES].reshape(LATTICE_STRETCHES, count).mean(axis=1) - along / 2.0
    reach = max(1, int(spacing // 4))
    window = np.clip(peaks[:, None] + np.arange(-reach, reach + 1), 0, across - 1)
    found = stretches[window]  # (lines, 2 reach + 1, stretches)
    offsets = np.argmin(found, axis=1) - reach
    lines = []
    for peak, off in zip(peaks.tolist(), offsets):
        c1, c0 = np.polyfit(centres, off.astype(np.float64), 1)
        lines.append((peak + float(c0), b0 + b1 * (peak - across / 2.0) + float(c1)))
    return _Lattice(lines, spacing, slopes)


def _squared_paper(gray: np.ndarray, found: dict) -> dict:
    """The lines of squared paper that the line search did not find, by direction (vertical True): paths full size
    in their own direction, ``(N, 2)``. ``found``: the found lines' paths (full size, own direction) by direction.

    Squared paper is evenly spaced lines both ways, at one spacing (``LATTICE_SQUARE``). The line search finds a
    faint grid's lines only where the ink mask holds them long enough; its bits elsewhere (the lines between
    crossings, where the vignette darkens them near the frame's edges) are hairline 1s. Where both directions are
    such a lattice in the grey (``_lattice``), every line of it is the page's."""
    if not all(found.get(v) for v in (False, True)):
        return {}
    images = {False: gray, True: np.ascontiguousarray(gray.T)}
    lattices = {v: _lattice(images[v], _slopes(found[v], *images[v].shape)) for v in (False, True)}
    for v in (False, True):
        other = lattices[not v]
        if lattices[v] is None and other is not None:
            # Its few found lines said little of its slope: a grid's two directions are at right angles, the
            # other's slope across is this one's along.
            lattices[v] = _lattice(images[v], (-other.slopes[0], 0.0))
    if any(lattice is None for lattice in lattices.values()):
        return {}
    spacings = sorted(lattice.spacing for lattice in lattices.values())
    if spacings[1] > LATTICE_SQUARE * spacings[0]:
        return {}
    extra = {}
    for v, lattice in lattices.items():
        across, along = images[v].shape
        middle = along / 2.0
        xs = np.linspace(0.0, along - 1.0, max(4, int(along // 32)))
        # A line found already is the lattice's where it runs on it all along (within ``LATTICE_SAME``); a thread
        # that strays from it (a stroke followed, a jump to the next line) leaves the rest of it to the lattice.
        at_middle = np.array([np.interp(middle, p[:, 0], p[:, 1]) for p in found[v]])
        extra[v] = [np.c_[xs, a + b * (xs - middle)] for a, b in lattice.lines
                    if not any(np.abs(p[1:-1, 1] - (a + b * (p[1:-1, 0] - middle))).max(initial=np.inf) <= LATTICE_SAME
                               for p, m in zip(found[v], at_middle) if abs(m - a) <= LATTICE_SAME)]
    return extra


#: The rules running down a page part a table's columns only where they are all at least this many digit
#: heights apart (a table's columns are 2.6-4.5 of the generator's row heights wide: at least 1.7 of its digit
#: heights) ...
RULE_CELL = 1.5
#: ... and the rules across it this many (its rows are 1.2-2 digit heights tall). Squared paper's lines, 0.5-1
#: digit height apart, run through the writing, which takes no notice of them (stress row ``grid``, seeds 0-39:
#: its lines, found 0.1-0.8 digit heights apart here and there, cut 3 pages' numbers).
ROW_CELL = 1.15


def column_rules(lines: LineBands, digit_height: float | None) -> tuple[np.ndarray, ...]:
    """The lines of ``lines`` that part a printed table's columns: the paths of its lines running down the frame
    (``Band.paths``, frame ``(x, y)`` points from top to bottom) that at least two lines across the frame cross
    or meet, where there are two such at least, and no two lines running down are nearer than ``RULE_CELL``
    digit heights (``digit_height``, the writing's), nor two across nearer than ``ROW_CELL``: not squared paper, not a ruled page's margin
    line alone, not a thread of stems down a list written one entry under another (no rule across it)."""
    if not digit_height:
        return ()
    down = [p for band in lines.bands if band.vertical for p in band.paths if len(p) >= 2]
    across = [p for band in lines.bands if not band.vertical for p in band.paths if len(p) >= 2]
    if len(down) < 2 or len(across) < 2:
        return ()
    for paths, along, cell in ((down, 1, RULE_CELL), (across, 0, ROW_CELL)):
        middles = np.sort([float(np.interp(0.5 * (p[0, along] + p[-1, along]), p[:, along], p[:, 1 - along])) for p in paths])
        if float(np.diff(middles).min()) < cell * digit_height:
            return ()
    reach = 0.5 * digit_height  # a rule's ends as found lie within about a piece of where it ends

    def meets(v: np.ndarray, h: np.ndarray) -> bool:
        y = float(np.interp(float(np.median(v[:, 0])), h[:, 0], h[:, 1]))
        x = float(np.interp(y, v[:, 1], v[:, 0]))
        return v[0, 1] - reach <= y <= v[-1, 1] + reach and h[0, 0] - reach <= x <= h[-1, 0] + reach

    kept = tuple(v for v in down if sum(meets(v, h) for h in across) >= 2)
    return kept if len(kept) >= 2 else ()


def _line_contrast(columns: list[_LineColumns]) -> float | None:
    """The contrast of one direction's lines against the paper (``_paint_line_rows``' reference): the median of
    their alone columns' (``_LineColumns.contrast``); but where the mask loses the lines, where they still
    show (``LINE_BETWEEN``), on at least ``UNSEEN_SHARE`` as many columns as it holds them alone (and
    ``LINE_PROFILE``), at most ``UNSEEN_FACTOR`` times their median contrast there: a faint ruling the
    threshold holds little of, whose "alone" columns are mostly the strokes lying along it (the zeros' bottoms
    of a ledger's amounts), is as faint as it shows between them."""
    if not columns:
        return None
    seen = np.concatenate([c.contrast for c in columns])
    # (Only the columns where a line shows: a path runs on past a line's end, or off the page, over bare paper.)
    unseen = np.concatenate([c.unseen for c in columns])
    unseen = unseen[unseen >= LINE_BETWEEN]
    if len(unseen) >= max(LINE_PROFILE, UNSEEN_SHARE * len(seen)):
        return min(float(np.median(seen)), UNSEEN_FACTOR * float(np.median(unseen)))
    return float(np.median(seen))


class _LineColumns(NamedTuple):
    """A line's columns as :func:`_line_columns` measured them, for :func:`_paint_line_rows`."""

    xs: np.ndarray
    ys: np.ndarray
    at_rows: np.ndarray
    first: np.ndarray
    last: np.ndarray
    reach: int
    alone: np.ndarray | None
    """The indices of the columns where the line is alone (None: nowhere, its whole band is its own)."""
    dark: np.ndarray | None = None
    bright: np.ndarray | None = None
    contrast: np.ndarray | None = None
    """Per alone column (with the frame's grey): the line's darkest pixel, the paper beside it (the brightest
    within reach) and the line's contrast against it, ``(bright - dark) / bright``."""
    unseen: np.ndarray | None = None
    """The same contrast in the columns where the mask holds no ink within reach of the path."""


def _line_columns(mask: np.ndarray, path: np.ndarray, thickness: float, reach: int,
                  gray: np.ndarray | None = None) -> _LineColumns | None:
    """The columns of a horizontal line along ``path`` (full size, the ``(N, 2)`` x, y points of
    :func:`find_lines`, placed to within ``reach`` rows) in ``mask``, ``thickness`` thick (its median), where it
    is alone: the ink within ``reach`` of the path is one run no thicker than the line (``LINE_ALONE``); a
    stroke crossing the line, sitting on it or running beside it makes more ink there, or two runs. With
    ``gray``, also each such column's greys (``_LineColumns``). None: the line is less than 2 columns long."""
    h, w = mask.shape
    x0, x1 = max(0, int(np.ceil(path[0, 0]))), min(w, int(path[-1, 0]) + 1)
    if x1 - x0 < 2:
        return None
    xs = np.arange(x0, x1)
    ys = np.interp(xs, path[:, 0], path[:, 1])
    # (Images are read and painted through flat indices: one index array is numpy's fast path.)
    rows = np.round(ys).astype(np.int64)[:, None] + np.arange(-reach, reach + 1)
    at_rows = np.clip(rows, 0, h - 1) * w + xs[:, None]
    ink = (mask.reshape(-1)[at_rows] > 0) & (rows >= 0) & (rows < h)
    count = np.count_nonzero(ink, axis=1)
    first = np.argmax(ink, axis=1)
    last = ink.shape[1] - 1 - np.argmax(ink[:, ::-1], axis=1)
    alone = np.flatnonzero((count > 0) & (count <= int(round(thickness)) + LINE_ALONE) & (last - first + 1 == count))
    if len(alone) < 2:
        return _LineColumns(xs, ys, at_rows, first, last, reach, None)
    if gray is None or LINE_DARKER <= 0:
        return _LineColumns(xs, ys, at_rows, first, last, reach, alone)
    sampled = gray.reshape(-1)[at_rows[alone]]
    dark, bright = np.where(ink[alone], sampled, 255).min(axis=1), sampled.max(axis=1)
    contrast = (bright.astype(np.float32) - dark) / np.maximum(bright, 1).astype(np.float32)
    # Where the mask holds nothing near the path, the line (too faint there for the threshold) is still in the
    # grey: its darkest pixel against the brightest within reach.
    gaps = gray.reshape(-1)[at_rows[count == 0]]
    paper = gaps.max(axis=1).astype(np.float32)
    unseen = (paper - gaps.min(axis=1)) / np.maximum(paper, 1.0)
    return _LineColumns(xs, ys, at_rows, first, last, reach, alone, dark, bright, contrast, unseen)


def _paint_line_rows(floor: np.ndarray, line: _LineColumns | None, reference: float | None = None,
                     only: np.ndarray | None = None) -> None:
    """Paint into ``floor`` (``Band.floor``) the rows of a horizontal line's own ink, column by column, with
    ``LINE_SLACK`` either side, as :func:`_line_columns` measured them (``line``). Each pixel painted holds the
    grey under which ink there is darker than the line (``LINE_DARKER``), measured on the frame's grey; 0
    without it.

    The line's place and thickness are measured along the line itself, where it is alone. Over each
    ``LINE_PROFILE`` such columns their median is the line's (a line bends slowly; a stroke's columns are
    outvoted), joined from block to block across the columns where writing hides it. Where it is found alone
    nowhere, its whole band is its own. ``reference``: the median contrast of the direction's lines against
    the paper (all their alone columns); a column much darker than that (``STROKE_CONTRAST``) is a stroke
    lying along the line, not measured. ``only``: the columns painted (indices into ``line.xs``; None: all)."""
    if line is None:
        return
    h, w = floor.shape
    xs, ys, at_rows, first, last, reach, alone = line[:7]
    if alone is None:
        floor.reshape(-1)[at_rows] = 0
        return
    darker = line.contrast is not None
    if darker:
        dark, bright = line.dark, line.bright
        if reference is not None:
            # A pen stroke lying along the line (the flat bottom of a zero, a 2's foot on a ruling) is one thin
            # run there too; where the line is faint and the mask holds little of it, such strokes are most of
            # its "alone" columns beside the writing (the thread found there is mostly writing): measured as the
            # line, they made the pen's grey and place the line's, and the strokes were taken out. The page's
            # lines are what they are along most of their length: a column much darker against its paper than
            # their median contrast is a stroke.
            plain = line.contrast <= STROKE_CONTRAST * reference
            if np.count_nonzero(plain) >= 2 and not plain.all():
                alone, dark, bright = alone[plain], dark[plain], bright[plain]
    # Where the line's ink starts and ends across (relative to the path: the path carries the slope and the
    # bend, what is measured here is where the line sits on it), and, with the grey, the line's darkest pixel
    # and the paper beside it (the brightest within reach).
    at = xs[alone]
    offset = np.round(ys[alone]) - ys[alone]
    measures = [(first[alone] - reach) + offset, (last[alone] - reach) + offset]
    if darker:
        measures += [dark, bright]
    # Medians over blocks of LINE_PROFILE columns where the line is alone (the last block takes the rest),
    # placed at the blocks' middles and joined by straight pieces.
    blocks = max(1, len(at) // LINE_PROFILE)
    size = len(at) // blocks
    stacked = np.stack(measures).astype(np.float32)[:, : blocks * size].reshape(len(measures), blocks, size)
    medians = np.sort(stacked, axis=2)[:, :, size // 2]  # (the upper median: cheaper than np.median)
    centres = at[: blocks * size].reshape(blocks, size).mean(axis=1)
    lo = np.floor(ys + np.interp(xs, centres, medians[0])).astype(np.int64) - LINE_SLACK
    hi = np.ceil(ys + np.interp(xs, centres, medians[1])).astype(np.int64) + LINE_SLACK
    held = (hi >= 0) & (lo < h)  # the columns where the line is in the frame
    if only is not None:
        painted = np.zeros(len(xs), bool)
        painted[only] = True
        held &= painted
    xs, lo, hi = xs[held], lo[held], hi[held]
    # Every row from lo to hi (the last one repeated up to the widest span), within the frame.
    rows = np.clip(np.minimum(lo[:, None] + np.arange(int((hi - lo).max()) + 1), hi[:, None]), 0, h - 1)
    if not darker:
        floor.reshape(-1)[rows * w + xs[:, None]] = 0
        return
    # A stroke on the line is darker than the line by LINE_DARKER of the line's contrast.
    grey, paper = (np.interp(xs, centres, m) for m in medians[2:])
    limit = np.clip(grey - LINE_DARKER * np.maximum(0.0, paper - grey), 0, 254).astype(np.uint8)  # (255: no line's)
    floor.reshape(-1)[rows * w + xs[:, None]] = limit[:, None]


def _runs_on_between(gray: np.ndarray, mask: np.ndarray, line: tuple[np.ndarray, float], f: int, vertical: bool,
                     length: int) -> bool:
    """Whether ``line`` (a path of :func:`_follow_lines` on ``mask`` pooled by ``f``, in its own direction) runs
    on where the ink ``mask`` loses it: a thread missing from the mask on more than ``1 - LINE_PRESENT`` of
    its length is a line only where it is still darker there than the paper beside it (``LINE_BETWEEN``), or
    where a piece of it is ``length`` (source pixels, the shortest line) long by itself.

    A ruled or printed line that the threshold breaks up (faint, or paler in places) is there all along its
    length, only paler in its gaps. A row or a column of small writing, whose flat strokes and stems the
    closing joins across the gaps between the digits into a thread (a dense page), has bare paper between
    them. The line's greys are the darkest within the path's placement (``f`` pixels) either side; the
    paper beside it, the brighter of the two sides a few pixels away (one side may hold writing)."""
    path, thickness = line
    h, w = gray.shape
    along, across = (h, w) if vertical else (w, h)
    px, py = path[1:-1, 0] * f + (f - 1) / 2.0, path[1:-1, 1] * f + (f - 1) / 2.0
    xs = np.arange(max(0, int(np.ceil(px.min()))), min(along, int(px.max()) + 1), f)
    if not len(xs):
        return True
    ys = np.round(np.interp(xs, px, py)).astype(np.int64)
    reach = np.arange(-(f + 1), f + 2)

    def sample(image: np.ndarray, offset: int) -> np.ndarray:
        rows = np.clip(ys[:, None] + offset + reach, 0, across - 1)
        return image[np.broadcast_to(xs[:, None], rows.shape), rows] if vertical else image[rows, xs[:, None]]

    gaps = ~(sample(mask, 0) > 0).any(axis=1)
    if np.count_nonzero(gaps) <= (1.0 - LINE_PRESENT) * len(xs):
        return True
    # A piece of it a line of the shortest line's length by itself: a printed rule, chained along the row to the
    # next one (a form's comb of boxes, then a check box), with paper between them.
    ends = np.flatnonzero(np.diff(np.concatenate([[0], (~gaps).view(np.int8), [0]])))
    if (ends[1::2] - ends[::2]).max(initial=0) * f >= length:
        return True
    beside = len(reach) + int(round(thickness * f))
    paper = np.maximum(sample(gray, -beside).min(axis=1), sample(gray, beside).min(axis=1))[gaps].astype(np.float32)
    there = sample(gray, 0).min(axis=1)[gaps]
    return float(np.median((paper - there) / np.maximum(paper, 1.0))) >= LINE_BETWEEN


def take_out_lines(mask: np.ndarray, lines: LineBands, gray: np.ndarray | None = None) -> np.ndarray:
    """The ink mask without the lines of ``lines`` (:func:`find_lines`); a new mask (or ``mask`` itself
    when there are none).

    Only each line's own pixels are taken out (``Band.floor``: the rows the line itself fills, measured along
    it), so ink beside a line, inside its band (the foot of a digit or the bottom of a zero sitting on it),
    stays; of those, only ink no thicker across the line than the line itself, and (with the frame's
    ``gray``) no darker than the line's own grey, so a stroke crossing or lying on the line stays whole. Where a stroke crossed a removed line, the gap is bridged again.
    In a printed table (``column_rules``, with the writing's digit height ``LineBands.digit_height``), what is
    left on a line's own pixels where two pieces meet it from either side, each reaching ``BRIDGE_TALL`` digit heights away from it, goes too: two
    digits, one written down onto a table's rule and the next row's up to it, are no stroke crossing it
    (``_parted``).
    """
    if not lines.bands:
        return mask
    out = mask.copy()
    for band in lines.bands:
        # One direction after the other, each on what the other left (where a grid's lines cross, the
        # first pass keeps the crossing as ink thicker than its line, the second takes it out with its
        # own line, or the dots' clean-up below does).
        for a, b in band.strips:
            part = (slice(None), slice(a, b)) if band.vertical else (slice(a, b), slice(None))
            # (``out`` itself is the mask its thickness is judged on: _take_out reads it all before it writes.)
            _take_out(out[part], out[part], None if gray is None else gray[part], band.mask[part],
                      band.width, band.thickness, band.vertical, None if band.floor is None else band.floor[part])
    if len(lines.bands) == 2:
        # Where a grid's lines cross, the ink is darker (two lines over each other) and as thick as the
        # other line: what is left there, away from any other ink, is a dot of the grid, not writing.
        first, second = lines.bands
        crossings = cv2.bitwise_and(first.mask, second.mask)
        near = max(first.width, second.width)
        beside = cv2.dilate(cv2.subtract(out, crossings), np.ones((near, near), np.uint8))
        out[:] = cv2.subtract(out, cv2.subtract(crossings, beside))
    if lines.digit_height and len(column_rules(lines, lines.digit_height)) >= TABLE_RULES:
        # Two digits written onto a line from either side (a table's rule between two rows) are joined by what
        # is left of it where they touch it, as a stroke crossing it is: parted where each reaches far from it.
        # Only in a table of two columns at least (``column_rules``, ``TABLE_RULES``): on ruled or squared paper whose every digit crosses a line the
        # digit height, measured on the pieces before the lines go, is that of what no line joins (13 px for a
        # test page's 50 px digits, each across a ruling), and the two halves of each digit were parted.
        owns = [band.mask if band.floor is None else cv2.compare(band.floor, 255, cv2.CMP_LT) for band in lines.bands]
        every = owns[0] if len(owns) == 1 else cv2.bitwise_or(owns[0], owns[1])
        for band, own in zip(lines.bands, owns):
            for a, b in band.strips:
                part = (slice(None), slice(a, b)) if band.vertical else (slice(a, b), slice(None))
                parted = _parted(out[part], own[part], every[part], band.vertical, BRIDGE_TALL * lines.digit_height)
                if parted is not None:
                    out[part] = cv2.subtract(out[part], parted)
    return out


def _strips(rows: np.ndarray, margin: int, size: int) -> list[tuple[int, int]]:
    """Ranges ``(start, stop)`` covering the given sorted row (or column) indices with ``margin`` either
    side, overlapping ranges merged."""
    if not len(rows):
        return []
    breaks = np.flatnonzero(np.diff(rows) > 2 * margin)
    starts = np.r_[rows[0], rows[breaks + 1]]
    stops = np.r_[rows[breaks], rows[-1]]
    return [(max(0, int(a) - margin), min(size, int(b) + 1 + margin)) for a, b in zip(starts, stops)]


def _thickness(mask: np.ndarray, path: np.ndarray, reach: int, every: int = 1) -> float:
    """The ink's thickness across a horizontal ``path`` (``(N, 2)`` x, y points) in ``mask``: the median,
    over its columns (every ``every``-th), of the ink within ``reach`` rows of it, so that the strokes
    crossing the line do not count."""
    h, w = mask.shape
    x0, x1 = max(0, int(path[1, 0])), min(w, int(path[-2, 0]) + 1)
    columns = np.arange(x0, x1, every)
    if not len(columns):
        return 1.0
    rows = np.round(np.interp(columns, path[:, 0], path[:, 1])).astype(np.int64)[:, None] + np.arange(-reach, reach + 1)
    ink = (mask[np.clip(rows, 0, h - 1), columns[:, None]] > 0) & (rows >= 0) & (rows < h)
    return max(1.0, float(np.median(np.count_nonzero(ink, axis=1))))


def _follow_lines(pooled: np.ndarray, length: int, gap: int,
                  grid: list | None = None) -> list[tuple[np.ndarray, float]]:
    """The horizontal lines of a pooled mask: for each, its path (float ``(N, 2)`` x, y points, carried
    on past both ends) and its thickness, in pooled pixels. ``grid``: a list that gets the threads that are
    lines but for being only ``GRID_ASPECT`` times longer than thick (a short table's rules, ``_grid_rules``)."""
    ph, pw = pooled.shape
    if length > pw:
        return []
    # Thin ink: what is left once the ink that is thick across the line's direction is gone.
    # (Beyond the frame is no ink: a line along the frame's edge is thin too.)
    thick = cv2.morphologyEx(pooled, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, THIN_RUN)),
                             borderType=cv2.BORDER_CONSTANT, borderValue=0)
    thin = cv2.subtract(pooled, thick)
    # Close the thread across the gaps of a dotted line and where a stroke crossed it.
    thin = cv2.morphologyEx(thin, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    # A line sloping at most LINE_SLOPE runs at least 1 / LINE_SLOPE pixels along each row: shorter bits
    # (specks, the flat bits of writing) are no line, and need no labelling.
    shortest_run = int(1 / LINE_SLOPE) - 1
    thin = cv2.morphologyEx(thin, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (shortest_run, 1)))
    # Labelled on the thread squeezed along the line by SQUEEZE (any ink in a squeezed pixel counts): a
    # thread stays one piece, lines stay apart, and the labelling costs a SQUEEZE-th.
    q = SQUEEZE if pw >= SQUEEZE * 8 else 1
    if q > 1:
        squeezed = cv2.resize(thin[:, : pw - pw % q], (pw // q, ph), interpolation=cv2.INTER_AREA)
        thin = cv2.compare(squeezed, 0, cv2.CMP_GT)
    count, labels, stats, _ = components(thin)
    if count <= 1:
        return []
    aspect = LINE_ASPECT if grid is None else GRID_ASPECT
    widths, areas, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_AREA], stats[1:, cv2.CC_STAT_HEIGHT]
    # Pieces of thread: thin (a ruled line with the odd flat stroke of a digit on it) and flat (sloping at
    # most LINE_SLOPE). A line broken where digits are written on it comes in several pieces, each a
    # quarter of the shortest line at least (the pieces between the digits of a word on a ruled line).
    # (Widths and areas are squeezed alike, so their ratio is still the thread's thickness.)
    shortest = max(4, length // 4)
    threads = np.flatnonzero((widths * q >= shortest) & (areas <= LINE_THICKNESS * widths)
                             & (heights <= LINE_SLOPE * widths * q + 2 * THIN_RUN)) + 1
    # Followed piece by piece (a curled page bends its lines): pieces of half the shortest line.
    step = max(8, length // 2)
    squeezed_step = max(2, step // q)
    segments = []  # each: (start, end, points x, points y), in pooled pixels
    for i in threads.tolist():
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        ys, xs = np.nonzero(labels[y: y + bh, x: x + bw] == i)
        piece = xs // squeezed_step
        pieces = int(piece.max()) + 1
        # Rows of thread in each piece, three rows at a time (a line one or two pooled pixels thick,
        # sloping a little): a line fills a row across the piece, at least half of it; a digit's flat
        # stroke on the line, or the writing that joins two lines into one thread, does not.
        rows = np.bincount(piece * bh + ys, minlength=pieces * bh).reshape(pieces, bh).astype(np.float64)
        window = rows.copy()
        window[:, 1:] += rows[:, :-1]
        window[:, :-1] += rows[:, 1:]
        spans = np.minimum(squeezed_step, bw - np.arange(pieces) * squeezed_step).astype(np.float64)
        above = np.zeros_like(window)
        above[:, 1:] = window[:, :-1]
        below = np.zeros_like(window)
        below[:, :-1] = window[:, 1:]
        peak = (window >= 0.5 * spans[:, None]) & (window >= above) & (window > below)
        # Each line is followed from piece to piece: a peak continues the track whose last row it is
        # within two rows (and the slope) of, a piece or two back; else it starts a track.
        tracks: list[list] = []  # each: [last piece, first piece, points x, points y]
        for k, r in zip(*np.nonzero(peak)):
            k, row = int(k), float(y + r)
            best = None
            for track in tracks:
                miss = abs(row - track[3][-1])
                if 0 < k - track[0] <= 2 and miss <= 2 + LINE_SLOPE * step * (k - track[0]):
                    if best is None or miss < abs(row - best[3][-1]):
                        best = track
            centre = (x + min(bw, (k + 0.5) * squeezed_step)) * q
            if best is None:
                tracks.append([k, k, [centre], [row]])
            else:
                best[0] = k
                best[2].append(centre)
                best[3].append(row)
        for last, first, px, py in tracks:
            segments.append(((x + first * squeezed_step) * q, min(x + bw, x + (last + 1) * squeezed_step) * q, px, py))
    chains: list[list] = []  # each: [points x, points y, spans (start, width)]
    for x0, x1, px, py in sorted(segments, key=lambda seg: seg[0]):
        # A piece continues the chain whose end, carried on at its slope, it meets: the same line, on the
        # other side of a digit (at most a shortest line further on).
        best, offset = None, float(THIN_RUN)
        for chain in chains:
            cx, cy = chain[0], chain[1]
            gap = x0 - chain[2][-1][0] - chain[2][-1][1]
            if gap < -step or gap > length:
                continue
            slope = (cy[-1] - cy[0]) / (cx[-1] - cx[0]) if cx[-1] - cx[0] >= step else 0.0
            miss = abs(py[0] - (cy[-1] + slope * (px[0] - cx[-1])))
            if miss <= offset:
                best, offset = chain, miss
        if best is None:
            chains.append([px, py, [(x0, x1 - x0)]])
        else:
            best[0].extend(px)
            best[1].extend(py)
            best[2].append((x0, x1 - x0))
    # Each line is carried on along itself by half the shortest line past its ends (a line that fades,
    # or runs on under a digit's loop).
    reach = step / 2.0 + length // 2
    across = np.arange(-THIN_RUN, THIN_RUN + 1)
    found = []
    for px, py, spans in chains:
        start, end = spans[0][0], max(x + bw for x, bw in spans)
        covered = sum(bw for _, bw in spans)
        # Long, and mostly thread (a row of writing does not join up into one).
        if end - start < length or covered < 0.5 * (end - start):
            continue
        # Some piece of it a line of its own length: a row of fraction bars, with the bars of the + and =
        # signs between them, lines up into a long thread of short pieces (``SHORT_PIECES``).
        if len(spans) > 1 and max(bw for _, bw in spans) < SHORT_PIECES * length:
            continue
        px, py = np.array(px), np.array(py)
        if len(px) == 1:
            px, py = np.array([start, end - 1.0]), np.repeat(py, 2)
        # The ink's own thickness across the path, column by column (the thread is only the thin part of
        # it: a stroke as thick as the thin limit leaves a sparse thread), the median column so the
        # strokes crossing the line do not count; much longer than thick (the stem of a tall 1 drawn in
        # a thin pen is thin, but not that long for its width).
        columns = np.concatenate([np.arange(x, x + bw) for x, bw in spans])
        rows = np.round(np.interp(columns, px, py)).astype(np.int64)[:, None] + across
        ink = (pooled[np.clip(rows, 0, ph - 1), columns[:, None]] > 0) & (rows >= 0) & (rows < ph)
        thickness = float(np.median(np.count_nonzero(ink, axis=1)))
        if thickness > LINE_THICKNESS or covered < aspect * thickness:
            continue
        # A line is there, on its path, in most of its columns (within a pixel): a column of digits
        # written one under the other, whose stems the closing joins into a thread, wanders.
        centre = THIN_RUN
        if np.count_nonzero(ink[:, centre - 1: centre + 2].any(axis=1)) < LINE_PRESENT * len(columns):
            continue
        slope0 = (py[1] - py[0]) / max(1.0, px[1] - px[0])
        slope1 = (py[-1] - py[-2]) / max(1.0, px[-1] - px[-2])
        path = np.concatenate([[(px[0] - reach, py[0] - slope0 * reach)], np.c_[px, py],
                               [(px[-1] + reach, py[-1] + slope1 * reach)]])
        if covered < LINE_ASPECT * thickness:
            grid.append((path, max(1.0, thickness)))
        else:
            found.append((path, max(1.0, thickness)))
    return found


def _grid_rules(lines: dict, grids: dict, slack: dict) -> dict:
    """Of the threads only ``GRID_ASPECT`` times longer than thick (``grids``, by direction: vertical True), those
    that cross or meet ``GRID_CROSSINGS`` lines of the other direction (``lines`` or such threads themselves)
    and have a line of their own direction beside them over the same stretch: the rules of a table or form too
    short to be lines on their own. Paths in pooled pixels, each in its own direction (a vertical one's x runs
    down the frame); ``slack``, by direction: how far a line's ends may lie beyond its path's first and last
    points."""
    out = {}
    for vertical, grid in grids.items():
        others = lines.get(not vertical, []) + grids.get(not vertical, [])
        alike = lines.get(vertical, []) + grid
        out[vertical] = [line for line in grid
                         if sum(_meets(line, other, slack[vertical], slack.get(not vertical, 0.0)) for other in others)
                         >= GRID_CROSSINGS
                         and any(_beside(line, other, slack[vertical]) for other in alike if other is not line)]
    return out


def _beside(line: tuple[np.ndarray, float], other: tuple[np.ndarray, float], slack: float) -> bool:
    """Whether ``other``, a line of the same direction, runs beside ``line`` over the same stretch: it starts and
    ends where ``line`` does (within ``THIN_RUN`` pooled pixels, their thicknesses and ``slack``) and lies apart
    from it."""
    (path, thickness), (along, other_thickness) = line, other
    px, py, ox, oy = path[1:-1, 0], path[1:-1, 1], along[1:-1, 0], along[1:-1, 1]
    if len(px) < 1 or len(ox) < 1:
        return False
    reach = THIN_RUN + thickness + other_thickness
    return (abs(float(px.min()) - float(ox.min())) <= reach + slack and abs(float(px.max()) - float(ox.max())) <= reach + slack
            and abs(float(np.median(py)) - float(np.median(oy))) > reach)


def _meets(line: tuple[np.ndarray, float], other: tuple[np.ndarray, float], slack: float = 0.0,
           other_slack: float = 0.0) -> bool:
    """Whether two lines of crossing directions (each path in its own direction, as ``_follow_lines`` gives
    it) cross or meet, within ``THIN_RUN`` pooled pixels and their thicknesses of each other's own extent (its
    path's first and last points, and ``slack`` or ``other_slack`` beyond)."""
    (path, thickness), (across, across_thickness) = line, other
    px, py = path[1:-1, 0], path[1:-1, 1]  # own extent, without the reach past the ends
    ax, ay = across[1:-1, 0], across[1:-1, 1]
    if len(px) < 2 or len(ax) < 2:
        return False
    reach = THIN_RUN + max(thickness, across_thickness)
    order, other_order = np.argsort(px), np.argsort(ax)
    # Where the other line runs across this one's middle (its path's y along it, x across), and where this
    # one is at that place.
    at = float(np.interp(float(np.median(py)), ax[other_order], ay[other_order]))
    if not px.min() - reach - slack <= at <= px.max() + reach + slack:
        return False
    row = float(np.interp(at, px[order], py[order]))
    return bool(ax.min() - reach - other_slack <= row <= ax.max() + reach + other_slack)


def _crosses_as_a_line(mask: np.ndarray, line: tuple[np.ndarray, float], others: list[tuple[np.ndarray, float]]) -> bool:
    """Whether ``line`` (found on ``mask``, both in its own direction: its path's x runs along it) is a
    line and not a column of writing: it runs on through the lines of the other direction it crosses
    (``others``, paths in the transposed frame), or it runs straight.

    On ruled paper the rulings fill the gaps between the digits of a column written one under the other,
    so that the stems of the column join up into a thread as present along its path as a faint printed
    line. But each digit sits between two rulings and ends short of one (the space above its top): the
    column stops at most rulings it meets, on one side, where a margin or table line goes on through
    (``CROSSING_SHARE``); and the column wanders from stem to stem, where a printed line, however faint or
    bent with the page, follows a smooth curve (``LINE_WANDER``). A faint line may miss both sides of a
    crossing now and then, so only a thread that fails both tests is writing.
    """
    path, _ = line
    ph, pw = mask.shape
    px, py = path[1:-1, 0], path[1:-1, 1]  # its own extent, without the reach past its ends
    first, last = float(px.min()), float(px.max())
    middle = float(np.median(py))
    crossings = continued = 0
    for other, other_thickness in others:
        # ``other`` in this frame: its path's x runs across this line, its y along it.
        where, along = other[1:-1, 0], other[1:-1, 1]
        if not (where.min() <= middle <= where.max()):
            continue
        at = float(np.interp(middle, where, along))
        gap = int(np.ceil(other_thickness / 2.0)) + 1
        if not (first + gap + CROSSING_REACH <= at <= last - gap - CROSSING_REACH):
            continue  # it meets this line's end (a box's corner, a table's edge), not its middle
        centre = int(round(at))
        row = int(round(float(np.interp(at, px, py))))
        rows = slice(max(0, row - 1), min(ph, row + 2))
        before = mask[rows, max(0, centre - gap - CROSSING_REACH): max(0, centre - gap + 1)]
        after = mask[rows, min(pw, centre + gap): min(pw, centre + gap + CROSSING_REACH + 1)]
        crossings += 1
        continued += bool(before.any() and after.any())
    if crossings < CROSSINGS_TO_JUDGE or continued >= CROSSING_SHARE * crossings or len(px) < 4:
        return True
    # How far its path strays from the smooth curve through it (a parabola: a page that bows).
    wander = float(np.sqrt(np.mean((py - np.polyval(np.polyfit(px, py, 2), px)) ** 2)))
    return wander <= LINE_WANDER


def _take_out(mask: np.ndarray, out: np.ndarray, gray: np.ndarray | None, band: np.ndarray, width: int,
              thickness: int, vertical: bool, floor: np.ndarray | None = None) -> np.ndarray:
    """Take the lines under ``band`` (``width`` pixels wide, the lines ``thickness`` thick) out of ``out``
    (changed in place), their thickness judged on ``mask``, and bridge the strokes that crossed them;
    return the ink taken out.

    With ``floor`` (``Band.floor``), only ink on the lines' own pixels goes, and with ``gray`` only ink there
    no darker than the line's own (a darker pen stroke lying on the line stays); without it, all the band's.
    Only ink that is no thicker across the line than the line itself goes: where a stroke crosses the line or
    runs along it, the ink there is thicker than the line, and stays whole. ``mask`` may be ``out`` itself:
    it is read before ``out`` is written."""
    if floor is None:
        lines = cv2.bitwise_and(out, band)
    elif gray is None:
        lines = cv2.bitwise_and(out, cv2.compare(floor, 255, cv2.CMP_LT))
    else:
        # Paper and ink beside the lines are never as bright as 255: only the lines' own pixels pass.
        lines = cv2.bitwise_and(out, cv2.compare(gray, floor, cv2.CMP_GE))
    if not lines.any():
        return lines
    run = thickness + 2
    beyond = cv2.morphologyEx(mask, cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1) if vertical else (1, run)),
                              borderType=cv2.BORDER_CONSTANT, borderValue=0)
    lines = cv2.subtract(lines, beyond)
    cleaned = cv2.subtract(out, lines)
    # Bridge strokes that crossed a line: close across it, but only inside what was removed.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (width, 1) if vertical else (1, width))
    bridged = cv2.bitwise_and(cv2.morphologyEx(cleaned, cv2.MORPH_CLOSE, kernel), lines)
    cleaned = cv2.bitwise_or(cleaned, bridged)
    # What is left inside the band and joins no ink outside it (a knot of the line, a blot where it
    # is thicker) is the line's, not writing: grown from the ink outside, across the band's width.
    ring = np.ones((3, 3), np.uint8)
    reach = 2 * (width // 2 + 1) + 1
    joined = cv2.bitwise_and(cv2.dilate(cv2.subtract(cleaned, band), np.ones((reach, reach), np.uint8)), cleaned)
    residue = cv2.subtract(cv2.bitwise_and(cleaned, band), joined)
    if residue.any():
        # A stroke running along inside the band is reached only at its ends, or not at all (a thin 1
        # written along a grid line): a piece that touches what was reached, or is longer than twice the
        # band's width along it, is writing (morphology along the line, not a labelling of the frame).
        def along(size: int) -> np.ndarray:
            return cv2.getStructuringElement(cv2.MORPH_RECT, (1, size) if vertical else (size, 1))

        seeds = cv2.bitwise_or(cv2.bitwise_and(cv2.dilate(joined, ring), residue),
                               cv2.morphologyEx(residue, cv2.MORPH_OPEN, along(2 * width + 1)))
        residue = cv2.subtract(residue, cv2.bitwise_and(cv2.dilate(seeds, along(4 * width + 1)), residue))
    out[:] = cv2.subtract(cleaned, residue)
    return cv2.bitwise_or(cv2.subtract(lines, bridged), residue)


#: Two pieces, one each side of a line, that the ink left on its own pixels joins are two digits (one written down
#: onto a table's rule, the next row's up to it), not one stroke crossing it, when each reaches this many digit
#: heights from the line: a digit crossing a ruling reaches past it by a few pixels, one written across a line's
#: middle half its height each side.
BRIDGE_TALL = 0.75
#: ... in a table of at least this many column rules (two columns): a ruled page's two edges, lying on a darker
#: table, are found as two lines down the frame that every ruling meets.
TABLE_RULES = 3


def _parted(ink: np.ndarray, own: np.ndarray, every: np.ndarray, vertical: bool, tall: float) -> np.ndarray | None:
    """The pixels of ``ink`` (lines taken out) on a line's own pixels (``own``, horizontal lines or, ``vertical``,
    vertical ones) that join a piece of ``ink`` off every line's own pixels (``every``) on one side reaching
    ``tall`` pixels from the line to one on the other side reaching as far. None: none."""
    junctions = cv2.bitwise_and(ink, own)
    if not junctions.any():
        return None
    if vertical:
        ink, every, junctions = (np.ascontiguousarray(a.T) for a in (ink, every, junctions))
    h, w = ink.shape
    reach = int(np.ceil(tall))
    count, labels, stats, _ = components(junctions)
    off = None
    parted = None
    for k in range(1, count):
        x, y, bw, bh, _ = (int(v) for v in stats[k])
        if y < 1 or y + bh >= h:
            continue
        cols = slice(max(0, x - 1), min(w, x + bw + 1))
        if not (ink[y - 1, cols].any() and ink[y + bh, cols].any()):
            continue
        # Cheap first: ink at all near the junction, as far from the line as the pieces must reach on both sides.
        window = slice(max(0, x - reach), min(w, x + bw + reach))
        if not (ink[max(0, y - reach): max(0, y - reach // 2), window].any()
                and ink[y + bh + reach // 2: y + bh + reach, window].any()):
            continue
        if off is None:
            off_ink = cv2.subtract(ink, every)
            _, off, off_stats, _ = components(off_ink)
        above = set(off[y - 1, cols].tolist()) - {0}
        below = set(off[y + bh, cols].tolist()) - {0}
        if not above or not below:
            continue
        up = max(y - int(off_stats[a, cv2.CC_STAT_TOP]) for a in above)
        down = max(int(off_stats[b, cv2.CC_STAT_TOP] + off_stats[b, cv2.CC_STAT_HEIGHT]) - (y + bh) for b in below)
        if up < tall or down < tall or above & below:
            continue
        # A line the search did not find, crossing this one, is cut by the lines it crosses into pieces that run
        # from line to line on both sides; digits do not fill their cells so.
        if any(_meets_far(off_stats[a], every, -1) for a in above) and any(_meets_far(off_stats[b], every, 1) for b in below):
            continue
        if parted is None:
            parted = np.zeros_like(ink)
        parted[y: y + bh, x: x + bw][labels[y: y + bh, x: x + bw] == k] = 255
    if parted is None:
        return None
    return np.ascontiguousarray(parted.T) if vertical else parted


def _meets_far(stats: np.ndarray, every: np.ndarray, step: int) -> bool:
    """Whether a piece (its ``connectedComponentsWithStats`` row) touches ``every`` (lines' own pixels) along its top
    edge (``step`` -1) or its bottom edge (1)."""
    x, y, w, h = (int(v) for v in stats[:4])
    row = y - 1 if step < 0 else y + h
    return 0 <= row < every.shape[0] and bool(every[row, x: x + w].any())


#: A net's rules (a printed table or form whose lines the line search did not take out: turned past
#: ``LINE_SLOPE``, blurred past ``THIN_RUN``) are at most this share of the writing's height thick ...
NET_RULE = 0.35
#: ... and run straight for at least this many digit heights (a digit's stroke is one at most).
NET_LENGTH = 2.0
#: A net's rules are taken out a direction at a time, to this many degrees.
NET_TURN = 5


def take_out_nets(mask: np.ndarray, contours: list[np.ndarray], boxes: np.ndarray, frames: np.ndarray,
                  digit_height: float | None) -> np.ndarray | None:
    """``mask`` with the straight rules of its nets taken out, or None where it holds none.

    A net is a frame (``segment._pieces_of``: a piece holding writing in its holes) at least ``NET_LENGTH``
    digit heights wide and tall, clear of the frame's edge (a patterned table around the page is a net too), whose
    cells lie in two rows and two columns at least (a form's comb of boxes, one box high, is ``vision.fields``' to
    read) and whose own ink is thin (``NET_RULE``): its straight runs of that length, at any slope,
    are its rules (a probabilistic Hough transform on the piece's own pixels), and go, as thick as the piece's
    mean stroke and a pixel either side. The digits written touching the net are pieces of their own again."""
    if digit_height is None or not frames.any():
        return None
    length = NET_LENGTH * digit_height
    out = None
    h, w = mask.shape[:2]
    # A net that the frame's edge cuts is no table printed on the page: the table or cloth around the page,
    # its pattern a net with the whole page in one of its holes.
    clear = (boxes[:, 0] > 0) & (boxes[:, 1] > 0) & (boxes[:, 0] + boxes[:, 2] < w) & (boxes[:, 1] + boxes[:, 3] < h)
    for i in np.flatnonzero(frames & clear & (boxes[:, 2] >= length) & (boxes[:, 3] >= length)).tolist():
        x, y, bw, bh = (int(v) for v in boxes[i])
        crop = mask[y: y + bh, x: x + bw]
        _, labels = cv2.connectedComponents(crop, connectivity=8)
        px, py = (int(v) for v in contours[i][0][0])
        own = np.uint8(labels == labels[py - y, px - x]) * 255
        found = cv2.findContours(own, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
        edges, tree = (found[0], found[1]) if len(found) == 2 else (found[1], found[2])
        perimeter = sum(cv2.arcLength(c, True) for c in edges)
        thickness = 2.0 * cv2.countNonZero(own) / max(perimeter, 1.0)
        if thickness > NET_RULE * digit_height:
            continue
        # Its cells (holes half a digit high and wide at least) lie in two rows and two columns at least: a
        # table, not a form's comb of boxes in a row (``vision.fields``) nor a box drawn around a number.
        cells = np.array([cv2.boundingRect(c) for c, up in zip(edges, tree[0][:, 3]) if up >= 0], np.int64).reshape(-1, 4)
        cells = cells[(cells[:, 2] >= digit_height / 2) & (cells[:, 3] >= digit_height / 2)]
        if not len(cells) or (cells[:, 0] + cells[:, 2]).min() > cells[:, 0].max() or \
                (cells[:, 1] + cells[:, 3]).min() > cells[:, 1].max():
            continue
        found = cv2.HoughLinesP(own, 1, np.pi / 180, int(length), minLineLength=int(length),
                                maxLineGap=max(2, int(round(thickness))))
        if found is None:
            continue
        # The rules by direction (to NET_TURN): of each, only ink no thicker across it than the rule goes
        # (as ``_take_out``): a stroke crossing a rule, or written along it, is thicker there, and stays.
        run = int(round(thickness)) + 2
        gone, band = np.zeros_like(own), np.zeros_like(own)
        by_turn: dict[int, list] = {}
        for x1, y1, x2, y2 in found.reshape(-1, 4).tolist():
            turn = int(round(np.degrees(np.arctan2(y2 - y1, x2 - x1)) / NET_TURN)) % (180 // NET_TURN)
            by_turn.setdefault(turn, []).append((x1, y1, x2, y2))
        for turn, segments in by_turn.items():
            rules = np.zeros_like(own)
            for x1, y1, x2, y2 in segments:
                cv2.line(rules, (x1, y1), (x2, y2), 255, run)
            angle = np.radians(turn * NET_TURN + 90)
            dx, dy = np.cos(angle) * (run - 1) / 2, np.sin(angle) * (run - 1) / 2
            side = int(np.ceil(max(abs(dx), abs(dy)))) * 2 + 1
            across = np.zeros((side, side), np.uint8)
            c = side // 2
            cv2.line(across, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))), 1, 1)
            beyond = cv2.morphologyEx(own, cv2.MORPH_OPEN, across, borderType=cv2.BORDER_CONSTANT, borderValue=0)
            gone |= cv2.subtract(cv2.bitwise_and(own, rules), beyond)
            band |= rules
        # What is left of the net inside its rules' band and joins no ink outside it (a crossing, a stretch
        # of rule thickened by grain) is the net's, not writing.
        left = cv2.subtract(own, gone)
        count, labels = cv2.connectedComponents(left, connectivity=8)
        outside = np.bincount(labels[(left > 0) & (cv2.dilate(band, np.ones((3, 3), np.uint8)) == 0)], minlength=count)
        inside = outside == 0
        inside[0] = False
        gone |= np.uint8(inside[labels]) * 255
        if out is None:
            out = mask.copy()
        out[y: y + bh, x: x + bw][gone > 0] = 0
    return out

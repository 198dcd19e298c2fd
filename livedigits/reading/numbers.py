"""From per-crop probabilities to what a person reads: digits, numbers, stable labels.

``decide`` turns probabilities into detections (dropping "not a digit" and low
confidence), ``Tracker`` keeps labels steady across frames, ``group_numbers``
joins digits along a line into numbers in reading order.
"""

from __future__ import annotations

import math
import statistics

from dataclasses import dataclass

import numpy as np

from livedigits.reading.words import read_context
from livedigits.vision.boxes import greedy_match, iou_matrix
from livedigits.types import NOT_A_DIGIT, Box, Candidate, Detection, Number



@dataclass(frozen=True)
class ReadingConfig:
    min_confidence: float = 0.6
    """A crop is reported as a digit only when its (smoothed) top digit probability reaches this."""
    line_overlap: float = 0.45
    """A digit continues a line when its centre is within this share of the taller one's height of where
    the line, carried on at its slope, would be."""
    max_line_gap: float = 8.0
    """... and when it is at most this many digit heights to the right of the line's last digit."""
    max_height_ratio: float = 1.8
    """Digits of one number have heights within this ratio."""
    max_gap: float = 0.8
    """A gap wider than this many digit heights is a space between numbers. Gaps are measured between
    digits at least half as wide as their line's typical digit, so the narrow box of a 1 does not widen its gaps."""
    min_space: float = 0.5
    """On a line that has such spaces, or tight gaps beside wide ones (``space_ratio`` apart), a gap of at
    least this many digit heights is a space too: "12 34" with a 0.7 height space is two numbers."""
    space_ratio: float = 1.8
    """... and the wide gaps of a line, or the spaces of a page, are this many times its tight gaps at least
    (each gap counted 0.1 digit height wider, so that touching digits do not make every ratio huge)."""
    page_gaps: int = 8
    """A page with at least this many gaps between neighbouring digits learns its writer's space from all of
    them together (see ``page_space``): every line of the page is split by the same rule."""
    page_separation: float = 0.75
    """... when they fall into two clusters at least this clearly: the share of the variance of the gaps'
    logarithms that lies between the two (Otsu's measure: 1 for two tight clusters, 0.75 for gaps spread
    evenly, 0.64 for one bell-shaped cluster). On 200 seeds of the stress rows ``spacing``, ``dense``,
    ``none``, ``ruled`` and ``grid``, 0.65-0.75 read the same numbers; 0.9 read 9% fewer of ``spacing``."""
    max_within: float = 1.2
    """Wider than this many digit heights, a gap is a space however the writer spaces the digits of a number:
    the page's space is never set above it."""
    word_gap: float = 0.35
    """A digit this close (in digit heights) to letters that are no digits, with as many letters as digits,
    is part of a word ("A7", "TOTAL"), not a number."""
    track_iou: float = 0.3
    """A box in the new frame continues a track when it overlaps the track's last box this much."""
    smoothing: float = 0.5
    """Weight of the newest frame in the running average of a track's probabilities (1 = no smoothing).
    0.5 lets a changed page win within two or three frames."""
    max_missed: int = 3
    """Frames a track survives unseen (a blink of the hand) before it is dropped."""
    arithmetic: bool = True
    """Read handwritten arithmetic too (signs, expressions and their verdicts: ``reading.expressions``).
    False reads numbers only, as before it existed, and skips its cost."""
    words: bool = True
    """Read no digit in a word: a run of glyphs at letter spacing with letters among them is a word, its
    l's, o's and S's too (``reading.words``). False reports every glyph the classifier reads as a digit."""
    printed: bool = True
    """Tell printed digits from handwriting (``Detection.printed``, ``reading.words``): printed digits are
    marked, and never joined into one number with handwritten ones."""
    combs: bool = False
    """Read the digits in a form's comb of character boxes as one number (``group_numbers``' ``combs``), as the
    form asks for it. False (the default) reads them by their spacing, as any digits: a comb's pitch is wider
    than a writer's space, and each digit comes out a number of its own. Off by default because one misread
    digit then costs the whole field: on real forms, read one digit a box counts as read right digit by
    digit, and a writer's 1 read as a 7 costs one digit, not a ten-digit phone number (docs/words.md, round 6)."""
    handwriting_only: bool = False
    """Report handwriting only: digits found printed are left out (``livedigits run --handwriting-only``)."""


DEFAULT_READING = ReadingConfig()

#: A mark is a letter of a word beside the digits when its height is within this range of theirs: a
#: capital or a lower-case letter with an ascender is about as tall as a digit of the same hand; a
#: plus or a times sign written beside digits is at most three quarters of their height, and a bracket
#: or a slash stands taller than the digits it encloses or divides.
LETTER_HEIGHT = (0.8, 1.25)


def decide(candidates: list[Candidate], probabilities: np.ndarray, config: ReadingConfig = DEFAULT_READING) -> list[Detection]:
    """One detection per candidate read as a digit with enough confidence."""
    return decide_all(candidates, probabilities, config)[0]


def decide_all(candidates: list[Candidate], probabilities: np.ndarray,
               config: ReadingConfig = DEFAULT_READING,
               track_ids: list[int] | None = None, context: bool = True,
               fields: list[Box] | tuple = (), blots: list[Box] | tuple = (),
               small: list[Box] | tuple = ()) -> tuple[list[Detection], list[Box]]:
    """The detections, and the boxes of the candidates read as "not a digit" (letters, signs): the
    reading ends a number at those. ``track_ids`` (one per candidate, from :class:`Tracker`) go into
    the detections. ``context``: then read the glyphs in their lines (``reading.words.read_context``: no
    digit in a word, printed digits marked); False leaves that to the caller, who may know the signs.
    ``fields``: a form's printed fields (``Segmentation.fields``), each read as one run there; ``blots``: the
    solid blots of ink (``Segmentation.blots``), glyphs of their lines there; ``small``: pieces too small to read
    (``Segmentation.small``), x-height letters there where they stand so."""
    detections, rejected = [], []
    for k, (candidate, probs) in enumerate(zip(candidates, probabilities)):
        digit = int(np.argmax(probs))
        confidence = float(probs[digit])
        if digit == NOT_A_DIGIT:
            rejected.append(candidate.box)
        elif confidence >= config.min_confidence:
            track_id = None if track_ids is None else int(track_ids[k])
            detections.append(Detection(box=candidate.box, digit=digit, confidence=confidence, track_id=track_id))
    if context:
        detections, rejected = read_context(candidates, probabilities, detections, rejected, config, fields=fields,
                                            blots=blots, small=small)
    return detections, rejected


@dataclass(frozen=True)
class Tracked:
    """What :meth:`Tracker.update` returns for one frame: the smoothed ``probabilities`` of its candidates
    (same order and shape as given) and the track ``ids``, one per candidate."""

    probabilities: np.ndarray
    ids: tuple[int, ...]


class Tracker:
    """Steady labels across frames: boxes are matched to tracks by IoU, probabilities averaged per track.

    Works on probabilities rather than labels, so a digit that reads 7 at 0.9 and 1 at 0.55 in one blurred
    frame stays a 7, while a page that really changes takes over within a few frames. The tracks are kept
    as arrays (boxes, probabilities, frames missed, ids), in the order they were made: a frame's update is a
    few array operations, not a loop over every track.
    """

    def __init__(self, config: ReadingConfig = DEFAULT_READING):
        self.config = config
        self._next_id = 1
        self.reset()

    def reset(self) -> None:
        """Forget every track (another page). Ids keep counting, so an id is never reused in a source."""
        self._boxes = np.zeros((0, 4), np.float64)  # x, y, w, h
        self._probs: np.ndarray | None = None  # (tracks, classes); None until the first candidate
        self._missed = np.zeros(0, np.int64)
        self._ids = np.zeros(0, np.int64)

    def update(self, candidates: list[Candidate], probabilities: np.ndarray) -> Tracked:
        """This frame's candidates and their probabilities in; their smoothed probabilities and track ids out."""
        cfg = self.config
        smoothed = np.array(probabilities, dtype=np.float32, copy=True)
        count = len(candidates)
        if count and self._probs is not None and self._probs.shape[1:] != smoothed.shape[1:]:
            self.reset()  # another model (another number of classes): the old averages mean nothing
        boxes = np.array([c.box.as_list() for c in candidates], np.float64).reshape(count, 4)
        ids = np.zeros(count, np.int64)
        matched_c = np.zeros(count, bool)
        matched_t = np.zeros(len(self._ids), bool)
        if count and len(self._ids):
            pairs = greedy_match(iou_matrix(boxes, self._boxes), cfg.track_iou)
            if pairs:
                ci, ti = (np.array(index, np.int64) for index in zip(*pairs))
                smoothed[ci] = cfg.smoothing * smoothed[ci] + (1.0 - cfg.smoothing) * self._probs[ti]
                matched_c[ci] = True
                matched_t[ti] = True
                ids[ci] = self._ids[ti]
                # A matched track moves to its candidate's box and takes its smoothed probabilities.
                self._boxes[ti] = boxes[ci]
                self._probs[ti] = smoothed[ci]
        missed = np.where(matched_t, 0, self._missed + 1)  # frames each track has gone unseen
        keep = missed <= cfg.max_missed
        new = np.flatnonzero(~matched_c)
        ids[new] = np.arange(self._next_id, self._next_id + len(new))
        self._next_id += len(new)
        # Surviving tracks in their order, then the new ones in the candidates' order (the order the
        # matching breaks ties by).
        self._boxes = np.concatenate([self._boxes[keep], boxes[new]])
        self._missed = np.concatenate([missed[keep], np.zeros(len(new), np.int64)])
        self._ids = np.concatenate([self._ids[keep], ids[new]])
        if count:
            self._probs = smoothed[new].copy() if self._probs is None else np.concatenate([self._probs[keep], smoothed[new]])
        elif self._probs is not None:
            self._probs = self._probs[keep]
        return Tracked(probabilities=smoothed, ids=tuple(int(i) for i in ids))


def _lines(detections: list[Detection], config: ReadingConfig) -> list[list[Detection]]:
    """Digits on lines of writing, each line left to right. A line may slope a little: each digit joins
    the line whose end, carried on at the line's slope, is nearest to it."""
    lines: list[list[Detection]] = []
    slopes: list[float] = []
    sums: list[list[float]] = []  # per line: n, sum x, sum y, sum xx, sum xy of the digits' centres
    ends: list[tuple] = []  # per line, its last digit: x2, h, centre x, centre y (plain numbers: per frame)
    active: list[int] = []  # the lines a digit further right may still join, in the order they were begun
    max_gap, overlap = config.max_line_gap, config.line_overlap
    for det in sorted(detections, key=lambda d: d.box.x):
        box = det.box
        bx, bw, bh = box.x, box.w, box.h
        cx, cy = bx + bw / 2.0, box.y + bh / 2.0
        # Digits come left to right, so a line's gap only grows, and a digit it could take is at most 2.5
        # times as tall as its end: a line out of reach now is out of reach for good (a page's 40 lines
        # are not each compared with every digit of the page).
        active = [k for k in active if bx - ends[k][0] <= max_gap * 2.5 * ends[k][1]]
        best, best_cost = None, None
        for k in active:
            lx2, lh, lx, ly = ends[k]
            gap = bx - lx2
            taller = bh if bh >= lh else lh
            shorter = lh if bh >= lh else bh
            # Side by side, the digit's centre right of the end's: two digits cut apart where they touch have
            # boxes that overlap (the cut follows the ink), and still continue the line in order.
            if cx <= lx or gap > max_gap * taller:
                continue
            if taller > 2.5 * shorter:
                continue
            off = abs(cy - (ly + slopes[k] * (cx - lx)))
            if off > overlap * taller:
                continue
            cost = (gap if gap > 0 else 0) + 2.0 * off
            if best_cost is None or cost < best_cost:
                best, best_cost = k, cost
        if best is None:
            lines.append([det])
            slopes.append(0.0)
            sums.append([1.0, cx, cy, cx * cx, cx * cy])
            ends.append((bx + bw, bh, cx, cy))
            active.append(len(lines) - 1)
        else:
            lines[best].append(det)
            ends[best] = (bx + bw, bh, cx, cy)
            s = sums[best]
            for k, v in enumerate((1.0, cx, cy, cx * cx, cx * cy)):
                s[k] += v
            # The least-squares slope of the line's centres so far, kept within about 11 degrees.
            n, sx, sy, sxx, sxy = s
            spread = n * sxx - sx * sx
            slopes[best] = min(0.2, max(-0.2, (n * sxy - sx * sy) / spread)) if spread > 1e-9 else 0.0
    return lines


#: A digit is counted at least this share of its line's typical (median) digit width wide about its centre when
#: its gaps are measured (``_gaps``): a 1 stands in a cell of its own, narrower than the writer's other digits but
#: wider than its stroke. Half a digit height (the rule before, about 0.8 of a digit's width) put a 1 closer to
#: its neighbours than the writer's space: on ``dense`` pages (seeds 0-39) 48 numbers were read joined to another,
#: 24 with this; 0.4-0.6 read alike elsewhere, and real pages' wide-set 1s (about 0.15 digit heights more ink
#: gap than the other digits) stay in their numbers (docs/stress.md, "Numbers read exactly: grouping").
NARROW_SHARE = 0.5


def _gaps(line: list[Detection], height: float, width: float) -> np.ndarray:
    """Gaps between neighbours on a line, in digit heights, each digit counted at least ``NARROW_SHARE`` of
    ``width`` (the line's typical digit width) wide about its centre (a 1 is narrow, its gaps are not wider
    for that)."""
    out = []
    half = NARROW_SHARE * width
    for a, b in zip(line, line[1:]):
        a, b = a.box, b.box
        wa, wb = max(a.w, half), max(b.w, half)
        # The centres' distance, as ``Box.center`` gives it (plain arithmetic: every neighbour of every frame).
        out.append((((b.x + b.w / 2.0) - (a.x + a.w / 2.0)) - (wa + wb) / 2.0) / height)
    return np.array(out, np.float64)


#: The valley of a page's gaps at its space: at most this share of the gaps (and one at least may) lie
#: within ``VALLEY_BAND`` times the space (gaps counted ``GAP_SHIFT`` wider) either side of it.
VALLEY_SHARE = 0.08
VALLEY_BAND = 1.15

#: Gaps are compared as ratios of (gap + this many digit heights): two touching digits (gap 0) and two
#: overlapping ones (a little below 0) are alike, not infinitely far apart.
GAP_SHIFT = 0.1


def _two_clusters(logs: np.ndarray, config: ReadingConfig) -> tuple[int, float, float] | None:
    """Otsu's split of sorted values in two: ``(k, low mean, high mean)``, the low cluster ``logs[:k + 1]``;
    None unless the two are clearly apart (``page_separation``, and means ``space_ratio`` apart)."""
    count = logs.size
    total = logs.var() if count >= 2 else 0.0
    if total <= 1e-12:
        return None
    low = np.arange(1, count)  # splits after each sorted value: `low` values below, the rest above
    sums = np.cumsum(logs)[:-1]
    low_mean = sums / low
    high_mean = (logs.sum() - sums) / (count - low)
    between = (low / count) * (1 - low / count) * (high_mean - low_mean) ** 2
    between[logs[1:] <= logs[:-1]] = 0.0  # split only between distinct values
    k = int(np.argmax(between))
    if between[k] < config.page_separation * total or high_mean[k] - low_mean[k] < np.log(config.space_ratio):
        return None
    return k, float(low_mean[k]), float(high_mean[k])


def page_space(gaps: np.ndarray, config: ReadingConfig = DEFAULT_READING) -> float | None:
    """The space between numbers of this page's writer, in digit heights, learnt from every gap of the page
    (between neighbouring digits on its lines, each in its line's digit height); None when the page does
    not show one.

    A writer leaves a gap of their own between the digits of a number and a wider one between numbers, and
    keeps to them over a page: the page's gaps are a mixture of clusters. They are split in two where the
    between-cluster variance of their logarithms is largest (Otsu's method), and the split is the writer's
    when the two are clearly apart (``page_separation``) and their typical gaps (geometric means)
    ``space_ratio`` apart at least. The space lies in the valley between the two, within ``min_space``
    .. ``max_within``: a page shows that its writer spaces the digits of a number wide, never that a gap
    narrower than a line would take for a space is one. A page with fewer
    than ``page_gaps`` gaps, or whose gaps are all alike (a column of single digits, one long number a
    line), has none: its lines are judged one by one (``_spaces``)."""
    if gaps.size < max(2, config.page_gaps):
        return None
    logs = np.sort(np.log(np.maximum(gaps, 0.0) + GAP_SHIFT))
    split = _two_clusters(logs, config)
    if split is None:
        return None
    top = logs.size
    k, low_mean, high_mean = split
    # Otsu's split leans towards the wider cluster when it has a long tail (spaces vary more than the gaps
    # within a number): the space is put in the valley, where the gaps are sparsest between the tight
    # cluster's mean and the next one's: the widest span of `step` consecutive gaps (a span of one is too
    # easily a chance hole in a cluster), and in it at the widest step.
    part = logs[:top]
    step = max(1, int(round(np.sqrt(top) / 2)))
    starts = np.flatnonzero((part[:-step] >= low_mean - 1e-9) & (part[step:] <= high_mean + 1e-9))
    if starts.size:
        i = int(starts[np.argmax(part[starts + step] - part[starts])])
        k = i + int(np.argmax(np.diff(part[i: i + step + 1])))
    # ... and no wider than ``space_ratio`` times the writer's typical gap within a number (the median of
    # the tight cluster): a table's numbers in neighbouring cells, a ruling taken out between them, are
    # a cluster of their own between the digits of a number and the spaces across the page.
    middle = min(0.5 * (part[k] + part[k + 1]), float(np.median(logs[: split[0] + 1])) + np.log(config.space_ratio))
    # A writer's two clusters leave a valley between them: where the gaps run on evenly across it (the
    # box walls of a form read beside its digits, pieces of print), the page shows no space of its own.
    near = np.count_nonzero(np.abs(logs - middle) < np.log(VALLEY_BAND))
    if near > max(1, VALLEY_SHARE * logs.size):
        return None
    space = float(np.exp(middle)) - GAP_SHIFT
    return min(max(space, config.min_space), config.max_within)


def _spaces(gaps: np.ndarray, config: ReadingConfig, space: float | None = None) -> np.ndarray:
    """Which gaps of one line are spaces between numbers: every gap of at least ``space`` when the page
    has shown its writer's space (``page_space``), else judged against the line's other gaps.

    A line with clear spaces (wider than ``max_gap``) is written with spaces: there every gap of at least
    ``min_space`` is one. Otherwise a line of tight gaps and wide ones (``space_ratio`` apart, the wide
    ones at least ``min_space``) has spaces at the wide ones; and a line of gaps all alike is one number.
    """
    if gaps.size == 0:
        return np.zeros(0, bool)
    if space is not None:
        return gaps >= space
    if (gaps > config.max_gap).any():
        return gaps >= config.min_space
    ordered = np.sort(gaps)
    shifted = np.maximum(ordered, 0.0) + GAP_SHIFT
    ratios = shifted[1:] / shifted[:-1]
    if ratios.size:
        k = int(np.argmax(ratios))
        if ratios[k] >= config.space_ratio and ordered[k + 1] >= config.min_space:
            return gaps >= ordered[k + 1]
    return np.zeros(gaps.shape, bool)


def _between(centres: list[tuple[float, float]], a: Detection, b: Detection) -> bool:
    """Does a mark (a sign or letter), of centre one of ``centres``, stand on the line between digits ``a``
    and ``b``? (Centres, not boxes: this runs for every pair of neighbours against every mark.)"""
    top = min(a.box.y, b.box.y)
    bottom = max(a.box.y2, b.box.y2)
    inset = 0.15 * (bottom - top)
    left, right = a.box.x + a.box.w / 2.0, b.box.x + b.box.w / 2.0
    low, high = top + inset, bottom - inset
    return any(left < mx < right and low < my < high for mx, my in centres)


def _word_letters(chunk: list[Detection], marks: list[Box], height: float, config: ReadingConfig) -> int:
    """How many letter-sized non-digits continue the chunk on its line, at word spacing, on both sides."""
    # Letters stand as tall as digits; signs (+ - x =) are smaller, and brackets and slashes taller (they
    # span what they enclose or divide); thin tall marks are brackets too.
    letters = [m for m in marks if LETTER_HEIGHT[0] * height <= m.h <= LETTER_HEIGHT[1] * height
               and 0.4 * m.h <= m.w <= 2.0 * m.h]
    count = 0
    for step, end in ((-1, chunk[0].box), (1, chunk[-1].box)):
        current = end
        while True:
            cy = current.center[1]
            nxt = None
            for m in letters:
                if abs(m.center[1] - cy) > 0.4 * height:
                    continue
                gap = (m.x - current.x2) if step > 0 else (current.x - m.x2)
                if -0.2 * height <= gap <= config.word_gap * height and (nxt is None or abs(m.x - current.x) < abs(nxt.x - current.x)):
                    nxt = m
            if nxt is None:
                break
            letters.remove(nxt)
            count += 1
            current = nxt
    return count


def _number(chain: list[Detection]) -> Number:
    if len(chain) == 1:
        box = chain[0].box
    else:  # the union of the digits' boxes, in one Box rather than one per digit
        boxes = [d.box for d in chain]
        x, y = min(b.x for b in boxes), min(b.y for b in boxes)
        box = Box(x, y, max(b.x + b.w for b in boxes) - x, max(b.y + b.h for b in boxes) - y)
    # The product left to right, as NumPy's reduction takes it (the same float on 300,000 random chains of
    # 1-63 float32 confidences), without an array made for every number of every frame.
    confidence = float(math.prod(d.confidence for d in chain))
    return Number(text="".join(str(d.digit) for d in chain), box=box, confidence=confidence, digits=tuple(chain))


def _rule_between(rules: list[tuple[float, float, np.ndarray, np.ndarray]], a: Detection, b: Detection) -> bool:
    """Does a table's column rule (``rules``: each its top, bottom and path's ys and xs) pass between the centres
    of digits ``a`` and ``b`` (``a`` to the left), at their height, with another beside it there? A digit written
    across the rule of its cell has its centre on its own side of it."""
    ax, ay = a.box.x + a.box.w / 2.0, a.box.y + a.box.h / 2.0
    bx, by = b.box.x + b.box.w / 2.0, b.box.y + b.box.h / 2.0
    y = 0.5 * (ay + by)
    at = [float(np.interp(y, ys, xs)) for top, bottom, ys, xs in rules if top <= y <= bottom]
    return len(at) >= 2 and any(ax < x < bx for x in at)


def _in_combs(detections: list[Detection], combs: list[Box] | tuple) -> tuple[list[list[Detection]], list[Detection]]:
    """The digits whose centre lies in one of ``combs``, per comb left to right (combs holding none left out),
    and the other digits."""
    held: list[list[Detection]] = [[] for _ in combs]
    rest = []
    for det in detections:
        cx, cy = det.box.x + det.box.w / 2.0, det.box.y + det.box.h / 2.0
        k = next((k for k, c in enumerate(combs) if c.x <= cx <= c.x2 and c.y <= cy <= c.y2), None)
        (rest if k is None else held[k]).append(det)
    return [sorted(h, key=lambda d: d.box.x) for h in held if h], rest


def group_numbers(detections: list[Detection], config: ReadingConfig = DEFAULT_READING,
                  marks: list[Box] | tuple = (), signs: list[Box] | tuple = (),
                  rules: tuple[np.ndarray, ...] | list = (), combs: list[Box] | tuple = ()) -> list[Number]:
    """Join digits into numbers along their lines; numbers come in reading order (top to bottom, left to right).

    ``marks``: boxes of what is no digit (signs, letters, dashes). A sign between two digits ends a number
    (``12+7`` is 12 and 7); a digit in a word of letters ("A7") is no number. ``signs``: boxes known to be
    signs of arithmetic: they end numbers too, and are never taken for letters. ``rules``: a printed table's
    column rules (``Segmentation.rules``, each a path of ``(x, y)`` points from top to bottom): a rule between
    two digits ends a number too (the numbers of a table's neighbouring cells, its rule taken out of the ink,
    stand as close as the digits of one). ``combs``: a form's combs of character boxes (``Segmentation.combs``):
    the digits in one comb are one number, left to right, whatever the gaps its boxes leave between them (a
    comb's pitch is the printing's, wider than a writer's space) and however high in its box each is
    written; no other digit is part of it, and its gaps take no part in the page's space (``page_space``).
    """
    marks = list(marks)
    centres = [m.center for m in marks] + [s.center for s in signs]
    rows = []
    if combs and config.combs:
        held, detections = _in_combs(detections, combs)
        for comb in held:
            chunks = [[comb[0]]]
            for det in comb[1:]:  # printed digits never join handwritten ones, in a comb too
                if det.printed == chunks[-1][-1].printed:
                    chunks[-1].append(det)
                else:
                    chunks.append([det])
            rows.append((float(statistics.median([d.box.center[1] for d in comb])),
                         float(statistics.median([d.box.h for d in comb])), [_number(c) for c in chunks]))
    lines = _lines(detections, config)
    heights = [float(statistics.median([d.box.h for d in line])) for line in lines]
    widths = [float(statistics.median([d.box.w for d in line])) for line in lines]
    rules = [(float(path[0, 1]), float(path[-1, 1]), path[:, 1], path[:, 0]) for path in rules if len(path) >= 2]
    gaps = [_gaps(line, height, width) for line, height, width in zip(lines, heights, widths)]
    # One writer's space for the whole page, where the page shows it: lines split alike.
    space = page_space(np.concatenate(gaps), config) if gaps else None
    for line, height, line_gaps in zip(lines, heights, gaps):
        spaces = _spaces(line_gaps, config, space)
        chunks = [[line[0]]]
        for k, det in enumerate(line[1:]):
            prev = chunks[-1][-1]
            unlike = max(prev.box.h, det.box.h) > config.max_height_ratio * min(prev.box.h, det.box.h)
            if spaces[k] or unlike or prev.printed != det.printed or (centres and _between(centres, prev, det)) \
                    or (rules and _rule_between(rules, prev, det)):
                chunks.append([det])
            else:
                chunks[-1].append(det)
        numbers = [_number(c) for c in chunks if not marks or _word_letters(c, marks, height, config) < len(c)]
        if numbers:
            rows.append((float(statistics.median([d.box.center[1] for d in line])), height, numbers))
    # Reading order: lines top to bottom, lines side by side at one height left to right.
    rows.sort(key=lambda r: r[0])
    ordered: list[list] = []
    for row in rows:
        if ordered and abs(row[0] - ordered[-1][0][0]) < 0.5 * max(row[1], ordered[-1][0][1]):
            ordered[-1].append(row)
        else:
            ordered.append([row])
    result = []
    for group in ordered:
        for _, _, numbers in sorted(group, key=lambda r: r[2][0].box.x):
            result.extend(numbers)
    return result

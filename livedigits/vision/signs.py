"""Signs of arithmetic from the pieces of ink of a frame: + - x / = ( ) and ÷, each with a box and confidence.

A sign is often small, wide or in pieces, so the pieces are grouped by where they stand before anything
is classified, always measured in the height of the digits written next to them:

- a **flat piece** (a dash, wider than ``flat_aspect`` times its height) is a minus; two flat pieces of
  about one length stacked closely with nothing between them are an ``=``; a flat piece with a dot
  centred above it and one below is a ``÷`` (written ``/``). A bar with digits above and below is left a
  minus here: the expression reader makes it a stacked fraction;
- a **compact piece** goes to the sign classifier (``classify.signs``): the crops the digit model called
  "not a digit" or read too unsurely to report, the pieces too small for a digit that ``segment(..., signs=True)`` handed over, and the
  digits read as one of ``SUSPECT_DIGITS`` (a slash or a parenthesis reads as 1, a + as 4, an x or a
  bracket as 7). A suspect digit turns into a sign only when the sign classifier is sure of it
  (``override_confidence``), its "digit" class is weak, it has a sign's size beside the digits next to
  it, and, for a parenthesis, its partner is on the line: the digit model's own outputs are never
  changed, only which detections are reported as digits.

Pure functions apart from the classifier passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from livedigits.types import NOT_A_DIGIT, Box, Candidate, Detection, Sign
from livedigits.vision.normalize import likeness, normalize_ink

#: Digits the digit model gives to signs: 1 (a slash, a parenthesis), 4 (a +), 7 (an x, a bracket).
SUSPECT_DIGITS = (1, 4, 7)
#: The readings a slash written low and long (``SignConfig.thick_dash``, taken on its shape alone, no classifier
#: asked) may be besides: a dash, and a + whose upright is short (pendigits writer 35's: a bar 65 px long
#: crossed by an upright a third of it, one rising stroke to ``_rising_stroke``; fresh worksheet 60043's right
#: ``(9+8)x4=68`` read ``(9/8)x4=68`` and marked wrong; issue 21, session 29). Given no probability, each is
#: checked before a sum is marked wrong and never chosen (``reading.expressions._right_if_misread``).
LOW_SLASH_ALTERNATIVES = ("-", "+")


@dataclass(frozen=True)
class SignConfig:
    """Named knobs of finding signs. Sizes are in digit heights of the writing nearby."""

    flat_aspect: float = 2.0
    """A piece wider than this for its height is a dash (as the segmentation's ``max_aspect``)."""
    min_dash: float = 0.2
    """A dash at least this long is a minus or a bar; shorter is a speck."""
    min_sign: float = 0.18
    """A compact sign is at least this tall or wide (smaller pieces are dots or noise)."""
    reach: float = 1.2
    """A piece counts only within this many digit heights above or below a digit's centre ..."""
    reach_x: float = 8.0
    """... and this many to its side: signs stand among digits, not alone in a margin."""
    min_confidence: float = 0.5
    """A rejected crop or a small piece is a sign when the sign classifier gives its sign this much."""
    override_confidence: float = 0.85
    """A suspect digit becomes a sign only when the classifier gives the sign this much ..."""
    max_digit_share: float = 0.1
    """... and its "digit" class at most this much."""
    equals_gap: float = 0.9
    """The two bars of an = are at most this share of the longer bar's length apart ..."""
    equals_ratio: float = 2.2
    """... and their lengths within this ratio."""
    dot_reach: float = 0.9
    """The dots of a ÷ lie within this share of the bar's length above and below it."""
    tall_sign: float = 0.85
    """A parenthesis is at least this many digit heights tall."""
    tall_suspect: float = 1.15
    """A digit read by the digit model becomes a parenthesis or a slash only when at least this many heights
    of the digits beside it tall (written brackets and slashes stand out; a 1 does not)."""
    wide_slash: float = 0.9
    """... or, for a slash, at least this wide for its height (a 1 leans far less)."""
    paired_paren: float = 0.95
    """... or, for a parenthesis, this many, when its partner on the line is read as a sign of its own."""
    small_suspect: float = 0.8
    """... and a + or an x only when at most this many."""
    slash_aspect: float = 3.5
    """A dash less than this many times as wide as high may be a slash lying low (kept as its alternative)."""
    min_lean: float = 0.12
    """A slash or a parenthesis is at least this wide for its height: it leans or bows. A straight upright
    stroke (the side of a form's box, a table's rule: 0.04 to 0.09 in generated forms and real scans) is
    neither; the most upright slashes written in the held-out fonts measure 0.12 to 0.15, parentheses 0.18."""
    slash_tall: float = 1.15
    """A digit read as a 1 at least this many heights of the digits beside it tall ..."""
    slash_lean: float = 0.2
    """... and this wide for its height (a 1 leans less) is a slash ..."""
    slash_confidence: float = 0.6
    """... when the sign classifier gives the slash this much and more than a digit."""
    geometric_confidence: float = 0.95
    """The confidence given to a sign known by its shape alone (a dash, an =, a ÷)."""
    lost_bar_confidence: float = 0.8
    """The confidence of an ``=`` whose second bar was found in the image, not among the pieces."""
    alternative_level: float = 0.003
    """Another sign the classifier gives at least this probability is kept as the sign's alternative."""
    maybe_confidence: float = 0.5
    """A suspect digit the sign classifier gives a sign at least this much, and more than a digit, with a
    sign's shape (a slash or a parenthesis at least ``maybe_tall`` digit heights tall and leaning or bowing,
    a + or an x small), is a possible sign: the expression reader takes it only where reading it as a digit
    leaves no sum and reading it as the sign makes an equation (``find_signs(possible=...)``)."""
    maybe_tall: float = 1.0
    upright_slash: tuple[float, float] = (0.9, 1.3)
    """A suspect digit standing upright (narrower than ``min_lean``) is a possible slash only between these many
    digit heights tall: a slash written upright like a bar between two numbers stands about as tall as they do
    (the sign classifier gives it the slash at 0.5 to 0.8 over a 1 of the digit model); a box's side or a rule
    is long. Only an equation it makes, in the place of no sum, takes it (``with_possible_signs``), and never
    ``wrong`` on it alone: it is read at ``weak_sign``."""
    weak_sign: float = 0.1
    """A piece that is no digit, which the sign classifier gives a + or an x at least this much (but less than
    ``min_confidence``, or less than "other"), is a possible sign too: the same structure decides it."""
    mark_size: tuple[float, float] = (0.3, 0.8)
    """A piece the sign classifier calls "other" is a possible + or x when it is between these many digit
    heights tall and wide (the held-out fonts' x: 0.4 to 0.5; a dot, a speck or a tick less) ..."""
    mark_aspect: tuple[float, float] = (0.45, 1.6)
    """... and about square, or as narrow as a written x (width over height within these): of the 3,794 x written
    on the tuning worksheets 7000-8059, 142 are narrower than 0.6 of their height (pendigits, MNIST and the fonts
    alike), the narrowest 0.44; of 5,147 +, 23, the narrowest 0.56. Of the pieces no digit read on the worksheets
    7000-13059 that this shape makes a possible + or x, the 5 between 0.45 and 0.6 are all x (0.6 before: the
    narrow x of 11027, 17001, 19020, 20016, 49014, 50050 stood as nothing in their sums)."""
    tiny_mark: float = 0.12
    """A piece no digit read, about square (``mark_aspect``), from this many digit heights up, is shown to the sign
    classifier even below ``min_sign`` (a dot's size: a hand's very small x, 0.15 to 0.25 of digits that a tall
    7 or a bracket beside it makes look smaller still); one it reads as a + or an x, likeliest of all classes at
    ``min_confidence``, is a possible sign (it stays a dot for a ÷). A speck it calls "other" is none
    (``mark_size``). Only an equation it stands in, between two operands, takes it (``with_possible_signs``)."""
    weak_equals: float = 0.3
    """A compact piece, wider than tall, whose likeliest sign is ``=`` with at least this (below
    ``min_confidence``) is a possible ``=``: the classifier splits the run-together bars of a held-out hand's
    small ``=`` about evenly between ``=`` and "other" (0.43-0.47 against 0.30-0.52 on the worksheets)."""
    small_mark: float = 0.6
    """A digit (reported or weak) at most this many digit heights tall and about square (``mark_aspect``), that
    the sign classifier gives a + or an x at least ``weak_sign`` as its likeliest sign, is a possible + or x: a
    digit of a number stands about as tall as the others (the worksheets' written + and x: 0.4 to 0.6 of the
    digits; a + read as a 7 at 0.73 in "30784=114", the + at 0.11). A digit of any class at most ``small_suspect``
    heights tall is shown to the sign classifier (a hand's cursive x, written at the height of its small
    letters, read as 2 or 8); one at most this tall that it reads as a sign or as no digit at all is a possible
    + or x even where it gives the digit class more than ``max_digit_share`` (``_mark_sized``), with no sign at
    all (``?``) among its readings."""
    thick_dash: float = 0.35
    """A flat piece at least this many digit heights tall is no minus (a minus or a bar is a tenth of one on
    the worksheets; the reader drops a dash over ``ExpressionConfig.max_dash``): one that is a single stroke
    rising to the right is a slash written low and long (a pen's slash of a held-out writer lies at 25-35
    degrees), ``/``."""
    slash_line: float = 0.8
    """... a single stroke: this share of its ink's spread lies along its main axis (a straight stroke 0.95
    and more; a word, a scrawl or a digit far less)."""
    lost_bar_gap: float = 0.9
    """A fraction's bar lost with a ruled line (the bars of a row of fractions line up into a thread the line
    search takes out): two digits stacked with at most this many digit heights between them and no dash
    there are looked at in the image for a bar across both, ..."""
    lost_bar_contrast: float = 0.5
    """... a band of rows at least this share of the digits' ink darkness across the digits' span, and
    that much darker than just beside its ends (a ruled line is as dark there: it is no bar)."""
    joined_equals: tuple[float, float] = (0.15, 0.6)
    """A piece wider than tall (``joined_equals_width``), between these many digit heights tall (a minus is a tenth
    of one, an ``=`` a third; a digit stands as tall as the others), whose ink lies in two horizontal bars, each
    across at least ``equals_cover`` of its width, with a gap or a thin join between them (``_two_bars``), is an
    ``=`` whose bars run together (joined at one end, in one stroke, or touching along their length): the digit
    model reads it as a 1 or a 2, the sign classifier as a thick ``-``. A ``-`` as tall as an ``=`` with two bars
    across most of its width is an ``=``."""
    joined_equals_width: tuple[float, float] = (1.3, 1.2)
    """... at least this many times as wide as tall, and at most this many digit heights wide (a bar's length)."""
    equals_cover: float = 0.6
    """... each bar's row inked across this share of the piece's width ..."""
    equals_dip: float = 0.8
    """... and the rows between the bars at most this share as dark as the fainter bar (a single thick stroke
    is darkest in its middle)."""
    joined_equals_confidence: float = 0.8
    """The confidence of such an ``=`` found among the pieces (its alternative the ``-`` it was taken for); one the
    digit model read as a digit is a possible ``=`` (the structure of the sum decides, ``with_possible_signs``)."""
    alike: float = 0.9
    """One hand writes one sign alike: a + (or an x) whose crop matches a sign of the frame the sign classifier
    read surely (``alike_sure``), and more surely than it, as the other one at least this well (the correlation
    of the blurred crops, the best of shifts up to ``ALIKE_SHIFT`` px), and better than any sure reading of its
    own sign, is that other sign (``_alike_signs``). On the tuning worksheets (seeds 7000-9059) no sure + and
    sure x of one page, both read right, matched this well (2,410 pairs, the best 0.893); one sign's pairs
    match 0.88 at the median."""
    alike_sure: float = 0.9
    """The sign classifier's probability of a sign that others are compared with."""
    alike_confidence: float = 0.45
    """The confidence of a sign so read (the sign it was read as its alternative, checked before any ``wrong``:
    the sum's verdict is never decided by the page alone), as ``ExpressionConfig.sign_min_confidence``."""
    diagonal_x: float = -0.25
    """A + is written in strokes along the axes, an x in diagonal ones. A sign read as + whose ink's edges run
    diagonally (``stroke_axes`` at most this: -1 for edges all at 45 degrees, +1 all along the axes) is an x,
    at ``axes_confidence``, with the + its first alternative (``_by_strokes``). Below every + drawn by the
    project (3,100 of the sign model's own drawing, ``train.signs._sign_ink`` with the held-out font families,
    its pen paths with and without slant, ``marks.draw_sign`` and the held-out fonts alone: the least -0.22)
    and every + read as + on the tuning worksheets (850 on 7000-9059, the least -0.10); the x drawn so: -0.32
    at the median, 58% of them at most this."""
    axes_plus: float = 0.45
    """... and a sign read as x whose edges run along the axes (``stroke_axes`` at least this) is a +: above
    every x drawn by the project (3,100, the most 0.35: ``marks.draw_sign``'s asterisk, an upright bar through
    an x) and every x read as x on the tuning worksheets (607, the most 0.26); the + drawn so: 0.44 at the
    median, 47% of them at least this."""
    axes_confidence: float = 0.45
    """The confidence of a sign so read (the classifier's sign its alternative, checked before any ``wrong``),
    as ``alike_confidence``."""


DEFAULT_SIGNS = SignConfig()


def _flat(box: Box, config: SignConfig) -> bool:
    return box.w > config.flat_aspect * max(box.h, 1)


class _Digits:
    """The centres and heights of a frame's digits as arrays, to find the digit a piece stands beside."""

    def __init__(self, detections: list[Detection]):
        boxes = np.array([d.box.as_list() for d in detections], np.float64).reshape(-1, 4)
        self.cx = boxes[:, 0] + boxes[:, 2] / 2
        self.cy = boxes[:, 1] + boxes[:, 3] / 2
        self.h = boxes[:, 3]

    def heights_near(self, boxes: list[Box], reach: float, reach_x: float, skips: list[int]) -> list[float | None]:
        """:meth:`height_near` of each box, the digit ``skips[k]`` left out for ``boxes[k]``: all in one pass
        over the digits (the same numbers, element by element)."""
        if not boxes:
            return []
        centres = np.array([b.center for b in boxes], np.float64).reshape(-1, 2)
        dx = np.abs(self.cx[None, :] - centres[:, :1])
        dy = np.abs(self.cy[None, :] - centres[:, 1:])
        near = (dy <= reach * self.h[None, :]) & (dx <= reach_x * self.h[None, :])
        near[np.arange(len(boxes)), skips] = False
        cost = np.where(near, dx + 3 * dy, np.inf)
        best = np.argmin(cost, axis=1)
        found = near.any(axis=1)
        return [float(self.h[b]) if f else None for b, f in zip(best.tolist(), found.tolist())]

    def height_near(self, box: Box, reach: float, reach_x: float, skip: int | None = None) -> float | None:
        """The height of the nearest digit whose line ``box`` stands on (within ``reach`` of its height
        above or below, ``reach_x`` to its side), or None; ``skip``: the index of a digit to leave out."""
        cx, cy = box.center
        dx, dy = np.abs(self.cx - cx), np.abs(self.cy - cy)
        near = (dy <= reach * self.h) & (dx <= reach_x * self.h)
        if skip is not None:
            near[skip] = False
        if not near.any():
            return None
        cost = np.where(near, dx + 3 * dy, np.inf)
        return float(self.h[int(np.argmin(cost))])


def find_signs(pieces: list[Candidate], candidates: list[Candidate], probabilities: np.ndarray,
               detections: list[Detection], classifier, config: SignConfig = DEFAULT_SIGNS,
               image: np.ndarray | None = None, image_scale: int = 1,
               possible: list | None = None, read=None) -> tuple[list[Sign], list[Detection], list[Box]]:
    """The signs of a frame, its detections less those that turned out to be signs, and its doubts: the
    boxes of pieces the digit model read as weak digits that are no sign either (a misread piece inside a
    sum: the sum cannot be marked wrong).

    ``pieces``: ``Segmentation.signs``; ``candidates`` and ``probabilities``: what the digit model read
    (after splits and smoothing); ``detections``: the digits reported from them; ``classifier``: a
    ``SignClassifier`` (or anything with its ``predict`` and ``classes``); ``image``: the frame (BGR or
    grey), to find the other bar of an ``=`` that the segmentation lost on a ruled line (optional);
    ``image_scale``: how many times smaller than the boxes' pixels it is (``Frame.scale``);
    ``possible``: a list that receives the suspect digits that may be signs (``SignConfig.maybe_confidence``)
    as signs, their digit among their alternatives; they stay digits in what is returned. ``read``: a
    function ``(crops, boxes) -> probabilities`` that stands in for ``classifier.predict(crops)`` (the
    recognizer's, which keeps an earlier frame's reading of an unchanged crop on video), or None.
    """
    if not detections:
        return [], detections, []  # no digits, no arithmetic: nothing is classified
    signs: list[Sign] = []
    near = _Digits(detections)

    # Flat pieces and dots near the writing, by shape alone.
    dashes, dots, compact = [], [], []
    tiny = set()  # pieces of a dot's size shown to the sign classifier (``tiny_mark``)
    for piece in pieces:
        height = near.height_near(piece.box, config.reach, config.reach_x)
        if height is None:
            continue
        if _flat(piece.box, config) and _joined_equals(piece.box, height, image, image_scale, piece.crop, config):
            signs.append(Sign("=", piece.box, config.joined_equals_confidence, ("-",), odds=(0.0,)))
        elif _flat(piece.box, config):
            if piece.box.h >= config.thick_dash * height and _rising_stroke(piece.crop, config):
                signs.append(_low_slash(piece.box, config))
            elif piece.box.w >= config.min_dash * height:
                dashes.append(piece.box)
        elif max(piece.box.w, piece.box.h) >= config.min_sign * height:
            compact.append((piece, height))
        elif max(piece.box.w, piece.box.h) >= 0.04 * height:
            dots.append(piece.box)
            # About square within a pixel: at a dot's size a pixel is a large share of its width.
            if (possible is not None and max(piece.box.w, piece.box.h) >= config.tiny_mark * height
                    and config.mark_aspect[0] <= (piece.box.w + 1) / max(1, piece.box.h)
                    and piece.box.w / max(1, piece.box.h + 1) <= config.mark_aspect[1]):
                compact.append((piece, height))  # a dot, or a very small x: the sign classifier is asked
                tiny.add(piece.box)
    reported = {d.box for d in detections}
    weak = set()  # candidates the digit model read as a digit, too unsurely to report
    # Per candidate piece not reported: the digit the digit model gives most and its probability. A bracket made
    # of one carries it among its alternatives (``_likeliest_digit``): where no bracket can stand, in an answer,
    # the sum reads that digit (``reading.expressions._signs_as_digits``).
    by_digit_model = {}
    for candidate, probs in zip(candidates, probabilities):
        # "Not a digit", or a digit too unsure to be reported (a long slash reads as a weak 1).
        if candidate.box not in reported:
            height = near.height_near(candidate.box, config.reach, config.reach_x)
            if height is None:
                continue
            if _flat(candidate.box, config) and _joined_equals(candidate.box, height, image, image_scale,
                                                                candidate.crop, config):
                signs.append(Sign("=", candidate.box, config.joined_equals_confidence, ("-",), odds=(0.0,)))
            elif _flat(candidate.box, config):
                if candidate.box.h >= config.thick_dash * height and _rising_stroke(candidate.crop, config):
                    signs.append(_low_slash(candidate.box, config))
                else:
                    dashes.append(candidate.box)
            else:
                compact.append((candidate, height))
                weak.add(candidate.box) if int(np.argmax(probs)) != NOT_A_DIGIT else None
                digit = int(np.argmax(np.asarray(probs)[:NOT_A_DIGIT]))
                by_digit_model[candidate.box] = (digit, float(probs[digit]))
    # A digit read where an "=" whose bars run together stands (a 1 or a 2 a third of the digits' height, wider
    # than tall, two bars): a possible "=" unless the sign classifier makes it a sign (below). A first cut on the
    # frame's median digit height and the box's shape keeps this to a few boxes.
    typical = float(np.median(near.h))
    joined = []
    for k, d in enumerate(detections):
        if (possible is not None and d.box.h <= config.joined_equals[1] * typical
                and d.box.w >= config.joined_equals_width[0] * d.box.h):
            height = near.height_near(d.box, config.reach, config.reach_x, skip=k)
            crop = next((c.crop for c in candidates if c.box == d.box), None)
            if height is not None and crop is not None and _joined_equals(d.box, height, image, image_scale, crop, config):
                joined.append(d)
    # Compact pieces and suspect digits: one batch through the sign classifier.
    by_box = {c.box: c for c in candidates}
    suspects = [(k, d) for k, d in enumerate(detections) if d.digit in SUSPECT_DIGITS and d.box in by_box]
    # A digit of another class standing well taller than the digits beside it may be a bracket too (an
    # MNIST-like "(" read as 8 at 0.79): those are shown to the sign classifier as well. A first cut on the
    # frame's median digit height keeps this to a few boxes (none on most pages).
    first_cut = config.tall_suspect * typical
    tall = [(k, d) for k, d in enumerate(detections) if d.box.h >= first_cut and d.digit not in SUSPECT_DIGITS
            and d.box in by_box]
    if tall:
        heights = near.heights_near([d.box for _, d in tall], config.reach, config.reach_x, [k for k, _ in tall])
        suspects += [(k, d) for (k, d), h in zip(tall, heights) if h is not None and d.box.h >= config.tall_suspect * h]
    # So may a digit of another class standing well smaller than the digits beside it (a hand's cursive x,
    # written at the height of its small letters, read as 2 or 8): ``small_mark``.
    small_cut = config.small_suspect * typical
    small = [(k, d) for k, d in enumerate(detections) if d.box.h <= small_cut and d.digit not in SUSPECT_DIGITS
             and d.box in by_box]
    if small:
        heights = near.heights_near([d.box for _, d in small], config.reach, config.reach_x, [k for k, _ in small])
        small = [(k, d) for (k, d), h in zip(small, heights) if h is not None and d.box.h <= config.small_suspect * h]
        suspects += small
    # Those are possible signs at most: a small 2 the sign classifier reads as a sure x is still a digit of its
    # number ("2000" on a list) unless the structure of a sum takes it.
    only_possible = {d.box for _, d in small}
    crops = [c.crop for c, _ in compact] + [by_box[d.box].crop for _, d in suspects]
    crop_of = dict(zip([c.box for c, _ in compact] + [d.box for _, d in suspects], crops))
    turned = set()
    short = set()  # parentheses from digits no taller than the digits: they need a partner of their own
    doubts: list[Box] = []
    if crops:
        batch = np.stack(crops)
        if read is None:
            probs = classifier.predict(batch)
        else:
            probs = read(batch, [c.box for c, _ in compact] + [d.box for _, d in suspects])
        classes = classifier.classes
        digit_class = classes.index("digit")
        sign_ids = [k for k, name in enumerate(classes) if name not in ("digit", "other")]
        other_class = classes.index("other") if "other" in classes else digit_class

        def sign(char, box, p, k, digit=None, **kw):
            """The sign, its alternatives (the other signs given a chance; the digit the digit model read, or
            ``?`` for no sign at all) and their probabilities."""
            # A piece as tall as half a digit is no dash, whatever the classifier gives a dash.
            tall = box.h > 0.5 * (near.height_near(box, config.reach, config.reach_x) or box.h * 2)
            alts = [(classes[j], float(p[j])) for j in sign_ids
                    if j != k and p[j] >= config.alternative_level and not (tall and classes[j] == "-")]
            if digit is not None:
                alts.append((str(digit), float(p[digit_class])))
            elif p[digit_class] + p[other_class] >= config.alternative_level:
                alts.append(("?", float(p[digit_class] + p[other_class])))
            return Sign(char, box, float(p[k]), tuple(a for a, _ in alts), odds=tuple(o for _, o in alts), **kw)

        def digit_sign(char, det, p, k):
            """The sign a detection the digit model read as a digit may be, with that digit's probability."""
            return sign(char, det.box, p, k, det.digit, from_digit=True, digit_confidence=det.confidence)

        for (piece, height), p in zip(compact, probs[: len(compact)]):
            k = max(sign_ids, key=lambda j: p[j])
            likeliest = classes[int(np.argmax(p))]
            if (piece.box not in tiny and (likeliest in ("-", "other", "digit") or (likeliest == "=" and p[k] < config.min_confidence))
                    and _joined_equals(piece.box, height, image, image_scale, piece.crop, config)):
                # Two bars in one piece, that the sign classifier reads as no other sign, nor surely as an "=" (a
                # thick "-", or nothing it knows): an "=" whose bars run together.
                signs.append(Sign("=", piece.box, config.joined_equals_confidence, ("-",), odds=(0.0,),
                                  from_digit=piece.box in weak))
                continue
            if piece.box in tiny:
                # A dot's size: a possible + or x only where the sign classifier reads one surely (a hand's very
                # small x, ``tiny_mark``); it stays a dot.
                if classes[k] in "+x" and p[k] >= config.min_confidence and int(np.argmax(p)) == k:
                    possible.append(replace(sign(classes[k], piece.box, p, k), confidence=config.weak_sign))
                continue
            if p[k] >= config.min_confidence and int(np.argmax(p)) == k and _fits(classes[k], piece.box, height, config):
                if classes[k] == "-":
                    dashes.append(piece.box)  # a short thick dash: it may be half of an = or a ÷
                else:
                    signs.append(sign(classes[k], piece.box, p, k, from_digit=piece.box in weak))
            elif (possible is not None and piece.box not in weak and classes[k] == "=" and p[k] >= config.weak_equals
                  and piece.box.w >= piece.box.h and _fits("=", piece.box, height, config)):
                # An "=" whose bars run together at an end (a held-out hand's small "=", read "=" at 0.43-0.47, the
                # rest "other" and "digit"): its likeliest sign, and no surer. Only an equation it makes, in the
                # place of no sum or an unsure one, takes it (``with_possible_signs``).
                possible.append(sign("=", piece.box, p, k))
            elif (possible is not None and piece.box not in weak and classes[k] in "+x" and p[k] >= config.weak_sign
                  and int(np.argmax(p)) != digit_class and _fits(classes[k], piece.box, height, config)):
                possible.append(sign(classes[k], piece.box, p, k))  # a small x the classifier half takes for a mark
            elif (possible is not None and piece.box not in weak and other_class != digit_class
                  and int(np.argmax(p)) == other_class
                  and _mark_sized(piece.box, height, config)):
                # A small square mark the classifier knows nothing of (a held-out hand's open x, read "other"
                # at 0.98 and x at 0.01): the likelier of + and x, at ``weak_sign``; only an equation it stands
                # in, between two operands, takes it (``with_possible_signs``).
                times = max((j for j in sign_ids if classes[j] in "+x"), key=lambda j: p[j])
                found = sign(classes[times], piece.box, p, times)
                possible.append(replace(found, confidence=config.weak_sign))
            elif (possible is not None and (piece.box in weak or int(np.argmax(p)) == digit_class)
                  and classes[k] in "+x" and p[k] >= config.weak_sign and _small_mark(piece.box, height, config)):
                # A weak digit, or a piece the sign classifier sees a digit in more than a sign, far shorter than
                # the digits beside it, whose likeliest sign is + or x (a held-out hand's small x, read 0.54 4 by
                # the digit model, x 0.36 by the sign classifier): a possible sign, at ``weak_sign``. It stays a
                # doubt for the reading without it.
                possible.append(replace(sign(classes[k], piece.box, p, k), confidence=config.weak_sign))
                doubts.append(piece.box)
            elif piece.box in weak or int(np.argmax(p)) == digit_class:
                doubts.append(piece.box)
        heights = near.heights_near([d.box for _, d in suspects], config.reach, config.reach_x, [i for i, _ in suspects])
        for (index, det), p, height in zip(suspects, probs[len(compact):], heights):
            k = max(sign_ids, key=lambda j: p[j])
            if height is None:
                continue
            char = classes[k]
            if char == "/" and _clear_slash(det.box, height, config) and p[k] >= config.slash_confidence and p[k] > p[digit_class]:
                # Taller than the digits beside it and leaning well over: a slash the sign classifier only
                # half tells from a 1 (an upright font's slash) is taken on its shape.
                signs.append(digit_sign(char, det, p, k))
                turned.add(det.box)
                continue
            if p[k] < config.override_confidence or p[digit_class] > config.max_digit_share or det.box in only_possible:
                if possible is not None and _maybe(char, det.box, height, p[k], p[digit_class], config):
                    possible.append(_unsure_if_upright(digit_sign(char, det, p, k), config))
                elif (possible is not None and other_class != digit_class and int(np.argmax(p)) != digit_class
                      and (p[digit_class] <= config.max_digit_share or det.box.h <= config.small_mark * height)
                      and _mark_sized(det.box, height, config)):
                    # A small square mark the sign classifier knows nothing of and sees no digit in, that the
                    # digit model read as a 1, 4 or 7 (a held-out hand's small open x read as 4 at 0.62): a
                    # possible + or x, as such a mark read as no digit is (above). At the height of a hand's
                    # small letters (``small_mark``) the sign classifier need only not read it as a digit.
                    times = max((j for j in sign_ids if classes[j] in "+x"), key=lambda j: p[j])
                    found = digit_sign(classes[times], det, p, times)
                    if p[digit_class] > config.max_digit_share:
                        # Taken at the height of small letters alone, it may be no sign either: a piece of the
                        # digit beside it (a hand's 8 whose upper loop stands apart, read as 2), ``?``.
                        found = replace(found, alternatives=found.alternatives + ("?",),
                                        odds=found.odds + (float(p[other_class]),))
                    possible.append(replace(found, confidence=config.weak_sign))
                elif (possible is not None and char in "+x" and p[k] >= config.weak_sign
                      and _small_mark(det.box, height, config)):
                    # A digit far shorter than the digits beside it, that the sign classifier sees a + or an x
                    # in more than any other sign: a possible sign, at ``weak_sign``.
                    possible.append(replace(digit_sign(char, det, p, k), confidence=config.weak_sign))
                continue
            if char in "/()" and det.box.h >= config.tall_suspect * height and det.box.w < config.min_lean * det.box.h:
                # Sure to be no digit, taller than the digits beside it and straight upright: a box's side or
                # a rule. Neither a sign nor a digit of a number (the recognizer ends numbers at it); a doubt.
                turned.add(det.box)
                doubts.append(det.box)
                continue
            if _fits(char, det.box, height, config, suspect=True):
                signs.append(digit_sign(char, det, p, k))
                turned.add(det.box)
            elif possible is not None and _maybe(char, det.box, height, p[k], p[digit_class], config):
                possible.append(_unsure_if_upright(digit_sign(char, det, p, k), config))
            elif char in "()" and det.box.h >= config.paired_paren * height and det.box.w >= config.min_lean * det.box.h:
                # As tall as the digits only: a parenthesis if a partner read as a sign, not as a digit,
                # closes it (checked below).
                signs.append(digit_sign(char, det, p, k))
                turned.add(det.box)
                short.add(det.box)
    for d in joined:
        if d.box not in turned:
            # Its two bars make it an "=" rather than any other possible sign the classifier half saw in it.
            possible[:] = [s for s in possible if s.box != d.box]
            possible.append(Sign("=", d.box, config.joined_equals_confidence, (str(d.digit),),
                                 odds=(float(d.confidence),), from_digit=True, digit_confidence=d.confidence))
    # Parentheses come in pairs: a digit taken for one stays a digit unless its partner is on its line (a
    # sign of its own, for one no taller than the digits).
    for sign in [s for s in signs if s.from_digit and s.char in "()"]:
        if not _has_partner(sign, [s for s in signs if not s.from_digit] if sign.box in short else signs):
            signs.remove(sign)
            turned.discard(sign.box)
            if sign.box in weak:
                # A weak digit (read too unsurely to report) that is no bracket after all is a weak digit
                # again: a doubt, which the sums read as its likeliest digit (the curved 9 of a held-out
                # hand, read 0.58 9 and by the sign classifier 0.8 ")", in "66+9=77").
                doubts.append(sign.box)
            if possible is not None:
                possible.append(sign)  # the structure of the sum may still take it
    # The brackets kept as signs made of a piece the digit model read (a weak digit, or "no digit"), with its
    # likeliest digit: a weak digit no bracket after all went back to the doubts above, and the sums read it as
    # that digit already (as a possible sign it carries none: "66+)=77" is no sum, and "66+9=77" is the plain one).
    signs = [_likeliest_digit(s, by_digit_model.get(s.box), config) for s in signs]
    if possible is not None and crops:
        # A bracket taken from a digit whose partner is read as a digit of a class the sign classifier was not
        # shown (an MNIST-like ")" read as 3, "(" as 5): its partner is looked for among the digits of its line.
        possible.extend(_partners(signs, possible, detections, turned, by_box, near, classifier, read, config))
    read_so = _joined_slashes(signs)
    signs = _alike_signs(read_so, crop_of, config)
    # The strokes' directions, for the + and x the page's likeness left as the classifier read them.
    signs = _by_strokes(signs, crop_of, config, {id(s) for s in read_so})
    if image is not None:
        # A + or an x written in two strokes that do not meet, each read as a small digit ("4767+6=" for
        # "4x7+6="): the two read again as one crop.
        for found, halves in _split_marks([d for d in detections if d.box not in turned], near, image, image_scale,
                                          classifier, read, config):
            signs.append(found)
            turned.update(halves)
    if turned:
        detections = [d for d in detections if d.box not in turned]
    if image is not None:
        dashes.extend(_lost_fraction_bars(detections, dashes, image, config, image_scale))
    signs.extend(_group_dashes(_joined_dashes(dashes), dots, detections, config, image, image_scale))
    if possible:
        # A possible + or x (a mark the classifier half knows, the likelier of the two) by its strokes too.
        possible[:] = _by_strokes(possible, crop_of, config, {id(s) for s in possible}, keep=True)
    if tiny and possible:
        # A dot of a ÷ is no possible x.
        divides = [s.box for s in signs if s.char == "/"]
        possible[:] = [s for s in possible if s.box not in tiny
                       or not any(d.x <= s.box.x and s.box.x2 <= d.x2 and d.y <= s.box.y and s.box.y2 <= d.y2
                                  for d in divides)]
    return signs, detections, doubts


def _joined_dashes(dashes: list[Box]) -> list[Box]:
    """Dashes end to end on one row, overlapping or apart by no more than their thickness, are one dash
    cut in two (a fraction's bar the binarisation cut, its end a dash of its own: ``(1)/(6)+-(3)/(5)``)."""
    if len(dashes) < 2:
        return dashes
    out = sorted(dashes, key=lambda d: d.x)
    k = 0
    while k + 1 < len(out):
        a = out[k]
        for j in range(k + 1, len(out)):
            b = out[j]
            thick = max(a.h, b.h)
            if (b.x - a.x2 <= thick and min(a.y2, b.y2) > max(a.y, b.y)
                    and abs(a.center[1] - b.center[1]) <= 0.5 * thick):
                out[k] = a.union(b)
                del out[j]
                break
        else:
            k += 1
    return out


#: The shifts (px of the 28x28 crop, each way) over which two signs' crops are matched (``_alike_signs``).
ALIKE_SHIFT = 2
#: The blur (sigma, px of the 28x28 crop) of the crops matched: a pen's jitter is no difference of shape.
ALIKE_BLUR = 1.5


def _alike_signs(signs: list[Sign], crop_of: dict, config: SignConfig) -> list[Sign]:
    """The signs, a + read where the frame's hand writes its x (or an x where it writes its +) read as that
    other sign. A font or a hand whose x the sign classifier takes for a turned + on one sum (a held-out
    font's x, read + at 0.98) writes that x alike elsewhere on the page, where it is read as x: a sign whose
    crop matches an x of the frame read surely, and more surely than the sign itself, at least
    ``SignConfig.alike``, and better than every other surely read + of it, is an x, at ``alike_confidence``,
    with the + (and its probability) its first alternative.
    Only a frame holding both a + or x to change and a sure reading of the other sign does any work."""
    crossed = [s for s in signs if s.char in "+x" and s.box in crop_of]
    sure = {c: [s for s in crossed if s.char == c and s.confidence >= config.alike_sure] for c in "+x"}
    if not sure["+"] and not sure["x"]:
        return signs
    targets = [s for s in crossed if sure["x" if s.char == "+" else "+"]]
    if not targets:
        return signs

    changed = {}
    for s in targets:
        def best(group):
            others = [crop_of[o.box] for o in group if o is not s]
            return float(likeness(crop_of[s.box], np.stack(others), ALIKE_SHIFT, ALIKE_BLUR).max()) if others else -1.0
        other = "x" if s.char == "+" else "+"
        # Only a reading surer than the sign's own decides it (two signs alike read each as the other, as
        # surely: neither changes).
        match = best([o for o in sure[other] if o.confidence > s.confidence])
        if match >= config.alike and match > best(sure[s.char]):
            alts = [(s.char, s.confidence)] + [(a, s.odds[k] if k < len(s.odds) else 0.0)
                                               for k, a in enumerate(s.alternatives) if a != other]
            changed[id(s)] = replace(s, char=other, confidence=config.alike_confidence,
                                     alternatives=tuple(a for a, _ in alts), odds=tuple(o for _, o in alts))
    return [changed.get(id(s), s) for s in signs]


def stroke_axes(crop: np.ndarray) -> float:
    """How the edges of the ink of ``crop`` (a 28x28 crop, ink bright) run: the mean of ``cos(4 theta)`` over
    its gradients' directions ``theta``, weighted by their squared strength. +1 where every edge runs along an
    axis (a +: a level bar and an upright), -1 where every edge runs at 45 degrees (an x); 0 for a ring or a
    + turned by 22 degrees. ``cos(4 theta)`` is ``((gx^2 - gy^2)^2 - (2 gx gy)^2) / (gx^2 + gy^2)^2``."""
    ink = crop.astype(np.float32, copy=False)
    gx = cv2.Sobel(ink, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(ink, cv2.CV_32F, 0, 1, ksize=3)
    strength = gx * gx + gy * gy
    total = float(strength.sum())
    if total <= 0.0:
        return 0.0
    along = gx * gx - gy * gy
    across = 2.0 * gx * gy
    return float(((along * along - across * across) / np.maximum(strength, 1e-12)).sum() / total)


def _by_strokes(signs: list[Sign], crop_of: dict, config: SignConfig, checked: set, keep: bool = False) -> list[Sign]:
    """The signs, a + whose strokes run diagonally read as an x and an x whose strokes run along the axes
    read as a + (``SignConfig.diagonal_x``, ``axes_plus``), at ``axes_confidence``, the classifier's sign and its
    probability the first alternative: a right answer that sign makes right is still right, and a ``wrong``
    needs both readings wrong. Only the signs whose ids are in ``checked`` (read so by the classifier) are
    looked at; a Sobel pass over each 28x28 crop read as + or x. With ``keep`` (possible signs) a sign so read
    keeps its confidence where that is lower."""
    out = []
    for s in signs:
        if id(s) in checked and s.char in "+x" and s.box in crop_of:
            axes = stroke_axes(crop_of[s.box])
            other = "x" if s.char == "+" and axes <= config.diagonal_x else (
                "+" if s.char == "x" and axes >= config.axes_plus else None)
            if other is not None:
                alts = [(s.char, s.confidence)] + [(a, s.odds[k] if k < len(s.odds) else 0.0)
                                                   for k, a in enumerate(s.alternatives) if a != other]
                confidence = min(s.confidence, config.axes_confidence) if keep else config.axes_confidence
                s = replace(s, char=other, confidence=confidence,
                            alternatives=tuple(a for a, _ in alts), odds=tuple(o for _, o in alts))
        out.append(s)
    return out


def _joined_equals(box: Box, height: float, image: np.ndarray | None, scale: int, crop: np.ndarray,
                   config: SignConfig) -> bool:
    """Is ``box`` (beside digits ``height`` tall) an ``=`` whose bars run together (``SignConfig.joined_equals``)?
    Its size first (nothing else is looked at for most pieces), then its ink: the frame's where given (the
    piece's crop, 28 px, blurs a thin seam), each row's darkness across the piece."""
    lo, hi = config.joined_equals
    if not (lo * height <= box.h <= hi * height and box.w >= config.joined_equals_width[0] * box.h
            and box.w <= config.joined_equals_width[1] * height):
        return False
    if image is not None:
        margin = max(2, box.h // 3)
        H, W = image.shape[0] * scale, image.shape[1] * scale
        top, left = max(0, box.y - margin), max(0, box.x - margin)
        region = _source_region(image, top, min(H, box.y2 + margin), left, min(W, box.x2 + margin), scale)
        if region.size == 0:
            return False
        if region.ndim == 3:
            region = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_BGR2GRAY)
        paper = _paper_grey(region)
        dark = paper - region.astype(np.float32)
        ink = float(dark.max())
        if ink <= 8:
            return False
        dark = np.clip(dark / ink, 0.0, 1.0)[box.y - top: box.y2 - top, box.x - left: box.x2 - left]
    else:
        ys, xs = np.nonzero(crop > 0.05)
        if not len(ys):
            return False
        dark = crop[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    return _two_bars(dark, config)


def _two_bars(dark: np.ndarray, config: SignConfig) -> bool:
    """Does ``dark`` (a piece's ink darkness, 0 to 1, rows by columns) hold two horizontal bars, one in its upper
    half and one in its lower, each row inked in one run across ``equals_cover`` of the width, the rows between
    them at most ``equals_dip`` as dark as the fainter bar?"""
    rows = dark.shape[0]
    if rows < 4 or dark.shape[1] < 4:
        return False
    # A bar is one run of ink across the row (an x's arms cross its top row as two).
    inked = np.pad(dark >= 0.5, ((0, 0), (1, 1)))
    edges = np.diff(inked.astype(np.int8), axis=1)
    cover = np.array([max((e - b for b, e in zip(np.flatnonzero(r == 1), np.flatnonzero(r == -1))), default=0)
                      for r in edges], np.float64) / dark.shape[1]
    level = dark.mean(axis=1)
    half = rows // 2
    upper = int(np.argmax(level[:half]))
    lower = half + int(np.argmax(level[half:]))
    if lower - upper < max(2, 0.35 * rows):
        return False  # one stroke, darkest in its middle
    if min(cover[upper], cover[lower]) < config.equals_cover:
        return False
    between = float(level[upper + 1: lower].min()) if lower - upper > 1 else 1.0
    return between <= config.equals_dip * min(float(level[upper]), float(level[lower]))


def _rising_stroke(crop: np.ndarray, config: SignConfig) -> bool:
    """Is the ink of a crop one straight stroke rising to the right (``SignConfig.slash_line``)? Its
    pixels' spread, weighted by their ink: the main axis holds nearly all of it, and x grows as y falls."""
    ys, xs = np.nonzero(crop > 0.2)
    if len(xs) < 5:
        return False
    weights = crop[ys, xs].astype(np.float64)
    cov = np.cov(np.stack([xs, ys]).astype(np.float64), aweights=weights)
    spread = np.linalg.eigvalsh(cov)
    return bool(cov[0, 1] < 0 and spread[-1] >= config.slash_line * max(float(spread.sum()), 1e-9))


def _upper_ink(above: np.ndarray, ink: float, x0: int, x1: int, lx0: float, lx1: float) -> tuple[int, int]:
    """The columns the digit above a bar (``above``: its ink darkness over the bar, columns ``x0``-``x1``)
    and the digit below (``lx0``-``lx1``) cover together: what a bar that touches the digit above must
    stick out past."""
    cols = np.flatnonzero(above.max(axis=0) >= 0.5 * ink) if above.size else np.array([], int)
    if not len(cols):
        return x0, x1
    return int(min(x0 + cols[0], lx0)), int(max(x0 + cols[-1] + 1, lx1))


def _lost_fraction_bars(detections: list[Detection], dashes: list[Box], image: np.ndarray, config: SignConfig,
                        scale: int = 1) -> list[Box]:
    """The bars of stacked fractions that the segmentation lost (``SignConfig.lost_bar_gap``), found in the
    image between two digits written one above the other: each as the box of its dark band."""
    if len(detections) < 2:
        return []
    b = np.array([d.box.as_list() for d in detections], np.float64)
    x, y, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    x2, y2 = x + w, y + h
    overlap = np.minimum(x2[:, None], x2[None]) - np.maximum(x[:, None], x[None])
    gap = y[None] - y2[:, None]  # [i, j]: from the bottom of i down to the top of j
    tall = np.maximum(h[:, None], h[None])
    pairs = np.argwhere((overlap >= 0.5 * np.minimum(w[:, None], w[None])) & (gap > 0) & (gap <= config.lost_bar_gap * tall)
                        & (np.maximum(h[:, None], h[None]) <= 1.5 * np.minimum(h[:, None], h[None])))
    out: list[Box] = []
    H, W = image.shape[0] * scale, image.shape[1] * scale
    for i, j in pairs.tolist():
        # The digits' boxes may hold what the line search left of the bar: the band looked at reaches into
        # them, and the bar must then stick out past both digits (a digit's own flat stroke does not).
        top, bottom = int(y2[i] - 0.3 * h[i]), int(y[j] + 0.3 * h[j])
        x0, x1 = int(min(x[i], x[j])), int(max(x2[i], x2[j]))
        if any(max(d.x, x0) < min(d.x2, x1) and y2[i] <= d.center[1] <= y[j] for d in dashes + out):
            continue  # a dash is there already
        side = max(2, int(0.5 * tall[i, j]))
        if x0 - side < 0 or x1 + side > W:
            continue
        region = _source_region(image, int(y[i]), min(H, int(y2[j])), x0 - side, x1 + side, scale)
        if region.size == 0:
            continue
        if region.ndim == 3:
            region = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_BGR2GRAY)
        # The paper's grey (NumPy's 90th percentile of the uint8 greys, in float64) and the ink's darkness
        # below it (the 98th percentile of paper - grey, in float32), from histograms: this runs for every
        # pair of digits one above the other, and a page's list of numbers has dozens.
        a, b, t = _ranked_greys(region, 90)
        paper = float(_lerp(a, b, t))
        digits_top = region[: int(0.6 * h[i]), side: side + x1 - x0]
        if digits_top.size == 0:
            continue
        a, b, t = _ranked_greys(digits_top, 98, darkest_first=True)
        ink = float(_lerp(np.float32(paper) - np.float32(a), np.float32(paper) - np.float32(b), t))
        if ink <= 8:
            continue
        band = paper - region[top - int(y[i]): bottom - int(y[i])].astype(np.float32)
        inside = band[:, side: side + x1 - x0].mean(axis=1)
        outside = np.concatenate([band[:, : side // 2], band[:, -(side // 2):]], axis=1).mean(axis=1)
        strong = np.flatnonzero((inside >= config.lost_bar_contrast * ink)
                                & (inside - outside >= config.lost_bar_contrast * ink))
        # Each run of strong rows thin enough for a bar (a digit's flat stroke beside it makes a thick one).
        for rows in np.split(strong, np.flatnonzero(np.diff(strong) > 1) + 1) if len(strong) else []:
            if len(rows) > max(3, 0.25 * tall[i, j]):
                continue
            cols = np.flatnonzero(band[rows[0]: rows[-1] + 1].mean(axis=0) >= 0.5 * ink)
            mid = side + (x1 - x0) // 2
            runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1) if len(cols) else []
            run = next((r for r in runs if r[0] <= mid <= r[-1]), None)
            lo, hi = x0, x1
            if run is not None and top + rows[-1] < y2[i]:
                # A bar that touches the digit above is one piece with it, and widens that digit's box to its
                # own ends: the bar must then stick out past that digit's ink above it, and the digit below.
                above = paper - region[: top - int(y[i]) + int(rows[0]), side: side + x1 - x0].astype(np.float32)
                lo, hi = _upper_ink(above, ink, x0, x1, x[j], x2[j])
                if run[0] > side + lo - x0 or run[-1] < side + hi - x0 - 1:
                    continue
            if run is not None and run[-1] - run[0] + 1 >= 1.15 * (hi - lo):
                out.append(Box(x0 - side + int(run[0]), top + int(rows[0]), int(run[-1] - run[0] + 1), len(rows)))
                break
    return out


def _maybe(char: str, box: Box, height: float, p_sign: float, p_digit: float, config: SignConfig) -> bool:
    """A suspect digit that may be a sign: see ``SignConfig.maybe_confidence``."""
    if p_sign < config.maybe_confidence or p_sign <= p_digit:
        return False
    if char in "/()":
        if box.w >= config.min_lean * box.h:
            return box.h >= config.maybe_tall * height
        # Upright: a slash written as a bar between two numbers, short (``upright_slash``); a box's side or a
        # table's rule is long.
        lo, hi = config.upright_slash
        return char == "/" and lo * height <= box.h <= hi * height
    # An "=" read as a digit (its bars run together, a held-out font's short thick = read as 4 at 0.74) is as
    # small.
    return char in "+x=" and box.h <= config.small_suspect * height


def _unsure_if_upright(sign: Sign, config: SignConfig) -> Sign:
    """A possible slash standing upright (``upright_slash``) is a 1 as much as a slash by its shape: read at
    ``weak_sign``, it may make an equation right or open, never wrong on it alone (``9x10=90`` read ``9/0=90``)."""
    if sign.char == "/" and sign.box.w < config.min_lean * sign.box.h:
        return replace(sign, confidence=config.weak_sign)
    return sign


def _mark_sized(box: Box, height: float, config: SignConfig) -> bool:
    """Has a mark the size and shape of a written + or x beside digits ``height`` tall (``mark_size``,
    ``mark_aspect``)?"""
    lo, hi = config.mark_size
    return lo * height <= max(box.w, box.h) <= hi * height and config.mark_aspect[0] <= box.w / max(1, box.h) <= config.mark_aspect[1]


def _low_slash(box: Box, config: SignConfig) -> Sign:
    """A slash written low and long at ``box``, taken on its shape alone (``SignConfig.thick_dash``): its
    alternatives ``LOW_SLASH_ALTERNATIVES`` given no probability."""
    return Sign("/", box, config.geometric_confidence, LOW_SLASH_ALTERNATIVES, odds=(0.0,) * len(LOW_SLASH_ALTERNATIVES))


def _partners(signs: list[Sign], possible: list[Sign], detections: list[Detection], turned: set, by_box: dict,
              near: "_Digits", classifier, read, config: SignConfig) -> list[Sign]:
    """Possible brackets that close (or open) a bracket (a sign or a possible sign, taken from a digit or read
    surely in a piece no digit read) that has no partner on its line: the digits of its line on the partner's
    side, at least ``maybe_tall`` as tall as the digits beside them, that the sign classifier was not shown (a
    3, a 5, a 6: not ``SUSPECT_DIGITS``), read by it; one it gives the partner at least ``maybe_confidence`` and
    more than a digit is a possible sign. Brackets come in pairs, so the expression reader takes the two
    together or neither (``reading.expressions.with_possible_signs``): an MNIST-like ")" read as a sure 3 after
    a sure "(" ("(9+33x3=36") is as lone as one after a "(" taken from a digit. Costs a batch only where such a
    lone bracket stands."""
    every = signs + possible
    lone = [s for s in every if s.char in "()" and not _has_partner(s, every)]
    if not lone:
        return []
    shown = {s.box for s in every} | turned
    wanted = {}
    for s in lone:
        want = ")" if s.char == "(" else "("
        cx, cy = s.box.center
        for k, d in enumerate(detections):
            if d.box in shown or d.box not in by_box or d.digit in SUSPECT_DIGITS:
                continue
            dx, dy = d.box.center
            if abs(dy - cy) > 0.5 * max(s.box.h, d.box.h) or (dx <= cx if want == ")" else dx >= cx):
                continue
            if abs(dx - cx) > config.reach_x * s.box.h:
                continue
            height = near.height_near(d.box, config.reach, config.reach_x, skip=k)
            if height is not None and d.box.h >= config.maybe_tall * height:
                wanted.setdefault(d.box, (d, want))
    if not wanted:
        return []
    found = list(wanted.values())
    batch = np.stack([by_box[d.box].crop for d, _ in found])
    probs = classifier.predict(batch) if read is None else read(batch, [d.box for d, _ in found])
    classes = classifier.classes
    digit_class = classes.index("digit")
    sign_ids = [k for k, name in enumerate(classes) if name not in ("digit", "other")]
    out = []
    for (d, want), p in zip(found, probs):
        k = classes.index(want)
        if p[k] >= config.maybe_confidence and p[k] > p[digit_class]:
            alts = [(classes[j], float(p[j])) for j in sign_ids if j != k and p[j] >= config.alternative_level]
            alts.append((str(d.digit), float(p[digit_class])))
            out.append(Sign(want, d.box, float(p[k]), tuple(a for a, _ in alts), odds=tuple(o for _, o in alts),
                            from_digit=True, digit_confidence=d.confidence))
    return out


#: Each stroke of a + or an x in two pieces is at most this share of the height of the digits beside it, and
#: the two stand at most ``SPLIT_MARK_GAP`` of that height apart.
SPLIT_MARK_PIECE = 0.6
SPLIT_MARK_GAP = 0.15


def _split_marks(detections: list[Detection], near: "_Digits", image: np.ndarray, image_scale: int, classifier,
                 read, config: SignConfig) -> list[tuple[Sign, tuple[Box, Box]]]:
    """A + or an x written in two strokes that do not meet (a pen's x: two short strokes) is read as two small
    digits side by side. Two digits each at most ``SPLIT_MARK_PIECE`` of the height of the other digits of
    their line, at most ``SPLIT_MARK_GAP`` of it apart and overlapping in height by half the shorter, whose
    union has the size and shape of a written + or x (``small_suspect``, ``mark_aspect``), are read again as
    one crop (cut from the frame, Otsu's threshold); one the sign classifier gives a + or an x at
    ``override_confidence`` or more, its digit class at most ``max_digit_share``, is that sign (as a suspect
    digit is turned into a sign). Only small digits are paired: none on most frames."""
    if len(detections) < 3:
        return []
    boxes = np.array([d.box.as_list() for d in detections], np.float64)
    hs = boxes[:, 3]
    small = np.flatnonzero(hs <= SPLIT_MARK_PIECE * float(np.median(hs)))
    if len(small) < 2:
        return []
    pairs = []
    for i in small:
        for j in small:
            a, b = detections[i].box, detections[j].box
            if a.x >= b.x:
                continue
            if min(a.y2, b.y2) - max(a.y, b.y) < 0.5 * min(a.h, b.h):
                continue
            union = a.union(b)
            # The digits of the line: those within reach of the pair, not small.
            cy = union.center[1]
            line = ((np.abs(near.cy - cy) <= config.reach * near.h) & (np.abs(near.cx - union.center[0]) <= config.reach_x * near.h)
                    & (near.h * SPLIT_MARK_PIECE >= max(a.h, b.h)))
            if not line.any():
                continue
            height = float(np.median(near.h[line]))
            if max(a.h, b.h) > SPLIT_MARK_PIECE * height or b.x - a.x2 > SPLIT_MARK_GAP * height:
                continue
            lo, hi = config.mark_aspect
            if union.h > config.small_suspect * height or not lo <= union.w / max(1, union.h) <= hi:
                continue
            pairs.append((union, (a, b)))
    if not pairs:
        return []
    batch = np.stack([region_crop(image, union, image_scale) for union, _ in pairs])
    probs = classifier.predict(batch) if read is None else read(batch, [u for u, _ in pairs])
    classes = classifier.classes
    digit_class = classes.index("digit")
    out, used = [], set()
    for (union, halves), p in zip(pairs, probs):
        k = max((classes.index(c) for c in "+x"), key=lambda j: p[j])
        if p[k] < config.override_confidence or p[digit_class] > config.max_digit_share or used & set(halves):
            continue
        used.update(halves)
        other = classes.index("x" if classes[k] == "+" else "+")
        alts = [(classes[other], float(p[other]))] if p[other] >= config.alternative_level else []
        out.append((Sign(classes[k], union, float(p[k]), tuple(a for a, _ in alts), odds=tuple(o for _, o in alts)), halves))
    return out


def _small_mark(box: Box, height: float, config: SignConfig) -> bool:
    """Is ``box`` a mark far shorter than the digits beside it (``small_mark``) and about square?"""
    lo, hi = config.mark_aspect
    return box.h <= config.small_mark * height and lo <= box.w / max(1, box.h) <= hi


def _has_partner(sign: Sign, signs: list[Sign]) -> bool:
    want = ")" if sign.char == "(" else "("
    cx, cy = sign.box.center
    for other in signs:
        if other.char != want:
            continue
        ox, oy = other.box.center
        if abs(oy - cy) <= 0.5 * max(sign.box.h, other.box.h) and ((ox > cx) if want == ")" else (ox < cx)):
            return True
    return False


#: Two slashes are one when the upper starts within this share of their height of where the lower ends.
SLASH_JOIN = 0.2


def _joined_slashes(signs: list[Sign]) -> list[Sign]:
    """A long slash cut in two (by the split of touching digits, or a thin stroke's gap) is two slashes end
    to end: the upper one starting, within ``SLASH_JOIN`` of their height, where the lower one ends, up and
    to the right of it (``20//4=5`` is ``20/4=5``). They are one slash, as surely read as the less sure."""
    slashes = sorted((s for s in signs if s.char == "/"), key=lambda s: s.box.x)
    if len(slashes) < 2:
        return signs
    out = list(signs)
    for low, high in zip(slashes, slashes[1:]):
        if low not in out or high not in out:
            continue
        reach = SLASH_JOIN * max(low.box.h, high.box.h)
        if (low.box.center[0] < high.box.x <= low.box.x2 + reach and high.box.center[1] < low.box.center[1]
                and abs(high.box.y2 - low.box.y) <= reach):
            joined = replace(low, box=low.box.union(high.box), confidence=min(low.confidence, high.confidence),
                             from_digit=low.from_digit and high.from_digit)
            out[out.index(low)] = joined
            out.remove(high)
    return out


def _clear_slash(box: Box, height: float, config: SignConfig) -> bool:
    """A stroke a slash by its shape: taller than the digits beside it and leaning well over."""
    return box.h >= config.slash_tall * height and box.w >= config.slash_lean * box.h


def _fits(char: str, box: Box, height: float, config: SignConfig, suspect: bool = False) -> bool:
    """Is a sign of this size plausible beside digits ``height`` tall? Parentheses and slashes stand about
    as tall as the digits or taller; + and x are smaller. A digit the digit model read (``suspect``) must
    clearly have a sign's size before it is taken for one: a 1 is as tall as its neighbours."""
    if char in "/()" and box.w < config.min_lean * box.h:
        return False  # a straight upright stroke: a box's side or a rule, not a slash or a bracket
    if char in "()":
        return box.h >= (config.tall_suspect if suspect else config.tall_sign) * height
    if char == "/":
        if suspect:  # taller than the digits, or leaning far more than a 1 does
            return box.h >= config.tall_suspect * height or box.w >= config.wide_slash * box.h
        return box.h >= 0.6 * height or box.w >= 0.6 * height
    if char in "+x=":
        return box.h <= (config.small_suspect if suspect else 1.0) * height
    return True


def region_crop(image: np.ndarray, box: Box, image_scale: int) -> np.ndarray:
    """The classifier's crop (``normalize_ink``) of the ink in ``box`` of the frame ``image`` (``image_scale``
    source pixels a pixel), cut from the frame by Otsu's threshold of that region alone: a crop of pieces the
    segmentation found apart, read as one (a + or an x in two strokes, ``_split_marks``; a digit in two
    pieces, ``reading.recognizer.crop_asker``'s ``union_read``)."""
    region = _source_region(image, box.y, box.y2, box.x, box.x2, image_scale)
    if not region.size:
        return normalize_ink(np.zeros((1, 1), np.uint8))  # off the frame: no ink, an empty crop
    if region.ndim == 3:
        region = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_BGR2GRAY)
    _, mask = cv2.threshold(np.ascontiguousarray(region, np.uint8), 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return normalize_ink(mask)


def _source_region(image: np.ndarray, top: int, bottom: int, left: int, right: int, scale: int) -> np.ndarray:
    """``image[top:bottom, left:right]`` in the pixels of its source, ``scale`` times the image's: the
    part of the small image under it, enlarged (only this part)."""
    if scale == 1:
        return image[top:bottom, left:right]
    t, l = top // scale, left // scale
    small = image[t: -(-bottom // scale), l: -(-right // scale)]
    if small.size == 0:
        return small
    big = cv2.resize(np.ascontiguousarray(small), (small.shape[1] * scale, small.shape[0] * scale),
                     interpolation=cv2.INTER_LINEAR)
    return big[top - t * scale: bottom - t * scale, left - l * scale: right - l * scale]


def _ranked_greys(region: np.ndarray, q: float, darkest_first: bool = False) -> tuple[int, int, float]:
    """The two greys of a uint8 ``region`` that NumPy's ``percentile(..., q)`` interpolates between, and its
    weight: the values at the places either side of ``q`` percent of the way through the sorted greys
    (from the darkest first with ``darkest_first``: the order of ``paper - region``). Read off a histogram
    of the 256 greys, which costs a quarter of NumPy's percentile machinery on a small region; the
    lerp is the caller's, in the caller's dtype (:func:`_lerp`)."""
    flat = region.ravel()
    count = flat.size
    place = (count - 1) * (q / 100.0)
    low = math.floor(place)
    high = min(low + 1, count - 1)
    if darkest_first:
        low, high = count - 1 - low, count - 1 - high
    cumulative = np.cumsum(np.bincount(flat, minlength=256))
    a, b = np.searchsorted(cumulative, (low + 1, high + 1))
    return int(a), int(b), place - math.floor(place)


def _lerp(a, b, t: float):
    """NumPy's interpolation between two sorted values (``numpy.percentile``'s, to the bit in the dtype
    of ``a`` and ``b``)."""
    return a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t)


def _paper_grey(region: np.ndarray) -> float:
    """``np.percentile(region.astype(np.float32), 90)``, the same float: the paper's grey around a dash."""
    a, b, t = _ranked_greys(region, 90)
    return float(_lerp(np.float32(a), np.float32(b), t))


def _lost_bar(dash: Box, image: np.ndarray, detections: list[Detection], config: SignConfig,
              scale: int = 1) -> Box | None:
    """The other bar of an ``=`` beside a lone dash, looked for in the image itself: a ruled line under one
    bar makes the segmentation take the bar for part of the line. A bar is a thin band of rows above or
    below the dash, within ``equals_gap`` of its length, much darker across the dash's span than just
    beside it (a ruled line alone is as dark beside the span as across it), and light again on both of
    its sides (a digit above a fraction's bar is dark over many rows)."""
    H, W = image.shape[0] * scale, image.shape[1] * scale  # in the boxes' pixels
    x0, x1 = dash.x, dash.x2
    side = max(2, dash.w // 2)
    if x0 - side < 0 or x1 + side > W:
        return None
    reach = int(config.equals_gap * dash.w)
    top, bottom = max(0, dash.y - reach), min(H, dash.y2 + reach)
    region = _source_region(image, top, bottom, x0 - side, x1 + side, scale)
    if region.size == 0:
        return None
    if region.ndim == 3:  # only the part looked at is made grey
        region = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_BGR2GRAY)
    paper = _paper_grey(region)
    region = region.astype(np.float32)
    dark = paper - region
    inside = dark[:, side: side + dash.w].mean(axis=1)
    outside = np.concatenate([dark[:, :side], dark[:, side + dash.w:]], axis=1).mean(axis=1)
    own = float(inside[dash.y - top: dash.y2 - top].max()) if dash.h else 0.0
    if own <= 8:
        return None
    strong = (inside >= 0.5 * own) & (inside - outside >= 0.4 * own)
    strong[max(0, dash.y - top - 2): dash.y2 - top + 2] = False  # the dash itself
    best = None
    k = 0
    while k < len(strong):
        if not strong[k]:
            k += 1
            continue
        run = k
        while run < len(strong) and strong[run]:
            run += 1
        thick = run - k
        # Thin like the dash, and light again just beyond it on both sides.
        light = (k == 0 or inside[max(0, k - 2)] < 0.3 * own) and (run >= len(strong) or inside[min(len(strong) - 1, run + 1)] < 0.3 * own)
        if thick <= max(3 * dash.h, 0.25 * dash.w) and light:
            bar = Box(x0, top + k, dash.w, thick)
            if best is None or abs(bar.center[1] - dash.center[1]) < abs(best.center[1] - dash.center[1]):
                best = bar
        k = run
    if best is None:
        return None
    upper, lower = (best, dash) if best.y < dash.y else (dash, best)
    both = upper.union(lower)
    for det in detections:
        b = det.box
        if min(b.x2, both.x2) > max(b.x, both.x) and min(b.y2, both.y2 + 2) > max(b.y, both.y - 2):
            return None  # the band touches a digit: its top or bottom, not a bar (a fraction's digits)
    return best


def _group_dashes(dashes: list[Box], dots: list[Box], detections: list[Detection], config: SignConfig,
                  image: np.ndarray | None = None, image_scale: int = 1) -> list[Sign]:
    """Dashes as -, stacked pairs as =, a dash between two dots as ÷ (written /)."""
    used = set()
    out = []
    bars = []  # the bars of the "=" found
    conf = config.geometric_confidence
    order = sorted(range(len(dashes)), key=lambda i: (dashes[i].y, dashes[i].x))
    for a in order:
        if a in used:
            continue
        for b in order:
            if b == a or b in used:
                continue
            top, low = dashes[a], dashes[b]
            if low.y <= top.y:
                continue
            longer, shorter = max(top.w, low.w), min(top.w, low.w)
            overlap = min(top.x2, low.x2) - max(top.x, low.x)
            gap = low.center[1] - top.center[1]
            if overlap < 0.5 * shorter or longer > config.equals_ratio * shorter or gap > config.equals_gap * longer:
                continue
            if _digit_between(top, low, detections):
                continue  # a fraction's bar and something else, not an =
            used.update((a, b))
            out.append(Sign("=", top.union(low), conf))
            bars.append((len(out) - 1, top, low))
            break
    # A sliver against a bar of an "=" found (a ruled line's rest along its lower bar, a pen's lift at its end) is
    # a piece of that bar, inside the "=": no minus, and no bar of an "=" of its own (one found from it in the
    # image is the "=" itself: "7x5+3==39").
    for a in (a for a in order if a not in used):
        at = next((k for k, top, low in bars if _part_of(dashes[a], top, 1) or _part_of(dashes[a], low, 1)), None)
        if at is not None:
            used.add(a)
            out[at] = replace(out[at], box=out[at].box.union(dashes[a]))
    used_dots = set()
    for a in order:
        if a in used:
            continue
        bar = dashes[a]
        cx, cy = bar.center
        above = below = None
        for j, dot in enumerate(dots):
            if j in used_dots:
                continue
            dx, dy = dot.center
            if abs(dx - cx) > 0.3 * bar.w or max(dot.w, dot.h) > 0.6 * bar.w:
                continue
            if 0 < cy - dy <= config.dot_reach * bar.w and above is None:
                above = j
            elif 0 < dy - cy <= config.dot_reach * bar.w and below is None:
                below = j
        if above is not None and below is not None:
            used.add(a)
            used_dots.update((above, below))
            out.append(Sign("/", bar.union(dots[above]).union(dots[below]), conf))
    digit_boxes = np.array([d.box.as_list() for d in detections], np.float64).reshape(-1, 4)
    for a in order:
        if a not in used and image is not None and not _stacked(dashes[a], digit_boxes):
            bar = _lost_bar(dashes[a], image, detections, config, image_scale)
            if bar is not None:
                used.add(a)
                # The bar found in the image is one stroke: a dash the segmentation kept of it (a part of it,
                # too short beside the other bar to pair with it above) is that bar, no minus of its own.
                used.update(c for c in order if c not in used and _part_of(dashes[c], bar))
                out.append(Sign("=", dashes[a].union(bar), config.lost_bar_confidence, ("-",)))
    for a in order:
        if a not in used:
            # A short thick dash may be a slash leaning far over: its alternative, should it matter.
            dash = dashes[a]
            out.append(Sign("-", dash, conf, ("/",) if dash.w < config.slash_aspect * dash.h else ()))
    return out


def _likeliest_digit(sign: Sign, likeliest: tuple[int, float] | None, config: SignConfig) -> Sign:
    """A bracket made of a piece the digit model read (a weak digit, or one it gave "no digit" most), with the
    digit that model gives most among its alternatives, at that model's probability, where it has at least
    ``alternative_level``: the digit it is where the sum's structure allows no bracket (an answer is a number:
    pendigits writer 42's 5 read as a sure "(", "=11(" for "=115"; an MNIST 1 read 0.58 and ")" by the sign
    classifier, "=1)7" for "=117"). Any other sign, or a piece no candidate, is returned as it is."""
    if likeliest is None or sign.char not in "()" or likeliest[1] < config.alternative_level:
        return sign
    digit, p = likeliest
    return replace(sign, alternatives=sign.alternatives + (str(digit),), odds=sign.odds + (p,))


def _part_of(dash: Box, bar: Box, rows: int = 0) -> bool:
    """``dash`` is a piece of the stroke ``bar``: on its rows (its centre within them, or within ``rows`` times the
    stroke's thickness of them: a sliver lying against the bar) and within its ends, give or take the stroke's
    thickness."""
    thick = max(bar.h, dash.h)
    return (bar.y - rows * thick <= dash.center[1] <= bar.y2 + rows * thick and dash.x >= bar.x - thick
            and dash.x2 <= bar.x2 + thick)


def _stacked(bar: Box, boxes: np.ndarray) -> bool:
    """Digits (``boxes``: rows x, y, w, h) right above and right below a dash, within its ends: a
    fraction's bar."""
    if not len(boxes):
        return False
    x, y, w, h = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    cx, bar_cy = x + w / 2, bar.y + bar.h / 2
    within = (cx >= bar.x - 0.2 * w) & (cx <= bar.x2 + 0.2 * w)
    above = within & (y + h <= bar_cy) & (bar.y - (y + h) <= 0.8 * h)
    below = within & (y >= bar_cy) & (y - bar.y2 <= 0.8 * h)
    return bool(above.any() and below.any())


def _digit_between(top: Box, low: Box, detections: list[Detection]) -> bool:
    for det in detections:
        cx, cy = det.box.center
        if top.y2 <= cy <= low.y and max(top.x, low.x) <= cx <= min(top.x2, low.x2):
            return True
    return False

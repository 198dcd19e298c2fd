"""One frame in, one ``FrameResult`` out: segment, classify in one batch, read."""

from __future__ import annotations

import logging
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np

from livedigits.classify.backends import Classifier
from livedigits.reading.expressions import (CHANCE, DEFAULT_EXPRESSIONS, NUDGED, PAGE, PAGE_LIKE, PAGE_MARGIN, PAGED, SIGNED, UNLISTED_LEVEL, ExpressionConfig, digit_alternatives, open_in_doubt,
                                           read_expressions, weak_digits, with_possible_signs)
from livedigits.reading.numbers import DEFAULT_READING, ReadingConfig, Tracker, decide_all, group_numbers
from livedigits.reading.words import read_context, runs
from livedigits.reading.reuse import DEFAULT_REUSE, ReuseCache, ReuseConfig, box_corners, read_reusing
from livedigits.vision.normalize import likeness, likenesses, nudged
from livedigits.vision.segment import DEFAULT_CONFIG, Segmentation, SegmentConfig, crops_batch, ink_pieces, segment, to_gray, with_late_pairs, with_late_thirds
from livedigits.vision.touching import THREE_ASPECT
from livedigits.vision.view import CARRY_EVERY, StillAnchor, StillView, ViewMemory, still_compare
from livedigits.types import NOT_A_DIGIT, Box, Candidate, Frame, FrameResult


#: Every part of a split candidate must read as a digit at least this surely.
SPLIT_CONFIDENCE = 0.9
#: ... and more surely than the whole reads, digit or no digit, unless every part reads at least this surely
#: (the classifier's ceiling: the shipped int8 model's surest is 0.996, where "surer" cannot be told) and the
#: whole reads as no digit, or is too wide for one.
CEILING = 0.995
#: A piece at least ``SEVERAL_ASPECT`` times as wide as tall, read whole as no digit, is likely several
#: digits whose ink touches ("745" run together): any way to cut it counts, not only at the ceiling, where
#: every part reads at least this surely. Lower finds more on the stress row touching (seeds 0-39: 66.6% of
#: the digits at 0.9, 65.4% at 0.95, 64.5% at 0.97, 63.8% at 0.98, pieces from 1.4 times as wide), but at 0.95
#: a handwritten G in a real form's name box read as 07 and a printed @ as 00.
SEVERAL_CONFIDENCE = 0.97
#: ... at least as wide as tall: two digits overlapping ("74", "00" written into each other) are as wide as
#: one digit and a half, narrower than the page's usual aspect on a page of such pairs, so their cuts are
#: otherwise kept only at the ceiling (``Segmentation.doubtful``); read whole as no digit, they are no one
#: glyph either. Was ``touching.THREE_ASPECT`` (1.4): at 1.0 the stress row touching reads 641 digits right of
#: 921 (seeds 0-39), 634 at 1.4; a letter or an @ read whole as no digit and cut into two digits at 0.97 is the
#: risk: the rows words and printed and the real dev files read the same, boxes (letters in a form's boxes)
#: finds 0.2 points more of the digits at 0.1 less precision, its letters read as digits the same (99).
SEVERAL_ASPECT = 1.0
#: Several digits no way of which reads at ``SEVERAL_CONFIDENCE`` (too wide for one: at ``SPLIT_CONFIDENCE``):
#: the way whose parts read as digits most surely on the whole, by the geometric mean of their sureness, is
#: kept where that mean is at least ``FALLBACK_MEAN`` and every part reads as a digit at least
#: ``FALLBACK_LEAST`` (``_likeliest_way``). Such a piece is otherwise dropped (too wide) or read as no digit,
#: so what the fallback keeps can only add digits, right or wrong. The mean, not the least part, since a right
#: cut often has one part read unsurely and its other parts surely, a wrong cut in fewer, wider parts each
#: fairly ("773" run together: 7, 7, 3 at a mean of 0.98, least 0.96; 7 and 3 at 0.95, least 0.91). Chosen on
#: the stress rows touching, ledger and words, seeds 0-39: of the pieces so cut, the parts on a true digit read
#: right, on a true digit misread and on none, 68 / 11 / 0 on touching and 98 / 15 / 6 on ledger at 0.85, 77 /
#: 12 / 1 and 103 / 15 / 8 at 0.8, with a word's letters cut into digits on words at 0.8.
FALLBACK_MEAN = 0.85
FALLBACK_LEAST = 0.5
#: Where no one way does, parts of different ways chained left to right, each starting within this share of
#: the piece's height of where the last ended (``_likeliest_chain``), at most ``CHAIN_MOST`` parts, one of
#: them read at ``CEILING``. Chosen on the stress rows touching, ledger and mixed, seeds 0-39 (the parts of the
#: chains kept, on a true digit read right / misread / on none): at 0.1, 37 / 12 / 1; at 0.2, 41 / 14 / 1; at
#: 0.3, 46 / 19 / 2 (mixed alone 6 / 8 at 0.3). No chain is kept on words, boxes, printed or table. The part at
#: the ceiling: a real form's bold print ("Adm" read 177) and a ticked box (read 825) chain parts read 0.86-0.98,
#: never at the ceiling; on the stress rows it costs 2 digits read right (mixed, seeds 0-39). Also how near the
#: sides of two ways' parts lie for them to be one part (``_part_refined``): on the stress rows touching, ledger,
#: words and mixed, seeds 0-99, a kept way's part so cut again gives the right way of 7 runs and cuts no single
#: digit at 0.2; 4 runs at 0.1; at 0.3 the same 7 and two single digits cut (an 8 read 87, a 3 read 32).
CHAIN_SLACK = 0.2
CHAIN_MOST = 8
#: ... and read whole as no digit, wide enough for three digits (``touching.THREE_ASPECT``, 1.4 times as wide
#: as tall, wider than nearly any one glyph; too wide for one digit: always). Nearer one, two letters written
#: into each other read whole as no digit and cut into two digits at the mean are the risk: from 1.2 times as
#: wide, the words row's "room" (seed 1001, 1.22) read 71, four letters read as digits on seeds 1000-1039;
#: touching and ledger seeds 0-39 read 4 and 5 digits fewer right from 1.4 than from 1.2. A way with two parts
#: or more read as 1 is never kept so: the strokes of a printed W on a real form read 1111; on touching and
#: ledger that costs no digit. Nor is a piece shorter than the writing (``Segmentation.tall``): a printed "M"
#: on the same form, 0.79 of its writing's usual height, read 1 and 7.
#: A piece offered a pair's cuts for its notches alone (``Segmentation.narrow``) and read whole as one sure
#: digit is read whole (the gate in ``decide_splits``), unless a way cuts it in two parts that read as that
#: digit and another, neither a 1, both at least ``PAIR_BESIDE`` surely and each at least ``PAIR_PART_HEIGHT``
#: of the piece's height (``_pair_beside_whole``); a piece read whole as a digit under ``SPLIT_CONFIDENCE`` is
#: cut where such a way reads as any two digits (its doubtful ways otherwise count only at the ceiling).
#: Chosen on the stress rows, seeds 0-39 (touching, ledger, mixed, words, none; dense 0-19) and worksheets
#: 7000-9059. Offered to every piece read whole as a sure digit (not only the notched), at 0.9 a part on no
#: digit more on each of mixed, none and dense; at 0.95 none, but the worksheets' single digits were cut 13
#: times (a 4 read 4 and 6, a 2 read 2 and 7: their verdicts 7000 534 -> 528, 9000 543 -> 538), 9 of them with
#: the added part half the digit's height, 2 with the whole's digit a sliver; only at the gate, the height
#: asked, none is. For the unsure wholes, 0.95 and 0.97 read alike but for 2 digits more on touching at 0.95.
PAIR_BESIDE = 0.95
PAIR_PART_HEIGHT = 0.8
#: A piece of the writing's height 1.0 to ``THREE_ASPECT`` times as wide as tall read whole as no digit is read
#: as three digits where its equal thirds upright and along the slant (``Segmentation.third_ways``) read as the
#: same three digits (``THIRDS_AGREE`` ways), the surer with its least sure part at ``THIRDS_LEAST`` or more
#: (``_agreed_thirds``). See docs/touching.md, session 29.
THIRDS_AGREE = 2
THIRDS_LEAST = 0.7
#: On video, the sign model's reading of a crop that has not changed (``reuse.read_reusing``) is kept only
#: when it was at least this sure of its class: a reading near one of ``vision.signs``' decisions is made
#: afresh every frame.
SIGN_REUSE_SURE = 0.99


def split_crops(found: Segmentation) -> list[Candidate]:
    """What the classifier must see for one frame: its candidates, then the parts of every way to cut each
    wide one (in ``sorted(found.splits)`` order), to be settled by :func:`choose_splits`."""
    return (list(found.candidates) + [part for k in sorted(found.splits) for way in found.splits[k] for part in way]
            + [part for _, ways in found.joins for way in ways for part in way])


def second_look(found: Segmentation, probabilities: np.ndarray, classifier: Classifier | None
                ) -> tuple[Segmentation, np.ndarray]:
    """``found`` and its :func:`split_crops` ``probabilities``, with the pieces of ``found.late`` (narrower than
    tall, of the writing's height, not notched) that read whole as no digit or as a digit under
    ``SPLIT_CONFIDENCE`` offered a pair's cuts (``segment.with_late_pairs``), their parts read in one more small
    batch and their rows put in :func:`split_crops`' order. Two digits written into each other read so far more
    often than one digit of that shape: on the stress row touching, seeds 0-99, 28 of the 36 pairs offered no cut
    read whole as no digit or under 0.9, against 3-14% of the single digits of that shape on the rows none,
    spacing, thin and mixed; of 120 frames of ``samples/realistic.mp4`` (26 such pieces a frame), 8 hold one (0.4
    crops a frame). ``decide_splits`` takes such a way only as a pair's parts (``Segmentation.looked``). A sure
    whole stays uncut (as ``decide_splits`` holds a notched narrow piece whole), so those are not offered. In the
    same batch, the pieces of ``found.late_thirds`` (1.0 to ``THREE_ASPECT`` times as wide as tall) read whole as no
    digit are offered their equal thirds after their ways (``segment.with_late_thirds``): three digits written into
    each other (``_agreed_thirds``). Nothing is read where no such piece reads so, or without a classifier (a
    segmentation worker)."""
    if not (found.late or found.late_thirds) or classifier is None:
        return found, probabilities
    n = len(found.candidates)
    base = probabilities[:n]
    digits = min(10, base.shape[1])
    waiting = sorted(found.late)
    rows = base[waiting]
    unsure = [k for k, said, sure in zip(waiting, rows.argmax(axis=1), rows.max(axis=1))
              if said >= digits or sure < SPLIT_CONFIDENCE]
    # ... and the pieces wide enough for three digits written into each other read whole as no digit: their thirds.
    no_digit = [k for k in sorted(found.late_thirds) if int(base[k].argmax()) >= digits]
    if not unsure and not no_digit:
        return found, probabilities
    looked = with_late_thirds(with_late_pairs(found, unsure), no_digit)
    # Each piece's ways read already (``found.splits``), and after them those it is offered now.
    had = {k: len(found.splits.get(k, ())) for k in looked.splits}
    added = [part for k in sorted(looked.splits) for way in looked.splits[k][had[k]:] for part in way]
    if not added:
        return looked, probabilities
    fresh = classifier.predict(crops_batch(added))
    rows, old, new = [base], n, 0
    for k in sorted(looked.splits):
        size = sum(len(way) for way in looked.splits[k][:had[k]])
        rows.append(probabilities[old: old + size])
        old += size
        size = sum(len(way) for way in looked.splits[k][had[k]:])
        rows.append(fresh[new: new + size])
        new += size
    rows.append(probabilities[old:])
    return looked, np.concatenate(rows)


@dataclass(frozen=True)
class CutDecision:
    """What :func:`decide_splits` made of a wide piece's ways to cut it, kept by the recognizer for the later
    frames whose segmentation finds the piece unchanged (``Segmentation.carried``, ``vision.view.CutAnchors``):
    ``parts`` None, read whole (or, too wide for one digit, left the mark it is); else, left to right, each
    part's box relative to the whole's (``dx, dy, w, h``) and its crop, with ``probabilities``, the parts'
    rows as read then."""

    parts: tuple[tuple[tuple[int, int, int, int], np.ndarray], ...] | None = None
    probabilities: np.ndarray | None = None

    def applied(self, whole: Candidate) -> tuple[tuple[Candidate, ...], np.ndarray]:
        """The parts, placed by ``whole``'s box in this frame (within 1 px of the one they were cut from)."""
        box = whole.box
        return tuple(Candidate(box=Box(box.x + dx, box.y + dy, w, h), crop=crop) for (dx, dy, w, h), crop in self.parts), \
            self.probabilities


#: A wide piece read whole, or left a mark (:class:`CutDecision`).
WHOLE = CutDecision()


def decide_splits(found: Segmentation, probabilities: np.ndarray, decisions: dict[int, CutDecision] | None = None
                  ) -> tuple[list[Candidate], np.ndarray, set[int], dict[int, CutDecision]]:
    """:func:`choose_splits`, with the decisions carried over on live video: each wide piece the segmentation
    found unchanged (``found.carried``) is read as ``decisions`` (by id) says, its ways neither searched nor
    classified (one with no decision, which a recognizer that read the frames in order never meets, is read
    whole). Also the indices of the candidates whose ink is read cut or joined, and the decisions made this
    frame, by the ids of ``found.cut_ids``."""
    candidates = list(found.candidates)
    if not found.splits and not found.wide and not found.joins and not found.carried:
        return candidates, probabilities, set(), {}
    base = probabilities[: len(candidates)]
    out_c, out_p = [], []
    at = len(candidates)
    chosen = {}
    digits = min(10, base.shape[1]) if base.ndim == 2 else 10
    usual = _digit_aspect(candidates, base, found, digits) if found.splits else None
    in_runs: list = []

    def worded(k: int) -> bool:
        if not in_runs:
            in_runs.append(runs([c.box for c in candidates]))
        return _in_word(k, in_runs[0], base, found, digits)
    for k in sorted(found.splits):
        # The whole's own reading, digit or "not a digit", must be less sure than every part's digit:
        # half an M is a fine 1, but the M is surely no digit.
        whole, best = float(base[k].max()), None
        doubtful = found.doubtful.get(k, ())
        loops = found.loop_ways.get(k, ())
        evens = found.even_ways.get(k, ())
        thirds = found.third_ways.get(k, ())
        no_digit = base.shape[1] > digits and int(base[k].argmax()) >= digits
        # Several digits, no one glyph: too wide for one digit, or wide enough for three and read as no digit.
        # The whole's own reading then says nothing of the parts (a "1000" squeezed into one crop is surely no
        # digit), and every way counts, its parts read at least as surely as ``floor``.
        box = candidates[k].box
        # How many of this writer's digits the piece's width holds (None: too few pieces read alone to tell).
        count = box.w / (usual * box.h) if usual else None
        several = k in found.wide or (no_digit and box.w >= SEVERAL_ASPECT * box.h)
        said = int(base[k].argmax())
        # As wide as two of its writer's digits or more, rounded, read whole as a digit: perhaps a pair the whole
        # reads as one digit ("95" read as a sure 8), perhaps one wide digit (a 5 with a long hat): ``PAIR_COUNT``.
        paired = not several and not no_digit and k in found.tall and count is not None and count >= PAIR_COUNT
        floor = SPLIT_CONFIDENCE if k in found.wide or not several else SEVERAL_CONFIDENCE
        first = at
        if k in found.narrow and not no_digit and whole >= SPLIT_CONFIDENCE:
            # Narrower than tall, offered a pair's cuts for its notched outline alone (``touching.pair_notches``),
            # and read whole as one sure digit: that digit (a 4 open at the top read 4 at 0.988, its halves 1 and 1
            # at 0.99), not two, unless it is a pair read as its likelier digit (``_pair_beside_whole``). Its ways
            # are still read, so that the parts' places in ``probabilities`` hold.
            at += sum(len(way) for way in found.splits[k])
            pair = _pair_beside_whole(found.splits[k], probabilities, first, digits, said, box.h)
            if pair is None and k in found.tall:
                pair = _agreed_pair(found.splits[k], probabilities, first, digits, said, whole, box.h, evens)
            if pair is None and k in found.tall:
                pair = _pair_read_as_a_third(found.splits[k], probabilities, first, digits, said, box.h)
            if pair is not None:
                chosen[k] = pair
            continue
        for n, way in enumerate(found.splits[k]):
            parts = probabilities[at: at + len(way)]
            at += len(way)
            sure = float(parts[:, :digits].max(axis=1).min())
            if k in found.looked and (any(part.box.h < PAIR_PART_HEIGHT * box.h for part in way)
                                      or int(parts[0].argmax()) == 1):
                # Offered its cuts on a second look (``second_look``): only a pair's parts, each of the piece's
                # height and the first no 1, tell two digits. One glyph cut leaves a stub (a 9 read "01", its tail
                # half its height) or, first, a stroke read 1: a capital's stem (a ledger's B read "13"), a 0's
                # left side (read "12"), a letter's first stroke (stress row ledger, seeds 0-99: 5 such cuts, 4
                # letters read as digits and a 0 lost; touching 0-99: 1 true pair of the 14 cut so, an "18").
                continue
            if no_digit and n in loops:
                # Cut between loops side by side, the whole no digit: no one glyph has loops side by side, so
                # the parts are several digits by their shape, and count as a too-wide piece's do.
                if sure >= SPLIT_CONFIDENCE and (best is None or _rank(sure, way, count) > best):
                    chosen[k], best = (way, parts), _rank(sure, way, count)
                continue
            if paired and sure >= SEVERAL_CONFIDENCE and (sure > whole or sure >= CEILING) \
                    and _not_the_whole(parts, said, whole >= SPLIT_CONFIDENCE) \
                    and all(part.box.h >= PAIR_PART_HEIGHT * box.h for part in way):
                # A pair by its width (``PAIR_COUNT``): a way whose full-height parts read surer than the whole, or
                # at the ceiling as the whole does, counts, equal halves and doubtful ways too, unless a part reads
                # as the whole's sure digit (one wide digit cut: a 5 halved reads 5 and 5, an MNIST 2 cut 2 and 6).
                # Any other way is weighed as below.
                if best is None or _rank(sure, way, count) > best:
                    chosen[k], best = (way, parts), _rank(sure, way, count)
                continue
            if n in evens and not no_digit and whole >= SPLIT_CONFIDENCE:
                continue  # equal halves of a piece read whole as one sure digit: perhaps that digit, halved
            if n in thirds:
                continue  # equal thirds count only where they agree (``_agreed_thirds``): a word's "m" reads 111
            if (n in doubtful and sure < CEILING and not several) or sure < floor:
                continue  # another way to cut what may be one glyph: only a reading at the ceiling counts
            # As sure is surer at the classifier's ceiling (the int8 model's surest reading is 0.996: "1000" read
            # as no digit at 0.996, its parts 1, 0, 0, 0 each at 0.996), unless the whole, not too wide for one
            # digit, reads as a digit (a writer's wide 7 at 0.996 is no "31").
            tie = sure >= CEILING and (no_digit or k in found.wide or k in found.chains)
            rank = _rank(sure, way, count)
            if sure >= SPLIT_CONFIDENCE and (sure > whole or tie or several) and (best is None or rank > best):
                chosen[k], best = (way, parts), rank
        if k not in chosen and not several and not no_digit and whole < SPLIT_CONFIDENCE:
            # Equal halves are no pair where another cut finds the whole's digit in the piece, whole and sure,
            # beside ink that is no digit: a wide digit with a flourish (``_digit_and_scrap``).
            skip = evens if _digit_and_scrap(found.splits[k], probabilities, first, digits, said, box.h) else ()
            pair = _pair_beside_whole(found.splits[k], probabilities, first, digits, None, box.h, skip=skip)
            if pair is not None:
                chosen[k] = pair
        if k not in chosen and not several and k in found.tall:
            # Two digits cut anywhere near where they meet read as the same two digits; one glyph's fragments
            # read as whatever each cut leaves (``_agreed_pair``).
            pair = _agreed_pair(found.splits[k], probabilities, first, digits, said, whole, box.h, evens)
            if pair is not None:
                chosen[k] = pair
        if k not in chosen and not several and not no_digit and whole >= SPLIT_CONFIDENCE and k in found.tall:
            # A pair written into each other read whole as a third digit, which neither part is ("95" read as an
            # 8): ``_pair_read_as_a_third``.
            pair = _pair_read_as_a_third(found.splits[k], probabilities, first, digits, said, box.h)
            if pair is not None:
                chosen[k] = pair
        if k not in chosen and k in found.third_ways and no_digit and k in found.tall and not worded(k):
            # Perhaps three digits written into each other, narrower than ``THREE_ASPECT``, no other way kept: its
            # thirds where they agree (``_agreed_thirds``); not in a word (``_in_word``). A way in two kept is
            # left (a pair read surely: other hands' "70" read 7, 6, 7 in thirds).
            agreed = _agreed_thirds(found.splits[k], probabilities, first, digits, thirds)
            if agreed is not None:
                chosen[k] = agreed
        if k not in chosen and several and k in found.tall and (k in found.wide or box.w >= THREE_ASPECT * box.h):
            fallback = _likeliest_way(found.splits[k], probabilities, at, digits)
            if fallback is None:
                fallback = _likeliest_chain(found.splits[k], probabilities, at, digits, box)
            if fallback is not None:
                chosen[k] = fallback
        if k not in chosen and k in found.wide and not no_digit and whole >= CEILING:
            # Too wide for one digit by its shape, cut into no sure digits, and read whole as one digit at the
            # classifier's ceiling: one wide digit (a 2 or a 5 with a long stroke, a fraction's numerator ``2``
            # 2.04 times as wide as tall), read whole, not the dash it was taken for (joined with the bar under it
            # into an "="); docs/arithmetic.md, "Issue 21, session 30, frac2": what else is so wide.
            chosen[k] = ((candidates[k],), base[k][None])
        if k in chosen and len(chosen[k][0]) >= 2:
            # A run cut: one of its parts may hold two digits read as one of them ("988" cut "8|8", its "98" a sure
            # 8), where another way cuts that part in two and reads the digit it was read as beside another
            # (``_part_refined``).
            finer = _part_refined(chosen[k], found.splits[k], probabilities, first, digits, box.h)
            if finer is not None:
                chosen[k] = finer
    made = {}
    for k, name in found.cut_ids.items():
        if k in chosen:
            box = candidates[k].box
            way, parts = chosen[k]
            made[name] = CutDecision(tuple(((p.box.x - box.x, p.box.y - box.y, p.box.w, p.box.h), p.crop) for p in way),
                                     np.array(parts))
        else:
            made[name] = WHOLE
    for k, name in found.carried.items():
        decision = (decisions or {}).get(name, WHOLE)
        if decision.parts is not None:
            chosen[k] = decision.applied(candidates[k])
    joined = {}  # the first member of a chain of pieces read joined -> its parts; the other members -> None
    for j, (members, ways) in enumerate(found.joins):
        # The members as read now (each alone, or cut): a member read as no digit, or not surely, is 0.
        alone = min(_sureness(base[m], digits) if m not in chosen else float(chosen[m][1][:, :digits].max(axis=1).min())
                    for m in members)
        # A 5's lifted hat (``found.hats``) joined to a body that reads as that digit alone: the hat is its
        # stroke, not a dash of its own beside it (under a fraction's bar, a minus after the fraction).
        same = int(base[members[0]].argmax()) if j in found.hats and members[0] not in chosen else None
        best = None
        for way in ways:
            parts = probabilities[at: at + len(way)]
            at += len(way)
            sure = float(parts[:, :digits].max(axis=1).min())
            # Only at the ceiling, and where a member reads as no fair digit ("(", "X"): joining pieces is one
            # more chance for a word's letters to read as digits, and two digits read fairly ("62") may read as
            # one sure digit joined.
            kept = same is not None and len(way) == 1 and int(parts[0].argmax()) == same
            if sure >= CEILING and (alone < SPLIT_CONFIDENCE or kept) and (best is None or sure > best[0]):
                best = (sure, way, parts)
        if best is not None:
            joined.update({m: None for m in members})
            joined[members[0]] = best[1:]
    for k, candidate in enumerate(candidates):
        if k in joined:
            if joined[k] is not None:
                out_c.extend(joined[k][0])
                out_p.extend(joined[k][1])
        elif k in chosen:
            way, parts = chosen[k]
            out_c.extend(way)
            out_p.extend(parts)
        elif k in found.wide:
            continue  # too wide for one digit, not cut into sure ones nor read whole surely: the mark it was
        else:
            out_c.append(candidate)
            out_p.append(base[k])
    return out_c, np.stack(out_p) if out_p else base[:0], set(chosen) | set(joined), made


def _rank(sure: float, way: tuple[Candidate, ...], count: float | None = None) -> tuple[bool, float, int]:
    """How a way to cut one piece ranks among its others, its least sure part reading as a digit ``sure``: the
    surer first; of ways equally sure (every part at the classifier's ``CEILING``, where surer cannot be told),
    the one with more parts. A part that holds two digits and still reads as one surely ("86" read as an 8)
    is what makes the way with fewer parts tie; a cut through one digit whose every part still reads at the
    ceiling is rarer (chosen on the stress row touching, seeds 0-39). Before both: where the piece is ``count``
    of its writer's digits wide (:func:`_digit_aspect`), a way in fewer parts than that, by more than
    ``COUNT_SLACK``, ranks below every way in enough parts: its wide part holds two digits read as one ("988"
    cut "9|88", its "98" read as a sure 8, and "9|8|8" read at 0.988)."""
    enough = count is None or len(way) >= count - COUNT_SLACK
    return enough, (CEILING if sure >= CEILING else sure), len(way)


#: A way in fewer parts than its piece is wide in its writer's digits (:func:`_digit_aspect`) by more than this
#: ranks below the ways in enough parts (:func:`_rank`): rounding, so a piece 2.5 digits wide is cut in three
#: where three parts read surely enough, in two where only two do.
COUNT_SLACK = 0.5
#: A piece read whole as a digit, at least this many of its writer's digits wide (:func:`_digit_aspect`: two,
#: rounded), is perhaps a pair the whole reads as one digit ("45" and "95" read as a sure 8: on the stress row
#: touching, seeds 0-99, 51 digits lost are in 40 pairs whose right cut read right but was not kept, 24 of them
#: read whole as a digit at 0.9 or more), perhaps one wide digit (a 5 with a long hat, a 2 with a long foot: up to 2.2
#: of its writer's digits on the rows none, spacing and dense; worksheets' MNIST digits 1.5-2.2). Its ways count
#: as a pair's (``decide_splits``) where every part reads at ``SEVERAL_CONFIDENCE`` (at ``SPLIT_CONFIDENCE`` a 3
#: on none, seed 4, read "53", two wide zeros on dense, seed 10, "17"), surer than the whole or at the ceiling,
#: and is at least ``PAIR_PART_HEIGHT`` of the piece's height, and no part reads as the whole's digit where that is
#: sure (:func:`_not_the_whole`): one wide digit cut keeps its own digit in a part (worksheets 7000-13059, only the
#: whole's digit twice barred: MNIST digits cut "82", "81", "26", "65", "37", "02", "85", "63", 3,788 -> 3,781
#: verdicts right; none so cut since).
PAIR_COUNT = 1.5
#: :func:`_digit_aspect` tells a writer's digits' width only from at least this many pieces read alone: a median
#: of three. Was 5: half the pages of the stress row touching have fewer (pairs and runs are most of their
#: pieces); with ``PAIR_COUNT`` (in its first form, the parts not the whole's digit twice) 3 read 3 digits more
#: right than 5 there (seeds 0-99), the rows none, dense, spacing and words (seeds 0-39) the same.
COUNT_PIECES = 3


def _not_the_whole(parts: np.ndarray, said: int, sure: bool) -> bool:
    """Whether the parts of a way to cut a piece read whole as the digit ``said`` (``sure``: at
    ``SPLIT_CONFIDENCE`` or more) tell of two digits, not of that one digit cut: where the whole reads surely,
    no part reads as its digit; else, not every part does."""
    read = [int(row.argmax()) for row in parts]
    return said not in read if sure else any(r != said for r in read)


def _digit_aspect(candidates: Sequence[Candidate], base: np.ndarray, found: Segmentation, digits: int) -> float | None:
    """The median width, as a share of its height, of the page's pieces read whole as one digit other than 1
    at ``SPLIT_CONFIDENCE`` or more and offered no cut, at least ``COUNT_PIECES`` of them (else None): how wide
    this writer writes a digit, the measure of how many digits a piece of touching ones holds. One writer's
    digits are about equally wide (``vision.touching._even_parts``); a 1 is narrower, so a run holding 1s reads
    as fewer digits than it holds, never more."""
    if base.ndim != 2 or not len(base):
        return None
    said = base.argmax(axis=1)
    sure = base[:, :digits].max(axis=1)
    aspects = [c.box.w / c.box.h for k, c in enumerate(candidates)
               if k not in found.splits and k not in found.wide and c.box.h and said[k] < digits and said[k] != 1
               and sure[k] >= SPLIT_CONFIDENCE]
    return float(np.median(aspects)) if len(aspects) >= COUNT_PIECES else None


def _in_word(k: int, lines: list[list[int]], base: np.ndarray, found: Segmentation, digits: int) -> bool:
    """Whether candidate ``k`` stands in a run of glyphs at letter spacing (``lines``: ``words.runs`` of the
    candidates' boxes) beside a glyph read whole surely as no digit (at ``SPLIT_CONFIDENCE``) and offered no cut:
    a letter, so ``k`` is one of its word's letters (a word's "m" reads "621" in thirds), where a run of digits
    stands beside digits, or alone. ``words.read_context`` tells words later, from the glyphs as read: a letter
    read as three sure digits outweighs its word's letters."""
    for run in lines:
        if k in run:
            return any(m != k and m not in found.splits and m not in found.wide and int(base[m].argmax()) >= digits
                       and float(base[m].max()) >= SPLIT_CONFIDENCE for m in run)
    return False


def choose_splits(found: Segmentation, probabilities: np.ndarray) -> tuple[list[Candidate], np.ndarray]:
    """The candidates and their probabilities, with each wide candidate replaced by the parts of one way
    to cut it where every part reads as a digit more surely than the whole does; of several such ways, the
    one whose least sure part is surest, and of those equally sure the one in more parts (:func:`_rank`);
    then each run of pieces offered joined (``Segmentation.joins``) replaced by the parts of its surest way
    where they all read at the ceiling and a piece of the run reads as no fair digit. ``probabilities`` are
    those of :func:`split_crops` (N, C), in its order."""
    candidates, probabilities, _, _ = decide_splits(found, probabilities)
    return candidates, probabilities


def _pair_beside_whole(ways: Sequence[tuple[Candidate, ...]], probabilities: np.ndarray, start: int, digits: int,
                       read: int | None, height: int, skip: frozenset[int] | tuple = ()
                       ) -> tuple[tuple[Candidate, ...], np.ndarray] | None:
    """Of one piece's ``ways`` (their parts' rows from row ``start`` of ``probabilities``), ``height`` tall: a
    way in two parts, each at least ``PAIR_PART_HEIGHT`` of ``height``, both read as digits other than 1 at least
    ``PAIR_BESIDE`` surely, and, where the whole reads surely as the digit ``read``, one of them read as ``read``
    and the other as another digit; with its rows (of several, the one whose parts' sureness has the largest
    product); else None. Two digits written into each other are often read whole as the one whose strokes
    dominate ("48" read 8, both halves and the whole at the ceiling), so no rule of sureness alone can cut them;
    or whole as a digit unsurely ("00" read 5 at 0.37), where a pair's doubtful ways count only at the ceiling
    (``Segmentation.doubtful``). A single digit cut in two leaves a stroke of it, read as a 1 (a 4's halves
    read 1 and 1), or short (a 4 read 4 beside a 6 half its height): neither is taken. The ways in ``skip``
    are not (equal halves where :func:`_digit_and_scrap` finds the whole's digit in a part): equal halves
    (``Segmentation.even_ways``) cut where no ink is thin, so a wide single digit's halves are no stroke and stub
    but two parts of its width and height, and read as digits (an MNIST 2 read 7 and 3 at 0.965 and 0.961)."""
    at = start
    best, found = -np.inf, None
    for n, way in enumerate(ways):
        parts = probabilities[at: at + len(way)]
        at += len(way)
        if n in skip or len(way) != 2 or min(p.box.h for p in way) < PAIR_PART_HEIGHT * height:
            continue
        said = [int(d) for d in parts.argmax(axis=1)]
        sure = parts[:, :digits].max(axis=1)
        if ((read is not None and (read not in said or said[0] == said[1])) or 1 in said or max(said) >= digits
                or float(sure.min()) < PAIR_BESIDE):
            continue
        score = float(np.log(sure).sum())
        if score > best:
            best, found = score, (way, parts)
    return found


#: A piece of the writing's height that may be one digit, not cut by the rules above, is read as the pair that at
#: least this many of its ways to cut it in two (different boxes) read as, every part at ``PAIR_BESIDE``
#: (``_agreed_pair``); where the whole reads surely, one part, not both, reads as its digit. Two digits cut
#: anywhere near where they meet read as the same two digits; one glyph's fragments read as whatever each cut
#: leaves. Chosen on the stress rows, seeds 0-99 (dense 0-39 with the whole's digit asked), by the pieces of one
#: true digit (the truth's centres) whose ways so agree, and worksheets 7000-7059. Without the whole's digit asked
#: of a part, 2 ways at 0.9 cut 5 zeros (their halves, a "(" and a ")", read "17", "67", "87" on none, touching
#: and dense) and a worksheet's MNIST 0 (7055, "68-40=28" read "68-467=28"). With it, 2 ways at 0.9 cut no single
#: digit on the stress rows touching, none, spacing, blur and dense, but written 2s and a 3 on worksheets 7000-7059
#: ("12" read "162" and "123", "23" read "273": 542 -> 539 verdicts right); 3 ways at 0.95 cut none of them, but
#: an MNIST 8 on worksheet 11033 (read "85" by its least inked cut and its two equal halves, which count no more,
#: as in ``decide_splits``, where the whole reads surely). On touching 0-99, digits read right 1,788 -> 1,791
#: (1,793 with the equal halves, 1,798 at 2 ways and 0.9, 1,796 at 2 ways and 0.95).
AGREE_CUTS = 3


def _agreed_pair(ways: Sequence[tuple[Candidate, ...]], probabilities: np.ndarray, start: int, digits: int,
                 said: int, whole: float, height: int, evens: frozenset[int] | tuple = ()
                 ) -> tuple[tuple[Candidate, ...], np.ndarray] | None:
    """Of one piece's ``ways`` (their parts' rows from row ``start`` of ``probabilities``), ``height`` tall, read
    whole as the digit (or no digit, ``digits``) ``said`` at ``whole``: the surest of the ways in two parts that read as one
    pair of digits, where at least ``AGREE_CUTS`` ways with different boxes do, each part at least
    ``PAIR_PART_HEIGHT`` of ``height`` and read as a digit at least ``PAIR_BESIDE`` surely; else None. The
    pieces' cuts (``vision.touching``: the least inked column, the path through the least ink, near the edges,
    equal halves upright and slanted, between loops) fall in different places; where two digits touch, each
    near where they meet, and each part still holds one digit, so they read alike. A single digit cut leaves
    strokes that read as whatever each cut leaves, and its ways disagree. This is what tells a pair read whole as
    one of its own digits ("23" read 3, "91" read 9) from one digit read so. Where the whole reads surely (at
    ``SPLIT_CONFIDENCE``), one part reads as its digit and the other not (``_pair_beside_whole`` asks the same), so
    a piece read surely as no digit (a letter) is never cut so: a pair read whole is read
    as the digit whose strokes dominate, while a zero's halves read as other digits wherever it is cut ("17",
    "67"), and a wide 5's as 5 and 5. The ways in ``evens`` (equal halves, ``Segmentation.even_ways``) count only
    where the whole reads as no sure digit, as in ``decide_splits``: cut where no ink is thin, upright and along
    the slant, they are two tries at one cut through a wide digit (worksheet 11033's MNIST 8, read 8 at 0.996,
    read "85" at 0.98-0.996 by its least inked cut and both its equal halves). Never two 1s (a letter's
    strokes)."""
    at = start
    sure = whole >= SPLIT_CONFIDENCE
    groups: dict = {}
    for n, way in enumerate(ways):
        parts = probabilities[at: at + len(way)]
        at += len(way)
        if len(way) != 2 or min(p.box.h for p in way) < PAIR_PART_HEIGHT * height or (sure and n in evens):
            continue
        read = tuple(int(d) for d in parts.argmax(axis=1))
        least = float(parts[:, :digits].max(axis=1).min())
        if max(read) >= digits or read == (1, 1) or least < PAIR_BESIDE or (sure and (said not in read or read == (said, said))):
            continue
        boxes = tuple((p.box.x, p.box.y, p.box.w, p.box.h) for p in way)
        group = groups.setdefault(read, {})
        if boxes not in group or least > group[boxes][0]:
            group[boxes] = (least, way, parts)
    best = None
    for group in groups.values():
        if len(group) >= AGREE_CUTS:
            top = max(group.values(), key=lambda g: g[0])
            if best is None or top[0] > best[0]:
                best = top
    return None if best is None else (best[1], best[2])


#: Two round digits written into each other close two loops, one beside the other, and are read whole as an 8
#: ("95", "43", "96", "46" read as an 8 at 0.94-0.996 on the stress row touching, seeds 0-199: 11 pairs, no single
#: digit so cut): the one digit whose two loops a pair's can pass for (``_pair_read_as_a_third``).
TWO_LOOPS = 8

#: The digit the left half of one 8 cut down its middle reads as (its reversed S): no pair so cut begins with it
#: (``_pair_read_as_a_third``). Measured at the merge of session 27: over seeds 0-99 of the 28 stress rows the rule's
#: only cuts of one digit were two wide single 8s read "23" (``curl`` 42) and "27" (``perspective`` 82), the parts at
#: 0.97-0.996; the worksheets' 8s cut in two read "27" (0.91-0.961); of the 9 true pairs it cuts on ``touching``
#: 0-199 ("43", "95", "66", "96" twice, "46" twice, "45", "93") none begins with a 2. ``curl`` and ``perspective``
#: 100-199: no cut of one digit either way.
HALF_EIGHT = 2


def _pair_read_as_a_third(ways: Sequence[tuple[Candidate, ...]], probabilities: np.ndarray, start: int, digits: int,
                          said: int, height: int) -> tuple[tuple[Candidate, ...], np.ndarray] | None:
    """Of one piece's ``ways`` (their parts' rows from row ``start`` of ``probabilities``), ``height`` tall, read
    whole surely as the digit ``said``: where that digit is ``TWO_LOOPS`` (an 8), the way in two parts, each at
    least ``PAIR_PART_HEIGHT`` of ``height``, read as two digits, neither a 1 nor an 8 and the first no
    ``HALF_EIGHT`` (a 2), each at least ``SEVERAL_CONFIDENCE`` surely, with its rows (of several, the one whose
    parts' sureness has the largest product); else None. This is the pair ``decide_splits`` takes by its writer's
    width (``PAIR_COUNT``), taken without the width and without the parts asked to read surer than the whole: two
    digits written into each other are narrower than two of their writer's digits, on half the pages no width is
    told, and a whole read as an 8 says nothing against two other digits. One 8 cut in two keeps an 8 in a part, or leaves halves read "93"
    or "27" unsurely (worksheets 7000-13059: 0.91-0.961); other single digits' halves read as two other digits
    surely (a zero's "(" and ")" as 6 and 7 at 0.992 on worksheets 7024 and 7055), which is why only an 8 is taken
    for a pair so."""
    if said != TWO_LOOPS:
        return None
    at = start
    best, found = -np.inf, None
    for way in ways:
        parts = probabilities[at: at + len(way)]
        at += len(way)
        if len(way) != 2 or min(p.box.h for p in way) < PAIR_PART_HEIGHT * height:
            continue
        read = [int(d) for d in parts.argmax(axis=1)]
        sure = parts[:, :digits].max(axis=1)
        if max(read) >= digits or 1 in read or said in read or read[0] == HALF_EIGHT \
                or float(sure.min()) < SEVERAL_CONFIDENCE:
            continue
        score = float(np.log(sure).sum())
        if score > best:
            best, found = score, (way, parts)
    return found


def _digit_and_scrap(ways: Sequence[tuple[Candidate, ...]], probabilities: np.ndarray, start: int, digits: int,
                     read: int, height: int) -> bool:
    """Whether one of a piece's ``ways`` (their parts' rows from row ``start`` of ``probabilities``), ``height``
    tall, holds a part at least ``PAIR_PART_HEIGHT`` of that height read as the whole's digit ``read`` at least
    ``PAIR_BESIDE`` surely (as surely as that rule asks of a pair), its other parts read as no digit: the
    classifier found the digit the whole unsurely reads as, all of it, in the piece, and the rest is no digit of
    its own (an MNIST 2 1.25 times as wide as tall, read whole as 2 at 0.73 and 0.66 on two worksheets: cut at
    its least ink, its right part reads 2 at 0.996 and 0.992, the left no digit). Its equal halves (read 7 and 3
    at 0.965) are then that digit halved, not a pair (``_pair_beside_whole``)."""
    at = start
    for way in ways:
        parts = probabilities[at: at + len(way)]
        at += len(way)
        said = parts.argmax(axis=1)
        whole = [n for n, p in enumerate(way) if said[n] == read and float(parts[n, read]) >= PAIR_BESIDE
                 and p.box.h >= PAIR_PART_HEIGHT * height]
        if whole and all(said[n] >= digits for n in range(len(way)) if n != whole[0]):
            return True
    return False


def _agreed_thirds(ways: Sequence[tuple[Candidate, ...]], probabilities: np.ndarray, start: int, digits: int,
                   thirds: frozenset[int]) -> tuple[tuple[Candidate, ...], np.ndarray] | None:
    """Of one piece's ``ways`` (their parts' rows from row ``start`` of ``probabilities``), those in ``thirds``
    (its equal thirds upright and along its slant, ``Segmentation.third_ways``): where at least ``THIRDS_AGREE``
    of them read as the same three digits, never two of them 1, the surer of them (by its least sure part) with
    its rows, if that part reads at least ``THIRDS_LEAST``; else None. Three digits written into each other
    leave each third a stub of its neighbours' ink, so a right third reads unsurely (the middle one most), but
    cut upright or along the slant each third still holds one digit, and both read alike; a glyph's thirds are
    strokes that read as whatever each cut leaves. Not where a way in two parts reads as the outer thirds' digits,
    each part at ``SPLIT_CONFIDENCE``: a pair of them, whose middle third is where they overlap (a "76" read 7, 4,
    6)."""
    at = start
    groups: dict = {}
    pairs = set()  # the pairs of digits that a way in two parts reads as, each part at SPLIT_CONFIDENCE
    for n, way in enumerate(ways):
        parts = probabilities[at: at + len(way)]
        at += len(way)
        read = tuple(int(d) for d in parts.argmax(axis=1))
        sure = float(parts[:, :digits].max(axis=1).min())
        if len(way) == 2 and max(read) < digits and sure >= SPLIT_CONFIDENCE:
            pairs.add(read)
        if n not in thirds or max(read) >= digits or read.count(1) > 1:
            continue  # no digit in a third, or two 1s side by side: the strokes of an M, a W, an "ll"
        groups.setdefault(read, []).append((sure, way, parts))
    best = None
    for read, group in groups.items():
        top = max(group, key=lambda g: g[0])
        if len(group) >= THIRDS_AGREE and top[0] >= THIRDS_LEAST and (read[0], read[2]) not in pairs \
                and (best is None or top[0] > best[0]):
            best = top
    return None if best is None else (best[1], best[2])


def _part_refined(kept: tuple[tuple[Candidate, ...], np.ndarray], ways: Sequence[tuple[Candidate, ...]],
                  probabilities: np.ndarray, start: int, digits: int, height: int
                  ) -> tuple[tuple[Candidate, ...], np.ndarray] | None:
    """Of one piece's ``ways`` (their parts' rows from row ``start`` of ``probabilities``), ``height`` tall, a way
    that is the way ``kept`` (two parts or more, with its rows) with one of its parts cut in two: every other part
    the same (its sides within ``CHAIN_SLACK`` of ``height``) and read as the same digit, the two new parts from
    the old one's sides, both read as digits at ``SPLIT_CONFIDENCE``, one of them as the digit the old part was read
    as and the other as another digit (of several such ways, the one whose new parts' least is surest); else None.
    A part holding two digits of a run written into each other is read as one of them as surely as a digit
    ("988" kept as 8, 8, its "98" an 8 at the ceiling, where 9, 8, 8 reads at 0.988; the 1 of "1000" inside the
    first zero's part); cut again where they meet, it reads as that digit and the one beside it. One digit cut in
    two leaves strokes read as other digits (a zero's "(" and ")" read 1 and 7), or its own digit twice (a wide 5
    read 5 and 5): neither is taken. See docs/touching.md, session 30."""
    way0, rows0 = kept
    slack = CHAIN_SLACK * height
    said0 = rows0.argmax(axis=1).tolist()

    def same(p, q) -> bool:
        return abs(p.box.x - q.box.x) <= slack and abs(p.box.x + p.box.w - q.box.x - q.box.w) <= slack

    at = start
    best, found = -1.0, None
    for way in ways:
        parts = probabilities[at: at + len(way)]
        at += len(way)
        if len(way) != len(way0) + 1:
            continue
        said = parts.argmax(axis=1).tolist()
        for i in range(len(way0)):
            # Every other part where it was (the parts after the one cut are one further on) and read alike.
            if not all(said0[j] == said[j + (j > i)] and same(way0[j], way[j + (j > i)])
                       for j in range(len(way0)) if j != i):
                continue
            old, one, two = way0[i], way[i], way[i + 1]
            if not (abs(one.box.x - old.box.x) <= slack
                    and abs(two.box.x + two.box.w - old.box.x - old.box.w) <= slack):
                continue
            pair = (said[i], said[i + 1])
            if max(pair) >= digits or said0[i] not in pair or pair[0] == pair[1]:
                continue
            least = min(float(parts[i, :digits].max()), float(parts[i + 1, :digits].max()))
            if least < SPLIT_CONFIDENCE:
                continue
            if least > best:
                best, found = least, (way, parts)
    return found


def _likeliest_way(ways: Sequence[tuple[Candidate, ...]], probabilities: np.ndarray, end: int, digits: int
                   ) -> tuple[tuple[Candidate, ...], np.ndarray] | None:
    """Of one piece's ``ways``, whose parts' rows end at row ``end`` of ``probabilities``, the way whose parts
    read as digits most surely by the geometric mean of their sureness, with its rows; None where that mean is
    under ``FALLBACK_MEAN`` or a part reads as a digit less surely than ``FALLBACK_LEAST``. A way with two parts
    or more read as 1 is none: a letter's strokes side by side (a printed M or W, a written "ll") each read as
    a 1, and these ways count on the parts' reading alone."""
    at = end - sum(len(way) for way in ways)
    best, found = 0.0, None
    for way in ways:
        parts = probabilities[at: at + len(way)]
        at += len(way)
        sure = parts[:, :digits].max(axis=1)
        if float(sure.min()) < FALLBACK_LEAST or int((parts[:, :digits].argmax(axis=1) == 1).sum()) > 1:
            continue  # two 1s side by side: the strokes of an M, a W, an "ll" read one by one
        mean = float(np.exp(np.log(sure).mean()))
        if mean >= FALLBACK_MEAN and mean > best:
            best, found = mean, (way, parts)
    return found


def _likeliest_chain(ways: Sequence[tuple[Candidate, ...]], probabilities: np.ndarray, end: int, digits: int,
                     box: Box) -> tuple[tuple[Candidate, ...], np.ndarray] | None:
    """Where no one of a piece's ``ways`` (its parts' rows end at row ``end`` of ``probabilities``) reads surely
    enough for :func:`_likeliest_way`: the parts of different ways chained left to right, each part starting
    within ``CHAIN_SLACK`` of the piece's height ``box.h`` of where the last ended (the first of the piece's
    left side, the last ending so of its right side), the chain whose parts read as digits most surely by the
    geometric mean of their sureness, with its rows; None where that mean is under ``FALLBACK_MEAN``, as
    there. A run of touching digits is often cut right in one place by one way and in another by another
    ("3000" whose minus touches the 3: one way parts the 3 from the zeros, another the zeros from each other,
    and no way both); every part was read already. The same guards: no part under ``FALLBACK_LEAST``, never
    two parts read as 1, at least two parts; and one part at least read at the classifier's ``CEILING``."""
    slack = CHAIN_SLACK * box.h
    at = end - sum(len(way) for way in ways)
    parts, rows, seen = [], [], set()
    for way in ways:
        for part, row in zip(way, probabilities[at: at + len(way)]):
            key = (part.box.x, part.box.w, int(row[:digits].argmax()))
            sure = float(row[:digits].max())
            if key not in seen and sure >= FALLBACK_LEAST:
                seen.add(key)
                parts.append(part)
                rows.append(row)
        at += len(way)
    order = sorted(range(len(parts)), key=lambda i: parts[i].box.x)
    right = box.x + box.w
    # best[i][n][ones]: the largest sum of log sureness of a chain of n + 1 parts from the left side to part i,
    # ``ones`` of them read as 1, and the part before i in it.
    most = min(len(parts), CHAIN_MOST)
    best = {}
    for i in order:
        p = parts[i]
        log = float(np.log(rows[i][:digits].max()))
        one = int(int(rows[i][:digits].argmax()) == 1)
        if abs(p.box.x - box.x) <= slack:
            best[(i, 0, one)] = (log, None)
        for (j, n, ones), (total, _) in list(best.items()):
            q = parts[j].box
            if j == i or n + 1 >= most or ones + one > 1 or q.x >= p.box.x:
                continue
            if abs(p.box.x - (q.x + q.w)) <= slack:
                state = (i, n + 1, ones + one)
                if state not in best or total + log > best[state][0]:
                    best[state] = (total + log, (j, n, ones))
    chosen, top = None, 0.0
    for (i, n, ones), (total, _) in best.items():
        p = parts[i].box
        mean = float(np.exp(total / (n + 1)))
        if n >= 1 and abs(p.x + p.w - right) <= slack and mean >= FALLBACK_MEAN and mean > top:
            chain, state = [], (i, n, ones)
            while state is not None:
                chain.append(state[0])
                state = best[state][1]
            if max(float(rows[j][:digits].max()) for j in chain) >= CEILING:
                chosen, top = chain[::-1], mean
    if chosen is None:
        return None
    return tuple(parts[i] for i in chosen), np.stack([rows[i] for i in chosen])


#: Two pieces read as digits, one above the other (their columns overlapping by at least ``STACKED_COLUMNS`` of
#: the narrower's width, no more than ``STACKED_GAP`` of their union's height of paper between them), each at most
#: ``STACKED_PART`` of that union's height, the union no taller than ``STACKED_TALL`` times the frame's usual digit
#: height (the median height of its candidates read as digits): one digit cut across (an MNIST 8 at its waist read
#: as two sure 0s), no two digits of one line. Two digits of two lines are each as tall as the line's digits,
#: and a fraction's numerator and denominator stand apart by their bar, each of the writing's height. Measured on
#: the worksheets' final detections (main at c1cda26): over the tuning sheets 7000-13059 (420 sheets) no two
#: detections stand so; over 22000, 27000, 50000, 52000, 60000, 61000 (360 sheets) one pair: 50020's 8, two 0s
#: 31 and 27 px tall of a union of 50 (0.62, 0.54), the sheet's digits 53 px. The columns' share is a quarter, not a
#: half: 61053's 8 leans, its loops' columns overlapping by 0.35 of the narrower; at 0.25 the tuning sheets still
#: hold no pair asked and read line for line the same.
STACKED_COLUMNS = 0.25
STACKED_GAP = 0.25
STACKED_PART = 0.75
STACKED_TALL = 1.25


def stacked_pieces(candidates: list, probabilities: np.ndarray, image: np.ndarray | None, image_scale: int,
                   classifier: Classifier | None) -> tuple[list, np.ndarray]:
    """``candidates`` and their ``probabilities`` with each two pieces one above the other (``STACKED_*``), both
    read as digits, read as one candidate where the crop of their union cut from the frame ``image``
    (``vision.signs.region_crop``) reads as a digit at the classifier's ``CEILING``: a digit the segmentation
    left in two pieces stacked, each read as a digit (an 8 cut at its waist read as two sure 0s). The crops of
    every such pair of the frame are read in one batch; a frame with none reads nothing more."""
    if image is None or classifier is None or len(candidates) < 2:
        return candidates, probabilities
    digits = min(10, probabilities.shape[1])
    read = [k for k in range(len(candidates)) if int(probabilities[k].argmax()) < digits]
    if len(read) < 2:
        return candidates, probabilities
    # Every pair at once, as (upper, lower) matrices of the boxes read as digits: a dense page holds hundreds.
    x, y, w, h = (np.array([getattr(candidates[k].box, name) for k in read], np.float64)[:, None]
                  for name in ("x", "y", "w", "h"))
    x2, y2 = x + w, y + h
    usual = float(np.median(h))
    tall = np.maximum(y2, y2.T) - y  # the union's height, the upper box (a row) starting it
    stacked = ((y < y.T) & (np.minimum(x2, x2.T) - np.maximum(x, x.T) >= STACKED_COLUMNS * np.minimum(w, w.T))
               & (y.T - y2 <= STACKED_GAP * tall) & (tall <= STACKED_TALL * usual)
               & (np.maximum(h, h.T) <= STACKED_PART * tall))
    pairs = [(read[i], read[j], candidates[read[i]].box.union(candidates[read[j]].box)) for i, j in zip(*np.nonzero(stacked))]
    if not pairs:
        return candidates, probabilities
    from livedigits.vision.signs import region_crop

    crops = [region_crop(image, union, image_scale) for _, _, union in pairs]
    rows = np.asarray(classifier.predict(np.stack(crops)[..., None]))
    joined, gone = {}, set()
    for (a, b, union), crop, row in zip(pairs, crops, rows):
        if a in gone or b in gone or int(row.argmax()) >= digits or float(row[:digits].max()) < CEILING:
            continue
        joined[a] = (Candidate(box=union, crop=crop), row)
        gone |= {a, b}
    if not joined:
        return candidates, probabilities
    out_c, out_p = [], []
    for k, candidate in enumerate(candidates):
        if k in joined:
            out_c.append(joined[k][0])
            out_p.append(joined[k][1])
        elif k not in gone:
            out_c.append(candidate)
            out_p.append(probabilities[k])
    return out_c, np.stack(out_p)


def _sureness(row: np.ndarray, digits: int) -> float:
    """How surely one candidate's probabilities ``row`` read as a digit: 0 when it reads as no digit."""
    return 0.0 if int(row.argmax()) >= digits else float(row[:digits].max())


#: Two digits of one line read surely (``ALIKE_SURE``) as different digits whose crops are at least this alike
#: (``likeness``) are one digit written alike, one of them misread: each is a doubt (``alike_misreads``). On the
#: tuning worksheets (seeds 7000-7059 and 8000-8059: 7,366 pairs of digits on one line within four heights of
#: each other) the pairs read differently that were two digits reached 0.903 (a 1 and a 6); those this alike
#: were all one digit written twice (a 1 read as 7).
ALIKE_MISREAD = 0.92
#: ... both read at least this surely: where one is read less surely, its other readings are weighed by the
#: verdict already (``expressions._every_reading_wrong``), and on the tuning worksheets the doubt then only
#: cost wrong verdicts (8040's ``38+81=118``, its 1s read 7 at 0.70 and 0.82).
ALIKE_SURE = 0.9


def alike_misreads(detections: Sequence, candidates: Sequence[Candidate], like: float = ALIKE_MISREAD,
                   sure: float = ALIKE_SURE) -> list[Box]:
    """The boxes of digits read at least ``sure`` as a digit another digit of their line, within four digit
    heights, read as surely, is not read as, whose crops are at least ``like`` alike: one hand writes one digit
    alike, so one of the two is misread, and which one, or as what, the reading cannot tell. A sum holding one
    is never marked wrong on it (``read_expressions``' doubts)."""
    crops = {c.box: c.crop for c in candidates}
    dets = [d for d in detections if d.box in crops and d.confidence >= sure]
    if len(dets) < 2:
        return []
    cx = np.array([d.box.center[0] for d in dets])
    cy = np.array([d.box.center[1] for d in dets])
    h = np.array([d.box.h for d in dets], np.float64)
    digit = np.array([d.digit for d in dets])
    tall = np.maximum(h[:, None], h[None, :])
    pairs = ((np.abs(cy[:, None] - cy[None, :]) <= 0.5 * tall) & (np.abs(cx[:, None] - cx[None, :]) <= 4 * tall)
             & (digit[:, None] != digit[None, :]))
    if not pairs.any():
        return []
    seen = np.flatnonzero(pairs.any(axis=1))
    stack = np.stack([crops[dets[k].box] for k in seen])
    alike = (likenesses(stack, stack) >= like) & pairs[np.ix_(seen, seen)]
    return [dets[k].box for k, hit in zip(seen, alike.any(axis=1)) if hit]


class _Later:
    """Boxes known now (``boxes``) and more worked out by ``more()`` the first time they are gone through, once:
    the doubts ``read_expressions`` looks at only for a sum about to be marked wrong."""

    def __init__(self, boxes: list, more: Callable[[], list]):
        self._boxes, self._more = list(boxes), more

    def __iter__(self):
        if self._more is not None:
            self._boxes += self._more()
            self._more = None
        return iter(self._boxes)


def nudged_chance(rows: np.ndarray, meant: int, level: float) -> bool:
    """The test ``expressions.NUDGED`` of one digit: does its crop read under each nudge
    (``vision.normalize.nudged``; ``rows``: the classifier's probabilities, a row a nudge) give the digit
    ``meant`` at least ``level`` in some nudge (``alternative_level``; ``expressions.UNLISTED_LEVEL`` for the test
    ``CHANCE``)? A nudge that reads the crop as a third digit is no chance of the digit meant: an unsteady crop
    (worksheet 7055's MNIST 5, read as another digit by five nudges, the 4 given nothing) says nothing of the
    misread the table would right (issue 21, session 23)."""
    return bool(rows[:, meant].max() >= level)


def crop_asker(classifier: Classifier, candidates: Sequence[Candidate], level: float, signs=None,
               image: np.ndarray | None = None, image_scale: int = 1) -> Callable:
    """The ``ask`` of ``reading.expressions.read_expressions``: for a list of ``(box, read digit, meant digit,
    tests)``, whether each test asked (``expressions.NUDGED``, ``PAGE``) leaves the digit meant a chance.
    ``NUDGED``: the digit's crop (of ``candidates``), nudged (``vision.normalize.nudged``: shifted by 1-2 px,
    turned, scaled, thinned, thickened) and read again, gives the digit meant at least ``level`` in some
    nudge (:func:`nudged_chance`; a nudge read as a third digit is no chance of it); every crop asked is read
    in one batch. ``PAGE`` (given ``confirmed``, the digits the page's right sums confirm, by box):
    the crop is not more like the page's confirmed crops of the digit read than like those of the digit meant
    by ``PAGE_MARGIN`` (``vision.normalize.likeness``; by any margin for a digit no table lists, asked with
    ``CHANCE``); where they confirm no crop of one of the two, ``shown`` decides (the page's digits read surely
    and those confirmed, ``expressions._page_digits``), by ``PAGE_MARGIN``; a page that shows neither leaves the
    chance. It runs
    only for a sum about to be marked wrong that a confusion of the table would right (``expressions.ASKED``, ``TWINNED``,
    ``PAIRED_MISREADS``). Its ``nudge_read`` and ``sign_read`` (``expressions._nudge_read``) ask, for an unsure sum
    one digit or one + or x read as another would make right, whether the nudged crop gives that reading a
    chance and the crop is more like the page's digits (or sure signs) of it than of what was read.
    ``CHANCE`` (``expressions._unlisted_misread``, a digit no table lists): the crop, nudged, gives the digit
    meant at least ``expressions.UNLISTED_LEVEL`` in some nudge. ``SIGNED`` (``expressions._contested_digit``):
    ``signs``, the sign classifier, reads no digit in the crop (its likeliest class is not "digit"; asked before
    the crop is nudged, so that a crop read as a digit is not); without ``signs`` it says no.
    Its ``union_read`` (``expressions._union_read``) reads, for pairs of boxes (two digits side by side that may
    be pieces of one), the ink of each pair's union cut from the frame ``image`` (``vision.signs.region_crop``)
    with the digit model, in one batch: the probabilities of each (none without ``image``). Its ``sign_of``
    (``expressions._between_fractions``) reads, for boxes of digits, each crop with the sign classifier, in one
    batch: its probability of each class by name (None without it). ``nudge_read`` with a ``margin`` is also
    asked by ``expressions._leaned``, for a sum about to be marked wrong that one digit read as another would
    make right."""
    answers: dict = {}  # the frame's two readings (with and without its possible signs) ask once
    readings: dict = {}  # box -> the classifier's probabilities for each nudge of its crop
    signed: dict = {}  # box -> does the sign classifier read no digit in its crop

    def read_signed(boxes: list, crops: dict) -> None:
        # Every crop not shown to the sign classifier yet, in one batch (no sign classifier: no crop reads as a sign).
        boxes = [b for b in dict.fromkeys(boxes) if b in crops and b not in signed]
        if boxes and signs is not None:
            probs = np.asarray(signs.predict(np.stack([crops[b] for b in boxes])))
            digit = list(signs.classes).index("digit")
            signed.update((b, int(row.argmax()) != digit) for b, row in zip(boxes, probs))

    def read_nudged(boxes: list, crops: dict) -> None:
        # Every crop not read nudged yet, in one batch.
        boxes = [b for b in dict.fromkeys(boxes) if b in crops and b not in readings]
        if boxes:
            batch = np.concatenate([nudged(crops[b]) for b in boxes])[..., None]
            probs = np.asarray(classifier.predict(batch))
            count = len(batch) // len(boxes)
            for n, b in enumerate(boxes):
                readings[b] = probs[n * count: (n + 1) * count]

    def like_read(crops: dict, box: Box, read: int, meant: int, confirmed: dict, margin: float = 0.0,
                  of_read: dict | None = None) -> bool | None:
        # Is the crop more like the page's confirmed crops of the digit read (of ``of_read`` where given) than
        # of the digit meant (by ``margin``)? None where the page shows no crop of one of them.
        best = {}
        for digit, page in ((read, confirmed if of_read is None else of_read), (meant, confirmed)):
            others = [crops[b] for b, d in page.items() if d == digit and b != box and b in crops]
            if not others:
                return None  # the page does not show how this hand writes it: no evidence
            best[digit] = float(likeness(crops[box], np.stack(others)).max())
        return best[read] > best[meant] + margin

    def ask(queries: list, confirmed: dict | None = None, shown: dict | None = None) -> list[bool]:
        crops = {c.box: c.crop for c in candidates}  # made only when asked: a frame's sums seldom do
        known = list(dict.fromkeys(q for q in queries if q[0] in crops and q not in answers))
        # The sign classifier first (one crop a digit): a crop it reads as a digit is not nudged for ``SIGNED``.
        read_signed([q[0] for q in known if SIGNED in q[3]], crops)
        answers.update((q, False) for q in known if SIGNED in q[3] and not signed.get(q[0], False))
        nudge = [q for q in known if (NUDGED in q[3] or CHANCE in q[3]) and q not in answers]
        read_nudged([q[0] for q in nudge], crops)
        for q in nudge:
            rows = readings[q[0]]
            answers[q] = nudged_chance(rows, q[2], UNLISTED_LEVEL if CHANCE in q[3] else level)
        out = []
        for q in queries:
            # No crop to ask: the table decides; a digit no table lists (``CHANCE``), or one only the sign
            # classifier doubts (``SIGNED``), has nothing to show.
            chance = answers.get(q, CHANCE not in q[3] and SIGNED not in q[3])
            if chance and PAGE in q[3] and (confirmed or shown) and q[0] in crops:
                # A confusion the tables list (``TWINNED``) is lifted by the confirmed crops only by a margin (a
                # 1 read as 2 by a wider one, ``PAGED``); a misread no table lists (``CHANCE``) is a weaker
                # doubt, lifted by any lean of the page.
                pair = (str(q[1]), str(q[2]))
                paged = CHANCE not in q[3] and pair in PAGED
                margin = 0.0 if CHANCE in q[3] else PAGED.get(pair, PAGE_MARGIN)
                said = like_read(crops, q[0], q[1], q[2], confirmed or {}, margin)
                if said is None and shown and not paged:
                    # The right sums confirm too few: the page's surely read digits, by a margin (PAGE_MARGIN;
                    # not for ``PAGED``: a hand's misreads among them are twins of the crop).
                    said = like_read(crops, q[0], q[1], q[2], shown, PAGE_MARGIN)
                chance = not said
            out.append(chance)
        return out

    def likest(asked: list, confirmed: dict) -> dict:
        # For each (box, read digit): the digit whose crops the page's right sums confirm (``confirmed``)
        # the crop is far more like than like every confirmed crop of the digit read (expressions.PAGE_LIKE,
        # PAGE_MARGIN), where that is another digit: every digit asked against every confirmed crop in one product.
        crops = {c.box: c.crop for c in candidates}
        shown = [(b, d) for b, d in confirmed.items() if b in crops]
        if len({d for _, d in shown}) < 2:
            return {}
        digits = np.array([d for _, d in shown])
        asked = [(box, read) for box, read in asked if box in crops]
        if not asked:
            return {}
        table = likenesses(np.stack([crops[box] for box, _ in asked]), np.stack([crops[b] for b, _ in shown]))
        out = {}
        at = {b: k for k, (b, _) in enumerate(shown)}
        for (box, read), alike in zip(asked, table):
            if box in at:
                alike[at[box]] = -1.0  # not itself
            best = int(alike.argmax())
            digit = int(digits[best])
            own = alike[digits == read]
            if digit != read and alike[best] >= PAGE_LIKE and alike[best] - (own.max() if len(own) else 0.0) >= PAGE_MARGIN:
                out[box] = digit
        return out

    def nudge_read(tries: list, shown: dict, at_least: float, seen: dict | None = None,
                   margin: float = 0.0) -> list[bool]:
        # For each (box, read digit, meant digit): does the crop, nudged, give the digit meant at least
        # ``at_least`` in some nudge, and is it more like the page's digits of it (``seen``, an open sum's
        # too; ``shown`` where none: by box) than like its digits of the digit read (``shown``), by ``margin``?
        # A page that shows neither says nothing: no.
        crops = {c.box: c.crop for c in candidates}
        read_nudged([b for b, _, _ in tries], crops)
        out = []
        for box, read, meant in tries:
            yes = box in readings and float(readings[box][:, meant].max()) >= at_least
            out.append(bool(yes and like_read(crops, box, meant, read, shown, margin, of_read=seen)))
        return out

    def sign_read(turned: list, signs: dict) -> list[bool]:
        # For each (box, read sign, meant sign), a + or an x: is its crop more like the page's signs read
        # surely (``SignConfig.alike_sure``) as the sign meant than like those read as the sign read (the
        # likeness of ``vision.signs._alike_signs``)? A page that shows neither says nothing: no.
        from livedigits.vision.signs import ALIKE_BLUR, ALIKE_SHIFT, DEFAULT_SIGNS

        crops = {c.box: c.crop for c in candidates}
        out = []
        for box, read, meant in turned:
            best = {}
            for char in (read, meant):
                others = [crops[b] for b, (c, p) in signs.items()
                          if c == char and p >= DEFAULT_SIGNS.alike_sure and b != box and b in crops]
                if others and box in crops:
                    best[char] = float(likeness(crops[box], np.stack(others), ALIKE_SHIFT, ALIKE_BLUR).max())
            out.append(len(best) == 2 and best[meant] > best[read])
        return out

    def union_read(pairs: list) -> list:
        # For each (box, box): the digit model's probabilities for the crop of their union, cut from the frame.
        from livedigits.vision.signs import region_crop

        if image is None or not pairs:
            return [None] * len(pairs)
        batch = np.stack([region_crop(image, a.union(b), image_scale) for a, b in pairs])[..., None]
        return list(np.asarray(classifier.predict(batch)))

    def sign_of(boxes: list) -> list:
        # For each box: the sign classifier's probability of each of its classes for the digit's crop, in one
        # batch (None for a box with no crop, or with no sign classifier).
        crops = {c.box: c.crop for c in candidates}
        known = [b for b in boxes if b in crops]
        if signs is None or not known:
            return [None] * len(boxes)
        probs = np.asarray(signs.predict(np.stack([crops[b] for b in known])), np.float64)
        read = {b: dict(zip(signs.classes, map(float, row))) for b, row in zip(known, probs)}
        return [read.get(b) for b in boxes]

    ask.likest = likest
    ask.sign_of = sign_of
    ask.nudge_read = nudge_read
    ask.union_read = union_read
    ask.sign_read = sign_read
    return ask


def uncut_marks(found: Segmentation, candidates: list[Candidate], cut: set[int] | None = None) -> list[Box]:
    """``found.marks`` without the wide pieces that :func:`choose_splits` read cut into digits, or joined
    (``candidates`` holds their parts; or ``cut``, their indices, from :func:`decide_splits`): their ink is
    digits, not a dash or a word. So is the lifted hat of a 5 read joined with its body (``found.hats``)."""
    if not found.wide and not found.hats:
        return found.marks
    chosen = {id(c) for c in candidates}
    if cut is None:
        cut = {k for k in found.wide if id(found.candidates[k]) in chosen
               or any(id(part) in chosen for way in found.splits.get(k, ()) for part in way)}
        cut |= {k for members, ways in found.joins if any(id(part) in chosen for way in ways for part in way)
                for k in members}
    boxes = digit_marks(found, candidates, cut)
    return [m for m in found.marks if m not in boxes]


def digit_marks(found: Segmentation, candidates: list[Candidate], cut: set[int]) -> set[Box]:
    """The pieces too wide or flat for a digit that were read as digits' ink (``cut``, the indices
    :func:`decide_splits` read cut or joined): a wide piece read cut into digits, and a 5's lifted hat read joined
    with its body (``found.hats``; a mark, or a piece too short for a digit and no mark): no sign's piece."""
    chosen = {id(c) for c in candidates}
    boxes = {found.candidates[k].box for k in found.wide if k in cut}
    boxes |= {hat for j, hat in found.hats.items() if any(id(part) in chosen for way in found.joins[j][1] for part in way)}
    return boxes


#: With several live sources read together, each source's still anchors live ``CARRY_EVERY - phase`` frames,
#: its phase one of ``0 .. STAGGER_SPAN - 1``: after frames read whole on every source at once (copies of one
#: clip in step, a light switched on over every camera's page) the periodic whole frames come on
#: ``STAGGER_SPAN`` different frames instead of one, and sources whose anchors live differently drift apart.
#: Measured on 8 copies of ``samples/realistic.mp4`` in step (``docs/speed.md``): rounds over two cores'
#: budget fell from 47 to 20 of 210, for 1.6% fewer frames carried; with phases spread over 8 frames, 19 rounds
#: over, for 4% fewer carried; with a phase given as the frame whose index falls on it (a slot every
#: ``CARRY_EVERY`` frames), 12 to 18 over, for 2.6-6.8% fewer carried.
STAGGER_SPAN = 4


def stagger_phases(count: int) -> list[int | None]:
    """The phases (:func:`refresh_due`) of ``count`` live sources read together, taken in turn (0, 1, 2, 3, 0,
    ...); one source gets none."""
    if count < 2:
        return [None] * count
    return [k % STAGGER_SPAN for k in range(count)]


def refresh_due(age: int, phase: int | None = None) -> bool:
    """Whether a frame of a page standing still since its still anchor, made ``age`` frames before, is read
    whole all the same, as a new anchor: once ``CARRY_EVERY`` frames have gone by, less the source's
    ``phase`` (:func:`stagger_phases`). The decision rests on the frames alone."""
    return age + 1 >= CARRY_EVERY - (phase or 0)


#: A frame "reads blank" (:func:`reads_blank`) when it holds at least this many candidates (pieces of ink of a digit's
#: size) and reads digits from no more than ``BLANK_SHARE`` of them. Ten: a page of a few pieces that read as nothing is
#: most often a page with no digit (a word, a form's label), and the net is for a page whose mask holds many pieces of
#: a digit's size; with ten, a quarter is two digits, under the three of a blank page (``FAINTER_GAIN``).
BLANK_PIECES = 10
#: ... the share of its candidates read as digits (reported, and to the classifier itself) at or under which a frame
#: reads blank. A quarter: a page of digits
#: read well reads most of its pieces as digits, and one of digits, words and print a good share; ``mixed`` seed 98
#: read 5 digits from 24 pieces (21%), seed 73 4 from 146. On the stress pages it fires on 18 of 200 ``mixed`` pages
#: (seeds 0-199), 3 of 50 in other hands, and on none of the 100 of ``none``, ``thin``, ``noise``, ``blur``, ``shade``,
#: ``shadow`` (docs/stress.md, "A blank page read again fainter").
BLANK_SHARE = 0.25
#: The levels (clear, faint ink contrast) a frame that reads blank is read again at: one step of the usual
#: faint-to-clear ratio (0.22 / 0.30, about 0.73) below ``SegmentConfig``'s 0.30 / 0.22, so that ink the usual reading
#: would only follow from clear ink (as dark as the usual faint level) starts pieces of its own. Pencil out of focus
#: in a table reaches 13-22% darker than the paper and the clear level in a few pixels only (``mixed`` seed 98: 5 -> 8
#: of 71 digits found). A second step (0.16 / 0.12, down to ``segment.MIN_FAINT``) was measured and left out: on the
#: ``mixed`` pages that read blank (seeds 0-199) it takes paper texture and grain for ink and reads it as digits
#: (seed 144: 29 -> 108 digits read, 3 more of them true; seed 119: 8 -> 3 of 8 found).
FAINTER_LEVELS = ((0.22, 0.16),)
#: The fainter reading is kept only where it reads at least this many digits more than the usual one (the stress
#: measure's fewest true digits for a blank page): a page with no digits, read fainter, finds its grain and texture
#: in pieces, and a digit or two read among them is no reason to leave the usual reading.
FAINTER_GAIN = 3


def reads_blank(found: Segmentation, result: FrameResult, probabilities: np.ndarray, min_confidence: float) -> bool:
    """Whether a frame read whole as ``result`` reads (nearly) nothing while its segmentation ``found`` holds many
    digit-sized pieces (``BLANK_PIECES``, ``BLANK_SHARE``): its ink may lie under the clear level. Nothing is read
    where both the digits reported and the pieces the classifier itself reads as a digit (``probabilities``, whole
    pieces first as ``split_crops`` orders them, at ``min_confidence``) are few: a form's printed words, read as
    digits by the classifier and then taken for words, are read, not blank (``boxes`` seed 30: 5 digits reported
    from 50 pieces, 27 of them digits to the classifier; read fainter it read 2 capitals as digits; ``mixed`` seed
    98: 5 and 6 of 25). Counts only: no cost on a frame that reads."""
    pieces = len(found.candidates)
    if pieces < BLANK_PIECES or len(result.detections) > BLANK_SHARE * pieces:
        return False
    whole = np.asarray(probabilities)[:pieces]
    legible = int(((whole.argmax(axis=1) != NOT_A_DIGIT) & (whole.max(axis=1) >= min_confidence)).sum())
    return legible <= BLANK_SHARE * pieces


def reads_more(digits: int, pieces: int, than_digits: int, than_pieces: int) -> bool:
    """Whether a fainter reading of a frame that reads blank, ``digits`` read from ``pieces`` candidates, is kept over
    one of ``than_digits`` from ``than_pieces``: it reads ``FAINTER_GAIN`` digits more, and reads its pieces at least
    as well (as large a share of them as digits). Ink that lay under the clear level becomes pieces that read, and the
    share rises; paper texture and grain taken for ink become pieces that read as nothing, and it falls, however
    many digits they add (``mixed`` seeds 175 and 176: 45 digits from 228 pieces -> 67 from 708, 8 fewer of them
    true; 20 from 175 -> 43 from 634)."""
    return digits >= than_digits + FAINTER_GAIN and digits * than_pieces >= than_digits * pieces


def segment_frame(frame: Frame, source: str, config: SegmentConfig, *, signs: bool = False,
                  views: dict[str, ViewMemory | None] | None = None,
                  cuts: ReuseConfig | None = None, carry: bool = False,
                  phase: int | None = None) -> tuple[Segmentation, float]:
    """One frame's segmentation and its milliseconds: what :meth:`Recognizer.segment` does, and what a
    segmentation worker process does for the sources pinned to it (:mod:`livedigits.engine.workers`).
    ``views`` (None: off) keeps each video source's view memory by ``source``: a frame of video, a camera
    or a stream (``Frame.file`` None) is read with its source's last view and leaves its own there, so the
    caller must hand one source's frames over one after the other, in order. Stills are read on their own.
    ``cuts`` (with ``views``): a video frame's wide pieces unchanged since their ways were last decided, by
    this reuse test, are not searched again (``segment(..., cuts=...)``); the recognizer reading the frames
    must be the one that read the source's earlier frames, in order.
    ``carry`` (with ``views``): whole frames may be carried where the page stands still ("Whole frames
    carried" in :mod:`livedigits.vision.view`). A frame segmented whole is its source's new still anchor
    (``Segmentation.still``); a frame of the page standing still since that anchor is not segmented here
    (``Segmentation.kept``): the recognizer reading the frames carries the anchor's reading where two
    readings of the view agreed, and segments it itself (:meth:`Recognizer.segment_kept`) where not. The
    decision here rests on the frames alone, never on how far the reading has got. ``phase``: the source's
    phase of the periodic whole frames (:func:`refresh_due`, :func:`stagger_phases`), None: every
    ``CARRY_EVERY`` frames after the anchor."""
    started = time.perf_counter()
    if views is not None and frame.file is None:
        # Live video: the same source's frames follow each other here, so its view is carried over.
        memory = views.get(source)
        image = frame.image
        still = None
        if carry and frame.scale == 1:
            image = to_gray(np.asarray(frame.image))
            if max(image.shape[:2]) <= config.max_side:  # a frame segment() shrinks is always read whole
                still = StillView.of(image)
        anchor = memory.still if memory is not None else None
        moved = still_compare(anchor, still) if still is not None else None
        shift = moved[:2] if moved is not None and moved[2] else None
        if shift is not None and not refresh_due(anchor.age, phase):
            # The page stood still since the anchor. The frame keeps the memory it would have been segmented
            # with, for the recognizer to segment it where the anchor's reading is not carried.
            views[source] = replace(memory, still=anchor.older(),
                                    cuts=memory.cuts.older() if memory.cuts is not None else None)
            found = Segmentation([], [], np.zeros(image.shape[:2], np.uint8), view=replace(memory, still=None),
                                 kept=(anchor.id, *shift))
            return found, (time.perf_counter() - started) * 1e3
        found = segment(image, config, signs=signs, memory=memory, remember=True,
                        source_scale=frame.scale, cuts=cuts)
        if still is not None and found.view is not None:
            made = StillAnchor.of(still)  # changed, or read whole at last for the anchor's age: a new anchor
            # Made only for the last anchor's age (the page stood still since it): the new one renews it.
            renews = (anchor.id, *shift) if shift is not None else None
            # Changed, on the anchor's view: the reading may still be the one carried so far.
            changes = (anchor.id, *moved[:2]) if moved is not None and shift is None else None
            found = replace(found, view=replace(found.view, still=made), still=(made.id, 0, 0), renews=renews,
                            changes=changes)
        views[source] = found.view
    else:
        found = segment(frame.image, config, signs=signs, source_scale=frame.scale)
    return found, (time.perf_counter() - started) * 1e3


@dataclass(frozen=True)
class Batch:
    """What one :meth:`Recognizer.process_batch` call did: the ``results``, in the order of its items;
    ``classified``, the crops (candidates and split halves) the classifier read, all in one call; and
    ``reused``, the crops that kept an earlier frame's reading instead (see :mod:`livedigits.reading.reuse`)."""

    results: tuple[FrameResult, ...]
    classified: int
    reused: int
    carried: int = 0
    """Frames of a page standing still read as an earlier frame's reading, moved with the view (no crop
    made or read: "Whole frames carried" in :mod:`livedigits.vision.view`), those read in worker processes
    (:class:`Planned`) included."""


@dataclass(frozen=True)
class Plan:
    """One frame's crops for the classifier (:meth:`Recognizer.plan`): ``batch``, every crop of
    :func:`split_crops`; on video ``corners`` (:func:`box_corners`), ``anchors`` (the earlier reading that
    stands for each crop, -1 where the classifier must read it) and the source's ``cache``."""

    batch: np.ndarray
    corners: np.ndarray | None
    anchors: np.ndarray
    cache: ReuseCache | None

    @property
    def wanted(self) -> np.ndarray:
        return self.batch[self.anchors < 0]

    @property
    def reused(self) -> int:
        return int((self.anchors >= 0).sum()) if self.cache is not None else 0


@dataclass(frozen=True)
class Planned:
    """A frame segmented, planned (:meth:`Recognizer.plan`) and read in another process, a segmentation
    worker that keeps its source's tracker and caches (:mod:`livedigits.engine.workers`): only its
    ``wanted`` crops join the round's classifier batch (``reused``: the crops that kept an earlier
    reading). ``send(probabilities, classify_ms, received)`` hands the classifier's probabilities of
    ``wanted`` back and returns a function that waits for the frame's :class:`FrameResult`."""

    wanted: np.ndarray
    reused: int
    send: Callable[[np.ndarray, float, float | None], Callable[[], FrameResult]] = field(repr=False)
    carried: bool = False
    """Whether the frame carries an earlier frame's reading (``Batch.carried``)."""


class _Stream:
    """What the recognizer remembers of one source between frames."""

    def __init__(self, reading_config: ReadingConfig, smooth: bool, reuse: ReuseConfig | None) -> None:
        self.tracker = Tracker(reading_config) if smooth else None
        self.reuse = ReuseCache(reuse) if smooth and reuse is not None else None
        # The sign model's readings of unchanged crops, kept as the digit classifier's are (the same test,
        # a cache of its own).
        self.sign_reuse = ReuseCache(reuse) if smooth and reuse is not None else None
        self.last_file: str | None = None
        #: What was decided for the wide pieces of ink of the last frame (``decide_splits``), by the ids its
        #: segmentation gave them: a later frame that finds one unchanged reads it as decided.
        self.cuts: dict[int, CutDecision] = {}
        #: The reading of the last frame read whole (``Segmentation.still``) with its boxes moved back onto its
        #: still anchor's view, and the anchor's id: what the next frames of a page standing still carry
        #: (``Segmentation.kept``), once two frames read whole since the anchor agree (``agreed``).
        self.kept: tuple[int, FrameResult] | None = None
        self.agreed = False
        #: The last frame carried whole: ``(kept, (dx, dy, frame shape), result)``, ``kept`` the reading it carried.
        self.last_carried: tuple | None = None
        #: Whether the tracker's reading of the last frame read whole says what its crops alone say
        #: (:func:`says_the_same`).
        self.steady = False

    def reset_reuse(self) -> None:
        for cache in (self.reuse, self.sign_reuse):
            if cache is not None:
                cache.reset()
        self.kept = None
        self.last_carried = None
        self.agreed = False

    def carries(self, found: Segmentation) -> bool:
        """Whether ``found``, a frame not segmented because the page stood still since its still anchor, is
        read as the reading kept here for that anchor: two frames of the anchor's view read whole (the last
        two read here) read the same."""
        return found.kept is not None and self.agreed and self.kept is not None and self.kept[0] == found.kept[0]


#: Two readings of a still page agree when every digit of each has one in the other with the same value and
#: every side of its box within ``agree_px`` pixels, and the numbers' and expressions' texts are the same:
#: at least ``AGREE_FLOOR`` pixels, and ``AGREE_PX`` for every ``AGREE_SIDE`` of the frame's shorter side.
AGREE_PX = 3
#: ... taken on a frame of this shorter side; a bigger frame allows as many more pixels, rounded up (5 at
#: 1280x720, 7 at 1920x1080): the hand-held wander, and the pixel or two by which a box's side comes and goes
#: with the threshold, grow with the frame's scale. Measured on ``samples/realistic.mp4`` fitted to 1280x720
#: (aspect kept): between a reading and the next one 15 frames later, the view having moved 3-11 px, every
#: digit was found again with its sides within 4-5 px, and at 640x480 within 4-7 px.
AGREE_SIDE = 480
#: The fewest pixels, whatever the frame: a box's side comes and goes by a pixel or two with the threshold on
#: each reading, and the wander bends the view by a few more than the shift takes out. On
#: ``samples/realistic.mp4`` at 640x480, a frame read whole on a change of the still view (mostly the hand's
#: motion blur on the ink) and the reading before it, both of the same digits, had their sides within 1-3 px
#: in 13 of 25 such pairs and 4-5 px in the other 12 (at 3 px those were read whole once more). The page's
#: digits are 27-31 px tall there, and each digit's box lies 20 px or more (on some side) from any other's.
AGREE_FLOOR = 5


def agree_px(shape: tuple[int, ...]) -> int:
    """How far (pixels) a box's sides may lie from its partner's in two readings that agree, on a frame of
    ``shape`` (height, width, ...): ``AGREE_PX`` for every ``AGREE_SIDE`` of the shorter side, rounded up, and at
    least ``AGREE_FLOOR``."""
    return max(AGREE_FLOOR, math.ceil(AGREE_PX * min(shape[:2]) / AGREE_SIDE))


def same_reading(a: FrameResult, b: FrameResult) -> bool:
    """Whether ``a`` and ``b`` (of the same view) read the same (``agree_px`` of ``b``'s frame), whatever their
    order."""
    if len(a.detections) != len(b.detections) or sorted(n.text for n in a.numbers) != sorted(n.text for n in b.numbers):
        return False
    if sorted(e.text for e in a.expressions or ()) != sorted(e.text for e in b.expressions or ()):
        return False
    if not a.detections:
        return True
    first = np.array([(d.box.x, d.box.y, d.box.x2, d.box.y2, d.digit) for d in a.detections], np.int64)
    second = np.array([(d.box.x, d.box.y, d.box.x2, d.box.y2, d.digit) for d in b.detections], np.int64)
    near = (np.abs(first[:, None, :4] - second[None, :, :4]).max(axis=2) <= agree_px(b.frame.image.shape)) & \
        (first[:, None, 4] == second[None, :, 4])
    return bool(near.any(axis=1).all() and near.any(axis=0).all())


def says_the_same(raw: np.ndarray, tracked: np.ndarray, sure: float) -> bool:
    """Whether a frame's tracked probabilities (``tracked``, the tracks' averages) read every crop as its own
    probabilities (``raw``) do: the same class, and both at least ``sure`` or both below. Where a digit was
    rewritten, its track's average still leans to the old digit, or is too unsure to show it, while the
    crop reads the new one."""
    if not len(raw):
        return True
    return bool((raw.argmax(axis=1) == tracked.argmax(axis=1)).all()
                and ((raw.max(axis=1) >= sure) == (tracked.max(axis=1) >= sure)).all())


def _moved(box: Box, dx: int, dy: int, width: int, height: int) -> Box:
    """``box`` moved by ``dx, dy`` and clipped to a ``width`` x ``height`` frame, on every side (a box moved
    partly out of the frame keeps the part still in it, at least one pixel)."""
    x = min(max(0, box.x + dx), width - 1)
    y = min(max(0, box.y + dy), height - 1)
    x2 = max(x + 1, min(width, box.x + dx + box.w))
    y2 = max(y + 1, min(height, box.y + dy + box.h))
    return Box(x, y, x2 - x, y2 - y)


def _with(item, **fields):
    """``dataclasses.replace(item, **fields)`` for the frozen records of a reading (``Detection``, ``Number``,
    ``Expression``, ``Candidate``), whose other fields are kept as they are: a copy of its fields, without
    ``__init__``: a carried frame moves about a hundred of them (the whole of ``carried_result`` took 0.18 ms
    against 0.22 ms by ``replace``, 34 digits at 1280x720)."""
    state = getattr(item, "__dict__", None)
    if state is None or hasattr(type(item), "__post_init__"):
        return replace(item, **fields)
    moved = object.__new__(type(item))
    moved.__dict__.update(state)
    moved.__dict__.update(fields)
    return moved


def carried_result(kept: FrameResult, frame: Frame, dx: int, dy: int, received: float | None, source: str,
                   timings: dict[str, float]) -> FrameResult:
    """``kept``, the reading of a frame read whole, for a later ``frame`` of the same still page whose view
    moved by ``dx, dy`` (source pixels) since: every box moved by as much, the rest as read then."""
    latency_ms = (time.monotonic() - (frame.stamp if received is None else received)) * 1e3
    if dx == 0 and dy == 0:  # the records are frozen: the same ones stand for this frame
        return replace(kept, frame=frame, timings=timings, source=source, latency_ms=latency_ms)
    height, width = frame.image.shape[:2]

    def moved(box: Box) -> Box:
        return _moved(box, dx, dy, width, height)

    # A number's digits are the reading's own detections: each is moved once (a carried frame of the realistic
    # page moves 34 digits, not 68).
    done: dict[int, object] = {}

    def digit(d):
        found = done.get(id(d))
        if found is None:
            found = done[id(d)] = _with(d, box=moved(d.box))
        return found

    detections = tuple(digit(d) for d in kept.detections)
    numbers = tuple(_with(n, box=moved(n.box), digits=tuple(digit(d) for d in n.digits)) for n in kept.numbers)
    expressions = None if kept.expressions is None else tuple(_with(e, box=moved(e.box)) for e in kept.expressions)
    candidates = tuple(_with(c, box=moved(c.box)) for c in kept.candidates)
    return replace(kept, frame=frame, detections=detections, numbers=numbers, expressions=expressions,
                   candidates=candidates, timings=timings, source=source, latency_ms=latency_ms)


class Recognizer:
    """Joins the stages and times each one (milliseconds in ``FrameResult.timings``).

    ``smooth=True`` keeps a tracker per source across calls, for video (``Detection.track_id``); it
    starts afresh whenever the frame comes from another still image file (``Frame.file``), so the
    images of a folder never blend. With ``smooth`` on, ``reuse`` (None: off) lets a crop that has not
    changed since the classifier last read it keep that reading, per source and only for frames of video,
    cameras and streams (``Frame.file`` None): see :mod:`livedigits.reading.reuse`. With ``smooth`` on,
    ``view_memory`` lets the segmentation of those frames carry the paper estimate and the ruled lines
    over from the source's earlier frames while the view holds still (:mod:`livedigits.vision.view`).
    With ``smooth``, ``reuse`` and ``view_memory`` on, ``carry`` lets a frame of those sources where the
    page stood still since a frame read whole, and two readings of that view agreed, carry that reading,
    its boxes moved with the view: it is not segmented, classified or read ("Whole frames carried" in
    :mod:`livedigits.vision.view`; ``Batch.carried`` counts them).
    :meth:`process_batch` reads the newest frames of several sources with one classifier call.
    """

    def __init__(
        self,
        classifier: Classifier,
        segment_config: SegmentConfig = DEFAULT_CONFIG,
        reading_config: ReadingConfig = DEFAULT_READING,
        smooth: bool = True,
        keep_debug: bool = False,
        reuse: ReuseConfig | None = DEFAULT_REUSE,
        sign_classifier=None,
        expression_config: ExpressionConfig = DEFAULT_EXPRESSIONS,
        view_memory: bool = True,
        carry: bool = True,
    ):
        self.classifier = classifier
        #: Arithmetic (``ReadingConfig.arithmetic``): the sign classifier, the shipped one unless given.
        self.sign_classifier = None
        if reading_config.arithmetic:
            if sign_classifier is None:
                from livedigits.classify.signs import default_sign_classifier

                sign_classifier = default_sign_classifier()
            self.sign_classifier = sign_classifier
        self.expression_config = expression_config
        self.segment_config = segment_config
        self.reading_config = reading_config
        self.smooth = smooth
        self.keep_debug = keep_debug
        self.reuse = reuse
        self._streams: dict[str, _Stream] = {}
        self.view_memory = view_memory
        #: Whole frames carried where the page stood still (with ``smooth``, ``reuse`` and ``view_memory``).
        self.carry = bool(carry and smooth and reuse is not None and view_memory)
        #: Per video source, what its last frame's segmentation handed on (``Segmentation.view``). Only
        #: the thread segmenting that source's frames reads and writes its entry.
        self._views: dict[str, ViewMemory | None] = {}
        self._warned_budget = False
        self._pool: ThreadPoolExecutor | None = None
        #: Per live source, its phase of the periodic whole frames (:meth:`stagger`); none: no phase.
        self.phases: dict[str, int] = {}

    def process(self, frame: Frame, received: float | None = None, source: str = "") -> FrameResult:
        """Recognise one frame of ``source``. ``latency_ms`` runs from ``received`` (a
        ``time.monotonic()`` stamp) or, by default, from when the source captured the frame."""
        return self.process_batch([(source, frame, received)]).results[0]

    def process_batch(self, items: Sequence[tuple]) -> Batch:
        """Recognise one frame from each of several sources: ``(source, frame, received)`` each, or
        ``(source, frame, received, segmented)`` where ``segmented`` is what :meth:`segment` returned for
        that frame already (the engine's pumps segment frames as they arrive) or None.

        The frames not segmented yet are segmented (in parallel threads when there are several: OpenCV
        releases the GIL), the crops of all of them that no earlier reading stands for go to the
        classifier in one batch, and each source's own tracker smooths its frame. The results come back
        in the order of ``items``.
        """
        if not items:
            return Batch(results=(), classified=0, reused=0)
        sources = [item[0] for item in items]
        frames = [item[1] for item in items]
        given = [item[3] if len(item) > 3 else None for item in items]
        remote = [isinstance(done, Planned) for done in given]
        segmented = self._segmented(sources, frames, [None if far else done for far, done in zip(remote, given)],
                                    skip=remote)
        started = time.perf_counter()
        streams = [None if far else self._stream(source, frame) for far, source, frame in zip(remote, sources, frames)]
        for k, (stream, seg) in enumerate(zip(streams, segmented)):
            if stream is not None and seg[0].kept is not None and not stream.carries(seg[0]):
                segmented[k] = self.segment_kept(frames[k], *seg)
        found = [done if far else seg[0] for far, done, seg in zip(remote, given, segmented)]
        probabilities, classified, reused = self._classify(streams, frames, found)
        classify_ms = (time.perf_counter() - started) * 1e3
        # The frames read elsewhere get their probabilities first, so that their processes read them while
        # this one reads its own.
        waits = {k: given[k].send(probs, classify_ms, item[2])
                 for k, (far, item, probs) in enumerate(zip(remote, items, probabilities)) if far}
        results = tuple(waits[k]() if far else
                        self._read(item[0], stream, item[1], item[2], seg, probs, segment_ms, classify_ms)
                        for k, (far, item, stream, (seg, segment_ms), probs)
                        in enumerate(zip(remote, items, streams, segmented, probabilities)))
        for result in results:
            self.warn_budget(result)
        return Batch(results=results, classified=classified, reused=reused,
                     carried=sum(1 for far, seg in zip(remote, found) if (seg.carried if far else seg.kept is not None)))

    def reset(self, source: str | None = None) -> None:
        """Forget what was tracked and read, for one source or all."""
        if source is None:
            self._streams.clear()
            self._views.clear()
        else:
            self._streams.pop(source, None)
            self._views.pop(source, None)

    def close(self) -> None:
        """Stop the segmentation threads of :meth:`process_batch` (if any were started)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _stream(self, source: str, frame: Frame) -> _Stream:
        """The state kept for ``source``, emptied when the frame comes from another still image file."""
        stream = self._streams.get(source)
        if stream is None:
            stream = self._streams[source] = _Stream(self.reading_config, self.smooth, self.reuse)
        if frame.file != stream.last_file:
            # A new still image (a folder, a slide show) is another page: nothing carries over.
            if stream.tracker is not None:
                stream.tracker.reset()
            stream.reset_reuse()
            stream.last_file = frame.file
        return stream

    # -- stages

    def _segmented(self, sources: list[str], frames: list[Frame], given: list,
                   skip: list[bool] | None = None) -> list[tuple[Segmentation, float] | None]:
        """Each frame's :meth:`segment` result: ``given`` where not None, else made here (several frames
        in parallel threads: OpenCV releases the GIL); None for the frames ``skip`` names."""
        todo = [k for k, done in enumerate(given) if done is None and not (skip and skip[k])]
        out = list(given)
        if len(todo) == 1:
            out[todo[0]] = self.segment(frames[todo[0]], sources[todo[0]])
        elif todo:
            made = self._segment_pool().map(self.segment, [frames[k] for k in todo], [sources[k] for k in todo])
            for k, one in zip(todo, made):
                out[k] = one
        return [(None, 0.0) if one is None else one for one in out]

    def _classify(self, streams: list, frames: list[Frame], found: list) -> tuple[list[np.ndarray], int, int]:
        """Each frame's probabilities for :func:`split_crops` of its segmentation, the crops the classifier
        read (all frames' in one call) and the crops that kept an earlier reading (a video frame's crops
        that its source's :class:`ReuseCache` finds unchanged). A frame :class:`Planned` elsewhere gets the
        probabilities of its ``wanted`` crops only: its own process finishes them (``stream`` None)."""
        plans = [self.plan(stream, frame, seg) if stream is not None else None
                 for stream, frame, seg in zip(streams, frames, found)]
        wanted = [plan.wanted if plan is not None else seg.wanted for plan, seg in zip(plans, found)]
        classified = sum(len(w) for w in wanted)
        if classified:
            fresh = self.classifier.predict(np.concatenate(wanted) if len(wanted) > 1 else wanted[0])
        else:
            fresh = np.zeros((0, self.classifier.num_classes), np.float32)
        probabilities, at, reused = [], 0, 0
        for plan, seg, mine in zip(plans, found, wanted):
            part = fresh[at: at + len(mine)]
            at += len(mine)
            if plan is None:
                reused += seg.reused
            else:
                part = self.filled(plan, part)
                reused += plan.reused
            probabilities.append(part)
        return probabilities, classified, reused

    def plan(self, stream: "_Stream", frame: Frame, found: Segmentation) -> "Plan":
        """What the classifier must read of one frame: its crops, and on video those its source's
        :class:`ReuseCache` does not find unchanged since its last frame (matched here: a source's frames
        must be planned and :meth:`filled` one after the other, in order)."""
        crops = split_crops(found)
        batch = crops_batch(crops)
        # A frame carried whole (``found.kept``) reads no crop and leaves the anchors as they were.
        cache = stream.reuse if frame.file is None and found.kept is None else None
        if cache is None:
            return Plan(batch, None, np.full(len(crops), -1, np.int64), None)
        corners = box_corners(crops)
        return Plan(batch, corners, cache.match(corners, batch), cache)

    def filled(self, plan: "Plan", fresh: np.ndarray) -> np.ndarray:
        """The frame's probabilities for every crop of ``plan``: ``fresh`` (the classifier's, for its
        ``wanted`` crops) and the earlier readings that stand for the others."""
        if plan.cache is None:
            return fresh
        return plan.cache.fill(plan.corners, plan.batch, plan.anchors, fresh, fresh.shape[1])

    @staticmethod
    def _reusing(cache: ReuseCache | None, predict, sure: float | None = None):
        """A function ``(crops, boxes) -> readings`` that stands in for ``predict(crops)`` (a per-crop model:
        the sign model) through ``cache`` (``reuse.read_reusing``), or None where there is no cache (stills,
        ``reuse=None``, ``smooth=False``). Its ``used`` says whether it ran this frame."""
        if cache is None:
            return None

        def read(crops, boxes):
            read.used = True
            return read_reusing(cache, boxes, crops, predict, sure)

        read.used = False
        return read

    def _segment_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:  # one thread per core, made on the first batch of several frames
            self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="livedigits-segment")
        return self._pool

    def stagger(self, sources: Sequence[str]) -> None:
        """Give each of ``sources`` (live sources read together) its own phase of the periodic whole frames
        (:func:`stagger_phases`): with whole frames carried, a page standing still is read whole again at
        least every ``CARRY_EVERY`` frames, and sources that came into view together (copies of one clip,
        cameras over pages lit at once) would otherwise all be read whole on the same frames, a burst the
        cores must take within one frame's time. Fewer than two sources: no phase."""
        self.phases = {source: phase for source, phase in zip(sources, stagger_phases(len(sources)))
                       if phase is not None}

    def segment(self, frame: Frame, source: str = "") -> tuple[Segmentation, float]:
        """The frame's segmentation and its milliseconds: the first step of :meth:`process_batch`, which
        may be done beforehand, in any thread. ``source`` says whose frame it is: every caller (the
        engine's pumps, :meth:`process_batch`) segments one source's frames one after the other, in
        order, so a segmentation that learns from a source's earlier frames may key on it."""
        return segment_frame(frame, source, self.segment_config, signs=self.sign_classifier is not None,
                             views=self._views if self.smooth and self.view_memory else None, cuts=self.reuse,
                             carry=self.carry, phase=self.phases.get(source))

    def segment_kept(self, frame: Frame, found: Segmentation, spent_ms: float = 0.0) -> tuple[Segmentation, float]:
        """A frame the segmentation found still since its still anchor (``found.kept``) whose anchor's reading
        is not carried (not agreed yet, or not held here): segmented now, with the view memory it kept
        (``found.view``), as it would have been; the view memory it makes is not handed on (the next frames
        were segmented with the one before it). ``spent_ms``: the time of the comparison."""
        started = time.perf_counter()
        anchor, dx, dy = found.kept
        if found.view is None:  # the memory did not travel: read on its own, never as another frame's reading
            again = segment(frame.image, self.segment_config, signs=self.sign_classifier is not None,
                            source_scale=frame.scale)
        else:
            again = segment(frame.image, self.segment_config, signs=self.sign_classifier is not None, memory=found.view,
                            remember=True, source_scale=frame.scale, cuts=self.reuse)
        again = replace(again, view=None, still=(anchor, dx, dy), deferred=True)
        return again, spent_ms + (time.perf_counter() - started) * 1e3

    def warn_budget(self, result: FrameResult) -> None:
        """Say once, in this process, that a frame held more pieces of ink than its budget (the records say
        it for every frame, ``dropped``)."""
        if result.dropped and not self._warned_budget:
            self._warned_budget = True
            logging.getLogger(__name__).warning(
                "frame %d held more pieces of ink than its budget (one per %d pixels): the %d smallest were left "
                "out (the record's 'dropped'); texture or noise, or lower SegmentConfig.pixels_per_candidate",
                result.frame.index, self.segment_config.pixels_per_candidate, result.dropped)

    def _read(self, source: str, stream: _Stream, frame: Frame, received: float | None, found: Segmentation,
              probabilities: np.ndarray, segment_ms: float, classify_ms: float) -> FrameResult:
        if found.kept is not None:
            return self._carried(source, stream, frame, received, found, segment_ms, classify_ms)
        result = self._read_whole(source, stream, frame, received, found, probabilities, segment_ms, classify_ms)
        # A still, or a frame read on its own (``smooth`` off), that reads blank is read again fainter. Not a video
        # frame of a live source (it would be read twice on every frame of a view with nothing to read), nor in a
        # segmentation worker, which holds no classifier (``engine.workers``).
        if (frame.file is not None or not self.smooth) and self.classifier is not None \
                and reads_blank(found, result, probabilities, self.reading_config.min_confidence):
            result = self._read_fainter(source, frame, received, found, result)
        if found.still is None:
            stream.kept = None
            return result
        # Read whole, on the view of a still anchor: the reading, moved back onto the anchor's view, is kept
        # for the next frames of the page standing still. Once two such readings agree, they are carried;
        # until then every frame is read whole.
        anchor, dx, dy = found.still
        back = carried_result(result, frame, -dx, -dy, received, source, result.timings)
        stream.agreed = (same_reading(stream.kept[1], back) and stream.steady) if stream.kept is not None and stream.kept[0] == anchor \
            else self._renewal_agrees(stream, found, back)
        stream.kept = (anchor, back)
        return result

    def _read_fainter(self, source: str, frame: Frame, received: float | None, found: Segmentation,
                      result: FrameResult) -> FrameResult:
        """A frame that :func:`reads_blank` (segmented as ``found``, read as ``result``), read again at each of
        ``FAINTER_LEVELS`` (its clear and faint ink levels a step lower, on its own: no view memory, no tracker):
        the reading that :func:`reads_more` than the best so far, or ``result``. Its milliseconds
        (``timings["segment.fainter"]``, a part of ``segment`` as its other stages are) are added to ``segment``."""
        started = time.perf_counter()
        best, pieces = result, len(found.candidates)
        for clear, faint in FAINTER_LEVELS:
            if clear >= self.segment_config.ink_contrast:
                continue  # a configuration already read at this level or lower
            config = replace(self.segment_config, ink_contrast=clear, faint_contrast=faint)
            again = segment(frame.image, config, signs=self.sign_classifier is not None, source_scale=frame.scale)
            crops = split_crops(again)
            probabilities = self.classifier.predict(crops_batch(crops)) if crops else \
                np.zeros((0, self.classifier.num_classes), np.float32)
            read = self._read_whole(source, _Stream(self.reading_config, False, None), frame, received, again,
                                    probabilities, 0.0, 0.0)
            if reads_more(len(read.detections), len(again.candidates), len(best.detections), pieces):
                best, pieces = read, len(again.candidates)
        spent = (time.perf_counter() - started) * 1e3
        timings = dict(result.timings)
        if best is not result:
            timings.update({k: v for k, v in best.timings.items() if k not in ("segment", "classify")})
        timings["segment.fainter"] = spent
        timings["segment"] = timings.get("segment", 0.0) + spent
        return replace(best, timings=timings)

    @staticmethod
    def _renewal_agrees(stream: _Stream, found: Segmentation, back: FrameResult) -> bool:
        """Whether ``found``, read whole as ``back`` on the view of the still anchor before it, reads as the
        last frame read whole on that anchor's view did, moved onto this one's: read whole only because that
        anchor grew too old (``Segmentation.renews``: the page stood still since), or because it changed
        (``Segmentation.changes``: a window of the still test, the view moved far) where its tracked reading
        says what its own crops say (``_Stream.steady``: a digit rewritten, whose track still holds the old
        one, is read whole again). Then these two readings are the two that must agree, and the next frames
        carry this one at once: a page standing still is read whole once every ``CARRY_EVERY`` frames, not
        twice, and a change that leaves the reading as it was (the hand's motion blur on the ink) once.
        What is carried is always this frame's own reading, made afresh."""
        last = found.renews if found.renews is not None else found.changes if stream.steady else None
        if last is None or stream.kept is None or stream.kept[0] != last[0]:
            return False
        _, dx, dy = last
        return same_reading(carried_result(stream.kept[1], back.frame, dx, dy, None, back.source, {}), back)

    def _carried(self, source: str, stream: _Stream, frame: Frame, received: float | None, found: Segmentation,
                 segment_ms: float, classify_ms: float) -> FrameResult:
        """A frame of a page that stood still since its still anchor: the anchor's reading, its boxes moved by
        the view's shift. Every earlier reading the caches keep grows a frame older in span (frames in all),
        not in age (frames read): each is made afresh at least every ``ReuseConfig.max_span`` frames."""
        if not stream.carries(found):
            raise RuntimeError("a frame carried whole reached a reader that does not hold its anchor's reading")
        started = time.perf_counter()
        for cache in (stream.reuse, stream.sign_reuse):
            if cache is not None:
                cache.older()
        _, dx, dy = found.kept
        timings = {"segment": segment_ms, "classify": classify_ms, "read": 0.0}
        last = stream.last_carried
        if last is not None and last[0] is stream.kept and last[1] == (dx, dy, frame.image.shape[:2]):
            # The view lies where it lay on the last frame carried: that frame's records stand for this one's.
            result = carried_result(last[2], frame, 0, 0, received, source, timings)
        else:
            result = carried_result(stream.kept[1], frame, dx, dy, received, source, timings)
            stream.last_carried = (stream.kept, (dx, dy, frame.image.shape[:2]), result)
        timings["read"] = (time.perf_counter() - started) * 1e3
        return result

    def _read_whole(self, source: str, stream: _Stream, frame: Frame, received: float | None, found: Segmentation,
                    probabilities: np.ndarray, segment_ms: float, classify_ms: float) -> FrameResult:
        started = time.perf_counter()
        cut: set[int] = set()
        if found.candidates:
            found, probabilities = second_look(found, probabilities, self.classifier)
            candidates, probabilities, cut, made = decide_splits(found, probabilities, stream.cuts)
            candidates, probabilities = stacked_pieces(candidates, probabilities, frame.image, frame.scale, self.classifier)
            if found.deferred:
                # Segmented with a view memory the next frames do not see (``segment_kept``): its anchors and
                # their decisions stay as they were for them, this frame's added.
                stream.cuts = {**stream.cuts, **made}
            else:
                # The decisions a later frame may carry: this frame's, and those it carried (vision.view.CutAnchors).
                stream.cuts = {**{name: stream.cuts[name] for name in found.carried.values() if name in stream.cuts},
                               **made}
        else:
            candidates = []
            if not found.deferred:
                stream.cuts = {}
        marks = uncut_marks(found, candidates, cut)
        track_ids = None
        if stream.tracker is not None:
            tracked = stream.tracker.update(candidates, probabilities)
            stream.steady = says_the_same(probabilities, tracked.probabilities, self.reading_config.min_confidence)
            probabilities = tracked.probabilities
            # A still image is read once: its pieces of ink have no track to follow.
            track_ids = list(tracked.ids) if frame.file is None else None
        arithmetic = self.sign_classifier is not None
        video = frame.file is None  # stills are read whole: no earlier reading stands for theirs
        read_signs = None
        # With arithmetic, the words and print are read once the signs are known (a + is no letter).
        detections, rejected = decide_all(candidates, probabilities, self.reading_config, track_ids, context=not arithmetic,
                                          fields=found.fields, blots=found.blots, small=found.small)
        expressions = None
        arithmetic_ms = 0.0
        if arithmetic:
            from livedigits.vision.signs import find_signs

            begun = time.perf_counter()
            before = detections
            possible: list = []
            read_signs = self._reusing(stream.sign_reuse if video else None, self.sign_classifier.predict, SIGN_REUSE_SURE)
            # A piece too wide for a digit is also a sign's piece (a long minus, a fraction bar); read cut into
            # digits ("1000" in one stroke of loops), it is those digits, and no sign to end their number.
            digit_ink = digit_marks(found, candidates, cut) if found.wide or found.hats else ()
            pieces = [c for c in found.signs if c.box not in digit_ink] if digit_ink else found.signs
            signs, detections, doubts = find_signs(pieces, candidates, probabilities, detections, self.sign_classifier,
                                                   image=frame.image, image_scale=frame.scale, possible=possible,
                                                   read=read_signs)
            # A sign ends a number, as any mark does, but is no letter of a word.
            sign_boxes = [s.box for s in signs]
            detections, rejected = read_context(candidates, probabilities, detections, rejected, self.reading_config,
                                                signs=sign_boxes, fields=found.fields, blots=found.blots, small=found.small,
                                                possible=[s.box for s in possible])
            taken = set(sign_boxes)
            # Digits find_signs took for no digit and no sign (a form's box side) end numbers as signs do.
            kept = {d.box for d in detections}
            rules = [d.box for d in before if d.box not in kept and d.box not in taken]
            numbers = group_numbers(detections, self.reading_config,
                                    marks=[b for b in rejected if b not in taken] + marks, signs=sign_boxes + rules,
                                    rules=found.rules, combs=found.combs)
            if not signs:
                # No sign, no sum: numbers alone make no expression (``read_expressions``), and a possible
                # sign is never an "=", so the weak digits, the alternatives and both readings are not worked
                # out (117 of the 120 frames of samples/realistic.mp4: about 0.4 ms each).
                expressions = []
            else:
                level = self.expression_config.alternative_level
                # Digits read too unsurely to report that are no sign either (a held-out hand's 1, half a 7) stand
                # in the sums as what they may be: the structure of an equation may decide them (the numbers
                # reported are unchanged).
                weak = weak_digits(candidates, probabilities, doubts, {d.box for d in before},
                                   self.expression_config.weak_digit)
                unsure = {d.box for d in weak}
                doubts = [b for b in doubts if b not in unsure]
                if any(s.char == "=" for s in signs):
                    # One hand writes one digit alike: of two alike read as different digits, one is misread.
                    # Worked out only where a sum is about to be marked wrong (about 1.3 ms a frame otherwise).
                    doubts = _Later(doubts, lambda dets=detections: alike_misreads(dets, candidates))

                def sums(digits: list, extra: list) -> list:
                    # A weak digit read as a possible sign (a bracket) is that sign in the second reading.
                    taken_too = {s.box for s in extra}
                    return group_numbers(digits + [d for d in weak if d.box not in taken_too], self.reading_config,
                                         marks=[b for b in rejected if b not in taken and b not in unsure] + marks,
                                         signs=sign_boxes + [s.box for s in extra] + rules, rules=found.rules,
                                         combs=found.combs)

                # Per digit read: the other digits given a fair chance, with their probabilities, and "?" for a
                # fair chance of no digit (a wrong verdict they would make right is not given).
                # (Those find_signs took for signs too: read back as digits where no sign can stand.)
                reported = {d.box for d in before} | unsure
                probs = np.asarray(probabilities) if len(candidates) else np.zeros((0, 11))
                rows = probs.astype(np.float64).tolist()  # one conversion for the frame, not one per digit
                alternatives = {c.box: digit_alternatives(row, level) for c, row in zip(candidates, rows) if c.box in reported}
                ink = [c.box for c in candidates] + [p.box for p in found.signs] + list(marks)
                # The mask's pieces no piece read meets, worked out only for a sum about to be marked wrong: a
                # digit the segmentation turned away (taken for a form's box on squared paper) is still ink.
                loose = _Later([], lambda seg=found, read=ink: ink_pieces(seg, read))
                # A wrong answer only a confusion of the table would right asks the digit's crop again.
                ask = crop_asker(self.classifier, candidates, level, self.sign_classifier, frame.image, frame.scale)
                expressions = read_expressions(sums(detections, []) if weak else numbers, signs, self.expression_config,
                                               alternatives, doubts, ink, ask, loose)
                possible = [s for s in possible if s.box in kept or s.box in unsure or not s.from_digit]
                # with_possible_signs takes only equations from the second reading: with no "=" among the signs
                # there is none to take, and the reading is not made (on the bundled arithmetic clip, 9 frames
                # in 10 have possible signs and no "=": about 0.9 ms each).
                if possible and any(s.char == "=" for s in signs + possible):
                    # Digits that may be signs (a slash the digit model reads as a sure 1): read once more as the
                    # signs, where the digits make no sum and the signs make an equation.
                    maybe = {s.box for s in possible}
                    # A possible sign the equation decides may be read less surely than the others (see
                    # ExpressionConfig.possible_right_confidence).
                    config = replace(self.expression_config,
                                     sign_right_confidence=self.expression_config.possible_right_confidence)
                    other = read_expressions(sums([d for d in detections if d.box not in maybe], possible), signs + possible,
                                             config, alternatives, doubts, ink, ask, loose)
                    # Which of them the plain reading took for digits: those the digit model read, and weak
                    # digits (an equation holding none of them may be wrong: with_possible_signs).
                    expressions = with_possible_signs(expressions, other, possible,
                                                      {s.box for s in possible if s.from_digit or s.box in unsure})
                expressions = open_in_doubt(expressions)
            expressions = tuple(expressions)
            arithmetic_ms = (time.perf_counter() - begun) * 1e3
        else:
            numbers = group_numbers(detections, self.reading_config, marks=rejected + marks, rules=found.rules,
                                    combs=found.combs)
        if stream.sign_reuse is not None and (read_signs is None or not read_signs.used):
            stream.sign_reuse.reset()  # the model read nothing this frame: no anchor may stand for a later frame's crop
        timings = {"segment": segment_ms, "classify": classify_ms, "read": (time.perf_counter() - started) * 1e3}
        if expressions is not None:
            timings["arithmetic"] = arithmetic_ms
        timings.update({f"segment.{stage}": ms for stage, ms in found.timings.items()})
        return FrameResult(
            frame=frame,
            detections=tuple(detections),
            numbers=tuple(numbers),
            timings=timings,
            latency_ms=(time.monotonic() - (frame.stamp if received is None else received)) * 1e3,
            candidates=tuple(candidates) if self.keep_debug else (),
            mask=found.mask if self.keep_debug else None,
            probabilities=probabilities if self.keep_debug else None,
            candidate_tracks=tuple(track_ids) if self.keep_debug and track_ids is not None else (),
            source=source,
            dropped=found.dropped,
            expressions=expressions,
        )

"""Words are no digits, and printed digits are no handwriting: decided from the line a glyph stands on.

The classifier reads one crop at a time. Its 11th class, "not a digit", was trained on isolated letters,
but in isolation an l, o, S, I or Z *is* a digit: only the glyphs beside it tell. Here every piece of ink
the classifier read (digit, "not a digit" or unsure) is put on its line, and the line cut into *runs*:
glyphs at letter spacing, closer than the space between words or numbers.

* A run is a **word** when it has a word's shape, letters of x-height (an a, c, e, n, o... stands on the
  baseline and reaches 0.5-0.77 of a capital or an ascender; the digits of one hand are all about one
  height) beside taller glyphs with letters enough among them, or when half its glyphs or more are read
  surely as "not a digit", or one surely and others in doubt in a word's heights (the doubts counted at
  their worth: the "not a digit" probabilities summed), or one surely beside a word of its line, in its
  size and on its baseline (a printed label is words beside words). The whole run is a word then, its l's
  and o's with it: "Total" is no number 0 or 1. A form's printed field is one run, a word when it holds
  a sure letter or letters' worth (``field_runs``). Where those rules leave a field or a run with a sure
  letter in doubt, the letter model (``classify.printed.default_letter_model``) weighs its glyphs read as
  digits: an S, L, A, G of a capital name, the s and u of "sum". Glyphs read as 0 or 1 (an O, an l, an I *are*
  those digits to both models) tell nothing either way: a run of them beside sure letters is a word on the line of
  a word ("Old", ``WordConfig.blind_run``), and the run rule's average leaves them out. Signs of arithmetic take no part
  (``read_context(signs=...)``): a + beside a 5 is no letter. Solid blots of ink (the filled letters of
  bold print, ``Segmentation.blots``) stand in their runs, neither letter nor digit.
* A run of digits is **printed** when it looks like type to the printed-digit model
  (``classify.printed``: straight strokes, exact curves, serifs, an upright axis), weighed over the whole
  run so that one plain handwritten 1 does not mark its number: ``Detection.printed``.

Used by ``numbers.decide_all``; every threshold below is judged on the generated pages of ``livedigits
stress`` (rows ``printed``, ``words``, ``table``, ``boxes``), as docs/words.md records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

import numpy as np

from livedigits.types import NOT_A_DIGIT, Box, Candidate, Detection


@dataclass(frozen=True)
class WordConfig:
    """Named knobs of telling words from numbers. Each was chosen on the generated pages of ``livedigits
    stress`` (rows printed, words, table, boxes, mixed; seeds 0-39, confirmed on 1000-1039), weighing the
    letters a value keeps out against the handwritten digits it loses."""

    run_gap: float = 0.45
    """Two glyphs on a line are of one run when the gap between them is at most this many heights of the
    taller: letters of a word and digits of a number stand closer (0.1-0.35), words and numbers apart."""
    line_overlap: float = 0.5
    """... and when they overlap vertically by at least this share of the shorter one's height (an x-height
    letter lies wholly within the height of a capital beside it)."""
    overlap_floor: float = 0.4
    """... and when the later one starts at most half the narrower one's width, or half of this share of the
    shorter one's height, left of the earlier one's end: an i or an l tucked under the bar of a T or the arm of
    a handwritten k (5 px wide, 3 px under the T of "Tim") starts its own run when measured by its width alone, and
    "Tim" was "T" and "im", a 1 beside a letter. On the generated pages (seeds 0-39, replayed) it joined "Tim" and
    "mixed" of ``words`` and lost no digit on any row; 0 measures by the width alone."""
    max_height_ratio: float = 2.0
    """... and when their heights are within this ratio (an ascender beside an x-height letter: about 1.6 in
    type); a digit that runs into a printed rule stands several times taller and joins nothing."""
    ascender_ratio: float = 2.6
    ascender_width: float = 0.8
    ascender_flat: float = 1.2
    """... or within ``ascender_ratio`` when the taller is at most ``ascender_width`` of its height wide and
    the shorter at most ``ascender_flat`` of its height: an ascender rises above its letters, it does not
    widen (h, l, d, k), and an x-height letter is about as wide as tall (a, c, e, n, o: 0.6-1.1), a dash
    is flat. The handwriting fonts of the generated pages write an x-height of 0.4-0.6 of an ascender: at
    2.0, "cold" was two runs, "co" and "ld", each read as a number. On the generated pages (seeds 0-199),
    2.6 left out 62 more letters read as digits (48 of the handwritten words) and lost 3 handwritten
    digits (of 7,250 on the blurred, noisy pages of ``mixed``, a speck of noise beside a digit) and none
    of the tables, forms, printed pages or ledgers; without the widths, a big letter written after a
    number on a ledger ("508R", the R 78 px tall beside 30 px digits) or a dash written low beside a 1
    (the dev photo of a ledger) joined the number and made a word of it."""
    min_space: float = 0.2
    space_ratio: float = 2.5
    """A gap of a run at least ``space_ratio`` times the run's median gap and ``min_space`` heights is a
    space between words, or between a printed word and a printed number ("Room 2024": gaps of 0.05 and one
    of 0.4 heights), set closer than ``run_gap``."""
    x_height: float = 0.78
    """A glyph at most this share of the height of its run's tallest glyph read as a digit, standing on the
    run's baseline, is an x-height letter (a, c, e, o...: 0.5-0.77 of a capital in handwriting and type);
    the digits of one hand are all about one height."""
    baseline: float = 0.15
    """"On the baseline": its bottom within this share of that height of the run's lowest bottom."""
    letter_share: float = 0.3
    min_letters: int = 2
    """A run with x-height letters is a word when at least ``letter_share`` of its glyphs, and at least
    ``min_letters``, are letters (read as "not a digit" or of x-height): one digit misread as "not a
    digit" makes no word of its number."""
    sure_letter: float = 0.9
    sure_share: float = 0.5
    """A run without x-height letters is a word when at least ``sure_share`` of its glyphs, and at least two,
    are read as "not a digit" at least ``sure_letter`` surely (8 of 1,700 handwritten digits were read so on
    the generated pages, 680 of 800 letters). Two, not one: a run of two glyphs, one of them surely no
    digit, was a handwritten digit beside a misread one about as often as a short word (25 against 65)."""
    doubt_share: float = 0.4
    """... or when one glyph is read surely as "not a digit" and at least this share of its glyphs, and
    ``min_letters``, are read as "not a digit" however unsurely, in a word's heights (some glyph of x-height
    beside the run's tallest, whatever each was read as): "done" read as a 0, a 0, a sure letter and one
    in doubt; "1000" on a ledger, its loops read as no digit, stands at one height and stays a number. On
    the generated pages (seeds 0-199 of the rows words, boxes, table, printed, mixed and ledger) this left
    out 134 more letters read as digits for 2 handwritten digits (blurred numbers of ``mixed``); at 0.3,
    4 more digits lost and no more letters; without the heights,
    a 1 beside the two loops of a ledger's "1000" read as no digit went with them (the dev photo of a
    ledger)."""
    doubt_evidence: float = 1.5
    """... the letters "however unsurely" counted at their worth: or when the "not a digit" probabilities
    over the run add up to this and to ``doubt_share`` of its glyphs, in a word's heights ("Anna" read as a
    sure A, then 7, 7 and 9 each with a third of a letter in it). A number with one digit misread surely as
    a letter holds about one letter's worth. On the generated pages (seeds 0-199) this left out 5 more
    letters of ``words`` and lost no digit; at 1.2, 13 more letters of ``words`` and 3 of ``boxes``, but 2
    blurred handwritten digits of ``mixed`` ("997" whose 7 read surely as no digit and whose 9s as no digit
    at 0.2-0.3; an 8 beside a speck read as a letter)."""
    field_share: float = 0.2
    """A form's printed field (``field_runs``) is a word when at least this share of its glyphs, and one, are
    read surely (``sure_letter``) as "not a digit": a field holds one word or one number, and the digits of a
    number in boxes are read as digits (on the generated forms, ``livedigits stress --phenomenon boxes``,
    seeds 0-199: 130 of 214 fields of block capitals, holding 334 of the 577 capitals read as digits, and 1
    of 339 fields of digits; at 0.25, 105 fields of capitals; at 0.8 surely, 4 fields of digits; two glyphs
    at 0.7, 92 fields of capitals). A field's glyphs are not judged by their heights (x-height): each is
    written to its box, not to a line."""
    field_evidence: float = 1.5
    """... or when the classifier's "not a digit" probabilities over its glyphs add up to at least this (the
    letters it expects there, doubts counted at their worth) and to ``field_share`` of its glyphs: block
    capitals written by hand read as "not a digit" at 0.5-0.9 as often as surely (the name fields of the
    scanned form ``real16`` of the dev files: 3 letters' worth in 7 capitals, one of them sure), and a field of
    digits reads next to none as a letter. On the generated pages (seeds 0-199) it found 8 more capitals
    of ``boxes`` and 7 letters of ``mixed``, and lost no digit; at 0.75, 38 more capitals and 2 digits (a 5 and a 4 in combs beside glyphs read as
    "not a digit" at 0.6-0.7)."""
    letter_model: bool = True
    """Consult the letter model (``classify.printed.default_letter_model``, ``train.letters``) on the glyphs of a
    form's field, or of a run holding a sure letter, that the rules above leave in doubt: the capitals the digit
    model reads surely as digits (the S, L, A, G, B of "OSLO", "LAGOS", "GABOR" read 5, 1, 4, 6, 8) and the
    letters of a short word beside its one sure letter (the s and u of "sum" read 5 and 4). A glyph read as a
    digit then counts for ``p + (1 - p) * letter`` (``p`` its "not a digit" probability, ``letter`` the letter
    model's), a glyph read as "not a digit" for ``p`` as before (the letter model knows letters and digits, not
    box sides or broken loops). The digit model's "not a digit" class never learns those letters: every run
    that taught it them lowered MNIST (``models/MODEL_CARD.md``, runs F, G, K, L, M). A page with no field and
    no glyph read as "not a digit" never asks it."""
    field_letters: float = 1.0
    field_letter_share: float = 0.35
    letter_sure: float = 0.8
    field_sure_letters: int = 1
    field_letter_glyphs: int = 4
    """A field of at least ``field_letter_glyphs`` glyphs is a word when their letters' worth, the letter model's
    with it, reaches ``field_letters`` and ``field_letter_share`` of its glyphs, and the letter model reads at
    least ``field_sure_letters`` of its glyphs read as digits as letters at ``letter_sure`` or more. On the
    generated forms (``livedigits stress``, seeds 0-99, each scene's readings recorded once and the rule
    replayed: ``tools/letter_causes.py``) the fields of capitals hold 0.36-0.68 of a letter per glyph, the
    combs of digits 0.0-0.3 (a 2 with a flat base, a 7 with a bar up to 0.45 before Z and z were left out of
    the letter model's letters); at a share of 0.3, 6 digits of combs went. Without one glyph the letter model
    is sure of, two glyphs read as "not a digit" (a box's side and a digit touching its box) made a word of a
    comb of digits (1 digit of ``boxes``, 1 of ``mixed``, seeds 40-99). Short fields: on the generator every
    comb of digits holds 4-8 (and the capitals 2-6), so nothing there measures the rule on a short number; on
    the scanned form ``real17`` of the dev files the CGPA boxes "3.75" and "3.65" (three glyphs, this writer's
    5 an S to the letter model) went as words with fields of 2 glyphs up. From 4 up, the rule leaves out 26 of
    the 99 capitals read as digits on ``boxes`` seeds 0-39 (37 at 2 up), 33 of 147 on seeds 40-99 (50), 18 of 74
    on seeds 1000-1039 (26), and no digit."""
    field_doubt: float = 0.9
    """A field of any size is a word when a glyph of it read as "not a digit", however unsurely, is a letter to the
    letter model at this or more: the L of "ISL", "OSLO", "LOIS" read "not a digit" at 0.45-0.8 beside an I, S, O
    read as digits, the E of "ZOE", the F of "SOFIA" (the letter model at 0.9-1.0). A digit read so is a digit
    touching its box's side or filled to a blot, which the letter model reads as a letter at 0.0-0.76 (the digits of
    the generated combs, seeds 0-199 and 1000-1039) but for a filled 8, a B to it (1.0, one comb of seed 199). Asked
    only of the glyphs read as "not a digit": the glyphs a short field reads as digits (this writer's 5 of the CGPA
    boxes of the dev files' ``real17``, an S to the letter model) are not. On the generated forms (``boxes``) it left
    out 9 of 36 capitals read as digits on seeds 0-39, 11 of 74 on 40-99, 11 of 156 on 100-199 and 6 of 38 on
    1000-1039, and lost one handwritten digit (the 4 beside that 8, seed 199); at 0.8, 0-6 more capitals each and
    the same digit. 0 leaves it out."""
    field_told: bool = True
    """(session 23, issue 19) A field of any size holding a glyph read as 0 or 1 (``trail_blind``) is a word when every
    other glyph of it, whatever the digit model read it as, is a letter to the letter model at ``letter_sure`` (0.8):
    "OSL", "ZO", "OS", "OEO" read 0, 5, 4 / 2, 0 / 0, 5 / 0, 8, 0. An O and an I *are* a 0 and a 1 to both models
    (round 10), so they tell nothing either way, and a field holds one word or one number: it is what its other
    glyphs say, all of them. On the generated forms (``boxes``, seeds 0-99, every field of two glyphs or more holding
    a glyph read as 0 or 1, replayed with ``tools/letter_causes.py``) the least letter-model probability over those
    other glyphs is 0.80-1.0 in 60 of 120 fields of capitals and at most 0.13 in all 129 fields of digits (the
    highest: "01200", "05595", "1089"; the short combs "51", "06", "114" at 0.01 or less); from 0.5 to 0.85 the rule
    takes the same 14 capitals read as digits there (64 -> 50) and no digit. A short field with no 0 or 1 ("3.75",
    the CGPA boxes of the dev files' ``real17``, whose 5 is an S to the letter model) is not asked. False leaves
    it out."""
    run_letters: float = 1.5
    run_heights: int = 3
    run_digit_letters: float = 0.8
    """A run holding a sure letter (``sure_letter``), no word by the rules above, is a word when its letters'
    worth, the letter model's with it, reaches ``run_letters`` and ``doubt_share`` of its glyphs, the glyphs read
    as digits hold ``run_digit_letters`` of a letter each on average, and the run has a word's heights or at
    least ``run_heights`` glyphs ("sum": an s, a u and an m of one height, read 5, 4 and a letter). Runs of two
    need the heights: a "20" whose 0 reads as no digit and whose 2 the letter model reads at 0.8 (a ledger). On
    the generated pages (seeds 0-99) this leaves out 21 letters of ``words``, 4 of ``boxes`` and 3 of ``mixed``
    and loses no digit (on seeds 1000-1039, 3 letters of ``mixed``); without the average over the digits, broken
    0s read as letters beside 0s the letter model doubts (a ledger's "1000", a blurred "300" of ``mixed``) lost
    42 handwritten digits and 9 printed ones for 31 more letters."""
    run_blind: bool = True
    """... the average over the glyphs read as digits taken without those read as 0 or 1 (``trail_blind``), when one
    sure letter of the run is a letter to the letter model too (``blind_letter``): an O, an l, an I *are* those
    digits to both models and tell nothing, and a printed "Class" (its C sure, its l read 1, its a, s, s read 2, 5,
    5 and letters to the letter model at 0.7-0.94) held 0.65 of a letter a glyph read as a digit with its l counted.
    A broken 0 of a ledger's "000" read surely as no digit is no letter to the letter model (0.38): without that
    condition 2 digits of ``ledger`` went (seeds 0-39, replayed)."""
    small_letter: float = 0.45
    small_height: float = 0.9
    """A piece too small to read (``Segmentation.small``) in a run counts as an x-height letter when at least
    ``small_letter`` of the run's tallest glyph read as a digit, at most ``small_height`` of it, on its baseline:
    printed x-height letters are 0.55-0.75 of their capitals and ascenders, up to 0.82-0.9 at the smallest sizes read
    (9 px beside 10-11 px, a pixel's rounding); a decimal point or a comma is about 0.2 of its digits."""
    pair_letter: bool = True
    """A run of two glyphs, one read surely (``sure_letter``) as "not a digit" and the other read as a digit at most
    ``x_height`` of its height on its baseline, is a word: "ok", "no", "Tim" (an o or an i read 0 or 1 beside a tall
    letter). Two digits of one hand stand at one height; a digit beside a misread one is no shorter than it. On the
    generated pages (seeds 0-39, replayed) it left out 5 letters of ``words``, 2 of ``boxes``, 1 of ``mixed`` and
    ``printed``, and lost no digit; on seeds 1000-1039 5 letters of ``words`` for 1 handwritten digit of ``mixed``
    (a 6 beside a wide blot read surely as no digit). The other way round too, the sure letter of the x-height of
    the glyph read as a digit: "the" whose t is read as a + (a sign, no glyph of the run), its h read 6 beside a
    small e; on the generated pages 8 more letters (``words`` 2, ``boxes`` 1 on seeds 0-39; ``words``, ``boxes``,
    ``mixed`` 1 each on 40-99; ``words``, ``boxes`` 1 each on 1000-1039) and no digit lost, ``ledger``, ``none``,
    ``dense``, ``touching`` and ``spacing`` among the rows replayed."""
    shape_letters: float = 0.4
    """A run with no glyph read as "not a digit" but a word's shape (``min_letters`` glyphs of x-height, or more,
    beside taller ones) is a word when the letter model (``letter_model``) reads one of its x-height glyphs as a
    letter at ``letter_sure`` and the run's letters' worth reaches ``run_letters`` and this share of its glyphs:
    "cold" read 6, 0, 1, 2 (its c a letter at 1.0). Not the shape alone: digits cut by the rules of a table stand
    short beside whole ones (round 2: 134 handwritten digits lost for 45 letters). On the generated pages (seeds
    0-39, replayed) it left out 4 letters of ``words`` and lost no digit."""
    trail_letter: float = 0.9
    trail_digits: int = 2
    trail_others: float = 0.3
    trail_blind: tuple = (0, 1)
    trail_height: float = 1.15
    trail_reach: float = 2.0
    """A glyph read as a digit that ends a run of at least ``trail_digits`` more glyphs read as digits is a letter, and
    the number ends before it, when the letter model (``letter_model``) reads it as a letter at ``trail_letter``, none
    of the digits before it above ``trail_others``, and it stands ``trail_height`` times the median height of those
    digits or taller: the capital a ledger writes after its numbers ("83284A", "78368B": the A read 4, the B 8, letters
    to the letter model at 0.91-1.0, written taller than the digits; the digits before them at 0.0-0.3). Not a glyph
    read as one of ``trail_blind`` (0, 1): the letter model never learned O, I, l as letters, and a 0 it calls a letter
    is an open or broken loop (numbers ending in 0 lost 12 digits with it on seeds 0-39). Not by width: a wide last
    digit (a 5, a 3 written broad) lost 7 handwritten digits of ``none``, ``touching``, ``table``, ``words`` and
    ``ledger``. On the generated pages (replayed, ``tools/letter_causes.py``): ``ledger`` 9 -> 6 letters on seeds 0-39,
    16 -> 13 on 40-99, 4 -> 2 on 1000-1039, no handwritten digit lost on any row (``none``, ``touching``,
    ``spacing``, ``column``, ``table``, ``mixed``, ``printed``, ``words``, ``boxes`` too); at 1.1, 3 digits lost (a
    last digit written a little taller). 0 leaves it out."""
    trail_tall: float = 0.5
    """(session 27, issue 19) ... and a glyph standing ``above_line`` (1.4) times the digits before it or taller is a letter
    at this level of the letter model, not ``trail_letter``: the letter model's own majority. A capital written after
    a number and above its digits ("40A" whose A stands 2.5 times its digits, the letter model at 0.52; "7004B", the B
    1.95 times, 0.89; "32A", 1.44 times, 0.87) is read as a digit of it by the digit model, and the height says what
    the letter model only leans to. The digits that end a number so tall are digits run into a rule or a stroke of
    the line below: on the generated pages (the last glyphs of runs of digits at ``trail_height`` or taller, the digits
    before them no letters (``trail_others``), ``tools/letter_causes.py`` recordings of seeds 0-99 of ``words``,
    ``ledger``, ``mixed``, ``none``, ``printed``, ``table``, ``boxes``, ``spacing``, ``dense``, ``touching``, 100-199 of
    nine rows and 200-299 of three) 6 of 114 such digits stand 1.4 times their digits or taller, the letter model at
    0.03 at most on every one; of 25 such letters, 9 stand so, 8 of them at 0.5 or more. Under 1.4 the digits reach 0.55-1.0
    (a 9 of ``mixed`` at 1.39 times, 0.55; a 2 at 1.30, 1.0): there ``trail_letter`` stays. 0 leaves it out."""
    trail_stem: float = 0.75
    """(session 27, issue 19) ... and an 8 standing apart at the digits' height (``trail_twins``, below) is a letter at
    ``trail_tall`` of the letter model when its left side runs straight down (``left_waist`` at most this many pixels of
    its 28x28 crop): a B's stem, where an 8 narrows at its waist. The digit model reads a B as an 8 and the letter model
    doubts half of them (0.40-0.89: nothing in the two models tells them, session 24); the stem does. Of the 8s ending a
    number apart from its digits (``trail_twins``' own candidates, its letter-model level left out) on the generated
    pages (``tools/letter_causes.py`` recordings: seeds 0-99 of ``words``, ``ledger``, ``mixed``, ``boxes``, ``none``,
    ``printed``, ``table``, ``spacing``, ``dense``, ``touching``; 100-199 of nine rows; 200-299 of three), 7 of 1,002
    digits stand in 0.75 px or less (0.5% of them 0.73 px or less, 1% 0.82, the median 2.4), none of them at
    ``trail_tall`` (0.5) to the letter model; of 28 capitals, 17 (median 0.6 px), 7 of them at 0.5-0.89. At 1.0 px, 2
    digits at 0.5 or more (0.62, 0.7: a blurred 8 of ``mixed``, one of ``dense``). 0, or ``trail_tall`` 0, leaves it out."""
    trail_twins: tuple = (8,)
    trail_apart: float = 0.05
    """(session 24, issue 19) ... and a glyph read as one of ``trail_twins`` (8) at the end of such a run is a letter at
    any height, when it stands ``trail_apart`` of the taller's height or more apart from the digit before it (and the
    letter model and the digits before it say so, as above): a hand writes its capital after a number at the digits'
    height, and a B or an R *is* an 8 to the digit model, as an O is a 0. On the generated ``ledger`` pages (seeds
    0-99) 15 of the 19 letters read as digits were capitals read 8 ending a number (13 B, an R, an A), 13 of them at
    0.93-1.13 of the digits' height. The letter model tells them: of the glyphs read as 8 ending a run of digits no
    letter to it (seeds 0-99 of ``ledger``, ``words``, ``none``, ``touching``, ``table``, ``mixed``, ``printed``,
    ``column``, ``spacing``, ``boxes``, replayed), 2 of 310 handwritten digits reach ``trail_letter`` (0.9) and 6 of
    15 letters. Both digits are pieces the segmentation cut out of touching ink (``touching`` seeds 42 and 76), 0-1 px
    from the digit before them (-0.04 to 0.02 of its height); the letters stand 0.07-0.17 of it apart (a hand lifts
    its pen between a number and its letter); from 0.03 to 0.05 the same, at 0.1 two letters fewer. Only 8: the
    letter model reads a number's last 5 (an S to it), 3, 9 or misread 0 as a letter at 0.9 as often as the capitals;
    every digit at any height lost 27 handwritten digits of those rows for the same 4 letters, 8 and 4 (an A read 4)
    4 digits. The number is the digits after the run's last sign: a sum's "35+88" or "40/8" ends in one digit and
    an 8, no ledger's amount (worksheets 12051 and 19030, a blotted MNIST 8, were lost so at the merge). Empty leaves
    it out."""
    confirm_letter: float = 0.9
    """A glyph read as "not a digit" unsurely (under ``sure_letter``) that the letter model (``letter_model``) reads as a
    letter at this or more counts as a sure letter for ``sure_share``: two letters to both models, and half the run, make
    a word ("seen" read 5 and three letters at 0.8, 0.8, 1.0, all of one height). Asked only of runs holding such a
    glyph, no word by the rules before. On the generated pages (replayed): ``words`` 1, 2, 3 and 4 letters fewer on
    seeds 0-39, 40-99, 1000-1039 and 2000-2039, ``boxes`` 2 and 1 (0-39, 2000-2039), ``mixed`` 1 (40-99); no digit
    lost. 0 leaves it out."""
    confirm_digits: bool = True
    """(session 29, issue 19) ... and, in a run (no field) holding a glyph read surely (``sure_letter``) as "not a digit"
    that the letter model reads as a letter at ``blind_letter`` and that stands apart from the glyphs beside it
    (``trail_apart`` of the taller's height: no piece cut out of touching ink), a glyph read as a digit other than 0 or
    1 (``trail_blind``) that the letter model reads as a letter at ``confirm_letter`` counts as a letter too: letters to
    both models for more than half the run (``sure_share``), and two, make a word (``_both_letters``). "sum" read 9, 4
    and a sure m, its u a letter to the letter model at 0.97-1.0 (its s at 0.01-0.44); "fine" cut to a sure letter and
    an 8, both letters at 1.0. The glyphs read as 0 or 1 are counted in the run, never as letters (an O, an l, an I
    *are* those digits to both models, round 10). More than half, not half: a ledger's "994R" (its 4 a letter to the
    letter model at 1.0 in another hand) is two letters to both models in four. Apart: two digits that touched, cut
    into a piece read surely as no digit (a letter to the letter model at 0.95) and overlapping its neighbours, made a
    word of a "562" of ``touching``. Replayed (``tools/letter_causes.py``), seeds 0-99 / 100-199 / 200-299: ``words``
    20 -> 18 / 31 -> 24 / 40 -> 31 letters, ``mixed`` 62 -> 62 / 100 -> 98 / 54 -> 50, no other row changed; no
    handwritten digit lost on 0-199 of any row, one on 200-299 (``mixed`` 205: a blurred "043" whose 4 reads surely as
    no digit and is a letter to the letter model, beside its 0 read 7 and a letter to it at 0.99). The level is round
    9's confirmation, not a new one (docs/words.md, session 29). False, or ``confirm_letter`` 0, leaves it out."""
    blind_run: int = 3
    blind_letter: float = 0.9
    blind_reach: float = float("inf")
    blind_tilt: float = 0.09
    """A run of at most ``blind_run`` glyphs (no field) whose glyphs read as digits are all read as one of
    ``trail_blind`` (0, 1), its other glyphs all read as "not a digit", one of them surely and a letter to the letter
    model at ``blind_letter``, is a word when it stands on the line of a word (``line_height``, ``baseline``) anywhere
    along it (``blind_reach`` heights apart at most), the feet's tolerance growing by ``blind_tilt`` of the distance
    between them (a page photographed a few degrees rolled: tan 5 degrees; at 0.03, 2 letters fewer on seeds 0-39,
    the same from 0.06 to 0.15): a form's printed check words "Old", "No" after a comb, on the line of its label or of
    the other check words. An O, an l, an I *are* 0 and 1 to both models: the run is told by its other glyphs. Not
    alone: a broken 0 of a ledger's "1000" reads surely as no digit and is a letter to the letter model too (1.0), and
    taken alone such runs lost 13 digits of ``ledger`` and 6 of ``mixed`` on seeds 0-39 (replayed) for 11 letters.
    0 leaves it out."""
    pair_x_height: float = 0.82
    """... and (round 11) the glyph read as a digit, read as 0 or 1 (``trail_blind``), at most this share of the sure
    letter's height on its baseline, when the sure letter is a letter to the letter model too (``blind_letter``): "no"
    and the "ne" of "fine", an o read 0 or an n read 1 at 0.79-0.81 of the n or e beside it (two letters of x-height,
    one a little taller, where the x-height rule wants a letter beside an ascender). An o, an l, an i *are* 0 and 1 to
    both models (round 10): the pair is what its sure letter says, when the 0 or 1 stands shorter than it. Not a digit
    of another shape: a ledger's "8R" (a one-digit number, the R written taller after it, 0.78-0.82) is a number and a
    letter. Not the other way round: the sure letter shorter than the digit is a "70" whose broken 0 reads surely as no
    digit, 0.81 of its 7 (round 9). Adjacent handwritten digits on one baseline stand within 0.82 of each other but for
    74 of 7,473 pairs on the generated pages (seeds 0-39 of ten rows; 160 at 0.85). 0 leaves it out."""
    pair_confirmed: bool = True
    """(round 11) ... and a pair whose letter the digit model doubts ("not a digit" at 0.5-0.9) but the letter model reads
    as a letter at ``confirm_letter``, beside a glyph read as 0 or 1 at most ``pair_x_height`` of its height on its
    baseline: "ok" whose k reads 0.67, "no" whose n reads 0.72 (letters at 0.93-1.0 to the letter model). Round 9 took
    such pairs beside a glyph read as any digit and lost a digit of ``grid`` seed 14 (a digit cut by the squares beside
    one read as no digit); with the 0 or 1, on the generated pages (seeds 0-39 of 15 rows, replayed) it left out 2
    letters of ``words`` and lost no digit."""
    x_height_pixels: float = 1.0
    """(round 12) ... and the doubt rule's "word's heights" allow a pixel of rounding: a glyph at most ``x_height`` of the
    tallest and this many pixels more. Small type is a few pixels tall, and its x-height letters come out at 0.78-0.82
    of its ascenders (15 px beside 19, 17 beside 21, 13 beside 16, 18 beside 23: printed labels of ``printed`` and
    ``boxes`` with four letters of five read as "not a digit", two surely, whose l read 1 stayed). Only there: a run
    reaches that rule holding a sure letter and letters for two in five of its glyphs. On the generated pages (seeds
    0-99 of ``words``, ``boxes``, ``ledger``, ``printed`` and 0-39 of seven more rows, replayed) it left out 12 more
    letters (``printed`` 8, ``boxes`` 3, ``words`` 1) and lost no digit; at 2 pixels, 4 letters of ``mixed`` more and
    2 printed digits of ``printed``."""
    short_line: bool = True
    short_reach: float = 8.0
    short_digits: int = 2
    short_height: float = 0.85
    """(round 12) A run of at most ``blind_run`` glyphs, no field, each read as "not a digit", as 0 or 1 (``trail_blind``),
    or as another digit the letter model reads as a letter at ``blind_letter``, one of them at least a letter to both
    models (read surely as "not a digit" and a letter to the letter model at ``blind_letter``, or such a digit), is a
    word when its tallest glyph stands at most ``short_height`` of the height of the digits of its line: at least
    ``short_digits`` glyphs read surely (``sure_letter``) as digits, outside the run, within ``short_reach`` of their
    heights of it, their feet within ``baseline`` of their height of its foot (and ``blind_tilt`` of the distance, a
    page a few degrees rolled). "no", "on" of "Mon", "oo" of "room" written beside numbers: x-height letters, an n
    read 4 or a sure letter beside an o read 0, all shorter than the digits the same hand wrote on the line; a printed
    label's "Old" or "ol" beside a form's handwritten digits. The digits of one hand stand at one height: a ledger's
    "1000" whose broken 0 reads surely as no digit and is a letter to the letter model (round 10) stands as tall as
    the numbers on its line (0.98-1.33 of their median height on the generated pages, seeds 0-99 of ``words``,
    ``boxes``, ``ledger`` and ``printed`` and 0-39 of seven more rows), the short words 0.38-0.90 (printed 0.38-0.74,
    handwritten 0.70-0.90). Replayed there, no digit was lost at any height from 0.78 to 0.95; at 0.78 (``x_height``)
    3 letters of ``words`` fewer, from 0.82 to 0.86 the same, at 0.9 4 more ("no" at 0.86 and 0.90 of its line): 0.85
    keeps clear of the numbers. One digit is no line (its height varies with what it is): at least two. Within 8
    heights: at 4, 3 letters fewer; at 20 the same. It left out 14 letters there (``words`` 6, ``boxes`` 5, ``printed``
    3) and 7 of 73 on seeds 1000-1039 (``printed`` 4, ``words`` 2, ``boxes`` 1), and lost no digit. False leaves it out."""
    tight_gap: float = 0.15
    tight_run: int = 2
    tight_height: float = 0.95
    """(round 16) ``_short_word``'s run of two glyphs is a word up to ``tight_height`` (not ``short_height``) of the digits
    of its line, or on a line with none, when they stand close (the gap between them at most ``tight_gap`` of the
    taller), one is read as 0 (an o) and the other as another digit the letter model reads as a letter at
    ``blind_letter``. A hand joins or nearly joins the letters of a word and spaces the digits of a number: "no" read 4,
    0 at 0.86-0.90 of the digits of its line or beside none, its gap 0.07-0.11 of its taller on the generated ``words``
    pages (seeds 0-99), the gaps of the numbers of two to four glyphs there 0.08 at least and 0.27 at the median. The
    spacing keeps the rule off a "40" spaced as digits; the height keeps it off a ledger's "40" or "00" written close,
    a space from the number before it, whose 4 or 0 the letter model takes for a letter (numbers stand 0.98-1.33 of
    their line, round 12; without the height, 8 handwritten digits of ``ledger`` seeds 1000-1099 lost). Only two glyphs
    and only beside a 0: runs of three set as close are a ledger's "800", "140" (11 digits of ``ledger`` seeds 0-99,
    replayed), and a 1 tucked against a 4 ("41" of ``mixed`` seed 62) is a number's. 0 leaves it out."""
    half_pair: float = 0.55
    """(round 13) Two glyphs of a run, both read as digits, are a word when one, read as 0 or 1 (``trail_blind``), stands at
    most this share of the other's height on its baseline and the other is read as another digit: an x-height o, e, i
    beside an ascender or a capital ("hot" whose t is a sign, read 6, 0; "Fri" read 8, 1). The digits of one hand stand
    at one height: a 0 or 1 half as tall as the digit beside it is no digit of its number. Not when the taller is read
    as 0 or 1 too (a broken 6 whose loop reads 0 beside a 0, ``mixed`` seed 21), nor when the shorter is another digit (a
    table's 7 cut by its rule). On the generated pages (replayed: seeds 0-99 of ``words``, ``boxes``, ``ledger``,
    ``printed``, 0-39 of seven more rows, 1000-1039 of nine) it left out 4, 4 and 2 letters of ``words`` on seeds 0-39,
    40-99 and 1000-1039 and lost no digit; 0.6 the same. 0 leaves it out."""
    half_run: int = 4
    """(round 14) ``half_pair`` in a run of three to this many glyphs, all read as digits: a word when two of them or
    more, each read as 0 or 1, stand at most ``half_pair`` of its tallest on its baseline, the tallest read as another
    digit ("cold" read 0, 0, 1, 9: its c and o 0.45-0.52 of its d). One such glyph is not enough in a longer run: a
    ledger's number holds a 1 or a 0 cut short by its rule (replayed on seeds 0-99 of ``words``, ``boxes``, ``ledger``,
    ``printed``, ``table``, ``mixed``: with one, 2 handwritten digits of ``ledger`` lost; with two, none, and 3 letters
    of ``words`` left out; runs of up to 6 lose 4 digits of ``ledger``). 0 or 2 leaves it out."""
    above_line: float = 1.4
    above_digits: float = 1 / 3
    """(round 15) A run of two glyphs or more, no field, is a word when a glyph of it stands above the digits of its line
    (``_line_digits``: the glyphs read surely as digits beside it) by this share of their height or more, narrow as an
    ascender (``ascender_width``), and another stands on the run's baseline at x-height of it (``x_height``) and no
    taller than those digits, and at most ``above_digits`` of its glyphs are read as digits between ``x_height`` and
    ``above_line`` of the line's digits (a word's glyphs are x-height letters below the digits' height, or ascenders and
    capitals above it; a number's are at the digits' height): "cold" read 6, 1, 2, its l and d 1.6-1.8 times the line's
    digits; "the" whose h reads 6 at 1.46 of them beside a small e. The digit model reads the glyphs, and the letter
    model knows no l; the heights against the line say it. On the generated pages (seeds 0-99 of ``words``, ``boxes``,
    ``ledger``, ``mixed``, replayed) it left out 5 letters of ``words`` and 1 of ``mixed`` and lost no digit; at 1.3, 4
    digits of ``mixed``; with no limit on the x-height glyph's height against the line, 5 digits of ``mixed``
    (digits run into a rule, tall, beside whole ones); with half the run at the digits' height, 3 digits of ``mixed``.
    0 leaves it out."""
    ascender_join: float = 4.0
    """(round 15) A glyph standing alone beside a word found on its line, at most ``run_gap`` of the taller's height
    apart, its foot on the word's baseline (``baseline``), narrow if it is the taller (``ascender_width``), and more than
    ``max_height_ratio`` but at most this many times the height of the word's end glyph beside it, is of that word: an
    ascender or a capital taller than ``ascender_ratio`` times its x-height letters ("done" whose d is 2.6 times or more
    its o: the runs "d" and "one", the d read 2), or an x-height letter beside a tall capital ("Tim"). Runs keep their
    height limits (a capital written tall after a ledger's number joined the number and made a word of it, round 11);
    only a word already found takes such a glyph. On the generated pages (seeds 0-99, replayed) it left out 3 letters
    of ``words`` and 2 specks of ``mixed`` and lost no digit; 6 the same. 0 leaves it out."""
    unread_pages: bool = True
    """(round 15) A page with no glyph read as "not a digit" is judged for words too when two of its glyphs stand side by
    side on one baseline at letter spacing (``run_gap``), the shorter an x-height letter of the taller (``x_height``,
    within ``ascender_ratio``: ``_word_heights``, one product of the page's boxes); otherwise only for a letter written
    after a number (``trail_letter``), as before. A word whose every letter the digit model reads as a digit, on a page
    with no other letter, was never judged: "cold" read 0, 0, 1, 9 (its c and o 0.5 of its d, ``half_run``). On the
    generated pages (replayed, seeds 0-99 and 100-199 of ``words``, ``boxes``, ``ledger``, ``mixed``; end to end, 0-199
    of ``none``, ``spacing``, ``dense``, 0-99 of ``table``, ``printed``, ``touching``) it left out 3 and 4 letters of
    ``words`` and changed nothing else. False leaves it out."""
    word_pieces: bool = True
    pieces_digits: int = 3
    """(session 26) A short run (at most ``blind_run`` glyphs, no field, no word by the rules before) is a word's when its
    glyphs read as digits stand at x-height (``x_height``) of a letter of the word, on its baseline (``baseline``), and at
    most ``short_height`` of the median height of the digits of their line, measured on ``pieces_digits`` digits at
    least (``_line_digits``, the glyphs of the words found left out; a line with fewer tells nothing, and takes nothing).
    The letter: a glyph of a word found beside the run at letter spacing (``run_gap`` of its height), or a glyph read as
    "not a digit" that the letter model reads as a letter at ``confirm_letter``, beside the run so or in it. The runs'
    height limits (``max_height_ratio``, ``ascender_ratio`` for the narrow) cut an x-height letter from a capital or a
    wide letter more than twice its height: "Tim" whose i, read 1, stands between a T and an m; the "on" of "Mon" read 0,
    4 beside an M 3.4 times as tall; and "room" read 0, 0 and a sure m (its r a sign) is such a run whole. A hand's
    digits stand at its line's digits' height, x-height letters below it (round 12: the numbers' runs 0.98-1.33 of their
    line); the letter's height says the glyphs are of its x-height, the line's that they are no number written smaller.
    Three digits, not round 12's two: the median of two is their mean, and one capital read surely as 8 on a dense page
    lifted it (``mixed`` seed 136: a "57" beside the huge B of "Ben", its line's "digits" another such B and a 6, lost);
    the median of three stands among the digits whatever one misread glyph measures. On the generated pages (seeds 0-99
    of ten rows, replayed): 5 letters of ``words`` left out, no digit lost; with two digits, 1 letter of ``words`` and 1
    printed one of ``mixed`` more, and on seeds 100-199 the "57" above; taking lines with no digits too, a handwritten
    digit of ``mixed`` seeds 0-99 lost. False leaves it out."""
    blind_print: bool = True
    """(session 28, issue 19) A run of at most ``blind_run`` glyphs (no field) whose glyphs read as digits are all read
    as 0 or 1 (``trail_blind``) and whose other glyphs are all read as "not a digit", one of them surely
    (``sure_letter``), is a word, wherever it stands, when that sure letter is type to the printed-digit model
    (``classify.printed``) at ``PRINTED_LONE`` (its level for one glyph) and its 0s and 1s are no printed digits by
    ``printed_digits``' own levels (their mean under ``PRINTED_LEVEL``, one alone under ``PRINTED_LONE``): a form's
    printed check word "Old", its O and l read 0 and 1, its d read surely as no digit and type at 0.98-1.0. A glyph read
    surely as no digit that looks like type is a printed character that is no digit, and the 0s and 1s beside it that
    are no printed digits are its O's and l's: those *are* 0 and 1 to both models (round 10), and the letter model
    doubts that d (0.42-0.89, under ``blind_letter``), so round 10 asked for the line of a word, on which the check
    words do not stand. Over every run of that shape on the generated pages (``tools/letter_causes.py`` recordings,
    seeds 0-199 of ``boxes``, ``words``, ``mixed``, 0-99 of ``ledger``, ``printed``, ``table``, ``none``, ``ruled``,
    ``grid``, ``thin``, ``touching``, ``dense``) the sure letter reaches 0.9 in 40 of 184 runs of printed words, in none
    of 161 runs of handwritten letters (at most 0.64) nor of 48 runs holding handwritten digits (at most 0.13; a "10"
    whose broken 0 reads surely as no digit is no type), and in 4 of 5 runs of printed digits: three printed "10"s whose
    0 reads surely as no digit, their 1s type too (0.99-1.0), where the 0s and 1s of the printed words hold 0.49 at most
    as a mean of two (an O 0.96 beside a bare l 0.01) and 0.10 alone (without that second test, 3 printed digits of
    ``printed`` went). No new level: both are the printed-digit model's own. False leaves it out."""
    line_height: float = 1.3
    line_gap: float = 2.0
    """A run holding a glyph read surely (``sure_letter``) as "not a digit", and letters' worth (the "not a
    digit" probabilities summed) for ``sure_share`` of its glyphs, that stands beside a word on its line is
    a word too: at most ``line_gap`` heights of the taller apart, heights within ``line_height``, feet within
    ``baseline`` of the taller's height. A printed label is words beside words, set in one size on one line
    ("Date of Birth": "of" is an o read as 0 and a sure f, no word alone, as a number with one digit misread
    may be). On the generated pages (seeds 0-199) it left out 7 letters of ``table``, 4 of ``printed``, 1 of
    ``mixed`` and ``boxes``, and 1 handwritten digit of ``mixed`` (an "83" whose 8 read surely as no digit, written on the
    line of a word); 4 printed digits of ``printed`` went with their label (printed numbers that read
    mostly as "not a digit"). Without the feet and the heights (the runs' overlap and ``max_height_ratio``
    instead), 8 handwritten digits of ``mixed`` went, numbers written after a word; at 1.0 or 3.0 heights
    apart, the same within a letter or two."""


DEFAULT_WORDS = WordConfig()

#: A glyph narrower than this share of its height is a hairline (a rule or a box's side, 2-5 px wide and
#: 40-60 tall on the generated forms), not a letter: a handwritten 1 or a printed l is 0.2-0.3.
HAIRLINE = 0.12


def runs(boxes: list[Box], config: WordConfig = DEFAULT_WORDS, split: bool = True) -> list[list[int]]:
    """Indexes of ``boxes`` in runs: glyphs of one line at letter spacing, each run left to right.

    Each glyph joins the run whose last glyph is the nearest one to its left that it continues (vertical
    overlap, gap); a glyph continuing none starts a run. ``split``: cut runs at their spaces too."""
    order = sorted(range(len(boxes)), key=lambda k: boxes[k].x)
    out: list[list[int]] = []
    ends: list[tuple] = []  # per run, its last glyph: x2, y, y2, w, h (plain numbers: this runs per frame)
    active: list[int] = []  # the runs a glyph further right may still continue
    gap_share, ratio, overlap_share = config.run_gap, config.max_height_ratio, config.line_overlap
    ascender, ascender_w = max(ratio, config.ascender_ratio), config.ascender_width
    reach = gap_share * ascender  # farthest a continuation can be, in its run's last glyph's heights
    for k in order:
        b = boxes[k]
        bx, by, bw, bh = b.x, b.y, b.w, b.h
        by2 = by + bh
        # Glyphs come left to right: a run whose end is out of reach now is out of reach for good (this
        # keeps a dense page's 400 glyphs from being compared with every run of the page).
        active = [r for r in active if bx - ends[r][0] <= reach * ends[r][4]]
        best, best_gap = -1, 0.0
        for r in active:
            ax2, ay, ay2, aw, ah = ends[r]
            taller, shorter = (ah, bh) if ah >= bh else (bh, ah)
            gap = bx - ax2
            if gap > gap_share * taller or gap < -0.5 * max(aw if aw < bw else bw, config.overlap_floor * shorter):
                continue
            if taller > ratio * shorter:
                tall_w, short_w = (aw, bw) if ah >= bh else (bw, aw)
                if taller > ascender * shorter or tall_w > ascender_w * taller or short_w > config.ascender_flat * shorter:
                    continue
            if (ay2 if ay2 < by2 else by2) - (ay if ay > by else by) < overlap_share * shorter:
                continue
            if best < 0 or gap < best_gap:
                best, best_gap = r, gap
        if best < 0:
            out.append([k])
            ends.append((bx + bw, by, by2, bw, bh))
            active.append(len(out) - 1)
        else:
            out[best].append(k)
            ends[best] = (bx + bw, by, by2, bw, bh)
    return [part for run in out for part in _split_spaces(run, boxes, config)] if split else out


def _split_spaces(run: list[int], boxes: list[Box], config: WordConfig) -> list[list[int]]:
    """A run cut at its spaces: gaps wide against the run's own (``space_ratio`` times its median gap, and
    at least ``min_space`` heights). Type sets letters close and words a space apart ("Room 2024": gaps of
    0.05 and one of 0.4 heights), within ``run_gap``."""
    if len(run) < 3:
        return [run]
    tall = max(boxes[k].h for k in run)
    gaps = np.array([(boxes[b].x - boxes[a].x2) / tall for a, b in zip(run, run[1:])])
    cut = gaps >= max(config.min_space, config.space_ratio * max(float(np.median(gaps)), 0.0))
    parts, start = [], 0
    for k in np.flatnonzero(cut):
        parts.append(run[start: k + 1])
        start = k + 1
    parts.append(run[start:])
    return parts


def _x_height(boxes: list[Box], config: WordConfig, digits: np.ndarray, letters: np.ndarray | None = None,
              slack: float = 0.0) -> np.ndarray:
    """Which glyphs of one run are x-height letters: short beside the run's tallest glyph read as a digit
    (``digits``), on the run's baseline. Measured by a digit, not by any glyph: a piece read as "not a digit"
    may be a digit run into a rule or two touching, taller than any letter. ``letters``: the glyphs read as
    "not a digit", which may hang below the line (descenders)."""
    # A hairline (a printed box's side, a table's rule cut short) is no letter to measure the others by.
    shaped = [k for k, b in enumerate(boxes) if b.w >= HAIRLINE * b.h] or list(range(len(boxes)))
    measure = [k for k in shaped if digits[k]] or shaped
    tall = max(boxes[k].h for k in measure)
    # The baseline is the lowest foot but a descender's: a glyph read as "not a digit" reaching below the run's
    # median foot by more than ``baseline`` (the g of "Colleges", the p and y of print) hangs below the line,
    # and measured from its foot no letter stood on it. A digit hangs below no line: the 5 of a ledger's
    # "508R", written lower than its 0, is the line the 0 stands above.
    short = [b.h <= config.x_height * tall + slack for b in boxes]
    if not any(short):
        return np.zeros(len(boxes), bool)
    feet = [b.y2 for b in boxes]
    bottom = max(feet)
    if letters is not None and letters.any():
        middle, reach = float(np.median(feet)), config.baseline * tall
        bottom = max(f for f, hangs in zip(feet, letters) if not (hangs and f - middle > reach))
    return np.array([s and bottom - f <= config.baseline * tall for s, f in zip(short, feet)])


def word_glyphs(boxes: list[Box], probabilities: np.ndarray, min_confidence: float,
                config: WordConfig = DEFAULT_WORDS, fields: Iterable[Box] = (), neutral: Iterable[int] = (),
                crops=None, letter_model=None, small: Iterable[int] = (), printed_model=None,
                maybe_signs: Iterable[int] = ()) -> set[int]:
    """Indexes of the glyphs (``boxes``, with the classifier's (N, C) ``probabilities``) that are letters of
    a word, every glyph of the word: those read as digits too. ``fields``: a form's printed fields
    (``Segmentation.fields``): the glyphs in one are one run, however far apart (``field_runs``).
    ``neutral``: indexes of glyphs that stand in the line but are judged neither letter nor digit (solid
    blots, ``Segmentation.blots``): they hold a run together, and are never in the answer. ``crops``: the
    glyphs' (N, 28, 28) crops, for the letter model (``WordConfig.letter_model``; ``letter_model``: that
    model, the shipped one by default), consulted only on the fields and runs left in doubt. ``small``: those of
    ``neutral`` that are pieces too small to read (``Segmentation.small``): on the baseline beside taller glyphs,
    at least ``small_letter`` of the tallest's height, they are x-height letters of the run (a small printed
    label's o, e, a below the size that is read). ``printed_model``: the printed-digit model (the shipped one by default),
    asked only of a short run's sure letter beside glyphs read as 0 or 1 (``WordConfig.blind_print``).
    ``maybe_signs``: indexes of glyphs that may be signs of arithmetic (``vision.signs.find_signs(possible=...)``):
    none of them is the sure letter that lets digits count as letters (``WordConfig.confirm_digits``)."""
    probabilities = np.asarray(probabilities)
    if len(boxes) < 2 or probabilities.ndim != 2 or probabilities.shape[1] <= NOT_A_DIGIT:
        return set()  # a 10-class model says nothing of letters
    best = probabilities.argmax(axis=1)
    neutral = set(neutral)
    letter = best == NOT_A_DIGIT
    if neutral:
        letter[list(neutral)] = False
    worth = _LetterWorth(probabilities, crops, letter_model, config, printed_model)
    fields = list(fields)
    shapes = False
    if not letter.any() and not (fields and worth.able()):
        # A page of numbers is judged only for a letter written after a number ("5924A", "708B" on a ledger), read as
        # a digit of it, unless two glyphs side by side on one baseline stand as an x-height letter beside a taller one
        # (a word whose every letter the digit model reads as a digit: "cold" read 0, 0, 1, 9).
        shapes = config.unread_pages and worth.able() and _word_heights(boxes, neutral, config)
        if not shapes:
            return _trailing_letters(boxes, letter, neutral, fields, worth, config) if config.trail_letter else set()
    sure = letter & (probabilities[:, NOT_A_DIGIT] >= config.sure_letter)
    out: set[int] = set()
    held = field_runs(boxes, fields)
    # A form's field is judged by the letter model even when no glyph of the page reads as "not a digit".
    lines = runs(boxes, config) if letter.any() or shapes else []
    # A letter written after a number, read as a digit of it (the runs found once for both).
    trailing = _trailing_letters(boxes, letter, neutral, fields, worth, config, lines) if config.trail_letter else set()
    groups = with_fields(lines, held)
    too_small = set(small)  # (``small`` is the x-height mask of each run below)
    tiny = [0] * len(groups)  # per run, its small pieces that are x-height letters
    if too_small:
        for number, run in enumerate(groups):
            pieces = [k for k in run if k in too_small]
            if pieces and len(pieces) < len(run):
                tiny[number] = _small_letters(boxes, run, pieces, letter, neutral, config)
    if neutral:
        # A blot holds its run together (the filled a of a bold "Total": its l would stand alone without
        # it) but is judged neither letter nor digit.
        groups = [[k for k in run if k not in neutral] for run in groups]
        held = [[k for k in run if k not in neutral] for run in held]
    found = [False] * len(groups)
    line: dict = {"probabilities": probabilities}  # the line's digits, for ``_short_word``, worked out once when asked
    pending: list[int] = []  # runs with a sure letter that are no word by themselves
    far: set[int] = set()  # of those, the runs of letters and glyphs read as 0 or 1 ("Old"): beside a word anywhere on its line
    first_field = len(groups) - len(held)
    for number, run in enumerate(groups):
        # Height alone is no word (the digits of a number vary, one may run into a rule): at least one
        # glyph must read as a letter.
        unread = False
        if not run or ((len(run) < 2 or not (letter[run].any() or (number >= first_field and worth.able())))
                       and not tiny[number]):
            if not (config.shape_letters and len(run) >= 2 and number < first_field and worth.able()):
                continue
            unread = True  # no glyph read as a letter: a word only by its shape and the letter model
        small = _x_height([boxes[k] for k in run], config, ~letter[run], letter[run])
        if unread:
            # A word's shape (x-height glyphs beside taller ones) whose letters the digit model reads all as digits
            # ("cold" read 6, 0, 1, 2): a word when the letter model is sure of one of its x-height glyphs and the
            # run holds letters' worth.
            if ((config.min_letters <= int(small.sum()) < len(run)
                    and worth.sure([k for k, x in zip(run, small) if x]) >= 1
                    and worth.of(run) >= max(config.run_letters, config.shape_letters * len(run)))
                    or _short_word(boxes, run, best, letter, sure, neutral, worth, line, config)
                    or _half_pair(boxes, run, best, config)
                    or _above_line(boxes, run, best, letter, neutral, line, config)):
                out.update(run)
                found[number] = True
            continue
        count = int((letter[run] | small).sum()) + tiny[number]
        # A word's shape: x-height letters beside taller ones, with letters enough among its glyphs (the
        # pieces too small to read, of x-height, among them).
        shaped = (small.any() or tiny[number] > 0) and count >= max(config.min_letters,
                                                                     config.letter_share * (len(run) + tiny[number]))
        # Or glyphs read surely as letters, half the run or more. Not any letter: what the classifier is
        # unsure of (a digit touching its printed box, a blurred digit) reads as "not a digit" at 0.5-0.9.
        surely = int(sure[run].sum())
        read = surely >= max(2, config.sure_share * len(run))
        if not read and config.confirm_letter and number < first_field and worth.able():
            # Glyphs the digit model doubts ("not a digit" at 0.5-0.9) that the letter model is sure of count as sure.
            doubted = [k for k in run if letter[k] and not sure[k]]
            if doubted:
                confirmed = surely + sum(worth.raw_of(k) >= config.confirm_letter for k in doubted)
                read = confirmed >= max(2, config.sure_share * len(run))
        if not read and surely and config.confirm_digits and config.confirm_letter and number < first_field and worth.able():
            read = _both_letters(boxes, run, best, letter, sure, worth, config, frozenset(maybe_signs))
        evidence = float(probabilities[run, NOT_A_DIGIT].sum())
        if not read and surely and (int(letter[run].sum()) >= max(config.min_letters, config.doubt_share * len(run))
                                    or evidence >= max(config.doubt_evidence, config.doubt_share * len(run))):
            # Or one sure letter, other letters beside it, and a word's heights: some glyph of x-height
            # beside the tallest, whatever it was read as ("done" read 0, 0 and two letters; the "1000" of a
            # ledger, its loops read as no digit, stands at one height).
            read = bool(_x_height([boxes[k] for k in run], config, np.ones(len(run), bool), letter[run],
                                  config.x_height_pixels).any())
        if number >= first_field:
            # A printed field: one word or one number. Each glyph is written to its box, not to a line, so
            # heights say nothing here (block capitals have no x-height; on 200 generated forms the shape
            # would find 6 more fields of capitals, and 2 of digits).
            shaped = False
            least = config.field_share * len(run)
            read |= surely >= max(1, least)
            # The letters the classifier expects in the field, its doubts counted at their worth.
            read |= evidence >= max(config.field_evidence, least)
            if not read and config.field_doubt and worth.able():
                # A glyph read unsurely as "not a digit" that the letter model reads surely as a letter (the L of "ISL").
                doubts = [k for k in run if letter[k]]
                read = bool(doubts) and worth.most(doubts) >= config.field_doubt
            if not read and config.field_told and worth.able():
                read = _told_field(run, best, letter, worth, config)
            if not read and len(run) >= config.field_letter_glyphs and worth.able():
                # The letters the letter model sees among the glyphs read as digits (the S, L, Z of a name), one
                # of them surely.
                read = (worth.of(run) >= max(config.field_letters, config.field_letter_share * len(run))
                        and worth.sure([k for k in run if not letter[k]]) >= config.field_sure_letters)
        elif not (shaped or read) and surely and worth.able():
            # One sure letter, and letters beside it that the digit model reads as digits ("sum", "seen").
            digits = [k for k in run if not letter[k]]
            told = [k for k in digits if int(best[k]) not in config.trail_blind]
            if config.run_blind and len(told) < len(digits) and any(
                    sure[k] and worth.raw_of(k) >= config.blind_letter for k in run):
                # Those read as 0 or 1 (an O, an l) tell nothing: the average is of the others ("Class": C, l, a, s, s),
                # when its sure letter is a letter to the letter model too (a broken 0 of a "1000" is no letter to it).
                digits = told
            if (digits and worth.of(run) >= max(config.run_letters, config.doubt_share * len(run))
                    and worth.of(digits) >= config.run_digit_letters * len(digits)):
                read = len(run) >= config.run_heights or bool(_x_height([boxes[k] for k in run], config, np.ones(len(run), bool), letter[run]).any())
        if not (shaped or read) and config.pair_letter and len(run) == 2 and surely == 1 and number < first_field:
            # Two glyphs: a sure letter and one read as a digit, one of the other's x-height on its baseline ("ok":
            # an o read 0 beside a tall k; "the" whose t is read as a +: an h read 6 beside a small e). Two digits of
            # one hand stand at one height.
            pair = [boxes[k] for k in run]
            read = bool(_x_height(pair, config, letter[run]).any() or _x_height(pair, config, ~letter[run]).any())
            if not read and config.pair_x_height > config.x_height:
                # Two letters of x-height, the one read as 0 or 1 a little shorter ("no": the o 0.8 of the n), when the
                # sure letter is a letter to the letter model too.
                read = _low_pair(boxes, run, best, letter, worth, config.blind_letter, config)
        elif (not (shaped or read) and config.pair_confirmed and len(run) == 2 and not surely and int(letter[run].sum()) == 1
              and number < first_field and config.pair_x_height > config.x_height):
            read = _low_pair(boxes, run, best, letter, worth, config.confirm_letter, config)
        if not (shaped or read) and number < first_field and _above_line(boxes, run, best, letter, neutral, line, config):
            read = True
        if not (shaped or read) and number < first_field:
            # A short run of letters and glyphs read as 0 or 1, shorter than the digits of its line ("no").
            read = _short_word(boxes, run, best, letter, sure, neutral, worth, line, config)
        if not (shaped or read) and surely and number < first_field and config.blind_print:
            # A short run of a printed letter and glyphs read as 0 or 1 ("Old": its d type to the printed-digit model).
            read = _printed_blind(run, best, letter, sure, worth, config)
        if shaped or read:
            out.update(run)
            found[number] = True
        elif surely and number < first_field and evidence >= config.sure_share * len(run):
            pending.append(number)
        elif surely and number < first_field and config.blind_run and len(run) <= config.blind_run and worth.able():
            # The glyphs read as 0 or 1 (an O, an l, an I *are* those digits) say nothing: the run is what its other
            # glyphs are, all read as no digit, one surely and a letter to the letter model too ("Old", "No"). A
            # broken 0 of a "1000" reads so as well: such a run is a word only on the line of a word, in its size.
            told = [k for k in run if letter[k] or int(best[k]) not in config.trail_blind]
            if (len(told) < len(run) and all(letter[k] for k in told)
                    and sum(sure[k] and worth.raw_of(k) >= config.blind_letter for k in told) >= 1):
                pending.append(number)
                far.add(number)
    if pending and config.line_gap > 0 and any(found[:first_field]):
        out.update(k for number in _beside_words(boxes, groups[:first_field], found, pending, config, far) for k in groups[number])
    if config.ascender_join and any(found[:first_field]):
        out.update(_word_ends(boxes, groups[:first_field], found, config))
    if config.word_pieces:
        out.update(_word_pieces(boxes, groups[:first_field], found, out, best, letter, neutral, worth, line, config))
    return out | trailing


def _told_field(run: list[int], best: np.ndarray, letter: np.ndarray, worth: "_LetterWorth", config: WordConfig) -> bool:
    """A field holding a glyph read as 0 or 1 (``trail_blind``: an O, an I) whose every other glyph is a letter to the
    letter model at ``letter_sure`` ("OSL", "ZO", "OEO" read 0, 5, 4 / 2, 0 / 0, 8, 0): the 0s and 1s tell nothing,
    and the field is what its other glyphs are (``WordConfig.field_told``)."""
    told = [k for k in run if letter[k] or int(best[k]) not in config.trail_blind]
    if not told or len(told) == len(run):
        return False
    return min(worth.raw_of(k) for k in told) >= config.letter_sure


def _apart(boxes: list[Box], run: list[int], k: int, apart: float) -> bool:
    """Whether glyph ``k`` of the run ``run`` (left to right) stands at least ``apart`` of the taller's height clear of
    the glyphs beside it: no piece cut out of ink it touched (``WordConfig.trail_apart``)."""
    at = run.index(k)
    for j in (run[at - 1] if at else None, run[at + 1] if at + 1 < len(run) else None):
        if j is None:
            continue
        left, right = (boxes[j], boxes[k]) if boxes[j].x < boxes[k].x else (boxes[k], boxes[j])
        if right.x - left.x2 < apart * max(left.h, right.h):
            return False
    return True


def _both_letters(boxes: list[Box], run: list[int], best: np.ndarray, letter: np.ndarray, sure: np.ndarray, worth: "_LetterWorth",
                  config: WordConfig, maybe_signs: frozenset = frozenset()) -> bool:
    """Whether the run ``run``, holding a glyph read surely as "not a digit" that the letter model reads as a letter at
    ``blind_letter`` and that may be no sign of arithmetic (``maybe_signs``: a + the sign classifier doubted, read
    "t" by the letter model at 0.955, made "5+3" of a worksheet's "(5+3)x2=16" a word), holds letters to the letter model (at ``confirm_letter``) for ``sure_share`` of its glyphs and two,
    counting its glyphs read as "not a digit" and those read as digits other than 0 or 1 (``trail_blind``), one of those
    at least (``WordConfig.confirm_digits``: "sum" read 9, 4 and a sure m)."""
    if not any(sure[k] and k not in maybe_signs and _apart(boxes, run, k, config.trail_apart) and worth.raw_of(k) >= config.blind_letter
               for k in run):
        return False
    digits = [k for k in run if not letter[k] and int(best[k]) not in config.trail_blind]
    if not digits:
        return False
    worth.ask(run)
    both = sum(worth.raw_of(k) >= config.confirm_letter for k in digits)
    if not both:
        return False
    both += sum(worth.raw_of(k) >= config.confirm_letter for k in run if letter[k])
    return both >= 2 and both > config.sure_share * len(run)


def _printed_blind(run: list[int], best: np.ndarray, letter: np.ndarray, sure: np.ndarray, worth: "_LetterWorth",
                   config: WordConfig) -> bool:
    """Whether the run ``run`` is a printed word of letters and glyphs read as 0 or 1 (``WordConfig.blind_print``): at
    most ``blind_run`` glyphs, those read as digits all 0 or 1 (``trail_blind``), the others all read as "not a digit",
    one of them surely (``sure``) and type to the printed-digit model at ``PRINTED_LONE``. Cheapest first: the
    readings, and only then the printed-digit model, on the run's sure letters."""
    if not 2 <= len(run) <= config.blind_run or not worth.able():
        return False
    told = [k for k in run if letter[k] or int(best[k]) not in config.trail_blind]
    if len(told) == len(run) or not all(letter[k] for k in told):
        return False
    if not any(worth.printed_of(k) >= PRINTED_LONE for k in told if sure[k]):
        return False
    # Its 0s and 1s are no printed digits by ``printed_digits``' own levels: a printed "10" whose 0 reads surely as no
    # digit is type, its 1 too (0.99-1.0); the O and the bare l of a printed word are not (a run of them 0.3-0.5).
    digits = [k for k in run if not letter[k]]
    return float(np.mean([worth.printed_of(k) for k in digits])) < (PRINTED_LEVEL if len(digits) > 1 else PRINTED_LONE)


def _word_ends(boxes: list[Box], groups: list[list[int]], found: list[bool], config: WordConfig) -> set[int]:
    """The glyphs standing alone (a run of one) that are of a word found beside them (``WordConfig.ascender_join``): at
    its first or last glyph, at most ``run_gap`` of the taller's height apart, on its baseline, of a height more than
    ``max_height_ratio`` and at most ``ascender_join`` times the other's (the taller narrow as an ascender): the d of
    "done" 2.6 times its o, cut from "one" by the runs' height limits."""
    ends = [k for number, run in enumerate(groups) if found[number] and run for k in (run[0], run[-1])]
    out = set()
    for number, run in enumerate(groups):
        if found[number] or len(run) != 1:
            continue
        b = boxes[run[0]]
        for e in ends:
            a = boxes[e]
            taller, shorter = (b, a) if b.h >= a.h else (a, b)
            if (config.max_height_ratio * shorter.h < taller.h <= config.ascender_join * shorter.h
                    and taller.w <= config.ascender_width * taller.h
                    and max(b.x - a.x2, a.x - b.x2) <= config.run_gap * taller.h
                    and abs(a.y2 - b.y2) <= config.baseline * taller.h):
                out.add(run[0])
                break
    return out


def _word_pieces(boxes: list[Box], groups: list[list[int]], found: list[bool], words: set[int], best: np.ndarray,
                 letter: np.ndarray, neutral: set, worth: "_LetterWorth", line: dict, config: WordConfig) -> set[int]:
    """The glyphs of the short runs whose glyphs read as digits are x-height letters of a word (``WordConfig.word_pieces``):
    a run of at most ``blind_run`` glyphs, no word itself, whose glyphs read as digits stand on the baseline of a glyph
    of a word found (``words``) beside it at letter spacing (``run_gap``), or of a letter to both models in it or beside
    it, at most ``x_height`` of its height, and at most ``short_height`` of the digits of their line (``pieces_digits``
    of them at least, no glyph of a word found among them). Cheapest first: the runs' heights and neighbours, then the
    line, and only then the letter model, once, on the glyphs read as "not a digit" still in question."""
    pieces = [run for number, run in enumerate(groups) if not found[number] and run and len(run) <= config.blind_run
              and not all(letter[k] for k in run) and not any(k in words for k in run)]
    if not pieces:
        return set()
    seed = letter.copy()
    seed[list(words)] = True
    if neutral:
        seed[list(neutral)] = False
    seeds = np.flatnonzero(seed)  # the letters a run may be of: few on a page
    if not len(seeds):
        return set()
    x, x2, y2, h = (np.array([getattr(boxes[k], a) for k in seeds], np.float32) for a in ("x", "x2", "y2", "h"))
    # Per run (a row each): the tallest glyph read as a digit, the feet of those glyphs, the run's span.
    digits = [[k for k in run if not letter[k]] for run in pieces]
    low = np.array([max(boxes[k].h for k in glyphs) for glyphs in digits], np.float32)
    feet = [[boxes[k].y2 for k in glyphs] for glyphs in digits]
    first, last = np.array([min(f) for f in feet], np.float32), np.array([max(f) for f in feet], np.float32)
    left = np.array([min(boxes[k].x for k in run) for run in pieces], np.float32)
    right = np.array([max(boxes[k].x2 for k in run) for run in pieces], np.float32)
    gap = np.maximum(x[None, :] - right[:, None], left[:, None] - x2[None, :])
    inside = np.zeros(gap.shape, bool)  # a letter of the run itself
    column = {int(k): number for number, k in enumerate(seeds)}
    for number, run in enumerate(pieces):
        for k in run:
            if k in column:
                inside[number, column[k]] = True
    # A glyph of a word beside the run, or a letter in it, taller than the run's glyphs read as digits by an x-height,
    # their feet on its baseline.
    tolerance = config.baseline * h[None, :]
    near = ((low[:, None] <= config.x_height * h[None, :]) & (np.abs(y2[None, :] - first[:, None]) <= tolerance)
            & (np.abs(y2[None, :] - last[:, None]) <= tolerance) & (inside | ((gap >= 0) & (gap <= config.run_gap * h[None, :]))))
    measure = replace(config, short_digits=config.pieces_digits)
    wanted = []  # (run, the letters it stands at x-height of), below its line's digits
    out: set[int] = set()
    for number in np.flatnonzero(near.any(axis=1)):
        run = pieces[number]
        # The glyphs of the words found are no digits of the line (a capital read surely as 8).
        height = _line_digits(boxes, run, best, letter, neutral, line, measure, words)
        if height is not None and low[number] <= config.short_height * height:
            wanted.append((run, [int(k) for k in seeds[near[number]]]))
    ask = list(dict.fromkeys(k for _, letters in wanted for k in letters if k not in words))
    if ask and worth.able():
        worth.ask(ask)  # the letter model once, on every glyph still in question
    for run, letters in wanted:
        if any(k in words or (worth.able() and worth.raw_of(k) >= config.confirm_letter) for k in letters):
            out.update(run)
    return out


def _word_heights(boxes: list[Box], neutral: set, config: WordConfig) -> bool:
    """Whether two glyphs of the page (blots, signs and small pieces left out) stand side by side on one baseline, at
    letter spacing (``run_gap``), the shorter an x-height letter of the taller (at most ``x_height`` of it, within
    ``ascender_ratio``): the cheap test of a page of numbers before its runs are found (one product of its boxes)."""
    keep = [k for k in range(len(boxes)) if k not in neutral]
    if len(keep) < 2:
        return False
    x, y, x2, y2 = (np.array([getattr(boxes[k], a) for k in keep], np.float32) for a in ("x", "y", "x2", "y2"))
    h = y2 - y
    tall = np.maximum(h[:, None], h[None, :])
    short = np.minimum(h[:, None], h[None, :])
    gap = x[None, :] - x2[:, None]  # from the end of the glyph of each row to the start of that of each column
    near = ((gap >= -0.5 * short) & (gap <= config.run_gap * tall) & (np.abs(y2[:, None] - y2[None, :]) <= config.baseline * tall)
            & (short <= config.x_height * tall) & (tall <= config.ascender_ratio * short))
    return bool(near.any())


def _half_pair(boxes: list[Box], run: list[int], best: np.ndarray, config: WordConfig) -> bool:
    """Whether the glyphs ``run``, all read as digits, are a word by their heights (``WordConfig.half_pair``): of two, one
    read as 0 or 1 (``trail_blind``) at most ``half_pair`` of the other's height on its baseline, the other read as
    another digit: "hot" (its t a sign) read 6, 0; "Ben" whose n is lost, read 8, 1. Of three up to ``half_run``, two
    such 0s or 1s beside the tallest: "cold" read 0, 0, 1, 9."""
    if not config.half_pair or not 2 <= len(run) <= max(2, config.half_run):
        return False
    tall = max(run, key=lambda k: boxes[k].h)
    b = boxes[tall]
    if int(best[tall]) in config.trail_blind:
        return False
    short = [k for k in run if k != tall and int(best[k]) in config.trail_blind and boxes[k].h <= config.half_pair * b.h
             and abs(boxes[k].y2 - b.y2) <= config.baseline * b.h]
    # Two glyphs: the one beside the tallest; three or more (``half_run``): two of them at least.
    return len(short) >= (1 if len(run) == 2 else 2)


def _low_pair(boxes: list[Box], run: list[int], best: np.ndarray, letter: np.ndarray, worth: "_LetterWorth",
              level: float, config: WordConfig) -> bool:
    """Whether the two-glyph run ``run`` (one glyph a letter, by ``letter``) is a word by its heights (round 11):
    its other glyph read as 0 or 1 (``trail_blind``) and at most ``pair_x_height`` of the letter's height on its
    baseline, the letter a letter to the letter model at ``level`` or more."""
    sure_k, other = (run[0], run[1]) if letter[run[0]] else (run[1], run[0])
    return (int(best[other]) in config.trail_blind and worth.able() and worth.raw_of(sure_k) >= level
            and bool(_x_height([boxes[k] for k in run], replace(config, x_height=config.pair_x_height), letter[run]).any()))


def _short_word(boxes: list[Box], run: list[int], best: np.ndarray, letter: np.ndarray, sure: np.ndarray, neutral: set,
                worth: "_LetterWorth", line: dict, config: WordConfig) -> bool:
    """Whether the run ``run`` is a short word shorter than the digits of its line (``WordConfig.short_line``): at most
    ``blind_run`` glyphs, each a letter, a 0 or 1, or a digit the letter model reads as a letter, one of them a letter
    to both models, its tallest at most ``short_height`` of the median height of the glyphs read surely as digits on its
    line, or two glyphs set close, a 0 beside such a digit (``WordConfig.tight_gap``), up to ``tight_height`` of it or on
    a line with no digits. Cheapest first: the readings, the heights, and only then the letter model. ``line``: a dict
    this fills once a call with the page's arrays."""
    if not config.short_line or not 2 <= len(run) <= config.blind_run or not worth.able():
        return False
    told = [k for k in run if not letter[k] and int(best[k]) not in config.trail_blind]
    if len(told) == len(run):
        return False  # a glyph read as 0 or 1, or as "not a digit", at least: all other digits is a number's evidence
    top = max(boxes[k].h for k in run)
    # Two glyphs set close, a 0 (an o) and a digit the letter model reads as a letter (asked below): a word a little below
    # the line's digits, or on a line with none. Not a run of 0s, 1s and letters alone: a ledger's "10" whose broken 0
    # reads surely as no digit stands as close.
    tight = (config.tight_gap and told and len(run) <= config.tight_run and any(int(best[k]) == 0 for k in run)
             and all(boxes[b].x - boxes[a].x2 <= config.tight_gap * top for a, b in zip(run, run[1:])))
    height = _line_digits(boxes, run, best, letter, neutral, line, config)
    if height is None:
        if not tight:
            return False
    elif top > (config.tight_height if tight else config.short_height) * height:
        return False
    if any(worth.raw_of(k) < config.blind_letter for k in told):
        return False
    return bool(told) or any(sure[k] and worth.raw_of(k) >= config.blind_letter for k in run if letter[k])


def _above_line(boxes: list[Box], run: list[int], best: np.ndarray, letter: np.ndarray, neutral: set, line: dict,
                config: WordConfig) -> bool:
    """Whether the run ``run`` is a word by its heights against the digits of its line (``WordConfig.above_line``): an
    ascender above those digits, an x-height letter no taller than them on its baseline, and few glyphs read as digits
    at their height. Cheapest first: the run's own heights, then the line's."""
    if not config.above_line or len(run) < 2:
        return False
    top = max(boxes[k].h for k in run)
    foot = max(boxes[k].y2 for k in run)
    # An x-height letter of the run's tallest, on its baseline (the line's height says whether it is an ascender).
    if not any(boxes[k].h <= config.x_height * top and foot - boxes[k].y2 <= config.baseline * top for k in run):
        return False
    height = _line_digits(boxes, run, best, letter, neutral, line, config)
    if height is None or top < config.above_line * height:
        return False
    if not any(boxes[k].h >= config.above_line * height and boxes[k].w <= config.ascender_width * boxes[k].h for k in run):
        return False
    if not any(boxes[k].h <= min(config.x_height * top, height) and foot - boxes[k].y2 <= config.baseline * top for k in run):
        return False
    level = [k for k in run if not letter[k] and config.x_height * height <= boxes[k].h < config.above_line * height]
    return len(level) <= config.above_digits * len(run)


def _line_digits(boxes: list[Box], run: list[int], best: np.ndarray, letter: np.ndarray, neutral: set, line: dict,
                 config: WordConfig, words: Iterable[int] = ()) -> float | None:
    """The median height of the digits of the line of ``run``: at least ``short_digits`` glyphs read surely
    (``sure_letter``) as digits outside it, within ``short_reach`` of their heights of it, their feet within ``baseline``
    of their height of its foot (and ``blind_tilt`` of the distance, a page a few degrees rolled); None when fewer stand
    there. ``line``: a dict this fills once a call with the page's arrays. ``words``: glyphs that are no digits of the
    line whatever they were read as (those of the words found)."""
    if "h" not in line:
        probabilities = line["probabilities"]
        digit = ~letter & (probabilities[np.arange(len(boxes)), best] >= config.sure_letter)
        if neutral:
            digit[list(neutral)] = False
        line["digit"] = digit
        for name in ("x", "x2", "y2", "h"):
            line[name] = np.array([getattr(b, name) for b in boxes], np.float32)
    foot = max(boxes[k].y2 for k in run)
    left, right = min(boxes[k].x for k in run), max(boxes[k].x2 for k in run)
    x, x2, y2, h, digit = line["x"], line["x2"], line["y2"], line["h"], line["digit"].copy()
    digit[run] = False
    digit[list(words)] = False
    gap = np.maximum(np.maximum(x - right, left - x2), 0.0)
    beside = digit & (gap <= config.short_reach * h) & (np.abs(y2 - foot) <= config.baseline * h + config.blind_tilt * gap)
    if int(beside.sum()) < config.short_digits:
        return None
    return float(np.median(h[beside]))


def _trailing_letters(boxes: list[Box], letter: np.ndarray, neutral: set, fields: list[Box], worth: "_LetterWorth",
                      config: WordConfig, found: list[list[int]] | None = None) -> set[int]:
    """The glyphs read as digits that end a run of digits, stand taller than its digits (or, read as 8, apart from
    them at any height: ``WordConfig.trail_twins``) and are letters to the letter model (``WordConfig.trail_letter``),
    the digits before them no letters to it: the A, B, R a ledger writes after its numbers ("5924A", "708B", read 4
    and 8). The number stays; only its last glyph goes (letters end
    numbers). Cheapest first: the runs (``found``, when the caller has them), their heights, and only then the
    letter model, on the few glyphs left."""
    if not worth.able() or len(boxes) < config.trail_digits + 1:
        return set()
    if found is None:
        # A page of numbers: the runs (a loop in Python) only when some glyph read as a digit stands taller than a
        # glyph read as a digit just left of it on its line (the last glyph of such a run stands so).
        digit = np.array([not letter[k] and k not in neutral for k in range(len(boxes))])
        x, y, x2, y2 = (np.array([getattr(b, a) for b in boxes], np.float32) for a in ("x", "y", "x2", "y2"))
        h = y2 - y
        gap = x[:, None] - x2[None, :]  # from the end of the glyph of each column to the start of that of each row
        # A glyph read as 8 (``trail_twins``) need not stand taller, only apart (``trail_apart``).
        twin = np.isin(worth.probabilities.argmax(axis=1), config.trail_twins)
        near = ((gap <= config.trail_reach * h[:, None]) & (x2[None, :] <= x[:, None] + 0.5 * (x2 - x)[:, None])
                & (np.minimum(y2[:, None], y2[None, :]) > np.maximum(y[:, None], y[None, :]))
                & ((h[:, None] >= config.trail_height * h[None, :]) | (twin[:, None] & (gap >= config.trail_apart * h[:, None])))
                & digit[:, None] & digit[None, :])
        tall = [k for k in np.flatnonzero(near.any(axis=1)) if int(worth.probabilities[k].argmax()) not in config.trail_blind]
        if not tall or worth.most(tall) < min(config.trail_letter, config.trail_tall or 1.0):
            return set()
    held = None
    out = set()
    for whole in runs(boxes, config) if found is None else found:
        run = [k for k in whole if k not in neutral]
        if len(run) < config.trail_digits + 1 or any(letter[k] for k in run):
            continue
        last, before = run[-1], run[:-1]
        read, b, a = int(worth.probabilities[last].argmax()), boxes[last], boxes[before[-1]]
        if read in config.trail_blind:
            continue
        digits_height = max(a.h, float(np.median([boxes[k].h for k in before])))
        level = config.trail_letter
        if config.trail_tall and b.h >= config.above_line * digits_height:
            level = min(level, config.trail_tall)  # a capital above its number's digits: the letter model's majority
        if b.h < config.trail_height * digits_height:
            if not (read in config.trail_twins and b.x - a.x2 >= config.trail_apart * max(a.h, b.h)):
                continue  # neither taller than the digits nor an 8 standing apart from them
            if config.trail_stem and config.trail_tall and left_waist(worth.crops[last]) <= config.trail_stem:
                level = min(level, config.trail_tall)  # a B's straight stem, where an 8 narrows at its waist
            # An 8 at the digits' height ends the number it is written after: its digits are those after the
            # run's last sign ("35+88": one digit, 8; a sum's 8 is no ledger's B).
            end = whole.index(last)
            signs = [i for i, k in enumerate(whole[:end]) if k in neutral]
            if signs and end - signs[-1] - 1 < config.trail_digits:
                continue
        if held is None:
            held = {k for group in field_runs(boxes, fields) for k in group}  # a comb's digits are judged as its field
        if any(k in held for k in run) or worth.most([last]) < level:
            continue
        if worth.most(before) <= config.trail_others:
            out.add(last)
    return out


#: The ink level of a 28x28 crop (0 paper, 1 ink) at which ``left_waist`` finds a row's left edge.
EDGE_LEVEL = 0.5


def left_waist(crop: np.ndarray) -> float:
    """How far (in pixels of the 28x28 crop, sub-pixel) the left edge of the glyph's ink stands in at mid-height (35-65% of
    its rows) from the mean of its leftmost reach in the upper and the lower half: an 8 narrows at its waist (the
    median of the generated pages' 8s 2.4 px), a B's stem runs straight down (their Bs' median 0.6 px), as do the left
    sides of a D, an E, a P (``WordConfig.trail_stem``). The crop is deskewed, so a slanted stem stands upright. ``inf``
    for a crop of fewer than 6 rows of ink, or with none across its middle."""
    ink = np.asarray(crop) > EDGE_LEVEL
    rows = np.flatnonzero(ink.any(axis=1))
    if len(rows) < 6:
        return float("inf")
    edges = np.full(rows[-1] - rows[0] + 1, np.nan)
    for i, r in enumerate(range(rows[0], rows[-1] + 1)):
        cols = np.flatnonzero(ink[r])
        if len(cols):
            j = int(cols[0])
            before = float(crop[r, j - 1]) if j > 0 else 0.0
            edges[i] = j - 1 + (EDGE_LEVEL - before) / max(float(crop[r, j]) - before, 1e-6)
    n = len(edges)
    upper, lower, middle = edges[: n // 2], edges[n // 2:], edges[int(n * 0.35): int(n * 0.65) + 1]
    if np.isnan(upper).all() or np.isnan(lower).all() or np.isnan(middle).all():
        return float("inf")  # a gap across the glyph's middle: no side to measure
    return float(np.nanmax(middle) - (np.nanmin(upper) + np.nanmin(lower)) / 2)


def _small_letters(boxes: list[Box], run: list[int], pieces: list[int], letter: np.ndarray, neutral: set,
                   config: WordConfig) -> int:
    """How many of ``pieces`` (pieces too small to read, of the run ``run``) are x-height letters: on the run's
    baseline, at most ``small_height`` and at least ``small_letter`` of its tallest glyph read as a digit."""
    glyphs = [k for k in run if k not in neutral]
    members = glyphs + pieces
    digits = np.array([k in glyphs and not letter[k] for k in members])
    if not digits.any():
        return 0
    shaped = _x_height([boxes[k] for k in members], replace(config, x_height=config.small_height), digits, letter[members])
    tall = max(boxes[k].h for k, d in zip(members, digits) if d)
    return sum(1 for k, s in zip(members[len(glyphs):], shaped[len(glyphs):]) if s and boxes[k].h >= config.small_letter * tall)


class _LetterWorth:
    """Per glyph, how likely it is a letter: read as "not a digit", that probability; read as a digit, also the
    letter model's probability (``p + (1 - p) * letter``), worked out once a frame and only for the glyphs
    asked for (a run or field in doubt)."""

    def __init__(self, probabilities: np.ndarray, crops, model, config: WordConfig, printed=None) -> None:
        self.probabilities, self.crops, self.model, self.config = probabilities, crops, model, config
        self.printed = printed  # the printed-digit model, loaded when first asked
        self.known: dict[int, float] = {}
        self.letter: dict[int, float] = {}
        self.raw: dict[int, float] = {}
        self.typed: dict[int, float] = {}

    def able(self) -> bool:
        if self.crops is None or not self.config.letter_model:
            return False
        if self.model is None:
            from livedigits.classify.printed import default_letter_model

            self.model = default_letter_model() or False
        return bool(self.model)

    def of(self, run: list[int]) -> float:
        """The run's letters' worth."""
        self.ask(run)
        return sum(self.known[k] for k in run)

    def sure(self, run: list[int]) -> int:
        """How many of the glyphs ``run`` the letter model reads as letters surely (``letter_sure``)."""
        self.ask(run)
        return sum(self.letter[k] >= self.config.letter_sure for k in run)

    def most(self, run: list[int]) -> float:
        """The letter model's highest probability over the glyphs ``run``, whatever the digit model read them as."""
        self.ask(run)
        return max((self.raw[k] for k in run), default=0.0)

    def printed_of(self, k: int) -> float:
        """The printed-digit model's probability that glyph ``k`` is type (``classify.printed``; 0 with none shipped),
        worked out once a frame."""
        if k not in self.typed:
            if self.printed is None:
                from livedigits.classify.printed import default_printed_model

                self.printed = default_printed_model() or False
            self.typed[k] = float(self.printed.probability(np.asarray([self.crops[k]]))[0]) if self.printed else 0.0
        return self.typed[k]

    def raw_of(self, k: int) -> float:
        self.ask([k])
        return self.raw[k]

    def ask(self, run: list[int]) -> None:
        """The letter model on the glyphs of ``run`` not asked yet, in one batch (a caller that will want many asks
        them at once)."""
        ask = [k for k in run if k not in self.known]
        if ask:
            letter = self.model.probability(np.asarray([self.crops[k] for k in ask]))
            for k, q in zip(ask, letter):
                p = float(self.probabilities[k, NOT_A_DIGIT])
                # A glyph read as "not a digit" (a letter, a box's side, a broken loop) counts as read: the letter
                # model knows letters and digits only.
                self.raw[k] = float(q)
                self.letter[k] = 0.0 if self.probabilities[k].argmax() == NOT_A_DIGIT else float(q)
                self.known[k] = p + (1.0 - p) * self.letter[k]


def _beside_words(boxes: list[Box], groups: list[list[int]], found: list[bool], pending: list[int],
                  config: WordConfig, far: set[int] = frozenset()) -> list[int]:
    """Of the runs ``pending`` (each holding a glyph read surely as "not a digit", no word by itself), those
    standing beside a word on their line (``found``), a word found so passing it on to the next run: at most
    ``line_gap`` heights of the taller run apart, their heights within ``line_height`` and their feet within
    ``baseline`` of the taller's height (one size, one line). A printed label is words beside words; a number
    written after a word is no word unless half of it reads as letters."""
    spans = {}
    for number, run in enumerate(groups):
        if found[number] or number in pending:
            xs = [boxes[k] for k in run]
            spans[number] = (min(b.x for b in xs), min(b.y for b in xs), max(b.x2 for b in xs), max(b.y2 for b in xs))
    words = [n for n in spans if found[n]]
    left = list(pending)
    added: list[int] = []
    while left and words:
        joined = []
        for n in left:
            x, y, x2, y2 = spans[n]
            h = y2 - y
            for w in words:
                wx, wy, wx2, wy2 = spans[w]
                wh = wy2 - wy
                taller, shorter = max(h, wh), min(h, wh)
                gap = max(wx - x2, x - wx2)
                if taller > config.line_height * shorter or abs(y2 - wy2) > config.baseline * taller + (
                        config.blind_tilt * max(gap, 0) if n in far else 0.0):
                    continue
                if gap <= (config.blind_reach if n in far else config.line_gap) * taller:
                    joined.append(n)
                    break
        if not joined:
            break
        added += joined
        words = joined
        left = [n for n in left if n not in joined]
    return added


# --------------------------------------------------------------------------- a form's printed fields
# A form's boxes say which glyphs belong together: block capitals spaced out along a name's box, or one to
# a box of a comb, stand too far apart for a run, and one at a time an O, I, S or Z is a digit.


#: (session 24, issue 19) A glyph whose centre lies in a printed field is of it when at most this many times the
#: field's height: written in the box, it may reach out past one of its rules (a block capital whose top or foot
#: crosses the rule of a name's box), and a glyph reaching past one rule only, its centre inside, is at most twice
#: the box's height (its centre is half its height from its end inside the box). A glyph taller than that crosses
#: both rules: it is written across the box, not in it (a digit over a small box), and is not held. On the
#: generated forms (``boxes``, seeds 0-99) 9 capitals read as digits stood in their field 1.02-1.25 of its height
#: tall, left out of it by the field's height alone, and none of the 1,073 handwritten digits whose centre lay in
#: a field was taller than it. Replayed there: 50 letters read as digits at 1.0, 42 from 1.3 up to no limit at all,
#: no digit lost at any; 2.0, the bound of the principle, lies in the flat part.
FIELD_REACH = 2.0


def field_runs(boxes: list[Box], fields: Iterable[Box]) -> list[list[int]]:
    """Per printed field (``vision.fields``), the indexes of the glyphs in it, left to right: those whose
    centre lies inside and that are at most ``FIELD_REACH`` times as tall as it (a capital whose foot crosses its
    box's rule is held by it; a glyph crossing a small box from above its top to below its foot is not)."""
    out = []
    for field in fields:
        inside = [k for k, b in enumerate(boxes) if b.h <= FIELD_REACH * field.h and field.x <= b.x + b.w / 2 <= field.x2
                  and field.y <= b.y + b.h / 2 <= field.y2]
        if len(inside) >= 2:
            out.append(sorted(inside, key=lambda k: boxes[k].x))
    return out


def with_fields(groups: list[list[int]], held: list[list[int]]) -> list[list[int]]:
    """The runs ``groups``, the glyphs of the printed fields ``held`` taken out of them and judged as one
    run per field instead."""
    if not held:
        return groups
    taken = {k for run in held for k in run}
    return [r for r in ([k for k in run if k not in taken] for run in groups) if r] + held


#: A run of digits is printed when the printed-digit model's mean probability over its digits reaches
#: this; a lone digit when it reaches ``PRINTED_LONE``. Over a run, not per glyph: one handwritten digit
#: that looks like type (a plain 1, a round 0) does not mark its number, and one printed digit the model
#: doubts is carried by its neighbours. On the generated pages (``livedigits stress``, 40 seeds of
#: printed, words, table, boxes, mixed) 3 of 3,478 handwritten digits in runs reached 0.7 and 134 of 143
#: printed ones; alone, 6 of 562 handwritten digits reached 0.9 and 111 of 125 printed ones.
PRINTED_LEVEL = 0.7
PRINTED_LONE = 0.9
#: Digits are of one run for this decision when at most this many heights apart: a number's spacing, not
#: a word's (the 1 and the 0 of a handwritten "10" are judged together).
PRINTED_GAP = 1.0


def printed_digits(boxes: list[Box], crops, model=None, config: WordConfig = DEFAULT_WORDS) -> set[int]:
    """Indexes of the digits (``boxes`` and their (N, 28, 28) ``crops``, the detections of a frame) that
    are printed: runs of digits whose mean probability of type (``classify.printed``) reaches
    ``PRINTED_LEVEL`` (``PRINTED_LONE`` for a digit alone). ``model``: the printed-digit model (the
    shipped one by default; none shipped: nothing is printed)."""
    if not len(boxes):
        return set()
    if model is None:
        from livedigits.classify.printed import default_printed_model

        model = default_printed_model()
        if model is None:
            return set()
    probability = model.probability(np.asarray(crops))
    if not (probability >= PRINTED_LEVEL).any():
        return set()  # no run's mean can reach the level: handwriting alone costs no runs
    out: set[int] = set()
    # Digits have no ascenders: their runs keep to ``max_height_ratio``.
    for run in runs(boxes, replace(config, run_gap=PRINTED_GAP, ascender_ratio=config.max_height_ratio), split=False):
        if float(np.mean(probability[run])) >= (PRINTED_LEVEL if len(run) > 1 else PRINTED_LONE):
            out.update(run)
    return out


def read_context(candidates: list[Candidate], probabilities: np.ndarray, detections: list[Detection],
                 rejected: list[Box], config, signs: Iterable[Box] = (),
                 fields: Iterable[Box] = (), blots: Iterable[Box] = (),
                 small: Iterable[Box] = (), possible: Iterable[Box] = ()) -> tuple[list[Detection], list[Box]]:
    """The detections and rejected boxes of ``numbers.decide_all`` read in their lines: the digits of words
    left out (their boxes join ``rejected``: letters end numbers), printed digits marked ``printed`` (or left
    out). ``config``: a ``ReadingConfig`` (its ``words``, ``printed``, ``handwriting_only`` and
    ``min_confidence``). ``signs``: boxes of candidates known to be signs of arithmetic: a + beside a 5 is
    no letter of a word, so signs take no part in the runs. ``fields``: a form's printed fields, each
    read as one run (``Segmentation.fields``). ``blots``: solid blots of ink (``Segmentation.blots``, the
    filled bold letters of print), glyphs of their lines as the signs are, neither letter nor digit. ``small``:
    pieces too small to read (``Segmentation.small``), x-height letters where they stand so in a run. ``possible``:
    boxes of candidates that may be signs (``find_signs(possible=...)``), still glyphs of their runs (``word_glyphs``'s
    ``maybe_signs``)."""
    if config.words and len(candidates) >= 2:
        skip = set(signs)
        keep = [k for k, c in enumerate(candidates) if c.box not in skip]
        boxes = [candidates[k].box for k in keep]
        probabilities = np.asarray(probabilities)[keep]
        blots, small = list(blots), list(small)
        # Blots and the pieces too small to read are x-height letters where they stand so (the filled a and e of a
        # bold label, the o of a small one).
        letters = list(range(len(keep), len(keep) + len(blots))) + list(range(len(keep) + len(blots) + len(skip),
                                                                             len(keep) + len(blots) + len(skip) + len(small)))
        # A sign stands in its line as a blot does, neither letter nor digit: the t of a printed "Total" read as
        # a + holds "To" and "al" together, and a + between two numbers makes no word of them.
        blots = blots + list(skip) + small
        if blots and probabilities.ndim == 2:
            boxes += blots
            probabilities = np.concatenate([probabilities, np.zeros((len(blots), probabilities.shape[1]), probabilities.dtype)])
        crops = [candidates[k].crop for k in keep] + [np.zeros((28, 28), np.float32)] * len(blots)
        possible = set(possible)
        found = word_glyphs(boxes, probabilities, config.min_confidence, fields=fields,
                            neutral=range(len(keep), len(boxes)), crops=crops, small=letters,
                            maybe_signs=[i for i, k in enumerate(keep) if candidates[k].box in possible])
        letters = {candidates[keep[i]].box for i in found}
        if letters:
            detections = [d for d in detections if d.box not in letters]
            known = set(rejected)
            rejected = rejected + [b for b in (candidates[keep[i]].box for i in sorted(found)) if b not in known]
    if (config.printed or config.handwriting_only) and detections:
        crops = {c.box: c.crop for c in candidates}
        if all(d.box in crops for d in detections):
            marked = printed_digits([d.box for d in detections], [crops[d.box] for d in detections])
            detections = [replace(d, printed=True) if n in marked else d for n, d in enumerate(detections)]
            if config.handwriting_only:
                detections = [d for d in detections if not d.printed]
    return detections, rejected

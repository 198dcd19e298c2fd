"""Reading arithmetic end to end: generated worksheets in held-out handwriting, read with the shipped models,
and the ways results go out (JSON Lines, `run -q`, the overlay marks, the setting that turns it off)."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits.classify.backends import load_classifier
from livedigits.draw.annotators import VERDICT_COLORS, ExpressionAnnotator
from livedigits.reading.expressions import Expression
from livedigits.reading.numbers import ReadingConfig
from livedigits.reading.recognizer import Recognizer
from livedigits.synth.worksheet import make_worksheet, miss_cause, score_sheet
from livedigits.types import Box, Frame, FrameResult

ROOT = Path(__file__).resolve().parent.parent

#: Worksheets read by the tests: two of each writer kind, on each paper (seeds outside those that the
#: figures in docs/arithmetic.md were measured on, 1000-1059, so the tests do not just replay them).
SHEETS = [(2000 + k, writer, paper) for k, (writer, paper) in enumerate(
    [("font", "grid"), ("font", "plain"), ("pendigits", "ruled"), ("pendigits", "grid"), ("mnist", "plain"),
     ("mnist", "ruled")])]


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer(load_classifier(), smooth=False)


@pytest.fixture(scope="module")
def read_sheets(recognizer):
    out = []
    for seed, writer, paper in SHEETS:
        sheet = make_worksheet(seed, writer=writer, paper=paper)
        result = recognizer.process(Frame(seed, 0.0, sheet.image))
        out.append((sheet, result, score_sheet(sheet, result.expressions)))
    return out


def test_worksheets_are_read_with_the_right_verdicts(read_sheets):
    truth = sum(s["truth"] for _, _, s in read_sheets)
    right = sum(s["verdict_right"] for _, _, s in read_sheets)
    misses = [m for _, _, s in read_sheets for m in s["misses"]]
    assert truth >= 40
    assert right >= 0.75 * truth, f"{right} of {truth}; misses: {misses}"


def test_no_right_answer_is_ever_marked_wrong(read_sheets):
    marked = [(m, sheet.writer) for sheet, _, s in read_sheets for m in s["misses"] if m[1] == "right" and m[3] == "wrong"]
    assert not marked, marked


def test_every_verdict_kind_is_met_and_stacked_fractions_are_read(read_sheets):
    verdicts = {e.verdict for _, result, _ in read_sheets for e in result.expressions}
    assert {"right", "wrong", "open"} <= verdicts
    truth = {e.text: e.verdict for sheet, _, _ in read_sheets for e in sheet.expressions if "/(" in e.text}
    read = {e.text: e.verdict for _, result, _ in read_sheets for e in result.expressions if "/(" in e.text}
    # Read as written, each with its verdict or left unsure (a hand's sure misreads keep wrong answers unsure:
    # issue 21's ninth round), never the other verdict.
    assert len(truth) >= 4 and len(truth.keys() & read.keys()) >= 0.75 * len(truth), (truth, read)
    assert all(read[t] in (v, "unsure") for t, v in truth.items() if t in read), (truth, read)
    # 1/2 + 1/3 is 5/6 exactly: values are reduced fractions, never rounded decimals.
    values = [e.to_record()["value"] for _, result, _ in read_sheets for e in result.expressions if "/(" in e.text]
    assert any("/" in v for v in values if v) and not any("." in v for v in values if v), values


@pytest.mark.parametrize("phenomenon, seeds", [("boxes", (0, 1, 3, 5)), ("table", (6, 8, 14)), ("printed", (7, 29))])
def test_forms_tables_and_print_without_arithmetic_give_no_expressions(recognizer, phenomenon, seeds):
    """Stress pages hold numbers in forms, tables and beside print, and no arithmetic: every expression read
    there is false (a comb of boxes read as 1/1/1, a table's rule as a minus or a fraction's bar)."""
    from livedigits.synth.stress import stress_scene

    found = []
    for seed in seeds:
        image, _ = stress_scene(seed, only=(phenomenon,))
        found += [(seed, e.text) for e in recognizer.process(Frame(seed, 0.0, image)).expressions]
    assert found == []


def test_arithmetic_off_reads_numbers_as_before(recognizer):
    sheet = make_worksheet(SHEETS[2][0], writer="pendigits", paper="ruled")
    off = Recognizer(load_classifier(), reading_config=ReadingConfig(arithmetic=False), smooth=False)
    result = off.process(Frame(0, 0.0, sheet.image))
    assert result.expressions is None and "expressions" not in result.to_record()
    assert result.numbers and "arithmetic" not in result.timings


def test_run_writes_the_expressions_field_and_prints_a_line_per_expression(tmp_path):
    sheet = make_worksheet(SHEETS[0][0], writer="font", paper="grid")
    image = tmp_path / "sheet.png"
    cv2.imwrite(str(image), sheet.image)
    jsonl = tmp_path / "sheet.jsonl"
    done = subprocess.run([sys.executable, "-m", "livedigits", "run", str(image), "--headless", "--jsonl", str(jsonl),
                           "-q"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(jsonl.read_text().splitlines()[-1])
    assert record["expressions"], record
    for e in record["expressions"]:
        assert set(e) == {"text", "box", "value", "answer", "verdict"}
        assert set(e["text"]) <= set("0123456789+-x/=()") and e["verdict"] in ("right", "wrong", "open", "unsure")
        assert len(e["box"]) == 4
    lines = [line for line in done.stdout.splitlines() if line.split()[-1] in ("right", "wrong", "open", "unsure")]
    assert lines == [f"{e['text']} {e['verdict']}" for e in record["expressions"]]
    off = subprocess.run([sys.executable, "-m", "livedigits", "run", str(image), "--headless", "--jsonl", str(jsonl),
                          "-q", "--no-arithmetic"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert off.returncode == 0 and "expressions" not in json.loads(jsonl.read_text().splitlines()[-1])


def _result(*expressions):
    image = np.full((200, 600, 3), 255, np.uint8)
    return FrameResult(Frame(0, 0.0, image), (), (), expressions=tuple(expressions))


def _colour_right_of(image, box, colour):
    strip = image[box.y: box.y2, box.x2: box.x2 + 3 * box.h].reshape(-1, 3).astype(int)
    return int((np.abs(strip - np.array(colour)).sum(axis=1) < 60).sum())


def test_overlay_marks_each_verdict_and_shows_open_values_only_when_asked():
    from fractions import Fraction

    right = Expression("1+1=2", Box(10, 20, 120, 40), Fraction(2), Fraction(2), "right")
    wrong = Expression("1+1=3", Box(10, 80, 120, 40), Fraction(2), Fraction(3), "wrong")
    open_ = Expression("2+2=", Box(10, 140, 120, 40), Fraction(4), None, "open")
    result = _result(right, wrong, open_)
    image = ExpressionAnnotator().annotate(result.frame.image.copy(), result)
    assert _colour_right_of(image, right.box, VERDICT_COLORS["right"]) > 20
    assert _colour_right_of(image, wrong.box, VERDICT_COLORS["wrong"]) > 20
    assert _colour_right_of(image, right.box, VERDICT_COLORS["wrong"]) == 0
    assert _colour_right_of(image, open_.box, VERDICT_COLORS["open"]) == 0  # a checker, not a cheat
    shown = ExpressionAnnotator(answers=True).annotate(result.frame.image.copy(), result)
    assert _colour_right_of(shown, open_.box, VERDICT_COLORS["open"]) > 20


@pytest.mark.parametrize("seed, text, verdict", [
    (9, "(5)/(6)+(1)/(2)=(4)/(3)", "right"),  # squared paper: the row of bars lined up into a "ruled line"
    (1, "6/2=3", "right"),                      # a pen's slash written low and long, wider than tall
    (100, "(9+4)x2=26", "right"),               # a small x the sign model half takes for a mark
    # Issue 21's fourth round:
    (7006, "8x2=18", "wrong"),        # squared paper: a thread along a stroke set the grid's thickness, strokes cut
    (7006, "54/9=6", "right"),        # ... the slash cut in two where it crossed a grid line
    (7006, "66+9=77", "wrong"),       # a weak 9 the sign model took for a ")" with no "(": a weak digit again
    (7052, "(3+2)x3=", "open"),       # both brackets read as 1, both possible brackets: they pair up
    (7045, "(6+9)x3=", "open"),       # ... and its x read as + beside the brackets
    (7058, "(4+6)x5=", "open"),       # a "(" read as 8, taller than the digits: shown to the sign model
    (7001, "(5+7)x4=48", "right"),    # a "(" read as a slash: the ")" no bracket opens takes it
    (7029, "97+37=134", "right"),     # the 4 read 0.58 no digit, 0.41 4: a doubt's likeliest digit
    (115, "7x9+9=72", "right"),       # an open x the sign model calls "other" at 0.99: a possible x
    (7013, "59+30=99", "wrong"),      # a 5 whose hat lifted off: the body no digit, hat and body a sure 5
    # Issue 21, sixth round:
    (8046, "12/2=", "open"),          # an = whose bars ran together: a speck, no digit, handed to the signs
    (7009, "9x5+9=51", "wrong"),      # a weak + the digits leave out: wrong, every reading of it wrong too
    (7040, "2x5+3=14", "wrong"),      # ... a weak x
    # Issue 21, eighth round: an open sum with a symbol read unsurely is open (it was unsure)
    (7050, "4x9=", "open"),           # MNIST digits
    (7047, "97+19=", "open"),         # reenie-beanie
    # ... a 1 the sign model took for a slash, where the answer must stand: read as the digit model read it
    (8001, "(1)/(6)+(2)/(6)=1", "wrong"),
    (9050, "(2+3)x4=18", "wrong"),    # ... and joined to the 8 after it (it was unsure)
    (9012, "10/5=2", "right"),        # a slash read as "(" at 0.73, "/" at 0.26, no ")" closing it
    (9028, "(1+5)x5=40", "wrong"),    # a small open x read as 4 at 0.62, "other" by the sign model
    (9021, "42+15=57", "right"),      # a short thick = read as 4 at 0.74, = by the sign model at 0.8
    # Issue 21, eleventh round: a fraction's bar touching the digit above it, one piece with it (it was
    # split: (2)/(6)=1, the first fraction's bar lost inside the 3's box)
    (9036, "(3)/(6)+(2)/(6)=1", "wrong"),
    # Twelfth round: a bar whose digits are in pieces, or under two digits, is a bar, not a stroke of the
    # digit above it (9018: the answer's bar under 27 was joined to its 7, and the answer lost; 7012: the
    # bar joined to the 4 above it, read as a 1)
    (9018, "(3)/(5)+(3)/(4)=(27)/(20)", "right"),
    (7012, "(3)/(4)+(4)/(5)=(8)/(5)", "wrong"),
    # ... and the 5 under a freed bar, its hat lifted right of its bowl, keeps its hat (no dash beside it)
    (7037, "(4)/(5)+(2)/(4)=", "open"),
    # ... and a sum read whole with a small x the sign model half takes for a mark (it was read 6+5=)
    (7017, "3x6+5=", "open"),
    # Thirteenth round: a held-out font's x read as + (0.96 and 0.64) where the same hand's x is read as x elsewhere on the
    # page: the x it matches decides (it was read 12+10=119 and 3+9+9=)
    (8001, "12x10=119", "wrong"),
    (8000, "3x9+9=", "open"),
    # Fifteenth round: a digit far more like the crops of another digit that the page's right sums confirm is
    # read as that digit (pendigits writer 42's 4 read as a sure 5, its loopless 9 as a 7; writer 32's 1 read
    # as 7). Each was misread on main: 57-59=3 unsure, 7x5+6=51 unsure, 79+19=118 unsure, 38+87=718 wrong,
    # 3x9+5= open.
    (8018, "52-49=3", "right"),
    (8018, "7x5+6=41", "right"),
    (7038, "99+19=118", "right"),
    (8040, "38+81=118", "wrong"),
    (8053, "3x9+4=", "open"),
    # Sixteenth round: sums not read as sums on main. A long slash cut in two (read 201/4=5, unsure); a
    # leaning 1 starting the row's second sum, read as a sure slash (read 0x2=); the + between two fractions
    # whose arm a ruled line cut off (read (2)/(5) alone); a fraction's bar cut in two, its end a minus
    # (read (1)/(6)+-(3)/(5)=(4)/(5)).
    (8011, "20/4=5", "right"),
    (8039, "10x2=", "open"),
    (8056, "(2)/(5)+(1)/(2)=", "open"),
    (9006, "(1)/(6)+(3)/(5)=(4)/(5)", "wrong"),
    # Seventeenth round: a sum left unsure that one digit read as another makes right, where the digit's crop,
    # nudged, gives that digit a chance and is more like the page's own digits of it than of the digit read
    # (pendigits writer 40's 1 with a base read as a sure 2, and its 9 read as 3; a font's 6 read as 4).
    # Each was unsure on main: 24-24=10, 5x3+4=49, 4-2=4.
    (9000, "24-14=10", "right"),
    (7042, "5x9+4=49", "right"),
    (9005, "6-2=4", "right"),
    # Seventeenth round, sums found: each was read as no sum, or as another one, on main.
    # (Lost again since squared paper's lines are found as a lattice, session 25: the stub of a grid line standing on
    # the 2's top is taken out, the 2's box is 4 px shorter, and the slash is no longer read; docs/stress.md.)
    pytest.param(7052, "14/2=", "open", marks=pytest.mark.xfail(strict=True, reason="session 25: grid stub on the 2 taken out")),
    (11049, "(7+5)x5=60", "right"),      # the ")" read as a tall 1: "(7+51x5=60"
    (10007, "(3+8)x3=33", "right"),      # MNIST brackets: "(" a possible sign, ")" read as 3
    (10003, "(4+7)x3=33", "right"),      # ... ")" read as a slash before the x
    (7014, "4x7+6=", "open"),            # a pen's x in two strokes read as 7 and 6
    (10008, "(3+8)x4=43", "wrong"),      # ... read as 7 and 6 again
    (11028, "(8+5)x4=52", "right"),      # a small "=" whose bars run together, read "=" at 0.47
    (8046, "21/7=3", "right"),           # ... read "=" at 0.47, "other" at 0.52
    (11031, "45/5=9", "right"),          # a slash read ")" at 0.61, "/" at 0.37
    (11050, "30+84=114", "right"),       # a + read as a small 7
    (12007, "(1)/(5)+(2)/(3)=(13)/(15)", "right"),  # an MNIST 5's hat beside its bowl, a dash
    (12051, "40/8=", "open"),            # a blotted MNIST 8 after a sign is no ledger's B after "40" (session 24)
    # pendigits writer 34's 6, its loop a dot, read as a sure 1 and "(" by the sign model: both classifiers doubt
    # it (``expressions._contested_digit``), and its nudged crop and the page's 6s read it 6 (marked wrong before;
    # session 26)
    (37039, "10x6=60", "right"),
    # Session 27, sums found: an answer is a number. A bracket the sign classifier alone read in an answer is the
    # digit the digit model gives most ("90+25=11(", pendigits writer 42's 5; "32+85=1)7", an MNIST 1 read 0.58);
    # a sliver of a ruled line against an "=" bar is no second "=" ("7x5+3==39").
    (12020, "90+25=115", "right"),
    (12057, "32+85=117", "right"),
    (12053, "7x5+3=39", "wrong"),
    # Session 28, the lead: a fresh worksheet's right answer marked wrong. Pendigits writer 40's open 9 read as a
    # sure 3 ("93+57=156"); its crop was a little more like the page's confirmed 3 (0.562) than its confirmed 9s
    # (0.536), which lifted the doubt of 3 for 9. The page's confirmed crops now lift it only by PAGE_MARGIN, as
    # its surely read digits do, and the 3 is read as the 9 it is.
    (49046, "99+57=156", "right"),
    # Session 29, the lead: a fresh worksheet's right sum lost. Its + (read surely as no digit, doubted by the sign
    # classifier: a possible sign) is a "t" to the letter model at 0.955, and its 5 an S at 0.951: the short word
    # rule of ``WordConfig.confirm_digits`` made "5+3" a word and dropped the digits. A possible sign is no sure
    # letter of that rule.
    (52023, "(5+3)x2=16", "right"),
    # Session 28: a digit in two pieces side by side, each read as a digit, read as one where the crop of their
    # union reads as the digit that makes the sum right (``expressions._union_read``): writer 33's wide 2 with a
    # long foot cut into two overlapping 2s ("223+12=35", "122x6=72"), an MNIST 2 cut where the ruling crosses it
    # ("(11)/(122)").
    (11007, "23+12=35", "right"),
    (11007, "12x6=72", "right"),
    (11033, "(4)/(6)+(1)/(4)=(11)/(12)", "right"),
    # Session 28: a "(" that opens nothing is no bracket either: writer 42's 5 of "7(-2=73" (no ")" closes it
    # before the "="), its 5 over a fraction's bar ("(5)/(6)", a numerator is a number); and a 4's broken stroke
    # read as a short 1 in an answer is no lost "+" ("2x12=2+4") but a piece of no digit. Each was missed on main.
    (12020, "75-2=73", "right"),
    (13058, "(5)/(6)+(3)/(6)=(4)/(3)", "right"),
    (12016, "2x12=24", "right"),
    # Session 29: a hand's x as narrow as half its height, read as nothing (``SignConfig.mark_aspect``: 11027's
    # "(5+2)x2=14", 20016's "8x3="); an MNIST ")" read as a sure 3 after a sure "(", found as its partner
    # (``signs._partners``: 18059's "(9+3)33x3=36"); a numerator 1 the sign classifier read as a slash, alone over
    # its bar (``expressions._lone_bracket``: 20047's "(1)/(2)" split off its sum). Each was not found or split.
    (11027, "(5+2)x2=14", "right"),
    (20016, "8x3=", "open"),
    (18059, "(9+3)x3=36", "right"),
    (20047, "(1)/(2)+(3)/(5)=(11)/(10)", "right"),
    # Session 30: an operator taken from a digit with only the row's next sum after it, as far as two sums stand
    # apart, ends nothing: MNIST's leaning 1 of an answer read as a sure slash ("95-44=5/", "(8+9)x3=5/"); and a
    # number with a leading zero in an equation is a misread the equation decides ("37+20=07", an MNIST 5 read 0,
    # was no sum at all). Each lost the sum or its answer's digit on main.
    (24014, "95-44=51", "right"),
    (15003, "(8+9)x3=51", "right"),
    (19044, "37+20=57", "right"),
    # Session 30: a 5's short, thick hat (a speck wider than tall, no flat piece: ``segment.HAT_ASPECT``) offered
    # joined with its body as a flat hat is; on main the hat was a minus and the body no digit ("x5=" lost).
    (15043, "5x6=30", "right"),
    (10001, "(9+7)x5=", "open"),
    # Session 30, found3: a "+" between two stacked fractions, written smaller than the page's digits and read as
    # a 4, at the bars' height: no digit stands there in a sum (``expressions._between_fractions``, the sign
    # classifier's +). Each was split at it on main ("(3)/(5)" open beside "(2)/(4)=(11)/(10)").
    (24049, "(3)/(5)+(2)/(4)=(11)/(10)", "right"),
    (52052, "(2)/(4)+(4)/(6)=(7)/(6)", "right"),
    # Session 30, frac2: a digit written more than twice as wide as tall (a numerator 2 or a 5 with a long stroke),
    # cut into no sure digits and read whole as one at the classifier's ceiling, is that digit
    # (``recognizer.decide_splits``); on main it was left a dash, joined with the fraction's bar under it into an
    # "=" (13016, "(1)/(5)+" alone) or lost ("12/4=3" read "1/4=3"). Each was not found or lost a digit on main.
    (13016, "(1)/(5)+(2)/(5)=(4)/(5)", "wrong"),
    (7007, "12/4=3", "right"),
    # Session 30 (pieces2): an MNIST 8 cut at its waist into two sure 0s, one above the other, read as one digit
    # where their union's crop reads a digit at the ceiling (``recognizer.stacked_pieces``): not found on main.
    (50020, "12x8=", "open"),
    (61053, "81+89=170", "right"),   # ... its loops aslant, their columns a third in common
])
def test_worksheet_sums_once_lost_are_read_with_their_verdict(recognizer, seed, text, verdict):
    sheet = make_worksheet(seed)
    assert (text, verdict) in {(e.text, e.verdict) for e in sheet.expressions}
    result = recognizer.process(Frame(seed, 0.0, sheet.image))
    assert (text, verdict) in {(e.text, e.verdict) for e in result.expressions}, [e.line() for e in result.expressions]


@pytest.mark.parametrize("seed, paper, text, verdict", [
    # Session 23 (issue 19/21): a handwritten digit over squared paper's lines, where a few squares of the grid
    # were taken for a form's boxes (``vision.fields``). 29054: the 8 of 57+24=81 stood on the top rule of two
    # squares taken for a comb, and went as a side of a box (read "57+24=1"); 120 on squared paper: two squares
    # under "97+17" made a comb, its digits cut at their rules or dropped as sides (the sum was not found).
    (29054, None, "57+24=81", "right"),
    (120, "grid", "97+17=", "open"),
])
def test_a_digit_written_over_the_squares_of_a_grid_is_read(recognizer, seed, paper, text, verdict):
    sheet = make_worksheet(seed, paper=paper)
    assert sheet.paper == "grid" and (text, verdict) in {(e.text, e.verdict) for e in sheet.expressions}
    result = recognizer.process(Frame(seed, 0.0, sheet.image))
    assert (text, verdict) in {(e.text, e.verdict) for e in result.expressions}, [e.line() for e in result.expressions]


@pytest.mark.parametrize("seed, odd, text, verdict", [
    # Issue 21's held-out hands, their kinds written by the usual writers (make_worksheet(odd_signs=...)): each sum
    # was read as no sum, or without its "=", before.
    (3002, "=", "34+2=36", "right"),     # an = whose bars run together: one piece, read as a thick "-"
    (3007, "=", "72-40=32", "right"),    # ... in a sum with a minus: "72-40-32" was no sum
    (3010, "=", "12x3=35", "wrong"),     # ... a wrong answer stays wrong
    (3009, "/", "28/4=7", "right"),      # a slash written upright, read as a sure 1: "2814=7"
    (3013, "/", "20/4=5", "right"),      # ... the sign model gives it the slash at 0.18 only: set apart as an operator
    (3017, "x", "(8+3)x5=", "open"),     # an x the size of a dot beside a tall 7
])
def test_worksheet_sums_with_signs_in_odd_shapes_are_read_with_their_verdict(recognizer, seed, odd, text, verdict):
    sheet = make_worksheet(seed, odd_signs=(odd,))
    assert (text, verdict) in {(e.text, e.verdict) for e in sheet.expressions}
    result = recognizer.process(Frame(seed, 0.0, sheet.image))
    assert (text, verdict) in {(e.text, e.verdict) for e in result.expressions}, [e.line() for e in result.expressions]
    assert score_sheet(sheet, result.expressions)["right_marked_wrong"] == 0


@pytest.mark.parametrize("seed, text", [
    (7004, "67+52=117"),  # MNIST: its last 1 leans, and the sign model half takes it for a slash
    (8039, "47+72=117"),  # ... the same hand on plain paper
])
def test_an_answer_is_read_as_its_digits_not_as_a_possible_slash(recognizer, seed, text):
    # Sixteenth round: both were read "...=1/7", a possible slash in the answer that makes the sum no more
    # right than the digits do. The sum is wrong (119 and 119); never marked right.
    sheet = make_worksheet(seed)
    assert (text, "wrong") in {(e.text, e.verdict) for e in sheet.expressions}
    result = recognizer.process(Frame(seed, 0.0, sheet.image))
    found = {e.text: e.verdict for e in result.expressions}
    assert found.get(text) in ("wrong", "unsure"), [e.line() for e in result.expressions]


@pytest.mark.parametrize("seed, read", [
    (8009, "7x12=85"),    # pendigits writer 42: the 4 read as a sure 5; 55-15=51 (55-14=41) unsure on the page
    (8018, "7x6=52"),     # ... the same writer; (its 7x5+6=51 is read 7x5+6=41 since the fifteenth round)
])
def test_a_writers_sure_misread_seen_twice_is_never_marked_wrong(recognizer, seed, read):
    # Issue 21's fifth round: right answers the digit model's sure misreads made look wrong (each was
    # marked wrong before it). They are read as before, and left unsure.
    _read_unsure_and_no_right_answer_wrong(recognizer, seed, read)


def _read_unsure_and_no_right_answer_wrong(recognizer, seed, read):
    """Worksheet ``seed`` holds the expression read ``read``, unsure, and no right answer marked wrong."""
    sheet = make_worksheet(seed)
    result = recognizer.process(Frame(seed, 0.0, sheet.image))
    found = {e.text: e.verdict for e in result.expressions}
    assert found.get(read) == "unsure", [e.line() for e in result.expressions]
    assert score_sheet(sheet, result.expressions)["right_marked_wrong"] == 0


@pytest.mark.parametrize("seed, read", [
    (10007, "(45)/(6)+(1)/(3)=(7)/(6)"),  # a 5's hat cut off and read as a 4 touching the 5 ((5)/(6))
    # (11033's 2 cut in two, read 22, "(11)/(122)": read as one 2 and right since session 28, in
    # test_worksheet_sums_once_lost_are_read_with_their_verdict)
    (10027, "15-6=8"),   # pendigits writer 42: 14-6=8 with the 4 read as a sure 5; on the page 5x7+5=39
    (10027, "7x7=81"),   # (5 for 4) and 7x7=81 (9x9=81, 7 for 9): three sums, two sure misreads
    # pendigits writer 34's 6 of (1+2)x2=6, its loop a dot, read "(" by the sign model and as a sure 1 by the digit
    # model: an answer's "(" is a digit, but one no answer is marked wrong on alone (session 25)
    (31009, "(1+2)x2=1"),
    # pendigits writer 42's loopless 9 of a right 2x9+1=19 read as a sure 7: its page's likest 7 was another of its
    # loopless 9s, in the open sum (9+2)x2= read (7+2)x2=, which checks nothing (``expressions.UNCHECKED``; session 26)
    (39004, "2x7+1=19"),
])
def test_a_right_answer_misread_by_a_cut_or_by_a_hands_misreads_is_never_marked_wrong(recognizer, seed, read):
    # Issue 21's seventh round: right answers marked wrong before (each was), read as before and left unsure.
    _read_unsure_and_no_right_answer_wrong(recognizer, seed, read)


def test_a_right_answer_whose_digit_the_segmentation_turned_away_is_never_marked_wrong(recognizer, monkeypatch):
    # Session 22: on worksheet 29054 (squared paper, the held-out font reenie-beanie) two squares of the grid
    # were taken for a form's boxes and the 8 of 57+24=81 standing on them was turned away: no candidate, no
    # piece of ink the reading knew of, so 57+24=1 was marked wrong. The 8 is still in the ink mask beside
    # the sum (``vision.segment.ink_pieces``): a doubt. Since session 23 the squares are no field (their lines
    # run on: ``vision.fields.RUNS_ON``, test_a_digit_written_over_the_squares_of_a_grid_is_read); with the
    # found lines kept from ``find_fields`` they are one again, and the doubt is the net under a digit turned away.
    from livedigits.vision import fields, segment

    monkeypatch.setattr(segment, "find_fields", lambda holes, height, lines=None, mask=None: fields.find_fields(holes, height))
    _read_unsure_and_no_right_answer_wrong(recognizer, 29054, "57+24=1")


@pytest.mark.parametrize("seed, read", [
    # (7038's 99+19=118, pendigits writer 42's 9 read as a sure 7, was here: since the fifteenth round its 7 is
    # read as the page's confirmed 9s, and the sum right: test_worksheet_sums_once_lost_are_read_with_their_verdict)
    # pendigits writer 42: 9x8+4=76, a 4 read as a sure 5 and a 7 as a sure 2 in one sum (read 9x8+5=26 until the
    # sixteenth round; now its loopless 9 is read as the page's 7s too, three misreads, and still unsure)
    (8030, "7x8+5=26"),
    # (9000's 24-14=10, pendigits writer 40's 1 with a base read as a sure 2, was here: since the seventeenth
    # round its nudged crop and the page's 1s read it 24-14=10, right: test_worksheet_sums_once_lost_...)
    # Session 30, the lead: an MNIST test 6 with an open loop, read as a 4 at 0.996 (a misread no table lists),
    # made two right answers of a fresh range wrong: its crop is far more like the page's 6s than its 4s and,
    # nudged, gives the 6 a fair chance (``expressions._leaned``).
    (63007, "24/4=4"),
    (63014, "72-34=36"),
])
def test_a_right_answer_a_hands_sure_misread_alone_made_look_wrong_is_never_marked_wrong(recognizer, seed, read):
    # Issue 21's ninth round: the last right answers marked wrong on the tuning seeds (each was).
    _read_unsure_and_no_right_answer_wrong(recognizer, seed, read)


@pytest.mark.parametrize("truth, read, cause", [
    (("12+7=19", "wrong"), ("12+7=19", "unsure"), ("verdict", "wrong->unsure")),
    (("12+7=19", "right"), (None, None), ("not found", "")),
    (("99+19=118", "right"), ("79+19=118", "wrong"), ("digit misread", "9->7")),
    (("4x3=12", "right"), ("4+3=12", "unsure"), ("sign misread", "x->+")),
    (("36/3=12", "right"), ("3613=12", "unsure"), ("sign read as digit", "/->1")),
    (("59+30=99", "wrong"), ("9+30=99", "wrong"), ("digit lost", "5")),
    (("(3+5)x2=16", "right"), ("3+5)x2=16", "unsure"), ("sign lost", "(")),
    (("81+82=163", "right"), ("81+82", "open"), ("split", "81+82 of 81+82=163")),
    (("12/2=", "open"), ("12/2=6", "wrong"), ("joined", "12/2= in 12/2=6")),
    (("(2)/(5)+(3)/(4)=(23)/(20)", "right"), ("2+3=23", "unsure"), ("fraction bar lost", "(2)/(5)+(3)/(4)=(23)/(20) read 2+3=23")),
    (("(2)/(5)+(1)/(3)=(11)/(15)", "right"), ("(2)/(5)+(1)/(3)=(11)/(15-)", "unsure"), None),
])
def test_each_miss_is_put_down_to_its_cause(truth, read, cause):
    got = miss_cause(*truth, *read)
    if cause is None:  # a fraction's bar read as a minus inside it: several changes at once
        assert got[0] == "several" and "fraction bar" in got[1]
    else:
        assert got == cause


def test_a_minus_run_into_the_digit_after_it_touches_it():
    """``make_worksheet(touching_minus=1)`` writes each minus of a sum with its ink touching the first digit
    after it (one piece of ink, as a hand's "625-3000"), but where that digit has no ink at the minus's height
    before its middle; at 0 the sheet is the one drawn without the option."""
    assert np.array_equal(make_worksheet(2001).image, make_worksheet(2001, touching_minus=0.0).image)
    touching = minuses = 0
    for seed in range(2000, 2006):
        sheet = make_worksheet(seed, touching_minus=1.0)
        ink = (cv2.cvtColor(sheet.image, cv2.COLOR_BGR2GRAY) < 150).astype(np.uint8)
        _, labels = cv2.connectedComponents(ink)
        glyphs = list(sheet.glyphs)
        for (char, box), (after, digit) in zip(glyphs, glyphs[1:]):
            if char != "-" or not after.isdigit() or not box.x < digit.x <= box.x + 2 * box.w:
                continue  # a fraction's bar, or a minus after which no digit follows on the line
            minuses += 1
            own = set(np.unique(labels[box.y: box.y + box.h, box.x: box.x + box.w])) - {0}
            theirs = set(np.unique(labels[digit.y: digit.y + digit.h, digit.x: digit.x + digit.w])) - {0}
            touching += bool(own & theirs)
    # 12 of 13 now: a 1 with no ink at the minus's height on its left meets it only beyond the minus's middle,
    # where the slide stops.
    assert minuses >= 10 and touching >= minuses - 2, (touching, minuses)


@pytest.mark.parametrize("seed, sums", [
    (2000, {"14-10=4": "right"}),  # pendigits writer 37
    (2002, {"55-55=0": "right", "29-14=13": "wrong"}),  # covered-by-your-grace
])
def test_a_sum_whose_minus_runs_into_the_digit_after_it_is_read_with_its_verdict(recognizer, seed, sums):
    # Issue 21: the minus and the digit after it are one piece of ink; the flat stroke at its left end is parted
    # from it (``segment._minus_heads``), a minus that ends the number before it. Read whole, the piece was the
    # digit alone and the sum was not found.
    sheet = make_worksheet(seed, touching_minus=1.0)
    truth = {e.text: e.verdict for e in sheet.expressions}
    assert all(truth.get(text) == verdict for text, verdict in sums.items()), truth
    result = recognizer.process(Frame(seed, 0.0, sheet.image))
    found = {e.text: e.verdict for e in result.expressions}
    for text, verdict in sums.items():
        assert found.get(text) == verdict, [e.line() for e in result.expressions]


def _read_wrong_and_hand_unsure(recognizer, seed, wrong, hand):
    """Worksheet ``seed``'s wrong answer ``wrong`` (if any) is marked wrong, the hand's misread right answer ``hand``
    (if any) is unsure, and no right answer is marked wrong."""
    sheet = make_worksheet(seed)
    result = recognizer.process(Frame(seed, 0.0, sheet.image))
    found = {e.text: e.verdict for e in result.expressions}
    if wrong is not None:
        assert (wrong, "wrong") in {(e.text, e.verdict) for e in sheet.expressions}
        assert found.get(wrong) == "wrong", [e.line() for e in result.expressions]
    if hand is not None:
        assert found.get(hand) == "unsure", [e.line() for e in result.expressions]
    assert score_sheet(sheet, result.expressions)["right_marked_wrong"] == 0


@pytest.mark.parametrize("seed, wrong, hand", [
    # pendigits writer 42: (1)/(6)+(5)/(6)=2 is wrong, its 2 a plain 2; 9x8+4=76 read 9x8+5=26, the 4 read
    # as a sure 5 and the 7 as a sure 2, whose crops nudged read 4 at 0.1 and 7 (read 7x8+5=26 since the
    # sixteenth round: its loopless 9 read as the page's 7s too, three misreads, still unsure).
    (8030, "(1)/(6)+(5)/(6)=2", "7x8+5=26"),
    # patrick-hand: 33/3=12 is wrong (36/3=12 or 33/3=11), its 2 stands under every nudge.
    (8004, "33/3=12", None),
])
def test_a_wrong_answer_a_confusion_would_right_is_marked_wrong_when_its_crop_stands(recognizer, seed, wrong, hand):
    # Issue 21, tenth round: these wrong answers were unsure (a 2 for 1, or two of one hand's sure misreads,
    # would right them); the crop, asked again, keeps its digit, and they are marked wrong. The hand's sure
    # misreads of a right answer on the same page stay unsure.
    _read_wrong_and_hand_unsure(recognizer, seed, wrong, hand)


@pytest.mark.parametrize("seed, wrong, hand", [
    # pendigits writer 42: 53+35=87 is wrong (53+34=87 would be right); its 5 gives the 4 nothing under any
    # nudge, two nudges read it as a third digit. (Its loopless 9 of 99+19=118 is read 9 since the sixteenth
    # round: the page's 9s.)
    (7038, "53+35=87", None),
    # MNIST: 12x5=58 is wrong (12x4=48, two 5s read for 4s); the first 5, read at 0.86, reads as another
    # digit in five nudges, never as 4.
    (7055, "12x5=58", None),
])
def test_a_wrong_answer_whose_crop_nudged_reads_a_third_digit_is_marked_wrong(recognizer, seed, wrong, hand):
    # Issue 21, session 23: these wrong answers were unsure because a nudge read the digit a confusion of the
    # table would change as something else; a nudge that shows no chance of the digit meant is no doubt
    # (``recognizer.nudged_chance``), and they are marked wrong; no right answer of the page is.
    _read_wrong_and_hand_unsure(recognizer, seed, wrong, hand)


@pytest.mark.parametrize("seed, wrong, hand", [
    # pendigits writer 41: 83+97=182 is wrong (83+99=182 would be right); its 7 is written as the page's right
    # sums write their 7s. (8034's 27-3=26, here until the sixteenth round, is unsure again: three of one
    # hand's sure misreads, 2 for 7 twice and 7 for 9, would right it.)
    (8059, "83+97=182", None),
    # pendigits writer 42: 7x6=42 read 7x6=52, a 4 read as a sure 5, stays unsure (the page confirms no 4 written
    # so). (7038's 99+19=118, read 79+19=118 and unsure here until the fifteenth round, is now read right: its
    # 7 is far more like the page's confirmed 9s: test_a_digit_written_as_the_pages_confirmed_digits_...)
    (8018, None, "7x6=52"),
])
def test_a_seven_the_pages_right_sums_show_written_as_a_seven_marks_a_wrong_answer_wrong(recognizer, seed, wrong, hand):
    # Issue 21, thirteenth round: a wrong answer that a 9 read as 7 would right was always unsure; it is marked
    # wrong when the 7 is more like the 7s than the 9s of the page's right sums. A hand's 9 read as 7 in a
    # right answer stays unsure.
    _read_wrong_and_hand_unsure(recognizer, seed, wrong, hand)


@pytest.mark.parametrize("seed, wrong", [
    (7008, "38+17=57"),   # patrick-hand: no right sum of the page shows a 7; its 7s read surely do
    (9010, "41-32=7"),    # patrick-hand again: the answer's 7 is written as the page's sure 7s
])
def test_a_seven_written_as_the_pages_sure_sevens_marks_a_wrong_answer_wrong(recognizer, seed, wrong):
    # Issue 21, sixteenth round: a wrong answer that a 9 read as 7 would right was unsure where the page's
    # right sums confirm no 7 (or no 9); the page's digits read surely now show the hand's 7.
    _read_wrong_and_hand_unsure(recognizer, seed, wrong, None)


@pytest.mark.parametrize("seed, wrong, hand", [
    # reenie-beanie: 84/7=22 is wrong (84/7=12 right); its answer's first 2, nudged, gives the 1 0.055, but it is
    # 0.43 more like the 2s the page's right sums confirm than their 1s: written as this hand writes a 2.
    (7015, "84/7=22", None),
    # pendigits writer 40 bases its 1s: 22/2=11 read 22/2=12 stays unsure (its 2 leans to the page's confirmed 2s,
    # one of them a based 1 of the right 11+30=41 read 12+30=42, by less than PAGED's margin).
    (12003, None, "22/2=12"),
])
def test_a_two_written_as_the_pages_confirmed_twos_marks_a_wrong_answer_wrong(recognizer, seed, wrong, hand):
    # Issue 21, session 29: a wrong answer a 1 read as 2 would right was unsure wherever the 2's crop, nudged, gave
    # the 1 a chance; where it is far more like the page's confirmed 2s than its confirmed 1s it is marked wrong.
    _read_wrong_and_hand_unsure(recognizer, seed, wrong, hand)


def test_a_plus_with_a_short_upright_read_as_a_low_slash_is_never_marked_wrong(recognizer):
    # Issue 21, session 29: on the fresh worksheet 60043 (pendigits writer 35, squared paper) the + of the right
    # (9+8)x4=68, a long bar crossed by a short upright, is one rising stroke to the shape test of a slash written
    # low and long: read (9/8)x4=68, it was marked wrong. Such a slash may be a + (LOW_SLASH_ALTERNATIVES).
    _read_unsure_and_no_right_answer_wrong(recognizer, 60043, "(9/8)x4=68")


@pytest.mark.parametrize("seed, read, written", [
    (4173, "15-8=6", "14-8=6"),   # the hand's 4 read as a sure 5, alone on the page
    (4363, "6x8=58", "6x8=48"),
])
def test_a_right_answer_writer_42s_four_read_as_five_alone_made_look_wrong_is_never_marked_wrong(recognizer, seed, read, written):
    # Issue 21, sixteenth round: pendigits-only worksheets in writer 42's hand, each marked a right answer wrong
    # before (5 for 4 took two sums of the page). One sum now asks the 5's crop, which gives the 4 a chance.
    # Since the seventeenth round 4363's is read 6x8=48, right: the 5's crop, nudged, gives the 4 a chance and is
    # more like the page's 4s than its 5s (``expressions._nudge_read``).
    sheet = make_worksheet(seed, writer="pendigits")
    assert sheet.writer == "pendigits writer 42"
    result = recognizer.process(Frame(seed, 0.0, sheet.image))
    found = {e.text: e.verdict for e in result.expressions}
    assert found.get(read) == "unsure" or found.get(written) == "right", [e.line() for e in result.expressions]
    assert score_sheet(sheet, result.expressions)["right_marked_wrong"] == 0


def test_a_doubt_of_the_plain_reading_stands_where_the_possible_signs_read_the_same_text(recognizer):
    # 21044 (writer 42): "46+80=126" read "56+80=126", the hand's 4 read 5, is unsure; the reading with the page's
    # possible signs reads the same text (a possible slash of its answer's 1 left a digit) and marked it wrong.
    sheet = make_worksheet(21044)
    result = recognizer.process(Frame(21044, 0.0, sheet.image))
    assert {e.text: e.verdict for e in result.expressions}.get("56+80=126") == "unsure", [e.line() for e in result.expressions]
    assert score_sheet(sheet, result.expressions)["right_marked_wrong"] == 0


def test_a_worksheet_is_written_whole_in_another_hand_and_a_missing_one_is_named(monkeypatch):
    # The other hands are font files for evaluation (tools/score_worksheets.py --other-hands); DejaVu Sans,
    # the type every Debian machine has, stands in for one here.
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font.is_file():
        pytest.skip("DejaVu Sans is not installed")
    sheet = make_worksheet(2000, hand=str(font))
    assert sheet.writer == "hand DejaVuSans"
    assert sheet.expressions and sheet.glyphs
    assert not np.array_equal(sheet.image, make_worksheet(2000).image)
    from livedigits.train import writers

    monkeypatch.setattr(writers, "OTHER_HANDS", (("fonts-nothing", "/nonexistent/hand.ttf"),))
    with pytest.raises(ValueError, match="apt install fonts-nothing"):
        writers.other_hands()


def test_a_right_answer_whose_digit_the_page_shows_only_in_an_open_sum_is_read_right(recognizer):
    # Session 27: worksheet 12028, pendigits writer 40's based 1 of (4)/(6)+(1)/(2)=(7)/(6) read as a sure 2 (unsure:
    # 2 for 1). Its crop, nudged, gives the 1 a chance, and the page's only sure 1 like it stands in an open sum.
    # An open sum checks nothing, so it is no evidence against a reading (``expressions.UNCHECKED``), but it may
    # show the digit an unsure sum is read as (``expressions._nudge_read``'s ``seen``): read right.
    sheet = make_worksheet(12028)
    result = recognizer.process(Frame(12028, 0.0, sheet.image))
    found = {e.text: e.verdict for e in result.expressions}
    assert found.get("(4)/(6)+(1)/(2)=(7)/(6)") == "right", [e.line() for e in result.expressions]
    assert score_sheet(sheet, result.expressions)["right_marked_wrong"] == 0


def test_a_worksheet_page_cuts_each_digit_as_its_pen_drew_it():
    """The crop path of a worksheet page (``tools/crop_path.py``: pendigits test writers' digits drawn as the
    worksheet draws them, written on a page, cut by the segmentation) reads each digit as the same ink read
    straight from the pen does: on all 3,498 digits the two agree on 99.5% (docs/arithmetic.md, session 29).
    A crop cut wrong, padded or thickened off what the model learned would part them."""
    import importlib.util

    from livedigits.train.writers import _pendigits_indices, draw_strokes, load_pendigits
    from livedigits.vision.normalize import normalize_ink

    spec = importlib.util.spec_from_file_location("crop_path", ROOT / "tools" / "crop_path.py")
    crop_path = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(crop_path)
    pen = load_pendigits()
    ids = _pendigits_indices(train=False)[::29][:120]  # every writer, every digit
    rng = np.random.default_rng(1)
    inks = [draw_strokes(pen["strokes"][i], rng, height=96, pen=0.1, slant=0.05) for i in ids]
    page, found = crop_path.page_crops(inks)
    assert found.all()
    classifier = load_classifier()
    straight = np.asarray(classifier.predict(np.stack([normalize_ink(k) for k in inks])[..., None])).argmax(1)
    on_page = np.asarray(classifier.predict(page[..., None])).argmax(1)
    assert (straight == on_page).sum() >= 118, (straight != on_page).sum()


@pytest.mark.parametrize("seed, text, verdict", [
    # MNIST test digits: the answer's last 1 leans, the sign classifier takes it for a slash, the digit model
    # reads a sure 1 (0.90, 0.86): the wrong answer was never marked wrong on it (issue 21, session 30).
    (15037, "81/9=11", "wrong"),
    (17006, "21-11=11", "wrong"),
    # ... but left out, that 1 leaves a right answer (21-20=1 and a stroke after it): in doubt.
    (20009, "21-20=11", "unsure"),
])
def test_a_wrong_answer_whose_last_digit_was_taken_for_a_slash_is_marked_wrong(recognizer, seed, text, verdict):
    sheet = make_worksheet(seed)
    result = recognizer.process(Frame(seed, 0.0, sheet.image))
    assert (text, "wrong") in {(e.text, e.verdict) for e in sheet.expressions}
    assert {e.text: e.verdict for e in result.expressions}.get(text) == verdict, [e.line() for e in result.expressions]
    assert score_sheet(sheet, result.expressions)["right_marked_wrong"] == 0

"""Handwritten arithmetic: numbers and signs on a line -> expressions, exact values and verdicts.

Three steps, each a plain function a test can call on its own:

1. :func:`parse` and :func:`evaluate`: a written expression (``"12+7"``, ``"2(3+4)"``, ``"(1)/(2)"``) in
   exact arithmetic with :class:`fractions.Fraction`, never ``eval``. Precedence (x and / before + and -),
   parentheses, unary minus, implicit multiplication before a parenthesis (``2(3)`` and ``(1)(2)``), and no
   value on division by zero.
2. :func:`check`: an equation's verdict. ``right`` or ``wrong`` when the value after ``=`` is compared with
   the value before it; ``open`` when nothing is written after ``=`` (or there is no ``=``: a sum to work
   out); ``unsure`` when a symbol was read below the confidence threshold or the text does not parse. A
   checker must never mark wrong what it is not sure of, so every doubt ends in ``unsure``.
3. :func:`read_expressions`: the numbers and signs the recognizer found in a frame, laid out in lines,
   stacked fractions (a bar with writing above and below) made ``(a)/(b)``, and each line cut into
   expressions where two operands follow each other with no sign between.

Texts use only ``0-9 + - x / = ( )``: every multiplication sign is ``x``, every division sign ``/``.
"""

from __future__ import annotations

import collections
import functools
import itertools
import statistics
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from livedigits.types import NOT_A_DIGIT, Box, Detection, Number, Sign

#: The characters of an expression's text.
OPERATORS = "+-x/"
SIGN_CHARS = OPERATORS + "=()"
VERDICTS = ("right", "wrong", "open", "unsure")


@dataclass(frozen=True)
class ExpressionConfig:
    """Named knobs of reading arithmetic. Distances are in digit heights of the line."""

    min_confidence: float = 0.6
    """A digit read below this makes its expression ``unsure`` rather than open, and rather than right or
    wrong unless the structure decides (``right_confidence``, ``decode_level``; a wrong one is also checked
    against the other readings of its symbols: see ``alternative_level``)."""
    split_gap: float = 1.6
    """A gap wider than this between two pieces of one line that could each stand alone starts a new
    expression (sums written side by side on a worksheet)."""
    line_overlap: float = 0.55
    """A sign belongs to a line when its centre is within this share of the line's height of the line's
    centre (signs are smaller than digits and sit at mid height)."""
    fraction_reach: float = 1.3
    """The numerator and denominator of a stacked fraction lie within this many digit heights above and
    below its bar."""
    column_gap: float = 4.0
    """A gap wider than this always starts a new expression: the next column of a worksheet."""
    join_gap: float = 0.9
    """Two numbers closer than this with no sign between are one number of the expression ("1 2x9" is
    12x9: a number split at a wide gap between its digits); its verdict is then never ``wrong``."""
    fraction_bar: float = 1.6
    """A fraction's bar is at most this many times as long as the wider of its numerator and denominator
    (and half a digit height): about 1.1 on the worksheets."""
    fraction_overhang: float = 0.35
    """... and stick out past the bar's ends by at most this share of their own width."""
    wrong_confidence: float = 0.75
    """... and a ``wrong`` needs every symbol read at least this surely (a right answer read wrong takes a
    misread; a misread that happens to make a sum right is far rarer)."""
    alternative_level: float = 0.005
    """A reading of a digit or sign with at least this probability is a fair alternative: an answer that
    one such alternative would make right is ``unsure``, not ``wrong``. Above one step of the int8 model's
    output (1/256 = 0.0039), which is its rounding floor more than a reading: two steps or more. (It was
    0.003, any step: on the tuning worksheets, seeds 0-259, 3000-3059 and 7000-7059, readings at one step
    kept 10 wrong answers ``unsure`` and no right answer from ``wrong``.)"""
    sign_min_confidence: float = 0.45
    """As ``min_confidence``, for a sign (the sign classifier's x and + share their probability; the one
    not chosen is the sign's alternative, checked before any ``wrong``)."""
    sign_wrong_confidence: float = 0.45
    """As ``wrong_confidence``, for a sign."""
    sign_band: tuple[float, float] = (0.2, 0.85)
    """An operator written between numbers (``+ - x =``) has its centre within this band of their height,
    from their top: at mid height, not on their baseline or above them (a piece of a digit, a mark)."""
    max_overlap: float = 0.15
    """An operator reaches at most this many digit heights into the box of a number beside it."""
    max_baseline: float = 0.5
    """The numbers either side of an operator stand on one baseline: their bottoms at most this many digit
    heights apart (0.34 in the real photos read right, 0.18 on the generated worksheets) ..."""
    max_height_ratio: float = 1.8
    """... and the taller at most this many times the height of the other."""
    max_dash: float = 0.3
    """A minus is at most this many digit heights thick."""
    clear_ink: float = 0.25
    """An operator has no other ink of some size (not of the numbers and signs of its line) closer than this
    many digit heights: a dash with ink touching it is a piece of an unread digit or a mark."""
    max_digits: int = 6
    """An operand of more digits is a phone number, a code or a row of boxed digits: not a sum."""
    right_confidence: float = 0.3
    """An equation whose reading is right is ``right`` with every symbol read at least this surely (below
    ``min_confidence`` it is right only in that reading; the structure decides between readings) ..."""
    sign_right_confidence: float = 0.3
    """As ``right_confidence``, for a sign ..."""
    possible_right_confidence: float = 0.1
    """... and for one in the reading with possible signs (``with_possible_signs``): a small x or + the sign
    classifier half takes for a mark (``SignConfig.weak_sign``) makes an equation right only in that
    reading, for read otherwise it is no sum at all or a wrong one."""
    weak_digit: float = 0.35
    """A piece the digit model reads as a digit too unsurely to report, and no sign, stands in a sum as its
    likeliest digit when that has at least this probability (the sum is unsure unless its structure
    decides: ``right_confidence``, ``decode_level``); the numbers reported are unchanged."""
    decode_level: float = 0.02
    """... and so is one that reading one symbol, surely read or not, as an alternative its classifier gave
    at least this much makes right (that reading is the one reported). Five steps of the int8 model's
    output: on the tuning worksheets (seeds 0-199, 3000-3199) 0.1 gave 13 fewer right verdicts, 0.005 seven
    more, from readings of one or two steps; a wrong answer is taken for right when a misread happens to
    make it so (``8x3=26`` whose 6 the model gave a 4 at 0.023 is read ``8x3=24``, right)."""
    one_for_seven: float = 0.3
    """A digit read as 7 whose 1 was given at least this is a 1 in the sums (at ``min_confidence``: it may
    make an equation right or open, wrong only when its 7 would be wrong too); the numbers reported are
    unchanged. Held-out hands write a 1 with a flag that the digit model reads as a 7 by 0.55-0.7: on the
    tuning worksheets (seeds 0-199, 3000-3199) 55 of the 88 true 1s read as 7 gave the 1 at least 0.3, and
    none of the 1332 true 7s read as 7 (2 gave it 0.2-0.25)."""
    no_digit_level: float = 0.02
    """A digit read unsurely whose "no digit" (``?``) was given at least this may be a piece of anything: a sum
    holding it is not judged wrong. Given less, it is one of its digit readings (the tuning seeds: 14 more
    verdicts right, none marked wrong; 0.05 marked a right one wrong)."""
    x_for_plus: float = 0.3
    """A sign read as + whose x the sign classifier gave at least this is an x in the sums (at
    ``sign_min_confidence``, the + its alternative). Held-out hands' x read as +: on the tuning worksheets
    10 of the 33 gave the x at least 0.3, 2 of the 1963 true + read as + did (0.25: 13 and 4)."""
    touching_width: float = 0.9
    """A digit at least this many digit heights wide may be two digits touching, read as one (a font's ``12``
    written close, read as one sure 2): a ``wrong`` that reading it as any two digits would make right is
    ``unsure`` (``_touching_pair``). Single digits on the generated worksheets stand 0.66 digit heights wide
    (median), 0.98 at the 90th percentile: on seeds 0-199, 7000-7059 and 8000-8059 this doubts 2 of about
    1,000 wrong answers."""
    pair_level: float = 0.01
    """An answer that reading two symbols as alternatives each given at least this would make right is
    ``unsure``, not ``wrong``: a held-out writer's sum with two digits misread (``8x8=64`` read ``8x1=65``,
    the 1's 8 at 0.055, the 5's 4 at 0.02). Below it, pairs of near-zero readings would doubt most wrong
    answers; at it, the tuning seeds lost one wrong answer for two right ones no longer marked wrong."""


DEFAULT_EXPRESSIONS = ExpressionConfig()


@dataclass(frozen=True)
class Expression:
    """An expression as written and what it is worth.

    ``value``: the exact value of the part before ``=`` (of the whole, without one); None on division by
    zero or when it does not parse. ``answer``: the value written after the last ``=``; None when nothing
    is written there. ``verdict``: one of :data:`VERDICTS`.
    """

    text: str
    box: Box
    value: Fraction | None
    answer: Fraction | None
    verdict: str
    confidence: float = 1.0

    def to_record(self) -> dict:
        """The JSON Lines form: ``{"text", "box", "value", "answer", "verdict"}`` (values as ``"7/3"``)."""
        return {"text": self.text, "box": self.box.as_list(), "value": format_value(self.value),
                "answer": format_value(self.answer), "verdict": self.verdict}

    def line(self, answers: bool = False) -> str:
        """One line for a person: ``12+7=19 right``; with ``answers``, an open one with its value."""
        if answers and self.verdict == "open" and self.value is not None:
            return f"{self.text} open ({format_value(self.value)})"
        return f"{self.text} {self.verdict}"


def format_value(value: Fraction | None) -> str | None:
    """``"19"``, ``"-7/3"`` (reduced, as Fraction keeps it) or None."""
    if value is None:
        return None
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


# --------------------------------------------------------------------------- parsing and evaluating


class ParseError(ValueError):
    """The text is not a well-formed expression."""


class DivisionByZero(ArithmeticError):
    """The expression divides by zero: it has no value."""


def tokenize(text: str) -> list[str]:
    """``"12+7"`` -> ``["12", "+", "7"]``; every other character than digits and signs is a ParseError."""
    tokens: list[str] = []
    spaced = False  # a space ends a number: "12 34" is two numbers, not 1234
    for ch in text:
        if ch == " ":
            spaced = True
            continue
        if ch.isdigit() and ch.isascii():
            if tokens and tokens[-1].isdigit() and not spaced:
                tokens[-1] += ch
            else:
                tokens.append(ch)
        elif ch in SIGN_CHARS:
            tokens.append(ch)
        else:
            raise ParseError(f"unexpected {ch!r}")
        spaced = False
    return tokens


class _Parser:
    """Recursive descent over tokens::

        sum     := product (("+" | "-") product)*
        product := unary (("x" | "/") unary | implicit)*      implicit: a "(" right after an operand
        unary   := "-" unary | primary
        primary := NUMBER | "(" sum ")"
    """

    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ParseError("ends too soon")
        self.at += 1
        return token

    def whole(self) -> Fraction:
        if not self.tokens:
            raise ParseError("empty")
        value = self.sum()
        if self.peek() is not None:
            raise ParseError(f"unexpected {self.peek()!r}")
        return value

    def sum(self) -> Fraction:
        value = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.product()
            value = value + right if op == "+" else value - right
        return value

    def product(self) -> Fraction:
        value = self.unary()
        while True:
            token = self.peek()
            if token in ("x", "/"):
                self.take()
                right = self.unary()
            elif token == "(":  # 2(3+4), (1)(2): multiplication written by juxtaposition
                right = self.primary()
                token = "x"
            else:
                return value
            if token == "/":
                if right == 0:
                    raise DivisionByZero("division by zero")
                value = value / right
            else:
                value = value * right

    def unary(self) -> Fraction:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.primary()

    def primary(self) -> Fraction:
        token = self.take()
        if token.isdigit():
            return Fraction(int(token))
        if token == "(":
            value = self.sum()
            if self.take() != ")":
                raise ParseError("missing )")
            return value
        raise ParseError(f"unexpected {token!r}")


def parse(text: str) -> None:
    """Raise ParseError unless ``text`` (no ``=``) is a well-formed expression. Division by zero parses."""
    try:
        evaluate(text)
    except DivisionByZero:
        pass


def evaluate(text: str) -> Fraction:
    """The exact value of ``text`` (no ``=``). ParseError when malformed, DivisionByZero when it divides by
    zero anywhere (even in a part that would be multiplied by 0: the written expression has no value)."""
    # A parse error wins over a division by zero: "1/0+" is malformed, not undefined.
    tokens = tokenize(text)
    _check_shape(tokens)
    return _Parser(tokens).whole()


def _check_shape(tokens: list[str]) -> None:
    """Raise ParseError for malformed input without evaluating (so that it is reported before a division
    by zero met on the way)."""
    depth = 0
    prev = None
    for token in tokens:
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0 or prev in (None, "(", *OPERATORS):
                raise ParseError("unbalanced )")
        elif token in OPERATORS:
            # Only a minus may start an operand (unary minus); no two binary operators in a row otherwise.
            if token != "-" and prev in (None, "(", *OPERATORS):
                raise ParseError(f"{token!r} has nothing before it")
        elif token.isdigit() and prev is not None and (prev.isdigit() or prev == ")"):
            raise ParseError("two operands with no operator")
        prev = token
    if depth != 0:
        raise ParseError("unbalanced (")
    if prev is None or prev in OPERATORS or prev == "(":
        raise ParseError("ends with an operator")


def value_of(text: str) -> Fraction | None:
    """:func:`evaluate`, with None on division by zero (ParseError still raised)."""
    try:
        return evaluate(text)
    except DivisionByZero:
        return None


def check(text: str, sure: bool = True) -> tuple[Fraction | None, Fraction | None, str]:
    """``(value, answer, verdict)`` of an expression as written, such as ``"12+7=19"``.

    ``value`` is the value before the first ``=``; ``answer`` the value after the last one. Every part
    between ``=`` signs must have the value of the first for ``right``. ``sure=False`` (a symbol read below
    the confidence threshold) turns a right or wrong verdict into ``unsure``: it is reported, not judged.
    """
    parts = text.split("=")
    try:
        values = [None if (k == len(parts) - 1 and k > 0 and part == "") else _value_or_none(part)
                  for k, part in enumerate(parts)]
    except ParseError:
        return None, None, "unsure"
    value = values[0]
    if len(parts) == 1 or (len(parts) == 2 and parts[1] == ""):
        # A sum to work out, or one whose answer is still to be written.
        return value, None, "open" if sure else "unsure"
    if parts[-1] == "":
        return value, None, "unsure"  # "1+1=2=": more than one = with an empty end
    if not any(op in parts[0].lstrip("-") for op in OPERATORS):
        # "9=36": no sum before the = (its start unread, or not arithmetic): nothing to judge.
        return value, values[-1], "unsure"
    answer = values[-1]
    if not sure:
        return value, answer, "unsure"
    if value is None:
        # No value (division by zero): no written number can equal it.
        return value, answer, "wrong"
    return value, answer, "right" if all(v == value for v in values[1:]) else "wrong"


def _well_formed(text: str) -> bool:
    """Does every part of ``text`` between ``=`` signs parse (an empty last part: an open question)?"""
    parts = text.split("=")
    for k, part in enumerate(parts):
        if k == len(parts) - 1 and k > 0 and part == "":
            continue
        try:
            parse(part)
        except ParseError:
            return False
    return True


def _value_or_none(part: str) -> Fraction | None:
    if part == "":
        raise ParseError("nothing before =")
    return value_of(part)


# --------------------------------------------------------------------------- laying out a frame


@dataclass
class _Item:
    """One piece of an expression on a line: a number, a sign, or a stacked fraction (its text already
    written as ``(a)/(b)``). ``operand``: it can stand as an operand on its own."""

    text: str
    box: Box
    confidence: float
    operand: bool
    height: float  # the digit height it stands for (a sign's own box is smaller)
    starts: bool = False  # "(": opens an operand
    ends: bool = False  # ")": closes one
    alts: list = field(default_factory=list)  # (position in text, another character it may be, its probability)
    from_digit: bool = False  # a sign the digit model read as a digit; an operand: such a sign read as its digit
    digit_confidence: float = 0.0  # from_digit: the digit model's probability of that digit
    joined: bool = False  # two numbers read apart, joined here, or a number with a sliver read as a digit
    stroke: list = field(default_factory=list)  # places in text of digits that may be a stroke (``_stroke_doubt``)
    pieces: list = field(default_factory=list)  # the boxes of the digits and signs it is made of
    parts: list = field(default_factory=list)  # a fraction's bar and the items above and below it
    centre: float | None = None  # a fraction's line height is its bar's, not its box's middle


#: A digit narrower than this share of its height, this close (same share) to its neighbour, may be a
#: sliver of the neighbour cut off, not a 1 of its own.
SLIVER = 0.12


#: Two digits of a number overlapping side by side by more than this share of the narrower one, one of them
#: shorter than ``SHORT`` of the number's height, may be two pieces of one digit.
PIECES = 0.3
SHORT = 0.8
#: Two digits whose boxes meet closer than this share of the digit height may be one piece of ink the
#: segmentation cut in two (``recognizer.decide_splits``): a wide digit read as two.
CUT_GAP = 0.05


def _number_item(number: Number, alternatives: dict, config: ExpressionConfig = DEFAULT_EXPRESSIONS) -> _Item:
    confidence = min((d.confidence for d in number.digits), default=number.confidence)
    alts = [(k, *_chance(alt)) for k, d in enumerate(number.digits) for alt in alternatives.get(d.box, ())]
    text = number.text
    flagged = [k for k, d in enumerate(number.digits) if d.digit == 7 and k < len(text)
               and any(pos == k and alt == "1" and p >= config.one_for_seven for pos, alt, p in alts)]
    if flagged:
        # A 1 with a flag: in the sums it is the 1, read at min_confidence, and the 7 its alternative (see
        # one_for_seven).
        for k in flagged:
            text = text[:k] + "1" + text[k + 1:]
        alts = [a for a in alts if a[0] not in flagged or a[1] != "1"] + [(k, "7", number.digits[k].confidence) for k in flagged]
        confidence = min([config.min_confidence] + [d.confidence for k, d in enumerate(number.digits) if k not in flagged])
    h = float(number.box.h)
    sliver = any(min(a.box.w, b.box.w) < SLIVER * h and b.box.x - a.box.x2 < SLIVER * h
                 for a, b in zip(number.digits, number.digits[1:]))
    # Two pieces of one digit read as two (a 4 written in two strokes read as 11): they overlap side by side
    # and one stands short.
    sliver |= any(a.box.x2 - b.box.x > PIECES * min(a.box.w, b.box.w) and min(a.box.h, b.box.h) < SHORT * h
                  for a, b in zip(number.digits, number.digits[1:]))
    return _Item(text, number.box, confidence, True, h, alts=alts,
                 pieces=[d.box for d in number.digits] or [number.box], joined=sliver)


def weak_digits(candidates, probabilities, doubts, reported, level: float) -> list[Detection]:
    """The pieces read as a digit too unsurely to report (below ``ReadingConfig.min_confidence``) that are
    no sign either (``doubts`` of ``vision.signs.find_signs``), as detections of their likeliest digit when
    it has at least ``level``: what an equation may make of them (``ExpressionConfig.weak_digit``).
    ``reported``: the boxes of the digits reported before the signs were found (not weak ones)."""
    doubts = set(doubts)
    out = []
    for candidate, probs in zip(candidates, probabilities):
        if candidate.box not in doubts or candidate.box in reported:
            continue
        # Its likeliest digit, even where "no digit" is given more: the sign classifier saw a digit in it
        # (a doubt), and the digit model half did (the 4 ending "134", read 0.58 no digit and 0.41 4).
        digit = int(np.argmax(np.asarray(probs)[:NOT_A_DIGIT]))
        if float(probs[digit]) >= level:
            out.append(Detection(box=candidate.box, digit=digit, confidence=float(probs[digit])))
    return out


def digit_alternatives(probs, level: float) -> tuple[tuple[str, float], ...]:
    """The other readings of a digit given at least ``level``, with their probabilities: the other digits,
    and ``?`` for "no digit" (``probs``: the digit model's 11 outputs)."""
    # Plain floats (the same float64 values): this runs for every digit of every frame. A list is taken as
    # such (the recognizer converts a frame's rows at once).
    if not isinstance(probs, list):
        probs = np.asarray(probs, np.float64).tolist()
    top = max(range(10), key=probs.__getitem__)  # the first of equal maxima, as np.argmax
    out = [(str(k), probs[k]) for k in range(10) if k != top and probs[k] >= level]
    if len(probs) > NOT_A_DIGIT and probs[NOT_A_DIGIT] >= level:
        out.append(("?", probs[NOT_A_DIGIT]))
    return tuple(out)


def _chance(alt) -> tuple[str, float]:
    """An alternative as given: a character, or a character and its probability (0 when not given: such an
    alternative is checked before a ``wrong``, never chosen)."""
    return (alt, 0.0) if isinstance(alt, str) else (str(alt[0]), float(alt[1]))


def _sign_item(sign: Sign, height: float, config: ExpressionConfig = DEFAULT_EXPRESSIONS) -> _Item:
    alts = [(0, alt, sign.odds[k] if k < len(sign.odds) else 0.0) for k, alt in enumerate(sign.alternatives)]
    char, confidence = sign.char, sign.confidence
    # A + whose x was given a fair chance is an x in the sums, the + its alternative (see x_for_plus).
    times = next((p for _, alt, p in alts if alt == "x"), 0.0) if char == "+" else 0.0
    if times >= config.x_for_plus:
        alts = [a for a in alts if a[1] != "x"] + [(0, "+", confidence)]
        char, confidence = "x", config.sign_min_confidence
    return _Item(char, sign.box, confidence, False, height,
                 starts=sign.char == "(", ends=sign.char == ")", alts=alts,
                 from_digit=sign.from_digit, digit_confidence=sign.digit_confidence, pieces=[sign.box])


def _centre_y(box: Box) -> float:
    return box.y + box.h / 2.0


#: The share of its own height by which a numerator's or denominator's box may reach past its bar's middle.
FRACTION_DIP = 0.2


def _fractions(items: list[_Item], config: ExpressionConfig) -> list[_Item]:
    """Stacked fractions: a minus-like bar with writing right above it and right below it, both within
    its ends, becomes one operand ``(above)/(below)``. The bar is the widest first, so a fraction of
    fractions takes its inner ones whole."""
    bars = sorted((it for it in items if it.text == "-"), key=lambda it: -it.box.w)
    for bar in bars:
        if bar not in items:
            continue
        bx0, bx1, by = bar.box.x, bar.box.x2, _centre_y(bar.box)
        above, below = [], []
        for it in items:
            if it is bar:
                continue
            over = it.box.w * config.fraction_overhang
            if it.box.x < bx0 - over or it.box.x2 > bx1 + over:
                continue
            reach = config.fraction_reach * max(it.height, 1.0)
            # A digit's box may take in a bit of the bar (what a ruled line's removal left of it touching
            # the digit): it may reach a little past the bar's middle, its own middle well clear of it.
            dip = FRACTION_DIP * it.box.h
            if it.box.y2 <= by + dip and _centre_y(it.box) < by - dip and by - it.box.y2 <= reach * 0.6 + it.box.h * 0.1 and by - _centre_y(it.box) <= reach:
                above.append(it)
            elif it.box.y >= by - dip and _centre_y(it.box) > by + dip and it.box.y - by <= reach * 0.6 + it.box.h * 0.1 and _centre_y(it.box) - by <= reach:
                below.append(it)
        if not all(any(it.operand for it in part) or _lone_bracket(part) for part in (above, below)):
            continue
        # A sign above or below the bar that stands off the mid height of the digits beside it there is no
        # sign of the numerator or denominator: a piece of a digit (an MNIST 5's hat cut off its bowl, read
        # as a dash: "(1)/(5-)"). It is ink of the fraction, no character of it; the fraction is never
        # wrong on it (``joined``).
        strays = [it for part in (above, below) for it in part if not it.operand and _off_band(it, part, config)]
        digits = {}
        for part in (above, below):
            # ... and so is a sign that ends it, or starts it (but a minus or a "("): "(5-)" is no denominator. A
            # digit the sign classifier took for that sign is its digit again (an MNIST 1 read as a slash:
            # "(/5)"), never wrong on it alone (``joined``).
            kept = sorted((it for it in part if it not in strays), key=lambda it: it.box.x)
            ends = []
            while kept and not kept[-1].operand and kept[-1].text != ")":
                ends.append(kept.pop())
            while kept and not kept[0].operand and kept[0].text not in "-(":
                ends.append(kept.pop(0))
            for it in ends:
                # A numerator or denominator that is one bracket the sign classifier alone read is its digit
                # too (writer 42's 5 of "(5)/(6)" a sure "(", the digit model's likeliest digit 5 at 0.28).
                digit = (next((alt for _, alt, _ in it.alts if alt.isdigit()), None)
                         if it.from_digit or _lone_bracket(part) else None)
                if digit is None:
                    strays.append(it)
                else:
                    digits[id(it)] = _Item(digit, it.box, config.min_confidence, True, it.height, pieces=[it.box],
                                           joined=True)
        above = [digits.get(id(it), it) for it in above if it not in strays]
        below = [digits.get(id(it), it) for it in below if it not in strays]
        # A bar far longer than what stands above and below it is a rule of a table or a form, not a
        # fraction's bar (one is written about as long as the longer of the two).
        whole_above = above + [it for it in strays if _centre_y(it.box) < by]
        whole_below = below + [it for it in strays if _centre_y(it.box) >= by]
        span = max(max(it.box.x2 for it in whole_above) - min(it.box.x for it in whole_above),
                   max(it.box.x2 for it in whole_below) - min(it.box.x for it in whole_below))
        if bar.box.w > config.fraction_bar * span + 0.5 * bar.height:
            continue
        top = "".join(it.text for it in sorted(above, key=lambda it: it.box.x))
        bottom = "".join(it.text for it in sorted(below, key=lambda it: it.box.x))
        box = bar.box
        for it in above + below:
            box = box.union(it.box)
        height = float(statistics.median([it.height for it in above + below]))
        conf = min([bar.confidence] + [it.confidence for it in above + below])
        # The alternatives of the digits above and below, at their places in "(top)/(bottom)".
        alts, at = [], 1
        for it in sorted(above, key=lambda it: it.box.x):
            alts += [(at + pos, a, p) for pos, a, p in it.alts]
            at += len(it.text)
        at += 3
        for it in sorted(below, key=lambda it: it.box.x):
            alts += [(at + pos, a, p) for pos, a, p in it.alts]
            at += len(it.text)
        for it in strays:
            box = box.union(it.box)
        frac = _Item(f"({top})/({bottom})", box, conf, True, height, parts=[bar] + above + below, centre=by,
                     pieces=[p for it in [bar] + above + below + strays for p in it.pieces], alts=alts,
                     joined=bool(strays or digits))
        items[:] = [it for it in items if it is not bar and it not in above and it not in below and it not in strays] + [frac]
    return items


def _lone_bracket(part: list[_Item]) -> bool:
    """Is ``part`` (what stands above or below a fraction's bar) one bracket the sign classifier alone read, to
    which the digit model gave a digit a fair chance (``vision.signs._likeliest_digit``): a number written
    there, read as no digit? Or one slash or bracket taken from a digit the digit model read (``from_digit``, its
    digit among the alternatives): a numerator 1 the sign classifier read as a slash or a bracket. A numerator
    or a denominator is a number, so it is that digit (``_fractions``), never wrong on it alone."""
    return (len(part) == 1 and not part[0].operand and (part[0].text in "()" or part[0].from_digit and part[0].text == "/")
            and any(alt.isdigit() for _, alt, _ in part[0].alts))


def _off_band(sign: _Item, part: list[_Item], config: ExpressionConfig) -> bool:
    """Does ``sign`` stand off the band of mid height (``sign_band``) of the plain numbers of ``part`` (a
    fraction's numerator or denominator)?"""
    plain = [it for it in part if it.operand and not it.parts]
    if not plain:
        return False
    top = min(it.box.y for it in plain)
    h = max(it.box.h for it in plain)
    at = (_centre_y(sign.box) - top) / max(h, 1.0)
    return not config.sign_band[0] <= at <= config.sign_band[1]


def _item_centre(item: _Item) -> float:
    return _centre_y(item.box) if item.centre is None else item.centre


def _lines(items: list[_Item], config: ExpressionConfig) -> list[list[_Item]]:
    """Items on lines of writing, each left to right. Operands (numbers, fractions) make the lines; a sign
    joins the line nearest to it at its height. A line may slope a little: each item is compared with the
    line's last operand."""
    lines: list[list[_Item]] = []
    lasts: list[tuple[float, float, float]] = []  # per line: its last operand's centre y, right end, height
    for it in sorted((i for i in items if i.operand), key=lambda i: i.box.x):
        cy = _item_centre(it)
        best, best_cost = None, None
        for k, (ly, lx2, lh) in enumerate(lasts):
            height = max(it.height, lh)
            off = abs(cy - ly)
            gap = it.box.x - lx2
            if off > config.line_overlap * height or gap > 12 * height:
                continue
            cost = off + 0.1 * max(gap, 0)
            if best_cost is None or cost < best_cost:
                best, best_cost = k, cost
        if best is None:
            lines.append([it])
            lasts.append((cy, it.box.x2, it.height))
        else:
            lines[best].append(it)
            lasts[best] = (cy, it.box.x2, it.height)
    # Each line's operands as (centre x, centre y, height), and its extent, for the signs to find their line.
    shapes = [([(i.box.x + i.box.w / 2.0, _item_centre(i), i.height) for i in line],
               min(i.box.x for i in line), max(i.box.x2 for i in line)) for line in lines]
    for it in (i for i in items if not i.operand):
        cx, cy = it.box.x + it.box.w / 2.0, _item_centre(it)
        best, best_cost = None, None
        for k, (operands, x0, x1) in enumerate(shapes):
            _, ny, height = min(operands, key=lambda o: abs(o[0] - cx))
            off = abs(cy - ny)
            far = max(0.0, x0 - it.box.x2, it.box.x - x1)
            if off > config.line_overlap * height or far > 3 * height:
                continue
            cost = off + 0.1 * far
            if best_cost is None or cost < best_cost:
                best, best_cost = k, cost
        if best is not None:
            lines[best].append(it)
    for line in lines:
        line.sort(key=lambda i: i.box.x)
    lines.sort(key=lambda line: min(_item_centre(i) for i in line))
    return lines


def _signs_as_digits(line: list[_Item], config: ExpressionConfig, alternatives: dict | None = None) -> list[_Item]:
    """A digit the sign classifier took for a sign (a leaning 1 read as a slash) where no such sign can
    stand is the digit again: the equation decides. Right after an ``=`` or an operator, only an operand,
    a ``(`` or a minus may follow; right before an ``=``, at the end, or after an operator, no operator or
    ``(`` may stand; a ``)`` needs an operand before it. An answer is a number: a ``(`` right after an ``=``
    that no ``)`` of its own closes before the line's next ``=`` (``_closed``), or a ``)`` right after the number
    that follows an ``=``, is no bracket either (issue 21, session 25). A bracket the sign classifier alone read
    (a piece the digit model gave no reported digit) is read so only there, right after an ``=`` or right after
    the answer's number, as the digit model's likeliest digit (session 27: ``vision.signs._likeliest_digit``);
    so is a ``(`` that opens nothing (before a sign, but a minus its own ``)`` closes; or with nothing in reach
    after it) at the start of the line or right after a number (session 28: ``_in_a_number``).
    Its confidence is ``min_confidence``: it may make
    an equation right, never wrong on its own (``wrong_confidence``), unless it stands where an operand
    must: then it is read as the digit model read it (``alternatives``: its other readings by box)."""
    alternatives = alternatives or {}
    out = list(line)
    for k, it in enumerate(out):
        # A bracket made of a piece the digit model read but did not report carries that model's likeliest
        # digit too (``vision.signs._likeliest_digit``); it is read so only in an answer (below).
        bracket = not it.from_digit and it.text in "()"
        digit = (next((alt for _, alt, _ in it.alts if alt.isdigit()), None)
                 if (it.from_digit or bracket) and not it.operand else None)
        if digit is None:
            continue
        prev = out[k - 1] if k > 0 else None
        after = out[k + 1] if k + 1 < len(out) else None
        prev_sign = prev is None or (not prev.operand and not prev.ends)
        next_sign = after is None or (not after.operand and not after.starts)
        answer = False  # a "(" where an answer's digit stands
        if it.text in OPERATORS + ")":
            impossible = prev_sign and (prev is not None or after is None or next_sign)
            # The start of the line, or of the row's next sum: after an answer, a gap as wide as between two
            # sums (``split_gap``), and an equation ahead.
            begins = prev is None or (k >= 2 and out[k - 2].text == "=" and prev.operand
                                      and it.box.x - prev.box.x2 > config.split_gap * it.height
                                      and _equation_ahead(out[k:]))
            # No operator but a minus starts a sum ("/0x2=": a leaning 1 read as a sure slash, MNIST's
            # "10x2=", the row's second sum), unless it may be a sign that does ("/5+7)x4=48": its "(" is
            # given a chance, and ``_open_brackets`` reads it).
            impossible |= begins and not any(alt in "(-" and p >= config.decode_level for _, alt, p in it.alts)
            # An operator right before another operator, an "=" or the end of the line ("21/+39=70": a 1
            # of a held-out hand, taller than the 2 beside it and leaning, read as a slash). Only a minus
            # may follow one (a unary minus: "6/-3").
            impossible |= it.text in OPERATORS and next_sign and not (after is not None and after.text == "-")
            # ... or with nothing in reach after it: what follows stands as far as two sums of a row stand apart
            # (``split_gap``), the row's next sum ("95-44=5/   36+50=", MNIST's leaning 1 of 51 read as a sure
            # slash), as for a "(" below.
            impossible |= (it.text in OPERATORS and after is not None
                           and after.box.x - it.box.x2 > config.split_gap * it.height)
            # An answer is a number: a ")" right after the number an "=" is followed by closes nothing there
            # ("32+85=1)", the 7 of 117 taken for a ")").
            impossible |= it.text == ")" and k >= 2 and prev.operand and out[k - 2].text == "="
        elif it.text == "(":
            # Before a sign, only before a minus that opens a negative number its own ")" closes ("(-3)+5"): a
            # "(" before a minus that no ")" closes before the "=" ("7(-2=73", writer 42's 5 of 75 read as a
            # sure "(") opens nothing.
            impossible = next_sign and (after is None or after.text != "-" or not _closed(out, k))
            # Nor does one with nothing after it in reach: the row's next sum stands as far as two sums do
            # (``split_gap``; "4x11=5( 15-6=8", writer 42's 4 of 44 read as a sure "(").
            impossible |= after is not None and after.box.x - it.box.x2 > config.split_gap * it.height
            # ... nor does a "(" right after an "=", before a number, that no ")" after it on the line closes
            # ("2x7+1=(4", the 1 of 14 taken for a "("; the next sum after an open one, "6x4= (4+4)x4=32",
            # closes its own). The digit it is then is read at ``min_confidence``: the sign classifier saw a
            # bracket, and the digit model's reading of it decides no answer wrong alone (a fresh worksheet's
            # pendigits writer 34 6, its loop a dot, read "(" and as a sure 1: "(1+2)x2=6" read "(1+2)x2=1").
            answer = (not impossible and prev is not None and prev.text == "=" and after is not None and after.operand
                      and not _closed(out, k))
            impossible |= answer
        else:
            impossible = False
        if bracket and not (impossible and _in_a_number(out, k, config)):
            # Read by the sign classifier alone, it is a bracket wherever one can stand; where none can and it
            # stands where a digit does (``_in_a_number``), it is its digit, at ``min_confidence`` and
            # ``joined`` (never wrong on it alone).
            continue
        closing = next((p for _, alt, p in it.alts if alt == ")"), 0.0)
        if (impossible and it.text in OPERATORS and closing >= config.decode_level and prev is not None
                and prev.operand and after is not None and not after.operand
                and sum(1 if o.starts else -1 if o.ends else 0 for o in out[:k]) > 0):
            # A slash right before an operator, after an operand, with a "(" open before it: the ")" its
            # classifier gave a chance (an MNIST-like ")" read as "/" at 0.76, ")" at 0.1: "(4+7/x3=33"). Read
            # at ``sign_min_confidence``, its own reading the alternative: never wrong on it alone.
            out[k] = replace(it, text=")", confidence=config.sign_min_confidence, ends=True, from_digit=False,
                             alts=[a for a in it.alts if a[1] != ")"] + [(0, it.text, it.confidence)])
            continue
        if impossible and it.text != "-":
            if prev is not None and prev_sign and it.digit_confidence > 0:
                # Where an operand must stand (after an operator, an "=" or a "("): the digit fills that
                # place, read as surely as the digit model read it, with the digit model's other readings;
                # a number right after it is the rest of that operand (``_join_numbers``). The sign the sign
                # classifier saw cannot stand there.
                out[k] = _Item(digit, it.box, config.min_confidence if answer else it.digit_confidence, True, it.height,
                               pieces=[it.box], alts=[(0, *_chance(a)) for a in alternatives.get(it.box, ())], from_digit=True)
            else:
                # After an operand (a stroke after an answer, "7/") it may be a mark: never wrong on it. One the
                # digit model read as surely as a ``wrong`` needs (``wrong_confidence``) carries that reading and
                # its other readings, a digit that may be a stroke (``_stroke_doubt``): joined to the number
                # before it, the sum weighs both readings (``_join_numbers``).
                sure = it.digit_confidence >= config.wrong_confidence
                out[k] = _Item(digit, it.box, config.min_confidence, True, it.height, pieces=[it.box], joined=True,
                               digit_confidence=it.digit_confidence if sure else 0.0,
                               alts=[(0, *_chance(a)) for a in alternatives.get(it.box, ())] if sure else [],
                               stroke=[0] if sure else [])
    return out


def _between_fraction_places(line: list[_Item]) -> list[int]:
    """The places in ``line`` of a lone digit (a number of one piece) that stands right between two stacked
    fractions, the line of both their bars passing through its box, in an equation (an ``=`` after it on the
    line): at the height of the bars, where a sum writes its operator (a digit there makes no sum:
    ``(1)/(2) 4 (1)/(3)=1``)."""
    out = []
    for k in range(1, len(line) - 1):
        prev, it, after = line[k - 1], line[k], line[k + 1]
        if (it.operand and not it.parts and len(it.pieces) == 1 and len(it.text) == 1 and prev.parts and after.parts
                and all(it.box.y <= f.centre <= it.box.y2 for f in (prev, after))
                and any(n.text == "=" for n in line[k + 2:])):
            out.append(k)
    return out


def _between_fractions(line: list[_Item], config: ExpressionConfig, sign_of=None) -> list[_Item]:
    """A lone digit between two stacked fractions at their bars' height (``_between_fraction_places``) can stand
    there only as an operator: it is read as the operator the sign classifier gives the likeliest chance
    (``sign_of``: the sign classifier's probabilities for each box's crop), where that is at least
    ``decode_level``, at ``sign_min_confidence`` and ``joined`` (it may make the sum right, never wrong on its
    own); the other operators given a chance are its alternatives. A page's ``+`` between fractions written
    smaller than its numbers' digits, read as a 4 or a 1 (issue 21, session 30). Without ``sign_of`` nothing
    changes."""
    places = _between_fraction_places(line) if sign_of is not None else []
    if not places:
        return line
    out = list(line)
    for k, read in zip(places, sign_of([line[k].box for k in places])):
        if not read:
            continue
        ops = sorted(((read.get(op, 0.0), op) for op in OPERATORS), reverse=True)
        p, op = ops[0]
        if p < config.decode_level:
            continue
        it = line[k]
        out[k] = _Item(op, it.box, config.sign_min_confidence, False, line[k - 1].height, pieces=[it.box],
                       alts=[(0, o, q) for q, o in ops[1:] if q >= config.alternative_level], joined=True)
    return out


def _in_a_number(line: list[_Item], k: int, config: ExpressionConfig) -> bool:
    """Does the sign at ``line[k]`` stand where a digit of a number does: right after an ``=`` or right after
    the answer's number (an answer is a number: ``=11(``, writer 42's 5 of 115; session 27), within
    ``split_gap`` (as far away as two sums of a row stand apart, it starts the row's next sum: ``50/5=
    (2+85x5=``, its ``)`` read as a 5); or, for a ``(``, at the start of the line or right after a number, as
    close to it as its own digits stand (``join_gap``: ``46+3(=80``, ``7(-2=73``, ``(x8+5=35``, writer 42's
    4s and 5s read as sure brackets; session 28)."""
    it = line[k]
    prev = line[k - 1] if k > 0 else None
    if prev is None:
        return it.text == "("
    gap = it.box.x - prev.box.x2
    if (prev.text == "=" or (k >= 2 and prev.operand and line[k - 2].text == "=")) and gap <= config.split_gap * it.height:
        return True
    return it.text == "(" and prev.operand and gap < config.join_gap * it.height


def _closed(line: list[_Item], k: int) -> bool:
    """The ``(`` at ``line[k]`` is closed by a ``)`` of its own before the next ``=`` of the line: the row's next
    sum, after an answer, closes its own brackets (``37+79=(13 (9+9)x5=87``: the 1 of 113 read as a ``(``)."""
    depth = 0
    for it in line[k:]:
        if it.text == "=":
            return False
        depth += 1 if it.starts else -1 if it.ends else 0
        if depth == 0:
            return True
    return False


def _lost_bars(line: list[_Item], config: ExpressionConfig) -> list[_Item]:
    """A 1 standing alone between two operands with no sign between, shorter than the digits beside it and
    at their mid height, is a + whose bar was lost (on ruled or squared paper a + whose bar lies on a line
    loses it with the line): ``(2)/(6) 1 (4)/(6)=11`` is no sum, ``(2)/(6)+(4)/(6)=11`` is one. Only where an
    ``=`` follows on the line (a real dev photo's ``508 1 1000`` was read ``508+1000`` without). It is read
    at ``sign_min_confidence`` and marked ``joined``: it may make an equation right or open, never wrong."""
    out = list(line)
    for k in range(1, len(out) - 1):
        prev, it, after = out[k - 1], out[k], out[k + 1]
        if not (it.operand and it.text == "1" and not it.parts and prev.operand and after.operand):
            continue
        if not any(n.text == "=" for n in out[k + 2:]):
            continue  # only in an equation: "508 1 1000" on a page of numbers is no sum
        if k >= 2 and out[k - 2].text == "=" and prev.box.x - out[k - 2].box.x2 <= config.join_gap * prev.height:
            # An answer is a number: "2x12=2 1 4", a 4's broken stroke, is no "2+4". (Farther from the "=" than
            # ``join_gap``, the row's next sum may start there, as ``_split`` cuts: "5x3+3=  11 1 5=59", its x
            # read as a short 1, after an open sum.)
            continue
        plain = [n for n in (prev, after) if not n.parts]
        h = float(np.mean([n.box.h for n in plain])) if plain else it.height
        top = float(np.mean([n.box.y for n in plain])) if plain else None
        centre = (_centre_y(it.box) - top) / max(h, 1.0) if top is not None else None
        mid = float(np.mean([_item_centre(n) for n in (prev, after)]))
        at_mid = (config.sign_band[0] <= centre <= config.sign_band[1]) if centre is not None else abs(_centre_y(it.box) - mid) < 0.25 * it.height
        height = max(prev.height, after.height)
        if it.box.h <= LOST_BAR_SHORT * height and at_mid:
            out[k] = _Item("+", it.box, config.sign_min_confidence, False, height, pieces=[it.box], joined=True)
    return out


def _open_brackets(line: list[_Item], config: ExpressionConfig) -> list[_Item]:
    """A ``)`` that no ``(`` before it opens: the nearest sign before it (back to another bracket) whose
    ``(`` its classifier gave at least ``decode_level`` is that ``(`` (an MNIST-like bracket read as a slash,
    ``/5+7)x4=48``, the ``(`` at 0.26). It is read at ``sign_min_confidence``, its own reading the
    alternative: it may make an equation right or open, never wrong on its own."""
    out = list(line)
    depth = 0
    for k, it in enumerate(out):
        if it.starts:
            depth += 1
        elif it.ends:
            if depth:
                depth -= 1
                continue
            for j in range(k - 1, -1, -1):
                other = out[j]
                if other.starts or other.ends:
                    break
                paren = next((p for _, alt, p in other.alts if alt == "("), 0.0) if not other.operand else 0.0
                if paren >= config.decode_level and j + 1 < k and (out[j + 1].operand or out[j + 1].text == "-"):
                    alts = [a for a in other.alts if a[1] != "("] + [(0, other.text, other.confidence)]
                    out[j] = replace(other, text="(", confidence=config.sign_min_confidence, starts=True, alts=alts)
                    break
    return out


def _unmatched_brackets(line: list[_Item]) -> tuple[list[int], list[int]]:
    """The places in ``line`` of each ``(`` that no ``)`` after it closes, and of each ``)`` that no ``(`` opens."""
    unclosed, unopened = [], []
    for k, it in enumerate(line):
        if it.starts:
            unclosed.append(k)
        elif it.ends and unclosed:
            unclosed.pop()
        elif it.ends:
            unopened.append(k)
    return unclosed, unopened


def _unclosed_brackets(line: list[_Item], config: ExpressionConfig) -> list[_Item]:
    """A ``(`` that no ``)`` after it closes, or a ``)`` that no ``(`` opens, standing between two operands: a
    slash whose ``/`` its classifier gave at least ``decode_level`` is that ``/`` (a tall slash read as a
    bracket, ``10(5=2``, the ``/`` at 0.26), as ``_open_brackets`` reads a ``)`` no ``(`` opens. It is read at
    ``sign_min_confidence``, the bracket its alternative."""
    out = list(line)
    unclosed, unopened = _unmatched_brackets(out)
    # So is a ")" that no "(" opens (``_open_brackets`` found none), standing between two operands: "45)5=9",
    # a leaning slash read ")" at 0.61 and "/" at 0.37.
    for k in unclosed + unopened:
        it = out[k]
        if it.operand or not 0 < k < len(out) - 1 or not (out[k - 1].operand and out[k + 1].operand):
            continue
        slash = next((p for _, alt, p in it.alts if alt == "/"), 0.0)
        if slash >= config.decode_level:
            alts = [a for a in it.alts if a[1] != "/"] + [(0, it.text, it.confidence)]
            out[k] = replace(it, text="/", confidence=config.sign_min_confidence, starts=False, ends=False, alts=alts)
    return out


def _times_by_brackets(line: list[_Item], config: ExpressionConfig) -> list[_Item]:
    """A + right after a ``)`` or right before a ``(`` whose x the sign classifier gave at least
    ``decode_level`` is an x: beside a +, brackets change nothing (``(a+b)+c`` is ``a+b+c``), so nobody
    writes them there; they are written for a product (``(6+9)x3``, its x read as + at 0.76 with the x at
    0.19). A bracket holding a negative number (``(-3)+5``) is written for its sign and is left alone. The x
    is read at ``sign_min_confidence``, the + its alternative: it may make an equation right or open, and
    wrong only when the + would be wrong too."""
    out = list(line)
    for k, it in enumerate(out):
        if it.operand or it.text != "+":
            continue
        times = next((p for _, alt, p in it.alts if alt == "x"), 0.0)
        if times < config.decode_level:
            continue
        prev = out[k - 1] if k > 0 else None
        after = out[k + 1] if k + 1 < len(out) else None
        closes = prev is not None and prev.ends and not _negative_group(out[:k], backwards=True)
        opens = after is not None and after.starts and not _negative_group(out[k + 1:], backwards=False)
        if closes or opens:
            alts = [a for a in it.alts if a[1] != "x"] + [(0, "+", it.confidence)]
            out[k] = replace(it, text="x", confidence=config.sign_min_confidence, alts=alts)
    return out


#: A 1 at least this many times as tall as the other digits of its number, reaching above and below them,
#: may be a tall sign the digit model read as a 1 (``vision.signs.SignConfig.tall_suspect``: written brackets
#: and slashes stand out of the digits' band; a 1 stands on their baseline).
TALL_ONE = 1.15


def _tall_one(it: _Item, k: int) -> bool:
    """Is digit ``k`` of the plain number ``it`` a 1 standing ``TALL_ONE`` times as tall as the other digits of
    the number (their median), its top above theirs and its bottom below theirs?"""
    if it.parts or not it.operand or len(it.pieces) != len(it.text) or len(it.text) < 2 or it.text[k] != "1":
        return False
    one = it.pieces[k]
    others = [b for j, b in enumerate(it.pieces) if j != k]
    return (one.h >= TALL_ONE * float(np.median([b.h for b in others]))
            and one.y < min(b.y for b in others) and one.y2 > max(b.y2 for b in others))


#: A 1 inside a number set apart from the digits either side by at least this share of the number's height, and
#: ``APART_RATIO`` times every other gap between its digits, stands where an operator stands (``_apart_one``).
APART_GAP = 0.2
APART_RATIO = 1.5


def _apart_one(it: _Item, k: int) -> bool:
    """Is digit ``k`` (not the first or last) of the plain number ``it`` a 1 set apart from the digits either side
    as an operator is (``APART_GAP``, ``APART_RATIO``): a slash written upright as a bar, read as a sure 1 and as
    tall as the digits?"""
    if (it.parts or not it.operand or len(it.pieces) != len(it.text) or not 0 < k < len(it.text) - 1
            or it.text[k] != "1"):
        return False
    gaps = [b.x - a.x2 for a, b in zip(it.pieces, it.pieces[1:])]
    around = min(gaps[k - 1], gaps[k])
    others = [g for j, g in enumerate(gaps) if j not in (k - 1, k)]
    return around >= APART_GAP * it.height and all(around >= APART_RATIO * max(g, 0) for g in others)


def _cut_number(it: _Item, k: int, char: str, config: ExpressionConfig) -> list[_Item]:
    """The number ``it`` with its digit ``k`` read as the sign ``char``: the digits before it, the sign, the
    digits after it. The sign is read at ``sign_min_confidence`` with the 1 as its alternative, and marked
    ``joined``: it may make an equation right or open, never wrong."""
    box = it.pieces[k]
    out = []
    if k > 0:
        out.append(replace(it, text=it.text[:k], box=_union(it.pieces[:k]), pieces=it.pieces[:k],
                           alts=[a for a in it.alts if a[0] < k]))
    out.append(_Item(char, box, config.sign_min_confidence, False, it.height, starts=char == "(", ends=char == ")",
                     alts=[(0, "1", it.confidence)], pieces=[box], joined=True))
    if k + 1 < len(it.text):
        out.append(replace(it, text=it.text[k + 1:], box=_union(it.pieces[k + 1:]), pieces=it.pieces[k + 1:],
                           alts=[(a[0] - k - 1, *a[1:]) for a in it.alts if a[0] > k]))
    return out


def _union(boxes: list[Box]) -> Box:
    box = boxes[0]
    for b in boxes[1:]:
        box = box.union(b)
    return box


def _tall_ones(line: list[_Item], config: ExpressionConfig) -> list[_Item]:
    """A 1 that stands well taller than the digits of its number (``_tall_one``) where the sum needs a tall
    sign is that sign: the digit model reads a bracket or an upright slash as a sure 1 that the sign
    classifier does not take (a held-out hand's thin slash, an MNIST-like bracket). Where the structure of the
    line leaves no doubt which sign:

    - a ``)`` that no ``(`` opens: the first digit of the operand that starts its group (``15+9)x2=`` is
      ``(5+9)x2=``);
    - a ``(`` that no ``)`` closes: the last digit of an operand after an operator inside it, right before an
      operator or an ``=`` (``(1+21x4=`` is ``(1+2)x4=``);
    - an ``=`` with a lone number before it, no operator (``1412=7``, no sum): a 1 inside that number is a
      ``/`` (``14/2=7``); where no 1 stands tall, one set apart from the digits either side as an operator is
      (``_apart_one``: a slash written upright as a bar, as tall as the digits).

    Each is read as ``_cut_number`` reads it (never wrong on it alone)."""
    out = list(line)
    operator = lambda it: not it.operand and it.text in OPERATORS  # noqa: E731
    opened, unopened = _unmatched_brackets(out)
    for k in unopened:
        # Back over operand, operator, operand, ... to the operand that starts the group.
        j = k - 1
        while j >= 2 and out[j].operand and operator(out[j - 1]) and out[j - 2].operand:
            j -= 2
        if 0 <= j < k - 1 and out[j].operand and _tall_one(out[j], 0):
            return _tall_ones(out[:j] + _cut_number(out[j], 0, "(", config) + out[j + 1:], config)
    for k in opened:
        j, seen = k + 1, False
        while j + 1 < len(out) and out[j].operand and (operator(out[j + 1]) or out[j + 1].text == "="):
            if seen and _tall_one(out[j], len(out[j].text) - 1):
                return _tall_ones(out[:j] + _cut_number(out[j], len(out[j].text) - 1, ")", config) + out[j + 1:], config)
            if out[j + 1].text == "=":
                break
            seen, j = True, j + 2
    for k, it in enumerate(out):
        if it.text != "=" or k == 0:
            continue
        number = out[k - 1]
        if k >= 2 and (operator(out[k - 2]) or out[k - 2].starts or out[k - 2].ends):
            continue
        # A tall 1; where none stands out, a 1 set apart as an operator is (a slash written upright as a bar).
        inner = ([j for j in range(1, len(number.text) - 1) if _tall_one(number, j)]
                 or [j for j in range(1, len(number.text) - 1) if _apart_one(number, j)])
        if len(inner) == 1:
            return _tall_ones(out[:k - 1] + _cut_number(number, inner[0], "/", config) + out[k:], config)
    return out


def _negative_group(items: list[_Item], backwards: bool) -> bool:
    """Is the bracket at the end (``backwards``) or start of ``items`` one holding a lone negative number
    (``(-3)``)?"""
    group = items[::-1] if backwards else items
    inner = group[1:3]
    if backwards:
        inner = inner[::-1]
    return len(inner) == 2 and inner[0].text == "-" and inner[1].operand and (
        len(group) > 3 and (group[3].starts if backwards else group[3].ends))


#: A 1 at most this share of its line's digit height may be the upright of a + that lost its bar.
LOST_BAR_SHORT = 0.8


def _split(line: list[_Item], config: ExpressionConfig) -> list[list[_Item]]:
    """Cut a line into expressions: where an operand ends and another begins with no sign between (two
    numbers side by side, ``19  4+5``), unless it is a parenthesis close by (``2(3)``: implicit
    multiplication)."""
    height = float(statistics.median([i.height for i in line if i.operand] or [1.0]))
    line = _join_numbers(line, height, config)
    chunks = [[line[0]]]
    for k, (prev, it) in enumerate(zip(line, line[1:]), start=1):
        ends_operand = prev.operand or prev.ends
        starts_operand = it.operand or it.starts
        gap = it.box.x - prev.box.x2
        if ends_operand and starts_operand and (it.operand or gap > config.split_gap * height):
            chunks.append([it])
        elif (gap > config.join_gap * height and any(i.text == "=" for i in chunks[-1])
              and (starts_operand or prev.text == "=") and _equation_ahead(line[k:])):
            # After an "=" (and its answer, if any), a gap and an equation of its own ("=" after an
            # operator): the next sum of the row, not a chain ("6x4=  9+2=11", "54-30=24  (9+2)x3=33").
            chunks.append([it])
        elif gap > config.column_gap * height:
            chunks.append([it])  # another column of sums, whatever stands at its start
        elif (gap > config.split_gap * height * (2 if prev.text == "=" else 1)
              and prev.text not in OPERATORS + "(" and it.text not in OPERATORS + "=)"):
            # A wide gap after a sum left open ("6x4=    9+2="); an answer may stand a little apart.
            chunks.append([it])
        else:
            chunks[-1].append(it)
    return chunks


def _equation_ahead(items: list[_Item]) -> bool:
    """Do ``items`` start an equation of their own: an operand, an operator, and later an ``=``?"""
    seen_operator = False
    for k, it in enumerate(items):
        if it.text == "=":
            return seen_operator
        if not it.operand and it.text in OPERATORS and k > 0:
            seen_operator = True
    return False


def _join_numbers(line: list[_Item], height: float, config: ExpressionConfig) -> list[_Item]:
    out = [line[0]]
    for it in line[1:]:
        prev = out[-1]
        plain = prev.operand and it.operand and not prev.parts and not it.parts
        if plain and it.box.x - prev.box.x2 < config.join_gap * height:
            # A digit taken for a sign and read back as the operand that must stand there (``_signs_as_digits``)
            # was cut from the number after it by that sign only: joined, it is that number, no doubt.
            restored = prev.from_digit and not prev.joined and not it.joined and len(prev.text) == 1
            # A digit the sign classifier took for a stroke after this number, read surely by the digit model
            # (``_signs_as_digits``), is its last digit or a stroke: no two numbers are joined, and the sum
            # weighs it both ways (``_stroke_doubt``). One before a number stays a join (it may end the number
            # before it as well: a sum's first digit right after the row's previous answer).
            stroke = bool(it.stroke) and not prev.stroke and not prev.joined
            out[-1] = _Item(prev.text + it.text, prev.box.union(it.box),
                            min(prev.confidence, it.digit_confidence if stroke else it.confidence), True,
                            max(prev.height, it.height), alts=prev.alts + [(k + len(prev.text), a, p) for k, a, p in it.alts],
                            joined=not restored and not stroke, pieces=prev.pieces + it.pieces,
                            stroke=[len(prev.text) + k for k in it.stroke] if stroke else [])
        else:
            out.append(it)
    return out


def read_expressions(numbers, signs, config: ExpressionConfig = DEFAULT_EXPRESSIONS,
                     alternatives: dict | None = None, doubts=(), ink=(), ask=None, loose=()) -> list[Expression]:
    """The expressions written in a frame, in reading order, from its ``numbers`` (:class:`Number`) and
    ``signs`` (:class:`Sign`). A run of writing is an expression when it holds at least one operator or
    ``=`` between operands; numbers alone are not. ``alternatives``: for a digit's box, the other digits
    the classifier gave a fair chance (an answer one of them would make right is not marked wrong).
    ``doubts``: boxes of ink read as nothing sure (a weak digit, no sign): a sum with one is not marked
    wrong either. ``ink``: the boxes of every piece of ink of the frame; a sum beside a piece of some size
    that is none of its digits or signs is not marked wrong. ``ask``: for a list of ``(box, read digit,
    meant digit, tests)``, whether the digit's crop, asked again (``NUDGED``) or set beside the page's other
    digits (``PAGE``), leaves the digit meant a chance (``_confused``; without it the table of confusions
    decides alone). ``loose``: the boxes of every piece of the ink mask, read or turned away (a digit taken
    for a form's box), gone through only for a sum about to be marked wrong, as ``ink`` is there."""
    numbers, signs = list(numbers), list(signs)
    if not numbers or not signs:
        # Numbers alone are no expression: every item is an operand with no fraction's parts (a fraction
        # needs a bar, a sign), and ``_expression`` takes no run without an operator between operands.
        return []
    items = [_number_item(n, alternatives or {}, config) for n in numbers]
    boxes = np.array([n.box.as_list() for n in numbers], np.float64)
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    for sign in signs:
        # The digit height of the writing around a sign: that of the number nearest to it.
        cx, cy = sign.box.center
        nearest = int(np.argmin(np.abs(centres[:, 0] - cx) + 2 * np.abs(centres[:, 1] - cy)))
        items.append(_sign_item(sign, float(boxes[nearest, 3]), config))
    items = _fractions(items, config)
    out = []
    chunks = []  # the chunk of each expression of ``out``
    ink_boxes = np.array([b.as_list() for b in ink], np.float64).reshape(-1, 4)
    lines = []  # per line: [chunk, expression, waits on the page's test] of each chunk, and the signs out of place
    waits = [False]  # the chunk being judged asked the page's test (``PAGE``)

    def first(queries: list) -> list[bool]:
        # The page's test waits until every sum of the page is read (meanwhile the doubt stands); the rest
        # is asked at once.
        waits[0] = waits[0] or any(PAGE in q[3] for q in queries)
        now = [q for q in queries if PAGE not in q[3]]
        answers = dict(zip(now, ask(now))) if now else {}
        return [answers.get(q, True) for q in queries]

    for line in _lines(items, config):
        # Operators out of place beside their numbers are no operators (a piece of a digit, a mark).
        misplaced = _misplaced(line, config, ink_boxes)
        line = [it for it in line if it not in misplaced]
        if not line:
            continue
        line = _signs_as_digits(line, config, alternatives)
        line = _lost_bars(line, config)
        line = _between_fractions(line, config, getattr(ask, "sign_of", None))
        line = _open_brackets(line, config)
        line = _unclosed_brackets(line, config)
        line = _tall_ones(line, config)
        line = _times_by_brackets(line, config)
        found = []
        for chunk in _split(line, config):
            waits[0] = False
            found.append([chunk, _expression(chunk, config, first if ask is not None else None), waits[0]])
        lines.append((found, misplaced))
    # The digits the page's right sums confirm, worked out once: asking again only turns a wrong sum unsure,
    # so the right sums stay as they are.
    confirmed = shown = None
    if any(entry[2] for found, _ in lines for entry in found):
        # The page's test (``PAGE``) sets a digit beside the digits the page's right sums confirm: asked now
        # that every sum is read, for the sums (about to be marked wrong) that waited on it.
        confirmed, shown = _page_evidence(lines, numbers, config)
        for found, _ in lines:
            for entry in found:
                if entry[2]:
                    entry[1] = _expression(entry[0], config, lambda queries: ask(queries, confirmed, shown))
    likest = getattr(ask, "likest", None)
    if likest is not None and any(e is not None and e.verdict != "right" for found, _ in lines for _, e, _ in found):
        # One hand writes each digit alike: a digit of a sum not right whose crop is far more like the
        # crops of another digit that the page's right sums confirm is read as that digit (``_page_read``).
        if confirmed is None:
            confirmed, shown = _page_evidence(lines, numbers, config)
        _page_read(lines, confirmed, likest, config, lambda queries: ask(queries, confirmed, shown))
    union_read = getattr(ask, "union_read", None)
    if union_read is not None:
        # Two digits side by side that may be pieces of one, read as one where their union's crop reads as
        # the digit that makes the sum right (``_union_read``; nothing asked where no sum is unsure).
        _union_read(lines, union_read, config, ask)
    nudge_read = getattr(ask, "nudge_read", None)
    was: dict = {}  # id of a sum read right by ``_nudge_read`` -> the unsure sum it was
    if nudge_read is not None and any(e is not None and e.verdict == "unsure" and _answered(e.text)
                                      for found, _ in lines for _, e, _ in found):
        # A sum left unsure that one digit read as its crop, nudged, gives a chance and the page's own
        # digits show it as makes right is that reading (``_nudge_read``). The page's digits of the reading
        # meant count the open sums' too (``UNCHECKED`` keeps them out only as evidence against a reading).
        if confirmed is None:
            confirmed, shown = _page_evidence(lines, numbers, config)
        was = _nudge_read(lines, shown, nudge_read, config, lambda queries: ask(queries, confirmed, shown),
                          {s.box: (s.char, s.confidence) for s in signs}, getattr(ask, "sign_read", None),
                          seen=_page_digits(numbers, confirmed, config))
    def evidence_of() -> dict:
        # The page's digits it shows (``_page_evidence``), worked out once, for the page's lean (``_leaned``).
        nonlocal confirmed, shown
        if shown is None:
            confirmed, shown = _page_evidence(lines, numbers, config)
        return shown

    for found, misplaced in lines:
        # Signs that belong to no expression of the line (a stray mark, or a digit taken for a sign) are
        # doubts too: they may be the missing digit of the sum beside them.
        stray = [it.box for chunk, e, _ in found if e is None for it in chunk if not it.operand]
        stray += [it.box for it in misplaced]
        for chunk, expression, _ in found:
            if expression is None:
                continue
            if expression.verdict == "wrong" and (_doubted(expression, chunk, list(doubts) + stray)
                                                  or _unaccounted(expression, chunk, ink)
                                                  or _unaccounted(expression, chunk, loose)
                                                  or _leaned(chunk, expression.text, nudge_read, evidence_of, config.decode_level)):
                expression = replace(expression, verdict="unsure")
            out.append(expression)
            chunks.append(chunk)
    evidence = [confirmed, shown]

    def backed(k: int, pair: tuple[str, str]) -> bool:
        # A confusion the page may lift (``PAGED``) asks the page's test too: the page's evidence, worked out once.
        if pair in PAGED and evidence[0] is None:
            evidence[:] = _page_evidence(lines, numbers, config)
        return _backed(chunks[k], out[k].text, pair, lambda queries: ask(queries, *evidence))

    if not was:
        return _systematic_misreads(out, None if ask is None else backed)
    # A sum read right by reading a digit as another still shows the hand's misread to the page's other
    # sums (``_systematic_misreads`` counts it as it was, unsure).
    judged = _systematic_misreads([was.get(id(e), e) for e in out], None if ask is None else backed)
    return [e if id(e) in was else j for e, j in zip(out, judged)]


def _confirmed_digits(found: list) -> dict:
    """The digits of the page's right equations (``found``: ``(chunk, expression)``), by box: the digit its
    sum reads there (a digit decoded as an alternative is the digit the sum reads). A right sum confirms
    its reading; a wrong or unsure one confirms nothing (a hand's misread stands in it)."""
    out = {}
    for chunk, e in found:
        if e is None or e.verdict != "right" or len(e.text) != sum(len(it.text) for it in chunk):
            continue
        at = 0
        for it in chunk:
            out.update((box, int(e.text[at + j])) for j, box in _digit_places(it) if e.text[at + j].isdigit())
            at += len(it.text)
    return out


#: The verdicts of the sums whose digits, read surely, the page does not show as the digits read
#: (:func:`_page_digits`): an open sum checks nothing, and a hand's sure misread stands in it as surely as a
#: true digit (a fresh worksheet, 39004: pendigits writer 42's loopless 9 of ``(9+2)x2=``, read as a sure 7, was
#: the page's likest 7 to another of its loopless 9s, 0.91 against 0.67 for its true 7, and made a right
#: ``2x9+1=19`` read ``2x7+1=19`` look written as the hand writes 7: marked wrong).
#: The evidence is one-sided (session 27): an open sum's digit read surely still shows how the hand writes the
#: digit a sum left ``unsure`` is read as by :func:`_nudge_read` (``seen``), which can make a sum right and never
#: wrong; it is never the page's digit of what was read, nor of a test that marks a sum wrong (``PAGE``).
UNCHECKED = ("open",)


def _page_evidence(lines: list, numbers, config: ExpressionConfig) -> tuple[dict, dict]:
    """The page's digits for its tests, from its sums judged once (``lines`` of :func:`read_expressions`):
    those its right sums confirm (:func:`_confirmed_digits`), and those it shows (:func:`_page_digits`), less
    the digits of its sums whose verdict is one of ``UNCHECKED``."""
    found = [(chunk, e) for found, _ in lines for chunk, e, _ in found]
    confirmed = _confirmed_digits(found)
    unchecked = {box for chunk, e in found if e is not None and e.verdict in UNCHECKED
                 for it in chunk for _, box in _digit_places(it)}
    return confirmed, _page_digits(numbers, confirmed, config, unchecked)


def _page_digits(numbers, confirmed: dict, config: ExpressionConfig, unchecked=frozenset()) -> dict:
    """The digits the page shows, by box: each digit of ``numbers`` read at ``wrong_confidence`` or more, as
    read, unless its box is one of ``unchecked`` (a digit of an open sum: ``UNCHECKED``), and those its right
    sums confirm (``confirmed``, :func:`_confirmed_digits`) as their sums read them (a digit a right sum
    decoded as another is that other). One hand writes each digit alike, so a digit's crop can be set beside
    these where the right sums alone confirm too few (issue 21, sixteenth round)."""
    out = {d.box: d.digit for n in numbers for d in n.digits
           if d.confidence >= config.wrong_confidence and d.box not in unchecked}
    out.update(confirmed)
    return out


#: A digit's crop at least this like (``vision.normalize.likeness``) a crop of another digit that the page's
#: right sums confirm, and by ``PAGE_MARGIN`` more like it than like every confirmed crop of the digit it was
#: read as (0 where the page confirms none), is written as this hand writes that other digit
#: (:func:`_page_read`). Of the 4,143 digits of the sums not right on the worksheets 7000-9059, 79 misread,
#: it names the true digit of 23 misread ones and another digit for 3 read right (an MNIST page's 9 and 4,
#: written by different people; pendigits writer 42's 9 like its loopless 9s a right sum read as 7); at 0.9,
#: 28 and 10; at 0.88, 31 and 20 (issue 21, fifteenth round).
PAGE_LIKE = 0.92
PAGE_MARGIN = 0.05


def _page_read(lines: list, confirmed: dict, likest, config: ExpressionConfig, ask) -> None:
    """Each sum of ``lines`` not right (wrong, unsure or open) read again with its digits that ``likest``
    (``[(box, read digit)]`` -> ``{box: digit}``, the digit whose confirmed crops of the page the crop is
    far more like: ``PAGE_LIKE``, ``PAGE_MARGIN``) reads as another digit, as that digit, the digit read
    its alternative. A sum the new reading makes right is right; a wrong one stays wrong with the new text;
    an unsure or open one is never made wrong by it (the page is evidence of the hand, not of this digit
    alone). ``lines`` is changed in place."""
    asked = []
    for found, _ in lines:
        for chunk, e, _ in found:
            if e is not None and e.verdict != "right":
                asked += [(box, int(it.text[k])) for it in chunk for k, box in _digit_places(it) if it.text[k].isdigit()]
    if not confirmed or not asked:
        return
    reads = likest(list(dict.fromkeys(asked)), confirmed)
    if not reads:
        return
    for found, _ in lines:
        for entry in found:
            chunk, e = entry[0], entry[1]
            if e is None or e.verdict == "right":
                continue
            new = [_read_as(it, reads) for it in chunk]
            if all(a is b for a, b in zip(new, chunk)):
                continue
            again = _expression(new, config, ask)
            if again is None or (again.verdict == "wrong" and e.verdict != "wrong"):
                continue
            entry[0], entry[1] = new, again


def _answered(text: str) -> bool:
    """An equation with one ``=`` and something written after it."""
    return text.count("=") == 1 and not text.endswith("=")


def _swapped(chunk: list[_Item], k: int) -> str:
    """The text of ``chunk`` with its sign ``k`` (a + or an x) read as the other."""
    return "".join(("x" if it.text == "+" else "+") if j == k else it.text for j, it in enumerate(chunk))


def _turned(it: _Item) -> _Item:
    """The sign ``it`` (a + or an x) read as the other, the sign read its alternative."""
    other = "x" if it.text == "+" else "+"
    return replace(it, text=other, alts=[(0, it.text, it.confidence)] + [a for a in it.alts if a[1] != other])


def _unsure_answered(lines: list):
    """Each ``unsure`` equation of ``lines`` (of :func:`read_expressions`) with an answer, read as its items say
    (not another way already: a decoded or dropped symbol leaves its places not these): ``(entry, chunk,
    expression, text)``, ``entry`` the list to change in place."""
    for found, _ in lines:
        for entry in found:
            chunk, e = entry[0], entry[1]
            if e is None or e.verdict != "unsure" or not _answered(e.text):
                continue
            text = "".join(it.text for it in chunk)
            if text == e.text:
                yield entry, chunk, e, text


def _nudge_read(lines: list, shown: dict, nudge_read, config: ExpressionConfig, ask, signs: dict | None = None,
                sign_read=None, seen: dict | None = None) -> dict:
    """Each ``unsure`` equation of ``lines`` that one of its digits read as another makes right, where the
    digit's crop, nudged (``vision.normalize.nudged``), gives that other digit at least ``decode_level`` and
    is more like the page's digits of it than like its digits of the digit read (``shown``,
    :func:`_page_digits`; ``nudge_read``: ``[(box, read, meant)], shown, level, seen`` -> a bool each), is read so,
    the digit read its alternative, and judged again: taken where it is then right. A hand's misread that the
    structure would decide, as ``_decode`` decides between the classifier's own readings: the nudged crop
    gives the reading a chance, the page says the hand writes it so. Only an unsure sum is read again (a
    wrong one keeps its verdict), so no verdict but ``unsure`` changes (issue 21, seventeenth round).
    A + read for an x (or an x for a +) likewise, where the sign's crop is more like the page's signs read
    surely as the other than like those read as itself (``signs``: the page's signs by box, ``(char,
    confidence)``; ``sign_read``: ``[(box, read, meant)], signs`` -> a bool each): a hand writes each sign
    alike (``vision.signs._alike_signs`` takes a near twin of a surer sign; this, the nearer of the two, only
    where the sum's structure asks it).
    ``seen`` (default ``shown``): the page's digits the digit meant is looked for among: every digit read
    surely, an open sum's too. An open sum checks nothing, so its digits are never the page's digits of the
    digit read (``UNCHECKED``), but here they can only make a sum right, as a right sum's digits do (session 27:
    18006's ``11x2=22`` read ``21x2=22``, writer 40's based 1 read 2: the page's 1s like it stand in open sums).
    ``lines`` is changed in place; returned: the id of each sum read so -> the unsure sum it was."""
    was = {}
    signs = signs if sign_read is not None else {}
    for entry, chunk, e, text in _unsure_answered(lines):
        tries, at = [], 0
        for it in chunk:
            for j, box in _digit_places(it):
                k = at + j
                tries += [(box, int(text[k]), int(d)) for d in "0123456789"
                          if d != text[k] and _is_right(text[:k] + d + text[k + 1:])]
            at += len(it.text)
        crossed = [(k, it) for k, it in enumerate(chunk) if not it.operand and it.text in "+x" and it.box in signs
                   and any(a == ("x" if it.text == "+" else "+") and p >= config.alternative_level for _, a, p in it.alts)
                   and _is_right(_swapped(chunk, k))]
        if not tries and not crossed:
            continue
        news = [[_read_as(it, {box: meant}) for it in chunk]
                for (box, read, meant), yes in zip(tries, nudge_read(tries, shown, config.decode_level,
                                                                     shown if seen is None else seen)) if yes]
        if crossed:
            turned = [(it.box, it.text, "x" if it.text == "+" else "+") for _, it in crossed]
            news += [chunk[:k] + [_turned(it)] + chunk[k + 1:]
                     for (k, it), yes in zip(crossed, sign_read(turned, signs)) if yes]
        for new in news:
            again = _expression(new, config, ask)
            if again is not None and again.verdict == "right":
                entry[0], entry[1] = new, again
                was[id(again)] = e
                break
    return was


def _union_read(lines: list, union_read, config: ExpressionConfig, ask) -> None:
    """Each ``unsure`` equation of ``lines`` with two digits of one number side by side that may be pieces of
    one digit (``_cut_places``: their boxes overlap or meet closer than ``CUT_GAP`` digit heights), where
    reading them as one digit would make it right, and the ink of their union, cut from the frame and read
    again as one crop (``union_read``: ``[(box, box)]`` -> the digit model's probabilities each, or None), reads
    as that digit, its likeliest class, at least ``min_confidence``: read so (``_merged``) and judged again,
    taken where it is then right. A digit the segmentation left in two pieces, each read as a digit of its own
    (writer 33's wide 2 with a long foot cut into two overlapping 2s, ``23+12=35`` read ``223+12=35``; an MNIST 2
    cut where the ruling crosses it), as ``_cut_pair`` doubts it, read where the structure decides. Two digits
    of one number written close read as one surely often enough (a pendigits ``67`` read whole as a sure 2), so
    the union alone decides nothing: only a right sum is taken, and only an ``unsure`` one is read again (a
    wrong one keeps its verdict), so no verdict but ``unsure`` changes (issue 21, session 28). ``lines`` is
    changed in place."""
    asked = []  # (entry, position in its text, box, box)
    for entry, chunk, _, text in _unsure_answered(lines):
        asked += [(entry, k, a, b) for k, a, b in _cut_places(chunk, text)
                  if any(_is_right(text[:k] + d + text[k + 2:]) for d in "0123456789")]
    if not asked:
        return
    for (entry, k, a, b), row in zip(asked, union_read([(a, b) for _, _, a, b in asked])):
        if row is None or entry[1].verdict == "right":
            continue
        digit = int(np.argmax(row))
        if digit >= NOT_A_DIGIT or float(row[digit]) < config.min_confidence:
            continue
        text = entry[1].text
        if not _is_right(text[:k] + str(digit) + text[k + 2:]):
            continue
        new = [_merged(it, a, b, str(digit), float(row[digit])) for it in entry[0]]
        again = _expression(new, config, ask)
        if again is not None and again.verdict == "right":
            entry[0], entry[1] = new, again


def _merged(it: _Item, a: Box, b: Box, digit: str, confidence: float) -> _Item:
    """``it`` with its two digits side by side at boxes ``a`` and ``b`` read as one ``digit`` at ``confidence``
    (the union of their boxes), a stacked fraction's parts too; ``it`` itself where it holds no such two."""
    at = {box: k for k, box in _digit_places(it)}
    if a not in at or at.get(b) != at[a] + 1:
        return it
    k = at[a]
    alts = [(q - (q > k), c, p) for q, c, p in it.alts if q not in (k, k + 1)]
    pieces = [a.union(b) if p == a else p for p in it.pieces if p != b]
    return replace(it, text=it.text[:k] + digit + it.text[k + 2:], alts=alts, pieces=pieces,
                   parts=[_merged(p, a, b, digit, confidence) for p in it.parts],
                   confidence=min(it.confidence, confidence))


def _read_as(it: _Item, reads: dict) -> _Item:
    """``it`` with each digit whose box ``reads`` names (box -> digit) read as that digit, the digit it was
    read as its alternative at the item's confidence (a stacked fraction's parts too)."""
    places = [(k, box) for k, box in _digit_places(it) if box in reads and it.text[k] != str(reads[box])]
    if not places:
        return it
    text, alts = it.text, list(it.alts)
    for k, box in places:
        alts = [a for a in alts if a[0] != k] + [(k, text[k], it.confidence)]
        text = text[:k] + str(reads[box]) + text[k + 1:]
    return replace(it, text=text, alts=alts, parts=[_read_as(p, reads) for p in it.parts])


def with_possible_signs(plain: list[Expression], other: list[Expression], possible,
                        digits=None) -> list[Expression]:
    """The expressions read with digits that may be signs (``possible``: their signs) read as digits
    (``plain``) and read as signs (``other``): an equation of ``other`` that holds one of them is taken where
    ``plain`` reads no sum there, or only unsure ones (then it is never ``wrong``: the digit reading was
    a sum too), or where it is right and ``plain`` reads it wrong.

    ``digits``: the boxes of the possible signs ``plain`` reads as digits (by default those the digit model
    read as one, ``from_digit``). An equation whose possible signs are none of them (a small sign the sign
    classifier half takes for a mark, ink ``plain`` leaves out) keeps its ``wrong`` where ``plain`` reads
    only a part of it or an unsure sum: each reading of those signs, no sign at all among them, was weighed
    when it was judged (``_every_reading_wrong``), and ``plain`` read that ink as nothing.

    Two possible brackets that pair up in it, a ``(`` and a ``)`` after it on the line, take it over a plain
    sum too, unless that one is right and this one is not: two digits each taken for a bracket by the sign
    classifier, at both ends of a group, are a bracketed group (``13+21x3=`` is ``(3+2)x3=``); one alone may
    be a 1. It is ``wrong`` only when every plain reading it replaces is wrong too."""
    out = list(plain)
    digits = {s.box for s in possible if s.from_digit} if digits is None else set(digits)
    for e in other:
        inside = [s for s in possible if _within(s.box.center, e.box)]
        if "=" not in e.text or not inside:
            continue
        clash = [a for a in out if _overlap(a.box, e.box)]
        paired = any(a.char == "(" and b.char == ")" and a.box.x2 <= b.box.x for a in inside for b in inside)
        # A plain reading that is only a part of this equation, with no "=" of its own ("(9+4)" of
        # "(9+4)x2=26", its small x half taken for a mark), gives way to it as an unsure one does; so does
        # an open one that is its end ("6+5=" of "3x6+5=", the x half taken for a mark): this one ends in
        # the same "=" with nothing after it, so it is open too, and no verdict is lost.
        # An open sum gives no answer to decide between readings: a small + or x the sign classifier sees (a
        # possible sign that is no bracket or slash) read as a digit inside a number ("746+4=" for "7x6+4=") is
        # taken as the sign, both readings open (``open_in_doubt``).
        marks = all(s.char in "+x" and s.box in digits for s in inside)
        if paired:
            if any(a.verdict == "right" and e.verdict != "right" for a in clash):
                continue
        elif any(a.verdict != "unsure" and not (a.verdict == "wrong" and e.verdict == "right")
                 and not (marks and a.verdict == "open" and e.text.count("=") == 1 and e.text.endswith("="))
                 and not ("=" not in a.text and _inside(a.box, e.box))
                 and not (a.verdict == "open" and e.text.endswith(a.text) and _inside(a.box, e.box))
                 for a in clash):
            continue
        digit_read = any(s.box in digits for s in inside)
        # (The same text with none of its possible signs read as signs is the same reading, its verdict moved
        # only by the page's other sums: the plain one's doubt stands. 21044's "56+80=126", writer 42's 4 read
        # 5, is "unsure" in the plain reading and "wrong" beside the possible slash of a 1 of its answer.)
        same = (bool(clash) and all(a.text == e.text for a in clash)
                and any(s.char in e.text for s in inside if s.box in digits))
        if (clash and e.verdict == "wrong" and digit_read and not paired and e.text.count("=") == 1 and not same
                and all(a.verdict == "unsure" and a.text.count("=") == 1 and _well_formed(a.text)
                        and a.text.split("=")[0] == e.text.split("=")[0] for a in clash)):
            # A possible sign in the answer only, that makes the sum no more right than the digits do: an
            # answer is a number, and the digits stand as the digit model read them ("67+52=117", its 7
            # perhaps a 9, not "67+52=1/7"). Both readings are unsure.
            continue
        # A plain reading of the same text (its tall 1 read as that sign by the structure alone, ``_tall_ones``)
        # is no other reading: the sign classifier's possible sign backs it, and the verdict stands.
        if (clash and e.verdict == "wrong" and digit_read
                and not (paired and all(a.verdict == "wrong" for a in clash))
                and not same):
            e = replace(e, verdict="unsure")
        at = out.index(clash[0]) if clash else next((k for k, a in enumerate(out) if _before(e.box, a.box)), len(out))
        out = [a for a in out if a not in clash]
        out.insert(min(at, len(out)), e)
    return out


def open_in_doubt(expressions: list[Expression]) -> list[Expression]:
    """An equation with nothing written after its one ``=`` is ``open`` however surely its symbols were
    read: no answer is there to check, and no reading of its symbols writes one. Left ``unsure`` by a
    symbol read below ``min_confidence`` (``check``), it is ``open`` with no ``value``: the sum's value is
    what is in doubt, not its verdict. Run after :func:`with_possible_signs`, which takes an unsure plain
    reading for a weak one."""
    return [replace(e, verdict="open", value=None)
            if e.verdict == "unsure" and e.text.count("=") == 1 and e.text.endswith("=")
            and check(e.text)[2] == "open" else e
            for e in expressions]


def _inside(a: Box, b: Box) -> bool:
    """Is box ``a`` within box ``b`` (a few pixels' slack)?"""
    return a.x >= b.x - 2 and a.y >= b.y - 2 and a.x2 <= b.x2 + 2 and a.y2 <= b.y2 + 2


def _within(point: tuple[float, float], box: Box) -> bool:
    return box.x <= point[0] <= box.x2 and box.y <= point[1] <= box.y2


def _overlap(a: Box, b: Box) -> bool:
    return min(a.x2, b.x2) > max(a.x, b.x) and min(a.y2, b.y2) > max(a.y, b.y)


def _before(a: Box, b: Box) -> bool:
    """Does ``a`` come before ``b`` in reading order (a line above it, or on its line to its left)?"""
    if a.y2 <= b.center[1] - 0.25 * b.h and a.center[1] < b.y:
        return True
    return abs(a.center[1] - b.center[1]) < 0.5 * max(a.h, b.h) and a.x < b.x


# --------------------------------------------------------------------------- what the classifiers confuse


#: What the classifiers confuse, in one place: ``(read, meant)`` -> how many of a frame's sums that are not
#: right (wrong or unsure) reading it as meant must make right before a ``wrong`` it rights is ``unsure``.
#: 1: the sum alone (:func:`confused_reading`); 2: two sums, one of them already unsure, or three
#: (:func:`_systematic_misreads`). Any other digit read for another takes ``SYSTEMATIC`` sums. Every other
#: misread is doubted through the classifiers' own alternatives (``ExpressionConfig.alternative_level``,
#: ``pair_level``): these are the ones they give the true symbol no chance at all. Measured on the generated
#: worksheets (``livedigits.synth.worksheet``), each where it was added:
CONFUSIONS: dict[tuple[str, str], int] = {
    # The digit model: a 7 with a flat base read as 2, and a 2 as 7, surely, the true digit given nothing
    # (seeds 0-199 and 3000-3199: four right answers marked wrong there without it).
    ("2", "7"): 1, ("7", "2"): 1,
    # The sign model: a + and an x are one sign turned by an eighth; a hand's x written upright is read as +
    # (a held-out font's x at 0.96, its x under 0.005: 10032's (5+8)x3=39 read (5+8)+3=39), a + leaning as
    # x. 2 of about 1,000 wrong answers on seeds 0-199, 7000-7059 and 8000-8059 are rightened by the swap.
    ("+", "x"): 1, ("x", "+"): 1,
    # Brackets read as digits, a ( as 1, a ) as 1 or 3: both ends of a group together (17+71x5=70 is
    # (7+7)x5=70), never one alone (a 1 is far likelier a 1).
    ("1", "("): 1, ("1", ")"): 1, ("3", ")"): 1,
    # The digit model's sure misreads (read at 0.98 or more, the true digit given next to nothing) on seeds
    # 0-199, 7000-7059 and 8000-8059 (11,700 digits read that surely): 5 for 4 (8 times, 0.55% of the
    # sure 5s, all pendigits writer 42), 2 for 7 (4, writer 34, above), 2 for 8, 7 for 9 and 3 for 9
    # (2 each). A writer whose 4 reads 5 writes 55-14=41 read 55-15=51.
    # 3 for 9 alone too, since 2026-12-06 (issue 21, sixteenth round): pendigits writer 40's 9 read as a sure
    # 3 marked a right answer wrong from one sum on a fresh worksheet ((9+9)x3=54 read (9+3)x3=54); its page
    # may lift the doubt (TWINNED). It costs 3 of the 4,003 sums of 7000-13059 (a fraction sum 3/6+1/2=2).
    ("2", "8"): 2, ("3", "9"): 1,
    # Two of them mark a right answer wrong from one sum alone, where the page shows them nowhere else
    # (pendigits writer 42's 9 read as a sure 7: 99+19=118 read 79+19=118; writer 40's 1 with a base read
    # as a sure 2: 24-14=10 read 24-24=10, and (17)/(15) read (27)/(15)). Alone they cost 17 and 24 of the
    # 460 wrong answers marked wrong on seeds 7000-9059 (with the pairs below, 50 verdicts of 1,714 sums,
    # 2.9%): the price of marking none of those right answers wrong (docs/arithmetic.md, ninth round).
    ("7", "9"): 1, ("2", "1"): 1,
    # Writer 42's 4 read as a sure 5 (it was 2, two sums): one sum alone shows it where the page has one 4
    # (14-8=6 read 15-8=6). On 40 worksheets all in writer 42's hand (pendigits-only worksheets 4011-4631
    # that drew writer 42) 10 right answers were marked wrong at 2, 9 of them a 4 read 5 alone in its
    # sum; at 1, with the crop asked (``ASKED``), 1 (issue 21, sixteenth round).
    ("5", "4"): 1,
}
#: The sure misreads one hand makes two of in one sum (pendigits writer 42: 9x8+4=76 read 9x8+5=26, a 4
#: read 5 and a 7 read 2): a ``wrong`` that reading two of its digits as two of these makes right is
#: ``unsure``. These four cost 9 of the 460 wrong answers marked wrong on seeds 7000-9059; every sure
#: misread of the table at 2 or less, paired, would cost 28.
PAIRED_MISREADS = frozenset({("5", "4"), ("7", "9"), ("2", "7"), ("7", "2")})
#: Three or more of them in one sum doubt it too (issue 21, sixteenth round), where at most this many of its
#: digits may be one (every reading of them is tried: 3 ** 6 at most, 1-2 ms on a sum about to be marked
#: wrong, the readings cached). On 40 worksheets in pendigits writer 42's hand with every answer right, 3 of
#: the 7 right answers still marked wrong were three or more of these; the price: 2 wrong answers left
#: ``unsure`` on 7000-13059 (8014, 8034), 3 on 0-199.
MISREAD_PLACES = 6
#: Sums not right that one digit substitution not listed would make right, in one frame, for it to be a
#: writer's systematic misread (a writer whose 3 reads 8: 8+2=5, 7x9=68, 18-5=8 and 8x2=6). At 3 it cost 22
#: verdicts on seeds 0-99 and 7000-13059 (wrong answers a worksheet writes one digit off, three sharing
#: one by chance: 7037's 2 for 3) and kept no right answer from wrong there; at 4, none on 7000, 10000 and
#: 12000, where 3 cost most.
SYSTEMATIC = 4

#: The digit confusions a sum shows alone, by the digit read; the brackets a digit may be; the digit
#: confusions two sums of a frame show (at one or several of the digit's places).
_ALONE = {read: "".join(m for (r, m), n in CONFUSIONS.items() if r == read and n == 1 and m not in "()")
          for read, _ in CONFUSIONS}
_BRACKETS = {b: "".join(r for (r, m), n in CONFUSIONS.items() if m == b) for b in "()"}
_TWICE = frozenset(pair for pair, n in CONFUSIONS.items() if n <= 2 and pair[0].isdigit() and pair[1].isdigit())


#: The confusions of the table whose doubt the crop is asked about again (``ask`` of
#: :func:`read_expressions`), with every pair of ``PAIRED_MISREADS``: a ``wrong`` that only they would
#: right stays ``unsure`` only if the digit's crop, nudged a little (``vision.normalize.nudged``), gives the
#: digit meant at least ``alternative_level`` (a nudge read as a third digit is no chance of it: issue 21,
#: session 23). Pendigits writer 40's 1 with a
#: base read as a sure 2, and writer 42's 4 read 5, are so given on seeds 0-99 and 7000-12059; a plain 2 or
#: 5 of a wrong answer one digit off mostly is not. 7 for 9 and 2 for 7 are not nudged: writer 42's 9 is a
#: hook with no loop, a 7 in the ink under every nudge (7038's ``99+19=118`` read ``79+19=118``: its 9
#: gets 0.000), and so is a 2 for 7 (seed 46's ``71-51=20`` read ``21-51=20``); 7 for 9 is set beside the
#: page instead (``TWINNED``). 5 for 4 alone in a sum is asked too: writer 42's 4 read 5 gives the 4 a
#: chance under a nudge (9 of the 10 right answers marked wrong on its 40 worksheets are kept ``unsure``),
#: and a plain 5 mostly does not (3 wrong answers more left ``unsure`` on 7000-13059, 2 on 100-199).
ASKED = frozenset({("2", "1"), ("5", "4")})
#: The ``ASKED`` confusions that a page shows as a hand's systematic misread (``_systematic_misreads``) only
#: where the crop of one of the digits read so in the sums it would right, nudged, gives the digit meant a
#: chance (``NUDGED``). A 1 read as 2: every based 1 of pendigits writer 40 read as a sure 2 on the tuning
#: worksheets gives the 1 0.012 to 0.055 nudged (9000, 12003; seed 97 0.58), a font's plain 2 nothing (patrick-hand
#: on 12049 and 13036: 0.000). Not 5 for 4: writer 42's 4 read 5 stands under every nudge on some pages (21044's
#: right ``46+80=126`` read ``56+80=126`` was marked wrong with it; issue 21, session 25).
BACKED = frozenset({("2", "1")})
#: The ``ASKED`` confusions that ``PAIRED_MISREADS`` does not pair, taken twice in one sum: a ``wrong`` that two
#: of its digits read as one of them rights is ``unsure`` where the crops of both, nudged, give the digit meant
#: a chance (``NUDGED``). Pendigits writer 40 bases its 1s, and the digit model reads such a 1 as a sure 2
#: (drawn alone, 2 of its 26 1s at 0.92 and 0.996; on worksheets 9000 and 12003, and a held-out sheet whose
#: ``(1)/(3)+(4)/(5)=(17)/(15)`` read ``(2)/(3)+(4)/(5)=(17)/(25)`` was marked wrong); its crops nudged give the
#: 1 0.012 to 0.58 (issue 21, tenth round and session 23). Of the 1,186 wrong answers written on the
#: worksheets 7000-13059, 10 are made right by two 2s read as 1s and by no single one (issue 21, session 25).
TWICE_ASKED = frozenset(pair for pair in ASKED if pair not in PAIRED_MISREADS)
#: The confusions of the table, alone in a sum, whose doubt the page itself can lift (``ask`` of
#: :func:`read_expressions`, the test ``PAGE``). The page's right sums confirm the digits they hold (the
#: structure decided them, a hand's misread makes a sum wrong or unsure); where they confirm both digits,
#: the digit read and the digit meant, and the digit's crop is more like the page's confirmed crops of the
#: digit read (``vision.normalize.likeness``), it is written as that hand writes the digit read, and no
#: misread is in doubt. Pendigits writer 42's loopless 9 read as a sure 7 (7038's ``99+19=118`` read
#: ``79+19=118``) stays ``unsure``: its page's right sums confirm no 7, and its likest confirmed 9 (0.96) is
#: another of its loopless 9s, read 7 at 0.82, that a right sum decoded as 9 (``50-39=11``). A font's or a
#: hand's plain 7 in a wrong answer is most like its other 7s (issue 21, thirteenth round: 6 of the 16 wrong
#: answers on seeds 7000-9059 that 7 for 9 alone left unsure are marked wrong, and no right answer there or
#: on 0-199). Not 2 for 1: pendigits writer 40's 1 with a base is more like its own 2s than its 1s (seed
#: 97's ``(17)/(15)`` read ``(27)/(15)``: 0.94 and 0.90). Not a pair of ``PAIRED_MISREADS`` either (it
#: marked no more wrong answers wrong on 7000-9059). Where the right sums confirm no 7 or no 9, the page's
#: digits read surely decide (``_page_digits``: read at ``wrong_confidence`` or more, or confirmed), the crop
#: more like its 7s than its 9s by ``PAGE_MARGIN``: a font's or a hand's 7 is most like its other 7s
#: (issue 21, sixteenth round: 6 more wrong answers marked wrong on 7000-9059, 2 on 0-99 and 2 on 100-199,
#: none lost, and no right answer marked wrong on 7000-13059 and 0-199). Writer 42's loopless 9 read 7 is most like the page's
#: 9s there (7038, which stays ``unsure``).
#: A 9 read as a sure 3 likewise (sixteenth round, the lead: a fresh worksheet's right answer marked wrong).
#: The page's confirmed crops lift the doubt only by ``PAGE_MARGIN`` too, as its surely read digits do (session
#: 28, the lead: fresh worksheet 49046's right ``99+57=156``, pendigits writer 40's open 9 read as a sure 3, was
#: marked wrong on a crop 0.562 like the page's confirmed 3 and 0.536 like its confirmed 9s; with the margin
#: every line of the tuning worksheets 7000-13059 reads as before). Not a misread no table lists
#: (``_unlisted_misread``'s ``PAGE``): its doubt is weaker, and any lean of the page lifts it (with the margin
#: there too, check worksheet 23034's wrong ``24-17=4`` was left ``unsure``: its 4 read for a 5, beside 7 for 9).
TWINNED = frozenset({("7", "9"), ("3", "9")})
#: The ``ASKED`` confusions, alone in a sum, whose doubt the page may lift too (the test ``PAGE``, after
#: ``NUDGED``), with the margin it needs: the crop at least this much more like the crops of the digit read
#: that the page's right sums confirm than like their crops of the digit meant (the confirmed crops only: a
#: page whose right sums confirm no crop of one of them keeps the doubt). A 1 read as 2: pendigits writer 40
#: bases its 1s, and such a 1 is like its page's 2s, but never by much more than like its confirmed 1s: over
#: the 171 worksheets in writer 40's hand among pendigits-only seeds 4000-6499, its 1s read as 2 (103) were at
#: most 0.152 more like the page's confirmed 2s than its confirmed 1s, and its 1s of any reading (1,043) at most
#: 0.205; the 310 1s of 7000-7119 (MNIST, fonts, pendigits) at most 0.190. Set beside the page's surely read
#: digits instead, a based 1 read as 2 leans up to 0.378 (its twins read as sure 2s), so they decide nothing
#: here. A 2 of a wrong answer one digit off is mostly far more like the page's confirmed 2s: reenie-beanie's
#: 2s that nudged give the 1 0.008 to 0.07 lean 0.17 to 0.61, and 60% of the 2s on writer 40's own pages lean
#: 0.1 or more (issue 21, session 29). 0.25 stands above every 1 measured.
PAGED = {("2", "1"): 0.25}
#: The tests ``ask`` is asked for (the fourth item of a query): ``NUDGED``, the crop nudged and read again
#: gives the digit meant a chance; ``PAGE``, the crop is not more like the page's confirmed crops of the
#: digit read than of the digit meant. The doubt stands where every test asked says so. (A 1 read as 2 is
#: not set beside the page: pendigits writer 40's 1 with a base is a near twin of its page's confirmed 2s,
#: 0.92 and more, and more like them than its confirmed 1s by 0.05 on worksheet 12003, where that marked two
#: right answers wrong; issue 21, fifteenth round.)
NUDGED, PAGE = "nudged", "page"
#: The test ``CHANCE`` (the fourth item of a query of ``ask``): the digit's crop, nudged
#: (``vision.normalize.nudged``) and read again, gives the digit meant at least ``UNLISTED_LEVEL`` in some
#: nudge. Asked of a digit no table lists as misread (``_unlisted_misread``).
CHANCE = "chance"
#: A real chance, not noise: five times ``decode_level``. The misreads it was made for give the digit meant
#: 0.16 (writer 42's 4 read 6) to 0.99 nudged; of the 512 wrong answers on the worksheets 7000-13059 that the
#: rule finds a reading for, 8 give 0.1 or more, 12 0.02 (docs/arithmetic.md, issue 21, session 22).
UNLISTED_LEVEL = 0.1
#: ... with at most this many of the hand's sure misreads (``PAIRED_MISREADS``) beside it.
UNLISTED_PAIRED = 2
#: The test ``SIGNED`` (the fourth item of a query of ``ask``): the sign classifier, shown the digit's crop, reads
#: no digit there (its likeliest class a sign or "other"). Asked, with ``NUDGED``, of a digit that alone, read as
#: another, makes a ``wrong`` equation right (:func:`_contested_digit`).
SIGNED = "signed"


def _misread_places(text: str) -> list[tuple[int, str]]:
    """Each place of ``text`` whose character one of the hand's sure misreads (``PAIRED_MISREADS``) may
    have read for another, with the digit meant: ``(position, meant)``."""
    return [(k, meant) for k, ch in enumerate(text) for read, meant in PAIRED_MISREADS if ch == read]


def _confusions(text: str):
    """Each reading of the equation ``text`` that ``CONFUSIONS`` says it may be alone, a pair of digits as
    the brackets they may be (``17+71x5=70`` is ``(7+7)x5=70``), or two digits as two of one hand's sure
    misreads (``PAIRED_MISREADS``: ``9x8+5=26`` is ``9x8+4=76``) or as two of one ``TWICE_ASKED``
    (``(2)/(3)+(4)/(5)=(17)/(25)`` is ``(1)/(3)+(4)/(5)=(17)/(15)``), or three or more of ``PAIRED_MISREADS``
    (``MISREAD_PLACES``), that makes it right: ``(reading, changes)``,
    ``changes`` the digits read for others, ``(position, read, meant)`` (none for brackets and signs)."""
    for k, ch in enumerate(text):
        for alt in _ALONE.get(ch, ""):
            candidate = text[:k] + alt + text[k + 1:]
            if _is_right(candidate):
                yield candidate, ((k, ch, alt),) if ch.isdigit() and alt.isdigit() else ()
    opens = [k for k, ch in enumerate(text) if ch in _BRACKETS["("]]
    closes = [k for k, ch in enumerate(text) if ch in _BRACKETS[")"]]
    for i in opens:
        for j in closes:
            candidate = text[:i] + "(" + text[i + 1: j] + ")" + text[j + 1:]
            if j > i + 1 and _is_right(candidate):
                yield candidate, ()
    if "=" not in text or text.endswith("="):
        return
    places = _misread_places(text)
    for (i, a), (j, b) in itertools.combinations(places, 2):
        if i != j:
            candidate = f"{text[:i]}{a}{text[i + 1:j]}{b}{text[j + 1:]}"
            if _is_right(candidate):
                yield candidate, ((i, text[i], a), (j, text[j], b))
    # Two of one hand's sure misreads of one kind that pairs with nothing else (``TWICE_ASKED``: pendigits
    # writer 40's based 1s read as sure 2s, ``(1)/(3)+(4)/(5)=(17)/(15)`` read ``(2)/(3)+...=(17)/(25)``).
    for read, meant in TWICE_ASKED:
        for i, j in itertools.combinations([k for k, ch in enumerate(text) if ch == read], 2):
            candidate = f"{text[:i]}{meant}{text[i + 1:j]}{meant}{text[j + 1:]}"
            if _is_right(candidate):
                yield candidate, ((i, read, meant), (j, read, meant))
    # Three or more of them in one sum (writer 42's 93-44=49 read 73-55=57), where the sum has at most
    # MISREAD_PLACES digits that may be one: each place read as one of its misreads, or as read.
    at: dict = {}
    for k, meant in places:
        at.setdefault(k, []).append(meant)
    if 3 <= len(at) <= MISREAD_PLACES:
        keys = sorted(at)
        for combo in itertools.product(*[[None] + at[k] for k in keys]):
            changes = tuple((k, text[k], m) for k, m in zip(keys, combo) if m is not None)
            if len(changes) >= 3:
                chars = list(text)
                for k, _, m in changes:
                    chars[k] = m
                if _is_right("".join(chars)):
                    yield "".join(chars), changes


def confused_reading(text: str) -> str | None:
    """The first reading of :func:`_confusions` of the equation ``text`` that makes it right (the table
    alone, no crop asked), or None when none does."""
    return next((candidate for candidate, _ in _confusions(text)), None)


def _confused(chunk: list[_Item], text: str, ask=None) -> bool:
    """Does a confusion of the table (:func:`_confusions`) leave the ``wrong`` equation ``text`` in doubt? A
    reading whose digits read for others are two or more of ``PAIRED_MISREADS``, or one ``ASKED`` or ``TWINNED``,
    doubts it only where ``ask`` (a list of ``(box, read digit, meant digit, tests)`` -> a list of bools: does
    each test, ``NUDGED`` for two or more and ``ASKED``, ``PAGE`` for ``TWINNED``, leave the digit meant a chance)
    says so of one of its digits (of both, for two of one ``TWICE_ASKED``): asked at once for every such digit of
    the sum, in one batch. Without
    ``ask``, or where a digit's box is not known, the table decides."""
    asked = []
    places = None
    for _, changes in _confusions(text):
        if ask is None or not changes:
            return True
        pair = (changes[0][1], changes[0][2])
        tests = (NUDGED,) if len(changes) >= 2 else (NUDGED,) * (pair in ASKED) + (PAGE,) * (pair in TWINNED or pair in PAGED)
        if not tests:
            return True
        if places is None:
            places = dict(_text_places(chunk))
        boxes = [places.get(k) for k, _, _ in changes]
        if any(box is None for box in boxes):
            return True
        # Two of ``TWICE_ASKED`` doubt the sum only where both crops give the digit meant a chance: one
        # hand's misread is in both digits; any other group, where one of its digits does.
        every = len(changes) >= 2 and all((read, meant) in TWICE_ASKED for _, read, meant in changes)
        asked.append((every, [(box, int(read), int(meant), tests) for box, (_, read, meant) in zip(boxes, changes)]))
    if not asked:
        return False
    queries = list(dict.fromkeys(q for _, group in asked for q in group))
    answers = dict(zip(queries, ask(queries)))
    return any((all if every else any)(answers[q] for q in group) for every, group in asked)


def _unlisted_misread(chunk: list[_Item], text: str, ask=None) -> bool:
    """Does one digit read as another that no table lists, with one or two of the hand's sure misreads
    (``PAIRED_MISREADS``, at most ``UNLISTED_PAIRED``) besides, make the ``wrong`` equation ``text`` right, where
    the crop of that one digit, nudged (``vision.normalize.nudged``), gives the digit meant a real chance
    (``ask``'s test ``CHANCE``: at least ``UNLISTED_LEVEL`` in some nudge) and is not more like the page's
    digits of the digit read than of the digit meant (``PAGE``, as ``TWINNED`` asks: a font's 1 that nudged
    gives a 7 0.21, in ``14/7=1``, is most like the page's other 1s)? A hand that writes one digit so that
    it is read surely as another writes others so too: pendigits writer 34's ``92+95=187`` read ``92+98=182``
    (its 7 read 2, listed; its 5 read as a sure 8, which gives the 5 0.99 nudged), ``95-17=78`` read
    ``15-12=28`` (its J-like 9 read 1, 0.65 nudged); writer 42's ``4x9=36`` read ``6x7=36`` (7 for 9 listed; its
    4 read 6 gives the 4 0.16 nudged). The listed misreads are taken from the table as ``_confused`` takes them
    (one ``ASKED``, a 5 for 4, only where its own crop, nudged, gives the 4 a chance: ``NUDGED``); the unlisted
    one must show in its own crop. At most half the sum's digits are read as others (three digits of
    ``7-7=1`` read anew make ``9-2=7``: a reading that rewrites the sum says nothing of it). Without ``ask``
    (no crop to ask) nothing is in doubt. Only a sum about to be marked wrong is tried (issue 21, session 22)."""
    if ask is None:
        return False
    readings = list(dict.fromkeys(_unlisted_readings(chunk, text)))
    if not readings:
        return False
    queries = list(dict.fromkeys(q for reading in readings for q in reading))
    answers = dict(zip(queries, ask(queries)))
    return any(all(answers[q] for q in reading) for reading in readings)


def _unlisted_readings(chunk: list[_Item], text: str):
    """The readings of :func:`_unlisted_misread` that make the equation ``text`` right, each as the queries of
    ``ask`` that must all leave the digit meant a chance: ``(box, read, meant, (CHANCE, PAGE))`` of the digit
    no table lists, then ``(box, read, meant, (NUDGED,))`` of each listed one that is ``ASKED``."""
    if text.count("=") != 1 or text.endswith("="):
        return
    at: dict = {}
    for k, meant in _misread_places(text):
        at.setdefault(k, []).append(meant)
    if not at:
        return
    places = _text_places(chunk)
    boxes = dict(places)
    equals = text.index("=")
    most = sum(ch.isdigit() for ch in text) // 2  # digits read as others, the unlisted one with them
    for n in range(1, min(UNLISTED_PAIRED, len(at), most - 1) + 1):
        for keys in itertools.combinations(sorted(at), n):
            for meants in itertools.product(*[at[k] for k in keys]):
                asked = [(boxes.get(k), int(text[k]), int(m), (NUDGED,)) for k, m in zip(keys, meants)
                         if (text[k], m) in ASKED]
                if any(q[0] is None for q in asked):
                    continue  # a listed misread that must be asked, with no crop to ask
                chars = list(text)
                for k, m in zip(keys, meants):
                    chars[k] = m
                before, after = "".join(chars[:equals]), "".join(chars[equals + 1:])
                for k, box in places:
                    if k in keys or not text[k].isdigit():
                        continue
                    # Right: both sides of the "=" have one value (digits read anew leave the operators as
                    # they are, so ``check`` says right just then). The side left as it is is worked out once.
                    side = k > equals
                    want = _side_value(before if side else after)
                    if want is None:
                        continue
                    at_k = k - equals - 1 if side else k
                    part = after if side else before
                    for d in "0123456789":
                        if d != text[k] and _side_value(part[:at_k] + d + part[at_k + 1:]) == want:
                            yield ((box, int(text[k]), int(d), (CHANCE, PAGE)), *asked)


def _contested_digit(chunk: list[_Item], text: str, ask=None) -> bool:
    """Does one digit read as another make the ``wrong`` equation ``text`` right, where both classifiers leave
    that digit in doubt: the sign classifier reads no digit in its crop (``ask``'s test ``SIGNED``) and the crop,
    nudged, gives the digit meant a chance (``NUDGED``)? A digit the one model takes for a bracket or a slash is
    no sure digit of the other's: pendigits writer 34's 6, its loop a dot, is read a sure 1 (0.992, the 6 given
    0.004) and "(" by the sign classifier (0.95), and nudged gives the 6 0.062 (a fresh worksheet, 37039: a right
    ``10x6=60`` read ``10x1=60``, marked wrong). A reading that writes a number with a leading zero (``13-13=00``)
    is none. Without ``ask`` (no crop to ask) nothing is in doubt. Only a sum about to be marked wrong is tried."""
    if ask is None:
        return False
    queries = [(box, read, meant, (NUDGED, SIGNED)) for box, read, meant in _righting_digits(chunk, text)]
    return bool(queries) and any(ask(queries))


def _righting_digits(chunk: list[_Item], text: str) -> list[tuple[Box, int, int]]:
    """``(box, digit read, digit meant)`` for each digit of the equation ``text`` that, read as another, makes it
    right, where that reading writes no number with a leading zero (none where ``text`` is no equation with an
    answer)."""
    if text.count("=") != 1 or text.endswith("="):
        return []
    out = []
    for k, box in _text_places(chunk):
        read = text[k]
        if not read.isdigit():
            continue
        for meant in "0123456789":
            candidate = text[:k] + meant + text[k + 1:]
            if meant != read and _is_right(candidate) and not _leading_zero(candidate):
                out.append((box, int(read), int(meant)))
    return out


def _leading_zero(text: str) -> bool:
    """Does ``text`` hold a number written with a leading zero (``00``, ``07``)?"""
    return any(len(token) > 1 and token[0] == "0" and token.isdigit() for token in tokenize(text))


@functools.lru_cache(maxsize=4096)
def _side_value(part: str) -> Fraction | None:
    """The value of one side of an ``=`` (``value_of``), None where it has none (a division by zero, no parse)."""
    try:
        return value_of(part) if part else None
    except ParseError:
        return None


def _fixes(text: str, only: set | None = None) -> set[tuple[str, str]]:
    """The digit substitutions ``(read, meant)`` that, made once anywhere in ``text`` (``sum=answer``),
    would make it right (``only``: look at these substitutions alone)."""
    parts = text.split("=")
    if len(parts) != 2 or not parts[1]:
        return set()
    try:
        value, answer = value_of(parts[0]), value_of(parts[1])
    except ParseError:
        return set()
    pairs: set = set()

    def tries(part: str, want: Fraction | None) -> None:
        if want is None:
            return
        if part.isdigit() and want.denominator == 1 and want >= 0:
            # A plain number written for an integer: one place where it differs, if only one.
            target = str(want.numerator)
            diff = [k for k in range(len(part)) if len(target) == len(part) and part[k] != target[k]]
            if len(diff) == 1 and (only is None or (part[diff[0]], target[diff[0]]) in only):
                pairs.add((part[diff[0]], target[diff[0]]))
            return
        for k, ch in enumerate(part):
            if not ch.isdigit():
                continue
            for alt in "0123456789":
                if alt == ch or (ch, alt) in pairs or (only is not None and (ch, alt) not in only):
                    continue
                try:
                    if value_of(part[:k] + alt + part[k + 1:]) == want:
                        pairs.add((ch, alt))
                except ParseError:
                    pass

    tries(parts[0], answer)
    tries(parts[1], value)
    return pairs


def _twice_fixes(text: str, paired: bool = False) -> set[tuple[str, str]]:
    """The confusions two sums must show (``CONFUSIONS`` at 2 or less) that, made at one or several of the
    places of their digit in ``text`` (``sum=answer``), make it right; ``paired``: or do so together with
    one other digit read as another by the same hand's sure misreads (``PAIRED_MISREADS``)."""
    if "=" not in text or text.endswith("="):
        return set()
    out = set()
    for read, meant in _TWICE:
        places = [k for k, ch in enumerate(text) if ch == read]
        others = [{}] + ([{k: m} for k, m in _misread_places(text) if text[k] != read] if paired else [])
        if any(_is_right("".join(meant if k in chosen else other.get(k, ch) for k, ch in enumerate(text)))
               for other in others
               for n in range(1, len(places) + 1) for chosen in itertools.combinations(places, n)):
            out.add((read, meant))
    return out


def _backed(chunk: list[_Item], text: str, pair: tuple[str, str], ask) -> bool:
    """Does a digit of the sum ``text`` (its ``chunk``) read as ``pair[0]`` give ``pair[1]`` a chance in its crop,
    nudged (``ask``'s test ``NUDGED``), and, for a confusion the page may lift (``PAGED``), is it not far more like
    the page's confirmed crops of ``pair[0]`` than of ``pair[1]`` (``PAGE``)? True where no such digit's crop is
    known (the table decides)."""
    read, meant = pair
    if len("".join(it.text for it in chunk)) != len(text):
        return True
    tests = (NUDGED, PAGE) if pair in PAGED else (NUDGED,)
    queries = [(box, int(read), int(meant), tests) for k, box in _text_places(chunk) if text[k] == read]
    return not queries or any(ask(queries))


def _systematic_misreads(expressions: list[Expression], backed=None) -> list[Expression]:
    """A writer whose 4 the model reads as 5, surely, makes every sum with a 4 look wrong in the same way.
    A confusion ``CONFUSIONS`` lists at 2 that would make two of a frame's sums that are not right (wrong or
    unsure) right, one of them already unsure, or three of them, is taken for this writer's misread (an
    unsure sum shows it also where one more of the hand's sure misreads, ``PAIRED_MISREADS``, is needed
    beside it: writer 42's 4x6=24 read 5x6=74 shows its 5 for 4 as its 7 for 2 does); so is
    any one digit substitution that would make ``SYSTEMATIC`` of them right; and so are the listed confusions
    that right three of them between them (a hand whose 4 reads 5 and whose 9 reads 7). Every wrong sum it
    would make right is then ``unsure``. (Two plain wrong answers that one substitution rights are a chance: every such pair on the
    tuning worksheets was two wrong answers, 8 of them; a writer's misread leaves doubts too. Four by
    chance are rare: see docs/arithmetic.md for what it costs on the generated worksheets.)

    ``backed(k, pair)``: does a digit of the ``k``-th sum read as ``pair[0]`` give ``pair[1]`` a chance in its
    crop, nudged? A confusion of ``BACKED`` that no digit of the sums it would right backs so shows nothing of a
    hand on the page (a font's 2s, which no nudge reads as a 1, in three wrong answers that 1s would right:
    issue 21, session 25); one backed in one sum is the hand's, in every sum."""
    wrong = [k for k, e in enumerate(expressions) if e.verdict == "wrong"]
    unsure = [k for k, e in enumerate(expressions) if e.verdict == "unsure"]
    if not wrong or len(wrong) + len(unsure) < 2:
        return expressions
    fixes = {k: _twice_fixes(expressions[k].text) for k in wrong}
    if any(fixes.values()):
        for k in unsure:
            fixes[k] = _twice_fixes(expressions[k].text, paired=True)
        listed = fixes
        if backed is not None:
            # A confusion of BACKED that no digit of these sums backs in its crop is no hand's misread here.
            shown = set().union(*fixes.values()) & BACKED
            unbacked = {pair for pair in shown if not any(backed(k, pair) for k in fixes if pair in fixes[k])}
            fixes = {k: pairs - unbacked for k, pairs in fixes.items()}
        expressions = _doubt_shared(expressions, wrong, fixes, 2, set().union(*(fixes[k] for k in unsure)))
        # ... or three, none of them in doubt (one fewer than any other substitution needs).
        expressions = _doubt_shared(expressions, wrong, fixes, SYSTEMATIC - 1)
        # ... or three that listed confusions make right, not all the same one: a hand whose 4 reads 5 and
        # whose 9 reads 7 (15-6=8, 5x7+5=39 and 7x7=81 on one page). (All the same one, it is the rules above.)
        if (sum(1 for pairs in listed.values() if pairs) >= SYSTEMATIC - 1
                and len(set().union(*listed.values())) >= 2):
            expressions = [replace(e, verdict="unsure") if k in listed and listed[k] and e.verdict == "wrong" else e
                           for k, e in enumerate(expressions)]
    wrong = [k for k in wrong if expressions[k].verdict == "wrong"]
    if not wrong or len(wrong) + len(unsure) < SYSTEMATIC:
        return expressions
    fixes = {k: _fixes(expressions[k].text) for k in wrong}
    candidates = set().union(*fixes.values())
    if not candidates:
        return expressions
    for k in unsure:  # only the substitutions that would right a wrong one matter
        fixes[k] = _fixes(expressions[k].text, candidates)
    return _doubt_shared(expressions, wrong, fixes, SYSTEMATIC)


def _doubt_shared(expressions: list[Expression], wrong: list[int], fixes: dict, least: int,
                  doubted: set | None = None) -> list[Expression]:
    """``expressions`` with every one of ``wrong`` made ``unsure`` whose substitutions (``fixes``: by index,
    the ``(read, meant)`` pairs that would make that sum right) share one with ``least`` or more of the sums
    in ``fixes`` (and, given ``doubted``, one of those pairs)."""
    counts = collections.Counter(pair for pairs in fixes.values() for pair in pairs)
    shared = {pair for pair, n in counts.items() if n >= least and (doubted is None or pair in doubted)}
    if not shared:
        return expressions
    out = list(expressions)
    for k in wrong:
        if out[k].verdict == "wrong" and fixes[k] & shared:
            out[k] = replace(out[k], verdict="unsure")
    return out


#: Ink smaller than this share of the digit height (a dot, a speck) is not asked to belong to a sum.
MIN_INK_SHARE = 0.25
#: Ink at least this share of the digit height counts against an operator it stands close to.
NEAR_INK_SHARE = 0.15
#: ... unless it is a speck this close (share of the digit height) to its side: the end of its own arm.
ARM_GAP = 0.05


def _ink_beside(box: Box, h: float, ink: np.ndarray, mine: np.ndarray, config: ExpressionConfig) -> bool:
    """Is a piece of ink (``ink``: rows x, y, w, h) of some size closer to ``box`` than ``clear_ink`` digit
    heights, its centre in none of the line's own pieces (``mine``) and not ``box`` itself?"""
    x, y, w, hh = ink[:, 0], ink[:, 1], ink[:, 2], ink[:, 3]
    size = np.maximum(w, hh) >= NEAR_INK_SHARE * h
    gap = np.maximum.reduce([np.zeros_like(x), x - box.x2, box.x - (x + w), y - box.y2, box.y - (y + hh)])
    near = size & (gap < config.clear_ink * h) & ~((x == box.x) & (y == box.y) & (w == box.w) & (hh == box.h))
    # A speck against the operator's side, within its rows and at most half its size, is the end of its
    # own arm, cut off by the binarisation or a ruled line through it (``(2)/(5)+(1)/(2)=``, the + between
    # the fractions on ruled paper), not the rest of an unread digit: that one reaches past the operator.
    arm = ((gap <= ARM_GAP * h) & (y >= box.y) & (y + hh <= box.y2)
           & (np.maximum(w, hh) <= 0.5 * max(box.w, box.h)))
    near &= ~arm
    if not near.any():
        return False
    cx, cy = (x + w / 2)[near], (y + hh / 2)[near]
    if len(mine):
        inside = ((cx[:, None] >= mine[None, :, 0]) & (cx[:, None] <= mine[None, :, 0] + mine[None, :, 2])
                  & (cy[:, None] >= mine[None, :, 1]) & (cy[:, None] <= mine[None, :, 1] + mine[None, :, 3])).any(axis=1)
    else:
        inside = np.zeros(len(cx), bool)
    return bool((~inside).any())


def _misplaced(line: list[_Item], config: ExpressionConfig, ink=()) -> list[_Item]:
    """The operators of a line (``+ - x / =``) that stand where no operator is written: off the mid height
    of the numbers beside them, reaching into one, between numbers on different baselines or of very
    different sizes, a minus too thick, or ink close beside them that belongs to nothing read (the rest of
    an unread digit the piece came from). Measured on the generated worksheets and stress pages (forms,
    tables, print, dense pages of numbers): every operator written on a worksheet passes; most of the
    pieces of digits and rules taken for signs on the stress pages do not."""
    out = []
    mine = np.array([p.as_list() for it in line for p in it.pieces], np.float64).reshape(-1, 4)
    ink_boxes = ink if isinstance(ink, np.ndarray) else np.array([b.as_list() for b in ink], np.float64).reshape(-1, 4)
    if len(ink_boxes) and len(mine):  # only the ink at the line's height can stand beside its signs
        lo, hi = mine[:, 1].min(), (mine[:, 1] + mine[:, 3]).max()
        reach = float(np.max(mine[:, 3]))
        ink_boxes = ink_boxes[(ink_boxes[:, 1] + ink_boxes[:, 3] >= lo - reach) & (ink_boxes[:, 1] <= hi + reach)]
    for k, it in enumerate(line):
        if it.operand or it.text not in OPERATORS + "=":
            continue
        left = line[k - 1] if k > 0 else None
        right = line[k + 1] if k + 1 < len(line) else None
        plain = [n for n in (left, right) if n is not None and n.operand and not n.parts]
        h = float(np.mean([n.box.h for n in plain])) if plain else it.height
        bad = False
        if plain:
            top = float(np.mean([n.box.y for n in plain]))
            at = (_centre_y(it.box) - top) / max(h, 1.0)
            lo, hi = config.sign_band
            bad |= it.text != "/" and not lo <= at <= hi
            bad |= any(min(it.box.x2, n.box.x2) - max(it.box.x, n.box.x) > config.max_overlap * h for n in plain)
        if len(plain) == 2 and plain[0] is left:
            a, b = plain
            bad |= abs(a.box.y2 - b.box.y2) > config.max_baseline * h
            bad |= max(a.box.h, b.box.h) > config.max_height_ratio * max(1, min(a.box.h, b.box.h))
        bad |= it.text == "-" and it.box.h > config.max_dash * h
        if not bad and len(ink_boxes):
            bad = _ink_beside(it.box, h, ink_boxes, mine, config)
        if bad:
            out.append(it)
    return out


def _unaccounted(expression: Expression, chunk: list[_Item], ink) -> bool:
    """Is there a piece of ink of some size on the expression's line, inside it or within a digit height
    and a half of its ends, that is none of its digits or signs? (A digit or a sign the reading lost:
    "12x6=72" read without its 1 would be wrong.)"""
    if not ink:
        return False
    height = float(statistics.median([it.height for it in chunk]))
    box = expression.box
    mine = [p for it in chunk for p in it.pieces]
    for piece in ink:
        if max(piece.w, piece.h) < MIN_INK_SHARE * height:
            continue
        cx, cy = piece.center
        if not (box.x - 1.5 * height <= cx <= box.x2 + 1.5 * height and box.y <= cy <= box.y2):
            continue
        if not any(m.x <= cx <= m.x2 and m.y <= cy <= m.y2 for m in mine):
            return True
    return False


#: A digit whose crop is more like the page's digits of another (``_page_digits``: read surely, or confirmed by
#: a right sum) than like its digits of the digit read, by at least this much (``vision.normalize.likeness``),
#: and which, nudged, gives that other digit ``decode_level``, may be that other digit whatever the classifier
#: says (``_leaned``). The likeness alone does not separate: on the tuning worksheets 7000-13059, 22 of the 958
#: wrong answers read exactly have a digit the page leans by 0.1 or more to the digit that would right them, up
#: to 0.31 (an MNIST page's digits are many writers'). With the nudged chance too, two: 7006 (0.139) and 13031
#: (0.131), which 0.1 left ``unsure``; at three times ``PAGE_MARGIN`` none. The two right answers it was made
#: for lean 0.186 and 0.221, with 0.039 and 0.023 nudged (issue 21, session 30).
LEAN_MARGIN = 0.15


def _leaned(chunk: list[_Item], text: str, nudge_read, evidence, level: float) -> bool:
    """Does one digit read as another make the ``wrong`` equation ``text`` right, where the digit's crop is
    more like the page's digits of the other (``evidence()``, :func:`_page_digits`) than like its digits of
    the digit read by ``LEAN_MARGIN``, and its crop, nudged (``vision.normalize.nudged``), gives the other at
    least ``level`` (``nudge_read``: ``[(box, read, meant)], shown, level, seen, margin`` -> a bool each, as
    :func:`_nudge_read` asks it)?
    The classifier reads a writer's odd digit surely as another, and no table lists every such misread: an
    MNIST test 6 with an open loop, read as a 4 at 0.996, made two right answers of a fresh worksheet range
    wrong (63007's ``24/6=4`` read ``24/4=4``, 63014's ``72-36=36`` read ``72-34=36``); its crop is 0.77 like
    the page's 6s and 0.55 like its 4s. Only a sum about to be marked wrong is tried, and it can only be left
    ``unsure``. Without ``nudge_read`` (no crops) nothing is in doubt."""
    tries = _righting_digits(chunk, text) if nudge_read is not None else []
    return bool(tries) and any(nudge_read(tries, evidence(), level, margin=LEAN_MARGIN))


def _doubted(expression: Expression, chunk: list[_Item], doubts) -> bool:
    """Is a piece of unread ink inside the expression, or just before or after it on its line?"""
    height = float(statistics.median([it.height for it in chunk]))
    box = expression.box
    for d in doubts:
        cx, cy = d.center
        if box.x - height <= cx <= box.x2 + height and box.y <= cy <= box.y2:
            return True
    return False


def _right_if_misread(chunk: list[_Item], text: str, pair_level: float = DEFAULT_EXPRESSIONS.pair_level) -> bool:
    """Would reading one symbol as one of its alternatives make the expression right, or two symbols as
    alternatives given at least ``pair_level`` each (``ExpressionConfig.pair_level``)?"""
    at = 0
    places = []  # (position in text, alternative) of the readings given at least pair_level
    for it in chunk:
        for pos, alt, p in it.alts:
            k = at + pos
            if check(text[:k] + alt + text[k + 1:])[2] == "right":
                return True
            if p >= pair_level and alt != "?":
                places.append((k, alt))
        at += len(it.text)
    for (i, a), (j, b) in itertools.combinations(places, 2):
        if i != j:
            chars = list(text)
            chars[i], chars[j] = a, b
            if check("".join(chars))[2] == "right":
                return True
    return False


@functools.lru_cache(maxsize=4096)
def _is_right(text: str) -> bool:
    """``check(text)`` says right (the readings tried before a ``wrong`` recur from frame to frame on video)."""
    return check(text)[2] == "right"


def _digit_places(it: _Item) -> list[tuple[int, Box]]:
    """(position in ``it.text``, box) of each digit of ``it`` read digit by digit: a plain number's, or those
    of the numbers above and below a stacked fraction's bar (``(top)/(bottom)``, as ``_fractions`` writes
    it)."""
    if not it.operand:
        return []
    if not it.parts:
        return list(enumerate(it.pieces)) if len(it.pieces) == len(it.text) and it.text.isdigit() else []
    bar, rest = it.parts[0], it.parts[1:]
    above = sorted((p for p in rest if _centre_y(p.box) < _centre_y(bar.box)), key=lambda p: p.box.x)
    below = sorted((p for p in rest if _centre_y(p.box) >= _centre_y(bar.box)), key=lambda p: p.box.x)
    top = "".join(p.text for p in above)
    if it.text != f"({top})/({''.join(p.text for p in below)})":
        return []
    out, at = [], 1
    for p in above:
        out += [(at + j, box) for j, box in _digit_places(p)]
        at += len(p.text)
    at = 1 + len(top) + 3
    for p in below:
        out += [(at + j, box) for j, box in _digit_places(p)]
        at += len(p.text)
    return out


def _text_places(chunk: list[_Item]) -> list[tuple[int, Box]]:
    """(position in the chunk's text, box) of each digit of its items read digit by digit (``_digit_places``)."""
    places, at = [], 0
    for it in chunk:
        places += [(at + j, box) for j, box in _digit_places(it)]
        at += len(it.text)
    return places


def _stray_digit(chunk: list[_Item], text: str) -> bool:
    """Would leaving out one digit that looks like no whole digit of its own make the equation right? A digit
    shorter than ``SHORT`` of the chunk's digit height, or overlapping the digit beside it by more than
    ``PIECES`` of the narrower (a speck or a piece of a digit cut off and read as a digit: ``78+5=83`` read
    ``78+5=823``, a short 2; ``18+49=67`` read ``18+49=637``, a 3 over half of the 6). The digits above and
    below a stacked fraction's bar count too (a 5's lifted hat read as a 4 beside it: ``(5)/(6)`` read
    ``(45)/(6)``)."""
    places = _text_places(chunk)
    if len(places) < 2:
        return False
    height = float(statistics.median([box.h for _, box in places]))
    by_pos = dict(places)
    for k, box in places:
        if not (k + 1 < len(text) and text[k + 1].isdigit()) and not (k > 0 and text[k - 1].isdigit()):
            continue  # a number of one digit: leaving it out leaves no number
        beside = [by_pos[j] for j in (k - 1, k + 1) if j in by_pos and text[j].isdigit()]
        overlaps = any(min(box.x2, b.x2) - max(box.x, b.x) > PIECES * min(box.w, b.w) for b in beside)
        cut = any(max(b.x - box.x2, box.x - b.x2) < CUT_GAP * height for b in beside)
        if (box.h < SHORT * height or overlaps or cut) and _is_right(text[:k] + text[k + 1:]):
            return True
    return False


def _stroke_doubt(chunk: list[_Item], text: str) -> bool:
    """Would leaving out a digit that may be a stroke (``_Item.stroke``: one the sign classifier took for a
    slash or a bracket right after a number, read surely as a digit by the digit model and joined to that
    number) leave the equation anything but wrong? Both readings of that piece, the digit and no digit, are
    then weighed; its other digit readings are weighed as any digit's are."""
    at = 0
    for it in chunk:
        for k in it.stroke:
            if check(text[:at + k] + text[at + k + 1:])[2] != "wrong":
                return True
        at += len(it.text)
    return False


def _touching_pair(chunk: list[_Item], text: str, config: ExpressionConfig) -> bool:
    """Would reading a digit at least ``touching_width`` digit heights wide as two digits, one of them the
    digit read, make the equation right? Two digits written touching are one piece of ink; the digit model
    reads it as one of them, often surely (``5x12=60`` read ``5x2=60``), and only the width shows it."""
    heights = [it.box.h for it in chunk if it.operand and not it.parts]
    if not heights:
        return False
    wide = config.touching_width * float(statistics.median(heights))
    at = 0
    for it in chunk:
        if it.operand and not it.parts and len(it.pieces) == len(it.text) and it.text.isdigit():
            for j, piece in enumerate(it.pieces):
                if piece.w < wide:
                    continue
                k = at + j
                for pair in range(10 if j == 0 else 0, 100):
                    # The digit model reads two touching digits as one of them (a 12 as its 2).
                    two = f"{pair:02d}"
                    if text[k] in two and _is_right(text[:k] + two + text[k + 1:]):
                        return True
        at += len(it.text)
    return False


def _cut_pair(chunk: list[_Item], text: str) -> bool:
    """Would reading two digits of one number whose boxes meet closer than ``CUT_GAP`` digit heights as one
    digit make the equation right? They may be one piece of ink the segmentation cut in two
    (``recognizer.decide_splits``), each half read surely as a digit of its own: a wide 6 whose stem and bowl
    read as ``10`` (``53-6=47`` read ``53-10=47``). The other side of ``_touching_pair``."""
    return any(_is_right(text[:k] + d + text[k + 2:]) for k, _, _ in _cut_places(chunk, text) for d in "0123456789")


def _cut_places(chunk: list[_Item], text: str) -> list[tuple[int, Box, Box]]:
    """(position in the text, box, box) of each two digits side by side in one number (``_text_places``)
    whose boxes meet closer than ``CUT_GAP`` digit heights, or overlap: perhaps pieces of one digit."""
    places = _text_places(chunk)
    if len(places) < 2:
        return []
    height = float(statistics.median([box.h for _, box in places]))
    return [(k, a, b) for (k, a), (j, b) in zip(places, places[1:])
            if j == k + 1 and text[k].isdigit() and text[j].isdigit() and b.x - a.x2 < CUT_GAP * height]


def _decode(chunk: list[_Item], text: str, config: ExpressionConfig) -> str | None:
    """The text with one symbol (a digit or a sign, however surely read) read as an alternative its
    classifier gave at least ``decode_level``, that makes the equation right (the likeliest such
    alternative), or None. A digit's ``?`` (no digit) is read only for a piece far shorter than its number
    (``_a_piece``): the text without it."""
    best = None
    at = 0
    for it in chunk:
        for pos, alt, p in it.alts:
            if p < config.decode_level or (best is not None and p <= best[0]):
                continue
            if alt == "?" and not _a_piece(it, pos):
                continue
            k = at + pos
            candidate = text[:k] + ("" if alt == "?" else alt) + text[k + 1:]
            if check(candidate)[2] == "right":
                best = (p, candidate)
        at += len(it.text)
    return None if best is None else best[1]


def _a_piece(it: _Item, pos: int) -> bool:
    """Is the digit at ``pos`` of the number ``it`` a piece of ink far shorter than the number (``SHORT`` of its
    height), no digit of it: a stroke a digit's ink broke off, read as a 1 with a chance of no digit (a 4's left
    arm in "2x12=2 1 4", worksheet 12016)? Its "no digit" reading (``?``) is then the text without it."""
    if not it.operand or it.parts or len(it.pieces) != len(it.text) or len(it.text) < 2:
        return False
    return it.pieces[pos].h < SHORT * it.box.h


#: At most this many unsure symbols' readings are combined to see that each is wrong (3 to 4 readings each).
MAX_COMBINED = 4


def _every_reading_wrong(chunk: list[_Item], text: str, config: ExpressionConfig) -> bool:
    """Is the equation wrong whatever its unsurely read symbols are, among every reading their classifiers
    gave any chance at all (``alternative_level``), and with one of the surely read ones read as one of its
    alternatives too? A sign's ``?`` (a chance of being no sign) is read as the text without it; a digit's
    given at least ``no_digit_level`` (no digit: a piece of anything) or a weak symbol with no other reading
    known leaves it in doubt. A digit too weak to report is judged as any other: by its readings."""
    places = []
    others = []  # the alternatives of the symbols read surely: one of them may be misread too
    at = 0
    for it in chunk:
        # A confusion the classifier gave no chance (a + read for an x, ``CONFUSIONS``) is checked alone
        # (``confused_reading``), not combined with other readings: on the tuning worksheets that combining
        # left 2 wrong answers unjudged.
        given = it.alts
        if it.confidence >= (config.wrong_confidence if it.operand else config.sign_wrong_confidence):
            others += [(at + pos, alt) for pos, alt, _ in given if alt != "?"]
        else:
            readings: dict = {}
            for pos, alt, p in given:
                if alt != "?" or not it.operand or p >= config.no_digit_level:
                    readings.setdefault(at + pos, []).append(alt)
            if not readings or (it.operand and any("?" in alts for alts in readings.values())):
                return False  # a digit that may be no digit may be a piece of anything
            places += readings.items()
        at += len(it.text)
    if not places or len(places) > MAX_COMBINED:
        return False
    for combo in itertools.product(*[[None] + alts for _, alts in places]):
        chars = list(text)
        for (k, _), alt in zip(places, combo):
            if alt is not None:
                chars[k] = "" if alt == "?" else alt  # a sign that may be no sign: without it
        for k, alt in [(None, None)] + others:
            tried = list(chars)
            if k is not None:
                tried[k] = alt
            if check("".join(tried))[2] == "right":
                return False
    return True


def _expression(chunk: list[_Item], config: ExpressionConfig, ask=None) -> Expression | None:
    # Signs hanging at either end that cannot be there (a stray mark beside the writing) are dropped;
    # an "=" at the end stays (an open question), and so does a leading minus or "(".
    dropped = []
    while chunk and not chunk[-1].operand and chunk[-1].text not in "=)":
        dropped.append(chunk[-1])
        chunk = chunk[:-1]
    while chunk and not chunk[0].operand and chunk[0].text not in "-(":
        dropped.append(chunk[0])
        chunk = chunk[1:]
    if not any(it.operand for it in chunk):
        return None
    text = "".join(it.text for it in chunk)
    operands = [it for it in chunk if it.operand]
    if len(operands) < 2 and not (len(chunk) == 1 and chunk[0].parts):
        # A lone number (a dash before it is a hyphen or a bullet, not a sum); a lone stacked fraction is an
        # expression of its own.
        return None
    zero = any(len(it.text) > 1 and it.text[0] == "0" and not it.parts for it in operands)
    if zero and not (text.count("=") == 1 and any(op in text.split("=")[0].lstrip("-") for op in OPERATORS)):
        return None  # "06": a date, a code or a phone number, not arithmetic
    # In an equation with a sum before its "=", a number written with a leading zero is a misread digit
    # ("37+20=07", an MNIST 5 read as a 0 at 0.88, its 5 given 0.06): the structure may decide it
    # (``_decode``); a text that still writes one is never judged (below).
    if not any(not it.operand and it.text in OPERATORS for it in chunk[1:]) and not any(it.parts for it in operands):
        return None  # no operator between operands ("2024 = 12"): a label or a note, not a sum
    if any(len(it.text) > config.max_digits for it in operands if not it.parts):
        return None  # "4181617171-1121816121": a phone number or a row of boxed digits, not a sum
    signs = {it.text for it in chunk if not it.operand}
    if signs <= {"-"} and not any(it.parts for it in operands):
        return None  # "404-1000", "10-12": a hyphen (a range, a date, a code) as often as a sum, and no = to check
    if "=" not in text and any(it.confidence < config.min_confidence for it in operands):
        return None  # a digit too weak to report makes no sum of its own: only an equation may decide it
    if "=" in text and not any(op in text.split("=")[0].lstrip("-") for op in OPERATORS):
        return None  # "12=-53", "9=36": no sum before its "=", a note or a sum whose start is unread
    if not _well_formed(text):
        # A text that does not parse is reported (unsure) only as an equation with a sum before its "=":
        # "2-(1" or "1/1)" is a mark and some digits, not a sum read badly.
        before = text.split("=")[0]
        if "=" not in text or not _well_formed(before) or not any(op in before.lstrip("-") for op in OPERATORS):
            return None
    # A sign's misreadings are all checked (its alternatives: another sign it may be would make the sum
    # right), so a sign may be read less surely than a digit before the sum is left unjudged.
    sure = all(it.confidence >= (config.min_confidence if it.operand else config.sign_min_confidence) for it in chunk)
    value, answer, verdict = check(text)
    if verdict in ("right", "wrong") and all(it.confidence >= (config.right_confidence if it.operand else config.sign_right_confidence)
                                             for it in chunk):
        # The structure decides between readings: an equation that one reading makes right, a reading the
        # classifiers gave a fair chance, is that reading (a written answer that a misread of a wrong one
        # happens to match is far rarer than a right answer with one symbol read unsurely).
        decoded = text if verdict == "right" else _decode(chunk, text, config)
        if decoded is not None:
            text = decoded
            value, answer, verdict = check(text)
            sure = True
    if (not sure and verdict != "wrong") or (zero and _leading_zero(text)):
        verdict = "unsure"
    unsure_wrong = any(it.confidence < (config.wrong_confidence if it.operand else config.sign_wrong_confidence)
                       for it in chunk)
    if verdict == "wrong" and ((unsure_wrong and not _every_reading_wrong(chunk, text, config)) or dropped
                               or any(it.joined for it in chunk) or _right_if_misread(chunk, text, config.pair_level)
                               or _confused(chunk, text, ask) or _touching_pair(chunk, text, config)
                               or _stray_digit(chunk, text) or _cut_pair(chunk, text) or _stroke_doubt(chunk, text)
                               or _unlisted_misread(chunk, text, ask) or _contested_digit(chunk, text, ask)):
        # Never wrong on a doubt: a stray mark left out at an end may have been a digit of the sum or the
        # answer, two numbers joined may have been meant apart, and one misread symbol may be all that
        # makes it wrong. A symbol read unsurely is no doubt when every reading it may have is wrong too.
        verdict = "unsure"
    box = chunk[0].box
    for it in chunk[1:]:
        box = box.union(it.box)
    return Expression(text=text, box=box, value=value, answer=answer, verdict=verdict,
                      confidence=min(it.confidence for it in chunk))

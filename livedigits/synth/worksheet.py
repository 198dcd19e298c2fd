"""Arithmetic worksheets with known answers: rows of sums, written by writers the models never trained on.

``make_worksheet(seed)`` draws a page of sums (``12+7=19``, ``6x4=``, ``(3+5)x2=16``, stacked fractions
``1/2 + 1/3 = 5/6``), each answered right, wrong or left open, on plain, ruled or squared paper, and
returns the image with the truth: each expression's text as the reader must write it and its verdict.

The writers are held out from every model: the digits are written by the pendigits **test** writers
(30-43), the MNIST **test** set or one of the ``VALIDATION_FAMILIES`` fonts; the signs by the same font,
or by pen paths drawn with another seed than training's. So a worksheet measures reading other people's
handwriting, not recalling the training set.

``make_worksheet(seed, hand=PATH)`` writes the whole sheet, digits and signs, in one font file instead:
``train.writers.other_hands()`` lists the handwriting fonts of Debian's packages found on this machine.
No model and no rule of livedigits is trained or tuned on them: they are hands for evaluation only, the
nearest this machine has to worksheets in the handwriting of people nobody here has seen.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from fractions import Fraction

import cv2
import numpy as np

from livedigits.reading.expressions import format_value
from livedigits.types import Box

WRITER_KINDS = ("font", "pendigits", "mnist")
PAPERS = ("plain", "ruled", "grid")
#: Offset of the random streams of worksheets (training's streams use other seeds).
_STREAM = 4242


@dataclass(frozen=True)
class TrueExpression:
    """An expression written on the worksheet: ``text`` as the reader writes it, ``verdict`` it deserves."""

    text: str
    verdict: str
    box: Box


@dataclass(frozen=True)
class Worksheet:
    image: np.ndarray = field(repr=False)
    expressions: tuple[TrueExpression, ...]
    writer: str
    paper: str
    glyphs: tuple[tuple[str, Box], ...] = ()
    """Every character written, with its ink box: a digit, a sign, or ``-`` for a fraction's bar."""


# --------------------------------------------------------------------------- what is written


def _sum(rng: np.random.Generator) -> tuple[list, Fraction]:
    """One sum as a list of tokens (numbers as str, signs, and ("frac", a, b) for a stacked fraction)
    and its value."""
    kind = rng.choice(["add", "sub", "mul", "div", "paren", "frac", "chain"], p=[0.22, 0.18, 0.18, 0.1, 0.12, 0.1, 0.1])
    r = lambda lo, hi: int(rng.integers(lo, hi + 1))  # noqa: E731
    if kind == "add":
        a, b = r(1, 99), r(1, 99)
        return [str(a), "+", str(b)], Fraction(a + b)
    if kind == "sub":
        a = r(5, 99)
        b = r(1, a)
        return [str(a), "-", str(b)], Fraction(a - b)
    if kind == "mul":
        a, b = r(2, 12), r(2, 12)
        return [str(a), "x", str(b)], Fraction(a * b)
    if kind == "div":
        b, q = r(2, 9), r(2, 12)
        return [str(b * q), "/", str(b)], Fraction(q)
    if kind == "paren":
        a, b, c = r(1, 9), r(1, 9), r(2, 5)
        return ["(", str(a), "+", str(b), ")", "x", str(c)], Fraction((a + b) * c)
    if kind == "frac":
        b, d = r(2, 6), r(2, 6)
        a, c = r(1, b - 1), r(1, d - 1)  # proper fractions, as worksheets give them
        return [("frac", str(a), str(b)), "+", ("frac", str(c), str(d))], Fraction(a, b) + Fraction(c, d)
    a, b, c = r(2, 9), r(2, 9), r(1, 9)
    return [str(a), "x", str(b), "+", str(c)], Fraction(a * b + c)


def _answer_tokens(value: Fraction) -> list:
    if value.denominator == 1:
        return [str(value.numerator)]
    return [("frac", str(value.numerator), str(value.denominator))]


def _text(tokens: list) -> str:
    return "".join(f"({t[1]})/({t[2]})" if isinstance(t, tuple) else t for t in tokens)


# --------------------------------------------------------------------------- how it is written


class _Writer:
    """Ink images (uint8, white on black) of digits and signs in one hand."""

    def __init__(self, kind: str, rng: np.random.Generator, hand: str | None = None):
        from livedigits.train.writers import VALIDATION_FAMILIES, _pen_fraction, load_pendigits, PENDIGITS_TEST_WRITERS

        self.kind = kind
        self.rng = rng
        self.pen = _pen_fraction(rng, 0.06, 0.14)
        self.family = str(rng.choice(VALIDATION_FAMILIES))
        if kind == "pendigits":
            pen = load_pendigits()
            writer = int(rng.integers(PENDIGITS_TEST_WRITERS.start, PENDIGITS_TEST_WRITERS.stop))
            self.samples = {d: [pen["strokes"][i] for i in np.flatnonzero((pen["writer"] == writer) & (pen["labels"] == d))]
                            for d in range(10)}
            self.name = f"pendigits writer {writer}"
        elif kind == "mnist":
            from livedigits.synth.page import mnist_test_digits

            x, y = mnist_test_digits()
            self.mnist = (x, y)
            self.name = "MNIST test digits"
        elif hand:
            self.family = hand
            self.name = f"hand {hand.rsplit('/', 1)[-1].rsplit('.', 1)[0]}"
        else:
            self.name = f"font {self.family}"

    def digit(self, d: int) -> np.ndarray:
        from livedigits.train.writers import draw_glyph, draw_strokes

        if self.kind == "pendigits" and self.samples[d]:
            strokes = self.samples[d][int(self.rng.integers(len(self.samples[d])))]
            return draw_strokes(strokes, self.rng, height=96, pen=self.pen, slant=0.05)
        if self.kind == "mnist":
            x, y = self.mnist
            pool = np.flatnonzero(y == d)
            image = x[int(self.rng.choice(pool))]
            return cv2.resize(image, (84, 84), interpolation=cv2.INTER_CUBIC)
        return draw_glyph(str(d), self.family, self.rng, size=96, max_grow=1)

    def sign(self, s: str, odd: bool = False) -> np.ndarray:
        from livedigits.train.signs import pen_strokes
        from livedigits.train.writers import draw_glyph, draw_strokes

        if odd:
            return self.odd_sign(s)
        if s == "=":
            if self.kind == "font":
                return draw_glyph("=", self.family, self.rng, size=96, max_grow=1)
            gap = self.rng.uniform(0.35, 0.6)
            bars = [np.array([(0, 0), (1, self.rng.uniform(-0.05, 0.05))]), np.array([(0, gap), (1, gap + self.rng.uniform(-0.05, 0.05))])]
            return draw_strokes(bars, self.rng, height=40, pen=self.pen * 2.2, slant=0.0, aspect=1.0)
        if self.kind == "font":
            return draw_glyph(s, self.family, self.rng, size=96, max_grow=1)
        height = {"+": 60, "x": 50, "-": 12, "/": 96, "(": 110, ")": 110}[s]
        return draw_strokes(pen_strokes(s, self.rng), self.rng, height=height, pen=self.pen * 96 / height, slant=0.0)


    def odd_sign(self, s: str) -> np.ndarray:
        """A sign in one of the shapes of ``ODD_SIGNS``, drawn by pen paths in every writer kind: an ``=`` whose
        bars run together (joined at one end, by a diagonal as in one stroke, or touching along their length),
        a ``/`` written nearly upright, an ``x`` (its height set by ``ODD_SIGN_HEIGHT``)."""
        from livedigits.train.signs import _jittered, pen_strokes
        from livedigits.train.writers import draw_strokes

        u = self.rng.uniform
        if s == "=":
            how = str(self.rng.choice(["end", "diagonal", "touching"]))
            # Drawn 80 px a unit wide: bars touching along their length, written with a broad pen, stand its width
            # and a little more apart, a thin seam between them (touching where the pen wobbles).
            pen = self.pen * (3.5 if how == "touching" else 2.2)
            gap = u(0.3, 0.45) if how != "touching" else pen * 40 / 80 * u(1.25, 1.5)
            tilt = u(-0.04, 0.04) if how != "touching" else 0.0
            top, low = [(0.0, 0.0), (1.0, tilt)], [(0.0, gap), (1.0, gap + tilt)]
            if how == "end":  # one stroke round an end (the left or the right): the bars joined there
                strokes = [top[::-1] + low if self.rng.random() < 0.5 else top + low[::-1]]
            elif how == "diagonal":  # one stroke, as a Z: the top bar, back down to the left, the bottom bar
                strokes = [top + low]
            else:
                strokes = [top, low]
            return draw_strokes([_jittered(st, self.rng, 0.01) for st in strokes], self.rng, height=40, pen=pen,
                                slant=0.0, aspect=1.0)
        if s == "/":
            lean = u(0.0, 0.1)
            return draw_strokes([_jittered([(0.0, 1.0), (lean, 0.0)], self.rng, 0.006)], self.rng, height=96,
                                pen=self.pen, slant=0.0, aspect=1.0)
        height = 50
        return draw_strokes(pen_strokes(s, self.rng), self.rng, height=height, pen=self.pen * 96 / height * 0.5, slant=0.0)


#: The odd shapes of signs ``make_worksheet(odd_signs=...)`` can write (each seen in held-out hands): the
#: ``=`` whose bars run together, the ``/`` written upright as a bar, the ``x`` the size of a dot.
ODD_SIGNS = ("=", "/", "x")
#: The height of an odd sign, a share of the digit height (an odd ``=`` keeps the width of every ``=``).
ODD_SIGN_HEIGHT = {"/": 1.1, "x": 0.22}


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    pts = cv2.findNonZero((ink > 40).astype(np.uint8))
    return None if pts is None else cv2.boundingRect(pts)


#: Heights of signs as shares of the digit height (each drawn within 10% of it). Parentheses and slashes
#: stand taller than the digits, as in every photo of written arithmetic we have looked at (slashes of 1.3
#: to 2 digit heights); here they are kept short, barely taller than the digits.
SIGN_HEIGHT = {"+": 0.55, "x": 0.45, "/": 1.25, "(": 1.2, ")": 1.2, "=": 0.32}
SIGN_WIDTH = {"-": 0.55, "=": 0.55}


class _Canvas:
    def __init__(self, rng: np.random.Generator, size: tuple[int, int], paper: str, pitch: float):
        w, h = size
        self.glyphs: list[tuple[str, Box]] = []
        self.alpha = np.zeros((h, w), np.float32)
        self.rng = rng
        self.size = size
        self.paper = paper
        self.pitch = pitch

    def put(self, ink: np.ndarray, x: float, y: float, height: float | None = None, width: float | None = None) -> Box | None:
        """Place ``ink`` with its ink box scaled to ``height`` (or ``width``) px, top-left at (x, y)."""
        box = _ink_box(ink)
        if box is None:
            return None
        bx, by, bw, bh = box
        crop = ink[by: by + bh, bx: bx + bw].astype(np.float32) / 255.0
        scale = (width / bw) if width is not None else (height / bh)
        nw, nh = max(1, int(round(bw * scale))), max(1, int(round(bh * scale)))
        if width is not None and height is not None:
            nh = max(1, int(round(height)))
        small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA)
        x0, y0 = int(round(x)), int(round(y))
        H, W = self.alpha.shape
        if x0 < 0 or y0 < 0 or x0 + nw > W or y0 + nh > H:
            return None
        region = self.alpha[y0: y0 + nh, x0: x0 + nw]
        np.maximum(region, small, out=region)
        return Box(x0, y0, nw, nh)

    def touching(self, ink: np.ndarray, x: float, y: float, height: float, left: Box) -> float:
        """Where ``ink``, placed as :meth:`put` places it (``height`` px tall, top at ``y``), first meets the ink
        already written in the box ``left`` as it slides left from ``x``: the x a pixel into that contact, or
        ``x`` where it never meets it before its own left edge reaches ``left``'s middle."""
        box = _ink_box(ink)
        if box is None:
            return x
        bx, by, bw, bh = box
        scale = height / bh
        nw, nh = max(1, int(round(bw * scale))), max(1, int(round(bh * scale)))
        small = cv2.resize(ink[by: by + bh, bx: bx + bw].astype(np.float32) / 255.0, (nw, nh), interpolation=cv2.INTER_AREA) > 0.5
        y0 = int(round(y))
        H, W = self.alpha.shape
        if y0 < 0 or y0 + nh > H:
            return x
        written = self.alpha > 0.5
        for x0 in range(int(round(x)), left.x + left.w // 2 - 1, -1):
            if x0 < 0 or x0 + nw > W:
                break
            if (written[y0: y0 + nh, x0: x0 + nw] & small).any():
                return float(x0 - 1)
        return x

    def note(self, char: str, box: Box) -> Box:
        self.glyphs.append((char, box))
        return box

    def render(self) -> np.ndarray:
        rng = self.rng
        w, h = self.size
        base = np.array([rng.uniform(0.86, 0.97)] * 3, np.float32) + rng.normal(0, 0.015, 3).astype(np.float32)
        paper = np.ones((h, w, 3), np.float32) * base
        light = cv2.resize(rng.normal(0, 0.03, (6, 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        paper *= (1.0 + light)[..., None]
        tint = np.array([0.35, 0.85, 1.0], np.float32)  # blue-ish lines darken red and green more
        if self.paper in ("ruled", "grid"):
            lines = np.zeros((h, w), np.float32)
            step = self.pitch
            offset = rng.uniform(0, step)
            for yy in np.arange(offset, h, step):
                cv2.line(lines, (0, int(yy)), (w, int(yy)), 1.0, 1, cv2.LINE_AA)
            if self.paper == "grid":
                for xx in np.arange(rng.uniform(0, step), w, step):
                    cv2.line(lines, (int(xx), 0), (int(xx), h), 1.0, 1, cv2.LINE_AA)
            paper *= 1.0 - (lines * rng.uniform(0.12, 0.25))[..., None] * tint
        ink = np.array(rng.choice([(0.13, 0.12, 0.12), (0.58, 0.27, 0.13), (0.45, 0.18, 0.10)]), np.float32)
        a = cv2.GaussianBlur(self.alpha, (0, 0), 0.6)[..., None] * rng.uniform(0.85, 0.97)
        image = paper * (1 - a) + ink * a
        image += rng.normal(0, 0.01, image.shape).astype(np.float32)
        return np.clip(image * 255, 0, 255).astype(np.uint8)


def make_worksheet(seed: int, size: tuple[int, int] = (1280, 720), writer: str | None = None,
                   paper: str | None = None, rows: int = 5, columns: int = 2, touching_minus: float = 0.0,
                   hand: str | None = None, odd_signs: tuple[str, ...] = ()) -> Worksheet:
    """A worksheet of ``rows`` x ``columns`` sums (fewer where they do not fit), right, wrong or open, in
    ``hand`` (a font file, every digit and sign) where given. With
    ``touching_minus``, each minus of a sum is written with this chance run into the digit after it, their
    ink touching (a hand's "625-3000"); at 0 (the default) no draw is made and the sheets are as before. With
    ``odd_signs`` (some of ``ODD_SIGNS``), each of those signs is written in its odd shape (``_Writer.odd_sign``);
    empty (the default), the sheets are as before."""
    rng = np.random.default_rng((_STREAM, seed))
    writer = writer or str(rng.choice(WRITER_KINDS))
    if hand:
        writer = "font"
    paper = paper or str(rng.choice(PAPERS))
    hand = _Writer(writer, rng, hand)
    w, h = size
    digit_h = h / (rows * 2.4)
    canvas = _Canvas(rng, size, paper, pitch=digit_h * rng.uniform(0.9, 1.3))
    truths = []
    col_w = w / columns
    for r in range(rows):
        for c in range(columns):
            tokens, value = _sum(rng)
            verdict = str(rng.choice(["right", "wrong", "open"], p=[0.45, 0.3, 0.25]))
            if verdict == "right":
                written = _answer_tokens(value)
            elif verdict == "wrong":
                off = value + (int(rng.choice([-3, -2, -1, 1, 2, 10])) if value.denominator == 1 else Fraction(1, value.denominator))
                if off < 0:
                    off = value + 1
                written = _answer_tokens(off)
            else:
                written = []
            all_tokens = tokens + ["="] + written
            height = digit_h * rng.uniform(0.85, 1.1)
            x = c * col_w + rng.uniform(0.04, 0.12) * col_w
            baseline = (r + 0.5) * h / rows + height * 0.5 + rng.uniform(-0.1, 0.1) * height
            boxes = _write(canvas, hand, all_tokens, x, baseline, height, rng, limit=(c + 1) * col_w - 0.02 * col_w,
                           touching_minus=touching_minus, odd_signs=odd_signs)
            if boxes is None:
                continue
            box = boxes[0]
            for b in boxes[1:]:
                box = box.union(b)
            truths.append(TrueExpression(_text(all_tokens), verdict, box))
    return Worksheet(canvas.render(), tuple(truths), hand.name, paper, tuple(canvas.glyphs))


def _write(canvas: _Canvas, hand: _Writer, tokens: list, x: float, baseline: float, height: float,
           rng: np.random.Generator, limit: float, touching_minus: float = 0.0,
           odd_signs: tuple[str, ...] = ()) -> list[Box] | None:
    """Write tokens left to right from ``x`` on a line whose digits stand on ``baseline``; their boxes, or
    None when the line does not fit before ``limit`` (nothing is kept of it then). A minus is run into the
    digit after it with chance ``touching_minus`` (that digit slid left until its ink meets the minus's)."""
    saved = canvas.alpha.copy()
    noted = len(canvas.glyphs)
    boxes = []
    mid = baseline - height / 2
    touch = None  # the box of a minus the next digit is to touch
    for token in tokens:
        if isinstance(token, tuple):  # a stacked fraction: numerator, bar, denominator
            _, top, bottom = token
            small = height * 0.72
            widths = []
            for part, y0 in ((top, mid - small - height * 0.12), (bottom, mid + height * 0.12)):
                px = x + height * 0.15
                for ch in part:
                    b = canvas.put(hand.digit(int(ch)), px, y0, small)
                    if b is None:
                        canvas.alpha[:] = saved
                        del canvas.glyphs[noted:]
                        return None
                    boxes.append(canvas.note(ch, b))
                    px = b.x2 + small * rng.uniform(0.08, 0.2)
                widths.append(px - x)
            bar_w = max(widths) + height * 0.1
            b = canvas.put(hand.sign("-"), x, mid - max(2, height * 0.05), height=max(3, height * 0.07), width=bar_w)
            if b is None:
                canvas.alpha[:] = saved
                del canvas.glyphs[noted:]
                return None
            boxes.append(canvas.note("-", b))
            x = b.x2 + height * rng.uniform(0.3, 0.5)
        elif token.isdigit():
            for k, ch in enumerate(token):
                jitter = rng.normal(0, 0.03) * height
                ink, y, size = hand.digit(int(ch)), baseline - height + jitter, height * rng.uniform(0.95, 1.05)
                if touch is not None:
                    x, touch = canvas.touching(ink, x, y, size, touch), None
                b = canvas.put(ink, x, y, size)
                if b is None:
                    canvas.alpha[:] = saved
                    del canvas.glyphs[noted:]
                    return None
                boxes.append(canvas.note(ch, b))
                x = b.x2 + height * rng.uniform(0.1, 0.22)
            x += height * rng.uniform(0.2, 0.35)
        else:
            odd = token in odd_signs
            if token in SIGN_WIDTH:
                sw = height * SIGN_WIDTH[token] * rng.uniform(0.85, 1.15)
                sh = None
            else:
                share = ODD_SIGN_HEIGHT[token] if odd and token in ODD_SIGN_HEIGHT else SIGN_HEIGHT[token]
                sw, sh = None, height * share * rng.uniform(0.9, 1.1)
            ink = hand.sign(token, odd)
            box = _ink_box(ink)
            if box is None:
                continue
            if sh is None:
                sh = sw * box[3] / box[2]
                if token == "-":
                    sh = max(2.5, min(sh, height * 0.1))
            top = mid - sh / 2
            b = canvas.put(ink, x, top, height=sh, width=sw)
            if b is None:
                canvas.alpha[:] = saved
                del canvas.glyphs[noted:]
                return None
            boxes.append(canvas.note(token, b))
            x = b.x2 + height * rng.uniform(0.25, 0.45)
            if token == "-" and touching_minus and rng.random() < touching_minus:
                touch = b
        if x > limit:
            canvas.alpha[:] = saved
            del canvas.glyphs[noted:]
            return None
    return boxes


def truth_record(sheet: Worksheet) -> list[dict]:
    """The worksheet's truth in the JSON form of the ``expressions`` field (without values)."""
    return [{"text": e.text, "verdict": e.verdict, "box": e.box.as_list()} for e in sheet.expressions]


_FRACTION = re.compile(r"\((\d+)\)/\((\d+)\)")
#: How ``miss_cause`` names a sign; ``_`` stands for a stacked fraction's bar.
SIGN_NAMES = {"+": "+", "-": "-", "x": "x", "/": "/", "=": "=", "(": "(", ")": ")", "_": "fraction bar"}


def miss_cause(truth_text: str, truth_verdict: str, read_text: str | None, read_verdict: str | None) -> tuple[str, str]:
    """Why a true expression was not read with its verdict, from the texts and verdicts alone: ``(cause,
    detail)``. Causes: ``not found``; ``verdict`` (the text read exactly, the verdict not: detail
    ``wrong->unsure`` ...); ``split`` (only a part of it read as an expression) and ``joined`` (read with
    more); ``digit misread`` (detail ``4->5``: meant, read), ``digit lost``, ``digit added``, ``sign lost``,
    ``sign added``, ``sign misread`` (``x->+``), ``sign read as digit`` (``/->1``), ``digit read as sign``;
    ``several`` when more than one of these. A stacked fraction ``(a)/(b)`` is compared as ``a_b``, its bar
    one sign (``fraction bar``)."""
    if read_text is None:
        return "not found", ""
    if read_text == truth_text:
        return "verdict", f"{truth_verdict}->{read_verdict}"
    truth, read = _FRACTION.sub(r"\1_\2", truth_text), _FRACTION.sub(r"\1_\2", read_text)
    if _part_at_a_sign(read, truth):
        return "split", f"{read_text} of {truth_text}"
    if _part_at_a_sign(truth, read):
        return "joined", f"{truth_text} in {read_text}"
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, truth, read, autojunk=False).get_opcodes():
        meant, seen = truth[i1:i2], read[j1:j2]
        if tag == "equal":
            continue
        if tag == "replace" and len(meant) == len(seen) and (meant + seen).isdigit():
            edits += [("digit misread", f"{m}->{r}") for m, r in zip(meant, seen) if m != r]
            continue
        for chars, kind in ((meant, "lost"), (seen, "added")) if tag != "replace" or len(meant) != len(seen) else ():
            for ch in chars:
                edits.append((f"digit {kind}", ch) if ch.isdigit() else (f"sign {kind}", SIGN_NAMES.get(ch, ch)))
        if tag == "replace" and len(meant) == len(seen):
            for m, r in zip(meant, seen):
                if m.isdigit() and r.isdigit():
                    edits.append(("digit misread", f"{m}->{r}"))
                elif m.isdigit():
                    edits.append(("digit read as sign", f"{m}->{SIGN_NAMES.get(r, r)}"))
                elif r.isdigit():
                    edits.append(("sign read as digit", f"{SIGN_NAMES.get(m, m)}->{r}"))
                elif m != r:
                    edits.append(("sign misread", f"{SIGN_NAMES.get(m, m)}->{SIGN_NAMES.get(r, r)}"))
    if not edits:
        return "several", f"{truth_text} read {read_text}"
    kinds = {k for k, _ in edits}
    if kinds - {"digit lost"} == {"sign lost"} and all(d == "fraction bar" for k, d in edits if k == "sign lost"):
        return "fraction bar lost", f"{truth_text} read {read_text}"
    if len(edits) == 1 or len(kinds) == 1:
        return edits[0][0], " ".join(d for _, d in edits)
    return "several", " ".join(f"{k}:{d}" for k, d in edits)



def _part_at_a_sign(part: str, whole: str) -> bool:
    """``part`` is ``whole`` less operands cut off at a sign: what is left out holds a digit and meets what
    is kept at a sign (``12+7=`` of ``12+7=19``; not ``9+30=99`` of ``59+30=99``, a digit lost)."""
    at = whole.find(part)
    if at < 0 or not part:
        return False
    before, after = whole[:at], whole[at + len(part):]
    if not any(c.isdigit() for c in before + after):
        return False
    sign = lambda c: not c.isdigit()  # noqa: E731
    return (not before or sign(before[-1]) or sign(part[0])) and (not after or sign(after[0]) or sign(part[-1]))

__all__ = ["TrueExpression", "Worksheet", "make_worksheet", "miss_cause", "truth_record", "format_value", "score_sheet"]


def score_sheet(sheet: Worksheet, expressions) -> dict:
    """Compare what was read (``Expression`` objects or their records) with the worksheet's truth.

    Each true expression is matched with the read one whose box overlaps it most. Counts: ``truth``,
    ``read_exactly`` (same text), ``verdict_right`` (same text and same verdict), ``right_marked_wrong``
    (a right answer given ``wrong``: what a checker must never do), ``extra`` (read expressions matching
    no true one)."""
    read = [e if isinstance(e, dict) else e.to_record() for e in expressions]
    used = set()
    counts = {"truth": len(sheet.expressions), "read_exactly": 0, "verdict_right": 0, "right_marked_wrong": 0,
              "unsure": 0, "extra": 0}
    misses = []
    for truth in sheet.expressions:
        best, best_iou = None, 0.0
        for k, rec in enumerate(read):
            iou = truth.box.iou(Box(*rec["box"]))
            if k not in used and iou > best_iou:
                best, best_iou = k, iou
        if best is None or best_iou < 0.2:
            misses.append((truth.text, truth.verdict, None, None))
            continue
        used.add(best)
        rec = read[best]
        exact = rec["text"] == truth.text
        counts["read_exactly"] += exact
        counts["verdict_right"] += exact and rec["verdict"] == truth.verdict
        counts["right_marked_wrong"] += truth.verdict == "right" and rec["verdict"] == "wrong"
        counts["unsure"] += rec["verdict"] == "unsure"
        if not (exact and rec["verdict"] == truth.verdict):
            misses.append((truth.text, truth.verdict, rec["text"], rec["verdict"]))
    counts["extra"] = len(read) - len(used)
    counts["misses"] = misses
    return counts

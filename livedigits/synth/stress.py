"""A seeded, randomised generator of the pages real photos show and the reader was never tuned on.

Issue 19 lists how unseen real paper fails: a page on a dark or patterned table, a hand shadow, a
page curling away from the light, printed tables and forms with handwriting in their cells, print
beside the writing, ruled, squared and dotted paper, coloured inks and papers, dense pages, and a
poor camera. Each of these is a named *phenomenon* (``PHENOMENA``) that a scene shows or not;
``stress_scene(seed, on=..., off=...)`` forces any of them on or off and draws the rest at random
(``PROBABILITY`` each), so one phenomenon can be measured alone (``only=``) or in a random mix.

A scene is drawn in three stages, each with its own random stream of the seed:

* **Page** (page pixels): paper of a colour, printed ruling, a printed table or boxed form, printed
  words and printed digits, and handwriting laid out in rows, cells or boxes. Handwriting comes from
  writers the model never trained on: one pendigits writer of its test file (ids 30-43) or one
  handwriting font kept out of training (``train.writers.VALIDATION_FAMILIES``), drawn with a round
  pen (``scenes.draw_strokes``) or the font's own strokes, one writer per page.
* **World**: the page lying on a table (plain, wood, cloth, dark, patterned), perhaps curled at
  one edge (the curled part foreshortened and in shade, the table showing beyond it).
* **Camera** (frame pixels): a perspective view from ``camera.make_camera_path``, light (a gradient
  and vignette, a soft hand shadow, one side in shade), defocus or motion blur, sensor noise, JPEG.

The truth is ``scenes``' layout (``livedigits.reading.score.score`` reads it through
``scenes.truth_document``) plus ``phenomena``: the handwritten numbers with their digit boxes, and
every non-digit thing as a mark: handwritten words (``kind: "letter"``), printed words
(``"printed_text"``) and printed digits (``"printed_digit"``, with ``text``). Printed digits are not
in the numbers: the reader is asked for handwriting, and a printed digit it reads is counted
apart so that precision can be judged with or without them. Boxes are the tight
ink box on the page, mapped into the frame through the curl and the camera, as an axis-aligned box;
a digit not wholly in view is left out, and so is its number.

``livedigits.bench.stress`` reads these scenes with the real pipeline and totals them per phenomenon
(``livedigits stress``). ``realistic_clip`` films one page with a hand-held camera: the bundled
``samples/realistic.mp4``.

Example::

    from livedigits.synth.stress import stress_scene
    image, truth = stress_scene(7, only=("shadow",))
    truth["phenomena"]                      # ['shadow']
    [n["text"] for n in truth["numbers"]]   # the handwritten numbers, in page order
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np

from livedigits.synth import scenes
from livedigits.synth.camera import CameraOptions, make_camera_path
from livedigits.synth.scenes import Glyph, SceneOptions, _Placed

# --------------------------------------------------------------------------- phenomena

#: Every phenomenon, with how it is drawn (the docs table is built from these words).
PHENOMENA: dict[str, str] = {
    "wood": "the page (55-88% of the frame, A4 upright or across or the frame's shape, turned up to 12 degrees, as on "
            "every table) on a wood table: warm grain along the planks, seams between them",
    "cloth": "the page on cloth: a fine weave (3-6 px), soft folds, a plain or tartan colour",
    "dark_table": "the page on a dark table (5-20% brightness), with a faint texture",
    "patterned_table": "the page on a patterned table: checks, stripes or dots at full contrast",
    "shadow": "a soft hand shadow (palm and fingers reaching in from one edge, 35-65% darker, edge blurred 1.5-5% "
              "of the frame)",
    "curl": "the page curls away at one edge: the last 15-35% foreshortened, bowed and up to 55% darker, the "
            "table showing beyond it",
    "shade": "one side of the frame in shade: 25-50% of it 35-65% darker, a soft edge of 5-25% of the frame",
    "table": "a printed table (2-5 columns, 3-9 rows, 1-3 px black rules, printed headers, perhaps printed row "
             "numbers) with numbers written in its cells, 30% of them touching or crossing a rule",
    "boxes": "forms of printed boxes after printed labels: digit fields (combs of 4-8 boxes, one digit per box, "
             "each comb one number) and, in 45% of the fields, a name in block capitals (one capital per box of a "
             "comb, or spaced along one long box); 25% of the glyphs in a comb touch their box; 40% of the combs end in "
             "1-3 empty boxes and 35% of the fields are followed by empty check boxes with printed words",
    "printed": "printed labels and headings beside the handwriting: words and printed digits (Hershey fonts)",
    "words": "handwritten words (a validation handwriting font) beside the numbers",
    "ruled": "ruled paper: lines 1.6-2.4 digit heights apart under the writing, blue or grey, often a red margin",
    "grid": "squared paper: lines 0.5-1 digit height apart running through the digits",
    "dotted": "dotted paper: a dot grid 0.5-1 digit height apart, dots 1-2.5 px",
    "ink_colour": "coloured ink: red, green, purple or pencil",
    "paper_colour": "coloured paper: yellow, blue, pink, green, recycled grey or kraft",
    "dense": "a dense page: digits 12-20 px, rows 1.4-2 digit heights apart, 4-11 numbers a row with uneven gaps "
             "(0.6-2.2 digit heights), filling the page (about 250-460 digits)",
    "spacing": "a writer's own spacing: the digits of a number 0.3-0.8 digit heights apart (each gap within 25% "
               "of the writer's), numbers 2.2-4 times that apart, unevenly, 3-6 of them a row",
    "column": "a list written one entry under another: a 2-3 digit number and an amount (mostly 1 and zeros, "
              "\"1000\", \"1500\") a line, 6-14 lines 1.15-1.5 digit heights apart, each column starting at the "
              "same place (the stems of the 1s stand one under another)",
    "touching": "the digits of a number written touching or overlapping: gaps of -0.15 to 0.02 digit heights "
                "(\"1000\" in one stroke of loops; a quarter of the numbers such amounts, and 60% of the zeros "
                "written open at the top, as fast zeros are)",
    "blur": "defocus (sigma 1.3-2.6 px) or motion blur (5-12 px streak)",
    "noise": "sensor noise 7-16 grey levels, with colour noise",
    "jpeg": "JPEG quality 20-50",
    "perspective": "the page tilted 18-32 degrees away from the camera, seen from closer",
    "ledger": "a ruled notebook page with its margin line and a column of entries in blue ballpoint: a 2-4 digit "
              "number (now and then a letter after it), a dash and an amount (mostly \"1000\", its zeros run into each "
              "other on half the pages, and there 60% of them open at the top), 6-16 lines "
              "1.3-1.6 digit heights apart, every entry starting where the line above's did and written on its "
              "ruled line (the digits' feet on it or across it): the first digits and the amounts' 1s stand "
              "in columns, crossing the rulings",
    "thin": "a thin pen written small: strokes 0.55-1.1 px wide in the frame (a fine-liner or a hard pencil seen "
            "from afar; a font's strokes thinned to it), digits 13-22 px tall (10-14 px on a dense page)",
}
#: Phenomena shown only when asked for (``on``, ``only``): never drawn at random, so that adding one left every
#: seed of every row, ``mixed`` included, drawing the page it drew before.
ONLY_WHEN_ASKED = ("thin",)
#: At most one of each group is shown (a page lies on one table, is one kind of paper or form).
#: (A ledger is ruled paper with its own layout: one kind of paper, and its list is the page's writing.)
EXCLUSIVE = (("wood", "cloth", "dark_table", "patterned_table"), ("ruled", "grid", "dotted", "ledger"), ("table", "boxes"),
             ("ledger", "column", "dense"))
#: A ``thin`` page: the pen's width in frame px (at the frame's 720 rows; a pen path's and a font's alike) ...
THIN_PEN = (0.55, 1.1)
#: ... and the digits' height in frame px, on a page of any layout but dense ...
THIN_HEIGHT = (13.0, 22.0)
#: ... and on a dense one.
THIN_DENSE = (10.0, 14.0)
#: Chance of each phenomenon not forced on or off.
PROBABILITY = 0.25
#: Frame size of a stress scene: small, so hundreds of scenes take minutes.
STRESS_SIZE = (960, 720)
SURFACES = EXCLUSIVE[0]

# Paper and ink colours (BGR reflectance).
PAPER_WHITE = (0.93, 0.95, 0.96)
PAPER_COLOURS = {
    "yellow": (0.60, 0.92, 0.97), "blue": (0.97, 0.88, 0.78), "pink": (0.86, 0.80, 0.98),
    "green": (0.78, 0.95, 0.82), "recycled": (0.74, 0.78, 0.79), "kraft": (0.50, 0.66, 0.78),
}
PLAIN_INKS = ("ballpoint_blue", "ballpoint_black", "fineliner")
COLOUR_INKS = ("red", "green", "purple", "pencil")
PRINT_INK = np.array([0.10, 0.10, 0.11], np.float32)
HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX)
PRINTED_WORDS = ("Name", "Total", "Score", "Class", "Date", "Item", "Marks", "Section", "Question", "Result",
                 "Amount", "Number", "Remarks", "Student", "Week", "Points", "Count", "Room", "Sheet", "Answer")
#: Share of the fields of a form (``boxes``) that hold a name in block capitals rather than digits.
LETTER_FIELDS = 0.45
#: Names and places a form's letter fields hold, in block capitals: many of their letters are shaped like
#: digits one at a time (O, I, L, S, Z, B, G, T, A as a 4).
#: Share of a form's combs that end in empty boxes (1-3 left blank: a phone number shorter than its comb), and
#: of its fields followed by check boxes ("[ ] Yes [ ] No"), left empty: the scanned forms of issue 19 hold
#: both, and an empty printed box was read as a 0.
EMPTY_CELLS = 0.4
CHECK_BOXES = 0.35
CHECK_WORDS = ("Yes", "No", "Male", "Female", "Other", "Paid", "Late", "New", "Old")
CAPITAL_WORDS = ("ANNA", "OSLO", "LIMA", "SILVA", "BOLTON", "ZOE", "IZMIR", "SOFIA", "LAGOS", "TOKYO", "DAVIS",
                 "GOMEZ", "ELISA", "BASEL", "TOLEDO", "LOIS", "OTTO", "ISLA", "BOSTON", "SZABO", "LEIGH", "GABOR")
# Words without descenders: their ink bottom is their baseline.
HANDWRITTEN_WORDS = ("total", "sum", "done", "and", "Mon", "Fri", "the", "ok", "Anna", "Tim", "last", "no",
                     "Ben", "fine", "cold", "hot", "room", "check", "mixed", "seen")


def check_phenomena(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as a tuple, ValueError naming any unknown one and the valid ones."""
    names = tuple(names)
    unknown = [n for n in names if n not in PHENOMENA]
    if unknown:
        raise ValueError(f"unknown phenomenon {', '.join(map(repr, unknown))}; choose from {', '.join(PHENOMENA)}")
    return names


def choose_phenomena(rng: np.random.Generator, on: Iterable[str] = (), off: Iterable[str] = (),
                     probability: float = PROBABILITY) -> tuple[str, ...]:
    """Which phenomena a scene shows: ``on`` always, ``off`` never, each other one with ``probability``;
    then at most one of each ``EXCLUSIVE`` group (a forced one first)."""
    on, off = set(check_phenomena(on)), set(check_phenomena(off))
    if on & off:
        raise ValueError(f"phenomena both forced on and off: {sorted(on & off)}")
    drawn = [name for name in PHENOMENA if name not in ONLY_WHEN_ASKED]
    draws = rng.random(len(drawn))  # one draw per phenomenon whatever is forced: stable streams
    chosen = {name for name, p in zip(drawn, draws) if name in on or (name not in off and p < probability)}
    chosen |= {name for name in ONLY_WHEN_ASKED if name in on}
    for group in EXCLUSIVE:
        present = [n for n in group if n in chosen]
        if len(present) > 1:
            forced = [n for n in present if n in on]
            keep = forced[int(rng.integers(len(forced)))] if forced else present[int(rng.integers(len(present)))]
            chosen -= set(present) - {keep}
    return tuple(n for n in PHENOMENA if n in chosen)


# --------------------------------------------------------------------------- writers


@dataclass(frozen=True)
class Writer:
    """One hand: ``digit(label, height, pen, rng) -> Glyph`` and ``word(text, height, rng) -> Glyph``."""

    name: str
    digit: Callable[[int, float, float, np.random.Generator], Glyph] = field(repr=False)
    word: Callable[[str, float, np.random.Generator], Glyph] = field(repr=False)
    fine: Callable[[int, float, float, np.random.Generator], Glyph] | None = field(default=None, repr=False)
    """The digit written with exactly that pen (a font's strokes thinned to it); None: ``digit`` is (a pen path)."""


@lru_cache(maxsize=16)
def _pendigits_writer_digits(writer: int) -> scenes.StrokeDigits:
    from livedigits.train.writers import DATA_DIR

    return scenes.load_pendigits(DATA_DIR / "pendigits_strokes.npz", writers=(writer,))


@lru_cache(maxsize=8)
def _font_reference_height(family: str) -> float:
    """Ink height of the family's "0" at the 96 px ``writers.draw_glyph`` size: letters keep their size to it."""
    from livedigits.train.writers import _font

    x0, y0, x1, y1 = _font(family, 96).getbbox("0")
    return float(max(1, y1 - y0))


def _thinned(ink: np.ndarray, width: float) -> np.ndarray:
    """A font's uint8 ink with its strokes eroded to about ``width`` px (at its own size); thinner ones kept. The
    stroke's width is twice its area over its outline's length; each side loses half the excess."""
    contours, _ = cv2.findContours((ink > 127).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    if outline <= 0:
        return ink
    excess = int(round((2.0 * float(np.count_nonzero(ink > 127)) / outline - width) / 2))
    if excess < 1:
        return ink
    thinned = cv2.erode(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * excess + 1, 2 * excess + 1)))
    return thinned if np.count_nonzero(thinned > 127) else ink


def _font_glyph(text: str, family: str, height: float, rng: np.random.Generator, fit: bool,
                pen: float | None = None) -> Glyph:
    """``text`` in a handwriting font as a glyph: each character bent and slanted by ``writers.draw_glyph``,
    laid side by side on their bottoms, scaled so a digit is ``height`` px tall (``fit``: the ink is); with
    ``pen``, its strokes thinned to about that many px at that size (``_thinned``)."""
    from livedigits.train.writers import draw_glyph

    pieces = []
    for char in text:
        ink = draw_glyph(char, family, rng, size=96, max_grow=1)
        if pen is not None:
            tall = np.flatnonzero((ink > 25).any(axis=1))
            if len(tall):
                ink = _thinned(ink, pen * (tall[-1] - tall[0] + 1) / max(1.0, height))
        ys, xs = np.nonzero(ink > 25)
        if len(xs) == 0:
            continue
        pieces.append(ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1])
    if not pieces:
        raise ValueError(f"the font {family} draws no ink for {text!r}")
    tall = max(p.shape[0] for p in pieces)
    gap = max(1, int(0.08 * tall))
    canvas = np.zeros((tall, sum(p.shape[1] for p in pieces) + gap * (len(pieces) - 1)), np.uint8)
    x = 0
    for p in pieces:
        canvas[tall - p.shape[0]:, x: x + p.shape[1]] = p
        x += p.shape[1] + gap
    scale = height / (tall if fit else _font_reference_height(family))
    w, h = max(1, round(canvas.shape[1] * scale)), max(1, round(canvas.shape[0] * scale))
    alpha = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    alpha = np.pad(alpha.astype(np.float32) / 255.0, 2)
    return Glyph(alpha, scenes._ink_box(alpha))


def pick_writer(rng: np.random.Generator, hands: tuple[str, ...] = ()) -> Writer:
    """A hand the model never trained on: a pendigits test-file writer (with a validation font for words), or
    a validation handwriting font; with ``hands`` (font files, ``writers.other_hands``), one of them for the
    digits and the words."""
    from livedigits.train.writers import PENDIGITS_TEST_WRITERS, VALIDATION_FAMILIES

    family = VALIDATION_FAMILIES[int(rng.integers(len(VALIDATION_FAMILIES)))]
    if hands:
        family = hands[int(rng.integers(len(hands)))]

    def word(text: str, height: float, r: np.random.Generator) -> Glyph:
        return _font_glyph(text, family, height, r, fit=False)

    if not hands and rng.random() < 0.6:
        writer_id = int(rng.choice(np.asarray(PENDIGITS_TEST_WRITERS)))
        data = _pendigits_writer_digits(writer_id)
        labels = np.asarray(data.labels)

        def digit(label: int, height: float, pen: float, r: np.random.Generator) -> Glyph:
            pool = np.flatnonzero(labels == label)
            strokes = data.strokes[int(r.choice(pool))]
            return scenes.draw_strokes(strokes, height, pen, float(r.uniform(-8, 8)))

        return Writer(f"pendigits:{writer_id}", digit, word)

    def font_digit(label: int, height: float, pen: float, r: np.random.Generator) -> Glyph:
        return _font_glyph(str(label), family, height, r, fit=True)

    def fine_digit(label: int, height: float, pen: float, r: np.random.Generator) -> Glyph:
        return _font_glyph(str(label), family, height, r, fit=True, pen=pen)

    return Writer(f"font:{family.rsplit('/', 1)[-1]}", font_digit, word, fine_digit)


# --------------------------------------------------------------------------- the page


@dataclass
class _Print:
    """Printed things on the page: their ink (float32 alpha, page size) and truth marks in page px."""

    alpha: np.ndarray
    marks: list[dict] = field(default_factory=list)  # {"box": (x, y, w, h), "kind", "text"}


def _print_text(printed: _Print, text: str, x: float, baseline: float, cap: float, font: int, thickness: int) -> float:
    """Print ``text`` at ``(x, baseline)`` with letters ``cap`` px tall; each digit is its own
    ``printed_digit`` mark and each run of other characters a ``printed_text`` mark. Returns the end x."""
    h, w = printed.alpha.shape
    (_, cap1), _ = cv2.getTextSize("T", font, 1.0, 1)
    scale = cap / cap1
    runs: list[tuple[str, list[int]]] = []  # (kind, [x0, y0, x1, y1]) per run of letters or per digit
    previous = " "
    for char in text:
        (cw, _), _ = cv2.getTextSize(char, font, scale, thickness)
        if char != " ":
            pad = int(cap) + thickness + 4
            tile = np.zeros((2 * pad, int(cw) + 2 * pad), np.uint8)
            cv2.putText(tile, char, (pad, pad + int(cap // 2)), font, scale, 255, thickness, cv2.LINE_AA)
            ys, xs = np.nonzero(tile > 40)
            ox, oy = int(round(x)) - pad, int(round(baseline)) - pad - int(cap // 2)
            x0, y0, x1, y1 = max(0, ox), max(0, oy), min(w, ox + tile.shape[1]), min(h, oy + tile.shape[0])
            if x0 < x1 and y0 < y1 and len(xs):
                region = printed.alpha[y0:y1, x0:x1]
                np.maximum(region, tile[y0 - oy: y1 - oy, x0 - ox: x1 - ox].astype(np.float32) / 255.0, out=region)
                box = [ox + xs.min(), oy + ys.min(), ox + xs.max() + 1, oy + ys.max() + 1]
                if char.isdigit():
                    runs.append(("printed_digit:" + char, box))
                elif runs and runs[-1][0] == "printed_text" and previous != " ":
                    last = runs[-1][1]
                    runs[-1] = ("printed_text", [min(last[0], box[0]), min(last[1], box[1]), max(last[2], box[2]), max(last[3], box[3])])
                else:
                    runs.append(("printed_text", box))
        else:
            runs.append((" ", []))
        previous = char
        x += cw
    for kind, box in runs:
        if kind == " ":
            continue
        x0, y0, x1, y1 = (int(v) for v in box)
        if kind.startswith("printed_digit"):
            printed.marks.append({"box": (x0, y0, x1 - x0, y1 - y0), "kind": "printed_digit", "text": kind[-1]})
        else:
            printed.marks.append({"box": (x0, y0, x1 - x0, y1 - y0), "kind": "printed_text"})
    return x


class _Page:
    """The page being drawn: glyphs placed so far, printed ink and lines, and their truth."""

    def __init__(self, size: tuple[int, int], writer: Writer, rng: np.random.Generator, ink_pen: float) -> None:
        self.size = size
        self.writer = writer
        self.rng = rng
        self.pen_share = ink_pen  # pen width as a share of the digit height
        self.thin = False  # a ``thin`` page: the pen as drawn, however fine (``THIN_PEN``), fonts thinned to it
        self.placed: list[_Placed] = []
        self.numbers: list[str] = []
        self.printed = _Print(np.zeros((size[1], size[0]), np.float32))
        self.rules = np.zeros((size[1], size[0]), np.float32)  # printed form lines (black)
        self.font = HERSHEY[int(rng.integers(len(HERSHEY)))]
        self.line = 0

    def write_number(self, text: str, x: float, bottom: float, height: float, gaps=(0.12, 0.35),
                     positions: list[tuple[float, float]] | None = None, jitter: float = 0.04,
                     open_zeros: float = 0.0) -> float:
        """Write the digits of ``text`` as one number, left to right from ``x`` with their ink bottoms near
        ``bottom`` (or each centred at ``positions``); return the x after the last. A zero is written open at
        the top with chance ``open_zeros`` (``_opened``)."""
        index = len(self.numbers)
        self.numbers.append(text)
        rng = self.rng
        for k, char in enumerate(text):
            h = height * (1 + rng.uniform(-0.06, 0.06))
            pen = max(THIN_PEN[0] if self.thin else 0.9, self.pen_share * height * (1 + rng.uniform(-0.1, 0.1)))
            write = self.writer.fine if self.thin and self.writer.fine is not None else self.writer.digit
            glyph = write(int(char), h, pen, rng)
            if open_zeros and char == "0" and rng.random() < open_zeros:
                glyph = _opened(glyph, rng)
            ix, iy, iw, ih = glyph.ink
            if positions is not None:
                cx, cy = positions[k]
                gx, gy = cx - iw / 2 - ix, cy - ih / 2 - iy
            else:
                if k:
                    x += rng.uniform(*gaps) * height
                gx, gy = x - ix, bottom + rng.normal(0, jitter) * height - (iy + ih)
                x += iw
            self.placed.append(_Placed(glyph, int(round(gx)), int(round(gy)), char, index, self.line, int(char), index))
        return x

    def write_word(self, text: str, x: float, bottom: float, height: float) -> float:
        glyph = self.writer.word(text, height, self.rng)
        ix, iy, iw, ih = glyph.ink
        self.placed.append(_Placed(glyph, int(round(x - ix)), int(round(bottom - (iy + ih))), text, None, self.line, None, -1))
        return x + iw


#: A zero written fast is left open at the top (``_opened``): the pen stops short of where it started, a gap
#: this share of the zero's height wide (real18, a ruled ledger, has such gaps of 0.05-0.15 of it)...
OPEN_GAP = (0.06, 0.16)
#: ... cut through the top this share of the zero's height deep.
OPEN_DEPTH = 0.3


def _opened(glyph: Glyph, rng: np.random.Generator) -> Glyph:
    """``glyph`` (a zero) left open at the top: no ink in a narrow band of columns (``OPEN_GAP``) across its
    top (``OPEN_DEPTH``), a little right of its middle where a hand's zero starts and ends. Run into its
    neighbours, such zeros come out of a threshold as "(", "X" and ")" rather than loops."""
    ix, iy, iw, ih = glyph.ink
    gap = max(1, int(round(rng.uniform(*OPEN_GAP) * ih)))
    start = int(round(ix + iw * rng.uniform(0.45, 0.7) - gap / 2))
    alpha = glyph.alpha.copy()
    alpha[iy: iy + int(round(OPEN_DEPTH * ih)), max(0, start): start + gap] = 0.0
    try:
        return Glyph(alpha, scenes._ink_box(alpha))
    except ValueError:
        return glyph


#: On a ``touching`` page, this share of the numbers are amounts ("1000", "3000"): zeros run into each other.
TOUCHING_AMOUNTS = 0.25
#: ... whose zeros are each written open at the top (``_opened``) with this chance: real18's fast "1000"s.
TOUCHING_OPEN = 0.6


def _random_number(rng: np.random.Generator, dense: bool) -> str:
    length = int(rng.choice([1, 2, 3, 4, 5], p=[0.2, 0.35, 0.25, 0.12, 0.08] if not dense else [0.3, 0.45, 0.2, 0.05, 0.0]))
    digits = rng.integers(0, 10, length)
    if length > 1 and digits[0] == 0 and rng.random() < 0.7:
        digits[0] = rng.integers(1, 10)
    return "".join(str(d) for d in digits)


def _free_rows(page: _Page, active: set, h: float, rows: list[float], margin: float) -> None:
    """Handwritten numbers (and printed labels, handwritten words) in rows whose ink bottoms are ``rows``."""
    rng = page.rng
    w = page.size[0]
    dense = "dense" in active
    # A writer who spaces digits widely (issue 19: "12345 67891" read as fragments): its gap within a
    # number (digit heights) and the range of its gaps between numbers, as multiples of that.
    spacing = (float(rng.uniform(0.3, 0.8)), (2.2, 4.0)) if "spacing" in active else None
    if "column" in active and not dense:
        # A list: each entry's two numbers start where the line above's did (a hand's jitter aside), the
        # amounts in a column of their own clear of the widest first number.
        left = margin + rng.uniform(0.2, 1.5) * h
        ends = []
        start = page.line
        for k, bottom in enumerate(rows):
            page.line = start + k
            text = _random_number(rng, False)[:3].rjust(2, "1")
            ends.append(page.write_number(text, left + rng.normal(0, 0.08) * h, bottom, h))
        right = max(ends, default=left) + rng.uniform(0.9, 1.5) * h
        for k, bottom in enumerate(rows):
            page.line = start + k
            amount = "1" + "".join(rng.choice(list("0005"), int(rng.integers(2, 4)))) if rng.random() < 0.7 else \
                str(int(rng.integers(2, 10))) + "000"
            page.write_number(amount, right + rng.normal(0, 0.08) * h, bottom, h)
        page.line = start + len(rows)
        return
    for bottom in rows:
        x = margin + rng.uniform(0, 2.5) * h * (0.3 if dense else 1.0)
        if "printed" in active and rng.random() < 0.55:
            cap = h * rng.uniform(0.5, 0.85)
            label = str(rng.choice(PRINTED_WORDS))
            if rng.random() < 0.5:
                label += f" {int(rng.integers(1, 40))}"
            label += rng.choice([":", ".", ""])
            x = _print_text(page.printed, label, x, bottom, cap, page.font, max(1, int(round(cap / 9)))) + rng.uniform(0.6, 1.4) * h
        count = int(rng.integers(4, 12)) if dense else int(rng.integers(3, 7)) if spacing else int(rng.integers(1, 4))
        for _ in range(count):
            text = _random_number(rng, dense)
            if x + ((0.75 + (spacing[0] if spacing else 0.0)) * len(text) + 0.6) * h > w - margin:
                break
            if "touching" in active and not spacing:
                if rng.random() < TOUCHING_AMOUNTS:
                    text = str(int(rng.integers(1, 10))) + "000"
                    if x + (0.75 * len(text) + 0.6) * h > w - margin:
                        break
                x = page.write_number(text, x, bottom, h, gaps=(-0.15, 0.02), open_zeros=TOUCHING_OPEN)
                x += rng.uniform(*((0.6, 2.2) if dense else (1.2, 3.0))) * h
            elif spacing:
                # This writer's gaps: each within 25% of its own within a number, and between numbers
                # its gap times the page's ratio, unevenly.
                within, between = spacing
                x = page.write_number(text, x, bottom, h, gaps=(0.75 * within, 1.25 * within))
                x += within * rng.uniform(*between) * h
            else:
                x = page.write_number(text, x, bottom, h) + rng.uniform(*((0.6, 2.2) if dense else (1.2, 3.0))) * h
            if "words" in active and rng.random() < 0.35:
                word = str(rng.choice(HANDWRITTEN_WORDS))
                if x + (0.55 * len(word) + 0.5) * h > w - margin:
                    break
                x = page.write_word(word, x, bottom, h) + rng.uniform(1.0, 2.0) * h
        page.line += 1


def _dash(page: _Page, x: float, bottom: float, h: float) -> float:
    """A handwritten dash (a mark, not a digit) from ``x``, at mid-height of writing whose feet are at
    ``bottom``; return the x after it."""
    rng = page.rng
    length, tilt = h * rng.uniform(0.2, 0.45), h * rng.uniform(-0.08, 0.04)
    pen = max(0.9, page.pen_share * h * (1 + rng.uniform(-0.1, 0.1)))
    glyph = scenes._draw_polylines([np.array([[0.0, max(0.0, -tilt)], [length, max(0.0, tilt)]])], length, abs(tilt), pen)
    ix, iy, iw, ih = glyph.ink
    y = bottom - h * rng.uniform(0.35, 0.55)
    page.placed.append(_Placed(glyph, int(round(x - ix)), int(round(y - iy - ih / 2)), "-", None, page.line, None, -1))
    return x + iw


#: On a ``ledger`` page whose writer runs the amounts' zeros into each other, each zero is written open at the top
#: (``_opened``) with this chance: real18's "1000"s, chains of "C"s each closed only by its neighbour's arc.
LEDGER_OPEN = TOUCHING_OPEN


def _ledger_rows(page: _Page, h: float, rows: list[float], left: float) -> None:
    """A ledger's list: per ruled line (its ink bottom ``rows``), a 2-4 digit number, a dash and an amount,
    each entry starting at ``left`` (a hand's jitter aside), so that the first digits of the entries, and
    the 1s of the amounts, stand one under another across the rulings."""
    rng = page.rng
    w = page.size[0]
    digits = int(rng.choice([2, 3, 3, 4]))  # the page's entries mostly have this many digits
    letters = rng.random() < 0.5  # this writer now and then puts a letter after the number ("508R")
    # Half the writers run the zeros of an amount into each other ("1000" as a chain of loops), and write them
    # fast: open at the top (``_opened``), as often as on a ``touching`` page.
    running = rng.random() < 0.5
    amount_gaps = (-0.12, 0.04) if running else (0.0, 0.25)
    open_zeros = LEDGER_OPEN if running else 0.0
    for bottom in rows:
        length = int(np.clip(digits + rng.choice([0, 0, 0, 0, -1, 1]), 2, 4))
        text = str(int(rng.integers(1, 10))) + "".join(str(int(d)) for d in rng.integers(0, 10, length - 1))
        if rng.random() < 0.7:
            amount = "1000"
        elif rng.random() < 0.6:
            amount = str(int(rng.integers(2, 10))) + "000"
        else:
            amount = str(int(rng.integers(1, 10))) + "".join(rng.choice(list("05"), int(rng.integers(2, 4))))
        if left + (0.8 * (len(text) + len(amount)) + 1.5) * h > w - h:
            break
        x = page.write_number(text, left + rng.normal(0, 0.1) * h, bottom, h, gaps=(0.05, 0.3))
        if letters and rng.random() < 0.12:
            x = page.write_word(str(rng.choice(list("RABK"))), x + rng.uniform(0.05, 0.2) * h, bottom, h)
        x = _dash(page, x + rng.uniform(0.05, 0.3) * h, bottom, h)
        page.write_number(amount, x + rng.uniform(0.05, 0.3) * h, bottom, h, gaps=amount_gaps, open_zeros=open_zeros)
        page.line += 1


def _table_form(page: _Page, active: set, h: float, top: float, margin: float) -> float:
    """A printed table, handwriting in its cells; returns the y below it."""
    rng = page.rng
    w, ph = page.size
    dense = "dense" in active
    row_h = h * rng.uniform(1.35, 1.9)
    columns = int(rng.integers(2, 6))
    col_w = min(h * rng.uniform(2.6, 4.5), (w - 2 * margin) / columns)
    rows = min(int(rng.integers(3, 10)) + (6 if dense else 0), int((ph - top - margin) / row_h))
    if rows < 2:
        return top
    x0 = margin + rng.uniform(0, max(1.0, w - 2 * margin - columns * col_w))
    xs = [x0 + k * col_w for k in range(columns + 1)]
    ys = [top + k * row_h for k in range(rows + 1)]
    thickness = int(rng.integers(1, 4))
    for y in ys:
        cv2.line(page.rules, (int(xs[0]), int(y)), (int(xs[-1]), int(y)), 1.0, thickness, cv2.LINE_AA)
    for x in xs:
        cv2.line(page.rules, (int(x), int(ys[0])), (int(x), int(ys[-1])), 1.0, thickness, cv2.LINE_AA)
    cap = row_h * rng.uniform(0.32, 0.45)
    numbered = rng.random() < 0.5  # printed row numbers in the first column
    for c in range(columns):
        _print_text(page.printed, str(rng.choice(PRINTED_WORDS)), xs[c] + 0.15 * col_w, ys[1] - 0.3 * row_h, cap, page.font,
                    max(1, int(round(cap / 9))))
    for r in range(1, rows):
        if numbered:
            _print_text(page.printed, str(r), xs[0] + 0.3 * col_w, ys[r + 1] - 0.3 * row_h, cap, page.font, max(1, int(round(cap / 9))))
        for c in range(1 if numbered else 0, columns):
            if rng.random() < 0.2:
                continue
            height = row_h * rng.uniform(0.5, 0.82)
            text = _random_number(rng, dense)[: max(1, int(col_w / (0.8 * height)))]
            x = xs[c] + rng.uniform(0.1, 0.4) * col_w
            bottom = ys[r + 1] - rng.uniform(0.08, 0.25) * row_h
            if rng.random() < 0.3:  # this number touches or crosses a rule of its cell
                side = rng.integers(3)
                if side == 0:
                    bottom = ys[r + 1] + rng.uniform(-1, 3)
                elif side == 1:
                    bottom = ys[r] + height + rng.uniform(-3, 1)  # its top on the rule above
                else:
                    x = xs[c] + rng.uniform(-2, 1)
            first = len(page.placed)
            page.write_number(text, x, bottom, height)
            # A number stays in its cell (it may touch or cross a rule, not run into the next cell's writing).
            glyphs = page.placed[first:]
            right = max(p.box[0] + p.box[2] for p in glyphs)
            left = min(p.box[0] for p in glyphs)
            over = right - (xs[c + 1] + 2)
            if over > 0 and left - over >= xs[c] - 2:
                for p in glyphs:
                    p.x -= int(math.ceil(over))
            elif over > 0:  # too wide for the cell: not written
                del page.placed[first:]
                page.numbers.pop()
        page.line += 1
    return ys[-1] + row_h


def _box_form(page: _Page, active: set, h: float, top: float, margin: float) -> float:
    """Fields of printed boxes after a printed label; returns the y below. A digit field (a phone number, a
    date) is a comb of boxes, one handwritten digit per box; a letter field (a name, a town) holds block
    capitals, one per box of a comb or spaced along one long box (the scanned forms of issue 19 hold both,
    their capitals spaced like digits)."""
    rng = page.rng
    w, ph = page.size
    y = top
    # The empty boxes are drawn from a stream of their own, seeded by the page's, so that every glyph, label
    # and box of the form is what it was before they were drawn.
    blank = np.random.default_rng([int(rng.bit_generator.state["state"]["state"]) % (1 << 63), 0xB1A4C])
    for _ in range(int(rng.integers(2, 5)) + (4 if "dense" in active else 0)):
        side = h * rng.uniform(1.2, 1.6)
        if y + side > ph - margin:
            break
        letters = rng.random() < LETTER_FIELDS
        # A name is one long box or a comb; digits always a comb (one digit per box).
        long_box = letters and rng.random() < 0.5
        word = str(rng.choice(CAPITAL_WORDS))
        count = len(word) if letters else int(rng.integers(4, 9))
        gap = 0.0 if rng.random() < 0.5 else side * rng.uniform(0.1, 0.3)
        cap = side * rng.uniform(0.35, 0.5)
        x = _print_text(page.printed, str(rng.choice(PRINTED_WORDS)) + ":", margin, y + side * 0.7, cap, page.font,
                        max(1, int(round(cap / 9)))) + side * 0.5
        # Capitals stand taller than a font's digits: written a little smaller, to fit their boxes.
        height = side * (rng.uniform(0.5, 0.75) if letters else rng.uniform(0.6, 0.92))
        thickness = int(rng.integers(1, 3))
        if long_box:
            # Capitals 0.25-0.9 of a height apart (a hand spacing them out to fill the box).
            spacing = height * rng.uniform(0.25, 0.9)
            letter_x, glyphs = x + side * rng.uniform(0.2, 0.5), []
            for char in word:
                glyph = page.writer.word(char, height, rng)
                glyphs.append((glyph, letter_x))
                letter_x += glyph.ink[2] + spacing
            right = letter_x - spacing + side * rng.uniform(0.2, 0.8)
            if right > w - margin:
                break
            cv2.rectangle(page.rules, (int(x), int(y)), (int(right), int(y + side)), 1.0, thickness, cv2.LINE_AA)
            bottom = y + (side + height) / 2
            for (glyph, gx), char in zip(glyphs, word):
                ix, iy, iw, ih = glyph.ink
                by = bottom + rng.normal(0, 0.04) * height
                page.placed.append(_Placed(glyph, int(round(gx - ix)), int(round(by - (iy + ih))), char, None, page.line,
                                           None, -1))
            page.line += 1
            y += side * rng.uniform(1.8, 2.6)
            continue
        if x + count * (side + gap) > w - margin:
            count = int((w - margin - x) // (side + gap))
        if count < 2:
            break
        centres = []
        for k in range(count):
            bx = x + k * (side + gap)
            cv2.rectangle(page.rules, (int(bx), int(y)), (int(bx + side), int(y + side)), 1.0, thickness, cv2.LINE_AA)
            centres.append((bx + side / 2, y + side / 2))
        end = x + count * (side + gap)
        if blank.random() < EMPTY_CELLS:  # the comb goes on, its last boxes left blank
            for _k in range(int(blank.integers(1, 4))):
                if end + side > w - margin:
                    break
                cv2.rectangle(page.rules, (int(end), int(y)), (int(end + side), int(y + side)), 1.0, thickness, cv2.LINE_AA)
                end += side + gap
        if blank.random() < CHECK_BOXES:  # check boxes after the field, each with its printed word
            small = side * blank.uniform(0.7, 1.0)
            bx, top_y = end + side * blank.uniform(0.6, 1.2), y + (side - small) / 2
            for _k in range(int(blank.integers(1, 4))):
                label = str(blank.choice(CHECK_WORDS))
                (tw, _), _ = cv2.getTextSize(label, page.font, cap / cv2.getTextSize("T", page.font, 1.0, 1)[0][1], 1)
                if bx + small + side * 0.3 + tw > w - margin:
                    break
                cv2.rectangle(page.rules, (int(bx), int(top_y)), (int(bx + small), int(top_y + small)), 1.0, thickness,
                              cv2.LINE_AA)
                bx = _print_text(page.printed, label, bx + small + side * 0.25, y + side * 0.7, cap, page.font,
                                 max(1, int(round(cap / 9)))) + side * blank.uniform(0.6, 1.2)
        positions = []
        for cx, cy in centres:
            dx, dy = rng.uniform(-0.08, 0.08, 2) * side
            if rng.random() < 0.25:  # the glyph reaches its box's edge
                edge = (side - height) / 2 + rng.uniform(0, 2)
                dx, dy = (0, edge) if rng.random() < 0.6 else (edge * rng.choice([-1, 1]), 0)
            positions.append((cx + dx, cy + dy))
        if letters:
            for char, (cx, cy) in zip(word[:count], positions):
                glyph = page.writer.word(char, height, rng)
                ix, iy, iw, ih = glyph.ink
                page.placed.append(_Placed(glyph, int(round(cx - iw / 2 - ix)), int(round(cy - ih / 2 - iy)), char, None,
                                           page.line, None, -1))
        else:
            text = "".join(str(d) for d in rng.integers(0, 10, count))
            page.write_number(text, 0, 0, height, positions=positions)
        page.line += 1
        y += side * rng.uniform(1.8, 2.6)
    return y


def _paper_lines(paper: np.ndarray, active: set, h: float, rng: np.random.Generator, rows: list[float],
                 margin_line: float = 0.0) -> None:
    """Ruled, squared or dotted paper, in place (page px); a ledger's margin line at x ``margin_line``."""
    ph, pw = paper.shape[:2]
    tint = scenes.LINE_TINTS[str(rng.choice(["blue", "grey"]))]
    if "ledger" in active:
        # A notebook's blue rulings, the writing's feet on them (some just above, some across), and its
        # margin line, red or the rulings' blue.
        pitch = rows[1] - rows[0] if len(rows) > 1 else h * 1.45
        start = (rows[0] + rng.uniform(-0.15, 0.05) * h) % pitch if rows else rng.uniform(0, pitch)
        scenes._print_lines(paper, np.arange(start, ph, pitch), True, rng.uniform(1.0, 2.2), rng.uniform(0.25, 0.5),
                            scenes.LINE_TINTS["blue"])
        margin_tint = (1.0, 1.0, 0.2) if rng.random() < 0.5 else scenes.LINE_TINTS["blue"]
        scenes._print_lines(paper, [margin_line], False, rng.uniform(1.0, 2.0), rng.uniform(0.25, 0.4), margin_tint)
    elif "ruled" in active:
        pitch = rows[1] - rows[0] if len(rows) > 1 else h * 2
        start = (rows[0] + rng.uniform(1, 3)) % pitch if rows else rng.uniform(0, pitch)
        scenes._print_lines(paper, np.arange(start, ph, pitch), True, rng.uniform(1.0, 2.0), rng.uniform(0.15, 0.35), tint)
        if rng.random() < 0.6:  # the red margin line
            scenes._print_lines(paper, [pw * rng.uniform(0.06, 0.1)], False, rng.uniform(1.0, 2.0), 0.35, (1.0, 1.0, 0.2))
    elif "grid" in active:
        spacing = h * rng.uniform(0.5, 1.0)
        ox, oy = rng.uniform(0, spacing, 2)
        width, dark = rng.uniform(0.8, 1.6), rng.uniform(0.12, 0.4)
        scenes._print_lines(paper, np.arange(oy, ph, spacing), True, width, dark, tint)
        scenes._print_lines(paper, np.arange(ox, pw, spacing), False, width, dark, tint)
    elif "dotted" in active:
        spacing = h * rng.uniform(0.5, 1.0)
        radius = rng.uniform(0.5, 1.25)
        dots = np.zeros((ph, pw), np.float32)
        ss = 4
        for y in np.arange(rng.uniform(0, spacing), ph, spacing):
            for x in np.arange(rng.uniform(0, spacing), pw, spacing):
                cv2.circle(dots, (int(x * ss), int(y * ss)), max(1, int(radius * ss)), 1.0, -1, cv2.LINE_AA, 2)
        paper *= (1.0 - dots * rng.uniform(0.3, 0.6))[..., None]


def _draw_page(rng: np.random.Generator, active: set, page_size: tuple[int, int], h: float,
               hands: tuple[str, ...] = (), thin_pen: float | None = None) -> tuple[np.ndarray, _Page]:
    """The page in page px: float32 BGR image and what is on it (written in one of ``hands`` where given; with
    ``thin_pen``, a pen that share of the digit height wide, ``thin``)."""
    pw, ph = page_size
    writer = pick_writer(rng, hands)
    page = _Page(page_size, writer, rng, ink_pen=float(np.exp(rng.uniform(np.log(0.06), np.log(0.14)))))
    if thin_pen is not None:
        page.pen_share, page.thin = thin_pen, True
    margin = max(h, 0.06 * min(pw, ph))
    y = margin
    if "printed" in active:  # a printed heading: words and printed digits
        cap = h * rng.uniform(0.6, 1.0)
        heading = f"{rng.choice(PRINTED_WORDS)} {int(rng.integers(1, 13))} {rng.choice(PRINTED_WORDS)} {int(rng.integers(10, 2030))}"
        _print_text(page.printed, heading, margin, y + cap, cap, page.font, max(1, int(round(cap / 8))))
        y += cap + h * 1.2
    rows: list[float] = []
    if "table" in active:
        y = _table_form(page, active, h, y + 0.3 * h, margin)
    elif "boxes" in active:
        y = _box_form(page, active, h, y + 0.3 * h, margin)
    margin_line = 0.0
    if "ledger" in active:
        pitch = h * rng.uniform(1.3, 1.6)
        margin_line = pw * rng.uniform(0.06, 0.12)
    elif "column" in active and "dense" not in active:
        pitch = h * rng.uniform(1.15, 1.5)
    else:
        pitch = h * (rng.uniform(1.4, 2.0) if "dense" in active else rng.uniform(1.6, 2.4))
    start = y + h * 1.1
    if not ({"dense", "ledger", "table", "boxes"} & active):
        start += rng.uniform(0, 0.35) * max(0.0, ph - margin - start)  # not always at the top of the page
    count = int((ph - margin - start) // pitch) + 1
    if "ledger" in active:
        limit = int(rng.integers(6, 17))
    elif "column" in active and not ({"dense", "table", "boxes"} & active):
        limit = int(rng.integers(6, 15))
    else:
        limit = 30 if "dense" in active else int(rng.integers(2, 6)) if not ({"table", "boxes"} & active) else int(rng.integers(0, 3))
    rows = [start + k * pitch for k in range(max(0, min(count, limit)))]
    if "ledger" in active:
        _ledger_rows(page, h, rows, margin_line + rng.uniform(0.5, 3.0) * h)
    else:
        _free_rows(page, active, h, rows, margin)

    tint = PAPER_COLOURS[str(rng.choice(list(PAPER_COLOURS)))] if "paper_colour" in active else PAPER_WHITE
    paper = scenes._paper(rng, SceneOptions(size=page_size, paper_tint=tint), page_size)
    _paper_lines(paper, active, h, rng, rows, margin_line)
    if page.rules.any():
        dark = rng.uniform(0.6, 0.9)
        paper *= (1.0 - page.rules * dark)[..., None]
    if page.printed.alpha.any():
        a = (page.printed.alpha * rng.uniform(0.85, 0.97))[..., None]
        paper *= 1.0 - a
        paper += a * PRINT_INK * float(paper[::8, ::8].mean())
    ink = str(rng.choice(COLOUR_INKS if "ink_colour" in active else PLAIN_INKS))
    if "ledger" in active and "ink_colour" not in active:
        ink = "ballpoint_blue"  # the ledger's pen: as blue as its rulings
    scenes._ink(paper, page.placed, SceneOptions(size=page_size, ink=ink, pen_width=max(1.0, page.pen_share * h)), rng)
    return paper, page


# --------------------------------------------------------------------------- the world: table and curl


def _surface(rng: np.random.Generator, kind: str | None, size: tuple[int, int]) -> np.ndarray:
    """A table top, float32 BGR (h, w, 3) in [0, 1]."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    slow = scenes._smooth_noise(rng, size, max(8, min(w, h) // 10))
    if kind == "wood":
        colour = np.array([0.30, 0.48, 0.70], np.float32) * rng.uniform(0.55, 1.2)
        along_x = rng.random() < 0.5
        a, b = (yy, xx) if along_x else (xx, yy)
        wobble = scenes._smooth_noise(rng, size, max(16, min(w, h) // 6)) * rng.uniform(4, 12)
        grain = 0.10 * np.sin(2 * np.pi * (a + wobble) / rng.uniform(6, 18)) + 0.06 * scenes._smooth_noise(rng, size, 3)
        plank = rng.uniform(0.2, 0.45) * max(w, h)
        seam = np.abs(((b + rng.uniform(0, plank)) % plank) - plank / 2) > plank / 2 - 1.5
        field = 1.0 + grain + 0.08 * slow - 0.5 * seam
        return np.clip(colour * field[..., None], 0, 1)
    if kind == "cloth":
        colour = np.array(rng.uniform(0.15, 0.8, 3), np.float32)
        period = rng.uniform(3, 6)
        weave = 0.08 * np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)
        folds = 0.18 * scenes._smooth_noise(rng, size, max(16, min(w, h) // 5))
        image = colour * (1.0 + weave + folds)[..., None]
        if rng.random() < 0.5:  # tartan: bands of a second colour both ways
            other = np.array(rng.uniform(0.1, 0.8, 3), np.float32)
            band = rng.uniform(20, 60)
            stripes = ((xx % band) < band * 0.3) | ((yy % band) < band * 0.3)
            image = np.where(stripes[..., None], 0.5 * image + 0.5 * other * (1 + weave)[..., None], image)
        return np.clip(image, 0, 1)
    if kind == "dark_table":
        colour = np.array(rng.uniform(0.8, 1.2, 3), np.float32) * rng.uniform(0.05, 0.2)
        return np.clip(colour * (1.0 + 0.15 * slow + 0.05 * scenes._smooth_noise(rng, size, 2))[..., None], 0, 1)
    if kind == "patterned_table":
        a, b = np.array(rng.uniform(0.05, 0.95, 3), np.float32), np.array(rng.uniform(0.05, 0.95, 3), np.float32)
        cell = rng.uniform(14, 60)
        pattern = int(rng.integers(3))
        if pattern == 0:  # checks
            mask = ((xx // cell + yy // cell) % 2) == 0
        elif pattern == 1:  # stripes at an angle
            theta = rng.uniform(0, np.pi)
            mask = ((np.cos(theta) * xx + np.sin(theta) * yy) % cell) < cell / 2
        else:  # dots
            mask = ((xx % cell) - cell / 2) ** 2 + ((yy % cell) - cell / 2) ** 2 < (cell * 0.3) ** 2
        return np.where(mask[..., None], a, b).astype(np.float32) * (1.0 + 0.05 * slow)[..., None]
    # a plain, mid-grey or beige desk
    colour = np.array([0.55, 0.6, 0.65], np.float32) * rng.uniform(0.8, 1.2)
    return np.clip(colour * (1.0 + 0.06 * slow)[..., None], 0, 1)


@dataclass(frozen=True)
class _Curl:
    """The page curling away at one edge, in page px: along axis ``a`` toward the edge (``side``), the part
    past ``start`` (length ``length``) is foreshortened by ``g(t) = t - c t^2 / 2`` and bowed by ``bow``."""

    side: str  # "bottom", "top", "right", "left"
    start: float
    length: float
    c: float
    bow: float
    shade: float

    def _to_ab(self, x, y, size):
        """(along toward the curled edge, across) from page (x, y)."""
        pw, ph = size
        if self.side == "bottom":
            return y, x
        if self.side == "top":
            return ph - y, x
        return (x, y) if self.side == "right" else (pw - x, y)

    def _from_ab(self, a, b, size):
        pw, ph = size
        if self.side == "bottom":
            return b, a
        if self.side == "top":
            return b, ph - a
        return (a, b) if self.side == "right" else (pw - a, b)

    def _across(self, size) -> float:
        pw, ph = size
        return (pw if self.side in ("bottom", "top") else ph) / 2

    def forward(self, points: np.ndarray, size) -> np.ndarray:
        """Page points ``(N, 2)`` to where the curled page shows them."""
        a, b = self._to_ab(points[:, 0], points[:, 1], size)
        t = np.clip((a - self.start) / self.length, 0, None)
        inside = a > self.start
        a2 = np.where(inside, self.start + self.length * (t - self.c * t * t / 2), a)
        mid = self._across(size)
        b2 = np.where(inside, mid + (b - mid) * (1 + self.bow * t * t), b)
        x, y = self._from_ab(a2, b2, size)
        return np.stack([x, y], axis=1)

    def maps(self, size) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(map_x, map_y, valid, t) over the output page grid for ``cv2.remap``: the inverse of ``forward``."""
        pw, ph = size
        yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
        a2, b2 = self._to_ab(xx, yy, size)
        u = (a2 - self.start) / self.length
        end = 1 - self.c / 2  # g(1): where the page's edge now shows
        inside = u > 0
        valid = ~inside | (u <= end)
        uu = np.clip(u, 0, end)
        t = np.where(inside, (1 - np.sqrt(np.maximum(0, 1 - 2 * self.c * uu))) / self.c, 0).astype(np.float32)
        a = np.where(inside, self.start + t * self.length, a2)
        mid = self._across(size)
        b = np.where(inside, mid + (b2 - mid) / (1 + self.bow * t * t), b2)
        x, y = self._from_ab(a, b, size)
        return x.astype(np.float32), y.astype(np.float32), valid, t


def _make_curl(rng: np.random.Generator, size) -> _Curl:
    side = str(rng.choice(["bottom", "top", "right", "left"]))
    extent = size[1] if side in ("bottom", "top") else size[0]
    length = extent * rng.uniform(0.15, 0.35)
    return _Curl(side, extent - length, length, float(rng.uniform(0.5, 0.9)), float(rng.uniform(0.0, 0.06)),
                 float(rng.uniform(0.25, 0.55)))


# --------------------------------------------------------------------------- the camera


def _hand_shadow(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A hand's soft shadow, float32 (h, w) in [0, 1]: a palm reaching in from one edge with fingers."""
    w, h = size
    mask = np.zeros((h, w), np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    dx, dy = math.cos(angle), math.sin(angle)
    reach = rng.uniform(0.25, 0.55)  # how far in the palm's centre reaches, share of the half frame
    cx, cy = w / 2 + dx * w * (0.75 - reach), h / 2 + dy * h * (0.75 - reach)
    palm = (int(w * rng.uniform(0.18, 0.3)), int(w * rng.uniform(0.12, 0.2)))
    deg = math.degrees(angle)
    cv2.ellipse(mask, (int(cx), int(cy)), palm, deg, 0, 360, 1.0, -1)
    # Fingers point back toward the frame's centre.
    for k in range(4):
        spread = (k - 1.5) * 0.16
        fx = cx - math.cos(angle + spread) * palm[0] * 1.5
        fy = cy - math.sin(angle + spread) * palm[0] * 1.5
        cv2.ellipse(mask, (int(fx), int(fy)), (int(palm[0] * 0.55), int(palm[1] * 0.22)), deg + math.degrees(spread), 0, 360, 1.0, -1)
    soft = rng.uniform(0.015, 0.05) * math.hypot(w, h)
    return cv2.GaussianBlur(mask, (0, 0), soft)


def _shade(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """One side of the frame in shade: a soft step, float32 (h, w) in [0, 1] (1: fully in shade)."""
    w, h = size
    theta = rng.uniform(0, 2 * np.pi)
    xs = (np.arange(w, dtype=np.float32) - w / 2) / max(w, h)
    ys = (np.arange(h, dtype=np.float32) - h / 2) / max(w, h)
    proj = math.cos(theta) * xs[None, :] + math.sin(theta) * ys[:, None]
    lo, hi = float(proj.min()), float(proj.max())
    edge = hi - rng.uniform(0.25, 0.5) * (hi - lo)
    width = rng.uniform(0.05, 0.25) * (hi - lo)
    return (1.0 / (1.0 + np.exp(-(proj - edge) / (width / 4)))).astype(np.float32)


def _camera_options(active: set, surface: bool) -> CameraOptions:
    tilt = (18.0, 32.0) if "perspective" in active else (0.0, 6.0)
    fill = (0.55, 0.88) if surface else (1.04, 1.1)
    return CameraOptions(fill=fill, tilt_degrees=tilt, roll_degrees=12.0 if surface else 2.0,
                         distance=1.2 if "perspective" in active else 1.8, offset=0.05 if surface else 0.0)


@dataclass(frozen=True)
class StressScene:
    """One drawn world and how to film it: everything ``film`` needs, in page and world px."""

    world: np.ndarray = field(repr=False)  # float32 BGR: the table with the (curled) page on it
    page_size: tuple[int, int]
    margin: int  # the page's top-left corner in the world
    curl: _Curl | None
    truth_items: list[dict] = field(repr=False)  # page-px boxes of every glyph and printed mark, before mapping
    numbers: tuple[str, ...]  # the handwritten numbers' texts, indexed by the items' "number"
    phenomena: tuple[str, ...]
    writer: str
    light: np.ndarray = field(repr=False)  # float32 (h, w) gain in frame px: gradient, vignette, shade
    hand: np.ndarray | None = field(repr=False)  # float32 (h, w) hand shadow in frame px, or None
    hand_strength: float
    frame_size: tuple[int, int]


def _page_size(rng: np.random.Generator, frame: tuple[int, int], surface: bool) -> tuple[int, int]:
    """Page px: about frame px at the camera's scale (so the warp resamples near 1:1)."""
    fw, fh = frame
    if not surface:
        return fw, fh
    aspect = float(rng.choice([1 / 1.414, 1.414, fw / fh]))  # A4 portrait, landscape, or the frame's
    # The page's tighter side fits the frame; the camera then shrinks it to its fill share.
    if aspect >= fw / fh:
        return fw, int(round(fw / aspect))
    return int(round(fh * aspect)), fh


def build_scene(seed: int, on: Iterable[str] = (), off: Iterable[str] = (), *, size: tuple[int, int] = STRESS_SIZE,
                probability: float = PROBABILITY, hands: tuple[str, ...] = ()) -> StressScene:
    """Draw a stress scene's world (page, table, curl, light) for ``seed``: see ``stress_scene``."""
    choose_seed, page_seed, world_seed, light_seed = np.random.SeedSequence([int(seed), 0x57E55]).spawn(4)
    active_t = choose_phenomena(np.random.default_rng(choose_seed), on, off, probability)
    active = set(active_t)
    surface_kind = next((n for n in SURFACES if n in active), None)
    fw, fh = size
    page_rng = np.random.default_rng(page_seed)
    page_size = _page_size(page_rng, size, surface_kind is not None)
    # Digit height in page px, so that in the frame digits are 12-20 px (dense) or 20-55 px tall.
    fill = 0.72 if surface_kind else 1.07
    h = page_rng.uniform(12, 20) if "dense" in active else float(np.exp(page_rng.uniform(np.log(20), np.log(55))))
    thin_pen = None
    if "thin" in active:  # its own stream: the page's draws stay those of the same seed without it
        thin_rng = np.random.default_rng([int(seed), 0x7415])
        h = thin_rng.uniform(*(THIN_DENSE if "dense" in active else THIN_HEIGHT))
        thin_pen = thin_rng.uniform(*THIN_PEN) / h
    h = h / fill * (fh / 720)
    paper, page = _draw_page(page_rng, active, page_size, h, hands, thin_pen)

    world_rng = np.random.default_rng(world_seed)
    pw, ph = page_size
    margin = int(0.6 * max(pw, ph)) if surface_kind else int(0.12 * max(pw, ph))
    world_size = (pw + 2 * margin, ph + 2 * margin)
    # The table is smooth but for fine weave: draw it at half size unless it is cloth.
    coarse = 1 if surface_kind in ("cloth", "patterned_table") else 2
    table = _surface(world_rng, surface_kind, (world_size[0] // coarse, world_size[1] // coarse))
    if coarse > 1:
        table = cv2.resize(table, world_size, interpolation=cv2.INTER_LINEAR)
    curl = _make_curl(world_rng, page_size) if "curl" in active else None
    page_alpha = np.ones((ph, pw), np.float32)
    if curl is not None:
        map_x, map_y, valid, t = curl.maps(page_size)
        paper = cv2.remap(paper, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        paper *= (1.0 - curl.shade * t ** 1.5)[..., None]
        page_alpha = cv2.GaussianBlur(valid.astype(np.float32), (0, 0), 0.7)
    # The page's soft drop shadow on the table, then the page.
    shadow = np.zeros(world_size[::-1], np.float32)
    shadow[margin + 3: margin + ph + 3, margin + 3: margin + pw + 3] = page_alpha
    shadow = cv2.GaussianBlur(shadow, (0, 0), 4.0)
    table *= (1.0 - 0.45 * shadow)[..., None]
    region = table[margin: margin + ph, margin: margin + pw]
    region *= 1.0 - page_alpha[..., None]
    region += paper * page_alpha[..., None]

    light_rng = np.random.default_rng(light_seed)
    xs = np.linspace(-1, 1, fw, dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, fh, dtype=np.float32)[:, None]
    angle = light_rng.uniform(0, 2 * np.pi)
    ramp = 0.5 + 0.5 * (math.cos(angle) * xs + math.sin(angle) * ys) / math.sqrt(2)
    light = (1.0 - light_rng.uniform(0.03, 0.15) * ramp) * (1.0 - 0.15 * (xs**2 + ys**2) / 2) * light_rng.uniform(0.95, 1.05)
    if "shade" in active:
        light = light * (1.0 - light_rng.uniform(0.35, 0.65) * _shade(light_rng, size))
    hand, strength = None, 0.0
    if "shadow" in active:
        hand, strength = _hand_shadow(light_rng, size), float(light_rng.uniform(0.35, 0.65))

    items = [{"box": p.box, "digit": p.label, "number": p.number, "char": p.char} for p in page.placed]
    items += [dict(m, printed=True) for m in page.printed.marks]
    return StressScene(world=table, page_size=page_size, margin=margin, curl=curl, truth_items=items, numbers=tuple(page.numbers),
                       phenomena=active_t, writer=page.writer.name, light=light.astype(np.float32), hand=hand,
                       hand_strength=strength, frame_size=(fw, fh))


def _map_box(scene: StressScene, box, homography: np.ndarray, clip: bool = False) -> list[int] | None:
    """A page box's ink through the curl and the camera, as an axis-aligned frame box; None when not all in
    view (``clip``: the part in view, None when none is)."""
    x, y, w, h = box
    steps = np.linspace(0, 1, 5, dtype=np.float64)
    edge = np.concatenate([np.stack([x + steps * w, np.full(5, y)], 1), np.stack([x + steps * w, np.full(5, y + h)], 1),
                           np.stack([np.full(5, x), y + steps * h], 1), np.stack([np.full(5, x + w), y + steps * h], 1)])
    edge -= 0.5  # pixel c covers [c - 0.5, c + 0.5)
    if scene.curl is not None:  # the curl moves ink, it hides none (the foreshortened part still shows)
        edge = scene.curl.forward(edge, scene.page_size)
    mapped = cv2.perspectiveTransform(edge.reshape(-1, 1, 2), homography).reshape(-1, 2)
    left, top = math.floor(mapped[:, 0].min() + 0.5), math.floor(mapped[:, 1].min() + 0.5)
    right, bottom = math.ceil(mapped[:, 0].max() + 0.5), math.ceil(mapped[:, 1].max() + 0.5)
    fw, fh = scene.frame_size
    if clip:
        left, top, right, bottom = max(0, left), max(0, top), min(fw, right), min(fh, bottom)
    if left < 0 or top < 0 or right > fw or bottom > fh or right <= left or bottom <= top:
        return None
    return [int(left), int(top), int(right - left), int(bottom - top)]


def scene_truth(scene: StressScene, homography: np.ndarray, index: int = 0) -> dict:
    """One frame's truth: ``scenes``' layout (numbers, digits, marks) plus ``phenomena`` and ``writer``."""
    digits, marks = [], []
    by_number: dict[int, list] = {}
    for item in scene.truth_items:
        # A half-seen word or printed digit can still be misread: marks keep the part in view.
        box = _map_box(scene, item["box"], homography, clip=item.get("printed") or item["number"] is None)
        if item.get("printed"):
            if box is not None:
                mark = {"box": box, "kind": item["kind"]}
                if "text" in item:
                    mark["text"] = item["text"]
                marks.append(mark)
        elif item["number"] is None:
            if box is not None:
                marks.append({"box": box, "kind": "letter", "text": item["char"]})
        else:
            by_number.setdefault(item["number"], []).append((box, item["digit"]))
    numbers = []
    for index_n in sorted(by_number):
        entries = by_number[index_n]
        if any(b is None for b, _ in entries):
            continue  # a number not wholly in view is not in the truth, nor are its digits
        b = np.array([e[0] for e in entries])
        x0, y0 = b[:, 0].min(), b[:, 1].min()
        x1, y1 = (b[:, 0] + b[:, 2]).max(), (b[:, 1] + b[:, 3]).max()
        numbers.append({"text": scene.numbers[index_n], "box": [int(x0), int(y0), int(x1 - x0), int(y1 - y0)], "line": len(numbers)})
        digits += [{"box": box, "digit": int(d), "number": len(numbers) - 1} for box, d in entries]
    return {"frame": int(index), "size": list(scene.frame_size), "numbers": numbers, "digits": digits, "marks": marks,
            "phenomena": list(scene.phenomena), "writer": scene.writer}


def film(scene: StressScene, homography: np.ndarray, rng: np.random.Generator, hand_offset=(0.0, 0.0)) -> np.ndarray:
    """One frame of the scene through ``homography`` (page px -> frame px): light, blur, noise, JPEG."""
    active = set(scene.phenomena)
    fw, fh = scene.frame_size
    world_to_frame = homography @ np.array([[1, 0, -scene.margin], [0, 1, -scene.margin], [0, 0, 1]], np.float64)
    image = cv2.warpPerspective(scene.world, world_to_frame, (fw, fh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    light = scene.light
    if scene.hand is not None:
        hand = scene.hand
        if hand_offset != (0.0, 0.0):
            hand = cv2.warpAffine(hand, np.float32([[1, 0, hand_offset[0]], [0, 1, hand_offset[1]]]), (fw, fh),
                                  borderMode=cv2.BORDER_REPLICATE)
        light = light * (1.0 - scene.hand_strength * hand)
    image *= light[..., None]
    if "blur" in active:
        if rng.random() < 0.5:
            image = cv2.GaussianBlur(image, (0, 0), rng.uniform(1.3, 2.6) * fh / 720)
        else:
            length = rng.uniform(5, 12) * fh / 720
            kernel = np.zeros((int(length) | 1, int(length) | 1), np.float32)
            c = kernel.shape[0] // 2
            theta = rng.uniform(0, np.pi)
            p = (c - math.cos(theta) * length / 2, c - math.sin(theta) * length / 2)
            q = (c + math.cos(theta) * length / 2, c + math.sin(theta) * length / 2)
            cv2.line(kernel, (int(round(p[0] * 16)), int(round(p[1] * 16))), (int(round(q[0] * 16)), int(round(q[1] * 16))), 1.0, 1, cv2.LINE_AA, 4)
            image = cv2.filter2D(image, -1, kernel / max(1e-6, kernel.sum()))
    else:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 0.8) * fh / 720)
    sigma = rng.uniform(7, 16) if "noise" in active else rng.uniform(1.0, 3.0)
    level = np.sqrt(np.maximum(image[..., 1], 0.0) * 2.0 + 0.05)
    noise = level * rng.standard_normal((fh, fw), dtype=np.float32) * (sigma / 255.0)
    image += noise[..., None]
    if "noise" in active:  # colour noise: the channels do not move together
        image += rng.standard_normal((fh, fw, 3), dtype=np.float32) * (0.4 * sigma / 255.0)
    out = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    quality = int(rng.integers(20, 51)) if "jpeg" in active else int(rng.integers(88, 96))
    ok, buffer = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise OSError("JPEG encoding failed")
    return cv2.imdecode(buffer, cv2.IMREAD_COLOR)


def stress_scene(seed: int, on: Iterable[str] = (), off: Iterable[str] = (), *, only: Iterable[str] | None = None,
                 size: tuple[int, int] = STRESS_SIZE, probability: float = PROBABILITY,
                 hands: tuple[str, ...] = ()) -> tuple[np.ndarray, dict]:
    """Draw stress scene ``seed``: ``(BGR uint8 image, truth)``. Phenomena in ``on`` are shown, those in
    ``off`` are not, each other one with ``probability``; ``only=(...)`` shows exactly those (``()``: a
    plain page); ``hands``: font files the page is written in (``pick_writer``). Same arguments, same image."""
    if only is not None:
        only = check_phenomena(only)
        on, off = only, tuple(n for n in PHENOMENA if n not in only)
    scene = build_scene(seed, on, off, size=size, probability=probability, hands=hands)
    camera_seed, frame_seed = np.random.SeedSequence([int(seed), 0xCA3]).spawn(2)
    surface = any(n in scene.phenomena for n in SURFACES)
    path = make_camera_path(np.random.default_rng(camera_seed), scene.page_size, size, _camera_options(set(scene.phenomena), surface))
    homography = path.homography(0.0)
    image = film(scene, homography, np.random.default_rng(frame_seed))
    return image, scene_truth(scene, homography)


# --------------------------------------------------------------------------- the realistic sample


#: The bundled realistic sample: ``samples/realistic.mp4`` and its truth, from this seed.
REALISTIC_SEED = 32
REALISTIC_FRAMES = 120
REALISTIC_SIZE = (640, 480)
REALISTIC_FPS = 30
#: What the realistic page shows: ruled paper on a dark table, one side in shade, a hand's shadow.
REALISTIC_PHENOMENA = ("ruled", "dark_table", "shade", "shadow")


def realistic_clip(seed: int = REALISTIC_SEED, frames: int = REALISTIC_FRAMES, size: tuple[int, int] = REALISTIC_SIZE,
                   fps: float = REALISTIC_FPS):
    """Yield ``(image, truth)`` per frame: one stress page (``REALISTIC_PHENOMENA``, nothing else) filmed by a
    hand-held camera (``camera.make_camera_path``'s wander), the hand's shadow moving with the hand."""
    scene = build_scene(seed, REALISTIC_PHENOMENA, (), size=size, probability=0.0)
    camera_seed, frame_seed = np.random.SeedSequence([int(seed), 0xC119]).spawn(2)
    options = replace(_camera_options(set(scene.phenomena), True), fill=(0.8, 0.9), roll_degrees=5.0, offset=0.03)
    path = make_camera_path(np.random.default_rng(camera_seed), scene.page_size, size, options)
    for index in range(frames):
        t = index / fps
        homography = path.homography(t)
        dx, dy = path.offset(t)
        rng = np.random.default_rng([int(seed), 0xF3A, index])
        yield film(scene, homography, rng, hand_offset=(1.5 * dx, 1.5 * dy)), scene_truth(scene, homography, index)


def write_realistic(video: str | Path, truth: str | Path, seed: int = REALISTIC_SEED, frames: int = REALISTIC_FRAMES) -> dict:
    """Write ``realistic_clip`` as an mp4v video and its truth JSON (``synth``'s layout); return the truth."""
    video, truth = Path(video), Path(truth)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), float(REALISTIC_FPS), REALISTIC_SIZE)
    if not writer.isOpened():
        raise OSError(f"{video}: cannot open a video writer for mp4v; is the folder writable?")
    truths = []
    try:
        for image, frame_truth in realistic_clip(seed, frames):
            writer.write(image)
            truths.append(frame_truth)
    finally:
        writer.release()
    if not video.is_file() or video.stat().st_size == 0:
        raise OSError(f"{video}: the video was not written (is the codec available?)")
    document = {"source": video.name, "fps": REALISTIC_FPS, "size": list(REALISTIC_SIZE), "frames": truths}
    truth.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    return document

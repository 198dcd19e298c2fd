"""Train the letter model: is a crop the digit model read as a digit a letter? (``classify.printed.default_letter_model``)

The digit model reads one crop at a time, and a capital O, I, S, Z, B or G *is* a digit to it. Its "not a
digit" class may not learn those letters: every run that put them there lowered MNIST (``models/MODEL_CARD.md``,
runs F, G, K, L, M). This second, small model is consulted only where a word is in doubt (``reading.words``):
a form's field or a run of glyphs that holds letters' worth, never a page of digits alone. It sees every
letter, lookalikes too, against every digit, and says how likely a crop is a letter: for an O in a hand that
writes its 0 round that is about one half, for an L, A, E, T, G or a lowercase a about one.

Letters: A-Z and a-z but ``IDENTICAL`` (O, o, I, l, i, j), drawn from

* handwriting fonts: ``writers.TRAIN_FAMILIES`` and ``LETTER_FAMILIES`` (Fontsource packages fetched for this
  model, SIL OFL, in ``writers_data/fonts``): never ``writers.VALIDATION_FAMILIES``, which the generated pages
  of ``livedigits stress`` write their words and capitals with, nor Debian's handwriting fonts;
* pen strokes (``marks.letter_strokes``) of the letters no digit resembles;
* printed fonts (``printed.font_files``: DejaVu, Liberation, FreeFont, URW), not Hershey, which the generated
  pages print with.

Digits: ``writers.training_pool`` (pendigits training writers, optdigits, semeion, the training fonts, the
styles), MNIST training digits, the digits of ``LETTER_FAMILIES``, printed digits of the same printed fonts.
Every crop goes through ``printed.degrade`` (turned, sheared, shrunk to a frame's size, blurred, thresholded,
``normalize_ink``), so that only shape tells. The model is ``printed``'s perceptron (NumPy, ``printed.fit``),
``HIDDEN`` units, written as ``models/letters.npz``. Run::

    python -m livedigits.train.letters [--out models/letters.npz] [--seed 0] [--scale 1]
"""

from __future__ import annotations

import argparse
import string
from pathlib import Path

import cv2
import numpy as np

from livedigits.train import printed

#: Handwriting families that draw letters (and digits) for this model only: Fontsource 5.3.0, SIL OFL.
LETTER_FAMILIES = ("annie-use-your-telescope", "gaegu", "gochi-hand", "handlee", "neucha", "short-stack",
                   "the-girl-next-door")
#: Hidden units of the perceptron.
HIDDEN = 96
#: Letters that *are* a usual digit, stroke for stroke: a round O or o is a 0, an I, l or the stem of an i or j
#: a 1, a Z or z a 2 written with a flat base. Taught as letters they would teach that every 0 and 1 is half a
#: letter (a ledger's "1000" a word); left out, a word is told by its other letters (the S and L of "OSLO", the T
#: of "OTTO"), which differ from the digits they are read as (an S has no corner, a B a straight back, an L no
#: slant). With Z and z in (the first model), the flat-based 2s of a held-out hand read as letters: a comb
#: "3522" of the generated forms went as a word.
IDENTICAL = "OoIlijZz"
#: Capitals are drawn as often as lowercase letters: a form's fields hold block capitals.
LETTERS = "".join(c for c in string.ascii_uppercase + string.ascii_lowercase if c not in IDENTICAL)
#: Shares of the letters per source: handwriting fonts, pen strokes, printed fonts.
SOURCE_SHARES = (0.7, 0.1, 0.2)


def _ttf_char(path: str, char: str) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(path, 72)
    canvas = Image.new("L", (160, 160), 0)
    ImageDraw.Draw(canvas).text((40, 20), char, fill=255, font=font)
    return np.asarray(canvas)


def _hand_families() -> tuple[str, ...]:
    from livedigits.train.writers import TRAIN_FAMILIES

    return tuple(TRAIN_FAMILIES) + LETTER_FAMILIES


def draw_letter(rng: np.random.Generator, char: str, fonts: list[str]) -> np.ndarray:
    """``char`` as uint8 ink from one of the letter sources (``SOURCE_SHARES``)."""
    from livedigits.train.marks import LETTER_NEGATIVES, letter_strokes
    from livedigits.train.writers import _pen_fraction, draw_glyph, draw_strokes

    source = rng.choice(3, p=SOURCE_SHARES)
    if source == 1 and char in LETTER_NEGATIVES:
        return draw_strokes(letter_strokes(char, rng), rng, height=96, pen=_pen_fraction(rng, 0.04, 0.15))
    if source == 2 and fonts:
        return _ttf_char(fonts[int(rng.integers(len(fonts)))], char)
    families = _hand_families()
    return draw_glyph(char, families[int(rng.integers(len(families)))], rng, size=96, max_grow=2)


def dataset(seed: int = 0, scale: float = 1.0, log=print) -> tuple[np.ndarray, np.ndarray]:
    """``(crops (N, 28, 28) float32, letter (N,) 0/1)``: letters and digits in about equal numbers."""
    from livedigits.train.data import load_mnist
    from livedigits.train.writers import draw_glyph, training_pool

    rng = np.random.default_rng((seed, 26))
    fonts = printed.font_files()
    crops, labels = [], []
    # Digits: the non-MNIST pool, MNIST, the letter families' digits, printed digits.
    hand, _, _ = training_pool(seed, scale=0.3 * scale)
    for img in hand:
        crops.append(printed.degrade(cv2.resize(img, (84, 84), interpolation=cv2.INTER_LINEAR), rng))
    (mx, _), _ = load_mnist(allow_network=False)
    for i in rng.choice(len(mx), size=int(12000 * scale), replace=False):
        crops.append(printed.degrade(cv2.resize(mx[i], (84, 84), interpolation=cv2.INTER_LINEAR), rng))
    for _ in range(int(4000 * scale)):
        digit = str(int(rng.integers(10)))
        family = LETTER_FAMILIES[int(rng.integers(len(LETTER_FAMILIES)))]
        crops.append(printed.degrade(draw_glyph(digit, family, rng, size=96, max_grow=2), rng))
    for _ in range(int(3000 * scale)):
        crops.append(printed.degrade(_ttf_char(fonts[int(rng.integers(len(fonts)))], str(int(rng.integers(10)))), rng))
    labels += [0] * len(crops)
    letters = len(crops)
    for _ in range(letters):
        char = LETTERS[int(rng.integers(len(LETTERS)))]
        crops.append(printed.degrade(draw_letter(rng, char, fonts), rng))
    labels += [1] * letters
    if log:
        log(f"{len(crops)} crops: {letters} letters, {len(crops) - letters} digits")
    return np.stack(crops).astype(np.float32), np.array(labels, np.float32)


def validation(seed: int = 0, per: int = 20, mnist: int = 10000) -> dict:
    """Crops never trained on: the letters (``LETTERS``) and digits of ``writers.VALIDATION_FAMILIES``, ``per`` of
    each character a family, and the first ``mnist`` MNIST test digits; ``{name: (crops, letter 0/1)}``."""
    from livedigits.train.data import load_mnist
    from livedigits.train.writers import VALIDATION_FAMILIES, draw_glyph

    rng = np.random.default_rng((seed, 27))
    crops, labels = [], []
    for family in VALIDATION_FAMILIES:
        for char in LETTERS + "0123456789":
            for _ in range(per):
                crops.append(printed.degrade(draw_glyph(char, family, rng, size=96, max_grow=2), rng))
                labels.append(char not in "0123456789")
    _, (tx, _) = load_mnist(allow_network=False)
    tx = tx[:mnist]
    mnist = np.stack([printed.degrade(cv2.resize(img, (84, 84), interpolation=cv2.INTER_LINEAR), rng) for img in tx])
    return {"held-out fonts": (np.stack(crops), np.array(labels, np.float32)),
            "MNIST test, cut as a camera frame": (mnist, np.zeros(len(mnist), np.float32)),
            "MNIST test, as it is": (tx.astype(np.float32) / 255.0, np.zeros(len(tx), np.float32))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "models" / "letters.npz"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the data set (quick checks below 1)")
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args(argv)
    x, y = dataset(args.seed, args.scale)
    x = x.reshape(len(x), -1)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x))
    held, train = order[: len(x) // 10], order[len(x) // 10:]
    weights = printed.fit(x[train], y[train], args.seed, epochs=args.epochs, hidden=HIDDEN)
    _, p = printed.forward(x[held], weights)
    print(f"held-out crops (same sources): {100 * float(((p >= 0.5) == (y[held] >= 0.5)).mean()):.2f}% right; "
          f"letters read as digits {int(((p < 0.5) & (y[held] == 1)).sum())}, digits read as letters "
          f"{int(((p >= 0.5) & (y[held] == 0)).sum())} of {len(held)}")
    for name, (vx, vy) in validation(args.seed, per=max(1, round(20 * args.scale)),
                                     mnist=max(100, int(10000 * args.scale))).items():
        _, p = printed.forward(vx.reshape(len(vx), -1), weights)
        print(f"{name}: letters called letters (0.5) {100 * float((p[vy == 1] >= 0.5).mean()) if (vy == 1).any() else 0:.1f}%, "
              f"digits called letters {100 * float((p[vy == 0] >= 0.5).mean()):.2f}% (mean {float(p[vy == 0].mean()):.3f})")
    np.savez_compressed(args.out, **weights)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training data and training of the sign classifier (``livedigits train-signs``).

The public handwritten-symbol sets cannot be had here, so the signs are synthesized, three ways:

- **pen paths**: each sign drawn as random pen strokes (the way ``writers.draw_strokes`` renders the
  pendigits tracks: pen width, slant, aspect), with the shapes people write: a + whose bars cross off
  centre, an x or an asterisk (multiplication), a slash leaning 20 to 65 degrees, parentheses from a
  shallow to a deep bow, a dash of any length, an = of two unequal bars (a thick pen joins them into one
  piece of ink, which is when the classifier sees an = whole);
- **handwriting fonts**: + - x × * / ( ) = of the training families (``writers.TRAIN_FAMILIES``; the
  three ``VALIDATION_FAMILIES`` are kept for validation);
- **the drawn signs** of ``marks.draw_sign`` that train the digit model's "not a digit" class.

Beside them the classifier learns ``digit`` (MNIST digits and the non-MNIST writers' digits, with more
1s, 4s and 7s: the digits a sign is mistaken for) and ``other`` (letters, grid pieces, smudges: every
non-sign mark of ``marks.draw_training_mark``). Every sample goes through the camera distortions of
``augment`` and the live pipeline's ``normalize_ink``.

``--wide`` (``train_signs(wide=True)``, off by default) adds the shapes other hands write that the pen paths
lack (``training_strokes``) with hard negatives against them: more 1s, 4s and 7s, and ``page_pieces``. Without
it the synthesis draws exactly what it drew before.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from livedigits.classify.signs import SIGN_CLASSES, SignClassifier
from livedigits.vision.normalize import normalize_ink

#: The characters each font-rendered sign class is drawn from (× and * are multiplication).
FONT_CHARS = {"+": "+", "-": "-", "x": "x×*", "/": "/", "(": "(", ")": ")", "=": "="}
#: Digits as likely as others... and these more often, for they are the ones signs are taken for.
DIGIT_WEIGHTS = np.array([1, 4, 1, 1, 2, 1, 1, 2, 1, 1], np.float64)
DIGIT_WEIGHTS = DIGIT_WEIGHTS / DIGIT_WEIGHTS.sum()
#: Shares of a sign class's samples per source: pen paths, fonts, drawn marks.
SOURCE_SHARES = (0.55, 0.3, 0.15)


def _jittered(points, rng: np.random.Generator, amount: float) -> np.ndarray:
    """A pen track through ``points`` (unit square, y down), resampled and wobbled like a hand."""
    points = np.asarray(points, np.float32)
    dense = []
    for a, b in zip(points, points[1:]):
        for t in np.linspace(0, 1, 6, endpoint=False):
            dense.append(a + (b - a) * t)
    dense.append(points[-1])
    dense = np.array(dense, np.float32)
    wobble = np.cumsum(rng.normal(0, amount, dense.shape), axis=0).astype(np.float32)
    return dense + wobble - wobble.mean(0)


def pen_strokes(sign: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Random pen strokes of one sign, in a unit box (y down)."""
    u = rng.uniform
    wob = u(0.0, 0.012)
    if sign == "+":
        cx, cy = u(0.35, 0.65), u(0.35, 0.65)
        tilt = u(-0.12, 0.12)
        h = [(u(0, 0.15), cy + tilt), (u(0.85, 1), cy - tilt)]
        v = [(cx + tilt, u(0, 0.15)), (cx - tilt, u(0.85, 1))]
        strokes = [h, v] if rng.random() < 0.5 else [v, h]
        aspect = u(0.7, 1.4)
        return [_jittered([(x * aspect, y) for x, y in s], rng, wob) for s in strokes]
    if sign == "x":
        if rng.random() < 0.25:  # an asterisk: three bars through one point
            base = u(0, np.pi / 3)
            out = []
            for k in range(3):
                a = base + k * np.pi / 3
                dx, dy = 0.5 * np.cos(a), 0.5 * np.sin(a)
                out.append(_jittered([(0.5 - dx, 0.5 - dy), (0.5 + dx, 0.5 + dy)], rng, wob))
            return out
        cx, cy = u(0.4, 0.6), u(0.4, 0.6)
        a = [(u(0, 0.15), u(0, 0.15)), (cx, cy), (u(0.85, 1), u(0.85, 1))]
        b = [(u(0.85, 1), u(0, 0.15)), (cx, cy), (u(0, 0.15), u(0.85, 1))]
        if rng.random() < 0.3:  # two arcs back to back, as some write it
            a = [(0.05, 0.05), (0.4, 0.35), (cx, cy), (0.4, 0.7), (0.05, 0.95)]
            b = [(0.95, 0.05), (0.6, 0.35), (cx, cy), (0.6, 0.7), (0.95, 0.95)]
        aspect = u(0.45, 1.35)  # down to a narrow, tall X, as some hands and fonts write it
        return [_jittered([(x * aspect, y) for x, y in s], rng, wob) for s in (a, b)]
    if sign == "/":
        lean = np.tan(np.deg2rad(u(20, 65)))
        bend = u(-0.08, 0.08)
        pts = [(0.0, 1.0), (0.5 * lean + bend, 0.5), (lean, 0.0)]
        return [_jittered(pts, rng, wob)]
    if sign in "()":
        sweep = u(50, 160)
        start = 180 - sweep / 2 if sign == "(" else -sweep / 2
        t = np.deg2rad(np.linspace(start, start + sweep, 16))
        ry = 0.5 / np.sin(np.deg2rad(sweep / 2))
        rx = ry * u(0.5, 1.2)
        pts = np.stack([rx * np.cos(t), 0.5 + ry * np.sin(t)], 1)
        if rng.random() < 0.5:
            pts = pts[::-1]
        return [_jittered(pts, rng, wob)]
    if sign == "=":  # two bars, often unequal, the pen sometimes running on between them
        gap = u(0.15, 0.6)
        top = [(u(0, 0.15), 0.5 - gap / 2), (u(0.85, 1), 0.5 - gap / 2 + u(-0.08, 0.08))]
        low = [(u(0, 0.15), 0.5 + gap / 2), (u(0.85, 1), 0.5 + gap / 2 + u(-0.08, 0.08))]
        length = u(1.0, 2.5)
        return [_jittered([(x * length, y) for x, y in s], rng, wob) for s in (top, low)]
    if sign == "-":
        length = u(2.0, 8.0)
        droop = u(-0.15, 0.15)
        return [_jittered([(0, 0.5), (length / 2, 0.5 + droop), (length, 0.5 + u(-0.3, 0.3))], rng, wob * 2)]
    raise ValueError(f"no pen path for {sign!r}")


#: With ``wide``: the share of a pen-path sign drawn by ``training_strokes`` instead of ``pen_strokes``.
WIDE_SHARES = {"x": 0.5, "=": 0.35}
#: With ``wide``: the share of the ``digit`` crops that are 1s, 4s and 7s of the training writers (the
#: digits a wider x or a near-upright slash is taken for), on top of ``DIGIT_WEIGHTS``' own.
WIDE_HARD_DIGITS = 0.15
WIDE_DIGITS = (1, 4, 7)
#: With ``wide``: the share of the ``digit`` and of the ``other`` crops that are ``page_pieces``, and the
#: pages read for them (a page gives about ninety). The classes keep their sizes: a class grown by hard
#: negatives shifts every crop's odds toward it (a first try that added them lost held-out = and / to it).
PIECE_SHARE = 0.25
WIDE_PAGES = 60


def _turned(points, degrees: float) -> np.ndarray:
    """``points`` turned ``degrees`` about the unit box's centre."""
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    p = np.asarray(points, np.float32) - 0.5
    return p @ np.array([[c, s], [-s, c]], np.float32) + 0.5


def training_strokes(sign: str, rng: np.random.Generator) -> tuple[list[np.ndarray], float | None]:
    """Pen strokes of the shapes of a sign that hands write and ``pen_strokes`` does not draw, for training
    only (the worksheets draw with ``pen_strokes``, whose draws must stay as they are): ``(strokes, pen)``,
    ``pen`` a share of the height or None for the usual pen.

    - x: a cursive x of two bowed strokes back to back, ``)(``, their bows touching or crossing; a looped x
      drawn in one pen path (an alpha, a loop and two tails, either way round); an x the size of a dot (a
      thick pen, 22 to 35% of its height); an x whose two bars are each 30 to 60 degrees off the level and
      one of them short, the x a hand turns toward a + (a + keeps its bars within 14 degrees of level and
      upright);
    - =: two bars joined at one end by the pen (one path), or closing to touch at one end;
    - /: a slash written nearly upright, 12 to 20 degrees off the vertical. Not in ``WIDE_SHARES``: a 1
      stands within those degrees, and a model trained on it read more MNIST 1s as slashes.
    """
    u = rng.uniform
    wob = u(0.0, 0.01)
    if sign == "x":
        kind = int(rng.choice(4, p=(0.3, 0.25, 0.2, 0.25)))
        aspect = u(0.6, 1.3)
        turn = u(-15, 15)
        if kind == 0:  # ")(": two bows back to back, meeting at the middle
            bow = u(0.15, 0.35)
            meet = u(-0.04, 0.06)  # how far past the middle each bow reaches (overlap when > 0)
            t = np.linspace(-1, 1, 12)
            left = np.stack([0.5 - bow + (bow + meet) * (1 - t ** 2), 0.5 + 0.5 * t], 1)
            right = np.stack([0.5 + bow - (bow + meet) * (1 - t ** 2), 0.5 + 0.5 * t], 1)
            strokes = [left, right]
            return [_jittered(_turned([(x * aspect, y) for x, y in s], turn), rng, wob) for s in strokes], None
        if kind == 1:  # one pen path: a loop between two tails (the nodal cubic y^2 = x^2 (x + 1))
            reach = u(1.25, 1.6)
            t = np.linspace(-reach, reach, 28)
            x, y = t ** 2 - 1, t * (t ** 2 - 1)
            x = (x - x.min()) / max(1e-3, np.ptp(x))
            y = (y - y.min()) / max(1e-3, np.ptp(y))
            if rng.random() < 0.5:
                x = 1 - x
            pts = np.stack([x * aspect, y], 1)
            return [_jittered(_turned(pts, turn), rng, wob)], None
        if kind == 2:  # an x the size of a dot: a thick pen on a short cross
            a = [(u(0, 0.15), u(0, 0.15)), (u(0.85, 1), u(0.85, 1))]
            b = [(u(0.85, 1), u(0, 0.15)), (u(0, 0.15), u(0.85, 1))]
            return [_jittered(s, rng, wob) for s in (a, b)], u(0.22, 0.35)
        # Bars 25 to 65 degrees off the level, crossing off centre, one of them short.
        out = []
        for k, angle in enumerate((u(30, 60), -u(30, 60))):
            a = np.deg2rad(angle)
            half = 0.5 * (u(0.5, 0.8) if k == int(rng.integers(2)) else 1.0)
            cx, cy = u(0.4, 0.6), u(0.4, 0.6)
            dx, dy = half * np.cos(a), half * np.sin(a)
            out.append(_jittered([(cx - dx, cy - dy), (cx + dx, cy + dy)], rng, wob))
        return out, None
    if sign == "=":
        gap = u(0.15, 0.45)
        length = u(1.0, 2.5)
        top, low = 0.5 - gap / 2, 0.5 + gap / 2
        if rng.random() < 0.5:  # one path: the top bar, down at its end, the low bar back
            pts = [(0.0, top), (0.9, top + u(-0.05, 0.05)), (1.0, top + gap * 0.3), (1.0, low - gap * 0.3),
                   (0.9, low + u(-0.05, 0.05)), (u(0, 0.15), low + u(-0.05, 0.05))]
            if rng.random() < 0.5:
                pts = [(1 - x, y) for x, y in pts]
            return [_jittered([(x * length, y) for x, y in pts], rng, wob)], None
        # Two bars closing to touch at one end.
        close = 0.5 + u(-0.03, 0.03)
        a, b = [(0.0, top), (1.0, close)], [(0.0, low), (1.0, close)]
        if rng.random() < 0.5:  # closing at the left end instead
            a, b = [(1 - x, y) for x, y in a], [(1 - x, y) for x, y in b]
        return [_jittered([(x * length, y) for x, y in s], rng, wob) for s in (a, b)], None
    if sign == "/":
        lean = np.tan(np.deg2rad(u(12, 20)))
        bend = u(-0.05, 0.05)
        return [_jittered([(0.0, 1.0), (0.5 * lean + bend, 0.5), (lean, 0.0)], rng, wob)], None
    raise ValueError(f"no training shape for {sign!r}")


#: A sign crop whose ink fills more than this share of its box is a blot (too thick a pen), left out.
BLOT_SHARE = 0.55


def _box_area(crop: np.ndarray) -> int:
    ys, xs = np.nonzero(crop > 0.05)
    return max(1, int((ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1))) if ys.size else 1


def _camera(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """An ink drawing (uint8 or float) through the camera distortions and the live normalisation."""
    from livedigits.train.augment import AugmentConfig, as_seen_by_camera

    cfg = AugmentConfig()
    ink = ink.astype(np.float32)
    if ink.max() > 1.0:
        ink = ink / 255.0
    crop = normalize_ink(as_seen_by_camera(ink, rng, cfg, cfg.low_res_marks))
    return crop if crop.max() > 0 else None


def _sign_ink(sign: str, rng: np.random.Generator, families, wide: bool = False) -> np.ndarray:
    from livedigits.train.marks import draw_sign
    from livedigits.train.writers import _pen_fraction, draw_glyph, draw_strokes

    source = rng.choice(3, p=SOURCE_SHARES)
    if source == 1 and families:
        return draw_glyph(str(rng.choice(list(FONT_CHARS[sign]))), str(rng.choice(families)), rng, size=96)
    if source == 2:
        return draw_sign(rng, int(rng.integers(48, 112)), "*" if sign == "x" and rng.random() < 0.3 else sign)
    if wide and rng.random() < WIDE_SHARES.get(sign, 0.0):
        strokes, pen = training_strokes(sign, rng)
        # Its own shape and turn: no extra slant, which shears an x toward a + or a slash off its lean.
        return draw_strokes(strokes, rng, height=96, pen=pen or _pen_fraction(rng, 0.04, 0.2), slant=0.0)
    strokes = pen_strokes(sign, rng)
    # A sign stands alone: no extra slant on a slash or a paren beyond its own; pen 4% to 25% of its height.
    return draw_strokes(strokes, rng, height=96, pen=_pen_fraction(rng, 0.04, 0.2))


def make_set(per_class: int, seed: int, families, mnist_x=None, writers_x=None, writers_y=None,
             mnist_y=None, log=None, wide: bool = False, pieces=None) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` crops of each of ``SIGN_CLASSES``: float32 (N, 28, 28) and labels. ``wide``: signs
    drawn by ``training_strokes`` too (``WIDE_SHARES``), and ``WIDE_HARD_DIGITS`` of the digits 1s, 4s and 7s
    of the training writers (MNIST where there are none). ``pieces``: ``page_pieces``' crops and labels, of
    which ``PIECE_SHARE`` of the ``digit`` and ``other`` crops are drawn."""
    from livedigits.train.marks import TRAINING_KINDS, draw_training_mark

    rng = np.random.default_rng((seed, 29))
    xs, ys = [], []
    started = time.perf_counter()
    for label, name in enumerate(SIGN_CLASSES):
        made = 0
        if pieces is not None and name in ("digit", "other"):
            pool = np.flatnonzero(pieces[1] == label)
            if pool.size:
                taken = rng.choice(pool, int(PIECE_SHARE * per_class), replace=pool.size < PIECE_SHARE * per_class)
                xs.extend(pieces[0][taken])
                ys.extend([label] * len(taken))
                made = len(taken)
        while made < per_class:
            if name == "digit":
                hard = wide and rng.random() < WIDE_HARD_DIGITS
                digit = int(rng.choice(WIDE_DIGITS)) if hard else int(rng.choice(10, p=DIGIT_WEIGHTS))
                if writers_x is not None and (hard or rng.random() < 0.4):
                    pool = np.flatnonzero(writers_y == digit)
                    image = writers_x[int(rng.choice(pool))]
                else:
                    pool = np.flatnonzero(mnist_y == digit)
                    image = mnist_x[int(rng.choice(pool))]
                import cv2

                crop = _camera(cv2.resize(image, (84, 84), interpolation=cv2.INTER_CUBIC), rng)
            elif name == "other":
                # Not "sign", and not "line": a piece of a ruled line is a dash in a crop (the reader
                # tells them apart by where they stand, not by their look).
                kind = str(rng.choice([k for k in TRAINING_KINDS if k not in ("sign", "line")]))
                crop = _camera(draw_training_mark(rng, int(rng.integers(28, 96)), kind), rng)
            else:
                crop = _camera(_sign_ink(name, rng, families, wide), rng)
                # A pen thickened until the sign is a blot teaches nothing about signs.
                if crop is not None and (crop > 0.5).sum() > BLOT_SHARE * _box_area(crop):
                    continue
            if crop is None:
                continue
            xs.append(crop)
            ys.append(label)
            made += 1
        if log:
            log(f"  {name!r}: {per_class} crops ({time.perf_counter() - started:.0f} s)")
    return np.stack(xs).astype(np.float32), np.array(ys, np.int64)


#: With ``wide``: the pages ``page_pieces`` reads (stress rows, seeds from ``PIECE_SEEDS``: far above the
#: stress and worksheet seeds anything is measured on), and the digit model's confidence above which a piece
#: shown to the sign classifier there is trained as ``digit`` (below it: ``other``).
PIECE_ROWS = ("dense", "table")
PIECE_SEEDS = 900_000
PIECE_SURE_DIGIT = 0.9


class _Recording:
    """A sign classifier that keeps every crop it is shown (``page_pieces``)."""

    def __init__(self, inner) -> None:
        self.inner, self.classes, self.crops = inner, inner.classes, []

    def predict(self, crops: np.ndarray) -> np.ndarray:
        self.crops.extend(np.asarray(crops, np.float32).reshape(-1, 28, 28))
        return self.inner.predict(crops)


def page_pieces(pages: int, seed: int = 0, log=None) -> tuple[np.ndarray, np.ndarray]:
    """Hard negatives: every crop the live reader shows the sign classifier on ``pages`` generated pages that
    hold no sign (``PIECE_ROWS``: dense pages of numbers, tables), written in the training font families
    (``writers.TRAIN_FAMILIES``, never the held-out ones), as ``(crops, labels)``: ``digit`` where the digit
    model reads the crop as a digit at ``PIECE_SURE_DIGIT``, else ``other``. These are the 1s, 4s, 7s and
    pieces of a dense page that a wider x takes for a sign between two numbers."""
    from livedigits.classify.backends import load_classifier
    from livedigits.classify.signs import default_sign_classifier
    from livedigits.reading.recognizer import Recognizer
    from livedigits.synth.stress import stress_scene
    from livedigits.train.writers import TRAIN_FAMILIES
    from livedigits.types import NOT_A_DIGIT, Frame

    digits = load_classifier()
    recording = _Recording(default_sign_classifier())
    recognizer = Recognizer(digits, smooth=False, sign_classifier=recording)
    started = time.perf_counter()
    for k in range(pages):
        page = PIECE_SEEDS + seed * 10_000 + k
        image, _ = stress_scene(page, only=(PIECE_ROWS[k % len(PIECE_ROWS)],), hands=TRAIN_FAMILIES)
        recognizer.process(Frame(page, 0.0, image))
    if not recording.crops:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
    crops = np.stack(recording.crops)
    probs = digits.predict(crops[..., None])
    sure = (probs.argmax(1) != NOT_A_DIGIT) & (probs.max(1) >= PIECE_SURE_DIGIT)
    labels = np.where(sure, SIGN_CLASSES.index("digit"), SIGN_CLASSES.index("other")).astype(np.int64)
    if log:
        log(f"  page pieces: {len(crops)} from {pages} pages ({int(sure.sum())} digit, {int((~sure).sum())} other, "
            f"{time.perf_counter() - started:.0f} s)")
    return crops, labels


#: A user's own crop (``collect``) counts this many times in training: a few dozen of them must weigh
#: against thousands of synthesized ones.
COLLECTED_REPEAT = 5


def collected_crops(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The crops a user saved with ``livedigits collect`` (``FOLDER/<label>/<id>.png``), as the sign
    classes: a sign label as its sign, a digit as ``digit``, ``n`` as ``other``. UsageError for a folder
    with none."""
    import cv2

    from livedigits.collect.store import FULL_SUFFIX, LABELS, NOT_A_DIGIT_LABEL, SIGN_LABELS
    from livedigits.errors import UsageError

    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"--collected {root}: not a folder; give the --out folder of `livedigits collect`")
    xs, ys = [], []
    for label in LABELS:
        name = SIGN_LABELS.get(label) or ("other" if label == NOT_A_DIGIT_LABEL else "digit")
        for path in sorted((root / label).glob("*.png")):
            if path.name.endswith(FULL_SUFFIX):
                continue
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if image is None or image.shape != (28, 28):
                raise UsageError(f"--collected: {path} is not a 28x28 crop saved by `livedigits collect`")
            xs.append(image.astype(np.float32) / 255.0)
            ys.append(SIGN_CLASSES.index(name))
    if not xs:
        raise UsageError(f"--collected {root}: no crops in it (FOLDER/<label>/<id>.png, as `livedigits collect` saves them)")
    return np.stack(xs), np.array(ys, np.int64)


def build_model(num_classes: int = len(SIGN_CLASSES)):
    """Two small convolutions and a dense layer (about 127k weights): what ``SignClassifier`` runs in NumPy."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(24, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(48, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(96, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(num_classes, activation="softmax"),
    ])


def to_arrays(model) -> dict[str, np.ndarray]:
    """The Keras model's weights under the names ``SignClassifier`` reads."""
    convs = [l for l in model.layers if l.__class__.__name__ == "Conv2D"]
    denses = [l for l in model.layers if l.__class__.__name__ == "Dense"]
    out = {}
    for k, layer in enumerate(convs, 1):
        out[f"conv{k}_w"], out[f"conv{k}_b"] = (np.asarray(w, np.float32) for w in layer.get_weights())
    for k, layer in enumerate(denses, 1):
        out[f"dense{k}_w"], out[f"dense{k}_b"] = (np.asarray(w, np.float32) for w in layer.get_weights())
    return out


def train_signs(out: str | Path, per_class: int = 4000, epochs: int = 20, seed: int = 0, log=print,
                collected: str | Path | None = None, wide: bool = False) -> dict:
    """Synthesize the data, train, check on held-out fonts and pen paths, write ``out`` (.npz), the same
    model as ``.tflite`` and a ``.json`` of the figures beside it. Returns the figures. ``wide``: the wider
    sign shapes of ``training_strokes`` with their hard negatives (more 1s, 4s and 7s, ``page_pieces``)."""
    from livedigits.classify.modelfile import quiet_tensorflow
    from livedigits.train.data import load_mnist
    from livedigits.train.writers import TRAIN_FAMILIES, VALIDATION_FAMILIES, training_pool

    started = time.perf_counter()
    (mx, my), (tx, ty) = load_mnist(log=log)
    wx, wy, _ = training_pool(seed=seed, scale=0.1)
    log(f"training set: {per_class} per class of {', '.join(SIGN_CLASSES)}")
    own = collected_crops(collected) if collected else None  # checked before the long part
    pieces = page_pieces(WIDE_PAGES, seed, log=log) if wide else None
    x, y = make_set(per_class, seed, TRAIN_FAMILIES, mx, wx, wy, my, log=log, wide=wide, pieces=pieces)
    if own is not None:
        log(f"collected: {len(own[1])} crops of your own from {collected}, each counted {COLLECTED_REPEAT} times")
        x = np.concatenate([x] + [own[0]] * COLLECTED_REPEAT)
        y = np.concatenate([y] + [own[1]] * COLLECTED_REPEAT)
    log("validation set: held-out fonts " + ", ".join(VALIDATION_FAMILIES) + ", other pen paths, MNIST test digits")
    vx, vy = make_set(max(100, per_class // 6), seed + 1000, VALIDATION_FAMILIES, tx, None, None, ty)
    quiet_tensorflow("the sign model")
    import keras

    keras.utils.set_random_seed(seed)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[..., None], y, batch_size=128, epochs=epochs, validation_data=(vx[..., None], vy), verbose=2,
              callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: 2e-3 * (0.9 ** e))])
    arrays = to_arrays(model)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, classes=np.array(SIGN_CLASSES), **arrays)
    import tensorflow as tf

    out.with_suffix(".tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    # The figures come from the shipped NumPy classifier, not from Keras: what runs live is what is measured.
    classifier = SignClassifier(out)
    probs = classifier.predict(vx)
    pred = probs.argmax(1)
    # Both files hold one model: the NumPy run of the .npz must give what LiteRT gives for the .tflite.
    figures_numpy = SignClassifier(out, use_lite=False).predict(vx[:200])
    if float(np.abs(figures_numpy - probs[:200]).max()) > 1e-3:
        raise RuntimeError("the .npz and .tflite sign models disagree; training output is broken")
    per_class_acc = {name: round(float((pred[vy == k] == k).mean()), 4) for k, name in enumerate(SIGN_CLASSES)}
    figures = {"validation_accuracy": round(float((pred == vy).mean()), 4), "per_class": per_class_acc,
               "collected": 0 if own is None else int(len(own[1])), "wide": bool(wide),
               "train": int(len(y)), "validation": int(len(vy)), "epochs": epochs, "per_class_count": per_class,
               "seed": seed, "seconds": round(time.perf_counter() - started)}
    out.with_suffix(".json").write_text(json.dumps(figures, indent=1) + "\n")
    log(json.dumps(figures))
    return figures

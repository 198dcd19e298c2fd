"""Non-MNIST writers (livedigits.train.writers) and the wider "not a digit" marks: small samples, no long training."""

import json

import cv2
import numpy as np
import pytest

from livedigits.train import marks

from livedigits.train import writers
from livedigits.train.marks import negatives


def _extent(ink: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(ink > 64)
    return ys.min(), ys.max(), xs.min(), xs.max()


def test_each_dataset_loads_with_its_published_counts():
    pen = writers.load_pendigits()
    assert len(pen["strokes"]) == len(pen["labels"]) == 10992
    assert all(len(s) >= 1 and s[0].shape[1] == 2 for s in pen["strokes"][:50])
    opt = writers.load_bitmaps("optdigits_32x32")
    assert opt["images"].shape == (4677, 32, 32) and (opt["split"] == "test").sum() == 1797
    sem = writers.load_bitmaps("semeion_16x16")
    assert sem["images"].shape == (1593, 16, 16) and set(np.unique(sem["labels"])) == set(range(10))


def test_pendigits_is_drawn_upright_a_sevens_bar_on_top():
    pen = writers.load_pendigits()
    rng = np.random.default_rng(0)
    sevens = np.nonzero(pen["labels"] == 7)[0][:40]
    on_top = 0
    for i in sevens:
        ink = writers.draw_strokes(pen["strokes"][i], rng, pen=0.05, slant=0.0, aspect=1.0)
        y0, y1, _, _ = _extent(ink)
        quarter = max(1, (y1 - y0) // 4)
        width = lambda rows: np.ptp(np.nonzero((rows > 64).any(0))[0]) if (rows > 64).any() else 0  # noqa: E731
        on_top += width(ink[y0: y0 + quarter]) > width(ink[y1 - quarter: y1 + 1])
    assert on_top >= 0.9 * len(sevens), on_top


def test_separate_strokes_are_not_joined():
    rng = np.random.default_rng(0)
    ink = writers.draw_strokes([np.array([[0, 0], [0, 100.0]]), np.array([[60, 0], [60, 100.0]])], rng,
                               pen=0.03, slant=0.0, aspect=1.0)
    y0, y1, _, _ = _extent(ink)
    middle = ink[(y0 + y1) // 2]
    runs = np.diff((middle > 64).astype(int))
    assert (runs == 1).sum() == 2, "two strokes, two separate columns of ink"


def test_pendigits_split_by_writer_is_disjoint():
    pen = writers.load_pendigits()
    train = set(pen["writer"][writers._pendigits_indices(train=True)].tolist())
    test = set(pen["writer"][writers._pendigits_indices(train=False)].tolist())
    assert train == set(range(30)) and test == set(range(30, 44)) and not train & test
    assert not set(writers.TRAIN_FAMILIES) & set(writers.VALIDATION_FAMILIES)


@pytest.mark.parametrize("family", writers.FONT_FAMILIES)
def test_every_font_renders_every_digit(family):
    rng = np.random.default_rng(1)
    for digit in range(10):
        image = writers.render_font_digit(digit, family, rng)
        assert image.shape == (28, 28) and image.dtype == np.uint8
        assert (image > 128).sum() >= 15, (family, digit)


@pytest.mark.parametrize("style", list(writers.STYLES))
def test_styles_are_drawn(style):
    rng = np.random.default_rng(2)
    image = writers.render_style(style, rng)
    assert (image > 128).sum() >= 15


def _top_angle(image: np.ndarray) -> float:
    """Degrees below horizontal from the top of the ink (its rightmost pixel in the top two rows) to the
    leftmost ink of the upper 55%: a continental 1's flag is steep, a 7's top near flat."""
    ys, xs = np.nonzero(image > 100)
    y0, height = ys.min(), ys.max() - ys.min() + 1
    ax = xs[ys <= y0 + 1].max()
    upper = ys <= y0 + 0.55 * height
    lx = xs[upper].min()
    ly = ys[upper & (xs == lx)].mean()
    return float(np.degrees(np.arctan2(ly - y0, max(ax - lx, 1e-6))))


def _stem_lean(image: np.ndarray) -> float:
    """Horizontal drift of the ink's lower 40% per row (0: vertical), from a line through each row's centre."""
    ys, xs = np.nonzero(image > 100)
    rows = np.arange(int(ys.max() - 0.4 * (ys.max() - ys.min())), ys.max() + 1)
    centres = [(r, xs[ys == r].mean()) for r in rows if (ys == r).any()]
    r, c = np.array(centres).T
    return float(np.polyfit(r, c, 1)[0])


def test_drawn_continental_ones_have_a_steep_straight_flag_and_plain_sevens_a_flat_top():
    # What tells a continental 1 from a 7 to a reader: the 1's flag falls steeply from the top of an upright
    # stem, the 7's top is near horizontal. The drawings, after slant, pen and normalisation, must show it.
    rng = np.random.default_rng(4)
    ones = [writers.render_style("flag1", rng) for _ in range(200)]
    sevens = [writers.render_style("flat7", rng) for _ in range(200)]
    one_angles = np.array([_top_angle(im) for im in ones])
    seven_angles = np.array([_top_angle(im) for im in sevens])
    assert np.mean(one_angles >= 25) >= 0.97, np.percentile(one_angles, [1, 5, 50])
    assert np.mean(seven_angles <= 20) >= 0.97, np.percentile(seven_angles, [50, 95, 99])
    assert np.mean([abs(_stem_lean(im)) <= 0.3 for im in ones]) >= 0.95


def test_drawn_bar_fours_have_no_top_bar_and_end_low_on_the_right():
    # What tells this 4 (its upright starts at its bar) from a 5 to a reader: no ink runs right along its top
    # (a 5's top bar does), and its stroke ends going down on the right (a 5's bowl ends low on the left).
    rng = np.random.default_rng(5)
    fours = [writers.render_style("bar4", rng) for _ in range(200)]
    top_right, low_right = [], []
    for im in fours:
        ys, xs = np.nonzero(im > 100)
        y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
        top = ys <= y0 + 0.15 * (y1 - y0)
        low = ys >= y1 - 0.15 * (y1 - y0)
        top_right.append((xs[top].max() - x0) / max(x1 - x0, 1))
        low_right.append((xs[low].mean() - x0) / max(x1 - x0, 1))
    top_right, low_right = np.array(top_right), np.array(low_right)
    assert np.mean(top_right <= 0.75) >= 0.95, np.percentile(top_right, [50, 95, 99])  # a 5's top bar reaches ~1
    assert np.mean(low_right >= 0.45) >= 0.95, np.percentile(low_right, [1, 5, 50])


def _holes(image: np.ndarray) -> list[float]:
    """Rows (centre) of the background regions of a 28x28 digit that ink closes off from the border."""
    import cv2

    n, _, stats, centres = cv2.connectedComponentsWithStats((image < 100).astype(np.uint8), connectivity=4)
    return [centres[k][1] for k in range(1, n) if stats[k][0] > 0 and stats[k][1] > 0
            and stats[k][0] + stats[k][2] < 28 and stats[k][1] + stats[k][3] < 28 and stats[k][4] >= 3]


def test_drawn_small_loop_sixes_close_one_loop_low_and_bar_fours_close_none():
    # What tells ``small6`` (the counterpart of ``bar4``) from a rounded bar4: its stroke closes one loop,
    # in the lower half, where a bar4's stem goes on down past its bar and closes nothing.
    rng = np.random.default_rng(5)
    sixes = [_holes(writers.render_style("small6", rng)) for _ in range(200)]
    fours = [_holes(writers.render_style("bar4", rng)) for _ in range(200)]
    assert np.mean([len(h) == 1 and h[0] > 14 for h in sixes]) >= 0.9
    assert np.mean([len(h) == 0 for h in fours]) >= 0.95


def test_unstretched_ones_are_narrow_and_other_digits_are_not():
    opt = writers.load_bitmaps("optdigits_32x32")
    rng = np.random.default_rng(3)
    for digit, low, high in ((1, 0.0, 0.45), (0, 0.5, 1.0)):
        for i in np.nonzero(opt["labels"] == digit)[0][:10]:
            y0, y1, x0, x1 = _extent(writers.unstretch(opt["images"][i], digit, rng))
            assert low <= (x1 - x0 + 1) / (y1 - y0 + 1) <= high


def test_training_pool_is_seeded_and_mixes_every_source():
    a = writers.training_pool(seed=5, scale=0.003)
    b = writers.training_pool(seed=5, scale=0.003)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert set(a[2]) == {"pendigits", "optdigits", "semeion", "fonts"} | {f"styles/{name}" for name in writers.STYLES}
    assert a[0].shape[1:] == (28, 28) and a[0].dtype == np.uint8 and set(np.unique(a[1])) <= set(range(10))


def test_validation_sets_with_a_usps_file(tmp_path):
    usps = tmp_path / "usps.npz"
    images = np.zeros((4, 16, 16), np.uint8)
    images[:, 2:14, 7:9] = 255
    np.savez(usps, images=images, labels=np.ones(4, np.uint8), split=np.array(["train", "test", "test", "test"]))
    sets = writers.validation_sets(usps=usps, limit=30)
    assert set(sets) == {"pendigits_test", "optdigits_windep", "usps_test", "fonts_heldout"}
    assert len(sets["usps_test"][1]) == 3
    for x, y in sets.values():
        assert x.shape[1:] == (28, 28) and len(x) == len(y) and (x.reshape(len(x), -1).max(1) > 0).all()


def test_new_not_a_digit_kinds_are_drawn():
    rng = np.random.default_rng(4)
    assert set("ATKbgq") <= set(marks.TRAINING_LETTERS)
    assert not set("OolISsZzB") & set(marks.TRAINING_LETTERS)
    assert {"/", "(", ")", "+", "-", "x", "="} <= set(marks.TRAINING_SIGNS)
    for kind in marks.TRAINING_KINDS:
        for _ in range(5):
            assert marks.draw_training_mark(rng, 48, kind).max() > 0, kind
    for sign in ("/", "(", ")"):
        assert marks.draw_sign(rng, 48, sign).max() > 0
    assert marks.draw_mark(rng, 48, "grid").max() > 0
    crops = negatives(40, rng)
    assert crops.shape == (40, 28, 28) and (crops.reshape(40, -1).max(1) > 0).mean() > 0.9


def test_slash_leans_far_from_upright():
    rng = np.random.default_rng(6)
    for _ in range(10):
        ys, xs = np.nonzero(marks.draw_sign(rng, 64, "/") > 128)
        assert np.ptp(xs) >= 0.6 * np.ptp(ys)


def test_a_few_hundred_samples_train_with_writers(tmp_path, mnist_slice):
    from livedigits.train.training import TrainConfig, train

    usps = tmp_path / "usps.npz"
    np.savez(usps, images=np.full((3, 16, 16), 255, np.uint8), labels=np.zeros(3, np.uint8), split=np.array(["test"] * 3))
    summary = train(TrainConfig(epochs=1, limit=300, batch_size=64, writers=0.5, usps=str(usps)), tmp_path / "run",
                    data=mnist_slice, verbose=0, log=lambda m: None)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert sum(summary["writers_pool"].values()) > 100
    for name in ("pendigits_test", "optdigits_windep", "usps_test", "fonts_heldout"):
        assert f"val_{name}_accuracy" in history["history"], name
        assert 0.0 <= summary["validation"][name]["accuracy"] <= 1.0
    assert summary["config"]["writers"] == 0.5


def test_letter_negatives_leave_out_the_digit_shaped_letters_and_draw_the_rest():
    # The letters a usual digit matches stay out of "not a digit" (the reading stage tells them by their
    # neighbours); every other letter is drawn from each source: training font, pen strokes, print.
    assert not set(marks.LETTER_NEGATIVES) & set(marks.LETTER_LOOKALIKES)
    assert set("OoIlZzSsBqLJtG") <= set(marks.LETTER_LOOKALIKES)
    assert set("AEFHKMNTYabhkmnr") <= set(marks.LETTER_NEGATIVES)
    rng = np.random.default_rng(8)
    for char in marks.LETTER_NEGATIVES:
        strokes = marks.letter_strokes(char, rng)
        assert strokes and all(s.ndim == 2 and s.shape[1] == 2 for s in strokes), char
        for _ in range(3):
            assert marks.draw_training_letter(rng, 40, char).max() > 0, char
    with pytest.raises(ValueError, match="no strokes"):
        marks.letter_strokes("O", rng)
    crops = marks.letter_negatives(30, rng)
    assert crops.shape == (30, 28, 28) and (crops.reshape(30, -1).max(1) > 0).mean() > 0.9


def test_letters_join_not_a_digit_in_their_share_and_are_never_mirrored():
    from livedigits.errors import UsageError
    from livedigits.train.training import TrainConfig, make_sequence
    from livedigits.types import NOT_A_DIGIT

    digits = np.zeros((200, 28, 28), np.uint8)
    labels = np.arange(200) % 10
    marks_pool = np.zeros((50, 28, 28), np.float32)  # blank marks: anything with ink below is a letter
    letters = np.zeros((20, 28, 28), np.float32)
    for i in range(20):  # lopsided crops, each its own: a mirrored one matches none of them
        letters[i, 3 + i % 10, 2:6 + i // 10] = 1.0
    cfg = TrainConfig(letters=0.25, negatives=0.1, augment="none", batch_size=64, writers=0.0)
    sequence = make_sequence(digits, labels, marks_pool, cfg, 3, x_letters=letters)
    seen = 0
    for b in range(len(sequence)):
        x, y = sequence[b]
        for crop in x[y == NOT_A_DIGIT, ..., 0]:
            if crop.any():
                assert any(np.array_equal(crop, letter) for letter in letters)
                seen += 1
        assert not x[y != NOT_A_DIGIT].any()
    assert seen == 50  # a quarter of the 200 digits
    with pytest.raises(UsageError, match="--letters"):
        TrainConfig(letters=0.1, negatives=0.0).check()


def test_elastic_bends_strokes_by_at_most_its_amplitude_and_only_when_asked():
    from livedigits.errors import UsageError
    from livedigits.train.augment import AugmentConfig, augment_batch, elastic
    from livedigits.train.training import TrainConfig

    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 13:15] = 255  # a 1: a straight stem
    bent = [elastic(digit, np.random.default_rng(s), 3.0, 3.5) for s in range(20)]
    near = cv2.dilate(digit, np.ones((9, 9), np.uint8))  # 4 px around the stem: amplitude 3 plus interpolation
    for b in bent:
        assert b.max() > 0 and not (b[near == 0] > 0).any()
    # Bent: the stem is no longer the same straight column in most draws.
    assert sum(not np.array_equal(b > 127, digit > 127) for b in bent) >= 15
    # Same seed, same bend; off by default, and a batch changes when it is on.
    assert np.array_equal(elastic(digit, np.random.default_rng(1), 3.0, 3.5), bent[1])
    assert AugmentConfig().elastic == 0 and TrainConfig().elastic == 0
    batch = np.repeat(digit[None], 8, 0)
    plain = augment_batch(batch, np.random.default_rng(5), AugmentConfig())
    assert not np.array_equal(plain, augment_batch(batch, np.random.default_rng(5), AugmentConfig(elastic=1.0)))
    with pytest.raises(UsageError, match="--elastic"):
        TrainConfig(elastic=1.5).check()


def test_grainy_cuts_small_blurred_noisy_digits_as_the_pipeline_does_and_only_when_asked(monkeypatch):
    from livedigits.errors import UsageError
    from livedigits.train.augment import GRAINY_HEIGHT, AugmentConfig, augment_batch, grainy, grainy_marks
    from livedigits.train.training import TrainConfig
    from livedigits.vision import segment
    from livedigits.vision.normalize import normalize_ink

    digit = np.zeros((28, 28), np.uint8)
    cv2.ellipse(digit, (14, 14), (6, 9), 0, 0, 360, 255, 2)  # a 0, 18 px tall
    seen = []  # each crop's piece as the pipeline's crop function gets it: its box, and whether it is despeckled
    real_crop = segment.ink_crop

    def spy(gray, limit, box, patch, config, grainy=False):
        seen.append((box, grainy, gray, patch))
        return real_crop(gray, limit, box, patch, config, grainy)

    monkeypatch.setattr(segment, "ink_crop", spy)
    cfg = AugmentConfig()
    crops = [grainy(digit, np.random.default_rng(s), cfg) for s in range(60)]
    kept = [c for c in crops if c.max() > 0]
    assert len(seen) >= 50 and len(kept) >= 40
    # Small writing: the pieces are about as tall as the writing drawn (blur and threshold move the outline).
    heights = np.array([box[3] for box, *_ in seen])
    assert GRAINY_HEIGHT[0] - 3 <= np.median(heights) <= GRAINY_HEIGHT[1] + 3 and heights.max() <= 2 * GRAINY_HEIGHT[1]
    # A grainy photo: noise on the paper around the piece, and the mask despeckled on the noisiest.
    assert np.median([float(g[:4].std()) for _, _, g, _ in seen]) >= 3 and 0 < sum(s for _, s, _, _ in seen) < len(seen)
    # Every kept crop is a normalised crop (its ink's longer side fitted to 20 px) that still looks like a 0: most
    # keep a ring darker in its middle; the rest are those whose small loop the blur and the threshold filled.
    clean = normalize_ink(digit)
    for c in kept:
        assert c.shape == (28, 28) and c.dtype == np.float32 and 0 <= c.min() and c.max() <= 1
        ys, xs = np.nonzero(c > 0.05)
        assert 18 <= max(np.ptp(ys), np.ptp(xs)) + 1 <= 22
    hollow = [float(c[12:16, 12:16].mean()) < 0.5 * float(c[c > 0.05].mean()) for c in kept]
    assert sum(hollow) >= 0.6 * len(kept)  # (seeds 0-59: 30 of 44)
    # ... and they differ: blur, noise and threshold are drawn afresh.
    assert len({c.tobytes() for c in kept}) == len(kept)
    # Off by default; a batch changes when on; marks take the same cut at the same share.
    assert AugmentConfig().grainy == 0 and TrainConfig().grainy == 0
    batch = np.repeat(digit[None], 16, 0)
    plain = augment_batch(batch, np.random.default_rng(5), AugmentConfig())
    assert np.array_equal(plain, augment_batch(batch, np.random.default_rng(5), AugmentConfig()))
    assert not np.array_equal(plain, augment_batch(batch, np.random.default_rng(5), AugmentConfig(grainy=1.0)))
    marks = np.repeat(clean[None], 20, 0)
    assert np.array_equal(grainy_marks(marks, np.random.default_rng(1), AugmentConfig()), marks)
    assert sum(not np.array_equal(m, clean) for m in grainy_marks(marks, np.random.default_rng(1), AugmentConfig(grainy=1.0))) >= 10  # (13: the rest too far gone, kept)
    with pytest.raises(UsageError, match="--grainy"):
        TrainConfig(grainy=1.5).check()

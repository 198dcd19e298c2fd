"""Real paper, real writing: named scenes from ``livedigits.synth.scenes`` read by the real pipeline.

Each scene is one way real photos go wrong (a digit filling the frame, a thick marker, a hairline
pen at 15 px, squared paper, print showing through, letters beside digits, evenly spaced single
digits, numbers a space apart, a dense counting sheet, arithmetic signs). The reading tests run
what ``livedigits run IMAGE`` runs on a still (the shipped model through ``load_classifier()``,
a ``Recognizer`` with ``smooth=False``) and check what a user would: the numbers read, in reading
order, are the numbers written. The generator tests check that each scene is what it says.

Digits are MNIST **test** images (the repository's slice of the first 1,000), never seen in training.
"""

import cv2
import numpy as np
import pytest

from livedigits.synth.scenes import (
    INKS,
    SCENES,
    SceneOptions,
    StrokeDigits,
    draw_digit,
    draw_strokes,
    render,
    render_scene,
    scene_options,
    stroke_width,
    truth_document,
    write_scene,
)
from livedigits.types import Box, Frame

SEED = 0


@pytest.fixture(scope="module")
def test_digits(mnist_slice):
    _, (x_test, y_test) = mnist_slice
    return x_test, y_test


@pytest.fixture(scope="module")
def classifier():
    from livedigits.classify.backends import load_classifier

    return load_classifier()


_RENDERED = {}


def _scene(name, digits):
    """A named scene at SEED, rendered once per test run (the dense sheet takes a second or two)."""
    if name not in _RENDERED:
        _RENDERED[name] = render_scene(name, SEED, digits=digits)
    image, truth = _RENDERED[name]
    return image.copy(), truth


def _read(classifier, image):
    from livedigits.reading.recognizer import Recognizer

    return Recognizer(classifier, smooth=False).process(Frame(0, 0.0, image))


def _box(values) -> Box:
    return Box(*values)


def _in_reading_order(result, truth) -> list[str]:
    """Texts of the numbers read, line by line (each read number on the line of the true number it
    overlaps most, or is nearest to) and left to right."""
    keyed = []
    for number in result.numbers:
        cx, cy = number.box.center

        def closeness(t):
            b = _box(t["box"])
            tx, ty = b.center
            return (number.box.iou(b), -abs(ty - cy) - 0.1 * abs(tx - cx))

        best = max(truth["numbers"], key=closeness)
        keyed.append((best["line"], number.box.x, number.text))
    return [text for _, _, text in sorted(keyed)]


def _ink_mask(image):
    """Pixels clearly darker than the paper around them (the writing), for measuring the drawn scene."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    small = cv2.resize(gray, (gray.shape[1] // 8, gray.shape[0] // 8), interpolation=cv2.INTER_AREA)
    k = max(5, min(small.shape) // 5) | 1  # wider than a marker stroke filling the frame
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    paper = cv2.resize(paper, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return gray < paper * 0.6


# --------------------------------------------------------------------------- reading the scenes


#: Known misreadings, each failing today and checked to (strict xfail: a fix turns the test red until
#: this entry goes): the scene's brackets are shallow arcs, and the model reads both as 1 ("(4x2)" comes
#: out as 14 and 71). The signs in the same scene are tested below.
KNOWN_MISREADINGS = {"operators": "brackets drawn as shallow arcs are read as 1"}
EXACT_SCENES = [pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_MISREADINGS[name], strict=True))
                if name in KNOWN_MISREADINGS else name for name in SCENES if name != "dense_sheet"]


def test_signs_end_numbers_and_are_never_read_as_digits(classifier, test_digits):
    """12+7 and 8-3: the plus and the minus end the numbers, and nothing is read where a sign or the x is."""
    image, truth = _scene("operators", test_digits)
    result = _read(classifier, image)
    read = [n.text for n in result.numbers]
    for text in ("12", "7", "8", "3"):
        assert text in read, f"{text} not read on its own in {read}"
    signs = [_box(m["box"]) for m in truth["marks"] if m["text"] in "+-x"]
    assert len(signs) == 3
    assert not [d for d in result.detections for s in signs if d.box.iou(s) > 0.3], read


@pytest.mark.parametrize("name", EXACT_SCENES)
def test_scene_reads_as_written(name, classifier, test_digits):
    image, truth = _scene(name, test_digits)
    result = _read(classifier, image)
    read = _in_reading_order(result, truth)
    written = [n["text"] for n in truth["numbers"]]
    assert read == written, f"{name}: read {read}, written {written} ({SCENES[name][0]})"


def test_dense_sheet_reads_nearly_every_number(classifier, test_digits):
    image, truth = _scene("dense_sheet", test_digits)
    result = _read(classifier, image)
    written = [(n["text"], _box(n["box"])) for n in truth["numbers"]]
    exact = sum(any(r.text == text and r.box.iou(box) >= 0.5 for r in result.numbers) for text, box in written)
    off_writing = [r.text for r in result.numbers if all(r.box.iou(box) < 0.1 for _, box in written)]
    wrong = [r.text for r in result.numbers if not any(r.text == text and r.box.iou(box) >= 0.5 for text, box in written)]
    recall, precision = exact / len(written), 1 - len(wrong) / max(1, len(result.numbers))
    summary = f"{exact}/{len(written)} read exactly, {len(result.numbers)} numbers read, wrong: {wrong[:30]}"
    # Measured: 113 to 118 of 120 over seeds 0-4; what is missed are MNIST digits the model will not read
    # (a 5 written in two strokes far apart, a looped 2), not the segmentation. Before the segmentation
    # for real paper: 16 of 120.
    assert recall >= 0.93, summary
    assert precision >= 0.95, summary
    assert off_writing == [], summary


# --------------------------------------------------------------------------- the scenes are what they say


@pytest.mark.parametrize("name", list(SCENES))
def test_truth_boxes_lie_inside_the_image_on_ink(name, test_digits):
    image, truth = _scene(name, test_digits)
    h, w = image.shape[:2]
    assert truth["size"] == [w, h]
    assert truth["numbers"], name
    ink = _ink_mask(image)
    for item in truth["digits"] + truth["marks"] + truth["numbers"]:
        x, y, bw, bh = item["box"]
        assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h, (name, item)
        assert ink[y : y + bh, x : x + bw].any(), (name, item)  # every box holds drawn ink
    texts = "".join(n["text"] for n in truth["numbers"])
    assert texts == "".join(str(d["digit"]) for d in truth["digits"])  # digits in reading order make up the numbers
    document = truth_document(truth, f"{name}.png")
    assert document["frames"][0] is truth and document["size"] == [w, h]


def test_scenes_are_deterministic_and_seeded(test_digits):
    a, truth_a = render_scene("operators", 3, digits=test_digits)
    b, truth_b = render_scene("operators", 3, digits=test_digits)
    c, _ = render_scene("operators", 4, digits=test_digits)
    assert np.array_equal(a, b) and truth_a == truth_b
    assert not np.array_equal(a, c)


def test_scene_options_are_checked(test_digits):
    with pytest.raises(ValueError, match="unknown scene"):
        scene_options("no_such_scene")
    with pytest.raises(ValueError, match="unknown scene option"):
        scene_options("operators", colour="pink")
    with pytest.raises(ValueError, match="ink"):
        SceneOptions(ink="crayon")
    with pytest.raises(ValueError, match="cannot write"):
        SceneOptions(lines=("12 # 3",))
    with pytest.raises(ValueError, match="does not fit"):
        render(SceneOptions(size=(200, 100), lines=("123456789",), digit_height=60), digits=test_digits)


@pytest.mark.parametrize("pen", [1.0, 1.5, 4.0, 12.0])
def test_pen_width_is_the_asked_width(pen, test_digits):
    images, _ = test_digits
    widths = [stroke_width(draw_digit(images[i], 120, pen).alpha) for i in range(10)]
    # Area over centre-line length: exact on a straight stroke, a little more where strokes meet or end.
    assert pen * 0.85 <= float(np.median(widths)) <= pen * 1.3, widths


def test_negative_digit_gaps_make_touching_digits(test_digits):
    options = SceneOptions(size=(640, 240), lines=("5831",), digit_height=80, digit_gap=(-0.1, -0.05), noise=0)
    _, truth = render(options, seed=1, digits=test_digits)
    boxes = [d["box"] for d in truth["digits"]]
    assert len(truth["numbers"]) == 1
    assert all(b[0] < a[0] + a[2] for a, b in zip(boxes, boxes[1:]))  # each digit's ink starts inside the one before


def test_large_single_fills_most_of_the_frame(test_digits):
    image, truth = _scene("large_single", test_digits)
    (digit,) = truth["digits"]
    assert digit["box"][3] > 0.6 * image.shape[0]
    assert stroke_width(_ink_mask(image)) >= 0.1 * digit["box"][3]  # a marker, measured on the photo


def test_thick_marker_strokes_are_thick(test_digits):
    image, truth = _scene("thick_marker", test_digits)
    assert image.shape == (480, 640, 3) and [n["text"] for n in truth["numbers"]] == ["3450"]
    height = np.median([d["box"][3] for d in truth["digits"]])
    assert 0.11 <= stroke_width(_ink_mask(image)) / height <= 0.2


def test_thin_small_is_a_hairline_at_15_to_20_px(test_digits):
    image, truth = _scene("thin_small", test_digits)
    heights = [d["box"][3] for d in truth["digits"]]
    assert image.shape[1] >= 1280 and 14 <= np.median(heights) <= 21
    assert 0.8 <= stroke_width(_ink_mask(image)) <= 2.5


def _line_runs(profile, depth=0.04):
    """Number of runs of rows (or columns) darker than the profile's median by ``depth`` of it."""
    dark = profile < np.median(profile) * (1 - depth)
    return int(np.count_nonzero(dark[1:] & ~dark[:-1]) + dark[0])


@pytest.mark.parametrize("paper, rows, columns", [("plain", False, False), ("ruled", True, False), ("grid", True, True)])
def test_paper_lines_run_the_asked_ways(paper, rows, columns):
    options = SceneOptions(size=(640, 480), lines=(), paper=paper, line_spacing=30, noise=0, blur=0, vignette=0, light_gradient=0)
    image, _ = render(options, seed=1, digits=(np.full((1, 28, 28), 255, np.uint8), np.zeros(1, np.int64)))
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    along_rows, along_columns = _line_runs(gray.mean(axis=1)), _line_runs(gray.mean(axis=0))
    assert (along_rows >= 480 // 30 - 1) == rows and (along_rows == 0) == (not rows), along_rows
    assert (along_columns >= 640 // 30 - 1) == columns and (along_columns == 0) == (not columns), along_columns


def test_table_rules_run_between_the_columns_and_rows(test_digits):
    options = SceneOptions(size=(800, 600), lines=("12 7 305", "44 9 18"), paper="table", digit_height=50, line_darkness=0.6,
                           line_width=2, noise=0, blur=0, vignette=0, light_gradient=0, slant_degrees=(0, 0))
    image, truth = render(options, seed=3, digits=test_digits)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    boxes = np.array([d["box"] for d in truth["digits"]])
    top, bottom = boxes[:, 1].min(), (boxes[:, 1] + boxes[:, 3]).max()
    band = gray[top:bottom]  # rows of the writing: only the vertical rules run through all of them
    dark = (band < np.median(band) * 0.8).mean(axis=0) > 0.95
    columns = np.flatnonzero(dark[1:] & ~dark[:-1]) + 1
    assert len(columns) == 4, columns  # left edge, two between the three columns, right edge
    for x in columns:
        assert not np.any((boxes[:, 0] <= x) & (x < boxes[:, 0] + boxes[:, 2])), (x, boxes)
    cell = gray[:, columns[0] + 5 : columns[1] - 5]
    rows = (cell < np.median(gray) * 0.8).mean(axis=1) > 0.95
    assert np.count_nonzero(rows[1:] & ~rows[:-1]) == 3  # above, between and below the two lines


def test_grid_paper_lines_cross_the_digits(test_digits):
    options = scene_options("grid_paper", SEED)
    assert options.paper == "grid" and options.line_spacing < options.digit_height  # every digit is crossed both ways


def test_show_through_is_mirrored_print_on_blank_paper(test_digits):
    base = dict(size=(640, 480), lines=("7",), digit_height=100, noise=0, vignette=0, light_gradient=0)
    plain, _ = render(SceneOptions(**base), seed=2, digits=test_digits)
    ghost, _ = render(SceneOptions(**base, show_through=0.13), seed=2, digits=test_digits)
    blank = (slice(0, 120), slice(0, 640))  # top band, away from the digit
    diff = plain[blank].astype(np.float32).mean(axis=2) - ghost[blank].astype(np.float32).mean(axis=2)
    assert diff.max() > 8 and np.count_nonzero(diff > 4) > 0.02 * diff.size  # faint print, plain to see


def test_light_options_change_the_photo(test_digits):
    base = dict(size=(640, 480), lines=("7",), digit_height=100, noise=0, vignette=0, light_gradient=0)
    normal, _ = render(SceneOptions(**base), seed=2, digits=test_digits)
    dim, _ = render(SceneOptions(**base, exposure=0.4), seed=2, digits=test_digits)
    assert 0.35 <= np.median(dim) / np.median(normal) <= 0.45
    shadow, _ = render(SceneOptions(**base, shadow=0.5), seed=2, digits=test_digits)
    ratio = shadow.mean(axis=2) / np.maximum(1, normal.mean(axis=2))
    assert np.count_nonzero(ratio < 0.6) > 0.1 * ratio.size and np.count_nonzero(ratio > 0.95) > 0.1 * ratio.size
    glare, _ = render(SceneOptions(**base, glare=1.0), seed=2, digits=test_digits)
    saturated = lambda image: np.count_nonzero(image.max(axis=2) == 255) / image.shape[0] / image.shape[1]  # noqa: E731
    assert saturated(glare) > 0.01 and saturated(normal) < 0.001, (saturated(glare), saturated(normal))


@pytest.mark.parametrize("ink", sorted(INKS))
def test_inks_have_their_colour(ink, test_digits):
    image, truth = render(SceneOptions(size=(320, 240), lines=("8",), digit_height=150, pen_width=10, ink=ink, noise=0), seed=5,
                          digits=test_digits)
    b, g, r = image[_ink_mask(image)].astype(np.float32).mean(axis=0)
    expected = {"ballpoint_blue": b > r + 40, "purple": b > g + 40 and r > g + 40, "red": r > g + 60 and r > b + 60,
                "green": g > r + 30 and g > b}
    if ink in expected:
        assert expected[ink], (ink, b, g, r)
    else:  # black and grey inks
        assert max(b, g, r) - min(b, g, r) < 20, (ink, b, g, r)


def test_letters_and_signs_are_not_in_the_numbers(test_digits):
    _, letters = _scene("letters", test_digits)
    _, operators = _scene("operators", test_digits)
    assert [n["text"] for n in letters["numbers"]] == ["7", "4", "12", "7"]
    assert sorted(m["text"] for m in letters["marks"]) == ["A", "A", "T", "T"]
    assert [n["text"] for n in operators["numbers"]] == ["12", "7", "8", "3", "4", "2"]
    assert sorted(m["text"] for m in operators["marks"]) == sorted("+-()x")
    for truth in (letters, operators):
        for mark in truth["marks"]:
            assert all(_box(mark["box"]).iou(_box(d["box"])) == 0 for d in truth["digits"])


def test_even_row_is_ten_evenly_spaced_single_digits_on_a_slope(test_digits):
    _, truth = _scene("even_row", test_digits)
    assert len(truth["numbers"]) == 10 and all(len(n["text"]) == 1 for n in truth["numbers"])
    boxes = np.array([d["box"] for d in truth["digits"]], np.float64)
    h = np.median(boxes[:, 3])
    gaps = boxes[1:, 0] - (boxes[:-1, 0] + boxes[:-1, 2])
    assert np.all(gaps >= 1.0 * h) and np.all(gaps <= 1.4 * h), gaps / h
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    slope = -np.degrees(np.arctan(np.polyfit(centres[:, 0], centres[:, 1], 1)[0]))
    assert 4.0 <= slope <= 6.0, slope


def test_spaced_numbers_gaps(test_digits):
    _, truth = _scene("spaced_numbers", test_digits)
    assert len(truth["numbers"]) == 2
    boxes = np.array([d["box"] for d in truth["digits"]], np.float64)
    h = np.median(boxes[:, 3])
    gaps = (boxes[1:, 0] - (boxes[:-1, 0] + boxes[:-1, 2])) / h
    inner = np.delete(gaps, len(truth["numbers"][0]["text"]) - 1)
    between = gaps[len(truth["numbers"][0]["text"]) - 1]
    assert np.all((inner >= 0.08) & (inner <= 0.22)), inner  # 0.12-0.18 h as drawn, +-1 px of rounding
    assert 0.55 <= between <= 0.75, between


def test_dense_sheet_is_a_phone_photo_of_many_small_numbers(test_digits):
    image, truth = _scene("dense_sheet", test_digits)
    assert image.shape == (4000, 3000, 3)
    assert len(truth["numbers"]) >= 100
    heights = np.array([d["box"][3] for d in truth["digits"]])
    assert 40 <= np.median(heights) <= 60  # about 25 px had the photo been shrunk to 1920 px on its long side


def test_write_scene_and_the_cli_option(tmp_path, test_digits):
    import json

    from livedigits.cli.main import build_parser

    document = write_scene("spaced_numbers", tmp_path / "scene.png", seed=SEED, digits=test_digits)
    assert json.loads((tmp_path / "scene.json").read_text()) == document
    image = cv2.imread(str(tmp_path / "scene.png"))
    expected, truth = _scene("spaced_numbers", test_digits)
    assert np.array_equal(image, expected) and document["frames"][0] == truth
    assert (tmp_path / "scene_truth.png").is_file()
    args = build_parser().parse_args(["samples", "--scene", "operators", "--out", "x.png"])
    assert args.scene == "operators" and args.out == "x.png" and args.seed is None


def test_pen_trajectories_are_written_like_bitmaps():
    t = np.linspace(0, 2 * np.pi, 40, dtype=np.float32)
    one = (np.array([[3, 0], [0, 10]], np.float32),)
    zero = (np.stack([4 * np.cos(t), 6 * np.sin(t)], axis=1),)
    digits = StrokeDigits((one, zero), np.array([1, 0]))
    glyph = draw_strokes((zero[0] * 10,), 90, 3.0)
    assert glyph.ink[3] in (89, 90, 91) and 2.7 <= stroke_width(glyph.alpha) <= 3.6
    options = SceneOptions(size=(400, 200), lines=("10 01",), digit_height=80, pen_width=3, noise=0)
    image, truth = render(options, seed=0, digits=digits)
    assert [n["text"] for n in truth["numbers"]] == ["10", "01"]
    assert all(76 <= d["box"][3] <= 84 for d in truth["digits"])
    with pytest.raises(ValueError, match="one label per digit"):
        StrokeDigits((one,), np.array([1, 0]))

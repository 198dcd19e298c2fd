"""A blurred page is read once its blur is measured and taken out (``livedigits.vision.deblur``)."""

import cv2
import numpy as np
import pytest

from livedigits.vision.deblur import NOISE, Blur, Defocus, measure_blur, noise_term, restore


def _pale_ink_of(image):
    """The pale-ink measure of ``image`` as the segmentation takes it (``segment.measure_pale_ink``): its blur and
    the faint level it follows."""
    from livedigits.vision import segment as seg

    gray = seg.to_gray(image)
    paper = seg.estimate_paper(gray, seg.DEFAULT_CONFIG)
    clear, _ = seg.ink_against(gray, paper)
    return seg.measure_pale_ink(gray, paper, clear, seg.DEFAULT_CONFIG)


def _page(mnist_slice, ink=60.0, paper=220.0, squares=0):
    """Six MNIST test digits, 40 px tall, in pale ink on a light page (squared paper: grey 1 px lines every
    ``squares`` px); their boxes."""
    _, (xt, _) = mnist_slice
    page = np.full((360, 640), paper, np.float32)
    if squares:
        page[::squares, :] = page[:, ::squares] = paper - 20
    boxes = []
    for k in range(6):
        digit = cv2.resize(xt[k], (40, 40), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
        x, y = 40 + 95 * k, 150
        page[y: y + 40, x: x + 40] = page[y: y + 40, x: x + 40] * (1 - digit) + ink * digit
        ys, xs = np.nonzero(digit > 0.3)
        boxes.append((x + xs.min(), y + ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1))
    return page, boxes


@pytest.mark.parametrize("length, angle", [(10.0, 0.0), (8.0, 95.0), (12.0, 160.0)])
def test_a_streak_is_measured_along_its_direction_and_length(mnist_slice, length, angle):
    """A streak across the writing's slant is found, its length to 1.5 px and its direction to 10 degrees.
    (One along the slant of these six digits, 30-60 degrees, is taken for defocus: the tensor test's limit.)"""
    page, _ = _page(mnist_slice)
    streaked = cv2.filter2D(page, -1, Blur(length, angle).kernel()).astype(np.uint8)
    ink = cv2.compare(streaked, 180, cv2.CMP_LT)
    found = measure_blur(streaked, ink, 100)
    assert found is not None and abs(found.length - length) <= 1.5
    assert abs((found.angle - angle + 90) % 180 - 90) <= 10


def test_defocus_is_measured_and_is_no_streak(mnist_slice):
    """A page out of focus (sigma 2.2 px) is no streak: it is measured as defocus, its sigma to 0.5 px; the
    same page sharp is neither."""
    page, _ = _page(mnist_slice)
    soft = cv2.GaussianBlur(page, (0, 0), 2.2).astype(np.uint8)
    found = measure_blur(soft, cv2.compare(soft, 180, cv2.CMP_LT), 100)
    assert isinstance(found, Defocus) and abs(found.sigma - 2.2) <= 0.5
    sharp = page.astype(np.uint8)
    assert measure_blur(sharp, cv2.compare(sharp, 180, cv2.CMP_LT), 100) is None


def test_restoring_defocus_brings_the_digits_back(mnist_slice):
    """Out of focus by sigma 2.2 px, restored with the sigma measured: each digit nearer its sharp self, the
    paper at its level."""
    page, boxes = _page(mnist_slice)
    soft = np.clip(cv2.GaussianBlur(page, (0, 0), 2.2) + 0.5, 0, 255).astype(np.uint8)
    restored = restore(soft, measure_blur(soft, cv2.compare(soft, 180, cv2.CMP_LT), 100)).astype(np.float32)
    for x, y, w, h in boxes:
        sharp = page[y: y + h, x: x + w]
        assert np.abs(restored[y: y + h, x: x + w] - sharp).mean() < np.abs(soft[y: y + h, x: x + w] - sharp).mean() * 0.85
    assert abs(float(np.median(restored)) - 220) < 3


@pytest.mark.parametrize("seed", [9, 17])
def test_stress_pages_out_of_focus_are_read(seed):
    """``livedigits stress --phenomenon blur`` pages out of focus (sigma 2.5 px on 27-28 px digits): 14 of 20
    and 9 of 15 digits found, 6 of 10 and 3 of 6 numbers exact, read as they were; with the defocus measured
    and taken out, at least 90% of the digits and 80% of the numbers."""
    from livedigits import Reader
    from livedigits.bench.stress import row_scene, score_scene

    image, truth = row_scene("blur", seed)
    counts = score_scene(Reader()(image).to_record(), truth)
    assert counts["found"] >= 0.9 * counts["true_digits"]
    assert counts["exact_numbers"] >= 0.8 * counts["true_numbers"]


def test_a_striped_table_is_no_streak():
    """``mixed`` seed 5: a page out of focus on a table of diagonal stripes, whose ink is pale. The stripes'
    gradients all point one way, as a streak's would; measured on the writing alone, the page has no streak
    and is read (18 of its 21 digits, as before; 1 when the stripes were taken for a 15 px streak)."""
    from livedigits import Reader
    from livedigits.bench.stress import row_scene, score_scene

    image, truth = row_scene("mixed", 5)
    assert score_scene(Reader()(image).to_record(), truth)["found"] >= 0.8 * len(truth["digits"])


def test_restoring_a_streak_brings_the_digits_back(mnist_slice):
    """Under a 10 px streak the digits are smears; taken out, each digit is a quarter nearer its sharp self
    or more (the filter's noise term keeps it from undoing all), and the paper stays paper."""
    page, boxes = _page(mnist_slice)
    blur = Blur(10.0, 0.0)
    streaked = np.clip(cv2.filter2D(page, -1, blur.kernel()) + 0.5, 0, 255).astype(np.uint8)
    restored = restore(streaked, blur).astype(np.float32)
    for x, y, w, h in boxes:
        sharp = page[y: y + h, x: x + w]
        assert np.abs(restored[y: y + h, x: x + w] - sharp).mean() < np.abs(streaked[y: y + h, x: x + w] - sharp).mean() * 0.75
    assert abs(float(np.median(restored)) - 220) < 3


@pytest.mark.parametrize("seed", [24, 28, 29, 33, 38])
def test_stress_pages_smeared_by_motion_are_read(seed):
    """``livedigits stress --phenomenon blur`` pages under a 10-12 px streak of pencil-grey ink: 24 and 28 were
    read blank (0 of 17, 0 of 9 digits), 29 nearly (6 of 23). Most of their numbers are now read exactly.
    33 and 38, a 6 and an 8 px streak over darker ink whose edges along the streak stay sharp (found 8 of 14
    and 13 of 20, 3 of 8 and 1 of 6 numbers exact, while only pages with softer edges were measured)."""
    from livedigits import Reader
    from livedigits.bench.stress import row_scene, score_scene

    image, truth = row_scene("blur", seed)
    counts = score_scene(Reader()(image).to_record(), truth)
    assert counts["found"] >= 0.9 * counts["true_digits"]
    assert counts["exact_numbers"] >= 0.8 * counts["true_numbers"]


def test_a_sharp_page_is_not_restored():
    """A plain page is not measured blurred: its frame is read as it is."""
    from livedigits.bench.stress import row_scene

    image, _ = row_scene("none", 0)
    assert _pale_ink_of(image) is None


@pytest.mark.parametrize("squares", [16, 24])
def test_a_streak_on_squared_paper_is_still_measured_and_taken_out(mnist_slice, squares):
    """The paper's own squares repeat, a streak does not: a page streaked over squared paper is still a streak
    (its length to 1.5 px), and restored nearer its sharp self."""
    page, boxes = _page(mnist_slice, squares=squares)
    streaked = np.clip(cv2.filter2D(page, -1, Blur(10.0, 0.0).kernel()) + 0.5, 0, 255).astype(np.uint8)
    found = measure_blur(streaked, cv2.compare(streaked, 180, cv2.CMP_LT), 100)
    assert found is not None and abs(found.length - 10.0) <= 1.5 and abs((found.angle + 90) % 180 - 90) <= 10
    restored = restore(streaked, found).astype(np.float32)
    for x, y, w, h in boxes:
        sharp = page[y: y + h, x: x + w]
        assert np.abs(restored[y: y + h, x: x + w] - sharp).mean() < np.abs(streaked[y: y + h, x: x + w] - sharp).mean()


@pytest.mark.parametrize("row, seed", [("grid", 14), ("patterned_table", 35), ("patterned_table", 65)])
def test_a_printed_pattern_is_no_streak(row, seed):
    """Pale pages with no streak on squared paper (``grid`` 14) and on a table of checks or stripes
    (``patterned_table`` 35, 65): the pattern near the writing dips as a streak would, but repeats. Taken for a
    10.8-14.8 px streak and smeared, they read 3 of 16, 7 of 12 and 4 of 13 digits; read as they are, 14, 12
    and 13."""
    from livedigits import Reader
    from livedigits.bench.stress import row_scene, score_scene

    image, truth = row_scene(row, seed)
    counts = score_scene(Reader()(image).to_record(), truth)
    assert counts["found"] >= 0.85 * counts["true_digits"]
    assert counts["exact_numbers"] >= 0.5 * counts["true_numbers"]


def test_a_grainy_page_is_restored_with_a_noise_term_for_its_grain(mnist_slice):
    """Under a 10 px streak and sensor noise of 12 grey levels, the filter tuned on clean pages turns the grain
    into blotches: the page restored with the noise term for its grain is nearer its sharp self, digit by digit,
    than with the clean pages' term. A page no grainier than those keeps that term."""
    page, boxes = _page(mnist_slice)
    blur = Blur(10.0, 0.0)
    noise = np.random.default_rng(0).normal(0.0, 12.0, page.shape).astype(np.float32)
    grainy = np.clip(cv2.filter2D(page, -1, blur.kernel()) + noise + 0.5, 0, 255).astype(np.uint8)
    from livedigits.vision.segment import measure_grain

    grain = measure_grain(grainy)
    assert grain > 8 and noise_term(grain) > 3 * NOISE
    assert noise_term(0.0) == noise_term(4.2) == NOISE
    plain = restore(grainy, blur).astype(np.float32)
    matched = restore(grainy, blur, noise_term(grain)).astype(np.float32)
    for x, y, w, h in boxes:
        sharp = page[y: y + h, x: x + w]
        assert np.abs(matched[y: y + h, x: x + w] - sharp).mean() < np.abs(plain[y: y + h, x: x + w] - sharp).mean()


def test_a_noisy_page_under_a_streak_is_measured_and_read():
    """``mixed`` seed 67: small digits on a curled page of handwritten words, under a 9 px streak and sensor noise.
    The grain hid the streak (edges measured sharp, 0.26), so the page was read as it was: 78 of its 224 digits
    found. Measured on the photo smoothed a pixel either way, the streak is found (within 1.5 px and 10 degrees of
    the generator's 9.2 px at 93 degrees), taken out with the noise term for its grain, and at least 100 digits
    are found, nearly all of them on digits."""
    from livedigits import Reader
    from livedigits.bench.stress import row_scene, score_scene

    image, truth = row_scene("mixed", 67)
    pale = _pale_ink_of(image)
    assert pale is not None and isinstance(pale.blur, Blur)
    assert abs(pale.blur.length - 9.2) <= 1.5 and abs((pale.blur.angle - 93 + 90) % 180 - 90) <= 10
    counts = score_scene(Reader()(image).to_record(), truth)
    assert counts["found"] >= 100
    assert counts["found"] >= 0.75 * (counts["detections"] - counts["on_printed"])


def test_a_streak_on_a_form_is_measured_on_its_digits_not_its_print():
    """``mixed`` seed 233: a form in perspective on a dark table (a printed heading, a comb of boxes, capitals in
    boxes, two handwritten digits) under a 9.5 px streak at 140 degrees. Measured over every piece shorter than a
    line, the print's and the boxes' straight strokes set the direction: 4.8 px at 175 degrees, taken out, and the
    page read blank (0 of its 8 digits found, 3 letters read as digits). The streak found is measured again on the
    pieces shaped like digits (``segment._writing_of``): within 1 px and 6 degrees of the generator's, and half of
    the digits are read."""
    from livedigits import Reader
    from livedigits.bench.stress import row_scene, score_scene

    image, truth = row_scene("mixed", 233)
    pale = _pale_ink_of(image)
    assert pale is not None and isinstance(pale.blur, Blur)
    assert abs(pale.blur.length - 9.5) <= 1.0 and abs((pale.blur.angle - 140 + 90) % 180 - 90) <= 6
    counts = score_scene(Reader()(image).to_record(), truth)
    assert not counts["blank"]
    assert counts["found"] >= 3


def test_a_sharp_noisy_page_is_not_restored():
    """``noise`` pages (sharp, 7-16 grey levels of sensor noise) smoothed for the measure are still not blurred:
    no streak nor defocus is taken out of them."""
    from livedigits.bench.stress import row_scene

    for seed in (0, 1, 2, 3):
        pale = _pale_ink_of(row_scene("noise", seed)[0])
        assert pale is None or pale.blur is None


def test_a_sharp_grainy_page_of_pale_ink_is_not_read_blank():
    """A sharp ruled page of blue ink on blue paper under 18 grey levels of sensor noise (``stress --other-hands``,
    ``mixed`` seed 14: a notebook list of entries and a form): the noise frays the clear ink's edges, so the page
    measured soft-edged and pale, and its faint ink was followed down to 18% darker than the paper, two grains:
    bare paper joined into a web over the page. Written in Klee One (21 hands installed) 7% of its 81 digits were
    found, a blank page; in Kaushan Script (the twelve hands drawn here) 12 of 81. The faint level now stays three
    grains above the paper (``segment.GRAIN_FAINT``): the page is read as it is, 58 of 81 found."""
    from pathlib import Path

    from livedigits import Reader
    from livedigits.bench.stress import row_scene, score_scene
    from livedigits.train.writers import OTHER_HANDS
    from livedigits.vision import segment as seg

    # The page as drawn where the first twelve hands were installed (fonts-bwht to fonts-dkg-handwriting): the
    # hand is drawn from the fonts present, so another set draws another page.
    hands = tuple(path for _, path in OTHER_HANDS[:12])
    if not all(Path(path).is_file() for path in hands):
        pytest.skip("Debian's handwriting fonts are not installed")
    image, truth = row_scene("mixed", 14, hands=hands)
    gray = seg.to_gray(image)
    paper = seg.estimate_paper(gray, seg.DEFAULT_CONFIG)
    assert paper.grain >= seg.SMOOTH_GRAIN
    clear, _ = seg.ink_against(gray, paper)
    pale = seg.measure_pale_ink(gray, paper, clear, seg.DEFAULT_CONFIG)
    under = float(np.median(paper.limit[clear > 0])) / (1.0 - seg.DEFAULT_CONFIG.ink_contrast)
    assert pale is None or pale.share >= seg.GRAIN_FAINT * paper.grain / under
    counts = score_scene(Reader()(image).to_record(), truth)
    assert not counts["blank"]
    assert counts["found"] >= 0.5 * counts["true_digits"]


def test_pencil_out_of_focus_in_a_table_is_read_again_fainter():
    """Pencil out of focus (2.6 px) in a printed table and below it (``stress``, ``mixed`` seed 98): restored, the
    pencil still reaches the clear ink level (30% darker than the paper) in a few pixels only, and 5 of its 71
    digits were found from 25 pieces, a blank page. A frame whose pieces read (nearly) nothing is read again at
    fainter levels (``recognizer.reads_blank``, ``FAINTER_LEVELS``), and the reading with more digits is kept:
    more than a tenth of them found, not blank. A plain page reads as before, at no cost: it is not read again."""
    from livedigits import Reader
    from livedigits.bench.stress import row_scene, score_scene

    reader = Reader()
    image, truth = row_scene("mixed", 98)
    result = reader(image)
    assert "segment.fainter" in result.timings
    counts = score_scene(result.to_record(), truth)
    assert not counts["blank"]
    assert counts["found"] >= 8
    plain, truth = row_scene("none", 3)
    result = reader(plain)
    assert "segment.fainter" not in result.timings
    counts = score_scene(result.to_record(), truth)
    assert counts["found"] == counts["true_digits"] > 0


def test_a_fainter_reading_that_only_adds_texture_is_not_kept():
    """The fainter reading is kept for the ink it brings up, not for texture: ``mixed`` 98 read 5 digits from 24
    pieces and, fainter, 8 from 34 (kept); ``mixed`` 175 read 45 from 228 and, fainter, 67 from 708, grain and paper
    texture taken for ink (8 fewer true digits found: not kept); a gain of two digits is no reason either."""
    from livedigits.reading.recognizer import reads_more

    assert reads_more(8, 34, 5, 24)
    assert not reads_more(67, 708, 45, 228)
    assert not reads_more(7, 24, 5, 24)


def _with_printed_labels(image):
    """``image`` with six bold printed labels along its top (a form's heading: "Remarks:", "Total:", ...) in near-black
    ink, smeared along their line so that each word's letters run into one piece, as a streak or a heavy face runs them
    (other hands ``mixed`` seed 47's "Remarks:")."""
    layer = np.full(image.shape[:2], 255, np.uint8)
    for k, word in enumerate(("Remarks:", "Total:", "Name:", "Date:", "Signed:", "Checked:")):
        cv2.putText(layer, word, (20 + 300 * (k % 3), 30 + 30 * (k // 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 3,
                    cv2.LINE_AA)
    layer = cv2.blur(layer, (9, 1))
    return (image.astype(np.float32) * (layer[..., None] / 255.0)).astype(np.uint8)


def test_pale_writing_beside_bold_print_is_measured_on_the_writing():
    """A page of pale ink (``stress``, ``ink_colour`` seed 2: 12 digits, measured pale, its faint level 0.134) with bold
    printed labels along its top: the print is the page's clearest ink, with the sharpest edges, so its whole ink is
    not pale, and the digits' fading strokes were cut off at the usual faint level (7 of 12 found). The writing's own
    pieces (``segment._writing_of``: the print holds most of the ink) are measured instead: the same faint level as
    without the print, within 0.01, and every digit found, none of the print read."""
    from livedigits import Reader
    from livedigits.bench.stress import row_scene, score_scene

    image, truth = row_scene("ink_colour", 2)
    alone = _pale_ink_of(image)
    assert alone is not None
    printed = _with_printed_labels(image)
    pale = _pale_ink_of(printed)
    assert pale is not None and abs(pale.share - alone.share) <= 0.01
    counts = score_scene(Reader()(printed).to_record(), truth)
    assert counts["found"] == counts["true_digits"] == 12
    assert counts["detections"] == 12

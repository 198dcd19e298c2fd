"""Forms: handwriting in printed boxes (``vision.fields``, ``reading.words``). A comb of boxes is one field
whose box sides are no digits; block capitals in a field are a word, not digits; a field of digits is
read."""

import cv2
import numpy as np
import pytest

from livedigits.bench.stress import pipeline_reader, score_scene
from livedigits.reading.words import word_glyphs
from livedigits.synth.stress import stress_scene
from livedigits.types import NOT_A_DIGIT, Box
from livedigits.vision.segment import segment
from helpers_reading import class_rows

SIDE = 56  # a comb's box, pixels


def _comb(mnist_slice, count=6, touching=(1, 4)):
    """A form on white paper: a printed label and a comb of ``count`` boxes (2 px rules), one MNIST digit
    written in each, those at ``touching`` pushed against their box's right side."""
    _, (xt, yt) = mnist_slice
    page = np.full((300, 640), 230, np.uint8)
    cv2.putText(page, "Phone:", (20, 150), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 25, 2, cv2.LINE_AA)
    x0, y0 = 140, 110
    for k in range(count):
        cv2.rectangle(page, (x0 + k * SIDE, y0), (x0 + (k + 1) * SIDE, y0 + SIDE), 25, 2)
    for k in range(count):
        alpha = cv2.resize(xt[k], (44, 44), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
        ys, xs = np.nonzero(alpha > 0.3)
        # Centred in its box, or with its ink's right edge on the box's right rule.
        dx = x0 + k * SIDE + (SIDE - 44) // 2 if k not in touching else x0 + (k + 1) * SIDE - 1 - xs.max()
        region = page[y0 + 6: y0 + 50, dx: dx + 44].astype(np.float32)
        page[y0 + 6: y0 + 50, dx: dx + 44] = np.minimum(region, region * (1 - alpha) + 30 * alpha).astype(np.uint8)
    return page, [int(v) for v in yt[:count]], (x0, y0)


def test_a_comb_of_boxes_is_one_field_and_its_sides_are_no_digits(mnist_slice):
    page, _, (x0, y0) = _comb(mnist_slice)
    found = segment(page)
    comb = [f for f in found.fields if f.h < 2 * SIDE]
    assert len(comb) == 1, f"one comb, one field: {found.fields}"
    assert comb[0].x <= x0 + 4 and comb[0].x2 >= x0 + 6 * SIDE - 4
    boxed = sorted((c.box for c in found.candidates if c.box.x2 > x0 - 4 and y0 <= c.box.y + c.box.h / 2 <= y0 + SIDE),
                   key=lambda b: b.x)  # the label "Phone:" aside
    # One glyph a box, each within it: no side of a box (a hairline read as a 1) and no digit cut in two.
    assert len(boxed) == 6, boxed
    for k, box in enumerate(boxed):
        assert x0 + k * SIDE <= box.x and box.x2 <= x0 + (k + 1) * SIDE, (k, box)
        assert box.w >= 0.2 * box.h, f"a hairline in box {k}: {box}"


def test_the_digits_of_a_comb_are_read_those_touching_their_box_too(mnist_slice):
    page, labels, _ = _comb(mnist_slice)
    record = pipeline_reader()(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR))
    read = "".join(str(d["digit"]) for d in sorted(record["detections"], key=lambda d: d["box"][0]))
    assert read == "".join(map(str, labels))


def _glyphs(xs, height=40):
    return [Box(int(x), 100, 26, height) for x in xs]


_probabilities = class_rows


def test_block_capitals_spaced_along_a_box_are_one_word():
    # "OSLO" written to fill a long box: a capital every 1.5 heights, too far apart for a run; the S and
    # the L read surely as no digit, the two O's as 0.
    boxes = _glyphs([110, 170, 230, 290])
    probabilities = _probabilities([(0, 0.9), (NOT_A_DIGIT, 0.8), (NOT_A_DIGIT, 0.95), (0, 0.9)])
    field = Box(100, 92, 230, 56)
    assert word_glyphs(boxes, probabilities, 0.5) == set(), "no run joins glyphs so far apart"
    assert word_glyphs(boxes, probabilities, 0.5, fields=[field]) == {0, 1, 2, 3}


def test_a_field_of_digits_stays_digits():
    # A date in a comb: one digit, touching its box, read as "not a digit" at 0.75; the rest surely digits.
    boxes = _glyphs([110, 166, 222, 278, 334, 390])
    probabilities = _probabilities([(0, 0.95), (6, 0.9), (NOT_A_DIGIT, 0.75), (1, 0.99), (2, 0.9), (0, 0.97)])
    comb = Box(100, 92, 340, 56)
    assert word_glyphs(boxes, probabilities, 0.5, fields=[comb]) == set()


def test_a_capital_reaching_past_its_box_s_rule_is_of_its_field():
    # (session 24, issue 19) "LEIGH" along a name's box, the G's top crossing the box's top rule: 70 px tall in a
    # 56 px field, its centre inside (words.FIELD_REACH). Read as 6, it was left out of the field and read alone.
    field = Box(100, 92, 330, 56)
    boxes = _glyphs([110, 170, 230, 290, 350])
    boxes[3] = Box(290, 70, 30, 70)
    probabilities = _probabilities([(NOT_A_DIGIT, 0.95), (NOT_A_DIGIT, 0.97), (1, 0.9), (6, 0.99), (NOT_A_DIGIT, 0.9)])
    assert word_glyphs(boxes, probabilities, 0.5, fields=[field]) == {0, 1, 2, 3, 4}
    # A glyph more than twice the box's height crosses both its rules: written across the box, not in it.
    boxes[3] = Box(290, 45, 30, 120)
    assert word_glyphs(boxes, probabilities, 0.5, fields=[field]) == {0, 1, 2, 4}


# A generated form whose name "LEIGH" along a long box has its G crossing the box's top rule: read as a 6 before
# session 24 (words.FIELD_REACH), now no letter read and every digit of the page found and read right.
def test_a_generated_form_s_capital_crossing_its_box_s_rule_is_not_read_as_a_digit(read):
    from livedigits.bench.stress import row_scene

    image, truth = row_scene("boxes", 71)
    counts = score_scene(read(image), truth)
    assert counts["on_letters"] == 0
    assert counts["found"] == counts["right"] == counts["detections"] == len(truth["digits"]) == 18


def test_a_generated_form_s_box_bitten_at_a_corner_by_its_digit_is_no_sheared_box(read):
    # ``boxes`` seed 43: a digit touching its box's corner cuts the hole's hull into a trapezoid with two right
    # angles, which ``PARALLEL`` alone took for a box seen in perspective: the box was whole, and the digit, no
    # longer cut out of a bitten box, was lost. A sheared box has no right corner (``fields.SHEARED``).
    from livedigits.bench.stress import row_scene

    image, truth = row_scene("boxes", 43)
    counts = score_scene(read(image), truth)
    assert counts["found"] == counts["true_digits"] == 18, f"{counts['found']} of {counts['true_digits']} digits found"


@pytest.fixture(scope="module")
def read():
    return pipeline_reader()


# Generated forms (``livedigits stress --phenomenon boxes``) whose box sides, and block capitals in boxes
# (seed 5: "OSLO" and "LOIS"), were read as digits before.
@pytest.mark.parametrize("seed", [1, 5])
def test_a_generated_form_reads_its_digit_fields_and_nothing_else(read, seed):
    image, truth = stress_scene(seed, only=("boxes",))
    counts = score_scene(read(image), truth)
    assert counts["found"] == counts["true_digits"], f"{counts['found']} of {counts['true_digits']} digits found"
    assert counts["detections"] == counts["found"], f"{counts['detections'] - counts['found']} read off the digits"


def test_live_video_keeps_the_fields_of_its_anchor_frame(mnist_slice):
    # Later frames of a still view take the anchor's lines out without searching: they see the comb's
    # rules gone, so the fields come from the anchor, moved with the view.
    page, _, _ = _comb(mnist_slice)
    first = segment(page, remember=True)
    second = segment(page, memory=first.view, remember=True)
    assert second.view.age == 1, "the second frame was estimated afresh: nothing was carried"
    assert second.fields == first.fields
    assert [c.box for c in second.candidates] == [c.box for c in first.candidates]


def _boxes_page(mnist_slice):
    """A form on white paper: four empty boxes set apart (a comb left blank), two empty check boxes, and two
    boxes standing alone holding an MNIST digit each, one clear of its rules and one touching its right rule."""
    _, (xt, yt) = mnist_slice
    page = np.full((360, 720), 230, np.uint8)
    for k in range(4):
        x = 60 + k * (SIDE + 12)
        cv2.rectangle(page, (x, 40), (x + SIDE, 40 + SIDE), 25, 2)
    for x in (400, 520):
        cv2.rectangle(page, (x, 50), (x + 40, 90), 25, 2)
    held = []
    for k, (x, touching) in enumerate(((100, False), (300, True))):
        y = 200
        cv2.rectangle(page, (x, y), (x + SIDE, y + SIDE), 25, 2)
        alpha = cv2.resize(xt[k], (44, 44), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
        xs = np.nonzero(alpha > 0.3)[1]
        dx = x + (SIDE - 44) // 2 if not touching else x + SIDE - 1 - xs.max()
        region = page[y + 6: y + 50, dx: dx + 44].astype(np.float32)
        page[y + 6: y + 50, dx: dx + 44] = np.minimum(region, region * (1 - alpha) + 30 * alpha).astype(np.uint8)
        held.append((x, int(yt[k])))
    return page, held


def test_an_empty_printed_box_reads_nothing_and_a_digit_in_a_box_reads(mnist_slice, read):
    page, held = _boxes_page(mnist_slice)
    record = read(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR))
    top = [d for d in record["detections"] if d["box"][1] < 150]
    assert top == [], f"empty boxes read as digits: {top}"
    below = sorted((d for d in record["detections"] if d["box"][1] >= 150), key=lambda d: d["box"][0])
    assert [d["digit"] for d in below] == [label for _, label in held], below
    for d, (x, _) in zip(below, held):
        # The glyph alone, not its box: inside the box's rules.
        assert x < d["box"][0] and d["box"][0] + d["box"][2] < x + SIDE, d


def _numbers_exact(record: dict, truth: dict) -> list[str]:
    """The true numbers of a scene read exactly: a number read with the same text, its box overlapping."""
    read = [(n["text"], Box(*n["box"])) for n in record["numbers"]]
    return [t["text"] for t in truth["numbers"]
            if any(text == t["text"] and box.iou(Box(*t["box"])) >= 0.5 for text, box in read)]


@pytest.fixture(scope="module")
def read_combs():
    """``read`` with ``[reading] combs = true``: a comb of boxes read as one number."""
    from livedigits.classify.backends import load_classifier
    from livedigits.reading.numbers import ReadingConfig
    from livedigits.reading.recognizer import Recognizer
    from livedigits.types import Frame

    classifier = load_classifier("auto")

    def read(image):
        recognizer = Recognizer(classifier, smooth=False, reading_config=ReadingConfig(combs=True))
        return recognizer.process(Frame(0, 0.0, image)).to_record()

    return read


def test_the_digits_of_a_comb_are_one_number(mnist_slice, read, read_combs):
    # A comb's boxes stand a pitch apart, wider than a writer's space: each digit was a number of its own.
    page, labels, _ = _comb(mnist_slice)
    record = read_combs(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR))
    assert [n["text"] for n in record["numbers"]] == ["".join(map(str, labels))]
    # The default, [reading] combs = false: read by their spacing, as any digits.
    record = read(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR))
    assert [n["text"] for n in record["numbers"]] == [str(d) for d in labels]


# Generated forms whose combs each read as single digits before (seed 1: three combs), and whose comb fell
# apart around a box a glyph cut in two (seed 10: "184549" read 184, 151, 49, the box's sides as 1s; seed 31:
# the first two boxes, and one between, no box's hole, "5235789" read 512 and 35789).
@pytest.mark.parametrize("seed", [1, 10, 31])
def test_a_generated_form_reads_each_comb_of_digits_as_one_number(read_combs, seed):
    image, truth = stress_scene(seed, only=("boxes",))
    record = read_combs(image)
    assert _numbers_exact(record, truth) == [t["text"] for t in truth["numbers"]], [n["text"] for n in record["numbers"]]



def _square(x, y, side=62):
    """A hole of the ink mask: a printed square's inside, ``side`` pixels, its top left at ``(x, y)``."""
    return np.array([[[x, y]], [[x + side, y]], [[x + side, y + side]], [[x, y + side]]], np.int32)


def _lines(sides=(), rows=()):
    """A ``LineBands`` as the line search gives it: vertical lines ``(x, top, bottom)``, horizontal ones
    ``(y, left, right)``, each its path."""
    from livedigits.vision.lines import Band, LineBands

    def band(spans, vertical):
        paths = tuple(np.array([[a, b] if vertical else [b, a] for b in range(start, stop + 1, 4)], np.float64)
                      for a, start, stop in spans)
        return Band(np.zeros((720, 1280), np.uint8), 11, 2, vertical, ((0, 1280),), paths=paths)

    return LineBands((band(rows, False), band(sides, True)), 56.0)


def test_squares_of_a_grid_whose_lines_run_on_both_ways_are_no_comb():
    # Worksheet 29054 on squared paper (issue 19/21, session 23): two squares under a handwritten 8, closed in
    # the mask where the rest of the faint grid was not, were taken for a comb of two boxes; the 8 stood on
    # their top rule, between them, and went as a side of a box ("57+24=81" read "57+24=1").
    from livedigits.vision.fields import find_fields

    holes = [_square(968, 366), _square(1031, 366)]
    fields, cells = find_fields(holes, 56.0)
    assert len(fields) == 1 and all(c.single for c in cells), "with no lines known, two boxes side by side are a comb"
    # The grid's lines as the line search found them there: both ways, they run on past the squares.
    grid = dict(sides=[(968, 280, 482), (1030, 376, 498)], rows=[(366, 870, 1170), (428, 926, 1290)])
    assert find_fields(holes, 56.0, _lines(**grid)) == ([], [])
    # A form's rules end at its boxes: the sides of combs stacked one under another, chained into one vertical
    # line (the generated form of ``boxes`` seed 19), leave a comb whose top and bottom rules end with it.
    fields, cells = find_fields(holes, 56.0, _lines(sides=grid["sides"], rows=[(365, 966, 1095), (429, 966, 1095)]))
    assert len(fields) == 1 and len(cells) == 2
    fields, cells = find_fields(holes, 56.0, _lines(rows=grid["rows"]))
    assert len(fields) == 1 and len(cells) == 2


def _outline(points) -> np.ndarray:
    """A hole's contour through ``points`` (``(x, y)``), one pixel apart, as ``cv2.findContours`` gives it."""
    mask = np.zeros((200, 400), np.uint8)
    cv2.fillConvexPoly(mask, np.array(points, np.int32), 1)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return contours[0]


def test_boxes_seen_on_a_page_tilted_away_from_the_camera_are_a_comb(monkeypatch):
    # Session 24 (issue 19): a page tilted away from the camera shears its boxes into parallelograms, filling their
    # rotated rectangle by 0.85 or so (the combs of ``mixed`` seed 83), and they were no boxes: the comb's block
    # capitals were read as digits one by one. A parallelogram fills the quadrilateral around it as a rectangle
    # fills its own; an oval loop does not, nor a triangle (a box's corner cut off by a stroke).
    import livedigits.vision.fields as fields_module

    sheared = [_outline([(20 + 50 * k, 40), (62 + 50 * k, 40), (76 + 50 * k, 84), (34 + 50 * k, 84)]) for k in range(3)]
    fields, cells = fields_module.find_fields(sheared, 30.0)
    assert len(fields) == 1 and len(cells) == 3 and all(c.single for c in cells), (fields, cells)
    oval = _outline(cv2.ellipse2Poly((60, 60), (20, 22), 20, 0, 360, 5))
    triangle = _outline([(20, 40), (70, 40), (20, 84)])
    assert fields_module.find_fields([oval, triangle], 30.0) == ([], [])
    monkeypatch.setattr(fields_module, "PARALLEL", 0.0)
    assert fields_module.find_fields(sheared, 30.0) == ([], []), "a parallelogram is no rectangle"


def test_a_generated_form_in_perspective_reads_its_combs(read):
    # ``livedigits stress --phenomenon mixed`` seed 83: forms on a page tilted away from the camera (and curled, in
    # shade). Its combs "9160" and "OSLO" were no fields: "SLO" was read 5, 9, 0, and "9160" read 9, 8, 0 (each
    # digit read with its box's rules, the 6 an 8, the 1 lost); now every digit of the page is read right.
    from livedigits.bench.stress import row_scene

    image, truth = row_scene("mixed", 83)
    counts = score_scene(read(image), truth)
    assert counts["right"] == counts["true_digits"] == 28, counts
    assert counts["exact_numbers"] == counts["true_numbers"], counts
    assert counts["on_letters"] <= 6, f"{counts['on_letters']} letters read as digits (9 before)"


def _ruled_form(stacked=False):
    """A mask (ink 255) holding a comb of four 40 px boxes (2 px rules, 6 px apart), capitals crossing the rules of
    all but the second (a slanted stroke from above its top rule to below its bottom one), and the holes of the mask
    (``cv2.RETR_CCOMP``' inner contours): only the second box is a hole. ``stacked``: a second row of boxes right
    under the first, sharing its rules, as a printed table's."""
    mask = np.zeros((200, 320), np.uint8)
    rows = (40, 80) if stacked else (40,)
    for y in rows:
        for k in range(4):
            x = 40 + 46 * k
            cv2.rectangle(mask, (x, y), (x + 41, y + 41), 255, 2)
    for k in (0, 2, 3):
        x = 40 + 46 * k
        cv2.line(mask, (x + 6, 30), (x + 34, 92), 255, 3)  # a capital's stroke: the inside cut in two trapezoids
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    holes = [c for c, h in zip(contours, hierarchy[0]) if h[3] >= 0]
    return mask, holes


def test_a_comb_whose_capitals_cross_its_rules_is_found_by_its_rules():
    # Session 25 (issue 19): capitals larger than their boxes cross the rules and leave no hole in their boxes; the
    # one box a letter stands clear of was a field alone, its neighbours' sides read 1 beside the capitals read as
    # digits ("ISLA" read 1151). The rules are still in the mask: the found box's ring, moved one pitch on, lands on
    # ink (``fields.RULED``).
    from livedigits.vision.fields import find_fields

    mask, holes = _ruled_form()
    fields, cells = find_fields(holes, 30.0)
    assert len(fields) == 1 and len(cells) == 1 and not cells[0].single, "without the mask: one box alone"
    fields, cells = find_fields(holes, 30.0, mask=mask)
    assert len(fields) == 1 and len(cells) == 4 and all(c.single for c in cells), (fields, cells)
    # Each box made where its rules are: the found box's inside moved on by the pitch, 46 px.
    assert sorted(c.box for c in cells) == [(41 + 46 * k, 41, 40, 40) for k in range(4)]
    # A box with a box of the same print right under it is a table's cell: no comb is made from it.
    mask, holes = _ruled_form(stacked=True)
    assert [c.box for c in find_fields(holes, 30.0, mask=mask)[1]] == [c.box for c in find_fields(holes, 30.0)[1]]


def test_a_generated_comb_whose_capitals_cross_its_rules_reads_no_letter_and_no_box_side(read):
    # ``boxes`` seed 46: "ISLA" in a comb whose I, L and A cross their boxes' rules read 1151 (two capitals and the
    # boxes' sides): main read 2 letters and 23 detections for the page's 16 digits.
    from livedigits.bench.stress import row_scene

    image, truth = row_scene("boxes", 46)
    counts = score_scene(read(image), truth)
    assert counts["on_letters"] == 0, counts
    assert counts["found"] == counts["right"] == counts["detections"] == counts["true_digits"] == 16, counts


def test_a_generated_comb_of_which_every_other_box_is_a_hole_reads_its_digits(read):
    # ``boxes`` seed 20: "52660" in a comb of joined boxes of which only every other one is a hole (its digits
    # touch their rules): those boxes were each a field alone, and two of the comb's digits with the glyphs of
    # another comb were lost (main: 8 of the page's 13 digits found).
    from livedigits.bench.stress import row_scene

    image, truth = row_scene("boxes", 20)
    counts = score_scene(read(image), truth)
    assert counts["found"] == counts["right"] == counts["true_digits"] == 13, counts

"""The page found as a page (``vision.page``), and what the segmentation makes of it: digits inside a
ring of ink or on a patterned table are read, and nothing off the page is."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits.bench.stress import pipeline_reader, score_scene
from livedigits.synth.stress import stress_scene
from livedigits.vision.page import find_page
from livedigits.vision.segment import DEFAULT_CONFIG, estimate_paper, segment, shrink_for_paper, to_gray

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

SMALL = (160, 120)  # the shrunk frame the paper estimate works on (640x480 / 4, 960x720 / 6)


def _checks(cell=6, dark=40, light=235):
    """A check-patterned table at the shrunk size: light checks as bright as paper."""
    yy, xx = np.mgrid[0:SMALL[1], 0:SMALL[0]]
    return np.where(((xx // cell + yy // cell) % 2) == 0, light, dark).astype(np.uint8)


def _sheet(frame, corners, paper=225, writing=True):
    """Draw a sheet (a filled quadrilateral) on ``frame`` with a few dark strokes of writing on it."""
    cv2.fillConvexPoly(frame, np.int32(corners), paper)
    if writing:
        x0, y0 = np.int32(corners).min(axis=0) + 12
        for k in range(5):
            cv2.putText(frame, "4", (int(x0) + 9 * k, int(y0) + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 60, 1)
    return frame


def _inside(mask, corners, shrink=3):
    """Share of the sheet (shrunk by a few pixels) that the mask covers, and share of the rest it covers."""
    sheet = np.zeros_like(mask)
    cv2.fillConvexPoly(sheet, np.int32(corners), 1)
    core = cv2.erode(sheet, np.ones((2 * shrink + 1, 2 * shrink + 1), np.uint8))
    rest = cv2.dilate(sheet, np.ones((2 * shrink + 1, 2 * shrink + 1), np.uint8)) == 0
    return mask[core > 0].mean(), mask[rest].mean()


TILTED = [(30, 18), (128, 10), (136, 100), (36, 108)]


@pytest.mark.parametrize("table", ["checks", "dark", "wood"])
def test_a_sheet_on_a_table_is_found_and_the_table_is_not(table):
    if table == "checks":
        frame = _checks()
    elif table == "dark":
        frame = np.full(SMALL[::-1], 30, np.uint8)
    else:  # brown wood at half the paper's brightness, with the seams between planks
        frame = np.full(SMALL[::-1], 110, np.uint8)
        frame[:, ::37] = 55
    frame = _sheet(frame, TILTED)
    page = find_page(frame)
    assert page is not None, "no page found on a plain view of a sheet on a table"
    on_sheet, off_sheet = _inside(page, TILTED)
    assert on_sheet == 1.0  # nothing of the sheet, writing included, is cut away
    assert off_sheet < 0.05  # and the table is left out


def test_a_sheet_filling_the_view_is_not_cut():
    frame = _sheet(np.full(SMALL[::-1], 225, np.uint8), [(0, 0), (159, 0), (159, 119), (0, 119)])
    assert find_page(frame) is None
    # A hard shadow across half of it (the shaded half darker, a sharp edge between), writing on both
    # halves: still one sheet.
    for k in range(5):
        cv2.putText(frame, "7", (95 + 9 * k, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 60, 1)
    frame[:, 80:] = frame[:, 80:] // 2
    page = find_page(frame)
    assert page is None or page[10:110, 85:155].all(), "the shaded half of the sheet was cut away"


def test_a_printed_table_filling_the_view_is_not_taken_for_the_page():
    frame = np.full(SMALL[::-1], 225, np.uint8)
    for x in range(0, 160, 32):  # the rules of a printed table whose cells are the size of a page's part
        cv2.line(frame, (x, 0), (x, 119), 40, 1)
    for y in range(0, 120, 30):
        cv2.line(frame, (0, y), (159, y), 40, 1)
    page = find_page(frame)
    assert page is None or page.mean() > 0.97


@pytest.mark.parametrize("case", ["label", "second sheet"])
def test_paper_going_on_beyond_the_sheet_is_kept(case):
    """A label stuck across the sheet's edge, or a second sheet showing from under the first, is paper:
    the writing on it beyond the first sheet's edge is not cut away as table."""
    frame = np.full(SMALL[::-1], 30, np.uint8)
    if case == "label":
        _sheet(frame, TILTED)
        frame[60:70, 100:156] = 245  # too thin to be a region of its own, reaching 20 px past the edge
        cv2.putText(frame, "12", (140, 68), cv2.FONT_HERSHEY_SIMPLEX, 0.25, 40, 1)
        beyond = (slice(61, 69), slice(138, 155))
    else:
        cv2.fillConvexPoly(frame, np.int32([(60, 30), (141, 24), (146, 96), (64, 104)]), 220)
        _sheet(frame, TILTED)
        cv2.putText(frame, "7", (136, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.3, 60, 1)
        beyond = (slice(40, 80), slice(138, 142))
    page = find_page(frame)
    assert page is not None, "no page found on a plain view of a sheet on a table"
    assert page[beyond].all(), "the paper beyond the sheet's edge was cut away"
    assert on_table(page, frame) < 0.05, "the table was taken for paper"


def test_a_label_across_the_top_of_a_photographed_page_is_paper():
    """samples/page.png with a white label stuck along the sheet's top edge, reaching past both of its
    sides, "Total" printed at its left end: all of the label is page, the table around is not."""
    image = cv2.imread(str(SAMPLES / "page.png"))
    image[70:160, 40:1240] = 255
    cv2.putText(image, "Total", (50, 150), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (20, 20, 20), 4, cv2.LINE_AA)
    small, _ = shrink_for_paper(to_gray(image), DEFAULT_CONFIG)
    page = find_page(small, DEFAULT_CONFIG.min_paper)
    assert page is not None
    label = (slice(70 // 8 + 1, 160 // 8 - 1), slice(40 // 8 + 1, 1240 // 8 - 1))  # shrunk 8 times
    assert page[label].all(), "the ends of the label beyond the sheet were cut away"
    assert not page[:, :4].any() and not page[-4:].any(), "the table beside and below the sheet was taken for paper"


def on_table(page, frame, dark=60):
    """Share of the plain table (dark, away from every sheet) that the page mask covers."""
    table = cv2.erode((frame < dark).astype(np.uint8), np.ones((7, 7), np.uint8))
    return page[table > 0].mean()


@pytest.fixture(scope="module")
def read():
    """What ``livedigits run IMAGE`` reads from a still (the shipped model)."""
    return pipeline_reader()


def _found_and_nothing_else(read, image, truth, at_least=0, digits=None, share=0.0) -> None:
    """Reads ``image`` and checks that ``at_least`` of its digits are found, and ``share`` of them (and that it holds
    ``digits``, where given), and that nothing is read off them."""
    counts = score_scene(read(image), truth)
    if digits is not None:
        assert counts["true_digits"] == digits
    assert counts["found"] >= max(at_least, share * counts["true_digits"]), f"{counts['found']} of {counts['true_digits']} digits found"
    assert counts["detections"] == counts["found"], f"{counts['detections'] - counts['found']} read off the digits"


# Seeds that read as blank pages or read the table before (a patterned table whose checks join into
# one piece around the page; a wood table whose seams and grain were read as 1s).
@pytest.mark.parametrize("phenomenon,seed", [("patterned_table", 11), ("patterned_table", 15), ("wood", 17),
                                             ("dark_table", 3)])
def test_a_page_on_a_table_reads_its_digits_and_nothing_off_the_page(read, phenomenon, seed):
    image, truth = stress_scene(seed, only=(phenomenon,))
    _found_and_nothing_else(read, image, truth, share=0.9)


def test_digits_written_near_the_page_edge_are_not_taken_for_its_rim(read):
    """``mixed`` seed 24: a form on a page on a patterned table, in shade and under noise, its first comb of digits
    10-15 px below the page's top edge. Beyond a digit's side that lies in the shrunk pixel just outside the page found
    (eroded by one), the frame as bright as paper is paper: the comb's digits were dropped as off the page (5 of 11
    found; 9 now), and still nothing off the page is read."""
    image, truth = stress_scene(24)
    _found_and_nothing_else(read, image, truth, 8, digits=11)


def test_a_page_corner_in_shade_and_shadow_is_paper_not_the_shaded_table(read):
    """``mixed`` seed 93: a dense page on a dotted table, its lower right corner under both the shade and a hand's
    shadow, darker than ``min_paper`` and one dark area with the shaded table beyond the page's edge. The envelope
    finds no step along that edge in the shade, so the whole area was table and its 47 digits off the page (219 of
    285 found). Parted at the sheet's border (``page.edges``), the corner is shaded paper that the page's brightest
    paper reaches: every digit lies on the paper found, 260 or more are found (273 now), nothing is read off them."""
    image, truth = stress_scene(93)
    gray = to_gray(image)
    limit = estimate_paper(gray, DEFAULT_CONFIG).limit
    on_paper = [limit[y + h // 2, x + w // 2] > 0 for x, y, w, h in (d["box"] for d in truth["digits"])]
    assert len(on_paper) == 285 and all(on_paper), f"{sum(on_paper)} of {len(on_paper)} digits on the paper found"
    _found_and_nothing_else(read, image, truth, 260)


def test_a_shadow_across_the_page_and_the_table_is_shade_on_the_page(read):
    """``mixed`` seed 9: a hand's shadow falls across a page on a dotted table and on over the table beyond its top and
    bottom edges. The paper's closing filled it as one area with the table's strip, whose step at the page's edge
    made all of it table or stroke: the page's shade kept the closing (the paper beside the shadow), was ink, and
    one blob swallowed the digits in it (10 of 23 found). Parted at the sheet's border (``segment._stepped_fill``),
    the page's shade takes the envelope: 18 or more found (21 now), nothing read off them."""
    image, truth = stress_scene(9)
    _found_and_nothing_else(read, image, truth, 18, digits=23)


def test_a_strip_of_table_between_the_page_and_the_frames_edge_is_no_shade(read):
    """``cloth`` seed 94: a page on a cloth, a strip of the cloth between the page's top edge and the frame's. Parted
    from its step at the page's edge, the strip has none of its own, like a page's shade; it reaches the frame's edge
    and no darker shadow lies beside it across the border, so it keeps the closing (``segment._stepped_fill``): taken
    for shade, its weave was read as 23 digits. Every digit is found and nothing else is read."""
    image, truth = stress_scene(94, only=("cloth",))
    _found_and_nothing_else(read, image, truth, 17, digits=17)


def test_digits_inside_a_ring_of_ink_are_read(mnist_slice):
    """A dark ring around the writing (the table around a page under a hand's shadow, a frame drawn
    around a sum) is one piece of ink whose outline holds every digit: they are read all the same."""
    _, (xt, _) = mnist_slice
    page = np.full((480, 640), 225, np.uint8)
    cv2.rectangle(page, (20, 20), (619, 459), 30, 12)
    boxes = []
    for k in range(5):
        alpha = cv2.resize(xt[k], (60, 60), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
        x, y = 80 + k * 100, 200
        region = page[y: y + 60, x: x + 60].astype(np.float32)
        page[y: y + 60, x: x + 60] = (region * (1 - alpha) + 30 * alpha).astype(np.uint8)
        boxes.append(x + 30)  # the tile's centre
    found = sorted(segment(page).candidates, key=lambda c: c.box.x)
    assert len(found) == 5
    assert all(abs(c.box.x + c.box.w / 2 - x) <= 12 for c, x in zip(found, boxes))

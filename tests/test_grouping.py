"""Numbers from digits on a page: the space between numbers judged against the writer's own gaps (issue 19)."""

import numpy as np

from livedigits.reading.numbers import DEFAULT_READING, ReadingConfig, group_numbers, page_space
from livedigits.types import Box, Detection

HEIGHT = 30


def write(text_gaps, y, x=20, height=HEIGHT):
    """Detections for a line written left to right: ``text_gaps`` is a list of (digit, gap before it in digit
    heights); a 1 is a narrow box, other digits 0.6 of the height wide."""
    out = []
    for digit, gap in text_gaps:
        x += int(round(gap * height))
        w = int(0.2 * height) if digit == 1 else int(0.6 * height)
        out.append(Detection(box=Box(x, y, w, height), digit=digit, confidence=0.99))
        x += w
    return out


def line(numbers, y, within, between):
    """One line of ``numbers`` (strings), gaps within a number cycling through ``within`` and between numbers
    through ``between`` (digit heights)."""
    spec, k, j = [], 0, 0
    for n, text in enumerate(numbers):
        for i, char in enumerate(text):
            if i == 0:
                gap = 0.0 if n == 0 else between[j % len(between)]
                j += 1
            else:
                gap = within[k % len(within)]
                k += 1
            spec.append((int(char), gap))
    return write(spec, y)


def texts(detections, config=DEFAULT_READING):
    return [n.text for n in group_numbers(detections, config)]


LINE_BY_LINE = ReadingConfig(page_gaps=10**9)  # the page never judged as a whole: each line alone


def test_two_long_numbers_on_a_line_with_uneven_gaps_stay_whole():
    # "12345 67891 / 23456 19773": a writer who spaces the digits of a number 0.5-0.75 digit heights apart,
    # and numbers 1.6-2.1 apart.
    within = [0.55, 0.7, 0.6, 0.75, 0.5, 0.65]
    page = line(["12345", "67891"], 100, within, [1.7]) + line(["23456", "19773"], 160, within[::-1], [2.1])
    assert texts(page) == ["12345", "67891", "23456", "19773"]
    # Judged line by line, the same page falls apart: a line with a gap over max_gap takes every gap over
    # min_space for a space.
    assert len(texts(page, LINE_BY_LINE)) > 4


def test_dense_rows_of_two_digit_numbers_read_each_as_one_number():
    # A counting sheet: rows of two-digit numbers, their digits half a digit height apart, the numbers
    # 1.2-1.6 apart; "24" must not come out as "2 4".
    rows = [["24", "16", "38", "51", "97"], ["62", "45", "13", "88", "70"], ["29", "34", "56", "81", "11"]]
    page = []
    for r, numbers in enumerate(rows):
        page += line(numbers, 100 + 45 * r, [0.5, 0.55, 0.6], [1.2, 1.6, 1.4, 1.3])
    assert texts(page) == [n for row in rows for n in row]
    assert "2" in texts(page, LINE_BY_LINE)  # the line rule alone splits "24"


def test_rows_spaced_alike_are_split_alike():
    # Every row is written the same way, but one holds no gap wider than max_gap: alone it would be read
    # as one number; with the page, as the others are.
    wide = [["307", "42", "918"], ["55", "604", "71"]]
    page = line(wide[0], 100, [0.3, 0.4], [1.3, 1.1]) + line(wide[1], 150, [0.4, 0.3], [1.2, 0.95])
    page += line(["83", "49", "260"], 200, [0.4, 0.3], [0.7, 0.75])
    assert texts(page) == ["307", "42", "918", "55", "604", "71", "83", "49", "260"]
    assert texts(page, LINE_BY_LINE)[-1] == "8349260"


def test_a_page_without_two_kinds_of_gap_is_judged_line_by_line():
    # Single digits spaced evenly (a counting exercise) and long numbers alone on their lines: no clusters.
    singles = write([(d, 0.0 if d == 1 else 0.9) for d in range(1, 10)], 100)
    assert texts(singles) == [str(d) for d in range(1, 10)]
    assert page_space(np.array([0.9] * 8)) is None
    longs = line(["9840178855"], 100, [0.2, 0.25, 0.3], [1.0]) + line(["0611205921"], 150, [0.3, 0.2, 0.25], [1.0])
    assert texts(longs) == ["9840178855", "0611205921"]


def test_page_space_lies_between_the_writers_two_clusters():
    rng = np.random.default_rng(0)
    within = rng.uniform(0.55, 0.8, 60)
    between = rng.uniform(1.8, 3.0, 20)
    space = page_space(np.concatenate([within, between]))
    assert space is not None and within.max() < space < between.min()
    # Too few gaps to learn from: the page gives no space.
    assert page_space(np.array([0.2, 0.25, 1.5, 0.2])) is None
    # A page's space is never narrower than a line would take for one, nor wider than max_within.
    tight = page_space(np.concatenate([rng.uniform(0.0, 0.05, 30), rng.uniform(0.3, 0.4, 10)]))
    assert tight is None or tight >= DEFAULT_READING.min_space
    loose = page_space(np.concatenate([rng.uniform(0.8, 1.0, 30), rng.uniform(6.0, 9.0, 10)]))
    assert loose == DEFAULT_READING.max_within


def test_gaps_running_on_evenly_through_the_valley_give_no_space():
    # Box walls read beside the digits of a form, print: gaps of every width, no valley between clusters.
    rng = np.random.default_rng(1)
    gaps = np.concatenate([rng.uniform(0.0, 0.45, 50), np.geomspace(0.5, 1.25, 40), rng.uniform(1.3, 9.0, 60)])
    assert page_space(gaps) is None
    # The same page with its valley clear has a space.
    assert page_space(np.concatenate([gaps[:50], gaps[90:]])) is not None


def test_a_printed_rule_between_two_digits_ends_a_number():
    """A table's neighbouring cells: "86" and "243" written 0.2 digit heights apart, the column rule between them
    taken out of the ink. Without the rule they are one number; with it and the table's next rule (``Segmentation.rules``)
    two. A digit written across the rule at the start of its cell belongs to the side its centre is on. A
    rule alone (a ruled page's margin line) is written across."""
    digits = line(["86", "243"], 100, within=[0.2], between=[0.2])
    assert texts(digits) == ["86243"]
    gap_middle = (digits[1].box.x2 + digits[2].box.x) / 2.0
    rule = np.array([[gap_middle, 40.0], [gap_middle + 2, 200.0]])  # a little askew, as photographed
    next_rule = rule + (4 * HEIGHT, 0)
    assert [n.text for n in group_numbers(digits, rules=[rule, next_rule])] == ["86", "243"]
    crossing = np.array([[digits[2].box.x + 3.0, 40.0], [digits[2].box.x + 3.0, 200.0]])
    assert [n.text for n in group_numbers(digits, rules=[crossing, next_rule])] == ["86", "243"]
    assert [n.text for n in group_numbers(digits, rules=[rule])] == ["86243"]  # a margin line alone
    # A rule that ends above the line of writing parts nothing.
    short = np.array([[gap_middle, 0.0], [gap_middle, 60.0]])
    assert [n.text for n in group_numbers(digits, rules=[short, next_rule])] == ["86243"]


def test_a_generated_tables_neighbouring_cells_are_read_as_their_own_numbers():
    """Stress row ``table`` seed 0: a 5-column table whose numbers touch or cross its rules. Its neighbouring
    cells' numbers were joined across the column rules ("86218", "30428965", "366537": 13 of its 22 numbers read
    exactly); now each cell is its own number (all 22)."""
    from livedigits.bench.stress import pipeline_reader, score_scene
    from livedigits.synth.stress import stress_scene

    image, truth = stress_scene(0, only=("table",))
    counts = score_scene(pipeline_reader()(image), truth)
    assert counts["exact_numbers"] >= counts["true_numbers"] - 2


def test_a_number_written_beside_a_1_is_read_apart_from_it():
    """A writer's 1 is a narrow stroke: its gaps are measured as if it stood in a cell half as wide as the
    writer's other digits, not half a digit height. "24 1 37 11 5" written as a dense page writes it (digits
    0.2 heights apart, numbers 0.6), every row alike: each number comes out alone. Counted half a height wide,
    the 1 came within 0.5 heights of its neighbours and was read joined to them ("241", "3711")."""
    rows = [["24", "1", "37", "11", "5"], ["1", "86", "1", "40", "12"], ["63", "1", "9", "71", "1"]]
    page = []
    for r, numbers in enumerate(rows):
        page += line(numbers, 100 + 45 * r, [0.2, 0.15, 0.25], [0.6, 0.65, 0.7])
    assert texts(page) == [n for row in rows for n in row]


def test_a_1_standing_in_its_cell_stays_in_its_number():
    """A careful hand spaces its digits wide, 0.6 digit heights apart, and leaves a 1 a little more room either
    side (its ink 0.85 from its neighbours': the cell it stands in is wider than its stroke, as on real pages of
    wide-set numbers). Counted half as wide as the writer's other digits, the 1 stays in its number: "135790" and
    "4017" are one number each. (Measured from its ink alone, the 1's gaps are the line's clear spaces, and
    each number falls apart.)"""
    page = []
    for y, text in ((100, "135790"), (160, "4017")):
        x = 20
        for k, c in enumerate(text):
            x += 0 if k == 0 else int(round((0.85 if "1" in (c, text[k - 1]) else 0.6) * HEIGHT))
            w = int(0.1 * HEIGHT) if c == "1" else int(0.6 * HEIGHT)  # a 1 a thin stroke
            page.append(Detection(box=Box(x, y, w, HEIGHT), digit=int(c), confidence=0.99))
            x += w
    assert texts(page) == ["135790", "4017"]


def test_generated_pages_numbers_beside_a_1_are_read_whole_and_apart():
    """Stress scenes read whole: ``curl`` seed 19, whose "62734" and "26" came out split ("62 734", "2 6": gaps of
    0.52 and 0.55 digit heights within them, on a line whose numbers stand 3-4 heights apart, the 1 of "615"
    counted half a height wide), and ``dense`` seed 20, whose "71" and "15", "679" and "185" were read joined
    ("7115", "679185"): each is read exactly now."""
    from livedigits.bench.stress import pipeline_reader, row_scene

    read = pipeline_reader()
    for row, seed, wanted in (("curl", 19, {"62734", "26"}), ("dense", 20, {"71", "15", "679", "185"})):
        image, truth = row_scene(row, seed)
        read_texts = {n["text"] for n in read(image)["numbers"]}
        assert wanted <= {n["text"] for n in truth["numbers"]}
        assert wanted <= read_texts, (row, seed, sorted(read_texts))


def test_digits_cut_apart_with_overlapping_boxes_stay_on_their_line():
    """Two touching digits cut apart along their ink have boxes that overlap (a 0 run into the 4 before it: the
    0's box starts 0.45 heights inside the 4's). Each continues the line, its centre right of the one before:
    "5405" is one number, not "54" and "05" on two lines of their own."""
    x, y = 20, 100
    boxes = [(x, 18), (x + 20, 18), (x + 25, 18), (x + 45, 18)]  # the 0 starts 13 px inside the 4's box
    page = [Detection(box=Box(bx, y, w, HEIGHT), digit=int(c), confidence=0.99) for (bx, w), c in zip(boxes, "5405")]
    assert texts(page) == ["5405"]


def test_a_generated_touching_pages_cut_pairs_are_read_whole():
    """Stress row ``touching`` seed 21: "5405" and "9093", a pair of each cut apart into boxes that overlap by more
    than half a digit, were read as "54" "05" and "909" "3" (the overlapping digit began a line of its own); each
    is read exactly now."""
    from livedigits.bench.stress import pipeline_reader, row_scene

    image, truth = row_scene("touching", 21)
    read_texts = {n["text"] for n in pipeline_reader()(image)["numbers"]}
    assert {"5405", "9093"} <= {n["text"] for n in truth["numbers"]}
    assert {"5405", "9093"} <= read_texts, sorted(read_texts)

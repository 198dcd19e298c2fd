"""The stress generator (``livedigits.synth.stress``): every phenomenon of issue 19 is really drawn, the
truth is right, the same seed draws the same scene, and ``livedigits stress`` (``livedigits.bench.stress``)
measures them.

Each phenomenon is checked the way a person looking at the picture would: a hand shadow darkens part of
the page and leaves the rest, a printed table has long straight rules, a dark table surrounds the page,
printed words are ink where their marks say. Most checks compare a scene with the phenomenon to the same
seed without it: the page, the light and the noise are drawn from the same streams, so only the
phenomenon differs.
"""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits.bench.stress import TABLE_HEADER, Tally, score_scene
from livedigits.reading.score import records_from_truth
from livedigits.synth import scenes, stress
from livedigits.synth.stress import PHENOMENA, build_scene, stress_scene
from livedigits.types import Box

ROOT = Path(__file__).resolve().parent.parent
SEED = 3


def _grey(image):
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def _pair(name, seed=SEED):
    """The scene with only ``name`` and the plain scene of the same seed."""
    return stress_scene(seed, only=(name,)), stress_scene(seed, only=())


def _long_lines(image, horizontal: bool, share: float = 0.3) -> int:
    """Straight dark lines within 8 degrees of horizontal (or vertical) at least ``share`` of the frame long,
    lines closer than 4 px counted once."""
    grey = _grey(image).astype(np.uint8)
    dark = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 12)
    h, w = dark.shape
    length = share * (w if horizontal else h)
    found = cv2.HoughLinesP(dark, 1, np.pi / 360, threshold=int(0.8 * length), minLineLength=int(length), maxLineGap=3)
    places = []
    for x0, y0, x1, y1 in ([] if found is None else found.reshape(-1, 4)):
        angle = abs(np.degrees(np.arctan2(y1 - y0, x1 - x0))) % 180
        if (min(angle, 180 - angle) if horizontal else abs(angle - 90)) <= 8:
            places.append((y0 + y1) / 2 if horizontal else (x0 + x1) / 2)
    places.sort()
    return sum(1 for k, p in enumerate(places) if k == 0 or p - places[k - 1] > 4)


def _border(image, width=25):
    return np.concatenate([image[:width].reshape(-1, 3), image[-width:].reshape(-1, 3),
                           image[:, :width].reshape(-1, 3), image[:, -width:].reshape(-1, 3)]).astype(np.float32)


# --------------------------------------------------------------------------- the generator


def test_same_seed_same_scene_other_seed_other_scene():
    image, truth = stress_scene(11)
    again, truth_again = stress_scene(11)
    assert np.array_equal(image, again) and truth == truth_again
    other, _ = stress_scene(12)
    assert not np.array_equal(image, other)
    assert image.shape == (stress.STRESS_SIZE[1], stress.STRESS_SIZE[0], 3) and image.dtype == np.uint8


def test_phenomena_are_forced_on_and_off():
    assert stress_scene(5, only=())[1]["phenomena"] == []
    assert stress_scene(5, only=("shadow", "grid"))[1]["phenomena"] == ["shadow", "grid"]
    for seed in range(6):
        shown = stress_scene(seed, on=("table",), off=("ruled", "jpeg"))[1]["phenomena"]
        assert "table" in shown and "ruled" not in shown and "jpeg" not in shown
        # at most one table under the page, one kind of paper, one kind of form
        for group in stress.EXCLUSIVE:
            assert len(set(group) & set(shown)) <= 1
    # with nothing forced, phenomena are drawn at random: different seeds show different ones
    assert len({tuple(stress_scene(seed)[1]["phenomena"]) for seed in range(6)}) >= 4
    with pytest.raises(ValueError, match="unknown phenomenon 'smudge'"):
        stress_scene(0, on=("smudge",))


def test_truth_boxes_lie_on_ink():
    for seed in (0, 1, 2):
        image, truth = stress_scene(seed, only=())
        grey = _grey(image)
        paper = float(np.median(grey))
        assert truth["digits"], "a plain page has handwriting"
        for digit in truth["digits"]:
            box = Box(*digit["box"])
            inside = grey[box.y: box.y2, box.x: box.x2]
            ring = np.concatenate([grey[box.y - 3: box.y - 1, box.x: box.x2].ravel(), grey[box.y2 + 1: box.y2 + 3, box.x: box.x2].ravel(),
                                   grey[box.y: box.y2, box.x - 3: box.x - 1].ravel(), grey[box.y: box.y2, box.x2 + 1: box.x2 + 3].ravel()])
            assert inside.min() < paper - 60, f"seed {seed}: no ink in the box of {digit}"
            # tight: just outside the box is paper, not the digit's ink
            assert (paper - ring).mean() < 0.5 * (paper - inside).mean() + 5, f"seed {seed}: ink runs past the box of {digit}"
        texts = [n["text"] for n in truth["numbers"]]
        assert "".join(texts) == "".join(str(d["digit"]) for d in truth["digits"])


def test_shadow_darkens_one_part_and_leaves_the_rest():
    (with_shadow, truth), (plain, plain_truth) = _pair("shadow")
    assert truth["numbers"] == plain_truth["numbers"]  # the same page under another light
    ratio = cv2.blur(_grey(with_shadow), (31, 31)) / np.maximum(1.0, cv2.blur(_grey(plain), (31, 31)))
    assert ratio.min() < 0.7  # the hand's shadow: well darker
    assert np.mean(ratio > 0.97) > 0.3  # and much of the frame as it was


def test_shade_darkens_one_side():
    (shaded, _), (plain, _) = _pair("shade")
    ratio = cv2.blur(_grey(shaded), (31, 31)) / np.maximum(1.0, cv2.blur(_grey(plain), (31, 31)))
    assert np.percentile(ratio, 5) < 0.7 and np.percentile(ratio, 95) > 0.95
    dark = ratio < 0.8
    count, _ = cv2.connectedComponents(dark.astype(np.uint8))
    assert count - 1 == 1, "the shade is one region"
    assert any(edge.mean() > 0.5 for edge in (dark[0], dark[-1], dark[:, 0], dark[:, -1])), "it reaches a side of the frame"


def test_curl_foreshortens_and_shades_one_edge():
    scene = build_scene(SEED, ("curl",), tuple(n for n in PHENOMENA if n != "curl"))
    (curled, truth), (plain, plain_truth) = _pair("curl")
    assert scene.curl is not None and truth["phenomena"] == ["curl"]
    assert [n["text"] for n in truth["numbers"]] == [n["text"] for n in plain_truth["numbers"]]
    side = scene.curl.side
    grey, flat = _grey(curled), _grey(plain)
    band = {"bottom": (slice(-60, None), slice(None)), "top": (slice(0, 60), slice(None)),
            "right": (slice(None), slice(-60, None)), "left": (slice(None), slice(0, 60))}[side]
    assert grey[band].mean() < flat[band].mean() - 25  # the curled part is in shade, the table shows past it


def test_tables_have_long_printed_rules_with_digits_in_cells():
    image, truth = stress_scene(SEED, only=("table",))
    plain, _ = stress_scene(SEED, only=())
    assert _long_lines(image, True, share=0.25) >= 4 and _long_lines(image, False, share=0.15) >= 3
    assert _long_lines(plain, True) == 0
    assert len(truth["digits"]) >= 6
    assert any(m["kind"] == "printed_text" for m in truth["marks"])  # its printed headers


def test_boxes_hold_one_digit_each():
    image, truth = stress_scene(SEED, only=("boxes",))
    combs = [n for n in truth["numbers"] if len(n["text"]) >= 4]
    assert combs
    grey = _grey(image)
    paper = float(np.median(grey))
    walls = 0
    for comb in combs:
        digits = sorted((d for d in truth["digits"] if Box(*d["box"]).iou(Box(*comb["box"])) > 0), key=lambda d: d["box"][0])
        for left, right in zip(digits, digits[1:]):
            x0, x1 = left["box"][0] + left["box"][2], right["box"][0]
            y0, y1 = comb["box"][1], comb["box"][1] + comb["box"][3]
            if x1 > x0:
                column = (grey[y0:y1, x0:x1] < paper - 50).sum(axis=0)
                walls += int(column.max() > 0.6 * (y1 - y0))
    assert walls >= 3, "printed walls stand between the digits of a comb"


def test_printed_text_is_marked_not_counted_as_handwriting():
    image, truth = stress_scene(SEED, only=("printed",))
    grey = _grey(image)
    paper = float(np.median(grey))
    printed = [m for m in truth["marks"] if m["kind"] == "printed_digit"]
    words = [m for m in truth["marks"] if m["kind"] == "printed_text"]
    assert printed and words
    for mark in printed + words:
        x, y, w, h = mark["box"]
        assert grey[y: y + h, x: x + w].min() < paper - 60, f"no ink under {mark}"
    assert all(m["text"].isdigit() and len(m["text"]) == 1 for m in printed)
    handwritten = [Box(*d["box"]) for d in truth["digits"]]
    assert all(Box(*m["box"]).iou(b) < 0.3 for m in printed for b in handwritten)


def test_handwritten_words_are_marks():
    image, truth = stress_scene(SEED, only=("words",))
    letters = [m for m in truth["marks"] if m["kind"] == "letter"]
    assert letters and all(m["text"].isalpha() for m in letters)
    grey = _grey(image)
    for mark in letters:
        x, y, w, h = mark["box"]
        assert grey[y: y + h, x: x + w].min() < np.median(grey) - 60


def test_ruled_grid_and_dotted_paper():
    ruled, _ = stress_scene(SEED, only=("ruled",))
    grid, _ = stress_scene(SEED, only=("grid",))
    dotted, _ = stress_scene(SEED, only=("dotted",))
    assert _long_lines(ruled, True, share=0.6) >= 4 and _long_lines(ruled, False, share=0.6) <= 1  # a margin line at most
    assert _long_lines(grid, True, share=0.6) >= 6 and _long_lines(grid, False, share=0.6) >= 6
    assert _long_lines(dotted, True, share=0.3) == 0
    # the dots: many tiny specks of the same size on a lattice
    grey = _grey(dotted).astype(np.uint8)
    dark = cv2.adaptiveThreshold(grey, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 15, 6)
    count, _, stats, _ = cv2.connectedComponentsWithStats(dark)
    assert ((stats[1:, cv2.CC_STAT_AREA] >= 1) & (stats[1:, cv2.CC_STAT_AREA] <= 20)).sum() >= 100


def test_tables_under_the_page():
    plain, _ = stress_scene(SEED, only=())
    assert _border(plain).mean() > 150  # the page fills the frame
    dark, _ = stress_scene(SEED, only=("dark_table",))
    assert _border(dark).mean() < 70
    wood, _ = stress_scene(SEED, only=("wood",))
    b, g, r = _border(wood).mean(axis=0)
    assert r > b + 20  # warm
    patterned, _ = stress_scene(SEED, only=("patterned_table",))
    assert _border(patterned).std() > 25  # contrast of the pattern
    cloth, _ = stress_scene(SEED, only=("cloth",))
    assert abs(_border(cloth).mean() - _border(plain).mean()) > 20


def test_coloured_ink_and_paper():
    def ink_colour(image, truth):
        out = []
        for d in truth["digits"]:
            x, y, w, h = d["box"]
            patch = image[y: y + h, x: x + w].reshape(-1, 3).astype(np.float32)
            grey = patch.mean(axis=1)
            out.append(patch[grey <= np.percentile(grey, 10)].mean(axis=0))
        return np.mean(out, axis=0)

    plain_inks = []
    colour_inks = []
    for seed in range(4):
        plain_inks.append(ink_colour(*stress_scene(seed, only=())))
        colour_inks.append(ink_colour(*stress_scene(seed, only=("ink_colour",))))
    def blue(c):
        return c[0] > c[2] + 30

    def dark_grey(c):
        return c.mean() < 80 and np.ptp(c) < 12

    def red_green_or_purple(c):
        b, g, r = c
        return r > b + 30 or g > max(b, r) + 15 or (r > g + 30 and b > g + 30)

    def pencil(c):
        return c.mean() > 90 and np.ptp(c) < 15

    assert all(blue(c) or dark_grey(c) for c in plain_inks), plain_inks
    assert all(red_green_or_purple(c) or pencil(c) for c in colour_inks), colour_inks
    assert any(red_green_or_purple(c) for c in colour_inks)
    paper, _ = stress_scene(SEED, only=("paper_colour",))
    white, _ = stress_scene(SEED, only=())
    median = np.median(paper.reshape(-1, 3), axis=0)
    white_median = np.median(white.reshape(-1, 3), axis=0)
    assert np.ptp(white_median) < 20  # white paper under white light
    assert np.abs(median - white_median).max() > 25  # a colour, or recycled grey or kraft


def test_dense_pages():
    _, truth = stress_scene(SEED, only=("dense",))
    heights = [d["box"][3] for d in truth["digits"]]
    assert len(heights) >= 40 and np.median(heights) <= 24


def _stroke_width(image: np.ndarray, truth: dict) -> float:
    """The handwriting's median stroke width in px: twice the ink's area over its outline, digit by digit
    (ink: 40 grey levels under the paper about it)."""
    grey = _grey(image).astype(np.uint8)
    widths = []
    for digit in truth["digits"]:
        x, y, w, h = digit["box"]
        patch = grey[max(0, y - 2): y + h + 2, max(0, x - 2): x + w + 2]
        ink = (patch < np.median(patch) - 40).astype(np.uint8)
        contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        outline = sum(cv2.arcLength(c, True) for c in contours)
        if outline > 0:
            widths.append(2.0 * ink.sum() / outline)
    return float(np.median(widths))


def test_thin_pages_are_written_small_with_a_fine_pen_and_only_when_asked():
    for seed in range(4):
        thin, truth = stress_scene(seed, only=("thin",))
        plain, plain_truth = stress_scene(seed, only=())
        assert truth["phenomena"] == ["thin"] and len(truth["digits"]) >= 5
        heights = [d["box"][3] for d in truth["digits"]]
        assert 9 <= np.median(heights) <= 24
        assert _stroke_width(thin, truth) < 0.8 * _stroke_width(plain, plain_truth)
    # Never drawn at random, and asking for it leaves the rest of a seed's draw as it was.
    for seed in range(12):
        shown = stress_scene(seed)[1]["phenomena"]
        assert "thin" not in shown
        assert stress.build_scene(seed, on=("thin",)).phenomena == tuple(shown) + ("thin",)
    dense = stress_scene(0, only=("thin", "dense"))[1]
    assert np.median([d["box"][3] for d in dense["digits"]]) <= 16


def test_spacing_pages_space_digits_wide_and_numbers_wider():
    for seed in (SEED, SEED + 1):
        _, truth = stress_scene(seed, only=("spacing",))
        within, between = [], []
        digits = sorted(truth["digits"], key=lambda d: (d["number"], d["box"][0]))
        for a, b in zip(digits, digits[1:]):
            gap = (b["box"][0] - a["box"][0] - a["box"][2]) / float(np.median([a["box"][3], b["box"][3]]))
            if a["number"] == b["number"]:
                within.append(gap)
            elif abs((a["box"][1] + a["box"][3] / 2) - (b["box"][1] + b["box"][3] / 2)) < 0.5 * a["box"][3]:
                between.append(gap)  # the next number on the same row
        # One writer's gaps within a number, wider than a plain page's (0.12-0.35), and each space wider
        # than every gap within a number on the page.
        assert len(between) >= 3 and 0.28 < np.median(within) < 1.1
        assert max(within) < min(between)


def test_touching_pages_write_the_digits_of_a_number_into_each_other():
    _, truth = stress_scene(SEED, only=("touching",))
    digits = sorted(truth["digits"], key=lambda d: (d["number"], d["box"][0]))
    gaps = [(b["box"][0] - a["box"][0] - a["box"][2]) / a["box"][3] for a, b in zip(digits, digits[1:])
            if a["number"] == b["number"]]
    _, plain = stress_scene(SEED, only=())
    digits = sorted(plain["digits"], key=lambda d: (d["number"], d["box"][0]))
    plain_gaps = [(b["box"][0] - a["box"][0] - a["box"][2]) / a["box"][3] for a, b in zip(digits, digits[1:])
                  if a["number"] == b["number"]]
    # Boxes measured on the ink, turned a little by the camera: touching within a few pixels.
    assert gaps and max(gaps) < 0.1 and min(gaps) < 0 and min(plain_gaps) > 0.05


def test_column_pages_are_lists_written_one_entry_under_another():
    _, truth = stress_scene(SEED, only=("column",))
    numbers = truth["numbers"]
    assert len(numbers) >= 12 and len(numbers) % 2 == 0
    firsts, amounts = numbers[: len(numbers) // 2], numbers[len(numbers) // 2:]  # written column by column
    lefts = [n["box"][0] for n in amounts]
    heights = np.median([d["box"][3] for d in truth["digits"]])
    # The amounts start one under another (within a fifth of a digit height or so), each on its own
    # row, rows less than one and a half digit heights apart.
    assert np.ptp(lefts) < 0.6 * heights and all(a["box"][0] > f["box"][0] + f["box"][2] for f, a in zip(firsts, amounts))
    tops = sorted(n["box"][1] for n in amounts)
    assert np.median(np.diff(tops)) < 1.6 * heights


def test_ledger_pages_are_ruled_lists_with_a_margin_line_and_dashes():
    """What the notebook ledger of issue 19 shows: rulings under the writing and a margin line across
    them, one entry a ruled line ("404-1000"), a dash between the two numbers of each, and the first
    numbers starting one under another, their feet on their ruling."""
    image, truth = stress_scene(SEED, only=("ledger",))
    assert _long_lines(image, horizontal=True) >= 8
    # The margin line, red or blue (seen in the darkest channel), left of the writing down the frame: in
    # most rows a pixel there far darker than the paper beside it (the plain page has none).
    left = int(min(n["box"][0] for n in truth["numbers"])) - 3
    for page, margin in ((image, True), (_pair("ledger")[1][0], False)):
        darkest = page[:, :left].min(axis=2).astype(np.float32)
        dark = (darkest < np.median(darkest, axis=1, keepdims=True) - 15).any(axis=1)
        assert (dark.mean() > 0.8) == margin
    grey = _grey(image)
    numbers = truth["numbers"]
    assert len(numbers) >= 12 and len(numbers) % 2 == 0
    firsts, amounts = numbers[0::2], numbers[1::2]  # written entry by entry
    dashes = [m for m in truth["marks"] if m["kind"] == "letter" and m["text"] == "-"]
    assert len(dashes) == len(firsts)
    for first, dash, amount in zip(firsts, dashes, amounts):
        # number, dash, amount, left to right on one line
        assert first["box"][0] + first["box"][2] <= dash["box"][0] + 2 and dash["box"][0] + dash["box"][2] <= amount["box"][0] + 2
        assert first["box"][1] < dash["box"][1] + dash["box"][3] / 2 < first["box"][1] + first["box"][3]
    height = np.median([d["box"][3] for d in truth["digits"]])
    lefts, tops = np.array([n["box"][0] for n in firsts]), np.array([n["box"][1] for n in firsts])
    # One under another (on the line the camera's roll turns them to), a hand's jitter aside.
    assert np.abs(lefts - np.polyval(np.polyfit(tops, lefts, 1), tops)).max() < 0.5 * height
    assert 1.2 * height < np.median(np.diff(np.sort(tops))) < 1.8 * height
    # The feet of the writing on its ruling: just right of each entry, the darkest row near its amount's
    # bottom (the ruling) is within a quarter of a digit height of the feet.
    on = 0
    for amount in amounts:
        x, y, w, h = amount["box"]
        feet = y + h
        rows = np.arange(int(feet - 0.4 * height), int(min(image.shape[0] - 1, feet + 0.4 * height)))
        ruling = rows[np.argmin(grey[rows, x + w + 5: x + w + 40].mean(axis=1))]
        on += abs(ruling - feet) <= 0.25 * height
    assert on >= 0.8 * len(amounts)


def test_camera_faults():
    (blurred, _), (plain, _) = _pair("blur")

    def edges(image):
        """The steepest ink edges in 8 directions (a motion blur softens those across its streak only); the
        noise, drawn after the blur, is smoothed away first."""
        grey = cv2.GaussianBlur(_grey(image), (0, 0), 1.0)
        gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        return np.array([np.percentile(np.abs(np.cos(t) * gx + np.sin(t) * gy), 99.9) for t in np.arange(8) * np.pi / 8])

    assert (edges(blurred) / edges(plain)).min() < 0.75
    noisy, _ = stress_scene(SEED, only=("noise",))
    grain = lambda image: np.median(np.abs(_grey(image) - cv2.medianBlur(image, 5).mean(axis=2)))  # noqa: E731
    assert grain(noisy) > 2 * grain(plain)
    jpeg, _ = stress_scene(SEED, only=("jpeg",))

    def blockiness(image):  # jumps across 8x8 block edges against jumps inside blocks
        grey = _grey(image)
        jumps = np.abs(np.diff(grey, axis=1)).mean(axis=0)
        return jumps[7::8].mean() / jumps[np.arange(len(jumps)) % 8 != 7].mean()

    assert blockiness(jpeg) > blockiness(plain) + 0.1
    tilted, tilted_truth = stress_scene(SEED, only=("perspective",))
    _, plain_truth = stress_scene(SEED, only=())

    def keystone(truth, plain_truth):
        """How far the digits' centres are from an affine image of the plain page's (px): 0 for the same
        camera, several px when the page is tilted away (far side shrunk, near side enlarged)."""
        def centres(t):
            out = {}
            for k, number in enumerate(t["numbers"]):
                for j, d in enumerate(d for d in t["digits"] if d["number"] == k):
                    out.setdefault((number["text"], j), (d["box"][0] + d["box"][2] / 2, d["box"][1] + d["box"][3] / 2))
            return out

        a, b = centres(plain_truth), centres(truth)
        keys = [k for k in a if k in b]
        assert len(keys) >= 6
        source = np.c_[np.array([a[k] for k in keys]), np.ones(len(keys))]
        target = np.array([b[k] for k in keys])
        fit, *_ = np.linalg.lstsq(source, target, rcond=None)
        return np.abs(source @ fit - target).max()

    _, noisy_truth = stress_scene(SEED, only=("noise",))
    assert keystone(noisy_truth, plain_truth) < 0.5  # same camera
    assert keystone(tilted_truth, plain_truth) > 3


# --------------------------------------------------------------------------- measuring


def test_score_scene_counts_printed_digits_and_letters_apart():
    truth = next(t for t in (stress_scene(seed, only=("printed", "words"))[1] for seed in range(20))
                 if {"letter", "printed_digit"} <= {m["kind"] for m in t["marks"]})
    perfect = records_from_truth(scenes.truth_document(truth, "x"))[0]
    counts = score_scene(perfect, truth)
    assert counts["found"] == counts["right"] == counts["true_digits"] > 0
    assert counts["fully_right"] == 1 and counts["blank"] == 0 and counts["on_printed"] == counts["on_letters"] == 0
    printed = next(m for m in truth["marks"] if m["kind"] == "printed_digit")
    word = next(m for m in truth["marks"] if m["kind"] == "letter")
    extra = dict(perfect, detections=perfect["detections"] + [{"box": printed["box"], "digit": int(printed["text"]), "confidence": 1.0},
                                                              {"box": word["box"], "digit": 1, "confidence": 1.0}])
    counts = score_scene(extra, truth)
    assert counts["on_printed"] == 1 and counts["on_letters"] == 1 and counts["fully_right"] == 0
    tally = Tally()
    tally.add(counts)
    figures = tally.figures()
    assert figures["digit_recall"] == 1.0 and figures["printed_read"] == 1
    assert figures["digit_precision"] == counts["found"] / (counts["found"] + 1)  # the word counts, the print does not
    blank = score_scene(dict(perfect, detections=[], numbers=[]), truth)
    assert blank["blank"] == 1 and blank["found"] == 0


def test_measure_totals_and_saves_the_failed_scenes(tmp_path):
    from livedigits.bench.stress import measure, scene_saver
    from livedigits.reading.score import load_jsonl, load_truth, score

    def read_nothing(image):
        return {"frame": 0, "detections": [], "numbers": []}

    results = measure(read_nothing, rows=("none",), seeds=2, failed=scene_saver(tmp_path, limit=1))
    figures = results["none"].figures()
    assert figures["scenes"] == 2 and figures["digit_recall"] == 0.0 and figures["blank_pages"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["none-0.json", "none-0.jsonl", "none-0.png", "none-0_truth.png"]
    saved = score(load_jsonl(tmp_path / "none-0.jsonl"), load_truth(tmp_path / "none-0.json"))
    assert saved["true_digits"] > 0 and saved["matched_digits"] == 0
    assert cv2.imread(str(tmp_path / "none-0.png")).shape == (720, 960, 3)


def test_cli_measures_and_prints_the_table(capsys):
    from livedigits.cli.main import main

    assert main(["stress", "--phenomenon", "shadow", "--phenomenon", "none", "--seeds", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert TABLE_HEADER in out
    rows = [line for line in out.splitlines() if line.startswith("| shadow |") or line.startswith("| none |")]
    assert len(rows) == 2 and all("| 2 |" in row for row in rows)
    recall = float(rows[1].split("|")[3].split("%")[0])
    assert recall > 50  # a plain page is mostly read


def test_cli_bad_phenomenon_is_one_line_and_exit_2(capsys):
    from livedigits.cli.main import main

    assert main(["stress", "--phenomenon", "smudge", "--seeds", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown phenomenon 'smudge'" in err[0] and "shadow" in err[0]


def test_pages_are_written_in_other_hands_when_asked_and_missing_hands_are_named(monkeypatch, capsys):
    # DejaVu Sans (on every Debian machine) stands in for one of Debian's handwriting fonts.
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font.is_file():
        pytest.skip("DejaVu Sans is not installed")
    plain, _ = stress_scene(SEED, only=())
    other, other_truth = stress_scene(SEED, only=(), hands=(str(font),))
    assert other_truth["numbers"] and not np.array_equal(plain, other)
    assert np.array_equal(other, stress_scene(SEED, only=(), hands=(str(font),))[0])
    from livedigits.cli.main import main
    from livedigits.train import writers

    monkeypatch.setattr(writers, "OTHER_HANDS", (("fonts-nothing", "/nonexistent/hand.ttf"),))
    assert main(["stress", "--phenomenon", "none", "--seeds", "1", "--other-hands"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--other-hands" in err[0] and "apt install fonts-nothing" in err[0]


# --------------------------------------------------------------------------- the realistic sample


def test_realistic_sample_is_what_the_generator_draws():
    truth = json.loads((ROOT / "samples" / "realistic.json").read_text())
    assert len(truth["frames"]) == stress.REALISTIC_FRAMES and truth["size"] == list(stress.REALISTIC_SIZE)
    frames = list(stress.realistic_clip(frames=3))
    assert [t for _, t in frames] == truth["frames"][:3]
    first = truth["frames"][0]
    assert set(first["phenomena"]) == set(stress.REALISTIC_PHENOMENA) and len(first["digits"]) >= 20
    video = ROOT / "samples" / "realistic.mp4"
    assert video.stat().st_size < 2 * 1024 * 1024
    capture = cv2.VideoCapture(str(video))
    try:
        ok, image = capture.read()
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    assert ok and image.shape == (480, 640, 3) and count == stress.REALISTIC_FRAMES
    # the decoded frame is the drawn one, up to the video codec's loss
    assert np.abs(image.astype(np.float32) - frames[0][0]).mean() < 6
    # the hand-held camera moves the page
    assert truth["frames"][0]["digits"][0]["box"] != truth["frames"][60]["digits"][0]["box"]


def test_bench_measures_the_realistic_sample_by_default():
    from livedigits.bench import BUNDLED, BenchOptions

    assert BenchOptions().spec.endswith("realistic.mp4")
    assert BenchOptions("demo").spec == str(BUNDLED["demo"]) and BenchOptions("demo").spec.endswith("demo.mp4")
    assert BenchOptions("clip.mp4").spec == "clip.mp4"


def test_the_docs_describe_every_phenomenon_as_drawn():
    page = (ROOT / "docs" / "stress.md").read_text()
    for name, how in PHENOMENA.items():
        assert f"| `{name}` | {how} |" in page, f"docs/stress.md does not describe {name} as the generator draws it"

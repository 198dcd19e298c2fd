"""Synthetic scenes: determinism, boxes that hold the ink, layout rules, the bundled samples."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits import synth

from livedigits.train import marks
from livedigits.types import Box

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SMALL_PAGE = synth.PageOptions(width=800, height=600)
CLEAN_PAGE = synth.PageOptions(width=800, height=600, ruled=0.0)
SMALL_FRAME = (320, 240)


@pytest.fixture(scope="module")
def digits(mnist_slice):
    """The first 1,000 MNIST test digits kept in the repo, so no test needs the full MNIST."""
    return mnist_slice[1]


@pytest.fixture(scope="module")
def clip(digits) -> synth.SyntheticClip:
    return synth.SyntheticClip(seed=11, size=SMALL_FRAME, page=SMALL_PAGE, digits=digits)


@pytest.fixture(scope="module")
def pages(digits) -> list[synth.Page]:
    return [synth.make_page(seed, CLEAN_PAGE, digits) for seed in range(4)]


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _gap(a: Box, b: Box) -> int:
    """Chebyshev gap between boxes: 0 when they touch or overlap."""
    return max(a.x - b.x2, b.x - a.x2, a.y - b.y2, b.y - a.y2, 0)


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_frame_and_truth(digits):
    first = synth.render_frame(seed=5, index=3, size=(160, 120), width=400, height=300, digits=digits)
    second = synth.render_frame(seed=5, index=3, size=(160, 120), width=400, height=300, digits=digits)
    assert np.array_equal(first[0], second[0])
    assert first[1] == second[1]
    other = synth.render_frame(seed=6, index=3, size=(160, 120), width=400, height=300, digits=digits)
    assert not np.array_equal(first[0], other[0])


def test_a_frame_alone_equals_the_same_frame_of_the_clip(digits):
    frames = list(synth.iter_frames(seed=8, frames=3, size=(160, 120), width=400, height=300, digits=digits))
    image, truth = synth.render_frame(seed=8, index=2, size=(160, 120), width=400, height=300, digits=digits)
    assert np.array_equal(frames[2][0], image)
    assert frames[2][1] == truth["frames"][0]
    assert image.shape == (120, 160, 3) and image.dtype == np.uint8


def test_unknown_page_option_is_a_clear_error(digits):
    with pytest.raises(ValueError, match="digit_hieght"):
        synth.render_frame(seed=1, size=(160, 120), digit_hieght=(0.1, 0.2), digits=digits)


# --------------------------------------------------------------------------- geometry of the truth


def test_digits_must_look_like_mnist(digits):
    images, labels = digits
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        synth.make_page(0, SMALL_PAGE, (images.astype(np.float32), labels))
    with pytest.raises(ValueError, match="labels"):
        synth.make_page(0, SMALL_PAGE, (images, labels[:-1]))


def test_project_box_with_identity_keeps_the_box():
    box = Box(10, 20, 30, 40)
    assert synth.project_box(box, np.eye(3), (100, 100)) == box
    assert synth.project_box(Box(90, 20, 30, 40), np.eye(3), (100, 100)) is None  # partly outside: left out


def test_frame_boxes_lie_inside_the_frame(clip):
    width, height = clip.size
    for index in (0, 17, 45):
        truth = clip.truth(index)
        assert truth["digits"], "a frame of the page should show digits"
        for item in truth["digits"] + truth["numbers"] + truth["marks"]:
            x, y, w, h = item["box"]
            assert all(isinstance(v, int) for v in item["box"])
            assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= width and y + h <= height


def test_the_camera_moves_a_few_pixels(clip):
    boxes = [clip.truth(i)["digits"][0]["box"] for i in range(0, 60, 3)]
    xs, ys = [b[0] for b in boxes], [b[1] for b in boxes]
    spread = max(max(xs) - min(xs), max(ys) - min(ys))
    assert 0 < spread < 30


def _digits_in(number: dict, digits: list[dict]) -> list[dict]:
    x, y, w, h = number["box"]
    inside = []
    for d in digits:
        cx, cy = d["box"][0] + d["box"][2] / 2, d["box"][1] + d["box"][3] / 2
        if x <= cx < x + w and y <= cy < y + h:
            inside.append(d)
    return sorted(inside, key=lambda d: d["box"][0])


def test_number_text_is_its_digits_left_to_right(clip, pages):
    for page in pages:
        for number in page.numbers:
            ordered = sorted(number.digits, key=lambda i: page.digits[i].box.x)
            assert list(ordered) == list(number.digits)
            assert number.text == "".join(str(page.digits[i].digit) for i in ordered)
            assert 1 <= len(number.text) <= 4
            union = page.digits[number.digits[0]].box
            for i in number.digits[1:]:
                union = union.union(page.digits[i].box)
            assert number.box == union
    truth = clip.truth(0)
    for number in truth["numbers"]:
        assert number["text"] == "".join(str(d["digit"]) for d in _digits_in(number, truth["digits"]))


def test_page_counts_fit_the_brief(digits):
    page = synth.make_page(2024, digits=digits)
    assert 6 <= len(page.numbers) <= 9
    assert 10 <= len(page.digits) <= 36
    assert len(page.marks) >= 5
    assert {m.kind for m in page.marks} <= set(marks.MARK_KINDS)


# --------------------------------------------------------------------------- ink and boxes


def test_page_ink_lies_inside_the_truth_boxes(pages):
    for page in pages:
        gray = _gray(page.image)
        paper = float(np.median(gray))
        dark = gray < paper - 90  # about half way from paper to ink
        covered = np.zeros_like(dark)
        for item in list(page.digits) + list(page.marks):
            b = item.box
            covered[b.y : b.y2, b.x : b.x2] = True
        stray = dark & ~covered
        assert stray.sum() == 0, f"{stray.sum()} dark pixels outside every box"
        for digit in page.digits:
            b = digit.box
            ys, xs = np.nonzero(dark[b.y : b.y2, b.x : b.x2])
            assert len(xs) > 0, f"no ink in the box of digit {digit}"
            # Tight: the dark ink reaches close to every edge of its box.
            slack_x, slack_y = max(3, 0.15 * b.w), max(3, 0.15 * b.h)
            assert xs.min() <= slack_x and xs.max() >= b.w - 1 - slack_x
            assert ys.min() <= slack_y and ys.max() >= b.h - 1 - slack_y


def test_frame_ink_is_dark_inside_each_digit_box(clip):
    image, truth = clip.frame(0)
    gray = _gray(image).astype(np.float32)
    height, width = gray.shape
    for digit in truth["digits"]:
        x, y, w, h = digit["box"]
        inside = gray[y : y + h, x : x + w]
        pad = max(3, h // 3)
        ring = gray[max(0, y - pad) : min(height, y + h + pad), max(0, x - pad) : min(width, x + w + pad)]
        assert inside.min() < np.median(ring) - 40, f"digit {digit} has no dark ink in its box"


def test_digits_of_a_number_do_not_touch(pages):
    for page in pages:
        for number in page.numbers:
            boxes = [page.digits[i].box for i in number.digits]
            for a, b in zip(boxes, boxes[1:]):
                assert b.x - a.x2 >= 0.15 * min(a.h, b.h), f"digits {a} and {b} of {number.text} are too close"


def test_marks_keep_clear_of_numbers(clip, pages):
    for page in pages:
        assert page.marks
        for mark in page.marks:
            for number in page.numbers:
                tallest = max(page.digits[i].box.h for i in number.digits)
                assert _gap(mark.box, number.box) >= 0.8 * tallest, f"{mark} is too close to {number.text}"
    truth = clip.truth(0)
    for mark in truth["marks"]:
        for digit in truth["digits"]:
            assert Box(*mark["box"]).iou(Box(*digit["box"])) == 0.0


# --------------------------------------------------------------------------- files


def test_render_video_writes_video_and_matching_truth(tmp_path, digits):
    video, truth_path = tmp_path / "clip.mp4", tmp_path / "clip.json"
    returned = synth.render_video(video, truth_path, seed=3, frames=6, fps=30, size=(160, 120), width=400, height=300, digits=digits)
    truth = json.loads(truth_path.read_text())
    assert truth == returned
    assert truth["source"] == "clip.mp4" and truth["fps"] == 30 and truth["size"] == [160, 120]
    assert [f["frame"] for f in truth["frames"]] == list(range(6))
    capture = cv2.VideoCapture(str(video))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert count == 6


def test_render_still_writes_one_frame(tmp_path, digits):
    truth = synth.render_still(tmp_path / "p.jpg", tmp_path / "p.json", seed=4, size=(320, 240), width=400, height=300, digits=digits)
    image = cv2.imread(str(tmp_path / "p.jpg"))
    assert image.shape == (240, 320, 3)
    assert len(truth["frames"]) == 1 and truth["frames"][0]["digits"]


def test_committed_samples_exist_and_are_small():
    for name in ("demo.mp4", "demo.json", "page.png", "page.json", "README.md"):
        path = SAMPLES / name
        assert path.is_file(), f"{path} is missing: run `python -m livedigits.synth samples`"
        assert path.stat().st_size < synth.MAX_SAMPLE_BYTES


def test_demo_truth_matches_the_video():
    truth = json.loads((SAMPLES / "demo.json").read_text())
    capture = cv2.VideoCapture(str(SAMPLES / "demo.mp4"))
    count, shape = 0, None
    while True:
        ok, image = capture.read()
        if not ok:
            break
        shape = image.shape
        count += 1
    capture.release()
    assert count == len(truth["frames"]) >= 120
    assert shape == (480, 640, 3) and truth["size"] == [640, 480] and truth["fps"] == 30
    first = truth["frames"][0]
    assert 15 <= len(first["digits"]) <= 25 and 6 <= len(first["numbers"]) <= 10 and len(first["marks"]) >= 5
    assert all(25 <= d["box"][3] <= 75 for d in first["digits"])


def test_page_truth_matches_the_still():
    truth = json.loads((SAMPLES / "page.json").read_text())
    image = cv2.imread(str(SAMPLES / "page.png"))
    assert [image.shape[1], image.shape[0]] == truth["size"]
    assert len(truth["frames"]) == 1 and truth["frames"][0]["digits"]

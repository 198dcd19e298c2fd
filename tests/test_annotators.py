"""The picture drawn over each frame: the annotators and the ``Overlay`` that composes them.

What a person looking at the screen would check: every digit carries a readable tag, no tag covers
another or another digit, the number's reading is there, and asking for confidences shows them.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits.draw.annotators import (DIGIT_TEXT_FRACTION, DebugAnnotator, DigitBoxAnnotator, DigitLabelAnnotator,
                                   HudAnnotator, NumberAnnotator, place_tags, text_bounds)
from livedigits.draw.overlay import Overlay, OverlayStyle, status_screen
from livedigits.types import Box, Detection, Frame, FrameResult, Number

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def _overlap(a: Box, b: Box) -> bool:
    return a.x < b.x2 and b.x < a.x2 and a.y < b.y2 and b.y < a.y2


def _result(boxes, digits=None, size=(640, 480), numbers=None) -> FrameResult:
    image = np.full((size[1], size[0], 3), 220, np.uint8)
    digits = digits or [7] * len(boxes)
    detections = tuple(Detection(Box(*b), d, 0.987) for b, d in zip(boxes, digits))
    if numbers is None:
        numbers = (Number("".join(str(d) for d in digits), _union([d.box for d in detections]), 0.98, detections),)
    return FrameResult(Frame(0, 0.0, image), detections, tuple(numbers))


def _union(boxes):
    out = boxes[0]
    for b in boxes[1:]:
        out = out.union(b)
    return out


def _touching_row(count=6, x=100, y=200, w=22, h=40):
    return [(x + i * w, y, w, h) for i in range(count)]


@pytest.fixture(scope="module")
def page_result() -> FrameResult:
    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer

    image = cv2.imread(str(SAMPLES / "page.png"))
    return Recognizer(load_classifier("lite-int8")).process(Frame(0, 0.0, image))


@pytest.mark.parametrize("confidence", [False, True])
def test_tags_of_a_row_of_touching_digits_never_overlap(confidence: bool) -> None:
    result = _result(_touching_row())
    numbers = NumberAnnotator()
    labels = DigitLabelAnnotator(confidence=confidence, avoid=numbers)
    digit_tags = labels.tags(result, (640, 480))
    number_tags = [t.box for t in numbers.tags(result, (640, 480)) if t is not None]
    placed = [t.box for t in digit_tags if t is not None] + number_tags
    assert len(number_tags) == 1
    assert not [(a, b) for a, b in itertools.combinations(placed, 2) if _overlap(a, b)]
    # ... nor covers a digit: a number's tag none, a digit's tag none but its own.
    digits = [d.box for d in result.detections]
    assert not [d for t in number_tags for d in digits if _overlap(t, d)]
    assert not [(t, d) for t, own in zip(digit_tags, digits) if t is not None for d in digits
                if d != own and _overlap(t.box, d)]
    if not confidence:
        assert None not in digit_tags, "each digit of the row has its tag"


def test_tags_go_above_else_below_else_beside_never_inside() -> None:
    frame = (200, 200)
    box = Box(80, 80, 20, 40)
    # Free all round: above.
    assert place_tags([box], [(16, 16)], frame) == [Box(82, 59, 16, 16)]
    # Above taken: below.
    above = Box(60, 50, 60, 28)
    assert place_tags([box], [(16, 16)], frame, taken=[above]) == [Box(82, 125, 16, 16)]
    # Both taken: beside it, level with its middle, on the right first.
    below = Box(60, 122, 60, 30)
    assert place_tags([box], [(16, 16)], frame, taken=[above, below]) == [Box(105, 92, 16, 16)]
    right = Box(101, 60, 40, 80)
    assert place_tags([box], [(16, 16)], frame, taken=[above, below, right]) == [Box(59, 92, 16, 16)]
    # Nowhere free but inside the box: left out, never drawn over the writing.
    assert place_tags([box], [(16, 16)], frame, taken=[above, below, right, Box(0, 60, 79, 80)]) == [None]
    assert place_tags([box], [(16, 16)], frame, taken=[Box(0, 0, 200, 200)]) == [None]
    # At the top edge "above" is off the frame, and a tag is slid sideways into it, never cut.
    assert place_tags([Box(0, 0, 8, 30)], [(20, 16)], frame) == [Box(0, 35, 20, 16)]
    # A digit filling the frame's height: beside it, slid into the frame, whole.
    assert place_tags([Box(60, 0, 80, 200)], [(30, 40)], frame) == [Box(145, 80, 30, 40)]


def test_place_tags_refuses_a_position_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="above, below, right, left"):
        place_tags([Box(50, 50, 10, 10)], [(8, 8)], (100, 100), order=("inside",))


def _read(image: np.ndarray) -> FrameResult:
    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer

    return Recognizer(load_classifier("lite-int8")).process(Frame(0, 0.0, image))


@pytest.mark.parametrize("view", ["page", "one digit filling the view", "a number at the frame's edge"])
def test_no_tag_covers_the_writing_or_leaves_the_frame(view: str) -> None:
    page = cv2.imread(str(SAMPLES / "page.png"))
    if view == "page":
        image = page
    else:
        first = _read(page).numbers[0]  # 8159, near the top left
        if view == "one digit filling the view":  # its whole height, as a webcam held close sees it
            d = first.digits[0].box
            image = page[d.y - 6: d.y2 + 6, d.x - 60: d.x2 + 15]  # room on the left only
        else:  # the number against the top left corner
            d = first.box
            image = page[d.y - 3: d.y2 + 200, d.x - 3: d.x2 + 300]
        image = np.ascontiguousarray(image)
    result = _read(image)
    height, width = image.shape[:2]
    numbers = NumberAnnotator()
    digit_tags = DigitLabelAnnotator(avoid=numbers).tags(result, (width, height))
    number_tags = numbers.tags(result, (width, height))
    digits = [d.box for d in result.detections]
    placed = [t.box for t in digit_tags + number_tags if t is not None]
    assert digits and placed
    assert not [(t, d) for t in placed for d in digits if _overlap(t, d)], "a tag covers a digit (its own included)"
    assert all(0 <= t.x and 0 <= t.y and t.x2 <= width and t.y2 <= height for t in placed)
    if view == "one digit filling the view":  # no room above or below: its tag goes beside it, not on it
        assert len(digits) == 1 and digit_tags[0] is not None


def test_the_digit_text_grows_with_the_box_within_bounds() -> None:
    heights = []
    for h in (12, 30, 60, 90, 250):
        tag = DigitLabelAnnotator().tags(_result([(100, 100, h // 2, h)]), (640, 480))[0]
        heights.append(tag.label.text_size[1])
    low, high = text_bounds(480)
    assert heights == sorted(heights) and heights[0] == low and heights[-1] == high
    assert heights[2] == round(60 * DIGIT_TEXT_FRACTION)


def test_confidence_only_on_request() -> None:
    result = _result(_touching_row(2, w=60, h=60), digits=[4, 2])
    plain = DigitLabelAnnotator().tags(result, (640, 480))
    with_confidence = DigitLabelAnnotator(confidence=True).tags(result, (640, 480))
    assert [(t.label.text, t.label.note) for t in plain] == [("4", None), ("2", None)]
    assert [(t.label.text, t.label.note.text) for t in with_confidence] == [("4", "98%"), ("2", "98%")]
    # In smaller type after the digit, inside the tag.
    for tag in with_confidence:
        label = tag.label
        assert label.note.text_size[1] < label.text_size[1]
        assert tag.box.w == label.size[0] > label.text_size[0] + label.note.text_size[0]


def test_overlay_on_a_page_labels_every_digit_and_every_number(page_result: FrameResult) -> None:
    frame = page_result.frame.image
    overlay = Overlay()
    image = overlay.annotate(page_result, fps=29.5, status="paused")
    assert image.shape == frame.shape and image is not frame and not np.array_equal(image, frame)
    labels = next(a for a in overlay.annotators if isinstance(a, DigitLabelAnnotator))
    digit_tags = labels.tags(page_result, (frame.shape[1], frame.shape[0]))
    number_tags = labels.avoid.tags(page_result, (frame.shape[1], frame.shape[0]))
    assert len(page_result.detections) >= 20 and None not in digit_tags and None not in number_tags
    boxes = [t.box for t in digit_tags + number_tags]
    assert not [(a, b) for a, b in itertools.combinations(boxes, 2) if _overlap(a, b)]
    # Drawn: each digit tag's corner has the digits' colour, each number tag's the numbers'.
    style = OverlayStyle()
    for tags, color in ((digit_tags, style.digit_color), (number_tags, style.number_color)):
        for tag in tags:
            assert tuple(int(v) for v in image[tag.box.y, tag.box.x]) == color


def test_overlay_keeps_its_public_call(page_result: FrameResult) -> None:
    """``Overlay(style=..., debug=False, hud=True, confidence=False).annotate(result, fps=None, status=None)``."""
    plain = Overlay(style=OverlayStyle(), debug=False, hud=False).annotate(page_result)
    with_hud = Overlay(hud=True).annotate(page_result, fps=None, status=None)
    h = plain.shape[0]
    # The HUD line sits at the bottom left on its dark strip.
    assert tuple(int(v) for v in with_hud[h - 1, 0]) == (32, 32, 32) != tuple(int(v) for v in plain[h - 1, 0])
    wider = Overlay(confidence=True).annotate(page_result)
    assert not np.array_equal(wider, Overlay().annotate(page_result))


def test_debug_view_shows_the_mask_and_the_crops() -> None:
    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer

    image = cv2.imread(str(SAMPLES / "page.png"))
    result = Recognizer(load_classifier("lite-int8"), keep_debug=True).process(Frame(0, 0.0, image))
    assert result.mask is not None and result.candidates
    drawn = DebugAnnotator().annotate(image.copy(), result)
    h, w = image.shape[:2]
    thumb = drawn[1:60, w - w // 4 + 1: w - 1].astype(int)
    original = image[1:60, w - w // 4 + 1: w - 1].astype(int)
    grey = lambda a: np.abs(a[..., 0] - a[..., 2]).max() == 0  # noqa: E731
    assert grey(thumb) and not grey(original), "the top right corner shows the (grey) mask"
    assert not np.array_equal(drawn[h - 150: h - 40, :200], image[h - 150: h - 40, :200]), "the crops' strip"


def test_annotators_draw_in_place_and_keep_no_state() -> None:
    result = _result(_touching_row(3))
    annotators = [DigitBoxAnnotator(), NumberAnnotator(), DigitLabelAnnotator(), HudAnnotator()]
    first = result.frame.image.copy()
    for annotator in annotators:
        assert annotator.annotate(first, result) is first
    second = result.frame.image.copy()
    for annotator in annotators:
        annotator.annotate(second, result)
    assert np.array_equal(first, second) and not np.array_equal(first, result.frame.image)


def test_a_frame_too_small_for_labels_is_drawn_without_them() -> None:
    result = _result([(2, 2, 6, 10)], size=(12, 14))
    image = Overlay().annotate(result, fps=30.0, status="a status line far wider than the frame")
    assert image.shape == (14, 12, 3)


def test_status_screen_still_says_what_is_going_on() -> None:
    screen = status_screen((320, 240), "camera unavailable, retrying", "usb 0")
    assert screen.shape == (240, 320, 3) and screen.max() > 100 and np.median(screen) == 32

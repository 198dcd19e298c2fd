"""Draw a ``FrameResult`` onto a copy of its image. Reads the result only; no hidden state.

:class:`Overlay` is the picture ``run`` and ``serve`` show, composed of the annotators of
:mod:`livedigits.draw.annotators` (use those to draw your own); :func:`status_screen` and
:func:`waiting_screen` are what a screen shows while there is no picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from livedigits.draw.annotators import (POSITIONS, DebugAnnotator, DigitBoxAnnotator, DigitLabelAnnotator,
                                       ExpressionAnnotator, HudAnnotator, NumberAnnotator)
from livedigits.capture.images import source_image
from livedigits.types import FrameResult


@dataclass(frozen=True)
class OverlayStyle:
    digit_color: tuple[int, int, int] = (0, 200, 0)  # BGR
    number_color: tuple[int, int, int] = (0, 140, 255)
    hud_color: tuple[int, int, int] = (255, 255, 255)
    tag_text_color: tuple[int, int, int] = (0, 0, 0)


#: Where the digit tags go in the overlay: below their boxes first, since each number's reading sits
#: above it and a digit's tag between a number and its reading would read as part of it.
DIGIT_TAG_ORDER = ("below",) + tuple(p for p in POSITIONS if p != "below")


class Overlay:
    """``annotate(result, fps=None, status=None) -> image``: boxes, digit tags, numbers and a small HUD,
    on a copy of the frame.

    ``confidence=True`` adds each digit's probability to its tag. Each expression read gets a check, a
    cross or a ? after it (``answers=True``: an open one its value). ``debug=True`` also shows the
    threshold mask (top right) and a strip of the 28x28 crops the network saw (bottom), when the
    result carries them. ``hud=False`` leaves out the status line.
    """

    def __init__(self, style: OverlayStyle = OverlayStyle(), debug: bool = False, hud: bool = True,
                 confidence: bool = False, answers: bool = False):
        self.style = style
        self.debug = debug
        self.hud = hud
        self.confidence = confidence
        numbers = NumberAnnotator(style.number_color, style.tag_text_color)
        # Boxes first and tags last, so no line is drawn across a tag.
        self.annotators = [DigitBoxAnnotator(style.digit_color), numbers,
                           DigitLabelAnnotator(style.digit_color, style.tag_text_color, confidence=confidence,
                                               order=DIGIT_TAG_ORDER, avoid=numbers)]
        # The marks of the arithmetic (when the result has any): after the tags, beside each expression.
        self.annotators.append(ExpressionAnnotator(answers=answers))
        if debug:
            self.annotators.append(DebugAnnotator())
        self.hud_annotator = HudAnnotator(style.hud_color) if hud else None

    def annotate(self, result: FrameResult, fps: float | None = None, status: str | None = None) -> np.ndarray:
        image = source_image(result.frame)  # boxes are in the file's pixels: a JPEG decoded smaller is drawn whole
        for annotator in self.annotators:
            image = annotator.annotate(image, result)
        if self.hud_annotator is not None:
            image = self.hud_annotator.annotate(image, result, fps=fps, status=status)
        return image


def plot(result: FrameResult, confidence: bool = False, hud: bool = False) -> np.ndarray:
    """The frame's image, BGR ``uint8``, with each digit boxed and labelled and each number written above
    it, as the live window draws them; a new array (the frame's own image is left as it is).
    ``confidence`` adds each digit's probability to its label; ``hud`` the line of latency and digit
    count at the bottom. Behind ``result.plot()`` of the Python API."""
    return Overlay(hud=hud, confidence=confidence).annotate(result)


def status_screen(size: tuple[int, int], title: str, detail: str = "") -> np.ndarray:
    """A dark ``(h, w, 3)`` frame with ``title`` in large type and ``detail`` under it.

    Shown by the kiosk window and sent down the MJPEG stream while the camera is unavailable, so a
    screen nobody watches says what is going on instead of freezing on the last picture.
    """
    width, height = max(64, int(size[0])), max(48, int(size[1]))
    image = np.full((height, width, 3), 32, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(0.5, width / 700.0)
    thick = max(1, int(round(scale * 2)))
    for text, s, color, dy in ((title, scale, (80, 180, 255), -0.04), (detail, scale * 0.5, (220, 220, 220), 0.08)):
        if not text:
            continue
        # Shrink a long line until it fits the width.
        while s > 0.3 and cv2.getTextSize(text, font, s, thick)[0][0] > width * 0.92:
            s *= 0.9
        (tw, th), _ = cv2.getTextSize(text, font, s, thick)
        origin = ((width - tw) // 2, int(height * (0.5 + dy)) + th // 2)
        cv2.putText(image, text, origin, font, s, color, thick, cv2.LINE_AA)
    return image


def waiting_screen(source, size: tuple[int, int] | None = None) -> np.ndarray:
    """The status screen for a source with no picture yet: connecting, or unavailable and retrying."""
    size = size or getattr(source, "size", None) or (640, 480)
    title = "connecting to the camera..." if getattr(source, "state", "") == "starting" else "camera unavailable, retrying"
    return status_screen(size, title, getattr(source, "detail", "") or getattr(source, "name", ""))

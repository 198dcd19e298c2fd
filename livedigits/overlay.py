"""Draw a ``FrameResult`` onto a copy of its image. Reads the result only; no hidden state."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .types import FrameResult


@dataclass(frozen=True)
class OverlayStyle:
    digit_color: tuple[int, int, int] = (0, 200, 0)  # BGR
    number_color: tuple[int, int, int] = (0, 140, 255)
    hud_color: tuple[int, int, int] = (255, 255, 255)
    font: int = cv2.FONT_HERSHEY_SIMPLEX
    show_confidence: bool = True


class Overlay:
    """``annotate(result, fps=None) -> image``: boxes, digits, numbers and a small HUD.

    ``debug=True`` also shows the threshold mask (top right) and a strip of the 28x28 crops the
    network saw (bottom), when the result carries them.
    """

    def __init__(self, style: OverlayStyle = OverlayStyle(), debug: bool = False, hud: bool = True):
        self.style = style
        self.debug = debug
        self.hud = hud

    def annotate(self, result: FrameResult, fps: float | None = None, status: str | None = None) -> np.ndarray:
        image = result.frame.image.copy()
        h, w = image.shape[:2]
        s = self.style
        scale = max(0.4, min(w, h) / 900.0)
        thick = max(1, int(round(scale * 2)))
        for det in result.detections:
            b = det.box
            cv2.rectangle(image, (b.x, b.y), (b.x2, b.y2), s.digit_color, thick)
            label = f"{det.digit}" + (f" {det.confidence:.2f}" if s.show_confidence else "")
            self._label(image, label, (b.x, b.y2 + int(16 * scale) + 2), scale * 0.6, s.digit_color, thick)
        for number in result.numbers:
            b = number.box
            if len(number.digits) > 1:
                cv2.rectangle(image, (b.x - 3, b.y - 3), (b.x2 + 3, b.y2 + 3), s.number_color, thick)
            self._label(image, number.text, (b.x, max(int(22 * scale), b.y - 6)), scale * 1.0, s.number_color, thick + 1)
        if self.debug:
            self._debug(image, result)
        if self.hud:
            parts = []
            if fps is not None:
                parts.append(f"{fps:.1f} fps")
            parts.append(f"{result.latency_ms:.1f} ms")
            parts.append(f"{len(result.detections)} digits")
            if status:
                parts.append(status)
            self._label(image, "  ".join(parts), (8, h - 10), scale * 0.7, s.hud_color, thick)
        return image

    def _label(self, image, text, origin, font_scale, color, thickness):
        # A dark outline keeps the label readable on white paper and on a dark table.
        cv2.putText(image, text, origin, self.style.font, font_scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
        cv2.putText(image, text, origin, self.style.font, font_scale, color, thickness, cv2.LINE_AA)

    def _debug(self, image: np.ndarray, result: FrameResult) -> None:
        h, w = image.shape[:2]
        if result.mask is not None and result.mask.size:
            tw = w // 4
            th = max(1, int(result.mask.shape[0] * tw / max(1, result.mask.shape[1])))
            thumb = cv2.resize(result.mask, (tw, th), interpolation=cv2.INTER_AREA)
            image[0:th, w - tw: w] = cv2.cvtColor(thumb, cv2.COLOR_GRAY2BGR)
            cv2.rectangle(image, (w - tw, 0), (w - 1, th), (0, 255, 255), 1)
        if result.candidates:
            size = 28 * 2
            per_row = max(1, w // size)
            crops = [c.crop for c in result.candidates[:per_row]]
            strip = np.hstack([cv2.resize(c, (size, size), interpolation=cv2.INTER_NEAREST) for c in crops])
            strip = cv2.cvtColor((strip * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
            y0 = max(0, h - size - 30)
            image[y0: y0 + size, 0: strip.shape[1]] = strip


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

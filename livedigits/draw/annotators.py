"""Small drawing steps, each configured in its constructor, each with one ``annotate(image, result)``.

An annotator draws one kind of thing from a :class:`~livedigits.types.FrameResult` onto ``image`` **in
place** and returns it, so steps chain without copying the frame again (pass a copy to keep the
original). They keep no state between calls: the same annotator serves every frame and every thread.
:class:`~livedigits.draw.overlay.Overlay` composes them into the picture ``run`` and ``serve`` show; use them
directly to draw your own::

    import cv2
    from livedigits.draw.annotators import DigitBoxAnnotator, DigitLabelAnnotator, NumberAnnotator
    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer
    from livedigits.types import Frame

    result = Recognizer(load_classifier()).process(Frame(0, 0.0, cv2.imread("samples/page.png")))
    numbers = NumberAnnotator()
    image = result.frame.image.copy()
    for annotator in (DigitBoxAnnotator(), numbers, DigitLabelAnnotator(confidence=True, avoid=numbers)):
        image = annotator.annotate(image, result)
    cv2.imwrite("page-annotated.png", image)

**Labels are tags**: a filled rectangle with the text in it, sized from the box it labels (a digit's
text is :data:`DIGIT_TEXT_FRACTION` of its box's height, within :func:`text_bounds` of the frame
height) so it reads at a glance on a kiosk screen. :func:`place_tags` puts each tag beside its box
where no other tag is: the first free position of ``order`` (above, below or inside the box); a tag
with no free position is left out, so tags never cover each other.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable, Sequence

import cv2
import numpy as np

from livedigits.types import Box, FrameResult

FONT = cv2.FONT_HERSHEY_SIMPLEX
#: A digit's tag text is this fraction of the digit's box height: big enough to read across a room,
#: small enough that the tags of touching digits still fit side by side.
DIGIT_TEXT_FRACTION = 0.4
#: A number's label text, as a fraction of the number's box height (it is the reading that matters).
NUMBER_TEXT_FRACTION = 0.45
#: Label text is never smaller than this fraction of the frame height (12 px at 480 lines: legible
#: when the frame is scaled up to a kiosk screen) ...
MIN_TEXT_FRACTION = 1 / 40
#: ... nor under this many pixels (Hershey digits under 10 px lose their shapes) ...
MIN_TEXT_PX = 10
#: ... nor larger than this fraction of it (a page held close to the camera must not be all labels).
MAX_TEXT_FRACTION = 1 / 10
#: A digit's confidence, when shown, is this fraction of the digit's text height: it is there to be
#: read up close, and the tag must stay narrow enough for touching digits.
NOTE_FRACTION = 0.5
#: The HUD line's text height as a fraction of the frame height.
HUD_TEXT_FRACTION = 1 / 32
#: Padding around a tag's text, as a fraction of the text height.
TAG_PAD_FRACTION = 0.25
#: Pixels a multi-digit number's frame stands off its digits' boxes.
NUMBER_MARGIN = 3
#: Pixels between a digit's box and its tag: clear of the frame of its number. (A number's tag sits on
#: its frame, as a tab, so it reads as that number's.)
TAG_GAP = NUMBER_MARGIN + 2
#: Where a tag may go relative to its box, in the order tried.
POSITIONS = ("above", "below", "inside")

BLACK = (0, 0, 0)


def text_bounds(frame_height: int) -> tuple[int, int]:
    """The smallest and largest label text height, in pixels, for a frame ``frame_height`` tall."""
    low = max(MIN_TEXT_PX, round(frame_height * MIN_TEXT_FRACTION))
    return low, max(low, round(frame_height * MAX_TEXT_FRACTION))


def line_thickness(image: np.ndarray) -> int:
    """Box lines: one pixel up to 675 lines, thicker on larger frames so they stay visible scaled down."""
    return max(1, round(min(image.shape[:2]) / 450))


@dataclass(frozen=True)
class Label:
    """A text measured for a tag: drawn at ``scale`` and ``thickness``, ``text_size`` = ``(width, height)``
    pixels, with ``pad`` pixels around it in the tag; ``note``, smaller text after it on the same
    baseline (a digit's confidence), or None."""

    text: str
    scale: float
    thickness: int
    text_size: tuple[int, int]
    pad: int
    note: "Label | None" = None

    @property
    def size(self) -> tuple[int, int]:
        """The tag's ``(width, height)``."""
        width = self.text_size[0] + (0 if self.note is None else self.pad + self.note.text_size[0])
        return width + 2 * self.pad, self.text_size[1] + 2 * self.pad


def measure(text: str, text_height: int, note: str = "") -> Label:
    """``text`` set ``text_height`` pixels tall (digits have no descent: the height is the digits'), and
    ``note`` after it at :data:`NOTE_FRACTION` of that height."""
    thickness = max(1, round(text_height / 9))  # bold enough to read from across a room
    scale = cv2.getFontScaleFromHeight(FONT, int(text_height), thickness)
    (width, height), _ = cv2.getTextSize(text, FONT, scale, thickness)
    small = measure(note, max(MIN_TEXT_PX, min(text_height, round(text_height * NOTE_FRACTION)))) if note else None
    return Label(text, scale, thickness, (width, height), max(1, round(height * TAG_PAD_FRACTION)), small)


# Labels of digits and numbers take few distinct values and are measured for every frame: kept. (The
# HUD line, new every frame, is measured afresh.)
_measured = functools.lru_cache(maxsize=4096)(measure)


@dataclass(frozen=True)
class Tag:
    """A label placed: drawn by :func:`draw_tag` as ``box`` filled, with the text in it."""

    label: Label
    box: Box


def _candidate(anchor: tuple[int, int, int, int], width: int, height: int, position: str, align: str, gap: int,
               frame: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The tag's ``(x1, y1, x2, y2)`` at ``position`` and ``align`` by ``anchor`` = ``(x1, y1, x2, y2)``, slid
    sideways into the frame; None when it does not fit the frame's height there."""
    ax1, ay1, ax2, ay2 = anchor
    if align == "left":
        x = ax1
    elif align == "right":
        x = ax2 - width
    elif align == "center":
        x = (ax1 + ax2 - width) // 2
    else:
        raise ValueError(f"a tag is aligned to the left, right or center of its box, not {align!r}")
    x = min(max(0, x), frame[0] - width)
    if position == "above":
        y = ay1 - gap - height
    elif position == "below":
        y = ay2 + gap
    elif position == "inside":
        y = ay1 + gap
    else:
        raise ValueError(f"a tag position is one of {', '.join(POSITIONS)}, not {position!r}")
    if y < 0 or y + height > frame[1]:
        return None
    return x, y, x + width, y + height


def place_tags(anchors: Sequence[Box], sizes: Sequence[tuple[int, int]], frame: tuple[int, int], *,
               taken: Iterable[Box] = (), keep_clear: Sequence[Box] = (), order: Sequence[str] = POSITIONS,
               align: Sequence[str] = ("center",), gap: int = TAG_GAP) -> list[Box | None]:
    """Where each tag goes: ``sizes[i]`` = ``(width, height)`` of the tag of ``anchors[i]``, in a frame of
    ``frame`` = ``(width, height)`` pixels, ``gap`` pixels off its box.

    Each tag takes the first position of ``order`` (``above``, ``below``, ``inside`` the box), in the first
    alignment of ``align`` (``center`` on the box, flush with its ``left`` or ``right`` edge), that lies in
    the frame and overlaps none of: a tag placed before it, a box of ``taken`` (other tags), a box of
    ``keep_clear`` (ink to leave visible: the digits) other than its own anchor. None when there is no
    such place: the tag is left out, so tags never cover each other.
    """
    # Plain (x1, y1, x2, y2) tuples: this runs for every label of every frame, and a Box's properties
    # cost more than the comparisons.
    ink = [(b.x, b.y, b.x2, b.y2) for b in keep_clear]
    placed = [(b.x, b.y, b.x2, b.y2) for b in taken]
    out: list[Box | None] = []
    for anchor, (width, height) in zip(anchors, sizes):
        a = (anchor.x, anchor.y, anchor.x2, anchor.y2)
        spot = None
        if width <= frame[0] and height <= frame[1]:
            # Only what lies within a tag's reach of the anchor can be in the way.
            rx1, ry1, rx2, ry2 = a[0] - width, a[1] - gap - height, a[2] + width, a[3] + gap + height
            near = [o for o in placed if o[0] < rx2 and rx1 < o[2] and o[1] < ry2 and ry1 < o[3]]
            near += [o for o in ink if o != a and o[0] < rx2 and rx1 < o[2] and o[1] < ry2 and ry1 < o[3]]
            for position in order:
                for how in align:
                    box = _candidate(a, width, height, position, how, gap, frame)
                    if box is not None and not any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3]
                                                   for o in near):
                        spot = box
                        break
                if spot is not None:
                    break
        if spot is None:
            out.append(None)
        else:
            placed.append(spot)
            out.append(Box(spot[0], spot[1], spot[2] - spot[0], spot[3] - spot[1]))
    return out


def draw_tag(image: np.ndarray, tag: Tag, fill: tuple[int, int, int], text_color: tuple[int, int, int] = BLACK) -> None:
    """A filled rectangle with the text in it: readable on white paper and on a dark table alike."""
    b, label = tag.box, tag.label
    cv2.rectangle(image, (b.x, b.y), (b.x2 - 1, b.y2 - 1), fill, -1)
    x, baseline = b.x + label.pad, b.y + label.pad + label.text_size[1]
    cv2.putText(image, label.text, (x, baseline), FONT, label.scale, text_color, label.thickness, cv2.LINE_AA)
    note = label.note
    if note is not None:
        x += label.text_size[0] + label.pad
        cv2.putText(image, note.text, (x, baseline), FONT, note.scale, text_color, note.thickness, cv2.LINE_AA)


def _clamp(value: float, bounds: tuple[int, int]) -> int:
    return int(min(max(round(value), bounds[0]), bounds[1]))


class DigitBoxAnnotator:
    """A rectangle around each digit read."""

    def __init__(self, color: tuple[int, int, int] = (0, 200, 0), thickness: int | None = None):
        self.color = color
        self.thickness = thickness

    def annotate(self, image: np.ndarray, result: FrameResult) -> np.ndarray:
        thick = self.thickness or line_thickness(image)
        for det in result.detections:
            b = det.box
            cv2.rectangle(image, (b.x, b.y), (b.x2, b.y2), self.color, thick)
        return image


class NumberAnnotator:
    """Each number's reading in a tag at its top left (above its box where there is room), and a frame
    around the digits of a number of more than one digit."""

    def __init__(self, color: tuple[int, int, int] = (0, 140, 255), text_color: tuple[int, int, int] = BLACK,
                 thickness: int | None = None, order: Sequence[str] = POSITIONS):
        self.color = color
        self.text_color = text_color
        self.thickness = thickness
        self.order = tuple(order)

    def tags(self, result: FrameResult, frame: tuple[int, int]) -> list[Tag | None]:
        """The tag of each of ``result.numbers`` in a frame of ``frame`` = ``(width, height)`` (None: no room)."""
        bounds = text_bounds(frame[1])
        framed, labels = [], []
        for number in result.numbers:
            b = number.box
            framed.append(Box(b.x - NUMBER_MARGIN, b.y - NUMBER_MARGIN, b.w + 2 * NUMBER_MARGIN, b.h + 2 * NUMBER_MARGIN))
            labels.append(_measured(number.text, _clamp(b.h * NUMBER_TEXT_FRACTION, bounds)))
        # Flush left, where reading starts, else flush right, else centred; on the frame itself (gap 0), as a tab.
        spots = place_tags(framed, [label.size for label in labels], frame, keep_clear=[d.box for d in result.detections],
                           order=self.order, align=("left", "right", "center"), gap=0)
        return [None if spot is None else Tag(label, spot) for label, spot in zip(labels, spots)]

    def annotate(self, image: np.ndarray, result: FrameResult) -> np.ndarray:
        thick = self.thickness or line_thickness(image)
        for number in result.numbers:
            if len(number.digits) > 1:
                b = number.box
                cv2.rectangle(image, (b.x - NUMBER_MARGIN, b.y - NUMBER_MARGIN),
                              (b.x2 + NUMBER_MARGIN, b.y2 + NUMBER_MARGIN), self.color, thick)
        for tag in self.tags(result, (image.shape[1], image.shape[0])):
            if tag is not None:
                draw_tag(image, tag, self.color, self.text_color)
        return image


class DigitLabelAnnotator:
    """Each digit in a tag sized to its box, placed where it covers no other tag (see :func:`place_tags`).

    ``confidence=True`` adds the classifier's probability in smaller type (``7`` ``98%``). ``avoid``: a
    :class:`NumberAnnotator` whose tags these keep clear of (draw that one too, with the same frame).
    """

    def __init__(self, color: tuple[int, int, int] = (0, 200, 0), text_color: tuple[int, int, int] = BLACK,
                 confidence: bool = False, order: Sequence[str] = POSITIONS, avoid: NumberAnnotator | None = None):
        self.color = color
        self.text_color = text_color
        self.confidence = confidence
        self.order = tuple(order)
        self.avoid = avoid

    def note(self, confidence: float) -> str:
        """The confidence as shown: whole percent, rounded down; empty unless asked for."""
        return f"{int(confidence * 100)}%" if self.confidence else ""

    def tags(self, result: FrameResult, frame: tuple[int, int]) -> list[Tag | None]:
        """The tag of each of ``result.detections`` in a frame of ``frame`` = ``(width, height)`` (None: no room)."""
        bounds = text_bounds(frame[1])
        labels = [_measured(str(d.digit), _clamp(d.box.h * DIGIT_TEXT_FRACTION, bounds), self.note(d.confidence))
                  for d in result.detections]
        taken = [] if self.avoid is None else [t.box for t in self.avoid.tags(result, frame) if t is not None]
        boxes = [d.box for d in result.detections]
        spots = place_tags(boxes, [label.size for label in labels], frame, taken=taken, keep_clear=boxes,
                           order=self.order, align=("center", "left", "right"))
        return [None if spot is None else Tag(label, spot) for label, spot in zip(labels, spots)]

    def annotate(self, image: np.ndarray, result: FrameResult) -> np.ndarray:
        for tag in self.tags(result, (image.shape[1], image.shape[0])):
            if tag is not None:
                draw_tag(image, tag, self.color, self.text_color)
        return image


class HudAnnotator:
    """One status line at the bottom left: frames per second, latency, digits read, and a status word.

    ``fps`` and ``status`` belong to the moment of drawing, not to the result, so they are passed to
    ``annotate`` rather than fixed in the constructor.
    """

    def __init__(self, color: tuple[int, int, int] = (255, 255, 255), background: tuple[int, int, int] = (32, 32, 32)):
        self.color = color
        self.background = background

    def annotate(self, image: np.ndarray, result: FrameResult, fps: float | None = None, status: str | None = None) -> np.ndarray:
        parts = [] if fps is None else [f"{fps:.1f} fps"]
        parts += [f"{result.latency_ms:.1f} ms", f"{len(result.detections)} digits"]
        if status:
            parts.append(status)
        h, w = image.shape[:2]
        label = measure("  ".join(parts), max(MIN_TEXT_PX, round(h * HUD_TEXT_FRACTION)))
        width, height = label.size
        if width <= w and height <= h:  # a frame too small for the line goes without it
            draw_tag(image, Tag(label, Box(0, h - height, width, height)), self.background, self.color)
        return image


class DebugAnnotator:
    """What the network saw: the threshold mask (top right, a quarter of the width) and a strip of the
    28x28 crops (bottom, above the HUD), when the result carries them (``Recognizer(keep_debug=True)``)."""

    def __init__(self, frame_color: tuple[int, int, int] = (0, 255, 255), crop_px: int = 56):
        self.frame_color = frame_color
        self.crop_px = crop_px

    def annotate(self, image: np.ndarray, result: FrameResult) -> np.ndarray:
        h, w = image.shape[:2]
        if result.mask is not None and result.mask.size:
            tw = max(1, w // 4)
            th = min(h, max(1, int(result.mask.shape[0] * tw / max(1, result.mask.shape[1]))))
            thumb = cv2.resize(result.mask, (tw, th), interpolation=cv2.INTER_AREA)
            image[0:th, w - tw: w] = cv2.cvtColor(thumb, cv2.COLOR_GRAY2BGR)
            cv2.rectangle(image, (w - tw, 0), (w - 1, th), self.frame_color, 1)
        size = self.crop_px
        if result.candidates and size <= h:
            crops = [c.crop for c in result.candidates[: max(1, w // size)]]
            strip = np.hstack([cv2.resize(c, (size, size), interpolation=cv2.INTER_NEAREST) for c in crops])
            strip = cv2.cvtColor((np.clip(strip, 0, 1) * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)[:, :w]
            hud = max(MIN_TEXT_PX, round(h * HUD_TEXT_FRACTION)) * 2
            y0 = max(0, h - size - hud)
            image[y0: y0 + size, 0: strip.shape[1]] = strip
        return image


__all__ = ["DebugAnnotator", "DigitBoxAnnotator", "DigitLabelAnnotator", "HudAnnotator", "NumberAnnotator",
           "Label", "Tag", "draw_tag", "measure", "place_tags", "text_bounds"]


#: Verdict colours (BGR): a green check, a red cross, an amber question mark, grey for an open sum.
VERDICT_COLORS = {"right": (0, 170, 0), "wrong": (0, 0, 220), "unsure": (0, 170, 255), "open": (160, 160, 160)}


class ExpressionAnnotator:
    """After each expression read (``result.expressions``): a green check when its answer is right, a red
    cross when wrong, a ? when unsure; an open one gets nothing, or its value with ``answers=True`` (off by
    default: a checker, not a cheat). The mark is drawn as strokes (OpenCV's fonts have no ✓ or ✗), as tall
    as the expression, just right of it."""

    def __init__(self, answers: bool = False, thickness: int | None = None):
        self.answers = answers
        self.thickness = thickness

    def annotate(self, image: np.ndarray, result: FrameResult) -> np.ndarray:
        for expression in result.expressions or ():
            self.mark(image, expression)
        return image

    def mark(self, image: np.ndarray, expression) -> None:
        box = expression.box
        size = max(12, min(box.h, image.shape[0] // 6))
        t = self.thickness or max(2, round(size / 8))
        x0 = min(box.x2 + max(4, size // 4), image.shape[1] - size)
        y0 = int(box.y + box.h / 2 - size / 2)
        color = VERDICT_COLORS.get(expression.verdict, VERDICT_COLORS["open"])
        if expression.verdict == "right":
            pts = np.array([(x0, y0 + size * 0.55), (x0 + size * 0.35, y0 + size * 0.9), (x0 + size, y0 + size * 0.1)], np.int32)
            cv2.polylines(image, [pts.reshape(-1, 1, 2)], False, color, t, cv2.LINE_AA)
        elif expression.verdict == "wrong":
            cv2.line(image, (x0, y0), (x0 + size, y0 + size), color, t, cv2.LINE_AA)
            cv2.line(image, (x0, y0 + size), (x0 + size, y0), color, t, cv2.LINE_AA)
        elif expression.verdict == "unsure":
            self._text(image, "?", x0, y0, size, color, t)
        elif self.answers and expression.value is not None:
            from livedigits.reading.expressions import format_value

            self._text(image, format_value(expression.value), x0, y0, size, color, t)

    @staticmethod
    def _text(image, text, x0, y0, size, color, t) -> None:
        scale = cv2.getFontScaleFromHeight(FONT, int(size * 0.8), t)
        cv2.putText(image, text, (int(x0), int(y0 + size * 0.9)), FONT, scale, color, t, cv2.LINE_AA)

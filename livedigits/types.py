"""Small frozen data types passed between the stages of the pipeline.

Every stage takes and returns these, so a test can build one by hand, feed it to
a stage and read what comes back, with no camera, window or model.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field

import numpy as np


NOT_A_DIGIT = 10
"""Class index of "not a digit", the last output of an 11-class model (training and reading share it)."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels of the source frame: ``(x, y, w, h)``."""

    x: int
    y: int
    w: int
    h: int

    def __post_init__(self) -> None:
        if self.w < 0 or self.h < 0:
            raise ValueError(f"Box width and height must be >= 0, got w={self.w} h={self.h}")
        # The reading stage keys sets and dicts by box (a frame's boxes are hashed a dozen times each):
        # the hash is worked out once. It is the one the dataclass would make, of the same tuple.
        object.__setattr__(self, "_hash", hash((self.x, self.y, self.w, self.h)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)

    def as_list(self) -> list[int]:
        return [int(self.x), int(self.y), int(self.w), int(self.h)]

    def union(self, other: "Box") -> "Box":
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y)

    def iou(self, other: "Box") -> float:
        ix = max(0, min(self.x2, other.x2) - max(self.x, other.x))
        iy = max(0, min(self.y2, other.y2) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Frame:
    """One image from a source.

    ``index`` is the 0-based position of the frame in its source (gaps mean
    frames were dropped); ``time`` the capture time in seconds since the source
    started; ``image`` a BGR ``uint8`` array of shape ``(H, W, 3)``.
    ``stamp`` is ``time.monotonic()`` when the frame was received, set
    automatically, so latency is measured the same way for files and cameras.
    ``decode_ms`` is how long the reader thread spent getting this image from
    its backend (for live sources this includes waiting for the device), or
    None when unknown (the first frame, read while opening). ``file`` is the
    path of the still image this frame was read from (an image, folder or
    glob source), None for cameras, streams and videos. ``scale`` is how many
    times smaller than its file the image was decoded (a big JPEG the
    segmentation would shrink anyway: 2, 4 or 8; otherwise 1): the result's
    boxes are in the file's pixels, ``scale`` times the image's, and
    ``capture.images.source_image`` gives the image at the file's size.
    """

    index: int
    time: float
    image: np.ndarray = field(repr=False)
    stamp: float = field(default_factory=_time.monotonic, compare=False)
    decode_ms: float | None = field(default=None, compare=False)
    file: str | None = field(default=None, compare=False)
    scale: int = field(default=1, compare=False)


@dataclass(frozen=True)
class Candidate:
    """A piece of ink that may be a digit.

    ``crop`` is the MNIST-style ``(28, 28)`` float32 image in [0, 1], white ink
    on black, that the classifier sees.
    """

    box: Box
    crop: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Detection:
    """A candidate the classifier read as ``digit`` with ``confidence``.

    ``track_id`` follows the same piece of ink from frame to frame on video, cameras and streams (an
    integer unique within its source); None for still images, which are read one by one.
    ``printed``: the digit is type, not handwriting (a printed label, a table's row number, a form's
    heading: ``reading.words``); ``ReadingConfig.handwriting_only`` leaves such digits out.
    """

    box: Box
    digit: int
    confidence: float
    track_id: int | None = None
    printed: bool = False


@dataclass(frozen=True)
class Sign:
    """A sign read in the frame: ``char`` one of ``+ - x / = ( )``, with its box and confidence.

    ``alternatives``: the other readings its classifier gave a fair chance (``+`` for an ``x``, ``1`` for a
    ``/`` the digit model read as 1); ``from_digit``: the digit model reported it as a digit."""

    char: str
    box: Box
    confidence: float
    alternatives: tuple[str, ...] = ()
    from_digit: bool = False
    odds: tuple[float, ...] = ()
    """The probability of each of ``alternatives`` (as many, or none when not known)."""
    digit_confidence: float = 0.0
    """``from_digit``: the digit model's probability of the digit it read (0 when not known)."""


@dataclass(frozen=True)
class Number:
    """Digits read together along a line, left to right."""

    text: str
    box: Box
    confidence: float
    digits: tuple[Detection, ...] = ()


@dataclass(frozen=True)
class FrameResult:
    """Everything known about one processed frame.

    ``timings`` maps a stage name (``segment``, ``classify``, ``read``...) to
    milliseconds; ``classify`` is the time of the whole batch the frame was
    classified in (with several sources, their frames share one batch).
    ``latency_ms`` is the time from capture to this result. ``source`` names
    the source the frame came from (its label in a run of several). ``mask``
    and ``candidates`` are kept for ``--debug`` drawing and ``--save-crops``.
    """

    frame: Frame
    detections: tuple[Detection, ...]
    numbers: tuple[Number, ...]
    timings: dict[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)
    mask: np.ndarray | None = field(default=None, repr=False)
    probabilities: np.ndarray | None = field(default=None, repr=False)
    """The classifier's (N, C) probabilities of ``candidates``, smoothed on video; kept with them."""
    candidate_tracks: tuple[int, ...] = field(default=(), repr=False)
    """The track id of each of ``candidates`` on video (empty for stills); kept with them."""
    source: str = ""
    dropped: int = 0
    """Candidates the segmentation left out because the frame's budget was reached (see
    ``SegmentConfig.pixels_per_candidate``); 0 on any real page."""
    expressions: tuple | None = None
    """The arithmetic read in the frame (``reading.expressions.Expression``: text, box, value, answer,
    verdict), in reading order; None when arithmetic is off (``ReadingConfig.arithmetic``)."""
    node: str = ""
    """The Ray node id of the worker that read the frame (``livedigits run --ray``); "" when read here."""

    def to_record(self) -> dict:
        """The JSON Lines record for this frame. Its fields are described in one place, "The JSON Lines
        record" in docs/usage.md: ``file`` only when the frame came from a still image, ``track_id`` only on
        video, ``printed`` (on a detection) only when true, ``dropped`` only when the candidate budget was reached, ``node`` only when read on a Ray cluster."""
        record = {
            "source": self.source,
            "frame": int(self.frame.index),
            "time": round(float(self.frame.time), 4),
            "latency_ms": round(float(self.latency_ms), 3),
            "detections": [_detection_record(d) for d in self.detections],
            "numbers": [
                {"text": n.text, "box": n.box.as_list(), "confidence": round(float(n.confidence), 4)}
                for n in self.numbers
            ],
        }
        if self.expressions is not None:
            record["expressions"] = [e.to_record() for e in self.expressions]
        if self.frame.file is not None:
            record["file"] = str(self.frame.file)
        if self.dropped:
            record["dropped"] = int(self.dropped)
        if self.node:
            record["node"] = self.node
        return record


def _detection_record(detection: Detection) -> dict:
    record = {"box": detection.box.as_list(), "digit": int(detection.digit),
              "confidence": round(float(detection.confidence), 4)}
    if detection.track_id is not None:
        record["track_id"] = int(detection.track_id)
    if detection.printed:
        record["printed"] = True
    return record

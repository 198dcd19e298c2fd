"""One frame in, one ``FrameResult`` out: segment, classify in one batch, read."""

from __future__ import annotations

import time

import numpy as np

from .classify import Classifier
from .reading import DEFAULT_READING, ReadingConfig, Tracker, decide_all, group_numbers
from .segment import DEFAULT_CONFIG, SegmentConfig, resolve_splits, segment
from .types import Frame, FrameResult


class Recognizer:
    """Joins the stages and times each one (milliseconds in ``FrameResult.timings``).

    ``smooth=True`` keeps a tracker across calls, for video; use ``smooth=False`` (or a fresh
    Recognizer) for unrelated still images.
    """

    def __init__(
        self,
        classifier: Classifier,
        segment_config: SegmentConfig = DEFAULT_CONFIG,
        reading_config: ReadingConfig = DEFAULT_READING,
        smooth: bool = True,
        keep_debug: bool = False,
    ):
        self.classifier = classifier
        self.segment_config = segment_config
        self.reading_config = reading_config
        self.tracker = Tracker(reading_config) if smooth else None
        self.keep_debug = keep_debug

    def process(self, frame: Frame, received: float | None = None) -> FrameResult:
        """Recognise one frame. ``latency_ms`` runs from ``received`` (a ``time.monotonic()`` stamp)
        or, by default, from when the source captured the frame."""
        t0 = time.perf_counter()
        found = segment(frame.image, self.segment_config)
        t1 = time.perf_counter()
        if found.candidates:
            candidates, probabilities = resolve_splits(found, self.classifier.predict)
        else:
            candidates, probabilities = [], np.zeros((0, self.classifier.num_classes), np.float32)
        t2 = time.perf_counter()
        if self.tracker is not None:
            probabilities = self.tracker.update(candidates, probabilities)
        detections, rejected = decide_all(candidates, probabilities, self.reading_config)
        numbers = group_numbers(detections, self.reading_config, marks=rejected + found.marks)
        t3 = time.perf_counter()
        timings = {
            "segment": (t1 - t0) * 1e3,
            "classify": (t2 - t1) * 1e3,
            "read": (t3 - t2) * 1e3,
        }
        timings.update({f"segment.{stage}": ms for stage, ms in found.timings.items()})
        return FrameResult(
            frame=frame,
            detections=tuple(detections),
            numbers=tuple(numbers),
            timings=timings,
            latency_ms=(time.monotonic() - (frame.stamp if received is None else received)) * 1e3,
            candidates=tuple(candidates) if self.keep_debug else (),
            mask=found.mask if self.keep_debug else None,
            dropped=found.dropped,
        )

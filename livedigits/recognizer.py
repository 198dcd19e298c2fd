"""One frame in, one ``FrameResult`` out: segment, classify in one batch, read."""

from __future__ import annotations

import logging
import time

import numpy as np

from .classify import Classifier
from .reading import DEFAULT_READING, ReadingConfig, Tracker, decide_all, group_numbers
from .segment import DEFAULT_CONFIG, Segmentation, SegmentConfig, crops_batch, segment
from .types import Candidate, Frame, FrameResult


#: Both halves of a split candidate must read as digits at least this surely.
SPLIT_CONFIDENCE = 0.9


def resolve_splits(found: Segmentation, classify) -> tuple[list[Candidate], np.ndarray]:
    """The candidates and their probabilities, with each wide candidate replaced by its two halves where
    both read as digits more surely than the whole does. ``classify`` maps an (N, 28, 28, 1) batch to
    (N, C) probabilities; the whole frame goes to it in one call."""
    candidates = list(found.candidates)
    extra = [half for k in sorted(found.splits) for half in found.splits[k]]
    probabilities = classify(crops_batch(candidates + extra))
    if not extra:
        return candidates, probabilities
    base = probabilities[: len(candidates)]
    out_c, out_p = [], []
    halves_at = len(candidates)
    chosen = {}
    for k in sorted(found.splits):
        whole = base[k]
        left, right = probabilities[halves_at], probabilities[halves_at + 1]
        halves_at += 2
        digits = min(10, whole.shape[0])
        # The whole's own reading, digit or "not a digit", must be less sure than both halves' digits:
        # half an M is a fine 1, but the M is surely no digit.
        half_sure = min(float(left[:digits].max()), float(right[:digits].max()))
        if half_sure >= SPLIT_CONFIDENCE and half_sure > float(whole.max()):
            chosen[k] = (left, right)
    for k, candidate in enumerate(candidates):
        if k in chosen:
            for half, probs in zip(found.splits[k], chosen[k]):
                out_c.append(half)
                out_p.append(probs)
        else:
            out_c.append(candidate)
            out_p.append(base[k])
    return out_c, np.stack(out_p) if out_p else base[:0]


class Recognizer:
    """Joins the stages and times each one (milliseconds in ``FrameResult.timings``).

    ``smooth=True`` keeps a tracker across calls, for video; it starts afresh whenever the frame comes
    from another still image file (``Frame.file``), so the images of a folder never blend.
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
        self._last_file = None
        self._warned_budget = False

    def process(self, frame: Frame, received: float | None = None) -> FrameResult:
        """Recognise one frame. ``latency_ms`` runs from ``received`` (a ``time.monotonic()`` stamp)
        or, by default, from when the source captured the frame."""
        if self.tracker is not None and frame.file != self._last_file:
            # A new still image (a folder, a slide show) is another page: nothing carries over.
            self.tracker.reset()
            self._last_file = frame.file
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
        if found.dropped and not self._warned_budget:
            self._warned_budget = True  # once: the records say it for every frame
            logging.getLogger(__name__).warning(
                "frame %d held more pieces of ink than its budget (one per %d pixels): the %d smallest were left "
                "out (the record's 'dropped'); texture or noise, or lower SegmentConfig.pixels_per_candidate",
                frame.index, self.segment_config.pixels_per_candidate, found.dropped)
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

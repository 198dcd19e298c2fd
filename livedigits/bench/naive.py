"""The naive comparison (``--compare-naive``): the seed article's way, Keras ``model.predict()`` once
per crop, against each backend's whole frame on the same few frames."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from livedigits.util.stats import percentiles


def ours_on(classifier, frames: list) -> tuple[list[float], list[float]]:
    """Our per-frame cost (recognizer + overlay) and classify cost on exactly these frames."""
    from livedigits.draw.overlay import Overlay
    from livedigits.reading.recognizer import Recognizer

    recognizer, overlay = Recognizer(classifier), Overlay()
    recognizer.process(frames[0])  # the same kind of warm start the main run had
    recognizer.reset()
    totals, classify = [], []
    for frame in frames:
        started = time.perf_counter()
        result = recognizer.process(frame)
        overlay.annotate(result)
        totals.append((time.perf_counter() - started) * 1e3)
        classify.append(result.timings.get("classify", float("nan")))
    return totals, classify


def compare_naive(frames: list, results: list, log: Callable[[str], None]) -> dict:
    """The naive way on ``frames``, and beside it (``ours``) each backend's cost on the same frames, as
    :func:`ours_on` gave it in ``BackendResult.naive_frames_ms`` and ``naive_classify_ms``."""
    naive, frame_ms, classify_ms = _run_naive(frames, log)
    for result in results:
        ours = float(np.mean(result.naive_frames_ms))
        ours_classify = float(np.nanmean(result.naive_classify_ms))
        naive.setdefault("ours", {})[result.backend] = {
            "frame_ms": percentiles(result.naive_frames_ms),
            "classify_ms": percentiles(result.naive_classify_ms),
            "ratio": float(np.mean(frame_ms)) / ours if ours > 0 else None,
            "classify_ratio": float(np.mean(classify_ms)) / ours_classify if ours_classify > 0 else None,
        }
    return naive


def _run_naive(frames: list, log: Callable[[str], None]) -> tuple[dict, list[float], list[float]]:
    """The seed article's way: segment, then ``model.predict()`` once per crop, then read and draw.

    Returns the report's ``naive`` section and the per-frame totals and classify times behind it.
    """
    from livedigits.classify.modelfile import default_model_path, load_model
    from livedigits.draw.overlay import Overlay
    from livedigits.reading.numbers import decide, group_numbers
    from livedigits.vision.segment import find_candidates
    from livedigits.types import FrameResult

    path = default_model_path("keras")
    model = load_model(path)
    model.predict(np.zeros((1, 28, 28, 1), np.float32), verbose=0)  # build predict once, like a warm app
    overlay = Overlay()
    totals, classify, per_crop, crops_per_frame = [], [], [], []
    for n, frame in enumerate(frames, 1):
        log(f"naive: frame {n}/{len(frames)}")
        started = time.perf_counter()
        candidates = find_candidates(frame.image)
        class_started = time.perf_counter()
        rows = []
        for candidate in candidates:
            crop_started = time.perf_counter()
            rows.append(model.predict(candidate.crop[None, :, :, None], verbose=0))
            per_crop.append((time.perf_counter() - crop_started) * 1e3)
        probabilities = np.concatenate(rows) if rows else np.zeros((0, int(model.output_shape[-1])), np.float32)
        class_ms = (time.perf_counter() - class_started) * 1e3
        detections = decide(candidates, probabilities)
        numbers = group_numbers(detections)
        overlay.annotate(FrameResult(frame=frame, detections=tuple(detections), numbers=tuple(numbers)))
        totals.append((time.perf_counter() - started) * 1e3)
        classify.append(class_ms)
        crops_per_frame.append(len(candidates))
    return {
        "model": str(path),
        "method": "Keras model.predict(crop, verbose=0), one call per crop",
        "frames": len(frames),
        "crops_per_frame": crops_per_frame,
        "per_crop_predict_ms": percentiles(per_crop),
        "frame_ms": percentiles(totals),
        "classify_ms": percentiles(classify),
    }, totals, classify

"""Figures taken outside the measured loop, on real crops: the first frames of the source, read once
ahead of the runs, and the time of one ``predict`` of a full batch (64 crops by default)."""

from __future__ import annotations

import time

import numpy as np

from livedigits.util.stats import percentiles
from livedigits.bench.options import BenchOptions, sized_frame

#: Frames read ahead of the runs to find real crops for the 64-crop figure and the naive comparison.
PREPARE_MAX_FRAMES = 60
#: Calls of ``predict`` on the batch before the timed ones (first calls allocate and warm caches).
MICRO_WARMUP = 5


def time_batch(classifier, crops: np.ndarray, batch: int, repeats: int) -> dict:
    """p50 etc. of one ``predict`` of ``batch`` real crops (tiled if fewer were found)."""
    if len(crops) == 0:
        return {"batch": batch, "repeats": 0, "crops_found": 0, **percentiles([])}
    reps = int(np.ceil(batch / len(crops)))
    sample = np.concatenate([crops] * reps)[:batch][..., None].astype(np.float32)
    for _ in range(MICRO_WARMUP):
        classifier.predict(sample)
    times = np.empty(repeats)
    for i in range(repeats):
        started = time.perf_counter()
        classifier.predict(sample)
        times[i] = (time.perf_counter() - started) * 1e3
    return {"batch": batch, "repeats": repeats, "crops_found": int(min(len(crops), batch)), **percentiles(times)}


def read_ahead(options: BenchOptions, spec) -> tuple[list, np.ndarray]:
    """Read the first frames of the source: ``naive_frames`` images and up to ``micro_batch`` real crops."""
    from livedigits.vision.segment import find_candidates
    from livedigits.capture.sources import open_source

    want_frames = options.naive_frames if options.compare_naive else 0
    images, crops = [], []
    with open_source(spec) as source:
        for _ in range(PREPARE_MAX_FRAMES):
            frame = source.read(timeout=10.0)
            if frame is None:
                break
            frame = sized_frame(frame, options)
            if len(images) < want_frames:
                images.append(frame)
            if len(crops) < options.micro_batch:
                crops.extend(c.crop for c in find_candidates(frame.image))
            if len(images) >= want_frames and len(crops) >= options.micro_batch:
                break
    crops_array = np.stack(crops[: options.micro_batch]) if crops else np.zeros((0, 28, 28), np.float32)
    return images, crops_array

"""The measured run: every frame of a source through the engine of ``livedigits run``, timed stage by
stage.

:func:`measure_backend` plays ``warmup + frames`` frames through :class:`livedigits.engine.loop.Engine`
and keeps what its ``on_result`` callback reports of each frame (:class:`~livedigits.engine.loop.FrameStats`:
the wait for the frame, the resize, the overlay, the processing, the batch size) beside the stage
timings of the result. Nothing of the loop is wrapped. A file is looped by the supervisor
(:class:`~livedigits.capture.supervise.KeptSource`) until the run has its frames. :class:`_Recorder` keeps the
figures in arrays sized before the run, so the memory growth reported is the loop's, not the bench's.
"""

from __future__ import annotations

import time

import numpy as np

from livedigits.util.progress import bar
from livedigits.util.stats import percentiles
from livedigits.bench.machine import rss_mb
from livedigits.bench.options import BenchOptions
from livedigits.bench.report import BackendResult
from livedigits.bench.stages import STAGES

#: Resident memory is sampled every this many measured frames (and at the start and end).
RSS_EVERY = 50


class _Recorder:
    """Per-frame figures in arrays allocated before the run; the first ``warmup`` frames are not kept."""

    def __init__(self, frames: int, warmup: int):
        self.capacity = frames
        self.warmup = warmup
        self.seen = 0
        self.count = 0
        self.values = {stage: np.full(frames, np.nan) for stage in STAGES}
        self.batch = np.zeros(frames, np.int32)
        self.reused = np.zeros(frames, np.int32)
        self.rss = np.full(frames // RSS_EVERY + 2, np.nan)
        self.rss_at = np.zeros(frames // RSS_EVERY + 2, np.int64)
        self.rss_count = 0
        self.started = self.ended = 0.0
        # CPU seconds of the whole process and of the loop thread: on a shared machine, wall time also
        # counts the waits for a free core; CPU time does not.
        self.cpu_started = self.cpu_ended = 0.0
        self.thread_cpu_started = self.thread_cpu_ended = 0.0
        self.dropped_at_start = 0

    def sample_rss(self) -> None:
        if self.rss_count < len(self.rss):
            self.rss[self.rss_count] = rss_mb()
            self.rss_at[self.rss_count] = self.count
            self.rss_count += 1

    def begin(self, dropped: int) -> None:
        self.started = time.perf_counter()
        self.cpu_started, self.thread_cpu_started = time.process_time(), time.thread_time()
        self.dropped_at_start = dropped
        self.sample_rss()

    def end_frame(self) -> None:
        self.count += 1
        self.ended = time.perf_counter()
        self.cpu_ended, self.thread_cpu_ended = time.process_time(), time.thread_time()

    def cpu_ms_per_frame(self) -> dict:
        n = max(1, self.count)
        return {"process": (self.cpu_ended - self.cpu_started) * 1e3 / n,
                "loop_thread": (self.thread_cpu_ended - self.thread_cpu_started) * 1e3 / n}


def open_measured(spec, options: BenchOptions):
    """The source a measured run reads: a file is looped by the supervisor (read as fast as possible,
    or paced at its frame rate with ``--realtime``) so the run gets all its frames; a camera or stream
    is read as it comes."""
    from livedigits.capture.sources import open_source, source_kind
    from livedigits.capture.supervise import KeptSource

    source = open_source(spec) if source_kind(spec) in ("camera", "stream") else \
        KeptSource(spec, pace=False, realtime=options.realtime)
    return _AspectKept(source, options.size) if options.keep_aspect and options.size is not None else source


class _AspectKept:
    """A source whose frames come fitted to ``size`` with their aspect kept (``bench --keep-aspect``:
    :func:`~livedigits.bench.options.fit_frame`); everything else is the wrapped source's. The fit is done in
    the source's ``read``, so the engine is given no resize of its own and reports none."""

    def __init__(self, source, size: tuple[int, int]) -> None:
        self._source, self._size = source, tuple(size)

    def __getattr__(self, name):
        return getattr(self._source, name)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def start(self):
        self._source.start()
        return self

    def read(self, timeout: float | None = None):
        from livedigits.bench.options import fit_frame

        frame = self._source.read(timeout)
        return None if frame is None else fit_frame(frame, self._size)

    def stop(self) -> None:
        self._source.stop()


def _measure(classifier, options: BenchOptions, spec, progress_stream, label: str) -> tuple:
    """Run ``warmup + frames`` frames of ``spec`` through the engine, as ``livedigits run`` does, and
    record what its callback reports of each frame; return (recorder, source, summary)."""
    from livedigits.engine.loop import Engine
    from livedigits.reading.recognizer import Recognizer

    source = open_measured(spec, options)
    rec = _Recorder(options.frames, options.warmup)
    # On a terminal a bar with an ETA; in a log or a pipe a line per quarter of the frames.
    progress = (bar(options.warmup + options.frames, desc=label, stream=progress_stream, force=True, lines=True)
                if options.progress and progress_stream is not None else None)

    def on_result(result, _annotated, stats) -> None:
        e2e_ms = (time.monotonic() - result.frame.stamp) * 1e3
        rec.seen += 1
        if progress is not None:
            progress.update(1)
        if rec.seen <= rec.warmup:
            if rec.seen == rec.warmup:
                rec.begin(source.frames_dropped)
            return
        i = rec.count
        if i >= rec.capacity:
            return
        values = rec.values
        values["capture_wait"][i] = stats.wait_ms
        if result.frame.decode_ms is not None:
            values["decode"][i] = result.frame.decode_ms
        values["resize"][i] = stats.resize_ms
        for stage, ms in result.timings.items():
            if stage in values:
                values[stage][i] = ms
        values["overlay"][i] = stats.overlay_ms
        values["processing"][i] = stats.processing_ms
        values["e2e"][i] = e2e_ms
        rec.batch[i] = stats.batch
        rec.reused[i] = stats.reused
        rec.end_frame()
        if rec.count % RSS_EVERY == 0:
            rec.sample_rss()

    if rec.warmup == 0:
        rec.begin(0)
    engine = Engine([source], Recognizer(classifier), on_result=on_result,
                    resize=None if options.keep_aspect else options.size,
                    max_frames=options.warmup + options.frames, signals=True)
    try:
        summary = engine.run()
    finally:
        if progress is not None:
            progress.close()
    if rec.rss_count == 0 or rec.rss_at[rec.rss_count - 1] != rec.count:
        rec.sample_rss()
    return rec, source, summary


def _batch_summary(sizes: np.ndarray, backend: str, reused: np.ndarray | None = None) -> dict:
    """The crops the classifier read per frame (``sizes``), and the share of all crops that kept an
    earlier frame's reading instead (``reused``, per frame; see ``livedigits.reading.reuse``)."""
    from livedigits.classify.backends import LITE_BUCKETS

    values, counts = np.unique(sizes, return_counts=True)
    data = {
        "distribution": {str(int(v)): int(c) for v, c in zip(values, counts)},
        "min": int(sizes.min()) if sizes.size else 0,
        "p50": float(np.percentile(sizes, 50)) if sizes.size else 0.0,
        "max": int(sizes.max()) if sizes.size else 0,
        "mean": float(sizes.mean()) if sizes.size else 0.0,
    }
    if reused is not None:
        total = int(sizes.sum()) + int(reused.sum())
        data["reused_share"] = float(reused.sum()) / total if total else 0.0
    if backend.startswith("lite") and sizes.size:
        padded = [next((b for b in LITE_BUCKETS if b >= s), LITE_BUCKETS[-1]) for s in sizes if s > 0]
        buckets, bucket_counts = np.unique(np.asarray(padded, np.int64), return_counts=True)
        data["lite_buckets"] = {str(int(b)): int(c) for b, c in zip(buckets, bucket_counts)}
    return data


def _memory_summary(rec: _Recorder) -> dict:
    rss = rec.rss[: rec.rss_count]
    at = rec.rss_at[: rec.rss_count]
    data = {
        "rss_start_mb": float(rss[0]) if rss.size else None,
        "rss_end_mb": float(rss[-1]) if rss.size else None,
        "rss_peak_mb": float(rss.max()) if rss.size else None,
        "rss_growth_mb": float(rss[-1] - rss[0]) if rss.size else None,
        "growth_kb_per_1000_frames": None,
        "samples": [[int(a), round(float(r), 2)] for a, r in zip(at, rss)],
        "frames": int(rec.count),
    }
    if rss.size >= 3 and at[-1] > at[0]:
        slope = np.polyfit(at.astype(np.float64), rss, 1)[0]  # MB per frame
        data["growth_kb_per_1000_frames"] = float(slope * 1e3 * 1e3)
    return data


def measure_backend(classifier, options: BenchOptions, spec, progress_stream, *, detail: str,
                    load_ms: float) -> tuple[BackendResult, list[str]]:
    """Measure one loaded classifier on ``spec``: its :class:`BackendResult` (without the figures
    measured outside the loop: the 64-crop batch, retracing, the naive comparison) and the run's
    warnings. ``result.ended_by`` says whether the run was interrupted."""
    rec, source, summary = _measure(classifier, options, spec, progress_stream, classifier.name)
    n = rec.count
    samples = {stage: rec.values[stage][:n].copy() for stage in STAGES}
    latency = {stage: percentiles(samples[stage]) for stage in STAGES if options.size or stage != "resize"}
    result = BackendResult(
        backend=classifier.name,
        device=classifier.device,
        detail=detail,
        load_ms=load_ms,
        frames=n,
        seconds=(rec.ended - rec.started) if n else 0.0,
        dropped=int(source.frames_dropped - rec.dropped_at_start),
        passes=getattr(source, "replays", 0) + 1,
        ended_by=summary.ended_by,
        latency_ms=latency,
        batch_sizes=_batch_summary(rec.batch[:n], classifier.name, rec.reused[:n]),
        memory=_memory_summary(rec),
        cpu_ms_per_frame=rec.cpu_ms_per_frame() if n else {},
        samples=samples,
    )
    return result, list(summary.warnings)

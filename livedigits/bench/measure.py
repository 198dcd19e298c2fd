"""The measured run: every frame of a source through the loop of ``livedigits run``, timed stage by stage.

:func:`measure_backend` plays ``warmup + frames`` frames through :func:`livedigits.runner.run` with
instruments around the real parts: :class:`_BenchSource` (loops a file, resizes, times the wait in
``read()``), :class:`_CountingClassifier` (the batch size of each frame) and an overlay that times
its drawing. :class:`_Recorder` keeps the figures in arrays sized before the run, so the memory
growth reported is the loop's, not the bench's.
"""

from __future__ import annotations

import time

import numpy as np

from ..progress import bar
from ..stats import percentiles
from .machine import rss_mb
from .options import BenchOptions, resized
from .report import STAGES, BackendResult

#: Resident memory is sampled every this many measured frames (and at the start and end).
RSS_EVERY = 50


class _BenchSource:
    """A source for ``runner.run`` that loops a file, resizes, and times the wait in ``read()``.

    It wraps a real :func:`~livedigits.sources.open_source` Source; when a file ends before the
    run has its frames, the file is opened again (the reopen shows in ``capture_wait`` of that
    frame). Live sources are not looped.
    """

    def __init__(self, spec, *, realtime: bool, size: tuple[int, int] | None):
        from ..sources import open_source

        self._open = lambda: open_source(spec, realtime=realtime)
        self._inner = self._open()
        self._size = size
        self.kind = self._inner.kind
        self.name = self._inner.name
        self.fps = self._inner.fps
        self.policy = self._inner.policy
        self.passes = 1
        self._dropped_before = 0
        self._warnings: list[str] = []
        self._waiting_since: float | None = None
        # About the frame last returned by read(); the loop handles it before the next read.
        self.wait_ms = 0.0
        self.resize_ms = float("nan")
        self.delivered_at = 0.0

    @property
    def state(self) -> str:
        return self._inner.state

    @property
    def frames_dropped(self) -> int:
        return self._dropped_before + self._inner.frames_dropped

    @property
    def warnings(self) -> list[str]:
        seen = []
        for warning in self._warnings + self._inner.warnings:
            if warning not in seen:
                seen.append(warning)
        return seen

    def start(self) -> "_BenchSource":
        self._inner.start()
        return self

    def stop(self) -> None:
        self._inner.stop()

    def read(self, timeout: float | None = None):
        from ..sources import STATE_ENDED

        if self._waiting_since is None:
            self._waiting_since = time.perf_counter()
        frame = self._inner.read(timeout)
        while frame is None and self._inner.state == STATE_ENDED and not self._inner.is_live:
            self._next_pass()
            frame = self._inner.read(timeout)
        if frame is None:
            return None
        got = time.perf_counter()
        self.wait_ms = (got - self._waiting_since) * 1e3
        self._waiting_since = None
        if self._size is not None and (frame.image.shape[1], frame.image.shape[0]) != self._size:
            frame = resized(frame, self._size)
            done = time.perf_counter()
            self.resize_ms = (done - got) * 1e3
            got = done
        self.delivered_at = got
        return frame

    def _next_pass(self) -> None:
        inner = self._inner
        self._dropped_before += inner.frames_dropped
        self._warnings.extend(inner.warnings)
        inner.stop()
        if inner.error is not None:
            raise inner.error
        self._inner = self._open().start()
        self.passes += 1


class _CountingClassifier:
    """Passes batches to a classifier and remembers the size of the last one."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.device = inner.device
        self.num_classes = inner.num_classes
        self.last_batch = 0

    def predict(self, batch: np.ndarray) -> np.ndarray:
        self.last_batch = len(batch)
        return self.inner.predict(batch)


def _timed_overlay():
    from ..overlay import Overlay

    class TimedOverlay(Overlay):
        last_ms = 0.0

        def annotate(self, result, fps=None, status=None):
            started = time.perf_counter()
            image = super().annotate(result, fps, status)
            self.last_ms = (time.perf_counter() - started) * 1e3
            return image

    return TimedOverlay()


class _Recorder:
    """Per-frame figures in arrays allocated before the run; the first ``warmup`` frames are not kept."""

    def __init__(self, frames: int, warmup: int):
        self.capacity = frames
        self.warmup = warmup
        self.seen = 0
        self.count = 0
        self.values = {stage: np.full(frames, np.nan) for stage in STAGES}
        self.batch = np.zeros(frames, np.int32)
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


def _measure(classifier, options: BenchOptions, spec, progress_stream, label: str) -> tuple:
    """Run ``warmup + frames`` frames of ``spec`` through ``runner.run``; return (recorder, source, summary)."""
    from ..recognizer import Recognizer
    from ..runner import run

    counting = _CountingClassifier(classifier)
    recognizer = Recognizer(counting)
    overlay = _timed_overlay()
    source = _BenchSource(spec, realtime=options.realtime, size=options.size)
    rec = _Recorder(options.frames, options.warmup)
    # On a terminal a bar with an ETA; in a log or a pipe a line per quarter of the frames.
    progress = (bar(options.warmup + options.frames, desc=label, stream=progress_stream, force=True, lines=True)
                if options.progress and progress_stream is not None else None)

    def on_result(result, _annotated) -> None:
        now = time.perf_counter()
        e2e_ms = (time.monotonic() - result.frame.stamp) * 1e3
        rec.seen += 1
        if rec.seen <= rec.warmup:
            if rec.seen == rec.warmup:
                rec.begin(source.frames_dropped)
            if progress is not None:
                progress.update(1)
            counting.last_batch = 0
            return
        i = rec.count
        if i >= rec.capacity:
            return
        values = rec.values
        values["capture_wait"][i] = source.wait_ms
        if result.frame.decode_ms is not None:
            values["decode"][i] = result.frame.decode_ms
        values["resize"][i] = source.resize_ms
        for stage, ms in result.timings.items():
            if stage in values:
                values[stage][i] = ms
        values["overlay"][i] = overlay.last_ms
        values["processing"][i] = (now - source.delivered_at) * 1e3
        values["e2e"][i] = e2e_ms
        rec.batch[i] = counting.last_batch
        counting.last_batch = 0
        rec.end_frame()
        if rec.count % RSS_EVERY == 0:
            rec.sample_rss()
        if progress is not None:
            progress.update(1)

    if rec.warmup == 0:
        rec.begin(0)
    try:
        summary = run(source, recognizer, overlay=overlay, max_frames=options.warmup + options.frames,
                      on_result=on_result)
    finally:
        if progress is not None:
            progress.close()
    if rec.rss_count == 0 or rec.rss_at[rec.rss_count - 1] != rec.count:
        rec.sample_rss()
    return rec, source, summary


def _batch_summary(sizes: np.ndarray, backend: str) -> dict:
    from ..classify import LITE_BUCKETS

    values, counts = np.unique(sizes, return_counts=True)
    data = {
        "distribution": {str(int(v)): int(c) for v, c in zip(values, counts)},
        "min": int(sizes.min()) if sizes.size else 0,
        "p50": float(np.percentile(sizes, 50)) if sizes.size else 0.0,
        "max": int(sizes.max()) if sizes.size else 0,
        "mean": float(sizes.mean()) if sizes.size else 0.0,
    }
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
        passes=source.passes,
        ended_by=summary.ended_by,
        latency_ms=latency,
        batch_sizes=_batch_summary(rec.batch[:n], classifier.name),
        memory=_memory_summary(rec),
        cpu_ms_per_frame=rec.cpu_ms_per_frame() if n else {},
        samples=samples,
    )
    return result, list(summary.warnings)

"""The latency benchmark: where the time of a frame goes, on this machine.

:func:`run_bench` plays a source through the real loop of ``livedigits run``
(:func:`livedigits.runner.run`: the same reader thread, recognizer and overlay), once per
backend, and times every frame:

``capture_wait``
    how long the loop waited in ``source.read()`` for a frame (0 when the reader thread is ahead);
``decode``
    how long the reader thread took to get the image from OpenCV (``Frame.decode_ms``; for a camera
    this includes waiting for the device); it runs in parallel with the processing of earlier frames;
``resize``
    only with ``size``: the bench's own resize to the requested size, done in the loop thread before
    the frame is handed on, and left out of ``processing``;
``segment``, ``classify``, ``read``
    the recognizer's own timings (``FrameResult.timings``);
``overlay``
    drawing the annotated frame;
``processing``
    from the frame in hand to the annotated frame: what one frame costs the loop;
``e2e``
    from the frame's capture (``Frame.stamp``, when the reader thread received it) to the annotated
    frame. For a file read as fast as possible this includes the frames waiting in the reader's
    queue; use ``realtime`` for a camera-like figure.

Recording uses arrays sized before the run, so the memory growth reported is the loop's, not the
bench's. Example::

    report = run_bench(BenchOptions("samples/demo.mp4", backend="lite", frames=300))
    print(report.text())
    report.write_json("bench.json")
    report.plot("bench.png")
"""

from __future__ import annotations

import glob
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Callable, TextIO

import numpy as np

from .classify import BACKENDS
from .errors import OutputError, SourceError, UsageError
from .extras import TRAIN_INSTALL, have_tensorflow, require_tensorflow
from .stats import percentiles

ROOT = Path(__file__).resolve().parent.parent
# The checkout's sample, or (for an installed package, run from the checkout) the one in the working folder.
DEFAULT_SAMPLE = ROOT / "samples" / "demo.mp4" if (ROOT / "samples" / "demo.mp4").is_file() else Path("samples") / "demo.mp4"

BENCH_BACKENDS = (*BACKENDS, "all")
#: ``all`` runs the LiteRT backends first, so their memory figures are not those of a process that
#: already holds TensorFlow.
ALL_BACKENDS = ("lite", "lite-int8", "keras")

STAGES = ("capture_wait", "decode", "resize", "segment", "segment.paper", "segment.lines", "segment.pieces",
          "classify", "read", "overlay", "processing", "e2e")
STAGE_LABELS = {
    "capture_wait": "capture wait",
    "decode": "decode (reader)",
    "resize": "resize (bench)",
    "segment": "segment",
    "segment.paper": "  paper, ink",
    "segment.lines": "  lines",
    "segment.pieces": "  pieces, crops",
    "classify": "classify",
    "read": "read",
    "overlay": "overlay",
    "processing": "processing",
    "e2e": "end-to-end",
}

#: Resident memory is sampled every this many measured frames (and at the start and end).
RSS_EVERY = 50
#: Frames read ahead of the runs to find real crops for the 64-crop figure and the naive comparison.
PREPARE_MAX_FRAMES = 60
MICRO_WARMUP = 5
STARTUP_TIMEOUT_S = 300.0
#: How long one ``read`` of the bench's source waits before the loop checks for a stop request.
READ_TIMEOUT_S = 0.25

#: The issue's targets. They are reported, never asserted: machines are shared and noisy.
TARGET_PROCESSING_640 = {"p50": 5.0, "p95": 10.0}
TARGET_PROCESSING_1280_P50 = 12.0
TARGET_CLASSIFY_64_P50 = 3.0
TARGET_NAIVE_RATIO = 100.0
TARGET_REALTIME_E2E_P95 = 33.0
TARGET_STARTUP_S = 3.0
TARGET_RSS_GROWTH_MB = 20.0
TARGET_RSS_FRAMES = 10_000


# --------------------------------------------------------------------------- options


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"1280x720"`` -> ``(1280, 720)``; None stays None. UsageError on anything else."""
    if text is None:
        return None
    parts = text.lower().replace("*", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"--size expects WIDTHxHEIGHT in pixels, e.g. 1280x720, got {text!r}") from None
    if width < 16 or height < 16 or width > 16384 or height > 16384:
        raise UsageError(f"--size must be between 16x16 and 16384x16384, got {text!r}")
    return (width, height)


@dataclass(frozen=True)
class BenchOptions:
    """What to measure. ``source`` None means the bundled ``samples/demo.mp4``."""

    source: str | int | None = None
    backend: str = "auto"
    """``auto`` (what ``livedigits run`` would pick), ``keras``, ``lite``, ``lite-int8`` or ``all``."""
    frames: int = 300
    """Measured frames per backend; a file is looped (reopened) to reach it."""
    warmup: int = 10
    """Frames processed first and not measured (first calls, caches, the tracker filling)."""
    size: tuple[int, int] | None = None
    """Resize every frame to ``(width, height)`` before processing, to measure larger inputs."""
    realtime: bool = False
    """Pace a file at its frame rate, newest frame wins, as a camera would deliver it."""
    compare_naive: bool = False
    """Also run the seed article's way: Keras ``model.predict()`` once per crop, on the same crops."""
    naive_frames: int = 5
    """Frames for the naive comparison (it costs ~60-110 ms per crop)."""
    startup: bool = False
    """Time ``livedigits run SOURCE --headless --max-frames 1`` from the command to its first result."""
    startup_runs: int = 2
    micro_batch: int = 64
    micro_repeats: int = 100
    progress: bool = True

    def __post_init__(self) -> None:
        if self.backend not in BENCH_BACKENDS:
            raise UsageError(f"--backend must be one of {', '.join(BENCH_BACKENDS)}, got {self.backend!r}")
        for name, low in (("frames", 1), ("warmup", 0), ("naive_frames", 1), ("startup_runs", 1),
                          ("micro_batch", 1), ("micro_repeats", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise UsageError(f"--{name.replace('_', '-')} must be an integer >= {low}, got {value!r}")
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 16):
            raise UsageError(f"size must be (width, height) of at least 16 pixels, got {self.size!r}")

    @property
    def spec(self) -> str | int | None:
        """The source as ``open_source`` takes it."""
        if self.source is None:
            if not DEFAULT_SAMPLE.is_file():
                raise SourceError(f"the bundled sample {DEFAULT_SAMPLE} is missing; pass a SOURCE (a video, camera index or stream)")
            return str(DEFAULT_SAMPLE)
        return self.source


# --------------------------------------------------------------------------- statistics


def rss_mb() -> float:
    """Resident set size of this process now, in MB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


# --------------------------------------------------------------------------- instruments


class _BenchSource:
    """A source for ``runner.run`` that loops a file, resizes, and times the wait in ``read()``.

    It wraps a real :func:`~livedigits.sources.open_source` Source; when a file ends before the
    run has its frames, the file is opened again (the reopen shows in ``capture_wait`` of that
    frame). Live sources are not looped.
    """

    def __init__(self, spec, *, realtime: bool, size: tuple[int, int] | None):
        from .sources import open_source

        self._open = lambda: open_source(spec, realtime=realtime)
        self._inner = self._open()
        self._size = size
        self.kind = self._inner.kind
        self.name = self._inner.name
        self.fps = self._inner.fps
        self.native_size = self._inner.size
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
        from .sources import STATE_ENDED

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
            frame = _resized(frame, self._size)
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


def _resized(frame, size: tuple[int, int]):
    import dataclasses

    import cv2

    height, width = frame.image.shape[:2]
    shrink = size[0] * size[1] < width * height
    image = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return dataclasses.replace(frame, image=image)  # keeps stamp and decode_ms


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
    from .overlay import Overlay

    class TimedOverlay(Overlay):
        last_ms = 0.0

        def annotate(self, result, fps=None, status=None):
            started = time.perf_counter()
            image = super().annotate(result, fps, status)
            self.last_ms = (time.perf_counter() - started) * 1e3
            return image

    return TimedOverlay()


class _Progress:
    """Progress on ``stream``: a tqdm bar with ETA on a terminal, a line per quarter otherwise."""

    def __init__(self, stream: TextIO | None, total: int, label: str):
        self.stream = stream
        self.total = max(1, total)
        self.label = label
        self._last_quarter = -1
        self._bar = None
        if stream is not None and getattr(stream, "isatty", lambda: False)():
            from .progress import bar

            self._bar = bar(self.total, desc=label, stream=stream, force=True)

    def update(self, done: int) -> None:
        if self.stream is None:
            return
        if self._bar is not None:
            if done > self._bar.n:
                self._bar.update(min(done, self.total) - self._bar.n)
            return
        quarter = 4 * done // self.total
        if quarter > self._last_quarter:
            self._last_quarter = quarter
            self.stream.write(f"{self.label}: {done}/{self.total} frames\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


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


# --------------------------------------------------------------------------- results


@dataclass
class BackendResult:
    """What one backend did over the run. ``samples`` holds the raw per-frame ms (for the plot)."""

    backend: str
    device: str
    detail: str
    load_ms: float
    frames: int
    seconds: float
    dropped: int
    passes: int
    ended_by: str
    latency_ms: dict[str, dict]
    batch_sizes: dict
    memory: dict
    cpu_ms_per_frame: dict = field(default_factory=dict)
    retracing: dict | None = None
    classify_batch: dict | None = None
    naive_frames_ms: list[float] = field(default_factory=list)
    naive_classify_ms: list[float] = field(default_factory=list)
    samples: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        skip = ("samples", "naive_frames_ms", "naive_classify_ms")
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        data["fps"] = self.fps
        return json.loads(json.dumps(data, default=_json_default))  # a deep, plain copy


@dataclass
class BenchReport:
    """Every figure of one ``livedigits bench`` run; ``to_dict()`` is the ``--json`` document."""

    options: dict
    source: dict
    machine: dict
    backends: list[BackendResult]
    naive: dict | None = None
    startup: dict | None = None
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False

    def backend(self, name: str) -> BackendResult:
        for result in self.backends:
            if result.backend == name:
                return result
        raise KeyError(name)

    def targets(self) -> list[dict]:
        return check_targets(self)

    def to_dict(self) -> dict:
        return {
            "schema": "livedigits-bench/1",
            "options": self.options,
            "source": self.source,
            "machine": self.machine,
            "backends": {b.backend: b.to_dict() for b in self.backends},
            "naive": self.naive,
            "startup": self.startup,
            "targets": self.targets(),
            "warnings": self.warnings,
            "interrupted": self.interrupted,
        }

    def write_json(self, path: str | os.PathLike) -> Path:
        target = Path(path)
        try:
            target.write_text(json.dumps(self.to_dict(), indent=2, default=_json_default) + "\n")
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror}") from None
        return target

    def plot(self, path: str | os.PathLike) -> Path:
        return plot_report(self, path)

    def text(self) -> str:
        return format_report(self)


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# --------------------------------------------------------------------------- machine


def machine_info() -> dict:
    """CPU, cores, memory, load, GPU visibility and library versions, without importing TensorFlow.

    The GPU is asked of TensorFlow when this process has already loaded it (a Keras run); otherwise
    NVIDIA device files are looked for, so a LiteRT-only bench stays as light as ``livedigits run``.
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_mb = None
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    memory_mb = int(line.split()[1]) / 1024.0
                    break
    except (OSError, ValueError):
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    load = _load_average()
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
        gpu_how = "TensorFlow lists none" if not gpus else "listed by TensorFlow"
    else:
        gpus = sorted(p for p in glob.glob("/dev/nvidia[0-9]*"))
        gpu_how = "no /dev/nvidia*; TensorFlow not loaded by this run"
    import cv2

    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average": load,
        "memory_mb": round(memory_mb) if memory_mb else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpus": gpus,
        "gpu_visible": bool(gpus),
        "gpu_check": gpu_how,
        "versions": {
            "tensorflow": _version("tensorflow"),
            "keras": _version("keras"),
            "ai-edge-litert": _version("ai-edge-litert"),
            "opencv": cv2.__version__,
            "numpy": np.__version__,
        },
    }


def _load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- measuring


def _load_classifier(backend: str):
    from .classify import load_classifier

    started = time.perf_counter()
    classifier = load_classifier(backend)
    return classifier, (time.perf_counter() - started) * 1e3


def _describe(classifier) -> str:
    if classifier.name == "keras":
        return f"Keras tf.function on {classifier.device.upper()}"
    threads = getattr(classifier, "_threads", None)
    kind = "int8" if classifier.name == "lite-int8" else "float32"
    return f"LiteRT {kind} on CPU" + (f", {threads} threads" if threads else "")


def _tracing_count(classifier) -> int | None:
    forward = getattr(classifier, "_forward", None)  # KerasClassifier's tf.function
    counter = getattr(forward, "experimental_get_tracing_count", None)
    return int(counter()) if counter is not None else None


def _measure(classifier, options: BenchOptions, spec, progress_stream, label: str) -> tuple:
    """Run ``warmup + frames`` frames of ``spec`` through ``runner.run``; return (recorder, source, summary)."""
    from .recognizer import Recognizer
    from .runner import run

    counting = _CountingClassifier(classifier)
    recognizer = Recognizer(counting)
    overlay = _timed_overlay()
    source = _BenchSource(spec, realtime=options.realtime, size=options.size)
    rec = _Recorder(options.frames, options.warmup)
    progress = _Progress(progress_stream if options.progress else None, options.warmup + options.frames, label)

    def on_result(result, _annotated) -> None:
        now = time.perf_counter()
        e2e_ms = (time.monotonic() - result.frame.stamp) * 1e3
        rec.seen += 1
        if rec.seen <= rec.warmup:
            if rec.seen == rec.warmup:
                rec.begin(source.frames_dropped)
            progress.update(rec.seen)
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
        progress.update(rec.seen)

    if rec.warmup == 0:
        rec.begin(0)
    try:
        summary = run(source, recognizer, overlay=overlay, max_frames=options.warmup + options.frames,
                      on_result=on_result)
    finally:
        progress.close()
    if rec.rss_count == 0 or rec.rss_at[rec.rss_count - 1] != rec.count:
        rec.sample_rss()
    return rec, source, summary


def _batch_summary(sizes: np.ndarray, backend: str) -> dict:
    from .classify import LITE_BUCKETS

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


def _micro(classifier, crops: np.ndarray, batch: int, repeats: int) -> dict:
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


def _prepare(options: BenchOptions, spec) -> tuple[list, np.ndarray]:
    """Read the first frames of the source: ``naive_frames`` images and up to ``micro_batch`` real crops."""
    from .segment import find_candidates
    from .sources import open_source

    want_frames = options.naive_frames if options.compare_naive else 0
    images, crops = [], []
    with open_source(spec) as source:
        for _ in range(PREPARE_MAX_FRAMES):
            frame = source.read(timeout=10.0)
            if frame is None:
                break
            if options.size is not None:
                frame = _resized(frame, options.size)
            if len(images) < want_frames:
                images.append(frame)
            if len(crops) < options.micro_batch:
                crops.extend(c.crop for c in find_candidates(frame.image))
            if len(images) >= want_frames and len(crops) >= options.micro_batch:
                break
    crops_array = np.stack(crops[: options.micro_batch]) if crops else np.zeros((0, 28, 28), np.float32)
    return images, crops_array


def _ours_on(classifier, frames: list) -> tuple[list[float], list[float]]:
    """Our per-frame cost (recognizer + overlay) and classify cost on exactly these frames."""
    from .overlay import Overlay
    from .recognizer import Recognizer

    recognizer, overlay = Recognizer(classifier), Overlay()
    recognizer.process(frames[0])  # the same kind of warm start the main run had
    recognizer.tracker.reset()
    totals, classify = [], []
    for frame in frames:
        started = time.perf_counter()
        result = recognizer.process(frame)
        overlay.annotate(result)
        totals.append((time.perf_counter() - started) * 1e3)
        classify.append(result.timings.get("classify", float("nan")))
    return totals, classify


def _naive(frames: list, log: Callable[[str], None]) -> dict:
    """The seed article's way: segment, then ``model.predict()`` once per crop, then read and draw."""
    from .modelfile import default_model_path, load_model
    from .overlay import Overlay
    from .reading import decide, group_numbers
    from .segment import find_candidates
    from .types import FrameResult

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
        probabilities = np.concatenate(rows) if rows else np.zeros((0, 11), np.float32)
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
        "_frame_ms": totals,
        "_classify_ms": classify,
    }


def measure_startup(spec, backend: str, runs: int) -> dict:
    """Seconds from starting ``livedigits run SPEC --headless --max-frames 1`` to its first result line.

    The result is read from ``--jsonl /dev/stdout`` as the child writes it; ``exit_s`` is until the
    child has shut down too.
    """
    command = [sys.executable, "-m", "livedigits", "run"]
    if spec is not None:
        command.append(str(spec))
    command += ["--headless", "--max-frames", "1", "--jsonl", "/dev/stdout"]
    if backend != "auto":
        command += ["--backend", backend]
    from .cameras import current

    if current() != "auto":
        command += ["--camera-api", current()]  # the camera opens in the child as it does here
    # The child imports this very package, installed or not.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    first, total, errors = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        got = None
        try:
            for line in proc.stdout:
                if line.startswith(b"{"):
                    got = time.perf_counter() - started
                    break
            _, err = proc.communicate(timeout=STARTUP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            errors.append(f"timed out after {STARTUP_TIMEOUT_S:g} s")
            continue
        total.append(time.perf_counter() - started)
        if got is None or proc.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            errors.append(lines[-1] if lines else f"exit code {proc.returncode}")
        else:
            first.append(got)
    return {
        "command": " ".join(command),
        "first_result_s": first,
        "exit_s": total,
        "median_first_result_s": float(np.median(first)) if first else None,
        "errors": errors,
    }


# --------------------------------------------------------------------------- the benchmark


def run_bench(options: BenchOptions, *, log: Callable[[str], None] | None = None,
              progress_stream: TextIO | None = sys.stderr) -> BenchReport:
    """Measure ``options.source`` with each backend asked for; see the module docstring."""
    log = log or (lambda message: None)
    spec = options.spec
    load_at_start = _load_average()
    backends = list(ALL_BACKENDS) if options.backend == "all" else [options.backend]
    left_out = []
    if options.backend == "all" and not have_tensorflow():
        backends.remove("keras")
        left_out.append(f"the keras backend is left out: TensorFlow is not installed ({TRAIN_INSTALL} adds it)")
    if options.compare_naive:
        require_tensorflow("--compare-naive (Keras model.predict)")

    probe = _BenchSource(spec, realtime=False, size=None)  # fails early, with one line, on a bad source
    probe.stop()
    source_info = {
        "spec": str(spec), "name": probe.name, "kind": probe.kind, "native_size": list(probe.native_size),
        "size": list(options.size or probe.native_size), "fps": probe.fps,
        "policy": "latest (paced at its fps)" if options.realtime and probe.fps else probe.policy,
    }
    warnings: list[str] = left_out
    if options.realtime and probe.kind == "video" and not probe.fps:
        warnings.append("--realtime: the file has no frame rate; it was read as fast as possible")
    if probe.kind in ("camera", "stream") and options.backend == "all":
        warnings.append("a live source gives each backend different frames; compare the figures with care")

    images, crops = _prepare(options, spec)
    if len(crops) == 0:
        warnings.append("no ink found in the first frames: the classify figures are on empty batches only")

    results: list[BackendResult] = []
    interrupted = False
    for name in backends:
        log(f"loading the {name} backend" + (" (what `livedigits run` picks)" if name == "auto" else ""))
        classifier, load_ms = _load_classifier(name)
        traces_before = _tracing_count(classifier)
        rec, source, summary = _measure(classifier, options, spec, progress_stream, classifier.name)
        if summary.ended_by.startswith(("interrupt", "SIGTERM")):
            interrupted = True
        for warning in summary.warnings:
            if warning not in warnings:
                warnings.append(warning)
        n = rec.count
        samples = {stage: rec.values[stage][:n].copy() for stage in STAGES}
        latency = {stage: percentiles(samples[stage]) for stage in STAGES if options.size or stage != "resize"}
        result = BackendResult(
            backend=classifier.name,
            device=classifier.device,
            detail=_describe(classifier),
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
        if interrupted:
            results.append(result)
            break
        log(f"{classifier.name}: {options.micro_batch} crops, {options.micro_repeats} calls")
        result.classify_batch = _micro(classifier, crops, options.micro_batch, options.micro_repeats)
        if images:
            result.naive_frames_ms, result.naive_classify_ms = _ours_on(classifier, images)
        if traces_before is not None:
            after = _tracing_count(classifier)
            result.retracing = {"traces_at_load": traces_before, "traces_after": after,
                                "retraced": after - traces_before,
                                "batch_sizes_seen": len(result.batch_sizes["distribution"])}
        results.append(result)
        del classifier

    naive = None
    if options.compare_naive and images and not interrupted:
        log(f"naive comparison on {len(images)} frames (model.predict per crop)")
        naive = _naive(images, log)
        for result in results:
            ours = float(np.mean(result.naive_frames_ms))
            ours_classify = float(np.nanmean(result.naive_classify_ms))
            naive.setdefault("ours", {})[result.backend] = {
                "frame_ms": percentiles(result.naive_frames_ms),
                "classify_ms": percentiles(result.naive_classify_ms),
                "ratio": float(np.mean(naive["_frame_ms"])) / ours if ours > 0 else None,
                "classify_ratio": float(np.mean(naive["_classify_ms"])) / ours_classify if ours_classify > 0 else None,
            }
        del naive["_frame_ms"], naive["_classify_ms"]

    startup = None
    if options.startup and not interrupted:
        startup = {}
        for name in [r.backend for r in results]:
            log(f"startup: {name}, {options.startup_runs} runs")
            startup[name] = measure_startup(spec, name, options.startup_runs)

    machine = machine_info()
    machine["load_average_start"] = load_at_start
    devices = sorted({r.device for r in results})
    machine["device"] = "+".join(devices) if devices else "cpu"
    return BenchReport(
        options={**asdict(options), "spec": str(spec)},
        source=source_info,
        machine=machine,
        backends=results,
        naive=naive,
        startup=startup,
        warnings=warnings,
        interrupted=interrupted,
    )


# --------------------------------------------------------------------------- targets


def check_targets(report: BenchReport) -> list[dict]:
    """The issue's targets that this run can speak to: ``name, backend, measured, target, met``."""
    checks = []

    def add(name, backend, measured, target, met, note=""):
        checks.append({"name": name, "backend": backend, "measured": measured, "target": target,
                       "met": met, "note": note})

    size = tuple(report.source["size"])
    for result in report.backends:
        b = result.backend
        processing = result.latency_ms["processing"]
        if processing["n"]:
            if size == (640, 480):
                for key, limit in TARGET_PROCESSING_640.items():
                    add(f"processing {key} at 640x480", b, processing[key], f"<= {limit:g} ms", processing[key] <= limit)
            if size == (1280, 720):
                add("processing p50 at 1280x720", b, processing["p50"], f"<= {TARGET_PROCESSING_1280_P50:g} ms",
                    processing["p50"] <= TARGET_PROCESSING_1280_P50)
        if result.classify_batch and result.classify_batch.get("p50") is not None and result.classify_batch["batch"] == 64:
            p50 = result.classify_batch["p50"]
            add("classify 64 crops p50", b, p50, f"<= {TARGET_CLASSIFY_64_P50:g} ms", p50 <= TARGET_CLASSIFY_64_P50)
        if report.naive and b in report.naive.get("ours", {}):
            ratio = report.naive["ours"][b]["ratio"]
            add("faster per frame than naive", b, ratio, f">= {TARGET_NAIVE_RATIO:g}x",
                ratio is not None and ratio >= TARGET_NAIVE_RATIO, f"on {report.naive['frames']} frames")
        if report.options.get("realtime") and report.source.get("fps"):
            e2e = result.latency_ms["e2e"]["p95"]
            add("realtime e2e p95", b, e2e, f"<= {TARGET_REALTIME_E2E_P95:g} ms",
                e2e is not None and e2e <= TARGET_REALTIME_E2E_P95, f"frame interval {1000 / report.source['fps']:.1f} ms")
        growth = result.memory.get("rss_growth_mb")
        if growth is not None:
            enough = result.frames >= TARGET_RSS_FRAMES
            add("RSS growth", b, growth, f"< {TARGET_RSS_GROWTH_MB:g} MB over {TARGET_RSS_FRAMES} frames",
                (growth < TARGET_RSS_GROWTH_MB) if enough else None,
                "" if enough else f"only {result.frames} frames: run --frames {TARGET_RSS_FRAMES} to judge")
    for b, data in (report.startup or {}).items():
        median = data.get("median_first_result_s")
        add("startup to first result", b, median, f"<= {TARGET_STARTUP_S:g} s",
            median is not None and median <= TARGET_STARTUP_S)
    return checks


# --------------------------------------------------------------------------- output


def _ms(value) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _load_text(load) -> str:
    return f"{load[0]:.2f}" if load else "?"


def format_report(report: BenchReport) -> str:
    """The table printed at the end of ``livedigits bench``."""
    src, m, opts = report.source, report.machine, report.options
    lines = []
    size = "x".join(str(v) for v in src["size"])
    native = "x".join(str(v) for v in src["native_size"])
    fps = f" @ {src['fps']:g} fps" if src.get("fps") else ""
    resized = f" (resized from {native})" if src["size"] != src["native_size"] else ""
    mode = "paced in real time" if opts["realtime"] else "read as fast as possible"
    lines.append(f"source: {src['name']} ({src['kind']}, {size}{resized}{fps}), {mode}; "
                 f"{opts['frames']} measured frames per backend after {opts['warmup']} warm-up")
    gpu = ", ".join(m["gpus"]) if m["gpu_visible"] else "no GPU visible"
    versions = m["versions"]
    lines.append(f"machine: {m['cpu']}, {m['logical_cores']} logical cores ({m['usable_cores']} usable), "
                 f"{m['memory_mb']} MB RAM; load average (1 min) {_load_text(m.get('load_average_start'))} at the start, "
                 f"{_load_text(m['load_average'])} at the end")
    lines.append(f"         {gpu} ({m['gpu_check']}); TensorFlow {versions['tensorflow']}, Keras {versions['keras']}, "
                 f"LiteRT {versions['ai-edge-litert']}, OpenCV {versions['opencv']}, NumPy {versions['numpy']}")
    lines.append(f"device that ran: {m['device'].upper()} - " + "; ".join(f"{b.backend}: {b.detail}" for b in report.backends))
    lines.append("")

    results = report.backends
    head = f"{'ms per frame':<17}" + "".join(f"  {b.backend + ' p50 / p95 / p99 / max':<31}" for b in results)
    lines.append(head)
    stages = [s for s in STAGES if any(s in b.latency_ms for b in results)]
    for stage in stages:
        row = f"{STAGE_LABELS[stage]:<17}"
        for b in results:
            p = b.latency_ms.get(stage)
            cell = "-" if not p or not p["n"] else " / ".join(_ms(p[k]) for k in ("p50", "p95", "p99", "max"))
            row += f"  {cell:<31}"
        lines.append(row)
    lines.append("")

    def row(label, cell):
        lines.append(f"{label:<17}" + "".join(f"  {cell(b):<31}" for b in results))

    row("frames", lambda b: f"{b.frames} in {b.seconds:.1f} s" + (f" ({b.passes} passes)" if b.passes > 1 else ""))
    row("throughput", lambda b: f"{b.fps:.1f} frames/s")
    row("CPU per frame", lambda b: "{process:.1f} ms all threads, {loop_thread:.1f} loop".format(**b.cpu_ms_per_frame)
        if b.cpu_ms_per_frame else "-")
    row("dropped frames", lambda b: str(b.dropped))
    if src.get("fps"):
        interval = 1000.0 / src["fps"]
        row("e2e p95 vs frame", lambda b: f"{_ms(b.latency_ms['e2e']['p95'])} vs {interval:.1f} ms"
            + ("" if opts["realtime"] else " (not paced)"))
    row("batch p50 / max", lambda b: f"{b.batch_sizes['p50']:g} / {b.batch_sizes['max']} crops")
    row("retraced", lambda b: ("no (traces: {traces_at_load} at load, {traces_after} after)".format(**b.retracing)
                               if b.retracing and not b.retracing["retraced"]
                               else f"YES, {b.retracing['retraced']} times" if b.retracing else "n/a"))
    row(f"{opts['micro_batch']} crops p50", lambda b: f"{_ms(b.classify_batch['p50'])} ms (p95 {_ms(b.classify_batch['p95'])})"
        if b.classify_batch and b.classify_batch.get("p50") is not None else "-")
    row("model load", lambda b: f"{b.load_ms:.0f} ms")
    row("RSS peak", lambda b: f"{b.memory['rss_peak_mb']:.0f} MB" if b.memory["rss_peak_mb"] else "-")
    row("RSS growth", lambda b: f"{b.memory['rss_growth_mb']:+.1f} MB over {b.memory['frames']} frames"
        if b.memory["rss_growth_mb"] is not None else "-")
    distributions = {json.dumps(b.batch_sizes["distribution"]) for b in results}
    for b in results if len(distributions) > 1 else results[:1]:
        who = b.backend if len(distributions) > 1 else "every backend"
        sizes = b.batch_sizes["distribution"]
        shown = ", ".join(f"{k}: {v}" for k, v in sizes.items()) if len(sizes) <= 15 else f"{len(sizes)} sizes (see --json)"
        lines.append(f"batch sizes, {who} (crops in the frame: frames): {shown}")

    if report.naive:
        nv = report.naive
        lines.append("")
        lines.append(f"naive (seed article: model.predict() once per crop) on {nv['frames']} frames only "
                     f"({sum(nv['crops_per_frame'])} crops; {_ms(nv['per_crop_predict_ms']['p50'])} ms per crop p50):")
        lines.append(f"  naive: {_ms(nv['frame_ms']['mean'])} ms per frame, classify {_ms(nv['classify_ms']['mean'])} ms")
        for name, ours in nv.get("ours", {}).items():
            lines.append(f"  {name}: {_ms(ours['frame_ms']['mean'])} ms per frame -> {ours['ratio']:.0f}x faster; "
                         f"classify {_ms(ours['classify_ms']['mean'])} ms -> {ours['classify_ratio']:.0f}x")
    if report.startup:
        lines.append("")
        for name, data in report.startup.items():
            firsts = ", ".join(f"{v:.2f}" for v in data["first_result_s"])
            exits = ", ".join(f"{v:.2f}" for v in data["exit_s"])
            line = f"startup {name}: command to first result {firsts} s (median {_ms(data['median_first_result_s'])}); to exit {exits} s"
            lines.append(line + (f"; errors: {'; '.join(data['errors'])}" if data["errors"] else ""))

    targets = report.targets()
    if targets:
        lines.append("")
        lines.append("targets (reported, not asserted):")
        for t in targets:
            verdict = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
            value = "-" if t["measured"] is None else f"{t['measured']:.2f}"
            note = f" ({t['note']})" if t["note"] else ""
            lines.append(f"  {verdict:<6} {t['backend']:<9} {t['name']}: {value} (target {t['target']}){note}")
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    if report.interrupted:
        lines.append("interrupted: the figures above cover the frames measured before the stop")
    return "\n".join(lines)


def plot_report(report: BenchReport, path: str | os.PathLike) -> Path:
    """Latency distribution per stage, one panel per backend: the share of frames done within x ms.

    The panels share the x axis (log milliseconds) and the colours, so backends compare at a glance.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    results = report.backends
    figure = Figure(figsize=(5.2 * len(results) + 2.2, 4.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(results), squeeze=False, sharex=True, sharey=True)[0]
    colours = dict(zip(STAGES, ("#1f77b4", "#ff7f0e", "#bcbd22", "#2ca02c", "#98df8a", "#17becf", "#aec7e8",
                                "#d62728", "#9467bd", "#8c564b", "#e377c2", "#333333")))
    interval = 1000.0 / report.source["fps"] if report.source.get("fps") else None
    for ax, result in zip(axes, results):
        for stage in STAGES:
            values = result.samples.get(stage)
            values = np.sort(values[np.isfinite(values)]) if values is not None else np.empty(0)
            if values.size == 0:
                continue
            total = stage in ("processing", "e2e")
            ax.step(np.maximum(values, 1e-3), np.arange(1, values.size + 1) / values.size, where="post",
                    color=colours[stage], linestyle="--" if total else "-", linewidth=2.0 if total else 1.3,
                    label=STAGE_LABELS[stage])
        if interval:
            ax.axvline(interval, color="grey", linewidth=0.8, linestyle=":")
            ax.text(interval, 0.5, f"frame interval {interval:.1f} ms", color="grey", fontsize=8, rotation=90,
                    ha="right", va="center")
        ax.set_xscale("log")
        ax.set_xlabel("milliseconds (log scale)")
        ax.set_ylim(0, 1.02)
        ax.grid(True, which="both", alpha=0.25)
        ax.set_title(f"{result.backend} on {result.device.upper()}: {result.frames} frames, {result.fps:.0f} fps", fontsize=10)
    axes[0].set_ylabel("share of frames done within")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right center", fontsize=8)
    size = "x".join(str(v) for v in report.source["size"])
    figure.suptitle(f"livedigits bench: {Path(report.source['name']).name} at {size}", fontsize=11)
    target = Path(path)
    try:
        figure.savefig(target, dpi=110)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror}") from None
    return target


__all__ = [
    "BENCH_BACKENDS",
    "BackendResult",
    "BenchOptions",
    "BenchReport",
    "DEFAULT_SAMPLE",
    "check_targets",
    "format_report",
    "machine_info",
    "measure_startup",
    "parse_size",
    "percentiles",
    "plot_report",
    "run_bench",
]

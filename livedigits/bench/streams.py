"""Several streams at once: per-stream figures of a run of N copies of the source (``--streams N``), and
how many streams at the source's own frame rate the machine holds without dropping frames
(``--find-streams``).

Each stream is a copy of the source with its own reader thread and tracker, paced at the file's frame
rate like a camera (the "latest" policy: a frame not taken before the next one arrives is dropped and
counted); every round the engine reads the newest frame of each stream in one classifier batch, as
``livedigits run A B C --headless --jsonl FILE`` does (records only: nothing is drawn).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from livedigits.util.stats import percentiles

#: Stream counts tried by ``--find-streams``, in order; the search stops at the first not held.
STREAM_COUNTS = (1, 2, 4, 6, 8, 10, 12, 16)
#: Seconds each count is run for, after ``WARMUP_S`` that are not counted (new batch sizes, caches).
FIND_SECONDS = 6.0
WARMUP_S = 1.5
#: A count of streams is held when at most this share of the frames the streams delivered was dropped.
MAX_DROPPED = 0.01


def _paced_copies(spec, count: int, realtime: bool):
    from livedigits.capture.supervise import KeptSource

    return [KeptSource(spec, pace=False, realtime=realtime) for _ in range(count)]


def run_streams(classifier, spec, count: int, *, seconds: float, warmup_s: float = WARMUP_S,
                realtime: bool = True, size=None, workers: int | None = None) -> dict:
    """Run ``count`` copies of ``spec`` for ``warmup_s + seconds`` after the first result; the figures of
    the last ``seconds``: per stream (frames, fps, dropped, e2e latency) and in all. ``workers``: the
    segmentation worker processes, as ``run --workers`` (None: one per core; 0: threads)."""
    from livedigits.engine.loop import Engine
    from livedigits.reading.recognizer import Recognizer

    # Every batch size a round may bring is tried first: a backend that prepares itself per batch
    # size (LiteRT's interpreters) would otherwise stall the first round of each new size.
    for crops in range(1, 40 * count + 1, 8):
        classifier.predict(np.zeros((crops, 28, 28, 1), np.float32))
    sources = _paced_copies(spec, count, realtime)
    latencies: dict[str, list[float]] = {}
    crops = {"classified": 0.0, "reused": 0.0, "carried": 0.0}
    measuring = threading.Event()
    begun = threading.Event()

    def on_result(result, _image, stats) -> None:
        begun.set()
        if measuring.is_set():
            latencies.setdefault(result.source, []).append((time.monotonic() - result.frame.stamp) * 1e3)
            # A round's figures come with each of its frames: each frame counts its share.
            crops["classified"] += stats.batch / stats.round_frames
            crops["reused"] += stats.reused / stats.round_frames
            crops["carried"] += stats.carried / stats.round_frames  # the frame's share of its round's

    # Headless, as `livedigits run A B C --headless --jsonl FILE` reads cameras: records, nothing drawn.
    engine = Engine(sources, Recognizer(classifier), on_result=on_result, resize=size, draw=False, workers=workers)
    marks: dict[str, dict] = {}

    def clock() -> None:
        # The warm-up runs from the first result: starting the worker processes is not measured.
        while not begun.wait(0.1):
            if engine.stop_flag:
                return
        if engine.stop_flag.event.wait(warmup_s):
            return
        # The window's clock starts before its counts are taken and stops after (below): a thread paused
        # between the two can make a rate read low, never high.
        marks["start_at"] = time.monotonic()
        marks["start"] = engine.stream_counts()
        marks["start_cpu"] = time.process_time()
        marks["start_workers_cpu"] = engine.worker_cpu_seconds()
        measuring.set()
        if engine.stop_flag.event.wait(seconds):
            return
        marks["end"] = engine.stream_counts()
        marks["end_at"] = time.monotonic()
        marks["end_cpu"] = time.process_time()
        marks["end_workers_cpu"] = engine.worker_cpu_seconds()
        engine.stop("measured")

    timer = threading.Thread(target=clock, name="livedigits-bench-clock", daemon=True)
    timer.start()
    summary = engine.run()
    timer.join(5.0)
    if "end" not in marks:
        return {"streams": count, "ended_by": summary.ended_by, "complete": False}
    elapsed = marks["end_at"] - marks["start_at"]
    per_stream = {}
    total_frames = total_dropped = 0
    for label, (frames, dropped) in marks["end"].items():
        frames0, dropped0 = marks["start"].get(label, (0, 0))
        frames, dropped = frames - frames0, dropped - dropped0
        total_frames += frames
        total_dropped += dropped
        lat = percentiles(latencies.get(label, []))
        per_stream[label] = {"frames": frames, "fps": frames / elapsed, "dropped": dropped,
                             "e2e_p50_ms": lat["p50"], "e2e_p95_ms": lat["p95"]}
    delivered = total_frames + total_dropped
    workers_share = (marks["end_workers_cpu"] - marks["start_workers_cpu"]) / elapsed
    cpu_share = (marks["end_cpu"] - marks["start_cpu"]) / elapsed + workers_share
    used = engine.segment_workers
    return {
        "streams": count,
        "workers": used.count if used is not None else 0,
        "seconds": elapsed,
        "complete": True,
        "per_stream": per_stream,
        "frames": total_frames,
        "fps_total": total_frames / elapsed,
        "dropped": total_dropped,
        "dropped_share": total_dropped / delivered if delivered else 0.0,
        # The engine's process (decoding every stream's frames too) and its segmentation workers, in cores
        # busy: 1.0 is one core.
        "cpu_cores": cpu_share,
        "cpu_cores_workers": workers_share,
        "cpu_ms_per_frame": 1e3 * cpu_share * elapsed / total_frames if total_frames else None,
        "crops_classified": round(crops["classified"]),
        "crops_reused": round(crops["reused"]),
        # Frames that carried an earlier frame's whole reading (the page stood still): the rest were read whole.
        "frames_carried": round(crops["carried"]),
        "ended_by": summary.ended_by,
    }


def find_streams(classifier, spec, *, size=None, counts=STREAM_COUNTS, seconds: float = FIND_SECONDS,
                 log=None, workers: int | None = None) -> dict:
    """Try each count of ``counts`` in turn; the most streams held (at most ``MAX_DROPPED`` dropped)
    and every run's figures."""
    runs = []
    held = 0
    for count in counts:
        if log is not None:
            log(f"streams: {count} at once for {seconds:g} s")
        figures = run_streams(classifier, spec, count, seconds=seconds, size=size, workers=workers)
        if not figures.get("complete"):
            break
        figures["held"] = figures["dropped_share"] <= MAX_DROPPED
        runs.append(figures)
        if not figures["held"]:
            break
        held = count
    return {"max_held": held, "max_dropped_share": MAX_DROPPED, "seconds": seconds, "runs": runs}


def streams_text(streams: dict | None, held: dict | None, frame_fps: float | None, size: str) -> list[str]:
    """The report's lines for ``--streams`` and ``--find-streams``."""
    lines = []
    if streams:
        lines.append("")
        lines.append(f"{streams['streams']} streams at once, headless ({size}, each paced at its frame rate), "
                     f"{streams['seconds']:.1f} s measured: {streams['fps_total']:.1f} frames/s in all, "
                     f"{streams['dropped']} dropped ({100 * streams['dropped_share']:.1f}%)")
        lines.append(f"  {_cpu(streams)}")
        for label, s in streams["per_stream"].items():
            p50 = "-" if s["e2e_p50_ms"] is None else f"{s['e2e_p50_ms']:.1f}"
            p95 = "-" if s["e2e_p95_ms"] is None else f"{s['e2e_p95_ms']:.1f}"
            lines.append(f"  {label}: {s['frames']} frames, {s['fps']:.1f} fps, {s['dropped']} dropped, "
                         f"end-to-end p50 {p50} / p95 {p95} ms")
    if held:
        lines.append("")
        rate = f" at {frame_fps:g} fps" if frame_fps else ""
        lines.append(f"streams held{rate}, headless ({size}, at most {100 * held['max_dropped_share']:g}% of frames dropped, "
                     f"{held['seconds']:g} s each): {held['max_held']}")
        for run in held["runs"]:
            lines.append(f"  {run['streams']:>2} streams: {run['fps_total']:.1f} frames/s in all, "
                         f"{100 * run['dropped_share']:.1f}% dropped -> {'held' if run['held'] else 'NOT held'}; "
                         f"{_cpu(run)}")
    return lines


def _cpu(run: dict) -> str:
    """The run's CPU use and the classifier's share of the crops, for the report."""
    shown = f"CPU {run['cpu_cores']:.2f} cores"
    if run.get("workers"):
        shown += f" ({run['cpu_cores_workers']:.2f} in {run['workers']} segmentation workers)"
    if run.get("cpu_ms_per_frame") is not None:
        shown += f" ({run['cpu_ms_per_frame']:.1f} ms a frame, decoding included)"
    total = run.get("crops_classified", 0) + run.get("crops_reused", 0)
    if total:
        shown += f", {100 * run['crops_reused'] / total:.0f}% of {total} crops kept an earlier reading"
    if run.get("frames"):
        shown += f", {100 * run.get('frames_carried', 0) / run['frames']:.0f}% of frames carried whole"
    return shown

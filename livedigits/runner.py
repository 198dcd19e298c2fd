"""The loop that joins a source, the recognizer and the sinks, and always shuts down cleanly.

The source's reader thread captures; this (main) thread recognises, draws and
writes. Ctrl-C and SIGTERM only set a flag, so the frame in hand is finished,
every sink is closed (JSONL complete to its last line, the video container
finalised) and the capture is released before ``run`` returns.
"""

from __future__ import annotations

import collections
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from .overlay import Overlay, waiting_screen
from .recognizer import Recognizer
from .types import FrameResult

READ_POLL_SECONDS = 0.25  # how often a blocked read wakes up to notice a stop request
#: While paused the window is only there to answer keys: it is drawn once and polled this often.
PAUSED_POLL_SECONDS = 0.05
# Percentiles in the summary cover the most recent frames only, so a kiosk running for days keeps a
# bounded amount of memory (about 10 minutes at 30 fps).
SUMMARY_WINDOW = 18_000


def _window() -> collections.deque:
    return collections.deque(maxlen=SUMMARY_WINDOW)


@dataclass
class RunSummary:
    frames: int = 0
    dropped: int = 0
    seconds: float = 0.0
    ended_by: str = "end of source"
    latencies_ms: collections.deque = field(default_factory=_window, repr=False)
    stage_ms: dict[str, collections.deque] = field(default_factory=dict, repr=False)
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def percentiles(self, values) -> dict[str, float]:
        if not values:
            return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
        arr = np.asarray(values)
        return {
            "p50": float(np.percentile(arr, 50)),
            "p95": float(np.percentile(arr, 95)),
            "p99": float(np.percentile(arr, 99)),
            "max": float(arr.max()),
        }

    def text(self) -> str:
        lat = self.percentiles(self.latencies_ms)
        lines = [
            f"frames: {self.frames} processed, {self.dropped} dropped, in {self.seconds:.1f} s ({self.fps:.1f} fps); ended by {self.ended_by}",
            "latency ms: " + "  ".join(f"{k} {v:.1f}" for k, v in lat.items()),
        ]
        for stage, values in self.stage_ms.items():
            p = self.percentiles(values)
            lines.append(f"  {stage:>8} ms: p50 {p['p50']:.2f}  p95 {p['p95']:.2f}  max {p['max']:.2f}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


class StopFlag:
    """Turns SIGINT/SIGTERM into a request to stop after the current frame.

    A second Ctrl-C raises KeyboardInterrupt as usual, for a user who really wants out.
    Handlers are installed only from the main thread and restored on exit.
    """

    def __init__(self):
        self.event = threading.Event()
        self.reason = ""
        self._previous = {}

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def __bool__(self) -> bool:
        return self.event.is_set()

    def _handler(self, signum, _frame):
        if signum == signal.SIGINT and self.event.is_set():
            raise KeyboardInterrupt
        self.set("interrupt (Ctrl-C)" if signum == signal.SIGINT else "SIGTERM")

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        return False


def run(
    source,
    recognizer: Recognizer,
    *,
    overlay: Overlay | None = None,
    video=None,
    jsonl=None,
    window=None,
    max_frames: int | None = None,
    on_result=None,
    stop: StopFlag | None = None,
) -> RunSummary:
    """Process ``source`` until it ends, the user quits, ``max_frames`` is reached or a stop is requested.

    ``source`` is started and stopped here; the sinks are closed here, on every path. ``on_result`` is
    called with each ``(FrameResult, annotated image or None)``.
    """
    summary = RunSummary()
    stop = stop if stop is not None else StopFlag()  # an unset StopFlag is falsy: no `or` here
    need_image = video is not None or window is not None or on_result is not None
    # A file replayed as fast as possible queues decoded frames ahead of the recognizer on purpose;
    # its latency is the processing time. A live source's latency runs from capture.
    replay = getattr(source, "policy", "latest") == "every"
    overlay = overlay or Overlay()
    paused = False
    started = time.monotonic()
    last_result: FrameResult | None = None
    last_annotated = None
    paused_image = None
    try:
        with stop:
            source.start()
            while not stop and (max_frames is None or summary.frames < max_frames):
                if paused and window is not None and last_result is not None:
                    if paused_image is None:
                        paused_image = overlay.annotate(last_result, summary.fps, status="paused")
                    action = window.show(paused_image)
                    paused = _handle(action, paused, window, last_result, overlay, stop)
                    if paused:
                        stop.event.wait(PAUSED_POLL_SECONDS)  # not a busy loop: the picture does not change
                    continue
                paused_image = None
                frame = source.read(timeout=READ_POLL_SECONDS)
                if frame is None:
                    state = getattr(source, "state", "ended")
                    if state == "ended":
                        break
                    # Still waiting (a slow or reconnecting live source). A window keeps answering
                    # keys meanwhile, and says so when the camera is gone rather than freezing.
                    if window is not None:
                        if state == "live" and last_annotated is not None:
                            waiting = last_annotated
                        else:
                            size = None if last_annotated is None else last_annotated.shape[1::-1]
                            waiting = waiting_screen(source, size)
                        paused = _handle(window.show(waiting), paused, window, last_result, overlay, stop)
                    continue
                result = recognizer.process(frame, received=time.monotonic() if replay else None)
                last_result = result
                summary.frames += 1
                summary.latencies_ms.append(result.latency_ms)
                for stage, ms in result.timings.items():
                    summary.stage_ms.setdefault(stage, _window()).append(ms)
                if jsonl is not None:
                    jsonl.write(result)
                annotated = None
                if need_image:
                    drawing = time.perf_counter()
                    annotated = overlay.annotate(result, _fps(summary, started))
                    summary.stage_ms.setdefault("overlay", _window()).append((time.perf_counter() - drawing) * 1e3)
                if video is not None:
                    video.write(annotated)
                if on_result is not None:
                    on_result(result, annotated)
                last_annotated = annotated
                if window is not None:
                    paused = _handle(window.show(annotated), paused, window, result, overlay, stop)
    finally:
        summary.seconds = time.monotonic() - started
        # Every sink is closed and the source stopped even when one of them fails (a full disk):
        # the first failure is raised afterwards, unless one is already on its way.
        failure = None
        for sink in (video, jsonl, window):
            if sink is not None:
                try:
                    sink.close()
                except Exception as exc:  # noqa: BLE001 - re-raised below
                    failure = failure or exc
        source.stop()
        if failure is not None and sys.exc_info()[1] is None:
            raise failure
        summary.dropped = int(getattr(source, "frames_dropped", 0))
        summary.warnings.extend(getattr(source, "warnings", []) or [])
        resized = int(getattr(video, "frames_resized", 0) or 0)
        if resized:
            width, height = video.size
            summary.warnings.append(
                f"{resized} frame{'s' if resized != 1 else ''} of another size than the first were scaled to "
                f"{width}x{height} in the video (a video has one size); the JSONL's boxes are in each frame's own pixels")
    if stop:
        summary.ended_by = stop.reason
    elif max_frames is not None and summary.frames >= max_frames:
        summary.ended_by = f"--max-frames {max_frames}"
    return summary


def _fps(summary: RunSummary, started: float) -> float:
    elapsed = time.monotonic() - started
    return summary.frames / elapsed if elapsed > 0 else 0.0


def _handle(action, paused, window, result, overlay, stop) -> bool:
    if action == "quit":
        stop.set("the user (q)")
    elif result is None:
        return paused  # nothing shown yet to pause on or save
    elif action == "pause":
        return not paused
    elif action == "snapshot":
        path = f"livedigits-snapshot-{result.frame.index:06d}.png"
        if cv2.imwrite(path, overlay.annotate(result)):
            print(f"snapshot saved: {path}", flush=True)
        else:
            print(f"could not save snapshot {path}", flush=True)
    return paused



#: A number of a video or camera is printed once it was read in this many frames (one stray frame is
#: no reading), as the web page's "read so far" does.
CONFIRM_FRAMES = 3


class NumberPrinter:
    """A sink for ``run -q``: the numbers read, one per line on ``stream``, and nothing else.

    Still images: each image's numbers in reading order, as ``file: 12 407`` when the source has several
    images (``many_files``), one number a line otherwise. Video, cameras and streams: each distinct number
    once, when it has been read in ``CONFIRM_FRAMES`` frames, flushed at once (a pipe sees it live).
    ``inner``, a JSONL sink, also gets every result.
    """

    def __init__(self, stream, *, many_files: bool, inner=None) -> None:
        self.stream = stream
        self.many_files = many_files
        self.inner = inner
        self._frames: dict[str, int] = {}
        self._printed: set[str] = set()

    def write(self, result: FrameResult) -> None:
        if self.inner is not None:
            self.inner.write(result)
        texts = [number.text for number in result.numbers]
        if result.frame.file is not None:
            if self.many_files:
                print(f"{result.frame.file}: {' '.join(texts)}".rstrip(), file=self.stream, flush=True)
            else:
                for text in texts:
                    print(text, file=self.stream, flush=True)
            return
        for text in dict.fromkeys(texts):
            count = self._frames[text] = self._frames.get(text, 0) + 1
            if count >= CONFIRM_FRAMES and text not in self._printed:
                self._printed.add(text)
                print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()


class ProgressSink:
    """A progress bar with ETA on ``stream`` (tqdm) for a source of known length, advanced by each result
    written through it; ``inner`` (a JSONL sink or None) gets every result. The bar follows the frame
    index, so frames skipped by a real-time replay count as done."""

    def __init__(self, stream, total: int, *, inner=None, unit: str = "frame") -> None:
        from .progress import bar

        self.inner = inner
        self.bar = bar(total, unit=unit, stream=stream, force=True)

    def write(self, result: FrameResult) -> None:
        if self.inner is not None:
            self.inner.write(result)
        done = min(self.bar.total, result.frame.index + 1)
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()
        if self.inner is not None:
            self.inner.close()

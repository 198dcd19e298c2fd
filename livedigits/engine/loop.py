"""The pipeline engine: sources in, results out through sinks and callbacks.

Every way of running the pipeline goes through this one loop: ``livedigits run``, ``serve``, ``bench``,
``collect`` and the Python API's ``Reader.stream``.

- **Sources** (see :mod:`livedigits.capture.sources`) capture on their own reader threads. With one source the
  loop reads it directly; with several, a small pump thread per source keeps that source's frames
  prepared in a slot (a live source's newest, up to ``LIVE_DEPTH`` of them; a file's next, in order), and
  each round takes the oldest frame of every slot that holds one.
- **One batch per round.** With several sources each pump segments its frame as it arrives (in its own
  thread, OpenCV's own worker pool set to one thread meanwhile), while the engine's thread reads the round
  before; a round's crops that no earlier reading stands for go to the classifier in one call, and each
  source's own tracker smooths its frame
  (:meth:`Recognizer.process_batch <livedigits.reading.recognizer.Recognizer.process_batch>`).
- **Worker processes** (``workers``, ``run --workers N``): with several live sources the pumps hand their
  frames to worker processes instead, each source pinned to one worker that keeps its view memory, its
  tracker and its reuse caches, so the segmentation and the reading run on every core past the
  interpreter lock; only the round's classifier batch stays in this process
  (:mod:`livedigits.engine.workers`).
- **Sinks** (:class:`Sink`) get every result with its annotated image: the JSON Lines file, the video,
  the window, CSV, saved images and crops, the web hub. They are opened before the first frame and
  closed through one :class:`contextlib.ExitStack` on every path, before the sources are stopped: a
  sink that fails to close never leaves a camera open, and the first failure is the one raised.
- **Callbacks**: ``on_result(result, image, stats)`` after the sinks, with the frame's
  :class:`FrameStats` (what ``bench`` measures), and ``on_idle(engine)`` whenever a poll passes
  with no frame.
- **Stopping**: :meth:`Engine.stop` may be called from any thread; with ``signals=True`` (the CLI)
  Ctrl-C and SIGTERM only ask for a stop, so the frame in hand is finished and every output is
  complete. A second Ctrl-C raises ``KeyboardInterrupt`` as usual.
- **Failures**: with ``fail_fast=False`` (``livedigits run``, ``Reader.stream``) a source that fails (a
  stream lost, a stall, a broken reader: ``SourceError``) is retired and the others go on;
  ``summary.failures`` names it, and the command exits 5 at the end. With ``fail_fast=True`` (the
  default; ``run --fail-fast``) the first failure is raised at once.

Example::

    from livedigits.engine.loop import Engine
    from livedigits.sinks import JsonlSink
    from livedigits.capture.sources import open_source

    engine = Engine([open_source("samples/demo.mp4")], recognizer, sinks=[JsonlSink("demo.jsonl")])
    summary = engine.run()
    print(summary.text())
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol, Sequence, runtime_checkable

import cv2
import numpy as np

from livedigits.engine.keys import ACTION_PAUSE, ACTION_PIPE_CLOSED, ACTION_QUIT  # a sink's write or show may return these
from livedigits.engine.workers import SegmentWorkers, WorkerSettings, WorkersClosed, default_workers
from livedigits.errors import SourceError
from livedigits.draw.overlay import Overlay
from livedigits.reading.recognizer import Recognizer
from livedigits.settings import check_roi_fits
from livedigits.util.stats import percentiles
from livedigits.types import Frame, FrameResult

#: How often a blocked read wakes up to notice a stop request (seconds).
READ_POLL_SECONDS = 0.25
#: While paused the window is only there to answer keys: it is drawn once and polled this often.
PAUSED_POLL_SECONDS = 0.05
#: Percentiles in the summary cover the most recent frames only, so a kiosk running for days keeps a
#: bounded amount of memory (about 10 minutes at 30 fps).
SUMMARY_WINDOW = 18_000



# --------------------------------------------------------------------------- the protocols


@dataclass(frozen=True)
class StreamInfo:
    """What a sink is told about each source when it opens: ``label`` (the ``source`` of its results),
    ``kind`` (camera, stream, video, images), the nominal ``fps`` (None when unknown), the ``size`` of
    the first frame (width, height), ``total_frames`` where known, and whether it is ``live``."""

    label: str
    kind: str
    fps: float | None
    size: tuple[int, int] | None
    total_frames: int | None
    live: bool


@runtime_checkable
class Sink(Protocol):
    """Where results go. ``needs_image``: whether ``write`` wants the annotated image (drawing is skipped
    when no sink or callback does); ``needs_crops``: whether results must keep their candidates' crops.

    ``open(streams)`` is called once before the first frame; ``write(result, image)`` for every result
    (``image`` is None unless some consumer needs it) and may return an action (``"quit"`` or
    ``"pause"``) or None (a window saves its own snapshots); ``close()`` once at the end, on every
    path, also after a failure.
    """

    needs_image: bool
    needs_crops: bool

    def open(self, streams: Sequence[StreamInfo]) -> None: ...

    def write(self, result: FrameResult, image: np.ndarray | None) -> str | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Screen:
    """What a window is told of one source while no new frame comes: its ``label``, the ``source`` (its
    ``state``, ``name``, ``size``), its last ``result`` and the ``image`` drawn of it (None before the
    first), and the source's ``fps`` so far."""

    label: str
    source: "SourceLike"
    result: FrameResult | None
    image: np.ndarray | None
    fps: float


@runtime_checkable
class Interactive(Protocol):
    """A sink with a screen that must keep answering while no frame comes (a window). The engine calls
    ``refresh(screens, paused=..., ended=...)`` when a poll brings no frame, while the user has paused,
    and after every source has ended when asked to linger; what to show then (the last picture, a
    "paused" mark, a waiting screen for a source that is gone) is the window's to decide. It returns an
    action, like ``write``."""

    def refresh(self, screens: Sequence[Screen], *, paused: bool = False, ended: bool = False) -> str | None: ...


@runtime_checkable
class Warns(Protocol):
    """A sink with something to say at the end (a video that lost frames): its ``warnings`` go into the
    run's summary."""

    warnings: Sequence[str]


@runtime_checkable
class SourceLike(Protocol):
    """What the engine needs of a source (:class:`livedigits.capture.sources.Source`, the supervisor
    :class:`livedigits.capture.supervise.KeptSource`, or your own): ``start()`` returning self;
    ``read(timeout)`` returning the next :class:`Frame` or None (ended, or nothing within ``timeout``:
    ``state`` tells which); ``stop()``, idempotent and callable from any thread; and the attributes
    below, read by the engine while it runs (a source may compute them as properties)."""

    name: str
    """How results name it, before duplicates are told apart (``samples/demo.mp4``, ``camera 0``)."""
    kind: str
    """``camera``, ``stream``, ``video`` or ``images``."""
    policy: str
    """``"every"``: every frame is delivered in order (a file as fast as possible: its latency is its
    processing time); ``"latest"``: the newest frame wins (live, or a file paced in real time)."""
    is_live: bool
    """True for cameras and streams."""
    fps: float | None
    """The nominal frame rate, None when unknown."""
    size: tuple[int, int] | None
    """(width, height) of the first frame, None before there is one."""
    total_frames: int | None
    """Frames a file holds where known, else None."""
    state: str
    """``starting``, ``live``, ``unavailable`` (being retried) or ``ended``."""
    frames_dropped: int
    """Frames the source dropped so far (an unread frame overwritten by a newer one)."""
    reconnects: int
    """Times it was lost and opened again (0 for a source that is not supervised)."""
    warnings: Sequence[str]
    """What went wrong along the way that the summary should say (an unreadable image skipped)."""

    def start(self): ...

    def read(self, timeout: float | None = None) -> Frame | None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class FrameStats:
    """How one frame went through the loop, in milliseconds: ``wait_ms`` blocked reading it,
    ``resize_ms`` scaling it (NaN when not resized), ``overlay_ms`` drawing it (NaN when not drawn),
    ``processing_ms`` from its delivery to the end of the sinks (with several sources a frame comes
    resized and segmented by its pump already: that time is in ``timings["segment"]``, not here);
    ``batch`` the crops classified in the round it was part of, ``round_frames`` the frames of that
    round (one per source that had one), ``reused`` the crops of that round that kept an earlier frame's
    reading (not classified again), ``carried`` the frames of that round that carried an earlier frame's
    whole reading (not segmented, classified or read: ``vision.view``)."""

    wait_ms: float
    resize_ms: float
    overlay_ms: float
    processing_ms: float
    batch: int
    round_frames: int
    reused: int = 0
    carried: int = 0


# --------------------------------------------------------------------------- stop and summary


class StopFlag:
    """A request to stop after the current frame; with :meth:`signals`, SIGINT/SIGTERM set it.

    A second Ctrl-C raises KeyboardInterrupt as usual, for a user who really wants out. Handlers are
    installed only from the main thread and restored on exit. Falsy until set.
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


def _window() -> collections.deque:
    return collections.deque(maxlen=SUMMARY_WINDOW)


@dataclass
class StreamSummary:
    """One source's share of a run: frames processed and dropped, and its ``seconds`` of activity."""

    label: str
    frames: int = 0
    dropped: int = 0
    seconds: float = 0.0
    reconnects: int = 0
    #: Why the source failed (lost, stalled, its reader broke), one line; None when it did not.
    failure: str | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass
class RunSummary:
    """What a run did: frames processed and dropped (all sources), how long, why it ended, latency and
    stage percentiles (of the last ``SUMMARY_WINDOW`` frames), each source's share, and warnings."""

    frames: int = 0
    dropped: int = 0
    seconds: float = 0.0
    ended_by: str = "end of source"
    latencies_ms: collections.deque = field(default_factory=_window, repr=False)
    stage_ms: dict[str, collections.deque] = field(default_factory=dict, repr=False)
    streams: dict[str, StreamSummary] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def failures(self) -> dict[str, str]:
        """``{label: why}`` of the sources that failed (a run with any ends with exit 5)."""
        return {label: stream.failure for label, stream in self.streams.items() if stream.failure}

    def stage(self, name: str) -> collections.deque:
        """The recent milliseconds of stage ``name`` (made on first use, not once per frame)."""
        values = self.stage_ms.get(name)
        if values is None:
            values = self.stage_ms[name] = _window()
        return values

    def text(self, timings: bool = True) -> str:
        """The summary: frames, drops, FPS, and with ``timings`` the latency percentiles per stage."""
        lat = percentiles(self.latencies_ms)
        lines = [
            f"frames: {self.frames} processed, {self.dropped} dropped, in {self.seconds:.1f} s ({self.fps:.1f} fps); "
            f"ended by {self.ended_by}",
        ]
        if timings:
            lines.append("latency ms: " + "  ".join(f"{k} {lat[k] or 0.0:.1f}" for k in ("p50", "p95", "p99", "max")))
        for stage, values in self.stage_ms.items() if timings else ():
            p = percentiles(values)
            lines.append(f"  {stage:>8} ms: p50 {p['p50'] or 0.0:.2f}  p95 {p['p95'] or 0.0:.2f}  max {p['max'] or 0.0:.2f}")
        if len(self.streams) > 1:
            for stream in self.streams.values():
                lines.append(f"  source {stream.label}: {stream.frames} processed, {stream.dropped} dropped "
                             f"({stream.fps:.1f} fps)")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def source_labels(names: Sequence[str]) -> list[str]:
    """One label per source: its name, with ``#2``, ``#3``... added to repeats (four copies of one file)."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return labels


def source_slug(label: str) -> str:
    """A name for a source safe in a URL or a file name (``/stream/NAME.mjpg``, a saved crop's name):
    letters, digits, ``.``, ``_`` and ``-`` (``rtsp://cam/1`` -> ``rtsp-cam-1``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "source"


# --------------------------------------------------------------------------- feeding frames


class _Stream:
    """The engine's view of one source."""

    def __init__(self, source: SourceLike, label: str) -> None:
        self.source = source
        self.label = label
        self.replay = source.policy == "every"
        self.summary = StreamSummary(label)
        self.started = 0.0
        self.last_at = 0.0
        self.done = False  # reached max_frames, or failed: read no more
        self.failure: str | None = None  # why it failed (the SourceError's line)

    def info(self) -> StreamInfo:
        source = self.source
        return StreamInfo(label=self.label, kind=source.kind, fps=source.fps,
                          size=tuple(source.size) if source.size else None, total_frames=source.total_frames,
                          live=bool(source.is_live))


class _Direct:
    """One source, read in the engine's own thread (no extra hop)."""

    def __init__(self, stream: _Stream, fail_fast: bool = True) -> None:
        self.stream = stream
        self.fail_fast = fail_fast
        self._waiting_since: float | None = None

    def start(self) -> None:
        self.stream.source.start()

    def next(self, timeout: float):
        """``[(stream, frame, wait_ms, prepared)]``; ``[]`` when nothing came within ``timeout``; None at
        the end. ``prepared`` is None: the round resizes and segments the frame itself."""
        stream = self.stream
        if stream.done:
            return None
        if self._waiting_since is None:
            self._waiting_since = time.perf_counter()
        try:
            frame = stream.source.read(timeout=timeout)
        except SourceError as exc:
            if self.fail_fast:
                raise
            stream.failure, stream.done = str(exc), True
            return None
        if frame is None:
            return None if stream.source.state == "ended" else []
        wait_ms = (time.perf_counter() - self._waiting_since) * 1e3
        self._waiting_since = None
        return [(stream, frame, wait_ms, None)]

    def retire(self, stream: _Stream) -> None:
        stream.done = True

    def dropped(self, stream: _Stream) -> int:
        """Frames dropped here rather than in the source: none (the source's own slot is the only one)."""
        return 0

    def stop(self) -> None:
        pass


#: Frames of a live source the engine holds prepared (resized, segmented) ahead of its round, with several
#: sources. More than one, so that the pump prepares the next frame while the last waits for its round, and
#: a round of frames read whole on every source at once (copies of one clip in step, every page changed
#: together), which may take longer than a frame's time on two cores, is taken up by the cheap rounds after
#: it instead of dropping a frame of every source. A frame waits at most this many rounds: the latency it
#: adds is bounded, and a machine that falls behind still drops frames (the source keeps only its newest).
LIVE_DEPTH = 2


class _Pumped:
    """Several sources: a pump thread per source fills its slot; a round takes the oldest frame of every
    filled slot.

    A live source's slot keeps only its newest frame (an older unread one is dropped and counted); a
    file's pump waits until its slot is taken, so every frame is read, in order.

    With ``prepare`` (the engine's resize and segmentation of a frame of a source), each pump prepares its
    frame before putting it in the slot: the sources' frames are segmented in their own threads, on every
    core (OpenCV releases the GIL), while the engine's thread classifies and reads the round before. A
    live source's slot then holds up to ``LIVE_DEPTH`` frames prepared, in order, and its pump reads its
    next frame only once there is room (the source keeps its own newest frame meanwhile, dropping and
    counting older ones), so no frame is segmented only to be replaced. A round that has a frame waits for
    the pumps still preparing one for an empty slot, so their frames join its classifier batch.
    """

    def __init__(self, streams: Sequence[_Stream], fail_fast: bool = True, prepare: Callable | None = None,
                 parallel: int | None = None) -> None:
        self.streams = list(streams)
        self.fail_fast = fail_fast
        self.prepare = prepare
        self._cond = threading.Condition()
        # Each source's frames ready for a round, oldest first: one at most for a file (its pump waits) and
        # for a live source read without ``prepare`` (a newer frame replaces it), ``LIVE_DEPTH`` for a live
        # source prepared by its pump.
        self._slots: dict[str, collections.deque] = {s.label: collections.deque() for s in streams}
        self._depth = {s.label: LIVE_DEPTH if prepare is not None and not s.replay else 1 for s in streams}
        self._preparing: set[str] = set()
        # One frame prepared at a time per core: more threads segmenting at once only contend for the
        # cores, the GIL and the caches (measured: more CPU per frame, no more frames). With worker
        # processes (``parallel``: one per source) a pump only hands its frame over and waits: each
        # worker takes its sources' frames one at a time itself.
        self._cores = threading.BoundedSemaphore(max(1, parallel or os.cpu_count() or 1))
        self._ended: set[str] = set()
        self._errors: list[BaseException] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.slot_dropped: dict[str, int] = {s.label: 0 for s in streams}

    def start(self) -> None:
        for stream in self.streams:
            stream.source.start()
        for stream in self.streams:
            thread = threading.Thread(target=self._pump, args=(stream,), daemon=True,
                                      name=f"livedigits-pump-{stream.label}")
            self._threads.append(thread)
            thread.start()

    def _pump(self, stream: _Stream) -> None:
        waiting_since = time.perf_counter()
        try:
            while not self._stop.is_set() and not stream.done:
                if self.prepare is not None and not stream.replay:
                    # A live source's next frame is read once its slot has room (the source keeps only its
                    # newest frame meanwhile), so no frame is segmented only to be replaced by a newer one.
                    with self._cond:
                        while self._full(stream) and not self._stop.is_set() and not stream.done:
                            self._cond.wait(READ_POLL_SECONDS)
                    waiting_since = time.perf_counter()
                    if self._stop.is_set() or stream.done:
                        break
                frame = stream.source.read(timeout=READ_POLL_SECONDS)
                if frame is None:
                    if stream.source.state == "ended":
                        break
                    continue
                wait_ms = (time.perf_counter() - waiting_since) * 1e3
                prepared = self._prepared(stream, frame)
                with self._cond:
                    slot = self._slots[stream.label]
                    if stream.replay:
                        while slot and not self._stop.is_set() and not stream.done:
                            self._cond.wait(READ_POLL_SECONDS)
                    elif self._full(stream):
                        slot.popleft()  # a live source's oldest unread frame gives way to its newest
                        self.slot_dropped[stream.label] += 1
                    slot.append((frame, wait_ms, prepared))
                    self._cond.notify_all()
                waiting_since = time.perf_counter()
        except SourceError as exc:
            # One source lost or stalled: the others go on, and the run says so at the end (exit 5),
            # unless asked to stop at the first failure.
            with self._cond:
                if self.fail_fast:
                    self._errors.append(exc)
                else:
                    stream.failure = str(exc)
        except WorkersClosed:
            pass  # the run is ending: the worker processes were closed while this frame was handed over
        except BaseException as exc:  # noqa: BLE001 - raised again in the engine's thread
            with self._cond:
                self._errors.append(exc)
        finally:
            with self._cond:
                self._ended.add(stream.label)
                self._cond.notify_all()

    def _full(self, stream: _Stream) -> bool:
        return len(self._slots[stream.label]) >= self._depth[stream.label]

    def _prepared(self, stream: _Stream, frame: Frame):
        """``prepare(label, frame)`` (None without ``prepare``), the stream marked as preparing meanwhile."""
        if self.prepare is None:
            return None
        with self._cond:
            self._preparing.add(stream.label)
        try:
            with self._cores:
                return self.prepare(stream.label, frame)
        finally:
            with self._cond:
                self._preparing.discard(stream.label)
                self._cond.notify_all()

    def next(self, timeout: float):
        """``[(stream, frame, wait_ms, prepared)]``, the oldest frame of every filled slot (once the pumps
        still preparing a frame for an empty slot are done, or ``timeout`` has passed); ``[]`` when nothing
        came within ``timeout``; None at the end."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._errors:
                    raise self._errors[0]
                ready = [s for s in self.streams if self._slots[s.label] and not s.done]
                left = deadline - time.monotonic()
                coming = self._preparing.difference(s.label for s in ready)
                if ready and (not coming or left <= 0):
                    taken = []
                    for stream in ready:
                        frame, wait_ms, prepared = self._slots[stream.label].popleft()
                        taken.append((stream, frame, wait_ms, prepared))
                    self._cond.notify_all()  # room for the files' pumps
                    return taken
                if not ready and all(s.label in self._ended or s.done for s in self.streams):
                    return None
                if left <= 0:
                    return []
                self._cond.wait(left)

    def dropped(self, stream: _Stream) -> int:
        """Frames of a live source that a newer one replaced in its slot before a round took it."""
        return self.slot_dropped.get(stream.label, 0)

    def retire(self, stream: _Stream) -> None:
        with self._cond:
            stream.done = True
            self._slots[stream.label].clear()
            self._cond.notify_all()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(READ_POLL_SECONDS * 4)


# --------------------------------------------------------------------------- the engine


class Engine:
    """Run ``sources`` through ``recognizer`` into ``sinks``; see the module docstring.

    The engine owns what it is given: it starts the sources and stops them, opens the sinks and closes
    them, on every path. ``labels`` name the sources in results (default: their names, repeats
    numbered). ``max_frames`` stops each source after that many frames. ``resize`` scales every frame
    to ``(width, height)`` before reading it (``bench --size``). ``overlay`` draws the annotated images
    (default :class:`~livedigits.draw.overlay.Overlay`). ``signals=True`` turns Ctrl-C and SIGTERM into a
    stop request (only from the main thread). ``linger=True`` keeps the windows open and answering
    after every source has ended, until the user quits (``collect`` labels what is shown last).
    ``fail_fast=False`` lets the other sources go on when one fails (see the module docstring).
    ``workers`` (several live sources): how many worker processes segment their frames
    (:mod:`livedigits.engine.workers`); 0, the default, segments them in the pumps' threads; None picks
    one per usable core (none with one core). Stills and a run of one source never use workers.
    """

    def __init__(
        self,
        sources: Sequence[SourceLike],
        recognizer: Recognizer,
        *,
        sinks: Sequence[Sink] = (),
        overlay: Overlay | None = None,
        on_result: Callable[[FrameResult, np.ndarray | None, FrameStats], None] | None = None,
        on_idle: Callable[["Engine"], None] | None = None,
        max_frames: int | None = None,
        resize: tuple[int, int] | None = None,
        labels: Sequence[str] | None = None,
        signals: bool = False,
        stop: StopFlag | None = None,
        draw: bool | None = None,
        linger: bool = False,
        fail_fast: bool = True,
        workers: int | None = 0,
    ) -> None:
        if not sources:
            raise ValueError("the engine needs at least one source")
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
            raise ValueError(f"workers must be a whole number, 0 or more (or None), got {workers!r}")
        if max_frames is not None and max_frames < 1:
            raise ValueError(f"max_frames must be 1 or more, got {max_frames}")
        labels = list(labels) if labels is not None else source_labels([s.name for s in sources])
        if len(labels) != len(sources) or len(set(labels)) != len(labels):
            raise ValueError(f"one distinct label per source is needed, got {labels}")
        self.streams = [_Stream(source, label) for source, label in zip(sources, labels)]
        self.recognizer = recognizer
        self.sinks = list(sinks)
        self.overlay = overlay or Overlay()
        self.on_result = on_result
        self.on_idle = on_idle
        self.max_frames = max_frames
        self.resize = resize
        self.signals = signals
        self.linger = linger
        self.fail_fast = fail_fast
        self.workers = workers
        #: The worker processes segmenting the live sources' frames while the engine runs (None: none).
        self.segment_workers: SegmentWorkers | None = None
        self.stop_flag = stop if stop is not None else StopFlag()
        # Drawing costs a few milliseconds: only when something shows or keeps the picture.
        self.draw = draw if draw is not None else (any(s.needs_image for s in self.sinks) or on_result is not None)
        if any(s.needs_crops for s in self.sinks):
            recognizer.keep_debug = True
        self.summary = RunSummary()
        self.paused = False
        self.last_results: dict[str, FrameResult] = {}
        self.last_images: dict[str, np.ndarray] = {}
        self._feed = None
        self._started = time.monotonic()

    # -- control

    def stop(self, reason: str = "stopped") -> None:
        """Ask the loop to end after the frame in hand; safe from any thread (a signal handler too)."""
        self.stop_flag.set(reason)

    @property
    def stopping(self) -> bool:
        return bool(self.stop_flag)

    def fps(self) -> float:
        """Frames per second processed so far, all sources together."""
        elapsed = time.monotonic() - self._started if self._feed is not None else 0.0
        return self.summary.frames / elapsed if elapsed > 0 else 0.0

    def _stream_fps(self, stream: _Stream) -> float:
        """Frames per second of one source so far (what its picture's HUD shows)."""
        elapsed = time.monotonic() - (stream.started or self._started)
        return stream.summary.frames / elapsed if elapsed > 0 else 0.0

    def stream_counts(self) -> dict[str, tuple[int, int]]:
        """Frames processed and dropped so far, per source label; safe from another thread."""
        return {stream.label: (stream.summary.frames, self._dropped(stream)) for stream in self.streams}

    def worker_cpu_seconds(self) -> float:
        """CPU seconds the segmentation workers used so far (0.0 without workers): with the process's
        own, what the run costs (``bench --streams``)."""
        workers = self.segment_workers
        return workers.cpu_seconds() if workers is not None else 0.0

    def _dropped(self, stream: _Stream) -> int:
        """Frames of ``stream`` dropped so far: by its source, and in the engine's slot for it."""
        dropped = stream.source.frames_dropped
        return dropped + (self._feed.dropped(stream) if self._feed is not None else 0)

    # -- running

    def run(self) -> RunSummary:
        """Process until every source ends, ``max_frames`` is reached, the user quits or a stop is
        requested; return the summary."""
        for _ in self.results():
            pass
        return self.summary

    def results(self) -> Iterator[FrameResult]:
        """The loop as a generator of results: the caller's own ``for`` drives it. Leaving the loop
        early (``break``, an exception) closes the sinks and stops the sources all the same."""
        summary = self.summary
        self._started = time.monotonic()
        multi = len(self.streams) > 1
        with contextlib.ExitStack() as stack:
            if self.signals:
                stack.enter_context(self.stop_flag)
            for stream in reversed(self.streams):
                stack.push(_closer(stream.source.stop))  # stopped last, after every sink is closed
            stack.callback(self._finish)
            for sink in reversed(self.sinks):
                stack.push(_closer(sink.close))
            # Live sources read together each get their own phase of the periodic whole frames, so that those
            # of sources in step do not all come in one round (one source: none, whatever an earlier run set).
            stagger = getattr(self.recognizer, "stagger", None)
            if stagger is not None:
                stagger([s.label for s in self.streams if s.source.kind != "images"])
            workers = self._start_workers(stack) if multi else None
            feed = self._feed = (_Pumped(self.streams, self.fail_fast, self._prepare,
                                         parallel=len(self.streams) if workers else None) if multi
                                 else _Direct(self.streams[0], self.fail_fast))
            stack.callback(feed.stop)  # the pumps end first; then the workers are closed
            if multi:
                stack.callback(self.recognizer.close)
                # The frames of a round are segmented in parallel threads already: OpenCV's own worker
                # pool on top of them only oversubscribes the cores (measured: six 30 fps streams took
                # 150% of two cores with it, 123% without). Restored after.
                threads = cv2.getNumThreads()
                cv2.setNumThreads(1)
                stack.callback(cv2.setNumThreads, threads)
            infos = [s.info() for s in self.streams]
            for sink in self.sinks:
                sink.open(infos)
            now = time.monotonic()
            for stream in self.streams:
                stream.started = now
            feed.start()
            while not self.stop_flag:
                if self.paused:
                    self._paused_round()
                    continue
                taken = feed.next(READ_POLL_SECONDS)
                if taken is None:
                    break
                if not taken:
                    self._idle()
                    continue
                yield from self._round(taken)
                if all(s.done for s in self.streams):
                    break
            if self.linger and not self.stop_flag:
                self._linger()
        failed = [s for s in self.streams if s.failure]
        if self.stop_flag:
            summary.ended_by = self.stop_flag.reason
        elif failed:
            summary.ended_by = ("source failure" if len(self.streams) == 1
                                else f"end of sources, {len(failed)} of {len(self.streams)} failed")
        elif self.max_frames is not None and all(s.done for s in self.streams):
            summary.ended_by = f"--max-frames {self.max_frames}"

    def _start_workers(self, stack: contextlib.ExitStack) -> SegmentWorkers | None:
        """Several sources: the worker processes that segment the live ones' frames (``workers``), started
        before the first frame and closed (after the pumps) on every path; None when they are not used."""
        live = [s.label for s in self.streams if s.source.kind != "images"]  # stills keep the pumps' threads
        count = default_workers(len(live)) if self.workers is None else min(self.workers, len(live))
        if count < 1 or len(live) < 2:
            return None
        workers = SegmentWorkers(live, count, WorkerSettings.of(self.recognizer, count),
                                 classify=self.recognizer.classifier.predict)
        stack.callback(workers.close)
        self.segment_workers = workers.start()
        return workers

    def _prepare(self, label: str, frame: Frame) -> tuple[Frame, float, tuple]:
        """What a pump does to a frame of source ``label`` before its round (several sources): the resize
        (``resize``; its milliseconds, NaN when not resized) and the segmentation, by the source's worker
        process where there are workers."""
        frame, resize_ms = self._resized(frame)
        self._check_roi(label, frame)
        workers = self.segment_workers
        if workers is not None and workers.serves(label) and frame.file is None:
            return frame, resize_ms, workers.segment(label, frame)
        return frame, resize_ms, self.recognizer.segment(frame, label)

    def _check_roi(self, label: str, frame: Frame) -> None:
        """A region of interest that misses the frame reads nothing: say so (checked on the frame the
        segmentation sees, after the resize)."""
        check_roi_fits(getattr(getattr(self.recognizer, "segment_config", None), "roi", None),
                       frame.image.shape[1], frame.image.shape[0], label)

    def _resized(self, frame: Frame) -> tuple[Frame, float]:
        if self.resize is None or (frame.image.shape[1], frame.image.shape[0]) == tuple(self.resize):
            return frame, float("nan")
        started = time.perf_counter()
        frame = resize_frame(frame, self.resize)
        return frame, (time.perf_counter() - started) * 1e3

    def _round(self, taken) -> Iterator[FrameResult]:
        delivered = time.perf_counter()
        received = time.monotonic()
        items, resized_ms, resized_here = [], [], False
        for stream, frame, _wait, prepared in taken:
            if prepared is None:
                frame, resize_ms = self._resized(frame)
                resized_here = resized_here or resize_ms == resize_ms
                if not stream.summary.frames:
                    self._check_roi(stream.label, frame)
                segmented = None
            else:  # resized, checked and segmented by its pump already
                frame, resize_ms, segmented = prepared
            resized_ms.append(resize_ms)
            # A file replayed as fast as possible queues decoded frames ahead on purpose: its latency is
            # the processing time. A live source's latency runs from capture.
            items.append((stream.label, frame, received if stream.replay else None, segmented))
        if resized_here:
            delivered = time.perf_counter()  # the round's own resizing is not processing
        batch = self.recognizer.process_batch(items)
        results = batch.results
        summary = self.summary
        for (stream, _frame, wait_ms, _prepared), resize_ms, result in zip(taken, resized_ms, results):
            stream.summary.frames += 1
            stream.last_at = time.monotonic()
            summary.frames += 1
            summary.latencies_ms.append(result.latency_ms)
            for stage, ms in result.timings.items():
                summary.stage(stage).append(ms)
            image, overlay_ms = None, float("nan")
            if self.draw:
                started = time.perf_counter()
                image = self.overlay.annotate(result, self._stream_fps(stream))
                overlay_ms = (time.perf_counter() - started) * 1e3
                summary.stage("overlay").append(overlay_ms)
            self.last_results[stream.label] = result
            if image is not None:
                self.last_images[stream.label] = image
            for sink in self.sinks:
                self._act(sink.write(result, image if sink.needs_image else None), result)
            stats = FrameStats(wait_ms=wait_ms, resize_ms=resize_ms, overlay_ms=overlay_ms,
                               processing_ms=(time.perf_counter() - delivered) * 1e3, batch=batch.classified,
                               round_frames=len(results), reused=batch.reused, carried=batch.carried)
            if self.on_result is not None:
                self.on_result(result, image, stats)
            if self.max_frames is not None and stream.summary.frames >= self.max_frames:
                self._feed.retire(stream)
            yield result

    def _idle(self) -> None:
        """No frame this poll: the ``on_idle`` callback, and the windows keep answering."""
        if self.on_idle is not None:
            self.on_idle(self)
        self._refresh()

    def _linger(self) -> None:
        """Every source has ended: keep the windows answering until the user quits (or a stop)."""
        while self._windows() and not self.stop_flag:
            self._refresh(ended=True)
            self.stop_flag.event.wait(PAUSED_POLL_SECONDS)

    def _paused_round(self) -> None:
        """Paused: no frame is read; the windows keep answering keys (space resumes)."""
        if not self._windows() or not self.last_results:
            self.paused = False
            return
        self._refresh(paused=True)
        if self.paused:
            self.stop_flag.event.wait(PAUSED_POLL_SECONDS)  # not a busy loop: the picture does not change

    def _windows(self) -> list:
        return [sink for sink in self.sinks if isinstance(sink, Interactive)]

    def _refresh(self, paused: bool = False, ended: bool = False) -> None:
        screens = [Screen(stream.label, stream.source, self.last_results.get(stream.label),
                          self.last_images.get(stream.label), self._stream_fps(stream)) for stream in self.streams]
        shown = next((screen.result for screen in screens if screen.result is not None), None)
        for window in self._windows():
            self._act(window.refresh(screens, paused=paused, ended=ended), shown)

    def _act(self, action: str | None, result: FrameResult | None) -> None:
        if action is None:
            return
        if action == ACTION_QUIT:
            self.stop("the user (q)")
        elif action == ACTION_PIPE_CLOSED:
            self.stop("standard output closed (the reader of the pipe left)")
        elif result is None:
            return  # nothing shown yet to pause on or save
        elif action == ACTION_PAUSE:
            self.paused = not self.paused

    def _finish(self) -> None:
        summary = self.summary
        now = time.monotonic()
        summary.seconds = now - self._started
        for stream in self.streams:
            source = stream.source
            stream.summary.seconds = (stream.last_at or now) - stream.started
            dropped = stream.summary.dropped = self._dropped(stream)
            stream.summary.reconnects = source.reconnects
            stream.summary.failure = stream.failure
            summary.dropped += dropped
            summary.streams[stream.label] = stream.summary
            for warning in source.warnings:
                if warning not in summary.warnings:
                    summary.warnings.append(warning)
        for sink in self.sinks:
            for warning in sink.warnings if isinstance(sink, Warns) else ():
                if warning not in summary.warnings:
                    summary.warnings.append(warning)
        if self.segment_workers is not None:
            summary.warnings.extend(self.segment_workers.warnings)


def _closer(close: Callable[[], None]):
    """An ExitStack exit callback that closes, and lets a failure through only when nothing is failing
    already: the first failure is the one the caller sees."""

    def exit_callback(exc_type, exc, tb) -> bool:
        try:
            close()
        except Exception:  # noqa: BLE001 - raised unless another exception is on its way
            if exc_type is None:
                raise
        return False

    return exit_callback


def resize_frame(frame: Frame, size: tuple[int, int]) -> Frame:
    """``frame`` scaled to ``size`` (width, height): area averaging to shrink, linear to enlarge."""
    height, width = frame.image.shape[:2]
    shrink = size[0] * size[1] < width * height
    image = cv2.resize(frame.image, tuple(size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return dataclasses.replace(frame, image=image, scale=1)  # keeps stamp and decode_ms; boxes in the new size


__all__ = [
    "ACTION_PAUSE", "ACTION_QUIT", "Engine", "FrameStats", "Interactive", "RunSummary",
    "Screen", "Sink", "SourceLike", "StopFlag", "StreamInfo", "StreamSummary", "Warns", "source_labels", "source_slug",
]

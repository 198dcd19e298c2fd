"""Segmentation and reading of several sources in worker processes, so that they run on every core, past
the GIL.

With several live sources the engine's pumps segment each frame as it arrives (``engine.loop``); in
threads of one process that stops at about one and a third cores busy, because the Python parts of the
segmentation and of the reading share one interpreter lock. :class:`SegmentWorkers` moves both into
worker processes, and leaves the engine's process only what needs every source at once: the round's one
classifier batch.

- **Segment, plan, classify, read.** A source's pump hands its frame to the source's worker, which
  segments it and plans it (``Recognizer.plan``: the crops its source's reuse cache does not find
  unchanged) and sends back only those crops. The round puts every source's crops into one classifier
  call, sends each worker its frames' probabilities, and the worker reads the frame (the tracker, the
  numbers, words, signs and sums: ``Recognizer._read``, the same code a thread runs) and sends back the
  ``FrameResult`` without its image (the engine's process has it). The engine's thread thus only
  classifies and hands over (about 1 ms a frame of the realistic page, against 4.5 ms when it read too).
  A frame is planned only once the frame before of its source is read (a pump may hand over the next
  one meanwhile): the reuse cache it is matched against is the one a thread would have, so the records
  are the same. A recognizer a worker cannot copy (a subclass, a sign classifier of the caller's own;
  :meth:`ReaderSettings.of`) keeps the reading in the engine's process: the workers then segment only.
- **Pinned sources.** Each source is served by one worker (source *k* by worker *k* mod *n*), so its view
  memory (``vision.view``: the paper estimate and the lines carried from frame to frame) lives in that
  worker, and its frames are segmented there one after the other, in order, exactly as a thread would:
  the results are the same.
- **Frames through shared memory.** Each source has one block of shared memory that its pump copies the
  frame into (one copy: 0.13 ms for 640x480 BGR, measured; pickling it through the pipe took 2.1 ms);
  only the frame's shape and name travel through the source's pipe. A worker that reads copies the frame
  out (the sign search looks at it when the frame is read, and the pump refills the block before that).
  A worker that only segments sends the :class:`Segmentation` back pickled (about 120 kB on the realistic
  page, 0.4 ms), without its view memory (which stays in the worker: 1.3 MB pickled) and without the ink
  mask unless the results keep it (``keep_debug``).
- **Spawned, once.** Workers are started with the ``spawn`` method (a fresh interpreter: no copy of the
  parent's TensorFlow or LiteRT threads, which ``fork`` would leave broken) when the run starts, and
  kept: nothing is started per frame. They import OpenCV and numpy, and, to read, the small sign and
  printed-digit models, never the digit classifier.
- **A worker that dies is restarted.** Its sources' frame in hand is segmented again by the new worker
  and their view memory starts afresh (the next frame estimates the paper anew). A frame it had planned
  but not read is handed to the new worker whole, classified alone and read there; its source's tracker
  and reuse caches start afresh too (track ids begin again, as after a reset).
  A kiosk should not end because a worker was killed once (the out-of-memory killer, an operator); but
  a worker that keeps dying (``MAX_RESTARTS`` within ``RESTART_WINDOW_S``: a frame that crashes OpenCV,
  memory exhausted) ends the run with a :class:`~livedigits.errors.WorkerError` that says so and how to
  read without workers (``--workers 0``). Each restart is a warning in the run's summary. A worker that
  does not answer a frame within ``STALL_S`` (hung) is killed and restarted the same way.
- **Nothing left behind.** :meth:`SegmentWorkers.close` asks every worker to end, waits
  ``CLOSE_WAIT_S``, then terminates and at last kills it, and unlinks every block of shared memory.
  Workers ignore SIGINT and SIGTERM: Ctrl-C in a terminal reaches the whole process group, and the
  engine's process turns it into a clean stop that closes them itself. A worker whose engine process is
  gone (killed hard) sees its pipes close and ends; the interpreter's resource tracker unlinks the
  shared memory of a process killed hard.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import logging
import os
import pickle
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.shared_memory import SharedMemory
from typing import Callable, Sequence

import numpy as np

from livedigits.classify.signs import SignClassifier
from livedigits.errors import WorkerError
from livedigits.reading.expressions import ExpressionConfig
from livedigits.reading.numbers import ReadingConfig
from livedigits.reading.recognizer import Planned, Recognizer, segment_frame
from livedigits.reading.reuse import ReuseConfig
from livedigits.types import Frame
from livedigits.vision.segment import SegmentConfig

#: How long a starting worker may take to say it is ready: a fresh interpreter importing numpy and OpenCV
#: (two workers at once took 1.1-1.2 s on a 2-core machine at load 14; more on a slower one).
START_TIMEOUT_S = 60.0
#: A worker is restarted at most this many times within ``RESTART_WINDOW_S``; the next death ends the run
#: with a ``WorkerError`` (one death is an accident, four in a minute a cause that a restart will not fix).
MAX_RESTARTS = 3
RESTART_WINDOW_S = 60.0
#: A worker that has not answered a frame within this long is taken as hung (a deadlock in a library): it
#: is killed and restarted, as one that died. A 640x480 frame takes under 10 ms, a 12 MP still under a
#: second; a worker serves its sources' frames one at a time, so a frame may wait for a few others first.
STALL_S = 30.0
#: How long a worker asked to end may take before it is terminated (then killed).
CLOSE_WAIT_S = 2.0
#: How often a wait for a worker's reply wakes up to notice that the workers are being closed.
POLL_S = 0.25
#: The start method: a fresh interpreter per worker, safe with the classifier's threads in the parent.
START_METHOD = "spawn"
#: A candidate's crop (``Candidate.crop``): these travel back stacked in one array (:func:`_packed`).
CROP_SHAPE = (28, 28)
#: Where Linux keeps shared memory (a tmpfs): its free space is checked before a frame's block is made.
SHM_DIR = "/dev/shm"

_log = logging.getLogger(__name__)


class WorkersClosed(Exception):
    """The workers were closed while a frame was being handed over: the run is ending (not an error)."""


class _Died(Exception):
    """A worker ended before it said it was ready."""


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs to segment as the engine's recognizer would: its ``config``, whether to find
    ``signs`` (arithmetic), whether to carry each video source's view over (``views``: smoothing and view
    memory on), and whether to send the ink mask back (``keep_mask``: the results keep it, ``keep_debug``),
    and how many threads OpenCV may use in each worker."""

    config: SegmentConfig
    signs: bool
    views: bool
    keep_mask: bool
    cv_threads: int = 1
    #: What the worker needs to read its sources' frames too (None: it segments them only).
    reading: "ReaderSettings | None" = None
    cuts: ReuseConfig | None = None
    """The recognizer's ``ReuseConfig`` (``segment_frame(..., cuts=...)``), or None: no cut decision carried."""
    carry: bool = False
    """Whole frames carried where the page stood still (``Recognizer.carry``, ``segment_frame(..., carry=...)``):
    a frame found still is not segmented, and goes back with the view memory it would have been segmented
    with, for the reader to segment it where its anchor's reading is not carried."""
    phases: tuple[tuple[str, int], ...] = ()
    """Each source's phase of the periodic whole frames (``Recognizer.stagger``), as ``(label, phase)``."""

    def phase(self, label: str) -> int | None:
        return dict(self.phases).get(label)

    @classmethod
    def of(cls, recognizer, workers: int) -> "WorkerSettings":
        """The settings of ``recognizer``'s own segmentation (:meth:`Recognizer.segment`), for ``workers``
        processes sharing the usable cores, and of its reading where a worker can read as it does."""
        return cls(config=recognizer.segment_config, signs=recognizer.sign_classifier is not None,
                   views=bool(recognizer.smooth and recognizer.view_memory), keep_mask=bool(recognizer.keep_debug),
                   cv_threads=max(1, usable_cores() // max(1, workers)), reading=ReaderSettings.of(recognizer),
                   cuts=getattr(recognizer, "reuse", None), carry=bool(getattr(recognizer, "carry", False)),
                   phases=tuple(sorted(getattr(recognizer, "phases", {}).items())))


@dataclass(frozen=True)
class ReaderSettings:
    """What a worker needs to read its sources' frames as the engine's ``Recognizer`` would, once the
    round's one classifier batch has given their crops' probabilities: the reading's settings and the
    sign model's file (``sign_model``, None without arithmetic; ``sign_lite``: run by LiteRT, else NumPy)."""

    reading_config: ReadingConfig
    expression_config: ExpressionConfig
    reuse: ReuseConfig | None
    smooth: bool
    sign_model: str | None
    sign_lite: bool
    carry: bool = False
    """Whole frames carried where the page stood still (``Recognizer.carry``)."""

    @classmethod
    def of(cls, recognizer) -> "ReaderSettings | None":
        """``recognizer``'s reading, or None where a worker cannot do it the same (a subclass of
        ``Recognizer``, a sign classifier of the caller's own): then the workers segment only."""
        signs = recognizer.sign_classifier
        if type(recognizer) is not Recognizer or (signs is not None and type(signs) is not SignClassifier):
            return None
        return cls(reading_config=recognizer.reading_config, expression_config=recognizer.expression_config,
                   reuse=recognizer.reuse, smooth=bool(recognizer.smooth),
                   sign_model=None if signs is None else str(signs.path),
                   sign_lite=signs is not None and signs.runtime == "lite", carry=bool(recognizer.carry))

    def recognizer(self, settings: WorkerSettings):
        """A worker's own ``Recognizer``: it reads, it never classifies (the engine's process does, for
        every source at once)."""
        signs = None
        if self.sign_model is not None:
            signs = SignClassifier(self.sign_model, use_lite=self.sign_lite)
        return Recognizer(None, settings.config, self.reading_config, smooth=self.smooth, keep_debug=settings.keep_mask,
                          reuse=self.reuse, sign_classifier=signs, expression_config=self.expression_config,
                          view_memory=settings.views, carry=self.carry)


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the system says, else the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_workers(sources: int) -> int:
    """How many workers ``--workers`` (not given) means for ``sources`` live sources: one per usable core,
    at most one per source, and none (threads, as before) with one source or one core."""
    cores = usable_cores()
    return min(cores, sources) if sources > 1 and cores > 1 else 0


# --------------------------------------------------------------------------- the worker's side


def _serve(lanes: list[tuple[str, Connection, Connection | None]], settings: WorkerSettings, parent: int) -> None:
    """A worker's life: segment (and read, with ``settings.reading``) the frames its sources' pumps and
    the engine's rounds hand over until every pipe is closed (or says ``None``), or the engine's process
    is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine's process stops the run, and then this
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import cv2

    cv2.setNumThreads(settings.cv_threads)  # one worker per core: OpenCV's own pool would oversubscribe them
    views: dict | None = {} if settings.views else None
    attached: dict[str, SharedMemory] = {}
    reader = settings.reading.recognizer(settings) if settings.reading is not None else None
    books = {label: _Book(label, seg) for label, seg, _ in lanes}
    conns: dict[Connection, tuple[str, bool]] = {}  # each pipe: its source, and whether it brings reads
    for label, seg, read in lanes:
        conns[seg] = (label, False)
        if read is not None:
            conns[read] = (label, True)
    for label, seg, _ in lanes:
        seg.send(("ready", os.getpid()))
    try:
        while conns:
            ready = wait(list(conns), timeout=1.0)
            if not ready and os.getppid() != parent:
                return  # the engine's process is gone
            ready.sort(key=lambda conn: not conns[conn][1])  # reads first: a round waits for them
            for conn in ready:
                label, reads = conns[conn]
                try:
                    asked = conn.recv()
                except (EOFError, OSError):
                    asked = None
                if asked is None:
                    del conns[conn]
                    continue
                book = books[label]
                try:
                    if reads and asked[0] == "again":
                        conn.send(_packed(_again(book, asked, settings, views, reader), crops=False))
                    elif reads:
                        read = _read_one(book, asked, reader)
                        # A frame segmented meanwhile may be planned now; before the reading is sent, so
                        # that a worker that hangs before its pump has that plan holds up the round's
                        # clock, which runs, not the pump's, which stopped when it was told to wait.
                        _plan_waiting(book, reader)
                        conn.send(_packed(read, crops=settings.keep_mask))
                    elif reader is None:
                        conn.send(_packed(_segment_one(label, asked, settings, views, attached)))
                    else:
                        _segment_to_read(book, asked, settings, views, attached, reader)
                except OSError:  # the engine's end is closed: it is gone, or giving this worker up
                    del conns[conn]
    finally:
        for block in attached.values():
            _detach(block)


class _Book:
    """What a worker keeps of one source whose frames it reads: its frames planned and waiting for their
    probabilities (``planned``, by serial), and those segmented while an earlier one still waits
    (``waiting``: a frame is planned against its source's reuse cache only once the frame before is read,
    so that the cache is the one a thread would have)."""

    def __init__(self, label: str, conn: Connection) -> None:
        self.label = label
        self.conn = conn
        self.planned: dict[int, tuple] = {}
        self.waiting: list[tuple] = []


def _segment_one(label: str, asked: tuple, settings: WorkerSettings, views: dict | None,
                 attached: dict[str, SharedMemory], copy: bool = False) -> tuple:
    """``("ok", segmentation, ms, cpu)`` or ``("error", exception, traceback text, cpu)`` for one frame
    (with ``copy``: ``("ok", (segmentation, frame), ms, cpu)``, the frame's image still in the shared memory,
    which the pump refills only once it has the frame's plan: :func:`_plan_one` copies it out where the frame
    is read whole)."""
    name, shape, dtype, index, scale, file = asked[:6]
    try:
        block = attached.get(label)
        if block is None or block.name != name:
            if block is not None:
                _detach(block)
            block = attached[label] = SharedMemory(name=name)
        image = np.ndarray(shape, np.dtype(dtype), buffer=block.buf)
        frame = Frame(index=index, time=asked[7] if copy else 0.0, image=image, file=file, scale=scale,
                      stamp=asked[8] if copy else 0.0)
        found, ms = segment_frame(frame, label, settings.config, signs=settings.signs, views=views,
                                  cuts=settings.cuts, carry=settings.carry, phase=settings.phase(label))
        if copy:
            return ("ok", (found, frame), ms, time.process_time())
        del image, frame
        # The view memory stays here, with the source's next frame (a frame found still takes the memory it
        # would have been segmented with, ``Recognizer.segment_kept``); the mask travels only when kept.
        found = dataclasses.replace(found, view=found.view if found.kept is not None else None,
                                    mask=found.mask if settings.keep_mask else None)
        return ("ok", found, ms, time.process_time())
    except Exception as exc:  # noqa: BLE001 - raised again in the engine's process, with this traceback
        return _error(exc)


def _error(exc: Exception) -> tuple:
    text = traceback.format_exc()
    try:
        pickle.dumps(exc)
    except Exception:  # noqa: BLE001 - an exception that cannot travel is told by its text
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    return ("error", exc, text, time.process_time())


def _segment_to_read(book: _Book, asked: tuple, settings: WorkerSettings, views: dict | None,
                     attached: dict[str, SharedMemory], reader) -> None:
    """Segment a frame that this worker will read too, and plan it (or, while an earlier frame of its
    source waits for its probabilities, say so and plan it once that one is read)."""
    serial = asked[6]
    reply = _segment_one(book.label, asked, settings, views, attached, copy=True)
    if reply[0] != "ok":
        book.conn.send(_packed(reply, crops=False))
        return
    book.waiting.append((serial, *reply[1], reply[2]))
    _plan_waiting(book, reader)
    if any(waiting[0] == serial for waiting in book.waiting):
        # Not a hung worker: the engine's round has yet to send the frame before. Its clock stops.
        book.conn.send(_packed(("waiting", None, None, time.process_time()), crops=False))


def _plan_waiting(book: _Book, reader) -> None:
    """Plan the frames segmented that no earlier frame of their source holds up, and answer their pumps
    with the crops the classifier must read."""
    while book.waiting and not any(serial < book.waiting[0][0] for serial in book.planned):
        book.conn.send(_packed(_plan_one(book, reader, *book.waiting.pop(0)), crops=False))


def _plan_one(book: _Book, reader, serial: int, found, frame: Frame, ms: float, shared: bool = True) -> tuple:
    """Plan one segmented frame (its crops matched against its source's reuse cache) and keep it for its
    reading: ``("ok", (crops the classifier must read, crops reused, carried whole), ms, cpu)``. ``shared``:
    the frame's image is the source's shared memory, which its pump refills once it has this answer."""
    try:
        stream = reader._stream(book.label, frame)
        if found.kept is not None and not stream.carries(found):
            found, ms = reader.segment_kept(frame, found, ms)  # still, but its anchor's reading not carried
        if shared:
            # A frame read whole keeps its image for the reading (the sign search looks at it): copied out
            # now. A frame carried whole needs only its shape: copying it (0.9 MB at 640x480, page faults and
            # all) was a tenth of a worker's time on 8 streams of the realistic page.
            image = frame.image
            frame = dataclasses.replace(frame, image=np.broadcast_to(np.zeros((1,) * image.ndim, image.dtype), image.shape)
                                        if found.kept is not None else image.copy())
        if found.kept is not None:
            # Carried whole: no crop to classify, so it is read now, in its turn (every earlier frame of its
            # source is read), and goes back with its plan. The round neither sends it probabilities nor waits
            # for its reading: two messages of four, for most frames of a still page.
            result = reader._read(book.label, stream, frame, None, found, np.zeros((0, 0), np.float32), ms, 0.0)
            result = dataclasses.replace(result, frame=dataclasses.replace(frame, image=_NO_IMAGE))
            return ("ok", (np.zeros((0, 28, 28, 1), np.float32), 0, result), ms, time.process_time())
        plan = reader.plan(stream, frame, found)
        book.planned[serial] = (frame, found, ms, plan, stream)
        return ("ok", (plan.wanted, plan.reused, None), ms, time.process_time())
    except Exception as exc:  # noqa: BLE001 - raised again in the engine's process
        return _error(exc)


def _again(book: _Book, asked: tuple, settings: WorkerSettings, views: dict | None, reader) -> tuple:
    """A frame handed over again, whole, after the worker that planned it died: segmented and planned at
    once (the frames of its source planned since come after it). Its image travels pickled, not through
    the source's shared memory, which its pump may be filling with a later frame meanwhile."""
    _, serial, image, index, when, stamp, scale = asked
    try:
        frame = Frame(index=index, time=when, image=image, stamp=stamp, scale=scale)
        found, ms = segment_frame(frame, book.label, settings.config, signs=settings.signs, views=views,
                                  cuts=settings.cuts, carry=settings.carry, phase=settings.phase(book.label))
    except Exception as exc:  # noqa: BLE001 - raised again in the engine's process
        return _error(exc)
    return _plan_one(book, reader, serial, found, frame, ms, shared=False)


def _as_of_round(result, frame: Frame, classify_ms: float, received: float | None):
    """A frame's result read when it was planned (carried whole), as its round would have had it read: its
    frame (with the image), the round's classifier time, and the latency up to now."""
    return dataclasses.replace(result, frame=frame, timings={**result.timings, "classify": classify_ms},
                               latency_ms=(time.monotonic() - (frame.stamp if received is None else received)) * 1e3)


#: A result's frame travels back without its image: the engine's process has it.
_NO_IMAGE = np.zeros((0, 0, 3), np.uint8)


def _read_one(book: _Book, asked: tuple, reader) -> tuple:
    """``("ok", result, None, cpu)``: the frame ``asked`` names read with the probabilities it brings (its
    source's tracker and caches are here), or ``("error", ...)``."""
    _, serial, probabilities, classify_ms, received = asked
    for older in [s for s in book.planned if s < serial]:
        del book.planned[older]  # never read (the run let it go): nothing of it is kept
    try:
        if serial not in book.planned:
            raise RuntimeError(f"frame {serial} of {book.label} is not planned in this worker")
        frame, found, ms, plan, stream = book.planned.pop(serial)
        result = reader._read(book.label, stream, frame, received, found, reader.filled(plan, probabilities), ms,
                              classify_ms)
        return ("ok", dataclasses.replace(result, frame=dataclasses.replace(frame, image=_NO_IMAGE)), None,
                time.process_time())
    except Exception as exc:  # noqa: BLE001 - raised again in the engine's process
        return _error(exc)


class _CropPickler(pickle.Pickler):
    """Pickles a reply with its 28x28 crops left out, gathered in ``crops`` (see :func:`_packed`)."""

    def __init__(self, file) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.crops: list[np.ndarray] = []

    def persistent_id(self, obj):
        if type(obj) is np.ndarray and obj.shape == CROP_SHAPE and obj.dtype == np.float32:
            self.crops.append(obj)
            return len(self.crops) - 1
        return None


class _CropUnpickler(pickle.Unpickler):
    def __init__(self, file, crops: np.ndarray) -> None:
        super().__init__(file)
        self.crops = crops

    def persistent_load(self, pid):
        return self.crops[pid]


def _packed(reply: tuple, crops: bool = True) -> tuple[np.ndarray | None, bytes]:
    """``reply`` as ``(crops, rest)``: its candidates' crops stacked in one array, and the rest pickled
    with a place-holder for each. Unpickling one array and taking a view per crop is 2-3 times cheaper
    than unpickling each crop (0.07 against 0.16-0.25 ms a frame of the realistic page, measured), and it
    is done in the engine's process, whose time bounds the frame rate. Without ``crops`` (a reply that
    holds none: a plan, a result without its candidates) it is pickled plainly, ``(None, rest)``: looking
    for crops in each of a result's objects took 0.21 ms a frame, pickling it plainly 0.10 ms."""
    body = io.BytesIO()
    if not crops:
        return None, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    pickler = _CropPickler(body)
    pickler.dump(reply)
    stacked = np.stack(pickler.crops) if pickler.crops else np.zeros((0, *CROP_SHAPE), np.float32)
    return stacked, body.getvalue()


def _unpacked(crops: np.ndarray | None, body: bytes) -> tuple:
    """The reply :func:`_packed` packed (each crop a view of ``crops``)."""
    if crops is None:
        return pickle.loads(body)
    return _CropUnpickler(io.BytesIO(body), crops).load()


def _detach(block: SharedMemory) -> None:
    try:
        block.close()
    except BufferError:
        pass  # something still looks at the old frame: the mapping goes with it


# --------------------------------------------------------------------------- the engine's side


class _RemoteTraceback(Exception):
    """The worker's traceback, as the cause of an error raised in the engine's process."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


class _Worker:
    """One worker process, the sources pinned to it, and its pipes (one per source)."""

    def __init__(self, index: int, labels: list[str]) -> None:
        self.index = index
        self.labels = labels
        self.process = None
        self.conns: dict[str, Connection] = {}
        #: With reading in the workers, each source's second pipe: the rounds' probabilities go down it.
        self.read_conns: dict[str, Connection] = {}
        self.retired: list[Connection] = []  # the pipes of the process before, closed at the next restart
        self.generation = 0
        self.lock = threading.Lock()
        self.deaths: list[float] = []
        self.failed: WorkerError | None = None
        self.stalled = False  # killed for not answering (said so when it is restarted)
        self.cpu = 0.0  # what the living process reported last
        self.cpu_before = 0.0  # what the processes before it used


class _Lane:
    """One source: its worker and its block of shared memory (one frame in flight at a time)."""

    def __init__(self, label: str, worker: _Worker) -> None:
        self.label = label
        self.worker = worker
        self.block: SharedMemory | None = None
        self.lock = threading.Lock()
        #: The frame in flight: since when (``time.monotonic()``), and to which process; None when none.
        self.asked: tuple[float, object] | None = None
        #: Frames handed over so far: a frame's serial names it to the worker when its reading is asked.
        self.serial = 0
        #: The reading asked of the worker by the engine's thread (as ``asked``), None when none.
        self.read_asked: tuple[float, object] | None = None


class SegmentWorkers:
    """``count`` worker processes segmenting the frames of the sources named ``labels``; see the module
    docstring. :meth:`start` once, then :meth:`segment` from each source's own thread (one frame of a
    source at a time), :meth:`close` at the end, on every path."""

    _serial = itertools.count()

    def __init__(self, labels: Sequence[str], count: int, settings: WorkerSettings,
                 classify: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if count < 1 or not labels:
            raise ValueError(f"workers need a source and a count of 1 or more, got {count} for {len(labels)} sources")
        count = min(count, len(labels))
        if settings.reading is not None and classify is None:
            raise ValueError("workers that read need the classifier (classify), to read a frame again after a restart")
        self.settings = settings
        #: The classifier's batch function: a frame whose worker died before reading it is read again alone.
        self._classify = classify
        self._context = get_context(START_METHOD)
        self._workers = [_Worker(k, list(labels[k::count])) for k in range(count)]
        self._lanes = {label: _Lane(label, self._workers[k % count]) for k, label in enumerate(labels)}
        self._closing = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.restarts = 0
        #: Every worker process started, restarts included (their ids).
        self.started: list[int] = []
        self.warnings: list[str] = []

    @property
    def count(self) -> int:
        return len(self._workers)

    def serves(self, label: str) -> bool:
        return label in self._lanes

    def pids(self) -> list[int]:
        """The worker processes' ids (those alive or not yet reaped)."""
        return [w.process.pid for w in self._workers if w.process is not None and w.process.pid is not None]

    def cpu_seconds(self) -> float:
        """CPU seconds the workers used so far, as they last reported (with each reply)."""
        return sum(w.cpu + w.cpu_before for w in self._workers)

    def start(self) -> "SegmentWorkers":
        """Start every worker and wait until each says it is ready (in parallel: the start-up is paid
        once, before the first frame)."""
        try:
            for worker in self._workers:
                self._spawn(worker)
            for worker in self._workers:
                try:
                    self._await_ready(worker)
                except _Died:
                    raise self._start_failed(worker) from None
        except BaseException:
            self.close()
            raise
        _log.debug("segmenting %d sources in %d worker processes (pids %s)", len(self._lanes), self.count,
                   ", ".join(map(str, self.pids())))
        self._watchdog = threading.Thread(target=self._watch, name="livedigits-segment-watchdog", daemon=True)
        self._watchdog.start()
        return self

    @property
    def reads(self) -> bool:
        """Whether the workers read their sources' frames too (:meth:`segment` gives ``Planned``)."""
        return self.settings.reading is not None

    def segment(self, label: str, frame: Frame):
        """``frame`` of source ``label`` segmented by its worker: ``(Segmentation, ms)`` (see
        :meth:`Recognizer.segment <livedigits.reading.recognizer.Recognizer.segment>`), or, where the
        workers read too (:attr:`reads`), a :class:`~livedigits.reading.recognizer.Planned` whose reading
        the round asks for. Raises what the segmentation raised, a ``WorkerError`` when its worker cannot
        be kept alive, and ``WorkersClosed`` when :meth:`close` was called meanwhile."""
        lane = self._lanes[label]
        image = np.ascontiguousarray(frame.image)
        with lane.lock:
            if self._closing.is_set():
                raise WorkersClosed()
            block = self._block(lane, image.nbytes)
            np.ndarray(image.shape, image.dtype, buffer=block.buf)[...] = image
            asked = (block.name, image.shape, image.dtype.str, frame.index, frame.scale, frame.file)
            serial = None
            if self.reads:
                lane.serial += 1
                serial = lane.serial
                asked += (serial, frame.time, frame.stamp)
            worker = lane.worker
            while True:
                generation, conn, process = self._live(worker, "conns", label)
                lane.asked = (time.monotonic(), process)
                try:
                    conn.send(asked)
                    reply = self._reply(conn, process, lane)
                except (EOFError, OSError, ValueError):  # ValueError: its process object closed meanwhile
                    lane.asked = None
                    if self._closing.is_set():
                        raise WorkersClosed() from None
                    self._restart(worker, generation)  # then the frame is handed over again
                    continue
                lane.asked = None
                break
        kind, payload, detail, cpu = reply
        worker.cpu = cpu
        if kind == "error":
            raise payload from _RemoteTraceback(detail)
        if not self.reads:
            return payload, detail
        wanted, reused, carried = payload
        if carried is not None:  # read already (carried whole): its result, as of its round
            return Planned(wanted=wanted, reused=0, carried=True,
                           send=lambda _probs, classify_ms, received: lambda: _as_of_round(carried, frame, classify_ms,
                                                                                              received))
        return Planned(wanted=wanted, reused=reused,
                       send=lambda probs, classify_ms, received: self._read(label, frame, serial, generation, probs,
                                                                            classify_ms, received))

    def _live(self, worker: _Worker, pipes: str, label: str) -> tuple:
        """``worker``'s generation, its pipe for ``label`` (``pipes``: ``"conns"`` for the segmentation,
        ``"read_conns"`` for the reading; a restart replaces both) and its process, taken together under its
        lock; raises its ``WorkerError`` once it failed for good, and ``WorkersClosed`` once :meth:`close` was
        called."""
        with worker.lock:
            if worker.failed is not None:
                raise worker.failed
            if self._closing.is_set():
                raise WorkersClosed()
            return worker.generation, getattr(worker, pipes)[label], worker.process

    def _read(self, label: str, frame: Frame, serial: int, generation: int, probabilities: np.ndarray,
              classify_ms: float, received: float | None) -> Callable[[], object]:
        """Send a planned frame's probabilities to its worker; the function that waits for its
        ``FrameResult``. A worker that died meanwhile is restarted (by whichever thread finds it dead) and
        the frame is segmented, classified and read again, alone (:meth:`_again`)."""
        lane = self._lanes[label]
        worker = lane.worker

        def again():
            return self._again(label, frame, serial, generation, probabilities.shape[1], classify_ms, received)

        current, conn, process = self._live(worker, "read_conns", label)
        if current != generation:
            return again  # restarted since it planned the frame: what it planned is gone with it
        lane.read_asked = (time.monotonic(), process)
        try:
            conn.send(("read", serial, probabilities, classify_ms, received))
        except (OSError, ValueError):
            lane.read_asked = None
            if self._closing.is_set():
                raise WorkersClosed() from None
            return again

        def wait_result():
            reply = self._answer(lane, conn, process)
            if reply is None:
                return again()
            return dataclasses.replace(self._payload(worker, reply), frame=frame)

        return wait_result

    def _again(self, label: str, frame: Frame, serial: int, generation: int, classes: int, classify_ms: float,
               received: float | None):
        """The ``FrameResult`` of a frame whose worker died after planning it: the worker restarted, the
        frame handed to the new one whole (down the pipe the rounds use: the source's pump may hold its
        shared memory, waiting for a frame planned after this one), its crops classified alone, then read.
        Its source's tracker and caches start afresh in the new worker."""
        lane = self._lanes[label]
        worker = lane.worker
        while True:
            self._restart(worker, generation)
            generation, conn, process = self._live(worker, "read_conns", label)
            lane.read_asked = (time.monotonic(), process)
            try:
                conn.send(("again", serial, np.ascontiguousarray(frame.image), frame.index, frame.time, frame.stamp,
                           frame.scale))
            except (OSError, ValueError):
                lane.read_asked = None
                if self._closing.is_set():
                    raise WorkersClosed() from None
                continue
            reply = self._answer(lane, conn, process)
            if reply is None:
                continue  # it died again: restarted again (or failed for good)
            wanted, _reused, carried = self._payload(worker, reply)
            if carried is not None:  # a new worker starts its view afresh, so this is not met; read all the same
                return _as_of_round(carried, frame, classify_ms, received)
            fresh = self._classify(wanted) if len(wanted) else np.zeros((0, classes), np.float32)
            return self._read(label, frame, serial, generation, fresh, classify_ms, received)()

    def _answer(self, lane: _Lane, conn: Connection, process) -> tuple | None:
        """The worker's reply to a round's request on ``lane``'s read pipe; None when the worker died."""
        try:
            return self._reply(conn, process)
        except (EOFError, OSError, ValueError):
            if self._closing.is_set():
                raise WorkersClosed() from None
            return None
        finally:
            lane.read_asked = None

    @staticmethod
    def _payload(worker: _Worker, reply: tuple):
        kind, payload, detail, cpu = reply
        worker.cpu = cpu
        if kind == "error":
            raise payload from _RemoteTraceback(detail)
        return payload

    def close(self) -> None:
        """End every worker (asked, then terminated, then killed) and unlink every block of shared
        memory. Idempotent; safe while other threads wait in :meth:`segment` (they get ``WorkersClosed``)."""
        self._closing.set()
        if self._watchdog is not None:
            self._watchdog.join()  # it wakes at least every POLL_S
        for worker in self._workers:  # all asked first: they end in parallel
            with worker.lock:
                _ask_to_end(worker)
        for worker in self._workers:
            with worker.lock:  # a restart under way gives up (WorkersClosed) first
                _ask_to_end(worker)  # a worker started meanwhile too
                self._end(worker)
        for lane in self._lanes.values():
            with lane.lock:  # a pump still copying a frame in finishes first
                self._release(lane)

    # -- inside

    def _spawn(self, worker: _Worker) -> None:
        ends = [(label, self._context.Pipe(), self._context.Pipe() if self.reads else (None, None))
                for label in worker.labels]
        process = self._context.Process(
            target=_serve, name=f"livedigits-segment-{worker.index}", daemon=True,
            args=([(label, child, read_child) for label, (_, child), (_, read_child) in ends], self.settings,
                  os.getpid()))
        process.start()
        for _, (_, child), (_, read_child) in ends:
            child.close()  # the worker holds its ends: when it dies, reading ours says so
            if read_child is not None:
                read_child.close()
        worker.process = process
        worker.conns = {label: mine for label, (mine, _), _ in ends}
        worker.read_conns = {label: mine for label, _, (mine, _) in ends if mine is not None}
        self.started.append(process.pid)

    def _await_ready(self, worker: _Worker) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        for label, conn in worker.conns.items():
            while True:
                if self._closing.is_set():
                    raise WorkersClosed()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WorkerError(f"segmentation worker {worker.index} did not start within {START_TIMEOUT_S:g} s; "
                                      "use --workers 0 to segment in threads")
                ready = wait([conn, worker.process.sentinel], min(left, POLL_S))
                if conn in ready:
                    try:
                        conn.recv()
                    except (EOFError, OSError):
                        raise _Died() from None
                    break
                if worker.process.sentinel in ready:
                    raise _Died()

    @staticmethod
    def _start_failed(worker: _Worker) -> WorkerError:
        worker.process.join(1.0)
        # The usual cause in a script: ``spawn`` imports the script's main module again in the worker, and a
        # script that starts the engine outside ``if __name__ == "__main__":`` starts it there too.
        return WorkerError(f"segmentation worker {worker.index} could not start ({_how(worker.process.exitcode)}; its "
                           "error is above); a script must start the engine under if __name__ == '__main__': to use "
                           "workers; --workers 0 segments in threads")

    def _reply(self, conn: Connection, process, lane: _Lane | None = None) -> tuple:
        """The worker's answer on ``conn``; EOFError when the worker died (or hung, and was killed for it
        by :meth:`_watch`), WorkersClosed on close. A worker that says its frame waits for the round to
        read the source's frame before (``waiting``) is not hung: ``lane``'s stall clock stops."""
        sentinel = process.sentinel
        while True:
            try:
                ready = wait([conn, sentinel], POLL_S)
                if conn in ready:
                    reply = _unpacked(*conn.recv())
                    if reply[0] == "waiting":
                        if lane is not None:
                            lane.asked = None
                        continue
                    return reply
            except (OSError, ValueError):  # its pipe closed under us: by close(), or after a restart
                if self._closing.is_set():
                    raise WorkersClosed() from None
                raise EOFError("the segmentation worker's pipe is closed") from None
            if sentinel in ready:
                raise EOFError("the segmentation worker died")
            if self._closing.is_set():
                raise WorkersClosed()

    def _watch(self) -> None:
        """The watchdog: kill a worker that has not answered a frame within ``STALL_S``. Its source's thread
        then finds it dead and restarts it. A thread of its own, because a worker stopped half-way through
        its answer leaves that thread blocked in the middle of reading it."""
        while not self._closing.wait(POLL_S):
            now = time.monotonic()
            clocks = [(lane, asked) for lane in self._lanes.values() for asked in (lane.asked, lane.read_asked)]
            for lane, asked in clocks:
                if asked is None or now - asked[0] <= STALL_S:
                    continue
                worker, process = lane.worker, asked[1]
                if not worker.lock.acquire(blocking=False):
                    continue  # being restarted (or closed) already
                try:
                    if worker.process is process and process.exitcode is None:
                        worker.stalled = True
                        process.kill()
                finally:
                    worker.lock.release()

    def _restart(self, worker: _Worker, generation: int) -> None:
        """Start ``worker`` anew after it died (unless another of its sources did already), or fail it for
        good when it died too often (a death while starting again counts too)."""
        with worker.lock:
            if worker.generation != generation:
                return  # restarted by another of its sources' threads
            if worker.failed is not None:
                raise worker.failed
            how = self._bury(worker)
            while True:
                now = time.monotonic()
                worker.deaths = [t for t in worker.deaths if now - t < RESTART_WINDOW_S] + [now]
                if len(worker.deaths) > MAX_RESTARTS:
                    worker.failed = WorkerError(
                        f"segmentation worker {worker.index} ({', '.join(worker.labels)}) died {len(worker.deaths)} "
                        f"times within {RESTART_WINDOW_S:g} s, last {how}; use --workers 0 to segment in threads")
                    raise worker.failed
                self._spawn(worker)
                try:
                    self._await_ready(worker)
                    break
                except _Died:
                    how = self._bury(worker)
            worker.generation += 1
            self.restarts += 1
            said = (f"segmentation worker {worker.index} died ({how}) and was restarted; "
                    f"{', '.join(worker.labels)} read their next frame without view memory")
            _log.warning(said)  # now, for a kiosk's log; the summary says it again at the end
            self.warnings.append(said)

    def _bury(self, worker: _Worker) -> str:
        """Reap ``worker``'s dead process (kill it first if it is only its pipe that broke), close its pipes,
        keep its CPU time; how it ended, in words."""
        process = worker.process
        process.join(CLOSE_WAIT_S)
        if process.is_alive():  # a broken pipe, not a death: do not leave it behind
            process.kill()
            process.join()
        how = f"no answer within {STALL_S:g} s, killed" if worker.stalled else _how(process.exitcode)
        worker.stalled = False
        # Its pipes are closed at the next restart or at the end, not now: another of its sources' threads
        # may still be reading one (to find it closed, as this one did).
        for conn in worker.retired:
            conn.close()
        worker.retired = [*worker.conns.values(), *worker.read_conns.values()]
        worker.cpu_before += worker.cpu
        worker.cpu = 0.0
        return how

    def _end(self, worker: _Worker) -> None:
        process = worker.process
        if process is not None:
            process.join(CLOSE_WAIT_S)
            if process.is_alive():
                process.terminate()  # ignored by a worker (SIGTERM): it is stuck; then kill
                process.join(0.5)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()
            worker.process = None
        for conn in [*worker.conns.values(), *worker.read_conns.values(), *worker.retired]:
            conn.close()

    def _block(self, lane: _Lane, size: int) -> SharedMemory:
        """The lane's shared memory, at least ``size`` bytes (a larger frame gets a new block)."""
        if lane.block is None or lane.block.size < size:
            self._release(lane)
            free = shared_memory_free()
            if free is not None and size > free:
                # Writing past what the shared memory's file system holds is SIGBUS, not an error: say it now.
                raise WorkerError(f"a {size / 2**20:.1f} MB frame of {lane.label} does not fit in the shared memory "
                                  f"left ({free / 2**20:.1f} MB in {SHM_DIR}); give it more (a container's "
                                  "--shm-size) or use --workers 0 to segment in threads")
            name = f"livedigits-{os.getpid()}-{next(self._serial)}"
            lane.block = SharedMemory(name=name, create=True, size=max(1, size))
        return lane.block

    @staticmethod
    def _release(lane: _Lane) -> None:
        block, lane.block = lane.block, None
        if block is not None:
            block.close()
            try:
                block.unlink()
            except FileNotFoundError:
                pass


def shared_memory_free() -> int | None:
    """Bytes left in the file system that holds shared memory (``SHM_DIR``), None where there is none to
    ask (not Linux). A container's is often small (Docker's default: 64 MB)."""
    try:
        stat = os.statvfs(SHM_DIR)
    except (AttributeError, OSError):
        return None
    return stat.f_bavail * stat.f_frsize


def _ask_to_end(worker: _Worker) -> None:
    for conn in [*worker.conns.values(), *worker.read_conns.values()]:
        try:
            conn.send(None)
        except (OSError, ValueError):
            pass  # gone already, or closed


def _how(exitcode: int | None) -> str:
    """How a process ended, in words (``killed by SIGKILL``, ``exit code 1``)."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"

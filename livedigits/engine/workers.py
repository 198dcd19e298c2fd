"""Segmentation of several sources in worker processes, so that it runs on every core, past the GIL.

With several live sources the engine's pumps segment each frame as it arrives (``engine.loop``); in
threads of one process that stops at about one and a third cores busy, because the Python parts of the
segmentation and of the reading share one interpreter lock. :class:`SegmentWorkers` moves the
segmentation into worker processes instead, while the classifier's one batch per round and the reading
stay in the engine's process:

- **Pinned sources.** Each source is served by one worker (source *k* by worker *k* mod *n*), so its view
  memory (``vision.view``: the paper estimate and the lines carried from frame to frame) lives in that
  worker, and its frames are segmented there one after the other, in order, exactly as a thread would:
  the results are the same.
- **Frames through shared memory.** Each source has one block of shared memory that its pump copies the
  frame into (one copy: 0.13 ms for 640x480 BGR, measured; pickling it through the pipe took 2.1 ms);
  only the frame's shape and name travel through the source's pipe. The :class:`Segmentation` comes back
  pickled (about 120 kB on the realistic page, 0.4 ms), without its view memory (which stays in the
  worker: 1.3 MB pickled) and without the ink mask unless the results keep it (``keep_debug``).
- **Spawned, once.** Workers are started with the ``spawn`` method (a fresh interpreter: no copy of the
  parent's TensorFlow or LiteRT threads, which ``fork`` would leave broken) when the run starts, and
  kept: nothing is started per frame. They import OpenCV and numpy, never the classifier.
- **A worker that dies is restarted.** Its sources' frame in hand is segmented again by the new worker
  and their view memory starts afresh (the next frame estimates the paper anew; nothing else is lost).
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
from typing import Sequence

import numpy as np

from livedigits.errors import WorkerError
from livedigits.reading.recognizer import segment_frame
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
    cuts: ReuseConfig | None = None
    """The recognizer's ``ReuseConfig`` (``segment_frame(..., cuts=...)``), or None: no cut decision carried."""

    @classmethod
    def of(cls, recognizer, workers: int) -> "WorkerSettings":
        """The settings of ``recognizer``'s own segmentation (:meth:`Recognizer.segment`), for ``workers``
        processes sharing the usable cores."""
        return cls(config=recognizer.segment_config, signs=recognizer.sign_classifier is not None,
                   views=bool(recognizer.smooth and recognizer.view_memory), keep_mask=bool(recognizer.keep_debug),
                   cv_threads=max(1, usable_cores() // max(1, workers)), cuts=getattr(recognizer, "reuse", None))


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


def _serve(lanes: list[tuple[str, Connection]], settings: WorkerSettings, parent: int) -> None:
    """A worker's life: segment the frames its sources' pumps hand over until every pipe is closed (or
    says ``None``), or the engine's process is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine's process stops the run, and then this
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import cv2

    cv2.setNumThreads(settings.cv_threads)  # one worker per core: OpenCV's own pool would oversubscribe them
    views: dict | None = {} if settings.views else None
    attached: dict[str, SharedMemory] = {}
    labels = {conn: label for label, conn in lanes}
    for conn in labels:
        conn.send(("ready", os.getpid()))
    try:
        while labels:
            ready = wait(list(labels), timeout=1.0)
            if not ready and os.getppid() != parent:
                return  # the engine's process is gone
            for conn in ready:
                label = labels[conn]
                try:
                    asked = conn.recv()
                except (EOFError, OSError):
                    asked = None
                if asked is None:
                    del labels[conn]
                    continue
                try:
                    conn.send(_packed(_segment_one(label, asked, settings, views, attached)))
                except OSError:  # the engine's end is closed: it is gone, or giving this worker up
                    del labels[conn]
    finally:
        for block in attached.values():
            _detach(block)


def _segment_one(label: str, asked: tuple, settings: WorkerSettings, views: dict | None,
                 attached: dict[str, SharedMemory]) -> tuple:
    """``("ok", segmentation, ms, cpu)`` or ``("error", exception, traceback text, cpu)`` for one frame."""
    name, shape, dtype, index, scale, file = asked
    try:
        block = attached.get(label)
        if block is None or block.name != name:
            if block is not None:
                _detach(block)
            block = attached[label] = SharedMemory(name=name)
        image = np.ndarray(shape, np.dtype(dtype), buffer=block.buf)
        found, ms = segment_frame(Frame(index=index, time=0.0, image=image, file=file, scale=scale), label,
                                  settings.config, signs=settings.signs, views=views, cuts=settings.cuts)
        del image
        # The view memory stays here, with the source's next frame; the mask travels only when kept.
        found = dataclasses.replace(found, view=None, mask=found.mask if settings.keep_mask else None)
        return ("ok", found, ms, time.process_time())
    except Exception as exc:  # noqa: BLE001 - raised again in the engine's process, with this traceback
        text = traceback.format_exc()
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that cannot travel is told by its text
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return ("error", exc, text, time.process_time())


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


def _packed(reply: tuple) -> tuple[np.ndarray, bytes]:
    """``reply`` as ``(crops, rest)``: its candidates' crops stacked in one array, and the rest pickled
    with a place-holder for each. Unpickling one array and taking a view per crop is 2-3 times cheaper
    than unpickling each crop (0.07 against 0.16-0.25 ms a frame of the realistic page, measured), and it
    is done in the engine's process, whose time bounds the frame rate."""
    body = io.BytesIO()
    pickler = _CropPickler(body)
    pickler.dump(reply)
    crops = np.stack(pickler.crops) if pickler.crops else np.zeros((0, *CROP_SHAPE), np.float32)
    return crops, body.getvalue()


def _unpacked(crops: np.ndarray, body: bytes) -> tuple:
    """The reply :func:`_packed` packed (each crop a view of ``crops``)."""
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


class SegmentWorkers:
    """``count`` worker processes segmenting the frames of the sources named ``labels``; see the module
    docstring. :meth:`start` once, then :meth:`segment` from each source's own thread (one frame of a
    source at a time), :meth:`close` at the end, on every path."""

    _serial = itertools.count()

    def __init__(self, labels: Sequence[str], count: int, settings: WorkerSettings) -> None:
        if count < 1 or not labels:
            raise ValueError(f"workers need a source and a count of 1 or more, got {count} for {len(labels)} sources")
        count = min(count, len(labels))
        self.settings = settings
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

    def segment(self, label: str, frame: Frame):
        """``(Segmentation, ms)`` of ``frame`` of source ``label``, segmented by its worker (see
        :meth:`Recognizer.segment <livedigits.reading.recognizer.Recognizer.segment>`). Raises what the
        segmentation raised, a ``WorkerError`` when its worker cannot be kept alive, and
        ``WorkersClosed`` when :meth:`close` was called meanwhile."""
        lane = self._lanes[label]
        image = np.ascontiguousarray(frame.image)
        with lane.lock:
            if self._closing.is_set():
                raise WorkersClosed()
            block = self._block(lane, image.nbytes)
            np.ndarray(image.shape, image.dtype, buffer=block.buf)[...] = image
            asked = (block.name, image.shape, image.dtype.str, frame.index, frame.scale, frame.file)
            worker = lane.worker
            while True:
                with worker.lock:
                    if worker.failed is not None:
                        raise worker.failed
                    if self._closing.is_set():
                        raise WorkersClosed()
                    generation, conn, process = worker.generation, worker.conns[label], worker.process
                lane.asked = (time.monotonic(), process)
                try:
                    conn.send(asked)
                    reply = self._reply(conn, process)
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
        return payload, detail

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
        ends = [(label, self._context.Pipe()) for label in worker.labels]
        process = self._context.Process(
            target=_serve, name=f"livedigits-segment-{worker.index}", daemon=True,
            args=([(label, child) for label, (_, child) in ends], self.settings, os.getpid()))
        process.start()
        for _, (_, child) in ends:
            child.close()  # the worker holds its ends: when it dies, reading ours says so
        worker.process = process
        worker.conns = {label: mine for label, (mine, _) in ends}
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

    def _reply(self, conn: Connection, process) -> tuple:
        """The worker's answer on ``conn``; EOFError when the worker died (or hung, and was killed for it
        by :meth:`_watch`), WorkersClosed on close."""
        sentinel = process.sentinel
        while True:
            try:
                ready = wait([conn, sentinel], POLL_S)
                if conn in ready:
                    return _unpacked(*conn.recv())
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
            for lane in self._lanes.values():
                asked = lane.asked
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
        worker.retired = list(worker.conns.values())
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
        for conn in [*worker.conns.values(), *worker.retired]:
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
    for conn in worker.conns.values():
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

"""The live side of the server: one pipeline thread, and fan-out of its output to many viewers.

The pipeline thread reads the source, recognises, draws and JPEG-encodes each frame **once**; the
encoded frame is shared by every MJPEG viewer (a slow viewer skips to the newest frame, it never
holds the pipeline up), and each frame's JSON record goes to every subscriber of the live feed
through a small per-subscriber queue (a stalled subscriber loses its oldest records, nobody else
notices).

Threads hand data to the asyncio side with ``loop.call_soon_threadsafe``; nothing here blocks the
event loop.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np

from ..overlay import Overlay, waiting_screen
from ..recognizer import Recognizer
from ..redact import public_text
from .metrics import Metrics

JPEG_QUALITY = 80
#: While the camera is unavailable the status picture is re-sent this often, so a viewer that just
#: connected sees it at once and a page can tell a live connection from a dead one.
STATUS_INTERVAL_S = 1.0
#: A number joins "read so far" once it was read in this many frames (one stray frame is no reading).
CONFIRM_FRAMES = 3
NUMBER_LOG_SIZE = 12
#: Records a feed subscriber may fall behind by before its oldest are dropped.
FEED_QUEUE = 64
#: Frames over which FPS and latency percentiles of the status are computed.
STATS_WINDOW = 120
#: Frames stop "flowing" for /healthz after this long without one.
STALE_AFTER_S = 5.0


class Latest:
    """Newest-wins value shared by threads and asyncio tasks: ``publish`` from any thread, ``await
    wait(after)`` for a value newer than sequence number ``after``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seq = 0
        self.value = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []

    def publish(self, value) -> None:
        with self._lock:
            self.seq += 1
            self.value = value
        self.wake_all()

    def wake_all(self) -> None:
        """Wake every waiter (a new value, or the server is shutting down)."""
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:
                pass  # that loop is closed: its viewer is gone

    async def wait(self, after: int, timeout: float) -> tuple[int, object]:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self.seq > after:
                return self.seq, self.value
            future = loop.create_future()
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))
        with self._lock:
            return self.seq, self.value


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class Feed:
    """Fan-out of text messages to subscribers, each with its own bounded queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()

    def subscribe(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
        entry = (asyncio.get_running_loop(), asyncio.Queue(FEED_QUEUE))
        with self._lock:
            self._subscribers.add(entry)
        return entry

    def unsubscribe(self, entry) -> None:
        with self._lock:
            self._subscribers.discard(entry)

    @property
    def count(self) -> int:
        return len(self._subscribers)

    def publish(self, message: str | None) -> None:
        """``None`` tells every subscriber to finish (the server is shutting down)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(_put_dropping_oldest, queue, message)
            except RuntimeError:
                pass


def _put_dropping_oldest(queue: asyncio.Queue, message) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)


@dataclass
class ReadNumber:
    text: str
    frames: int
    first_seen: float
    last_seen: float


class NumberLog:
    """The numbers read so far: each distinct number once, newest first, after ``CONFIRM_FRAMES``."""

    def __init__(self) -> None:
        self._seen: dict[str, ReadNumber] = {}
        # add() runs in the pipeline thread, confirmed() in the server's: a dict must not change
        # while it is iterated.
        self._lock = threading.Lock()

    def add(self, texts, now: float) -> None:
        with self._lock:
            self._add(texts, now)

    def _add(self, texts, now: float) -> None:
        for text in set(texts):
            entry = self._seen.get(text)
            if entry is None:
                self._seen[text] = ReadNumber(text, 1, now, now)
            else:
                entry.frames += 1
                entry.last_seen = now
        if len(self._seen) > 8 * NUMBER_LOG_SIZE:  # forget the oldest unconfirmed and long-gone ones
            keep = sorted(self._seen.values(), key=lambda e: e.last_seen, reverse=True)[: 4 * NUMBER_LOG_SIZE]
            self._seen = {e.text: e for e in keep}

    def confirmed(self) -> list[dict]:
        with self._lock:
            entries = [ReadNumber(e.text, e.frames, e.first_seen, e.last_seen)
                       for e in self._seen.values() if e.frames >= CONFIRM_FRAMES]
        entries.sort(key=lambda e: e.last_seen, reverse=True)
        return [{"text": e.text, "frames": e.frames, "last_seen": round(e.last_seen, 3)} for e in entries[:NUMBER_LOG_SIZE]]


class LivePipeline:
    """Runs ``source`` through ``recognizer`` in a thread until ``stop()``; see the module docstring."""

    def __init__(self, source, recognizer: Recognizer, metrics: Metrics, *, backend: str, overlay: Overlay | None = None) -> None:
        self.source = source
        self.recognizer = recognizer
        self.metrics = metrics
        self.backend = backend
        self.overlay = overlay or Overlay()
        self.video = Latest()  # JPEG bytes of the newest annotated frame (or the status screen)
        self.feed = Feed()  # SSE messages: per-frame records and status changes
        self.numbers = NumberLog()
        self.viewers = 0
        self.frames = 0
        self.last_frame_at: float | None = None
        self.last_record: dict | None = None
        self._last_image: np.ndarray | None = None
        self._times: collections.deque = collections.deque(maxlen=STATS_WINDOW)
        self._latencies: collections.deque = collections.deque(maxlen=STATS_WINDOW)
        self._stop = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="livedigits-pipeline", daemon=True)
        self._dropped_seen = 0
        self._reconnects_seen = 0
        self._last_state = None
        self._last_status_at = 0.0
        self.error: str | None = None

    # -- lifecycle

    def start(self) -> None:
        self._thread.start()

    def close_streams(self) -> None:
        """End every open MJPEG and feed response (the server is shutting down); idempotent."""
        self._closing = True
        self.feed.publish(None)
        self.video.wake_all()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self.close_streams()

    @property
    def stopped(self) -> bool:
        return self._closing or self._stop.is_set()

    # -- what the endpoints read

    def fps(self) -> float:
        times = self._times
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def status(self) -> dict:
        state = self.source.state
        fps = self.fps()
        latencies = list(self._latencies)
        age = None if self.last_frame_at is None else time.monotonic() - self.last_frame_at
        return {
            "state": state,
            "detail": getattr(self.source, "detail", ""),
            "source": self.source.name,
            "backend": self.backend,
            "fps": round(fps, 2),
            "latency_ms": {
                "p50": round(float(np.percentile(latencies, 50)), 2) if latencies else None,
                "p95": round(float(np.percentile(latencies, 95)), 2) if latencies else None,
            },
            "frames": self.frames,
            "dropped": int(self.source.frames_dropped),
            "reconnects": int(getattr(self.source, "reconnects", 0)),
            "last_frame_age_s": None if age is None else round(age, 3),
            "viewers": self.viewers,
            "numbers_so_far": self.numbers.confirmed(),
            "current": [n["text"] for n in (self.last_record or {}).get("numbers", [])] if state == "live" else [],
        }

    def frames_flowing(self) -> bool:
        return self.last_frame_at is not None and time.monotonic() - self.last_frame_at < STALE_AFTER_S

    def snapshot_jpeg(self) -> bytes | None:
        image = self._last_image
        return None if image is None else _jpeg(image)

    # -- the thread

    def _run(self) -> None:
        try:
            self.source.start()
            while not self._stop.is_set():
                frame = self.source.read(timeout=0.25)
                self._account_source()
                if frame is None:
                    self._idle()
                    continue
                self._process(frame)
        except Exception as exc:  # noqa: BLE001 - the server stays up and says what broke
            self.error = public_text(f"{type(exc).__name__}: {exc}")
            self.metrics.source_up.set(0)
            self.feed.publish(_sse("status", {**self.status(), "state": "failed", "detail": self.error}))
        finally:
            self.source.stop()

    def _process(self, frame) -> None:
        result = self.recognizer.process(frame)
        now = time.monotonic()
        self.frames += 1
        self.last_frame_at = now
        self._times.append(now)
        self._latencies.append(result.latency_ms)
        record = result.to_record()
        self.last_record = record
        self.numbers.add([n["text"] for n in record["numbers"]], now)
        self.metrics.observe_frame(result)
        image = self.overlay.annotate(result, self.fps())
        self._last_image = image
        if self.viewers > 0:  # encoded once, whatever the number of viewers
            self.video.publish(_jpeg(image))
        self.feed.publish(_sse("frame", record, event_id=record["frame"]))
        self._status_if_due(now)

    def _idle(self) -> None:
        now = time.monotonic()
        state = self.source.state
        due = now - self._last_status_at >= STATUS_INTERVAL_S
        if state != self._last_state or (state != "live" and due):
            if state in ("unavailable", "starting"):
                screen = waiting_screen(self.source)
                self._last_image = screen
                self.video.publish(_jpeg(screen))
            self._status_if_due(now, force=True)

    def _status_if_due(self, now: float, force: bool = False) -> None:
        state = self.source.state
        if force or state != self._last_state or now - self._last_status_at >= STATUS_INTERVAL_S:
            self._last_state = state
            self._last_status_at = now
            self.metrics.source_up.set(1 if state == "live" else 0)
            self.feed.publish(_sse("status", self.status()))

    def _account_source(self) -> None:
        dropped = int(self.source.frames_dropped)
        if dropped > self._dropped_seen:
            self.metrics.frames_dropped.inc(dropped - self._dropped_seen)
        self._dropped_seen = max(self._dropped_seen, dropped)
        reconnects = int(getattr(self.source, "reconnects", 0))
        if reconnects > self._reconnects_seen:
            self.metrics.reconnects.inc(reconnects - self._reconnects_seen)
            self._reconnects_seen = reconnects


def _jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return data.tobytes() if ok else b""


def _sse(event: str, data: dict, event_id: int | None = None) -> str:
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head + "data: " + json.dumps(data, separators=(",", ":")) + "\n\n"


__all__ = ["Feed", "Latest", "LivePipeline", "NumberLog"]

"""The live side of the server: the engine in one thread, and fan-out of its output to many viewers.

The engine reads every source (one :class:`Channel` each), recognises, draws; this hub, its sink,
JPEG-encodes each frame **once** per source; the
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

import cv2
import numpy as np

from livedigits.draw.overlay import Overlay, waiting_screen
from livedigits.reading.recognizer import Recognizer
from livedigits.capture.redact import public_text
from livedigits.reading.stable import StableNumbers, StableRule
from livedigits.util.stats import percentiles
from livedigits.serve.metrics import Metrics

JPEG_QUALITY = 80
#: While the camera is unavailable the status picture is re-sent this often, so a viewer that just
#: connected sees it at once and a page can tell a live connection from a dead one.
STATUS_INTERVAL_S = 1.0
#: Numbers "read so far" lists (the newest confirmed); when one is read stably is livedigits.reading.stable's rule.
NUMBER_LOG_SIZE = 12
#: Records a feed subscriber may fall behind by before its oldest are dropped.
FEED_QUEUE = 64
#: Frames over which latency percentiles of the status are computed (and the most FPS counts).
STATS_WINDOW = 120
#: The status's FPS counts the frames of the last this many seconds: a source that died shows 0 within
#: it, not the rate it had while it lived.
FPS_WINDOW_S = 5.0
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


class NumberLog:
    """The numbers read so far, for the page's "read so far": each distinct number once, newest first,
    only once it was read stably and is no fragment of a longer number at its place (the rule of
    :mod:`livedigits.reading.stable`). At most ``NUMBER_LOG_SIZE`` are listed."""

    def __init__(self, rule: StableRule = StableRule()) -> None:
        self._stable = StableNumbers(rule)
        # add() runs in the pipeline thread, confirmed() in the server's.
        self._lock = threading.Lock()

    def add(self, numbers, now: float) -> None:
        """One frame's numbers at ``now`` (seconds, monotonic): ``FrameResult.numbers``, the record's
        ``"numbers"``, or their texts. With their boxes a fragment is told from the number it is part of;
        bare texts are judged by time alone."""
        with self._lock:
            self._stable.update(numbers, now)

    def confirmed(self) -> list[dict]:
        with self._lock:
            listed = self._stable.listed()[:NUMBER_LOG_SIZE]
        return [{"text": n.text, "frames": n.frames, "last_seen": round(n.last_seen, 3)} for n in listed]


class Channel:
    """One source of the live pipeline as the web side sees it: its newest picture (MJPEG), the numbers
    read so far, and its status."""

    def __init__(self, source, label: str, name: str, index: int) -> None:
        self.source = source
        self.label = label  # the ``source`` of its records
        self.name = name  # in the URLs
        self.index = index
        self.video = Latest()  # JPEG bytes of the newest annotated frame (or the status screen)
        self.numbers = NumberLog()
        self.viewers = 0
        self.frames = 0
        self.last_frame_at: float | None = None
        self.last_record: dict | None = None
        self.last_image: np.ndarray | None = None
        self.times: collections.deque = collections.deque(maxlen=STATS_WINDOW)
        self.latencies: collections.deque = collections.deque(maxlen=STATS_WINDOW)
        self.dropped_seen = 0
        self.reconnects_seen = 0
        self.failed_seen = 0
        self.last_state = None
        self.last_status_at = 0.0

    def fps(self, now: float | None = None) -> float:
        """Frames per second over the last ``FPS_WINDOW_S`` seconds, measured up to now: 0 for a
        source that sent nothing in that time."""
        now = time.monotonic() if now is None else now
        recent = [t for t in self.times if now - t <= FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        # From the first recent frame to now (not to the last frame): a source that just stopped falls.
        return (len(recent) - 1) / max(now - recent[0], recent[-1] - recent[0], 1e-6)

    def status(self) -> dict:
        state = self.source.state
        latency = percentiles(self.latencies)
        age = None if self.last_frame_at is None else time.monotonic() - self.last_frame_at
        return {
            "name": self.name,
            "label": self.label,
            "source": self.source.name,
            "state": state,
            "detail": getattr(self.source, "detail", ""),
            "stream": f"/stream/{self.name}.mjpg",
            "fps": round(self.fps(), 2),
            "latency_ms": {k: None if latency[k] is None else round(latency[k], 2) for k in ("p50", "p95")},
            "frames": self.frames,
            "dropped": int(self.source.frames_dropped),
            "reconnects": int(getattr(self.source, "reconnects", 0)),
            "failed_tries": int(getattr(self.source, "failed_tries", 0)),
            "next_retry_in_s": _rounded(getattr(self.source, "next_retry_in", None)),
            "last_frame_age_s": None if age is None else round(age, 3),
            "viewers": self.viewers,
            "numbers_so_far": self.numbers.confirmed(),
            "current": [n["text"] for n in (self.last_record or {}).get("numbers", [])] if state == "live" else [],
        }

    def flowing(self) -> bool:
        return self.last_frame_at is not None and time.monotonic() - self.last_frame_at < STALE_AFTER_S

    def snapshot_jpeg(self) -> bytes | None:
        image = self.last_image
        return None if image is None else _jpeg(image)


class LivePipeline:
    """Runs ``sources`` through ``recognizer`` on the engine, in a thread, until ``stop()``; each
    source is a :class:`Channel`. It is the engine's sink: see the module docstring."""

    needs_image = True
    needs_crops = False

    def __init__(self, sources, recognizer: Recognizer, metrics: Metrics, *, backend: str,
                 overlay: Overlay | None = None) -> None:
        from livedigits.engine.loop import Engine, source_labels, source_slug

        sources = list(sources) if isinstance(sources, (list, tuple)) else [sources]
        labels = source_labels([s.name for s in sources])
        names = source_labels([source_slug(label) for label in labels])
        self.channels = [Channel(source, label, name, k)
                         for k, (source, label, name) in enumerate(zip(sources, labels, names))]
        self._by_label = {c.label: c for c in self.channels}
        self.recognizer = recognizer
        self.metrics = metrics
        self.backend = backend
        self.engine = Engine(sources, recognizer, sinks=[self], overlay=overlay, labels=labels, on_idle=self._idle)
        self.feed = Feed()  # SSE messages: per-frame records and status changes, of every source
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="livedigits-pipeline", daemon=True)
        self.error: str | None = None
        self._checked_at = 0.0

    # -- lifecycle

    def start(self) -> None:
        self._thread.start()

    def close_streams(self) -> None:
        """End every open MJPEG and feed response (the server is shutting down); idempotent."""
        self._closing = True
        self.feed.publish(None)
        for channel in self.channels:
            channel.video.wake_all()

    def stop(self) -> None:
        self.engine.stop("server stopping")
        self._thread.join(5.0)
        self.close_streams()

    @property
    def stopped(self) -> bool:
        return self._closing or self.engine.stopping

    # -- what the endpoints read

    @property
    def source(self):
        """The first source (the one of ``/stream.mjpg``)."""
        return self.channels[0].source

    @property
    def frames(self) -> int:
        return sum(c.frames for c in self.channels)

    def channel(self, name: str | None = None) -> Channel | None:
        """The channel called ``name`` in URLs (the first for None), or None."""
        if name is None:
            return self.channels[0]
        return next((c for c in self.channels if c.name == name), None)

    def status(self) -> dict:
        """The first source's status at the top level (one source: all there is), every source's in
        ``sources``."""
        statuses = [c.status() for c in self.channels]
        return {**statuses[0], "backend": self.backend, "sources": statuses}

    def frames_flowing(self) -> bool:
        return all(c.flowing() for c in self.channels)

    def snapshot_jpeg(self, name: str | None = None) -> bytes | None:
        channel = self.channel(name)
        return None if channel is None else channel.snapshot_jpeg()

    # -- the engine's side (its thread)

    def _run(self) -> None:
        try:
            self.engine.run()
        except Exception as exc:  # noqa: BLE001 - the server stays up and says what broke
            self.error = public_text(f"{type(exc).__name__}: {exc}")
            for channel in self.channels:
                self.metrics.source_up.labels(channel.name).set(0)
            self.feed.publish(_sse("status", {**self.status(), "state": "failed", "detail": self.error}))

    def open(self, streams) -> None:
        pass

    def write(self, result, image) -> None:
        channel = self._by_label[result.source]
        now = time.monotonic()
        channel.frames += 1
        channel.last_frame_at = now
        channel.times.append(now)
        channel.latencies.append(result.latency_ms)
        record = result.to_record()
        channel.last_record = record
        channel.numbers.add(record["numbers"], now)
        self.metrics.observe_frame(result)
        channel.last_image = image
        if channel.viewers > 0:  # encoded once, whatever the number of viewers
            channel.video.publish(_jpeg(image))
        self.feed.publish(_sse("frame", record, event_id=record["frame"]))
        self._account(channel)
        self._status_if_due(channel, now)
        if len(self.channels) > 1 and now - self._checked_at >= STATUS_INTERVAL_S:
            self._idle(self.engine)  # the other sources: one may be away while this one sends

    def close(self) -> None:
        pass

    def _idle(self, engine) -> None:
        now = self._checked_at = time.monotonic()
        for channel in self.channels:
            self._account(channel)
            state = channel.source.state
            due = now - channel.last_status_at >= STATUS_INTERVAL_S
            if state != channel.last_state or (state != "live" and due):
                if state in ("unavailable", "starting"):
                    screen = waiting_screen(channel.source)
                    channel.last_image = screen
                    channel.video.publish(_jpeg(screen))
                self._status_if_due(channel, now, force=True)

    def _status_if_due(self, channel: Channel, now: float, force: bool = False) -> None:
        state = channel.source.state
        if force or state != channel.last_state or now - channel.last_status_at >= STATUS_INTERVAL_S:
            channel.last_state = state
            channel.last_status_at = now
            for other in self.channels:
                self.metrics.source_up.labels(other.name).set(1 if other.source.state == "live" else 0)
            self.feed.publish(_sse("status", self.status()))

    def _account(self, channel: Channel) -> None:
        dropped = int(channel.source.frames_dropped)
        if dropped > channel.dropped_seen:
            self.metrics.frames_dropped.inc(dropped - channel.dropped_seen)
        channel.dropped_seen = max(channel.dropped_seen, dropped)
        reconnects = int(getattr(channel.source, "reconnects", 0))
        if reconnects > channel.reconnects_seen:
            self.metrics.reconnects.labels(channel.name).inc(reconnects - channel.reconnects_seen)
            channel.reconnects_seen = reconnects
        failed = int(getattr(channel.source, "failed_tries", 0))
        if failed > channel.failed_seen:
            self.metrics.failed_tries.labels(channel.name).inc(failed - channel.failed_seen)
            channel.failed_seen = failed


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return data.tobytes() if ok else b""


def _sse(event: str, data: dict, event_id: int | None = None) -> str:
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head + "data: " + json.dumps(data, separators=(",", ":")) + "\n\n"


__all__ = ["Channel", "Feed", "Latest", "LivePipeline", "NumberLog"]

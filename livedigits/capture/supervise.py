"""A source that never gives up, for kiosks and the web server.

``KeptSource`` has the interface of :class:`~livedigits.capture.sources.Source` (``start``, ``read``,
``stop``, ``state``, ``frames_dropped``, ``warnings``) and wraps one:

- a camera or stream that cannot be opened, or goes away, or whose reader fails, is reopened with
  back-off (0.5 s doubling to 5 s) for as long as the program runs; meanwhile ``state`` is
  ``"unavailable"`` and ``read`` returns None;
- a video file starts over when it ends (replayed at its own frame rate), a still image or folder
  is shown again once a second, so a kiosk playing a demo never runs dry. With ``pace=False`` a file
  is replayed as fast as it is read instead (``livedigits bench`` loops its sample so); with
  ``replay=False`` it is read once (``run --reconnect`` on a file).

It is the one supervisor of the project: ``run --reconnect``, the kiosk (``run --kiosk``), the server,
the bench and ``Reader.stream(reconnect=True)`` use it (a :class:`~livedigits.capture.sources.Source` itself
never reopens). A live source's frames keep their index and time counting across reopenings;
``reconnects`` and ``replays`` count what it did, and ``stop()`` may be called from any thread.
``open_now=True`` opens a live source at once, so one that cannot be opened at all is an error, not a
retry loop (``run --reconnect``); a kiosk starts without its camera and waits for it.

A file that cannot be opened at all is still an error at start: a typo in a path should not turn
into a screen that says "retrying" forever.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Callable

from livedigits.errors import SourceError
from livedigits.capture.redact import public_text
from livedigits.capture.sources import (
    STATE_ENDED,
    STATE_LIVE,
    STATE_STARTING,
    STATE_UNAVAILABLE,
    Source,
    open_source,
    source_kind,
)
from livedigits.types import Frame

#: Reconnect back-off: the first retry comes after this delay, which doubles after each failure up to
#: the maximum.
RECONNECT_FIRST_DELAY_S = 0.5
RECONNECT_MAX_DELAY_S = 5.0

#: A still image or a folder of images, replayed by a kiosk, shows one image per this many seconds.
IMAGE_INTERVAL_S = 1.0
#: A video replayed in a loop is paced at its frame rate, or at this one when the file has none (a
#: time scale of 0, a rate over 240): a one-frame clip would otherwise loop as fast as a core opens it.
DEFAULT_REPLAY_FPS = 30.0


class KeptSource:
    """Keep ``spec`` delivering frames until ``stop()``. See the module docstring.

    ``on_state(state, detail)`` is called (from the reading thread) whenever ``state`` changes,
    with a one-line reason; the CLI prints it, the server shows it on the kiosk page.
    """

    def __init__(
        self,
        spec,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        open_timeout: float = 10.0,
        read_timeout: float = 5.0,
        on_state: Callable[[str, str], None] | None = None,
        pace: bool = True,
        realtime: bool = True,
        replay: bool = True,
        open_now: bool = False,
    ) -> None:
        self.spec = spec
        self.kind = source_kind(spec)  # raises SourceError for a path that does not exist
        self.is_live = self.kind in ("camera", "stream")
        # What is shown (status, health, log, kiosk banner): no password, no absolute path.
        self.name = public_text(_display_spec(spec))
        self._raw_name = str(spec) if spec is not None else ""
        self._lock = threading.Lock()  # the inner source is swapped by read() and stop() (other threads)
        self._open_kwargs = dict(width=width, height=height, fps=fps, open_timeout=open_timeout,
                                 read_timeout=read_timeout)
        self._on_state = on_state
        self._inner: Source | None = None
        self._state = STATE_STARTING
        self._stop = threading.Event()
        self._retry_at = 0.0
        self._delay = RECONNECT_FIRST_DELAY_S
        self._next_image_at = 0.0
        self._held: Frame | None = None
        self._dropped_before = 0  # frames dropped by inner sources already closed
        #: Tries that failed: an open that failed, or a source that was lost. Counted apart from
        #: ``reconnects``, which counts the tries that worked.
        self.failed_tries = 0
        self._reconnects = 0
        self._was_live = False  # frames came before: the next frames after a loss are a reconnection
        self._lost = False
        # A live source's frames keep counting across reopenings: index and time go on from the last.
        self._created = time.monotonic()
        self._index_base = 0
        self._inner_opened_at = self._created
        self._replay = replay
        self._finished = False
        self._pace = pace
        self._realtime = realtime
        self.detail = ""
        #: ``time.monotonic()`` of the last frame delivered (None before the first).
        self.last_frame_at: float | None = None
        #: Times a file was opened again after it ended.
        self.replays = 0
        self.fps: float | None = None
        self.size: tuple[int, int] | None = None
        if not self.is_live or open_now:
            self._inner = self._open()  # a bad file is an error now, not a retry loop

    # -- the Source interface

    @property
    def state(self) -> str:
        return STATE_ENDED if self._finished else self._state

    @property
    def policy(self) -> str:
        """``"latest"`` (live, or paced like a camera), else the file's own (``"every"`` when read as
        fast as possible)."""
        inner = self._inner
        if self._pace or self.is_live or inner is None:
            return "latest"
        return inner.policy

    @property
    def total_frames(self) -> int | None:
        """A file read once: its count; replayed, or live: None (no end)."""
        inner = self._inner
        if self._replay or self.is_live or inner is None:
            return None
        return inner.total_frames

    @property
    def frames_dropped(self) -> int:
        inner = self._inner
        return self._dropped_before + (inner.frames_dropped if inner is not None else 0)

    @property
    def reconnects(self) -> int:
        """Times the source came back: frames again after it was lost (failed tries are
        ``failed_tries``)."""
        return self._reconnects

    @property
    def next_retry_in(self) -> float | None:
        """Seconds until the next try to reopen a lost source (0 when due); None while it is not lost."""
        if self._inner is not None or self._finished or self._stop.is_set() or not self.is_live:
            return None
        return max(0.0, self._retry_at - time.monotonic())

    @property
    def warnings(self) -> list[str]:
        return []  # a kiosk runs for days: problems are states and log lines, not a growing list

    def start(self) -> "KeptSource":
        if self._inner is not None:
            self._inner.start()
        return self

    def read(self, timeout: float | None = None) -> Frame | None:
        """The next frame, or None after ``timeout`` seconds without one (then see ``state``)."""
        deadline = time.monotonic() + (timeout if timeout is not None else 1.0)
        if self._finished:
            return None
        if self._held is not None:  # an image waiting for its turn in the slide show
            return self._paced(self._held, deadline)
        state_before = self._state
        while not self._stop.is_set():
            if self._inner is None:
                if not self._wait_for_retry(deadline):
                    return None
                try:
                    opened = self._open().start()
                except SourceError as exc:
                    self._failed(f"cannot open {self.name}: {exc}")
                    continue
                with self._lock:
                    if self._stop.is_set():  # stop() ran while this opened: nobody else will close it
                        opened.stop()
                        return None
                    self._inner = opened
            frame = self._read_inner(deadline)
            if self._finished:
                return None
            if frame is not None:
                self.last_frame_at = time.monotonic()
                if self._lost and self._was_live:
                    self._reconnects += 1  # counted when it worked, not when it was tried
                self._lost, self._was_live = False, True
                self._delay = RECONNECT_FIRST_DELAY_S
                self._set_state(STATE_LIVE, "frames arriving")
                return self._paced(frame, deadline)
            if time.monotonic() >= deadline or self._state != state_before:
                return None  # the caller hears of a lost source at once (a status screen to show)
        return None

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            self._close_inner()
        self._state = STATE_ENDED

    def __enter__(self) -> "KeptSource":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- internals

    def _open(self) -> Source:
        # Files are paced at their frame rate by default: a kiosk shows the demo at its real speed. A live
        # source that goes away is noticed by the inner source (its read fails or it ends) and reopened here.
        self._inner_opened_at = time.monotonic()
        source = open_source(self.spec, realtime=self._realtime, **self._open_kwargs)
        self.fps = source.fps
        self.size = source.size
        return source

    def _read_inner(self, deadline: float) -> Frame | None:
        inner = self._inner
        if inner is None:  # stopped meanwhile
            return None
        try:
            frame = inner.read(timeout=max(0.0, deadline - time.monotonic()))
        except SourceError as exc:  # the reader thread failed or the source went silent
            self._close_inner()
            self._failed(str(exc))
            return None
        if frame is not None:
            if self.is_live:
                frame = dataclasses.replace(frame, index=frame.index + self._index_base,
                                            time=frame.time + (self._inner_opened_at - self._created))
            return frame
        if inner.state == STATE_ENDED and not self._stop.is_set():
            self._close_inner()
            if self.is_live:
                self._failed(f"{self.name} ended")
            elif self._replay:
                self._retry_at = time.monotonic()  # a file: start over at once
                self.replays += 1
            else:
                self._finished = True  # a file read once: the end
        return None

    def _paced(self, frame: Frame, deadline: float) -> Frame | None:
        if not self._pace:
            return frame
        if self.kind == "images":
            # Images have no frame rate: show each for IMAGE_INTERVAL_S, like a slide show.
            interval = IMAGE_INTERVAL_S
        elif self.kind == "video":
            # The inner source paces a file at its frame rate, but each replay starts its clock
            # again: a one-frame clip (or one with no usable rate) would loop flat out.
            interval = 1.0 / (self.fps or DEFAULT_REPLAY_FPS)
        else:
            return frame
        # A frame not due before ``deadline`` is held back, so read() keeps its timeout (a window
        # stays responsive).
        due = self._next_image_at
        if due > deadline:
            self._held = frame
            self._stop.wait(max(0.0, deadline - time.monotonic()))
            return None
        if due > time.monotonic():
            self._stop.wait(due - time.monotonic())
        self._held = None
        now = time.monotonic()
        # A video keeps its rhythm (a late frame does not push the next one back); a slide show
        # shows each image for the whole interval.
        self._next_image_at = max(due + interval, now) if self.kind == "video" and due else now + interval
        # Shown now, as a camera would deliver it now: its latency counts from here, not from when it
        # was read ahead and held for its turn.
        return dataclasses.replace(frame, stamp=now)

    def _close_inner(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            self._dropped_before += inner.frames_dropped
            self._index_base += int(getattr(inner, "frames_read", 0))
            inner.stop()

    def _failed(self, reason: str) -> None:
        self.failed_tries += 1
        self._lost = True
        self._retry_at = time.monotonic() + self._delay
        # Said on every failure, not only the first: the back-off grows, and a status that still says
        # "retrying in 0.5 s" after minutes is a lie (``next_retry_in`` gives the live figure).
        self._set_state(STATE_UNAVAILABLE, f"{reason}; retrying in {self._delay:.1f} s (try {self.failed_tries} failed)")
        self._delay = min(self._delay * 2.0, RECONNECT_MAX_DELAY_S)

    def _wait_for_retry(self, deadline: float) -> bool:
        """Sleep until the next retry is due; False if ``deadline`` comes first."""
        due = self._retry_at
        if due > deadline:
            self._stop.wait(max(0.0, deadline - time.monotonic()))
            return False
        if due > time.monotonic():
            self._stop.wait(due - time.monotonic())
        return not self._stop.is_set()

    def _set_state(self, state: str, detail: str) -> None:
        if self._raw_name and self._raw_name != self.name:
            detail = detail.replace(self._raw_name, self.name)
        detail = public_text(detail)
        changed = state != self._state
        self._state = state
        if changed or state == STATE_UNAVAILABLE:
            self.detail = detail  # an unavailable source's detail follows each failed try
        if changed and self._on_state is not None:
            self._on_state(state, detail)


def _display_spec(spec) -> str:
    if spec is None:
        return "camera 0"
    text = str(spec)
    if text.isdigit():
        return f"camera {text}"
    return text


def open_reconnecting(spec, *, realtime: bool = False, width: int | None = None, height: int | None = None,
                      fps: float | None = None, open_timeout: float = 10.0, read_timeout: float = 10.0,
                      camera_api: str | None = None, on_state: Callable[[str, str], None] | None = None):
    """A source as ``--reconnect`` reads it: a camera or stream is opened now (an error if it cannot be)
    and reopened with back-off whenever it goes away; a file or folder is read once, as without it."""
    if source_kind(spec) not in ("camera", "stream"):
        return open_source(spec, realtime=realtime, width=width, height=height, fps=fps, open_timeout=open_timeout,
                           read_timeout=read_timeout, camera_api=camera_api)
    return KeptSource(spec, width=width, height=height, fps=fps, open_timeout=open_timeout, read_timeout=read_timeout,
                      on_state=on_state, pace=False, realtime=realtime, replay=False, open_now=True)


__all__ = ["IMAGE_INTERVAL_S", "KeptSource", "DEFAULT_REPLAY_FPS", "open_reconnecting"]

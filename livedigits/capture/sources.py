"""Frame sources: cameras, video files, still images, folders/globs and streams.

This is the only module that touches ``cv2.VideoCapture``. Every source is read
by its own thread, owned by a :class:`Source`, and reaches the caller as
:class:`~livedigits.types.Frame` objects whose ``image`` is always a BGR
``uint8`` array of shape ``(H, W, 3)``, C-contiguous.

Two delivery policies, chosen by the kind of source:

``"latest"``
    Live sources (cameras, streams) and video files replayed in real time.
    One slot: a newer frame overwrites an unread one and the overwritten frame
    is counted in ``frames_dropped``. Latency cannot build up behind a slow
    consumer, and ``Frame.index`` gaps show what was skipped.
``"every"``
    Files, images and folders replayed as fast as possible. Every frame is
    delivered, in order, through a small bounded queue; the reader thread
    waits while the queue is full (backpressure).

Example::

    with open_source("samples/demo.mp4") as src:
        while (frame := src.read()) is not None:
            print(frame.index, frame.time, frame.image.shape)
"""

from __future__ import annotations

import collections
import glob
import logging
import math
import os
import stat
import sys
import threading
import time
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from livedigits.capture import bundled, cameras, opencv
from livedigits.errors import SourceError
from livedigits.capture.images import (DamagedImage, UnreadableImage, empty_image_message, is_image_path, read_image_scaled, to_bgr8,
                               unreadable_image_message)
from livedigits.util.logs import native_stderr_captured
from livedigits.capture.redact import redact_url
from livedigits.types import Frame

log = logging.getLogger(__name__)

#: Frames the "every" policy may hold ahead of the consumer. Small, so memory
#: stays bounded, but more than one so decoding overlaps processing.
EVERY_QUEUE_SIZE = 4

#: How long ``stop()`` waits for the reader thread. A thread blocked inside a
#: backend call (an FFmpeg read on a stalled stream) cannot be interrupted; it
#: releases its capture itself when that call returns. One second, half of the
#: 2 s a stop may take, so that Ctrl-C or SIGTERM ends a run promptly on a
#: stalled stream even when a loaded machine adds to the wait.
STOP_JOIN_TIMEOUT_S = 1.0

#: A failed read that took at least this fraction of ``read_timeout`` was
#: FFmpeg's read timeout firing (the stream stalled), not a clean end of stream.
STALL_FRACTION = 0.8

#: Frame rates outside (0, MAX_NOMINAL_FPS] are not frame rates: containers
#: and drivers report 0, NaN or their time base (90000) when they do not know.
MAX_NOMINAL_FPS = 240.0

#: A video is reported truncated when it ended before this fraction of the
#: frame count in its header, and at least TRUNCATION_MIN_MISSING frames short
#: (headers are often off by a frame or two).
TRUNCATION_RATIO = 0.9
TRUNCATION_MIN_MISSING = 2

#: URL prefixes handed to FFmpeg as network streams.
STREAM_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")

#: What to tell a user who has no camera.
DEMO_COMMAND = "livedigits run samples/demo.mp4"

HTTP_PREFIXES = ("http://", "https://")

_GLOB_CHARS = "*?["

#: Values of ``Source.state``.
STATE_STARTING = "starting"
STATE_LIVE = "live"
STATE_UNAVAILABLE = "unavailable"
STATE_ENDED = "ended"

POLICY_LATEST = "latest"
POLICY_EVERY = "every"


# --------------------------------------------------------------------------- backends


def _nominal_fps(value: float) -> float | None:
    """A frame rate reported by OpenCV, or None when it is not a real one."""
    if not math.isfinite(value) or value <= 0 or value > MAX_NOMINAL_FPS:
        return None
    return float(value)


class _CaptureReader:
    """Opens and reads one ``cv2.VideoCapture`` (camera, stream or video file).

    Not thread-safe by itself: the owning Source opens it in the caller's
    thread, then only its reader thread touches it, and releases it last.
    """

    def __init__(
        self,
        target: int | str,
        api: int,
        params: Sequence[int],
        *,
        cannot_open: str,
        no_frame: str,
        buffer_one: bool,
        camera_settings: dict[int, float] | None = None,
        trust_fps: bool = True,
    ) -> None:
        self._target = target
        self._trust_fps = trust_fps
        self._api = api
        self._params = list(params)
        self._cannot_open = cannot_open
        self._no_frame = no_frame
        self._buffer_one = buffer_one
        self._camera_settings = camera_settings or {}
        self._capture: cv2.VideoCapture | None = None
        self._lock = threading.Lock()
        self.fps: float | None = None
        self.frame_count: int | None = None
        self.position_s: float | None = None
        self.warnings: list[str] = []

    def open(self) -> np.ndarray:
        """Open the capture and read its first frame; SourceError if either fails.

        Reading the first frame here makes a broken source (a text file named
        ``.mp4``, a stream that never sends anything) fail at once, in the
        caller's thread, rather than later inside the reader thread.
        """
        try:
            with opencv.quiet_log():
                capture = opencv.new_capture(self._target, self._api, self._params)
        except cv2.error as exc:  # some backends raise on a malformed name instead of failing
            raise SourceError(f"{self._cannot_open} ({_one_line(str(exc))})") from exc
        try:
            if not capture.isOpened():
                raise SourceError(self._cannot_open)
            if self._buffer_one:
                # Keep the driver from queueing stale frames; FFmpeg ignores it.
                capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            for prop, value in self._camera_settings.items():
                capture.set(prop, value)
            ok, image = capture.read()
            if not ok or image is None:
                raise SourceError(self._no_frame)
            self.fps = _nominal_fps(capture.get(cv2.CAP_PROP_FPS)) if self._trust_fps else None
            count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
            self.frame_count = int(count) if math.isfinite(count) and count > 0 else None
            self.position_s = self._position(capture)
        except BaseException:
            capture.release()
            raise
        with self._lock:
            self._capture = capture
        return image

    def read(self) -> np.ndarray | None:
        """The next raw frame, or None at end of file / a failed read."""
        capture = self._capture
        if capture is None:
            return None
        ok, image = capture.read()
        if not ok or image is None:
            return None
        self.position_s = self._position(capture)
        return image

    def release(self) -> None:
        """Release the capture; safe to call more than once, from any path."""
        with self._lock:
            capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()

    @staticmethod
    def _position(capture: cv2.VideoCapture) -> float | None:
        msec = capture.get(cv2.CAP_PROP_POS_MSEC)
        return msec / 1000.0 if math.isfinite(msec) and msec >= 0 else None


#: Seconds the keyframe scan of a video file may take at open (about 200 keyframes of 720p: a 7-minute
#: file at one keyframe every 2 s); a longer file is scanned that far.
SIZE_SCAN_BUDGET_S = 1.0
#: The same for a codec whose every frame is a keyframe (Motion JPEG): the scan would decode it all, so
#: only its start is looked at (about 130 frames of 640x480).
INTRA_SCAN_BUDGET_S = 0.2


def frame_sizes(path: str, budget_s: float = SIZE_SCAN_BUDGET_S) -> list[tuple[float, tuple[int, int]]]:
    """``[(seconds, (width, height)), ...]``: the frame size of a video file at its start and at each
    keyframe where it changes, found by PyAV decoding the keyframes only (a size changes only at one).
    Empty where PyAV cannot read the file. OpenCV's reader scales every frame to the first's size without
    a word, so boxes on the later frames would land at the wrong scale; this is how it is found out.
    The scan stops after ``budget_s`` (``INTRA_SCAN_BUDGET_S`` for Motion JPEG and other intra-only
    codecs, where it would decode every frame): a change past that point is not seen."""
    try:
        import av
    except ImportError:  # pragma: no cover - a dependency; a broken install reads as before
        return []
    sizes: list[tuple[float, tuple[int, int]]] = []
    started = time.monotonic()
    try:
        with av.open(path) as container:
            if not container.streams.video:
                return []
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            if stream.codec_context.codec.intra_only:
                budget_s = min(budget_s, INTRA_SCAN_BUDGET_S)
            for frame in container.decode(stream):
                size = (frame.width, frame.height)
                if not sizes or sizes[-1][1] != size:
                    sizes.append((float(frame.time or 0.0), size))
                if time.monotonic() - started > budget_s:
                    break
    except (OSError, ValueError, IndexError):  # av's errors are OSError or ValueError
        return sizes
    return sizes


class _AvVideoReader:
    """Reads a video file through PyAV, each frame at its own size (a file whose size changes mid-way:
    OpenCV would scale them all to the first's). The same interface as :class:`_CaptureReader`."""

    def __init__(self, path: str, *, cannot_open: str, no_frame: str) -> None:
        self._path = path
        self._cannot_open = cannot_open
        self._no_frame = no_frame
        self._container = None
        self._frames = None
        self.fps: float | None = None
        self.frame_count: int | None = None
        self.position_s: float | None = None
        self.warnings: list[str] = []

    def open(self) -> np.ndarray:
        import av

        try:
            self._container = av.open(self._path)
            stream = self._container.streams.video[0]
        except (OSError, ValueError, IndexError) as exc:
            self.release()
            raise SourceError(f"{self._cannot_open} ({_one_line(str(exc))})") from None
        stream.thread_type = "AUTO"
        self.fps = _nominal_fps(float(stream.average_rate or 0))
        self.frame_count = int(stream.frames) or None
        self._frames = self._container.decode(stream)
        first = self.read()
        if first is None:
            self.release()
            raise SourceError(self._no_frame)
        return first

    def read(self) -> np.ndarray | None:
        if self._frames is None:
            return None
        try:
            frame = next(self._frames)
        except (StopIteration, OSError, ValueError):  # the end, or damaged data: the end, as OpenCV
            return None
        self.position_s = float(frame.time) if frame.time is not None else None
        return frame.to_ndarray(format="bgr24")

    def release(self) -> None:
        container, self._container, self._frames = self._container, None, None
        if container is not None:
            container.close()


#: Images already said to be skipped, so a folder replayed in a loop says it once (bounded by the
#: files the program was given).
_SKIPS_TOLD: set[str] = set()


class _ImageListReader:
    """Reads still image files in order, skipping the unreadable ones."""

    fps = None
    frame_count = None
    position_s = None

    def __init__(self, paths: Sequence[str], name: str, max_side: int | None = None) -> None:
        self._paths = list(paths)
        self._name = name
        self._max_side = max_side  # a big JPEG is decoded as small as the segmentation would shrink it
        self._next = 0
        self.skipped = 0
        self.warnings: list[str] = []
        self._why: list[str] = []  # why the last skipped image was skipped
        self.current_path: str | None = None  # the file the last image returned came from
        self.current_scale = 1  # how many times smaller than its file that image was decoded

    def open(self) -> np.ndarray:
        image = self.read()
        if image is None:
            if len(self._paths) == 1:
                raise SourceError(unreadable_image_message(self._paths[0], *self._why[-1:]))
            raise SourceError(f"none of the {len(self._paths)} images in {self._name} can be read; are they damaged?")
        return image

    def read(self) -> np.ndarray | None:
        while self._next < len(self._paths):
            path = self._paths[self._next]
            self._next += 1
            try:
                image, scale = read_image_scaled(path, self._max_side)
            except UnreadableImage as exc:
                self.skipped += 1
                what = "damaged" if isinstance(exc, DamagedImage) else "unreadable"
                message = f"skipped {what} image {path} ({exc})"
                self._why[:] = [str(exc)]
                self.warnings.append(message)
                if len(self._paths) > 1 and path not in _SKIPS_TOLD:  # once per file: a kiosk replays its folder for days
                    _SKIPS_TOLD.add(path)
                    log.warning(message)
                continue
            self.current_path, self.current_scale = path, scale
            return image
        return None

    def release(self) -> None:
        self._next = len(self._paths)


# --------------------------------------------------------------------------- the Source


class Source:
    """A frame source read by its own thread. Build one with :func:`open_source`.

    ``start()`` returns self; ``read(timeout)`` returns the next
    :class:`Frame`, or None when the source has ended (``state == "ended"``)
    or ``timeout`` passed first (any other state); ``stop()`` ends the thread
    and releases the device. Use it as a context manager to do both.
    """

    def __init__(
        self,
        reader: _CaptureReader | _ImageListReader,
        first_image: np.ndarray,
        *,
        name: str,
        kind: str,
        live: bool,
        realtime: bool,
        read_timeout: float,
        opened_at: float,
        first_captured_at: float,
        warnings: Sequence[str] = (),
    ) -> None:
        self._reader = reader
        self._first = (first_image, first_captured_at)
        self.name = name
        self.kind = kind
        self._live = live
        self._realtime = realtime and not live and kind == "video" and reader.fps is not None
        self.policy = POLICY_LATEST if (live or self._realtime) else POLICY_EVERY
        self._read_timeout = read_timeout
        self._t0 = opened_at
        self._fps = reader.fps
        height, width = first_image.shape[:2]
        self._size = (int(width), int(height))
        self._warnings = list(warnings)

        self._cond = threading.Condition()
        self._frames: collections.deque[Frame] = collections.deque()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = STATE_STARTING
        self._ended = False
        self._error: BaseException | None = None
        self._last_frame_at = first_captured_at
        self._pace_origin = opened_at  # reset when the reader starts: real-time replay starts then
        self.truncated = False
        self.frames_read = 0
        self.frames_dropped = 0
        self.frames_delivered = 0
        self.reconnects = 0  # a plain source is never reopened (KeptSource counts its reconnects)

    # -- properties

    @property
    def is_live(self) -> bool:
        """True for cameras and streams (frames keep coming in real time)."""
        return self._live

    @property
    def total_frames(self) -> int | None:
        """How many frames the source holds, where known: a video's count from its header, the number of
        images of an image source; None for cameras and streams."""
        if self._live:
            return None
        paths = getattr(self._reader, "_paths", None)
        return len(paths) if paths is not None else self._reader.frame_count

    @property
    def fps(self) -> float | None:
        """The source's nominal frame rate, or None (images, unknown)."""
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the first frame in pixels."""
        return self._size

    @property
    def state(self) -> str:
        """``"starting"``, ``"live"`` or ``"ended"`` (a :class:`~livedigits.capture.supervise.KeptSource` adds
        ``"unavailable"`` while it reconnects)."""
        return self._state

    @property
    def warnings(self) -> list[str]:
        """Things worth telling the user that did not stop the source (a copy)."""
        with self._cond:
            return list(self._warnings) + list(self._reader.warnings)

    @property
    def skipped(self) -> int:
        """Unreadable images skipped in a folder or glob."""
        return getattr(self._reader, "skipped", 0)

    @property
    def error(self) -> BaseException | None:
        """The exception that ended the reader thread, if one did."""
        return self._error

    def __repr__(self) -> str:
        return f"Source({self.name!r}, kind={self.kind}, policy={self.policy}, state={self._state})"

    # -- lifecycle

    def start(self) -> "Source":
        """Start the reader thread (once) and return self."""
        with self._cond:
            if self._thread is not None or self._stop_event.is_set():
                return self
            self._thread = threading.Thread(target=self._run, name=f"livedigits-source-{self.kind}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the reader thread and release the device. Idempotent, never blocks for long.

        The stop flag wakes a reader waiting on a full queue or in a back-off
        sleep. A reader stuck in a blocking backend call is given
        ``STOP_JOIN_TIMEOUT_S``; if it is still busy it releases the capture
        itself when the call returns (releasing under it would crash FFmpeg).
        """
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        thread = self._thread
        try:
            if thread is not None and thread is not threading.current_thread():
                thread.join(STOP_JOIN_TIMEOUT_S)
                if thread.is_alive():
                    log.warning("source %s: reader thread still busy after %.1f s", self.name, STOP_JOIN_TIMEOUT_S)
        finally:
            if thread is None or not thread.is_alive():
                self._reader.release()
            with self._cond:
                self._ended = True
                self._state = STATE_ENDED
                self._frames.clear()
                self._cond.notify_all()

    def __enter__(self) -> "Source":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- consumer side

    def read(self, timeout: float | None = None) -> Frame | None:
        """Wait for the next frame.

        Returns a :class:`Frame`; or None when the source has ended or was
        stopped (``state == "ended"``), or when ``timeout`` seconds passed with
        no frame (check ``state`` to tell which). Raises :class:`SourceError`
        if the reader thread failed, or if a live source sent no frame for
        ``read_timeout`` seconds.
        """
        if self._thread is None and not self._stop_event.is_set():
            raise RuntimeError("Source.read() called before start(); use open_source(...).start()")
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        with self._cond:
            while True:
                if self._stop_event.is_set():
                    return None
                if self._frames:
                    frame = self._frames.popleft()
                    self.frames_delivered += 1
                    self._cond.notify_all()  # room in the queue for the reader
                    return frame
                if self._error is not None:
                    raise SourceError(self._error_message()) from self._error
                if self._ended:
                    return None
                now = time.monotonic()
                wake = deadline
                if self._live:
                    stall_deadline = self._last_frame_at + self._read_timeout
                    if now >= stall_deadline:
                        raise SourceError(self._stall_message())
                    wake = stall_deadline if wake is None else min(wake, stall_deadline)
                if deadline is not None and now >= deadline:
                    return None
                self._cond.wait(None if wake is None else wake - now)

    # -- reader thread

    def _run(self) -> None:
        self._pace_origin = time.monotonic()
        try:
            image, captured_at = self._first
            self._first = None  # the reader owns frames from here; do not keep a copy
            if not self._publish(image, captured_at):
                return
            while not self._stop_event.is_set():
                asked_at = time.monotonic()
                image = self._reader.read()
                if image is None:
                    if not self._live:
                        self._check_truncated()
                        return
                    self._raise_if_stalled(asked_at)
                    if self.kind == "camera":
                        raise SourceError(
                            f"{self.name} stopped sending frames (unplugged, or taken by another program?)"
                        )
                    expected = self._reader.frame_count
                    if expected and self.frames_read >= TRUNCATION_RATIO * expected:
                        log.info("source %s: stream ended after its %d frames", self.name, self.frames_read)
                        return  # a file served over the network, read to its end
                    # A live stream has no end: the sender stopped, or the connection was cut.
                    raise SourceError(f"{self.name} ended after {self.frames_read} frames: the sender stopped or "
                                      "the connection was cut; use --reconnect to keep retrying")
                if not self._publish(image, time.monotonic(), read_started=asked_at):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer in read()
            log.debug("source %s: reader failed", self.name, exc_info=True)
            with self._cond:
                self._error = exc
        finally:
            try:
                self._reader.release()
            finally:
                with self._cond:
                    self._ended = True
                    self._state = STATE_ENDED
                    self._cond.notify_all()

    def _publish(self, raw: np.ndarray, captured_at: float, read_started: float | None = None) -> bool:
        """Normalise one raw frame and hand it over by the policy; False if stopped.

        ``read_started`` (monotonic) is when the backend read began: it gives ``Frame.decode_ms``.
        """
        image = to_bgr8(raw)
        decode_ms = None if read_started is None else (time.monotonic() - read_started) * 1e3
        index = self.frames_read
        self.frames_read += 1
        frame_time = self._frame_time(index, captured_at)
        if self._realtime and not self._wait_until(self._pace_origin + frame_time):
            return False
        # Published right after the reader returned this image, so its path is still the current one.
        file = getattr(self._reader, "current_path", None)
        frame = Frame(index=index, time=frame_time, image=image, decode_ms=decode_ms, file=file,
                      scale=getattr(self._reader, "current_scale", 1))
        with self._cond:
            if self.policy == POLICY_LATEST:
                if self._frames:
                    self._frames.clear()
                    self.frames_dropped += 1
            else:
                while len(self._frames) >= EVERY_QUEUE_SIZE and not self._stop_event.is_set():
                    self._cond.wait()
            if self._stop_event.is_set():
                return False
            self._frames.append(frame)
            self._state = STATE_LIVE
            self._last_frame_at = time.monotonic()
            self._cond.notify_all()
        return True

    def _frame_time(self, index: int, captured_at: float) -> float:
        """Seconds since the start: wall time for live sources, position for files.

        File times come from the frame's position (index / fps) so replaying
        the same file always gives the same output.
        """
        if self._live:
            return max(0.0, captured_at - self._t0)
        if self.kind == "images":
            return 0.0  # still images have no capture time
        if self._fps is not None:
            return index / self._fps
        position = self._reader.position_s
        return position if position is not None else 0.0

    def _wait_until(self, due: float) -> bool:
        """Sleep until ``due`` (monotonic) unless stopped first; False if stopped."""
        delay = due - time.monotonic()
        if delay <= 0:
            return not self._stop_event.is_set()
        return not self._stop_event.wait(delay)

    def _raise_if_stalled(self, asked_at: float) -> None:
        # FFmpeg returns "no frame" both at end of stream (at once) and when its
        # read timeout fires (after read_timeout): only the second is a stall.
        if time.monotonic() - asked_at >= STALL_FRACTION * self._read_timeout:
            raise SourceError(self._stall_message())

    def _check_truncated(self) -> None:
        expected = self._reader.frame_count
        if self.kind != "video" or expected is None or self._stop_event.is_set():
            return
        missing = expected - self.frames_read
        if self.frames_read < TRUNCATION_RATIO * expected and missing >= TRUNCATION_MIN_MISSING:
            self.truncated = True
            message = (
                f"{self.name} ended after {self.frames_read} of the {expected} frames its header announces; "
                "the file looks truncated"
            )
            log.warning(message)
            with self._cond:
                self._warnings.append(message)

    def _stall_message(self) -> str:
        return (
            f"{self.name} sent no frame for {self._read_timeout:g} s; check that it is still running "
            "and reachable, or use --reconnect to keep retrying"
        )

    def _error_message(self) -> str:
        error = self._error
        if isinstance(error, SourceError):
            return str(error)
        return f"reading {self.name} failed: {type(error).__name__}: {_one_line(str(error))}"


def _one_line(text: str) -> str:
    """Collapse a multi-line message (cv2.error has several) onto one line."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


# --------------------------------------------------------------------------- open_source


def open_source(
    spec: str | int | os.PathLike | None,
    *,
    realtime: bool = False,
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    open_timeout: float = 10.0,
    read_timeout: float = 10.0,
    camera_api: str | None = None,
    still_max_side: int | None = None,
) -> Source:
    """Open a source and read its first frame; return the (not yet started) Source.

    ``spec`` is one of: None (camera 0); a camera index as int or digit string;
    a device path (``/dev/video0``); a video file; an image file; a folder of
    images; a glob (``pages/*.png``); an ``rtsp://``, ``http://`` or
    ``https://`` URL (an MJPEG stream as phone camera apps serve, or anything
    FFmpeg opens).

    ``realtime`` paces a video file at its own frame rate with the "latest"
    policy, as if it were a camera. ``width``, ``height`` and ``fps`` are
    requested from cameras (drivers may pick the nearest mode they have).
    ``open_timeout`` bounds opening a stream; ``read_timeout`` how long a live
    source may stay silent before read() raises. ``camera_api`` is the OpenCV capture API a camera index
    is opened with (see :mod:`livedigits.capture.cameras`; default: the process's, set by ``--camera-api``).
    ``still_max_side``: the ``SegmentConfig.max_side`` the frames will be segmented with (None: every
    still decoded whole). A JPEG still the segmentation would shrink by 2, 4 or 8 is then decoded at
    that size, several times faster (``Frame.scale`` says by how much; boxes stay in the file's pixels).
    Leave it None when the frames are resized or segmented with a region of interest.

    Raises :class:`SourceError` with a one-line message saying what is wrong
    and what to do, before any thread is started.
    """
    if open_timeout <= 0 or read_timeout <= 0:
        raise ValueError(f"open_timeout and read_timeout must be > 0, got {open_timeout} and {read_timeout}")
    opened_at = time.monotonic()
    warnings: list[str] = []
    camera_settings = _camera_settings(width, height, fps)

    kind, target = _classify(spec)
    reader, name, live = OPENERS[kind](spec, target, OpenOptions(open_timeout, read_timeout, camera_settings, camera_api,
                                                                 still_max_side))

    if kind == "camera" and sys.platform == "darwin":
        # macOS says why it refused the camera only in AVFoundation's own log line.
        with native_stderr_captured() as native:
            try:
                first = reader.open()
            except SourceError:
                refused = False
            else:
                refused = None
        if refused is False and cameras.refused_permission("".join(native)):
            raise SourceError(cameras.PERMISSION_MESSAGE)
        if refused is False:
            first = reader.open()  # not a refusal: the same failure, raised with its own message
    else:
        first = reader.open()
    first_captured_at = time.monotonic()
    if kind != "camera" and camera_settings:
        warnings.append(f"width/height/fps apply to cameras only; ignored for {name}")
    if realtime and not live and (kind != "video" or reader.fps is None):
        warnings.append(f"{name} has no frame rate to replay it in real time; reading it as fast as possible")
    if kind == "camera" and (width or height):
        got_h, got_w = first.shape[:2]
        if (width and got_w != width) or (height and got_h != height):
            warnings.append(f"{name} gives {got_w}x{got_h}, not the requested {width or got_w}x{height or got_h}")
    return Source(
        reader,
        first,
        name=name,
        kind=kind,
        live=live,
        realtime=realtime,
        read_timeout=read_timeout,
        opened_at=opened_at,
        first_captured_at=first_captured_at,
        warnings=warnings,
    )


# --------------------------------------------------------------------------- the kinds of source


@dataclass(frozen=True)
class OpenOptions:
    """What :func:`open_source` passes every opener besides the spec."""

    open_timeout: float
    read_timeout: float
    camera_settings: dict
    camera_api: str | None
    still_max_side: int | None = None


def _open_camera(spec, target, options: OpenOptions):
    name = f"camera {target}"
    reader = _CaptureReader(
        target,
        # A device path is V4L2's; an index opens with --camera-api (auto: DirectShow on Windows,
        # AVFoundation on macOS, V4L2 on Linux), not CAP_ANY, which on Windows means slow MSMF.
        cv2.CAP_V4L2 if isinstance(target, str) and target.startswith("/dev/") else cameras.resolve(options.camera_api)[1],
        # No timeout parameters: only FFmpeg knows them, and OpenCV turns a
        # parameter a backend cannot use into a failed open of that backend.
        [],
        cannot_open=_camera_message(spec, target),
        no_frame=f"{name} opened but sent no frame; is another program using it?",
        buffer_one=True,
        camera_settings=options.camera_settings,
    )
    return reader, name, True


def _open_stream(spec, target, options: OpenOptions):
    name = redact_url(str(target))  # shown and logged: never the password in the URL
    timeouts = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(options.open_timeout * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(options.read_timeout * 1000),
    ]  # fmt: skip
    reader = _CaptureReader(
        target,
        cv2.CAP_FFMPEG,
        timeouts,
        cannot_open=(
            f"cannot open stream {name} (refused, or no video within {options.open_timeout:g} s); check the "
            "address, that the camera app is streaming, and that this machine can reach it"
        ),
        no_frame=f"stream {name} opened but sent no frame; check that it is a video stream",
        buffer_one=True,
        # MJPEG over HTTP carries no frame rate: FFmpeg reports a made-up 25.
        trust_fps=not name.lower().startswith(HTTP_PREFIXES),
    )
    return reader, name, True


def _open_video(spec, target, options: OpenOptions):
    name = str(target)
    _check_nonempty_file(name)
    sizes = frame_sizes(name)
    if len(sizes) > 1:
        # Read at each frame's own size, so its boxes are in its own pixels.
        reader = _AvVideoReader(name, cannot_open=f"cannot open {name} as a video",
                                no_frame=f"{name} opened as a video but no frame could be decoded; the file is damaged")
        changes = ", then ".join(f"{w}x{h}" + (f" from {at:.1f} s" if k else "") for k, (at, (w, h)) in enumerate(sizes))
        message = (f"{name}: the frame size changes mid-video ({changes}); each frame is read at its own size, "
                   "and its boxes are in its own pixels")
        log.warning(message)
        reader.warnings.append(message)
        return reader, name, False
    reader = _CaptureReader(
        name,
        cv2.CAP_ANY,
        [],
        cannot_open=(
            f"cannot open {name} as a video: FFmpeg does not recognise it; is it really a video "
            "file (mp4, avi, mkv...), and complete? (an .mp4 cut short loses its index)"
        ),
        no_frame=f"{name} opened as a video but no frame could be decoded; the file is damaged or not a video",
        buffer_one=False,
    )
    return reader, name, False


def _open_images(spec, target, options: OpenOptions):
    name, paths = target
    if len(paths) == 1 and os.path.getsize(paths[0]) == 0:
        raise SourceError(empty_image_message(paths[0]))
    return _ImageListReader(paths, name, options.still_max_side), name, False


#: The registry of kinds of source: ``kind -> opener(spec, target, OpenOptions) -> (reader, name, live)``,
#: where ``target`` is what :func:`_classify` made of the spec and ``reader`` has ``open()`` (the first
#: image, or SourceError), ``read()`` (the next image or None), ``release()``, ``fps``, ``frame_count``,
#: ``position_s`` and ``warnings``. A new kind is an opener here, its entry, and (for a URL scheme) its
#: prefix in ``SCHEMES``.
OPENERS = {"camera": _open_camera, "stream": _open_stream, "video": _open_video, "images": _open_images}
#: URL prefixes and the kind that opens them (checked before any file name).
SCHEMES = {prefix: "stream" for prefix in STREAM_PREFIXES}


def _camera_settings(width: int | None, height: int | None, fps: float | None) -> dict[int, float]:
    settings: dict[int, float] = {}
    for prop, value, label in (
        (cv2.CAP_PROP_FRAME_WIDTH, width, "width"),
        (cv2.CAP_PROP_FRAME_HEIGHT, height, "height"),
        (cv2.CAP_PROP_FPS, fps, "fps"),
    ):
        if value is None:
            continue
        if value <= 0:
            raise ValueError(f"camera {label} must be > 0, got {value}")
        settings[prop] = float(value)
    return settings


def _camera_message(spec: object, target: int | str) -> str:
    if spec is None:
        return (
            f"no camera found (camera 0 cannot be opened); {cameras.hint()}; or pass a video, image or stream "
            f"instead, e.g. the bundled sample: {DEMO_COMMAND}"
        )
    return (
        f"camera {target} cannot be opened: no such camera, or another program is using it; "
        f"{cameras.hint()}; or read a video file: {DEMO_COMMAND}"
    )


def _check_nonempty_file(path: str) -> None:
    if os.path.getsize(path) == 0:
        raise SourceError(f"{path} is empty (0 bytes); pass a video file that was fully written")


def source_kind(spec: str | int | os.PathLike | None) -> str:
    """``"camera"``, ``"stream"``, ``"video"`` or ``"images"``: what ``spec`` names, without opening it.

    Raises :class:`SourceError` for a path that does not exist.
    """
    return _classify(spec)[0]


def classify_source(spec: str | int | os.PathLike | None) -> tuple[str, object]:
    """What ``spec`` names and what it holds, without opening it: ``(kind, target)``, with ``target``
    ``(name, sorted image paths)`` for a folder, glob or image (the files a run reads, in its order).
    Raises :class:`SourceError` as :func:`open_source` would."""
    return _classify(spec)


def _classify(spec: str | int | os.PathLike | None) -> tuple[str, object]:
    """Decide what ``spec`` names: ``(kind, target)``.

    kind is ``"camera"`` (target: index or device path), ``"stream"`` (URL),
    ``"video"`` (file path) or ``"images"`` (target: ``(name, sorted paths)``).
    """
    if spec is None:
        return "camera", 0
    if isinstance(spec, bool):
        raise SourceError(f"not a source: {spec!r}")
    if isinstance(spec, int):
        if spec < 0:
            raise SourceError(f"camera index must be 0 or more, got {spec}")
        return "camera", spec
    text = os.fspath(spec).strip()
    if not text:
        raise SourceError("empty source; pass a camera index, a file, a folder or a stream URL")
    if text.isdigit():
        return "camera", int(text)
    for prefix, kind in SCHEMES.items():
        if text.lower().startswith(prefix):
            return kind, text
    path = bundled.resolve(os.path.expanduser(text))
    if path.startswith("/dev/"):
        if not os.path.exists(path):
            raise SourceError(f"no device {path}; list the cameras with: livedigits cameras")
        if stat.S_ISCHR(os.stat(path).st_mode):
            return "camera", path
    if os.path.isdir(path):
        return "images", (path, _folder_images(path))
    if os.path.isfile(path):
        if is_image_path(path) or cv2.haveImageReader(path):
            return "images", (path, [path])
        return "video", path
    if any(char in text for char in _GLOB_CHARS):
        return "images", (text, _glob_images(path))
    if "://" in text:
        return "stream", text  # some other FFmpeg protocol
    raise SourceError(f"no such file or folder: {text}; pass a camera index, a file, a folder or a stream URL")


def input_paths(spec) -> tuple[list[str], list[str]]:
    """``(files, folders)`` that ``spec`` reads from disk: a video or image file, a folder and its images,
    a glob's images; nothing for a camera or a stream, or for a path that does not exist (opening it
    says so). For checking that no output lands on an input before a run starts."""
    try:
        kind, target = _classify(spec)
    except SourceError:
        return [], []
    if kind == "video":
        return [str(target)], []
    if kind == "images":
        name, paths = target
        return list(paths), [name] if os.path.isdir(name) else sorted({os.path.dirname(p) or "." for p in paths})
    return [], []


def _folder_images(folder: str) -> list[str]:
    """Image files directly in ``folder``, sorted by name; other files are ignored."""
    entries = sorted(os.listdir(folder))
    paths = [os.path.join(folder, entry) for entry in entries]
    images = [p for p in paths if os.path.isfile(p) and is_image_path(p)]
    if not images:
        raise SourceError(
            f"no images in folder {folder} ({len(entries)} other entries); "
            f"expected files such as .png or .jpg"
        )
    return images


def _glob_images(pattern: str) -> list[str]:
    matches = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
    if not matches:
        raise SourceError(f"no files match {pattern}; check the pattern and quote it so the shell does not expand it")
    images = [p for p in matches if is_image_path(p)]
    if not images:
        raise SourceError(f"{pattern} matches {len(matches)} files but no images (.png, .jpg...)")
    return images


__all__ = [
    "EVERY_QUEUE_SIZE",
    "POLICY_EVERY",
    "POLICY_LATEST",
    "STATE_ENDED",
    "STATE_LIVE",
    "STATE_STARTING",
    "STATE_UNAVAILABLE",
    "Source",
    "classify_source",
    "open_source",
    "source_kind",
]


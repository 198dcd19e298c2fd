"""Test helpers: small videos and images written with cv2, and local stream servers.

Nothing here needs a camera, a display or the internet: streams are served on
127.0.0.1 by threads (or an ffmpeg process) that the tests start and stop.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

#: Grey level step between consecutive synthetic frames: frame i is filled with
#: level(i), far enough apart that JPEG/MPEG-4 loss cannot blur the order.
LEVEL_STEP = 8
LEVEL_BASE = 16
#: Levels repeat after this many frames (they must stay inside 0..255).
LEVEL_PERIOD = 28
MJPEG_BOUNDARY = "livedigitsframe"
#: The bundled page the fake camera shows.
PAGE = Path(__file__).resolve().parents[1] / "samples" / "page.png"


def level(index: int) -> int:
    """The grey level of synthetic frame ``index`` (repeats every LEVEL_PERIOD frames)."""
    return LEVEL_BASE + (index % LEVEL_PERIOD) * LEVEL_STEP


def frame_index_from_image(image: np.ndarray) -> int:
    """Recover ``index % LEVEL_PERIOD`` of a synthetic frame from its mean grey level."""
    return int(round((float(image.mean()) - LEVEL_BASE) / LEVEL_STEP))


def synthetic_image(index: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """A ``(h, w, 3)`` BGR uint8 frame filled with ``level(index)``."""
    width, height = size
    return np.full((height, width, 3), level(index), np.uint8)


def write_video(
    path: Path, n_frames: int, *, fps: float = 20.0, size: tuple[int, int] = (64, 48), fourcc: str | None = None
) -> Path:
    """Write ``n_frames`` synthetic frames to ``path`` (mp4v for .mp4, MJPG otherwise)."""
    if fourcc is None:
        fourcc = "mp4v" if path.suffix.lower() == ".mp4" else "MJPG"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"test setup: cannot write {path}"
    try:
        for index in range(n_frames):
            writer.write(synthetic_image(index, size))
    finally:
        writer.release()
    return path


def write_image(path: Path, image: np.ndarray) -> Path:
    """Write ``image`` with cv2.imwrite (any depth/channels the format allows)."""
    assert cv2.imwrite(str(path), image), f"test setup: cannot write {path}"
    return path


def free_port() -> int:
    """A TCP port that was free a moment ago (for servers that cannot bind port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout: float, step: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout``; for test set-up only."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Camera:
    """A live source that never ends (``PAGE``, 100 frames a second at most), counting its stops (as a
    real camera's release): the engine's and the workers' tests drive it."""

    name, kind, policy, frames_dropped, warnings, fps = "fake camera", "camera", "latest", 0, [], 30.0
    is_live, size, total_frames, reconnects = True, None, None, 0  # the rest of engine.SourceLike

    def __init__(self):
        self.state, self.stops, self.index = "starting", 0, 0
        self.image = cv2.imread(str(PAGE))

    def start(self):
        self.state = "live"
        return self

    def read(self, timeout=None):
        from livedigits.types import Frame

        time.sleep(0.01)
        self.index += 1
        return Frame(self.index, self.index / 30.0, self.image)

    def stop(self):
        self.stops += 1
        self.state = "ended"



class Unplugged(Camera):
    """A :class:`Camera` unplugged after its third frame: its next read fails as a camera that stopped
    sending does."""

    def read(self, timeout=None):
        from livedigits.errors import SourceError

        if self.index >= 3:
            raise SourceError("camera 1 stopped sending frames")
        return super().read(timeout)

# --------------------------------------------------------------------------- MJPEG over HTTP


class _MjpegHandler(BaseHTTPRequestHandler):
    """Serves ``multipart/x-mixed-replace`` JPEG frames as phone camera apps do."""

    server: "_MjpegHTTPServer"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        config = self.server.config
        if self.path != "/stream.mjpg":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        stop = self.server.stop_event
        sent = 0
        while not stop.is_set():
            if config.stall_after is not None and sent >= config.stall_after:
                stop.wait()  # keep the connection open, send nothing
                break
            if config.frames is not None and sent >= config.frames:
                break  # end of stream: closing the connection is the EOF
            picture = config.image if config.image is not None else synthetic_image(sent, config.size)
            ok, jpeg = cv2.imencode(".jpg", picture)
            assert ok
            part = (
                f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                + jpeg.tobytes()
                + b"\r\n"
            )
            try:
                self.wfile.write(part)
                self.wfile.flush()
            except OSError:
                return  # the client went away
            sent += 1
            self.server.frames_sent += 1
            stop.wait(1.0 / config.fps)


class _MjpegHTTPServer(ThreadingHTTPServer):
    # Non-daemon handler threads, so server_close() joins them and a test's
    # thread count comes back to where it was.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True


class MjpegServer:
    """An MJPEG-over-HTTP server on 127.0.0.1, started and stopped by a test.

    ``frames``: close each connection after that many frames (a stream that
    ends). ``stall_after``: stop sending after that many frames but keep the
    connection open (a stream that hangs). ``port=0`` picks a free port; pass
    the old ``port`` to restart on the same address. ``image``: send this BGR
    picture in every frame instead of the numbered grey frames.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        fps: float = 25.0,
        size: tuple[int, int] = (64, 48),
        frames: int | None = None,
        stall_after: int | None = None,
        image: np.ndarray | None = None,
    ) -> None:
        self.image = image
        self.fps = fps
        self.size = size
        self.frames = frames
        self.stall_after = stall_after
        self._requested_port = port
        self._server: _MjpegHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "MjpegServer":
        server = _MjpegHTTPServer(("127.0.0.1", self._requested_port), _MjpegHandler)
        server.config = self
        server.stop_event = threading.Event()
        server.frames_sent = 0
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    @property
    def frames_sent(self) -> int:
        return self._server.frames_sent if self._server else 0

    def stop(self) -> None:
        """Stop serving and close every connection (clients see end of stream)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._requested_port = server.server_address[1]  # so start() again reuses it
        server.stop_event.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> "MjpegServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class SilentServer:
    """Accepts TCP connections and never answers: a stream that will not open."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)  # the kernel completes handshakes; nobody reads

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/stream.mjpg"

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> "SilentServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

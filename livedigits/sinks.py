"""Sinks: where results and annotated frames go (JSON Lines, video file, window).

Each sink checks its output at construction, so a bad path or a missing
display fails with :class:`OutputError` before a run starts, not after the
first frame. All are context managers; ``close()`` is idempotent.

Example::

    with JsonlSink("out/run.jsonl") as jsonl, VideoSink("out/run.mp4", fps=30) as video:
        jsonl.write(result)            # one FrameResult -> one flushed line
        video.write(annotated_image)   # (H, W, 3) BGR uint8
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from livedigits.errors import OutputError
from livedigits.sources import _quiet_opencv_log, to_bgr8
from livedigits.types import FrameResult

#: Codec per video file extension: both are in every OpenCV build (mp4v via
#: FFmpeg, MJPG by OpenCV's own AVI writer), and both read back everywhere.
FOURCC_BY_EXTENSION = {".mp4": "mp4v", ".avi": "MJPG"}

#: Codecs whose frame width and height must be even (4:2:0 chroma). Both
#: writers silently round an odd size down, MJPG included, so we do it openly.
EVEN_SIZE_FOURCCS = frozenset({"mp4v", "MJPG"})

#: Frame rate written when the caller has none (still images, unknown streams).
DEFAULT_VIDEO_FPS = 30.0

#: Window keys. waitKey returns -1 when no key was pressed.
KEY_ESC = 27
KEY_SPACE = 32
KEYS_QUIT = frozenset({ord("q"), ord("Q"), KEY_ESC})
KEYS_PAUSE = frozenset({KEY_SPACE})
KEYS_SNAPSHOT = frozenset({ord("s"), ord("S")})
#: A kiosk ignores passers-by pressing keys; only the word "quit" typed within a few seconds closes
#: it. (Not a modifier combination: OpenCV's backends report Shift and Ctrl inconsistently, the Qt one
#: often not at all.)
KIOSK_QUIT_WORD = "quit"
KIOSK_QUIT_WITHIN_S = 3.0

#: Actions returned by WindowSink.show().
ACTION_QUIT = "quit"
ACTION_PAUSE = "pause"
ACTION_SNAPSHOT = "snapshot"

#: How long waitKey lets the GUI process events per shown frame.
WAIT_KEY_MS = 1

#: Bound on the subprocess that checks the display can be used (see _gui_problem).
GUI_PROBE_TIMEOUT_S = 20.0

_HEADLESS_HINT = "use --headless"


def check_output_path(path: str | os.PathLike) -> Path:
    """Check that a file can be written at ``path``; return it as a Path.

    Raises :class:`OutputError` naming the folder when it is missing, not a
    folder or not writable, or when ``path`` is itself a folder. Nothing is
    created, so this can run before a long job starts.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputError(f"{target} is a folder; give a file name inside it, e.g. {target / 'out'}{target.suffix}")
    folder = target.parent
    if not folder.exists():
        raise OutputError(f"output folder {folder} does not exist; create it first (mkdir -p {folder})")
    if not folder.is_dir():
        raise OutputError(f"output folder {folder} is not a folder; pick another output path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {folder} is not writable; pick another folder or fix its permissions")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"{target} exists and is not writable; pick another file name")
    return target


def check_video_path(path: str | os.PathLike) -> Path:
    """:func:`check_output_path` for a video: also its extension must be one we can write."""
    suffix = Path(path).suffix.lower()
    if suffix not in FOURCC_BY_EXTENSION:
        known = " or ".join(FOURCC_BY_EXTENSION)
        raise OutputError(f"cannot write video {path}: unknown extension {suffix or '(none)'!r}; use {known}")
    return check_output_path(path)


def write_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write a BGR ``image`` in the format ``path``'s extension names (.png, .jpg, .webp, .bmp, .tif...) and
    return the path.

    Written whole or not at all: encoded in memory, written under a temporary name in the same folder
    and renamed into place, so a full disk or a crash never leaves half a picture (a file already
    there keeps its old content). :class:`OutputError` for an extension OpenCV cannot write, a folder
    that cannot be written or a failed write.
    """
    target = check_output_path(path)
    suffix = target.suffix.lower()
    if not suffix or not cv2.haveImageWriter(f"image{suffix}"):
        raise OutputError(f"cannot write image {path}: unknown extension {suffix or '(none)'!r}; "
                          "use .png or .jpg (or .webp, .bmp, .tif)")
    detail = ""
    try:
        with _quiet_opencv_log():  # the error is said on one line below, not in OpenCV's own block
            ok, encoded = cv2.imencode(suffix, to_bgr8(image))
    except cv2.error as exc:  # a format for other depths (.pfm: floats only)
        ok, detail = False, f" ({_one_line(str(exc))})"
    if not ok:
        raise OutputError(f"cannot write image {target}: OpenCV cannot encode a colour picture as {suffix}{detail}; "
                          "use .png or .jpg")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(encoded.tobytes())
        os.replace(temporary, target)
    except OSError as exc:
        raise OutputError(f"cannot write image {target}: {exc.strerror or exc} ({_disk_hint(target)})") from None
    finally:
        temporary.unlink(missing_ok=True)
    return target


# --------------------------------------------------------------------------- JSON Lines


class JsonlSink:
    """Writes one JSON object per :class:`FrameResult`, one line each (the record is described in the README).

    Each line goes to the file in a single unbuffered write, so it reaches the
    OS at once and a Ctrl-C or kill between writes leaves only complete lines
    (a buffered text file could flush half of a long line when its buffer
    fills). A write that fails part-way (a full disk, a file size limit) is
    undone: the file is cut back to its last complete line before the
    :class:`OutputError` is raised.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = check_output_path(path)
        try:
            self._file = open(self.path, "wb", buffering=0)
        except OSError as exc:
            raise OutputError(f"cannot open {self.path} for writing: {exc.strerror}") from exc
        self.lines_written = 0
        self._complete_size = 0  # bytes up to the end of the last complete line

    def write(self, result: FrameResult) -> None:
        """Append ``result.to_record()`` as one line."""
        if self._file is None:
            raise ValueError(f"JsonlSink {self.path} is closed")
        data = (json.dumps(result.to_record()) + "\n").encode("utf-8")
        try:
            # One write() call per line: a regular file takes it whole, and a
            # signal is only handled by Python after the call returns. The loop
            # only matters for pipes and full disks.
            view = memoryview(data)
            while view:
                written = self._file.write(view)
                view = view[written:]
        except OSError as exc:
            kept = self._cut_back()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}; {kept}") from exc
        self.lines_written += 1
        self._complete_size += len(data)

    def _cut_back(self) -> str:
        """Truncate the file to its last complete line; say what it holds now."""
        try:
            os.ftruncate(self._file.fileno(), self._complete_size)
        except OSError as exc:
            return f"it could not be cut back to its last complete line ({exc.strerror or exc})"
        return f"it keeps its {self.lines_written} complete line{'s' if self.lines_written != 1 else ''}"

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()

    def __enter__(self) -> "JsonlSink":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --------------------------------------------------------------------------- video


class VideoSink:
    """Writes annotated frames to a video file (``.mp4`` with mp4v, ``.avi`` with MJPG).

    The writer opens on the first frame, so ``size`` (``(width, height)``)
    may be left to the first image. An odd width or height is made even by
    dropping the last column/row (both codecs need even sizes). Frames of
    another size are resized: OpenCV's writer silently drops frames whose size
    differs, which would give a short video with no error. If no frame is
    written, no file is created.

    OpenCV's writer reports no write errors (a full disk gives an .mp4 without
    its index, which nothing can play), so ``close()`` checks the finished file:
    one that cannot be opened is removed, and one that holds fewer frames than
    were written is kept (it plays) — either way :class:`OutputError` says so.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        self.path = check_video_path(path)
        self.fourcc = FOURCC_BY_EXTENSION[self.path.suffix.lower()]
        if fps is None:
            fps = DEFAULT_VIDEO_FPS
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"video fps must be > 0, got {fps}")
        self.fps = float(fps)
        if size is not None and (len(size) != 2 or min(size) <= 0):
            raise ValueError(f"video size must be (width, height) > 0, got {size}")
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self._writer: cv2.VideoWriter | None = None
        self._closed = False
        self.frames_written = 0
        self.frames_resized = 0

    def write(self, image: np.ndarray) -> None:
        """Append one frame: ``(H, W, 3)`` BGR uint8 (grayscale/other depths are converted)."""
        if self._closed:
            raise ValueError(f"VideoSink {self.path} is closed")
        image = to_bgr8(image)
        height, width = image.shape[:2]
        if self._writer is None:
            self._open((width, height) if self.size is None else self.size)
        assert self.size is not None
        if (width, height) != self.size:
            extra_w, extra_h = width - self.size[0], height - self.size[1]
            if 0 <= extra_w <= 1 and 0 <= extra_h <= 1:
                # Odd size made even for the codec: drop the last column/row rather
                # than rescale, so pixel coordinates stay those of the source.
                image = np.ascontiguousarray(image[: self.size[1], : self.size[0]])
            else:
                image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
                self.frames_resized += 1
        self._writer.write(image)
        self.frames_written += 1

    def _open(self, size: tuple[int, int]) -> None:
        if self.fourcc in EVEN_SIZE_FOURCCS:
            # A 63x47 request would quietly give a 62x46 file, not matching
            # ``size``; make it even here so ``size`` tells the truth.
            size = (max(2, size[0] - size[0] % 2), max(2, size[1] - size[1] % 2))
        writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, size)
        if not writer.isOpened():
            writer.release()
            raise OutputError(
                f"cannot open a video writer for {self.path} ({self.fourcc}, {size[0]}x{size[1]} at {self.fps:g} fps); "
                "try the other format (.avi or .mp4)"
            )
        self._writer = writer
        self.size = size

    def close(self) -> None:
        """Finish the file (an .mp4 is unreadable until its index is written here) and check it."""
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.release()
            self._check_written()

    def _check_written(self) -> None:
        capture = cv2.VideoCapture(str(self.path))
        try:
            readable = capture.isOpened() and capture.read()[0]
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if readable else 0
        finally:
            capture.release()
        if not readable:
            try:
                self.path.unlink()
            except OSError:
                pass
            raise OutputError(f"the video {self.path} could not be finished ({_disk_hint(self.path)}); "
                              "the unplayable file was removed")
        if 0 < count < self.frames_written:
            raise OutputError(f"the video {self.path} holds only {count} of the {self.frames_written} frames "
                              f"written ({_disk_hint(self.path)}); it plays up to there")

    def __enter__(self) -> "VideoSink":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _disk_hint(path: Path) -> str:
    try:
        free = os.statvfs(path.parent if path.parent != Path("") else Path(".")).f_bavail
    except (OSError, AttributeError):
        return "a write failed"
    return "the disk is full" if free == 0 else "a write failed: disk full or a file size limit?"


# --------------------------------------------------------------------------- window


class WindowSink:
    """An OpenCV window showing annotated frames and reading keys.

    ``show(image)`` returns ``"quit"`` (q, Esc, or the window was closed),
    ``"pause"`` (space; ``paused`` toggles), ``"snapshot"`` (s) or None.
    Create, use and close it from the main thread: GUI toolkits require it.
    """

    def __init__(self, title: str = "livedigits", fullscreen: bool = False, kiosk: bool = False) -> None:
        problem = _gui_problem()
        if problem is not None:
            raise OutputError(f"cannot open a window: {problem}; {_HEADLESS_HINT}")
        self.title = title
        self.kiosk = kiosk
        self.fullscreen = fullscreen or kiosk
        self.paused = False
        self.pointer_hidden = False
        self._typed: list[tuple[float, str]] = []
        try:
            if self.fullscreen:
                # GUI_NORMAL: no toolbar or status bar (the Qt build has them), just the picture.
                cv2.namedWindow(title, cv2.WINDOW_NORMAL | getattr(cv2, "WINDOW_GUI_NORMAL", 0))
                cv2.setWindowProperty(title, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
            else:
                cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)
        except cv2.error as exc:
            raise OutputError(f"cannot open a window: {_one_line(str(exc))}; {_HEADLESS_HINT}") from exc
        self._open = True
        self._screen = None
        self._fitted = not kiosk
        if kiosk:
            from .x11 import KioskScreen

            self._screen = KioskScreen.open()

    def show(self, image: np.ndarray) -> str | None:
        """Show ``image`` (``(H, W, 3)`` BGR uint8) and return the action asked for, if any."""
        if not self._open:
            raise ValueError(f"window {self.title!r} is closed")
        cv2.imshow(self.title, image)
        key = cv2.waitKey(WAIT_KEY_MS)
        if not self._fitted:
            self._fit_kiosk()
        if key != -1:
            key &= 0xFF  # some backends add modifier bits above the low byte
            if self.kiosk:
                return self._kiosk_key(key)
            if key in KEYS_QUIT:
                return ACTION_QUIT
            if key in KEYS_PAUSE:
                self.paused = not self.paused
                return ACTION_PAUSE
            if key in KEYS_SNAPSHOT:
                return ACTION_SNAPSHOT
        if self._closed_by_user():
            return ACTION_QUIT
        return None

    def _kiosk_key(self, key: int) -> str | None:
        now = time.monotonic()
        self._typed = [(t, c) for t, c in self._typed if now - t < KIOSK_QUIT_WITHIN_S][-(len(KIOSK_QUIT_WORD) - 1):]
        self._typed.append((now, chr(key).lower()))
        if "".join(c for _, c in self._typed) == KIOSK_QUIT_WORD:
            return ACTION_QUIT
        return None

    def _fit_kiosk(self) -> None:
        """Once the window is on screen: fill the screen (without a window manager "full screen" is
        only a hint nobody acts on) and hide the pointer over it."""
        self._fitted = True
        if self._screen is None:
            print("livedigits: kiosk: not an X11 display; the window is full screen as the desktop makes it, "
                  "and the mouse pointer is not hidden", file=sys.stderr, flush=True)
            return
        width, height = self._screen.size
        cv2.moveWindow(self.title, 0, 0)
        cv2.resizeWindow(self.title, width, height)
        cv2.waitKey(WAIT_KEY_MS)
        self.pointer_hidden = self._screen.hide_pointer(self._screen.find_window(self.title))
        if not self.pointer_hidden:
            print("livedigits: kiosk: cannot hide the mouse pointer on this display; use the desktop's own setting",
                  file=sys.stderr, flush=True)

    def _closed_by_user(self) -> bool:
        try:
            return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            return True

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        if self._screen is not None:
            self._screen.close()
            self._screen = None
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(WAIT_KEY_MS)  # let the toolkit actually remove it
        except cv2.error:
            pass  # already gone (closed by the user)

    def __enter__(self) -> "WindowSink":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _gui_problem() -> str | None:
    """Why this process cannot open an OpenCV window, or None if it can.

    The checks run before ``cv2.namedWindow`` because on Linux the Qt build of
    opencv-python does not raise when the display is missing or unreachable:
    Qt aborts the whole process. So a set DISPLAY is checked by opening a
    window in a throw-away subprocess first.
    """
    framework = cv2.currentUIFramework() if hasattr(cv2, "currentUIFramework") else "unknown"
    if not framework or framework.upper() == "NONE":
        return "this OpenCV has no GUI support (opencv-python-headless?)"
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    display = os.environ.get("DISPLAY", "")
    wayland = os.environ.get("WAYLAND_DISPLAY", "")
    if not display and not wayland:
        return "no display (DISPLAY is not set)"
    return _probe_window(sys.executable, display, wayland)


@functools.lru_cache(maxsize=4)
def _probe_window(python: str, display: str, wayland: str) -> str | None:
    """Open and close a window in a subprocess; the reason it failed, or None."""
    code = (
        "import cv2; cv2.namedWindow('livedigits-probe', cv2.WINDOW_NORMAL); "
        "cv2.destroyAllWindows(); cv2.waitKey(1)"
    )
    try:
        done = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=GUI_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the display check failed ({type(exc).__name__})"
    if done.returncode == 0:
        return None
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    detail = lines[0] if lines else f"exit status {done.returncode}"
    where = f"display {display!r}" if display else f"Wayland display {wayland!r}"
    return f"OpenCV's GUI cannot use {where} ({detail})"


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


__all__ = [
    "ACTION_PAUSE",
    "ACTION_QUIT",
    "ACTION_SNAPSHOT",
    "DEFAULT_VIDEO_FPS",
    "FOURCC_BY_EXTENSION",
    "JsonlSink",
    "VideoSink",
    "WindowSink",
    "check_output_path",
    "check_video_path",
]

"""Logging, configured once by the command line: what goes to stderr, and how much.

The package logs through the standard ``logging`` module under the ``livedigits`` logger (modules use
``logging.getLogger(__name__)``); a program that imports livedigits configures logging its own way.
The command line calls :func:`configure` once, with one of three levels:

``quiet`` (``-q``)
    warnings and errors only; progress bars off.
``normal``
    what the program is doing (``reading samples/demo.mp4 with the lite-int8 backend``), warnings.
``verbose`` (``-v``)
    debug lines too, tracebacks with errors, and the start-up lines of LiteRT, TensorFlow, OpenCV and
    FFmpeg, which are silenced otherwise (they say nothing a user acts on).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Iterator

QUIET, NORMAL, VERBOSE = "quiet", "normal", "verbose"
LEVELS = {QUIET: logging.WARNING, NORMAL: logging.INFO, VERBOSE: logging.DEBUG}

_state = {"level": NORMAL, "handler": None, "cli": False, "native_off": False}
#: The environment variables :func:`configure` set itself (not the user's own settings).
SET_HERE: set[str] = set()


class _Format(logging.Formatter):
    """Information as it is; warnings and errors marked, as the error line of the CLI is."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and _state["level"] == VERBOSE:
            text += "\n" + self.formatException(record.exc_info)
        if record.levelno >= logging.ERROR:
            return f"livedigits: error: {text}"
        if record.levelno >= logging.WARNING:
            return f"livedigits: warning: {text}"
        if record.levelno <= logging.DEBUG:
            return f"debug: {record.name}: {text}"
        return text


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test's capture, a redirected stream)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        # A progress bar on screen: the line goes above it (tqdm clears the bar, writes, redraws it),
        # not glued to its end.
        bars = sys.modules.get("tqdm")
        if bars is not None and getattr(bars.tqdm, "_instances", None):
            try:
                bars.tqdm.write(self.format(record), file=self.stream)
            except Exception:
                self.handleError(record)
            return
        super().emit(record)


def configure(level: str = NORMAL, stream=None) -> None:
    """Set up logging for the command line; a second call replaces the first (tests call it often)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    _state["level"] = level
    root = logging.getLogger()
    if _state["handler"] is not None:
        root.removeHandler(_state["handler"])
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(_Format())
    root.addHandler(handler)
    _state["handler"] = handler
    # Other libraries' information is noise here; their warnings are not. Ours follow the chosen level.
    root.setLevel(logging.INFO if level == VERBOSE else logging.WARNING)
    logging.getLogger("livedigits").setLevel(LEVELS[level])
    if level != VERBOSE:
        # Native start-up lines: TensorFlow's C++ log, OpenCV's and FFmpeg's warnings for every failed
        # open (the error we raise says what matters, in one line). The user's own settings win.
        for name, value in (("TF_CPP_MIN_LOG_LEVEL", "3"), ("OPENCV_LOG_LEVEL", "ERROR"), ("OPENCV_FFMPEG_LOGLEVEL", "-8")):
            if name not in os.environ:
                os.environ[name] = value
                SET_HERE.add(name)
        for name in ("tensorflow", "absl", "h5py"):
            logging.getLogger(name).setLevel(logging.ERROR)
        import warnings

        warnings.filterwarnings("ignore", module=r"(tensorflow|keras)(\.|$)")  # e.g. the int8 converter's
    _state["cli"] = True


def level() -> str:
    return _state["level"]


def is_verbose() -> bool:
    return _state["level"] == VERBOSE


def is_quiet() -> bool:
    return _state["level"] == QUIET


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Silence what native code writes straight to file descriptor 2 (LiteRT's "Created TensorFlow Lite
    XNNPACK delegate" line, which no setting turns off), unless verbose. Hold it briefly: anything the
    process writes to stderr meanwhile is lost."""
    if is_verbose():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (an embedded interpreter)
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def native_stderr_captured() -> Iterator[list]:
    """Catch what native code writes to file descriptor 2 meanwhile; the list yielded holds it as one
    string afterwards (and it is written on to stderr when verbose). For messages only a native library
    gives, such as macOS refusing the camera."""
    import tempfile

    caught: list[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield caught
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield caught
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            caught.append(sink.read().decode("utf-8", errors="replace"))
            if is_verbose() and caught[0]:
                sys.stderr.write(caught[0])


def native_stderr_off() -> None:
    """From now on drop what native code writes to file descriptor 2, while Python's ``sys.stderr`` (log
    lines, progress, errors) keeps writing to the real stderr. For the command line only, not verbose,
    and once: TensorFlow prints its start-up lines (oneDNN, CUDA drivers, absl) at moments no setting
    reaches. Left alone where ``sys.stderr`` was replaced (a test's capture, an embedding program)."""
    if _state["native_off"] or not _state["cli"] or is_verbose() or sys.stderr is not sys.__stderr__:
        return
    try:
        if sys.stderr.fileno() != 2:
            return
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        return
    sys.stderr = os.fdopen(saved, "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    _state["native_off"] = True

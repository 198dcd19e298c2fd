"""The two things every user of ``cv2.VideoCapture`` shares: making one (one place, so tests can swap
in a fake) and silencing OpenCV's own log while opening it. Used by the sources, the camera listing and
the image writer; it imports nothing of the package."""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator, Sequence

import cv2


def new_capture(target: int | str, api: int, params: Sequence[int]) -> cv2.VideoCapture:
    """Create a ``cv2.VideoCapture``: the one place that does (tests swap in a fake: ``opencv.new_capture``)."""
    return cv2.VideoCapture(target, api, list(params))


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved_level: int | None = None


@contextlib.contextmanager
def quiet_log() -> Iterator[None]:
    """Silence OpenCV's own log while opening a capture.

    A failed open prints several multi-line WARN/ERROR blocks (one per backend
    tried); our SourceError says the same on one line, and a supervisor's
    reconnect loop would otherwise repeat them on every attempt. The level is process-global,
    so nested or concurrent users are counted and the first level restored.
    """
    global _quiet_depth, _quiet_saved_level
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved_level = cv2.utils.logging.getLogLevel()
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved_level is not None:
                cv2.utils.logging.setLogLevel(_quiet_saved_level)

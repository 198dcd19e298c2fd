"""The window: annotated frames on screen (one window per source), keys to pause, save and quit."""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
import time

import cv2
import numpy as np

from livedigits.errors import OutputError
from livedigits.engine.keys import (
    ACTION_PAUSE,
    ACTION_QUIT,
    ACTION_SNAPSHOT,
    KEYS_PAUSE,
    KEYS_QUIT,
    KEYS_SNAPSHOT,
    KIOSK_QUIT_WITHIN_S,
    KIOSK_QUIT_WORD,
)
from livedigits.draw.annotators import HudAnnotator
from livedigits.draw.overlay import waiting_screen
from livedigits.sinks.images import write_image
from livedigits.types import FrameResult

log = logging.getLogger(__name__)

#: How long waitKey lets the GUI process events per shown frame.
WAIT_KEY_MS = 1

#: The file a snapshot (key s) is saved as, in the current folder, by the index of the frame shown.
SNAPSHOT_NAME = "livedigits-snapshot-{index:06d}.png"

#: Bound on the subprocess that checks the display can be used (see _gui_problem).
GUI_PROBE_TIMEOUT_S = 20.0

_HEADLESS_HINT = "use --headless"


class WindowSink:
    """An OpenCV window showing annotated frames and reading keys; one window per source when there
    are several (titled ``livedigits - SOURCE``).

    ``write(result, image)`` shows a result in its source's window, ``show(image, label)`` any picture,
    ``refresh(screens, paused=, ended=)`` what the window shows while no new frame comes
    (:func:`pictures`); each returns ``"quit"`` (q, Esc, or the window was closed), ``"pause"`` (space),
    ``"snapshot"`` (s: the window has saved the picture on screen as ``SNAPSHOT_NAME`` in the current
    folder, named by the last frame shown, and said so on stderr; nothing for the caller to do) or None. Create, use and close it from the main thread: GUI toolkits
    require it.
    """

    needs_image = True
    needs_crops = False

    def __init__(self, title: str = "livedigits", fullscreen: bool = False, kiosk: bool = False) -> None:
        problem = _gui_problem()
        if problem is not None:
            raise OutputError(f"cannot open a window: {problem}; {_HEADLESS_HINT}")
        self.title = title
        self.kiosk = kiosk
        self.fullscreen = fullscreen or kiosk
        self.pointer_hidden = False
        self.titles: dict[str, str] = {}
        self._last_index: dict[str | None, int] = {}  # the frame index last shown, per source label
        self._paused: dict[str, np.ndarray] = {}  # each source's last picture marked "paused", while paused
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
        self._window = None  # the kiosk's X window, once fitted to the screen
        self._fitted = not kiosk
        if kiosk:
            from livedigits.sinks.x11 import KioskScreen

            self._screen = KioskScreen.open()

    def open(self, streams) -> None:
        """One window per source when there are several: the first keeps this window."""
        if len(streams) < 2:
            return
        for k, stream in enumerate(streams):
            title = self.title if k == 0 else f"{self.title} - {stream.label}"
            self.titles[stream.label] = title
            if k:
                cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)

    def write(self, result: FrameResult, image: np.ndarray | None) -> str | None:
        self._last_index[result.source] = result.frame.index
        return self.show(image, result.source)

    def refresh(self, screens, *, paused: bool = False, ended: bool = False) -> str | None:
        """No new frame: show each source's picture as :func:`pictures` chooses; the first action asked."""
        if not paused:
            self._paused.clear()
        action = None
        for label, image in pictures(screens, paused=paused, ended=ended, marked=self._paused):
            action = self.show(image, label) or action
        return action

    def show(self, image: np.ndarray, label: str | None = None) -> str | None:
        """Show ``image`` (``(H, W, 3)`` BGR uint8) in the window of source ``label`` (the first when
        None) and return the action asked for, if any."""
        if not self._open:
            raise ValueError(f"window {self.title!r} is closed")
        cv2.imshow(self.titles.get(label, self.title) if label is not None else self.title, image)
        key = cv2.waitKey(WAIT_KEY_MS)
        if not self._fitted:
            self._fit_kiosk()
        elif self._screen is not None:
            if self._window is None:  # not named yet when the window was fitted
                self._window = self._screen.find_window(self.title)
            self._screen.expose(self._window)  # else Qt may leave the screen black (``KioskScreen.expose``)
        if key != -1:
            key &= 0xFF  # some backends add modifier bits above the low byte
            if self.kiosk:
                return self._kiosk_key(key)
            if key in KEYS_QUIT:
                return ACTION_QUIT
            if key in KEYS_PAUSE:
                return ACTION_PAUSE
            if key in KEYS_SNAPSHOT:
                self.snapshot(image, label)
                return ACTION_SNAPSHOT
        if self._closed_by_user():
            return ACTION_QUIT
        return None

    def snapshot(self, image: np.ndarray, label: str | None = None) -> str | None:
        """Save ``image`` (what the window shows) as ``SNAPSHOT_NAME``; the path, or None (said on stderr)
        when nothing was shown yet or it cannot be written."""
        if label not in self._last_index:
            return None  # a waiting screen before any frame: nothing worth saving
        path = SNAPSHOT_NAME.format(index=self._last_index[label])
        try:
            write_image(path, image)
        except OutputError as exc:
            log.warning("could not save the snapshot: %s", exc)
            return None
        log.info("snapshot saved: %s", path)
        return path

    def _kiosk_key(self, key: int) -> str | None:
        # The word counts if no key of it came over KIOSK_QUIT_WITHIN_S after the one before. Not "the whole
        # word within" that time: OpenCV hands over one key per frame shown (the last typed), so a kiosk
        # showing a frame every second took "quit" over 3 s however it was typed, and could not be closed.
        now = time.monotonic()
        if self._typed and now - self._typed[-1][0] >= KIOSK_QUIT_WITHIN_S:
            self._typed = []
        self._typed = (self._typed + [(now, chr(key).lower())])[-len(KIOSK_QUIT_WORD):]
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
        self._window = self._screen.find_window(self.title)
        self._screen.expose(self._window)
        self.pointer_hidden = self._screen.hide_pointer(self._window)
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
            for title in {self.title, *self.titles.values()}:
                cv2.destroyWindow(title)
            cv2.waitKey(WAIT_KEY_MS)  # let the toolkit actually remove it
        except cv2.error:
            pass  # already gone (closed by the user)

    def __enter__(self) -> "WindowSink":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def pictures(screens, *, paused: bool = False, ended: bool = False, marked: dict | None = None):
    """``(label, image)`` for each of ``screens`` (the engine's :class:`~livedigits.engine.loop.Screen`)
    while no new frame comes: paused, the last picture with "paused" on its status line (drawn once per
    pause into ``marked``); after the end, the last picture; otherwise the last picture while the source
    is live, and a screen that says it is connecting or unavailable when it is not (a kiosk's camera
    unplugged), so a window nobody watches never freezes on an old picture."""
    marked = {} if marked is None else marked
    for screen in screens:
        image = screen.image
        if paused and image is not None and screen.result is not None:
            if screen.label not in marked:
                marked[screen.label] = HudAnnotator().annotate(image.copy(), screen.result, fps=screen.fps,
                                                               status="paused")
            yield screen.label, marked[screen.label]
        elif image is not None and (ended or screen.source.state == "live"):
            yield screen.label, image
        elif not paused:
            yield screen.label, waiting_screen(screen.source, None if image is None else image.shape[1::-1])


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


__all__ = ["WindowSink", "pictures"]

"""The two things a kiosk window needs from X11 that OpenCV's HighGUI cannot do: fill the screen
when no window manager honours "full screen", and hide the mouse pointer.

Plain ctypes on libX11/libXfixes, which every X11 desktop has; nothing to install. On Wayland,
Windows or macOS ``KioskScreen.open()`` returns None and the window is left as OpenCV made it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_c = ctypes


class _XColor(ctypes.Structure):
    _fields_ = [("pixel", _c.c_ulong), ("red", _c.c_ushort), ("green", _c.c_ushort), ("blue", _c.c_ushort),
                ("flags", _c.c_char), ("pad", _c.c_char)]


def _load(name: str, fallback: str):
    try:
        return ctypes.CDLL(ctypes.util.find_library(name) or fallback)
    except OSError:
        return None


def _declare(x11, xfixes) -> None:
    vp, ul, ci = _c.c_void_p, _c.c_ulong, _c.c_int
    x11.XOpenDisplay.restype, x11.XOpenDisplay.argtypes = vp, [_c.c_char_p]
    x11.XDefaultScreen.restype, x11.XDefaultScreen.argtypes = ci, [vp]
    x11.XDisplayWidth.restype, x11.XDisplayWidth.argtypes = ci, [vp, ci]
    x11.XDisplayHeight.restype, x11.XDisplayHeight.argtypes = ci, [vp, ci]
    x11.XDefaultRootWindow.restype, x11.XDefaultRootWindow.argtypes = ul, [vp]
    x11.XQueryTree.restype = ci
    x11.XQueryTree.argtypes = [vp, ul, _c.POINTER(ul), _c.POINTER(ul), _c.POINTER(_c.POINTER(ul)), _c.POINTER(_c.c_uint)]
    x11.XFetchName.restype, x11.XFetchName.argtypes = ci, [vp, ul, _c.POINTER(_c.c_char_p)]
    x11.XFree.argtypes = [vp]
    x11.XCreateBitmapFromData.restype = ul
    x11.XCreateBitmapFromData.argtypes = [vp, ul, _c.c_char_p, _c.c_uint, _c.c_uint]
    x11.XCreatePixmapCursor.restype = ul
    x11.XCreatePixmapCursor.argtypes = [vp, ul, ul, _c.POINTER(_XColor), _c.POINTER(_XColor), _c.c_uint, _c.c_uint]
    x11.XDefineCursor.argtypes = [vp, ul, ul]
    x11.XFreePixmap.argtypes = [vp, ul]
    x11.XFlush.argtypes = [vp]
    x11.XClearArea.argtypes = [vp, ul, ci, ci, _c.c_uint, _c.c_uint, ci]
    x11.XSync.argtypes = [vp, ci]
    x11.XCloseDisplay.argtypes = [vp]
    if xfixes is not None:
        xfixes.XFixesHideCursor.argtypes = [vp, ul]
        xfixes.XFixesShowCursor.argtypes = [vp, ul]


class KioskScreen:
    """An X connection held for the kiosk's lifetime. Closing it brings the pointer back."""

    def __init__(self, x11, xfixes, display: int) -> None:
        self._x11 = x11
        self._xfixes = xfixes
        self._display = display
        self._root = x11.XDefaultRootWindow(display)
        self._hidden_globally = False

    @classmethod
    def open(cls) -> "KioskScreen | None":
        if not os.environ.get("DISPLAY"):
            return None
        x11 = _load("X11", "libX11.so.6")
        if x11 is None:
            return None
        xfixes = _load("Xfixes", "libXfixes.so.3")
        _declare(x11, xfixes)
        display = x11.XOpenDisplay(None)
        if not display:
            return None
        return cls(x11, xfixes, display)

    @property
    def size(self) -> tuple[int, int]:
        screen = self._x11.XDefaultScreen(self._display)
        return (self._x11.XDisplayWidth(self._display, screen), self._x11.XDisplayHeight(self._display, screen))

    def find_window(self, title: str) -> int | None:
        """The window whose name is ``title`` (searched below the root, a few levels deep)."""
        pending = [(self._root, 0)]
        while pending:
            window, depth = pending.pop()
            name = _c.c_char_p()
            if window != self._root and self._x11.XFetchName(self._display, window, _c.byref(name)) and name.value:
                found = name.value.decode(errors="replace") == title
                self._x11.XFree(name)
                if found:
                    return window
            if depth >= 4:
                continue
            root, parent = _c.c_ulong(), _c.c_ulong()
            children, count = _c.POINTER(_c.c_ulong)(), _c.c_uint()
            if self._x11.XQueryTree(self._display, window, _c.byref(root), _c.byref(parent), _c.byref(children), _c.byref(count)):
                pending.extend((children[i], depth + 1) for i in range(count.value))
                if children:
                    self._x11.XFree(children)
        return None

    def hide_pointer(self, window: int | None) -> bool:
        """Hide the pointer: a blank cursor on ``window`` (what the screen shows over the kiosk), and
        XFixes' hide for the whole screen while this connection is open. True if either was done."""
        done = False
        if window is not None:
            bits = _c.create_string_buffer(8)  # an 8x8 bitmap of zeros: a cursor with no pixels
            pixmap = self._x11.XCreateBitmapFromData(self._display, window, bits, 8, 8)
            black = _XColor()
            cursor = self._x11.XCreatePixmapCursor(self._display, pixmap, pixmap, _c.byref(black), _c.byref(black), 0, 0)
            self._x11.XDefineCursor(self._display, window, cursor)
            self._x11.XFreePixmap(self._display, pixmap)
            done = True
        if self._xfixes is not None:
            self._xfixes.XFixesHideCursor(self._display, self._root)
            self._hidden_globally = True
            done = True
        self._x11.XSync(self._display, 0)
        return done

    def expose(self, window: int | None) -> None:
        """Ask the X server to send ``window`` an Expose for all of it, so that the toolkit paints it again.

        With no window manager, a window mapped full screen and then moved and resized may not be painted:
        under Xvfb on a loaded machine, about one kiosk start in three showed a black screen for good while
        its frames were read and "shown". One Expose after the resize did not end it; one with every frame
        shown does."""
        if window is None:
            return
        self._x11.XClearArea(self._display, window, 0, 0, 0, 0, 1)
        self._x11.XSync(self._display, 0)

    def close(self) -> None:
        if not self._display:
            return
        if self._hidden_globally:
            self._xfixes.XFixesShowCursor(self._display, self._root)
        self._x11.XCloseDisplay(self._display)
        self._display = 0


__all__ = ["KioskScreen"]

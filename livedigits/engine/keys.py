"""Window keys and the actions they ask for, shared by the viewer window (``sinks.window``), the
engine that acts on them and the collect window (``collect.session.CollectSession``).

Two ways of reading keys, so two kinds of codes: ``cv2.waitKey`` (the viewer) gives a plain key's
code, which the viewer masks to its low byte; ``cv2.waitKeyEx`` (collect, which needs the arrows)
gives the toolkit's own code, different per backend for the special keys. ``-1`` means no key.
"""

from __future__ import annotations

KEY_ESC = 27
KEY_SPACE = 32
KEY_TAB = 9

#: The viewer's keys (low byte of ``cv2.waitKey``).
KEYS_QUIT = frozenset({ord("q"), ord("Q"), KEY_ESC})
KEYS_PAUSE = frozenset({KEY_SPACE})
KEYS_SNAPSHOT = frozenset({ord("s"), ord("S")})
#: A kiosk ignores passers-by pressing keys; only the word "quit" closes it, typed with no pause of
#: this many seconds between its keys (the window takes one key per frame shown, so on a slow kiosk
#: the word takes a few frames). (Not a modifier combination: OpenCV's backends report Shift and Ctrl
#: inconsistently, the Qt one often not at all.)
KIOSK_QUIT_WORD = "quit"
KIOSK_QUIT_WITHIN_S = 3.0

#: ``cv2.waitKeyEx`` codes of the special keys: GTK (Linux), Qt, Windows, macOS (Cocoa).
KEYS_LEFT = frozenset({65361, 0x1000012, 0x250000, 63234, 81})
KEYS_UP = frozenset({65362, 0x1000013, 0x260000, 63232, 82})
KEYS_RIGHT = frozenset({65363, 0x1000014, 0x270000, 63235, 83})
KEYS_DOWN = frozenset({65364, 0x1000015, 0x280000, 63233, 84})
KEYS_SHIFT_TAB = frozenset({65056, 0x1000002, 353})
KEYS_ENTER = frozenset({10, 13, 65293, 0x1000004, 0x1000005})
#: GTK reports the keypad's digits as keys of their own.
GTK_KEYPAD_DIGITS = {0xFFB0 + d: str(d) for d in range(10)}

#: What a window (or any sink) asks the engine's loop to do.
ACTION_QUIT = "quit"
ACTION_PAUSE = "pause"
ACTION_SNAPSHOT = "snapshot"
#: A sink's reader went away (``| head`` closed the pipe): end quietly, and say so, not "the user (q)".
ACTION_PIPE_CLOSED = "pipe closed"

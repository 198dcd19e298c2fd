"""Progress bars with an ETA (tqdm) on stderr, shown only where someone watches: on a terminal, and not
with ``-q``. Elsewhere (a log file, a pipe, a test) the bar is a no-op, so callers never check; a caller
whose log should record how far a long job got asks for ``lines`` instead."""

from __future__ import annotations

import sys

from livedigits.util import logs

#: With ``lines``, a line is written at the first step and each time the count passes another
#: 1/LINE_PARTS of the total.
LINE_PARTS = 4


def wanted(stream=None) -> bool:
    stream = stream if stream is not None else sys.stderr
    return not logs.is_quiet() and _is_terminal(stream)


def bar(total: int | None, *, desc: str | None = None, unit: str = "frame", stream=None, force: bool = False,
        lines: bool = False):
    """A tqdm bar of ``total`` steps (None: a counter without ETA); disabled unless :func:`wanted` or
    ``force``. It disappears when closed: what it measured is reported by the command itself.

    ``lines``: where ``stream`` is not a terminal, write ``DESC: done/total units`` on lines of their own
    (see :data:`LINE_PARTS`) rather than nothing; it needs a ``total``, and is silent with ``-q`` unless
    ``force``.
    """
    stream = stream if stream is not None else sys.stderr
    if lines and total and not _is_terminal(stream) and (force or not logs.is_quiet()):
        return _Lines(total, desc, unit, stream)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True, leave=False,
                disable=not (force or wanted(stream)), mininterval=0.2)


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Lines:
    """The ``lines`` stand-in for a bar, with the part of tqdm's interface callers use."""

    def __init__(self, total: int, desc: str | None, unit: str, stream):
        self.total, self.n, self.stream = total, 0, stream
        self._prefix = f"{desc}: " if desc else ""
        self._unit = unit
        self._parts_shown = -1

    def update(self, n: int = 1) -> None:
        self.n += n
        part = LINE_PARTS * self.n // self.total
        if part > self._parts_shown:
            self._parts_shown = part
            self.stream.write(f"{self._prefix}{self.n}/{self.total} {self._unit}s\n")
            self.stream.flush()

    def close(self) -> None:
        pass

    def __enter__(self) -> "_Lines":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""Progress bars with an ETA (tqdm) on stderr, shown only where someone watches: on a terminal, and not
with ``-q``. Elsewhere (a log file, a pipe, a test) the bar is a no-op, so callers never check."""

from __future__ import annotations

import sys

from . import logs


def wanted(stream=None) -> bool:
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return not logs.is_quiet() and bool(isatty and isatty())


def bar(total: int | None, *, desc: str | None = None, unit: str = "frame", stream=None, force: bool = False):
    """A tqdm bar of ``total`` steps (None: a counter without ETA); disabled unless :func:`wanted` or
    ``force``. It disappears when closed: what it measured is reported by the command itself."""
    from tqdm import tqdm

    stream = stream if stream is not None else sys.stderr
    return tqdm(total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True, leave=False,
                disable=not (force or wanted(stream)), mininterval=0.2)

"""The terminal: the numbers read, on standard output (:class:`NumberPrinter`), and a progress bar
with ETA (:class:`ProgressSink`)."""

from __future__ import annotations

from typing import TextIO

import numpy as np

from livedigits.engine.keys import ACTION_PIPE_CLOSED
from livedigits.reading.stable import StableNumbers
from livedigits.types import FrameResult

class _InView:
    """The numbers steadily in view of one video source: those :class:`~livedigits.reading.stable.StableNumbers`
    confirms (the kiosk page's rule: read at the same place for 3 frames and half a second, fragments
    of a longer number left out), until they have been missed for as long as it took to confirm them."""

    def __init__(self) -> None:
        self.stable = StableNumbers()
        self.shown: list[str] = []

    def update(self, numbers, time: float) -> bool:
        """Take one frame's numbers (reading order); True when what is in view changed."""
        self.stable.update(numbers, time)
        held = self.stable.rule.seconds
        order = {number.text: k for k, number in enumerate(numbers)}
        texts = {n.text for n in self.stable.listed() if time - n.last_seen <= held}
        changed = texts != set(self.shown)
        self.shown = sorted(texts, key=lambda t: (order.get(t, len(order)), t))
        return changed


class _SumsInView:
    """The expressions in view of one video source, printed when a new set has held for ``FRAMES`` frames
    in a row (a flicker of one frame prints nothing)."""

    FRAMES = 3

    def __init__(self) -> None:
        self.printed: list[str] = []
        self.candidate: list[str] = []
        self.seen = 0

    def update(self, lines: list[str]) -> bool:
        if lines == self.candidate:
            self.seen += 1
        else:
            self.candidate, self.seen = lines, 1
        if self.seen >= self.FRAMES and lines != self.printed and lines:
            self.printed = list(lines)
            return True
        return False


class NumberPrinter:
    """The numbers read, on ``stream`` (standard output), flushed line by line so a pipe sees them live.

    Still images: each image's numbers once, in reading order, one number a line for a single image,
    ``FILE: 12 407`` for several images or sources; then one line per expression read, ``12+7=19 right``
    (``answers``: an open one with its value, ``6x4= open (24)``), prefixed by ``FILE: `` likewise. Video, cameras and streams: a line each time the
    numbers steadily in view change (:class:`_InView`): ``frame 120 (4.00 s): 369 8097``, prefixed by
    the source when there are several; nothing after the colon when none is left; and the expressions in
    view, a line each, when a new set of them has held for three frames.
    """

    needs_image = False
    needs_crops = False

    def __init__(self, stream: TextIO, *, many: bool = False, answers: bool = False) -> None:
        self.stream = stream
        self.many = many
        self.answers = answers
        self._several = False  # sources: with several, each video line names its own
        self._views: dict[str, _InView] = {}
        self._sums: dict[str, _SumsInView] = {}

    def open(self, streams) -> None:
        images = [s for s in streams if s.kind == "images"]
        if len(streams) > 1 or any((s.total_frames or 0) > 1 for s in images):
            self.many = True
        self._several = len(streams) > 1

    def _print(self, line: str) -> str | None:
        try:
            print(line, file=self.stream, flush=True)
        except BrokenPipeError:
            return ACTION_PIPE_CLOSED  # the reader went away (| head): end quietly
        return None

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> str | None:
        texts = [number.text for number in result.numbers]
        sums = [e.line(self.answers) for e in result.expressions or ()]
        frame = result.frame
        if frame.file is not None:
            if self.many:
                lines = [f"{frame.file}: {' '.join(texts)}".rstrip()] + [f"{frame.file}: {line}" for line in sums]
            else:
                lines = texts + sums
            for line in lines:
                if self._print(line):
                    return ACTION_PIPE_CLOSED
            return None
        where = f"{result.source} " if self._several else ""
        view = self._views.setdefault(result.source, _InView())
        if view.update(result.numbers, frame.time):
            if self._print(f"{where}frame {frame.index} ({frame.time:.2f} s): {' '.join(view.shown)}".rstrip()):
                return ACTION_PIPE_CLOSED
        if self._sums.setdefault(result.source, _SumsInView()).update(sums):
            for line in sums:
                if self._print(f"{where}frame {frame.index} ({frame.time:.2f} s): {line}"):
                    return ACTION_PIPE_CLOSED
        return None

    def close(self) -> None:
        pass


class ProgressSink:
    """A progress bar with ETA on ``stream`` (tqdm) for sources of known length: the frames of all
    sources together. The bar follows each source's frame index, so frames skipped by a real-time
    replay count as done."""

    needs_image = False
    needs_crops = False

    def __init__(self, stream: TextIO, *, limit: int | None = None, unit: str = "frame", desc: str | None = None,
                 force: bool = True) -> None:
        self.stream = stream
        self.limit = limit
        self.unit = unit
        self.desc = desc
        self.force = force
        self.bar = None
        self._done: dict[str, int] = {}

    def open(self, streams) -> None:
        from livedigits.cli.progress import bar

        totals = [min(s.total_frames, self.limit or s.total_frames) for s in streams if s.total_frames]
        if totals and len(totals) == len(streams):
            self.bar = bar(sum(totals), desc=self.desc, unit=self.unit, stream=self.stream, force=self.force)

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        if self.bar is None:
            return
        self._done[result.source] = result.frame.index + 1
        done = min(self.bar.total, sum(self._done.values()))
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

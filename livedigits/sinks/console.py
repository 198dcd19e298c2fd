"""The terminal: the numbers read, on standard output (:class:`NumberPrinter`), and a progress bar
with ETA (:class:`ProgressSink`)."""

from __future__ import annotations

from typing import TextIO

import numpy as np

from livedigits.types import FrameResult

#: On video, a number joins what is in view once read in this many frames in a row, and leaves it once
#: missing from as many in a row: one stray frame neither adds nor removes a number.
CONFIRM_FRAMES = 3


class _InView:
    """The numbers steadily in view of one video source (see ``CONFIRM_FRAMES``)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}  # consecutive frames each number was read in
        self.missed: dict[str, int] = {}  # consecutive frames a number in view was not
        self.shown: list[str] = []

    def update(self, texts: list[str]) -> bool:
        """Take one frame's numbers (reading order); True when what is in view changed."""
        present = dict.fromkeys(texts)
        self.seen = {t: self.seen.get(t, 0) + 1 for t in present}
        before = list(self.shown)
        for text in list(self.shown):
            self.missed[text] = 0 if text in present else self.missed.get(text, 0) + 1
            if self.missed[text] >= CONFIRM_FRAMES:
                self.shown.remove(text)
                del self.missed[text]
        for text in present:
            if self.seen[text] >= CONFIRM_FRAMES and text not in self.shown:
                self.shown.append(text)
        # In view: in this frame's reading order, then those kept through a short miss.
        order = {t: k for k, t in enumerate(texts)}
        self.shown.sort(key=lambda t: order.get(t, len(order)))
        return set(self.shown) != set(before)


class NumberPrinter:
    """The numbers read, on ``stream`` (standard output), flushed line by line so a pipe sees them live.

    Still images: each image's numbers once, in reading order, one number a line for a single image,
    ``FILE: 12 407`` for several images or sources. Video, cameras and streams: a line each time the
    numbers steadily in view change (``CONFIRM_FRAMES``): ``frame 120 (4.00 s): 369 8097``, prefixed by
    the source when there are several; an empty line after the colon when none is left.
    """

    needs_image = False
    needs_crops = False

    def __init__(self, stream: TextIO, *, many: bool = False) -> None:
        self.stream = stream
        self.many = many
        self._views: dict[str, _InView] = {}

    def open(self, streams) -> None:
        images = [s for s in streams if s.kind == "images"]
        if len(streams) > 1 or any((s.total_frames or 0) > 1 for s in images):
            self.many = True
        self._several = len(streams) > 1

    def _print(self, line: str) -> str | None:
        try:
            print(line, file=self.stream, flush=True)
        except BrokenPipeError:
            return "quit"  # the reader went away (| head): end quietly
        return None

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> str | None:
        texts = [number.text for number in result.numbers]
        frame = result.frame
        if frame.file is not None:
            if self.many:
                return self._print(f"{frame.file}: {' '.join(texts)}".rstrip())
            for text in texts:
                if self._print(text):
                    return "quit"
            return None
        view = self._views.setdefault(result.source, _InView())
        if not view.update(texts):
            return None
        where = f"{result.source} " if getattr(self, "_several", False) else ""
        return self._print(f"{where}frame {frame.index} ({frame.time:.2f} s): {' '.join(view.shown)}".rstrip())

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
        from livedigits.progress import bar

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

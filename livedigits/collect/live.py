"""``livedigits collect`` on the engine: two sinks that turn results into labelled samples.

- :class:`AutoSaver` (``--auto LABEL``, no window): every crop gets one label; each written digit is
  saved once per appearance, followed from frame to frame by the engine's tracker (its track id), or
  again every ``every`` frames while it stays in view. Each still image is a new page.
- :class:`CollectWindow` (the live view): shows :class:`~livedigits.collect.session.CollectSession`'s
  picture and hands it the keys; space pauses the engine, q quits.

:func:`collect_auto` and :func:`collect_window` run them on :class:`livedigits.engine.loop.Engine`, the
loop of ``livedigits run``.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

from livedigits.engine.loop import ACTION_PAUSE, ACTION_QUIT, Engine
from livedigits.errors import UsageError
from livedigits.reading.numbers import DEFAULT_READING, ReadingConfig
from livedigits.reading.recognizer import Recognizer
from livedigits.vision.segment import DEFAULT_CONFIG, SegmentConfig
from livedigits.types import FrameResult
from livedigits.collect.session import CollectSession
from livedigits.collect.store import SampleStore, full_cut

#: How long the live view waits for a key per shown frame (ms); longer while paused or at the end.
KEY_WAIT_MS = 1
PAUSED_KEY_WAIT_MS = 30


class AutoSaver:
    """The engine's sink for ``collect --auto``: saves the crops of each result under ``label``.

    A crop is due when its track is new, and with ``every`` > 0 again each ``every`` frames of its
    source while it stays in view; every crop of a still image is due. At ``limit`` samples it asks
    the engine to stop.
    """

    needs_image = False
    needs_crops = True

    def __init__(self, store: SampleStore, label: str, *, every: int = 0, limit: int | None = None,
                 source_name: str = "") -> None:
        if every < 0:
            raise UsageError(f"--every must be 0 (once per appearance) or a number of frames, got {every}")
        self.store = store
        self.label = label
        self.every = every
        self.limit = limit
        self.source_name = source_name
        self.saved = 0
        self.frames = 0
        self._last_saved: dict[int, int] = {}  # track id -> frame it was last saved at

    def open(self, streams) -> None:
        pass

    def due(self, result: FrameResult) -> list[int]:
        """Indices into ``result.candidates`` to save now."""
        tracks = result.candidate_tracks
        if result.frame.file is not None or len(tracks) != len(result.candidates):
            return list(range(len(result.candidates)))  # a still image: a page of its own
        index = result.frame.index
        due = []
        for k, track in enumerate(tracks):
            last = self._last_saved.get(track)
            if last is None or (self.every and index - last >= self.every):
                self._last_saved[track] = index
                due.append(k)
        return due

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> str | None:
        self.frames += 1
        frame = result.frame
        for k in self.due(result):
            if self.limit is not None and self.saved >= self.limit:
                break
            candidate = result.candidates[k]
            self.store.save(candidate.crop, full_cut(frame.image, candidate.box), self.label,
                            source=self.source_name or result.source, frame=int(frame.index),
                            frame_time=round(float(frame.time), 3), box=candidate.box.as_list(), mode="auto")
            self.saved += 1
        if self.limit is not None and self.saved >= self.limit:
            return ACTION_QUIT
        return None

    def close(self) -> None:
        pass


class CollectWindow:
    """The live view as the engine's sink: each result's crops and the model's guesses go to the
    session; its picture is shown in ``title``'s window (opened and checked by a
    :class:`~livedigits.sinks.WindowSink`); its keys are answered. ``source`` tells when it ended, so
    the view says that what is shown can still be labelled."""

    needs_image = False
    needs_crops = True

    def __init__(self, session: CollectSession, window, source) -> None:
        self.session = session
        self.window = window
        self.source = source
        self._paused = False

    def open(self, streams) -> None:
        pass

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> str | None:
        self.session.update(result.frame, list(result.candidates), result.probabilities)
        return self._show()

    def refresh(self, screens, *, paused: bool = False, ended: bool = False) -> str | None:
        """No new frame (paused, or the source ended): the session's own view, still answering keys."""
        if getattr(self.source, "state", "") == "ended" and not self.session.message:
            self.session.message = "end of the source: label what is shown, q to quit"
        return self._show()

    def _show(self) -> str | None:
        title = self.window.title
        cv2.imshow(title, self.session.draw())
        waiting = self.session.paused or getattr(self.source, "state", "") == "ended"
        if self.session.handle_key(cv2.waitKeyEx(PAUSED_KEY_WAIT_MS if waiting else KEY_WAIT_MS)) == ACTION_QUIT:
            return ACTION_QUIT
        try:
            if cv2.getWindowProperty(title, cv2.WND_PROP_VISIBLE) < 1:
                return ACTION_QUIT
        except cv2.error:
            return ACTION_QUIT
        if self.session.paused != self._paused:  # space, or the next still image of a folder
            self._paused = self.session.paused
            return ACTION_PAUSE
        return None

    def close(self) -> None:
        self.window.close()


def collect_auto(source, store: SampleStore, label: str, classifier, *, every: int = 0, limit: int | None = None,
                 max_frames: int | None = None, config: SegmentConfig = DEFAULT_CONFIG,
                 reading: ReadingConfig = DEFAULT_READING, log=print) -> int:
    """Label every crop of ``source`` with ``label`` (see :class:`AutoSaver`). Returns the number of
    samples saved. Ctrl-C stops it cleanly: what was saved stays saved."""
    from livedigits.sinks import ProgressSink

    saver = AutoSaver(store, label, every=every, limit=limit, source_name=source.name)
    sinks = [saver, ProgressSink(sys.stderr, limit=max_frames, desc=f"collecting {label}", force=False)]
    engine = Engine([source], Recognizer(classifier, config, reading), sinks=sinks, max_frames=max_frames,
                    signals=True)
    summary = engine.run()
    if summary.ended_by.startswith(("interrupt", "SIGTERM")):
        log("interrupted: the samples saved so far are kept")
    log(f"read {saver.frames} frame(s)")
    return saver.saved


def collect_window(source, store: SampleStore, classifier, window, *, config: SegmentConfig = DEFAULT_CONFIG,
                   reading: ReadingConfig = DEFAULT_READING) -> None:
    """The live view on the engine: read, segment, classify, show, act on keys (see :class:`CollectWindow`).
    The window stays open after the source ends, so what is shown can still be labelled."""
    session = CollectSession(store, source.name, step_images=source.kind == "images")
    view = CollectWindow(session, window, source)
    Engine([source], Recognizer(classifier, config, reading), sinks=[view], signals=True, linger=True).run()

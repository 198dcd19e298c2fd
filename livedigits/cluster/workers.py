"""What runs on the cluster's nodes: :class:`FileReader` (stills and videos, one actor per CPU, the model
loaded once per actor) and :class:`LiveReader` (one actor per camera or stream, restarted by Ray where it
fails). Both are plain classes, made Ray actors by the driver (``ray.remote(FileReader)``), so this module
imports without Ray and the worker imports ``livedigits`` from its own install.

Frames stay off the object store: a worker reads its file from the shared path, or its stream itself, and
sends back results without pixels (:func:`without_pixels`), a few hundred bytes a frame. Only
``--save-dir`` asks for a picture back, and then as an encoded PNG, never a decoded array.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from livedigits.types import Frame, FrameResult

#: Records of a video or a live source are sent back in chunks of at most this many frames...
CHUNK_FRAMES = 32
#: ...or after this many seconds, whichever comes first, so a slow stream still reports promptly.
CHUNK_SECONDS = 0.5

#: What a result's frame holds instead of its pixels on the way back: nothing (0 x 0 x 3).
NO_PIXELS = np.zeros((0, 0, 3), np.uint8)


@dataclass(frozen=True)
class Settings:
    """What every worker needs to read as ``livedigits run`` does: the classifier's backend, model file
    (None: the shipped one, from the worker's own install) and device, and the segmentation and reading
    settings."""

    backend: str
    model: str | None
    device: str
    segment: object
    reading: object
    draw: bool = False  # --save-dir: send back each still's annotated picture, PNG-encoded


@dataclass(frozen=True)
class StillDone:
    """A still image read on a worker: its result (no pixels), and with ``--save-dir`` its annotated
    picture as PNG bytes; or ``unreadable``, the reason it could not be read (the file is then skipped,
    as a local run skips it)."""

    result: FrameResult | None
    picture: bytes | None = None
    unreadable: str | None = None


def without_pixels(result: FrameResult, node: str) -> FrameResult:
    """``result`` as it travels back to the driver: its frame's image, mask, crops and probabilities left
    out, and the ``node`` that read it set."""
    return replace(result, frame=replace(result.frame, image=NO_PIXELS), candidates=(), mask=None,
                   probabilities=None, candidate_tracks=(), node=node)


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def _recognizer(settings: Settings):
    import cv2

    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer

    # An actor is given one CPU: OpenCV's pool of a thread per core would take the other workers' share.
    cv2.setNumThreads(1)
    classifier = load_classifier(settings.backend, settings.model, settings.device)
    # As `livedigits run` makes it: smoothing on, which a still image resets (a new file is a new page).
    return Recognizer(classifier, settings.segment, settings.reading)


class FileReader:
    """One worker for files: loads the model once, then reads still images and whole videos from the path
    all nodes share."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.node = _node_id()
        self.recognizer = _recognizer(settings)

    def ready(self) -> tuple[str, str]:
        """The node this worker runs on, and the backend it loaded (called once the actor is placed)."""
        return self.node, self.recognizer.classifier.name

    def read_still(self, label: str, index: int, path: str) -> StillDone:
        """Read one still image of source ``label``, its ``index``-th file."""
        from livedigits.capture.images import UnreadableImage, read_image

        started = time.perf_counter()
        try:
            image = read_image(path)
        except UnreadableImage as exc:
            return StillDone(None, unreadable=str(exc))
        frame = Frame(index, 0.0, image, decode_ms=(time.perf_counter() - started) * 1e3, file=path)
        result = self.recognizer.process(frame, source=label)
        picture = None
        if self.settings.draw:
            import cv2

            ok, encoded = cv2.imencode(".png", result.plot())
            picture = encoded.tobytes() if ok else None
        return StillDone(without_pixels(result, self.node), picture)

    def read_video(self, label: str, path: str, skip: int = 0, max_frames: int | None = None):
        """Read a video file frame by frame, yielding lists of results in frame order. ``skip``: the
        frames already delivered by an earlier attempt, read again (so the tracker sees what it saw the
        first time and gives the same track ids) but not sent."""
        from livedigits.capture.sources import open_source

        self.recognizer.reset(label)
        chunk, sent_at = [], time.monotonic()
        with open_source(path) as source:
            while (frame := source.read()) is not None:
                if max_frames is not None and frame.index >= max_frames:
                    break
                result = self.recognizer.process(frame, source=label)
                if frame.index < skip:
                    continue
                chunk.append(without_pixels(result, self.node))
                if len(chunk) >= CHUNK_FRAMES or time.monotonic() - sent_at >= CHUNK_SECONDS:
                    yield chunk
                    chunk, sent_at = [], time.monotonic()
            warnings = source.warnings
        self.recognizer.reset(label)
        if chunk:
            yield chunk
        if warnings:
            yield warnings  # a list of str: what the source said that did not stop it (a truncated file)


class LiveReader:
    """One camera or stream, read on the node this actor was placed on, with the model loaded there.
    Ray restarts the actor (``max_restarts``) when it or its node dies; the driver then asks again."""

    def __init__(self, settings: Settings) -> None:
        self.node = _node_id()
        self.recognizer = _recognizer(settings)

    def ready(self) -> tuple[str, str]:
        return self.node, self.recognizer.classifier.name

    def read_live(self, label: str, spec: str, first_index: int = 0, limit: int | None = None,
                  width: int | None = None, height: int | None = None, fps: float | None = None):
        """Read ``spec`` until it ends or ``limit`` frames were sent, yielding lists of results. Frame
        indexes start at ``first_index`` (where an earlier actor of this source stopped), so a source's
        records keep one count across restarts."""
        from livedigits.capture.supervise import open_reconnecting

        source = open_reconnecting(spec, width=width, height=height, fps=fps)
        chunk, sent_at, sent = [], time.monotonic(), 0
        try:
            source.start()
            while limit is None or sent < limit:
                frame = source.read(timeout=CHUNK_SECONDS)
                if frame is None:
                    if source.state == "ended":
                        break
                else:
                    frame = replace(frame, index=first_index + frame.index)
                    chunk.append(without_pixels(self.recognizer.process(frame, source=label), self.node))
                    sent += 1
                if chunk and (len(chunk) >= CHUNK_FRAMES or time.monotonic() - sent_at >= CHUNK_SECONDS):
                    yield chunk
                    chunk, sent_at = [], time.monotonic()
        finally:
            source.stop()
        if chunk:
            yield chunk

"""The annotated video: :class:`VideoFile` writes one file; :class:`VideoOutput` is the engine's sink,
one file per source."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from livedigits.errors import OutputError
from livedigits.capture.images import to_bgr8
from livedigits.sinks.paths import FOURCC_BY_EXTENSION, check_video_path, disk_hint
from livedigits.types import FrameResult

#: Codecs whose frame width and height must be even (4:2:0 chroma). Both
#: writers silently round an odd size down, MJPG included, so we do it openly.
EVEN_SIZE_FOURCCS = frozenset({"mp4v", "MJPG"})

#: Frame rate written when the caller has none (still images, unknown streams).
DEFAULT_VIDEO_FPS = 30.0


class VideoFile:
    """Writes annotated frames to a video file (``.mp4`` with mp4v, ``.avi`` with MJPG).

    The writer opens on the first frame, so ``size`` (``(width, height)``)
    may be left to the first image. An odd width or height is made even by
    dropping the last column/row (both codecs need even sizes). Frames of
    another size are resized: OpenCV's writer silently drops frames whose size
    differs, which would give a short video with no error. If no frame is
    written, no file is created.

    OpenCV's writer reports no write errors (a full disk gives an .mp4 without
    its index, which nothing can play), so ``close()`` checks the finished file:
    one that cannot be opened is removed, and one that holds fewer frames than
    were written is kept (it plays) — either way :class:`OutputError` says so.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        self.path = check_video_path(path)
        self.fourcc = FOURCC_BY_EXTENSION[self.path.suffix.lower()]
        if fps is None:
            fps = DEFAULT_VIDEO_FPS
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"video fps must be > 0, got {fps}")
        self.fps = float(fps)
        if size is not None and (len(size) != 2 or min(size) <= 0):
            raise ValueError(f"video size must be (width, height) > 0, got {size}")
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self._writer: cv2.VideoWriter | None = None
        self._closed = False
        self.frames_written = 0
        self.frames_resized = 0

    def write(self, image: np.ndarray) -> None:
        """Append one frame: ``(H, W, 3)`` BGR uint8 (grayscale/other depths are converted)."""
        if self._closed:
            raise ValueError(f"VideoFile {self.path} is closed")
        image = to_bgr8(image)
        height, width = image.shape[:2]
        if self._writer is None:
            self._open((width, height) if self.size is None else self.size)
        assert self.size is not None
        if (width, height) != self.size:
            extra_w, extra_h = width - self.size[0], height - self.size[1]
            if 0 <= extra_w <= 1 and 0 <= extra_h <= 1:
                # Odd size made even for the codec: drop the last column/row rather
                # than rescale, so pixel coordinates stay those of the source.
                image = np.ascontiguousarray(image[: self.size[1], : self.size[0]])
            else:
                image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
                self.frames_resized += 1
        self._writer.write(image)
        self.frames_written += 1

    def _open(self, size: tuple[int, int]) -> None:
        if self.fourcc in EVEN_SIZE_FOURCCS:
            # A 63x47 request would quietly give a 62x46 file, not matching
            # ``size``; make it even here so ``size`` tells the truth.
            size = (max(2, size[0] - size[0] % 2), max(2, size[1] - size[1] % 2))
        writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, size)
        if not writer.isOpened():
            writer.release()
            raise OutputError(
                f"cannot open a video writer for {self.path} ({self.fourcc}, {size[0]}x{size[1]} at {self.fps:g} fps); "
                "try the other format (.avi or .mp4)"
            )
        self._writer = writer
        self.size = size

    def close(self) -> None:
        """Finish the file (an .mp4 is unreadable until its index is written here) and check it."""
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.release()
            self._check_written()

    def _check_written(self) -> None:
        capture = cv2.VideoCapture(str(self.path))
        try:
            readable = capture.isOpened() and capture.read()[0]
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if readable else 0
        finally:
            capture.release()
        if not readable:
            try:
                self.path.unlink()
            except OSError:
                pass
            raise OutputError(f"the video {self.path} could not be finished ({disk_hint(self.path)}); "
                              "the unplayable file was removed")
        if 0 < count < self.frames_written:
            raise OutputError(f"the video {self.path} holds only {count} of the {self.frames_written} frames "
                              f"written ({disk_hint(self.path)}); it plays up to there")

    def __enter__(self) -> "VideoFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def per_source_path(path: Path, index: int, count: int) -> Path:
    """The file of source ``index`` (0-based) when ``count`` sources write one ``path``: ``out.mp4`` for
    one source; ``out-0.mp4``, ``out-1.mp4``... for several."""
    return path if count == 1 else path.with_name(f"{path.stem}-{index}{path.suffix}")


class VideoOutput:
    """The ``--output`` sink: the annotated frames of each source into its own video file
    (:func:`per_source_path`), at the source's frame rate (``fps`` when given, else the source's, else
    ``DEFAULT_VIDEO_FPS``)."""

    needs_image = True
    needs_crops = False

    def __init__(self, path: str | os.PathLike, fps: float | None = None) -> None:
        self.path = check_video_path(path)
        self.fps = fps
        self.files: dict[str, VideoFile] = {}
        self.paths: list[Path] = []

    def open(self, streams) -> None:
        for k, stream in enumerate(streams):
            path = per_source_path(self.path, k, len(streams))
            self.files[stream.label] = VideoFile(path, fps=self.fps or stream.fps or DEFAULT_VIDEO_FPS)
            self.paths.append(path)

    def write(self, result: FrameResult, image: np.ndarray | None) -> None:
        self.files[result.source].write(image)

    @property
    def warnings(self) -> list[str]:
        notes = []
        for file in self.files.values():
            if file.frames_resized:
                width, height = file.size
                plural = "s" if file.frames_resized != 1 else ""
                notes.append(f"{file.frames_resized} frame{plural} of another size than the first were scaled to "
                              f"{width}x{height} in the video {file.path.name} (a video has one size); the JSONL's "
                              "boxes are in each frame's own pixels")
        return notes

    def close(self) -> None:
        failure = None
        for file in self.files.values():
            try:
                file.close()
            except OutputError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

"""The annotated video: :class:`VideoFile` writes one file; :class:`VideoOutput` is the engine's sink,
one file per source.

Written through PyAV (FFmpeg's libraries): H.264 in ``.mp4`` and VP9 in ``.webm``, which browsers play,
and every write checked — OpenCV's writer reports no write error, so a full disk gave a short video and
exit 0. Frames are counted by the packets the file took, and the finished file is read back.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from livedigits.capture.images import to_bgr8
from livedigits.errors import OutputError
from livedigits.sinks.paths import VIDEO_CODECS, check_video_path, disk_hint
from livedigits.types import FrameResult

#: Frame rate written when the caller has none (still images, unknown streams).
DEFAULT_VIDEO_FPS = 30.0
#: x264's speed against size: "veryfast" encodes 640x480 in a few milliseconds a frame on one core,
#: so a live run keeps its rate; the default "medium" costs several times that for a smaller file.
X264_OPTIONS = {"preset": "veryfast", "crf": "23"}
#: libvpx's real-time mode for the same reason.
VP9_OPTIONS = {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0"}


class VideoFile:
    """Writes annotated frames to a video file: ``.mp4`` (H.264), ``.webm`` (VP9) or ``.avi`` (Motion JPEG).

    The file opens on the first frame, so ``size`` (``(width, height)``) may be left to the first image.
    An odd width or height is made even by dropping the last column/row (4:2:0 chroma needs even
    sizes). Frames of another size are scaled to the first's (a video has one size) and counted in
    ``frames_resized``. If no frame is written, no file is created.

    ``frames_written`` counts the frames the file took (packets written), not those handed in. A write
    that fails (a full disk, a file size limit) raises :class:`OutputError` at once, naming how many
    frames the file holds; ``close()`` finishes the file and reads it back, and a file that cannot be
    read is removed.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        self.path = check_video_path(path)
        self.codec, self.pix_fmt = VIDEO_CODECS[self.path.suffix.lower()]
        if fps is None:
            fps = DEFAULT_VIDEO_FPS
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"video fps must be > 0, got {fps}")
        self.fps = float(fps)
        if size is not None and (len(size) != 2 or min(size) <= 0):
            raise ValueError(f"video size must be (width, height) > 0, got {size}")
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self._container = None
        self._stream = None
        self._closed = False
        self._failed = False
        self.frames_given = 0
        self.frames_written = 0
        self.frames_resized = 0

    def write(self, image: np.ndarray) -> None:
        """Append one frame: ``(H, W, 3)`` BGR uint8 (grayscale/other depths are converted)."""
        if self._closed:
            raise ValueError(f"VideoFile {self.path} is closed")
        if self._failed:
            return
        image = to_bgr8(image)
        height, width = image.shape[:2]
        if self._container is None:
            self._open((width, height) if self.size is None else self.size)
        assert self.size is not None
        if (width, height) != self.size:
            extra_w, extra_h = width - self.size[0], height - self.size[1]
            if 0 <= extra_w <= 1 and 0 <= extra_h <= 1:
                # Odd size made even for the codec: drop the last column/row rather
                # than rescale, so pixel coordinates stay those of the source.
                image = image[: self.size[1], : self.size[0]]
            else:
                image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
                self.frames_resized += 1
        import av

        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame.pts = self.frames_given
        self.frames_given += 1
        self._mux(self._stream.encode(frame))

    def _mux(self, packets) -> None:
        for packet in packets:
            try:
                self._container.mux(packet)
            except (OSError, ValueError) as exc:  # av.FFmpegError is an OSError or ValueError
                self._fail(exc)
            self.frames_written += 1

    def _fail(self, exc: BaseException) -> None:
        """A write failed: close what can be closed, read back what the file holds, and say it."""
        self._failed = True
        why = getattr(exc, "strerror", None) or str(exc)
        self._abandon()
        count = self._count_or_remove(decode=True)
        if count == 0:
            kept = "the unplayable file was removed"
        else:
            kept = f"it holds {count} of the {self.frames_given} frames given and plays up to there"
        raise OutputError(f"cannot write the video {self.path}: {why} ({disk_hint(self.path)}); {kept}") from None

    def _open(self, size: tuple[int, int]) -> None:
        import av

        # A 63x47 request gives a 62x46 file (4:2:0 needs even sides); ``size`` tells the truth.
        size = (max(2, size[0] - size[0] % 2), max(2, size[1] - size[1] % 2))
        try:
            container = av.open(str(self.path), mode="w")
        except (OSError, ValueError) as exc:
            raise OutputError(f"cannot open {self.path} for writing: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            options = X264_OPTIONS if self.codec == "libx264" else VP9_OPTIONS if self.codec == "libvpx-vp9" else {}
            stream = container.add_stream(self.codec, rate=Fraction(self.fps).limit_denominator(1001), options=options)
            stream.width, stream.height = size
            stream.pix_fmt = self.pix_fmt
            stream.time_base = Fraction(1, 1) / Fraction(self.fps).limit_denominator(1001)
        except (OSError, ValueError) as exc:
            container.close()
            raise OutputError(f"cannot write {self.codec} video {self.path} ({size[0]}x{size[1]} at {self.fps:g} fps): "
                              f"{exc}; try another format (.mp4, .webm or .avi)") from None
        self._container, self._stream = container, stream
        self.size = size

    def _abandon(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except (OSError, ValueError):
                pass

    def close(self) -> None:
        """Finish the file (an .mp4 is unplayable until its index is written here) and read it back."""
        if self._closed:
            return
        self._closed = True
        if self._container is None:
            return
        try:
            self._mux(self._stream.encode(None))  # the frames the encoder still holds
            self._container.close()
        except OutputError:
            self._check_written()
            raise
        except (OSError, ValueError) as exc:
            self._container = None
            self._check_written()
            self._failed = True
            raise OutputError(f"cannot finish the video {self.path}: {getattr(exc, 'strerror', None) or exc} "
                              f"({disk_hint(self.path)})") from None
        self._container = None
        self._check_written()
        if self.frames_written < self.frames_given:
            raise OutputError(f"the video {self.path} holds only {self.frames_written} of the {self.frames_given} "
                              f"frames given ({disk_hint(self.path)})")

    def frames_in_file(self, decode: bool = False) -> int:
        """Frames the finished file holds, counted by reading its packets back (no decoding); with
        ``decode``, the frames that decode (a file cut by a failed write may end in a packet cut short)."""
        import av

        with av.open(str(self.path)) as container:
            if not decode:
                return sum(1 for packet in container.demux(video=0) if packet.size)
            count = 0
            try:
                for _ in container.decode(video=0):
                    count += 1
            except (OSError, ValueError):  # the packet cut short, and what follows
                pass
            return count

    def _count_or_remove(self, decode: bool = False) -> int:
        """The frames the file holds (``frames_in_file``); a file that holds none, or cannot be read back,
        is removed (0)."""
        try:
            count = self.frames_in_file(decode)
        except (OSError, ValueError):
            count = 0
        if count == 0:
            try:
                self.path.unlink()
            except OSError:
                pass
        return count

    def _check_written(self) -> None:
        """A file that cannot be read back is removed (an .mp4 without its index plays nowhere); one
        that holds fewer frames than were written is said so."""
        count = self._count_or_remove()
        if count == 0:
            raise OutputError(f"the video {self.path} could not be finished ({disk_hint(self.path)}); "
                              "the unplayable file was removed")
        if count < self.frames_written:
            raise OutputError(f"the video {self.path} holds only {count} of the {self.frames_written} frames "
                              f"written ({disk_hint(self.path)}); it plays up to there")
        self.frames_written = count

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

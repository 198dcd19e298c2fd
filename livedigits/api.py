"""The Python API: a :class:`Reader` loads the model once and reads still images and video into results.

::

    from livedigits import Reader

    reader = Reader()
    result = reader("samples/page.png")      # a path, a NumPy array, a PIL image, or a list of these
    print([number.text for number in result.numbers])
    result.save("page-annotated.png")

    for result in reader.stream("samples/demo.mp4", max_frames=30):   # cameras, files, URLs, several
        print(result.source, result.frame.index, [n.text for n in result.numbers])

A result is a :class:`Result`: the same :class:`~livedigits.types.FrameResult` the command line writes
as a JSON Lines record (``result.to_record()``), with ``plot()`` and ``save()`` to draw it. (They live
here, not on ``FrameResult``, so the data types import nothing of the drawing or the sinks.) The settings are those of ``livedigits run``: the same defaults, the
same TOML file (``config=``), checked by the same code, with the same error messages.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, Union, overload

import numpy as np

from livedigits import settings
from livedigits.classify.backends import Classifier, load_classifier
from livedigits.errors import ImageListError, LivedigitsError, SourceError, UsageError
from livedigits.reading.numbers import ReadingConfig
from livedigits.reading.recognizer import Recognizer
from livedigits.vision.segment import SegmentConfig
from livedigits.capture.images import EXIF_ORIENTATION_TAG, apply_orientation, read_image_file_scaled, read_still, to_bgr8
from livedigits.types import Frame, FrameResult

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

    from livedigits.cluster import ClusterStream

#: What one image given to a :class:`Reader` may be.
ImageInput = Union[str, "os.PathLike[str]", bytes, np.ndarray, "PILImage"]
SourceInput = Union[int, str, "os.PathLike[str]"]

ACCEPTED = ("a path (str or pathlib.Path), a NumPy array ((H, W) grey, (H, W, 3) BGR or (H, W, 4) BGRA), "
            "a PIL image, the bytes of an image file, or a list or tuple of these")

#: How error messages name settings given as Python dicts (a file's are named ``--config FILE``).
CONFIG_ORIGIN = "Reader(config=...)"


@dataclass(frozen=True)
class Result(FrameResult):
    """A :class:`~livedigits.types.FrameResult` as the API returns it, with ways to draw it."""

    def plot(self, confidence: bool = False, hud: bool = False) -> np.ndarray:
        """The frame's image, BGR ``uint8``, with each digit boxed and labelled and each number written
        above it, as the live window draws them; a new array (the frame's own image is left as it is).
        ``confidence`` adds each digit's probability to its label; ``hud`` the line of latency and digit
        count at the bottom."""
        from livedigits.draw.overlay import plot  # OpenCV's drawing: only when drawing

        return plot(self, confidence=confidence, hud=hud)

    def save(self, path: str | os.PathLike, confidence: bool = False, hud: bool = False) -> Path:
        """Write :meth:`plot`'s picture to ``path`` in the format its extension names (.png, .jpg...) and
        return the path. Written whole or not at all; ``OutputError`` for an extension OpenCV cannot
        write or a folder that cannot be written."""
        from livedigits.sinks.images import save

        return save(self, path, confidence=confidence, hud=hud)

    @classmethod
    def of(cls, result: FrameResult) -> "Result":
        """``result`` as a :class:`Result` (the same fields; the arrays are shared, not copied)."""
        if isinstance(result, cls):
            return result
        return cls(**{f.name: getattr(result, f.name) for f in fields(FrameResult)})


class Reader:
    """Reads handwritten digits and numbers on still images, with one model loaded once.

    ``model``: a ``.tflite`` or ``.keras`` file (default: the shipped model). ``backend``: ``auto``
    (the default: the fastest there is, LiteRT int8 on a CPU), ``lite``, ``lite-int8`` or ``keras``;
    ``device``: ``auto`` (the default), ``cpu`` or ``gpu`` (the Keras backend); these three, left
    unset, come from ``config``'s ``[run]`` when it has them. ``conf``: report a digit only from this
    probability (0-1, default 0.6; ``reading.min_confidence``), as ``--conf``. ``config``: a TOML file, or a
    dict of the same tables, as ``livedigits run --config`` (default: the file ``$LIVEDIGITS_CONFIG``
    names, if set): its ``[segment]`` and ``[reading]`` settings, and from ``[run]`` the options above.
    ``segment`` and ``reading``: a ``SegmentConfig`` or ``ReadingConfig``, or a dict of some of their
    fields. An argument given here wins over the file, as the command line does; each value is checked
    now against its documented range (docs/settings.md) by the code the command uses:
    :class:`~livedigits.errors.SettingError`, a ``ValueError``, names the setting and its range.

    The model is loaded here, so a wrong model, backend or device raises at once (``ModelError``,
    ``UsageError``). A Reader keeps no state between images and may be shared by threads (calls
    take turns: the backends are not thread-safe).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        backend: str | None = None,
        device: str | None = None,
        *,
        conf: float | None = None,
        config: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        segment: SegmentConfig | Mapping[str, Any] | None = None,
        reading: ReadingConfig | Mapping[str, Any] | None = None,
    ) -> None:
        segment_config, reading_config, run = _settings(config, segment, reading, conf)
        if model is not None and not isinstance(model, (str, os.PathLike)):
            raise TypeError(f"model must be a path to a .tflite or .keras file, got {_name(model)}")
        model = model if model is not None else run.get("model")
        self.classifier: Classifier = load_classifier(
            backend if backend is not None else run.get("backend") or "auto",
            os.path.expanduser(os.fspath(model)) if model is not None else None,
            device if device is not None else run.get("device") or "auto",
        )
        self.segment_config: SegmentConfig = segment_config
        self.reading_config: ReadingConfig = reading_config
        # No smoothing: each image is read on its own, so results never depend on the one before.
        self._recognizer = Recognizer(self.classifier, segment_config, reading_config, smooth=False)
        # Re-entrant: a stream's loop may read a still image with this reader between two results.
        self._lock = threading.RLock()

    @property
    def backend(self) -> str:
        """The backend that reads: ``lite-int8``, ``lite`` or ``keras``."""
        return self.classifier.name

    @property
    def device(self) -> str:
        """Where the model runs: ``cpu`` or ``gpu``."""
        return self.classifier.device

    @property
    def model(self) -> Path | None:
        """The model file in use."""
        path = getattr(self.classifier, "path", None)
        return Path(path) if path is not None else None

    def __repr__(self) -> str:
        return f"Reader(model={str(self.model)!r}, backend={self.backend!r}, device={self.device!r})"

    @overload
    def __call__(self, image: ImageInput) -> Result: ...

    @overload
    def __call__(self, image: list[ImageInput] | tuple[ImageInput, ...]) -> list[Result]: ...

    def __call__(self, image):
        """Read one image, or each of a list or tuple of them (a list of results, in order).

        An image is a path (read upright by its EXIF orientation, as ``livedigits run`` reads it; the
        result's ``frame.file`` is the path), a NumPy array (``(H, W)`` or ``(H, W, 1)`` grey, ``(H, W,
        3)`` **BGR**, OpenCV's order, ``(H, W, 4)`` BGRA; ``uint8``, ``uint16``, or floats in 0-1), a PIL
        image of any mode (upright by its EXIF orientation) or the bytes of an image file.

        ``SourceError`` for a file that is missing, empty, damaged or not an image; ``UsageError`` for an
        array of a shape or type no picture has; ``TypeError`` for anything else.

        A list is read to its end even when some images fail, and nothing read is lost: if any failed,
        :class:`~livedigits.errors.ImageListError` (a ``SourceError``) is raised at the end, its
        ``results`` holding every result in order (None where an image failed) and ``errors`` each
        failure by its place; the message begins with the first failed image's place and name::

            try:
                results = reader(paths)
            except ImageListError as exc:
                results = [r for r in exc.results if r is not None]
                for index, error in exc.errors.items():
                    print(paths[index], error)
        """
        if isinstance(image, (list, tuple)):
            if any(isinstance(item, (list, tuple)) for item in image):  # pixels as nested lists: nothing read yet
                raise TypeError("a list inside a list: pass each image once in one flat list (pixels as a NumPy array)")
            results: list = []
            errors: dict = {}
            for index, item in enumerate(image):
                try:
                    results.append(self._read(item, index))
                except (LivedigitsError, TypeError) as exc:
                    results.append(None)
                    errors[index] = exc
            if errors:
                first = min(errors)
                more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
                raise ImageListError(f"image {first} of {len(image)}: {errors[first]}{more}; the "
                                     f"{len(image) - len(errors)} images read are in .results", results, errors)
            return results
        return self._read(image, 0)

    def _read(self, image: object, index: int) -> Result:
        started = time.perf_counter()
        image_file = None
        scale = 1
        if isinstance(image, (str, os.PathLike)):
            image_file = os.path.expanduser(os.fspath(image))
            # A big JPEG decoded as small as the segmentation would shrink it; boxes in the file's pixels.
            pixels, scale = read_image_file_scaled(image_file, self.segment_config.max_side
                                                   if self.segment_config.roi is None else None)
        elif isinstance(image, (bytes, bytearray, memoryview)):
            pixels = _from_bytes(image)
        elif isinstance(image, np.ndarray):
            pixels = _from_array(image)
        elif _is_pil_image(image):
            pixels = _from_pil(image)
        elif isinstance(image, (list, tuple)):
            raise TypeError("a list inside a list: pass each image once in one flat list (pixels as a NumPy array)")
        else:
            raise TypeError(f"cannot read {_name(image)}: pass {ACCEPTED}")
        settings.check_roi_fits(self.segment_config.roi, pixels.shape[1], pixels.shape[0],
                                image_file or "the image")
        frame = Frame(index, 0.0, pixels, decode_ms=(time.perf_counter() - started) * 1e3, file=image_file,
                      scale=scale)
        with self._lock:
            return Result.of(self._recognizer.process(frame, source=os.fspath(image) if image_file is not None else ""))

    def stream(self, *sources: SourceInput | Sequence[SourceInput], realtime: bool = False,
               reconnect: bool = False, max_frames: int | None = None, ray: str | None = None) -> "ResultStream | ClusterStream":
        """Read video: each frame of one or more sources, as results, through the engine of ``livedigits run``.

        A source is a camera index (``0``), a video file, an image, a folder or glob of images, or a
        stream URL (``rtsp://...``, ``http://...``); several (``stream("a.mp4", "b.mp4")`` or a list)
        are read at once, each with its own reader thread and tracker, their crops classified in one
        batch; ``result.source`` tells them apart, ``detection.track_id`` follows a digit from frame to
        frame. The sources are opened now: one that cannot be opened raises ``SourceError`` at once.

        ``realtime`` paces a file at its frame rate, dropping frames like a camera; ``reconnect`` keeps
        retrying a camera or stream that goes away; ``max_frames`` stops each source after that many.
        Iterate the returned :class:`ResultStream` (leaving the loop early closes every source), or use
        it in a ``with`` block. The model is shared with this reader: calls take turns.

        ``ray``: read on the Ray cluster at this address instead (``host:port``, ``auto`` or ``local``;
        ``pip install 'livedigits[ray]'``), with this reader's settings: files and videos spread over its
        workers, each camera or stream in a worker of its own, each result's ``node`` set (see
        :func:`livedigits.cluster.stream`, which this calls; ``realtime`` does not apply).
        """
        if ray is not None:
            from livedigits.classify.modelfile import default_model_path
            from livedigits.cluster import stream

            if realtime:
                raise UsageError("realtime does not apply to a cluster run: a cluster reads files as fast as it can")
            # The shipped model is each node's own; a model given to this reader must be on a path all nodes share.
            model = self.model if self.model is not None and self.model != default_model_path(self.backend) else None
            return stream(*sources, ray=ray, model=model, backend=self.backend, device=self.device,
                          segment=self.segment_config, reading=self.reading_config, max_frames=max_frames)
        from livedigits.engine.loop import Engine
        from livedigits.capture.sources import open_source
        from livedigits.capture.supervise import open_reconnecting

        specs: list = []
        for item in sources or (0,):
            specs.extend(item if isinstance(item, (list, tuple)) else [item])
        if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 1):
            raise UsageError(f"max_frames must be 1 or more, got {max_frames!r}")
        opened = []
        try:
            for spec in specs:
                if not isinstance(spec, (str, int, os.PathLike)) or isinstance(spec, bool):
                    raise TypeError(f"cannot read {_name(spec)} as a source: pass a camera index, a path or a URL")
                spec = os.fspath(spec) if isinstance(spec, os.PathLike) else spec
                opened.append(open_reconnecting(spec, realtime=realtime) if reconnect
                              else open_source(spec, realtime=realtime))
        except BaseException:
            for source in opened:
                source.stop()
            raise
        recognizer = Recognizer(_TakingTurns(self.classifier, self._lock), self.segment_config, self.reading_config,
                                smooth=True)
        return ResultStream(Engine(opened, recognizer, max_frames=max_frames, fail_fast=False))


class _TakingTurns:
    """A classifier shared by a reader's still images and its streams: one call at a time."""

    def __init__(self, classifier: Classifier, lock) -> None:
        self.inner = classifier
        self.lock = lock
        self.name = classifier.name
        self.device = classifier.device
        self.num_classes = classifier.num_classes

    def predict(self, batch: np.ndarray) -> np.ndarray:
        with self.lock:
            return self.inner.predict(batch)


class ResultStream:
    """The results of :meth:`Reader.stream`, frame after frame: an iterator and a context manager.

    ``close()`` (or leaving a ``with`` block, or ``break``-ing out of a ``for`` loop over it) stops every
    source. A source that fails (a stream lost, a stall) lets the others go on; when they are done the
    iteration raises ``SourceError`` naming it, rather than ending as if all were well; ``summary`` (a :class:`livedigits.engine.loop.RunSummary`) holds the figures of the run so far.
    """

    def __init__(self, engine) -> None:
        self.engine = engine
        self._results = engine.results()
        self._told = False

    @property
    def summary(self):
        return self.engine.summary

    def __iter__(self) -> "ResultStream":
        return self

    def __next__(self) -> Result:
        try:
            return Result.of(next(self._results))
        except StopIteration:
            # A source that failed (lost, stalled) let the others go on; now that they are done, say so.
            failures, self._told = ({} if self._told else self.engine.summary.failures), True
            if failures:
                raise SourceError("; ".join(f"{label}: {why}" for label, why in failures.items())) from None
            raise

    def close(self) -> None:
        """Stop reading: every source is stopped, also if no result was taken yet."""
        self._results.close()
        for stream in self.engine.streams:
            stream.source.stop()

    def __enter__(self) -> "ResultStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - at interpreter exit there is nothing left to tell
            pass


# --------------------------------------------------------------------------- settings


def _settings(config, segment, reading, conf) -> tuple[SegmentConfig, ReadingConfig, dict]:
    """The segmentation and reading settings, and the ``[run]`` options that bear on reading: the
    defaults, then the file's (``config``, else ``$LIVEDIGITS_CONFIG``), then the arguments; each checked
    by :mod:`livedigits.settings`, the code the command line checks them with."""
    path, origin, document = _document(config)
    where = origin or f"--config {path}"
    if conf is not None and (isinstance(conf, bool) or not isinstance(conf, (int, float))):
        raise TypeError(f"conf must be a number from 0 to 1, got {_name(conf)}")
    for name, given, cls in (("segment", segment, SegmentConfig), ("reading", reading, ReadingConfig)):
        if given is not None and not isinstance(given, (cls, Mapping)):
            raise TypeError(f"{name} must be a {cls.__name__} or a dict of its fields, got {_name(given)}")
    segment_config, reading_config = settings.recognizer_settings(document, path=path, origin=origin)
    run = settings.reader_options(document.get("run", {}), where) if document.get("run") else {}
    segment_config = settings.merged("segment", segment_config, segment, "Reader(segment=...)")
    reading_config = settings.merged("reading", reading_config, reading, "Reader(reading=...)")
    if conf is not None:
        reading_config = replace(reading_config, min_confidence=settings.check_field(
            "reading", "min_confidence", conf, "Reader(conf=...)"))
    return segment_config, reading_config, run


def _document(config) -> tuple[str | None, str | None, dict]:
    """``(path, origin, tables)`` of ``config`` (else of ``$LIVEDIGITS_CONFIG``): a file is named by its
    path in messages, a dict by ``CONFIG_ORIGIN``. Old spellings are moved to their place, with a
    deprecation warning."""
    if isinstance(config, Mapping):
        tables = settings.check_tables(dict(config), CONFIG_ORIGIN)
        return None, CONFIG_ORIGIN, settings.normalise(tables, "run", CONFIG_ORIGIN)
    if config is not None and not isinstance(config, (str, os.PathLike)):
        raise TypeError(f"config must be the path of a TOML file or a dict of its tables, got {_name(config)}")
    path, origin = settings.config_path(config)
    if path is None:
        return None, None, {}
    where = origin or f"--config {path}"
    return path, origin, settings.normalise(settings.read(path, origin), "run", where)


# --------------------------------------------------------------------------- images


def _name(value: object) -> str:
    """How a message names what was given: its type, and the value itself when it is short."""
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    text = repr(value)
    return f"{name} {text}" if len(text) <= 40 and not isinstance(value, (bytes, np.ndarray)) else name


def _from_bytes(data: bytes | bytearray | memoryview) -> np.ndarray:
    if len(data) == 0:
        raise SourceError("empty bytes: no image in them; pass the whole content of an image file")
    raw = read_still(bytes(data))  # upright by the EXIF orientation, like a file
    if raw is None:
        raise SourceError(f"cannot read these {len(data)} bytes as an image: not an image file OpenCV can decode "
                          "(PNG, JPEG, WebP, BMP, TIFF...), or a damaged one")
    try:
        return to_bgr8(raw)
    except ValueError as exc:
        raise SourceError(f"cannot read these {len(data)} bytes as an image: {exc}") from None


def _from_array(array: np.ndarray) -> np.ndarray:
    try:
        pixels = to_bgr8(array)
    except ValueError as exc:
        raise UsageError(f"cannot read a NumPy array of shape {array.shape} and dtype {array.dtype} as an image "
                         f"({exc}); pass (H, W) grey, (H, W, 3) BGR or (H, W, 4) BGRA, uint8, uint16 or "
                         "floats in 0-1") from None
    # The result keeps its image (for plot and save): its own copy, not a view of an array the caller
    # may go on writing into (a camera buffer reused for the next frame).
    return pixels.copy() if np.may_share_memory(pixels, array) else pixels


def _is_pil_image(value: object) -> bool:
    # Without importing Pillow: an object can only be a PIL image if Pillow is already imported.
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(value, module.Image)


def _from_pil(image: PILImage) -> np.ndarray:
    """BGR ``uint8`` from a PIL image of any mode, upright by its EXIF orientation as a file is read.

    16-bit grey (``I;16``, and ``I``, as Pillow holds 16-bit files) keeps its contrast: scaled from
    0-65535, as a 16-bit file is, where Pillow's own conversion would clip it at 255. Transparency is
    laid over white paper, as for files. Other modes (palette, bilevel, CMYK, float...) go through
    Pillow's conversion to RGB.
    """
    try:
        image.load()  # an image opened lazily from a file is decoded here
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read the PIL image: {exc}; the file it was opened from is damaged, "
                          "cut short or already closed") from None
    mode = image.mode
    if mode.startswith("I;16"):
        pixels = np.asarray(image).astype(np.uint16)  # native byte order (I;16B is big-endian)
    elif mode == "I":
        pixels = np.clip(np.asarray(image), 0, 65535).astype(np.uint16)
    elif mode == "L":
        pixels = np.asarray(image)
    elif mode == "LA":
        grey_alpha = np.asarray(image)
        grey = grey_alpha[:, :, 0]
        pixels = np.dstack([grey, grey, grey, grey_alpha[:, :, 1]])
    elif mode == "RGB":
        pixels = np.asarray(image)[:, :, ::-1]
    elif mode == "RGBA":
        pixels = np.asarray(image)[:, :, [2, 1, 0, 3]]
    else:
        transparent = any(band in ("A", "a") for band in image.getbands()) or "transparency" in image.info
        try:
            converted = image.convert("RGBA" if transparent else "RGB")
        except ValueError as exc:
            raise UsageError(f"cannot convert a PIL image of mode {mode} to colour ({exc}); convert it first, "
                             "e.g. image.convert('RGB')") from None
        pixels = np.asarray(converted)
        pixels = pixels[:, :, [2, 1, 0, 3]] if transparent else pixels[:, :, ::-1]
    try:
        orientation = int(image.getexif().get(EXIF_ORIENTATION_TAG, 1))
    except (TypeError, ValueError):  # a damaged tag: no orientation, as for files
        orientation = 1
    try:
        return to_bgr8(apply_orientation(pixels, orientation))
    except ValueError as exc:  # a 0 x 0 image
        raise UsageError(f"cannot read a PIL image of mode {mode} and size {image.size}: {exc}") from None

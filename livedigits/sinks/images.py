"""Images on disk: the annotated still images (``--save-dir``) and the 28x28 crops with their labels
(``--save-crops``). Each file is written under a temporary name and renamed, so a crash or a full disk
never leaves a half-written image."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from livedigits.util.atomic import write_bytes
from livedigits.collect.store import NOT_A_DIGIT_LABEL, crop_to_uint8
from livedigits.draw.overlay import plot
from livedigits.engine.loop import source_slug
from livedigits.errors import OutputError
from livedigits.sinks.paths import check_output_folder, check_output_path, disk_hint
from livedigits.capture.images import to_bgr8
from livedigits.capture.opencv import quiet_log
from livedigits.types import NOT_A_DIGIT, FrameResult

#: Extensions an annotated image keeps from its original; any other is written as PNG.
KEPT_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
JPEG_QUALITY = 95


def save(result: FrameResult, path: str | os.PathLike, confidence: bool = False, hud: bool = False) -> Path:
    """Write :func:`~livedigits.draw.overlay.plot`'s picture of ``result`` to ``path`` in the format its
    extension names (.png, .jpg...) and return the path, whole or not at all (:func:`write_image`).
    Behind ``result.save(path)`` of the Python API."""
    return write_image(path, plot(result, confidence=confidence, hud=hud))


def write_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write a BGR ``image`` (or a grey ``(H, W)`` uint8 one, kept grey) in the format ``path``'s extension names (.png, .jpg, .webp, .bmp, .tif...) and
    return the path.

    Written whole or not at all: encoded in memory, written under a temporary name in the same folder
    and renamed into place, so a full disk or a crash never leaves half a picture (a file already
    there keeps its old content). :class:`OutputError` for an extension OpenCV cannot write, a folder
    that cannot be written or a failed write.
    """
    target = check_output_path(path)
    suffix = target.suffix.lower()
    if not suffix or not cv2.haveImageWriter(f"image{suffix}"):
        raise OutputError(f"cannot write image {path}: unknown extension {suffix or '(none)'!r}; "
                          "use .png or .jpg (or .webp, .bmp, .tif)")
    detail = ""
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if suffix in (".jpg", ".jpeg") else []
    try:
        with quiet_log():  # the error is said on one line below, not in OpenCV's own block
            # A grey uint8 picture (a 28x28 crop) stays grey; anything else becomes BGR.
            pixels = image if image.ndim == 2 and image.dtype == np.uint8 else to_bgr8(image)
            ok, encoded = cv2.imencode(suffix, pixels, params)
    except cv2.error as exc:  # a format for other depths (.pfm: floats only)
        ok, detail = False, f" ({' '.join(str(exc).split())})"
    if not ok:
        raise OutputError(f"cannot write image {target}: OpenCV cannot encode a colour picture as {suffix}{detail}; "
                          "use .png or .jpg")
    try:
        return write_bytes(target, encoded.tobytes())
    except OSError as exc:
        raise OutputError(f"cannot write image {target}: {exc.strerror or exc} ({disk_hint(target)})") from None


class ImageDirSink:
    """``--save-dir DIR``: each still image (an image file, each image of a folder or glob) annotated
    into ``DIR`` under its own name (``page.jpg`` -> ``DIR/page.jpg``; a second ``page.jpg`` from another
    folder becomes ``page-2.jpg``). Frames of videos, cameras and streams are not saved here (``--output``
    writes those as a video)."""

    needs_image = True
    needs_crops = False

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = check_output_folder(folder, "--save-dir")
        self.saved: list[Path] = []
        self._names: set[str] = set()

    def open(self, streams) -> None:
        pass

    def write(self, result: FrameResult, image: np.ndarray | None) -> None:
        file = result.frame.file
        if file is None or image is None:
            return
        original = Path(file)
        suffix = original.suffix.lower() if original.suffix.lower() in KEPT_EXTENSIONS else ".png"
        name, k = f"{original.stem}{suffix}", 1
        while name in self._names:
            k += 1
            name = f"{original.stem}-{k}{suffix}"
        self._names.add(name)
        path = self.folder / name
        write_image(path, image)
        self.saved.append(path)

    def close(self) -> None:
        pass


class CropSink:
    """``--save-crops DIR``: every candidate's 28x28 crop, as the classifier saw it (white ink on black),
    in a folder named by what it was read as: ``DIR/7/...png`` for a 7, ``DIR/n/...png`` for "not a
    digit". That is the layout ``livedigits collect DIR`` imports, so crops read wrongly can be moved to
    their right folder and used to fine-tune. Names: ``SOURCE-FRAME-K.png`` (``SOURCE`` the still
    image's name, or the source's label)."""

    needs_image = False
    needs_crops = True

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = check_output_folder(folder, "--save-crops")
        self.saved = 0

    def open(self, streams) -> None:
        pass

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        read = {(d.box.x, d.box.y, d.box.w, d.box.h): d.digit for d in result.detections}
        stem = source_slug(Path(result.frame.file).stem if result.frame.file else result.source)
        for k, candidate in enumerate(result.candidates):
            digit = read.get(tuple(candidate.box.as_list()), NOT_A_DIGIT)
            label = NOT_A_DIGIT_LABEL if digit == NOT_A_DIGIT else str(digit)
            folder = self.folder / label
            folder.mkdir(exist_ok=True)
            write_image(folder / f"{stem}-{result.frame.index:06d}-{k:03d}.png", crop_to_uint8(candidate.crop))
            self.saved += 1

    def close(self) -> None:
        pass

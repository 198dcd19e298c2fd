"""Images on disk: the annotated still images (``--save-dir``) and the 28x28 crops with their labels
(``--save-crops``). Each file is written under a temporary name and renamed, so a crash or a full disk
never leaves a half-written image."""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

from livedigits.collect import NOT_A_DIGIT_LABEL, crop_to_uint8
from livedigits.errors import OutputError
from livedigits.sinks.paths import check_output_folder
from livedigits.types import NOT_A_DIGIT, FrameResult

#: Extensions an annotated image keeps from its original; any other is written as PNG.
KEPT_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
JPEG_QUALITY = 95


def write_image(path: Path, image: np.ndarray) -> None:
    """Write ``image`` to ``path`` whole or not at all (temporary file, then rename)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if path.suffix.lower() in (".jpg", ".jpeg") else []
    ok, data = cv2.imencode(path.suffix.lower(), image, params)
    if not ok:
        raise OutputError(f"cannot encode {path.name} as {path.suffix}")
    temporary = path.with_name(f".{path.name}.part")
    try:
        with open(temporary, "wb") as file:
            file.write(data.tobytes())
        os.replace(temporary, path)
    except OSError as exc:
        try:
            temporary.unlink()
        except OSError:
            pass
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _slug(text: str) -> str:
    """A file-name-safe form of a source label (``rtsp://cam/1`` -> ``rtsp-cam-1``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "source"


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
        stem = _slug(Path(result.frame.file).stem if result.frame.file else result.source)
        for k, candidate in enumerate(result.candidates):
            digit = read.get(tuple(candidate.box.as_list()), NOT_A_DIGIT)
            label = NOT_A_DIGIT_LABEL if digit == NOT_A_DIGIT else str(digit)
            folder = self.folder / label
            folder.mkdir(exist_ok=True)
            write_image(folder / f"{stem}-{result.frame.index:06d}-{k:03d}.png", crop_to_uint8(candidate.crop))
            self.saved += 1

    def close(self) -> None:
        pass

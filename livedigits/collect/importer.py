"""Importing image files as samples: pages are segmented like camera frames, small images are one
digit each, and a folder laid out ``FOLDER/<label>/*.png`` brings its labels along.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from livedigits.errors import UsageError
from livedigits.capture.images import is_image_path, read_image_file
from livedigits.vision.normalize import normalize_ink
from livedigits.vision.segment import DEFAULT_CONFIG, SegmentConfig, find_candidates, to_gray
from livedigits.types import Box, Candidate
from livedigits.collect.store import FULL_SUFFIX, LABELS, SampleStore, full_cut

#: An imported image whose longer side is at most this many pixels holds one digit (a 28x28 MNIST
#: image, a 280x280 canvas drawing, a cut-out box): it is normalised whole, not searched for digits on
#: a page. Scans and photos of pages are far larger.
SINGLE_DIGIT_MAX_SIDE = 320
#: In a single-digit image on paper, ink must be this share of the way from the paper to the darkest ink.
SINGLE_INK_CONTRAST = 0.3
#: Ink must stand out from the background of a single-digit image by this many grey levels.
MIN_SINGLE_CONTRAST = 24
#: Background level (0-255, ink bright) below which a single-digit image is taken as already clean.
CLEAN_BACKGROUND = 16


def single_digit_crop(image: np.ndarray) -> np.ndarray | None:
    """The crop of an image that holds one digit (a 28x28 MNIST image, a canvas drawing, a scanned box).

    Works out the polarity from the image's border (dark ink on light paper, or white ink on black like
    MNIST), lifts the paper to zero and normalises the ink with ``normalize_ink``. None if no ink.
    """
    gray = to_gray(np.asarray(image)).astype(np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = 255.0 - gray if float(np.median(border)) > 127 else gray
    background = float(np.median(np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])))
    if float(ink.max()) - background <= MIN_SINGLE_CONTRAST:
        return None  # blank paper, or a flat field
    if background > CLEAN_BACKGROUND:
        level = background + SINGLE_INK_CONTRAST * (float(ink.max()) - background)
        ink = np.where(ink > level, ink - background, 0.0)
    crop = normalize_ink(ink)
    return crop if crop.max() > 0 else None


def list_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, by name; hidden files and full-size cuts left out."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and is_image_path(p)
                  and not p.name.startswith(".") and not p.name.endswith(FULL_SUFFIX))


def label_folders(folder: Path) -> dict[str, Path] | None:
    """``{label: subfolder}`` when ``folder`` is laid out ``<label>/*.png``; None when it has no subfolders.

    UsageError if some subfolders are labels and others are not (a mislabelled layout).
    """
    subfolders = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if not subfolders:
        return None
    bad = sorted(p.name for p in subfolders if p.name not in LABELS)
    good = {p.name: p for p in subfolders if p.name in LABELS}
    if bad and good:
        raise UsageError(f"{folder}: subfolder(s) {', '.join(bad)} are not labels; a labelled folder holds only "
                         f"0-9 and n (not a digit): rename or move them")
    return good or None


@dataclass
class ImportResult:
    images: int = 0
    samples: int = 0
    empty: list[str] = field(default_factory=list)


def import_images(paths: list[tuple[Path, str]], store: SampleStore, *, single: bool | None = None,
                  config: SegmentConfig = DEFAULT_CONFIG, limit: int | None = None, log=print) -> ImportResult:
    """Save every digit of every image with its label; ``paths`` is ``[(image path, label)]``.

    ``single``: True treats every image as one digit, False every image as a page, None decides by
    size (``SINGLE_DIGIT_MAX_SIDE``). Images are all read before anything is saved, so an unreadable
    one stops the import with nothing written.
    """
    for path, _ in paths:  # every image must decode before the first sample is written
        read_image_file(path)
    result = ImportResult()
    for index, (path, label) in enumerate(paths):
        image = read_image_file(path)
        result.images += 1
        whole = single if single is not None else max(image.shape[:2]) <= SINGLE_DIGIT_MAX_SIDE
        if whole:
            crop = single_digit_crop(image)
            found = [] if crop is None else [Candidate(Box(0, 0, image.shape[1], image.shape[0]), crop)]
        else:
            found = find_candidates(image, config)
        if not found:
            result.empty.append(str(path))
            log(f"no {'ink' if whole else 'digit'} found in {path}"
                + ("" if whole else " (if it holds one digit, add --single)"))
        for candidate in found:
            if limit is not None and result.samples >= limit:
                return result
            store.save(candidate.crop, image if whole else full_cut(image, candidate.box), label,
                       source=str(path), frame=index, box=candidate.box.as_list(), mode="import")
            result.samples += 1
    return result

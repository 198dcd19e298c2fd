"""Collect a user's own handwriting as labelled crops, for ``livedigits finetune``.

Three ways in, one folder layout out:

* the live view (``livedigits collect SOURCE --out DIR``): every crop of the frame is numbered, the user
  picks one with the arrow keys or Tab and presses its digit (or ``n``, not a digit) to save it;
* ``--auto LABEL``: no window, every crop gets LABEL (a sheet filled with one digit); a digit seen in
  many frames of a video is saved once per appearance (or every ``--every`` frames);
* importing a folder of scans: pages are segmented like camera frames, small images (a 28x28 MNIST
  image, a canvas drawing) are one digit each, and a folder laid out ``FOLDER/<label>/*.png`` is
  imported with the labels of its folders.

The layout (``DIR``)::

    DIR/manifest.jsonl          one JSON object per saved sample (see ``SampleStore.save``)
    DIR/<label>/<id>.png        28x28 uint8 gray, white ink on black: the network's input x 255
    DIR/<label>/<id>.full.png   the full-size cut from the frame around the crop's box (BGR)

``<label>`` is ``0`` to ``9``, or ``n`` for "not a digit"; ``<id>`` is a six-digit number, unique in
DIR (appending to an existing DIR continues after its highest id). Loaders read ``<id>.png`` only and
never the ``.full.png`` cuts.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from . import images
from .boxes import greedy_match, iou_matrix
from .errors import OutputError, SourceError, UsageError
from .normalize import CROP_SIZE, normalize_ink
from .segment import DEFAULT_CONFIG, SegmentConfig, crops_batch, find_candidates, to_gray
from .types import NOT_A_DIGIT, Box, Candidate

NOT_A_DIGIT_LABEL = "n"
LABELS = tuple(str(d) for d in range(10)) + (NOT_A_DIGIT_LABEL,)
MANIFEST = "manifest.jsonl"
FULL_SUFFIX = ".full.png"
ID_WIDTH = 6
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

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
#: The full-size cut extends this share of the box's longer side beyond each side of the box.
FULL_CUT_PADDING = 0.15


def label_to_class(label: str) -> int:
    """``"0"``..``"9"`` -> 0..9, ``"n"`` -> ``NOT_A_DIGIT`` (10)."""
    return NOT_A_DIGIT if label == NOT_A_DIGIT_LABEL else int(label)


def class_to_label(index: int) -> str:
    return NOT_A_DIGIT_LABEL if index == NOT_A_DIGIT else str(int(index))


def parse_label(text: str) -> str:
    """A user's label (``7``, ``n``, ``not-a-digit``) -> its folder name; UsageError otherwise."""
    value = str(text).strip().lower()
    if value in ("not-a-digit", "not_a_digit", "none", "x"):
        value = NOT_A_DIGIT_LABEL
    if value not in LABELS:
        raise UsageError(f"--auto label must be a digit 0-9 or n (not a digit), got {text!r}")
    return value


def crop_to_uint8(crop: np.ndarray) -> np.ndarray:
    """The network's (28, 28) float32 input in [0, 1] as the uint8 image saved (x 255, rounded)."""
    crop = np.asarray(crop, np.float32)
    if crop.shape != (CROP_SIZE, CROP_SIZE):
        raise ValueError(f"a crop must be (28, 28), got {crop.shape}")
    return np.round(np.clip(crop, 0.0, 1.0) * 255.0).astype(np.uint8)


def full_cut(image: np.ndarray, box: Box, padding: float = FULL_CUT_PADDING) -> np.ndarray:
    """The part of ``image`` around ``box``, padded by ``padding`` of its longer side (clipped to the image)."""
    pad = int(round(max(box.w, box.h) * padding))
    h, w = image.shape[:2]
    x0, y0 = max(0, box.x - pad), max(0, box.y - pad)
    x1, y1 = min(w, box.x2 + pad), min(h, box.y2 + pad)
    if x1 <= x0 or y1 <= y0:
        return np.ascontiguousarray(image)
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _write_png_atomic(path: Path, image: np.ndarray) -> None:
    """Encode, write to a temporary name in the same folder, then link it in place.

    ``os.link`` fails if ``path`` exists, so two writers never overwrite each other's sample; a
    crash leaves at most a stray ``.tmp`` file, never half a PNG under a sample's name.
    """
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OutputError(f"cannot encode {path.name} as PNG")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(encoded.tobytes())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the store


class SampleStore:
    """The folder of labelled samples: saves, undoes, counts.

    Every sample is two PNGs written whole and one manifest line appended in a single write, in
    that order: the manifest never names a file that is not there.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser()
        # Checked now, created at the first save: a run that saves nothing leaves no empty folder.
        if self.root.exists() and not self.root.is_dir():
            raise OutputError(f"--out {self.root} exists and is not a folder; pick a folder name")
        existing = self.root
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write the output folder {self.root}: {existing} is not a writable folder; "
                              "pick another --out or fix its permissions")
        self.manifest = self.root / MANIFEST
        self.counts = {label: 0 for label in LABELS}
        self.saved: list[dict] = []  # this session's samples, oldest first (undo pops the last)
        self._next_id = 1
        for label in LABELS:
            folder = self.root / label
            if folder.is_dir():
                for path in folder.glob("*.png"):
                    if path.name.endswith(FULL_SUFFIX):
                        continue
                    self.counts[label] += 1
                    if path.stem.isdigit():
                        self._next_id = max(self._next_id, int(path.stem) + 1)
        for record in self._read_manifest():
            sample_id = str(record.get("id", ""))
            if sample_id.isdigit():
                self._next_id = max(self._next_id, int(sample_id) + 1)

    def _read_manifest(self) -> list[dict]:
        if not self.manifest.is_file():
            return []
        records = []
        for line in self.manifest.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # finetune names a damaged line; here it must only not stop new saves
            if isinstance(record, dict):
                records.append(record)
        return records

    @property
    def session_counts(self) -> dict[str, int]:
        counts = {label: 0 for label in LABELS}
        for record in self.saved:
            counts[record["label"]] += 1
        return counts

    def save(self, crop: np.ndarray, full: np.ndarray | None, label: str, **meta) -> dict:
        """Save one sample; return its manifest record.

        Record fields: ``id``, ``label``, ``file`` and ``full`` (paths relative to DIR), then ``meta``
        (``source``, ``frame``, ``frame_time``, ``box``, ``mode``, ``guess``, ``confidence``...), and
        ``time``, when it was saved (UTC, ISO 8601).
        """
        if label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, got {label!r}")
        image = crop_to_uint8(crop)
        folder = self.root / label
        try:
            folder.mkdir(parents=True, exist_ok=True)
            while True:
                sample_id = f"{self._next_id:0{ID_WIDTH}d}"
                self._next_id += 1
                path = folder / f"{sample_id}.png"
                try:
                    _write_png_atomic(path, image)
                    break
                except FileExistsError:
                    continue  # another collect wrote this id meanwhile: take the next
            full_name = None
            if full is not None and full.size:
                full_path = folder / f"{sample_id}{FULL_SUFFIX}"
                _write_png_atomic(full_path, full)
                full_name = f"{label}/{full_path.name}"
            record = {"id": sample_id, "label": label, "file": f"{label}/{path.name}", "full": full_name}
            record.update({k: v for k, v in meta.items() if v is not None})
            record["time"] = _utc_now()
            with open(self.manifest, "ab", buffering=0) as fh:
                fh.write((json.dumps(record) + "\n").encode("utf-8"))
        except OSError as exc:
            raise OutputError(f"cannot save a sample in {folder}: {exc.strerror or exc}") from None
        self.saved.append(record)
        self.counts[label] += 1
        return record

    def undo(self) -> dict | None:
        """Delete the last sample this session saved (both files and its manifest line); return it."""
        if not self.saved:
            return None
        record = self.saved.pop()
        for name in (record["file"], record.get("full")):
            if name:
                (self.root / name).unlink(missing_ok=True)
        kept = [line for line in self.manifest.read_text(encoding="utf-8").splitlines()
                if line.strip() and _line_id(line) != record["id"]]
        tmp = self.manifest.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
        tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        os.replace(tmp, self.manifest)
        self.counts[record["label"]] -= 1
        return record

    def summary(self) -> str:
        session = self.session_counts
        total = sum(session.values())
        parts = [f"{label}: {n}" for label, n in session.items() if n]
        on_disk = sum(self.counts.values())
        return (f"saved {total} sample(s)" + (f" ({', '.join(parts)})" if parts else "")
                + f" in {self.root}; {on_disk} in the folder now")


def _line_id(line: str) -> str | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return str(record.get("id")) if isinstance(record, dict) else None


# --------------------------------------------------------------------------- single images


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


def read_image(path: Path) -> np.ndarray:
    """Read an image file as BGR uint8; SourceError naming it when it cannot be read."""
    try:
        return images.read_image(path)
    except images.UnreadableImage as exc:
        raise SourceError(f"cannot read image {path}: {exc}") from None


def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
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
        read_image(path)
    result = ImportResult()
    for index, (path, label) in enumerate(paths):
        image = read_image(path)
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


# --------------------------------------------------------------------------- --auto on video


class AppearanceTracker:
    """Which crops of a frame are new sightings of a physical digit, so a video of a page gives one
    sample per written digit instead of one per frame.

    A box continues a track when it overlaps the track's last box by ``min_iou`` and the track was seen
    within ``max_missed`` frames. A track is due when it is new, and with ``every`` > 0 again each
    ``every`` frames while it stays in view.
    """

    def __init__(self, every: int = 0, min_iou: float = 0.3, max_missed: int = 5):
        if every < 0:
            raise UsageError(f"--every must be 0 (once per appearance) or a number of frames, got {every}")
        self.every = every
        self.min_iou = min_iou
        self.max_missed = max_missed
        self._tracks: list[dict] = []  # box, last_seen, last_saved

    def due(self, boxes: list[Box], frame_index: int) -> list[int]:
        """Indices of ``boxes`` to save at ``frame_index``; updates the tracks."""
        self._tracks = [t for t in self._tracks if frame_index - t["last_seen"] <= self.max_missed]
        matched: dict[int, dict] = {}
        if boxes and self._tracks:
            iou = iou_matrix(boxes, [t["box"] for t in self._tracks])
            matched = {bi: self._tracks[ti] for bi, ti in greedy_match(iou, self.min_iou)}
        due = []
        for i, box in enumerate(boxes):
            track = matched.get(i)
            if track is None:
                track = {"box": box, "last_seen": frame_index, "last_saved": frame_index}
                self._tracks.append(track)
                due.append(i)
                continue
            track["box"], track["last_seen"] = box, frame_index
            if self.every and frame_index - track["last_saved"] >= self.every:
                track["last_saved"] = frame_index
                due.append(i)
        return due


def collect_auto(source, store: SampleStore, label: str, *, every: int = 0, limit: int | None = None,
                 max_frames: int | None = None, config: SegmentConfig = DEFAULT_CONFIG, log=print) -> int:
    """Label every crop of a started ``Source`` with ``label``, saving each physical digit once per
    appearance (see ``AppearanceTracker``). Returns the number of samples saved. Ctrl-C stops it
    cleanly: what was saved stays saved."""
    from .progress import bar

    tracker = AppearanceTracker(every=every)
    saved = frames = 0
    total = getattr(source, "total_frames", None)
    if total is not None and max_frames is not None:
        total = min(total, max_frames)
    progress = bar(total, desc=f"collecting {label}")
    try:
        while limit is None or saved < limit:
            frame = source.read(timeout=1.0)
            if frame is None:
                if source.state == "ended":
                    break
                continue
            frames += 1
            if source.kind == "images":
                tracker = AppearanceTracker(every=every)  # a glob of pages: each image is a new page
            candidates = find_candidates(frame.image, config)
            for i in tracker.due([c.box for c in candidates], frame.index):
                if limit is not None and saved >= limit:
                    break
                candidate = candidates[i]
                store.save(candidate.crop, full_cut(frame.image, candidate.box), label, source=source.name,
                           frame=int(frame.index), frame_time=round(float(frame.time), 3),
                           box=candidate.box.as_list(), mode="auto")
                saved += 1
            progress.update(1)
            progress.set_postfix(saved=saved, refresh=False)
            if max_frames is not None and frames >= max_frames:
                break
    except KeyboardInterrupt:
        log("interrupted: the samples saved so far are kept")
    finally:
        progress.close()
    log(f"read {frames} frame(s)")
    return saved


# --------------------------------------------------------------------------- the live view

# cv2.waitKeyEx codes of the arrow keys: GTK (Linux), Qt, Windows, macOS (Cocoa).
KEYS_LEFT = frozenset({65361, 0x1000012, 0x250000, 63234, 81})
KEYS_UP = frozenset({65362, 0x1000013, 0x260000, 63232, 82})
KEYS_RIGHT = frozenset({65363, 0x1000014, 0x270000, 63235, 83})
KEYS_DOWN = frozenset({65364, 0x1000015, 0x280000, 63233, 84})
KEY_TAB, KEY_SHIFT_TAB = 9, frozenset({65056, 0x1000002, 353})
KEY_ESC, KEY_SPACE = 27, 32
KEYS_ENTER = frozenset({10, 13, 65293, 0x1000004, 0x1000005})
GTK_KEYPAD_DIGITS = {0xFFB0 + d: str(d) for d in range(10)}
HELP_LINE = "0-9 label  n not-a-digit  arrows/Tab select  u undo  space pause  q quit"

ACTION_QUIT = "quit"
STRIP_CELL = 64  # a 28x28 crop is shown at this size in the strip


class CollectSession:
    """The state of the live view: the current frame, its crops and the model's guesses, the selection.

    ``update`` takes a new frame (ignored while paused), ``handle_key`` a ``cv2.waitKeyEx`` code,
    ``draw`` returns the picture to show. No window here: tests drive it with key codes.
    """

    def __init__(self, store: SampleStore, source_name: str = "", step_images: bool = False):
        self.store = store
        self.source_name = source_name
        self.step_images = step_images  # stills: stay on an image until space asks for the next
        self.paused = False
        self.frame = None
        self.candidates: list[Candidate] = []
        self.guesses: list[tuple[int, float]] = []
        self.selected = 0
        self.message = HELP_LINE

    def update(self, frame, candidates: list[Candidate], probabilities: np.ndarray | None = None) -> bool:
        """Show a new frame with its crops (and per-crop probabilities); False if paused (frame ignored)."""
        if self.paused:
            return False
        previous = self.candidates[self.selected].box if self.candidates else None
        self.frame = frame
        self.candidates = list(candidates)
        if probabilities is not None and len(probabilities) == len(candidates):
            self.guesses = [(int(np.argmax(p)), float(np.max(p))) for p in probabilities]
        else:
            self.guesses = []
        # Keep the selection on the same written digit as the camera shakes.
        if previous is not None and self.candidates:
            self.selected = int(np.argmax([previous.iou(c.box) - 1e-6 * i for i, c in enumerate(self.candidates)]))
        else:
            self.selected = 0
        if self.step_images:
            self.paused = True
        return True

    def handle_key(self, key: int) -> str | None:
        """Act on one key code; ``"quit"`` when the user asked to stop."""
        if key is None or key < 0:
            return None
        if key in KEYS_LEFT or key in KEYS_UP or key in KEY_SHIFT_TAB:
            self._move(-1)
            return None
        if key in KEYS_RIGHT or key in KEYS_DOWN or key == KEY_TAB:
            self._move(+1)
            return None
        char = GTK_KEYPAD_DIGITS.get(key, "")
        if not char and key < 0x1000000 and not key & 0xFF00 and key & 0xFF:
            # Plain keys come as their code, with modifier flags above bit 16 on some backends; GTK's
            # (0xFFxx) and Qt's (0x01000000 + n) special keys must not pass for letters or digits.
            char = chr(key & 0xFF).lower()
        if key == KEY_ESC or char == "q":
            return ACTION_QUIT
        if key == KEY_SPACE or key in KEYS_ENTER:
            self.paused = not self.paused
            self.message = "paused: label the crops, space to go on" if self.paused else "running"
        elif char in LABELS:
            self.label_selected(char)
        elif char == "u":
            record = self.store.undo()
            self.message = f"undone: {record['file']}" if record else "nothing to undo"
        return None

    def _move(self, step: int) -> None:
        if self.candidates:
            self.selected = (self.selected + step) % len(self.candidates)
            self.message = f"selected #{self.selected + 1}"

    def label_selected(self, label: str) -> dict | None:
        """Save the selected crop under ``label``; the record, or None when there is no crop."""
        if not self.candidates or self.frame is None:
            self.message = "no crop to label in this frame"
            return None
        candidate = self.candidates[self.selected]
        guess = self.guesses[self.selected] if self.guesses else None
        record = self.store.save(
            candidate.crop, full_cut(self.frame.image, candidate.box), label, source=self.source_name,
            frame=int(self.frame.index), frame_time=round(float(self.frame.time), 3), box=candidate.box.as_list(),
            mode="key", guess=class_to_label(guess[0]) if guess else None,
            confidence=round(guess[1], 4) if guess else None,
        )
        self.message = f"saved #{self.selected + 1} as {label}: {record['file']}"
        if len(self.candidates) > 1:  # on to the next crop, so a line of digits is labelled key after key
            self.selected = (self.selected + 1) % len(self.candidates)
        return record

    def draw(self) -> np.ndarray:
        """The frame with numbered boxes (the selected one thick, yellow), a strip of the 28x28 crops
        with the model's guesses, the counts saved per label and the last message. BGR uint8."""
        if self.frame is None:
            view = np.zeros((240, 320, 3), np.uint8)
        else:
            view = self.frame.image.copy()
        scale = max(0.4, view.shape[0] / 900)
        for i, candidate in enumerate(self.candidates):
            b = candidate.box
            chosen = i == self.selected
            colour = (0, 255, 255) if chosen else (0, 200, 0)
            cv2.rectangle(view, (b.x, b.y), (b.x2, b.y2), colour, 3 if chosen else 1)
            text = f"{i + 1}"
            if self.guesses:
                text += f":{class_to_label(self.guesses[i][0])}"
            cv2.putText(view, text, (b.x, max(12, b.y - 4)), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
        width = view.shape[1]
        per_row = max(1, width // STRIP_CELL)
        rows = max(1, -(-len(self.candidates) // per_row))
        strip = np.zeros((rows * STRIP_CELL, width, 3), np.uint8)
        for i, candidate in enumerate(self.candidates):
            r, c = divmod(i, per_row)
            cell = cv2.resize(crop_to_uint8(candidate.crop), (STRIP_CELL - 4, STRIP_CELL - 4), interpolation=cv2.INTER_NEAREST)
            y, x = r * STRIP_CELL + 2, c * STRIP_CELL + 2
            strip[y: y + STRIP_CELL - 4, x: x + STRIP_CELL - 4] = cell[..., None]
            if i == self.selected:
                cv2.rectangle(strip, (x - 2, y - 2), (x + STRIP_CELL - 3, y + STRIP_CELL - 3), (0, 255, 255), 2)
            text = f"{i + 1}" + (f":{class_to_label(self.guesses[i][0])}" if self.guesses else "")
            cv2.putText(strip, text, (x + 2, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 200, 255), 1, cv2.LINE_AA)
        counts = "  ".join(f"{label}:{n}" for label, n in self.store.counts.items())
        header = np.zeros((44, width, 3), np.uint8)
        cv2.putText(header, f"saved  {counts}", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        status = ("PAUSED  " if self.paused else "") + self.message
        cv2.putText(header, status, (6, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 220, 255), 1, cv2.LINE_AA)
        return np.vstack([header, view, strip])


def collect_window(source, store: SampleStore, classifier, window, *, config: SegmentConfig = DEFAULT_CONFIG) -> None:
    """The window loop: read, segment, classify, show, act on keys; a thin layer over ``CollectSession``."""
    session = CollectSession(store, source.name, step_images=source.kind == "images")
    try:
        ended = False
        while True:
            if not session.paused and not ended:
                frame = source.read(timeout=0.05)
                if frame is None and source.state == "ended":
                    ended = True
                    session.message = "end of the source: label what is shown, q to quit"
                elif frame is not None:
                    candidates = find_candidates(frame.image, config)
                    probabilities = classifier.predict(crops_batch(candidates)) if candidates else None
                    session.update(frame, candidates, probabilities)
            cv2.imshow(window.title, session.draw())
            if session.handle_key(cv2.waitKeyEx(30 if session.paused or ended else 1)) == ACTION_QUIT:
                break
            try:
                if cv2.getWindowProperty(window.title, cv2.WND_PROP_VISIBLE) < 1:
                    break
            except cv2.error:
                break
    finally:
        window.close()


# --------------------------------------------------------------------------- the command


def collect_command(source: str | None, out: str, *, auto: str | None = None, every: int = 0,
                    limit: int | None = None, single: bool = False, max_frames: int | None = None,
                    backend: str = "auto", model: str | None = None, log=None) -> dict:
    """``livedigits collect``: pick the mode from SOURCE and the options, run it, return a summary."""
    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    label = parse_label(auto) if auto is not None else None
    if limit is not None and limit < 1:
        raise UsageError(f"--max must be at least 1, got {limit}")
    if every < 0:
        raise UsageError(f"--every must be 0 (once per appearance) or a number of frames, got {every}")
    started = time.monotonic()
    path = Path(source).expanduser() if source is not None else None
    if path is not None and path.is_dir():
        labelled = label_folders(path)
        if labelled is not None:
            if label is not None:
                raise UsageError(f"{path} is laid out in label folders ({', '.join(sorted(labelled))}); "
                                 "drop --auto to import with their labels, or point at one of them")
            items = [(p, name) for name, folder in sorted(labelled.items()) for p in _list_images(folder)]
        elif label is not None:
            items = [(p, label) for p in _list_images(path)]
        else:
            items = None  # a folder of pages to label by hand in the live view
        if items is not None:
            if not items:
                raise SourceError(f"{path}: no images ({', '.join(IMAGE_EXTENSIONS)}) to import")
            store = SampleStore(out)
            result = import_images(items, store, single=True if single else None, limit=limit, log=say)
            return {"mode": "import", "images": result.images, "saved": store.session_counts,
                    "text": store.summary(), "seconds": round(time.monotonic() - started, 2)}
    if path is not None and label is not None and path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
        store = SampleStore(out)
        result = import_images([(path, label)], store, single=True if single else None, limit=limit, log=say)
        return {"mode": "import", "images": result.images, "saved": store.session_counts,
                "text": store.summary(), "seconds": round(time.monotonic() - started, 2)}

    from .sources import open_source

    store = SampleStore(out)
    window = None
    if label is None:
        from .sinks import WindowSink

        try:  # the display is checked before the camera is opened
            window = WindowSink("livedigits collect")
        except OutputError as exc:
            reason = str(exc).split("; use --headless")[0]
            raise OutputError(f"{reason}; without a window, label a sheet of one digit with --auto LABEL") from None
    try:
        src = open_source(source)
    except BaseException:
        if window is not None:
            window.close()
        raise
    try:
        if window is None:
            src.start()
            collect_auto(src, store, label, every=every, limit=limit, max_frames=max_frames, log=say)
            mode = "auto"
        else:
            from .classify import load_classifier

            classifier = load_classifier(backend, model)
            src.start()
            collect_window(src, store, classifier, window)
            mode = "window"
    finally:
        src.stop()
        if window is not None:
            window.close()
    return {"mode": mode, "saved": store.session_counts, "text": store.summary(),
            "seconds": round(time.monotonic() - started, 2)}

"""The folder of labelled samples: labels, the saved 28x28 PNGs and full-size cuts, the manifest.

``SampleStore`` saves, undoes and counts samples in the layout ``livedigits.collect`` describes; the
helpers turn a crop into what is saved (``crop_to_uint8``, ``full_cut``) and a user's label into its
folder name (``parse_label``).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from livedigits.util.atomic import write_bytes
from livedigits.errors import OutputError, UsageError
from livedigits.vision.normalize import CROP_SIZE
from livedigits.types import NOT_A_DIGIT, Box

NOT_A_DIGIT_LABEL = "n"
#: Signs of arithmetic, by folder name (a name, since / ( ) * cannot name folders everywhere), for
#: ``livedigits train-signs --collected``; the digit model's fine-tuning reads them as "not a digit".
SIGN_LABELS = {"plus": "+", "minus": "-", "times": "x", "slash": "/", "lparen": "(", "rparen": ")", "equals": "="}
#: The key (live view) or text (``--auto``) of each sign label. ``x`` stays "not a digit", as it always was.
SIGN_KEYS = {"+": "plus", "-": "minus", "*": "times", "/": "slash", "(": "lparen", ")": "rparen", "=": "equals"}
LABELS = tuple(str(d) for d in range(10)) + (NOT_A_DIGIT_LABEL,) + tuple(SIGN_LABELS)
MANIFEST = "manifest.jsonl"
FULL_SUFFIX = ".full.png"
ID_WIDTH = 6
#: The full-size cut extends this share of the box's longer side beyond each side of the box.
FULL_CUT_PADDING = 0.15


def label_to_class(label: str) -> int:
    """``"0"``..``"9"`` -> 0..9; ``"n"`` and the sign labels -> ``NOT_A_DIGIT`` (10): to the digit model a
    sign is not a digit."""
    return NOT_A_DIGIT if label == NOT_A_DIGIT_LABEL or label in SIGN_LABELS else int(label)


def class_to_label(index: int) -> str:
    return NOT_A_DIGIT_LABEL if index == NOT_A_DIGIT else str(int(index))


def parse_label(text: str) -> str:
    """A user's label (``7``, ``n``, ``not-a-digit``, ``+`` or ``plus``) -> its folder name; UsageError otherwise."""
    value = str(text).strip().lower()
    if value in ("not-a-digit", "not_a_digit", "none", "x"):
        value = NOT_A_DIGIT_LABEL
    value = SIGN_KEYS.get(value, value)
    if value not in LABELS:
        raise UsageError(f"--auto label must be a digit 0-9 or n (not a digit), or a sign ({' '.join(SIGN_KEYS)} or "
                         f"{', '.join(SIGN_LABELS)}), got {text!r}")
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
    write_bytes(path, encoded.tobytes(), exclusive=True)


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
        write_bytes(self.manifest, "".join(line + "\n" for line in kept).encode("utf-8"))
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

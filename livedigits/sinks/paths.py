"""Output paths checked before a run starts: a bad path fails with one line, not after the first frame."""

from __future__ import annotations

import os
from pathlib import Path

from livedigits.errors import OutputError, UsageError

#: Codec per video file extension: both are in every OpenCV build (mp4v via
#: FFmpeg, MJPG by OpenCV's own AVI writer), and both read back everywhere.
FOURCC_BY_EXTENSION = {".mp4": "mp4v", ".avi": "MJPG"}


def check_output_path(path: str | os.PathLike) -> Path:
    """Check that a file can be written at ``path``; return it as a Path.

    Raises :class:`OutputError` naming the folder when it is missing, not a
    folder or not writable, or when ``path`` is itself a folder. Nothing is
    created, so this can run before a long job starts.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputError(f"{target} is a folder; give a file name inside it, e.g. {target / 'out'}{target.suffix}")
    folder = target.parent
    if not folder.exists():
        raise OutputError(f"output folder {folder} does not exist; create it first (mkdir -p {folder})")
    if not folder.is_dir():
        raise OutputError(f"output folder {folder} is not a folder; pick another output path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {folder} is not writable; pick another folder or fix its permissions")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"{target} exists and is not writable; pick another file name")
    return target


def check_video_path(path: str | os.PathLike) -> Path:
    """:func:`check_output_path` for a video: also its extension must be one we can write."""
    suffix = Path(path).suffix.lower()
    if suffix not in FOURCC_BY_EXTENSION:
        known = " or ".join(FOURCC_BY_EXTENSION)
        # The option's value is wrong, not the disk: a usage error (exit 2), found before anything opens.
        raise UsageError(f"cannot write video {path}: unknown extension {suffix or '(none)'!r}; use {known}")
    return check_output_path(path)


def disk_hint(path: Path) -> str:
    """Why a write failed, as far as the folder tells: a full disk or something else."""
    try:
        free = os.statvfs(path.parent if path.parent != Path("") else Path(".")).f_bavail
    except (OSError, AttributeError):
        return "a write failed"
    return "the disk is full" if free == 0 else "a write failed: disk full or a file size limit?"


def check_output_folder(path: str | os.PathLike, what: str) -> Path:
    """Check that ``path`` is a folder files can be written in, creating it (and its parents) if it
    does not exist; return it. ``what`` names the option in messages (``--save-dir``)."""
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{what} {folder} is a file, not a folder; give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {what} folder {folder}: {exc.strerror or exc}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{what} folder {folder} is not writable; pick another folder or fix its permissions")
    return folder

"""Output paths checked before a run starts: a bad path fails with one line, not after the first frame."""

from __future__ import annotations

import os
from pathlib import Path

from livedigits.errors import OutputError, UsageError

#: Encoder (FFmpeg's name, through PyAV) and pixel format per video file extension: H.264 in .mp4 and VP9
#: in .webm play in every browser; Motion JPEG in .avi (every frame a JPEG) is kept for editing tools.
VIDEO_CODECS = {".mp4": ("libx264", "yuv420p"), ".webm": ("libvpx-vp9", "yuv420p"), ".avi": ("mjpeg", "yuvj420p")}


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
    if suffix not in VIDEO_CODECS:
        known = ", ".join(list(VIDEO_CODECS)[:-1]) + " or " + list(VIDEO_CODECS)[-1]
        # A name the program cannot write is a bad argument (exit 2), like an unknown option.
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


def _same(a: Path, b: Path) -> bool:
    """The same file or folder: by ``os.path.samefile`` where both exist (links and hard links
    included), else by the resolved path (an output not written yet)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_outputs_apart(sources, files, folders) -> None:
    """Refuse, before any work, outputs that would destroy an input or each other, with one line naming
    both paths (:class:`~livedigits.errors.UsageError`, exit 2):

    - an output file (``files``: ``(option, path)`` pairs, e.g. ``[("--output", "in.avi")]``) that is an
      input file;
    - an output folder (``folders``, pairs too: ``--save-dir``, ``--save-crops``) that is an input folder or the
      folder of an input image (annotated copies would replace the originals under their own names);
    - two outputs on one path.

    ``sources`` are the run's source specs; ``None`` values are outputs not asked for.
    """
    from livedigits.capture.sources import input_paths

    in_files, in_folders = [], []
    for spec in sources:
        found_files, found_folders = input_paths(spec)
        in_files += [Path(f) for f in found_files]
        in_folders += [Path(f) for f in found_folders]
    outputs = [(option, Path(value).expanduser()) for option, value in files if value]
    out_folders = [(option, Path(value).expanduser()) for option, value in folders if value]
    for option, path in outputs:
        for source in in_files:
            if _same(path, source):
                raise UsageError(f"{option} {path} is the input {source}: it would be overwritten; "
                                 "write the output to another file")
    for option, path in out_folders:
        for folder in in_folders:
            if _same(path, folder):
                raise UsageError(f"{option} {path} is the folder of the input {folder}: the originals would be "
                                 "replaced; give another folder")
    everything = outputs + out_folders
    for k, (option, path) in enumerate(everything):
        for other_option, other in everything[k + 1:]:
            if _same(path, other):
                raise UsageError(f"{option} {path} and {other_option} {other} are one path: the two outputs would "
                                 "be written into each other; give each its own")

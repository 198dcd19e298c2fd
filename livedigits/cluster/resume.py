"""``--resume``: what an existing JSON Lines file already holds, so a run killed at 70% restarts at 70%.

A still image is done when a record names its ``file``. A video is done up to the highest ``frame`` its
source has: it is read again from its start (so its tracker sees what it saw the first time) and only
the frames after that one are written; one whose records reach the frame count of its header is not
read at all. A last line cut short by the kill is cut off first, so the file stays whole JSON Lines.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from livedigits.errors import OutputError, UsageError


@dataclass
class Done:
    """What the records of one file say was read: ``files`` (still images) and, per source label without
    a file (a video), ``frames``: how many of its frames are written (the highest index + 1)."""

    files: set[str] = field(default_factory=set)
    frames: dict[str, int] = field(default_factory=dict)
    records: int = 0

    def has_file(self, path: str) -> bool:
        return path in self.files

    def frames_of(self, label: str) -> int:
        return self.frames.get(label, 0)

    def video_complete(self, label: str, path: str) -> bool:
        """Whether the records reach the frame count ``path``'s header announces (a header that gives none
        counts as not complete: the video is read again and only new frames are written)."""
        import cv2

        capture = cv2.VideoCapture(path)
        try:
            total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if capture.isOpened() else 0
        finally:
            capture.release()
        return total > 0 and self.frames_of(label) >= total


def read_done(path: str | os.PathLike) -> Done:
    """Read the JSON Lines file at ``path`` (a missing or empty one: nothing done), cutting off a last line
    that was not finished. A line that is not a record is an error: that file is not this program's."""
    done = Done()
    name = os.fspath(path)
    if not os.path.exists(name):
        return done
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise OutputError(f"--resume cannot read {name}: {exc.strerror or exc}") from None
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        try:
            os.truncate(name, complete)  # the half line the kill left: its file will be read again
        except OSError as exc:
            raise OutputError(f"--resume cannot cut the unfinished last line of {name}: {exc.strerror or exc}") from None
    for number, line in enumerate(data[:complete].splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            source, frame = record["source"], int(record["frame"])
        except (ValueError, KeyError, TypeError):
            raise UsageError(f"--resume: line {number} of {name} is not a record of `livedigits run --jsonl`; "
                             "give the JSON Lines file that run wrote, or a new file name") from None
        done.records += 1
        if record.get("file") is not None:
            done.files.add(str(record["file"]))
        else:
            done.frames[source] = max(done.frames.get(source, 0), frame + 1)
    return done

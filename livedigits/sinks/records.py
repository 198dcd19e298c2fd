"""Per-frame records: JSON Lines (:class:`JsonlSink`, a file or standard output) and CSV (:class:`CsvSink`,
one row per number read). The record's fields are described in one place, the README's "The JSON Lines record"."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import numpy as np

from livedigits.errors import OutputError
from livedigits.engine.keys import ACTION_PIPE_CLOSED
from livedigits.sinks.paths import check_output_path, disk_hint
from livedigits.types import FrameResult

#: The path that means standard output (``--jsonl -``).
STDOUT = "-"

#: The columns of ``--csv``: one row per number per frame.
CSV_COLUMNS = ("source", "frame", "time", "file", "number", "confidence", "x", "y", "w", "h")


class JsonlSink:
    """Writes one JSON object per :class:`FrameResult`, one line each (the record is described in the README).

    Each line goes to the file in a single unbuffered write, so it reaches the
    OS at once and a Ctrl-C or kill between writes leaves only complete lines
    (a buffered text file could flush half of a long line when its buffer
    fills). A write that fails part-way (a full disk, a file size limit) is
    undone: the file is cut back to its last complete line before the
    :class:`OutputError` is raised.
    """

    needs_image = False
    needs_crops = False

    def __init__(self, path: str | os.PathLike, append: bool = False) -> None:
        self.to_stdout = str(path) == STDOUT
        self.path = Path("<stdout>") if self.to_stdout else check_output_path(path)
        try:
            # Standard output is written through its descriptor, unbuffered like a file, so each record
            # reaches a pipe whole and at once. ``append`` (``--resume``) keeps the lines already there.
            self._file = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0) if self.to_stdout \
                else open(self.path, "ab" if append else "wb", buffering=0)
        except OSError as exc:
            raise OutputError(f"cannot open {self.path} for writing: {exc.strerror}") from exc
        self.lines_written = 0
        # Bytes up to the end of the last complete line.
        self._complete_size = 0 if self.to_stdout else os.fstat(self._file.fileno()).st_size

    def open(self, streams) -> None:
        pass

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> str | None:
        """Append ``result.to_record()`` as one line. On standard output, a reader that went away
        (``| head``) ends the run quietly: the action ``"pipe closed"``."""
        if self._file is None:
            raise ValueError(f"JsonlSink {self.path} is closed")
        data = (json.dumps(result.to_record()) + "\n").encode("utf-8")
        try:
            # One write() call per line: a regular file takes it whole, and a
            # signal is only handled by Python after the call returns. The loop
            # only matters for pipes and full disks.
            view = memoryview(data)
            while view:
                written = self._file.write(view)
                view = view[written:]
        except BrokenPipeError:
            if self.to_stdout:
                return ACTION_PIPE_CLOSED  # the reader went away (| head): end quietly
            raise
        except OSError as exc:
            if self.to_stdout:
                raise OutputError(f"cannot write the records to standard output: {exc.strerror or exc}") from exc
            kept = self._cut_back()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}; {kept}") from exc
        self.lines_written += 1
        self._complete_size += len(data)
        return None

    def _cut_back(self) -> str:
        """Truncate the file to its last complete line; say what it holds now."""
        try:
            os.ftruncate(self._file.fileno(), self._complete_size)
        except OSError as exc:
            return f"it could not be cut back to its last complete line ({exc.strerror or exc})"
        return f"it keeps its {self.lines_written} complete line{'s' if self.lines_written != 1 else ''}"

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except BrokenPipeError:
                pass

    def __enter__(self) -> "JsonlSink":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class CsvSink:
    """``--csv FILE``: one row per number read, per frame, with the columns of ``CSV_COLUMNS`` (the
    number's box in pixels of its frame; ``file`` empty unless the frame came from a still image).

    Rows are written whole, like the JSON Lines: each in one unbuffered ``write``, and a write that fails
    part-way (a full disk, a file size limit) is undone — the file is cut back to its last whole row
    before the :class:`OutputError`, which says how many rows it keeps. A frame with no number writes no
    row.
    """

    needs_image = False
    needs_crops = False

    def __init__(self, path: str | os.PathLike, append: bool = False) -> None:
        self.path = check_output_path(path)
        # ``append`` (``--resume``): the rows already there stay, and the header is written only to a new file.
        header = not (append and self.path.is_file() and self.path.stat().st_size > 0)
        try:
            self._file = open(self.path, "ab" if append else "wb", buffering=0)
        except OSError as exc:
            raise OutputError(f"cannot open {self.path} for writing: {exc.strerror}") from exc
        self.rows_written = 0
        # Bytes up to the end of the last whole row (with ``append``, what was there already).
        self._complete_size = os.fstat(self._file.fileno()).st_size
        if header:
            self._write_line(CSV_COLUMNS)

    def open(self, streams) -> None:
        pass

    def _write_line(self, row) -> None:
        text = io.StringIO()
        csv.writer(text).writerow(row)
        data = text.getvalue().encode("utf-8")
        try:
            view = memoryview(data)
            while view:  # a regular file takes it in one call; the loop is for short writes
                view = view[self._file.write(view):]
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc} ({disk_hint(self.path)}); "
                              f"{self._cut_back()}") from exc
        self._complete_size += len(data)

    def _cut_back(self) -> str:
        """Truncate the file to its last whole row; say what it holds now."""
        try:
            os.ftruncate(self._file.fileno(), self._complete_size)
        except OSError as exc:
            return f"it could not be cut back to its last whole row ({exc.strerror or exc})"
        if self._complete_size == 0:
            return "it is empty"
        return f"it keeps the header and {self.rows_written} whole row{'s' if self.rows_written != 1 else ''}"

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        if self._file is None:
            raise ValueError(f"CsvSink {self.path} is closed")
        frame = result.frame
        for number in result.numbers:
            box = number.box
            self._write_line((result.source, frame.index, round(float(frame.time), 4), frame.file or "",
                              number.text, round(float(number.confidence), 4), box.x, box.y, box.w, box.h))
            self.rows_written += 1

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()

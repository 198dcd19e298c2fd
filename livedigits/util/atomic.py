"""Files written whole or not at all: the one way the package replaces a file (a model, a sample, an
image, the MNIST cache, a manifest).

The new content goes to a hidden temporary file in the same folder (same file system, so the rename is
atomic), keeping the name's extension (writers such as Keras choose the format by it), and is then
renamed over the target. A crash, a full disk or an exception leaves the old file as it was and no
temporary behind (at most a hidden ``.tmp`` after a hard kill).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable


def temporary_beside(path: Path) -> Path:
    """A hidden name beside ``path``, unique to this process and thread, ending in ``path``'s extension."""
    return path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp{path.suffix}")


def replace_with(path: str | os.PathLike, write: Callable[[Path], object], *, exclusive: bool = False) -> Path:
    """Make ``path`` hold what ``write(temporary_path)`` writes, whole or not at all; return ``path``.

    ``exclusive``: never replace an existing file (the temporary is linked in, and ``FileExistsError``
    raised if ``path`` is there), so two writers never overwrite each other's file.
    """
    target = Path(path)
    temporary = temporary_beside(target)
    try:
        write(temporary)
        if exclusive:
            os.link(temporary, target)
        else:
            os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def write_bytes(path: str | os.PathLike, data: bytes, *, exclusive: bool = False) -> Path:
    """:func:`replace_with` for bytes already in memory."""
    return replace_with(path, lambda temporary: temporary.write_bytes(data), exclusive=exclusive)

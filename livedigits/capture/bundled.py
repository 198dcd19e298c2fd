"""The bundled samples (``samples/demo.mp4``, ``samples/page.png``...), found wherever livedigits runs.

An installed wheel carries them inside the package as ``livedigits/samples`` (``pyproject.toml`` maps
the checkout's ``samples/`` there, as it maps ``models/``); a source checkout has them in ``samples/``
beside the package. So the commands of the README (``livedigits run samples/page.png``) work from any
folder: a path ``samples/NAME`` that does not exist where it is given is read from the bundled
samples when they have ``NAME``. A file of your own at that path, where there is one, wins.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGED = Path(__file__).resolve().parents[1] / "samples"
_CHECKOUT = Path(__file__).resolve().parents[2] / "samples"
SAMPLES_DIR = _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT
#: How the README and the messages name the bundled samples.
PREFIX = "samples"


def sample_path(name: str) -> Path:
    """The bundled sample ``name`` (``"demo.mp4"``)."""
    return SAMPLES_DIR / name


def resolve(path: str) -> str:
    """``path`` itself, or for a ``samples/NAME`` that is not there, the bundled sample of that name."""
    if os.path.exists(path):
        return path
    parts = Path(path).parts
    if len(parts) == 2 and parts[0] == PREFIX and (SAMPLES_DIR / parts[1]).is_file():
        return str(SAMPLES_DIR / parts[1])
    return path

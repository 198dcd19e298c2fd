"""What the core install leaves out, and the one line that says how to add it.

``pip install livedigits`` brings OpenCV, NumPy, LiteRT, Pillow and the web server: enough for ``run``,
``serve``, ``bench``, ``collect`` and the Python API on the LiteRT backend. TensorFlow (``train``,
``evaluate`` of a ``.keras`` model, ``export``, ``finetune``, the Keras backend and the GPU) comes with the
``train`` extra, matplotlib (the PNG plots) with ``plot`` (``train`` includes it), and Ray (``run --ray``,
reading on a cluster) with ``ray``. Each check here
looks for the package without importing it, so asking costs nothing.
"""

from __future__ import annotations

import importlib.util

from livedigits.errors import LivedigitsError

TRAIN_INSTALL = "pip install 'livedigits[train]'"
GPU_INSTALL = "pip install 'livedigits[gpu]'"
PLOT_INSTALL = "pip install 'livedigits[plot]'"
RAY_INSTALL = "pip install 'livedigits[ray]'"


class MissingExtraError(LivedigitsError):
    """A command needs a part that this install leaves out (TensorFlow, matplotlib)."""

    exit_code = 1


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module set to None in sys.modules
        return False


def have_tensorflow() -> bool:
    return installed("tensorflow") and installed("keras")


def require_tensorflow(what: str, install: str = TRAIN_INSTALL) -> None:
    """Raise the one-line hint unless TensorFlow (with Keras) is installed; ``what`` names the need."""
    if not have_tensorflow():
        raise MissingExtraError(f"{what} needs TensorFlow, which the core install leaves out; add it with: {install}")


def require_ray(what: str = "--ray") -> None:
    """Raise the one-line hint unless Ray (``run --ray``, ``bench --ray-nodes``) is installed."""
    if not installed("ray"):
        raise MissingExtraError(f"{what} needs Ray, which the core install leaves out; add it with: {RAY_INSTALL}")


def require_matplotlib(what: str) -> None:
    if not installed("matplotlib"):
        raise MissingExtraError(f"{what} needs matplotlib, which the core install leaves out; add it with: {PLOT_INSTALL}")

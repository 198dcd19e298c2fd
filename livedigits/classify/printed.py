"""The printed-digit model: how likely is a crop read as a digit to be type rather than handwriting?

A perceptron of 784 inputs, 48 hidden units and one output (``livedigits.train.printed`` trains it on
digits of printed fonts against the handwriting training pool, both cut the way a camera frame cuts
them), shipped as ``models/printed.npz``. It runs in NumPy through OpenCV's single-threaded product:
40 crops cost well under a millisecond. ``reading.words`` weighs it over a run of digits, not one crop.
Where the file is missing (a models folder of one's own, ``$LIVEDIGITS_MODELS``), nothing is marked printed.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from livedigits.errors import ModelError

#: The shipped file, beside the digit models.
PRINTED_MODEL_FILE = "printed.npz"


def default_printed_model_path() -> Path:
    from livedigits.classify.modelfile import MODELS_DIR, MODELS_ENV

    return Path(os.environ.get(MODELS_ENV) or MODELS_DIR) / PRINTED_MODEL_FILE


class PrintedModel:
    """``probability(crops)``: per (28, 28) crop, the probability that it is a printed digit."""

    def __init__(self, path: str | os.PathLike) -> None:
        try:
            with np.load(path) as weights:
                self.w1 = np.ascontiguousarray(weights["w1"], np.float32)
                self.b1 = np.asarray(weights["b1"], np.float32)
                self.w2 = np.ascontiguousarray(weights["w2"], np.float32).reshape(-1, 1)
                self.b2 = float(weights["b2"])
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{path}: not a printed-digit model ({exc}); rebuild it with "
                             "python -m livedigits.train.printed") from None

    def probability(self, crops: np.ndarray) -> np.ndarray:
        crops = np.asarray(crops, np.float32)
        if not len(crops):
            return np.zeros(0, np.float32)
        import cv2

        x = np.ascontiguousarray(crops.reshape(len(crops), -1))
        hidden = np.maximum(cv2.gemm(x, self.w1, 1.0, None, 0.0) + self.b1, 0.0)
        logits = cv2.gemm(hidden, self.w2, 1.0, None, 0.0).ravel() + self.b2
        return 1.0 / (1.0 + np.exp(-logits))


@lru_cache(maxsize=4)
def _cached(path: str) -> PrintedModel | None:
    return PrintedModel(path) if Path(path).is_file() else None


def default_printed_model() -> PrintedModel | None:
    """The shipped model, loaded once a process; None when the models folder holds none."""
    return _cached(str(default_printed_model_path()))

"""The printed-digit model: how likely is a crop read as a digit to be type rather than handwriting?

A perceptron of 784 inputs, 48 hidden units and one output (``livedigits.train.printed`` trains it on
digits of printed fonts against the handwriting training pool, both cut the way a camera frame cuts
them), shipped as ``models/printed.npz``. It runs in NumPy on one thread (``einsum``, no BLAS): 30 crops
in well under a millisecond. (OpenCV's ``cv2.gemm`` and NumPy's BLAS product took 10-80 ms right after a
frame's segmentation on two busy cores, their thread pools waiting for cores.) ``reading.words`` weighs it over a run of digits, not one crop.
Where the file is missing (a models folder of one's own, ``$LIVEDIGITS_MODELS``), nothing is marked printed.

The letter model (``models/letters.npz``, trained by ``livedigits.train.letters``) is the same perceptron, saying
how likely a crop the digit model read as a digit is a letter (an O, S, I, Z, B of a word): ``reading.words``
consults it only for a run or a form's field already in doubt. Missing, words are judged without it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from livedigits.errors import ModelError

#: The shipped files, beside the digit models.
PRINTED_MODEL_FILE = "printed.npz"
LETTER_MODEL_FILE = "letters.npz"


def default_printed_model_path(name: str = PRINTED_MODEL_FILE) -> Path:
    from livedigits.classify.modelfile import MODELS_DIR, MODELS_ENV

    return Path(os.environ.get(MODELS_ENV) or MODELS_DIR) / name


class PrintedModel:
    """``probability(crops)``: per (28, 28) crop, the probability that it is a printed digit (or, loaded from
    ``letters.npz``, a letter)."""

    def __init__(self, path: str | os.PathLike) -> None:
        try:
            with np.load(path) as weights:
                # Weights too small to matter are zeros: subnormal floats slow every product they are in.
                self.w1 = np.ascontiguousarray(np.where(np.abs(weights["w1"]) < 1e-20, 0.0, weights["w1"]), np.float32)
                self.b1 = np.asarray(weights["b1"], np.float32)
                self.w2 = np.ascontiguousarray(weights["w2"], np.float32).reshape(-1, 1)
                self.b2 = float(weights["b2"])
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{path}: not a perceptron of livedigits ({exc}); rebuild it with "
                             "python -m livedigits.train.printed (or .letters)") from None

    def probability(self, crops: np.ndarray) -> np.ndarray:
        crops = np.asarray(crops, np.float32)
        if not len(crops):
            return np.zeros(0, np.float32)
        x = crops.reshape(len(crops), -1)
        # einsum's own loop, not BLAS: a multi-threaded BLAS product of 32 crops took 50-80 ms on two busy
        # cores (its threads wait for cores the segmentation and the other sources hold), this takes 0.3 ms.
        hidden = np.maximum(np.einsum("nk,kh->nh", x, self.w1) + self.b1, 0.0)
        logits = (hidden @ self.w2).ravel() + self.b2
        return 1.0 / (1.0 + np.exp(-logits))


@lru_cache(maxsize=4)
def _cached(path: str) -> PrintedModel | None:
    return PrintedModel(path) if Path(path).is_file() else None


def default_printed_model() -> PrintedModel | None:
    """The shipped model, loaded once a process; None when the models folder holds none."""
    return _cached(str(default_printed_model_path()))


def default_letter_model() -> PrintedModel | None:
    """The shipped letter model (``letters.npz``), loaded once a process; None when the models folder holds none."""
    return _cached(str(default_printed_model_path(LETTER_MODEL_FILE)))

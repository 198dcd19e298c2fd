"""The sign classifier: + - x / ( ) = beside "a digit" and "something else", for the arithmetic reader.

It runs beside the digit model, never instead of it: the digit model's outputs stay as they are, and
this one is asked only about the crops that may be signs (those the digit model calls "not a digit",
the small and flat pieces the segmentation hands over, and the digits read as 1, 4 or 7, which a
slash, a parenthesis, a + or an x can pass for). It is small (two convolutions, about 130k weights),
trained by ``livedigits train-signs`` (``livedigits.train.signs``), and runs in NumPy: a frame's few
sign candidates cost a fraction of a millisecond, with no second LiteRT or TensorFlow model to load.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from livedigits.errors import ModelError

#: The classes, in the model's output order. ``x`` is any multiplication sign (x, ×, *).
SIGN_CLASSES = ("+", "-", "x", "/", "(", ")", "=", "digit", "other")
#: The shipped file, beside the digit models.
SIGN_MODEL_FILE = "signs.npz"


def default_sign_model_path() -> Path:
    from livedigits.classify.modelfile import MODELS_DIR, MODELS_ENV

    return Path(os.environ.get(MODELS_ENV) or MODELS_DIR) / SIGN_MODEL_FILE


@lru_cache(maxsize=4)
def _cached(path: str) -> "SignClassifier":
    return SignClassifier(path)


def default_sign_classifier() -> "SignClassifier":
    """The shipped sign classifier, loaded once a process (it holds no state between calls)."""
    return _cached(str(default_sign_model_path()))


def _conv_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A 'valid' 3x3 convolution and ReLU: x (N, H, W, C), w (3, 3, C, K)."""
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # N, H-2, W-2, C, 3, 3
    out = np.tensordot(windows, w, axes=([4, 5, 3], [0, 1, 2])) + b
    return np.maximum(out, 0.0, out=out)


def _pool(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling, odd edges dropped (as Keras' MaxPooling2D with 'valid' padding)."""
    n, h, w, c = x.shape
    x = x[:, : h // 2 * 2, : w // 2 * 2]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class SignClassifier:
    """``predict(crops)``: (N, 28, 28) or (N, 28, 28, 1) float32 crops -> (N, len(SIGN_CLASSES)) probabilities."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_sign_model_path()
        try:
            with np.load(self.path, allow_pickle=False) as z:
                self.classes = tuple(str(c) for c in z["classes"])
                self.weights = {k: z[k].astype(np.float32) for k in z.files if k != "classes"}
        except FileNotFoundError:
            raise ModelError(f"{self.path}: sign model not found; train it with `livedigits train-signs`, or turn "
                             f"arithmetic off ([reading] arithmetic = false)") from None
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{self.path}: not a sign model ({exc}); train it again with `livedigits train-signs`") from None
        if self.classes != SIGN_CLASSES:
            raise ModelError(f"{self.path}: its classes {self.classes} are not {SIGN_CLASSES}; train it again")

    def predict(self, crops: np.ndarray) -> np.ndarray:
        x = np.asarray(crops, np.float32)
        if x.ndim == 3:
            x = x[..., None]
        if len(x) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        wt = self.weights
        x = _pool(_conv_relu(x, wt["conv1_w"], wt["conv1_b"]))
        x = _pool(_conv_relu(x, wt["conv2_w"], wt["conv2_b"]))
        x = x.reshape(len(x), -1)
        x = np.maximum(x @ wt["dense1_w"] + wt["dense1_b"], 0.0)
        logits = x @ wt["dense2_w"] + wt["dense2_b"]
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

"""The sign classifier: + - x / ( ) = beside "a digit" and "something else", for the arithmetic reader.

It runs beside the digit model, never instead of it: the digit model's outputs stay as they are, and
this one is asked only about the crops that may be signs (those the digit model calls "not a digit",
the small and flat pieces the segmentation hands over, and the digits read as 1, 4 or 7, which a
slash, a parenthesis, a + or an x can pass for). It is small (two convolutions, about 127k weights),
trained by ``livedigits train-signs`` (``livedigits.train.signs``), which writes it twice: ``signs.tflite``,
run by LiteRT on one thread (40 crops in about 2 ms), and ``signs.npz``, the same weights (and the class
names) for NumPy where LiteRT is not installed. One thread, because the batches are small and the digit
model and the segmentation already use the cores: NumPy's multi-threaded BLAS took 20 to 90 ms for the
same 40 crops on two busy cores, against 2 ms on one.
"""

from __future__ import annotations

import os
import threading
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
    """The shipped sign classifier, loaded once a process and shared by every recognizer in it (the live
    pipeline and the server's uploads alike): its LiteRT interpreters are used under a lock."""
    return _cached(str(default_sign_model_path()))


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # OpenCV's single-threaded product: these matrices are too small for BLAS threads to pay.
    import cv2

    return cv2.gemm(np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32), 1.0, None, 0.0)


def _conv_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A 'valid' 3x3 convolution and ReLU: x (N, H, W, C), w (3, 3, C, K). The nine shifted views side by
    side along the channels (in the kernel's (row, column, channel) order) make one matrix product."""
    n, h, wd, c = x.shape
    patches = np.concatenate([x[:, i: i + h - 2, j: j + wd - 2, :] for i in range(3) for j in range(3)], axis=-1)
    out = _matmul(patches.reshape(-1, 9 * c), w.reshape(9 * c, -1)) + b
    return np.maximum(out, 0.0, out=out).reshape(n, h - 2, wd - 2, -1)


def _pool(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling, odd edges dropped (as Keras' MaxPooling2D with 'valid' padding)."""
    n, h, w, c = x.shape
    x = x[:, : h // 2 * 2, : w // 2 * 2]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


#: The LiteRT sign model runs batches padded up to a multiple of this many crops (1-4 crops run as they are).
SIZE_STEP = 4


class SignClassifier:
    """``predict(crops)``: (N, 28, 28) or (N, 28, 28, 1) float32 crops -> (N, len(SIGN_CLASSES)) probabilities.

    ``path``: the ``.npz``; the ``.tflite`` beside it runs the model when LiteRT is installed (``use_lite``)."""

    def __init__(self, path: str | os.PathLike | None = None, use_lite: bool = True):
        self.path = Path(path) if path else default_sign_model_path()
        try:
            with np.load(self.path, allow_pickle=False) as z:
                self.classes = tuple(str(c) for c in z["classes"])
                self.weights = {k: z[k].astype(np.float32) for k in z.files if k != "classes"}
        except FileNotFoundError:
            raise ModelError(f"{self.path}: sign model not found; train it with `livedigits train-signs`, or read "
                             f"numbers only with --no-arithmetic ([reading] arithmetic = false)") from None
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{self.path}: not a sign model ({exc}); train it again with `livedigits train-signs`") from None
        if self.classes != SIGN_CLASSES:
            raise ModelError(f"{self.path}: its classes {self.classes} are not {SIGN_CLASSES}; train it again")
        self._lite = None
        # A LiteRT interpreter is not safe to invoke from two threads at once (the shared instance is).
        self._lite_lock = threading.Lock()
        lite_path = self.path.with_suffix(".tflite")
        if use_lite and lite_path.is_file():
            from livedigits.classify.backends import lite_available

            if lite_available():
                self._lite = (lite_path.read_bytes(), {})
        #: "lite" or "numpy": what runs the model.
        self.runtime = "numpy" if self._lite is None else "lite"

    def _lite_predict(self, x: np.ndarray) -> np.ndarray:
        with self._lite_lock:
            return self._lite_predict_locked(x)

    def _lite_predict_locked(self, x: np.ndarray) -> np.ndarray:
        from ai_edge_litert.interpreter import Interpreter

        content, interpreters = self._lite
        # Sizes in steps of 4, each allocated once: a frame's dozen crops run as 12, not padded to 16 (the
        # padding costs as much as crops do; each crop's probabilities are the same at any batch size).
        size = -(-len(x) // SIZE_STEP) * SIZE_STEP if len(x) > SIZE_STEP else len(x)
        interp = interpreters.get(size)
        if interp is None:
            import contextlib

            from livedigits.classify import backends

            # LiteRT's "Created ... delegate" line comes once a process, with its first interpreter.
            quiet = backends.native_stderr_silenced() if not backends._LITE_STARTED else contextlib.nullcontext()
            with quiet:
                interp = Interpreter(model_content=content, num_threads=1)
                interp.resize_tensor_input(interp.get_input_details()[0]["index"], (size, 28, 28, 1), strict=False)
                interp.allocate_tensors()
            backends._lite_started()
            interpreters[size] = interp
        if size != len(x):
            x = np.concatenate([x, np.zeros((size - len(x), 28, 28, 1), np.float32)])
        interp.set_tensor(interp.get_input_details()[0]["index"], np.ascontiguousarray(x))
        interp.invoke()
        return interp.get_tensor(interp.get_output_details()[0]["index"])[: len(x)].copy()

    def predict(self, crops: np.ndarray) -> np.ndarray:
        x = np.asarray(crops, np.float32)
        if x.ndim == 3:
            x = x[..., None]
        if len(x) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        if self._lite is not None:
            return self._lite_predict(x)[: len(crops)]
        wt = self.weights
        x = _pool(_conv_relu(x, wt["conv1_w"], wt["conv1_b"]))
        x = _pool(_conv_relu(x, wt["conv2_w"], wt["conv2_b"]))
        x = x.reshape(len(x), -1)
        x = np.maximum(_matmul(x, wt["dense1_w"]) + wt["dense1_b"], 0.0)
        logits = _matmul(x, wt["dense2_w"]) + wt["dense2_b"]
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

"""Classifier backends: the one place that runs a model on crops, with LiteRT or TensorFlow (the model
files themselves, their paths, checks and loading, are ``modelfile``'s).

Every backend takes a float32 batch ``(N, 28, 28, 1)`` in [0, 1] and returns
float32 probabilities ``(N, C)``, C = 10 digits, or 11 with "not a digit" last.
One call per frame; no ``model.predict()`` here (it costs ~100 ms a call).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from livedigits.errors import ModelError, UsageError
from livedigits.util.logs import native_stderr_silenced
from livedigits.classify.modelfile import (BACKENDS, DEVICES, EXPECTED_SHAPES, check_keras_file, check_model_shapes, default_model_path,
                        load_model, quiet_tensorflow)

# LiteRT needs a fixed batch size per allocated interpreter; batches are padded up to the next of these
# sizes, so no interpreter is re-allocated per frame. Steps of 8 keep the padding small where pages
# usually are (a page of 23 crops pays for 24, not 32: measured 25% of classify time saved). On video,
# reuse leaves 8-20 crops a frame to read (``reading.reuse``): steps of 4 there (12 crops run as 12, not
# 16: 27% less time). A crop's probabilities are the same in any of these batches.
LITE_BUCKETS = (1, 2, 4, 8, 12, 16, 20, 24, 32, 40, 48, 56, 64, 96, 128)


class Classifier(Protocol):
    name: str
    device: str
    num_classes: int

    def predict(self, batch: np.ndarray) -> np.ndarray: ...


def lite_available() -> bool:
    return importlib.util.find_spec("ai_edge_litert") is not None


def gpu_devices() -> list[str]:
    quiet_tensorflow("a GPU (--device gpu)")
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def _check_batch(batch: np.ndarray) -> np.ndarray:
    batch = np.asarray(batch, dtype=np.float32)
    if batch.ndim == 3:
        batch = batch[..., None]
    if batch.ndim != 4 or batch.shape[1:] != (28, 28, 1):
        raise ValueError(f"expected a batch of shape (N, 28, 28, 1), got {batch.shape}")
    return batch


class KerasClassifier:
    """The Keras model through a ``tf.function`` with a fixed input signature.

    The signature has a free batch dimension, so a frame with 3 crops and one with 40 use the same
    traced graph: no retracing, no padding.
    """

    def __init__(self, model_path: str | os.PathLike | None = None, device: str = "auto"):
        from livedigits.util.extras import GPU_INSTALL, require_tensorflow

        if device not in DEVICES:
            raise UsageError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
        if device == "gpu":
            require_tensorflow("--device gpu", GPU_INSTALL)
        path = check_keras_file(model_path if model_path else default_model_path("keras"))
        quiet_tensorflow("the Keras backend (--backend keras, a .keras model, --device gpu)")
        import tensorflow as tf

        gpus = gpu_devices()
        if device == "gpu" and not gpus:
            raise UsageError("--device gpu: TensorFlow sees no GPU on this machine; use --device cpu or auto")
        use_gpu = bool(gpus) and device in ("auto", "gpu")
        self.device = "gpu" if use_gpu else "cpu"
        self.name = "keras"
        self.path = path
        device_name = "/GPU:0" if use_gpu else "/CPU:0"
        with tf.device(device_name):
            self.model = load_model(path)
        self.num_classes = int(self.model.output_shape[-1])
        model = self.model

        @tf.function(input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)], reduce_retracing=True)
        def forward(x):
            with tf.device(device_name):
                return model(x, training=False)

        self._forward = forward
        self._forward(tf.zeros((1, 28, 28, 1), tf.float32))  # trace once, now, not in the first frame

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = _check_batch(batch)
        if len(batch) == 0:
            return np.zeros((0, self.num_classes), np.float32)
        return self._forward(batch).numpy()


_LITE_STARTED = False


def _lite_started() -> None:
    global _LITE_STARTED
    _LITE_STARTED = True


class LiteClassifier:
    """A LiteRT (``.tflite``) model, float32 or full-integer int8, through ``ai_edge_litert``."""

    def __init__(self, model_path: str | os.PathLike | None = None, int8: bool = False, num_threads: int | None = None):
        if not lite_available():
            raise UsageError("the LiteRT backend needs ai-edge-litert: pip install ai-edge-litert, or use --backend keras")
        from ai_edge_litert.interpreter import Interpreter

        kind = "lite-int8" if int8 else "lite"
        path = Path(model_path) if model_path else default_model_path(kind)
        if not path.is_file():
            raise ModelError(
                f"{path}: LiteRT model not found; create it with `livedigits export` or use --backend keras "
                f"(a .tflite model with {EXPECTED_SHAPES})"
            )
        self.path = path
        self.name = kind
        self.device = "cpu"
        self._content = path.read_bytes()
        self._threads = num_threads or min(2, os.cpu_count() or 1)
        self._interpreter_class = Interpreter
        self._interpreters: dict[int, object] = {}
        first = self._interpreter(1)  # also validates the file
        inp = first.get_input_details()[0]
        out = first.get_output_details()[0]
        check_model_shapes(tuple(inp["shape"]), tuple(out["shape"]), str(path))
        self.num_classes = int(out["shape"][-1])
        self._in_quant = inp["quantization"] if inp["dtype"] != np.float32 else None
        self._out_quant = out["quantization"] if out["dtype"] != np.float32 else None
        self._in_dtype = inp["dtype"]

    def _interpreter(self, size: int):
        interp = self._interpreters.get(size)
        if interp is None:
            try:
                # LiteRT prints "Created TensorFlow Lite XNNPACK delegate" once a process, with the first
                # interpreter: only that one is made with stderr silenced (the silence is process-wide).
                quiet = native_stderr_silenced() if not _LITE_STARTED else contextlib.nullcontext()
                with quiet:
                    interp = self._interpreter_class(model_content=self._content, num_threads=self._threads)
                    index = interp.get_input_details()[0]["index"]
                    interp.resize_tensor_input(index, (size, 28, 28, 1), strict=False)
                    interp.allocate_tensors()
                _lite_started()
            except (ValueError, RuntimeError) as exc:
                raise ModelError(
                    f"{self.path}: not a valid LiteRT model ({str(exc).splitlines()[0][:200]}); the file is damaged, "
                    f"cut short or not a .tflite model (expected {EXPECTED_SHAPES})"
                ) from None
            self._interpreters[size] = interp
        return interp

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = _check_batch(batch)
        n = len(batch)
        if n == 0:
            return np.zeros((0, self.num_classes), np.float32)
        outputs = []
        # Batches above the largest bucket go through in pieces of that size.
        for start in range(0, n, LITE_BUCKETS[-1]):
            part = batch[start: start + LITE_BUCKETS[-1]]
            size = next(b for b in LITE_BUCKETS if b >= len(part))
            if size != len(part):
                part = np.concatenate([part, np.zeros((size - len(part), 28, 28, 1), np.float32)])
            if self._in_quant is not None:
                scale, zero = self._in_quant
                part = np.clip(np.round(part / scale + zero), -128, 127).astype(self._in_dtype)
            interp = self._interpreter(size)
            interp.set_tensor(interp.get_input_details()[0]["index"], part)
            interp.invoke()
            out = interp.get_tensor(interp.get_output_details()[0]["index"])
            if self._out_quant is not None:
                scale, zero = self._out_quant
                out = (out.astype(np.float32) - zero) * scale
            outputs.append(out[: min(len(batch) - start, LITE_BUCKETS[-1])].astype(np.float32))
        return np.concatenate(outputs)


def load_classifier(backend: str = "auto", model_path: str | os.PathLike | None = None, device: str = "auto") -> Classifier:
    """Pick and load a backend.

    ``auto``: the Keras model on the GPU when ``device`` asks for one; otherwise the fastest LiteRT model
    that is there (int8, then float32: the int8 model reads MNIST as well as the float one and classifies
    a page about three times faster on a CPU); otherwise Keras. ``model_path`` overrides the file of the
    chosen backend. TensorFlow is imported only when the Keras backend is chosen.
    """
    if backend not in BACKENDS:
        raise UsageError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if device not in DEVICES:
        raise UsageError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
    if backend in ("lite", "lite-int8") and device == "gpu":
        raise UsageError("--device gpu runs the Keras backend only; use --backend keras (or auto)")
    if backend == "auto":
        if model_path is not None:
            backend = "keras" if str(model_path).endswith(".keras") else "lite"
        elif device == "gpu":
            backend = "keras"
        elif lite_available() and default_model_path("lite-int8").is_file():
            backend = "lite-int8"
        elif lite_available() and default_model_path("lite").is_file():
            backend = "lite"
        else:
            backend = "keras"
    return LOADERS[backend](model_path, device)


#: How each backend of ``BACKENDS`` is loaded: ``(model_path or None, device) -> Classifier``. A new
#: backend is a class above, its entry here and its model file in ``modelfile.MODEL_FILES`` (which names
#: the ``--backend`` choices).
LOADERS = {
    "keras": lambda model_path, device: KerasClassifier(model_path, device=device),
    "lite": lambda model_path, device: LiteClassifier(model_path, int8=False),
    "lite-int8": lambda model_path, device: LiteClassifier(model_path, int8=True),
}

"""Model files: where the shipped ones are, what every one must look like, and loading a ``.keras`` file.

This is all that inference needs to know about a model, and nothing of how one is trained: the
classifier backends import it, and so do training, evaluation and export. It imports no NumPy and no
TensorFlow at module import; ``load_model`` and ``quiet_tensorflow`` import TensorFlow when called.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from livedigits.errors import ModelError
from livedigits.util.extras import require_tensorflow
from livedigits.util.logs import native_stderr_off

INPUT_SHAPE = (28, 28, 1)
#: What every model file must be, said in each error about one (a user holding the wrong file learns
#: what the right one is).
EXPECTED_SHAPES = "input (N, 28, 28, 1) float32 and output (N, 10) or (N, 11) probabilities"

# An installed wheel carries the shipped models inside the package (pyproject maps models/ there);
# a source checkout or an editable install has them in models/ beside the package.
_PACKAGED_MODELS = Path(__file__).resolve().parents[1] / "models"
_CHECKOUT_MODELS = Path(__file__).resolve().parents[2] / "models"
MODELS_DIR = _PACKAGED_MODELS if _PACKAGED_MODELS.is_dir() else _CHECKOUT_MODELS
#: Environment variable naming another folder of model files, used instead of ``MODELS_DIR``.
MODELS_ENV = "LIVEDIGITS_MODELS"
MODEL_STEM = "livedigits"
#: The model file of each kind (each classifier backend has one), as ``livedigits export`` names them.
MODEL_FILES = {"keras": f"{MODEL_STEM}.keras", "lite": f"{MODEL_STEM}.tflite", "lite-int8": f"{MODEL_STEM}_int8.tflite"}
#: What ``--backend`` takes: ``auto`` or a kind of model file, each read by its classifier in
#: :mod:`livedigits.classify.backends` (here, not there, so the command line's --help loads no NumPy).
BACKENDS = ("auto", *MODEL_FILES)
#: What ``--device`` takes.
DEVICES = ("auto", "cpu", "gpu")


def default_model_path(kind: str = "keras") -> Path:
    """The shipped model file of ``kind`` (a key of ``MODEL_FILES``), in ``$LIVEDIGITS_MODELS`` if set."""
    override = os.environ.get(MODELS_ENV)
    base = Path(override) if override else MODELS_DIR
    return base / MODEL_FILES[kind]


def quiet_tensorflow(what: str = "the Keras model") -> None:
    """Check TensorFlow is installed (one-line hint naming ``what`` needs it otherwise), and keep its C++
    start-up lines quiet."""
    require_tensorflow(what)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    native_stderr_off()


def check_keras_file(path: str | os.PathLike) -> Path:
    """The checks of a ``.keras`` file that need no TensorFlow: it exists, is not empty, is a whole zip.

    Run before TensorFlow is imported, so a wrong path fails at once with one line (not after seconds
    of TensorFlow start-up and its log). Keras itself reports a cut-short file as "File not found".
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError(
            f"{p}: model file not found; train one with `livedigits train` or pass --model PATH "
            f"(a .keras model with {EXPECTED_SHAPES})"
        )
    if p.stat().st_size == 0:
        raise ModelError(f"{p}: model file is empty (expected a .keras model with {EXPECTED_SHAPES})")
    if not zipfile.is_zipfile(p):
        raise ModelError(
            f"{p}: cannot load as a Keras model: not a complete zip archive, as a .keras file is (damaged, cut "
            f"short, or another kind of file); expected a .keras model with {EXPECTED_SHAPES}"
        )
    return p


def check_model_shapes(input_shape: tuple, output_shape: tuple, origin: str) -> None:
    """ModelError naming ``origin`` unless the shapes are a crop batch in and 10 or 11 probabilities out."""
    if tuple(input_shape[1:]) != INPUT_SHAPE or len(output_shape) != 2 or output_shape[-1] not in (10, 11):
        raise ModelError(
            f"{origin}: model takes {input_shape} and returns {output_shape}; expected {EXPECTED_SHAPES}"
        )


def load_model(path: str | os.PathLike):
    """Load a ``.keras`` model and check its input and output shapes; ModelError otherwise."""
    p = check_keras_file(path)
    quiet_tensorflow()
    import keras

    try:
        model = keras.saving.load_model(p, compile=False)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ModelError(
            f"{p}: cannot load as a Keras model ({first[:200]}); the file is damaged or not a .keras model "
            f"(expected {EXPECTED_SHAPES})"
        ) from None
    check_model_shapes(tuple(model.input_shape), tuple(model.output_shape), str(p))
    return model

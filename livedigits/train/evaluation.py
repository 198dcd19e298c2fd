"""Scoring a classifier: accuracy, per-class precision and recall, the confusion matrix, on MNIST test and
on the validation sets of writers outside MNIST.

Every function takes ``predict``, a callable from a float32 batch ``(N, 28, 28, 1)`` to probabilities, so
the same scores serve a Keras model in training, a LiteRT file after export and any backend of
``livedigits evaluate``. NumPy only; no TensorFlow is imported here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from livedigits.errors import UsageError
from livedigits.types import NOT_A_DIGIT


def predict_probabilities(predict, x: np.ndarray, batch: int = 1000) -> np.ndarray:
    """Run ``predict`` (a batch -> probabilities callable) over ``x`` in chunks."""
    return np.concatenate([np.asarray(predict(x[i: i + batch])) for i in range(0, len(x), batch)])


def scores(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, per-class precision/recall and the confusion matrix.

    With an 11-class model, a digit predicted as "not a digit" counts as an error.
    """
    predicted = probabilities.argmax(axis=1)
    n_cls = probabilities.shape[1]
    confusion = np.zeros((10, n_cls), np.int64)
    np.add.at(confusion, (labels.astype(np.int64), predicted), 1)
    per_class = {}
    for d in range(10):
        tp = confusion[d, d]
        predicted_d = confusion[:, d].sum()
        per_class[str(d)] = {
            "precision": round(float(tp / predicted_d) if predicted_d else 0.0, 5),
            "recall": round(float(tp / confusion[d].sum()) if confusion[d].sum() else 0.0, 5),
            "support": int(confusion[d].sum()),
        }
    return {
        "accuracy": round(float((predicted == labels).mean()), 5),
        "samples": int(len(labels)),
        "rejected_as_not_digit": int((predicted == NOT_A_DIGIT).sum()) if n_cls == 11 else 0,
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def evaluate_sets(predict, sets: dict, batch: int = 1000) -> dict:
    """``scores`` for each ``name -> (uint8 images (N, 28, 28), labels)`` set with ``predict`` (batch -> probabilities)."""
    out = {}
    for name, (images, labels) in sets.items():
        x = images.astype(np.float32)[..., None] / 255.0
        out[name] = scores(predict_probabilities(predict, x, batch=batch), np.asarray(labels))
    return out


def evaluate_model(model, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """``scores`` of a Keras model (called directly, in inference mode) on uint8 test images."""
    x = x_test.astype(np.float32)[..., None] / 255.0
    probabilities = predict_probabilities(lambda b: model(b, training=False), x)
    return scores(probabilities, y_test)


def load_validation_sets(seed: int, usps: str | None, limit: int | None, log=print) -> dict:
    """The non-MNIST validation sets (``writers.validation_sets``), with ``--usps`` checked first and
    their sizes logged in one line."""
    from livedigits.train.writers import validation_sets

    if usps and not Path(usps).is_file():
        raise UsageError(f"--usps {usps}: no such file (expected usps_16x16.npz)")
    sets = validation_sets(seed=seed, usps=usps, limit=limit)
    log("non-MNIST validation: " + ", ".join(f"{k} {len(v[1])}" for k, v in sets.items()))
    return sets

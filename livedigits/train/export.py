"""Exporting a trained ``.keras`` model for serving and for the fast backends: a SavedModel in TF
Serving's layout (versions written whole, then renamed into place), LiteRT float32, and full-integer
int8 calibrated on crops like the live ones; each file is scored on MNIST test before it is reported.

Used by ``livedigits export`` and ``livedigits finetune --export``. TensorFlow is imported inside
``export``.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from livedigits.util.atomic import write_bytes
from livedigits.train.augment import AugmentConfig, augment_batch
from livedigits.train.marks import negatives
from livedigits.classify.backends import LiteClassifier
from livedigits.train.evaluation import evaluate_model, evaluate_sets, load_validation_sets, predict_probabilities, scores
from livedigits.classify.modelfile import load_model, quiet_tensorflow


def _quietly(step):
    """Run a converter step without its dump of every captured tensor on stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        return step()


def representative_crops(count: int = 500, seed: int = 0, data=None, writers: bool = True) -> np.ndarray:
    """Crops like the live ones (camera-style digits, ``writers``: some non-MNIST ones too, and
    non-digit marks) to calibrate int8 ranges."""
    from livedigits.train.data import load_mnist

    (x_train, _), _ = data or load_mnist()
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x_train), size=min(count, len(x_train)), replace=False)
    digits = augment_batch(x_train[picks], rng, AugmentConfig())
    marks = negatives(max(1, count // 10), rng)
    parts = [digits, marks]
    if writers:
        from livedigits.train.writers import training_pool

        pool, _, _ = training_pool(seed=seed, scale=0.005)
        parts.append(augment_batch(pool[rng.permutation(len(pool))[: max(1, count // 5)]], rng, AugmentConfig()))
    return np.concatenate(parts)[..., None].astype(np.float32)


def next_version(base: Path) -> int:
    """The next TF Serving version number under ``base``: one above the highest numbered folder, or 1."""
    numbers = [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()] if base.is_dir() else []
    return max(numbers, default=0) + 1


def write_next_version(base: Path, write) -> Path:
    """Have ``write(folder)`` fill a hidden temporary folder beside the versions, then rename it to the next
    free version number, ``base/N``: a TF Serving watching ``base`` sees a version whole or not at all, and
    the versions it serves are never touched. A failed ``write`` leaves nothing behind."""
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=base))  # TF Serving ignores names that are not numbers
    try:
        shutil.rmtree(tmp)  # the writer creates the folder itself (Keras's export insists)
        write(tmp)
        while True:
            target = base / str(next_version(base))
            try:
                os.rename(tmp, target)  # atomic on one file system; fails if another export took the number
                return target
            except OSError:
                if not target.exists():
                    raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def export(model_path: str | os.PathLike, out_dir: str | os.PathLike, name: str = "livedigits", data=None, log=print,
           writers: bool = True, usps: str | None = None) -> dict:
    """Write a SavedModel (TF Serving layout: the next free version, ``out/NAME/1/``, then ``2/``...,
    written whole then renamed into place), a float32 ``.tflite`` and a full-integer int8 ``.tflite``
    (int8 input and output, calibrated on representative crops), then measure the MNIST test accuracy
    of each. Returns ``{file: accuracy}`` and the paths; with ``writers``, also each file's accuracy on
    the non-MNIST validation sets (``livedigits.train.writers.validation_sets``).
    """
    quiet_tensorflow()
    import tensorflow as tf

    from livedigits.train.data import load_mnist

    model = load_model(model_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = data or load_mnist(log=log)
    (_, _), (x_test, y_test) = data

    saved = write_next_version(out / name, lambda tmp: _quietly(lambda: model.export(str(tmp), format="tf_saved_model", verbose=False)))
    log(f"SavedModel version {saved.name} written: {saved}")

    float_path = out / f"{name}.tflite"
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    write_bytes(float_path, _quietly(converter.convert))

    calibration = representative_crops(data=data, writers=writers)

    def representative():
        for i in range(0, len(calibration), 10):
            yield [calibration[i: i + 10]]

    int8_path = out / f"{name}_int8.tflite"
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    write_bytes(int8_path, _quietly(converter.convert))

    x = x_test.astype(np.float32)[..., None] / 255.0
    results = {"keras": evaluate_model(model, x_test, y_test)["accuracy"]}
    saved_model = tf.saved_model.load(str(saved))
    serve = saved_model.signatures["serving_default"]
    key = list(serve.structured_outputs)[0]
    probs = predict_probabilities(lambda b: serve(tf.constant(b))[key].numpy(), x)
    results["saved_model"] = scores(probs, y_test)["accuracy"]
    sets = load_validation_sets(0, usps, limit=None, log=log) if writers else {}
    validation = {}
    if sets:
        validation["keras"] = {k: v["accuracy"] for k, v in evaluate_sets(lambda b: model(b, training=False), sets).items()}
    for label, path, int8 in (("tflite", float_path, False), ("tflite_int8", int8_path, True)):
        lite = LiteClassifier(path, int8=int8)
        results[label] = scores(predict_probabilities(lite.predict, x, batch=128), y_test)["accuracy"]
        if sets:
            validation[label] = {k: v["accuracy"] for k, v in evaluate_sets(lite.predict, sets, batch=128).items()}
    return {
        "accuracy": results,
        "validation": validation,
        "saved_model": str(saved),
        "tflite": str(float_path),
        "tflite_int8": str(int8_path),
        "bytes": {"tflite": float_path.stat().st_size, "tflite_int8": int8_path.stat().st_size},
    }

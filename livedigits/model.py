"""The network: definition, training, evaluation and export.

TensorFlow is imported inside the functions, never at module import, so the
CLI and the OpenCV stages load fast.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .augment import AugmentConfig, augment_batch, negatives
from .errors import ModelError, UsageError
from .extras import require_tensorflow
from .logs import native_stderr_off
from .types import NOT_A_DIGIT

ARCHS = ("default", "seed")
AUGMENTS = ("none", "light", "camera")
INPUT_SHAPE = (28, 28, 1)
#: What every model file must be, said in each error about one (a user holding the wrong file learns
#: what the right one is).
EXPECTED_SHAPES = "input (N, 28, 28, 1) float32 and output (N, 10) or (N, 11) probabilities"


def _quiet_tensorflow(what: str = "the Keras model") -> None:
    """Check TensorFlow is installed (one-line hint otherwise), and keep its C++ start-up lines quiet."""
    require_tensorflow(what)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    native_stderr_off()


def build_model(arch: str = "default", num_classes: int = 11, l2: float = 1e-4, dropout: float = 0.4):
    """Return an uncompiled Keras model: ``(N, 28, 28, 1)`` float32 in [0, 1] -> ``(N, num_classes)`` probabilities.

    ``seed``: the seed article's CNN (Conv32-Pool-Conv64-Pool-Dense128-Dropout0.5), the baseline.
    ``default``: four BatchNorm conv blocks, about 4 M multiply-adds per crop, sized so a batch of
    64 crops runs in about 3 ms with LiteRT on two CPU cores.
    """
    _quiet_tensorflow()
    import keras

    layers = keras.layers
    if arch not in ARCHS:
        raise UsageError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    inputs = keras.Input(shape=INPUT_SHAPE, name="crops")
    if arch == "seed":
        x = layers.Conv2D(32, 3, activation="relu")(inputs)
        x = layers.MaxPooling2D()(x)
        x = layers.Conv2D(64, 3, activation="relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Flatten()(x)
        x = layers.Dense(128, activation="relu")(x)
        x = layers.Dropout(0.5)(x)
    else:
        reg = keras.regularizers.L2(l2) if l2 > 0 else None

        def block(x, filters, padding="same"):
            x = layers.Conv2D(filters, 3, padding=padding, use_bias=False, kernel_regularizer=reg)(x)
            x = layers.BatchNormalization()(x)
            return layers.ReLU()(x)

        x = block(inputs, 32)  # 28x28
        x = layers.MaxPooling2D()(x)
        x = block(x, 32)  # 14x14
        x = layers.MaxPooling2D()(x)
        x = block(x, 64)  # 7x7
        x = block(x, 64, padding="valid")  # 5x5
        x = layers.Flatten()(x)
        x = layers.Dense(128, use_bias=False, kernel_regularizer=reg)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"livedigits_{arch}")


@dataclass
class TrainConfig:
    arch: str = "default"
    epochs: int = 36
    batch_size: int = 128
    lr: float = 1e-3
    augment: str = "camera"  # none | light | camera
    negatives: float = 0.15  # reject-class samples, as a share of the digit samples; 0 = 10 classes
    validation: float = 0.1
    # Early stopping on validation loss after this many epochs without a better one; 0 = none: the
    # cosine schedule's last epochs (lowest learning rate) are kept. With patience 6, a run on the
    # MNIST + writers mix stopped at epoch 15 of 36 on a noisy plateau, at 99.21% on MNIST test.
    patience: int = 0
    l2: float = 5e-5
    limit: int | None = None  # train on the first N samples (for quick tests)
    seed: int = 0
    # Digits by writers outside MNIST (livedigits.writers: pendigits, optdigits, semeion, handwriting
    # fonts, stroke styles) drawn each epoch, as a share of the MNIST training digits; 0 = MNIST only.
    writers: float = 0.3
    init: str | None = None  # start from this .keras model's weights (same architecture) instead of at random
    usps: str | None = None  # USPS npz for the validation report (default: livedigits.writers.default_usps_path())

    def check(self) -> None:
        if self.arch not in ARCHS:
            raise UsageError(f"--arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        if self.augment not in AUGMENTS:
            raise UsageError(f"--augment must be one of {', '.join(AUGMENTS)}, got {self.augment!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.patience < 0:
            raise UsageError("--epochs and --batch-size must be positive, --lr above 0 and --patience at least 0")
        if not 0 <= self.negatives <= 1 or not 0 < self.validation < 0.5:
            raise UsageError("--negatives must be in [0, 1] and --validation in (0, 0.5)")
        if not 0 <= self.writers <= 2:
            raise UsageError(f"--writers must be in [0, 2] (a share of the MNIST digits per epoch), got {self.writers}")


def seed_config(**overrides) -> TrainConfig:
    """The seed article's recipe: Adam 1e-3, batch 128, 10 epochs, no augmentation, 10 classes."""
    values = dict(arch="seed", epochs=10, batch_size=128, lr=1e-3, augment="none", negatives=0.0, l2=0.0, patience=10, writers=0.0)
    values.update(overrides)
    return TrainConfig(**values)


def _make_sequence(x_digits, y_digits, x_neg, cfg: TrainConfig, rng_seed: int, x_extra=None, y_extra=None):
    """Batches of MNIST digits, ``cfg.writers`` as many non-MNIST digits drawn afresh from
    ``x_extra`` each epoch (augmented the same way), and ``cfg.negatives`` as many marks."""
    import keras

    if x_extra is not None and len(x_extra) and cfg.writers > 0:
        n_extra = int(len(x_digits) * cfg.writers)
    else:
        n_extra = 0

    aug_cfg = AugmentConfig()
    if cfg.augment == "light":
        aug_cfg = AugmentConfig(camera_fraction=0.0)

    class Batches(keras.utils.PyDataset):
        """Freshly augmented batches each epoch, digits and non-digit marks shuffled together."""

        def __init__(self):
            super().__init__(workers=2, use_multiprocessing=False)
            self.rng = np.random.default_rng(rng_seed)
            self.n_digits = len(x_digits) + n_extra
            self.n_neg = int(self.n_digits * cfg.negatives) if x_neg is not None else 0
            self.on_epoch_end()

        def on_epoch_end(self):
            n = self.n_digits + self.n_neg
            self.order = self.rng.permutation(n)
            self.extra_pick = self.rng.choice(len(x_extra), n_extra, replace=n_extra > len(x_extra)) if n_extra else None
            self.neg_pick = self.rng.integers(0, len(x_neg), self.n_neg) if self.n_neg else None
            self.epoch_seed = int(self.rng.integers(1 << 31))

        def __len__(self):
            return int(np.ceil((self.n_digits + self.n_neg) / cfg.batch_size))

        def __getitem__(self, index):
            ids = self.order[index * cfg.batch_size: (index + 1) * cfg.batch_size]
            rng = np.random.default_rng((self.epoch_seed, index))
            mnist_ids = ids[ids < len(x_digits)]
            extra_ids = ids[(ids >= len(x_digits)) & (ids < self.n_digits)] - len(x_digits)
            neg_ids = ids[ids >= self.n_digits] - self.n_digits
            images, labels = x_digits[mnist_ids], y_digits[mnist_ids]
            if extra_ids.size:
                picks = self.extra_pick[extra_ids]
                images = np.concatenate([images, x_extra[picks]])
                labels = np.concatenate([labels, y_extra[picks]])
            if cfg.augment == "none":
                xd = images.astype(np.float32) / 255.0
            else:
                xd = augment_batch(images, rng, aug_cfg)
            parts_x, parts_y = [xd], [labels]
            if neg_ids.size:
                xn = x_neg[self.neg_pick[neg_ids]]
                # Mirror and rotate marks so the pool of negatives goes further.
                if rng.random() < 0.5:
                    xn = xn[:, :, ::-1]
                parts_x.append(xn)
                parts_y.append(np.full(neg_ids.size, NOT_A_DIGIT, np.int64))
            x = np.concatenate(parts_x)[..., None]
            y = np.concatenate(parts_y).astype(np.int64)
            return x, y

    return Batches()


def train(cfg: TrainConfig, out_dir: str | os.PathLike, data=None, verbose: int = 1, log=print) -> dict:
    """Train a model and write ``model.keras``, ``history.json`` and ``curves.png`` into ``out_dir``.

    Returns a summary dict (test accuracy, epochs run, seconds, paths).
    """
    cfg.check()
    _quiet_tensorflow()
    import keras

    from .data import checksum, load_mnist

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(cfg.seed)
    data = data or load_mnist(log=log)
    (x_train, y_train), (x_test, y_test) = data
    data_sha = checksum(data)
    if cfg.limit:
        x_train, y_train = x_train[: cfg.limit], y_train[: cfg.limit]
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(x_train))
    n_val = max(1, int(len(x_train) * cfg.validation))
    val_ids, train_ids = order[:n_val], order[n_val:]
    num_classes = 11 if cfg.negatives > 0 else 10

    x_neg = negatives(max(200, int(len(train_ids) * cfg.negatives * 1.5)), rng) if num_classes == 11 else None
    x_val = x_train[val_ids].astype(np.float32) / 255.0
    y_val = y_train[val_ids].astype(np.int64)
    if num_classes == 11:
        val_neg = negatives(max(20, int(n_val * cfg.negatives)), rng)
        x_val = np.concatenate([x_val, val_neg])
        y_val = np.concatenate([y_val, np.full(len(val_neg), NOT_A_DIGIT)])

    x_extra = y_extra = None
    pool_counts: dict = {}
    if cfg.writers > 0:
        from .writers import training_pool

        # With --limit (quick checks) the pool shrinks in proportion.
        scale = 1.0 if not cfg.limit else min(1.0, max(0.005, cfg.limit / 60000))
        x_extra, y_extra, sources = training_pool(seed=cfg.seed, scale=scale, log=log)
        pool_counts = {str(k): int(v) for k, v in zip(*np.unique(sources, return_counts=True))}
    check_sets = _validation_sets(cfg.seed, cfg.usps, limit=100 if cfg.limit else None, log=log)

    model = build_model(cfg.arch, num_classes=num_classes, l2=cfg.l2)
    if cfg.init:
        start = load_model(cfg.init)
        if start.output_shape[-1] != num_classes or len(start.get_weights()) != len(model.get_weights()):
            raise UsageError(f"--init {cfg.init}: not a {cfg.arch} model with {num_classes} classes")
        model.set_weights(start.get_weights())
        log(f"starting from the weights of {cfg.init}")
    sequence = _make_sequence(x_train[train_ids], y_train[train_ids].astype(np.int64), x_neg, cfg, cfg.seed + 1,
                              x_extra, y_extra)
    if cfg.arch == "seed":
        learning_rate = cfg.lr
    else:
        learning_rate = keras.optimizers.schedules.CosineDecay(cfg.lr, decay_steps=cfg.epochs * len(sequence), alpha=0.01)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = [_SetsCallback(check_sets)]
    if cfg.patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience, restore_best_weights=True))
    started = time.perf_counter()
    history = model.fit(
        sequence,
        validation_data=(x_val[..., None], y_val),
        epochs=cfg.epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    seconds = time.perf_counter() - started

    model_path = out / "model.keras"
    model.save(model_path)
    test = evaluate_model(model, x_test, y_test)
    predict = lambda b: model(b, training=False)  # noqa: E731
    validation = {name: _brief(evaluate_sets(predict, {name: xy})[name]) for name, xy in check_sets.items()}
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    summary = {
        "model": str(model_path),
        "arch": cfg.arch,
        "config": asdict(cfg),
        "classes": num_classes,
        "parameters": int(model.count_params()),
        "epochs_run": len(hist.get("loss", [])),
        "train_seconds": round(seconds, 1),
        "test_accuracy": test["accuracy"],
        "validation": validation,
        "writers_pool": pool_counts,
        "data_sha256": data_sha,
        "history": hist,
    }
    (out / "history.json").write_text(json.dumps(summary, indent=2))
    try:
        plot_history(hist, out / "curves.png", title=f"livedigits {cfg.arch}")
        summary["curves"] = str(out / "curves.png")
    except ImportError:
        log("matplotlib is not installed: no curves.png (pip install 'livedigits[plot]')")
    return summary


def _validation_sets(seed: int, usps: str | None, limit: int | None, log=print) -> dict:
    from .writers import validation_sets

    if usps and not Path(usps).is_file():
        raise UsageError(f"--usps {usps}: no such file (expected usps_16x16.npz)")
    sets = validation_sets(seed=seed, usps=usps, limit=limit)
    log("non-MNIST validation: " + ", ".join(f"{k} {len(v[1])}" for k, v in sets.items()))
    return sets


def evaluate_sets(predict, sets: dict, batch: int = 1000) -> dict:
    """``scores`` for each ``name -> (uint8 images (N, 28, 28), labels)`` set with ``predict`` (batch -> probabilities)."""
    out = {}
    for name, (images, labels) in sets.items():
        x = images.astype(np.float32)[..., None] / 255.0
        out[name] = scores(predict_probabilities(predict, x, batch=batch), np.asarray(labels))
    return out


def _brief(result: dict) -> dict:
    return {k: result[k] for k in ("accuracy", "samples", "rejected_as_not_digit")}


def _sets_callback_class():
    import keras

    class SetsCallback(keras.callbacks.Callback):
        """Adds ``val_<set>_accuracy`` for each non-MNIST validation set to every epoch's logs (and history)."""

        def __init__(self, sets: dict):
            super().__init__()
            self.sets = sets

        def on_epoch_end(self, epoch, logs=None):
            if logs is None:
                return
            results = evaluate_sets(lambda b: self.model(b, training=False), self.sets)
            for name, result in results.items():
                logs[f"val_{name}_accuracy"] = result["accuracy"]

    return SetsCallback


def _SetsCallback(sets: dict):  # noqa: N802 (a class made on demand: keras is imported lazily)
    return _sets_callback_class()(sets)


def plot_history(history: dict, path: Path, title: str = "") -> None:
    """Accuracy and loss, train and validation, side by side (as the seed article plots them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("accuracy", "loss")):
        ax.plot(history.get(key, []), label=f"train {key}")
        ax.plot(history.get(f"val_{key}", []), label=f"validation {key}")
        if key == "accuracy":
            for name in sorted(k for k in history if k.startswith("val_") and k.endswith("_accuracy") and k != "val_accuracy"):
                ax.plot(history[name], label=name[4:-9].replace("_", " "), linestyle="--")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------- loading and evaluation


def load_model(path: str | os.PathLike):
    """Load a ``.keras`` model and check its input and output shapes; ModelError otherwise."""
    p = check_keras_file(path)
    _quiet_tensorflow()
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
    if tuple(input_shape[1:]) != INPUT_SHAPE or len(output_shape) != 2 or output_shape[-1] not in (10, 11):
        raise ModelError(
            f"{origin}: model takes {input_shape} and returns {output_shape}; expected {EXPECTED_SHAPES}"
        )


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


def evaluate_model(model, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    x = x_test.astype(np.float32)[..., None] / 255.0
    probabilities = predict_probabilities(lambda b: model(b, training=False), x)
    return scores(probabilities, y_test)


def plot_confusion(confusion: list, path: Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(np.log1p(matrix), cmap="Blues")
    for (i, j), v in np.ndenumerate(matrix):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="black" if i != j else "white")
    ax.set_xticks(range(matrix.shape[1]), [str(i) for i in range(10)] + (["not"] if matrix.shape[1] == 11 else []))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------- export


def _quietly(step):
    """Run a converter step without its dump of every captured tensor on stdout."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return step()


def representative_crops(count: int = 500, seed: int = 0, data=None, writers: bool = True) -> np.ndarray:
    """Crops like the live ones (camera-style digits, ``writers``: some non-MNIST ones too, and
    non-digit marks) to calibrate int8 ranges."""
    from .data import load_mnist

    (x_train, _), _ = data or load_mnist()
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x_train), size=min(count, len(x_train)), replace=False)
    digits = augment_batch(x_train[picks], rng, AugmentConfig())
    marks = negatives(max(1, count // 10), rng)
    parts = [digits, marks]
    if writers:
        from .writers import training_pool

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
    import shutil
    import tempfile

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


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def export(model_path: str | os.PathLike, out_dir: str | os.PathLike, name: str = "livedigits", data=None, log=print,
           writers: bool = True, usps: str | None = None) -> dict:
    """Write a SavedModel (TF Serving layout: the next free version, ``out/NAME/1/``, then ``2/``...,
    written whole then renamed into place), a float32 ``.tflite`` and a full-integer int8 ``.tflite``
    (int8 input and output, calibrated on representative crops), then measure the MNIST test accuracy
    of each. Returns ``{file: accuracy}`` and the paths; with ``writers``, also each file's accuracy on
    the non-MNIST validation sets (``livedigits.writers.validation_sets``).
    """
    _quiet_tensorflow()
    import tensorflow as tf

    from .classify import LiteClassifier
    from .data import load_mnist

    model = load_model(model_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = data or load_mnist(log=log)
    (_, _), (x_test, y_test) = data

    saved = write_next_version(out / name, lambda tmp: _quietly(lambda: model.export(str(tmp), format="tf_saved_model", verbose=False)))
    log(f"SavedModel version {saved.name} written: {saved}")

    float_path = out / f"{name}.tflite"
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    _write_atomic(float_path, _quietly(converter.convert))

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
    _write_atomic(int8_path, _quietly(converter.convert))

    x = x_test.astype(np.float32)[..., None] / 255.0
    results = {"keras": evaluate_model(model, x_test, y_test)["accuracy"]}
    saved_model = tf.saved_model.load(str(saved))
    serve = saved_model.signatures["serving_default"]
    key = list(serve.structured_outputs)[0]
    probs = predict_probabilities(lambda b: serve(tf.constant(b))[key].numpy(), x)
    results["saved_model"] = scores(probs, y_test)["accuracy"]
    sets = _validation_sets(0, usps, limit=None, log=log) if writers else {}
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

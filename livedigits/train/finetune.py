"""Fine-tune the shipped model on a user's own handwriting, without forgetting MNIST.

``livedigits finetune DIR`` reads the samples ``livedigits collect`` saved (``DIR/<label>/<id>.png``,
28x28 gray, white on black), checks every file and the manifest, keeps a stratified part of them aside,
then trains the base model a few epochs at a low learning rate on the rest (oversampled and augmented
like live crops) mixed with MNIST training images and "not a digit" marks, so it learns the new writing
and keeps the old. It reports accuracy on the held-out samples and on the MNIST test set, before and
after, and writes ``OUT/livedigits.keras`` and ``OUT/finetune.json``. TensorFlow is imported inside the
functions.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from livedigits.util.atomic import replace_with
from livedigits.collect import FULL_SUFFIX, LABELS, MANIFEST, class_to_label, label_to_class
from livedigits.errors import DataError, ModelError, OutputError, UsageError
from livedigits.train.evaluation import predict_probabilities, scores
from livedigits.classify.modelfile import MODEL_FILES, MODELS_DIR, check_keras_file, default_model_path, load_model, quiet_tensorflow
from livedigits.types import NOT_A_DIGIT

MODEL_NAME = MODEL_FILES["keras"]  # the shipped model's name, so the fine-tuned one can replace it with --force
REPORT_NAME = "finetune.json"
#: MNIST test accuracy may fall by at most this many percentage points before the report warns.
MNIST_TOLERANCE_POINTS = 0.2
COLLECT_HINT = "`livedigits collect SOURCE --out DIR` makes this layout"
IMPORT_HINT = "import other images with `livedigits collect FOLDER --auto LABEL --out DIR`, which normalises them"


@dataclass
class FinetuneConfig:
    # Chosen on a validation split of MNIST *training* images and the user's held-out samples (with the
    # previous shipped model, trained on MNIST alone): fine-tuning alone, with almost no user samples,
    # costs about 0.08 points of MNIST validation; with the user's samples the loss grows with their share (in all, 0.15: -0.2,
    # 0.08: -0.1), while 0.08 still learns a flagged-1 / barred-7 writer to 97-99%. Two epochs of 24,000
    # MNIST images measured the same as three of 12,000, in about the same time, with more distinct images.
    # Freezing conv blocks, label smoothing, warm-up, a lower lr and oversampling MNIST 1s and 7s
    # did no better on the validation split.
    epochs: int = 2
    lr: float = 1e-4  # a tenth of what training from scratch starts at, decayed: adjust, do not relearn
    holdout: float = 0.2  # share of each label's samples kept for testing
    user_share: float = 0.08  # share of the user's (repeated, augmented) samples among an epoch's digits
    mnist_per_epoch: int = 24000  # MNIST training images mixed in (so it does not forget)
    negatives: float = 0.15  # "not a digit" marks, as in training (11-class models only)
    batch_size: int = 128
    anchor: float = 0.0  # after each step, pull the weights back this share of the way to the base model's
    seed: int = 0
    min_samples: int = 10  # fewer user samples than this cannot be split and learned from

    def check(self) -> None:
        if self.epochs < 1:
            raise UsageError(f"--epochs must be at least 1, got {self.epochs}")
        if not self.lr > 0:
            raise UsageError(f"--lr must be above 0, got {self.lr}")
        if not 0 < self.holdout < 1:
            raise UsageError(f"--holdout must be between 0 and 1 (a share of your samples), got {self.holdout}")
        if not 0 < self.user_share < 1:
            raise UsageError(f"--user-share must be between 0 and 1, got {self.user_share}")
        if not 0 <= self.anchor < 1:
            raise UsageError(f"--anchor must be in [0, 1), got {self.anchor}")
        if self.mnist_per_epoch < 0:
            raise UsageError(f"--mnist-per-epoch must be 0 or more, got {self.mnist_per_epoch}")


@dataclass
class Samples:
    """A user's samples: ``images`` uint8 ``(N, 28, 28)`` white on black, ``labels`` int64 ``(N,)`` 0..10."""

    images: np.ndarray
    labels: np.ndarray
    files: list[str]
    unlisted: int = 0  # files in label folders that the manifest does not name (added by hand)

    def counts(self) -> dict[str, int]:
        return {class_to_label(c): int(n) for c, n in enumerate(np.bincount(self.labels, minlength=11)) if n}


# --------------------------------------------------------------------------- reading DIR


def load_samples(folder: str | os.PathLike) -> Samples:
    """Read and check ``DIR/<label>/<id>.png`` and ``DIR/manifest.jsonl``; DataError saying which file is
    wrong and what to do."""
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(f"{root}: no such folder; {COLLECT_HINT}")
    if not root.is_dir():
        raise DataError(f"{root} is not a folder; give the folder of samples ({COLLECT_HINT})")
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    folders = [p for p in entries if p.is_dir()]
    bad = [p.name for p in folders if p.name not in LABELS]
    if bad:
        raise DataError(f"{root}: folder(s) {', '.join(bad)} are not labels; label folders are named 0-9, or n "
                        "for 'not a digit': rename or move them")
    stray = [p.name for p in entries if p.is_file() and p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp")]
    if stray:
        raise DataError(f"{root}: image(s) {', '.join(stray[:3])} lie outside the label folders; move each into "
                        f"{root}/<label>/ (0-9 or n)")
    if not folders:
        raise DataError(f"{root} holds no label folders (0-9, n); {COLLECT_HINT}")

    import cv2

    images, labels, files = [], [], []
    for label_dir in folders:
        for path in sorted(label_dir.iterdir()):
            if path.name.startswith(".") or path.name.endswith(FULL_SUFFIX):
                continue
            rel = f"{label_dir.name}/{path.name}"
            if path.is_dir() or path.suffix.lower() != ".png":
                raise DataError(f"{root / rel}: not a PNG sample; a label folder holds 28x28 gray PNGs only; {IMPORT_HINT}")
            try:
                image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            except cv2.error:
                image = None
            if image is None:
                raise DataError(f"{root / rel}: cannot be decoded (damaged or not a PNG); delete it or collect it again")
            if image.ndim != 2 or image.shape != (28, 28) or image.dtype != np.uint8:
                channels = 1 if image.ndim == 2 else image.shape[2]
                raise DataError(f"{root / rel}: {image.shape[1]}x{image.shape[0]}, {channels} channel(s), {image.dtype}; "
                                f"expected 28x28, 1 channel, 8-bit, as collect saves them; {IMPORT_HINT}")
            images.append(image)
            labels.append(label_to_class(label_dir.name))
            files.append(rel)
    if not files:
        raise DataError(f"{root}: the label folders hold no samples; {COLLECT_HINT}")
    unlisted = _check_manifest(root, set(files))
    return Samples(np.stack(images), np.asarray(labels, np.int64), files, unlisted)


def _check_manifest(root: Path, present: set[str]) -> int:
    """Every manifest line names a sample that is there, under its label; returns how many samples
    the manifest does not list (those added by hand are welcome)."""
    manifest = root / MANIFEST
    if not manifest.is_file():
        return len(present)
    listed = set()
    by_name = {Path(f).name: f for f in present}
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            rel, label = record["file"], str(record["label"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise DataError(f"{manifest} line {number} is not a sample record (JSON with file and label); "
                            "fix or delete that line") from None
        if rel not in present:
            moved = by_name.get(Path(rel).name)
            if moved is not None:
                raise DataError(f"{manifest} line {number} lists {rel}, but the file is at {moved}: if you relabelled it "
                                f"by moving it, write \"file\": \"{moved}\" and \"label\": \"{moved.split('/')[0]}\" "
                                "in that line (or delete the line)")
            raise DataError(f"{manifest} line {number} lists {rel}, which is missing; restore it, or delete that line "
                            "if you removed the sample on purpose")
        if rel.split("/")[0] != label:
            raise DataError(f"{manifest} line {number} labels {rel} as {label!r} but it is in folder "
                            f"{rel.split('/')[0]!r}; make the two agree")
        listed.add(rel)
    return len(present - listed)


def split(samples: Samples, holdout: float, seed: int, min_samples: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Stratified, seeded split: indices ``(train, held_out)``. Every label with two or more samples
    gives ``holdout`` of them (at least one, never all) to the held-out part."""
    total = len(samples.labels)
    if total < min_samples:
        raise DataError(f"only {total} sample(s) in the folder; collect at least {min_samples} (and at least 2 per "
                        "label, so some can be held out to test the result)")
    rng = np.random.default_rng(seed)
    train, held = [], []
    for label in np.unique(samples.labels):
        ids = rng.permutation(np.flatnonzero(samples.labels == label))
        n = 0 if len(ids) < 2 else min(len(ids) - 1, max(1, int(round(holdout * len(ids)))))
        held.extend(ids[:n])
        train.extend(ids[n:])
    if not held:
        raise DataError("no label has 2 or more samples, so none can be held out to test the result; collect more")
    return np.sort(np.asarray(train, np.int64)), np.sort(np.asarray(held, np.int64))


# --------------------------------------------------------------------------- scoring


def _probabilities(model, x_uint8: np.ndarray, batch: int = 1000) -> np.ndarray:
    x = x_uint8.astype(np.float32)[..., None] / 255.0
    return predict_probabilities(lambda b: np.asarray(model(b, training=False)), x, batch=batch)


def user_scores(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy on the user's samples, and per label: samples, accuracy and what they were read as."""
    predicted = probabilities.argmax(axis=1)
    per_label = {}
    for label in np.unique(labels):
        mask = labels == label
        read_as = np.bincount(predicted[mask], minlength=probabilities.shape[1])
        per_label[class_to_label(label)] = {
            "samples": int(mask.sum()),
            "accuracy": round(float((predicted[mask] == label).mean()), 5),
            "read_as": {class_to_label(c): int(n) for c, n in enumerate(read_as) if n},
        }
    return {"accuracy": round(float((predicted == labels).mean()), 5), "samples": int(len(labels)), "per_label": per_label}


def measure(model, samples: Samples, held: np.ndarray, mnist_test) -> dict:
    x_test, y_test = mnist_test
    return {
        "user": user_scores(_probabilities(model, samples.images[held]), samples.labels[held]),
        "mnist": {"accuracy": scores(_probabilities(model, x_test), y_test.astype(np.int64))["accuracy"],
                  "samples": int(len(y_test))},
    }


# --------------------------------------------------------------------------- training


def _training_set(samples: Samples, train_ids: np.ndarray, mnist_train, cfg: FinetuneConfig, rng: np.random.Generator):
    """MNIST images plus the user's training samples repeated to make ``user_share`` of the digits."""
    x_mnist, y_mnist = mnist_train
    n_mnist = min(cfg.mnist_per_epoch, len(x_mnist))
    picks = rng.choice(len(x_mnist), size=n_mnist, replace=False)
    x_user, y_user = samples.images[train_ids], samples.labels[train_ids]
    wanted = cfg.user_share / (1.0 - cfg.user_share) * max(n_mnist, 1)
    repeat = max(1, math.ceil(wanted / len(x_user)))
    x = np.concatenate([x_mnist[picks], np.tile(x_user, (repeat, 1, 1))])
    y = np.concatenate([y_mnist[picks].astype(np.int64), np.tile(y_user, repeat)])
    return x, y, repeat


def _anchor_callback(model, rate: float):
    """After every step, pull each trained weight back towards the base model's by ``rate`` of the gap.

    The user's samples push the weights steadily one way and keep their change; the noise of a small
    batch pushes them every which way and is pulled back, so what MNIST taught is not worn away.
    """
    import keras

    start = [keras.ops.convert_to_tensor(v.numpy()) for v in model.trainable_variables]

    class Anchor(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            for variable, origin in zip(model.trainable_variables, start):
                variable.assign(origin + (variable - origin) * (1.0 - rate))

    return Anchor()


def finetune(samples: Samples, base, data, cfg: FinetuneConfig, log=print):
    """Fine-tune a copy of ``base`` (a loaded Keras model); return ``(model, report)`` where the report
    holds the scores before and after. ``data`` is MNIST as ``load_mnist`` returns it."""
    cfg.check()
    from livedigits.train.marks import negatives
    from livedigits.train.training import TrainConfig, make_sequence

    quiet_tensorflow()
    import keras

    num_classes = int(base.output_shape[-1])
    if num_classes == 10 and (samples.labels == NOT_A_DIGIT).any():
        raise ModelError("the base model has 10 classes and no 'not a digit' class, but the folder has n samples; "
                         "use an 11-class base model or move the n folder out")
    train_ids, held = split(samples, cfg.holdout, cfg.seed, cfg.min_samples)
    (x_train, y_train), mnist_test = data
    started = time.perf_counter()
    before = measure(base, samples, held, mnist_test)
    log(f"before: {before['user']['accuracy'] * 100:.2f}% of {len(held)} held-out samples, "
        f"{before['mnist']['accuracy'] * 100:.2f}% of {before['mnist']['samples']} MNIST test images")

    keras.utils.set_random_seed(cfg.seed)
    model = keras.models.clone_model(base)
    model.set_weights(base.get_weights())
    # BatchNorm keeps the statistics it learned on all of MNIST: a few hundred batches rich in one
    # user's writing would shift them, and MNIST accuracy with them (measured: 7 -> 1 errors triple).
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    rng = np.random.default_rng(cfg.seed)
    x, y, repeat = _training_set(samples, train_ids, (x_train, y_train), cfg, rng)
    share = cfg.negatives if num_classes == 11 else 0.0
    x_neg = negatives(max(200, int(len(x) * share * 1.5)), rng) if share else None
    train_cfg = TrainConfig(batch_size=cfg.batch_size, augment="camera", negatives=share, seed=cfg.seed)
    sequence = make_sequence(x, y, x_neg, train_cfg, cfg.seed + 1)
    # Cosine decay ends near the small rate the base model finished its own training at, so the last
    # steps settle instead of leaving the weights wherever the last noisy batch pushed them.
    schedule = keras.optimizers.schedules.CosineDecay(cfg.lr, decay_steps=cfg.epochs * len(sequence), alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    progress = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: log(
        f"epoch {epoch + 1}/{cfg.epochs}: loss {logs['loss']:.4f}, accuracy {logs['accuracy'] * 100:.2f}%"))
    log(f"fine-tuning on {len(train_ids)} of your samples (x{repeat}, augmented) and {len(x) - repeat * len(train_ids)} "
        f"MNIST images per epoch, {cfg.epochs} epoch(s) at lr {cfg.lr:g}")
    fit_started = time.perf_counter()
    from livedigits.util.progress import bar

    batches = bar(cfg.epochs * len(sequence), desc="fine-tuning", unit="batch")
    callbacks = [progress, keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.update(1))]
    if cfg.anchor > 0:
        callbacks.append(_anchor_callback(model, cfg.anchor))
    try:
        model.fit(sequence, epochs=cfg.epochs, verbose=0, callbacks=callbacks)
    finally:
        batches.close()
    fit_seconds = time.perf_counter() - fit_started
    after = measure(model, samples, held, mnist_test)
    report = {
        "samples": samples.counts(),
        "unlisted_in_manifest": samples.unlisted,
        "train": int(len(train_ids)),
        "held_out": int(len(held)),
        "held_out_files": [samples.files[i] for i in held],
        "before": before,
        "after": after,
        "user_change_points": round((after["user"]["accuracy"] - before["user"]["accuracy"]) * 100, 3),
        "mnist_change_points": round((after["mnist"]["accuracy"] - before["mnist"]["accuracy"]) * 100, 3),
        "config": asdict(cfg),
        "train_seconds": round(fit_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return model, report


# --------------------------------------------------------------------------- the command


def _protected_target(out_dir: Path, base: Path) -> str | None:
    """Why writing ``out_dir/livedigits.keras`` needs --force, or None."""
    target = (out_dir / MODEL_NAME).resolve()
    shipped = {MODELS_DIR.resolve(), default_model_path("keras").parent.resolve()}
    if out_dir.resolve() in shipped:
        return f"--out {out_dir} is the shipped models' folder: it would replace the shipped model"
    if target == base.resolve():
        return f"--out {out_dir} would overwrite the base model {base}"
    return None


def _check_out(out_dir: Path) -> None:
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out {out_dir} exists and is not a folder; pick a folder name")
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write --out {out_dir}: {existing} is not a writable folder; pick another --out")


def _save_atomic(out_dir: Path, name: str, write) -> Path:
    """``write(tmp_path)`` then rename into ``out_dir/name``: a failure leaves the old file, never half a new one."""
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / name
    try:
        return replace_with(final, write)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {exc.strerror or exc}") from None


def report_text(report: dict) -> str:
    b, a = report["before"], report["after"]
    counts = ", ".join(f"{k}: {v}" for k, v in report["samples"].items())
    lines = [
        f"your samples: {sum(report['samples'].values())} ({counts}); trained on {report['train']}, held out {report['held_out']}",
        f"{'':24}{'before':>9}{'after':>9}",
        f"{'your held-out samples':24}{b['user']['accuracy'] * 100:8.2f}%{a['user']['accuracy'] * 100:8.2f}%"
        f"   ({report['user_change_points']:+.2f} points)",
    ]
    for label, row in a["user"]["per_label"].items():
        old = b["user"]["per_label"][label]
        lines.append(f"{'  ' + label + ' (' + str(row['samples']) + ')':24}{old['accuracy'] * 100:8.2f}%{row['accuracy'] * 100:8.2f}%"
                     f"   read as {old['read_as']} -> {row['read_as']}")
    lines.append(f"{'MNIST test (' + str(a['mnist']['samples']) + ')':24}{b['mnist']['accuracy'] * 100:8.2f}%"
                 f"{a['mnist']['accuracy'] * 100:8.2f}%   ({report['mnist_change_points']:+.2f} points)")
    if report["mnist_change_points"] < -MNIST_TOLERANCE_POINTS:
        lines.append(f"warning: MNIST accuracy fell more than {MNIST_TOLERANCE_POINTS} points; try fewer --epochs, a lower "
                     "--lr or a smaller --user-share")
    lines.append(f"time: {report['seconds']:.0f} s ({report['train_seconds']:.0f} s training)")
    if "model" in report:
        lines.append(f"model: {report['model']}   report: {report['report']}")
        run_model = report.get("tflite_int8", report["model"])
        lines.append(f"use it: livedigits run SOURCE --model {run_model}")
    return "\n".join(lines)


def finetune_command(folder: str, *, base: str | None = None, out: str = "runs/finetune", cfg: FinetuneConfig | None = None,
                     force: bool = False, export: bool = False, mnist_limit: int | None = None, data=None, log=print) -> dict:
    """``livedigits finetune``: check everything cheap first (samples, output, base file), then load
    MNIST and TensorFlow, fine-tune, and write the model and the report atomically."""
    cfg = cfg or FinetuneConfig()
    cfg.check()
    if mnist_limit is not None and mnist_limit < 1:
        raise UsageError(f"--mnist-limit must be at least 1, got {mnist_limit}")
    samples = load_samples(folder)
    split(samples, cfg.holdout, cfg.seed, cfg.min_samples)  # too few samples fails now, not after TF loads
    base_path = check_keras_file(base if base else default_model_path("keras"))
    out_dir = Path(out).expanduser()
    _check_out(out_dir)
    reason = _protected_target(out_dir, base_path)
    if reason and not force:
        raise UsageError(f"{reason}; pick another --out, or add --force to replace it on purpose")
    if data is None:
        from livedigits.train.data import load_mnist

        data = load_mnist(log=log)
    (x_train, y_train), (x_test, y_test) = data
    if mnist_limit:
        x_test, y_test = x_test[:mnist_limit], y_test[:mnist_limit]
    model, report = finetune(samples, load_model(base_path), ((x_train, y_train), (x_test, y_test)), cfg, log=log)
    report.update({"dir": str(Path(folder)), "base": str(base_path)})
    model_path = _save_atomic(out_dir, MODEL_NAME, lambda tmp: model.save(tmp))
    report["model"] = str(model_path)
    if export:
        from livedigits.train.export import export as export_model

        exported = export_model(model_path, out_dir, name=Path(MODEL_NAME).stem, data=data, log=log)
        report.update({"tflite": exported["tflite"], "tflite_int8": exported["tflite_int8"],
                       "export_accuracy": exported["accuracy"]})
    report["report"] = str(out_dir / REPORT_NAME)
    _save_atomic(out_dir, REPORT_NAME, lambda tmp: tmp.write_text(json.dumps(report, indent=2) + "\n"))
    report["text"] = report_text(report)
    return report

"""A digit model's errors on the sets a run is selected on, never MNIST test: the 6,000 MNIST training
digits every run keeps aside (``--split-seed 0``) and the four non-MNIST validation sets, plus pendigits
test writer 42's 4s read 5 (the `bar4` shape, docs/model.md) and, per set, the digits it reads
wrong that the shipped model reads right (meant->read) and how many it reads right that the shipped
model reads wrong.

usage: python tools/model_gates.py MODEL [MODEL ...]

MODEL is a ``.keras`` or ``.tflite`` file, or a folder holding ``livedigits_int8.tflite`` (read as
``livedigits run`` reads it). The shipped int8 file (this tree's models/) is always read first, as the reference. USPS is read
from ``$LIVEDIGITS_USPS`` when it is set (as ``livedigits evaluate`` does), else left out.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np

from livedigits.classify.backends import load_classifier
from livedigits.classify.modelfile import MODEL_FILES, MODELS_DIR
from livedigits.train.data import load_mnist
from livedigits.train.training import TrainConfig, kept_aside_split
from livedigits.train.writers import _pendigits_indices, load_pendigits, validation_sets

#: The pendigits test writer whose one-stroke 4 (no upright above the bar) the shipped model reads 5.
BAR4_WRITER = 42


def _classifier(path: Path):
    if path.is_dir():
        path = path / "livedigits_int8.tflite"
    backend = "keras" if path.suffix == ".keras" else ("lite-int8" if "int8" in path.name else "lite")
    return load_classifier(backend, str(path))


def _sets() -> dict:
    (x, y), _ = load_mnist()
    cfg = TrainConfig()
    kept, _ = kept_aside_split(len(x), cfg, np.random.default_rng(cfg.seed))
    sets = {"kept_aside": (x[kept], y[kept])}
    sets.update(validation_sets(seed=0, usps=os.environ.get("LIVEDIGITS_USPS") or None))
    return sets


def _predict(clf, images: np.ndarray) -> np.ndarray:
    x = images.astype(np.float32)[..., None] / 255.0
    return np.concatenate([clf.predict(x[i: i + 128]) for i in range(0, len(x), 128)]).argmax(1)


def _pairs(labels: np.ndarray, reads: np.ndarray, which: np.ndarray) -> dict:
    """``{"meant->read": count}`` of the digits ``which`` selects (class 10 is "not a digit", written n)."""
    pairs = {}
    for meant, read in zip(labels[which], reads[which]):
        key = f"{meant}->{'n' if read == 10 else read}"
        pairs[key] = pairs.get(key, 0) + 1
    return dict(sorted(pairs.items(), key=lambda kv: -kv[1]))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    sets = _sets()
    writer = load_pendigits()["writer"][_pendigits_indices(train=False)]
    bar4 = (writer == BAR4_WRITER) & (sets["pendigits_test"][1] == 4)
    reference = None
    for name in ["shipped"] + argv:
        clf = _classifier(MODELS_DIR / MODEL_FILES["lite-int8"] if name == "shipped" else Path(name))
        reads = {k: _predict(clf, im) for k, (im, _) in sets.items()}
        row = {k: int((reads[k] != lab).sum()) for k, (_, lab) in sets.items()}
        row["sum"] = sum(row.values())
        row["w42_4_read_5"] = int((reads["pendigits_test"][bar4] == 5).sum())
        if reference is None:
            reference = reads
        else:
            row["newly_wrong"] = {k: _pairs(lab, reads[k], (reference[k] == lab) & (reads[k] != lab)) for k, (_, lab) in sets.items()}
            row["newly_right"] = {k: int(((reference[k] != lab) & (reads[k] == lab)).sum()) for k, (_, lab) in sets.items()}
        print(name, json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

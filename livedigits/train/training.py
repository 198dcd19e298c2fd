"""Training the network: its architectures, the training recipe (``TrainConfig``), the batches of
augmented digits and "not a digit" marks, and ``train`` itself with its per-epoch report on the
validation sets of writers outside MNIST.

Used by ``livedigits train`` and ``livedigits finetune``; the classifiers never import it. TensorFlow,
OpenCV (through ``augment``) and the non-MNIST writers are imported inside the functions, so the
command line takes ``ARCHS`` and ``AUGMENTS`` from here without loading any of them.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from livedigits.errors import OutputError, UsageError
from livedigits.classify.modelfile import INPUT_SHAPE, load_model, quiet_tensorflow

if TYPE_CHECKING:  # for the annotations only (see below)
    import numpy as np

# NumPy, the evaluation and the plots are imported inside the functions that train: the command line
# takes ARCHS and AUGMENTS from here for its --help, which must stay light.

#: What ``--arch`` takes; ``build_model`` says what each is.
ARCHS = ("default", "seed")
#: What ``--augment`` takes: ``none`` (MNIST as it is), ``light`` (a small rotation, shear and shift of
#: each digit), ``camera`` (also a share of the digits rebuilt as the live pipeline cuts them, as
#: ``augment.AugmentConfig`` sets out). ``make_sequence`` applies them.
AUGMENTS = ("none", "light", "camera")
#: What ``--train-layers`` takes: ``all`` (every weight), ``head`` (the layers after the convolutions'
#: Flatten: for ``default`` the 128-unit dense layer, its BatchNorm and the softmax), ``last`` (the softmax
#: layer alone). With ``head`` and ``last`` the layers before stay as ``--init`` gave them (their BatchNorm
#: in inference mode), so the features every crop is read from do not move.
TRAIN_LAYERS = ("all", "head", "last")


def build_model(arch: str = "default", num_classes: int = 11, l2: float = 1e-4, dropout: float = 0.4):
    """Return an uncompiled Keras model: ``(N, 28, 28, 1)`` float32 in [0, 1] -> ``(N, num_classes)`` probabilities.

    ``seed``: the seed article's CNN (Conv32-Pool-Conv64-Pool-Dense128-Dropout0.5), the baseline.
    ``default``: four BatchNorm conv blocks, about 4 M multiply-adds per crop, sized so a batch of
    64 crops runs in about 3 ms with LiteRT on two CPU cores.
    """
    quiet_tensorflow()
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
    """The training recipe, as ``livedigits train`` takes it; ``check`` names the option that is wrong."""

    arch: str = "default"
    epochs: int = 36
    batch_size: int = 128
    lr: float = 1e-3
    augment: str = "camera"  # one of AUGMENTS
    negatives: float = 0.15  # reject-class samples, as a share of the digit samples; 0 = 10 classes
    validation: float = 0.1
    # Early stopping on validation loss after this many epochs without a better one; 0 = none: the
    # cosine schedule's last epochs (lowest learning rate) are kept. With patience 6, a run on the
    # MNIST + writers mix stopped at epoch 15 of 36 on a noisy plateau, at 99.21% on MNIST test.
    patience: int = 0
    l2: float = 5e-5
    limit: int | None = None  # train on the first N samples (for quick tests)
    seed: int = 0
    # Seed of the split of the MNIST training digits into training and kept-aside validation (``validation``).
    # Apart from ``seed`` so that runs of other seeds keep the same digits aside (those the shipped model
    # never trained on), and can be compared and averaged on them; the same as ``seed`` before, so seed 0
    # runs are unchanged.
    split_seed: int = 0
    # Digits by writers outside MNIST (livedigits.train.writers: pendigits, optdigits, semeion, handwriting
    # fonts, stroke styles) drawn each epoch, as a share of the MNIST training digits; 0 = MNIST only.
    writers: float = 0.3
    init: str | None = None  # start from this .keras model's weights (same architecture) instead of at random
    # Keep an exponential moving average of the weights with this momentum and save the average, not the
    # last step's weights; 0 = off. Averaging over the last ~1/(1-ema) steps smooths the noise of the
    # final mini-batches (0.999: about the last 1.6 epochs of 631 batches). The per-epoch curves and
    # validation figures show the raw weights; the test figures at the end, the saved average.
    ema: float = 0.0
    # Letters (``marks.LETTER_NEGATIVES``: capitals and lowercase that no usual digit matches, from the
    # training fonts, pen strokes and Hershey) added to the "not a digit" class, as a share of the digit
    # samples per epoch, drawn from a pool rendered once and never mirrored; 0 = off (the marks of
    # ``negatives`` still hold a few letters).
    letters: float = 0.0
    # Share of the digits (MNIST and the other writers) bent by a smooth random field before the camera
    # augmentation (``augment.AugmentConfig.elastic``): shapes of writers the pool lacks; 0 = off.
    elastic: float = 0.0
    # Share of the digits, and of the "not a digit" marks and letters, cut instead as the pipeline cuts small writing on a
    # blurred, grainy photo (``augment.grainy``: 10-20 px, defocus or a streak, sensor noise, JPEG, the
    # threshold and ``segment.ink_crop``); the marks too, so that a grainy blob is not a digit by its grain.
    # 0 = off.
    grainy: float = 0.0
    # Which weights train (``TRAIN_LAYERS``); ``head`` and ``last`` need ``init``: refit the top of a trained
    # model on its own, fixed features.
    train_layers: str = "all"
    usps: str | None = None  # USPS npz for the validation report (default: livedigits.train.writers.default_usps_path())
    # Distillation (Hinton et al., 2015, at temperature 1): each sample's loss is (1 - distill) x the cross-entropy
    # with its label + distill x the KL divergence from ``teacher``'s probabilities for the same augmented crop to
    # the student's. With the shipped model as teacher a continuation fits its data while keeping that model's
    # readings (its doubts included) on the crops it shows; ``teacher_mnist``, if given, is the teacher of the
    # MNIST digits instead (e.g. a model trained on MNIST alone). 0 = off.
    distill: float = 0.0
    teacher: str | None = None
    teacher_mnist: str | None = None
    # Drawn styles (``writers.STYLES`` keys) whose crops take their label alone under ``distill``: a new shape
    # the teacher misreads (``bar4``: the shipped model reads a quarter of them as 5 or 6) would otherwise be
    # pulled back to the teacher's reading, as the grainy crops are kept from it.
    label_styles: tuple = ()

    def check(self) -> None:
        if self.arch not in ARCHS:
            raise UsageError(f"--arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        if self.augment not in AUGMENTS:
            raise UsageError(f"--augment must be one of {', '.join(AUGMENTS)}, got {self.augment!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.patience < 0:
            raise UsageError("--epochs and --batch-size must be positive, --lr above 0 and --patience at least 0")
        if not 0 <= self.negatives <= 1 or not 0 < self.validation < 0.5:
            raise UsageError("--negatives must be in [0, 1] and --validation in (0, 0.5)")
        if not 0 <= self.ema < 1:
            raise UsageError(f"--ema must be in [0, 1) (a momentum; 0 = off), got {self.ema}")
        if not 0 <= self.letters <= 1:
            raise UsageError(f"--letters must be in [0, 1] (a share of the digit samples per epoch), got {self.letters}")
        if self.letters > 0 and self.negatives <= 0:
            raise UsageError("--letters needs the 'not a digit' class: set --negatives above 0")
        if not 0 <= self.elastic <= 1:
            raise UsageError(f"--elastic must be in [0, 1] (a share of the digits), got {self.elastic}")
        if not 0 <= self.grainy <= 1:
            raise UsageError(f"--grainy must be in [0, 1] (a share of the digits and marks), got {self.grainy}")
        if self.train_layers not in TRAIN_LAYERS:
            raise UsageError(f"--train-layers must be one of {', '.join(TRAIN_LAYERS)}, got {self.train_layers!r}")
        if self.train_layers != "all" and not self.init:
            raise UsageError(f"--train-layers {self.train_layers} refits the top of a trained model: give it with --init")
        if not 0 <= self.distill <= 1:
            raise UsageError(f"--distill must be in [0, 1] (the weight of the teacher's term), got {self.distill}")
        if self.distill > 0 and not self.teacher:
            raise UsageError("--distill needs a model to learn from: give it with --teacher")
        if self.distill > 0 and self.negatives <= 0:
            raise UsageError("--distill needs the 11-class model: set --negatives above 0")
        from livedigits.train.writers import STYLES

        unknown = [name for name in self.label_styles if name not in STYLES]
        if unknown:
            raise UsageError(f"--label-styles: unknown style {', '.join(unknown)}; expected some of {', '.join(STYLES)}")
        if self.label_styles and not self.distill:
            raise UsageError("--label-styles frees those styles from the teacher: it needs --distill")
        if not 0 <= self.writers <= 2:
            raise UsageError(f"--writers must be in [0, 2] (a share of the MNIST digits per epoch), got {self.writers}")


def seed_config(**overrides) -> TrainConfig:
    """The seed article's recipe: Adam 1e-3, batch 128, 10 epochs, no augmentation, 10 classes."""
    values = dict(arch="seed", epochs=10, batch_size=128, lr=1e-3, augment="none", negatives=0.0, l2=0.0, patience=10, writers=0.0)
    values.update(overrides)
    return TrainConfig(**values)


def freeze_below(model, train_layers: str) -> int:
    """Set every layer below the trained part (``TrainConfig.train_layers``) untrainable, so that its
    weights and its BatchNorm statistics stay as they are; return how many layers were frozen."""
    names = [layer.__class__.__name__ for layer in model.layers]
    if train_layers == "all":
        return 0
    if train_layers == "head":
        first = names.index("Flatten") + 1
    else:
        first = len(names) - 1  # the softmax layer
    for layer in model.layers[:first]:
        layer.trainable = False
    return first


def average_models(paths, coefficients=None, out=None):
    """A "model soup": the weights of ``paths`` (``.keras`` models of one architecture, best continued from
    one start) averaged, with ``coefficients`` (default: equal; they must sum to 1), BatchNorm statistics
    included; saved to ``out`` if given. Returns the model (the first path's, with the average set).

    The BatchNorm moving statistics are averaged like any weight, not re-estimated: on the soups of the
    shipped model and its continuations (docs/model.md, 2026-12-06) re-estimating them on camera-augmented
    training batches read the validation sets within a few digits of the plain average, and on clean MNIST
    training digits lost 1 to 2.5 points on the other writers."""
    import numpy as np

    if len(paths) < 2:
        raise UsageError("average: give at least two models")
    if out is not None and Path(out).suffix != ".keras":
        raise UsageError(f"average: --out {out} must name a .keras file (Keras saves only that format)")
    coefficients = [1.0 / len(paths)] * len(paths) if coefficients is None else [float(c) for c in coefficients]
    if len(coefficients) != len(paths) or min(coefficients) < 0 or abs(sum(coefficients) - 1) > 1e-6:
        raise UsageError(f"average: {len(paths)} models need {len(paths)} weights, none negative, summing to 1; got {coefficients}")
    model = load_model(paths[0])
    weights = [model.get_weights()] + [load_model(p).get_weights() for p in paths[1:]]
    for path, w in zip(paths, weights):
        if [a.shape for a in w] != [a.shape for a in weights[0]]:
            raise UsageError(f"average: {path} is not the architecture of {paths[0]}")
    model.set_weights([sum(c * w[i].astype(np.float64) for c, w in zip(coefficients, weights)).astype(w0.dtype)
                       for i, w0 in enumerate(weights[0])])
    if out is not None:
        from livedigits.util.atomic import replace_with

        try:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            replace_with(out, lambda temporary: model.save(temporary))
        except OSError as exc:
            raise OutputError(f"cannot write {out}: {exc.strerror or exc}; pick another --out") from None
    return model


def kept_aside_split(n: int, cfg: TrainConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(kept-aside ids, training ids)`` of ``n`` MNIST training digits: a ``cfg.validation`` share kept aside,
    chosen by ``cfg.split_seed`` whatever ``cfg.seed`` is, so that runs of any seed keep the same digits aside.
    ``rng`` (the run's stream, seeded by ``cfg.seed``) draws one permutation in every case, so its later draws
    (the marks, the batches) are those of a run made before ``split_seed`` existed."""
    import numpy as np

    order = rng.permutation(n)
    if cfg.split_seed != cfg.seed:
        order = np.random.default_rng(cfg.split_seed).permutation(n)
    n_val = max(1, int(n * cfg.validation))
    return order[:n_val], order[n_val:]


def make_sequence(x_digits, y_digits, x_neg, cfg: TrainConfig, rng_seed: int, x_extra=None, y_extra=None,
                  x_letters=None, teachers=None, own_extra=None):
    """Batches of MNIST digits, ``cfg.writers`` as many non-MNIST digits drawn afresh from
    ``x_extra`` each epoch (augmented the same way), ``cfg.negatives`` as many marks and ``cfg.letters``
    as many letters from ``x_letters`` (both "not a digit"; marks mirrored half the time, letters never).
    With ``teachers`` (``(teacher, MNIST teacher)``, for ``cfg.distill``) the targets are ``distill_targets``;
    ``own_extra`` (bool, one per ``x_extra`` row) marks the rows that take their label alone there."""
    import threading

    import keras
    import numpy as np

    from livedigits.types import NOT_A_DIGIT

    from livedigits.train.augment import AugmentConfig, augment_batch, grainy_marks

    if x_extra is not None and len(x_extra) and cfg.writers > 0:
        n_extra = int(len(x_digits) * cfg.writers)
    else:
        n_extra = 0

    aug_cfg = AugmentConfig(elastic=cfg.elastic, grainy=cfg.grainy)
    if cfg.augment == "light":
        aug_cfg = AugmentConfig(camera_fraction=0.0, elastic=cfg.elastic, grainy=cfg.grainy)

    class Batches(keras.utils.PyDataset):
        """Freshly augmented batches each epoch, digits and non-digit marks shuffled together."""

        def __init__(self):
            super().__init__(workers=2, use_multiprocessing=False)
            self.rng = np.random.default_rng(rng_seed)
            self.n_digits = len(x_digits) + n_extra
            self.n_neg = int(self.n_digits * cfg.negatives) if x_neg is not None else 0
            has_letters = x_letters is not None and len(x_letters) and cfg.letters > 0
            self.n_letters = int(self.n_digits * cfg.letters) if has_letters else 0
            self.on_epoch_end()

        def on_epoch_end(self):
            n = self.n_digits + self.n_neg + self.n_letters
            self.order = self.rng.permutation(n)
            self.extra_pick = self.rng.choice(len(x_extra), n_extra, replace=n_extra > len(x_extra)) if n_extra else None
            self.neg_pick = self.rng.integers(0, len(x_neg), self.n_neg) if self.n_neg else None
            # Drawn only when letters are on, so that a run without them keeps its old random stream.
            self.letter_pick = self.rng.integers(0, len(x_letters), self.n_letters) if self.n_letters else None
            self.epoch_seed = int(self.rng.integers(1 << 31))

        def __len__(self):
            return int(np.ceil((self.n_digits + self.n_neg + self.n_letters) / cfg.batch_size))

        def __getitem__(self, index):
            ids = self.order[index * cfg.batch_size: (index + 1) * cfg.batch_size]
            rng = np.random.default_rng((self.epoch_seed, index))
            mnist_ids = ids[ids < len(x_digits)]
            extra_ids = ids[(ids >= len(x_digits)) & (ids < self.n_digits)] - len(x_digits)
            neg_ids = ids[(ids >= self.n_digits) & (ids < self.n_digits + self.n_neg)] - self.n_digits
            letter_ids = ids[ids >= self.n_digits + self.n_neg] - self.n_digits - self.n_neg
            images, labels = x_digits[mnist_ids], y_digits[mnist_ids]
            if extra_ids.size:
                picks = self.extra_pick[extra_ids]
                images = np.concatenate([images, x_extra[picks]])
                labels = np.concatenate([labels, y_extra[picks]])
            if cfg.augment == "none":
                xd, cut = images.astype(np.float32) / 255.0, np.zeros(len(images), bool)
            else:
                xd, cut = augment_batch(images, rng, aug_cfg, with_grainy=True)
            if own_extra is not None and extra_ids.size:
                cut = cut.copy()
                cut[len(mnist_ids):] |= own_extra[self.extra_pick[extra_ids]]
            parts_x, parts_y, parts_cut = [xd], [labels], [cut]
            if neg_ids.size:
                xn = x_neg[self.neg_pick[neg_ids]]
                # Mirror and rotate marks so the pool of negatives goes further.
                if rng.random() < 0.5:
                    xn = xn[:, :, ::-1]
                cut = np.zeros(len(xn), bool)
                if cfg.grainy > 0 and cfg.augment != "none":  # (drawn only when on: older runs replay exactly)
                    xn, cut = grainy_marks(xn, rng, aug_cfg, with_grainy=True)
                parts_x.append(xn)
                parts_y.append(np.full(neg_ids.size, NOT_A_DIGIT, np.int64))
                parts_cut.append(cut)
            if letter_ids.size:
                xl = x_letters[self.letter_pick[letter_ids]]
                cut = np.zeros(len(xl), bool)
                if cfg.grainy > 0 and cfg.augment != "none":  # a grainy blob of a letter is no digit either
                    xl, cut = grainy_marks(xl, rng, aug_cfg, with_grainy=True)
                parts_x.append(xl)
                parts_y.append(np.full(letter_ids.size, NOT_A_DIGIT, np.int64))
                parts_cut.append(cut)
            x = np.concatenate(parts_x)[..., None]
            y = np.concatenate(parts_y).astype(np.int64)
            if teachers is not None:
                with teacher_lock:  # the workers' threads take turns with the teachers
                    y = distill_targets(teachers, x, y, len(mnist_ids), np.concatenate(parts_cut))
            return x, y

    teacher_lock = threading.Lock()
    return Batches()


def distill_targets(teachers, x, y, n_mnist: int, own=None):
    """``(N, 2 C)`` float32 targets for ``distill_loss``: the labels ``y`` one-hot, then the teacher's
    probabilities for the crops ``x``; the first ``n_mnist`` rows (MNIST digits) from the MNIST teacher.
    The rows of ``own`` (bool ``(N,)``: the crops cut through ``augment.grainy``) take their label in the
    teacher's place, so their loss is the label's cross-entropy alone: those are the crops a run is to read
    anew, and the teacher (the shipped model reads most grainy digits as no digit) would pull against it."""
    import numpy as np

    teacher, teacher_mnist = teachers
    soft = np.array(teacher(x, training=False), np.float32)  # a copy: the MNIST rows may be replaced
    onehot = np.eye(soft.shape[1], dtype=np.float32)[y]
    if teacher_mnist is not teacher and n_mnist:
        soft[:n_mnist] = np.asarray(teacher_mnist(x[:n_mnist], training=False), np.float32)
    if own is not None:
        soft[own] = onehot[own]
    return np.concatenate([onehot, soft], axis=1)


def distill_loss(weight: float):
    """Per sample: (1 - weight) x cross-entropy with the label + weight x KL(teacher || student), from the
    targets of ``distill_targets``; and the matching accuracy metric (on the labels)."""
    from keras import ops

    eps = 1e-7

    def loss(y_true, y_pred):
        classes = ops.shape(y_pred)[-1]
        onehot, soft = y_true[:, :classes], y_true[:, classes:]
        log_p = ops.log(ops.clip(y_pred, eps, 1.0))
        ce = -ops.sum(onehot * log_p, axis=-1)
        kl = ops.sum(soft * (ops.log(ops.clip(soft, eps, 1.0)) - log_p), axis=-1)
        return (1.0 - weight) * ce + weight * kl

    def accuracy(y_true, y_pred):
        classes = ops.shape(y_pred)[-1]
        return ops.cast(ops.equal(ops.argmax(y_true[:, :classes], axis=-1), ops.argmax(y_pred, axis=-1)), "float32")

    return loss, accuracy


def train(cfg: TrainConfig, out_dir: str | os.PathLike, data=None, verbose: int = 1, log=print) -> dict:
    """Train a model and write ``model.keras``, ``history.json`` and ``curves.png`` into ``out_dir``.

    Returns a summary dict (test accuracy, epochs run, seconds, paths).
    """
    cfg.check()
    quiet_tensorflow()
    import keras
    import numpy as np

    from livedigits.train.evaluation import evaluate_model, evaluate_sets, load_validation_sets
    from livedigits.train.plots import plot_history
    from livedigits.types import NOT_A_DIGIT

    from livedigits.train.marks import letter_negatives, negatives
    from livedigits.train.data import checksum, load_mnist

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(cfg.seed)
    data = data or load_mnist(log=log)
    (x_train, y_train), (x_test, y_test) = data
    data_sha = checksum(data)
    if cfg.limit:
        x_train, y_train = x_train[: cfg.limit], y_train[: cfg.limit]
    rng = np.random.default_rng(cfg.seed)
    val_ids, train_ids = kept_aside_split(len(x_train), cfg, rng)
    n_val = len(val_ids)
    num_classes = 11 if cfg.negatives > 0 else 10

    x_neg = negatives(max(200, int(len(train_ids) * cfg.negatives * 1.5)), rng) if num_classes == 11 else None
    x_letters = None
    if num_classes == 11 and cfg.letters > 0:
        # Its own random stream, so that the marks, the split and the batches stay those of a run without letters.
        x_letters = letter_negatives(max(200, int(len(train_ids) * cfg.letters * 1.5)), np.random.default_rng((cfg.seed, 19)))
        log(f"letters for 'not a digit': {len(x_letters)} rendered, {cfg.letters:.0%} of the digits per epoch")
    x_val = x_train[val_ids].astype(np.float32) / 255.0
    y_val = y_train[val_ids].astype(np.int64)
    if num_classes == 11:
        val_neg = negatives(max(20, int(n_val * cfg.negatives)), rng)
        x_val = np.concatenate([x_val, val_neg])
        y_val = np.concatenate([y_val, np.full(len(val_neg), NOT_A_DIGIT)])

    x_extra = y_extra = own_extra = None
    pool_counts: dict = {}
    if cfg.writers > 0:
        from livedigits.train.writers import training_pool

        # With --limit (quick checks) the pool shrinks in proportion.
        scale = 1.0 if not cfg.limit else min(1.0, max(0.005, cfg.limit / 60000))
        x_extra, y_extra, sources = training_pool(seed=cfg.seed, scale=scale, log=log)
        pool_counts = {str(k): int(v) for k, v in zip(*np.unique(sources, return_counts=True))}
        if cfg.label_styles:
            own_extra = np.isin(sources, [f"styles/{name}" for name in cfg.label_styles])
            log(f"--label-styles: {int(own_extra.sum())} drawn digits ({', '.join(cfg.label_styles)}) learn their label alone")
    check_sets = load_validation_sets(cfg.seed, cfg.usps, limit=100 if cfg.limit else None, log=log)

    model = build_model(cfg.arch, num_classes=num_classes, l2=cfg.l2)
    if cfg.init:
        start = load_model(cfg.init)
        if start.output_shape[-1] != num_classes or len(start.get_weights()) != len(model.get_weights()):
            raise UsageError(f"--init {cfg.init}: not a {cfg.arch} model with {num_classes} classes")
        model.set_weights(start.get_weights())
        log(f"starting from the weights of {cfg.init}")
    frozen = freeze_below(model, cfg.train_layers)
    if frozen:
        log(f"--train-layers {cfg.train_layers}: {frozen} layers kept as they are, "
            f"{sum(int(np.prod(w.shape)) for w in model.trainable_weights)} weights train")
    teachers = None
    loss, metric = "sparse_categorical_crossentropy", "accuracy"
    if cfg.distill > 0:
        teacher = load_model(cfg.teacher)
        teacher_mnist = load_model(cfg.teacher_mnist) if cfg.teacher_mnist else teacher
        for path, t in ((cfg.teacher, teacher), (cfg.teacher_mnist, teacher_mnist)):
            if t.output_shape[-1] != num_classes:
                raise UsageError(f"--teacher {path}: a model with {t.output_shape[-1]} classes, not {num_classes}")
        teachers = (teacher, teacher_mnist)
        loss, metric = distill_loss(cfg.distill)
        y_val = distill_targets(teachers, x_val[..., None], y_val, n_val)
        log(f"distilling: weight {cfg.distill} on the KL divergence from {cfg.teacher}"
            + (f" (MNIST digits: {cfg.teacher_mnist})" if cfg.teacher_mnist else ""))
    sequence = make_sequence(x_train[train_ids], y_train[train_ids].astype(np.int64), x_neg, cfg, cfg.seed + 1,
                             x_extra, y_extra, x_letters, teachers, own_extra)
    if cfg.arch == "seed":
        learning_rate = cfg.lr
    else:
        learning_rate = keras.optimizers.schedules.CosineDecay(cfg.lr, decay_steps=cfg.epochs * len(sequence), alpha=0.01)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, use_ema=cfg.ema > 0, ema_momentum=cfg.ema or 0.99),
        loss=loss,
        metrics=[metric],
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


def _brief(result: dict) -> dict:
    return {k: result[k] for k in ("accuracy", "samples", "rejected_as_not_digit")}


def _sets_callback_class():
    import keras

    from livedigits.train.evaluation import evaluate_sets

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



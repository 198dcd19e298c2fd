"""The network: a tiny training run, the shipped model's accuracy, and export round trips."""

import json

import numpy as np
import pytest

from livedigits.classify.backends import KerasClassifier, LiteClassifier, load_classifier
from livedigits.errors import ModelError, UsageError
from livedigits.train.evaluation import predict_probabilities, scores
from livedigits.classify.modelfile import default_model_path, load_model
from livedigits.train.training import TrainConfig, build_model, train


def _x(images):
    return images.astype(np.float32)[..., None] / 255.0


def test_one_epoch_on_a_few_hundred_samples(tmp_path, mnist_slice):
    summary = train(TrainConfig(epochs=1, limit=300, batch_size=64), tmp_path, data=mnist_slice, verbose=0)
    model = load_model(tmp_path / "model.keras")
    assert model.output_shape == (None, 11)
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["history"]["loss"]) == 1 and "val_accuracy" in history["history"]
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert 0.0 <= summary["test_accuracy"] <= 1.0


def test_weight_averaging_saves_the_average_not_the_last_step(tmp_path, mnist_slice):
    # With --ema the saved weights are the moving average: with momentum 0.99 over the few steps of one
    # epoch from a given start they stay near that start, and differ from a run without averaging.
    start = tmp_path / "start.keras"
    build_model("default").save(start)
    plain, averaged = tmp_path / "plain", tmp_path / "ema"
    for out, ema in ((plain, 0.0), (averaged, 0.99)):
        train(TrainConfig(epochs=1, limit=300, batch_size=64, init=str(start), ema=ema, writers=0.0), out,
              data=mnist_slice, verbose=0)
    w0, w1, w2 = (load_model(p).get_weights()[0] for p in (start, plain / "model.keras", averaged / "model.keras"))
    assert np.abs(w2 - w0).mean() < np.abs(w1 - w0).mean()


@pytest.mark.parametrize("layers, trained", [("head", ["Dense", "BatchNormalization", "Dense"]), ("last", ["Dense"])])
def test_train_layers_refits_the_top_and_keeps_the_features(tmp_path, mnist_slice, layers, trained):
    # --train-layers head / last: one epoch from a model's weights moves the layers after the convolutions
    # (or the softmax alone) and leaves every convolution and its BatchNorm statistics as they were.
    start = tmp_path / "start.keras"
    build_model("default").save(start)
    summary = train(TrainConfig(epochs=1, limit=300, batch_size=64, init=str(start), train_layers=layers, writers=0.0),
                    tmp_path / "out", data=mnist_slice, verbose=0)
    before, after = load_model(start), load_model(tmp_path / "out" / "model.keras")
    moved = [a.__class__.__name__ for a, b in zip(after.layers, before.layers)
             if a.get_weights() and any(not np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))]
    assert moved == trained
    assert summary["config"]["train_layers"] == layers


def test_train_layers_needs_a_model_to_start_from(tmp_path, mnist_slice):
    with pytest.raises(UsageError, match="--init"):
        train(TrainConfig(epochs=1, limit=300, train_layers="head"), tmp_path, data=mnist_slice, verbose=0)


def test_average_writes_the_mean_of_the_weights_and_the_soup_reads(tmp_path, mnist_slice, capsys):
    # livedigits average: two models of one architecture (the second with weights of its own), weighted
    # 0.25 / 0.75: every weight of the file written, BatchNorm statistics included, is that mean, and it
    # loads and gives probabilities.
    from livedigits.cli.main import main

    a, b, out = tmp_path / "a.keras", tmp_path / "b.keras", tmp_path / "soup" / "avg.keras"
    first = build_model("default")
    first.save(a)
    second = build_model("default")
    second.set_weights([w + np.float32(0.5) for w in first.get_weights()])
    second.save(b)
    assert main(["average", "--models", str(a), str(b), "--weights", "0.25", "0.75", "--out", str(out)]) == 0
    soup = load_model(out)
    for w_soup, w_a, w_b in zip(soup.get_weights(), load_model(a).get_weights(), load_model(b).get_weights()):
        np.testing.assert_allclose(w_soup, 0.25 * w_a + 0.75 * w_b, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(w_soup, w_a + np.float32(0.375), rtol=1e-5, atol=1e-5)
    probabilities = predict_probabilities(lambda x: soup(x, training=False), _x(mnist_slice[1][0][:20]))
    assert probabilities.shape == (20, 11) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    assert main(["average", "--models", str(a), str(b), "--weights", "0.5", "0.6", "--out", str(tmp_path / "no.keras")]) != 0
    assert "summing to 1" in capsys.readouterr().err and not (tmp_path / "no.keras").exists()
    assert main(["average", "--models", str(a), str(b), "--out", str(tmp_path / "soup.h5")]) == 2
    assert ".keras" in capsys.readouterr().err and not (tmp_path / "soup.h5").exists()
    assert [p.name for p in out.parent.iterdir()] == ["avg.keras"]  # written whole, no temporary left


def test_seed_architecture_is_the_articles():
    model = build_model("seed", num_classes=10)
    kinds = [layer.__class__.__name__ for layer in model.layers[1:]]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout", "Dense"]
    assert model.output_shape == (None, 10)


def test_shipped_model_reads_mnist(mnist_slice):
    _, (x_test, y_test) = mnist_slice
    keras_model = KerasClassifier(default_model_path("keras"), device="cpu")
    result = scores(predict_probabilities(keras_model.predict, _x(x_test)), y_test)
    assert result["accuracy"] >= 0.99, result["accuracy"]


@pytest.mark.parametrize("backend, agreement", [("lite", 0.999), ("lite-int8", 0.99)])
def test_shipped_lite_models_agree_with_keras(mnist_slice, backend, agreement):
    _, (x_test, _) = mnist_slice
    x = _x(x_test)
    reference = predict_probabilities(KerasClassifier(device="cpu").predict, x).argmax(1)
    lite = load_classifier(backend)
    assert lite.name == backend
    # Uneven batch sizes exercise the padding to LiteRT's fixed batch buckets.
    got = np.concatenate([lite.predict(x[i: i + n]) for i, n in zip(range(0, 1000, 37), [37] * 28)]).argmax(1)
    assert (got == reference[: len(got)]).mean() >= agreement


def test_classifier_handles_empty_and_odd_batches():
    lite = LiteClassifier()
    assert lite.predict(np.zeros((0, 28, 28, 1), np.float32)).shape == (0, lite.num_classes)
    assert lite.predict(np.zeros((3, 28, 28), np.float32)).shape == (3, lite.num_classes)
    with pytest.raises(ValueError, match=r"\(N, 28, 28, 1\)"):
        lite.predict(np.zeros((3, 32, 32, 1), np.float32))


@pytest.mark.parametrize("int8", [False, True])
def test_a_crop_reads_alike_in_any_batch(mnist_slice, int8):
    # Batches are padded up to a few sizes: what a crop reads must not depend on the crops beside it.
    (x, _), _ = mnist_slice
    crops = (x[:40].astype(np.float32) / 255.0)[..., None]
    lite = LiteClassifier(int8=int8)
    whole = lite.predict(crops)
    for n in (1, 5, 9, 12, 13, 17, 20, 23):
        np.testing.assert_allclose(lite.predict(crops[:n]), whole[:n], atol=1e-6)


def test_export_round_trip(tmp_path, mnist_slice):
    from livedigits.train.export import export

    result = export(default_model_path("keras"), tmp_path, name="digits", data=mnist_slice, log=lambda m: None)
    assert (tmp_path / "digits" / "1" / "saved_model.pb").is_file()
    acc = result["accuracy"]
    assert acc["tflite"] == pytest.approx(acc["keras"], abs=0.002)
    assert acc["saved_model"] == pytest.approx(acc["keras"], abs=0.002)
    assert acc["tflite_int8"] >= acc["keras"] - 0.01
    _, (x_test, _) = mnist_slice
    x = _x(x_test[:200])
    keras_labels = KerasClassifier(device="cpu").predict(x).argmax(1)
    assert (LiteClassifier(tmp_path / "digits.tflite").predict(x).argmax(1) == keras_labels).mean() >= 0.995
    # A second export is the next version beside the first, which stays as it was (TF Serving may serve it).
    first = sorted(p.name for p in (tmp_path / "digits" / "1").rglob("*"))
    again = export(default_model_path("keras"), tmp_path, name="digits", data=mnist_slice, log=lambda m: None)
    assert again["saved_model"] == str(tmp_path / "digits" / "2")
    assert (tmp_path / "digits" / "2" / "saved_model.pb").is_file()
    assert sorted(p.name for p in (tmp_path / "digits" / "1").rglob("*")) == first
    assert sorted(p.name for p in (tmp_path / "digits").iterdir()) == ["1", "2"]  # no temporary left


def test_missing_and_damaged_models_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "nope.keras")
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"PK\x03\x04 not really a keras file")
    with pytest.raises(ModelError, match="cannot load"):
        load_model(bad)
    bad_lite = tmp_path / "bad.tflite"
    bad_lite.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError):
        LiteClassifier(bad_lite)


def test_wrong_shaped_model_names_the_expected_shapes(tmp_path):
    import keras

    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Dense(5)(keras.layers.Flatten()(inputs)))
    path = tmp_path / "wrong.keras"
    model.save(path)
    with pytest.raises(ModelError, match=r"expected input \(N, 28, 28, 1\)"):
        load_model(path)


def test_runs_of_any_seed_keep_the_same_digits_aside():
    # Runs of other seeds are compared and averaged on the digits kept aside: they must be the same digits,
    # those of a seed-0 run, and the run's own stream must go on as it did before the split had a seed.
    from livedigits.train.training import TrainConfig, kept_aside_split

    n = 60000
    kept0, train0 = kept_aside_split(n, TrainConfig(seed=0), np.random.default_rng(0))
    kept3, train3 = kept_aside_split(n, TrainConfig(seed=3), np.random.default_rng(3))
    assert len(kept0) == 6000 and np.array_equal(kept0, kept3) and np.array_equal(np.sort(train0), np.sort(train3))
    assert np.array_equal(kept0, np.random.default_rng(0).permutation(n)[:6000])
    assert not set(kept0) & set(train0) and len(kept0) + len(train0) == n
    mine, before = np.random.default_rng(3), np.random.default_rng(3)
    kept_aside_split(n, TrainConfig(seed=3), mine)
    before.permutation(n)
    assert mine.random() == before.random()
    other, _ = kept_aside_split(n, TrainConfig(seed=3, split_seed=3), np.random.default_rng(3))
    assert len(set(other) & set(kept0)) < 1000


def test_distillation_keeps_the_student_near_its_teacher(tmp_path, mnist_slice):
    # --distill 1 --teacher T from T's own weights: the student learns T's probabilities for every crop, so
    # after an epoch at a high rate it reads MNIST test digits closer to T than the same epoch on the labels.
    (x_train, y_train), (x_test, _) = mnist_slice
    start = tmp_path / "start.keras"
    train(TrainConfig(epochs=2, limit=300, batch_size=64, writers=0.0), tmp_path / "t", data=mnist_slice, verbose=0)
    load_model(tmp_path / "t" / "model.keras").save(start)
    out = {}
    for name, distill in (("plain", 0.0), ("distilled", 1.0)):
        summary = train(TrainConfig(epochs=1, limit=300, batch_size=64, lr=3e-3, init=str(start), writers=0.0,
                                    distill=distill, teacher=str(start) if distill else None), tmp_path / name,
                        data=mnist_slice, verbose=0)
        assert "accuracy" in summary["history"] and "val_accuracy" in summary["history"]
        out[name] = predict_probabilities(load_model(tmp_path / name / "model.keras"), _x(x_test[:300]))
    teacher = predict_probabilities(load_model(start), _x(x_test[:300]))
    assert np.abs(out["distilled"] - teacher).mean() < np.abs(out["plain"] - teacher).mean()


def test_distillation_needs_a_teacher(tmp_path, mnist_slice):
    with pytest.raises(UsageError, match="--teacher"):
        train(TrainConfig(epochs=1, limit=300, distill=0.5), tmp_path, data=mnist_slice, verbose=0)


def test_distillation_targets_take_the_mnist_rows_from_the_mnist_teacher():
    # --teacher-mnist: the MNIST digits (first in each batch) learn from it, the rest from --teacher.
    from livedigits.train.training import distill_targets

    teacher, teacher_mnist = build_model("default"), build_model("default")
    x = np.random.default_rng(0).random((6, 28, 28, 1)).astype(np.float32)
    targets = distill_targets((teacher, teacher_mnist), x, np.array([0, 1, 2, 3, 10, 10]), 4)
    assert targets.shape == (6, 22)
    assert np.array_equal(targets[:, :11].argmax(1), [0, 1, 2, 3, 10, 10])
    np.testing.assert_allclose(targets[:4, 11:], np.asarray(teacher_mnist(x[:4], training=False)), atol=1e-6)
    np.testing.assert_allclose(targets[4:, 11:], np.asarray(teacher(x[4:], training=False)), atol=1e-6)


def test_distillation_leaves_the_label_styles_to_their_labels(mnist_slice):
    # --label-styles bar4 with --distill: the pool rows of that style take their label alone (the teacher reads
    # a third of them as 5 or 6), every other crop, MNIST and the other pool rows, keeps the teacher's reading.
    from livedigits.train.training import make_sequence

    (x_train, y_train), _ = mnist_slice
    teacher = build_model("default")
    marks = np.random.default_rng(0).random((50, 28, 28)).astype(np.float32)
    pool = np.random.default_rng(1).integers(0, 255, (100, 28, 28)).astype(np.uint8)
    pool_labels = np.full(100, 4)
    own_rows = np.arange(100) < 50
    cfg = TrainConfig(batch_size=128, writers=1.0, distill=0.9, teacher="t.keras", label_styles=("bar4",))
    batches = make_sequence(x_train[:100], y_train[:100], marks, cfg, 0, pool, pool_labels, teachers=(teacher, teacher),
                            own_extra=own_rows)
    x, y = batches[0]
    onehot, soft = y[:, :11], y[:, 11:]
    own = np.all(soft == onehot, axis=1)
    assert 0 < own.sum() < len(y)
    np.testing.assert_allclose(soft[~own], np.asarray(teacher(x[~own], training=False)), atol=1e-6)
    # Which rows: the batch's pool crops of the marked rows, none of MNIST.
    ids = batches.order[: cfg.batch_size]
    extra = (ids >= 100) & (ids < batches.n_digits)
    expected_own = own_rows[batches.extra_pick[ids[extra] - 100]].sum()
    assert own.sum() == expected_own
    with pytest.raises(UsageError):
        TrainConfig(label_styles=("bar4",)).check()  # without --distill
    with pytest.raises(UsageError):
        TrainConfig(distill=0.5, teacher="t.keras", label_styles=("nosuch",)).check()


def test_distillation_leaves_the_grainy_crops_to_their_labels(mnist_slice):
    # --grainy with --distill: a crop cut grainy is the kind a run is to read anew, where the shipped teacher
    # reads "no digit"; its target is its label alone (teacher's half = the one-hot label), every other crop
    # keeps the teacher's probabilities.
    from livedigits.train.augment import AugmentConfig, augment_batch
    from livedigits.train.training import make_sequence

    (x_train, y_train), _ = mnist_slice
    teacher = build_model("default")
    marks = np.random.default_rng(0).random((50, 28, 28)).astype(np.float32)
    for share in (0.0, 0.5):
        cfg = TrainConfig(batch_size=64, writers=0.0, grainy=share, distill=0.5, teacher="t.keras")
        x, y = make_sequence(x_train[:200], y_train[:200], marks, cfg, 0, teachers=(teacher, teacher))[0]
        onehot, soft = y[:, :11], y[:, 11:]
        own = np.all(soft == onehot, axis=1)
        np.testing.assert_allclose(soft[~own], np.asarray(teacher(x[~own], training=False)), atol=1e-6)
        if share == 0:
            assert not own.any()
        else:  # about half the digits and marks cut grainy (a few too far gone: those keep the usual cut)
            assert 0.25 * len(y) <= own.sum() <= 0.6 * len(y)
    # The flags come from the same random stream: the crops are those of a plain call.
    images = x_train[:40]
    crops, cut = augment_batch(images, np.random.default_rng(3), AugmentConfig(grainy=0.5), with_grainy=True)
    assert np.array_equal(crops, augment_batch(images, np.random.default_rng(3), AugmentConfig(grainy=0.5)))
    assert 8 <= cut.sum() <= 32

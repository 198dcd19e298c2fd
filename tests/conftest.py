import os
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
    for number in range(90, 130):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(f"/tmp/.X{number}-lock"):
            break
    display = f":{number}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(f"/tmp/.X11-unix/X{number}") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.exists(f"/tmp/.X11-unix/X{number}"), "Xvfb did not start"
        yield display
    finally:
        server.terminate()
        server.wait(10)

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
    # "could not connect to display"). A client is then let in once (xdotool asks the screen's size) before the
    # display is handed on: in one CI run of the whole suite a window still could not connect to a display
    # Xvfb had reported, so a server no client reaches is started again (three tries at most). The server is
    # started with -noreset: by default Xvfb resets itself when its last client leaves, and a window opening
    # while it resets (just after that xdotool check closed) could not connect (session 23's CI: "could not
    # connect to display :0" from the collect window, on a display xdotool had just reached).
    tries = []
    for _ in range(3):
        server, display = _start_xvfb()
        if display is not None and subprocess.run(["xdotool", "getdisplaygeometry"], env=dict(os.environ, DISPLAY=display),
                                                  capture_output=True, timeout=30).returncode == 0:
            break
        tries.append(f"{display or 'no display'} (Xvfb exit {server.poll()})")
        _stop(server)
    else:
        pytest.fail(f"Xvfb gave no display a client could reach: {', '.join(tries)}")
    try:
        yield display
    finally:
        _stop(server)


def _start_xvfb() -> tuple[subprocess.Popen, str | None]:
    """An Xvfb server on a display it picks, and that display once it says it accepts clients (None if it never says)."""
    ready, told = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(told), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                               "-nolisten", "tcp", "-noreset"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
    finally:
        os.close(ready)
    return server, (f":{said.strip().decode()}" if said.strip().isdigit() else None)


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(10)

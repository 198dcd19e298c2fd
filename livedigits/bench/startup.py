"""Start-up time (``--startup``): from the command ``livedigits run`` to its first result."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

from livedigits.bench.options import ROOT

#: How long one start-up run may take before it is stopped and reported as timed out.
STARTUP_TIMEOUT_S = 300.0


def measure_startup(spec, backend: str, runs: int) -> dict:
    """Seconds from starting ``livedigits run SPEC --headless --max-frames 1`` to its first result line.

    The result is read from ``--jsonl /dev/stdout`` as the child writes it; ``exit_s`` is until the
    child has shut down too.
    """
    command = [sys.executable, "-m", "livedigits", "run"]
    if spec is not None:
        command.append(str(spec))
    command += ["--headless", "--max-frames", "1", "--jsonl", "/dev/stdout"]
    if backend != "auto":
        command += ["--backend", backend]
    from livedigits.capture.cameras import current

    if current() != "auto":
        command += ["--camera-api", current()]  # the camera opens in the child as it does here
    # The child imports this very package, installed or not.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    first, total, errors = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        got = None
        try:
            for line in proc.stdout:
                if line.startswith(b"{"):
                    got = time.perf_counter() - started
                    break
            _, err = proc.communicate(timeout=STARTUP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            errors.append(f"timed out after {STARTUP_TIMEOUT_S:g} s")
            continue
        total.append(time.perf_counter() - started)
        if got is None or proc.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            errors.append(lines[-1] if lines else f"exit code {proc.returncode}")
        else:
            first.append(got)
    return {
        "command": " ".join(command),
        "first_result_s": first,
        "exit_s": total,
        "median_first_result_s": float(np.median(first)) if first else None,
        "errors": errors,
    }

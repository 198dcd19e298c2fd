"""livedigits doctor: a report a user can paste, with what is really there."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def doctor(*args, env=None, code=None):
    command = [sys.executable, "-c", code, "doctor", *args] if code else [sys.executable, "-m", "livedigits", "doctor", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)


def test_doctor_reports_versions_backends_display_and_model_checksums():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "LIVEDIGITS_MODELS")}
    done = doctor("--json", env=env)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    import cv2

    assert found["opencv"]["version"] == cv2.__version__
    assert "FFMPEG" in found["opencv"]["stream_backends"]
    assert found["display"].startswith("none")
    import glob

    if not glob.glob("/dev/video*"):
        assert found["cameras"] == {"api": "v4l2", "devices": []}
    assert {row["package"] for row in found["packages"]} >= {"numpy", "opencv-python", "ai-edge-litert", "tensorflow"}
    files = {entry["kind"]: entry for entry in found["models"]["files"]}
    shipped = ROOT / "models" / "livedigits_int8.tflite"
    assert files["lite-int8"]["sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert files["lite-int8"]["bytes"] == shipped.stat().st_size
    text = doctor(env=env)
    assert text.returncode == 0
    assert files["lite-int8"]["sha256"] in text.stdout and "GUI" in text.stdout
    if not glob.glob("/dev/video*"):
        assert "cameras    none in /dev/video*" in text.stdout


def test_doctor_says_what_is_missing_and_how_to_add_it(tmp_path):
    hide = ("import sys\nfor name in ('tensorflow', 'keras', 'matplotlib'):\n    sys.modules[name] = None\n"
            "from livedigits.cli.main import main\nsys.exit(main(sys.argv[1:]))\n")
    env = {**os.environ, "LIVEDIGITS_MODELS": str(tmp_path)}
    done = doctor(env=env, code=hide)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    tf = next(line for line in lines if line.strip().startswith("tensorflow"))
    assert "not installed" in tf and "pip install 'livedigits[train]'" in tf
    assert sum("MISSING" in line for line in lines) == 3
    assert f"LIVEDIGITS_MODELS={tmp_path}" in done.stdout

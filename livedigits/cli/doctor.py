"""``livedigits doctor``: what this machine and install are, as a user pastes it into a bug report.

Everything here is looked up, not assumed: package versions from their metadata, OpenCV's capture
backends from its own registry and its GUI from its build information, a GPU from the driver's tools,
the model files by their checksums. TensorFlow is only looked for (importing it takes seconds), unless
``--tensorflow`` asks which GPUs it sees.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from livedigits import __version__
from livedigits.cli.logs import SET_HERE
from livedigits.util.extras import GPU_INSTALL, PLOT_INSTALL, RAY_INSTALL, TRAIN_INSTALL, installed

#: (distribution, import name, what it is for, how to add it when missing; None: part of the core).
PACKAGES = (
    ("numpy", "numpy", "arrays", None),
    ("opencv-python", "cv2", "capture, segmentation, windows", None),
    ("ai-edge-litert", "ai_edge_litert", "the LiteRT backend", None),
    ("pillow", "PIL", "image headers", None),
    ("tqdm", "tqdm", "progress bars", None),
    ("starlette", "starlette", "serve", None),
    ("uvicorn", "uvicorn", "serve", None),
    ("python-multipart", "multipart", "serve uploads", None),
    ("prometheus-client", "prometheus_client", "serve /metrics", None),
    ("tensorflow", "tensorflow", "train, export, finetune, the Keras backend", TRAIN_INSTALL),
    ("keras", "keras", "train, export, finetune, the Keras backend", TRAIN_INSTALL),
    ("matplotlib", "matplotlib", "PNG plots", PLOT_INSTALL),
    ("ray", "ray", "run --ray (reading on a cluster)", RAY_INSTALL),
)

#: Environment variables livedigits reads, or that change what it prints.
ENVIRONMENT = ("LIVEDIGITS_MODELS", "LIVEDIGITS_DATA", "LIVEDIGITS_USPS", "TF_CPP_MIN_LOG_LEVEL",
               "OPENCV_LOG_LEVEL", "OPENCV_FFMPEG_LOGLEVEL", "OPENCV_VIDEOIO_PRIORITY_LIST", "CUDA_VISIBLE_DEVICES",
               "DISPLAY", "WAYLAND_DISPLAY", "RAY_ADDRESS", "RAY_AUTH_MODE")


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def packages() -> list[dict]:
    rows = []
    for distribution, module, purpose, install in PACKAGES:
        version = _version(distribution) if installed(module) else None
        rows.append({"package": distribution, "version": version, "for": purpose,
                     "install": install if version is None else None})
    return rows


def opencv() -> dict:
    import cv2
    from cv2 import videoio_registry as registry

    def names(backends):
        return [registry.getBackendName(b) for b in backends]

    info = cv2.getBuildInformation()
    gui = "unknown"
    for line in info.splitlines():
        if line.strip().startswith("GUI:"):
            gui = line.split(":", 1)[1].strip() or "none"
            break
    return {
        "version": cv2.__version__,
        "gui": gui,
        "camera_backends": names(registry.getCameraBackends()),
        "stream_backends": names(registry.getStreamBackends()),
        "file_backends": names(registry.getBackends()),
        "ffmpeg": "FFMPEG" in names(registry.getStreamBackends()),
    }


def gpus(ask_tensorflow: bool = False) -> dict:
    """GPUs the NVIDIA driver lists (``nvidia-smi -L``), and with ``ask_tensorflow`` those TensorFlow sees."""
    found: dict = {"nvidia_smi": None, "tensorflow": None}
    tool = shutil.which("nvidia-smi")
    if tool:
        try:
            done = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=10)
            found["nvidia_smi"] = [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []
        except (OSError, subprocess.SubprocessError):
            found["nvidia_smi"] = []
    if ask_tensorflow and installed("tensorflow"):
        from livedigits.classify.backends import gpu_devices

        found["tensorflow"] = gpu_devices()
    return found


def display() -> str:
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        shown = [f"{name}={os.environ[name]}" for name in ("DISPLAY", "WAYLAND_DISPLAY") if os.environ.get(name)]
        return ", ".join(shown) if shown else "none (no DISPLAY or WAYLAND_DISPLAY: use --headless, or serve)"
    return f"the desktop of {platform.system()}"


def cameras() -> dict:
    """The capture API ``auto`` means here, and on Linux the video devices listed (none is opened)."""
    from livedigits.capture.cameras import linux_devices, platform_default

    devices = None
    if sys.platform.startswith("linux"):
        devices = [{"index": i, "device": path, "name": name} for i, path, name in linux_devices()]
    return {"api": platform_default(), "devices": devices}


def models() -> dict:
    from livedigits.classify.modelfile import MODEL_FILES, MODELS_ENV, default_model_path

    files = []
    for kind in MODEL_FILES:
        path = default_model_path(kind)
        entry = {"kind": kind, "path": str(path)}
        if path.is_file():
            entry.update(bytes=path.stat().st_size, sha256=sha256(path))
        else:
            entry["missing"] = True
        files.append(entry)
    return {"folder": str(default_model_path("keras").parent), "from": MODELS_ENV if os.environ.get(MODELS_ENV) else "the package", "files": files}


def report(ask_tensorflow: bool = False) -> dict:
    from livedigits.train.data import cache_path

    cache = cache_path()
    return {
        "livedigits": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "packages": packages(),
        "opencv": opencv(),
        "gpu": gpus(ask_tensorflow),
        "display": display(),
        "cameras": cameras(),
        "models": models(),
        "mnist_cache": {"path": str(cache), "present": cache.is_file()},
        "environment": {name: os.environ[name] for name in ENVIRONMENT if name in os.environ and name not in SET_HERE},
    }


def text(found: dict) -> str:
    lines = [f"livedigits {found['livedigits']}", f"python     {found['python']}",
             f"platform   {found['platform']} ({found['machine']}, {found['cpus']} CPUs)", "", "packages:"]
    for row in found["packages"]:
        added = "" if row["version"] else f" (add: {row['install']})"
        lines.append(f"  {row['package']:<18} {row['version'] or 'not installed':<14} {row['for']}{added}")
    cv = found["opencv"]
    lines += ["", f"opencv {cv['version']}: GUI {cv['gui']}; FFmpeg {'yes' if cv['ffmpeg'] else 'no'}",
              f"  camera backends: {', '.join(cv['camera_backends']) or 'none'}",
              f"  stream backends: {', '.join(cv['stream_backends']) or 'none'}"]
    gpu = found["gpu"]
    if gpu["nvidia_smi"]:
        gpu_line = "; ".join(gpu["nvidia_smi"])
    elif gpu["nvidia_smi"] is None:
        gpu_line = "none found (no nvidia-smi)"
    else:
        gpu_line = "none listed by nvidia-smi"
    if gpu["tensorflow"] is not None:
        gpu_line += f"; TensorFlow sees: {', '.join(gpu['tensorflow']) or 'none'}"
    elif not any(r["package"] == "tensorflow" and r["version"] for r in found["packages"]):
        gpu_line += f"; the GPU path needs {GPU_INSTALL}"
    else:
        gpu_line += "; `livedigits doctor --tensorflow` asks TensorFlow too"
    lines += [f"gpu        {gpu_line}", f"display    {found['display']}", "",
              f"models in {found['models']['folder']} (from {found['models']['from']}):"]
    for entry in found["models"]["files"]:
        if entry.get("missing"):
            lines.append(f"  {entry['kind']:<10} MISSING {entry['path']}")
        else:
            lines.append(f"  {entry['kind']:<10} {Path(entry['path']).name}  {entry['bytes']} bytes  sha256 {entry['sha256']}")
    cache = found["mnist_cache"]
    lines.append(f"mnist cache {cache['path']} ({'present' if cache['present'] else 'absent'})")
    if found["environment"]:
        lines.append("environment: " + "  ".join(f"{k}={v}" for k, v in found["environment"].items()))
    cams = found["cameras"]
    if cams["devices"] is None:
        listed = "`livedigits cameras` tries them"
    elif cams["devices"]:
        listed = ", ".join(f"{d['device']} ({d['name'] or 'no name'})" for d in cams["devices"]) + "; `livedigits cameras` opens them"
    else:
        listed = "none in /dev/video*"
    lines.append(f"cameras    {listed}; opened with {cams['api']} (--camera-api auto here)")
    return "\n".join(lines)

"""The machine a bench ran on: CPU, cores, memory, load, GPU visibility, library versions, and this
process's resident memory."""

from __future__ import annotations

import glob
import os
import platform
import sys

import numpy as np

from livedigits.util.extras import distribution_version as package_version


def machine_info() -> dict:
    """CPU, cores, memory, load, GPU visibility and library versions, without importing TensorFlow.

    The GPU is asked of TensorFlow when this process has already loaded it (a Keras run); otherwise
    NVIDIA device files are looked for, so a LiteRT-only bench stays as light as ``livedigits run``.
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_mb = None
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    memory_mb = int(line.split()[1]) / 1024.0
                    break
    except (OSError, ValueError):
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    load = load_average()
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
        gpu_how = "TensorFlow lists none" if not gpus else "listed by TensorFlow"
    else:
        gpus = sorted(p for p in glob.glob("/dev/nvidia[0-9]*"))
        gpu_how = "no /dev/nvidia*; TensorFlow not loaded by this run"
    import cv2

    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average": load,
        "memory_mb": round(memory_mb) if memory_mb else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpus": gpus,
        "gpu_visible": bool(gpus),
        "gpu_check": gpu_how,
        "versions": {
            "tensorflow": package_version("tensorflow"),
            "keras": package_version("keras"),
            "ai-edge-litert": package_version("ai-edge-litert"),
            "opencv": cv2.__version__,
            "numpy": np.__version__,
        },
    }


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, rounded; None where the system has none."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def rss_mb() -> float:
    """Resident set size of this process now, in MB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # ru_maxrss is in bytes on macOS and in kilobytes on Linux and the BSDs.
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3

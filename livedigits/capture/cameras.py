"""Cameras on every desktop: which OpenCV capture API opens them, what to tell a user whose camera will
not open, and the list of cameras this machine can open (``livedigits cameras``).

OpenCV's ``CAP_ANY`` tries its backends in its own order; on Windows that is Media Foundation (MSMF),
which takes seconds to open many webcams, where DirectShow opens them at once. ``auto`` therefore picks
per platform: DirectShow on Windows, AVFoundation on macOS, V4L2 on Linux, OpenCV's own order elsewhere.
``--camera-api`` names another (``msmf`` for a camera only Media Foundation drives, ``gstreamer`` for a
pipeline, ``any`` for OpenCV's order).
"""

from __future__ import annotations

import glob
import re
import sys

#: ``--camera-api`` values, and the OpenCV constant of each.
CAMERA_APIS = {
    "auto": None,
    "any": "CAP_ANY",
    "v4l2": "CAP_V4L2",
    "dshow": "CAP_DSHOW",
    "msmf": "CAP_MSMF",
    "avfoundation": "CAP_AVFOUNDATION",
    "gstreamer": "CAP_GSTREAMER",
}
#: What ``auto`` means on each platform.
PLATFORM_DEFAULT = {"win32": "dshow", "darwin": "avfoundation", "linux": "v4l2"}
#: Camera indices ``livedigits cameras`` tries where the system does not list its devices.
PROBE_INDICES = 10

_chosen = {"api": "auto"}


def platform_default(platform: str | None = None) -> str:
    platform = platform or sys.platform
    return next((api for prefix, api in PLATFORM_DEFAULT.items() if platform.startswith(prefix)), "any")


def set_default(name: str) -> None:
    """The capture API cameras are opened with in this process (the CLI's ``--camera-api``)."""
    check(name)
    _chosen["api"] = name


def current() -> str:
    """The ``--camera-api`` in effect in this process."""
    return _chosen["api"]


def check(name: str) -> str:
    from livedigits.errors import UsageError

    if name not in CAMERA_APIS:
        raise UsageError(f"--camera-api must be one of {', '.join(CAMERA_APIS)}, got {name!r}")
    return name


def resolve(name: str | None = None, platform: str | None = None) -> tuple[str, int]:
    """``(name, OpenCV constant)`` of the API to open cameras with: ``name``, or the process default,
    with ``auto`` made concrete for ``platform``."""
    import cv2

    from cv2 import videoio_registry as registry

    from livedigits.errors import SourceError

    name = check(name or _chosen["api"])
    asked = name
    if name == "auto":
        name = platform_default(platform)
    constant = int(getattr(cv2, CAMERA_APIS[name]))
    if name != "any" and not registry.hasBackend(constant):
        if asked == "auto":  # an OpenCV built without the usual one: its own order still finds a camera
            return "any", int(cv2.CAP_ANY)
        have = ", ".join(registry.getBackendName(b) for b in registry.getCameraBackends()) or "none"
        raise SourceError(f"--camera-api {name}: this OpenCV build has no {name} backend (its camera backends: {have}); "
                          "use --camera-api auto")
    return name, constant


def hint(platform: str | None = None, listing: bool = True) -> str:
    """What to try when a camera will not open, for this platform (``listing``: starting with how to list
    the cameras)."""
    platform = platform or sys.platform
    first = ["list the cameras with `livedigits cameras`"] if listing else []
    if platform.startswith("linux"):
        rest = ["check the camera shows in `ls /dev/video*` and that you are in the `video` group"]
    elif platform == "win32":
        rest = ["check Settings > Privacy & security > Camera lets desktop apps use it",
                "a camera only Media Foundation drives needs --camera-api msmf"]
    elif platform == "darwin":
        rest = ["allow your terminal in System Settings > Privacy & Security > Camera"]
    else:
        rest = ["try --camera-api any"]
    return "; ".join(first + rest)


#: What OpenCV's AVFoundation backend prints when macOS refuses the camera to this process.
_REFUSED = re.compile(r"not authori[sz]ed to capture video", re.IGNORECASE)


def refused_permission(native_log: str) -> bool:
    return bool(_REFUSED.search(native_log or ""))


PERMISSION_MESSAGE = (
    "macOS refused the camera to this program: allow your terminal (or the app that runs livedigits) in "
    "System Settings > Privacy & Security > Camera, then start it again"
)


# --------------------------------------------------------------------------- listing


def linux_devices() -> list[tuple[int, str, str | None]]:
    """``(index, /dev/videoN, name)`` of the video devices Linux lists, in index order."""
    found = []
    for path in glob.glob("/dev/video[0-9]*"):
        match = re.fullmatch(r"/dev/video(\d+)", path)
        if not match:
            continue
        index = int(match.group(1))
        name = None
        try:
            with open(f"/sys/class/video4linux/video{index}/name", encoding="utf-8", errors="replace") as handle:
                name = handle.read().strip() or None
        except OSError:
            pass
        found.append((index, path, name))
    return sorted(found)


def list_cameras(api: str | None = None, indices: int = PROBE_INDICES, platform: str | None = None) -> dict:
    """Open each camera this machine may have and read one frame: ``{"api", "tried", "cameras": [...]}``,
    each camera ``{"index", "device", "name", "width", "height", "fps"}``. On Linux the devices listed in
    /dev are tried (with their names from the driver); elsewhere indices 0 to ``indices - 1``. A device
    that opens but gives no frame (a metadata node, a camera in use) is listed with ``"error"``."""
    import cv2

    from livedigits.capture import opencv

    platform = platform or sys.platform
    name, constant = resolve(api, platform)
    if platform.startswith("linux") and name in ("v4l2", "any"):
        candidates = [(index, path, label) for index, path, label in linux_devices()]
        tried = f"{len(candidates)} device(s) in /dev/video*"
    else:
        candidates = [(index, None, None) for index in range(indices)]
        tried = f"indices 0-{indices - 1}"
    cameras = []
    for index, device, label in candidates:
        with opencv.quiet_log():
            capture = opencv.new_capture(index, constant, [])
        try:
            if not capture.isOpened():
                if device is not None:
                    cameras.append({"index": index, "device": device, "name": label, "error": "cannot be opened"})
                continue
            ok, image = capture.read()
            entry = {"index": index, "device": device, "name": label}
            if not ok or image is None:
                entry["error"] = "opens but gives no frame (in use, or not a capture device)"
            else:
                fps = capture.get(cv2.CAP_PROP_FPS)
                entry.update(width=int(image.shape[1]), height=int(image.shape[0]),
                             fps=round(float(fps), 1) if fps and fps > 0 and fps < 1000 else None)
            cameras.append(entry)
        finally:
            capture.release()
    return {"api": name, "tried": tried, "cameras": cameras}


def text(found: dict, platform: str | None = None) -> str:
    working = [c for c in found["cameras"] if "error" not in c]
    lines = []
    for camera in found["cameras"]:
        where = camera["device"] or f"camera {camera['index']}"
        label = f" {camera['name']!r}" if camera.get("name") else ""
        if "error" in camera:
            lines.append(f"{camera['index']}  {where}{label}: {camera['error']}")
        else:
            fps = f" at {camera['fps']:g} fps" if camera.get("fps") else ""
            lines.append(f"{camera['index']}  {where}{label}: {camera['width']}x{camera['height']}{fps}"
                         f"  (livedigits run {camera['index']})")
    if not working:
        lines.append(f"no camera found ({found['tried']}, with {found['api']}); {hint(platform, listing=False)}; "
                     "or read the bundled sample: livedigits run samples/demo.mp4")
    return "\n".join(lines)


__all__ = ["CAMERA_APIS", "check", "hint", "list_cameras", "platform_default", "refused_permission", "resolve",
           "set_default", "text"]

"""Cameras on every desktop: the capture API per platform, the list of cameras, hints that fit the
platform, and macOS's refusal told apart (OpenCV's capture is faked: no camera is needed)."""

import glob
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits.capture import cameras

from livedigits.capture import opencv, sources
from livedigits.errors import SourceError

ROOT = Path(__file__).resolve().parent.parent


class Capture:
    """A camera as cv2.VideoCapture shows it: opened or not, one frame of a size."""

    def __init__(self, opened=True, size=(640, 480), frames=True):
        self.opened, self.size, self.frames = opened, size, frames

    def isOpened(self):
        return self.opened

    def read(self):
        if not self.frames:
            return False, None
        return True, np.full((self.size[1], self.size[0], 3), 200, np.uint8)

    def get(self, prop):
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def set(self, prop, value):
        return True

    def release(self):
        pass


@pytest.fixture()
def every_backend(monkeypatch):
    """This OpenCV build (Linux) lacks DirectShow and AVFoundation; the tests of other platforms pretend."""
    monkeypatch.setattr(cv2.videoio_registry, "hasBackend", lambda api: True)
    yield
    cameras.set_default("auto")


@pytest.mark.parametrize("platform, api, constant", [
    ("win32", "dshow", cv2.CAP_DSHOW), ("darwin", "avfoundation", cv2.CAP_AVFOUNDATION),
    ("linux", "v4l2", cv2.CAP_V4L2), ("freebsd14", "any", cv2.CAP_ANY)])
def test_auto_picks_the_platforms_api(every_backend, platform, api, constant):
    assert cameras.resolve("auto", platform) == (api, constant)


def test_a_camera_index_opens_with_the_chosen_api(every_backend, monkeypatch):
    used = []
    monkeypatch.setattr(opencv, "new_capture", lambda target, api, params: used.append((target, api)) or Capture())
    for name, constant in (("msmf", cv2.CAP_MSMF), ("any", cv2.CAP_ANY), ("gstreamer", cv2.CAP_GSTREAMER)):
        cameras.set_default(name)
        sources.open_source(1).stop()
        assert used[-1] == (1, constant)
    sources.open_source(2, camera_api="dshow").stop()
    assert used[-1] == (2, cv2.CAP_DSHOW)


def test_an_api_this_opencv_lacks_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "livedigits", "run", "0", "--headless", "--camera-api", "avfoundation"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    if cv2.videoio_registry.hasBackend(cv2.CAP_AVFOUNDATION):
        pytest.skip("this OpenCV has AVFoundation")
    assert done.returncode == 5 and "Traceback" not in done.stderr
    assert "--camera-api avfoundation: this OpenCV build has no avfoundation backend" in done.stderr


def test_listing_cameras_by_index(every_backend, monkeypatch):
    present = {0: Capture(size=(1280, 720)), 2: Capture(frames=False)}
    monkeypatch.setattr(opencv, "new_capture", lambda target, api, params: present.get(target, Capture(opened=False)))
    found = cameras.list_cameras("dshow", indices=4, platform="win32")
    assert found["api"] == "dshow" and found["tried"] == "indices 0-3"
    assert found["cameras"][0] == {"index": 0, "device": None, "name": None, "width": 1280, "height": 720, "fps": 30.0}
    assert found["cameras"][1]["index"] == 2 and "no frame" in found["cameras"][1]["error"]
    text = cameras.text(found, "win32")
    assert "0  camera 0: 1280x720 at 30 fps  (livedigits run 0)" in text
    monkeypatch.setattr(opencv, "new_capture", lambda *args: Capture(opened=False))
    none = cameras.text(cameras.list_cameras("dshow", indices=2, platform="win32"), "win32")
    assert none.startswith("no camera found (indices 0-1, with dshow)") and "Privacy" in none


def test_listing_linux_devices_with_their_names(monkeypatch):
    monkeypatch.setattr(cameras, "linux_devices", lambda: [(0, "/dev/video0", "HD Webcam"), (1, "/dev/video1", "HD Webcam")])
    monkeypatch.setattr(opencv, "new_capture", lambda target, api, params: Capture() if target == 0 else Capture(frames=False))
    found = cameras.list_cameras("v4l2", platform="linux")
    assert found["tried"] == "2 device(s) in /dev/video*"
    assert "0  /dev/video0 'HD Webcam': 640x480 at 30 fps" in cameras.text(found, "linux")


def test_cameras_and_doctor_say_so_without_a_camera():
    if glob.glob("/dev/video*"):
        pytest.skip("this machine has video devices")
    done = subprocess.run([sys.executable, "-m", "livedigits", "cameras"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 5, done.stderr  # no camera: a script can tell (the exit code of a camera that fails)
    assert done.stdout.startswith("no camera found (0 device(s) in /dev/video*, with v4l2)")


@pytest.mark.parametrize("platform, words", [("linux", "/dev/video"), ("win32", "--camera-api msmf"),
                                             ("darwin", "Privacy & Security > Camera")])
def test_hints_fit_the_platform(platform, words):
    assert words in cameras.hint(platform)
    others = {"linux": "/dev/video", "win32": "msmf", "darwin": "System Settings"}
    assert not any(w in cameras.hint(platform) for p, w in others.items() if p != platform)


def test_macos_refusal_is_told_apart(every_backend, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")

    def refused(target, api, params):
        os.write(2, b"OpenCV: not authorized to capture video (status 0), requesting...\n")
        return Capture(opened=False)

    monkeypatch.setattr(opencv, "new_capture", refused)
    with pytest.raises(SourceError, match="macOS refused the camera to this program: allow your terminal"):
        sources.open_source(0)
    monkeypatch.setattr(opencv, "new_capture", lambda *args: Capture(opened=False))
    with pytest.raises(SourceError, match="camera 0 cannot be opened: no such camera"):
        sources.open_source(0)

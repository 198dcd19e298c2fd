"""The server and the kept source under abuse (issue 13): secrets, counters, pacing, races, hostile
clients. Servers run on loopback only; every wait is a poll with a deadline."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from helpers_media import MjpegServer, free_port, wait_for, write_video
from livedigits import supervise
from livedigits.redact import public_text, redact_url
from livedigits.serve.hub import NumberLog
from livedigits.supervise import KeptSource

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


# --------------------------------------------------------------------------- secrets and paths


def test_redaction_of_urls_and_paths() -> None:
    assert redact_url("rtsp://admin:pa@ss@cam.local:554/live?token=abc&x=1") == "rtsp://***@cam.local:554/live?token=***&x=1"
    assert public_text("cannot open /srv/clips/demo.mp4 as a video") == "cannot open demo.mp4 as a video"
    assert public_text("camera 0") == "camera 0" and public_text("http://cam/live.mjpg") == "http://cam/live.mjpg"


def test_kept_source_never_shows_the_password_or_the_absolute_path(tmp_path: Path) -> None:
    port = free_port()  # nobody listens: the source goes unavailable with a reason that names it
    details: list[str] = []
    url = f"http://admin:hunter2@127.0.0.1:{port}/stream.mjpg"
    with KeptSource(url, open_timeout=1, on_state=lambda state, detail: details.append(detail)) as source:
        assert wait_for(lambda: (source.read(timeout=0.2), source.state)[1] == "unavailable", 10)
        assert "hunter2" not in source.name and "admin" not in source.name and "127.0.0.1" in source.name
        assert details and all("hunter2" not in d for d in details)
    video = write_video(tmp_path / "clip.avi", 3)
    with KeptSource(video) as source:
        assert source.name == "clip.avi" and str(tmp_path) not in source.name


# --------------------------------------------------------------------------- the kept source


def test_reconnects_inside_the_stream_are_counted() -> None:
    server = MjpegServer().start()
    try:
        with KeptSource(server.url, open_timeout=1, read_timeout=1) as source:
            assert source.read(timeout=5) is not None
            for outage in range(2):
                server.stop()
                assert wait_for(lambda: (source.read(timeout=0.2), source.state)[1] == "unavailable", 15)
                server.start()
                assert wait_for(lambda: (source.read(timeout=0.2), source.state)[1] == "live", 30)
            assert source.reconnects >= 2
    finally:
        server.stop()


def test_a_one_frame_video_is_replayed_at_a_sane_rate(tmp_path: Path) -> None:
    video = write_video(tmp_path / "one.avi", 1, fps=1000.0)  # one frame, and no usable frame rate (over 240)
    with KeptSource(video) as source:
        got, started = 0, time.monotonic()
        while time.monotonic() - started < 1.0:
            if source.read(timeout=0.1) is not None:
                got += 1
    assert 1 <= got <= supervise.DEFAULT_REPLAY_FPS + 5, got


def test_stop_while_a_source_opens_closes_the_new_source(monkeypatch: pytest.MonkeyPatch) -> None:
    opening, release = threading.Event(), threading.Event()

    class Fake:
        fps, size, frames_dropped, reconnects, state = None, (64, 48), 0, 0, "live"
        stopped = False

        def start(self):
            return self

        def read(self, timeout=None):
            return None

        def stop(self):
            Fake.stopped = True

    def slow_open(spec, **kwargs):
        opening.set()
        release.wait(10)
        return Fake()

    monkeypatch.setattr(supervise, "open_source", slow_open)
    source = KeptSource(0)  # a camera: opened by read(), in the reading thread
    reader = threading.Thread(target=source.read, kwargs={"timeout": 5}, daemon=True)
    reader.start()
    assert opening.wait(5)
    source.stop()  # from another thread, while the camera is being opened
    release.set()
    reader.join(10)
    assert not reader.is_alive() and Fake.stopped and source._inner is None


def test_number_log_can_be_read_while_the_pipeline_adds() -> None:
    log, errors, done = NumberLog(), [], threading.Event()

    def reader():
        try:
            while not done.is_set():
                log.confirmed()
        except RuntimeError as exc:  # "dictionary changed size during iteration"
            errors.append(exc)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    for i in range(60_000):
        log.add([str(i % 90), str(i)], float(i))
    done.set()
    thread.join(10)
    assert not errors

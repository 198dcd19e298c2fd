"""`livedigits serve`: every endpoint and every bad request, through Starlette's test client, and the
streams (MJPEG, Server-Sent Events) through a real uvicorn server on a loopback port."""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import uvicorn
from starlette.testclient import TestClient

from helpers_media import MjpegServer, wait_for
from livedigits.classify.backends import load_classifier
from livedigits.reading.recognizer import Recognizer
from livedigits.serve import bind, server_config
from livedigits.serve.app import create_app
from livedigits.serve import hub
from livedigits.serve.hub import LivePipeline
from livedigits.serve.metrics import Metrics
from livedigits.serve.predict import Predictor
from livedigits.capture.supervise import KeptSource

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
PAGE_NUMBERS = sorted(n["text"] for n in json.loads((SAMPLES / "page.json").read_text())["frames"][0]["numbers"])
DEMO_NUMBERS = {n["text"] for f in json.loads((SAMPLES / "demo.json").read_text())["frames"] for n in f["numbers"]}


@pytest.fixture(scope="module")
def classifier():
    return load_classifier("lite-int8")


@pytest.fixture()
def api(classifier):
    """The image API alone, as `livedigits serve` without a SOURCE."""
    with TestClient(create_app(Predictor(classifier), Metrics()), base_url="http://127.0.0.1") as client:
        yield client


def _encode(image: np.ndarray, ext: str, *params: int) -> bytes:
    ok, data = cv2.imencode(ext, image, list(params))
    assert ok
    return data.tobytes()


def _numbers(body: dict) -> list[str]:
    return sorted(n["text"] for n in body["numbers"])


# --------------------------------------------------------------------------- the image API


def test_api_only_server_pages_and_health(api: TestClient) -> None:
    page = api.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/static/kiosk.js" in page.text
    for asset in ("/static/kiosk.js", "/static/kiosk.css"):
        assert api.get(asset).status_code == 200
    assert "cdn" not in page.text.lower() and "http" not in api.get("/static/kiosk.js").text  # works offline
    assert api.get("/api/status").json()["state"] == "none"
    for path in ("/stream.mjpg", "/events", "/snapshot.jpg"):
        response = api.get(path)
        assert response.status_code == 404 and "image API only" in response.json()["error"]
    health = api.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["source"] is None
    missing = api.get("/nothing/here")
    assert missing.status_code == 404 and missing.json()["error"]


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp"])
def test_predict_reads_a_page_in_each_format(api: TestClient, ext: str) -> None:
    image = cv2.imread(str(SAMPLES / "page.png"))
    data = _encode(image, ext, *((cv2.IMWRITE_JPEG_QUALITY, 92) if ext == ".jpg" else ()),
                   *((cv2.IMWRITE_WEBP_QUALITY, 95) if ext == ".webp" else ()))
    response = api.post("/api/predict", files={"file": (f"page{ext}", data, "application/octet-stream")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "page" and (body["width"], body["height"]) == (1280, 960)
    assert _numbers(body) == PAGE_NUMBERS


def test_predict_turns_a_phone_photo_upright_by_its_exif_orientation(api: TestClient) -> None:
    import io

    from PIL import Image

    upright = Image.open(SAMPLES / "page.png").convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored a quarter turn anticlockwise; a viewer turns it clockwise
    buffer = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    response = api.post("/api/predict", content=buffer.getvalue(), headers={"content-type": "image/jpeg"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (1280, 960)
    assert _numbers(body) == PAGE_NUMBERS


def test_predict_takes_a_raw_body(api: TestClient) -> None:
    data = (SAMPLES / "page.png").read_bytes()
    response = api.post("/api/predict", content=data, headers={"content-type": "image/png"})
    assert response.status_code == 200 and _numbers(response.json()) == PAGE_NUMBERS
    # curl --data-binary sends a form content type; the file's own header says what it is.
    response = api.post("/api/predict", content=data, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and _numbers(response.json()) == PAGE_NUMBERS


def test_predict_reads_single_mnist_digits_and_canvas_drawings(api: TestClient, mnist_slice) -> None:
    (_, _), (x_test, y_test) = mnist_slice
    right = 0
    for image, label in zip(x_test[:30], y_test[:30]):
        body = api.post("/api/predict", content=_encode(image, ".png")).json()  # 28x28, white on black
        assert body["mode"] == "digit" and len(body["probabilities"]) == 11
        right += body["digit"] == int(label)
        if body["digit"] is not None:
            assert body["numbers"][0]["text"] == str(body["digit"])
    assert right >= 29
    # A canvas drawing: black strokes on white, 280x280; and the same with a transparent background.
    image, label = x_test[0], int(y_test[0])
    big = cv2.resize(image, (280, 280), interpolation=cv2.INTER_LINEAR)
    white = 255 - big
    assert api.post("/api/predict", content=_encode(white, ".png")).json()["digit"] == label
    transparent = np.dstack([np.zeros((280, 280, 3), np.uint8), big])  # ink is opaque black, the rest clear
    assert api.post("/api/predict", content=_encode(transparent, ".png")).json()["digit"] == label
    forced = api.post("/api/predict?mode=digit", content=_encode(white, ".png")).json()
    assert forced["mode"] == "digit" and forced["digit"] == label
    blank = api.post("/api/predict", content=_encode(np.full((28, 28), 255, np.uint8), ".png")).json()
    assert blank["digit"] is None and blank["numbers"] == []


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with a few bytes of image data: a decompression bomb's shape."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def test_predict_refuses_bad_uploads(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    png = (SAMPLES / "page.png").read_bytes()
    jpeg = _encode(cv2.imread(str(SAMPLES / "page.png")), ".jpg")
    corrupt = bytearray(png)
    corrupt[len(png) // 2: len(png) // 2 + 64] = bytes(64)  # whole length, bytes flipped inside the image data
    corrupt = bytes(corrupt)
    gif = io.BytesIO()
    from PIL import Image

    Image.new("L", (20, 20)).save(gif, format="GIF")
    cases = [
        ("text", dict(content=b"hello, this is not an image"), 415, "not an image"),
        ("gif", dict(content=gif.getvalue()), 415, "GIF images are not accepted"),
        ("truncated", dict(content=png[: len(png) // 2]), 400, "damaged"),
        ("truncated jpeg", dict(content=jpeg[: len(jpeg) // 2]), 400, "damaged or truncated JPEG"),
        ("corrupt png", dict(content=corrupt), 400, "damaged PNG"),
        ("empty", dict(content=b""), 400, "empty upload"),
        ("form without a file", dict(files={"name": (None, "page")}), 400, "no file in the form"),
        ("bad multipart", dict(content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}), 400, ""),
        ("bad mode", dict(content=png, params={"mode": "everything"}), 400, "mode must be one of"),
    ]
    for name, kwargs, status, text in cases:
        response = api.post("/api/predict", **kwargs)
        assert response.status_code == status, (name, response.text)
        assert response.headers["content-type"] == "application/json"
        assert text in response.json()["error"], name

    # Over the pixel limit: refused from the header, before anything is decoded.
    import livedigits.serve.app as app_module

    def no_decoding(*args):
        raise AssertionError("decoded an image over the pixel limit")

    monkeypatch.setattr(app_module, "decode_image", no_decoding)
    response = api.post("/api/predict", content=_png_header_only(30_000, 30_000))
    assert response.status_code == 413 and "900000000 pixels" in response.json()["error"]
    response = api.post("/api/predict", content=_png_header_only(8000, 6000))  # 48 MP: over ours, under Pillow's
    assert response.status_code == 413 and "8000x6000 = 48,000,000 pixels" in response.json()["error"]

    # Over the size limit (10 MB by default): 413, for a raw body and for a multipart upload.
    big = b"\x89PNG" + b"\x00" * (11 * 1024 * 1024)
    assert api.post("/api/predict", content=big).status_code == 413
    assert api.post("/api/predict", files={"file": ("big.png", big, "image/png")}).status_code == 413
    assert "10 MB" in api.post("/api/predict", content=big).json()["error"]

    metrics = api.get("/metrics").text
    assert 'livedigits_predict_requests_total{status="415"} 2.0' in metrics
    assert 'livedigits_predict_requests_total{status="413"} 5.0' in metrics


# --------------------------------------------------------------------------- with a live source


@pytest.fixture()
def live(classifier):
    """A server on the bundled demo video, replayed at its frame rate, in a real uvicorn on loopback."""
    servers = []

    def start(spec=str(SAMPLES / "demo.mp4"), **kwargs):
        metrics = Metrics()
        pipeline = None
        if spec is not None:
            source = KeptSource(spec, open_timeout=2, read_timeout=1)
            pipeline = LivePipeline(source, Recognizer(load_classifier("lite-int8")), metrics, backend="lite-int8")
        app = create_app(Predictor(classifier), metrics, pipeline, **kwargs)
        sock = bind("127.0.0.1", 0)
        server = uvicorn.Server(server_config(app, timeout_graceful_shutdown=1))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        assert wait_for(lambda: server.started, 20)
        servers.append((server, thread, sock, pipeline))
        return f"http://127.0.0.1:{sock.getsockname()[1]}", pipeline

    yield start
    for server, thread, sock, pipeline in servers:
        if pipeline is not None:
            pipeline.close_streams()
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_size_limit_is_checked_while_the_body_streams(live) -> None:
    """A chunked upload with no Content-Length is refused at the limit, not read to its end."""
    import socket

    base, _ = live(None, max_upload_bytes=100_000)
    port = int(base.rsplit(":", 1)[1])
    chunk = b"\x00" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(4):  # 256 KB of an upload that never ends: the server must not wait for the rest
            conn.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        reply = b""
        while not reply.endswith(b"}"):
            reply += conn.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"upload over the limit" in reply


def _mjpeg_frames(url: str, count: int, timeout: float = 20) -> list[np.ndarray]:
    frames, buffer = [], b""
    with httpx.stream("GET", url, timeout=timeout) as response:
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        for chunk in response.iter_bytes():
            buffer += chunk
            while True:
                start, end = buffer.find(b"\xff\xd8"), buffer.find(b"\xff\xd9")
                if start < 0 or end < 0:
                    break
                if end < start:
                    buffer = buffer[start:]
                    continue
                frames.append(cv2.imdecode(np.frombuffer(buffer[start:end + 2], np.uint8), cv2.IMREAD_COLOR))
                buffer = buffer[end + 2:]
            if len(frames) >= count:
                return frames
    return frames


def test_live_endpoints_on_the_demo_video(live) -> None:
    base, pipeline = live()
    assert wait_for(lambda: httpx.get(base + "/healthz").status_code == 200, 20)
    health = httpx.get(base + "/healthz").json()
    assert health["source_connected"] and health["frames_flowing"] and health["model_loaded"]
    # The numbers read so far are the demo's numbers.
    assert wait_for(lambda: len(httpx.get(base + "/api/status").json()["numbers_so_far"]) >= 5, 20)
    status = httpx.get(base + "/api/status").json()
    read = {n["text"] for n in status["numbers_so_far"]}
    assert len(read & DEMO_NUMBERS) >= 5 and not read - DEMO_NUMBERS, read
    assert status["state"] == "live" and status["fps"] > 0 and status["latency_ms"]["p50"] > 0

    snapshot = httpx.get(base + "/snapshot.jpg")
    assert snapshot.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(np.frombuffer(snapshot.content, np.uint8), cv2.IMREAD_COLOR).shape == (480, 640, 3)

    metrics = httpx.get(base + "/metrics").text
    assert 'livedigits_source_up{source="demo.mp4"} 1.0' in metrics and "livedigits_model_loaded 1.0" in metrics
    processed = float(next(l.split()[1] for l in metrics.splitlines() if l.startswith("livedigits_frames_processed_total")))
    assert processed >= 3
    assert 'livedigits_stage_seconds_bucket{le="0.01",stage="segment"}' in metrics
    assert "livedigits_frame_latency_seconds_count" in metrics

    # The image API works alongside the live pipeline.
    response = httpx.post(base + "/api/predict", content=(SAMPLES / "page.png").read_bytes(), timeout=20)
    assert sorted(n["text"] for n in response.json()["numbers"]) == PAGE_NUMBERS


def test_many_viewers_share_one_encoding(live) -> None:
    base, pipeline = live()
    assert wait_for(lambda: pipeline.frames > 5, 20)
    results: list[list] = [[], [], []]

    def watch(i):
        results[i] = _mjpeg_frames(base + "/stream.mjpg", 40)

    # A viewer that connects and never reads must not hold anything up either.
    stuck = httpx.Client(timeout=30)
    stalled = stuck.stream("GET", base + "/stream.mjpg")
    stalled.__enter__()
    try:
        seq0, frames0 = pipeline.channels[0].video.seq, pipeline.frames
        threads = [threading.Thread(target=watch, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        encoded, processed = pipeline.channels[0].video.seq - seq0, pipeline.frames - frames0
    finally:
        stalled.__exit__(None, None, None)
        stuck.close()
    for frames in results:
        assert len(frames) == 40 and all(f is not None and f.shape == (480, 640, 3) for f in frames)
    # Each frame was encoded once for all four viewers, and the viewer that never reads held nothing up:
    # the pipeline went on processing while the others took their 40 frames (a count, not a rate, so a
    # loaded machine cannot fail it). A viewer's first frame is the newest one already made, which may
    # predate the count; each of the 39 after it is a frame processed since.
    assert encoded <= processed + 1
    assert processed >= 39, f"{processed} frames processed while the viewers took 39 new ones"


def _iter_events(url: str, timeout: float = 30):
    name = "message"
    with httpx.stream("GET", url, timeout=timeout) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                yield name, json.loads(line[6:])
                name = "message"


def _events(url: str, wanted: int, timeout: float = 30) -> list[tuple[str, dict]]:
    events = []
    for event in _iter_events(url, timeout):
        events.append(event)
        if sum(1 for e in events if e[0] == "frame") >= wanted:
            break
    return events


def test_event_feed_sends_the_jsonl_records(live) -> None:
    base, pipeline = live()
    source = pipeline.channels[0].source
    replays_before = source.replays
    events = _events(base + "/events", 20)
    replays = source.replays - replays_before
    assert events[0][0] == "status"
    records = [data for name, data in events if name == "frame"]
    assert len(records) == 20
    for record in records:
        # "expressions": the arithmetic read (arithmetic is on by default).
        assert set(record) == {"source", "frame", "time", "latency_ms", "detections", "numbers", "expressions"}
        for detection in record["detections"]:
            # Video: each digit carries the id of its track, the same from frame to frame.
            assert set(detection) == {"box", "digit", "confidence", "track_id"} and len(detection["box"]) == 4
    # In order: each frame after the one before, except where the file started over (it is replayed in a
    # loop). A paced replay keeps the newest frame, so a loaded machine skips some (92 -> 149 seen here
    # under load), and frame 0 of a replay may be one of them: the check must not look for it. Nor may it
    # assume one start-over at most: 20 records span two if they come slower than 4 a second. What may not
    # happen is a frame twice, or a step back the source did not make by starting over (the feed
    # subscribed after ``replays_before`` was taken, so each step back in it is one of these replays).
    frames = [r["frame"] for r in records]
    assert all(later != earlier for earlier, later in zip(frames, frames[1:])), frames
    assert sum(later < earlier for earlier, later in zip(frames, frames[1:])) <= replays, (frames, replays)
    assert {r["source"] for r in records} == {"demo.mp4"}
    assert {n["text"] for r in records for n in r["numbers"]} & DEMO_NUMBERS


def test_stream_lost_and_back(live) -> None:
    """The camera (a loopback MJPEG stream) goes away and comes back: health, status, feed follow it."""
    page = cv2.resize(cv2.imread(str(SAMPLES / "page.png")), (640, 480), interpolation=cv2.INTER_AREA)
    camera = MjpegServer(image=page, fps=15).start()
    try:
        base, pipeline = live(camera.url)
        assert wait_for(lambda: httpx.get(base + "/healthz").status_code == 200, 20)
        states: list[str] = []

        def follow():
            for name, data in _iter_events(base + "/events", timeout=60):
                if name == "status":
                    states.append(data["state"])
                    if states[-2:] == ["unavailable", "live"] and "unavailable" in states:
                        return

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        time.sleep(0.5)
        camera.stop()
        assert wait_for(lambda: httpx.get(base + "/healthz").status_code == 503, 15)
        health = httpx.get(base + "/healthz").json()
        assert health["source_state"] == "unavailable" and health["problems"]
        # The stream shows the status screen, not a frozen picture (the pipeline's next poll draws it).
        assert wait_for(lambda: _mjpeg_frames(base + "/stream.mjpg", 1)[0].mean() < 60, 5)
        assert re.search(r'livedigits_source_up\{source="[^"]+"\} 0\.0', httpx.get(base + "/metrics").text)
        camera.start()
        assert wait_for(lambda: httpx.get(base + "/healthz").status_code == 200, 30)
        follower.join(20)
        assert "unavailable" in states and states[-1] == "live", states
        assert re.search(r'livedigits_source_reconnects_total\{source="[^"]+"\} 1\.0', httpx.get(base + "/metrics").text)
        assert httpx.get(base + "/api/status").json()["reconnects"] == 1  # counted when it came back
    finally:
        camera.stop()


def test_a_source_killed_for_good_is_reported_as_it_is(live) -> None:
    """The camera dies and never comes back: the status must not go on showing the rate it had, a
    retry time it outgrew, failed tries as reconnects, or "live" at the top of /healthz."""
    from livedigits.capture.supervise import RECONNECT_MAX_DELAY_S

    camera = MjpegServer(fps=20, size=(160, 120)).start()
    try:
        base, pipeline = live(camera.url)
        assert wait_for(lambda: httpx.get(base + "/api/status").json()["fps"] > 0, 60)
    finally:
        camera.stop()
    # Long enough for the back-off to pass its first steps (0.5, 1, 2, 4 s) and the FPS window (5 s).
    assert wait_for(lambda: httpx.get(base + "/api/status").json()["failed_tries"] >= 4, 30)
    time.sleep(hub.FPS_WINDOW_S)
    status = httpx.get(base + "/api/status").json()
    assert status["state"] == "unavailable"
    assert status["fps"] == 0.0
    assert status["reconnects"] == 0 and status["failed_tries"] >= 4
    assert status["next_retry_in_s"] is not None and 0 <= status["next_retry_in_s"] <= RECONNECT_MAX_DELAY_S
    said = re.search(r"retrying in ([\d.]+) s \(try (\d+) failed\)", status["detail"])
    assert said and int(said.group(2)) >= 4 and float(said.group(1)) > 0.5, status["detail"]  # the back-off grew
    health = httpx.get(base + "/healthz")
    assert health.status_code == 503
    body = health.json()
    assert body["source_state"] == "unavailable" and body["source_connected"] is False
    metrics = httpx.get(base + "/metrics").text
    name = pipeline.channels[0].name
    assert f'livedigits_source_up{{source="{name}"}} 0.0' in metrics
    assert f'livedigits_source_reconnects_total{{source="{name}"}}' not in metrics  # none happened
    failed = re.search(rf'livedigits_source_failed_tries_total\{{source="{name}"\}} (\S+)', metrics)
    assert failed and float(failed.group(1)) >= 4


# --------------------------------------------------------------------------- the command


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "livedigits", *args], capture_output=True, text=True, timeout=timeout)


def test_serve_command_errors() -> None:
    taken = bind("127.0.0.1", 0)
    try:
        port = str(taken.getsockname()[1])
        done = _cli("serve", "--port", port)
        assert done.returncode == 2 and "cannot listen on 127.0.0.1:" + port in done.stderr
        assert "--port" in done.stderr and "Traceback" not in done.stderr
    finally:
        taken.close()
    done = _cli("serve", "no/such/video.mp4")
    assert done.returncode == 5 and "no such file" in done.stderr and "Traceback" not in done.stderr
    done = _cli("serve", "--max-upload-mb", "0")
    assert done.returncode == 2 and "--max-upload-mb" in done.stderr
    done = _cli("serve", "--port", "70000")
    assert done.returncode == 2


def test_serve_command_starts_and_stops_on_sigterm() -> None:
    import signal

    process = subprocess.Popen([sys.executable, "-m", "livedigits", "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while "serving on" not in line and time.monotonic() < deadline:
            line = process.stderr.readline()
        assert "serving on http://127.0.0.1:" in line and "image API only" in line
        base = line.split()[2].rstrip("/")
        assert httpx.get(base + "/healthz").json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

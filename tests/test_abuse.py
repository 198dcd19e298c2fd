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
from livedigits.capture import supervise
from livedigits.capture.redact import public_text, redact_url
from livedigits.serve.hub import NumberLog
from livedigits.capture.supervise import KeptSource

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


# --------------------------------------------------------------------------- the web server

import logging  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
import zlib  # noqa: E402

import uvicorn  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from livedigits.classify.backends import load_classifier  # noqa: E402
from livedigits.serve import bind, server_config  # noqa: E402
from livedigits.serve.app import create_app  # noqa: E402
from livedigits.serve.metrics import Metrics  # noqa: E402
from livedigits.serve.predict import Predictor  # noqa: E402
from livedigits.capture.images import to_bgr8  # noqa: E402


@pytest.fixture(scope="module")
def classifier():
    return load_classifier("lite-int8")


def _png(width: int, height: int, depth: int = 8, colour: int = 0) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose frame header is patched to claim ``width`` x ``height``, cut after its header:
    a 600-byte file that libjpeg would decode as a huge grey page."""
    ok, data = cv2.imencode(".jpg", np.full((16, 16, 3), 200, np.uint8))
    data = bytearray(data.tobytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    sos = data.find(b"\xff\xda")
    return bytes(data[: sos + 20])


def test_uploads_are_weighed_by_what_they_decode_to(classifier) -> None:
    with TestClient(create_app(Predictor(classifier), Metrics()), base_url="http://127.0.0.1") as api:
        # 6300x6300 is under 40 MP, but 16-bit RGBA it decodes to 318 MB (8/3 of an 8-bit RGB page).
        bomb = api.post("/api/predict", content=_png(6300, 6300, depth=16, colour=6))
        assert bomb.status_code == 413 and "16-bit with alpha" in bomb.json()["error"]
        # The same size in 8-bit grey is within the limit (and then refused as damaged, not decoded).
        assert api.post("/api/predict", content=_png(6300, 6300)).status_code == 400
        short = api.post("/api/predict", content=_jpeg_claiming(6000, 6000))
        assert short.status_code == 400 and "truncated JPEG" in short.json()["error"]


def test_sixteen_bit_conversion_makes_no_float64_copy() -> None:
    image = np.full((1000, 1000, 4), 40000, np.uint16)  # 8 MB
    tracemalloc.start()
    try:
        out = to_bgr8(image)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == (1000, 1000, 3) and out.dtype == np.uint8
    assert peak < 2 * image.nbytes  # 8-bit working copies only; one float64 copy alone is 4x the image


def test_host_header_is_checked_and_security_headers_are_on_every_response(classifier) -> None:
    app = create_app(Predictor(classifier), Metrics())
    with TestClient(app, base_url="http://127.0.0.1:8000") as api:
        for path in ("/", "/api/status", "/static/kiosk.js", "/nothing", "/healthz"):
            response = api.get(path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        assert api.get("/", headers={"host": "localhost:8000"}).status_code == 200
        assert api.get("/", headers={"host": "[::1]:8000"}).status_code == 200
        assert api.get("/", headers={"host": "192.168.1.20:8000"}).status_code == 200  # an address, not a name
    with TestClient(app, base_url="http://attacker.example") as rebinding:
        for path in ("/snapshot.jpg", "/static", "/api/status"):
            response = rebinding.get(path, follow_redirects=False)
            assert response.status_code == 400 and "attacker.example" not in response.headers.get("location", "")
            assert "not a name of this server" in response.json()["error"]


def test_token_is_required_beyond_loopback(classifier) -> None:
    app = create_app(Predictor(classifier), Metrics(), token="a-long-secret")
    with TestClient(app, base_url="http://127.0.0.1") as api:
        assert api.get("/").status_code == 401 and api.get("/api/status").status_code == 401
        assert api.get("/metrics").status_code == 401
        assert api.get("/healthz").status_code == 200  # health checks need no token
        assert api.get("/api/status", params={"token": "wrong-secret"}).status_code == 401
        page = api.get("/", params={"token": "a-long-secret"})  # the printed address
        assert page.status_code == 200 and "HttpOnly" in page.headers["set-cookie"]
        assert api.get("/api/status").status_code == 200  # the page's own requests carry the cookie
        api.cookies.clear()
        assert api.get("/api/status", headers={"authorization": "Bearer a-long-secret"}).status_code == 200
        assert api.get("/stream.mjpg", params={"token": "a-long-secret"}).status_code == 404  # in, and no source


def test_serve_beyond_loopback_prints_a_token_and_refuses_without_it() -> None:
    import signal

    process = subprocess.Popen([sys.executable, "-m", "livedigits", "serve", "--host", "0.0.0.0", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line, deadline = "", time.monotonic() + 60
        while "serving on" not in line and time.monotonic() < deadline:
            line = process.stderr.readline()
        assert "?token=" in line, line
        url = line.split()[2]
        port = url.split(":")[2].split("/")[0]
        token = url.split("token=")[1]
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/api/status").status_code == 401
        assert httpx.get(base + "/api/status", params={"token": token}).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture()
def server(classifier):
    """A real uvicorn server with the package's connection limits, on loopback."""
    started = []

    def start(**limits):
        app_kwargs = {k: limits.pop(k) for k in list(limits) if k in ("max_upload_bytes",)}
        metrics = Metrics()
        app = create_app(Predictor(classifier), metrics, **app_kwargs)
        sock = bind("127.0.0.1", 0)
        srv = uvicorn.Server(server_config(app, timeout_graceful_shutdown=1, **limits))
        thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        assert wait_for(lambda: srv.started, 20)
        started.append((srv, thread, sock))
        return sock.getsockname()[1], metrics

    yield start
    for srv, thread, sock in started:
        srv.should_exit = True
        thread.join(10)
        sock.close()


def _closed_within(conn: socket.socket, seconds: float) -> bool:
    """True if the server closes ``conn`` within ``seconds`` (what it sends meanwhile is read and dropped)."""
    conn.settimeout(0.2)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if conn.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except ConnectionError:
            return True
    return False


def test_slow_headers_and_stalled_bodies_are_cut_off(server) -> None:
    port, _ = server(header_timeout=1.0, body_timeout=1.0)
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHo")  # and nothing more
        assert _closed_within(slow, 8)
    with socket.create_connection(("127.0.0.1", port)) as idle:  # connects and says nothing
        assert _closed_within(idle, 8)
    with socket.create_connection(("127.0.0.1", port)) as stalled:
        stalled.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n\x89PNG")
        assert _closed_within(stalled, 8)
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200


def test_connections_over_the_cap_are_refused_clearly(server) -> None:
    port, _ = server(max_connections=20)
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    try:
        assert wait_for(lambda: True, 0)
        with socket.create_connection(("127.0.0.1", port)) as extra:
            extra.settimeout(10)
            reply = b""
            try:
                while chunk := extra.recv(4096):
                    reply += chunk
            except ConnectionError:
                pass
        assert reply.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in reply and b"too many open connections" in reply
    finally:
        for conn in held:
            conn.close()
    assert wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200, 10)


def test_urllib_gets_its_413_for_an_upload_over_the_limit(server) -> None:
    port, _ = server()
    body = b"\x00" * (11 * 2**20)
    for _ in range(5):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/predict", data=body,
                                         headers={"Content-Type": "image/png"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=30)
        assert caught.value.code == 413 and b"upload over the limit" in caught.value.read()


def test_an_endless_chunked_upload_is_closed_after_its_413(server) -> None:
    port, _ = server(max_upload_bytes=100_000)
    chunk = b"\x00" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        closed_at = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                conn.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except OSError:  # reset or broken pipe: the server closed it
                closed_at = time.monotonic()
                break
        assert closed_at is not None, "the server kept reading an endless upload"


def test_a_client_that_leaves_mid_upload_is_counted_and_not_a_traceback(server) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        port, metrics = server()
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n" + b"\x00" * 1000)
        assert wait_for(lambda: b'status="499"' in metrics.render(), 10), metrics.render().decode()[-800:]
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
    assert not [r for r in records if r.levelno >= logging.ERROR], [r.getMessage() for r in records]


def test_mixed_case_multipart_is_read(classifier) -> None:
    page = (SAMPLES / "page.png").read_bytes()
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + page + f"\r\n--{boundary}--\r\n".encode()
    with TestClient(create_app(Predictor(classifier), Metrics()), base_url="http://127.0.0.1") as api:
        response = api.post("/api/predict", content=body, headers={"content-type": f"Multipart/Form-Data; boundary={boundary}"})
    assert response.status_code == 200, response.text


# --------------------------------------------------------------------------- a full disk


def _run_with_file_limit(limit_bytes: int, *args: str) -> subprocess.CompletedProcess:
    """`livedigits run ...` where no file may grow past ``limit_bytes`` (writes past it fail with
    EFBIG, as on a full disk; Python ignores SIGXFSZ)."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "livedigits", "run", str(SAMPLES / "demo.mp4"), "--headless", *args],
                          capture_output=True, text=True, timeout=300, preexec_fn=limit)


def test_a_full_disk_leaves_no_unplayable_video_and_says_so(tmp_path: Path) -> None:
    video = tmp_path / "out.mp4"
    done = _run_with_file_limit(150_000, "--output", str(video))
    assert done.returncode == 6, done.stderr
    assert "annotated video:" not in done.stderr and "Traceback" not in done.stderr
    assert "livedigits: error:" in done.stderr and "out.mp4" in done.stderr
    if video.exists():  # kept only when it plays
        capture = cv2.VideoCapture(str(video))
        assert capture.isOpened() and capture.read()[0]
        capture.release()


def test_a_full_disk_leaves_a_jsonl_of_complete_lines(tmp_path: Path) -> None:
    import json

    jsonl = tmp_path / "out.jsonl"
    done = _run_with_file_limit(20_000, "--jsonl", str(jsonl))
    assert done.returncode == 6, done.stderr
    assert "per-frame results:" not in done.stderr and "Traceback" not in done.stderr
    assert "complete line" in done.stderr
    text = jsonl.read_text()
    assert text and text.endswith("\n")
    assert all(json.loads(line)["frame"] >= 0 for line in text.splitlines())


# --------------------------------------------------------------------------- smaller things


def test_info_metric_keeps_its_version_with_the_backend() -> None:
    from livedigits import __version__

    metrics = Metrics()
    metrics.describe(backend="lite-int8")
    text = metrics.render().decode()
    line = next(line for line in text.splitlines() if line.startswith("livedigits_info{"))
    assert f'version="{__version__}"' in line and 'backend="lite-int8"' in line


@pytest.mark.parametrize("args, option", [(("serve", "--max-upload-mb", "inf"), "--max-upload-mb"),
                                          (("serve", "--max-upload-mb", "nan"), "--max-upload-mb"),
                                          (("run", str(SAMPLES / "demo.mp4"), "--headless", "--max-frames", "-1"), "--max-frames"),
                                          (("serve", "--token", "short"), "--token")])
def test_bad_numbers_are_one_line_errors(args, option) -> None:
    done = subprocess.run([sys.executable, "-m", "livedigits", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and option in done.stderr and "Traceback" not in done.stderr, done.stderr[-500:]


def test_a_paused_window_is_not_redrawn_in_a_busy_loop() -> None:
    from livedigits.engine.loop import Engine, StopFlag
    from livedigits.reading.recognizer import Batch
    from livedigits.types import Frame, FrameResult

    class Source:
        name, kind, state, policy, frames_dropped, warnings = "fake", "camera", "live", "latest", 0, []

        def start(self):
            return self

        def read(self, timeout=None):
            return Frame(0, 0.0, np.zeros((48, 64, 3), np.uint8))

        def stop(self):
            pass

    class Recognizer:
        keep_debug = False

        def process_batch(self, items):
            return Batch(results=tuple(FrameResult(frame=frame, detections=(), numbers=(), latency_ms=1.0, timings={},
                                                   source=source) for source, frame, *_ in items),
                         classified=0, reused=0)

    stop = StopFlag()

    class Window:
        needs_image, needs_crops = True, False
        shows = 0

        def open(self, streams):
            pass

        def write(self, result, image):
            return self.show(image)

        def show(self, image, label=None):
            Window.shows += 1
            if Window.shows == 1:
                return "pause"
            return None

        def close(self):
            pass

    timer = threading.Timer(1.0, stop.set, args=("test",))
    timer.start()
    try:
        Engine([Source()], Recognizer(), sinks=[Window()], stop=stop).run()
    finally:
        timer.cancel()
    assert Window.shows < 60, f"{Window.shows} redraws in one second of pause"


def test_accept_errors_are_logged_once_in_a_while(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    from livedigits.serve.conn import RateLimitedLog, quiet_accept_errors

    loop = asyncio.new_event_loop()
    try:
        quiet_accept_errors(loop, RateLimitedLog(every=60))
        with caplog.at_level(logging.WARNING, logger="livedigits.serve"):
            for _ in range(5000):  # as asyncio reports each failed accept() while out of descriptors
                loop.call_exception_handler({"message": "socket.accept() out of system resource",
                                             "exception": OSError(24, "Too many open files")})
    finally:
        loop.close()
    assert len([r for r in caplog.records if "accept" in r.getMessage()]) == 1


def test_run_never_prints_the_password_of_a_stream() -> None:
    with MjpegServer(fps=20) as camera:
        url = camera.url.replace("http://", "http://admin:hunter2@")
        done = subprocess.run([sys.executable, "-m", "livedigits", "run", url, "--headless", "--max-frames", "3"],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert "hunter2" not in done.stderr + done.stdout and "http://***@127.0.0.1" in done.stderr
    port = free_port()  # and when it cannot be opened
    done = subprocess.run([sys.executable, "-m", "livedigits", "run", f"rtsp://admin:hunter2@127.0.0.1:{port}/live",
                           "--headless"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 5 and "hunter2" not in done.stderr + done.stdout


def test_frames_of_another_size_are_reported_and_boxes_stay_in_their_own_pixels(tmp_path: Path) -> None:
    import json

    page = cv2.imread(str(SAMPLES / "page.png"))
    folder = tmp_path / "pages"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), cv2.resize(page, (640, 480), interpolation=cv2.INTER_AREA))
    cv2.imwrite(str(folder / "b.png"), page)  # 1280x960: twice the first
    out, jsonl = tmp_path / "out.avi", tmp_path / "out.jsonl"
    done = subprocess.run([sys.executable, "-m", "livedigits", "run", str(folder), "--headless", "--output", str(out),
                           "--jsonl", str(jsonl)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert "1 frame of another size than the first were scaled to 640x480" in done.stderr
    records = {Path(r["file"]).name: r for r in map(json.loads, jsonl.read_text().splitlines())}
    right = max(d["box"][0] + d["box"][2] for d in records["b.png"]["detections"])
    assert right > 640  # in b.png's own 1280-pixel width, not scaled to the first image's


def test_uploads_beyond_the_decoders_wait_then_get_503_with_retry_after(classifier, monkeypatch) -> None:
    from livedigits.serve import app as app_module

    monkeypatch.setattr(app_module, "DECODE_WAIT_S", 0.5)
    release, holding = threading.Event(), threading.Event()

    class SlowPredictor(Predictor):
        def predict(self, image, mode="auto"):
            holding.set()
            release.wait(30)  # holds the only decoder until the test lets go
            return super().predict(image, mode)

    app = create_app(SlowPredictor(classifier), Metrics(), max_decodes=1)
    sock = bind("127.0.0.1", 0)
    srv = uvicorn.Server(server_config(app, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: srv.started, 20)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api/predict"
        ok, png = cv2.imencode(".png", np.full((28, 28), 255, np.uint8))
        first: list[int] = []
        holder = threading.Thread(target=lambda: first.append(httpx.post(url, content=png.tobytes(), timeout=60).status_code))
        holder.start()
        assert holding.wait(20)  # the first upload holds the only decoder
        second = httpx.post(url, content=png.tobytes(), timeout=60)
        release.set()
        holder.join(60)
        assert second.status_code == 503 and second.headers["retry-after"] == "2"
        assert first == [200]
    finally:
        release.set()
        srv.should_exit = True
        thread.join(10)
        sock.close()

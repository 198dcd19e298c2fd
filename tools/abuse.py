"""Attack `livedigits serve` on loopback as a hostile client would, and measure how it holds up.

    python tools/abuse.py [--quick] [--json FILE]

Each phase starts its own server (`livedigits serve ... --port 0` on 127.0.0.1, this interpreter),
bounded in time, and stops it; nothing leaves the machine. The phases and what they report:

- bombs: 16 uploads at once of decode bombs, twice: the issue's own (a 16-bit RGBA PNG of 6300x6300,
  a JPEG header claiming 6000x6000 with its data cut short) and the largest accepted one (an 8-bit
  RGB PNG of 6300x6300, 0.2 MB that decodes to 119 MB); the server's peak RSS and the live pipeline's
  frame rate meanwhile;
- slow: 1,000 connections sending a byte a second for 15 s; /healthz answer times meanwhile, the
  server's log lines, when the slow connections were closed;
- uploads: Python's urllib sending 11 MB ten times (the answers it reads); an endless chunked upload
  (time from passing the limit to the connection being closed);
- fuzz: 2,000 damaged uploads (flipped bytes, cut files, bad headers and forms); statuses, tracebacks
  in the log, RSS after warm-up and at the end;
- load: POST /api/predict of the sample page at concurrency 16 for 60 s; RSS over time;
- secrets: a stream URL with a password and an absolute file path; every unauthenticated answer (and
  the log) searched for them;
- disk: `livedigits run --output/--jsonl` under a file size limit (a full disk); exit code, whether
  the video plays or is absent, whether every JSONL line is complete.

Linux only (it reads /proc for the server's memory). The figures in the README come from this script.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import resource
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SECRET = "hunter2pw"
QUERY_SECRET = "tok3nQuery"


# --------------------------------------------------------------------------- the server


class Server:
    """`livedigits serve ARGS --port 0` in a child process; its log lines are collected."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.process = subprocess.Popen([sys.executable, "-m", "livedigits", "serve", *args, "--port", "0"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        deadline = time.monotonic() + 120
        line = ""
        while "serving on" not in line:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start: {self.lines}")
            self.lines.append(line)
        self.port = int(line.split()[2].split(":")[2].split("/")[0])
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    def rss_mb(self, field: str = "VmRSS") -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def post(self, path: str, body: bytes, content_type: str = "application/octet-stream",
             timeout: float = 60.0) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            return -1  # no answer: counted apart
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_live(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if server.get("/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the live source did not come up")


def fps(server: Server) -> float | None:
    try:
        return json.loads(server.get("/api/status")[1])["fps"]
    except (OSError, ValueError, KeyError):
        return None


def in_parallel(count: int, work) -> list:
    results: list = [None] * count

    def run(i: int) -> None:
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return results


# --------------------------------------------------------------------------- images


def png_of_zeros(width: int, height: int, depth: int, colour: int) -> bytes:
    """A PNG of ``width`` x ``height`` zeros, compressed row by row (never held whole in memory)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = b"\x00" * (1 + width * channels * depth // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def short_jpeg(width: int, height: int) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((16, 16, 3), 200, np.uint8))
    data = bytearray(data.tobytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data[: data.find(b"\xff\xda") + 20])


# --------------------------------------------------------------------------- phases


def phase_bombs(quick: bool) -> dict:
    issue = [png_of_zeros(6300, 6300, 16, 6), short_jpeg(6000, 6000)]
    accepted = png_of_zeros(6300, 6300, 8, 2)
    server = Server(str(SAMPLES / "demo.mp4"))
    try:
        wait_live(server)
        time.sleep(5)  # a full window of frames for the frame rate
        report = {"sizes_kb": {"png16_rgba_6300": round(len(issue[0]) / 1024), "jpeg_6000_cut": len(issue[1]),
                               "png8_rgb_6300": round(len(accepted) / 1024)},
                  "rss_before_mb": round(server.rss_mb(), 1), "fps_before": fps(server)}
        for name, bodies in (("issue_bombs", issue), ("largest_accepted", [accepted])):
            samples: list[float] = []
            done = threading.Event()

            def watch():
                while not done.is_set():
                    value = fps(server)
                    if value is not None:
                        samples.append(value)
                    done.wait(0.5)

            watcher = threading.Thread(target=watch)
            watcher.start()
            started = time.monotonic()
            statuses = in_parallel(16, lambda i: server.post("/api/predict", bodies[i % len(bodies)]))
            seconds = time.monotonic() - started
            time.sleep(2)
            done.set()
            watcher.join()
            report[name] = {"statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
                            "seconds": round(seconds, 1), "fps_min": min(samples) if samples else None,
                            "fps_mean": round(sum(samples) / len(samples), 1) if samples else None}
        report["peak_rss_mb"] = round(server.rss_mb("VmHWM"), 1)
        report["tracebacks_in_log"] = sum("Traceback" in line for line in server.lines)
        return report
    finally:
        server.stop()


def phase_slow(quick: bool) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    count, seconds = 1000, 15
    server = Server()
    try:
        log_before = len(server.lines)
        slow = []
        for _ in range(count):
            conn = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            conn.setblocking(False)
            slow.append(conn)
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 100
        latencies: list[float] = []
        failures = 0
        closed_at: dict[int, float] = {}
        started = time.monotonic()
        second = 0
        while time.monotonic() - started < seconds:
            for i, conn in enumerate(slow):
                if i in closed_at:
                    continue
                try:
                    conn.send(request[second % len(request):second % len(request) + 1])
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    closed_at[i] = time.monotonic() - started
            second += 1
            asked = time.monotonic()
            try:
                status, _ = server.get("/healthz", timeout=5)
                if status != 200:
                    failures += 1
            except OSError:
                failures += 1
            latencies.append(time.monotonic() - asked)
            time.sleep(max(0.0, started + second - time.monotonic()))
        for conn in slow:
            conn.close()
        closed = sorted(closed_at.values())
        return {"connections": count, "seconds": seconds, "healthz_max_s": round(max(latencies), 3),
                "healthz_p50_s": round(sorted(latencies)[len(latencies) // 2], 3), "healthz_failures": failures,
                "closed_by_server": len(closed), "first_closed_after_s": round(closed[0], 1) if closed else None,
                "log_lines": len(server.lines) - log_before}
    finally:
        server.stop()


def phase_uploads(quick: bool) -> dict:
    server = Server()
    try:
        body = b"\x00" * (11 * 2**20)
        got = []
        for _ in range(10):
            request = urllib.request.Request(server.base + "/api/predict", data=body, headers={"Content-Type": "image/png"})
            try:
                urllib.request.urlopen(request, timeout=30)
                got.append("200")
            except urllib.error.HTTPError as exc:
                got.append(str(exc.code))
            except OSError as exc:
                got.append(type(exc).__name__)
        limit = 10 * 2**20 + 64 * 1024
        chunk = b"\x00" * 65536
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        conn.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        sent, passed_at, closed_after = 0, None, None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except OSError:
                closed_after = time.monotonic() - passed_at if passed_at else 0.0
                break
            sent += len(chunk)
            if passed_at is None and sent > limit:
                passed_at = time.monotonic()
        conn.close()
        return {"urllib_11mb": {code: got.count(code) for code in sorted(set(got))},
                "chunked_closed_after_limit_s": None if closed_after is None else round(closed_after, 3),
                "chunked_sent_mb": round(sent / 2**20, 1)}
    finally:
        server.stop()


def _fuzzed(rng: random.Random, seeds: list[tuple[bytes, str]]) -> tuple[bytes, str]:
    data, kind = seeds[rng.randrange(len(seeds))]
    data = bytearray(data)
    choice = rng.randrange(7)
    if choice == 0:  # flipped bytes
        for _ in range(rng.randint(1, 30)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif choice == 1:  # cut short
        data = data[: rng.randrange(1, len(data))]
    elif choice == 2:  # the header's bytes scrambled
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(min(64, len(data)))] = rng.randrange(256)
    elif choice == 3:  # random bytes
        data = bytearray(rng.randbytes(rng.randint(0, 5000)))
    elif choice == 4:  # a form with a broken boundary or none
        boundary = rng.choice(["b", "", "x" * 200, "a;b=\"c\""])
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n").encode() + bytes(data)
        if rng.random() < 0.5:
            body += f"\r\n--{boundary}--\r\n".encode()
        return body, f"multipart/form-data; boundary={boundary}" if rng.random() < 0.8 else "multipart/form-data"
    elif choice == 5:  # sizes patched in a PNG header
        if data[:4] == b"\x89PNG":
            data[16:24] = struct.pack(">II", rng.choice([0, 1, 65535, 2**31 - 1]), rng.choice([0, 1, 65535, 2**31 - 1]))
    # choice 6: unchanged
    return bytes(data), rng.choice(["image/png", "application/octet-stream", "text/plain", "", "image/jpeg"])


def phase_fuzz(quick: bool) -> dict:
    page = cv2.resize(cv2.imread(str(SAMPLES / "page.png")), (320, 240), interpolation=cv2.INTER_AREA)
    seeds = []
    for ext in (".png", ".jpg", ".bmp", ".webp"):
        ok, data = cv2.imencode(ext, page)
        seeds.append((data.tobytes(), ext))
    ok, data = cv2.imencode(".png", cv2.cvtColor(page, cv2.COLOR_BGR2BGRA).astype(np.uint16) * 257)
    seeds.append((data.tobytes(), ".png16"))
    total = 2000
    rng = random.Random(13)
    bodies = [_fuzzed(rng, seeds) for _ in range(total)]
    server = Server()
    try:
        statuses: list[int] = []
        rss: dict[str, float] = {}
        lock = threading.Lock()
        index = iter(range(total))

        def worker(_):
            while True:
                with lock:
                    i = next(index, None)
                if i is None:
                    return
                body, content_type = bodies[i]
                status = server.post("/api/predict", body, content_type)
                with lock:
                    statuses.append(status)
                    if len(statuses) == 500:
                        rss["after_500"] = round(server.rss_mb(), 1)

        in_parallel(4, worker)
        rss["end"] = round(server.rss_mb(), 1)
        counts = {str(s): statuses.count(s) for s in sorted(set(statuses))}
        return {"uploads": total, "statuses": counts, "5xx": sum(v for k, v in counts.items() if k.startswith("5")),
                "no_answer": counts.get("-1", 0), "rss_mb": rss,
                "tracebacks_in_log": sum("Traceback" in line or "Exception in ASGI" in line for line in server.lines)}
    finally:
        server.stop()


def phase_load(quick: bool) -> dict:
    seconds = 15 if quick else 60
    ok, page = cv2.imencode(".jpg", cv2.imread(str(SAMPLES / "page.png")), [cv2.IMWRITE_JPEG_QUALITY, 92])
    page = page.tobytes()
    server = Server()
    try:
        samples: list[float] = []
        stop_at = time.monotonic() + seconds
        statuses: list[int] = []

        def client(_):
            while time.monotonic() < stop_at:
                statuses.append(server.post("/api/predict", page, "image/jpeg"))

        def watch():
            while time.monotonic() < stop_at:
                samples.append(server.rss_mb())
                time.sleep(0.5)

        watcher = threading.Thread(target=watch)
        watcher.start()
        in_parallel(16, client)
        watcher.join()
        counts = {str(s): statuses.count(s) for s in sorted(set(statuses))}
        return {"seconds": seconds, "concurrency": 16, "requests": len(statuses), "statuses": counts,
                "rss_start_mb": round(samples[0], 1), "rss_max_mb": round(max(samples), 1),
                "rss_end_mb": round(samples[-1], 1), "peak_rss_mb": round(server.rss_mb("VmHWM"), 1)}
    finally:
        server.stop()


def phase_secrets(quick: bool) -> dict:
    found: dict[str, list[str]] = {}
    url = f"rtsp://admin:{SECRET}@127.0.0.1:9/live?token={QUERY_SECRET}"
    absolute = str((SAMPLES / "demo.mp4").resolve())
    for spec, needles in ((url, (SECRET, QUERY_SECRET, "admin")), (absolute, (str(SAMPLES.resolve()),))):
        server = Server(spec)
        try:
            time.sleep(4)  # the stream fails to open (nobody listens on port 9); the file plays
            answers = {}
            for path in ("/", "/api/status", "/healthz", "/metrics", "/static/kiosk.js", "/nothing"):
                answers[path] = server.get(path)[1].decode("latin-1")
            conn = socket.create_connection(("127.0.0.1", server.port), timeout=3)
            conn.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            feed, deadline = b"", time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    part = conn.recv(65536)
                except socket.timeout:
                    break
                if not part:
                    break
                feed += part
            conn.close()
            answers["/events"] = feed.decode("latin-1")
            server.stop()
            answers["log"] = "".join(server.lines)
            for where, text in answers.items():
                for needle in needles:
                    if needle in text:
                        found.setdefault(spec if spec == absolute else "stream URL", []).append(f"{where}: {needle}")
        finally:
            server.stop()
    return {"leaks": found or "none"}


def phase_disk(quick: bool) -> dict:
    import tempfile

    report = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, limit, outputs in (("video", 150_000, ("--output",)), ("jsonl", 20_000, ("--jsonl",)),
                                     ("both", 150_000, ("--output", "--jsonl"))):
            video, jsonl = Path(folder) / f"{name}.mp4", Path(folder) / f"{name}.jsonl"
            args = []
            if "--output" in outputs:
                args += ["--output", str(video)]
            if "--jsonl" in outputs:
                args += ["--jsonl", str(jsonl)]

            def cap(limit=limit):
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

            env = dict(os.environ, PYTHONPATH=str(ROOT))
            done = subprocess.run([sys.executable, "-m", "livedigits", "run", str(SAMPLES / "demo.mp4"), "--headless",
                                   *args], capture_output=True, text=True, timeout=300, preexec_fn=cap, env=env)
            entry = {"exit": done.returncode, "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "",
                     "success_message": "annotated video:" in done.stdout or "per-frame results:" in done.stdout}
            if "--output" in outputs:
                if video.exists():
                    capture = cv2.VideoCapture(str(video))
                    entry["video"] = "plays" if capture.isOpened() and capture.read()[0] else "UNPLAYABLE"
                    capture.release()
                else:
                    entry["video"] = "absent"
            if "--jsonl" in outputs:
                text = jsonl.read_text() if jsonl.exists() else ""
                try:
                    lines = [json.loads(line) for line in text.splitlines()]
                    entry["jsonl"] = f"{len(lines)} complete lines" if text.endswith("\n") or not text else "PARTIAL LAST LINE"
                except ValueError:
                    entry["jsonl"] = "PARTIAL LAST LINE"
            report[name] = entry
    return report


PHASES = {"bombs": phase_bombs, "slow": phase_slow, "uploads": phase_uploads, "fuzz": phase_fuzz,
          "load": phase_load, "secrets": phase_secrets, "disk": phase_disk}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 15 s load phase instead of 60 s")
    parser.add_argument("--only", nargs="*", choices=sorted(PHASES), help="run these phases only")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    args = parser.parse_args()
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    for name in args.only or PHASES:
        started = time.monotonic()
        print(f"{name}...", file=sys.stderr, flush=True)
        report[name] = PHASES[name](args.quick)
        report[name]["phase_s"] = round(time.monotonic() - started, 1)
        print(json.dumps({name: report[name]}), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

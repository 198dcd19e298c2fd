"""The kiosk page in a real browser: headless Chromium (Debian's package) driven by Playwright.

`livedigits serve` runs as a user starts it, on a free localhost port; the test waits until the page
shows numbers read from the bundled demo video that match its ground truth, and saves a screenshot.
A second test stops and restarts the camera (a loopback MJPEG stream) and watches the page say so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import pytest

from helpers_media import MjpegServer

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
DEMO_NUMBERS = {n["text"] for f in json.loads((SAMPLES / "demo.json").read_text())["frames"] for n in f["numbers"]}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Where the screenshots go: LIVEDIGITS_SCREENSHOTS if set (CI keeps them), else the test's tmp folder.
SHOT_DIR = os.environ.get("LIVEDIGITS_SCREENSHOTS")
# As root (CI containers) Chromium needs --no-sandbox; the rest keeps it off the network it cannot reach.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _playwright():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    return sync_playwright


class Served:
    """`livedigits serve ARGS --port 0`, with its address read from what it prints."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "livedigits", "serve", *args, "--port", "0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.url: str | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._ready.wait(90) or self.url is None:
            self.stop()
            raise AssertionError(f"serve did not start: {self.lines}")

    def _pump(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip())
            if "serving on " in line:
                self.url = line.split("serving on ", 1)[1].split()[0]
                self._ready.set()
        self._ready.set()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _shot(page, tmp_path: Path, name: str) -> Path:
    folder = Path(SHOT_DIR) if SHOT_DIR else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path))
    return path


def _wait_js(page, expression: str, timeout: float) -> None:
    """Poll ``expression`` in the page until it is true, ``timeout`` ms at most. Evaluated from outside
    (DevTools), not by eval() inside the page as ``wait_for_function`` does when it polls: the server's
    Content-Security-Policy forbids eval, and the page must run under it as a user's browser runs it."""
    import time

    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout / 1000:g} s: {expression}")
        time.sleep(0.2)


def _open(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    return browser, page


def test_kiosk_page_shows_the_numbers_of_the_demo(tmp_path: Path) -> None:
    sync_playwright = _playwright()
    served = Served(str(SAMPLES / "demo.mp4"))
    try:
        with sync_playwright() as playwright:
            browser, page = _open(playwright)
            try:
                page.goto(served.url)
                # Numbers read from the video, in large type, as they come; and the list read so far.
                _wait_js(page, 
                    "document.querySelectorAll('#history li').length >= 4", timeout=60_000)
                _wait_js(page, "document.getElementById('video').naturalWidth > 0", timeout=30_000)
                history = page.locator("#history li").all_inner_texts()
                current = page.inner_text("#current").split()
                state = page.inner_text("#state")
                fps = page.inner_text("#fps")
                path = _shot(page, tmp_path, "kiosk-demo.png")
                assert page.is_hidden("#banner")
            finally:
                browser.close()
    finally:
        served.stop()
    assert set(history) <= DEMO_NUMBERS and len(history) >= 4, history
    assert current and set(current) <= DEMO_NUMBERS, current
    assert state == "live" and float(fps.split()[0]) > 5
    shot = cv2.imread(str(path))
    assert shot is not None and shot.shape[:2] == (720, 1280)
    print(f"screenshot: {path}")


def test_kiosk_page_follows_the_camera_away_and_back(tmp_path: Path) -> None:
    sync_playwright = _playwright()
    page_image = cv2.resize(cv2.imread(str(SAMPLES / "page.png")), (640, 480), interpolation=cv2.INTER_AREA)
    camera = MjpegServer(image=page_image, fps=10).start()
    served = Served(camera.url)
    try:
        with sync_playwright() as playwright:
            browser, page = _open(playwright)
            try:
                page.goto(served.url)
                _wait_js(page, "document.getElementById('state').textContent === 'live'", timeout=60_000)
                assert page.is_hidden("#banner")
                camera.stop()
                page.wait_for_selector("#banner", state="visible", timeout=30_000)
                assert "Camera unavailable" in page.inner_text("#banner-title")
                assert page.inner_text("#state") == "unavailable"
                _shot(page, tmp_path, "kiosk-unavailable.png")
                camera.start()
                page.wait_for_selector("#banner", state="hidden", timeout=60_000)
                _wait_js(page, "document.getElementById('state').textContent === 'live'", timeout=30_000)
                _wait_js(page, "document.getElementById('current').textContent.trim().length > 1",
                                       timeout=30_000)
                _shot(page, tmp_path, "kiosk-back.png")
            finally:
                browser.close()
        assert served.process.poll() is None, "the server kept running throughout"
    finally:
        served.stop()
        camera.stop()
    assert any("source unavailable" in line for line in served.lines)


def test_api_page_reads_a_digit_drawn_on_its_canvas(tmp_path: Path) -> None:
    """`serve` without a SOURCE: the page's drawing pad, drawn on with the mouse, read by the API."""
    sync_playwright = _playwright()
    served = Served()
    try:
        with sync_playwright() as playwright:
            browser, page = _open(playwright)
            try:
                page.goto(served.url)
                page.wait_for_selector("#pad", state="visible", timeout=30_000)
                box = page.locator("#pad").bounding_box()
                # A "7": a stroke across the top, then down to the bottom left.
                points = [(70, 60), (210, 60), (170, 140), (130, 230)]
                page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
                page.mouse.down()
                for x, y in points[1:]:
                    page.mouse.move(box["x"] + x, box["y"] + y, steps=12)
                page.mouse.up()
                page.click("#read-drawing")
                _wait_js(page, "document.getElementById('answer').textContent.trim() !== '\u2026' "
                                       "&& document.getElementById('answer-json').textContent.length > 0",
                                       timeout=30_000)
                answer = page.inner_text("#answer")
                reply = json.loads(page.inner_text("#answer-json"))
                _shot(page, tmp_path, "api-page.png")
            finally:
                browser.close()
    finally:
        served.stop()
    assert reply["mode"] == "digit" and reply["digit"] == 7, reply
    assert answer == "7"


def test_kiosk_page_works_with_a_token(tmp_path: Path) -> None:
    """Opened at the printed address (with ?token=), the page's own requests (the MJPEG <img>, the
    feed, the status) carry the token in its cookie, under the server's Content-Security-Policy."""
    sync_playwright = _playwright()
    served = Served(str(SAMPLES / "demo.mp4"), "--token", "kiosk-secret-1")
    try:
        assert served.url.endswith("/?token=kiosk-secret-1"), served.url
        with sync_playwright() as playwright:
            browser, page = _open(playwright)
            blocked: list[str] = []
            page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
            try:
                page.goto(served.url)
                _wait_js(page, "document.querySelectorAll('#history li').length >= 2", timeout=60_000)
                _wait_js(page, "document.getElementById('video').naturalWidth > 0", timeout=30_000)
                state = page.inner_text("#state")
                denied = page.evaluate("fetch('/api/status', {credentials: 'omit'}).then(r => r.status)")
            finally:
                browser.close()
    finally:
        served.stop()
    assert state == "live" and not blocked, blocked
    assert denied == 401  # without the cookie the same request is refused

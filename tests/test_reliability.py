"""Reliability: faults, bad input and long runs, with nothing lost.

What is already covered elsewhere is not repeated here:

- zero-byte video and image, a text file named .mp4, a folder with other files mixed in, grayscale,
  16-bit and 4-channel images, a camera index that does not exist, a stream that never answers:
  tests/test_sources.py (test_zero_byte_*, test_text_file_named_mp4, test_folder_skips_other_files_*,
  test_grayscale_*, test_16_bit_*, test_four_channel_*, test_unknown_camera_index,
  test_stream_that_never_answers_fails_after_open_timeout); the same images and an 8K one through
  `livedigits run`: tests/test_run.py::test_unusual_images_read_like_the_original;
- a truncated video at the source level: tests/test_sources.py::test_truncated_video_delivers_*;
- Ctrl-C and SIGTERM in the middle of `run --output video --jsonl file`:
  tests/test_run.py::test_interrupt_leaves_complete_outputs;
- a missing output folder: tests/test_cli.py::test_output_folder_that_does_not_exist.

Figures worth reporting (stop times, RSS growth, thread counts) are printed with a "reliability:"
prefix; run with ``-s`` to see them. Bounds are generous hang guards, not speed targets.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers_media import MjpegServer, synthetic_image, wait_for, write_image, write_video
from livedigits.capture import opencv, sources
from livedigits.errors import SourceError
from livedigits.vision.segment import find_candidates
from livedigits.capture.sources import open_source
from livedigits.types import Frame

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "samples" / "page.png"
MODELS = ROOT / "models"

#: Shutdown on every path must take less than this (the issue's figure).
STOP_BOUND_S = 2.0
#: A `run` process told to stop must be gone within this, interpreter teardown included.
PROCESS_EXIT_BOUND_S = 10.0
#: The expected shapes every model error must state.
SHAPE_FRAGMENTS = ("(N, 28, 28, 1)", "(N, 10) or (N, 11)")


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "livedigits", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The single `livedigits: error:` line of a failed command; fails on a traceback or several lines."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("livedigits: error:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def jsonl_records(path: Path) -> list[dict]:
    """Every line of a JSONL output, which must all be complete."""
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "the last line is cut"
    return [json.loads(line) for line in text.splitlines()]


def report(what: str, value: str) -> None:
    print(f"\nreliability: {what}: {value}")


def os_threads() -> int:
    """Threads of this process as the kernel counts them (native FFmpeg/LiteRT threads included)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads: line in /proc/self/status")


def rss_mb() -> float:
    """Resident memory of this process in MB, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS: line in /proc/self/status")


def source_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("livedigits-source")]


class TrackedCapture:
    """A real cv2.VideoCapture that remembers whether it was released."""

    def __init__(self, capture: cv2.VideoCapture) -> None:
        self._capture = capture
        self.released = False

    def release(self) -> None:
        self.released = True
        self._capture.release()

    def __getattr__(self, name: str):
        return getattr(self._capture, name)


@pytest.fixture
def captures(monkeypatch: pytest.MonkeyPatch) -> list[TrackedCapture]:
    """Every capture open_source creates during the test, real but tracked."""
    made: list[TrackedCapture] = []
    real = opencv.new_capture

    def tracked(*args):
        capture = TrackedCapture(real(*args))
        made.append(capture)
        return capture

    monkeypatch.setattr(opencv, "new_capture", tracked)
    return made


# --------------------------------------------------------------------------- source faults in `run`


def test_run_reports_a_stream_that_is_lost(tmp_path: Path) -> None:
    """The camera app closes the stream mid-run: a live stream has no end, so it was lost — exit 5, not
    0 and "end of source"; the summary says why, every line complete."""
    jsonl = tmp_path / "out.jsonl"
    with MjpegServer(fps=25, frames=40, size=(160, 120)) as server:
        done = cli("run", server.url, "--headless", "--jsonl", str(jsonl), timeout=60)
    assert done.returncode == 5, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "ended by source failure" in done.stderr
    assert "the sender stopped or the connection was cut; use --reconnect" in done.stderr
    records = jsonl_records(jsonl)
    assert 0 < len(records) <= 40
    assert f"frames: {len(records)} processed" in done.stderr


def test_run_reports_a_stream_that_stalls(tmp_path: Path) -> None:
    """The stream stays connected but sends nothing: after the 10 s read timeout, exit 5 with one line.

    A stall is an error (5), not an end (0): the user asked to read that stream and it stopped working,
    and a script must be able to tell this apart from a stream that was closed on purpose. The line
    names the remedy, an option `run` must really have; the outputs so far are complete.
    """
    jsonl = tmp_path / "out.jsonl"
    with MjpegServer(fps=25, stall_after=20, size=(160, 120)) as server:
        started = time.monotonic()
        done = cli("run", server.url, "--headless", "--jsonl", str(jsonl), timeout=60)
        elapsed = time.monotonic() - started
    report("run on a stalled stream ended after", f"{elapsed:.1f} s (read timeout 10 s)")
    assert done.returncode == 5, done.stderr[-2000:]
    line = one_error_line(done)
    assert "sent no frame for 10 s" in line and "--reconnect" in line
    assert "--reconnect" in cli("run", "--help").stdout
    assert 0 < len(jsonl_records(jsonl)) <= 20


def test_stream_that_sends_headers_but_no_frame_times_out() -> None:
    """HTTP 200 and the multipart header, then silence: open_source gives up after open_timeout."""
    with MjpegServer(stall_after=0) as server:
        started = time.monotonic()
        with pytest.raises(SourceError, match="cannot open stream") as caught:
            open_source(server.url, open_timeout=1.5, read_timeout=1.5)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 5.0, f"took {elapsed:.1f} s"
    assert "\n" not in str(caught.value)
    assert source_threads() == []


def test_run_prints_the_truncated_video_warning(tmp_path: Path) -> None:
    """A video cut in half: what is readable is processed, then the summary says the file is truncated."""
    whole = write_video(tmp_path / "whole.avi", 40, size=(160, 120))
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    done = cli("run", str(cut), "--headless", "--jsonl", str(tmp_path / "out.jsonl"))
    assert done.returncode == 0, done.stderr[-2000:]
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert any("truncated" in w and "cut.avi" in w for w in warnings), done.stderr
    frames = [r["frame"] for r in jsonl_records(tmp_path / "out.jsonl")]
    assert 0 < len(frames) < 40 and frames == list(range(len(frames)))


def test_run_over_a_mixed_folder_reports_what_it_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    for index in range(3):
        write_image(folder / f"page{index}.png", synthetic_image(index, (160, 120)))
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.png").write_bytes(b"\x89PNG but cut short")
    done = cli("run", str(folder), "--headless", "--jsonl", str(tmp_path / "out.jsonl"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(jsonl_records(tmp_path / "out.jsonl")) == 3
    assert any("skipped unreadable image" in line and "broken.png" in line for line in done.stderr.splitlines())


def test_truncated_jpegs_in_a_folder_are_named_as_damaged_everywhere(tmp_path: Path) -> None:
    """48 of 50 truncated JPEGs were read without a word (41 gave numbers), libjpeg writing past the
    logging: each cut JPEG is now skipped with a warning naming it, the CLI, the API and the server alike."""
    from livedigits import Reader
    from livedigits.serve.predict import UploadError, check_image

    page = cv2.imread(str(Path(__file__).resolve().parent.parent / "samples" / "page.png"))
    ok, jpeg = cv2.imencode(".jpg", cv2.resize(page, (320, 240), interpolation=cv2.INTER_AREA))
    data = jpeg.tobytes()
    folder = tmp_path / "photos"
    folder.mkdir()
    cut_names = []
    for k in range(10):
        if k % 3 == 1:
            (folder / f"p{k}.jpg").write_bytes(data[: len(data) * (k + 3) // 16])
            cut_names.append(f"p{k}.jpg")
        else:
            (folder / f"p{k}.jpg").write_bytes(data)
    jsonl = tmp_path / "out.jsonl"
    done = cli("run", str(folder), "--headless", "-q", "--jsonl", str(jsonl))
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(Path(r["file"]).name for r in jsonl_records(jsonl)) == sorted(
        f"p{k}.jpg" for k in range(10) if f"p{k}.jpg" not in cut_names)
    for name in cut_names:
        said = [line for line in done.stderr.splitlines() if f"skipped damaged image {folder / name}" in line]
        assert said and "a JPEG cut short" in said[0], done.stderr
    assert "Premature end" not in done.stderr and "Corrupt JPEG" not in done.stderr  # libjpeg said nothing past us
    with pytest.raises(SourceError, match=r"damaged: a JPEG cut short"):
        Reader()(folder / cut_names[0])
    with pytest.raises(UploadError, match="truncated JPEG"):
        check_image((folder / cut_names[0]).read_bytes(), 40_000_000)


def test_one_lost_source_ends_the_run_with_5_only_after_the_healthy_one_finished(tmp_path: Path) -> None:
    """A stream that is lost among several sources no longer stops them all: the healthy file is read to
    its end, then the run exits 5 naming the lost one. --fail-fast stops at the first failure."""
    clip = write_video(tmp_path / "clip.avi", 60, fps=30.0, size=(160, 120))
    jsonl = tmp_path / "out.jsonl"
    with MjpegServer(fps=25, frames=10, size=(160, 120)) as server:
        # The clip, paced at 30 fps, lasts 2 s; the stream is lost after 10 frames (0.4 s).
        done = cli("run", server.url, str(clip), "--realtime", "--headless", "--jsonl", str(jsonl), timeout=90)
    assert done.returncode == 5, done.stderr[-2000:]
    assert "ended by end of sources, 1 of 2 failed" in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("livedigits: error: ") and "the sender stopped or the connection was cut" in last
    records = jsonl_records(jsonl)
    from_clip = [r["frame"] for r in records if r["source"] == str(clip)]
    from_stream = [r for r in records if r["source"] != str(clip)]
    assert 0 < len(from_stream) <= 10
    assert max(from_clip) >= 55  # the healthy file was read to its end, long after the stream was lost
    with MjpegServer(fps=25, frames=10, size=(160, 120)) as server:
        done = cli("run", server.url, str(clip), "--realtime", "--headless", "--fail-fast", timeout=90)
    assert done.returncode == 5 and done.stderr.strip().splitlines()[-1].startswith("livedigits: error:")


def test_a_closed_pipe_is_said_as_such_not_as_the_user_quitting(tmp_path: Path) -> None:
    reader = subprocess.Popen([sys.executable, "-m", "livedigits", "run", "samples/demo.mp4", "--headless", "--jsonl", "-"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
    reader.stdout.readline()
    reader.stdout.close()  # `| head -1`
    stderr = reader.stderr.read().decode()
    assert reader.wait(60) == 0, stderr
    assert "ended by standard output closed" in stderr and "the user (q)" not in stderr


def test_run_with_a_missing_camera_index() -> None:
    done = cli("run", "99", "--headless")
    assert done.returncode == 5
    assert "camera 99 cannot be opened" in one_error_line(done)


# --------------------------------------------------------------------------- model faults


@pytest.fixture(scope="module")
def bad_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    keras_bytes = (MODELS / "livedigits.keras").read_bytes()
    lite_bytes = (MODELS / "livedigits.tflite").read_bytes()
    paths = {
        "missing-keras": folder / "missing.keras",
        "missing-tflite": folder / "missing.tflite",
        "half-keras": folder / "half.keras",
        "short-tflite": folder / "short.tflite",
    }
    paths["half-keras"].write_bytes(keras_bytes[: len(keras_bytes) // 2])
    paths["short-tflite"].write_bytes(lite_bytes[: len(lite_bytes) * 3 // 4])
    return paths


@pytest.fixture(scope="module")
def wrong_shaped_keras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import keras

    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(keras.layers.Flatten()(inputs)))
    path = tmp_path_factory.mktemp("wrong") / "wrong.keras"
    model.save(path)
    return path


def _model_error(command: str, model: Path) -> str:
    args = ["run", str(PAGE), "--headless"] if command == "run" else ["evaluate", "--limit", "10"]
    done = cli(*args, "--model", str(model))
    assert done.returncode == 4, (done.returncode, done.stderr[-2000:])
    line = one_error_line(done)
    assert str(model) in line
    for fragment in SHAPE_FRAGMENTS:
        assert fragment in line, line
    return line


@pytest.mark.parametrize("command", ["run", "evaluate"])
@pytest.mark.parametrize("kind", ["missing-keras", "missing-tflite", "half-keras", "short-tflite"])
def test_bad_model_file_is_one_line_with_the_expected_shapes(bad_models, command: str, kind: str) -> None:
    line = _model_error(command, bad_models[kind])
    if kind.startswith("missing"):
        assert "not found" in line
    else:
        assert "damaged" in line and "cut short" in line
        assert "File not found" not in line  # what Keras says of a cut zip, although the file is there


@pytest.mark.parametrize("command", ["run", "evaluate"])
def test_wrong_shaped_model_names_what_it_has_and_what_is_expected(wrong_shaped_keras, command: str) -> None:
    line = _model_error(command, wrong_shaped_keras)
    assert "(None, 32, 32, 3)" in line and "(None, 5)" in line


# --------------------------------------------------------------------------- output faults


def test_output_folder_that_is_a_file_fails_before_anything_is_written(tmp_path: Path) -> None:
    """As root every folder is writable; a parent that is a regular file stands in for "not writable"."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    jsonl = tmp_path / "out.jsonl"
    done = cli("run", str(PAGE), "--headless", "--jsonl", str(jsonl), "--output", str(plain / "out.mp4"))
    assert done.returncode == 6
    assert "plain.txt is not a folder" in one_error_line(done)
    assert not jsonl.exists()


def test_unknown_video_extension_leaves_no_empty_jsonl_behind(tmp_path: Path) -> None:
    jsonl = tmp_path / "out.jsonl"
    done = cli("run", str(PAGE), "--headless", "--jsonl", str(jsonl), "--output", str(tmp_path / "out.gif"))
    assert done.returncode == 2  # a bad argument, not a failed write
    assert "unknown extension '.gif'" in one_error_line(done)
    done = cli("run", str(PAGE), "--headless", "--jsonl", str(jsonl), "--output", str(tmp_path / "out.mkv"))
    assert done.returncode == 2
    assert "unknown extension '.mkv'" in one_error_line(done)
    assert not jsonl.exists()


# --------------------------------------------------------------------------- errors


def test_verbose_shows_the_traceback_and_keeps_the_exit_code(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    quiet = cli("run", str(missing), "--headless")
    verbose = cli("--verbose", "run", str(missing), "--headless")
    assert "Traceback" not in quiet.stderr
    assert "Traceback (most recent call last)" in verbose.stderr and "SourceError" in verbose.stderr
    assert quiet.returncode == verbose.returncode == 5
    assert verbose.stderr.strip().splitlines()[-1] == one_error_line(quiet)


@pytest.mark.parametrize("option, value", [("--width", "0"), ("--height", "-480"), ("--fps", "0")])
def test_bad_camera_settings_are_usage_errors(option: str, value: str) -> None:
    done = cli("run", "0", "--headless", option, value)
    assert done.returncode == 2
    assert option in one_error_line(done)


# --------------------------------------------------------------------------- threads and shutdown


def _stop_time(src: sources.Source) -> float:
    started = time.monotonic()
    src.stop()
    return time.monotonic() - started


@pytest.mark.parametrize("kind", ["file", "folder", "mjpeg"])
def test_stop_is_prompt_and_releases_everything(tmp_path: Path, captures, kind: str) -> None:
    before = threading.active_count()
    server = None
    if kind == "file":
        spec = str(write_video(tmp_path / "clip.avi", 60))
    elif kind == "folder":
        for index in range(12):
            write_image(tmp_path / f"{index:02d}.png", synthetic_image(index))
        spec = str(tmp_path)
    else:
        server = MjpegServer(fps=25).start()
        spec = server.url
    try:
        src = open_source(spec, open_timeout=5, read_timeout=5).start()
        assert src.read(timeout=5) is not None
        # A file or folder reader is now waiting on its full queue; a live one is inside a read.
        assert wait_for(lambda: src.frames_read >= 3, 5)
        elapsed = _stop_time(src)
    finally:
        if server is not None:
            server.stop()
    report(f"Source.stop() on a {kind}", f"{elapsed * 1e3:.1f} ms")
    assert elapsed < STOP_BOUND_S
    assert source_threads() == []
    assert threading.active_count() == before
    assert all(capture.released for capture in captures)
    assert len(captures) == (0 if kind == "folder" else 1)


def test_stop_is_prompt_on_a_stalled_stream(captures) -> None:
    """The reader is blocked inside FFmpeg, which cannot be interrupted: stop() still returns within the
    bound, and the thread ends and releases the capture by itself when FFmpeg's read timeout fires."""
    read_timeout = 4.0
    with MjpegServer(fps=25, stall_after=5) as server:
        src = open_source(server.url, open_timeout=5, read_timeout=read_timeout).start()
        assert wait_for(lambda: src.frames_read >= 5, 5)
        time.sleep(0.5)  # the reader is now waiting in FFmpeg for a frame that never comes
        elapsed = _stop_time(src)
        left = time.monotonic()
        assert wait_for(lambda: not source_threads(), read_timeout + 5)
        lingered = time.monotonic() - left
    report("Source.stop() on a stalled stream", f"{elapsed:.2f} s; reader thread ended {lingered:.1f} s later")
    assert elapsed < STOP_BOUND_S
    assert len(captures) == 1 and captures[0].released


def test_sigterm_ends_run_on_a_stalled_stream_promptly(tmp_path: Path) -> None:
    """The worst case for shutdown: the reader is stuck in FFmpeg when SIGTERM comes."""
    jsonl = tmp_path / "out.jsonl"
    with MjpegServer(fps=25, stall_after=15, size=(160, 120)) as server:
        proc = subprocess.Popen([sys.executable, "-m", "livedigits", "run", server.url, "--headless",
                                 "--jsonl", str(jsonl)], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert wait_for(lambda: server.frames_sent >= 15 and jsonl.exists() and jsonl.stat().st_size > 0, 60)
            time.sleep(1.0)  # well into the stall, well before the 10 s read timeout
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
            elapsed = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    report("`run` on a stalled stream, SIGTERM to process exit", f"{elapsed:.2f} s")
    assert elapsed < PROCESS_EXIT_BOUND_S
    assert proc.returncode == 0, err[-2000:]
    assert "ended by SIGTERM" in err
    assert jsonl_records(jsonl)


# --------------------------------------------------------------------------- segmentation


def test_a_4k_frame_of_noise_is_not_a_hang() -> None:
    """Sensor noise or a textured table at 4K gives ~100,000 specks; merging them once took 6 minutes.
    Bounded in CPU seconds, not wall time, so a loaded machine cannot fail it: 7.5 s of CPU here (2 cores),
    whatever the load; the 6 minutes were a quadratic merge."""
    noise = np.random.default_rng(0).integers(0, 256, (2160, 3840), dtype=np.uint8)
    started = time.process_time()
    found = find_candidates(noise)
    cpu = time.process_time() - started
    report("find_candidates on 4K noise", f"{cpu:.2f} s of CPU, {len(found)} candidates")
    assert cpu < 60.0


# --------------------------------------------------------------------------- long run

SOAK_FRAMES = 10_000
SOAK_WARMUP = 500
SOAK_CLIP_FRAMES = 60
SOAK_RSS_GROWTH_MB = 20.0


def _soak_clip(path: Path, mnist_slice) -> Path:
    """A 320x240 page with six MNIST digits, wobbling like a hand-held camera, as a short MJPG video."""
    _, (x_test, _) = mnist_slice
    page = np.full((240, 320, 3), 225, np.uint8)
    for k in range(6):
        ink = cv2.resize(x_test[k], (40, 40), interpolation=cv2.INTER_CUBIC).astype(np.float32)[..., None] / 255.0
        x, y = 40 + (k % 3) * 90, 50 + (k // 3) * 90
        region = page[y: y + 40, x: x + 40].astype(np.float32)
        page[y: y + 40, x: x + 40] = (region * (1 - ink) + 30 * ink).astype(np.uint8)
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
    assert writer.isOpened()
    try:
        for _ in range(SOAK_CLIP_FRAMES):
            shift = np.float32([[1, 0, rng.uniform(-3, 3)], [0, 1, rng.uniform(-3, 3)]])
            frame = cv2.warpAffine(page, shift, (320, 240), borderMode=cv2.BORDER_REPLICATE)
            writer.write(np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8))
    finally:
        writer.release()
    return path


class LoopingVideo:
    """The runner's view of a source (start/read/state/stop) that replays a short file many times.

    Each pass is a real :class:`Source` from the real ``open_source``: its reader thread, its capture,
    its stop(). Frames are renumbered so the run sees one long stream; ``on_frame(n)`` is called with
    the count delivered so far.
    """

    policy = sources.POLICY_EVERY
    frames_dropped = 0
    name, kind = "loop", "video"
    is_live, fps, size, total_frames, reconnects = False, None, None, None, 0  # the rest of engine.SourceLike

    def __init__(self, path: Path, frames: int, on_frame) -> None:
        self.path, self.total, self.on_frame = str(path), frames, on_frame
        self.delivered = self.passes = 0
        self.state = sources.STATE_STARTING
        self.warnings: list[str] = []
        self._current: sources.Source | None = None

    def _next_pass(self) -> None:
        self._current = open_source(self.path).start()
        self.passes += 1

    def start(self) -> "LoopingVideo":
        self._next_pass()
        self.state = sources.STATE_LIVE
        return self

    def read(self, timeout: float | None = None):
        while self.delivered < self.total:
            frame = self._current.read(timeout=timeout)
            if frame is None:
                if self._current.state != sources.STATE_ENDED:
                    return None
                self._current.stop()
                self._next_pass()
                continue
            frame = dataclasses.replace(frame, index=self.delivered)
            self.delivered += 1
            self.on_frame(self.delivered)
            return frame
        self.state = sources.STATE_ENDED
        return None

    def stop(self) -> None:
        if self._current is not None:
            self._current.stop()
        self.state = sources.STATE_ENDED


def test_soak_10000_frames_memory_threads_and_captures(tmp_path: Path, mnist_slice, captures) -> None:
    """10,000 frames through the real Recognizer and run loop with LiteRT, from a short file replayed by
    re-opening it with open_source: memory flat after warm-up, every thread joined, every capture released,
    every frame recorded."""
    from livedigits.classify.backends import LITE_BUCKETS, LiteClassifier
    from livedigits.reading.recognizer import Recognizer
    from livedigits.engine.loop import Engine
    from livedigits.sinks import JsonlSink

    clip = _soak_clip(tmp_path / "clip.avi", mnist_slice)
    classifier = LiteClassifier()
    # Warm up outside the measurement: LiteRT makes one interpreter (and its threads) per batch size.
    warm = Recognizer(classifier, smooth=False)
    capture = cv2.VideoCapture(str(clip))
    digits_seen = []
    while (image := capture.read()[1]) is not None:
        digits_seen.append(len(warm.process(Frame(index=0, time=0.0, image=image)).detections))
    capture.release()
    assert min(digits_seen) >= 5, digits_seen  # the page really has digits to read
    # On video most crops keep their earlier reading (reading/reuse.py): the run's batches are smaller
    # than whole frames', so every batch size is made here too.
    for size in LITE_BUCKETS:
        classifier.predict(np.zeros((size, 28, 28, 1), np.float32))
    captures.clear()

    samples: dict[str, float] = {}

    def on_frame(count: int) -> None:
        if count in (SOAK_WARMUP, SOAK_FRAMES):
            gc.collect()
            samples[f"rss@{count}"] = rss_mb()
            samples[f"threads@{count}"] = os_threads()

    gc.collect()
    python_threads_before, os_threads_before = threading.active_count(), os_threads()
    rss_before = rss_mb()
    source = LoopingVideo(clip, SOAK_FRAMES, on_frame)
    started = time.monotonic()
    summary = Engine([source], Recognizer(classifier), sinks=[JsonlSink(tmp_path / "soak.jsonl")]).run()
    seconds = time.monotonic() - started
    gc.collect()
    time.sleep(0.2)  # FFmpeg's own decoder threads finish exiting after release()
    growth = samples[f"rss@{SOAK_FRAMES}"] - samples[f"rss@{SOAK_WARMUP}"]
    report("soak", (f"{summary.frames} frames in {seconds:.1f} s ({summary.frames / seconds:.0f} fps), "
                    f"{source.passes} passes of the clip; RSS {rss_before:.1f} MB before, "
                    f"{samples[f'rss@{SOAK_WARMUP}']:.1f} MB at frame {SOAK_WARMUP}, "
                    f"{samples[f'rss@{SOAK_FRAMES}']:.1f} MB at frame {SOAK_FRAMES} (growth {growth:+.1f} MB); "
                    f"threads python {python_threads_before} -> {threading.active_count()}, "
                    f"os {os_threads_before} -> {samples[f'threads@{SOAK_WARMUP}']:.0f} during -> {os_threads()}"))

    assert summary.frames == SOAK_FRAMES and summary.ended_by == "end of source"
    records = jsonl_records(tmp_path / "soak.jsonl")
    assert [r["frame"] for r in records] == list(range(SOAK_FRAMES))  # nothing lost, nothing twice
    assert growth < SOAK_RSS_GROWTH_MB
    assert threading.active_count() == python_threads_before
    assert source_threads() == []
    assert wait_for(lambda: os_threads() == os_threads_before, 5), (os_threads_before, os_threads())
    assert len(captures) == source.passes and all(capture.released for capture in captures)


def test_a_frame_size_change_mid_video_is_found_and_boxes_stay_in_each_frames_pixels(tmp_path: Path) -> None:
    """OpenCV scales every frame of a video to its first frame's size without a word, so the boxes of a
    640x480 -> 960x720 file landed at 2/3 scale. PyAV finds the change; the frames are read at their
    own size."""
    import av

    page = cv2.imread(str(Path(__file__).resolve().parent.parent / "samples" / "page.png"))
    parts = []
    for k, size in enumerate(((640, 480), (960, 720))):
        part = tmp_path / f"part{k}.ts"
        with av.open(str(part), "w", format="mpegts") as container:
            stream = container.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
            for index in range(8):
                frame = av.VideoFrame.from_ndarray(cv2.resize(page, size, interpolation=cv2.INTER_AREA), format="bgr24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        parts.append(part.read_bytes())
    video = tmp_path / "changes.ts"
    video.write_bytes(b"".join(parts))  # MPEG-TS pieces join into one stream whose size changes
    assert [size for _, size in sources.frame_sizes(str(video))] == [(640, 480), (960, 720)]
    jsonl = tmp_path / "out.jsonl"
    done = cli("run", str(video), "--headless", "--jsonl", str(jsonl))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "the frame size changes mid-video (640x480, then 960x720" in done.stderr
    rights = [max((d["box"][0] + d["box"][2] for d in r["detections"]), default=0) for r in jsonl_records(jsonl)]
    assert len(rights) == 16
    assert max(rights[:8]) <= 640 and min(rights[8:]) > 640  # each frame's boxes in its own pixels

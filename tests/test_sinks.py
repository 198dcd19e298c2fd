"""Tests for livedigits.sinks: JSON Lines, video files, the window, output paths.

No display is needed: the window tests check the refusals, and the key
handling runs against fake cv2 GUI functions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers_media import synthetic_image
from livedigits import sinks
from livedigits.sinks import window as window_module
from livedigits.errors import OutputError, UsageError
from livedigits.sinks import JsonlSink, VideoFile, WindowSink, check_output_path
from livedigits.types import Box, Detection, Frame, FrameResult, Number

REPO_ROOT = Path(__file__).resolve().parents[1]


def make_result(index: int, n_detections: int = 2) -> FrameResult:
    detections = tuple(
        Detection(Box(10 * i, 5, 8, 12), digit=(index + i) % 10, confidence=0.9 + i / 100)
        for i in range(n_detections)
    )
    numbers = (Number("".join(str(d.digit) for d in detections), Box(0, 5, 100, 12), 0.95, detections),)
    frame = Frame(index=index, time=index / 30.0, image=np.zeros((4, 4, 3), np.uint8))
    return FrameResult(frame, detections, numbers, timings={"segment": 1.0}, latency_ms=7.9)


def read_video(path: Path) -> tuple[int, tuple[int, int] | None]:
    """(frames decoded, (width, height) of the first) of a video file."""
    capture = cv2.VideoCapture(str(path))
    try:
        count, size = 0, None
        while True:
            ok, image = capture.read()
            if not ok:
                return count, size
            count += 1
            size = size or (image.shape[1], image.shape[0])
    finally:
        capture.release()


# --------------------------------------------------------------------------- output paths


def test_check_output_path_accepts_a_file_in_an_existing_folder(tmp_path: Path) -> None:
    assert check_output_path(tmp_path / "out.jsonl") == tmp_path / "out.jsonl"


def test_check_output_path_names_the_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(OutputError, match="does not exist") as caught:
        check_output_path(missing / "out.jsonl")
    assert str(missing) in str(caught.value)


def test_check_output_path_rejects_a_folder_and_a_file_as_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder"):
        check_output_path(tmp_path)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        check_output_path(plain / "out.jsonl")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_check_output_path_rejects_a_read_only_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_output_path(locked / "out.jsonl")
    finally:
        locked.chmod(0o700)


# --------------------------------------------------------------------------- JSON Lines


def test_jsonl_lines_are_complete_parseable_and_flushed(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlSink(path) as sink:
        for index in range(5):
            sink.write(make_result(index))
            # Flushed at once: another reader sees every line while the sink is open.
            assert path.read_text().count("\n") == index + 1
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["frame"] for r in records] == list(range(5))
    assert records[2] == make_result(2).to_record()
    assert set(records[0]) == {"source", "frame", "time", "latency_ms", "detections", "numbers"}
    assert sink.lines_written == 5


def test_jsonl_interrupted_write_leaves_only_complete_lines(tmp_path: Path) -> None:
    class Interrupted(FrameResult):
        def to_record(self) -> dict:
            raise KeyboardInterrupt

    path = tmp_path / "run.jsonl"
    sink = JsonlSink(path)
    for index in range(3):
        sink.write(make_result(index))
    broken = Interrupted(*[getattr(make_result(3), f) for f in ("frame", "detections", "numbers")])
    with pytest.raises(KeyboardInterrupt):
        sink.write(broken)
    # Not closed yet, as after a crash: the file already holds whole lines only.
    text = path.read_text()
    assert text.endswith("\n")
    assert [json.loads(line)["frame"] for line in text.splitlines()] == [0, 1, 2]
    sink.close()
    sink.close()  # idempotent


def test_jsonl_ctrl_c_in_a_real_process_leaves_only_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    # Long lines (many detections) so that a buffered writer would split them.
    child = textwrap.dedent(
        f"""
        import signal, sys
        # Python keeps SIGINT ignored when it starts so (a test suite run as a background job): Ctrl-C
        # must raise KeyboardInterrupt here whatever this process inherited.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.path.insert(0, {str(REPO_ROOT)!r}); sys.path.insert(0, {str(REPO_ROOT / "tests")!r})
        from test_sinks import make_result
        from livedigits.sinks import JsonlSink
        results = [make_result(i, n_detections=150) for i in range(50)]
        with JsonlSink({str(path)!r}) as sink:
            i = 0
            while True:
                sink.write(results[i % 50]); i += 1
        """
    )
    process = subprocess.Popen([sys.executable, "-c", child], stderr=subprocess.PIPE)
    try:
        # Generous bounds: on a loaded machine the child may take long to import OpenCV and NumPy.
        deadline = time.monotonic() + 240
        while (not path.exists() or path.stat().st_size < 200_000) and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.05)
        assert path.exists() and path.stat().st_size >= 200_000, "the child did not start writing in time"
        process.send_signal(signal.SIGINT)
        process.wait(120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0, "the child was interrupted"
    text = path.read_text()
    assert len(text) > 8192
    assert text.endswith("\n")
    for line in text.splitlines():
        assert len(json.loads(line)["detections"]) == 150


def test_jsonl_bad_folder_fails_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="missing"):
        JsonlSink(tmp_path / "missing" / "run.jsonl")


# --------------------------------------------------------------------------- video


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_video_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"annotated{suffix}"
    with VideoFile(path, fps=20, size=None) as sink:
        assert not path.exists(), "opened lazily, on the first frame"
        for index in range(15):
            sink.write(synthetic_image(index, (96, 64)))
        assert sink.size == (96, 64)
    assert read_video(path) == (15, (96, 64))
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(20.0)
    capture.release()


def test_video_odd_size_is_made_even_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    with VideoFile(path, fps=10) as sink:
        for index in range(4):
            sink.write(synthetic_image(index, (63, 47)))
    assert sink.size == (62, 46)
    assert read_video(path) == (4, (62, 46))


def test_video_frames_of_another_size_or_depth_are_not_lost(tmp_path: Path) -> None:
    # OpenCV's writer silently skips frames whose size or channels differ.
    path = tmp_path / "mixed.avi"
    with VideoFile(path, fps=10, size=(64, 48)) as sink:
        sink.write(synthetic_image(0, (64, 48)))
        sink.write(synthetic_image(1, (128, 96)))
        sink.write(np.full((48, 64), 100, np.uint8))
    assert sink.frames_written == 3 and sink.frames_resized == 1
    assert read_video(path) == (3, (64, 48))


def test_video_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown extension '\.mkv'.*\.mp4, \.webm or \.avi"):
        VideoFile(tmp_path / "out.mkv", fps=30)


def test_video_bad_folder_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        VideoFile(tmp_path / "nowhere" / "out.mp4", fps=30)


def test_video_without_frames_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    VideoFile(path, fps=30).close()
    assert not path.exists()


def test_video_rejects_a_bad_frame_rate(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fps"):
        VideoFile(tmp_path / "out.avi", fps=0)
    assert VideoFile(tmp_path / "out.avi", fps=None).fps == sinks.DEFAULT_VIDEO_FPS


# --------------------------------------------------------------------------- window


def test_window_without_display(monkeypatch: pytest.MonkeyPatch) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("DISPLAY only matters on Linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(OutputError, match=r"^cannot open a window: .*DISPLAY.*; use --headless$"):
        WindowSink("livedigits")


def test_window_with_an_unreachable_display(monkeypatch: pytest.MonkeyPatch) -> None:
    # With opencv-python's Qt build, namedWindow on a dead display aborts the
    # whole process instead of raising; the sink must find out without dying.
    if not sys.platform.startswith("linux"):
        pytest.skip("X11 displays only on Linux")
    monkeypatch.setenv("DISPLAY", ":987")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(OutputError, match=r"cannot open a window: .*':987'.*; use --headless$"):
        WindowSink("livedigits")


def test_window_with_headless_opencv(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_gui(*args: object) -> None:
        raise cv2.error("The function is not implemented.\nRebuild the library with GTK+ support")

    monkeypatch.setattr(window_module, "_gui_problem", lambda: None)
    monkeypatch.setattr(window_module.cv2, "namedWindow", no_gui)
    with pytest.raises(OutputError) as caught:
        WindowSink("livedigits")
    message = str(caught.value)
    assert message.startswith("cannot open a window: ") and message.endswith("; use --headless")
    assert "not implemented" in message and "\n" not in message


class FakeGui:
    """Replaces cv2's window functions; ``keys`` are returned by waitKey in turn."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, keys: list[int]) -> None:
        self.keys = list(keys)
        self.calls: list[tuple] = []
        self.visible = 1.0
        monkeypatch.setattr(window_module, "_gui_problem", lambda: None)
        for name in ("namedWindow", "imshow", "setWindowProperty", "destroyWindow"):
            monkeypatch.setattr(window_module.cv2, name, self._recorder(name))
        monkeypatch.setattr(window_module.cv2, "waitKey", lambda delay: self.keys.pop(0) if self.keys else -1)
        monkeypatch.setattr(window_module.cv2, "getWindowProperty", lambda title, prop: self.visible)

    def _recorder(self, name: str):
        return lambda *args: self.calls.append((name, *args))


def test_window_keys_map_to_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [-1, ord("s"), 32, 32, ord("q"), 27, 0x100000 | ord("q")]
    gui = FakeGui(monkeypatch, keys)
    image = synthetic_image(0)
    with WindowSink("digits") as window:
        actions = [window.show(image) for _ in keys]
        assert actions == [None, "snapshot", "pause", "pause", "quit", "quit", "quit"]
        gui.visible = 0.0  # the user closed the window with the mouse
        assert window.show(image) == "quit"
    assert ("namedWindow", "digits", cv2.WINDOW_AUTOSIZE) in gui.calls
    assert ("destroyWindow", "digits") in gui.calls


def test_window_fullscreen(monkeypatch: pytest.MonkeyPatch) -> None:
    gui = FakeGui(monkeypatch, [])
    WindowSink("kiosk", fullscreen=True).close()
    assert ("namedWindow", "kiosk", cv2.WINDOW_NORMAL | cv2.WINDOW_GUI_NORMAL) in gui.calls
    assert ("setWindowProperty", "kiosk", cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN) in gui.calls


def test_kiosk_window_ignores_passers_by(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)  # no X11 here: the window is left as OpenCV makes it
    keys = [ord("q"), 27, 32, ord("s"), ord("7"), ord("Q"), *map(ord, "qui"), ord("x"), *map(ord, "quit")]
    gui = FakeGui(monkeypatch, keys)
    with WindowSink("kiosk", kiosk=True) as window:
        actions = [window.show(synthetic_image(0)) for _ in keys]
    # Only the word "quit", typed in one go, closes it.
    assert actions == [None] * (len(keys) - 1) + ["quit"]
    assert ("setWindowProperty", "kiosk", cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN) in gui.calls


def test_a_slow_kiosk_can_still_be_quit_but_not_by_keys_far_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """The window takes one key per frame shown: on a kiosk showing a frame every 1.5 s, "quit" takes
    4.5 s, and closes it; a pause of KIOSK_QUIT_WITHIN_S between two of its keys starts the word over."""
    from livedigits.engine.keys import KIOSK_QUIT_WITHIN_S

    monkeypatch.delenv("DISPLAY", raising=False)
    clock = [1000.0]
    monkeypatch.setattr(window_module, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    keys = [*map(ord, "qu"), *map(ord, "it"), *map(ord, "quit")]
    gaps = [1.5, 1.5, KIOSK_QUIT_WITHIN_S, 1.5, 1.5, 1.5, 1.5, 1.5]  # before each key
    FakeGui(monkeypatch, keys)
    actions = []
    with WindowSink("kiosk", kiosk=True) as window:
        for gap in gaps:
            clock[0] += gap
            actions.append(window.show(synthetic_image(0)))
    assert actions == [None] * 7 + ["quit"]


def test_the_window_saves_its_own_snapshot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog) -> None:
    import logging

    FakeGui(monkeypatch, [ord("s"), ord("s")])
    monkeypatch.chdir(tmp_path)
    image = synthetic_image(0)
    with WindowSink("digits") as window, caplog.at_level(logging.INFO, logger="livedigits"):
        assert window.show(image) == "snapshot"  # nothing shown yet: nothing saved
        assert list(tmp_path.iterdir()) == []
        result = FrameResult(Frame(42, 1.4, image), (), ())
        assert window.write(result, image) == "snapshot"
    saved = tmp_path / "livedigits-snapshot-000042.png"
    assert np.array_equal(cv2.imread(str(saved)), image)
    assert f"snapshot saved: {saved.name}" in caplog.text


def test_what_a_window_shows_while_no_frame_comes() -> None:
    from types import SimpleNamespace

    from livedigits.engine.loop import Screen
    from livedigits.sinks.window import pictures

    picture = np.full((480, 640, 3), 220, np.uint8)
    result = FrameResult(Frame(3, 0.1, picture), (), ())
    live = SimpleNamespace(state="live", name="camera 0", size=(640, 480), detail="")
    gone = SimpleNamespace(state="unavailable", name="camera 1", size=(640, 480), detail="retrying in 2 s")
    screens = [Screen("a", live, result, picture, 30.0), Screen("b", gone, result, picture, 0.0)]
    shown = dict(pictures(screens))
    assert shown["a"] is picture  # live: its last picture stays
    assert shown["b"].shape == picture.shape and shown["b"].mean() < 100  # gone: says so, on a dark screen
    marked: dict = {}
    paused = dict(pictures(screens, paused=True, marked=marked))
    assert not np.array_equal(paused["a"], picture) and np.array_equal(paused["a"][:400], picture[:400])  # marked at the bottom
    assert dict(pictures(screens, paused=True, marked=marked))["a"] is paused["a"]  # drawn once per pause
    ended = dict(pictures([Screen("a", SimpleNamespace(state="ended", name="x", size=None, detail=""), result, picture, 0.0)],
                          ended=True))
    assert ended["a"] is picture  # lingering after the end: the last picture, to read at leisure


# --------------------------------------------------------------------------- nothing lost


def _run(*args: str, limit_bytes: int | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`livedigits ARGS` in a child; with ``limit_bytes``, under a file size limit (``ulimit -f``): a
    write past it fails with EFBIG, as on a full disk."""
    import resource

    def limit():
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "livedigits", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO_ROOT, preexec_fn=limit)


@pytest.mark.parametrize("option", ["--output", "--jsonl", "--csv"])
def test_an_output_onto_the_input_is_refused_and_the_input_is_unchanged(tmp_path: Path, option: str) -> None:
    video = tmp_path / "in.avi"
    video.write_bytes((REPO_ROOT / "samples" / "demo.mp4").read_bytes())
    link = tmp_path / "link.avi"
    link.symlink_to(video)
    before = video.read_bytes()
    for target in (video, link):
        done = _run("run", str(video), "--headless", option, str(target))
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and f"{option} {target} is the input {video}" in done.stderr
    assert video.read_bytes() == before


def test_save_dir_onto_the_input_folder_and_two_outputs_on_one_path_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    photo = folder / "page.png"
    photo.write_bytes((REPO_ROOT / "samples" / "page.png").read_bytes())
    before = photo.read_bytes()
    for args in ([str(folder), "--save-dir", str(folder)], [str(photo), "--save-dir", str(folder)],
                 [str(folder), "--save-crops", str(folder) + "/"]):
        done = _run("run", *args, "--headless")
        assert done.returncode == 2 and "the originals would be replaced" in done.stderr, done.stderr
    done = _run("run", str(photo), "--headless", "--jsonl", str(tmp_path / "same.txt"), "--csv", str(tmp_path / "same.txt"))
    assert done.returncode == 2 and "are one path" in done.stderr
    assert not (tmp_path / "same.txt").exists()
    assert photo.read_bytes() == before and sorted(p.name for p in folder.iterdir()) == ["page.png"]


def test_the_video_is_h264_that_browsers_play_and_counts_what_it_holds(tmp_path: Path) -> None:
    import av

    out = tmp_path / "out.mp4"
    done = _run("run", "samples/demo.mp4", "--headless", "-q", "--output", str(out), "--max-frames", "40")
    assert done.returncode == 0, done.stderr
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert sum(1 for _ in container.decode(video=0)) == 40
    path = tmp_path / "out.webm"
    with VideoFile(path, fps=10) as sink:
        for index in range(5):
            sink.write(synthetic_image(index, (96, 64)))
    assert sink.frames_written == 5
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "vp9"


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_a_cut_video_is_an_error_that_says_what_the_file_holds(tmp_path: Path, suffix: str) -> None:
    """With the file size limit reached mid-run, the run exits 6 (it said "annotated video" and exit 0
    with 8 of 1,000 frames in it); the file is removed when it cannot play, or holds what it says."""
    out = tmp_path / f"cut{suffix}"
    done = _run("run", "samples/demo.mp4", "--headless", "-q", "--output", str(out), limit_bytes=200_000)
    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr and "annotated video" not in done.stderr
    if out.exists():
        held = int(done.stderr.split(" it holds ")[1].split()[0])
        assert 0 < held == read_video(out)[0] < 150, done.stderr
    else:
        assert "the unplayable file was removed" in done.stderr


def test_a_csv_on_a_full_disk_ends_in_a_whole_row_and_exits_non_zero(tmp_path: Path) -> None:
    import csv

    folder = tmp_path / "pages"
    folder.mkdir()
    for k in range(30):
        (folder / f"p{k:02d}.png").write_bytes((REPO_ROOT / "samples" / "page.png").read_bytes())
    out = tmp_path / "numbers.csv"
    done = _run("run", str(folder), "--headless", "-q", "--csv", str(out), limit_bytes=4096)
    assert done.returncode == 6, done.stderr
    rows = list(csv.reader(out.open(newline="")))
    assert out.read_bytes().endswith(b"\r\n") and all(len(row) == len(sinks.CSV_COLUMNS) for row in rows)
    assert f"it keeps the header and {len(rows) - 1} whole rows" in done.stderr

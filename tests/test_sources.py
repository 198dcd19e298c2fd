"""Tests for livedigits.capture.sources: files, images, folders, streams, threads and failures.

No camera, display or internet: videos and images are written with cv2 into
tmp_path, streams are served on 127.0.0.1 by the tests themselves, and the
camera paths use a fake capture in place of cv2.VideoCapture.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers_media import (
    MjpegServer,
    SilentServer,
    free_port,
    frame_index_from_image,
    level,
    synthetic_image,
    wait_for,
    write_image,
    write_video,
)
from livedigits.capture import images
from livedigits.capture import opencv, sources
from livedigits.errors import SourceError
from livedigits.capture.images import to_bgr8
from livedigits.capture.sources import EVERY_QUEUE_SIZE, open_source
from livedigits.types import Frame

#: Upper bound for anything that must not hang; generous for a shared 2-core box.
NO_HANG_S = 8.0


def read_all(src: sources.Source, limit_s: float = NO_HANG_S) -> list[Frame]:
    """Every frame until the clean end; fails the test instead of hanging."""
    frames: list[Frame] = []
    deadline = time.monotonic() + limit_s
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"source did not end within {limit_s} s ({len(frames)} frames read)"
        frame = src.read(timeout=remaining)
        if frame is None:
            if src.state == "ended":
                return frames
            continue
        frames.append(frame)


def source_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("livedigits-source")]


def assert_bgr8(image: np.ndarray) -> None:
    assert image.dtype == np.uint8
    assert image.ndim == 3 and image.shape[2] == 3
    assert image.flags["C_CONTIGUOUS"]


def expect_source_error(spec, *fragments: str, limit_s: float = NO_HANG_S, **kwargs) -> str:
    """open_source(spec) must raise SourceError quickly, with every fragment in its message."""
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        open_source(spec, **kwargs)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert elapsed < limit_s, f"took {elapsed:.1f} s to fail"
    assert "\n" not in message, "messages are printed on one line"
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# --------------------------------------------------------------------------- video files


def test_video_file_delivers_every_frame_in_order(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", 12, fps=20.0, size=(64, 48))
    with open_source(str(video)) as src:
        assert src.policy == "every" and not src.is_live
        assert src.fps == pytest.approx(20.0)
        assert src.size == (64, 48)
        # Let the reader fill the queue first: with "every" nothing may be lost.
        assert wait_for(lambda: src.frames_read > EVERY_QUEUE_SIZE, NO_HANG_S)
        frames = read_all(src)
        assert src.read(timeout=1) is None, "the end is sticky"
        assert src.state == "ended"
    assert [f.index for f in frames] == list(range(12))
    assert [f.time for f in frames] == pytest.approx([i / 20.0 for i in range(12)])
    assert [frame_index_from_image(f.image) for f in frames] == list(range(12))
    for frame in frames:
        assert_bgr8(frame.image)
        assert frame.image.shape == (48, 64, 3)
    assert (src.frames_read, src.frames_delivered, src.frames_dropped) == (12, 12, 0)
    assert not src.truncated and src.warnings == []


def test_mp4_file_is_read_too(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", 6, fps=10.0)
    with open_source(video) as src:  # a Path works as well as a str
        frames = read_all(src)
    assert [f.index for f in frames] == list(range(6))
    assert frames[-1].time == pytest.approx(0.5)


def test_realtime_file_is_paced_and_drops_stale_frames(tmp_path: Path) -> None:
    fps, n_frames = 30.0, 30
    video = write_video(tmp_path / "clip.avi", n_frames, fps=fps)
    started = time.monotonic()
    with open_source(str(video), realtime=True) as src:
        assert src.policy == "latest"
        frames = []
        while (frame := src.read(timeout=NO_HANG_S)) is not None:
            frames.append(frame)
            time.sleep(0.1)  # a consumer three times slower than the video
    elapsed = time.monotonic() - started
    indices = [f.index for f in frames]
    assert indices == sorted(set(indices)), "frames arrive in order, never twice"
    assert indices[-1] == n_frames - 1, "the last frame is not lost"
    assert src.frames_dropped > 0
    assert src.frames_read == n_frames
    assert src.frames_delivered + src.frames_dropped == src.frames_read
    assert [f.time for f in frames] == pytest.approx([i / fps for i in indices])
    assert elapsed >= 0.8 * n_frames / fps, "played at its own frame rate, not as fast as possible"


def test_truncated_video_delivers_what_it_can_and_warns(tmp_path: Path) -> None:
    whole = write_video(tmp_path / "whole.avi", 40)
    cut = tmp_path / "cut.avi"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with open_source(str(cut)) as src:
        frames = read_all(src)
    assert 0 < len(frames) < 40
    assert src.truncated
    assert any("truncated" in w for w in src.warnings)


# --------------------------------------------------------------------------- images, folders, globs


def test_image_file_is_one_frame(tmp_path: Path) -> None:
    image = write_image(tmp_path / "page.png", synthetic_image(3, (40, 30)))
    with open_source(str(image)) as src:
        frames = read_all(src)
    assert len(frames) == 1
    assert frames[0].index == 0 and frames[0].time == 0.0
    assert frames[0].image.shape == (30, 40, 3)
    assert src.size == (40, 30) and src.fps is None


def test_folder_skips_other_files_and_counts_unreadable_images(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    write_image(folder / "b.png", synthetic_image(2))
    write_image(folder / "a.jpg", synthetic_image(1))
    write_image(folder / "c.bmp", synthetic_image(3))
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.png").write_bytes(b"\x89PNG but not really")
    (folder / "sub").mkdir()
    write_image(folder / "sub" / "nested.png", synthetic_image(9))  # not recursed into
    write_video(folder / "clip.avi", 3)
    with open_source(str(folder)) as src:
        frames = read_all(src)
    # sorted by name: a.jpg, b.png, (broken.png skipped), c.bmp
    assert [frame_index_from_image(f.image) for f in frames] == [1, 2, 3]
    assert [f.index for f in frames] == [0, 1, 2]
    assert src.skipped == 1
    assert any("broken.png" in w for w in src.warnings)


def test_glob_reads_matching_images_in_sorted_order(tmp_path: Path) -> None:
    for index in (3, 1, 2):
        write_image(tmp_path / f"page{index}.png", synthetic_image(index))
    write_image(tmp_path / "other.jpg", synthetic_image(7))
    (tmp_path / "page9.txt").write_text("no")
    with open_source(str(tmp_path / "page*.png")) as src:
        frames = read_all(src)
    assert [frame_index_from_image(f.image) for f in frames] == [1, 2, 3]


# --------------------------------------------------------------------------- normalisation


def _only_frame(path: Path) -> np.ndarray:
    with open_source(str(path)) as src:
        frames = read_all(src)
    assert len(frames) == 1
    assert_bgr8(frames[0].image)
    return frames[0].image


def test_grayscale_image_becomes_bgr(tmp_path: Path) -> None:
    gray = np.array([[0, 100], [200, 255]], np.uint8)
    image = _only_frame(write_image(tmp_path / "gray.png", gray))
    assert image.shape == (2, 2, 3)
    for channel in range(3):
        assert np.array_equal(image[:, :, channel], gray)


def test_16_bit_image_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = np.array([[0, 257 * 100], [257 * 128, 65535]], np.uint16)
    image = _only_frame(write_image(tmp_path / "deep.png", values))
    # Clipping would make everything above 255 white; scaling keeps the ramp.
    assert image[:, :, 0].tolist() == [[0, 100], [128, 255]]


def test_16_bit_colour_image(tmp_path: Path) -> None:
    bgr16 = np.zeros((3, 3, 3), np.uint16)
    bgr16[..., 0], bgr16[..., 1], bgr16[..., 2] = 257 * 10, 257 * 20, 257 * 30
    image = _only_frame(write_image(tmp_path / "deep_colour.png", bgr16))
    assert image[0, 0].tolist() == [10, 20, 30]


def test_four_channel_image_drops_alpha_over_white(tmp_path: Path) -> None:
    bgra = np.zeros((1, 3, 4), np.uint8)
    bgra[0, 0] = (10, 20, 30, 255)  # opaque: colour kept as is
    bgra[0, 1] = (0, 0, 0, 0)  # transparent background: white paper, not black
    bgra[0, 2] = (0, 0, 0, 128)  # half-transparent black ink: mid grey
    image = _only_frame(write_image(tmp_path / "alpha.png", bgra))
    assert image[0, 0].tolist() == [10, 20, 30]
    assert image[0, 1].tolist() == [255, 255, 255]
    assert all(abs(v - 127) <= 1 for v in image[0, 2].tolist())


@pytest.mark.parametrize(
    ("image", "expected_pixel"),
    [
        (np.full((2, 2, 1), 77, np.uint8), [77, 77, 77]),
        (np.full((2, 2), 0.5, np.float32), [128, 128, 128]),
        (np.full((2, 2, 3), 2.0, np.float64), [255, 255, 255]),  # floats clip to [0, 1]
        (np.full((2, 2), -32768, np.int16), [0, 0, 0]),
    ],
)
def test_to_bgr8_other_layouts(image: np.ndarray, expected_pixel: list[int]) -> None:
    out = to_bgr8(image)
    assert_bgr8(out)
    assert out[0, 0].tolist() == expected_pixel


def test_to_bgr8_rejects_what_is_not_an_image() -> None:
    with pytest.raises(ValueError, match="shape"):
        to_bgr8(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        to_bgr8(np.zeros((0, 4), np.uint8))


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.uint8, np.uint16, np.int32, np.float32]),
        shape=st.tuples(st.integers(1, 6), st.integers(1, 6), st.sampled_from([0, 1, 3, 4])).map(
            lambda s: s[:2] if s[2] == 0 else s
        ),
    )
)
def test_to_bgr8_always_gives_bgr_uint8(image: np.ndarray) -> None:
    out = to_bgr8(image)
    assert_bgr8(out)
    assert out.shape[:2] == image.shape[:2]


# --------------------------------------------------------------------------- bad inputs


def test_missing_file(tmp_path: Path) -> None:
    expect_source_error(str(tmp_path / "nope.mp4"), "no such file or folder", "nope.mp4")


def test_zero_byte_video(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    expect_source_error(str(empty), "empty (0 bytes)")


def test_zero_byte_image(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.touch()
    expect_source_error(str(empty), "empty (0 bytes)")


def test_text_file_named_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 20)
    expect_source_error(str(fake), "cannot open", "notes.mp4", "video")


def test_mp4_cut_short_before_its_index(tmp_path: Path) -> None:
    whole = write_video(tmp_path / "whole.mp4", 20)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    expect_source_error(str(cut), "cannot open", "cut.mp4")


def test_image_that_cannot_be_decoded(tmp_path: Path) -> None:
    bad = tmp_path / "scan.png"
    bad.write_bytes(b"definitely not a png" * 10)
    expect_source_error(str(bad), "cannot read image", "scan.png")


def test_read_image_gives_the_same_page_from_a_path_or_bytes_and_one_error_otherwise(tmp_path: Path) -> None:
    gray16 = np.tile(np.linspace(0, 65535, 40).astype(np.uint16), (30, 1))
    path = tmp_path / "scan16.png"
    assert cv2.imwrite(str(path), gray16)
    from_path, from_bytes = images.read_image(path), images.read_image(path.read_bytes())
    assert_bgr8(from_path)
    assert np.array_equal(from_path, from_bytes)
    assert from_path[0, -1].tolist() == [255, 255, 255]  # 16-bit white stays white, not clipped
    with pytest.raises(images.UnreadableImage, match="not an image OpenCV can decode") as caught:
        images.read_image(b"definitely not a png" * 10)
    assert not caught.value.decoded and "\n" not in str(caught.value)


def test_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    expect_source_error(str(tmp_path), "no images in folder", ".png")


def test_folder_whose_images_are_all_unreadable(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"junk")
    (tmp_path / "b.jpg").write_bytes(b"junk")
    expect_source_error(str(tmp_path), "none of the 2 images")


def test_glob_matching_nothing(tmp_path: Path) -> None:
    expect_source_error(str(tmp_path / "*.png"), "no files match")


def test_glob_matching_no_images(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    expect_source_error(str(tmp_path / "a*"), "no images")


def test_unknown_camera_index() -> None:
    expect_source_error(99, "camera 99 cannot be opened")
    expect_source_error("99", "camera 99 cannot be opened")


def test_missing_device_path() -> None:
    expect_source_error("/dev/video97", "no device /dev/video97")


def test_no_camera_suggests_the_bundled_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    # A fake that never opens, so the test does not depend on this machine's cameras.
    monkeypatch.setattr(opencv, "new_capture", lambda *args: FakeCapture(opened=False))
    expect_source_error(None, "no camera", "livedigits run samples/demo.mp4")


def test_refused_stream_fails_at_once() -> None:
    expect_source_error(f"http://127.0.0.1:{free_port()}/stream.mjpg", "cannot open stream", open_timeout=2)


def test_stream_that_never_answers_fails_after_open_timeout() -> None:
    with SilentServer() as silent:
        expect_source_error(silent.url, "cannot open stream", "1 s", open_timeout=1.0, limit_s=5.0)


# --------------------------------------------------------------------------- threads and lifecycle


def test_stop_joins_the_thread_and_is_idempotent(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", 5)
    before = threading.active_count()
    src = open_source(str(video)).start()
    assert src.read(timeout=NO_HANG_S) is not None
    src.stop()
    src.stop()
    assert threading.active_count() == before
    assert source_threads() == []
    assert src.state == "ended"
    assert src.read(timeout=0.1) is None


def test_stop_does_not_deadlock_on_a_full_queue(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", 40)
    before = threading.active_count()
    src = open_source(str(video)).start()
    # Nobody reads: the reader fills the queue and waits for room.
    assert wait_for(lambda: src.frames_read > EVERY_QUEUE_SIZE, NO_HANG_S)
    started = time.monotonic()
    src.stop()
    assert time.monotonic() - started < sources.STOP_JOIN_TIMEOUT_S
    assert threading.active_count() == before


def test_stop_without_start_releases_the_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeCapture()
    monkeypatch.setattr(opencv, "new_capture", lambda *args: fake)
    src = open_source(0)
    src.stop()
    assert fake.released
    assert src.state == "ended"


def test_read_before_start_is_a_programming_error(tmp_path: Path) -> None:
    src = open_source(str(write_video(tmp_path / "clip.avi", 2)))
    try:
        with pytest.raises(RuntimeError, match="start"):
            src.read(timeout=0.1)
    finally:
        src.stop()


def test_error_in_reader_thread_surfaces_in_read(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeCapture(raise_after=3)
    monkeypatch.setattr(opencv, "new_capture", lambda *args: fake)
    with open_source(0) as src:
        with pytest.raises(SourceError) as caught:
            for _ in range(100):
                src.read(timeout=NO_HANG_S)
    message = str(caught.value)
    assert "decoder exploded" in message and "camera 0" in message
    assert "\n" not in message
    assert fake.released, "the capture is released even when the reader fails"


# --------------------------------------------------------------------------- cameras (fake capture)


class FakeCapture:
    """Stands in for cv2.VideoCapture on a camera: records settings, yields frames."""

    #: A camera delivers a frame every few milliseconds; the fake imitates it.
    FRAME_INTERVAL_S = 0.005

    def __init__(
        self,
        *,
        opened: bool = True,
        size: tuple[int, int] = (640, 480),
        fail_after: int | None = None,
        raise_after: int | None = None,
    ) -> None:
        self.opened = opened
        self.size = size
        self.fail_after = fail_after
        self.raise_after = raise_after
        self.settings: dict[int, float] = {}
        self.reads = 0
        self.released = False

    def isOpened(self) -> bool:  # noqa: N802 - cv2 naming
        return self.opened and not self.released

    def set(self, prop: int, value: float) -> bool:
        self.settings[prop] = value
        return True

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FPS: 30.0, cv2.CAP_PROP_FRAME_COUNT: -1.0}.get(prop, 0.0)

    def read(self):
        self.reads += 1
        if self.raise_after is not None and self.reads > self.raise_after:
            raise RuntimeError("decoder exploded\nin some C++ file, line 42")
        if self.fail_after is not None and self.reads > self.fail_after:
            return False, None
        time.sleep(self.FRAME_INTERVAL_S)
        return True, synthetic_image(self.reads, self.size)

    def release(self) -> None:
        self.released = True


def test_camera_gets_settings_and_newest_frame_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeCapture(size=(320, 240))
    opened_with = []

    def new_capture(target, api, params):
        opened_with.append((target, api, list(params)))
        return fake

    monkeypatch.setattr(opencv, "new_capture", new_capture)
    with open_source("1", width=320, height=240, fps=15) as src:
        assert opened_with[0][0] == 1
        assert opened_with[0][2] == [], "timeout params would make camera backends refuse to open"
        assert fake.settings[cv2.CAP_PROP_BUFFERSIZE] == 1
        assert fake.settings[cv2.CAP_PROP_FRAME_WIDTH] == 320
        assert fake.settings[cv2.CAP_PROP_FRAME_HEIGHT] == 240
        assert fake.settings[cv2.CAP_PROP_FPS] == 15
        assert src.is_live and src.policy == "latest"
        first = src.read(timeout=NO_HANG_S)
        # A slow consumer: the camera keeps going meanwhile. Waited for by count, not by a sleep, which a
        # loaded machine may not give the camera's thread time to use: once frame first+3 is being read,
        # first+1 and first+2 were published, and the newer replaced the older.
        assert wait_for(lambda: src.frames_read > first.index + 3, NO_HANG_S)
        later = src.read(timeout=NO_HANG_S)
        assert src.state == "live"
        assert later.index > first.index + 1, "stale frames are skipped, not queued"
        assert later.time > first.time
        assert src.frames_dropped > 0
        assert src.warnings == []
    assert fake.released


def test_camera_warns_when_it_ignores_the_requested_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opencv, "new_capture", lambda *args: FakeCapture(size=(640, 480)))
    with open_source(0, width=1280, height=720) as src:
        assert any("640x480" in w and "1280x720" in w for w in src.warnings)


def test_unplugged_camera_is_an_error_not_an_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opencv, "new_capture", lambda *args: FakeCapture(fail_after=3))
    with open_source(0) as src:
        with pytest.raises(SourceError, match="stopped sending frames"):
            for _ in range(100):
                src.read(timeout=NO_HANG_S)


# --------------------------------------------------------------------------- network streams


def test_mjpeg_http_stream_is_read_live() -> None:
    with MjpegServer(fps=25, size=(80, 60)) as server:
        with open_source(server.url, open_timeout=5, read_timeout=5) as src:
            assert src.is_live and src.policy == "latest"
            assert src.size == (80, 60)
            assert src.fps is None, "MJPEG over HTTP has no frame rate"
            frames = [src.read(timeout=NO_HANG_S) for _ in range(5)]
            assert src.state == "live"
    assert all(f is not None for f in frames)
    indices = [f.index for f in frames]
    assert indices == sorted(set(indices))
    assert [f.time for f in frames] == sorted(f.time for f in frames)
    for frame in frames:
        assert_bgr8(frame.image)
        assert frame.image.shape == (60, 80, 3)
    assert source_threads() == []


def test_a_live_stream_that_ends_was_lost_and_says_so() -> None:
    """A live stream has no end: when the sender closes it, the frames already sent are delivered, then
    SourceError says it was lost (a script must not read "end of source" and exit 0)."""
    with MjpegServer(fps=50, frames=10) as server:
        with open_source(server.url, open_timeout=5, read_timeout=5) as src:
            frames = []
            with pytest.raises(SourceError, match=r"ended after \d+ frames: the sender stopped or the connection was cut"):
                while True:
                    frame = src.read(timeout=NO_HANG_S)
                    assert frame is not None
                    frames.append(frame)
    assert 0 < len(frames) <= 10
    assert src.state == "ended"


def test_stream_that_stalls_raises_after_read_timeout() -> None:
    with MjpegServer(fps=50, stall_after=6) as server:
        with open_source(server.url, open_timeout=5, read_timeout=1.0) as src:
            started = time.monotonic()
            with pytest.raises(SourceError) as caught:
                while True:
                    src.read()  # no timeout of its own: read_timeout must end it
                    assert time.monotonic() - started < NO_HANG_S
            assert "no frame for 1 s" in str(caught.value)
            assert time.monotonic() - started < 1.0 + 3.0


def _drain_until(src: sources.Source, predicate, limit_s: float) -> list[Frame]:
    """Read (with short timeouts) until ``predicate(frame_or_None)`` holds."""
    frames = []
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        frame = src.read(timeout=0.1)
        if frame is not None:
            frames.append(frame)
        if predicate(frame):
            return frames
    raise AssertionError(f"condition not met within {limit_s} s; state={src.state}")


def test_reconnect_after_the_server_restarts() -> None:
    """`--reconnect`: the supervisor reopens the stream; its frames go on counting from where they were."""
    from livedigits.capture.supervise import RECONNECT_MAX_DELAY_S, KeptSource, open_reconnecting

    server = MjpegServer(fps=25).start()
    try:
        with open_reconnecting(server.url, open_timeout=2, read_timeout=1) as src:
            assert isinstance(src, KeptSource)
            before = _drain_until(src, lambda f: f is not None and f.index >= 3, NO_HANG_S)
            assert src.state == "live"

            server.stop()  # the phone app went away
            _drain_until(src, lambda f: src.state == "unavailable", NO_HANG_S)
            assert src.read(timeout=0.3) is None and src.state == "unavailable", "read() waits, it does not end"

            server.start()  # same port
            last_index = max(f.index for f in before)
            flowing_again = lambda f: f is not None and f.index > last_index  # noqa: E731
            after = _drain_until(src, flowing_again, 3 * RECONNECT_MAX_DELAY_S)
            assert src.state == "live"
            assert after[-1].time > before[-1].time
            assert src.reconnects >= 1
    finally:
        server.stop()
    assert source_threads() == []


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (apt-get install ffmpeg)")
def test_stream_served_by_ffmpeg(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/stream.mjpg"
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=15", "-t", "20",
        "-f", "mpjpeg", "-listen", "1", url,
    ]  # fmt: skip
    ffmpeg = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # ffmpeg takes a moment to listen; a refused connection fails fast and
        # does not use up its single client, so retry until it answers.
        deadline = time.monotonic() + NO_HANG_S
        while True:
            try:
                src = open_source(url, open_timeout=3, read_timeout=3)
                break
            except SourceError:
                if time.monotonic() > deadline or ffmpeg.poll() is not None:
                    raise
                time.sleep(0.2)
        with src:
            frames = [src.read(timeout=NO_HANG_S) for _ in range(3)]
        assert all(f is not None and f.image.shape == (120, 160, 3) for f in frames)
    finally:
        ffmpeg.terminate()
        ffmpeg.wait(5)


def test_frames_are_not_shared_between_reads(tmp_path: Path) -> None:
    # imutils hands back the same array again; our frames must be independent.
    video = write_video(tmp_path / "clip.avi", 3)
    with open_source(str(video)) as src:
        frames = read_all(src)
    assert len({id(f.image) for f in frames}) == 3
    assert [int(f.image.mean()) for f in frames] == pytest.approx([level(i) for i in range(3)], abs=2)



def test_options_that_do_not_apply_are_reported(tmp_path: Path) -> None:
    image = write_image(tmp_path / "page.png", synthetic_image(0))
    with open_source(str(image), realtime=True, width=320) as src:
        read_all(src)
        assert src.policy == "every"
        assert any("cameras only" in w for w in src.warnings)
        assert any("in real time" in w for w in src.warnings)


# --------------------------------------------------------------------------- EXIF orientation

#: Pillow's transpose that stores an upright picture the way a camera does for each EXIF
#: orientation (the inverse of what a viewer applies to show it upright).
_STORE_FOR_ORIENTATION = {
    1: None,
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_90",  # stored turned a quarter anticlockwise: shown after a quarter turn clockwise
    7: "TRANSVERSE",
    8: "ROTATE_270",
}


def _upright_asymmetric() -> np.ndarray:
    """120x80 BGR: a black block top left, a grey bar along the bottom right, a red dot top right."""
    image = np.full((80, 120, 3), 255, np.uint8)
    image[4:34, 4:44] = 0
    image[60:76, 70:116] = 128
    image[6:18, 100:112] = (0, 0, 255)
    return image


def write_oriented_jpeg(path: Path, upright_bgr: np.ndarray, orientation: int) -> None:
    """Write ``upright_bgr`` as a JPEG stored turned/flipped, with the EXIF orientation that undoes it."""
    from PIL import Image, ImageOps

    picture = Image.fromarray(np.ascontiguousarray(upright_bgr[:, :, ::-1]))
    name = _STORE_FOR_ORIENTATION[orientation]
    stored = picture if name is None else picture.transpose(getattr(Image.Transpose, name))
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())
    with Image.open(path) as check:  # the test data itself: Pillow shows it upright
        shown = np.asarray(ImageOps.exif_transpose(check))[:, :, ::-1]
    assert shown.shape == upright_bgr.shape and np.abs(shown.astype(int) - upright_bgr).mean() < 4


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_still_image_is_read_upright_by_its_exif_orientation(tmp_path, orientation):
    upright = _upright_asymmetric()
    path = tmp_path / f"o{orientation}.jpg"
    write_oriented_jpeg(path, upright, orientation)
    assert images.exif_orientation(str(path)) == orientation
    assert images.exif_orientation(path.read_bytes()) == orientation
    with open_source(str(path)) as src:
        frame = src.read(timeout=NO_HANG_S)
    assert frame is not None and frame.image.shape == upright.shape
    assert frame.file == str(path)
    error = np.abs(frame.image.astype(int) - upright).mean()
    assert error < 4, error
    # Far from the picture as stored (so the check can fail); for 1 the stored one is the upright one.
    stored = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if orientation != 1:
        assert stored.shape != upright.shape or np.abs(stored.astype(int) - upright).mean() > 20
    # The same from the file's bytes (the web API's path).
    from_bytes = images.read_still(path.read_bytes())
    assert from_bytes.shape == upright.shape and np.abs(from_bytes.astype(int) - upright).mean() < 4


def test_orientation_keeps_depth_and_alpha_and_ignores_bad_values():
    rng = np.random.default_rng(3)
    for image in (rng.integers(0, 65535, (5, 7), dtype=np.uint16), rng.integers(0, 255, (5, 7, 4), dtype=np.uint8)):
        assert np.array_equal(images.apply_orientation(image, 3), image[::-1, ::-1])
        turned = images.apply_orientation(image, 6)
        assert turned.dtype == image.dtype and turned.shape[:2] == (7, 5) and turned.flags.c_contiguous
        assert np.array_equal(images.apply_orientation(images.apply_orientation(image, 6), 8), image)
        for value in (0, 1, 9, -1):
            assert images.apply_orientation(image, value) is image
    assert images.exif_orientation(b"not an image") == 1


def test_a_png_without_exif_and_a_folder_of_oriented_jpegs(tmp_path):
    upright = _upright_asymmetric()
    assert cv2.imwrite(str(tmp_path / "a.png"), upright)
    write_oriented_jpeg(tmp_path / "b.jpg", upright, 6)
    write_oriented_jpeg(tmp_path / "c.jpg", upright, 8)
    assert images.exif_orientation(str(tmp_path / "a.png")) == 1
    with open_source(str(tmp_path)) as src:
        frames = [src.read(timeout=NO_HANG_S) for _ in range(3)]
        assert src.read(timeout=NO_HANG_S) is None
    assert [Path(f.file).name for f in frames] == ["a.png", "b.jpg", "c.jpg"]
    for frame in frames:
        assert frame.image.shape == upright.shape and np.abs(frame.image.astype(int) - upright).mean() < 4


@pytest.mark.parametrize("max_side, scale", [(60, 2), (30, 4), (40, 1), (None, 1)])
def test_a_jpeg_the_segmentation_would_shrink_is_decoded_that_small_and_upright(tmp_path, max_side, scale):
    # 120x80 stored sideways (EXIF 6): shrunk by 2 or 4 it is decoded so (the frame says by how much);
    # by 3 (no libjpeg size) or without a limit it is decoded whole. Either way it comes upright.
    upright = _upright_asymmetric()
    write_oriented_jpeg(tmp_path / "b.jpg", upright, 6)
    assert cv2.imwrite(str(tmp_path / "a.png"), upright)
    with open_source(str(tmp_path), still_max_side=max_side) as src:
        png, jpeg = src.read(timeout=NO_HANG_S), src.read(timeout=NO_HANG_S)
    assert png.scale == 1 and np.array_equal(png.image, upright)  # only a JPEG is decoded smaller
    assert jpeg.scale == scale and jpeg.image.shape == (80 // scale, 120 // scale, 3)
    expected = cv2.resize(upright, (120 // scale, 80 // scale), interpolation=cv2.INTER_AREA)
    error = np.abs(jpeg.image.astype(int) - expected).mean()
    assert error < 6, error

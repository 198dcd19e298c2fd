"""Collecting a user's handwriting: the live view's keys, --auto on video, imports, the folder layout, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits import synth
from livedigits.cli.main import main
from livedigits.collect import (
    FULL_SUFFIX,
    MANIFEST,
    CollectSession,
    SampleStore,
    crop_to_uint8,
    full_cut,
    single_digit_crop,
)
from livedigits.vision.normalize import normalize_ink
from livedigits.vision.segment import find_candidates
from livedigits.types import Frame

GTK_RIGHT, QT_LEFT, WINDOWS_DOWN, TAB, ESC, SPACE = 65363, 0x1000012, 0x280000, 9, 27, 32
QT_F1 = 0x1000030  # its low byte is "0": it must not label anything


def _manifest(folder: Path) -> list[dict]:
    path = folder / MANIFEST
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _samples(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*/*.png") if not p.name.endswith(FULL_SUFFIX))


def one_error_line(capsys) -> str:
    """The one `livedigits: error:` line the last command printed (and no traceback)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.startswith("livedigits: error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def scene(mnist_slice):
    """A rendered frame and the candidates the network would see in it."""
    image, _ = synth.render_frame(seed=4, size=(640, 480), digits=mnist_slice[1], marks=(0, 0), numbers=(3, 4))
    candidates = find_candidates(image)
    assert len(candidates) >= 4
    return Frame(index=12, time=0.4, image=image), candidates


# --------------------------------------------------------------------------- the live view, without a window


def test_keys_label_move_and_undo(tmp_path, scene):
    frame, candidates = scene
    out = tmp_path / "mine"
    session = CollectSession(SampleStore(out), source_name="cam")
    probabilities = np.eye(11, dtype=np.float32)[[i % 10 for i in range(len(candidates))]]
    session.update(frame, candidates, probabilities)

    assert session.handle_key(ord("7")) is None
    records = _manifest(out)
    assert len(records) == 1 and records[0]["label"] == "7" and records[0]["file"] == "7/000001.png"
    assert records[0]["box"] == candidates[0].box.as_list() and records[0]["frame"] == 12
    assert records[0]["source"] == "cam" and records[0]["mode"] == "key" and records[0]["guess"] == "0"
    saved = cv2.imread(str(out / "7" / "000001.png"), cv2.IMREAD_UNCHANGED)
    # The saved image is the network's input x 255: equal after rounding, within half a grey level.
    assert saved.shape == (28, 28) and saved.dtype == np.uint8
    assert np.array_equal(saved, crop_to_uint8(candidates[0].crop))
    assert np.abs(saved / 255.0 - candidates[0].crop).max() <= 0.5 / 255 + 1e-6
    full = cv2.imread(str(out / "7" / ("000001" + FULL_SUFFIX)))
    assert np.array_equal(full, full_cut(frame.image, candidates[0].box))
    assert session.selected == 1  # on to the next crop after a save

    session.handle_key(GTK_RIGHT)
    assert session.selected == 2
    session.handle_key(QT_LEFT)
    session.handle_key(QT_LEFT)
    assert session.selected == 0
    session.handle_key(TAB)
    session.handle_key(WINDOWS_DOWN)
    assert session.selected == 2
    session.handle_key(QT_F1)
    assert len(_manifest(out)) == 1
    session.handle_key(ord("n"))
    assert (out / "n" / "000002.png").exists() and _manifest(out)[-1]["box"] == candidates[2].box.as_list()
    assert session.store.counts["n"] == 1 and session.store.counts["7"] == 1

    session.handle_key(ord("u"))  # undo the "n": both files and its manifest line go
    assert not (out / "n" / "000002.png").exists() and not (out / "n" / ("000002" + FULL_SUFFIX)).exists()
    assert [r["id"] for r in _manifest(out)] == ["000001"]
    assert session.store.counts["n"] == 0
    assert session.handle_key(ord("q")) == "quit" and session.handle_key(ESC) == "quit"


def test_pause_keeps_the_frame_and_the_drawing_shows_the_selection(tmp_path, scene):
    frame, candidates = scene
    session = CollectSession(SampleStore(tmp_path / "mine"))
    session.update(frame, candidates)
    session.handle_key(SPACE)
    assert session.paused
    other = Frame(index=13, time=0.43, image=np.full_like(frame.image, 255))
    assert session.update(other, []) is False and session.frame is frame
    session.handle_key(GTK_RIGHT)
    picture = session.draw()
    assert picture.dtype == np.uint8 and picture.shape[1] == frame.image.shape[1]
    assert picture.shape[0] > frame.image.shape[0]  # the header and the strip of crops
    box = candidates[1].box
    header = 44  # two lines of text above the frame
    assert tuple(picture[header + box.y, box.x + box.w // 2]) == (0, 255, 255)  # selected: yellow
    session.handle_key(SPACE)
    assert session.update(other, []) is True and session.frame is other


def test_no_crop_saves_nothing(tmp_path):
    session = CollectSession(SampleStore(tmp_path / "mine"))
    session.update(Frame(index=0, time=0.0, image=np.full((120, 160, 3), 255, np.uint8)), [])
    session.handle_key(ord("3"))
    assert not (tmp_path / "mine").exists()  # no sample, no folder


def test_appending_to_a_folder_continues_the_ids(tmp_path):
    crop = np.zeros((28, 28), np.float32)
    crop[8:20, 12:15] = 1.0
    first = SampleStore(tmp_path / "mine")
    first.save(crop, None, "1", source="a")
    first.save(crop, None, "1", source="a")
    second = SampleStore(tmp_path / "mine")
    assert second.counts["1"] == 2
    record = second.save(crop, None, "4", source="b")
    assert record["id"] == "000003"
    assert [r["id"] for r in _manifest(tmp_path / "mine")] == ["000001", "000002", "000003"]
    second.undo()
    assert second.undo() is None  # only this session's samples can be undone


# --------------------------------------------------------------------------- --auto and imports through the CLI


def test_auto_on_a_video_of_barred_sevens_saves_each_digit_once(tmp_path, mnist_slice):
    sevens = synth.user_digits("barred7", 48, seed=2, digits=mnist_slice[0])
    video = tmp_path / "sevens.mp4"
    truth = synth.render_video(video, tmp_path / "sevens.json", seed=9, frames=15, size=(640, 480),
                               digits=sevens, marks=(0, 0), numbers=(6, 8))
    written = len(truth["frames"][0]["digits"])
    out = tmp_path / "mine"
    assert main(["collect", str(video), "--auto", "7", "--out", str(out)]) == 0
    files = _samples(out)
    records = _manifest(out)
    # One sample per written digit over 15 frames of a shaking camera, not 15 of each.
    assert 0.8 * written <= len(files) <= written
    assert {p.parent.name for p in files} == {"7"} and len(records) == len(files)
    assert all((out / r["file"]).exists() and (out / r["full"]).exists() for r in records)
    # The saved crop is the crop the network sees in that frame.
    capture = cv2.VideoCapture(str(video))
    ok, first = capture.read()
    capture.release()
    assert ok
    by_box = {tuple(c.box.as_list()): c for c in find_candidates(first)}
    record = next(r for r in records if r["frame"] == 0)
    saved = cv2.imread(str(out / record["file"]), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(saved, crop_to_uint8(by_box[tuple(record["box"])].crop))

    again = tmp_path / "again"
    assert main(["collect", str(video), "--auto", "7", "--out", str(again), "--every", "5"]) == 0
    assert len(_samples(again)) >= 2.5 * len(files)  # frames 0, 5 and 10
    limited = tmp_path / "limited"
    assert main(["collect", str(video), "--auto", "7", "--out", str(limited), "--max", "4"]) == 0
    assert len(_samples(limited)) == 4


def test_import_a_folder_of_scans_and_of_single_digits(tmp_path, mnist_slice):
    scans = tmp_path / "scans"
    scans.mkdir()
    ones = synth.user_digits("flagged1", 40, seed=3, digits=mnist_slice[0])
    truth = synth.render_still(scans / "page.png", tmp_path / "page.json", seed=5, size=(1280, 960),
                               digits=ones, marks=(0, 0))
    (x_train, y_train), _ = mnist_slice
    for i in range(3):  # MNIST's own 28x28 images, white on black
        cv2.imwrite(str(scans / f"mnist_{i}.png"), x_train[y_train == 1][i])
    drawing = np.full((280, 280, 3), 250, np.uint8)  # a canvas drawing: dark ink on white, close to the edges
    cv2.line(drawing, (140, 8), (140, 272), (20, 20, 20), 14)
    cv2.imwrite(str(scans / "canvas.png"), drawing)
    out = tmp_path / "mine"
    assert main(["collect", str(scans), "--auto", "1", "--out", str(out), "--single"]) == 0
    assert len(_samples(out)) == 5  # --single: every image is one digit, the page too
    out = tmp_path / "pages"
    assert main(["collect", str(scans), "--auto", "1", "--out", str(out)]) == 0
    on_page = len(truth["frames"][0]["digits"])
    records = _manifest(out)
    from_page = [r for r in records if r["source"].endswith("page.png")]
    assert 0.8 * on_page <= len(from_page) <= on_page
    singles = {Path(r["source"]).name: r for r in records if not r["source"].endswith("page.png")}
    assert set(singles) == {"mnist_0.png", "mnist_1.png", "mnist_2.png", "canvas.png"}
    saved = cv2.imread(str(out / singles["mnist_0.png"]["file"]), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(saved, crop_to_uint8(normalize_ink(x_train[y_train == 1][0])))
    assert singles["mnist_0.png"]["box"] == [0, 0, 28, 28]
    canvas = cv2.imread(str(out / singles["canvas.png"]["file"]), cv2.IMREAD_UNCHANGED)
    # One upright stroke, white on black, 20 px tall (MNIST's ink box) and a few px wide around the centre.
    assert (canvas.max(axis=1) > 0).sum() >= 20 and set(np.flatnonzero(canvas.max(axis=0))) <= {12, 13, 14, 15}


def test_single_digit_crop_reads_both_polarities():
    white_on_black = np.zeros((40, 40), np.uint8)
    white_on_black[5:35, 18:23] = 255
    paper = np.full((40, 40, 3), 235, np.uint8)
    paper[5:35, 18:23] = 30
    a, b = single_digit_crop(white_on_black), single_digit_crop(paper)
    assert a is not None and b is not None and np.abs(a - b).max() < 0.05
    assert single_digit_crop(np.full((40, 40), 240, np.uint8)) is None  # blank: nothing to save


def test_import_a_labelled_folder(tmp_path, mnist_slice):
    (x_train, y_train), _ = mnist_slice
    layout = tmp_path / "labelled"
    for label, digit in (("3", 3), ("8", 8)):
        (layout / label).mkdir(parents=True)
        for i in range(2):
            cv2.imwrite(str(layout / label / f"{i}.png"), x_train[y_train == digit][i])
    (layout / "n").mkdir()
    mark = np.zeros((28, 28), np.uint8)
    cv2.circle(mark, (14, 14), 8, 255, 2)
    cv2.imwrite(str(layout / "n" / "ring.png"), mark)
    out = tmp_path / "mine"
    assert main(["collect", str(layout), "--out", str(out)]) == 0
    assert sorted(r["label"] for r in _manifest(out)) == ["3", "3", "8", "8", "n"]
    assert sorted(p.parent.name for p in _samples(out)) == ["3", "3", "8", "8", "n"]


# --------------------------------------------------------------------------- bad input: one line, the right code, nothing written


def test_bad_collect_input(tmp_path, capsys, monkeypatch, mnist_slice):
    out = tmp_path / "mine"
    image = tmp_path / "one.png"
    cv2.imwrite(str(image), mnist_slice[0][0][0])

    assert main(["collect", str(image), "--auto", "seven", "--out", str(out)]) == 2
    assert "0-9 or n" in one_error_line(capsys)
    assert main(["collect", str(tmp_path / "nothing.mp4"), "--auto", "7", "--out", str(out)]) == 5
    one_error_line(capsys)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["collect", str(empty), "--auto", "7", "--out", str(out)]) == 5
    assert "no images" in one_error_line(capsys)

    mixed = tmp_path / "mixed"
    (mixed / "7").mkdir(parents=True)
    (mixed / "sevens").mkdir()
    assert main(["collect", str(mixed), "--out", str(out)]) == 2
    assert "sevens" in one_error_line(capsys)

    labelled = tmp_path / "labelled"
    (labelled / "7").mkdir(parents=True)
    cv2.imwrite(str(labelled / "7" / "a.png"), mnist_slice[0][0][0])
    assert main(["collect", str(labelled), "--auto", "7", "--out", str(out)]) == 2
    assert "drop --auto" in one_error_line(capsys)

    scans = tmp_path / "scans"
    scans.mkdir()
    cv2.imwrite(str(scans / "a.png"), mnist_slice[0][0][0])
    (scans / "b.png").write_bytes(b"not a png at all")
    assert main(["collect", str(scans), "--auto", "7", "--out", str(out)]) == 5
    assert "b.png" in one_error_line(capsys)

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert main(["collect", str(image), "--auto", "7", "--out", str(a_file)]) == 6
    assert "not a folder" in one_error_line(capsys)

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["collect", str(image), "--out", str(out)]) == 6
    assert "--auto" in one_error_line(capsys)
    assert not out.exists()  # no failed command left a folder behind


def test_the_window_loop_with_a_fake_gui(tmp_path, monkeypatch, mnist_slice):
    """The thin window layer: frames are read, crops classified and shown, keys act, the window closes."""
    from livedigits.sinks import window as window_sink

    video = tmp_path / "page.mp4"
    synth.render_video(video, tmp_path / "page.json", seed=6, frames=5, size=(640, 480), digits=mnist_slice[1],
                       marks=(0, 0), numbers=(3, 4))
    keys = [SPACE, ord("7"), GTK_RIGHT, ord("1"), ord("u"), ord("n"), ord("q")]
    calls = []
    monkeypatch.setattr(window_sink, "_gui_problem", lambda: None)
    for name in ("namedWindow", "destroyWindow"):
        monkeypatch.setattr(cv2, name, lambda *args, name=name: calls.append(name))
    monkeypatch.setattr(cv2, "imshow", lambda title, image: calls.append(("imshow", image.shape)))
    monkeypatch.setattr(cv2, "waitKeyEx", lambda delay: keys.pop(0) if keys else ord("q"))
    monkeypatch.setattr(cv2, "waitKey", lambda delay: -1)
    monkeypatch.setattr(cv2, "getWindowProperty", lambda title, prop: 1.0)
    out = tmp_path / "mine"
    assert main(["collect", str(video), "--out", str(out)]) == 0
    records = _manifest(out)
    assert [r["label"] for r in records] == ["7", "n"]  # the 1 was undone
    assert all(r["mode"] == "key" and r["frame"] == 0 and "guess" in r for r in records)
    assert records[0]["box"] != records[1]["box"]  # the arrow moved the selection on
    assert calls[0] == "namedWindow" and "destroyWindow" in calls
    assert sum(1 for c in calls if isinstance(c, tuple)) == 7  # one picture per key


def test_collect_window_under_xvfb(xvfb: str, tmp_path: Path) -> None:
    """The real window on a virtual screen: keys pressed on it save labelled crops."""
    import os
    import subprocess
    import sys

    from helpers_media import wait_for

    env = dict(os.environ, DISPLAY=xvfb)
    out = tmp_path / "mine"
    page = Path(__file__).resolve().parents[1] / "samples" / "page.png"
    # Its output goes to a file, not a pipe nobody reads while it runs (a full pipe would block it), and is
    # shown if the window never comes.
    log = tmp_path / "collect.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "livedigits", "collect", str(page), "--out", str(out)],
                                   env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True)

    def key(*keys: str) -> None:
        subprocess.run(["xdotool", "search", "--name", "^livedigits collect$", "key", "--delay", "250", *keys], env=env, timeout=10,
                       capture_output=True)

    try:
        shown = wait_for(lambda: process.poll() is not None or subprocess.run(
            ["xdotool", "search", "--name", "^livedigits collect$"], env=env, capture_output=True).returncode == 0, 60)
        assert shown and process.poll() is None, f"no collect window (exit {process.poll()}): {log.read_text()[-2000:]}"
        # A key pressed before the first frame is drawn finds no crop to label and is gone; it is pressed
        # again until one is saved (each press labels at most one crop, and a later one waits 15 s first).
        saved = lambda: len(list((out / "7").glob("*.png"))) == 2  # the crop and the full cut
        for _ in range(4):
            key("7")
            if wait_for(saved, 15):
                break
        assert saved(), f"no crop labelled 7: {log.read_text()[-2000:]}"
        key("Right", "n")
        assert wait_for(lambda: (out / "n").is_dir(), 10)
        key("u")  # undo the "n"
        assert wait_for(lambda: not list((out / "n").glob("*.png")), 10)
        key("q")
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [entry["label"] for entry in lines] == ["7"]
    assert cv2.imread(str(out / "7" / lines[0]["file"].split("/")[-1]), cv2.IMREAD_UNCHANGED).shape == (28, 28)


def test_signs_are_labelled_by_their_keys_and_read_by_the_sign_training(tmp_path, scene):
    """+ - * / ( ) = in the live view (and their names with --auto) save signs of arithmetic, in folders
    of their own; the sign training reads them as their signs, the digit fine-tuning as "not a digit"."""
    from livedigits.collect.store import SIGN_LABELS, label_to_class, parse_label
    from livedigits.classify.signs import SIGN_CLASSES
    from livedigits.errors import UsageError
    from livedigits.train.signs import collected_crops
    from livedigits.types import NOT_A_DIGIT

    frame, candidates = scene
    out = tmp_path / "mine"
    session = CollectSession(SampleStore(out), source_name="cam")
    session.update(frame, candidates, np.eye(11, dtype=np.float32)[[i % 10 for i in range(len(candidates))]])
    for key in "+=(":
        session.handle_key(ord(key))
    session.handle_key(ord("3"))
    assert [r["label"] for r in _manifest(out)] == ["plus", "equals", "lparen", "3"]
    assert (out / "plus" / "000001.png").exists() and (out / "lparen" / "000003.png").exists()
    x, y = collected_crops(out)
    assert x.shape == (4, 28, 28) and [SIGN_CLASSES[k] for k in y] == ["digit", "+", "(", "="]
    assert label_to_class("plus") == NOT_A_DIGIT and label_to_class("3") == 3
    assert parse_label("/") == "slash" and parse_label("times") == "times" and parse_label("x") == "n"
    assert set(SIGN_LABELS.values()) == set(SIGN_CLASSES) - {"digit", "other"}
    with pytest.raises(UsageError, match="a sign"):
        parse_label("%")
    with pytest.raises(UsageError, match="no crops"):
        collected_crops(tmp_path / "mine" / "plus")

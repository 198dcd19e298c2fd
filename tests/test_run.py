"""`livedigits run` end to end on the bundled samples, scored against their ground truth."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from livedigits.reading.score import load_jsonl, score

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo.mp4"
DEMO_TRUTH = ROOT / "samples" / "demo.json"
PAGE = ROOT / "samples" / "page.png"
PAGE_TRUTH = ROOT / "samples" / "page.json"


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "livedigits", "run", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    done = run_cli(str(DEMO), "--headless", "--jsonl", str(out / "demo.jsonl"), "--output", str(out / "demo.mp4"))
    assert done.returncode == 0, done.stderr[-2000:]
    return out, done


def test_demo_video_meets_the_accuracy_bar(demo_run):
    out, _ = demo_run
    result = score(load_jsonl(out / "demo.jsonl"), json.loads(DEMO_TRUTH.read_text()))
    assert result["digit_recall"] >= 0.99, result
    assert result["digit_accuracy"] >= 0.99, result
    assert result["number_accuracy"] >= 0.98, result
    assert result["mark_detections"] == 0, result


def test_every_frame_has_a_record_and_the_video_plays(demo_run):
    out, done = demo_run
    records = load_jsonl(out / "demo.jsonl")
    source = cv2.VideoCapture(str(DEMO))
    frames = int(source.get(cv2.CAP_PROP_FRAME_COUNT))
    size = (int(source.get(cv2.CAP_PROP_FRAME_WIDTH)), int(source.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    source.release()
    assert [r["frame"] for r in records] == list(range(frames))
    assert all(set(r) >= {"frame", "time", "latency_ms", "detections", "numbers"} for r in records)
    video = cv2.VideoCapture(str(out / "demo.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == frames
    assert (int(video.get(cv2.CAP_PROP_FRAME_WIDTH)), int(video.get(cv2.CAP_PROP_FRAME_HEIGHT))) == size
    ok, image = video.read()
    video.release()
    assert ok and image.shape[:2] == size[::-1]
    assert "frames:" in done.stderr and "latency ms" not in done.stderr  # latency per stage: with -v


def test_still_page(tmp_path):
    done = run_cli(str(PAGE), "--headless", "--jsonl", str(tmp_path / "page.jsonl"))
    assert done.returncode == 0, done.stderr[-2000:]
    result = score(load_jsonl(tmp_path / "page.jsonl"), json.loads(PAGE_TRUTH.read_text()))
    assert result["digit_recall"] >= 0.95 and result["digit_accuracy"] >= 0.95, result
    assert result["mark_detections"] == 0, result


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_complete_outputs(tmp_path, sig):
    jsonl, video = tmp_path / "out.jsonl", tmp_path / "out.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "livedigits", "run", str(DEMO), "--headless", "--realtime",
                             "--jsonl", str(jsonl), "--output", str(video)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not jsonl.exists() or jsonl.stat().st_size < 2000):
        time.sleep(0.1)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    text = jsonl.read_text()
    assert text.endswith("\n")
    records = [json.loads(line) for line in text.splitlines()]  # every line complete
    assert records
    capture = cv2.VideoCapture(str(video))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert count == len(records)  # one annotated frame per record, container finalised


def _convert(image, kind):
    import numpy as np

    if kind == "gray":
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if kind == "16bit":
        return image.astype(np.uint16) * 257
    if kind == "bgra":
        return cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    if kind == "8k":
        return cv2.resize(image, (7680, 5760), interpolation=cv2.INTER_LINEAR)
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["gray", "16bit", "bgra", "8k"])
def test_unusual_images_read_like_the_original(tmp_path, kind):
    image = _convert(cv2.imread(str(PAGE), cv2.IMREAD_COLOR), kind)
    path = tmp_path / f"page_{kind}.png"
    assert cv2.imwrite(str(path), image)
    done = run_cli(str(path), "--headless", "--jsonl", str(tmp_path / "out.jsonl"))
    assert done.returncode == 0, done.stderr[-2000:]
    truth = json.loads(PAGE_TRUTH.read_text())
    if kind == "8k":  # same page, 6x the pixels: scale the truth boxes
        for item in truth["frames"][0]["digits"] + truth["frames"][0]["numbers"] + truth["frames"][0]["marks"]:
            item["box"] = [v * 6 for v in item["box"]]
    result = score(load_jsonl(tmp_path / "out.jsonl"), truth)
    assert result["digit_recall"] >= 0.95 and result["digit_accuracy"] >= 0.95, result


def test_the_images_of_a_folder_never_blend(mnist_slice):
    """A recogniser that smooths over frames (video) starts afresh at every new still image: a 3 and then
    an 8 at the same place on two photos of a folder are read as 3 and 8."""
    import cv2
    import numpy as np

    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer
    from livedigits.types import Frame

    _, (xt, yt) = mnist_slice
    recognizer = Recognizer(load_classifier("lite-int8"))  # smooth=True, as `livedigits run` has it
    read = []
    for name, digit in (("a.png", 3), ("b.png", 8)):
        ink = cv2.resize(xt[np.flatnonzero(yt == digit)[0]], (90, 90)).astype(np.float32) / 255.0
        page = np.full((240, 320), 235, np.float32)
        page[70:160, 110:200] = page[70:160, 110:200] * (1 - ink) + 30 * ink
        image = cv2.cvtColor(page.astype(np.uint8), cv2.COLOR_GRAY2BGR)
        read.append([n.text for n in recognizer.process(Frame(0, 0.0, image, file=name)).numbers])
    assert read == [["3"], ["8"]]

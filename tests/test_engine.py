"""The engine: several sources at once, sinks and callbacks, stopping, and `run`'s outputs built on it."""

import csv
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits.classify.backends import load_classifier
from livedigits.engine.loop import Engine, StopFlag, source_labels
from livedigits.errors import OutputError, SourceError
from livedigits.reading.recognizer import Recognizer
from livedigits.capture.sources import open_source

from helpers_media import Camera, Unplugged

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo.mp4"
PAGE = ROOT / "samples" / "page.png"
PAGE_NUMBERS = ["8159", "9869", "61", "41", "471", "6668", "3", "9183", "2322"]
DEMO_NUMBERS = {n["text"] for frame in json.loads((ROOT / "samples" / "demo.json").read_text())["frames"]
                for n in frame["numbers"]}


def run_cli(*args, timeout=300, **kwargs):
    return subprocess.run([sys.executable, "-m", "livedigits", "run", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, **kwargs)


@pytest.fixture(scope="module")
def classifier():
    return load_classifier("lite-int8")


class RecordingSink:
    needs_image, needs_crops = True, False

    def __init__(self, fail_on_close=None):
        self.results, self.opened, self.closed = [], None, False
        self.fail_on_close = fail_on_close

    def open(self, streams):
        self.opened = [s.label for s in streams]

    def write(self, result, image):
        assert image is not None and image.shape == result.frame.image.shape
        self.results.append(result)

    def close(self):
        self.closed = True
        if self.fail_on_close is not None:
            raise self.fail_on_close


# --------------------------------------------------------------------------- several sources


def test_the_command_reads_two_sources_into_one_stream_of_records():
    done = run_cli("samples/demo.mp4", "samples/page.png", "--headless", "--jsonl", "-", "--max-frames", "20")
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(line) for line in done.stdout.splitlines()]
    by_source = {}
    for record in records:
        by_source.setdefault(record["source"], []).append(record)
    assert set(by_source) == {"samples/demo.mp4", "samples/page.png"}, list(by_source)
    assert [r["frame"] for r in by_source["samples/demo.mp4"]] == list(range(20))  # --max-frames per source
    (page,) = by_source["samples/page.png"]
    assert [n["text"] for n in page["numbers"]] == PAGE_NUMBERS and page["file"] == "samples/page.png"
    assert {n["text"] for r in by_source["samples/demo.mp4"] for n in r["numbers"]} == DEMO_NUMBERS
    assert "source samples/demo.mp4: 20 processed" in done.stderr and "source samples/page.png: 1 processed" in done.stderr


def test_sources_from_a_list_file_and_repeated_names_are_told_apart(tmp_path):
    listing = tmp_path / "sources.txt"
    listing.write_text(f"# two copies of the demo\n{DEMO}\n\n{DEMO}  # the same again\n")
    done = run_cli(str(listing), "--headless", "--jsonl", "-", "--max-frames", "5")
    assert done.returncode == 0, done.stderr[-2000:]
    sources = [json.loads(line)["source"] for line in done.stdout.splitlines()]
    assert sorted(set(sources)) == [str(DEMO), f"{DEMO}#2"] and len(sources) == 10
    assert source_labels(["a", "b", "a", "a"]) == ["a", "b", "a#2", "a#3"]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    done = run_cli(str(empty), "--headless")
    assert done.returncode == 2 and "names no source" in done.stderr and "Traceback" not in done.stderr


def test_each_source_keeps_its_own_tracker_and_the_crops_share_one_batch(classifier):
    """Two copies of the demo at once: one classifier call per round holds both frames' crops, and each
    copy reads the same numbers with track ids that follow its digits from frame to frame."""
    calls = []

    class Counting:
        name, device, num_classes = classifier.name, classifier.device, classifier.num_classes

        def predict(self, batch):
            calls.append(len(batch))
            return classifier.predict(batch)

    results = []
    engine = Engine([open_source(DEMO), open_source(DEMO)], Recognizer(Counting()), max_frames=30,
                    on_result=lambda result, image, stats: results.append((result, stats)))
    summary = engine.run()
    assert summary.frames == 60 and set(summary.streams) == {str(DEMO), f"{DEMO}#2"}
    rounds = [stats for _, stats in results if stats.round_frames == 2]
    assert len(rounds) >= 40  # files deliver in step: nearly every round has a frame of each
    assert len(calls) < 60 and max(calls) == max(stats.batch for _, stats in results)
    for label in summary.streams:
        mine = [r for r, _ in results if r.source == label]
        assert [r.frame.index for r in mine] == list(range(30))
        # The same piece of ink keeps its id: most digits of frame 10 are found by id in frame 11.
        ids = [{d.track_id: d.digit for d in r.detections} for r in mine[10:12]]
        kept = [k for k in ids[0] if ids[1].get(k) == ids[0][k]]
        assert len(kept) >= 0.8 * len(ids[0]) and all(k is not None for k in ids[0])


# --------------------------------------------------------------------------- sinks, stopping, failures


def test_every_sink_is_closed_and_the_source_stopped_when_a_sink_fails(classifier):
    camera = Camera()
    failing, other = RecordingSink(fail_on_close=OutputError("disk full")), RecordingSink()
    with pytest.raises(OutputError, match="disk full"):
        Engine([camera], Recognizer(classifier), sinks=[failing, other], max_frames=3).run()
    assert failing.closed and other.closed and camera.stops >= 1
    assert other.opened == ["fake camera"] and len(other.results) == 3


def test_a_sink_that_fails_while_writing_still_closes_everything(classifier):
    camera = Camera()

    class Broken(RecordingSink):
        def write(self, result, image):
            raise OutputError("no room")

    broken, other = Broken(), RecordingSink(fail_on_close=OutputError("second failure"))
    with pytest.raises(OutputError, match="no room"):  # the first failure, not the one while closing
        Engine([camera], Recognizer(classifier), sinks=[broken, other]).run()
    assert broken.closed and other.closed and camera.stops >= 1


def test_several_sources_are_resized_and_segmented_before_their_round(classifier):
    """With several sources each pump resizes and segments its frame before the round: the results are
    of the resized frames, read as one source alone reads them, and say how long the resize took."""
    seen = []
    Engine([open_source(DEMO), open_source(DEMO)], Recognizer(classifier), max_frames=5, resize=(480, 360),
           on_result=lambda result, image, stats: seen.append((result, stats))).run()
    alone = []
    Engine([open_source(DEMO)], Recognizer(classifier), max_frames=5, resize=(480, 360),
           on_result=lambda result, image, stats: alone.append(result)).run()
    assert len(seen) == 10 and all(r.frame.image.shape == (360, 480, 3) for r, _ in seen)
    assert all(s.resize_ms > 0 and r.timings["segment"] > 0 for r, s in seen)
    for label in {r.source for r, _ in seen}:
        mine = [r for r, _ in seen if r.source == label]
        assert [[n.text for n in r.numbers] for r in mine] == [[n.text for n in r.numbers] for r in alone]


def test_a_region_of_interest_off_the_resized_frame_is_a_setting_error_with_several_sources(classifier):
    """The pumps segment the frames: they check the region of interest on the frame they segment first."""
    from livedigits.errors import SettingError
    from livedigits.vision.segment import SegmentConfig

    recognizer = Recognizer(classifier, SegmentConfig(roi=(500, 0, 100, 100)))
    with pytest.raises(SettingError, match="outside the 320x240 frame"):
        Engine([open_source(DEMO), open_source(DEMO)], recognizer, max_frames=3, resize=(320, 240)).run()


def test_stop_from_another_thread_ends_a_live_run(classifier):
    camera = Camera()
    sink = RecordingSink()
    engine = Engine([camera, Camera()], Recognizer(classifier), sinks=[sink])
    timer = threading.Timer(1.0, engine.stop, args=("the test",))
    timer.start()
    started = time.monotonic()
    summary = engine.run()
    timer.cancel()
    assert summary.ended_by == "the test" and time.monotonic() - started < 10
    assert camera.stops >= 1 and sink.closed and summary.frames > 5
    assert not [t for t in threading.enumerate() if t.name.startswith("livedigits-pump")]


def test_a_source_that_fails_ends_the_run_with_its_error(classifier):
    unplugged, camera = Unplugged(), Camera()
    with pytest.raises(SourceError, match="stopped sending"):
        Engine([unplugged, camera], Recognizer(classifier), max_frames=1000).run()
    assert unplugged.stops >= 1 and camera.stops >= 1


def test_leaving_the_results_early_closes_everything(classifier):
    sink, camera = RecordingSink(), Camera()
    results = Engine([camera], Recognizer(classifier), sinks=[sink]).results()
    first = next(results)
    results.close()
    assert first.source == "fake camera" and sink.closed and camera.stops >= 1
    assert isinstance(StopFlag(), StopFlag) and not StopFlag()


# --------------------------------------------------------------------------- what run writes


def test_run_writes_csv_annotated_images_and_labelled_crops(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    for name in ("a.png", "b.jpg"):
        cv2.imwrite(str(folder / name), cv2.imread(str(PAGE)))
    table, saved, crops = tmp_path / "numbers.csv", tmp_path / "annotated", tmp_path / "crops"
    done = run_cli(str(folder), "--headless", "--csv", str(table), "--save-dir", str(saved), "--save-crops", str(crops))
    assert done.returncode == 0, done.stderr[-2000:]
    # stdout: each image's numbers, named, and nothing else
    assert done.stdout.splitlines() == [f"{folder / 'a.png'}: {' '.join(PAGE_NUMBERS)}",
                                        f"{folder / 'b.jpg'}: {' '.join(PAGE_NUMBERS)}"]
    rows = list(csv.DictReader(table.open()))
    assert [r["number"] for r in rows] == PAGE_NUMBERS * 2
    assert {r["file"] for r in rows} == {str(folder / "a.png"), str(folder / "b.jpg")}
    assert all(int(r["w"]) > 0 and float(r["confidence"]) > 0.5 for r in rows)
    assert sorted(p.name for p in saved.iterdir()) == ["a.png", "b.jpg"]
    annotated = cv2.imread(str(saved / "a.png"))
    assert annotated.shape == cv2.imread(str(PAGE)).shape and not np.array_equal(annotated, cv2.imread(str(PAGE)))
    sevens = list((crops / "7").glob("*.png"))
    assert sevens and cv2.imread(str(sevens[0]), cv2.IMREAD_UNCHANGED).shape == (28, 28)
    digits_read = sum(len(list((crops / str(d)).glob("*.png"))) for d in range(10) if (crops / str(d)).is_dir())
    assert digits_read == 2 * 28  # the page's 28 digits, twice
    assert (crops / "n").is_dir()  # the letters and marks, read as "not a digit"
    # The crops folder is the layout `collect` imports.
    from livedigits.collect import label_folders
    assert set(label_folders(crops)) >= {"7", "n"}


def test_run_prints_the_numbers_and_stops_quietly_when_the_reader_leaves():
    done = run_cli(str(PAGE), "--headless")
    assert done.returncode == 0 and done.stdout.split() == PAGE_NUMBERS
    assert "frames:" not in done.stderr  # a still's timing report is for -v (on stderr, as every other line)
    # `| head -1`: the pipe closes after the first record; the run ends at once, with no traceback.
    process = subprocess.Popen([sys.executable, "-m", "livedigits", "run", str(DEMO), "--headless", "--jsonl", "-",
                                "--realtime"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(60) == 0, err
    assert json.loads(first)["frame"] == 0 and "Traceback" not in err


def test_save_dir_needs_a_still_image_source(tmp_path):
    done = run_cli(str(DEMO), "--headless", "--save-dir", str(tmp_path / "out"))
    assert done.returncode == 2 and "--save-dir saves annotated still images" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_sources_and_sinks_give_what_the_engine_protocols_declare(tmp_path):
    # The engine reads these attributes directly (no getattr with a default): every source and sink of
    # the package must have them.
    from livedigits.capture.supervise import KeptSource
    from livedigits.engine.loop import Sink, SourceLike, Warns
    from livedigits.sinks import CropSink, CsvSink, ImageDirSink, JsonlSink, NumberPrinter, ProgressSink, VideoOutput

    for source in (open_source(DEMO), open_source(PAGE), KeptSource(str(DEMO))):
        try:
            assert isinstance(source, SourceLike), source
        finally:
            source.stop()
    outputs = [JsonlSink(tmp_path / "a.jsonl"), CsvSink(tmp_path / "a.csv"), VideoOutput(tmp_path / "a.mp4"),
               ImageDirSink(tmp_path / "images"), CropSink(tmp_path / "crops"), NumberPrinter(sys.stdout), ProgressSink(sys.stderr)]
    assert all(isinstance(sink, Sink) for sink in outputs)
    assert isinstance(outputs[2], Warns)

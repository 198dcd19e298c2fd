"""`livedigits bench`: the report's structure on a short synthetic video. No timing is asserted."""

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from livedigits.bench import DEFAULT_SAMPLE, STAGES, BenchOptions, parse_size, run_bench
from livedigits.util.stats import percentiles
from livedigits.errors import SourceError, UsageError

ROOT = Path(__file__).resolve().parent.parent
PIPELINE_STAGES = [s for s in STAGES if s != "resize"]


def write_digit_video(path: Path, digits: np.ndarray, frames: int = 30, size=(640, 480), fps: float = 30.0) -> Path:
    """White paper with 8 MNIST test digits in dark ink, moving by a pixel or two from frame to frame."""
    width, height = size
    page = np.full((height, width), 245, np.uint8)
    for n, digit in enumerate(digits[:8]):
        big = cv2.resize(digit, (56, 56), interpolation=cv2.INTER_CUBIC)
        row, col = divmod(n, 4)
        y, x = 80 + row * 160, 60 + col * 140
        region = page[y: y + 56, x: x + 56]
        np.minimum(region, 255 - big, out=region)
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    assert writer.isOpened(), f"test setup: cannot write {path}"
    try:
        for _ in range(frames):
            moved = np.roll(page, (int(rng.integers(-2, 3)), int(rng.integers(-2, 3))), axis=(0, 1))
            writer.write(cv2.cvtColor(moved, cv2.COLOR_GRAY2BGR))
    finally:
        writer.release()
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory, mnist_slice):
    _, (x_test, _) = mnist_slice
    return write_digit_video(tmp_path_factory.mktemp("bench") / "digits.mp4", x_test, frames=30)


@pytest.fixture(scope="module")
def lite_report(video):
    # 40 frames from a 30-frame file: the source is looped once.
    return run_bench(BenchOptions(str(video), backend="lite", frames=40, warmup=3, micro_repeats=5, progress=False))


@pytest.fixture(scope="module")
def all_report(video):
    options = BenchOptions(str(video), backend="all", frames=12, warmup=2, compare_naive=True, naive_frames=1,
                           micro_repeats=3, progress=False)
    return run_bench(options)


def check_percentiles(p, where):
    assert p["n"] > 0, where
    assert 0 <= p["p50"] <= p["p95"] <= p["p99"] <= p["max"], (where, p)


def test_every_stage_has_ordered_percentiles(lite_report):
    result = lite_report.backend("lite")
    assert list(result.latency_ms) == PIPELINE_STAGES
    for stage in PIPELINE_STAGES:
        check_percentiles(result.latency_ms[stage], stage)


def test_frames_are_counted_and_the_file_looped(lite_report):
    result = lite_report.backend("lite")
    assert result.frames == 40
    assert result.passes == 2
    assert result.dropped == 0  # a file read as fast as possible loses nothing
    assert result.fps > 0 and result.seconds > 0
    assert sum(result.batch_sizes["distribution"].values()) == 40
    assert result.batch_sizes["max"] >= 6  # the digits were found and classified in one batch
    assert result.memory["rss_peak_mb"] > 0 and result.memory["rss_growth_mb"] is not None
    assert result.classify_batch["batch"] == 64 and result.classify_batch["p50"] > 0
    assert result.cpu_ms_per_frame["process"] > 0


def test_machine_and_device(lite_report):
    machine = lite_report.machine
    assert machine["device"] == "cpu"
    assert machine["logical_cores"] >= 1 and machine["cpu"]
    assert machine["versions"]["opencv"] == cv2.__version__
    assert "tensorflow" in machine["versions"]
    assert isinstance(machine["gpu_visible"], bool)
    text = lite_report.text()
    assert "device that ran: CPU" in text
    if not machine["gpu_visible"]:
        assert "no GPU visible" in text


def test_json_and_plot_are_written(lite_report, tmp_path):
    path = lite_report.write_json(tmp_path / "bench.json")
    data = json.loads(path.read_text())
    stages = data["backends"]["lite"]["latency_ms"]
    assert set(stages) == set(PIPELINE_STAGES)
    assert data["machine"]["device"] == "cpu"
    assert data["source"]["size"] == [640, 480]
    assert data["backends"]["lite"]["frames"] == 40
    assert isinstance(data["targets"], list) and data["targets"]
    png = lite_report.plot(tmp_path / "bench.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cv2.imread(str(png)) is not None


def test_all_reports_each_backend(all_report):
    assert [b.backend for b in all_report.backends] == ["lite", "lite-int8", "keras"]
    for result in all_report.backends:
        assert result.frames == 12
        assert result.device == "cpu"
        for stage in PIPELINE_STAGES:
            if stage.startswith("segment.") and not result.latency_ms[stage]["n"] and result.latency_ms["segment"]["n"]:
                # The file is a page standing still: after its first two frames, its frames are carried whole
                # (vision.view), and the segmentation's parts are timed on the frames segmented only.
                continue
            check_percentiles(result.latency_ms[stage], f"{result.backend} {stage}")
    text = all_report.text()
    for name in ("lite", "lite-int8", "keras"):
        assert f"{name} p50 / p95 / p99 / max" in text


def test_keras_did_not_retrace(all_report):
    retracing = all_report.backend("keras").retracing
    assert retracing is not None
    assert retracing["retraced"] == 0  # batches of several sizes (and the 64-crop batch) used one graph


def test_naive_comparison_beside_ours(all_report, tmp_path):
    naive = all_report.naive
    assert naive["frames"] == 1
    assert naive["crops_per_frame"][0] >= 6
    check_percentiles(naive["per_crop_predict_ms"], "naive per crop")
    for name in ("lite", "lite-int8", "keras"):
        assert naive["ours"][name]["ratio"] > 0
    assert "naive" in all_report.text() and "faster" in all_report.text()
    data = json.loads(all_report.write_json(tmp_path / "all.json").read_text())
    assert set(data["backends"]) == {"lite", "lite-int8", "keras"}
    assert data["naive"]["ours"]["lite"]["ratio"] > 0


def test_size_resizes_before_processing(video):
    report = run_bench(BenchOptions(str(video), backend="lite", frames=5, warmup=1, size=(320, 240),
                                    micro_batch=8, micro_repeats=2, progress=False))
    assert report.source["size"] == [320, 240] and report.source["native_size"] == [640, 480]
    check_percentiles(report.backend("lite").latency_ms["resize"], "resize")


def test_keep_aspect_fits_the_frame_without_stretching_its_ink(video):
    from livedigits.bench.options import fit_frame
    from livedigits.types import Frame

    # A 4:3 frame with a round blob of ink: fitted into 16:9 it stays round (stretched, it would be a third
    # wider), centred, with the sides filled by its own edge (here the white paper).
    image = np.full((480, 640, 3), 255, np.uint8)
    cv2.circle(image, (320, 240), 60, (0, 0, 0), -1)
    fitted = fit_frame(Frame(3, 0.1, image, scale=1), (1280, 720)).image
    assert fitted.shape == (720, 1280, 3)
    ys, xs = np.nonzero(fitted[:, :, 0] < 128)
    width, height = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    assert abs(width - height) <= 2 and abs(height - 180) <= 3  # 60 px radius, scaled 1.5 times
    assert abs((xs.min() + xs.max()) / 2 - 640) <= 1 and (fitted[:, :160] == 255).all()
    # The stage table reads the fitted frames, and says so; the engine then resizes nothing itself.
    report = run_bench(BenchOptions(str(video), backend="lite", frames=5, warmup=1, size=(1280, 720), keep_aspect=True,
                                    micro_batch=8, micro_repeats=2, progress=False))
    assert report.source["size"] == [1280, 720] and report.source["aspect_kept"]
    assert "aspect kept" in report.text()
    with pytest.raises(UsageError, match="--size"):
        BenchOptions(keep_aspect=True)
    with pytest.raises(UsageError, match="--streams"):
        BenchOptions(size=(1280, 720), keep_aspect=True, streams=2)


def test_percentiles_skip_unmeasured():
    p = percentiles([1.0, float("nan"), 3.0, 2.0])
    assert p["n"] == 3 and p["p50"] == 2.0 and p["max"] == 3.0
    assert percentiles([])["n"] == 0


@pytest.mark.parametrize("text", ["1280", "axb", "10x10", "1280x720x3"])
def test_bad_size(text):
    with pytest.raises(UsageError):
        parse_size(text)


def test_bad_options():
    with pytest.raises(UsageError):
        BenchOptions(frames=0)
    with pytest.raises(UsageError):
        BenchOptions(backend="onnx")


def test_missing_source_raises(tmp_path):
    with pytest.raises(SourceError):
        run_bench(BenchOptions(str(tmp_path / "nope.mp4"), progress=False))


# --------------------------------------------------------------------------- the command line


def bench_cli(*args, cwd=ROOT, timeout=300):
    # PYTHONPATH: the package is found from any folder, installed or not.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "livedigits", "bench", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


@pytest.mark.skipif(not DEFAULT_SAMPLE.is_file(), reason="the bundled samples/realistic.mp4 is not there")
def test_cli_default_sample_writes_json(tmp_path):
    done = bench_cli("--frames", "20", "--json", str(tmp_path / "out.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((tmp_path / "out.json").read_text())
    assert len(data["backends"]) == 1
    (result,) = data["backends"].values()
    assert result["frames"] == 20
    assert "processing" in done.stdout and "device that ran" in done.stdout
    assert "30/30 frames" in done.stderr  # the progress bar (one line per quarter when not on a terminal)


def test_progress_in_a_log_is_a_line_per_quarter():
    import io

    from livedigits.util.progress import bar

    log = io.StringIO()  # not a terminal: no bar can be drawn
    with bar(10, desc="lite", stream=log, force=True, lines=True) as progress:
        for _ in range(10):
            progress.update(1)
    assert log.getvalue().splitlines() == ["lite: 1/10 frames", "lite: 3/10 frames", "lite: 5/10 frames",
                                           "lite: 8/10 frames", "lite: 10/10 frames"]
    silent = io.StringIO()
    with bar(10, desc="lite", stream=silent) as progress:  # without lines: nothing in a log
        progress.update(10)
    assert silent.getvalue() == ""


def test_cli_missing_source_one_line(tmp_path):
    done = bench_cli(str(tmp_path / "nope.mp4"), "--json", str(tmp_path / "out.json"))
    assert done.returncode == 5
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("livedigits: error:")]
    assert len(errors) == 1 and "nope.mp4" in errors[0]
    assert not (tmp_path / "out.json").exists()


def test_cli_bad_size_one_line(video):
    done = bench_cli(str(video), "--size", "big")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "--size" in done.stderr


def test_realtime_paces_and_reports_against_the_frame_interval(video):
    report = run_bench(BenchOptions(str(video), backend="lite", frames=15, warmup=2, realtime=True,
                                    micro_batch=8, micro_repeats=2, progress=False))
    assert report.source["policy"].startswith("latest")
    result = report.backend("lite")
    assert result.frames == 15
    # Paced at 30 fps, 15 frames take about half a second however fast the machine is.
    assert result.seconds > 0.3
    check_percentiles(result.latency_ms["e2e"], "e2e")
    assert any(t["name"] == "realtime e2e p95" for t in report.targets())
    assert "vs 33.3 ms" in report.text()


def test_startup_is_timed_to_the_first_result(video):
    from livedigits.bench import measure_startup

    startup = measure_startup(str(video), "lite", runs=1)
    assert startup["errors"] == []
    assert len(startup["first_result_s"]) == 1
    assert 0 < startup["first_result_s"][0] <= startup["exit_s"][0]


def test_streams_report_each_copy_and_the_search_stops_at_the_first_count_not_held(video):
    """`--streams 3`: three paced copies read at once, each with its own figures; `--find-streams` tries
    counts in turn and reports the most held (here two short counts, so the test stays quick)."""
    from livedigits.bench import streams
    from livedigits.classify.backends import load_classifier

    report = run_bench(BenchOptions(str(video), backend="lite", frames=30, warmup=1, micro_repeats=2, progress=False,
                                    streams=3))
    figures = report.backends[0].streams
    assert figures["streams"] == 3 and len(figures["per_stream"]) == 3
    labels = list(figures["per_stream"])
    assert labels[0].endswith(".mp4") and labels[1] == labels[0] + "#2" and labels[2] == labels[0] + "#3"
    for one in figures["per_stream"].values():
        # Each copy is paced at the file's 30 fps; on a quiet machine it is read at about that rate.
        assert one["frames"] > 0 and 0 < one["fps"] <= 33 and one["e2e_p50_ms"] > 0
    assert figures["frames"] == sum(s["frames"] for s in figures["per_stream"].values())
    # What the run cost: the process's CPU, and how many crops the classifier read or kept from before.
    assert figures["cpu_cores"] > 0 and figures["crops_classified"] + figures["crops_reused"] > 0
    text = report.text()
    assert "3 streams at once, headless" in text and f"{labels[2]}:" in text and "CPU " in text
    held = streams.find_streams(load_classifier("lite"), str(video), counts=(1, 2), seconds=1.0)
    assert [run["streams"] for run in held["runs"]][:1] == [1]
    assert held["max_held"] in (0, 1, 2) and all("dropped_share" in run for run in held["runs"])
    assert held["max_held"] == max([0] + [r["streams"] for r in held["runs"] if r["held"]])


def test_the_reference_pipeline_reads_the_same_frames_in_turns(video, mnist_slice):
    pytest.importorskip("tensorflow")
    from livedigits.bench.reference import PlainPipeline, compare_reference, reference_text

    _, (x_test, y_test) = mnist_slice
    # The plain pipeline is a real reader: on the bench video's first frame it finds the 8 digits (and
    # the holes of some, as every contour is taken), and the Keras model reads most of them right.
    cap = cv2.VideoCapture(str(video))
    ok, image = cap.read()
    cap.release()
    assert ok
    plain = PlainPipeline()
    boxes, batch = plain.crops(image)
    digits = [k for k, box in enumerate(boxes) if box[3] >= 30]
    assert len(digits) == 8 and batch.shape == (len(boxes), 28, 28, 1)
    order = sorted(digits, key=lambda k: (boxes[k][1] // 80, boxes[k][0]))
    read = plain(image)[order]
    assert (read == y_test[:8]).sum() >= 6
    # 25 frames of a 30-frame file, 10 at a time each: both timed on every frame.
    report = compare_reference(str(video), 25, None, lambda message: None)
    assert report["frames"] == 25 and report["size"] == [640, 480]
    for name in ("reference", "livedigits"):
        assert report[name]["wall_ms"]["n"] == report[name]["cpu_ms"]["n"] == 25
        check_percentiles(report[name]["wall_ms"], name)
    assert report["ratio"]["wall_mean"] > 0
    assert "livedigits / reference" in "\n".join(reference_text(report))
    # The same, the frames fitted into 16:9 with their aspect kept.
    report = compare_reference(str(video), 10, (1280, 720), lambda message: None, keep_aspect=True)
    assert report["size"] == [1280, 720] and report["aspect_kept"]
    assert "1280x720 (aspect kept)" in "\n".join(reference_text(report))

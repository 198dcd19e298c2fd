"""Several sources segmented in worker processes (``run --workers N``): the same records as threads, a
worker killed mid-run, and nothing left behind (no child process, no shared memory) however the run ends."""

import contextlib
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from livedigits.capture.sources import open_source
from livedigits.classify.backends import load_classifier
from livedigits.engine import workers as workers_module
from livedigits.engine.loop import Engine
from livedigits.errors import SourceError, WorkerError
from livedigits.reading.recognizer import Recognizer

from helpers_media import Camera, Unplugged

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo.mp4"
REALISTIC = "samples/realistic.mp4"
PAGE = ROOT / "samples" / "page.png"


@pytest.fixture(scope="module")
def classifier():
    return load_classifier("lite-int8")


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting to be reaped does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def shared_blocks(pid: int) -> list[str]:
    """The blocks of shared memory the engine in process ``pid`` made that are still there."""
    return sorted(name for name in os.listdir("/dev/shm") if name.startswith(f"livedigits-{pid}-"))


def worker_pids(stderr: str) -> list[int]:
    """The worker processes a `run -v` names."""
    found = re.search(r"worker processes \(pids ([\d, ]+)\)", stderr)
    assert found, stderr[-2000:]
    return [int(pid) for pid in found.group(1).split(", ")]


linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists() or not Path("/dev/shm").is_dir(),
                                reason="reads /proc and /dev/shm")


def records(stdout: str) -> dict:
    """``{(source, frame): record}`` without the one thing that differs between two runs, the latency."""
    out = {}
    for line in stdout.splitlines():
        record = json.loads(line)
        record.pop("latency_ms")
        out[(record["source"], record["frame"])] = record
    return out


@contextlib.contextmanager
def live_run_with_workers(tmp_path):
    """``livedigits run`` of two demo clips at their frame rate with 2 workers, records on its stdout, in a
    session of its own: ``(process, stderr file)``; killed on the way out if it is still running."""
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "w") as err:
        process = subprocess.Popen([sys.executable, "-m", "livedigits", "run", str(DEMO), str(DEMO), "--realtime",
                                    "--headless", "--jsonl", "-", "--workers", "2", "-v"],
                                   stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT, start_new_session=True)
    try:
        yield process, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "livedigits", "run", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


# --------------------------------------------------------------------------- the same results


@linux_only
def test_workers_write_the_same_records_as_threads_and_leave_nothing_behind():
    """Three copies of the realistic clip: every record (numbers, digits, boxes, confidences, track ids) is
    the same whether the frames are segmented in two worker processes or in threads; after --max-frames
    the workers are gone and so is their shared memory."""
    common = [REALISTIC] * 3 + ["--headless", "--jsonl", "-", "--max-frames", "25", "-v"]
    threads = run_cli(*common, "--workers", "0")
    assert threads.returncode == 0, threads.stderr[-2000:]
    assert "worker processes" not in threads.stderr
    procs = run_cli(*common, "--workers", "2")
    assert procs.returncode == 0, procs.stderr[-2000:]
    pids = worker_pids(procs.stderr)
    assert len(pids) == 2 and not [pid for pid in pids if alive(pid)]
    # No block of shared memory outlives the run that made it (its name says whose it is).
    assert not [name for name in os.listdir("/dev/shm") if name.startswith("livedigits-") and not alive(int(name.split("-")[1]))]
    ours, theirs = records(procs.stdout), records(threads.stdout)
    assert len(ours) == 75 and sorted({source for source, _ in ours}) == [REALISTIC, f"{REALISTIC}#2", f"{REALISTIC}#3"]
    assert sum(len(r["numbers"]) for r in ours.values()) > 75  # the page is read, not empty
    assert ours == theirs


def test_resized_frames_and_the_debug_mask_come_out_the_same_from_workers(classifier):
    """The pumps resize before handing a frame over, and with ``keep_debug`` (--debug, --save-crops) the
    ink mask comes back too: the results match the threads' ones."""
    def run(workers):
        seen = []
        Engine([open_source(DEMO), open_source(DEMO)], Recognizer(classifier, keep_debug=True), max_frames=6,
               resize=(480, 360), workers=workers, draw=False,
               on_result=lambda result, image, stats: seen.append(result)).run()
        return {(r.source, r.frame.index): r for r in seen}

    ours, theirs = run(2), run(0)
    assert sorted(ours) == sorted(theirs) and len(ours) == 12
    for key, result in ours.items():
        assert result.frame.image.shape == (360, 480, 3) and result.mask is not None
        assert (result.mask == theirs[key].mask).all()
        assert [(d.box, d.digit) for d in result.detections] == [(d.box, d.digit) for d in theirs[key].detections]
        assert len(result.candidates) == len(theirs[key].candidates)


def test_stills_and_a_single_source_keep_the_threads(classifier):
    """Workers are for several live sources: a run of one source, or of still images, makes none."""
    one = Engine([open_source(DEMO)], Recognizer(classifier), max_frames=2, workers=2)
    one.run()
    stills = Engine([open_source(PAGE), open_source(PAGE)], Recognizer(classifier), workers=2)
    summary = stills.run()
    assert one.segment_workers is None and stills.segment_workers is None and summary.frames == 2
    with pytest.raises(ValueError, match="workers must be"):
        Engine([open_source(PAGE)], Recognizer(classifier), workers=-1)


# --------------------------------------------------------------------------- a worker that dies


def _two_demos_signalling_a_worker(classifier, signum: int, after: int, frames: int):
    """Two copies of the demo read in 2 workers, ``frames`` each, and ``signum`` sent to the first worker
    once ``after`` results are in: the engine, its summary and every result."""
    seen = []
    engine = None

    def on_result(result, _image, _stats):
        seen.append(result)
        if len(seen) == after:
            os.kill(engine.segment_workers.pids()[0], signum)

    engine = Engine([open_source(DEMO), open_source(DEMO)], Recognizer(classifier), max_frames=frames,
                    on_result=on_result, workers=2, draw=False)
    return engine, engine.run(), seen


@linux_only
def test_a_killed_worker_is_restarted_and_every_frame_is_read(classifier):
    """SIGKILL to a worker mid-run (the out-of-memory killer, an operator): it is started again, the frame
    it held is segmented by the new one, the run reads every frame of both files, and the summary says so."""
    engine, summary, seen = _two_demos_signalling_a_worker(classifier, signal.SIGKILL, after=12, frames=40)
    for label in (str(DEMO), f"{DEMO}#2"):
        assert [r.frame.index for r in seen if r.source == label] == list(range(40))
    assert engine.segment_workers.restarts == 1 and not [pid for pid in engine.segment_workers.started if alive(pid)]
    assert any("died (killed by SIGKILL) and was restarted" in w for w in summary.warnings), summary.warnings
    assert sum(len(r.numbers) for r in seen[-10:]) > 10  # still reading after the restart
    assert not multiprocessing.active_children()


@linux_only
def test_a_hung_worker_is_killed_and_restarted(classifier, monkeypatch):
    """A worker that stops answering (SIGSTOP here; a deadlock in a library in the field) is killed after
    STALL_S and restarted: the run goes on and the summary says why."""
    monkeypatch.setattr(workers_module, "STALL_S", 3.0)
    engine, summary, seen = _two_demos_signalling_a_worker(classifier, signal.SIGSTOP, after=10, frames=30)
    for label in (str(DEMO), f"{DEMO}#2"):
        assert [r.frame.index for r in seen if r.source == label] == list(range(30))
    assert any("no answer within 3 s, killed) and was restarted" in w for w in summary.warnings), summary.warnings
    assert not [pid for pid in engine.segment_workers.started if alive(pid)]


def test_a_worker_that_keeps_dying_ends_the_run_with_one_clear_error(classifier, monkeypatch):
    monkeypatch.setattr(workers_module, "MAX_RESTARTS", 1)
    engine = None

    def on_result(_result, _image, _stats):
        for pid in engine.segment_workers.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # reaped already, its successor not started yet

    engine = Engine([Camera(), Camera()], Recognizer(classifier), on_result=on_result, workers=1, draw=False)
    with pytest.raises(WorkerError, match=r"segmentation worker 0 \(fake camera, fake camera#2\) died 2 times "
                                          r"within 60 s, last killed by SIGKILL; use --workers 0"):
        engine.run()
    assert not multiprocessing.active_children()


def test_too_little_shared_memory_is_one_clear_error_not_a_crash(classifier, monkeypatch):
    """A container's small /dev/shm: writing a frame past its end would kill the run with SIGBUS; the run
    ends with an error that says what to do instead."""
    monkeypatch.setattr(workers_module, "shared_memory_free", lambda: 1000)
    with pytest.raises(WorkerError, match=r"a 0.9 MB frame of .* does not fit in the shared memory left "
                                          r"\(0.0 MB in /dev/shm\); .*--workers 0"):
        Engine([open_source(DEMO), open_source(DEMO)], Recognizer(classifier), workers=2, max_frames=5).run()
    assert not multiprocessing.active_children()


def test_a_source_that_fails_still_ends_the_run_with_its_error(classifier):
    unplugged, camera = Unplugged(), Camera()
    with pytest.raises(SourceError, match="stopped sending"):
        Engine([unplugged, camera], Recognizer(classifier), workers=2).run()
    assert unplugged.stops >= 1 and camera.stops >= 1 and not multiprocessing.active_children()
    # The others go on without --fail-fast: the summary names the failed one.
    unplugged, camera = Unplugged(), Camera()
    summary = Engine([unplugged, camera], Recognizer(classifier), workers=2, max_frames=20, fail_fast=False).run()
    assert summary.failures == {"fake camera": "camera 1 stopped sending frames"}
    assert summary.streams["fake camera#2"].frames == 20 and not multiprocessing.active_children()


# --------------------------------------------------------------------------- stopping


@linux_only
def test_a_stop_from_another_thread_leaves_no_worker_and_no_shared_memory(classifier):
    engine = Engine([Camera(), Camera(), Camera()], Recognizer(classifier), workers=2, draw=False,
                    on_result=lambda result, image, stats: engine.stop("the test") if engine.summary.frames >= 20 else None)
    summary = engine.run()
    pids = engine.segment_workers.started
    assert summary.ended_by == "the test" and summary.frames >= 20 and len(pids) == 2
    assert not multiprocessing.active_children() and not [pid for pid in pids if alive(pid)]
    assert shared_blocks(os.getpid()) == []


@linux_only
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_end_a_run_with_workers_cleanly(tmp_path, how):
    """Ctrl-C reaches every process of the terminal's group, the workers too: they leave the stop to the
    run, which finishes its frame, closes its outputs and then its workers. SIGTERM goes to the run alone."""
    with live_run_with_workers(tmp_path) as (process, stderr):
        first = process.stdout.readline()
        assert first.startswith("{"), stderr.read_text()[-2000:]
        if how == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        # The rest from the same reader as the first line: communicate() would read the pipe underneath it
        # and lose what readline() had already buffered past that line (a record cut in two).
        read = []
        reader = threading.Thread(target=lambda: read.append(process.stdout.read()), daemon=True)
        reader.start()
        process.wait(timeout=60)  # past it, the fixture kills the run, which ends the read too
        reader.join(10)
        rest = read[0]
    said = stderr.read_text()
    assert process.returncode == 0, said[-2000:]
    assert ("ended by interrupt (Ctrl-C)" if how == "ctrl-c" else "ended by SIGTERM") in said
    for line in rest.splitlines():
        json.loads(line)  # every record whole
    pids = worker_pids(said)
    assert len(pids) == 2 and not [pid for pid in pids if alive(pid)]
    assert shared_blocks(process.pid) == []


# --------------------------------------------------------------------------- the setting


def test_a_source_that_cannot_be_opened_is_one_line_and_exit_5_as_before(tmp_path):
    done = run_cli(str(DEMO), str(tmp_path / "missing.mp4"), "--headless", "--workers", "2")
    assert done.returncode == 5 and "missing.mp4" in done.stderr and "Traceback" not in done.stderr


def test_workers_out_of_range_is_one_line_and_exit_2(tmp_path):
    done = run_cli(str(DEMO), str(DEMO), "--headless", "--workers", "-1")
    assert done.returncode == 2 and "--workers: must be from 0 to 64" in done.stderr and "Traceback" not in done.stderr
    config = tmp_path / "s.toml"
    config.write_text("[run]\nworkers = 100\n")
    done = run_cli(str(DEMO), str(DEMO), "--headless", "--config", str(config))
    assert done.returncode == 2 and "[run] workers: must be from 0 to 64" in done.stderr, done.stderr


@linux_only
def test_a_run_killed_hard_leaves_no_worker_and_no_shared_memory(tmp_path):
    """SIGKILL gives the run no chance to close anything: its workers see their pipes close and end, and
    the interpreter's resource tracker unlinks the shared memory."""
    with live_run_with_workers(tmp_path) as (process, stderr):
        assert process.stdout.readline().startswith("{"), stderr.read_text()[-2000:]
        assert shared_blocks(process.pid)  # made, in use
        process.kill()
        process.wait(timeout=60)
    pids = worker_pids(stderr.read_text())
    deadline = time.monotonic() + 30  # a bound for a loaded machine, not a timing figure
    while ([pid for pid in pids if alive(pid)] or shared_blocks(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if alive(pid)] and shared_blocks(process.pid) == []


def test_bench_streams_count_the_workers_cpu(classifier):
    """`bench --streams N`: the CPU figures are the engine's process and its workers together, and the
    report says what share the workers took."""
    from livedigits.bench.streams import run_streams, streams_text

    figures = run_streams(classifier, str(DEMO), 2, seconds=1.0, warmup_s=0.5, workers=2)
    assert figures["complete"] and figures["workers"] == 2 and figures["frames"] > 0
    assert 0 < figures["cpu_cores_workers"] < figures["cpu_cores"]
    assert "in 2 segmentation workers" in "\n".join(streams_text(figures, None, 30.0, "640x480"))
    threads = run_streams(classifier, str(DEMO), 2, seconds=1.0, warmup_s=0.5, workers=0)
    assert threads["workers"] == 0 and threads["cpu_cores_workers"] == 0
    assert not multiprocessing.active_children()


# --------------------------------------------------------------------------- the reading in the workers


def test_the_workers_read_and_the_engine_only_classifies(classifier):
    """With workers each source's reading (its tracker, its reuse caches) lives in its worker: the engine's
    recognizer keeps no state for them, and the results still read the page (tracked, digits, numbers)."""
    seen = []
    recognizer = Recognizer(classifier)
    engine = Engine([open_source(DEMO), open_source(DEMO)], recognizer, max_frames=8, workers=2, draw=False,
                    on_result=lambda result, image, stats: seen.append((result, stats)))
    engine.run()
    assert engine.segment_workers.reads and recognizer._streams == {}
    assert len(seen) == 16 and all(result.frame.image.shape == (480, 640, 3) for result, _ in seen)
    assert sum(len(result.numbers) for result, _ in seen) > 16
    assert all(d.track_id is not None for result, _ in seen for d in result.detections)
    # The crops of each round went to the classifier in one batch; on the frames after the first some kept
    # the reading of the frame before.
    assert sum(stats.reused for _, stats in seen) > 0


def test_frames_carried_whole_are_counted_with_workers_as_with_threads(classifier):
    """A frame of a still page carries an earlier frame's reading (``vision.view``): the round's figures
    (``FrameStats.carried``, from ``Batch.carried``) count the frames carried in the workers as those carried
    in threads (each source's phase of the periodic whole frames travels to its worker)."""
    def run(workers):
        seen = []
        Engine([open_source(DEMO), open_source(DEMO)], Recognizer(classifier), max_frames=40, workers=workers,
               draw=False, on_result=lambda result, image, stats: seen.append(stats)).run()
        return len(seen), round(sum(stats.carried / stats.round_frames for stats in seen))  # each round once

    (frames, ours), (frames_too, theirs) = run(2), run(0)
    assert frames == frames_too == 80 and ours == theirs >= 40


def test_a_recognizer_the_workers_cannot_copy_keeps_the_reading_and_the_records(classifier):
    """A subclass of Recognizer (its own reading, perhaps) is read in the engine's process: the workers
    segment only, and the records are those of threads."""
    from livedigits.engine.workers import ReaderSettings

    class Mine(Recognizer):
        pass

    assert ReaderSettings.of(Mine(classifier)) is None and ReaderSettings.of(Recognizer(classifier)) is not None

    def run(workers):
        seen = []
        engine = Engine([open_source(DEMO), open_source(DEMO)], Mine(classifier), max_frames=6, workers=workers,
                        draw=False, on_result=lambda result, image, stats: seen.append(result))
        engine.run()
        return engine, {(r.source, r.frame.index): (r.numbers, r.detections) for r in seen}

    engine, ours = run(2)
    assert engine.segment_workers is not None and not engine.segment_workers.reads
    assert ours == run(0)[1] and len(ours) == 12


@linux_only
def test_a_frame_planned_by_a_worker_that_died_is_read_by_the_next(classifier):
    """A worker killed after it planned a frame and before the round sent its probabilities: the frame is
    handed to the restarted worker whole, classified alone and read there, and the same digits come out."""
    from livedigits.engine.workers import SegmentWorkers, WorkerSettings

    recognizer = Recognizer(classifier)
    frame = Camera().read()
    workers = SegmentWorkers(["a", "b"], 2, WorkerSettings.of(recognizer, 2), classify=classifier.predict).start()
    try:
        planned = workers.segment("a", frame)
        alone = recognizer.process(frame, source="alone")
        probabilities = classifier.predict(planned.wanted)
        victim = workers.pids()[0]
        os.kill(victim, signal.SIGKILL)
        while alive(victim):
            time.sleep(0.05)
        result = planned.send(probabilities, 1.0, None)()
        assert workers.restarts == 1 and any("was restarted" in w for w in workers.warnings)
        assert result.frame is frame and [(d.box, d.digit) for d in result.detections] == \
            [(d.box, d.digit) for d in alone.detections] and result.detections
        # The new worker goes on with the source's next frame.
        again = workers.segment("a", frame)
        assert again.send(classifier.predict(again.wanted), 1.0, None)().detections
    finally:
        workers.close()
    assert not [pid for pid in workers.started if alive(pid)]

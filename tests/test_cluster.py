"""``livedigits run --ray``: an archive of stills and a video read on a local 3-node Ray cluster, a node
removed mid-run, ``--resume``, a live stream, and the errors a cluster run refuses with.

One cluster for the whole file, stopped at its end (Ray takes 5-15 s to start here): a head and two worker nodes of one CPU
each, every one bound to 127.0.0.1, with Ray's token authentication on and a token made for this session
(nothing is written to ~/.ray). Every Ray process the cluster started is checked to be gone at the end.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from helpers_media import MjpegServer

#: The tests that run Ray skip, with this reason, where it is not installed.
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed: pip install 'livedigits[ray]' (the test extra has it)")

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo.mp4"
DEMO_FRAMES = 150
STILLS = 60


def _ray_processes(token: str) -> list[int]:
    """Processes other than this one whose environment holds this session's token: the cluster's."""
    found = []
    needle = f"RAY_AUTH_TOKEN={token}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def cluster():
    """A head and two worker nodes of 1 CPU each on 127.0.0.1; yields ``(Cluster, address, env)``."""
    if importlib.util.find_spec("ray") is None:  # not importorskip: Ray must be imported after the settings below
        pytest.skip("Ray is not installed: pip install 'livedigits[ray]' (the test extra has it)")
    token = secrets.token_hex(16)
    # Loopback stays loopback in Ray (else it swaps 127.0.0.1 for the machine's address), token auth on.
    env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    saved = dict(os.environ)  # Ray sets variables of its own too: all are put back at the end
    os.environ.update(env)  # before Ray is imported in this process: it reads them then
    import ray
    from ray.cluster_utils import Cluster

    made = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1",
                                                          "include_dashboard": False})
    try:
        for _ in range(2):
            made.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        made.wait_for_nodes()
        child_env = dict(os.environ, PYTHONPATH=str(ROOT), **env)
        yield made, made.address, child_env
    finally:
        if ray.is_initialized():
            ray.shutdown()
        made.shutdown()
        os.environ.clear()
        os.environ.update(saved)
        deadline = time.monotonic() + 20
        while _ray_processes(token) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = _ray_processes(token)
        for pid in left:
            os.kill(pid, 9)
        assert not left, f"Ray processes still running after the cluster was shut down: {left}"


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    """60 stills (the sample page at half size, each its own file)."""
    folder = tmp_path_factory.mktemp("archive")
    page = cv2.imread(str(ROOT / "samples" / "page.png"))
    small = cv2.resize(page, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    for index in range(STILLS):
        cv2.imwrite(str(folder / f"page{index:03d}.png"), small)
    return folder


def _run(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "livedigits", "run", *map(str, args)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _comparable(record: dict) -> tuple:
    """A record without what differs from run to run (latency) or place to place (node)."""
    return json.dumps({k: v for k, v in record.items() if k not in ("latency_ms", "node")}, sort_keys=True)


@pytest.fixture(scope="module")
def full_run(cluster, archive, tmp_path_factory):
    """The archive and the demo video read on the cluster from outside (the command), once."""
    _, address, env = cluster
    out = tmp_path_factory.mktemp("full") / "records.jsonl"
    done = _run([archive, DEMO, "--ray", address, "--jsonl", out], env)
    return done, _records(out) if out.exists() else []


def test_archive_and_video_spread_over_the_cluster(full_run, archive, tmp_path):
    done, records = full_run
    assert done.returncode == 0, done.stderr
    stills = [r for r in records if "file" in r]
    frames = [r for r in records if "file" not in r]
    # One record per file, every file once.
    assert sorted(r["file"] for r in stills) == sorted(str(p) for p in archive.glob("*.png"))
    assert all(r["numbers"] for r in stills)
    # A record for every video frame, in frame order.
    assert [r["frame"] for r in frames] == list(range(DEMO_FRAMES))
    assert {r["source"] for r in frames} == {str(DEMO)}
    # Read on more than one node, each record saying which.
    assert all(len(r["node"]) == 56 for r in records)
    assert len({r["node"] for r in records}) >= 2
    assert "frames/s" in done.stderr and "node " in done.stderr
    # The same records as a run on this machine, but for the node and the latency, in the same order
    # within each source (the two sources' records interleave differently).
    local = tmp_path / "local.jsonl"
    here = _run([archive, DEMO, "--headless", "--jsonl", local, "-q"], dict(os.environ, PYTHONPATH=str(ROOT)))
    assert here.returncode == 0, here.stderr
    assert all("node" not in r for r in _records(local))
    for source in (str(archive), str(DEMO)):
        assert ([_comparable(r) for r in _records(local) if r["source"] == source]
                == [_comparable(r) for r in records if r["source"] == source])


def test_resume_reads_only_what_is_missing(cluster, full_run, archive, tmp_path):
    _, address, env = cluster
    _, records = full_run
    stills = [r for r in records if "file" in r]
    frames = [r for r in records if "file" not in r]
    # What a run killed part-way leaves: half the stills, the first 100 video frames, and half a line.
    kept = stills[: STILLS // 2] + frames[:100]
    out = tmp_path / "records.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in kept) + json.dumps(stills[-1])[:40])
    done = _run([archive, DEMO, "--ray", address, "--jsonl", out, "--resume"], env)
    assert done.returncode == 0, done.stderr
    assert f"resumed: {STILLS // 2} files already in the output" in done.stderr
    after = _records(out)  # the half line is gone: every line is a record
    assert after[: len(kept)] == kept  # what was there stays, first
    assert sorted(map(_comparable, after)) == sorted(map(_comparable, records))
    video = [r["frame"] for r in after if "file" not in r]
    assert video == list(range(DEMO_FRAMES))


def test_a_node_removed_mid_run_loses_nothing(cluster, archive, tmp_path, monkeypatch, capsys):
    """A worker node is taken away as soon as its first record is written: its files are read again
    elsewhere, the run ends with status 0 and every file and frame appears exactly once."""
    from livedigits.cli.main import main
    from livedigits.sinks import records as records_module

    made, address, _ = cluster
    head = made.head_node.node_id
    removed, written = {}, collections.Counter()
    write = records_module.JsonlSink.write

    def write_then_remove(self, result, image=None):
        answer = write(self, result, image)
        written["records"] += 1
        if not removed and result.node != head:
            node = next(n for n in made.worker_nodes if n.node_id == result.node)
            made.remove_node(node)
            removed.update(node=result.node, after=written["records"])
        return answer

    monkeypatch.setattr(records_module.JsonlSink, "write", write_then_remove)
    out = tmp_path / "records.jsonl"
    try:
        status = main(["run", str(archive), str(DEMO), "--ray", address, "--jsonl", str(out)])
    finally:
        if len(made.worker_nodes) < 2:
            made.add_node(num_cpus=1, node_ip_address="127.0.0.1")  # the next tests have three nodes again
            made.wait_for_nodes()
    err = capsys.readouterr().err
    assert status == 0, err
    assert removed, "no record came from a worker node"
    records = _records(out)
    files = collections.Counter(r["file"] for r in records if "file" in r)
    assert sorted(files) == sorted(str(p) for p in archive.glob("*.png")) and set(files.values()) == {1}
    assert [r["frame"] for r in records if "file" not in r] == list(range(DEMO_FRAMES))
    # Files the removed node held (or was handed next) were read again, when any were left to hand out
    # (each worker holds at most two files at once: three workers, six).
    if removed["after"] + 6 < STILLS:
        assert "read again after a worker was lost" in err


def test_python_reader_stream_on_the_cluster(cluster, archive):
    from livedigits import Reader

    _, address, _ = cluster
    reader = Reader()
    pages = sorted(archive.glob("*.png"))[:6]
    with reader.stream([str(p) for p in pages], ray=address) as results:
        got = list(results)
        summary = results.summary
    assert sorted(r.frame.file for r in got) == [str(p) for p in pages]
    assert all(r.node and r.frame.image.size == 0 for r in got)  # the pixels stayed on the node
    here = reader(str(pages[0]))
    there = next(r for r in got if r.frame.file == str(pages[0]))
    assert [n.text for n in there.numbers] == [n.text for n in here.numbers]
    assert summary.files == 6 and sum(n.files for n in summary.nodes.values()) == 6


def test_a_video_read_again_sends_the_same_later_frames():
    """After a lost worker, a video is read again from its start and only the frames not yet written are
    sent: they are the frames the first attempt would have sent, track ids included."""
    from livedigits.classify.backends import load_classifier
    from livedigits.cluster.workers import FileReader, Settings
    from livedigits.reading.numbers import DEFAULT_READING
    from livedigits.reading.recognizer import Recognizer
    from livedigits.vision.segment import DEFAULT_CONFIG

    worker = object.__new__(FileReader)  # the actor's class, run here without Ray
    worker.settings = Settings("auto", None, "auto", DEFAULT_CONFIG, DEFAULT_READING)
    worker.node = "here"
    worker.recognizer = Recognizer(load_classifier("auto"), DEFAULT_CONFIG, DEFAULT_READING)
    whole = [r for chunk in worker.read_video("demo", str(DEMO), 0, 40) for r in chunk]
    again = [r for chunk in worker.read_video("demo", str(DEMO), 25, 40) for r in chunk]
    assert [r.frame.index for r in again] == list(range(25, 40))
    assert [_comparable(r.to_record()) for r in again] == [_comparable(r.to_record()) for r in whole[25:]]
    assert any(d.track_id is not None for r in again for d in r.detections)


def test_damaged_files_are_warnings_and_the_rest_is_read(cluster, archive, tmp_path):
    _, address, env = cluster
    folder = tmp_path / "mixed"
    folder.mkdir()
    for page in sorted(archive.glob("*.png"))[:3]:
        (folder / page.name).write_bytes(page.read_bytes())
    (folder / "torn.png").write_bytes(b"\x89PNG not really")
    broken = tmp_path / "lesson.mp4"
    broken.write_bytes(os.urandom(4096))
    out, table, pictures = tmp_path / "records.jsonl", tmp_path / "numbers.csv", tmp_path / "annotated"
    done = _run([folder, broken, "--ray", address, "--jsonl", out, "--csv", table, "--save-dir", pictures], env)
    # As a local run: the unreadable image skipped with a warning, the failed source said last, exit 5.
    assert done.returncode == 5, done.stderr
    records = _records(out)
    assert sorted(Path(r["file"]).name for r in records) == sorted(p.name for p in folder.glob("page*.png"))
    assert "skipped 1 unreadable image" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("livedigits: error:") and str(broken) in done.stderr.splitlines()[-1]
    # The other outputs as without --ray: a CSV row per number, each still annotated under its own name.
    assert len(table.read_text().splitlines()) == 1 + sum(len(r["numbers"]) for r in records)
    assert sorted(p.name for p in pictures.iterdir()) == sorted(p.name for p in folder.glob("page*.png"))
    drawn = cv2.imread(str(pictures / "page000.png"))
    assert drawn.shape == cv2.imread(str(folder / "page000.png")).shape
    assert (drawn != cv2.imread(str(folder / "page000.png"))).any()  # boxes and labels drawn


def test_a_live_stream_is_read_by_its_own_worker(cluster, tmp_path):
    _, address, env = cluster
    page = cv2.imread(str(ROOT / "samples" / "page.png"))
    out = tmp_path / "live.jsonl"
    with MjpegServer(image=cv2.resize(page, (320, 240)), fps=10) as server:
        url = server.url
        done = _run([url, "--ray", address, "--jsonl", out, "--max-frames", "8"], env)
    assert done.returncode == 0, done.stderr
    records = _records(out)
    assert [r["frame"] for r in records] == sorted(r["frame"] for r in records)
    assert len(records) == 8 and len({r["node"] for r in records}) == 1
    assert records[0]["source"] == url


@needs_ray
@pytest.mark.parametrize("extra, message", [
    (["--resume", "--jsonl", "x.jsonl"], "--resume continues a cluster run"),
    (["--ray", "local", "--output", "x.mp4"], "--output does not work with --ray"),
    (["--ray", "local", "--resume"], "--resume needs --jsonl FILE"),
    (["--ray", "nowhere"], "--ray expects host:port"),
    (["--ray", "ray://127.0.0.1:10001"], "is Ray Client, which cannot stream results back"),
])
def test_what_a_cluster_run_refuses(extra, message, capsys, tmp_path, monkeypatch):
    from livedigits.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["run", str(ROOT / "samples" / "page.png"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not (tmp_path / "x.jsonl").exists()


@needs_ray
def test_an_unreachable_cluster_is_one_line(capsys):
    from livedigits.cli.main import main

    with __import__("socket").socket() as probe:  # a port nothing listens on: bound, never listened
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        assert main(["run", str(ROOT / "samples" / "page.png"), "--ray", f"127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach a Ray cluster at 127.0.0.1:" in err and err.count("\n") == 1


def test_without_ray_the_option_says_how_to_add_it(capsys, monkeypatch):
    from livedigits.cli.main import main

    monkeypatch.setitem(sys.modules, "ray", None)  # as if the core install, without the extra
    assert main(["run", str(ROOT / "samples" / "page.png"), "--ray", "local"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'livedigits[ray]'" in err and err.count("\n") == 1


@needs_ray
def test_bench_reads_an_archive_on_local_clusters_of_n_nodes(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["PYTHONPATH"] = str(ROOT)
    figures = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "livedigits", "bench", "--ray-nodes", "1,2", "--frames", "6",
                           "--json", str(figures)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(figures.read_text())["results"]
    assert [r["nodes"] for r in results] == [1, 2] and all(r["files"] == 6 for r in results)
    assert sum(results[1]["files_per_node"].values()) == 6  # (how they split depends on which worker is up first)
    assert "files/s steady" in done.stdout


@needs_ray
def test_bench_node_counts_are_checked(capsys):
    from livedigits.cli.main import main

    assert main(["bench", "--ray-nodes", "0,1"]) == 2
    assert "--ray-nodes expects node counts from 1 to 8" in capsys.readouterr().err

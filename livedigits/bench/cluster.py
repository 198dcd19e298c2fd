"""``livedigits bench --ray-nodes 1,2,3``: the throughput of ``run --ray`` on an archive of stills, with 1,
2, 3... local Ray nodes of one CPU each, every one bound to 127.0.0.1.

The archive is ``--frames`` frames of the bench's source written as PNG files to a temporary folder (a
scanned archive's shape: one file per page). For each node count a fresh cluster is started (a head and
N-1 nodes, Ray's token authentication on, with a token made for the run), the files are read by one
worker per node, and two figures are kept: ``files/s`` over the whole job (placing the workers and
loading their models included) and ``steady files/s`` from the first result to the last. The nodes of a
local cluster share this machine's cores: past the number of cores, more nodes cannot read faster.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from livedigits.errors import UsageError

#: The most nodes a local cluster is started with (each is a raylet and a worker of its own).
MAX_NODES = 8


def parse_node_counts(text: str) -> tuple[int, ...]:
    """``"1,2,3"`` -> ``(1, 2, 3)``; a UsageError for anything else."""
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or any(not 1 <= n <= MAX_NODES for n in counts):
        raise UsageError(f"--ray-nodes expects node counts from 1 to {MAX_NODES} separated by commas, e.g. 1,2,3; "
                         f"got {text!r}")
    return counts


@dataclass
class NodesResult:
    """One node count's figures."""

    nodes: int
    files: int
    seconds: float
    steady_seconds: float
    files_per_node: dict = field(default_factory=dict)

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_files_per_s(self) -> float:
        # From the first result to the last: files - 1 intervals.
        return (self.files - 1) / self.steady_seconds if self.steady_seconds > 0 else 0.0


@dataclass
class ClusterBench:
    source: str
    files: int
    size: tuple[int, int]
    cpus: int
    results: list[NodesResult]
    load_average: list = field(default_factory=list)
    """The machine's 1-minute load average before and after (others' work on it makes the figures noisy)."""

    def text(self) -> str:
        lines = [f"Ray cluster on this machine ({self.cpus} CPUs): {self.files} PNG files of {self.size[0]}x{self.size[1]} "
                 f"from {self.source}, one worker per node of 1 CPU"]
        base = self.results[0].steady_files_per_s if self.results else 0.0
        for r in self.results:
            speedup = f"  x{r.steady_files_per_s / base:.2f}" if base > 0 else ""
            lines.append(f"  {r.nodes} node{'s' if r.nodes != 1 else ' '}: {r.files_per_s:6.1f} files/s over the job "
                         f"({r.seconds:.1f} s), {r.steady_files_per_s:6.1f} files/s steady{speedup}; files per node "
                         f"{sorted(r.files_per_node.values(), reverse=True)}")
        if self.load_average:
            lines.append(f"  load average (1 min) before and after: {' and '.join(f'{v:.1f}' for v in self.load_average)}")
        if any(r.nodes > self.cpus for r in self.results):
            lines.append(f"  (more nodes than this machine's {self.cpus} CPUs share them: no faster past {self.cpus})")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {**asdict(self), "results": [{**asdict(r), "files_per_s": r.files_per_s,
                                             "steady_files_per_s": r.steady_files_per_s} for r in self.results]}


def _write_archive(spec, count: int, folder: Path) -> tuple[int, tuple[int, int]]:
    """Write the first ``count`` frames of ``spec`` (a file is looped) as PNG files; return how many and
    their size."""
    import cv2

    from livedigits.capture.sources import open_source

    written, size = 0, (0, 0)
    while written < count:
        with open_source(spec) as source:
            while written < count and (frame := source.read()) is not None:
                cv2.imwrite(str(folder / f"page{written:05d}.png"), frame.image)
                size = (frame.image.shape[1], frame.image.shape[0])
                written += 1
        if written == 0:
            break
    return written, size


def bench_nodes(spec, counts: tuple[int, ...], files: int, *, log: Callable[[str], None] | None = None) -> ClusterBench:
    """Measure ``run --ray`` on ``files`` stills of ``spec`` with each node count of ``counts``."""
    from livedigits.cluster.connect import RAY_LOOPBACK_SWITCH
    from livedigits.util.extras import require_ray

    require_ray("bench --ray-nodes")
    log = log or (lambda message: None)
    env = {RAY_LOOPBACK_SWITCH: "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # before Ray is imported: it reads them then
    load = [os.getloadavg()[0]]
    try:
        with tempfile.TemporaryDirectory(prefix="livedigits-bench-ray-") as folder:
            written, size = _write_archive(spec, files, Path(folder))
            results = [_measure(Path(folder), n, log) for n in counts]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    load.append(os.getloadavg()[0])
    return ClusterBench(str(spec), written, size, os.cpu_count() or 1, results, [round(v, 2) for v in load])


def _measure(folder: Path, nodes: int, log) -> NodesResult:
    import ray
    from ray.cluster_utils import Cluster

    from livedigits.cluster.driver import ClusterRun
    from livedigits.cluster.plan import make_plan
    from livedigits.cluster.workers import Settings
    from livedigits.reading.numbers import DEFAULT_READING
    from livedigits.vision.segment import DEFAULT_CONFIG

    log(f"starting a local Ray cluster of {nodes} node{'s' if nodes != 1 else ''}")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1",
                                                             "include_dashboard": False})
    try:
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        plan = make_plan([str(folder)])
        run = ClusterRun(plan, Settings("auto", None, "auto", DEFAULT_CONFIG, DEFAULT_READING), workers=nodes)
        log(f"{nodes} node{'s' if nodes != 1 else ''}: reading {plan.files} files")
        started = time.perf_counter()
        first = last = None
        for _ in run:
            last = time.perf_counter()
            first = first or last
        seconds = time.perf_counter() - started
        return NodesResult(nodes, run.summary.files, seconds, (last - first) if first else 0.0,
                           {node[:12]: stats.files for node, stats in run.summary.nodes.items()})
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()

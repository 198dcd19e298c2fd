"""The bench's report: :class:`BenchReport` and :class:`BackendResult`, their JSON document
(``--json``) and the table ``livedigits bench`` prints."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from livedigits.errors import OutputError
from livedigits.bench.streams import streams_text
from livedigits.bench.stages import STAGE_LABELS, STAGES
from livedigits.bench.targets import check_targets



@dataclass(frozen=True)
class BackendResult:
    """What one backend did over the run. ``samples`` holds the raw per-frame ms (for the plot)."""

    backend: str
    device: str
    detail: str
    load_ms: float
    frames: int
    seconds: float
    dropped: int
    passes: int
    ended_by: str
    latency_ms: dict[str, dict]
    batch_sizes: dict
    memory: dict
    cpu_ms_per_frame: dict = field(default_factory=dict)
    retracing: dict | None = None
    classify_batch: dict | None = None
    naive_frames_ms: list[float] = field(default_factory=list)
    naive_classify_ms: list[float] = field(default_factory=list)
    streams: dict | None = None
    streams_held: dict | None = None
    samples: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        skip = ("samples", "naive_frames_ms", "naive_classify_ms")
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        data["fps"] = self.fps
        return json.loads(json.dumps(data, default=_json_default))  # a deep, plain copy


@dataclass(frozen=True)
class BenchReport:
    """Every figure of one ``livedigits bench`` run; ``to_dict()`` is the ``--json`` document."""

    options: dict
    source: dict
    machine: dict
    backends: list[BackendResult]
    naive: dict | None = None
    startup: dict | None = None
    reference: dict | None = None
    """``bench --reference``: :func:`livedigits.bench.reference.compare_reference`."""
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False

    def backend(self, name: str) -> BackendResult:
        for result in self.backends:
            if result.backend == name:
                return result
        raise KeyError(name)

    def targets(self) -> list[dict]:
        return check_targets(self)

    def to_dict(self) -> dict:
        return {
            "schema": "livedigits-bench/1",
            "options": self.options,
            "source": self.source,
            "machine": self.machine,
            "backends": {b.backend: b.to_dict() for b in self.backends},
            "naive": self.naive,
            "startup": self.startup,
            "reference": self.reference,
            "targets": self.targets(),
            "warnings": self.warnings,
            "interrupted": self.interrupted,
        }

    def write_json(self, path: str | os.PathLike) -> Path:
        target = Path(path)
        try:
            target.write_text(json.dumps(self.to_dict(), indent=2, default=_json_default) + "\n")
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror}") from None
        return target

    def plot(self, path: str | os.PathLike) -> Path:
        from livedigits.bench.plot import plot_report  # matplotlib: only when plotting

        return plot_report(self, path)

    def text(self) -> str:
        return format_report(self)


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _ms(value) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _load_text(load) -> str:
    return f"{load[0]:.2f}" if load else "?"


def format_report(report: BenchReport) -> str:
    """The table printed at the end of ``livedigits bench``."""
    src, m, opts = report.source, report.machine, report.options
    lines = []
    size = "x".join(str(v) for v in src["size"])
    native = "x".join(str(v) for v in src["native_size"])
    fps = f" @ {src['fps']:g} fps" if src.get("fps") else ""
    resized = f" (resized from {native}{', aspect kept' if src.get('aspect_kept') else ''})" \
        if src["size"] != src["native_size"] else ""
    mode = "paced in real time" if opts["realtime"] else "read as fast as possible"
    lines.append(f"source: {src['name']} ({src['kind']}, {size}{resized}{fps}), {mode}; "
                 f"{opts['frames']} measured frames per backend after {opts['warmup']} warm-up")
    gpu = ", ".join(m["gpus"]) if m["gpu_visible"] else "no GPU visible"
    versions = m["versions"]
    lines.append(f"machine: {m['cpu']}, {m['logical_cores']} logical cores ({m['usable_cores']} usable), "
                 f"{m['memory_mb']} MB RAM; load average (1 min) {_load_text(m.get('load_average_start'))} at the start, "
                 f"{_load_text(m['load_average'])} at the end")
    lines.append(f"         {gpu} ({m['gpu_check']}); TensorFlow {versions['tensorflow']}, Keras {versions['keras']}, "
                 f"LiteRT {versions['ai-edge-litert']}, OpenCV {versions['opencv']}, NumPy {versions['numpy']}")
    lines.append(f"device that ran: {m['device'].upper()} - " + "; ".join(f"{b.backend}: {b.detail}" for b in report.backends))
    lines.append("")

    results = report.backends
    head = f"{'ms per frame':<17}" + "".join(f"  {b.backend + ' p50 / p95 / p99 / max':<31}" for b in results)
    lines.append(head)
    stages = [s for s in STAGES if any(s in b.latency_ms for b in results)]
    for stage in stages:
        row = f"{STAGE_LABELS[stage]:<17}"
        for b in results:
            p = b.latency_ms.get(stage)
            cell = "-" if not p or not p["n"] else " / ".join(_ms(p[k]) for k in ("p50", "p95", "p99", "max"))
            row += f"  {cell:<31}"
        lines.append(row)
    lines.append("")

    def row(label, cell):
        lines.append(f"{label:<17}" + "".join(f"  {cell(b):<31}" for b in results))

    row("frames", lambda b: f"{b.frames} in {b.seconds:.1f} s" + (f" ({b.passes} passes)" if b.passes > 1 else ""))
    row("throughput", lambda b: f"{b.fps:.1f} frames/s")
    row("CPU per frame", lambda b: "{process:.1f} ms all threads, {loop_thread:.1f} loop".format(**b.cpu_ms_per_frame)
        if b.cpu_ms_per_frame else "-")
    row("dropped frames", lambda b: str(b.dropped))
    if src.get("fps"):
        interval = 1000.0 / src["fps"]
        row("e2e p95 vs frame", lambda b: f"{_ms(b.latency_ms['e2e']['p95'])} vs {interval:.1f} ms"
            + ("" if opts["realtime"] else " (not paced)"))
    row("batch p50 / max", lambda b: f"{b.batch_sizes['p50']:g} / {b.batch_sizes['max']} crops"
        + (f", {100 * b.batch_sizes['reused_share']:.0f}% reused" if b.batch_sizes.get("reused_share") else ""))
    row("retraced", lambda b: ("no (traces: {traces_at_load} at load, {traces_after} after)".format(**b.retracing)
                               if b.retracing and not b.retracing["retraced"]
                               else f"YES, {b.retracing['retraced']} times" if b.retracing else "n/a"))
    row(f"{opts['micro_batch']} crops p50", lambda b: f"{_ms(b.classify_batch['p50'])} ms (p95 {_ms(b.classify_batch['p95'])})"
        if b.classify_batch and b.classify_batch.get("p50") is not None else "-")
    row("model load", lambda b: f"{b.load_ms:.0f} ms")
    row("RSS peak", lambda b: f"{b.memory['rss_peak_mb']:.0f} MB" if b.memory["rss_peak_mb"] else "-")
    row("RSS growth", lambda b: f"{b.memory['rss_growth_mb']:+.1f} MB over {b.memory['frames']} frames"
        if b.memory["rss_growth_mb"] is not None else "-")
    distributions = {json.dumps(b.batch_sizes["distribution"]) for b in results}
    for b in results if len(distributions) > 1 else results[:1]:
        who = b.backend if len(distributions) > 1 else "every backend"
        sizes = b.batch_sizes["distribution"]
        shown = ", ".join(f"{k}: {v}" for k, v in sizes.items()) if len(sizes) <= 15 else f"{len(sizes)} sizes (see --json)"
        lines.append(f"batch sizes, {who} (crops classified in the frame: frames): {shown}")

    for b in results:
        if b.streams or b.streams_held:
            extra = streams_text(b.streams, b.streams_held, src.get("fps"), size)
            if len(results) > 1:
                extra = [line if not line or line.startswith("  ") else f"{b.backend}: {line}" for line in extra]
            lines.extend(extra)

    if report.naive:
        nv = report.naive
        lines.append("")
        lines.append(f"naive (seed article: model.predict() once per crop) on {nv['frames']} frames only "
                     f"({sum(nv['crops_per_frame'])} crops; {_ms(nv['per_crop_predict_ms']['p50'])} ms per crop p50):")
        lines.append(f"  naive: {_ms(nv['frame_ms']['mean'])} ms per frame, classify {_ms(nv['classify_ms']['mean'])} ms")
        for name, ours in nv.get("ours", {}).items():
            lines.append(f"  {name}: {_ms(ours['frame_ms']['mean'])} ms per frame -> {ours['ratio']:.0f}x faster; "
                         f"classify {_ms(ours['classify_ms']['mean'])} ms -> {ours['classify_ratio']:.0f}x")
    if report.reference:
        from livedigits.bench.reference import reference_text

        lines.append("")
        lines.extend(reference_text(report.reference))
    if report.startup:
        lines.append("")
        for name, data in report.startup.items():
            firsts = ", ".join(f"{v:.2f}" for v in data["first_result_s"])
            exits = ", ".join(f"{v:.2f}" for v in data["exit_s"])
            line = f"startup {name}: command to first result {firsts} s (median {_ms(data['median_first_result_s'])}); to exit {exits} s"
            lines.append(line + (f"; errors: {'; '.join(data['errors'])}" if data["errors"] else ""))

    targets = report.targets()
    if targets:
        lines.append("")
        lines.append("targets (reported, not asserted):")
        for t in targets:
            verdict = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
            value = "-" if t["measured"] is None else f"{t['measured']:.2f}"
            note = f" ({t['note']})" if t["note"] else ""
            lines.append(f"  {verdict:<6} {t['backend']:<9} {t['name']}: {value} (target {t['target']}){note}")
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    if report.interrupted:
        lines.append("interrupted: the figures above cover the frames measured before the stop")
    return "\n".join(lines)

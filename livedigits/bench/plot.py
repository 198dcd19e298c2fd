"""The bench's latency plot (``--plot``): the distribution of each stage, one panel per backend."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from livedigits.errors import OutputError
from livedigits.bench.stages import STAGE_LABELS, STAGES


def plot_report(report, path: str | os.PathLike) -> Path:
    """Latency distribution per stage of ``report`` (a :class:`~livedigits.bench.report.BenchReport`), one
    panel per backend: the share of frames done within x ms.

    The panels share the x axis (log milliseconds) and the colours, so backends compare at a glance.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    results = report.backends
    figure = Figure(figsize=(5.2 * len(results) + 2.2, 4.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(results), squeeze=False, sharex=True, sharey=True)[0]
    colours = dict(zip(STAGES, ("#1f77b4", "#ff7f0e", "#bcbd22", "#2ca02c", "#98df8a", "#17becf", "#aec7e8",
                                "#d62728", "#9467bd", "#8c564b", "#e377c2", "#333333")))
    interval = 1000.0 / report.source["fps"] if report.source.get("fps") else None
    for ax, result in zip(axes, results):
        for stage in STAGES:
            values = result.samples.get(stage)
            values = np.sort(values[np.isfinite(values)]) if values is not None else np.empty(0)
            if values.size == 0:
                continue
            total = stage in ("processing", "e2e")
            ax.step(np.maximum(values, 1e-3), np.arange(1, values.size + 1) / values.size, where="post",
                    color=colours[stage], linestyle="--" if total else "-", linewidth=2.0 if total else 1.3,
                    label=STAGE_LABELS[stage])
        if interval:
            ax.axvline(interval, color="grey", linewidth=0.8, linestyle=":")
            ax.text(interval, 0.5, f"frame interval {interval:.1f} ms", color="grey", fontsize=8, rotation=90,
                    ha="right", va="center")
        ax.set_xscale("log")
        ax.set_xlabel("milliseconds (log scale)")
        ax.set_ylim(0, 1.02)
        ax.grid(True, which="both", alpha=0.25)
        ax.set_title(f"{result.backend} on {result.device.upper()}: {result.frames} frames, {result.fps:.0f} fps", fontsize=10)
    axes[0].set_ylabel("share of frames done within")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right center", fontsize=8)
    size = "x".join(str(v) for v in report.source["size"])
    figure.suptitle(f"livedigits bench: {Path(report.source['name']).name} at {size}", fontsize=11)
    target = Path(path)
    try:
        figure.savefig(target, dpi=110)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror}") from None
    return target

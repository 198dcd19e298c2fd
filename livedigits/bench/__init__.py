"""The latency benchmark: where the time of a frame goes, on this machine.

:func:`run_bench` plays a source through the real loop of ``livedigits run``
(:func:`livedigits.runner.run`: the same reader thread, recognizer and overlay), once per
backend, and times every frame:

``capture_wait``
    how long the loop waited in ``source.read()`` for a frame (0 when the reader thread is ahead);
``decode``
    how long the reader thread took to get the image from OpenCV (``Frame.decode_ms``; for a camera
    this includes waiting for the device); it runs in parallel with the processing of earlier frames;
``resize``
    only with ``size``: the bench's own resize to the requested size, done in the loop thread before
    the frame is handed on, and left out of ``processing``;
``segment``, ``classify``, ``read``
    the recognizer's own timings (``FrameResult.timings``);
``overlay``
    drawing the annotated frame;
``processing``
    from the frame in hand to the annotated frame: what one frame costs the loop;
``e2e``
    from the frame's capture (``Frame.stamp``, when the reader thread received it) to the annotated
    frame. For a file read as fast as possible this includes the frames waiting in the reader's
    queue; use ``realtime`` for a camera-like figure.

Recording uses arrays sized before the run, so the memory growth reported is the loop's, not the
bench's. Example::

    report = run_bench(BenchOptions("samples/demo.mp4", backend="lite", frames=300))
    print(report.text())
    report.write_json("bench.json")
    report.plot("bench.png")

The modules, one job each: ``options`` (what to measure), ``measure`` (the measured run and its
instruments), ``micro`` (the full-batch classify figure), ``naive`` (``--compare-naive``),
``startup`` (``--startup``), ``machine`` (what it ran on), ``report`` (the figures, their JSON and
text), ``targets`` (the issue's targets), ``plot`` (``--plot``) and ``run`` (:func:`run_bench`);
``stress`` is ``livedigits stress`` (reading accuracy on generated hard pages, per phenomenon).
"""

from __future__ import annotations

import importlib

from livedigits.bench.options import BENCH_BACKENDS, BUNDLED, DEFAULT_SAMPLE, BenchOptions, parse_size

# The measuring modules load OpenCV and the engine: imported when first asked for, so the CLI can take
# BENCH_BACKENDS for its --help without them.
_LAZY = {
    "machine_info": "machine", "plot_report": "plot", "STAGES": "report", "BackendResult": "report",
    "BenchReport": "report", "format_report": "report", "run_bench": "run", "measure_startup": "startup",
    "check_targets": "targets",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BENCH_BACKENDS",
    "BackendResult",
    "BenchOptions",
    "BenchReport",
    "BUNDLED",
    "DEFAULT_SAMPLE",
    "STAGES",
    "check_targets",
    "format_report",
    "machine_info",
    "measure_startup",
    "parse_size",
    "plot_report",
    "run_bench",
]

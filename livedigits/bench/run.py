""":func:`run_bench`: each backend asked for in turn (the measured run, then the figures taken beside
it), then the naive comparison and the start-up, into one :class:`BenchReport`."""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Callable, TextIO

from livedigits.util.extras import TRAIN_INSTALL, have_tensorflow, require_tensorflow
from livedigits.bench.machine import load_average, machine_info
from livedigits.bench.measure import measure_backend
from livedigits.bench.micro import read_ahead, time_batch
from livedigits.bench.naive import compare_naive, ours_on
from livedigits.bench.options import ALL_BACKENDS, BenchOptions
from livedigits.bench.report import BackendResult, BenchReport
from livedigits.bench.startup import measure_startup
from livedigits.bench.streams import find_streams, run_streams

#: How a run stopped by Ctrl-C or SIGTERM begins its ``RunSummary.ended_by``.
_INTERRUPTED = ("interrupt", "SIGTERM")


def run_bench(options: BenchOptions, *, log: Callable[[str], None] | None = None,
              progress_stream: TextIO | None = sys.stderr) -> BenchReport:
    """Measure ``options.source`` with each backend asked for; see :mod:`livedigits.bench`."""
    log = log or (lambda message: None)
    spec = options.spec
    load_at_start = load_average()
    backends = list(ALL_BACKENDS) if options.backend == "all" else [options.backend]
    warnings: list[str] = []
    if options.backend == "all" and not have_tensorflow():
        backends.remove("keras")
        warnings.append(f"the keras backend is left out: TensorFlow is not installed ({TRAIN_INSTALL} adds it)")
    if options.compare_naive:
        require_tensorflow("--compare-naive (Keras model.predict)")
    if options.reference:
        require_tensorflow("--reference (the plain pipeline's Keras model)")

    from livedigits.capture.sources import open_source

    probe = open_source(spec)  # fails early, with one line, on a bad source
    probe.stop()
    source_info = {
        "spec": str(spec), "name": probe.name, "kind": probe.kind, "native_size": list(probe.size),
        "size": list(options.size or probe.size), "fps": probe.fps, "aspect_kept": options.keep_aspect,
        "policy": "latest (paced at its fps)" if options.realtime and probe.fps else probe.policy,
    }
    if options.realtime and probe.kind == "video" and not probe.fps:
        warnings.append("--realtime: the file has no frame rate; it was read as fast as possible")
    if probe.kind in ("camera", "stream") and options.backend == "all":
        warnings.append("a live source gives each backend different frames; compare the figures with care")

    images, crops = read_ahead(options, spec)
    if len(crops) == 0:
        warnings.append("no ink found in the first frames: the classify figures are on empty batches only")

    results: list[BackendResult] = []
    interrupted = False
    for name in backends:
        log(f"loading the {name} backend" + (" (what `livedigits run` picks)" if name == "auto" else ""))
        classifier, load_ms = _load_classifier(name)
        traces_before = _tracing_count(classifier)
        result, run_warnings = measure_backend(classifier, options, spec, progress_stream,
                                               detail=_describe(classifier), load_ms=load_ms)
        interrupted = result.ended_by.startswith(_INTERRUPTED)
        for warning in run_warnings:
            if warning not in warnings:
                warnings.append(warning)
        if interrupted:
            results.append(result)
            break
        log(f"{classifier.name}: {options.micro_batch} crops, {options.micro_repeats} calls")
        extra: dict = {"classify_batch": time_batch(classifier, crops, options.micro_batch, options.micro_repeats)}
        if images:
            extra["naive_frames_ms"], extra["naive_classify_ms"] = ours_on(classifier, images)
        if options.streams > 1:
            log(f"{classifier.name}: {options.streams} streams at once")
            seconds = options.frames / (source_info["fps"] or 30.0)
            extra["streams"] = run_streams(classifier, spec, options.streams, seconds=seconds, size=options.size,
                                           workers=options.workers)
        if options.find_streams:
            extra["streams_held"] = find_streams(classifier, spec, size=options.size, log=log, workers=options.workers)
        if traces_before is not None:
            after = _tracing_count(classifier)
            extra["retracing"] = {"traces_at_load": traces_before, "traces_after": after,
                                  "retraced": after - traces_before,
                                  "batch_sizes_seen": len(result.batch_sizes["distribution"])}
        results.append(dataclasses.replace(result, **extra))
        del classifier

    naive = None
    if options.compare_naive and images and not interrupted:
        log(f"naive comparison on {len(images)} frames (model.predict per crop)")
        naive = compare_naive(images, results, log)

    reference = None
    if options.reference and not interrupted:
        from livedigits.bench.reference import compare_reference

        reference = compare_reference(spec, options.frames, options.size, log, keep_aspect=options.keep_aspect)

    startup = None
    if options.startup and not interrupted:
        startup = {}
        for name in [r.backend for r in results]:
            log(f"startup: {name}, {options.startup_runs} runs")
            startup[name] = measure_startup(spec, name, options.startup_runs)

    machine = machine_info()
    machine["load_average_start"] = load_at_start
    devices = sorted({r.device for r in results})
    machine["device"] = "+".join(devices) if devices else "cpu"
    return BenchReport(
        options={**dataclasses.asdict(options), "spec": str(spec)},
        source=source_info,
        machine=machine,
        backends=results,
        naive=naive,
        reference=reference,
        startup=startup,
        warnings=warnings,
        interrupted=interrupted,
    )


def _load_classifier(backend: str):
    """The classifier ``backend`` names, and how long loading it took in ms."""
    from livedigits.classify.backends import load_classifier

    started = time.perf_counter()
    classifier = load_classifier(backend)
    return classifier, (time.perf_counter() - started) * 1e3


def _describe(classifier) -> str:
    """What ran, for the report's "device that ran" line."""
    if classifier.name == "keras":
        return f"Keras tf.function on {classifier.device.upper()}"
    threads = getattr(classifier, "_threads", None)
    kind = "int8" if classifier.name == "lite-int8" else "float32"
    return f"LiteRT {kind} on CPU" + (f", {threads} threads" if threads else "")


def _tracing_count(classifier) -> int | None:
    """How often the Keras backend's ``tf.function`` has been traced; None for the LiteRT backends."""
    forward = getattr(classifier, "_forward", None)  # KerasClassifier's tf.function
    counter = getattr(forward, "experimental_get_tracing_count", None)
    return int(counter()) if counter is not None else None

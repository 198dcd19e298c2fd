"""``livedigits run SOURCE... --ray ADDRESS [--resume]``: the sources read on a Ray cluster, the records
written here by the outputs a local run has (``--jsonl``, ``--csv``, the numbers on standard output,
``--save-dir``), a progress bar over the files, and a summary with each node's throughput."""

from __future__ import annotations

import logging
import sys

from livedigits.errors import UsageError

log = logging.getLogger("livedigits.run")

#: Options of ``run`` a cluster run does not have, and why (checked before anything starts).
UNSUPPORTED = {
    "output": ("--output", "the annotated video is drawn from frames, which stay on the nodes; use --save-dir for "
                           "stills or --jsonl for the records"),
    "save_crops": ("--save-crops", "the crops stay on the nodes"),
    "kiosk": ("--kiosk", "it shows one source on this machine"),
    "realtime": ("--realtime", "a cluster reads files as fast as it can"),
}


def check_options(args) -> None:
    """Refuse, in one line, what a cluster run cannot do; say what --resume needs."""
    for attribute, (option, why) in UNSUPPORTED.items():
        if getattr(args, attribute, None):
            raise UsageError(f"{option} does not work with --ray: {why}")
    if args.resume and not args.ray:
        raise UsageError("--resume continues a cluster run (--ray ADDRESS) from its --jsonl file; add --ray")
    if args.resume and (not args.jsonl or args.jsonl == "-"):
        raise UsageError("--resume needs --jsonl FILE: the records already in it say which files are done")


def run_on_cluster(args, specs: list, segment, reading, say=None) -> int:
    """Run ``livedigits run`` on the cluster ``args.ray``; ``segment`` and ``reading`` are the settings
    the command worked out (defaults, --config, --roi, --conf). Returns the exit status."""
    from livedigits.cli import logs
    from livedigits.cli.progress import bar, wanted
    from livedigits.cluster.connect import check_address, connected
    from livedigits.cluster.driver import ClusterRun, count
    from livedigits.cluster.plan import make_plan
    from livedigits.cluster.resume import read_done
    from livedigits.cluster.workers import Settings
    from livedigits.engine.loop import StopFlag
    from livedigits.sinks import STDOUT, CsvSink, ImageDirSink, JsonlSink, NumberPrinter, check_output_path
    from livedigits.util.extras import require_ray

    check_options(args)
    require_ray()
    address = check_address(args.ray)
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError(f"--max-frames must be 1 or more, got {args.max_frames}")
    to_stdout = args.jsonl == STDOUT
    for value in (None if to_stdout else args.jsonl, args.csv):
        if value:
            check_output_path(value)
    done = read_done(args.jsonl) if args.resume else None
    plan = make_plan([spec if spec is not None else 0 for spec in specs], done, args.max_frames)
    if args.save_dir and not any(info.kind == "images" for info in plan.streams):
        raise UsageError("--save-dir saves annotated still images, and no source is an image or a folder of images")
    settings = Settings(args.backend, args.model, args.device, segment, reading, draw=bool(args.save_dir))
    run = ClusterRun(plan, settings, max_frames=args.max_frames, fail_fast=bool(getattr(args, "fail_fast", False)),
                     live_options=dict(width=args.width, height=args.height, fps=args.fps))
    sinks, progress = [], None
    # The cluster first: an address that does not answer leaves no empty output behind.
    with connected(address, verbose=logs.is_verbose()), StopFlag() as flag:
        if say is not None:
            resumed = f"; {plan.resumed} already in {args.jsonl}" if args.resume else ""
            say(f"reading {count(plan.files, 'file')} and {count(len(plan.live), 'live source')} on the Ray "
                f"cluster at {address}{resumed}")
        try:
            if args.jsonl:
                sinks.append(JsonlSink(args.jsonl, append=bool(args.resume)))
            if args.csv:
                sinks.append(CsvSink(args.csv, append=bool(args.resume)))
            if args.save_dir:
                sinks.append(ImageDirSink(args.save_dir))
            if not to_stdout:
                sinks.append(NumberPrinter(sys.stdout))
            for sink in sinks:
                sink.open(plan.streams)
            if wanted() and plan.files:
                progress = bar(plan.files, desc="files", unit="file")
                run.on_file = progress.update
            for delivery in run.stopping_on(flag):
                image = None
                if delivery.picture is not None:
                    import cv2
                    import numpy as np

                    image = cv2.imdecode(np.frombuffer(delivery.picture, np.uint8), cv2.IMREAD_COLOR)
                for sink in sinks:
                    if sink.write(delivery.result, image if sink.needs_image else None) == "quit":
                        run.stop("the reader of standard output went away")
        finally:
            if progress is not None:
                progress.close()
            for sink in sinks:
                sink.close()
    from livedigits.cli.main import _say_failures, run_exit_code

    summary = run.summary
    if logs.is_quiet():
        for warning in summary.warnings:
            log.warning(warning)
        _say_failures(summary)
        return run_exit_code(summary)
    print(summary.text(), file=sys.stderr)
    for option, value in (("per-frame results", args.jsonl if not to_stdout else None), ("numbers as CSV", args.csv)):
        if value:
            print(f"{option}: {value}", file=sys.stderr)
    for sink in sinks:
        if isinstance(sink, ImageDirSink):
            print(f"annotated images: {len(sink.saved)} in {sink.folder}", file=sys.stderr)
    _say_failures(summary)  # last, as a local run says them: one error line per failed source, exit 5
    return run_exit_code(summary)

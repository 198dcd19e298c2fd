"""``livedigits collect``: picks the mode from SOURCE and the options (import, ``--auto``, the live view)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from livedigits.errors import OutputError, SourceError, UsageError
from livedigits.capture.images import is_image_path
from livedigits.collect.importer import import_images, label_folders, list_images
from livedigits.collect.live import collect_auto, collect_window
from livedigits.collect.store import SampleStore, parse_label


def collect_command(source: str | None, out: str, *, auto: str | None = None, every: int = 0,
                    limit: int | None = None, single: bool = False, max_frames: int | None = None,
                    backend: str = "auto", model: str | None = None, log=None) -> dict:
    """``livedigits collect``: pick the mode from SOURCE and the options, run it, return a summary."""
    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    label = parse_label(auto) if auto is not None else None
    if limit is not None and limit < 1:
        raise UsageError(f"--max must be at least 1, got {limit}")
    if every < 0:
        raise UsageError(f"--every must be 0 (once per appearance) or a number of frames, got {every}")
    started = time.monotonic()
    path = Path(source).expanduser() if source is not None else None
    if path is not None and path.is_dir():
        labelled = label_folders(path)
        if labelled is not None:
            if label is not None:
                raise UsageError(f"{path} is laid out in label folders ({', '.join(sorted(labelled))}); "
                                 "drop --auto to import with their labels, or point at one of them")
            items = [(p, name) for name, folder in sorted(labelled.items()) for p in list_images(folder)]
        elif label is not None:
            items = [(p, label) for p in list_images(path)]
        else:
            items = None  # a folder of pages to label by hand in the live view
        if items is not None:
            if not items:
                raise SourceError(f"{path}: no images to import (files such as .png or .jpg)")
            store = SampleStore(out)
            result = import_images(items, store, single=True if single else None, limit=limit, log=say)
            return {"mode": "import", "images": result.images, "saved": store.session_counts,
                    "text": store.summary(), "seconds": round(time.monotonic() - started, 2)}
    if path is not None and label is not None and path.is_file() and is_image_path(path):
        store = SampleStore(out)
        result = import_images([(path, label)], store, single=True if single else None, limit=limit, log=say)
        return {"mode": "import", "images": result.images, "saved": store.session_counts,
                "text": store.summary(), "seconds": round(time.monotonic() - started, 2)}

    from livedigits.capture.sources import open_source

    store = SampleStore(out)
    window = None
    if label is None:
        from livedigits.sinks import WindowSink

        try:  # the display is checked before the camera is opened
            window = WindowSink("livedigits collect")
        except OutputError as exc:
            reason = str(exc).split("; use --headless")[0]
            raise OutputError(f"{reason}; without a window, label a sheet of one digit with --auto LABEL") from None
    try:
        src = open_source(source)
    except BaseException:
        if window is not None:
            window.close()
        raise
    try:
        from livedigits.classify.backends import load_classifier

        classifier = load_classifier(backend, model)  # auto: what the tracker follows is read too
        if window is None:
            collect_auto(src, store, label, classifier, every=every, limit=limit, max_frames=max_frames, log=say)
            mode = "auto"
        else:
            collect_window(src, store, classifier, window)
            mode = "window"
    finally:
        src.stop()
        if window is not None:
            window.close()
    return {"mode": mode, "saved": store.session_counts, "text": store.summary(),
            "seconds": round(time.monotonic() - started, 2)}

"""The frame loops of ``livedigits collect``: ``collect_window`` (the live view, keys label crops) and
``collect_auto`` (no window, every crop gets one label, each written digit saved once per appearance).
"""

from __future__ import annotations

import cv2

from ..boxes import greedy_match, iou_matrix
from ..errors import UsageError
from ..keys import ACTION_QUIT
from ..segment import DEFAULT_CONFIG, SegmentConfig, crops_batch, find_candidates
from ..types import Box
from .session import CollectSession
from .store import SampleStore, full_cut


class AppearanceTracker:
    """Which crops of a frame are new sightings of a physical digit, so a video of a page gives one
    sample per written digit instead of one per frame.

    A box continues a track when it overlaps the track's last box by ``min_iou`` and the track was seen
    within ``max_missed`` frames. A track is due when it is new, and with ``every`` > 0 again each
    ``every`` frames while it stays in view.
    """

    def __init__(self, every: int = 0, min_iou: float = 0.3, max_missed: int = 5):
        if every < 0:
            raise UsageError(f"--every must be 0 (once per appearance) or a number of frames, got {every}")
        self.every = every
        self.min_iou = min_iou
        self.max_missed = max_missed
        self._tracks: list[dict] = []  # box, last_seen, last_saved

    def due(self, boxes: list[Box], frame_index: int) -> list[int]:
        """Indices of ``boxes`` to save at ``frame_index``; updates the tracks."""
        self._tracks = [t for t in self._tracks if frame_index - t["last_seen"] <= self.max_missed]
        matched: dict[int, dict] = {}
        if boxes and self._tracks:
            iou = iou_matrix(boxes, [t["box"] for t in self._tracks])
            matched = {bi: self._tracks[ti] for bi, ti in greedy_match(iou, self.min_iou)}
        due = []
        for i, box in enumerate(boxes):
            track = matched.get(i)
            if track is None:
                track = {"box": box, "last_seen": frame_index, "last_saved": frame_index}
                self._tracks.append(track)
                due.append(i)
                continue
            track["box"], track["last_seen"] = box, frame_index
            if self.every and frame_index - track["last_saved"] >= self.every:
                track["last_saved"] = frame_index
                due.append(i)
        return due


def collect_auto(source, store: SampleStore, label: str, *, every: int = 0, limit: int | None = None,
                 max_frames: int | None = None, config: SegmentConfig = DEFAULT_CONFIG, log=print) -> int:
    """Label every crop of a started ``Source`` with ``label``, saving each physical digit once per
    appearance (see ``AppearanceTracker``). Returns the number of samples saved. Ctrl-C stops it
    cleanly: what was saved stays saved."""
    from ..progress import bar

    tracker = AppearanceTracker(every=every)
    saved = frames = 0
    total = getattr(source, "total_frames", None)
    if total is not None and max_frames is not None:
        total = min(total, max_frames)
    progress = bar(total, desc=f"collecting {label}")
    try:
        while limit is None or saved < limit:
            frame = source.read(timeout=1.0)
            if frame is None:
                if source.state == "ended":
                    break
                continue
            frames += 1
            if source.kind == "images":
                tracker = AppearanceTracker(every=every)  # a glob of pages: each image is a new page
            candidates = find_candidates(frame.image, config)
            for i in tracker.due([c.box for c in candidates], frame.index):
                if limit is not None and saved >= limit:
                    break
                candidate = candidates[i]
                store.save(candidate.crop, full_cut(frame.image, candidate.box), label, source=source.name,
                           frame=int(frame.index), frame_time=round(float(frame.time), 3),
                           box=candidate.box.as_list(), mode="auto")
                saved += 1
            progress.update(1)
            progress.set_postfix(saved=saved, refresh=False)
            if max_frames is not None and frames >= max_frames:
                break
    except KeyboardInterrupt:
        log("interrupted: the samples saved so far are kept")
    finally:
        progress.close()
    log(f"read {frames} frame(s)")
    return saved


def collect_window(source, store: SampleStore, classifier, window, *, config: SegmentConfig = DEFAULT_CONFIG) -> None:
    """The window loop: read, segment, classify, show, act on keys; a thin layer over ``CollectSession``."""
    session = CollectSession(store, source.name, step_images=source.kind == "images")
    try:
        ended = False
        while True:
            if not session.paused and not ended:
                frame = source.read(timeout=0.05)
                if frame is None and source.state == "ended":
                    ended = True
                    session.message = "end of the source: label what is shown, q to quit"
                elif frame is not None:
                    candidates = find_candidates(frame.image, config)
                    probabilities = classifier.predict(crops_batch(candidates)) if candidates else None
                    session.update(frame, candidates, probabilities)
            cv2.imshow(window.title, session.draw())
            if session.handle_key(cv2.waitKeyEx(30 if session.paused or ended else 1)) == ACTION_QUIT:
                break
            try:
                if cv2.getWindowProperty(window.title, cv2.WND_PROP_VISIBLE) < 1:
                    break
            except cv2.error:
                break
    finally:
        window.close()

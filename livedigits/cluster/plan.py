"""What a cluster run has to read: each source given, turned into work items the driver hands out.

A folder or glob of still images becomes one item per image (any worker reads any file, from the path all
nodes share); a video file is one item (its frames must go through one tracker, in order); a camera or a
stream is a live source, read by an actor of its own. Sources are recognised, labelled and listed exactly
as ``livedigits run`` does without ``--ray`` (:func:`~livedigits.capture.sources.classify_source`,
:func:`~livedigits.engine.loop.source_labels`), so the records are the same but for ``node``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livedigits.capture.redact import redact_url
from livedigits.capture.sources import classify_source
from livedigits.engine.loop import StreamInfo, source_labels

STILL, VIDEO = "still", "video"


@dataclass(frozen=True)
class Item:
    """One file to read: a still image (``kind`` "still", the ``index``-th file of source ``label``) or a
    whole video (``kind`` "video"; ``skip``: frames already in the output, read again but not sent)."""

    kind: str
    label: str
    path: str
    index: int = 0
    skip: int = 0

    @property
    def key(self) -> tuple:
        """The file itself, whatever attempt this is (``skip`` aside)."""
        return (self.kind, self.label, self.path, self.index)


@dataclass(frozen=True)
class Live:
    """A camera or stream: ``spec`` as given (a URL keeps its password here; ``label`` never shows it)."""

    label: str
    spec: str


@dataclass(frozen=True)
class Plan:
    """Everything to read: the file ``items`` in the order given, the ``live`` sources, and how many files
    ``--resume`` found already done (``resumed``)."""

    items: tuple[Item, ...]
    live: tuple[Live, ...] = ()
    resumed: int = 0
    streams: tuple[StreamInfo, ...] = field(default=())
    """Each source as the outputs are told of it when they open (its label, kind, number of images)."""

    @property
    def files(self) -> int:
        return len(self.items)


def make_plan(specs, done=None, max_frames: int | None = None) -> Plan:
    """The plan for ``specs`` (what ``livedigits run`` accepts: paths, folders, globs, video files, camera
    indexes, URLs). ``done``: what an earlier run already wrote (:class:`~livedigits.cluster.resume.Done`),
    left out. Raises :class:`~livedigits.errors.SourceError` for a source that does not exist, as a
    local run does, before anything starts. ``max_frames``: of a folder or glob, its first that many images
    only (as ``--max-frames`` stops a local run)."""
    classified = [classify_source(spec) for spec in specs]
    names = []
    for kind, target in classified:
        if kind == "images":
            names.append(target[0])
        elif kind == "camera":
            names.append(f"camera {target}")
        elif kind == "stream":
            names.append(redact_url(str(target)))
        else:
            names.append(str(target))
    items, live, resumed, streams = [], [], 0, []
    for (kind, target), label in zip(classified, source_labels(names)):
        streams.append(StreamInfo(label, kind, None, None, len(target[1][:max_frames]) if kind == "images" else None,
                                  kind in ("camera", "stream")))
        if kind == "images":
            for index, path in enumerate(target[1][:max_frames]):
                if done is not None and done.has_file(path):
                    resumed += 1
                    continue
                items.append(Item(STILL, label, path, index))
        elif kind == "video":
            skip = done.frames_of(label) if done is not None else 0
            if skip and done.video_complete(label, str(target)):
                resumed += 1
                continue
            items.append(Item(VIDEO, label, str(target), skip=skip))
        else:
            live.append(Live(label, str(target)))
    return Plan(tuple(items), tuple(live), resumed, tuple(streams))

"""Reading on a Ray cluster: whole archives of scans, many videos, many cameras, on many machines.

``livedigits run SOURCE... --ray ADDRESS`` and, in Python, ``Reader().stream(..., ray=ADDRESS)`` (which
calls :func:`stream`) read the same sources as a local run, spread over the cluster: each still image
and each video file is a piece of work a worker actor takes (one actor per CPU, its model loaded once),
each camera or stream has an actor of its own. Results come back to this process, in order within each
source, as the same :class:`~livedigits.types.FrameResult` (its ``node`` set, the frame without pixels),
and go to the usual outputs. Ray is imported only here, when asked for: ``pip install 'livedigits[ray]'``.

- :mod:`~livedigits.cluster.connect`: the address, ``ray.init``, one-line errors;
- :mod:`~livedigits.cluster.plan`: the sources into work items;
- :mod:`~livedigits.cluster.workers`: what runs on the nodes;
- :mod:`~livedigits.cluster.driver`: handing out the work, nothing lost, nothing read twice;
- :mod:`~livedigits.cluster.resume`: ``--resume``, what an existing JSON Lines file holds;
- :mod:`~livedigits.cluster.command`: ``livedigits run --ray``.
"""

from __future__ import annotations

import os
from typing import Iterator

from livedigits.types import FrameResult


class ClusterStream:
    """The results of :func:`stream`, one :class:`FrameResult` per frame (per still image), as they come
    back; ``summary`` (a :class:`~livedigits.cluster.driver.ClusterSummary`) says what was read where.
    Leaving the loop early, or ``close()``, stops the workers; a ``with`` block does it too."""

    def __init__(self, address: str, run, verbose: bool = False) -> None:
        self._address = address
        self._run = run
        self._verbose = verbose
        self._iterator = None

    @property
    def summary(self):
        return self._run.summary

    def _results(self) -> Iterator[FrameResult]:
        from livedigits.cluster.connect import connected

        with connected(self._address, verbose=self._verbose):
            for delivery in self._run:
                yield delivery.result

    def __iter__(self) -> "ClusterStream":
        if self._iterator is None:
            self._iterator = self._results()
        return self

    def __next__(self) -> FrameResult:
        if self._iterator is None:
            iter(self)
        return next(self._iterator)

    def close(self) -> None:
        if self._iterator is not None:
            self._iterator.close()

    def __enter__(self) -> "ClusterStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def stream(*sources, ray: str = "auto", model: str | os.PathLike | None = None, backend: str = "auto",
           device: str = "auto", segment=None, reading=None, workers: int | None = None,
           max_frames: int | None = None) -> ClusterStream:
    """Read ``sources`` (paths, folders, globs, video files, camera indexes, stream URLs, or lists of
    them) on the Ray cluster at ``ray`` (``host:port``, ``auto`` or ``local``).

    ``model`` must be a path every node can read (default: the shipped model of each node's install).
    ``segment`` and ``reading``: a ``SegmentConfig`` and ``ReadingConfig`` (default: the defaults).
    ``workers``: file workers (default one per CPU of the cluster, less one per live source).
    ``max_frames``: stop each source after that many frames (a folder: its first that many images). The
    sources are checked now (``SourceError``), the cluster is joined when iteration starts. ``Reader().stream(..., ray=ADDRESS)``
    calls this with the reader's settings.
    """
    from livedigits.cluster.connect import check_address
    from livedigits.cluster.driver import ClusterRun
    from livedigits.cluster.plan import make_plan
    from livedigits.cluster.workers import Settings
    from livedigits.errors import UsageError
    from livedigits.reading.numbers import DEFAULT_READING
    from livedigits.util.extras import require_ray
    from livedigits.vision.segment import DEFAULT_CONFIG

    require_ray("reading on a Ray cluster")
    check_address(ray)
    if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 1):
        raise UsageError(f"max_frames must be 1 or more, got {max_frames!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise UsageError(f"workers must be 1 or more, got {workers!r}")
    specs: list = []
    for item in sources or (0,):
        specs.extend(item if isinstance(item, (list, tuple)) else [item])
    plan = make_plan([os.fspath(spec) if isinstance(spec, os.PathLike) else spec for spec in specs], max_frames=max_frames)
    settings = Settings(backend, os.fspath(model) if model is not None else None, device,
                        segment if segment is not None else DEFAULT_CONFIG,
                        reading if reading is not None else DEFAULT_READING)
    return ClusterStream(ray, ClusterRun(plan, settings, workers=workers, max_frames=max_frames))


__all__ = ["ClusterStream", "stream"]

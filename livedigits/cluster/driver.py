"""The driver: hands the files of a :class:`~livedigits.cluster.plan.Plan` to one worker actor per CPU,
runs an actor per live source, and brings every result back, in order within each source (a folder's
images in the folder's order, a video's frames in frame order).

Nothing is lost and nothing is read twice. A file is given to one worker at a time; its result is
delivered when the worker's answer arrives, and only then. When a worker or its node dies, the files it
held go back to the front of the queue and the other workers read them (a video is read again from its
start and only the frames not yet delivered are sent), and a new worker is started where the cluster
has room. Each result is delivered once: an answer for a file already delivered is dropped.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

from livedigits.cluster.plan import STILL, Item, Live, Plan
from livedigits.cluster.workers import FileReader, LiveReader, Settings, StillDone
from livedigits.errors import LivedigitsError
from livedigits.types import FrameResult

log = logging.getLogger(__name__)

#: Files a worker holds at once: the one it reads and the next, so it never waits for the driver.
PIPELINE = 2
#: A file whose worker died this many times is given up (reported, the run ends with status 1): a file
#: that kills every worker that reads it must not take the whole cluster down one node at a time.
MAX_ATTEMPTS = 3
#: How long the driver waits for any answer before it looks at its stop flag and its workers again.
WAIT_S = 0.5
#: With files left and no worker placed for this long, the cluster has no room for any: an error, not a hang.
START_TIMEOUT_S = 120.0
#: Restarts Ray makes of a live source's actor (on any node) before the source is given up.
LIVE_MAX_RESTARTS = 5
#: Seconds between a live source's lost worker and asking its restarted actor to read on.
LIVE_RETRY_S = 2.0


class ClusterError(LivedigitsError):
    """The cluster could not do the work: no worker could start, or a file killed every worker it met."""

    exit_code = 1


@dataclass
class NodeStats:
    """One node's share of a run: ``files`` finished there, ``frames`` (records) read there."""

    node: str
    address: str = ""
    files: int = 0
    frames: int = 0


@dataclass
class ClusterSummary:
    """What a cluster run did: files and frames read, files skipped as unreadable or given up, files read
    again after a worker was lost, per-node figures, wall ``seconds`` from the first file handed out."""

    files: int = 0
    frames: int = 0
    unreadable: int = 0
    failed: int = 0
    reread: int = 0
    resumed: int = 0
    workers: int = 0
    seconds: float = 0.0
    ended_by: str = "end of sources"
    nodes: dict[str, NodeStats] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    """Sources that failed (a video that cannot be opened, a stream lost for good): name -> why."""

    def text(self) -> str:
        rate = self.frames / self.seconds if self.seconds > 0 else 0.0
        lines = [f"cluster: {count(self.files, 'file')}, {count(self.frames, 'frame')} in {self.seconds:.1f} s "
                 f"({rate:.1f} frames/s) on {count(len(self.nodes), 'node')} by {count(self.workers, 'worker')}; "
                 f"ended by {self.ended_by}"]
        for stats in sorted(self.nodes.values(), key=lambda s: -s.frames):
            share = stats.frames / self.seconds if self.seconds > 0 else 0.0
            where = f" ({stats.address})" if stats.address else ""
            lines.append(f"  node {stats.node[:12]}{where}: {count(stats.files, 'file')}, "
                         f"{count(stats.frames, 'frame')}, {share:.1f} frames/s")
        if self.reread:
            lines.append(f"read again after a worker was lost: {count(self.reread, 'file')}")
        if self.resumed:
            lines.append(f"resumed: {count(self.resumed, 'file')} already in the output, skipped")
        if self.unreadable:
            lines.append(f"skipped {count(self.unreadable, 'unreadable image')}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


@dataclass(frozen=True)
class Delivery:
    """One result for the caller: the :class:`FrameResult` (its frame without pixels, ``node`` set) and,
    when pictures were asked for, the annotated still as PNG bytes."""

    result: FrameResult
    picture: bytes | None = None


class _Worker:
    def __init__(self, actor, ready_ref) -> None:
        self.actor = actor
        self.ready_ref = ready_ref
        self.node = ""
        self.calls = 0
        self.alive = True


class _Call:
    """One item handed to one worker: its answer (an ObjectRef for a still, a generator for a video)."""

    def __init__(self, item: Item, worker: _Worker, ref, sent: int) -> None:
        self.item = item
        self.worker = worker
        self.ref = ref
        self.sent = sent  # video: frames delivered so far (this attempt and the ones before)


class _LiveRun:
    def __init__(self, live: Live, actor) -> None:
        self.live = live
        self.actor = actor
        self.ref = None
        self.sent = 0
        self.next_index = 0
        self.failures = 0
        self.retry_at: float | None = None  # when its worker was lost: when to ask the restarted one

    @property
    def active(self) -> bool:
        return self.ref is not None or self.retry_at is not None


class ClusterRun:
    """Iterate the :class:`Delivery` items of a plan read on the connected Ray cluster (``ray.init`` done).

    ``workers``: file workers (default: one per CPU of the cluster, less one per live source).
    ``max_frames``: stop each video and live source after that many frames. ``stop()`` (any thread) ends
    the run after the current answers; ``summary`` says what was done. ``on_file`` is called once per
    file finished, for a progress bar. ``fail_fast``: a video or live source that fails is raised at once
    (default: named in ``summary.failures``, the others read on).
    """

    def __init__(self, plan: Plan, settings: Settings, *, workers: int | None = None, max_frames: int | None = None,
                 live_options: dict | None = None, on_file=None, fail_fast: bool = False) -> None:
        self.plan = plan
        self.fail_fast = fail_fast
        self.settings = settings
        self.workers_wanted = workers
        self.max_frames = max_frames
        self.live_options = live_options or {}
        self.on_file = on_file
        self.summary = ClusterSummary(resumed=plan.resumed)
        self._stop = threading.Event()
        self._flag = None
        self._addresses: dict[str, str] = {}
        # Still images are delivered in their source's order (see _release).
        self._order: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        for item in plan.items:
            if item.kind == STILL:
                self._order[item.label].append(item.index)
        self._held: dict[str, dict] = collections.defaultdict(dict)

    def stop(self, reason: str = "stopped") -> None:
        if not self._stop.is_set():
            self.summary.ended_by = reason
            self._stop.set()

    def stopping_on(self, flag) -> Iterator[Delivery]:
        """Iterate, ending as :meth:`stop` would when ``flag`` (a :class:`~livedigits.engine.loop.StopFlag`:
        Ctrl-C, SIGTERM) is set."""
        self._flag = flag
        return iter(self)

    def _stopped(self) -> bool:
        if self._flag is not None and self._flag:
            self.stop(self._flag.reason)
        return self._stop.is_set()

    def __iter__(self) -> Iterator[Delivery]:
        import ray

        self._addresses = {node["NodeID"]: node.get("NodeManagerAddress", "") for node in ray.nodes()}
        file_actor = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(FileReader)
        live_actor = ray.remote(num_cpus=1, max_restarts=LIVE_MAX_RESTARTS, max_task_retries=0)(LiveReader)
        queue = collections.deque(self.plan.items)
        attempts: collections.Counter = collections.Counter()
        delivered: set[tuple] = set()
        workers: list[_Worker] = []
        calls: dict[object, _Call] = {}
        lives = [_LiveRun(live, live_actor.options(scheduling_strategy="SPREAD").remote(self.settings))
                 for live in self.plan.live]
        wanted = self._worker_count(ray) if queue else 0
        self.summary.workers = wanted

        def start_worker() -> None:
            actor = file_actor.options(scheduling_strategy="SPREAD").remote(self.settings)
            workers.append(_Worker(actor, actor.ready.remote()))

        for _ in range(wanted):
            start_worker()
        started = time.monotonic()
        waiting_since = started
        try:
            for run in lives:
                self._call_live(run)
            while (queue or calls or any(run.active for run in lives)) and not self._stopped():
                for run in lives:
                    if run.retry_at is not None and time.monotonic() >= run.retry_at:
                        run.retry_at = None
                        self._call_live(run)
                ready_workers = [w for w in workers if w.alive and w.ready_ref is None]
                for worker in sorted(ready_workers, key=lambda w: w.calls):
                    while queue and worker.calls < PIPELINE:
                        item = queue.popleft()
                        if item.key in delivered:
                            continue
                        ref = (worker.actor.read_still.remote(item.label, item.index, item.path) if item.kind == STILL
                               else worker.actor.read_video.remote(item.label, item.path, item.skip, self.max_frames))
                        calls[ref] = _Call(item, worker, ref, item.skip)
                        worker.calls += 1
                if queue and not ready_workers:
                    if time.monotonic() - waiting_since > START_TIMEOUT_S:
                        raise ClusterError(f"no worker could start on the cluster in {START_TIMEOUT_S:.0f} s with "
                                           f"{len(queue)} files left; does it have a free CPU? (`ray status`)")
                else:
                    waiting_since = time.monotonic()
                starting = {w.ready_ref: w for w in workers if w.alive and w.ready_ref is not None}
                live_refs = {run.ref: run for run in lives if run.ref is not None}
                pending = [*starting, *calls, *live_refs]
                if not pending:
                    if any(run.active for run in lives):
                        time.sleep(WAIT_S)  # a live source waits for its restarted worker
                        continue
                    break
                done, _ = ray.wait(pending, num_returns=1, timeout=WAIT_S)
                if done and len(pending) > 1:  # and every other answer already there, in one pass
                    done, _ = ray.wait(pending, num_returns=len(pending), timeout=0)
                for ref in done:
                    if ref in starting:
                        if not self._worker_ready(ray, starting[ref]) and sum(w.alive for w in workers) < wanted:
                            start_worker()
                        continue
                    if ref in live_refs:
                        yield from self._live_answer(ray, live_refs[ref])
                        continue
                    call = calls[ref]
                    outcome = yield from self._answer(ray, call, delivered)
                    if outcome == "more":
                        continue
                    del calls[ref]
                    call.worker.calls -= 1
                    if outcome == "lost":
                        call.worker.alive = False
                        ray.kill(call.worker.actor, no_restart=True)
                        attempts[call.item.key] += 1
                        if attempts[call.item.key] >= MAX_ATTEMPTS:
                            self.summary.failed += 1
                            self.summary.warnings.append(f"{call.item.path}: given up after {MAX_ATTEMPTS} workers "
                                                         "died reading it")
                            delivered.add(call.item.key)
                            if call.item.kind == STILL:  # the images after it in its source go on
                                self._held[call.item.label][call.item.index] = None
                                yield from self._release(call.item.label)
                        else:
                            self.summary.reread += 1
                            queue.appendleft(Item(call.item.kind, call.item.label, call.item.path, call.item.index,
                                                  call.sent))
                        if sum(w.alive for w in workers) < wanted:
                            start_worker()
        finally:
            self.summary.seconds = time.monotonic() - started
            for ref in list(calls) + [run.ref for run in lives if run.ref is not None]:
                try:
                    ray.cancel(ref, force=False)
                except Exception:  # noqa: BLE001 - already finished or its worker gone: nothing to cancel
                    pass
            for actor in [w.actor for w in workers] + [run.actor for run in lives]:
                ray.kill(actor, no_restart=True)
            if self.summary.failed:
                raise ClusterError(f"{self.summary.failed} file{'s' if self.summary.failed != 1 else ''} could not be "
                                   "read: every worker that tried died (see the warnings)")

    # -- workers

    def _worker_count(self, ray) -> int:
        if self.workers_wanted:
            return self.workers_wanted
        cpus = int(ray.cluster_resources().get("CPU", 1))
        return max(1, min(cpus - len(self.plan.live), len(self.plan.items)))

    def _worker_ready(self, ray, worker: _Worker) -> bool:
        """Take a worker's first answer: True when it is placed and ready for files."""
        ref, worker.ready_ref = worker.ready_ref, None
        try:
            worker.node, _backend = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            if exc.actor_init_failed:
                raise ClusterError(f"a worker could not start: {_last_line(exc)}") from None
            worker.alive = False  # its node went away before it was placed
            return False
        self._node(worker.node)
        return True

    def _node(self, node: str):
        stats = self.summary.nodes.get(node)
        if stats is None:
            stats = self.summary.nodes[node] = NodeStats(node, self._addresses.get(node, ""))
        return stats

    # -- answers

    def _answer(self, ray, call: _Call, delivered: set):
        """Deliver what ``call`` answered. Returns "done" (the file is finished), "more" (a video with more
        to come) or "lost" (its worker died: the file goes back in the queue)."""
        item = call.item
        if item.kind == STILL:
            try:
                answer: StillDone = ray.get(call.ref)
            except ray.exceptions.RayTaskError as exc:
                raise ClusterError(f"reading {item.path} failed on the cluster: {_last_line(exc)}") from None
            except ray.exceptions.RayError:
                return "lost"
            if item.key in delivered:
                return "done"
            delivered.add(item.key)
            if answer.unreadable is not None:
                self.summary.unreadable += 1
                self.summary.warnings.append(f"skipped unreadable image {item.path}")
            self._held[item.label][item.index] = (None if answer.unreadable is not None
                                                  else Delivery(answer.result, answer.picture))
            yield from self._release(item.label)
            return "done"
        try:
            chunk_ref = next(call.ref)
            chunk = ray.get(chunk_ref)
        except StopIteration:
            delivered.add(item.key)
            self._count(None, file_done=True, node=call.worker.node)
            self._file_done()
            return "done"
        except ray.exceptions.RayTaskError as exc:
            self._source_failed(item.path, exc)  # a damaged video: said, and the others are read
            delivered.add(item.key)
            self._file_done()
            return "done"
        except ray.exceptions.RayError:
            return "lost"
        if chunk and isinstance(chunk[0], str):
            self.summary.warnings.extend(chunk)
            return "more"
        for result in chunk:
            if result.frame.index < call.sent:
                continue  # delivered by an earlier attempt
            call.sent = result.frame.index + 1
            self._count(result)
            yield Delivery(result)
        return "more"

    def _release(self, label: str) -> Iterator[Delivery]:
        """The still images of source ``label`` answered so far, in the source's order: each is held until
        every image before it is delivered (a few per worker at most, as files are handed out in order)."""
        order, held = self._order[label], self._held[label]
        while order and order[0] in held:
            delivery = held.pop(order.popleft())
            if delivery is not None:
                self._count(delivery.result, file_done=True)
                yield delivery
            self._file_done()

    def _source_failed(self, name: str, exc) -> None:
        """A video or live source that failed on its worker with one of our errors (it cannot be opened or
        read): raised at once with ``fail_fast``, else named in ``summary.failures`` while the other
        sources are read, as a local run does. Any other exception is a bug: raised."""
        cause = getattr(exc, "cause", None)
        if not isinstance(cause, LivedigitsError):
            raise ClusterError(f"reading {name} failed on the cluster: {_last_line(exc)}") from None
        if self.fail_fast:
            raise cause
        self.summary.failures[name] = str(cause)

    def _count(self, result: FrameResult | None, file_done: bool = False, node: str | None = None) -> None:
        stats = self._node(result.node if result is not None else node)
        if result is not None:
            stats.frames += 1
            self.summary.frames += 1
        if file_done:
            stats.files += 1
            self.summary.files += 1

    def _file_done(self) -> None:
        if self.on_file is not None:
            self.on_file()

    # -- live sources

    def _call_live(self, run: _LiveRun) -> None:
        limit = None if self.max_frames is None else self.max_frames - run.sent
        if limit is not None and limit <= 0:
            run.ref = None
            return
        run.ref = run.actor.read_live.remote(run.live.label, run.live.spec, run.next_index, limit,
                                             **self.live_options)

    def _live_answer(self, ray, run: _LiveRun):
        try:
            chunk = ray.get(next(run.ref))
        except StopIteration:
            run.ref = None
            return
        except ray.exceptions.RayTaskError as exc:
            self._source_failed(run.live.label, exc)
            run.ref = None
            return
        except ray.exceptions.RayError as exc:
            run.failures += 1
            if run.failures > LIVE_MAX_RESTARTS:
                why = f"{run.live.label}: its worker was lost {run.failures} times ({_last_line(exc)})"
                if self.fail_fast:
                    raise ClusterError(why) from None
                self.summary.failures[run.live.label] = why
                run.ref = None
                return
            log.warning("%s: its worker was lost; reading it again where Ray restarts it", run.live.label)
            # Ray restarts the actor on a node with room; ask it again in a moment, not in a tight loop.
            run.ref, run.retry_at = None, time.monotonic() + LIVE_RETRY_S
            return
        for result in chunk:
            run.sent += 1
            run.next_index = result.frame.index + 1
            self._count(result)
            yield Delivery(result)


def count(n: int, word: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _last_line(exc: BaseException) -> str:
    """The last meaningful line of a Ray error (the original exception's type and message)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__

"""Prometheus metrics of the server, in a registry of its own (one per app, so tests can make many).

prometheus_client writes the text exposition format and does the histogram bookkeeping: what a
Prometheus server or Grafana agent scraping ``/metrics`` expects, without us re-implementing it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401 - re-exported for the app

from livedigits import __version__

#: Seconds. Frame work runs in milliseconds; a stalled frame shows up in the top buckets.
LATENCY_BUCKETS = (0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.033, 0.05, 0.1, 0.25, 0.5, 1.0)
PREDICT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.frames = Counter("livedigits_frames_processed", "Frames recognised by the live pipeline", registry=r)
        self.frames_dropped = Counter("livedigits_frames_dropped",
                                      "Frames the source dropped because newer ones arrived first", registry=r)
        self.latency = Histogram("livedigits_frame_latency_seconds",
                                 "From frame capture to its result (end to end)", buckets=LATENCY_BUCKETS, registry=r)
        self.stage = Histogram("livedigits_stage_seconds", "Time per pipeline stage and frame", ["stage"],
                               buckets=LATENCY_BUCKETS, registry=r)
        self.detections = Counter("livedigits_digits_read", "Digits read in live frames", registry=r)
        # Per source (label ``source``: its name in the URLs, /stream/NAME.mjpg): with several sources an
        # unlabelled gauge cannot say which one is down.
        self.source_up = Gauge("livedigits_source_up", "1 while the source delivers frames, else 0", ["source"],
                               registry=r)
        self.reconnects = Counter("livedigits_source_reconnects", "Times the source came back after it was lost",
                                  ["source"], registry=r)
        self.failed_tries = Counter("livedigits_source_failed_tries",
                                    "Tries to open or reopen the source that failed, and losses", ["source"], registry=r)
        self.viewers = Gauge("livedigits_stream_viewers", "Open /stream.mjpg connections", registry=r)
        self.subscribers = Gauge("livedigits_feed_subscribers", "Open /events connections", registry=r)
        self.model_loaded = Gauge("livedigits_model_loaded", "1 once the model is loaded", registry=r)
        self.predict_requests = Counter("livedigits_predict_requests", "POST /api/predict requests by HTTP status",
                                        ["status"], registry=r)
        self.predict_seconds = Histogram("livedigits_predict_seconds", "POST /api/predict time to answer",
                                         buckets=PREDICT_BUCKETS, registry=r)
        self.info = Info("livedigits", "Version and backend", registry=r)
        self._described = {"version": __version__}
        self.info.info(self._described)

    def describe(self, **labels: str) -> None:
        """Add labels to ``livedigits_info`` (``Info.info`` replaces them all: the version must stay)."""
        self._described = {**self._described, **labels}
        self.info.info(self._described)

    def observe_frame(self, result) -> None:
        self.frames.inc()
        self.latency.observe(max(0.0, result.latency_ms) / 1e3)
        for stage, ms in result.timings.items():
            self.stage.labels(stage).observe(ms / 1e3)
        self.detections.inc(len(result.detections))

    def render(self) -> bytes:
        return generate_latest(self.registry)

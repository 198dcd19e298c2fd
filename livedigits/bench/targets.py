"""The issue's speed and memory targets, and which of them one bench run met.

They are reported, never asserted: machines are shared and noisy.
"""

from __future__ import annotations

#: Milliseconds unless the name says otherwise (seconds, MB, frames, a ratio).
TARGET_PROCESSING_640 = {"p50": 5.0, "p95": 10.0}
TARGET_PROCESSING_1280_P50 = 12.0
TARGET_CLASSIFY_64_P50 = 3.0
TARGET_NAIVE_RATIO = 100.0
TARGET_REALTIME_E2E_P95 = 33.0
TARGET_STARTUP_S = 3.0
TARGET_RSS_GROWTH_MB = 20.0
TARGET_RSS_FRAMES = 10_000


def check_targets(report) -> list[dict]:
    """The issue's targets that ``report`` (a :class:`~livedigits.bench.report.BenchReport`) can speak to:
    ``name, backend, measured, target, met``."""
    checks = []

    def add(name, backend, measured, target, met, note=""):
        checks.append({"name": name, "backend": backend, "measured": measured, "target": target,
                       "met": met, "note": note})

    size = tuple(report.source["size"])
    for result in report.backends:
        b = result.backend
        processing = result.latency_ms["processing"]
        if processing["n"]:
            if size == (640, 480):
                for key, limit in TARGET_PROCESSING_640.items():
                    add(f"processing {key} at 640x480", b, processing[key], f"<= {limit:g} ms", processing[key] <= limit)
            if size == (1280, 720):
                add("processing p50 at 1280x720", b, processing["p50"], f"<= {TARGET_PROCESSING_1280_P50:g} ms",
                    processing["p50"] <= TARGET_PROCESSING_1280_P50)
        if result.classify_batch and result.classify_batch.get("p50") is not None and result.classify_batch["batch"] == 64:
            p50 = result.classify_batch["p50"]
            add("classify 64 crops p50", b, p50, f"<= {TARGET_CLASSIFY_64_P50:g} ms", p50 <= TARGET_CLASSIFY_64_P50)
        if report.naive and b in report.naive.get("ours", {}):
            ratio = report.naive["ours"][b]["ratio"]
            add("faster per frame than naive", b, ratio, f">= {TARGET_NAIVE_RATIO:g}x",
                ratio is not None and ratio >= TARGET_NAIVE_RATIO, f"on {report.naive['frames']} frames")
        if report.options.get("realtime") and report.source.get("fps"):
            e2e = result.latency_ms["e2e"]["p95"]
            add("realtime e2e p95", b, e2e, f"<= {TARGET_REALTIME_E2E_P95:g} ms",
                e2e is not None and e2e <= TARGET_REALTIME_E2E_P95, f"frame interval {1000 / report.source['fps']:.1f} ms")
        growth = result.memory.get("rss_growth_mb")
        if growth is not None:
            enough = result.frames >= TARGET_RSS_FRAMES
            add("RSS growth", b, growth, f"< {TARGET_RSS_GROWTH_MB:g} MB over {TARGET_RSS_FRAMES} frames",
                (growth < TARGET_RSS_GROWTH_MB) if enough else None,
                "" if enough else f"only {result.frames} frames: run --frames {TARGET_RSS_FRAMES} to judge")
    for b, data in (report.startup or {}).items():
        median = data.get("median_first_result_s")
        add("startup to first result", b, median, f"<= {TARGET_STARTUP_S:g} s",
            median is not None and median <= TARGET_STARTUP_S)
    return checks

"""Summary statistics shared by the run summary, the web status and ``livedigits bench``."""

from __future__ import annotations

import numpy as np


def percentiles(values) -> dict[str, float | int | None]:
    """p50 / p95 / p99 / max / mean and ``n``, the count of the finite values (NaN means "not measured"
    and is left out). With no finite value every statistic is None and ``n`` is 0."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None, "n": 0}
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "max": float(arr.max()),
            "mean": float(arr.mean()), "n": int(arr.size)}

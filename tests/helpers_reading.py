"""Test helpers for the reading stage: classifier output written by hand."""

from __future__ import annotations

import numpy as np


def class_rows(rows) -> np.ndarray:
    """One row of 11 class probabilities (ten digits and "not a digit") per ``(class, probability)`` pair in
    ``rows``, the rest of each row spread evenly over the other classes."""
    out = []
    for label, p in rows:
        row = np.full(11, (1.0 - p) / 10, np.float32)
        row[label] = p
        out.append(row)
    return np.stack(out)

"""How a reading run ends on the command line, whether it ran here or on a cluster: its failed sources
said last, and its exit code."""

from __future__ import annotations

import sys

from livedigits.errors import SourceError


def say_failures(summary) -> None:
    """Each failed source as the run's last lines, one error line each (what a script reads)."""
    for label, why in summary.failures.items():
        print(f"livedigits: error: {why if label in why else f'{label}: {why}'}", file=sys.stderr)


def run_exit_code(summary) -> int:
    """0, or 5 when a source failed (lost, stalled): said at the end, after the others finished."""
    return SourceError.exit_code if summary.failures else 0

"""``livedigits stress``: read hundreds of generated hard pages per phenomenon and total the figures.

The pages come from :mod:`livedigits.synth.stress` (one phenomenon of issue 19 alone, a plain page, or all
at random); each is read as ``livedigits run IMAGE`` reads a still and scored by
:func:`livedigits.reading.score.score`. Per row of the table: digits found (recall, and precision with
printed digits left out), digits read right, numbers read exactly, scenes fully right, blank pages (3 or
more true digits, 10% or fewer found), letters or printed words read as digits, printed digits read (and
how many of them the reader marked ``printed``), handwritten digits marked ``printed``.

Example::

    from livedigits.bench.stress import measure, pipeline_reader, table_text
    print(table_text(measure(pipeline_reader(), rows=("shadow", "table"), seeds=50)))
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from livedigits.synth import scenes
from livedigits.synth.stress import PHENOMENA, STRESS_SIZE, stress_scene

#: Detections matched to this share of the true digits or fewer make a "blank page" (>= 3 true digits).
BLANK_SHARE = 0.1
BLANK_MIN_DIGITS = 3
#: Rows of the table besides the phenomena: a plain page, and every phenomenon at random together.
BASELINE_ROWS = ("none", "mixed")


@dataclass
class Tally:
    """Counts over the scenes of one row of ``measure``'s table."""

    scenes: int = 0
    true_digits: int = 0
    found: int = 0  # detections matched to a true digit (IoU >= score.DIGIT_IOU)
    right: int = 0  # of those, read as the right digit
    detections: int = 0
    on_printed: int = 0  # detections on printed digits (not handwriting: left out of precision)
    on_letters: int = 0  # detections on handwritten letters or printed words
    printed_marked: int = 0  # of the detections on printed digits, those marked "printed"
    hand_marked: int = 0  # detections on true handwritten digits marked "printed" (wrongly)
    true_numbers: int = 0
    exact_numbers: int = 0
    fully_right: int = 0
    blank: int = 0
    seconds: float = 0.0  # reading time, all scenes

    def add(self, counts: dict) -> None:
        for key, value in counts.items():
            setattr(self, key, getattr(self, key) + value)

    def figures(self) -> dict:
        def ratio(a, b):
            return a / b if b else None

        return {"scenes": self.scenes, "digit_recall": ratio(self.found, self.true_digits),
                "digit_precision": ratio(self.found, self.detections - self.on_printed),
                "digits_right": ratio(self.right, self.true_digits), "numbers_exact": ratio(self.exact_numbers, self.true_numbers),
                "fully_right": self.fully_right, "blank_pages": self.blank, "letters_read": self.on_letters,
                "printed_read": self.on_printed, "printed_marked": self.printed_marked,
                "handwriting_marked_printed": self.hand_marked, "true_digits": self.true_digits, "true_numbers": self.true_numbers,
                "read_ms": ratio(1000 * self.seconds, self.scenes)}


def score_scene(record: dict, truth: dict) -> dict:
    """Counts for one scene read as ``record`` (a ``FrameResult.to_record()``), by ``reading.score.score``."""
    from livedigits.reading.score import score

    def marks_of(kinds):
        return scenes.truth_document(dict(truth, marks=[m for m in truth["marks"] if m["kind"] in kinds]), "stress")

    full = score([record], scenes.truth_document(truth, "stress"))
    printed = score([record], marks_of({"printed_digit"}))["mark_detections"]
    letters = score([record], marks_of({"letter", "printed_text"}))["mark_detections"]
    marked = dict(record, detections=[d for d in record.get("detections", []) if d.get("printed")])
    printed_marked = score([marked], marks_of({"printed_digit"}))["mark_detections"] if marked["detections"] else 0
    hand_marked = score([marked], scenes.truth_document(truth, "stress"))["matched_digits"] if marked["detections"] else 0
    stray = full["detections"] - full["matched_digits"] - printed  # anything read that is not handwriting or print
    fully = (full["correct_digits"] == full["true_digits"] and full["correct_numbers"] == full["true_numbers"] and stray == 0)
    blank = full["true_digits"] >= BLANK_MIN_DIGITS and full["matched_digits"] <= BLANK_SHARE * full["true_digits"]
    return {"scenes": 1, "true_digits": full["true_digits"], "found": full["matched_digits"], "right": full["correct_digits"],
            "detections": full["detections"], "on_printed": printed, "on_letters": letters,
            "printed_marked": printed_marked, "hand_marked": hand_marked,
            "true_numbers": full["true_numbers"], "exact_numbers": full["correct_numbers"], "fully_right": int(fully),
            "blank": int(blank)}


def row_scene(row: str, seed: int, size: tuple[int, int] = STRESS_SIZE, hands: tuple[str, ...] = ()) -> tuple[np.ndarray, dict]:
    """Scene ``seed`` of a table row: a phenomenon alone, ``none`` (a plain page) or ``mixed`` (all at random);
    written in one of ``hands`` (font files) where given."""
    if row == "mixed":
        return stress_scene(seed, size=size, hands=hands)
    return stress_scene(seed, only=() if row == "none" else (row,), size=size, hands=hands)


def check_rows(rows: Iterable[str]) -> tuple[str, ...]:
    rows = tuple(rows)
    bad = [r for r in rows if r not in PHENOMENA and r not in BASELINE_ROWS]
    if bad:
        raise ValueError(f"unknown phenomenon {', '.join(map(repr, bad))}; choose from {', '.join((*BASELINE_ROWS, *PHENOMENA))}")
    return rows


def measure(read: Callable[[np.ndarray], dict], rows: Iterable[str] = (*BASELINE_ROWS, *PHENOMENA), seeds: int = 200,
            start: int = 0, size: tuple[int, int] = STRESS_SIZE, progress: Callable[[str, int, int], None] | None = None,
            failed: Callable[[str, int, np.ndarray, dict, dict], None] | None = None, hands: tuple[str, ...] = ()) -> dict:
    """Read ``seeds`` scenes of each row with ``read(image) -> record`` and total them: ``{row: Tally}``.

    Seeds ``start .. start + seeds - 1`` in every row, so rows compare the same pages where they can.
    ``failed(row, seed, image, truth, record)`` is called for each scene not fully right. ``hands``: font
    files every page is written in instead of the held-out writers (``train.writers.other_hands``)."""
    rows = check_rows(rows)
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    out = {}
    for row in rows:
        tally = Tally()
        for k, seed in enumerate(range(start, start + seeds)):
            image, truth = row_scene(row, seed, size, hands)
            began = time.perf_counter()
            record = read(image)
            tally.seconds += time.perf_counter() - began
            counts = score_scene(record, truth)
            tally.add(counts)
            if failed is not None and not counts["fully_right"]:
                failed(row, seed, image, truth, record)
            if progress is not None:
                progress(row, k + 1, seeds)
        out[row] = tally
    return out


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


TABLE_HEADER = ("| phenomenon | scenes | digits found (recall / precision) | digits read right | numbers exact "
                "| fully right | blank pages | letters read as digits | printed digits read (marked printed) "
                "| handwriting marked printed |")


def table_text(results: dict) -> str:
    """``measure``'s totals as a Markdown table, one row per phenomenon."""
    lines = [TABLE_HEADER, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row, tally in results.items():
        f = tally.figures()
        lines.append(f"| {row} | {f['scenes']} | {_percent(f['digit_recall'])} / {_percent(f['digit_precision'])} "
                     f"| {_percent(f['digits_right'])} | {_percent(f['numbers_exact'])} | {f['fully_right']}/{f['scenes']} "
                     f"| {f['blank_pages']} | {f['letters_read']} | {f['printed_read']} ({f['printed_marked']}) "
                     f"| {f['handwriting_marked_printed']} |")
    return "\n".join(lines)


def pipeline_reader(backend: str = "auto", model: str | None = None) -> Callable[[np.ndarray], dict]:
    """``read(image) -> record``: what ``livedigits run IMAGE`` does to a still (the shipped model, a
    ``Recognizer`` with ``smooth=False``, one per image)."""
    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer
    from livedigits.types import Frame

    classifier = load_classifier(backend, model)

    def read(image: np.ndarray) -> dict:
        return Recognizer(classifier, smooth=False).process(Frame(0, 0.0, image)).to_record()

    return read


def scene_saver(folder, limit: int = 10) -> Callable[[str, int, np.ndarray, dict, dict], None]:
    """A ``measure(failed=...)`` that writes up to ``limit`` failed scenes a row into ``folder``:
    ``ROW-SEED.png`` (the scene), ``.json`` (its truth, for ``livedigits score``), ``.jsonl`` (what was read)
    and ``_truth.png`` (the truth drawn)."""
    import json
    from pathlib import Path

    import cv2

    from livedigits.synth.render import draw_truth

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    saved: dict[str, int] = {}

    def save(row: str, seed: int, image: np.ndarray, truth: dict, record: dict) -> None:
        if saved.get(row, 0) >= limit:
            return
        saved[row] = saved.get(row, 0) + 1
        stem = folder / f"{row}-{seed}"
        cv2.imwrite(str(stem.with_suffix(".png")), image)
        cv2.imwrite(str(folder / f"{row}-{seed}_truth.png"), draw_truth(image, truth))
        stem.with_suffix(".json").write_text(json.dumps(scenes.truth_document(truth, stem.name + ".png")) + "\n")
        stem.with_suffix(".jsonl").write_text(json.dumps(record) + "\n")

    return save

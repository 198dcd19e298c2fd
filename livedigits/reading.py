"""From per-crop probabilities to what a person reads: digits, numbers, stable labels.

``decide`` turns probabilities into detections (dropping "not a digit" and low
confidence), ``Tracker`` keeps labels steady across frames, ``group_numbers``
joins digits along a line into numbers in reading order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .types import NOT_A_DIGIT, Candidate, Detection, Number



@dataclass(frozen=True)
class ReadingConfig:
    min_confidence: float = 0.6
    """A crop is reported as a digit only when its (smoothed) top digit probability reaches this."""
    same_line_overlap: float = 0.5
    """Two digits are on one line when their vertical overlap is at least this share of the shorter."""
    max_height_ratio: float = 1.8
    """Digits of one number have heights within this ratio."""
    max_gap: float = 0.75
    """Largest horizontal gap between neighbouring digits of one number, in digit heights."""
    track_iou: float = 0.3
    """A box in the new frame continues a track when it overlaps the track's last box this much."""
    smoothing: float = 0.5
    """Weight of the newest frame in the running average of a track's probabilities (1 = no smoothing).
    0.5 lets a changed page win within two or three frames."""
    max_missed: int = 3
    """Frames a track survives unseen (a blink of the hand) before it is dropped."""


DEFAULT_READING = ReadingConfig()


def decide(candidates: list[Candidate], probabilities: np.ndarray, config: ReadingConfig = DEFAULT_READING) -> list[Detection]:
    """One detection per candidate read as a digit with enough confidence."""
    detections = []
    for candidate, probs in zip(candidates, probabilities):
        digit = int(np.argmax(probs))
        confidence = float(probs[digit])
        if digit == NOT_A_DIGIT or confidence < config.min_confidence:
            continue
        detections.append(Detection(box=candidate.box, digit=digit, confidence=confidence))
    return detections


class Tracker:
    """Steady labels across frames: boxes are matched to tracks by IoU, probabilities averaged per track.

    Works on probabilities rather than labels, so a digit that reads 7 at 0.9 and 1 at 0.55 in one blurred
    frame stays a 7, while a page that really changes takes over within a few frames.
    """

    def __init__(self, config: ReadingConfig = DEFAULT_READING):
        self.config = config
        self._tracks: list[dict] = []

    def reset(self) -> None:
        self._tracks = []

    def update(self, candidates: list[Candidate], probabilities: np.ndarray) -> np.ndarray:
        """Return the smoothed probabilities for this frame's candidates (same order and shape)."""
        cfg = self.config
        smoothed = np.array(probabilities, dtype=np.float32, copy=True)
        used_c, used_t = set(), set()
        if candidates and self._tracks:
            iou = _iou_matrix(
                np.array([c.box.as_list() for c in candidates], np.float32),
                np.array([t["box"].as_list() for t in self._tracks], np.float32),
            )
            # Greedy one-to-one matching, best overlap first.
            for flat in np.argsort(-iou, axis=None):
                ci, ti = divmod(int(flat), iou.shape[1])
                if iou[ci, ti] < cfg.track_iou:
                    break
                if ci in used_c or ti in used_t:
                    continue
                used_c.add(ci)
                used_t.add(ti)
                track = self._tracks[ti]
                if track["probs"].shape == smoothed[ci].shape:
                    smoothed[ci] = cfg.smoothing * smoothed[ci] + (1.0 - cfg.smoothing) * track["probs"]
                track.update(box=candidates[ci].box, probs=smoothed[ci], missed=0)
        survivors = []
        for ti, track in enumerate(self._tracks):
            if ti not in used_t:
                track["missed"] += 1
            if track["missed"] <= cfg.max_missed:
                survivors.append(track)
        for ci, candidate in enumerate(candidates):
            if ci not in used_c:
                survivors.append({"box": candidate.box, "probs": smoothed[ci], "missed": 0})
        self._tracks = survivors
        return smoothed


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4), boxes as x, y, w, h."""
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def _same_number(a: Detection, b: Detection, config: ReadingConfig) -> bool:
    """Is ``b`` (to the right of ``a``) the next digit of the same number?"""
    ha, hb = a.box.h, b.box.h
    overlap = min(a.box.y2, b.box.y2) - max(a.box.y, b.box.y)
    if overlap < config.same_line_overlap * min(ha, hb):
        return False
    if max(ha, hb) > config.max_height_ratio * min(ha, hb):
        return False
    gap = b.box.x - a.box.x2
    return -0.3 * min(a.box.w, b.box.w) <= gap <= config.max_gap * max(ha, hb)


def group_numbers(detections: list[Detection], config: ReadingConfig = DEFAULT_READING) -> list[Number]:
    """Join digits into numbers along their line; numbers come in reading order (top to bottom, left to right).

    Each digit joins the number whose last digit is its nearest left neighbour on the same line.
    """
    ordered = sorted(detections, key=lambda d: d.box.x)
    chains: list[list[Detection]] = []
    for det in ordered:
        best, best_gap = None, None
        for chain in chains:
            last = chain[-1]
            if _same_number(last, det, config):
                gap = det.box.x - last.box.x2
                if best_gap is None or gap < best_gap:
                    best, best_gap = chain, gap
        if best is None:
            chains.append([det])
        else:
            best.append(det)
    numbers = []
    for chain in chains:
        box = chain[0].box
        for det in chain[1:]:
            box = box.union(det.box)
        confidence = float(np.prod([d.confidence for d in chain]))
        numbers.append(Number(text="".join(str(d.digit) for d in chain), box=box, confidence=confidence, digits=tuple(chain)))
    # Reading order: lines top to bottom (a number belongs to the line of its vertical centre), then left to right.
    numbers.sort(key=lambda n: (n.box.y + n.box.h / 2.0, n.box.x))
    lines: list[list[Number]] = []
    for number in numbers:
        centre = number.box.y + number.box.h / 2.0
        if lines and abs(centre - (lines[-1][0].box.y + lines[-1][0].box.h / 2.0)) < 0.5 * lines[-1][0].box.h:
            lines[-1].append(number)
        else:
            lines.append([number])
    return [n for line in lines for n in sorted(line, key=lambda n: n.box.x)]

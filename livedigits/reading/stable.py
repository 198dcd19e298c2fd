"""Which numbers a live view has really read: those that stayed put, not the fragments seen in passing.

A camera sweeping over a page, a hand coming in, a number entering the frame digit by digit: for a
few frames the reader sees "69" of "369", or the "7" of "17". Each is a true reading of what the frame
shows, so the rule is about time and place, not about the classifier:

* **Stable.** A reading is a number's text at a place in the frame (its box). It becomes stable once it
  was read at that place (boxes overlapping by :data:`SAME_PLACE_IOU`) in :data:`STABLE_FRAMES`
  consecutive frames spanning at least :data:`STABLE_SECONDS` (one missed frame, :data:`GAP_FRAMES`, is
  forgiven: motion blur or a flicker of the segmentation must not restart the count). Both matter: the
  time keeps a fast camera from confirming what showed for a blink, the frame count keeps a slow one
  from confirming a single lucky frame. Once stable, a number stays in view through a gap as long as
  :data:`STABLE_SECONDS`; gone longer, it is confirmed anew (and listed first again) when it comes back.
* **Not a fragment.** A stable number whose digits all appear, in order, in a longer stable number
  read at the same place (its box at least :data:`FRAGMENT_INSIDE` inside the other's) is taken for a
  fragment of it (the "69" of "369" while a finger covered the 3) and is not listed, whichever of the
  two became stable first. The same text elsewhere in the frame is another reading, and is listed.

Readings without a place (plain strings) follow the first rule by text alone; the second needs places.
:class:`StableNumbers` is fed one frame's numbers at a time and keeps bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from livedigits.types import Box, Number

#: Consecutive frames a number must be read in at the same place to be stable.
STABLE_FRAMES = 3
#: ... spanning at least this many seconds: a number held up to be read stays longer than that, a
#: fragment seen while the camera or a hand moves is gone sooner (the demo's "09" of "094" lasts 2
#: frames, 0.07 s).
STABLE_SECONDS = 0.5
#: Frames a reading may be missed without its run starting over.
GAP_FRAMES = 1
#: Two boxes of the same text in consecutive frames are the same place when they overlap this much
#: (intersection over union; a hand-held camera moves a number a few pixels a frame).
SAME_PLACE_IOU = 0.3
#: A shorter number is at the place of a longer one when this share of its box lies inside the other's.
FRAGMENT_INSIDE = 0.6
#: Stable places remembered (the oldest confirmed are forgotten first).
KEEP_PLACES = 96


@dataclass(frozen=True)
class StableRule:
    """The rule's settings (see the module docstring); the defaults are the constants above."""

    frames: int = STABLE_FRAMES
    seconds: float = STABLE_SECONDS
    gap_frames: int = GAP_FRAMES
    same_place_iou: float = SAME_PLACE_IOU
    fragment_inside: float = FRAGMENT_INSIDE
    keep: int = KEEP_PLACES

    def __post_init__(self) -> None:
        if self.frames < 1 or self.seconds < 0 or self.gap_frames < 0 or self.keep < 1:
            raise ValueError(f"a stable rule needs frames >= 1, seconds >= 0, gap_frames >= 0 and keep >= 1, got {self}")


@dataclass(frozen=True)
class StableNumber:
    """A number read stably at a place: ``frames`` is how many frames it was read there in all,
    ``confirmed_at`` when its latest run became stable, ``last_seen`` when it was last read (times as
    given to :meth:`StableNumbers.update`); ``box`` is its latest box, None when readings had no place."""

    text: str
    box: Box | None
    frames: int
    confirmed_at: float
    last_seen: float


@dataclass
class _Place:
    text: str
    box: Box | None
    frames: int
    last_seen: float
    last_frame: int
    run_start: float
    run_frames: int
    confirmed_at: float | None = None

    def snapshot(self) -> StableNumber:
        return StableNumber(self.text, self.box, self.frames, self.confirmed_at or 0.0, self.last_seen)


def is_part_of(short: str, long: str) -> bool:
    """Whether the digits of ``short`` all appear in ``long``, in order, and ``long`` has more of them."""
    if len(short) >= len(long):
        return False
    rest = iter(long)
    return all(digit in rest for digit in short)


def _reading(item) -> tuple[str, Box | None]:
    if isinstance(item, str):
        return item, None
    if isinstance(item, Number):
        return item.text, item.box
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        box = item.get("box")
        return item["text"], None if box is None else Box(*(int(v) for v in box))
    raise TypeError(f"a number read is a str, a Number or a record's {{'text', 'box'}}, not {item!r}")


class StableNumbers:
    """Feed it each frame's numbers with :meth:`update`; :meth:`listed` says which were read stably.

    Not thread-safe: a caller that reads from another thread holds its own lock.
    """

    def __init__(self, rule: StableRule = StableRule()) -> None:
        self.rule = rule
        self._frame = 0
        self._places: dict[str, list[_Place]] = {}

    def _same_place(self, a: Box | None, b: Box | None) -> bool:
        if a is None or b is None:
            return a is b
        return a.iou(b) >= self.rule.same_place_iou

    def update(self, numbers: Iterable, time: float) -> list[StableNumber]:
        """Take one frame's numbers (``Number``, a JSON record's ``{"text", "box"}``, or a bare text) read
        at ``time`` seconds (any clock, increasing). Returns those that became stable in this frame and
        are no fragment of a number already stable, each once."""
        rule = self.rule
        self._frame += 1
        frame = self._frame
        running_since = frame - 1 - rule.gap_frames  # a run is alive when its place was read since
        newly: list[_Place] = []
        matched: set[int] = set()
        for text, box in (_reading(item) for item in numbers):
            places = self._places.setdefault(text, [])
            best = None
            for place in places:
                if id(place) in matched or not self._same_place(place.box, box):
                    continue
                # A place whose run is alive before one seen earlier, then the closest.
                key = (place.last_frame >= running_since, 1.0 if box is None else box.iou(place.box))
                if best is None or key > best[0]:
                    best = (key, place)
            if best is None:
                place = _Place(text, box, 1, time, frame, time, 1)
                places.append(place)
            else:
                place = best[1]
                # A stable number stays in view through a gap as long as it took to confirm it (so it
                # is not confirmed anew, as if shown again, after a flicker); any other gap starts over.
                held = place.confirmed_at is not None and time - place.last_seen <= rule.seconds
                if place.last_frame < running_since and not held:
                    place.run_start, place.run_frames = time, 0
                place.run_frames += 1
                place.frames += 1
                place.box, place.last_seen, place.last_frame = box, time, frame
            matched.add(id(place))
            stable = place.run_frames >= rule.frames and time - place.run_start >= rule.seconds
            if stable and (place.confirmed_at is None or place.confirmed_at < place.run_start):
                place.confirmed_at = time
                newly.append(place)
        self._forget(running_since)
        if not newly:
            return []
        confirmed = [p for ps in self._places.values() for p in ps if p.confirmed_at is not None]
        return [p.snapshot() for p in newly if not self._fragment(p, confirmed)]

    def _forget(self, running_since: int) -> None:
        """Drop runs that broke before they were stable, and the oldest stable places beyond ``keep``."""
        for text in list(self._places):
            kept = [p for p in self._places[text] if p.confirmed_at is not None or p.last_frame >= running_since]
            if kept:
                self._places[text] = kept
            else:
                del self._places[text]
        stable = [p for ps in self._places.values() for p in ps if p.confirmed_at is not None]
        if len(stable) > self.rule.keep:
            stable.sort(key=lambda p: p.confirmed_at)
            for old in stable[: len(stable) - self.rule.keep]:
                self._places[old.text].remove(old)
                if not self._places[old.text]:
                    del self._places[old.text]

    def _fragment(self, place: _Place, confirmed: list[_Place]) -> bool:
        if place.box is None or not place.box.area:
            return False
        for other in confirmed:
            if other.box is not None and is_part_of(place.text, other.text):
                b, o = place.box, other.box
                inside = max(0, min(b.x2, o.x2) - max(b.x, o.x)) * max(0, min(b.y2, o.y2) - max(b.y, o.y))
                if inside >= self.rule.fragment_inside * b.area:
                    return True
        return False

    def listed(self) -> list[StableNumber]:
        """Each number read stably, once, newest confirmed first, fragments left out (see the module)."""
        confirmed = [p for ps in self._places.values() for p in ps if p.confirmed_at is not None]
        newest: dict[str, _Place] = {}
        for place in confirmed:
            if self._fragment(place, confirmed):
                continue
            seen = newest.get(place.text)
            if seen is None or place.confirmed_at > seen.confirmed_at:
                newest[place.text] = place
        out = [p.snapshot() for p in newest.values()]
        out.sort(key=lambda n: n.confirmed_at, reverse=True)
        return out


__all__ = ["StableNumber", "StableNumbers", "StableRule", "is_part_of"]

"""Which numbers a live view has read: stable ones only, no fragment seen in passing (livedigits.reading.stable),
and the server's "read so far" list built on it (NumberLog)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from livedigits.serve.hub import NUMBER_LOG_SIZE, NumberLog
from livedigits.reading.stable import STABLE_SECONDS, StableNumbers, StableRule, is_part_of
from livedigits.types import Box, Detection, Number

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
DEMO_NUMBERS = {n["text"] for f in json.loads((SAMPLES / "demo.json").read_text())["frames"] for n in f["numbers"]}
FPS = 30.0


def _number(text: str, box: tuple[int, int, int, int]) -> Number:
    return Number(text, Box(*box), 0.99, tuple(Detection(Box(*box), int(d), 0.99) for d in text))


def _play(stable: StableNumbers, frames, start: float = 0.0, fps: float = FPS) -> list[str]:
    """Feed ``frames`` (lists of numbers) at ``fps``; the texts that became stable, in order."""
    out = []
    for i, numbers in enumerate(frames):
        out += [n.text for n in stable.update(numbers, start + i / fps)]
    return out


def _texts(stable: StableNumbers) -> list[str]:
    return [n.text for n in stable.listed()]


@pytest.fixture(scope="module")
def demo_records() -> list[dict]:
    """The JSON records of the demo video, read frame by frame as `run` reads it."""
    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer
    from livedigits.types import Frame

    recognizer = Recognizer(load_classifier("lite-int8"))
    capture = cv2.VideoCapture(str(SAMPLES / "demo.mp4"))
    records = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        records.append(recognizer.process(Frame(len(records), len(records) / FPS, image)).to_record())
    capture.release()
    return records


@pytest.mark.parametrize("with_places", [True, False], ids=["numbers", "texts"])
def test_the_demo_played_in_a_loop_lists_its_numbers_and_no_fragment(demo_records, with_places: bool) -> None:
    """As `serve samples/demo.mp4` plays it: three times over, at 30 fps."""
    records = [dict(r, numbers=list(r["numbers"])) for r in demo_records]
    if not {n["text"] for r in records for n in r["numbers"]} - DEMO_NUMBERS:
        # The reading no longer gives a fragment in passing (it once read the '09' of '094' in frames 91
        # and 92): that one is put back, where it was, so the log is still seen to leave it out.
        for r in records[91:93]:
            whole = next(n for n in r["numbers"] if n["text"] == "094")
            x, y, w, h = whole["box"]
            r["numbers"].append(dict(whole, text="09", box=[x, y, w * 2 // 3, h]))
    log = NumberLog()
    frames = [r["numbers"] if with_places else [n["text"] for n in r["numbers"]] for r in records] * 3
    for i, numbers in enumerate(frames):
        log.add(numbers, 1000.0 + i / FPS)
    listed = [n["text"] for n in log.confirmed()]
    assert sorted(listed) == sorted(DEMO_NUMBERS)


def test_a_number_is_stable_after_enough_frames_and_enough_time() -> None:
    seen = [[_number("42", (100, 100, 40, 30))]]
    # 10 frames at 100 fps (0.09 s): a blink, not a reading.
    fast = StableNumbers()
    assert _play(fast, seen * 10, fps=100.0) == [] and _texts(fast) == []
    # At 30 fps, stable once it has been there STABLE_SECONDS.
    steady = StableNumbers()
    became = []
    for i in range(30):
        if steady.update(seen[0], i / FPS):
            became.append(i)
    assert became == [round(STABLE_SECONDS * FPS)] and _texts(steady) == ["42"]
    # At 1 fps, two frames are not enough even though a second has passed; the third is.
    slow = StableNumbers()
    assert _play(slow, seen * 2, fps=1.0) == [] and _play(slow, seen, start=2.0) == ["42"]


def test_one_missed_frame_is_forgiven_two_start_over() -> None:
    n = [_number("42", (100, 100, 40, 30))]
    flicker = StableNumbers()  # read, missed, read...: still one run
    assert _play(flicker, [n, []] * 10) == ["42"]
    broken = StableNumbers()  # read twice, missed twice, over and over: never three in a row
    assert _play(broken, [n, n, [], []] * 15) == [] and _texts(broken) == []


def test_the_same_text_must_stay_at_the_same_place() -> None:
    here, there = [_number("42", (100, 100, 40, 30))], [_number("42", (400, 300, 40, 30))]
    jumping = StableNumbers()  # read in every frame, but never three frames running at one place
    assert _play(jumping, [here, here, there, there] * 15) == []
    # A hand-held camera moves it a few pixels a frame: the same place.
    drifting = StableNumbers()
    assert _play(drifting, [[_number("42", (100 + 2 * i, 100 + i, 40, 30))] for i in range(20)]) == ["42"]


def test_a_fragment_at_the_place_of_a_longer_number_is_not_listed() -> None:
    whole = [[_number("369", (80, 190, 90, 32))]]
    part = [[_number("69", (122, 190, 48, 32))]]  # a finger over the 3
    # The number first, then its fragment for a whole second: the fragment is never listed.
    stable = StableNumbers()
    assert _play(stable, whole * 30 + part * 30) == ["369"]
    assert _texts(stable) == ["369"]
    # The fragment first (the 3 still covered), then the number: the fragment leaves the list.
    later = StableNumbers()
    assert _play(later, part * 30 + whole * 30) == ["69", "369"]
    assert _texts(later) == ["369"]


def test_the_same_digits_elsewhere_are_another_number() -> None:
    stable = StableNumbers()
    _play(stable, [[_number("17", (320, 76, 47, 32)), _number("7", (500, 300, 15, 30))]] * 30)
    assert sorted(_texts(stable)) == ["17", "7"]


def test_the_list_is_newest_first_and_a_number_shown_again_comes_back_to_the_top() -> None:
    a, b = [[_number("12", (100, 100, 40, 30))]], [[_number("34", (300, 100, 40, 30))]]
    stable = StableNumbers()
    _play(stable, a * 30 + b * 30)
    assert _texts(stable) == ["34", "12"]
    _play(stable, a * 30, start=10.0)
    assert _texts(stable) == ["12", "34"]
    both = [a[0] + b[0]]
    _play(stable, both * 30, start=11.0)
    assert _texts(stable) == ["34", "12"]  # 12 stayed in view; 34 is back
    # 12 out of view for less than STABLE_SECONDS is a flicker: no new confirmation, the order holds ...
    _play(stable, b * 3 + both * 30, start=12.0)
    assert _texts(stable) == ["34", "12"]
    # ... for longer, it was gone: shown again.
    _play(stable, b * 30 + both * 30, start=13.1)
    assert _texts(stable) == ["12", "34"]


def test_memory_stays_bounded_and_the_log_lists_at_most_its_size() -> None:
    stable = StableNumbers(StableRule(keep=10))
    log = NumberLog()
    for k in range(40):
        frame = [_number(str(1000 + k), (10 * (k % 50), 100, 40, 30))]
        for i in range(20):
            stable.update(frame, k + i / FPS)
            log.add(frame, k + i / FPS)
    assert len(_texts(stable)) == 10 and _texts(stable)[0] == "1039"
    confirmed = log.confirmed()
    assert len(confirmed) == NUMBER_LOG_SIZE and confirmed[0]["text"] == "1039" and confirmed[0]["frames"] == 20


def test_is_part_of() -> None:
    assert is_part_of("69", "369") and is_part_of("7", "8097") and is_part_of("897", "8097")
    assert not is_part_of("369", "369") and not is_part_of("96", "369") and not is_part_of("12", "1")


def test_bad_input_is_refused_with_what_was_wrong() -> None:
    with pytest.raises(TypeError, match="a str, a Number or a record"):
        StableNumbers().update([42], 0.0)
    with pytest.raises(ValueError, match="frames >= 1"):
        StableRule(frames=0)

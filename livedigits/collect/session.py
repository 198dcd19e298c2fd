"""The live view's state: the frame, its numbered crops and the model's guesses, the selection, and
what each key does. No window here (``live.collect_window`` shows it): tests drive it with key codes.
"""

from __future__ import annotations

import cv2
import numpy as np

from livedigits.engine.keys import (
    ACTION_QUIT,
    GTK_KEYPAD_DIGITS,
    KEY_ESC,
    KEY_SPACE,
    KEY_TAB,
    KEYS_DOWN,
    KEYS_ENTER,
    KEYS_LEFT,
    KEYS_RIGHT,
    KEYS_SHIFT_TAB,
    KEYS_UP,
)
from livedigits.types import Candidate
from livedigits.collect.store import LABELS, SIGN_KEYS, SIGN_LABELS, SampleStore, class_to_label, crop_to_uint8, full_cut

HELP_LINE = "0-9 label  n not-a-digit  arrows/Tab select  u undo  space pause  q quit"
STRIP_CELL = 64  # a 28x28 crop is shown at this size in the strip


class CollectSession:
    """The state of the live view: the current frame, its crops and the model's guesses, the selection.

    ``update`` takes a new frame (ignored while paused), ``handle_key`` a ``cv2.waitKeyEx`` code,
    ``draw`` returns the picture to show. No window here: tests drive it with key codes.
    """

    def __init__(self, store: SampleStore, source_name: str = "", step_images: bool = False):
        self.store = store
        self.source_name = source_name
        self.step_images = step_images  # stills: stay on an image until space asks for the next
        self.paused = False
        self.frame = None
        self.candidates: list[Candidate] = []
        self.guesses: list[tuple[int, float]] = []
        self.selected = 0
        self.message = HELP_LINE

    def update(self, frame, candidates: list[Candidate], probabilities: np.ndarray | None = None) -> bool:
        """Show a new frame with its crops (and per-crop probabilities); False if paused (frame ignored)."""
        if self.paused:
            return False
        previous = self.candidates[self.selected].box if self.candidates else None
        self.frame = frame
        self.candidates = list(candidates)
        if probabilities is not None and len(probabilities) == len(candidates):
            self.guesses = [(int(np.argmax(p)), float(np.max(p))) for p in probabilities]
        else:
            self.guesses = []
        # Keep the selection on the same written digit as the camera shakes.
        if previous is not None and self.candidates:
            self.selected = int(np.argmax([previous.iou(c.box) - 1e-6 * i for i, c in enumerate(self.candidates)]))
        else:
            self.selected = 0
        if self.step_images:
            self.paused = True
        return True

    def handle_key(self, key: int) -> str | None:
        """Act on one key code; ``"quit"`` when the user asked to stop."""
        if key is None or key < 0:
            return None
        if key in KEYS_LEFT or key in KEYS_UP or key in KEYS_SHIFT_TAB:
            self._move(-1)
            return None
        if key in KEYS_RIGHT or key in KEYS_DOWN or key == KEY_TAB:
            self._move(+1)
            return None
        char = GTK_KEYPAD_DIGITS.get(key, "")
        if not char and key < 0x1000000 and not key & 0xFF00 and key & 0xFF:
            # Plain keys come as their code, with modifier flags above bit 16 on some backends; GTK's
            # (0xFFxx) and Qt's (0x01000000 + n) special keys must not pass for letters or digits.
            char = chr(key & 0xFF).lower()
        if key == KEY_ESC or char == "q":
            return ACTION_QUIT
        if key == KEY_SPACE or key in KEYS_ENTER:
            self.paused = not self.paused
            self.message = "paused: label the crops, space to go on" if self.paused else "running"
        elif char in LABELS:
            self.label_selected(char)
        elif char in SIGN_KEYS:  # + - * / ( ) =: a sign of arithmetic, for the sign model
            self.label_selected(SIGN_KEYS[char])
        elif char == "u":
            record = self.store.undo()
            self.message = f"undone: {record['file']}" if record else "nothing to undo"
        return None

    def _move(self, step: int) -> None:
        if self.candidates:
            self.selected = (self.selected + step) % len(self.candidates)
            self.message = f"selected #{self.selected + 1}"

    def label_selected(self, label: str) -> dict | None:
        """Save the selected crop under ``label``; the record, or None when there is no crop."""
        if not self.candidates or self.frame is None:
            self.message = "no crop to label in this frame"
            return None
        candidate = self.candidates[self.selected]
        guess = self.guesses[self.selected] if self.guesses else None
        record = self.store.save(
            candidate.crop, full_cut(self.frame.image, candidate.box), label, source=self.source_name,
            frame=int(self.frame.index), frame_time=round(float(self.frame.time), 3), box=candidate.box.as_list(),
            mode="key", guess=class_to_label(guess[0]) if guess else None,
            confidence=round(guess[1], 4) if guess else None,
        )
        self.message = f"saved #{self.selected + 1} as {label}: {record['file']}"
        if len(self.candidates) > 1:  # on to the next crop, so a line of digits is labelled key after key
            self.selected = (self.selected + 1) % len(self.candidates)
        return record

    def draw(self) -> np.ndarray:
        """The frame with numbered boxes (the selected one thick, yellow), a strip of the 28x28 crops
        with the model's guesses, the counts saved per label and the last message. BGR uint8."""
        if self.frame is None:
            view = np.zeros((240, 320, 3), np.uint8)
        else:
            view = self.frame.image.copy()
        scale = max(0.4, view.shape[0] / 900)
        for i, candidate in enumerate(self.candidates):
            b = candidate.box
            chosen = i == self.selected
            colour = (0, 255, 255) if chosen else (0, 200, 0)
            cv2.rectangle(view, (b.x, b.y), (b.x2, b.y2), colour, 3 if chosen else 1)
            text = f"{i + 1}"
            if self.guesses:
                text += f":{class_to_label(self.guesses[i][0])}"
            cv2.putText(view, text, (b.x, max(12, b.y - 4)), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
        width = view.shape[1]
        per_row = max(1, width // STRIP_CELL)
        rows = max(1, -(-len(self.candidates) // per_row))
        strip = np.zeros((rows * STRIP_CELL, width, 3), np.uint8)
        for i, candidate in enumerate(self.candidates):
            r, c = divmod(i, per_row)
            cell = cv2.resize(crop_to_uint8(candidate.crop), (STRIP_CELL - 4, STRIP_CELL - 4), interpolation=cv2.INTER_NEAREST)
            y, x = r * STRIP_CELL + 2, c * STRIP_CELL + 2
            strip[y: y + STRIP_CELL - 4, x: x + STRIP_CELL - 4] = cell[..., None]
            if i == self.selected:
                cv2.rectangle(strip, (x - 2, y - 2), (x + STRIP_CELL - 3, y + STRIP_CELL - 3), (0, 255, 255), 2)
            text = f"{i + 1}" + (f":{class_to_label(self.guesses[i][0])}" if self.guesses else "")
            cv2.putText(strip, text, (x + 2, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 200, 255), 1, cv2.LINE_AA)
        counts = "  ".join(f"{SIGN_LABELS.get(label, label)}:{n}" for label, n in self.store.counts.items()
                           if n or label not in SIGN_LABELS)  # the signs once some are saved
        header = np.zeros((44, width, 3), np.uint8)
        cv2.putText(header, f"saved  {counts}", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        status = ("PAUSED  " if self.paused else "") + self.message
        cv2.putText(header, status, (6, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 220, 255), 1, cv2.LINE_AA)
        return np.vstack([header, view, strip])

"""The hand-held camera: how it sees the page, frame by frame.

``CameraOptions`` bounds what is drawn once per clip; ``make_camera_path`` draws a ``CameraPath``, a
perspective homography from page to frame pixels at any instant (a base pose plus a smooth wander of
the hand). ``frame_truth`` maps a page's truth into a frame: each box's corners through that frame's
homography, as an axis-aligned box (``project_box``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from livedigits.types import Box
from livedigits.synth.page import Page

# An item whose projected box lies less than this fraction inside the frame is
# left out of that frame's truth (a half-seen digit cannot be read).
MIN_VISIBLE_FRACTION = 0.999


@dataclass(frozen=True)
class CameraOptions:
    """How the hand-held camera sees the page. Ranges are drawn once per clip.

    Pixel amounts are given for a 480 px tall frame and scale with the frame height.
    """

    fill: tuple[float, float] = (0.80, 0.90)  # share of the frame the page spans (its tighter side)
    offset: float = 0.03  # largest shift of the page centre, as a share of the frame size
    tilt_degrees: tuple[float, float] = (2.0, 12.0)  # tilt of the page plane away from the camera axis
    roll_degrees: float = 4.0  # largest in-plane rotation
    distance: float = 1.6  # camera distance in page widths: smaller means stronger perspective
    shake_pixels: tuple[float, float] = (1.5, 5.0)  # amplitude of the hand's wander
    shake_hz: tuple[float, float] = (0.15, 1.2)
    shake_roll_degrees: float = 0.4
    shake_scale: float = 0.01  # relative zoom wander (the hand moving closer and away)
    table_margin: float = 0.35  # table drawn around the page, in page heights
    table_brightness: tuple[float, float] = (0.25, 0.5)
    light_gradient: tuple[float, float] = (0.08, 0.3)  # brightness lost from the lit side to the far side
    vignette: float = 0.15
    exposure: tuple[float, float] = (0.92, 1.04)
    shadow: float = 0.8  # probability of a soft hand/phone shadow
    shadow_strength: tuple[float, float] = (0.2, 0.45)
    shadow_softness: float = 0.08  # blur of the shadow's edge, in frame widths
    defocus_sigma: tuple[float, float] = (0.3, 0.9)
    shutter: tuple[float, float] = (0.3, 1.0)  # share of a frame interval the shutter is open (motion blur)
    noise_sigma: tuple[float, float] = (1.5, 4.0)  # sensor noise, grey levels


def _rotation(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """3x3 rotation: yaw about y, then pitch about x, then roll about the camera axis (radians)."""
    cr, sr = math.cos(roll), math.sin(roll)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    return rz @ rx @ ry


@dataclass(frozen=True)
class CameraPath:
    """A clip's camera: a base pose plus a smooth hand-held wander, as a function of time.

    ``homography(t)`` maps page pixels to frame pixels (3x3 float64). Each wander is
    a sum of sinusoids ``(amplitude, hz, phase)``; shifts are in frame pixels.
    """

    page_size: tuple[int, int]
    frame_size: tuple[int, int]
    scale: float  # frame px per page px at the page centre
    roll: float  # radians
    pitch: float
    yaw: float
    shift: tuple[float, float]  # page centre offset from the frame centre, frame px
    distance: float  # camera distance, page px
    shake_x: tuple[tuple[float, float, float], ...]
    shake_y: tuple[tuple[float, float, float], ...]
    shake_roll: tuple[tuple[float, float, float], ...]
    shake_zoom: tuple[tuple[float, float, float], ...]

    @staticmethod
    def _wave(parts, t: float) -> float:
        return float(sum(a * math.sin(2 * math.pi * hz * t + phase) for a, hz, phase in parts))

    def offset(self, t: float) -> tuple[float, float]:
        """The hand's wander at time ``t``, frame px."""
        return self._wave(self.shake_x, t), self._wave(self.shake_y, t)

    def homography(self, t: float) -> np.ndarray:
        pw, ph = self.page_size
        fw, fh = self.frame_size
        scale = self.scale * (1.0 + self._wave(self.shake_zoom, t))
        dx, dy = self.offset(t)
        rotation = _rotation(self.roll + self._wave(self.shake_roll, t), self.pitch, self.yaw)
        focal = scale * self.distance
        camera = np.array([[focal, 0, fw / 2], [0, focal, fh / 2], [0, 0, 1]])
        # A shift of s frame px at the page's depth is s / scale page px sideways.
        pose = np.column_stack([rotation[:, 0], rotation[:, 1], [(self.shift[0] + dx) / scale, (self.shift[1] + dy) / scale, self.distance]])
        centre = np.array([[1, 0, -pw / 2], [0, 1, -ph / 2], [0, 0, 1]])
        h = camera @ pose @ centre
        return h / h[2, 2]


def make_camera_path(rng: np.random.Generator, page_size: tuple[int, int], frame_size: tuple[int, int], options: CameraOptions) -> CameraPath:
    """Draw a clip's camera pose and wander. Sizes are ``(width, height)`` in px."""
    pw, ph = page_size
    fw, fh = frame_size
    unit = fh / 480.0
    scale = rng.uniform(*options.fill) * min(fw / pw, fh / ph)
    tilt = math.radians(rng.uniform(*options.tilt_degrees))
    direction = rng.uniform(0, 2 * math.pi)

    def wave(total: float, parts: int = 3) -> tuple[tuple[float, float, float], ...]:
        amplitudes = rng.dirichlet(np.ones(parts)) * total
        return tuple((float(a), float(rng.uniform(*options.shake_hz)), float(rng.uniform(0, 2 * math.pi))) for a in amplitudes)

    return CameraPath(
        page_size=(pw, ph),
        frame_size=(fw, fh),
        scale=float(scale),
        roll=math.radians(rng.uniform(-1, 1) * options.roll_degrees),
        pitch=tilt * math.cos(direction),
        yaw=tilt * math.sin(direction),
        shift=(float(rng.uniform(-1, 1) * options.offset * fw), float(rng.uniform(-1, 1) * options.offset * fh)),
        distance=options.distance * pw,
        shake_x=wave(rng.uniform(*options.shake_pixels) * unit),
        shake_y=wave(rng.uniform(*options.shake_pixels) * unit),
        shake_roll=wave(math.radians(options.shake_roll_degrees), 2),
        shake_zoom=wave(options.shake_scale, 2),
    )


def project_box(box: Box, homography: np.ndarray, frame_size: tuple[int, int], min_visible: float = MIN_VISIBLE_FRACTION) -> Box | None:
    """Map a page box through ``homography`` to an axis-aligned frame box, clipped to the frame.

    Pixel ``c`` covers ``[c - 0.5, c + 0.5)``, so the box's outer edges are mapped.
    Returns None when less than ``min_visible`` of the mapped box lies in the frame.
    """
    x0, y0, x1, y1 = box.x - 0.5, box.y - 0.5, box.x2 - 0.5, box.y2 - 0.5
    corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
    mapped = cv2.perspectiveTransform(corners, homography)[0]
    left = math.floor(mapped[:, 0].min() + 0.5)
    top = math.floor(mapped[:, 1].min() + 0.5)
    right = math.ceil(mapped[:, 0].max() + 0.5)
    bottom = math.ceil(mapped[:, 1].max() + 0.5)
    area = (right - left) * (bottom - top)
    fw, fh = frame_size
    cl, ct, cr, cb = max(0, left), max(0, top), min(fw, right), min(fh, bottom)
    if cr <= cl or cb <= ct or area <= 0 or (cr - cl) * (cb - ct) < min_visible * area:
        return None
    return Box(cl, ct, cr - cl, cb - ct)


def frame_truth(page: Page, homography: np.ndarray, frame_size: tuple[int, int], index: int) -> dict:
    """One frame's truth dict: the page's boxes mapped into the frame.

    A number is kept only when all of its digits are; its box is the union of
    their frame boxes.
    """
    digit_boxes = [project_box(d.box, homography, frame_size) for d in page.digits]
    digits = [{"box": b.as_list(), "digit": d.digit} for d, b in zip(page.digits, digit_boxes) if b is not None]
    numbers = []
    for number in page.numbers:
        boxes = [digit_boxes[i] for i in number.digits]
        if any(b is None for b in boxes):
            continue
        box = boxes[0]
        for b in boxes[1:]:
            box = box.union(b)
        numbers.append({"text": number.text, "box": box.as_list()})
    marks = []
    for mark in page.marks:
        box = project_box(mark.box, homography, frame_size)
        if box is not None:
            marks.append({"box": box.as_list(), "kind": mark.kind})
    return {"frame": int(index), "digits": digits, "numbers": numbers, "marks": marks}

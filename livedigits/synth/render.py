"""Filming the page: ``SyntheticClip`` renders any frame of a clip with its truth, and the entry points
that render frames in memory or write a clip, a still and their truth JSON.

A clip puts the page on a darker table and films it with the ``CameraPath``: one perspective warp per
frame, then a lighting gradient and vignette, a soft hand shadow, defocus and motion blur, sensor noise.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from livedigits.synth.camera import CameraOptions, frame_truth, make_camera_path
from livedigits.synth.page import _CAMERA_STREAM, _FRAME_STREAM, Digits, PageOptions, make_page


def _options(cls, values: dict, what: str):
    """``cls(**values)`` for a frozen options dataclass; ValueError naming unknown keys and the valid ones."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown {what} option(s) {unknown}; valid ones are {sorted(names)}")
    return cls(**values)


def _table(rng: np.random.Generator, size: tuple[int, int], options: CameraOptions) -> np.ndarray:
    """A darker table top, float32 (h, w, 3) BGR in [0, 1]: wood or plain, with slow texture."""
    w, h = size
    brightness = rng.uniform(*options.table_brightness)
    if rng.random() < 0.5:  # wood: warm, with grain along one axis
        colour = np.array([0.45, 0.65, 0.85], np.float32) * brightness * 1.3
        along = np.linspace(0, 1, w, dtype=np.float32)[None, :]
        wobble = cv2.resize(rng.standard_normal((h // 128 + 2, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        grain = 0.08 * np.sin(2 * np.pi * (along * rng.uniform(20, 40) + 0.6 * wobble))
        if rng.random() < 0.5:
            grain = np.ascontiguousarray(cv2.resize(grain.T, (w, h)))
    else:  # plain desk, grey or dark green
        colour = np.array([0.9, 0.9, 0.92] if rng.random() < 0.6 else [0.6, 0.75, 0.6], np.float32) * brightness
        grain = np.zeros((h, w), np.float32)
    coarse = rng.standard_normal((h // 24 + 2, w // 24 + 2)).astype(np.float32)
    texture = 0.08 * cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(colour[None, None, :] * (1.0 + grain + texture)[..., None], 0, 1)


class SyntheticClip:
    """A page filmed by a hand-held camera: ``frame(i)`` renders frame ``i`` with its truth.

    Holds the page, the table around it (the "world", pre-shrunk near the frame
    scale so one warp per frame needs no further anti-aliasing), the camera path and
    the per-clip lighting. Frames can be asked for in any order and any number.

    Example::

        clip = SyntheticClip(seed=1, size=(320, 240))
        image, truth = clip.frame(0)   # (240, 320, 3) uint8, {"frame": 0, "digits": [...], ...}
    """

    def __init__(
        self,
        seed: int,
        size: tuple[int, int] = (640, 480),
        fps: float = 30.0,
        page: PageOptions | None = None,
        camera: CameraOptions | None = None,
        digits: Digits | None = None,
    ) -> None:
        width, height = (int(v) for v in size)
        if width < 32 or height < 32:
            raise ValueError(f"frame size must be at least 32x32, got {size}")
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.seed = int(seed)
        self.size = (width, height)
        self.fps = float(fps)
        self.page_options = page or PageOptions()
        self.camera_options = camera or CameraOptions()
        self.page = make_page(self.seed, self.page_options, digits)
        rng = np.random.default_rng([self.seed, _CAMERA_STREAM])
        self.path = make_camera_path(rng, self.page.size, self.size, self.camera_options)
        self._build_world(rng)
        self._build_lighting(rng)

    # -- per clip

    def _build_world(self, rng: np.random.Generator) -> None:
        options = self.camera_options
        pw, ph = self.page.size
        margin = int(round(options.table_margin * ph))
        world_w, world_h = pw + 2 * margin, ph + 2 * margin
        # Build the table small (it is smooth) and shade it with the page's soft drop shadow.
        coarse = 4
        small = (world_w // coarse, world_h // coarse)
        table = _table(rng, small, options)
        shadow = np.zeros((small[1], small[0]), np.float32)
        offset = max(1, int(round(0.006 * ph / coarse)))
        cv2.rectangle(shadow, ((margin // coarse) + offset, (margin // coarse) + offset), ((margin + pw) // coarse + offset, (margin + ph) // coarse + offset), 1.0, -1)
        shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, 0.01 * ph / coarse))
        table *= (1.0 - 0.5 * shadow)[..., None]
        world = cv2.resize((table * 255.0).astype(np.uint8), (world_w, world_h), interpolation=cv2.INTER_LINEAR)
        world[margin : margin + ph, margin : margin + pw] = self.page.image
        # Shrink the world to about the frame's scale; the warp then only resamples near 1:1.
        k = min(1.0, 1.15 * self.path.scale)
        shrunk = (max(1, round(world_w * k)), max(1, round(world_h * k)))
        self._world = cv2.resize(world, shrunk, interpolation=cv2.INTER_AREA)
        kx, ky = shrunk[0] / world_w, shrunk[1] / world_h
        # Shrunk-world pixel -> page pixel (pixel centres: q = k (p + 0.5) - 0.5).
        self._world_to_page = np.array(
            [[1 / kx, 0, 0.5 / kx - 0.5 - margin], [0, 1 / ky, 0.5 / ky - 0.5 - margin], [0, 0, 1]], np.float64
        )

    def _build_lighting(self, rng: np.random.Generator) -> None:
        options = self.camera_options
        w, h = self.size
        xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        angle = rng.uniform(0, 2 * np.pi)
        gradient = rng.uniform(*options.light_gradient)
        ramp = 0.5 + 0.5 * (np.cos(angle) * xs + np.sin(angle) * ys) / math.sqrt(2)
        light = (1.0 - gradient * ramp) * (1.0 - options.vignette * (xs**2 + ys**2) / 2) * rng.uniform(*options.exposure)
        self._light = light.astype(np.float32)
        # A hand or phone: a long soft ellipse reaching in from one edge.
        self._shadow = None
        self._shadow_strength = 0.0
        if rng.random() < options.shadow:
            mask = np.zeros((h, w), np.float32)
            edge_angle = rng.uniform(0, 2 * np.pi)
            cx = w / 2 + np.cos(edge_angle) * w * 0.6
            cy = h / 2 + np.sin(edge_angle) * h * 0.6
            axes = (int(w * rng.uniform(0.35, 0.55)), int(w * rng.uniform(0.1, 0.2)))
            cv2.ellipse(mask, (int(cx), int(cy)), axes, math.degrees(edge_angle) + rng.normal(0, 20), 0, 360, 1.0, -1)
            self._shadow = cv2.GaussianBlur(mask, (0, 0), options.shadow_softness * w)
            self._shadow_strength = float(rng.uniform(*options.shadow_strength))
        self._defocus = float(rng.uniform(*options.defocus_sigma)) * h / 480.0
        self._shutter = float(rng.uniform(*options.shutter))
        self._noise = float(rng.uniform(*options.noise_sigma))

    # -- per frame

    def homography(self, index: int) -> np.ndarray:
        """Page px -> frame px for frame ``index`` (3x3 float64)."""
        return self.path.homography(index / self.fps)

    def truth(self, index: int) -> dict:
        """Frame ``index``'s truth dict without rendering the image."""
        return frame_truth(self.page, self.homography(index), self.size, index)

    def frame(self, index: int) -> tuple[np.ndarray, dict]:
        """Render frame ``index``: a BGR uint8 ``(h, w, 3)`` image and its truth dict."""
        if index < 0:
            raise ValueError(f"frame index must be >= 0, got {index}")
        w, h = self.size
        page_to_frame = self.homography(index)
        image = cv2.warpPerspective(
            self._world, page_to_frame @ self._world_to_page, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ).astype(np.float32)
        rng = np.random.default_rng([self.seed, _FRAME_STREAM, int(index)])
        light = self._light
        if self._shadow is not None:
            # The shadow follows the hand, a little more than the page appears to move.
            dx, dy = self.path.offset(index / self.fps)
            moved = cv2.warpAffine(self._shadow, np.float32([[1, 0, 1.5 * dx], [0, 1, 1.5 * dy]]), (w, h), borderMode=cv2.BORDER_REPLICATE)
            light = light * (1.0 - self._shadow_strength * moved)
        image *= light[..., None]
        image = self._blur(image, index, rng)
        image += rng.standard_normal(image.shape, dtype=np.float32) * self._noise
        image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
        return image, frame_truth(self.page, page_to_frame, self.size, index)

    def _blur(self, image: np.ndarray, index: int, rng: np.random.Generator) -> np.ndarray:
        sigma = self._defocus * rng.uniform(0.85, 1.15)
        if sigma > 0.05:
            image = cv2.GaussianBlur(image, (0, 0), sigma)
        # Motion blur: how far the page centre moves while the shutter is open.
        pw, ph = self.page.size
        centre = np.array([[[pw / 2, ph / 2]]], np.float64)
        now = cv2.perspectiveTransform(centre, self.homography(index))[0, 0]
        before = cv2.perspectiveTransform(centre, self.path.homography((index - 1) / self.fps))[0, 0]
        streak = (now - before) * self._shutter
        length = float(np.hypot(*streak))
        if length < 0.7:
            return image
        size = int(math.ceil(length)) | 1
        size += 2
        kernel = np.zeros((size, size), np.float32)
        c = size / 2 - 0.5
        precision = 4  # cv2.line's fractional bits
        p = tuple(int(round((c - streak[i] / 2) * (1 << precision))) for i in (0, 1))
        q = tuple(int(round((c + streak[i] / 2) * (1 << precision))) for i in (0, 1))
        cv2.line(kernel, p, q, 1.0, 1, cv2.LINE_AA, precision)
        if kernel.sum() <= 0:
            return image
        return cv2.filter2D(image, -1, kernel / kernel.sum())

    def frames(self, count: int, start: int = 0) -> Iterator[tuple[np.ndarray, dict]]:
        """Frames ``start .. start + count - 1`` as ``(image, truth)`` pairs."""
        for index in range(start, start + count):
            yield self.frame(index)

    def truth_document(self, frames: list[dict], source: str) -> dict:
        """The JSON layout around a list of frame truth dicts."""
        fps = int(self.fps) if float(self.fps).is_integer() else self.fps
        return {"source": source, "fps": fps, "size": list(self.size), "frames": frames}


# --------------------------------------------------------------------------- entry points


def _clip(seed: int, size, fps, camera: CameraOptions | None, page_options: dict) -> SyntheticClip:
    """A clip from the entry points' keywords: ``PageOptions`` fields, or ``page=``; and ``digits=``."""
    page_options = dict(page_options)
    digits = page_options.pop("digits", None)
    page = page_options.pop("page", None)
    if page is not None and page_options:
        raise ValueError("pass either page=PageOptions(...) or page option keywords, not both")
    page = page or _options(PageOptions, page_options, "page")
    return SyntheticClip(seed, size=size, fps=fps, page=page, camera=camera, digits=digits)


def iter_frames(
    *, seed: int, frames: int = 150, fps: float = 30, size: tuple[int, int] = (640, 480), camera: CameraOptions | None = None, **page_options
) -> Iterator[tuple[np.ndarray, dict]]:
    """Yield ``(image, frame_truth)`` for frames ``0 .. frames - 1`` of a clip, without files.

    ``image`` is BGR uint8 ``(size[1], size[0], 3)``; ``frame_truth`` one frame
    dict of the JSON layout. ``page_options`` are ``PageOptions`` fields (or
    ``page=PageOptions(...)``), plus ``digits=(images, labels)`` to write with
    something other than the MNIST test set.
    """
    clip = _clip(seed, size, fps, camera, page_options)
    yield from clip.frames(frames)


def render_frame(
    *, seed: int, index: int = 0, fps: float = 30, size: tuple[int, int] = (640, 480), camera: CameraOptions | None = None, **page_options
) -> tuple[np.ndarray, dict]:
    """Render frame ``index`` of a clip in memory: ``(image, truth)``.

    ``image`` is BGR uint8 ``(size[1], size[0], 3)``, identical to frame ``index``
    of ``render_video`` with the same seed, size and options; ``truth`` is the full
    JSON layout holding that one frame.
    """
    clip = _clip(seed, size, fps, camera, page_options)
    image, truth = clip.frame(index)
    return image, clip.truth_document([truth], f"synth:seed={seed}")


def _check_size(path: Path, what: str) -> None:
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError(f"{path}: the {what} was not written (is the folder writable, the codec available?)")


def render_video(
    path: str | Path,
    truth_path: str | Path,
    *,
    seed: int,
    frames: int = 150,
    fps: float = 30,
    size: tuple[int, int] = (640, 480),
    camera: CameraOptions | None = None,
    **page_options,
) -> dict:
    """Write a clip as an ``.mp4`` (mp4v) and its ground truth as JSON; return the truth dict."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    path, truth_path = Path(path), Path(truth_path)
    clip = _clip(seed, size, fps, camera, page_options)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), clip.size)
    if not writer.isOpened():
        raise OSError(f"{path}: cannot open a video writer for mp4v; is the folder writable?")
    truths = []
    try:
        for image, truth in clip.frames(frames):
            writer.write(image)
            truths.append(truth)
    finally:
        writer.release()
    _check_size(path, "video")
    document = clip.truth_document(truths, path.name)
    truth_path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    return document


def render_still(
    path: str | Path,
    truth_path: str | Path,
    *,
    seed: int,
    size: tuple[int, int] = (1280, 960),
    jpeg_quality: int = 92,
    camera: CameraOptions | None = None,
    **page_options,
) -> dict:
    """Write one photo of a page (PNG, or JPEG by the extension) and its truth JSON; return the truth."""
    path, truth_path = Path(path), Path(truth_path)
    clip = _clip(seed, size, 30, camera, page_options)
    image, truth = clip.frame(0)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if path.suffix.lower() in (".jpg", ".jpeg") else [cv2.IMWRITE_PNG_COMPRESSION, 9]
    if not cv2.imwrite(str(path), image, params):
        raise OSError(f"{path}: cannot write the image (unknown extension or folder not writable)")
    _check_size(path, "image")
    document = clip.truth_document([truth], path.name)
    truth_path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    return document


def draw_truth(image: np.ndarray, truth: dict) -> np.ndarray:
    """A copy of ``image`` (BGR uint8) with one frame's truth drawn: digits green, numbers orange, marks red."""
    out = image.copy()
    for number in truth.get("numbers", []):
        x, y, w, h = number["box"]
        cv2.rectangle(out, (x - 3, y - 3), (x + w + 2, y + h + 2), (0, 140, 255), 1)
        cv2.putText(out, number["text"], (x, max(10, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 140, 255), 1, cv2.LINE_AA)
    for digit in truth.get("digits", []):
        x, y, w, h = digit["box"]
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (0, 200, 0), 1)
        cv2.putText(out, str(digit["digit"]), (x, y + h + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 160, 0), 1, cv2.LINE_AA)
    for mark in truth.get("marks", []):
        x, y, w, h = mark["box"]
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (0, 0, 230), 1)
        cv2.putText(out, mark["kind"], (x, y + h + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 200), 1, cv2.LINE_AA)
    return out

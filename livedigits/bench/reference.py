"""The plain reference pipeline (``bench --reference``), and livedigits beside it on the same frames.

The reference is what a straightforward live digit reader does with each frame: grey, an adaptive
threshold, the contours, a crop of each digit-sized one scaled into MNIST's 20x20 box on a 28x28
field, and the shipped Keras model called once per frame on all of them through a ``tf.function``.
It reads less (no lines, no shade, no tracking), so it is a yardstick of cost, not of accuracy:
issue 20 asks livedigits to cost half of it per frame or less.

Both read the same frames, decoded and resized beforehand (decoding costs both the same), one block
of frames each in turn, so that a change in the machine's load between them falls on both alike.
livedigits reads them as ``livedigits run`` reads a video: the backend it picks, tracking, reuse of
crops and of the view across frames.
"""

from __future__ import annotations

import time
from typing import Callable

import cv2
import numpy as np

from livedigits.util.stats import percentiles

#: The adaptive threshold's neighbourhood (pixels, odd) and offset (grey levels): a Gaussian-weighted
#: local mean over 31x31, ink at least 15 below it (tutorial values for a page at 640x480).
BLOCK = 31
OFFSET = 15
#: Contours shorter than this or taller than this share of the frame are not digits.
MIN_HEIGHT = 10
MAX_HEIGHT = 0.5
#: Frames read one after the other before the other pipeline takes its turn.
BLOCK_FRAMES = 10
#: At most this many frames are held in memory (decoded); more measured frames loop over them.
MAX_HELD = 120


class PlainPipeline:
    """Adaptive threshold, contours, crops, the shipped Keras model through one ``tf.function``."""

    def __init__(self) -> None:
        from livedigits.classify.modelfile import default_model_path, load_model

        self.model = load_model(default_model_path("keras"))
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)], reduce_retracing=True)
        def forward(x):
            return self.model(x, training=False)

        self._forward = forward
        self._forward(np.zeros((1, 28, 28, 1), np.float32))  # traced once, as a warm app would be

    def crops(self, image: np.ndarray) -> tuple[list[tuple[int, int, int, int]], np.ndarray]:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, BLOCK, OFFSET)
        # Every contour, not only the outer ones: a page's edge in view would enclose all the writing.
        contours = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        contours = contours[0] if len(contours) == 2 else contours[1]
        boxes, crops = [], []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if h < MIN_HEIGHT or h > MAX_HEIGHT * ink.shape[0] or w > 2 * h:
                continue
            side = max(w, h)
            square = np.zeros((side, side), np.uint8)
            square[(side - h) // 2: (side - h) // 2 + h, (side - w) // 2: (side - w) // 2 + w] = ink[y: y + h, x: x + w]
            field = np.zeros((28, 28), np.uint8)
            field[4:24, 4:24] = cv2.resize(square, (20, 20), interpolation=cv2.INTER_AREA)
            boxes.append((x, y, w, h))
            crops.append(field)
        batch = np.stack(crops)[..., None].astype(np.float32) / 255.0 if crops else np.zeros((0, 28, 28, 1), np.float32)
        return boxes, batch

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """The digit read in each box (argmax of the model)."""
        _, batch = self.crops(image)
        if not len(batch):
            return np.zeros(0, np.int64)
        return np.asarray(self._forward(batch)).argmax(axis=1)


def _frames(spec, frames: int, size, keep_aspect: bool = False) -> list:
    from livedigits.bench.options import fit_frame
    from livedigits.capture.sources import open_source
    from livedigits.engine.loop import resize_frame

    fit = fit_frame if keep_aspect else resize_frame
    held = []
    with open_source(spec) as source:
        for _ in range(min(frames, MAX_HELD)):
            frame = source.read(timeout=10.0)
            if frame is None:
                break
            held.append(fit(frame, size) if size is not None else frame)
    return held


def compare_reference(spec, frames: int, size, log: Callable[[str], None], keep_aspect: bool = False) -> dict:
    """Per frame, the plain pipeline and livedigits (the backend ``run`` picks) on the same ``frames``
    frames of ``spec``, in alternating blocks: wall and CPU milliseconds, and livedigits' share of the
    reference's cost (``ratio``: 0.5 is half). ``size``: every frame resized to it first, stretched, or with
    ``keep_aspect`` its aspect kept (``bench.options.fit_frame``)."""
    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer
    from livedigits.types import Frame

    held = _frames(spec, frames, size, keep_aspect)
    if not held:
        return {"frames": 0}
    log("reference: loading the Keras model for the plain pipeline")
    plain = PlainPipeline()
    classifier = load_classifier("auto")
    ours = Recognizer(classifier)
    times = {"reference": ([], []), "livedigits": ([], [])}
    # Warm both on the first block, unmeasured.
    for frame in held[:BLOCK_FRAMES]:
        plain(frame.image)
    count = 0

    def ours_one(k: int) -> None:
        # A video's frames, in order, as `run` reads them (a looped clip restarts: another page, to it).
        ours.process(Frame(k, k / 30.0, held[k % len(held)].image), source="reference")

    for k in range(BLOCK_FRAMES):
        ours_one(k)
    ours.reset()
    log(f"reference: {frames} frames each, {BLOCK_FRAMES} at a time in turn")
    while count < frames:
        block = range(count, min(frames, count + BLOCK_FRAMES))
        for name, run in (("livedigits", ours_one), ("reference", lambda k: plain(held[k % len(held)].image))):
            wall, cpu = times[name]
            for k in block:
                started, cpu_started = time.perf_counter(), time.process_time()
                run(k)
                wall.append((time.perf_counter() - started) * 1e3)
                cpu.append((time.process_time() - cpu_started) * 1e3)
        count = block.stop
    ours.close()
    out: dict = {"frames": count, "held": len(held), "size": list(held[0].image.shape[1::-1]),
                 "backend": classifier.name, "aspect_kept": bool(keep_aspect and size is not None)}
    for name, (wall, cpu) in times.items():
        out[name] = {"wall_ms": percentiles(wall), "cpu_ms": percentiles(cpu)}
    ref, mine = out["reference"], out["livedigits"]
    out["ratio"] = {
        "wall_mean": mine["wall_ms"]["mean"] / ref["wall_ms"]["mean"] if ref["wall_ms"]["mean"] else None,
        "wall_p50": mine["wall_ms"]["p50"] / ref["wall_ms"]["p50"] if ref["wall_ms"]["p50"] else None,
        "cpu_mean": mine["cpu_ms"]["mean"] / ref["cpu_ms"]["mean"] if ref["cpu_ms"]["mean"] else None,
    }
    return out


def reference_text(reference: dict) -> list[str]:
    """The report's lines for :func:`compare_reference`."""
    if not reference or not reference.get("frames"):
        return ["reference: no frames read"]
    ref, mine, ratio = reference["reference"], reference["livedigits"], reference["ratio"]
    size = "x".join(str(v) for v in reference["size"]) + (" (aspect kept)" if reference.get("aspect_kept") else "")
    lines = [f"reference (adaptive threshold, contours, Keras tf.function) vs livedigits ({reference['backend']}), "
             f"{reference['frames']} frames at {size}, in turns of {BLOCK_FRAMES}:"]
    for name, figures in (("reference", ref), ("livedigits", mine)):
        lines.append(f"  {name:<10} wall p50 {figures['wall_ms']['p50']:.2f} ms, mean {figures['wall_ms']['mean']:.2f} ms; "
                     f"CPU mean {figures['cpu_ms']['mean']:.2f} ms a frame")
    lines.append(f"  livedigits / reference: {ratio['wall_mean']:.2f}x wall (mean), {ratio['wall_p50']:.2f}x (p50), "
                 f"{ratio['cpu_mean']:.2f}x CPU (target <= 0.5x)")
    return lines

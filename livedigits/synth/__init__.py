"""Paper scenes with known ground truth: a handwritten page seen by a hand-held camera.

Used for the bundled demo samples, for tests, and for augmentation. Everything is
deterministic for a given seed: the page, the camera's path and every frame's
noise come from separate random streams derived from the seed, so frame ``i``
renders the same whether it is asked for alone or as part of a whole clip.

Two stages, and the jobs around them, one module each:

* ``page``: ``make_page`` draws a page (MNIST **test** digits written as numbers,
  non-digit marks, paper, ruling) and returns it with the tight ink box of every
  digit, number and mark in page pixels.
* ``camera``: the hand-held camera's path, a perspective homography per instant,
  and the page's truth mapped into a frame (each box's corners through that
  frame's homography, as an axis-aligned box).
* ``render``: ``SyntheticClip`` puts the page on a darker table and films it
  (lighting, a soft hand shadow, defocus and motion blur, sensor noise); the entry
  points render frames in memory or write a video or still with its truth JSON.
* ``styles``: writing habits MNIST rarely shows (a barred 7, a flagged 1).
* ``samples``: the bundled samples and the ``python -m livedigits.synth`` command.

Ground truth layout (what ``render_video`` writes as JSON)::

    {"source": "demo.mp4", "fps": 30, "size": [640, 480],
     "frames": [{"frame": 0,
                 "digits": [{"box": [x, y, w, h], "digit": 4}],
                 "numbers": [{"text": "407", "box": [x, y, w, h]}],
                 "marks": [{"box": [x, y, w, h], "kind": "letter"}]}]}

Boxes are ints in frame pixels, ``[x, y, width, height]``.

Example::

    from livedigits.synth import render_frame
    image, truth = render_frame(seed=3, size=(640, 480))
    image.shape                           # (480, 640, 3), uint8 BGR
    truth["frames"][0]["numbers"][0]      # {"text": "...", "box": [...]}
"""

from livedigits.synth.camera import MIN_VISIBLE_FRACTION, CameraOptions, CameraPath, frame_truth, make_camera_path, project_box
from livedigits.synth.page import (
    INK_ALPHA_LEVEL,
    Digits,
    Page,
    PageOptions,
    TrueDigit,
    TrueMark,
    TrueNumber,
    check_digits,
    make_page,
    mnist_test_digits,
)
from livedigits.synth.render import SyntheticClip, draw_truth, iter_frames, render_frame, render_still, render_video
from livedigits.synth.samples import MAX_SAMPLE_BYTES, SAMPLE_SEED, SAMPLE_STILL_SIZE, SAMPLE_VIDEO_FRAMES, generate_samples, main
from livedigits.synth.styles import USER_STYLES, restyle_digit, user_digits

__all__ = [
    "INK_ALPHA_LEVEL",
    "MAX_SAMPLE_BYTES",
    "MIN_VISIBLE_FRACTION",
    "SAMPLE_SEED",
    "SAMPLE_STILL_SIZE",
    "SAMPLE_VIDEO_FRAMES",
    "USER_STYLES",
    "CameraOptions",
    "CameraPath",
    "Digits",
    "Page",
    "PageOptions",
    "SyntheticClip",
    "TrueDigit",
    "TrueMark",
    "TrueNumber",
    "check_digits",
    "draw_truth",
    "frame_truth",
    "generate_samples",
    "iter_frames",
    "main",
    "make_camera_path",
    "make_page",
    "mnist_test_digits",
    "project_box",
    "render_frame",
    "render_still",
    "render_video",
    "restyle_digit",
    "user_digits",
]

"""What ``livedigits bench`` is asked to measure: :class:`BenchOptions` and ``--size`` parsing (the resize
itself is the engine's, :func:`livedigits.engine.loop.resize_frame`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from livedigits.capture.bundled import sample_path
from livedigits.classify.modelfile import BACKENDS
from livedigits.errors import SourceError, UsageError

#: The folder that holds the ``livedigits`` package: the checkout, or site-packages when installed.
ROOT = Path(__file__).resolve().parents[2]

#: The bundled clips ``bench`` knows by name (inside the installed package, or the checkout's samples/):
#: ``realistic`` (ruled paper on a dark table, one side in shade, a hand's shadow: what a real page
#: costs) and ``demo`` (an easier, evenly lit page).
BUNDLED = {"realistic": sample_path("realistic.mp4"), "demo": sample_path("demo.mp4")}
DEFAULT_SAMPLE = BUNDLED["realistic"]

BENCH_BACKENDS = (*BACKENDS, "all")
#: ``all`` runs the LiteRT backends first, so their memory figures are not those of a process that
#: already holds TensorFlow.
ALL_BACKENDS = ("lite", "lite-int8", "keras")


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"1280x720"`` -> ``(1280, 720)``; None stays None. UsageError on anything else."""
    if text is None:
        return None
    parts = text.lower().replace("*", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"--size expects WIDTHxHEIGHT in pixels, e.g. 1280x720, got {text!r}") from None
    if width < 16 or height < 16 or width > 16384 or height > 16384:
        raise UsageError(f"--size must be between 16x16 and 16384x16384, got {text!r}")
    return (width, height)


def fit_frame(frame, size: tuple[int, int]):
    """``frame`` (a :class:`livedigits.types.Frame`) brought to ``size`` (width, height) with its aspect kept:
    scaled as :func:`livedigits.engine.loop.resize_frame` scales (area averaging to shrink, linear to
    enlarge) until it fits, centred, and the sides left over filled with its own edge pixels repeated (a
    page on a table: more table). What ``bench --size WxH --keep-aspect`` reads."""
    import dataclasses

    import cv2

    height, width = frame.image.shape[:2]
    factor = min(size[0] / width, size[1] / height)
    fit = (max(1, min(size[0], round(width * factor))), max(1, min(size[1], round(height * factor))))
    shrink = fit[0] * fit[1] < width * height
    image = cv2.resize(frame.image, fit, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    left, top = (size[0] - fit[0]) // 2, (size[1] - fit[1]) // 2
    image = cv2.copyMakeBorder(image, top, size[1] - fit[1] - top, left, size[0] - fit[0] - left, cv2.BORDER_REPLICATE)
    return dataclasses.replace(frame, image=image, scale=1)


def sized_frame(frame, options: "BenchOptions"):
    """``frame`` as the bench reads it: at ``options.size`` (stretched, as ``run``'s resize does, or with its
    aspect kept: ``keep_aspect``), or as it came."""
    if options.size is None:
        return frame
    if options.keep_aspect:
        return fit_frame(frame, options.size)
    from livedigits.engine.loop import resize_frame

    return resize_frame(frame, options.size)


@dataclass(frozen=True)
class BenchOptions:
    """What to measure. ``source`` None means the bundled ``samples/realistic.mp4``; ``"demo"`` or
    ``"realistic"`` (not a file of that name) the bundled clip of that name."""

    source: str | int | None = None
    backend: str = "auto"
    """``auto`` (what ``livedigits run`` would pick), ``keras``, ``lite``, ``lite-int8`` or ``all``."""
    frames: int = 300
    """Measured frames per backend; a file is looped (reopened) to reach it."""
    warmup: int = 10
    """Frames processed first and not measured (first calls, caches, the tracker filling)."""
    size: tuple[int, int] | None = None
    """Resize every frame to ``(width, height)`` before processing, to measure larger inputs."""
    keep_aspect: bool = False
    """With ``size``: keep the frame's aspect (:func:`fit_frame`: scaled to fit, the rest filled with its own
    edge) instead of stretching it to ``size``. A 4:3 clip stretched to 16:9 makes every digit a third wider
    than written, so the touching-pair cuts fire on all of them; a 16:9 camera sees digits of normal shape."""
    realtime: bool = False
    """Pace a file at its frame rate, newest frame wins, as a camera would deliver it."""
    compare_naive: bool = False
    """Also run the seed article's way: Keras ``model.predict()`` once per crop, on the same crops."""
    naive_frames: int = 5
    """Frames for the naive comparison (it costs ~60-110 ms per crop)."""
    startup: bool = False
    """Time ``livedigits run SOURCE --headless --max-frames 1`` from the command to its first result."""
    startup_runs: int = 2
    micro_batch: int = 64
    micro_repeats: int = 100
    progress: bool = True
    streams: int = 1
    """Also read this many copies of the source at once, each paced at its frame rate, for ``frames``
    frames' worth of time, and report each stream's figures (1: not)."""
    find_streams: bool = False
    """Also find how many copies at the source's frame rate are held without dropping frames."""
    workers: int | None = None
    """``streams`` and ``find_streams``: the segmentation worker processes, as ``run --workers`` (None: one
    per core; 0: threads of one process)."""
    reference: bool = False
    """Also time the plain reference pipeline (adaptive threshold, contours, Keras through ``tf.function``)
    and livedigits on the same ``frames`` frames, in turns (:mod:`livedigits.bench.reference`)."""

    def __post_init__(self) -> None:
        if self.backend not in BENCH_BACKENDS:
            raise UsageError(f"--backend must be one of {', '.join(BENCH_BACKENDS)}, got {self.backend!r}")
        for name, low in (("frames", 1), ("warmup", 0), ("naive_frames", 1), ("startup_runs", 1),
                          ("micro_batch", 1), ("micro_repeats", 1), ("streams", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise UsageError(f"--{name.replace('_', '-')} must be an integer >= {low}, got {value!r}")
        if self.workers is not None:
            from livedigits.settings import check_option

            check_option("run", "workers", self.workers, "--workers")
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 16):
            raise UsageError(f"size must be (width, height) of at least 16 pixels, got {self.size!r}")
        if self.keep_aspect and self.size is None:
            raise UsageError("--keep-aspect needs --size WxH (the size to fit the frames into)")
        if self.keep_aspect and (self.streams > 1 or self.find_streams):
            raise UsageError("--keep-aspect applies to the stage table and --reference, not to --streams or "
                             "--find-streams (they resize in the engine, stretching); leave one of them out")

    @property
    def spec(self) -> str | int | None:
        """The source as ``open_source`` takes it."""
        if self.source is None or (self.source in BUNDLED and not Path(str(self.source)).exists()):
            sample = BUNDLED[self.source or "realistic"]
            if not sample.is_file():
                raise SourceError(f"the bundled sample {sample} is missing; pass a SOURCE (a video, camera index or stream)")
            return str(sample)
        return self.source

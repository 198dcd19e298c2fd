"""Sinks: where results and annotated frames go. Each follows the engine's
:class:`~livedigits.engine.loop.Sink` protocol (``open(streams)``, ``write(result, image)``, ``close()``):

- :class:`JsonlSink` (``--jsonl FILE`` or ``-``) and :class:`CsvSink` (``--csv``): records;
- :class:`VideoOutput` (``--output``): the annotated video, one file per source (:class:`VideoFile`
  writes one);
- :class:`ImageDirSink` (``--save-dir``) and :class:`CropSink` (``--save-crops``): images, each written
  whole or not at all (:func:`write_image`, also behind ``FrameResult.save``);
- :class:`WindowSink`: the window and its keys;
- :class:`NumberPrinter` and :class:`ProgressSink`: the terminal.

Each checks its output when built, so a bad path or a missing display fails with
:class:`~livedigits.errors.OutputError` before a run starts, not after the first frame.
A new kind of output is one class here with those three methods.
"""

from livedigits.sinks.console import NumberPrinter, ProgressSink
from livedigits.sinks.images import CropSink, ImageDirSink, write_image
from livedigits.sinks.paths import VIDEO_CODECS, check_output_folder, check_output_path, check_outputs_apart, check_video_path
from livedigits.sinks.records import CSV_COLUMNS, STDOUT, CsvSink, JsonlSink
from livedigits.sinks.video import DEFAULT_VIDEO_FPS, VideoFile, VideoOutput
from livedigits.sinks.window import WindowSink

__all__ = [
    "CSV_COLUMNS", "DEFAULT_VIDEO_FPS", "VIDEO_CODECS", "STDOUT", "CropSink", "CsvSink", "ImageDirSink",
    "JsonlSink", "NumberPrinter", "ProgressSink", "VideoFile", "VideoOutput", "WindowSink",
    "check_output_folder", "check_output_path", "check_outputs_apart", "check_video_path", "write_image",
]

"""livedigits: read handwritten digits and numbers live from a camera.

The Python API::

    from livedigits import Reader

    reader = Reader()
    result = reader("page.jpg")                  # a path, a NumPy array (BGR or grey) or a PIL image
    print([number.text for number in result.numbers])

Names are imported when first used, so ``import livedigits`` (and the command line, which imports it)
stays instant: OpenCV, NumPy and the model's runtime load with the first ``Reader``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (type checkers know the name)

__version__ = "0.1.0"

#: Public name -> (module, name in it).
_EXPORTS = {
    "Reader": ("livedigits.api", "Reader"),
    "Result": ("livedigits.types", "FrameResult"),
    "FrameResult": ("livedigits.types", "FrameResult"),
    "Frame": ("livedigits.types", "Frame"),
    "Box": ("livedigits.types", "Box"),
    "Detection": ("livedigits.types", "Detection"),
    "Number": ("livedigits.types", "Number"),
    "SegmentConfig": ("livedigits.vision.segment", "SegmentConfig"),
    "ReadingConfig": ("livedigits.reading.numbers", "ReadingConfig"),
    "LivedigitsError": ("livedigits.errors", "LivedigitsError"),
    "UsageError": ("livedigits.errors", "UsageError"),
    "DataError": ("livedigits.errors", "DataError"),
    "ModelError": ("livedigits.errors", "ModelError"),
    "SourceError": ("livedigits.errors", "SourceError"),
    "OutputError": ("livedigits.errors", "OutputError"),
    "ImageListError": ("livedigits.errors", "ImageListError"),
    "SettingError": ("livedigits.errors", "SettingError"),
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ imports on demand
    from livedigits.api import Reader
    from livedigits.errors import (DataError, ImageListError, LivedigitsError, ModelError, OutputError, SettingError,
                                   SourceError, UsageError)
    from livedigits.reading.numbers import ReadingConfig
    from livedigits.vision.segment import SegmentConfig
    from livedigits.types import Box, Detection, Frame, FrameResult, Number
    from livedigits.types import FrameResult as Result


def __getattr__(name: str):
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'livedigits' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

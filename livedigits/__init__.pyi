# What type checkers and editors see of `livedigits` (PEP 561): the public names of __init__.py, which
# imports them lazily at run time (by its __getattr__). Keep the two lists the same.
from livedigits.api import Reader as Reader
from livedigits.api import Result as Result
from livedigits.errors import DataError as DataError
from livedigits.errors import ImageListError as ImageListError
from livedigits.errors import LivedigitsError as LivedigitsError
from livedigits.errors import ModelError as ModelError
from livedigits.errors import OutputError as OutputError
from livedigits.errors import SettingError as SettingError
from livedigits.errors import SourceError as SourceError
from livedigits.errors import UsageError as UsageError
from livedigits.reading.numbers import ReadingConfig as ReadingConfig
from livedigits.types import Box as Box
from livedigits.types import Detection as Detection
from livedigits.types import Frame as Frame
from livedigits.types import FrameResult as FrameResult
from livedigits.types import Number as Number
from livedigits.vision.segment import SegmentConfig as SegmentConfig

__version__: str
__all__: list[str]

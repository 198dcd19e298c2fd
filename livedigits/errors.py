"""Errors a user can cause, each with a message that says what to do.

The CLI catches ``LivedigitsError`` and prints its message on one line, exiting
with ``exit_code``; anything else is a bug and keeps its traceback.
"""


class LivedigitsError(Exception):
    """Base of every error caused by input, environment or arguments."""

    exit_code = 1


class UsageError(LivedigitsError):
    """Bad arguments or options."""

    exit_code = 2


class SettingError(UsageError, ValueError):
    """A setting outside its documented range (``docs/settings.md``), from any entry point: the command
    line, a settings file, the environment or ``Reader``. A ``ValueError`` too, as Python expects of a
    bad value, and exit 2 on the command line."""


class DataError(LivedigitsError):
    """The MNIST data cannot be found, read or verified."""

    exit_code = 3


class ModelError(LivedigitsError):
    """A model file is missing, unreadable or of the wrong shape."""

    exit_code = 4


class SourceError(LivedigitsError):
    """A camera, file or stream cannot be opened or read."""

    exit_code = 5


class ImageListError(SourceError):
    """Some images of a list given to ``Reader`` could not be read. Nothing read is lost: ``results``
    has one entry per image given, in order, the result where it was read and None where it failed;
    ``errors`` maps each failed place (0-based) to its exception. The message names the first."""

    def __init__(self, message: str, results: list, errors: dict) -> None:
        super().__init__(message)
        self.results = results
        self.errors = errors

    def __reduce__(self):  # picklable (multiprocessing), with its results
        return (type(self), (str(self), self.results, self.errors))


class WorkerError(LivedigitsError):
    """A segmentation worker process (``run --workers``) could not be started, or kept dying: the message
    says which and how, and that ``--workers 0`` reads without worker processes."""


class OutputError(LivedigitsError):
    """An output file or folder cannot be written."""

    exit_code = 6

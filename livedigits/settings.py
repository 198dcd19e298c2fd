"""The one settings schema: every setting, its type and its valid range, checked by the same code wherever
settings enter — the command line, a TOML file (``--config FILE.toml``), the environment
(``$LIVEDIGITS_CONFIG`` names a file when ``--config`` is not given) and :class:`livedigits.Reader`.
A value out of range is one line and exit 2 on the command line, a :class:`~livedigits.errors.SettingError`
(a ``ValueError``) in Python. The ranges are listed in ``docs/settings.md``.

A file has up to four tables; each is optional, and one file can serve both commands (``run`` reads
``[run]``, ``serve`` reads ``[serve]``, both read ``[segment]`` and ``[reading]``)::

    [run]
    backend = "lite-int8"
    headless = true
    max_frames = 100

    [serve]
    host = "0.0.0.0"
    port = 8080

    [segment]                   # livedigits.vision.segment.SegmentConfig
    ink_contrast = 0.25
    roi = [0, 0, 640, 360]      # what --roi sets

    [reading]                   # livedigits.reading.numbers.ReadingConfig
    min_confidence = 0.7        # what --conf sets
    max_gap = 1.0

Option keys are the long option names in snake_case (``max_frames``), and ``source`` for the positional
SOURCE. The old spellings still work, with a deprecation warning: kebab-case keys (``max-frames``), and
``conf`` and ``roi`` in ``[run]`` or ``[serve]`` (now ``[reading] min_confidence`` and ``[segment] roi``,
their one home). An option given on the command line wins over the file. An unknown table or key, or a
value of the wrong type or out of range, is one error line that says what is allowed.
``livedigits config [--config FILE]`` prints every key with the value in effect, as a file to start from.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import warnings
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Iterator

from livedigits.errors import SettingError, UsageError

OPTION_SECTIONS = ("run", "serve")
FIELD_SECTIONS = ("segment", "reading")
SECTIONS = OPTION_SECTIONS + FIELD_SECTIONS
#: Options that make no sense in a file: how the program talks, and the file itself.
NOT_IN_FILES = {"help", "verbose", "quiet", "config", "func", "command", "version"}
#: Command-line flags that set a field (their one home is the field's table, not ``[run]``/``[serve]``).
FIELD_FLAGS = {"conf": ("reading", "min_confidence"), "roi": ("segment", "roi")}
#: The environment variable that names a settings file, read when ``--config`` (or ``Reader(config=)``)
#: is not given.
CONFIG_ENV = "LIVEDIGITS_CONFIG"

#: The keys of ``[run]`` and ``[serve]`` (the command's options, snake_case). The command line checks their
#: values with its own parser; ``Reader`` checks the few it uses (``READER_OPTIONS``) and knows the rest by
#: name, without building the parser. ``tests/test_settings.py`` holds these lists to the parser.
COMMAND_KEYS = {
    "run": ("source", "backend", "device", "model", "headless", "output", "jsonl", "csv", "save_dir", "save_crops",
            "debug", "realtime", "reconnect", "kiosk", "width", "height", "fps", "max_frames", "fail_fast",
            "ray", "resume", "camera_api", "answers", "no_arithmetic", "handwriting_only", "workers"),
    "serve": ("source", "host", "port", "backend", "device", "model", "max_upload_mb", "max_pixels", "width",
              "height", "fps", "token", "no_token", "allow_host", "camera_api", "handwriting_only"),
}
#: The numbers among the commands' options that have a range of their own (beyond what the option's type
#: says): checked on the command line and in a file alike (:func:`check_option`).
#: ``workers``: segmentation worker processes (0: threads); more than 64 is a typo on any machine.
OPTION_RANGES: dict[str, dict[str, "Range"]] = {}
#: The ``[run]`` options that bear on reading an image (``Reader`` takes them from a file).
READER_OPTIONS = ("model", "backend", "device")

#: A frame side no camera or file reaches; a region of interest beyond it is a typo.
MAX_FRAME_SIDE = 65_536

_log = logging.getLogger(__name__)


class SettingDeprecation(FutureWarning):
    """An old spelling of a setting, still accepted (a ``FutureWarning``: shown to users by default)."""


@dataclass(frozen=True)
class Range:
    """The valid values of a number: ``low`` to ``high``, each end included unless ``*_open``."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def text(self) -> str:
        """``from 0 to 1``, ``above 0 and at most 1``..."""
        low, high = _number(self.low), _number(self.high)
        if self.low_open:
            return f"above {low} and {'below' if self.high_open else 'at most'} {high}"
        return f"from {low} to {'below ' if self.high_open else ''}{high}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _share(low_open: bool = False) -> Range:
    return Range(0.0, 1.0, low_open=low_open)


#: The valid range of every number of ``[segment]`` and ``[reading]``. Why each bound: a share of the frame
#: or of a digit cannot pass 1 where more means nothing can be read (``min_paper = 5``) or a window grows
#: past the frame (``background_kernel = 1000`` asked for 24 GB); sizes in pixels are bounded by what a
#: frame holds; counts have a floor where 0 divides (``pixels_per_candidate``) or stops reading.
RANGES: dict[str, dict[str, Range]] = {
    "segment": {
        "ink_contrast": _share(low_open=True),
        "faint_contrast": _share(),
        "faint_reach": Range(0, 64),
        "background_side": Range(16, 2560),
        "background_kernel": _share(low_open=True),
        "shadow_edge": _share(),
        "min_paper": _share(),
        "table_width": _share(low_open=True),
        "min_height": Range(1, 2560),
        "max_height": _share(low_open=True),
        "min_area": Range(0, 1_000_000),
        "max_aspect": Range(0.1, 20),
        "min_density": _share(),
        "blob_density": _share(),
        "blob_aspect": Range(0, 20),
        "paper_margin": Range(0, 10),
        "border_contact": _share(),
        "line_length": _share(low_open=True),
        "line_digits": Range(0, 100, low_open=True),
        "merge_gap": Range(0, 10),
        "max_piece_height": Range(0, 2),
        "min_piece_overlap": _share(),
        "split_aspect": Range(0.1, 20),
        "pixels_per_candidate": Range(16, 1_000_000),
        "max_side": Range(64, 16_384),
    },
    "reading": {
        "min_confidence": _share(),
        "line_overlap": Range(0, 1),
        "max_line_gap": Range(0, 100),
        "max_height_ratio": Range(1, 10),
        "max_gap": Range(0, 20),
        "min_space": Range(0, 20),
        "space_ratio": Range(1, 20),
        "page_gaps": Range(2, 100_000),
        "page_separation": _share(),
        "max_within": Range(0, 20),
        "word_gap": Range(0, 10),
        "track_iou": _share(),
        "smoothing": _share(low_open=True),
        "max_missed": Range(0, 1000),
    },
}


OPTION_RANGES["run"] = {"workers": Range(0, 64)}


def check_option(section: str, key: str, value, where: str):
    """``value`` of option ``key`` of ``[section]`` (``run``, ``serve``), or a ``SettingError`` when it is
    outside its range (``OPTION_RANGES``); None (not given) passes."""
    bounds = OPTION_RANGES.get(section, {}).get(key)
    if value is not None and bounds is not None and value not in bounds:
        raise SettingError(f"{where}: must be {bounds.text()} (docs/settings.md), got {value!r}")
    return value


def _toml():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib


def field_classes() -> dict:
    from livedigits.reading.numbers import ReadingConfig
    from livedigits.vision.segment import SegmentConfig

    return {"segment": SegmentConfig, "reading": ReadingConfig}


def field_defaults() -> dict:
    from livedigits.reading.numbers import DEFAULT_READING
    from livedigits.vision.segment import DEFAULT_CONFIG

    return {"segment": DEFAULT_CONFIG, "reading": DEFAULT_READING}


# --------------------------------------------------------------------------- reading a file


def config_path(given=None) -> tuple[str | None, str | None]:
    """``(path, origin)`` of the settings file in effect: ``given``, else ``$LIVEDIGITS_CONFIG``, else
    none. ``origin`` names it in messages when it came from the environment."""
    if given is not None:
        return os.path.expanduser(os.fspath(given)), None
    env = os.environ.get(CONFIG_ENV, "").strip()
    if env:
        path = os.path.expanduser(env)
        return path, f"${CONFIG_ENV} ({path})"
    return None, None


def read(path: str | Path, origin: str | None = None) -> dict:
    """The file's tables, checked for known table names only."""
    p = Path(path)
    origin = origin or f"--config {p}"
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"{origin}: cannot read it ({exc.strerror or exc})") from None
    try:
        document = _toml().loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{origin}: not a valid TOML file ({exc})") from None
    return check_tables(document, origin)


def check_tables(document: dict, origin: str) -> dict:
    """``document`` (a read file, or the same tables as a dict given in Python), checked for known table
    names only; ``origin`` begins each error message (``--config FILE``)."""
    for key, value in document.items():
        if key not in SECTIONS:
            raise UsageError(f"{origin}: unknown table or key {key!r} at the top; known tables: {', '.join(SECTIONS)}")
        if not isinstance(value, dict):
            raise UsageError(f"{origin}: {key} must be a table ([{key}]), got {_kind(value)}")
    return document


def normalise(document: dict, command: str, origin: str) -> dict:
    """``document`` with the old spellings in their one place, each with a deprecation warning: kebab-case
    option keys in snake_case, and ``command``'s ``conf`` and ``roi`` moved to ``[reading] min_confidence``
    and ``[segment] roi`` (where they win over the table's own, as they always did). The other command's
    ``conf`` and ``roi`` are dropped (they never applied here). Two spellings of one option key are an
    error: which one was meant is not known."""
    out = {section: dict(table) for section, table in document.items()}
    for section in OPTION_SECTIONS:
        table = out.get(section)
        if not table:
            continue
        for key in list(table):
            if "-" in key:
                snake = key.replace("-", "_")
                if snake in table:
                    raise UsageError(f"{origin}: [{section}] {key} and {snake} are the same option; keep {snake}")
                _deprecated(f"{origin}: [{section}] {key}: write {snake} (kebab-case keys are deprecated)")
                table[snake] = table.pop(key)
        for key, (field_section, field_name) in FIELD_FLAGS.items():
            if key not in table:
                continue
            value = table.pop(key)
            if section != command:
                continue
            _deprecated(f"{origin}: [{section}] {key} is deprecated; write it as [{field_section}] {field_name}")
            # As before, it wins over the field's table; checked under the name the user wrote.
            out.setdefault(field_section, {})[field_name] = check_field(field_section, field_name, value,
                                                                        f"{origin}: [{section}] {key}")
    return out


def _deprecated(message: str) -> None:
    """Warn, pointing at the caller's own line (the first frame outside this package)."""
    import sys

    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("livedigits"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, SettingDeprecation, stacklevel=level)


@contextlib.contextmanager
def deprecations_logged() -> Iterator[None]:
    """For the command line: each deprecation warning raised meanwhile becomes one log line (a Python
    warning would print a source line no user wrote)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SettingDeprecation)
        try:
            yield
        finally:
            for warning in caught:
                if issubclass(warning.category, SettingDeprecation):
                    _log.warning(str(warning.message))
                else:
                    warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


def _kind(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _where(path, section, key, origin: str | None = None) -> str:
    return f"{origin or f'--config {path}'}: [{section}] {key}"


# --------------------------------------------------------------------------- [run] and [serve]


def option_actions(subparser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The options of a subcommand a file may set, by file key (the long option name in snake_case)."""
    actions = {}
    for action in subparser._actions:
        if action.dest in NOT_IN_FILES or action.dest in FIELD_FLAGS or action.default == argparse.SUPPRESS:
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        key = longs[0][2:].replace("-", "_") if longs else action.dest
        actions[key] = action
    return actions


def option_values(path, section: str, table: dict, subparser: argparse.ArgumentParser, *,
                  origin: str | None = None) -> dict:
    """``{dest: value}`` for the subparser's defaults, each value checked as the command line would
    (``table`` as :func:`normalise` leaves it). ``origin`` begins error messages instead of
    ``--config PATH``."""
    actions = option_actions(subparser)
    values = {}
    for key, value in table.items():
        action = actions.get(key)
        if action is None:
            raise UsageError(f"{_where(path, section, key, origin)}: unknown option; known: {', '.join(sorted(actions))}")
        where = _where(path, section, key, origin)
        values[action.dest] = check_option(section, key, _option_value(where, action, value), where)
    return values


def _option_value(where: str, action: argparse.Action, value):
    if isinstance(action, argparse._StoreTrueAction):
        if not isinstance(value, bool):
            raise UsageError(f"{where}: must be true or false, got {_kind(value)}")
        return value
    if action.dest == "source" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a camera index
    if action.type is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise UsageError(f"{where}: must be a whole number, got {_kind(value)} {value!r}")
    elif action.type is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise UsageError(f"{where}: must be a number, got {_kind(value)} {value!r}")
        value = float(value)
    elif not isinstance(value, str) and not (isinstance(value, list) and action.nargs is not None):
        raise UsageError(f"{where}: must be a string, got {_kind(value)} {value!r}")
    elif action.type is not None:
        try:
            value = action.type(value)
        except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
            raise UsageError(f"{where}: {exc}") from None
    if action.choices is not None and value not in action.choices:
        raise UsageError(f"{where}: must be one of {', '.join(map(str, action.choices))}, got {value!r}")
    return value


def reader_options(table: dict, origin: str) -> dict:
    """The ``[run]`` options ``Reader`` uses (``READER_OPTIONS``), checked; the command's other keys are
    known by name (an unknown one is an error, as for the command) and left to it."""
    from livedigits.classify.modelfile import BACKENDS, DEVICES

    known = COMMAND_KEYS["run"]
    choices = {"backend": BACKENDS, "device": DEVICES}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise UsageError(f"{origin}: [run] {key}: unknown option; known: {', '.join(sorted(known))}")
        if key not in READER_OPTIONS:
            continue
        if not isinstance(value, str):
            raise UsageError(f"{origin}: [run] {key}: must be a string, got {_kind(value)} {value!r}")
        if key in choices and value not in choices[key]:
            raise UsageError(f"{origin}: [run] {key}: must be one of {', '.join(choices[key])}, got {value!r}")
        values[key] = value
    return values


# --------------------------------------------------------------------------- [segment] and [reading]


def parse_roi(value, where: str = "--roi") -> tuple[int, int, int, int]:
    """A region of interest ``(x, y, w, h)`` in whole pixels, from ``"x,y,w,h"`` (the command line) or a
    list or tuple of four whole numbers (a file, Python): inside ``MAX_FRAME_SIDE``, width and height 1
    or more. Whether it meets the frame is known only with a frame (:func:`check_roi_fits`)."""
    if isinstance(value, str):
        try:
            value = [int(v) for v in value.split(",")]
        except ValueError:
            raise SettingError(f"{where} expects x,y,w,h in whole pixels, got {value!r}") from None
    if not isinstance(value, (list, tuple)) or len(value) != 4 or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise SettingError(f"{where}: must be [x, y, w, h] in whole pixels, got {value!r}")
    x, y, w, h = value
    if w <= 0 or h <= 0:
        raise SettingError(f"{where}: width and height must be above 0, got {list(value)!r}")
    if x < 0 or y < 0 or x + w > MAX_FRAME_SIDE or y + h > MAX_FRAME_SIDE:
        raise SettingError(f"{where}: must lie within 0-{MAX_FRAME_SIDE} pixels (x and y 0 or more), got {list(value)!r}")
    return (int(x), int(y), int(w), int(h))


def check_roi_fits(roi, width: int, height: int, source: str = "") -> None:
    """A region of interest that misses the frame altogether reads nothing: say so (exit 2) rather than
    run and read nothing."""
    if roi is None:
        return
    x, y, w, h = roi
    if x >= width or y >= height:
        where = f" of {source}" if source else ""
        raise SettingError(f"roi {list(roi)} lies outside the {width}x{height} frame{where}; x must be below "
                           f"{width} and y below {height}")


def check_field(section: str, name: str, value, where: str):
    """One field of ``[segment]`` or ``[reading]``: of its type and within its range; the value, typed."""
    cls = field_classes()[section]
    kinds = {f.name: str(f.type) for f in fields(cls)}
    if name not in kinds:
        raise UsageError(f"{where}: unknown setting; known: {', '.join(kinds)}")
    kind = kinds[name]
    if name == "roi":
        return None if value is None else parse_roi(value, where)
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise UsageError(f"{where}: must be a whole number, got {_kind(value)} {value!r}")
    elif kind == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise UsageError(f"{where}: must be a number, got {_kind(value)} {value!r}")
        value = float(value)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise UsageError(f"{where}: must be true or false, got {_kind(value)}")
        return value
    bounds = RANGES[section].get(name)
    if bounds is not None and value not in bounds:
        raise SettingError(f"{where}: must be {bounds.text()} (docs/settings.md), got {value!r}")
    return value


def check_config(section: str, config, where: str):
    """A whole ``SegmentConfig`` or ``ReadingConfig`` checked field by field and as a whole; returned."""
    for f in fields(config):
        check_field(section, f.name, getattr(config, f.name), f"{where}: [{section}] {f.name}")
    if section == "segment":
        # Sizes are bounded by the frame the segmentation sees: at most max_side on its longer side.
        for name in ("min_height", "background_side"):
            if getattr(config, name) > config.max_side:
                raise SettingError(f"{where}: [segment] {name} ({getattr(config, name)}) must be at most max_side "
                                   f"({config.max_side}), the largest frame side segmented")
    return config


def field_values(path, section: str, table: dict, *, origin: str | None = None, base=None):
    """The dataclass of ``section`` with the table's fields set, each checked against the field's type and
    range, on top of ``base`` (default: the defaults). ``origin`` begins error messages instead of
    ``--config PATH`` (settings given in Python)."""
    values = {key: check_field(section, key, value, _where(path, section, key, origin)) for key, value in table.items()}
    config = replace(field_defaults()[section] if base is None else base, **values)
    return check_config(section, config, origin or f"--config {path}")


def recognizer_settings(document: dict, *, path=None, origin: str | None = None, roi=None, conf=None,
                        roi_where: str = "--roi", conf_where: str = "--conf"):
    """``(SegmentConfig, ReadingConfig)``: the defaults, the document's ``[segment]`` and ``[reading]``
    (normalised), then ``roi`` and ``conf`` over them (the command's ``--roi`` and ``--conf``) — the same
    code for the command line and ``Reader``."""
    seg = field_values(path, "segment", document.get("segment", {}), origin=origin)
    reading = field_values(path, "reading", document.get("reading", {}), origin=origin)
    if roi is not None:
        seg = check_config("segment", replace(seg, roi=parse_roi(roi, roi_where)), roi_where)
    if conf is not None:
        reading = replace(reading, min_confidence=check_field("reading", "min_confidence", conf, conf_where))
    return seg, reading


def merged(section: str, base, given, where: str):
    """``base`` with ``given`` over it: a whole config replaces it (checked), a dict sets the fields it
    names; for ``Reader(segment=..., reading=...)``."""
    cls = field_classes()[section]
    if given is None:
        return base
    if isinstance(given, cls):
        return check_config(section, given, where)
    if isinstance(given, dict) or (hasattr(given, "keys") and not is_dataclass(given)):
        return field_values(None, section, dict(given), origin=where, base=base)
    raise TypeError(f"{section} must be a {cls.__name__} or a dict of its fields, got {type(given).__name__}")


# --------------------------------------------------------------------------- writing


def _toml_value(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else json.dumps(str(value))
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string: JSON's escapes are TOML's


def dump(subparsers: dict[str, argparse.ArgumentParser], document: dict | None = None, path="-") -> str:
    """Every key of the four tables with the value in effect (the defaults, then ``document``'s, as
    :func:`normalise` leaves it), as TOML. Options with no value are written as comments, so every key
    is listed."""
    document = document or {}
    lines = ["# livedigits settings: livedigits run --config FILE.toml (or serve); the command line wins.",
             "# Valid ranges: docs/settings.md."]
    for section in OPTION_SECTIONS:
        parser = subparsers[section]
        values = {a.dest: a.default for a in option_actions(parser).values()}
        values.update(option_values(path, section, document.get(section, {}), parser))
        lines += ["", f"[{section}]"]
        for key, action in option_actions(parser).items():
            value = values[action.dest]
            lines.append(f"# {key} =  (not set)" if value is None else f"{key} = {_toml_value(value)}")
    for section in FIELD_SECTIONS:
        config = field_values(path, section, document.get(section, {}))
        lines += ["", f"[{section}]"]
        for f in fields(config):
            value = getattr(config, f.name)
            lines.append(f"# {f.name} = (not set)" if value is None else f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"

"""Settings from a TOML file (``--config FILE.toml``): the options of ``run`` and ``serve`` and every field
of the segmentation and reading settings, checked before anything is opened.

A file has up to four tables; each is optional, and one file can serve both commands (``run`` reads
``[run]``, ``serve`` reads ``[serve]``, both read ``[segment]`` and ``[reading]``)::

    [run]
    backend = "lite-int8"
    headless = true
    roi = [0, 0, 640, 360]      # or "0,0,640,360"
    conf = 0.7                  # the reporting threshold (reading.min_confidence)

    [serve]
    host = "0.0.0.0"
    port = 8080

    [segment]                   # livedigits.vision.segment.SegmentConfig
    ink_contrast = 0.25

    [reading]                   # livedigits.reading.numbers.ReadingConfig
    max_gap = 1.0

Option keys are the long option names without the dashes (``max-frames`` or ``max_frames``), and
``source`` for the positional SOURCE. An option given on the command line wins over the file. An
unknown table or key, or a value of the wrong type, is one error line that lists what is known.
``livedigits config [--config FILE]`` prints every key with the value in effect, as a file to start from.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import fields, replace
from pathlib import Path

from livedigits.errors import UsageError

OPTION_SECTIONS = ("run", "serve")
FIELD_SECTIONS = ("segment", "reading")
SECTIONS = OPTION_SECTIONS + FIELD_SECTIONS
#: Options that make no sense in a file: how the program talks, and the file itself.
NOT_IN_FILES = {"help", "verbose", "quiet", "config", "func", "command", "version"}


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


def option_actions(subparser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The settable options of a subcommand, by file key (the long option name without dashes)."""
    actions = {}
    for action in subparser._actions:
        if action.dest in NOT_IN_FILES or action.default == argparse.SUPPRESS:
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        key = longs[0][2:] if longs else action.dest.replace("_", "-")
        actions[key] = action
    return actions


def read(path: str | Path) -> dict:
    """The file's tables, checked for known table names only."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"--config {p}: cannot read it ({exc.strerror or exc})") from None
    try:
        document = _toml().loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--config {p}: not a valid TOML file ({exc})") from None
    return check_tables(document, f"--config {p}")


def check_tables(document: dict, origin: str) -> dict:
    """``document`` (a read file, or the same tables as a dict given in Python), checked for known table
    names only; ``origin`` begins each error message (``--config FILE``)."""
    for key, value in document.items():
        if key not in SECTIONS:
            raise UsageError(f"{origin}: unknown table or key {key!r} at the top; known tables: {', '.join(SECTIONS)}")
        if not isinstance(value, dict):
            raise UsageError(f"{origin}: {key} must be a table ([{key}]), got {_kind(value)}")
    return document


def _kind(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _where(path, section, key, origin: str | None = None) -> str:
    return f"{origin or f'--config {path}'}: [{section}] {key}"


def option_values(path, section: str, table: dict, subparser: argparse.ArgumentParser, *,
                  origin: str | None = None) -> dict:
    """``{dest: value}`` for the subparser's defaults, each value checked as the command line would.
    ``origin`` begins error messages instead of ``--config PATH`` (settings given in Python)."""
    actions = option_actions(subparser)
    values = {}
    for key, value in table.items():
        action = actions.get(key) or actions.get(key.replace("_", "-"))
        if action is None:
            raise UsageError(f"{_where(path, section, key, origin)}: unknown option; known: {', '.join(sorted(actions))}")
        values[action.dest] = _option_value(_where(path, section, key, origin), action, value)
    return values


def _option_value(where: str, action: argparse.Action, value):
    if isinstance(action, argparse._StoreTrueAction):
        if not isinstance(value, bool):
            raise UsageError(f"{where}: must be true or false, got {_kind(value)}")
        return value
    if action.dest == "roi" and isinstance(value, list):
        if len(value) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise UsageError(f"{where}: must be [x, y, w, h] in whole pixels, got {value!r}")
        value = ",".join(str(v) for v in value)
    if action.dest == "source" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a camera index
    if action.type is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise UsageError(f"{where}: must be a whole number, got {_kind(value)} {value!r}")
    elif action.type is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise UsageError(f"{where}: must be a number, got {_kind(value)} {value!r}")
        value = float(value)
    elif not isinstance(value, str):
        raise UsageError(f"{where}: must be a string, got {_kind(value)} {value!r}")
    elif action.type is not None:
        try:
            value = action.type(value)
        except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
            raise UsageError(f"{where}: {exc}") from None
    if action.choices is not None and value not in action.choices:
        raise UsageError(f"{where}: must be one of {', '.join(map(str, action.choices))}, got {value!r}")
    return value


def field_values(path, section: str, table: dict, *, origin: str | None = None, base=None):
    """The dataclass of ``section`` with the table's fields set, each checked against the field's type, on
    top of ``base`` (default: the defaults). ``origin`` begins error messages instead of ``--config PATH``
    (settings given in Python)."""
    cls = field_classes()[section]
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in table.items():
        f = known.get(key)
        if f is None:
            raise UsageError(f"{_where(path, section, key, origin)}: unknown setting; known: {', '.join(known)}")
        values[key] = _field_value(_where(path, section, key, origin), str(f.type), value)
    return replace(field_defaults()[section] if base is None else base, **values)


def _field_value(where: str, kind: str, value):
    if kind.startswith("tuple"):  # the region of interest
        # A list from a file; a tuple too from Python (Reader(segment={"roi": (x, y, w, h)})).
        if not isinstance(value, (list, tuple)) or len(value) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise UsageError(f"{where}: must be [x, y, w, h] in whole pixels, got {value!r}")
        if value[2] <= 0 or value[3] <= 0:
            raise UsageError(f"{where}: width and height must be above 0, got {value!r}")
        return tuple(value)
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
    if value < 0:
        raise UsageError(f"{where}: must be 0 or more, got {value!r}")
    return value


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
    """Every key of the four tables with the value in effect (the defaults, then ``document``'s), as TOML.
    Options with no value are written as comments, so every key is listed."""
    document = document or {}
    lines = ["# livedigits settings: livedigits run --config FILE.toml (or serve); the command line wins."]
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

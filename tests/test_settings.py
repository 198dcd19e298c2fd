"""--config FILE.toml: every documented key reaches the command, is written back by `livedigits config`,
and a wrong file is one clear error line."""

import argparse
import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from livedigits import settings

from livedigits.cli import main as cli
from livedigits.reading.numbers import DEFAULT_READING
from livedigits.vision.segment import DEFAULT_CONFIG

tomllib = settings._toml()  # tomllib, or tomli on Python 3.10

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "livedigits", *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def other_value(action):
    """A valid value for an option that differs from its default."""
    if isinstance(action, argparse._StoreTrueAction):
        return True
    if action.choices:
        return next(c for c in action.choices if c != action.default)
    if action.type is int:
        return (action.default or 0) + 7
    if action.type is float:
        return (action.default or 0) + 2.5
    return "somewhere.mp4"


def other_field(f, default, section):
    """A valid value of a field that differs from its default: inside its documented range."""
    if default is None:
        return [3, 4, 50, 60]
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    bounds = settings.RANGES[section][f.name]
    value = round(default * 1.5 + 0.01, 4)
    return value if value in bounds else round((default + bounds.low) / 2, 4)


def full_document():
    parser = cli.build_parser()
    sections = parser.parse_args(["config"]).sections
    document = {section: {key: other_value(action) for key, action in settings.option_actions(sections[section]).items()}
                for section in settings.OPTION_SECTIONS}
    for section, default in (("segment", DEFAULT_CONFIG), ("reading", DEFAULT_READING)):
        document[section] = {f.name: other_field(f, getattr(default, f.name), section) for f in fields(default)}
    return document


def write(path, document):
    text = "\n".join(f"[{section}]\n" + "\n".join(f"{k} = {settings._toml_value(v)}" for k, v in table.items())
                     for section, table in document.items())
    path.write_text(text + "\n")
    return path


@pytest.mark.parametrize("command", ["run", "serve"])
def test_every_key_reaches_the_command(tmp_path, command):
    document = full_document()
    path = write(tmp_path / "all.toml", document)
    parser = cli.build_parser()
    args = parser.parse_args([command, "--config", str(path)])
    args = cli._with_settings_file(parser, args, [command, "--config", str(path)])
    actions = settings.option_actions(args.sections[command])
    for key, value in document[command].items():
        assert getattr(args, actions[key].dest) == value, key
    seg, reading = cli._recognizer_settings(args)
    for f in fields(DEFAULT_READING):
        assert getattr(reading, f.name) == pytest.approx(document["reading"][f.name]), f.name
    for f in fields(DEFAULT_CONFIG):
        expected = document["segment"][f.name]
        assert getattr(seg, f.name) == (tuple(expected) if f.name == "roi" else pytest.approx(expected)), f.name


def test_config_writes_back_what_it_reads(tmp_path):
    document = full_document()
    path = write(tmp_path / "all.toml", document)
    done = run_cli("config", "--config", str(path))
    assert done.returncode == 0, done.stderr
    again = tomllib.loads(done.stdout)
    for section, table in document.items():
        for key, value in table.items():
            got = again[section][key]
            assert got == value, (section, key)
    second = write(tmp_path / "again.toml", again)
    assert run_cli("config", "--config", str(second)).stdout == done.stdout  # a fixed point
    defaults = run_cli("config")
    assert tomllib.loads(defaults.stdout)["segment"]["ink_contrast"] == DEFAULT_CONFIG.ink_contrast
    for key in settings.option_actions(cli.build_parser().parse_args(["config"]).sections["run"]):
        assert f"{key} =" in defaults.stdout  # every key is listed, set or not


def test_command_line_wins_and_settings_change_the_reading(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[run]\nheadless = true\nmax_frames = 1\n[segment]\nmin_height = 2000\n')
    done = run_cli("run", "samples/page.png", "--config", str(path), "--jsonl", str(tmp_path / "a.jsonl"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "a.jsonl").read_text())["detections"] == []  # no digit is 2000 px tall
    path.write_text('[run]\nheadless = true\n[reading]\nmin_confidence = 0.6\n')
    done = run_cli("run", "samples/page.png", "--config", str(path), "--conf", "0.6", "-q")
    assert len(done.stdout.split()) == 9


@pytest.mark.parametrize("text, message", [
    ("[run]\nheadles = true\n", "[run] headles: unknown option; known: answers, backend, camera_api, csv,"),
    ("[segment]\nink = 0.3\n", "[segment] ink: unknown setting; known: ink_contrast, faint_contrast"),
    ("[reading]\nmax_gap = \"wide\"\n", "[reading] max_gap: must be a number"),
    ("[segment]\nmin_height = -3\n", "[segment] min_height: must be from 1 to 2,560"),
    ("[run]\nbackend = \"cuda\"\n", "[run] backend: must be one of auto, keras, lite, lite-int8"),
    ("[run]\nheadless = 1\n", "[run] headless: must be true or false"),
    ("[serve]\nport = 80.5\n", "[serve] port: must be a whole number"),
    ("backend = \"lite\"\n", "unknown table or key 'backend' at the top; known tables: run, serve, segment, reading"),
    ("[run\n", "not a valid TOML file"),
])
def test_a_wrong_file_is_one_clear_line(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    done = run_cli("run", "samples/page.png", "--headless", "--config", str(path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("livedigits: error: --config") and message in done.stderr, done.stderr


def test_conf_out_of_range_and_a_missing_file():
    done = run_cli("run", "samples/page.png", "--headless", "--conf", "1.5")
    assert done.returncode == 2 and "--conf: must be from 0 to 1" in done.stderr
    done = run_cli("run", "samples/page.png", "--headless", "--config", "no-such.toml")
    assert done.returncode == 2 and "cannot read it" in done.stderr


def test_serve_passes_the_files_settings_on(tmp_path, monkeypatch):
    import livedigits.serve

    seen = {}
    monkeypatch.setattr(livedigits.serve, "serve", lambda spec, **kwargs: seen.update(kwargs, spec=spec) or 0)
    path = tmp_path / "s.toml"
    path.write_text('[serve]\nport = 8099\nsource = 0\n[segment]\nmin_height = 14\n[reading]\nmax_gap = 1.2\n[run]\nheadless = true\n')
    assert cli.main(["serve", "--config", str(path), "--conf", "0.75"]) == 0
    assert seen["spec"] == ["0"] and seen["port"] == 8099
    assert seen["segment_config"].min_height == 14
    assert seen["reading_config"].max_gap == 1.2 and seen["reading_config"].min_confidence == 0.75


# --------------------------------------------------------------------------- one schema, bounded


def test_the_schema_knows_every_option_of_the_commands_without_the_parser():
    """Reader checks a [run] table by settings.COMMAND_KEYS (it must not build the CLI parser): the
    lists must be the parser's."""
    sections = cli.build_parser().parse_args(["config"]).sections
    for command in settings.OPTION_SECTIONS:
        assert sorted(settings.option_actions(sections[command])) == sorted(settings.COMMAND_KEYS[command]), command


def test_the_api_does_not_load_the_command_line():
    code = ("import sys; from livedigits import Reader; Reader(config={'run': {'backend': 'lite-int8', 'headless': True}}); "
            "print('livedigits.cli.main' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"  # the parser's module was never imported


def test_every_default_is_inside_its_documented_range_and_every_field_has_one():
    for section, default in (("segment", DEFAULT_CONFIG), ("reading", DEFAULT_READING)):
        for f in fields(default):
            if f.name == "roi" or isinstance(getattr(default, f.name), bool):  # a switch has no range
                continue
            assert f.name in settings.RANGES[section], f"{section}.{f.name} has no documented range"
            assert getattr(default, f.name) in settings.RANGES[section][f.name], f.name
    documented = (ROOT / "docs" / "settings.md").read_text()
    for section, table in settings.RANGES.items():
        for name, bounds in table.items():
            assert f"`{name}`" in documented and bounds.text() in documented, f"{section}.{name} in docs/settings.md"


def _just_outside(bounds, integer):
    step = 1 if integer else max(1e-6, (bounds.high - bounds.low) * 1e-3)
    return [bounds.low - (0 if bounds.low_open else step), bounds.high + (0 if bounds.high_open else step)]


@pytest.mark.parametrize("section", ["segment", "reading"])
def test_a_value_just_outside_its_range_is_exit_2_on_every_entry_point(tmp_path, section, monkeypatch):
    """The same check where settings enter: a file on the command line, $LIVEDIGITS_CONFIG, and Reader."""
    from livedigits import Reader
    from livedigits.errors import SettingError

    default = DEFAULT_CONFIG if section == "segment" else DEFAULT_READING
    page = tmp_path / "small.png"
    import cv2

    cv2.imwrite(str(page), cv2.resize(cv2.imread(str(ROOT / "samples" / "page.png")), (160, 120)))
    path = tmp_path / "s.toml"
    for name, bounds in settings.RANGES[section].items():
        integer = isinstance(getattr(default, name), int)
        for value in _just_outside(bounds, integer):
            value = int(value) if integer else value
            path.write_text(f"[{section}]\n{name} = {settings._toml_value(value)}\n")
            assert cli.main(["run", str(page), "--headless", "-q", "--config", str(path)]) == 2, (name, value)
            monkeypatch.setenv(settings.CONFIG_ENV, str(path))
            assert cli.main(["run", str(page), "--headless", "-q"]) == 2, (name, value)
            monkeypatch.delenv(settings.CONFIG_ENV)
            with pytest.raises(SettingError, match=rf"\[{section}\] {name}: must be"):
                settings.field_values(None, section, {name: value}, origin="Reader(segment=...)")
            with pytest.raises(ValueError):
                Reader(**{section: {name: value}})


def test_old_spellings_work_with_a_deprecation_warning(tmp_path, caplog):
    path = tmp_path / "old.toml"
    path.write_text('[run]\nmax-frames = 1\nconf = 0.7\nroi = "0,0,640,480"\nheadless = true\n')
    parser = cli.build_parser()
    argv = ["run", "samples/page.png", "--config", str(path)]
    with caplog.at_level("WARNING", logger="livedigits.settings"):
        args = cli._with_settings_file(parser, parser.parse_args(argv), argv)
    said = " | ".join(r.getMessage() for r in caplog.records)
    assert "[run] max-frames: write max_frames" in said
    assert "[run] conf is deprecated; write it as [reading] min_confidence" in said
    assert "[run] roi is deprecated; write it as [segment] roi" in said
    assert args.max_frames == 1
    seg, reading = cli._recognizer_settings(args)
    assert seg.roi == (0, 0, 640, 480) and reading.min_confidence == 0.7
    from livedigits import Reader

    with pytest.warns(settings.SettingDeprecation, match=r"\[run\] conf is deprecated"):
        reader = Reader(config={"run": {"conf": 0.7}})
    assert reader.reading_config.min_confidence == 0.7
    path.write_text('[run]\nmax-frames = 1\nmax_frames = 2\n')
    done = run_cli("run", "samples/page.png", "--headless", "--config", str(path))
    assert done.returncode == 2 and "max-frames and max_frames are the same option; keep max_frames" in done.stderr


# The CLI in a child that writes its own peak resident memory (VmHWM, in kB) to a file as it exits. The
# child's rusage would not do: Linux carries the peak of the forked copy of this (large) test process
# across exec into ru_maxrss, while VmHWM belongs to the new program alone.
_MEASURED = """import atexit, os, sys
def _peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["LIVEDIGITS_TEST_PEAK"], "w") as out:
        out.write(kb)
atexit.register(_peak)
from livedigits.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _run_measured(tmp_path, *args) -> tuple[int, str, int]:
    peak = tmp_path / "peak_kb.txt"
    peak.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", _MEASURED, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "LIVEDIGITS_TEST_PEAK": str(peak)}, timeout=300)
    # No file means the child never reached a normal exit (killed, for instance for its memory).
    return done.returncode, done.stderr, int(peak.read_text())


def test_absurd_segment_values_are_exit_2_quickly_and_in_little_memory(tmp_path):
    """The values that took the machine down (24 GB for background_kernel = 1000) or gave a traceback,
    each in its own run, measured by the child's own peak memory (VmHWM)."""
    absurd = ["background_kernel = 1000.0", "background_side = 0", "ink_contrast = 1e308", "min_paper = 5",
              "max_side = 1", "min_height = 100000000000000000000", "min_height = 1e20", "pixels_per_candidate = 0",
              "roi = [5000, 5000, 10, 10]"]
    for line in absurd:
        path = tmp_path / "absurd.toml"
        path.write_text(f"[segment]\n{line}\n")
        returncode, stderr, peak_kb = _run_measured(tmp_path, "run", "samples/page.png", "--headless", "-q",
                                                    "--config", str(path))
        assert returncode == 2, (line, stderr)
        assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
        assert peak_kb < 1.5 * 1024 * 1024, (line, peak_kb)
    path.write_text("[reading]\nline_overlap = 1e308\n")
    done = run_cli("run", "samples/page.png", "--headless", "--config", str(path))
    assert done.returncode == 2 and "[reading] line_overlap: must be from 0 to 1" in done.stderr


def test_settings_at_their_bounds_read_in_little_memory(tmp_path):
    """Every field at the edge of its range at once (the costliest corner: the paper estimated on the
    whole frame with a window as wide as it, the largest hysteresis, the smallest candidate budget):
    exit 0, measured by the child's own peak memory."""
    corners = {"background_side": 2560, "background_kernel": 1.0, "table_width": 1.0, "faint_reach": 64,
               "faint_contrast": 0.0, "min_height": 1, "min_area": 0, "pixels_per_candidate": 16, "max_aspect": 20.0,
               "min_density": 0.0, "split_aspect": 0.1, "merge_gap": 10.0, "paper_margin": 0.0, "max_side": 16384,
               "line_digits": 100.0, "line_length": 1.0}
    path = tmp_path / "corner.toml"
    path.write_text("[segment]\n" + "".join(f"{k} = {settings._toml_value(v)}\n" for k, v in corners.items()))
    returncode, stderr, peak_kb = _run_measured(tmp_path, "run", "samples/page.png", "--headless", "-q",
                                                "--config", str(path))
    assert returncode == 0, stderr
    assert peak_kb < 1.5 * 1024 * 1024, peak_kb


def _any_value():
    from hypothesis import strategies as st

    return st.one_of(
        st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=-2.0, max_value=3.0),
        st.integers(min_value=-3, max_value=5000),
        st.booleans(),
        st.text(max_size=5),
        st.lists(st.integers(min_value=-10, max_value=100_000), max_size=5),
    )


def test_random_values_for_every_field_never_give_a_traceback(tmp_path_factory):
    """A property test: random values (any type, any size, in range or not) for random fields of
    [segment] and [reading] give exit 0 or 2, never a traceback, and the process's peak memory stays
    under 1.5 GB above where it began."""
    import resource

    import cv2
    from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

    folder = tmp_path_factory.mktemp("property")
    page = folder / "small.png"
    cv2.imwrite(str(page), cv2.resize(cv2.imread(str(ROOT / "samples" / "page.png")), (320, 240)))
    names = [("segment", f.name) for f in fields(DEFAULT_CONFIG)] + [("reading", f.name) for f in fields(DEFAULT_READING)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    codes = []

    @hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(names), _any_value(), min_size=1, max_size=4))
    def check(chosen):
        document = {}
        for (section, name), value in chosen.items():
            document.setdefault(section, {})[name] = value
        path = folder / "random.toml"
        path.write_text("\n".join(f"[{section}]\n" + "\n".join(f"{k} = {settings._toml_value(v)}" for k, v in table.items())
                                  for section, table in document.items()) + "\n")
        code = cli.main(["run", str(page), "--headless", "-q", "--config", str(path)])
        codes.append(code)
        assert code in (0, 2), (document, code)

    check()
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 1.5 * 1024 * 1024, grown_kb
    assert 2 in codes  # most random values are out of range

"""--config FILE.toml: every documented key reaches the command, is written back by `livedigits config`,
and a wrong file is one clear error line."""

import argparse
import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from livedigits import settings

from livedigits.cli.main import main as cli
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
    if action.dest == "roi":
        return [1, 2, 30, 40]
    if action.type is int:
        return (action.default or 0) + 7
    if action.type is float:
        return 0.5 if action.dest == "conf" else (action.default or 0) + 2.5
    return "somewhere.mp4"


def other_field(f, default):
    if default is None:
        return [3, 4, 50, 60]
    if isinstance(default, int):
        return default + 1
    return round(default * 1.5 + 0.01, 4)


def full_document():
    parser = cli.build_parser()
    sections = parser.parse_args(["config"]).sections
    document = {section: {key: other_value(action) for key, action in settings.option_actions(sections[section]).items()}
                for section in settings.OPTION_SECTIONS}
    for section, default in (("segment", DEFAULT_CONFIG), ("reading", DEFAULT_READING)):
        document[section] = {f.name: other_field(f, getattr(default, f.name)) for f in fields(default)}
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
        got = getattr(args, actions[key].dest)
        expected = ",".join(map(str, value)) if key == "roi" else value
        assert got == expected, key
    seg, reading = cli._recognizer_settings(args)
    for f in fields(DEFAULT_READING):
        expected = document[command]["conf"] if f.name == "min_confidence" else document["reading"][f.name]
        assert getattr(reading, f.name) == pytest.approx(expected), f.name
    for f in fields(DEFAULT_CONFIG):
        expected = (1, 2, 30, 40) if f.name == "roi" else document["segment"][f.name]  # --roi (from [run]) wins
        assert getattr(seg, f.name) == (expected if f.name == "roi" else pytest.approx(expected)), f.name


def test_config_writes_back_what_it_reads(tmp_path):
    document = full_document()
    path = write(tmp_path / "all.toml", document)
    done = run_cli("config", "--config", str(path))
    assert done.returncode == 0, done.stderr
    again = tomllib.loads(done.stdout)
    for section, table in document.items():
        for key, value in table.items():
            got = again[section][key]
            assert got == (",".join(map(str, value)) if key == "roi" and section in ("run", "serve") else value), (section, key)
    second = write(tmp_path / "again.toml", again)
    assert run_cli("config", "--config", str(second)).stdout == done.stdout  # a fixed point
    defaults = run_cli("config")
    assert tomllib.loads(defaults.stdout)["segment"]["ink_contrast"] == DEFAULT_CONFIG.ink_contrast
    for key in settings.option_actions(cli.build_parser().parse_args(["config"]).sections["run"]):
        assert f"{key} =" in defaults.stdout  # every key is listed, set or not


def test_command_line_wins_and_settings_change_the_reading(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[run]\nheadless = true\nmax-frames = 1\n[segment]\nmin_height = 2000\n')
    done = run_cli("run", "samples/page.png", "--config", str(path), "--jsonl", str(tmp_path / "a.jsonl"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "a.jsonl").read_text())["detections"] == []  # no digit is 2000 px tall
    path.write_text('[run]\nheadless = true\n[reading]\nmin_confidence = 0.6\n')
    done = run_cli("run", "samples/page.png", "--config", str(path), "--conf", "0.6", "-q")
    assert len(done.stdout.split()) == 9


@pytest.mark.parametrize("text, message", [
    ("[run]\nheadles = true\n", "[run] headles: unknown option; known: answers, backend, camera-api, conf,"),
    ("[segment]\nink = 0.3\n", "[segment] ink: unknown setting; known: ink_contrast, faint_contrast"),
    ("[reading]\nmax_gap = \"wide\"\n", "[reading] max_gap: must be a number"),
    ("[segment]\nmin_height = -3\n", "[segment] min_height: must be 0 or more"),
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
    assert done.returncode == 2 and "--conf is a probability" in done.stderr
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

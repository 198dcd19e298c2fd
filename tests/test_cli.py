"""The command line as a user meets it: help, and one clear line for each mistake."""

import subprocess
import sys
import time

import pytest


def cli(*args, timeout=120, env=None):
    return subprocess.run([sys.executable, "-m", "livedigits", *args], capture_output=True, text=True, timeout=timeout, env=env)


def _one_clear_line(done):
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if line.startswith("livedigits: error:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_help_is_fast_and_lists_the_commands():
    started = time.monotonic()
    done = cli("--help")
    elapsed = time.monotonic() - started
    assert done.returncode == 0
    for command in ("train", "evaluate", "export", "data", "run"):
        assert command in done.stdout
    assert "exit codes" in done.stdout
    assert elapsed < 5  # generous for a loaded machine; TensorFlow alone takes longer to import
    assert "tensorflow" not in cli("--version").stderr.lower()


def test_help_does_not_import_tensorflow():
    code = "import sys; from livedigits.cli.main import build_parser; build_parser(); print('tensorflow' in sys.modules, 'cv2' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False False"


def test_help_and_version_load_no_image_or_model_library():
    """The package's names (``livedigits.Reader``...) load on first use, so the command line's start pays
    for none of them."""
    code = ("import sys\nfrom livedigits.cli.main import main\n"
            "for argv in (['--help'], ['--version']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "heavy = ('numpy', 'cv2', 'PIL', 'ai_edge_litert', 'tensorflow')\n"
            "print('loaded:', sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "livedigits" in done.stdout
    assert "loaded: []" in done.stderr, done.stderr


def test_missing_model(tmp_path):
    done = cli("evaluate", "--model", str(tmp_path / "missing.keras"))
    assert done.returncode == 4
    assert "missing.keras" in _one_clear_line(done)


def test_corrupt_model(tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"this is not a model")
    done = cli("evaluate", "--model", str(bad))
    assert done.returncode == 4
    assert "bad.keras" in _one_clear_line(done)


def test_corrupt_data_file(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"\x00" * 100)
    done = cli("data", "fetch", "--file", str(bad))
    assert done.returncode == 3
    assert "mnist.npz" in _one_clear_line(done)


def test_no_data_and_no_network(tmp_path):
    env = {**__import__("os").environ, "LIVEDIGITS_DATA": str(tmp_path / "empty")}
    done = cli("data", "fetch", "--no-network", env=env)
    assert done.returncode == 3
    line = _one_clear_line(done)
    assert "Tried" in line and "--file" in line


def test_missing_video(tmp_path):
    done = cli("run", str(tmp_path / "nope.mp4"), "--headless", "--jsonl", str(tmp_path / "out.jsonl"))
    assert done.returncode == 5
    assert "nope.mp4" in _one_clear_line(done)
    assert not (tmp_path / "out.jsonl").exists()  # nothing half-written


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("just some text\n" * 50)
    done = cli("run", str(fake), "--headless")
    assert done.returncode == 5
    _one_clear_line(done)


def test_output_folder_that_does_not_exist(tmp_path):
    done = cli("run", "samples/page.png", "--headless", "--jsonl", str(tmp_path / "no" / "such" / "out.jsonl"))
    assert done.returncode == 6
    assert "no/such" in _one_clear_line(done)


def test_window_without_display_says_use_headless(tmp_path, monkeypatch):
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = cli("run", "samples/page.png", env=env)
    assert done.returncode == 6
    assert "--headless" in _one_clear_line(done)


def test_each_command_offers_the_choices_its_module_knows():
    from livedigits.bench import BENCH_BACKENDS
    from livedigits.classify.backends import BACKENDS, DEVICES
    from livedigits.cli.main import _subparsers, build_parser
    from livedigits.train.training import ARCHS, AUGMENTS

    choices = {}
    for command in _subparsers(build_parser()):
        for action in command._actions:
            if action.choices is not None and action.dest in ("backend", "device", "arch", "augment"):
                choices[(command.prog.split()[-1], action.dest)] = tuple(action.choices)
    for command in ("run", "serve", "evaluate", "collect"):
        assert choices[(command, "backend")] == BACKENDS
    for command in ("run", "serve", "evaluate"):
        assert choices[(command, "device")] == DEVICES
    assert choices[("bench", "backend")] == BENCH_BACKENDS == (*BACKENDS, "all")
    assert (choices[("train", "arch")], choices[("train", "augment")]) == (ARCHS, AUGMENTS)


@pytest.mark.parametrize("args", [["run", "x.mp4", "--roi", "1,2,3"], ["train", "--arch", "resnet"]])
def test_bad_options(args):
    done = cli(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr

"""The command line as a user meets it: help, and one clear line for each mistake."""

import subprocess
import sys

import pytest


def cli(*args, timeout=120, env=None):
    return subprocess.run([sys.executable, "-m", "livedigits", *args], capture_output=True, text=True, timeout=timeout, env=env)


def _one_clear_line(done):
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if line.startswith("livedigits: error:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_help_is_fast_and_lists_the_commands():
    done = cli("--help")
    assert done.returncode == 0
    for command in ("train", "evaluate", "export", "data", "run"):
        assert command in done.stdout
    assert "exit codes" in done.stdout
    assert "tensorflow" not in cli("--version").stderr.lower()
    # Fast because it loads neither TensorFlow nor the classifier (TensorFlow alone takes seconds to import):
    # asked of the interpreter, not of a clock, so a loaded machine cannot fail it.
    probe = ("import sys, contextlib, io\nfrom livedigits.cli.main import main\n"
             "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'ai_edge_litert')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


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
    # A video's window is the point of it: without a display that is an error that says --headless.
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = cli("run", "samples/demo.mp4", env=env)
    assert done.returncode == 6
    assert "--headless" in _one_clear_line(done)


PAGE_NUMBERS = ["8159", "9869", "61", "41", "471", "6668", "3", "9183", "2322"]


def test_a_still_without_a_display_is_read_without_a_window():
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = cli("run", "samples/page.png", env=env)  # no --headless
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == PAGE_NUMBERS
    assert "error" not in done.stderr


def test_one_image_prints_its_numbers_and_the_timing_report_is_for_verbose():
    normal = cli("run", "samples/page.png", "--headless")
    assert normal.returncode == 0, normal.stderr
    assert normal.stdout.split() == PAGE_NUMBERS
    assert normal.stderr.strip().splitlines() == ["reading samples/page.png with the lite-int8 backend on the cpu"]
    verbose = cli("run", "samples/page.png", "--headless", "-v")
    assert verbose.stdout.split() == PAGE_NUMBERS
    assert "frames: 1 processed" in verbose.stderr and "latency ms" in verbose.stderr and "segment ms" in verbose.stderr
    # A video says how the run went in one line; its latency per stage is for -v too.
    video = cli("run", "samples/demo.mp4", "--headless", "--max-frames", "10")
    assert "frames: 10 processed" in video.stderr and "latency ms" not in video.stderr


def test_quiet_prints_the_same_numbers_and_nothing_else():
    for source in ("samples/demo.mp4", "samples/page.png"):
        normal = cli("run", source, "--headless")
        quiet = cli("run", source, "--headless", "-q")
        assert quiet.returncode == normal.returncode == 0
        assert quiet.stdout == normal.stdout and quiet.stdout.strip()
        assert quiet.stderr == ""


def test_an_output_of_an_unknown_kind_is_a_usage_error(tmp_path):
    done = cli("run", "samples/demo.mp4", "--headless", "--output", str(tmp_path / "out.gif"))
    assert done.returncode == 2
    assert "out.gif" in _one_clear_line(done)
    assert list(tmp_path.iterdir()) == []


def test_help_lists_run_first_and_training_last():
    done = cli("--help")
    listed = [line.split()[0] for line in done.stdout.split("COMMAND\n", 1)[1].split("\noptions:")[0].splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert listed[0] == "run"
    training = [listed.index(name) for name in ("data", "train", "evaluate", "export", "finetune")]
    assert min(training) > max(listed.index(name) for name in ("run", "serve", "bench", "cameras", "collect"))


@pytest.mark.parametrize("argv", [["page.png"], ["-q", "samples/page.png"], ["0"]])
def test_a_forgotten_run_names_the_command(argv):
    done = cli(*argv)
    assert done.returncode == 2
    line = _one_clear_line(done)
    assert f"livedigits run {argv[-1]}" in line and "is not a command" in line


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


@pytest.mark.parametrize("args", [["run", "x.mp4", "--roi", "1,2,3"], ["train", "--arch", "resnet"], ["train", "--ema", "1.5"],
                                  ["train", "--elastic", "1.5"], ["train", "--grainy", "1.5"], ["train", "--train-layers", "conv"],
                                  ["train", "--label-styles", "bar4"]])
def test_bad_options(args):
    done = cli(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def _in(folder, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "livedigits", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=folder)


def test_the_bundled_samples_work_from_any_folder(tmp_path):
    # samples/NAME, as the README writes it, is the bundled sample wherever the command runs.
    done = _in(tmp_path, "run", "samples/page.png", "--headless")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == PAGE_NUMBERS
    bench = _in(tmp_path, "bench", "--frames", "10", "--warmup", "1", "--backend", "lite-int8")
    assert bench.returncode == 0, bench.stderr
    assert "realistic.mp4 (video, " in bench.stdout
    # A file of your own at that path wins; a name the bundle lacks is not found.
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "page.png").write_bytes(b"")
    own = _in(tmp_path, "run", "samples/page.png", "--headless")
    assert own.returncode == 5 and "samples/page.png is empty" in own.stderr
    missing = _in(tmp_path, "run", "samples/other.png", "--headless")
    assert missing.returncode == 5 and "no such file or folder: samples/other.png" in missing.stderr


def test_the_camera_error_suggests_a_command_that_works(tmp_path):
    import glob
    import re

    if glob.glob("/dev/video*"):
        pytest.skip("this machine has video devices")
    done = _in(tmp_path, "run", "--headless")
    assert done.returncode == 5
    suggested = re.search(r"livedigits run (\S+)", _one_clear_line(done)).group(1)
    tried = _in(tmp_path, "run", suggested, "--headless", "--max-frames", "3")
    assert tried.returncode == 0, tried.stderr


def test_the_wheel_carries_the_samples_and_the_models():
    # pyproject maps samples/ and models/ into the package (as livedigits.samples and livedigits.models);
    # every file of both folders is matched by its package data, so `pip install .` ships them all.
    from fnmatch import fnmatch
    from pathlib import Path

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package, folder in (("livedigits.samples", "samples"), ("livedigits.models", "models")):
        assert package in config["packages"] and config["package-dir"][package] == folder
        patterns = config["package-data"][package]
        needed = {"samples": {"demo.mp4", "page.png", "demo.json", "page.json"},
                  "models": {"livedigits.tflite", "livedigits_int8.tflite", "livedigits.keras"}}[folder]
        shipped = {p.name for p in (root / folder).iterdir() if any(fnmatch(p.name, pattern) for pattern in patterns)}
        assert needed <= shipped, needed - shipped


def test_a_bad_single_image_is_reported_once(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture at all")
    done = cli("run", str(bad), "--headless")
    assert done.returncode == 5
    assert "bad.png" in _one_clear_line(done)
    assert done.stderr.count("bad.png") == 1, done.stderr  # no warning before the error saying it again

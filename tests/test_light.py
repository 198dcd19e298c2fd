"""The light core: what runs without TensorFlow, the one-line hint where it is needed, and the logging
levels (-v/-q before or after the command, start-up banners silenced)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Runs the CLI in a process where TensorFlow, Keras and matplotlib cannot be imported, as in a core
#: install (a None entry in sys.modules makes both import and find_spec fail).
WITHOUT_EXTRAS = (
    "import sys\n"
    "for name in ('tensorflow', 'keras', 'matplotlib'):\n"
    "    sys.modules[name] = None\n"
    "from livedigits.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)

#: Runs the CLI, then reports which heavy packages it imported.
WHAT_IT_IMPORTED = (
    "import sys\n"
    "from livedigits.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "print('imported:', sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def cli(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "livedigits", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def script(code, *args, timeout=180):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def error_lines(done):
    assert "Traceback" not in done.stderr, done.stderr
    return [line for line in done.stderr.splitlines() if line.startswith("livedigits: error:")]


def test_reading_a_page_imports_no_tensorflow_nor_matplotlib(tmp_path):
    done = script(WHAT_IT_IMPORTED, "run", "samples/page.png", "--headless", "--jsonl", str(tmp_path / "p.jsonl"))
    assert done.returncode == 0, done.stderr
    assert "imported: []" in done.stderr
    record = json.loads((tmp_path / "p.jsonl").read_text())
    assert len(record["numbers"]) == 9


def test_the_classifiers_load_no_training_code():
    # Inference needs the model files (livedigits.classify.modelfile), not how a model is trained, scored or exported.
    code = ("import sys, numpy as np\n"
            "from livedigits.classify.backends import load_classifier\n"
            "load_classifier('lite').predict(np.zeros((3, 28, 28, 1), np.float32))\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('livedigits'))))\n")
    done = script(code)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "livedigits.classify.modelfile" in loaded
    assert not loaded & {"livedigits.train.training", "livedigits.train.evaluation", "livedigits.train.export", "livedigits.train.plots",
                         "livedigits.train.augment", "livedigits.train.writers", "livedigits.train.data"}, loaded


def test_import_livedigits_is_light_and_its_names_load_on_first_use():
    done = script(
        "import sys\nimport livedigits\n"
        "heavy = ('numpy', 'cv2', 'PIL', 'ai_edge_litert', 'tensorflow')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "print(livedigits.Reader.__module__, livedigits.Result.__name__, livedigits.SourceError.__name__)\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "print(all(hasattr(livedigits, name) for name in livedigits.__all__), set(livedigits.__all__) <= set(dir(livedigits)))\n"
        "try:\n    from livedigits import Raeder\nexcept ImportError as exc:\n    print(exc)\n")
    assert done.returncode == 0, done.stderr
    before, names, after, listed, typo = done.stdout.splitlines()
    assert before == "[]"  # `import livedigits` (and the command line, which does it) stays instant
    assert names == "livedigits.api FrameResult SourceError"
    assert "cv2" in after and "numpy" in after and "tensorflow" not in after
    assert listed == "True True"
    assert "cannot import name 'Raeder'" in typo


def test_the_python_api_reads_the_page_without_the_extras():
    done = script(
        "import sys\n"
        "for name in ('tensorflow', 'keras', 'matplotlib'):\n"
        "    sys.modules[name] = None\n"
        "from livedigits import Reader\n"
        "print(' '.join(number.text for number in Reader()('samples/page.png').numbers))\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["8159", "9869", "61", "41", "471", "6668", "3", "9183", "2322"]


def test_core_reads_the_page_without_the_extras():
    done = script(WITHOUT_EXTRAS, "run", "samples/page.png", "--headless", "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["8159", "9869", "61", "41", "471", "6668", "3", "9183", "2322"]


@pytest.mark.parametrize("args, what", [
    (["train", "--epochs", "1"], "livedigits train"),
    (["export"], "livedigits export"),
    (["finetune", "nowhere"], "livedigits finetune"),
    (["evaluate", "--backend", "keras"], "the Keras backend"),
    (["run", "samples/page.png", "--headless", "--backend", "keras"], "the Keras backend"),
    (["bench", "--plot", "x.png"], "bench --plot"),
])
def test_a_command_that_needs_an_extra_says_which_in_one_line(args, what):
    done = script(WITHOUT_EXTRAS, *args)
    assert done.returncode == 1, done.stderr
    lines = error_lines(done)
    assert len(lines) == 1, done.stderr
    assert what in lines[0]
    extra = "plot" if "--plot" in args else "train"
    assert f"pip install 'livedigits[{extra}]'" in lines[0]


def test_gpu_hint_names_the_gpu_extra():
    done = script(WITHOUT_EXTRAS, "run", "samples/page.png", "--headless", "--device", "gpu")
    assert done.returncode == 1
    assert "pip install 'livedigits[gpu]'" in error_lines(done)[0]


def test_quiet_prints_only_the_numbers_read():
    done = cli("run", "samples/demo.mp4", "--headless", "-q")
    assert done.returncode == 0, done.stderr
    truth = json.loads((ROOT / "samples" / "demo.json").read_text())
    numbers = {n["text"] for frame in truth["frames"] for n in frame["numbers"]}
    # A line each time the numbers in view change: "frame 2 (0.07 s): 12 17 369", and nothing else.
    lines = done.stdout.splitlines()
    assert lines and all(re.fullmatch(r"frame \d+ \(\d+\.\d\d s\):( \d+)*", line) for line in lines), lines
    assert {text for line in lines for text in line.split(": ", 1)[1].split()} == numbers
    assert done.stderr == ""


def test_quiet_on_a_folder_names_each_image(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes((ROOT / "samples" / "page.png").read_bytes())
    done = cli("-q", "run", str(folder), "--headless")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [str(folder / "a.png"), str(folder / "b.png")]
    assert lines[0].split(": ")[1] == "8159 9869 61 41 471 6668 3 9183 2322"


def test_verbose_after_the_command_and_the_banner_only_then():
    normal = cli("run", "samples/page.png", "--headless")
    verbose = cli("run", "samples/page.png", "--headless", "-v")
    assert normal.returncode == verbose.returncode == 0
    assert "XNNPACK" not in normal.stderr and "INFO:" not in normal.stderr
    assert "reading samples/page.png" in normal.stderr
    assert "XNNPACK" in verbose.stderr  # LiteRT's own start-up line, shown when asked for


@pytest.mark.parametrize("args", [["-q", "run", "x.mp4", "-v"], ["run", "x.mp4", "--quiet", "--verbose"]])
def test_verbose_and_quiet_together_are_refused(args):
    done = cli(*args)
    assert done.returncode == 2
    assert "contradict" in done.stderr


def test_verbose_after_the_command_shows_the_traceback(tmp_path):
    done = cli("run", str(tmp_path / "nope.mp4"), "--headless", "--verbose")
    assert done.returncode == 5
    assert "Traceback (most recent call last)" in done.stderr


def test_library_warnings_reach_the_log_formatted(capsys):
    import logging

    from livedigits.cli import logs

    logs.configure(logs.NORMAL)
    logging.getLogger("livedigits.capture.sources").warning("camera 3 went away")
    logging.getLogger("livedigits.capture.sources").debug("not shown")
    logs.configure(logs.QUIET)
    logging.getLogger("livedigits.cli.main").info("not shown either")
    logs.configure(logs.VERBOSE)
    logging.getLogger("livedigits.capture.sources").debug("shown now")
    err = capsys.readouterr().err
    assert "livedigits: warning: camera 3 went away" in err
    assert "not shown" not in err
    assert "debug: livedigits.capture.sources: shown now" in err
    logs.configure(logs.NORMAL)


def on_a_terminal(*args, timeout=180):
    """Run the CLI with stderr on a pseudo-terminal, as in a user's shell; returns (code, stdout, stderr)."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    process = subprocess.Popen([sys.executable, "-m", "livedigits", *args], stdout=subprocess.PIPE, stderr=slave,
                               cwd=ROOT)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed: the process is done with it
            break
        if not chunk:
            break
        err += chunk
    out = process.stdout.read()
    code = process.wait(timeout)
    os.close(master)
    return code, out.decode(), err.decode(errors="replace")


def test_run_on_a_file_shows_a_progress_bar_on_a_terminal_only():
    import re

    code, out, err = on_a_terminal("run", "samples/demo.mp4", "--headless")
    assert code == 0, err
    assert re.search(r"\d+%\|.*\| *\d+/150 \[", err), err  # tqdm: percent, bar, count of the 150 frames, ETA
    assert "frames: 150 processed" in err and out.startswith("frame ")  # the summary on stderr, numbers on stdout
    piped = cli("run", "samples/demo.mp4", "--headless")
    assert "%|" not in piped.stderr
    code, out, err = on_a_terminal("run", "samples/demo.mp4", "--headless", "-q")
    assert "%|" not in err and "reading" not in err


def test_collect_auto_and_bench_show_progress_on_a_terminal(tmp_path):
    import re

    code, out, err = on_a_terminal("collect", "samples/demo.mp4", "--auto", "7", "--out", str(tmp_path / "mine"),
                                   "--max-frames", "40")
    assert code == 0, err
    assert re.search(r"collecting 7: +\d+%\|.*\| *\d+/40 \[", err), err
    code, out, err = on_a_terminal("bench", "samples/demo.mp4", "--frames", "40", "--warmup", "2", "--backend", "lite")
    assert code == 0, err
    assert re.search(r"lite: +\d+%\|.*\| *\d+/42 \[", err), err


def test_tensorflow_start_up_lines_only_with_verbose():
    normal = cli("run", "samples/page.png", "--headless", "--backend", "keras")
    assert normal.returncode == 0, normal.stderr
    # Our lines only: what is read, then the run's summary (its first line "frames: ...").
    lines = normal.stderr.strip().splitlines()
    assert lines[:2] == ["reading samples/page.png with the keras backend on the cpu", lines[1]], normal.stderr
    assert lines[1].startswith("frames: 1 processed"), normal.stderr
    verbose = cli("run", "samples/page.png", "--headless", "--backend", "keras", "-v")
    assert verbose.returncode == 0
    tensorflow = [line for line in verbose.stderr.splitlines() if line not in lines and "ms: p50" not in line
                  and not line.startswith(("latency ms", "frames:"))]
    assert len(tensorflow) > 1, verbose.stderr  # TensorFlow's own lines (oneDNN, CUDA, absl) come back


@pytest.mark.parametrize("tty, flags, verbose", [(True, [], 1), (False, [], 2), (True, ["-q"], 0)])
def test_train_shows_keras_bar_on_a_terminal_and_a_line_per_epoch_otherwise(monkeypatch, tty, flags, verbose):
    import io

    from livedigits.cli import main as cli
    from livedigits.train import training

    class Out(io.StringIO):
        def isatty(self):
            return tty

    seen = {}

    def fake_train(cfg, out, verbose=None, log=None):
        seen["verbose"] = verbose
        return {"model": "m.keras", "parameters": 1, "classes": 11, "test_accuracy": 0.5, "epochs_run": 1, "train_seconds": 1.0}

    monkeypatch.setattr(training, "train", fake_train)
    monkeypatch.setattr(sys, "stdout", Out())
    assert cli.main(["train", "--epochs", "1", *flags]) == 0
    assert seen["verbose"] == verbose  # Keras: 1 = progress bar, 2 = one line per epoch, 0 = silent


def test_a_log_line_during_a_progress_bar_gets_its_own_line(capsys):
    import logging

    from livedigits.cli import logs

    from livedigits.cli import progress

    logs.configure(logs.NORMAL)
    bar = progress.bar(10, desc="work", stream=sys.stderr, force=True)
    bar.update(4)
    logging.getLogger("livedigits.test").info("epoch 1/2 done")
    bar.update(6)
    bar.close()
    err = capsys.readouterr().err
    assert "epoch 1/2 done\n" in err
    before = err.split("epoch 1/2 done")[0]
    assert before.endswith("\r") or before.endswith("\n") or before == "", repr(err)  # the bar was cleared first

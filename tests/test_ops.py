"""Operations: liveness and readiness apart, export into the next free version atomically, one version,
shell completion."""

import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from livedigits.classify.backends import load_classifier
from livedigits.serve.app import create_app
from livedigits.serve.metrics import Metrics
from livedigits.serve.predict import Predictor

ROOT = Path(__file__).resolve().parent.parent


class Source:
    name = "camera 0"

    def __init__(self):
        self.state, self.detail = "live", ""


class Pipeline:
    """What the health endpoints read of a live pipeline, set by the test."""

    def __init__(self):
        self.source, self.error, self.frames, self.flowing = Source(), None, 10, True

    def frames_flowing(self):
        return self.flowing

    @property
    def channels(self):
        pipeline = self

        class Channel:  # the one source, as the health check walks the sources
            name, source = "camera-0", pipeline.source

            def flowing(self):
                return pipeline.flowing

        return [Channel()]

    def start(self):
        pass

    def stop(self):
        pass

    def close_streams(self):
        pass


@pytest.fixture(scope="module")
def classifier():
    return load_classifier("lite-int8")


def test_livez_stays_up_while_the_camera_is_away_and_readyz_does_not(classifier):
    pipeline = Pipeline()
    with TestClient(create_app(Predictor(classifier), Metrics(), pipeline), base_url="http://127.0.0.1") as client:
        assert client.get("/livez").status_code == 200 and client.get("/readyz").status_code == 200
        pipeline.source.state, pipeline.source.detail = "unavailable", "camera unplugged"
        assert client.get("/livez").json() == {"status": "alive"}
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "source unavailable: camera unplugged" in ready.json()["problems"]
        assert client.get("/healthz").status_code == 503  # as before: /healthz is /readyz
        pipeline.source.state, pipeline.flowing = "live", False
        assert client.get("/readyz").status_code == 503 and client.get("/livez").status_code == 200
        pipeline.error = "RuntimeError: boom"
        live = client.get("/livez")
        assert live.status_code == 503 and live.json()["status"] == "failed"


def test_api_only_server_is_live_and_ready(classifier):
    with TestClient(create_app(Predictor(classifier), Metrics()), base_url="http://127.0.0.1") as client:
        assert client.get("/livez").status_code == 200
        assert client.get("/readyz").json()["status"] == "ok"


def test_export_writes_the_next_free_version_whole(tmp_path):
    from livedigits.train.export import next_version, write_next_version

    base = tmp_path / "livedigits"

    def write(folder):
        folder.mkdir()
        (folder / "saved_model.pb").write_text(folder.name)

    first = write_next_version(base, write)
    second = write_next_version(base, write)
    assert (first.name, second.name) == ("1", "2")
    assert (first / "saved_model.pb").is_file() and (second / "saved_model.pb").is_file()
    (base / "7").mkdir()
    (base / "notes").mkdir()
    assert next_version(base) == 8  # after the highest number; other names are not versions

    def fails(folder):
        folder.mkdir()
        (folder / "half.pb").write_text("cut short")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_next_version(base, fails)
    assert sorted(p.name for p in base.iterdir()) == ["1", "2", "7", "notes"]  # no half version, no temporary


def test_the_version_is_written_once():
    from importlib import metadata

    import livedigits
    from livedigits.settings import _toml

    tomllib = _toml()  # tomllib, or tomli on Python 3.10

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    done = subprocess.run([sys.executable, "-m", "livedigits", "--version"], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == f"livedigits {livedigits.__version__}"
    assert metadata.version("livedigits") == livedigits.__version__  # what pip installed says the same


def test_shell_completion_completes_commands_choices_and_files(tmp_path):
    import shutil

    pytest.importorskip("shtab")  # a dependency of the package; .ci/run installs it
    done = subprocess.run([sys.executable, "-m", "livedigits", "completion", "bash"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    script = tmp_path / "livedigits.bash"
    script.write_text(done.stdout)
    (tmp_path / "demo.mp4").write_bytes(b"")
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")

    def complete(*words):
        line = " ".join(words)
        code = (f'source "{script}"; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE="{line}"; '
                f'COMP_POINT=${{#COMP_LINE}}; _shtab_livedigits livedigits "{words[-1]}" "{words[-2]}"; echo "${{COMPREPLY[@]}}"')
        return subprocess.run([bash, "-c", code], capture_output=True, text=True, timeout=30, cwd=tmp_path).stdout.split()

    assert complete("livedigits", "doc") == ["doctor"]
    assert complete("livedigits", "run", "--camera-api", "ms") == ["msmf"]
    assert "--camera-api" in complete("livedigits", "run", "--cam")
    assert complete("livedigits", "run", "dem") == ["demo.mp4"]
    assert subprocess.run([sys.executable, "-m", "livedigits", "completion", "zsh"], capture_output=True, text=True,
                          timeout=60).stdout.startswith("#compdef livedigits")


def test_the_image_api_reads_with_the_settings_given(classifier):
    from dataclasses import replace

    from livedigits.vision.segment import DEFAULT_CONFIG

    page = (ROOT / "samples" / "page.png").read_bytes()
    with TestClient(create_app(Predictor(classifier), Metrics()), base_url="http://127.0.0.1") as client:
        assert len(client.post("/api/predict?mode=page", content=page).json()["numbers"]) == 9
    tall_only = Predictor(classifier, segment_config=replace(DEFAULT_CONFIG, min_height=2000))
    with TestClient(create_app(tall_only, Metrics()), base_url="http://127.0.0.1") as client:
        assert client.post("/api/predict?mode=page", content=page).json()["detections"] == []

"""The README and the docs/ site as a reader meets them: short, with pictures, links that lead
somewhere, examples that do what they say, and a site that builds."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
#: The README is the front door: what it is, the two commands, pictures, the API, the commands.
MAX_README_LINES = 250
#: Pictures are small: a clone should not fetch megabytes of screenshots.
MAX_IMAGE_BYTES = 300_000
PAGE_NUMBERS = ["8159", "9869", "61", "41", "471", "6668", "3", "9183", "2322"]


def test_the_readme_is_short_and_starts_with_the_two_commands():
    assert len(README.splitlines()) <= MAX_README_LINES
    commands = re.findall(r"^```bash\n(.*?)\n```$", README, flags=re.S | re.M)
    assert commands[:2] == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && livedigits run samples/demo.mp4 "
        "--headless --output demo-annotated.mp4 --jsonl demo.jsonl",
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && python -m pytest -q",
    ]
    assert README.index(commands[0]) < README.index("\n## ")  # at the very top, before any section
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && python -m pytest -q" in ci


def test_the_readme_shows_pictures_that_are_there_and_small():
    pictures = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", README)
    assert len(pictures) >= 2
    for picture in pictures:
        path = ROOT / picture
        assert path.is_file(), picture
        assert path.stat().st_size <= MAX_IMAGE_BYTES, f"{picture}: {path.stat().st_size} bytes"


def test_every_link_of_the_readme_leads_to_a_file_of_the_repository():
    links = [link for link in re.findall(r"\]\(([^)]+)\)", README) if "://" not in link]
    assert links
    for link in links:
        path, _, anchor = link.partition("#")
        assert (ROOT / path).is_file(), link
        if anchor:  # a heading of that page
            headings = re.findall(r"^#+ (.+)$", (ROOT / path).read_text(), flags=re.M)
            assert anchor in {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}, link


def test_every_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in (ROOT / "docs").glob("*.md"):
        assert f": {page.name}" in nav, f"docs/{page.name} is not in mkdocs.yml's nav"


@pytest.mark.skipif(shutil.which("mkdocs") is None and subprocess.run(
    [sys.executable, "-c", "import mkdocs"], capture_output=True).returncode != 0, reason="mkdocs is not installed")
def test_the_site_builds_strictly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_the_settings_example_of_the_docs_reads_every_number(tmp_path):
    usage = (ROOT / "docs" / "usage.md").read_text()
    example = re.search(r"^```toml\n(.*?)^```$", usage, flags=re.S | re.M).group(1)
    (tmp_path / "settings.toml").write_text(example)
    done = subprocess.run([sys.executable, "-m", "livedigits", "run", "samples/page.png", "--config",
                           str(tmp_path / "settings.toml")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == PAGE_NUMBERS

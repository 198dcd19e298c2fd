"""The Python API as a user meets it: the examples of the README and of docs/python-api.md, each kind of
input, the settings, the errors, and pictures drawn and saved."""

import contextlib
import errno
import io
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import livedigits
from livedigits import (Box, Detection, LivedigitsError, ModelError, Number, OutputError, Reader, Result,
                        SourceError, UsageError)

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "samples" / "page.png"
TRUTH = [n["text"] for n in json.loads((ROOT / "samples" / "page.json").read_text())["frames"][0]["numbers"]]


@pytest.fixture(scope="module")
def reader():
    return Reader()


@pytest.fixture(scope="module")
def page_result(reader):
    return reader(str(PAGE))


def texts(result):
    return [number.text for number in result.numbers]


def without_latency(record):
    return {key: value for key, value in record.items() if key != "latency_ms"}


# --------------------------------------------------------------------------- the README and the API page


def doc_blocks(document="docs/python-api.md", section=None):
    """The fenced blocks of a page (or of one ``## section`` of it), in order: ``(language, text)``."""
    text = (ROOT / document).read_text()
    if section is not None:
        start = text.index(f"\n{section}\n")
        end = text.find("\n## ", start + 1)
        text = text[start: end if end != -1 else None]
    return re.findall(r"^```(\w*)\n(.*?)^```$", text, flags=re.S | re.M)


def run_blocks(blocks, where, namespace):
    """Run each python block; where a text block follows, what it printed must be that text. The number
    of blocks so checked."""
    checked = 0
    for k, (language, code) in enumerate(blocks):
        if language != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{where} block {k}", "exec"), namespace)
        if namespace.get("page_result") is None:  # the page's result, before the video examples
            namespace["page_result"] = namespace.get("result")
        if k + 1 < len(blocks) and blocks[k + 1][0] == "text":
            assert out.getvalue().strip() == blocks[k + 1][1].strip(), code
            checked += 1
    return checked


def test_the_readme_api_example_runs_as_written_and_prints_what_it_shows(tmp_path, monkeypatch):
    blocks = doc_blocks("README.md", "## Python API")
    python = [code for language, code in blocks if language == "python"]
    assert len(python) == 1 and len(python[0].strip().splitlines()) <= 10  # the API in ten lines
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    assert run_blocks(blocks, "README.md", {"__name__": "__readme__"}) == 1
    assert (tmp_path / "page-annotated.png").is_file()


def test_the_api_page_examples_run_as_written_and_print_what_it_shows(tmp_path, monkeypatch):
    blocks = doc_blocks()
    assert sum(language == "python" for language, _ in blocks) >= 5
    # Run where a user of the repository would, but write into a fresh folder: samples/ is linked in.
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    checked = run_blocks(blocks, "docs/python-api.md", namespace)
    page_result = namespace["page_result"]
    assert checked >= 4
    assert (tmp_path / "page-annotated.png").is_file()
    assert page_result.numbers and texts(page_result) == TRUTH
    assert namespace["seen"] == {"samples/demo.mp4": 30, "samples/page.png": 1}  # the two-source stream


# --------------------------------------------------------------------------- the same as the command line


@pytest.mark.parametrize("settings", [None, "file"])
def test_the_api_reads_what_the_command_line_reads(tmp_path, monkeypatch, settings):
    """The numbers, digits and boxes of samples/page.png through the API equal `livedigits run`'s record,
    with the defaults and with a settings file given to both."""
    args = []
    config = None
    if settings == "file":
        config = tmp_path / "settings.toml"
        config.write_text('[run]\nbackend = "lite"\n\n[reading]\nmax_gap = 1.6\nmin_confidence = 0.97\n')
        args = ["--config", str(config)]
    jsonl = tmp_path / "cli.jsonl"
    done = subprocess.run([sys.executable, "-m", "livedigits", "run", "samples/page.png", "--headless", "--jsonl",
                           str(jsonl), *args], capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    (cli_record,) = [json.loads(line) for line in jsonl.read_text().splitlines()]
    api_reader = Reader(config=config)
    monkeypatch.chdir(ROOT)  # the record's file is the path as given, relative here as for the command
    api_record = api_reader("samples/page.png").to_record()
    assert without_latency(api_record) == without_latency(cli_record)
    numbers = [n["text"] for n in api_record["numbers"]]
    if settings is None:
        assert numbers == TRUTH
    else:  # the file's settings took effect: wider gaps join numbers, a high bar drops unsure digits
        assert api_reader.backend == "lite" and api_reader.reading_config.min_confidence == 0.97
        assert numbers != TRUTH


def test_a_wrong_model_is_the_same_error_as_on_the_command_line(tmp_path):
    missing = tmp_path / "missing.tflite"
    done = subprocess.run([sys.executable, "-m", "livedigits", "run", str(PAGE), "--headless", "--model", str(missing)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == ModelError.exit_code
    with pytest.raises(ModelError) as caught:
        Reader(model=missing)  # at construction, before any image
    assert f"livedigits: error: {caught.value}" in done.stderr.splitlines()


# --------------------------------------------------------------------------- inputs


def test_a_result_is_the_frame_result_with_its_parts(page_result):
    # A Result is a FrameResult (the record, the engine's type) with plot() and save() to draw it.
    assert issubclass(Result, livedigits.FrameResult) and isinstance(page_result, Result)
    assert texts(page_result) == TRUTH
    assert all(isinstance(n, Number) and isinstance(n.box, Box) for n in page_result.numbers)
    assert all(isinstance(d, Detection) and 0 <= d.digit <= 9 for d in page_result.detections)
    assert sum(len(n.digits) for n in page_result.numbers) == len(page_result.detections) == 28
    assert page_result.frame.file == str(PAGE)
    assert page_result.to_record()["file"] == str(PAGE)


def test_every_colour_input_of_the_page_gives_the_same_result(reader, page_result):
    bgr = cv2.imread(str(PAGE))
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])
    inputs = {
        "Path": PAGE,
        "bytes": PAGE.read_bytes(),
        "BGR array": bgr,
        "BGRA array, opaque": bgra,
        "16-bit BGR array": bgr.astype(np.uint16) * 257,
        "PIL RGB": Image.open(PAGE),
        "PIL RGBA": Image.open(PAGE).convert("RGBA"),
    }
    expected = without_latency(page_result.to_record())
    expected.pop("file")
    expected.pop("source")
    for name, image in inputs.items():
        result = reader(image)
        assert np.array_equal(result.frame.image, bgr), name  # the same pixels, in BGR order
        record = without_latency(result.to_record())
        assert record.pop("file", None) == (str(PAGE) if name == "Path" else None), name
        # The source is the path as given; pixels have none.
        assert record.pop("source") == (str(PAGE) if name in ("Path", "str path") else ""), name
        assert record == expected, name


def test_grey_inputs_are_read_alike(reader):
    grey = cv2.imread(str(PAGE), cv2.IMREAD_GRAYSCALE)
    as_bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    for name, image in {"(H, W)": grey, "(H, W, 1)": grey[:, :, None], "uint16": grey.astype(np.uint16) * 257,
                        "floats 0-1": grey / 255.0, "PIL L": Image.fromarray(grey)}.items():
        result = reader(image)
        assert np.array_equal(result.frame.image, as_bgr), name
        assert texts(result) == TRUTH, name


def test_a_16_bit_file_and_its_pil_image_keep_their_contrast(reader, tmp_path):
    grey = cv2.imread(str(PAGE), cv2.IMREAD_GRAYSCALE).astype(np.uint16) * 257
    path = tmp_path / "scan16.png"
    cv2.imwrite(str(path), grey)
    pil = Image.open(path)
    assert pil.mode.startswith("I")  # Pillow's 16-bit mode, which its own convert("RGB") clips at 255
    from_file, from_pil = reader(path), reader(pil)
    assert np.array_equal(from_file.frame.image, from_pil.frame.image)
    assert texts(from_pil) == TRUTH
    assert np.array_equal(reader(Image.fromarray(grey.astype(np.int32))).frame.image, from_file.frame.image)


def test_transparency_is_white_paper(reader):
    clear_black = np.zeros((64, 80, 4), np.uint8)  # black colour under alpha 0, as drawing programs export
    assert (reader(clear_black).frame.image == 255).all()
    assert (reader(Image.fromarray(clear_black, "RGBA")).frame.image == 255).all()
    assert (reader(Image.new("LA", (80, 64), (0, 0))).frame.image == 255).all()
    palette = Image.new("P", (80, 64), 0)
    palette.info["transparency"] = 0
    assert (reader(palette).frame.image == 255).all()


@pytest.mark.parametrize("mode", ["P", "1", "CMYK", "YCbCr", "F", "I;16B"])
def test_other_pil_modes_are_converted(reader, mode):
    rgb = Image.open(PAGE).resize((320, 240))
    image = rgb.convert("L").convert(mode) if mode in ("F", "I;16B") else rgb.convert(mode)
    pixels = reader(image).frame.image
    if mode == "I;16B":  # big-endian 16-bit grey: 0-255 values, scaled as 16-bit
        expected = np.asarray(rgb.convert("L")).astype(np.float32) / 257
        assert np.abs(pixels[:, :, 0].astype(np.float32) - expected).max() <= 1
    else:
        assert np.array_equal(pixels, np.asarray(image.convert("RGB"))[:, :, ::-1])


def test_a_photo_is_read_upright_by_its_exif_orientation_from_a_path_and_from_pil(reader, tmp_path):
    bgr = cv2.imread(str(PAGE))
    path = tmp_path / "portrait.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn a quarter clockwise to show": a phone held upright stores the page sideways
    sideways = np.rot90(bgr, 1)
    Image.fromarray(np.ascontiguousarray(sideways[:, :, ::-1])).save(path, exif=exif)
    from_path, from_pil = reader(path), reader(Image.open(path))
    assert np.array_equal(from_path.frame.image, bgr)
    assert np.array_equal(from_pil.frame.image, bgr)
    assert texts(from_pil) == TRUTH
    assert texts(reader(np.ascontiguousarray(sideways))) != TRUTH  # an array has no EXIF: taken as it is


def test_a_list_or_tuple_gives_a_list_of_results_in_order(reader, tmp_path):
    blank = np.full((120, 160), 255, np.uint8)
    results = reader([str(PAGE), blank, Image.open(PAGE)])
    assert isinstance(results, list) and len(results) == 3
    assert [texts(r) for r in results] == [TRUTH, [], TRUTH]
    assert [r.frame.index for r in results] == [0, 1, 2]
    assert [r.frame.file for r in results] == [str(PAGE), None, None]
    assert [texts(r) for r in reader((blank,))] == [[]]
    assert reader([]) == []


def test_the_result_keeps_its_own_copy_of_an_array(reader):
    bgr = cv2.imread(str(PAGE))
    result = reader(bgr)
    bgr[:] = 0  # the caller reuses its buffer for the next frame
    assert texts(result) == TRUTH
    assert result.frame.image.any()


def test_threads_may_share_a_reader(reader, page_result):
    expected = without_latency(page_result.to_record())
    records, failures = [], []

    def work():
        try:
            for _ in range(3):
                records.append(without_latency(reader(str(PAGE)).to_record()))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(records) == 9 and all(record == expected for record in records)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("image, named", [
    (42, "int 42"), (None, "NoneType None"), ({"image": 1}, "dict"), (object(), "object"),
    ([[0, 1], [1, 0]], "a list inside a list"),
])
def test_anything_else_is_a_type_error_naming_it_and_what_is_accepted(reader, image, named):
    with pytest.raises(TypeError) as caught:
        reader(image)
    message = str(caught.value)
    assert named in message
    if "list inside" not in message:
        assert "a path (str or pathlib.Path), a NumPy array" in message and "a PIL image" in message


def test_files_that_cannot_be_read_are_one_line_source_errors(reader, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    cases = {
        "missing.jpg": f"no such file: missing.jpg (a relative path starts from the working folder, {tmp_path})",
        str(empty): f"{empty} is empty (0 bytes); pass an image file that was fully written",
        str(text): f"cannot read image {text}: not an image OpenCV can decode, or a damaged file",
        str(tmp_path): f"{tmp_path} is a folder, not an image file",
    }
    for image, message in cases.items():
        with pytest.raises(SourceError) as caught:
            reader(image)
        assert str(caught.value) == message
    for data, message in ((b"", "empty bytes"), (b"GIF89a garbage", "cannot read these 14 bytes as an image")):
        with pytest.raises(SourceError, match=message):
            reader(data)


def test_an_unreadable_file_reads_as_the_command_line_says_it(reader, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    done = subprocess.run([sys.executable, "-m", "livedigits", "run", str(text), "--headless"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == SourceError.exit_code
    with pytest.raises(SourceError) as caught:
        reader(text)
    assert f"livedigits: error: {caught.value}" in done.stderr.splitlines()


@pytest.mark.parametrize("array, said", [
    (np.zeros((40, 40, 5), np.uint8), "shape (40, 40, 5)"),
    (np.zeros(40), "shape (40,)"),
    (np.zeros((0, 40), np.uint8), "empty image"),
    (np.zeros((40, 40), bool), "dtype bool"),
])
def test_an_array_no_picture_has_is_a_usage_error(reader, array, said):
    with pytest.raises(UsageError) as caught:
        reader(array)
    assert said in str(caught.value) and "(H, W, 3) BGR" in str(caught.value)


def test_in_a_list_the_error_says_which_image_and_keeps_the_rest(reader, tmp_path):
    with pytest.raises(SourceError, match=r"^image 1 of 3: no such file: .*nope\.png") as caught:
        reader([PAGE, tmp_path / "nope.png", PAGE])
    assert [r is None for r in caught.value.results] == [False, True, False]
    with pytest.raises(livedigits.ImageListError, match=r"^image 2 of 3: cannot read int 7") as caught:
        reader([PAGE, PAGE, 7])
    assert isinstance(caught.value.errors[2], TypeError)


def test_errors_are_the_projects_and_exported():
    for name in ("LivedigitsError", "UsageError", "DataError", "ModelError", "SourceError", "OutputError"):
        assert getattr(livedigits, name) is getattr(livedigits.errors, name)
        assert issubclass(getattr(livedigits, name), LivedigitsError)


# --------------------------------------------------------------------------- settings


def test_settings_come_from_a_file_a_dict_and_arguments_and_arguments_win(tmp_path):
    from livedigits import ReadingConfig, SegmentConfig

    config = tmp_path / "settings.toml"
    config.write_text('[run]\nconf = 0.8\nbackend = "lite"\nheadless = true\nroi = [0, 0, 640, 480]\n\n'
                      '[segment]\nink_contrast = 0.25\n\n[reading]\nmax_gap = 1.2\nmin_confidence = 0.5\n')
    from_file = Reader(config=config)
    assert from_file.backend == "lite"
    assert from_file.segment_config.ink_contrast == 0.25 and from_file.segment_config.roi == (0, 0, 640, 480)
    assert from_file.reading_config.max_gap == 1.2
    assert from_file.reading_config.min_confidence == 0.8  # [run] conf over [reading], as for the command
    as_dict = Reader(config={"run": {"conf": 0.8, "roi": "0,0,640,480"}, "segment": {"ink_contrast": 0.25}})
    assert as_dict.segment_config == from_file.segment_config
    assert as_dict.backend == "lite-int8"
    arguments = Reader(backend="lite-int8", conf=0.7, config=config, segment={"roi": (10, 10, 300, 200)},
                       reading=ReadingConfig(max_gap=0.5))
    assert arguments.backend == "lite-int8"
    assert arguments.segment_config.roi == (10, 10, 300, 200) and arguments.segment_config.ink_contrast == 0.25
    assert arguments.reading_config.max_gap == 0.5 and arguments.reading_config.min_confidence == 0.7
    whole = Reader(config=config, segment=SegmentConfig())
    assert whole.segment_config == SegmentConfig()


@pytest.mark.parametrize("kwargs, error, message", [
    ({"config": {"segment": {"ink_contrats": 0.2}}}, UsageError,
     "Reader(config=...): [segment] ink_contrats: unknown setting; known: ink_contrast,"),
    ({"config": {"reading": {"max_gap": "wide"}}}, UsageError,
     "Reader(config=...): [reading] max_gap: must be a number, got a string 'wide'"),
    ({"config": {"paths": {}}}, UsageError, "Reader(config=...): unknown table or key 'paths' at the top"),
    ({"config": {"run": {"jsonl_file": "x"}}}, UsageError, "Reader(config=...): [run] jsonl_file: unknown option"),
    ({"config": {"run": {"conf": 1.5}}}, ValueError, "Reader(config=...): [run] conf: must be from 0 to 1"),
    ({"config": {"segment": {"background_kernel": 1000.0}}}, ValueError,
     "Reader(config=...): [segment] background_kernel: must be above 0 and at most 1 (docs/settings.md), got 1000.0"),
    ({"segment": {"max_side": 1}}, ValueError, "Reader(segment=...): [segment] max_side: must be from 64 to 16,384"),
    ({"reading": {"line_overlap": 1e308}}, ValueError, "Reader(reading=...): [reading] line_overlap: must be from 0 to 1"),
    ({"segment": {"roi": [0, 0, -5, 10]}}, UsageError, "Reader(segment=...): [segment] roi: width and height"),
    ({"conf": 1.5}, ValueError, "Reader(conf=...): must be from 0 to 1 (docs/settings.md), got 1.5"),
    ({"conf": "high"}, TypeError, "conf must be a number from 0 to 1, got str 'high'"),
    ({"config": 7}, TypeError, "config must be the path of a TOML file or a dict of its tables, got int 7"),
    ({"reading": [0.5]}, TypeError, "reading must be a ReadingConfig or a dict of its fields, got list [0.5]"),
    ({"backend": "fast"}, UsageError, "--backend must be one of auto, keras, lite, lite-int8, got 'fast'"),
    ({"device": "tpu"}, UsageError, "--device must be one of auto, cpu, gpu, got 'tpu'"),
    ({"model": 3}, TypeError, "model must be a path to a .tflite or .keras file, got int 3"),
])
def test_a_wrong_setting_raises_at_construction_with_one_clear_line(kwargs, error, message):
    with pytest.raises(error) as caught:
        Reader(**kwargs)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_settings_file_has_the_command_lines_messages(tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text("[segment]\nink = 0.2\n")
    done = subprocess.run([sys.executable, "-m", "livedigits", "run", str(PAGE), "--headless", "--config", str(config)],
                          capture_output=True, text=True, timeout=180)
    with pytest.raises(UsageError) as caught:
        Reader(config=config)
    assert f"livedigits: error: {caught.value}" in done.stderr.splitlines()


# --------------------------------------------------------------------------- plot and save


def test_plot_draws_on_a_copy(page_result):
    before = page_result.frame.image.copy()
    plain, with_confidence = page_result.plot(), page_result.plot(confidence=True)
    assert plain.shape == before.shape and plain.dtype == np.uint8
    assert np.array_equal(page_result.frame.image, before)  # the result's own image is untouched
    box = page_result.detections[0].box
    assert tuple(plain[box.y, box.x + box.w // 2]) == (0, 200, 0)  # the digit's box, in the overlay's green
    assert not np.array_equal(plain, with_confidence)  # the probabilities written under the digits
    hud = page_result.plot(hud=True)
    assert not np.array_equal(hud[-40:], plain[-40:]) and np.array_equal(hud[:-60], plain[:-60])


@pytest.mark.parametrize("name", ["page.png", "page.jpg", "page.webp", "page.bmp"])
def test_save_writes_the_plot_in_the_format_of_its_extension(page_result, tmp_path, name):
    saved = page_result.save(tmp_path / name)
    assert saved == tmp_path / name
    back = cv2.imread(str(saved))
    assert back.shape == page_result.frame.image.shape
    if name.endswith((".png", ".bmp")):
        assert np.array_equal(back, page_result.plot())
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left


def test_save_refuses_what_it_cannot_write_and_leaves_nothing(page_result, tmp_path):
    cases = {
        tmp_path / "page.txt": "unknown extension '.txt'; use .png or .jpg",
        tmp_path / "page": "unknown extension '(none)'",
        tmp_path / "missing" / "page.png": "output folder",
        tmp_path: "is a folder; give a file name inside it",
    }
    for path, message in cases.items():
        with pytest.raises(OutputError, match=re.escape(message)):
            page_result.save(path)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_keeps_the_old_file_whole(page_result, tmp_path, monkeypatch):
    target = tmp_path / "page.png"
    target.write_bytes(b"the previous picture")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OutputError, match="No space left on device"):
        page_result.save(target)
    assert target.read_bytes() == b"the previous picture"
    assert [p.name for p in tmp_path.iterdir()] == ["page.png"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_save_into_a_read_only_folder_says_so(page_result, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            page_result.save(folder / "page.png")
    finally:
        folder.chmod(0o700)


def test_a_list_of_1000_with_bad_files_spread_through_keeps_every_good_result(reader, tmp_path):
    """One bad file must not throw away what was read (it raised at image 4,735 of 5,000 and lost the
    4,734 results): every good image keeps its result, in its place, and each bad one is named."""
    small = cv2.resize(cv2.imread(str(PAGE)), (160, 120), interpolation=cv2.INTER_AREA)
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), small)
    ok, jpeg = cv2.imencode(".jpg", small)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg.tobytes()[: len(jpeg) // 2])  # a JPEG cut short
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    bad_places = {3: cut, 250: tmp_path / "missing.png", 511: empty, 998: cut}
    paths = [bad_places.get(k, good) for k in range(1000)]
    with pytest.raises(livedigits.ImageListError) as caught:
        reader(paths)
    error = caught.value
    assert str(error).startswith("image 3 of 1000: cannot read image") and "cut.jpg" in str(error)
    assert "(and 3 more)" in str(error) and "996 images read are in .results" in str(error)
    assert sorted(error.errors) == sorted(bad_places)
    assert "damaged" in str(error.errors[3]) and "missing.png" in str(error.errors[250])
    assert len(error.results) == 1000
    for index, result in enumerate(error.results):
        assert (result is None) == (index in bad_places), index
    first = error.results[0]
    assert all(r.to_record()["numbers"] == first.to_record()["numbers"] for r in error.results if r is not None)


def test_a_stream_lost_among_sources_is_raised_after_the_others_are_done(reader, tmp_path):
    from helpers_media import MjpegServer, write_video

    clip = write_video(tmp_path / "clip.avi", 30, fps=30.0, size=(160, 120))
    seen = {}
    with MjpegServer(fps=25, frames=8, size=(160, 120)) as server:
        url = server.url
        stream = reader.stream(url, str(clip))
        with pytest.raises(SourceError, match=r"ended after \d+ frames: the sender stopped or the connection was cut"):
            for result in stream:
                seen[result.source] = seen.get(result.source, 0) + 1
    assert seen[str(clip)] == 30  # every frame of the healthy file came first
    assert list(stream.summary.failures) == [url]


def test_a_big_phone_jpeg_is_read_reduced_with_boxes_in_the_photos_own_pixels(reader, tmp_path):
    """A 3840x2880 photo (the bundled page enlarged 3x, stored sideways with an EXIF turn, as phones do)
    is decoded at half size, the size the segmentation reads it at anyway; what the user gets is in the
    photo's pixels: the same numbers as a full decode, boxes within a few pixels of it and of the page's
    own boxes times 3, and a picture drawn at the photo's size."""
    from livedigits.capture.images import read_image

    page = cv2.imread(str(PAGE))
    big = cv2.resize(page, (page.shape[1] * 3, page.shape[0] * 3), interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored a quarter turn anticlockwise: shown after a quarter turn clockwise
    Image.fromarray(np.ascontiguousarray(np.rot90(big, 1)[:, :, ::-1])).save(path, "JPEG", quality=92, exif=exif.tobytes())

    result = reader(str(path))
    assert result.frame.scale == 2 and result.frame.image.shape == (1440, 1920, 3)  # upright, half size
    whole = read_image(str(path))  # decoded whole and turned upright: an array is read as it is given
    assert whole.shape == big.shape
    full = reader(whole)
    assert full.frame.scale == 1
    assert texts(result) == texts(full) == TRUTH

    def boxes(r):
        return sorted((d.box.x, d.box.y, d.box.w, d.box.h) for d in r.detections)

    reduced, decoded, own = boxes(result), boxes(full), boxes(Reader()(page))
    assert len(reduced) == len(decoded) == len(own) > 10
    for a, b, c in zip(reduced, decoded, own):
        assert max(abs(p - q) for p, q in zip(a, b)) <= 4, (a, b)
        assert max(abs(p - 3 * q) for p, q in zip(a, c)) <= 8, (a, c)
    for d in result.detections:  # inside the photo, not the half-size image
        assert d.box.x + d.box.w <= 3840 and d.box.y + d.box.h <= 2880
    assert max(d.box.x + d.box.w for d in result.detections) > 1920
    assert result.plot().shape == big.shape

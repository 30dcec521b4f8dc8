"""``pipeline run`` through the CLI with fake stages: schema, bad files, resume, modes, viz."""

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from core.config import ConfigError
from core.errors import UsageError
from pipeline.cli import app
from tests.pipeline.fakes import BlobDetector, GreyRecognizer, page, two_row_plate
from tests.pipeline.test_images import write_bad_files

runner = CliRunner()

WORD_KEYS = {"text", "polygon", "bbox", "label", "det_score", "rec_score"}


@pytest.fixture
def fakes(monkeypatch):
    """Make the factories return fakes; record what was built."""
    built = {"detector": [], "recognizer": []}

    def build_detector(cfg, device="auto"):
        det = BlobDetector(cfg.classes[0])
        built["detector"].append(det)
        return det

    def build_recognizer(cfg, device="auto"):
        rec = GreyRecognizer()
        built["recognizer"].append(rec)
        return rec

    monkeypatch.setattr("detection.factory.build_detector", build_detector)
    monkeypatch.setattr("recognition.factory.build_recognizer", build_recognizer)
    return built


def save(img: np.ndarray, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)
    return path


def check_schema(entry, page=None):
    assert set(entry) == {"file", "page", "width", "height", "rotation", "page_quad", "text",
                          "lines", "error"}
    assert entry["rotation"] in (0, 90, 180, 270)
    assert entry["page"] == page  # null for a single-page file
    for line in entry["lines"]:
        assert set(line) == {"text", "polygon", "lang", "words"}
        assert all(len(p) == 2 for p in line["polygon"])
        for word in line["words"]:
            assert set(word) == WORD_KEYS
            assert len(word["bbox"]) == 4 and len(word["polygon"]) >= 3


def run_cli(*args):
    return runner.invoke(app, ["run", *map(str, args)])


def test_run_writes_documented_schema(tmp_path, fakes):
    save(page(["abc", "de"]), tmp_path / "in" / "p1.png")
    save(page(["f"]), tmp_path / "in" / "sub" / "p2.jpg")
    out = tmp_path / "results.json"
    result = run_cli(tmp_path / "in", "--out", out, "--viz", tmp_path / "viz")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["version"] == 1 and data["mode"] == "ocr" and data["config"] == "documents"
    assert data["models"] == {"detector": "fake blob detector",  # documents: 2 readers
                              "recognizer": "fake grey recognizer; crops read under 0.75 per "
                                            "character read again by fake grey recognizer"}
    assert [e["file"] for e in data["images"]] == [str(tmp_path / "in" / "p1.png"),
                                                  str(tmp_path / "in" / "sub" / "p2.jpg")]
    for entry in data["images"]:
        check_schema(entry)
    first = data["images"][0]
    assert first["text"] == "a b c\nd e" and first["error"] is None
    assert (first["width"], first["height"]) == (400, 300)
    assert sorted(p.name for p in (tmp_path / "viz").iterdir()) == ["p1.jpg", "p2.jpg"]


def test_one_good_and_five_bad_files(tmp_path, fakes):
    folder = tmp_path / "mixed"
    write_bad_files(folder)
    out = tmp_path / "r.json"
    result = run_cli(folder, "--out", out)
    assert result.exit_code == 1, result.output
    images = json.loads(out.read_text())["images"]
    assert len(images) == 6
    ok = [e for e in images if e["error"] is None]
    bad = [e for e in images if e["error"]]
    assert [e["file"].rsplit("/", 1)[-1] for e in ok] == ["good.jpg"]
    assert len(bad) == 5
    for e in bad:
        check_schema(e)
        assert e["lines"] == [] and e["text"] == ""
    assert "1 images ok, 5 failed" in result.output


def test_resume_skips_done_images_and_retries_failed(tmp_path, fakes):
    folder = tmp_path / "in"
    save(page(["ab"]), folder / "a.png")
    (folder / "b.png").write_bytes(b"broken")
    out = tmp_path / "r.json"
    assert run_cli(folder, "--out", out).exit_code == 1
    save(page(["c"]), folder / "c.png")
    (folder / "b.png").unlink()
    save(page(["d"]), folder / "b.png")
    result = run_cli(folder, "--out", out, "--resume")
    assert result.exit_code == 0, result.output
    assert "1 of 3 images already" in result.output
    # Only b (failed before) and c (new) went through the detector.
    assert fakes["detector"][-1].calls == [2]
    images = json.loads(out.read_text())["images"]
    assert sorted((e["file"].rsplit("/", 1)[-1], e["text"]) for e in images) == [
        ("a.png", "a b"), ("b.png", "d"), ("c.png", "c")]


def test_resume_with_unreadable_results_exits_2(tmp_path, fakes):
    save(page(["a"]), tmp_path / "a.png")
    (tmp_path / "r.json").write_text("{oops")
    result = run_cli(tmp_path / "a.png", "--out", tmp_path / "r.json", "--resume")
    assert result.exit_code == 2 and "r.json" in result.output


def test_usage_errors_exit_2(tmp_path, fakes):
    (tmp_path / "empty").mkdir()
    result = run_cli(tmp_path / "empty", "--out", tmp_path / "r.json")
    assert result.exit_code == 2 and "no images found" in result.output
    result = run_cli(tmp_path / "missing", "--out", tmp_path / "r.json")
    assert result.exit_code == 2 and "no such file" in result.output
    save(page(["a"]), tmp_path / "a.png")
    result = run_cli(tmp_path / "a.png", "--out", tmp_path / "r.json", "--device", "tpu")
    assert result.exit_code == 2 and "tpu" in result.output
    assert not (tmp_path / "r.json").exists()


def test_recognize_mode_on_crops_loads_no_detector(tmp_path, fakes):
    folder = tmp_path / "crops"
    save(two_row_plate("ab", "cd"), folder / "plate2.png")
    save(np.full((16, 64, 3), 40, np.uint8), folder / "word.png")  # reads "c"
    out = tmp_path / "r.json"
    result = run_cli(folder, "--out", out, "--mode", "recognize", "--preset", "plates",
                     "--viz", tmp_path / "viz")
    assert result.exit_code == 0, result.output
    assert fakes["detector"] == []
    data = json.loads(out.read_text())
    assert data["mode"] == "recognize" and data["models"]["detector"].startswith("none")
    by_name = {e["file"].rsplit("/", 1)[-1]: e for e in data["images"]}
    plate = by_name["plate2.png"]
    check_schema(plate)
    assert len(plate["lines"]) == 1 and len(plate["lines"][0]["words"]) == 1
    word = plate["lines"][0]["words"][0]
    assert word["polygon"] == [[0, 0], [80, 0], [80, 60], [0, 60]]
    assert word["bbox"] == [0, 0, 80, 60]
    assert word["det_score"] is None and word["rec_score"] is not None
    assert by_name["word.png"]["text"] == "c"
    # The whole crop went to the recognizer in one batch of both images.
    assert fakes["recognizer"][0].calls == [2]
    assert len(list((tmp_path / "viz").iterdir())) == 2


def test_detect_mode_loads_no_recognizer(tmp_path, fakes):
    save(page(["abc", "de"]), tmp_path / "p.png")
    out = tmp_path / "r.json"
    result = run_cli(tmp_path / "p.png", "--out", out, "--mode", "detect")
    assert result.exit_code == 0, result.output
    assert fakes["recognizer"] == []
    data = json.loads(out.read_text())
    assert data["models"]["recognizer"].startswith("none")
    [entry] = data["images"]
    check_schema(entry)
    assert entry["text"] == ""
    assert [len(line["words"]) for line in entry["lines"]] == [3, 2]
    for word in (w for line in entry["lines"] for w in line["words"]):
        assert word["text"] == "" and word["rec_score"] is None and word["det_score"] == 0.9
        assert word["label"] == "word"


def test_show_prints_each_images_text(tmp_path, fakes):
    save(page(["abc", "de"]), tmp_path / "in" / "p1.png")
    result = run_cli(tmp_path / "in", "--out", tmp_path / "r.json", "--show")
    assert result.exit_code == 0, result.output
    assert f"== {tmp_path / 'in' / 'p1.png'}" in result.output
    assert "a b c\nd e" in result.output


def write_multipage(path, pages):
    """A multi-page TIFF, one generated page per list of rows."""
    frames = [Image.fromarray(page(rows)) for rows in pages]
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


def test_multipage_tiff_gives_one_entry_per_page(tmp_path, fakes):
    write_multipage(tmp_path / "in" / "scan.tif", [["ab"], ["c"], ["de", "f"]])
    save(page(["g"]), tmp_path / "in" / "single.tif")
    out = tmp_path / "r.json"
    result = run_cli(tmp_path / "in", "--out", out, "--viz", tmp_path / "viz")
    assert result.exit_code == 0, result.output
    images = json.loads(out.read_text())["images"]
    assert [(e["file"].rsplit("/", 1)[-1], e["page"], e["text"]) for e in images] == [
        ("scan.tif", 1, "a b"), ("scan.tif", 2, "c"), ("scan.tif", 3, "d e\nf"),
        ("single.tif", None, "g")]
    for entry in images:
        check_schema(entry, entry["page"])
    assert sorted(p.name for p in (tmp_path / "viz").iterdir()) == [
        "scan_page1.jpg", "scan_page2.jpg", "scan_page3.jpg", "single.jpg"]
    assert "4 images ok, 0 failed" in result.output


def test_resume_matches_file_and_page(tmp_path, fakes):
    scan = write_multipage(tmp_path / "in" / "scan.tif", [["ab"], ["c"], ["d"]])
    out = tmp_path / "r.json"
    assert run_cli(scan, "--out", out).exit_code == 0
    data = json.loads(out.read_text())
    data["images"][1].update(text="", lines=[], error="pretend page 2 failed")
    out.write_text(json.dumps(data))
    result = run_cli(scan, "--out", out, "--resume")
    assert result.exit_code == 0, result.output
    assert "2 of 3 images already" in result.output
    assert fakes["detector"][-1].calls == [1]  # page 2 alone went through again
    images = json.loads(out.read_text())["images"]
    assert [(e["page"], e["text"], e["error"]) for e in images] == [
        (1, "a b", None), (2, "c", None), (3, "d", None)]


def test_resume_of_results_written_before_pages_were_numbered(tmp_path, fakes):
    """An entry without 'page' is the single-page result of its file: a file now read as
    numbered pages replaces it instead of keeping both."""
    scan = write_multipage(tmp_path / "scan.tif", [["ab"], ["c"]])
    out = tmp_path / "r.json"
    assert run_cli(scan, "--out", out).exit_code == 0
    data = json.loads(out.read_text())
    old = {k: v for k, v in data["images"][0].items() if k != "page"}
    data["images"] = [old]
    out.write_text(json.dumps(data))
    assert run_cli(scan, "--out", out, "--resume").exit_code == 0
    images = json.loads(out.read_text())["images"]
    assert [(e["page"], e["text"]) for e in images] == [(1, "a b"), (2, "c")]


def test_resume_refuses_a_bad_page_number(tmp_path, fakes):
    save(page(["a"]), tmp_path / "a.png")
    out = tmp_path / "r.json"
    out.write_text(json.dumps({"images": [{"file": "a.png", "page": "two"}]}))
    result = run_cli(tmp_path / "a.png", "--out", out, "--resume")
    assert result.exit_code == 2 and "page 'two'" in result.output


def failing_factory(exc):
    def build(cfg, device="auto"):
        raise exc
    return build


@pytest.mark.parametrize("exc, code, words", [
    (UsageError("weights file data/models/x.pt not found: train it or set detector.weights"),
     2, "weights file data/models/x.pt not found"),
    (ConfigError("<overrides>", "detector.conf", "must be below 1"), 2, "detector.conf"),
    (RuntimeError("CUDA kernel exploded"), 1, "internal error"),
    (KeyError("backbone"), 1, "internal error"),
])
def test_build_failures_usage_or_internal(tmp_path, monkeypatch, exc, code, words):
    class MissingWeights(UsageError):  # subclasses (MissingWeightsError ...) count too
        pass

    if isinstance(exc, UsageError):
        exc = MissingWeights(*exc.args)
    monkeypatch.setattr("detection.factory.build_detector", failing_factory(exc))
    save(page(["a"]), tmp_path / "a.png")
    result = run_cli(tmp_path / "a.png", "--out", tmp_path / "r.json")
    assert result.exit_code == code, result.output
    assert words in result.output
    assert "could not build the ocr pipeline from config 'documents'" in result.output
    if code == 1:  # the exception's type in the message, its traceback in the ERROR log
        assert f"error: internal error: could not build the ocr pipeline from config " \
               f"'documents': {type(exc).__name__}: " in result.output
        assert "ERROR pipeline.run: internal error" in result.output
        assert "Traceback (most recent call last)" in result.output
    else:
        assert "Traceback" not in result.output and "internal error" not in result.output
    assert not (tmp_path / "r.json").exists()


def test_crash_while_reading_is_an_internal_error_and_keeps_finished_pages(
        tmp_path, fakes, monkeypatch):
    from pipeline.ocr import OcrPipeline

    real = OcrPipeline.iter_pages

    def crash_after_first(self, images):
        for n, item in enumerate(real(self, images)):
            if n == 1:
                raise RuntimeError("detector fell over")
            yield item

    monkeypatch.setattr(OcrPipeline, "iter_pages", crash_after_first)
    for name in ("a", "b", "c", "d", "e"):
        save(page(["a"]), tmp_path / "in" / f"{name}.png")
    out = tmp_path / "r.json"
    result = run_cli(tmp_path / "in", "--out", out)
    assert result.exit_code == 1
    assert "internal error: while reading the images: RuntimeError: detector fell over" in (
        result.output)
    assert "ERROR pipeline.run: internal error" in result.output
    assert "Traceback (most recent call last)" in result.output
    assert [e["file"].rsplit("/", 1)[-1] for e in json.loads(out.read_text())["images"]] == [
        "a.png"]


def test_unwritable_out_is_a_usage_error(tmp_path, fakes):
    save(page(["a"]), tmp_path / "a.png")
    (tmp_path / "folder").mkdir()
    result = run_cli(tmp_path / "a.png", "--out", tmp_path / "folder")
    assert result.exit_code == 2 and "is a folder" in result.output
    (tmp_path / "file").write_text("x")
    result = run_cli(tmp_path / "a.png", "--out", tmp_path / "file" / "r.json")
    assert result.exit_code == 2 and "cannot write the results file" in result.output
    assert fakes["detector"][-1].calls == []  # refused before reading any image

"""``pipeline run --engine ray``: the same results file as the local engine, on a local Ray
started for the run (real stages: the ink detector and the shipped CRNN line reader)."""

from __future__ import annotations

import json

import numpy as np
import ray
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
# float32: in bfloat16 a read's score can move in the 3rd digit with what else the process
# read before (the page-turn check's extra reads do), and the engines are compared exactly.
STAGES = ["--device", "cpu", "--set", "detector.backend=ink", "--set", "recognizer.arch=crnn",
          "--set", "recognizer.weights=data/models/documents_crnn.pt",
          "--set", "recognizer.precision=fp32"]


def text_page(lines: list[str]) -> Image.Image:
    """Black printed lines on white, as the ink detector and the line reader expect."""
    img = Image.new("RGB", (360, 40 + 40 * len(lines)), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 24)
    for n, line in enumerate(lines):
        draw.text((20, 20 + 40 * n), line, fill="black", font=font)
    return img


def run_cli(*args):
    return runner.invoke(app, ["run", *map(str, args), *STAGES])


def test_ray_engine_writes_what_the_local_engine_writes_and_resumes(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    text_page(["Hello world", "of 42 pages"]).save(folder / "a.png")
    text_page(["Second page"]).save(folder / "b.jpg")
    first, second = text_page(["Tiff one"]), text_page(["Tiff two"])
    first.save(folder / "c.tif", save_all=True, append_images=[second])
    (folder / "d.png").write_bytes(b"not a picture")
    local = run_cli(folder, "--out", tmp_path / "local.json")
    assert local.exit_code == 1, local.output  # d.png failed
    a = json.loads((tmp_path / "local.json").read_text())

    # --resume on Ray from a results file holding a.png and the failure of d.png: a is left
    # out before the dataset is made; b, both pages of c and d (retried) are read on Ray.
    done = {**a, "images": [a["images"][0], a["images"][4]]}
    (tmp_path / "ray.json").write_text(json.dumps(done))
    on_ray = run_cli(folder, "--out", tmp_path / "ray.json", "--engine", "ray", "--resume")
    assert on_ray.exit_code == 1, on_ray.output
    assert "resume: 1 of 5 images already" in on_ray.output
    assert "3 images ok, 1 failed" in on_ray.output
    assert not ray.is_initialized()  # the Ray it started for the run is stopped
    b = json.loads((tmp_path / "ray.json").read_text())
    # The writer keeps a resumed entry's place (d.png second), as for the local engine.
    assert [(e["file"].rsplit("/", 1)[-1], e["page"]) for e in b["images"]] == [
        ("a.png", None), ("d.png", None), ("b.jpg", None), ("c.tif", 1), ("c.tif", 2)]
    by_page = {(e["file"], e["page"]): e for e in a["images"]}
    for entry in b["images"]:  # text, words, polygons, scores, errors: all the same
        assert entry == by_page[entry["file"], entry["page"]]
    assert {k: v for k, v in a.items() if k != "images"} == {
        k: v for k, v in b.items() if k != "images"}
    read = [e for e in b["images"] if e["error"] is None]
    assert len(read) == 4 and all(e["text"] for e in read)  # the reader read the lines
    assert all(e["lines"][0]["words"][0]["polygon"] for e in read)
    assert "not an image" in b["images"][1]["error"]


def test_ray_address_without_ray_engine_exits_2(tmp_path):
    text_page(["x"]).save(tmp_path / "a.png")
    result = run_cli(tmp_path / "a.png", "--out", tmp_path / "r.json", "--ray-address", "auto")
    assert result.exit_code == 2
    assert "--ray-address needs --engine ray" in result.output


def test_page_reader_reads_each_group_and_gives_a_row_per_page(tmp_path):
    from pipeline.engines.ray_engine import PageReader, PipelineSpec
    from pipeline.presets import load_pipeline_config

    text_page(["One"]).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"")
    text_page(["Two"]).save(tmp_path / "c.png")
    cfg = load_pipeline_config("documents", None, [s for s in STAGES[3::2]])
    reader = PageReader(PipelineSpec(cfg, "cpu"))
    groups = np.empty(2, dtype=object)  # as Ray hands list columns over: arrays per row
    groups[:] = [np.array([str(tmp_path / "a.png"), str(tmp_path / "b.png")]),
                 np.array([str(tmp_path / "c.png")])]
    numbers = np.empty(2, dtype=object)
    numbers[:] = [np.array([0, 0]), np.array([0])]
    out = reader({"index": np.array([4, 6]), "files": groups, "pages": numbers})
    assert out["index"].tolist() == [4, 5, 6]
    entries = [json.loads(e) for e in out["entry"]]
    assert [e["file"].rsplit("/", 1)[-1] for e in entries] == ["a.png", "b.png", "c.png"]
    assert entries[0]["error"] is None and entries[0]["page"] is None and entries[0]["text"]
    assert entries[1]["error"] == "empty file (0 bytes)"

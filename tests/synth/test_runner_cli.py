import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from typer.testing import CliRunner

from pipeline.cli import app
from recognition.alphabet import unsupported_chars
from synth.kinds import KINDS, renderer_factory
from synth.runner import generate
from synth.samples import write_samples

runner = CliRunner()


def _read_tsv(path):
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools vs numpy 2
@pytest.mark.parametrize("kind,options,n", [
    ("documents", {"long_side": 400}, 2),
    ("notebooks", {"long_side": 400}, 2),
    ("plate_scenes", {"long_side": 320}, 2),
])
def test_coco_kinds_load_in_pycocotools(tmp_path, kind, options, n):
    summary = generate(renderer_factory(kind, **options), tmp_path, n, seed=3, progress=False)
    assert summary.written == n and summary.failed == 0
    coco = COCO(str(summary.labels_path))
    assert len(coco.getImgIds()) == n
    names = {c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert names == ({"plate"} if kind == "plate_scenes" else {"word", "line"})
    for img in coco.loadImgs(coco.getImgIds()):
        assert (tmp_path / "images" / img["file_name"]).is_file()
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img["id"]))
        assert anns
        for a in anns:
            xs, ys = a["segmentation"][0][0::2], a["segmentation"][0][1::2]
            assert min(xs) >= 0 and max(xs) <= img["width"] - 1
            assert min(ys) >= 0 and max(ys) <= img["height"] - 1
            assert a["area"] > 0 and not unsupported_chars(a["attributes"]["translation"])
            if kind == "plate_scenes":
                assert a["attributes"]["region"] in {"ru", "eu", "us", "cn", "br"}
            mask = coco.annToMask(a)
            assert mask.sum() > 0


def test_output_is_identical_for_any_worker_count(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(renderer_factory("lines"), a, 6, seed=4, workers=1, progress=False)
    generate(renderer_factory("lines"), b, 6, seed=4, workers=2, progress=False)
    assert (a / "labels.tsv").read_text() == (b / "labels.tsv").read_text()
    for name in sorted(p.name for p in (a / "images").iterdir()):
        assert (a / "images" / name).read_bytes() == (b / "images" / name).read_bytes()
    c = tmp_path / "c"
    generate(renderer_factory("lines"), c, 6, seed=5, progress=False)
    assert (a / "labels.tsv").read_text() != (c / "labels.tsv").read_text()


def test_cli_lines_and_plates(tmp_path):
    out = tmp_path / "lines"
    result = runner.invoke(app, ["synth", "lines", "--out", str(out), "--n", "3", "--seed", "1",
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    rows = _read_tsv(out / "labels.tsv")
    assert len(rows) == 3 and all(len(r) == 2 and r[0].startswith("images/") for r in rows)
    assert all((out / r[0]).is_file() for r in rows)
    out = tmp_path / "plates"
    result = runner.invoke(app, ["synth", "plates", "--out", str(out), "--n", "4",
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    rows = _read_tsv(out / "labels.tsv")
    assert len(rows) == 4 and all(len(r) == 3 and r[2] in {"ru", "eu", "us", "cn", "br"}
                                  for r in rows)
    out = tmp_path / "plates_us"
    result = runner.invoke(app, ["synth", "plates", "--out", str(out), "--n", "6",
                                 "--layouts", "us,cn_green", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert {r[2] for r in _read_tsv(out / "labels.tsv")} <= {"us", "cn"}


def test_cli_long_printed_lines(tmp_path):
    def mean_words(name, *extra):
        out = tmp_path / name
        result = runner.invoke(app, ["synth", "lines", "--out", str(out), "--n", "16",
                                     "--seed", "2", "--line-prob", "1", "--hand-prob", "0",
                                     *extra, "--no-progress"])
        assert result.exit_code == 0, result.output
        rows = _read_tsv(out / "labels.tsv")
        assert all(len(r[1].split()) >= 2 for r in rows)    # --line-prob 1: no single words
        return sum(len(r[1].split()) for r in rows) / len(rows)

    assert mean_words("long", "--max-words", "12") > mean_words("default") + 2


def test_cli_plate_scenes_via_scene_flag(tmp_path):
    out = tmp_path / "scenes"
    result = runner.invoke(app, ["synth", "plates", "--scene", "--out", str(out), "--n", "1",
                                 "--size", "256", "--no-progress"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "annotations.json").read_text(encoding="utf-8"))
    assert data["categories"] == [{"id": 1, "name": "plate"}]
    assert data["images"][0]["width"] == 256 or data["images"][0]["height"] == 256


@pytest.mark.parametrize("args,message", [
    (["synth", "lines", "--scene"], "--scene only applies"),
    (["synth", "lines", "--size", "500"], "--size only applies"),
    (["synth", "documents", "--size", "10"], "between 64 and 8192"),
    (["synth", "plates", "--max-words", "8"], "apply to kind 'lines' only"),
    (["synth", "lines", "--max-words", "1"], "between 2 and 40"),
    (["synth", "lines", "--hand-prob", "1.5"], "--hand-prob must be between 0 and 1"),
    (["synth", "lines", "--bilevel-prob", "-0.1"], "--bilevel-prob must be between 0 and 1"),
    (["synth", "plates", "--curly-prob", "0.5"], "apply to kind 'lines' only"),
    (["synth", "plates", "--layouts", "us,mars"], "unknown plate layouts mars"),
    (["synth", "plates", "--layouts", ","], "(none given)"),
    (["synth", "lines", "--layouts", "us"], "applies to kind 'plates'"),
    (["synth", "street_scenes", "--max-roll", "20"], "applies to kind 'plate_scenes'"),
    (["synth", "plate_scenes", "--max-roll", "95"], "under 90 degrees"),
    (["synth", "mars"], ""),
    (["synth", "lines", "--n", "0"], ""),
])
def test_cli_bad_arguments_exit_2(tmp_path, args, message):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_every_registered_kind_has_a_cli_choice():
    result = runner.invoke(app, ["synth", "--help"])
    for kind in KINDS:
        assert kind in result.output


def test_samples_are_small_images_with_ground_truth(tmp_path):
    paths = write_samples(tmp_path, seed=0, long_side=320)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in paths) == [
        "documents/notebook.jpg", "documents/printed.jpg", "documents/scan.png",
        "plates/car_1.jpg", "plates/car_2.jpg"]
    for p in paths:
        assert p.read_bytes()[:4] == (b"\x89PNG" if p.suffix == ".png" else b"\xff\xd8\xff\xe0")
    scan = np.asarray(Image.open(tmp_path / "documents" / "scan.png").convert("L"))
    assert set(np.unique(scan)) == {0, 255}  # a 1-bit scan, losslessly stored
    for folder, n in (("documents", 3), ("plates", 2)):
        coco = COCO(str(tmp_path / folder / "annotations.json"))
        assert len(coco.getImgIds()) == n and coco.getAnnIds()
    again = write_samples(tmp_path / "again", seed=0, long_side=320)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    assert np.all([p.stat().st_size < 300_000 for p in paths])

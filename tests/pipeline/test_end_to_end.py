"""End to end with the real factories and tiny UNTRAINED models on generated images.

Untrained models read nonsense; these tests check that every stage runs, the results JSON
has the documented schema, and the output says which models were used.
"""

import json
import subprocess
import sys
import zipfile

from PIL import Image
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ocr import OcrPipeline
from pipeline.presets import load_pipeline_config
from pipeline.submission import package_submission
from tests.pipeline.fakes import page, two_row_plate
from tests.pipeline.test_run_cli import check_schema

runner = CliRunner()

TINY_YOLO = ["detector.imgsz=64", "detector.conf=0.0", "detector.max_det=5",
             "detector.weights=null", "detector.untrained=true"]
TINY_JOINT = ["recognizer.arch=joint_ctc_transformer", "recognizer.model.d_model=32",
              "recognizer.model.num_heads=2", "recognizer.model.ffn_dim=64",
              "recognizer.model.num_decoder_layers=1",
              "recognizer.model.max_length=4", "recognizer.height=32", "recognizer.width=64",
              "recognizer.weights=null", "recognizer.untrained=true"]
TINY_CRNN = ["recognizer.model.channels=[8,8,16,16]", "recognizer.model.hidden=16",
             "recognizer.weights=null", "recognizer.untrained=true"]


def sets(overrides):
    return [arg for o in overrides for arg in ("--set", o)]


def test_python_api_in_three_lines():
    ocr = OcrPipeline.from_preset("documents", device="cpu", overrides=TINY_YOLO + TINY_JOINT)
    pages = ocr.run([page(["abc", "de"])])
    assert pages[0].error is None and pages[0].width == 400
    assert "UNTRAINED" in ocr.models["detector"] and "UNTRAINED" in ocr.models["recognizer"]


def test_run_documents_with_untrained_models(tmp_path):
    Image.fromarray(page(["abc", "de"])).save(tmp_path / "p.png")
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(tmp_path / "p.png"), "--out", str(out),
                                 "--device", "cpu", "--viz", str(tmp_path / "viz"),
                                 *sets(TINY_YOLO + TINY_JOINT)])
    assert result.exit_code == 0, result.output
    assert "UNTRAINED" in result.output
    data = json.loads(out.read_text())
    assert "UNTRAINED" in data["models"]["detector"]
    assert "UNTRAINED" in data["models"]["recognizer"]
    [entry] = data["images"]
    check_schema(entry)
    assert entry["error"] is None and entry["lines"], "conf 0 must give some regions"
    assert (tmp_path / "viz" / "p.jpg").is_file()


def test_recognize_mode_plates_with_untrained_crnn(tmp_path):
    Image.fromarray(two_row_plate("ab", "cd")).save(tmp_path / "plate.png")
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(tmp_path), "--out", str(out), "--preset", "plates",
                                 "--mode", "recognize", "--device", "cpu", *sets(TINY_CRNN)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["models"]["detector"] == "none (mode recognize)"
    [entry] = data["images"]
    check_schema(entry)
    [line] = entry["lines"]
    [word] = line["words"]
    assert word["polygon"] == [[0, 0], [80, 0], [80, 60], [0, 60]]
    assert isinstance(word["rec_score"], float)


def test_detect_mode_with_untrained_yolo(tmp_path):
    Image.fromarray(page(["abc"])).save(tmp_path / "p.png")
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(tmp_path), "--out", str(out), "--mode", "detect",
                                 "--device", "cpu", *sets(TINY_YOLO)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["models"]["recognizer"] == "none (mode detect)"
    [entry] = data["images"]
    check_schema(entry)
    assert entry["text"] == "" and entry["lines"]
    assert all(w["text"] == "" and w["det_score"] is not None
               for line in entry["lines"] for w in line["words"])


def test_submit_packages_a_runnable_submission(tmp_path):
    images = tmp_path / "test_images"
    images.mkdir()
    Image.fromarray(page(["abc"])).save(images / "1.jpg")
    Image.fromarray(page(["de"])).save(images / "2.jpg")
    out = tmp_path / "sub"
    result = runner.invoke(app, ["submit", str(images), "--out", str(out), "--zip",
                                 "--image", "me/ocr:1", "--device", "cpu",
                                 *sets(TINY_YOLO + TINY_JOINT)])
    assert result.exit_code == 0, result.output
    preds = json.loads((out / "predictions.json").read_text())
    assert set(preds) == {"1.jpg", "2.jpg"}
    for entry in preds.values():
        for p in entry["predictions"]:
            assert set(p) == {"polygon", "text"} and len(p["polygon"]) >= 3
    folder = out / "submission"
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta == {"image": "me/ocr:1", "entry_point": "python run.py"}
    with zipfile.ZipFile(out / "submission.zip") as zf:
        names = set(zf.namelist())
    assert {"metadata.json", "run.py", "config.yaml", "src/pipeline/ocr.py"} <= names
    # The packaged entry point runs on its own, from another directory.
    save = tmp_path / "output" / "prediction.json"
    proc = subprocess.run([sys.executable, str(folder / "run.py"), str(images), str(save)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(json.loads(save.read_text())) == {"1.jpg", "2.jpg"}


def test_package_bundles_weights_and_points_config_at_them(tmp_path):
    det = tmp_path / "det.pt"
    det.write_bytes(b"weights")
    cfg = load_pipeline_config("documents", overrides=[f"detector.weights={det}",
                                                       "recognizer.weights=null",
                                                       "recognizer.untrained=true"])
    sub = package_submission(cfg, tmp_path / "pkg")
    assert sub.weights == {"detector": "weights/detector.pt", "recognizer": None,
                           "second_reader": "weights/second_reader.pt"}
    assert (tmp_path / "pkg" / "weights" / "detector.pt").read_bytes() == b"weights"
    from pipeline.submission.predict import config_with_local_weights
    loaded = config_with_local_weights(tmp_path / "pkg" / "config.yaml")
    assert loaded.detector.weights == (tmp_path / "pkg" / "weights" / "detector.pt").resolve()
    assert loaded.recognizer.weights is None and loaded.recognizer.untrained
    second = (tmp_path / "pkg" / "weights" / "second_reader.pt").resolve()
    assert loaded.second_reader.recognizer.weights == second and second.is_file()


def test_a_config_that_extends_a_preset_loads_as_a_package_config(tmp_path):
    from pipeline.submission.predict import config_with_local_weights

    (tmp_path / "config.yaml").write_text(
        "extends: receipts\ndetector:\n  weights: weights/detector.pt\n", encoding="utf-8")
    loaded = config_with_local_weights(tmp_path / "config.yaml")
    assert loaded.detector.weights == (tmp_path / "weights" / "detector.pt").resolve()
    assert loaded.assembler.layout.order == "cuts"  # the receipts preset's own setting

"""A weights file that is missing, or one that would need unpickling, is the user's to fix:
``pipeline run`` exits 2 naming the file, before any image is read; the submission packer
refuses to bundle a stage without its weights."""

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from core.errors import MissingWeightsError
from core.paths import PROJECT_ROOT
from pipeline.cli import app
from pipeline.ocr import OcrPipeline
from pipeline.presets import load_pipeline_config
from pipeline.submission import package_submission
from tests.pipeline.fakes import page

runner = CliRunner()


def run_cli(*args):
    return runner.invoke(app, ["run", *map(str, args)])


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(page(["ab"])).save(path)
    return path


@pytest.mark.parametrize("mode, field", [("ocr", "detector.weights"),
                                         ("recognize", "recognizer.weights")])
def test_run_with_a_missing_weights_file_exits_2_naming_it(tmp_path, image, mode, field):
    missing = tmp_path / "nonexistent.pt"
    result = run_cli(image, "--out", tmp_path / "r.json", "--device", "cpu", "--mode", mode,
                     "--set", f"{field}={missing}")
    assert result.exit_code == 2, result.output
    assert str(missing) in result.stderr and field in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("field", ["detector.weights", "recognizer.weights"])
def test_plates_preset_on_the_samples_with_a_missing_file_exits_2(tmp_path, field):
    missing = "/nonexistent/x.pt"
    result = run_cli(PROJECT_ROOT / "data/samples/plates", "--preset", "plates",
                     "--out", tmp_path / "b.json", "--device", "cpu",
                     "--set", f"{field}={missing}")
    assert result.exit_code == 2, result.output
    assert missing in result.stderr and field in result.stderr
    assert not (tmp_path / "b.json").exists()


@pytest.mark.parametrize("preset", ["plates", "documents", "scene", "receipts"])
@pytest.mark.parametrize("field", ["detector.weights", "recognizer.weights"])
def test_from_preset_with_a_missing_file_raises_missing_weights_error(tmp_path, preset, field):
    missing = tmp_path / "x.pt"
    with pytest.raises(MissingWeightsError, match=field) as err:
        OcrPipeline.from_preset(preset, device="cpu", overrides=[f"{field}={missing}"])
    assert err.value.field == field and err.value.path == str(missing)
    assert isinstance(err.value, FileNotFoundError)


def test_run_with_no_weights_and_no_untrained_flag_exits_2(tmp_path, image):
    result = run_cli(image, "--out", tmp_path / "r.json", "--device", "cpu",
                     "--set", "detector.weights=null")
    assert result.exit_code == 2, result.output
    assert "detector.weights is not set" in result.stderr
    assert "detector.untrained: true" in result.stderr


def test_run_with_an_ultralytics_pickle_exits_2_naming_the_convert_command(tmp_path, image):
    from detection.yolo import build_yolo_model

    pickled = tmp_path / "best.pt"
    model = build_yolo_model("yolov8n.yaml", 1)
    model.names = {0: "word"}
    torch.save({"ema": None, "model": model}, pickled)
    result = run_cli(image, "--out", tmp_path / "r.json", "--device", "cpu",
                     "--set", f"detector.weights={pickled}")
    assert result.exit_code == 2, result.output
    assert str(pickled) in result.stderr
    assert "pipeline convert detector-weights" in result.stderr


def test_untrained_and_weights_together_is_a_config_error(tmp_path, image):
    result = run_cli(image, "--out", tmp_path / "r.json", "--device", "cpu",
                     "--set", "detector.untrained=true")  # the preset names its weights
    assert result.exit_code == 2, result.output
    assert "untrained" in result.stderr


def test_packer_refuses_a_stage_without_its_weights(tmp_path):
    missing = tmp_path / "gone.pt"
    cfg = load_pipeline_config("documents", overrides=[f"recognizer.weights={missing}"])
    with pytest.raises(MissingWeightsError, match="recognizer.weights") as err:
        package_submission(cfg, tmp_path / "pkg")
    assert str(missing) in str(err.value)

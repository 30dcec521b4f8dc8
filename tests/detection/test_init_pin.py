"""A detector fine-tune starts only from the file its init_sha256 pins."""

import hashlib

import pytest
import yaml
from typer.testing import CliRunner

from core.checksums import ChecksumMismatch
from detection.config import DetectorTrainConfig
from detection.train import train_detector
from pipeline.cli import app
from tests.detection.synthetic import MASKRCNN_TINY, YOLO_TINY, make_coco_pages, train_config

PINNED = "ab" * 32


def _start_file(tmp_path):
    start = tmp_path / "start.pt"
    start.write_bytes(b"not the stage-2 detector")
    return start, hashlib.sha256(b"not the stage-2 detector").hexdigest()


@pytest.mark.parametrize("model", [YOLO_TINY, MASKRCNN_TINY], ids=["yolo", "maskrcnn"])
def test_fine_tune_from_another_file_than_pinned_fails_before_training(tmp_path, model):
    make_coco_pages(tmp_path / "data", n=3)
    start, actual = _start_file(tmp_path)
    cfg = DetectorTrainConfig.model_validate(
        {**train_config(tmp_path / "data", {**model, "weights": str(start)}, tmp_path / "run",
                        epochs=1, iterations=1),
         "init_sha256": PINNED})
    with pytest.raises(ChecksumMismatch) as err:
        train_detector(cfg)
    msg = str(err.value)
    assert "model.weights" in msg and str(start) in msg and PINNED in msg and actual in msg
    # nothing trained: no dataset written (YOLO), no checkpoint (both)
    assert not (tmp_path / "run" / "dataset").exists()
    assert not (tmp_path / "run" / "best_detector.pt").exists()


def test_pin_without_a_start_file_is_a_config_error(tmp_path):
    data = train_config(tmp_path / "data", YOLO_TINY, tmp_path / "run")
    with pytest.raises(ValueError, match="init_sha256"):
        DetectorTrainConfig.model_validate({**data, "init_sha256": PINNED})


def test_cli_reports_the_mismatch_without_a_traceback(tmp_path):
    make_coco_pages(tmp_path / "data", n=3)
    start, actual = _start_file(tmp_path)
    cfg = {**train_config(tmp_path / "data", {**YOLO_TINY, "weights": str(start)},
                          tmp_path / "run", epochs=1), "init_sha256": PINNED}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = CliRunner().invoke(app, ["train", "detector", str(path)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    assert "error: model.weights" in result.output and actual in result.output

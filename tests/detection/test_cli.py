import json

import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from tests.detection.synthetic import YOLO_TINY, make_coco_pages, train_config

runner = CliRunner()


def test_train_detector_command_writes_weights(tmp_path):
    make_coco_pages(tmp_path / "data", n=4)
    cfg = train_config(tmp_path / "data", YOLO_TINY, tmp_path / "run", epochs=3)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = runner.invoke(app, ["train", "detector", str(path), "--set", "train.epochs=1",
                                 "--set", f"export={tmp_path / 'exported.pt'}"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "best_detector.pt").is_file()
    assert (tmp_path / "exported.pt").is_file()
    assert "detector weights" in result.output


def test_bad_config_exits_2_naming_the_field(tmp_path):
    make_coco_pages(tmp_path / "data", n=2)
    cfg = train_config(tmp_path / "data", {**YOLO_TINY, "conf": 3}, tmp_path / "run")
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = runner.invoke(app, ["train", "detector", str(path)])
    assert result.exit_code == 2
    assert "model.conf" in result.output
    result = runner.invoke(app, ["train", "detector", str(path), "--set", "model.conf=0.5",
                                 "--set", "train.epochz=1"])
    assert result.exit_code == 2 and "train.epochz" in result.output


def test_missing_annotations_fail_cleanly(tmp_path):
    cfg = train_config(tmp_path / "nowhere", YOLO_TINY, tmp_path / "run")
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = runner.invoke(app, ["train", "detector", str(path)])
    assert result.exit_code == 1
    assert "annotations.json" in result.output


def test_evaluate_detection_prints_scores(tmp_path):
    gt = {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100}],
          "categories": [{"id": 1, "name": "word"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]},
                          {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10]}]}
    pred = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
            {"image_id": 1, "category_id": 1, "bbox": [80, 80, 5, 5], "score": 0.8},
            {"image_id": 1, "category_id": 1, "bbox": [20, 20, 5, 5], "score": 0.7}]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    result = runner.invoke(app, ["evaluate", "detection", "--gt", str(tmp_path / "gt.json"),
                                 "--pred", str(tmp_path / "pred.json"),
                                 "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    assert "precision@0.5 0.3333" in result.output and "recall@0.5    0.5000" in result.output
    assert json.loads((tmp_path / "s.json").read_text())["f1"] == 0.4
    bad = runner.invoke(app, ["evaluate", "detection", "--gt", str(tmp_path / "pred.json"),
                              "--pred", str(tmp_path / "pred.json")])
    assert bad.exit_code == 2 and "not a COCO file" in bad.output

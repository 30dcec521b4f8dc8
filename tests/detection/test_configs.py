import pytest

from core.config import load_config
from core.paths import CONFIGS_DIR
from detection.config import DetectorTrainConfig

# every recipe: what ships, the competition recipes, and the record in history/
CONFIGS = sorted((CONFIGS_DIR / "detection").rglob("*.yaml"))


def test_shipped_and_competition_configs_exist():
    names = {str(p.relative_to(CONFIGS_DIR / "detection")) for p in CONFIGS}
    assert {"documents_yolo_stage4.yaml", "plates_yolo_stage7.yaml", "nto_yolov5l.yaml",
            "maskrcnn_convnext.yaml", "scene_yolo_stage2.yaml", "receipts_yolo.yaml",
            "history/documents_yolo.yaml", "history/documents_yolo_stage3.yaml",
            "history/documents_yolo_finetune.yaml", "history/documents_yolo_stage6.yaml",
            "history/documents_yolo_stage7.yaml",
            "history/plates_yolo.yaml",
            "history/plates_yolo_real.yaml", "history/plates_yolo_stage3.yaml",
            "history/plates_yolo_stage4.yaml", "history/plates_yolo_stage6.yaml",
            "history/scene_yolo.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS,
                         ids=lambda p: str(p.relative_to(CONFIGS_DIR / "detection")))
def test_config_validates(path):
    load_config(path, DetectorTrainConfig)

import numpy as np
import pytest
import torch
from PIL import Image

from core.errors import MissingWeightsError
from detection.config import DetectorConfig, DetectorTrainConfig
from detection.factory import build_detector
from detection.maskrcnn import box_mask_polygon, build_maskrcnn_model
from detection.train import train_detector
from tests.detection.synthetic import MASKRCNN_TINY, make_coco_pages, train_config
from tests.detection.test_yolo import assert_regions_valid


def test_norm_layers_are_trainable_layernorms():
    model = build_maskrcnn_model(DetectorConfig(**MASKRCNN_TINY))
    names = {type(m).__name__ for m in model.modules()}
    assert "FrozenBatchNorm2d" not in names and "LayerNorm2d" in names
    assert all(p.requires_grad for p in model.parameters())
    assert model.roi_heads.detections_per_img == 20


def test_missing_backbone_weights_file_is_an_error_not_a_random_backbone(tmp_path):
    missing = tmp_path / "convnext.pth"
    with pytest.raises(MissingWeightsError, match="backbone_weights") as err:
        build_maskrcnn_model(DetectorConfig(**MASKRCNN_TINY, backbone_weights=missing))
    assert str(missing) in str(err.value)


def test_box_mask_polygon_in_image_coordinates():
    mask = np.zeros((28, 28), np.float32)
    mask[7:21, :14] = 1.0  # left half, middle rows
    poly = box_mask_polygon(mask, (100.0, 50.0, 156.0, 78.0), 0.5, 1.0, 200, 100)
    assert poly[:, 0].min() >= 99 and poly[:, 0].max() <= 130
    assert poly[:, 1].min() >= 55 and poly[:, 1].max() <= 73


def test_train_resume_and_detect(tmp_path):
    make_coco_pages(tmp_path / "data", n=5)
    data = train_config(tmp_path / "data", MASKRCNN_TINY, tmp_path / "run", iterations=2,
                        warmup_iters=1, val_every=2, checkpoint_every=1)
    cfg = DetectorTrainConfig.model_validate(data)
    weights = train_detector(cfg)
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert last["step"] == 2 and {"optimizer", "scheduler", "rng"} <= set(last)

    data["train"]["iterations"] = 3
    train_detector(DetectorTrainConfig.model_validate(data), resume=True)
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["step"] == 3

    det = build_detector(cfg.model.model_copy(update={"weights": weights}), "cpu")
    assert "UNTRAINED" not in det.description
    images = [np.asarray(Image.open(p).convert("RGB"))
              for p in sorted((tmp_path / "data" / "images").iterdir())[:2]]
    results = det.predict(images)
    assert any(results)
    for image, regions in zip(images, results, strict=True):
        assert len(regions) <= 20
        assert_regions_valid(regions, image.shape[1], image.shape[0])

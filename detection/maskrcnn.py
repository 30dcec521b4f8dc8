"""Mask R-CNN backend: torchvision ``MaskRCNN`` on a timm ConvNeXt + FPN backbone.

Masks are turned into polygons per box from the 28x28 mask head output, not from
full-image pasted masks: a page with a thousand words would otherwise need a thousand
full-resolution masks in memory.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from core.errors import MissingWeightsError
from core.geometry import (
    bbox_of,
    box_polygon,
    clip_box,
    clockwise_from_top_left,
    largest_valid_polygon,
    mask_to_polygon,
)
from detection.config import DetectorConfig
from detection.types import Region

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "ocr-pipeline-maskrcnn/1"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Words are small and wide: smaller anchors than COCO's, and flat aspect ratios (h / w).
ANCHOR_SIZES = ((16,), (32,), (64,), (128,), (256,))
ASPECT_RATIOS = (0.25, 0.5, 1.0, 2.0)
# Fields of DetectorConfig that define the architecture (stored in every checkpoint).
ARCH_FIELDS = ("model", "classes", "backbone_kwargs", "fpn_channels", "mask_head_channels")


class ConvNeXtFPN(nn.Module):
    """A timm ConvNeXt (``features_only``) followed by a torchvision FPN.

    Args:
        name: timm model name (``convnext_atto`` ... ``convnext_small``).
        fpn_channels: channels of every FPN level (``out_channels`` for torchvision).
        backbone_kwargs: extra timm kwargs (e.g. ``depths`` / ``dims`` for a tiny model).
        backbone_weights: optional local timm state dict to start from.
    """

    def __init__(self, name: str, fpn_channels: int = 256,
                 backbone_kwargs: dict[str, Any] | None = None,
                 backbone_weights: str | Path | None = None):
        super().__init__()
        import timm
        from torchvision.ops import FeaturePyramidNetwork
        from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

        kwargs = dict(backbone_kwargs or {})
        self.body = timm.create_model(name, pretrained=False, features_only=True,
                                      out_indices=(0, 1, 2, 3), **kwargs)
        if backbone_weights is not None:
            _load_backbone_weights(self.body, Path(backbone_weights))
        self.fpn = FeaturePyramidNetwork(self.body.feature_info.channels(), fpn_channels,
                                         extra_blocks=LastLevelMaxPool())
        self.out_channels = fpn_channels

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        """Feature maps ``'0'..'3'`` (strides 4..32) and ``'pool'`` (stride 64)."""
        feats = self.body(x)
        return self.fpn(OrderedDict((str(i), f) for i, f in enumerate(feats)))


def _load_backbone_weights(body: nn.Module, path: Path) -> None:
    if not path.is_file():  # a named start file is never silently replaced by random init
        raise MissingWeightsError("backbone_weights", path,
                                  instead="or set backbone_weights: null for a randomly "
                                          "initialised backbone")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    # features_only models name stages like the classifier; the head keys simply don't match.
    missing, unexpected = body.load_state_dict(state, strict=False)
    log.info("backbone weights %s: %d missing, %d unused keys", path, len(missing),
             len(unexpected))


def build_maskrcnn_model(cfg: DetectorConfig, train_sizes: Sequence[int] | None = None
                         ) -> nn.Module:
    """Build an untrained torchvision ``MaskRCNN`` for ``cfg.classes`` (+ background).

    Args:
        cfg: architecture, sizes and thresholds; ``imgsz`` is the longest side.
        train_sizes: shorter-side sizes sampled in training (default ``[imgsz]``).

    Returns:
        The model (train mode, CPU). Its norm layers are ConvNeXt's LayerNorms, all
        trainable: nothing is frozen.
    """
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor

    backbone = ConvNeXtFPN(cfg.model, cfg.fpn_channels, cfg.backbone_kwargs,
                           cfg.backbone_weights)
    anchors = AnchorGenerator(ANCHOR_SIZES, (ASPECT_RATIOS,) * len(ANCHOR_SIZES))
    proposals = max(1000, 2 * cfg.max_det)
    width = cfg.mask_head_channels
    model = MaskRCNN(
        backbone, num_classes=len(cfg.classes) + 1,
        min_size=tuple(train_sizes or (cfg.imgsz,)), max_size=cfg.imgsz,
        image_mean=list(IMAGENET_MEAN), image_std=list(IMAGENET_STD),
        rpn_anchor_generator=anchors,
        rpn_pre_nms_top_n_test=proposals, rpn_post_nms_top_n_test=proposals,
        box_score_thresh=cfg.conf, box_nms_thresh=cfg.iou, box_detections_per_img=cfg.max_det,
        box_batch_size_per_image=512)
    # torchvision fixes the mask head at 256 channels unless both parts are replaced.
    model.roi_heads.mask_head = MaskRCNNHeads(cfg.fpn_channels, [width] * 4, 1)
    model.roi_heads.mask_predictor = MaskRCNNPredictor(width, width, len(cfg.classes) + 1)
    return model


def arch_config(cfg: DetectorConfig) -> dict[str, Any]:
    """The architecture part of a config, as plain data for checkpoints."""
    dumped = cfg.model_dump(mode="json")
    return {k: dumped[k] for k in ARCH_FIELDS}


def save_maskrcnn_weights(model: nn.Module, cfg: DetectorConfig, path: str | Path) -> Path:
    """Write inference weights ``{format, arch, state_dict}`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": CHECKPOINT_FORMAT, "arch": arch_config(cfg),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_maskrcnn_weights(path: str | Path) -> dict[str, Any]:
    """Read a Mask R-CNN weights or training checkpoint (``weights_only``).

    Returns:
        The payload with ``arch`` (architecture fields) and ``state_dict``.
    """
    try:
        payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickled objects, truncated file: name the file
        raise ValueError(f"cannot read Mask R-CNN weights {path} (loaded with "
                         f"weights_only=True): {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not an ocr-pipeline Mask R-CNN checkpoint")
    return payload


class MaskRCNNDetector:
    """Batched Mask R-CNN inference returning :class:`Region` lists with mask polygons.

    Args:
        model: a torchvision ``MaskRCNN`` built by :func:`build_maskrcnn_model`.
        cfg: thresholds and sizes (``conf``, ``iou``, ``max_det``, ``imgsz``, ``batch_size``,
            ``mask_threshold``, ``polygon_tolerance``).
        device: where to run.
        description: what was loaded.
    """

    def __init__(self, model: nn.Module, cfg: DetectorConfig, device: torch.device,
                 description: str = ""):
        self.model = model.to(device).eval()
        self.cfg = cfg
        self.classes = list(cfg.classes)
        self.device = device
        self.description = description
        # Inference sizes and thresholds come from the config, not from training.
        self.model.transform.min_size = (cfg.imgsz,)
        self.model.transform.max_size = cfg.imgsz
        heads = self.model.roi_heads
        heads.score_thresh, heads.nms_thresh = cfg.conf, cfg.iou
        heads.detections_per_img = cfg.max_det

    @torch.inference_mode()
    def predict(self, images: Sequence[np.ndarray]) -> list[list[Region]]:
        """Detect regions in RGB ``uint8`` images.

        Returns:
            Per image, regions sorted by descending score; polygons come from each mask's
            largest contour (simplified, valid), the box when the mask is degenerate.
        """
        out: list[list[Region]] = []
        for start in range(0, len(images), self.cfg.batch_size):
            out.extend(self._predict_batch(images[start:start + self.cfg.batch_size]))
        return out

    def _predict_batch(self, images: Sequence[np.ndarray]) -> list[list[Region]]:
        from torchvision.models.detection.transform import resize_boxes

        tensors = []
        for image in images:
            if image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
            tensors.append(torch.tensor(image).permute(2, 0, 1)
                           .to(self.device, dtype=torch.float32) / 255.0)
        model = self.model
        batch, _ = model.transform(tensors)
        features = model.backbone(batch.tensors)
        proposals, _ = model.rpn(batch, features)
        detections, _ = model.roi_heads(features, proposals, batch.image_sizes)
        results = []
        for image, det, size in zip(images, detections, batch.image_sizes, strict=True):
            h, w = image.shape[:2]
            boxes = resize_boxes(det["boxes"], size, (h, w)).cpu().numpy()
            masks = det["masks"][:, 0].float().cpu().numpy()
            results.append(self._regions(boxes, det["scores"].cpu().numpy(),
                                         det["labels"].cpu().numpy(), masks, w, h))
        return results

    def _regions(self, boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                 masks: np.ndarray, width: int, height: int) -> list[Region]:
        regions = []
        for box, score, label, mask in zip(boxes, scores, labels, masks, strict=True):
            box = clip_box(box, width, height)
            polygon = box_mask_polygon(mask, box, self.cfg.mask_threshold,
                                       self.cfg.polygon_tolerance, width, height)
            if polygon is None:
                continue
            name = self.classes[int(label) - 1] if 0 < label <= len(self.classes) else str(label)
            regions.append(Region(polygon=polygon, bbox=bbox_of(polygon),
                                  score=float(score), label=name))
        regions.sort(key=lambda r: -r.score)
        return regions


def box_mask_polygon(mask: np.ndarray, box: tuple[float, float, float, float],
                     threshold: float, tolerance: float, width: int, height: int
                     ) -> np.ndarray | None:
    """Polygon in image coordinates of a box-relative mask probability map.

    Args:
        mask: ``(M, M)`` probabilities covering ``box`` (Mask R-CNN's head output).
        box: ``(x1, y1, x2, y2)`` in image coordinates, already clipped.
        threshold: probability above which a pixel is inside.
        tolerance: simplification tolerance in pixels.
        width, height: image size, for clipping.

    Returns:
        ``(N, 2)`` valid polygon, or ``None`` for a box with no area.
    """
    x1, y1, x2, y2 = box
    bw, bh = int(np.ceil(x2 - x1)), int(np.ceil(y2 - y1))
    if bw < 1 or bh < 1:
        return None
    binary = cv2.resize(mask, (bw, bh), interpolation=cv2.INTER_LINEAR) > threshold
    # One pixel of border so contours touching the box edge stay closed.
    padded = np.pad(binary, 1)
    local_box = (1.0, 1.0, 1.0 + (x2 - x1), 1.0 + (y2 - y1))
    polygon = mask_to_polygon(padded, tolerance, fallback_box=local_box)
    if polygon is None:
        return None
    polygon = polygon + np.array([x1 - 1.0, y1 - 1.0])
    polygon[:, 0] = polygon[:, 0].clip(0, width)
    polygon[:, 1] = polygon[:, 1].clip(0, height)
    fixed = largest_valid_polygon(polygon)
    return clockwise_from_top_left(fixed) if fixed is not None else box_polygon(*box)


def build_maskrcnn_detector(cfg: DetectorConfig, device: torch.device,
                            weights: Path | None) -> MaskRCNNDetector:
    """Build a :class:`MaskRCNNDetector` from a config.

    Args:
        cfg: architecture, classes and thresholds (a checkpoint's stored architecture wins).
        device: where to run.
        weights: an existing weights file (:func:`core.weights.required_weights`), or
            ``None`` for the randomly initialised model the config asked for (``untrained``).
    """
    if weights is not None:
        payload = load_maskrcnn_weights(weights)
        arch = payload["arch"]
        if arch != arch_config(cfg):
            log.warning("Mask R-CNN weights %s were trained as %s; using that architecture",
                        weights, arch)
        cfg = cfg.model_copy(update={**arch, "backbone_weights": None})
        model = build_maskrcnn_model(cfg)
        model.load_state_dict(payload["state_dict"])
        description = f"maskrcnn {cfg.model}, weights {cfg.weights}"
    else:
        model = build_maskrcnn_model(cfg)
        log.warning("Mask R-CNN detector %s is UNTRAINED (untrained: true): random "
                    "initialisation", cfg.model)
        description = f"maskrcnn {cfg.model}, UNTRAINED (untrained: true)"
    return MaskRCNNDetector(model, cfg, device, description)

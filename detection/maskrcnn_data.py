"""Mask R-CNN training data: COCO (NTO layout) images with boxes, labels and polygon masks."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from pycocotools import mask as mask_utils
from torch.utils.data import Dataset

from detection.coco import CocoImage, CocoObject

log = logging.getLogger(__name__)


def object_mask(obj: CocoObject, width: int, height: int) -> np.ndarray:
    """``(H, W)`` uint8 mask of an object's polygon (its box when it has none)."""
    if obj.polygon is not None:
        flat = obj.polygon.reshape(-1).tolist()
    else:
        x, y, w, h = obj.bbox
        flat = [x, y, x + w, y, x + w, y + h, x, y + h]
    rles = mask_utils.frPyObjects([flat], height, width)
    return mask_utils.decode(mask_utils.merge(rles)).astype(np.uint8)


class CocoMaskDataset(Dataset):
    """Items ``(image float CHW in [0, 1], target dict)`` as torchvision's Mask R-CNN wants.

    Objects of classes not in ``classes`` are ignored; label ``i + 1`` is ``classes[i]``
    (0 is background). An unreadable image yields ``None`` and is dropped by
    :func:`collate_detection`, so one bad file does not stop training.

    Args:
        images: image records with their objects.
        images_dir: folder the ``file_name`` entries are relative to.
        classes: class names.
    """

    def __init__(self, images: Sequence[CocoImage], images_dir: Path, classes: Sequence[str]):
        self.images = list(images)
        self.images_dir = Path(images_dir)
        self.index = {name: i + 1 for i, name in enumerate(classes)}

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]] | None:
        record = self.images[i]
        path = self.images_dir / record.file_name
        try:
            with Image.open(path) as im:
                image = np.array(im.convert("RGB"))
        except (OSError, ValueError) as exc:
            log.warning("skipping unreadable image %s: %s", path, exc)
            return None
        h, w = image.shape[:2]
        boxes, labels, masks = [], [], []
        for obj in record.objects:
            if obj.label not in self.index:
                continue
            x, y, bw, bh = obj.bbox
            x1, y1 = max(0.0, x), max(0.0, y)
            x2, y2 = min(float(w), x + bw), min(float(h), y + bh)
            if x2 - x1 < 1 or y2 - y1 < 1:
                continue
            boxes.append((x1, y1, x2, y2))
            labels.append(self.index[obj.label])
            masks.append(object_mask(obj, w, h))
        target = {
            "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor(labels, dtype=torch.int64),
            "masks": torch.from_numpy(np.stack(masks)) if masks
            else torch.zeros((0, h, w), dtype=torch.uint8),
        }
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255.0
        return tensor, target


def collate_detection(batch: list) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    """Lists of images and targets, without the items that failed to load."""
    kept = [item for item in batch if item is not None]
    return [img for img, _ in kept], [t for _, t in kept]

"""Tiny generated detection data: white pages with dark 'words' and a matching COCO file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

YOLO_TINY = {"backend": "yolo", "model": "yolov8n.yaml", "classes": ["word"], "imgsz": 64}
MASKRCNN_TINY = {"backend": "maskrcnn", "model": "convnext_atto", "classes": ["word"],
                 "imgsz": 96, "fpn_channels": 16, "mask_head_channels": 16, "max_det": 20,
                 "conf": 0.0,
                 "backbone_kwargs": {"depths": [1, 1, 1, 1], "dims": [8, 16, 32, 64]}}


def make_coco_pages(root: Path, n: int = 6, size: tuple[int, int] = (160, 120),
                    seed: int = 0) -> Path:
    """Write ``root/images/*.jpg`` + ``root/annotations.json``; return the JSON path.

    Even images are landscape, odd ones portrait; each has three black rectangles
    ('words', category 1) and one 'line' (category 2) around the first word.
    """
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    coco: dict = {"images": [], "annotations": [],
                  "categories": [{"id": 1, "name": "word"}, {"id": 2, "name": "line"}]}
    for i in range(n):
        w, h = size if i % 2 == 0 else size[::-1]
        im = Image.new("RGB", (w, h), "white")
        draw = ImageDraw.Draw(im)
        coco["images"].append({"id": i + 1, "file_name": f"{i:03d}.jpg", "width": w,
                               "height": h})
        for k in range(3):
            bw, bh = int(rng.integers(20, 40)), int(rng.integers(8, 16))
            x, y = int(rng.integers(2, w - bw - 2)), int(rng.integers(2, h - bh - 2))
            draw.rectangle([x, y, x + bw - 1, y + bh - 1], fill="black")
            text = "слово" if i % 3 else "word"
            _add(coco, i + 1, 1, [x, y, bw, bh], text)
            if k == 0:
                _add(coco, i + 1, 2, [max(0, x - 1), max(0, y - 1), bw + 2, bh + 2], text)
        im.save(root / "images" / f"{i:03d}.jpg", quality=95)
    path = root / "annotations.json"
    path.write_text(json.dumps(coco, ensure_ascii=False))
    return path


def _add(coco: dict, image_id: int, cat: int, box: list[int], text: str) -> None:
    x, y, w, h = box
    coco["annotations"].append({
        "id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": cat,
        "bbox": box, "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]],
        "area": w * h, "iscrowd": 0, "attributes": {"translation": text}})


def train_config(root: Path, model: dict, out: Path, **train) -> dict:
    """A training config dict over ``root``'s generated data."""
    return {"name": "tiny", "model": model, "device": "cpu", "out_dir": str(out),
            "data": {"train": {"annotations": str(root / "annotations.json")},
                     "val_fraction": 0.34, "stratify_keys": ["orientation"]},
            "train": {"workers": 0, "batch": 2, **train}}

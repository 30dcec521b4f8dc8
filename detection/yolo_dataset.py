"""COCO <-> YOLO label conversion and the YOLO dataset folder a training run reads.

The dataset is written inside the run directory: images are symlinked (copied where links
are impossible), labels are ``class cx cy w h`` lines normalised to the image size.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import yaml
from PIL import Image

from detection.coco import CocoImage, CocoObject

log = logging.getLogger(__name__)


def coco_to_yolo_labels(image: CocoImage, classes: Sequence[str]) -> list[str]:
    """YOLO label lines of an image's objects whose class is in ``classes``.

    Boxes are clipped to the image; boxes with no area left are dropped.

    Args:
        image: the image record (size + objects).
        classes: class names; the index is the YOLO class id.

    Returns:
        Lines ``"cls cx cy w h"`` with coordinates in ``[0, 1]``.
    """
    index = {name: i for i, name in enumerate(classes)}
    lines = []
    for obj in image.objects:
        if obj.label not in index:
            continue
        x, y, w, h = obj.bbox
        x1, y1 = max(0.0, x), max(0.0, y)
        x2, y2 = min(float(image.width), x + w), min(float(image.height), y + h)
        if x2 <= x1 or y2 <= y1:
            continue
        cx, cy = (x1 + x2) / 2 / image.width, (y1 + y2) / 2 / image.height
        bw, bh = (x2 - x1) / image.width, (y2 - y1) / image.height
        lines.append(f"{index[obj.label]} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}")
    return lines


def yolo_labels_to_coco(lines: Sequence[str], width: int, height: int,
                        classes: Sequence[str]) -> list[CocoObject]:
    """Objects with COCO ``(x, y, w, h)`` pixel boxes from YOLO label lines.

    Raises:
        ValueError: a line that is not ``cls cx cy w h``.
    """
    objects = []
    for n, line in enumerate(lines):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5:
            raise ValueError(f"YOLO label line {n + 1}: expected 5 numbers, got {line!r}")
        cls = int(parts[0])
        cx, cy, w, h = (float(v) for v in parts[1:])
        box = ((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height)
        objects.append(CocoObject(label=classes[cls], bbox=box, polygon=None))
    return objects


def yolo_dir_to_coco(images_dir: str | Path, labels_dir: str | Path,
                     classes: Sequence[str]) -> dict:
    """A COCO dict (images, annotations, categories) from a YOLO images + labels folder."""
    images_dir, labels_dir = Path(images_dir), Path(labels_dir)
    out: dict = {"images": [], "annotations": [],
                 "categories": [{"id": i + 1, "name": c} for i, c in enumerate(classes)]}
    for image_id, path in enumerate(sorted(p for p in images_dir.iterdir() if p.is_file()), 1):
        with Image.open(path) as im:
            width, height = im.size
        out["images"].append({"id": image_id, "file_name": path.name, "width": width,
                              "height": height})
        label_file = labels_dir / f"{path.stem}.txt"
        lines = label_file.read_text().splitlines() if label_file.is_file() else []
        for obj in yolo_labels_to_coco(lines, width, height, classes):
            out["annotations"].append({
                "id": len(out["annotations"]) + 1, "image_id": image_id,
                "category_id": classes.index(obj.label) + 1, "bbox": list(obj.bbox),
                "area": obj.bbox[2] * obj.bbox[3], "iscrowd": 0})
    return out


def write_yolo_split(images: Sequence[CocoImage], source_dir: Path, out_dir: Path, split: str,
                     classes: Sequence[str]) -> int:
    """Write ``out_dir/images/<split>`` (links) and ``out_dir/labels/<split>`` (labels).

    Images missing on disk are skipped with a warning.

    Returns:
        Number of images written.
    """
    img_out, lbl_out = out_dir / "images" / split, out_dir / "labels" / split
    for d in (img_out, lbl_out):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    written = 0
    for image in images:
        src = (source_dir / image.file_name).resolve()
        if not src.is_file():
            log.warning("image %s listed in the annotations is missing; skipped", src)
            continue
        # Unique flat names: file_name may contain sub-folders or repeat across folders.
        name = f"{image.id:07d}_{Path(image.file_name).name}"
        _link_or_copy(src, img_out / name)
        (lbl_out / f"{Path(name).stem}.txt").write_text(
            "\n".join(coco_to_yolo_labels(image, classes)) + "\n")
        written += 1
    return written


def write_dataset_yaml(out_dir: Path, classes: Sequence[str]) -> Path:
    """Write ultralytics' dataset YAML for ``out_dir`` with train / val splits."""
    path = out_dir / "data.yaml"
    data = {"path": str(out_dir.resolve()), "train": "images/train", "val": "images/val",
            "names": dict(enumerate(classes))}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.symlink(src, dst)
    except OSError:
        shutil.copy2(src, dst)

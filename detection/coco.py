"""COCO JSON in the NTO layout: loading with clear errors, and per-image records."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class CocoFormatError(ValueError):
    """A COCO file is unreadable or misses a required field (message names both)."""


@dataclass(frozen=True)
class CocoObject:
    """One annotation: class name, box ``(x, y, w, h)``, polygon ``(N, 2)`` or ``None``."""

    label: str
    bbox: tuple[float, float, float, float]
    polygon: np.ndarray | None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CocoImage:
    """One image and its annotations, in annotation order."""

    id: int
    file_name: str
    width: int
    height: int
    objects: list[CocoObject]
    info: dict[str, Any] = field(default_factory=dict)


def load_coco(path: str | Path) -> list[CocoImage]:
    """Read a COCO detection file into per-image records.

    Annotations with a broken box / polygon are skipped with a warning (one bad sample
    never kills a run); a missing top-level section is an error.

    Args:
        path: ``annotations.json``.

    Returns:
        Images in file order; each has its annotations resolved to class names.

    Raises:
        CocoFormatError: unreadable JSON or missing ``images`` / ``categories`` / fields.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CocoFormatError(f"{path}: cannot read COCO JSON: {exc}") from exc
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise CocoFormatError(f"{path}: field '{key}' must be a list")
    names = {}
    for i, cat in enumerate(data["categories"]):
        if "id" not in cat or "name" not in cat:
            raise CocoFormatError(f"{path}: categories[{i}] needs 'id' and 'name'")
        names[cat["id"]] = str(cat["name"])
    per_image: dict[int, list[CocoObject]] = {}
    for i, ann in enumerate(data.get("annotations") or []):
        obj = _parse_annotation(ann, names)
        if obj is None:
            log.warning("%s: annotations[%d] skipped (no usable bbox/segmentation)", path, i)
            continue
        per_image.setdefault(ann["image_id"], []).append(obj)
    images = []
    for i, img in enumerate(data["images"]):
        missing = [k for k in ("id", "file_name", "width", "height") if k not in img]
        if missing:
            raise CocoFormatError(f"{path}: images[{i}] misses field(s) {missing}")
        info = {k: v for k, v in img.items() if k not in ("id", "file_name", "width", "height")}
        images.append(CocoImage(id=int(img["id"]), file_name=str(img["file_name"]),
                                width=int(img["width"]), height=int(img["height"]),
                                objects=per_image.get(img["id"], []), info=info))
    return images


def _parse_annotation(ann: dict[str, Any], names: dict[int, str]) -> CocoObject | None:
    if "image_id" not in ann or ann.get("category_id") not in names:
        return None
    polygon = None
    seg = ann.get("segmentation")
    if isinstance(seg, list) and seg and isinstance(seg[0], list) and len(seg[0]) >= 6:
        polygon = np.asarray(seg[0], dtype=np.float64).reshape(-1, 2)
    bbox = ann.get("bbox")
    if isinstance(bbox, list) and len(bbox) == 4:
        box = tuple(float(v) for v in bbox)
    elif polygon is not None:
        x1, y1 = polygon.min(axis=0)
        x2, y2 = polygon.max(axis=0)
        box = (float(x1), float(y1), float(x2 - x1), float(y2 - y1))
    else:
        return None
    if box[2] <= 0 or box[3] <= 0 or not np.all(np.isfinite(box)):
        return None
    attrs = ann.get("attributes") if isinstance(ann.get("attributes"), dict) else {}
    return CocoObject(label=names[ann["category_id"]], bbox=box, polygon=polygon,
                      attributes=attrs)

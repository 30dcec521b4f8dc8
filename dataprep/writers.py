"""The output layouts the trainers read, one folder per split.

``OUT/<split>/images/<file>`` holds the images (bytes copied as they are in the source), and
beside it either

* ``labels.tsv``: ``images/<file><TAB>text[<TAB>region]`` (``recognition.datasets`` kind
  ``crops``), or
* ``annotations.json``: COCO in the NTO layout, ``file_name`` relative to ``images/``, each
  annotation with ``segmentation`` polygon, ``bbox`` and ``attributes.translation`` (the
  detector's ``CocoSource`` and ``recognition.datasets`` kind ``coco``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

from dataprep.converters import Crop, Page

CATEGORY_ORDER = ("word", "line", "plate")


def output_name(source_path: str) -> str:
    """A flat, portable file name for a repository path (folders joined by ``__``).

    Characters outside ``[A-Za-z0-9._-]`` become ``_``; when that changes the name, a short
    hash of the original path keeps distinct sources distinct.
    """
    flat = source_path.replace("/", "__")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", flat)
    if safe != flat:
        digest = hashlib.sha1(source_path.encode("utf-8")).hexdigest()[:8]
        path = PurePosixPath(safe)
        safe = f"{path.stem}-{digest}{path.suffix}"
    return safe


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_labels(folder: Path, crops: list[tuple[Crop, str]]) -> None:
    """``folder/labels.tsv`` for ``(crop, output file name)`` pairs, in the given order."""
    lines = []
    for crop, name in crops:
        row = [f"images/{name}", crop.text] + ([crop.region] if crop.region else [])
        lines.append("\t".join(row))
    _atomic_write(folder / "labels.tsv", "\n".join(lines) + ("\n" if lines else ""))


def coco_annotation(ann_id: int, image_id: int, category_id: int,
                    polygon: tuple[tuple[float, float], ...], text: str,
                    attributes: dict[str, Any]) -> dict[str, Any]:
    """One COCO annotation: flat segmentation, bbox, shoelace area, text in attributes."""
    xs = [p[0] for p in polygon]
    ys = [p[1] for p in polygon]
    area = 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs))))
    x0, y0 = min(xs), min(ys)
    return {"id": ann_id, "image_id": image_id, "category_id": category_id,
            "bbox": [round(x0, 1), round(y0, 1), round(max(xs) - x0, 1),
                     round(max(ys) - y0, 1)],
            "segmentation": [[round(v, 1) for p in polygon for v in p]],
            "area": round(area, 1), "iscrowd": 0,
            "attributes": {"translation": text, **attributes}}


def clip_polygon(polygon: tuple[tuple[float, float], ...], width: int, height: int
                 ) -> tuple[tuple[float, float], ...]:
    """Clamp every point into the image (source polygons may overshoot by a few pixels)."""
    return tuple((min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height)))
                 for x, y in polygon)


def write_coco(folder: Path, pages: list[tuple[Page, str, int, int]],
               categories: list[str]) -> int:
    """``folder/annotations.json`` for ``(page, file name, width, height)``; returns the
    number of annotations written (degenerate polygons are left out)."""
    cat_ids = {name: i + 1 for i, name in enumerate(categories)}
    images, annotations = [], []
    for image_id, (page, name, width, height) in enumerate(pages, start=1):
        images.append({"id": image_id, "file_name": name, "width": width, "height": height,
                       "source": page.image})
        for region in page.regions:
            polygon = clip_polygon(region.polygon, width, height)
            xs = {p[0] for p in polygon}
            ys = {p[1] for p in polygon}
            if len(xs) < 2 or len(ys) < 2:
                continue
            attributes = {"region": region.region} if region.region else {}
            annotations.append(coco_annotation(len(annotations) + 1, image_id,
                                               cat_ids[region.category], polygon, region.text,
                                               attributes))
    data = {"images": images, "annotations": annotations,
            "categories": [{"id": i, "name": n} for n, i in cat_ids.items()]}
    _atomic_write(folder / "annotations.json", json.dumps(data, ensure_ascii=False))
    return len(annotations)


def categories_of(pages: list[Page]) -> list[str]:
    """The categories used, in a fixed order (word, line, plate, then any other by name)."""
    used = {r.category for p in pages for r in p.regions}
    return [c for c in CATEGORY_ORDER if c in used] + sorted(used - set(CATEGORY_ORDER))

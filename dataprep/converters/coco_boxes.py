"""COCO detection files (e.g. Roboflow's ``_annotations.coco.json`` exports): photos with boxes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath

from pydantic import Field

from core.config import StrictModel
from dataprep.converters.base import (
    Converter,
    Item,
    Page,
    TextRegion,
    group_key,
    rectangle,
    register,
)
from dataprep.errors import DataError
from dataprep.gitsource import GitSource


@register
class CocoBoxes(Converter):
    """COCO ``images`` / ``annotations`` / ``categories`` files whose images lie beside them.

    Every image of a file becomes one page, also those without boxes (they teach a detector
    what is not a plate). Boxes are ``[x, y, width, height]`` in pixels.
    """

    name = "coco_boxes"
    output = "pages"

    class Options(StrictModel):
        files: list[str] = Field(min_length=1, description="COCO JSON files in the repository; "
                                 "each one's images are in its folder.")
        categories: list[str] | None = Field(
            None, description="Category names kept as boxes; default: every category that "
            "some annotation uses.")
        category: str = "plate"
        region: str | None = None
        group: str | None = Field(None, description="Regex whose first group is the split key.")

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        for file in options.files:
            data = _load(source, file)
            folder = str(PurePosixPath(file).parent)
            folder = "" if folder == "." else folder
            names = {c["id"]: str(c.get("name", "")) for c in data["categories"]}
            keep = (None if options.categories is None else
                    {i for i, n in names.items() if n in options.categories})
            boxes: dict[object, list[TextRegion]] = {}
            for n, ann in enumerate(data["annotations"]):
                if keep is not None and ann.get("category_id") not in keep:
                    skipped["other category"] += 1
                    continue
                try:
                    x, y, w, h = (float(v) for v in ann["bbox"])
                    image_id = ann["image_id"]
                except (KeyError, TypeError, ValueError) as exc:
                    raise DataError(file, f"annotation {n}: missing or malformed bbox / "
                                    f"image_id: {exc}") from exc
                if w <= 0 or h <= 0:
                    skipped["empty box"] += 1
                    continue
                boxes.setdefault(image_id, []).append(TextRegion(
                    options.category, rectangle(x, y, x + w, y + h), "", options.region))
            for im in data["images"]:
                name = str(im.get("file_name", ""))
                if not name or "/" in name or "\\" in name:
                    raise DataError(file, f"image {im.get('id')}: malformed file_name {name!r}")
                image = f"{folder}/{name}".lstrip("/")
                if not source.exists(image):
                    raise DataError(file, f"names {name}, which is not in {folder or '/'} at "
                                    "the pinned commit")
                yield Page(image, tuple(boxes.pop(im.get("id"), ())),
                           group_key(image, options.group))
            if boxes:
                raise DataError(file, f"{len(boxes)} annotated image ids are not in 'images' "
                                f"(e.g. {next(iter(boxes))!r})")


def _load(source: GitSource, file: str) -> dict:
    if not source.exists(file):
        raise DataError(file, "no such file at the pinned commit")
    try:
        data = json.loads(source.read_text(file))
    except json.JSONDecodeError as exc:
        raise DataError(file, f"malformed JSON: {exc.msg}", line=exc.lineno) from exc
    if not isinstance(data, dict) or not all(
            isinstance(data.get(k), list) for k in ("images", "annotations", "categories")):
        raise DataError(file, "not a COCO detection file: needs lists 'images', "
                        "'annotations' and 'categories'")
    return data

"""ICDAR robust-reading layouts: one ``gt_<image stem>.txt`` of quadrilaterals per photo.

ICDAR 2015 ("incidental scene text") writes a word per line as ``x1,y1,x2,y2,x3,y3,x4,y4,text``
(the text may itself hold commas) and ``###`` for a word nobody could read. Those are kept as
``ignore`` regions: a detector bench must neither reward nor punish a box there, and a
recognizer has nothing to learn from them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath

from pydantic import Field, model_validator
from shapely.geometry import Polygon

from core.config import StrictModel
from dataprep.converters.base import (
    IMAGE_SUFFIXES,
    Converter,
    Item,
    Page,
    TextRegion,
    folder_pairs,
    group_key,
    register,
)
from dataprep.errors import DataError
from dataprep.gitsource import GitSource

IGNORE = "ignore"


def parse_quad_line(line: str, file: str, n: int, dont_care: str
                    ) -> tuple[tuple[tuple[float, float], ...], str] | None:
    """``(polygon, text)`` of one ICDAR 2015 line; ``None`` for a blank line.

    ``text`` is ``""`` for a don't-care word. Malformed coordinates raise ``DataError``.
    """
    line = line.strip()
    if not line:
        return None
    cells = line.split(",", 8)
    if len(cells) < 9:
        raise DataError(file, f"malformed quadrilateral: expected 8 coordinates and a text, "
                        f"got {line!r}", line=n)
    try:
        values = [float(c) for c in cells[:8]]
    except ValueError as exc:
        raise DataError(file, f"malformed coordinate in {line!r}: {exc}", line=n) from exc
    polygon = tuple((values[i], values[i + 1]) for i in range(0, 8, 2))
    text = cells[8].strip()
    return polygon, ("" if text == dont_care else text)


@register
class IcdarQuads(Converter):
    """Photos with an ICDAR 2015 ground-truth file each (``<prefix><stem>.txt``)."""

    name = "icdar_quads"
    output = "pages"

    class Options(StrictModel):
        images: str | list[str] = Field(
            description="Folder of the photos inside the repository, or a list of folders.")
        labels: str | list[str] = Field(
            description="Folder of the ground-truth files, or one per images folder.")
        prefix: str = Field("gt_", description="Ground-truth file name = prefix + image stem.")
        suffix: str = Field(".txt", description="... + this suffix (e.g. SROIE's .csv copies).")
        fallback_encoding: str | None = Field(
            None, description="Encoding of ground-truth files that are not UTF-8 (e.g. "
            "cp1252 for a receipt's pound sign); none: such a file is an error.")
        category: str = Field("word", description="Category of every readable region.")
        dont_care: str = Field("###", description="Text that marks an unreadable region.")
        group: str | None = Field(None, description="Regex whose first group is the split key.")

        @model_validator(mode="after")
        def _paired(self):
            folder_pairs(self.images, self.labels, "images and labels")
            return self

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        for images_folder, labels_folder in folder_pairs(options.images, options.labels,
                                                         "images and labels"):
            yield from self._pair(source, images_folder, labels_folder, options, skipped)

    def _pair(self, source: GitSource, images_folder: str, labels_folder: str,
              options: Options, skipped: Counter[str]) -> Iterator[Item]:
        images = [p for p in source.files(images_folder)
                  if p.lower().endswith(IMAGE_SUFFIXES)]
        if not images:
            raise DataError(images_folder, "no images in this folder at the pinned commit")
        folder = labels_folder.rstrip("/")
        for image in images:
            stem = PurePosixPath(image).stem
            label = f"{folder}/{options.prefix}{stem}{options.suffix}".lstrip("/")
            if not source.exists(label):
                skipped["image without ground truth"] += 1
                continue
            regions = []
            content = source.read_text(label, options.fallback_encoding)
            for n, line in enumerate(content.splitlines(), 1):
                parsed = parse_quad_line(line, label, n, options.dont_care)
                if parsed is None:
                    continue
                polygon, text = parsed
                if Polygon(polygon).area <= 0:
                    skipped["empty box"] += 1
                    continue
                if not text:
                    skipped["unreadable word (kept as ignore)"] += 1
                regions.append(TextRegion(options.category if text else IGNORE, polygon, text))
            yield Page(image, tuple(regions), group_key(image, options.group))

"""CCPD photos (Chinese City Parking Dataset): each file's name carries its plate's corners and
text (``core.ccpd``), so a folder of such photos is a labelled plate set."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pydantic import Field

from core.ccpd import parse_ccpd_name
from core.config import StrictModel
from dataprep.converters.base import (
    IMAGE_SUFFIXES,
    Converter,
    Item,
    Page,
    TextRegion,
    group_key,
    register,
)
from dataprep.errors import DataError
from dataprep.gitsource import GitSource


@register
class CcpdNames(Converter):
    """Photos named the CCPD way: one plate each, its four corners and its text from the name."""

    name = "ccpd_names"
    output = "pages"

    class Options(StrictModel):
        under: list[str] = Field(min_length=1, description="Folders of CCPD-named photos.")
        category: str = "plate"
        region: str | None = "cn"
        group: str | None = Field(None, description="Regex whose first group is the split key.")

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        for folder in options.under:
            images = [p for p in source.files(folder) if p.lower().endswith(IMAGE_SUFFIXES)]
            if not images:
                raise DataError(folder, "no images in this folder at the pinned commit")
            for image in images:
                try:
                    plate = parse_ccpd_name(image)
                except ValueError as exc:
                    raise DataError(image, str(exc)) from exc
                # the name lists the corners from the bottom-right, clockwise
                region = TextRegion(options.category, plate.vertices, plate.text,
                                    options.region)
                yield Page(image, (region,), group_key(image, options.group))

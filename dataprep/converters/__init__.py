"""Converters from source layouts to crops or pages, registered by name (see ``base``).

Catalogue entries name one (``converter: alto_lines``) and pass its ``options``.
"""

from dataprep.converters import ccpd, coco_boxes, icdar, tables, xml_pages  # noqa: F401 - registers them
from dataprep.converters.base import CONVERTERS, Converter, Crop, Item, Page, TextRegion

__all__ = ["CONVERTERS", "Converter", "Crop", "Item", "Page", "TextRegion"]

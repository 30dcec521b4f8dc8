"""What a renderer returns: a labelled crop or a page/scene with polygons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CropSample:
    """One recognizer training crop.

    Attributes:
        image: RGB uint8 (H, W, 3).
        text: the exact label (no characters outside the alphabet).
        region: plate region code (``"ru"``, ``"cn"`` ...) or None for text crops.
    """

    image: np.ndarray
    text: str
    region: str | None = None


@dataclass(frozen=True)
class Annotation:
    """One labelled object on a page or scene.

    Attributes:
        category: category name (``"word"``, ``"line"``, ``"plate"``).
        polygon: (N, 2) float, clockwise from top-left for quads, in image pixels.
        text: the transcription.
        attributes: extra COCO attributes (e.g. ``{"region": "ru"}``).
        ink_id: for words and plates, the value this object's pixels carry in
            ``PageSample.ink`` (0 when not tracked).
    """

    category: str
    polygon: np.ndarray
    text: str
    attributes: dict[str, Any] = field(default_factory=dict)
    ink_id: int = 0


@dataclass(frozen=True)
class PageSample:
    """One page or scene.

    Attributes:
        image: RGB uint8 (H, W, 3).
        annotations: words then lines (or plates), in reading order.
        ink: optional int32 (H, W) map: each drawn object's ink pixels carry its ``ink_id``,
            warped exactly like the image (for checking that labels and polygons agree).
    """

    image: np.ndarray
    annotations: list[Annotation]
    ink: np.ndarray | None = None

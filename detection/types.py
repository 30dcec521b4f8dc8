"""What a detector returns: regions with a polygon, an axis-aligned box, a score, a label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Region:
    """One detected region in image pixel coordinates.

    Attributes:
        polygon: ``(N, 2)`` float array of ``[x, y]`` vertices, N >= 3, a valid polygon.
        bbox: ``(x1, y1, x2, y2)`` axis-aligned box enclosing the polygon.
        score: detection confidence in ``[0, 1]``.
        label: class name, e.g. ``"word"``, ``"line"`` or ``"plate"``.
    """

    polygon: np.ndarray
    bbox: tuple[float, float, float, float]
    score: float
    label: str


class Detector(Protocol):
    """Anything that turns a batch of RGB ``uint8`` images into regions per image."""

    def predict(self, images: Sequence[np.ndarray]) -> list[list[Region]]: ...

"""The renderer interface every synthetic data kind implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from synth.records import CropSample, PageSample


class Renderer(ABC):
    """Draws one labelled sample from a random generator.

    Subclasses set ``output`` (``"crops"``: ``labels.tsv`` + PNG crops; ``"coco"``: COCO NTO
    ``annotations.json`` + JPEG images) and, for COCO output, ``categories`` (names, ids
    follow the order). ``render`` must depend only on ``rng`` so a seed reproduces the data.
    """

    output: ClassVar[str] = "crops"
    categories: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def render(self, rng: np.random.Generator) -> CropSample | PageSample:
        """Draw one sample."""

"""Two recognizers as one: the second reads again what the first reads unsurely.

A printed-text reader is confident on print and unsure on handwriting, and a reader
fine-tuned on handwriting loses a little on print: reading every crop with the first and only
its unsure crops with the second keeps the best of both (``bench/bench_reader_fallback.py``).
A crop's shape can also route it: narrow plate crops (two-row plates) go to a reader trained
to read two rows, and the first one's reading of the others stays as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from inspect import signature

import numpy as np

from pipeline.steps import read_confidence
from recognition.types import Recognition, Recognizer


class SecondReader:
    """``predict`` like a recognizer: ``first`` reads every crop; a crop read with a
    confidence per character (:func:`pipeline.steps.read_confidence`) under ``below`` is
    read by ``second``, whose reading replaces the first one. A crop narrower than
    ``narrower_than`` (``w / h``) is read by ``second`` alone.

    Args:
        first, second: recognizers (``predict(crops[, forbid]) -> list[Recognition]``).
        below: in ``[0, 1]``; 0 never reads a crop again.
        narrower_than: ``None``: no crop is routed by its shape.
    """

    def __init__(self, first: Recognizer, second: Recognizer, below: float,
                 narrower_than: float | None = None):
        if not 0.0 <= below <= 1.0:
            raise ValueError(f"second_reader.below must be in [0, 1], got {below}")
        if narrower_than is not None and narrower_than <= 0:
            raise ValueError(f"second_reader.narrower_than must be > 0, got {narrower_than}")
        self.first, self.second, self.below = first, second, below
        self.narrower_than = narrower_than
        self._forbids = [r for r in (first, second) if "forbid" in signature(r.predict).parameters]
        shape = "" if narrower_than is None else f", and crops under {narrower_than}:1,"
        self.description = (f"{getattr(first, 'description', type(first).__name__)}; crops "
                            f"read under {below} per character{shape} read again by "
                            f"{getattr(second, 'description', type(second).__name__)}")

    def predict(self, crops: Sequence[np.ndarray], forbid: str = "") -> list[Recognition]:
        narrow = {k for k, c in enumerate(crops) if self._narrow(c)}
        wide = [k for k in range(len(crops)) if k not in narrow]
        reads: list[Recognition | None] = [None] * len(crops)
        for k, r in zip(wide, self._predict(self.first, [crops[k] for k in wide], forbid),
                        strict=True):
            reads[k] = r
        again = sorted(narrow | {k for k in wide if read_confidence(reads[k]) < self.below})
        if again:
            for k, r in zip(again, self._predict(self.second, [crops[k] for k in again], forbid),
                            strict=True):
                reads[k] = r
        return [r for r in reads if r is not None]

    def _narrow(self, crop: np.ndarray) -> bool:
        h, w = crop.shape[:2]
        return self.narrower_than is not None and h > 0 and w / h < self.narrower_than

    def _predict(self, recognizer: Recognizer, crops: Sequence[np.ndarray], forbid: str
                 ) -> list[Recognition]:
        if not crops:
            return []
        if forbid and recognizer in self._forbids:
            return list(recognizer.predict(crops, forbid=forbid))
        return list(recognizer.predict(crops))

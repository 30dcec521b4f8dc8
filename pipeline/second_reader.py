"""Two recognizers as one: the second reads again what the first reads unsurely.

A printed-text reader is confident on print and unsure on handwriting, and a reader
fine-tuned on handwriting loses a little on print: reading every crop with the first and only
its unsure crops with the second keeps the best of both (``bench/bench_reader_fallback.py``).
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
    read by ``second``, whose reading replaces the first one.

    Args:
        first, second: recognizers (``predict(crops[, forbid]) -> list[Recognition]``).
        below: in ``[0, 1]``; 0 never reads a crop again.
    """

    def __init__(self, first: Recognizer, second: Recognizer, below: float):
        if not 0.0 <= below <= 1.0:
            raise ValueError(f"second_reader.below must be in [0, 1], got {below}")
        self.first, self.second, self.below = first, second, below
        self._forbids = [r for r in (first, second) if "forbid" in signature(r.predict).parameters]
        self.description = (f"{getattr(first, 'description', type(first).__name__)}; crops "
                            f"read under {below} per character read again by "
                            f"{getattr(second, 'description', type(second).__name__)}")

    def predict(self, crops: Sequence[np.ndarray], forbid: str = "") -> list[Recognition]:
        reads = self._predict(self.first, crops, forbid)
        unsure = [k for k, r in enumerate(reads) if read_confidence(r) < self.below]
        if unsure:
            again = self._predict(self.second, [crops[k] for k in unsure], forbid)
            for k, r in zip(unsure, again, strict=True):
                reads[k] = r
        return reads

    def _predict(self, recognizer: Recognizer, crops: Sequence[np.ndarray], forbid: str
                 ) -> list[Recognition]:
        if forbid and recognizer in self._forbids:
            return list(recognizer.predict(crops, forbid=forbid))
        return list(recognizer.predict(crops))

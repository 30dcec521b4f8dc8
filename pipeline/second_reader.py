"""Two recognizers as one: the second reads again what the first reads unsurely; and one
recognizer reading every crop twice, as cut and inverted (light writing on a dark ground).

A printed-text reader is confident on print and unsure on handwriting, and a reader
fine-tuned on handwriting loses a little on print: reading every crop with the first and only
its unsure crops with the second keeps the best of both (``bench/bench_reader_fallback.py``).
A crop's shape can also route it: narrow plate crops (two-row plates) are read by a reader
trained on two rows as well, and the first one's reading of the others stays as it was.
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
    ``narrower_than`` (``w / h``) is read by both, and the reading with more letters and
    digits is kept, on a tie the one with the higher confidence per character: a reader
    that drops a plate's top row reads fewer characters.

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
        shape = "" if narrower_than is None else f", and crops under {narrower_than}:1,"
        self.description = (f"{getattr(first, 'description', type(first).__name__)}; crops "
                            f"read under {below} per character{shape} read again by "
                            f"{getattr(second, 'description', type(second).__name__)}")

    def predict(self, crops: Sequence[np.ndarray], forbid: str = "") -> list[Recognition]:
        reads = _predict(self.first, crops, forbid)
        narrow = {k for k, c in enumerate(crops) if self._narrow(c)}
        again = sorted(narrow | {k for k, r in enumerate(reads)
                                 if read_confidence(r) < self.below})
        if again:
            for k, r in zip(again, _predict(self.second, [crops[k] for k in again], forbid),
                            strict=True):
                if k not in narrow or _fuller(r, reads[k]):
                    reads[k] = r
        return reads

    def _narrow(self, crop: np.ndarray) -> bool:
        h, w = crop.shape[:2]
        return self.narrower_than is not None and h > 0 and w / h < self.narrower_than



class BothPolarities:
    """``predict`` like a recognizer: every crop is read as cut and inverted (``255 - crop``)
    in one batch, and the reading with the higher confidence per character
    (:func:`pipeline.steps.read_confidence`) is kept (as cut on a tie). A scene's white
    letters on a dark sign sit beside dark ones on a light wall, so no one polarity fits a
    photo; a reader that learned mostly dark ink on a light ground is surer, and more often
    right, on the inverted crop of a light word.

    Args:
        reader: a recognizer (``predict(crops[, forbid]) -> list[Recognition]``).
    """

    def __init__(self, reader: Recognizer):
        self.reader = reader
        self.description = (f"{getattr(reader, 'description', type(reader).__name__)}; each "
                            "crop read as cut and inverted, the surer reading kept")

    def predict(self, crops: Sequence[np.ndarray], forbid: str = "") -> list[Recognition]:
        reads = _predict(self.reader, list(crops) + [255 - np.asarray(c) for c in crops],
                         forbid)
        n = len(crops)
        return [inv if read_confidence(inv) > read_confidence(cut) else cut
                for cut, inv in zip(reads[:n], reads[n:], strict=True)]


def _predict(recognizer: Recognizer, crops: Sequence[np.ndarray], forbid: str
             ) -> list[Recognition]:
    """``recognizer``'s readings, with ``forbid`` passed on when it takes one."""
    if forbid and "forbid" in signature(recognizer.predict).parameters:
        return list(recognizer.predict(crops, forbid=forbid))
    return list(recognizer.predict(crops))


def _fuller(a: Recognition, b: Recognition) -> bool:
    """Whether reading ``a`` beats ``b``: more letters and digits, or as many and a higher
    confidence per character."""
    na, nb = (sum(c.isalnum() for c in r.text) for r in (a, b))
    return na > nb or (na == nb and read_confidence(a) > read_confidence(b))

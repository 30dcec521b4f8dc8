"""What a recognizer returns for each crop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Recognition:
    """Text read from one crop, with a confidence in ``[0, 1]``.

    ``region`` is the plate region / country when the model has a region head, else ``None``.
    ``spans``: ``(start, end)`` fractions of the crop's width of each whitespace-separated
    word of ``text``, when the recognizer knows them (CTC columns), else ``None``.
    ``word_scores``: a confidence in ``[0, 1]`` for each of those words (the least sure CTC
    column of the word, :func:`recognition.decoding.ctc_word_scores`), else ``None``.
    ``chars``: for each non-whitespace character of ``text``, in order, ``(left, top, right,
    bottom, score)``: its box as fractions of the crop's width and height (from the CTC
    columns that emitted it, :func:`recognition.decoding.ctc_char_spans`) and its
    probability; ``None`` when unknown.
    """

    text: str
    score: float
    region: str | None = None
    spans: tuple[tuple[float, float], ...] | None = None
    word_scores: tuple[float, ...] | None = None
    chars: tuple[tuple[float, float, float, float, float], ...] | None = None


class Recognizer(Protocol):
    """Anything that reads a list of RGB ``uint8`` crops of any sizes, in input order."""

    def predict(self, crops: Sequence[np.ndarray]) -> list[Recognition]: ...

"""Turning read words into ordered lines (pages) or plates, by the rules of ``reading_order``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from core.geometry import as_points, rotated_rect
from pipeline.lexicon import correct_page
from pipeline.postprocess import unify_scripts
from pipeline.presets import AssemblerConfig
from pipeline.reading_order import PageLayout, estimate_skew, page_order, plate_order
from pipeline.results import Line, Word, points_tuple


def char_confidence(word: Word) -> float:
    """A word's read confidence per character: ``rec_score ** (1 / len(text))`` (a CTC path
    probability shrinks with every character); 1.0 when it was not read (detect mode)."""
    if word.rec_score is None:
        return 1.0
    return float(max(word.rec_score, 0.0)) ** (1.0 / max(len(word.text), 1))


def _word_scores(word: Word) -> tuple[float, ...]:
    """The recognizer's confidence in each whitespace-separated word of ``word.text``: its
    ``word_scores``, or without them (a recognizer that does not give them, a text whose
    words were split or joined since) the read's :func:`char_confidence` for each."""
    n = len(word.text.split())
    if word.word_scores is not None and len(word.word_scores) == n:
        return word.word_scores
    return (char_confidence(word),) * n


class Assembler:
    """The last step: cleans the text of read words and orders them into :class:`Line` s.

    Args:
        config: ``text`` (junk reads blanked, scripts unified, lexicon) and ``layout``
            (``page`` or ``plate``, the grouping thresholds).
    """

    def __init__(self, config: AssemblerConfig | None = None):
        self.config = config or AssemblerConfig()

    def assemble(self, words: Sequence[Word]) -> tuple[Line, ...]:
        """Lines in reading order; a plate is one line with its rows top first."""
        cfg, lay = self.config.text, self.config.layout
        if cfg.min_char_score is not None:  # junk reads lose their text, not their region
            words = [w if char_confidence(w) >= cfg.min_char_score
                     else replace(w, text="") for w in words]
        if not words:
            return ()
        if cfg.unify_scripts:
            texts = unify_scripts([w.text for w in words])
            words = [replace(w, text=t) for w, t in zip(words, texts, strict=True)]
        polygons = [as_points(w.polygon) for w in words]
        skew = estimate_skew(polygons) if lay.deskew else 0.0
        if lay.kind == "plate":
            groups = plate_order(polygons, min_overlap=lay.min_overlap)
        else:
            layout = PageLayout(min_overlap=lay.min_overlap, column_gap=lay.column_gap,
                                min_column_rows=lay.min_column_rows, order=lay.order,
                                gutter_gap=lay.gutter_gap, min_x_overlap=lay.min_x_overlap)
            groups = page_order(polygons, layout, skew=skew)
            if cfg.lexicon:  # corrected in reading order: hyphen-broken words stay whole
                order = [i for g in groups for i in g]
                texts = correct_page([words[i].text for i in order], cfg.lexicon,
                                     cfg.lexicon_margin, [_word_scores(words[i]) for i in order],
                                     cfg.lexicon_unsure_below)
                words = list(words)
                for i, t in zip(order, texts, strict=True):
                    words[i] = replace(words[i], text=t)
        return tuple(self._line([words[i] for i in g], skew) for g in groups if g)

    def _line(self, words: list[Word], skew: float) -> Line:
        points = np.concatenate([as_points(w.polygon) for w in words])
        text = self.config.layout.word_separator.join(w.text for w in words if w.text)
        return Line(text=text, polygon=points_tuple(rotated_rect(points, skew)),
                    words=tuple(words))

"""Turning read words into ordered lines (pages) or plates, by the rules of ``reading_order``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from core.geometry import as_points, order_quad, rotated_rect, split_quad
from pipeline.languages import line_language
from pipeline.lexicon import correct_page
from pipeline.plate_format import (
    fix_cn_length,
    fix_letters_and_digits,
    latin_plate,
    region_from_text,
)
from pipeline.postprocess import caps_lookalikes, unify_scripts
from pipeline.presets import AssemblerConfig
from pipeline.reading_order import PageLayout, estimate_skew, page_order, plate_order
from pipeline.results import Char, Line, Word, points_tuple


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


def _drop_cn_extra(word: Word) -> Word:
    """``word`` without the character :func:`pipeline.plate_format.fix_cn_length` finds
    one too many on a Chinese plate (its read box and score go with it)."""
    read = word.read_chars
    drop = None if read is None else fix_cn_length(word.text, [s for _, s in read])
    if drop is None:
        return word
    return replace(word, text=word.text[:drop] + word.text[drop + 1:],
                   read_chars=read[:drop] + read[drop + 1:])


def _inside(box: tuple[float, float, float, float], bounds: tuple[float, float, float, float]
            ) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = bounds
    a, b, c, d = box
    a, c = min(max(a, x1), x2), min(max(c, x1), x2)
    b, d = min(max(b, y1), y2), min(max(d, y1), y2)
    return a, b, max(a, c), max(b, d)


def even_char_boxes(word: Word, n: int) -> list[tuple[float, float, float, float]]:
    """``n`` boxes cutting ``word`` evenly along its reading direction: its quadrilateral
    cut across its top edge (as the crop was read), each piece's axis-aligned box; a word
    of another polygon shape cut along x."""
    spans = [(k / n, (k + 1) / n) for k in range(n)]
    if len(word.polygon) == 4:
        pieces = split_quad(order_quad(as_points(word.polygon)), spans)
        return [(*p.min(axis=0), *p.max(axis=0)) for p in pieces]
    x1, y1, x2, y2 = word.bbox
    return [(x1 + (x2 - x1) * a, y1, x1 + (x2 - x1) * b, y2) for a, b in spans]


def word_chars(word: Word) -> tuple[Char, ...]:
    """The characters of ``word.text`` but whitespace, left to right, each with a box inside
    the word's ``bbox`` and a score.

    From the recognizer's character boxes (:attr:`Word.read_chars`, one per character it
    read) when the final text has as many characters: its CTC columns place each one, and
    its score is that character's probability. A text that changed after reading keeps those
    boxes when its length did not change (look-alike letters unified, ``l`` corrected to
    ``I``: the score is then of the letter as read). When its length changed (a lexicon
    correction that added or dropped a letter) or nothing placed its characters, the word's
    box is cut evenly (:func:`even_char_boxes`) and each character scores the word's
    confidence per character (:func:`char_confidence`).
    """
    letters = [ch for ch in word.text if not ch.isspace()]
    if not letters:
        return ()
    read = word.read_chars
    if read is not None and len(read) == len(letters):
        boxes, scores = [b for b, _ in read], [s for _, s in read]
    else:
        boxes = even_char_boxes(word, len(letters))
        scores = [char_confidence(word)] * len(letters)
    return tuple(Char(ch, _inside(tuple(float(v) for v in box), word.bbox), float(score))
                 for ch, box, score in zip(letters, boxes, scores, strict=True))


def split_word(word: Word) -> list[Word]:
    """A region read as several words (a merged line crop) cut into one :class:`Word` per
    whitespace-separated word of its text, left to right.

    Its quadrilateral is cut across its top edge (as the crop was read) where the
    recognizer's CTC columns put each word (:attr:`Word.spans`), or, without spans that fit
    the words (a lexicon correction split or joined one), in proportion to the characters.
    Each piece keeps the region's label and detection score; its ``rec_score`` is the
    recognizer's confidence in that word (:attr:`Word.word_scores`, else the region's
    confidence per character to the power of the word's length), and it keeps the
    recognizer's boxes of its own characters. A region of one word, or whose polygon is not
    a quadrilateral, is returned as it is."""
    tokens = list(re.finditer(r"\S+", word.text))
    if len(tokens) == 1 and tokens[0].group(0) != word.text:
        return [replace(word, text=tokens[0].group(0))]  # read with a space at an end
    if len(tokens) < 2 or len(word.polygon) != 4:
        return [word]
    spans = word.spans
    if spans is None or len(spans) != len(tokens):
        first, end = tokens[0].start(), tokens[-1].end()
        spans = tuple(((t.start() - first) / (end - first), (t.end() - first) / (end - first))
                      for t in tokens)
    pieces = split_quad(order_quad(as_points(word.polygon)), spans)
    scores = _word_scores(word) if word.rec_score is not None else (None,) * len(tokens)
    if word.word_scores is None and word.rec_score is not None:
        per_char = char_confidence(word)
        scores = tuple(per_char ** len(t.group(0)) for t in tokens)
    read = word.read_chars
    if read is not None and len(read) != sum(len(t.group(0)) for t in tokens):
        read = None
    out, used = [], 0
    for piece, token, score in zip(pieces, tokens, scores, strict=True):
        n = len(token.group(0))
        (x1, y1), (x2, y2) = piece.min(axis=0), piece.max(axis=0)
        out.append(replace(
            word, text=token.group(0), polygon=points_tuple(piece),
            bbox=(round(float(x1), 2), round(float(y1), 2), round(float(x2), 2),
                  round(float(y2), 2)),
            rec_score=None if score is None else float(score), spans=None,
            word_scores=None if score is None else (float(score),), chars=None,
            read_chars=None if read is None else tuple(read[used:used + n])))
        used += n
    return out


class Assembler:
    """The last step: cleans the text of read words and orders them into :class:`Line` s.

    Args:
        config: ``text`` (junk reads blanked, scripts unified, lexicon, languages),
            ``layout`` (``page`` or ``plate``, the grouping thresholds) and ``char_boxes``
            (each word's characters, :func:`word_chars`). Each line gets its language
            (:func:`pipeline.languages.line_language`).
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
        if cfg.caps_lookalikes:
            words = [replace(w, text=caps_lookalikes(w.text)) for w in words]
        polygons = [as_points(w.polygon) for w in words]
        skew = estimate_skew(polygons) if lay.deskew else 0.0
        if lay.kind == "plate":
            groups = plate_order(polygons, min_overlap=lay.min_overlap)
        else:
            layout = PageLayout(min_overlap=lay.min_overlap, column_gap=lay.column_gap,
                                min_column_rows=lay.min_column_rows, order=lay.order,
                                gutter_gap=lay.gutter_gap, min_x_overlap=lay.min_x_overlap,
                                value_width=lay.value_width)
            groups = page_order(polygons, layout, skew=skew, texts=[w.text for w in words])
            lexicon = ([lang for lang in cfg.lexicon if lang in cfg.languages]
                       if cfg.languages else cfg.lexicon)
            if lexicon:  # corrected in reading order: hyphen-broken words stay whole
                order = [i for g in groups for i in g]
                texts = correct_page([words[i].text for i in order], lexicon,
                                     cfg.lexicon_margin, [_word_scores(words[i]) for i in order],
                                     cfg.lexicon_unsure_below)
                words = list(words)
                for i, t in zip(order, texts, strict=True):
                    words[i] = replace(words[i], text=t)
        return tuple(self._line([words[i] for i in g], skew) for g in groups if g)

    def _line(self, words: list[Word], skew: float) -> Line:
        points = np.concatenate([as_points(w.polygon) for w in words])
        lay = self.config.layout
        if lay.kind == "plate" and lay.plate_letters == "latin":
            words = [replace(w, text=latin_plate(w.text)) for w in words]
            if lay.plate_letter_digit_fix and len(words) == 1:  # one plate, one reading
                words = [replace(words[0], text=fix_letters_and_digits(words[0].text))]
        if lay.kind == "plate" and lay.plate_cn_length_fix and len(words) == 1:
            words = [_drop_cn_extra(words[0])]
        text = lay.word_separator.join(w.text for w in words if w.text)
        if lay.kind == "page":  # a merged line crop: one Word per word
            words = [piece for w in words for piece in split_word(w)]
        elif lay.plate_regions:
            region = region_from_text(text)
            if region is not None:
                words = [w if w.region is not None else replace(w, region=region)
                         for w in words]
        if self.config.char_boxes:
            words = [replace(w, chars=word_chars(w)) for w in words]
        text_cfg = self.config.text
        lang = line_language(text, text_cfg.languages or text_cfg.lexicon)
        return Line(text=text, polygon=points_tuple(rotated_rect(points, skew)),
                    words=tuple(words), lang=lang)

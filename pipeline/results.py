"""Typed OCR results: ``Word`` → ``Line`` → ``Page``, each with ``export()`` to plain JSON.

Polygons are tuples of ``(x, y)`` pairs in pixels of the (EXIF-rotated) input image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Point = tuple[float, float]


def _round(v: float) -> float:
    return round(float(v), 2)


def points_tuple(polygon: np.ndarray | Sequence[Sequence[float]]) -> tuple[Point, ...]:
    """Freeze a polygon into a tuple of rounded ``(x, y)`` pairs."""
    return tuple((_round(x), _round(y)) for x, y in np.asarray(polygon, dtype=np.float64))


def _export_polygon(polygon: tuple[Point, ...]) -> list[list[float]]:
    return [[x, y] for x, y in polygon]


@dataclass(frozen=True)
class Char:
    """One character of a word (``pipeline run --char-boxes``).

    Attributes:
        text: the character.
        bbox: ``(x1, y1, x2, y2)``, inside its word's ``bbox``.
        score: the recognizer's probability of it (see :func:`pipeline.assembler.word_chars`
            for words whose text changed after reading).
    """

    text: str
    bbox: tuple[float, float, float, float]
    score: float

    def export(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"text": self.text, "bbox": [_round(v) for v in self.bbox],
                "score": round(float(self.score), 4)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Char:
        """Inverse of :meth:`export`."""
        return cls(text=data["text"], bbox=tuple(float(v) for v in data["bbox"]),  # type: ignore[arg-type]
                   score=float(data["score"]))


CharBox = tuple[tuple[float, float, float, float], float]
"""A character's box in the page and its probability, as read (before any text change)."""


@dataclass(frozen=True)
class Word:
    """One detected and/or read region.

    Attributes:
        text: recognised text ("" in detect mode).
        polygon: vertices, clockwise.
        bbox: ``(x1, y1, x2, y2)``.
        label: detector class ("word", "plate", ...); "crop" in recognize mode.
        det_score: detection confidence, ``None`` when no detector ran (recognize mode).
        rec_score: recognition confidence, ``None`` when no recognizer ran (detect mode).
        spans: where each whitespace-separated word of ``text`` lies along the polygon's top
            edge, as ``(start, end)`` fractions (from the recognizer's CTC columns); ``None``
            when unknown. Not exported: it serves to cut a line read as several words into
            word predictions (:func:`pipeline.nto.predictions_from_pages`).
        word_scores: the recognizer's confidence in each whitespace-separated word of
            ``text`` (:attr:`recognition.types.Recognition.word_scores`), ``None`` when
            unknown. Not exported: the lexicon corrects only the words it marks unsure.
        chars: the characters of ``text`` but whitespace, left to right, with their boxes
            (:class:`Char`); ``None`` unless character boxes were asked for (then
            exported as ``chars``).
        read_chars: each non-whitespace character's :data:`CharBox` as the recognizer read
            it (from its CTC columns), ``None`` when unknown. Not exported: ``chars`` is
            made from it once the text is final.
        region: the plate's region (``cn``, ``us``, ``eu``, ``ru``, ``br``) when the
            recognizer has a region head, else ``None`` (exported only when set).
    """

    text: str
    polygon: tuple[Point, ...]
    bbox: tuple[float, float, float, float]
    label: str = "word"
    det_score: float | None = None
    rec_score: float | None = None
    spans: tuple[tuple[float, float], ...] | None = field(default=None, compare=False,
                                                          repr=False)
    word_scores: tuple[float, ...] | None = field(default=None, compare=False, repr=False)
    chars: tuple[Char, ...] | None = None
    read_chars: tuple[CharBox, ...] | None = field(default=None, compare=False, repr=False)
    region: str | None = None

    def export(self) -> dict[str, Any]:
        """Plain-JSON form (see the README's "Results JSON"); ``chars`` only when set."""
        out = {
            "text": self.text,
            "polygon": _export_polygon(self.polygon),
            "bbox": [_round(v) for v in self.bbox],
            "label": self.label,
            "det_score": None if self.det_score is None else round(float(self.det_score), 4),
            "rec_score": None if self.rec_score is None else round(float(self.rec_score), 4),
        }
        if self.chars is not None:
            out["chars"] = [c.export() for c in self.chars]
        if self.region is not None:
            out["region"] = self.region
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Word:
        """Inverse of :meth:`export`."""
        return cls(text=data["text"], polygon=points_tuple(data["polygon"]),
                   bbox=tuple(float(v) for v in data["bbox"]),  # type: ignore[arg-type]
                   label=data.get("label", "word"), det_score=data.get("det_score"),
                   rec_score=data.get("rec_score"),
                   chars=None if data.get("chars") is None
                   else tuple(Char.from_dict(c) for c in data["chars"]),
                   region=data.get("region"))


@dataclass(frozen=True)
class Line:
    """Words of one text line (or one plate) in reading order.

    ``lang``: the line's language, an ISO 639-1 code (``zh`` for a plate in hanzi), ``und``
    when its letters do not tell (:func:`pipeline.languages.line_languages`).
    """

    text: str
    polygon: tuple[Point, ...]
    words: tuple[Word, ...]
    lang: str = "und"

    def export(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"text": self.text, "polygon": _export_polygon(self.polygon),
                "lang": self.lang, "words": [w.export() for w in self.words]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Line:
        """Inverse of :meth:`export`."""
        return cls(text=data["text"], polygon=points_tuple(data["polygon"]),
                   words=tuple(Word.from_dict(w) for w in data["words"]),
                   lang=data.get("lang", "und"))


@dataclass(frozen=True)
class Page:
    """Result for one image: ordered lines, or the reason it failed.

    Attributes:
        file: the image path as it was given / found.
        width, height: image size after EXIF rotation (0 when the image could not be read).
        lines: lines in reading order.
        error: ``None``, or why the image failed (it then has no lines).
        page: 1-based page number within a multi-page TIFF or a PDF (even of one page);
            ``None`` for a single-page image (and for arrays). ``(file, page)`` names a
            result.
        rotation: how far the page was found turned, in degrees clockwise: 0, 90, 180 or
            270. A page turned 90 clockwise has its text lines running top to bottom; it
            was read after turning it back 90 counter-clockwise
            (:class:`pipeline.steps.DetectOrientation`). Polygons, ``width`` and ``height``
            stay those of the image as loaded (EXIF orientation applied).
        page_quad: the corners of the page found in a photo (top-left, top-right,
            bottom-right, bottom-left, in the image's pixels), which was read warped upright
            (:class:`pipeline.steps.FindPage`); ``None`` when the image was read as it is
            (page finding off, or a scan or crop that already is the page). Polygons stay
            in the image's own pixels either way.
    """

    file: str
    width: int
    height: int
    lines: tuple[Line, ...] = field(default_factory=tuple)
    error: str | None = None
    page: int | None = None
    rotation: int = 0
    page_quad: tuple[Point, ...] | None = None

    @property
    def text(self) -> str:
        """The whole ordered text: non-empty lines joined by newlines."""
        return "\n".join(line.text for line in self.lines if line.text)

    @property
    def words(self) -> list[Word]:
        """All words in reading order."""
        return [w for line in self.lines for w in line.words]

    def export(self) -> dict[str, Any]:
        """Plain-JSON form (see the README's "Results JSON")."""
        return {"file": self.file, "page": self.page, "width": self.width,
                "height": self.height, "rotation": self.rotation,
                "page_quad": None if self.page_quad is None
                else _export_polygon(self.page_quad),
                "text": self.text,
                "lines": [line.export() for line in self.lines], "error": self.error}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Page:
        """Inverse of :meth:`export`."""
        return cls(file=data["file"], width=int(data.get("width") or 0),
                   height=int(data.get("height") or 0),
                   lines=tuple(Line.from_dict(x) for x in data.get("lines") or ()),
                   error=data.get("error"), page=data.get("page"),
                   rotation=int(data.get("rotation") or 0),
                   page_quad=None if data.get("page_quad") is None
                   else points_tuple(data["page_quad"]))

    @classmethod
    def failed(cls, file: str, error: str, width: int = 0, height: int = 0,
               page: int | None = None) -> Page:
        """A page for an image that could not be processed."""
        return cls(file=file, width=width, height=height, lines=(), error=error, page=page)

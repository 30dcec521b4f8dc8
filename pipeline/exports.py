"""Results pages as the files other OCR tools read: plain text, hOCR and ALTO v4.

Each writer is a pure function of one :class:`~pipeline.results.Page` (a failed page has
none: it has nothing to say). :class:`PageExporter` names and writes the files, for
``pipeline export`` and ``pipeline run --export``.

The results have words and lines but no blocks; :func:`group_blocks` gathers the ordered
lines into blocks (columns, paragraphs) by where they lie: a line starts a new block when it
does not overlap the previous line horizontally, starts above it, or lies more than a line
height below it. hOCR writes each block as an ``ocr_carea`` holding one ``ocr_par``, ALTO as
a ``TextBlock``. Coordinates are whole pixels of the page (the box of a word is widened to
whole pixels: ``floor`` of its left / top, ``ceil`` of its right / bottom).

Every XML document is built with :mod:`xml.etree.ElementTree`, which escapes the text.
"""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # no numpy at import: the CLI's help text comes from this module
    from pipeline.results import Line, Page, Word

XHTML_NS = "http://www.w3.org/1999/xhtml"
ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_SCHEMA = "http://www.loc.gov/alto/v4/alto-4-2.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SOFTWARE = "ocr-pipeline"

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_XHTML_DOCTYPE = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
                  '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n')
# Characters XML 1.0 cannot hold at all (ElementTree would write them and break the file).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Characters that make a bad file name on some system: path separators, Windows' reserved.
_NOT_IN_NAMES = re.compile(r'[\x00-\x1f<>:"/\\|?*]')

Box = tuple[int, int, int, int]


# ----------------------------------------------------------------------------- geometry

def pixel_box(bbox: Sequence[float], width: int, height: int) -> Box:
    """``(x0, y0, x1, y1)`` widened to whole pixels and kept inside a ``width`` x ``height``
    page (when its size is known)."""
    x0, y0 = math.floor(bbox[0]), math.floor(bbox[1])
    x1, y1 = math.ceil(bbox[2]), math.ceil(bbox[3])
    if width > 0 and height > 0:
        x0, x1 = (min(max(v, 0), width) for v in (x0, x1))
        y0, y1 = (min(max(v, 0), height) for v in (y0, y1))
    return x0, y0, max(x0, x1), max(y0, y1)


def _union(boxes: Iterable[Box]) -> Box:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def line_box(line: Line, width: int, height: int) -> Box:
    """The pixel box around a line's polygon and its words."""
    points = list(line.polygon)
    for word in line.words:
        points += [(word.bbox[0], word.bbox[1]), (word.bbox[2], word.bbox[3])]
    if not points:
        return 0, 0, 0, 0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return pixel_box((min(xs), min(ys), max(xs), max(ys)), width, height)


def group_blocks(lines: Sequence[Line], width: int = 0, height: int = 0) -> list[list[Line]]:
    """Split lines in reading order into blocks of consecutive lines.

    A line joins the block of the line before it when they overlap horizontally, it does not
    start above that line's top, and the gap between them is at most the taller one's height;
    otherwise it starts a block (the next column, a new paragraph, a caption).

    Returns:
        the lines, in order, as a list of non-empty blocks (``[]`` for no lines).
    """
    blocks: list[list[Line]] = []
    previous: Box | None = None
    for line in lines:
        box = line_box(line, width, height)
        if previous is None or not _same_block(previous, box):
            blocks.append([])
        blocks[-1].append(line)
        previous = box
    return blocks


def _same_block(above: Box, box: Box) -> bool:
    overlap = min(above[2], box[2]) - max(above[0], box[0])
    gap = box[1] - above[3]
    tall = max(above[3] - above[1], box[3] - box[1], 1)
    return overlap > 0 and box[1] >= above[1] and gap <= tall


def word_confidence(word: Word) -> float | None:
    """The word's recognition score, else its detection score (detect mode), in 0..1."""
    score = word.rec_score if word.rec_score is not None else word.det_score
    return None if score is None else min(max(float(score), 0.0), 1.0)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


# ----------------------------------------------------------------------------- writers

def to_txt(page: Page) -> str:
    """The page's ``text``, exactly (lines joined by newlines, no newline added)."""
    return page.text


def to_hocr(page: Page) -> str:
    """The page as an hOCR 1.2 XHTML document.

    ``ocr_page`` (title ``image "<file>"; bbox 0 0 W H``, and ``ppageno`` = page - 1 for a
    page of a multi-page file, 0-based as hOCR counts) > ``ocr_carea`` > ``ocr_par`` >
    ``ocr_line`` > ``ocrx_word`` (title ``bbox x0 y0 x1 y1; x_wconf NN``, confidence 0-100;
    no ``x_wconf`` when the word has no score). One ``ocrx_word`` per word of the results.
    """
    n = page.page or 1
    html = ET.Element("html", {"xmlns": XHTML_NS})
    head = ET.SubElement(html, "head")
    ET.SubElement(head, "title").text = _clean(_display_name(page))
    ET.SubElement(head, "meta", {"http-equiv": "Content-Type",
                                 "content": "text/html; charset=utf-8"})
    ET.SubElement(head, "meta", {"name": "ocr-system", "content": SOFTWARE})
    ET.SubElement(head, "meta", {"name": "ocr-capabilities",
                                 "content": "ocr_page ocr_carea ocr_par ocr_line ocrx_word "
                                            "ocrp_wconf"})
    body = ET.SubElement(html, "body")
    title = f'image "{_hocr_quote(page.file)}"; bbox 0 0 {page.width} {page.height}'
    if page.page is not None:
        title += f"; ppageno {page.page - 1}"
    div = ET.SubElement(body, "div", {"class": "ocr_page", "id": f"page_{n}",
                                      "title": _clean(title)})
    ids = _Ids(n)
    for block in group_blocks(page.lines, page.width, page.height):
        boxes = [line_box(line, page.width, page.height) for line in block]
        bbox = _hocr_bbox(_union(boxes))
        area = ET.SubElement(div, "div", {"class": "ocr_carea", "id": ids("block"),
                                          "title": bbox})
        par = ET.SubElement(area, "p", {"class": "ocr_par", "id": ids("par"), "title": bbox})
        for line, box in zip(block, boxes, strict=True):
            span = ET.SubElement(par, "span", {"class": "ocr_line", "id": ids("line"),
                                               "title": _hocr_bbox(box)})
            for k, word in enumerate(line.words):
                props = _hocr_bbox(pixel_box(word.bbox, page.width, page.height))
                conf = word_confidence(word)
                if conf is not None:
                    props += f"; x_wconf {round(conf * 100)}"
                w = ET.SubElement(span, "span", {"class": "ocrx_word", "id": ids("word"),
                                                 "title": props})
                w.text = _clean(word.text)
                w.tail = " " if k < len(line.words) - 1 else None
    ET.indent(html, space=" ")
    return _XML_DECLARATION + _XHTML_DOCTYPE + ET.tostring(html, encoding="unicode") + "\n"


def to_alto(page: Page) -> str:
    """The page as an ALTO v4 document (pixel units).

    ``Layout/Page`` (``WIDTH HEIGHT PHYSICAL_IMG_NR`` = the page number, 1 for a single-page
    file) ``/PrintSpace/TextBlock/TextLine/String`` with ``HPOS VPOS WIDTH HEIGHT CONTENT``
    and ``WC`` (confidence 0-1, absent when the word has no score); ``SP`` between the
    strings of a line. One ``String`` per word of the results.
    """
    n = page.page or 1
    # Plain tags under a literal default namespace: ElementTree would otherwise refuse the
    # attributes, which ALTO leaves in no namespace.
    alto = ET.Element("alto", {"xmlns": ALTO_NS, "xmlns:xsi": XSI_NS,
                               "xsi:schemaLocation": f"{ALTO_NS} {ALTO_SCHEMA}"})
    description = ET.SubElement(alto, "Description")
    ET.SubElement(description, "MeasurementUnit").text = "pixel"
    source = ET.SubElement(description, "sourceImageInformation")
    ET.SubElement(source, "fileName").text = _clean(page.file)
    layout = ET.SubElement(alto, "Layout")
    page_el = ET.SubElement(layout, "Page", {
        "ID": f"page_{n}", "PHYSICAL_IMG_NR": str(n),
        "WIDTH": str(page.width), "HEIGHT": str(page.height)})
    space = ET.SubElement(page_el, "PrintSpace", _alto_box((0, 0, page.width,
                                                                   page.height)))
    ids = _Ids(n)
    for block in group_blocks(page.lines, page.width, page.height):
        boxes = [line_box(line, page.width, page.height) for line in block]
        block_el = ET.SubElement(space, "TextBlock",
                                 {"ID": ids("block"), **_alto_box(_union(boxes))})
        for line, box in zip(block, boxes, strict=True):
            line_el = ET.SubElement(block_el, "TextLine",
                                    {"ID": ids("line"), **_alto_box(box)})
            for k, word in enumerate(line.words):
                if k:
                    ET.SubElement(line_el, "SP")
                attrs = {"ID": ids("string"),
                         **_alto_box(pixel_box(word.bbox, page.width, page.height))}
                conf = word_confidence(word)
                if conf is not None:
                    attrs["WC"] = f"{conf:.4f}".rstrip("0").rstrip(".") or "0"
                attrs["CONTENT"] = _clean(word.text)
                ET.SubElement(line_el, "String", attrs)
    ET.indent(alto, space=" ")
    return _XML_DECLARATION + ET.tostring(alto, encoding="unicode") + "\n"


class _Ids:
    """Element ids unique in a page: ``line_<page>_<k>``, counted per kind."""

    def __init__(self, page: int):
        self.page = page
        self.counts: dict[str, int] = {}

    def __call__(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return f"{kind}_{self.page}_{self.counts[kind]}"


def _display_name(page: Page) -> str:
    return page.file if page.page is None else f"{page.file} page {page.page}"


def _hocr_quote(text: str) -> str:
    """A value inside double quotes in an hOCR ``title`` (backslash escapes)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _hocr_bbox(box: Box) -> str:
    return "bbox {} {} {} {}".format(*box)


def _alto_box(box: Box) -> dict[str, str]:
    x0, y0, x1, y1 = box
    return {"HPOS": str(x0), "VPOS": str(y0), "WIDTH": str(x1 - x0), "HEIGHT": str(y1 - y0)}


# ----------------------------------------------------------------------------- formats

# format -> (file extension, writer)
EXPORT_FORMATS: dict[str, tuple[str, Callable[[Page], str]]] = {
    "txt": ("txt", to_txt),
    "hocr": ("hocr", to_hocr),
    "alto": ("xml", to_alto),
}
FORMATS_HELP = ("Comma-separated: txt (the page text, .txt), hocr (hOCR XHTML, .hocr), alto "
                "(ALTO v4 XML, .xml); one file per page: <stem>.<ext>, or <stem>_p<page>.<ext> "
                "for a page of a PDF or multi-page TIFF.")


def parse_formats(text: str) -> list[str]:
    """``"hocr,alto,txt"`` -> ``["hocr", "alto", "txt"]`` (case and spaces ignored, each
    once).

    Raises:
        ValueError: an empty list or an unknown format; the message names it and the choices.
    """
    formats: list[str] = []
    for item in text.split(","):
        name = item.strip().lower()
        if not name:
            continue
        if name not in EXPORT_FORMATS:
            raise ValueError(f"unknown format {item.strip()!r} (choose from "
                             f"{', '.join(EXPORT_FORMATS)})")
        if name not in formats:
            formats.append(name)
    if not formats:
        raise ValueError(f"no format given (choose from {', '.join(EXPORT_FORMATS)})")
    return formats


def export_stem(file: str | Path, page: int | None = None) -> str:
    """The file name of a page's exports without extension: the input's stem, with
    ``_p<page>`` for a page of a multi-page file (characters unsafe in file names become
    ``_``)."""
    stem = _NOT_IN_NAMES.sub("_", Path(file).stem).strip(" .") or "page"
    return stem if page is None else f"{stem}_p{page}"


class PageExporter:
    """Writes a page's exports into a folder, each file atomically (a killed run leaves
    whole files only).

    Two results with the same stem (``a/x.png`` and ``b/x.jpg``) would overwrite each other:
    the second one seen (in :meth:`claim` or :meth:`write` order) gets ``x_2``, the next
    ``x_3`` ...

    Args:
        folder: where the files go (created).
        formats: names from :data:`EXPORT_FORMATS`.
    """

    def __init__(self, folder: str | Path, formats: Sequence[str]):
        self.folder = Path(folder)
        self.formats = list(formats)
        self._stems: dict[tuple[str, int | None], str] = {}
        self._taken: set[str] = set()

    def claim(self, file: str | Path, page: int | None = None) -> str:
        """The stem of the results entry ``(file, page)``, fixed the first time it is asked
        for."""
        key = (os.path.normcase(os.path.abspath(str(file))), page)
        if key not in self._stems:
            base = export_stem(file, page)
            stem, k = base, 1
            while stem.lower() in self._taken:
                k += 1
                stem = f"{base}_{k}"
            self._taken.add(stem.lower())
            self._stems[key] = stem
        return self._stems[key]

    def write(self, page: Page) -> list[Path]:
        """Write the page in every format; nothing for a failed page.

        Returns:
            the files written.

        Raises:
            OSError: a file could not be written.
        """
        if page.error:
            return []
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self.claim(page.file, page.page)
        written = []
        for name in self.formats:
            ext, writer = EXPORT_FORMATS[name]
            path = self.folder / f"{stem}.{ext}"
            _write_atomic(path, writer(page))
            written.append(path)
        return written


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

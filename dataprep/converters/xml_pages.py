"""Page annotations in XML: Pascal VOC boxes, ALTO lines and PAGE XML lines / words."""

from __future__ import annotations

import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath

import numpy as np
from pydantic import Field

from core.config import StrictModel
from core.geometry import rotate_points
from dataprep.converters.base import (
    Converter,
    Crop,
    Item,
    Page,
    TextRegion,
    find_image,
    group_key,
    rectangle,
    register,
)
from dataprep.errors import DataError
from dataprep.gitsource import GitSource

Polygon = tuple[tuple[float, float], ...]


def parse_xml(source: GitSource, path: str) -> ET.Element:
    """Parse ``path``; a syntax error names the file and line."""
    try:
        return ET.fromstring(source.read(path))
    except ET.ParseError as exc:
        raise DataError(path, f"malformed XML: {exc}", line=exc.position[0]) from exc


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def children(node: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in node if local(c.tag) == name]


def descendants(node: ET.Element, name: str) -> Iterator[ET.Element]:
    return (c for c in node.iter() if local(c.tag) == name)


def clean_text(text: str | None) -> str:
    """NFC, one space between words, no TAB or newline (they would break ``labels.tsv``)."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def parse_points(points: str, file: str, what: str) -> Polygon:
    """``"x y x y ..."`` (ALTO) or ``"x,y x,y ..."`` (PAGE) into points.

    Raises:
        DataError: non-numbers or an odd number of coordinates, naming ``what``.
    """
    try:
        values = [float(v) for v in re.split(r"[\s,]+", points.strip()) if v]
    except ValueError as exc:
        raise DataError(file, f"{what}: malformed points {points[:60]!r}") from exc
    if len(values) % 2 or not all(math.isfinite(v) for v in values):
        raise DataError(file, f"{what}: odd number of coordinates in {points[:60]!r}")
    return tuple(zip(values[0::2], values[1::2], strict=True))


def _image_of(source: GitSource, xml_path: str, named: str | None) -> str:
    """The page image: the file the XML names (relative to the XML's folder, or by its bare
    name there), else the XML's own stem with an image suffix."""
    folder = str(PurePosixPath(xml_path).parent)
    folder = "" if folder == "." else folder
    if named:
        name = named.replace("\\", "/")
        for candidate in (f"{folder}/{name}", f"{folder}/{PurePosixPath(name).name}"):
            if source.exists(candidate.lstrip("/")):
                return candidate.lstrip("/")
    found = find_image(source, folder, PurePosixPath(xml_path).stem)
    if found is None:
        raise DataError(xml_path, f"its page image {named or PurePosixPath(xml_path).stem} "
                        "is not in the repository at the pinned commit")
    return found


class XmlOptions(StrictModel):
    under: str = Field("", description="Folder (inside the repository) to search for XML files.")
    pattern: str = Field("*.xml", description="Glob of the annotation file names.")
    exclude: str | None = Field(None, description="Regex: annotation paths to leave out.")
    group: str | None = Field(
        None, description="Regex whose first group is the split key, or 'folder'.")
    group_every: int | None = Field(
        None, ge=1, description="Bucket the regex's second group (a video time) by this.")

    def files(self, source: GitSource) -> list[str]:
        found = source.files(self.under, self.pattern)
        if self.exclude:
            found = [f for f in found if not re.search(self.exclude, f)]
        if not found:
            raise DataError(self.under or "/", f"no {self.pattern} files at the pinned commit")
        return found


def _voc_image(source: GitSource, xml_path: str, images: str) -> str:
    """The image a VOC file labels: its stem in ``images`` (``{parent}``: the folder above
    the XML file's folder)."""
    parent = str(PurePosixPath(xml_path).parent.parent)
    folder = images.replace("{parent}", "" if parent == "." else parent)
    image = find_image(source, folder, PurePosixPath(xml_path).stem)
    if image is None:
        raise DataError(xml_path, f"no image {PurePosixPath(xml_path).stem}.* in {folder}/ at "
                        "the pinned commit")
    return image


def _voc_name(obj: ET.Element) -> str:
    """A VOC object's name, stripped (``""`` without one)."""
    name = next(descendants(obj, "name"), None)
    return (name.text or "").strip() if name is not None else ""


def _voc_box(xml_path: str, i: int, obj: ET.Element) -> tuple[float, float, float, float]:
    """Object ``i``'s ``bndbox`` as ``(xmin, ymin, xmax, ymax)``; a :class:`DataError` naming
    the object when it has none or a corner is missing or not a number."""
    box = next(descendants(obj, "bndbox"), None)
    if box is None:
        raise DataError(xml_path, f"object {i} has no bndbox")
    try:
        x1, y1, x2, y2 = (float(next(descendants(box, k)).text or "")
                          for k in ("xmin", "ymin", "xmax", "ymax"))
    except (TypeError, StopIteration, ValueError) as exc:
        raise DataError(xml_path, f"object {i}: missing or malformed bndbox") from exc
    return x1, y1, x2, y2


@register
class VocBoxes(Converter):
    """Pascal VOC XML (one file per photo) with boxes, e.g. licence plates: no text."""

    name = "voc_boxes"
    output = "pages"

    class Options(XmlOptions):
        images: str = Field(description="Folder of the photos, matched by the XML file's stem; "
                            "'{parent}' stands for the folder above the XML file's folder.")
        category: str = "plate"
        region: str | None = None
        names: list[str] | None = Field(
            None, description="VOC object names kept (e.g. [plate] where cars are boxed too); "
            "None keeps every object.")

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        for xml_path in options.files(source):
            root = parse_xml(source, xml_path)
            image = _voc_image(source, xml_path, options.images)
            regions = []
            for i, obj in enumerate(descendants(root, "object")):
                if options.names is not None and _voc_name(obj) not in options.names:
                    skipped["object of another name"] += 1
                    continue
                x1, y1, x2, y2 = _voc_box(xml_path, i, obj)
                if x2 <= x1 or y2 <= y1:
                    skipped["empty box"] += 1
                    continue
                regions.append(TextRegion(options.category, rectangle(x1, y1, x2, y2), "",
                                          options.region))
            yield Page(image, tuple(regions), group_key(image, options.group, options.group_every))


@register
class VocChars(Converter):
    """Pascal VOC XML of plate crops with one box per character (named by the character): the
    crop's text is the characters left to right."""

    name = "voc_chars"
    output = "crops"

    class Options(XmlOptions):
        images: str = Field(description="Folder of the crops, matched by the XML file's stem; "
                            "'{parent}' stands for the folder above the XML file's folder.")
        region: str | None = None

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        for xml_path in options.files(source):
            root = parse_xml(source, xml_path)
            image = _voc_image(source, xml_path, options.images)
            chars = []
            for i, obj in enumerate(descendants(root, "object")):
                char = _voc_name(obj)
                if len(char) != 1:
                    raise DataError(xml_path, f"object {i} is not one character")
                x1, _, x2, _ = _voc_box(xml_path, i, obj)
                chars.append(((x1 + x2) / 2, char))
            if not chars:
                skipped["crop without characters"] += 1
                continue
            text = "".join(c for _, c in sorted(chars))
            yield Crop(image, text, group_key(image, options.group), options.region)


@register
class AltoLines(Converter):
    """ALTO XML pages (eScriptorium / Kraken exports): text lines with polygons and text."""

    name = "alto_lines"
    output = "pages"

    class Options(XmlOptions):
        pass

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        for xml_path in options.files(source):
            root = parse_xml(source, xml_path)
            named = next((e.text for e in descendants(root, "fileName")), None)
            image = _image_of(source, xml_path, (named or "").strip() or None)
            regions = []
            for n, line in enumerate(descendants(root, "TextLine")):
                what = f"TextLine {line.get('ID') or n}"
                shape = next((p for p in descendants(line, "Polygon")
                              if p.get("POINTS")), None)
                polygon = (parse_points(shape.get("POINTS", ""), xml_path, what)
                           if shape is not None else _alto_box(line, xml_path, what))
                if len(polygon) < 3:
                    skipped["line without polygon"] += 1
                    continue
                text = clean_text(" ".join(s.get("CONTENT", "")
                                           for s in descendants(line, "String")))
                regions.append(TextRegion("line", polygon, text))
            yield Page(image, tuple(regions), group_key(image, options.group, options.group_every))


def _alto_box(node: ET.Element, file: str, what: str) -> Polygon:
    try:
        x, y, w, h = (float(node.get(k, "")) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
    except ValueError:
        return ()
    if w <= 0 or h <= 0:
        return ()
    return rectangle(x, y, x + w, y + h)


@register
class PageXmlLines(Converter):
    """PAGE XML pages (Transkribus / eScriptorium): text lines, and words when annotated."""

    name = "page_xml_lines"
    output = "pages"

    class Options(XmlOptions):
        words: bool = Field(True, description="Also write Word regions that carry text.")

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        for xml_path in options.files(source):
            root = parse_xml(source, xml_path)
            page = next(descendants(root, "Page"), None)
            if page is None:
                raise DataError(xml_path, "no Page element (is it PAGE XML?)")
            image = _image_of(source, xml_path, page.get("imageFilename"))
            regions = []
            for n, line in enumerate(descendants(page, "TextLine")):
                what = f"TextLine {line.get('id') or n}"
                polygon = _page_coords(line, xml_path, what)
                if len(polygon) < 3:
                    skipped["line without polygon"] += 1
                    continue
                regions.append(TextRegion("line", polygon, _page_text(line)))
                if options.words:
                    for word in children(line, "Word"):
                        poly = _page_coords(word, xml_path, f"{what} Word {word.get('id')}")
                        text = _page_text(word)
                        if len(poly) >= 3 and text:
                            regions.append(TextRegion("word", poly, text))
            yield Page(image, tuple(regions), group_key(image, options.group, options.group_every))


def _page_coords(node: ET.Element, file: str, what: str) -> Polygon:
    coords = next(iter(children(node, "Coords")), None)
    if coords is None or not coords.get("points"):
        return ()
    return parse_points(coords.get("points", ""), file, what)


def _page_text(node: ET.Element) -> str:
    """The element's own TextEquiv (the first, or index 0 / lowest index when several)."""
    equivs = children(node, "TextEquiv")
    if not equivs:
        return ""
    equivs.sort(key=lambda e: int(e.get("index", "0") or 0))
    unicode_ = next(iter(children(equivs[0], "Unicode")), None)
    return clean_text(unicode_.text if unicode_ is not None else "")


@register
class Icdar03Words(Converter):
    """ICDAR 2003 Robust Reading XML: one file lists every photo (``imageName``) with its
    words as ``taggedRectangle`` (x, y, width, height; ``rotation`` in degrees about the
    centre) and their text (``tag``)."""

    name = "icdar03_words"
    output = "pages"

    class Options(StrictModel):
        labels: str = Field(description="The XML file (e.g. words.xml) inside the repository.")
        images: str = Field("", description="Folder the image names are relative to.")
        group: str | None = Field(
            None, description="Regex whose first group is the split key, or 'folder'.")

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        root = parse_xml(source, options.labels)
        for n, node in enumerate(descendants(root, "image")):
            name = clean_text(next((e.text for e in children(node, "imageName")), ""))
            if not name:
                raise DataError(options.labels, f"image {n} has no imageName")
            image = f"{options.images.rstrip('/')}/{name}".lstrip("/")
            if not source.exists(image):
                raise DataError(options.labels, f"names {name}, which is not in "
                                f"{options.images or '/'} at the pinned commit")
            regions = []
            for rect in descendants(node, "taggedRectangle"):
                what = f"{name}: taggedRectangle {len(regions)}"
                try:
                    x, y, w, h, turn = (float(rect.get(k, "0")) for k in
                                        ("x", "y", "width", "height", "rotation"))
                except ValueError as exc:
                    raise DataError(options.labels, f"{what}: malformed number") from exc
                if w <= 0 or h <= 0:
                    skipped["empty box"] += 1
                    continue
                text = clean_text(next((e.text for e in children(rect, "tag")), ""))
                regions.append(TextRegion("word" if text else "ignore",
                                          _turned(x, y, w, h, turn), text))
            yield Page(image, tuple(regions), group_key(image, options.group))


def _turned(x: float, y: float, w: float, h: float, degrees: float) -> Polygon:
    """The rectangle (x, y, w, h) turned by ``degrees`` about its centre."""
    box = rectangle(x, y, x + w, y + h)
    if not degrees:
        return box
    centre = (x + w / 2, y + h / 2)
    turned = rotate_points(np.subtract(box, centre), math.radians(degrees)) + centre
    return tuple((float(px), float(py)) for px, py in turned)

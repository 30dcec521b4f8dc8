"""What a converter yields, and the registry that catalogue entries name converters by."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar, Literal

from core.config import StrictModel
from dataprep.gitsource import GitSource

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class Crop:
    """One labelled crop: the whole image is the text (a word, a line, a plate).

    Attributes:
        image: path of the image inside the source repository.
        text: ground-truth text.
        group: split key (writer, car, sequence); the image path when nothing better is known.
        region: plate region / country, if known.
    """

    image: str
    text: str
    group: str
    region: str | None = None


@dataclass(frozen=True)
class TextRegion:
    """One annotated region of a page: ``category`` is ``word``, ``line`` or ``plate``."""

    category: str
    polygon: tuple[tuple[float, float], ...]
    text: str
    region: str | None = None


@dataclass(frozen=True)
class Page:
    """One page or photo with its annotated regions (COCO output)."""

    image: str
    regions: tuple[TextRegion, ...]
    group: str


Item = Crop | Page


class Converter:
    """Base of every converter: ``Options`` validates the catalogue's ``options`` mapping and
    ``items`` reads the source.

    ``items`` raises :class:`dataprep.errors.DataError` for malformed labels and missing files,
    and counts labels it skips on purpose (e.g. ``UNREADABLE``) in ``skipped`` by reason.
    """

    name: ClassVar[str]
    output: ClassVar[Literal["crops", "pages"]]
    Options: ClassVar[type[StrictModel]]

    def items(self, source: GitSource, options: StrictModel, skipped: Counter[str]
              ) -> Iterator[Item]:
        raise NotImplementedError


CONVERTERS: dict[str, Converter] = {}


def register(cls: type[Converter]) -> type[Converter]:
    """Class decorator: make a converter available to catalogue entries by its ``name``."""
    CONVERTERS[cls.name] = cls()
    return cls


def group_key(path: str, pattern: str | None, every: int | None = None) -> str:
    """The split key of ``path``: ``pattern``'s first group (searched in the path), else the
    path itself. ``"folder"`` means the image's parent folder.

    With ``every``, the pattern's second group is a number (a video time, a frame index)
    bucketed by ``every``: frames of one stretch of a video share a key, and stretches of a
    long video can still land in different splits.
    """
    if pattern is None:
        return path
    if pattern == "folder":
        return str(PurePosixPath(path).parent)
    match = re.search(pattern, path)
    if match is None:
        return path
    if not match.groups():
        return match.group(0)
    if every and len(match.groups()) > 1:
        return f"{match.group(1)}@{int(float(match.group(2))) // every}"
    return match.group(1)


def find_image(source: GitSource, folder: str, stem: str) -> str | None:
    """The image ``folder/stem.<any image suffix>`` of the commit, preferring JPEG then PNG."""
    for suffix in IMAGE_SUFFIXES:
        for candidate in (f"{folder}/{stem}{suffix}", f"{folder}/{stem}{suffix.upper()}"):
            candidate = candidate.lstrip("/")
            if source.exists(candidate):
                return candidate
    return None


def rectangle(x1: float, y1: float, x2: float, y2: float) -> tuple[tuple[float, float], ...]:
    """A box as a clockwise four-point polygon."""
    return ((x1, y1), (x2, y1), (x2, y2), (x1, y2))


def folder_pairs(first: str | list[str], second: str | list[str], names: str
                 ) -> list[tuple[str, str]]:
    """Two folder options given as two folders or two lists paired by position (images and
    their labels), as ``[(first, second), ...]``.

    Raises:
        ValueError: a folder beside a list, lists of different lengths, or empty lists,
            naming the options (``names``, e.g. ``"images and labels"``).
    """
    if isinstance(first, str) and isinstance(second, str):
        return [(first, second)]
    if isinstance(first, str) or isinstance(second, str) or len(first) != len(second):
        raise ValueError(f"{names}: two folders, or two lists of the same length (paired "
                         "by position)")
    if not first:
        raise ValueError(f"{names}: at least one folder each")
    return list(zip(first, second, strict=True))

"""Label tables: ``image<TAB>text`` / CSV files beside a folder of crops, and CSV box tables."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.config import StrictModel
from dataprep.converters.base import (
    IMAGE_SUFFIXES,
    Converter,
    Crop,
    Item,
    Page,
    TextRegion,
    folder_pairs,
    group_key,
    rectangle,
    register,
)
from dataprep.errors import DataError
from dataprep.gitsource import GitSource


class LabelTable(StrictModel):
    """One label file and the folder its file names are relative to."""

    labels: str = Field(description="Label file inside the repository.")
    images: str = Field(description="Folder (inside the repository) of the images it names.")
    format: Literal["tsv", "csv", "icdar", "spaced"] = Field(
        "tsv", description="'icdar': ICDAR word-recognition lists, `name, \"text\"` with "
        "backslash-escaped quotes; 'spaced': `name text`, split at the first space.")
    header: bool = Field(False, description="The first row names the columns (skipped).")


def _rows(source: GitSource, table: LabelTable, min_columns: int
          ) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` of a label table; a short row is a malformed label."""
    text = source.read_text(table.labels)
    if table.format == "csv":
        numbered = _with_line_numbers(csv.reader(io.StringIO(text)), table.labels)
    elif table.format == "icdar":
        reader = csv.reader(io.StringIO(text), skipinitialspace=True, escapechar="\\",
                            doublequote=False)
        numbered = _with_line_numbers(reader, table.labels)
    elif table.format == "spaced":
        numbered = ((n, line.split(" ", 1)) for n, line in enumerate(text.splitlines(), 1))
    else:
        numbered = ((n, line.split("\t")) for n, line in enumerate(text.splitlines(), 1))
    for n, cells in numbered:
        if n == 1 and table.header:
            continue
        if not cells or not any(c.strip() for c in cells):
            continue
        if len(cells) < min_columns or not cells[0].strip():
            sep = {"tsv": "a TAB", "spaced": "a space"}.get(table.format, "a comma")
            raise DataError(table.labels, f"malformed label: expected {min_columns} columns "
                            f"separated by {sep}, got {cells!r}", line=n)
        yield n, cells


def _with_line_numbers(reader, file: str) -> Iterator[tuple[int, list[str]]]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(file, f"malformed CSV: {exc}", line=reader.line_num) from exc
        yield reader.line_num, row


@register
class TableCrops(Converter):
    """Folders of crops named by label tables (each image is one word, line or plate)."""

    name = "table_crops"
    output = "crops"

    class Options(StrictModel):
        tables: list[LabelTable] = Field(min_length=1)
        region: str | None = Field(None, description="Plate region written with every crop.")
        skip_texts: list[str] = Field(
            default_factory=list, description="Labels that mean 'no text' (e.g. UNREADABLE).")
        missing_images: Literal["error", "skip"] = Field(
            "error", description="'skip': the table lists more images than the repository "
            "holds (counted, not an error).")
        group: str | None = Field(None, description="Regex whose first group is the split key.")

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        skip = set(options.skip_texts)
        for table in options.tables:
            for n, cells in _rows(source, table, 2):
                name, text = cells[0].strip(), " ".join(cells[1].split())
                image = f"{table.images.rstrip('/')}/{name}".lstrip("/")
                if not source.exists(image):
                    if options.missing_images == "skip":
                        skipped["label without image"] += 1
                        continue
                    raise DataError(table.labels, f"names {name}, which is not in "
                                    f"{table.images}/ at the pinned commit", line=n)
                if not text or text in skip:
                    skipped["empty or unreadable label"] += 1
                    continue
                yield Crop(image, text, group_key(image, options.group), options.region)


@register
class TableBoxes(Converter):
    """Photos with boxes listed in a CSV (one row per box, header names the columns)."""

    name = "table_boxes"
    output = "pages"

    class Options(StrictModel):
        labels: str
        images: str
        columns: dict[Literal["image", "x1", "y1", "x2", "y2"], str] = Field(
            description="Header name of each column, e.g. {image: img_id, x1: xmin, ...}.")
        category: str = "plate"
        region: str | None = None
        group: str | None = None

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        text = source.read_text(options.labels)
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            raise DataError(options.labels, "empty label table", line=1)
        index = {}
        for key, column in options.columns.items():
            if column not in header:
                raise DataError(options.labels, f"no column {column!r} in header {header}",
                                line=1)
            index[key] = header.index(column)
        pages: dict[str, list[TextRegion]] = {}
        for n, row in _with_line_numbers(reader, options.labels):
            if not any(c.strip() for c in row):
                continue
            try:
                name = row[index["image"]].strip()
                x1, y1, x2, y2 = (float(row[index[k]]) for k in ("x1", "y1", "x2", "y2"))
            except (IndexError, ValueError) as exc:
                raise DataError(options.labels, f"malformed box row {row!r}: {exc}",
                                line=n) from exc
            if not re.fullmatch(r"[^/\\]+", name):
                raise DataError(options.labels, f"malformed image name {name!r}", line=n)
            image = f"{options.images.rstrip('/')}/{name}".lstrip("/")
            if not source.exists(image):
                raise DataError(options.labels, f"names {name}, which is not in "
                                f"{options.images}/ at the pinned commit", line=n)
            if x2 <= x1 or y2 <= y1:
                skipped["empty box"] += 1
                continue
            pages.setdefault(image, []).append(TextRegion(
                options.category, rectangle(x1, y1, x2, y2), "", options.region))
        for image, regions in pages.items():
            yield Page(image, tuple(regions), group_key(image, options.group))


@register
class PairedTextCrops(Converter):
    """A folder of crops and a folder of ``<image stem>.txt`` transcriptions, one per crop;
    or several such pairs (``images`` and ``texts`` as lists, paired by position).

    A transcription's lines are joined with spaces. ``replace`` maps characters one by one
    before that (historical letters to their modern spellings, a Latin letter typed for its
    Cyrillic look-alike); what the reader's alphabet still lacks is left for the training
    and bench loaders to skip, as for every set.
    """

    name = "paired_text_crops"
    output = "crops"

    class Options(StrictModel):
        images: str | list[str] = Field(
            description="Folder of the crops inside the repository, or a list of folders.")
        texts: str | list[str] = Field(
            description="Folder of the <image stem>.txt transcriptions, or one per images "
                        "folder.")
        replace: dict[str, str] = Field(
            default_factory=dict, description="Single characters replaced in every text.")
        group: str | None = Field(None, description="Regex whose first group is the split key.")

        @field_validator("replace")
        @classmethod
        def _single_characters(cls, replace: dict[str, str]) -> dict[str, str]:
            for old in replace:
                if len(old) != 1:
                    raise ValueError(f"replace keys are single characters, got {old!r}")
            return replace

        @model_validator(mode="after")
        def _paired(self):
            folder_pairs(self.images, self.texts, "images and texts")
            return self

    def items(self, source: GitSource, options: Options, skipped: Counter[str]
              ) -> Iterator[Item]:
        table = str.maketrans(options.replace)
        pairs = folder_pairs(options.images, options.texts, "images and texts")
        for images_folder, texts_folder in pairs:
            yield from self._pair(source, images_folder, texts_folder, table, options,
                                  skipped)

    def _pair(self, source: GitSource, images_folder: str, texts_folder: str, table: dict,
              options: Options, skipped: Counter[str]) -> Iterator[Item]:
        folder = texts_folder.rstrip("/")
        images = [p for p in source.files(images_folder)
                  if p.lower().endswith(IMAGE_SUFFIXES)]
        if not images:
            raise DataError(images_folder, "no images in this folder at the pinned commit")
        for image in images:
            label = f"{folder}/{PurePosixPath(image).stem}.txt".lstrip("/")
            if not source.exists(label):
                skipped["image without transcription"] += 1
                continue
            text = " ".join(source.read_text(label).translate(table).split())
            if not text:
                skipped["empty or unreadable label"] += 1
                continue
            yield Crop(image, text, group_key(image, options.group))

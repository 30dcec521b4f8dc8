"""Pipeline presets: named YAML configs under ``configs/pipeline/`` (``documents``, ``plates``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from core.config import ConfigError, StrictModel, load_config
from core.paths import CONFIGS_DIR
from detection.config import DetectorConfig
from recognition.config import RecognizerConfig

PRESETS_DIR = CONFIGS_DIR / "pipeline"


class AssemblerConfig(StrictModel):
    """Reading-order settings (lines, columns, two-row plates); see ``pipeline.reading_order``.

    ``kind: page`` groups words into lines and columns; ``kind: plate`` makes one line per
    plate (stacked or side-by-side regions of one plate merged, top row first). Lengths are in
    median text heights.
    """

    kind: Literal["page", "plate"] = "page"
    min_overlap: float = Field(0.5, gt=0.0, le=1.0)
    column_gap: float = Field(1.5, gt=0.0)
    min_column_rows: float = Field(1.8, ge=0.0)
    deskew: bool = True
    order: Literal["cuts", "topological"] = Field(
        "cuts", description="Page reading order: 'cuts' splits at full-height gutters and "
                            "empty strips (XY cuts); 'topological' orders line segments by "
                            "Breuel's partial order (columns around pictures and captions).")
    word_separator: str = " "
    skip_labels: list[str] = Field(default_factory=lambda: ["line"])
    snap_to_ink: bool = Field(
        False, description="Before reading, move axis-aligned boxes vertically onto the ink "
                           "band (text line) they overlap most (printed pages).")
    merge_fragments: float | None = Field(
        None, gt=0.0, le=1.0,
        description="Before reading, join regions of one line whose horizontal overlap is "
                    "at least this fraction of the narrower one (word pieces); off if null.")
    merge_gap: float = Field(
        0.0, ge=0.0, description="With merge_fragments: also join regions of one line at most "
                                 "this many text heights apart (whole lines for a line reader).")
    max_merged_aspect: float = Field(
        16.0, gt=0.0, description="Longest merged region, in text heights.")
    crop_pad: float = Field(
        0.0, ge=0.0, le=1.0,
        description="Each detected region is cropped this fraction of its size larger on "
                    "every side (its polygon in the results stays as detected): a tight "
                    "plate box otherwise cuts its first or last character.")
    line_image_aspect: float | None = Field(
        None, gt=1.0,
        description="Images at least this many times wider than high are one text line: "
                    "read whole, without the detector (scanned line strips); off if null.")
    gutter_gap: float | None = Field(
        0.4, gt=0.0,
        description="A gap in a line at least this many text heights wide that the rows "
                    "around it leave uncovered is a column gutter: merge_fragments never "
                    "joins across it and the topological order cuts lines there; off if "
                    "null.")
    min_x_overlap: float = Field(
        0.0, ge=0.0, le=1.0,
        description="order: topological: one line segment is read before the one below "
                    "only when their x extents share at least this fraction of the "
                    "narrower; blocks that only graze each other (a caption straddling a "
                    "gutter) stay unordered. 0: any overlap.")
    script_lock: float | None = Field(
        None, gt=0.5, le=1.0,
        description="When at least this share of a page's letters are of one script (Latin "
                    "or Cyrillic), its crops that read letters of the other script are read "
                    "again with those letters forbidden; off if null.")
    script_lock_words: float | None = Field(
        None, gt=0.0,
        description="With script_lock: a crop holding a whole word of the page's minority "
                    "script is re-read too, and the re-read replaces it when its confidence "
                    "is at least this share of the first read's (a misread 'рирру' re-reads "
                    "as 'puppy' about as confidently; a real foreign word re-reads as "
                    "garbage); such crops keep their first read if null.")
    min_char_score: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Blank the text of read words whose confidence per character "
                    "(rec_score ** (1 / characters)) is below this (the region stays, with "
                    "text ''): the junk a detector finds in pictures and ornaments reads at "
                    "~0.0-0.3, printed words at ~0.6-1; off if null.")
    lexicon: list[str] = Field(
        default_factory=list,
        description="wordfreq languages (en, ru, de, ...) for lexicon correction after "
                    "reading: a word one or two usual OCR confusions (l/I, f/fi, g/q, rn/m, "
                    "...) away from a far more frequent word becomes that word "
                    "(pipeline/lexicon.py); empty: off.")
    lexicon_margin: float = Field(
        1.5, gt=0.0,
        description="How much more frequent (Zipf scale, log10: 1.5 = 30x) the corrected "
                    "word must be than the word as read.")
    unify_scripts: bool = Field(
        False, description="After reading, rewrite Latin/Cyrillic look-alike letters of a "
                           "word into the script of its other letters (or of the page).")

    @field_validator("lexicon")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        from wordfreq import available_languages

        unknown = sorted(set(value) - set(available_languages()))
        if unknown:
            raise ValueError(f"no wordfreq word list for {', '.join(unknown)}")
        return value


class PipelineConfig(StrictModel):
    """A whole pipeline: detector + recognizer + assembler, and run settings."""

    name: str = "custom"
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    recognizer: RecognizerConfig = Field(default_factory=RecognizerConfig)
    assembler: AssemblerConfig = Field(default_factory=AssemblerConfig)
    device: str = "auto"
    batch_size: int = Field(32, ge=1)


def preset_names() -> list[str]:
    """Names of the shipped presets."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    """Config file of a shipped preset; :class:`ConfigError` for an unknown name."""
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(preset_names())
        raise ConfigError(path, None, f"unknown preset {name!r}; known: {known}")
    return path


def load_pipeline_config(preset: str | None = "documents", config: Path | None = None,
                         overrides: Iterable[str] = ()) -> PipelineConfig:
    """Load a preset by name, or a config file when given (the file wins)."""
    path = config if config is not None else preset_path(preset or "documents")
    return load_config(path, PipelineConfig, overrides)

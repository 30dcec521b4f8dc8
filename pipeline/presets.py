"""Pipeline presets: named YAML configs under ``configs/pipeline/`` (``documents``, ``plates``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.config import ConfigError, StrictModel, apply_overrides, read_yaml, validate
from core.paths import CONFIGS_DIR
from detection.config import DetectorConfig
from recognition.config import RecognizerConfig

PRESETS_DIR = CONFIGS_DIR / "pipeline"


class LineInkConfig(StrictModel):
    """When an image is one text line by its ink (``core.imaging.ink_bands``): word and line
    crops fed whole to ``ocr`` mode, whose letters the detector, trained on pages, boxes
    in pieces."""

    row_share: float = Field(
        0.2, gt=0.0, le=1.0,
        description="Rows with at least this share of the busiest row's ink form bands.")
    band_share: float = Field(
        0.3, ge=0.0, lt=1.0,
        description="Bands holding more than this share of the ink are lines; an image with "
                    "exactly one is a line strip (bits of the lines above and below a cut "
                    "line, or a form's print round a handwritten name, hold less).")
    min_band_height: float = Field(
        0.08, ge=0.0, le=1.0,
        description="The line's band is at least this share of the image's height: a page "
                    "or screenshot holding one line of text, small in it, goes to the "
                    "detector.")
    max_height: int = Field(
        1000, ge=1, description="Images taller than this many pixels are never one line.")


class CropImageConfig(StrictModel):
    """When an image is itself one crop (a plate cut from a photo, fed to ``ocr`` mode): the
    detector, trained on whole scenes, finds nothing in an image the object fills."""

    max_side: int = Field(..., ge=1, description="Longer side at most this many pixels.")
    min_aspect: float = Field(
        0.0, ge=0.0, description="At least this many times wider than high (photos are "
                                 "about 1.3-1.8).")


class ReachInkConfig(StrictModel):
    """Marks the detector left out taken in before reading
    (:func:`pipeline.postprocess.reach_ink`): a colon or full stop after a space."""

    gap: float = Field(
        1.0, ge=0.0, description="A mark at most this many box heights beside an upright box "
                                 "on its line widens that box.")


class RegionsConfig(StrictModel):
    """Which regions of an image are read (steps ``DetectRegions`` and ``CleanRegions`` in
    ``pipeline.steps``): line strips read whole, detected regions clipped, filtered, snapped
    and merged before they are cropped. Lengths are in text heights."""

    line_image_aspect: float | None = Field(
        None, gt=1.0,
        description="Images at least this many times wider than high are one text line: "
                    "read whole, without the detector (scanned line strips); off if null.")
    line_image_ink: LineInkConfig | None = Field(
        None, description="Images whose ink lies in one band of rows are one text line too: "
                          "read whole, without the detector; off if null.")
    crop_image: CropImageConfig | None = Field(
        None, description="Small images of a crop's shape are one crop each: read whole, as "
                          "in recognize mode; off if null.")
    skip_labels: list[str] = Field(
        default_factory=lambda: ["line"],
        description="Detected regions of these classes are dropped before reading (a "
                    "detector trained on words and lines reads the words).")
    snap_to_ink: bool = Field(
        False, description="Before reading, move axis-aligned boxes vertically onto the ink "
                           "band (text line) they overlap most (printed pages).")
    reach_ink: ReachInkConfig | None = Field(
        None, description="Before reading (after snap_to_ink), widen word boxes to take in "
                          "the marks beside them the detector left out; off if null.")
    merge_fragments: float | None = Field(
        None, gt=0.0, le=1.0,
        description="Before reading, join regions of one line whose horizontal overlap is "
                    "at least this fraction of the narrower one (word pieces); off if null. "
                    "Never joins across a column gutter (assembler.layout.gutter_gap).")
    merge_gap: float = Field(
        0.0, ge=0.0, description="With merge_fragments: also join regions of one line at most "
                                 "this many text heights apart (whole lines for a line reader).")
    max_merged_aspect: float = Field(
        16.0, gt=0.0, description="Longest merged region, in text heights.")


class LevelConfig(StrictModel):
    """Turned plates levelled before reading (``crops.level``): the text's turn in a region's
    upright box is found from its row profile (:func:`pipeline.crops.text_angle`) and the
    region is cut along the turned rectangle that fills that box
    (:func:`pipeline.crops.level_quad`)."""

    max_angle: float = Field(
        40.0, gt=0.0, lt=45.0,
        description="The largest turn looked for, in degrees (a box holds a plate turned by "
                    "45 degrees or more ambiguously).")
    min_angle: float = Field(
        3.0, ge=0.0,
        description="Turns under this many degrees are left alone: the reader learned "
                    "slightly turned plates, and a level crop stays exactly as it was.")
    margin: float = Field(
        0.0, ge=0.0, le=0.5,
        description="The turned rectangle is cut this fraction of its width and height "
                    "larger on every side: a turn a degree off, or a plate's near end "
                    "taller than its far one, otherwise cuts its first or last character.")


class CropsConfig(StrictModel):
    """How regions are cut out for the recognizer (step ``CropRegions``)."""

    pad: float = Field(
        0.0, ge=0.0, le=1.0,
        description="Each detected region is cropped this fraction of its size larger on "
                    "every side (its polygon in the results stays as detected): a tight "
                    "plate box otherwise cuts its first or last character.")
    both_polarities: bool = Field(
        False, description="Every crop is read as cut and inverted, and the reading with "
                           "the higher confidence per character kept: light words on dark "
                           "signs beside dark ones on light walls (scene photos). Reading "
                           "takes twice as long.")
    level: LevelConfig | None = Field(
        None, description="Regions given as upright 4-point boxes (a detector's) are "
                          "levelled: cut along the turned rectangle of the text inside; off "
                          "if null.")


class ScriptLockConfig(StrictModel):
    """Re-reading words of a page's minority script (step ``ScriptLock``): needs a
    recognizer whose ``predict`` takes ``forbid``."""

    min_share: float | None = Field(
        None, gt=0.5, le=1.0,
        description="When at least this share of a page's letters are of one script (Latin "
                    "or Cyrillic), its crops that read letters of the other script mixed "
                    "into a word are read again with those letters forbidden; off if null.")
    whole_words: float | None = Field(
        None, gt=0.0,
        description="With min_share: a crop holding a whole word of the page's minority "
                    "script is re-read too, and the re-read replaces it when its confidence "
                    "is at least this share of the first read's (a misread 'рирру' re-reads "
                    "as 'puppy' about as confidently; a real foreign word re-reads as "
                    "garbage); such crops keep their first read if null.")


class TextConfig(StrictModel):
    """What the assembler does to the text of read words before and after ordering them."""

    min_char_score: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Blank the text of read words whose confidence per character "
                    "(rec_score ** (1 / characters)) is below this (the region stays, with "
                    "text ''): the junk a detector finds in pictures and ornaments reads at "
                    "~0.0-0.3, printed words at ~0.6-1; off if null.")
    unify_scripts: bool = Field(
        False, description="Rewrite Latin/Cyrillic look-alike letters of a word into the "
                           "script of its other letters (or of the page).")
    caps_lookalikes: bool = Field(
        False, description="Capitalise lower-case letters drawn as small capitals (c, o, s, "
                           "v, w, x, z, ...) in words otherwise in capitals, fewer than half "
                           "of its letters: PHARMAcY -> PHARMACY.")
    lexicon: list[str] = Field(
        default_factory=list,
        description="wordfreq languages (en, ru, de, ...) for lexicon correction after "
                    "reading: an unsure word one or two usual OCR confusions (l/I, f/fi, "
                    "g/q, rn/m, ...) away from a far more frequent word becomes that word; "
                    "capitalised words, words with digits and words outside the page's "
                    "languages stay as read (pipeline/lexicon.py). Empty: off (--set "
                    "assembler.text.lexicon=[]). Pages only (layout.kind: page).")
    lexicon_margin: float = Field(
        1.5, gt=0.0,
        description="How much more frequent (Zipf scale, log10: 1.5 = 30x) the corrected "
                    "word must be than the word as read.")
    lexicon_unsure_below: float = Field(
        0.7, ge=0.0, le=1.0,
        description="The lexicon corrects only words read with a confidence below this "
                    "(the word's least sure CTC column; without per-word scores, the read's "
                    "confidence per character). 0.7: 86 % of misread and 25 % of right words "
                    "on synthetic printed lines (pipeline.lexicon.UNSURE_BELOW).")

    languages: list[str] = Field(
        default_factory=list,
        description="The languages the text is in (ISO 639-1: en, ru, de, ..., zh for "
                    "Chinese plates; pipeline run --lang): letters of a script none of them "
                    "is written in are never read (re-read with them forbidden, "
                    "script_lock), the lexicon corrects in these of its languages only, and "
                    "each line's lang is one of them. Empty: any (lines' lang among the "
                    "lexicon's languages, or common ones).")

    @field_validator("languages")
    @classmethod
    def _languages_read(cls, value: list[str]) -> list[str]:
        from pipeline.languages import KNOWN_LANGUAGES, unknown_languages

        unknown = unknown_languages(value)
        if unknown:
            raise ValueError(f"unknown language {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(KNOWN_LANGUAGES))}")
        return value

    @field_validator("lexicon")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        from wordfreq import available_languages

        unknown = sorted(set(value) - set(available_languages()))
        if unknown:
            raise ValueError(f"no wordfreq word list for {', '.join(unknown)}")
        return value


class LayoutConfig(StrictModel):
    """Reading order (lines, columns, two-row plates); see ``pipeline.reading_order``.
    Lengths are in median text heights."""

    kind: Literal["page", "plate"] = Field(
        "page", description="'page' groups words into lines and columns; 'plate' makes one "
                            "line per plate (stacked or side-by-side regions of one plate "
                            "merged, top row first).")
    min_overlap: float = Field(
        0.5, gt=0.0, le=1.0,
        description="A word joins a line whose last word overlaps it vertically by at least "
                    "this fraction of the smaller height (plates: rows side by side).")
    column_gap: float = Field(
        1.5, gt=0.0,
        description="order: cuts: an empty vertical strip at least this wide, with words "
                    "on both sides spanning min_column_rows rows, is a column gutter; "
                    "order: topological: words further apart are not chained into one "
                    "line.")
    min_column_rows: float = Field(
        1.8, ge=0.0, description="How many rows the words on both sides of a column gutter "
                                 "must span (order: cuts).")
    deskew: bool = Field(
        True, description="Estimate the page's text direction and order words in a "
                          "deskewed frame; false: rows are horizontal.")
    order: Literal["cuts", "topological"] = Field(
        "cuts", description="Page reading order: 'cuts' splits at full-height gutters and "
                            "empty strips (XY cuts); 'topological' orders line segments by "
                            "Breuel's partial order (columns around pictures and captions).")
    gutter_gap: float | None = Field(
        0.4, gt=0.0,
        description="A gap in a line at least this many text heights wide that the rows "
                    "around it leave uncovered is a column gutter: the topological order "
                    "cuts lines there and regions.merge_fragments never joins across it; "
                    "off if null.")
    min_x_overlap: float = Field(
        0.0, ge=0.0, le=1.0,
        description="order: topological: one line segment is read before the one below "
                    "only when their x extents share at least this fraction of the "
                    "narrower; blocks that only graze each other (a caption straddling a "
                    "gutter) stay unordered. 0: any overlap.")
    value_width: float | None = Field(
        None, gt=0.0,
        description="order: topological: a segment at most this many text heights wide, "
                    "in a column of numbers whose segments are that narrow too (prices, "
                    "totals, table numbers), is read in the row of the label on its left "
                    "it overlaps most, instead of as a column of its own; off if null.")
    word_separator: str = Field(
        " ", description="Joins the words of a line into its text ('' for plates).")
    plate_regions: bool = Field(
        True, description="kind: plate: a plate whose reader names no region gets the one "
                          "its text's format belongs to alone (pipeline.plate_format: cn, "
                          "ru, Brazilian Mercosur), else none; false: only a reader's "
                          "region head names regions.")
    plate_letters: Literal["latin", "as_read"] = Field(
        "latin", description="kind: plate: 'latin' writes the Cyrillic letters of Russian, "
                             "Ukrainian and Bulgarian plates as their Latin look-alikes "
                             "(А123ВС77 -> A123BC77), as plate registries, ANPR systems and "
                             "plate datasets transcribe them; 'as_read': in the script the "
                             "reader chose.")
    plate_letter_digit_fix: bool = Field(
        True, description="kind: plate, plate_letters: latin: a plate read with 0 or 1 where "
                          "the Ukrainian (AA1234BB) or Russian (A123BC77) format wants the "
                          "letter O or I, or the other way round, is corrected when the "
                          "corrected text fits that format and the read one fits no region's "
                          "(pipeline.plate_format.fix_letters_and_digits); plates print O "
                          "and 0 alike.")
    plate_cn_length_fix: bool = Field(
        True, description="kind: plate: a Chinese plate read eight characters long that fits "
                          "no green new-energy format loses the character the reader was "
                          "least sure of among those whose removal leaves the seven-character "
                          "format (pipeline.plate_format.fix_cn_length): a letter read twice "
                          "or made up.")


MOVED_ASSEMBLER_KEYS = {
    **{k: f"regions.{k}" for k in ("line_image_aspect", "skip_labels", "snap_to_ink",
                                   "merge_fragments", "merge_gap", "max_merged_aspect")},
    "crop_pad": "crops.pad",
    "script_lock": "script_lock.min_share",
    "script_lock_words": "script_lock.whole_words",
    **{k: f"assembler.text.{k}" for k in ("min_char_score", "unify_scripts", "lexicon",
                                          "lexicon_margin")},
    **{k: f"assembler.layout.{k}" for k in ("kind", "min_overlap", "column_gap",
                                            "min_column_rows", "deskew", "order", "gutter_gap",
                                            "min_x_overlap", "value_width",
                                            "word_separator")},
}
"""Where each key of the former flat ``assembler:`` section lives now."""


class AssemblerConfig(StrictModel):
    """Settings of the last step, ``Assembler``: the text of read words, then their order."""

    text: TextConfig = Field(default_factory=TextConfig)
    layout: LayoutConfig = Field(default_factory=LayoutConfig)
    char_boxes: bool = Field(
        False, description="Give each word its characters with their boxes and scores "
                            "(results 'chars'; pipeline run --char-boxes), from the CTC "
                            "columns that emitted them; off: smaller results.")

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: object) -> object:
        # An older config or --set names a flat key: say where it went, not just "extra".
        if isinstance(data, dict):
            moved = [f"assembler.{k} is now {MOVED_ASSEMBLER_KEYS[k]}"
                     for k in data if k in MOVED_ASSEMBLER_KEYS]
            if moved:
                raise ValueError("; ".join(moved))
        return data


class OrientationConfig(StrictModel):
    """Finding pages turned by 90, 180 or 270 degrees (step ``DetectOrientation``) and
    reading them upright; polygons stay in the image's own coordinates."""

    enabled: bool = Field(
        False, description="Detect each page's turn: text lines running up or down from the "
                           "ink's projection profiles, upside down from the recognizer's "
                           "confidence on pieces of a few crops read as they are and "
                           "turned 180; off: pages are read as loaded (EXIF applied).")
    rotation: Literal[0, 90, 180, 270] | None = Field(
        None, description="Take every page as turned this far clockwise (pipeline run "
                          "--rotation) instead of detecting it; null: detect when enabled.")
    profile_ratio: float = Field(
        1.0, gt=0.0,
        description="A page is taken as turned a quarter when its column ink profile is "
                    "this many times more line-like than its row profile.")
    sample: int = Field(
        8, ge=1, description="Crops (the widest of the page) whose first piece is read as it "
                             "is and turned 180 to tell an upside-down page.")
    piece_aspect: float = Field(
        6.0, gt=0.0, description="Each sampled crop is cut to this many of its heights "
                                 "(a few words) before the two reads.")
    flip_margin: float = Field(
        0.1, ge=0.0, le=1.0,
        description="A page is read turned 180 only when the sample's mean confidence per "
                    "character turned is higher than as it stands by at least this.")


class SecondReaderConfig(StrictModel):
    """A second recognizer for the crops the first one reads unsurely (step ``ReadCrops``,
    :class:`pipeline.second_reader.SecondReader`): e.g. a handwriting reader beside a printed
    one. Each crop whose first reading's confidence per character is under ``below`` is read
    again by this one, and its reading replaces the first."""

    enabled: bool = Field(False, description="Read unsure crops again with `recognizer`.")
    recognizer: RecognizerConfig = Field(
        default_factory=RecognizerConfig,
        description="The second recognizer (built like the main `recognizer` section).")
    below: float = Field(0.8, ge=0.0, le=1.0,
                         description="Crops read with a confidence per character (score ** "
                                     "(1 / characters)) under this are read again.")
    narrower_than: float | None = Field(
        None, gt=0.0, description="Crops with width / height under this are read by both "
                                  "recognizers and the reading with more letters and digits "
                                  "is kept, on a tie the more confident one (plates: two-row "
                                  "plates, to a reader trained on two rows); null: shape "
                                  "routes nothing.")


class PageGeometryConfig(StrictModel):
    """Finding the page in a photo and reading it warped upright (step ``FindPage``,
    :mod:`pipeline.page_geometry`); polygons stay in the image's own coordinates and the
    page's corners are reported in ``Page.page_quad``. Thresholds chosen on the tune part of
    synthetic page photos (``bench/bench_page_geometry.py``)."""

    enabled: bool = Field(
        False, description="Look for a page in each image; a scan or a crop that already is "
                            "the page gives none and is read as loaded.")
    side: int = Field(512, ge=64, le=4096,
                      description="Long side in pixels of the copy the page is looked for in.")
    min_area: float = Field(0.08, gt=0.0, lt=1.0,
                            description="Smallest page, as a share of the image.")
    max_area: float = Field(0.9, gt=0.0, le=1.0,
                            description="A page larger than this share of the image is the "
                                        "image itself (a scan or a crop): none.")
    min_fit: float = Field(0.9, gt=0.0, le=1.0,
                           description="Smallest IoU of a candidate region with its "
                                       "quadrilateral.")
    min_support: float = Field(0.0, ge=0.0, le=1.0,
                               description="Share of each side's length along which the image "
                                           "must step from bright to dark (a quad bridging "
                                           "two sheets has a side with little).")
    min_contrast: float = Field(12.0, ge=0.0,
                                description="How much brighter (value minus saturation, grey "
                                            "levels) the page must be than just outside it.")
    border: float = Field(0.02, ge=0.0, lt=0.5,
                          description="A quad with all four corners this close to the image's "
                                      "border (share of its long side) is the image itself.")


class PolarityConfig(StrictModel):
    """Light writing on a dark ground (white ink or chalk on black, a negative scan) read
    inverted (step ``FixPolarity``): the detector and readers learned dark ink on light
    paper. Pixels only change, not places, so polygons need no mapping back. Thresholds
    chosen on tune parts (``bench/bench_polarity.py``)."""

    enabled: bool = Field(False, description="Invert images whose writing is lighter than "
                                             "their ground.")
    side: int = Field(512, ge=64, le=4096,
                      description="Long side in pixels of the copy the polarity is judged on.")
    window: float = Field(1 / 24, gt=0.0, lt=1.0,
                          description="The local ground is the median over a window this "
                                      "share of the long side.")
    delta: int = Field(40, ge=1, le=255,
                       description="Grey levels a pixel must be lighter or darker than its "
                                   "local ground to count as writing.")
    min_ratio: float = Field(2.0, gt=1.0,
                             description="Invert when lighter-than-ground pixels outnumber "
                                         "darker ones by this factor.")


class PipelineConfig(StrictModel):
    """A whole pipeline: its models, the settings of each step, and run settings.

    Sections follow the steps of ``OcrPipeline`` in order (detector -> regions -> crops ->
    recognizer -> script_lock -> assembler), one per step, each steering only its own step,
    rather than one ``assembler:`` bag for all: a switch then says by its key which step it
    changes, and each step can be built and tested from its own section. The assembler keeps
    its two concerns (text clean-up, layout) as sub-sections because one object does both.
    """

    name: str = "custom"
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    regions: RegionsConfig = Field(default_factory=RegionsConfig)
    crops: CropsConfig = Field(default_factory=CropsConfig)
    recognizer: RecognizerConfig = Field(default_factory=RecognizerConfig)
    second_reader: SecondReaderConfig = Field(default_factory=SecondReaderConfig)
    script_lock: ScriptLockConfig = Field(default_factory=ScriptLockConfig)
    assembler: AssemblerConfig = Field(default_factory=AssemblerConfig)
    orientation: OrientationConfig = Field(default_factory=OrientationConfig)
    page_geometry: PageGeometryConfig = Field(default_factory=PageGeometryConfig)
    polarity: PolarityConfig = Field(default_factory=PolarityConfig)
    device: str = "auto"
    batch_size: int = Field(32, ge=1)
    backend: Literal["torch", "onnxruntime"] = Field(
        "torch", description="What runs the detector and recognizer networks: torch, or "
                             "ONNX Runtime on graphs exported from the same weights "
                             "(pipeline.onnx_backend; pre- and post-processing shared).")
    onnx_dir: Path | None = Field(
        None, description="backend onnxruntime: a folder written by 'pipeline models export' "
                          "(checked against the weights' SHA-256); null: export into the "
                          "cache on first use.")


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


def read_preset(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """A pipeline config file as a mapping. ``extends: NAME`` makes it the shipped preset
    ``NAME`` with the file's own keys on top (mappings merged key by key, anything else
    replaced), so a preset that differs in a few settings says only those."""
    data = read_yaml(path)
    base = data.pop("extends", None)
    if base is None:
        return data
    base_path = preset_path(str(base))
    if base_path in (*seen, path):
        raise ConfigError(path, "extends", f"preset {base!r} extends itself")
    return _merged(read_preset(base_path, (*seen, path)), data)


def _merged(base: dict, top: dict) -> dict:
    out = dict(base)
    for key, value in top.items():
        out[key] = (_merged(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def load_pipeline_config(preset: str | None = "documents", config: Path | None = None,
                         overrides: Iterable[str] = ()) -> PipelineConfig:
    """Load a preset by name, or a config file when given (the file wins); see
    :func:`read_preset` for ``extends``."""
    path = config if config is not None else preset_path(preset or "documents")
    return validate(apply_overrides(read_preset(Path(path)), overrides), PipelineConfig, path)

"""The dataset catalogue: one YAML file per public dataset in ``configs/data/``.

Each entry pins a commit of a public repository, records the licence exactly as the source
states it, and names the converter (with its options) that prepares it. Loading validates
everything, the converter's options included, and names the file and field at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from core.config import ConfigError, StrictModel, load_config, validate
from core.paths import CONFIGS_DIR
from dataprep.converters import CONVERTERS

CATALOGUE_DIR = CONFIGS_DIR / "data"

Kind = Literal["plate_photos", "plate_crops", "handwritten_words", "handwritten_lines",
               "handwritten_pages", "printed_pages", "receipts", "scene_text"]

# Held-out evaluation data comes from these repositories: never train on them, their forks or
# their mirrors. Lower-case owner/name.
FORBIDDEN_REPOS = frozenset(r.lower() for r in (
    "sirius-ai/LPRNet_Pytorch", "openalpr/benchmarks",
    "ZhijuCen/chinese-plate-recognition-ccpd-remaster",
    "HuKai97/YOLOv5-LPRNet-Licence-Recognition", "stephencurry303/preprocess_ccpd2019",
    "ria-com/nomeroff-net", "tesseract-ocr/test", "madmaze/pytesseract",
    "zzzDavid/ICDAR-2019-SROIE", "Calamari-OCR/calamari", "jze/ocropus-model_cyrillic",
    "Tyrian0/IAM_a_reader", "rwth-i6/returnn", "the-full-stack/fsdl-text-recognizer-2022-labs",
    "githubharald/CTCWordBeamSearch", "githubharald/SimpleHTR", "abdoelsayed2016/HKR_Dataset",
    "open-mmlab/mmocr",
))

# Datasets held out in every copy: the rules forbid training on any fork or mirror of them, so
# an entry whose repository (owner/name, lower-cased) contains one of these names must say
# ``evaluation_only: true`` (benchmark only: prepare writes no train part). Lower-case.
HELD_OUT_DATASETS = ("sroie",)


class DatasetEntry(StrictModel):
    """One catalogued dataset."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$",
                      description="Catalogue name; must equal the YAML file's stem.")
    title: str = Field(min_length=1)
    repo: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      description="Public GitHub repository, owner/name.")
    commit: str = Field(pattern=r"^[0-9a-f]{40}$", description="Pinned full commit id.")
    licence: str = Field(min_length=1, description="As the source states it, or 'none stated'.")
    kind: Kind
    languages: list[str] = Field(default_factory=list, description="ISO 639 codes.")
    regions: list[str] = Field(default_factory=list, description="Plate regions (ISO 3166).")
    images: int = Field(ge=0, description="Images the converter is expected to read.")
    converter: str
    options: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""
    evaluation_only: bool = Field(
        default=False,
        description="The set may be benchmarked (its tune and test parts) but never trained "
                    "on: prepare writes no train part for it. Required for every copy of a "
                    "HELD_OUT_DATASETS dataset.")

    @field_validator("repo")
    @classmethod
    def _not_forbidden(cls, repo: str) -> str:
        if repo.lower() in FORBIDDEN_REPOS:
            raise ValueError(f"{repo} holds held-out evaluation data and must never be used "
                             "for training")
        return repo

    @model_validator(mode="after")
    def _held_out_is_evaluation_only(self) -> DatasetEntry:
        held = [h for h in HELD_OUT_DATASETS if h in self.repo.lower()]
        if held and not self.evaluation_only:
            raise ValueError(
                f"{self.repo} is a copy of the held-out {held[0].upper()} data: the rules "
                f"forbid training on any {held[0].upper()} mirror, so it must say "
                "'evaluation_only: true' (tune and test parts only)")
        return self

    @field_validator("converter")
    @classmethod
    def _known_converter(cls, converter: str) -> str:
        if converter not in CONVERTERS:
            raise ValueError(f"unknown converter {converter!r}; known: {sorted(CONVERTERS)}")
        return converter

    @property
    def output(self) -> str:
        """``crops`` (``labels.tsv`` folders) or ``pages`` (COCO)."""
        return CONVERTERS[self.converter].output

    def converter_options(self, source: str | Path = "<catalogue>") -> StrictModel:
        """The ``options`` validated by the converter (errors name ``options.<field>``)."""
        try:
            return validate(self.options, CONVERTERS[self.converter].Options, source)
        except ConfigError as exc:
            raise ConfigError(exc.file, f"options.{exc.field}" if exc.field else "options",
                              exc.message) from exc

    def summary(self) -> dict[str, Any]:
        """The fields ``pipeline data list`` shows."""
        return {"name": self.name, "repo": self.repo, "commit": self.commit,
                "licence": self.licence, "kind": self.kind, "images": self.images,
                "languages": self.languages, "regions": self.regions,
                "output": self.output, "evaluation_only": self.evaluation_only,
                "notes": self.notes}


def load_entry(path: Path) -> DatasetEntry:
    """Read and fully validate one catalogue file.

    Raises:
        ConfigError: naming the file and the field.
    """
    entry = load_config(path, DatasetEntry)
    if entry.name != path.stem:
        raise ConfigError(path, "name", f"must equal the file name {path.stem!r}")
    entry.converter_options(path)
    return entry


def load_catalogue(folder: Path = CATALOGUE_DIR) -> dict[str, DatasetEntry]:
    """Every entry of the catalogue folder, by name (sorted)."""
    return {e.name: e for e in (load_entry(p) for p in sorted(folder.glob("*.yaml")))}

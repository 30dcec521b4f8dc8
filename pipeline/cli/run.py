"""``pipeline run``, ``pipeline submit`` and ``pipeline evaluate nto``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from pipeline.cli.common import SET_HELP, fail, not_available


class Mode(str, Enum):
    ocr = "ocr"
    detect = "detect"
    recognize = "recognize"


def run(
    inputs: list[Path] = typer.Argument(..., help="Image files or folders (searched recursively)."),
    out: Path = typer.Option(Path("results.json"), "--out", "-o", help="Results JSON to write."),
    preset: str = typer.Option("documents", help="Shipped preset: documents or plates."),
    config: Path | None = typer.Option(None, help="Pipeline YAML config (overrides --preset)."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    mode: Mode = typer.Option(Mode.ocr, help="ocr: full pipeline; detect: regions only; "
                              "recognize: every image is one crop."),
    viz: Path | None = typer.Option(None, help="Write pictures with polygons and text here."),
    device: str = typer.Option("auto", help="auto, cpu or cuda[:N]."),
    batch_size: int | None = typer.Option(None, help="Recognition batch size."),
    resume: bool = typer.Option(False, help="Skip images already present in --out."),
) -> None:
    """OCR images: detect words, read them, order lines, write results JSON."""
    from pipeline.cli.common import load_config_or_exit  # noqa: F401  (used once implemented)
    from pipeline.config import ConfigError
    from pipeline.presets import load_pipeline_config

    try:
        load_pipeline_config(preset, config, set_)
    except ConfigError as exc:
        fail(str(exc), 2)
    not_available("pipeline run")


def submit(
    images: Path = typer.Argument(..., help="Folder of test images."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for the submission."),
    preset: str = typer.Option("documents", help="Shipped preset."),
    config: Path | None = typer.Option(None, help="Pipeline YAML config."),
    zip_: bool = typer.Option(False, "--zip", help="Also package a submission zip."),
) -> None:
    """Write NTO 'school notebooks' predictions (and optionally a submission package)."""
    not_available("pipeline submit")


def evaluate_nto(
    gt: Path = typer.Option(..., help="COCO annotations.json in the NTO layout."),
    pred: Path = typer.Option(..., help="Predictions JSON in the NTO submission format."),
) -> None:
    """Compute the NTO metric (CER with polygon matching); lower is better."""
    not_available("pipeline evaluate nto")

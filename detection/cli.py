"""``pipeline train detector`` and ``pipeline evaluate detection``."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.common import SET_HELP, not_available


def train_detector(
    config: Path = typer.Argument(..., help="Detector training YAML (configs/detection/)."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    resume: bool = typer.Option(False, help="Continue the run in the config's output folder."),
) -> None:
    """Train a YOLO or Mask R-CNN detector from a config."""
    not_available("pipeline train detector")


def evaluate_detection(
    gt: Path = typer.Option(..., help="COCO ground truth JSON."),
    pred: Path = typer.Option(..., help="Predictions: COCO results JSON or pipeline results."),
) -> None:
    """Precision / recall / F1 at IoU 0.5 and COCO mAP."""
    not_available("pipeline evaluate detection")

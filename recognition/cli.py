"""``pipeline train recognizer`` and ``pipeline evaluate recognition``."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.common import SET_HELP, not_available


def train_recognizer(
    config: Path = typer.Argument(..., help="Recognizer training YAML (configs/recognition/)."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    resume: bool = typer.Option(False, help="Continue from the run's last checkpoint."),
) -> None:
    """Train a joint CTC+Transformer or CRNN recognizer from a config."""
    not_available("pipeline train recognizer")


def evaluate_recognition(
    data: Path = typer.Argument(..., help="Dataset: crops folder with labels.tsv, CCPD folder, "
                                "plate-course root or COCO/NTO annotations."),
    weights: Path = typer.Option(..., help="Recognizer checkpoint."),
) -> None:
    """CER, WER and exact-match accuracy of a recognizer on a dataset."""
    not_available("pipeline evaluate recognition")

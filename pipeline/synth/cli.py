"""``pipeline synth``: generate labelled synthetic data."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from pipeline.cli.common import not_available


class SynthKind(str, Enum):
    notebooks = "notebooks"
    documents = "documents"
    plates = "plates"
    lines = "lines"


def synth(
    kind: SynthKind = typer.Argument(..., help="What to generate."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    n: int = typer.Option(100, "--n", min=1, help="How many samples."),
    seed: int = typer.Option(0, help="Seed; the same seed gives the same data."),
    workers: int = typer.Option(1, min=1, help="Parallel worker processes."),
) -> None:
    """Generate synthetic pages, plates or text-line crops with exact labels."""
    not_available(f"pipeline synth {kind.value}")

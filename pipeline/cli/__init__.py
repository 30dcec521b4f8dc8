"""The ``pipeline`` command line: a thin layer over the stages.

Each stage owns its commands (``pipeline.cli.run``, ``detection.cli``, ``recognition.cli``,
``synth.cli``); this module only assembles them. Command modules import heavy
libraries inside the command bodies, so ``pipeline --help`` stays fast.
"""

from __future__ import annotations

import typer

from detection import cli as detection_cli
from pipeline.cli import run as run_cli
from pipeline.cli.convert import convert_app
from pipeline.cli.data import data_app
from pipeline.cli.export import export as export_command
from pipeline.cli.models import models_app
from pipeline.cli.serve import serve as serve_command
from recognition import cli as recognition_cli
from synth import cli as synth_cli

app = typer.Typer(
    name="pipeline",
    help="OCR for notebook pages, printed documents and licence plates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(help="Train a detector or a recognizer from a YAML config.",
                        no_args_is_help=True)
evaluate_app = typer.Typer(help="Score predictions: detection, recognition or the NTO metric.",
                           no_args_is_help=True)

app.command("run")(run_cli.run)
app.command("submit")(run_cli.submit)
app.command("export")(export_command)
app.command("serve")(serve_command)
app.command("synth")(synth_cli.synth)
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(convert_app, name="convert")
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")

train_app.command("detector")(detection_cli.train_detector)
train_app.command("recognizer")(recognition_cli.train_recognizer)
evaluate_app.command("detection")(detection_cli.evaluate_detection)
evaluate_app.command("recognition")(recognition_cli.evaluate_recognition)
evaluate_app.command("nto")(run_cli.evaluate_nto)


def main() -> None:
    """Console-script entry point."""
    app()

"""``pipeline train recognizer`` and ``pipeline evaluate recognition``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from core.cli import EXIT_USAGE, SET_HELP, fail, load_config_or_exit
from core.errors import UsageError


def train_recognizer(
    config: Path = typer.Argument(..., help="Recognizer training YAML (configs/recognition/)."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    resume: bool = typer.Option(False, help="Continue from the run's last checkpoint."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Train a joint CTC+Transformer or CRNN recognizer from a config.

    Under ``torchrun --nproc-per-node N`` the N processes train one model together (README
    "Distributed training"); rank 0 alone logs to ``train.log`` and writes checkpoints.
    """
    from core.distributed import distributed_env
    from core.logs import setup_logging
    from recognition.config import RecognizerTrainConfig

    cfg = load_config_or_exit(config, RecognizerTrainConfig, set_)
    try:
        main = distributed_env().is_main
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    if main:
        setup_logging("INFO", cfg.run_dir / "train.log")
    else:  # the other processes say only what goes wrong, on stderr
        setup_logging("WARNING")
    from recognition.train import train

    try:
        result = train(cfg, resume=resume, progress=progress)
    except UsageError as exc:  # a missing or mismatched start file: the user can fix it
        fail(str(exc), EXIT_USAGE)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    if not main:
        return
    typer.echo(f"trained {result.step} steps ({result.epoch} epochs); "
               f"best val CER {result.best_cer if result.best_cer is not None else 'n/a'}")
    typer.echo(f"last checkpoint: {result.last}")
    if result.best is not None:
        typer.echo(f"best checkpoint: {result.best}")


def evaluate_recognition(
    data: Path = typer.Argument(..., help="Dataset: crops folder with labels.tsv, manifest.json "
                                "set, CCPD folder, plate-course root or COCO/NTO annotations."),
    weights: Path = typer.Option(..., help="Recognizer checkpoint."),
    kind: str = typer.Option("auto", help="auto|crops|manifest|plate_course|ccpd|coco"),
    phase: str = typer.Option(None, help="Plate-course phase (train/test)."),
    region_field: str = typer.Option(None, help="Manifest field holding a region, e.g. state."),
    merge: str = typer.Option(None, help="Override the merge rule: ctc_empty|closest|ctc."),
    batch_size: int = typer.Option(64, min=1, help="Crops per forward pass."),
    device: str = typer.Option("auto", help="auto|cpu|cuda[:N]"),
    limit: int = typer.Option(None, min=1, help="Score only the first N samples."),
    out: Path = typer.Option(None, help="Also write metrics and predictions to this JSON."),
) -> None:
    """CER, WER and exact-match accuracy of a recognizer on a dataset."""
    from core.logs import setup_logging

    setup_logging("INFO")
    from typing import get_args

    from recognition.decoding import MergeRule

    rules = get_args(MergeRule)
    if merge is not None and merge not in rules:
        fail(f"--merge must be one of {', '.join(rules)}, got {merge!r}", EXIT_USAGE)
    if not weights.is_file():
        fail(f"weights file not found: {weights}", EXIT_USAGE)
    from recognition.checkpoint import load_checkpoint
    from recognition.datasets import read_dataset
    from recognition.evaluate import evaluate_recognizer
    from recognition.predictor import RecognitionPredictor

    try:
        model, tokenizer, prep, regions = load_checkpoint(weights)
        samples = read_dataset(data, kind, tokenizer.charset, phase, region_field, None, limit)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    from core.device import select_device

    predictor = RecognitionPredictor(model, tokenizer, prep, merge or "ctc_empty", batch_size,
                                     select_device(device), regions=regions)
    result = evaluate_recognizer(predictor, samples, progress=True)
    m = result.metrics
    typer.echo(f"{data}: {m.count} samples  CER {m.cer:.4f}  WER {m.wer:.4f}  "
               f"accuracy {m.accuracy:.4f}  mean edit distance {m.mean_edit_distance:.3f}")
    for region, rm in result.per_region.items():
        typer.echo(f"  {region:>12}: {rm.count:5d} samples  CER {rm.cer:.4f}  "
                   f"WER {rm.wer:.4f}  accuracy {rm.accuracy:.4f}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "data": str(data), "weights": str(weights), "metrics": m.export(),
            "per_region": {k: v.export() for k, v in result.per_region.items()},
            "predictions": [{"text": p.text, "score": p.score, "reference": r}
                            for p, r in zip(result.predictions, result.references,
                                            strict=True)],
        }, ensure_ascii=False, indent=1), encoding="utf-8")

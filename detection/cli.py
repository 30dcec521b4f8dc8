"""``pipeline train detector`` and ``pipeline evaluate detection``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from core.cli import EXIT_USAGE, SET_HELP, fail, load_config_or_exit
from core.errors import UsageError


def train_detector(
    config: Path = typer.Argument(..., help="Detector training YAML (configs/detection/)."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    resume: bool = typer.Option(False, help="Continue the run in the config's output folder."),
) -> None:
    """Train a YOLO or Mask R-CNN detector from a config."""
    from core.logs import setup_logging
    from detection.config import DetectorTrainConfig

    cfg = load_config_or_exit(config, DetectorTrainConfig, set_)
    setup_logging("INFO", Path(cfg.out_dir) / "train.log")
    from detection.coco import CocoFormatError
    from detection.train import train_detector as run_training

    try:
        weights = run_training(cfg, resume)
    except UsageError as exc:  # a missing or mismatched start file: the user can fix it
        fail(str(exc), EXIT_USAGE)
    except (CocoFormatError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    typer.echo(f"detector weights: {weights}")
    typer.echo(f"use them with: --set detector.weights={weights}")


def evaluate_detection(
    gt: Path = typer.Option(..., help="COCO ground truth JSON."),
    pred: Path = typer.Option(..., help="Predictions: COCO results JSON or pipeline results."),
    iou: float = typer.Option(0.5, help="IoU threshold for precision / recall / F1."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the scores here."),
) -> None:
    """Precision / recall / F1 at IoU 0.5 and COCO mAP."""
    from detection.evaluate import evaluate_coco, load_predictions

    for path in (gt, pred):
        if not path.is_file():
            fail(f"no such file: {path}", EXIT_USAGE)
    try:
        gt_data = json.loads(gt.read_text(encoding="utf-8"))
        if not isinstance(gt_data, dict) or not {"images", "categories"} <= set(gt_data):
            raise ValueError(f"{gt}: not a COCO file (needs 'images' and 'categories')")
        results = load_predictions(pred, gt_data)
        scores = evaluate_coco(gt_data, results, iou)
    except (ValueError, KeyError, TypeError) as exc:
        fail(f"cannot evaluate: {exc}", EXIT_USAGE)
    typer.echo(f"images      {len(gt_data['images'])}")
    typer.echo(f"predictions {scores.true_positives + scores.false_positives}")
    typer.echo(f"precision@{iou:g} {scores.precision:.4f}")
    typer.echo(f"recall@{iou:g}    {scores.recall:.4f}")
    typer.echo(f"f1@{iou:g}        {scores.f1:.4f}")
    typer.echo(f"mAP@[.5:.95] {scores.map:.4f}")
    typer.echo(f"mAP@.5       {scores.map50:.4f}")
    if json_out is not None:
        json_out.write_text(json.dumps(scores.export(), indent=2))

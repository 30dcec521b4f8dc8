"""The recognizer training loop (explicit; ``pipeline train recognizer`` calls :func:`train`).

MADGRAD, linear warm-up then cosine decay (per step), gradient clipping, joint CTC + CE loss,
augmentations off during warm-up, validation every ``eval_every`` steps (or each epoch),
``best.pt`` (lowest val CER) and ``last.pt`` written atomically, CSV + TensorBoard logs.
``resume=True`` continues from ``last.pt`` exactly: weights, optimizer, scheduler, position
in the epoch and RNG states.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from madgrad import MADGRAD
from torch.utils.data import DataLoader
from tqdm import tqdm

from core.checksums import verify_sha256
from core.device import select_device
from core.paths import resolve_path
from core.seeding import rng_state, seed_everything, set_rng_state
from recognition.augment import Augmenter
from recognition.checkpoint import (
    load_checkpoint,
    make_checkpoint,
    read_checkpoint,
    save_atomic,
)
from recognition.config import DatasetConfig, RecognizerTrainConfig
from recognition.datasets import TextSample, read_dataset
from recognition.evaluate import evaluate_recognizer
from recognition.losses import JointCTCAttentionLoss, ctc_distillation
from recognition.metrics import RecognitionMetrics
from recognition.models import DEFAULT_CFGS, create_model
from recognition.models.registry import merged_kwargs
from recognition.predictor import RecognitionPredictor
from recognition.preprocess import PreprocessConfig
from recognition.tokenizer import Tokenizer
from recognition.training_data import (
    CropDataset,
    augment_seed,
    collate,
    epoch_order,
    split_by_length,
)

log = logging.getLogger(__name__)

CSV_FIELDS = ["step", "epoch", "lr", "train_loss", "val_cer", "val_wer", "val_accuracy",
              "elapsed_s"]


@dataclass(frozen=True)
class TrainResult:
    """What a run produced."""

    run_dir: Path
    last: Path
    best: Path | None
    step: int
    epoch: int
    best_cer: float | None
    losses: list[float]
    final_metrics: RecognitionMetrics | None


def _read_all(specs: list[DatasetConfig], charset: str) -> list[list[TextSample]]:
    parts = []
    for spec in specs:
        samples = read_dataset(resolve_path(spec.path), spec.kind, charset, spec.phase,
                               spec.region_field, spec.categories, spec.limit)
        if spec.max_chars is not None:
            kept = [s for s in samples if len(s.text) <= spec.max_chars]
            if len(kept) < len(samples):
                log.info("%s: dropped %d samples longer than %d characters", spec.path,
                         len(samples) - len(kept), spec.max_chars)
            samples = kept
        parts.append(samples)
    return parts


def _lr_lambda(warmup: int, total: int, min_ratio: float):
    def fn(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return fn


def _portable_rng() -> dict[str, Any]:
    # numpy's state holds an ndarray, which weights_only loading refuses: store a list.
    state = rng_state()
    name, keys, pos, has_gauss, cached = state["numpy"]
    state["numpy"] = (name, keys.tolist(), int(pos), int(has_gauss), float(cached))
    return state


def _restore_rng(state: dict[str, Any]) -> None:
    name, keys, pos, has_gauss, cached = state["numpy"]
    state = {**state, "numpy": (name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached)}
    set_rng_state(state)


class _Sampler(torch.utils.data.Sampler):
    """Yields the precomputed ``(index, augment seed)`` keys of the rest of an epoch."""

    def __init__(self, keys: list[tuple[int, int]]):
        self.keys = keys

    def __iter__(self):
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)


def _read_matching(path: Path, arch: str, charset: str, device: torch.device,
                   what: str) -> dict[str, Any]:
    """Read a checkpoint that must have been trained with ``arch`` and ``charset``."""
    ckpt = read_checkpoint(path, map_location=device)
    if ckpt["arch"] != arch or ckpt["tokenizer"]["charset"] != charset:
        raise ValueError(f"{what}{path} was trained with another architecture or charset "
                         f"({ckpt['arch']!r}) than the config ({arch!r})")
    return ckpt


def _start_from(model: torch.nn.Module, path: Path, arch: str, charset: str,
                device: torch.device) -> None:
    """Fine-tune: initialise ``model`` from the checkpoint named by ``recognizer.weights``."""
    ckpt = _read_matching(path, arch, charset, device, "recognizer.weights ")
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise ValueError(f"recognizer.weights {path} does not fit recognizer.model: "
                         f"{str(exc).splitlines()[0]}") from exc
    log.info("starting from the weights of %s (step %s)", path, ckpt.get("meta", {}).get("step"))


def _teacher(path: Path, model: torch.nn.Module, tokenizer: Tokenizer, prep: PreprocessConfig,
             device: torch.device) -> torch.nn.Module:
    """The frozen ``train.teacher`` model; it must read the same inputs into the same columns."""
    teacher, t_tok, t_prep, _ = load_checkpoint(path, map_location=device)
    if t_tok.charset != tokenizer.charset:
        raise ValueError(f"train.teacher {path} has another charset than recognizer.charset")
    if (t_prep.height, t_prep.width) != (prep.height, prep.width):
        raise ValueError(f"train.teacher {path} reads {t_prep.height}x{t_prep.width} inputs, "
                         f"recognizer.height/width say {prep.height}x{prep.width}")
    if teacher.stride != model.stride:
        raise ValueError(f"train.teacher {path} has column stride {teacher.stride}, the model "
                         f"{model.stride} (set recognizer.model.width_stride)")
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher.to(device).eval()


def train(cfg: RecognizerTrainConfig, resume: bool = False, progress: bool = True,
          stop_after_steps: int | None = None) -> TrainResult:
    """Train a recognizer as ``cfg`` says.

    Args:
        cfg: the run's config.
        resume: continue from ``run_dir/last.pt``.
        progress: show tqdm bars.
        stop_after_steps: stop (saving ``last.pt``) after this many steps *in this call*,
            without changing the schedule (simulates an interruption).
    Returns:
        a :class:`TrainResult`.
    """
    tc, rc = cfg.train, cfg.recognizer
    run_dir = cfg.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    seed_everything(tc.seed)
    device = select_device(tc.device)
    tokenizer = Tokenizer(rc.charset)

    train_sets = _read_all(cfg.data.train, tokenizer.charset)
    if cfg.data.val:
        val_samples = [s for part in _read_all(cfg.data.val, tokenizer.charset) for s in part]
    else:
        share = cfg.data.val_max // max(1, len(train_sets))
        splits = [split_by_length(part, cfg.data.val_fraction, share, tc.seed)
                  for part in train_sets]
        train_sets = [tr for tr, _ in splits]
        val_samples = [s for _, va in splits for s in va]
    train_samples = [s for part in train_sets for s in part]
    if not train_samples:
        raise ValueError("no training samples left after the validation split")
    regions = sorted({s.region for s in train_samples if s.region}) if cfg.region_head else []

    overrides = dict(rc.model)
    if cfg.region_head:
        overrides["num_regions"] = len(regions)
    model_kwargs = merged_kwargs(rc.arch, overrides)
    model = create_model(rc.arch, tokenizer.num_ctc_classes, tokenizer.num_attn_classes,
                         **model_kwargs).to(device)
    two_row = rc.two_row_aspect
    if two_row is None and "two_row_aspect" not in rc.model_fields_set:
        two_row = DEFAULT_CFGS[rc.arch]["two_row_aspect"]
    prep = PreprocessConfig(rc.height, rc.width, two_row, rc.min_aspect, bool(rc.text_band))
    max_length = model_kwargs.get("max_length", 10_000)

    augmenter = Augmenter(cfg.augment) if cfg.augment.enabled else None
    dataset = CropDataset(train_samples, prep, augmenter, regions)
    sizes = [len(p) for p in train_sets]
    weights = [s.weight for s in cfg.data.train]
    per_epoch = cfg.data.samples_per_epoch or len(train_samples)
    steps_per_epoch = math.ceil(per_epoch / tc.batch_size)
    total_steps = tc.epochs * steps_per_epoch
    if tc.max_steps is not None:
        total_steps = min(total_steps, tc.max_steps)
    warmup = tc.warmup_steps if tc.warmup_steps is not None else round(
        tc.warmup_epochs * steps_per_epoch)
    warmup = min(warmup, max(0, total_steps - 1))

    bf16 = tc.precision == "bf16"
    channels_last = bf16 and device.type == "cpu"  # what makes oneDNN's bf16 convs fast
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = MADGRAD(model.parameters(), lr=tc.lr, momentum=tc.momentum,
                        weight_decay=tc.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(max(warmup, 1) if warmup else 0, total_steps, tc.min_lr_ratio))
    criterion = JointCTCAttentionLoss(tokenizer, tc.ctc_weight, tc.ce_weight, tc.region_weight)
    teacher = None
    if tc.teacher is not None:
        teacher = _teacher(resolve_path(tc.teacher), model, tokenizer, prep, device)
        if channels_last:
            teacher.to(memory_format=torch.channels_last)

    step = epoch = batch_in_epoch = 0
    best_cer: float | None = None
    if resume:
        if not last_path.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint to resume from at {last_path}")
        ckpt = _read_matching(last_path, rc.arch, tokenizer.charset, device, "--resume: ")
        model.load_state_dict(ckpt["state_dict"])
        st = ckpt["train"]
        optimizer.load_state_dict(st["optimizer"])
        scheduler.load_state_dict(st["scheduler"])
        step, epoch, batch_in_epoch = st["step"], st["epoch"], st["batch_in_epoch"]
        best_cer = st["best_cer"]
        _restore_rng(st["rng"])
        log.info("resumed %s at step %d (epoch %d, batch %d)", last_path, step, epoch,
                 batch_in_epoch)
    elif rc.weights is not None:
        verify_sha256(resolve_path(rc.weights), cfg.init_sha256, "recognizer.weights")
        _start_from(model, rc.weights, rc.arch, tokenizer.charset, device)

    tb = _tensorboard(run_dir / "tensorboard", step)
    wandb_run = _wandb(cfg) if tc.wandb else None
    csv_path = run_dir / "metrics.csv"
    new_csv = not csv_path.is_file() or not resume
    csv_file = csv_path.open("w" if new_csv else "a", newline="", encoding="utf-8")
    writer = csv.DictWriter(csv_file, fieldnames=CSV_FIELDS)
    if new_csv:
        writer.writeheader()

    def checkpoint(train_state: bool) -> dict[str, Any]:
        meta = {"name": cfg.name, "step": step, "epoch": epoch, "best_cer": best_cer}
        train_part = None
        if train_state:
            train_part = {"optimizer": optimizer.state_dict(),
                          "scheduler": scheduler.state_dict(), "step": step, "epoch": epoch,
                          "batch_in_epoch": batch_in_epoch, "best_cer": best_cer,
                          "rng": _portable_rng(), "config": cfg.model_dump(mode="json")}
        return make_checkpoint(model, rc.arch, model_kwargs, tokenizer, prep, regions, meta,
                               train_part)

    def validate_and_save(train_loss: float | None) -> RecognitionMetrics | None:
        nonlocal best_cer
        metrics = None
        if val_samples:
            predictor = RecognitionPredictor(model, tokenizer, prep, rc.merge, rc.batch_size,
                                             device, rc.num_candidates, regions)
            metrics = evaluate_recognizer(predictor, val_samples).metrics
            model.train()
            if best_cer is None or metrics.cer < best_cer:
                best_cer = metrics.cer
                save_atomic(checkpoint(False), best_path)
            log.info("step %d: val CER %.4f WER %.4f acc %.4f (best CER %.4f)", step,
                     metrics.cer, metrics.wer, metrics.accuracy, best_cer)
        save_atomic(checkpoint(True), last_path)
        row = {"step": step, "epoch": epoch, "lr": scheduler.get_last_lr()[0],
               "train_loss": train_loss, "val_cer": metrics and metrics.cer,
               "val_wer": metrics and metrics.wer, "val_accuracy": metrics and metrics.accuracy,
               "elapsed_s": round(time.monotonic() - started, 1)}
        writer.writerow(row)
        csv_file.flush()
        if metrics is not None:
            for k in ("cer", "wer", "accuracy"):
                tb.add_scalar(f"val/{k}", getattr(metrics, k), step)
            if wandb_run is not None:
                wandb_run.log({f"val/{k}": v for k, v in metrics.export().items()}, step=step)
        return metrics

    log.info("training %s: %d train / %d val samples, %d steps (%d per epoch, %d warm-up) "
             "on %s", rc.arch, len(train_samples), len(val_samples), total_steps,
             steps_per_epoch, warmup, device)
    started = time.monotonic()
    losses: list[float] = []
    recent: list[float] = []
    metrics: RecognitionMetrics | None = None
    done_here = 0
    stop = step >= total_steps
    model.train()
    bar = tqdm(total=total_steps, initial=step, desc="train", disable=not progress)
    while not stop and epoch < tc.epochs:
        order = epoch_order(sizes, weights, cfg.data.samples_per_epoch, tc.seed, epoch)
        first = epoch * steps_per_epoch
        keys = [(idx, augment_seed(tc.seed, epoch, pos)
                 if augmenter is not None and first + pos // tc.batch_size >= warmup else -1)
                for pos, idx in enumerate(order)]
        loader = DataLoader(dataset, batch_size=tc.batch_size,
                            sampler=_Sampler(keys[batch_in_epoch * tc.batch_size:]),
                            num_workers=tc.num_workers, collate_fn=collate,
                            pin_memory=device.type == "cuda",
                            generator=torch.Generator().manual_seed(tc.seed + epoch))
        for batch in loader:
            if batch is not None:
                attn_targets = tokenizer.encode_attention(batch["texts"], max_length)
                images = batch["images"].to(device, non_blocking=True)
                if channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    outputs = model(images, batch["widths"].to(device),
                                    attn_targets[:, :-1].to(device)
                                    if getattr(model, "has_decoder", False) else None)
                terms = criterion(outputs, batch["texts"], attn_targets, batch["regions"])
                if teacher is not None:
                    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16,
                                                         enabled=bf16):
                        taught = teacher(images, batch["widths"].to(device))["ctc_logits"]
                    terms["distill"] = ctc_distillation(outputs["ctc_logits"], taught,
                                                        outputs["mask"], tc.distill_temperature)
                    terms["loss"] = terms["loss"] + tc.distill_weight * terms["distill"]
                optimizer.zero_grad(set_to_none=True)
                terms["loss"].backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
                optimizer.step()
                loss_value = float(terms["loss"].detach())
                losses.append(loss_value)
                recent.append(loss_value)
            scheduler.step()
            step += 1
            batch_in_epoch += 1
            done_here += 1
            bar.update(1)
            if recent and step % tc.log_every == 0:
                mean = sum(recent) / len(recent)
                bar.set_postfix(loss=f"{mean:.3f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
                tb.add_scalar("train/loss", mean, step)
                tb.add_scalar("train/lr", scheduler.get_last_lr()[0], step)
                if wandb_run is not None:
                    wandb_run.log({"train/loss": mean}, step=step)
            out_of_time = tc.max_time_s is not None and (
                time.monotonic() - started) >= tc.max_time_s
            stop = (step >= total_steps or out_of_time
                    or (stop_after_steps is not None and done_here >= stop_after_steps))
            if batch_in_epoch >= steps_per_epoch:
                epoch += 1
                batch_in_epoch = 0
            evaluate_now = (step % tc.eval_every == 0) if tc.eval_every else batch_in_epoch == 0
            if evaluate_now or stop:
                mean = sum(recent) / len(recent) if recent else None
                recent = []
                metrics = validate_and_save(mean)
            if stop:
                if out_of_time:
                    log.info("time budget of %.0f s reached at step %d", tc.max_time_s, step)
                break
    bar.close()
    if not last_path.is_file():
        validate_and_save(None)
    csv_file.close()
    tb.close()
    if wandb_run is not None:
        wandb_run.finish()
    return TrainResult(run_dir, last_path, best_path if best_path.is_file() else None, step,
                       epoch, best_cer, losses, metrics)


class _NullWriter:
    def add_scalar(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _tensorboard(path: Path, step: int):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is a dependency, but logging must never kill a run
        log.warning("tensorboard not importable; TensorBoard logs disabled")
        return _NullWriter()
    return SummaryWriter(str(path), purge_step=step or None)


def _wandb(cfg: RecognizerTrainConfig):
    try:
        import wandb
    except ImportError:
        log.warning("train.wandb is set but wandb is not installed; logging to CSV and "
                    "TensorBoard only")
        return None
    return wandb.init(project=cfg.train.wandb_project, name=cfg.name,
                      config=cfg.model_dump(mode="json"))

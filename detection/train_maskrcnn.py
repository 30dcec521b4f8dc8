"""Mask R-CNN training: an explicit loop (MADGRAD, warm-up + cosine, gradient clipping).

Checkpoints (``<out_dir>/last.pt``) hold model, optimizer, scheduler, step, best score and
RNG states, written atomically; ``--resume`` continues from there. The best weights by
validation F1 at IoU 0.5 go to ``<out_dir>/best_detector.pt`` for the factory.

Under ``torchrun --nproc-per-node N`` (:mod:`core.distributed`) the N processes train one
model in ``DistributedDataParallel``, each on its ``DistributedSampler`` shard of the shuffled
images (``set_epoch`` each pass, so every pass deals a new order); rank 0 alone logs,
validates and writes files, and ``--resume`` loads the same ``last.pt`` in every process.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from core.checksums import verify_sha256
from core.device import select_device
from core.distributed import (
    DistributedEnv,
    all_agree,
    barrier,
    cleanup_distributed,
    gather_objects,
    init_distributed,
    process_device,
    wrap_model,
)
from core.errors import UsageError
from core.paths import resolve_path
from core.seeding import rng_state, seed_everything, set_rng_state
from detection.config import DetectorConfig, DetectorTrainConfig
from detection.data_split import SplitSet, load_splits
from detection.evaluate import DetectionScores, precision_recall
from detection.maskrcnn import (
    CHECKPOINT_FORMAT,
    MaskRCNNDetector,
    arch_config,
    build_maskrcnn_model,
    save_maskrcnn_weights,
)
from detection.maskrcnn_data import CocoMaskDataset, collate_detection

log = logging.getLogger(__name__)

LAST_NAME = "last.pt"
EXPORT_NAME = "best_detector.pt"


def warmup_cosine(warmup: int, total: int) -> Callable[[int], float]:
    """LR multiplier: linear warm-up over ``warmup`` steps, then cosine decay to 0."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return factor


def train_one_epoch(model: nn.Module, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, loader: DataLoader,
                    device: torch.device, clip_grad: float, step: int, max_steps: int,
                    on_step: Callable[[int, dict[str, float]], None]) -> int:
    """One pass over ``loader`` (or until ``max_steps``); returns the new global step.

    ``model`` may be a ``DistributedDataParallel`` wrapper: processes then skip a batch
    together (one without images, or with a non-finite loss, in any process).
    """
    model.train()
    for images, targets in loader:
        if step >= max_steps:
            break
        if not all_agree(bool(images)):
            continue
        images = [im.to(device, non_blocking=True) for im in images]
        targets = [{k: v.to(device, non_blocking=True) for k, v in t.items()} for t in targets]
        losses = model(images, targets)
        loss = sum(losses.values())
        if not all_agree(bool(torch.isfinite(loss))):
            log.warning("step %d: non-finite loss %s, batch skipped", step, loss.item())
            optimizer.zero_grad(set_to_none=True)
            continue
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
        optimizer.step()
        scheduler.step()
        step += 1
        on_step(step, {"loss": loss.item(), **{k: v.item() for k, v in losses.items()}})
    return step


@torch.inference_mode()
def evaluate(model: nn.Module, cfg: DetectorConfig, split: SplitSet,
             device: torch.device) -> DetectionScores:
    """P / R / F1 at IoU 0.5 of the model on a split (sizes and thresholds from ``cfg``)."""
    transform, heads = model.transform, model.roi_heads
    saved = (transform.min_size, transform.max_size, heads.score_thresh, heads.nms_thresh,
             heads.detections_per_img)
    detector = MaskRCNNDetector(model, cfg, device)
    gt: dict[int, list] = {}
    pred: dict[int, list] = {}
    try:
        for record in split.images:
            path = split.images_dir / record.file_name
            try:
                with Image.open(path) as im:
                    image = np.asarray(im.convert("RGB"))
            except OSError as exc:
                log.warning("validation image %s unreadable: %s", path, exc)
                continue
            regions = detector.predict([image])[0]
            gt[record.id] = [(o.label, (o.bbox[0], o.bbox[1], o.bbox[0] + o.bbox[2],
                                        o.bbox[1] + o.bbox[3]))
                             for o in record.objects if o.label in cfg.classes]
            pred[record.id] = [(r.label, r.bbox, r.score) for r in regions]
    finally:
        (transform.min_size, transform.max_size, heads.score_thresh, heads.nms_thresh,
         heads.detections_per_img) = saved
        model.train()
    return precision_recall(gt, pred, 0.5)


def _portable_rng() -> dict[str, Any]:
    state = rng_state()
    np_state = state["numpy"]
    state["numpy"] = [np_state[0], np_state[1].tolist(), *np_state[2:]]
    return state


def save_checkpoint(path: Path, model: nn.Module, cfg: DetectorConfig,
                    optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, step: int,
                    best_f1: float, rng_per_process: list[dict[str, Any]] | None = None
                    ) -> None:
    """Write a resumable checkpoint atomically (plain types + tensors only).

    Args:
        rng_per_process: every training process's RNG states by rank (several processes
            only), for each to restore on ``--resume``.
    """
    payload = {"format": CHECKPOINT_FORMAT, "arch": arch_config(cfg),
               "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(),
               "scheduler": scheduler.state_dict(), "step": step, "best_f1": best_f1,
               "rng": _portable_rng()}
    if rng_per_process is not None and len(rng_per_process) > 1:
        payload["processes"] = len(rng_per_process)
        payload["rng_per_process"] = rng_per_process
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def _restore_rng(state: dict[str, Any]) -> None:
    name, keys, *rest = state["numpy"]
    state = {**state, "numpy": (name, np.asarray(keys, dtype=np.uint32), *rest)}
    set_rng_state(state)


def train_maskrcnn(cfg: DetectorTrainConfig, resume: bool = False) -> Path:
    """Train (or resume) a Mask R-CNN detector; returns the exported best weights.

    Args:
        cfg: training config (``model.backend == "maskrcnn"``).
        resume: continue from ``<out_dir>/last.pt``.

    Returns:
        ``<out_dir>/best_detector.pt`` (also copied to ``cfg.export`` when set).

    Under torchrun every process calls it (see the module's docstring); a process group it
    joined itself is left at the end.
    """
    joined_before = torch.distributed.is_available() and torch.distributed.is_initialized()
    try:
        return _train_maskrcnn(cfg, resume)
    finally:
        if not joined_before:
            cleanup_distributed()


def _train_maskrcnn(cfg: DetectorTrainConfig, resume: bool) -> Path:
    t = cfg.train
    run_dir = Path(cfg.out_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    device = select_device(cfg.device)
    env = init_distributed(device)
    device = process_device(device, env)
    if not env.is_main:  # the other processes log only what goes wrong
        logging.getLogger().setLevel(logging.WARNING)
    seed_everything(t.seed)
    train_split, val_split = load_splits(cfg)
    if not train_split.images:
        raise ValueError(f"{cfg.data.train.annotations}: no training images")
    if cfg.model.weights is not None and not resume:
        verify_sha256(resolve_path(cfg.model.weights), cfg.init_sha256, "model.weights")
    model = build_maskrcnn_model(cfg.model, train_sizes=t.min_size).to(device)
    from madgrad import MADGRAD

    optimizer = MADGRAD(model.parameters(), lr=t.lr0, weight_decay=t.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer,
                                                  warmup_cosine(t.warmup_iters, t.iterations))
    step, best_f1 = 0, -1.0
    last = run_dir / LAST_NAME
    if resume:
        if not last.is_file():
            raise FileNotFoundError(f"--resume: no {last}; start the run without --resume")
        ckpt = torch.load(last, map_location=device, weights_only=True)
        model.load_state_dict(ckpt["state_dict"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        step, best_f1 = int(ckpt["step"]), float(ckpt["best_f1"])
        processes = int(ckpt.get("processes", 1))
        if processes != env.world_size:
            raise UsageError(f"--resume: {last} was written by a run of {processes} "
                             f"process(es); resume it with {processes}, not {env.world_size}")
        _restore_rng(ckpt["rng_per_process"][env.rank] if env.enabled else ckpt["rng"])
        log.info("resumed %s at step %d", last, step)
    elif env.enabled:  # equal weights everywhere; augmentation draws differ per process
        seed_everything(t.seed + 1_000 * env.rank)
    forward = wrap_model(model, device)
    loader = _train_loader(CocoMaskDataset(train_split.images, train_split.images_dir,
                                           cfg.model.classes), t.batch, t.workers, t.seed,
                           device, env)
    best_path = run_dir / EXPORT_NAME
    started = time.monotonic()

    def on_step(s: int, losses: dict[str, float]) -> None:
        validate = bool(val_split.images) and (s % t.val_every == 0 or s == t.iterations)
        save = s % t.checkpoint_every == 0 or s == t.iterations
        rng_per_process = gather_objects(_portable_rng()) if save and env.enabled else None
        if env.is_main:
            _log_validate_save(s, losses, validate, save, rng_per_process)
        if env.enabled and (validate or save):
            barrier()  # nobody goes on (or reads last.pt) before rank 0 has written

    def _log_validate_save(s: int, losses: dict[str, float], validate: bool, save: bool,
                           rng_per_process: list[dict[str, Any]] | None) -> None:
        nonlocal best_f1
        if s % 20 == 0 or s == 1:
            log.info("step %d/%d lr %.2e loss %.4f (%.0fs)", s, t.iterations,
                     scheduler.get_last_lr()[0], losses["loss"], time.monotonic() - started)
        if validate:
            scores = evaluate(model, cfg.model, val_split, device)
            log.info("step %d validation P %.3f R %.3f F1 %.3f", s, scores.precision,
                     scores.recall, scores.f1)
            if scores.f1 > best_f1 or not best_path.is_file():
                best_f1 = max(best_f1, scores.f1)
                save_maskrcnn_weights(model, cfg.model, best_path)
        if save:
            save_checkpoint(last, model, cfg.model, optimizer, scheduler, s, best_f1,
                            rng_per_process)

    passes = step // max(1, len(loader))
    while step < t.iterations:
        before = step
        if isinstance(loader.sampler, DistributedSampler):
            loader.sampler.set_epoch(passes)  # a new shuffle each pass, the same in all
        passes += 1
        step = train_one_epoch(forward, optimizer, scheduler, loader, device, t.clip_grad,
                               step, t.iterations, on_step)
        if step == before:
            raise ValueError("no trainable batch in the training data (all images unreadable?)")
    if not env.is_main:
        barrier()  # wait for rank 0's export below
        return best_path
    if not best_path.is_file():  # no validation split: the final weights are the export
        save_maskrcnn_weights(model, cfg.model, best_path)
    if cfg.export is not None:
        Path(cfg.export).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(best_path, cfg.export)
        log.info("exported detector weights to %s", cfg.export)
    if env.enabled:
        barrier()
    return best_path


def _train_loader(dataset: CocoMaskDataset, batch: int, workers: int, seed: int,
                  device: torch.device, env: DistributedEnv) -> DataLoader:
    """Shuffled batches; with several processes each reads its ``DistributedSampler`` shard
    (shuffled with ``seed`` and the pass number)."""
    sampler = None
    per_process = len(dataset)
    if env.enabled:
        sampler = DistributedSampler(dataset, num_replicas=env.world_size, rank=env.rank,
                                     shuffle=True, seed=seed)
        per_process = len(sampler)
    return DataLoader(dataset, batch_size=batch, shuffle=sampler is None, sampler=sampler,
                      num_workers=workers, collate_fn=collate_detection,
                      pin_memory=device.type == "cuda", drop_last=per_process > batch)

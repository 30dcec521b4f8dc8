"""The recognizer training loop (explicit; ``pipeline train recognizer`` calls :func:`train`).

MADGRAD, linear warm-up then cosine decay (per step), gradient clipping, joint CTC + CE loss,
augmentations off during warm-up, validation every ``eval_every`` steps (or each epoch),
``best.pt`` (lowest val CER) and ``last.pt`` written atomically, CSV + TensorBoard logs.
``resume=True`` continues from ``last.pt`` exactly: weights, optimizer, scheduler, position
in the epoch and RNG states.

Under ``torchrun --nproc-per-node N`` (:mod:`core.distributed`) the N processes train one
model in ``DistributedDataParallel``: a step is N batches of ``train.batch_size``, process
``r`` taking every N-th sample of the epoch's seeded order from ``r`` on, so an epoch has N
times fewer steps; rank 0 alone evaluates, logs and writes checkpoints (the others wait), and
``--resume`` loads the same ``last.pt`` in every process, each with its own RNG states.

The pieces, in the order :func:`train` uses them (each callable and testable alone):
:func:`prepare_run` (:func:`~recognition.training_data.build_data`, :func:`plan_schedule`,
:func:`build_model`, :func:`build_optimizer`, :func:`build_scheduler`, :func:`load_teacher`,
:func:`resume_from` / :func:`start_from_weights`, :class:`RunLogger`), then per epoch
:func:`train_one_epoch` (:func:`epoch_loader`, :func:`train_one_step` with
:func:`compute_loss`, :func:`evaluate_and_save` with :func:`evaluate` and
:func:`training_checkpoint`).
"""

from __future__ import annotations

import csv
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from madgrad import MADGRAD
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from core.checksums import verify_sha256
from core.device import select_device
from core.distributed import (
    DistributedEnv,
    all_agree,
    any_process,
    barrier,
    cleanup_distributed,
    gather_objects,
    init_distributed,
    mean_over_processes,
    process_device,
    shard,
    wrap_model,
)
from core.errors import UsageError
from core.paths import resolve_path
from core.seeding import rng_state, seed_everything, set_rng_state
from recognition.augment import Augmenter
from recognition.checkpoint import (
    load_checkpoint,
    make_checkpoint,
    read_checkpoint,
    save_atomic,
)
from recognition.config import RecognizerConfig, RecognizerTrainConfig, TrainSettings
from recognition.conversion import as_arch
from recognition.datasets import TextSample
from recognition.evaluate import evaluate_recognizer
from recognition.losses import JointCTCAttentionLoss, ctc_distillation
from recognition.metrics import RecognitionMetrics
from recognition.models import DEFAULT_CFGS, create_model
from recognition.models.registry import merged_kwargs
from recognition.predictor import RecognitionPredictor, native_bf16
from recognition.preprocess import PreprocessConfig
from recognition.tokenizer import Tokenizer
from recognition.training_data import (
    CropDataset,
    KeySampler,
    TrainData,
    build_data,
    collate,
    epoch_keys,
    epoch_order,
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


@dataclass
class TrainState:
    """Where a run stands; stored in ``last.pt`` so ``--resume`` continues exactly."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_cer: float | None = None

    def advance(self, steps_per_epoch: int) -> None:
        """Count one step, rolling over to the next epoch after its last batch."""
        self.step += 1
        self.batch_in_epoch += 1
        if self.batch_in_epoch >= steps_per_epoch:
            self.epoch += 1
            self.batch_in_epoch = 0


# --- schedule ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """Step counts of a run: per epoch, in all (``max_steps`` applied) and warm-up."""

    steps_per_epoch: int
    total_steps: int
    warmup: int


def plan_schedule(tc: TrainSettings, samples_per_epoch: int, processes: int = 1) -> Schedule:
    """Steps per epoch, total and warm-up steps (warm-up ends before the last step).

    Args:
        tc: ``epochs``, ``batch_size``, ``max_steps``, ``warmup_steps`` / ``warmup_epochs``.
        samples_per_epoch: ``data.samples_per_epoch``, or the number of training samples.
        processes: training processes, each reading ``tc.batch_size`` samples a step.
    """
    steps_per_epoch = math.ceil(samples_per_epoch / (tc.batch_size * processes))
    total_steps = tc.epochs * steps_per_epoch
    if tc.max_steps is not None:
        total_steps = min(total_steps, tc.max_steps)
    warmup = tc.warmup_steps if tc.warmup_steps is not None else round(
        tc.warmup_epochs * steps_per_epoch)
    return Schedule(steps_per_epoch, total_steps, min(warmup, max(0, total_steps - 1)))


def _lr_lambda(warmup: int, total: int, min_ratio: float):
    def fn(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return fn


# --- model, optimizer, teacher ----------------------------------------------------------


def trains_bf16(tc: TrainSettings, device: torch.device) -> bool:
    """Whether forward passes run under bfloat16 autocast: ``bf16`` always, ``auto`` where
    ``device`` runs bfloat16 natively (a CPU with AMX / AVX512-BF16, a GPU with bf16)."""
    if tc.precision != "auto":
        return tc.precision == "bf16"
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return native_bf16(device)


def uses_channels_last(tc: TrainSettings, device: torch.device) -> bool:
    """bf16 on a CPU runs channels-last: what makes oneDNN's bf16 convolutions fast."""
    return device.type == "cpu" and trains_bf16(tc, device)


@dataclass
class RecognizerParts:
    """The model under training with what its checkpoints store beside the weights."""

    model: nn.Module
    arch: str
    kwargs: dict[str, Any]
    tokenizer: Tokenizer
    preprocess: PreprocessConfig
    regions: list[str]

    @property
    def max_length(self) -> int:
        """Longest text the attention decoder is trained on."""
        return self.kwargs.get("max_length", 10_000)

    def checkpoint(self, meta: dict[str, Any], train: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        """The checkpoint dict of the current weights (see :mod:`recognition.checkpoint`)."""
        return make_checkpoint(self.model, self.arch, self.kwargs, self.tokenizer,
                               self.preprocess, self.regions, meta, train)


def preprocess_config(rc: RecognizerConfig) -> PreprocessConfig:
    """Input size and crop handling; ``two_row_aspect`` left unset takes the arch default."""
    two_row = rc.two_row_aspect
    if two_row is None and "two_row_aspect" not in rc.model_fields_set:
        two_row = DEFAULT_CFGS[rc.arch]["two_row_aspect"]
    return PreprocessConfig(rc.height, rc.width, two_row, rc.min_aspect, bool(rc.text_band),
                            bool(rc.row_split))


def build_model(cfg: RecognizerTrainConfig, tokenizer: Tokenizer, regions: list[str],
                device: torch.device) -> RecognizerParts:
    """A freshly initialised ``recognizer.arch`` on ``device`` (a region head if asked)."""
    rc = cfg.recognizer
    overrides = dict(rc.model)
    if cfg.region_head:
        overrides["num_regions"] = len(regions)
    kwargs = merged_kwargs(rc.arch, overrides)
    model = create_model(rc.arch, tokenizer.num_ctc_classes, tokenizer.num_attn_classes,
                         **kwargs).to(device)
    if uses_channels_last(cfg.train, device):
        model.to(memory_format=torch.channels_last)
    return RecognizerParts(model, rc.arch, kwargs, tokenizer, preprocess_config(rc), regions)


def build_optimizer(model: nn.Module, tc: TrainSettings) -> torch.optim.Optimizer:
    """MADGRAD over all of ``model``'s parameters."""
    return MADGRAD(model.parameters(), lr=tc.lr, momentum=tc.momentum,
                   weight_decay=tc.weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, schedule: Schedule, tc: TrainSettings
                    ) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step linear warm-up, then cosine decay to ``min_lr_ratio × lr``."""
    warmup = max(schedule.warmup, 1) if schedule.warmup else 0
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(warmup, schedule.total_steps, tc.min_lr_ratio))


def _read_matching(path: Path, arch: str, charset: str, device: torch.device,
                   what: str, convert: bool = False) -> dict[str, Any]:
    """Read a checkpoint that must have been trained with ``arch`` and ``charset``.

    ``convert``: a checkpoint of another architecture that :func:`recognition.conversion.
    as_arch` maps onto ``arch`` (a joint reader for a ``ctc_transformer``) is converted.
    """
    ckpt = read_checkpoint(path, map_location=device)
    if convert:
        ckpt = as_arch(ckpt, arch)
    if ckpt["arch"] != arch or ckpt["tokenizer"]["charset"] != charset:
        raise ValueError(f"{what}{path} was trained with another architecture or charset "
                         f"({ckpt['arch']!r}) than the config ({arch!r})")
    return ckpt


def load_teacher(path: Path, parts: RecognizerParts, device: torch.device,
                 channels_last: bool = False) -> nn.Module:
    """The frozen ``train.teacher`` model; it must read the same inputs into the same columns.

    Raises:
        ValueError: another charset, input size or column stride than ``parts``.
    """
    teacher, t_tok, t_prep, _ = load_checkpoint(path, map_location=device)
    prep = parts.preprocess
    if t_tok.charset != parts.tokenizer.charset:
        raise ValueError(f"train.teacher {path} has another charset than recognizer.charset")
    if (t_prep.height, t_prep.width) != (prep.height, prep.width):
        raise ValueError(f"train.teacher {path} reads {t_prep.height}x{t_prep.width} inputs, "
                         f"recognizer.height/width say {prep.height}x{prep.width}")
    if teacher.stride != parts.model.stride:
        raise ValueError(f"train.teacher {path} has column stride {teacher.stride}, the model "
                         f"{parts.model.stride} (set recognizer.model.width_stride)")
    for p in teacher.parameters():
        p.requires_grad_(False)
    teacher = teacher.to(device).eval()
    if channels_last:
        teacher.to(memory_format=torch.channels_last)
    return teacher


# --- checkpoints: start-from weights, resume, save --------------------------------------


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


def start_from_weights(cfg: RecognizerTrainConfig, parts: RecognizerParts,
                       device: torch.device) -> None:
    """Fine-tune: load ``recognizer.weights`` into ``parts.model``.

    A joint reader's file starts a ``ctc_transformer`` with its encoder and CTC head
    (:func:`recognition.conversion.drop_decoder`). The file's SHA-256 is checked against
    ``init_sha256`` (when set) before it is read.

    Raises:
        core.checksums.ChecksumMismatch: the file is not the one ``init_sha256`` pins.
        ValueError: another architecture / charset, or weights that do not fit the model.
    """
    # Resolve once: the file hashed is the file read (a relative path may name the project's).
    path = resolve_path(cfg.recognizer.weights)
    verify_sha256(path, cfg.init_sha256, "recognizer.weights")
    ckpt = _read_matching(path, parts.arch, parts.tokenizer.charset, device,
                          "recognizer.weights ", convert=True)
    state = ckpt["state_dict"]
    fresh_head = (cfg.region_head and not any(k.startswith("region_head.") for k in state))
    try:
        if fresh_head:
            # a reader trained without a region head gets one: only the head starts fresh
            missing, unexpected = parts.model.load_state_dict(state, strict=False)
            if unexpected or any(not k.startswith("region_head.") for k in missing):
                raise RuntimeError(f"missing {missing}, unexpected {unexpected}")
        else:
            parts.model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"recognizer.weights {path} does not fit recognizer.model: "
                         f"{str(exc).splitlines()[0]}") from exc
    log.info("starting from the weights of %s (step %s)%s", path,
             ckpt.get("meta", {}).get("step"),
             f"; new region head for {parts.regions}" if fresh_head else "")


def resume_from(path: Path, parts: RecognizerParts, optimizer: torch.optim.Optimizer,
                scheduler: torch.optim.lr_scheduler.LRScheduler,
                device: torch.device, env: DistributedEnv | None = None) -> TrainState:
    """Load weights, optimizer, scheduler and RNG states of ``last.pt``; where it stood.

    Args:
        env: this process among the training processes; every process reads the same file
            and takes its own rank's RNG states from it.

    Raises:
        FileNotFoundError: no checkpoint at ``path``.
        core.errors.UsageError: ``last.pt`` was written by a run of another number of
            processes (its steps hold another number of samples).
    """
    env = env or DistributedEnv()
    if not path.is_file():
        raise FileNotFoundError(f"--resume: no checkpoint to resume from at {path}")
    ckpt = _read_matching(path, parts.arch, parts.tokenizer.charset, device, "--resume: ")
    st = ckpt["train"]
    processes = int(st.get("processes", 1))
    if processes != env.world_size:
        raise UsageError(f"--resume: {path} was written by a run of {processes} process(es); "
                         f"resume it with {processes} (torchrun --nproc-per-node), not "
                         f"{env.world_size}")
    parts.model.load_state_dict(ckpt["state_dict"])
    optimizer.load_state_dict(st["optimizer"])
    scheduler.load_state_dict(st["scheduler"])
    state = TrainState(st["step"], st["epoch"], st["batch_in_epoch"], st["best_cer"])
    _restore_rng(st["rng_per_process"][env.rank] if env.enabled else st["rng"])
    log.info("resumed %s at step %d (epoch %d, batch %d)", path, state.step, state.epoch,
             state.batch_in_epoch)
    return state


def training_checkpoint(cfg: RecognizerTrainConfig, parts: RecognizerParts, state: TrainState,
                        optimizer: torch.optim.Optimizer | None = None,
                        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                        rng_per_process: list[dict[str, Any]] | None = None
                        ) -> dict[str, Any]:
    """The checkpoint dict; with ``optimizer`` and ``scheduler`` also the state to resume.

    Args:
        rng_per_process: every training process's RNG states, by rank (several processes
            only); stored with their number so that ``--resume`` restores each.
    """
    meta = {"name": cfg.name, "step": state.step, "epoch": state.epoch,
            "best_cer": state.best_cer}
    train_part = None
    if optimizer is not None and scheduler is not None:
        train_part = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                      "step": state.step, "epoch": state.epoch,
                      "batch_in_epoch": state.batch_in_epoch, "best_cer": state.best_cer,
                      "rng": _portable_rng(), "config": cfg.model_dump(mode="json")}
        if rng_per_process is not None and len(rng_per_process) > 1:
            train_part["processes"] = len(rng_per_process)
            train_part["rng_per_process"] = rng_per_process
    return parts.checkpoint(meta, train_part)


# --- data per epoch, one step, evaluation -----------------------------------------------


def epoch_loader(dataset: CropDataset, data: TrainData, cfg: RecognizerTrainConfig,
                 schedule: Schedule, epoch: int, start_batch: int,
                 device: torch.device, env: DistributedEnv | None = None) -> DataLoader:
    """Batches of ``epoch`` from batch ``start_batch`` on (``> 0`` after ``--resume``).

    With several processes (``env``) this process reads its :func:`~core.distributed.shard`
    of the epoch's order: every ``world_size``-th sample from its rank on.
    """
    tc = cfg.train
    env = env or DistributedEnv()
    order = epoch_order(data.sizes, [s.weight for s in cfg.data.train],
                        cfg.data.samples_per_epoch, tc.seed, epoch)
    # Positions of a step's samples over all processes, for the warm-up rule: a step is
    # world_size batches of batch_size.
    keys = epoch_keys(order, tc.seed, epoch, epoch * schedule.steps_per_epoch,
                      tc.batch_size * env.world_size, schedule.warmup,
                      dataset.augmenter is not None)
    keys = shard(keys, env, epoch)
    return DataLoader(dataset, batch_size=tc.batch_size,
                      sampler=KeySampler(keys[start_batch * tc.batch_size:]),
                      num_workers=tc.num_workers, collate_fn=collate,
                      pin_memory=device.type == "cuda",
                      generator=torch.Generator().manual_seed(tc.seed + epoch))


def compute_loss(parts: RecognizerParts, batch: dict[str, Any], criterion: JointCTCAttentionLoss,
                 device: torch.device, tc: TrainSettings, teacher: nn.Module | None = None,
                 forward: nn.Module | None = None) -> dict[str, torch.Tensor]:
    """Forward ``batch`` (bf16 autocast if :func:`trains_bf16`) and its loss terms.

    Args:
        forward: what runs the model (its ``DistributedDataParallel`` wrapper); default
            ``parts.model``.

    Returns:
        the criterion's terms (``ctc``, ``ce``, ``region`` as the model has them), with a
        teacher also ``distill``; ``loss`` is their weighted sum.
    """
    model = forward if forward is not None else parts.model
    bf16 = trains_bf16(tc, device)
    attn_targets = parts.tokenizer.encode_attention(batch["texts"], parts.max_length)
    images = batch["images"].to(device, non_blocking=True)
    if uses_channels_last(tc, device):
        images = images.contiguous(memory_format=torch.channels_last)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        outputs = model(images, batch["widths"].to(device),
                        attn_targets[:, :-1].to(device)
                        if getattr(parts.model, "has_decoder", False) else None)
    terms = criterion(outputs, batch["texts"], attn_targets, batch["regions"],
                      batch.get("case_folded"))
    if teacher is not None:
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            taught = teacher(images, batch["widths"].to(device))["ctc_logits"]
        terms["distill"] = ctc_distillation(outputs["ctc_logits"], taught, outputs["mask"],
                                            tc.distill_temperature)
        terms["loss"] = terms["loss"] + tc.distill_weight * terms["distill"]
    return terms


def train_one_step(parts: RecognizerParts, batch: dict[str, Any],
                   criterion: JointCTCAttentionLoss, optimizer: torch.optim.Optimizer,
                   device: torch.device, tc: TrainSettings,
                   teacher: nn.Module | None = None, forward: nn.Module | None = None) -> float:
    """One optimizer step on ``batch`` (gradients clipped to ``tc.grad_clip``); its loss.

    ``forward`` (a ``DistributedDataParallel`` wrapper of ``parts.model``) averages the
    gradients over the processes in ``backward``, so each takes the same step.
    """
    terms = compute_loss(parts, batch, criterion, device, tc, teacher, forward)
    optimizer.zero_grad(set_to_none=True)
    terms["loss"].backward()
    torch.nn.utils.clip_grad_norm_(parts.model.parameters(), tc.grad_clip)
    optimizer.step()
    return float(terms["loss"].detach())


def evaluate(parts: RecognizerParts, samples: list[TextSample], rc: RecognizerConfig,
             device: torch.device) -> RecognitionMetrics | None:
    """Read ``samples`` as inference would (``rc.width_step`` padding too; fp32 weights
    kept); ``None`` without samples. Leaves train mode."""
    if not samples:
        return None
    predictor = RecognitionPredictor(parts.model, parts.tokenizer, parts.preprocess, rc.merge,
                                     rc.batch_size, device, rc.num_candidates, parts.regions,
                                     width_step=rc.width_step)
    metrics = evaluate_recognizer(predictor, samples).metrics
    parts.model.train()
    return metrics


def evaluate_and_save(cfg: RecognizerTrainConfig, parts: RecognizerParts, state: TrainState,
                      optimizer: torch.optim.Optimizer,
                      scheduler: torch.optim.lr_scheduler.LRScheduler,
                      val_samples: list[TextSample],
                      device: torch.device,
                      env: DistributedEnv | None = None) -> RecognitionMetrics | None:
    """Validate, write ``best.pt`` on a new lowest CER, and always ``last.pt``.

    With several processes (``env``) every one must call it: their RNG states are gathered
    into ``last.pt``, rank 0 validates and writes, and all wait until the files are written
    (the others return ``None``).
    """
    env = env or DistributedEnv()
    if not env.enabled:
        metrics = evaluate(parts, val_samples, cfg.recognizer, device)
        _save_checkpoints(cfg, parts, state, optimizer, scheduler, metrics)
        return metrics
    metrics = evaluate(parts, val_samples, cfg.recognizer, device) if env.is_main else None
    rng_per_process = gather_objects(_portable_rng())
    if env.is_main:
        _save_checkpoints(cfg, parts, state, optimizer, scheduler, metrics, rng_per_process)
    barrier()  # nobody reads last.pt (or stops) before it is complete
    return metrics


def _save_checkpoints(cfg: RecognizerTrainConfig, parts: RecognizerParts, state: TrainState,
                      optimizer: torch.optim.Optimizer,
                      scheduler: torch.optim.lr_scheduler.LRScheduler,
                      metrics: RecognitionMetrics | None,
                      rng_per_process: list[dict[str, Any]] | None = None) -> None:
    """``best.pt`` on a new lowest CER, and ``last.pt``."""
    if metrics is not None:
        if state.best_cer is None or metrics.cer < state.best_cer:
            state.best_cer = metrics.cer
            save_atomic(training_checkpoint(cfg, parts, state), cfg.run_dir / "best.pt")
        log.info("step %d: val CER %.4f WER %.4f acc %.4f (best CER %.4f)", state.step,
                 metrics.cer, metrics.wer, metrics.accuracy, state.best_cer)
    save_atomic(training_checkpoint(cfg, parts, state, optimizer, scheduler, rng_per_process),
                cfg.run_dir / "last.pt")


def should_evaluate(state: TrainState, tc: TrainSettings) -> bool:
    """Every ``eval_every`` steps, or at the end of each epoch when it is unset."""
    return (state.step % tc.eval_every == 0) if tc.eval_every else state.batch_in_epoch == 0


# --- the loop ---------------------------------------------------------------------------


@dataclass
class TrainingRun:
    """What the loop steps: the model and its optimisation, the data, the logs."""

    cfg: RecognizerTrainConfig
    parts: RecognizerParts
    data: TrainData
    dataset: CropDataset
    schedule: Schedule
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    criterion: JointCTCAttentionLoss
    device: torch.device
    logger: RunLogger | NullRunLogger
    teacher: nn.Module | None = None
    forward: nn.Module | None = None  # the DistributedDataParallel wrapper of parts.model
    env: DistributedEnv = field(default_factory=DistributedEnv)


@dataclass
class Progress:
    """What one call of :func:`train` has done: losses, steps, last scores, when to stop."""

    started: float  # time.monotonic() when the loop began
    stop_after_steps: int | None = None
    bar: tqdm | None = None
    losses: list[float] = field(default_factory=list)
    recent: list[float] = field(default_factory=list)  # losses since the last evaluation
    metrics: RecognitionMetrics | None = None
    steps: int = 0

    def elapsed(self) -> float:
        """Seconds since the loop began."""
        return time.monotonic() - self.started


def prepare_run(cfg: RecognizerTrainConfig, resume: bool = False
                ) -> tuple[TrainingRun, TrainState]:
    """Seed, read the data, build model, optimizer, scheduler, loss (and teacher), then load
    ``last.pt`` (``resume``) or the fine-tune's start file, and open the logs.

    Under torchrun it first joins the process group (:func:`~core.distributed.
    init_distributed`), and wraps the model in ``DistributedDataParallel``; only rank 0 opens
    the logs.

    Raises:
        core.checksums.ChecksumMismatch: the start file is not the one ``init_sha256`` pins.
        FileNotFoundError: ``resume`` without a ``last.pt``.
        ValueError: no training data, or a start file / teacher that does not fit.
    """
    tc = cfg.train
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(tc.seed)
    device = select_device(tc.device)
    env = init_distributed(device)
    device = process_device(device, env)
    tokenizer = Tokenizer(cfg.recognizer.charset)
    data = build_data(cfg, tokenizer.charset)
    parts = build_model(cfg, tokenizer, data.regions, device)
    augmenter = Augmenter(cfg.augment) if cfg.augment.enabled else None
    dataset = CropDataset(data.train_samples, parts.preprocess, augmenter, data.regions)
    schedule = plan_schedule(tc, cfg.data.samples_per_epoch or len(dataset), env.world_size)
    optimizer = build_optimizer(parts.model, tc)
    scheduler = build_scheduler(optimizer, schedule, tc)
    criterion = JointCTCAttentionLoss(tokenizer, tc.ctc_weight, tc.ce_weight, tc.region_weight)
    teacher = None if tc.teacher is None else load_teacher(
        resolve_path(tc.teacher), parts, device, uses_channels_last(tc, device))
    state = TrainState()
    if env.enabled and not resume:
        # Weights start equal everywhere (same seed; DDP copies rank 0's anyway); dropout
        # and the like draw differently in each process from here on.
        seed_everything(tc.seed + 1_000 * env.rank)
    if resume:
        state = resume_from(cfg.run_dir / "last.pt", parts, optimizer, scheduler, device, env)
    elif cfg.recognizer.weights is not None:
        start_from_weights(cfg, parts, device)
    logger = RunLogger(cfg, state.step, append=resume) if env.is_main else NullRunLogger()
    run = TrainingRun(cfg, parts, data, dataset, schedule, optimizer, scheduler, criterion,
                      device, logger, teacher, wrap_model(parts.model, device), env)
    return run, state


def train_one_epoch(run: TrainingRun, state: TrainState, progress: Progress) -> bool:
    """Step through the rest of epoch ``state.epoch``; evaluate and save when due.

    Args:
        run: what to train (:func:`prepare_run`).
        state: where the run stands; advanced step by step.
        progress: this call's losses and step count, and its stop rule.
    Returns:
        ``True`` when the run must stop: the schedule is done, ``train.max_time_s`` is spent,
        or ``progress.stop_after_steps`` steps were taken; ``last.pt`` is then written.
    """
    tc, env = run.cfg.train, run.env
    for batch in epoch_loader(run.dataset, run.data, run.cfg, run.schedule, state.epoch,
                              state.batch_in_epoch, run.device, env):
        # Processes step together: a batch that lost all its samples skips the step for all.
        if all_agree(batch is not None) if env.enabled else batch is not None:
            progress.losses.append(train_one_step(run.parts, batch, run.criterion,
                                                  run.optimizer, run.device, tc, run.teacher,
                                                  run.forward))
            progress.recent.append(progress.losses[-1])
        run.scheduler.step()
        state.advance(run.schedule.steps_per_epoch)
        progress.steps += 1
        if progress.bar is not None:
            progress.bar.update(1)
        if progress.recent and state.step % tc.log_every == 0:
            run.logger.train(state.step, _mean_loss(progress.recent, env),
                             run.scheduler.get_last_lr()[0], progress.bar)
        out_of_time = tc.max_time_s is not None and progress.elapsed() >= tc.max_time_s
        if env.enabled and tc.max_time_s is not None:  # one process out of time stops all
            out_of_time = any_process(out_of_time)
        stop = (state.step >= run.schedule.total_steps or out_of_time
                or (progress.stop_after_steps is not None
                    and progress.steps >= progress.stop_after_steps))
        if should_evaluate(state, tc) or stop:
            progress.metrics = evaluate_and_save(run.cfg, run.parts, state, run.optimizer,
                                                 run.scheduler, run.data.val_samples, run.device,
                                                 env)
            recent = [_mean_loss(progress.recent, env)] if progress.recent else []
            run.logger.evaluation(state, run.scheduler.get_last_lr()[0], recent,
                                  progress.metrics, progress.elapsed())
            progress.recent = []
        if stop:
            if out_of_time:
                log.info("time budget of %.0f s reached at step %d", tc.max_time_s, state.step)
            return True
    return False


def _mean_loss(losses: list[float], env: DistributedEnv) -> float:
    """Mean of this process's recent losses, averaged over the processes."""
    mean = sum(losses) / len(losses)
    return mean_over_processes(mean) if env.enabled else mean


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
        a :class:`TrainResult` (with several processes, ``losses`` are this process's).

    Under torchrun (:mod:`core.distributed`) every process calls it; a process group it
    joined itself is left at the end.
    """
    joined_before = torch.distributed.is_available() and torch.distributed.is_initialized()
    try:
        return _train(cfg, resume, progress, stop_after_steps)
    finally:
        if not joined_before:
            cleanup_distributed()


def _train(cfg: RecognizerTrainConfig, resume: bool, progress: bool,
           stop_after_steps: int | None) -> TrainResult:
    run, state = prepare_run(cfg, resume)
    schedule, last_path, best_path = run.schedule, cfg.run_dir / "last.pt", cfg.run_dir / "best.pt"
    log.info("training %s: %d train / %d val samples, %d steps (%d per epoch, %d warm-up) "
             "on %s in %s", run.parts.arch, len(run.dataset), len(run.data.val_samples),
             schedule.total_steps, schedule.steps_per_epoch, schedule.warmup, run.device,
             "bf16" if trains_bf16(cfg.train, run.device) else "fp32")
    done = Progress(time.monotonic(), stop_after_steps,
                    tqdm(total=schedule.total_steps, initial=state.step, desc="train",
                         disable=not progress or not run.env.is_main))
    stop = state.step >= schedule.total_steps
    run.parts.model.train()
    while not stop and state.epoch < cfg.train.epochs:
        stop = train_one_epoch(run, state, done)
    done.bar.close()
    no_last = not last_path.is_file()
    if all_agree(no_last) if run.env.enabled else no_last:
        final = evaluate_and_save(cfg, run.parts, state, run.optimizer, run.scheduler,
                                  run.data.val_samples, run.device, run.env)
        run.logger.evaluation(state, run.scheduler.get_last_lr()[0], [], final, done.elapsed())
    run.logger.close()
    return TrainResult(cfg.run_dir, last_path, best_path if best_path.is_file() else None,
                       state.step, state.epoch, state.best_cer, done.losses, done.metrics)


# --- logging ----------------------------------------------------------------------------


class RunLogger:
    """A run's logs: ``metrics.csv`` (a row per evaluation), TensorBoard, wandb if asked."""

    def __init__(self, cfg: RecognizerTrainConfig, step: int, append: bool = False):
        """Open the logs; ``append`` (a resumed run) keeps an existing ``metrics.csv``."""
        self.tb = _tensorboard(cfg.run_dir / "tensorboard", step)
        self.wandb = _wandb(cfg) if cfg.train.wandb else None
        csv_path = cfg.run_dir / "metrics.csv"
        new_csv = not csv_path.is_file() or not append
        self._file = csv_path.open("w" if new_csv else "a", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=CSV_FIELDS)
        if new_csv:
            self._writer.writeheader()

    def train(self, step: int, mean_loss: float, lr: float, bar: tqdm | None = None) -> None:
        """The mean training loss of the last steps and the learning rate."""
        if bar is not None:
            bar.set_postfix(loss=f"{mean_loss:.3f}", lr=f"{lr:.2e}")
        self.tb.add_scalar("train/loss", mean_loss, step)
        self.tb.add_scalar("train/lr", lr, step)
        if self.wandb is not None:
            self.wandb.log({"train/loss": mean_loss}, step=step)

    def evaluation(self, state: TrainState, lr: float, recent_losses: list[float],
                   metrics: RecognitionMetrics | None, elapsed_s: float) -> None:
        """A CSV row (mean of ``recent_losses``, validation scores) and the scores' scalars."""
        train_loss = sum(recent_losses) / len(recent_losses) if recent_losses else None
        self._writer.writerow({
            "step": state.step, "epoch": state.epoch, "lr": lr, "train_loss": train_loss,
            "val_cer": metrics and metrics.cer, "val_wer": metrics and metrics.wer,
            "val_accuracy": metrics and metrics.accuracy, "elapsed_s": round(elapsed_s, 1)})
        self._file.flush()
        if metrics is not None:
            for k in ("cer", "wer", "accuracy"):
                self.tb.add_scalar(f"val/{k}", getattr(metrics, k), state.step)
            if self.wandb is not None:
                self.wandb.log({f"val/{k}": v for k, v in metrics.export().items()},
                               step=state.step)

    def close(self) -> None:
        """Close the CSV and TensorBoard files and finish the wandb run."""
        self._file.close()
        self.tb.close()
        if self.wandb is not None:
            self.wandb.finish()


class NullRunLogger:
    """What processes other than rank 0 log to: nothing."""

    def train(self, *args: Any, **kwargs: Any) -> None:
        pass

    def evaluation(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


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

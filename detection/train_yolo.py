"""YOLO training: COCO (NTO layout) -> YOLO dataset in the run dir -> ultralytics' trainer.

The trainer itself is ultralytics'; this module only prepares its inputs, maps our config
onto its arguments, keeps it offline, and exports the best weights in our checkpoint format.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import torch

from core.checksums import verify_sha256
from core.device import select_device
from core.errors import MissingWeightsError
from core.offline import setup_ultralytics
from core.paths import resolve_path
from detection.config import DetectorTrainConfig
from detection.data_split import load_splits
from detection.yolo import (
    load_ultralytics_checkpoint_trusted,
    load_yolo_weights,
    save_yolo_checkpoint,
)
from detection.yolo_dataset import write_dataset_yaml, write_yolo_split

log = logging.getLogger(__name__)

ULTRALYTICS_NAME = "ultralytics"  # sub-folder of the run dir that ultralytics writes into
EXPORT_NAME = "best_detector.pt"


def prepare_yolo_dataset(cfg: DetectorTrainConfig, run_dir: Path) -> Path:
    """Convert the configured COCO data into ``run_dir/dataset`` and return its YAML.

    Raises:
        ValueError: when a split ends up with no images.
    """
    classes = cfg.model.classes
    train, val = load_splits(cfg)
    out = run_dir / "dataset"
    n_train = write_yolo_split(train.images, train.images_dir, out, "train", classes)
    n_val = write_yolo_split(val.images, val.images_dir, out, "val", classes)
    if n_train == 0 or n_val == 0:
        raise ValueError(f"{cfg.data.train.annotations}: empty split (train {n_train}, val {n_val} "
                         "images found); check data.*.images and data.val_fraction")
    log.info("YOLO dataset in %s: %d train, %d val images", out, n_train, n_val)
    return write_dataset_yaml(out, classes)


def ultralytics_device(device: torch.device) -> str:
    """ultralytics' device string (``cpu`` / ``0``) for a torch device."""
    return "cpu" if device.type == "cpu" else str(device.index or 0)


def yolo_devices(name: str) -> tuple[torch.device, str]:
    """The device a config's ``device`` names, and ultralytics' ``device`` argument for it.

    Several GPUs (``0,1`` or ``cuda:0,cuda:1``) are passed through as ``0,1``: ultralytics
    then trains in DistributedDataParallel itself, one process per GPU (README "Distributed
    training"); the first is the device returned.

    Raises:
        ValueError: an unknown device, or a GPU this machine does not have.
    """
    parts = [p.strip() for p in str(name).split(",") if p.strip()]
    if len(parts) <= 1:
        device = select_device(name)
        return device, ultralytics_device(device)
    devices = [select_device(p if p.lower().startswith("cuda") else f"cuda:{p}")
               for p in parts]
    if any(d.type != "cuda" for d in devices):
        raise ValueError(f"device {name!r}: a list names GPUs only, e.g. 0,1")
    indices = [d.index or 0 for d in devices]
    if len(set(indices)) != len(indices):
        raise ValueError(f"device {name!r} names a GPU twice")
    return devices[0], ",".join(map(str, indices))


def train_yolo(cfg: DetectorTrainConfig, resume: bool = False) -> Path:
    """Train (or resume) a YOLO detector and export its best weights.

    Args:
        cfg: training config (``model.backend == "yolo"``).
        resume: continue from ``<out_dir>/ultralytics/train/weights/last.pt``.

    Returns:
        The exported checkpoint (``<out_dir>/best_detector.pt``; also copied to
        ``cfg.export`` when set), loadable by :func:`detection.factory.build_detector`.
    """
    setup_ultralytics()
    from ultralytics import YOLO

    run_dir = Path(cfg.out_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    device, devices = yolo_devices(cfg.device)
    train_dir = run_dir / ULTRALYTICS_NAME / "train"
    _keep_amp_check_offline(cfg.train.amp and device.type == "cuda")
    if resume:
        last = train_dir / "weights" / "last.pt"
        if not last.is_file():
            raise FileNotFoundError(f"--resume: no {last}; start the run without --resume")
        YOLO(str(last)).train(resume=True, **_resume_args(cfg))
    else:
        initial = _initial_model(cfg, run_dir)  # fails on a missing file before data prep
        data_yaml = prepare_yolo_dataset(cfg, run_dir)
        model = YOLO(initial)
        model.train(**_train_args(cfg, data_yaml, run_dir, device, devices))
    best = train_dir / "weights" / "best.pt"
    if not best.is_file():
        best = train_dir / "weights" / "last.pt"
    # The one trusted unpickling: the checkpoint this run's own trainer just wrote. What
    # leaves the run is our weights-only format.
    net, _, _ = load_ultralytics_checkpoint_trusted(best)
    exported = save_yolo_checkpoint(net, cfg.model.classes, run_dir / EXPORT_NAME,
                                    extra={"imgsz": cfg.model.imgsz, "model": cfg.model.model})
    if cfg.export is not None:
        target = Path(cfg.export)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(exported, target)
        log.info("exported detector weights to %s", target)
    return exported


def _initial_model(cfg: DetectorTrainConfig, run_dir: Path) -> str:
    """What ultralytics starts from: the model YAML (``model.weights: null``, from scratch),
    or a fine-tune's start file, which must exist (a typo must not silently train from
    scratch).

    Raises:
        MissingWeightsError: ``model.weights`` names a file that does not exist.
    """
    if cfg.model.weights is None:
        log.info("model.weights is null: training %s from scratch", cfg.model.model)
        return cfg.model.model
    weights = resolve_path(cfg.model.weights)
    if not weights.is_file():
        raise MissingWeightsError("model.weights", weights,
                                  instead="or set model.weights: null to train from scratch")
    verify_sha256(weights, cfg.init_sha256, "model.weights")
    # Hand ultralytics a checkpoint of its own kind, so its trainer transfers the matching
    # layers as it does for any .pt. The file was read safely (weights_only) and is written
    # here by us; ultralytics' own loader unpickles it.
    net, _ = load_yolo_weights(weights)
    init = run_dir / "init_weights.pt"
    torch.save({"model": net, "train_args": {}}, init)
    return str(init)


def _train_args(cfg: DetectorTrainConfig, data_yaml: Path, run_dir: Path,
                device: torch.device, devices: str | None = None) -> dict[str, Any]:
    t = cfg.train
    args: dict[str, Any] = {
        "data": str(data_yaml), "imgsz": cfg.model.imgsz, "epochs": t.epochs, "batch": t.batch,
        "optimizer": t.optimizer, "lr0": t.lr0, "weight_decay": t.weight_decay,
        "warmup_epochs": t.warmup_epochs, "workers": t.workers, "patience": t.patience,
        "seed": t.seed, "amp": bool(t.amp and device.type == "cuda"),
        "device": devices or ultralytics_device(device), "plots": False, "project": str(run_dir /
                                                                               ULTRALYTICS_NAME),
        "name": "train", "exist_ok": True, "verbose": False,
        # ultralytics drops the weights of a .pt model when pretrained is False: keep them
        # when the run starts from model.weights (nothing is downloaded either way).
        "pretrained": cfg.model.weights is not None,
        "max_det": cfg.model.max_det,
    }
    args.update(t.ultralytics)
    return args


# What ultralytics lets a resumed run change (its check_resume); every other argument comes
# back from the checkpoint as the run began.
RESUME_KEYS = ("time", "patience", "workers", "batch", "close_mosaic", "save_period")


def _resume_args(cfg: DetectorTrainConfig) -> dict[str, Any]:
    """The config's current values of the arguments a resumed run may change: a longer
    ``train.ultralytics.time`` in the config gives the resumed run a new budget (ultralytics
    counts it from the resume and fits the remaining epochs' schedule into it)."""
    t = cfg.train
    args: dict[str, Any] = {"patience": t.patience, "workers": t.workers, "batch": t.batch}
    args.update({k: v for k, v in t.ultralytics.items() if k in RESUME_KEYS})
    return args


def _keep_amp_check_offline(amp_on_cuda: bool) -> None:
    # ultralytics' AMP check downloads yolo26n.pt on CUDA. Our runs are offline: with amp
    # asked for we trust it (mixed precision is standard for YOLO on CUDA) instead.
    if not amp_on_cuda:
        return
    import ultralytics.engine.trainer as trainer_module

    trainer_module.check_amp = lambda model: True

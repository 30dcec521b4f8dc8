"""The training and validation image sets of a detector training config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from detection.coco import CocoImage, load_coco
from detection.config import DetectorTrainConfig
from detection.split import stratified_split
from pipeline.paths import resolve_path


@dataclass(frozen=True)
class SplitSet:
    """Images of one split and the folder their ``file_name`` entries are relative to."""

    images: list[CocoImage]
    images_dir: Path


def load_splits(cfg: DetectorTrainConfig) -> tuple[SplitSet, SplitSet]:
    """``(train, val)``: ``data.val`` when given, else a stratified hold-out of ``train``."""
    train_src = cfg.data.train
    train_dir = resolve_path(train_src.images_dir)
    train_images = load_coco(resolve_path(train_src.annotations))
    if cfg.data.val is not None:
        val = SplitSet(load_coco(resolve_path(cfg.data.val.annotations)),
                       resolve_path(cfg.data.val.images_dir))
        return SplitSet(train_images, train_dir), val
    train_images, val_images = stratified_split(train_images, cfg.data.val_fraction,
                                                cfg.data.stratify_keys, cfg.train.seed)
    return SplitSet(train_images, train_dir), SplitSet(val_images, train_dir)

"""The training and validation image sets of a detector training config."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from core.paths import resolve_path
from detection.coco import CocoImage, load_coco
from detection.config import CocoSource, DetectorTrainConfig
from detection.split import stratified_split


@dataclass(frozen=True)
class SplitSet:
    """Images of one split and the folder their ``file_name`` entries are relative to."""

    images: list[CocoImage]
    images_dir: Path


def load_splits(cfg: DetectorTrainConfig) -> tuple[SplitSet, SplitSet]:
    """``(train, val)``: ``data.val`` when given, else a stratified hold-out of ``train``."""
    train_images, train_dir = _load_train(cfg.data.train)
    if cfg.data.val is not None:
        val = SplitSet(_load_source(cfg.data.val), resolve_path(cfg.data.val.images_dir))
        return SplitSet(train_images, train_dir), val
    train_images, val_images = stratified_split(train_images, cfg.data.val_fraction,
                                                cfg.data.stratify_keys, cfg.train.seed)
    return SplitSet(train_images, train_dir), SplitSet(val_images, train_dir)


def _load_train(sources: CocoSource | list[CocoSource]) -> tuple[list[CocoImage], Path]:
    """One source as it is; several merged, with ids renumbered and file names absolute."""
    if isinstance(sources, CocoSource):
        return _load_source(sources), resolve_path(sources.images_dir)
    images: list[CocoImage] = []
    for src in sources:
        base = resolve_path(src.images_dir)
        for image in _load_source(src):
            images.append(replace(image, id=len(images) + 1,
                                  file_name=str((base / image.file_name).resolve())))
    return images, Path("/")


def _load_source(src: CocoSource) -> list[CocoImage]:
    """The images of one source, categories renamed as ``src.rename`` says."""
    images = load_coco(resolve_path(src.annotations))
    if not src.rename:
        return images
    return [replace(image, objects=[replace(o, label=src.rename.get(o.label, o.label))
                                    for o in image.objects]) for image in images]

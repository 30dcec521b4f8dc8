"""Torch side of the training data: the crop dataset, batching, epoch order, validation split.

Each item key is ``(sample index, augment seed or -1)``: the sampler decides per sample whether
it is augmented and with which seed, so a run is reproducible and resumable exactly, with any
number of workers.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from core.paths import resolve_path
from recognition.augment import Augmenter
from recognition.config import DatasetConfig, RecognizerTrainConfig
from recognition.datasets import TextSample, UnreadableImage, load_sample, read_dataset
from recognition.preprocess import PreprocessConfig, normalize, prepare_image

log = logging.getLogger(__name__)


class CropDataset(Dataset):
    """Samples → preprocessed ``uint8`` crops; an unreadable image yields ``None`` (skipped)."""

    def __init__(self, samples: Sequence[TextSample], preprocess: PreprocessConfig,
                 augmenter: Augmenter | None = None, regions: Sequence[str] = ()):
        self.samples = list(samples)
        self.preprocess, self.augmenter = preprocess, augmenter
        self.region_index = {r: i for i, r in enumerate(regions)}
        self._reported: set[str] = set()

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any] | None:
        index, aug_seed = key if isinstance(key, tuple) else (key, -1)
        sample = self.samples[index]
        try:
            image = load_sample(sample)
        except UnreadableImage as exc:
            if str(sample.path) not in self._reported:
                self._reported.add(str(sample.path))
                log.warning("skipping sample: %s", exc)
            return None
        if self.augmenter is not None and aug_seed >= 0:
            image = self.augmenter(image, aug_seed)
        array, width = prepare_image(image, self.preprocess)
        return {"image": array, "width": width, "text": sample.text,
                "region": self.region_index.get(sample.region, -1) if sample.region else -1,
                "case_folded": sample.case_folded}


def collate(items: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Stack items, dropping skipped (``None``) ones; ``None`` if nothing is left."""
    items = [it for it in items if it is not None]
    if not items:
        return None
    return {"images": normalize(np.stack([it["image"] for it in items])),
            "widths": torch.tensor([it["width"] for it in items], dtype=torch.long),
            "texts": [it["text"] for it in items],
            "regions": torch.tensor([it["region"] for it in items], dtype=torch.long),
            "case_folded": torch.tensor([it.get("case_folded", False) for it in items],
                                        dtype=torch.bool)}


def epoch_order(sizes: Sequence[int], weights: Sequence[float], samples_per_epoch: int | None,
                seed: int, epoch: int) -> list[int]:
    """Indices (into the concatenated datasets) for one epoch.

    One dataset without ``samples_per_epoch``: a permutation. Otherwise draws with
    replacement, dataset ``d`` getting ``weights[d]`` share of the draws.
    """
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    total = sum(sizes)
    if len(sizes) == 1 and samples_per_epoch is None:
        return torch.randperm(total, generator=g).tolist()
    probs = torch.cat([torch.full((n,), w / n, dtype=torch.float64)
                       for n, w in zip(sizes, weights, strict=True) if n])
    count = samples_per_epoch or total
    return torch.multinomial(probs, count, replacement=True, generator=g).tolist()


def augment_seed(seed: int, epoch: int, position: int) -> int:
    """Per-sample augmentation seed (a pure function of its arguments)."""
    return int(np.random.SeedSequence([seed, epoch, position]).generate_state(1)[0])


def epoch_keys(order: Sequence[int], seed: int, epoch: int, first_step: int, batch_size: int,
               warmup: int, augment: bool) -> list[tuple[int, int]]:
    """``(index, augment seed or -1)`` for each position of one epoch's ``order``.

    Args:
        order: sample indices of the epoch (:func:`epoch_order`).
        seed: the run's seed.
        epoch: the epoch number.
        first_step: global step of the epoch's first batch.
        batch_size: samples per batch.
        warmup: warm-up steps; samples of batches before it are never augmented.
        augment: whether the run augments at all.
    Returns:
        one key per position, for :class:`CropDataset`.
    """
    return [(idx, augment_seed(seed, epoch, pos)
             if augment and first_step + pos // batch_size >= warmup else -1)
            for pos, idx in enumerate(order)]


class KeySampler(torch.utils.data.Sampler):
    """Yields precomputed ``(index, augment seed)`` keys (the rest of an epoch, in order)."""

    def __init__(self, keys: Sequence[tuple[int, int]]):
        self.keys = list(keys)

    def __iter__(self):
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)


def split_by_length(samples: Sequence[TextSample], fraction: float, max_count: int,
                    seed: int) -> tuple[list[TextSample], list[TextSample]]:
    """Hold out ``fraction`` (at most ``max_count``) of samples, stratified by text length.

    Samples are sorted by length (random order within a length) and every k-th one is taken,
    so each length is represented in proportion.
    """
    n = len(samples)
    m = min(max_count, math.floor(n * fraction + 0.5))
    if m == 0 or n < 2:
        return list(samples), []
    rng = random.Random(seed)
    keyed = sorted(range(n), key=lambda i: (len(samples[i].text), rng.random()))
    picked = {keyed[min(n - 1, int((j + 0.5) * n / m))] for j in range(m)}
    train = [s for i, s in enumerate(samples) if i not in picked]
    val = [s for i, s in enumerate(samples) if i in picked]
    return train, val


def read_datasets(specs: Sequence[DatasetConfig], charset: str) -> list[list[TextSample]]:
    """Read each dataset of ``specs``, keeping the samples its ``text_pattern`` matches (then
    its ``limit``) and dropping those longer than its ``max_chars``."""
    parts = []
    for spec in specs:
        samples = read_dataset(resolve_path(spec.path), spec.kind, charset, spec.phase,
                               spec.region_field, spec.categories,
                               None if spec.text_pattern else spec.limit)
        if spec.text_pattern:
            pattern = re.compile(spec.text_pattern)
            samples = [s for s in samples if pattern.fullmatch(s.text)][: spec.limit]
            log.info("%s: %d samples match %r", spec.path, len(samples), spec.text_pattern)
        if spec.case_folded:
            samples = [replace(s, text=s.text.upper(), case_folded=True) for s in samples]
        if spec.max_chars is not None:
            kept = [s for s in samples if len(s.text) <= spec.max_chars]
            if len(kept) < len(samples):
                log.info("%s: dropped %d samples longer than %d characters", spec.path,
                         len(samples) - len(kept), spec.max_chars)
            samples = kept
        parts.append(samples)
    return parts


@dataclass(frozen=True)
class TrainData:
    """A run's samples: training sets (one list per ``data.train`` entry) and validation."""

    train_sets: list[list[TextSample]]
    val_samples: list[TextSample]
    regions: list[str]

    @property
    def train_samples(self) -> list[TextSample]:
        """All training samples, the sets concatenated in config order."""
        return [s for part in self.train_sets for s in part]

    @property
    def sizes(self) -> list[int]:
        """Samples per training set (for :func:`epoch_order`)."""
        return [len(part) for part in self.train_sets]


def build_data(cfg: RecognizerTrainConfig, charset: str) -> TrainData:
    """Read ``cfg.data``; without ``data.val``, hold out a length-stratified share of each set.

    Args:
        cfg: the run's config (``data``, ``train.seed``, ``region_head``).
        charset: the tokenizer's characters (samples with others are dropped by the reader).
    Returns:
        the :class:`TrainData`; ``regions`` are the sorted region names of the training
        samples when ``cfg.region_head`` is set, else empty.
    Raises:
        ValueError: no training sample is left.
    """
    train_sets = read_datasets(cfg.data.train, charset)
    if cfg.data.val:
        val_samples = [s for part in read_datasets(cfg.data.val, charset) for s in part]
    else:
        share = cfg.data.val_max // max(1, len(train_sets))
        splits = [split_by_length(part, cfg.data.val_fraction, share, cfg.train.seed)
                  for part in train_sets]
        train_sets = [tr for tr, _ in splits]
        val_samples = [s for _, va in splits for s in va]
    if not any(train_sets):
        raise ValueError("no training samples left after the validation split")
    regions = sorted({s.region for part in train_sets for s in part if s.region}
                     ) if cfg.region_head else []
    return TrainData(train_sets, val_samples, regions)

"""Torch side of the training data: the crop dataset, batching, epoch order, validation split.

Each item key is ``(sample index, augment seed or -1)``: the sampler decides per sample whether
it is augmented and with which seed, so a run is reproducible and resumable exactly, with any
number of workers.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from recognition.augment import Augmenter
from recognition.datasets import TextSample, UnreadableImage, load_sample
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
                "region": self.region_index.get(sample.region, -1) if sample.region else -1}


def collate(items: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Stack items, dropping skipped (``None``) ones; ``None`` if nothing is left."""
    items = [it for it in items if it is not None]
    if not items:
        return None
    return {"images": normalize(np.stack([it["image"] for it in items])),
            "widths": torch.tensor([it["width"] for it in items], dtype=torch.long),
            "texts": [it["text"] for it in items],
            "regions": torch.tensor([it["region"] for it in items], dtype=torch.long)}


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

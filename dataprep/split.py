"""The deterministic train / tune / test rule shared by every prepared set.

A sample's split depends only on its group key: the source path of the image, or the writer,
car or video sequence when the converter can tell them apart, so no writer / car / sequence
ever spans two splits. The rule never changes with the order or number of samples.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "tune", "test")
TRAIN_BELOW = 80  # sha1 % 100 < 80: train
TUNE_BELOW = 90   # 80..89: tune; 90..99: test


def split_of(key: str) -> str:
    """``"train"`` (80 %), ``"tune"`` (10 %) or ``"test"`` (10 %) for a group key."""
    bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 100
    if bucket < TRAIN_BELOW:
        return "train"
    return "tune" if bucket < TUNE_BELOW else "test"

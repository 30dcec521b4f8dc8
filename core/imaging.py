"""Pixel-format helpers shared by the stages that look at image content."""

from __future__ import annotations

import cv2
import numpy as np


def to_gray(image: np.ndarray) -> np.ndarray:
    """RGB, RGBA or gray ``uint8`` → one gray channel ``(H, W)`` (alpha is ignored)."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_RGBA2GRAY if image.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return cv2.cvtColor(np.ascontiguousarray(image), code)


def to_gray3(image: np.ndarray) -> np.ndarray:
    """RGB (or gray) ``uint8`` → gray repeated on 3 channels (ConvNeXt stems expect 3)."""
    return np.repeat(to_gray(image)[:, :, None], 3, axis=2)

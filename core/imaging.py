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


def true_runs(mask: np.ndarray) -> np.ndarray:
    """The runs of ``True`` in a 1-D mask: an ``(n, 2)`` int array of ``[start, end)``, left
    to right."""
    on = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    return np.flatnonzero(on[1:] != on[:-1]).reshape(-1, 2)


MIN_ROW_INK = 0.02  # ink_bands: the busiest row of writing inks at least 2 % of its pixels


def ink_bands(image: np.ndarray, row_share: float) -> list[tuple[int, int, float]]:
    """Horizontal bands of dark ink: ``(top, bottom, share of all ink)`` from top to bottom.

    Ink is what a black-hat (closing minus image) with a square an eighth of the image
    height lifts above its Otsu level: strokes darker than their surround, not a page's edge
    or a polygon crop's white margin. Rows holding at least ``row_share`` of the busiest
    row's ink form bands; none when no row inks :data:`MIN_ROW_INK` of its pixels. Dark
    writing on a light ground (invert light-on-dark first).
    """
    gray = to_gray(image)
    size = max(3, int(round(gray.shape[0] / 8)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    lifted = cv2.morphologyEx(np.ascontiguousarray(gray), cv2.MORPH_BLACKHAT, kernel)
    level, _ = cv2.threshold(lifted, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    rows = (lifted > max(level, 20.0)).mean(axis=1)
    rows = np.convolve(rows, np.ones(3) / 3, mode="same")
    if rows.max() < MIN_ROW_INK:   # specks (JPEG ringing round solid shapes), not writing
        return []
    total = float(rows.sum())
    return [(int(a), int(b), float(rows[a:b].sum()) / total)
            for a, b in true_runs(rows >= row_share * rows.max())]

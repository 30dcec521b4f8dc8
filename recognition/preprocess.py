"""Crop preprocessing shared by training and inference (the only place crops are resized).

Steps: black (masked-out) background → white; tall one-row plates cut to their band of large
characters (``text_band``); two-row plates → one long row; crops narrower than
``min_aspect`` stretched to it; grayscale; SmartResize keeping the aspect ratio into
``width × height`` padded with white; ImageNet normalisation. Every crop ends up the same
size, so a crop's tensor does not depend on the other crops of its batch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import torch

from core.imaging import to_gray, to_gray3

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PreprocessConfig:
    """How crops become model inputs.

    Attributes:
        height: input height in pixels.
        width: input width in pixels (crops are padded with white up to it).
        two_row_aspect: crops with ``w / h`` below this are read as two rows (top, then
            bottom) laid side by side; ``None`` disables it (text).
        min_aspect: a (one-row) crop with ``w / h`` below this is stretched horizontally to
            it before resizing, so that its characters keep enough columns (a 2 : 1 US plate
            crop would otherwise give each character ~8 px at height 32); ``None``: never.
        text_band: a one-row crop narrower than ``min_aspect`` (a US plate: state name above
            the number, slogan below) is first cut to the rows of its large characters
            (:func:`text_band_rows`), so they fill the input height instead of ~40 % of it.
        row_split: a two-row crop is cut between its rows (:func:`row_cut`) instead of at
            half its height, and each row is scaled to half the crop's height before they are
            laid side by side: a CN yellow plate's small top row (province and letter, a third of
            the plate) is otherwise cut through and read as nothing.
    """

    height: int = 96
    width: int = 384
    two_row_aspect: float | None = None
    min_aspect: float | None = None
    text_band: bool = False
    row_split: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        return cls(**data)  # checkpoints older than a field get its default


def text_band_rows(gray: np.ndarray, min_chars: int = 3) -> tuple[int, int] | None:
    """Rows ``(y0, y1)`` of the band of large characters of a plate crop, or ``None``.

    Both polarities are tried (dark ink on a light plate, light on dark): Otsu binarisation,
    connected components, and "characters" are the components 25–90 % of the crop's height
    and at most a third of its width. The tallest characters (within 70 % of the tallest)
    that share the most common row form the band (of the two polarities, the one whose row
    holds the most character height): its 20th-percentile top to its
    80th-percentile bottom, padded by 15 % of its height. ``None`` when fewer than
    ``min_chars`` characters agree (no band: the crop is read as it is).
    """
    h, w = gray.shape[:2]
    if h < 16 or w < 16:
        return None
    best: tuple[float, float, float] | None = None
    for flag in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):
        _, binary = cv2.threshold(gray, 0, 255, flag | cv2.THRESH_OTSU)
        _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        comps = stats[1:]
        keep = ((comps[:, 3] >= 0.25 * h) & (comps[:, 3] <= 0.9 * h)
                & (comps[:, 2] <= w / 3) & (comps[:, 2] >= 0.01 * w))
        comps = comps[keep]
        if len(comps) < min_chars:
            continue
        comps = comps[comps[:, 3] >= 0.7 * comps[:, 3].max()]
        # the row most characters share: each votes for the others whose centre it covers
        centres = comps[:, 1] + comps[:, 3] / 2
        covers = (comps[:, 1, None] <= centres[None, :]) & (
            centres[None, :] <= (comps[:, 1] + comps[:, 3])[:, None])
        anchor = int(np.argmax(covers.sum(axis=1)))
        row = comps[covers[anchor]]
        # the polarity whose row holds the most character height wins: the counters of
        # hollow glyphs (0, 8, D) in the other polarity are shorter than the glyphs
        score = float(row[:, 3].sum())
        if len(row) < min_chars or (best is not None and score <= best[0]):
            continue
        top = float(np.percentile(row[:, 1], 20))
        bottom = float(np.percentile(row[:, 1] + row[:, 3], 80))
        best = (score, top, bottom)
    if best is None:
        return None
    _, top, bottom = best
    pad = 0.15 * (bottom - top)
    y0, y1 = max(0, int(top - pad)), min(h, int(math.ceil(bottom + pad)))
    return (y0, y1) if y1 - y0 >= 8 else None


def cut_text_band(image: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """Cut a tall one-row crop (``w / h`` below ``min_aspect``) to its character band."""
    h, w = image.shape[:2]
    if not cfg.text_band or cfg.min_aspect is None or h < 1 or w / h >= cfg.min_aspect:
        return image
    if cfg.two_row_aspect is not None and w / h < cfg.two_row_aspect:
        return image  # a two-row plate: both rows are read
    rows = text_band_rows(to_gray(image))
    return image if rows is None else image[rows[0]: rows[1]]


def white_background(image: np.ndarray) -> np.ndarray:
    """Turn a pure-black background (what polygon masking leaves) white.

    Only black regions touching a black image corner are filled, so black ink of a binarised
    scan stays black.
    """
    h, w = image.shape[:2]
    corners = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)]
    if not any(not np.any(image[y, x]) for x, y in corners):
        return image  # no black corner: nothing to fill (the common case, checked cheaply)
    black = np.all(image == 0, axis=2) if image.ndim == 3 else image == 0
    fill = black.astype(np.uint8)
    mask = np.zeros((h + 2, w + 2), np.uint8)
    for x, y in corners:
        if fill[y, x] == 1:
            cv2.floodFill(fill, mask, (x, y), 2, flags=4)
    out = image.copy()
    out[fill == 2] = 255
    return out


def row_cut(image: np.ndarray) -> int:
    """The row between the two text rows of a two-row plate crop.

    Text rows are dense in vertical strokes and the gap between them is not: the cut is the
    row with the least horizontal gradient (smoothed over a tenth of the height) between 20 %
    and 65 % of the height (the top row of a two-row plate is the smaller one or as large
    as the bottom one). Crops under 8 rows are cut at half their height.
    """
    h = image.shape[0]
    if h < 8:
        return h // 2
    gray = to_gray(image).astype(np.float32)
    profile = np.abs(np.diff(gray, axis=1)).mean(axis=1)
    k = max(1, h // 10)
    profile = np.convolve(profile, np.ones(k, np.float32) / k, mode="same")
    lo, hi = int(0.2 * h), max(int(0.2 * h) + 1, int(math.ceil(0.65 * h)))
    return lo + int(np.argmin(profile[lo:hi]))


def two_row_split(image: np.ndarray, two_row_aspect: float | None, row_split: bool = False
                  ) -> tuple[int, int] | None:
    """Where a two-row crop's top row ends and its bottom row starts (rows of the crop), or
    ``None`` when the crop is read as one row (``w / h`` at or above ``two_row_aspect``).
    Without ``row_split`` the rows are the crop's top and bottom halves."""
    h, w = image.shape[:2]
    if two_row_aspect is None or h < 2 or w / h >= two_row_aspect:
        return None
    if row_split:
        cut = row_cut(image)
        return cut, cut
    return h // 2, h - h // 2


def join_two_rows(image: np.ndarray, two_row_aspect: float | None, row_split: bool = False
                  ) -> np.ndarray:
    """Lay the bottom row of a tall crop to the right of its top row (top row read first).

    The rows are :func:`two_row_split`'s; each is scaled to half the crop's height (with
    ``row_split`` the smaller row is stretched and the larger one squeezed; both keep the
    crop's width), so the joined image has the same size either way.
    """
    split = two_row_split(image, two_row_aspect, row_split)
    if split is None:
        return image
    h, w = image.shape[:2]
    half = h // 2
    rows = [part if part.shape[0] == half else
            cv2.resize(part, (w, half), interpolation=cv2.INTER_AREA if part.shape[0] > half
                       else cv2.INTER_LINEAR)
            for part in (image[:split[0]], image[split[1]:])]
    return np.concatenate(rows, axis=1)


def stretch_to_aspect(image: np.ndarray, min_aspect: float | None) -> np.ndarray:
    """Widen a crop whose ``w / h`` is below ``min_aspect`` to exactly that aspect."""
    h, w = image.shape[:2]
    if min_aspect is None or h < 1 or w / h >= min_aspect:
        return image
    return cv2.resize(image, (round(h * min_aspect), h), interpolation=cv2.INTER_LINEAR)



def smart_resize(image: np.ndarray, height: int, width: int) -> tuple[np.ndarray, int]:
    """Resize keeping the aspect ratio to fit ``height × width``; pad right/bottom with white.

    Returns:
        the ``(height, width, C)`` image and the width in pixels that holds the crop.
    """
    h, w = image.shape[:2]
    scale = min(height / max(h, 1), width / max(w, 1))
    new_w = min(width, max(1, round(w * scale)))
    new_h = min(height, max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interp)
    if resized.ndim == 2:
        resized = resized[:, :, None]
    out = np.full((height, width, resized.shape[2]), 255, dtype=np.uint8)
    top = (height - new_h) // 2
    out[top: top + new_h, :new_w] = resized
    return out, new_w


def prepare_image(image: np.ndarray, cfg: PreprocessConfig) -> tuple[np.ndarray, int]:
    """Every step but normalisation: ``uint8 (H, W, 3)`` at the model size, and its real width."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 4:
        image = image[:, :, :3]
    if image.shape[0] == 0 or image.shape[1] == 0:
        image = np.full((cfg.height, cfg.height, 3), 255, np.uint8)
    image = white_background(image)
    image = cut_text_band(image, cfg)
    image = join_two_rows(image, cfg.two_row_aspect, cfg.row_split)
    image = stretch_to_aspect(image, cfg.min_aspect)
    image = to_gray3(image)
    return smart_resize(image, cfg.height, cfg.width)


def normalize(images: np.ndarray) -> torch.Tensor:
    """``uint8 (B, H, W, 3)`` → ImageNet-normalised ``float (B, 3, H, W)``."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def preprocess_batch(crops: list[np.ndarray], cfg: PreprocessConfig
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Crops of any sizes → ``(images (B, 3, H, W), widths (B,))`` ready for a model."""
    prepared = [prepare_image(c, cfg) for c in crops]
    images = np.stack([p[0] for p in prepared])
    widths = torch.tensor([p[1] for p in prepared], dtype=torch.long)
    return normalize(images), widths


def valid_columns(widths: torch.Tensor, stride: int, total: int) -> torch.Tensor:
    """Boolean ``(B, total)`` mask of feature columns that cover real pixels."""
    n = torch.clamp((widths + stride - 1) // stride, min=1, max=total)
    return torch.arange(total, device=widths.device)[None, :] < n[:, None]


def columns_for(width: int, stride: int) -> int:
    """How many feature columns an input ``width`` gives at ``stride``."""
    return math.ceil(width / stride)

"""Training augmentations (albumentations 2.x): the NTO winners' set, strengths from config.

Randomness comes only from the per-sample seed passed to :meth:`Augmenter.__call__`, so the
same (seed, epoch, index) gives the same picture in any worker and after ``--resume``.
"""

from __future__ import annotations

from typing import Any

import albumentations as A
import cv2
import numpy as np
from albumentations.core.transforms_interface import ImageOnlyTransform

from recognition.config import AugmentConfig


class ExtraLines(ImageOnlyTransform):
    """Draw a few thin dark lines across the crop (ruled notebook lines, table borders)."""

    def __init__(self, max_lines: int = 2, max_thickness: int = 2, p: float = 0.5):
        super().__init__(p=p)
        self.max_lines, self.max_thickness = max_lines, max_thickness

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]
                                     ) -> dict[str, Any]:
        h, w = params["shape"][:2]
        rng = self.py_random
        lines = []
        for _ in range(rng.randint(1, max(1, self.max_lines))):
            if rng.random() < 0.7:  # mostly horizontal, like ruling
                y0 = rng.randint(0, h - 1)
                y1 = min(h - 1, max(0, y0 + rng.randint(-h // 8 - 1, h // 8 + 1)))
                pts = ((0, y0), (w - 1, y1))
            else:
                x0 = rng.randint(0, w - 1)
                pts = ((x0, 0), (min(w - 1, x0 + rng.randint(-3, 3)), h - 1))
            shade = rng.randint(0, 120)
            lines.append((pts, shade, rng.randint(1, max(1, self.max_thickness))))
        return {"lines": lines}

    def apply(self, img: np.ndarray, lines: list = (), **params: Any) -> np.ndarray:
        out = img.copy()
        for (p0, p1), shade, thick in lines:
            color = (shade,) * (out.shape[2] if out.ndim == 3 else 1)
            cv2.line(out, p0, p1, color, thick)
        return out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("max_lines", "max_thickness")


def build_augment(cfg: AugmentConfig) -> A.Compose:
    """The augmentation pipeline; each transform's probability and strength from ``cfg``."""
    white = (255, 255, 255)
    transforms = [
        ExtraLines(cfg.extra_lines_max, p=cfg.extra_lines_p),
        A.Rotate(limit=cfg.rotate_limit, border_mode=cv2.BORDER_CONSTANT, fill=white,
                 p=cfg.rotate_p),
        A.OneOf([
            A.GridDistortion(distort_limit=cfg.grid_distort_limit,
                             border_mode=cv2.BORDER_CONSTANT, fill=white),
            A.OpticalDistortion(distort_limit=cfg.optical_distort_limit,
                                border_mode=cv2.BORDER_CONSTANT, fill=white),
        ], p=cfg.distort_p),
        A.OneOf([
            A.Blur(blur_limit=(3, cfg.blur_limit)),
            A.MotionBlur(blur_limit=(3, cfg.blur_limit)),
        ], p=cfg.blur_p),
        A.CLAHE(clip_limit=cfg.clahe_clip, p=cfg.clahe_p),
        A.RandomShadow(shadow_roi=(0, 0, 1, 1), num_shadows_limit=(1, 2), p=cfg.shadow_p),
        A.CoarseDropout(num_holes_range=(1, cfg.cutout_holes),
                        hole_height_range=(0.1, cfg.cutout_size),
                        hole_width_range=(0.02, cfg.cutout_size / 3), fill=white,
                        p=cfg.cutout_p),
    ]
    return A.Compose(transforms + _camera_transforms(cfg), seed=0)


def _camera_transforms(cfg: AugmentConfig) -> list[A.BasicTransform]:
    """What a camera and a detector do to a crop: tilt, a loose or tight box, colour, low
    resolution, JPEG. Only the ones switched on are built, so a config without them draws the
    same random numbers as before they existed (exact ``--resume`` of older runs)."""
    out: list[A.BasicTransform] = []
    if cfg.perspective_p > 0:
        out.append(A.Perspective(scale=(0.01, cfg.perspective_scale), fit_output=True,
                                 border_mode=cv2.BORDER_REPLICATE, p=cfg.perspective_p))
    if cfg.crop_jitter_p > 0:
        # each side moves in or out independently: the box a detector draws is never exact
        out.append(A.CropAndPad(percent=(-cfg.crop_jitter, cfg.crop_jitter), keep_size=False,
                                border_mode=cv2.BORDER_REPLICATE, p=cfg.crop_jitter_p))
    if cfg.color_p > 0:
        out.append(A.OneOf([
            A.HueSaturationValue(hue_shift_limit=25, sat_shift_limit=40, val_shift_limit=30),
            A.ChannelShuffle(),
            A.ToGray(),
            A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.4),
        ], p=cfg.color_p))
    if cfg.downscale_p > 0:
        out.append(A.Downscale(scale_range=(cfg.downscale_min, 0.9), p=cfg.downscale_p))
    if cfg.jpeg_p > 0:
        out.append(A.ImageCompression(quality_range=(25, 85), p=cfg.jpeg_p))
    return out


class Augmenter:
    """Seeded wrapper: ``augmenter(image, seed)`` is a pure function of its arguments."""

    def __init__(self, cfg: AugmentConfig):
        self.pipeline = build_augment(cfg)

    def __call__(self, image: np.ndarray, seed: int) -> np.ndarray:
        self.pipeline.set_random_seed(seed)
        return self.pipeline(image=image)["image"]

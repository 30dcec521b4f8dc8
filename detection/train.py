"""Entry point of ``pipeline train detector``: dispatch on the configured backend."""

from __future__ import annotations

from pathlib import Path

from detection.config import DetectorTrainConfig


def train_detector(cfg: DetectorTrainConfig, resume: bool = False) -> Path:
    """Train the configured detector; returns the exported weights file.

    Args:
        cfg: training config.
        resume: continue the run in ``cfg.out_dir``.

    Returns:
        Weights loadable by :func:`detection.factory.build_detector` (``model.weights``).
    """
    if cfg.model.backend == "yolo":
        from detection.train_yolo import train_yolo

        return train_yolo(cfg, resume)
    from detection.train_maskrcnn import train_maskrcnn

    return train_maskrcnn(cfg, resume)

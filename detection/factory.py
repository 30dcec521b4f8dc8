"""Build a :class:`~detection.types.Detector` from a :class:`DetectorConfig`."""

from __future__ import annotations

from core.device import select_device
from detection.config import DetectorConfig
from detection.ink import CleanScanRouter, InkDetector
from detection.types import Detector


def build_detector(cfg: DetectorConfig, device: str = "auto") -> Detector:
    """Build the configured detector.

    Args:
        cfg: backend, architecture, weights, classes and thresholds.
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda[:N]``.

    Returns:
        A detector with ``predict(images)`` and ``.description`` (what was loaded);
        ``backend: ink`` needs no model, and ``clean_scans: ink`` routes clean scans to the
        ink detector (:mod:`detection.ink`) and the rest to the model. Missing
        or absent weights give a randomly initialised model and a WARNING in the log.
    """
    if cfg.backend == "ink":
        return InkDetector()
    torch_device = select_device(device)
    if cfg.backend == "yolo":
        from detection.yolo import build_yolo_detector

        detector = build_yolo_detector(cfg, torch_device)
    else:
        from detection.maskrcnn import build_maskrcnn_detector

        detector = build_maskrcnn_detector(cfg, torch_device)
    return CleanScanRouter(detector) if cfg.clean_scans == "ink" else detector

"""Build a :class:`~detection.types.Detector` from a :class:`DetectorConfig`."""

from __future__ import annotations

from core.device import select_device
from core.weights import required_weights
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
        ink detector (:mod:`detection.ink`) and the rest to the model.

    Raises:
        MissingWeightsError: ``cfg.weights`` is not set or not a file, and ``cfg.untrained``
            does not ask for a randomly initialised model.
        UnsafeWeightsError: the weights file needs unpickling (an ultralytics ``.pt``): the
            message names the ``pipeline convert detector-weights`` command.
    """
    if cfg.backend == "ink":
        return InkDetector()
    weights = required_weights(cfg.weights, cfg.untrained, "detector.weights")
    torch_device = select_device(device)
    if cfg.backend == "yolo":
        from detection.yolo import build_yolo_detector

        detector = build_yolo_detector(cfg, torch_device, weights)
    else:
        from detection.maskrcnn import build_maskrcnn_detector

        detector = build_maskrcnn_detector(cfg, torch_device, weights)
    return CleanScanRouter(detector) if cfg.clean_scans == "ink" else detector

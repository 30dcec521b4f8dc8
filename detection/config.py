"""Typed configs of the detection stage (inference and training)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from pipeline.config import StrictModel


class DetectorConfig(StrictModel):
    """How to build a detector for inference.

    ``model`` is the architecture: an ultralytics model YAML (``yolov8n.yaml``,
    ``yolov5l.yaml``) for ``yolo``, a timm ConvNeXt name for ``maskrcnn``.
    ``weights`` is a checkpoint file; without one the model is randomly initialised.
    """

    backend: Literal["yolo", "maskrcnn"] = "yolo"
    model: str = "yolov8n.yaml"
    weights: Path | None = None
    classes: list[str] = Field(default_factory=lambda: ["word"], min_length=1)
    imgsz: int = Field(640, ge=32, le=4096)
    conf: float = Field(0.25, ge=0.0, le=1.0)
    iou: float = Field(0.5, ge=0.0, le=1.0)
    max_det: int = Field(1000, ge=1)

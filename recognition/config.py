"""Typed configs of the recognition stage (inference and training)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from pipeline.config import StrictModel


class RecognizerConfig(StrictModel):
    """How to build a recognizer for inference.

    ``arch`` is a registered architecture name; ``model`` holds its keyword overrides.
    ``weights`` is a checkpoint file (it carries its own charset); without one the model is
    randomly initialised from ``arch`` / ``model`` / ``charset``.
    """

    arch: Literal["joint_ctc_transformer", "crnn"] = "joint_ctc_transformer"
    model: dict[str, Any] = Field(default_factory=dict)
    weights: Path | None = None
    charset: str = "default"
    height: int = Field(96, ge=8)
    width: int = Field(384, ge=8)
    merge: Literal["ctc_empty", "closest"] = "ctc_empty"
    batch_size: int = Field(32, ge=1)

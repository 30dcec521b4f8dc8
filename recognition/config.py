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
    ``two_row_aspect``: crops with ``w / h`` below it are read as two rows, top row first
    (plates; ``None`` for text). ``num_candidates``: Transformer candidates for ``merge:
    closest``. A checkpoint's own input size and two-row setting win over these fields.
    """

    arch: Literal["joint_ctc_transformer", "crnn"] = "joint_ctc_transformer"
    model: dict[str, Any] = Field(default_factory=dict)
    weights: Path | None = None
    charset: str = "default"
    height: int = Field(96, ge=8)
    width: int = Field(384, ge=8)
    merge: Literal["ctc_empty", "closest"] = "ctc_empty"
    batch_size: int = Field(32, ge=1)
    two_row_aspect: float | None = Field(None, gt=0)
    num_candidates: int = Field(3, ge=1)

"""Typed configs of the recognition stage (inference and training)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from core.config import StrictModel
from core.weights import check_untrained


class RecognizerConfig(StrictModel):
    """How to build a recognizer for inference.

    ``arch`` is a registered architecture name; ``model`` holds its keyword overrides.
    ``ctc_transformer`` (the joint reader without its decoder) also reads a joint reader's
    weights file, its decoder dropped (:mod:`recognition.conversion`).
    ``weights`` is a checkpoint file (it carries its own charset), loaded with
    ``torch.load(weights_only=True)``. For inference it must exist: a missing file, or none
    named, is a :class:`~core.errors.MissingWeightsError`, unless ``untrained: true`` asks
    for a model randomly initialised from ``arch`` / ``model`` / ``charset`` on purpose.
    ``two_row_aspect``: crops with ``w / h`` below it are read as two rows, top row first
    (plates; ``None`` for text). ``min_aspect``: narrower one-row crops are stretched to it
    (plates). ``num_candidates``: Transformer candidates for ``merge: closest``; ``merge:
    ctc`` reads with the CTC head alone (the decoder never runs). A checkpoint's own input
    size and two-row setting win over these fields; ``min_aspect`` and ``text_band`` given here
    override the checkpoint's.
    """

    arch: Literal["joint_ctc_transformer", "ctc_transformer", "crnn"] = "joint_ctc_transformer"
    model: dict[str, Any] = Field(default_factory=dict)
    weights: Path | None = Field(
        None, description="Checkpoint file (loaded with weights_only=True). Inference: "
                          "required unless untrained is true. Training: the file a fine-tune "
                          "starts from (a missing file is an error); null trains from "
                          "scratch.")
    untrained: bool = Field(
        False, description="Inference: build a randomly initialised model on purpose (tests, "
                           "speed benchmarks); weights must then be null. Its output is random "
                           "text and results.json's models entry says UNTRAINED. Without it, "
                           "a null or missing weights file is an error.")
    charset: str = "default"
    height: int = Field(96, ge=8)
    width: int = Field(384, ge=8)
    merge: Literal["ctc_empty", "closest", "ctc"] = "ctc_empty"
    batch_size: int = Field(32, ge=1)
    two_row_aspect: float | None = Field(None, gt=0)
    min_aspect: float | None = Field(None, gt=0)
    text_band: bool | None = Field(
        None, description="Cut one-row crops narrower than min_aspect (US plates) to their "
                          "band of large characters before reading; null: as the checkpoint "
                          "was trained (off for an untrained model).")
    row_split: bool | None = Field(
        None, description="Cut two-row crops between their rows (not at half height) and "
                          "scale both rows to one height before reading; null: as the "
                          "checkpoint was trained (off for an untrained model).")
    num_candidates: int = Field(3, ge=1)
    one_row_below: float | None = Field(
        None, gt=0, le=1, description="Inference, plates: a crop narrow enough to be read as "
                                      "two rows (two_row_aspect) is also read as one row, and "
                                      "that reading is kept when the two-row one scores below "
                                      "this and the one-row one scores higher. A one-row plate "
                                      "seen from the side is as narrow as a two-row one. Off "
                                      "if null.")
    width_step: int | None = Field(
        None, ge=8, description="Inference: pad each crop only up to the next multiple of "
                                "this many pixels instead of the full width (short crops "
                                "cost less); a crop still reads the same alone or in any "
                                "batch. Off (full width) if null.")
    split_aspect: float | None = Field(
        None, gt=1, description="Inference: a one-row crop more than this many times wider "
                                "than high is read in pieces as wide as the model's input "
                                "(cut in the widest blank columns near even cuts) and the "
                                "readings joined, instead of shrunk to fit the input width. "
                                "Off if null.")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "fp32", description="Inference dtype: bf16 is ~3x faster on CPUs with native "
                            "bfloat16 (AMX / AVX512-BF16) and very slow on others; auto picks "
                            "bf16 on such a CPU, else fp32.")

    @model_validator(mode="after")
    def _untrained_loads_no_weights(self) -> RecognizerConfig:
        check_untrained(self.weights, self.untrained)
        return self


class DatasetConfig(StrictModel):
    """One labelled dataset (see :mod:`recognition.datasets` for the layouts)."""

    path: Path
    kind: Literal["auto", "crops", "manifest", "plate_course", "ccpd", "coco"] = "auto"
    weight: float = Field(1.0, gt=0, description="share of training samples drawn from it")
    phase: str | None = None
    region_field: str | None = None
    categories: list[str] | None = None
    limit: int | None = Field(None, ge=1)
    max_chars: int | None = Field(
        None, ge=1, description="drop samples whose text is longer (e.g. lines too long to "
                                "fit the model's columns)")
    text_pattern: str | None = Field(
        None, description="keep only samples whose whole text matches this regular "
        "expression (before limit), e.g. '[^A-Za-z]+': lines without letters, from ground "
        "truth that writes every letter in capitals whatever the print")
    case_folded: bool = Field(
        False, description="the ground truth writes every letter in capitals whatever the "
        "print (SROIE): texts are upper-cased and the loss counts a letter read in either "
        "case as right, so lines with letters teach the reader without teaching it capitals")

    @field_validator("text_pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return pattern


class DataConfig(StrictModel):
    """Training and validation data. Without ``val``, a length-stratified split of ``train``."""

    train: list[DatasetConfig] = Field(min_length=1)
    val: list[DatasetConfig] = Field(default_factory=list)
    val_fraction: float = Field(0.05, ge=0, lt=1)
    val_max: int = Field(2000, ge=1)
    samples_per_epoch: int | None = Field(None, ge=1)


class AugmentConfig(StrictModel):
    """Probabilities (``*_p``) and strengths of the training augmentations."""

    enabled: bool = True
    extra_lines_p: float = Field(0.2, ge=0, le=1)
    extra_lines_max: int = Field(2, ge=1)
    rotate_p: float = Field(0.3, ge=0, le=1)
    rotate_limit: float = Field(5.0, ge=0)
    distort_p: float = Field(0.3, ge=0, le=1)
    grid_distort_limit: float = Field(0.2, ge=0)
    optical_distort_limit: float = Field(0.1, ge=0)
    blur_p: float = Field(0.2, ge=0, le=1)
    blur_limit: int = Field(5, ge=3)
    clahe_p: float = Field(0.2, ge=0, le=1)
    clahe_clip: float = Field(4.0, gt=0)
    shadow_p: float = Field(0.2, ge=0, le=1)
    cutout_p: float = Field(0.2, ge=0, le=1)
    cutout_holes: int = Field(3, ge=1)
    cutout_size: float = Field(0.3, gt=0, le=1)
    # Camera crops (plates, scene words): off by default, and only built when on, so runs
    # that never set them draw exactly the augmentations they always did.
    perspective_p: float = Field(0.0, ge=0, le=1)
    perspective_scale: float = Field(0.08, gt=0, le=0.3)
    crop_jitter_p: float = Field(0.0, ge=0, le=1)
    crop_jitter: float = Field(0.06, gt=0, le=0.3)
    color_p: float = Field(0.0, ge=0, le=1)
    downscale_p: float = Field(0.0, ge=0, le=1)
    downscale_min: float = Field(0.4, gt=0, lt=1)
    jpeg_p: float = Field(0.0, ge=0, le=1)


class TrainSettings(StrictModel):
    """Optimisation loop settings (MADGRAD, linear warm-up then cosine, per step)."""

    epochs: int = Field(10, ge=1)
    max_steps: int | None = Field(None, ge=1)
    max_time_s: float | None = Field(None, gt=0)
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-4, gt=0)
    min_lr_ratio: float = Field(0.01, ge=0, le=1)
    weight_decay: float = Field(0.0, ge=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    warmup_epochs: float = Field(1.0, ge=0)
    warmup_steps: int | None = Field(None, ge=0)
    grad_clip: float = Field(5.0, gt=0)
    ctc_weight: float = Field(0.25, ge=0)
    ce_weight: float = Field(0.75, ge=0)
    region_weight: float = Field(0.1, ge=0)
    eval_every: int | None = Field(None, ge=1, description="steps; default once per epoch")
    log_every: int = Field(20, ge=1)
    num_workers: int = Field(0, ge=0)
    seed: int = 0
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "fp32", description="bf16: forward passes under bfloat16 autocast (channels-last on a "
                            "CPU); weights, optimizer and losses stay fp32. About 2x faster "
                            "steps on CPUs with AMX / AVX512-BF16, many times slower on "
                            "others. auto: bf16 on such a CPU or a GPU with bf16, else fp32.")
    teacher: Path | None = Field(
        None, description="Checkpoint of a trained recognizer with the same charset, input "
                          "size and column stride: its CTC column posteriors become an extra "
                          "per-column target of the CTC head (knowledge distillation). A "
                          "from-scratch model learns much faster from it than from CTC "
                          "alone.")
    distill_weight: float = Field(1.0, ge=0, description="weight of the distillation term")
    distill_temperature: float = Field(1.0, gt=0)
    wandb: bool = False
    wandb_project: str = "ocr-pipeline"


class RecognizerTrainConfig(StrictModel):
    """A recognizer training run (``pipeline train recognizer CONFIG``)."""

    name: str = "recognizer"
    output_dir: Path = Path("runs/recognition")
    recognizer: RecognizerConfig = Field(default_factory=RecognizerConfig)
    region_head: bool = False
    init_sha256: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{64}$",
        description="SHA-256 of the file this run starts from (recognizer.weights): checked before "
                    "training, so a fine-tune never silently starts from whatever file "
                    "sits at that path now. Null: not checked (from scratch).")
    data: DataConfig
    train: TrainSettings = Field(default_factory=TrainSettings)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)

    @model_validator(mode="after")
    def _pin_needs_a_start_file(self) -> RecognizerTrainConfig:
        if self.init_sha256 is not None and self.recognizer.weights is None:
            raise ValueError("init_sha256 pins a start file, but recognizer.weights is null "
                             "(from scratch): name the file, or set init_sha256: null")
        return self

    @property
    def run_dir(self) -> Path:
        """Where checkpoints and logs go: ``output_dir / name``."""
        return self.output_dir / self.name

"""Typed configs of the detection stage (inference and training)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from core.config import StrictModel
from core.weights import check_untrained


class DetectorPass(StrictModel):
    """One more YOLO look at an image (:attr:`DetectorConfig.extra_passes`)."""

    imgsz: int = Field(..., ge=32, le=4096, description="Letterbox side of this pass.")
    fill: float = Field(1.0, gt=0.0, le=1.0,
                        description="Share of the letterbox side the image's longer side "
                                    "fills (1: the usual letterbox).")
    conf: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Least score kept from this pass (null: the detector's conf). A look "
                    "at a shrunken image may need a stricter one: small things there can "
                    "pass for large objects.")
    min_height: float = Field(
        0.0, ge=0.0, description="Least box height kept from this pass, in pixels of its "
                                 "letterbox: a zoomed-out look is there for large objects.")
    max_height: float | None = Field(
        None, gt=0.0, description="Greatest box height kept from this pass, in pixels of its "
                                  "letterbox (null: no bound): a larger look is there for "
                                  "small objects, and an image enlarged past what the "
                                  "detector learned from shows it large phantoms.")


class DetectorConfig(StrictModel):
    """How to build a detector for inference.

    ``model`` is the architecture: an ultralytics model YAML (``yolov8n.yaml``,
    ``yolov5l.yaml``; the letter after the version picks the scale) for ``yolo``, a timm
    ConvNeXt name (``convnext_atto``, ``convnext_small``) for ``maskrcnn``.
    ``weights`` is a checkpoint file that loads with ``torch.load(weights_only=True)`` (ours;
    an ultralytics ``.pt`` is converted once with ``pipeline convert detector-weights``). For
    inference it must exist: a missing file, or none named, is a
    :class:`~core.errors.MissingWeightsError`, unless ``untrained: true`` asks for a randomly
    initialised model on purpose (tests, speed benchmarks).

    ``imgsz`` is the inference size: YOLO letterboxes to ``imgsz x imgsz`` (or less, see
    ``letterbox``); Mask R-CNN
    resizes the longer side to ``imgsz`` (torchvision's ``min_size = max_size = imgsz``),
    up to 2048 for dense pages.
    """

    backend: Literal["yolo", "maskrcnn", "ink"] = "yolo"
    model: str = "yolov8n.yaml"
    weights: Path | None = Field(
        None, description="Weights file (our checkpoint format; loaded with weights_only=True). "
                          "Inference: required unless untrained is true. Training: the file a "
                          "fine-tune starts from (a missing file is an error); null trains "
                          "from scratch.")
    untrained: bool = Field(
        False, description="Inference: build a randomly initialised model on purpose (tests, "
                           "speed benchmarks); weights must then be null. Its output is "
                           "meaningless and results.json's models entry says UNTRAINED. "
                           "Without it, a null or missing weights file is an error.")
    classes: list[str] = Field(default_factory=lambda: ["word"], min_length=1)
    imgsz: int = Field(640, ge=32, le=4096)
    conf: float = Field(0.25, ge=0.0, le=1.0)
    iou: float = Field(0.5, ge=0.0, le=1.0)
    max_det: int = Field(1000, ge=1)
    batch_size: int = Field(8, ge=1, description="Images per forward pass at inference.")
    letterbox: Literal["square", "rect"] = Field(
        "square", description="YOLO only: the canvas each look runs on. 'square': imgsz x "
                              "imgsz. 'rect': only as large as the image letterboxed to imgsz, "
                              "each side rounded up to the model stride (as ultralytics "
                              "predicts): a 16:9 photo costs about 0.56 of the square's "
                              "compute, at the same scale. Images batched together share the "
                              "largest of their canvases.")
    clean_scans: Literal["model", "ink"] = Field(
        "model", description="'ink': images that are clean scans (nearly all pixels black or "
                             "white) get word boxes from their ink (detection.ink), no model; "
                             "other images still go to the model.")
    # YOLO only: text-scale normalisation.
    text_height: float | None = Field(
        None, gt=0.0,
        description="YOLO only: the median box height (pixels at the letterboxed size) the "
                    "detector was trained on. When set, a first pass at imgsz measures the "
                    "image's median box height and, if the text is far off that scale, a "
                    "second pass runs at the size that brings it there.")
    content_zoom: float | None = Field(
        None, gt=0.0, lt=1.0,
        description="YOLO only, with text_height: when the first pass's boxes, with a margin "
                    "of 3 % of the image's longer side, lie within this share of the image's "
                    "area, the text-scale look runs on that part of the image alone, measured "
                    "anew there. A receipt small on an A4 scan is a few pixels high at imgsz, "
                    "where the detector boxes several lines as one and the text scale reads "
                    "too large to re-run; the part it lies in shows them at a measurable size. "
                    "Off if null.")
    max_upscale: float | None = Field(
        None, gt=0.0,
        description="YOLO only: the first look enlarges an image at most this many times; a "
                    "smaller image sits in its letterbox with grey around it. A word or line "
                    "crop blown up to imgsz shows letters many times the height of the words "
                    "the detector learned, and it boxes letter pieces. Off if null.")
    min_imgsz: int = Field(160, ge=32, description="Smallest size the text-scale pass may pick.")
    max_imgsz: int = Field(1600, ge=32, description="Largest size the text-scale pass may pick.")
    extra_passes: list[DetectorPass] = Field(
        default_factory=list,
        description="YOLO only: more looks at each image, merged with the first by "
                    "non-maximum suppression at iou. A pass with fill below 1 shrinks the "
                    "image inside its letterbox (0.5: half the side, grey around it), so an "
                    "object filling the frame is seen at the size the detector learned; a "
                    "pass with a larger imgsz shows small objects bigger. Where text_height "
                    "re-runs an image at another size, that single look replaces them.")
    contained: float | None = Field(
        None, gt=0.0, le=1.0,
        description="YOLO only: after merging, drop a box when this share of its area lies "
                    "inside a higher-scoring box of its label (plates: one plate is never "
                    "inside another, but two looks can box the same plate at two sizes that "
                    "NMS at iou keeps both of, and the two are then read as one line twice). "
                    "Off if null.")
    # Mask R-CNN only.
    backbone_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra timm kwargs for the ConvNeXt backbone, e.g. {depths: [1,1,1,1], "
                    "dims: [16,32,64,128]} for a tiny CPU model.")
    backbone_weights: Path | None = Field(
        None, description="Local timm state dict for the backbone (pretrained start).")
    fpn_channels: int = Field(256, ge=8)
    mask_head_channels: int = Field(
        256, ge=8, description="Width of the 4-conv mask head; it runs on every detection, "
                               "so on CPU with ~1000 words a narrow head matters.")
    mask_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    polygon_tolerance: float = Field(
        1.0, ge=0.0, description="Douglas-Peucker tolerance in pixels for mask polygons.")

    @model_validator(mode="after")
    def _content_zoom_needs_text_height(self) -> DetectorConfig:
        if self.content_zoom is not None and self.text_height is None:
            raise ValueError("content_zoom needs text_height (the look it zooms is the "
                             "text-scale look): set text_height, or content_zoom: null")
        return self

    @model_validator(mode="after")
    def _untrained_loads_no_weights(self) -> DetectorConfig:
        check_untrained(self.weights, self.untrained)
        return self


class CocoSource(StrictModel):
    """One COCO dataset in the NTO layout: ``annotations.json`` + an images folder."""

    annotations: Path
    images: Path | None = Field(
        None, description="Images folder; default: 'images/' next to the annotations file.")
    rename: dict[str, str] = Field(
        default_factory=dict,
        description="Categories read under another name, e.g. {ignore: word}: an ICDAR "
                    "'###' word is still text for a detector, whatever a reader makes of it.")

    @property
    def images_dir(self) -> Path:
        """The folder that ``file_name`` entries are relative to."""
        return self.images if self.images is not None else self.annotations.parent / "images"


class DetectorDataConfig(StrictModel):
    """Where the training data is and how to split it.

    Without ``val``, ``val_fraction`` of ``train`` is held out, stratified by
    ``stratify_keys``: ``orientation`` (portrait / landscape), ``language`` (script of the
    words' ``attributes.translation``), or any image field / annotation attribute name.
    """

    train: CocoSource | list[CocoSource] = Field(
        description="One COCO source, or several merged (e.g. synthetic + real).")
    val: CocoSource | None = None
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    stratify_keys: list[str] = Field(default_factory=list)


class DetectorTrainSettings(StrictModel):
    """Optimisation settings. YOLO uses ``epochs``; Mask R-CNN uses ``iterations``."""

    epochs: int = Field(100, ge=1)
    iterations: int = Field(20000, ge=1)
    batch: int = Field(2, ge=1)
    optimizer: str = "AdamW"
    lr0: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(5e-4, ge=0.0)
    warmup_epochs: float = Field(3.0, ge=0.0, description="YOLO warm-up.")
    warmup_iters: int = Field(500, ge=0, description="Mask R-CNN linear warm-up.")
    clip_grad: float = Field(10.0, gt=0.0, description="Mask R-CNN gradient-norm clip.")
    checkpoint_every: int = Field(500, ge=1, description="Mask R-CNN: iterations per save.")
    val_every: int = Field(1000, ge=1, description="Mask R-CNN: iterations per validation.")
    min_size: list[int] | None = Field(
        None, description="Mask R-CNN train sizes (shorter side, one picked per batch); "
                          "default: the model's imgsz.")
    workers: int = Field(2, ge=0)
    amp: bool = Field(False, description="Mixed precision (CUDA only).")
    patience: int = Field(100, ge=0)
    seed: int = 0
    ultralytics: dict[str, Any] = Field(
        default_factory=dict,
        description="Further ultralytics train arguments (augmentation etc.), passed as is.")


class DetectorTrainConfig(StrictModel):
    """``pipeline train detector`` config: model, data, optimisation, output."""

    name: str = "detector"
    model: DetectorConfig = Field(default_factory=DetectorConfig)
    init_sha256: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{64}$",
        description="SHA-256 of the file this run starts from (model.weights): checked before "
                    "training, so a fine-tune never silently starts from whatever file "
                    "sits at that path now. Null: not checked (from scratch).")
    data: DetectorDataConfig
    train: DetectorTrainSettings = Field(default_factory=DetectorTrainSettings)
    out_dir: Path = Path("runs/detector")
    export: Path | None = Field(
        None, description="Also copy the best weights here (e.g. data/models/x_detector.pt).")
    device: str = "auto"

    @model_validator(mode="after")
    def _no_duplicate_classes(self) -> DetectorTrainConfig:
        if self.model.backend == "ink":
            raise ValueError("model.backend 'ink' has nothing to train: use yolo or maskrcnn")
        if len(set(self.model.classes)) != len(self.model.classes):
            raise ValueError(f"model.classes has duplicates: {self.model.classes}")
        return self

    @model_validator(mode="after")
    def _pin_needs_a_start_file(self) -> DetectorTrainConfig:
        if self.init_sha256 is not None and self.model.weights is None:
            raise ValueError("init_sha256 pins a start file, but model.weights is null (from "
                             "scratch): name the file, or set init_sha256: null")
        return self

"""YOLO backend: an ultralytics ``DetectionModel`` wrapped as a batched :class:`Detector`.

Pre- and post-processing (letterbox, NMS, mapping boxes back) live here rather than in
ultralytics' predictor, so a batch of differently sized images goes through one forward
pass and nothing in the predictor's set-up can reach for the network.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from core.errors import UnsafeWeightsError
from core.geometry import box_polygon, clip_box
from core.offline import setup_ultralytics
from detection.config import DetectorConfig
from detection.types import Region

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "ocr-pipeline-yolo/1"
PAD_VALUE = 114  # ultralytics' letterbox grey, which the model saw in training


def build_yolo_model(model_yaml: str, num_classes: int) -> torch.nn.Module:
    """Build an untrained ultralytics ``DetectionModel`` from its YAML.

    Args:
        model_yaml: an ultralytics model YAML name or path; the scale letter after the
            version picks the size (``yolov8n.yaml``, ``yolov5l.yaml``, ``yolo11s.yaml``).
        num_classes: number of classes of the detection head.

    Returns:
        The model in eval mode on the CPU.
    """
    setup_ultralytics()
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel(model_yaml, nc=num_classes, verbose=False)
    return model.eval()


def save_yolo_checkpoint(model: torch.nn.Module, classes: Sequence[str], path: str | Path,
                         extra: dict[str, Any] | None = None) -> Path:
    """Write a YOLO model as plain tensors + its YAML dict (loadable with ``weights_only``).

    Args:
        model: an ultralytics ``DetectionModel`` (any precision; stored as float32).
        classes: class names in head order.
        path: target file; written atomically.
        extra: more plain-typed metadata to store (e.g. the training imgsz).

    Returns:
        ``path`` as a ``Path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().cpu() if v.is_floating_point() else v.detach().cpu()
             for k, v in model.state_dict().items()}
    payload = {"format": CHECKPOINT_FORMAT, "yaml": _plain(model.yaml), "classes": list(classes),
               "state_dict": state, "extra": extra or {}}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


CONVERT_COMMAND = "pipeline convert detector-weights"


def load_yolo_weights(path: str | Path) -> tuple[torch.nn.Module, list[str]]:
    """Load a YOLO model from a file written by :func:`save_yolo_checkpoint`.

    Only ``torch.load(weights_only=True)``: a weights file named by a config or ``--set`` is
    never unpickled. An ultralytics ``.pt`` (a pickle) is converted once with
    ``pipeline convert detector-weights SRC --out DST`` (:func:`convert_ultralytics_checkpoint`).

    Args:
        path: the checkpoint file.

    Returns:
        The model (float32, eval mode, CPU) and its class names in head order.

    Raises:
        UnsafeWeightsError: the file holds pickled objects (an ultralytics checkpoint); the
            message names the file and the convert command.
        ValueError: the file is unreadable or not a YOLO checkpoint of this project.
    """
    path = Path(path)
    payload = _load_weights_only(path)
    if not (isinstance(payload, dict) and payload.get("format") == CHECKPOINT_FORMAT):
        raise ValueError(f"{path}: not an ocr-pipeline YOLO checkpoint (format "
                         f"{CHECKPOINT_FORMAT!r}); an ultralytics .pt is converted with "
                         f"'{CONVERT_COMMAND} {path} --out NEW.pt'")
    setup_ultralytics()
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel(payload["yaml"], nc=len(payload["classes"]), verbose=False)
    model.load_state_dict(payload["state_dict"])
    return model.float().eval(), list(payload["classes"])


def _load_weights_only(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # weights_only refuses any pickled class: an ultralytics checkpoint, or worse.
        raise UnsafeWeightsError(
            f"{path} is not plain weights: it holds pickled Python objects (an ultralytics "
            f"checkpoint such as best.pt or yolov8n.pt?), which are never unpickled on load. "
            f"If you trust the file, convert it once: '{CONVERT_COMMAND} {path} --out NEW.pt' "
            f"and point the config at NEW.pt") from exc
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: name it
        raise ValueError(f"cannot read detector weights {path}: {exc}") from exc


def load_ultralytics_checkpoint_trusted(path: str | Path
                                        ) -> tuple[torch.nn.Module, list[str], dict[str, Any]]:
    """Unpickle an ultralytics checkpoint (``best.pt`` / ``last.pt`` / ``yolov8n.pt``).

    TRUSTED FILES ONLY: unpickling runs whatever code the file names. Called by the explicit
    ``pipeline convert detector-weights`` command and by ``pipeline train detector`` on the
    checkpoint its own ultralytics run just wrote; never on a path from a config at inference.

    Returns:
        The model (float32, eval mode, CPU), its class names in head order, and the plain
        (int / float / str) training arguments the checkpoint records, e.g. ``imgsz``.
    """
    setup_ultralytics()
    from ultralytics.nn.tasks import torch_safe_load

    # ultralytics' own loader with safe_only: torch.load(weights_only=True) that rebuilds only
    # the ultralytics / torch model classes on its allow-list (and never installs or downloads).
    # It allow-lists those classes process-wide; undo that, so a later plain weights-only
    # load of an ultralytics pickle is still refused with the convert hint.
    allowed = torch.serialization.get_safe_globals()
    try:
        payload, _ = torch_safe_load(str(Path(path)), safe_only=True)
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(allowed)
    model = (payload.get("ema") or payload.get("model")) if isinstance(payload, dict) else None
    if model is None:
        raise ValueError(f"{path}: not an ultralytics checkpoint (no 'ema' or 'model' entry)")
    names = model.names
    classes = [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names)
    args = payload.get("train_args") or {}
    plain = {k: v for k, v in args.items() if isinstance(v, int | float | str)}
    return model.float().eval(), classes, plain


def convert_ultralytics_checkpoint(src: str | Path, dst: str | Path) -> tuple[Path, list[str]]:
    """Write a trusted ultralytics checkpoint in our weights-only format (one unpickling).

    Args:
        src: an ultralytics ``.pt`` (TRUSTED ONLY: unpickling runs code from the file).
        dst: the file to write; it loads with ``torch.load(weights_only=True)``.

    Returns:
        ``dst`` and the class names (the checkpoint's ``names``, in head order).
    """
    model, classes, train_args = load_ultralytics_checkpoint_trusted(src)
    extra: dict[str, Any] = {"converted_from": Path(src).name}
    if "imgsz" in train_args:
        extra["imgsz"] = train_args["imgsz"]
    return save_yolo_checkpoint(model, classes, dst, extra=extra), classes


def _plain(value: Any) -> Any:
    # model.yaml may hold tuples or numpy scalars; checkpoints keep only plain types.
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def letterbox_scale(height: int, width: int, size: int, fill: float = 1.0) -> float:
    """The factor :func:`letterbox` resizes a ``height x width`` image by."""
    return min(size / height, size / width) * fill


def letterbox(image: np.ndarray, size: int, fill: float = 1.0,
              canvas: tuple[int, int] | None = None
              ) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping aspect ratio to fit ``size x size`` and pad centred with grey.

    Args:
        fill: share of ``size`` the longer side is resized to (below 1 leaves grey all
            round: a zoomed-out view).
        canvas: ``(height, width)`` of the padded image (default ``size x size``); it must
            hold the resized image (see :func:`rect_canvas`).

    Returns:
        The padded image, the scale applied, and the ``(left, top)`` padding in pixels.
    """
    h, w = image.shape[:2]
    scale = letterbox_scale(h, w, size, fill)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    out_h, out_w = canvas if canvas is not None else (size, size)
    if new_h > out_h or new_w > out_w:
        raise ValueError(f"a {new_w}x{new_h} image does not fit a {out_w}x{out_h} canvas")
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR) \
        if (new_w, new_h) != (w, h) else image
    left, top = (out_w - new_w) // 2, (out_h - new_h) // 2
    out = np.full((out_h, out_w, 3), PAD_VALUE, dtype=np.uint8)
    out[top:top + new_h, left:left + new_w] = resized
    return out, scale, (float(left), float(top))


def rect_canvas(height: int, width: int, size: int, stride: int) -> tuple[int, int]:
    """The smallest canvas, sides multiples of ``stride``, that holds a ``height x width``
    image letterboxed to ``size`` (at any ``fill``: a zoomed-out look keeps the grey it
    would have round it in proportion, the rest of the square is left out)."""
    scale = letterbox_scale(height, width, size)  # each side then at most size
    return (round_to_stride(round(height * scale), stride),
            round_to_stride(round(width * scale), stride))


def round_to_stride(size: float, stride: int) -> int:
    """``size`` rounded up to a multiple of ``stride`` (at least one stride)."""
    return max(stride, int(np.ceil(size / stride) * stride))


def text_scale_imgsz(heights: Sequence[float], long_side: int, text_height: float, stride: int,
                     min_size: int, max_size: int, min_boxes: int = 3) -> int | None:
    """The letterbox size that makes the median box height about ``text_height`` pixels.

    Args:
        heights: box heights found on a first pass, in original image pixels.
        long_side: the image's longer side in pixels.
        text_height: wanted median box height at the letterboxed size.
        stride: the model stride; the size is rounded up to a multiple of it.
        min_size, max_size: bounds of the returned size.
        min_boxes: below this many boxes the scale is not trusted and ``None`` is returned.
    """
    if len(heights) < min_boxes:
        return None
    median = float(np.median(heights))
    if median <= 0:
        return None
    size = round_to_stride(long_side * text_height / median, stride)
    return min(max(size, round_to_stride(min_size, stride)), max_size // stride * stride)


def content_window(boxes: Sequence[Sequence[float]], height: int, width: int,
                   max_share: float, margin: float = 0.03, min_boxes: int = 3
                   ) -> tuple[int, int, int, int] | None:
    """The part of an image its text lies in, if it is small: the union of ``boxes``
    (``x1, y1, x2, y2``) grown by ``margin`` of the image's longer side, clipped to the image,
    as integer ``(x0, y0, x1, y1)``; ``None`` when that covers more than ``max_share`` of the
    image's area or there are fewer than ``min_boxes`` boxes."""
    if len(boxes) < min_boxes:
        return None
    b = np.asarray(boxes, np.float64)
    pad = margin * max(height, width)
    x0 = max(0, int(np.floor(b[:, 0].min() - pad)))
    y0 = max(0, int(np.floor(b[:, 1].min() - pad)))
    x1 = min(width, int(np.ceil(b[:, 2].max() + pad)))
    y1 = min(height, int(np.ceil(b[:, 3].max() + pad)))
    if x1 <= x0 or y1 <= y0 or (x1 - x0) * (y1 - y0) > max_share * height * width:
        return None
    return x0, y0, x1, y1


def shift_region(region: Region, dx: float, dy: float) -> Region:
    """``region`` moved by ``(dx, dy)`` pixels (from a part of an image to the whole)."""
    x1, y1, x2, y2 = region.bbox
    return Region(polygon=np.asarray(region.polygon, np.float64) + [dx, dy],
                  bbox=(x1 + dx, y1 + dy, x2 + dx, y2 + dy), score=region.score,
                  label=region.label)


class YoloDetector:
    """Batched YOLO inference returning :class:`Region` lists in image coordinates.

    Args:
        model: an ultralytics ``DetectionModel``.
        classes: class names in head order.
        cfg: thresholds and sizes (``imgsz``, ``conf``, ``iou``, ``max_det``, ``batch_size``).
        device: where to run.
        description: what was loaded, for logs and ``pipeline run`` output.
    """

    def __init__(self, model: torch.nn.Module, classes: Sequence[str], cfg: DetectorConfig,
                 device: torch.device, description: str = ""):
        self.model = model.to(device).float().eval()
        self.classes = list(classes)
        self.cfg = cfg
        self.device = device
        self.stride = int(max(getattr(model, "stride", torch.tensor([32])).max().item(), 32))
        self.imgsz = round_to_stride(cfg.imgsz, self.stride)
        self.description = description

    @torch.inference_mode()
    def predict(self, images: Sequence[np.ndarray]) -> list[list[Region]]:
        """Detect regions in RGB ``uint8`` images.

        Args:
            images: ``(H, W, 3)`` RGB arrays of any sizes.

        Returns:
            Per image, regions sorted by descending score; polygons are box corners
            clockwise from top-left, clipped to the image.
        """
        results: list[list[Region]] = []
        for start in range(0, len(images), self.cfg.batch_size):
            results.extend(self._predict_batch(images[start:start + self.cfg.batch_size]))
        return results

    def _predict_batch(self, images: Sequence[np.ndarray]) -> list[list[Region]]:
        out = self._infer(images, self.imgsz, max_upscale=self.cfg.max_upscale)
        if self.cfg.extra_passes:
            out = self._extra_passes(images, out)
        if self.cfg.contained is not None:
            out = [drop_contained(regions, self.cfg.contained) for regions in out]
        if self.cfg.text_height is None:
            return out
        # Text far from the training scale splits words into pieces (too big) or misses them
        # (too small): measure the scale on the first pass, re-run where it is far off.
        for i, (image, regions) in enumerate(zip(images, out, strict=True)):
            window = None
            if self.cfg.content_zoom is not None:
                window = content_window([r.bbox for r in regions], *image.shape[:2],
                                        self.cfg.content_zoom)
            if window is not None:  # measure (and read) the text where it lies
                x0, y0, x1, y1 = window
                image = np.ascontiguousarray(image[y0:y1, x0:x1])
                regions = self._infer([image], self.imgsz, max_upscale=self.cfg.max_upscale)[0]
            heights = [r.bbox[3] - r.bbox[1] for r in regions]
            size = text_scale_imgsz(heights, max(image.shape[:2]), self.cfg.text_height,
                                    self.stride, self.cfg.min_imgsz, self.cfg.max_imgsz)
            if size is not None and abs(size - self.imgsz) > 0.2 * self.imgsz:
                regions = self._infer([image], size)[0]
            if window is not None:  # back to the whole image's pixels
                regions = [shift_region(r, window[0], window[1]) for r in regions]
            out[i] = regions
        return out

    def _extra_passes(self, images: Sequence[np.ndarray], out: list[list[Region]]
                      ) -> list[list[Region]]:
        for extra in self.cfg.extra_passes:
            size = round_to_stride(extra.imgsz, self.stride)
            more = self._infer(images, size, extra.fill)
            conf = self.cfg.conf if extra.conf is None else extra.conf
            top = float("inf") if extra.max_height is None else extra.max_height
            for k, (image, regions) in enumerate(zip(images, more, strict=True)):
                # box heights in this pass's letterbox pixels
                scale = letterbox_scale(*image.shape[:2], size, extra.fill)
                more[k] = [r for r in regions if r.score >= conf
                           and extra.min_height <= (r.bbox[3] - r.bbox[1]) * scale <= top]
            out = [a + b for a, b in zip(out, more, strict=True)]
        return [merge_regions(regions, self.cfg.iou, self.cfg.max_det) for regions in out]

    def _infer(self, images: Sequence[np.ndarray], imgsz: int, fill: float = 1.0,
               max_upscale: float | None = None) -> list[list[Region]]:
        from ultralytics.utils.nms import non_max_suppression

        for image in images:
            if image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
        canvas = None
        if self.cfg.letterbox == "rect":  # one canvas for the batch: the largest needed
            sides = [rect_canvas(*image.shape[:2], imgsz, self.stride) for image in images]
            canvas = (max(h for h, _ in sides), max(w for _, w in sides))
        boxes_in, scales, pads = [], [], []
        for image in images:
            look = fill
            if max_upscale is not None:  # a small image sits in its letterbox at most this big
                look = min(fill, max_upscale * max(image.shape[:2]) / imgsz)
            padded, scale, pad = letterbox(np.ascontiguousarray(image), imgsz, look, canvas)
            boxes_in.append(padded)
            scales.append(scale)
            pads.append(pad)
        # ultralytics models are trained on RGB tensors in [0, 1] (it converts BGR on load).
        batch = torch.from_numpy(np.stack(boxes_in)).permute(0, 3, 1, 2)
        batch = batch.to(self.device, dtype=torch.float32) / 255.0
        raw = self.model(batch)
        dets = non_max_suppression(raw, conf_thres=self.cfg.conf, iou_thres=self.cfg.iou,
                                   max_det=self.cfg.max_det, nc=len(self.classes),
                                   end2end=bool(getattr(self.model, "end2end", False)))
        out = []
        for image, det, scale, (left, top) in zip(images, dets, scales, pads, strict=True):
            h, w = image.shape[:2]
            det = det.detach().cpu().numpy()
            regions = []
            for x1, y1, x2, y2, score, cls in det[:, :6]:
                box = clip_box(((x1 - left) / scale, (y1 - top) / scale,
                                (x2 - left) / scale, (y2 - top) / scale), w, h)
                if box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
                    continue
                label = self.classes[int(cls)] if int(cls) < len(self.classes) else str(int(cls))
                regions.append(Region(polygon=box_polygon(*box), bbox=box, score=float(score),
                                      label=label))
            regions.sort(key=lambda r: -r.score)
            out.append(regions)
        return out


def merge_regions(regions: Sequence[Region], iou: float, max_det: int) -> list[Region]:
    """Regions of several looks at one image, overlapping ones of a label (IoU above ``iou``)
    reduced to the highest scoring; at most ``max_det``, by descending score."""
    from torchvision.ops import batched_nms

    if not regions:
        return []
    boxes = torch.tensor([r.bbox for r in regions], dtype=torch.float32)
    scores = torch.tensor([r.score for r in regions], dtype=torch.float32)
    names = {label: k for k, label in enumerate(sorted({r.label for r in regions}))}
    labels = torch.tensor([names[r.label] for r in regions])
    keep = batched_nms(boxes, scores, labels, iou)[:max_det]
    return [regions[int(k)] for k in keep]


def drop_contained(regions: Sequence[Region], share: float) -> list[Region]:
    """``regions`` without those that have ``share`` or more of their area inside a
    higher-scoring region of the same label (order kept)."""
    order = sorted(range(len(regions)), key=lambda i: -regions[i].score)
    kept: list[int] = []
    for i in order:
        x1, y1, x2, y2 = regions[i].bbox
        area = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
        inside = False
        for j in kept:
            if regions[j].label != regions[i].label:
                continue
            a1, b1, a2, b2 = regions[j].bbox
            overlap = max(min(x2, a2) - max(x1, a1), 0.0) * max(min(y2, b2) - max(y1, b1), 0.0)
            if area > 0 and overlap >= share * area:
                inside = True
                break
        if not inside:
            kept.append(i)
    keep = set(kept)
    return [r for i, r in enumerate(regions) if i in keep]


def build_yolo_detector(cfg: DetectorConfig, device: torch.device,
                        weights: Path | None) -> YoloDetector:
    """Build a :class:`YoloDetector` from a config.

    Args:
        cfg: architecture, classes and thresholds.
        device: where to run.
        weights: an existing weights file (:func:`core.weights.required_weights`), or
            ``None`` for the randomly initialised model the config asked for (``untrained``).
    """
    if weights is not None:
        model, classes = load_yolo_weights(weights)
        if list(classes) != list(cfg.classes):
            log.warning("detector weights %s have classes %s; config says %s - using the "
                        "weights' classes", weights, classes, cfg.classes)
        description = f"yolo {cfg.model}, weights {cfg.weights}"
    else:
        model, classes = build_yolo_model(cfg.model, len(cfg.classes)), list(cfg.classes)
        log.warning("YOLO detector %s is UNTRAINED (untrained: true): random initialisation",
                    cfg.model)
        description = f"yolo {cfg.model}, UNTRAINED (untrained: true)"
    return YoloDetector(model, classes, cfg, device, description)

"""The ``onnxruntime`` backend: a preset's detector and recognizer exported to ONNX and run
by ONNX Runtime, behind the same interfaces as the torch stages.

Only the networks change. :class:`OrtYoloNetwork` stands in for the ultralytics model inside
:class:`detection.yolo.YoloDetector` (letterbox, NMS, text-scale pass unchanged) and
:class:`OrtCtcReader` for the recognizer inside :class:`recognition.predictor.RecognitionPredictor`
(preprocessing, width buckets, CTC decoding, ``forbid`` unchanged), so everything after the
stages reads the same objects.

Graphs come from a folder written by ``pipeline models export`` (config ``onnx_dir``, checked
against the weights' SHA-256), or are exported on first use into the cache
(``<cache>/onnx/<weights sha256>/``, :func:`core.offline.default_cache_dir`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.checksums import sha256_of
from core.errors import UsageError
from core.offline import default_cache_dir
from core.weights import required_weights
from detection.config import DetectorConfig
from detection.types import Detector
from pipeline.presets import PipelineConfig
from recognition.config import RecognizerConfig
from recognition.predictor import RecognitionPredictor

log = logging.getLogger(__name__)

EXPORT_FORMAT = "ocr-pipeline-onnx/1"
"""``format`` of ``export.json``; a cached export of another format is made again."""
OPSET = 17
FILE_NAMES = {"detector": "detector.onnx", "recognizer": "recognizer.onnx"}
MANIFEST = "export.json"
EXPORT_COMMAND = "pipeline models export --preset PRESET --format onnx --out DIR"


class OnnxBackendError(UsageError, ValueError):
    """An ONNX graph that cannot be used as configured: missing from ``onnx_dir``, exported
    from other weights, or a model the backend does not run."""


def providers(device: str = "auto") -> list[str]:
    """ONNX Runtime execution providers for a device name: CUDA first when the device is
    not ``cpu`` and onnxruntime has it, then the CPU."""
    import onnxruntime as ort

    if device != "cpu" and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def open_session(path: str | Path, device: str = "auto", threads: int | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` on ``path``.

    Args:
        path: an ``.onnx`` file.
        device: ``auto`` / ``cuda[:N]`` use the CUDA provider where present; ``cpu`` never.
        threads: intra-op threads; default torch's (``torch.get_num_threads()``), so both
            backends use as many cores.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    return ort.InferenceSession(str(path), options, providers=providers(device))


def _session_io(session: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def describe(args: Sequence[Any]) -> list[dict[str, Any]]:
        return [{"name": a.name, "shape": list(a.shape),
                 "dtype": a.type.removeprefix("tensor(").removesuffix(")")} for a in args]

    return describe(session.get_inputs()), describe(session.get_outputs())


class OrtYoloNetwork(nn.Module):
    """A YOLO network run by ONNX Runtime: ``(B, 3, H, W)`` float images in ``[0, 1]`` →
    raw ``(B, 4 + classes, anchors)`` predictions, as the ultralytics model's first output.

    Args:
        session: an inference session on a graph from :func:`detection.export.export_yolo_onnx`.
        stride: the model's strides (``DetectionModel.stride``), read by ``YoloDetector``.
    """

    end2end = False

    def __init__(self, session: Any, stride: torch.Tensor):
        super().__init__()
        self.session = session
        self.stride = stride.detach().cpu().clone()
        self.input_name = session.get_inputs()[0].name

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        batch = images.detach().cpu().float().numpy()
        (out,) = self.session.run(None, {self.input_name: batch})[:1]
        return torch.from_numpy(out)


class OrtCtcReader(nn.Module):
    """A recognizer's CTC read run by ONNX Runtime: ``(images, widths)`` → the dict the torch
    model returns (``ctc_logits``, ``mask``, ``region_logits`` when it has a region head).

    Args:
        session: an inference session on a graph from
            :func:`recognition.export.export_recognizer_onnx`.
    """

    has_decoder = False

    def __init__(self, session: Any):
        super().__init__()
        self.session = session
        self.output_names = [o.name for o in session.get_outputs()]

    def forward(self, images: torch.Tensor, widths: torch.Tensor) -> dict[str, torch.Tensor]:
        feeds = {"images": images.detach().cpu().float().numpy(),
                 "widths": widths.detach().cpu().long().numpy()}
        outs = self.session.run(self.output_names, feeds)
        return {name: torch.from_numpy(np.ascontiguousarray(value))
                for name, value in zip(self.output_names, outs, strict=True)}


# --- torch models, export and checks ------------------------------------------------------

def _torch_yolo(cfg: DetectorConfig) -> tuple[nn.Module, list[str], Path | None]:
    from detection.yolo import build_yolo_model, load_yolo_weights

    if cfg.backend != "yolo":
        raise OnnxBackendError(f"the onnxruntime backend runs YOLO detectors; detector.backend "
                               f"is {cfg.backend!r} (use --backend torch)")
    weights = required_weights(cfg.weights, cfg.untrained, "detector.weights")
    if weights is None:
        return build_yolo_model(cfg.model, len(cfg.classes)), list(cfg.classes), None
    model, classes = load_yolo_weights(weights)
    return model, classes, weights


def _torch_recognizer(cfg: RecognizerConfig) -> RecognitionPredictor:
    from recognition.factory import build_recognizer

    predictor = build_recognizer(cfg.model_copy(update={"precision": "fp32"}),
                                 torch.device("cpu"))
    if getattr(predictor.model, "has_decoder", False) and cfg.merge != "ctc":
        raise OnnxBackendError(
            f"the onnxruntime backend reads joint models with their CTC head only; "
            f"recognizer.merge is {cfg.merge!r}: set recognizer.merge=ctc or use --backend torch")
    return predictor


def _sample(shape: Sequence[int], seed: int, normal: bool) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen) if normal else torch.rand(*shape, generator=gen)


def _max_diff(ours: np.ndarray, theirs: torch.Tensor) -> float:
    ref = theirs.detach().float().cpu().numpy()
    return float(np.abs(ours.astype(np.float32) - ref).max()) if ref.size else 0.0


@torch.inference_mode()
def check_detector(session: Any, model: nn.Module, imgsz: int, stride: int
                   ) -> dict[str, Any]:
    """Max abs difference of the ONNX graph against torch on two fixed random batches: two
    ``imgsz`` squares, and one image half as wide (the dynamic axes). Boxes are in pixels of
    the letterboxed image; ``scores`` are the class rows alone."""
    half = max(stride, imgsz // 2 // stride * stride)
    shapes = [(2, 3, imgsz, imgsz), (1, 3, imgsz, half)]
    worst = {"output0": 0.0, "scores": 0.0}
    model = model.cpu().float().eval()
    for n, shape in enumerate(shapes):
        x = _sample(shape, n, normal=False)
        ref = model(x)
        ref = ref[0] if isinstance(ref, tuple | list) else ref
        (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})[:1]
        worst["output0"] = max(worst["output0"], _max_diff(out, ref))
        worst["scores"] = max(worst["scores"], _max_diff(out[:, 4:], ref[:, 4:]))
    return {"inputs": [list(s) for s in shapes], "max_abs_diff": worst}


@torch.inference_mode()
def check_recognizer(session: Any, predictor: RecognitionPredictor) -> dict[str, Any]:
    """Max abs difference of the ONNX graph's outputs against the torch model's (fp32) on two
    fixed random batches: three crops at the full width (real widths full, half, 40 px), one
    at half the width (the dynamic axes); ``mask_equal`` says the masks agree."""
    prep = predictor.preprocess
    ort_model = OrtCtcReader(session)
    half = max(8, prep.width // 2)
    batches = [((3, 3, prep.height, prep.width), [prep.width, half, 40]),
               ((1, 3, prep.height, half), [half])]
    worst: dict[str, float] = {}
    mask_equal = True
    model = predictor.model.float().eval()
    for n, (shape, real) in enumerate(batches):
        x = _sample(shape, n, normal=True)
        widths = torch.tensor(real, dtype=torch.long)
        ref = model.encode(x, widths) if getattr(model, "has_decoder", False) else model(x, widths)
        out = ort_model(x, widths)
        for name, value in out.items():
            if name == "mask":
                mask_equal = mask_equal and bool(torch.equal(value, ref["mask"].cpu()))
                continue
            worst[name] = max(worst.get(name, 0.0), _max_diff(value.numpy(), ref[name]))
    return {"inputs": [list(s) for s, _ in batches], "widths": [r for _, r in batches],
            "max_abs_diff": worst, "mask_equal": mask_equal}


def _versions() -> dict[str, str]:
    import onnx
    import onnxruntime

    return {"torch": torch.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__}


def export_detector(cfg: DetectorConfig, out_dir: Path) -> dict[str, Any]:
    """Export a config's YOLO detector into ``out_dir/detector.onnx``, check it against
    torch, and return its ``export.json`` entry."""
    import ultralytics

    from detection.export import export_yolo_onnx
    from detection.yolo import round_to_stride

    model, classes, weights = _torch_yolo(cfg)
    stride = int(max(model.stride.max().item(), 32))
    imgsz = round_to_stride(cfg.imgsz, stride)
    path = export_yolo_onnx(model, classes, out_dir / FILE_NAMES["detector"], imgsz, OPSET)
    session = open_session(path, "cpu")
    inputs, outputs = _session_io(session)
    return {"role": "detector", "architecture": f"yolo {cfg.model}", "classes": classes,
            "imgsz": imgsz, "stride": stride,
            "weights": None if weights is None else str(cfg.weights),
            "weights_sha256": None if weights is None else sha256_of(weights),
            "inputs": inputs, "outputs": outputs, "opset": OPSET,
            "exporter": f"ultralytics {ultralytics.__version__} Exporter (torch.onnx.export, "
                        "dynamo=False, conv+bn fused)",
            "check": check_detector(session, model, imgsz, stride)}


def export_recognizer(cfg: RecognizerConfig, out_dir: Path) -> dict[str, Any]:
    """Export a config's recognizer (its CTC read) into ``out_dir/recognizer.onnx``, check
    it against torch, and return its ``export.json`` entry."""
    from recognition.export import export_recognizer_onnx

    predictor = _torch_recognizer(cfg)
    prep = predictor.preprocess
    weights = required_weights(cfg.weights, cfg.untrained, "recognizer.weights")
    path = export_recognizer_onnx(predictor.model, out_dir / FILE_NAMES["recognizer"],
                                  prep.height, prep.width, OPSET)
    session = open_session(path, "cpu")
    inputs, outputs = _session_io(session)
    read = "CTC head (encode)" if getattr(predictor.model, "has_decoder", False) else "CTC"
    return {"role": "recognizer", "architecture": f"{type(predictor.model).__name__}, {read}",
            "weights": None if weights is None else str(cfg.weights),
            "weights_sha256": None if weights is None else sha256_of(weights),
            "preprocess": prep.to_dict(), "width_step": cfg.width_step,
            # CTC class i + 1 is charset[i]; class 0 is the blank
            "charset": predictor.tokenizer.charset, "regions": predictor.regions,
            "inputs": inputs, "outputs": outputs, "opset": OPSET,
            "exporter": f"torch {torch.__version__} torch.onnx.export (dynamo=False)",
            "check": check_recognizer(session, predictor)}


def write_manifest(out_dir: Path, files: dict[str, dict[str, Any]], preset: str) -> Path:
    """Write ``out_dir/export.json``: format, preset, library versions, one entry per file."""
    manifest = {"format": EXPORT_FORMAT, "preset": preset, "opset": OPSET, **_versions(),
                "files": files}
    path = out_dir / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def export_pipeline(config: PipelineConfig, out_dir: str | Path,
                    roles: Sequence[str] = ("detector", "recognizer")) -> dict[str, Any]:
    """Export a pipeline config's models to ONNX in ``out_dir`` with an ``export.json``.

    Args:
        config: the pipeline config (a preset, or a file with ``--set`` overrides).
        out_dir: the folder to write (created).
        roles: which models; a detector that needs no model (``backend: ink``) is skipped.

    Returns:
        The manifest written to ``out_dir/export.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    if "detector" in roles and config.detector.backend != "ink":
        files[FILE_NAMES["detector"]] = export_detector(config.detector, out)
    if "recognizer" in roles:
        rec_cfg = config.recognizer.model_copy(update={"batch_size": config.batch_size})
        files[FILE_NAMES["recognizer"]] = export_recognizer(rec_cfg, out)
    write_manifest(out, files, config.name)
    return json.loads((out / MANIFEST).read_text(encoding="utf-8"))


# --- where a graph comes from: onnx_dir, the cache, or a fresh export ----------------------

def _from_onnx_dir(onnx_dir: Path, role: str, weights: Path | None) -> Path:
    path = onnx_dir / FILE_NAMES[role]
    manifest_path = onnx_dir / MANIFEST
    if not path.is_file() or not manifest_path.is_file():
        missing = path if not path.is_file() else manifest_path
        raise OnnxBackendError(
            f"onnx_dir {onnx_dir}: {missing.name} not found ({missing}); write the folder with "
            f"'{EXPORT_COMMAND}', or leave onnx_dir unset to export into the cache")
    try:
        entry = json.loads(manifest_path.read_text(encoding="utf-8"))["files"][path.name]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OnnxBackendError(f"onnx_dir {onnx_dir}: {MANIFEST} has no readable entry for "
                               f"{path.name} ({exc}); export the folder again") from exc
    if weights is not None and entry.get("weights_sha256") != sha256_of(weights):
        raise OnnxBackendError(
            f"onnx_dir {onnx_dir}: {path.name} was exported from weights with SHA-256 "
            f"{entry.get('weights_sha256')}, but {role}.weights {weights} has "
            f"{sha256_of(weights)}; export it again from these weights")
    return path


def cached_export(role: str, weights: Path, export: Any) -> Path:
    """The cached graph of ``weights`` (``<cache>/onnx/<sha256>/<role>.onnx``), exported
    with ``export(folder) -> entry`` on first use (into a temporary folder renamed in place,
    so a crash leaves no half-written graph)."""
    sha = sha256_of(weights)
    folder = default_cache_dir() / "onnx" / sha
    path = folder / FILE_NAMES[role]
    manifest = folder / MANIFEST
    if path.is_file() and manifest.is_file():
        try:
            if json.loads(manifest.read_text(encoding="utf-8")).get("format") == EXPORT_FORMAT:
                return path
        except ValueError:
            pass
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{sha[:12]}-"))
    try:
        log.info("exporting %s %s to ONNX (first use) into %s", role, weights, folder)
        write_manifest(tmp, {FILE_NAMES[role]: export(tmp)}, "cache")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _graph(config: PipelineConfig, role: str, weights: Path | None, export: Any
           ) -> tuple[Path, tempfile.TemporaryDirectory[str] | None]:
    if config.onnx_dir is not None:
        from core.paths import resolve_path

        return _from_onnx_dir(resolve_path(config.onnx_dir), role, weights), None
    if weights is not None:
        return cached_export(role, weights, export), None
    # An untrained model (tests, speed runs) has no file to key a cache by: a throwaway export.
    tmp = tempfile.TemporaryDirectory(prefix="ocr-onnx-")
    export(Path(tmp.name))
    return Path(tmp.name) / FILE_NAMES[role], tmp


def build_onnx_detector(config: PipelineConfig, device: str = "auto") -> Detector:
    """The config's detector with its network run by ONNX Runtime (``backend: ink`` needs
    no network and is built as usual; ``clean_scans: ink`` routes as in torch)."""
    from detection.factory import build_detector
    from detection.ink import CleanScanRouter
    from detection.yolo import YoloDetector

    cfg = config.detector
    if cfg.backend == "ink":
        return build_detector(cfg, "cpu")
    model, classes, weights = _torch_yolo(cfg)
    path, tmp = _graph(config, "detector", weights,
                       lambda folder: export_detector(cfg, folder))
    session = open_session(path, device)
    if tmp is not None:
        tmp.cleanup()  # the session holds the graph
    what = f"weights {cfg.weights}" if weights is not None else "UNTRAINED (untrained: true)"
    description = (f"yolo {cfg.model}, {what}, onnxruntime "
                   f"{session.get_providers()[0]} ({path if tmp is None else 'temporary'})")
    network = OrtYoloNetwork(session, model.stride)
    detector = YoloDetector(network, classes, cfg, torch.device("cpu"), description)
    return CleanScanRouter(detector) if cfg.clean_scans == "ink" else detector


def build_onnx_recognizer(config: PipelineConfig, device: str = "auto"
                          ) -> RecognitionPredictor:
    """The config's recognizer with its CTC read run by ONNX Runtime: the torch predictor's
    tokenizer, preprocessing, width buckets and decoding, in float32."""
    cfg = config.recognizer.model_copy(update={"batch_size": config.batch_size})
    torch_predictor = _torch_recognizer(cfg)
    weights = required_weights(cfg.weights, cfg.untrained, "recognizer.weights")
    path, tmp = _graph(config, "recognizer", weights,
                       lambda folder: export_recognizer(cfg, folder))
    session = open_session(path, device)
    if tmp is not None:
        tmp.cleanup()
    description = (f"{torch_predictor.description}, onnxruntime {session.get_providers()[0]} "
                   f"({path if tmp is None else 'temporary'})")
    return RecognitionPredictor(OrtCtcReader(session), torch_predictor.tokenizer,
                                torch_predictor.preprocess, merge=cfg.merge,
                                batch_size=cfg.batch_size, device="cpu",
                                regions=torch_predictor.regions, description=description,
                                width_step=cfg.width_step, precision="fp32",
                                one_row_below=cfg.one_row_below, split_aspect=cfg.split_aspect)


def build_onnx_stages(config: PipelineConfig, device: str, mode: str
                      ) -> tuple[Detector | None, RecognitionPredictor | None]:
    """The detector and recognizer a mode needs (as ``OcrPipeline.from_config``), run by
    ONNX Runtime."""
    detector = build_onnx_detector(config, device) if mode in ("ocr", "detect") else None
    recognizer = build_onnx_recognizer(config, device) if mode in ("ocr", "recognize") else None
    return detector, recognizer

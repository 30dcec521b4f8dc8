"""ONNX export of a YOLO detector, with ultralytics' own exporter.

The exported graph is the network alone (letterboxed RGB ``[0, 1]`` images in, raw
``(B, 4 + classes, anchors)`` predictions out), dynamic in batch, height and width: the
letterbox, NMS and the text-scale second pass stay in :class:`detection.yolo.YoloDetector`,
which runs either graph unchanged.
"""

from __future__ import annotations

import copy
import logging
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from core.offline import setup_ultralytics

log = logging.getLogger(__name__)

YOLO_INPUT = "images"
YOLO_OUTPUT = "output0"


def export_yolo_onnx(model: torch.nn.Module, classes: Sequence[str], path: str | Path,
                     imgsz: int, opset: int = 17) -> Path:
    """Write a YOLO ``DetectionModel`` as ONNX (batch, height and width dynamic).

    ultralytics' ``Exporter`` (offline: :func:`core.offline.setup_ultralytics`; no
    simplifier, so nothing is installed) fuses convolutions with their batch norms on a copy
    and traces it with ``torch.onnx.export(dynamo=False)``; the model passed in is not
    changed.

    Args:
        model: an ultralytics ``DetectionModel`` (as :func:`detection.yolo.load_yolo_weights`
            returns it).
        classes: class names in head order (stored in the file's metadata).
        path: the ``.onnx`` file to write.
        imgsz: square size of the trace input (any multiple of the stride runs later).
        opset: ONNX opset.

    Returns:
        ``path``.
    """
    setup_ultralytics()
    from ultralytics.engine.exporter import Exporter
    from ultralytics.utils import LOGGER

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".yolo-export-") as tmp:
        work = copy.deepcopy(model).cpu().float().eval()
        # What the exporter reads from a model that YOLO() would have loaded from a .pt:
        # the file name it writes next to, the task, class names and training arguments.
        work.pt_path = str(Path(tmp) / "model.pt")
        work.task = "detect"
        work.names = dict(enumerate(classes))
        work.args = {"data": ""}
        exporter = Exporter(overrides={"format": "onnx", "dynamic": True, "simplify": False,
                                       "opset": opset, "imgsz": imgsz, "batch": 1,
                                       "device": "cpu", "nms": False, "verbose": False})
        level = LOGGER.level
        LOGGER.setLevel(logging.WARNING)  # its progress banner and 'yolo predict' hints
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX.*")
                written = Path(exporter(model=work))
        finally:
            LOGGER.setLevel(level)
        shutil.move(written, path)
    return path

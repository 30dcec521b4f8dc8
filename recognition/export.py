"""ONNX export of a recognizer's CTC reading: ``(images, widths) -> ctc_logits, mask``.

What is exported is what a CTC read runs (:meth:`RecognitionPredictor.predict_tensors`): a
CRNN's forward, a joint model's ``encode`` (its Transformer decoder is not exported: a
joint model is read with its CTC head, ``merge: ctc``). Batch and input width are dynamic,
so the predictor's width buckets (``width_step``) run as they do in torch; decoding
(:func:`recognition.decoding.ctc_greedy`) stays in Python and is shared.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
from torch import nn

RECOGNIZER_INPUTS = ("images", "widths")


class HeightMean(nn.Module):
    """Mean over the height axis, keeping it as size 1: ``AdaptiveAvgPool2d((1, None))`` in
    a form the ONNX exporters take with a dynamic width (they refuse adaptive pooling whose
    output size depends on the input)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=2, keepdim=True)


def _column_pool_to_mean(model: nn.Module) -> None:
    for name, child in list(model.named_children()):
        if isinstance(child, nn.AdaptiveAvgPool2d) and tuple(child.output_size) == (1, None):
            setattr(model, name, HeightMean())
        else:
            _column_pool_to_mean(child)


class CtcReader(nn.Module):
    """The exportable CTC read of a recognizer: a copy of it with column pooling rewritten
    (:class:`HeightMean`), returning a tuple in :func:`recognizer_outputs` order.

    Args:
        model: a registered recognizer (CRNN or joint CTC + Transformer); not changed.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = copy.deepcopy(model).cpu().float().eval()
        _column_pool_to_mean(self.model)
        self.output_names = recognizer_outputs(model)

    def forward(self, images: torch.Tensor, widths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if getattr(self.model, "has_decoder", False):
            out = self.model.encode(images, widths)
        else:
            out = self.model(images, widths)
        return tuple(out[name] for name in self.output_names)


def recognizer_outputs(model: nn.Module) -> tuple[str, ...]:
    """Output names of a recognizer's CTC read: ``ctc_logits``, ``mask`` and, with a region
    head, ``region_logits``."""
    names = ("ctc_logits", "mask")
    return names + (("region_logits",) if getattr(model, "region_head", None) is not None
                    else ())


def export_recognizer_onnx(model: nn.Module, path: str | Path, height: int, width: int,
                           opset: int = 17) -> Path:
    """Write a recognizer's CTC read as ONNX (``torch.onnx.export``, TorchScript tracing).

    The tracing exporter (``dynamo=False``) is used: on the joint reader torch 2.14's dynamo
    exporter gives the same outputs (both within 1e-5 of torch) in 4x the time and writes its
    weights to a separate ``.onnx.data`` file; on the CRNN's adaptive pooling both fail
    (hence :class:`HeightMean`).

    Args:
        model: a registered recognizer (any dtype; exported in float32).
        path: the ``.onnx`` file to write.
        height: the model's input height (fixed in the graph).
        width: trace width; any width runs later (dynamic axis).
        opset: ONNX opset.

    Returns:
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    reader = CtcReader(model)
    images = torch.zeros(2, 3, height, width)
    widths = torch.tensor([width, max(1, width // 2)], dtype=torch.long)
    axes: dict[str, dict[int, str]] = {"images": {0: "batch", 3: "width"},
                                       "widths": {0: "batch"}}
    for name in reader.output_names:
        axes[name] = {0: "batch"} if name == "region_logits" else {0: "batch", 1: "columns"}
    tmp = path.with_name(f".{path.name}.tmp")
    with warnings.catch_warnings():
        # The LSTM warning about other batch sizes does not apply: no initial states are
        # given, so they are zeros of the running batch (tests run batches of 1 and 3).
        warnings.filterwarnings("ignore", message=".*variable length with LSTM.*")
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        torch.onnx.export(reader, (images, widths), str(tmp),
                          input_names=list(RECOGNIZER_INPUTS),
                          output_names=list(reader.output_names), dynamic_axes=axes,
                          opset_version=opset, dynamo=False)
    tmp.replace(path)
    return path

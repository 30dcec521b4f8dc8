"""Recognizer checkpoints: one file with architecture, kwargs, tokenizer, preprocessing and
weights, loadable with ``torch.load(weights_only=True)``.

Format (a plain dict)::

    {"format": "ocr-pipeline/recognizer", "version": 1,
     "arch": str, "model_kwargs": dict, "tokenizer": {"kind", "charset"},
     "preprocess": {"height", "width", "two_row_aspect", "min_aspect", "text_band",
                    "row_split"}, "regions": [str, ...],
     "state_dict": {name: tensor}, "meta": {...},
     # training checkpoints also hold:
     "train": {"optimizer", "scheduler", "step", "epoch", "batch_in_epoch", "best_cer",
               "rng", "config"}}

Shipped weights (:func:`export_checkpoint`) drop ``train`` and may store their floating-point
tensors as float16 (half the file); loading casts them back to the model's float32.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from recognition.models import create_model
from recognition.preprocess import PreprocessConfig
from recognition.tokenizer import Tokenizer

FORMAT = "ocr-pipeline/recognizer"
VERSION = 1


def make_checkpoint(model: nn.Module, arch: str, model_kwargs: dict[str, Any],
                    tokenizer: Tokenizer, preprocess: PreprocessConfig,
                    regions: list[str] | None = None, meta: dict[str, Any] | None = None,
                    train: dict[str, Any] | None = None) -> dict[str, Any]:
    """Assemble the checkpoint dict (only tensors, dicts, lists, str/int/float/None)."""
    ckpt: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "arch": arch, "model_kwargs": dict(model_kwargs),
        "tokenizer": tokenizer.to_dict(), "preprocess": preprocess.to_dict(),
        "regions": list(regions or []),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": dict(meta or {}),
    }
    if train is not None:
        ckpt["train"] = train
    return ckpt


def save_atomic(obj: dict[str, Any], path: str | Path) -> Path:
    """``torch.save`` to a temporary file, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)
    return path


def save_checkpoint(path: str | Path, model: nn.Module, arch: str, model_kwargs: dict[str, Any],
                    tokenizer: Tokenizer, preprocess: PreprocessConfig,
                    regions: list[str] | None = None, meta: dict[str, Any] | None = None,
                    train: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint atomically (see module docstring for the format)."""
    return save_atomic(make_checkpoint(model, arch, model_kwargs, tokenizer, preprocess,
                                       regions, meta, train), path)


def export_checkpoint(src: str | Path, dst: str | Path, half: bool = True,
                      arch: str | None = None) -> Path:
    """Write ``src`` as shipped weights: without training state, floats as float16 if ``half``.

    The metadata (architecture, tokenizer, preprocessing, regions, meta) is kept unchanged;
    ``meta["exported_from"]`` names ``src`` and ``meta["stored_dtype"]`` the weights' dtype.
    ``arch`` writes it as that architecture by a known conversion
    (:func:`recognition.conversion.as_arch`): ``ctc_transformer`` stores a joint reader
    without the decoder its ``merge: ctc`` never runs.

    Raises:
        ValueError: ``arch`` is neither the checkpoint's own nor reachable by a conversion.
    """
    from recognition.conversion import as_arch

    ckpt = read_checkpoint(src)
    if arch is not None:
        ckpt = as_arch(ckpt, arch)
        if ckpt.get("arch") != arch:
            raise ValueError(f"{src} is a {ckpt.get('arch')!r} checkpoint and no conversion "
                             f"makes it {arch!r}")
    ckpt.pop("train", None)
    if half:
        ckpt["state_dict"] = {k: v.half() if v.is_floating_point() else v
                              for k, v in ckpt["state_dict"].items()}
    ckpt["meta"] = {**ckpt.get("meta", {}), "exported_from": str(src),
                    "stored_dtype": "float16" if half else "float32"}
    return save_atomic(ckpt, dst)


def average_checkpoints(first: str | Path, second: str | Path, dst: str | Path,
                        weight: float = 0.5) -> Path:
    """Write the weight average of two checkpoints of one model (a fine-tune and its start):
    every float tensor ``(1 - weight) * first + weight * second``, other tensors and the
    metadata from ``second``. Averaging a fine-tune with the model it started from keeps
    much of what each reads well (weight-space ensembling, WiSE-FT).

    Raises:
        ValueError: naming what differs, when the two are not the same model (architecture,
            model settings, tokenizer or tensor names and shapes), or ``weight`` is outside
            [0, 1].
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight {weight} is outside [0, 1]")
    a, b = read_checkpoint(first), read_checkpoint(second)
    for key in ("arch", "model_kwargs", "tokenizer"):
        if a.get(key) != b.get(key):
            raise ValueError(f"{first} and {second} differ in {key}: not one model")
    sa, sb = a["state_dict"], b["state_dict"]
    if sa.keys() != sb.keys():
        raise ValueError(f"{first} and {second} hold different tensors: "
                         f"{sorted(set(sa) ^ set(sb))[:5]}")
    out: dict[str, torch.Tensor] = {}
    for name, tb in sb.items():
        ta = sa[name]
        if ta.shape != tb.shape:
            raise ValueError(f"{name}: shape {tuple(ta.shape)} in {first}, "
                             f"{tuple(tb.shape)} in {second}")
        out[name] = ((1.0 - weight) * ta.float() + weight * tb.float()).to(tb.dtype) \
            if tb.is_floating_point() else tb
    ckpt = {k: v for k, v in b.items() if k != "train"}
    ckpt["state_dict"] = out
    ckpt["meta"] = {**b.get("meta", {}), "averaged": {"first": str(first), "second": str(second),
                                                      "weight": weight}}
    return save_atomic(ckpt, dst)


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu"
                    ) -> dict[str, Any]:
    """Load and check a checkpoint dict (``weights_only=True``); clear errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recognizer checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise ValueError(f"cannot read recognizer checkpoint {path}: {exc}") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path} is not a recognizer checkpoint of this project")
    return ckpt


def model_from_checkpoint(ckpt: dict[str, Any]
                          ) -> tuple[nn.Module, Tokenizer, PreprocessConfig, list[str]]:
    """Rebuild model (weights loaded, eval mode), tokenizer, preprocessing and region names."""
    tokenizer = Tokenizer.from_dict(ckpt["tokenizer"])
    kwargs = dict(ckpt["model_kwargs"])
    kwargs.pop("encoder_weights", None)  # the state dict carries the trained weights
    model = create_model(ckpt["arch"], tokenizer.num_ctc_classes, tokenizer.num_attn_classes,
                         **kwargs)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return (model, tokenizer, PreprocessConfig.from_dict(ckpt["preprocess"]),
            list(ckpt.get("regions", [])))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu"
                    ) -> tuple[nn.Module, Tokenizer, PreprocessConfig, list[str]]:
    """:func:`read_checkpoint` + :func:`model_from_checkpoint`."""
    return model_from_checkpoint(read_checkpoint(path, map_location))

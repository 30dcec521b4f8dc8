"""Checkpoints of one architecture read as another: the joint reader without its decoder.

``joint_ctc_transformer`` → ``ctc_transformer`` (:func:`drop_decoder`). Key mapping of the
state dict: every key keeps its name and tensor (``encoder.*``, ``proj.*``, ``context.*``,
``norm.*``, ``ctc_head.*`` and ``region_head.*`` when there is one); the ``decoder.*`` keys
are dropped. ``model_kwargs`` lose ``num_decoder_layers`` and ``max_length`` (the decoder's
alone). Nothing else may be dropped or left over: the kept keys are checked against a
``ctc_transformer`` built from the converted kwargs (same names, same shapes), so a file that
does not fit is an error, never a partly loaded model. The CTC reading of the converted model
is the joint model's, bit for bit (same modules, same order of operations).
"""

from __future__ import annotations

from typing import Any

import torch

from recognition.models import create_model
from recognition.tokenizer import Tokenizer

JOINT = "joint_ctc_transformer"
CTC = "ctc_transformer"
DECODER_PREFIX = "decoder."
DECODER_KWARGS = ("num_decoder_layers", "max_length")


def drop_decoder(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A ``joint_ctc_transformer`` checkpoint dict as a ``ctc_transformer`` one (new dict).

    Training state (``train``) is not carried over: an optimizer's state belongs to the
    parameters of the model it stepped. ``meta["converted_from"]`` records the source arch
    and how many decoder tensors were dropped.

    Raises:
        ValueError: not a joint checkpoint, or its kept weights do not fit a
            ``ctc_transformer`` of its kwargs exactly (missing, unexpected or reshaped keys).
    """
    if ckpt.get("arch") != JOINT:
        raise ValueError(f"drop_decoder: expected a {JOINT} checkpoint, got {ckpt.get('arch')!r}")
    state = ckpt["state_dict"]
    kept = {k: v for k, v in state.items() if not k.startswith(DECODER_PREFIX)}
    kwargs = {k: v for k, v in ckpt["model_kwargs"].items() if k not in DECODER_KWARGS}
    _check_fits(kept, kwargs, Tokenizer.from_dict(ckpt["tokenizer"]))
    out = {k: v for k, v in ckpt.items() if k != "train"}
    out.update(arch=CTC, model_kwargs=kwargs, state_dict=kept,
               meta={**ckpt.get("meta", {}),
                     "converted_from": {"arch": JOINT, "dropped": len(state) - len(kept)}})
    return out


def _check_fits(state: dict[str, torch.Tensor], kwargs: dict[str, Any],
                tokenizer: Tokenizer) -> None:
    """Raise unless ``state`` has exactly the keys and shapes of a ``ctc_transformer``."""
    build = {k: v for k, v in kwargs.items() if k != "encoder_weights"}
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        target = create_model(CTC, tokenizer.num_ctc_classes, tokenizer.num_attn_classes,
                              **build).state_dict()
    missing = sorted(set(target) - set(state))
    unexpected = sorted(set(state) - set(target))
    reshaped = sorted(k for k in set(state) & set(target) if state[k].shape != target[k].shape)
    if missing or unexpected or reshaped:
        raise ValueError(f"joint checkpoint does not map onto {CTC}: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}, other shape {reshaped[:5]}")


CONVERSIONS = {(JOINT, CTC): drop_decoder}


def as_arch(ckpt: dict[str, Any], arch: str) -> dict[str, Any]:
    """``ckpt`` as a checkpoint of ``arch``: itself when it already is, else converted by a
    known conversion (:data:`CONVERSIONS`); an unknown pair is left as it is for the caller's
    own architecture check to refuse."""
    convert = CONVERSIONS.get((ckpt.get("arch"), arch))
    return convert(ckpt) if convert is not None else ckpt

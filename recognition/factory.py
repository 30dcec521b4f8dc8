"""``build_recognizer``: a ready predictor from a :class:`RecognizerConfig`."""

from __future__ import annotations

import dataclasses
import logging

import torch

from core.device import select_device
from core.weights import required_weights
from recognition.checkpoint import model_from_checkpoint, read_checkpoint
from recognition.config import RecognizerConfig
from recognition.conversion import as_arch
from recognition.models import DEFAULT_CFGS, create_model
from recognition.predictor import RecognitionPredictor
from recognition.preprocess import PreprocessConfig
from recognition.tokenizer import Tokenizer

log = logging.getLogger(__name__)


def build_recognizer(cfg: RecognizerConfig, device: str | torch.device = "auto"
                     ) -> RecognitionPredictor:
    """Build the recognizer ``cfg`` describes.

    The ``cfg.weights`` checkpoint's architecture, charset and input size are used (they are
    what the weights were trained with); it is loaded with ``torch.load(weights_only=True)``.
    ``arch: ctc_transformer`` with a joint reader's file drops its decoder on loading
    (:func:`recognition.conversion.drop_decoder`). Only ``cfg.untrained`` (with no weights
    named) builds the architecture untrained from ``cfg``, and a WARNING says so.

    Returns:
        a :class:`RecognitionPredictor`; ``.description`` says what was loaded.

    Raises:
        MissingWeightsError: ``cfg.weights`` is not set or not a file, and ``cfg.untrained``
            does not ask for a randomly initialised model.
    """
    path = required_weights(cfg.weights, cfg.untrained, "recognizer.weights")
    dev = device if isinstance(device, torch.device) else select_device(str(device))
    if path is not None:
        ckpt = as_arch(read_checkpoint(path, map_location="cpu"), cfg.arch)
        model, tokenizer, prep, regions = model_from_checkpoint(ckpt)
        if (prep.height, prep.width) != (cfg.height, cfg.width):
            log.info("recognizer %s was trained at %dx%d; using that instead of %dx%d",
                     path, prep.width, prep.height, cfg.width, cfg.height)
        if "min_aspect" in cfg.model_fields_set and cfg.min_aspect != prep.min_aspect:
            prep = dataclasses.replace(prep, min_aspect=cfg.min_aspect)
        if cfg.text_band is not None and cfg.text_band != prep.text_band:
            prep = dataclasses.replace(prep, text_band=cfg.text_band)
        if cfg.row_split is not None and cfg.row_split != prep.row_split:
            prep = dataclasses.replace(prep, row_split=cfg.row_split)
        arch = type(model).__name__
        description = f"recognizer {arch}, weights {cfg.weights}"
    else:
        log.warning("recognizer %s is UNTRAINED (untrained: true): its output is random text",
                    cfg.arch)
        tokenizer = Tokenizer(cfg.charset)
        model = create_model(cfg.arch, tokenizer.num_ctc_classes, tokenizer.num_attn_classes,
                             **cfg.model)
        two_row = cfg.two_row_aspect
        if two_row is None and "two_row_aspect" not in cfg.model_fields_set:
            two_row = DEFAULT_CFGS[cfg.arch]["two_row_aspect"]
        prep = PreprocessConfig(cfg.height, cfg.width, two_row, cfg.min_aspect,
                                bool(cfg.text_band), bool(cfg.row_split))
        regions = []
        description = f"recognizer {cfg.arch} UNTRAINED (untrained: true)"
    return RecognitionPredictor(model, tokenizer, prep, merge=cfg.merge,
                                batch_size=cfg.batch_size, device=dev,
                                num_candidates=cfg.num_candidates, regions=regions,
                                description=description, width_step=cfg.width_step,
                                precision=cfg.precision, one_row_below=cfg.one_row_below,
                                split_aspect=cfg.split_aspect)

"""The decoder-first merge rules (issue 24): ``decoder_or_ctc`` (the seed project's rule) and
``decoder`` (the decoder alone), next to the existing ``ctc_empty``."""

import numpy as np
import pytest
import torch

from recognition.decoding import Decoded, merge
from recognition.models import create_model
from recognition.predictor import RecognitionPredictor
from recognition.preprocess import PreprocessConfig
from recognition.tokenizer import Tokenizer
from tests.recognition.helpers import TINY_CHARSET, TINY_KWARGS, TINY_SIZE, render_word

SPANS = ((0.0, 0.4), (0.6, 1.0))


def test_decoder_or_ctc_takes_the_decoder_reading_with_ctc_spans():
    ctc = Decoded("ab cd", 0.9, SPANS, (0.8, 0.7))
    out = merge(ctc, [Decoded("ab cx", 0.5), Decoded("ab cd", 0.4)], "decoder_or_ctc")
    assert out.text == "ab cx" and out.score == 0.5
    assert out.spans == SPANS and out.word_scores == (0.8, 0.7)


def test_decoder_or_ctc_falls_back_to_ctc_only_when_the_decoder_reads_nothing():
    ctc = Decoded("ab cd", 0.9, SPANS)
    assert merge(ctc, [Decoded("", 0.2)], "decoder_or_ctc") == ctc
    # ctc_empty is a different rule: an empty CTC reading empties the output...
    assert merge(Decoded("", 0.7), [Decoded("HE", 0.5)], "ctc_empty").text == ""
    # ...where the seed's rule keeps the decoder's reading
    assert merge(Decoded("", 0.7), [Decoded("HE", 0.5)], "decoder_or_ctc").text == "HE"


def test_decoder_rule_keeps_an_empty_decoder_reading():
    ctc = Decoded("HELLO", 0.9)
    assert merge(ctc, [Decoded("", 0.2)], "decoder").text == ""
    assert merge(ctc, [Decoded("HALLO", 0.5), Decoded("HELLO", 0.4)], "decoder").text == "HALLO"


def test_unknown_rule_names_the_known_ones():
    with pytest.raises(ValueError, match="decoder_or_ctc"):
        merge(Decoded("A", 0.5), [Decoded("B", 0.5)], "beam")  # type: ignore[arg-type]


def _predictor(rule: str) -> RecognitionPredictor:
    tok = Tokenizer(TINY_CHARSET)
    torch.manual_seed(1)
    arch = "joint_ctc_transformer"
    model = create_model(arch, tok.num_ctc_classes, tok.num_attn_classes, **TINY_KWARGS[arch])
    return RecognitionPredictor(model, tok, PreprocessConfig(*TINY_SIZE[arch]), merge=rule,
                                batch_size=3)


def test_predictor_reads_with_the_new_rules():
    rng = np.random.default_rng(0)
    crops = [render_word(t) for t in ["A1", "BOX77", "MOP123"]]
    crops += [rng.integers(0, 256, (20, 90, 3), dtype=np.uint8) for _ in range(2)]
    ctc = [r.text for r in _predictor("ctc").predict(crops)]
    decoder = [r.text for r in _predictor("decoder").predict(crops)]
    seed = [r.text for r in _predictor("decoder_or_ctc").predict(crops)]
    assert seed == [d or c for d, c in zip(decoder, ctc, strict=True)]
    # an untrained decoder never reads what the CTC head reads on all five crops
    assert decoder != ctc

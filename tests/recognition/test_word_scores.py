"""Per-word confidences of a CTC read (``Recognition.word_scores``)."""

import math

import pytest
import torch

from recognition.decoding import Decoded, ctc_greedy, ctc_word_scores, merge
from recognition.tokenizer import Tokenizer
from tests.recognition.test_predictor import _crops, _predictor


def test_word_scores_are_the_least_sure_column_of_each_word():
    tok = Tokenizer("ab ")
    # columns: a a - b ' ' - a b - -   (- is blank): "ab" at 0-4, "ab" at 6-8
    ids = [1, 1, 0, 2, 3, 0, 1, 2, 0, 0]
    probs = [0.9, 0.8, 0.99, 0.6, 0.1, 0.2, 0.95, 0.7, 0.05, 0.05]
    # the space (0.1) and the blanks around the words (0.2, 0.05) belong to no word
    assert ctc_word_scores(ids, probs, tok) == pytest.approx((0.6, 0.7))
    assert ctc_word_scores([3, 0, 3], [0.5, 0.5, 0.5], tok) == ()


def test_ctc_greedy_gives_one_score_per_word():
    tok = Tokenizer("ab ")
    ids = torch.tensor([1, 0, 3, 2, 2, 0])
    logits = torch.full((1, 6, tok.num_ctc_classes), -5.0)
    logits[0, torch.arange(6), ids] = 5.0
    logits[0, 4, 1] = 4.0  # column 4 ("b") is less sure: "a" is close behind
    (read,) = ctc_greedy(logits, torch.ones(1, 6, dtype=torch.bool), tok)
    assert read.text == "a b" and len(read.word_scores) == 2
    sure = 1 / (1 + (tok.num_ctc_classes - 1) * math.exp(-10))
    doubt = 1 / (1 + math.exp(-1) + (tok.num_ctc_classes - 2) * math.exp(-10))
    assert read.word_scores == pytest.approx((sure, doubt), rel=1e-5)


def test_transformer_candidates_keep_word_scores_with_as_many_words():
    ctc = Decoded("ab cd", 0.9, ((0.0, 0.4), (0.6, 1.0)), (0.9, 0.4))
    assert merge(ctc, [Decoded("ab cx", 0.5)], "ctc_empty").word_scores == (0.9, 0.4)
    assert merge(ctc, [Decoded("abcd", 0.5)], "ctc_empty").word_scores is None


@pytest.mark.parametrize("arch", ["crnn", "joint_ctc_transformer"])
def test_predictor_gives_a_score_per_word_of_each_ctc_read(arch):
    for rec in _predictor(arch, merge_rule="ctc").predict(_crops()):
        assert rec.word_scores is not None
        assert len(rec.word_scores) == len(rec.text.split()) == len(rec.spans)
        assert all(0.0 <= s <= 1.0 for s in rec.word_scores)

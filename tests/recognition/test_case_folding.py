"""Labels in capitals whatever the print (SROIE): either case of a letter counts as right."""

import pytest
import torch

from recognition.losses import JointCTCAttentionLoss, fold_case
from recognition.tokenizer import Tokenizer

CHARSET = "abAB1ßяЯ"


def test_case_pairs_join_each_letter_to_its_capital_only_where_both_exist():
    tok = Tokenizer(CHARSET)
    pairs = {(tok.charset[lo], tok.charset[up]) for lo, up in zip(*tok.case_pairs(),
                                                                     strict=True)}
    assert pairs == {("a", "A"), ("b", "B"), ("я", "Я")}  # no ß (its capital is "SS")


def test_fold_case_sums_a_capital_with_its_small_letter_in_flagged_rows_only():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 4)  # classes: 0 other, 1 "a", 2 "A", 3 other
    rows = torch.tensor([True, False])
    out = fold_case(logits, rows, torch.tensor([1]), torch.tensor([2]))
    p, q = logits.softmax(-1), out.softmax(-1)
    assert torch.allclose(q[0, :, 2], p[0, :, 1] + p[0, :, 2], atol=1e-6)
    assert torch.all(q[0, :, 1] < 1e-6)
    assert torch.allclose(q[0, :, [0, 3]], p[0, :, [0, 3]], atol=1e-6)  # the rest as it was
    assert torch.equal(out[1], logits[1])  # an unflagged row is untouched


@pytest.mark.parametrize("head", ["ctc", "ce"])
def test_a_folded_label_forgives_the_case_and_nothing_else(head):
    tok = Tokenizer(CHARSET)
    loss = JointCTCAttentionLoss(tok, ctc_weight=1.0, ce_weight=1.0)

    def confident(text: str) -> dict[str, torch.Tensor]:
        """Outputs that read ``text`` with near certainty, in both heads."""
        ctc = torch.full((1, 2 * len(text) + 1, tok.num_ctc_classes), -10.0)
        ctc[0, :, Tokenizer.BLANK] = 10.0
        for k, c in enumerate(text):
            ctc[0, 2 * k + 1, :] = -10.0
            ctc[0, 2 * k + 1, tok.indices(c)[0] + 1] = 10.0
        attn = torch.full((1, len(text) + 1, tok.num_attn_classes), -10.0)
        for k, c in enumerate(text):
            attn[0, k, tok.indices(c)[0] + Tokenizer.N_SPECIAL] = 10.0
        attn[0, len(text), Tokenizer.EOS] = 10.0
        return {"ctc_logits": ctc, "attn_logits": attn,
                "mask": torch.ones(1, ctc.shape[1], dtype=torch.bool)}

    label = ["AB1"]
    targets = tok.encode_attention(label, 8)[:, : len(label[0]) + 2]
    folded = torch.tensor([True])

    def term(read: str, flags) -> float:
        return loss(confident(read), label, targets, None, flags)[head].item()

    assert term("ab1", folded) < 0.01          # read in small letters: right, folded
    assert term("ab1", None) > 1               # ...and wrong without folding
    assert term("AB1", folded) < 0.01          # capitals stay right
    assert term("aa1", folded) > 1             # a wrong letter stays wrong in any case

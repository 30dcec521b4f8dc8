"""Training loss: weighted CTC + attention cross-entropy (+ region classification)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recognition.tokenizer import Tokenizer


class JointCTCAttentionLoss(nn.Module):
    """``ctc_weight × CTC + ce_weight × CE (+ region_weight × region CE)``.

    Models without a decoder (CRNN) are trained on CTC alone (weight 1).
    """

    def __init__(self, tokenizer: Tokenizer, ctc_weight: float = 0.25, ce_weight: float = 0.75,
                 region_weight: float = 0.1):
        super().__init__()
        self.tokenizer = tokenizer
        self.ctc_weight, self.ce_weight, self.region_weight = ctc_weight, ce_weight, region_weight
        lower, upper = tokenizer.case_pairs()
        self._lower, self._upper = torch.tensor(lower), torch.tensor(upper)

    def forward(self, outputs: dict[str, torch.Tensor], texts: list[str],
                attn_targets: torch.Tensor | None = None,
                regions: torch.Tensor | None = None,
                case_folded: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Loss terms; ``attn_targets`` are full rows ``bos .. eos pad`` from the tokenizer.
        Rows flagged in ``case_folded`` (texts in capitals whatever the print) score a
        capital's class as the capital or its small letter (:func:`fold_case`)."""
        logits = outputs["ctc_logits"].float()
        folded = case_folded is not None and bool(case_folded.any())
        if folded:
            logits = fold_case(logits, case_folded, self._lower + 1, self._upper + 1)
        log_probs = logits.log_softmax(-1).transpose(0, 1)
        targets, target_lengths = self.tokenizer.encode_ctc(texts)
        input_lengths = outputs["mask"].sum(1)
        ctc = F.ctc_loss(log_probs, targets.to(logits.device), input_lengths,
                         target_lengths.to(logits.device), blank=Tokenizer.BLANK,
                         zero_infinity=True)
        terms = {"ctc": ctc}
        if "attn_logits" in outputs and attn_targets is not None:
            gold = attn_targets[:, 1:].to(logits.device)
            attn = outputs["attn_logits"].float()
            if folded:
                attn = fold_case(attn, case_folded, self._lower + Tokenizer.N_SPECIAL,
                                 self._upper + Tokenizer.N_SPECIAL)
            terms["ce"] = F.cross_entropy(attn.reshape(-1, attn.shape[-1]), gold.reshape(-1),
                                          ignore_index=Tokenizer.PAD)
            loss = self.ctc_weight * ctc + self.ce_weight * terms["ce"]
        else:
            loss = ctc
        if "region_logits" in outputs and regions is not None and bool((regions >= 0).any()):
            terms["region"] = F.cross_entropy(outputs["region_logits"].float(),
                                              regions.to(logits.device), ignore_index=-1)
            loss = loss + self.region_weight * terms["region"]
        terms["loss"] = loss
        return terms


def fold_case(logits: torch.Tensor, rows: torch.Tensor, lower: torch.Tensor,
              upper: torch.Tensor) -> torch.Tensor:
    """``logits`` ``(B, ..., C)`` with, in each row flagged by ``rows`` ``(B,)``, every
    capital's class (``upper``) made to stand for the capital or its small letter (``lower``,
    the same order): its logit becomes the log-sum-exp of both and the small letter's drops
    out (a large negative logit). The softmax normaliser is unchanged, so the capital's
    probability becomes the sum of both: a label in capitals is right whichever case is read.
    """
    if len(lower) == 0:
        return logits
    lower, upper = lower.to(logits.device), upper.to(logits.device)
    flagged = logits[rows.to(logits.device)]
    merged = torch.logaddexp(flagged[..., upper], flagged[..., lower])
    flagged = flagged.index_copy(-1, upper, merged)
    flagged = flagged.index_fill(-1, lower, -1e4)
    out = logits.clone()
    out[rows.to(logits.device)] = flagged
    return out


def ctc_distillation(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor,
                     temperature: float = 1.0) -> torch.Tensor:
    """Per-column KL(teacher || student) of CTC posteriors, mean over the real columns.

    Both logits are ``(B, T, C)`` over the same classes and columns; ``mask`` ``(B, T)`` marks
    real (not padding) columns. Scaled by ``temperature ** 2`` so its gradient keeps the
    size of the hard-label term.
    """
    if student.shape != teacher.shape:
        raise ValueError(f"student logits {tuple(student.shape)} and teacher logits "
                         f"{tuple(teacher.shape)} differ: teacher needs the same columns "
                         "and classes")
    s = (student.float() / temperature).log_softmax(-1)
    t = (teacher.float() / temperature).log_softmax(-1)
    kl = (t.exp() * (t - s)).sum(-1)
    weights = mask.to(kl.dtype)
    return (kl * weights).sum() / weights.sum().clamp(min=1) * temperature ** 2

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

    def forward(self, outputs: dict[str, torch.Tensor], texts: list[str],
                attn_targets: torch.Tensor | None = None,
                regions: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Loss terms; ``attn_targets`` are full rows ``bos .. eos pad`` from the tokenizer."""
        logits = outputs["ctc_logits"].float()
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

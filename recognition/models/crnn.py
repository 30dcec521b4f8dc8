"""CRNN for plates: small CNN (no bias before BatchNorm) → 2-layer BiLSTM → CTC."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from recognition.models.layers import RegionHead
from recognition.models.registry import register
from recognition.preprocess import valid_columns


def _conv_bn(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class CRNN(nn.Module):
    """CNN with width stride 4 (height pooled to 1), BiLSTM over columns, CTC head.

    ``forward(images, widths, targets=None)`` returns ``ctc_logits`` (B, T, C), ``mask``
    (B, T) and, with ``num_regions > 0``, ``region_logits`` (B, R). ``targets`` is ignored
    (CTC only).
    """

    has_decoder = False

    def __init__(self, num_ctc_classes: int, num_attn_classes: int, channels: Sequence[int],
                 hidden: int, num_layers: int, dropout: float, num_regions: int):
        super().__init__()
        c1, c2, c3, c4 = channels
        self.cnn = nn.Sequential(
            *_conv_bn(3, c1), nn.MaxPool2d(2, 2),
            *_conv_bn(c1, c2), nn.MaxPool2d(2, 2),
            *_conv_bn(c2, c3), *_conv_bn(c3, c3), nn.MaxPool2d((2, 1), (2, 1)),
            *_conv_bn(c3, c4), nn.AdaptiveAvgPool2d((1, None)),
        )
        self.stride = 4
        self.rnn = nn.LSTM(c4, hidden, num_layers=num_layers, bidirectional=True,
                           batch_first=True, dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.ctc_head = nn.Linear(2 * hidden, num_ctc_classes)
        self.region_head = RegionHead(2 * hidden, num_regions) if num_regions > 0 else None

    def forward(self, images: torch.Tensor, widths: torch.Tensor,
                targets: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        x = self.cnn(images).squeeze(2).transpose(1, 2)  # (B, T, C)
        mask = valid_columns(widths.to(x.device), self.stride, x.shape[1])
        x, _ = self.rnn(x)
        x = self.drop(x)
        out = {"ctc_logits": self.ctc_head(x), "mask": mask}
        if self.region_head is not None:
            out["region_logits"] = self.region_head(x, mask)
        return out


@register("crnn", input_size=(32, 128), two_row_aspect=1.75,
          channels=(64, 128, 256, 256), hidden=128, num_layers=2, dropout=0.1, num_regions=0)
def crnn(**kwargs: Any) -> CRNN:
    """CRNN (seed 002 style) for plates, 32×128 input by default."""
    return CRNN(**kwargs)

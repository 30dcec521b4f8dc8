"""Joint CTC + Transformer recognizer on a timm ConvNeXt encoder (the NTO 2022 winning recipe).

Encoder feature map (stride 16 by default: 24 columns for a 384-wide input) → mean over height
→ linear to ``d_model`` → position codes → a few self-attention blocks → CTC head. An
autoregressive Transformer decoder cross-attends to the same columns; padded columns are
masked everywhere, so crops never see their padding through attention.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import timm
import torch
from torch import nn

from recognition.models.layers import (
    DecoderBlock,
    EncoderBlock,
    RegionHead,
    sinusoidal_positions,
)
from recognition.models.registry import register
from recognition.preprocess import valid_columns


class ConvNeXtColumns(nn.Module):
    """timm ConvNeXt cut after ``stage``, giving a ``(B, C, H', W')`` feature map.

    Args:
        name: timm model name (``convnext_atto``, ``convnext_small``, ...).
        stage: last stage kept (2 → stride 16).
        weights: optional local file with timm weights for ``name`` (never downloaded).
        width_stride: keep this horizontal stride (4 or 8) while the height still shrinks to
            the stage's stride: the later downsampling layers become height-only (2, 1)
            convolutions (newly initialised). A text line of 80 characters needs more columns
            than a 640-wide input gives at stride 16 (40). ``None`` keeps the model's own.
        **kwargs: passed to ``timm.create_model`` (e.g. ``depths``, ``dims`` for custom sizes).
    """

    def __init__(self, name: str, stage: int = 2, weights: str | None = None,
                 width_stride: int | None = None, **kwargs: Any):
        super().__init__()
        extra: dict[str, Any] = {"pretrained": False}
        if weights:
            if not Path(weights).is_file():
                raise FileNotFoundError(f"encoder weights file not found: {weights}")
            extra = {"pretrained": True, "pretrained_cfg_overlay": {"file": str(weights)}}
        self.body = timm.create_model(name, features_only=True,
                                      out_indices=(stage,), **extra, **kwargs)
        self.channels = self.body.feature_info.channels()[-1]
        self.stride = self.body.feature_info.reduction()[-1]
        if width_stride is not None and width_stride != self.stride:
            self.stride = self._narrow_downsampling(width_stride)

    def _narrow_downsampling(self, width_stride: int) -> int:
        """Make the last downsampling layers height-only until ``width_stride`` remains."""
        stride = self.stride
        stages = [m for n, m in self.body.named_children() if n.startswith("stages")]
        for stage in reversed(stages):
            if stride <= width_stride:
                break
            convs = [m for m in getattr(stage, "downsample", nn.Identity()).modules()
                     if isinstance(m, nn.Conv2d) and m.stride == (2, 2)]
            if not convs:
                continue
            conv = convs[-1]
            narrow = nn.Conv2d(conv.in_channels, conv.out_channels, (2, 1), (2, 1),
                               bias=conv.bias is not None)
            parent = stage.downsample
            for name, child in parent.named_children():
                if child is conv:
                    setattr(parent, name, narrow)
            stride //= 2
        if stride != width_stride:
            raise ValueError(f"width_stride {width_stride} cannot be reached from stride "
                             f"{self.stride} (use a power of two between 4 and {self.stride})")
        return stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)[-1]


class TransformerDecoder(nn.Module):
    """Autoregressive decoder over attention tokens, with a per-layer KV cache for inference."""

    def __init__(self, num_classes: int, dim: int, num_heads: int, num_layers: int,
                 ffn_dim: int, dropout: float, max_length: int):
        super().__init__()
        self.dim, self.max_length = dim, max_length
        self.embed = nn.Embedding(num_classes, dim)
        self.layers = nn.ModuleList(DecoderBlock(dim, num_heads, ffn_dim, dropout)
                                    for _ in range(num_layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("positions", sinusoidal_positions(max_length + 2, dim),
                             persistent=False)

    def _embed(self, tokens: torch.Tensor, start: int) -> torch.Tensor:
        pos = self.positions[start: start + tokens.shape[1]]
        return self.drop(self.embed(tokens) * self.dim ** 0.5 + pos)

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor
                ) -> torch.Tensor:
        """Teacher-forced logits ``(B, L, V)`` for input ``tokens`` ``(B, L)`` (bos first)."""
        x = self._embed(tokens, 0)
        for layer in self.layers:
            x = layer(x, layer.cross_attn.project_kv(memory), mask)
        return self.head(self.norm(x))

    def start(self, memory: torch.Tensor, mask: torch.Tensor) -> dict[str, Any]:
        """Decoding state: projected memory per layer and empty self-attention caches."""
        return {"memory_kv": [layer.cross_attn.project_kv(memory) for layer in self.layers],
                "mask": mask, "caches": [{} for _ in self.layers], "t": 0}

    def step(self, tokens: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        """Logits ``(B, V)`` of the next token given the last ``tokens`` ``(B,)``."""
        x = self._embed(tokens[:, None], state["t"])
        for layer, kv, cache in zip(self.layers, state["memory_kv"], state["caches"],
                                    strict=True):
            x = layer(x, kv, state["mask"], cache=cache)
        state["t"] += 1
        return self.head(self.norm(x))[:, 0]

    def select(self, state: dict[str, Any], index: torch.Tensor) -> dict[str, Any]:
        """Keep (or repeat) the batch rows ``index`` of a state (for candidate decoding)."""
        return {"memory_kv": [(k[index], v[index]) for k, v in state["memory_kv"]],
                "mask": state["mask"][index],
                "caches": [{n: t[index] for n, t in c.items()} for c in state["caches"]],
                "t": state["t"]}


class CTCTransformer(nn.Module):
    """ConvNeXt columns → a few self-attention blocks → CTC head (+ optional region head).

    The joint model without its decoder: the same modules under the same names, so a joint
    checkpoint's encoder and CTC head load here unchanged (:mod:`recognition.conversion`).
    ``forward(images, widths, targets=None)`` returns a dict: ``ctc_logits`` (B, T, C),
    ``mask`` (B, T) real columns, ``memory`` (B, T, D), ``region_logits`` (B, R) when
    ``num_regions > 0``; ``targets`` is ignored (CTC only).
    """

    has_decoder = False

    def __init__(self, num_ctc_classes: int, num_attn_classes: int, encoder: str,
                 encoder_stage: int, encoder_kwargs: dict[str, Any], encoder_weights: str | None,
                 width_stride: int | None, d_model: int, num_heads: int,
                 num_encoder_layers: int, ffn_dim: int, dropout: float, num_regions: int):
        super().__init__()
        self.encoder = ConvNeXtColumns(encoder, encoder_stage, encoder_weights, width_stride,
                                       **encoder_kwargs)
        self.stride = self.encoder.stride
        self.proj = nn.Linear(self.encoder.channels, d_model)
        self.context = nn.ModuleList(EncoderBlock(d_model, num_heads, ffn_dim, dropout)
                                     for _ in range(num_encoder_layers))
        self.norm = nn.LayerNorm(d_model)
        self.ctc_head = nn.Linear(d_model, num_ctc_classes)
        self.region_head = RegionHead(d_model, num_regions) if num_regions > 0 else None

    def encode(self, images: torch.Tensor, widths: torch.Tensor) -> dict[str, torch.Tensor]:
        """Columns, their mask, CTC logits (and region logits) of a batch."""
        fmap = self.encoder(images).mean(dim=2).transpose(1, 2)  # (B, T, C)
        mask = valid_columns(widths.to(fmap.device), self.stride, fmap.shape[1])
        x = self.proj(fmap)
        x = x + sinusoidal_positions(x.shape[1], x.shape[2], x.device).to(x.dtype)
        for block in self.context:
            x = block(x, mask)
        memory = self.norm(x)
        out = {"memory": memory, "mask": mask, "ctc_logits": self.ctc_head(memory)}
        if self.region_head is not None:
            out["region_logits"] = self.region_head(memory, mask)
        return out

    def forward(self, images: torch.Tensor, widths: torch.Tensor,
                targets: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        return self.encode(images, widths)


class JointCTCTransformer(CTCTransformer):
    """:class:`CTCTransformer` + an autoregressive Transformer decoder on the same columns.

    ``forward(images, widths, targets=None)`` also returns ``attn_logits`` (B, L, V) when
    ``targets`` (decoder inputs, bos first) are given.
    """

    has_decoder = True

    def __init__(self, num_ctc_classes: int, num_attn_classes: int, encoder: str,
                 encoder_stage: int, encoder_kwargs: dict[str, Any], encoder_weights: str | None,
                 width_stride: int | None, d_model: int, num_heads: int,
                 num_encoder_layers: int, num_decoder_layers: int, ffn_dim: int,
                 dropout: float, max_length: int, num_regions: int):
        super().__init__(num_ctc_classes, num_attn_classes, encoder, encoder_stage,
                         encoder_kwargs, encoder_weights, width_stride, d_model, num_heads,
                         num_encoder_layers, ffn_dim, dropout, num_regions=0)
        self.max_length = max_length
        self.decoder = TransformerDecoder(num_attn_classes, d_model, num_heads,
                                          num_decoder_layers, ffn_dim, dropout, max_length)
        # Built after the decoder, as before the split: a seed gives the same weights.
        self.region_head = RegionHead(d_model, num_regions) if num_regions > 0 else None

    def forward(self, images: torch.Tensor, widths: torch.Tensor,
                targets: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        out = self.encode(images, widths)
        if targets is not None:
            out["attn_logits"] = self.decoder(targets, out["memory"], out["mask"])
        return out


@register("joint_ctc_transformer", input_size=(96, 384),
          encoder="convnext_atto", encoder_stage=2, encoder_kwargs={}, encoder_weights=None,
          width_stride=None, d_model=256, num_heads=4, num_encoder_layers=1,
          num_decoder_layers=2, ffn_dim=1024, dropout=0.1, max_length=40, num_regions=0)
def joint_ctc_transformer(**kwargs: Any) -> JointCTCTransformer:
    """Joint CTC + Transformer recognizer (CPU default: ``convnext_atto`` cut at stride 16)."""
    return JointCTCTransformer(**kwargs)


@register("ctc_transformer", input_size=(96, 384),
          encoder="convnext_atto", encoder_stage=2, encoder_kwargs={}, encoder_weights=None,
          width_stride=None, d_model=256, num_heads=4, num_encoder_layers=1, ffn_dim=1024,
          dropout=0.1, num_regions=0)
def ctc_transformer(**kwargs: Any) -> CTCTransformer:
    """The joint recognizer without its decoder: read and trained by its CTC head alone."""
    return CTCTransformer(**kwargs)

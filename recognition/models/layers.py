"""Building blocks: attention blocks with an optional KV cache, positions, pooled heads."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_positions(length: int, dim: int, device: torch.device | None = None
                         ) -> torch.Tensor:
    """``(length, dim)`` fixed sine/cosine position codes (no size baked into weights)."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32)
                     * (-math.log(10000.0) / dim))
    out = torch.zeros(length, dim, device=device)
    out[:, 0::2] = torch.sin(pos * freq)
    out[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return out


class Attention(nn.Module):
    """Multi-head attention on ``F.scaled_dot_product_attention``.

    Keys/values can be given pre-projected (:meth:`project_kv`), which is how both the
    memory of cross-attention and the self-attention KV cache are reused across steps.
    """

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"d_model {dim} not divisible by num_heads {num_heads}")
        self.num_heads, self.dropout = num_heads, dropout
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        return x.view(b, n, self.num_heads, d // self.num_heads).transpose(1, 2)

    def project_kv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, N, D)`` → keys and values ``(B, H, N, D / H)``."""
        k, v = self.kv(x).chunk(2, dim=-1)
        return self._heads(k), self._heads(v)

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor],
                key_mask: torch.Tensor | None = None, causal: bool = False) -> torch.Tensor:
        """Attend from ``x`` (B, L, D) to projected ``kv``.

        Args:
            key_mask: ``(B, N)`` True for keys that may be attended.
            causal: mask future keys (training the decoder on whole sequences).
        """
        q = self._heads(self.q(x))
        mask = None if key_mask is None else key_mask[:, None, None, :]
        y = F.scaled_dot_product_attention(
            q, kv[0], kv[1], attn_mask=mask, is_causal=causal and mask is None,
            dropout_p=self.dropout if self.training else 0.0)
        b, h, n, dh = y.shape
        return self.out(y.transpose(1, 2).reshape(b, n, h * dh))


class EncoderBlock(nn.Module):
    """Pre-norm self-attention + MLP over feature columns, padded columns masked as keys."""

    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(dim, ffn_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(ffn_dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, self.attn.project_kv(h), key_mask=mask))
        return x + self.drop(self.mlp(self.norm2(x)))


class DecoderBlock(nn.Module):
    """Pre-norm causal self-attention, cross-attention to the columns, MLP."""

    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(dim) for _ in range(3))
        self.self_attn = Attention(dim, num_heads, dropout)
        self.cross_attn = Attention(dim, num_heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(dim, ffn_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(ffn_dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, memory_kv: tuple[torch.Tensor, torch.Tensor],
                memory_mask: torch.Tensor, cache: dict[str, torch.Tensor] | None = None
                ) -> torch.Tensor:
        """Whole sequences (``cache is None``, causal) or one new step appended to ``cache``."""
        h = self.norm1(x)
        k, v = self.self_attn.project_kv(h)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        x = x + self.drop(self.self_attn(h, (k, v), causal=cache is None))
        x = x + self.drop(self.cross_attn(self.norm2(x), memory_kv, key_mask=memory_mask))
        return x + self.drop(self.mlp(self.norm3(x)))


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` (B, T, D) over the columns where ``mask`` (B, T) is True."""
    m = mask.to(x.dtype)[..., None]
    return (x * m).sum(1) / m.sum(1).clamp(min=1.0)


class RegionHead(nn.Module):
    """Plate region / country classifier on the mean of the real columns."""

    def __init__(self, dim: int, num_regions: int):
        super().__init__()
        self.fc = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, num_regions))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.fc(masked_mean(x, mask))

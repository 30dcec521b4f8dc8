"""One tokenizer for both heads: CTC (blank + characters) and attention (pad, bos, eos + chars).

The two index spaces share the character order, so a checkpoint only has to store the charset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from recognition.alphabet import DEFAULT_ALPHABET


def resolve_charset(charset: str) -> str:
    """``"default"`` means :data:`DEFAULT_ALPHABET`; anything else is the literal characters."""
    return DEFAULT_ALPHABET if charset == "default" else charset


class Tokenizer:
    """Maps text to label indices and back, for the CTC and the attention heads.

    CTC space: ``0`` is the blank, character ``i`` of the charset is ``i + 1``.
    Attention space: ``0`` pad, ``1`` bos, ``2`` eos, character ``i`` is ``i + 3``.

    Args:
        charset: the characters (order defines indices; duplicates are dropped).
    """

    BLANK = 0
    PAD, BOS, EOS = 0, 1, 2
    N_SPECIAL = 3

    def __init__(self, charset: str = "default"):
        chars = resolve_charset(charset)
        self.charset = "".join(dict.fromkeys(chars))
        if not self.charset:
            raise ValueError("empty charset")
        self._index = {c: i for i, c in enumerate(self.charset)}

    # sizes
    @property
    def num_ctc_classes(self) -> int:
        """Output size of a CTC head (blank included)."""
        return len(self.charset) + 1

    @property
    def num_attn_classes(self) -> int:
        """Output / embedding size of an attention decoder (pad, bos, eos included)."""
        return len(self.charset) + self.N_SPECIAL

    def unsupported(self, text: str) -> set[str]:
        """Characters of ``text`` outside the charset."""
        return {c for c in text if c not in self._index}

    def indices(self, chars: str) -> list[int]:
        """Charset positions of those of ``chars`` that are in the charset (others skipped);
        add 1 for CTC class ids, :attr:`N_SPECIAL` for attention ids."""
        return sorted({self._index[c] for c in chars if c in self._index})

    # CTC
    def case_pairs(self) -> tuple[list[int], list[int]]:
        """Charset positions of each lower-case letter and of its capital, where both are in
        the charset (``ß``, whose capital is two letters, is not); add 1 for CTC class ids,
        :attr:`N_SPECIAL` for attention ids."""
        lower, upper = [], []
        for c, i in self._index.items():
            cap = c.upper()
            if cap != c and len(cap) == 1 and cap in self._index:
                lower.append(i)
                upper.append(self._index[cap])
        return lower, upper

    def encode_ctc(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Concatenated CTC targets and their lengths (the layout ``F.ctc_loss`` takes)."""
        ids = [self._index[c] + 1 for t in texts for c in t]
        lengths = [len(t) for t in texts]
        return torch.tensor(ids, dtype=torch.long), torch.tensor(lengths, dtype=torch.long)

    def decode_ctc(self, ids: Sequence[int]) -> str:
        """Greedy CTC collapse: merge repeats, drop blanks."""
        out, prev = [], self.BLANK
        for i in ids:
            i = int(i)
            if i != prev and i != self.BLANK:
                out.append(self.charset[i - 1])
            prev = i
        return "".join(out)

    # attention
    def encode_attention(self, texts: Sequence[str], max_length: int) -> torch.Tensor:
        """``(B, L + 2)`` rows ``bos c1 .. cn eos pad ..`` with texts cut to ``max_length``."""
        width = max(min(len(t), max_length) for t in texts) + 2 if texts else 2
        out = torch.full((len(texts), width), self.PAD, dtype=torch.long)
        for row, t in enumerate(texts):
            ids = [self._index[c] + self.N_SPECIAL for c in t[:max_length]]
            out[row, : len(ids) + 2] = torch.tensor([self.BOS, *ids, self.EOS])
        return out

    def decode_attention(self, ids: Sequence[int]) -> str:
        """Characters up to the first eos (specials skipped)."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.EOS:
                break
            if i >= self.N_SPECIAL:
                out.append(self.charset[i - self.N_SPECIAL])
        return "".join(out)

    # serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain dict stored in checkpoints."""
        return {"kind": "ctc+attention", "charset": self.charset}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokenizer:
        """Inverse of :meth:`to_dict`."""
        return cls(data["charset"])

    def __len__(self) -> int:
        return len(self.charset)

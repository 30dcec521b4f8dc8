"""Tiny models and rendered word crops for the recognition tests (no shared data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TINY_CHARSET = "0123456789ABCEHKMOPTXY"

TINY_KWARGS = {
    "joint_ctc_transformer": {
        "encoder_kwargs": {"depths": (1, 1, 1, 1), "dims": (16, 24, 32, 48)},
        "d_model": 32, "num_heads": 2, "num_encoder_layers": 1, "num_decoder_layers": 1,
        "ffn_dim": 64, "dropout": 0.0, "max_length": 10,
    },
    "ctc_transformer": {
        "encoder_kwargs": {"depths": (1, 1, 1, 1), "dims": (16, 24, 32, 48)},
        "d_model": 32, "num_heads": 2, "num_encoder_layers": 1, "ffn_dim": 64, "dropout": 0.0,
    },
    "crnn": {"channels": (8, 16, 32, 32), "hidden": 32, "dropout": 0.0},
}
TINY_SIZE = {"joint_ctc_transformer": (32, 128), "ctc_transformer": (32, 128),
             "crnn": (32, 128)}


def render_word(text: str, height: int = 32, pad: int = 4, size: int = 22,
                rows: int = 1) -> np.ndarray:
    """RGB uint8 crop of black ``text`` on white; ``rows=2`` splits it over two lines."""
    font = ImageFont.truetype(FONT, size)
    lines = [text] if rows == 1 else [text[: len(text) // 2], text[len(text) // 2:]]
    w = max(int(font.getlength(line)) for line in lines) + 2 * pad
    h = (height if rows == 1 else 2 * height)
    img = Image.new("RGB", (max(w, 8), h), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((pad, i * height + (height - size) // 2 - 2), line, fill="black", font=font)
    return np.asarray(img)


def write_crops_dataset(root: Path, texts: list[str], regions: list[str] | None = None) -> Path:
    """``root/images/*.png`` + ``root/labels.tsv`` with ``texts`` rendered."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i, text in enumerate(texts):
        name = f"images/{i:05d}.png"
        Image.fromarray(render_word(text)).save(root / name)
        extra = f"\t{regions[i]}" if regions else ""
        lines.append(f"{name}\t{text}{extra}")
    (root / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root

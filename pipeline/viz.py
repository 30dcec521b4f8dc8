"""Pictures of results: polygons and recognised text drawn on the image."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.offline import local_font
from pipeline.results import Page

WORD_COLOUR = (0, 170, 0)
LINE_COLOUR = (30, 90, 255)
TEXT_COLOUR = (200, 0, 0)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(local_font()), size)  # DejaVu: Latin + Cyrillic
    except (OSError, FileNotFoundError):
        return ImageFont.load_default()


def draw_page(image: np.ndarray, page: Page) -> Image.Image:
    """The image with line polygons (blue), word polygons (green) and text (red) drawn.

    Args:
        image: the RGB ``uint8`` image the page was read from.
        page: its result.

    Returns:
        A new RGB PIL image.
    """
    canvas = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    scale = max(canvas.size) / 1000
    width = max(1, round(2 * scale))
    for line in page.lines:
        if len(line.words) > 1:
            draw.polygon([tuple(p) for p in line.polygon], outline=LINE_COLOUR, width=width)
        for word in line.words:
            draw.polygon([tuple(p) for p in word.polygon], outline=WORD_COLOUR, width=width)
            if not word.text:
                continue
            x1, y1, x2, y2 = word.bbox
            size = int(np.clip((y2 - y1) * 0.6, 10, 64))
            font = _font(size)
            pos = (x1, max(0.0, y1 - size - 2))
            box = draw.textbbox(pos, word.text, font=font)
            draw.rectangle(box, fill=(255, 255, 255))
            draw.text(pos, word.text, fill=TEXT_COLOUR, font=font)
    return canvas


def viz_path(viz_dir: Path, file: str, taken: set[Path]) -> Path:
    """A free ``<stem>.jpg`` in ``viz_dir`` for ``file`` (``<stem>_1.jpg`` ... on clashes)."""
    stem = Path(file).stem or "image"
    path = viz_dir / f"{stem}.jpg"
    n = 1
    while path in taken:
        path = viz_dir / f"{stem}_{n}.jpg"
        n += 1
    taken.add(path)
    return path


def save_page_picture(image: np.ndarray, page: Page, path: Path) -> None:
    """Draw and write a JPEG picture of ``page``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_page(image, page).save(path, quality=90)

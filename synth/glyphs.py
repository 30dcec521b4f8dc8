"""Text → ink mask: the one primitive every renderer draws with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from recognition.alphabet import CYRILLIC
from synth.fonts import FontFace

INK_THRESHOLD = 60


@dataclass(frozen=True)
class InkMask:
    """A string drawn in white on black, cropped to its ink.

    Attributes:
        mask: uint8 (h, w) alpha, tight around the pixels brighter than ``INK_THRESHOLD``.
        left: x of the mask's left edge relative to the pen position.
        top: y of the mask's top edge relative to the baseline (negative: above it).
        advance: horizontal pen advance of the whole string in pixels.
        ascent: the font's ascent (baseline to top of tall letters) in pixels.
        descent: the font's descent (baseline to bottom of descenders) in pixels.
    """

    mask: np.ndarray
    left: int
    top: int
    advance: float
    ascent: int
    descent: int


def draw_text(face: FontFace, size: int, text: str) -> InkMask | None:
    """Draw ``text`` with ``face`` at pixel ``size``.

    Returns:
        The ink mask, or None when the string leaves no ink (empty text or blank glyphs).
    """
    font = face.pil(size)
    if face.fullwidth_cyrillic and any(c in CYRILLIC for c in text):
        return _draw_respaced(face, size, text)
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls")
    w, h = x1 - x0 + 2, y1 - y0 + 2
    if w <= 2 or h <= 2:
        return None
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).text((1 - x0, 1 - y0), text, fill=255, font=font, anchor="ls")
    return _tight(img, font, x0, y0, float(font.getlength(text)))


def _draw_respaced(face: FontFace, size: int, text: str) -> InkMask | None:
    """Draw char by char; full-width Cyrillic glyphs get their ink width plus a small gap."""
    font = face.pil(size)
    gap = 0.08 * size
    pen, placed = 0.0, []
    for ch in text:
        if ch in CYRILLIC:
            # getbbox spans the whole em here; the bitmap's own bbox is the ink
            bx = font.getbbox(ch, anchor="ls")[0]
            ink = font.getmask(ch).getbbox() or (0, 0, 0, 0)
            left, right = bx + ink[0], bx + ink[2]
            placed.append((ch, pen - left + gap / 2))
            pen += (right - left) + gap
        else:
            placed.append((ch, pen))
            pen += font.getlength(ch)
    boxes = [(x + b[0], b[1], x + b[2], b[3])
             for ch, x in placed for b in [font.getbbox(ch, anchor="ls")]]
    x0 = int(np.floor(min(b[0] for b in boxes)))
    y0 = int(np.floor(min(b[1] for b in boxes)))
    x1 = int(np.ceil(max(b[2] for b in boxes)))
    y1 = int(np.ceil(max(b[3] for b in boxes)))
    w, h = x1 - x0 + 2, y1 - y0 + 2
    if w <= 2 or h <= 2:
        return None
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    for ch, x in placed:
        if not ch.isspace():
            draw.text((1 - x0 + x, 1 - y0), ch, fill=255, font=font, anchor="ls")
    return _tight(img, font, x0, y0, pen)


def _tight(img: Image.Image, font, x0: int, y0: int, advance: float) -> InkMask | None:
    mask = np.asarray(img)
    rows = np.flatnonzero((mask > INK_THRESHOLD).any(1))
    cols = np.flatnonzero((mask > INK_THRESHOLD).any(0))
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    ascent, descent = font.getmetrics()
    return InkMask(mask=mask[r0:r1, c0:c1].copy(), left=int(x0 - 1 + c0), top=int(y0 - 1 + r0),
                   advance=advance, ascent=int(ascent), descent=int(descent))

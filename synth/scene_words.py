"""Word crops as a camera sees signs, shop fronts and labels: colour on colour, outlined or
shadowed letters, condensed and wide faces, tilt and perspective, blur, low resolution, JPEG.

Crops output (``labels.tsv``). The backgrounds are procedural (painted boards, gradients,
street-scene pieces, clutter), so nothing outside the project is needed to draw them.
"""

from __future__ import annotations

import cv2
import numpy as np

from synth import degrade
from synth.base import Renderer
from synth.fonts import FontBook
from synth.glyphs import draw_text
from synth.lines import PRINTED_STYLES, pick_text_and_font
from synth.records import CropSample
from synth.scenes import street_background
from synth.text import SCRIPTS, TextStyle, WordSampler


def luma(rgb: np.ndarray) -> float:
    """Brightness of an RGB colour (ITU-R BT.601 weights)."""
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def contrasting_color(rng: np.random.Generator, background: np.ndarray,
                      min_delta: float) -> np.ndarray:
    """A saturated or grey colour whose luma differs from ``background``'s by ``min_delta``."""
    bg = luma(background)
    for _ in range(20):
        if rng.random() < 0.5:
            color = rng.uniform(0, 255, 3)
        else:
            color = np.full(3, rng.choice([rng.uniform(0, 60), rng.uniform(200, 255)]))
        if abs(luma(color) - bg) >= min_delta:
            return color.astype(np.float32)
    return np.full(3, 255.0 if bg < 128 else 0.0, np.float32)


def board(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A background: a painted board, a gradient, a piece of street, or clutter."""
    kind = rng.random()
    if kind < 0.35:  # flat painted board with a little texture
        color = rng.uniform(0, 255, 3)
        img = np.empty((h, w, 3), np.float32)
        img[:] = color
        img += degrade.smooth_noise(h, w, rng, cells=4)[..., None] * rng.uniform(3, 20)
    elif kind < 0.55:  # two-colour gradient
        a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        t = np.linspace(0, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
        t = t[None, :, None] if t.size == w else t[:, None, None]
        img = np.broadcast_to((1 - t) * a + t * b, (h, w, 3)).astype(np.float32)
    elif kind < 0.8:  # a piece of a street scene
        big = street_background(w + 16, h + 16, rng)
        y = int(rng.integers(0, big.shape[0] - h + 1))
        x = int(rng.integers(0, big.shape[1] - w + 1))
        img = big[y:y + h, x:x + w].astype(np.float32)
    else:  # clutter: rectangles and stripes of several colours
        img = np.empty((h, w, 3), np.float32)
        img[:] = rng.uniform(0, 255, 3)
        for _ in range(int(rng.integers(2, 7))):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            x1, y1 = x0 + int(rng.integers(4, w + 1)), y0 + int(rng.integers(2, h + 1))
            cv2.rectangle(img, (x0, y0), (x1, y1), tuple(float(c) for c in rng.uniform(0, 255, 3)),
                          -1)
    img += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(rng.uniform(0, 6))
    return img.clip(0, 255).astype(np.uint8)


def scene_case(text: str, rng: np.random.Generator) -> str:
    """Signs shout: upper case often, title case sometimes, else as drawn."""
    r = rng.random()
    if r < 0.45:
        return text.upper()
    if r < 0.75:
        return text[:1].upper() + text[1:]
    return text


class SceneWordRenderer(Renderer):
    """Word crops of scene text (one word mostly, sometimes two or three).

    Args:
        fonts: font catalogue (default: system fonts).
        ru_prob: share of Russian words.
        multi_prob: share of crops with two or three words.
        hand_prob: share of crops in a handwriting face (painted and brush lettering).
        min_height / max_height: height of the finished crop.
    """

    output = "crops"

    def __init__(self, fonts: FontBook | None = None, ru_prob: float = 0.3,
                 multi_prob: float = 0.2, hand_prob: float = 0.1, min_height: int = 24,
                 max_height: int = 64) -> None:
        self.fonts = fonts or FontBook()
        self.ru_prob = ru_prob
        self.multi_prob = multi_prob
        self.hand_prob = hand_prob
        self.min_height = min_height
        self.max_height = max_height
        style = TextStyle(symbols=0.05, accents=0.0, zipf=1.0, proper_i=True)
        self.samplers = {lang: WordSampler(lang, style) for lang in ("ru", "en")}
        for lang in self.samplers:  # fail early, with the packages to install
            for style_name in PRINTED_STYLES:
                self.fonts.fonts(style_name, SCRIPTS[lang])

    def render(self, rng: np.random.Generator) -> CropSample:
        sampler = self.samplers["ru" if rng.random() < self.ru_prob else "en"]
        hand = rng.random() < self.hand_prob
        styles = ("hand",) if hand else PRINTED_STYLES[:2] if rng.random() < 0.9 else ("mono",)
        n_words = 1 if rng.random() >= self.multi_prob else int(rng.integers(2, 4))
        if rng.random() < 0.15:  # numbers: prices, floors, street numbers
            text, face = pick_text_and_font(rng, self.fonts, sampler, styles, 1)
            number = sampler.number(rng)
            text = number if face.covers(number) else text
        else:
            text, face = pick_text_and_font(rng, self.fonts, sampler, styles, n_words)
        cased = scene_case(text, rng)
        text = cased if face.covers(cased) else text
        size = int(rng.integers(28, 80))
        ink = draw_text(face, size, text)
        if ink is None:  # pragma: no cover - covered glyphs always leave ink
            raise RuntimeError(f"{face.name} left no ink for {text!r}")
        return CropSample(image=self._photograph(ink.mask, size, rng), text=text)

    def _photograph(self, mask: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        """Paint the ink on a board, tilt it, cut a loose box, and degrade it like a photo."""
        if rng.random() < 0.3:  # condensed or wide lettering
            sx = rng.uniform(0.65, 1.4)
            mask = cv2.resize(mask, (max(1, int(mask.shape[1] * sx)), mask.shape[0]),
                              interpolation=cv2.INTER_AREA)
        if rng.random() < 0.2:  # bold paint
            k = max(1, size // 25)
            mask = cv2.dilate(mask, np.ones((k + 1, k + 1), np.uint8))
        pad_y = int(size * rng.uniform(0.3, 0.9))
        pad_x = int(size * rng.uniform(0.3, 1.2))
        h, w = mask.shape[0] + 2 * pad_y, mask.shape[1] + 2 * pad_x
        img = board(h, w, rng)
        under = img[pad_y:pad_y + mask.shape[0], pad_x:pad_x + mask.shape[1]]
        bg = under.reshape(-1, 3).mean(0) if under.size else img.reshape(-1, 3).mean(0)
        color = contrasting_color(rng, bg, 40 if rng.random() < 0.1 else 70)
        effect = rng.random()
        if effect < 0.2:  # outlined letters
            k = max(2, size // 12)
            outline = cv2.dilate(mask, np.ones((k, k), np.uint8))
            degrade.composite(img, outline, contrasting_color(rng, color, 80), pad_x, pad_y)
        elif effect < 0.35:  # drop shadow
            off = max(1, size // 15)
            shadow = (mask.astype(np.float32) * rng.uniform(0.4, 0.9)).astype(np.uint8)
            degrade.composite(img, shadow, np.zeros(3, np.float32), pad_x + off, pad_y + off)
        degrade.composite(img, mask, color, pad_x, pad_y)
        text_box = np.array([[pad_x, pad_y], [pad_x + mask.shape[1], pad_y],
                             [pad_x + mask.shape[1], pad_y + mask.shape[0]],
                             [pad_x, pad_y + mask.shape[0]]], np.float32)
        m, out_w, out_h = degrade.perspective_matrix(
            w, h, rng, strength=rng.uniform(0.0, 0.12), rotate_deg=rng.uniform(-7, 7))
        img = cv2.warpPerspective(img, m, (out_w, out_h), borderMode=cv2.BORDER_REPLICATE)
        quad = degrade.warp_points(text_box, m)
        # the detector's box: the text's bounding box, each side loose or tight by a little
        x0, y0 = quad.min(0)
        x1, y1 = quad.max(0)
        th = y1 - y0
        x0 -= th * rng.uniform(-0.05, 0.3)
        x1 += th * rng.uniform(-0.05, 0.3)
        y0 -= th * rng.uniform(-0.05, 0.2)
        y1 += th * rng.uniform(-0.05, 0.2)
        x0, y0 = int(max(0, x0)), int(max(0, y0))
        x1, y1 = int(min(out_w, np.ceil(x1))), int(min(out_h, np.ceil(y1)))
        crop = img[y0:max(y1, y0 + 2), x0:max(x1, x0 + 2)]
        if rng.random() < 0.5:
            crop = degrade.shading(crop, rng, strength=rng.uniform(0.1, 0.4))
        target = int(rng.integers(self.min_height, self.max_height + 1))
        if rng.random() < 0.35:  # a far sign: few pixels, scaled back up by the reader
            low = int(rng.integers(10, max(11, target // 2)))
            crop = _resize_height(crop, low)
        crop = degrade.blur(crop, rng.uniform(0, 1.3) if rng.random() < 0.6 else 0.0)
        if rng.random() < 0.15:
            crop = degrade.motion_blur(crop, rng, int(rng.integers(3, 7)))
        crop = _resize_height(crop, target)
        crop = degrade.gaussian_noise(crop, rng, rng.uniform(0, 6))
        if rng.random() < 0.6:
            crop = degrade.jpeg(crop, int(rng.integers(30, 90)))
        return np.ascontiguousarray(crop)


def _resize_height(img: np.ndarray, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    width = max(2, int(round(w * height / max(h, 1))))
    interp = cv2.INTER_AREA if height < h else cv2.INTER_LINEAR
    return cv2.resize(img, (width, height), interpolation=interp)

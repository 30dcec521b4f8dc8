"""Whole pages: printed documents and school-notebook pages, COCO NTO output.

Both renderers lay out text with :class:`~synth.layout.PageCanvas` (exact word and
line polygons, an ink map for checks), then give the page a scanned or photographed look.
Categories: 1 ``word`` (``attributes.translation``; crossed-out words also carry
``attributes.crossed_out``), 2 ``line`` (translation = its words joined by spaces).
"""

from __future__ import annotations

import cv2
import numpy as np

from synth import degrade
from synth.base import Renderer
from synth.fonts import FontBook, FontFace
from synth.layout import LineSpec, PageCanvas
from synth.records import PageSample
from synth.text import SCRIPTS, WordSampler

A4 = 1.414


def _covered_words(rng: np.random.Generator, sampler: WordSampler, face: FontFace, n: int,
                   prose: bool) -> list[str]:
    words = sampler.sentence_words(rng, n) if prose else sampler.words_n(rng, n)
    out = []
    for w in words:
        while not face.covers(w):
            w = sampler.plain_word(rng)
        out.append(w)
    return out


def _page_size(long_side: int, rng: np.random.Generator,
               landscape_prob: float = 0.0) -> tuple[int, int]:
    short = int(round(long_side / A4 * rng.uniform(0.95, 1.05)))
    if rng.random() < landscape_prob:
        return long_side, short
    return short, long_side


def _camera(canvas: PageCanvas, rng: np.random.Generator, strength: float,
            rotate: float, background: np.ndarray) -> None:
    """Warp the page inside a same-size frame (a photo or a skewed scan)."""
    w, h = canvas.size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    inward = rng.uniform(0, strength, (4, 2)) * [w, h]
    dst = src + inward * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])
    c = dst.mean(0)
    t = np.deg2rad(rotate)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    dst = (dst - c) @ rot.T + c
    # scale down if the rotation pushed corners out of the frame
    lo, hi = dst.min(0), dst.max(0)
    s = min(1.0, (w - 2) / (hi[0] - lo[0]), (h - 2) / (hi[1] - lo[1]))
    dst = (dst - c) * s + [w / 2, h / 2]
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    canvas.warp(m, w, h, background)


def _table(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """The surface around the page (drawn at quarter resolution: it is only a backdrop)."""
    small = degrade.paper(max(2, h // 4), max(2, w // 4), rng,
                          color=tuple(rng.uniform(40, 200, 3)), texture=2)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _finish(img: np.ndarray, rng: np.random.Generator, photo: bool) -> np.ndarray:
    if photo:
        img = degrade.shading(img, rng, strength=rng.uniform(0.1, 0.4))
        img = degrade.blur(img, rng.uniform(0, 1.3))
        img = degrade.gaussian_noise(img, rng, rng.uniform(1, 6))
    else:
        img = degrade.blur(img, rng.uniform(0, 0.9))
        img = degrade.gaussian_noise(img, rng, rng.uniform(0, 5))
        if rng.random() < 0.3:  # greyscale scan
            g = img.mean(2, keepdims=True).astype(np.uint8)
            img = np.repeat(g, 3, 2)
    if rng.random() < 0.5:
        img = degrade.jpeg(img, int(rng.integers(50, 90)))
    return img


class DocumentRenderer(Renderer):
    """Printed pages: headings and paragraphs in one or two columns, RU or EN per paragraph.

    Args:
        fonts: font catalogue.
        long_side: page long side in pixels.
        text_scale: body text size relative to the usual 1.4-2.4 % of the page width; above
            1 gives excerpts and photos of a few large lines, so a detector sees words at many
            scales.
        bilevel_prob: share of pages given the look of a 1-bit office scan (straight, black
            on white, no noise) instead of a photo or a grey scan.
    """

    output = "coco"
    categories = ("word", "line")

    def __init__(self, fonts: FontBook | None = None, long_side: int = 1600,
                 text_scale: float = 1.0, bilevel_prob: float = 0.0) -> None:
        if text_scale <= 0:
            raise ValueError(f"text_scale must be positive, got {text_scale}")
        if not 0.0 <= bilevel_prob <= 1.0:
            raise ValueError(f"bilevel_prob must be between 0 and 1, got {bilevel_prob}")
        self.bilevel_prob = bilevel_prob
        self.fonts = fonts or FontBook()
        self.long_side = long_side
        self.text_scale = text_scale
        self.samplers = {lang: WordSampler(lang) for lang in ("ru", "en")}
        for lang in self.samplers:
            for style in ("serif", "sans", "mono"):
                self.fonts.fonts(style, SCRIPTS[lang])

    def render(self, rng: np.random.Generator) -> PageSample:
        w, h = _page_size(self.long_side, rng, landscape_prob=0.1)
        page = PageCanvas(degrade.paper(h, w, rng, texture=rng.uniform(0.2, 0.8)))
        body_style = ("serif", "sans")[int(rng.integers(2))]
        page_lang = "ru" if rng.random() < 0.6 else "en"
        body = {lang: self.fonts.pick(rng, (body_style,), SCRIPTS[lang])
                for lang in ("ru", "en")}
        head = {lang: self.fonts.pick(rng, ("sans", "serif"), SCRIPTS[lang])
                for lang in ("ru", "en")}
        size = max(8, int(w * rng.uniform(0.014, 0.024) * self.text_scale))
        color = tuple(float(c) for c in degrade.ink_color(rng))
        margin_x, margin_y = int(w * rng.uniform(0.06, 0.11)), int(h * rng.uniform(0.05, 0.09))
        n_cols = 2 if rng.random() < 0.4 else 1
        gap = int(w * 0.04)
        col_w = (w - 2 * margin_x - gap * (n_cols - 1)) / n_cols
        leading = rng.uniform(1.2, 1.6)
        first = True
        for col in range(n_cols):
            x0 = margin_x + col * (col_w + gap)
            y = margin_y
            while y < h - margin_y:
                lang = page_lang if rng.random() < 0.8 else ("en" if page_lang == "ru" else "ru")
                sampler = self.samplers[lang]
                heading = first or rng.random() < 0.15
                first = False
                if heading:
                    face = head[lang]
                    fsize = int(size * rng.uniform(1.3, 2.0))
                    words = _covered_words(rng, sampler, face, int(rng.integers(1, 6)), False)
                    words[0] = words[0][:1].upper() + words[0][1:]
                    if rng.random() < 0.3:
                        words = [wd.upper() for wd in words]
                else:
                    mono = rng.random() < 0.08
                    face = self.fonts.pick(rng, ("mono",), SCRIPTS[lang]) if mono else body[lang]
                    fsize = size
                    words = _covered_words(rng, sampler, face, int(rng.integers(8, 90)), True)
                spec = LineSpec(face=face, size=fsize, color=color, space=rng.uniform(0.9, 1.4),
                                pad=max(1.0, fsize * 0.08))
                step = fsize * leading
                indent = fsize * 1.5 if not heading and rng.random() < 0.6 else 0
                while words and y + step < h - margin_y:
                    baseline = y + fsize
                    words = page.draw_line(words, spec, x0 + indent, baseline,
                                           col_w - indent, rng)
                    indent = 0
                    y += step
                y += step * rng.uniform(0.3, 1.2)
        if self.bilevel_prob and rng.random() < self.bilevel_prob:
            return PageSample(image=degrade.bilevel(page.image),
                              annotations=page.annotations(), ink=page.ink)
        photo = rng.random() < 0.4
        table = _table(w, h, rng)
        if photo:
            _camera(page, rng, rng.uniform(0.01, 0.07), rng.uniform(-3, 3), table)
        else:
            _camera(page, rng, 0.005, rng.uniform(-1.5, 1.5), table)
        image = _finish(page.image, rng, photo)
        return PageSample(image=image, annotations=page.annotations(), ink=page.ink)


class NotebookRenderer(Renderer):
    """School-notebook pages: lined or squared paper, margin line, handwriting, photo look.

    Args:
        fonts: font catalogue (needs handwriting fonts for Cyrillic and Latin).
        long_side: image long side in pixels.
        strike_prob: chance that a word is crossed out.
    """

    output = "coco"
    categories = ("word", "line")

    def __init__(self, fonts: FontBook | None = None, long_side: int = 1600,
                 strike_prob: float = 0.03) -> None:
        self.fonts = fonts or FontBook()
        self.long_side = long_side
        self.strike_prob = strike_prob
        self.samplers = {lang: WordSampler(lang) for lang in ("ru", "en")}
        for lang in self.samplers:
            self.fonts.fonts("hand", SCRIPTS[lang])

    def _paper(self, w: int, h: int, rng: np.random.Generator) -> tuple[np.ndarray, float, int]:
        img = degrade.paper(h, w, rng, color=tuple(rng.uniform(235, 255, 3)),
                            texture=rng.uniform(0.3, 1.0))
        squared = rng.random() < 0.6
        cell = w * rng.uniform(0.028, 0.04)
        rule = tuple(int(c) for c in rng.uniform([120, 150, 170], [190, 200, 235]))
        thick = max(1, int(round(w / 900)))
        top = h * rng.uniform(0.04, 0.08)
        if squared:
            for k in range(int(w / cell) + 1):
                x = int(k * cell)
                cv2.line(img, (x, 0), (x, h), rule, thick, cv2.LINE_AA)
            for k in range(int(h / cell) + 1):
                y = int(top + k * cell) % h
                cv2.line(img, (0, y), (w, y), rule, thick, cv2.LINE_AA)
            spacing = 2 * cell
        else:
            spacing = cell * rng.uniform(1.9, 2.4)
            for k in range(int((h - top) / spacing) + 1):
                y = int(top + k * spacing)
                cv2.line(img, (0, y), (w, y), rule, thick, cv2.LINE_AA)
        margin = int(w * rng.uniform(0.1, 0.16))
        if rng.random() < 0.5:
            margin = w - margin
        if rng.random() < 0.9:
            cv2.line(img, (margin, 0), (margin, h), (200, 80, 90), thick + 1, cv2.LINE_AA)
        return img, spacing, margin

    def render(self, rng: np.random.Generator) -> PageSample:
        w, h = _page_size(self.long_side, rng)
        paper, spacing, margin = self._paper(w, h, rng)
        page = PageCanvas(paper)
        page_lang = "ru" if rng.random() < 0.65 else "en"
        faces = {lang: self.fonts.pick(rng, ("hand",), SCRIPTS[lang]) for lang in ("ru", "en")}
        color = tuple(float(c) for c in degrade.ink_color(rng, handwriting=True))
        x_left = (margin + spacing * 0.4) if margin < w / 2 else w * 0.05
        x_right = (w * 0.96) if margin < w / 2 else margin - spacing * 0.3
        size_base = spacing * rng.uniform(0.55, 0.85)
        y = h * rng.uniform(0.04, 0.1) + spacing * rng.uniform(0.6, 1.0)
        lang = page_lang
        words: list[str] = []
        while y < h - spacing:
            if rng.random() < 0.05:  # empty ruled line
                y += spacing
                continue
            if not words:
                if rng.random() < 0.15:
                    lang = "en" if page_lang == "ru" else "ru"
                elif rng.random() < 0.5:
                    lang = page_lang
                words = _covered_words(rng, self.samplers[lang], faces[lang],
                                       int(rng.integers(3, 40)), prose=rng.random() < 0.7)
            face = faces[lang]
            size = max(8, int(size_base * rng.uniform(0.85, 1.15)))
            spec = LineSpec(face=face, size=size, color=color, angle=rng.uniform(-1.5, 1.5),
                            space=rng.uniform(1.0, 2.2), pad=max(1.0, size * 0.1),
                            strike_prob=self.strike_prob, baseline_jitter=0.06,
                            size_jitter=0.08)
            x = x_left + rng.uniform(0, spacing * (2.5 if rng.random() < 0.2 else 0.6))
            words = page.draw_line(words, spec, x, y - spacing * 0.12, x_right - x, rng)
            if rng.random() < 0.08:
                words = []  # end of paragraph
            y += spacing * (2 if rng.random() < 0.1 else 1)
        self._blots(page, rng, color)
        table = _table(w, h, rng)
        _camera(page, rng, rng.uniform(0.01, 0.08), rng.uniform(-4, 4), table)
        image = _finish(page.image, rng, photo=True)
        return PageSample(image=image, annotations=page.annotations(), ink=page.ink)

    def _blots(self, page: PageCanvas, rng: np.random.Generator, color: tuple) -> None:
        """Ink blots away from words (they are not text and carry no label)."""
        w, h = page.size
        for _ in range(int(rng.integers(0, 3))):
            r = int(w * rng.uniform(0.005, 0.02))
            cx, cy = int(rng.uniform(r, w - r)), int(rng.uniform(r, h - r))
            box = page.ink[max(0, cy - 2 * r):cy + 2 * r, max(0, cx - 2 * r):cx + 2 * r]
            if box.any():
                continue
            mask = np.zeros((4 * r + 1, 4 * r + 1), np.uint8)
            for _ in range(5):
                off = rng.integers(-r, r + 1, 2)
                axes = (int(r * rng.uniform(0.4, 1)), int(r * rng.uniform(0.4, 1)))
                cv2.ellipse(mask, (2 * r + int(off[0]), 2 * r + int(off[1])), axes,
                            rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA)
            degrade.composite(page.image, mask, np.asarray(color, np.float32), cx - 2 * r,
                              cy - 2 * r)

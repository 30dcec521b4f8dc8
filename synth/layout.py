"""Placing text lines on a page and keeping exact word / line polygons and an ink map.

A line is drawn on its own small canvas (one ink id per word), then rotated and pasted into
the page with one affine transform, so polygons follow the pixels exactly. A final camera or
scanner warp (:meth:`PageCanvas.warp`) moves image, ink map and polygons together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from synth import degrade
from synth.fonts import FontFace
from synth.glyphs import INK_THRESHOLD, draw_text
from synth.records import Annotation


@dataclass
class PlacedWord:
    text: str
    quad: np.ndarray
    ink_id: int
    attributes: dict = field(default_factory=dict)


@dataclass
class PlacedLine:
    words: list[PlacedWord]
    quad: np.ndarray


@dataclass(frozen=True)
class LineSpec:
    """How to draw one line.

    Attributes:
        face: the font (must cover every word).
        size: font pixel size.
        color: RGB ink colour.
        angle: rotation in degrees (counter-clockwise positive as in OpenCV).
        space: word spacing as a multiple of the font's space width.
        pad: polygon padding around each word's ink, in pixels.
        strike_prob: chance that a word is crossed out.
        baseline_jitter: per-word vertical jitter as a fraction of ``size`` (handwriting).
        size_jitter: per-word size jitter as a fraction of ``size`` (handwriting).
    """

    face: FontFace
    size: int
    color: tuple[float, float, float]
    angle: float = 0.0
    space: float = 1.0
    pad: float = 2.0
    strike_prob: float = 0.0
    baseline_jitter: float = 0.0
    size_jitter: float = 0.0


class PageCanvas:
    """A page being drawn: RGB image, int32 ink map (word ids), placed lines.

    Args:
        background: RGB uint8 page (modified in place).
    """

    def __init__(self, background: np.ndarray) -> None:
        self.image = background
        h, w = background.shape[:2]
        self.ink = np.zeros((h, w), np.int32)
        self.lines: list[PlacedLine] = []
        self._next_id = 1

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]

    def draw_line(self, words: Sequence[str], spec: LineSpec, x: float, baseline: float,
                  max_width: float, rng: np.random.Generator) -> list[str]:
        """Draw as many of ``words`` as fit in ``max_width`` starting at (x, baseline).

        Returns:
            The words that did not fit (to continue on the next line).
        """
        face, size = spec.face, spec.size
        space = face.pil(size).getlength(" ") * spec.space
        ascent, descent = face.pil(size).getmetrics()
        pad = int(round(spec.pad))
        masks, pens, pen = [], [], 0.0
        rest = list(words)
        while rest:
            word = rest[0]
            wsize = size
            if spec.size_jitter:
                wsize = max(6, int(round(size * (1 + rng.uniform(-1, 1) * spec.size_jitter))))
            ink = draw_text(face, wsize, word)
            if ink is None:
                rest.pop(0)
                continue
            right = pen + ink.left + ink.mask.shape[1]
            if right > max_width and masks:
                break
            if right > max_width:  # a single word wider than the column: skip it
                rest.pop(0)
                continue
            dy = rng.uniform(-1, 1) * spec.baseline_jitter * size if spec.baseline_jitter else 0
            masks.append((word, ink, dy))
            pens.append(pen)
            pen += ink.advance + space
            rest.pop(0)
        if not masks:
            return rest
        # raw coordinates: origin at the pen start on the baseline
        raw = [(p + ink.left, ink.top + dy) for (_, ink, dy), p in zip(masks, pens, strict=True)]
        min_x = int(np.floor(min(x for x, _ in raw))) - pad - 1
        min_y = int(np.floor(min(min(y for _, y in raw), -ascent))) - pad - 1
        max_x = max(x + ink.mask.shape[1] for (x, _), (_, ink, _) in zip(raw, masks, strict=True))
        max_y = max(max(y + ink.mask.shape[0] for (_, y), (_, ink, _) in
                        zip(raw, masks, strict=True)), descent)
        width = int(np.ceil(max_x)) + pad + 2 - min_x
        height = int(np.ceil(max_y)) + pad + 2 - min_y
        alpha = np.zeros((height, width), np.uint8)
        ids = np.zeros((height, width), np.int32)
        local_words = []
        for (word, ink, _), (rx, ry) in zip(masks, raw, strict=True):
            mh, mw = ink.mask.shape
            x0 = int(round(rx)) - min_x
            y0 = int(round(ry)) - min_y
            mask = ink.mask
            attrs = {}
            if spec.strike_prob and rng.random() < spec.strike_prob:
                mask = mask.copy()
                yy = int(mh * rng.uniform(0.35, 0.65))
                thick = max(1, size // 14)
                cv2.line(mask, (0, yy + int(rng.integers(-2, 3))), (mw - 1, yy), 255, thick,
                         cv2.LINE_AA)
                attrs["crossed_out"] = True
            view = alpha[y0:y0 + mh, x0:x0 + mw]
            np.maximum(view, mask, out=view)
            ink_id = self._next_id
            self._next_id += 1
            ids[y0:y0 + mh, x0:x0 + mw][mask > INK_THRESHOLD] = ink_id
            quad = np.array([[x0 - pad, y0 - pad], [x0 + mw + pad, y0 - pad],
                             [x0 + mw + pad, y0 + mh + pad], [x0 - pad, y0 + mh + pad]], float)
            local_words.append(PlacedWord(word, quad, ink_id, attrs))
        # local (-min_x, -min_y) is the pen start on the baseline; rotate about it
        t = np.deg2rad(spec.angle)
        rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
        shift = np.array([x, baseline]) - rot @ np.array([-min_x, -min_y], float)
        m = np.hstack([rot, shift[:, None]])
        self._paste(alpha, ids, m, np.asarray(spec.color, np.float32))
        placed = []
        for pw in local_words:
            pw.quad = pw.quad @ m[:, :2].T + m[:, 2]
            placed.append(pw)
        allq = np.vstack([pw.quad for pw in placed]) @ np.linalg.inv(rot).T
        lo, hi = allq.min(0), allq.max(0)
        box = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
        self.lines.append(PlacedLine(placed, box @ rot.T))
        return rest

    def _paste(self, alpha: np.ndarray, ids: np.ndarray, m: np.ndarray, color: np.ndarray) -> None:
        h, w = alpha.shape
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float) @ m[:, :2].T + m[:, 2]
        W, H = self.size
        x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + 1, [W, H])
        if x1 <= x0 or y1 <= y0:
            return
        mm = m.copy()
        mm[:, 2] -= [x0, y0]
        size = (int(x1 - x0), int(y1 - y0))
        a = cv2.warpAffine(alpha, mm, size, flags=cv2.INTER_LINEAR)
        i = cv2.warpAffine(ids, mm.astype(np.float64), size, flags=cv2.INTER_NEAREST)
        degrade.composite(self.image, a, color, int(x0), int(y0))
        view = self.ink[y0:y1, x0:x1]
        keep = (i > 0) & (a > INK_THRESHOLD)
        view[keep] = i[keep]

    def warp(self, m: np.ndarray, out_w: int, out_h: int, background: np.ndarray) -> None:
        """Apply a homography to everything; uncovered pixels come from ``background``."""
        img = cv2.warpPerspective(self.image, m, (out_w, out_h), flags=cv2.INTER_LINEAR)
        cover = cv2.warpPerspective(np.full(self.ink.shape, 255, np.uint8), m, (out_w, out_h),
                                    flags=cv2.INTER_LINEAR)
        a = cover.astype(np.float32)[..., None] / 255
        self.image = (img * a + background * (1 - a)).astype(np.uint8)
        self.ink = cv2.warpPerspective(self.ink, m.astype(np.float64), (out_w, out_h),
                                       flags=cv2.INTER_NEAREST)
        for line in self.lines:
            line.quad = degrade.warp_points(line.quad, m)
            for word in line.words:
                word.quad = degrade.warp_points(word.quad, m)

    def annotations(self) -> list[Annotation]:
        """Words (reading order) then lines, polygons clipped to the image."""
        w, h = self.size
        limit = np.array([w - 1, h - 1], float)
        words, lines = [], []
        for line in self.lines:
            for pw in line.words:
                words.append(Annotation("word", np.clip(pw.quad, 0, limit), pw.text,
                                        dict(pw.attributes), ink_id=pw.ink_id))
            text = " ".join(pw.text for pw in line.words)
            lines.append(Annotation("line", np.clip(line.quad, 0, limit), text))
        return words + lines

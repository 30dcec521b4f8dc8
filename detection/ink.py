"""Text on clean scans found from the ink itself: connected components joined into words.

A bi-level or near bi-level scan of a printed page (black type on white paper) needs no
learned detector: every glyph is a connected component of dark pixels, glyphs of one word
are a fraction of a text height apart, and words of one line share a row. :class:`InkDetector`
binarizes with Otsu's threshold, keeps components of text size (median component height =
text height; rules, pictures and specks dropped), closes gaps narrower than ``word_gap``
text heights along the row and returns each joined run as a ``word`` box padded by
``pad`` heights. It is exact and fast where it applies; :func:`is_clean_scan` says where:
almost every pixel near black or white, on a light background.

:class:`CleanScanRouter` sends clean scans to an :class:`InkDetector` and every other image
(photos, notebooks on ruled paper) to the learned detector.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from core.geometry import box_polygon
from core.imaging import to_gray
from detection.types import Detector, Region

# Share of a clean scan's non-white pixels that are near black. Tune parts (SROIE scans,
# real printed pages, synthetic receipt scans) between the gray scans (0.05-0.44) and the
# black-on-white ones (0.56-1.0): bench/reading_order.md, "Clean scans".
MIN_DARK = 0.5


def is_clean_scan(image: np.ndarray, min_fraction: float = 0.97,
                  min_dark: float = MIN_DARK) -> bool:
    """Whether an image is a clean scan: ``min_fraction`` of pixels near black or white
    (below 64 or above 192), a light background (median above 192), and ink that is black:
    at least ``min_dark`` of the pixels that are not near white are near black. Faded
    thermal print is gray on white: white enough overall, but Otsu's threshold on it keeps
    specks and borders, not letters; the learned detector reads it."""
    gray = to_gray(image)
    if gray.size == 0:
        return False
    dark, light = gray < 64, gray > 192
    if float((dark | light).mean()) < min_fraction or float(np.median(gray)) <= 192:
        return False
    return float(dark.sum()) >= min_dark * max(1.0, float((~light).sum()))


def text_height(heights: np.ndarray, speck_ratio: float = 0.15,
                page_height: float | None = None) -> float:
    """The text height of a page from its components' heights: the median of those that are
    not specks, lower than ``speck_ratio`` of the height-weighted median (each component
    counted as often as it is high). A clean page's dots and commas are few and barely move
    the median; a 600-dpi scan sprinkled with dust has more specks than glyphs, and a plain
    median would take a speck for the text height and the glyphs for pictures. Components
    taller than half of ``page_height`` (a frame, a scanner's edge) are left out of the
    weighting: around a few words they would outweigh them."""
    ordered = np.sort(np.asarray(heights, dtype=np.float64))
    weighed = ordered if page_height is None else ordered[ordered <= page_height / 2]
    if len(weighed) == 0:
        return float(np.median(ordered))
    weight = np.cumsum(weighed)
    specks = ordered < speck_ratio * weighed[np.searchsorted(weight, weight[-1] / 2)]
    return float(np.median(ordered[~specks]))


class InkDetector:
    """Word boxes of a clean scan from its connected components (no model).

    Args:
        word_gap: gaps up to this many text heights are closed (letters into words).
        pad: each box grows by this many of its heights on every side.
        max_height: components taller than this many text heights are not text (pictures,
            frames, vertical rules); so are components wider than ``max_width`` heights.
        min_height: joined runs lower than this many text heights are dropped (specks,
            stray dots); dots and commas next to letters join their word first.
        min_components: fewer text-size components than this: the image has no text.
        speck_ratio: components lower than this share of the height-weighted median height
            are left out of the text height (see :func:`text_height`).
    """

    description = "ink components (clean scans, no model)"

    def __init__(self, word_gap: float = 0.6, pad: float = 0.2, max_height: float = 6.0,
                 max_width: float = 20.0, min_height: float = 0.5, min_components: int = 3,
                 speck_ratio: float = 0.15):
        self.word_gap = word_gap
        self.pad = pad
        self.max_height = max_height
        self.max_width = max_width
        self.min_height = min_height
        self.min_components = min_components
        self.speck_ratio = speck_ratio

    def predict(self, images: Sequence[np.ndarray]) -> list[list[Region]]:
        return [self.words(img) for img in images]

    def words(self, image: np.ndarray) -> list[Region]:
        """Word regions of one image, top to bottom."""
        gray = to_gray(image)
        if gray.size == 0 or int(gray.max()) == int(gray.min()):
            return []
        _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        stats = stats[1:]
        x, y, w, h = (stats[:, k] for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP,
                                            cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
        glyphs = h >= 4
        if glyphs.sum() < self.min_components:
            return []
        h0 = text_height(h[glyphs], self.speck_ratio, gray.shape[0])
        keep = (h <= self.max_height * h0) & (w <= self.max_width * h0) & (h >= 2)
        blobs = np.flatnonzero((h > self.max_height * h0) & (w > self.max_height * h0))
        if len(blobs):
            # Specks around a picture (or a scanner's dark border) are not text.
            near = cv2.dilate(np.isin(labels, blobs + 1).astype(np.uint8),
                              cv2.getStructuringElement(cv2.MORPH_RECT, (round(h0) + 1,) * 2))
            for i in np.flatnonzero(keep):
                if near[y[i]:y[i] + h[i], x[i]:x[i] + w[i]].any():
                    keep[i] = False
        mask = np.zeros_like(ink)
        for i in np.flatnonzero(keep):
            mask[y[i]:y[i] + h[i], x[i]:x[i] + w[i]] = 255
        gap = max(1, round(self.word_gap * h0))
        joined = cv2.morphologyEx(mask, cv2.MORPH_CLOSE,
                                  cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
        _, _, runs, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        runs = runs[1:][runs[1:, cv2.CC_STAT_HEIGHT] >= self.min_height * h0, :4]
        if len(runs):
            row = float(np.median(runs[:, 3]))
            runs = [box for run in runs for box in _split_rows(ink, *run, row)]
            runs = _attach_marks(runs, row, gap)
        height, width = gray.shape
        out = []
        for rx, ry, rw, rh in runs:
            pad = self.pad * rh
            x1, y1 = max(0.0, rx - pad), max(0.0, ry - pad)
            x2, y2 = min(float(width), rx + rw + pad), min(float(height), ry + rh + pad)
            out.append(Region(polygon=box_polygon(x1, y1, x2, y2), bbox=(x1, y1, x2, y2),
                              score=1.0, label="word"))
        out.sort(key=lambda r: (r.bbox[1], r.bbox[0]))
        return out


def _attach_marks(runs: list[tuple[int, int, int, int]], row: float, gap: int,
                  small: float = 0.5) -> list[tuple[int, int, int, int]]:
    """Join each small run (under ``small`` of a text row high: a closing quote or an
    apostrophe above an x-height word, an accent over a capital) to the nearest full run at
    most ``gap`` pixels to its side whose text band it sits in or just above. The horizontal
    closing cannot join them (they share no pixel row), and a quote read alone comes out as
    ``7%`` or ``99``."""
    if len(runs) < 2:
        return runs
    box = np.array(runs, dtype=float)
    x0, y0, x1, y1 = box[:, 0], box[:, 1], box[:, 0] + box[:, 2], box[:, 1] + box[:, 3]
    full = box[:, 3] >= small * row
    absorbed = np.zeros(len(runs), dtype=bool)
    for i in np.flatnonzero(~full):
        dx = np.maximum(np.maximum(x0 - x1[i], x0[i] - x1), 0)
        near = full & (dx <= gap) & (y1[i] >= y0 - small * row) & (y0[i] <= y1)
        if not near.any():
            continue
        j = int(np.flatnonzero(near)[np.argmin(dx[near])])
        x0[j], y0[j] = min(x0[j], x0[i]), min(y0[j], y0[i])
        x1[j], y1[j] = max(x1[j], x1[i]), max(y1[j], y1[i])
        absorbed[i] = True
    return [(int(a), int(b), int(c - a), int(d - b))
            for a, b, c, d, gone in zip(x0, y0, x1, y1, absorbed, strict=True) if not gone]


def _split_rows(ink: np.ndarray, x: int, y: int, w: int, h: int, row: float,
                tall: float = 1.7, valley: float = 0.15) -> list[tuple[int, int, int, int]]:
    """Cut a run ``tall`` times the median run height or more (two text rows joined by a
    descender that touches the ascender below) at its emptiest ink row, while that row holds
    at most ``valley`` of the ink of the run's fullest rows (90th percentile); a tall run
    without such a gap (large type, a drop cap) stays whole."""
    if h < tall * row:
        return [(x, y, w, h)]
    profile = (ink[y:y + h, x:x + w] > 0).sum(axis=1)
    lo, hi = int(0.25 * h), int(0.75 * h)
    cut = lo + int(np.argmin(profile[lo:hi]))
    if profile[cut] > valley * float(np.percentile(profile, 90)):
        return [(x, y, w, h)]
    out = []
    for top, bottom in ((0, cut), (cut + 1, h)):
        cols = np.flatnonzero((ink[y + top:y + bottom, x:x + w] > 0).any(axis=0))
        rows = np.flatnonzero(profile[top:bottom])
        if len(cols) and len(rows):
            out += _split_rows(ink, x + int(cols[0]), y + top + int(rows[0]),
                               int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1), row,
                               tall, valley)
    return out


class CleanScanRouter:
    """Clean scans to an :class:`InkDetector`, every other image to ``detector``."""

    def __init__(self, detector: Detector, ink: InkDetector | None = None,
                 min_fraction: float = 0.97):
        self.detector = detector
        self.ink = ink or InkDetector()
        self.min_fraction = min_fraction
        inner = getattr(detector, "description", type(detector).__name__)
        self.description = f"{inner}; clean scans: {self.ink.description}"

    def predict(self, images: Sequence[np.ndarray]) -> list[list[Region]]:
        clean = [is_clean_scan(img, self.min_fraction) for img in images]
        rest = [img for img, c in zip(images, clean, strict=True) if not c]
        learned = iter(self.detector.predict(rest) if rest else [])
        return [self.ink.words(img) if c else next(learned)
                for img, c in zip(images, clean, strict=True)]

"""Tiny stand-ins for the detector and recognizer, and generated test pages.

A generated "word" is a filled shape whose grey level encodes its text: level ``20 * k``
reads as the k-th letter. ``BlobDetector`` finds the shapes (connected components) and
returns their axis-aligned boxes; ``GreyRecognizer`` reads a crop's grey level back.
"""

from __future__ import annotations

import string

import cv2
import numpy as np

from core.geometry import box_polygon
from detection.types import Region
from recognition.types import Recognition

LETTERS = string.ascii_lowercase[:12]  # levels 0..220, all darker than the white page


def level(letter: str) -> int:
    return 20 * LETTERS.index(letter)


class BlobDetector:
    """Connected components of non-white pixels, as word boxes."""

    description = "fake blob detector"

    def __init__(self, label: str = "word"):
        self.label = label
        self.calls: list[int] = []

    def predict(self, images):
        self.calls.append(len(images))
        out = []
        for img in images:
            dark = (img.min(axis=2) < 235).astype(np.uint8)
            n, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
            regions = []
            for x, y, w, h, area in stats[1:]:
                if area < 4:
                    continue
                box = (float(x), float(y), float(x + w), float(y + h))
                regions.append(Region(box_polygon(*box), box, 0.9, self.label))
            out.append(regions)
        return out


class GreyRecognizer:
    """Reads the grey level of the darkest pixels of a crop as a letter; '' for a blank crop."""

    description = "fake grey recognizer"

    def __init__(self):
        self.calls: list[int] = []

    def predict(self, crops):
        self.calls.append(len(crops))
        out = []
        for crop in crops:
            grey = crop.min(axis=2)
            ink = grey[grey < 235]
            if ink.size == 0:
                out.append(Recognition("", 0.0))
                continue
            k = int(round(float(np.median(ink)) / 20))
            out.append(Recognition(LETTERS[min(k, len(LETTERS) - 1)], 0.5))
        return out


class SizeRecognizer:
    """Reads every crop as ``"<width>x<height>"`` (checks which crop it was given)."""

    description = "fake size recognizer"

    def predict(self, crops):
        return [Recognition(f"{c.shape[1]}x{c.shape[0]}", 1.0) for c in crops]


def page(rows: list[str], width: int = 400, height: int = 300, x0: int = 20, y0: int = 20,
         word_w: int = 30, word_h: int = 14, gap: int = 12, spacing: int = 30,
         canvas: np.ndarray | None = None) -> np.ndarray:
    """Draw rows of one-letter words (letters in ``rows``) as grey boxes on white."""
    img = np.full((height, width, 3), 255, np.uint8) if canvas is None else canvas
    for r, row in enumerate(rows):
        for c, letter in enumerate(row):
            x, y = x0 + c * (word_w + gap), y0 + r * spacing
            img[y:y + word_h, x:x + word_w] = level(letter)
    return img


def rotated_page(rows: list[str], degrees: float, size: int = 420) -> np.ndarray:
    """Rows of words as rotated grey rectangles (a skewed page)."""
    img = np.full((size, size, 3), 255, np.uint8)
    centre = np.array([size / 2, size / 2])
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    for r, row in enumerate(rows):
        for c, letter in enumerate(row):
            x, y = 60 + c * 60, 120 + r * 36
            box = np.array([[x, y], [x + 44, y], [x + 44, y + 16], [x, y + 16]], float)
            pts = (box - centre) @ rot.T + centre
            g = level(letter)
            cv2.fillPoly(img, [np.round(pts).astype(np.int32)], (g, g, g))
    return img


def two_row_plate(top: str, bottom: str) -> np.ndarray:
    """A square-ish plate crop: two rows of letters as grey boxes."""
    img = np.full((60, 80, 3), 255, np.uint8)
    for r, row in enumerate((top, bottom)):
        for c, letter in enumerate(row):
            x, y = 6 + c * 18, 6 + r * 28
            img[y:y + 20, x:x + 14] = level(letter)
    return img

"""Assertions shared by the synth tests: polygons inside images, labels agree with ink."""

from __future__ import annotations

import cv2
import numpy as np

from recognition.alphabet import unsupported_chars
from synth.records import PageSample


def assert_inside(sample: PageSample) -> None:
    h, w = sample.image.shape[:2]
    for a in sample.annotations:
        assert a.polygon.shape[1] == 2 and len(a.polygon) >= 4
        assert (a.polygon >= 0).all(), (a.text, a.polygon)
        assert (a.polygon[:, 0] <= w - 1).all() and (a.polygon[:, 1] <= h - 1).all(), a.text


def assert_alphabet(sample: PageSample) -> None:
    for a in sample.annotations:
        assert a.text and not unsupported_chars(a.text), a.text


def polygon_mask(polygon: np.ndarray, shape: tuple[int, int], grow: bool = True) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    if grow:  # one pixel of slack for rasterisation
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return mask.astype(bool)


def assert_ink_agrees(sample: PageSample, category: str) -> int:
    """Each object's own ink (drawn from its label) lies in its polygon, the final image is not
    blank there, and typically a polygon holds little of other objects' ink (handwriting
    tails may reach into a neighbour, so this is checked on the median).

    Returns:
        How many objects were checked.
    """
    assert sample.ink is not None
    checked = 0
    foreign_ratios = []
    gray = sample.image.mean(2)
    for a in sample.annotations:
        if a.category != category:
            continue
        own = sample.ink == a.ink_id
        n_own = int(own.sum())
        if n_own < 3:  # clipped away at the page edge
            continue
        inside = polygon_mask(a.polygon, sample.ink.shape)
        assert (own & inside).sum() >= 0.97 * n_own, f"ink of {a.text!r} outside its polygon"
        strict = polygon_mask(a.polygon, sample.ink.shape, grow=False)
        foreign = int(((sample.ink > 0) & (sample.ink != a.ink_id) & strict).sum())
        foreign_ratios.append(foreign / n_own)
        ys, xs = np.nonzero(inside)
        crop = gray[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        assert crop.max() - crop.min() > 25, f"crop of {a.text!r} is blank"
        checked += 1
    if foreign_ratios:
        assert float(np.median(foreign_ratios)) < 0.05, "polygons cover other objects' ink"
    return checked

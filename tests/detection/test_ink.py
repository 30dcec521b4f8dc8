"""Ink detector on hand-made clean scans: Hershey text on white, binarized."""

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from core.geometry import box_polygon
from detection.config import DetectorConfig, DetectorTrainConfig
from detection.factory import build_detector
from detection.ink import CleanScanRouter, InkDetector, is_clean_scan
from detection.types import Region

FONT = cv2.FONT_HERSHEY_SIMPLEX
ROWS = [["alpha", "beta", "gamma"], ["delta", "epsilon", "zeta"], ["theta", "iota", "kappa"]]


def scan(rows=ROWS, width=900, height=400):
    """A bi-level page; returns it and the ink box of every word."""
    img = np.full((height, width), 255, np.uint8)
    boxes = []
    for r, words in enumerate(rows):
        x, y = 40, 60 + r * 60
        for word in words:
            (w, _), _ = cv2.getTextSize(word, FONT, 1.0, 2)
            alone = np.full_like(img, 255)
            cv2.putText(alone, word, (x, y), FONT, 1.0, 0, 2)
            ys, xs = np.nonzero(alone < 128)
            boxes.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
            img = np.minimum(img, alone)
            x += w + 60
    img = np.where(img < 128, 0, 255).astype(np.uint8)
    return np.stack([img] * 3, axis=-1), boxes


def inside(inner, outer):
    return (outer[0] <= inner[0] and outer[1] <= inner[1]
            and inner[2] <= outer[2] and inner[3] <= outer[3])


def test_finds_each_word_of_a_clean_scan():
    img, truth = scan()
    regions = InkDetector().words(img)
    assert len(regions) == len(truth)
    for box in truth:
        homes = [r for r in regions if inside(box, r.bbox)]
        assert len(homes) == 1, box
    for r in regions:
        assert r.label == "word" and r.score == 1.0
        x1, y1, x2, y2 = r.bbox
        assert 0 <= x1 < x2 <= img.shape[1] and 0 <= y1 < y2 <= img.shape[0]


def test_picture_and_its_specks_are_not_text():
    img, truth = scan()
    img[250:390, 600:880] = 0  # a dark picture, with specks around it
    rng = np.random.default_rng(0)
    for x, y in zip(rng.integers(590, 890, 40), rng.integers(240, 398, 40), strict=True):
        img[y:y + 3, x:x + 3] = 0
    regions = InkDetector().words(img)
    assert len(regions) == len(truth)
    assert all(r.bbox[3] < 250 or r.bbox[2] < 590 for r in regions)


def test_blank_and_textless_images_give_nothing():
    assert InkDetector().words(np.full((50, 80, 3), 255, np.uint8)) == []
    dots = np.full((100, 100, 3), 255, np.uint8)
    dots[10:12, 10:12] = 0
    assert InkDetector().words(dots) == []


def test_clean_scan_test():
    img, _ = scan()
    assert is_clean_scan(img)
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, img.shape, dtype=np.uint8)
    assert not is_clean_scan(photo)
    assert not is_clean_scan(255 - img)  # light text on a dark background


class RecordingDetector:
    description = "fake model"

    def __init__(self):
        self.seen = []

    def predict(self, images):
        self.seen.append(len(images))
        return [[Region(box_polygon(0, 0, 5, 5), (0.0, 0.0, 5.0, 5.0), 0.5, "word")]
                for _ in images]


def test_router_sends_only_non_clean_images_to_the_model():
    clean, truth = scan()
    photo = np.random.default_rng(1).integers(0, 256, clean.shape, dtype=np.uint8)
    model = RecordingDetector()
    router = CleanScanRouter(model)
    out = router.predict([clean, photo, clean])
    assert model.seen == [1]
    assert len(out[0]) == len(out[2]) == len(truth)
    assert [r.score for r in out[1]] == [0.5]
    assert "fake model" in router.description and "ink" in router.description
    router.predict([clean])
    assert model.seen == [1]  # no empty batch for the model


def test_config_builds_ink_detector_and_refuses_to_train_it(tmp_path):
    det = build_detector(DetectorConfig(backend="ink"), device="cpu")
    img, truth = scan()
    assert len(det.predict([img])[0]) == len(truth)
    with pytest.raises(ValidationError, match="nothing to train"):
        DetectorTrainConfig(model={"backend": "ink"},
                            data={"train": {"annotations": str(tmp_path / "a.json")}})


def test_two_rows_joined_by_a_stroke_are_cut_apart():
    img, truth = scan()
    # A descender of "alpha" (row 0) runs down into "delta" (row 1): one component.
    x = (truth[0][0] + truth[0][2]) // 2
    img[truth[0][3] - 2:truth[3][1] + 3, x:x + 2] = 0
    regions = InkDetector().words(img)
    rows = {0: (truth[0][1], truth[0][3]), 1: (truth[3][1], truth[3][3])}
    for r in regions:
        spans = [k for k, (top, bottom) in rows.items() if r.bbox[1] < bottom and r.bbox[3] > top]
        assert len(spans) <= 1, r.bbox
    assert any(inside(truth[0], r.bbox) for r in regions)


def test_large_type_is_not_cut():
    img, truth = scan()
    cv2.putText(img, "TITLE", (300, 380), FONT, 4.0, (0, 0, 0), 8)
    regions = InkDetector().words(img)
    title = [r for r in regions if r.bbox[3] > 260]
    # Its letters may stand apart (wide spacing for body text) but none is cut in rows.
    assert title and all(r.bbox[1] < 290 and r.bbox[3] > 380 for r in title)


def test_closing_quote_above_an_x_height_word_joins_it():
    # "xun," followed by a closing quote: the quote's pixel rows lie above the word's
    # x-height letters, so no horizontal closing can join them.
    words = [["xun", "hold", "bide"], ["bolt", "lift", "kid"]]  # most rows have ascenders
    img, truth = scan(rows=words)
    x0, y0, x1, y1 = truth[0]
    quote = (x1 + 4, y0 - 13, x1 + 12, y0 - 4)  # 9 px: a run, yet under half a row
    img[quote[1]:quote[3], quote[0]:quote[0] + 3] = 0
    img[quote[1]:quote[3], quote[0] + 5:quote[2]] = 0
    regions = InkDetector().words(img)
    assert len(regions) == len(truth)  # no region of its own for the quote
    home = [r for r in regions if inside(truth[0], r.bbox)]
    assert len(home) == 1 and inside(quote, home[0].bbox)
    # A mark far from any word stays alone: it is not pulled into a distant word.
    img2, truth2 = scan(rows=words)
    img2[20:28, 800:806] = 0
    regions2 = InkDetector().words(img2)
    assert not any(inside((800, 20, 806, 28), r.bbox) and inside(b, r.bbox)
                   for r in regions2 for b in truth2)

"""Ink detector on hand-made clean scans: Hershey text on white, binarized."""

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from core.geometry import box_polygon
from detection.config import DetectorConfig, DetectorTrainConfig
from detection.factory import build_detector
from detection.ink import CleanScanRouter, InkDetector, is_clean_scan, text_height
from detection.types import Region

FONT = cv2.FONT_HERSHEY_SIMPLEX
ROWS = [["alpha", "beta", "gamma"], ["delta", "epsilon", "zeta"], ["theta", "iota", "kappa"]]


def scan(rows=ROWS, width=900, height=400, scale=1.0, left=40, top=60):
    """A bi-level page; returns it and the ink box of every word (type ``scale`` times the
    default size, rows from ``top``, words from ``left``, spaced in proportion)."""
    img = np.full((height, width), 255, np.uint8)
    boxes = []
    thick, step = round(2 * scale), round(60 * scale)
    for r, words in enumerate(rows):
        x, y = left, top + r * step
        for word in words:
            (w, _), _ = cv2.getTextSize(word, FONT, scale, thick)
            alone = np.full_like(img, 255)
            cv2.putText(alone, word, (x, y), FONT, scale, 0, thick)
            ys, xs = np.nonzero(alone < 128)
            boxes.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
            img = np.minimum(img, alone)
            x += w + step
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


def test_gray_faded_print_is_not_a_clean_scan():
    img, _ = scan()
    faded = np.where(img == 0, 150, 255).astype(np.uint8)  # thermal print gone gray
    assert is_clean_scan(img) and not is_clean_scan(faded)
    border = faded.copy()
    border[:, :4] = 0  # a black scanner edge beside the gray text is not black ink
    assert not is_clean_scan(border)


def test_text_height_is_not_taken_from_dust():
    glyphs = [50] * 30 + [36] * 30 + [10] * 4  # letters, x-height letters, dots (600 dpi)
    dust = [4, 5, 6] * 50  # specks of a dusty scan, more of them than glyphs
    assert text_height(np.array(glyphs)) == np.median(glyphs)  # a clean page: as before
    assert text_height(np.array(glyphs + dust)) == 36
    assert np.median(glyphs + dust) == 6  # what a plain median took for the text height


def test_words_of_a_dusty_600_dpi_scan_are_found():
    rows = [["TOTAL", "RM", "12.50"], ["CASH", "RM", "20.00"]]  # type ~50 px, as at 600 dpi
    img, words = scan(rows=rows, width=2400, height=1800, scale=2.5, left=300, top=800)
    rng = np.random.default_rng(1)
    for x, y in zip(rng.integers(0, 2390, 120), rng.integers(0, 1790, 120), strict=True):
        if not 700 < y < 1000:  # dust all over the page but on the lines: more specks
            img[y:y + rng.integers(4, 8), x:x + rng.integers(2, 6)] = 0  # than letters
    regions = InkDetector().words(img)
    for box in words:
        assert sum(inside(box, r.bbox) for r in regions) == 1, box


def test_a_frame_around_a_few_words_is_not_the_text_height():
    img, truth = scan(rows=[["total", "cash"]], width=900, height=900)
    img[5:895, 5:20] = 0  # a scanner's dark edge down the whole page
    heights = np.array([15] * 9 + [21] * 3 + [890])
    assert text_height(heights, page_height=900) == 15
    assert text_height(heights) == 890  # weighed with the edge, the letters were specks
    regions = InkDetector().words(img)
    for box in truth:
        assert sum(inside(box, r.bbox) for r in regions) == 1, box

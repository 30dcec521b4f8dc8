"""Turned pages: upright coordinates mapped back to the image as loaded, the ink-profile
quarter-turn test, the shipped documents models reading a page turned 90/180/270 as upright
with the turn reported, and an EXIF-rotated JPEG read upright."""

import numpy as np
import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

from pipeline.ocr import OcrPipeline
from pipeline.steps import ROTATIONS, points_to_turned, quarter_turned, turn_upright
from tests.pipeline.test_char_boxes import text_page

LINES = ["The river flows south to", "the old mill and the sea", "where boats rest at night",
         "under a quiet grey sky"]


def turned(image: np.ndarray, rotation: int) -> np.ndarray:
    """``image`` turned ``rotation`` degrees clockwise."""
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90)))


def pixels(image: np.ndarray, box) -> np.ndarray:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    return image[y1:y2, x1:x2]


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_upright_boxes_cover_the_same_pixels_in_the_turned_image(rotation):
    rng = np.random.default_rng(0)
    page = rng.integers(0, 255, (30, 50), dtype=np.uint8)
    image = turned(page, rotation)
    assert np.array_equal(turn_upright(image, rotation), page)
    box = np.array([[7, 4], [19, 11]], float)  # x1, y1 / x2, y2 in the upright page
    pts = points_to_turned(box, rotation, image.shape)
    (x1, y1), (x2, y2) = pts.min(axis=0), pts.max(axis=0)
    there = pixels(image, (x1, y1, x2, y2))
    assert np.array_equal(turn_upright(there, rotation), page[4:11, 7:19])


@pytest.mark.parametrize("lines", [1, 2, 4])
def test_quarter_turn_from_ink_profiles(lines):
    page = text_page(LINES[:lines])  # a short page of one or two lines too
    assert not quarter_turned(page)
    assert quarter_turned(turned(page, 90)) and quarter_turned(turned(page, 270))
    assert not quarter_turned(turned(page, 180))


@pytest.fixture(scope="module")
def orienting():
    return OcrPipeline.from_preset("documents", overrides=["orientation.enabled=true"])


def test_turned_pages_read_as_upright(orienting):
    page = text_page(LINES[:2], width=600)
    [upright] = orienting.run([page])
    assert upright.rotation == 0 and "river" in upright.text
    for rotation in (90, 180, 270):
        image = turned(page, rotation)
        [found] = orienting.run([image])
        assert found.rotation == rotation
        assert found.text == upright.text
        assert (found.width, found.height) == (image.shape[1], image.shape[0])
        for a, b in zip(upright.words, found.words, strict=True):
            # the word's box in the turned image holds the same ink, turned
            ink = turn_upright(pixels(image, b.bbox), rotation)
            assert np.array_equal(ink, pixels(page, a.bbox)), (rotation, a.text)


def test_forced_rotation(orienting):
    page = text_page(LINES[:2])
    ocr = OcrPipeline.from_preset("documents", overrides=["orientation.rotation=90"])
    [found] = ocr.run([turned(page, 90)])
    assert found.rotation == 90 and "river" in found.text


def test_exif_rotated_jpeg_reads_like_upright(tmp_path, orienting):
    page = text_page(LINES[:2])
    Image.fromarray(page).save(tmp_path / "upright.jpg", quality=95)
    # stored turned 90 counter-clockwise; EXIF Orientation 6 says: turn it 90 clockwise
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(page, 1)))
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / "exif.jpg", quality=95, exif=exif.tobytes())
    plain = OcrPipeline.from_preset("documents")
    upright, rotated = plain.run([tmp_path / "upright.jpg", tmp_path / "exif.jpg"])
    assert (rotated.width, rotated.height) == (page.shape[1], page.shape[0])
    assert rotated.rotation == 0 and "river" in rotated.text
    assert Levenshtein.normalized_distance(rotated.text, upright.text) < 0.1

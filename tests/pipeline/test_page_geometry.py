import cv2
import numpy as np
import pytest

from core.config import ConfigError
from pipeline.ocr import OcrPipeline
from pipeline.page_geometry import PageWarp, find_page
from pipeline.presets import PageGeometryConfig, load_pipeline_config
from pipeline.results import Line, Page, Word
from pipeline.steps import lines_from_page
from tests.pipeline.test_char_boxes import text_page

LINES = ["The river flows south", "past the old mill", "and the long bridge",
         "into the grey sea"]
TRUE_QUAD = np.array([[210.0, 140.0], [1090.0, 210.0], [1040.0, 760.0], [160.0, 690.0]])


def photo(page: np.ndarray, quad: np.ndarray = TRUE_QUAD, size=(1280, 900)) -> np.ndarray:
    """``page`` seen at an angle on a dark, grainy table (``quad``: where its corners go)."""
    h, w = page.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    rng = np.random.default_rng(0)
    table = np.full((size[1], size[0], 3), (70, 55, 40), np.float32)
    table += rng.normal(0, 6, table.shape[:2])[..., None]
    warped = cv2.warpPerspective(page, m, size, flags=cv2.INTER_AREA)
    cover = cv2.warpPerspective(np.full((h, w), 1, np.float32), m, size)[..., None]
    return np.clip(warped * cover + table * (1 - cover), 0, 255).astype(np.uint8)


def corner_error(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(found - truth, axis=1).max())


def test_finds_the_page_of_a_photo_and_its_corners():
    warp = find_page(photo(text_page(LINES)))
    assert warp is not None
    assert corner_error(warp.quad, TRUE_QUAD) < 6  # pixels, of a ~1000-pixel diagonal
    w, h = warp.size
    assert 850 < w < 900 and 540 < h < 570  # the longer of each pair of opposite sides


@pytest.mark.parametrize("image", ["scan", "crop", "blank", "tiny"])
def test_an_image_that_already_is_the_page_gives_no_quad(image):
    page = text_page(LINES)
    images = {"scan": page,
              "crop": PageWarp.from_quad(TRUE_QUAD).rectify(photo(page)),
              "blank": np.full((600, 800, 3), 255, np.uint8),
              "tiny": np.zeros((10, 12, 3), np.uint8)}
    assert find_page(images[image]) is None


def test_warp_puts_upright_points_back_where_they_were():
    warp = PageWarp.from_quad(TRUE_QUAD)
    w, h = warp.size
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    assert np.allclose(warp.to_image(corners), TRUE_QUAD, atol=1e-6)
    assert warp.to_image(np.zeros((0, 2))).shape == (0, 2)


def test_lines_from_page_moves_polygons_and_boxes():
    warp = PageWarp.from_quad(TRUE_QUAD)
    poly = ((10.0, 10.0), (100.0, 10.0), (100.0, 40.0), (10.0, 40.0))
    word = Word("river", poly, (10.0, 10.0, 100.0, 40.0))
    [line] = lines_from_page([Line("river", poly, (word,))], warp)
    expected = warp.to_image(np.array(poly))
    assert np.allclose(np.array(line.polygon), expected, atol=0.01)
    x1, y1, x2, y2 = line.words[0].bbox
    assert np.isclose(x1, expected[:, 0].min(), atol=0.01)
    assert np.isclose(y2, expected[:, 1].max(), atol=0.01)
    assert lines_from_page([line], None) == (line,)


def test_page_quad_in_results_json_round_trips():
    page = Page("p.jpg", 1280, 900, page_quad=((1.0, 2.0), (3.0, 2.0), (3.0, 4.0), (1.0, 4.0)))
    data = page.export()
    assert data["page_quad"] == [[1.0, 2.0], [3.0, 2.0], [3.0, 4.0], [1.0, 4.0]]
    assert Page.from_dict(data) == page
    assert Page("s.png", 10, 10).export()["page_quad"] is None


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError):
        load_pipeline_config("documents", overrides=["page_geometry.max_area=1.5"])
    assert isinstance(load_pipeline_config("documents").page_geometry, PageGeometryConfig)


@pytest.fixture(scope="module")
def pipelines():
    return {on: OcrPipeline.from_preset("documents", overrides=[
        f"page_geometry.enabled={str(on).lower()}", "orientation.enabled=false"])
        for on in (True, False)}


def test_a_photographed_page_is_read_upright_with_polygons_in_the_photo(pipelines):
    image = photo(text_page(LINES))
    [page] = pipelines[True].run([image])
    assert page.page_quad is not None and (page.width, page.height) == (1280, 900)
    assert corner_error(np.array(page.page_quad), TRUE_QUAD) < 6
    assert "river" in page.text and "bridge" in page.text
    quad = TRUE_QUAD.astype(np.float32)
    for word in page.words:
        for x, y in word.polygon:  # on the page, in the photo's pixels
            assert cv2.pointPolygonTest(quad, (x, y), True) > -3


def test_a_scan_reads_the_same_with_the_step_on(pipelines):
    page = text_page(LINES[:2])
    [on], [off] = pipelines[True].run([page]), pipelines[False].run([page])
    assert on.page_quad is None
    assert on.export() == off.export()

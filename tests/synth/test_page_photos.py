import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from synth.page_photos import PagePhotoRenderer, PhotoWarp, camera_quad
from tests.synth.checks import assert_ink_agrees, assert_inside


@pytest.fixture(scope="module")
def photos(fonts):
    return PagePhotoRenderer(fonts=fonts, long_side=480)


def test_photos_label_the_page_and_its_text_in_photo_pixels(photos):
    for i in range(3):
        s = photos.render(np.random.default_rng([21, i]))
        assert max(s.image.shape[:2]) == 480
        pages = [a for a in s.annotations if a.category == "page"]
        words = [a for a in s.annotations if a.category == "word"]
        lines = [a for a in s.annotations if a.category == "line"]
        assert len(pages) == 1 and len(words) >= 5 and lines
        assert " ".join(a.text for a in lines).split() == [a.text for a in words]
        assert_inside(s)
        assert assert_ink_agrees(s, "word") >= 0.9 * len(words)
        quad = pages[0].polygon
        assert len(quad) == 4 and cv2.isContourConvex(quad.astype(np.float32))
        # clockwise from the page's own top-left (image y points down: positive area)
        area = 0.5 * np.sum(quad[:, 0] * np.roll(quad[:, 1], -1)
                            - np.roll(quad[:, 0], -1) * quad[:, 1])
        assert area > 0.1 * s.image.shape[0] * s.image.shape[1]
        # every word lies on the page (the quad grown by a pixel for the curl's chords)
        for w in words:
            for x, y in w.polygon:
                assert cv2.pointPolygonTest(quad.astype(np.float32), (float(x), float(y)),
                                            True) > -2


def test_camera_quad_fits_the_photo_and_tilts_the_page():
    rng = np.random.default_rng(0)
    ratios = []
    for _ in range(50):
        q = camera_quad(700, 1000, 1536, 2048, rng, max_tilt=40, max_roll=10, fill=(0.6, 0.9))
        assert (q >= 0).all() and (q[:, 0] <= 1536).all() and (q[:, 1] <= 2048).all()
        top, bottom = np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])
        ratios.append(max(top, bottom) / min(top, bottom))
    assert max(ratios) > 1.15 and min(ratios) < 1.05  # strong keystone and near-flat views


def test_photo_warp_points_agree_with_its_remap_maps():
    h = cv2.getPerspectiveTransform(np.float32([[0, 0], [100, 0], [100, 140], [0, 140]]),
                                    np.float32([[20, 10], [150, 30], [140, 190], [10, 170]]))
    warp = PhotoWarp(h, (100, 140), bow=4.0)
    pts = np.array([[50.0, 70.0], [10.0, 20.0], [90.0, 120.0]])
    photo = warp.points(pts)
    mx, my = warp.maps(200, 220)
    for (x, y), (px, py) in zip(photo, pts, strict=True):
        xi, yi = int(round(x)), int(round(y))
        assert abs(mx[yi, xi] - px) < 1.5 and abs(my[yi, xi] - py) < 1.5


def test_bad_settings_are_refused(fonts):
    with pytest.raises(ValueError, match="max_tilt"):
        PagePhotoRenderer(fonts=fonts, max_tilt=80)
    with pytest.raises(ValueError, match="fill"):
        PagePhotoRenderer(fonts=fonts, fill=(0.9, 0.5))


def test_cli_writes_page_photos_with_a_page_category(tmp_path):
    out = tmp_path / "pp"
    result = CliRunner().invoke(app, ["synth", "page_photos", "--out", str(out), "--n", "1",
                                      "--size", "400", "--no-progress"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "annotations.json").read_text(encoding="utf-8"))
    names = {c["id"]: c["name"] for c in data["categories"]}
    assert set(names.values()) == {"word", "line", "page"}
    pages = [a for a in data["annotations"] if names[a["category_id"]] == "page"]
    assert len(pages) == 1 and len(pages[0]["segmentation"][0]) == 8

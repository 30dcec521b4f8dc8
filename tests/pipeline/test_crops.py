"""Polygon crops: perspective warp for quads, masked minimum-area rectangle otherwise."""

import math

import numpy as np
import pytest

from core.geometry import order_quad, rotate_points
from pipeline.crops import crop_polygon


def test_axis_aligned_box_is_a_plain_crop():
    img = np.random.default_rng(0).integers(0, 255, (50, 80, 3), np.uint8)
    crop = crop_polygon(img, np.array([[10, 5], [40, 5], [40, 25], [10, 25]], float))
    assert crop.shape == (20, 30, 3)
    assert np.abs(crop[2:-2, 2:-2].astype(int) - img[7:23, 12:38]).mean() < 1


def test_rotated_word_comes_out_upright_whatever_the_corner_order():
    img = np.full((200, 200, 3), 255, np.uint8)
    quad = np.array([[60, 90], [140, 90], [140, 110], [60, 110]], float)
    img_pts = rotate_points(quad - 100, math.radians(20)) + 100
    import cv2
    cv2.fillPoly(img, [np.round(img_pts).astype(np.int32)], (0, 0, 0))
    for order in ([0, 1, 2, 3], [2, 3, 0, 1], [3, 2, 1, 0]):
        crop = crop_polygon(img, img_pts[order])
        assert abs(crop.shape[1] - 80) <= 1 and abs(crop.shape[0] - 20) <= 1
        assert crop[3:-3, 3:-3].mean() < 60  # the black word fills the crop


def test_order_quad_starts_top_left_clockwise():
    pts = np.array([[10, 30], [50, 2], [10, 2], [50, 30]], float)
    assert order_quad(pts).tolist() == [[10, 2], [50, 2], [50, 30], [10, 30]]


def test_other_polygons_are_masked_white_outside():
    img = np.zeros((60, 60, 3), np.uint8)
    triangle = np.array([[10, 10], [50, 10], [10, 50], [10, 30], [10, 20]], float)
    crop = crop_polygon(img, triangle)
    assert crop.shape[0] >= 38 and crop.shape[1] >= 38
    assert (crop == 255).any() and (crop == 0).any()  # white outside, black inside


def _turned_plate(angle: float, size=(240, 320)):
    """A light plate with six dark characters, turned by ``angle`` degrees (cv2's sense)
    about the image centre, on a mid-grey car; and its upright bounding box."""
    import cv2

    h, w = size
    img = np.full((h, w, 3), 110, np.uint8)
    x0, y0, pw, ph = w // 2 - 70, h // 2 - 17, 140, 34
    cv2.rectangle(img, (x0, y0), (x0 + pw, y0 + ph), (235, 235, 235), -1)
    for k in range(6):
        cx = x0 + 14 + k * 22
        cv2.rectangle(img, (cx, y0 + 7), (cx + 12, y0 + ph - 7), (20, 20, 20), 3)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    turned = cv2.warpAffine(img, m, (w, h), borderValue=(110, 110, 110))
    corners = np.array([[x0, y0], [x0 + pw, y0], [x0 + pw, y0 + ph], [x0, y0 + ph]], float)
    pts = corners @ m[:, :2].T + m[:, 2]
    (bx0, by0), (bx1, by1) = pts.min(axis=0), pts.max(axis=0)
    return turned, np.array([[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]])


def test_text_angle_finds_the_turn_that_levels_a_plate():
    from pipeline.crops import text_angle

    for angle in (-30.0, -12.0, 0.0, 7.0, 25.0):
        img, box = _turned_plate(angle)
        crop = crop_polygon(img, box)
        assert abs(text_angle(crop, 40) + angle) <= 1.5, angle


def test_level_quad_cuts_the_turned_plate_out_of_its_upright_box():
    from pipeline.crops import level_quad, text_angle

    img, box = _turned_plate(25.0)
    quad = level_quad(box, text_angle(crop_polygon(img, box), 40))
    crop = crop_polygon(img, quad)
    assert abs(crop.shape[1] - 140) <= 6 and abs(crop.shape[0] - 34) <= 6
    assert abs(text_angle(crop, 40)) <= 1.0  # level now
    corners = crop[[2, 2, -3, -3], [2, -3, 2, -3]]
    assert (corners > 200).all()  # the light plate reaches its corners, not the grey car
    # a box too flat for the turn gives a thin strip across it; one too tall, nothing
    flat = level_quad(np.array([[0, 0], [140, 0], [140, 34], [0, 34]], float), 20.0)
    sides = np.linalg.norm(np.roll(flat, -1, axis=0) - flat, axis=1)
    assert sides[0] > 4 * sides[1] > 0
    assert level_quad(np.array([[0, 0], [60, 0], [60, 100], [0, 100]], float), 20.0) is None
    # a margin widens the turned rectangle about the same centre
    plain, wide = level_quad(box, 25.0), level_quad(box, 25.0, margin=0.1)
    side = lambda q: np.linalg.norm(q[1] - q[0])  # noqa: E731
    assert side(wide) == pytest.approx(1.2 * side(plain))
    assert np.allclose(wide.mean(axis=0), plain.mean(axis=0))

"""Polygon crops: perspective warp for quads, masked minimum-area rectangle otherwise."""

import math

import numpy as np

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

import numpy as np
from shapely.geometry import Polygon

from core.geometry import (
    box_polygon,
    clip_box,
    clockwise_from_top_left,
    connected_groups,
    is_valid_polygon,
    largest_valid_polygon,
    mask_to_polygon,
)


def test_box_to_polygon_is_clockwise_from_top_left():
    poly = box_polygon(1, 2, 5, 4)
    assert poly.tolist() == [[1, 2], [5, 2], [5, 4], [1, 4]]


def test_clip_box_keeps_inside_image():
    assert clip_box((-5, -1, 50, 20), 40, 10) == (0.0, 0.0, 40.0, 10.0)


def test_mask_to_polygon_follows_shape_and_is_valid():
    mask = np.zeros((50, 60), np.uint8)
    mask[10:30, 5:45] = 1  # a rectangle
    mask[30:40, 5:15] = 1  # plus a foot: an L shape
    poly = mask_to_polygon(mask, tolerance=1.0)
    assert is_valid_polygon(poly)
    area = Polygon(poly).area
    assert 0.8 * mask.sum() < area < 1.2 * mask.sum()
    assert tuple(poly[0]) == (5.0, 10.0)  # starts top-left


def test_empty_mask_falls_back_to_box():
    poly = mask_to_polygon(np.zeros((10, 10), np.uint8), fallback_box=(1, 1, 4, 3))
    assert poly.tolist() == [[1, 1], [4, 1], [4, 3], [1, 3]]
    assert mask_to_polygon(np.zeros((10, 10), np.uint8)) is None


def test_bow_tie_is_repaired():
    bow = np.array([[0, 0], [10, 10], [10, 0], [0, 10]], float)
    assert not Polygon(bow).is_valid
    fixed = largest_valid_polygon(bow)
    assert fixed is not None and is_valid_polygon(fixed)


def test_clockwise_order_on_screen():
    ccw = np.array([[0, 0], [0, 5], [5, 5], [5, 0]], float)  # counter-clockwise on screen
    assert clockwise_from_top_left(ccw).tolist() == [[0, 0], [5, 0], [5, 5], [0, 5]]


def test_connected_groups_joins_through_chains_and_keeps_loners():
    # 0-3 and 3-5 make one group through 3; 1 alone; 2-4 a pair; pairs in either order
    assert connected_groups(6, [(3, 0), (2, 4), (5, 3)]) == [[0, 3, 5], [1], [2, 4]]
    assert connected_groups(3, []) == [[0], [1], [2]]
    assert connected_groups(0, []) == []
    assert connected_groups(2, np.array([[1, 1]])) == [[0], [1]]  # a self-pair joins nothing

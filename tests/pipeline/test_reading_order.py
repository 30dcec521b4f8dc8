"""Reading order on hand-made layouts: no model involved."""

import math

import numpy as np
import pytest

from pipeline.geometry import bbox_of, box_polygon, rotate_points
from pipeline.reading_order import estimate_skew, page_order, plate_order


def grid(rows, cols, x0=50.0, y0=50.0, w=80.0, h=30.0, gap=20.0, spacing=50.0, names="w"):
    """Word boxes of ``rows`` lines of ``cols`` words; names are ``f"{names}{row}.{col}"``."""
    polys, labels = [], []
    for r in range(rows):
        for c in range(cols):
            x = x0 + c * (w + gap)
            y = y0 + r * spacing
            polys.append(box_polygon(x, y, x + w, y + h))
            labels.append(f"{names}{r}.{c}")
    return polys, labels


def read(order, labels):
    return [[labels[i] for i in line] for line in order]


def shuffled(polys, labels, seed=0):
    perm = np.random.default_rng(seed).permutation(len(polys))
    return [polys[i] for i in perm], [labels[i] for i in perm]


def test_empty_and_single_word():
    assert page_order([]) == []
    assert plate_order([]) == []
    assert page_order([box_polygon(10, 10, 50, 30)]) == [[0]]
    assert plate_order([box_polygon(10, 10, 50, 30)]) == [[0]]


def test_single_column_lines_top_to_bottom_words_left_to_right():
    polys, labels = shuffled(*grid(4, 5))
    lines = read(page_order(polys), labels)
    assert lines == [[f"w{r}.{c}" for c in range(5)] for r in range(4)]


def test_two_columns_read_left_column_first():
    left, ll = grid(3, 3, x0=50, names="L")
    right, rl = grid(3, 3, x0=600, names="R")  # rows aligned with the left column
    polys, labels = shuffled(left + right, ll + rl, seed=1)
    lines = read(page_order(polys), labels)
    expect = [[f"L{r}.{c}" for c in range(3)] for r in range(3)]
    expect += [[f"R{r}.{c}" for c in range(3)] for r in range(3)]
    assert lines == expect


def test_title_above_two_columns_of_different_length():
    title, tl = grid(1, 6, x0=50, y0=0, names="T")  # spans both columns
    left, ll = grid(5, 3, x0=50, y0=80, names="L")
    right, rl = grid(2, 3, x0=600, y0=80, names="R")
    footer, fl = grid(1, 6, x0=50, y0=400, names="F")
    polys, labels = shuffled(title + left + right + footer, tl + ll + rl + fl, seed=2)
    flat = [w for line in read(page_order(polys), labels) for w in line]
    expect = tl + ll + rl + fl
    assert flat == expect


def test_two_pages_of_a_notebook_spread():
    left, ll = grid(6, 4, x0=40, names="L", spacing=45)
    right, rl = grid(6, 4, x0=560, y0=70, names="R", spacing=45)  # offset rows
    polys, labels = shuffled(left + right, ll + rl, seed=3)
    flat = [w for line in read(page_order(polys), labels) for w in line]
    assert flat == ll + rl


def rotate_page(polys, degrees, centre=(300.0, 150.0)):
    a = math.radians(degrees)
    c = np.asarray(centre)
    return [rotate_points(p - c, a) + c for p in polys]


@pytest.mark.parametrize("axis_aligned", [False, True])
@pytest.mark.parametrize("degrees", [8.0, -8.0])
def test_skewed_page_keeps_rows(degrees, axis_aligned):
    polys, labels = grid(5, 6)
    polys = rotate_page(polys, degrees)
    if axis_aligned:  # a YOLO-like detector gives boxes around the rotated words
        polys = [box_polygon(*bbox_of(p)) for p in polys]
    # The test means something: sorting words by raw y mixes rows.
    naive = [labels[i] for i in np.argsort([bbox_of(p)[1] for p in polys], kind="stable")]
    assert naive[:6] != [f"w0.{c}" for c in range(6)]
    assert math.degrees(estimate_skew(polys)) == pytest.approx(degrees, abs=1.5)
    polys, labels = shuffled(polys, labels, seed=4)
    lines = read(page_order(polys), labels)
    assert lines == [[f"w{r}.{c}" for c in range(6)] for r in range(5)]


def test_two_row_plate_as_row_regions():
    top = box_polygon(10, 10, 110, 40)     # "AB12"
    bottom = box_polygon(20, 45, 100, 80)  # "345"
    assert plate_order([bottom, top]) == [[1, 0]]
    order = page_order([bottom, top])
    assert [i for line in order for i in line] == [1, 0]


def test_two_row_plate_as_characters_is_not_interleaved():
    top = [box_polygon(10 + 25 * i, 10, 30 + 25 * i, 40) for i in range(4)]     # A B 1 2
    bottom = [box_polygon(20 + 25 * i, 46, 40 + 25 * i, 80) for i in range(3)]  # 3 4 5
    labels = list("AB12") + list("345")
    polys, labels = shuffled(top + bottom, labels, seed=5)
    plates = plate_order(polys)
    assert len(plates) == 1
    assert "".join(labels[i] for i in plates[0]) == "AB12345"


def test_two_plates_are_separate_and_ordered_left_to_right():
    car1 = [box_polygon(500, 300, 600, 330), box_polygon(510, 334, 590, 360)]
    car2 = [box_polygon(100, 310, 220, 345)]
    plates = plate_order(car1 + car2)
    assert plates == [[2], [0, 1]]

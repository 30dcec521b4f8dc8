"""Reading order on hand-made layouts: no model involved."""

import math

import numpy as np
import pytest

from core.geometry import bbox_of, box_polygon, rotate_points
from pipeline.reading_order import (
    PageLayout,
    WordBox,
    estimate_skew,
    page_order,
    plate_order,
    topological_order,
)


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


def test_plates_at_different_depths_are_ordered_left_to_right():
    # a far car high in the frame on the right, a near one low on the left, one in between
    far_right = box_polygon(900, 100, 930, 110)
    near_left = box_polygon(50, 600, 200, 650)
    middle = box_polygon(400, 300, 480, 325)
    assert plate_order([far_right, near_left, middle]) == [[1], [2], [0]]


TOPOLOGICAL = PageLayout(order="topological")


def justified_column(rows, x0, seed, width=400.0, h=30.0, spacing=40.0, names="w", words=3):
    """Rows of ``words`` words (or merged word runs, each > 3 heights) filling ``width``,
    word gaps 8-20 px at random places."""
    rng = np.random.default_rng(seed)
    polys, labels = [], []
    for r in range(rows):
        n = words
        gaps = rng.uniform(8, 20, n - 1)
        weights = rng.uniform(0.8, 1.2, n)
        widths = weights / weights.sum() * (width - gaps.sum())
        x = x0
        for c in range(n):
            polys.append(box_polygon(x, 50 + r * spacing, x + widths[c], 50 + r * spacing + h))
            labels.append(f"{names}{r}.{c}")
            x += widths[c] + (gaps[c] if c < n - 1 else 0)
    return polys, labels


def test_topological_reads_columns_split_by_a_gutter_narrower_than_column_gap():
    # Gutter of 30 px = 1 text height: less than column_gap (1.5), wider than word gaps.
    left, left_names = justified_column(8, 0.0, seed=1, names="L")
    right, right_names = justified_column(8, 430.0, seed=2, names="R")
    polys, labels = shuffled(left + right, left_names + right_names)
    lines = read(page_order(polys, TOPOLOGICAL), labels)
    # Whole left column, then whole right column, rows in order, words left to right (a
    # word gap that happens to line up with gaps above may still end a segment early).
    assert [w for line in lines for w in line] == left_names + right_names
    assert all(line[0][0] == line[-1][0] for line in lines)
    # The XY cuts need a full column_gap and read the rows across the gutter.
    assert len(page_order(polys)) == 8


def test_topological_keeps_justified_rows_whole():
    polys, labels = justified_column(12, 0.0, seed=3)
    lines = read(page_order(polys, TOPOLOGICAL), labels)
    assert lines == read(page_order(polys), labels)
    assert len(lines) == 12


def test_topological_title_columns_and_footer():
    # A title over two columns, a footer under both: title, left, right, footer.
    title = [box_polygon(300, 0, 520, 30)]
    left, left_names = justified_column(5, 0.0, seed=4, names="L", words=1)
    right, right_names = justified_column(5, 460.0, seed=5, names="R", words=1)
    footer = [box_polygon(0, 260, 860, 290)]
    polys = title + left + right + footer
    labels = ["title"] + left_names + right_names + ["footer"]
    firsts = [line[0] for line in read(page_order(polys, TOPOLOGICAL), labels)]
    assert firsts == (["title"] + [f"L{r}.0" for r in range(5)]
                      + [f"R{r}.0" for r in range(5)] + ["footer"])


def test_topological_order_breaks_cycles_and_keeps_every_segment():
    boxes = [WordBox(0, 100, 10, 10), WordBox(120, 220, 10, 10), WordBox(50, 170, 40, 10),
             WordBox(0, 100, 70, 10)]
    order = topological_order(boxes)
    assert sorted(i for item in order for i in item) == [0, 1, 2, 3]
    assert order[0] == [0]


def test_topological_keeps_rows_of_a_table_of_short_cells():
    polys, labels = grid(4, 5, w=40.0, h=30.0, gap=20.0)
    lines = read(page_order(polys, TOPOLOGICAL), labels)
    assert lines == [[f"w{r}.{c}" for c in range(5)] for r in range(4)]


def test_a_rows_last_word_and_the_next_rows_word_are_not_skew_evidence():
    # A receipt's short rows, tightly set: an item name on one row, its "4 x 301,07" or
    # price starting further right on the next. The only word right of each name is on the
    # row below (16.7 degrees away, inside the neighbour cone): the boxes share no height,
    # so it is not a neighbour on the row, and the upright page stays upright.
    polys = [box_polygon(0, 36 * r, 100, 36 * r + 30) if r % 2 == 0
             else box_polygon(120, 36 * r, 220, 36 * r + 30) for r in range(8)]
    assert estimate_skew(polys) == 0.0
    assert page_order(polys, PageLayout()) == [[r] for r in range(8)]


def test_whole_line_boxes_of_different_lengths_are_not_skew_evidence():
    # One box per line (a line detector, or merged words): a short line's nearest box to the
    # right-and-below is the next, longer line, which must not read as a 12-degree slope.
    lengths = [550, 590, 200, 560, 560, 570, 530]
    polys = [box_polygon(30, 90 + 34 * r + (34 if r > 2 else 0),
                         30 + n, 130 + 34 * r + (34 if r > 2 else 0))
             for r, n in enumerate(lengths)]
    assert estimate_skew(polys) == 0.0
    for layout in (PageLayout(), TOPOLOGICAL):
        assert page_order(polys, layout) == [[r] for r in range(len(lengths))]


def test_caption_straddling_the_gutter_does_not_chain_the_columns():
    # A magazine page (UNLV 8087 in miniature): a left column, a right column whose top
    # block is full width and then narrows, a caption straddling the gutter below the top
    # block, the left column going on under it, and a footer under the left column only.
    segs, names = [], []

    def add(name, x0, x1, cy):
        segs.append(WordBox(x0, x1, cy, 30.0))
        names.append(name)

    for r in range(6):
        add(f"L{r}", 0, 400, 10 + 40 * r)
    for r in range(2):
        add(f"R{r}", 430, 830, 10 + 40 * r)
    for r in range(4):
        add(f"N{r}", 600, 830, 90 + 40 * r)
    for r in range(2):
        add(f"C{r}", 330, 492, 260 + 30 * r)  # grazes L/B (43 %) and R (38 %)
    for r in range(2):
        add(f"B{r}", 0, 400, 340 + 40 * r)
    for r in range(2):
        add(f"D{r}", 430, 830, 340 + 40 * r)
    add("F", 0, 320, 440)
    grazing = [names[i[0]] for i in topological_order(segs, None, min_x_overlap=0.5)]
    left = [f"L{r}" for r in range(6)] + ["B0", "B1", "F"]
    right = ["R0", "R1"] + [f"N{r}" for r in range(4)] + ["D0", "D1"]
    assert [n for n in grazing if n[0] != "C"] == left + right
    assert grazing.index("C1") == grazing.index("C0") + 1
    # Any overlap (the default) chains R above C above B: the right column's top block
    # is read in the middle of the left column.
    chained = [names[i[0]] for i in topological_order(segs, None)]
    assert chained.index("R0") < chained.index("B0")


def receipt(rows=6, price_x=600.0, h=30.0, spacing=40.0, slope=0.0):
    """Item names on the left, prices a wide gap away at the right (``slope`` px of drift
    per px of x, as on a curled receipt), and the texts each box reads."""
    polys, labels, texts = [], [], []
    for r in range(rows):
        y = 50 + r * spacing
        polys.append(box_polygon(40, y, 40 + 120 + 30 * (r % 3), y + h))
        labels.append(f"item{r}")
        texts.append(f"Item{r}")
        dy = slope * price_x
        polys.append(box_polygon(price_x, y + dy, price_x + 110, y + dy + h))
        labels.append(f"price{r}")
        texts.append(f"{100 + r},99")
    return polys, labels, texts


def test_prices_are_read_in_their_rows_only_with_value_width():
    polys, labels, texts = receipt(slope=-0.01)
    by_columns = read(page_order(polys, TOPOLOGICAL, texts=texts), labels)
    assert [w for line in by_columns for w in line][:6] == [f"item{r}" for r in range(6)]
    rows = PageLayout(order="topological", value_width=10.0)
    lines = read(page_order(polys, rows, texts=texts), labels)
    assert lines == [[f"item{r}", f"price{r}"] for r in range(6)]
    # Without texts the rule is geometric only and still joins a narrow column.
    assert read(page_order(polys, rows), labels) == lines


def test_value_width_keeps_a_column_of_words_or_of_wide_lines_apart():
    polys, labels, texts = receipt()
    rows = PageLayout(order="topological", value_width=10.0)
    words = [t if t.startswith("Item") else "caption" for t in texts]  # a caption column
    lines = read(page_order(polys, rows, texts=words), labels)
    assert [w for line in lines for w in line] == ([f"item{r}" for r in range(6)]
                                                   + [f"price{r}" for r in range(6)])
    # Two columns of text lines 13 heights wide: too wide to be values, digits or not.
    left, left_names = justified_column(6, 0.0, seed=6, names="L", words=1)
    right, right_names = justified_column(6, 460.0, seed=7, names="R", words=1)
    digits = ["12345"] * 12
    lines = read(page_order(left + right, rows, texts=digits), left_names + right_names)
    assert [w for line in lines for w in line] == left_names + right_names


def test_the_receipts_preset_reads_every_row_across_the_page():
    from pipeline.presets import load_pipeline_config

    polys, labels, texts = receipt()
    words = [t if t.startswith("Item") else "SR tax" for t in texts]  # not a value column
    documents = load_pipeline_config("documents").assembler.layout
    receipts = load_pipeline_config("receipts").assembler.layout
    by_columns = read(page_order(polys, documents, texts=words), labels)
    assert [w for line in by_columns for w in line][:6] == [f"item{r}" for r in range(6)]
    assert read(page_order(polys, receipts, texts=words), labels) == [
        [f"item{r}", f"price{r}"] for r in range(6)]

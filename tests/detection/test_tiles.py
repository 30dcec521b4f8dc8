"""Training tiles of photographed pages: warped upright, cut at the detector's text scale."""

import json
from pathlib import Path

import cv2
import numpy as np
from typer.testing import CliRunner

from detection.tiles import TileObject, page_tiles, upright_page
from pipeline.cli import app

runner = CliRunner()


def _rect(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def _words(rows=10, cols=6, h=20, w=60, x0=20, y0=20, gap=15, step=40):
    return [TileObject("word", _rect(x0 + c * (w + gap), y0 + r * step,
                                     x0 + c * (w + gap) + w, y0 + r * step + h),
                       {"translation": f"w{r}.{c}"})
            for r in range(rows) for c in range(cols)]


def test_tiles_show_the_median_word_at_text_height_and_keep_every_word_whole_somewhere():
    image = np.full((440, 480, 3), 255, np.uint8)
    words = _words()
    tiles = page_tiles(image, words, text_height=16, imgsz=160, overlap=0.25)
    # 20 px words shown 16 px high at 160 px: tiles of 200 px, overlapping.
    assert {t.shape[:2] for t, _, _ in tiles} == {(200, 200)}
    assert len(tiles) == 9
    seen = set()
    for _tile, kept, _origin in tiles:
        for o in kept:
            assert o.polygon.min() >= -1e-6 and o.polygon.max() <= 200 + 1e-6
            seen.add(o.attributes["translation"])
    assert seen == {w.attributes["translation"] for w in words}


def test_a_word_cut_by_a_tile_edge_is_left_out_unless_mostly_inside():
    image = np.zeros((100, 400, 3), np.uint8)
    words = [TileObject("word", _rect(150, 10, 250, 30)),   # straddles x = 200 in halves
             TileObject("word", _rect(10, 40, 60, 60))]
    tiles = page_tiles(image, words, text_height=16, imgsz=160, overlap=0.0)  # 200 px
    first = [t for t in tiles if t[2] == (0, 0)][0]
    assert len(first[1]) == 1 and np.allclose(first[1][0].polygon, _rect(10, 40, 60, 60))
    kept = page_tiles(image, words, text_height=16, imgsz=160, overlap=0.0, min_inside=0.5)
    first = [t for t in kept if t[2] == (0, 0)][0]
    clipped = [o for o in first[1] if o.polygon[:, 1].min() < 35][0]
    assert np.isclose(clipped.polygon[:, 0].max(), 200)


def test_upright_page_maps_words_with_the_page():
    image = np.full((300, 400, 3), 90, np.uint8)
    quad = np.array([[60, 40], [340, 60], [330, 260], [50, 250]], np.float64)
    cv2.fillPoly(image, [quad.astype(np.int32)], (250, 250, 250))
    word = TileObject("word", np.array([[100, 100], [200, 105], [199, 125], [99, 120]], float))
    page, (moved,) = upright_page(image, [word], quad)
    assert page.shape[0] > 150 and page.shape[1] > 250
    assert page.mean() > 240  # the dark table is gone
    assert moved.polygon.min() > 0 and moved.polygon[:, 0].max() < page.shape[1]


def test_convert_page_tiles_writes_coco_tiles(tmp_path: Path):
    image = np.full((600, 800, 3), 80, np.uint8)
    quad = [100, 50, 700, 50, 700, 550, 100, 550]
    cv2.rectangle(image, (100, 50), (700, 550), (245, 245, 245), -1)
    anns = [{"id": 1, "image_id": 1, "category_id": 2, "bbox": [100, 50, 600, 500],
             "segmentation": [quad], "area": 3e5, "iscrowd": 0}]
    for k, w in enumerate(_words(rows=8, cols=5, x0=130, y0=80)):
        x0, y0 = w.polygon.min(0)
        x1, y1 = w.polygon.max(0)
        cv2.rectangle(image, (int(x0), int(y0)), (int(x1), int(y1)), (20, 20, 20), 2)
        anns.append({"id": k + 2, "image_id": 1, "category_id": 1,
                     "bbox": [x0, y0, x1 - x0, y1 - y0],
                     "segmentation": [w.polygon.reshape(-1).tolist()], "area": 1200.0,
                     "iscrowd": 0, "attributes": {"translation": w.attributes["translation"]}})
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "p.jpg"), image)
    (tmp_path / "annotations.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "p.jpg", "width": 800, "height": 600}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "word"}, {"id": 2, "name": "page"}]}))
    out = tmp_path / "tiles"
    result = runner.invoke(app, ["convert", "page-tiles", str(tmp_path / "annotations.json"),
                                 "--out", str(out), "--imgsz", "320"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "annotations.json").read_text())
    assert [c["name"] for c in data["categories"]] == ["word"]  # the page quad is used up
    assert len(data["images"]) >= 2
    for im in data["images"]:
        tile = cv2.imread(str(out / "images" / im["file_name"]))
        assert tile.shape[:2] == (im["height"], im["width"])
        assert tile.mean() > 150  # cut from the warped page, not the dark table
    texts = {a["attributes"]["translation"] for a in data["annotations"]}
    assert texts == {f"w{r}.{c}" for r in range(8) for c in range(5)}


def test_object_zooms_frame_each_plate_whole_at_the_asked_share_of_the_width():
    from detection.tiles import object_zooms

    image = np.zeros((400, 600, 3), np.uint8)
    plate = TileObject("plate", _rect(300, 200, 360, 220))
    near = TileObject("plate", _rect(365, 205, 380, 215))    # beside it: often in the window
    far = TileObject("plate", _rect(10, 10, 40, 20), {"translation": "far"})
    rng = np.random.default_rng(0)
    views = object_zooms(image, [plate, near, far], "plate", (0.5, 0.5), rng, per_object=5,
                         min_pixels=50)
    assert len(views) == 5  # only the 60 px plate is wide enough for a close-up
    for view, kept, (x0, y0) in views:
        assert view.shape[:2] == (80, 120)  # plate = half the width, the photo's aspect
        whole = [o for o in kept if np.allclose(o.polygon + [x0, y0], plate.polygon)]
        assert len(whole) == 1
        assert all(o.attributes.get("translation") != "far" for o in kept)
        for o in kept:
            assert o.polygon.min() >= -1e-6
            assert (o.polygon.max(0) <= [120 + 1e-6, 80 + 1e-6]).all()
    assert len({origin for _, _, origin in views}) > 1  # placed at random


def test_object_zooms_shrink_to_the_image_when_it_is_too_small_for_the_window():
    from detection.tiles import object_zooms

    image = np.zeros((100, 150, 3), np.uint8)
    plate = TileObject("plate", _rect(20, 40, 120, 70))
    (view, kept, origin), = object_zooms(image, [plate], "plate", (0.3, 0.3),
                                         np.random.default_rng(1))
    assert view.shape[:2] == (100, 150) and origin == (0, 0)
    assert np.allclose(kept[0].polygon, plate.polygon)


def test_convert_zooms_writes_coco_close_ups_and_names_a_wrong_label(tmp_path: Path):
    image = np.full((300, 400, 3), 60, np.uint8)
    cv2.rectangle(image, (200, 150), (280, 175), (240, 240, 240), -1)
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "car.jpg"), image)
    ann = tmp_path / "annotations.json"
    ann.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "car.jpg", "width": 400, "height": 300}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [200, 150, 80, 25],
                         "area": 2000.0, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "plate"}]}))
    out = tmp_path / "zooms"
    result = runner.invoke(app, ["convert", "zooms", str(ann), "--out", str(out),
                                 "--per-object", "3", "--min-width", "0.4",
                                 "--max-width", "0.8"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "annotations.json").read_text())
    assert len(data["images"]) == 3 and len(data["annotations"]) == 3
    for im, a in zip(data["images"], data["annotations"], strict=True):
        view = cv2.imread(str(out / "images" / im["file_name"]))
        assert view.shape[:2] == (im["height"], im["width"])
        assert 0.4 - 0.02 <= 80 / im["width"] <= 0.8 + 0.02
        x, y, w, h = a["bbox"]
        assert (w, h) == (80, 25)
        assert view[int(y + h / 2), int(x + w / 2)].mean() > 200  # the plate is where it says
    bad = runner.invoke(app, ["convert", "zooms", str(ann), "--out", str(out), "--label", "car"])
    assert bad.exit_code != 0 and "'car'" in bad.output and "plate" in bad.output


def _inked_line(spans: list[tuple[int, int]], letter_gap: int = 0) -> np.ndarray:
    """A white strip with a dark block per ``(x0, x1)`` span, rows 12-28; ``letter_gap``
    leaves a narrow blank column in the middle of each block (a gap between letters)."""
    image = np.full((40, 400, 3), 235, np.uint8)
    for x0, x1 in spans:
        image[12:28, x0:x1] = 30
        if letter_gap:
            mid = (x0 + x1) // 2
            image[12:28, mid:mid + letter_gap] = 235
    return image


def test_line_words_cut_a_line_at_its_widest_gaps_one_box_per_word():
    from detection.tiles import line_words

    spans = [(20, 90), (120, 170), (210, 330)]
    image = _inked_line(spans, letter_gap=3)  # letter gaps of 3 px, word gaps of 30-40
    line = TileObject("line", _rect(10, 8, 345, 32), {"translation": "alpha  be gamma",
                                                      "source": "x"})
    words = line_words(image, line, pad=0.15)
    assert [w.attributes["translation"] for w in words] == ["alpha", "be", "gamma"]
    assert all(w.label == "word" and w.attributes["source"] == "x" for w in words)
    for w, (x0, x1) in zip(words, spans, strict=True):
        lo, hi = w.polygon[:, 0].min(), w.polygon[:, 0].max()
        assert lo <= x0 and hi >= x1  # the whole word, letter gap included
        assert x0 - lo <= 0.15 * 24 + 1e-6 and hi - x1 <= 0.15 * 24 + 1e-6  # padded, no more
        assert w.polygon[:, 1].min() == 8 and w.polygon[:, 1].max() == 32  # the line's rows
    assert all(a.polygon[:, 0].max() <= b.polygon[:, 0].min()
               for a, b in zip(words, words[1:], strict=False))  # no overlap


def test_line_words_keep_one_word_whole_and_refuse_a_line_without_its_gaps():
    from detection.tiles import line_words

    image = _inked_line([(20, 330)])  # one solid run: no gap for "two words"
    whole = TileObject("line", _rect(10, 8, 345, 32), {"translation": "solo"})
    (one,) = line_words(image, whole)
    assert one.label == "word" and one.attributes["translation"] == "solo"
    assert np.array_equal(one.polygon, whole.polygon)
    two = TileObject("line", _rect(10, 8, 345, 32), {"translation": "two words"})
    assert line_words(image, two) is None


def test_convert_page_tiles_split_lines_writes_word_boxes(tmp_path: Path):
    image = _inked_line([(20, 90), (120, 170), (210, 330)])
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 8, 335, 24],
             "segmentation": [_rect(10, 8, 345, 32).reshape(-1).tolist()], "area": 8040.0,
             "iscrowd": 0, "attributes": {"translation": "alpha be gamma"}},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [350, 8, 40, 24],
             "segmentation": [_rect(350, 8, 390, 32).reshape(-1).tolist()], "area": 960.0,
             "iscrowd": 0, "attributes": {"translation": "no ink here"}}]
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "r.png"), image)
    (tmp_path / "annotations.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "r.png", "width": 400, "height": 40}],
        "annotations": anns, "categories": [{"id": 1, "name": "line"}]}))
    out = tmp_path / "tiles"
    result = runner.invoke(app, ["convert", "page-tiles", str(tmp_path / "annotations.json"),
                                 "--out", str(out), "--split-lines", "line"])
    assert result.exit_code == 0, result.output
    assert "1 lines kept whole" in result.output
    data = json.loads((out / "annotations.json").read_text())
    assert [c["name"] for c in data["categories"]] == ["word"]
    texts = sorted(a["attributes"]["translation"] for a in data["annotations"])
    assert texts == ["alpha", "be", "gamma", "no ink here"]

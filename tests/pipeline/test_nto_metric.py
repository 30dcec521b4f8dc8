"""The NTO metric against hand-computed values (MISSION.md rules)."""

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.nto import (
    TextPolygon,
    image_cer,
    nto_score,
    predictions_from_pages,
    read_ground_truth,
    read_predictions,
)
from pipeline.results import Line, Page, Word


def box(x1, y1, x2, y2, text):
    return TextPolygon(((x1, y1), (x2, y1), (x2, y2), (x1, y2)), text)


A = (0, 0, 10, 10)
B = (20, 0, 30, 10)
FAR = (100, 100, 110, 110)


def test_perfect_match_scores_zero():
    gt = [box(*A, "hello"), box(*B, "мир")]
    s = image_cer(gt, [box(*B, "мир"), box(*A, "hello")])
    assert s.cer == 0.0 and s.weight == 2 and s.matched == 2


def test_substitution():
    s = image_cer([box(*A, "hello")], [box(*A, "helo")])
    assert s.cer == pytest.approx(1 / 5)


def test_missed_word_counts_its_length():
    # "world" unmatched: lev("", "world") = 5; total 5 / 10 chars.
    s = image_cer([box(*A, "hello"), box(*B, "world")], [box(*A, "hello")])
    assert s.cer == pytest.approx(0.5)
    assert s.weight == 2


def test_false_positive_costs_its_length_and_weight():
    # "xyz" far away matches nothing: +3 with gt "", weight 1 gt + 1 unmatched pred.
    s = image_cer([box(*A, "hello")], [box(*A, "hello"), box(*FAR, "xyz")])
    assert s.cer == pytest.approx(3 / 5)
    assert s.weight == 2


def test_greedy_matching_in_annotation_order():
    # gt1 and gt2 both overlap p1; gt1 comes first and takes p1 (its best), so gt2 gets p2
    # even though p1 overlaps gt2 more.
    gt = [box(0, 0, 10, 10, "ab"), box(5, 0, 15, 10, "cd")]
    p1 = box(5, 0, 15, 10, "ab")   # IoU with gt1 = 50/150, with gt2 = 1
    p2 = box(8, 0, 18, 10, "cd")   # IoU with gt1 = 20/180, with gt2 = 70/130
    s = image_cer(gt, [p1, p2])
    assert s.matched == 2 and s.cer == 0.0


def test_touching_polygons_do_not_match():
    s = image_cer([box(0, 0, 10, 10, "ab")], [box(10, 0, 20, 10, "ab")])  # IoU 0
    assert s.cer == pytest.approx((2 + 2) / 2) and s.weight == 2


BOWTIE = ((0, 0), (10, 10), (10, 0), (0, 10))  # self-intersecting; buffer(0) keeps x >= 5


def test_invalid_polygon_is_repaired_with_buffer0():
    # Repaired part: triangle (5,5)-(10,10)-(10,0), area 25, inside the gt box: IoU 0.25.
    s = image_cer([box(0, 0, 10, 10, "abc")], [TextPolygon(BOWTIE, "abc")])
    assert s.matched == 1 and s.cer == 0.0


def test_repaired_polygon_is_used_not_the_original():
    # The original bowtie overlaps the left box, the repaired one does not: no match,
    # so 3 (missed) + 3 (false positive) over 3 characters.
    s = image_cer([box(0, 0, 4, 10, "abc")], [TextPolygon(BOWTIE, "abc")])
    assert s.matched == 0 and s.cer == pytest.approx(2.0) and s.weight == 2


def test_degenerate_polygons_never_match():
    line = TextPolygon(((0, 0), (5, 5), (10, 10)), "ab")  # zero area
    two = TextPolygon(((0, 0), (10, 10)), "ab")            # not a polygon
    s = image_cer([box(0, 0, 10, 10, "ab")], [line, two])
    assert s.matched == 0
    assert s.cer == pytest.approx((2 + 2 + 2) / 2) and s.weight == 3


def test_image_without_ground_truth_characters():
    assert image_cer([], []).cer == 0.0
    assert image_cer([], [box(*A, "")]).cer == 0.0
    s = image_cer([], [box(*A, "x")])
    assert s.cer == 1.0 and s.weight == 1
    s = image_cer([box(*A, "")], [box(*A, "x")])  # gt word with empty text
    assert s.cer == 1.0 and s.weight == 1


def test_weighting_across_images():
    gt = {"a.jpg": [box(*A, "hello"), box(*B, "world")],               # cer 0.5, weight 2
          "b.jpg": [box(*A, "ab"), box(*B, "cd"), box(*FAR, "ef")]}    # cer 0, weight 3
    pred = {"a.jpg": [box(*A, "hello")],
            "b.jpg": [box(*A, "ab"), box(*B, "cd"), box(*FAR, "ef")]}
    assert nto_score(gt, pred).score == pytest.approx((0.5 * 2 + 0.0 * 3) / 5)


def test_image_missing_from_predictions_counts_as_all_missed():
    gt = {"a.jpg": [box(*A, "ab")], "b.jpg": [box(*A, "cd"), box(*B, "ef")]}
    result = nto_score(gt, {"a.jpg": [box(*A, "ab")], "other.jpg": []})
    assert result.score == pytest.approx((0 * 1 + 1.0 * 2) / 3)
    assert result.extra_predictions == ["other.jpg"]


def test_predictions_from_pages_are_valid_and_keyed_by_file_name():
    bow = Word("x", BOWTIE, (0, 0, 10, 10))
    ok = Word("y", ((0, 0), (4, 0), (4, 4), (0, 4)), (0, 0, 4, 4))
    page = Page("dir/img1.jpg", 10, 10, (Line("x y", ok.polygon, (bow, ok)),))
    out = predictions_from_pages([page, Page.failed("dir/bad.jpg", "corrupt")])
    assert set(out) == {"img1.jpg", "bad.jpg"}
    assert out["bad.jpg"] == {"predictions": []}
    preds = out["img1.jpg"]["predictions"]
    assert [p["text"] for p in preds] == ["x", "y"]
    from shapely.geometry import Polygon
    assert all(Polygon(p["polygon"]).is_valid for p in preds)


def test_a_line_read_as_several_words_becomes_word_predictions():
    quad = ((0, 0), (100, 0), (100, 20), (0, 20))
    line = Word("ab cd", quad, (0, 0, 100, 20))
    page = Page("p.jpg", 100, 20, (Line("ab cd", quad, (line,)),))
    preds = predictions_from_pages([page])["p.jpg"]["predictions"]
    assert [p["text"] for p in preds] == ["ab", "cd"]
    xs = [sorted({x for x, _ in p["polygon"]}) for p in preds]
    assert xs == [[0.0, 40.0], [60.0, 100.0]]  # cut in proportion to the characters
    gt = {"p.jpg": [box(0, 0, 45, 20, "ab"), box(55, 0, 100, 20, "cd")]}
    split = read_predictions("x", predictions_from_pages([page]))
    whole = read_predictions("x", predictions_from_pages([page], split_words=False))
    assert nto_score(gt, split).score == 0.0
    assert nto_score(gt, whole).score > 0.5  # one ground truth takes the line, one is missed


def test_word_predictions_use_the_recognizers_spans_when_they_fit():
    quad = ((0, 0), (100, 0), (100, 20), (0, 20))
    line = Word("ab cd", quad, (0, 0, 100, 20), spans=((0.0, 0.2), (0.3, 1.0)))
    page = Page("p.jpg", 100, 20, (Line("ab cd", quad, (line,)),))
    preds = predictions_from_pages([page])["p.jpg"]["predictions"]
    assert [sorted({x for x, _ in p["polygon"]}) for p in preds] == [[0.0, 20.0], [30.0, 100.0]]
    # a text with another word count (a lexicon split "her.She") falls back to proportions
    split = Word("ab c d", quad, (0, 0, 100, 20), spans=((0.0, 0.2), (0.3, 1.0)))
    page = Page("p.jpg", 100, 20, (Line("ab c d", quad, (split,)),))
    assert len(predictions_from_pages([page])["p.jpg"]["predictions"]) == 3


def test_cli_evaluate_nto_on_coco_annotations(tmp_path):
    coco = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50},
                   {"id": 2, "file_name": "b.jpg", "width": 50, "height": 50}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10],
             "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]], "attributes": {"translation": "abcd"}},
            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10],
             "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]], "attributes": {"translation": "ef"}},
        ],
        "categories": [{"id": 1, "name": "word"}],
    }
    pred = {"a.jpg": {"predictions": [{"polygon": [[1, 1], [9, 1], [9, 9], [1, 9]],
                                       "text": "abd"}]}}
    (tmp_path / "gt.json").write_text(json.dumps(coco))
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    result = CliRunner().invoke(app, ["evaluate", "nto", "--gt", str(tmp_path / "gt.json"),
                                      "--pred", str(tmp_path / "pred.json"),
                                      "--out", str(tmp_path / "score.json")])
    assert result.exit_code == 0, result.output
    # a: 1/4, weight 1; b: missing -> 1.0, weight 1.
    assert "NTO CER: 0.6250" in result.output
    assert json.loads((tmp_path / "score.json").read_text())["score"] == pytest.approx(0.625)


def test_ground_truth_leaves_out_line_boxes_of_synthetic_pages(tmp_path):
    # Our synthetic pages box every word and, for detector training, every line of them too.
    square = [[0, 0, 10, 0, 10, 10, 0, 10]]
    coco = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": square,
             "attributes": {"translation": "ab"}},
            {"id": 2, "image_id": 1, "category_id": 1, "segmentation": square,
             "attributes": {"translation": "cd"}},
            {"id": 3, "image_id": 1, "category_id": 2, "segmentation": square,
             "attributes": {"translation": "ab cd"}},
        ],
        "categories": [{"id": 1, "name": "word"}, {"id": 2, "name": "line"}],
    }
    (tmp_path / "gt.json").write_text(json.dumps(coco))
    gt = read_ground_truth(tmp_path / "gt.json")
    assert [p.text for p in gt["a.jpg"]] == ["ab", "cd"]
    coco["categories"][1]["name"] = "pupil_comment"  # other categories are scored
    (tmp_path / "gt.json").write_text(json.dumps(coco))
    assert len(read_ground_truth(tmp_path / "gt.json")["a.jpg"]) == 3


def test_cli_evaluate_nto_bad_file_exits_2(tmp_path):
    (tmp_path / "gt.json").write_text("{not json")
    result = CliRunner().invoke(app, ["evaluate", "nto", "--gt", str(tmp_path / "gt.json"),
                                      "--pred", str(tmp_path / "gt.json")])
    assert result.exit_code == 2
    assert "gt.json" in result.output

import numpy as np
import pytest

from core.geometry import box_polygon
from detection.evaluate import (
    box_iou,
    count_matches,
    evaluate_coco,
    pipeline_results_to_coco,
    precision_recall,
    regions_to_results,
)
from detection.types import Region

GT = {"images": [{"id": 1, "file_name": "pages/a.jpg", "width": 200, "height": 100},
                 {"id": 2, "file_name": "b.jpg", "width": 200, "height": 100}],
      "categories": [{"id": 1, "name": "word"}, {"id": 2, "name": "line"}],
      "annotations": [
          {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]},
          {"id": 2, "image_id": 1, "category_id": 1, "bbox": [20, 0, 10, 10]},
          {"id": 3, "image_id": 1, "category_id": 2, "bbox": [0, 0, 40, 10]},
          {"id": 4, "image_id": 2, "category_id": 1, "bbox": [100, 50, 20, 10]}]}


def test_box_iou_by_hand():
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10], [20, 20, 30, 30]]))
    np.testing.assert_allclose(iou, [[50 / 150, 0.0]])


def test_one_prediction_matches_one_ground_truth():
    gt = np.array([[0, 0, 10, 10]])
    preds = np.array([[0, 0, 10, 10], [0, 0, 10, 9]])
    assert count_matches(gt, preds, np.array([0.5, 0.9])) == 1


def test_precision_recall_by_hand():
    # Image 1: word [0,0,10,10] found exactly, word [20..30] missed (pred IoU 1/3),
    # line found as a word -> class mismatch. Image 2: found with IoU 0.6.
    gt = {1: [("word", (0, 0, 10, 10)), ("word", (20, 0, 30, 10)), ("line", (0, 0, 40, 10))],
          2: [("word", (100, 50, 120, 60))]}
    pred = {1: [("word", (0, 0, 10, 10), 0.9), ("word", (25, 0, 35, 10), 0.8),
                ("word", (0, 0, 40, 10), 0.3)],
            2: [("word", (100, 50, 116, 60), 0.7)]}
    s = precision_recall(gt, pred)
    assert (s.true_positives, s.false_positives, s.false_negatives) == (2, 2, 2)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(0.5)


def test_pipeline_results_match_by_file_name_and_perfect_map():
    words = [{"polygon": box_polygon(0, 0, 10, 10).tolist(), "det_score": 0.9,
              "label": "word"},
             {"polygon": box_polygon(20, 0, 30, 10).tolist(), "det_score": 0.8,
              "label": "word"}]
    results = [{"file": "/data/a.jpg", "lines": [{"words": words}, {"words": [
                   {"bbox": [0, 0, 40, 10], "det_score": 0.6, "label": "line"}]}]},
               {"file": "b.jpg", "lines": [{"words": [
                   {"bbox": [100, 50, 120, 60], "det_score": 0.5, "label": "word"}]}]},
               {"file": "unknown.jpg", "lines": [{"words": words}]}]
    coco = pipeline_results_to_coco(results, GT)
    assert sorted(r["image_id"] for r in coco) == [1, 1, 1, 2]
    scores = evaluate_coco(GT, coco)
    assert scores.precision == 1.0 and scores.recall == 1.0
    assert scores.map == pytest.approx(1.0) and scores.map50 == pytest.approx(1.0)


def test_regions_to_results_and_empty_predictions():
    region = Region(box_polygon(0, 0, 10, 10), (0, 0, 10, 10), 0.9, "word")
    res = regions_to_results([[region], []], [1, 2], {"word": 1})
    assert res[0]["bbox"] == [0, 0, 10, 10] and len(res) == 1
    scores = evaluate_coco(GT, [])
    assert scores.recall == 0.0 and scores.map == 0.0

"""Detection metrics: precision / recall / F1 at an IoU threshold, and COCO mAP.

Predictions come as a COCO results list (``image_id``, ``category_id``, ``bbox`` xywh,
``score``) or as the pipeline's results JSON (per image ``file`` and
``lines[].words[]`` with ``polygon``, ``det_score``, ``label``); both are turned into a
COCO results list against the ground truth's image ids and category ids.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detection.types import Region


@dataclass(frozen=True)
class DetectionScores:
    """Matching counts at one IoU threshold, and COCO box mAP (``-1`` when not computed)."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int
    iou_threshold: float = 0.5
    map: float = -1.0
    map50: float = -1.0

    def export(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of ``(N, 4)`` and ``(M, 4)`` ``x1, y1, x2, y2`` boxes."""
    a, b = np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).clip(0).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).clip(0).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def count_matches(gt_boxes: np.ndarray, pred_boxes: np.ndarray, pred_scores: np.ndarray,
                  iou_threshold: float = 0.5) -> int:
    """Greedy one-to-one matching, highest score first: number of true positives."""
    if len(gt_boxes) == 0 or len(pred_boxes) == 0:
        return 0
    iou = box_iou(pred_boxes, gt_boxes)
    taken = np.zeros(len(gt_boxes), dtype=bool)
    tp = 0
    for p in np.argsort(-np.asarray(pred_scores), kind="stable"):
        candidates = np.where(~taken, iou[p], -1.0)
        g = int(np.argmax(candidates))
        if candidates[g] >= iou_threshold:
            taken[g] = True
            tp += 1
    return tp


def precision_recall(gt: dict[Any, list[tuple[Any, Sequence[float]]]],
                     pred: dict[Any, list[tuple[Any, Sequence[float], float]]],
                     iou_threshold: float = 0.5) -> DetectionScores:
    """P / R / F1 over images; boxes match only within the same class.

    Args:
        gt: per image key, ``(class, (x1, y1, x2, y2))`` ground truths.
        pred: per image key, ``(class, (x1, y1, x2, y2), score)`` predictions.
        iou_threshold: minimum IoU of a match.
    """
    tp = n_gt = n_pred = 0
    for key in set(gt) | set(pred):
        g_by_cls, p_by_cls = defaultdict(list), defaultdict(list)
        for cls, box in gt.get(key, []):
            g_by_cls[cls].append(box)
        for cls, box, score in pred.get(key, []):
            p_by_cls[cls].append((box, score))
        for cls in set(g_by_cls) | set(p_by_cls):
            gb = np.array(g_by_cls[cls], float).reshape(-1, 4)
            pb = np.array([b for b, _ in p_by_cls[cls]], float).reshape(-1, 4)
            ps = np.array([s for _, s in p_by_cls[cls]], float)
            tp += count_matches(gb, pb, ps, iou_threshold)
            n_gt += len(gb)
            n_pred += len(pb)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gt if n_gt else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return DetectionScores(precision, recall, f1, tp, n_pred - tp, n_gt - tp, iou_threshold)


def regions_to_results(regions: Sequence[Sequence[Region]], image_ids: Sequence[int],
                       category_ids: dict[str, int]) -> list[dict[str, Any]]:
    """COCO results list from detector output (regions of unknown classes are dropped)."""
    results = []
    for image_id, image_regions in zip(image_ids, regions, strict=True):
        for r in image_regions:
            if r.label not in category_ids:
                continue
            x1, y1, x2, y2 = r.bbox
            results.append({"image_id": int(image_id), "category_id": category_ids[r.label],
                            "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(r.score),
                            "segmentation": [r.polygon.reshape(-1).tolist()]})
    return results


def pipeline_results_to_coco(results: list[dict[str, Any]], gt: dict[str, Any]
                             ) -> list[dict[str, Any]]:
    """Turn the pipeline's per-image results into a COCO results list.

    Images are matched by file name (the base name when the full path does not match);
    words of images absent from the ground truth are ignored.
    """
    by_name: dict[str, int] = {}
    for img in gt["images"]:
        by_name[img["file_name"]] = img["id"]
        by_name.setdefault(Path(img["file_name"]).name, img["id"])
    cat_by_name = {c["name"]: c["id"] for c in gt["categories"]}
    default_cat = gt["categories"][0]["id"] if len(gt["categories"]) == 1 else None
    out = []
    for entry in results:
        name = str(entry.get("file", ""))
        image_id = by_name.get(name, by_name.get(Path(name).name))
        if image_id is None:
            continue
        for line in entry.get("lines", []):
            for word in line.get("words", []):
                cat = cat_by_name.get(word.get("label", "word"), default_cat)
                box = _word_box(word)
                if cat is None or box is None:
                    continue
                x1, y1, x2, y2 = box
                item = {"image_id": image_id, "category_id": cat,
                        "bbox": [x1, y1, x2 - x1, y2 - y1],
                        "score": float(word.get("det_score", word.get("score", 1.0)))}
                if word.get("polygon"):
                    item["segmentation"] = [np.asarray(word["polygon"], float).ravel().tolist()]
                out.append(item)
    return out


def _word_box(word: dict[str, Any]) -> tuple[float, float, float, float] | None:
    if word.get("polygon"):
        pts = np.asarray(word["polygon"], float).reshape(-1, 2)
        return (*pts.min(axis=0), *pts.max(axis=0))
    if word.get("bbox") and len(word["bbox"]) == 4:
        x1, y1, x2, y2 = (float(v) for v in word["bbox"])
        return x1, y1, x2, y2
    return None


def load_predictions(path: str | Path, gt: dict[str, Any]) -> list[dict[str, Any]]:
    """Read predictions in either accepted format as a COCO results list.

    Raises:
        ValueError: a file that is neither format.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("images"), list):
        data = data["images"]  # results wrapped in {"images": [...]}
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list (COCO results or pipeline results)")
    if not data or "image_id" in data[0]:
        for i, item in enumerate(data):
            if not {"image_id", "category_id", "bbox"} <= set(item):
                raise ValueError(f"{path}: item {i} needs image_id, category_id and bbox")
        return data
    if "file" in data[0]:
        return pipeline_results_to_coco(data, gt)
    raise ValueError(f"{path}: items have neither 'image_id' (COCO) nor 'file' (pipeline)")


def evaluate_coco(gt: dict[str, Any], results: list[dict[str, Any]],
                  iou_threshold: float = 0.5) -> DetectionScores:
    """P / R / F1 at ``iou_threshold`` plus pycocotools box mAP of a COCO results list.

    Args:
        gt: COCO ground truth dict (``images``, ``annotations``, ``categories``).
        results: COCO results list (``image_id``, ``category_id``, ``bbox`` xywh, ``score``).
    """
    gt_boxes: dict[Any, list] = defaultdict(list)
    for ann in gt.get("annotations", []):
        x, y, w, h = ann["bbox"]
        gt_boxes[ann["image_id"]].append((ann["category_id"], (x, y, x + w, y + h)))
    pred_boxes: dict[Any, list] = defaultdict(list)
    for r in results:
        x, y, w, h = r["bbox"]
        pred_boxes[r["image_id"]].append((r["category_id"], (x, y, x + w, y + h),
                                          float(r.get("score", 1.0))))
    scores = precision_recall(gt_boxes, pred_boxes, iou_threshold)
    m, m50 = coco_map(gt, results)
    return DetectionScores(**{**scores.export(), "map": m, "map50": m50})


def coco_map(gt: dict[str, Any], results: list[dict[str, Any]]) -> tuple[float, float]:
    """COCO box mAP@[.5:.95] and mAP@.5 via pycocotools (0 for no predictions)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not results or not gt.get("annotations"):
        return 0.0, 0.0
    data = {"images": gt["images"], "categories": gt["categories"], "annotations": [
        {**a, "id": a.get("id", i + 1), "iscrowd": a.get("iscrowd", 0),
         "area": a.get("area") or float(a["bbox"][2] * a["bbox"][3])}
        for i, a in enumerate(gt["annotations"])]}
    # Boxes only: segmentation in results would make loadRes rewrite the boxes.
    boxes = [{k: r[k] for k in ("image_id", "category_id", "bbox")} | {
        "score": float(r.get("score", 1.0))} for r in results]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = data
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(boxes)
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.maxDets = [1, 100, max(1000, max(len(v) for v in _per_image(boxes).values()))]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return max(float(ev.stats[0]), 0.0), max(float(ev.stats[1]), 0.0)


def _per_image(results: list[dict[str, Any]]) -> dict[Any, list]:
    groups: dict[Any, list] = defaultdict(list)
    for r in results:
        groups[r["image_id"]].append(r)
    return groups

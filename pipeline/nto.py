"""NTO 2021/22 "school notebooks": predictions format and the metric (CER with matching).

Predictions: ``{"<image file name>": {"predictions": [{"polygon": [[x, y], ...],
"text": "..."}]}}``. The metric, per image (MISSION.md):

1. ground truths in annotation order each take the still-unmatched prediction with the
   largest polygon IoU, if that IoU is > 0;
2. an unmatched ground truth is scored against "";
3. every unmatched prediction is scored against a ground truth "";
4. image CER = sum of Levenshtein distances / sum of ground-truth lengths;
5. final score = mean of image CERs weighted by (ground truths + unmatched predictions).

Invalid polygons are repaired with ``buffer(0)``; still invalid or empty ones never match.
An image whose ground truth has no characters scores 1.0 if anything non-empty was
predicted there, else 0.0. Images missing from the predictions count as all missed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from core.geometry import as_points, polygon_iou, split_quad, to_shapely, valid_polygon
from pipeline.results import Page

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextPolygon:
    """One ground-truth or predicted word: polygon points and text."""

    polygon: tuple[tuple[float, float], ...]
    text: str


@dataclass(frozen=True)
class ImageScore:
    """Metric details for one image."""

    file: str
    cer: float
    weight: int
    num_gt: int
    num_pred: int
    matched: int
    distance: int
    gt_chars: int


@dataclass(frozen=True)
class NtoScore:
    """The final score and the per-image details."""

    score: float
    images: list[ImageScore] = field(default_factory=list)
    extra_predictions: list[str] = field(default_factory=list)

    def export(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"score": self.score,
                "images": [vars(s) for s in self.images],
                "num_images": len(self.images),
                "predicted_images_not_in_gt": self.extra_predictions}


def image_cer(gt: Sequence[TextPolygon], pred: Sequence[TextPolygon], file: str = ""
              ) -> ImageScore:
    """Score one image with the NTO rules (see the module docstring)."""
    gt_shapes = [to_shapely(g.polygon) for g in gt]
    pred_shapes = [to_shapely(p.polygon) for p in pred]
    unmatched = set(range(len(pred)))
    distance = matched = 0
    for g, g_shape in zip(gt, gt_shapes, strict=True):
        best, best_iou = None, 0.0
        for j in sorted(unmatched):  # prediction order breaks ties
            iou = polygon_iou(g_shape, pred_shapes[j])
            if iou > best_iou:
                best, best_iou = j, iou
        if best is None:
            distance += len(g.text)  # Levenshtein(g.text, "")
        else:
            unmatched.discard(best)
            matched += 1
            distance += Levenshtein.distance(pred[best].text, g.text)
    distance += sum(len(pred[j].text) for j in unmatched)
    gt_chars = sum(len(g.text) for g in gt)
    # No characters to read: the original code divides by zero; any non-empty text is wrong.
    empty_cer = 1.0 if any(p.text for p in pred) else 0.0
    cer = distance / gt_chars if gt_chars > 0 else empty_cer
    return ImageScore(file=file, cer=float(cer), weight=len(gt) + len(unmatched),
                      num_gt=len(gt), num_pred=len(pred), matched=matched,
                      distance=int(distance), gt_chars=gt_chars)


def nto_score(gt: dict[str, list[TextPolygon]], pred: dict[str, list[TextPolygon]]
              ) -> NtoScore:
    """The final NTO score over all ground-truth images.

    Args:
        gt: ground truth per image file name, in annotation order.
        pred: predictions per image file name (matched by exact name, then by base name).

    Returns:
        Weighted mean image CER (0 when no image has any weight) and per-image details.
    """
    by_base = {Path(k).name: v for k, v in pred.items()}
    used: set[str] = set()
    scores = []
    for file, truths in gt.items():
        if file in pred:
            p, key = pred[file], file
        else:
            key = Path(file).name
            p = by_base.get(key, [])
        used.add(Path(key).name)
        scores.append(image_cer(truths, p, file))
    total = sum(s.weight for s in scores)
    score = sum(s.cer * s.weight for s in scores) / total if total else 0.0
    extra = sorted(k for k in pred if k not in gt and Path(k).name not in used)
    return NtoScore(score=float(score), images=scores, extra_predictions=extra)


def _polygon(raw: Any) -> tuple[tuple[float, float], ...]:
    """Points of a polygon given as ``[[x, y], ...]`` or a flat ``[x1, y1, ...]`` list."""
    try:
        flat = [float(v) for pt in raw for v in (pt if isinstance(pt, list | tuple) else [pt])]
    except (TypeError, ValueError):
        return ()
    return tuple(zip(flat[0::2], flat[1::2], strict=False))


def read_ground_truth(path: str | Path) -> dict[str, list[TextPolygon]]:
    """Ground truth from a COCO ``annotations.json`` (NTO layout) or a predictions-format file.

    COCO: ``segmentation[0]`` is the polygon, ``attributes.translation`` the text; every image
    in ``images[]`` is present, with no annotations if it has none; annotation order is kept.
    Annotations of a category named ``line`` are left out: the competition scores words, and
    our synthetic pages also box each line of those words (for detector training), which
    would count every line's text a second time as a missed prediction.

    Raises:
        ValueError: the file is not JSON in either layout.
    """
    data = _read_json(path)
    if isinstance(data, dict) and "images" in data and "annotations" in data:
        files = {img["id"]: img["file_name"] for img in data["images"]}
        lines = {c.get("id") for c in data.get("categories") or [] if c.get("name") == "line"}
        out: dict[str, list[TextPolygon]] = {name: [] for name in files.values()}
        for n, ann in enumerate(data["annotations"]):
            if lines and ann.get("category_id") in lines:
                continue
            if ann.get("image_id") not in files:
                raise ValueError(f"{path}: annotations[{n}] refers to unknown image_id "
                                 f"{ann.get('image_id')!r}")
            seg = ann.get("segmentation") or [[]]
            text = (ann.get("attributes") or {}).get("translation") or ""
            out[files[ann["image_id"]]].append(TextPolygon(_polygon(seg[0]), str(text)))
        return out
    return read_predictions(path, data)


def read_predictions(path: str | Path, data: Any = None) -> dict[str, list[TextPolygon]]:
    """Predictions in the NTO submission format.

    Raises:
        ValueError: the file is not in that format.
    """
    data = _read_json(path) if data is None else data
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected {{file: {{'predictions': [...]}}}}")
    out = {}
    for file, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("predictions"), list):
            raise ValueError(f"{path}: entry {file!r} has no 'predictions' list")
        out[file] = [TextPolygon(_polygon(p.get("polygon") or []), str(p.get("text") or ""))
                     for p in entry["predictions"]]
    return out


def _read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read JSON ({exc})") from exc


def predictions_from_pages(pages: Iterable[Page], split_words: bool = True
                           ) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """NTO predictions from pipeline results, keyed by image file name (base name).

    Words are written in reading order; every polygon is valid (repaired when needed,
    dropped when empty) because one evaluator of this metric does not repair polygons.
    With ``split_words`` a region read as several words (a line crop: the documents preset
    reads merged lines) becomes one prediction per word, its quadrilateral cut along the line
    where the recognizer's CTC columns put each word (else in proportion to the characters):
    the metric matches single ground-truth words by IoU.
    Failed images get an empty prediction list.
    """
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for page in pages:
        preds = []
        for word in page.words:
            for polygon, text in _word_pieces(word.polygon, word.text, word.spans,
                                              split_words):
                poly = valid_polygon(polygon) if len(polygon) >= 3 else None
                if poly is None:
                    continue
                preds.append({"polygon": [[round(float(x), 1), round(float(y), 1)]
                                          for x, y in poly], "text": text})
        name = Path(page.file).name
        if name in out:
            log.warning("two images named %s: the NTO format keys by file name; "
                        "the later one wins", name)
        out[name] = {"predictions": preds}
    return out


def _word_pieces(polygon: Sequence[Sequence[float]], text: str,
                 spans: Sequence[tuple[float, float]] | None, split: bool
                 ) -> list[tuple[Any, str]]:
    """``(polygon, word)`` per word of ``text``: the recognizer's word ``spans`` along the
    quadrilateral when they fit the words (a lexicon correction may have split a word), else
    cuts in proportion to the characters."""
    tokens = list(re.finditer(r"\S+", text))
    if not split or len(tokens) < 2 or len(polygon) != 4:
        return [(polygon, text)]
    if spans is None or len(spans) != len(tokens):
        n = len(text.rstrip())
        start = tokens[0].start()
        spans = [((t.start() - start) / (n - start), (t.end() - start) / (n - start))
                 for t in tokens]
    pieces = split_quad(as_points(polygon), spans)
    return [(piece, t.group(0)) for piece, t in zip(pieces, tokens, strict=True)]

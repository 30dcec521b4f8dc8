"""Pure geometry for detections: boxes to polygons, masks to polygons, validity, clipping."""

from __future__ import annotations

import cv2
import numpy as np
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import make_valid


def clip_box(box: tuple[float, float, float, float] | np.ndarray, width: int, height: int
             ) -> tuple[float, float, float, float]:
    """Clip ``(x1, y1, x2, y2)`` to the image ``[0, width] x [0, height]``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    width, height = float(width), float(height)
    x1, x2 = sorted((min(max(x1, 0.0), width), min(max(x2, 0.0), width)))
    y1, y2 = sorted((min(max(y1, 0.0), height), min(max(y2, 0.0), height)))
    return x1, y1, x2, y2


def box_to_polygon(box: tuple[float, float, float, float]) -> np.ndarray:
    """The four corners of ``(x1, y1, x2, y2)``, clockwise from top-left (image axes)."""
    x1, y1, x2, y2 = box
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)


def polygon_bbox(polygon: np.ndarray) -> tuple[float, float, float, float]:
    """Axis-aligned box ``(x1, y1, x2, y2)`` of an ``(N, 2)`` polygon."""
    x1, y1 = polygon.min(axis=0)
    x2, y2 = polygon.max(axis=0)
    return float(x1), float(y1), float(x2), float(y2)


def is_valid_polygon(polygon: np.ndarray) -> bool:
    """True for an ``(N >= 3, 2)`` polygon that shapely finds valid with a positive area."""
    if polygon.ndim != 2 or polygon.shape[0] < 3 or polygon.shape[1] != 2:
        return False
    shape = Polygon(polygon)
    return bool(shape.is_valid and shape.area > 0)


def largest_valid_polygon(points: np.ndarray) -> np.ndarray | None:
    """Repair a possibly self-intersecting ring; keep the largest piece's exterior.

    Args:
        points: ``(N, 2)`` vertices.

    Returns:
        ``(M, 2)`` vertices of a valid polygon (no closing repeat), or ``None`` when
        nothing with a positive area remains.
    """
    if len(points) < 3:
        return None
    shape = Polygon(points)
    if not shape.is_valid:
        shape = make_valid(shape)
    parts = _polygons_of(shape)
    if not parts:
        return None
    best = max(parts, key=lambda p: p.area)
    if best.area <= 0:
        return None
    ring = np.asarray(best.exterior.coords, dtype=np.float64)[:-1]
    return ring if is_valid_polygon(ring) else None


def _polygons_of(shape) -> list[Polygon]:
    if isinstance(shape, Polygon):
        return [shape] if not shape.is_empty else []
    if isinstance(shape, MultiPolygon):
        return [p for p in shape.geoms if not p.is_empty]
    if hasattr(shape, "geoms"):  # GeometryCollection from make_valid
        return [p for g in shape.geoms for p in _polygons_of(g)]
    return []


def clockwise_from_top_left(polygon: np.ndarray) -> np.ndarray:
    """Reorder a ring to run clockwise on screen (y down), starting at the top-left vertex."""
    x, y = polygon[:, 0], polygon[:, 1]
    # Shoelace in image axes: a positive sum runs clockwise on screen.
    signed = float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    if signed < 0:
        polygon = polygon[::-1]
    start = int(np.argmin(polygon[:, 0] + polygon[:, 1]))
    return np.roll(polygon, -start, axis=0)


def mask_to_polygon(mask: np.ndarray, tolerance: float = 1.0,
                    fallback_box: tuple[float, float, float, float] | None = None
                    ) -> np.ndarray | None:
    """Polygon of a binary mask's largest outer contour, simplified and always valid.

    Args:
        mask: ``(H, W)`` bool / uint8 mask in image coordinates.
        tolerance: Douglas-Peucker tolerance in pixels (0 keeps every contour vertex).
        fallback_box: ``(x1, y1, x2, y2)`` used when the mask gives no usable polygon.

    Returns:
        ``(N, 2)`` float polygon clockwise from top-left, or ``None`` if neither the mask
        nor the fallback box has a positive area.
    """
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polygon = None
    if contours:
        contour = max(contours, key=cv2.contourArea)
        if tolerance > 0:
            contour = cv2.approxPolyDP(contour, tolerance, True)
        polygon = largest_valid_polygon(contour.reshape(-1, 2).astype(np.float64))
    if polygon is None and fallback_box is not None:
        box = box_to_polygon(fallback_box)
        polygon = box if is_valid_polygon(box) else None
    return None if polygon is None else clockwise_from_top_left(polygon)

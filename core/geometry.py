"""Polygon helpers as pure functions on ``(N, 2)`` float arrays of ``[x, y]`` image points."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import make_valid


def as_points(polygon: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Return ``polygon`` as a float64 ``(N, 2)`` array.

    Raises:
        ValueError: when the input is not a list of ``[x, y]`` pairs or holds NaN / inf.
    """
    pts = np.asarray(polygon, dtype=np.float64)
    if pts.ndim == 1 and pts.size % 2 == 0:
        pts = pts.reshape(-1, 2)  # flat COCO segmentation [x1, y1, x2, y2, ...]
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"polygon must be (N, 2) points, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError("polygon has NaN or infinite coordinates")
    return pts


def bbox_of(polygon: np.ndarray) -> tuple[float, float, float, float]:
    """Axis-aligned ``(x1, y1, x2, y2)`` box enclosing the polygon."""
    pts = as_points(polygon)
    x1, y1 = pts.min(axis=0)
    x2, y2 = pts.max(axis=0)
    return float(x1), float(y1), float(x2), float(y2)


def box_polygon(x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    """Clockwise rectangle from the top-left corner."""
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)


def upright_homography(quad: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The 3x3 homography that maps ``quad`` (top-left, top-right, bottom-right, bottom-left)
    onto an upright rectangle as long as its longer opposite sides (no detail is lost), and
    that rectangle's ``(width, height)``."""
    q = as_points(quad).reshape(4, 2)
    w = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
    h = max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]))
    w, h = max(int(round(w)), 1), max(int(round(h)), 1)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return cv2.getPerspectiveTransform(q.astype(np.float32), dst), (w, h)


def to_shapely(polygon: np.ndarray | Sequence[Sequence[float]]) -> Polygon | None:
    """A valid, non-empty shapely polygon, or ``None``.

    An invalid polygon (e.g. self-intersecting) is repaired with ``buffer(0)``, as the NTO
    organisers' evaluator does; if that leaves a multi-polygon the largest part is *not*
    picked: the whole repaired geometry is kept when valid, since that is what gets scored.
    """
    try:
        pts = as_points(polygon)
        if len(pts) < 3:
            return None
        shape = Polygon(pts)
        if not shape.is_valid:
            shape = shape.buffer(0)
    except (ValueError, TypeError):
        return None
    if shape.is_empty or not shape.is_valid or shape.area <= 0:
        return None
    if not isinstance(shape, Polygon | MultiPolygon):
        return None
    return shape


def polygon_iou(a: Polygon | None, b: Polygon | None) -> float:
    """Intersection over union of two shapely polygons; 0 when either is missing."""
    if a is None or b is None:
        return 0.0
    inter = a.intersection(b).area
    if inter <= 0:
        return 0.0
    union = a.union(b).area
    return float(inter / union) if union > 0 else 0.0


def valid_polygon(polygon: np.ndarray) -> np.ndarray | None:
    """A simple (non-self-intersecting) version of ``polygon`` as points, or ``None``.

    Valid polygons come back unchanged; invalid ones are repaired with ``buffer(0)`` and, if
    the repair splits them, replaced by the convex hull, so every output polygon is valid.
    """
    pts = as_points(polygon)
    shape = to_shapely(pts)
    if shape is None:
        return None
    if isinstance(shape, Polygon) and Polygon(pts).is_valid:
        return pts
    if isinstance(shape, MultiPolygon):
        shape = shape.convex_hull
    coords = np.asarray(shape.exterior.coords, dtype=np.float64)[:-1]
    return coords if len(coords) >= 3 else None


def rotate_points(points: np.ndarray, angle: float) -> np.ndarray:
    """Rotate points about the origin by ``angle`` radians (image axes: y points down).

    A positive angle turns +x towards +y, i.e. clockwise on screen. Rotating by ``-skew``
    maps text that runs at ``skew`` onto horizontal rows.
    """
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return np.asarray(points, dtype=np.float64) @ rot.T


def order_quad(points: np.ndarray) -> np.ndarray:
    """Order four corners clockwise starting at the reading top-left.

    Corners are sorted clockwise around their centroid; the start is the corner whose edge
    to the next corner points most nearly along +x (the top edge of text rotated by less
    than 45°), so the order works for any input order of the corners.
    """
    pts = as_points(points)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # increasing angle = clockwise on screen (y down)
    edges = np.roll(pts, -1, axis=0) - pts
    lengths = np.linalg.norm(edges, axis=1)
    cos_x = np.divide(edges[:, 0], lengths, out=np.full(len(pts), -2.0), where=lengths > 0)
    start = int(np.argmax(cos_x))
    return np.roll(pts, -start, axis=0)


def min_area_quad(points: np.ndarray) -> np.ndarray:
    """Minimum-area rotated rectangle around ``points``, ordered by :func:`order_quad`."""

    pts = as_points(points).astype(np.float32)
    rect = cv2.minAreaRect(pts)
    return order_quad(cv2.boxPoints(rect).astype(np.float64))


def is_axis_aligned_box(polygon: np.ndarray, tol: float = 1e-3) -> bool:
    """True when the polygon is a rectangle with sides parallel to the image axes."""
    pts = as_points(polygon)
    if len(pts) != 4:
        return False
    x1, y1, x2, y2 = bbox_of(pts)
    scale = max(x2 - x1, y2 - y1, 1.0) * tol
    on_x = np.minimum(np.abs(pts[:, 0] - x1), np.abs(pts[:, 0] - x2)) <= scale
    on_y = np.minimum(np.abs(pts[:, 1] - y1), np.abs(pts[:, 1] - y2)) <= scale
    return bool(on_x.all() and on_y.all())


def polygon_angle(polygon: np.ndarray) -> tuple[float, float]:
    """Direction of the long side of the polygon's minimum-area rectangle.

    Returns:
        ``(angle, length)``: the angle in radians folded into ``(-pi/4, pi/4]`` (text is
        assumed to run closer to horizontal than vertical) and the long side's length,
        usable as a weight.
    """
    quad = min_area_quad(polygon)
    top = quad[1] - quad[0]
    side = quad[3] - quad[0]
    vec = top if np.linalg.norm(top) >= np.linalg.norm(side) else side
    angle = math.atan2(vec[1], vec[0])
    # Fold into (-pi/2, pi/2] first (direction is unsigned), then into (-pi/4, pi/4].
    while angle <= -math.pi / 2:
        angle += math.pi
    while angle > math.pi / 2:
        angle -= math.pi
    if angle > math.pi / 4:
        angle -= math.pi / 2
    elif angle <= -math.pi / 4:
        angle += math.pi / 2
    return angle, float(max(np.linalg.norm(top), np.linalg.norm(side)))


def rotated_rect(points: np.ndarray, angle: float) -> np.ndarray:
    """Smallest rectangle at ``angle`` around ``points``, clockwise from its top-left."""
    pts = as_points(points)
    flat = rotate_points(pts, -angle)
    x1, y1 = flat.min(axis=0)
    x2, y2 = flat.max(axis=0)
    return rotate_points(box_polygon(x1, y1, x2, y2), angle)


def split_quad(polygon: np.ndarray, spans: Sequence[tuple[float, float]]) -> list[np.ndarray]:
    """Pieces of a quadrilateral (clockwise from top-left) cut across its top-left → top-right
    direction: ``(a, b)`` in ``spans`` is the part from fraction ``a`` to ``b`` of its length
    (the top and the bottom edge cut at the same fractions)."""
    tl, tr, br, bl = as_points(polygon)[:4]
    return [np.array([tl + (tr - tl) * a, tl + (tr - tl) * b,
                      bl + (br - bl) * b, bl + (br - bl) * a]) for a, b in spans]


# Detector outputs: boxes clipped to the image, masks and rings made valid polygons.
def clip_box(box: tuple[float, float, float, float] | np.ndarray, width: int, height: int
             ) -> tuple[float, float, float, float]:
    """Clip ``(x1, y1, x2, y2)`` to the image ``[0, width] x [0, height]``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    width, height = float(width), float(height)
    x1, x2 = sorted((min(max(x1, 0.0), width), min(max(x2, 0.0), width)))
    y1, y2 = sorted((min(max(y1, 0.0), height), min(max(y2, 0.0), height)))
    return x1, y1, x2, y2




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
        box = box_polygon(*fallback_box)
        polygon = box if is_valid_polygon(box) else None
    return None if polygon is None else clockwise_from_top_left(polygon)


def connected_groups(n: int, pairs: Sequence[tuple[int, int]] | np.ndarray) -> list[list[int]]:
    """The items ``0 .. n-1`` grouped by the ``pairs`` that join them, directly or through
    others (connected components, ``scipy.sparse.csgraph``): each group in ascending order,
    the groups ordered by their first item; an item in no pair is a group of its own."""
    if n == 0:
        return []
    from scipy.sparse import coo_matrix  # here, not at import: scipy.sparse costs ~0.2 s
    from scipy.sparse.csgraph import connected_components

    edges = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(i)
    return list(groups.values())

"""Cutting word crops out of an image along their polygons."""

from __future__ import annotations

import cv2
import numpy as np

from core.geometry import as_points, min_area_quad, order_quad

FILL = 255  # outside a non-rectangular polygon: white, like the recognizer's padding


def crop_polygon(image: np.ndarray, polygon: np.ndarray, fill: int = FILL) -> np.ndarray:
    """Crop the region inside ``polygon`` as an upright image.

    A quadrilateral (an axis-aligned box, a rotated word, a perspective-distorted plate) is
    warped to a rectangle with a perspective transform, its top edge being the corner pair
    that runs most nearly left to right. Any other polygon is masked (pixels outside become
    ``fill``) and its minimum-area rectangle is warped the same way.

    Args:
        image: ``(H, W, 3)`` RGB ``uint8``.
        polygon: ``(N, 2)`` points in pixels, ``N >= 3``.
        fill: grey value for pixels outside the polygon or the image.

    Returns:
        The crop, ``(h, w, 3)`` ``uint8``, at least 1x1.
    """
    pts = as_points(polygon)
    if len(pts) == 4:
        quad = order_quad(pts)
        source = image
    else:
        quad = min_area_quad(pts)
        source = _mask_outside(image, pts, fill)
    return _warp_quad(source, quad, fill)


def _mask_outside(image: np.ndarray, pts: np.ndarray, fill: int) -> np.ndarray:
    # Only the polygon's bounding box is copied and masked, not the whole page.
    h, w = image.shape[:2]
    x1, y1 = np.floor(pts.min(axis=0)).astype(int)
    x2, y2 = np.ceil(pts.max(axis=0)).astype(int) + 1
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
    out = np.full_like(image, fill)
    if x2 <= x1 or y2 <= y1:
        return out
    mask = np.zeros((y2 - y1, x2 - x1), np.uint8)
    cv2.fillPoly(mask, [np.round(pts - [x1, y1]).astype(np.int32)], 1)
    region = image[y1:y2, x1:x2]
    out[y1:y2, x1:x2] = np.where(mask[:, :, None] > 0, region, fill)
    return out


def _warp_quad(image: np.ndarray, quad: np.ndarray, fill: int) -> np.ndarray:
    tl, tr, br, bl = quad
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    w, h = max(int(round(width)), 1), max(int(round(height)), 1)
    target = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(fill, fill, fill))

"""Cutting word crops out of an image along their polygons."""

from __future__ import annotations

import cv2
import numpy as np

from core.geometry import as_points, box_polygon, min_area_quad, order_quad, rotate_points

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


def text_angle(crop: np.ndarray, max_angle: float, step: float = 1.0, height: int = 48
               ) -> float:
    """The turn, in degrees, that brings the text rows of ``crop`` level: the angle whose
    rotation (``cv2.getRotationMatrix2D``'s sense: counter-clockwise on screen) gathers the
    crop's edges into the fewest rows, searched in ``[-max_angle, max_angle]`` by ``step``
    and then by a fifth of it around the best. Text and a plate's rim are rows of edges;
    turned level, their row profile is sharpest (projection-profile deskew).

    Args:
        crop: ``(h, w, 3)`` RGB or ``(h, w)`` grey ``uint8``.
        max_angle: the largest turn looked for, ``< 90``.
        step: the coarse search step.
        height: the crop is scaled to this height first (speed; the profile needs no more).
    """
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape[:2]
    if h < 4 or w < 4 or max_angle <= 0:
        return 0.0
    scale = height / h
    grey = cv2.resize(grey, (max(int(round(w * scale)), 4), height), interpolation=cv2.INTER_AREA)
    grey = grey.astype(np.float32)
    edges = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    # Turned on a canvas as large as the crop's diagonal: nothing is cut off at any angle
    # (a cut-off corner would make the profile look sharper than it is).
    eh, ew = edges.shape
    side = int(np.ceil(np.hypot(eh, ew))) + 2
    canvas = np.zeros((side, side), np.float32)
    top, left = (side - eh) // 2, (side - ew) // 2
    canvas[top:top + eh, left:left + ew] = edges
    centre = (left + ew / 2.0, top + eh / 2.0)

    def sharpness(angle: float) -> float:
        turned = cv2.warpAffine(canvas, cv2.getRotationMatrix2D(centre, angle, 1.0), (side, side),
                                flags=cv2.INTER_LINEAR, borderValue=0.0)
        rows = turned.sum(axis=1, dtype=np.float64)
        total = rows.sum()
        return float((rows ** 2).sum() / (total * total)) if total > 0 else 0.0

    coarse = np.arange(-max_angle, max_angle + 1e-9, step)
    best = float(coarse[int(np.argmax([sharpness(a) for a in coarse]))])
    fine = np.arange(best - step, best + step + 1e-9, step / 5.0)
    return float(fine[int(np.argmax([sharpness(a) for a in fine]))])


def level_quad(box: np.ndarray, angle: float, min_aspect: float = 0.2, margin: float = 0.0
               ) -> np.ndarray | None:
    """The turned rectangle whose axis-aligned bounding box is ``box``, turned by ``angle``
    degrees (:func:`text_angle`'s sense, ``|angle| < 45``): a plate turned in a detector's
    upright box. Its corners go clockwise from the top-left one of the levelled text.

    Its sides ``W`` and ``H`` solve ``bw = W cos + H sin``, ``bh = W sin + H cos``; where the
    box is too flat for that, ``H`` is ``min_aspect * W`` and ``W`` what the box's width
    leaves. ``None`` where the box holds no rectangle wider than tall at that turn (a text
    strip is wider than tall): the box is then best read as it is. ``margin`` widens the
    rectangle by that fraction of its width and height on every side.
    """
    pts = as_points(box)
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    bw, bh = x1 - x0, y1 - y0
    t = np.deg2rad(abs(angle))
    c, s = np.cos(t), np.sin(t)
    det = c * c - s * s
    width = (bw * c - bh * s) / det if det > 1e-6 else 0.0
    height = (bh * c - bw * s) / det if det > 1e-6 else 0.0
    if width <= 0 or height < min_aspect * width:
        width = bw / (c + min_aspect * s)
        height = min_aspect * width
    if height > width:
        return None
    width, height = width * (1 + 2 * margin), height * (1 + 2 * margin)
    level = box_polygon(-width / 2, -height / 2, width / 2, height / 2)
    # Undo the levelling turn: cv2's positive angle turns counter-clockwise on screen, so the
    # level rectangle goes back by the same angle clockwise (rotate_points' positive sense).
    return rotate_points(level, np.deg2rad(angle)) + [(x0 + x1) / 2.0, (y0 + y1) / 2.0]

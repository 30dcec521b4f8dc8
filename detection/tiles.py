"""Training views of photographed pages at the scale the detector reads them.

At inference the ``documents`` pipeline warps a photographed page upright
(:mod:`pipeline.page_geometry`) and re-runs the detector at the size that makes the median
word about ``text_height`` pixels high (:func:`detection.yolo.text_scale_imgsz`). A whole
2048-pixel photo letterboxed to a 640 training view shows its words 3-4 pixels high instead.
:func:`page_tiles` makes the views the detector meets: the page warped upright by its labelled
quad, cut into overlapping tiles whose side, scaled to ``imgsz``, shows the median word
``text_height`` pixels high.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from shapely.geometry import box

from core.geometry import order_quad, to_shapely, upright_homography


@dataclass
class TileObject:
    """A labelled polygon of a tile, in the tile's pixels."""

    label: str
    polygon: np.ndarray
    attributes: dict[str, Any] = field(default_factory=dict)


def upright_page(image: np.ndarray, objects: Sequence[TileObject], quad: np.ndarray
                 ) -> tuple[np.ndarray, list[TileObject]]:
    """The page inside ``quad`` warped upright as the pipeline's page step warps it
    (:func:`core.geometry.upright_homography`), with the objects' polygons mapped the same
    way."""
    matrix, size = upright_homography(order_quad(np.asarray(quad, np.float64).reshape(-1, 2)))
    page = cv2.warpPerspective(image, matrix, size, flags=cv2.INTER_AREA,
                               borderMode=cv2.BORDER_REPLICATE)
    moved = []
    for o in objects:
        pts = cv2.perspectiveTransform(o.polygon.reshape(-1, 1, 2).astype(np.float64), matrix)
        moved.append(TileObject(o.label, pts.reshape(-1, 2), dict(o.attributes)))
    return page, moved


def _starts(length: int, tile: int, overlap: float) -> list[int]:
    if length <= tile:
        return [0]
    step = max(1, int(tile * (1.0 - overlap)))
    starts = list(range(0, length - tile, step))
    return [*starts, length - tile]


Tile = tuple[np.ndarray, list[TileObject], tuple[int, int]]


def page_tiles(image: np.ndarray, objects: Sequence[TileObject], text_height: float = 16.0,
               imgsz: int = 640, overlap: float = 0.2, min_inside: float = 0.6,
               height_label: str = "word") -> list[Tile]:
    """Overlapping tiles of ``image`` whose side, resized to ``imgsz``, shows the median
    ``height_label`` box ``text_height`` pixels high.

    An object is kept in a tile when at least ``min_inside`` of its area lies in it (clipped
    to the tile); a word the tile cuts more than that is left out of that tile (its other
    tile holds it whole, as tiles overlap by ``overlap``). An image already small enough is
    one tile.

    Returns:
        ``(tile image, objects in tile pixels, (x0, y0) of the tile in the image)``.
    """
    heights = [float(np.ptp(o.polygon[:, 1])) for o in objects if o.label == height_label]
    h_img, w_img = image.shape[:2]
    if not heights or np.median(heights) <= 0:
        return [(image, list(objects), (0, 0))]
    side = int(round(imgsz * float(np.median(heights)) / text_height))
    side = max(side, 32)
    shapes = [(o, to_shapely(o.polygon)) for o in objects]
    out = []
    for y0 in _starts(h_img, side, overlap):
        for x0 in _starts(w_img, side, overlap):
            x1, y1 = min(x0 + side, w_img), min(y0 + side, h_img)
            window = box(x0, y0, x1, y1)
            kept = []
            for o, poly in shapes:
                if poly is None or not poly.intersects(window):
                    continue
                inside = poly.intersection(window)
                if inside.area < min_inside * poly.area:
                    continue
                pts = o.polygon if inside.area >= poly.area * 0.999 else _outline(inside)
                kept.append(TileObject(o.label, pts - np.array([x0, y0]), dict(o.attributes)))
            out.append((image[y0:y1, x0:x1], kept, (x0, y0)))
    return out


def _outline(shape) -> np.ndarray:
    """The exterior of the largest part of a clipped polygon."""
    if shape.geom_type != "Polygon":
        shape = max(getattr(shape, "geoms", [shape]), key=lambda g: g.area)
    return np.asarray(shape.exterior.coords[:-1], np.float64)

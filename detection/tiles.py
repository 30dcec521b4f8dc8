"""Training views at the scales a detector meets: page tiles and object close-ups.

At inference the ``documents`` pipeline warps a photographed page upright
(:mod:`pipeline.page_geometry`) and re-runs the detector at the size that makes the median
word about ``text_height`` pixels high (:func:`detection.yolo.text_scale_imgsz`). A whole
2048-pixel photo letterboxed to a 640 training view shows its words 3-4 pixels high instead.
:func:`page_tiles` makes the views the detector meets: the page warped upright by its labelled
quad, cut into overlapping tiles whose side, scaled to ``imgsz``, shows the median word
``text_height`` pixels high. :func:`line_words` cuts a labelled text line (real sets such as
SROIE box lines, not words) into word boxes at its widest ink gaps, one per word of its text,
so line-labelled pages can teach a word detector.

:func:`object_zooms` goes the other way: windows around one object (a licence plate) in which
it spans a third of the frame or more, as in a close-up photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from shapely.geometry import box

from core.geometry import box_polygon, order_quad, to_shapely, upright_homography
from core.imaging import to_gray, true_runs


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


def line_words(image: np.ndarray, line: TileObject, label: str = "word", pad: float = 0.15,
               min_ink: int = 2) -> list[TileObject] | None:
    """The words of ``line`` (its text in ``attributes["translation"]``), cut at the line's
    widest ink gaps: one box per whitespace-separated word, spanning the line's rows and its
    word's ink columns, padded by ``pad`` line heights (never past the gaps beside it).

    Ink is Otsu's dark class inside the line's box; a column holds ink when at least
    ``min_ink`` of its pixels are dark (a speck does not close a gap). A one-word line is one
    box as it is. Returns ``None`` when the line has fewer ink gaps than word breaks (a rule
    or a frame runs through it, or its text is not what is printed): the caller decides.
    """
    text = str(line.attributes.get("translation", ""))
    words = text.split()
    attrs = {k: v for k, v in line.attributes.items() if k != "translation"}
    if len(words) <= 1:
        return [TileObject(label, line.polygon.copy(), {**attrs, "translation": text.strip()})]
    h_img, w_img = image.shape[:2]
    x0, y0 = (max(0, int(np.floor(v))) for v in line.polygon.min(0))
    x1 = min(w_img, int(np.ceil(line.polygon[:, 0].max())))
    y1 = min(h_img, int(np.ceil(line.polygon[:, 1].max())))
    if x1 - x0 < 2 * len(words) or y1 - y0 < 4:
        return None
    gray = to_gray(image[y0:y1, x0:x1])
    if int(gray.max()) == int(gray.min()):
        return None
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    cols = ink.sum(axis=0) >= min_ink
    filled = np.flatnonzero(cols)
    if len(filled) == 0:
        return None
    first, last = int(filled[0]), int(filled[-1])
    # (width, start, end) of the empty column runs between the first and last ink
    gaps = [(int(b - a), int(a), int(b)) for a, b in true_runs(~cols[first:last + 1]) + first]
    if len(gaps) < len(words) - 1:
        return None
    chosen = sorted(sorted(gaps, key=lambda g: (-g[0], g[1]))[:len(words) - 1],
                    key=lambda g: g[1])
    bounds = [first, *[c for g in chosen for c in (g[1], g[2])], last + 1]
    grow = pad * (y1 - y0)
    out = []
    for k, word in enumerate(words):
        left, right = bounds[2 * k], bounds[2 * k + 1]
        lo = x0 + left - min(grow, chosen[k - 1][0] / 2 if k else grow)
        hi = x0 + right + min(grow, chosen[k][0] / 2 if k < len(chosen) else grow)
        lo, hi = max(float(x0), lo), min(float(x1), hi)
        out.append(TileObject(label, np.asarray(box_polygon(lo, y0, hi, y1), np.float64),
                              {**attrs, "translation": word}))
    return out


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
            kept = _objects_in(shapes, (x0, y0, x1, y1), min_inside)
            out.append((image[y0:y1, x0:x1], kept, (x0, y0)))
    return out


def _objects_in(shapes: Sequence[tuple[TileObject, Any]], window: tuple[int, int, int, int],
                min_inside: float) -> list[TileObject]:
    """The objects with at least ``min_inside`` of their area in ``window`` (x0, y0, x1, y1),
    clipped to it, in the window's pixels."""
    x0, y0 = window[:2]
    frame = box(*window)
    kept = []
    for o, poly in shapes:
        if poly is None or not poly.intersects(frame):
            continue
        inside = poly.intersection(frame)
        if inside.area < min_inside * poly.area:
            continue
        pts = o.polygon if inside.area >= poly.area * 0.999 else _outline(inside)
        kept.append(TileObject(o.label, pts - np.array([x0, y0]), dict(o.attributes)))
    return kept


def zoom_targets(objects: Sequence[TileObject], label: str, min_pixels: float = 2.0
                 ) -> list[TileObject]:
    """The ``label`` objects :func:`object_zooms` makes close-ups of: at least ``min_pixels``
    (and 2) wide and 2 high."""
    out = []
    for o in objects:
        w, h = np.ptp(o.polygon, axis=0)
        if o.label == label and w >= max(min_pixels, 2.0) and h >= 2:
            out.append(o)
    return out


def object_zooms(image: np.ndarray, objects: Sequence[TileObject], label: str,
                 width: tuple[float, float], rng: np.random.Generator, per_object: int = 1,
                 min_inside: float = 0.6, min_pixels: float = 2.0) -> list[Tile]:
    """Close-up views of ``image``: per ``label`` object, ``per_object`` windows in which the
    object spans a share of the window width drawn log-uniformly from ``width``.

    A close-up photo shows one plate across a third of the frame or more, a size the street
    photos and scenes a detector learns from seldom show. Each window keeps the image's aspect
    ratio, holds its object whole at a random place, and stays inside the image (a window the
    image is too small for is shrunk to fit, so the object spans more than asked). Objects
    narrower than ``min_pixels`` get no window (:func:`zoom_targets`): theirs would be a
    blurred upscale, not a close-up photo. Other objects are kept as in :func:`page_tiles`
    (``min_inside``). Windows are not resized.

    Returns:
        ``(window image, objects in window pixels, (x0, y0) of the window in the image)``.
    """
    h_img, w_img = image.shape[:2]
    lo, hi = np.log(width[0]), np.log(width[1])
    shapes = [(o, to_shapely(o.polygon)) for o in objects]
    out = []
    for o in zoom_targets(objects, label, min_pixels):
        ox0, oy0 = o.polygon.min(0)
        ox1, oy1 = o.polygon.max(0)
        ow, oh = ox1 - ox0, oy1 - oy0
        for _ in range(per_object):
            win_w = ow / float(np.exp(rng.uniform(lo, hi)))
            win_w = min(max(win_w, ow, oh * w_img / h_img), w_img)
            win_h = min(win_w * h_img / w_img, h_img)
            win_w, win_h = int(round(win_w)), int(round(win_h))
            # a window start that keeps the object whole and the window in the image
            x_lo, x_hi = max(0.0, ox1 - win_w), min(ox0, w_img - win_w)
            y_lo, y_hi = max(0.0, oy1 - win_h), min(oy0, h_img - win_h)
            x0 = int(rng.uniform(min(x_lo, x_hi), max(x_lo, x_hi)))
            y0 = int(rng.uniform(min(y_lo, y_hi), max(y_lo, y_hi)))
            x0 = min(max(x0, 0), w_img - win_w)
            y0 = min(max(y0, 0), h_img - win_h)
            window = (x0, y0, x0 + win_w, y0 + win_h)
            kept = _objects_in(shapes, window, min_inside)
            out.append((image[y0:y0 + win_h, x0:x0 + win_w], kept, (x0, y0)))
    return out


def _outline(shape) -> np.ndarray:
    """The exterior of the largest part of a clipped polygon."""
    if shape.geom_type != "Polygon":
        shape = max(getattr(shape, "geoms", [shape]), key=lambda g: g.area)
    return np.asarray(shape.exterior.coords[:-1], np.float64)

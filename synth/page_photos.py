"""Phone photos of printed pages: a page on a table, seen at an angle, with exact labels.

A flat printed page from :class:`synth.pages.DocumentRenderer` (its 1-bit look: ink and
paper only, no camera yet) gets paper and ink colours back, a slight curl, and is projected
by a pinhole camera tilted up to ``max_tilt`` degrees onto a table with clutter, another
sheet of paper, uneven light, a shadow, moiré, noise and JPEG. Labels, all in photo pixels:
``word`` and ``line`` polygons (lines follow the curl with extra points along their long
edges) and one ``page`` quadrilateral (the sheet's corners: its own top-left, top-right,
bottom-right, bottom-left), for page finding (:mod:`pipeline.page_geometry`).
"""

from __future__ import annotations

import cv2
import numpy as np

from synth import degrade
from synth.base import Renderer
from synth.fonts import FontBook
from synth.pages import DocumentRenderer
from synth.records import Annotation, PageSample

PHOTO_ASPECT = 4 / 3
LINE_EDGE_POINTS = 6  # points along each long edge of a line polygon (the curl bends lines)


def _rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """3x3 rotation from angles in degrees (x, then y, then z axis)."""
    a, b, c = np.deg2rad([pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def camera_quad(page_w: int, page_h: int, photo_w: int, photo_h: int, rng: np.random.Generator,
                max_tilt: float, max_roll: float, fill: tuple[float, float]) -> np.ndarray:
    """Where a pinhole camera sees a page's corners: tilted up to ``max_tilt`` degrees,
    turned up to ``max_roll`` in the image plane, the page spanning ``fill`` (a range) of
    the photo's limiting side, anywhere inside it. Returns (4, 2) TL, TR, BR, BL."""
    aspect = page_w / page_h
    corners = np.array([[-aspect, -1, 0], [aspect, -1, 0], [aspect, 1, 0], [-aspect, 1, 0]])
    tilt = rng.uniform(0, max_tilt)
    direction = rng.uniform(0, 2 * np.pi)
    rot = _rotation(tilt * np.cos(direction), tilt * np.sin(direction),
                    rng.uniform(-max_roll, max_roll))
    focal = rng.uniform(1.6, 3.0)  # phone main cameras: ~26-28 mm equivalent and nearer
    pts = corners @ rot.T + [0, 0, focal * 1.6]
    quad = focal * pts[:, :2] / pts[:, 2:3]
    quad -= quad.min(0)
    span = quad.max(0)
    scale = rng.uniform(*fill) * min(photo_w / span[0], photo_h / span[1])
    quad *= scale
    room = np.array([photo_w, photo_h]) - quad.max(0) - 4
    quad += 2 + rng.uniform(0, 1, 2) * np.maximum(room, 0)
    return quad


def _table(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A surface: plain, wood-grain-like stripes or a light desk (page-like, hard case)."""
    kind = rng.random()
    low, high = (170, 235) if kind < 0.2 else (30, 200)  # a light desk: low contrast
    color = tuple(rng.uniform(low, high, 3))
    small = degrade.paper(max(2, h // 4), max(2, w // 4), rng, color=color,
                          texture=rng.uniform(1, 3))
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if 0.2 <= kind < 0.55:  # grain
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        t = rng.uniform(0, np.pi)
        u = xs * np.cos(t) + ys * np.sin(t)
        wobble = degrade.smooth_noise(h, w, rng, cells=4) * rng.uniform(10, 40)
        grain = np.sin((u + wobble) * 2 * np.pi / rng.uniform(8, 40))
        img += (grain * rng.uniform(5, 18))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _clutter(img: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Things on the table: boxes, round things, pens (in place)."""
    h, w = img.shape[:2]
    for _ in range(count):
        color = tuple(float(c) for c in rng.uniform(0, 255, 3))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        size = rng.uniform(0.04, 0.25) * max(h, w)
        shape = rng.random()
        if shape < 0.4:
            box = ((cx, cy), (size, size * rng.uniform(0.3, 1)), rng.uniform(0, 180))
            pts = cv2.boxPoints(box).astype(np.int32)
            cv2.fillConvexPoly(img, pts, color, cv2.LINE_AA)
        elif shape < 0.7:
            cv2.ellipse(img, (int(cx), int(cy)), (int(size / 2), int(size / 2 * rng.uniform(
                0.5, 1))), rng.uniform(0, 180), 0, 360, color, -1, cv2.LINE_AA)
        else:  # a pen
            t = rng.uniform(0, np.pi)
            d = np.array([np.cos(t), np.sin(t)]) * size
            cv2.line(img, (int(cx - d[0]), int(cy - d[1])), (int(cx + d[0]), int(cy + d[1])),
                     color, max(2, int(size * 0.06)), cv2.LINE_AA)


def _other_sheet(img: np.ndarray, rng: np.random.Generator) -> None:
    """Another sheet of paper on the table, with grey bars of 'text' (in place)."""
    h, w = img.shape[:2]
    sw, sh = rng.uniform(0.25, 0.6) * w, rng.uniform(0.25, 0.6) * h
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    box = ((cx, cy), (sw, sh), rng.uniform(0, 180))
    pts = cv2.boxPoints(box).astype(np.int32)
    tone = rng.uniform(200, 250)
    cv2.fillConvexPoly(img, pts, (tone, tone, tone * rng.uniform(0.95, 1)), cv2.LINE_AA)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, pts, 1)
    t = np.deg2rad(box[2])
    along, across = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
    bars = np.zeros((h, w), np.uint8)
    step = rng.uniform(0.012, 0.03) * max(h, w)
    for k in np.arange(-sh / 2 + step, sh / 2 - step, step):
        length = sw * rng.uniform(0.4, 0.85)
        a = np.array([cx, cy]) + across * k - along * sw * 0.42
        b = a + along * length
        cv2.line(bars, tuple(int(v) for v in a), tuple(int(v) for v in b), 1,
                 max(1, int(step * 0.35)))
    img[(bars > 0) & (mask > 0)] = (np.asarray(img[(bars > 0) & (mask > 0)], np.float32)
                                    * rng.uniform(0.3, 0.7)).astype(np.uint8)


def _shadow(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft shadow (a hand or a phone) over part of the photo."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    pts = (rng.uniform(-0.3, 1.3, (int(rng.integers(3, 6)), 2)) * [w, h]).astype(np.int32)
    cv2.fillPoly(mask, [cv2.convexHull(pts)], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.01, 0.06) * max(h, w))
    gain = 1 - rng.uniform(0.2, 0.55) * mask
    return np.clip(img.astype(np.float32) * gain[..., None], 0, 255).astype(np.uint8)


def _moire(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Faint near-Nyquist interference fringes, as from photographing a screen or a fine
    print raster."""
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    f = rng.uniform(0.3, 0.48)
    t = rng.uniform(0, np.pi)
    wave = np.cos(2 * np.pi * f * (xs * np.cos(t) + ys * np.sin(t)))
    return np.clip(img + (wave * rng.uniform(2, 7))[..., None], 0, 255).astype(np.uint8)


class PhotoWarp:
    """Page pixels -> photo pixels: a curl (a vertical bow along the page's width, zero at
    the corners) then a homography.

    Args:
        homography: 3x3, curled page -> photo.
        page_size: ``(w, h)`` of the flat page.
        bow: the curl's largest vertical shift in page pixels (at mid-width).
    """

    def __init__(self, homography: np.ndarray, page_size: tuple[int, int], bow: float):
        self.h = homography
        self.w_page, self.h_page = page_size
        self.bow = bow

    def _shift(self, x: np.ndarray) -> np.ndarray:
        return self.bow * np.sin(np.pi * np.clip(x / self.w_page, 0, 1))

    def points(self, pts: np.ndarray) -> np.ndarray:
        """(N, 2) page points in the photo."""
        pts = np.asarray(pts, np.float64).copy()
        pts[:, 1] += self._shift(pts[:, 0])
        return degrade.warp_points(pts, self.h)

    def maps(self, photo_w: int, photo_h: int) -> tuple[np.ndarray, np.ndarray]:
        """``cv2.remap`` maps: for each photo pixel, where it lies on the flat page."""
        ys, xs = np.mgrid[0:photo_h, 0:photo_w].astype(np.float32)
        inv = np.linalg.inv(self.h)
        den = inv[2, 0] * xs + inv[2, 1] * ys + inv[2, 2]
        px = (inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]) / den
        py = (inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]) / den
        return px.astype(np.float32), (py - self._shift(px)).astype(np.float32)


def _densified(quad: np.ndarray, n: int) -> np.ndarray:
    """A quad's top and bottom edges as ``n`` points each, clockwise from top-left."""
    t = np.linspace(0, 1, n)[:, None]
    top = quad[0] + (quad[1] - quad[0]) * t
    bottom = quad[2] + (quad[3] - quad[2]) * t
    return np.vstack([top, bottom])


class PagePhotoRenderer(Renderer):
    """Phone photos of printed pages on a table, with the page's corners labelled.

    Args:
        fonts: font catalogue.
        long_side: the photo's long side in pixels (4:3, portrait or landscape).
        max_tilt: the camera's largest tilt from straight above, in degrees.
        max_roll: the page's largest turn in the image plane, in degrees.
        fill: range of the share of the photo's limiting side the page spans.
        text_scale: body text size, as :class:`~synth.pages.DocumentRenderer`'s.
    """

    output = "coco"
    categories = ("word", "line", "page")

    def __init__(self, fonts: FontBook | None = None, long_side: int = 2048,
                 max_tilt: float = 40.0, max_roll: float = 25.0,
                 fill: tuple[float, float] = (0.55, 0.97), text_scale: float = 1.0) -> None:
        if not 0 <= max_tilt < 75:
            raise ValueError(f"max_tilt must be in [0, 75) degrees, got {max_tilt}")
        if not 0 < fill[0] <= fill[1] <= 1:
            raise ValueError(f"fill must be a range inside (0, 1], got {fill}")
        self.long_side = long_side
        self.max_tilt = max_tilt
        self.max_roll = max_roll
        self.fill = fill
        self.pages = DocumentRenderer(fonts=fonts, long_side=long_side, text_scale=text_scale,
                                      bilevel_prob=1.0)

    def _photo_size(self, rng: np.random.Generator) -> tuple[int, int]:
        short = int(round(self.long_side / PHOTO_ASPECT))
        return (short, self.long_side) if rng.random() < 0.7 else (self.long_side, short)

    def render(self, rng: np.random.Generator) -> PageSample:
        photo_w, photo_h = self._photo_size(rng)
        # the page is drawn about as large as it will look, so text keeps its resolution
        self.pages.long_side = int(max(photo_w, photo_h) * rng.uniform(0.7, 0.95))
        flat = self.pages.render(rng)
        ph, pw = flat.image.shape[:2]
        ink = flat.image[..., 0] < 128
        paper = degrade.paper(ph, pw, rng, texture=rng.uniform(0.2, 0.8))
        color = degrade.ink_color(rng)
        page = np.where(ink[..., None], color.astype(np.uint8), paper)
        page = degrade.blur(page, rng.uniform(0.4, 0.8))

        quad = camera_quad(pw, ph, photo_w, photo_h, rng, self.max_tilt, self.max_roll,
                           self.fill)
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        homography = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
        bow = rng.uniform(-0.015, 0.015) * ph if rng.random() < 0.5 else 0.0
        warp = PhotoWarp(homography, (pw, ph), bow)

        image = _table(photo_h, photo_w, rng)
        _clutter(image, rng, int(rng.integers(0, 5)))
        if rng.random() < 0.35:
            _other_sheet(image, rng)
        mx, my = warp.maps(photo_w, photo_h)
        on_page = cv2.remap(page, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        cover = cv2.remap(np.full((ph, pw), 255, np.uint8), mx, my, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        a = cover.astype(np.float32)[..., None] / 255
        image = (on_page * a + image * (1 - a)).astype(np.uint8)
        ink_map = cv2.remap(flat.ink, mx, my, cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        if rng.random() < 0.15:  # a pen lying across the page
            _clutter(image, rng, 1)

        image = degrade.shading(image, rng, strength=rng.uniform(0.1, 0.5))
        if rng.random() < 0.4:
            image = _shadow(image, rng)
        if rng.random() < 0.2:
            image = _moire(image, rng)
        image = degrade.blur(image, rng.uniform(0, 1.2))
        image = degrade.gaussian_noise(image, rng, rng.uniform(1, 6))
        image = degrade.jpeg(image, int(rng.integers(45, 92)))

        limit = np.array([photo_w - 1, photo_h - 1], float)
        annotations = []
        for a in flat.annotations:
            poly = _densified(a.polygon, LINE_EDGE_POINTS) if a.category == "line" \
                else a.polygon
            annotations.append(Annotation(a.category, np.clip(warp.points(poly), 0, limit),
                                          a.text, dict(a.attributes), a.ink_id))
        annotations.append(Annotation("page", np.clip(warp.points(src), 0, limit), ""))
        return PageSample(image=image, annotations=annotations, ink=ink_map)

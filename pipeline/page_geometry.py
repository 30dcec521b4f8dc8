"""Finding a page in a photo, warping it upright, and mapping points back.

Classic image processing on a small copy of the photo (no model): the page is the large,
bright, unsaturated, four-cornered region that stands out from what is around it.

1. Candidate regions: the pixels brighter and less saturated than the photo's Otsu level of
   "paperness" (value minus saturation), and the regions closed by strong edges (Canny),
   each opened a little so a page is cut from things it only touches.
2. Each region's convex hull is simplified to four corners, then every side is refitted as a
   straight line through the hull's points along it (corners cut off by the simplification
   or rounded by a curl come back where the sides meet).
3. Each side is snapped onto the strongest bright-to-dark step across it in the image.
4. A candidate is kept when the quadrilateral covers its region well (``min_fit``, IoU), is
   large enough (``min_area``), brighter inside than in a band just outside
   (``min_contrast``) and steps from bright to dark along enough of each side
   (``min_support``); the best by fit times the square root of its area wins.
5. A page that already fills the image (a scan, a crop: quad over ``max_area``, or all four
   corners on the image's border) gives no quad: the image is read as it is.

Every threshold is a setting of :class:`pipeline.presets.PageGeometryConfig`, chosen on the
tune part of the synthetic page photos (``bench/bench_page_geometry.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.geometry import order_quad, upright_homography
from pipeline.presets import PageGeometryConfig


@dataclass(frozen=True)
class PageWarp:
    """A page found in an image and how it is warped upright.

    Attributes:
        quad: (4, 2) corners in the image's pixels: top-left, top-right, bottom-right,
            bottom-left of the page as it lies in the image (reading order of a page turned
            less than 45 degrees).
        matrix: 3x3 homography, image pixels -> upright page pixels.
        size: ``(width, height)`` of the upright page.
        score: the finder's score (fit times the square root of the area share).
    """

    quad: np.ndarray
    matrix: np.ndarray
    size: tuple[int, int]
    score: float = 1.0

    @classmethod
    def from_quad(cls, quad: np.ndarray, score: float = 1.0) -> PageWarp:
        """The warp that maps ``quad`` (ordered as :attr:`quad`) onto an upright rectangle
        as long as its longer opposite sides (no detail is lost)."""
        q = np.asarray(quad, np.float64).reshape(4, 2)
        matrix, size = upright_homography(q)
        return cls(quad=q, matrix=matrix, size=size, score=score)

    def rectify(self, image: np.ndarray) -> np.ndarray:
        """The page warped upright (``size``), from the full-resolution image."""
        return cv2.warpPerspective(image, self.matrix, self.size, flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) points of the upright page in the image's pixels."""
        pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
        if not len(pts):
            return pts.reshape(0, 2)
        inv = np.linalg.inv(self.matrix)
        return cv2.perspectiveTransform(pts, inv).reshape(-1, 2)


def paperness(image: np.ndarray) -> np.ndarray:
    """Value minus saturation (HSV) as ``uint8``: high on white or grey paper, low on dark
    or coloured things."""
    if image.ndim == 2:
        return image
    hsv = cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2HSV)
    return cv2.subtract(hsv[:, :, 2], hsv[:, :, 1])


def _candidate_masks(paper: np.ndarray) -> list[np.ndarray]:
    """Binary masks whose outer contours may be the page.

    Text, rules and pens are thin dark strokes on the paper: a grey closing as wide as
    ``k`` (about a line of body text at the working size) fills them with the paper
    around, so that edges left are those of sheets and things on the table."""
    side = max(paper.shape)
    k = max(3, int(side * 0.012)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    plain = cv2.GaussianBlur(cv2.morphologyEx(paper, cv2.MORPH_CLOSE, kernel), (5, 5), 0)
    _, bright = cv2.threshold(plain, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, kernel)
    median = float(np.median(plain))
    edges = cv2.Canny(plain, 0.4 * median + 10, 0.8 * median + 30)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    closed = np.zeros_like(edges)
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(closed, contours, -1, 255, thickness=cv2.FILLED)
    closed = cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel)
    # bright regions cut along weaker edges too: a page lying on another sheet is cut
    # from it along their small step in brightness
    weak = cv2.dilate(cv2.Canny(plain, 10, 30), np.ones((3, 3), np.uint8))
    cut = cv2.bitwise_and(bright, cv2.bitwise_not(weak))
    cut = cv2.morphologyEx(cut, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return [bright, closed, cut]


def _line_through(points: np.ndarray) -> np.ndarray:
    """``(vx, vy, x0, y0)`` of the least-squares line through points (robust, Huber)."""
    return cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).reshape(4)


def _meet(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Where two ``(vx, vy, x0, y0)`` lines cross; ``None`` when nearly parallel."""
    d1, p1, d2, p2 = a[:2], a[2:], b[:2], b[2:]
    den = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(den) < 1e-3:
        return None
    t = ((p2[0] - p1[0]) * d2[1] - (p2[1] - p1[1]) * d2[0]) / den
    return p1 + t * d1


def _refit_sides(quad: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Corners where straight lines through the outline's points along each side meet."""
    pts = outline.reshape(-1, 2).astype(np.float64)
    # densify the outline so that long straight runs weigh by their length
    nxt = np.roll(pts, -1, axis=0)
    steps = np.maximum(1, (np.linalg.norm(nxt - pts, axis=1) / 2).astype(int))
    dense = np.vstack([p + (n - p) * (np.arange(s)[:, None] / s)
                       for p, n, s in zip(pts, nxt, steps, strict=True)])
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        ab = b - a
        length = np.linalg.norm(ab)
        if length < 4:
            return quad
        t = (dense - a) @ ab / length ** 2
        rel = dense - a
        dist = np.abs(ab[0] * rel[:, 1] - ab[1] * rel[:, 0]) / length
        near = dense[(t > 0.1) & (t < 0.9) & (dist < max(3.0, 0.03 * length))]
        if len(near) < 5:
            return quad
        lines.append(_line_through(near))
    corners = [_meet(lines[i - 1], lines[i]) for i in range(4)]
    if any(c is None for c in corners):
        return quad
    out = np.array(corners)
    # a refit that moves a corner far is a bad fit (a side bent by a curl or an object)
    if np.abs(out - quad).max() > 0.1 * np.linalg.norm(quad[2] - quad[0]):
        return quad
    return out


def _snap_sides(paper: np.ndarray, quad: np.ndarray, reach: float
                ) -> tuple[np.ndarray, float]:
    """Each side moved onto the strongest bright-to-dark step across it (within ``reach``
    pixels either way; sub-pixel, bilinear), then the corners recomputed where the sides
    meet. The masks' outlines lie a pixel or two off the page's edge (blurs, dilated
    edges); the step in the image itself does not.

    Returns:
        The corners, and the support of the worst side: the share of its samples with a
        step at least half its strongest (a side that bridges two sheets has few)."""
    h, w = paper.shape[:2]
    centre = quad.mean(axis=0)
    offsets = np.arange(-reach, reach + 0.25, 0.5, dtype=np.float32)
    lines, support = [], []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        along = b - a
        length = float(np.linalg.norm(along))
        if length < 8:
            return quad, 0.0
        normal = np.array([along[1], -along[0]]) / length
        if normal @ (a - centre) < 0:  # outward
            normal = -normal
        t = np.linspace(0.1, 0.9, 24)[:, None]
        base = a + along * t  # (24, 2)
        pts = base[:, None, :] + offsets[None, :, None] * normal  # (24, K, 2)
        profile = cv2.remap(paper, pts[..., 0].astype(np.float32),
                            pts[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
        step = profile[:, :-2] - profile[:, 2:]  # inside minus outside
        k = np.argmax(step, axis=1)
        strong = step[np.arange(len(k)), k] > 0.5 * step.max()
        inside = ((pts[:, 0, 0] >= 0) & (pts[:, 0, 0] < w) & (pts[:, 0, 1] >= 0)
                  & (pts[:, 0, 1] < h))
        keep = strong & inside
        support.append(float(keep.mean()))
        if keep.sum() < 6:
            return quad, 0.0
        found = base[keep] + (offsets[k[keep] + 1])[:, None] * normal
        lines.append(_line_through(found))
    corners = [_meet(lines[i - 1], lines[i]) for i in range(4)]
    if any(c is None for c in corners):
        return quad, 0.0
    out = np.array(corners)
    if np.abs(out - quad).max() > 2 * reach:
        return quad, 0.0
    return out, min(support)


def _four_corners(contour: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.07):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            quad = order_quad(approx.reshape(4, 2).astype(np.float64))
            return _refit_sides(quad, hull)
        if len(approx) < 4:
            return None
    return None


def _fill(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask


def _contrast(paper: np.ndarray, quad: np.ndarray) -> float:
    """Mean paperness in a band just inside the quad less that in a band just outside."""
    shape = paper.shape[:2]
    inside = _fill(shape, quad)
    k = max(3, int(max(shape) * 0.02)) | 1
    kernel = np.ones((k, k), np.uint8)
    inner = inside & ~cv2.erode(inside, kernel).astype(bool)
    outer = cv2.dilate(inside, kernel).astype(bool) & ~inside.astype(bool)
    if not inner.any() or not outer.any():
        return 0.0
    return float(paper[inner.astype(bool)].mean() - paper[outer].mean())


def find_page(image: np.ndarray, settings: PageGeometryConfig | None = None
              ) -> PageWarp | None:
    """The page in a photo, or ``None`` when there is no clear one or the image already is
    the page (a scan or a crop).

    Args:
        image: RGB (or grey) ``uint8`` image.
        settings: thresholds (``enabled`` is not looked at); default the shipped ones.

    Returns:
        A :class:`PageWarp` whose ``quad`` is in ``image``'s pixels, or ``None``.
    """
    s = settings or PageGeometryConfig()
    h, w = image.shape[:2]
    if min(h, w) < 32:
        return None
    scale = min(1.0, s.side / max(h, w))
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else image
    paper = paperness(small)
    smooth = cv2.GaussianBlur(paper, (3, 3), 0).astype(np.float32)
    sh, sw = paper.shape[:2]
    reach = max(2.0, 0.02 * max(sh, sw))
    total = float(sh * sw)
    best: tuple[float, np.ndarray] | None = None
    for mask in _candidate_masks(paper):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            area = cv2.contourArea(contour)
            if area < s.min_area * total:
                continue
            quad = _four_corners(contour)
            if quad is None:
                continue
            quad, support = _snap_sides(smooth, quad, reach)
            if not cv2.isContourConvex(quad.astype(np.float32)):
                continue
            quad_area = cv2.contourArea(quad.astype(np.float32))
            if quad_area < s.min_area * total:
                continue
            region = _fill((sh, sw), contour)
            box = _fill((sh, sw), quad)
            union = np.count_nonzero(region | box)
            fit = np.count_nonzero(region & box) / max(union, 1)
            if fit < s.min_fit or _contrast(paper, quad) < s.min_contrast:
                continue
            if support < s.min_support:
                continue
            score = fit * np.sqrt(quad_area / total)
            if best is None or score > best[0]:
                best = (score, quad)
    if best is None:
        return None
    score, quad = best
    # small-image pixel centres -> full-image pixel centres
    quad = (np.clip(quad, 0, [sw, sh]) + 0.5) / scale - 0.5
    if cv2.contourArea(quad.astype(np.float32)) > s.max_area * h * w:
        return None
    margin = s.border * max(h, w)
    on_border = ((quad[:, 0] < margin) | (quad[:, 0] > w - margin)
                 | (quad[:, 1] < margin) | (quad[:, 1] > h - margin))
    if on_border.all():
        return None
    return PageWarp.from_quad(quad, float(score))

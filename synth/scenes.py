"""Car scenes with licence plates: procedural street backgrounds, car fronts, warped plates.

COCO output with one category, ``plate``; ``attributes.translation`` is the plate text and
``attributes.region`` its region code.
"""

from __future__ import annotations

import cv2
import numpy as np

from synth import degrade
from synth.base import Renderer
from synth.fonts import FontBook
from synth.plates import PlateArt, PlateDesigner
from synth.records import Annotation, PageSample

CAR_COLORS = ((200, 200, 205), (30, 30, 35), (150, 20, 25), (20, 40, 110), (230, 230, 230),
              (110, 110, 115), (60, 90, 60), (200, 170, 40), (90, 60, 40), (170, 175, 180))


def _color(rng: np.random.Generator, base: tuple[int, ...], jitter: float = 15) -> tuple:
    return tuple(int(np.clip(c + rng.uniform(-jitter, jitter), 0, 255)) for c in base)


def street_background(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """Sky, buildings or trees, and a road, with low-frequency texture."""
    img = np.empty((h, w, 3), np.uint8)
    horizon = int(h * rng.uniform(0.25, 0.55))
    t = np.linspace(0, 1, horizon, dtype=np.float32)[:, None, None]
    sky_top = np.array(_color(rng, (120, 160, 215), 40), np.float32)
    sky_bot = np.array(_color(rng, (210, 220, 230), 25), np.float32)
    img[:horizon] = ((1 - t) * sky_top + t * sky_bot).astype(np.uint8)
    road = np.array(_color(rng, (95, 95, 100), 30), np.float32)
    t2 = np.linspace(0, 1, h - horizon, dtype=np.float32)[:, None, None]
    img[horizon:] = (road * (0.9 + 0.2 * t2)).clip(0, 255).astype(np.uint8)
    x = 0
    while x < w:  # buildings / hedges along the horizon
        bw = int(w * rng.uniform(0.08, 0.25))
        bh = int(horizon * rng.uniform(0.3, 0.95))
        col = _color(rng, (150, 140, 130), 60) if rng.random() < 0.7 else _color(rng, (50, 100, 50))
        cv2.rectangle(img, (x, horizon - bh), (x + bw, horizon), col, -1)
        if rng.random() < 0.6:
            win = tuple(int(c * 0.6) for c in col)
            step = max(8, bw // 5)
            for wx in range(x + step // 2, x + bw - step // 2, step):
                for wy in range(horizon - bh + step // 2, horizon - step // 2, step):
                    cv2.rectangle(img, (wx, wy), (wx + step // 3, wy + step // 3), win, -1)
        x += bw + int(w * rng.uniform(0, 0.05))
    for _ in range(int(rng.integers(0, 4))):  # lane markings
        y = int(rng.uniform(horizon + 10, h - 5))
        x0 = int(rng.uniform(0, w))
        cv2.line(img, (x0, y), (x0 + int(w * rng.uniform(0.05, 0.2)), y), (220, 220, 210),
                 max(2, h // 150), cv2.LINE_AA)
    texture = degrade.smooth_noise(h, w, rng, cells=12) * rng.uniform(5, 20)
    out = img.astype(np.float32) + texture[..., None]
    out += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(3)
    return out.clip(0, 255).astype(np.uint8)


def draw_car_front(img: np.ndarray, box: tuple[int, int, int, int],
                   rng: np.random.Generator) -> tuple[float, float]:
    """Paint a car seen from the front in ``box`` (x, y, w, h).

    Returns:
        (x, y) of the bumper centre, where the plate goes.
    """
    x, y, w, h = box
    body = _color(rng, CAR_COLORS[int(rng.integers(len(CAR_COLORS)))])
    dark = tuple(int(c * 0.55) for c in body)
    aa = cv2.LINE_AA
    cv2.ellipse(img, (x + w // 2, y + h), (int(w * 0.55), max(3, h // 14)), 0, 0, 360,
                (25, 25, 25), -1, aa)  # shadow
    for wx in (x + int(w * 0.08), x + int(w * 0.78)):  # wheels
        cv2.rectangle(img, (wx, y + int(h * 0.8)), (wx + int(w * 0.14), y + h), (20, 20, 20), -1)
    roof = np.array([[x + w * 0.2, y], [x + w * 0.8, y], [x + w * 0.92, y + h * 0.42],
                     [x + w * 0.08, y + h * 0.42]], np.int32)
    cv2.fillPoly(img, [roof], body, aa)
    glass = np.array([[x + w * 0.24, y + h * 0.05], [x + w * 0.76, y + h * 0.05],
                      [x + w * 0.86, y + h * 0.38], [x + w * 0.14, y + h * 0.38]], np.int32)
    cv2.fillPoly(img, [glass], _color(rng, (70, 85, 100), 20), aa)
    cv2.rectangle(img, (x, y + int(h * 0.4)), (x + w, y + int(h * 0.88)), body, -1, aa)
    light = _color(rng, (235, 235, 215), 15)
    for lx in (x + int(w * 0.04), x + int(w * 0.76)):
        cv2.rectangle(img, (lx, y + int(h * 0.47)), (lx + int(w * 0.2), y + int(h * 0.58)),
                      light, -1, aa)
    cv2.rectangle(img, (x + int(w * 0.3), y + int(h * 0.47)), (x + int(w * 0.7), y + int(h * 0.6)),
                  dark, -1, aa)  # grille
    cv2.rectangle(img, (x, y + int(h * 0.66)), (x + w, y + int(h * 0.88)), dark, -1, aa)
    return x + w / 2, y + h * 0.77


class PlateSceneRenderer(Renderer):
    """Street scenes with one or two cars and their plates.

    Args:
        fonts: font catalogue.
        long_side: image long side in pixels.
        max_cars: most cars per scene.
        max_roll: largest in-plane turn of a plate, degrees (a car parked on a slope, a
            camera held askew; CCPD's tilted photos reach 40).
    """

    output = "coco"
    categories = ("plate",)

    def __init__(self, fonts: FontBook | None = None, long_side: int = 1280,
                 max_cars: int = 2, max_roll: float = 8.0) -> None:
        self.designer = PlateDesigner(fonts)
        self.long_side = long_side
        self.max_cars = max_cars
        self.max_roll = max_roll

    def render(self, rng: np.random.Generator) -> PageSample:
        aspect = (4 / 3, 16 / 9, 3 / 4)[int(rng.choice(3, p=[0.5, 0.35, 0.15]))]
        if aspect >= 1:
            w, h = self.long_side, int(round(self.long_side / aspect))
        else:
            w, h = int(round(self.long_side * aspect)), self.long_side
        img = street_background(w, h, rng)
        ink = np.zeros((h, w), np.int32)
        n_cars = int(rng.integers(1, self.max_cars + 1))
        slot = w / n_cars
        annotations = []
        for k in range(n_cars):
            cw = int(slot * rng.uniform(0.55, 0.9))
            ch = int(cw * rng.uniform(0.6, 0.8))
            ch = min(ch, int(h * 0.9))
            cx = int(k * slot + rng.uniform(0, slot - cw))
            cy = int(rng.uniform(h * 0.05, max(h * 0.05 + 1, h - ch - 2)))
            px, py = draw_car_front(img, (cx, cy, cw, ch), rng)
            art = self.designer.draw(rng)
            quad = self._place(art, px, py, cw, w, h, rng)
            if quad is None:
                continue
            paste_plate(img, ink, art, quad, len(annotations) + 1)
            annotations.append(Annotation("plate", quad, art.text, {"region": art.region},
                                          ink_id=len(annotations) + 1))
        img = degrade.shading(img, rng, strength=rng.uniform(0.05, 0.35))
        img = degrade.blur(img, rng.uniform(0, 1.2))
        img = degrade.gaussian_noise(img, rng, rng.uniform(0, 5))
        return PageSample(image=img, annotations=annotations, ink=ink)

    def _place(self, art: PlateArt, px: float, py: float, car_w: int, w: int, h: int,
               rng: np.random.Generator) -> np.ndarray | None:
        ah, aw = art.image.shape[:2]
        width = car_w * (rng.uniform(0.16, 0.22) if art.two_row else rng.uniform(0.22, 0.32))
        height = width * ah / aw
        rect = np.array([[-width / 2, -height / 2], [width / 2, -height / 2],
                         [width / 2, height / 2], [-width / 2, height / 2]])
        t = np.deg2rad(rng.uniform(-self.max_roll, self.max_roll))
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        quad = rect @ rot.T
        # perspective: one side a bit shorter (car seen at an angle)
        side = rng.uniform(-0.12, 0.12)
        quad[[1, 2], 1] *= 1 - side
        quad[[0, 3], 1] *= 1 + side
        quad += rng.uniform(-0.04, 0.04, (4, 2)) * [width, height]
        quad += [px, py]
        lo, hi = quad.min(0), quad.max(0)
        shift = np.maximum(0, 1 - lo) - np.maximum(0, hi - np.array([w - 2, h - 2]))
        quad = quad + shift
        if quad.min() < 0 or (quad.max(0) > [w - 1, h - 1]).any() or width < 12:
            return None
        return quad


def paste_plate(img: np.ndarray, ink: np.ndarray, art: PlateArt, quad: np.ndarray,
                ink_id: int) -> None:
    """Warp ``art`` onto ``quad`` of ``img``; its characters' pixels get ``ink_id`` in ``ink``."""
    ah, aw = art.image.shape[:2]
    x0, y0 = np.floor(quad.min(0)).astype(int)
    x1, y1 = np.ceil(quad.max(0)).astype(int) + 1
    src = np.array([[0, 0], [aw, 0], [aw, ah], [0, ah]], np.float32)
    m = cv2.getPerspectiveTransform(src, (quad - [x0, y0]).astype(np.float32))
    size = (x1 - x0, y1 - y0)
    plate = cv2.warpPerspective(art.image, m, size, flags=cv2.INTER_AREA)
    alpha = cv2.warpPerspective(np.full((ah, aw), 255, np.uint8), m, size,
                                flags=cv2.INTER_AREA)
    chars = cv2.warpPerspective(art.ink, m, size, flags=cv2.INTER_AREA)
    a = alpha.astype(np.float32)[..., None] / 255
    region = img[y0:y1, x0:x1]
    region[:] = (region * (1 - a) + plate * a).astype(np.uint8)
    ink[y0:y1, x0:x1][chars > 60] = ink_id

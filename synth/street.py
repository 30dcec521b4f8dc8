"""Street scenes with small plates: several cars at several depths, hard looks, distractor text.

The close-up scenes of :mod:`synth.scenes` put one or two plates at 20-35 % of the image
width. Real street and parking-lot photos have plates at 1.5-10 % of the width (a 25-pixel
plate in a 1280×720 frame), seen at an angle, at night or under infrared light, blurred,
rained on, dirty, partly hidden, and surrounded by text that is not a plate: shop signs,
phone numbers on vans, badges on cars, dealer frames round the plate. This renderer draws
those, so a detector learns to find small plates and to leave the other text alone.

COCO output with one category, ``plate`` (same attributes as :mod:`synth.scenes`); some scenes
have no car at all (negatives: text, no plate).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from synth import degrade
from synth.base import Renderer
from synth.fonts import FontBook, FontFace
from synth.plates import PlateArt, PlateDesigner
from synth.records import Annotation, PageSample
from synth.scenes import draw_car_front, paste_plate, street_background

SIGN_WORDS = ("PHARMACY", "OPEN 24H", "CAFE", "BAKERY", "SALE -50%", "PARKING", "HOTEL",
              "BANK", "PIZZA", "TAXI", "STOP", "EXIT", "АПТЕКА", "КАФЕ", "ПРОДУКТЫ",
              "ШИНОМОНТАЖ", "МАГАЗИН", "ООО ВЕКТОР", "СТО 24", "AUTO SERVICE", "CAR WASH",
              "BUS ONLY", "ONE WAY", "NO PARKING", "30", "P", "M", "DENTIST", "7-ELEVEN")
BADGES = ("GTI", "TDI", "1.6", "4MOTION", "HYBRID", "AMG", "XDRIVE", "LADA", "ГАЗЕЛЬ", "V6",
          "TURBO", "SPORT", "2.0T", "ECO", "AWD")
DEALERS = ("AUTOHAUS", "MOTORS", "CARS.COM", "АВТОМИР", "AUTO CENTER", "DEALER 555-0142")


def _phone(rng: np.random.Generator) -> str:
    d = "".join(str(int(x)) for x in rng.integers(0, 10, 10))
    forms = (f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}", f"({d[:3]}) {d[3:6]}-{d[6:]}",
             f"8 800 {d[3:6]} {d[6:8]} {d[8:]}", f"{d[:3]}.{d[3:6]}.{d[6:]}",
             f"TEL {d[:4]} {d[4:]}")
    return forms[int(rng.integers(len(forms)))]


def draw_text(img: np.ndarray, text: str, box: tuple[int, int, int, int], face: FontFace,
              color: tuple[int, ...], background: tuple[int, ...] | None = None) -> None:
    """Write ``text`` fitted into ``box`` (x, y, w, h) of ``img``, on ``background`` if given."""
    x, y, w, h = (int(v) for v in box)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(img.shape[1], x + w), min(img.shape[0], y + h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    if background is not None:
        cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), background, -1)
    font = face.pil(64)
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (max(1, right - left + 8), max(1, bottom - top + 8)), 0)
    ImageDraw.Draw(mask).text((4 - left, 4 - top), text, font=font, fill=255)
    m = np.asarray(mask, np.float32)
    tw, th = int(w * 0.9), int(h * 0.8)
    scale = min(tw / m.shape[1], th / m.shape[0])
    mw, mh = max(1, int(m.shape[1] * scale)), max(1, int(m.shape[0] * scale))
    m = cv2.resize(m, (mw, mh), interpolation=cv2.INTER_AREA) / 255.0
    ox, oy = x + (w - mw) // 2, y + (h - mh) // 2
    sx0, sy0 = max(0, -ox), max(0, -oy)
    ox, oy = max(0, ox), max(0, oy)
    mw, mh = min(mw - sx0, img.shape[1] - ox), min(mh - sy0, img.shape[0] - oy)
    if mw <= 0 or mh <= 0:
        return
    a = m[sy0:sy0 + mh, sx0:sx0 + mw, None]
    region = img[oy:oy + mh, ox:ox + mw].astype(np.float32)
    img[oy:oy + mh, ox:ox + mw] = (region * (1 - a) + np.array(color, np.float32) * a).astype(
        np.uint8)


class StreetSceneRenderer(Renderer):
    """Street and parking scenes with up to ``max_cars`` cars and small plates.

    Args:
        fonts: font catalogue.
        long_side: image long side in pixels.
        max_cars: most cars per scene.
        plate_width: (min, max) plate width as a share of the image width (log-uniform).
        max_yaw: largest turn of a plate away from the camera, degrees.
        empty_prob: share of scenes with no car (text only: negatives).
    """

    output = "coco"
    categories = ("plate",)

    def __init__(self, fonts: FontBook | None = None, long_side: int = 1280, max_cars: int = 6,
                 plate_width: tuple[float, float] = (0.015, 0.10), max_yaw: float = 45.0,
                 empty_prob: float = 0.1) -> None:
        self.designer = PlateDesigner(fonts)
        self.fonts = self.designer.fonts
        self.long_side = long_side
        self.max_cars = max_cars
        self.plate_width = plate_width
        self.max_yaw = max_yaw
        self.empty_prob = empty_prob

    def _face(self, rng: np.random.Generator, text: str) -> FontFace | None:
        script = "cyrillic" if any("А" <= c <= "я" for c in text) else "latin"
        return self.fonts.pick(rng, ("sans", "serif"), script, text)

    def _write(self, img: np.ndarray, rng: np.random.Generator, text: str,
               box: tuple[int, int, int, int], color: tuple[int, ...],
               background: tuple[int, ...] | None = None) -> None:
        face = self._face(rng, text)
        if face is not None:
            draw_text(img, text, box, face, color, background)

    def render(self, rng: np.random.Generator) -> PageSample:
        aspect = (16 / 9, 4 / 3, 3 / 4)[int(rng.choice(3, p=[0.6, 0.3, 0.1]))]
        if aspect >= 1:
            w, h = self.long_side, int(round(self.long_side / aspect))
        else:
            w, h = int(round(self.long_side * aspect)), self.long_side
        img = street_background(w, h, rng)
        ink = np.zeros((h, w), np.int32)
        horizon = int(h * 0.4)
        self._signs(img, rng, w, horizon)
        look = str(rng.choice(["day", "night", "ir"], p=[0.7, 0.18, 0.12]))
        n_cars = 0 if rng.random() < self.empty_prob else int(rng.integers(1, self.max_cars + 1))
        lo, hi = np.log(self.plate_width[0]), np.log(self.plate_width[1])
        shares = sorted(float(np.exp(rng.uniform(lo, hi))) for _ in range(n_cars))
        if look == "night":
            img = (img.astype(np.float32) * rng.uniform(0.15, 0.4)).astype(np.uint8)
        dim = rng.uniform(0.2, 0.45) if look == "night" else 1.0
        annotations: list[Annotation] = []
        inked: dict[int, int] = {}
        glow: list[tuple[int, int, int]] = []
        for share in shares:  # far (small) cars first: near ones hide them
            art = self.designer.draw(rng)
            pw = share * w
            cw = int(pw / (rng.uniform(0.16, 0.22) if art.two_row else rng.uniform(0.22, 0.32)))
            ch = int(cw * rng.uniform(0.6, 0.8))
            if cw < 20 or cw > w or ch > h * 0.9:
                continue
            depth = min(1.0, cw / (0.6 * w))
            bottom = horizon + depth * (h - horizon) * rng.uniform(0.7, 1.0) + ch * 0.3
            cy = int(np.clip(bottom - ch, 0, h - ch - 1))
            cx = int(rng.uniform(-0.1 * cw, w - 0.9 * cw))
            before = img.copy()
            px, py = draw_car_front(img, (cx, cy, cw, ch), rng)
            if rng.random() < 0.3:  # a badge on the grille
                self._write(img, rng, str(rng.choice(BADGES)),
                            (cx + int(cw * 0.4), cy + int(ch * 0.42), int(cw * 0.2),
                             max(6, int(ch * 0.06))), (200, 200, 200))
            if rng.random() < 0.2:  # a van's side panel with a phone number
                self._write(img, rng, _phone(rng), (cx + int(cw * 0.1), cy + int(ch * 0.12),
                                                    int(cw * 0.8), max(8, int(ch * 0.12))),
                            (20, 20, 20), (235, 235, 235))
            quad = self._place(art, px, py, pw, w, h, rng)
            if quad is not None and rng.random() < 0.35:  # a dealer frame round the plate
                self._frame(img, rng, quad)
            car = (img != before).any(axis=2)
            ink[car] = 0  # this car hides what is behind it
            if dim != 1.0:
                img[car] = (img[car] * dim).astype(np.uint8)
            glow += [(cx + int(cw * 0.14), cy + int(ch * 0.52), max(3, cw // 10)),
                     (cx + int(cw * 0.86), cy + int(ch * 0.52), max(3, cw // 10))]
            if quad is None:
                continue
            ink_id = len(annotations) + 1
            paste_plate(img, ink, self._weather_plate(art, rng, look), quad, ink_id)
            inked[ink_id] = int((ink == ink_id).sum())
            annotations.append(Annotation("plate", quad, art.text, {"region": art.region},
                                          ink_id=ink_id))
        for a in annotations:
            if rng.random() < 0.12:  # something in front of part of the plate
                self._occlude(img, ink, a.polygon, rng)
        # a plate mostly hidden by a nearer car or a pole is not labelled (nor its ink kept)
        kept = []
        for a in annotations:
            if (ink == a.ink_id).sum() >= 0.5 * max(1, inked[a.ink_id]):
                kept.append(a)
            else:
                ink[ink == a.ink_id] = 0
        annotations = kept
        if look == "night":
            for gx, gy, r in glow:
                cv2.circle(img, (gx, gy), r, (255, 250, 230), -1, cv2.LINE_AA)
            img = np.maximum(img, degrade.blur(img, 6.0))
        elif look == "ir":
            gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
            gray = ((gray - gray.mean()) * rng.uniform(1.2, 1.8) + 110).clip(0, 255)
            img = np.repeat(gray.astype(np.uint8)[..., None], 3, axis=2)
        if rng.random() < 0.2:
            img = self._rain(img, rng)
        if rng.random() < 0.25:
            img = degrade.motion_blur(img, rng, int(rng.integers(3, 9)))
        img = degrade.shading(img, rng, strength=rng.uniform(0.05, 0.3))
        img = degrade.blur(img, rng.uniform(0, 1.0))
        img = degrade.gaussian_noise(img, rng, rng.uniform(1, 8 if look != "day" else 4))
        return PageSample(image=img, annotations=annotations, ink=ink)

    def _signs(self, img: np.ndarray, rng: np.random.Generator, w: int, horizon: int) -> None:
        for _ in range(int(rng.integers(0, 4))):
            sw = int(w * rng.uniform(0.06, 0.3))
            sh = max(10, int(sw * rng.uniform(0.15, 0.35)))
            x = int(rng.uniform(0, w - sw))
            y = int(rng.uniform(max(0, horizon * 0.2), max(1, horizon - sh)))
            bg = tuple(int(c) for c in rng.integers(0, 256, 3))
            fg = (255, 255, 255) if sum(bg) < 380 else (20, 20, 20)
            text = _phone(rng) if rng.random() < 0.2 else str(rng.choice(SIGN_WORDS))
            self._write(img, rng, text, (x, y, sw, sh), fg, bg)

    def _place(self, art: PlateArt, px: float, py: float, width: float, w: int, h: int,
               rng: np.random.Generator) -> np.ndarray | None:
        ah, aw = art.image.shape[:2]
        height = width * ah / aw
        yaw = np.deg2rad(rng.uniform(-self.max_yaw, self.max_yaw))
        half_w = width * np.cos(yaw) / 2
        near = 1 + 0.25 * abs(np.sin(yaw))  # the near edge looks taller than the far one
        left, right = (near, 1 / near) if yaw < 0 else (1 / near, near)
        quad = np.array([[-half_w, -height / 2 * left], [half_w, -height / 2 * right],
                         [half_w, height / 2 * right], [-half_w, height / 2 * left]])
        t = np.deg2rad(rng.uniform(-6, 6))
        quad = quad @ np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
        quad += [px, py]
        if quad.min() < 0 or (quad.max(0) > [w - 1, h - 1]).any() or width * np.cos(yaw) < 8:
            return None
        return quad

    def _frame(self, img: np.ndarray, rng: np.random.Generator, quad: np.ndarray) -> None:
        x0, y0 = quad.min(0)
        x1, y1 = quad.max(0)
        pad, below = (x1 - x0) * 0.06, (y1 - y0) * 0.45
        color = (15, 15, 15) if rng.random() < 0.7 else (190, 190, 195)
        cv2.rectangle(img, (int(x0 - pad), int(y0 - pad)), (int(x1 + pad), int(y1 + below)),
                      color, -1)
        if below > 5:
            self._write(img, rng, str(rng.choice(DEALERS)),
                        (int(x0), int(y1 + below * 0.15), int(x1 - x0), int(below * 0.8)),
                        (230, 230, 230) if color[0] < 100 else (20, 20, 20))

    @staticmethod
    def _weather_plate(art: PlateArt, rng: np.random.Generator, look: str) -> PlateArt:
        image = art.image.astype(np.float32)
        if look == "night":  # lit by its own lamp, dimmer than by day
            image *= rng.uniform(0.45, 0.8)
        elif look == "ir":  # retroreflective: the plate glows
            image = image * 0.6 + 100
        if rng.random() < 0.3:  # dirt
            ah, aw = image.shape[:2]
            dirt = degrade.smooth_noise(ah, aw, rng, cells=5)
            dirt = np.clip((dirt - 0.55) * 3, 0, 0.6)[..., None]
            image = image * (1 - dirt) + np.array([90, 75, 55], np.float32) * dirt
        return PlateArt(image.clip(0, 255).astype(np.uint8), art.ink, art.text, art.region,
                        art.two_row)

    @staticmethod
    def _occlude(img: np.ndarray, ink: np.ndarray, quad: np.ndarray,
                 rng: np.random.Generator) -> None:
        """A pole or a leg in front of at most a quarter of the plate."""
        x0, y0 = quad.min(0)
        x1, y1 = quad.max(0)
        bar = max(1, int((x1 - x0) * rng.uniform(0.06, 0.25)))
        bx = int(rng.uniform(x0, x1 - bar))
        top, bottom = int(y0 - (y1 - y0) * 2), int(y1 + (y1 - y0) * 2)
        color = tuple(int(c) for c in rng.integers(10, 120, 3))
        cv2.rectangle(img, (bx, max(0, top)), (bx + bar, min(img.shape[0] - 1, bottom)), color, -1)
        ink[max(0, top):bottom + 1, bx:bx + bar + 1] = 0

    @staticmethod
    def _rain(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = img.shape[:2]
        streaks = np.zeros((h, w), np.uint8)
        length = max(4, h // 40)
        for _ in range(int(w * h / 4000)):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            cv2.line(streaks, (x, y), (x + length // 4, y + length), 255, 1)
        a = degrade.blur(streaks, 0.7).astype(np.float32)[..., None] / 255 * 0.35
        return (img * (1 - a) + 210 * a).astype(np.uint8)

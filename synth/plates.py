"""Licence plates: clean plate artwork per region layout, and degraded plate crops.

Layouts (region code in the labels): ``ru`` (А123ВС77 with the region block, and square
two-row plates), ``eu`` (blue EU band with a country code; DE/FR/PL/IT/NL/CZ strings),
``ua`` (Ukraine, AA1234BB in the Latin look-alikes of its Cyrillic letters, as plate
registries write them; Bulgaria's CA1234AB shares the format), ``us`` (state name on top,
7ABC123-like), ``cn`` (blue 7-character, green 8-character
new-energy, yellow, and yellow two-row), ``br`` (Mercosur ABC1D23 under the blue BRASIL band,
and the older grey ABC-1234 plates with the town on top). Labels never contain spaces or
separators; a two-row plate's label is its top row then its bottom row. Two-row crops have
aspect w/h <= 1.6 and single-row crops >= 2.0 (the recognizer splits two-row crops by
aspect).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from recognition.alphabet import PROVINCES, RU_PLATE_LETTERS, UA_PLATE_LETTERS
from synth import degrade
from synth.base import Renderer
from synth.fonts import FontBook, FontFace, MissingFontError
from synth.glyphs import draw_text
from synth.records import CropSample

RU_LETTERS = RU_PLATE_LETTERS
UA_LETTERS = UA_PLATE_LETTERS  # the Latin look-alikes of the Cyrillic letters on Ukrainian plates
LATIN_PLATE = "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q (rare on plates)
CN_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # A–Z without I and O
CN_ALNUM = CN_LETTERS + "0123456789"
CN_PROVINCES = PROVINCES[:31]  # the 31 provinces, not 警 / 学
DIGITS = "0123456789"
US_STATES = ("CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "OHIO", "ARIZONA", "NEVADA",
             "OREGON", "GEORGIA", "ILLINOIS", "MICHIGAN", "VIRGINIA", "WASHINGTON", "UTAH",
             "COLORADO", "NEW JERSEY", "PENNSYLVANIA", "MARYLAND", "INDIANA", "KANSAS")
US_SLOGANS = ("dmv.ca.gov", "Sunshine State", "Empire State", "Lone Star State", "Grand Canyon",
              "Land of Lincoln", "Great Lakes", "Garden State", "Silver State", "Life Elevated")
US_SLOGANS_TOP = ("Live Free or Die", "First in Flight", "Land of Lincoln", "Garden State",
                  "Green Mountain State", "Lone Star State", "Famous Potatoes", "Great Faces")
# (background, characters, accent): white / yellow / green / blue / dark plates of US states
US_SCHEMES = (
    ((245, 245, 245), (20, 20, 20), (30, 40, 140)),
    ((245, 245, 245), (180, 25, 30), (180, 25, 30)),
    ((240, 240, 235), (20, 40, 130), (190, 30, 40)),
    ((30, 110, 60), (245, 245, 245), (245, 245, 245)),
    ((235, 240, 245), (20, 90, 70), (20, 90, 70)),
    ((245, 215, 80), (20, 20, 20), (30, 30, 30)),
    ((40, 60, 140), (245, 245, 245), (245, 200, 60)),
    ((25, 25, 30), (245, 245, 245), (230, 190, 60)),
    ((225, 235, 250), (110, 20, 40), (30, 60, 150)),
)
EU_COUNTRIES = ("D", "F", "PL", "I", "NL", "CZ")
# towns and state codes on the older grey Brazilian plates (decoration, never in the label)
BR_TOWNS = ("SAO PAULO - SP", "RIO DE JANEIRO - RJ", "CURITIBA - PR", "BELO HORIZONTE - MG",
            "PORTO ALEGRE - RS", "SALVADOR - BA", "RECIFE - PE", "CAMPINAS - SP",
            "GOIANIA - GO", "FORTALEZA - CE", "MANAUS - AM", "VITORIA - ES")
TWO_ROW_MAX_ASPECT = 1.6
ONE_ROW_MIN_ASPECT = 2.0


def _pick(rng: np.random.Generator, chars: str, n: int = 1) -> str:
    return "".join(chars[int(i)] for i in rng.integers(0, len(chars), n))


@dataclass(frozen=True)
class PlateArt:
    """A clean, frontal plate image.

    Attributes:
        image: RGB uint8, the whole plate (its border is the image border).
        ink: uint8 mask of the labelled characters only (not state names, flags, bands).
        text: label, top row first for two-row plates, no spaces.
        region: region code.
        two_row: whether the plate has two text rows.
    """

    image: np.ndarray
    ink: np.ndarray
    text: str
    region: str
    two_row: bool


class PlateCanvas:
    """Drawing surface of one plate: paints colours and characters, records labelled ink."""

    def __init__(self, w: int, h: int, color: Sequence[float]) -> None:
        self.image = np.empty((h, w, 3), np.uint8)
        self.image[:] = np.asarray(color, np.uint8)
        self.ink = np.zeros((h, w), np.uint8)

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]

    def gradient(self, top: Sequence[float], bottom: Sequence[float]) -> None:
        h = self.image.shape[0]
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        grad = (1 - t) * np.asarray(top, np.float32) + t * np.asarray(bottom, np.float32)
        self.image[:] = np.broadcast_to(grad, self.image.shape).astype(np.uint8)

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: Sequence[float],
             thickness: int = -1) -> None:
        cv2.rectangle(self.image, (int(x0), int(y0)), (int(x1), int(y1)),
                      tuple(int(c) for c in color), thickness, cv2.LINE_AA)

    def border(self, color: Sequence[float], thickness: int, inset: int = 0) -> None:
        w, h = self.size
        self.rect(inset, inset, w - 1 - inset, h - 1 - inset, color, thickness)

    def label(self, text: str, face: FontFace, box: Sequence[float], color: Sequence[float],
              squeeze: float = 1.0) -> None:
        """Decorative text (not part of the label) fitted and centred in ``box``."""
        ink = draw_text(face, 64, text)
        if ink is None:
            return
        self._paste_fitted(ink.mask, box, color, squeeze, record=False)

    def chars(self, text: str, face: FontFace, box: Sequence[float], color: Sequence[float],
              heights: Sequence[float] | None = None, squeeze: float = 1.0,
              tracking: float = 0.0) -> None:
        """Labelled characters laid out evenly across ``box``, bottoms aligned.

        Args:
            heights: per-character height as a fraction of the box height (default 1).
            squeeze: horizontal scale of the glyphs (< 1 for condensed plate lettering).
            tracking: space kept between characters, as a fraction of their widths, when
                they would otherwise fill the box (glyphs get narrower to make room).
        """
        x0, y0, x1, y1 = box
        bw, bh = x1 - x0, y1 - y0
        masks = []
        for i, ch in enumerate(text):
            ink = draw_text(face, 96, ch)
            if ink is None:
                raise RuntimeError(f"{face.name} draws nothing for {ch!r}")
            hh = max(2, int(round(bh * (heights[i] if heights else 1.0))))
            ww = max(1, int(round(ink.mask.shape[1] * hh / ink.mask.shape[0] * squeeze)))
            masks.append((ink.mask, ww, hh))
        total = sum(m[1] for m in masks)
        scale = min(1.0, 0.94 * bw / (total * (1.0 + tracking)))
        widths = [max(1, int(m[1] * scale)) for m in masks]
        gap = (bw - sum(widths)) / (len(masks) + 1)
        x = x0 + gap
        for (mask, _, hh), ww in zip(masks, widths, strict=True):
            resized = cv2.resize(mask, (ww, hh), interpolation=cv2.INTER_AREA)
            self._paste(resized, int(round(x)), int(round(y1 - hh)), color, record=True)
            x += ww + gap

    def _paste_fitted(self, mask: np.ndarray, box: Sequence[float], color: Sequence[float],
                      squeeze: float, record: bool) -> None:
        x0, y0, x1, y1 = box
        bw, bh = x1 - x0, y1 - y0
        s = min(bh / mask.shape[0], bw / (mask.shape[1] * squeeze))
        ww, hh = max(1, int(mask.shape[1] * s * squeeze)), max(1, int(mask.shape[0] * s))
        resized = cv2.resize(mask, (ww, hh), interpolation=cv2.INTER_AREA)
        self._paste(resized, int(x0 + (bw - ww) / 2), int(y0 + (bh - hh) / 2), color, record)

    def _paste(self, mask: np.ndarray, x: int, y: int, color: Sequence[float],
               record: bool) -> None:
        degrade.composite(self.image, mask, np.asarray(color, np.float32), x, y)
        if record:
            h, w = mask.shape
            region = self.ink[y:y + h, x:x + w]
            np.maximum(region, mask[:region.shape[0], :region.shape[1]], out=region)


class PlateDesigner:
    """Draws clean plates of every registered layout.

    Add a layout by adding a method ``(rng) -> PlateArt`` and its name and weight to
    ``LAYOUT_WEIGHTS``.

    Args:
        fonts: font catalogue.
    """

    # layout (= method name) → share of random draws
    LAYOUT_WEIGHTS: dict[str, float] = {
        "ru": 0.22, "ru_square": 0.06, "eu": 0.18, "us": 0.14, "cn_blue": 0.22,
        "cn_green": 0.10, "cn_yellow": 0.04, "cn_yellow_two_row": 0.04, "br": 0.07,
        "br_grey": 0.03, "ua": 0.06}

    def __init__(self, fonts: FontBook | None = None) -> None:
        self.fonts = fonts or FontBook()
        sans = self.fonts.fonts("sans", "cyrillic")
        bold = [f for f in sans if "bold" in f.path.lower() and "oblique" not in f.path.lower()
                and "italic" not in f.path.lower()]
        self.plate_fonts = bold or list(sans)
        # US lettering is condensed and even-stroked: add the display faces where installed
        # (Debian fonts-bebas-neue, fonts-roboto-unhinted; drawn unsqueezed).
        try:
            display = self.fonts.fonts("display", "latin_caps")
        except MissingFontError:
            display = ()
        self.us_fonts = self.plate_fonts + [
            f for f in display if not any(k in Path(f.path).stem.lower()
                                          for k in ("italic", "light", "thin"))]
        self.small_fonts = list(sans)
        self.serif_fonts = list(self.fonts.fonts("serif", "latin"))
        self.han_fonts = list(self.fonts.fonts("cjk", "han"))
        self.layouts: dict[str, tuple[float, Callable[[np.random.Generator], PlateArt]]] = {
            name: (weight, getattr(self, name)) for name, weight in self.LAYOUT_WEIGHTS.items()}

    def _font(self, rng: np.random.Generator, faces: Sequence[FontFace]) -> FontFace:
        return faces[int(rng.integers(len(faces)))]

    def draw(self, rng: np.random.Generator, layout: str | None = None) -> PlateArt:
        """A plate of ``layout`` (default: a random layout by weight)."""
        if layout is None:
            names = list(self.layouts)
            p = np.array([self.layouts[k][0] for k in names])
            layout = names[int(rng.choice(len(names), p=p / p.sum()))]
        return self.layouts[layout][1](rng)

    # --- Russia ---------------------------------------------------------------------------
    def ru(self, rng: np.random.Generator) -> PlateArt:
        w, h = 520, 112
        c = PlateCanvas(w, h, (rng.uniform(225, 250),) * 3)
        c.border((20, 20, 20), 4, 2)
        face = self._font(rng, self.plate_fonts)
        main = _pick(rng, RU_LETTERS) + _pick(rng, DIGITS, 3) + _pick(rng, RU_LETTERS, 2)
        region = str(int(rng.integers(1, 100))).zfill(2) if rng.random() < 0.7 \
            else str(int(rng.integers(100, 800)))
        sep = 392
        c.chars(main, face, (14, 14, sep - 8, 98), (15, 15, 15),
                heights=[0.78, 1, 1, 1, 0.78, 0.78], squeeze=0.9)
        c.rect(sep, 6, sep + 3, h - 7, (20, 20, 20))
        c.chars(region, face, (sep + 8, 8, w - 10, 74), (15, 15, 15), squeeze=0.85)
        small = self._font(rng, self.small_fonts)
        c.label("RUS", small, (sep + 10, 80, sep + 64, 102), (20, 20, 20))
        fx = sep + 70
        for i, col in enumerate(((250, 250, 250), (30, 60, 170), (200, 30, 30))):
            c.rect(fx, 82 + i * 6, fx + 36, 87 + i * 6, col)
        c.rect(fx, 82, fx + 36, 100, (60, 60, 60), 1)
        return PlateArt(c.image, c.ink, main + region, "ru", False)

    def ru_square(self, rng: np.random.Generator) -> PlateArt:
        w, h = 270, 180
        c = PlateCanvas(w, h, (rng.uniform(225, 250),) * 3)
        c.border((20, 20, 20), 4, 2)
        face = self._font(rng, self.plate_fonts)
        top = _pick(rng, DIGITS, 4)
        letters = _pick(rng, RU_LETTERS, 2)
        region = str(int(rng.integers(1, 100))).zfill(2)
        c.chars(top, face, (20, 12, w - 20, 82), (15, 15, 15), squeeze=0.9)
        c.chars(letters, face, (14, 98, 130, 162), (15, 15, 15), squeeze=0.9)
        c.chars(region, face, (140, 94, w - 60, 162), (15, 15, 15), squeeze=0.85)
        small = self._font(rng, self.small_fonts)
        c.label("RUS", small, (w - 56, 100, w - 10, 122), (20, 20, 20))
        for i, col in enumerate(((250, 250, 250), (30, 60, 170), (200, 30, 30))):
            c.rect(w - 54, 130 + i * 8, w - 12, 137 + i * 8, col)
        return PlateArt(c.image, c.ink, top + letters + region, "ru", True)

    # --- EU -------------------------------------------------------------------------------
    def eu(self, rng: np.random.Generator) -> PlateArt:
        w, h = 520, 112
        country = EU_COUNTRIES[int(rng.integers(len(EU_COUNTRIES)))]
        bg = (245, 200, 20) if country == "NL" else (rng.uniform(228, 252),) * 3
        c = PlateCanvas(w, h, bg)
        band = 50
        c.rect(0, 0, band, h - 1, (20, 50, 160))
        for k in range(12):
            a = 2 * np.pi * k / 12
            cv2.circle(c.image, (int(band / 2 + 13 * np.cos(a)), int(34 + 13 * np.sin(a))), 2,
                       (240, 210, 30), -1, cv2.LINE_AA)
        small = self._font(rng, self.small_fonts)
        c.label(country, small, (6, 60, band - 6, 100), (250, 250, 250))
        c.border((20, 20, 20), 3, 1)
        face = self._font(rng, self.plate_fonts)
        groups = self._eu_groups(rng, country)
        x = band + 12
        avail = w - x - 12
        n_chars = sum(len(g) for g in groups)
        gap = 22
        per = (avail - gap * (len(groups) - 1)) / n_chars
        for i, g in enumerate(groups):
            gw = per * len(g)
            c.chars(g, face, (x, 16, x + gw, 96), (15, 15, 15), squeeze=0.85)
            x += gw
            if i < len(groups) - 1:
                if country in ("FR", "F", "NL"):  # hyphen separators (not in the label)
                    c.rect(x + 6, 54, x + gap - 6, 60, (15, 15, 15))
                x += gap
        return PlateArt(c.image, c.ink, "".join(groups), "eu", False)

    def _eu_groups(self, rng: np.random.Generator, country: str) -> list[str]:
        L, D = LATIN_PLATE, DIGITS
        if country == "D":
            return [_pick(rng, L, int(rng.integers(1, 4))), _pick(rng, L, int(rng.integers(1, 3))),
                    _pick(rng, D, int(rng.integers(1, 5)))]
        if country == "F":
            return [_pick(rng, L, 2), _pick(rng, D, 3), _pick(rng, L, 2)]
        if country == "PL":
            return [_pick(rng, L, 2 + int(rng.integers(2))), _pick(rng, D + L, 5)]
        if country == "I":
            return [_pick(rng, L, 2), _pick(rng, D, 3) + _pick(rng, L, 2)]
        if country == "NL":
            return [_pick(rng, D, 2), _pick(rng, L, 3), _pick(rng, D, 1)]
        return [_pick(rng, D, 1) + _pick(rng, L, 2), _pick(rng, D, 4)]

    # --- Ukraine --------------------------------------------------------------------------
    def ua(self, rng: np.random.Generator) -> PlateArt:
        """Ukrainian plate: two letters, four digits, two letters (the first two name the
        region), black on white, a blue band on the left with the flag over ``UA``."""
        w, h = 520, 112
        c = PlateCanvas(w, h, (rng.uniform(228, 252),) * 3)
        band = 46
        c.rect(0, 0, band, h - 1, (20, 50, 160))
        c.rect(9, 14, band - 9, 30, (40, 110, 210))    # the flag: blue over yellow
        c.rect(9, 30, band - 9, 46, (245, 205, 30))
        small = self._font(rng, self.small_fonts)
        c.label("UA", small, (6, 60, band - 6, 100), (250, 250, 250))
        c.border((20, 20, 20), 3, 1)
        face = self._font(rng, self.plate_fonts)
        groups = [_pick(rng, UA_LETTERS, 2), _pick(rng, DIGITS, 4), _pick(rng, UA_LETTERS, 2)]
        x, gap = band + 12, 18
        per = (w - x - 12 - 2 * gap) / 8
        for g in groups:
            gw = per * len(g)
            c.chars(g, face, (x, 16, x + gw, 96), (15, 15, 15), squeeze=0.85)
            x += gw + gap
        return PlateArt(c.image, c.ink, "".join(groups), "ua", False)

    # --- Brazil ---------------------------------------------------------------------------
    def br(self, rng: np.random.Generator) -> PlateArt:
        """Mercosur plate (Brazil since 2018): LLLNLNN under a blue band reading BRASIL.

        Private cars are black on white (half the draws); commercial red, official blue and
        special green plates keep the layout with other ink colours.
        """
        w, h = 520, 170
        c = PlateCanvas(w, h, (rng.uniform(236, 252),) * 3)
        band = 38
        c.rect(0, 0, w - 1, band, (20, 60, rng.uniform(150, 190)))
        small = self._font(rng, self.small_fonts)
        c.label("BRASIL", small, (w / 2 - 70, 5, w / 2 + 70, band - 5), (250, 250, 250))
        c.rect(w - 56, 8, w - 14, band - 8, (30, 150, 60))  # the flag
        cv2.circle(c.image, (w - 35, band // 2), 7, (30, 60, 160), -1, cv2.LINE_AA)
        c.rect(12, 8, 40, band - 8, (240, 240, 240), 2)      # the Mercosur mark
        c.border((40, 40, 40), 3, 1)
        ink = ((15, 15, 15), (15, 15, 15), (15, 15, 15), (190, 30, 30), (30, 50, 150),
               (20, 110, 50))[int(rng.integers(6))]
        text = _pick(rng, LATIN_PLATE, 3) + _pick(rng, DIGITS) + _pick(rng, LATIN_PLATE) \
            + _pick(rng, DIGITS, 2)
        face = self._font(rng, self.us_fonts)
        c.chars(text, face, (14, band + 14, w - 14, h - 14), ink, squeeze=0.8,
                tracking=rng.uniform(0.0, 0.3))
        return PlateArt(c.image, c.ink, text, "br", False)

    def br_grey(self, rng: np.random.Generator) -> PlateArt:
        """Older Brazilian plate: grey, ABC-1234 (the hyphen is not in the label), town on top."""
        w, h = 520, 160
        grey = rng.uniform(150, 205)
        c = PlateCanvas(w, h, (grey, grey, grey * rng.uniform(0.97, 1.03)))
        c.border((30, 30, 30), 4, 3)
        small = self._font(rng, self.small_fonts)
        town = BR_TOWNS[int(rng.integers(len(BR_TOWNS)))]
        c.label(town, small, (70, 8, w - 70, 36), (25, 25, 25))
        letters, digits = _pick(rng, LATIN_PLATE, 3), _pick(rng, DIGITS, 4)
        face = self._font(rng, self.us_fonts)
        c.chars(letters, face, (16, 46, 206, h - 14), (20, 20, 20), squeeze=0.8)
        c.rect(216, 96, 244, 106, (20, 20, 20))
        c.chars(digits, face, (254, 46, w - 16, h - 14), (20, 20, 20), squeeze=0.8)
        return PlateArt(c.image, c.ink, letters + digits, "br", False)

    # --- US -------------------------------------------------------------------------------
    def us(self, rng: np.random.Generator) -> PlateArt:
        """A US plate: state name on top, slogan below, and a number in one of many styles.

        Half of the plates are the plain 7ABC123 / ABC1234 / 123ABC kinds; the others are what
        real US plates also show (see :meth:`_us_styled`). Their labels follow the US
        convention of the OpenALPR ground truth: the letter O is never drawn (it is written 0).
        """
        if rng.random() < 0.5:
            return self._us_styled(rng)
        w, h = 300, 150
        scheme = int(rng.integers(4))
        if scheme == 0:
            bg, fg, accent = (240, 240, 240), (20, 30, 120), (180, 30, 30)
        elif scheme == 1:
            bg, fg, accent = (245, 210, 60), (20, 30, 90), (20, 30, 90)
        elif scheme == 2:
            bg, fg, accent = (30, 30, 35), (235, 200, 60), (235, 235, 235)
        else:
            bg, fg, accent = (235, 240, 250), (120, 20, 30), (20, 60, 150)
        c = PlateCanvas(w, h, bg)
        if scheme in (0, 3):
            c.gradient(bg, np.asarray(bg) * rng.uniform(0.8, 0.95))
        c.border(accent, 3, 2)
        state = US_STATES[int(rng.integers(len(US_STATES)))]
        serif = self._font(rng, self.serif_fonts)
        c.label(state, serif, (30, 8, w - 30, 36), accent)
        kind = int(rng.integers(3))
        if kind == 0:
            text = _pick(rng, DIGITS) + _pick(rng, LATIN_PLATE, 3) + _pick(rng, DIGITS, 3)
        elif kind == 1:
            text = _pick(rng, LATIN_PLATE, 3) + _pick(rng, DIGITS, 4)
        else:
            text = _pick(rng, DIGITS, 3) + _pick(rng, LATIN_PLATE, 3)
        face = self._font(rng, self.plate_fonts)
        c.chars(text, face, (14, 44, w - 14, 118), fg, squeeze=0.8,
                tracking=rng.uniform(0.0, 0.5))
        small = self._font(rng, self.small_fonts)
        slogan = US_SLOGANS[int(rng.integers(len(US_SLOGANS)))]
        c.label(slogan, small, (60, 124, w - 60, 142), accent)
        return PlateArt(c.image, c.ink, text, "us", False)

    def _us_styled(self, rng: np.random.Generator) -> PlateArt:
        """US plates as they vary: colours (white on green, red on white, ...), a scenic
        background, stickers, numbers of 4-7 characters split into two groups by a gap, a dash,
        a dot or an emblem (none of them labelled), and vanity words."""
        w, h = 300, 150
        bg, fg, accent = US_SCHEMES[int(rng.integers(len(US_SCHEMES)))]
        c = PlateCanvas(w, h, bg)
        if rng.random() < 0.6:
            c.gradient(bg, np.clip(np.asarray(bg) * rng.uniform(0.75, 1.1), 0, 255))
        for _ in range(int(rng.integers(0, 4))):  # scenery / artwork behind the number
            tint = np.clip(np.asarray(bg, np.float32) * 0.75 + np.asarray(accent) * 0.25, 0, 255)
            centre = (int(rng.integers(0, w)), int(rng.integers(20, h)))
            axes = (int(rng.integers(20, 120)), int(rng.integers(8, 50)))
            cv2.ellipse(c.image, centre, axes, float(rng.uniform(0, 180)), 0, 360,
                        tuple(int(v) for v in tint), -1, cv2.LINE_AA)
        c.border(accent, int(rng.integers(0, 4)), 2)
        top = US_STATES[int(rng.integers(len(US_STATES)))]
        if rng.random() < 0.3:
            top = US_SLOGANS_TOP[int(rng.integers(len(US_SLOGANS_TOP)))]
        if rng.random() < 0.5:
            top = top.title()
        c.label(top, self._font(rng, self.serif_fonts + self.small_fonts),
                (int(rng.integers(20, 60)), 6, w - int(rng.integers(20, 60)), 38), accent)
        for _ in range(int(rng.integers(0, 3))):  # registration stickers in the corners
            x = 8 if rng.random() < 0.5 else w - 8 - 34
            y = 8 if rng.random() < 0.5 else h - 8 - 22
            color = tuple(float(v) for v in rng.uniform(20, 240, 3))
            c.rect(x, y, x + 34, y + 22, color)
            c.label(str(int(rng.integers(1, 99))).zfill(2), self._font(rng, self.small_fonts),
                    (x + 4, y + 3, x + 30, y + 19), (250, 250, 250) if sum(color) < 380
                    else (15, 15, 15))
        text = self._us_text(rng)
        face = self._font(rng, self.us_fonts)
        y0, y1 = 40 + int(rng.integers(0, 8)), 112 + int(rng.integers(0, 10))
        x0, x1 = 12 + int(rng.integers(0, 20)), w - 12 - int(rng.integers(0, 20))
        squeeze = rng.uniform(0.65, 0.95)
        if face.style == "display":  # already condensed
            squeeze = min(1.15, squeeze + 0.25)
        tracking = rng.uniform(0.1, 0.6)  # real US plates leave clear gaps between glyphs
        split = int(rng.integers(2, len(text) - 1)) if len(text) >= 4 and rng.random() < 0.7 \
            else 0
        if split:
            gap = rng.uniform(0.06, 0.16) * (x1 - x0)
            mid = x0 + (x1 - x0 - gap) * split / len(text)
            c.chars(text[:split], face, (x0, y0, mid, y1), fg, squeeze=squeeze,
                    tracking=tracking)
            c.chars(text[split:], face, (mid + gap, y0, x1, y1), fg, squeeze=squeeze,
                    tracking=tracking)
            cx, cy, r = mid + gap / 2, (y0 + y1) / 2, max(3.0, gap * 0.35)
            mark = int(rng.integers(4))
            if mark == 0:  # dash
                c.rect(cx - r, cy - r * 0.3, cx + r, cy + r * 0.3, fg)
            elif mark == 1:  # dot
                cv2.circle(c.image, (int(cx), int(cy)), max(2, int(r * 0.5)),
                           tuple(int(v) for v in fg), -1, cv2.LINE_AA)
            elif mark == 2:  # an emblem (a state outline, a heart, a flag): a coloured blob
                color = tuple(int(v) for v in rng.uniform(20, 240, 3))
                pts = np.array([[cx + r * 1.4 * np.cos(a) * rng.uniform(0.6, 1.0),
                                 cy + r * 2.2 * np.sin(a) * rng.uniform(0.6, 1.0)]
                                for a in np.linspace(0, 2 * np.pi, 9)[:-1]], np.int32)
                cv2.fillPoly(c.image, [pts], color, cv2.LINE_AA)
        else:
            c.chars(text, face, (x0, y0, x1, y1), fg, squeeze=squeeze, tracking=tracking)
        slogan = US_SLOGANS[int(rng.integers(len(US_SLOGANS)))]
        c.label(slogan, self._font(rng, self.small_fonts),
                (int(rng.integers(20, 70)), 122, w - int(rng.integers(20, 70)), 144), accent)
        return PlateArt(c.image, c.ink, text, "us", False)

    @staticmethod
    def _us_text(rng: np.random.Generator) -> str:
        kind = int(rng.integers(5))
        letters = LATIN_PLATE + "IQ"
        if kind == 0:  # vanity: a word-like run of letters, 0 for O as in the ground truth
            word = _pick(rng, letters, int(rng.integers(4, 8)))
            return "".join("0" if ch == "Q" and rng.random() < 0.5 else ch for ch in word)
        if kind == 1:
            return _pick(rng, DIGITS, int(rng.integers(1, 4))) + _pick(rng, letters, 3)
        if kind == 2:
            return _pick(rng, letters, 3) + _pick(rng, DIGITS, int(rng.integers(3, 5)))
        if kind == 3:
            return _pick(rng, DIGITS + letters, int(rng.integers(4, 8)))
        return _pick(rng, DIGITS, int(rng.integers(4, 8)))

    # --- China ----------------------------------------------------------------------------
    def _cn_text(self, rng: np.random.Generator, tail: int) -> str:
        return _pick(rng, CN_PROVINCES) + _pick(rng, CN_LETTERS) + _pick(rng, CN_ALNUM, tail)

    def _cn_row(self, c: PlateCanvas, rng: np.random.Generator, text: str,
                box: tuple[float, float, float, float], color: Sequence[float],
                dot_after: int = 2) -> None:
        han = self._font(rng, self.han_fonts)
        # CN plate lettering is narrow and even-stroked: the condensed display faces too
        latin = self._font(rng, self.us_fonts)
        x0, y0, x1, y1 = box
        n = len(text)
        gap_dot = (x1 - x0) * 0.06
        per = (x1 - x0 - gap_dot) / n
        x = x0
        for i, ch in enumerate(text):
            face = han if ch in PROVINCES or ch > "\u2e80" else latin
            c.chars(ch, face, (x, y0, x + per, y1), color, squeeze=0.9)
            x += per
            if i == dot_after - 1:
                cv2.circle(c.image, (int(x + gap_dot / 2), int((y0 + y1) / 2)), 4,
                           tuple(int(v) for v in color), -1, cv2.LINE_AA)
                x += gap_dot

    def cn_blue(self, rng: np.random.Generator) -> PlateArt:
        return self._cn_single_row(rng, (20, 60, rng.uniform(160, 210)), (235, 235, 235),
                                   (245, 245, 245))

    def cn_green(self, rng: np.random.Generator) -> PlateArt:
        w, h = 480, 140
        c = PlateCanvas(w, h, (200, 240, 200))
        c.gradient((235, 250, 235), (60, rng.uniform(170, 200), 90))
        c.border((30, 30, 30), 2, 4)
        text = _pick(rng, CN_PROVINCES) + _pick(rng, CN_LETTERS) + _pick(rng, "DF") \
            + _pick(rng, CN_ALNUM) + _pick(rng, DIGITS, 4)
        self._cn_row(c, rng, text, (14, 22, w - 14, 120), (15, 15, 15))
        return PlateArt(c.image, c.ink, text, "cn", False)

    def cn_yellow(self, rng: np.random.Generator) -> PlateArt:
        return self._cn_single_row(rng, (240, rng.uniform(180, 205), 20), (20, 20, 20),
                                   (15, 15, 15))

    def _cn_single_row(self, rng: np.random.Generator, background: tuple, border: tuple,
                       ink: tuple) -> PlateArt:
        """Blue and yellow 7-character CN plates: same layout, other colours."""
        w, h = 440, 140
        c = PlateCanvas(w, h, background)
        c.border(border, 3, 6)
        text = self._cn_text(rng, 5)
        self._cn_row(c, rng, text, (16, 22, w - 16, 120), ink)
        return PlateArt(c.image, c.ink, text, "cn", False)

    def cn_yellow_two_row(self, rng: np.random.Generator) -> PlateArt:
        w, h = 330, 220
        c = PlateCanvas(w, h, (240, rng.uniform(180, 205), 20))
        c.border((20, 20, 20), 3, 5)
        top = _pick(rng, CN_PROVINCES) + _pick(rng, CN_LETTERS)
        bottom = _pick(rng, CN_ALNUM, 5)
        self._cn_row(c, rng, top, (90, 14, w - 90, 74), (15, 15, 15), dot_after=1)
        self._cn_row(c, rng, bottom, (14, 88, w - 14, 204), (15, 15, 15), dot_after=0)
        return PlateArt(c.image, c.ink, top + bottom, "cn", True)


# Output crop heights per region (pixels): CCPD crops are about 94×24, US crops about 320×160.
CROP_HEIGHTS = {"ru": (20, 64), "eu": (20, 64), "us": (60, 170), "cn": (22, 48),
                "br": (24, 90), "ua": (20, 64)}


class PlateCropRenderer(Renderer):
    """Degraded plate crops like those a plate detector cuts from camera images.

    Args:
        fonts: font catalogue.
        layouts: restrict to these layout names (default: all, by weight).
    """

    output = "crops"

    def __init__(self, fonts: FontBook | None = None,
                 layouts: Sequence[str] | None = None) -> None:
        self.designer = PlateDesigner(fonts)
        self.layouts = list(layouts) if layouts else None
        if self.layouts:
            unknown = set(self.layouts) - set(self.designer.layouts)
            if unknown:
                raise ValueError(f"unknown plate layouts {sorted(unknown)}; "
                                 f"known: {sorted(self.designer.layouts)}")

    def render(self, rng: np.random.Generator) -> CropSample:
        layout = None
        if self.layouts:
            layout = self.layouts[int(rng.integers(len(self.layouts)))]
        art = self.designer.draw(rng, layout)
        return CropSample(image=plate_crop(art, rng), text=art.text, region=art.region)


def plate_crop(art: PlateArt, rng: np.random.Generator) -> np.ndarray:
    """A camera-like crop of ``art``: surroundings, perspective, lighting, blur, low res, JPEG."""
    ph, pw = art.image.shape[:2]
    mx, my = int(pw * rng.uniform(0.02, 0.12)), int(ph * rng.uniform(0.04, 0.25))
    body = tuple(float(v) for v in rng.uniform(10, 240, 3))
    canvas = degrade.paper(ph + 2 * my, pw + 2 * mx, rng, color=body, texture=1.5)
    canvas[my:my + ph, mx:mx + pw] = art.image
    # a third of the crops come from a camera off to the side or a tilted car (CCPD-like)
    steep = rng.random() < 0.35
    m, ow, oh = degrade.perspective_matrix(
        canvas.shape[1], canvas.shape[0], rng,
        strength=rng.uniform(0.03, 0.16) if steep else rng.uniform(0.0, 0.07),
        rotate_deg=rng.uniform(-11, 11) if steep else rng.uniform(-4, 4))
    warped = cv2.warpPerspective(canvas, m, (ow, oh), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    # crop to the warped plate plus a little of the surroundings
    corners = degrade.warp_points(np.array([[mx, my], [mx + pw, my], [mx + pw, my + ph],
                                            [mx, my + ph]], np.float64), m)
    lo, hi = corners.min(0), corners.max(0)
    # a detector's box is loose or a little tight: up to 2 % of the plate may be cut off
    pad = (hi - lo) * rng.uniform(-0.02, 0.08, 2)
    x0, y0 = np.maximum(lo - pad, 0).astype(int)
    x1, y1 = np.minimum(hi + pad, [ow, oh]).astype(int)
    crop = warped[y0:y1, x0:x1]
    crop = degrade.shading(crop, rng, strength=rng.uniform(0.1, 0.5))
    lo_h, hi_h = CROP_HEIGHTS.get(art.region, (24, 64))
    out_h = int(rng.integers(lo_h, hi_h + 1))
    aspect = crop.shape[1] / crop.shape[0] * rng.uniform(0.92, 1.08)
    aspect = min(aspect, TWO_ROW_MAX_ASPECT) if art.two_row else max(aspect, ONE_ROW_MIN_ASPECT)
    # floor for two-row, ceil for one-row: rounding must not break the aspect rule
    out_w = max(int(np.floor(out_h * aspect) if art.two_row else np.ceil(out_h * aspect)), 1)
    if art.region == "cn" and not art.two_row and rng.random() < 0.5:
        out_w, out_h = 94, 24  # the usual CCPD crop size
    crop = degrade.blur(crop, rng.uniform(0, 1.4) * crop.shape[0] / max(out_h, 1) * 0.5)
    crop = cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3:
        crop = degrade.motion_blur(crop, rng, int(rng.integers(2, 4)))
    crop = degrade.gaussian_noise(crop, rng, rng.uniform(0, 8))
    crop = degrade.jpeg(crop, int(rng.integers(35, 95)))
    return np.ascontiguousarray(crop)

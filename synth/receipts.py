"""Till receipts: a narrow thermal-printed strip photographed on a table, or scanned flat;
COCO NTO output.

A receipt is first written as rows of text (:func:`receipt_rows`: shop, address, tax number,
date, items with prices, totals, VAT, fiscal numbers; Russian or English), then printed in a
monospace or condensed face on a narrow strip, faded like thermal paper (patchy fade, worn
print-head columns), creased and curled, and photographed on a table with perspective,
uneven light and a soft shadow. Polygons follow the pixels through every step: the curl is an
explicit smooth map applied to densified polygon outlines, the camera a homography. A share
of the receipts (``scan_prob``) is scanned instead: laid flat on a flatbed, a little turned,
with the scanner's margin around it, in colour or grey, as expense-report scans are. Of the
scans, a share (``office_prob``) is an office scan: the strip on a whole A4 flatbed page, a
quarter to half of its width, printed by a dot-matrix head or a purple or blue ribbon, on a
page that a copier may have left grey and speckled with toner dots, sometimes 1-bit.

Categories: 1 ``word``, 2 ``line``. A row with a price on the right is two lines (the name and
the price), as the gap between them is wider than any word space; annotations are in reading
order (top to bottom, left before right).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from synth import degrade
from synth.base import Renderer
from synth.fonts import FontBook, FontFace
from synth.layout import LineSpec, PageCanvas
from synth.records import Annotation, PageSample
from synth.text import SCRIPTS, WordSampler

RU_GOODS = ("Молоко", "Хлеб", "Батон", "Кефир", "Сыр", "Масло", "Яйцо", "Сахар", "Чай",
            "Кофе", "Вода", "Сок", "Йогурт", "Творог", "Сметана", "Колбаса", "Сосиски",
            "Курица", "Рис", "Гречка", "Макароны", "Печенье", "Шоколад", "Яблоки", "Бананы",
            "Картофель", "Морковь", "Лук", "Пакет", "Салфетки", "Мыло", "Шампунь")
EN_GOODS = ("Milk", "Bread", "Butter", "Cheese", "Eggs", "Sugar", "Tea", "Coffee", "Water",
            "Juice", "Yogurt", "Cream", "Bacon", "Chicken", "Rice", "Pasta", "Cookies",
            "Chocolate", "Apples", "Bananas", "Potatoes", "Carrots", "Onions", "Bag",
            "Napkins", "Soap", "Shampoo", "Sandwich", "Latte", "Muffin", "Soda", "Crisps")
RU_UNITS = ("1л", "0.5л", "0,9л", "400г", "200г", "1кг", "2.5%", "3.2%", "шт", "уп", "10шт")
EN_UNITS = ("1L", "2L", "500ml", "400g", "200g", "1kg", "6pk", "12oz", "lg", "sm", "ea")
RU_STREETS = ("ул.", "пр-т", "пер.", "ш.", "б-р")
RU_CITIES = ("г. Москва", "г. Казань", "г. Пермь", "г. Тверь", "г. Омск", "г. Самара")
EN_STREETS = ("Street", "Road", "Avenue", "Lane", "High St", "Way")
EN_CITIES = ("London", "Leeds", "Bristol", "Boston", "Denver", "Austin", "Dublin")


@dataclass(frozen=True)
class Row:
    """One printed row: ``left`` text and an optional right-aligned ``right`` (a price).

    Attributes:
        left: the row's text (or its left part).
        right: right-aligned part, "" for none.
        center: centre the left text (headers, footers).
        big: printed larger (shop name, total).
        rule: a dashed rule is printed below the row.
    """

    left: str
    right: str = ""
    center: bool = False
    big: bool = False
    rule: bool = False


def _money(value: float, comma: bool = False) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if comma else text


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, n))


def _title(word: str) -> str:
    return word[:1].upper() + word[1:]


def receipt_rows(rng: np.random.Generator, lang: str, sampler: WordSampler) -> list[Row]:
    """The text of one receipt, row by row; the total is the sum of the item amounts.

    Args:
        rng: the sample's generator.
        lang: ``ru`` or ``en``.
        sampler: words of ``lang`` for shop, street and brand names.

    Raises:
        ValueError: unknown language.
    """
    if lang not in ("ru", "en"):
        raise ValueError(f"receipts are drawn in 'ru' or 'en', not {lang!r}")
    ru = lang == "ru"
    comma = ru and rng.random() < 0.3
    name = " ".join(_title(sampler.plain_word(rng)) for _ in range(int(rng.integers(1, 3))))
    rows: list[Row] = []
    if ru:
        form = ("ООО", "ИП", "АО")[int(rng.integers(3))]
        rows.append(Row(f'{form} "{name}"' if form != "ИП" else f"ИП {name}", center=True,
                        big=True))
        street = RU_STREETS[int(rng.integers(len(RU_STREETS)))]
        rows.append(Row(f"{RU_CITIES[int(rng.integers(len(RU_CITIES)))]}, {street} "
                        f"{_title(sampler.plain_word(rng))}, д. {int(rng.integers(1, 200))}",
                        center=True))
        rows.append(Row(f"ИНН {_digits(rng, 10 if rng.random() < 0.6 else 12)}", center=True))
        rows.append(Row("КАССОВЫЙ ЧЕК" + (" / ПРИХОД" if rng.random() < 0.6 else ""),
                        center=True))
        rows.append(Row(f"Смена № {int(rng.integers(1, 400))}",
                        f"Чек № {int(rng.integers(1, 300))}"))
    else:
        suffix = ("Market", "Store", "Cafe", "Foods", "Deli", "Pharmacy")[int(rng.integers(6))]
        rows.append(Row(f"{name} {suffix}".upper() if rng.random() < 0.5 else f"{name} {suffix}",
                        center=True, big=True))
        rows.append(Row(f"{int(rng.integers(1, 300))} {_title(sampler.plain_word(rng))} "
                        f"{EN_STREETS[int(rng.integers(len(EN_STREETS)))]}", center=True))
        rows.append(Row(EN_CITIES[int(rng.integers(len(EN_CITIES)))], center=True))
        rows.append(Row(f"Tel: {_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 4)}",
                        center=True))
        rows.append(Row(f"VAT No: GB {_digits(rng, 3)} {_digits(rng, 4)} {_digits(rng, 2)}"
                        if rng.random() < 0.6 else f"VAT Reg. {_digits(rng, 9)}", center=True))
    day, month = int(rng.integers(1, 29)), int(rng.integers(1, 13))
    year = int(rng.integers(2015, 2027))
    hour, minute = int(rng.integers(0, 24)), int(rng.integers(0, 60))
    if ru:
        rows.append(Row(f"{day:02d}.{month:02d}.{year} {hour:02d}:{minute:02d}", rule=True))
    else:
        date = (f"{month:02d}/{day:02d}/{year}" if rng.random() < 0.5
                else f"{year}-{month:02d}-{day:02d}")
        rows.append(Row(f"Date: {date}", f"{hour:02d}:{minute:02d}", rule=True))
    goods, units = (RU_GOODS, RU_UNITS) if ru else (EN_GOODS, EN_UNITS)
    total = 0.0
    for _ in range(int(rng.integers(2, 13))):
        parts = [goods[int(rng.integers(len(goods)))]]
        if rng.random() < 0.4:
            parts.append(_title(sampler.plain_word(rng)))
        if rng.random() < 0.6:
            parts.append(units[int(rng.integers(len(units)))])
        item = " ".join(parts)
        if rng.random() < 0.3:
            item = item.upper()
        price = round(float(rng.uniform(0.5, 60 if not ru else 900)), 2)
        qty = int(rng.integers(2, 6)) if rng.random() < 0.25 else 1
        amount = round(price * qty, 2)
        total = round(total + amount, 2)
        prefix = "=" if ru and rng.random() < 0.5 else ""
        if qty > 1:
            rows.append(Row(item))
            rows.append(Row(f"{qty} x {_money(price, comma)}", prefix + _money(amount, comma)))
        else:
            rows.append(Row(item, prefix + _money(amount, comma)))
    rows[-1] = Row(rows[-1].left, rows[-1].right, rule=True)
    vat_rate = (20, 10)[int(rng.integers(2))] if ru else (20, 5)[int(rng.integers(2))]
    vat = round(total * vat_rate / (100 + vat_rate), 2)
    if ru:
        rows.append(Row("ИТОГО", "=" + _money(total, comma), big=True))
        paid = ("НАЛИЧНЫМИ", "БЕЗНАЛИЧНЫМИ", "ЭЛЕКТРОННЫМИ")[int(rng.integers(3))]
        rows.append(Row(paid, "=" + _money(total, comma)))
        rows.append(Row(f"НДС {vat_rate}%", "=" + _money(vat, comma)))
        rows.append(Row(f"Кассир: {_title(sampler.plain_word(rng))} "
                        f"{'АБВГДЕИКЛМНОПРСТ'[int(rng.integers(16))]}.", rule=True))
        rows.append(Row(f"ККТ № {_digits(rng, 16)}"))
        rows.append(Row(f"ФН № {_digits(rng, 16)}"))
        rows.append(Row(f"ФД № {int(rng.integers(1, 99999))}", f"ФП {_digits(rng, 10)}"))
        rows.append(Row("СПАСИБО ЗА ПОКУПКУ!", center=True))
    else:
        rows.append(Row("SUBTOTAL", _money(total - vat)))
        rows.append(Row(f"VAT {vat_rate}%", _money(vat)))
        rows.append(Row("TOTAL", _money(total), big=True))
        if rng.random() < 0.6:
            rows.append(Row("VISA" if rng.random() < 0.5 else "MASTERCARD",
                            f"**** {_digits(rng, 4)}"))
        else:
            rows.append(Row("CASH", _money(total)))
        rows.append(Row("Thank you for shopping!" if rng.random() < 0.5
                        else "THANK YOU, PLEASE COME AGAIN", center=True))
    return rows


def receipt_face(face: FontFace) -> bool:
    """Faces that look like a till printer: monospace or condensed, upright. Typewriter and
    old-style faces (CMU Typewriter with its slanted files, Libertine Mono) are left out."""
    low = f"{face.family} {face.path}".lower()
    if any(k in low for k in ("italic", "oblique", "typewriter", "libertine")):
        return False
    return face.style == "mono" or any(k in low for k in ("condensed", "narrow"))


class ReceiptRenderer(Renderer):
    """Photographed thermal receipts with word and line polygons.

    Args:
        fonts: font catalogue.
        long_side: long side of the photo in pixels.
        ru_prob: share of Russian receipts (the rest are English).
        scan_prob: share of receipts scanned flat instead of photographed (at the printed
            size: a scan is as long as the receipt).
        office_prob: share of the scanned receipts scanned on a whole A4 page instead, in
            office-copier looks (:func:`_office_scan`).
    """

    output = "coco"
    categories = ("word", "line")

    def __init__(self, fonts: FontBook | None = None, long_side: int = 1600,
                 ru_prob: float = 0.6, scan_prob: float = 0.0, office_prob: float = 0.0) -> None:
        for name, value in (("ru_prob", ru_prob), ("scan_prob", scan_prob),
                            ("office_prob", office_prob)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        self.scan_prob = scan_prob
        self.office_prob = office_prob
        self.fonts = fonts or FontBook()
        self.long_side = long_side
        self.ru_prob = ru_prob
        self.samplers = {lang: WordSampler(lang) for lang in ("ru", "en")}
        self.faces = {lang: tuple(f for f in self.fonts.fonts("mono", SCRIPTS[lang])
                                  + self.fonts.fonts("sans", SCRIPTS[lang]) if receipt_face(f))
                      for lang in ("ru", "en")}

    def _face(self, rng: np.random.Generator, lang: str, text: str) -> FontFace:
        ok = [f for f in self.faces[lang] if f.covers(text)]
        if ok:
            return ok[int(rng.integers(len(ok)))]
        face = self.fonts.pick(rng, ("mono", "sans"), SCRIPTS[lang], text)
        if face is None:
            raise ValueError(f"no installed font draws {text[:40]!r}")
        return face

    def render(self, rng: np.random.Generator) -> PageSample:
        lang = "ru" if rng.random() < self.ru_prob else "en"
        rows = receipt_rows(rng, lang, self.samplers[lang])
        face = self._face(rng, lang, "".join(r.left + r.right for r in rows))
        page, paper = self._print(rows, face, rng)
        # The photographed and flat-scan paths fade the print against the printed strip
        # itself, not the blank paper, so their fade leaves the print as it is (its draws
        # still run): kept, so that the seeded tune and test sets stay the images they were.
        # Office scans fade against the paper.
        if self.scan_prob > 0 and rng.random() < self.scan_prob:  # no draw at 0: seeds keep
            if self.office_prob > 0 and rng.random() < self.office_prob:  # their receipts
                return _office_scan(page, paper, rng)
            return _scan(page, page.image, rng)
        return self._photograph(page, page.image, rng)

    def _print(self, rows: list[Row], face: FontFace, rng: np.random.Generator
               ) -> tuple[PageCanvas, np.ndarray]:
        """Lay the rows out on a strip of thermal paper (before fading and creasing); also
        returns the blank paper."""
        size = int(rng.integers(18, 30))
        font = face.pil(size)
        columns = int(rng.integers(30, 46))
        text_w = columns * font.getlength("0")
        margin = int(size * rng.uniform(0.6, 1.8))
        leading = rng.uniform(1.15, 1.5)
        big = int(size * rng.uniform(1.2, 1.5))
        height = int(margin * 2 + sum((big if r.big else size) * leading
                                      + (size * 0.8 if r.rule else 0) for r in rows) + size)
        width = int(text_w + 2 * margin)
        paper = degrade.paper(height, width, rng, color=tuple(rng.uniform(236, 255, 3)),
                              texture=rng.uniform(0.1, 0.5))
        blank = paper.copy()
        page = PageCanvas(paper)
        g = rng.uniform(10, 70)
        color = (g, g, g + rng.uniform(0, 25))  # thermal print is often a little blue-black
        y = margin
        for row in rows:
            fsize = big if row.big else size
            spec = LineSpec(face=face, size=fsize, color=color, space=1.0,
                            pad=max(1.5, fsize * 0.08))
            baseline = y + fsize
            right_w = face.pil(fsize).getlength(row.right) if row.right else 0.0
            room = text_w - (right_w + fsize if row.right else 0)
            x = margin
            if row.center:
                x = margin + max(0.0, (text_w - face.pil(fsize).getlength(row.left)) / 2)
            page.draw_line(row.left.split(), spec, x, baseline, room, rng)
            if row.right:
                page.draw_line(row.right.split(), spec, margin + text_w - right_w, baseline,
                               right_w + fsize, rng)
            y += fsize * leading
            if row.rule:
                _dashed_rule(page.image, margin, margin + text_w, int(y + size * 0.3), color,
                             max(1, size // 12), rng)
                y += size * 0.8
        return page, blank

    def _photograph(self, page: PageCanvas, blank: np.ndarray,
                    rng: np.random.Generator) -> PageSample:
        img = _thermal_fade(page.image, blank, rng)
        img = _creases(img, rng)
        h, w = img.shape[:2]
        outlines = _outlines(page)
        # curl: a smooth bend of the strip, applied to pixels and polygon outlines alike
        bend = _Bend(w, h, rng)
        img, ink, cover = bend.apply(img, page.ink)
        outlines = [(t, bend.forward(p), i, c) for t, p, i, c in outlines]
        # camera: place the strip on a table with perspective and a turn
        fw, fh = (int(self.long_side * rng.uniform(0.6, 0.8)), self.long_side)
        bw, bh = img.shape[1], img.shape[0]
        scale = min(fh * rng.uniform(0.7, 0.95) / bh, fw * 0.9 / bw)
        src = np.array([[0, 0], [bw, 0], [bw, bh], [0, bh]], np.float32)
        dst = src * scale
        # corner jitter in proportion to the strip's width: a camera tilt, not a shear
        dst += rng.uniform(-0.04, 0.04, (4, 2)) * bw * scale
        t = np.deg2rad(rng.uniform(-2.5, 2.5))
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        dst = (dst - dst.mean(0)) @ rot.T
        span = dst.max(0) - dst.min(0)
        fit = min(1.0, (fw - 4) / span[0], (fh - 4) / span[1])
        dst *= fit
        lo, hi = dst.min(0), dst.max(0)
        room = np.array([fw, fh]) - (hi - lo) - 4
        dst += -lo + 2 + rng.uniform(0, 1, 2) * np.maximum(room, 0)
        m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
        table = _table(fw, fh, rng)
        photo = cv2.warpPerspective(img, m, (fw, fh), flags=cv2.INTER_AREA
                                    if scale < 1 else cv2.INTER_LINEAR)
        alpha = cv2.warpPerspective(cover, m, (fw, fh), flags=cv2.INTER_LINEAR)
        ink = cv2.warpPerspective(ink, m.astype(np.float64), (fw, fh), flags=cv2.INTER_NEAREST)
        shadow = cv2.GaussianBlur(np.roll(alpha, (int(rng.integers(2, 12)),) * 2, (0, 1)),
                                  (0, 0), rng.uniform(3, 10))
        table = (table * (1 - rng.uniform(0.2, 0.5) * shadow[..., None])).astype(np.float32)
        a = alpha[..., None]
        out = (photo * a + table * (1 - a)).clip(0, 255).astype(np.uint8)
        out = _finish(out, rng)
        return PageSample(image=out, annotations=_annotations(outlines, m, fw, fh),
                          ink=ink.astype(np.int32))


def _scan(page: PageCanvas, blank: np.ndarray, rng: np.random.Generator) -> PageSample:
    """A flatbed scan of the printed strip: faded and creased as handled paper is, but flat,
    turned by at most 1.5 degrees, inside a margin of the scanner's lid (white, or grey
    where the lid was left open), at 60-100 % of the printed size, in colour or grey."""
    img = _creases(_thermal_fade(page.image, blank, rng), rng)
    h, w = img.shape[:2]
    scale = rng.uniform(0.6, 1.0)
    margin = rng.uniform(0.0, 0.12, 4) * w * scale   # left, top, right, bottom
    out_w = int(w * scale + margin[0] + margin[2])
    out_h = int(h * scale + margin[1] + margin[3])
    t = np.deg2rad(rng.uniform(-1.5, 1.5))
    c = np.array([w / 2, h / 2])
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) * scale
    shift = np.array([margin[0] + w * scale / 2, margin[1] + h * scale / 2]) - rot @ c
    m = np.vstack([np.hstack([rot, shift[:, None]]), [0, 0, 1]])
    lid = (rng.uniform(235, 255),) * 3 if rng.random() < 0.7 else (rng.uniform(40, 160),) * 3
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scan = cv2.warpAffine(img, m[:2], (out_w, out_h), flags=flags,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=lid)
    ink = cv2.warpAffine(page.ink.astype(np.float32), m[:2], (out_w, out_h),
                         flags=cv2.INTER_NEAREST, borderValue=0)
    scan = _scanner(scan, rng, grey_p=0.5, blur=0.8, noise=4)
    if rng.random() < 0.7:
        scan = degrade.jpeg(scan, int(rng.integers(60, 95)))
    return PageSample(image=scan, annotations=_annotations(_outlines(page), m, out_w, out_h),
                      ink=ink.astype(np.int32))


def _office_scan(page: PageCanvas, blank: np.ndarray, rng: np.random.Generator) -> PageSample:
    """An office scan of the strip: laid on an A4 flatbed page (portrait) at 25-50 % of its
    width, turned by at most 3 degrees. The print is sometimes dot-matrix (each stroke broken
    into the head's dots) or a purple or blue ribbon; the page is the lid's white or a
    copier's grey, often speckled with toner dots in patches; the scan is grey or colour,
    sometimes 1-bit. Word and line polygons follow the strip."""
    img = page.image
    if rng.random() < 0.35:
        img = _dot_matrix(img, blank, rng)
    if rng.random() < 0.3:
        img = _ribbon(img, blank, rng)
    img = _creases(_thermal_fade(img, blank, rng), rng)
    h, w = img.shape[:2]
    out_w = int(rng.uniform(1700, 2500))
    out_h = int(out_w * np.sqrt(2))
    scale = min(out_w * rng.uniform(0.25, 0.5) / w, out_h * 0.95 / h)
    t = np.deg2rad(rng.uniform(-3, 3))
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) * scale
    corners = (rot @ np.array([[0, w, w, 0], [0, 0, h, h]], float)).T
    lo, hi = corners.min(0), corners.max(0)
    room = np.maximum(np.array([out_w, out_h]) - (hi - lo) - 4, 0)
    shift = -lo + 2 + rng.uniform(0, 1, 2) * room
    m = np.vstack([np.hstack([rot, shift[:, None]]), [0, 0, 1]])
    white = rng.random() < 0.6                 # the lid's white, else a copier's grey
    grey = rng.uniform(238, 255) if white else rng.uniform(150, 225)
    lid = degrade.paper(out_h, out_w, rng, color=(grey,) * 3, texture=0.3 if white else 1.0)
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    strip = cv2.warpAffine(img, m[:2], (out_w, out_h), flags=flags)
    cover = cv2.warpAffine(np.ones((h, w), np.float32), m[:2], (out_w, out_h),
                           flags=cv2.INTER_LINEAR)[..., None]
    scan = (strip * cover + lid * (1 - cover)).astype(np.float32)
    if rng.random() < 0.5:
        scan = _toner_dots(scan, rng)
    scan = scan.clip(0, 255).astype(np.uint8)
    ink = cv2.warpAffine(page.ink.astype(np.float32), m[:2], (out_w, out_h),
                         flags=cv2.INTER_NEAREST, borderValue=0)
    scan = _scanner(scan, rng, grey_p=0.6, blur=1.0, noise=5)
    if rng.random() < 0.15:
        scan = degrade.bilevel(scan)
    elif rng.random() < 0.7:
        scan = degrade.jpeg(scan, int(rng.integers(50, 95)))
    return PageSample(image=scan, annotations=_annotations(_outlines(page), m, out_w, out_h),
                      ink=ink.astype(np.int32))


def _scanner(scan: np.ndarray, rng: np.random.Generator, grey_p: float, blur: float,
             noise: float) -> np.ndarray:
    """A scanner's look: grey with probability ``grey_p``, blurred by up to ``blur`` and
    noised by up to ``noise`` (the draws in this order: seeded sets depend on it)."""
    if rng.random() < grey_p:
        grey = cv2.cvtColor(scan, cv2.COLOR_RGB2GRAY)
        scan = np.repeat(grey[..., None], 3, axis=2)
    scan = degrade.blur(scan, rng.uniform(0, blur))
    return degrade.gaussian_noise(scan, rng, rng.uniform(0, noise))


def _dot_matrix(img: np.ndarray, blank: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Strokes broken into a print head's dots: the ink kept only under round dots on a grid
    whose pitch is 2.5-4 pixels of the printed strip (a 7-9 dot character cell)."""
    h, w = img.shape[:2]
    pitch = rng.uniform(2.5, 4.0)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = (y % pitch) - pitch / 2
    dx = (x % pitch) - pitch / 2
    radius = pitch * rng.uniform(0.3, 0.45)
    dots = np.clip(radius + 0.5 - np.sqrt(dx * dx + dy * dy), 0.0, 1.0)[..., None]
    out = blank.astype(np.float32) + (img.astype(np.float32) - blank) * dots
    return out.clip(0, 255).astype(np.uint8)


def _ribbon(img: np.ndarray, blank: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The print recoloured as a purple or blue ribbon (or carbon copy) would leave it."""
    dark = ((blank.astype(np.float32) - img).mean(axis=2, keepdims=True) / 255.0).clip(0, 1)
    if rng.random() < 0.6:   # purple
        color = np.array([rng.uniform(90, 150), rng.uniform(40, 90), rng.uniform(140, 200)])
    else:                    # blue
        color = np.array([rng.uniform(20, 70), rng.uniform(40, 90), rng.uniform(130, 200)])
    strength = rng.uniform(1.0, 1.6)
    paper = blank.astype(np.float32)
    out = paper - (dark * strength).clip(0, 1) * (paper - color.astype(np.float32))
    return out.clip(0, 255).astype(np.uint8)


def _toner_dots(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copier speckle: small dark dots, dense in some patches of the page, sparse elsewhere."""
    h, w = img.shape[:2]
    density = degrade.smooth_noise(h, w, rng, cells=int(rng.integers(2, 6)))
    density = (density - density.min()) / max(float(np.ptp(density)), 1e-6)
    density = density ** rng.uniform(1.0, 3.0) * rng.uniform(0.05, 0.35)
    dots = (rng.random((h, w), dtype=np.float32) < density).astype(np.float32)
    size = int(rng.integers(1, 3))
    if size > 1:
        dots = cv2.dilate(dots, np.ones((size, size), np.uint8))
    dots = cv2.GaussianBlur(dots, (0, 0), 0.6)
    darkness = rng.uniform(60, 160)
    return img - np.clip(dots, 0, 1)[..., None] * darkness


Outline = tuple[str, np.ndarray, int, str]


def _outlines(page: PageCanvas) -> list[Outline]:
    """``(text, densified polygon, ink id, category)`` of every word, then every line."""
    words = [(pw.text, _densify(pw.quad), pw.ink_id, "word")
             for line in page.lines for pw in line.words]
    return words + [(" ".join(pw.text for pw in line.words), _densify(line.quad), 0, "line")
                    for line in page.lines]


def _annotations(outlines: list[Outline], m: np.ndarray, w: int, h: int) -> list[Annotation]:
    """The outlines moved by the 3x3 transform ``m`` and kept inside a (w, h) image."""
    limit = np.array([w - 1, h - 1], float)
    return [Annotation(cat, np.clip(degrade.warp_points(poly, m), 0, limit), text,
                       ink_id=ink_id) for text, poly, ink_id, cat in outlines]


def _dashed_rule(img: np.ndarray, x0: float, x1: float, y: int, color: tuple, thick: int,
                 rng: np.random.Generator) -> None:
    dash = int(rng.integers(4, 12))
    gap = int(rng.integers(3, 8))
    c = tuple(float(v) for v in color)
    x = int(x0)
    while x < x1:
        cv2.line(img, (x, y), (min(int(x1), x + dash), y), c, thick)
        x += dash + gap


def _thermal_fade(img: np.ndarray, blank: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Patchy fade of the print, and a few worn print-head columns printing lighter."""
    h, w = img.shape[:2]
    base = rng.uniform(0.55, 1.0)
    patches = degrade.smooth_noise(h, w, rng, cells=int(rng.integers(2, 8)))
    fade = base + rng.uniform(0.05, 0.3) * patches
    cols = np.ones(w, np.float32)
    for _ in range(int(rng.integers(0, 5))):
        x = int(rng.integers(0, w))
        cols[x:x + int(rng.integers(1, 4))] = rng.uniform(0.45, 0.8)
    fade = np.clip(fade * cols[None, :], 0.4, 1.0)[..., None]
    out = blank.astype(np.float32) + (img.astype(np.float32) - blank) * fade
    return out.clip(0, 255).astype(np.uint8)


def _creases(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fold lines (a bright ridge beside a dark valley) and crumpled low-frequency shading."""
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    crumple = degrade.smooth_noise(h, w, rng, cells=int(rng.integers(6, 20)))
    gain = 1 + rng.uniform(0.02, 0.08) * crumple
    for _ in range(int(rng.integers(0, 4))):
        t = np.deg2rad(rng.uniform(-20, 20))
        y0 = rng.uniform(0.1, 0.9) * h
        d = (ys - y0 - (xs - w / 2) * np.tan(t)) * np.cos(t)
        width = rng.uniform(2, 10)
        u = d / width
        gain += rng.uniform(0.04, 0.12) * u * np.exp(-u * u)
    return np.clip(img.astype(np.float32) * gain[..., None], 0, 255).astype(np.uint8)


class _Bend:
    """A smooth curl of a (w, h) strip: the sides lift (x pulled in, rows bowed) and one end
    rolls up (rows near it squeezed). ``forward`` maps strip points to the bent image, whose
    size is (w, h + 2 * pad); ``apply`` resamples pixels through the inverse of that map."""

    def __init__(self, w: int, h: int, rng: np.random.Generator) -> None:
        self.w, self.h = w, h
        self.squeeze = rng.uniform(0, 0.06)
        self.bow = rng.uniform(-1, 1) * 0.03 * w
        self.wave = rng.uniform(0, 2 * np.pi)
        self.roll = rng.uniform(0, 0.25) if rng.random() < 0.5 else 0.0
        self.roll_top = rng.random() < 0.5
        self.pad = int(abs(self.bow) * 1.6) + 2

    def _map(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = (x - self.w / 2) / (self.w / 2)
        v = y / self.h
        nx = self.w / 2 + (x - self.w / 2) * (1 - self.squeeze * u * u)
        ny = y + self.bow * u * u * (1 + 0.5 * np.sin(self.wave + np.pi * v))
        if self.roll:
            e = (1 - v) if self.roll_top else v
            k = np.clip((e - 0.85) / 0.15, 0, 1)
            shift = self.roll * 0.15 * self.h * k ** 3 / 3
            ny = ny + (shift if self.roll_top else -shift)
        return nx, ny + self.pad

    def forward(self, points: np.ndarray) -> np.ndarray:
        nx, ny = self._map(points[:, 0].astype(np.float64), points[:, 1].astype(np.float64))
        return np.stack([nx, ny], 1)

    def apply(self, img: np.ndarray, ink: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bent image, bent ink map as float32, paper cover in [0, 1] as float32)."""
        oh = self.h + 2 * self.pad
        ys, xs = np.mgrid[0:oh, 0:self.w].astype(np.float32)
        sx, sy = xs.copy(), ys - self.pad
        for _ in range(8):  # fixed-point inverse of a near-identity map
            fx, fy = self._map(sx, sy)
            sx += xs - fx
            sy += ys - fy
        sx, sy = sx.astype(np.float32), sy.astype(np.float32)
        out = cv2.remap(img, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        ids = cv2.remap(ink.astype(np.float32), sx, sy, cv2.INTER_NEAREST,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        cover = cv2.remap(np.ones(ink.shape, np.float32), sx, sy, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return out, ids, cover


def _densify(quad: np.ndarray, steps: int = 8) -> np.ndarray:
    """A quad (clockwise from top-left) as a polygon with ``steps`` points along its top and
    bottom edges, so a curved map keeps the outline around the curved text."""
    q = np.asarray(quad, np.float64)
    t = np.linspace(0, 1, steps)[:, None]
    top = q[0] + (q[1] - q[0]) * t
    bottom = q[2] + (q[3] - q[2]) * t
    return np.vstack([top, bottom])


def _table(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A table top: a plain or wood-grained surface (drawn small: it is only a backdrop)."""
    sw, sh = max(2, w // 4), max(2, h // 4)
    color = tuple(rng.uniform(30, 200, 3))
    small = degrade.paper(sh, sw, rng, color=color, texture=2).astype(np.float32)
    if rng.random() < 0.5:  # wood grain
        ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
        t = rng.uniform(0, np.pi)
        grain = np.sin((xs * np.cos(t) + ys * np.sin(t)) * rng.uniform(0.2, 0.8)
                       + 3 * degrade.smooth_noise(sh, sw, rng, cells=4))
        small *= (1 + 0.08 * grain)[..., None]
    return cv2.resize(small.clip(0, 255), (w, h), interpolation=cv2.INTER_LINEAR)


def _finish(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Phone-photo look: uneven light, sometimes a hand's shadow, blur, noise, JPEG."""
    img = degrade.shading(img, rng, strength=rng.uniform(0.1, 0.45))
    if rng.random() < 0.3:
        h, w = img.shape[:2]
        mask = np.zeros((h, w), np.float32)
        pts = (rng.uniform(0, 1, (5, 2)) * [w, h]).astype(np.int32)
        cv2.fillPoly(mask, [cv2.convexHull(pts)], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(8, 30))
        img = (img * (1 - rng.uniform(0.15, 0.4) * mask[..., None])).astype(np.uint8)
    img = degrade.blur(img, rng.uniform(0, 1.2))
    img = degrade.gaussian_noise(img, rng, rng.uniform(1, 6))
    if rng.random() < 0.6:
        img = degrade.jpeg(img, int(rng.integers(55, 92)))
    return img

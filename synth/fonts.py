"""Fonts found on the system, classified by style, with per-font glyph coverage.

Fonts come from ``fc-list`` when fontconfig is installed, else from scanning the usual font
folders. Every font's character map is read once (fontTools) and cached, so a generator can
ask "which handwriting fonts can draw this Russian word?" and never draws tofu boxes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from PIL import ImageFont

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
STYLES = ("serif", "sans", "mono", "hand", "cjk", "display")

# Debian packages that provide fonts of a given style for a given script.
PACKAGES: dict[tuple[str, str], str] = {
    ("serif", "latin"): "fonts-dejavu fonts-liberation2 fonts-freefont-ttf fonts-noto-core "
                        "fonts-paratype fonts-ebgaramond fonts-linuxlibertine fonts-cmu",
    ("serif", "cyrillic"): "fonts-dejavu fonts-liberation2 fonts-freefont-ttf fonts-noto-core "
                           "fonts-paratype fonts-ebgaramond fonts-linuxlibertine fonts-cmu",
    ("sans", "latin"): "fonts-dejavu fonts-liberation2 fonts-freefont-ttf fonts-noto-core",
    ("sans", "cyrillic"): "fonts-dejavu fonts-liberation2 fonts-freefont-ttf fonts-noto-core",
    ("mono", "latin"): "fonts-dejavu fonts-liberation2 fonts-freefont-ttf",
    ("mono", "cyrillic"): "fonts-dejavu fonts-liberation2 fonts-freefont-ttf",
    ("hand", "latin"): "fonts-dkg-handwriting fonts-comic-neue fonts-humor-sans fonts-sjfonts",
    ("hand", "cyrillic"): "fonts-sjfonts fonts-klee",
    ("cjk", "han"): "fonts-wqy-zenhei fonts-noto-cjk",
    ("display", "latin_caps"): "fonts-bebas-neue fonts-roboto-unhinted",
}

SCRIPT_SAMPLES = {
    "latin": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "cyrillic": "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя0123456789",
    "latin_caps": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "han": "皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新警学",
}

_HAND_NAMES = ("steve", "klee", "dkg", "handwriting", "comic", "humor", "kristi", "dancing",
               "kaushan", "breip", "ecolier", "script", "delphine",
               # Google Fonts handwriting families (npm @fontsource, synth/fontsource.py)
               "caveat", "neucha", "pangolin", "shantell", "comforter", "vibes",
               "pacifico", "madi")
# Book faces whose names do not say "serif" (Garamond, Libertine: old-style book type).
_SERIF_NAMES = ("times", "georgia", "garamond", "libertine")
# Condensed display faces (caps-only Bebas Neue, Roboto Condensed) for licence-plate
# lettering; kept out of "sans" so page and line generators draw exactly what they did.
_DISPLAY_NAMES = ("bebas", "roboto condensed")
# Noto ships one family per script; only the general-purpose ones suit page text.
_NOTO_GENERAL = re.compile(r"^Noto (Sans|Serif)( Mono| Display)?$")


class MissingFontError(RuntimeError):
    """No installed font can draw the requested script in the requested style."""


@dataclass(frozen=True)
class FontFace:
    """One face of an installed font file.

    Attributes:
        path: font file.
        index: face index inside a ``.ttc`` collection (0 otherwise).
        family: family name as fontconfig reports it.
        style: one of ``STYLES``.
    """

    path: str
    index: int
    family: str
    style: str

    @property
    def name(self) -> str:
        return f"{self.family} ({Path(self.path).name})"

    def covers(self, text: str) -> bool:
        """Whether the font has a glyph for every non-space character of ``text``."""
        cmap = _cmap(self.path, self.index)
        return all(ord(c) in cmap for c in text if not c.isspace())

    @property
    def fullwidth_cyrillic(self) -> bool:
        """Whether Cyrillic letters take a full em (CJK-style, e.g. Klee One); such text is
        re-spaced proportionally when drawn."""
        return _fullwidth_cyrillic(self.path, self.index)

    def pil(self, size: int) -> ImageFont.FreeTypeFont:
        """A cached PIL font of pixel ``size``."""
        return _pil_font(self.path, self.index, int(size))


@cache
def _cmap(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        cmap = font.getBestCmap() or {}
        return frozenset(cmap)
    finally:
        font.close()


@cache
def _fullwidth_cyrillic(path: str, index: int) -> bool:
    cyr, lat = "оеаинтсрвлкмдпу", "oeaintsrvlkmdpu"
    cmap = _cmap(path, index)
    if not all(ord(c) in cmap for c in cyr + lat):
        return False
    font = _pil_font(path, index, 100)
    return font.getlength(cyr) > 1.4 * font.getlength(lat)


@lru_cache(maxsize=512)
def _pil_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size=size, index=index, layout_engine=ImageFont.Layout.BASIC)


def classify(family: str, path: str) -> str | None:
    """Style of a font from its family name and file name, or None to leave it out."""
    low = f"{family} {Path(path).stem}".lower()
    if any(h in low for h in _HAND_NAMES):
        return "hand"
    if "wenquanyi" in low or "wqy" in low or " cjk" in low:
        return "cjk"
    if family.startswith("Noto") and not _NOTO_GENERAL.match(family):
        return None
    if any(k in low for k in ("math", "music", "symbol", "emoji", "initials")):
        return None
    if "mono" in low or "courier" in low or "typewriter" in low:
        return "mono"
    if "serif" in low.replace("sans serif", "") or any(k in low for k in _SERIF_NAMES):
        return "serif"
    if "sans" in low or "arial" in low or "helvetica" in low:
        return "sans"
    if any(k in low for k in _DISPLAY_NAMES):
        return "display"
    return None


def _fc_list() -> list[tuple[str, int, str]]:
    out = subprocess.run(["fc-list", "--format", "%{file}\t%{index}\t%{family[0]}\n"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    faces = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].lower().endswith(FONT_SUFFIXES):
            faces.append((parts[0], int(parts[1] or 0), parts[2]))
    return faces


def _scan(dirs: Iterable[Path]) -> list[tuple[str, int, str]]:
    from fontTools.ttLib import TTCollection, TTFont

    faces = []
    for d in dirs:
        if not d.is_dir():
            continue
        for p in sorted(d.rglob("*")):
            if p.suffix.lower() not in FONT_SUFFIXES:
                continue
            try:
                fonts = TTCollection(str(p), lazy=True).fonts if p.suffix.lower() == ".ttc" \
                    else [TTFont(str(p), lazy=True)]
            except Exception:  # an unreadable font file is simply not offered
                continue
            for i, f in enumerate(fonts):
                family = f["name"].getBestFamilyName() or p.stem
                faces.append((str(p), i, family))
    return faces


@lru_cache(maxsize=4)
def discover_fonts(dirs: tuple[Path, ...] | None = None) -> tuple[FontFace, ...]:
    """All usable font faces on this system, sorted (so choices are reproducible).

    Args:
        dirs: folders to scan instead of asking fontconfig (mostly for tests).

    Returns:
        Faces whose style could be classified; the order is stable across runs.
    """
    raw = _fc_list() if dirs is None and shutil.which("fc-list") else _scan(dirs or FONT_DIRS)
    faces = {}
    for path, index, family in raw:
        style = classify(family, path)
        if style is not None:
            faces[(path, index)] = FontFace(path, index, family, style)
    return tuple(sorted(faces.values(), key=lambda f: (f.style, f.path, f.index)))


class FontBook:
    """Fonts grouped by style and script, with coverage checks for any text.

    Args:
        faces: faces to choose from (default: :func:`discover_fonts`).
    """

    def __init__(self, faces: Sequence[FontFace] | None = None) -> None:
        self.faces = tuple(faces if faces is not None else discover_fonts())
        self._by_key: dict[tuple[str, str], tuple[FontFace, ...]] = {}

    def fonts(self, style: str, script: str) -> tuple[FontFace, ...]:
        """Faces of ``style`` that cover every letter and digit of ``script``.

        Raises:
            MissingFontError: none installed; the message names Debian packages to install.
        """
        key = (style, script)
        if key not in self._by_key:
            sample = SCRIPT_SAMPLES[script]
            self._by_key[key] = tuple(f for f in self.faces
                                      if f.style == style and f.covers(sample))
        found = self._by_key[key]
        if not found:
            packages = PACKAGES.get(key, "fonts-noto-core")
            raise MissingFontError(
                f"no installed {style} font covers {script} text; "
                f"install Debian packages: apt-get install {packages}")
        return found

    def pick(self, rng: np.random.Generator, styles: Sequence[str], script: str,
             text: str = "") -> FontFace | None:
        """A random face of one of ``styles`` for ``script`` that can draw ``text``.

        Returns:
            The face, or None when no face of those styles has every glyph of ``text``.
        """
        candidates: list[FontFace] = []
        for style in styles:
            try:
                candidates.extend(self.fonts(style, script))
            except MissingFontError:
                if len(styles) == 1:
                    raise
        if not candidates:
            raise MissingFontError(
                f"no installed font of styles {list(styles)} covers {script} text; install "
                + " ".join(PACKAGES.get((s, script), "") for s in styles))
        ok = [f for f in candidates if f.covers(text)]
        if not ok:
            return None
        return ok[int(rng.integers(len(ok)))]

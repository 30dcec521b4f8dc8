"""Word and short-line crops for recognizer training, written straight to ``labels.tsv``."""

from __future__ import annotations

import cv2
import numpy as np

from synth import degrade
from synth.base import Renderer
from synth.fonts import FontBook, FontFace
from synth.glyphs import InkMask, draw_text
from synth.records import CropSample
from synth.text import SCRIPTS, TextStyle, WordSampler, quote_speech

PRINTED_STYLES = ("serif", "sans", "mono")
_OPENERS = frozenset(" ([{\u00ab-")


def typographic_quotes(text: str) -> str:
    """Straight quotes as typeset: ``"`` as an opening or closing curly quote, ``'`` as a
    closing one (apostrophe) or an opening one after a space. Ground truth keeps the straight
    ones (as transcriptions do), so the reader learns that both shapes read the same."""
    out = []
    for i, c in enumerate(text):
        opening = i == 0 or text[i - 1] in _OPENERS
        if c == '"':
            out.append("\u201c" if opening else "\u201d")
        elif c == "'":
            out.append("\u2018" if opening else "\u2019")
        else:
            out.append(c)
    return "".join(out)


# Longest first: "ffi" is one glyph, not "ff" + "i".
LIGATURES = (("ffi", "\ufb03"), ("ffl", "\ufb04"), ("ff", "\ufb00"), ("fi", "\ufb01"),
             ("fl", "\ufb02"))


def typographic_ligatures(text: str) -> str:
    """``fi``, ``fl``, ``ff``, ``ffi``, ``ffl`` as the single glyphs typeset books and papers
    print them. Like curly quotes, only drawn: the label keeps the letters."""
    for letters, glyph in LIGATURES:
        text = text.replace(letters, glyph)
    return text


def hyphen_break(text: str, rng: np.random.Generator) -> str:
    """Cut the last word after one of its letters and end it with ``-`` ("... fa-").

    A last word of fewer than four letters (or not ending in letters) is left whole.
    """
    head, _, last = text.rpartition(" ")
    letters = len(last) - len(last.lstrip("\"'(«„“"))
    word = last[letters:]
    if len(word) < 4 or not word[:4].isalpha():
        return text
    cut = letters + int(rng.integers(2, min(len(word) - 1, 8)))
    return f"{head} {last[:cut]}-" if head else f"{last[:cut]}-"


def pick_text_and_font(rng: np.random.Generator, fonts: FontBook, sampler: WordSampler,
                       styles: tuple[str, ...], n_words: int,
                       tries: int = 20) -> tuple[str, FontFace]:
    """Draw a phrase and a font of ``styles`` that has a glyph for each of its characters.

    Falls back to plain lowercase words (which every font of the script covers).
    """
    script = SCRIPTS[sampler.lang]
    for _ in range(tries):
        text = " ".join(sampler.words_n(rng, n_words))
        face = fonts.pick(rng, styles, script, text)
        if face is not None:
            return text, face
    text = " ".join(sampler.plain_word(rng) for _ in range(n_words))
    face = fonts.pick(rng, styles, script, text)
    if face is None:  # pragma: no cover - fonts(style, script) guarantees the letters
        raise RuntimeError(f"no font of {styles} draws {text!r}")
    return text, face


class LineRenderer(Renderer):
    """Tight crops of one word or a few words, printed or handwritten, RU or EN.

    Args:
        fonts: font catalogue (default: system fonts).
        min_height / max_height: crop height range in pixels.
        hand_prob: share of handwriting-font crops.
        line_prob: share of multi-word crops (2 to ``max_words`` words).
        ru_prob: share of Russian crops.
        max_words: most words in a multi-word crop.
        curly_prob: share of printed crops whose straight quotes are drawn curly (the label
            keeps them straight; :func:`typographic_quotes`).
        bilevel_prob: share of printed crops binarized before scaling, like 1-bit scans.
        symbol_prob: per-word chance of a rarer mark (brackets, $, #, @, /, „“) and, for
            Latin, of an accented letter (é, ü, ñ, ç...): the glyphs of European and
            technical print.
        break_prob: share of printed multi-word crops whose last word is cut after one of
            its letters and ends with ``-``, as the last line of a justified column often
            does (drawn only when on, so earlier seeds keep their text).
        natural_words: words as often as in real text (Zipf weight ``1 / rank``, not its
            square root), so short function words ("a", "I", "of", "в") and the spaces
            around them are common, and English "i" is written "I".
        neighbour_prob: share of crops that also show a strip of the lines above and below
            (their descenders / ascenders, cut by the crop's edge), as a word or line box cut
            from a tightly set page does; the label stays the crop's own text.
        ligature_prob: share of serif / sans crops drawn with ``fi``, ``fl``, ``ff``,
            ``ffi``, ``ffl`` ligatures (:func:`typographic_ligatures`; label unchanged).
        quote_prob: share of printed crops with a run of their words quoted as speech
            (:func:`~synth.text.quote_speech`: ``"It's nothing." How``).
        hand_warp_prob: share of handwriting crops drawn with :func:`~synth.degrade.hand_warp`
            (drifting baseline, letters jittered in place, size and position, elastic
            wobble, pen pressure); drawn only when on, so earlier seeds keep their images.
    """

    output = "crops"

    def __init__(self, fonts: FontBook | None = None, min_height: int = 32, max_height: int = 96,
                 hand_prob: float = 0.35, line_prob: float = 0.4, ru_prob: float = 0.55,
                 max_words: int = 5, curly_prob: float = 0.0,
                 bilevel_prob: float = 0.0, symbol_prob: float = 0.0,
                 break_prob: float = 0.0, natural_words: bool = False,
                 neighbour_prob: float = 0.0, quote_prob: float = 0.0,
                 ligature_prob: float = 0.0, hand_warp_prob: float = 0.0) -> None:
        if max_words < 2:
            raise ValueError(f"max_words must be at least 2, got {max_words}")
        self.fonts = fonts or FontBook()
        self.min_height = min_height
        self.max_height = max_height
        self.hand_prob = hand_prob
        self.line_prob = line_prob
        self.ru_prob = ru_prob
        self.max_words = max_words
        self.curly_prob = curly_prob
        self.bilevel_prob = bilevel_prob
        self.break_prob = break_prob
        self.neighbour_prob = neighbour_prob
        self.quote_prob = quote_prob
        self.ligature_prob = ligature_prob
        self.hand_warp_prob = hand_warp_prob
        style = TextStyle(symbols=symbol_prob, accents=symbol_prob,
                          zipf=1.0 if natural_words else 0.5, proper_i=natural_words)
        self.samplers = {lang: WordSampler(lang, style) for lang in ("ru", "en")}
        for lang in self.samplers:  # fail early, with the packages to install
            self.fonts.fonts("hand", SCRIPTS[lang])
            for style in PRINTED_STYLES:
                self.fonts.fonts(style, SCRIPTS[lang])

    def render(self, rng: np.random.Generator) -> CropSample:
        sampler = self.samplers["ru" if rng.random() < self.ru_prob else "en"]
        hand = rng.random() < self.hand_prob
        styles = ("hand",) if hand else (PRINTED_STYLES[int(rng.integers(3))],)
        n_words = 1 if rng.random() >= self.line_prob else int(rng.integers(2, self.max_words + 1))
        text, face = pick_text_and_font(rng, self.fonts, sampler, styles, n_words)
        # Drawn only when on, so earlier seeds keep their text.
        if self.quote_prob and not hand and rng.random() < self.quote_prob:
            quoted = " ".join(quote_speech(text.split(" "), sampler.lang, rng))
            text = quoted if face.covers(quoted) else text
        if self.break_prob and not hand and n_words > 1 and rng.random() < self.break_prob:
            text = hyphen_break(text, rng)
        size = int(rng.integers(26, 72))
        shown = text
        if not hand and self.curly_prob and rng.random() < self.curly_prob:
            curly = typographic_quotes(text)
            shown = curly if face.covers(curly) else text
        if self.ligature_prob and face.style in ("serif", "sans") \
                and rng.random() < self.ligature_prob:
            joined = typographic_ligatures(shown)
            shown = joined if face.covers(joined) else shown
        ink = draw_text(face, size, shown)
        if ink is None:  # pragma: no cover - covered glyphs always leave ink
            raise RuntimeError(f"{face.name} left no ink for {text!r}")
        bilevel = not hand and self.bilevel_prob and rng.random() < self.bilevel_prob
        neighbours = None
        # Drawn only when on, so earlier seeds keep their images.
        if self.neighbour_prob and rng.random() < self.neighbour_prob:
            neighbours = tuple(self._neighbour(face, size, sampler, rng)
                               if rng.random() < 0.8 else None for _ in range(2))
        image = self._paint(ink, size, hand, rng, bilevel=bool(bilevel), neighbours=neighbours)
        return CropSample(image=image, text=text)

    def _neighbour(self, face: FontFace, size: int, sampler: WordSampler, rng: np.random.Generator
                   ) -> np.ndarray | None:
        """The ink of another line in the same face and size (None if the face can't draw it)."""
        for _ in range(5):
            other = " ".join(sampler.word(rng) for _ in range(int(rng.integers(3, 9))))
            if face.covers(other):
                ink = draw_text(face, size, other)
                return None if ink is None else ink.mask
        return None

    def _paint(self, ink: InkMask, size: int, hand: bool, rng: np.random.Generator,
               bilevel: bool = False,
               neighbours: tuple[np.ndarray | None, np.ndarray | None] | None = None
               ) -> np.ndarray:
        mask = ink.mask
        if hand and self.hand_warp_prob and rng.random() < self.hand_warp_prob:
            mask = degrade.hand_warp(mask, size, rng, strength=rng.uniform(0.5, 1.5))
        if hand and rng.random() < 0.5:  # slant the handwriting a little
            shear = rng.uniform(-0.25, 0.15)
            h, w = mask.shape
            extra = int(np.ceil(abs(shear) * h))
            m = np.array([[1, shear, extra if shear < 0 else 0], [0, 1, 0]], np.float32)
            mask = cv2.warpAffine(mask, m, (w + extra, h))
        if rng.random() < 0.25:  # pen / print weight
            k = np.ones((2, 2), np.uint8)
            mask = cv2.dilate(mask, k) if rng.random() < 0.6 else cv2.erode(mask, k)
            if not (mask > 0).any():
                mask = ink.mask
        h, w = mask.shape
        ml, mr, mt, mb = (rng.uniform(0.02, 0.25, 4) * size).astype(int) + 1
        H, W = h + mt + mb, w + ml + mr
        bg_color = None
        if rng.random() < 0.2:  # coloured or grey background (forms, stickers, screens)
            bg_color = tuple(rng.uniform(150, 255, 3))
        canvas = degrade.paper(H, W, rng, color=bg_color, texture=rng.uniform(0.3, 1.5))
        color = degrade.ink_color(rng, handwriting=hand)
        if bg_color is not None and np.mean(bg_color) < 190:
            color = color * 0.5
        degrade.composite(canvas, mask, color, ml, mt)
        if neighbours is not None:  # strips of the lines above and below, cut by the edges
            above, below = neighbours
            for other, at_top in ((above, True), (below, False)):
                if other is None:
                    continue
                k = max(1, min(other.shape[0], int(rng.uniform(0.06, 0.22) * H)))
                strip = other[-k:] if at_top else other[:k]
                x = int(rng.uniform(-0.3, 0.3) * W)
                degrade.composite(canvas, strip, color, x, 0 if at_top else H - k)
        if rng.random() < 0.5:
            m, ow, oh = degrade.rotation_matrix(W, H, rng.uniform(-2.5, 2.5))
            canvas = cv2.warpAffine(canvas, m[:2], (ow, oh), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
        if bilevel:  # a 1-bit scan: black ink on white, hard edges, then scaled like a crop
            canvas = degrade.bilevel(canvas)
        scale = 1.0
        if canvas.shape[0] > self.max_height:
            scale = self.max_height / canvas.shape[0]
        elif canvas.shape[0] < self.min_height:
            scale = self.min_height / canvas.shape[0]
        # sometimes render small and upscale: low-resolution look
        if rng.random() < 0.15:
            low = max(0.35, self.min_height * 0.6 / canvas.shape[0])
            small = cv2.resize(canvas, None, fx=low, fy=low, interpolation=cv2.INTER_AREA)
            canvas = cv2.resize(small, (canvas.shape[1], canvas.shape[0]),
                                interpolation=cv2.INTER_LINEAR)
        if scale != 1.0:
            canvas = cv2.resize(canvas, (max(1, round(canvas.shape[1] * scale)),
                                         int(round(canvas.shape[0] * scale))),
                                interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if bilevel:
            return np.ascontiguousarray(canvas)
        canvas = degrade.blur(canvas, rng.uniform(0, 1.0) if rng.random() < 0.5 else 0)
        canvas = degrade.gaussian_noise(canvas, rng, rng.uniform(0, 8))
        if rng.random() < 0.3:
            canvas = degrade.jpeg(canvas, int(rng.integers(40, 95)))
        return np.ascontiguousarray(canvas)

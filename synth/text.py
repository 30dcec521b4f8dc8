"""Random words and phrases in Russian and English, always inside the recognizer's alphabet.

Words come from the frequency lists bundled with ``wordfreq`` (no download), sampled with a
flattened Zipf weight so that rare words appear too. Variation (case, numbers, punctuation)
is added here, so every renderer draws the same kind of text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from recognition.alphabet import DEFAULT_ALPHABET, unsupported_chars

LANGUAGES = ("ru", "en")
SCRIPTS = {"ru": "cyrillic", "en": "latin"}
TRAILING = ",,,..:;!?"
WRAPS = ("()", "«»", '""')
# Rarer marks of printed text (prices, e-mail, code, German quotes), drawn with ``symbols``.
SYMBOL_WRAPS = ("[]", "{}", "<>", "„“", "‘’", "**")
SYMBOL_PREFIXES = ("$", "#", "№", "+", "-", "*", "~")
SYMBOL_TOKENS = ("&", "/", "—", "–", "=", "+", "*", "%", "…")
JOINERS = ("/", "|", "_", "\\", "&")
# Accented Latin letters (French, German, Spanish, Portuguese...), drawn with ``accents``.
ACCENTED = {"a": "àáâãä", "e": "èéêë", "i": "íîï", "o": "óôõö", "u": "úùûü", "c": "ç",
            "n": "ñ", "y": "ÿ", "A": "ÀÁÂÃÄ", "E": "ÈÉÊË", "I": "ÍÎÏ", "O": "ÓÔÕÖ", "U": "ÚÙÛÜ",
            "C": "Ç", "N": "Ñ", "s": "ß"}


@lru_cache(maxsize=4)
def word_list(lang: str, size: int = 30000, alphabet: str = DEFAULT_ALPHABET) -> tuple[str, ...]:
    """The ``size`` most frequent words of ``lang`` that the alphabet can write.

    Raises:
        ValueError: unknown language.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    from wordfreq import top_n_list

    words = top_n_list(lang, size)
    return tuple(w for w in words if w.strip() and not unsupported_chars(w, alphabet)
                 and not any(c.isdigit() for c in w))


@dataclass(frozen=True)
class TextStyle:
    """How often each variation appears (probabilities per word)."""

    upper: float = 0.06
    title: float = 0.12
    number: float = 0.06
    trailing_punct: float = 0.12
    wrap: float = 0.02
    hyphen: float = 0.02
    symbols: float = 0.0
    accents: float = 0.0
    zipf: float = 0.5  # words drawn with weight rank**-zipf: 1 = as often as in real text
    proper_i: bool = False  # English "i", "i'm" written "I", "I'm" as in real text


class WordSampler:
    """Draws words, numbers and phrases for one language.

    Args:
        lang: ``"ru"`` or ``"en"``.
        style: variation probabilities.
        size: how many of the most frequent words to draw from.
    """

    def __init__(self, lang: str, style: TextStyle | None = None, size: int = 30000) -> None:
        self.lang = lang
        self.script = SCRIPTS[lang]
        self.style = style or TextStyle()
        self.words = word_list(lang, size)
        # Zipf ranks flattened (by the square root by default): common words dominate less.
        ranks = np.arange(1, len(self.words) + 1)
        # the default keeps its exact earlier weights (x ** -0.5 differs in the last bit)
        w = 1.0 / np.sqrt(ranks) if self.style.zipf == 0.5 else ranks ** -float(self.style.zipf)
        self._cdf = np.cumsum(w / w.sum())

    def plain_word(self, rng: np.random.Generator) -> str:
        i = int(np.searchsorted(self._cdf, rng.random()))
        word = self.words[min(i, len(self.words) - 1)]
        if self.style.proper_i and self.lang == "en" and (word == "i" or word.startswith("i'")):
            return "I" + word[1:]
        return word

    def number(self, rng: np.random.Generator) -> str:
        kind = rng.integers(5)
        if kind == 0:
            return str(int(rng.integers(0, 100)))
        if kind == 1:
            return str(int(rng.integers(100, 100000)))
        if kind == 2:
            return f"{rng.integers(1, 29):02d}.{rng.integers(1, 13):02d}.{rng.integers(1950, 2030)}"
        if kind == 3:
            return f"{rng.integers(0, 1000)},{rng.integers(0, 100):02d}"
        return f"{rng.integers(1, 100)}%"

    def word(self, rng: np.random.Generator) -> str:
        """One token: a word (maybe capitalised / punctuated) or a number."""
        s = self.style
        if rng.random() < s.number:
            text = self.number(rng)
        else:
            text = self.plain_word(rng)
            r = rng.random()
            if r < s.upper:
                text = text.upper()
            elif r < s.upper + s.title:
                text = text[:1].upper() + text[1:]
            if rng.random() < s.hyphen:
                text = f"{text}-{self.plain_word(rng)}"
        # Drawn only when on, so the default style keeps every earlier seed's text.
        if s.accents and self.script == "latin" and rng.random() < s.accents:
            text = _accent(text, rng)
        if s.symbols and rng.random() < s.symbols:
            return _symbolize(text, self.plain_word(rng), rng)
        if rng.random() < s.wrap:
            a, b = WRAPS[int(rng.integers(len(WRAPS)))]
            if self.lang == "en" and a == "«":
                a, b = '"', '"'
            text = f"{a}{text}{b}"
        elif rng.random() < s.trailing_punct:
            text += TRAILING[int(rng.integers(len(TRAILING)))]
        return text

    def words_n(self, rng: np.random.Generator, n: int) -> list[str]:
        """``n`` tokens forming a phrase (the first one capitalised sometimes)."""
        out = [self.word(rng) for _ in range(n)]
        if out and rng.random() < 0.4:
            out[0] = out[0][:1].upper() + out[0][1:]
        return out

    def sentence_words(self, rng: np.random.Generator, n: int) -> list[str]:
        """Words of a prose paragraph: first capitalised, sentences ending with a full stop."""
        plain = TextStyle(upper=0.01, title=0.03, number=0.03, trailing_punct=0.08,
                          wrap=0.01, hyphen=0.01)
        saved, self.style = self.style, plain
        try:
            out = [self.word(rng) for _ in range(n)]
        finally:
            self.style = saved
        new_sentence = True
        for i, w in enumerate(out):
            if new_sentence:
                out[i] = w[:1].upper() + w[1:]
            new_sentence = w.endswith((".", "!", "?"))
        if out and out[-1][-1:].isalnum():
            out[-1] += "."
        return out


def quote_speech(words: list[str], lang: str, rng: np.random.Generator) -> list[str]:
    """Words of a printed line with a run of them quoted as speech, as in prose.

    The run opens with a quote before a capitalised word and closes after its last word,
    with the sentence's mark inside the closing quote in English (``"It's nothing."``) and
    after it in Russian (``«Нет», — сказал``). A line cut from a paragraph often holds only
    one end of the quotation: a quarter of the runs only open, a quarter only close.
    """
    out = [w.strip("\"«»") or w for w in words]
    n = len(out)
    i = int(rng.integers(n))
    j = int(rng.integers(i, n))
    kind = rng.random()
    opens, closes = kind >= 0.25, kind < 0.25 or kind >= 0.5
    if not opens:
        i = 0
    if not closes:
        j = n - 1
    ru_guillemets = lang == "ru" and rng.random() < 0.7
    left, right = ("«", "»") if ru_guillemets else ('"', '"')
    if opens:
        out[i] = left + out[i][:1].upper() + out[i][1:]
    if closes:
        word = out[j].rstrip(TRAILING) or out[j]
        mark = "" if rng.random() < 0.3 else ".,?!"[int(rng.integers(4))]
        out[j] = word + right + mark if lang == "ru" else word + mark + right
    return out


def _accent(text: str, rng: np.random.Generator) -> str:
    """One letter of ``text`` that has accented forms, replaced by one of them."""
    spots = [i for i, c in enumerate(text) if c in ACCENTED]
    if not spots:
        return text
    i = spots[int(rng.integers(len(spots)))]
    forms = ACCENTED[text[i]]
    return text[:i] + forms[int(rng.integers(len(forms)))] + text[i + 1:]


def _symbolize(text: str, other: str, rng: np.random.Generator) -> str:
    """``text`` with a rarer printed mark: wrapped, prefixed, joined or replaced."""
    kind = int(rng.integers(5))
    if kind == 0:
        a, b = SYMBOL_WRAPS[int(rng.integers(len(SYMBOL_WRAPS)))]
        return f"{a}{text}{b}"
    if kind == 1:
        return SYMBOL_PREFIXES[int(rng.integers(len(SYMBOL_PREFIXES)))] + text
    if kind == 2:
        return f"{text}@{other}." + ("com", "org", "ru", "net")[int(rng.integers(4))]
    if kind == 3:
        return text + JOINERS[int(rng.integers(len(JOINERS)))] + other
    return SYMBOL_TOKENS[int(rng.integers(len(SYMBOL_TOKENS)))]

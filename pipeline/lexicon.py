"""Lexicon correction of the usual OCR confusions, with the word lists bundled in ``wordfreq``.

A line reader trained on synthetic text still confuses a few glyphs of real print: a serif
capital ``I`` read as ``l`` (``lt``, a lone ``l``), the ``fi`` / ``fl`` ligatures read as ``f``
(``offce``), ``q`` as ``g`` (``unigue``). Each such misread is one or two substitutions from
a common word. :func:`correct_word` tries the substitutions of :data:`CONFUSIONS` (at most
``max_edits`` of them) and takes the most frequent result when it is far more frequent than
the word as read: ``margin`` on wordfreq's Zipf scale (log10 of occurrences per billion
words; ``the`` is 7.7, ``office`` 5.4, a typo ~0-1), so 1.5 means 30 times more frequent.
A word that is a word itself is only checked for the serif I (``l`` at Zipf 5.2 becomes
``I`` at 7.1; ``sighed`` never becomes ``signed``, ``Wait`` for ``Walt`` stays). A word that
is no word at all (Zipf below ``non_word``), and that no confusion explains, may have lost,
gained, changed or swapped one letter (``RESORED``, ``Hlere``, ``Erance``). Words with
Cyrillic letters are looked up in the Cyrillic-script languages, others in the Latin-script
ones, and only in the languages the page is written in (:func:`page_languages`), so a German
word on a German page is a word; digits-only tokens are never touched. After the words,
:func:`sentence_case` fixes capitals. The word lists are wordfreq's frequency dictionaries,
loaded once per language (~0.1-0.5 s each).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache
from itertools import combinations

from core.letters import CYRILLIC_SET

# read as → what it may have been (print OCR confusions; keys of one or two characters)
CONFUSIONS: dict[str, tuple[str, ...]] = {
    "l": ("I", "i"), "i": ("l",), "1": ("I", "l", "i"), "|": ("I", "l"),
    "/": ("I",), "T": ("I",), "7": ("I",),
    "f": ("fi", "fl"), "g": ("q",), "q": ("g",), "rn": ("m",), "m": ("rn",), "c": ("e",),
    "e": ("c",), "0": ("O", "o"), "5": ("S", "s"), "8": ("B",), "vv": ("w",),
    "h": ("n", "b"), "y": ("v",), "v": ("y",), "F": ("I'",), "I": ("l", "I'"),
}
# the only confusions tried on a word that is itself a word (Zipf >= min_zipf): a serif
# capital I read as l ("lt" for "It"); "sighed" must not become "signed"
KNOWN_WORD_CONFUSIONS: dict[str, tuple[str, ...]] = {"l": ("I",), "1": ("I",), "|": ("I",)}
# diacritics read wrong: an accented vowel may have been any other of its family
CONFUSIONS.update({ch: tuple(c for c in family if c != ch)
                   for family in ("aáàâãä", "eéèêë", "iíìîï", "oóòôõö", "uúùûü")
                   for ch in family[1:]})
CYRILLIC_SCRIPT_LANGUAGES = frozenset({"ru", "uk", "bg", "mk", "sr"})
# letters a single-letter edit may insert or substitute, by script
_EDIT_LETTERS = {False: "abcdefghijklmnopqrstuvwxyzáàâãäåéèêëíìîïóòôõöúùûüçñß",
                 True: "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"}
_TOKEN = re.compile(r"^([^\w/|]*)(.*?)([^\w/|]*)$", re.S)
MAX_CANDIDATES = 256
_MONEY = re.compile(r"^S(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{2})$")
_JOINED = re.compile(r"^(\w{2,})\.([A-ZА-ЯЁ]\w+)$")


@cache
def _frequencies(lang: str) -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict(lang)


def zipf(word: str, languages: tuple[str, ...]) -> float:
    """Highest Zipf frequency of ``word`` (lower-cased) among ``languages``; 0 if unknown."""
    key = word.lower()
    freq = max((_frequencies(lang).get(key, 0.0) for lang in languages), default=0.0)
    return math.log10(freq) + 9.0 if freq > 0 else 0.0


def single_edits(word: str, cyrillic: bool) -> list[str]:
    """Every word one letter away: a letter inserted, deleted, substituted, or two swapped.
    Inserted and substituted letters take the case of their neighbours."""
    letters = _EDIT_LETTERS[cyrillic]
    out = []
    for i in range(len(word) + 1):
        near = word[max(i - 1, 0): i + 1]
        abc = letters.upper() if near.isupper() else letters
        out += [word[:i] + c + word[i:] for c in abc]
        if i < len(word):
            out.append(word[:i] + word[i + 1:])
            out += [word[:i] + c + word[i + 1:] for c in abc if c != word[i]]
        if i < len(word) - 1:
            out.append(word[:i] + word[i + 1] + word[i] + word[i + 2:])
    return out


def candidates(word: str, max_edits: int = 2,
               table: dict[str, tuple[str, ...]] = CONFUSIONS) -> list[str]:
    """``word`` with 1 to ``max_edits`` non-overlapping substitutions from ``table``."""
    sites = [(i, key) for i in range(len(word)) for key in table if word.startswith(key, i)]
    out: list[str] = []
    for n in range(1, max_edits + 1):
        for chosen in combinations(sites, n):
            spans = [(i, i + len(key)) for i, key in chosen]
            if any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
                continue  # overlapping sites
            variants = [""]
            last = 0
            for i, key in chosen:
                variants = [v + word[last:i] + r for v in variants for r in table[key]]
                last = i + len(key)
            out += [v + word[last:] for v in variants]
            if len(out) >= MAX_CANDIDATES:
                return out[:MAX_CANDIDATES]
    return out


def correct_word(word: str, languages: Sequence[str], margin: float = 1.5,
                 min_zipf: float = 3.0, max_edits: int = 2, non_word: float = 1.0) -> str:
    """The word ``word`` was most likely misread from, or ``word`` itself.

    Leading and trailing punctuation is kept; the core must hold a letter and not be all
    digits. The best candidate replaces the core when its Zipf frequency is at least
    ``min_zipf`` and ``margin`` above the core's own. A core that is a word itself (Zipf at
    least ``min_zipf``) only tries :data:`KNOWN_WORD_CONFUSIONS`. Only when no confusion
    candidate qualifies, a core below ``non_word`` tries every :func:`single_edits` candidate of
    three or more letters.
    """
    lead, core, trail = _TOKEN.match(word).groups()
    if not core or not any(c.isalpha() for c in core) or len(core) > 30:
        return word
    if _MONEY.match(core):
        return f"{lead}${core[1:]}{trail}"  # "S43,456.78": a dollar sign read as S
    joined = _JOINED.match(core)
    if joined and all(zipf(w, _script_languages(w, languages)) >= min_zipf
                      for w in joined.groups()):
        return f"{lead}{joined.group(1)}. {joined.group(2)}{trail}"  # "her.She": a lost space
    cyrillic = _is_cyrillic(core)
    langs = _script_languages(core, languages, cyrillic)
    if not langs:
        return word
    own = zipf(core, langs)
    need = max(min_zipf, own + margin)
    table = KNOWN_WORD_CONFUSIONS if own >= min_zipf else CONFUSIONS
    pools = [candidates(core, max_edits, table)]  # the usual confusions, then any one letter
    if own < non_word and len(core) >= 3 and core.isalpha():
        pools.append([c for c in single_edits(core, cyrillic) if len(c) >= 3])
    for pool in pools:
        best, best_z = max(((c, zipf(c, langs)) for c in pool), key=lambda t: t[1],
                           default=(core, 0.0))
        if best_z >= need:
            return lead + best + trail
    return word


def correct_text(text: str, languages: Sequence[str], margin: float = 1.5) -> str:
    """:func:`correct_page` of one text."""
    return correct_page([text], languages, margin)[0]


def page_languages(texts: Sequence[str], languages: Sequence[str], share: float = 0.1
                   ) -> tuple[str, ...]:
    """The ``languages`` a page is written in: each word of three or more letters known
    (Zipf ≥ 2.5) in some of them votes for the one it is most frequent in. Per script (Latin,
    Cyrillic) the most voted language counts, and so does any with at least ``share`` of that
    script's votes (and two): an English page is English, a page of sentences in six
    languages is all six. A script without votes keeps its first configured language."""
    votes: dict[str, int] = {}
    for text in texts:
        for part in text.split():
            core = _TOKEN.match(part).group(2)
            if len(core) < 3 or not core.isalpha():
                continue
            scores = [(zipf(core, (lang,)), lang) for lang in _script_languages(core, languages)]
            best = max(scores, default=(0.0, ""))
            if best[0] >= 2.5:
                votes[best[1]] = votes.get(best[1], 0) + 1
    keep = []
    for cyrillic in (False, True):
        mine = [lang for lang in languages if (lang in CYRILLIC_SCRIPT_LANGUAGES) == cyrillic]
        total = sum(votes.get(lang, 0) for lang in mine)
        if not mine:
            continue
        top = max(mine, key=lambda lang: votes.get(lang, 0))
        keep += [lang for lang in mine
                 if lang == top or votes.get(lang, 0) >= max(2, share * total)]
    return tuple(lang for lang in languages if lang in keep)


def correct_page(texts: Sequence[str], languages: Sequence[str], margin: float = 1.5
                 ) -> list[str]:
    """:func:`correct_word` on each word of ``texts`` (in reading order) with the page's own
    languages among ``languages`` (:func:`page_languages`), then :func:`sentence_case`.
    The two pieces of a word broken across lines with a hyphen (``set-`` / ``tlement``) are
    no words and stay as they are; spacing is kept."""
    languages = page_languages(texts, languages)
    out: list[str] = []
    broken = False
    for text in texts:
        parts = re.split(r"(\s+)", text)
        for k, part in enumerate(parts):
            if not part or part.isspace():
                continue
            ends_broken = part.endswith("-") and len(part) > 1
            if not broken and not ends_broken:
                parts[k] = correct_word(part, languages, margin)
            broken = ends_broken
        out.append("".join(parts))
    return sentence_case(out, languages)


_SENTENCE_END = frozenset('.!?:;"»”)…-')


def sentence_case(texts: Sequence[str], languages: Sequence[str], min_zipf: float = 6.5
                  ) -> list[str]:
    """Capitals where sentences start and only there, for words read with the wrong case.

    ``texts`` are in reading order; their words are taken as one stream. A word written
    ``Title``-case whose lower-case form has a Zipf frequency of at least ``min_zipf`` (``in``
    7.3, ``or`` 6.9: function words, no names) is lower-cased when the word before it starts
    with a lower-case letter and does not end a sentence or a line with a hyphen
    (``... bedrock In`` → ``... bedrock in``). An all-lower-case word after a word of three or
    more letters that ends with ``.``, ``!`` or ``?`` gets a capital (``tears. when`` →
    ``tears. When``). Spacing is kept.
    """
    out: list[str] = []
    prev = prev_core = ""
    for text in texts:
        parts = re.split(r"(\s+)", text)
        for k, part in enumerate(parts):
            if not part or part.isspace():
                continue
            lead, core, trail = _TOKEN.match(part).groups()
            if (not lead and len(core) >= 2 and core[0].isupper() and core[1:].islower()
                    and prev[:1].islower() and prev[-1:] not in _SENTENCE_END):
                langs = _script_languages(core, languages)
                if langs and zipf(core, langs) >= min_zipf:
                    parts[k] = core[0].lower() + core[1:] + trail
            elif (not lead and core.isalpha() and core.islower() and prev[-1:] in ".!?"
                  and len(prev_core) >= 3 and prev_core.isalpha()):
                parts[k] = core[0].upper() + core[1:] + trail
            prev = parts[k]
            prev_core = _TOKEN.match(prev).group(2)
        out.append("".join(parts))
    return out


def _is_cyrillic(core: str) -> bool:
    return any(c in CYRILLIC_SET for c in core)


def _script_languages(core: str, languages: Sequence[str], cyrillic: bool | None = None
                      ) -> tuple[str, ...]:
    """The ``languages`` of ``core``'s script (Cyrillic if it has a Cyrillic letter)."""
    if cyrillic is None:
        cyrillic = _is_cyrillic(core)
    return tuple(lang for lang in languages if (lang in CYRILLIC_SCRIPT_LANGUAGES) == cyrillic)

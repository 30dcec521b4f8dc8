"""Lexicon correction of the usual OCR confusions, with the word lists bundled in ``wordfreq``.

A line reader trained on synthetic text still confuses a few glyphs of real print: a serif
capital ``I`` read as ``l`` (``lt``, a lone ``l``), the ``fi`` / ``fl`` ligatures read as ``f``
(``offce``), ``q`` as ``g`` (``unigue``). Each such misread is one or two substitutions from
a common word. :func:`correct_word` tries the substitutions of :data:`CONFUSIONS` (at most
``max_edits`` of them) and takes the most frequent result when it is far more frequent than
the word as read: ``margin`` on wordfreq's Zipf scale (log10 of occurrences per billion
words; ``the`` is 7.7, ``office`` 5.4, a typo ~0-1), so 1.5 means 30 times more frequent.
A word that is a word itself is only checked for the serif I (``l`` at Zipf 5.2 becomes
``I`` at 7.1; ``sighed`` never becomes ``signed``). A word that is no word at all (Zipf
below ``non_word``), and that no confusion explains, may have lost, gained, changed or
swapped one letter (``tlement`` → ``element``).

What is never edited, because a frequency list cannot tell a correct rare word from a
misread one:

- words the recognizer was sure of: :func:`correct_page` takes a confidence per word
  (:attr:`pipeline.results.Word.word_scores`) and corrects only those below ``unsure_below``;
- capitalised words (names, German nouns, acronyms: ``Rafał``, ``Łódź``, ``Straße``, ``NATO``);
- words with a digit (``A4``, ``2nd``, ``B-52``, ISBNs, prices);
- words of a script or with letters outside the page's languages (:func:`page_languages`,
  :attr:`WordList.alphabet`): a Cyrillic word on a Latin page, ``chào`` on an English one.

Words are looked up the way wordfreq stores them: NFC, case-folded (``groß`` → ``gross``).
Each language's list is loaded on first use, its ``max_words`` most frequent words only, into
a compact :class:`WordList` (~10 bytes a word).
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations

import numpy as np

from core.letters import CYRILLIC_SET

# read as → what it may have been (print OCR confusions; keys of one or two characters). No
# digits: a word with a digit is never edited
CONFUSIONS: dict[str, tuple[str, ...]] = {
    "l": ("I", "i"), "i": ("l",), "|": ("I", "l"), "/": ("I",), "T": ("I",),
    "f": ("fi", "fl"), "g": ("q",), "q": ("g",), "rn": ("m",), "m": ("rn",), "c": ("e",),
    "e": ("c",), "vv": ("w",), "h": ("n", "b"), "y": ("v",), "v": ("y",), "F": ("I'",),
    "I": ("l", "I'"),
}
# the only confusions tried on a word that is itself a word (Zipf >= min_zipf): a serif
# capital I read as l ("lt" for "It"); "sighed" must not become "signed"
KNOWN_WORD_CONFUSIONS: dict[str, tuple[str, ...]] = {"l": ("I",), "|": ("I",)}
# diacritics read wrong: an accented vowel may have been any other of its family
CONFUSIONS.update({ch: tuple(c for c in family if c != ch)
                   for family in ("aáàâãä", "eéèêë", "iíìîï", "oóòôõö", "uúùûü")
                   for ch in family[1:]})
CYRILLIC_SCRIPT_LANGUAGES = frozenset({"ru", "uk", "bg", "mk", "sr"})
# lower-case letters drawn as their capital made smaller: a reader may miss the case
CASE_LOOKALIKES = frozenset("cosvwxzвжкмнопстхшщ")
# letters a single-letter edit may insert or substitute, by script
_EDIT_LETTERS = {False: "abcdefghijklmnopqrstuvwxyzáàâãäåéèêëíìîïóòôõöúùûüçñß",
                 True: "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"}
_TOKEN = re.compile(r"^([^\w/|]*)(.*?)([^\w/|]*)$", re.S)
MAX_CANDIDATES = 256
_JOINED = re.compile(r"^([^\W\d]{2,})\.([A-ZА-ЯЁ][^\W\d]+)$")

# Words below this confidence (the least sure CTC column of the word,
# recognition.decoding.ctc_word_scores) may be corrected. On 2,000 synthetic printed lines
# read by the shipped line reader, 86 % of the misread words and 25 % of the right ones lie
# below 0.7, and it keeps 151 of the 165 fixes the lexicon makes with every word unsure (0.6:
# 130 fixes, 14 % of right words exposed; 0.9: 164, 52 %). Synthetic words all come from
# frequency lists, so the damage a rare right word risks cannot be seen there: the
# threshold keeps most fixes while exposing a quarter of the right words.
UNSURE_BELOW = 0.7
# Most frequent words kept per language: all of en / fr / es / pt / it, de down to Zipf 1.4,
# ru to 1.6. A word in the list is only checked for the usual confusions, one not in it may
# also lose or gain a letter: a longer list is the safer one. The seven lists of the
# documents preset take 23 MB of arrays (+48 MB RSS while loading; a dict of all their words
# took +348 MB).
MAX_WORDS = 400_000
# share of a language's letters (weighted by word frequency) that puts a letter in its
# alphabet: English has no "à" (1.5e-6), French has (4.9e-3)
_ALPHABET_SHARE = 1e-4
_ALPHABET_WORDS = 50_000  # the most frequent words, whose letters are counted
# letters wordfreq's case folding writes as others: German ß is stored as ss
_FOLDED_LETTERS = {"de": "ß"}


def fold(word: str) -> str:
    """The form wordfreq stores ``word`` in: NFC, case-folded (``Straße`` → ``strasse``),
    typographic apostrophes straight."""
    return unicodedata.normalize("NFC", word).casefold().replace("\u2019", "'")


@dataclass(frozen=True)
class WordList:
    """One language's word frequencies, compact: the sorted hashes of its folded words
    (:func:`fold`, Python's ``hash``, 8 bytes) and their Zipf frequencies (2 bytes), instead
    of a dict of ~120 bytes a word. Built in the process that uses it (``hash`` of a string
    is salted per process); two words sharing a 64-bit hash are too rare to matter.

    Attributes:
        hashes: ``(N,)`` int64, sorted.
        zipfs: ``(N,)`` uint16, Zipf × 100 of the word with that hash.
        alphabet: the letters of the language (see :data:`_ALPHABET_SHARE`).
    """

    hashes: np.ndarray
    zipfs: np.ndarray
    alphabet: frozenset[str]

    @classmethod
    def from_buckets(cls, buckets: Iterator[tuple[int, list[str]]],
                     max_words: int = MAX_WORDS, extra_letters: str = "") -> WordList:
        """From wordfreq's ``(centibels below 1, words)`` buckets, most frequent first."""
        hashes: list[np.ndarray] = []  # per bucket: no Python int per word, even briefly
        zipfs: list[np.ndarray] = []
        letters: Counter[str] = Counter()
        count = 0
        for index, words in buckets:
            words = words[: max_words - count]
            hashes.append(np.fromiter(map(hash, words), dtype=np.int64, count=len(words)))
            zipfs.append(np.full(len(words), 900 - index, dtype=np.uint16))
            if count <= _ALPHABET_WORDS:  # rarer words hardly move the shares
                weight = 10.0 ** (-index / 100)
                for ch, n in Counter("".join(words)).items():
                    letters[ch] += weight * n
            count += len(words)
            if count >= max_words:
                break
        total = sum(v for ch, v in letters.items() if ch.isalpha()) or 1.0
        alphabet = {ch for ch, v in letters.items()
                    if ch.isalpha() and v >= _ALPHABET_SHARE * total}
        all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.int64)
        order = np.argsort(all_hashes, kind="stable")
        return cls(all_hashes[order],
                   np.concatenate(zipfs)[order] if zipfs else np.zeros(0, dtype=np.uint16),
                   frozenset(alphabet | set(extra_letters)))

    def zipf(self, keys: Sequence[str]) -> np.ndarray:
        """Zipf frequency of each folded word of ``keys`` (0 when not in the list)."""
        if not len(self.hashes) or not keys:
            return np.zeros(len(keys))
        h = np.fromiter((hash(k) for k in keys), dtype=np.int64, count=len(keys))
        pos = np.minimum(np.searchsorted(self.hashes, h), len(self.hashes) - 1)
        return np.where(self.hashes[pos] == h, self.zipfs[pos] / 100.0, 0.0)

    @property
    def nbytes(self) -> int:
        return self.hashes.nbytes + self.zipfs.nbytes


def _read_buckets(path: str) -> Iterator[tuple[int, list[str]]]:
    """The buckets of a wordfreq cBpack file, streamed: a short list stops reading early."""
    import msgpack

    with gzip.open(path, "rb") as infile:
        unpacker = msgpack.Unpacker(infile, raw=False)
        size = unpacker.read_array_header()
        header = unpacker.unpack()
        if not isinstance(header, dict) or header.get("format") != "cB":
            raise ValueError(f"{path}: not a wordfreq cBpack file")
        for index in range(size - 1):
            words = unpacker.unpack()
            if words:
                yield index, words


@cache
def word_list(lang: str, max_words: int = MAX_WORDS) -> WordList:
    """The :class:`WordList` of wordfreq language ``lang`` (loaded once, ~0.1-0.3 s)."""
    from wordfreq import available_languages

    return WordList.from_buckets(_read_buckets(available_languages()[lang]), max_words,
                                 _FOLDED_LETTERS.get(lang, ""))


def zipfs(words: Sequence[str], languages: Sequence[str]) -> np.ndarray:
    """Highest Zipf frequency of each of ``words`` among ``languages``; 0 if unknown."""
    keys = [fold(w) for w in words]
    out = np.zeros(len(keys))
    for lang in languages:
        out = np.maximum(out, word_list(lang).zipf(keys))
    return out


def zipf(word: str, languages: Sequence[str]) -> float:
    """Highest Zipf frequency of ``word`` among ``languages``; 0 if unknown."""
    return float(zipfs([word], languages)[0])


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


def editable(core: str, languages: Sequence[str]) -> bool:
    """Whether the lexicon may edit a word (its ``core``, without surrounding punctuation)
    on a page in ``languages``: it holds a letter and no digit, does not start with a
    capital, and every letter of it belongs to a language of the page of its script."""
    if not core or core[0].isupper() or len(core) > 30:
        return False
    if any(c.isdigit() for c in core) or not any(c.isalpha() for c in core):
        return False
    langs = _script_languages(core, languages)
    known = frozenset().union(*(word_list(lang).alphabet for lang in langs))
    return bool(langs) and all(c in known for c in core.lower() if c.isalpha())


def correct_word(word: str, languages: Sequence[str], margin: float = 1.5,
                 min_zipf: float = 3.0, max_edits: int = 2, non_word: float = 1.0) -> str:
    """The word ``word`` was most likely misread from, or ``word`` itself.

    Leading and trailing punctuation is kept; the core must be :func:`editable`. The best
    candidate replaces the core when its Zipf frequency is at least ``min_zipf`` and
    ``margin`` above the core's own. A core that is a word itself (Zipf at least
    ``min_zipf``) only tries :data:`KNOWN_WORD_CONFUSIONS`. Only when no confusion candidate
    qualifies, a core below ``non_word`` tries every :func:`single_edits` candidate of three
    or more letters. Two words joined by a full stop (``her.She``) get their space back.
    It does not ask whether the recognizer was sure of the word: :func:`correct_page` does.
    """
    lead, core, trail = _TOKEN.match(word).groups()
    if not editable(core, languages):
        return word
    joined = _JOINED.match(core)
    if joined and all(zipf(w, _script_languages(w, languages)) >= min_zipf
                      for w in joined.groups()):
        return f"{lead}{joined.group(1)}. {joined.group(2)}{trail}"  # "her.She": a lost space
    cyrillic = _is_cyrillic(core)
    langs = _script_languages(core, languages, cyrillic)
    own = zipf(core, langs)
    need = max(min_zipf, own + margin)
    table = KNOWN_WORD_CONFUSIONS if own >= min_zipf else CONFUSIONS
    pools = [candidates(core, max_edits, table)]  # the usual confusions, then any one letter
    if own < non_word and len(core) >= 3 and core.isalpha():
        pools.append([c for c in single_edits(core, cyrillic) if len(c) >= 3])
    for pool in pools:
        # a capital inside a lower-case word is no correction ("glven" is "given", not
        # "gIven"); one in front is the serif I ("lt" → "It")
        pool = [c for c in pool if not any(ch.isupper() for ch in c[1:])]
        if not pool:
            continue
        scores = zipfs(pool, langs)
        best = int(np.argmax(scores))
        if scores[best] >= need:
            return lead + pool[best] + trail
    return word


def correct_text(text: str, languages: Sequence[str], margin: float = 1.5) -> str:
    """:func:`correct_page` of one text, every word taken as unsure."""
    return correct_page([text], languages, margin)[0]


def page_languages(texts: Sequence[str], languages: Sequence[str], share: float = 0.1
                   ) -> tuple[str, ...]:
    """The ``languages`` a page is written in: each word of three or more letters known
    (Zipf ≥ 2.5) in some of them votes for the one it is most frequent in. Per script (Latin,
    Cyrillic) the most voted language counts, and so does any with at least ``share`` of that
    script's votes (and two): an English page is English, a page of sentences in six
    languages is all six. A script without votes has no language (its words stay as read),
    unless no word of the page voted at all: then each script keeps its first configured
    language."""
    votes = language_votes(texts, languages)
    keep = []
    for cyrillic in (False, True):
        mine = [lang for lang in languages if (lang in CYRILLIC_SCRIPT_LANGUAGES) == cyrillic]
        total = sum(votes[lang] for lang in mine)
        if not mine or (total == 0 and votes):
            continue
        top = max(mine, key=lambda lang: votes[lang])
        keep += [lang for lang in mine if lang == top or votes[lang] >= max(2, share * total)]
    return tuple(lang for lang in languages if lang in keep)


def language_votes(texts: Sequence[str], languages: Sequence[str]) -> Counter[str]:
    """How many words of ``texts`` vote for each of ``languages``: each word of three or
    more letters known (Zipf ≥ 2.5) in some language of its script votes for the one it is
    most frequent in (Cyrillic words for the Cyrillic-script languages, others for the
    rest)."""
    cores = [core for text in texts for part in text.split()
             if len(core := _TOKEN.match(part).group(2)) >= 3 and core.isalpha()]
    votes: Counter[str] = Counter()
    for cyrillic in (False, True):
        mine = [c for c in cores if _is_cyrillic(c) == cyrillic]
        langs = [lang for lang in languages if (lang in CYRILLIC_SCRIPT_LANGUAGES) == cyrillic]
        if not mine or not langs:
            continue
        table = np.stack([zipfs(mine, (lang,)) for lang in langs])  # (languages, words)
        best = table.argmax(0)
        for k in np.flatnonzero(table.max(0) >= 2.5):
            votes[langs[best[k]]] += 1
    return votes


def correct_page(texts: Sequence[str], languages: Sequence[str], margin: float = 1.5,
                 scores: Sequence[Sequence[float] | None] | None = None,
                 unsure_below: float = UNSURE_BELOW) -> list[str]:
    """:func:`correct_word` on each unsure word of ``texts`` (in reading order) with the
    page's own languages among ``languages`` (:func:`page_languages`), then
    :func:`sentence_case`.

    Args:
        texts: the texts of a page's read regions, in reading order.
        languages: wordfreq languages the page may be written in.
        margin: see :func:`correct_word`.
        scores: per text, the recognizer's confidence in each whitespace-separated word;
            only words below ``unsure_below`` are corrected. ``None`` (for all texts or one):
            every word counts as unsure.
        unsure_below: see ``scores``.
    Returns:
        the texts, corrected. The two pieces of a word broken across lines with a hyphen
        (``set-`` / ``tlement``) are no words and stay as they are; spacing is kept.
    """
    languages = page_languages(texts, languages)
    unsure = _unsure_flags(texts, scores, unsure_below)
    out: list[str] = []
    out_flags: list[list[bool]] = []  # per corrected text, per word: a word split in two
    broken = False                    # ("her.She" -> "her. She") keeps its flag in both
    for text, flags in zip(texts, unsure, strict=True):
        parts = re.split(r"(\s+)", text)
        k_word = 0
        row: list[bool] = []
        for k, part in enumerate(parts):
            if not part or part.isspace():
                continue
            ends_broken = part.endswith("-") and len(part) > 1
            if not broken and not ends_broken and flags[k_word]:
                parts[k] = correct_word(part, languages, margin)
            row += [flags[k_word]] * len(parts[k].split())
            broken = ends_broken
            k_word += 1
        out.append("".join(parts))
        out_flags.append(row)
    return sentence_case(out, out_flags)


def _unsure_flags(texts: Sequence[str], scores: Sequence[Sequence[float] | None] | None,
                  below: float) -> list[list[bool]]:
    """Per text, per whitespace-separated word: was the recognizer unsure of it?"""
    flags = []
    for k, text in enumerate(texts):
        n = len(text.split())
        row = None if scores is None else scores[k]
        if row is None:
            flags.append([True] * n)
        elif len(row) != n:
            raise ValueError(f"text {k} has {n} words but {len(row)} word scores")
        else:
            flags.append([s < below for s in row])
    return flags


def sentence_case(texts: Sequence[str], unsure: Sequence[Sequence[bool]] | None = None
                  ) -> list[str]:
    """A capital where a sentence starts, for a word read in lower case there.

    ``texts`` are in reading order; their words are taken as one stream. An all-lower-case
    word the recognizer was unsure of (``unsure``: per text, per word; ``None``: all) that
    starts with one of the :data:`CASE_LOOKALIKES` gets a capital after a word of three or
    more letters that ends with ``.``, ``!`` or ``?`` (``tears. when`` → ``tears. When``:
    ``W`` and ``w`` differ only in size, ``T`` and ``t`` do not, so ``etc. the`` stays).
    Capitalised words are never lowered: a German noun, ``Sie``, a title word are right as
    read. Spacing is kept.
    """
    out: list[str] = []
    prev = prev_core = ""
    for t, text in enumerate(texts):
        parts = re.split(r"(\s+)", text)
        k_word = 0
        for k, part in enumerate(parts):
            if not part or part.isspace():
                continue
            lead, core, trail = _TOKEN.match(part).groups()
            sure = unsure is not None and not unsure[t][k_word]
            if (not sure and not lead and core.isalpha() and core.islower()
                    and core[0] in CASE_LOOKALIKES
                    and prev[-1:] in ".!?" and len(prev_core) >= 3 and prev_core.isalpha()):
                parts[k] = core[0].upper() + core[1:] + trail
            prev = parts[k]
            prev_core = _TOKEN.match(prev).group(2)
            k_word += 1
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

"""The language of each read line, and what restricting a run to some languages forbids.

A line's language comes from its letters: hanzi make it ``zh`` (the plates reader reads
them only on Chinese plates); otherwise the script most of its letters are in (Latin or
Cyrillic, ``core.letters``) picks the candidate languages, and its words vote among them
with the wordfreq lists of the lexicon (:func:`pipeline.lexicon.language_votes`). A line
whose words vote for no language (a plate, numbers, words in no list) is ``und``.

``--lang ru,en`` (``assembler.text.languages``) narrows the candidates, the lexicon, and the
letters the recognizer may emit (:func:`forbidden_letters`, used by the script lock).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.letters import CYRILLIC_LETTERS, LATIN_LETTERS, script_counts
from pipeline.lexicon import CYRILLIC_SCRIPT_LANGUAGES, language_votes

UNDETERMINED = "und"
# ISO 639-1 codes of languages written in the Latin script that wordfreq has word lists for
LATIN_SCRIPT_LANGUAGES = frozenset({
    "ca", "cs", "da", "de", "en", "es", "fi", "fr", "hu", "id", "is", "it", "lt", "lv", "ms",
    "nb", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "tr", "vi"})
HANZI_LANGUAGE = "zh"
KNOWN_LANGUAGES = LATIN_SCRIPT_LANGUAGES | CYRILLIC_SCRIPT_LANGUAGES | {HANZI_LANGUAGE}
"""The codes ``--lang`` takes: languages of the scripts the shipped readers read."""
# Languages a line of each script may be in when the run names none and has no lexicon:
# those of the documents preset's lexicon (their word lists are then loaded once for both)
DEFAULT_LANGUAGES = ("en", "ru", "de", "fr", "es", "pt", "it")


def unknown_languages(codes: Sequence[str]) -> list[str]:
    """The ``codes`` that are no language :data:`KNOWN_LANGUAGES` holds."""
    return [c for c in codes if c not in KNOWN_LANGUAGES]


def is_hanzi(ch: str) -> bool:
    """Whether ``ch`` is a CJK unified ideograph (a Chinese plate's province sign)."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def line_language(text: str, languages: Sequence[str] = ()) -> str:
    """The ISO 639-1 code of the language of one line's ``text``, or ``und``.

    Args:
        text: the line's text.
        languages: the candidates; empty: :data:`DEFAULT_LANGUAGES` (and ``zh``).
    """
    candidates = list(languages) or [*DEFAULT_LANGUAGES, HANZI_LANGUAGE]
    if any(is_hanzi(ch) for ch in text):
        return HANZI_LANGUAGE if HANZI_LANGUAGE in candidates else UNDETERMINED
    latin, cyrillic = script_counts(text)
    if latin == cyrillic == 0:
        return UNDETERMINED
    want_cyrillic = cyrillic > latin
    mine = [lang for lang in candidates
            if lang != HANZI_LANGUAGE and (lang in CYRILLIC_SCRIPT_LANGUAGES) == want_cyrillic]
    votes = language_votes([text], mine)
    if not votes:
        return UNDETERMINED
    return max(mine, key=lambda lang: votes[lang])  # ties: the first candidate


def forbidden_letters(languages: Sequence[str]) -> str:
    """Letters the recognizer may not emit on a run restricted to ``languages``: the Latin
    letters when none of them is written in Latin (``zh`` plates have Latin letters), the
    Cyrillic ones when none is Cyrillic; ``""`` when ``languages`` is empty."""
    if not languages:
        return ""
    latin = any(lang in LATIN_SCRIPT_LANGUAGES or lang == HANZI_LANGUAGE for lang in languages)
    cyrillic = any(lang in CYRILLIC_SCRIPT_LANGUAGES for lang in languages)
    return ("" if latin else LATIN_LETTERS) + ("" if cyrillic else CYRILLIC_LETTERS)

"""A plate's region from its text, where the text's format belongs to one region only.

The plates reader has no region head (one was tried and not shipped: it called Brazilian
plates ``us``), but three of the regions we read write their plates in a format no other
region uses:

- ``cn``: a province character, a letter, then five letters and digits (blue, yellow),
  e.g. ``皖A12345``, or six in the green new-energy format (GA 36-2018: ``D`` or ``F``, a
  letter or digit and four digits for small cars, ``皖AD12345``; five digits and ``D`` or
  ``F`` for large ones, ``皖A12345D``);
- ``ru``: the Russian civil format, letter, three digits, two letters, a two- or three-digit
  region code, in the twelve Cyrillic letters that have Latin look-alikes, e.g.
  ``А123ВС77`` (square two-row plates: four digits, two letters, the code: ``1234АВ77``),
  written in either script: plate registries, ANPR systems and their datasets transcribe
  these letters in Latin (:func:`latin_plate`);
- ``br``: the Mercosur format, three letters, a digit, a letter, two digits, e.g.
  ``BRA2E19`` (Brazil's older ``ABC1234`` is also a New York plate: not claimed).

Any other text, US and EU plates among them, gets no region: a guess would be worse than
none. Texts are compared without spaces, hyphens and dots, in upper case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from recognition.alphabet import PROVINCES, RU_PLATE_LATIN, RU_PLATE_LETTERS, UA_PLATE_LETTERS

_CN_PROVINCES = PROVINCES[:31]  # the 31 provinces, without PROVINCES' 警 and 学 (police and
                                # learner plates)
_CN_ALNUM = "A-HJ-NP-Z0-9"      # Chinese plates use no I or O
_RU, _RU_LATIN = RU_PLATE_LETTERS, RU_PLATE_LATIN

# Cyrillic plate letters and their Latin look-alikes: Russia's twelve, with Ukraine's І
# (Ukrainian and Bulgarian plates use the same look-alike letters).
CYRILLIC_TO_LATIN = str.maketrans(_RU + "І" + _RU.lower() + "і", _RU_LATIN + "I"
                                  + _RU_LATIN.lower() + "i")

_CN_SEVEN = rf"[{_CN_PROVINCES}][A-HJ-NP-Z][{_CN_ALNUM}]{{5}}"
_CN_GREEN = rf"[{_CN_PROVINCES}][A-HJ-NP-Z](?:[DF][{_CN_ALNUM}]\d{{4}}|\d{{5}}[DF])"
CN_SEVEN, CN_GREEN = re.compile(_CN_SEVEN), re.compile(_CN_GREEN)

PLATE_FORMATS: dict[str, re.Pattern[str]] = {
    "cn": re.compile(rf"{_CN_SEVEN}|{_CN_GREEN}"),
    "ru": re.compile(rf"(?:[{_RU}{_RU_LATIN}]\d{{3}}|\d{{4}})[{_RU}{_RU_LATIN}]{{2}}\d{{2,3}}"),
    "br": re.compile(r"[A-Z]{3}\d[A-Z]\d{2}"),
}
_SEPARATORS = re.compile(r"[\s\-.·]+")


def region_from_text(text: str) -> str | None:
    """The one region whose plate format ``text`` fits whole, else ``None``."""
    plain = _SEPARATORS.sub("", text).upper()
    fits = [region for region, pattern in PLATE_FORMATS.items() if pattern.fullmatch(plain)]
    return fits[0] if len(fits) == 1 else None


def latin_plate(text: str) -> str:
    """``text`` with the Cyrillic plate letters written as their Latin look-alikes
    (``А123ВС77`` -> ``A123BC77``); other characters, Chinese ones included, unchanged."""
    return text.translate(CYRILLIC_TO_LATIN)


# Letter (L) / digit (D) templates of plate formats whose letters include O (and, in Ukraine,
# I), with their letters in Latin: where a format wants a letter, a 0 or 1 read there is the
# letter O or I, and where it wants a digit, an O or I is 0 or 1 (plates print them alike).
LETTER_DIGIT_FORMATS: tuple[tuple[str, str], ...] = (
    ("LLDDDDLL", UA_PLATE_LETTERS),          # Ukraine (and Bulgaria's two-letter regions)
    ("LDDDLLDD", _RU_LATIN),            # Russia
    ("LDDDLLDDD", _RU_LATIN),
)
_AS_LETTER = {"0": "O", "1": "I"}
_AS_DIGIT = {"O": "0", "I": "1"}


def fix_letters_and_digits(text: str) -> str:
    """``text`` (a plate in Latin letters) with 0/O and 1/I swapped where the Ukrainian or
    Russian format wants the other (``0M2897PX`` -> ``OM2897PX``), when the swapped text fits
    that format whole and the text as read fits none; otherwise unchanged."""
    plain = _SEPARATORS.sub("", text).upper()
    if region_from_text(plain) is not None:
        return text
    for template, letters in LETTER_DIGIT_FORMATS:
        if len(plain) != len(template):
            continue
        fixed = "".join(_AS_LETTER.get(c, c) if t == "L" else _AS_DIGIT.get(c, c)
                        for c, t in zip(plain, template, strict=True))
        if fixed != plain and all(c in letters if t == "L" else c.isdigit()
                                  for c, t in zip(fixed, template, strict=True)):
            return fixed
    return text


def fix_cn_length(text: str, scores: Sequence[float] | None) -> int | None:
    """Which character of a Chinese plate read one character too long to drop, else ``None``.

    ``text`` of eight characters that starts with a province but fits no eight-character
    (green new-energy) format, where dropping one character after the province leaves the
    seven-character format: the reader saw a letter twice or made one up (``皖AAX191U`` for
    ``皖AX191U``, ``皖ANGC512`` for ``皖NGC512``, where ``皖A`` is the most common start). Of
    the characters whose removal leaves a valid plate, the one the reader was least sure of
    (``scores``, one per character) goes. Without scores, or with none that fits, ``None``.
    """
    if (len(text) != 8 or scores is None or len(scores) != len(text)
            or text[0] not in _CN_PROVINCES or CN_GREEN.fullmatch(text)):
        return None
    fits = [i for i in range(1, len(text)) if CN_SEVEN.fullmatch(text[:i] + text[i + 1:])]
    return min(fits, key=lambda i: scores[i]) if fits else None

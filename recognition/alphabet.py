"""The default character set: every character the shipped recognizers can output.

Shared by the synthetic data generators (they only write text inside it) and the
tokenizer (CTC and attention heads). Changing it changes model output sizes.
"""

from __future__ import annotations

DIGITS = "0123456789"
LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
# Accented Latin of the common European languages and typographic quotes (printed pages).
LATIN_EXTRA = "ÀÁÂÃÄÇÈÉÊËÍÎÏÑÓÔÕÖÚÙÛÜßàáâãäçèéêëíîïñóôõöúùûüÿ„“”‘’"
PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»—–№…"
# CCPD province abbreviations (in CCPD index order) and the special-use plate characters.
PROVINCES = "皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新警学"
PLATE_EXTRA = "使领港澳挂"
# Plate letters: Russia's twelve Cyrillic letters with Latin look-alikes, those look-alikes,
# and Ukraine's letters written in them (with I and O), as plate registries write them.
RU_PLATE_LETTERS = "АВЕКМНОРСТУХ"
RU_PLATE_LATIN = "ABEKMHOPCTYX"
UA_PLATE_LETTERS = "ABCEHIKMOPTX"

DEFAULT_ALPHABET = DIGITS + LATIN + LATIN_EXTRA + CYRILLIC + PUNCTUATION + PROVINCES + PLATE_EXTRA


def unsupported_chars(text: str, alphabet: str = DEFAULT_ALPHABET) -> set[str]:
    """Characters of ``text`` that ``alphabet`` cannot represent."""
    allowed = set(alphabet)
    return {c for c in text if c not in allowed}

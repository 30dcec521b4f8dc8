"""The letters of the two scripts the project reads, and per-text script counts.

One definition for every stage: the assembler's look-alike unification and script lock, the
lexicon's per-script languages, and the detector's language-stratified split.
"""

from __future__ import annotations

CYRILLIC_LETTERS = "".join(chr(c) for c in range(0x0400, 0x0500) if chr(c).isalpha())
LATIN_LETTERS = "".join(chr(c) for c in [*range(0x41, 0x5B), *range(0x61, 0x7B),
                                         *range(0x00C0, 0x0250)] if chr(c).isalpha())
CYRILLIC_SET, LATIN_SET = frozenset(CYRILLIC_LETTERS), frozenset(LATIN_LETTERS)


def script_counts(text: str) -> tuple[int, int]:
    """``(latin, cyrillic)``: how many of ``text``'s characters are letters of each script."""
    return sum(ch in LATIN_SET for ch in text), sum(ch in CYRILLIC_SET for ch in text)

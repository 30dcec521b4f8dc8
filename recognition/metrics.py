"""Recognition metrics: CER, WER and exact accuracy (rapidfuzz Levenshtein)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from rapidfuzz.distance import Levenshtein


@dataclass(frozen=True)
class RecognitionMetrics:
    """Corpus-level scores.

    Attributes:
        cer: Σ char edit distance / Σ reference chars.
        wer: Σ word edit distance / Σ reference words.
        accuracy: share of exact string matches.
        mean_edit_distance: mean char edit distance per sample.
        count: number of samples.
    """

    cer: float
    wer: float
    accuracy: float
    mean_edit_distance: float
    count: int

    def export(self) -> dict[str, float | int]:
        return asdict(self)


def score_texts(predictions: Sequence[str], references: Sequence[str]) -> RecognitionMetrics:
    """Score ``predictions`` against ``references`` (same length)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    char_err = word_err = chars = words = exact = 0
    for p, r in zip(predictions, references, strict=True):
        d = Levenshtein.distance(p, r)
        char_err += d
        chars += len(r)
        word_err += Levenshtein.distance(p.split(), r.split())
        words += len(r.split())
        exact += p == r
    n = len(references)
    return RecognitionMetrics(
        cer=char_err / max(chars, 1), wer=word_err / max(words, 1),
        accuracy=exact / max(n, 1), mean_edit_distance=char_err / max(n, 1), count=n)


def score_by_region(predictions: Sequence[str], references: Sequence[str],
                    regions: Sequence[str | None]) -> dict[str, RecognitionMetrics]:
    """:func:`score_texts` per region (samples without a region are left out)."""
    groups: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for p, r, g in zip(predictions, references, regions, strict=True):
        if g is not None:
            groups[g][0].append(p)
            groups[g][1].append(r)
    return {g: score_texts(ps, rs) for g, (ps, rs) in sorted(groups.items())}

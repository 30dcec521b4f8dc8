"""Scoring a recognizer on a labelled dataset."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tqdm import tqdm

from recognition.datasets import TextSample, UnreadableImage, load_sample
from recognition.metrics import RecognitionMetrics, score_by_region, score_texts
from recognition.types import Recognition, Recognizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationResult:
    """Overall and per-region scores, with every prediction next to its reference."""

    metrics: RecognitionMetrics
    per_region: dict[str, RecognitionMetrics] = field(default_factory=dict)
    predictions: list[Recognition] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    skipped: int = 0


def evaluate_recognizer(recognizer: Recognizer, samples: Sequence[TextSample],
                        chunk: int = 256, progress: bool = False) -> EvaluationResult:
    """Read every sample's crop and score the texts (unreadable images are skipped)."""
    preds: list[Recognition] = []
    refs: list[str] = []
    regions: list[str | None] = []
    skipped = 0
    bar = tqdm(total=len(samples), desc="evaluate", disable=not progress, leave=False)
    for start in range(0, len(samples), chunk):
        crops, part = [], []
        for s in samples[start: start + chunk]:
            try:
                crops.append(load_sample(s))
                part.append(s)
            except UnreadableImage as exc:
                log.warning("skipping sample: %s", exc)
                skipped += 1
        if crops:
            read = recognizer.predict(crops)
            preds.extend(replace(p, text=p.text.upper()) if s.case_folded else p
                         for p, s in zip(read, part, strict=True))
            refs.extend(s.text for s in part)
            regions.extend(s.region for s in part)
        bar.update(len(samples[start: start + chunk]))
    bar.close()
    texts = [p.text for p in preds]
    return EvaluationResult(score_texts(texts, refs), score_by_region(texts, refs, regions),
                            preds, refs, skipped)

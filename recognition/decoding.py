"""Turning model outputs into text: batched greedy CTC, batched greedy Transformer decoding
with a KV cache, alternative candidates, and the two CTC/attention merge rules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from rapidfuzz.distance import Levenshtein

from recognition.models.joint import TransformerDecoder
from recognition.tokenizer import Tokenizer

MergeRule = Literal["ctc_empty", "closest", "ctc", "decoder_or_ctc", "decoder"]


Spans = tuple[tuple[float, float], ...]
CharSpans = tuple[tuple[float, float, float], ...]
"""``(start, end, score)`` per non-whitespace character of a text: where along the crop the
character lies, as fractions of its width, and its probability."""


@dataclass(frozen=True)
class Decoded:
    """One decoded hypothesis: text and its probability (product of step probabilities).

    ``spans``: where each whitespace-separated word of ``text`` lies along the crop, as
    ``(start, end)`` fractions of its width (from the CTC columns that emitted the word's
    first and last characters); ``None`` when not known (Transformer output).
    ``word_scores``: the confidence of each of those words (:func:`ctc_word_scores`), in
    ``[0, 1]``; ``None`` when not known.
    ``chars``: :data:`CharSpans` of each non-whitespace character of ``text``, in order
    (:func:`ctc_char_spans`); ``None`` when not known."""

    text: str
    score: float
    spans: Spans | None = None
    word_scores: tuple[float, ...] | None = None
    chars: CharSpans | None = None


def _ctc_word_columns(ids: Sequence[int], tokenizer: Tokenizer) -> list[list[int]]:
    """``[first column, last column + 1, characters]`` of each whitespace-separated word of
    a best CTC path ``ids``."""
    words: list[list[int]] = []
    prev = tokenizer.BLANK
    in_word = False
    for col, i in enumerate(int(v) for v in ids):
        if i == tokenizer.BLANK or tokenizer.charset[i - 1].isspace():
            in_word = in_word and i == tokenizer.BLANK
            prev = i
            continue
        if not in_word:
            words.append([col, col + 1, 0])
            in_word = True
        words[-1][1] = col + 1
        words[-1][2] += i != prev
        prev = i
    return words


def ctc_word_spans(ids: Sequence[int], tokenizer: Tokenizer, widen: float = 0.5) -> Spans:
    """Word spans (see :class:`Decoded`) of a best CTC path ``ids`` over its real columns.

    A word runs from the first column of its first character to the last column of its last
    one, widened on both sides by ``widen`` of its columns per character: CTC fires once per
    character, near its middle, so the outer halves of the first and last letters lie outside
    those columns. Whitespace characters end words."""
    n = max(len(ids), 1)
    spans = []
    for start, end, chars in _ctc_word_columns(ids, tokenizer):
        pad = widen * (end - start) / max(chars, 1)
        spans.append((max(0.0, (start - pad) / n), min(1.0, (end + pad) / n)))
    return tuple(spans)


def ctc_word_scores(ids: Sequence[int], column_probs: Sequence[float], tokenizer: Tokenizer
                    ) -> tuple[float, ...]:
    """Confidence of each whitespace-separated word of a best CTC path ``ids``: the lowest
    probability of the best class over the word's columns (``column_probs``, one per column),
    from its first character's column to its last one, blanks between its letters included.

    The minimum, not a mean: a misread is usually one doubtful glyph (``l`` for ``I``, ``f``
    for ``fi``) in a word of sure ones, which a mean over ~5-30 columns dilutes. On synthetic
    printed lines read by the shipped line reader the two separate right from wrong words
    about equally well (ROC AUC 0.89 each), the minimum with a threshold that does not depend
    on the word's length."""
    return tuple(float(min(column_probs[start:end]))
                 for start, end, _ in _ctc_word_columns(ids, tokenizer))


def ctc_char_spans(ids: Sequence[int], column_probs: Sequence[float], tokenizer: Tokenizer,
                   widen: float = 0.5) -> CharSpans:
    """Where each non-whitespace character of a best CTC path ``ids`` lies along the crop.

    A character is emitted by a run of equal non-blank columns. Inside a word the border
    between two characters is the middle of the blank columns between their runs; the first
    and last characters of a word reach ``widen`` of the word's columns per character
    beyond their runs (as :func:`ctc_word_spans`, so character and word spans agree). Its
    score is the highest probability over its run (``column_probs``, one per column).

    Returns:
        ``(start, end, score)`` per character, start and end as fractions of the path's
        columns, left to right.
    """
    n = max(len(ids), 1)
    runs: list[list[int]] = []  # [first column, last column + 1, word number]
    probs: list[float] = []
    prev, word, gap = tokenizer.BLANK, 0, True
    for col, i in enumerate(int(v) for v in ids):
        if i == tokenizer.BLANK:
            prev = i
            continue
        if tokenizer.charset[i - 1].isspace():
            word += not gap
            gap, prev = True, i
            continue
        if i == prev:
            runs[-1][1] = col + 1
            probs[-1] = max(probs[-1], float(column_probs[col]))
        else:
            runs.append([col, col + 1, word])
            probs.append(float(column_probs[col]))
        gap, prev = False, i
    out: list[tuple[float, float, float]] = []
    extent: dict[int, list[int]] = {}  # word -> [first column, last column + 1, characters]
    for start, end, w in runs:
        e = extent.setdefault(w, [start, end, 0])
        e[1], e[2] = end, e[2] + 1
    for k, (start, end, w) in enumerate(runs):
        first, last, count = extent[w]
        pad = widen * (last - first) / count
        left = (runs[k - 1][1] + start) / 2 if k > 0 and runs[k - 1][2] == w else start - pad
        right = ((end + runs[k + 1][0]) / 2 if k + 1 < len(runs) and runs[k + 1][2] == w
                 else end + pad)
        out.append((max(0.0, left / n), min(1.0, right / n), probs[k]))
    return tuple(out)


def ctc_greedy(logits: torch.Tensor, mask: torch.Tensor, tokenizer: Tokenizer
               ) -> list[Decoded]:
    """Best-path CTC decoding over the real columns of each row.

    Args:
        logits: ``(B, T, C)`` CTC logits.
        mask: ``(B, T)`` True for real (unpadded) columns.
    Returns:
        one :class:`Decoded` per row; score = probability of the best path; spans and
        word scores of its words, spans of its characters.
    """
    logp = logits.float().log_softmax(-1)
    best_logp, best = logp.max(-1)
    scores = (best_logp * mask).sum(-1).exp()
    best_p = best_logp.exp()
    out = []
    for row in range(logits.shape[0]):
        n = int(mask[row].sum())
        ids = best[row, :n].tolist()
        probs = best_p[row, :n].tolist()
        out.append(Decoded(tokenizer.decode_ctc(ids), float(scores[row]),
                           ctc_word_spans(ids, tokenizer),
                           ctc_word_scores(ids, probs, tokenizer),
                           ctc_char_spans(ids, probs, tokenizer)))
    return out


@torch.no_grad()
def attention_greedy(decoder: TransformerDecoder, memory: torch.Tensor, mask: torch.Tensor,
                     forced: torch.Tensor | None = None, forced_len: torch.Tensor | None = None,
                     forbid: Sequence[int] = ()) -> dict[str, torch.Tensor]:
    """Batched greedy decoding with a KV cache; rows stop at eos (whole batch stops early).

    Args:
        forced: optional ``(B, Lf)`` tokens to emit instead of the argmax while
            ``step < forced_len[row]`` (used to branch into alternative candidates).
        forbid: token ids never emitted (their probability is moved to the others).
    Returns:
        ``tokens`` (B, L), ``probs`` (B, L) of the emitted tokens, ``second`` (B, L) the
        runner-up token, ``lengths`` (B,) steps up to and including eos.
    """
    b, device = memory.shape[0], memory.device
    state = decoder.start(memory, mask)
    token = torch.full((b,), Tokenizer.BOS, dtype=torch.long, device=device)
    done = torch.zeros(b, dtype=torch.bool, device=device)
    lengths = torch.full((b,), decoder.max_length + 1, dtype=torch.long, device=device)
    tokens, probs, seconds = [], [], []
    for t in range(decoder.max_length + 1):
        logits = decoder.step(token, state).float()
        if forbid:
            logits[:, list(forbid)] = -math.inf
        p = logits.softmax(-1)
        top2 = p.topk(2, dim=-1).indices
        token = top2[:, 0]
        if forced is not None and forced_len is not None and t < forced.shape[1]:
            use = t < forced_len
            token = torch.where(use, forced[:, t], token)
        prob = p.gather(1, token[:, None])[:, 0]
        tokens.append(token)
        probs.append(torch.where(done, torch.ones_like(prob), prob))
        seconds.append(top2[:, 1])
        ended = (token == Tokenizer.EOS) & ~done
        lengths = torch.where(ended, torch.full_like(lengths, t + 1), lengths)
        done |= token == Tokenizer.EOS
        if bool(done.all()):
            break
    return {"tokens": torch.stack(tokens, 1), "probs": torch.stack(probs, 1),
            "second": torch.stack(seconds, 1), "lengths": lengths}


def _to_decoded(result: dict[str, torch.Tensor], tokenizer: Tokenizer) -> list[Decoded]:
    scores = result["probs"].prod(-1)
    return [Decoded(tokenizer.decode_attention(row.tolist()), float(s))
            for row, s in zip(result["tokens"], scores, strict=True)]


def attention_candidates(decoder: TransformerDecoder, memory: torch.Tensor, mask: torch.Tensor,
                         tokenizer: Tokenizer, num_candidates: int = 1,
                         forbid: Sequence[int] = ()) -> list[list[Decoded]]:
    """Greedy text plus up to ``num_candidates - 1`` alternatives per row.

    Alternative ``k`` takes the runner-up token at the row's ``k``-th least confident step and
    decodes greedily from there (cheap branching instead of a slow beam search). ``forbid``:
    token ids never emitted.
    """
    first = attention_greedy(decoder, memory, mask, forbid=forbid)
    cands = [[d] for d in _to_decoded(first, tokenizer)]
    steps = first["tokens"].shape[1]
    if num_candidates <= 1:
        return cands
    pos = torch.arange(steps, device=memory.device)[None, :]
    conf = first["probs"].masked_fill(pos >= first["lengths"][:, None], 2.0)
    order = conf.argsort(dim=1)
    for k in range(min(num_candidates - 1, steps)):
        at = order[:, k]
        forced = first["tokens"].clone()
        forced.scatter_(1, at[:, None], first["second"].gather(1, at[:, None]))
        alt = attention_greedy(decoder, memory, mask, forced=forced, forced_len=at + 1,
                               forbid=forbid)
        valid = at < first["lengths"]
        for row, d in enumerate(_to_decoded(alt, tokenizer)):
            if valid[row] and all(d.text != c.text for c in cands[row]):
                cands[row].append(d)
    return cands


def merge(ctc: Decoded, candidates: list[Decoded], rule: MergeRule) -> Decoded:
    """Combine the CTC text with the Transformer's candidate(s).

    ``ctc_empty``: empty CTC text → empty output, else the first (greedy) candidate.
    ``closest``: the candidate closest to the CTC text (Levenshtein) is kept when
    ``distance / len(ctc) <= 0.5`` or ``distance <= 1``, else the CTC text.
    ``ctc``: the CTC text (the predictor then skips the decoder altogether).
    ``decoder_or_ctc``: the first (greedy) candidate, or the CTC text when that candidate is
    empty (the seed project's rule: the decoder reads, CTC only fills in for an empty read).
    ``decoder``: the first candidate, even when empty (the decoder alone).
    """
    if rule == "ctc":
        return ctc
    if rule == "decoder_or_ctc":
        return _with_spans(candidates[0], ctc) if candidates[0].text else ctc
    if rule == "decoder":
        return _with_spans(candidates[0], ctc)
    if rule == "ctc_empty":
        if not ctc.text:
            return Decoded("", ctc.score, ctc.spans, ctc.word_scores, ctc.chars)
        return _with_spans(candidates[0], ctc)
    if rule == "closest":
        dists = [Levenshtein.distance(c.text, ctc.text) for c in candidates]
        best = min(range(len(candidates)), key=lambda i: dists[i])
        d = dists[best]
        if d <= 1 or (ctc.text and d / len(ctc.text) <= 0.5):
            return _with_spans(candidates[best], ctc)
        return ctc
    raise ValueError(f"unknown merge rule {rule!r}; use ctc_empty, closest, ctc, "
                     "decoder_or_ctc or decoder")


def _with_spans(candidate: Decoded, ctc: Decoded) -> Decoded:
    """A Transformer candidate keeps the CTC word spans and word scores (how sure the CTC
    head was at each word) when it has as many words, and the CTC character spans when it
    is the CTC text."""
    chars = ctc.chars if candidate.text == ctc.text else None
    if ctc.spans is not None and len(candidate.text.split()) == len(ctc.spans):
        return Decoded(candidate.text, candidate.score, ctc.spans, ctc.word_scores, chars)
    return Decoded(candidate.text, candidate.score, chars=chars) if chars else candidate

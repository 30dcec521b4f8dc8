"""The recognition predictor: preprocess → model → postprocess, batched, in input order."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np
import torch
from torch import nn

from core.imaging import to_gray, true_runs
from recognition.decoding import Decoded, MergeRule, attention_candidates, ctc_greedy, merge
from recognition.preprocess import PreprocessConfig, normalize, prepare_image, two_row_split
from recognition.tokenizer import Tokenizer
from recognition.types import Recognition

Precision = Literal["auto", "fp32", "bf16"]


@functools.cache
def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` is a CPU that runs bfloat16 natively (AMX / AVX512-BF16, as seen
    by oneDNN). Asked once per device: training asks on every step."""
    if device.type != "cpu":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: Precision, device: torch.device) -> torch.dtype:
    """The dtype to run a recognizer in (see :class:`RecognitionPredictor`)."""
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, not {precision!r}")
    if precision == "bf16" or (precision == "auto" and native_bf16(device)):
        return torch.bfloat16
    return torch.float32


class RecognitionPredictor:
    """Reads crops of any sizes; implements the :class:`recognition.types.Recognizer` protocol.

    Crops are preprocessed to one fixed size, sorted by their real width (similar crops share
    a batch), run in batches of ``batch_size`` and returned in input order. Padding is masked,
    so a crop reads the same alone or in any batch. With ``width_step`` each crop is padded
    only to the next multiple of it (its own bucket, whatever the batch), and crops of one
    bucket share batches: short crops cost less.

    Args:
        model: a registered recognizer (eval mode is forced).
        tokenizer: its tokenizer.
        preprocess: its preprocessing settings.
        merge: ``ctc_empty``, ``closest`` or ``ctc`` (models with a decoder only; ``ctc``
            reads with the CTC head alone and never runs the decoder: fastest). Models
            without one (CRNN, ``ctc_transformer``) always read with their CTC head.
        batch_size: crops per forward pass.
        device: torch device to run on.
        num_candidates: Transformer candidates for ``closest``.
        regions: region names for a region head (index order).
        description: what was loaded (for logs and ``pipeline run`` reports).
        width_step: pad to the next multiple of this (pixels) instead of the full width.
        precision: ``fp32``; ``bf16`` (weights and activations in bfloat16: ~3x faster on
            CPUs with native bf16, e.g. AMX, very slow on others; the model is converted in
            place, its convolutions to channels-last on a CPU); ``auto``: bf16 on a CPU that
            has it natively, else fp32 (the model untouched).
        one_row_below: plates: a crop narrower than ``preprocess.two_row_aspect`` is read
            both as two rows and as one; the one-row reading is kept when the two-row one
            scores below this and the one-row one scores higher (a one-row plate seen from
            the side is as narrow as a two-row plate; a two-row plate read as one row gives
            its top row, confidently, so the two-row reading wins unless it is poor). Off if
            ``None``.
        split_aspect: a one-row crop more than this many times wider than high is read in
            pieces no wider than the model's input aspect, cut in blank columns
            (:func:`split_columns`), and the readings joined (:func:`join_readings`);
            shrunk whole to the input width, its letters would be a fraction of the input
            height. Off if ``None``.
    """

    def __init__(self, model: nn.Module, tokenizer: Tokenizer, preprocess: PreprocessConfig,
                 merge: MergeRule = "ctc_empty", batch_size: int = 32,
                 device: torch.device | str = "cpu", num_candidates: int = 3,
                 regions: Sequence[str] = (), description: str = "",
                 width_step: int | None = None, precision: Precision = "fp32",
                 one_row_below: float | None = None, split_aspect: float | None = None):
        self.device = torch.device(device)
        self.dtype = resolve_precision(precision, self.device)
        fast_cpu = self.dtype == torch.bfloat16 and self.device.type == "cpu"
        self.memory_format = torch.channels_last if fast_cpu else torch.contiguous_format
        self.model = model.to(self.device, dtype=self.dtype).eval()
        if fast_cpu:
            self.model.to(memory_format=self.memory_format)
        self.tokenizer, self.preprocess = tokenizer, preprocess
        self.merge, self.batch_size = merge, batch_size
        self.num_candidates = num_candidates if merge == "closest" else 1
        self.regions = list(regions)
        self.description = description
        self.width_step = width_step
        self.one_row_below = one_row_below
        self.split_aspect = split_aspect

    def predict(self, crops: Sequence[np.ndarray], forbid: str = "") -> list[Recognition]:
        """Read RGB ``uint8`` crops; one :class:`Recognition` per crop, in input order.

        ``forbid``: characters the decoders may not emit (e.g. the Cyrillic letters, on a
        page that is all Latin); each step takes the best allowed class instead.
        """
        crops = [np.asarray(c) for c in crops]
        reads = self._read_long(crops, self.preprocess, forbid)
        two_row = self.preprocess.two_row_aspect
        narrow = [i for i, c in enumerate(crops) if self.one_row_below is not None
                  and two_row is not None and c.shape[0] >= 2
                  and c.shape[1] / c.shape[0] < two_row
                  and reads[i].score < self.one_row_below]
        one_row: dict[int, Recognition] = {}
        if narrow:
            flat = replace(self.preprocess, two_row_aspect=None)
            for i, rec in zip(narrow, self._read([crops[i] for i in narrow], flat, forbid),
                              strict=True):
                if rec.score > reads[i].score:
                    one_row[i] = rec
        return [one_row[i] if i in one_row else two_row_chars(r, c, self.preprocess)
                for i, (r, c) in enumerate(zip(reads, crops, strict=True))]

    def _read_long(self, crops: Sequence[np.ndarray], preprocess: PreprocessConfig,
                   forbid: str) -> list[Recognition]:
        """:meth:`_read`, with crops wider than ``split_aspect`` read in pieces and joined."""
        if self.split_aspect is None or preprocess.two_row_aspect is not None:
            return self._read(crops, preprocess, forbid)
        pieces: list[np.ndarray] = []
        plans: list[tuple[list[int], list[bool]]] = []
        for crop in crops:
            h, w = crop.shape[:2]
            if h >= 2 and w > self.split_aspect * h:
                n = math.ceil(w / h / (preprocess.width / preprocess.height))
                cuts = split_columns(crop, n)
                xs = [0, *(x for x, _ in cuts), w]
                pieces.extend(crop[:, a:b] for a, b in zip(xs, xs[1:], strict=False))
                plans.append((xs, [space for _, space in cuts]))
            else:
                pieces.append(crop)
                plans.append(([0, w], []))
        reads = self._read(pieces, preprocess, forbid)
        out: list[Recognition] = []
        at = 0
        for xs, spaces in plans:
            n = len(xs) - 1
            out.append(reads[at] if n == 1 else join_readings(reads[at: at + n], xs, spaces))
            at += n
        return out

    def _read(self, crops: Sequence[np.ndarray], preprocess: PreprocessConfig, forbid: str
              ) -> list[Recognition]:
        """One reading per crop, batched by padded width."""
        prepared = [prepare_image(c, preprocess) for c in crops]
        full = preprocess.width
        buckets: dict[int, list[int]] = {}
        for i in sorted(range(len(prepared)), key=lambda i: prepared[i][1]):
            buckets.setdefault(self._padded_width(prepared[i][1], full), []).append(i)
        results: list[Recognition | None] = [None] * len(prepared)
        for width, order in buckets.items():
            for start in range(0, len(order), self.batch_size):
                idx = order[start: start + self.batch_size]
                images = normalize(np.stack([prepared[i][0][:, :width] for i in idx]))
                widths = torch.tensor([prepared[i][1] for i in idx], dtype=torch.long)
                reads = self.predict_tensors(images, widths, forbid)
                for i, rec in zip(idx, reads, strict=True):
                    results[i] = rec
        return [r for r in results if r is not None]

    def _padded_width(self, width: int, full: int) -> int:
        if self.width_step is None:
            return full
        step = self.width_step
        return min(full, max(step, -(-width // step) * step))

    @torch.inference_mode()
    def predict_tensors(self, images: torch.Tensor, widths: torch.Tensor, forbid: str = ""
                        ) -> list[Recognition]:
        """Decode an already preprocessed batch (``images`` (B, 3, H, W), ``widths`` (B,))."""
        banned = self.tokenizer.indices(forbid)
        images = images.to(self.device, dtype=self.dtype).contiguous(
            memory_format=self.memory_format)
        widths = widths.to(self.device)
        if getattr(self.model, "has_decoder", False):
            out = self.model.encode(images, widths)
        else:
            out = self.model(images, widths)
        logits = out["ctc_logits"]
        if banned:
            ids = torch.tensor([i + 1 for i in banned], device=logits.device)
            logits = logits.float().index_fill(-1, ids, -math.inf)
        ctc = ctc_greedy(logits, out["mask"], self.tokenizer)
        if getattr(self.model, "has_decoder", False) and self.merge != "ctc":
            cands = attention_candidates(self.model.decoder, out["memory"], out["mask"],
                                         self.tokenizer, self.num_candidates,
                                         [i + Tokenizer.N_SPECIAL for i in banned])
            final: list[Decoded] = [merge(c, k, self.merge) for c, k in zip(ctc, cands,
                                                                              strict=True)]
        else:
            final = ctc
        region_names: list[str | None] = [None] * len(final)
        if "region_logits" in out and self.regions:
            region_names = [self.regions[int(i)] for i in out["region_logits"].argmax(-1)]
        return [Recognition(d.text, min(max(d.score, 0.0), 1.0), r, d.spans, d.word_scores,
                            None if d.chars is None
                            else tuple((a, 0.0, b, 1.0, p) for a, b, p in d.chars))
                for d, r in zip(final, region_names, strict=True)]


SPACE_GAP = 0.15  # a cut in a blank run at least this many crop heights wide is a word space


def split_columns(crop: np.ndarray, pieces: int) -> list[tuple[int, bool]]:
    """Where to cut a long one-row crop into ``pieces``: near each even cut, the middle of
    the widest run of blank columns (no pixel far from the background, the crop's median,
    so either polarity) within a third of a piece; the even cut itself when there is none.
    Cuts are strictly left to right.

    Returns:
        ``(x, space)`` per cut, left to right: the column, and whether the blank run is at
        least :data:`SPACE_GAP` heights wide (a word space, not a letter gap).
    """
    gray = to_gray(crop).astype(np.float32)
    h, w = gray.shape
    off = np.abs(gray - np.median(gray))
    blank = off.max(axis=0) < 0.35 * max(float(off.max()), 1.0)
    runs = [(int(a), int(b)) for a, b in true_runs(blank) if a > 0 and b < w]
    cuts: list[tuple[int, bool]] = []
    for j in range(1, pieces):
        ideal = j * w / pieces
        lo, hi = ideal - w / (3 * pieces), ideal + w / (3 * pieces)
        near = [(b - a, -abs((a + b) / 2 - ideal), a, b) for a, b in runs if b > lo and a < hi]
        if near:  # kept in its window, so a blank run reaching two windows gives two cuts
            width, _, a, b = max(near)
            cuts.append((min(max((a + b) // 2, math.ceil(lo)), math.floor(hi)),
                         width >= SPACE_GAP * h))
        else:
            cuts.append((round(ideal), False))
    return cuts


def join_readings(reads: Sequence[Recognition], xs: Sequence[int], spaces: Sequence[bool]
                  ) -> Recognition:
    """One reading of a crop read in pieces ``xs[i]:xs[i + 1]``: texts joined (with a space
    where ``spaces`` says the cut lies in a word space), score the product (the best path's
    probability over all the pieces), spans and character boxes put back in the whole
    crop's width; a word cut in two is one word with the lower score."""
    width = xs[-1]
    text = ""
    score = 1.0
    spans: list[tuple[float, float]] | None = []
    word_scores: list[float] | None = []
    chars: list[tuple[float, float, float, float, float]] | None = []
    glue = False  # the next piece's first word continues the last one
    for i, rec in enumerate(reads):
        score *= rec.score
        a, b = xs[i], xs[i + 1]

        def at(f: float, a: int = a, b: int = b) -> float:
            return (a + f * (b - a)) / width

        piece = rec.text.strip()
        if piece:
            text += ("" if not text else "" if glue else " ") + piece
            if spans is not None and rec.spans is not None and rec.word_scores is not None:
                new = [(at(s), at(e)) for s, e in rec.spans]
                scores = list(rec.word_scores)
                if glue and spans and new:
                    spans[-1] = (spans[-1][0], new[0][1])
                    word_scores[-1] = min(word_scores[-1], scores[0])
                    new, scores = new[1:], scores[1:]
                spans += new
                word_scores += scores
            else:
                spans = word_scores = None
            if chars is not None and rec.chars is not None:
                chars += [(at(x0), y0, at(x1), y1, p) for x0, y0, x1, y1, p in rec.chars]
            else:
                chars = None
        glue = bool(text) and i < len(spaces) and not spaces[i]
    return Recognition(text, score, reads[0].region,
                       None if spans is None else tuple(spans),
                       None if word_scores is None else tuple(word_scores),
                       None if chars is None else tuple(chars))


def two_row_chars(rec: Recognition, crop: np.ndarray, preprocess: PreprocessConfig
                  ) -> Recognition:
    """``rec`` with its character boxes put back where they are in a two-row crop: the
    preprocessing lays its bottom row to the right of its top row, each as wide as the crop
    (:func:`recognition.preprocess.join_two_rows`), so the left half of the columns is the
    top row and the right half the bottom one. Other crops are returned as they are."""
    split = two_row_split(crop, preprocess.two_row_aspect, preprocess.row_split)
    if rec.chars is None or split is None:
        return rec
    # where the top row ends and the bottom row starts, as fractions of the crop's height
    top_end, bottom_start = (y / crop.shape[0] for y in split)

    def place(a: float, b: float) -> tuple[float, float, float, float]:
        if (a + b) / 2 < 0.5:
            return min(2 * a, 1.0), 0.0, min(2 * b, 1.0), top_end
        return max(2 * a - 1, 0.0), bottom_start, max(2 * b - 1, 0.0), 1.0

    return replace(rec, chars=tuple((*place(a, b), p) for a, _, b, _, p in rec.chars))

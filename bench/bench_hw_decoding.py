"""The documents readers' decoding (merge) rules on real handwriting: CER, exact and crops/s.

Reads the crops folders that ``pipeline data prepare`` (word sets) and ``pipeline convert
crops --categories line`` (page sets, line crops) leave under ``data/real`` (see
``bench/README.md``), with the joint reader under every merge rule and the CRNN
reader for comparison, set up as the documents preset reads them (width step 128, bf16 where
the CPU has it). Choose on ``--part tune``; report ``--part test``. The documents reader
ships without its decoder since 2026-12-07 (this bench chose ``merge: ctc``); the joint file
it was measured with comes from git:

    git show 175bf29:data/models/documents_recognizer.pt > runs/init/documents_recognizer_joint.pt

    nice -n 10 .venv/bin/python bench/bench_hw_decoding.py --part tune --limit 300 \\
        --out bench/out/hw_decoding_tune.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import get_args

import numpy as np
import torch

from core.device import select_device
from recognition.checkpoint import load_checkpoint
from recognition.datasets import load_sample, read_dataset
from recognition.decoding import Decoded, MergeRule, attention_candidates, ctc_greedy, merge
from recognition.metrics import score_texts
from recognition.predictor import RecognitionPredictor
from recognition.preprocess import normalize, prepare_image

SETS = ["staghado_handwritten", "tufts_names", "en_letters_hooker", "fr_wills_poilus",
        "fr_manuscripts_19c_cremma", "ru_peter_lines"]
JOINT = Path("runs/init/documents_recognizer_joint.pt")  # stage 6 with its decoder
CRNN = Path("data/models/documents_crnn.pt")


def crops_folder(root: Path, name: str, part: str) -> Path | None:
    """``root/name/part`` for word sets, ``root/name/part_lines`` for page sets; ``None``
    (with a note) when neither holds a ``labels.tsv``."""
    for folder in (root / name / part, root / name / f"{part}_lines"):
        if (folder / "labels.tsv").is_file():
            return folder
    print(f"note: {name}: no {part} crops under {root / name} (prepare it: bench/README.md)",
          file=sys.stderr)
    return None


def read_once(predictor: RecognitionPredictor, crops: list, num_candidates: int = 3
              ) -> list[tuple[Decoded, list[Decoded]]]:
    """The CTC reading and the decoder's candidates of every crop, in input order, batched and
    padded as ``predictor`` does. Every rule only chooses among these (the greedy reading is
    the first candidate), so one decoding pass scores them all."""
    prepared = [prepare_image(c, predictor.preprocess) for c in crops]
    full = predictor.preprocess.width
    buckets: dict[int, list[int]] = {}
    for i in sorted(range(len(crops)), key=lambda i: prepared[i][1]):
        buckets.setdefault(predictor._padded_width(prepared[i][1], full), []).append(i)
    out: list = [None] * len(crops)
    with torch.inference_mode():
        for width, order in buckets.items():
            for start in range(0, len(order), predictor.batch_size):
                idx = order[start: start + predictor.batch_size]
                images = normalize(np.stack([prepared[i][0][:, :width] for i in idx])).to(
                    predictor.device, dtype=predictor.dtype).contiguous(
                    memory_format=predictor.memory_format)
                widths = torch.tensor([prepared[i][1] for i in idx], dtype=torch.long)
                enc = predictor.model.encode(images, widths)
                ctc = ctc_greedy(enc["ctc_logits"], enc["mask"], predictor.tokenizer)
                cands = attention_candidates(predictor.model.decoder, enc["memory"],
                                             enc["mask"], predictor.tokenizer, num_candidates)
                for i, c, k in zip(idx, ctc, cands, strict=True):
                    out[i] = (c, k)
    return out


def score(texts: list[str], refs: list[str]) -> dict:
    m = score_texts(texts, refs)
    return {"n": m.count, "cer": round(m.cer, 4), "exact": round(m.accuracy, 4),
            "examples": [{"gt": r, "pred": t} for t, r in zip(texts, refs, strict=True)
                         if t != r][:3]}


def crops_per_s(predictor: RecognitionPredictor, crops: list) -> float:
    """Throughput of ``predictor.predict`` on ``crops``, timed on a second pass (the first
    builds the kernels of each padded width)."""
    predictor.predict(crops)
    start = time.perf_counter()
    predictor.predict(crops)
    return round(len(crops) / (time.perf_counter() - start), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("tune", "test"), default="tune")
    ap.add_argument("--root", type=Path, default=Path("data/real"))
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--rules", default=",".join(get_args(MergeRule)))
    ap.add_argument("--limit", type=int, default=300, help="At most N crops per set.")
    ap.add_argument("--speed-n", type=int, default=64,
                    help="Crops per set timed for crops/s (each rule family and reader).")
    ap.add_argument("--no-crnn", action="store_true", help="Skip the CRNN reader.")
    ap.add_argument("--joint", type=Path, default=JOINT,
                    help="A joint CTC + Transformer reader file, decoder included.")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rules = [r for r in args.rules.split(",") if r]
    bad = [r for r in rules if r not in get_args(MergeRule)]
    if bad:
        ap.error(f"--rules: unknown rule(s) {bad}; known: {get_args(MergeRule)}")
    device = select_device("cpu")
    report: dict = {"part": args.part, "limit": args.limit, "threads": torch.get_num_threads(),
                    "speed_crops": args.speed_n, "sets": {}}
    if not args.joint.is_file():
        ap.error(f"--joint {args.joint} not found (the module docstring: how to get it)")
    joint = load_checkpoint(args.joint)
    crnn = None if args.no_crnn else load_checkpoint(CRNN)
    for name in args.sets.split(","):
        folder = crops_folder(args.root, name, args.part)
        if folder is None:
            continue
        samples = read_dataset(folder, "crops", limit=args.limit)
        crops = [load_sample(s) for s in samples]
        refs = [s.text for s in samples]
        rows = report["sets"][name] = {}

        def reader(checkpoint: tuple, rule: str) -> RecognitionPredictor:
            model, tokenizer, prep, regions = checkpoint
            return RecognitionPredictor(model, tokenizer, prep, rule, 32, device,
                                        regions=regions, width_step=128, precision="auto")

        # three decoder candidates only when closest is scored (it is ~5x slower on lines)
        reads = read_once(reader(joint, "closest"), crops, 3 if "closest" in rules else 1)
        # the decoder's cost is the same under ctc_empty, decoder_or_ctc and decoder (one
        # greedy pass), so one of them is timed for all three
        speed = {rule: crops_per_s(reader(joint, rule), crops[: args.speed_n])
                 for rule in ("ctc", "decoder_or_ctc", "closest") if rule in rules}
        for rule in rules:
            row = score([merge(c, k, rule).text for c, k in reads], refs)
            row["crops_per_s"] = speed.get(rule, speed.get("decoder_or_ctc"))
            rows[f"joint:{rule}"] = row
        if crnn is not None:
            predictor = reader(crnn, "ctc")
            row = score([r.text for r in predictor.predict(crops)], refs)
            row["crops_per_s"] = crops_per_s(predictor, crops[: args.speed_n])
            rows["crnn:ctc"] = row
        for label, row in rows.items():
            print(f"{name:26s} {label:20s} n={row['n']:4d} cer={row['cer']:.4f} "
                  f"exact={row['exact']:.3f} crops/s={row['crops_per_s']}", flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()

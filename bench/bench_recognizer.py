"""Recognizer throughput on this machine: crops/s batched vs one crop at a time.

Both registered architectures at their default sizes (joint CTC+Transformer: convnext_atto,
384x96; CRNN: 32x128), on word crops rendered with DejaVu Sans. Untrained models never emit
eos, so the Transformer would always run ``max_length`` steps; ``--decode-steps`` caps the
greedy decoder at a typical word length instead (pass trained weights for real behaviour).

    .venv/bin/python bench/bench_recognizer.py --out bench/out/recognizer.json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path
from typing import get_args

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from recognition.config import RecognizerConfig
from recognition.decoding import MergeRule
from recognition.factory import build_recognizer

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
ARCHS = {"joint_ctc_transformer": (96, 384), "crnn": (32, 128)}


def make_crops(n: int, seed: int) -> list[np.ndarray]:
    """``n`` word crops of varied length and size (black text on white)."""
    rng = random.Random(seed)
    alphabet = "ABCDEFGHKMOPTXabcdefghkmnoprstxyz0123456789"
    crops = []
    for _ in range(n):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 12)))
        size = rng.randint(16, 40)
        font = ImageFont.truetype(FONT, size)
        w = int(font.getlength(text)) + 8
        img = Image.new("RGB", (w, size + 10), "white")
        ImageDraw.Draw(img).text((4, 2), text, fill="black", font=font)
        crops.append(np.asarray(img))
    return crops


def time_it(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_arch(arch: str, crops: list[np.ndarray], single_n: int, batch_size: int,
               decode_steps: int | None, weights: str | None, merge: str,
               precision: str = "fp32") -> dict:
    h, w = ARCHS[arch]
    cfg = RecognizerConfig(arch=arch, height=h, width=w, batch_size=batch_size, merge=merge,
                           weights=weights, untrained=weights is None,
                           precision=precision)
    rec = build_recognizer(cfg, device="cpu")
    decoder = getattr(rec.model, "decoder", None) if merge != "ctc" else None
    if decoder is not None and decode_steps is not None and weights is None:
        decoder.max_length = decode_steps
    rec.predict(crops[:4])  # warm-up
    t_batch = time_it(lambda: rec.predict(crops), 2)
    few = crops[:single_n]
    t_single = time_it(lambda: [rec.predict([c]) for c in few], 1)
    prep = rec.preprocess  # a checkpoint's own architecture and input size win
    name = arch if weights is None else f"{type(rec.model).__name__} ({Path(weights).name})"
    return {"arch": name, "input": f"{prep.width}x{prep.height}",
            "description": rec.description,
            "precision": str(rec.dtype).removeprefix("torch."),
            "params_m": round(sum(p.numel() for p in rec.model.parameters()) / 1e6, 2),
            "batch_size": batch_size, "merge": merge if decoder is not None else "ctc",
            "decode_steps": decoder.max_length + 1 if decoder is not None else None,
            "batched_crops_per_s": round(len(crops) / t_batch, 1),
            "single_crops_per_s": round(len(few) / t_single, 1),
            "speedup": round((len(crops) / t_batch) / (len(few) / t_single), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("bench/out/recognizer.json"))
    ap.add_argument("--n", type=int, default=256, help="crops for the batched run")
    ap.add_argument("--single-n", type=int, default=48, help="crops read one at a time")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--decode-steps", type=int, default=10,
                    help="cap of untrained greedy decoding (typical word length + eos)")
    ap.add_argument("--merge", default="ctc_empty", choices=list(get_args(MergeRule)),
                    help="merge rule of the joint model (ctc: its CTC head alone, no decoder)")
    ap.add_argument("--weights-joint", default=None)
    ap.add_argument("--weights-crnn", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--precisions", default="fp32,bf16",
                    help="comma-separated: fp32, bf16, auto (bf16 is slow without native "
                         "CPU support)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    crops = make_crops(args.n, args.seed)
    weights = {"joint_ctc_transformer": args.weights_joint, "crnn": args.weights_crnn}
    rows = [bench_arch(a, crops, args.single_n, args.batch_size, args.decode_steps - 1,
                       weights[a], args.merge, precision)
            for a in ARCHS for precision in args.precisions.split(",")]
    header = (f"| arch | input | precision | params (M) | decode steps | batched crops/s "
              f"(batch {args.batch_size}) | one-at-a-time crops/s | speed-up |")
    print(header)
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['arch']} | {r['input']} | {r['precision']} | {r['params_m']} | "
              f"{r['decode_steps'] or '-'} | "
              f"{r['batched_crops_per_s']} | {r['single_crops_per_s']} | {r['speedup']}x |")
    report = {"machine": {"cpu": platform.processor() or platform.machine(),
                          "threads": args.threads, "torch": torch.__version__},
              "crops": args.n, "single_crops": args.single_n, "results": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Documents line readers side by side on real handwriting and printed lines: CER per set.

Each reader (a recognizer checkpoint: the shipped joint reader, a decoder-less
``ctc_transformer`` fine-tune, ...) reads every crop of the five handwriting sets prepared
under ``data/real`` (``bench_hw_decoding.py``'s folders) and the printed lines of
``../shared/data/printed_lines``, by its CTC head, set up as the documents preset reads them
(width step 128, bf16 where the CPU has it). Raw text for handwriting (as
``bench_hw_decoding.py``), whitespace collapsed for printed lines (as ``bench_accuracy.py``);
CER = edits / reference characters over a set. Choose on ``--part tune``; report ``--part
test`` (``bench_accuracy.py`` puts the same readers beside Tesseract and RapidOCR).

    nice -n 10 .venv/bin/python bench/bench_hw_readers.py --part tune \\
        --reader shipped=data/models/documents_recognizer.pt \\
        --reader hw=runs/recognition/documents_ctc_hw/best.pt --out bench/out/hw_readers_tune.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_hw_decoding import SETS, crops_folder  # noqa: E402
from realdata import load_set  # noqa: E402

from core.device import select_device  # noqa: E402
from recognition.checkpoint import load_checkpoint  # noqa: E402
from recognition.datasets import load_sample, read_dataset  # noqa: E402
from recognition.metrics import score_texts  # noqa: E402
from recognition.predictor import RecognitionPredictor  # noqa: E402

PRINTED = "printed_lines"


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def handwriting(root: Path, name: str, part: str, charset: str, limit: int | None
                ) -> tuple[list[np.ndarray], list[str]] | None:
    folder = crops_folder(root, name, part)
    if folder is None:
        return None
    samples = read_dataset(folder, "auto", charset, None, None, None, limit)
    return [load_sample(s) for s in samples], [s.text for s in samples]


def printed(part: str, limit: int | None) -> tuple[list[np.ndarray], list[str]]:
    samples = load_set(PRINTED, part)[:limit]
    return ([np.asarray(Image.open(s.path).convert("RGB")) for s in samples],
            [collapse(s.text) for s in samples])


def reader(path: Path, device: str) -> RecognitionPredictor:
    model, tokenizer, prep, regions = load_checkpoint(path)
    return RecognitionPredictor(model, tokenizer, prep, "ctc", 32, select_device(device),
                                regions=regions, width_step=128, precision="auto")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("tune", "test"), default="tune")
    ap.add_argument("--root", type=Path, default=Path("data/real"))
    ap.add_argument("--sets", default=",".join(SETS + [PRINTED]))
    ap.add_argument("--reader", action="append", required=True, metavar="NAME=CHECKPOINT")
    ap.add_argument("--limit", type=int, default=None, help="At most N crops per set.")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    readers = {}
    for item in args.reader:
        name, sep, path = item.partition("=")
        if not sep or not Path(path).is_file():
            ap.error(f"--reader {item!r}: expected NAME=CHECKPOINT (an existing file)")
        readers[name] = reader(Path(path), args.device)
    charset = next(iter(readers.values())).tokenizer.charset
    report: dict = {"part": args.part, "readers": {k: str(v) for k, v in
                                                   (i.partition("=")[::2] for i in args.reader)},
                    "sets": {}}
    for name in args.sets.split(","):
        data = (printed(args.part, args.limit) if name == PRINTED
                else handwriting(args.root, name, args.part, charset, args.limit))
        if data is None:
            continue
        crops, refs = data
        row = report["sets"][name] = {"n": len(refs)}
        for rname, pred in readers.items():
            start = time.perf_counter()
            texts = [r.text for r in pred.predict(crops)]
            if name == PRINTED:
                texts = [collapse(t) for t in texts]
            m = score_texts(texts, refs)
            row[rname] = {"cer": round(m.cer, 4), "exact": round(m.accuracy, 4),
                          "s": round(time.perf_counter() - start, 1)}
        print(f"{name:28s} n={len(refs):5d}  " + "  ".join(
            f"{r}: {row[r]['cer']:.4f}" for r in readers), flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

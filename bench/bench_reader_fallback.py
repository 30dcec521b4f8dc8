"""A second reader for the crops the first reads unsurely: CER per set against the threshold.

The documents preset's printed reader reads every crop; a crop whose confidence per
character (``score ** (1 / len(text))``, :func:`pipeline.steps.read_confidence`) is under a
threshold is read again by a second reader (e.g. one fine-tuned on handwriting) and takes the
second reading always (``--rule always``, what ``pipeline.second_reader`` does) or only when
its confidence per character is higher (``--rule higher``). Sets as ``bench_hw_readers.py``
(real handwriting crops under ``data/real``, printed lines of ``../shared/data``); choose the
threshold on ``--part tune``.

    .venv/bin/python bench/bench_reader_fallback.py --part tune --limit 300 \
        --first data/models/documents_recognizer.pt --second runs/x/best.pt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_hw_readers import PRINTED, SETS, collapse, handwriting, printed, reader  # noqa: E402

from pipeline.steps import read_confidence  # noqa: E402
from recognition.metrics import score_texts  # noqa: E402

THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.01)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("tune", "test"), default="tune")
    ap.add_argument("--root", type=Path, default=Path("data/real"))
    ap.add_argument("--first", type=Path, required=True)
    ap.add_argument("--second", type=Path, required=True)
    ap.add_argument("--rule", choices=("higher", "always"), default="always",
                    help="always: the rule the documents preset's second_reader applies")
    ap.add_argument("--thresholds", type=float, nargs="+", default=list(THRESHOLDS))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    first, second = reader(args.first, "cpu"), reader(args.second, "cpu")
    report: dict = {"part": args.part, "rule": args.rule, "first": str(args.first),
                    "second": str(args.second), "sets": {}}
    print("set".ljust(28) + "".join(f"{t:>8.2f}" for t in args.thresholds))
    for name in SETS + [PRINTED]:
        data = (printed(args.part, args.limit) if name == PRINTED
                else handwriting(args.root, name, args.part, first.tokenizer.charset, args.limit))
        if data is None:
            continue
        crops, refs = data
        a, b = first.predict(crops), second.predict(crops)
        norm = collapse if name == PRINTED else (lambda t: t)
        row = {}
        for t in args.thresholds:
            texts = []
            for ra, rb in zip(a, b, strict=True):
                ca, cb = read_confidence(ra), read_confidence(rb)
                swap = ca < t and (args.rule == "always" or cb > ca)
                texts.append(norm(rb.text if swap else ra.text))
            row[f"{t:.2f}"] = round(score_texts(texts, refs).cer, 4)
        report["sets"][name] = {"n": len(refs), "cer": row}
        print(name.ljust(28) + "".join(f"{row[f'{t:.2f}']:>8.4f}" for t in args.thresholds),
              flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Word and line crops fed whole to ``pipeline run`` (``ocr`` mode): CER per set and setting.

A user with a folder of line or word images runs ``pipeline run lines/`` and gets the full
pipeline: detector, regions, reader, layout. This bench reads the real handwriting crops
prepared under ``data/real`` (``bench_hw_decoding.py``'s sets) and the printed lines of
``../shared/data`` that way with the ``documents`` preset under each ``--variant`` (preset
overrides), next to ``recognize`` mode (every image one crop: what the reader alone does)
and, with ``--peers``, Tesseract and RapidOCR run on each image as a user runs them
(Tesseract's default page segmentation, RapidOCR with its detector). Output lines are joined
by spaces and whitespace is collapsed; CER = edits / reference characters over a set.
Choose on ``--part tune``; report ``--part test``.

    .venv/bin/python bench/bench_line_images.py --part tune --limit 60 \\
        --variant before=detector.max_upscale=null,regions.line_image_ink=null --variant shipped=
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_hw_decoding import SETS, crops_folder  # noqa: E402
from bench_hw_readers import PRINTED, collapse  # noqa: E402
from realdata import load_set  # noqa: E402

from pipeline.ocr import OcrPipeline  # noqa: E402
from recognition.metrics import score_texts  # noqa: E402


def samples(root: Path, name: str, part: str, limit: int | None) -> list[tuple[Path, str]]:
    """``(image, text)`` of a set's part: handwriting crops, or the printed lines."""
    if name == PRINTED:
        return [(s.path, collapse(s.text)) for s in load_set(PRINTED, part)[:limit]]
    folder = crops_folder(root, name, part)
    if folder is None:
        return []
    rows = [line.split("\t") for line in (folder / "labels.tsv").read_text(
        encoding="utf-8").splitlines() if "\t" in line]
    return [(folder / r[0], collapse(r[1])) for r in rows[:limit]]


def parse_variant(text: str) -> tuple[str, list[str]]:
    name, _, sets = text.partition("=")
    return name, [s for s in sets.split(",") if s]


def ours(overrides: list[str], mode: str):
    pipe = OcrPipeline.from_preset("documents", mode=mode, overrides=overrides)
    return lambda paths: [collapse(p.text) for p in pipe.run([str(x) for x in paths])]


def peer(engine):
    return lambda paths: [collapse(engine.read(Path(x), "page")) for x in paths]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("tune", "test"), default="tune")
    ap.add_argument("--root", type=Path, default=Path("data/real"))
    ap.add_argument("--sets", nargs="+", default=[*SETS, PRINTED])
    ap.add_argument("--limit", type=int, default=None, help="crops per set")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=KEY=VALUE[,..]",
                    help="documents preset overrides read in ocr mode (repeatable; NAME= "
                         "alone: the preset as shipped)")
    ap.add_argument("--no-recognize", action="store_true", help="skip the recognize-mode row")
    ap.add_argument("--peers", action="store_true", help="also Tesseract and RapidOCR")
    ap.add_argument("--out", type=Path, default=None, help="JSON of the table")
    args = ap.parse_args()

    data = {name: samples(args.root, name, args.part, args.limit) for name in args.sets}
    data = {k: v for k, v in data.items() if v}
    engines = [(name, lambda o=over: ours(o, "ocr")) for name, over in
               map(parse_variant, args.variant or ["shipped="])]
    if not args.no_recognize:
        engines.append(("recognize mode", lambda: ours([], "recognize")))
    if args.peers:
        from peers import RapidOcr, Tesseract

        engines += [("Tesseract (as run on an image)", lambda: peer(Tesseract())),
                    ("RapidOCR (as run on an image)", lambda: peer(RapidOcr()))]
    table: dict[str, dict[str, float]] = {}
    speed: dict[str, float] = {}
    for name, make in engines:
        read = make()
        table[name], spent, count = {}, 0.0, 0
        for set_name, items in data.items():
            start = time.perf_counter()
            texts = []
            for k in range(0, len(items), 16):
                texts += read([p for p, _ in items[k:k + 16]])
            spent += time.perf_counter() - start
            count += len(items)
            table[name][set_name] = score_texts(texts, [t for _, t in items]).cer
            print(f"{name}: {set_name} CER {table[name][set_name]:.3f}", flush=True)
        speed[name] = spent / max(count, 1)
    heads = list(data)
    print(f"\n{args.part} part, {', '.join(f'{k} {len(v)}' for k, v in data.items())} images\n")
    print("| setting | " + " | ".join(heads) + " | s / image |")
    print("|---|" + "---|" * (len(heads) + 1))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(f"{row[h]:.3f}" for h in heads)
              + f" | {speed[name]:.2f} |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"part": args.part, "counts": {k: len(v) for k, v in
                                        data.items()}, "cer": table, "sec_per_image": speed},
                                       indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Long printed line images read whole: the real printed lines, and pairs of them joined.

A line image much wider than the reader's input (16:1 for the documents reader) is shrunk to
the input width, its letters to a fraction of the input height; ``recognizer.split_aspect``
reads such a crop in pieces instead. The real printed lines (``../shared/data/printed_lines``)
run from 5:1 to 36:1; ``--pairs`` joins each line with the next one of the same source
(scaled to its height, half a height apart: 36:1 to 68:1) to have more long lines to
measure on. Page CER pooled over the lines, whitespace as read; each ``--variant`` is a list
of documents preset overrides, read in one run:

    .venv/bin/python bench/bench_long_lines.py --part tune --variant whole= \\
        --variant split32=recognizer.split_aspect=32
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from realdata import load_set  # noqa: E402


def gray(path: Path) -> np.ndarray:
    """The line image in gray, transparent pixels white."""
    with Image.open(path) as im:
        if im.mode in ("RGBA", "LA"):
            flat = Image.new("RGBA", im.size, "white")
            flat.alpha_composite(im.convert("RGBA"))
            im = flat
        return np.asarray(im.convert("L"))


def joined_pairs(samples: list) -> list[tuple[np.ndarray, str, float]]:
    """Each line wider than 10:1 joined with the next such line of the same source (file
    name prefix), the second scaled to the first's height, half a height of white between."""
    import cv2

    wide = [(s, gray(s.path)) for s in samples]
    wide = [(s, g) for s, g in wide if g.shape[1] > 10 * g.shape[0]]
    out = []
    for (a, ga), (b, gb) in zip(wide, wide[1:] + wide[:1], strict=True):
        if a.path.name[:3] != b.path.name[:3] or a is b:
            continue
        h = ga.shape[0]
        gb = cv2.resize(gb, (round(gb.shape[1] * h / gb.shape[0]), h))
        img = np.concatenate([ga, np.full((h, h // 2), 255, np.uint8), gb], axis=1)
        out.append((img, f"{a.text} {b.text}", img.shape[1] / h))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="tune", choices=("tune", "test"))
    ap.add_argument("--pairs", action="store_true", help="join neighbouring lines (see above)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=KEY=VALUE[,..]",
                    help="documents preset overrides ('whole=' for none)")
    args = ap.parse_args()
    from pipeline.ocr import OcrPipeline

    samples = load_set("printed_lines", args.part)
    if args.pairs:
        items = joined_pairs(samples)
    else:
        items = []
        for s in samples:
            g = gray(s.path)
            items.append((g, s.text, g.shape[1] / g.shape[0]))
    aspects = [a for _, _, a in items]
    print(f"{len(items)} {'joined pairs' if args.pairs else 'lines'} of printed_lines "
          f"{args.part}, {min(aspects):.0f}:1 to {max(aspects):.0f}:1")
    print("| variant | CER | lines read exactly |\n|---|---|---|")
    for spec in args.variant or ["whole="]:
        name, _, rest = spec.partition("=")
        pipe = OcrPipeline.from_preset("documents", device="cpu", mode="ocr",
                                       overrides=[kv for kv in rest.split(",") if kv])
        edits = chars = exact = 0
        for img, text, _ in items:
            page = pipe.run([np.repeat(img[:, :, None], 3, axis=2)])[0]
            pred = " ".join(line.text for line in page.lines)
            d = Levenshtein.distance(pred, text)
            edits, chars, exact = edits + d, chars + len(text), exact + (d == 0)
        print(f"| {name} | {edits / max(chars, 1):.4f} | {exact / max(len(items), 1):.3f} |",
              flush=True)


if __name__ == "__main__":
    main()

"""Rewrite a crops folder (``labels.tsv`` + ``images/``) into a much smaller copy.

Used to carry synthetic training lines to a machine where they cannot be generated (no
fonts there) and the bytes that travel are limited. The recognizer only ever sees a gray crop
scaled to its input height, so:

* ``--mode bilevel``: 1-bit PNG at the stored size (thresholded at mid-gray); right for
  ``pipeline synth lines --bilevel-prob 1 --hand-prob 0`` output (~1.4 KB a line);
* ``--mode gray``: gray WebP (lossy, ``--quality``) scaled to ``--height`` rows (~5 KB a
  line at 40 rows); ``--lossless`` keeps exact pixels (PNG) for validation sets.

    python scripts/compact_crops.py SRC DST --mode gray --height 40
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image


def compact(src: Path, dst: Path, mode: str, height: int, quality: int, lossless: bool) -> int:
    rows = (src / "labels.tsv").read_text(encoding="utf-8").splitlines()
    (dst / "images").mkdir(parents=True, exist_ok=True)
    out = []
    for row in rows:
        if not row.strip():
            continue
        name, rest = row.split("\t", 1)
        with Image.open(src / name) as im:
            gray = im.convert("L")
        stem = Path(name).stem
        if mode == "bilevel":
            new = f"images/{stem}.png"
            gray.point(lambda v: 255 if v >= 128 else 0).convert("1").save(
                dst / new, optimize=True)
        else:
            w, h = gray.size
            if h != height:
                gray = gray.resize((max(1, round(w * height / h)), height), Image.LANCZOS)
            if lossless:
                new = f"images/{stem}.png"
                gray.save(dst / new, optimize=True)
            else:
                new = f"images/{stem}.webp"
                gray.save(dst / new, "WEBP", quality=quality, method=6)
        out.append(f"{new}\t{rest}")
    (dst / "labels.tsv").write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--mode", choices=("bilevel", "gray"), default="gray")
    ap.add_argument("--height", type=int, default=40)
    ap.add_argument("--quality", type=int, default=85)
    ap.add_argument("--lossless", action="store_true")
    a = ap.parse_args()
    n = compact(a.src, a.dst, a.mode, a.height, a.quality, a.lossless)
    size = sum(p.stat().st_size for p in (a.dst / "images").iterdir())
    print(f"wrote {n} crops to {a.dst} ({size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()

"""``pipeline run --engine local`` against ``--engine ray``: wall time and pages per second
on the same generated pages, and whether the two results files agree entry by entry.

Writes N pages of printed lines (DejaVu Sans) and runs the CLI on them, once locally and
once on a local Ray per ``--actors`` value (each run starts and stops its own Ray, which is
part of the time). Stages default to the shipped ``documents`` preset; ``--set`` passes
overrides.

    .venv/bin/python bench/ray_engine.py --pages 24 --actors 1,2

2026-12-05, shared 2-core CPU with a training job beside it (noisy), 24 pages of 360x200,
ink detector + shipped CRNN (``--set detector.backend=ink --set recognizer.arch=crnn --set
recognizer.weights=data/models/documents_crnn.pt``), load average ~8 from other jobs:

    engine            wall s  pages/s  same results
    local               46.7     0.51  -
    ray, 1 actor(s)     41.1     0.58  True
    ray, 2 actor(s)     52.0     0.46  True

Wall time includes start-up (models, and Ray's ~10 s). With no idle core a second actor
only competes with the first; the engine is for clusters and many-core machines.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while",
         "seven", "wizards", "quietly", "box", "jackdaws", "and", "pack", "my", "bag", "with",
         "five", "dozen", "liquor", "jugs"]


def write_pages(folder: Path, n: int) -> None:
    font = ImageFont.truetype(FONT, 22)
    for i in range(n):
        img = Image.new("RGB", (360, 200), "white")
        draw = ImageDraw.Draw(img)
        for row in range(4):
            words = [WORDS[(i * 7 + row * 3 + k) % len(WORDS)] for k in range(3)]
            draw.text((16, 16 + 44 * row), " ".join(words), fill="black", font=font)
        img.save(folder / f"page_{i:03d}.png")


def run(inputs: Path, out: Path, extra: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).with_name("pipeline")), "run", str(inputs),
                           "--out", str(out), *extra], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pipeline run {' '.join(extra)} failed:\n{done.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--actors", default="1,2", help="comma-separated actor counts")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="pipeline config override key=value (repeatable)")
    args = parser.parse_args()
    sets = [a for o in args.overrides for a in ("--set", o)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        folder.mkdir()
        write_pages(folder, args.pages)
        base = ["--device", "cpu", *sets]
        local = run(folder, Path(tmp) / "local.json", base)
        reference = json.loads((Path(tmp) / "local.json").read_text())["images"]
        print(f"{'engine':<16}{'wall s':>8}{'pages/s':>9}  same results")
        print(f"{'local':<16}{local:>8.1f}{args.pages / local:>9.2f}  -")
        for actors in [int(a) for a in args.actors.split(",")]:
            out = Path(tmp) / f"ray{actors}.json"
            wall = run(folder, out, [*base, "--engine", "ray", "--ray-actors", str(actors)])
            same = json.loads(out.read_text())["images"] == reference
            print(f"{f'ray, {actors} actor(s)':<16}{wall:>8.1f}{args.pages / wall:>9.2f}  {same}")


if __name__ == "__main__":
    main()

"""Page turn detection: how often a page turned 0, 90, 180 or 270 degrees is found turned
that far, and what it costs.

Pages: the printed pages of ``../shared/data/docs_printed_pages`` (its ``manifest.json``;
read in place, not copied) and synthetic notebook pages (``pipeline synth notebooks``, made
in a temporary folder), each turned clockwise by each angle and read by the ``documents``
preset with ``orientation.enabled=true`` (the classifier of
:class:`pipeline.steps.DetectOrientation`). A row per angle: pages whose ``Page.rotation``
is the angle, and seconds per page (the whole pipeline, so the cost of orientation is the
difference to the 0 row, plus a second reading of the pages found upside down). With
``--off`` the same pages are also read with orientation off, for the cost of the step.

    .venv/bin/python bench/bench_orientation.py
    .venv/bin/python bench/bench_orientation.py --notebooks 6 --json bench/out/orientation.json

``--pages NAME=DIR`` adds real pages never used to set the step's thresholds (e.g. the test
parts of the handwriting sets prepared by ``pipeline data prepare``; the first ``--max`` of
each folder's images, sorted), so the accuracy is a held-out one:

    .venv/bin/python bench/bench_orientation.py --notebooks 0 --printed-off \
        --pages hooker=data/real/en_letters_hooker/test/images --max 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from pipeline.images import load_image
from pipeline.ocr import OcrPipeline
from pipeline.steps import ROTATIONS

ROOT = Path(__file__).resolve().parents[1]
PRINTED = ROOT.parent / "shared" / "data" / "docs_printed_pages"


def printed_pages(folder: Path = PRINTED) -> list[Path]:
    """The pages listed in the set's ``manifest.json``."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [folder / name for name in manifest["images"]]


def notebook_pages(folder: Path, n: int, seed: int) -> list[Path]:
    """``n`` synthetic notebook pages rendered into ``folder`` by ``pipeline synth``."""
    if n <= 0:
        return []
    subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", "synth",
                    "notebooks", "--out",
                    str(folder), "--n", str(n), "--seed", str(seed)], check=True,
                   capture_output=True)
    return sorted((folder / "images").glob("*.jpg"))


def turned(image: np.ndarray, rotation: int) -> np.ndarray:
    """``image`` turned ``rotation`` degrees clockwise."""
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90)))


def measure(ocr: OcrPipeline, pages: dict[str, list[Path]]) -> dict[str, dict[int, dict]]:
    """Per kind of page and angle: pages found at that angle, found at each other, seconds."""
    out: dict[str, dict[int, dict]] = {}
    for kind, paths in pages.items():
        rows: dict[int, dict] = {}
        for rotation in ROTATIONS:
            found: dict[int, int] = defaultdict(int)
            seconds = 0.0
            for path in paths:
                image = turned(load_image(path), rotation)
                start = time.perf_counter()
                [page] = ocr.run([image])
                seconds += time.perf_counter() - start
                found[page.rotation] += 1
            rows[rotation] = {"pages": len(paths), "right": found[rotation],
                              "found": dict(sorted(found.items())),
                              "seconds_per_page": seconds / max(len(paths), 1)}
        out[kind] = rows
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=int, default=4, help="Synthetic notebook pages.")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--off", action="store_true",
                        help="Also time the upright pages with orientation off.")
    parser.add_argument("--json", type=Path, help="Also write the numbers here.")
    parser.add_argument("--pages", action="append", default=[], metavar="NAME=DIR",
                        help="More pages: the images of DIR (sorted), as the row NAME.")
    parser.add_argument("--max", type=int, default=10, help="--pages: images per folder.")
    parser.add_argument("--printed-off", action="store_true",
                        help="Leave out the printed dev pages.")
    args = parser.parse_args()

    ocr = OcrPipeline.from_preset("documents", overrides=["orientation.enabled=true"])
    with tempfile.TemporaryDirectory() as tmp:
        pages = {} if args.printed_off else {"printed": printed_pages()}
        if args.notebooks > 0:
            pages["notebook"] = notebook_pages(Path(tmp) / "nb", args.notebooks, args.seed)
        for spec in args.pages:
            name, sep, folder = spec.partition("=")
            if not sep or not Path(folder).is_dir():
                parser.error(f"--pages {spec!r}: expected NAME=DIR with an existing DIR")
            pages[name] = sorted(p for p in Path(folder).iterdir()
                                 if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".tif",
                                                         ".tiff"})[: args.max]
        results = measure(ocr, pages)
        if args.off:
            plain = OcrPipeline.from_preset("documents", overrides=["orientation.enabled=false"])
            for kind, paths in pages.items():
                start = time.perf_counter()
                plain.run(paths)
                results[kind]["off"] = {"seconds_per_page":
                                        (time.perf_counter() - start) / max(len(paths), 1)}
    print(f"{'pages':10} {'turned':>6} {'right':>7} {'accuracy':>8} {'s/page':>7}  found")
    for kind, rows in results.items():
        for rotation, row in rows.items():
            if rotation == "off":
                print(f"{kind:10} {'(off)':>6} {'':>7} {'':>8} "
                      f"{row['seconds_per_page']:7.2f}")
                continue
            acc = row["right"] / max(row["pages"], 1)
            print(f"{kind:10} {rotation:>6} {row['right']:>3}/{row['pages']:<3} {acc:8.2f} "
                  f"{row['seconds_per_page']:7.2f}  {row['found']}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()

"""End-to-end pipeline speed: seconds per image per preset, crops/s in ``--mode recognize``.

Runs ``OcrPipeline`` exactly as ``pipeline run`` does (loading files from disk, detection,
crops, batched recognition, reading order) on a folder of pages, for each preset, and in
recognize mode on a folder of plate crops. Without folders it renders its own: pages of
printed words and one- and two-row plate crops (DejaVu Sans). Model start-up is timed
separately from the per-image time. Untrained models (no weights yet) detect and read
nonsense, which changes the amount of work: the table says which models ran.

    .venv/bin/python bench/bench_pipeline.py --out bench/out/pipeline.json
    .venv/bin/python bench/bench_pipeline.py --pages data/pages --crops data/plate_crops
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from wordfreq import top_n_list

from core.offline import local_font
from pipeline.images import find_images
from pipeline.ocr import OcrPipeline
from pipeline.presets import load_pipeline_config

WORDS = [w for lang in ("en", "ru") for w in top_n_list(lang, 300) if w.isalpha()]
PLATE_CHARS = "ABCEHKMOPTXY0123456789"


def render_pages(folder: Path, n: int, seed: int = 0) -> None:
    """``n`` A5-ish pages (1000x1400) of printed lines, some in two columns."""
    rng = random.Random(seed)
    font = ImageFont.truetype(str(local_font()), 28)
    for i in range(n):
        img = Image.new("RGB", (1000, 1400), "white")
        draw = ImageDraw.Draw(img)
        columns = [(60, 940)] if i % 2 == 0 else [(60, 470), (530, 940)]
        for x0, x1 in columns:
            for y in range(80, 1320, 48):
                x = x0
                while True:
                    word = rng.choice(WORDS)
                    w = draw.textlength(word, font=font)
                    if x + w > x1:
                        break
                    draw.text((x, y), word, fill="black", font=font)
                    x += w + 14
        img.save(folder / f"page_{i:03d}.jpg", quality=90)


def render_plates(folder: Path, n: int, seed: int = 0) -> None:
    """``n`` plate crops; every third one has two rows."""
    rng = random.Random(seed)
    font = ImageFont.truetype(str(local_font()), 30)
    for i in range(n):
        text = "".join(rng.choice(PLATE_CHARS) for _ in range(rng.randint(6, 9)))
        if i % 3 == 2:
            img = Image.new("RGB", (120, 90), "white")
            draw = ImageDraw.Draw(img)
            draw.text((8, 6), text[:4], fill="black", font=font)
            draw.text((8, 48), text[4:], fill="black", font=font)
        else:
            img = Image.new("RGB", (26 * len(text), 48), "white")
            ImageDraw.Draw(img).text((8, 6), text, fill="black", font=font)
        img.save(folder / f"plate_{i:04d}.png")


def bench(preset: str, mode: str, images: list[Path], device: str, overrides: list[str],
          batch_size: int | None) -> dict:
    """Time start-up and the run over ``images`` (one warm-up image first)."""
    if batch_size is not None:
        overrides = [*overrides, f"batch_size={batch_size}"]
    cfg = load_pipeline_config(preset, None, overrides)
    start = time.perf_counter()
    ocr = OcrPipeline.from_config(cfg, device=device, mode=mode)  # type: ignore[arg-type]
    startup = time.perf_counter() - start
    ocr.run(images[:1])  # warm-up: lazy initialisation, allocator
    start = time.perf_counter()
    pages = ocr.run(images)
    elapsed = time.perf_counter() - start
    words = sum(len(p.words) for p in pages)
    return {"preset": preset, "mode": mode, "images": len(images), "words": words,
            "startup_s": round(startup, 3), "total_s": round(elapsed, 3),
            "s_per_image": round(elapsed / len(images), 4),
            "crops_per_s": round(words / elapsed, 2) if elapsed > 0 else None,
            "failed": sum(1 for p in pages if p.error), "models": ocr.models}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, help="folder of page / scene images")
    parser.add_argument("--crops", type=Path, help="folder of plate crops (recognize mode)")
    parser.add_argument("--presets", nargs="+", default=["documents", "plates"])
    parser.add_argument("--n-pages", type=int, default=4, help="pages to render without --pages")
    parser.add_argument("--n-crops", type=int, default=256,
                        help="plate crops to render without --crops")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="config override for every preset, e.g. detector.imgsz=960")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    args = parser.parse_args()

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        pages_dir, crops_dir = args.pages, args.crops
        if pages_dir is None:
            pages_dir = Path(tmp) / "pages"
            pages_dir.mkdir()
            render_pages(pages_dir, args.n_pages)
        if crops_dir is None:
            crops_dir = Path(tmp) / "crops"
            crops_dir.mkdir()
            render_plates(crops_dir, args.n_crops)
        pages, _ = find_images([pages_dir])
        crops, _ = find_images([crops_dir])
        rows = [bench(p, "ocr", pages, args.device, args.overrides, args.batch_size)
                for p in args.presets if pages]
        rows.append(bench("plates", "recognize", crops, args.device, args.overrides,
                          args.batch_size))

    print(f"{'preset':<10} {'mode':<10} {'images':>6} {'words':>6} {'startup s':>9} "
          f"{'s/image':>8} {'crops/s':>8}  models")
    for r in rows:
        models = "; ".join(f"{k}: {v}" for k, v in r["models"].items())
        print(f"{r['preset']:<10} {r['mode']:<10} {r['images']:>6} {r['words']:>6} "
              f"{r['startup_s']:>9.2f} {r['s_per_image']:>8.3f} {r['crops_per_s']:>8.1f}  "
              f"{models}")
    if args.out:
        import torch

        args.out.parent.mkdir(parents=True, exist_ok=True)
        meta = {"machine": platform.processor() or platform.machine(),
                "torch_threads": torch.get_num_threads(),
                "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
        args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1,
                                       ensure_ascii=False))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

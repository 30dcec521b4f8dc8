"""Seconds per image of each detector backend at its default config size.

Weights: the configs' weights when present, else untrained (random) models - fine for
speed, except that the post-processing cost depends on how many boxes pass the threshold,
which an untrained model does not reproduce; the table says which was used.

    .venv/bin/python bench/bench_detector.py --images 4 --out bench/detector_speed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from detection.config import DetectorTrainConfig
from detection.factory import build_detector
from pipeline.config import load_config
from pipeline.paths import CONFIGS_DIR

CONFIGS = ("documents_yolo", "plates_yolo", "maskrcnn_convnext", "nto_yolov5l")


def synthetic_page(width: int, height: int, seed: int) -> np.ndarray:
    """A white page with rows of dark word-like rectangles."""
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(im)
    for y in range(60, height - 60, 45):
        x = 60
        while x < width - 160:
            w = int(rng.integers(40, 150))
            draw.rectangle([x, y, x + w, y + 22], fill=(30, 30, 60))
            x += w + int(rng.integers(15, 40))
    return np.asarray(im)


def bench(name: str, images: list[np.ndarray], device: str) -> dict:
    """Time one config's detector over ``images`` (after one warm-up image)."""
    model_cfg = load_config(CONFIGS_DIR / "detection" / f"{name}.yaml", DetectorTrainConfig).model
    det = build_detector(model_cfg, device)
    det.predict(images[:1])
    start = time.perf_counter()
    regions = det.predict(images)
    elapsed = time.perf_counter() - start
    return {"config": name, "backend": model_cfg.backend, "model": model_cfg.model,
            "imgsz": model_cfg.imgsz, "weights": det.description,
            "seconds_per_image": elapsed / len(images),
            "regions_per_image": float(np.mean([len(r) for r in regions]))}


def main() -> None:
    """Run the benchmark, print a table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4, help="Timed images per backend.")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS[:3]), choices=CONFIGS)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default).")
    parser.add_argument("--size", default="1240x1754", help="Page WxH (A4 at 150 dpi).")
    parser.add_argument("--out", type=Path, default=Path("bench/detector_speed.json"))
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.split("x"))
    images = [synthetic_page(width, height, i) for i in range(args.images)]
    rows = [bench(name, images, args.device) for name in args.configs]
    print(f"{'config':20} {'model':16} {'imgsz':>5} {'s/img':>7} {'regions':>7}  weights")
    for r in rows:
        print(f"{r['config']:20} {r['model']:16} {r['imgsz']:5d} "
              f"{r['seconds_per_image']:7.3f} {r['regions_per_image']:7.1f}  {r['weights']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": {"cpu": platform.processor() or platform.machine(),
                    "threads": torch.get_num_threads(), "device": args.device},
        "page_size": [width, height], "images": args.images, "results": rows}, indent=2))


if __name__ == "__main__":
    main()

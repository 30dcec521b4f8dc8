"""Seconds per image of each detector backend at its default config size.

``--presets``: the shipped presets' detectors (``configs/pipeline/<name>.yaml``: their
weights, sizes and thresholds, as ``pipeline run`` uses them). ``--configs``: training
configs' models (``configs/detection/``), with the weights those name when present, else
untrained (random) models - fine for speed, except that the post-processing cost depends on
how many boxes pass the threshold, which an untrained model does not reproduce; the table
says which was used.

    .venv/bin/python bench/bench_detector.py --presets documents plates --out bench/out/d.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.config import load_config
from core.paths import CONFIGS_DIR
from detection.config import DetectorTrainConfig
from detection.factory import build_detector
from pipeline.presets import load_pipeline_config

CONFIGS = ("documents_yolo_stage7", "plates_yolo", "maskrcnn_convnext", "nto_yolov5l")


def synthetic_page(width: int, height: int, seed: int, style: str = "scan") -> np.ndarray:
    """A white page with rows of dark word-like rectangles.

    ``style`` ``scan``: flat white and one ink colour (the documents preset sends such pages
    to its ink detector, ``clean_scans: ink``); ``photo``: uneven light and sensor noise
    (the model's path).
    """
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(im)
    for y in range(60, height - 60, 45):
        x = 60
        while x < width - 160:
            w = int(rng.integers(40, 150))
            draw.rectangle([x, y, x + w, y + 22], fill=(30, 30, 60))
            x += w + int(rng.integers(15, 40))
    page = np.asarray(im)
    if style == "photo":
        light = np.linspace(0.95, 0.7, width)[None, :, None] * np.linspace(1.0, 0.85, height)[
            :, None, None]
        noisy = page * light + rng.normal(0, 8, page.shape)
        page = np.clip(noisy, 0, 255).astype(np.uint8)
    return page


def bench(name: str, images: list[np.ndarray], device: str, style: str) -> dict:
    """Time one detector over ``images`` (after one warm-up image).

    ``name``: a training config in ``configs/detection/``, or ``preset:<name>`` for a shipped
    preset's detector.
    """
    if name.startswith("preset:"):
        model_cfg = load_pipeline_config(name.removeprefix("preset:")).detector
    else:
        model_cfg = load_config(CONFIGS_DIR / "detection" / f"{name}.yaml",
                                DetectorTrainConfig).model
    det = build_detector(model_cfg, device)
    det.predict(images[:1])
    start = time.perf_counter()
    regions = det.predict(images)
    elapsed = time.perf_counter() - start
    return {"config": name, "style": style, "backend": model_cfg.backend, "model": model_cfg.model,
            "imgsz": model_cfg.imgsz, "weights": det.description,
            "seconds_per_image": elapsed / len(images),
            "regions_per_image": float(np.mean([len(r) for r in regions]))}


def main() -> None:
    """Run the benchmark, print a table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4, help="Timed images per backend.")
    parser.add_argument("--configs", nargs="*", default=[], choices=CONFIGS,
                        help="Training configs' detectors.")
    parser.add_argument("--presets", nargs="*", default=["documents", "plates"],
                        help="Shipped presets' detectors (default: documents plates).")
    parser.add_argument("--styles", nargs="+", default=["scan", "photo"],
                        choices=["scan", "photo"], help="Synthetic page kinds to time.")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default).")
    parser.add_argument("--size", default="1240x1754", help="Page WxH (A4 at 150 dpi).")
    parser.add_argument("--out", type=Path, default=Path("bench/detector_speed.json"))
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.split("x"))
    names = [f"preset:{p}" for p in args.presets] + list(args.configs)
    if not names:
        parser.error("nothing to time: give --presets and/or --configs")
    rows = []
    for style in args.styles:
        images = [synthetic_page(width, height, i, style) for i in range(args.images)]
        rows += [bench(name, images, args.device, style) for name in names]
    print(f"{'config':20} {'page':5} {'model':16} {'imgsz':>5} {'s/img':>7} {'regions':>7}  "
          "weights")
    for r in rows:
        print(f"{r['config']:20} {r['style']:5} {r['model']:16} {r['imgsz']:5d} "
              f"{r['seconds_per_image']:7.3f} {r['regions_per_image']:7.1f}  {r['weights']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": {"cpu": platform.processor() or platform.machine(),
                    "threads": torch.get_num_threads(), "device": args.device},
        "page_size": [width, height], "images": args.images, "results": rows}, indent=2))


if __name__ == "__main__":
    main()

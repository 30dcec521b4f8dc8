"""Light writing on a dark ground: is it found (``pipeline.steps.light_on_dark``), and read?

Every image of each set is judged as it is and inverted (``255 - image``, white writing on
black); an upright page flagged is a false inversion, an inverted page not flagged a miss.
Sets: synthetic notebooks, page photos and receipts (``data/synth/<kind>_<part>``), the
page images of the real handwriting sets (``data/real/<name>/<part>/images``) and the printed
pages of ``../shared/data``. The threshold ``min_ratio`` is chosen on ``--part tune``.

``--read N`` also reads the first N pages of the synthetic notebooks and page photos of the
part with the ``documents`` preset, inverted, with the step off and on, and scores each
reading against the reading of the upright page (CER: what inverting costs, not accuracy).

    .venv/bin/python bench/bench_polarity.py --part tune
    .venv/bin/python bench/bench_polarity.py --part test --read 4
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realdata import load_set  # noqa: E402

from pipeline.presets import PolarityConfig  # noqa: E402
from pipeline.steps import light_on_dark  # noqa: E402
from recognition.metrics import score_texts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SYNTH = ("notebooks", "page_photos", "receipts")
REAL_PAGES = ("en_letters_hooker", "fr_wills_poilus", "fr_manuscripts_19c_cremma")
SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")


def image_sets(part: str, limit: int) -> dict[str, list[Path]]:
    sets: dict[str, list[Path]] = {}
    for kind in SYNTH:
        folder = ROOT / "data" / "synth" / f"{kind}_{part}" / "images"
        sets[f"synthetic {kind}"] = sorted(folder.glob("*.jpg"))[:limit]
    for name in REAL_PAGES:
        folder = ROOT / "data" / "real" / name / part / "images"
        sets[name] = sorted(p for p in folder.glob("*") if p.suffix.lower() in SUFFIXES)[:limit]
    sets["printed pages (shared)"] = [Path(s.path) for s in load_set("docs_printed_pages",
                                                                     part)][:limit]
    return {k: v for k, v in sets.items() if v}


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def judge(sets: dict[str, list[Path]], config: PolarityConfig) -> dict[str, dict]:
    rows = {}
    print(f"{'set':28s} {'n':>4s} {'upright flagged':>16s} {'inverted found':>15s} "
          f"{'ms/image':>9s}")
    for name, files in sets.items():
        up = inv = 0
        t0 = time.perf_counter()
        for path in files:
            img = rgb(path)
            up += light_on_dark(img, config)
            inv += light_on_dark(255 - img, config)
        ms = (time.perf_counter() - t0) * 1000 / (2 * len(files))
        rows[name] = {"n": len(files), "upright_flagged": up, "inverted_found": inv,
                      "ms_per_image": round(ms, 2)}
        print(f"{name:28s} {len(files):4d} {up:16d} {inv:15d} {ms:9.1f}")
    return rows


def read_inverted(part: str, n: int) -> dict[str, float]:
    from pipeline.ocr import OcrPipeline

    pages = [p for kind in ("notebooks", "page_photos")
             for p in sorted((ROOT / "data" / "synth" / f"{kind}_{part}" / "images")
                             .glob("*.jpg"))[:n]]
    off = OcrPipeline.from_preset("documents", "cpu", ["polarity.enabled=false"])
    on = OcrPipeline.from_preset("documents", "cpu", ["polarity.enabled=true"])
    upright = [p.text for p in off.run([rgb(p) for p in pages])]
    out = {}
    for name, pipe in (("off", off), ("on", on)):
        texts = [p.text for p in pipe.run([255 - rgb(p) for p in pages])]
        out[name] = round(score_texts(texts, upright).cer, 4)
        print(f"inverted pages read with the step {name}: CER against the upright reading "
              f"{out[name]:.4f} ({len(pages)} pages)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("tune", "test"), default="tune")
    ap.add_argument("--limit", type=int, default=40, help="At most N images per set.")
    ap.add_argument("--min-ratio", type=float, default=None,
                    help="Override the preset's polarity.min_ratio.")
    ap.add_argument("--read", type=int, default=0, metavar="N")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    config = PolarityConfig(enabled=True)
    if args.min_ratio is not None:
        config = config.model_copy(update={"min_ratio": args.min_ratio})
    report = {"part": args.part, "config": config.model_dump(),
              "sets": judge(image_sets(args.part, args.limit), config)}
    if args.read:
        report["read"] = read_inverted(args.part, args.read)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

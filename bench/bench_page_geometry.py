"""Page finding in photos (issue 25): corner error and IoU of the page quadrilateral, false
quads on scans and crops, the cost per 12-megapixel photo, and what rectifying does to the
``documents`` preset's CER next to Tesseract and RapidOCR.

Photos: synthetic phone photos of printed pages (``pipeline synth page_photos``), a tune
part (seed 101) where every setting of :class:`pipeline.page_geometry.PageGeometryConfig` is
chosen (``--grid``) and a test part (seed 202) only reported. Made in ``--data`` when
missing. Pages that must give no quad: synthetic flat scans (1-bit pages of the
``documents`` renderer), each photo's own page cut out and warped upright by its true
corners (a crop that already is the page), and the real scans of
``../shared/data/docs_printed_pages`` (never looked at while tuning).

    .venv/bin/python bench/bench_page_geometry.py --part tune --grid
    .venv/bin/python bench/bench_page_geometry.py --part test --e2e 20 --json bench/out/pg.json

Corner error: mean distance of the four corners to the true ones (the quad's start corner
matched to the truth's by the best cyclic shift), in pixels and in % of the true page's
diagonal. A page counts as found when its quad is found at all and as right when the corner
error is under 2 % of the diagonal. CER: Levenshtein distance of the page's text to the
truth (the page's lines in reading order), whitespace collapsed, over the truth's length.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from core.geometry import polygon_iou, to_shapely
from pipeline.images import load_image
from pipeline.page_geometry import PageWarp, find_page
from pipeline.presets import PageGeometryConfig
from synth.kinds import renderer_factory
from synth.runner import generate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # bench/ is not a package: peers.py beside this file
PRINTED = ROOT.parent / "shared" / "data" / "docs_printed_pages"
SEEDS = {"tune": 101, "test": 202}
SCAN_SEEDS = {"tune": 303, "test": 404}
RIGHT = 0.02  # corner error under 2 % of the diagonal


def synth(kind: str, folder: Path, n: int, seed: int, **options) -> Path:
    """Render ``n`` samples of ``kind`` into ``folder`` unless its labels are there."""
    if not (folder / "annotations.json").is_file():
        generate(renderer_factory(kind, **options), folder, n, seed=seed, workers=2,
                 progress=False)
    return folder


def load_photos(folder: Path) -> list[dict]:
    """Each photo's path, true page quad and text (its lines joined in reading order)."""
    data = json.loads((folder / "annotations.json").read_text(encoding="utf-8"))
    cats = {c["id"]: c["name"] for c in data["categories"]}
    out = {img["id"]: {"path": folder / "images" / img["file_name"], "quad": None,
                       "lines": []} for img in data["images"]}
    for a in data["annotations"]:
        entry = out[a["image_id"]]
        points = np.asarray(a["segmentation"][0], np.float64).reshape(-1, 2)
        if cats[a["category_id"]] == "page":
            entry["quad"] = points
        elif cats[a["category_id"]] == "line":
            entry["lines"].append(a["attributes"]["translation"])
    photos = [dict(v, text=" ".join(v.pop("lines"))) for v in out.values()]
    return [p for p in photos if p["quad"] is not None]


def corner_error(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean corner distance in pixels, over the best cyclic match of the corners."""
    return min(float(np.linalg.norm(np.roll(found, k, axis=0) - truth, axis=1).mean())
               for k in range(4))


def diagonal(quad: np.ndarray) -> float:
    return float(max(np.linalg.norm(quad[2] - quad[0]), np.linalg.norm(quad[3] - quad[1])))


def page_crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The page warped upright by its true corners: an image that already is the page."""
    return PageWarp.from_quad(quad).rectify(image)


def score_photos(photos: list[dict], images: list[np.ndarray], settings: PageGeometryConfig
                 ) -> dict:
    errors, rel, ious, missed = [], [], [], 0
    for p, img in zip(photos, images, strict=True):
        warp = find_page(img, settings)
        if warp is None:
            missed += 1
            continue
        e = corner_error(warp.quad, p["quad"])
        errors.append(e)
        rel.append(e / diagonal(p["quad"]))
        ious.append(polygon_iou(to_shapely(warp.quad), to_shapely(p["quad"])))
    n = len(photos)
    return {"photos": n, "found": (n - missed) / n,
            "right": sum(r < RIGHT for r in rel) / n,
            "corner_px_median": float(np.median(errors)) if errors else None,
            "corner_px_mean": float(np.mean(errors)) if errors else None,
            "corner_pct_diag_median": 100 * float(np.median(rel)) if rel else None,
            "iou_mean": float(np.mean(ious)) if ious else None,
            "iou_mean_all": float(np.sum(ious)) / n}


def false_quads(images: list[np.ndarray], settings: PageGeometryConfig) -> int:
    return sum(find_page(img, settings) is not None for img in images)


def seconds_per_12mp(images: list[np.ndarray], settings: PageGeometryConfig) -> float:
    """find_page on photos scaled to 4000x3000 (4:3), best of two runs each."""
    times = []
    for img in images:
        big = cv2.resize(img, (4000, 3000) if img.shape[1] > img.shape[0] else (3000, 4000))
        best = np.inf
        for _ in range(2):
            t0 = time.perf_counter()
            find_page(big, settings)
            best = min(best, time.perf_counter() - t0)
        times.append(best)
    return float(np.mean(times))


def grid(photos, images, negatives) -> list[dict]:
    """Every combination of the finder's thresholds on one part, best first (right pages
    less false quads)."""
    rows = []
    base = PageGeometryConfig()
    for side, fit, contrast, support in itertools.product(
            (384, 512), (0.85, 0.9), (8.0, 16.0), (0.0, 0.3)):
        s = base.model_copy(update={"side": side, "min_fit": fit,
                                     "min_contrast": contrast, "min_support": support})
        row = {**s.model_dump(), **score_photos(photos, images, s),
               "false_quads": false_quads(negatives, s)}
        row["objective"] = row["right"] - row["false_quads"] / max(len(negatives), 1)
        rows.append(row)
        print(json.dumps({k: row[k] for k in ("side", "min_fit", "min_contrast", "min_support",
                                              "found", "right", "false_quads",
                                              "corner_px_median")}), flush=True)
    return sorted(rows, key=lambda r: -r["objective"])


def cer(text: str, truth: str) -> float:
    a, b = " ".join(text.split()), " ".join(truth.split())
    return Levenshtein.distance(a, b) / max(len(b), 1)


def end_to_end(photos: list[dict], n: int) -> dict:
    """Page CER of the documents preset without and with the page step, and of the peers,
    on the first ``n`` photos."""
    from peers import RapidOcr, Tesseract  # bench/ is on sys.path (top of the file)

    from pipeline.ocr import OcrPipeline

    subset = photos[:n]
    rows: dict[str, dict] = {}
    for name, overrides in (("documents", ["page_geometry.enabled=false"]),
                            ("documents + page_geometry", ["page_geometry.enabled=true"])):
        ocr = OcrPipeline.from_preset("documents", overrides=overrides)
        cers, t0 = [], time.perf_counter()
        for p in subset:
            page = ocr.run([p["path"]])[0]
            cers.append(cer(page.text, p["text"]))
        rows[name] = {"cer": float(np.mean(cers)), "s_per_image":
                      (time.perf_counter() - t0) / len(subset)}
        print(name, rows[name], flush=True)
    for peer in (Tesseract(), RapidOcr()):
        cers, t0 = [], time.perf_counter()
        for p in subset:
            cers.append(cer(peer.read(p["path"], "page"), p["text"]))
        rows[peer.name] = {"cer": float(np.mean(cers)),
                           "s_per_image": (time.perf_counter() - t0) / len(subset),
                           "version": peer.version()}
        print(peer.name, rows[peer.name], flush=True)
    return {"photos": len(subset), "engines": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("tune", "test"), default="test")
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "out" / "page_photos")
    ap.add_argument("--n", type=int, default=60, help="synthetic photos per part")
    ap.add_argument("--scans", type=int, default=20, help="synthetic flat scans per part")
    ap.add_argument("--grid", action="store_true", help="try the threshold grid on --part")
    ap.add_argument("--e2e", type=int, default=0, help="photos read end to end (0: none)")
    ap.add_argument("--json", type=Path, help="write the report here")
    args = ap.parse_args()
    cv2.setNumThreads(2)

    folder = synth("page_photos", args.data / args.part, args.n, SEEDS[args.part])
    scans_dir = synth("documents", args.data / f"scans_{args.part}", args.scans,
                      SCAN_SEEDS[args.part], long_side=2000, bilevel_prob=1.0)
    photos = load_photos(folder)
    images = [load_image(p["path"]) for p in photos]
    crops = [page_crop(img, p["quad"]) for p, img in zip(photos, images, strict=True)]
    scans = [load_image(p) for p in sorted((scans_dir / "images").glob("*.jpg"))]
    negatives = crops + scans
    settings = PageGeometryConfig()
    report: dict = {"part": args.part, "settings": settings.model_dump()}
    if args.grid:
        rows = grid(photos, images, negatives)
        report["grid_best"] = rows[:5]
        print("best:", json.dumps(rows[0]))
    report["photos"] = score_photos(photos, images, settings)
    report["false_quads"] = {"page_crops": [false_quads(crops, settings), len(crops)],
                             "synthetic_scans": [false_quads(scans, settings), len(scans)]}
    if args.part == "test":
        manifest = json.loads((PRINTED / "manifest.json").read_text(encoding="utf-8"))
        real = [load_image(PRINTED / name) for name in manifest["images"]]
        report["false_quads"]["real_scans"] = [false_quads(real, settings), len(real)]
    report["s_per_12mp_photo"] = seconds_per_12mp(images[:5], settings)
    if args.e2e:
        report["end_to_end"] = end_to_end(photos, args.e2e)
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

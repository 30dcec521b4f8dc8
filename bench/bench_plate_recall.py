"""Plate detection recall against plate height, and false plates per image, for the shipped
``plates`` preset at one or more detector input sizes.

Real car photos with plate boxes: the EU dev photos of ``../shared/data`` (``openalpr_eu``,
split by ``bench/realdata.py``) and any COCO folders that ``pipeline data prepare`` wrote
(``DIR/<part>/annotations.json``, e.g. ``data/real/ro_plates_robertlucian``). Choices (the
input size) are made on ``--part tune``; reports use ``--part test`` (``bench/README.md``).

    .venv/bin/python bench/bench_plate_recall.py --part tune --imgsz 320 640 \\
        --coco data/real/ro_plates_robertlucian data/real/car_plates_yoavmai \\
               data/real/open_images_plates_unknowncz \\
        --out bench/out/plate_recall_tune.json [--md bench/plate_recall.md]

A plate is found when a detected region overlaps it at IoU >= 0.5 (greedy, one to one,
highest score first). False plates: detected regions that match no plate, per image.

``--negatives DIR ...``: photos with no plate at all (street signs, shop fronts, posters,
documents), where every detection is a false plate; ``bash bench/plate_negatives.sh DIR``
gathers 41 such images from two public repositories' example and test pictures, and the
printed pages of ``../shared/data`` are added as a second negative set.
``--weights FILE``: measure a candidate detector instead of the shipped one.
``--set KEY=VAL --tag NAME``: further preset overrides (e.g. the detector's
``extra_passes``), named NAME in the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realdata import load_set  # noqa: E402

# Plate heights in pixels of the image as stored: the buckets issue 23 asks for.
HEIGHT_EDGES = (0, 12, 16, 24, 32, 48, 96, float("inf"))


@dataclass(frozen=True)
class Photo:
    path: Path
    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2


def eu_photos(part: str) -> list[Photo]:
    out = []
    for s in load_set("openalpr_eu", part):
        boxes = [(x, y, x + w, y + h) for x, y, w, h in
                 (p["bbox_xywh"] for p in s.meta.get("plates", []))]
        out.append(Photo(s.path, np.asarray(boxes, float).reshape(-1, 4)))
    return out


def coco_photos(folder: Path, part: str) -> list[Photo]:
    ann_path = folder / part / "annotations.json"
    data = json.loads(ann_path.read_text(encoding="utf-8"))
    boxes: dict[int, list] = {}
    for a in data["annotations"]:
        x, y, w, h = a["bbox"]
        boxes.setdefault(a["image_id"], []).append((x, y, x + w, y + h))
    return [Photo(folder / part / "images" / im["file_name"],
                  np.asarray(boxes.get(im["id"], []), float).reshape(-1, 4))
            for im in data["images"]]


def match(gt: np.ndarray, pred: np.ndarray, scores: np.ndarray, iou: float = 0.5
          ) -> np.ndarray:
    """Which ground-truth boxes a prediction matches (greedy, highest score first)."""
    from detection.evaluate import box_iou

    found = np.zeros(len(gt), dtype=bool)
    if len(gt) == 0 or len(pred) == 0:
        return found
    ious = box_iou(pred, gt)
    for p in np.argsort(-scores, kind="stable"):
        cand = np.where(~found, ious[p], -1.0)
        g = int(np.argmax(cand))
        if cand[g] >= iou:
            found[g] = True
    return found


def bucket_name(lo: float, hi: float) -> str:
    return f"{int(lo)}+" if hi == float("inf") else f"{int(lo)}-{int(hi)}"


def negative_photos(folders: list[Path], part: str) -> list[Photo]:
    """The photos without plates of ``part``: even sorted positions tune, odd test (the
    detector's size and confidence are chosen on tune partly by its false plates)."""
    from pipeline.images import find_images

    paths, _ = find_images(folders)
    keep = 0 if part == "tune" else 1
    return [Photo(p, np.zeros((0, 4))) for n, p in enumerate(sorted(paths)) if n % 2 == keep]


def printed_pages(part: str) -> list[Photo]:
    return [Photo(s.path, np.zeros((0, 4))) for s in load_set("docs_printed_pages", part)]


def measure(sets: dict[str, list[Photo]], imgsz: int, weights: Path | None = None,
            confs: tuple[float, ...] = (0.25,), extra: tuple[str, ...] = (),
            tag: str = "") -> list[dict]:
    """One run per confidence in ``confs``: the photos are read once at the lowest and each
    run keeps the detections scoring at least its confidence."""
    from pipeline.ocr import OcrPipeline

    overrides = [f"detector.imgsz={imgsz}", f"detector.conf={min(confs)}"]
    if weights is not None:
        overrides.append(f"detector.weights={weights}")
    overrides.extend(extra)
    ocr = OcrPipeline.from_preset("plates", mode="detect", overrides=overrides)
    outs = [{"imgsz": imgsz, "conf": c, "weights": str(weights or "shipped"), "tag": tag,
             "overrides": list(extra), "sets": {}} for c in confs]
    for name, photos in sets.items():
        start = time.perf_counter()
        pages = ocr.run([p.path for p in photos])
        seconds = time.perf_counter() - start
        for out in outs:
            heights, hits = [], []
            false_plates = 0
            for photo, page in zip(photos, pages, strict=True):
                words = [w for line in page.lines for w in line.words
                         if (w.det_score or 0.0) >= out["conf"]]
                pred = np.asarray([w.bbox for w in words], float).reshape(-1, 4)
                scores = np.asarray([w.det_score or 0.0 for w in words], float)
                found = match(photo.boxes, pred, scores)
                heights.extend((photo.boxes[:, 3] - photo.boxes[:, 1]).tolist())
                hits.extend(found.tolist())
                false_plates += len(pred) - int(found.sum())
            heights_a, hits_a = np.asarray(heights), np.asarray(hits, bool)
            buckets = {}
            for lo, hi in zip(HEIGHT_EDGES[:-1], HEIGHT_EDGES[1:], strict=True):
                sel = (heights_a >= lo) & (heights_a < hi)
                buckets[bucket_name(lo, hi)] = [int(hits_a[sel].sum()), int(sel.sum())]
            out["sets"][name] = {
                "photos": len(photos), "plates": len(hits_a),
                "recall": float(hits_a.mean()) if len(hits_a) else None,
                "false_per_image": false_plates / max(1, len(photos)),
                "s_per_image": seconds / max(1, len(photos)),
                "by_height": buckets}
    return outs


def table(runs: list[dict]) -> str:
    names = [bucket_name(lo, hi) for lo, hi in zip(HEIGHT_EDGES[:-1], HEIGHT_EDGES[1:],
                                                    strict=True)]
    head = ["set", "imgsz", "recall", "false / image", "s / image", *[f"h {n}" for n in names]]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in runs:
        for name, r in run["sets"].items():
            cells = [f"{f}/{n}" if n else "-" for f, n in (r["by_height"][k] for k in names)]
            recall = "-" if r["recall"] is None else f"{r['recall']:.3f}"
            size = str(run["imgsz"]) + ("" if run["conf"] == 0.25 else f" @{run['conf']:g}")
            size += f" {run['tag']}" if run.get("tag") else ""
            rows.append("| " + " | ".join([name, size, recall,
                                           f"{r['false_per_image']:.2f}",
                                           f"{r['s_per_image']:.2f}", *cells]) + " |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="test", choices=["tune", "test"])
    ap.add_argument("--imgsz", type=int, nargs="+", default=[320])
    ap.add_argument("--conf", type=float, nargs="+", default=[0.25],
                    help="detector confidences to measure (one reading at the lowest)")
    ap.add_argument("--coco", type=Path, nargs="*", default=[],
                    help="folders written by `pipeline data prepare` (plate_photos sets)")
    ap.add_argument("--negatives", type=Path, nargs="*", default=[],
                    help="folders of photos with no plate (bench/plate_negatives.sh)")
    ap.add_argument("--weights", type=Path, default=None,
                    help="detector weights to measure instead of the shipped ones")
    ap.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VAL",
                    help="a further plates-preset override for every run, e.g. "
                         "'detector.extra_passes=[{imgsz: 480, fill: 0.5}]'")
    ap.add_argument("--tag", default="", help="a name for the --set runs in the table")
    ap.add_argument("--out", type=Path, default=None, help="also write the numbers as JSON")
    ap.add_argument("--md", type=Path, default=None, help="also write the table as markdown")
    args = ap.parse_args()
    sets = {"openalpr_eu": eu_photos(args.part)}
    for folder in args.coco:
        sets[folder.name] = coco_photos(folder, args.part)
    if args.negatives:
        # photos without plates, split in two like the printed pages
        sets["no_plates_scenes"] = negative_photos(args.negatives, args.part)
        sets["no_plates_printed_pages"] = printed_pages(args.part)
    runs = [run for s in args.imgsz for run in measure(sets, s, args.weights, tuple(args.conf),
                                                       tuple(args.extra), args.tag)]
    text = table(runs)
    print(f"part: {args.part}")
    print(text)
    if args.md is not None:
        sets_line = ", ".join(f"{k} ({len(v)} photos)" for k, v in sets.items())
        args.md.write_text(
            f"# Plate detection recall by plate height ({time.strftime('%Y-%m-%d')}, "
            f"{args.part} parts)\n\nWritten by `bench/bench_plate_recall.py` (its docstring: "
            f"how; `h A-B`: plates A to B pixels high, found / all). Sets: {sets_line}.\n\n"
            f"{text}\n", encoding="utf-8")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"part": args.part, "runs": runs}, indent=1) + "\n",
                            encoding="utf-8")


if __name__ == "__main__":
    main()

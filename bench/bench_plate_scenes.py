"""Plates found and read, per region, on synthetic car scenes: ours and the peers in one run.

The real car photos here carry boxes but no plate texts (except the six EU test photos), so
"found and read exactly" per region (issue 23's target) is measured on synthetic scenes whose
every plate has its text and region: `pipeline synth plate_scenes` (close-ups, one or two
cars) and `pipeline synth street_scenes` (small plates, several cars, night, distractor text).
A plate counts when a run of whole space-separated tokens of one output line equals its text
(spaces dropped, upper case; the US "O is 0" rule applied to both sides): a peer that joins
two cars' plates standing at one height into one line still gets each, and a plate read
inside a longer word does not count. Our plates preset writes one plate per line.

For ours the table also gives ``located``: plates whose box one of our output lines covers
at IoU >= 0.5 (found, read right or not), so a miss splits into not found and misread.

Parts are seeds (bench/README.md): tune --seed 23101 (plate_scenes) and 23111
(street_scenes), test --seed 23102 and 23112, 100 scenes each. ``tilted_scenes`` are
close-ups whose plates turn up to 35 degrees in the image plane, as in CCPD's tilted and
rotated photos (`pipeline synth plate_scenes --max-roll 35`, tune --seed 23121, test 23122).
Synthetic: it shows where the pipeline loses plates by region and step, not how it reads
real photos.

    python bench/bench_plate_scenes.py --part tune [--engines ours,rapidocr]
        [--kinds plate_scenes,street_scenes,tilted_scenes]
        [--set plates:recognizer.one_row_below=0.1]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_accuracy import us_plate_norm as norm  # noqa: E402  (no separators, O as 0)

from core.geometry import bbox_of  # noqa: E402
from detection.evaluate import box_iou  # noqa: E402

SYNTH = ROOT / "data" / "synth"
KINDS = ("plate_scenes", "street_scenes", "tilted_scenes")
SEEDS = {("plate_scenes", "tune"): 23101, ("street_scenes", "tune"): 23111,
         ("plate_scenes", "test"): 23102, ("street_scenes", "test"): 23112,
         ("tilted_scenes", "tune"): 23121, ("tilted_scenes", "test"): 23122}
# How each kind is drawn: `pipeline synth MAKE ... OPTIONS`.
MAKE = {"plate_scenes": ("plate_scenes", ""), "street_scenes": ("street_scenes", ""),
        "tilted_scenes": ("plate_scenes", " --max-roll 35")}


def candidates(lines: list[str]) -> set[str]:
    """Every run of whole tokens of every line, normalised (what a plate may be read as)."""
    out: set[str] = set()
    for line in lines:
        tokens = line.split()
        for i in range(len(tokens)):
            for j in range(i + 1, len(tokens) + 1):
                out.add(norm("".join(tokens[i:j])))
    return out


def scenes(kind: str, part: str) -> list[tuple[Path, list[tuple[str, str, tuple]]]]:
    """``(image, [(text, region, box), ...])`` per scene of one part (plates without text
    skipped; box ``(x0, y0, x1, y1)``)."""
    folder = SYNTH / f"{kind}_bench_{part}"
    ann = folder / "annotations.json"
    if not ann.is_file():
        make, options = MAKE[kind]
        sys.exit(f"{ann} is missing: pipeline synth {make} --out {folder} --n 100 "
                 f"--seed {SEEDS[(kind, part)]} --workers 2{options}")
    data = json.loads(ann.read_text(encoding="utf-8"))
    plates: dict[int, list[tuple[str, str, tuple]]] = collections.defaultdict(list)
    for a in data["annotations"]:
        att = a.get("attributes") or {}
        if att.get("translation"):
            x, y, w, h = a["bbox"]
            plates[a["image_id"]].append((att["translation"], att.get("region", "?"),
                                          (x, y, x + w, y + h)))
    out = []
    for im in data["images"]:
        path = folder / "images" / im["file_name"]
        out.append((path if path.is_file() else folder / im["file_name"], plates[im["id"]]))
    return out


class Ours:
    name = "ours"

    def __init__(self, overrides: list[str]):
        from pipeline.ocr import OcrPipeline

        self.pipe = OcrPipeline.from_preset("plates", overrides=overrides)

    def read(self, path: Path) -> list[str]:
        page = self.pipe.run([path])[0]
        self.boxes = [bbox_of(line.polygon) for line in page.lines]
        return page.text.split("\n")


class Peer:
    def __init__(self, engine):
        self.engine, self.name = engine, engine.name

    def read(self, path: Path) -> list[str]:
        return self.engine.read(path, "scene").split("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("tune", "test"), default="tune")
    parser.add_argument("--engines", default="ours")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"Comma-separated scene kinds ({', '.join(KINDS)}).")
    parser.add_argument("--set", action="append", default=[], metavar="plates:KEY=VALUE")
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    args = parser.parse_args()
    overrides = [s.split(":", 1)[1] for s in args.set if s.startswith("plates:")]
    makers = {"ours": lambda: Ours(overrides)}
    from peers import RapidOcr, Tesseract

    makers["rapidocr"] = lambda: Peer(RapidOcr())
    makers["tesseract"] = lambda: Peer(Tesseract())
    engines = [makers[e]() for e in args.engines.split(",")]
    rows: dict[str, dict[str, dict[str, float]]] = {}
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not kinds or set(kinds) - set(KINDS):
        parser.error(f"--kinds: choose from {', '.join(KINDS)}")
    for kind in kinds:
        data = scenes(kind, args.part)
        for engine in engines:
            hit, total, located = (collections.Counter() for _ in range(3))
            seconds = 0.0
            for path, plates in data:
                t0 = time.perf_counter()
                read = candidates(engine.read(path))
                seconds += time.perf_counter() - t0
                boxes = getattr(engine, "boxes", [])
                ious = box_iou([box for _, _, box in plates], boxes) if boxes else None
                for k, (text, region, _) in enumerate(plates):
                    total[region] += 1
                    hit[region] += norm(text) in read
                    located[region] += ious is not None and bool((ious[k] >= 0.5).any())
            for region in sorted(total):
                row = {"n": total[region], "read": round(hit[region] / total[region], 3)}
                if isinstance(engine, Ours):
                    row["located"] = round(located[region] / total[region], 3)
                rows.setdefault(f"{kind} {region}", {})[engine.name] = row
            n_all = max(sum(total.values()), 1)
            rows.setdefault(f"{kind} all", {})[engine.name] = {
                "n": sum(total.values()), "read": round(sum(hit.values()) / n_all, 3),
                "s_per_image": round(seconds / max(len(data), 1), 3),
                **({"located": round(sum(located.values()) / n_all, 3)}
                   if isinstance(engine, Ours) else {})}
    names = [e.name for e in engines]
    lines = [f"Plates found and read exactly, synthetic scenes, {args.part} part "
             f"(bench/bench_plate_scenes.py)", "",
             "| scenes, region | n | " + " | ".join(names) + " | ours located |",
             "|---|---|" + "---|" * (len(names) + 1)]
    for key, by in rows.items():
        n = next(iter(by.values()))["n"]
        where = by.get("ours", {}).get("located")
        lines.append(f"| {key} | {n} | " + " | ".join(
            f"{by[e]['read']:.3f}" if e in by else "–" for e in names)
            + f" | {'–' if where is None else f'{where:.3f}'} |")
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"plate_scenes_{args.part}.json").write_text(
        json.dumps({"part": args.part, "overrides": overrides, "rows": rows}, indent=2,
                   ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Words found in real scene photos (issue 25): this project against the peers, in one run.

Every engine reads each whole photo of a prepared scene-text set (default
``icdar15_scene_words``: ICDAR 2015 incidental scene text, `pipeline data prepare
icdar15_scene_words`); a labelled word counts as found when the engine's output holds it.
Words are compared upper-cased with everything but letters and digits dropped (``Please,`` =
``PLEASE``), as a multiset per photo: a word labelled twice must be read twice. Unreadable
words (``###``, category ``ignore``) are not counted. Engine-neutral on purpose: the peers
return lines, not word boxes.

- ``found``: found words / labelled words (recall);
- ``precision``: output tokens that match a labelled word / output tokens (a token read from an
  unreadable ``###`` word counts against it: the score is a lower bound);
- ``located`` (ours only): labelled words whose box is at least half covered by one of our
  regions, whatever was read there: what the detector reaches.

    .venv/bin/python bench/bench_scene_words.py --part tune --engines ours     # choose
    .venv/bin/python bench/bench_scene_words.py --part test                     # report
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_accuracy import REAL_DATA, Ours, _cpu_name, _threads, word_norm  # noqa: E402
from peers import EasyOcr, RapidOcr, Tesseract  # noqa: E402

from detection.coco import load_coco  # noqa: E402


def tokens(text: str) -> Counter[str]:
    """The normalised non-empty words of a text, counted."""
    return Counter(t for t in (word_norm(w) for w in text.split()) if t)


def load_scene_part(folder: Path) -> list[tuple[Path, list[tuple[str, tuple[float, ...]]]]]:
    """``(image path, [(word text, (x1, y1, x2, y2)), ...])`` of a prepared COCO part; words
    of category ``word`` only (``ignore`` regions left out)."""
    out = []
    for image in load_coco(folder / "annotations.json"):
        words = [(o.attributes.get("translation", ""),
                  (o.bbox[0], o.bbox[1], o.bbox[0] + o.bbox[2], o.bbox[1] + o.bbox[3]))
                 for o in image.objects if o.label == "word"]
        out.append((folder / "images" / image.file_name, words))
    return out


def covered(box: tuple[float, ...], regions: list[tuple[float, ...]], share: float = 0.5
            ) -> bool:
    """At least ``share`` of ``box``'s area lies inside one of ``regions`` (boxes)."""
    area = max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)
    if area <= 0:
        return False
    for r in regions:
        iw = min(box[2], r[2]) - max(box[0], r[0])
        ih = min(box[3], r[3]) - max(box[1], r[1])
        if iw > 0 and ih > 0 and iw * ih >= share * area:
            return True
    return False


class Tally:
    def __init__(self) -> None:
        self.labelled = self.found = self.output = self.located = 0
        self.images = 0
        self.seconds = 0.0
        self.examples: list[dict] = []

    def add(self, gt: Counter[str], pred: Counter[str], seconds: float,
            located: int | None) -> None:
        hit = sum((gt & pred).values())
        self.images += 1
        self.labelled += sum(gt.values())
        self.found += hit
        self.output += sum(pred.values())
        self.seconds += seconds
        if located is not None:
            self.located += located
        missed = gt - pred
        if missed and len(self.examples) < 3:
            self.examples.append({"missed": sorted(missed)[:8],
                                  "read": sorted(pred)[:8]})

    def export(self, with_located: bool) -> dict:
        out = {"images": self.images, "words": self.labelled,
               "found": round(self.found / max(self.labelled, 1), 4),
               "precision": round(self.found / max(self.output, 1), 4),
               "sec_per_image": round(self.seconds / max(self.images, 1), 3),
               "examples": self.examples}
        if with_located:
            out["located"] = round(self.located / max(self.labelled, 1), 4)
        return out


def run_engine(engine, photos, preset: str) -> dict:
    tally = Tally()
    ours = isinstance(engine, Ours)
    if ours and photos:
        engine._pipeline(preset, "ocr").run([photos[0][0]])  # loading is not per-photo time
    for path, words in photos:
        gt = Counter()
        for text, _ in words:
            gt.update(tokens(text))
        t0 = time.perf_counter()
        located = None
        if ours:
            page = engine._pipeline(preset, "ocr").run([path])[0]
            text = page.text
            boxes = [w.bbox for line in page.lines for w in line.words]
            located = sum(len(tokens(t)) for t, box in words if covered(box, boxes))
        else:
            text = engine.read(path, "scene", "eng")
        tally.add(gt, tokens(text), time.perf_counter() - t0, located)
    return tally.export(ours)


def markdown(report: dict) -> str:
    lines = [f"Scene words, {report['set']} ({report['part']} part), {report['machine']}", "",
             "| engine | photos | words | found | precision | located | s / photo |",
             "|---|---|---|---|---|---|---|"]
    for name, row in report["engines"].items():
        lines.append(f"| {name} | {row['images']} | {row['words']} | {row['found']:.3f} | "
                     f"{row['precision']:.3f} | {row.get('located', '–')} | "
                     f"{row['sec_per_image']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="set_name", default="icdar15_scene_words")
    parser.add_argument("--part", choices=("tune", "test"), default="test")
    parser.add_argument("--engines", default="ours,tesseract,rapidocr,easyocr")
    parser.add_argument("--preset", default="documents", help="Our preset that reads them.")
    parser.add_argument("--limit", type=int, default=0, help="At most N photos.")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="A field of our preset, e.g. detector.imgsz=1280 (repeatable).")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    folder = REAL_DATA / args.set_name / args.part
    if not (folder / "annotations.json").is_file():
        parser.error(f"{folder}/annotations.json not found: run `pipeline data prepare "
                     f"{args.set_name}` first (bench/README.md)")
    photos = load_scene_part(folder)
    if args.limit:
        photos = photos[: args.limit]
    makers = {"ours": lambda: Ours(args.device, {args.preset: args.override}),
              "tesseract": Tesseract, "rapidocr": RapidOcr, "easyocr": EasyOcr}
    report = {"date": time.strftime("%Y-%m-%d"), "set": args.set_name, "part": args.part,
              "preset": args.preset, "overrides": args.override,
              "machine": f"{_cpu_name()}, threads={_threads()}", "engines": {}}
    for name in args.engines.split(","):
        engine = makers[name]()
        row = run_engine(engine, photos, args.preset)
        report["engines"][name] = row
        print(f"{name:10s} found={row['found']:.3f} precision={row['precision']:.3f} "
              f"located={row.get('located', '-')} s/photo={row['sec_per_image']:.3f}",
              flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"scene_words_{args.part}"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (args.out / f"{stem}.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))


if __name__ == "__main__":
    main()

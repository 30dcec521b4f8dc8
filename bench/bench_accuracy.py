"""Accuracy and speed of this project against Tesseract, RapidOCR and EasyOCR, in one run.

Every engine reads the same images from ``../shared/data``: the test parts by default (what
we report), the tune parts with ``--part tune`` (what choices are made on; see
``bench/README.md`` and ``bench/realdata.py``). Writes a JSON file and a markdown table.

    bash bench/setup_peers.sh
    .venv/bin/python bench/bench_accuracy.py --out bench/out               # report: test
    .venv/bin/python bench/bench_accuracy.py --out bench/out --part tune   # choose: tune

Normalisation (the same for every engine): plates compare upper-cased letters and digits
only; pages and lines collapse runs of whitespace to one space. CER = Levenshtein / len(gt),
summed over a set.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import EasyOcr, RapidOcr, Tesseract  # noqa: E402
from realdata import UNIONS, Sample, load_set  # noqa: E402

from pipeline.plate_format import latin_plate  # noqa: E402


def plate_norm(text: str) -> str:
    """Upper case, letters and digits only, and Cyrillic plate letters as their Latin
    look-alikes (a Russian plate is one text in either script, and the peers read no
    Cyrillic)."""
    return "".join(c for c in latin_plate(text).upper() if c.isalnum())


def us_plate_norm(text: str) -> str:
    """US plates print O and 0 alike and their ground truth writes 0 for both (no label of
    the set has an O): an engine that reads the letter is not penalised for it."""
    return plate_norm(text).replace("O", "0")


def word_norm(text: str) -> str:
    """Scene words as word-recognition benchmarks score them: letters and digits, upper case
    (``bench_scene_words.py`` scores each word of a photo with it too)."""
    return "".join(c for c in text.upper() if c.isalnum())


def text_norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def upper_norm(text: str) -> str:
    """``text_norm`` in upper case: for ground truth written in capitals whatever the print
    (SROIE transcribes a receipt's ``Tel :`` as ``TEL :``)."""
    return text_norm(text).upper()


@dataclass
class Task:
    """One benchmark row: a set, how each engine reads it, and how it is scored."""

    name: str
    set_name: str
    kind: str  # page | line | crop | scene
    preset: str
    mode: str
    norm: Callable[[str], str]
    tess_langs: str = "eng+rus"
    contains: bool = False  # scene: the plate must appear somewhere in the output


TASKS = [
    Task("CN plate crops", "cn_plate_crops_lprnet", "crop", "plates", "recognize", plate_norm,
         tess_langs="chi_sim+eng"),
    Task("US plate crops", "openalpr_us_plate_crops", "crop", "plates", "recognize",
         us_plate_norm, tess_langs="eng"),
    Task("EU car photos (plate found)", "openalpr_eu", "scene", "plates", "ocr", plate_norm,
         tess_langs="eng", contains=True),
    Task("printed pages", "docs_printed_pages", "page", "documents", "ocr", text_norm),
    Task("printed lines (EN+RU)", "printed_lines", "line", "documents", "ocr", text_norm),
]

# Real handwriting (issue 24): crops prepared under data/real (not ../shared/data), read whole
# by the documents reader (recognize mode) and by the peers' line readers. Word sets hold
# crops in PART/labels.tsv (`pipeline data prepare NAME`); page sets hold line crops in
# PART_lines/labels.tsv (`pipeline convert crops data/real/NAME/PART --categories line --out
# data/real/NAME/PART_lines`). Tesseract has English only here (no fra traineddata).
REAL_DATA = Path(__file__).resolve().parents[1] / "data" / "real"
HANDWRITING_TASKS = [
    Task("handwritten words (staghado)", "staghado_handwritten", "crop", "documents",
         "recognize", text_norm, tess_langs="eng"),
    Task("handwritten names (tufts)", "tufts_names", "crop", "documents", "recognize",
         text_norm, tess_langs="eng"),
    Task("handwritten EN letter lines", "en_letters_hooker", "line", "documents", "recognize",
         text_norm, tess_langs="eng"),
    Task("handwritten FR will lines", "fr_wills_poilus", "line", "documents", "recognize",
         text_norm, tess_langs="eng"),
    Task("handwritten FR manuscript lines", "fr_manuscripts_19c_cremma", "line", "documents",
         "recognize", text_norm, tess_langs="eng"),
    Task("handwritten RU lines (Peter I)", "ru_peter_lines", "line", "documents", "recognize",
         text_norm, tess_langs="rus"),
]

# Real scene word crops (issue 25), prepared under data/real like the handwriting sets and read
# whole by the `scene` preset's reader: ICDAR 2015 incidental words (small, blurred, tilted) and
# IIIT 5K-word (focused photos of signs, posters and covers).
SCENE_WORD_TASKS = [
    Task("scene word crops (ICDAR 2015)", "icdar15_word_crops", "crop", "scene", "recognize",
         word_norm, tess_langs="eng"),
    Task("scene word crops (IIIT 5K)", "iiit5k_words", "crop", "scene", "recognize", word_norm,
         tess_langs="eng"),
]

# Real plate crops of a region ../shared/data has no crops of (issue 23), prepared under
# data/real like the scene words: Russian one-row plates cut from car photos, each
# character boxed (`pipeline data prepare ru_plate_crops_dstaroff`).
REAL_PLATE_TASKS = [
    Task("RU plate crops", "ru_plate_crops_dstaroff", "crop", "plates", "recognize", plate_norm,
         tess_langs="eng"),
]

# Real car photos with plate text, prepared under data/real (COCO): the plate counts as found
# when its text appears in the output, as for the EU photos. CCPD parking-lot photos
# (`pipeline data prepare cn_plate_photos_ccpd`), one blue plate each.
REAL_PLATE_PHOTO_TASKS = [
    Task("CN car photos (plate found)", "cn_plate_photos_ccpd", "scene", "plates", "ocr",
         plate_norm, tess_langs="chi_sim+eng", contains=True),
]

# Receipts (issue 25): whole photographed receipts, scored on all of a receipt's text in
# reading order (its labelled lines, top to bottom, joined). Synthetic sets are made by `pipeline
# synth receipts` into data/synth/receipts_<part> (tune: --seed 25001, test: --seed 25002, 30
# each; flat scans, `--scan-prob 1`, into receipts_scan_<part>: --seed 25011 / 25012;
# bench/README.md); a real receipts set prepared by `pipeline data prepare` would sit in
# data/real/<name>/<part>/annotations.json and is read the same way.
SYNTH_DATA = Path(__file__).resolve().parents[1] / "data" / "synth"
RECEIPT_TASKS = [
    # read with the `receipts` preset (the documents preset in rows, no columns), as a user
    # would read a receipt; before 2026-12-07 these rows were read with `documents`
    Task("synthetic receipt photos (RU+EN)", "receipts", "page", "receipts", "ocr", text_norm),
    Task("synthetic receipt scans (RU+EN)", "receipts_scan", "page", "receipts", "ocr",
         text_norm),
    # real: scanned Malaysian shop receipts, ICDAR 2019 SROIE (`pipeline data prepare
    # sroie_receipts`), lines in the order the ground truth lists them (top to bottom),
    # compared in upper case: the ground truth is in capitals, the print often is not
    Task("receipts (SROIE, real)", "sroie_receipts", "page", "receipts", "ocr", upper_norm),
]

# Plates of a region no real set here shows (issue 23): synthetic crops made by `pipeline synth
# plates --layouts br,br_grey` into data/synth/plates_br_<part> (tune: --seed 6401, test: --seed
# 6402, 200 each; bench/README.md). Two-row plates, which no real set here holds: `--layouts
# cn_yellow_two_row` into plates_cn_two_row_<part> (tune --seed 77101, test 77103) and
# `--layouts ru_square` into plates_ru_square_<part> (tune 77102, test 77104), 150 each.
# Synthetic: a check that a region or layout is read at all, not a real-photo result.
SYNTH_PLATE_TASKS = [
    Task("synthetic BR plate crops", "plates_br", "crop", "plates", "recognize", plate_norm,
         tess_langs="eng"),
    Task("synthetic CN two-row plate crops", "plates_cn_two_row", "crop", "plates", "recognize",
         plate_norm, tess_langs="eng"),
    Task("synthetic RU two-row plate crops", "plates_ru_square", "crop", "plates", "recognize",
         plate_norm, tess_langs="eng"),
]


def load_synth_crops(set_name: str, part: str) -> list[Sample] | None:
    """The crops of a synthetic set's part (``val``: tune + test) from
    ``data/synth/<set>_<part>/labels.tsv``, or ``None`` with a printed note when not made."""
    found: list[Sample] = []
    for one in UNIONS.get(part, (part,)):
        folder = SYNTH_DATA / f"{set_name}_{one}"
        if not (folder / "labels.tsv").is_file():
            print(f"note: {set_name}: no {one} part under {SYNTH_DATA}; skipped "
                  "(make it: bench/README.md)", flush=True)
            return None
        found += read_labels(folder)
    return found


def read_labels(folder: Path) -> list[Sample]:
    """The crops ``folder/labels.tsv`` lists (``file<TAB>text[<TAB>region]``)."""
    found = []
    for line in (folder / "labels.tsv").read_text(encoding="utf-8").splitlines():
        name, sep, text = line.partition("\t")
        if sep:
            found.append(Sample(folder / name, text.split("\t")[0], {}))
    return found


def load_coco_pages(folder: Path) -> list[Sample]:
    """The pages of a COCO folder (``annotations.json``, images beside it or in ``images/``),
    each with its ``line`` texts (else its ``word``, else its ``plate`` texts) in annotation
    order, one per row."""
    data = json.loads((folder / "annotations.json").read_text(encoding="utf-8"))
    names = {c["id"]: c["name"] for c in data["categories"]}
    unit = next((u for u in ("line", "word", "plate") if u in names.values()), "word")
    texts: dict[int, list[str]] = {}
    for ann in sorted(data["annotations"], key=lambda a: a["id"]):
        if names.get(ann["category_id"]) == unit:
            text = (ann.get("attributes") or {}).get("translation", "")
            texts.setdefault(ann["image_id"], []).append(text)
    samples = []
    for im in data["images"]:
        path = folder / "images" / im["file_name"]
        if not path.is_file():
            path = folder / im["file_name"]
        samples.append(Sample(path, "\n".join(texts.get(im["id"], [])), {}))
    return samples


def load_coco_part(set_name: str, part: str) -> list[Sample] | None:
    """The photos (receipts, cars) of one synthetic or prepared COCO set's part (``val``: tune
    + test), or ``None`` with a printed note when that part is not generated or prepared."""
    found: list[Sample] = []
    for one in UNIONS.get(part, (part,)):
        for folder in (SYNTH_DATA / f"{set_name}_{one}", REAL_DATA / set_name / one):
            if (folder / "annotations.json").is_file():
                found += load_coco_pages(folder)
                break
        else:
            print(f"note: {set_name}: no {one} part under {SYNTH_DATA} or {REAL_DATA}; skipped "
                  "(make it: bench/README.md)", flush=True)
            return None
    return found


def load_real_crops(set_name: str, part: str) -> list[Sample] | None:
    """The crops of one prepared handwriting or scene-word set's part (``val``: tune +
    test), or ``None`` with a printed note when the set is not prepared."""
    found: list[Sample] = []
    for one in UNIONS.get(part, (part,)):
        for folder in (REAL_DATA / set_name / one, REAL_DATA / set_name / f"{one}_lines"):
            if (folder / "labels.tsv").is_file():
                found += read_labels(folder)
                break
        else:
            print(f"note: {set_name}: no {one} crops under {REAL_DATA / set_name}; skipped "
                  "(prepare it: bench/README.md)", flush=True)
            return None
    return found


@dataclass
class Score:
    n: int = 0
    exact: int = 0
    edits: int = 0
    chars: int = 0
    seconds: float = 0.0
    examples: list = field(default_factory=list)

    def add(self, pred: str, gt: str, seconds: float, contains: bool) -> None:
        self.n += 1
        self.seconds += seconds
        if contains:
            hit = bool(gt) and gt in pred
            self.exact += hit
            self.edits += 0 if hit else len(gt)
        else:
            self.exact += pred == gt
            self.edits += Levenshtein.distance(pred, gt)
        self.chars += len(gt)
        if len(self.examples) < 3 and pred != gt:
            self.examples.append({"gt": gt[:80], "pred": pred[:80]})

    def export(self) -> dict:
        return {
            "n": self.n,
            "exact": round(self.exact / max(self.n, 1), 4),
            "cer": round(self.edits / max(self.chars, 1), 4),
            "sec_per_image": round(self.seconds / max(self.n, 1), 4),
            "examples": self.examples,
        }


class Ours:
    """This project through its Python API, one pipeline per (preset, mode)."""

    name = "ours"

    def __init__(self, device: str = "cpu", overrides: dict[str, list[str]] | None = None):
        self.device = device
        self.overrides = overrides or {}
        self._pipelines: dict = {}

    def version(self) -> str:
        import pipeline

        return f"ocr-pipeline {pipeline.__version__}"

    def _pipeline(self, preset: str, mode: str):
        from pipeline.ocr import OcrPipeline

        key = (preset, mode)
        if key not in self._pipelines:
            self._pipelines[key] = OcrPipeline.from_preset(
                preset, device=self.device, mode=mode, overrides=self.overrides.get(preset, ()))
        return self._pipelines[key]

    def warm_up(self, task: Task, sample: Sample) -> None:
        self._pipeline(task.preset, task.mode).run([sample.path])

    def read(self, task: Task, sample: Sample) -> str:
        page = self._pipeline(task.preset, task.mode).run([sample.path])[0]
        return page.text


def run_task(engine, task: Task, samples: list[Sample]) -> dict:
    score = Score()
    if isinstance(engine, Ours) and samples:
        engine.warm_up(task, samples[0])  # model loading is not per-image time
    for s in samples:
        t0 = time.perf_counter()
        if isinstance(engine, Ours):
            pred = engine.read(task, s)
        else:
            pred = engine.read(s.path, task.kind, task.tess_langs)
        dt = time.perf_counter() - t0
        score.add(task.norm(pred), task.norm(s.text), dt, task.contains)
    return score.export()


PART_TEXT = {
    "test": "the test parts of `../shared/data` (reported only, never used for a choice)",
    "tune": "the tune parts of `../shared/data` (the parts choices are made on: not a report)",
    "val": "the old validation parts of `../shared/data` (tune + test, what every choice "
           "before the split was made on: only to compare with earlier runs)",
}


def markdown(report: dict) -> str:
    engines = report["engines"]
    part = report.get("part", "val")
    lines = [
        f"# Benchmarks ({report['date']}, {part} parts)",
        "",
        f"Machine: {report['machine']}. Engines: "
        + "; ".join(f"{k}: {v}" for k, v in engines.items()) + ".",
        "",
        f"Accuracy on {PART_TEXT[part]}; split: `bench/README.md`; "
        "exact = exact-match rate (for EU photos: plate text found in the output), "
        "CER = character error rate, s/img = seconds per image on this CPU.",
        "",
        "| task | n | " + " | ".join(f"{e} exact | {e} CER | {e} s/img" for e in engines) + " |",
        "|---|---|" + "---|---|---|" * len(engines),
    ]
    for task, rows in report["tasks"].items():
        n = next(iter(rows.values()))["n"] if rows else 0
        cells = []
        for e in engines:
            r = rows.get(e)
            cells += ([f"{r['exact']:.3f}", f"{r['cer']:.3f}", f"{r['sec_per_image']:.3f}"]
                      if r else ["–", "–", "–"])
        lines.append(f"| {task} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--engines", default="ours,tesseract,rapidocr,easyocr")
    parser.add_argument("--part", choices=("test", "tune", "val"), default="test",
                        help="test: report (never choose on it); tune: make choices on it; "
                             "val: tune + test, only to compare with runs before the split. "
                             "Files: accuracy.{json,md} for test, accuracy_<part>.* otherwise.")
    parser.add_argument("--tasks", default="", help="Comma-separated task names (default all).")
    parser.add_argument("--limit", type=int, default=0, help="At most N images per task.")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--set", action="append", default=[], metavar="PRESET:KEY=VALUE",
                        help="Override one of our presets' fields, e.g. "
                             "plates:recognizer.weights=runs/x/best.pt (repeatable; a "
                             "candidate is measured before it is shipped).")
    args = parser.parse_args()
    overrides: dict[str, list[str]] = {}
    for item in args.set:
        preset, sep, kv = item.partition(":")
        if not sep or "=" not in kv:
            parser.error(f"--set {item!r}: expected PRESET:KEY=VALUE")
        overrides.setdefault(preset, []).append(kv)

    makers = {"ours": lambda: Ours(args.device, overrides), "tesseract": Tesseract,
              "rapidocr": RapidOcr, "easyocr": EasyOcr}
    engines = {name: makers[name]() for name in args.engines.split(",")}
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {_cpu_name()}, threads={_threads()}",
        "engines": {name: e.version() for name, e in engines.items()},
        "part": args.part,
        "tasks": {},
    }
    wanted = {t.strip() for t in args.tasks.split(",") if t.strip()}
    # the sets outside ../shared/data, each group with its loader
    loaders = {t.name: load for group, load in ((HANDWRITING_TASKS, load_real_crops),
                                                (SCENE_WORD_TASKS, load_real_crops),
                                                (REAL_PLATE_TASKS, load_real_crops),
                                                (REAL_PLATE_PHOTO_TASKS, load_coco_part),
                                                (RECEIPT_TASKS, load_coco_part),
                                                (SYNTH_PLATE_TASKS, load_synth_crops))
               for t in group}
    for task in (TASKS + HANDWRITING_TASKS + SCENE_WORD_TASKS + REAL_PLATE_TASKS
                 + REAL_PLATE_PHOTO_TASKS + RECEIPT_TASKS + SYNTH_PLATE_TASKS):
        if wanted and task.set_name not in wanted and task.name not in wanted:
            continue
        if task.name in loaders:
            samples = loaders[task.name](task.set_name, args.part)
            if samples is None:
                continue
        else:
            samples = load_set(task.set_name, args.part)
        if args.limit:
            samples = samples[: args.limit]
        report["tasks"][task.name] = {}
        for name, engine in engines.items():
            row = run_task(engine, task, samples)
            report["tasks"][task.name][name] = row
            print(f"{task.name:30s} {name:10s} exact={row['exact']:.3f} cer={row['cer']:.3f} "
                  f"s/img={row['sec_per_image']:.3f}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "accuracy" if args.part == "test" else f"accuracy_{args.part}"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (args.out / f"{stem}.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()

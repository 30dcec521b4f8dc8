"""Plate regions named from the read text's format (`pipeline.plate_format`), per true region.

The `plates` preset names a plate's region when its text fits the format of one region alone
(cn, ru, Brazilian Mercosur) and names none otherwise. This reads plate crops whose region is
known with the preset (recognize mode, as `bench_accuracy.py` does) and counts, per true
region: named right, named wrong (the number that must stay at zero), unnamed, and the same
for the crops read exactly.

Sets: the real CN and US crops of `../shared/data` (`--part`), and synthetic crops of every
layout with their regions (`pipeline synth plates --n 300 --out data/synth/plates_regions_test
--seed 6502`; tune: `_tune`, `--seed 6501`). Nothing here is chosen: the formats are the
regions' published ones, so only the test part is read.

    python bench/bench_plate_regions.py [--part test] [--out bench/out]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_accuracy import plate_norm  # noqa: E402
from realdata import Sample, load_set  # noqa: E402

SYNTH = ROOT / "data" / "synth"
REAL_SETS = {"cn_plate_crops_lprnet": "cn", "openalpr_us_plate_crops": "us"}


def synthetic(part: str) -> list[tuple[Sample, str]]:
    folder = SYNTH / f"plates_regions_{part}"
    labels = folder / "labels.tsv"
    if not labels.is_file():
        seed = 6502 if part == "test" else 6501
        sys.exit(f"{labels} is missing: pipeline synth plates --n 300 --out {folder} "
                 f"--seed {seed}")
    out = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        name, text, region = (line.split("\t") + ["", ""])[:3]
        out.append((Sample(folder / name, text, {}), region or "?"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("test", "tune"), default="test")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()

    from pipeline.ocr import OcrPipeline

    pipe = OcrPipeline.from_preset("plates", device="cpu", mode="recognize")
    sets = {f"real {name}": [(s, region) for s in load_set(name, args.part)]
            for name, region in REAL_SETS.items()}
    sets["synthetic, every layout"] = synthetic(args.part)
    rows = []
    for set_name, samples in sets.items():
        counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for sample, truth in samples:
            page = pipe.run([sample.path])[0]
            named = {w.region for line in page.lines for w in line.words} - {None}
            got = next(iter(named)) if len(named) == 1 else None
            verdict = "unnamed" if got is None else "right" if got == truth else "wrong"
            exact = plate_norm(page.text) == plate_norm(sample.text)
            counts[truth]["n"] += 1
            counts[truth][verdict] += 1
            counts[truth]["exact"] += exact
            counts[truth][f"exact {verdict}"] += exact
        for truth, c in sorted(counts.items()):
            rows.append({"set": set_name, "region": truth, **c})
            print(f"{set_name:28s} {truth:3s} n={c['n']:4d} right={c['right']:4d} "
                  f"wrong={c['wrong']:3d} unnamed={c['unnamed']:4d} | read exactly "
                  f"{c['exact']:4d}: right {c['exact right']:4d} wrong {c['exact wrong']:3d}",
                  flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"plate_regions_{args.part}.json").write_text(
        json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()

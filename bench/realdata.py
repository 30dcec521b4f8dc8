"""The real labelled sets in ``../shared/data``: loading, and our fixed train / validation split.

The split is a pure function of the file name (CRC32), so training configs and benchmarks
agree on it without storing lists: a file is in validation when ``crc32(name) % 10 < 3``.
Sets we never train on (pages, EU scenes, printed lines) are validation in full.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TRAINABLE = {"cn_plate_crops_lprnet", "openalpr_us_plate_crops"}


@dataclass(frozen=True)
class Sample:
    path: Path
    text: str
    meta: dict


def is_validation(set_name: str, file_name: str) -> bool:
    """Our split: sets we train on keep 30 % for validation; the others are all validation."""
    if set_name not in TRAINABLE:
        return True
    return zlib.crc32(Path(file_name).name.encode()) % 10 < 3


def load_set(name: str, part: str = "val", root: Path = SHARED_DATA) -> list[Sample]:
    """Samples of one set; ``part`` is ``train``, ``val`` or ``all``."""
    manifest = json.loads((root / name / "manifest.json").read_text(encoding="utf-8"))
    out = []
    for rel, meta in sorted(manifest["images"].items()):
        val = is_validation(name, rel)
        if part == "all" or (part == "val") == val:
            out.append(Sample(root / name / rel, meta["text"], meta))
    return out


def write_labels_tsv(samples: list[Sample], out: Path, region: str | None = None) -> Path:
    """Write ``labels.tsv`` with absolute image paths (for the recognizer's crops reader)."""
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for s in samples:
        cols = [str(s.path), s.text] + ([region] if region else [])
        lines.append("\t".join(cols))
    path = out / "labels.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    """Write train / val ``labels.tsv`` of the plate crop sets under ``runs/realdata/``."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/realdata"))
    args = parser.parse_args()
    regions = {"cn_plate_crops_lprnet": "cn", "openalpr_us_plate_crops": "us"}
    for name, region in regions.items():
        for part in ("train", "val"):
            samples = load_set(name, part)
            path = write_labels_tsv(samples, args.out / f"{name}_{part}", region)
            print(f"{path}: {len(samples)} samples")


if __name__ == "__main__":
    main()

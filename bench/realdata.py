"""The real labelled sets in ``../shared/data``: loading, and our fixed train / validation split.

The split is a pure function of the file name (CRC32), so training configs and benchmarks
agree on it without storing lists: a file is in validation when ``crc32(name) % 10 < 3``.
The plate sets (CN crops, US crops, EU photos) are split so; the sets we never train on
(printed pages, printed lines) are validation in full.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TRAINABLE = {"cn_plate_crops_lprnet", "openalpr_us_plate_crops", "openalpr_eu"}


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


def plates_to_coco(samples: list[Sample]) -> dict:
    """COCO (NTO layout, category ``plate``) of scene samples with ``plates[].bbox_xywh``.

    ``file_name`` is absolute, so the file can be merged with others and read from anywhere.
    """
    from PIL import Image

    coco: dict = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "plate"}]}
    for image_id, s in enumerate(samples, 1):
        with Image.open(s.path) as im:
            width, height = im.size
        coco["images"].append({"id": image_id, "file_name": str(s.path.resolve()),
                               "width": width, "height": height})
        for plate in s.meta.get("plates", []):
            x, y, w, h = (float(v) for v in plate["bbox_xywh"])
            coco["annotations"].append({
                "id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": 1,
                "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
                "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]],
                "attributes": {"translation": plate["text"], "region": "eu"},
            })
    return coco


def write_plate_crops(samples: list[Sample], out: Path, pad: float = 0.08) -> Path:
    """Cut each scene's plates by ``bbox_xywh`` (a little margin) into a ``labels.tsv`` folder."""
    from PIL import Image

    (out / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for s in samples:
        with Image.open(s.path) as im:
            im = im.convert("RGB")
            for k, plate in enumerate(s.meta.get("plates", [])):
                x, y, w, h = (float(v) for v in plate["bbox_xywh"])
                box = (max(0, x - pad * w), max(0, y - pad * h),
                       min(im.width, x + w + pad * w), min(im.height, y + h + pad * h))
                name = f"images/{s.path.stem}_{k}.png"
                im.crop(tuple(round(v) for v in box)).save(out / name)
                lines.append(f"{name}\t{plate['text']}\teu")
    (out / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "labels.tsv"


def main() -> None:
    """Write train / val ``labels.tsv`` of the plate crop sets under ``runs/realdata/``."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/realdata"))
    args = parser.parse_args()
    for part in ("train", "val"):
        coco = plates_to_coco(load_set("openalpr_eu", part))
        path = args.out / f"openalpr_eu_{part}_coco" / "annotations.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(coco), encoding="utf-8")
        print(f"{path}: {len(coco['images'])} EU car photos")
    for part in ("train", "val"):
        path = write_plate_crops(load_set("openalpr_eu", part), args.out / f"openalpr_eu_{part}")
        print(f"{path}: EU plate crops")
    regions = {"cn_plate_crops_lprnet": "cn", "openalpr_us_plate_crops": "us"}
    for name, region in regions.items():
        for part in ("train", "val"):
            samples = load_set(name, part)
            path = write_labels_tsv(samples, args.out / f"{name}_{part}", region)
            print(f"{path}: {len(samples)} samples")


if __name__ == "__main__":
    main()

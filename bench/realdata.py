"""The real labelled sets in ``../shared/data``: loading, and our fixed train / tune / test split.

The split is a pure function of the file names, so training configs and benchmarks agree on
it without storing lists (the rule and what each part may be used for: ``bench/README.md``):

- train: sets we train on (CN crops, US crops, EU photos) keep a file for training when
  ``crc32(name) % 10 >= 3``, exactly as before the tune / test split (shipped models' data).
- tune / test: the rest of those sets, and all of the sets we never train on (printed pages,
  printed lines), go to test when the first byte of ``sha1(key)`` is odd, else to tune. SHA-1,
  not a second CRC32: CRC32 is linear, so a salted CRC32's parity follows the first one's and
  would not split the validation part in two. ``key`` is the file name, except that files with
  the same ground truth (the two renderings of a tesseract test page, one line printed twice)
  share the key of the first of them, so one text never lands in both parts.

``val`` (tune + test) is the validation part every choice before the split was made on.
"""

from __future__ import annotations

import hashlib
import json
import re
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


PARTS = ("train", "tune", "test")
# what load_set also accepts: the union of several parts
UNIONS = {"val": ("tune", "test"), "all": PARTS}


def is_validation(set_name: str, file_name: str) -> bool:
    """Not train: sets we train on keep 30 % out of training; the others are never trained on."""
    if set_name not in TRAINABLE:
        return True
    return zlib.crc32(Path(file_name).name.encode()) % 10 < 3


def is_test(key: str) -> bool:
    """Tune or test, for a file already outside train: test when sha1(key)'s first byte is odd."""
    return hashlib.sha1(key.encode()).digest()[0] % 2 == 1


def split_parts(set_name: str, images: dict[str, dict]) -> dict[str, str]:
    """The part (``train``, ``tune`` or ``test``) of every file of one set.

    Args:
        set_name: the set's folder name in ``../shared/data``.
        images: the manifest's ``images``: relative path -> entry with ``text``.

    Returns:
        relative path -> part.
    """
    first_of_text: dict[str, str] = {}
    for rel in sorted(images):
        first_of_text.setdefault(_same_text(images[rel]["text"]), Path(rel).name)
    parts = {}
    for rel, meta in images.items():
        if not is_validation(set_name, rel):
            parts[rel] = "train"
        else:
            key = first_of_text[_same_text(meta["text"])]
            parts[rel] = "test" if is_test(key) else "tune"
    return parts


def _same_text(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def load_set(name: str, part: str = "test", root: Path = SHARED_DATA) -> list[Sample]:
    """Samples of one set, sorted by file.

    Args:
        name: the set's folder name in ``root``.
        part: ``train``, ``tune``, ``test``, ``val`` (tune + test: the validation part of the
            runs before the split) or ``all``.
        root: the folder holding the sets.
    """
    wanted = UNIONS.get(part, (part,))
    if not set(wanted) <= set(PARTS):
        raise ValueError(f"part {part!r}: expected one of {PARTS + tuple(UNIONS)}")
    manifest = json.loads((root / name / "manifest.json").read_text(encoding="utf-8"))
    parts = split_parts(name, manifest["images"])
    return [Sample(root / name / rel, meta["text"], meta)
            for rel, meta in sorted(manifest["images"].items()) if parts[rel] in wanted]


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
    """Write the train / tune / test parts of the plate sets under ``runs/realdata/``.

    Each set also gets a ``<set>_val`` folder holding its TUNE part only: the training configs
    choose their checkpoints on ``*_val``, and a choice must never see the test part.
    """
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/realdata"))
    args = parser.parse_args()
    folders = {"train": "train", "tune": "tune", "test": "test", "val": "tune"}
    for folder, part in folders.items():
        coco = plates_to_coco(load_set("openalpr_eu", part))
        path = args.out / f"openalpr_eu_{folder}_coco" / "annotations.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(coco), encoding="utf-8")
        print(f"{path}: {len(coco['images'])} EU car photos ({part})")
    for folder, part in folders.items():
        path = write_plate_crops(load_set("openalpr_eu", part), args.out / f"openalpr_eu_{folder}")
        print(f"{path}: EU plate crops ({part})")
    regions = {"cn_plate_crops_lprnet": "cn", "openalpr_us_plate_crops": "us"}
    for name, region in regions.items():
        for folder, part in folders.items():
            samples = load_set(name, part)
            path = write_labels_tsv(samples, args.out / f"{name}_{folder}", region)
            print(f"{path}: {len(samples)} samples ({part})")


if __name__ == "__main__":
    main()

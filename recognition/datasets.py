"""Dataset readers: every labelled layout the project meets → a list of :class:`TextSample`.

Readers check labels up front (unknown characters, empty text, missing image) and skip bad
samples with a WARNING naming the file; images are decoded lazily, and an unreadable image is
reported the same way when it is first loaded (:func:`load_sample`).

Layouts:
    ``crops``         ``DIR/labels.tsv`` lines ``filename<TAB>text[<TAB>region]``
    ``manifest``      ``DIR/manifest.json`` ``{"images": {"images/x.png": {"text": ...}}}``
    ``plate_course``  ``ROOT/annotations/<phase>/meta_<region>_ref`` + ``ROOT/<region>/<phase>/``
    ``ccpd``          a folder of CCPD-named images (plate cropped by the name's bbox)
    ``coco``          NTO pages: ``DIR/annotations.json`` + ``DIR/images/`` (word polygons)
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from core.ccpd import parse_ccpd_name
from recognition.tokenizer import resolve_charset

log = logging.getLogger(__name__)

DatasetKind = Literal["auto", "crops", "manifest", "plate_course", "ccpd", "coco"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True)
class TextSample:
    """One labelled crop: an image file, the text, and where to cut it from the image.

    Attributes:
        path: image file.
        text: ground-truth text.
        region: plate region / country, if known.
        bbox: ``(x1, y1, x2, y2)`` to crop, or ``None`` for the whole image.
        polygon: polygon (pixels) whose outside is filled white, or ``None``.
        case_folded: the text writes every letter in capitals whatever the print (SROIE's
            ground truth): training counts either case of a letter as right
            (:class:`recognition.losses.JointCTCAttentionLoss`), evaluation compares in
            capitals.
    """

    path: Path
    text: str
    region: str | None = None
    bbox: tuple[int, int, int, int] | None = None
    polygon: tuple[tuple[float, float], ...] | None = None
    case_folded: bool = False


class UnreadableImage(ValueError):
    """An image file could not be decoded."""


@functools.lru_cache(maxsize=8)
def _read_rgb(path: Path) -> np.ndarray:
    # Pages hold many words: a small cache avoids decoding the same page for each of them.
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the same to us
        raise UnreadableImage(f"{path}: unreadable image ({exc})") from exc


def load_sample(sample: TextSample) -> np.ndarray:
    """Decode and cut a sample's crop (RGB ``uint8``).

    Raises:
        UnreadableImage: naming the file.
    """
    image = _read_rgb(sample.path)
    if sample.bbox is None and sample.polygon is None:
        return image
    h, w = image.shape[:2]
    if sample.polygon is not None:
        poly = np.asarray(sample.polygon, dtype=np.float32)
        x1, y1 = np.floor(poly.min(0)).astype(int)
        x2, y2 = np.ceil(poly.max(0)).astype(int)
    else:
        x1, y1, x2, y2 = sample.bbox  # type: ignore[misc]
    x1, y1 = max(0, int(x1)), max(0, int(y1))
    x2, y2 = min(w, int(x2)), min(h, int(y2))
    if x2 <= x1 or y2 <= y1:
        raise UnreadableImage(f"{sample.path}: empty crop {sample.bbox or 'polygon'}")
    crop = image[y1:y2, x1:x2].copy()
    if sample.polygon is not None:
        mask = np.zeros(crop.shape[:2], np.uint8)
        pts = np.round(np.asarray(sample.polygon) - [x1, y1]).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
        crop[mask == 0] = 255
    return crop


class LabelChecker:
    """Accepts or rejects labels, logging each rejection with the file it came from."""

    def __init__(self, charset: str = "default"):
        self.allowed = set(resolve_charset(charset))
        self.skipped = 0

    def __call__(self, text: str | None, where: str | Path, path: Path | None = None) -> bool:
        reason = None
        if text is None or not str(text).strip():
            reason = "empty text"
        else:
            bad = sorted({c for c in str(text) if c not in self.allowed})
            if bad:
                reason = f"unknown characters {''.join(bad)!r} in {text!r}"
        if reason is None and path is not None and not path.is_file():
            reason = "image file not found"
        if reason is not None:
            self.skipped += 1
            log.warning("skipping %s: %s", f"{where} ({path})" if path else where, reason)
            return False
        return True


def read_crops(root: Path, check: LabelChecker) -> list[TextSample]:
    """``root/labels.tsv``: ``filename<TAB>text[<TAB>region]`` (filename relative to root)."""
    labels = root / "labels.tsv"
    out = []
    for n, line in enumerate(labels.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        name, text = parts[0], parts[1] if len(parts) > 1 else ""
        region = parts[2].strip() if len(parts) > 2 and parts[2].strip() else None
        path = root / name
        if check(text, f"{labels}:{n} {name}", path):
            out.append(TextSample(path, text, region))
    return out


def read_manifest(root: Path, check: LabelChecker, region_field: str | None = None
                  ) -> list[TextSample]:
    """``root/manifest.json`` crop sets (``{"images": {"images/x.png": {"text": ...}}}``)."""
    manifest = root / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    out = []
    for name, entry in sorted(data.get("images", {}).items()):
        text = entry.get("text")
        region = entry.get(region_field) if region_field else entry.get("region")
        path = root / name
        if check(text, f"{manifest} {name}", path):
            out.append(TextSample(path, text, region))
    return out


def read_plate_course(root: Path, check: LabelChecker, phase: str | None = None
                      ) -> list[TextSample]:
    """Plate course layout: ``annotations/<phase>/meta_<region>_ref`` lines ``file<TAB>plate``.

    Image paths are tried as given (relative to ``root``), then under ``<region>/<phase>/``.
    """
    out = []
    phases = [phase] if phase else sorted(p.name for p in (root / "annotations").iterdir()
                                          if p.is_dir())
    for ph in phases:
        for meta in sorted((root / "annotations" / ph).glob("meta_*_ref")):
            region = meta.name[len("meta_"): -len("_ref")]
            for n, line in enumerate(meta.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                name, _, text = line.partition("\t")
                name = name.strip()
                candidates = [root / name, root / region / ph / name,
                              root / region / ph / Path(name).name]
                path = next((c for c in candidates if c.is_file()), candidates[-1])
                if check(text.strip(), f"{meta}:{n} {name}", path):
                    out.append(TextSample(path, text.strip(), region))
    return out


def read_ccpd(root: Path, check: LabelChecker) -> list[TextSample]:
    """CCPD images under ``root`` (recursive): text from the name, crop by its bbox."""
    out = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        try:
            plate = parse_ccpd_name(path.name)
        except ValueError as exc:
            check.skipped += 1
            log.warning("skipping %s: %s", path, exc)
            continue
        if check(plate.text, path.name, path):
            out.append(TextSample(path, plate.text, None, plate.bbox))
    return out


def read_coco(source: Path, check: LabelChecker, categories: list[str] | None = None
              ) -> list[TextSample]:
    """COCO / NTO pages: each annotation's polygon crop, text from ``attributes.translation``.

    Args:
        source: ``annotations.json`` or the folder holding it (images in ``images/``).
        categories: category names to read (default: every category but ``line``).
    """
    ann_file = source if source.is_file() else source / "annotations.json"
    root = ann_file.parent
    data = json.loads(ann_file.read_text(encoding="utf-8"))
    cats = {c["id"]: c["name"] for c in data.get("categories", [])}
    keep = {i for i, name in cats.items()
            if (name in categories if categories else name != "line")} if cats else None
    images = {im["id"]: im for im in data.get("images", [])}
    out = []
    for ann in data.get("annotations", []):
        if keep is not None and ann.get("category_id") not in keep:
            continue
        im = images.get(ann.get("image_id"))
        if im is None:
            log.warning("skipping annotation %s in %s: unknown image_id", ann.get("id"), ann_file)
            continue
        path = root / "images" / im["file_name"]
        if not path.is_file() and (root / im["file_name"]).is_file():
            path = root / im["file_name"]
        attrs = ann.get("attributes") or {}
        text = attrs.get("translation")
        where = f"{ann_file} annotation {ann.get('id')} ({im['file_name']})"
        if not check(text, where, path):
            continue
        seg = ann.get("segmentation") or []
        polygon = None
        if seg and isinstance(seg, list) and len(seg[0]) >= 6:
            flat = seg[0]
            polygon = tuple((float(flat[i]), float(flat[i + 1]))
                            for i in range(0, len(flat) - 1, 2))
        bbox = None
        if polygon is None and ann.get("bbox"):
            x, y, w, h = ann["bbox"]
            bbox = (int(x), int(y), int(round(x + w)), int(round(y + h)))
        out.append(TextSample(path, text, attrs.get("region"), bbox, polygon))
    return out


def detect_kind(path: Path) -> DatasetKind:
    """Guess the layout of ``path`` (see module docstring)."""
    if path.is_file() and path.suffix == ".json":
        return "coco"
    if not path.is_dir():
        raise FileNotFoundError(f"dataset not found: {path}")
    if (path / "labels.tsv").is_file():
        return "crops"
    if (path / "manifest.json").is_file():
        return "manifest"
    if (path / "annotations.json").is_file():
        return "coco"
    if (path / "annotations").is_dir() and any((path / "annotations").glob("*/meta_*_ref")):
        return "plate_course"
    return "ccpd"


def read_dataset(path: str | Path, kind: DatasetKind = "auto", charset: str = "default",
                 phase: str | None = None, region_field: str | None = None,
                 categories: list[str] | None = None, limit: int | None = None
                 ) -> list[TextSample]:
    """Read any supported layout, skipping (and logging) bad samples.

    Args:
        path: dataset folder (or COCO json).
        kind: layout, or ``auto`` to detect it.
        charset: samples with characters outside it are skipped.
        phase: plate course phase (``train`` / ``test``); all phases when ``None``.
        region_field: manifest entry field holding a region (e.g. ``state``).
        categories: COCO category names to read.
        limit: keep only the first ``limit`` samples.
    """
    path = Path(path)
    kind = detect_kind(path) if kind == "auto" else kind
    check = LabelChecker(charset)
    readers: dict[str, Callable[[], list[TextSample]]] = {
        "crops": lambda: read_crops(path, check),
        "manifest": lambda: read_manifest(path, check, region_field),
        "plate_course": lambda: read_plate_course(path, check, phase),
        "ccpd": lambda: read_ccpd(path, check),
        "coco": lambda: read_coco(path, check, categories),
    }
    if kind not in readers:
        raise ValueError(f"unknown dataset kind {kind!r}; known: {sorted(readers)}")
    samples = readers[kind]()
    if check.skipped:
        log.warning("%s (%s): skipped %d bad sample(s), kept %d", path, kind, check.skipped,
                    len(samples))
    if not samples:
        raise ValueError(f"dataset {path} ({kind}) has no usable samples")
    return samples[:limit] if limit else samples

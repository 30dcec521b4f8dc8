"""``OcrPipeline``: detector + recognizer + assembler, from images to ordered :class:`Page` s.

    from pipeline.ocr import OcrPipeline
    ocr = OcrPipeline.from_preset("documents")
    pages = ocr.run(["page.jpg"])           # pages[0].text, pages[0].lines[0].words[0].polygon

Modes follow from the parts given: both → ``ocr``; no recognizer → ``detect`` (regions only,
empty text); no detector → ``recognize`` (every image is one crop).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from inspect import signature
from pathlib import Path
from typing import Literal

import numpy as np

from core.geometry import bbox_of, box_polygon, valid_polygon
from detection.types import Detector, Region
from pipeline.assembler import Assembler
from pipeline.crops import crop_polygon
from pipeline.images import MAX_PIXELS, ImageLoadError, load_image
from pipeline.postprocess import merge_fragments, relock_kind, script_lock, snap_to_ink
from pipeline.presets import PipelineConfig, load_pipeline_config
from pipeline.results import Page, Word, points_tuple
from recognition.types import Recognition, Recognizer

log = logging.getLogger(__name__)

Mode = Literal["ocr", "detect", "recognize"]
ImageInput = np.ndarray | str | Path
CROP_LABEL = "crop"
LINE_LABEL = "line"


def describe(component: object | None, missing: str) -> str:
    """What a stage loaded: its ``.description`` or its class name; ``missing`` if absent."""
    if component is None:
        return missing
    return str(getattr(component, "description", type(component).__name__))


class OcrPipeline:
    """The composed OCR system.

    Args:
        detector: anything with ``predict(images) -> list[list[Region]]``, or ``None`` to
            treat every image as one crop (``recognize`` mode).
        recognizer: anything with ``predict(crops) -> list[Recognition]``, or ``None`` to
            return regions with empty text (``detect`` mode).
        assembler: orders words into lines; default page layout.
        images_per_batch: images detected together; all their crops are read together.
        max_pixels: larger images are refused (decompression-bomb guard).
    """

    def __init__(self, detector: Detector | None, recognizer: Recognizer | None,
                 assembler: Assembler | None = None, images_per_batch: int = 4,
                 max_pixels: int = MAX_PIXELS):
        if detector is None and recognizer is None:
            raise ValueError("OcrPipeline needs a detector, a recognizer, or both")
        self.detector = detector
        self.recognizer = recognizer
        self.assembler = assembler or Assembler()
        self.images_per_batch = max(1, images_per_batch)
        self.max_pixels = max_pixels

    @property
    def mode(self) -> Mode:
        """``ocr``, ``detect`` or ``recognize``, from the parts present."""
        if self.detector is None:
            return "recognize"
        return "detect" if self.recognizer is None else "ocr"

    @property
    def models(self) -> dict[str, str]:
        """What each stage runs (weights file, or UNTRAINED), for logs and results files."""
        return {"detector": describe(self.detector, f"none (mode {self.mode})"),
                "recognizer": describe(self.recognizer, f"none (mode {self.mode})")}

    @classmethod
    def from_config(cls, config: PipelineConfig, device: str | None = None,
                    mode: Mode = "ocr") -> OcrPipeline:
        """Build the stages a mode needs from a config (``detect`` loads no recognizer,
        ``recognize`` no detector).

        Args:
            config: the pipeline config (e.g. from :func:`load_pipeline_config`).
            device: ``auto`` / ``cpu`` / ``cuda[:N]``; default ``config.device``.
            mode: ``ocr``, ``detect`` or ``recognize``.
        """
        device = device or config.device
        detector = recognizer = None
        if mode in ("ocr", "detect"):
            from detection.factory import build_detector

            detector = build_detector(config.detector, device)
        if mode in ("ocr", "recognize"):
            from recognition.factory import build_recognizer

            rec_cfg = config.recognizer.model_copy(update={"batch_size": config.batch_size})
            recognizer = build_recognizer(rec_cfg, device)
        per_batch = config.batch_size if mode == "recognize" else 4
        return cls(detector, recognizer, Assembler(config.assembler), images_per_batch=per_batch)

    @classmethod
    def from_preset(cls, name: str = "documents", device: str | None = None,
                    overrides: Iterable[str] = (), mode: Mode = "ocr") -> OcrPipeline:
        """Build a shipped preset (``documents``, ``plates``) with ``key=value`` overrides."""
        return cls.from_config(load_pipeline_config(name, None, overrides), device, mode)

    def run(self, images: Sequence[ImageInput]) -> list[Page]:
        """OCR images (paths or RGB ``uint8`` arrays); a failed image gives ``Page.error``."""
        return [page for page, _ in self.iter_pages(images)]

    def iter_pages(self, images: Iterable[ImageInput]
                   ) -> Iterator[tuple[Page, np.ndarray | None]]:
        """Yield ``(page, image)`` per input in order, ``images_per_batch`` at a time."""
        chunk: list[tuple[str, ImageInput]] = []
        for n, item in enumerate(images):
            name = f"<array {n}>" if isinstance(item, np.ndarray) else str(item)
            chunk.append((name, item))
            if len(chunk) >= self.images_per_batch:
                yield from self.process_batch(chunk)
                chunk = []
        if chunk:
            yield from self.process_batch(chunk)

    def process_batch(self, items: Sequence[tuple[str, ImageInput]]
                      ) -> list[tuple[Page, np.ndarray | None]]:
        """Load, detect, crop, read and assemble a few images together.

        Args:
            items: ``(name, path or array)`` pairs; ``name`` becomes ``Page.file``.

        Returns:
            ``(page, image)`` per item, in order; ``image`` is ``None`` when loading failed.
        """
        loaded: list[np.ndarray | None] = []
        errors: list[str | None] = []
        for name, item in items:
            try:
                loaded.append(self._load(item))
                errors.append(None)
            except ImageLoadError as exc:
                log.warning("%s: %s", name, exc)
                loaded.append(None)
                errors.append(str(exc))
        ok = [i for i, img in enumerate(loaded) if img is not None]
        words_per_image = self._words([loaded[i] for i in ok], [items[i][0] for i in ok])
        out: list[tuple[Page, np.ndarray | None]] = []
        for i, (name, _) in enumerate(items):
            img = loaded[i]
            if img is None:
                out.append((Page.failed(name, errors[i] or "unreadable"), None))
                continue
            h, w = img.shape[:2]
            words = words_per_image[ok.index(i)]
            if isinstance(words, str):
                out.append((Page.failed(name, words, w, h), img))
                continue
            out.append((Page(name, w, h, self.assembler.assemble(words)), img))
        return out

    def _load(self, item: ImageInput) -> np.ndarray:
        if isinstance(item, np.ndarray):
            if item.ndim == 2:
                item = np.repeat(item[:, :, None], 3, axis=2)
            if item.ndim != 3 or item.shape[2] not in (3, 4) or item.size == 0:
                raise ImageLoadError(f"array of shape {item.shape} is not an RGB image")
            return np.ascontiguousarray(item[:, :, :3], dtype=np.uint8)
        return load_image(item, self.max_pixels)

    def _words(self, images: list[np.ndarray], names: list[str]) -> list[list[Word] | str]:
        """Words per image, or an error message for an image whose stage failed."""
        if not images:
            return []
        regions = self._detect(images, names)
        crops: list[np.ndarray] = []
        owners: list[tuple[int, Region]] = []
        for n, (img, found) in enumerate(zip(images, regions, strict=True)):
            if isinstance(found, str):
                continue
            for region in found:
                owners.append((n, region))
                crops.append(img if self.detector is None else _safe_crop(
                    img, grown(region.polygon, self.assembler.config.crop_pad, img.shape)))
        reads = self._recognize(crops, [owners[k][0] for k in range(len(crops))], names)
        if self.assembler.config.script_lock is not None:
            reads = self._lock_scripts(crops, owners, reads, names)
        out: list[list[Word] | str] = [[] if not isinstance(r, str) else r for r in regions]
        for (n, region), rec in zip(owners, reads, strict=True):
            words = out[n]
            if isinstance(words, str):
                continue
            if isinstance(rec, str):
                out[n] = rec
                continue
            words.append(Word(
                text=rec.text if rec is not None else "",
                polygon=points_tuple(region.polygon), bbox=region.bbox, label=region.label,
                det_score=None if self.detector is None else float(region.score),
                rec_score=None if rec is None else float(rec.score),
                spans=None if rec is None else rec.spans))
        return out

    def _lock_scripts(self, crops: list[np.ndarray], owners: list[tuple[int, Region]],
                      reads: list[Recognition | None | str], names: list[str]
                      ) -> list[Recognition | None | str]:
        """Re-read, per page, the crops holding letters of the page's minority script with
        those letters forbidden (``assembler.script_lock``); crops with whole words of that
        script only with ``script_lock_words``, and only a confident enough re-read counts."""
        share = self.assembler.config.script_lock
        words = self.assembler.config.script_lock_words
        predict = getattr(self.recognizer, "predict", None)
        if share is None or predict is None or "forbid" not in signature(predict).parameters:
            return reads
        out = list(reads)
        pages: dict[int, list[int]] = {}
        for k, (n, _) in enumerate(owners):
            if isinstance(reads[k], Recognition):
                pages.setdefault(n, []).append(k)
        for n, mine in pages.items():
            forbid = script_lock([reads[k].text for k in mine], share)
            kinds = {k: relock_kind(reads[k].text, forbid) for k in mine}
            redo = [k for k in mine if kinds[k] == "mixed"
                    or (kinds[k] == "whole" and words is not None)]
            if not redo:
                continue
            try:
                again = predict([crops[k] for k in redo], forbid=forbid)
            except Exception:
                log.exception("%s: script-locked re-reading failed; first reads kept", names[n])
                continue
            for k, rec in zip(redo, again, strict=True):
                if kinds[k] == "mixed" or rec.score >= words * reads[k].score:
                    out[k] = rec
        return out

    def _detect(self, images: list[np.ndarray], names: list[str]) -> list[list[Region] | str]:
        if self.detector is None:
            return [[_whole_image_region(img)] for img in images]
        aspect = self.assembler.config.line_image_aspect
        if aspect is not None:
            strips = [img.shape[1] >= aspect * img.shape[0] for img in images]
            if any(strips):
                rest = iter(self._detect_regions(
                    [img for img, s in zip(images, strips, strict=True) if not s],
                    [name for name, s in zip(names, strips, strict=True) if not s]))
                return [[_whole_image_region(img, LINE_LABEL)] if s else next(rest)
                        for img, s in zip(images, strips, strict=True)]
        return self._detect_regions(images, names)

    def _detect_regions(self, images: list[np.ndarray], names: list[str]
                        ) -> list[list[Region] | str]:
        if not images:
            return []
        try:
            raw = self.detector.predict(images)
        except Exception:
            if len(images) == 1:
                log.exception("%s: detection failed", names[0])
                return ["detection failed: see log"]
            # One bad image must not cost the others: retry them one by one.
            return [r for img, name in zip(images, names, strict=True)
                    for r in self._detect_regions([img], [name])]
        cfg = self.assembler.config
        skip = set(cfg.skip_labels)
        out = [[r for r in (_clean_region(reg, img) for reg in regs if reg.label not in skip)
                if r is not None] for regs, img in zip(raw, images, strict=True)]
        if cfg.snap_to_ink:
            out = [snap_to_ink(regs, img) for regs, img in zip(out, images, strict=True)]
        if cfg.merge_fragments is not None:
            out = [merge_fragments(regs, cfg.merge_fragments, cfg.max_merged_aspect,
                                   max_gap=cfg.merge_gap, gutter=cfg.gutter_gap)
                   for regs in out]
        return out

    def _recognize(self, crops: list[np.ndarray], owner: list[int], names: list[str]
                   ) -> list[Recognition | None | str]:
        if self.recognizer is None or not crops:
            return [None] * len(crops)
        try:
            reads = list(self.recognizer.predict(crops))
            if len(reads) != len(crops):
                raise RuntimeError(f"recognizer returned {len(reads)} results "
                                   f"for {len(crops)} crops")
            return list(reads)
        except Exception:
            if len(set(owner)) <= 1:
                log.exception("%s: recognition failed", names[owner[0]] if owner else "?")
                return ["recognition failed: see log"] * len(crops)
        out: list[Recognition | None | str] = []
        for n in dict.fromkeys(owner):
            mine = [k for k, o in enumerate(owner) if o == n]
            out_n = self._recognize([crops[k] for k in mine], [n] * len(mine), names)
            out.extend(out_n)
        return out


def _whole_image_region(img: np.ndarray, label: str = CROP_LABEL) -> Region:
    h, w = img.shape[:2]
    return Region(polygon=box_polygon(0, 0, w, h), bbox=(0.0, 0.0, float(w), float(h)),
                  score=1.0, label=label)


def _clean_region(region: Region, img: np.ndarray) -> Region | None:
    """Clip a detected polygon to the image and make it valid; ``None`` if nothing is left."""
    h, w = img.shape[:2]
    try:
        pts = np.asarray(region.polygon, dtype=np.float64).reshape(-1, 2)
        pts = np.stack([pts[:, 0].clip(0, w), pts[:, 1].clip(0, h)], axis=1)
        poly = valid_polygon(pts)
    except ValueError:
        return None
    if poly is None:
        return None
    return Region(polygon=poly, bbox=bbox_of(poly), score=float(region.score),
                  label=str(region.label))


def grown(polygon: np.ndarray, pad: float, shape: tuple[int, ...]) -> np.ndarray:
    """``polygon`` scaled about its centre so that each side moves out by ``pad`` of the
    region's size (a tight plate box then keeps its first and last characters), clipped to
    the image; unchanged when ``pad`` is 0."""
    if pad <= 0:
        return polygon
    pts = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    centre = pts.mean(axis=0)
    out = centre + (pts - centre) * (1.0 + 2.0 * pad)
    h, w = shape[:2]
    return np.stack([out[:, 0].clip(0, w), out[:, 1].clip(0, h)], axis=1)


def _safe_crop(img: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    try:
        return crop_polygon(img, polygon)
    except Exception:  # a degenerate polygon gives a blank crop, not a failed page
        log.debug("could not crop polygon %s", polygon.tolist(), exc_info=True)
        return np.full((8, 8, 3), 255, np.uint8)

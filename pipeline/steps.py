"""The steps of :class:`pipeline.ocr.OcrPipeline` between loading images and assembling pages.

Each step is a small object (built from its config section, see ``pipeline.presets``) or a
function, callable and testable alone; ``OcrPipeline`` chains them for a batch of images:

    found = detect(images, names)              # DetectRegions: line strips whole, retries
    found = [clean(f, img) ...]                # CleanRegions: clip, skip, snap, merge
    crops = crop(images, found, names)         # CropRegions: padded polygon crops
    reads = read(crops, names)                 # ReadCrops: one batch, retries per image
    reads = script_lock(crops, reads, names)   # ScriptLock: re-read minority-script crops
    words = page_words(found, reads)           # then Assembler: text clean-up, order

A stage that fails for one image puts a :data:`Failed` message in that image's place (it
becomes ``Page.error``); the other images of the batch go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from inspect import signature
from typing import Literal

import numpy as np

from core.geometry import bbox_of, box_polygon, valid_polygon
from detection.types import Detector, Region
from pipeline.crops import crop_polygon
from pipeline.postprocess import merge_fragments, relock_kind, script_lock, snap_to_ink
from pipeline.presets import RegionsConfig, ScriptLockConfig
from pipeline.results import Word, points_tuple
from recognition.types import Recognition, Recognizer

log = logging.getLogger(__name__)

CROP_LABEL = "crop"
LINE_LABEL = "line"
BLANK_CROP = (8, 8, 3)  # what a region that cannot be cropped is read as

Failed = str
"""In place of an image's result: the message of the stage that failed for it."""

Read = Recognition | None | Failed
"""One crop's read: ``None`` when no recognizer ran (``detect`` mode)."""

Source = Literal["detector", "line", "image"]


@dataclass(frozen=True)
class ImageRegions:
    """The regions of one image, and where they came from.

    Attributes:
        regions: polygons in the image's pixels, in the order they are read.
        source: ``detector`` (found by it: cleaned, then cropped); ``line`` (a line strip
            read whole: one region, cropped but not cleaned); ``image`` (no detector: the
            image itself is the crop, and its word has no detection score).
    """

    regions: list[Region]
    source: Source = "detector"


@dataclass(frozen=True)
class Crops:
    """The crops of a batch, image after image, each region's crop in region order.

    Attributes:
        images: RGB ``uint8`` crops.
        owners: for each crop, the index of the image (in the batch) it was cut from.
    """

    images: list[np.ndarray]
    owners: list[int]


def whole_image_region(image: np.ndarray, label: str = CROP_LABEL) -> Region:
    """One region covering ``image``, with score 1."""
    h, w = image.shape[:2]
    return Region(polygon=box_polygon(0, 0, w, h), bbox=(0.0, 0.0, float(w), float(h)),
                  score=1.0, label=label)


# --- detect ---------------------------------------------------------------------------------

class DetectRegions:
    """Step 1: regions of each image.

    Images at least ``line_image_aspect`` times wider than high are line strips, read whole
    without the detector; the others are detected together, and when that batch fails,
    one by one, so that one bad image costs only itself. With no detector every image is
    one region (``recognize`` mode).

    Args:
        detector: anything with ``predict(images) -> list[list[Region]]``, or ``None``.
        line_image_aspect: see :class:`pipeline.presets.RegionsConfig`; ``None``: off.
    """

    def __init__(self, detector: Detector | None, line_image_aspect: float | None = None):
        self.detector = detector
        self.line_image_aspect = line_image_aspect

    def is_line_strip(self, image: np.ndarray) -> bool:
        """Whether ``image`` is read whole as one text line."""
        aspect = self.line_image_aspect
        return aspect is not None and image.shape[1] >= aspect * image.shape[0]

    def __call__(self, images: Sequence[np.ndarray], names: Sequence[str]
                 ) -> list[ImageRegions | Failed]:
        """Regions per image, in order; a :data:`Failed` message where detection failed."""
        if self.detector is None:
            return [ImageRegions([whole_image_region(img)], "image") for img in images]
        strips = [self.is_line_strip(img) for img in images]
        rest = iter(self._detect([img for img, s in zip(images, strips, strict=True) if not s],
                                 [n for n, s in zip(names, strips, strict=True) if not s]))
        return [ImageRegions([whole_image_region(img, LINE_LABEL)], "line") if s else next(rest)
                for img, s in zip(images, strips, strict=True)]

    def _detect(self, images: list[np.ndarray], names: list[str]) -> list[ImageRegions | Failed]:
        if not images:
            return []
        try:
            raw = list(self.detector.predict(images))
            if len(raw) != len(images):
                raise RuntimeError(f"detector returned {len(raw)} results "
                                   f"for {len(images)} images")
        except Exception:
            if len(images) == 1:
                log.exception("%s: detection failed", names[0])
                return ["detection failed: see log"]
            # One bad image must not cost the others: retry them one by one.
            return [r for img, name in zip(images, names, strict=True)
                    for r in self._detect([img], [name])]
        return [ImageRegions(list(regions)) for regions in raw]


# --- clean regions --------------------------------------------------------------------------

def clean_region(region: Region, image: np.ndarray) -> Region | None:
    """Clip a detected polygon to the image and make it valid; ``None`` if nothing is left."""
    h, w = image.shape[:2]
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


class CleanRegions:
    """Step 2: detected regions fit to read, per image.

    Regions of ``skip_labels`` are dropped, the rest clipped to the image and made valid
    (:func:`clean_region`), then optionally snapped onto the ink and merged into line pieces
    (:func:`pipeline.postprocess.snap_to_ink`, :func:`~pipeline.postprocess.merge_fragments`).
    Regions that the detector did not find (an image read whole) pass unchanged.

    Args:
        config: the ``regions`` section.
        gutter_gap: ``assembler.layout.gutter_gap``: merging never joins across a column
            gutter as the reading order sees it (one setting for both); ``None``: no check.
    """

    def __init__(self, config: RegionsConfig | None = None, gutter_gap: float | None = None):
        self.config = config or RegionsConfig()
        self.gutter_gap = gutter_gap

    def __call__(self, found: ImageRegions, image: np.ndarray) -> ImageRegions:
        if found.source != "detector":
            return found
        cfg = self.config
        skip = set(cfg.skip_labels)
        regions = [r for r in (clean_region(reg, image) for reg in found.regions
                               if reg.label not in skip) if r is not None]
        if cfg.snap_to_ink:
            regions = snap_to_ink(regions, image)
        if cfg.merge_fragments is not None:
            regions = merge_fragments(regions, cfg.merge_fragments, cfg.max_merged_aspect,
                                      max_gap=cfg.merge_gap, gutter=self.gutter_gap)
        return replace(found, regions=regions)


# --- crop -----------------------------------------------------------------------------------

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


def crop_region(image: np.ndarray, polygon: np.ndarray, name: str = "?") -> np.ndarray:
    """:func:`pipeline.crops.crop_polygon`, or a blank 8x8 crop (logged as a warning with
    the image's ``name`` and the polygon) when the polygon cannot be cropped: one bad
    region must not fail its page."""
    try:
        return crop_polygon(image, polygon)
    except Exception as exc:
        log.warning("%s: could not crop polygon %s (%s: %s); read as a blank crop", name,
                    np.asarray(polygon).tolist(), type(exc).__name__, exc,
                    exc_info=log.isEnabledFor(logging.DEBUG))
        return np.full(BLANK_CROP, 255, np.uint8)


class CropRegions:
    """Step 3: the crop of every region of a batch.

    Args:
        pad: ``crops.pad``: each region is cropped this fraction of its size larger on every
            side (:func:`grown`); the region's polygon itself is kept.
    """

    def __init__(self, pad: float = 0.0):
        self.pad = pad

    def __call__(self, images: Sequence[np.ndarray], found: Sequence[ImageRegions | Failed],
                 names: Sequence[str]) -> Crops:
        """Crops image after image; images whose detection failed have none."""
        crops: list[np.ndarray] = []
        owners: list[int] = []
        for n, (img, regions) in enumerate(zip(images, found, strict=True)):
            if isinstance(regions, Failed):
                continue
            for region in regions.regions:
                owners.append(n)
                crops.append(img if regions.source == "image" else crop_region(
                    img, grown(region.polygon, self.pad, img.shape), names[n]))
        return Crops(crops, owners)


# --- recognize ------------------------------------------------------------------------------

class ReadCrops:
    """Step 4: read every crop of a batch in one call; when that fails, image by image, so
    that one bad image costs only itself.

    Args:
        recognizer: anything with ``predict(crops) -> list[Recognition]``, or ``None``
            (``detect`` mode: every read is ``None``).
    """

    def __init__(self, recognizer: Recognizer | None):
        self.recognizer = recognizer

    def __call__(self, crops: Crops, names: Sequence[str]) -> list[Read]:
        """One read per crop, in order; a :data:`Failed` message for each crop of an image
        whose reading failed."""
        return self._read(crops.images, crops.owners, names)

    def _read(self, crops: list[np.ndarray], owners: list[int], names: Sequence[str]
              ) -> list[Read]:
        if self.recognizer is None or not crops:
            return [None] * len(crops)
        try:
            reads = list(self.recognizer.predict(crops))
            if len(reads) != len(crops):
                raise RuntimeError(f"recognizer returned {len(reads)} results "
                                   f"for {len(crops)} crops")
            return reads
        except Exception:
            if len(set(owners)) <= 1:
                log.exception("%s: recognition failed", names[owners[0]] if owners else "?")
                return ["recognition failed: see log"] * len(crops)
        out: list[Read] = []
        for n in dict.fromkeys(owners):
            mine = [k for k, o in enumerate(owners) if o == n]
            out.extend(self._read([crops[k] for k in mine], [n] * len(mine), names))
        return out


# --- script lock re-read --------------------------------------------------------------------

class ScriptLock:
    """Step 5: re-read, per page, the crops holding letters of the page's minority script
    with those letters forbidden (``script_lock.min_share``); crops with whole words of that
    script only with ``script_lock.whole_words``, and only a confident enough re-read
    counts. Does nothing when off or when the recognizer's ``predict`` takes no ``forbid``.

    Args:
        recognizer: the recognizer that made the first reads.
        config: the ``script_lock`` section.
    """

    def __init__(self, recognizer: Recognizer | None, config: ScriptLockConfig | None = None):
        self.recognizer = recognizer
        self.config = config or ScriptLockConfig()

    def __call__(self, crops: Crops, reads: list[Read], names: Sequence[str]) -> list[Read]:
        """``reads`` with re-reads in place of the first reads they replace."""
        share, words = self.config.min_share, self.config.whole_words
        predict = getattr(self.recognizer, "predict", None)
        if share is None or predict is None or "forbid" not in signature(predict).parameters:
            return reads
        out = list(reads)
        pages: dict[int, list[int]] = {}
        for k, n in enumerate(crops.owners):
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
                again = predict([crops.images[k] for k in redo], forbid=forbid)
            except Exception:
                log.exception("%s: script-locked re-reading failed; first reads kept", names[n])
                continue
            for k, rec in zip(redo, again, strict=True):
                if kinds[k] == "mixed" or rec.score >= words * reads[k].score:
                    out[k] = rec
        return out


# --- words ----------------------------------------------------------------------------------

def page_words(found: Sequence[ImageRegions | Failed], reads: Sequence[Read]
               ) -> list[list[Word] | Failed]:
    """Step 6: the words of each image, from its regions and their reads (in the order of
    :class:`CropRegions`), ready for the :class:`~pipeline.assembler.Assembler`; a
    :data:`Failed` message for an image whose detection or reading failed."""
    out: list[list[Word] | Failed] = []
    pending = iter(reads)
    for regions in found:
        if isinstance(regions, Failed):
            out.append(regions)
            continue
        words: list[Word] | Failed = []
        for region in regions.regions:
            rec = next(pending)
            if isinstance(words, Failed):
                continue
            if isinstance(rec, Failed):
                words = rec
                continue
            words.append(Word(
                text=rec.text if rec is not None else "",
                polygon=points_tuple(region.polygon), bbox=region.bbox, label=region.label,
                det_score=None if regions.source == "image" else float(region.score),
                rec_score=None if rec is None else float(rec.score),
                spans=None if rec is None else rec.spans,
                word_scores=None if rec is None else rec.word_scores))
        out.append(words)
    return out

"""The steps of :class:`pipeline.ocr.OcrPipeline` between loading images and assembling pages.

Each step is a small object (built from its config section, see ``pipeline.presets``) or a
function, callable and testable alone; ``OcrPipeline`` chains them for a batch of images:

    pages = find_page(images)                  # FindPage: a photographed page warped upright
    images = [turn_upright(img, r) ...]        # DetectOrientation: quarter turns first
    found = detect(images, names)              # DetectRegions: line strips whole, retries
    found = [clean(f, img) ...]                # CleanRegions: clip, skip, snap, merge
    crops = crop(images, found, names)         # CropRegions: padded polygon crops
    reads = read(crops, names)                 # ReadCrops: one batch, retries per image
    reads = script_lock(crops, reads, names)   # ScriptLock: re-read minority-script crops
    flip = orient.upside_down(crops, reads)    # DetectOrientation: read again turned 180?
    words = page_words(found, reads, quads)    # then Assembler: text clean-up, order
    lines = lines_to_turned(lines, r, shape)   # polygons back in the image as loaded
    lines = lines_from_page(lines, page)       # ... and from the upright page to the photo

A stage that fails for one image puts a :data:`Failed` message in that image's place (it
becomes ``Page.error``); the other images of the batch go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from inspect import signature
from typing import Literal

import numpy as np

from core.geometry import (
    as_points,
    bbox_of,
    box_polygon,
    is_axis_aligned_box,
    min_area_quad,
    order_quad,
    valid_polygon,
)
from core.imaging import ink_bands
from detection.types import Detector, Region
from pipeline.crops import crop_polygon, level_quad, text_angle
from pipeline.page_geometry import PageWarp, find_page
from pipeline.postprocess import (
    merge_fragments,
    reach_ink,
    relock_kind,
    script_lock,
    snap_to_ink,
)
from pipeline.presets import (
    CropImageConfig,
    LevelConfig,
    LineInkConfig,
    OrientationConfig,
    PageGeometryConfig,
    PolarityConfig,
    RegionsConfig,
    ScriptLockConfig,
)
from pipeline.results import CharBox, Line, Word, points_tuple
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
        quads: for each crop, the quadrilateral of its image it was warped from (top-left,
            top-right, bottom-right, bottom-left; :func:`crop_quad`): where its pixels lie
            in the image. Empty when not known.
    """

    images: list[np.ndarray]
    owners: list[int]
    quads: list[np.ndarray] = field(default_factory=list)


def whole_image_region(image: np.ndarray, label: str = CROP_LABEL) -> Region:
    """One region covering ``image``, with score 1."""
    h, w = image.shape[:2]
    return Region(polygon=box_polygon(0, 0, w, h), bbox=(0.0, 0.0, float(w), float(h)),
                  score=1.0, label=label)


# --- detect ---------------------------------------------------------------------------------

class DetectRegions:
    """Step 1: regions of each image.

    Images at least ``line_image_aspect`` times wider than high, and images whose ink lies in
    one band of rows (``line_image_ink``), are line strips, read whole without the detector;
    small images of a crop's shape (``crop_image``: a plate cut from a photo) are one crop
    each, as in ``recognize`` mode; the others are detected together, and when that batch
    fails, one by one, so that one bad image costs only itself. With no detector every image
    is one region (``recognize`` mode).

    Args:
        detector: anything with ``predict(images) -> list[list[Region]]``, or ``None``.
        line_image_aspect, line_image_ink, crop_image: see
            :class:`pipeline.presets.RegionsConfig`; ``None``: off.
    """

    def __init__(self, detector: Detector | None, line_image_aspect: float | None = None,
                 line_image_ink: LineInkConfig | None = None,
                 crop_image: CropImageConfig | None = None):
        self.detector = detector
        self.line_image_aspect = line_image_aspect
        self.line_image_ink = line_image_ink
        self.crop_image = crop_image

    def is_line_strip(self, image: np.ndarray) -> bool:
        """Whether ``image`` is read whole as one text line."""
        aspect = self.line_image_aspect
        if aspect is not None and image.shape[1] >= aspect * image.shape[0]:
            return True
        ink = self.line_image_ink
        if ink is None or image.shape[0] > ink.max_height:
            return False
        lines = [(top, bottom) for top, bottom, share in ink_bands(image, ink.row_share)
                 if share > ink.band_share]
        if len(lines) != 1:
            return False
        top, bottom = lines[0]
        return bottom - top >= ink.min_band_height * image.shape[0]

    def is_crop(self, image: np.ndarray) -> bool:
        """Whether ``image`` is itself one crop (``crop_image``): read whole, as in
        ``recognize`` mode."""
        crop = self.crop_image
        h, w = image.shape[:2]
        return crop is not None and max(h, w) <= crop.max_side and w >= crop.min_aspect * h

    def __call__(self, images: Sequence[np.ndarray], names: Sequence[str]
                 ) -> list[ImageRegions | Failed]:
        """Regions per image, in order; a :data:`Failed` message where detection failed."""
        if self.detector is None:
            return [ImageRegions([whole_image_region(img)], "image") for img in images]
        whole = [self._read_whole(img, name) for img, name in zip(images, names, strict=True)]
        rest = iter(self._detect([img for img, w in zip(images, whole, strict=True) if w is None],
                                 [n for n, w in zip(names, whole, strict=True) if w is None]))
        return [next(rest) if w is None else w for w in whole]

    def _read_whole(self, image: np.ndarray, name: str) -> ImageRegions | None:
        """The one region of an image read whole (a crop or a line strip), else ``None``:
        detect it. An image these checks cannot judge goes to the detector."""
        try:
            if self.is_crop(image):
                return ImageRegions([whole_image_region(image)], "image")
            if self.is_line_strip(image):
                return ImageRegions([whole_image_region(image, LINE_LABEL)], "line")
        except Exception:
            log.warning("%s: could not tell whether it is one line; detecting it", name,
                        exc_info=True)
        return None

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
        if cfg.reach_ink is not None:
            regions = reach_ink(regions, image, cfg.reach_ink.gap)
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


def levelled(image: np.ndarray, polygon: np.ndarray, crop: np.ndarray, level: LevelConfig,
             name: str = "?") -> tuple[np.ndarray, np.ndarray]:
    """``(polygon, crop)`` levelled: when ``polygon`` is an upright box and the text of its
    ``crop`` is turned by at least ``level.min_angle`` degrees
    (:func:`pipeline.crops.text_angle`), the turned rectangle inside the box
    (:func:`pipeline.crops.level_quad`) and its crop; else (or where the box holds no such
    rectangle) both as given."""
    # anything but an upright box was already shaped by its detector
    if not is_axis_aligned_box(polygon) or crop.shape[0] < 4 or crop.shape[1] < 4:
        return polygon, crop
    pts = as_points(polygon)
    angle = text_angle(crop, level.max_angle)
    if abs(angle) < level.min_angle:
        return polygon, crop
    quad = level_quad(pts, angle, margin=level.margin)
    if quad is None:
        return polygon, crop
    return quad, crop_region(image, quad, name)


def crop_quad(polygon: np.ndarray) -> np.ndarray:
    """The quadrilateral :func:`pipeline.crops.crop_polygon` warps to a crop: a quadrilateral
    polygon ordered from its top-left corner, else the minimum-area rectangle of the
    polygon."""
    pts = as_points(polygon)
    return order_quad(pts) if len(pts) == 4 else min_area_quad(pts)


def quad_point(quad: np.ndarray, u: float, v: float) -> np.ndarray:
    """The point at fractions ``(u, v)`` of a crop's width and height, in the image the crop
    was warped from (bilinear in its ``quad``; exact for a rectangle)."""
    tl, tr, br, bl = np.asarray(quad, dtype=np.float64)[:4]
    return (1 - u) * (1 - v) * tl + u * (1 - v) * tr + u * v * br + (1 - u) * v * bl


def char_boxes(chars: Sequence[tuple[float, float, float, float, float]], quad: np.ndarray
               ) -> tuple[CharBox, ...]:
    """Character boxes in a crop (:attr:`recognition.types.Recognition.chars`, fractions of
    the crop) mapped into the image through the crop's ``quad``: each the axis-aligned box
    of its four corners there, with its score."""
    out = []
    for left, top, right, bottom, score in chars:
        pts = np.array([quad_point(quad, u, v) for u, v in
                        ((left, top), (right, top), (right, bottom), (left, bottom))])
        (x1, y1), (x2, y2) = pts.min(axis=0), pts.max(axis=0)
        out.append(((float(x1), float(y1), float(x2), float(y2)), float(score)))
    return tuple(out)


class CropRegions:
    """Step 3: the crop of every region of a batch.

    Args:
        pad: ``crops.pad``: each region is cropped this fraction of its size larger on every
            side (:func:`grown`); the region's polygon itself is kept.
        level: ``crops.level``: an upright box whose text is turned by at least ``min_angle``
            degrees is cut along the turned rectangle inside it instead
            (:func:`levelled`); the region's polygon itself is kept. Off if ``None``.
    """

    def __init__(self, pad: float = 0.0, level: LevelConfig | None = None):
        self.pad = pad
        self.level = level

    def __call__(self, images: Sequence[np.ndarray], found: Sequence[ImageRegions | Failed],
                 names: Sequence[str]) -> Crops:
        """Crops image after image; images whose detection failed have none."""
        crops: list[np.ndarray] = []
        owners: list[int] = []
        quads: list[np.ndarray] = []
        for n, (img, regions) in enumerate(zip(images, found, strict=True)):
            if isinstance(regions, Failed):
                continue
            for region in regions.regions:
                owners.append(n)
                if regions.source == "image":
                    crops.append(img)
                    quads.append(crop_quad(whole_image_region(img).polygon))
                    continue
                polygon = grown(region.polygon, self.pad, img.shape)
                crop = crop_region(img, polygon, names[n])
                if self.level is not None:
                    polygon, crop = levelled(img, polygon, crop, self.level, names[n])
                crops.append(crop)
                try:
                    quads.append(crop_quad(polygon))
                except Exception:  # it was read as a blank crop: no characters to place
                    quads.append(np.zeros((4, 2)))
        return Crops(crops, owners, quads)


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
    counts. On a run restricted to some languages (``assembler.text.languages``), the
    crops holding letters of a script none of them is written in (``forbid``) are re-read
    with those letters forbidden too, and the re-read always counts. Does nothing when off
    or when the recognizer's ``predict`` takes no ``forbid``.

    Args:
        recognizer: the recognizer that made the first reads.
        config: the ``script_lock`` section.
        forbid: letters never read (:func:`pipeline.languages.forbidden_letters`).
    """

    def __init__(self, recognizer: Recognizer | None, config: ScriptLockConfig | None = None,
                 forbid: str = ""):
        self.recognizer = recognizer
        self.config = config or ScriptLockConfig()
        self.forbid = forbid

    def __call__(self, crops: Crops, reads: list[Read], names: Sequence[str]) -> list[Read]:
        """``reads`` with re-reads in place of the first reads they replace."""
        share, words = self.config.min_share, self.config.whole_words
        predict = getattr(self.recognizer, "predict", None)
        if ((share is None and not self.forbid) or predict is None
                or "forbid" not in signature(predict).parameters):
            return reads
        never = frozenset(self.forbid)
        out = list(reads)
        pages: dict[int, list[int]] = {}
        for k, n in enumerate(crops.owners):
            if isinstance(reads[k], Recognition):
                pages.setdefault(n, []).append(k)
        for n, mine in pages.items():
            minority = "" if share is None else script_lock([reads[k].text for k in mine], share)
            forbid = "".join(sorted(set(minority) | never))
            kinds = {k: relock_kind(reads[k].text, minority) for k in mine}
            banned = {k for k in mine if never.intersection(reads[k].text)}
            redo = [k for k in mine if k in banned or kinds[k] == "mixed"
                    or (kinds[k] == "whole" and words is not None)]
            if not redo:
                continue
            try:
                again = predict([crops.images[k] for k in redo], forbid=forbid)
            except Exception:
                log.exception("%s: script-locked re-reading failed; first reads kept", names[n])
                continue
            for k, rec in zip(redo, again, strict=True):
                if (k in banned or kinds[k] == "mixed"
                        or rec.score >= (words or 0.0) * reads[k].score):
                    out[k] = rec
        return out


# --- words ----------------------------------------------------------------------------------

def page_words(found: Sequence[ImageRegions | Failed], reads: Sequence[Read],
               quads: Sequence[np.ndarray] = ()) -> list[list[Word] | Failed]:
    """Step 6: the words of each image, from its regions and their reads (in the order of
    :class:`CropRegions`), ready for the :class:`~pipeline.assembler.Assembler`; a
    :data:`Failed` message for an image whose detection or reading failed.

    ``quads``: :attr:`Crops.quads`; with them each word keeps where the recognizer put its
    characters in the image (:attr:`pipeline.results.Word.read_chars`, :func:`char_boxes`).
    """
    out: list[list[Word] | Failed] = []
    pending = iter(reads)
    pending_quads = iter(quads) if len(quads) == len(reads) else None
    for regions in found:
        if isinstance(regions, Failed):
            out.append(regions)
            continue
        words: list[Word] | Failed = []
        for region in regions.regions:
            rec = next(pending)
            quad = None if pending_quads is None else next(pending_quads)
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
                word_scores=None if rec is None else rec.word_scores,
                read_chars=None if rec is None or rec.chars is None or quad is None
                else char_boxes(rec.chars, quad),
                region=None if rec is None else rec.region))
        out.append(words)
    return out


# --- orientation ----------------------------------------------------------------------------

ROTATIONS = (0, 90, 180, 270)
"""How far a page can be found turned, in degrees clockwise (:attr:`Page.rotation`)."""


def turn_upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """A page turned ``rotation`` degrees clockwise, turned back as far counter-clockwise."""
    return np.ascontiguousarray(np.rot90(image, k=(rotation // 90) % 4))


def points_to_turned(points: np.ndarray, rotation: int, shape: tuple[int, ...]) -> np.ndarray:
    """Points ``(x, y)`` of the upright page (:func:`turn_upright`) in the image as it was
    loaded, of ``shape`` ``(H, W, ...)``: in pixel-edge coordinates, so a box covers the
    same pixels in both."""
    h, w = shape[:2]
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = pts[:, 0], pts[:, 1]
    k = (rotation // 90) % 4
    if k == 1:
        return np.stack([w - y, x], axis=1)
    if k == 2:
        return np.stack([w - x, h - y], axis=1)
    if k == 3:
        return np.stack([y, h - x], axis=1)
    return pts.copy()


def _box_to_turned(box: Sequence[float], rotation: int, shape: tuple[int, ...]
                   ) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    pts = points_to_turned(np.array([[x1, y1], [x2, y2]]), rotation, shape)
    (a, b), (c, d) = pts.min(axis=0), pts.max(axis=0)
    return float(a), float(b), float(c), float(d)


def lines_to_turned(lines: Sequence[Line], rotation: int, shape: tuple[int, ...]
                    ) -> tuple[Line, ...]:
    """Lines read on the upright page with their polygons and boxes (of words and
    characters) put back in the image as loaded, of ``shape``; the order of a polygon's
    vertices is kept (it still starts at the text's top-left as read)."""
    if rotation % 360 == 0:
        return tuple(lines)

    def word(w: Word) -> Word:
        return replace(
            w, polygon=points_tuple(points_to_turned(w.polygon, rotation, shape)),
            bbox=tuple(round(v, 2) for v in _box_to_turned(w.bbox, rotation, shape)),
            chars=None if w.chars is None else tuple(
                replace(c, bbox=_box_to_turned(c.bbox, rotation, shape)) for c in w.chars),
            read_chars=None)

    return tuple(replace(line, polygon=points_tuple(points_to_turned(line.polygon, rotation,
                                                                      shape)),
                         words=tuple(word(w) for w in line.words)) for line in lines)


def ink_profile_score(profile: np.ndarray, window: int) -> float:
    """How line-like an ink projection profile is: the spread of its fine structure (the
    profile less its moving average over ``window`` bins, so margins, columns and pictures
    count little) relative to its mean. Across text lines the ink comes and goes line by
    line; along them the lines' words and letters average out."""
    if len(profile) < 20 or profile.mean() <= 0:
        return 0.0
    kernel = np.ones(max(3, window))
    # divided by the bins each average covers, so the page's ends are not taken for lines
    smooth = (np.convolve(profile, kernel, mode="same")
              / np.convolve(np.ones_like(profile), kernel, mode="same"))
    return float((profile - smooth).std() / profile.mean())


def gray_copy(image: np.ndarray, side: int) -> np.ndarray:
    """A grey ``uint8`` copy of ``image`` whose long side is at most ``side`` pixels (a
    sliver keeps at least one pixel across)."""
    import cv2

    from core.imaging import to_gray

    gray = np.ascontiguousarray(to_gray(image), dtype=np.uint8)
    h, w = gray.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return gray
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def from_ground(gray: np.ndarray, window: int) -> np.ndarray:
    """Each pixel of a grey ``uint8`` image minus the median of the ``window``-pixel square
    around it (its local ground: paper, board, table), as ``int16``: ink darker than its
    ground is negative, light writing on a dark ground positive."""
    import cv2

    ground = cv2.medianBlur(gray, window | 1).astype(np.int16)
    return gray.astype(np.int16) - ground


def quarter_turned(image: np.ndarray, ratio: float = 1.0, side: int = 800,
                   contrast: int = 30) -> bool:
    """Whether the text lines of ``image`` run up or down (a page turned 90 or 270): its
    column ink profile is ``ratio`` times more line-like than its row profile
    (:func:`ink_profile_score`). The page is looked at ``side`` pixels long (cheap: no
    model); its ink is what is ``contrast`` grey levels darker than the paper around it (a
    31-pixel median), so the faint grid of squared paper does not count (with Otsu's
    threshold it did). Column / row ratio on the bench pages: 0.23-0.84 upright, 1.19-4.3
    turned a quarter (bench/bench_orientation.py)."""
    gray = gray_copy(image, side)
    if min(gray.shape[:2]) < 64:  # too small (or too thin) to hold several lines
        return False
    ink = (from_ground(gray, 31) < -contrast).astype(np.float64)
    window = max(gray.shape[:2]) // 10  # one scale both ways: a short page's few lines too
    rows = ink_profile_score(ink.mean(axis=1), window)
    cols = ink_profile_score(ink.mean(axis=0), window)
    return cols > ratio * rows


def read_confidence(rec: Recognition) -> float:
    """A read's confidence per character (``score ** (1 / len(text))``); 0 for no text."""
    if not rec.text.strip():
        return 0.0
    return float(max(rec.score, 0.0)) ** (1.0 / len(rec.text))


class DetectOrientation:
    """Step 0: how far each page is turned (:data:`ROTATIONS`), so that it is read upright.

    Lines running up or down (90 or 270) are told from the ink's projection profiles
    (:func:`quarter_turned`), before anything is detected: the page is then read turned
    back 90 counter-clockwise. Upside down (180 more) is told after reading: pieces of the
    widest ``sample`` crops of the page are read as they are and turned 180, and when the
    turned pieces' mean confidence per character (:func:`read_confidence`) beats the
    others' by ``flip_margin``, the page is read again turned 180.

    Args:
        recognizer: reads the sample; without one (``detect`` mode) pages are not flipped.
        config: the ``orientation`` section; ``config.rotation`` forces every page's turn.
    """

    def __init__(self, recognizer: Recognizer | None, config: OrientationConfig | None = None):
        self.recognizer = recognizer
        self.config = config or OrientationConfig()

    @property
    def detects(self) -> bool:
        """Whether turns are detected (on, and not forced)."""
        return self.config.enabled and self.config.rotation is None

    def quarters(self, images: Sequence[np.ndarray]) -> list[int]:
        """The first guess of each image's turn: the forced one, else 90 for lines that run
        up or down (or 0) when detecting, else 0."""
        if self.config.rotation is not None:
            return [int(self.config.rotation)] * len(images)
        if not self.detects:
            return [0] * len(images)
        return [90 if self._quarter(img) else 0 for img in images]

    def _quarter(self, image: np.ndarray) -> bool:
        try:
            return quarter_turned(image, self.config.profile_ratio)
        except Exception:  # an odd image must not fail its page: it is read as loaded
            log.warning("orientation: no profile for an image of shape %s; read as loaded",
                        image.shape, exc_info=log.isEnabledFor(logging.DEBUG))
            return False

    def upside_down(self, crops: Crops, reads: Sequence[Read], count: int) -> list[bool]:
        """For each of the ``count`` images of a batch, whether it reads better turned 180
        (always ``False`` when not detecting or with no recognizer).

        The page's ``sample`` widest crops that were read are cut to their first
        ``piece_aspect`` heights (a few words: a whole line costs a second read of the
        page's longest crops) and read as they are and turned 180, in one call."""
        out = [False] * count
        if not self.detects or self.recognizer is None:
            return out
        aspect = self.config.piece_aspect
        for n in range(count):
            mine = [k for k, o in enumerate(crops.owners) if o == n
                    and isinstance(reads[k], Recognition)]
            mine.sort(key=lambda k: -crops.images[k].shape[1])
            pieces = [crops.images[k][:, : max(1, int(aspect * crops.images[k].shape[0]))]
                      for k in mine[: self.config.sample]]
            if not pieces:
                continue
            try:
                again = self.recognizer.predict([*pieces, *(np.rot90(p, 2) for p in pieces)])
            except Exception:
                log.exception("orientation: reading turned crops failed; page kept as is")
                continue
            before = float(np.mean([read_confidence(r) for r in again[: len(pieces)]]))
            after = float(np.mean([read_confidence(r) for r in again[len(pieces):]]))
            out[n] = after >= before + self.config.flip_margin
        return out


# --- page geometry --------------------------------------------------------------------------

class FindPage:
    """Step -1 (before orientation): the page in a photo, so that it is read warped upright
    (:func:`pipeline.page_geometry.find_page`); a scan or a crop that already is the page
    gives ``None`` and is read as loaded. Words read on the upright page are put back in the
    photo by :func:`lines_from_page`.

    Args:
        config: the ``page_geometry`` section; off by default.
    """

    def __init__(self, config: PageGeometryConfig | None = None):
        self.config = config or PageGeometryConfig()

    def __call__(self, images: Sequence[np.ndarray]) -> list[PageWarp | None]:
        """The page found in each image, or ``None`` (always ``None`` when off)."""
        if not self.config.enabled:
            return [None] * len(images)
        return [self._find(img) for img in images]

    def _find(self, image: np.ndarray) -> PageWarp | None:
        try:
            return find_page(image, self.config)
        except Exception:  # an odd image must not fail its page: it is read as loaded
            log.warning("page geometry: no page looked for in an image of shape %s",
                        image.shape, exc_info=log.isEnabledFor(logging.DEBUG))
            return None


def light_on_dark(image: np.ndarray, config: PolarityConfig) -> bool:
    """Whether ``image`` holds light writing on a dark ground.

    On a grey copy (long side ``config.side``) each pixel is compared with the median of a
    window around it (the local ground: paper, board, a table beside the page); the image
    counts when pixels ``delta`` lighter than their ground outnumber those ``delta`` darker
    by ``min_ratio``. Dark ink on paper gives a ratio near 0, light writing on black a
    large one.
    """
    gray = gray_copy(image, config.side)
    diff = from_ground(gray, max(3, round(max(gray.shape[:2]) * config.window)))
    lighter = int((diff > config.delta).sum())
    darker = int((diff < -config.delta).sum())
    return lighter > config.min_ratio * (darker + 1)


class FixPolarity:
    """Step -2 (first): light writing on a dark ground is read inverted
    (:func:`light_on_dark`); other images pass unchanged.

    Args:
        config: the ``polarity`` section; off by default.
    """

    def __init__(self, config: PolarityConfig | None = None):
        self.config = config or PolarityConfig()

    def __call__(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [self.fix(img) for img in images]

    def fix(self, image: np.ndarray) -> np.ndarray:
        """``image`` inverted if it holds light writing on a dark ground, else itself."""
        if not self.config.enabled:
            return image
        try:
            light = light_on_dark(image, self.config)
        except Exception:  # an odd image must not fail its page: it is read as loaded
            log.warning("polarity: not judged for an image of shape %s", image.shape,
                        exc_info=log.isEnabledFor(logging.DEBUG))
            return image
        return 255 - image if light else image


def _box_from_page(box: Sequence[float], warp: PageWarp) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    pts = warp.to_image(np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64))
    (a, b), (c, d) = pts.min(axis=0), pts.max(axis=0)
    return float(a), float(b), float(c), float(d)


def lines_from_page(lines: Sequence[Line], warp: PageWarp | None) -> tuple[Line, ...]:
    """Lines read on a page warped upright with their polygons, and the boxes of their words
    and characters (around the boxes' warped corners), put back in the photo's pixels; the
    order of a polygon's vertices is kept."""
    if warp is None:
        return tuple(lines)

    def word(w: Word) -> Word:
        return replace(
            w, polygon=points_tuple(warp.to_image(np.asarray(w.polygon))),
            bbox=tuple(round(v, 2) for v in _box_from_page(w.bbox, warp)),
            chars=None if w.chars is None else tuple(
                replace(c, bbox=_box_from_page(c.bbox, warp)) for c in w.chars),
            read_chars=None)

    return tuple(replace(line, polygon=points_tuple(warp.to_image(np.asarray(line.polygon))),
                         words=tuple(word(w) for w in line.words)) for line in lines)

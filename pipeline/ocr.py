"""``OcrPipeline``: detector + recognizer + assembler, from images to ordered :class:`Page` s.

    from pipeline.ocr import OcrPipeline
    ocr = OcrPipeline.from_preset("documents")
    pages = ocr.run(["page.jpg"])           # pages[0].text, pages[0].lines[0].words[0].polygon

Modes follow from the parts given: both → ``ocr``; no recognizer → ``detect`` (regions only,
empty text); no detector → ``recognize`` (every image is one crop).

After loading, a batch of images goes through the steps of ``pipeline.steps`` (detect →
clean regions → crop → read → script lock → words) and the :class:`Assembler`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from detection.types import Detector
from pipeline.assembler import Assembler
from pipeline.images import (
    DEFAULT_PDF_DPI,
    MAX_PIXELS,
    ImageLoadError,
    ImagePage,
    image_pages,
    load_image,
)
from pipeline.languages import forbidden_letters
from pipeline.page_geometry import PageWarp
from pipeline.presets import (
    CropsConfig,
    OrientationConfig,
    PageGeometryConfig,
    PipelineConfig,
    PolarityConfig,
    RegionsConfig,
    ScriptLockConfig,
    load_pipeline_config,
)
from pipeline.results import Page, Word, points_tuple
from pipeline.steps import (
    CleanRegions,
    CropRegions,
    DetectOrientation,
    DetectRegions,
    Failed,
    FindPage,
    FixPolarity,
    ReadCrops,
    ScriptLock,
    lines_from_page,
    lines_to_turned,
    page_words,
    turn_upright,
)
from recognition.types import Recognizer

log = logging.getLogger(__name__)

Mode = Literal["ocr", "detect", "recognize"]
ImageInput = np.ndarray | str | Path


def describe(component: object | None, missing: str) -> str:
    """What a stage loaded: its ``.description`` or its class name; ``missing`` if absent."""
    if component is None:
        return missing
    return str(getattr(component, "description", type(component).__name__))


def _with_second_reader(first: Recognizer, config: PipelineConfig, device: str) -> Recognizer:
    """``first`` and the ``second_reader`` section's recognizer as one
    (:class:`pipeline.second_reader.SecondReader`), on the config's backend (ONNX Runtime:
    the second graph is exported to the cache on first use, never read from ``onnx_dir``)."""
    from pipeline.second_reader import SecondReader

    section = config.second_reader
    if config.backend == "onnxruntime":
        from pipeline.onnx_backend import build_onnx_recognizer

        second = build_onnx_recognizer(
            config.model_copy(update={"recognizer": section.recognizer, "onnx_dir": None}),
            device)
    else:
        from recognition.factory import build_recognizer

        second = build_recognizer(
            section.recognizer.model_copy(update={"batch_size": config.batch_size}), device)
    return SecondReader(first, second, section.below, section.narrower_than)


class OcrPipeline:
    """The composed OCR system.

    Args:
        detector: anything with ``predict(images) -> list[list[Region]]``, or ``None`` to
            treat every image as one crop (``recognize`` mode).
        recognizer: anything with ``predict(crops) -> list[Recognition]``, or ``None`` to
            return regions with empty text (``detect`` mode).
        assembler: cleans the text of read words and orders them into lines; default page
            layout.
        images_per_batch: images detected together; all their crops are read together.
        max_pixels: larger images are refused (decompression-bomb guard).
        regions: which regions are read (line strips, clean-up of detected regions); by
            default every detected region but ``line`` ones, as found.
        crops: how regions are cropped; by default exactly along their polygons.
        script_lock: re-reading of minority-script words; off by default.
        orientation: finding pages turned 90, 180 or 270 (read upright, reported in
            ``Page.rotation``); off by default.
        page_geometry: finding the page in a photo (read warped upright, its corners
            reported in ``Page.page_quad``); off by default.
        polarity: light writing on a dark ground read inverted; off by default.
        forbid: letters never read (a run restricted to some languages,
            :func:`pipeline.languages.forbidden_letters`).
        pdf_dpi: resolution PDF pages are rendered at (each when it is read).
    """

    def __init__(self, detector: Detector | None, recognizer: Recognizer | None,
                 assembler: Assembler | None = None, images_per_batch: int = 4,
                 max_pixels: int = MAX_PIXELS, *, regions: RegionsConfig | None = None,
                 crops: CropsConfig | None = None,
                 script_lock: ScriptLockConfig | None = None,
                 orientation: OrientationConfig | None = None,
                 page_geometry: PageGeometryConfig | None = None, forbid: str = "",
                 pdf_dpi: float = DEFAULT_PDF_DPI, polarity: PolarityConfig | None = None):
        if detector is None and recognizer is None:
            raise ValueError("OcrPipeline needs a detector, a recognizer, or both")
        self.detector = detector
        self.recognizer = recognizer
        self.assembler = assembler or Assembler()
        self.images_per_batch = max(1, images_per_batch)
        self.max_pixels = max_pixels
        self.pdf_dpi = pdf_dpi
        regions = regions or RegionsConfig()
        # The steps after loading, in order (see _words); each is usable alone.
        self.detect = DetectRegions(detector, regions.line_image_aspect, regions.line_image_ink,
                                     regions.crop_image)
        self.clean = CleanRegions(regions, gutter_gap=self.assembler.config.layout.gutter_gap)
        crops = crops or CropsConfig()
        self.crop = CropRegions(crops.pad, crops.level)
        self.read = ReadCrops(recognizer)
        self.script_lock = ScriptLock(recognizer, script_lock, forbid)
        self.orient = DetectOrientation(recognizer, orientation)
        self.find_page = FindPage(page_geometry)
        self.polarity = FixPolarity(polarity)

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
        if config.backend == "onnxruntime":  # same stages, networks run by ONNX Runtime
            from pipeline.onnx_backend import build_onnx_stages

            detector, recognizer = build_onnx_stages(config, device, mode)
        if config.backend == "torch" and mode in ("ocr", "detect"):
            from detection.factory import build_detector

            detector = build_detector(config.detector, device)
        if config.backend == "torch" and mode in ("ocr", "recognize"):
            from recognition.factory import build_recognizer

            rec_cfg = config.recognizer.model_copy(update={"batch_size": config.batch_size})
            recognizer = build_recognizer(rec_cfg, device)
        if recognizer is not None and config.second_reader.enabled:
            recognizer = _with_second_reader(recognizer, config, device)
        if recognizer is not None and config.crops.both_polarities:
            from pipeline.second_reader import BothPolarities

            recognizer = BothPolarities(recognizer)
        per_batch = config.batch_size if mode == "recognize" else 4
        return cls(detector, recognizer, Assembler(config.assembler), images_per_batch=per_batch,
                   regions=config.regions, crops=config.crops, script_lock=config.script_lock,
                   orientation=config.orientation, page_geometry=config.page_geometry,
                   forbid=forbidden_letters(config.assembler.text.languages),
                   polarity=config.polarity)

    @classmethod
    def from_preset(cls, name: str = "documents", device: str | None = None,
                    overrides: Iterable[str] = (), mode: Mode = "ocr") -> OcrPipeline:
        """Build a shipped preset (``documents``, ``plates``) with ``key=value`` overrides."""
        return cls.from_config(load_pipeline_config(name, None, overrides), device, mode)

    def run(self, images: Sequence[ImageInput | ImagePage]) -> list[Page]:
        """OCR images (paths, pages of files, or RGB ``uint8`` arrays): one :class:`Page` per
        page of each input, as :meth:`iter_pages`; a failed one gives ``Page.error``."""
        return [page for page, _ in self.iter_pages(images)]

    def iter_pages(self, images: Iterable[ImageInput | ImagePage]
                   ) -> Iterator[tuple[Page, np.ndarray | None]]:
        """Yield ``(page, image)`` per page of the inputs in order, ``images_per_batch`` at a
        time.

        A path gives each page of its file (a multi-page TIFF or a PDF several, numbered in
        ``Page.page``; :func:`pipeline.images.image_pages`), an :class:`ImagePage` that one
        page, an array one page named ``<array N>``.
        """
        chunk: list[tuple[str, ImageInput | ImagePage]] = []
        for n, item in enumerate(images):
            if isinstance(item, np.ndarray):
                pages: list[tuple[str, ImageInput | ImagePage]] = [(f"<array {n}>", item)]
            elif isinstance(item, ImagePage):
                pages = [(str(item.path), item)]
            else:
                pages = [(str(item), page) for page in image_pages(item)]
            for entry in pages:
                chunk.append(entry)
                if len(chunk) >= self.images_per_batch:
                    yield from self.process_batch(chunk)
                    chunk = []
        if chunk:
            yield from self.process_batch(chunk)

    def process_batch(self, items: Sequence[tuple[str, ImageInput | ImagePage]]
                      ) -> list[tuple[Page, np.ndarray | None]]:
        """Load, detect, crop, read and assemble a few images together.

        Args:
            items: ``(name, path, page of a file or array)`` pairs; ``name`` becomes
                ``Page.file``, an :class:`ImagePage`'s number ``Page.page``. A path is read
                from its first page.

        Returns:
            ``(page, image)`` per item, in order; ``image`` is ``None`` when loading failed.
        """
        numbers = [item.page if isinstance(item, ImagePage) else None for _, item in items]
        # Logs name the page of a multi-page file; results keep file and page apart.
        labels = [name if number is None else f"{name} [page {number}]"
                  for (name, _), number in zip(items, numbers, strict=True)]
        loaded: list[np.ndarray | None] = []
        errors: list[str | None] = []
        for label, (_, item) in zip(labels, items, strict=True):
            try:
                loaded.append(self._load(item))
                errors.append(None)
            except ImageLoadError as exc:
                log.warning("%s: %s", label, exc)
                loaded.append(None)
                errors.append(str(exc))
        ok = [i for i, img in enumerate(loaded) if img is not None]
        words_per_image, turns, warps = self._words([loaded[i] for i in ok],
                                                    [labels[i] for i in ok])
        out: list[tuple[Page, np.ndarray | None]] = []
        for i, ((name, _), number) in enumerate(zip(items, numbers, strict=True)):
            img = loaded[i]
            if img is None:
                out.append((Page.failed(name, errors[i] or "unreadable", page=number), None))
                continue
            h, w = img.shape[:2]
            words = words_per_image[ok.index(i)]
            if isinstance(words, str):
                out.append((Page.failed(name, words, w, h, page=number), img))
                continue
            turn, warp = turns[ok.index(i)], warps[ok.index(i)]
            read_shape = img.shape if warp is None else (warp.size[1], warp.size[0])
            lines = lines_to_turned(self.assembler.assemble(words), turn, read_shape)
            lines = lines_from_page(lines, warp)
            quad = None if warp is None else points_tuple(warp.quad)
            out.append((Page(name, w, h, lines, page=number, rotation=turn, page_quad=quad),
                        img))
        return out

    def _load(self, item: ImageInput | ImagePage) -> np.ndarray:
        if isinstance(item, ImagePage):
            return load_image(item.path, self.max_pixels, item.page, self.pdf_dpi)
        if isinstance(item, np.ndarray):
            if item.ndim == 2:
                item = np.repeat(item[:, :, None], 3, axis=2)
            if item.ndim != 3 or item.shape[2] not in (3, 4) or item.size == 0:
                raise ImageLoadError(f"array of shape {item.shape} is not an RGB image")
            if item.shape[2] == 4:  # RGBA: transparent pixels on white, as files are read
                alpha = item[:, :, 3:4].astype(np.float32) / 255.0
                rgb = item[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
                return np.ascontiguousarray(np.rint(rgb), dtype=np.uint8)
            return np.ascontiguousarray(item, dtype=np.uint8)
        return load_image(item, self.max_pixels, pdf_dpi=self.pdf_dpi)

    def _words(self, images: list[np.ndarray], names: list[str]
               ) -> tuple[list[list[Word] | Failed], list[int], list[PageWarp | None]]:
        """Words per image, or an error message for an image whose stage failed, how far
        each image was found turned (its words lie in the image turned upright), and the
        page found in each photo (its words lie in the page warped upright, then turned):
        the steps of ``pipeline.steps`` in order (polarity, page, orientation, detect, clean, crop,
        read, script lock, words; a page found upside down is read again turned 180)."""
        if not images:
            return [], [], []
        # a line strip or a crop (recognize mode) is read as it is (the readers judge a
        # crop's polarity themselves)
        as_loaded = [self.detector is None or self.detect.is_line_strip(img) for img in images]
        images = [img if keep else self.polarity.fix(img)
                  for img, keep in zip(images, as_loaded, strict=True)]
        warps = [None if keep else warp
                 for keep, warp in zip(as_loaded, self.find_page(images), strict=True)]
        images = [img if warp is None else warp.rectify(img)
                  for img, warp in zip(images, warps, strict=True)]
        turns = self.orient.quarters(images)
        if self.orient.detects:  # a line strip or a crop (recognize mode) is read as it is
            turns = [0 if keep else t for keep, t in zip(as_loaded, turns, strict=True)]
        words = self._read_upright(images, names, turns, flip=self.detector is not None)
        return words, turns, warps

    def _read_upright(self, images: list[np.ndarray], names: list[str], turns: list[int],
                      flip: bool) -> list[list[Word] | Failed]:
        """The words of ``images`` each turned upright by ``turns`` (updated in place when
        ``flip`` finds a page upside down: it is read again turned 180 more)."""
        upright = [turn_upright(img, t) for img, t in zip(images, turns, strict=True)]
        found = self.detect(upright, names)
        found = [f if isinstance(f, Failed) else self.clean(f, img)
                 for f, img in zip(found, upright, strict=True)]
        crops = self.crop(upright, found, names)
        reads = self.read(crops, names)
        words = page_words(found, self.script_lock(crops, reads, names), crops.quads)
        downs = self.orient.upside_down(crops, reads, len(images)) if flip else []
        redo = [n for n, down in enumerate(downs) if down and not isinstance(words[n], Failed)
                and not self.detect.is_line_strip(images[n])]
        if redo:
            again = [(t + 180) % 360 for t in (turns[n] for n in redo)]
            redone = self._read_upright([images[n] for n in redo], [names[n] for n in redo],
                                        again, flip=False)
            for n, t, w in zip(redo, again, redone, strict=True):
                words[n], turns[n] = w, t
        return words

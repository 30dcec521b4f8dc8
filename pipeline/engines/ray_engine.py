"""The ``ray`` engine of ``pipeline run``: pages read by pipeline copies on a Ray cluster.

The driver lists the pages (and leaves out those ``--resume`` finds done), makes a Ray
dataset of ``(file, page)`` items, one row per group of pages the local engine reads
together (``images_per_batch``), and maps them through :class:`PageReader`, a callable
class: each of its actors builds one :class:`~pipeline.ocr.OcrPipeline` from the same
:class:`PipelineSpec` and reads each group as the local engine does
(:meth:`~pipeline.ocr.OcrPipeline.process_batch`: a bad image is an error entry; the same
groups, so even batch-dependent padding is the same). Results
stream back to the driver in input order as the entries of the results JSON, so the driver
writes the same file as the local engine. Every actor reads files by their path: on a
cluster of several machines the inputs must be on a shared file system (same path
everywhere).

Ray is imported only here, when the engine is used (``pip install -e .[ray]``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.images import DEFAULT_PDF_DPI, ImagePage
from pipeline.ocr import Mode, OcrPipeline
from pipeline.presets import PipelineConfig
from pipeline.results import Page

log = logging.getLogger(__name__)

# A page without a number (a single-page file) travels as 0: Ray columns hold one type.
_NO_PAGE = 0


@dataclass(frozen=True)
class PipelineSpec:
    """What every actor builds its pipeline from (sent to the actors by value).

    Attributes:
        config: the pipeline config, overrides applied.
        device: ``auto`` / ``cpu`` / ``cuda[:N]`` on the actor's machine; default
            ``config.device``.
        mode: ``ocr``, ``detect`` or ``recognize``.
        pdf_dpi: resolution PDF pages are rendered at.
    """

    config: PipelineConfig
    device: str | None = None
    mode: Mode = "ocr"
    pdf_dpi: float = DEFAULT_PDF_DPI

    def build(self) -> OcrPipeline:
        """The pipeline, as ``pipeline run`` builds it for the local engine."""
        ocr = OcrPipeline.from_config(self.config, device=self.device, mode=self.mode)
        ocr.pdf_dpi = self.pdf_dpi
        return ocr


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide the engine runs.

    Attributes:
        address: a running cluster (``auto``: the one ``ray start`` made on this machine,
            ``ray://host:10001``: a remote one), or ``None`` to start a local Ray for this
            run and stop it at the end.
        actors: pipeline copies reading at once (the size of Ray's actor pool).
        cpus_per_actor: CPUs Ray reserves for each copy.
        gpus_per_actor: GPUs Ray reserves for each copy (0: none; the copy then runs on CPU
            unless the config's device says otherwise).
        batch_size: pages read together, as one row of the dataset (the local engine's
            ``images_per_batch``, which makes the groups the same).
    """

    address: str | None = None
    actors: int = 1
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    batch_size: int = 4


class PageReader:
    """The callable class Ray maps batches through: one pipeline per actor.

    Args:
        spec: what to build.
    """

    def __init__(self, spec: PipelineSpec):
        from core.logs import setup_logging

        setup_logging("WARNING")  # a bad image's warning still reaches the driver's log
        self.ocr = spec.build()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Read rows of ``index`` (of the row's first page) / ``files`` / ``pages``, each
        group of pages together; one output row per page: its ``index`` and its results
        entry (``Page.export()`` as JSON)."""
        indices, entries = [], []
        for first, files, numbers in zip(batch["index"], batch["files"], batch["pages"],
                                         strict=True):
            group = [(str(file), ImagePage(Path(str(file)),
                                           None if page == _NO_PAGE else int(page)))
                     for file, page in zip(files, numbers, strict=True)]
            for n, (page, _) in enumerate(self.ocr.process_batch(group)):
                indices.append(int(first) + n)
                entries.append(json.dumps(page.export(), ensure_ascii=False))
        return {"index": np.asarray(indices, dtype=np.int64),
                "entry": np.asarray(entries, dtype=object)}


class RayEngine:
    """Reads pages on Ray behind :meth:`OcrPipeline.iter_pages`' interface, which is what
    ``pipeline run`` steps through.

    Args:
        spec: what each actor builds.
        settings: the cluster and how many actors.
        load_images: also read each page again on the driver and yield it (for ``--viz``);
            otherwise the image is ``None``.
    """

    def __init__(self, spec: PipelineSpec, settings: RaySettings, load_images: bool = False):
        self.spec = spec
        self.settings = settings
        self.load_images = load_images
        self._started = False

    def connect(self) -> None:
        """Connect to ``settings.address``, or start a local Ray (stopped by :meth:`close`);
        a Ray already initialised in this process is used as it is.

        Raises:
            ImportError: Ray is not installed (the ``ray`` extra).
            ConnectionError: no cluster at ``settings.address``.
        """
        import ray

        if ray.is_initialized():
            return
        settings = self.settings
        if settings.address is None:
            # Enough CPUs for the actors even on a small machine; the driver needs none.
            needed = int(np.ceil(settings.actors * settings.cpus_per_actor))
            ray.init(num_cpus=max(os.cpu_count() or 1, needed), include_dashboard=False,
                     logging_level=logging.WARNING)
        else:
            try:
                ray.init(address=settings.address, logging_level=logging.WARNING)
            except Exception as exc:  # Ray words "no running instance" in several ways
                raise ConnectionError(f"cannot connect to the Ray cluster at "
                                      f"{settings.address}: {exc}") from exc
        self._started = True

    def close(self) -> None:
        """Stop the Ray :meth:`connect` started (a cluster it joined keeps running)."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def iter_pages(self, pages: Sequence[ImagePage]
                   ) -> Iterator[tuple[Page, np.ndarray | None]]:
        """Yield ``(page, image)`` per page of ``pages``, in their order; the engine is
        closed when the iteration ends."""
        from pipeline.images import ImageLoadError, load_image

        self.connect()
        try:
            if not pages:
                return
            for page in _stream(pages, self.spec, self.settings):
                image = None
                if self.load_images and page.error is None:
                    try:
                        image = load_image(page.file, page=page.page, pdf_dpi=self.spec.pdf_dpi)
                    except ImageLoadError as exc:  # changed since the actor read it
                        log.warning("%s: cannot draw picture: %s", page.file, exc)
                yield page, image
        finally:
            self.close()


def _stream(pages: Sequence[ImagePage], spec: PipelineSpec, settings: RaySettings
            ) -> Iterator[Page]:
    import ray

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # the results file keeps input order
    context.enable_progress_bars = False  # the driver shows its own
    size = max(1, settings.batch_size)
    items = [{"index": start,
              "files": [str(p.path) for p in pages[start:start + size]],
              "pages": [_NO_PAGE if p.page is None else p.page
                        for p in pages[start:start + size]]}
             for start in range(0, len(pages), size)]
    dataset = ray.data.from_items(items).map_batches(
        PageReader, fn_constructor_args=(spec,), batch_size=1,
        batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=settings.actors),
        num_cpus=settings.cpus_per_actor, num_gpus=settings.gpus_per_actor)
    for row in dataset.iter_rows():
        yield Page.from_dict(json.loads(row["entry"]))

"""``pipeline run``, ``pipeline submit`` and ``pipeline evaluate nto``.

Failures are told apart. What the user asked that cannot be done (a config or option error, a
:class:`core.errors.UsageError` such as a missing weights file) exits 2 with its message.
Anything else that goes wrong is an internal error: exit 1 with ``error: internal error: ...``
and the traceback in the log at ERROR. A bad image is neither: it gets an error entry in the
results and the run goes on (exit 1 at the end).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError

from core.cli import EXIT_FAILED, EXIT_USAGE, SET_HELP, fail
from core.config import ConfigError
from core.errors import UsageError
from pipeline.exports import FORMATS_HELP

if TYPE_CHECKING:
    from pipeline.engines.ray_engine import RayEngine
    from pipeline.exports import PageExporter
    from pipeline.images import ImagePage
    from pipeline.ocr import OcrPipeline
    from pipeline.presets import PipelineConfig
    from pipeline.results import Page
    from pipeline.results_file import ResultsWriter

log = logging.getLogger("pipeline.run")

# What the user can fix: the message says what and where (file, field, option).
USAGE_ERRORS: tuple[type[Exception], ...] = (ConfigError, ValidationError, UsageError)
# pipeline.images.DEFAULT_PDF_DPI, not imported here: that would load numpy, Pillow and
# PDFium for every `pipeline --help`.
PDF_DPI = 300


@contextmanager
def failures_reported(action: str | None = None) -> Iterator[None]:
    """Turn an exception escaping the block into a clean exit.

    Args:
        action: what the block does, prefixed to the message (``could not build ...``).

    A usage error (:data:`USAGE_ERRORS`, subclasses included) exits 2 with its message;
    anything else exits 1 with ``internal error:`` and the exception, its traceback logged at
    ERROR. Exits already decided (``typer.Exit``) pass through.
    """
    prefix = f"{action}: " if action else ""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except USAGE_ERRORS as exc:
        fail(f"{prefix}{exc}", EXIT_USAGE)
    except Exception as exc:
        log.error("internal error: %s%s", prefix, exc, exc_info=True)
        fail(f"internal error: {prefix}{type(exc).__name__}: {exc}", EXIT_FAILED)


class Mode(str, Enum):
    ocr = "ocr"
    detect = "detect"
    recognize = "recognize"


class Rotation(str, Enum):
    auto = "auto"
    r0 = "0"
    r90 = "90"
    r180 = "180"
    r270 = "270"


class Backend(str, Enum):
    torch = "torch"
    onnxruntime = "onnxruntime"


class Engine(str, Enum):
    local = "local"
    ray = "ray"


def run(
    inputs: list[Path] = typer.Argument(..., help="Image files, PDFs or folders (searched "
                                        "recursively)."),
    out: Path = typer.Option(Path("results.json"), "--out", "-o", help="Results JSON to write."),
    preset: str = typer.Option("documents", help="Shipped preset: documents or plates."),
    config: Path | None = typer.Option(None, help="Pipeline YAML config (overrides --preset)."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    mode: Mode = typer.Option(Mode.ocr, help="ocr: full pipeline; detect: regions only; "
                              "recognize: every image is one crop."),
    viz: Path | None = typer.Option(None, help="Write pictures with polygons and text here."),
    device: str | None = typer.Option(None, help="auto, cpu or cuda[:N] (default: config)."),
    batch_size: int | None = typer.Option(None, min=1, help="Recognition batch size."),
    resume: bool = typer.Option(False, help="Skip images (file and page) already done in "
                                "--out."),
    show: bool = typer.Option(False, help="Also print each image's text to stdout."),
    dpi: int = typer.Option(PDF_DPI, min=36, max=1200, help=(
        "Resolution PDF pages are rendered at, one page at a time. At 300 printed pages come "
        "out nearly black-and-white and are read from their ink: on A4 pages of 8-12 pt "
        "text CER 0.002 at 4.2 s/page, against 0.09 at 8.4 s at 200 dpi, 0.003 at 400 "
        "(bench/pdf_dpi.py). A page over the pixel limit (100 megapixels) is rendered at "
        "the highest dpi that fits.")),
    export: str | None = typer.Option(None, help="Also write each page as it finishes: "
                                      + FORMATS_HELP),
    export_dir: Path | None = typer.Option(None, help="Folder for --export files (default: "
                                           "the folder of --out)."),
    backend: Backend | None = typer.Option(
        None, help="What runs the networks: torch, or onnxruntime (exported to ONNX on first "
        "use, or read from the config's onnx_dir). Default: the config's backend (torch)."),
    engine: Engine = typer.Option(Engine.local, help="local: this process reads the pages; "
                                  "ray: pipeline copies on a Ray cluster do (README 'Many "
                                  "machines: Ray'); the results file is the same."),
    ray_address: str | None = typer.Option(None, help="--engine ray: the cluster (auto: the "
                                           "one `ray start` made here; ray://HOST:10001). "
                                           "Default: a local Ray for this run."),
    ray_actors: int = typer.Option(1, min=1, help="--engine ray: pipeline copies at once."),
    ray_cpus: float = typer.Option(1.0, min=0.0, help="--engine ray: CPUs per copy."),
    ray_gpus: float = typer.Option(0.0, min=0.0, help="--engine ray: GPUs per copy."),
    char_boxes: bool = typer.Option(False, "--char-boxes", help="Give each word its "
                                    "characters, each with its box and score ('chars')."),
    rotation: Rotation | None = typer.Option(None, help="auto: find pages turned 90, 180 or "
                                             "270 and read them upright; 0/90/180/270: every "
                                             "page is turned this far clockwise (default: "
                                             "the config's orientation section)."),
    lang: str | None = typer.Option(None, help="Languages of the text, e.g. ru,en (ISO "
                                    "639-1; zh for Chinese plates): other scripts are not "
                                    "read, the lexicon keeps to them, each line's lang is "
                                    "one of them."),
) -> None:
    """OCR images and PDF pages: detect words, read them, order lines, write results JSON."""
    from core.logs import setup_logging
    from pipeline.images import expand_pages
    from pipeline.results_file import entry_key, page_key, read_results

    setup_logging("INFO")
    cfg = _load_config(preset, config, [*set_, *_run_overrides(char_boxes, rotation, lang)],
                       batch_size)
    if backend is not None:
        cfg = cfg.model_copy(update={"backend": backend.value})
    if out.is_dir():
        fail(f"--out {out} is a folder; give the results file's name", EXIT_USAGE)
    exporter = _open_exporter(export, export_dir or out.parent) if export else None
    images = expand_pages(_find_inputs(inputs))  # each page of a multi-page TIFF or a PDF
    previous: list[dict] = []
    if resume and out.exists():
        try:
            previous = read_results(out)["images"]
        except ValueError as exc:
            fail(f"--resume: {exc}", EXIT_USAGE)
    done = {entry_key(e) for e in previous if not e.get("error")}
    todo = [p for p in images if page_key(p.path, p.page) not in done]
    if resume:
        typer.echo(f"resume: {len(images) - len(todo)} of {len(images)} images already in {out}",
                   err=True)
    if ray_address is not None and engine is not Engine.ray:
        fail("--ray-address needs --engine ray", EXIT_USAGE)
    ocr = _build(cfg, device, mode.value)
    ocr.pdf_dpi = dpi
    reader = ocr if engine is Engine.local else _ray_engine(
        cfg, device, mode.value, dpi, ocr.images_per_batch, viz is not None,
        ray_address, ray_actors, ray_cpus, ray_gpus)
    if exporter is not None:  # file names follow the inputs' order, whatever is resumed
        for image in images:
            exporter.claim(image.path, image.page)
    writer = _open_writer(out, {"mode": mode.value, "config": cfg.name, "models": ocr.models},
                          previous)
    try:
        with failures_reported("while reading the images"):
            pages = _process(reader, todo, writer, viz, exporter)
    finally:  # Ctrl-C or a crash still leaves every finished image on disk
        with failures_reported(f"cannot write the results file {out}"):
            writer.flush()
    failed = [p for p in pages if p.error]
    if show:
        for page in pages:
            typer.echo(f"== {page.file}" + (f" (error: {page.error})" if page.error else ""))
            typer.echo(page.text)
    typer.echo(f"{len(pages) - len(failed)} images ok, {len(failed)} failed -> {out}", err=True)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _run_overrides(char_boxes: bool, rotation: Rotation | None, lang: str | None
                   ) -> list[str]:
    """The ``--set`` overrides that ``--char-boxes``, ``--rotation`` and ``--lang`` stand
    for; an unknown language code exits 2 naming it."""
    out = ["assembler.char_boxes=true"] if char_boxes else []
    if rotation is Rotation.auto:
        out += ["orientation.enabled=true", "orientation.rotation=null"]
    elif rotation is not None:
        out += [f"orientation.rotation={rotation.value}"]
    if lang is not None:
        from pipeline.languages import KNOWN_LANGUAGES, unknown_languages

        codes = [c.strip().lower() for c in lang.split(",") if c.strip()]
        unknown = unknown_languages(codes)
        if unknown or not codes:
            fail(f"--lang: unknown language {', '.join(unknown) or repr(lang)}; known: "
                 f"{', '.join(sorted(KNOWN_LANGUAGES))}", EXIT_USAGE)
        out += [f"assembler.text.languages=[{','.join(codes)}]"]
    return out


def _load_config(preset: str, config: Path | None, overrides: Sequence[str],
                 batch_size: int | None) -> PipelineConfig:
    from pipeline.presets import load_pipeline_config

    with failures_reported():
        cfg = load_pipeline_config(preset, config, overrides)
    if batch_size is not None:
        cfg = cfg.model_copy(update={"batch_size": batch_size})
    return cfg


def _find_inputs(inputs: Sequence[Path]) -> list[Path]:
    from pipeline.images import INPUT_EXTENSIONS, find_images

    images, missing = find_images(inputs)
    if missing:
        fail(f"no such file or folder: {', '.join(str(m) for m in missing)}", EXIT_USAGE)
    if not images:
        kinds = ", ".join(sorted(e.lstrip(".") for e in INPUT_EXTENSIONS))
        fail(f"no images found in {', '.join(str(i) for i in inputs)} ({kinds}, any case)",
             EXIT_USAGE)
    return images


def _open_writer(out: Path, meta: dict, previous: list[dict]) -> ResultsWriter:
    """The results writer, its file written once at the start: an --out that cannot be
    written is a usage error before any image is read, not a crash after all of them."""
    from pipeline.results_file import ResultsWriter

    writer = ResultsWriter(out, meta, previous)
    try:
        writer.flush()
    except OSError as exc:
        fail(f"cannot write the results file --out {out}: {exc.strerror or exc}", EXIT_USAGE)
    return writer


def _open_exporter(formats: str, folder: Path) -> PageExporter:
    """The writer of ``--export`` files; a bad format or a folder that cannot be made is a
    usage error before any image is read."""
    from pipeline.exports import PageExporter, parse_formats

    try:
        names = parse_formats(formats)
    except ValueError as exc:
        fail(f"--export: {exc}", EXIT_USAGE)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot make the --export folder {folder}: {exc.strerror or exc}", EXIT_USAGE)
    return PageExporter(folder, names)


def _build(cfg: PipelineConfig, device: str | None, mode: str) -> OcrPipeline:
    from core.device import select_device
    from pipeline.ocr import OcrPipeline

    try:
        select_device(device or cfg.device)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    # A bad config value or a missing weights file is the user's to fix (exit 2); a crash
    # while building (a corrupt checkpoint, a bug) is internal (exit 1, traceback logged).
    with failures_reported(f"could not build the {mode} pipeline from config {cfg.name!r}"):
        ocr = OcrPipeline.from_config(cfg, device=device, mode=mode)  # type: ignore[arg-type]
    for stage, what in ocr.models.items():
        typer.echo(f"{stage}: {what}", err=True)
        if "UNTRAINED" in what:
            typer.echo(f"warning: the {stage} has no trained weights; its output is "
                       "meaningless until you train it or point the config at weights", err=True)
    return ocr


def _ray_engine(cfg: PipelineConfig, device: str | None, mode: str, dpi: int, batch: int,
                load_images: bool, address: str | None, actors: int, cpus: float,
                gpus: float) -> RayEngine:
    """The ``--engine ray`` reader, connected; Ray missing or no cluster at ``address``
    exits 2."""
    from pipeline.engines.ray_engine import PipelineSpec, RayEngine, RaySettings

    spec = PipelineSpec(cfg, device, mode, dpi)  # type: ignore[arg-type]
    engine = RayEngine(spec, RaySettings(address, actors, cpus, gpus, batch), load_images)
    try:
        engine.connect()
    except ImportError as exc:
        fail(f"--engine ray needs Ray: pip install -e '.[ray]' ({exc})", EXIT_USAGE)
    except ConnectionError as exc:
        fail(f"--ray-address: {exc}", EXIT_USAGE)
    return engine


def _process(ocr: OcrPipeline | RayEngine, images: Sequence[ImagePage], writer: ResultsWriter,
             viz: Path | None, exporter: PageExporter | None = None) -> list[Page]:
    from tqdm import tqdm

    taken: set[Path] = set()
    pages = []
    with tqdm(total=len(images), unit="img", desc="ocr", dynamic_ncols=True) as bar:
        for page, image in ocr.iter_pages(images):
            writer.add(page)
            pages.append(page)
            if exporter is not None:
                _export_page(exporter, page)
            if viz is not None and image is not None:
                _save_picture(viz, page, image, taken)
            bar.update(1)
    return pages


def _export_page(exporter: PageExporter, page: Page) -> None:
    """Write one page's --export files; one that fails is logged and the run goes on (the
    results JSON holds the page; ``pipeline export`` can write it again)."""
    try:
        exporter.write(page)
    except OSError as exc:
        log.warning("%s: could not write --export files: %s", page.file, exc)


def _save_picture(viz: Path, page: Page, image, taken: set[Path]) -> None:
    """Draw one page into ``viz``; a picture that fails is logged, the run goes on (the
    results do not depend on it)."""
    from pipeline.viz import save_page_picture, viz_path

    name = page.file
    if page.page is not None:  # scan.tif page 2 -> scan_page2.jpg
        file = Path(page.file)
        name = str(file.with_name(f"{file.stem}_page{page.page}{file.suffix}"))
    try:
        save_page_picture(image, page, viz_path(viz, name, taken))
    except OSError as exc:
        log.warning("%s: could not write picture: %s", name, exc)
    except Exception:
        log.error("%s: could not draw picture (internal error)", name, exc_info=True)


def submit(
    images: Path = typer.Argument(..., help="Folder of test images."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for the submission."),
    preset: str = typer.Option("documents", help="Shipped preset."),
    config: Path | None = typer.Option(None, help="Pipeline YAML config."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    zip_: bool = typer.Option(False, "--zip", help="Also package a submission zip."),
    package: bool = typer.Option(True, help="Write the submission folder (run.py, weights)."),
    docker_image: str = typer.Option("ocr-pipeline:latest", "--image",
                                      help="Docker image named in metadata.json."),
    device: str | None = typer.Option(None, help="auto, cpu or cuda[:N] (default: config)."),
) -> None:
    """Write NTO 'school notebooks' predictions (and a submission folder / zip).

    Writes OUT/predictions.json, OUT/submission/ (metadata.json, run.py, config.yaml,
    weights/, src/) and with --zip OUT/submission.zip.
    """
    from core.logs import setup_logging
    from pipeline.images import expand_pages
    from pipeline.nto import predictions_from_pages
    from pipeline.results_file import write_json_atomic
    from pipeline.submission import package_submission

    setup_logging("INFO")
    cfg = _load_config(preset, config, set_, None)
    paths = expand_pages(_find_inputs([images]))
    ocr = _build(cfg, device, "ocr")
    pages = []
    from tqdm import tqdm

    with failures_reported("while reading the images"):
        for page, _ in tqdm(ocr.iter_pages(paths), total=len(paths), unit="img",
                            desc="submit"):
            if page.error:
                log.warning("%s: %s", page.file, page.error)
            pages.append(page)
    pred_path = out / "predictions.json"
    with failures_reported(f"cannot write {pred_path}"):
        write_json_atomic(pred_path, predictions_from_pages(pages))
    typer.echo(f"predictions: {pred_path} ({len(pages)} images)", err=True)
    if package or zip_:
        with failures_reported("could not package the submission"):
            sub = package_submission(cfg, out / "submission", docker_image, make_zip=zip_)
        typer.echo(f"submission: {sub.folder}" + (f", {sub.zip_path}" if sub.zip_path else ""),
                   err=True)
        for stage, w in sub.weights.items():
            if w is None:
                typer.echo(f"warning: no {stage} weights bundled; it runs UNTRAINED", err=True)
    if any(p.error for p in pages):
        raise typer.Exit(EXIT_FAILED)


def evaluate_nto(
    gt: Path = typer.Option(..., help="COCO annotations.json in the NTO layout."),
    pred: Path = typer.Option(..., help="Predictions JSON in the NTO submission format."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Also write details as JSON."),
) -> None:
    """Compute the NTO metric (CER with polygon matching); lower is better."""
    from pipeline.nto import nto_score, read_ground_truth, read_predictions
    from pipeline.results_file import write_json_atomic

    try:
        truth = read_ground_truth(gt)
        predictions = read_predictions(pred)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    with failures_reported("while scoring"):
        result = nto_score(truth, predictions)
    missing = sum(1 for s in result.images if s.num_pred == 0 and s.num_gt > 0)
    typer.echo(f"images: {len(result.images)}  (without predictions: {missing}, "
               f"predicted but not in gt: {len(result.extra_predictions)})")
    typer.echo(f"NTO CER: {result.score:.4f}")
    if out is not None:
        write_json_atomic(out, result.export())

"""``pipeline serve``: the OCR pipeline as an HTTP service (FastAPI app, served by uvicorn).

The models load once, before the port opens; requests of concurrent clients are read together
in small batches (:mod:`pipeline.serve.batching`). Exit codes as ``pipeline run``: 2 for a bad
option, config or missing weights, 1 for an internal error.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from core.cli import EXIT_USAGE, SET_HELP, fail
from pipeline.cli.run import PDF_DPI, Mode


class LogLevel(str, Enum):
    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


def serve(
    preset: str = typer.Option("documents", help="Shipped preset: documents or plates."),
    config: Path | None = typer.Option(None, help="Pipeline YAML config (overrides --preset)."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    mode: Mode = typer.Option(Mode.ocr, help="ocr: full pipeline; detect: regions only; "
                              "recognize: every image is one crop."),
    device: str | None = typer.Option(None, help="auto, cpu or cuda[:N] (default: config)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every "
                             "interface)."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to listen on."),
    batch_window_ms: float = typer.Option(20.0, min=0, max=10_000, help=(
        "How long a batch waits for requests of other clients after its first; 0 disables "
        "batching (each request is read alone).")),
    max_batch: int = typer.Option(8, min=1, help="Most pages read together in one batch."),
    max_files: int = typer.Option(16, min=1, help="Most files in one request (else 413)."),
    max_pages: int = typer.Option(64, min=1, help="Most pages in one request, PDF and TIFF "
                                  "pages each counted (else 413)."),
    max_request_mb: float = typer.Option(20.0, min=0.001, help="Largest request body in MB "
                                         "(else 413)."),
    max_pixels: int = typer.Option(100_000_000, min=1, help="Largest image in pixels (else "
                                   "413); a larger PDF page is rendered at a lower dpi."),
    dpi: int = typer.Option(PDF_DPI, min=36, max=1200, help="Resolution PDF pages are "
                            "rendered at."),
    log_level: LogLevel = typer.Option(LogLevel.info, help="uvicorn's log level."),
) -> None:
    """Serve OCR over HTTP: POST /ocr (multipart field 'file'), GET /health, a page at /."""
    try:
        import uvicorn

        from pipeline.serve import ServeLimits, create_app
    except ImportError as exc:
        fail(f"pipeline serve needs the 'serve' extra (pip install -e '.[serve]'): {exc}",
             EXIT_USAGE)
    from core.logs import setup_logging
    from pipeline.cli.run import _build, _load_config

    setup_logging("INFO")
    cfg = _load_config(preset, config, set_, None)
    ocr = _build(cfg, device, mode.value)
    ocr.pdf_dpi = dpi
    ocr.max_pixels = max_pixels
    limits = ServeLimits(max_request_bytes=int(max_request_mb * 1024 * 1024),
                         max_files=max_files, max_pages=max_pages, max_pixels=max_pixels)
    app = create_app(ocr, config_name=cfg.name, window_ms=batch_window_ms,
                     max_batch=max_batch, limits=limits)
    typer.echo(f"serving {cfg.name} on http://{host}:{port}/ (batch window "
               f"{batch_window_ms:g} ms, max batch {max_batch})", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level.value)

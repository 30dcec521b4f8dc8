"""The FastAPI app of ``pipeline serve``: ``GET /health``, ``POST /ocr`` and the page at ``/``.

    from pipeline.ocr import OcrPipeline
    from pipeline.serve import create_app
    app = create_app(OcrPipeline.from_preset("plates"), config_name="plates")
    # uvicorn.run(app, port=8000)

``POST /ocr`` takes one or more images or PDFs as the multipart field ``file`` (repeated) and
answers the results JSON of ``pipeline run`` (``{"version", "mode", "config", "models",
"images": [...]}``), one entry per page in upload order, ``file`` being the upload's name. A
file that cannot be read (corrupt bytes, an empty file, a broken PDF) is an error entry, as
in ``pipeline run``. The request as a whole is refused, before anything is read, with a JSON
``{"detail": message}``:

- 413 when it is over a limit of :class:`ServeLimits` (bytes, files, pages, or pixels of an
  image: its size is read from the header);
- 415 when a file is neither an image nor a PDF by its extension or, without a known
  extension, its content type (``notes.txt`` as ``text/plain``);
- 422 when the body is not a multipart form or has no file in ``file``.

Uploads are written to a temporary folder (the loaders read files; PDF pages are rendered
from a file one at a time) that is removed once the request's pages are read.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from pipeline.images import (
    IMAGE_EXTENSIONS,
    PDF_EXTENSIONS,
    ImagePage,
    _pil_open,
    image_pages,
)
from pipeline.ocr import OcrPipeline
from pipeline.results_file import RESULTS_VERSION
from pipeline.serve.batching import BatchingWorker, PageItem

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
FIELD = "file"
MB = 1024 * 1024


@dataclass(frozen=True)
class ServeLimits:
    """What one ``POST /ocr`` may send; more is answered 413.

    Attributes:
        max_request_bytes: the whole request body.
        max_files: uploads in the ``file`` field.
        max_pages: pages of all uploads together (a PDF or multi-page TIFF counts each).
        max_pixels: pixels of one image, read from its header; ``None``: the pipeline's
            ``max_pixels``. PDF pages are not refused: one over the limit is rendered at
            the highest resolution that fits, as in ``pipeline run``.
    """

    max_request_bytes: int = 20 * MB
    max_files: int = 16
    max_pages: int = 64
    max_pixels: int | None = None


class _BodyTooLarge(Exception):
    pass


def upload_kind(filename: str, content_type: str | None) -> str | None:
    """``"image"``, ``"pdf"``, or ``None`` for anything else (answered 415).

    The extension decides, as ``pipeline run`` finds files; a name without a known extension
    is judged by its content type (``image/*``, ``application/pdf``).
    """
    suffix = Path(filename).suffix.lower()
    if suffix in PDF_EXTENSIONS:
        return "pdf"
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype == "application/pdf":
        return "pdf"
    if ctype.startswith("image/"):
        return "image"
    return None


def create_app(ocr: OcrPipeline, *, config_name: str = "custom", window_ms: float = 20.0,
               max_batch: int = 8, limits: ServeLimits | None = None) -> FastAPI:
    """The service around one loaded pipeline.

    Args:
        ocr: the pipeline, built once; its ``pdf_dpi`` and ``max_pixels`` apply.
        config_name: the preset or config name reported by ``/health`` and in results.
        window_ms: how long the worker waits to batch requests of other clients with the
            first one; 0 disables batching (each request is read alone).
        max_batch: most pages read in one batch.
        limits: per-request limits (:class:`ServeLimits`).

    Returns:
        The app; its lifespan starts and stops the batching worker (it also starts on the
        first request).
    """
    limits = limits or ServeLimits()
    max_pixels = limits.max_pixels or ocr.max_pixels
    worker = BatchingWorker(ocr, window_ms / 1000.0, max_batch)
    meta = {"version": RESULTS_VERSION, "mode": ocr.mode, "config": config_name,
            "models": ocr.models}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncGenerator[None, None]:
        worker.start()
        try:
            yield
        finally:
            await asyncio.to_thread(worker.stop)

    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN, and nothing here may
    # download at run time; the schema stays at /openapi.json.
    app = FastAPI(title="ocr-pipeline", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="OCR of images and PDF pages; see the README, 'HTTP service'.")
    app.state.worker = worker
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", exc, exc_info=exc)
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}: {exc}"}, 500)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/health")
    async def health() -> JSONResponse:
        """Whether the service is up (503 when its worker is not running), and what it runs."""
        body = {"status": "ok" if worker.running else "worker not running",
                "preset": config_name, "mode": ocr.mode,
                "models": ocr.models,
                "batching": {"window_ms": window_ms, "max_batch": max_batch,
                             "batches": worker.batches, "pages": worker.pages},
                "limits": {**asdict(limits), "max_pixels": max_pixels}}
        return JSONResponse(body, 200 if worker.running else 503)

    @app.post("/ocr", openapi_extra=_OPENAPI_UPLOAD)
    async def ocr_files(request: Request) -> JSONResponse:
        """OCR the uploads of field ``file``: the results JSON of ``pipeline run``."""
        form = await _read_form(request, limits)
        try:
            uploads = _uploads(form, limits)
            folder = tempfile.TemporaryDirectory(prefix="ocr-serve-")
            try:
                items = await asyncio.to_thread(_store, uploads, Path(folder.name), limits,
                                                max_pixels)
                future = worker.submit(items)
            except BaseException:
                folder.cleanup()
                raise
            # Removed when the pages are read, even if the client has gone away meanwhile.
            future.add_done_callback(lambda _: folder.cleanup())
            pages = await asyncio.wrap_future(future)
        finally:
            await form.close()
        # Plain JSON already: no response model to validate it against again.
        return JSONResponse({**meta, "images": [page.export() for page in pages]})

    return app


async def _read_form(request: Request, limits: ServeLimits) -> FormData:
    """The multipart form of a request, at most ``limits.max_request_bytes`` read."""
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise HTTPException(422, f"send the files as multipart/form-data in the field "
                            f"'{FIELD}' (repeated for several); got content type "
                            f"{ctype or 'none'!r}")
    too_large = (f"request too large: more than {_mb(limits.max_request_bytes)} "
                 f"(limit {limits.max_request_bytes} bytes)")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limits.max_request_bytes:
        raise HTTPException(413, too_large)

    async def body() -> AsyncGenerator[bytes, None]:  # a missing or false length is no way in
        read = 0
        async for chunk in request.stream():
            read += len(chunk)
            if read > limits.max_request_bytes:
                raise _BodyTooLarge
            yield chunk

    parser = MultiPartParser(request.headers, body(), max_files=limits.max_files,
                             max_fields=100)
    try:
        return await parser.parse()
    except _BodyTooLarge:
        raise HTTPException(413, too_large) from None
    except MultiPartException as exc:
        if "Too many files" in exc.message:
            raise HTTPException(413, _too_many_files(limits)) from None
        raise HTTPException(422, f"bad multipart form: {exc.message}") from None


def _uploads(form: FormData, limits: ServeLimits) -> list[UploadFile]:
    """The files of field ``file``, each an image or a PDF; else 413, 415 or 422."""
    values = form.getlist(FIELD)
    if not values:
        raise HTTPException(422, f"no file: send images or PDFs in the multipart field "
                            f"'{FIELD}' (got fields: {', '.join(form.keys()) or 'none'})")
    uploads = [v for v in values if isinstance(v, UploadFile)]
    if len(uploads) != len(values):
        raise HTTPException(422, f"the field '{FIELD}' must hold file uploads, not text")
    if len(uploads) > limits.max_files:
        raise HTTPException(413, _too_many_files(limits))
    for n, upload in enumerate(uploads):
        if upload_kind(upload.filename or "", upload.content_type) is None:
            raise HTTPException(415, f"{_name(upload, n)}: not an image or a PDF (content "
                                f"type {upload.content_type or 'none'!r}); send JPEG, PNG, "
                                "TIFF, BMP, WebP, GIF or PDF files")
    return uploads


def _store(uploads: list[UploadFile], folder: Path, limits: ServeLimits,
           max_pixels: int) -> list[PageItem]:
    """Write the uploads into ``folder`` and list their pages; 413 for an image over the
    pixel limit or a request over the page limit."""
    items: list[PageItem] = []
    for n, upload in enumerate(uploads):
        name = _name(upload, n)
        kind = upload_kind(name, upload.content_type)
        suffix = ".pdf" if kind == "pdf" else Path(name).suffix.lower()
        if suffix not in IMAGE_EXTENSIONS | PDF_EXTENSIONS:
            suffix = ""
        # A folder per upload keeps clients' names (any characters, repeated) out of paths.
        path = folder / str(n) / f"upload{suffix}"
        path.parent.mkdir()
        upload.file.seek(0)
        with open(path, "wb") as fh:
            shutil.copyfileobj(upload.file, fh)
        if kind == "image":
            _check_pixels(path, name, max_pixels)
        pages: list[ImagePage] = image_pages(path)
        items.extend((name, page) for page in pages)
        if len(items) > limits.max_pages:
            raise HTTPException(413, f"too many pages: more than {limits.max_pages} in one "
                                "request (PDF and TIFF pages count each); send fewer")
    return items


def _check_pixels(path: Path, name: str, max_pixels: int) -> None:
    """413 for an image whose header says it is over ``max_pixels``; an unreadable one
    passes (reading it gives its error entry)."""
    try:
        with _pil_open()(path) as img:
            w, h = img.size
    except Exception:
        return
    if w * h > max_pixels:
        raise HTTPException(413, f"{name}: image too large: {w}x{h} = {w * h} pixels > limit "
                            f"{max_pixels}")


def _name(upload: UploadFile, n: int) -> str:
    return upload.filename or f"upload {n + 1}"


def _too_many_files(limits: ServeLimits) -> str:
    return (f"too many files: more than {limits.max_files} in one request; send them in "
            "several requests")


def _mb(n: int) -> str:
    return f"{n / MB:g} MB"


_OPENAPI_UPLOAD: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": [FIELD],
            "properties": {FIELD: {"type": "array",
                                   "items": {"type": "string", "format": "binary"}}}}}},
    },
}

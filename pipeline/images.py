"""Finding input images and loading them robustly as RGB ``uint8`` arrays.

A multi-page TIFF and a PDF document are several pages: :func:`image_pages` lists them and
:func:`load_image` reads one (a PDF page is rendered by PDFium, through ``pypdfium2``, when it
is read, so a long PDF never sits in memory as images). Every other file is one page; an
animated GIF, WebP or PNG is read from its first frame.
"""

from __future__ import annotations

import logging
import math
import os
import re
import stat
import sys
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp",
                              ".gif"})
# PDF documents are found and read by their extension: a PDF under an image's name stays
# "not an image", so that a mislabelled file is noticed.
PDF_EXTENSIONS = frozenset({".pdf"})
INPUT_EXTENSIONS = IMAGE_EXTENSIONS | PDF_EXTENSIONS
# 300 dpi: a printed page renders nearly black-and-white (anti-aliased edges are a small
# share of its pixels), so the documents preset reads it from its ink (detection/ink.py)
# instead of with the learned detector: bench/pdf_dpi.py, A4 pages of 8-12 pt text, CER
# 0.002 at 4.2 s per page, against 0.09 at 8.4 s at 200 dpi and 0.003 at 4.4 s at 400 dpi.
DEFAULT_PDF_DPI = 300
# Formats whose frames are pages of a document; other formats' extra frames are animation.
MULTI_PAGE_FORMATS = frozenset({"TIFF"})
# 100 megapixels: a 10000 x 10000 scan still loads; decompression bombs do not.
MAX_PIXELS = 100_000_000
_GRAY_DEEP_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})


class ImageLoadError(Exception):
    """An image file could not be read; the message says why."""


@dataclass(frozen=True)
class ImagePage:
    """One page of an input file.

    Attributes:
        path: the file as given or found.
        page: 1-based page number in a multi-page file (TIFF, PDF), ``None`` for a
            single-page file.
    """

    path: Path
    page: int | None = None


def find_images(inputs: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and folders (recursively) into image paths.

    Args:
        inputs: image files or folders. A path given explicitly is kept whatever it is (any
            extension, a broken link, a FIFO): loading decides, and says why it fails. From
            folders every entry with an image extension (any case) that is not a folder is
            kept, readable or not, so that a bad file gets an error instead of vanishing; so is
            every ``.pdf`` file.
            Sub-folders are searched whatever their names; links to folders are not followed.

    Returns:
        ``(images, missing)``: images sorted per input in path order, each absolute path once,
        and the inputs that do not exist.
    """
    images: list[Path] = []
    missing: list[Path] = []
    seen: set[str] = set()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = _files_under(path)
        elif os.path.lexists(path):
            found = [path]
        else:
            missing.append(path)
            continue
        for p in found:
            # The absolute path, not the link target: a link is a file of its own (and
            # results are keyed by it), but a folder and a file in it name the file once.
            key = os.path.normcase(os.path.abspath(p))
            if key not in seen:
                seen.add(key)
                images.append(p)
    return images, missing


def _files_under(folder: Path) -> list[Path]:
    def report(exc: OSError) -> None:
        log.warning("cannot list folder %s: %s; images in it are not read",
                    exc.filename, exc.strerror or exc)

    found = []
    for root, _, files in os.walk(folder, onerror=report):
        found.extend(Path(root) / name for name in files
                     if os.path.splitext(name)[1].lower() in INPUT_EXTENSIONS)
    return sorted(found)


def image_pages(path: str | Path) -> list[ImagePage]:
    """The pages of one input file.

    Returns:
        ``ImagePage(path, 1)`` … ``ImagePage(path, n)`` for a TIFF of ``n > 1`` pages and for
        a PDF of ``n >= 1`` pages (only counted here, never rendered), else
        ``[ImagePage(path)]``. A file that cannot be opened is one page: loading it gives
        the error.
    """
    path = Path(path)
    if is_pdf(path):
        n = _pdf_page_count(path)
        return [ImagePage(path, k) for k in range(1, n + 1)] if n else [ImagePage(path)]
    try:
        with _open_regular(path) as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _pil_open()(fh) as img:
                n = int(getattr(img, "n_frames", 1)) if img.format in MULTI_PAGE_FORMATS else 1
    except Exception:  # whatever it is, load_image reports it for the file
        return [ImagePage(path)]
    if n <= 1:
        return [ImagePage(path)]
    return [ImagePage(path, k) for k in range(1, n + 1)]


def expand_pages(paths: Iterable[str | Path]) -> list[ImagePage]:
    """:func:`image_pages` of each path, in order."""
    return [page for path in paths for page in image_pages(path)]


def is_pdf(path: str | Path) -> bool:
    """Whether a file is read as a PDF document: its extension is ``.pdf`` (any case)."""
    return Path(path).suffix.lower() in PDF_EXTENSIONS


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS,
               page: int | None = None, pdf_dpi: float = DEFAULT_PDF_DPI) -> np.ndarray:
    """Read an image as an ``(H, W, 3)`` RGB ``uint8`` array, EXIF orientation applied.

    Grayscale, 16-bit, float, CMYK and bilevel images are converted; transparent pixels
    (RGBA, LA, a palette or grey / RGB colour key with transparency) are composited on white.
    A PDF page is rendered on white at ``pdf_dpi`` (its ``/Rotate`` applied).

    Args:
        path: the file.
        max_pixels: larger images (or pages) are refused. A PDF page that would be larger
            at ``pdf_dpi`` is rendered at the highest resolution that fits instead (a
            warning in the log says so): a poster-sized page is still read.
        page: 1-based page of a multi-page TIFF or a PDF (see :func:`image_pages`); ``None``
            reads the first page, or the first frame of an animated file.
        pdf_dpi: dots per inch a PDF page is rendered at (ignored for images).

    Raises:
        ImageLoadError: empty, missing, unreadable, truncated or corrupt files, non-images,
            links to nothing, FIFOs and other non-files, images over ``max_pixels`` pixels
            (decompression bombs), a page the file does not have, an encrypted or broken
            PDF; the message says why.
    """
    path = Path(path)
    with _open_regular(path) as fh:
        if is_pdf(path):
            return _render_pdf_page(fh, path, page or 1, pdf_dpi, max_pixels)
        return _decode(fh, max_pixels, page)


def _open_regular(path: Path) -> BinaryIO:
    """Open a non-empty regular file for reading; anything else is an :class:`ImageLoadError`.

    Opened non-blocking and checked on the open descriptor, so that a FIFO never blocks the
    run and a file swapped after the check cannot slip through.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        if path.is_symlink():
            raise ImageLoadError(
                f"broken symbolic link: its target {os.readlink(path)} does not exist") from exc
        raise ImageLoadError("cannot read file: no such file") from exc
    except OSError as exc:
        raise ImageLoadError(f"cannot read file: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ImageLoadError(f"not a regular file: {_file_kind(info.st_mode)}")
        if info.st_size == 0:
            raise ImageLoadError("empty file (0 bytes)")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a plain file"


def _decode(fh: BinaryIO, max_pixels: int, page: int | None) -> np.ndarray:
    with warnings.catch_warnings(record=True) as caught:
        # Pillow's decompression-bomb warning starts at 89 megapixels; the size is checked
        # against max_pixels instead (Pillow's error, at twice that, remains). Warnings about
        # odd metadata go to the debug log, not onto the user's screen.
        warnings.simplefilter("always")
        try:
            return _decode_image(fh, max_pixels, page)
        finally:
            for warning in caught:
                log.debug("%s: %s", getattr(fh, "name", "image"), warning.message)


def _decode_image(fh: BinaryIO, max_pixels: int, page: int | None) -> np.ndarray:
    try:
        with _pil_open()(fh) as img:
            if page is not None:
                _seek_page(img, page)
            w, h = img.size
            if w * h > max_pixels:
                raise ImageLoadError(
                    f"image too large: {w}x{h} = {w * h} pixels > limit {max_pixels} "
                    "(possible decompression bomb)")
            img.load()
            img = _exif_transpose(img)
            try:
                return _to_rgb(img)
            except ValueError as exc:  # a mode Pillow cannot convert (LAB, ...)
                raise ImageLoadError(f"unsupported image mode {img.mode}: {exc}") from exc
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:  # over twice Pillow's own limit
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1))} pixels" if found else "size"
        raise ImageLoadError(f"image too large: {size} > limit {max_pixels} "
                             "(possible decompression bomb)") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(_unidentified(fh)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # PIL reports truncated and corrupt data as OSError / SyntaxError / ValueError.
        raise ImageLoadError(f"corrupt or truncated image: {exc}") from exc
    except Exception as exc:  # a decoder plug-in failing in its own way must not end the run
        raise ImageLoadError(f"cannot decode image: {type(exc).__name__}: {exc}") from exc


# PDFium is not thread-safe, not even across documents: one call into it at a time.
_PDFIUM_LOCK = threading.Lock()
# One point is 1/72 inch: PDF page sizes are in points.
_POINTS_PER_INCH = 72.0


def _pdf_page_count(path: Path) -> int:
    """Pages of a PDF, 0 when it cannot be opened (loading a page then says why)."""
    try:
        with _open_regular(path) as fh, _PDFIUM_LOCK:
            pdf = pdfium.PdfDocument(fh)
            try:
                return len(pdf)
            finally:
                pdf.close()
    except Exception:  # whatever it is, load_image reports it for the file
        return 0


def _render_pdf_page(fh: BinaryIO, path: Path, page: int, dpi: float,
                     max_pixels: int) -> np.ndarray:
    """Render one page of an open PDF file as RGB on white."""
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(fh)
        except pdfium.PdfiumError as exc:
            raise ImageLoadError(_pdf_open_error(exc)) from exc
        except Exception as exc:
            raise ImageLoadError(f"cannot read PDF: {type(exc).__name__}: {exc}") from exc
        try:
            pages = len(pdf)
            if not 1 <= page <= pages:
                raise ImageLoadError(f"no page {page}: the PDF has {pages} page(s)")
            pdf_page = pdf[page - 1]
            try:
                scale = _pdf_scale(pdf_page.get_size(), dpi, max_pixels, f"{path} page {page}")
                bitmap = pdf_page.render(scale=scale, rev_byteorder=True)
                try:
                    return np.array(bitmap.to_numpy()[:, :, :3], dtype=np.uint8)  # a copy
                finally:
                    bitmap.close()
            finally:
                pdf_page.close()
        except ImageLoadError:
            raise
        except pdfium.PdfiumError as exc:
            raise ImageLoadError(f"corrupt PDF: page {page} cannot be read ({exc})") from exc
        except Exception as exc:  # PDFium failing in its own way must not end the run
            raise ImageLoadError(
                f"cannot render PDF page {page}: {type(exc).__name__}: {exc}") from exc
        finally:
            pdf.close()


def _pdf_open_error(exc: pdfium.PdfiumError) -> str:
    code = getattr(exc, "err_code", None)
    if code == pdfium_raw.FPDF_ERR_PASSWORD:
        return "encrypted PDF: it needs a password (not supported; decrypt it first)"
    if code == pdfium_raw.FPDF_ERR_SECURITY:
        return "encrypted PDF: unsupported security handler"
    if code == pdfium_raw.FPDF_ERR_FORMAT:
        return "corrupt or truncated PDF: PDFium cannot parse it"
    return f"cannot read PDF: {exc}"


def _pdf_scale(size: tuple[float, float], dpi: float, max_pixels: int, label: str) -> float:
    """Pixels per point for a page of ``size`` points at ``dpi``, lowered to fit
    ``max_pixels``."""
    w, h = size
    if not (math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0):
        raise ImageLoadError(f"corrupt PDF: the page has no area ({w} x {h} points)")
    scale = dpi / _POINTS_PER_INCH

    def pixels(s: float) -> int:  # as pypdfium2 sizes the bitmap
        return math.ceil(w * s) * math.ceil(h * s)

    if pixels(scale) > max_pixels:
        wanted = pixels(scale)
        scale = math.sqrt(max_pixels / (w * h))
        while scale > 0 and pixels(scale) > max_pixels:  # rounding up added a row or column
            scale *= 0.999
        if scale <= 0 or pixels(scale) < 1:
            raise ImageLoadError(f"PDF page too large: cannot render within {max_pixels} pixels")
        log.warning("%s: %d pixels at %g dpi > limit %d; rendered at %.1f dpi instead",
                    label, wanted, dpi, max_pixels, scale * _POINTS_PER_INCH)
    return scale


_IMAGE_SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF8", "GIF"),
                     (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"))
_OTHER_SIGNATURES = ((b"PK\x03\x04", "a ZIP archive"),
                     (b"%PDF", "a PDF document (PDFs are read when named .pdf)"),
                     (b"\x1f\x8b", "a gzip file"), (b"<!doctype html", "an HTML page"),
                     (b"<html", "an HTML page"), (b"<?xml", "an XML file"))


def _unidentified(fh: BinaryIO) -> str:
    """Why Pillow could not identify a file, from its first bytes."""
    try:
        fh.seek(0)
        head = fh.read(512)
    except OSError:
        head = b""
    for signature, name in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return f"corrupt {name} image: it starts like one but cannot be read"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "corrupt WebP image: it starts like one but cannot be read"
    lowered = head.lstrip().lower()
    for signature, name in _OTHER_SIGNATURES:
        if lowered.startswith(signature.lower()):
            return f"not an image: {name}"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if text and all(c.isprintable() or c.isspace() for c in text):
        return "not an image: a text file"
    return "not an image, or an unsupported image format"


def _seek_page(img: Image.Image, page: int) -> None:
    pages = int(getattr(img, "n_frames", 1))
    if not 1 <= page <= pages:
        raise ImageLoadError(f"no page {page}: the file has {pages} page(s)")
    img.seek(page - 1)


def _pil_open():
    """Pillow's own ``Image.open``.

    ultralytics replaces ``PIL.Image.open`` on import with a wrapper that, for any file Pillow
    cannot identify, tries to install and import ``pi-heif`` (offline: ModuleNotFoundError).
    A non-image must stay a plain "not an image" error, so the original is used.
    """
    opener = Image.open
    if getattr(opener, "__module__", "PIL.Image") != "PIL.Image":
        original = getattr(sys.modules.get(opener.__module__), "_image_open", None)
        if callable(original):
            return original
    return opener


def _exif_transpose(img: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:  # a broken EXIF block must not cost the image
        return img


def _to_rgb(img: Image.Image) -> np.ndarray:
    """RGB ``uint8`` pixels of any mode; transparent pixels composited on white.

    Reading the colour and the transparency apart keeps both exact: a transparent pixel's
    colour is whatever the encoder left there (often black), never the page.
    """
    if img.mode in ("RGBa", "La"):  # premultiplied alpha
        img = img.convert(img.mode.upper())
    mode = img.mode
    alpha = _alpha(img)
    if mode == "RGB":
        rgb = np.asarray(img)
    elif mode in _GRAY_DEEP_MODES:
        rgb = np.repeat(_gray_to_uint8(np.asarray(img))[:, :, None], 3, axis=2)
    elif alpha is not None and mode in ("RGBA", "LA", "PA", "P"):
        rgb = np.asarray(img.convert("RGBA"))[:, :, :3]
    else:  # L, 1, P, CMYK, YCbCr, HSV, RGBX ...
        rgb = np.asarray(img.convert("RGB"))
    if alpha is not None:
        rgb = _over_white(rgb, alpha)
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def _alpha(img: Image.Image) -> np.ndarray | None:
    """Opacity 0..255 per pixel, or ``None`` for an opaque image."""
    if "A" in img.getbands():
        return np.asarray(img.getchannel("A"))
    key = img.info.get("transparency")
    if key is None:
        return None
    if img.mode == "P":  # one alpha per palette entry, or one transparent index
        return np.asarray(img.convert("RGBA").getchannel("A"))
    pixels = np.asarray(img)
    if pixels.ndim == 3 and isinstance(key, tuple) and len(key) == pixels.shape[2]:
        clear = (pixels == np.asarray(key)).all(axis=2)
    elif pixels.ndim == 2 and isinstance(key, int):  # grey colour key (1, L, 16-bit)
        clear = pixels == key
    else:
        return None
    return np.where(clear, 0, 255).astype(np.uint8)


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.int32)[:, :, None]
    return ((rgb.astype(np.int32) * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


def _gray_to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale a 16-bit, 32-bit or float grayscale image into 0..255."""
    is_float = np.issubdtype(arr.dtype, np.floating)
    arr = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    hi = float(arr.max()) if arr.size else 0.0
    if is_float and hi <= 1.0:
        scale = 255.0  # float images in [0, 1]
    elif hi <= 255:
        scale = 1.0
    else:
        scale = 255.0 / 65535.0 if hi <= 65535 else 255.0 / hi
    return np.clip(np.round(arr * scale), 0, 255).astype(np.uint8)

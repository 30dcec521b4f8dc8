"""Finding input images and loading them robustly as RGB ``uint8`` arrays."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
# 100 megapixels: a 10000 x 10000 scan still loads; decompression bombs do not.
MAX_PIXELS = 100_000_000


class ImageLoadError(Exception):
    """An image file could not be read; the message says why."""


def find_images(inputs: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and folders (recursively) into image paths.

    Args:
        inputs: image files or folders. A file given explicitly is kept whatever its
            extension (loading decides); folders contribute files with an image extension.

    Returns:
        ``(images, missing)``: images sorted per input in path order without duplicates,
        and the inputs that do not exist.
    """
    images: list[Path] = []
    missing: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        elif path.is_file():
            found = [path]
        else:
            missing.append(path)
            continue
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                images.append(p)
    return images, missing


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image as an ``(H, W, 3)`` RGB ``uint8`` array, EXIF orientation applied.

    Grayscale, 16-bit, RGBA / LA / palette-with-transparency (composited on white), CMYK and
    bilevel images are converted. Only the first frame of multi-frame files is used.

    Raises:
        ImageLoadError: empty, missing, unreadable, truncated or corrupt files, non-images,
            and images over ``max_pixels`` pixels (decompression bombs), with the reason.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageLoadError(f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise ImageLoadError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _pil_open()(path) as img:
                w, h = img.size
                if w * h > max_pixels:
                    raise ImageLoadError(
                        f"image too large: {w}x{h} = {w * h} pixels > limit {max_pixels} "
                        "(possible decompression bomb)")
                img.load()
                return _to_rgb(_exif_transpose(img))
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"image too large (possible decompression bomb): {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError("not an image, or an unsupported / corrupt image format") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # PIL reports truncated and corrupt data as OSError / SyntaxError / ValueError.
        raise ImageLoadError(f"corrupt or truncated image: {exc}") from exc
    except Exception as exc:  # a decoder plug-in failing in its own way must not end the run
        raise ImageLoadError(f"cannot decode image: {type(exc).__name__}: {exc}") from exc


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
    mode = img.mode
    if mode in ("RGB",):
        arr = np.asarray(img)
    elif mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = _gray_to_uint8(np.asarray(img))
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        arr = np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    else:  # L, 1, P, CMYK, YCbCr, LAB, HSV, RGBX ...
        arr = np.asarray(img.convert("RGB"))
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _gray_to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale a 16-bit, 32-bit or float grayscale image into 0..255."""
    is_float = np.issubdtype(arr.dtype, np.floating)
    arr = arr.astype(np.float64)
    hi = float(arr.max()) if arr.size else 0.0
    if is_float and hi <= 1.0:
        scale = 255.0  # float images in [0, 1]
    elif hi <= 255:
        scale = 1.0
    else:
        scale = 255.0 / 65535.0 if hi <= 65535 else 255.0 / hi
    return np.clip(np.round(arr * scale), 0, 255).astype(np.uint8)

"""Robust image loading: formats converted to RGB uint8, bad files give clear errors."""

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.images import ImageLoadError, find_images, load_image


def png_header_only(path: Path, width: int, height: int) -> None:
    """A valid PNG signature + IHDR claiming a huge size, with one tiny IDAT chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def write_bad_files(folder: Path) -> dict[str, Path]:
    """The five kinds of bad file of the issue; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "good.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96, 3), np.uint8)).save(good)
    data = good.read_bytes()
    files = {
        "zero": folder / "zero.png",
        "text": folder / "notes.jpg",
        "truncated": folder / "truncated.jpg",
        "corrupt": folder / "corrupt.png",
        "bomb": folder / "bomb.png",
    }
    files["zero"].write_bytes(b"")
    files["text"].write_text("this is not an image\n")
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["corrupt"].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    png_header_only(files["bomb"], 200_000, 200_000)
    return files


def test_good_jpeg(tmp_path):
    files = write_bad_files(tmp_path)
    assert files
    img = load_image(tmp_path / "good.jpg")
    assert img.shape == (64, 96, 3) and img.dtype == np.uint8


@pytest.mark.parametrize("kind, words", [
    ("zero", "empty file"), ("text", "not an image"), ("truncated", "truncated"),
    ("corrupt", "corrupt"), ("bomb", "decompression bomb"),
])
def test_bad_files_raise_with_reason(tmp_path, kind, words):
    files = write_bad_files(tmp_path)
    with pytest.raises(ImageLoadError, match=words):
        load_image(files[kind])


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="cannot read"):
        load_image(tmp_path / "nope.png")


def test_pixel_limit_is_configurable(tmp_path):
    Image.new("RGB", (100, 100)).save(tmp_path / "a.png")
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(tmp_path / "a.png", max_pixels=5000)


def modes(tmp_path):
    base = np.zeros((10, 20, 3), np.uint8)
    base[:, 10:] = 200
    yield "gray", Image.fromarray(base[:, :, 0], "L"), "png"
    yield "bilevel", Image.fromarray(base[:, :, 0] > 100).convert("1"), "png"
    yield "palette", Image.fromarray(base).convert("P"), "png"
    yield "cmyk", Image.fromarray(base).convert("CMYK"), "jpg"
    yield "cmyk_tif", Image.fromarray(base).convert("CMYK"), "tif"
    sixteen = (base[:, :, 0].astype(np.uint16) * 257)
    yield "16bit", Image.fromarray(sixteen), "png"
    yield "webp", Image.fromarray(base), "webp"
    yield "bmp", Image.fromarray(base), "bmp"


def test_modes_become_rgb_uint8(tmp_path):
    for name, img, ext in modes(tmp_path):
        path = tmp_path / f"{name}.{ext}"
        img.save(path)
        arr = load_image(path)
        assert arr.shape == (10, 20, 3), name
        assert arr.dtype == np.uint8, name
        # Left half dark, right half light, in every mode (16-bit scaled, not clipped).
        assert arr[:, :10].mean() < 60 and arr[:, 10:].mean() > 150, name


def test_transparent_background_becomes_white(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[2:6, 2:6] = (0, 0, 0, 255)  # black ink, transparent elsewhere
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    arr = load_image(tmp_path / "a.png")
    assert arr[0, 0].tolist() == [255, 255, 255]
    assert arr[3, 3].tolist() == [0, 0, 0]


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), "white")
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    img.save(tmp_path / "r.jpg", exif=exif)
    assert load_image(tmp_path / "r.jpg").shape == (40, 20, 3)


def test_find_images_recurses_and_filters(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("x.JPG", "a/y.png", "a/b/z.tiff", "a/b/w.webp", "a/readme.txt", "a/b/v.bmp"):
        (tmp_path / name).write_bytes(b"x")
    found, missing = find_images([tmp_path, tmp_path / "a" / "y.png", tmp_path / "nope"])
    names = sorted(p.name for p in found)
    assert names == ["v.bmp", "w.webp", "x.JPG", "y.png", "z.tiff"]  # no duplicate y.png
    assert missing == [tmp_path / "nope"]


def test_non_image_is_a_clean_error_after_ultralytics_patched_pil(tmp_path):
    from core.offline import setup_ultralytics

    setup_ultralytics()
    import ultralytics.utils.patches  # noqa: F401  (replaces PIL.Image.open on import)

    (tmp_path / "notes.jpg").write_text("not an image")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(tmp_path / "notes.jpg")

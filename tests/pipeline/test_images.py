"""Robust image loading: formats converted to RGB uint8, bad files give clear errors."""

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.images import ImageLoadError, ImagePage, find_images, image_pages, load_image


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


def clear_black_with_ink() -> np.ndarray:
    """RGBA: a black box, opaque; a half-transparent black strip; the rest transparent *black*."""
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[2:6, 2:6, 3] = 255
    rgba[7, :, 3] = 128
    return rgba


@pytest.mark.parametrize("name, convert, save_kw", [
    ("rgba.png", None, {}),
    ("rgba.tif", None, {}),
    ("rgba.webp", None, {"lossless": True}),
    ("la.png", "LA", {}),
])
def test_alpha_channel_is_composited_on_white(tmp_path, name, convert, save_kw):
    img = Image.fromarray(clear_black_with_ink(), "RGBA")
    (img.convert(convert) if convert else img).save(tmp_path / name, **save_kw)
    arr = load_image(tmp_path / name)
    assert arr[0, 0].tolist() == [255, 255, 255]
    assert arr[3, 3].tolist() == [0, 0, 0]
    assert abs(int(arr[7, 0, 0]) - 127) <= 1  # half transparent black: mid grey


@pytest.mark.parametrize("name, mode, key", [
    ("palette.png", "P", "index"), ("palette.gif", "P", "index"), ("gray.png", "L", 0),
    ("gray.gif", "L", 0), ("rgb.png", "RGB", (0, 0, 0)), ("gray16.png", "I;16", 0),
])
def test_colour_key_transparency_is_composited_on_white(tmp_path, name, mode, key):
    """Palette, grey and RGB images with a transparent colour (PNG tRNS, GIF transparency)."""
    ink = np.zeros((8, 8, 3), np.uint8)
    ink[2:6, 2:6] = 60
    img = Image.fromarray(ink)
    if mode == "P":
        img = img.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
        key = int(np.asarray(img)[0, 0])  # the palette entry of the black background
    elif mode == "I;16":
        img = Image.fromarray(ink[:, :, 0].astype(np.uint16) * 257)
    else:
        img = img.convert(mode)
    img.save(tmp_path / name, transparency=key)
    arr = load_image(tmp_path / name)
    assert arr[0, 0].tolist() == [255, 255, 255], name
    assert arr[3, 3].tolist() == [60, 60, 60], name


def test_palette_with_per_entry_alpha(tmp_path):
    Image.fromarray(clear_black_with_ink(), "RGBA").quantize(4).save(tmp_path / "q.png")
    assert Image.open(tmp_path / "q.png").info["transparency"]  # bytes: alpha per entry
    arr = load_image(tmp_path / "q.png")
    assert arr[0, 0].tolist() == [255, 255, 255] and arr[3, 3].tolist() == [0, 0, 0]


def test_gif_and_animations_read_their_first_frame(tmp_path):
    frames = [Image.new("RGB", (6, 4), (v, v, v)) for v in (0, 120, 240)]
    for name, kw in (("a.gif", {}), ("a.png", {}), ("a.webp", {"lossless": True})):
        frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:], **kw)
        assert image_pages(tmp_path / name) == [ImagePage(tmp_path / name)]
        arr = load_image(tmp_path / name)
        assert arr.shape == (4, 6, 3) and arr.max() < 10, name


def test_multipage_tiff_pages(tmp_path):
    path = tmp_path / "scan.tif"
    pages = [Image.new("L", (5 + n, 4), 40 * n) for n in range(3)]
    pages[0].save(path, save_all=True, append_images=pages[1:])
    assert image_pages(path) == [ImagePage(path, 1), ImagePage(path, 2), ImagePage(path, 3)]
    for n in (1, 2, 3):
        arr = load_image(path, page=n)
        assert arr.shape == (4, 4 + n, 3) and int(arr[0, 0, 0]) == 40 * (n - 1)
    assert load_image(path).shape == (4, 5, 3)  # no page: the first
    with pytest.raises(ImageLoadError, match="no page 4"):
        load_image(path, page=4)
    single = tmp_path / "one.tif"
    pages[0].save(single)
    assert image_pages(single) == [ImagePage(single)]
    assert image_pages(tmp_path / "missing.tif") == [ImagePage(tmp_path / "missing.tif")]


def test_files_that_are_not_readable_images(tmp_path):
    os.symlink("nowhere.png", tmp_path / "dangling.png")
    with pytest.raises(ImageLoadError, match="broken symbolic link.*nowhere.png"):
        load_image(tmp_path / "dangling.png")
    os.mkfifo(tmp_path / "pipe.png")  # opening it for reading must not block
    with pytest.raises(ImageLoadError, match="not a regular file: a FIFO"):
        load_image(tmp_path / "pipe.png")
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageLoadError, match="not a regular file: a folder"):
        load_image(tmp_path / "dir.png")


def test_permission_denied(tmp_path, monkeypatch):
    """chmod 000 stops no one when the tests run as root: the open itself is made to fail."""
    Image.new("RGB", (4, 4)).save(tmp_path / "secret.png")
    real_open = os.open

    def no_access(path, *args, **kwargs):
        if str(path).endswith("secret.png"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_access)
    with pytest.raises(ImageLoadError, match="cannot read file: Permission denied"):
        load_image(tmp_path / "secret.png")


@pytest.mark.parametrize("data, words", [
    (b"PK\x03\x04" + b"\x00" * 40, "not an image: a ZIP archive"),
    (b"%PDF-1.7\n", "not an image: a PDF document"),
    (b"  <!DOCTYPE html><html></html>", "not an image: an HTML page"),
    (b"plain words\n", "not an image: a text file"),
    (b"\x89PNG\r\n\x1a\n" + b"\x07" * 40, "corrupt PNG image"),
    (b"RIFF\x00\x01\x00\x00WEBPVP8 " + b"\x07" * 40, "corrupt"),
    (b"II*\x00" + b"\x07" * 40, "corrupt TIFF image"),
])
def test_unidentified_files_say_what_they_look_like(tmp_path, data, words):
    (tmp_path / "x.jpg").write_bytes(data)
    with pytest.raises(ImageLoadError, match=words):
        load_image(tmp_path / "x.jpg")


def test_pillow_bomb_warning_does_not_refuse_images_under_the_limit(tmp_path):
    """Pillow warns from 89.5 megapixels; our limit (100 by default) decides alone."""
    png_header_only(tmp_path / "big.png", 9600, 9600)  # 92 megapixels, data missing
    with pytest.raises(ImageLoadError) as info:
        load_image(tmp_path / "big.png")
    assert "too large" not in str(info.value)
    png_header_only(tmp_path / "bigger.png", 9600, 10500)
    with pytest.raises(ImageLoadError, match="too large: 9600x10500"):
        load_image(tmp_path / "bigger.png")


def test_find_images_keeps_bad_entries_under_folders(tmp_path):
    """Broken links, FIFOs and links to good files are entries; folders are searched."""
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    os.symlink("a.png", tmp_path / "same_as_a.png")
    os.symlink("gone.jpg", tmp_path / "dangling.jpg")
    os.mkfifo(tmp_path / "pipe.tif")
    (tmp_path / "looks_like.png").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "looks_like.png" / "inner.GIF")
    (tmp_path / "notes.txt").write_text("x")
    found, missing = find_images([tmp_path, tmp_path / "dangling.jpg"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.png", "dangling.jpg", "looks_like.png/inner.GIF", "pipe.tif", "same_as_a.png"]
    assert missing == []
    # Named explicitly, a broken link or a FIFO is an entry too; a path that is nothing is not.
    found, missing = find_images([tmp_path / "dangling.jpg", tmp_path / "pipe.tif",
                                  tmp_path / "nothing.png"])
    assert [p.name for p in found] == ["dangling.jpg", "pipe.tif"]
    assert missing == [tmp_path / "nothing.png"]

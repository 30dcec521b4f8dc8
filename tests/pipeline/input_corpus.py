"""A generated corpus of good, odd and bad input files for ``pipeline run`` (nothing is
committed: :func:`write_corpus` writes it into a temporary folder).

Good files hold a page of grey word boxes (:func:`tests.pipeline.fakes.page`) in every format
and pixel mode the loader converts; bad ones are truncated, corrupt, empty, not images, huge
(decompression bombs), or not readable files at all.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tests.pipeline.fakes import level, page

FORMATS = {"jpg": "JPEG", "png": "PNG", "bmp": "BMP", "tif": "TIFF", "webp": "WEBP",
           "gif": "GIF"}
SIGNATURES = {"jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "png": b"\x89PNG\r\n\x1a\n",
              "bmp": b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00",
              "tif": b"II*\x00\x08\x00\x00\x00", "webp": b"RIFF\x00\x10\x00\x00WEBPVP8 ",
              "gif": b"GIF89a\x40\x00\x30\x00\xf7\x00\x00"}
# An unreadable file that root can still read: the test makes opening it fail (see
# test_bad_inputs), since chmod 000 stops no one when the tests run as root.
UNREADABLE = "unreadable.png"


@dataclass(frozen=True)
class Expect:
    """What ``pipeline run`` must give for one corpus file.

    Attributes:
        error: words the error message must contain; ``None`` for a file that reads.
        pages: entries the file gives (a multi-page TIFF gives one per page).
        alpha: the file's background is transparent black: it must read as white.
    """

    error: str | None = None
    pages: int = 1
    alpha: bool = False


def page_image(rows=("abc", "de"), width: int = 160, height: int = 80) -> np.ndarray:
    return page(list(rows), width=width, height=height, x0=8, y0=8, word_w=20, word_h=12,
                gap=8, spacing=28)


def encode(img: Image.Image, ext: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=FORMATS[ext], **kw)
    return buf.getvalue()


ALPHA_ROWS = ("bcd", "ef")  # no black ink: black is the colour-key images' transparent colour


def ink_on_clear(rows=ALPHA_ROWS) -> np.ndarray:
    """RGBA: the page's word boxes opaque, everything else transparent *black*."""
    rgb = page_image(rows)
    ink = rgb.min(axis=2) < 235
    rgba = np.zeros(rgb.shape[:2] + (4,), np.uint8)
    rgba[ink, :3] = rgb[ink]
    rgba[ink, 3] = 255
    return rgba


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def bombs() -> dict[str, bytes]:
    """Small files declaring huge images, one per format."""
    png = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 200_000, 200_000,
                                                              8, 0, 0, 0, 0))
           + _chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + _chunk(b"IEND", b""))
    gif = (b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
           + b"," + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x02\x44\x01\x00;")
    entries = [(256, 4, 1, 100_000), (257, 4, 1, 100_000), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, 100_000),
               (279, 4, 1, 16)]
    tif = b"II*\x00" + struct.pack("<I", 24) + b"\x00" * 16 + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        tif += struct.pack("<HHII", tag, kind, count, value)
    tif += struct.pack("<I", 0)
    bmp = (b"BM" + struct.pack("<IHHI", 70, 0, 0, 54)
           + struct.pack("<IiiHHIIiiII", 40, 40_000, 40_000, 1, 24, 0, 16, 2835, 2835, 0, 0)
           + b"\x00" * 16)
    jpg = bytearray(encode(Image.new("L", (8, 8), 128), "jpg"))
    sof = jpg.index(b"\xff\xc0")
    jpg[sof + 5:sof + 9] = struct.pack(">HH", 60_000, 60_000)
    webp = bytearray(encode(Image.new("RGB", (8, 8), "white"), "webp", lossless=True))
    sig = webp.index(b"VP8L") + 8  # chunk name, chunk size, then the 0x2f signature byte
    webp[sig + 1:sig + 4] = b"\xff\xff\xff"  # width - 1 and height - 1: 16383 each
    webp[sig + 4] |= 0x0F
    return {"png": png, "gif": gif, "tif": tif, "bmp": bmp, "jpg": bytes(jpg),
            "webp": bytes(webp)}


def _save(folder: Path, name: str, img: Image.Image, **kw) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kw)
    return path


def write_good(folder: Path) -> dict[str, Expect]:
    """Files that must read; names relative to ``folder``."""
    rgb = Image.fromarray(page_image())
    good: dict[str, Expect] = {}

    def add(name: str, img: Image.Image, expect: Expect = Expect(), **kw) -> None:
        _save(folder, name, img, **kw)
        good[name] = expect

    for ext in FORMATS:  # a plain page in every format
        add(f"page.{ext}", rgb, **({"lossless": True} if ext == "webp" else {}))
    add("page_q70.jpeg", rgb, quality=70)
    add("page_progressive.jpg", rgb, progressive=True)
    add("page_lzw.tif", rgb, compression="tiff_lzw")
    add("UPPER.PNG", rgb)
    add("Mixed.TiFf", rgb)
    add("png_inside.jpg", rgb, format="PNG")  # the name says JPEG, the bytes say PNG
    add("sub/deeper/nested.png", rgb)
    add("folder_named.png/inside.png", rgb)  # a folder with an image name is searched
    grey = rgb.convert("L")
    add("gray.png", grey)
    add("gray.jpg", grey)
    bilevel = rgb.convert("L").point(lambda v: 255 if v > 200 else 0).convert("1")
    add("bilevel.png", bilevel)
    add("bilevel_g4.tif", bilevel, compression="group4")
    add("bilevel.bmp", bilevel)
    add("palette.png", rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16))
    sixteen = np.asarray(grey).astype(np.uint16) * 257
    add("gray16.png", Image.fromarray(sixteen))
    add("gray16.tif", Image.fromarray(sixteen))
    add("float.tif", Image.fromarray(np.asarray(grey).astype(np.float32) / 255.0))
    add("cmyk.jpg", rgb.convert("CMYK"))
    add("cmyk.tif", rgb.convert("CMYK"))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise
    add("exif_rotated.jpg", rgb.transpose(Image.Transpose.ROTATE_90), exif=exif)
    add("one_pixel.png", Image.new("RGB", (1, 1), (40, 40, 40)))
    add("one_pixel.jpg", Image.new("L", (1, 1), 255))
    tall = np.full((5000, 1, 3), 255, np.uint8)
    tall[100:400] = level("c")
    add("tall_1x5000.png", Image.fromarray(tall))
    add("wide_5000x1.png", Image.fromarray(tall.transpose(1, 0, 2).copy()))

    # Transparent backgrounds (transparent *black*: read against black they vanish).
    clear = Image.fromarray(ink_on_clear(), "RGBA")
    alpha = Expect(alpha=True)
    add("rgba.png", clear, alpha)
    add("rgba.tif", clear, alpha)
    add("rgba.webp", clear, alpha, lossless=True)
    add("la.png", clear.convert("LA"), alpha)
    pal = clear.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    black = np.asarray(pal.convert("RGB")).sum(axis=2) == 0
    index = int(np.asarray(pal)[black][0])
    add("palette_trns.png", pal, alpha, transparency=index)
    add("palette_trns.gif", pal, alpha, transparency=index)
    add("palette_alpha.png", clear.quantize(16), alpha)  # one alpha per palette entry
    grey_key = clear.convert("RGB").convert("L")
    add("gray_trns.png", grey_key, alpha, transparency=0)
    add("gray_trns.gif", grey_key, alpha, transparency=0)
    add("rgb_trns.png", clear.convert("RGB"), alpha, transparency=(0, 0, 0))

    # Several frames: an animation is its first frame, a TIFF is several pages.
    frames = [Image.fromarray(page_image(rows)) for rows in (["abc", "de"], ["f"], ["gh"])]
    add("animated.gif", frames[0], save_all=True, append_images=frames[1:], duration=100)
    add("animated.png", frames[0], save_all=True, append_images=frames[1:])
    add("animated.webp", frames[0], save_all=True, append_images=frames[1:], lossless=True)
    add("multipage.tif", frames[0], Expect(pages=3), save_all=True, append_images=frames[1:])
    add("multipage_mixed.tif", grey, Expect(pages=2), save_all=True,
        append_images=[Image.fromarray(sixteen)])
    os.symlink("page.png", folder / "link_to_page.png")
    good["link_to_page.png"] = Expect()
    return good


def write_bad(folder: Path) -> dict[str, Expect]:
    """Files that must give an error entry, each with the words its message must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(page_image())
    bad: dict[str, Expect] = {}

    def add(name: str, data: bytes, error: str) -> None:
        (folder / name).write_bytes(data)
        bad[name] = Expect(error=error)

    for ext in FORMATS:
        data = encode(rgb, ext)
        add(f"zero.{ext}", b"", "empty file")
        add(f"truncated.{ext}", data[: len(data) // 2], "truncated")
        add(f"corrupt.{ext}", SIGNATURES[ext] + bytes(range(256)) * 3, "corrupt")
    for ext, data in bombs().items():
        add(f"bomb.{ext}", data, "too large")
    add("notes.jpg", b"this is not an image\nbut a text file\n", "not an image")
    add("page.html.png", b"<!DOCTYPE html><html><body><img src=x.png></body></html>\n",
        "not an image")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("page.png", encode(rgb, "png"))
    add("archive.tif", zipped.getvalue(), "not an image")
    add("report.webp", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "not an image")
    add("random.bmp", np.random.default_rng(1).bytes(3000), "not an image")
    os.symlink("no_such_target.png", folder / "broken_link.png")
    bad["broken_link.png"] = Expect(error="broken symbolic link")
    os.symlink("loop_link.jpg", folder / "loop_link.jpg")
    bad["loop_link.jpg"] = Expect(error="cannot read file")
    os.mkfifo(folder / "fifo.png")
    bad["fifo.png"] = Expect(error="not a regular file")
    (folder / UNREADABLE).write_bytes(encode(rgb, "png"))
    bad[UNREADABLE] = Expect(error="Permission denied")
    return bad


def write_corpus(folder: Path) -> dict[str, Expect]:
    """Write every file into ``folder`` (plus a few that no run may pick up)."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = {**write_good(folder), **write_bad(folder)}
    (folder / "readme.txt").write_text("not an image name: never an entry\n")
    (folder / "no_extension").write_bytes(encode(Image.fromarray(page_image()), "png"))
    return expected

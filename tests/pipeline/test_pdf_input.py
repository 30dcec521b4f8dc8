"""PDF input: each page rendered (by PDFium) when it is read, one results entry per page."""

import json
import logging
import math

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from pipeline.cli.run import PDF_DPI
from pipeline.images import (
    DEFAULT_PDF_DPI,
    ImageLoadError,
    ImagePage,
    find_images,
    image_pages,
    load_image,
)
from pipeline.ocr import OcrPipeline
from tests.pipeline.fakes import BlobDetector, GreyRecognizer, page
from tests.pipeline.test_run_cli import fakes, run_cli, save  # noqa: F401 (a fixture)


def write_pdf(path, pages):
    """A PDF of generated pages (one per list of rows), 1 pixel = 1 point: rendered at 72 dpi
    a page is the image it was made from (400 x 300)."""
    frames = [Image.fromarray(page(rows)) for rows in pages]
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, "PDF", save_all=True, append_images=frames[1:], resolution=72.0)
    return path


def minimal_pdf(page_size=(200, 100), trailer=b"", extra_objects=(), page_entries=b""):
    """A hand-written PDF of one blank page, its cross-reference table computed."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] %s >>" % (*page_size,
                                                                               page_entries),
               *extra_objects]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, trailer, xref)
    return bytes(out)


def encrypted_pdf():
    """A PDF under the standard security handler whose user password is not empty: the
    O / U entries match no password PDFium can try, so it cannot be opened."""
    encrypt = (b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32
               + b"> /P -4 >>")
    doc_id = b"<" + b"33" * 16 + b">"
    return minimal_pdf(trailer=b"/Encrypt 4 0 R /ID [%s %s]" % (doc_id, doc_id),
                       extra_objects=[encrypt])


@pytest.fixture
def renders(monkeypatch):
    """Count the pages PDFium renders."""
    calls = []
    real = pdfium.PdfPage.render

    def render(self, *args, **kwargs):
        calls.append(kwargs.get("scale"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pdfium.PdfPage, "render", render)
    return calls


def test_pdf_pages_are_listed_without_rendering(tmp_path, renders):
    pdf = write_pdf(tmp_path / "doc.pdf", [["ab"], ["c"], ["d"]])
    assert image_pages(pdf) == [ImagePage(pdf, 1), ImagePage(pdf, 2), ImagePage(pdf, 3)]
    one = write_pdf(tmp_path / "one.PDF", [["a"]])
    assert image_pages(one) == [ImagePage(one, 1)]  # a PDF's pages are always numbered
    assert renders == []


def test_folders_find_pdfs(tmp_path):
    write_pdf(tmp_path / "in" / "sub" / "doc.pdf", [["a"]])
    save(page(["b"]), tmp_path / "in" / "img.png")
    (tmp_path / "in" / "notes.txt").write_text("not an input")
    found, missing = find_images([tmp_path / "in"])
    assert [p.name for p in found] == ["img.png", "doc.pdf"] and missing == []


def test_pages_render_at_the_dpi_asked(tmp_path):
    pdf = write_pdf(tmp_path / "doc.pdf", [["ab"], ["c"]])
    img = load_image(pdf, page=2, pdf_dpi=72)
    assert img.shape == (300, 400, 3) and img.dtype == np.uint8
    assert load_image(pdf, page=1, pdf_dpi=144).shape == (600, 800, 3)
    assert load_image(pdf, pdf_dpi=36).shape == (150, 200, 3)  # page None: the first
    turned = tmp_path / "turned.pdf"  # a page shown turned a quarter is read as shown
    turned.write_bytes(minimal_pdf(page_size=(200, 100), page_entries=b"/Rotate 90"))
    assert load_image(turned, pdf_dpi=72).shape == (200, 100, 3)
    # The page drawn is the one asked for: page 2 has one box where page 1 has two.
    assert (img[20:34, 20:50].mean() < 100) and (img[20:34, 62:92].mean() > 200)
    with pytest.raises(ImageLoadError, match="no page 3: the PDF has 2 page"):
        load_image(pdf, page=3)


def test_a_page_over_the_pixel_limit_is_rendered_at_a_lower_dpi(tmp_path, caplog):
    poster = tmp_path / "poster.pdf"
    poster.write_bytes(minimal_pdf(page_size=(7200, 3600)))  # 100 x 50 inches
    with caplog.at_level(logging.WARNING, logger="pipeline.images"):
        img = load_image(poster, max_pixels=1_000_000)
    h, w = img.shape[:2]
    assert h * w <= 1_000_000 and h * w > 0.99 * 1_000_000
    assert abs(w / h - 2.0) < 0.01
    assert "rendered at 14.1 dpi instead" in caplog.text  # sqrt(1e6 / (7200 * 3600)) * 72


def test_broken_and_encrypted_pdfs_say_why(tmp_path):
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(minimal_pdf())
    assert load_image(plain, pdf_dpi=72).shape == (100, 200, 3)  # the same PDF unlocked reads
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(encrypted_pdf())
    with pytest.raises(pdfium.PdfiumError) as raised:  # PDFium itself asks for a password
        pdfium.PdfDocument(str(locked))
    assert raised.value.err_code == pdfium.raw.FPDF_ERR_PASSWORD
    assert image_pages(locked) == [ImagePage(locked)]
    with pytest.raises(ImageLoadError, match="encrypted PDF: it needs a password"):
        load_image(locked)
    good = write_pdf(tmp_path / "good.pdf", [["ab"], ["c"]]).read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(good[: len(good) // 2])
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "html.pdf").write_bytes(b"<!DOCTYPE html><html></html>")
    for name, words in [("truncated.pdf", "corrupt or truncated PDF"),
                        ("empty.pdf", "empty file"), ("html.pdf", "corrupt or truncated PDF")]:
        with pytest.raises(ImageLoadError, match=words):
            load_image(tmp_path / name)
    # A PDF under an image's name is not read as one (a mislabelled file is noticed).
    (tmp_path / "scan.jpg").write_bytes(good)
    with pytest.raises(ImageLoadError, match="not an image: a PDF document"):
        load_image(tmp_path / "scan.jpg")


def test_pages_are_rendered_one_at_a_time_as_they_are_read(tmp_path, renders):
    """A long PDF streams: listing renders nothing, each page is rendered when the pipeline
    reaches it, never all up front."""
    pdf = write_pdf(tmp_path / "long.pdf", [[letter] for letter in "abcdef"])
    ocr = OcrPipeline(BlobDetector(), GreyRecognizer(), images_per_batch=2, pdf_dpi=72)
    pages = ocr.iter_pages([pdf])
    assert renders == []
    seen = []
    for n, (result, image) in enumerate(pages, 1):
        seen.append((result.page, result.text))
        # The batch holding page n has been rendered, nothing after it.
        assert len(renders) == n + (n % 2), renders
        assert image.shape == (300, 400, 3)
    assert seen == [(k, letter) for k, letter in enumerate("abcdef", 1)]
    assert len(renders) == 6


def test_run_gives_one_entry_per_pdf_page(tmp_path, fakes):  # noqa: F811
    pdf = write_pdf(tmp_path / "in" / "doc.pdf", [["ab"], ["c", "de"]])
    save(page(["f"]), tmp_path / "in" / "z.png")
    out = tmp_path / "r.json"
    result = run_cli(tmp_path / "in", "--out", out, "--dpi", 72)
    assert result.exit_code == 0, result.output
    images = json.loads(out.read_text())["images"]
    assert [(e["file"], e["page"], e["width"], e["height"], e["text"]) for e in images] == [
        (str(pdf), 1, 400, 300, "a b"), (str(pdf), 2, 400, 300, "c\nd e"),
        (str(tmp_path / "in" / "z.png"), None, 400, 300, "f")]
    result = run_cli(pdf, "--out", out)  # default dpi
    assert result.exit_code == 0, result.output
    entry = json.loads(out.read_text())["images"][0]
    scale = DEFAULT_PDF_DPI / 72  # a page of points, rounded up to whole pixels
    assert (entry["width"], entry["height"]) == (math.ceil(400 * scale), math.ceil(300 * scale))
    assert entry["text"] == "a b"


def test_bad_pdfs_are_error_entries_and_the_others_still_run(tmp_path, fakes):  # noqa: F811
    folder = tmp_path / "in"
    write_pdf(folder / "a_good.pdf", [["ab"], ["c"]])
    good = (folder / "a_good.pdf").read_bytes()
    (folder / "b_truncated.pdf").write_bytes(good[: len(good) // 2])
    (folder / "c_locked.pdf").write_bytes(encrypted_pdf())
    save(page(["d"]), folder / "d.png")
    out = tmp_path / "r.json"
    result = run_cli(folder, "--out", out, "--dpi", 72)
    assert result.exit_code == 1, result.output
    images = json.loads(out.read_text())["images"]
    assert [(e["file"].rsplit("/", 1)[-1], e["page"], e["text"], e["error"] and
             e["error"].split(":")[0]) for e in images] == [
        ("a_good.pdf", 1, "a b", None), ("a_good.pdf", 2, "c", None),
        ("b_truncated.pdf", None, "", "corrupt or truncated PDF"),
        ("c_locked.pdf", None, "", "encrypted PDF"),
        ("d.png", None, "d", None)]
    assert "3 images ok, 2 failed" in result.output


def test_resume_after_a_killed_run_continues_at_the_next_page(tmp_path, fakes,  # noqa: F811
                                                             monkeypatch, renders):
    pdf = write_pdf(tmp_path / "doc.pdf", [["a"], ["b"], ["c"], ["d"], ["e"]])
    out = tmp_path / "r.json"
    real = OcrPipeline.iter_pages

    def killed_after_two(self, images):
        for n, item in enumerate(real(self, images)):
            if n == 2:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(OcrPipeline, "iter_pages", killed_after_two)
    run_cli(pdf, "--out", out, "--dpi", 72)
    assert [e["page"] for e in json.loads(out.read_text())["images"]] == [1, 2]
    monkeypatch.setattr(OcrPipeline, "iter_pages", real)
    renders.clear()
    result = run_cli(pdf, "--out", out, "--dpi", 72, "--resume")
    assert result.exit_code == 0, result.output
    assert "2 of 5 images already" in result.output
    assert len(renders) == 3  # pages 3, 4 and 5; 1 and 2 are not rendered again
    assert fakes["detector"][-1].calls == [3]
    images = json.loads(out.read_text())["images"]
    assert [(e["page"], e["text"]) for e in images] == [
        (1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")]


def test_dpi_option(tmp_path, fakes):  # noqa: F811
    assert PDF_DPI == DEFAULT_PDF_DPI
    pdf = write_pdf(tmp_path / "doc.pdf", [["a"]])
    result = run_cli(pdf, "--out", tmp_path / "r.json", "--dpi", 10)
    assert result.exit_code == 2 and "--dpi" in result.output

"""Which ``--dpi`` to render PDF pages at: CER and seconds per page of the shipped
``documents`` preset on born-digital PDF pages, for several resolutions.

Writes its own PDF (with PDFium's page-object API, through ``pypdfium2``): A4 pages of
printed English and Russian words (wordfreq's common words) in DejaVu Sans at 8, 10 and 12 pt,
one size per page, the text known exactly. Each page is read at each dpi as ``pipeline run``
reads it (rendered when reached); CER is the edit distance between the page text and the
truth, words joined by single spaces, over the truth's length.

    .venv/bin/python bench/pdf_dpi.py --dpi 100,150,200,300 --out bench/out/pdf_dpi.json

2026-12-05, shipped weights, shared 2-core CPU (noisy timings), 3 pages (8, 10, 12 pt):

    dpi   CER     s/page   pixels
    100   0.076   8.8       827x1170
    150   0.098   8.8      1240x1755
    200   0.091   8.4      1653x2339
    250   0.055   7.2      2066x2924
    300   0.0019  4.2      2480x3509
    400   0.0027  4.4      3306x4678

From 300 dpi every page is a "clean scan" (over 97 % of pixels near black or white: fewer
anti-aliased edge pixels), so the documents preset reads it from its ink
(detection/ink.py); below, the learned detector runs, slower and worse on such pages. Hence
``--dpi`` 300 by default.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import random
import tempfile
import time
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from rapidfuzz.distance import Levenshtein
from wordfreq import top_n_list

from core.offline import local_font
from pipeline.ocr import OcrPipeline

_SKIP = {"fuck", "shit", "sex"}  # common in wordfreq's lists, not on printed pages
WORDS = {lang: [w for w in top_n_list(lang, 400) if w.isalpha() and w not in _SKIP]
         for lang in ("en", "ru")}
A4 = (595.0, 842.0)  # points
MARGIN = 56.0


def write_pdf(path: Path, sizes: list[float], seed: int = 0) -> list[str]:
    """One A4 page of text lines per font size; returns each page's true text."""
    rng = random.Random(seed)
    pdf = pdfium.PdfDocument.new()
    data = local_font().read_bytes()
    buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    font = pdfium_raw.FPDFText_LoadFont(pdf, buffer, len(data), pdfium_raw.FPDF_FONT_TRUETYPE,
                                        True)
    truths = []
    for size in sizes:
        page = pdf.new_page(*A4)
        lines = []
        y = A4[1] - MARGIN - size
        while y > MARGIN:
            lang = rng.choice(("en", "ru"))
            # about 0.55 em per character in DejaVu Sans
            chars = int((A4[0] - 2 * MARGIN) / (0.6 * size))
            words: list[str] = []
            while len(" ".join(words)) < chars - 12:
                word = rng.choice(WORDS[lang])
                words.append(word.capitalize() if rng.random() < 0.15 else word)
            text = " ".join(words)
            obj = pdfium_raw.FPDFPageObj_CreateTextObj(pdf, font, size)
            encoded = (text + "\0").encode("utf-16-le")
            chars_buffer = ctypes.create_string_buffer(encoded, len(encoded))
            pdfium_raw.FPDFText_SetText(
                obj, ctypes.cast(chars_buffer, ctypes.POINTER(pdfium_raw.FPDF_WCHAR)))
            pdfium_raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, MARGIN, y)
            pdfium_raw.FPDFPage_InsertObject(page, obj)
            lines.append(text)
            y -= size * 1.6
        pdfium_raw.FPDFPage_GenerateContent(page)
        truths.append("\n".join(lines))
        page.close()
    pdf.save(str(path))
    pdf.close()
    return truths


def cer(text: str, truth: str) -> tuple[int, int]:
    got, want = " ".join(text.split()), " ".join(truth.split())
    return Levenshtein.distance(got, want), len(want)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dpi", default="100,150,200,300")
    parser.add_argument("--sizes", default="8,10,12", help="font sizes in points, one page each")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    ocr = OcrPipeline.from_preset("documents", device="cpu")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pdf"
        truths = write_pdf(path, sizes)
        ocr.run([path])  # warm-up: first calls allocate
        for dpi in (float(d) for d in args.dpi.split(",")):
            ocr.pdf_dpi = dpi
            start = time.perf_counter()
            pages = ocr.run([path])
            seconds = (time.perf_counter() - start) / len(pages)
            per_size = {}
            edits = chars = 0
            for size, page, truth in zip(sizes, pages, truths, strict=True):
                e, n = cer(page.text, truth)
                per_size[f"{size:g}pt"] = round(e / max(n, 1), 4)
                edits, chars = edits + e, chars + n
            row = {"dpi": dpi, "cer": round(edits / max(chars, 1), 4), "cer_by_size": per_size,
                   "sec_per_page": round(seconds, 2),
                   "pixels": f"{pages[0].width}x{pages[0].height}"}
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"models": ocr.models, "sizes_pt": sizes, "rows": rows},
                                       indent=1))


if __name__ == "__main__":
    main()

"""Exports: txt, hOCR and ALTO from results pages; ``pipeline export`` and ``run --export``."""

import json
import math
import re
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from core.geometry import box_polygon
from pipeline.cli import app
from pipeline.exports import (
    ALTO_NS,
    XHTML_NS,
    PageExporter,
    export_stem,
    group_blocks,
    parse_formats,
    to_alto,
    to_hocr,
    to_txt,
)
from pipeline.results import Line, Page, Word
from tests.pipeline.fakes import page
from tests.pipeline.test_pdf_input import write_pdf
from tests.pipeline.test_run_cli import fakes, run_cli, save  # noqa: F401 (a fixture)

H = f"{{{XHTML_NS}}}"
A = f"{{{ALTO_NS}}}"
SPECIAL = ['<&>"', "Привет,", "мир!", "a'b", "x]]>y"]


def word(text, box, rec=0.875, det=0.9):
    return Word(text, tuple(map(tuple, box_polygon(*box))), box, det_score=det, rec_score=rec)


def line(*words):
    boxes = [w.bbox for w in words]
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
           max(b[2] for b in boxes), max(b[3] for b in boxes))
    return Line(" ".join(w.text for w in words), tuple(map(tuple, box_polygon(*box))), words)


def sample_page(page_number=None):
    """Two columns: a paragraph of two lines and a one-line paragraph on the left, one line on
    the right; special characters and Cyrillic; fractional boxes; one word without scores."""
    left1 = line(word(SPECIAL[0], (10.4, 10.2, 40.6, 24.7), rec=0.5),
                 word(SPECIAL[1], (45.0, 10.0, 90.2, 25.0)))
    left2 = line(word(SPECIAL[2], (10.0, 30.0, 50.0, 45.0), rec=1.0),
                 word(SPECIAL[3], (55.0, 30.0, 70.0, 45.0)))
    left3 = line(word(SPECIAL[4], (10.0, 90.0, 60.0, 105.0), rec=0.0))
    right = line(word("", (210.0, 10.0, 260.0, 25.0), rec=None, det=None))
    return Page("scans/a b&c.pdf", 300, 200, (left1, left2, left3, right), page=page_number)


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))


def title_props(title: str) -> dict[str, str]:
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] for p in re.split(r";\s*", title)}


def enclosing(bbox):
    return [math.floor(bbox[0]), math.floor(bbox[1]), math.ceil(bbox[2]), math.ceil(bbox[3])]


def test_txt_is_the_text_exactly():
    p = sample_page()
    assert to_txt(p) == p.text == '<&>" Привет,\nмир! a\'b\nx]]>y'


def test_hocr_is_well_formed_and_holds_every_word():
    p = sample_page(page_number=3)
    root = parse(to_hocr(p))
    assert root.tag == f"{H}html"
    pages = [e for e in root.iter() if e.get("class") == "ocr_page"]
    assert len(pages) == 1
    props = title_props(pages[0].get("title"))
    assert props == {"image": '"scans/a b&c.pdf"', "bbox": "0 0 300 200", "ppageno": "2"}
    areas = [e for e in root.iter() if e.get("class") == "ocr_carea"]
    lines = [e for e in root.iter() if e.get("class") == "ocr_line"]
    words = [e for e in root.iter() if e.get("class") == "ocrx_word"]
    assert len(areas) == 3 and len(lines) == 4  # left paragraph, left line, right column
    assert len(words) == len(p.words) == 6
    for element, w in zip(words, p.words, strict=True):
        assert (element.text or "") == w.text
        props = title_props(element.get("title"))
        assert [int(v) for v in props["bbox"].split()] == enclosing(w.bbox)
        if w.rec_score is None:
            assert "x_wconf" not in props
        else:
            assert props["x_wconf"] == str(round(w.rec_score * 100))
    assert [int(v) for v in title_props(lines[0].get("title"))["bbox"].split()] == [
        10, 10, 91, 25]
    assert [len([w for w in ln if w.get("class") == "ocrx_word"]) for ln in lines] == [
        2, 2, 1, 1]
    # Words of a line are apart in the text, as in the results.
    assert "".join(lines[0].itertext()).split() == ['<&>"', "Привет,"]
    assert len({e.get("id") for e in root.iter() if e.get("id")}) == len(
        [e for e in root.iter() if e.get("id")])  # ids are unique


def test_hocr_of_a_single_page_file_has_no_page_number():
    p = Page('x "quoted".png', 40, 30)
    title = [e for e in parse(to_hocr(p)).iter() if e.get("class") == "ocr_page"][0].get(
        "title")
    assert title == 'image "x \\"quoted\\".png"; bbox 0 0 40 30'


def test_alto_is_well_formed_v4_and_holds_every_word():
    p = sample_page(page_number=2)
    root = parse(to_alto(p))
    assert root.tag == f"{A}alto"
    assert root.find(f"{A}Description/{A}MeasurementUnit").text == "pixel"
    assert root.find(f"{A}Description/{A}sourceImageInformation/{A}fileName").text == p.file
    page_el = root.find(f"{A}Layout/{A}Page")
    assert (page_el.get("WIDTH"), page_el.get("HEIGHT"), page_el.get("PHYSICAL_IMG_NR")) == (
        "300", "200", "2")
    blocks = page_el.findall(f"{A}PrintSpace/{A}TextBlock")
    assert len(blocks) == 3
    assert [len(b.findall(f"{A}TextLine")) for b in blocks] == [2, 1, 1]
    strings = list(page_el.iter(f"{A}String"))
    assert len(strings) == len(p.words) == 6
    for element, w in zip(strings, p.words, strict=True):
        assert element.get("CONTENT") == w.text
        x0, y0, x1, y1 = enclosing(w.bbox)
        assert [int(element.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == [
            x0, y0, x1 - x0, y1 - y0]
        if w.rec_score is None:
            assert element.get("WC") is None
        else:
            assert 0 <= float(element.get("WC")) <= 1
            assert float(element.get("WC")) == pytest.approx(w.rec_score)
    first_line = blocks[0].find(f"{A}TextLine")
    assert [e.tag for e in first_line] == [f"{A}String", f"{A}SP", f"{A}String"]
    assert [int(blocks[0].get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == [
        10, 10, 81, 35]


def test_characters_xml_cannot_hold_do_not_break_the_files():
    p = Page("x.png", 50, 50, (line(word("a\x00b\x1bc", (1, 1, 20, 20))),))
    assert parse(to_alto(p)).find(f".//{A}String").get("CONTENT") == "a\ufffdb\ufffdc"
    assert [e.text for e in parse(to_hocr(p)).iter() if e.get("class") == "ocrx_word"] == [
        "a\ufffdb\ufffdc"]


def test_blocks_follow_columns_and_paragraph_gaps():
    def at(y, x0=10, x1=100):
        return line(word("w", (x0, y, x1, y + 10)))

    assert group_blocks([]) == []
    para = [at(10), at(22), at(34)]
    assert group_blocks(para) == [para]
    gap = [at(10), at(22), at(60), at(72)]  # 26 px gap > the 10 px line height
    assert group_blocks(gap) == [gap[:2], gap[2:]]
    columns = [at(10), at(22), at(10, 150, 240), at(22, 150, 240)]  # back up, to the right
    assert group_blocks(columns) == [columns[:2], columns[2:]]


def test_format_names_and_file_names():
    assert parse_formats("hocr, ALTO,txt,hocr") == ["hocr", "alto", "txt"]
    for bad in ("pdf", "txt,docx", " , "):
        with pytest.raises(ValueError, match="choose from txt, hocr, alto"):
            parse_formats(bad)
    assert export_stem("in/scan.tif", 2) == "scan_p2"
    assert export_stem("/a/b/photo.final.JPG") == "photo.final"
    assert export_stem("<array 0>") == "_array 0_"


def test_exporter_names_files_apart_and_skips_failed_pages(tmp_path):
    exporter = PageExporter(tmp_path / "out", ["txt", "alto", "hocr"])
    ok = Page("a/x.png", 10, 10, (line(word("hi", (1, 1, 5, 5))),))
    same_stem = Page("b/x.jpg", 10, 10, (line(word("ho", (1, 1, 5, 5))),))
    failed = Page.failed("c/y.png", "corrupt")
    assert [p.name for p in exporter.write(ok)] == ["x.txt", "x.xml", "x.hocr"]
    assert [p.name for p in exporter.write(same_stem)] == ["x_2.txt", "x_2.xml", "x_2.hocr"]
    assert exporter.write(failed) == []
    assert exporter.write(ok)[0].name == "x.txt"  # the same entry keeps its name
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "x.hocr", "x.txt", "x.xml", "x_2.hocr", "x_2.txt", "x_2.xml"]
    assert (tmp_path / "out" / "x_2.txt").read_text(encoding="utf-8") == "ho"


def export_cli(*args):
    return CliRunner().invoke(app, ["export", *map(str, args)])


def check_against_results(folder, entries):
    """Every ok entry has its three files, matching the JSON's words and text."""
    for entry in entries:
        stem = export_stem(entry["file"], entry["page"])
        if entry["error"]:
            assert not list(folder.glob(f"{stem}.*"))
            continue
        text = (folder / f"{stem}.txt").read_text(encoding="utf-8")
        assert text == entry["text"]
        json_words = [w for ln in entry["lines"] for w in ln["words"]]
        hocr = parse((folder / f"{stem}.hocr").read_text(encoding="utf-8"))
        words = [e for e in hocr.iter() if e.get("class") == "ocrx_word"]
        assert [e.text or "" for e in words] == [w["text"] for w in json_words]
        assert [[int(v) for v in title_props(e.get("title"))["bbox"].split()]
                for e in words] == [enclosing(w["bbox"]) for w in json_words]
        alto = parse((folder / f"{stem}.xml").read_text(encoding="utf-8"))
        strings = list(alto.iter(f"{A}String"))
        assert [e.get("CONTENT") for e in strings] == [w["text"] for w in json_words]
        assert alto.find(f".//{A}Page").get("PHYSICAL_IMG_NR") == str(entry["page"] or 1)
        assert (int(alto.find(f".//{A}Page").get("WIDTH")), int(alto.find(
            f".//{A}Page").get("HEIGHT"))) == (entry["width"], entry["height"])


def test_export_command_writes_each_page_and_reports_failed_ones(tmp_path, fakes):  # noqa: F811
    folder = tmp_path / "in"
    write_pdf(folder / "doc.pdf", [["ab", "c"], ["de"]])
    save(page(["fgh"]), folder / "photo.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    results = tmp_path / "r.json"
    assert run_cli(folder, "--out", results, "--dpi", 72).exit_code == 1
    # A word with characters XML must escape, as a recognizer could read them.
    data = json.loads(results.read_text())
    first = next(e for e in data["images"] if e["page"] == 1)
    assert first["text"] == "a b\nc"
    first["lines"][0]["words"][0]["text"] = '<&>"Ж'
    first["lines"][0]["text"] = '<&>"Ж b'
    first["text"] = '<&>"Ж b\nc'
    results.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "exports"
    result = export_cli(results, "--format", "hocr,alto,txt", "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{stem}.{ext}" for stem in ("doc_p1", "doc_p2", "photo")
        for ext in ("txt", "hocr", "xml"))
    assert "9 files (hocr, alto, txt) for 3 pages" in result.output
    assert "1 failed entries have no files" in result.output and "broken.png" in result.output
    check_against_results(out, data["images"])
    assert (out / "doc_p1.txt").read_text(encoding="utf-8") == '<&>"Ж b\nc'


def test_export_command_usage_errors(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps({"images": []}))
    result = export_cli(tmp_path / "r.json", "--format", "pdf", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "--format: unknown format 'pdf'" in result.output
    (tmp_path / "bad.json").write_text("{not json")
    result = export_cli(tmp_path / "bad.json", "--format", "txt", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "not a readable results JSON" in result.output
    (tmp_path / "odd.json").write_text(json.dumps({"images": [{"file": "a", "lines": [{}]}]}))
    result = export_cli(tmp_path / "odd.json", "--format", "txt", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "images[0] is not a results entry" in result.output
    (tmp_path / "file").write_text("x")
    result = export_cli(tmp_path / "r.json", "--format", "txt", "--out", tmp_path / "file")
    assert result.exit_code == 2 and "is a file" in result.output


def test_run_export_writes_files_beside_the_results(tmp_path, fakes):  # noqa: F811
    write_pdf(tmp_path / "in" / "doc.pdf", [["ab"], ["c"]])
    save(page(["d"]), tmp_path / "in" / "img.png")
    results = tmp_path / "res" / "r.json"
    result = run_cli(tmp_path / "in", "--out", results, "--dpi", 72, "--export", "txt,alto,hocr")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "res"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["r.json"] + [f"{s}.{e}" for s in ("doc_p1", "doc_p2", "img")
                      for e in ("txt", "xml", "hocr")])
    check_against_results(folder, json.loads(results.read_text())["images"])
    other = tmp_path / "elsewhere"
    result = run_cli(tmp_path / "in" / "img.png", "--out", results, "--export", "txt",
                     "--export-dir", other)
    assert result.exit_code == 0, result.output
    assert [p.name for p in other.iterdir()] == ["img.txt"]
    result = run_cli(tmp_path / "in" / "img.png", "--out", results, "--export", "docx")
    assert result.exit_code == 2 and "--export: unknown format 'docx'" in result.output


def test_run_export_keeps_what_a_killed_run_exported(tmp_path, fakes,  # noqa: F811
                                                     monkeypatch):
    from pipeline.ocr import OcrPipeline

    real = OcrPipeline.iter_pages

    def killed_after_two(self, images):
        for n, item in enumerate(real(self, images)):
            if n == 2:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(OcrPipeline, "iter_pages", killed_after_two)
    pdf = write_pdf(tmp_path / "doc.pdf", [["a"], ["b"], ["c"]])
    run_cli(pdf, "--out", tmp_path / "r.json", "--dpi", 72, "--export", "txt",
            "--export-dir", tmp_path / "x")
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["doc_p1.txt", "doc_p2.txt"]
    assert (tmp_path / "x" / "doc_p2.txt").read_text() == "b"

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from synth.receipts import ReceiptRenderer, _Bend, _dot_matrix, receipt_face, receipt_rows
from synth.text import WordSampler
from tests.synth.checks import assert_alphabet, assert_ink_agrees, assert_inside

PRICE = re.compile(r"^=?\d+[.,]\d\d$")


@pytest.fixture(scope="module")
def receipts(fonts):
    return ReceiptRenderer(fonts=fonts, long_side=720)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_rows_hold_a_receipts_fields_and_the_total_adds_up(lang):
    sampler = WordSampler(lang)
    for i in range(5):
        rows = receipt_rows(np.random.default_rng([3, i]), lang, sampler)
        text = "\n".join(f"{r.left} {r.right}" for r in rows)
        if lang == "ru":
            assert "ИТОГО" in text and re.search(r"ИНН \d{10}(\d\d)?\b", text)
            assert re.search(r"\d\d\.\d\d\.20\d\d \d\d:\d\d", text)
            total_row = next(r for r in rows if r.left == "ИТОГО")
        else:
            assert "TOTAL" in text and "VAT" in text
            assert re.search(r"\d\d:\d\d", text)
            total_row = next(r for r in rows if r.left == "TOTAL")
        assert total_row.big
        # item amounts: rows between the date rule and the total row that end in a price
        start = next(k for k, r in enumerate(rows) if r.rule) + 1
        stop = rows.index(total_row) - (2 if lang == "en" else 0)  # en: SUBTOTAL, VAT first
        amounts = [float(r.right.lstrip("=").replace(",", "."))
                   for r in rows[start:stop] if r.right and PRICE.match(r.right)]
        assert amounts
        total = float(total_row.right.lstrip("=").replace(",", "."))
        assert sum(amounts) == pytest.approx(total, abs=0.011)


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="ru"):
        receipt_rows(np.random.default_rng(0), "de", WordSampler("en"))


def test_receipt_faces_are_upright_mono_or_condensed(receipts):
    for faces in receipts.faces.values():
        assert faces
        for f in faces:
            low = f"{f.family} {f.path}".lower()
            assert "italic" not in low and "oblique" not in low
            assert f.style == "mono" or "condensed" in low or "narrow" in low
            assert receipt_face(f)


def test_receipts_have_words_and_lines_whose_polygons_cover_their_ink(receipts):
    for i in range(3):
        s = receipts.render(np.random.default_rng([21, i]))
        assert max(s.image.shape[:2]) == 720
        words = [a for a in s.annotations if a.category == "word"]
        lines = [a for a in s.annotations if a.category == "line"]
        assert len(words) >= 20 and len(lines) >= 10
        assert " ".join(a.text for a in lines).split() == [a.text for a in words]
        assert_inside(s)
        assert_alphabet(s)
        assert assert_ink_agrees(s, "word") >= 0.9 * len(words)
        # a narrow strip: the receipt's text spans well under the photo's width
        xs = np.vstack([a.polygon for a in lines])[:, 0]
        assert np.ptp(xs) < 0.95 * s.image.shape[1]


def test_prices_are_lines_of_their_own_right_of_the_item(receipts):
    s = receipts.render(np.random.default_rng([22, 0]))
    lines = [a for a in s.annotations if a.category == "line"]
    prices = [k for k, a in enumerate(lines) if PRICE.match(a.text) and k > 0]
    assert prices
    for k in prices:
        left, price = lines[k - 1].polygon, lines[k].polygon
        assert price[:, 0].mean() > left[:, 0].mean()


def test_bend_moves_points_as_it_moves_pixels():
    """A dot drawn on the strip lands where ``forward`` sends its centre."""
    w, h = 200, 500
    for i in range(3):
        bend = _Bend(w, h, np.random.default_rng([5, i]))
        img = np.zeros((h, w, 3), np.uint8)
        ink = np.zeros((h, w), np.int32)
        for k, (x, y) in enumerate([(20, 30), (180, 250), (100, 480), (10, 470)], start=1):
            ink[y - 2:y + 3, x - 2:x + 3] = k
            out_img, out_ink, cover = bend.apply(img, ink)
            ys, xs = np.nonzero(out_ink == k)
            assert len(xs)
            moved = bend.forward(np.array([[x, y]], float))[0]
            assert abs(xs.mean() - moved[0]) < 1.5 and abs(ys.mean() - moved[1]) < 1.5
        assert cover.max() == pytest.approx(1.0)


def test_receipts_are_deterministic(receipts):
    a = receipts.render(np.random.default_rng([8, 1]))
    b = receipts.render(np.random.default_rng([8, 1]))
    assert np.array_equal(a.image, b.image)
    assert [x.text for x in a.annotations] == [x.text for x in b.annotations]


def test_bad_share_is_refused(fonts):
    with pytest.raises(ValueError, match="ru_prob"):
        ReceiptRenderer(fonts=fonts, ru_prob=1.5)
    with pytest.raises(ValueError, match="scan_prob"):
        ReceiptRenderer(fonts=fonts, scan_prob=-0.1)
    with pytest.raises(ValueError, match="office_prob"):
        ReceiptRenderer(fonts=fonts, scan_prob=1.0, office_prob=2.0)


def assert_lines_hold_the_words_over_their_ink(sample):
    """The lines read as the words, every polygon is inside the image, and at least 90 % of
    the words' polygons cover their ink; returns the lines."""
    words = [a for a in sample.annotations if a.category == "word"]
    lines = [a for a in sample.annotations if a.category == "line"]
    assert " ".join(a.text for a in lines).split() == [a.text for a in words]
    assert_inside(sample)
    assert assert_ink_agrees(sample, "word") >= 0.9 * len(words)
    return lines


def test_scanned_receipts_are_flat_strips_whose_polygons_cover_their_ink(fonts):
    scanned = ReceiptRenderer(fonts=fonts, long_side=720, scan_prob=1.0)
    photographed = ReceiptRenderer(fonts=fonts, long_side=720)
    for i in range(3):
        rng = np.random.default_rng([23, i])
        s = scanned.render(rng)
        lines = assert_lines_hold_the_words_over_their_ink(s)
        # the scan is the strip and the lid's margin: the text spans most of its width, and
        # its size is the printed size, not the photo frame's
        h, w = s.image.shape[:2]
        assert max(h, w) != 720
        xs = np.vstack([a.polygon for a in lines])[:, 0]
        assert np.ptp(xs) > 0.6 * w
        # flat: every line's top edge runs within 1.5 degrees of horizontal
        for a in lines:
            (x0, y0), (x1, y1) = a.polygon[0], a.polygon[len(a.polygon) // 4]
            if x1 - x0 > 20:
                assert abs(np.degrees(np.arctan2(y1 - y0, x1 - x0))) < 2.0
    # scan_prob 0 draws nothing more: the photographed receipts of a seed stay as they were
    zero = ReceiptRenderer(fonts=fonts, long_side=720, scan_prob=0.0)
    a = zero.render(np.random.default_rng([8, 1]))
    b = photographed.render(np.random.default_rng([8, 1]))
    assert np.array_equal(a.image, b.image)


def test_office_scans_put_a_small_strip_on_an_a4_page_whose_polygons_cover_their_ink(fonts):
    office = ReceiptRenderer(fonts=fonts, long_side=720, scan_prob=1.0, office_prob=1.0)
    for i in range(3):
        s = office.render(np.random.default_rng([31, i]))
        lines = assert_lines_hold_the_words_over_their_ink(s)
        h, w = s.image.shape[:2]
        assert h / w == pytest.approx(np.sqrt(2), abs=0.01)   # a portrait A4 page
        # the strip is a quarter to half of the page's width: its text spans no more
        xs = np.vstack([a.polygon for a in lines])[:, 0]
        assert 0.1 * w < np.ptp(xs) < 0.55 * w
    # office_prob 0 draws nothing more: the flat scans of a seed stay as they were
    flat = ReceiptRenderer(fonts=fonts, long_side=720, scan_prob=1.0)
    zero = ReceiptRenderer(fonts=fonts, long_side=720, scan_prob=1.0, office_prob=0.0)
    a = zero.render(np.random.default_rng([23, 0]))
    b = flat.render(np.random.default_rng([23, 0]))
    assert np.array_equal(a.image, b.image)


def test_dot_matrix_print_keeps_the_ink_only_under_the_heads_dots():
    blank = np.full((40, 60, 3), 250, np.uint8)
    printed = blank.copy()
    printed[10:30, 10:50] = 20                        # a solid block of print
    out = _dot_matrix(printed, blank, np.random.default_rng(0))
    block = out[10:30, 10:50, 0].astype(int)
    assert (block < 60).mean() > 0.05                 # dots still print dark...
    assert (block > 200).mean() > 0.3                 # ...with paper between them
    assert np.array_equal(out[:5], blank[:5])         # and paper stays paper


def test_cli_writes_coco_receipts(tmp_path):
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["synth", "receipts", "--out", str(out), "--n", "2",
                                      "--size", "480", "--no-progress"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "annotations.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in data["categories"]] == ["word", "line"]
    assert len(data["images"]) == 2
    for im in data["images"]:
        assert max(im["width"], im["height"]) == 480
        assert (out / "images" / im["file_name"]).is_file()
    assert all(a["attributes"]["translation"] for a in data["annotations"])


def _one_receipt(out, *options):
    """The image entry of one receipt written by ``synth receipts`` with ``options``."""
    ok = CliRunner().invoke(app, ["synth", "receipts", "--out", str(out), "--n", "1",
                                  *options, "--no-progress"])
    assert ok.exit_code == 0, ok.output
    return json.loads((out / "annotations.json").read_text(encoding="utf-8"))["images"][0]


def test_cli_scan_prob_applies_to_receipts_only(tmp_path):
    bad = CliRunner().invoke(app, ["synth", "lines", "--out", str(tmp_path / "l"),
                                   "--scan-prob", "0.5"])
    assert bad.exit_code != 0 and "--scan-prob applies to kind 'receipts'" in bad.output
    im = _one_receipt(tmp_path / "s", "--scan-prob", "1")
    assert max(im["height"], im["width"]) != 1600  # a photo's long side is 1600 exactly


def test_cli_office_prob_applies_to_receipts_only(tmp_path):
    bad = CliRunner().invoke(app, ["synth", "notebooks", "--out", str(tmp_path / "n"),
                                   "--office-prob", "0.5"])
    assert bad.exit_code != 0 and "--office-prob applies to kind 'receipts'" in bad.output
    im = _one_receipt(tmp_path / "o", "--scan-prob", "1", "--office-prob", "1")
    assert im["height"] / im["width"] == pytest.approx(np.sqrt(2), abs=0.01)


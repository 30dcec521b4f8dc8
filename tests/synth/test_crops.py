import re

import cv2
import numpy as np
import pytest

from recognition.alphabet import PROVINCES, unsupported_chars
from synth.fonts import FontBook
from synth.lines import (
    LineRenderer,
    hyphen_break,
    typographic_ligatures,
    typographic_quotes,
)
from synth.plates import (
    ONE_ROW_MIN_ASPECT,
    TWO_ROW_MAX_ASPECT,
    PlateCanvas,
    PlateCropRenderer,
    PlateDesigner,
)


@pytest.fixture(scope="module")
def lines(fonts):
    return LineRenderer(fonts=fonts)


@pytest.fixture(scope="module")
def plates(fonts):
    return PlateCropRenderer(fonts=fonts)


def test_line_crops_are_labelled_inked_and_sized(lines):
    for i in range(40):
        s = lines.render(np.random.default_rng([3, i]))
        h, w = s.image.shape[:2]
        assert s.image.dtype == np.uint8 and s.image.shape[2] == 3
        assert 32 <= h <= 96 and w >= 8
        assert s.text.strip() == s.text and s.text
        assert not unsupported_chars(s.text)
        gray = s.image.mean(2)
        assert gray.max() - gray.min() > 40  # there is ink on it


def test_line_crops_are_deterministic(lines):
    a = lines.render(np.random.default_rng([5, 7]))
    b = lines.render(np.random.default_rng([5, 7]))
    assert a.text == b.text and np.array_equal(a.image, b.image)


def test_typographic_quotes():
    assert typographic_quotes('"Yes," she said, "it\'s \'ok\'."') == (
        "\u201cYes,\u201d she said, \u201cit\u2019s \u2018ok\u2019.\u201d")
    assert typographic_quotes("(\"a\")") == "(\u201ca\u201d)"
    assert typographic_quotes("no quotes") == "no quotes"


def test_hyphen_break_cuts_the_last_word():
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = hyphen_break("the city suddenly appeared", rng)
        head, last = out.rsplit(" ", 1)
        assert head == "the city suddenly"
        assert last.endswith("-") and "appeared".startswith(last[:-1])
        assert 2 <= len(last) - 1 <= 6
    assert hyphen_break('he said "hello', rng).startswith('he said "he')  # quote kept
    assert hyphen_break("ok hi", rng) == "ok hi"  # too short to break
    assert hyphen_break("page 12345", rng) == "page 12345"


def test_break_prob_ends_printed_lines_with_a_hyphen(fonts):
    on = LineRenderer(fonts=fonts, hand_prob=0.0, line_prob=1.0, break_prob=1.0)
    texts = [on.render(np.random.default_rng([4, i])).text for i in range(12)]
    assert sum(t.endswith("-") for t in texts) >= 6
    off = LineRenderer(fonts=fonts, hand_prob=0.0, line_prob=1.0)
    plain = [off.render(np.random.default_rng([4, i])).text for i in range(12)]
    # off, the same seeds draw the same texts as before the option existed
    assert all(t == p or (t.endswith("-") and p.rsplit(" ", 1)[-1].startswith(
        t.rsplit(" ", 1)[-1][:-1])) for t, p in zip(texts, plain, strict=True))


def test_bilevel_printed_crops_look_like_1_bit_scans(fonts):
    renderer = LineRenderer(fonts=fonts, hand_prob=0.0, bilevel_prob=1.0, curly_prob=1.0)
    for i in range(12):
        s = renderer.render(np.random.default_rng([9, i]))
        img = s.image.astype(int)
        # Black on white, no colour, no noise: pure white paper around the ink.
        assert (img[:, :, 0] == img[:, :, 1]).all() and (img[:, :, 1] == img[:, :, 2]).all()
        assert (img[0] == 255).all() and (img[-1] == 255).all()
        assert img.min() < 60
        assert "\u201c" not in s.text and "\u2019" not in s.text  # labels keep straight quotes


def test_ligatures_replace_letter_pairs_with_single_glyphs(fonts):
    assert typographic_ligatures("office affluent fifty") == "o\ufb03ce a\ufb04uent \ufb01fty"
    assert typographic_ligatures("staff flat") == "sta\ufb00 \ufb02at"
    from synth.glyphs import draw_text

    face = next(f for f in fonts.fonts("serif", "latin") if f.covers("\ufb01"))
    apart, joined = draw_text(face, 48, "fi"), draw_text(face, 48, "\ufb01")
    assert joined.mask.shape[1] < apart.mask.shape[1]  # one glyph, not two side by side


def test_ligature_prob_draws_ligatures_on_serif_and_sans_crops(fonts, monkeypatch):
    import synth.lines as lines_mod

    drawn = []
    real = lines_mod.typographic_ligatures
    monkeypatch.setattr(lines_mod, "typographic_ligatures",
                        lambda text: drawn.append(text) or real(text))
    renderer = LineRenderer(fonts=fonts, hand_prob=0.0, line_prob=1.0, max_words=8,
                            natural_words=True, ligature_prob=1.0)
    texts = [renderer.render(np.random.default_rng([8, i])).text for i in range(30)]
    assert 10 <= len(drawn) < 30  # serif and sans crops only, not mono (about 2 in 3)
    assert all(c < "\ufb00" or c > "\ufb04" for t in texts for c in t)  # labels keep letters
    assert set(drawn) <= set(texts) | {typographic_quotes(t) for t in texts}


def _with_and_without(option: str, seed: int, n: int = 12, **kw):
    """Crops of the same seeds drawn with ``option`` at 1.0 and off."""
    on, off = LineRenderer(**{option: 1.0}, **kw), LineRenderer(**kw)
    for i in range(n):
        yield on.render(np.random.default_rng([seed, i])), off.render(
            np.random.default_rng([seed, i]))


def test_quote_prob_quotes_a_run_of_words_of_printed_lines(fonts):
    quoted = 0
    for a, b in _with_and_without("quote_prob", 6, fonts=fonts, hand_prob=0.0, line_prob=1.0):
        marks = '"«».,?!;:'
        assert [w.strip(marks).lower() for w in a.text.split(" ")] == \
            [w.strip(marks).lower() for w in b.text.split(" ")]  # same words, quoted
        quoted += ('"' in a.text or "«" in a.text or "»" in a.text)
    assert quoted >= 10  # skipped only where a face lacks a quote glyph


def test_neighbour_prob_shows_strips_of_the_lines_above_and_below(fonts):
    edged = 0
    for a, b in _with_and_without("neighbour_prob", 5, fonts=fonts, hand_prob=0.0,
                                  bilevel_prob=1.0):
        assert a.text == b.text  # the label is the crop's own text
        assert (b.image[0] == 255).all() and (b.image[-1] == 255).all()
        edged += bool((a.image[0] < 128).any() or (a.image[-1] < 128).any())
    assert edged >= 8  # each strip is drawn with p 0.8 and may miss a short line's ink


@pytest.mark.parametrize("layout", [
    "ru", "ru_square", "eu", "us", "cn_blue", "cn_green", "cn_yellow", "cn_yellow_two_row",
    "br", "br_grey", "ua"])
def test_every_plate_layout(fonts, layout):
    renderer = PlateCropRenderer(fonts=fonts, layouts=[layout])
    for i in range(12):
        s = renderer.render(np.random.default_rng([len(layout), i]))
        h, w = s.image.shape[:2]
        assert " " not in s.text and not unsupported_chars(s.text)
        two_row = layout in ("ru_square", "cn_yellow_two_row")
        if two_row:
            assert w / h <= TWO_ROW_MAX_ASPECT
        else:
            assert w / h >= ONE_ROW_MIN_ASPECT
        if layout == "ru":
            assert re.fullmatch(r"[АВЕКМНОРСТУХ]\d{3}[АВЕКМНОРСТУХ]{2}\d{2,3}", s.text), s.text
            assert s.region == "ru"
        if layout.startswith("cn"):
            assert s.region == "cn" and s.text[0] in PROVINCES
            assert len(s.text) == (8 if layout == "cn_green" else 7)
        if layout == "br":  # Mercosur: three letters, digit, letter, two digits
            assert s.region == "br" and re.fullmatch(r"[A-Z]{3}\d[A-Z]\d{2}", s.text), s.text
        if layout == "br_grey":  # ABC-1234, the hyphen drawn but not labelled
            assert s.region == "br" and re.fullmatch(r"[A-Z]{3}\d{4}", s.text), s.text
        if layout == "ua":  # AA1234BB in Latin look-alikes, the registry's transcription
            assert s.region == "ua" and re.fullmatch(r"[ABCEHIKMOPTX]{2}\d{4}[ABCEHIKMOPTX]{2}",
                                                     s.text), s.text
        if layout == "us":  # 4-7 characters; O is written 0, as in US ground truth
            assert s.region == "us" and 4 <= len(s.text) <= 7 and "O" not in s.text


def test_plate_art_ink_is_only_the_labelled_characters(fonts):
    designer = PlateDesigner(fonts)
    art = designer.draw(np.random.default_rng(0), "us")
    # the state name sits above the number; its rows carry no labelled ink
    assert art.ink[:36].max() < 60
    assert art.ink[44:118].max() > 200


def test_us_number_band_holds_all_labelled_ink(fonts):
    from recognition.preprocess import text_band_rows

    designer = PlateDesigner(fonts)
    found = 0
    for i in range(20):
        art = designer.draw(np.random.default_rng([7, i]), "us")
        rows = np.where(art.ink.max(axis=1) > 128)[0]
        band = text_band_rows(cv2.cvtColor(art.image, cv2.COLOR_RGB2GRAY))
        if band is not None and band[0] <= rows[0] and rows[-1] < band[1] and band[0] >= 30:
            found += 1  # the number's rows, without the state name above
    assert found >= 16


def test_us_plates_also_use_condensed_display_faces(fonts):
    designer = PlateDesigner(fonts)  # set-up installs fonts-bebas-neue, fonts-roboto-unhinted
    display = [f for f in designer.us_fonts if f.style == "display"]
    assert {f.family for f in display} >= {"Bebas Neue", "Roboto Condensed"}
    assert not any(k in f.path.lower() for f in display for k in ("italic", "light", "thin"))
    assert all(f in designer.us_fonts for f in designer.plate_fonts)
    drawn = {designer._us_styled(np.random.default_rng([9, i])).text for i in range(30)}
    assert len(drawn) == 30
    # without display faces installed, US plates fall back to the bold sans faces
    plain = PlateDesigner(FontBook([f for f in fonts.faces if f.style != "display"]))
    assert plain.us_fonts == plain.plate_fonts


def _ink_gaps(ink: np.ndarray) -> list[int]:
    """Widths of the blank column runs between inked columns."""
    cols = np.flatnonzero((ink > 128).any(axis=0))
    steps = np.diff(cols)
    return [int(s) - 1 for s in steps if s > 1]


def test_plate_tracking_keeps_gaps_between_characters(fonts):
    face = PlateDesigner(fonts).plate_fonts[0]
    tight, spaced = PlateCanvas(200, 80, (255, 255, 255)), PlateCanvas(200, 80, (255, 255, 255))
    tight.chars("MWMW", face, (0, 0, 200, 80), (0, 0, 0))  # wide glyphs squeezed to fit
    spaced.chars("MWMW", face, (0, 0, 200, 80), (0, 0, 0), tracking=0.5)
    t, s = _ink_gaps(tight.ink), _ink_gaps(spaced.ink)
    assert len(s) == 3 and len(t) <= 3
    glyph = (200 - sum(s)) / 4
    assert min(s) >= 0.3 * glyph > max(t, default=0)


def test_unknown_plate_layout_is_rejected(fonts):
    with pytest.raises(ValueError, match="unknown plate layouts"):
        PlateCropRenderer(fonts=fonts, layouts=["mars"])


def test_hand_warp_prob_moves_handwriting_ink_and_keeps_the_label(fonts):
    changed = 0
    for a, b in _with_and_without("hand_warp_prob", 8, n=8, fonts=fonts, hand_prob=1.0,
                                  line_prob=1.0):
        assert a.text == b.text
        changed += a.image.shape != b.image.shape or not np.array_equal(a.image, b.image)
    assert changed == 8


def test_hand_warp_drifts_the_baseline_and_keeps_the_ink():
    from synth.degrade import hand_warp

    mask = np.zeros((40, 400), np.uint8)
    mask[18:22, 10:390] = 255  # a straight horizontal stroke
    out = hand_warp(mask, 40, np.random.default_rng(3), strength=1.5)
    assert out.shape[1] == mask.shape[1] and out.shape[0] > mask.shape[0]
    ink = out > 64
    rows = [np.flatnonzero(ink[:, x]).mean() for x in range(20, 380, 20) if ink[:, x].any()]
    assert len(rows) >= 15  # the stroke is still there along the line
    assert max(rows) - min(rows) > 1.5  # ... but no longer straight
    assert 0.5 < (out > 64).sum() / (mask > 64).sum() < 1.6
    again = hand_warp(mask, 40, np.random.default_rng(3), strength=1.5)
    assert np.array_equal(out, again)

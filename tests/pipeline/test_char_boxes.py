"""Character boxes (``pipeline run --char-boxes``): CTC columns → crop fractions → page boxes,
the fallback for texts changed after reading, and the invariants on a page read by the
shipped documents models."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from core.offline import local_font
from pipeline.assembler import Assembler, word_chars
from pipeline.ocr import OcrPipeline
from pipeline.presets import AssemblerConfig
from pipeline.results import Page, Word
from pipeline.steps import char_boxes, crop_quad
from recognition.decoding import ctc_char_spans, ctc_word_spans
from recognition.predictor import two_row_chars
from recognition.preprocess import PreprocessConfig
from recognition.tokenizer import Tokenizer
from recognition.types import Recognition
from tests.pipeline.fakes import page as grey_page
from tests.pipeline.test_run_cli import fakes, run_cli, save  # noqa: F401


def test_ctc_char_spans_split_between_emissions_and_agree_with_word_spans():
    tok = Tokenizer("ab c")  # classes: 0 blank, 1 a, 2 b, 3 space, 4 c
    # columns: a a _ b _ _ ' ' _ c c   -> "ab c": words "ab" (cols 0-4), "c" (cols 8-10)
    ids = [1, 1, 0, 2, 0, 0, 3, 0, 4, 4]
    probs = [0.9, 0.8, 1.0, 0.6, 1.0, 1.0, 1.0, 1.0, 0.7, 0.95]
    chars = ctc_char_spans(ids, probs, tok)
    assert tok.decode_ctc(ids) == "ab c" and len(chars) == 3  # the space has no box
    (a0, a1, pa), (b0, b1, pb), (c0, c1, pc) = chars
    assert (pa, pb, pc) == (0.9, 0.6, 0.95)  # the best column of each character's run
    assert a1 == b0 == pytest.approx(2.5 / 10)  # border: middle of the blank between runs
    assert a0 < b0 < b1 <= c0 < c1  # left to right, word "c" after the gap
    words = ctc_word_spans(ids, tok)  # first/last characters reach as far as the words
    assert (a0, b1) == pytest.approx(words[0]) and (c0, c1) == pytest.approx(words[1])


def test_char_boxes_map_crop_fractions_through_the_crop_quad():
    quad = crop_quad(np.array([[10, 20], [110, 20], [110, 40], [10, 40]], float))
    [(box, score)] = char_boxes([(0.25, 0.0, 0.5, 1.0, 0.8)], quad)
    assert box == pytest.approx((35, 20, 60, 40)) and score == 0.8
    # a crop of the image turned upright: its top edge runs down the image
    turned = np.array([[40, 10], [40, 110], [20, 110], [20, 10]], float)
    [(box, _)] = char_boxes([(0.25, 0.0, 0.5, 1.0, 0.8)], turned)
    assert box == pytest.approx((20, 35, 40, 60))


def test_two_row_crop_characters_go_back_to_their_row():
    cfg = PreprocessConfig(height=32, width=128, two_row_aspect=1.75)
    rec = Recognition("AB12", 0.9, chars=((0.0, 0, 0.2, 1, 0.9), (0.25, 0, 0.45, 1, 0.9),
                                          (0.55, 0, 0.75, 1, 0.9), (0.8, 0, 1.0, 1, 0.9)))
    out = two_row_chars(rec, np.zeros((60, 80, 3), np.uint8), cfg)  # w / h = 1.33: two rows
    assert [c[1] for c in out.chars] == [0.0, 0.0, 0.5, 0.5]  # top row, then bottom row
    assert out.chars[0][:3] == (0.0, 0.0, 0.4) and out.chars[2][0] == pytest.approx(0.1)
    assert two_row_chars(rec, np.zeros((20, 80, 3), np.uint8), cfg) is rec  # one row: as it is


def test_row_split_characters_go_back_to_rows_of_their_own_height():
    # a small top row (rows 0-19) over a large bottom one (rows 20-59), cut between them
    crop = np.full((60, 80, 3), 255, np.uint8)
    crop[4:16, 30:50] = 0
    crop[24:56, 5:75:10] = 0
    cfg = PreprocessConfig(height=32, width=128, two_row_aspect=1.75, row_split=True)
    rec = Recognition("AB12", 0.9, chars=((0.0, 0, 0.2, 1, 0.9), (0.25, 0, 0.45, 1, 0.9),
                                          (0.55, 0, 0.75, 1, 0.9), (0.8, 0, 1.0, 1, 0.9)))
    out = two_row_chars(rec, crop, cfg)
    assert [c[1] for c in out.chars] == pytest.approx([0.0, 0.0, 1 / 3, 1 / 3], abs=0.05)
    assert [c[3] for c in out.chars] == pytest.approx([1 / 3, 1 / 3, 1.0, 1.0], abs=0.05)
    assert out.chars[0][:3] == (0.0, 0.0, 0.4) and out.chars[2][0] == pytest.approx(0.1)


def _check(word: Word):
    letters = "".join(word.text.split())
    assert "".join(c.text for c in word.chars) == letters
    x1, y1, x2, y2 = word.bbox
    for c in word.chars:
        a, b, cx, d = c.bbox
        assert x1 <= a <= cx <= x2 and y1 <= b <= d <= y2
        assert 0.0 <= c.score <= 1.0
    lefts = [c.bbox[0] for c in word.chars]
    assert lefts == sorted(lefts)


def test_text_changed_after_reading_keeps_the_invariants():
    box = (10.0, 20.0, 110.0, 40.0)
    read = tuple(((10 + 20 * k, 20.0, 30 + 20 * k, 40.0), 0.9) for k in range(5))
    word = Word("offce", ((10, 20), (110, 20), (110, 40), (10, 40)), box, rec_score=0.2,
                read_chars=read)
    same = word_chars(word)  # as read: the CTC boxes
    assert [c.bbox for c in same] == [b for b, _ in read]
    _check(Word(**{**word.__dict__, "chars": same}))
    longer = Word(**{**word.__dict__, "text": "office"})  # the lexicon added a letter
    chars = word_chars(longer)
    assert [c.bbox[0] for c in chars] == pytest.approx([10 + 100 * k / 6 for k in range(6)])
    assert all(c.score == pytest.approx(0.2 ** (1 / 6)) for c in chars)
    _check(Word(**{**longer.__dict__, "chars": chars}))
    assert word_chars(Word("", word.polygon, box)) == ()


def test_assembler_adds_chars_only_when_asked():
    word = Word("ab", ((0, 0), (20, 0), (20, 10), (0, 10)), (0.0, 0.0, 20.0, 10.0),
                rec_score=0.9)
    [line] = Assembler().assemble([word])
    assert line.words[0].chars is None and "chars" not in line.words[0].export()
    [line] = Assembler(AssemblerConfig(char_boxes=True)).assemble([word])
    exported = line.words[0].export()["chars"]
    assert [c["text"] for c in exported] == ["a", "b"]
    back = Page.from_dict(Page("p", 20, 10, (line,)).export())
    assert back.lines[0].words[0].export() == line.words[0].export()


def text_page(lines: list[str], size: int = 30, width: int = 900) -> np.ndarray:
    """Printed lines the shipped documents detector and reader read well."""
    img = Image.new("RGB", (width, 80 + 60 * len(lines)), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(local_font()), size)
    for k, text in enumerate(lines):
        draw.text((40, 40 + 60 * k), text, fill="black", font=font)
    return np.asarray(img)


@pytest.fixture(scope="module")
def documents_chars():
    return OcrPipeline.from_preset("documents", overrides=["assembler.char_boxes=true"])


def test_shipped_reader_gives_char_boxes_on_the_ink(documents_chars):
    image = text_page(["The river flows south", "Старый дом у реки"])
    [page] = documents_chars.run([image])
    words = [w for w in page.words if w.text]
    assert len(words) >= 2 and "river" in page.text
    gray = image.min(axis=2)
    for word in words:
        _check(word)
        assert word.read_chars is not None  # placed by the CTC columns, not split evenly
        for c in word.chars:  # every letter's box holds ink
            x1, y1, x2, y2 = (int(round(v)) for v in c.bbox)
            assert (gray[y1:y2, x1:x2] < 128).any(), (word.text, c)


def test_run_char_boxes_option(tmp_path, fakes):  # noqa: F811
    save(grey_page(["abc", "de"]), tmp_path / "p.png")
    out = tmp_path / "r.json"
    assert run_cli(tmp_path / "p.png", "--out", out).exit_code == 0
    word = json.loads(out.read_text())["images"][0]["lines"][0]["words"][0]
    assert "chars" not in word
    result = run_cli(tmp_path / "p.png", "--out", out, "--char-boxes")
    assert result.exit_code == 0, result.output
    for line in json.loads(out.read_text())["images"][0]["lines"]:
        for word in line["words"]:  # the fake reader places no characters: even split
            assert "".join(c["text"] for c in word["chars"]) == word["text"]
            assert word["chars"][0]["bbox"][0] == word["bbox"][0]

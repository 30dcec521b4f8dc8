import numpy as np
import pytest
import torch

from recognition.alphabet import DEFAULT_ALPHABET
from recognition.preprocess import (
    PreprocessConfig,
    join_two_rows,
    prepare_image,
    preprocess_batch,
    row_cut,
    smart_resize,
    stretch_to_aspect,
    text_band_rows,
    valid_columns,
    white_background,
)
from recognition.tokenizer import Tokenizer


def test_default_charset_covers_latin_cyrillic_and_provinces():
    tok = Tokenizer("default")
    assert tok.charset == DEFAULT_ALPHABET
    assert not tok.unsupported("Ёлка Zebra 42 皖A12345")
    assert tok.unsupported("€") == {"€"}


def test_ctc_roundtrip_and_collapse():
    tok = Tokenizer("ab")
    targets, lengths = tok.encode_ctc(["ab", "b"])
    assert targets.tolist() == [1, 2, 2] and lengths.tolist() == [2, 1]
    assert tok.decode_ctc([0, 1, 1, 0, 1, 2, 2, 0]) == "aab"


def test_attention_encode_decode():
    tok = Tokenizer("abc")
    rows = tok.encode_attention(["abc", "c"], max_length=10)
    assert rows.tolist() == [[1, 3, 4, 5, 2], [1, 5, 2, 0, 0]]
    assert tok.decode_attention(rows[0, 1:].tolist()) == "abc"
    assert tok.decode_attention(rows[1, 1:].tolist()) == "c"


def test_tokenizer_dict_roundtrip():
    tok = Tokenizer("xyz")
    assert Tokenizer.from_dict(tok.to_dict()).charset == "xyz"


def test_smart_resize_keeps_aspect_and_pads_white():
    img = np.zeros((10, 20, 3), np.uint8)
    out, w = smart_resize(img, 32, 128)
    assert out.shape == (32, 128, 3) and w == 64
    assert (out[:, 64:] == 255).all() and (out[:, :64] == 0).all()
    wide = np.zeros((10, 1000, 3), np.uint8)
    out, w = smart_resize(wide, 32, 128)
    assert w == 128 and out.shape == (32, 128, 3)


def test_black_background_becomes_white_but_black_ink_stays():
    img = np.full((20, 40, 3), 200, np.uint8)
    img[:3, :] = 0          # masked-out border (touches corners)
    img[10:12, 15:25] = 0   # ink in the middle
    out = white_background(img)
    assert (out[:3] == 255).all()
    assert (out[10:12, 15:25] == 0).all()


def test_two_row_plate_reads_top_then_bottom():
    img = np.zeros((40, 50, 3), np.uint8)
    img[:20] = 10
    img[20:] = 20
    joined = join_two_rows(img, 1.75)
    assert joined.shape == (20, 100, 3)
    assert (joined[:, :50] == 10).all() and (joined[:, 50:] == 20).all()
    assert join_two_rows(img, None) is img
    wide = np.zeros((20, 100, 3), np.uint8)
    assert join_two_rows(wide, 1.75) is wide


def _cn_two_row(top_rows: tuple[int, int] = (6, 20), bottom_rows: tuple[int, int] = (26, 56)
                ) -> np.ndarray:
    """60x80 plate: two small marks high up (province and letter), five tall bars below."""
    img = np.full((60, 80, 3), 200, np.uint8)
    img[top_rows[0]:top_rows[1], 25:33] = 20
    img[top_rows[0]:top_rows[1], 45:53] = 20
    for x in range(6, 76, 15):
        img[bottom_rows[0]:bottom_rows[1], x:x + 7] = 20
    return img


def test_row_cut_falls_between_the_rows():
    assert 20 <= row_cut(_cn_two_row()) <= 26  # the gap, not half the height (30)
    assert 28 <= row_cut(_cn_two_row((6, 26), (34, 56))) <= 34
    assert row_cut(np.zeros((6, 20, 3), np.uint8)) == 3  # too small to look: the middle


def test_row_split_keeps_each_row_whole_at_one_height():
    img = _cn_two_row()
    halves = join_two_rows(img, 1.75)
    assert (halves[26:30, 6:13, 0] < 100).all()  # half split: the bars' tops in the top half
    joined = join_two_rows(img, 1.75, row_split=True)
    assert joined.shape == halves.shape == (30, 160, 3)
    top, bottom = joined[:, :80], joined[:, 80:]
    # the top row holds only the two marks, stretched; the bottom row all five bars, whole
    assert not (top[:, 6:13, 0] < 100).any()
    assert (top[:, 25:33, 0] < 100).any(axis=1).sum() >= 0.5 * 30
    ink_cols = (bottom[:, :, 0] < 100).any(axis=0)
    assert np.count_nonzero(np.diff(ink_cols.astype(int)) == 1) + int(ink_cols[0]) == 5
    assert (bottom[:, 6:13, 0] < 100).any(axis=1).sum() >= 0.8 * 30  # bars fill the row
    wide = np.zeros((20, 100, 3), np.uint8)
    assert join_two_rows(wide, 1.75, row_split=True) is wide
    cfg = PreprocessConfig(32, 128, two_row_aspect=1.75, row_split=True)
    assert cfg.to_dict()["row_split"] is True
    assert PreprocessConfig.from_dict({"height": 32, "width": 128}).row_split is False


def test_narrow_plate_is_stretched_to_min_aspect():
    plate = np.full((50, 100, 3), 255, np.uint8)
    plate[10:40, 20:30] = 0  # one dark character, 10 px wide
    wide = stretch_to_aspect(plate, 3.0)
    assert wide.shape == (50, 150, 3)
    cols = np.where(wide[25, :, 0] < 128)[0]
    assert 14 <= len(cols) <= 16  # the character got 1.5x wider, not taller
    assert stretch_to_aspect(plate, None) is plate
    assert stretch_to_aspect(plate, 2.0) is plate  # already wide enough
    # in the pipeline order: a two-row plate is joined first, then stretched if still narrow
    cfg = PreprocessConfig(32, 128, two_row_aspect=1.75, min_aspect=3.0)
    _, width = prepare_image(plate, cfg)
    assert width == 96  # 2:1 → 3:1 at height 32
    _, width = prepare_image(plate, PreprocessConfig(32, 128, two_row_aspect=1.75))
    assert width == 64


def _us_like_plate(dark_on_light: bool = True) -> np.ndarray:
    """200x100 plate: a thin 'state name' row on top, five tall characters, a slogan below."""
    ink, paper = (0, 255) if dark_on_light else (255, 40)
    plate = np.full((100, 200, 3), paper, np.uint8)
    plate[6:16, 40:160] = ink  # state name: one long flat blob
    for x in range(20, 180, 34):
        plate[30:72, x:x + 18] = ink  # the characters, rows 30-71
        plate[36:66, x + 5:x + 13] = paper  # hollow, like a 0
    plate[82:90, 60:140] = ink  # slogan
    return plate


@pytest.mark.parametrize("dark_on_light", [True, False])
def test_text_band_finds_the_rows_of_the_large_characters(dark_on_light):
    plate = _us_like_plate(dark_on_light)
    rows = text_band_rows(plate[:, :, 0])
    assert rows is not None
    y0, y1 = rows
    assert 16 <= y0 <= 30 and 72 <= y1 <= 82  # all of the characters, none of the labels
    assert text_band_rows(np.full((100, 200), 255, np.uint8)) is None  # nothing to find


def test_text_band_cuts_only_tall_one_row_crops():
    plate = _us_like_plate()
    cfg = PreprocessConfig(32, 128, two_row_aspect=1.75, min_aspect=3.0, text_band=True)
    banded, width = prepare_image(plate, cfg)
    plain, plain_width = prepare_image(plate, PreprocessConfig(32, 128, 1.75, 3.0))
    assert plain_width == 96 and width > 110  # the band is wider than 3 : 1, not stretched
    # the characters now fill most of the input height (they had 42 % of it before)
    dark_rows = lambda img: int(((img[:, :width, 0] < 128).sum(axis=1) > 20).sum())  # noqa: E731
    assert dark_rows(banded) >= 0.6 * 32 > dark_rows(plain)
    two_row = np.full((100, 150, 3), 255, np.uint8)  # w/h 1.5: a two-row plate, never cut
    assert np.array_equal(prepare_image(two_row, cfg)[0],
                          prepare_image(two_row, PreprocessConfig(32, 128, 1.75, 3.0))[0])
    wide = np.concatenate([plate, plate], axis=1)  # 4 : 1 already: read as it is
    assert np.array_equal(prepare_image(wide, cfg)[0],
                          prepare_image(wide, PreprocessConfig(32, 128, 1.75, 3.0))[0])


def test_preprocess_normalises_gray_imagenet():
    cfg = PreprocessConfig(32, 64)
    img = np.full((16, 16, 3), 255, np.uint8)
    img[..., 0] = 0  # a red-less image: gray, so all three channels equal after preprocessing
    x, widths = preprocess_batch([img], cfg)
    assert x.shape == (1, 3, 32, 64) and widths.tolist() == [32]
    raw, _ = prepare_image(img, cfg)
    assert (raw[..., 0] == raw[..., 1]).all()
    assert x[0, 0, 0, -1] == pytest.approx((1 - 0.485) / 0.229, rel=1e-5)


def test_valid_columns_mask():
    mask = valid_columns(torch.tensor([384, 100, 1]), 16, 24)
    assert mask.sum(1).tolist() == [24, 7, 1]

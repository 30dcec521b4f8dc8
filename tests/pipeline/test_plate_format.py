"""A plate's region from its text's format (pipeline.plate_format) and the plates assembler."""

from dataclasses import replace

import numpy as np
import pytest

from pipeline.assembler import Assembler
from pipeline.plate_format import (
    fix_cn_length,
    fix_letters_and_digits,
    latin_plate,
    region_from_text,
)
from pipeline.presets import AssemblerConfig, LayoutConfig
from pipeline.results import Word
from synth.plates import PlateDesigner


@pytest.mark.parametrize("text, region", [
    ("皖A12345", "cn"), ("粤B D12345", "cn"), ("京AD12345", "cn"),   # blue; green new-energy
    ("А123ВС77", "ru"), ("а123вс 777", "ru"), ("1234АВ77", "ru"),  # case, spaces dropped
    ("BRA2E19", "br"), ("BRA-2E19", "br"),                          # Mercosur
    ("ABC1234", None),      # older Brazilian grey plates and New York plates alike
    ("7ABC123", None), ("AB12CDE", None), ("", None),               # US, GB: no claim
    ("A123BC77", "ru"), ("1234AB77", "ru"),  # the same plates in Latin transcription
    ("A123BD77", None),     # D is no Russian plate letter
    ("AA1234BB", None),     # Ukrainian and Bulgarian plates share this format: not claimed
    ("警A12345", None),     # 警 is not a province
    ("皖I12345", None),     # Chinese plates have no I or O after the province
    ("京A12345D", "cn"),    # green, large vehicle: five digits then D or F
    ("皖AAX191U", None), ("皖AD1234X", None),  # eight characters in no green format
])
def test_region_from_text(text, region):
    assert region_from_text(text) == region


def test_every_synthetic_plate_of_a_claimed_region_is_named_and_no_other_is_misnamed():
    artist = PlateDesigner()
    rng = np.random.default_rng(7)
    named: dict[str, list[str | None]] = {}
    for _ in range(300):
        art = artist.draw(rng)
        named.setdefault(art.region, []).append(region_from_text(art.text))
    for region, got in named.items():
        assert all(g in (region, None) for g in got), (region, got)  # never a wrong region
    assert set(named["cn"]) == {"cn"} and set(named["ru"]) == {"ru"}
    assert "br" in named["br"]  # Mercosur plates; the older grey ones stay unnamed
    assert set(named["us"]) <= {None} and set(named["eu"]) == {None}


def _plate(text, x0, region=None):
    return Word(text=text, polygon=((x0, 0), (x0 + 80, 0), (x0 + 80, 20), (x0, 20)),
                bbox=(x0, 0, x0 + 80, 20), label="plate", rec_score=0.9, region=region)


def test_the_plates_assembler_names_regions_from_formats_unless_the_reader_did():
    assemble = Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate", word_separator="")))
    lines = assemble.assemble([_plate("皖A12345", 0), _plate("7ABC123", 200),
                               _plate("А123ВС77", 400, region="eu")])
    assert [line.words[0].region for line in lines] == ["cn", None, "eu"]
    assert "region" not in lines[1].words[0].export() and lines[0].words[0].export()[
        "region"] == "cn"
    off = Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate", word_separator="",
                                                        plate_regions=False)))
    assert off.assemble([_plate("皖A12345", 0)])[0].words[0].region is None
    page = Assembler(AssemblerConfig())  # page text is never given a plate region
    assert page.assemble([_plate("皖A12345", 0)])[0].words[0].region is None


def test_latin_plate_writes_cyrillic_plate_letters_as_their_latin_look_alikes():
    assert latin_plate("А123ВС77") == "A123BC77"
    assert latin_plate("АІ1234КХ") == "AI1234KX"           # Ukrainian І
    assert latin_plate("皖A12345") == "皖A12345"             # nothing else changes
    assert latin_plate("ШИЖ") == "ШИЖ"                     # no look-alikes: kept
    assert all(ord(c) < 128 for c in latin_plate("АВЕКМНОРСТУХ"))


def test_the_plates_assembler_writes_latin_letters_unless_asked_for_the_read_script():
    latin = Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate", word_separator="")))
    line = latin.assemble([_plate("А123ВС77", 0)])[0]
    assert line.text == "A123BC77" and line.words[0].text == "A123BC77"
    assert line.words[0].region == "ru"
    as_read = Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate", word_separator="",
                                                            plate_letters="as_read")))
    assert as_read.assemble([_plate("А123ВС77", 0)])[0].text == "А123ВС77"
    page = Assembler(AssemblerConfig())  # page text keeps its Cyrillic
    assert page.assemble([_plate("Привет", 0)])[0].text == "Привет"


@pytest.mark.parametrize("read, fixed", [
    ("0M2897PX", "OM2897PX"), ("BX38020M", "BX3802OM"), ("001081C0", "OO1081CO"),  # Ukraine
    ("AI89931K", "AI8993IK"),                   # 1 where the format wants the letter I
    ("A1O3BC77", "A103BC77"), ("E7I1TY99", "E711TY99"),  # Russia: O and I where digits go
    ("A123BC77", "A123BC77"),                   # fits already: unchanged
    ("0123BC77", "0123BC77"),                   # a square Russian plate as read: unchanged
    ("7ABC1234", "7ABC1234"), ("皖A12345", "皖A12345"), ("AB1234CD", "AB1234CD"),  # no fit
    ("TT3699OA", "TT3699OA"),                   # a misread letter is not guessed
])
def test_zero_and_one_swapped_with_o_and_i_where_the_format_wants_them(read, fixed):
    assert fix_letters_and_digits(read) == fixed


def test_the_plates_assembler_fixes_letters_and_digits_unless_asked_not_to():
    on = Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate", word_separator="")))
    assert on.assemble([_plate("0М2897РХ", 0)])[0].text == "OM2897PX"  # Cyrillic read too
    off = Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate", word_separator="",
                                                        plate_letter_digit_fix=False)))
    assert off.assemble([_plate("0M2897PX", 0)])[0].text == "0M2897PX"
    as_read = Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate", word_separator="",
                                                            plate_letters="as_read")))
    assert as_read.assemble([_plate("0M2897PX", 0)])[0].text == "0M2897PX"


LOW, HIGH = 0.2, 0.9


@pytest.mark.parametrize("text, unsure, drop", [
    ("皖AAX191U", 2, 2), ("皖AAX191U", 1, 1),   # a letter read twice: either copy goes
    ("皖ANGC512", 1, 1),                         # a made-up A after the province
    ("皖AJP199H", 7, 7),                         # one too many at the end
    ("皖AO12345", 5, 2),   # dropping the least sure leaves an O, no plate's letter: the
                           # one removal that leaves a plate is taken
    ("京AD12345", 7, None), ("京A12345D", 3, None),  # green new-energy plates: kept
    ("皖A12345", 3, None), ("ABCD12345", 3, None),   # seven characters; not Chinese
    ("皖A1234567", 3, None),                   # nine: not one too many
])
def test_a_chinese_plate_read_one_character_too_long_loses_its_least_sure_extra(
        text, unsure, drop):
    scores = [HIGH] * len(text)
    if unsure < len(scores):
        scores[unsure] = LOW
    assert fix_cn_length(text, scores) == drop
    assert fix_cn_length(text, None) is None  # nothing to choose by: kept


def test_the_plates_assembler_drops_the_extra_character_with_its_read_box():
    word = _plate("皖AAX191U", 0)
    read = tuple(((i / 8, 0.0, (i + 1) / 8, 1.0), LOW if i == 2 else HIGH) for i in range(8))
    word = replace(word, read_chars=read)
    on = Assembler(AssemblerConfig(char_boxes=True,
                                   layout=LayoutConfig(kind="plate", word_separator="")))
    line = on.assemble([word])[0]
    assert line.text == "皖AX191U" and line.words[0].region == "cn"
    assert [c.score for c in line.words[0].chars] == [HIGH] * 7  # the unsure A went
    off = Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate", word_separator="",
                                                        plate_cn_length_fix=False)))
    assert off.assemble([word])[0].text == "皖AAX191U"

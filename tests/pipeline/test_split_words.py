"""A merged line crop read as several words comes back as one ``Word`` per word."""

from __future__ import annotations

import pytest

from pipeline.assembler import Assembler, split_word
from pipeline.presets import AssemblerConfig, LayoutConfig
from pipeline.results import Word


def _line(text, spans=None, word_scores=None, read_chars=None, rec_score=0.5):
    # a 200 x 20 px line crop at (100, 50)
    return Word(text=text, polygon=((100, 50), (300, 50), (300, 70), (100, 70)),
                bbox=(100, 50, 300, 70), det_score=0.9, rec_score=rec_score, spans=spans,
                word_scores=word_scores, read_chars=read_chars)


def test_words_are_cut_where_the_recognizer_put_them():
    line = _line("ab cd", spans=((0.0, 0.2), (0.6, 1.0)), word_scores=(0.9, 0.4))
    first, second = split_word(line)
    assert (first.text, second.text) == ("ab", "cd")
    assert first.bbox == pytest.approx((100, 50, 140, 70))
    assert second.bbox == pytest.approx((220, 50, 300, 70))
    assert (first.rec_score, second.rec_score) == (0.9, 0.4)
    assert first.det_score == second.det_score == 0.9
    assert first.spans is None and first.word_scores == (0.9,)


def test_without_spans_words_are_cut_in_proportion_to_their_characters():
    first, second = split_word(_line("abc d"))
    assert first.bbox == pytest.approx((100, 50, 220, 70))   # 3 of 5 characters
    assert second.bbox == pytest.approx((260, 50, 300, 70))
    # no word scores: the line's confidence per character, for each word's length
    per_char = 0.5 ** (1 / 5)
    assert first.rec_score == pytest.approx(per_char ** 3)
    assert second.rec_score == pytest.approx(per_char ** 1)


def test_each_word_keeps_the_recognizers_boxes_of_its_own_characters():
    read = tuple(((100 + 40 * k, 50, 130 + 40 * k, 70), 0.8) for k in range(4))
    first, second = split_word(_line("ab cd", read_chars=read))
    assert first.read_chars == read[:2] and second.read_chars == read[2:]
    bad = split_word(_line("ab cd", read_chars=read[:3]))  # counts disagree: dropped
    assert all(w.read_chars is None for w in bad)


@pytest.mark.parametrize("text", ["single", ""])
def test_one_word_or_none_stays_as_it_is(text):
    line = _line(text)
    assert split_word(line) == [line]


def test_a_word_read_with_a_space_at_its_end_loses_the_space():
    assert [w.text for w in split_word(_line("end "))] == ["end"]


def test_a_polygon_that_is_not_a_quadrilateral_is_not_cut():
    word = Word(text="a b", polygon=((0, 0), (10, 0), (12, 5), (10, 10), (0, 10)),
                bbox=(0, 0, 12, 10), rec_score=0.5)
    assert split_word(word) == [word]


def test_the_assembler_cuts_page_lines_but_never_plates():
    page = Assembler(AssemblerConfig(char_boxes=True)).assemble(
        [_line("ab cd", spans=((0.0, 0.4), (0.6, 1.0)))])
    assert page[0].text == "ab cd"
    assert [w.text for w in page[0].words] == ["ab", "cd"]
    for w in page[0].words:  # character boxes inside their own word's box
        assert "".join(c.text for c in w.chars) == w.text
        assert all(w.bbox[0] <= c.bbox[0] <= c.bbox[2] <= w.bbox[2] for c in w.chars)
    plate = Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate", word_separator=""))
                      ).assemble([_line("AB 123")])
    assert [w.text for w in plate[0].words] == ["AB 123"]

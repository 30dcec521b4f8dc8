import pytest

from core.config import ConfigError
from pipeline.assembler import Assembler
from pipeline.lexicon import candidates, correct_page, correct_text, correct_word
from pipeline.presets import AssemblerConfig, TextConfig, load_pipeline_config
from pipeline.results import Word

EN_RU = ("en", "ru")


@pytest.mark.parametrize("read,meant", [
    ("offce", "office"),            # fi ligature read as f
    ("confrmed", "confirmed"),
    ("unigue,", "unique,"),         # q read as g, punctuation kept
    ("chiidren", "children"),       # l read as i
    ("S43,456.78", "$43,456.78"),   # a dollar sign read as S
    ("S4", "S4"),                   # ... but not any S before a digit
    ("her.She", "her. She"),        # a lost space after a full stop
    ("lt's", "It's"),               # serif capital I read as l
    ('"l', '"I'),
    ("modern", "modern"),           # rn is not m here: modern is a word
    ("Wait", "Wait"),               # a common word is never "corrected" (it was Walt)
    ("1993", "1993"),               # numbers stay
    ("привет", "привет"),           # Russian words are looked up in Russian
    ("Zyxwvut", "Zyxwvut"),         # unknown, and no confusion makes it a word
])
def test_correct_word(read, meant):
    assert correct_word(read, EN_RU) == meant


def test_cyrillic_words_are_not_looked_up_in_latin_languages():
    assert correct_word("lt", ("ru",)) == "lt"  # no Latin-script language given
    assert correct_word("lt", ("en",)) == "It"


def test_margin_decides_how_much_more_frequent_the_correction_must_be():
    # "l" (Zipf ~5.2) -> "I" (~7.1): a margin of 1.5 corrects it, 3 does not
    assert correct_word("l", EN_RU, margin=1.5) == "I"
    assert correct_word("l", EN_RU, margin=3.0) == "l"


def test_candidates_apply_up_to_two_non_overlapping_substitutions():
    cands = candidates("rnl", max_edits=2)
    assert "ml" in cands and "mI" in cands and "rnI" in cands
    assert all(c != "rnl" for c in cands)
    assert len(candidates("rnl", max_edits=1)) < len(cands)


def test_correct_text_keeps_spacing():
    assert correct_text("lt  was  an offce", EN_RU) == "It  was  an office"


def test_assembler_applies_the_lexicon_only_when_configured():
    words = [Word(text=t, polygon=((x, 0), (x + 40, 0), (x + 40, 20), (x, 20)),
                  bbox=(x, 0, x + 40, 20), label="word", det_score=1.0, rec_score=1.0)
             for t, x in (("lt", 0), ("is", 50), ("unigue", 100))]
    assert Assembler(AssemblerConfig()).assemble(words)[0].text == "lt is unigue"
    fixed = Assembler(AssemblerConfig(text=TextConfig(lexicon=["en"]))).assemble(words)
    assert fixed[0].text == "It is unique"


def test_unknown_lexicon_language_is_a_config_error():
    with pytest.raises(ConfigError, match="lexicon"):
        load_pipeline_config("documents", None, ["assembler.text.lexicon=[en, xx]"])


def test_min_char_score_blanks_junk_reads_but_not_long_lines():
    def word(text, score, x):
        return Word(text=text, polygon=((x, 0), (x + 40, 0), (x + 40, 20), (x, 20)),
                    bbox=(x, 0, x + 40, 20), label="word", det_score=1.0, rec_score=score)

    words = [word("485", 0.004, 0),                       # 0.16 per character: junk
             word("BY RALPH KINNEY BENNETT", 0.003, 50),  # 0.78 per character: a long line
             word("ok", None, 100)]                       # not read (detect mode): kept
    assert Assembler(AssemblerConfig()).assemble(words)[0].text.startswith("485 ")
    kept = Assembler(AssemblerConfig(text=TextConfig(min_char_score=0.3))).assemble(words)
    assert kept[0].text == "BY RALPH KINNEY BENNETT ok"
    assert [w.text for w in kept[0].words] == ["", "BY RALPH KINNEY BENNETT", "ok"]


def test_hyphen_broken_pieces_are_not_corrected():
    # "set-" / "tlement" are halves of one word: "tlement" must not become "element"
    assert correct_text("a set- tlement of", EN_RU) == "a set- tlement of"
    assert correct_text("a tlement of", EN_RU) == "a element of"


def test_sentence_case_fixes_capitals_where_sentences_start_and_only_there():
    from pipeline.lexicon import sentence_case

    texts = ["the keys In", "this. In the", "say Will and", "Or else", "tears. when",
             "parenting- He", "e.g. when"]
    assert sentence_case(texts, EN_RU) == ["the keys in", "this. In the", "say Will and",
                                           "or else", "tears. When", "parenting- He",
                                           "e.g. when"]


def test_page_languages_follow_the_page():
    from pipeline.lexicon import page_languages

    langs = ("en", "ru", "de", "fr")
    english = ["the quick brown fox jumps over the lazy dog while everyone watches"]
    assert page_languages(english, langs) == ("en", "ru")  # ru: first of the other script
    mixed = english + ["der schnelle braune Fuchs springt über den faulen Hund"]
    assert page_languages(mixed, langs) == ("en", "ru", "de")
    # on a German page a German word is a word, not an English misread
    assert correct_text("springt", ("en",)) != "springt"
    assert correct_page(mixed, langs)[1].split()[4] == "springt"

import pytest

from core.config import ConfigError
from pipeline.assembler import Assembler
from pipeline.lexicon import (
    UNSURE_BELOW,
    WordList,
    candidates,
    correct_page,
    correct_text,
    correct_word,
    fold,
    page_languages,
    sentence_case,
    word_list,
    zipf,
)
from pipeline.presets import AssemblerConfig, TextConfig, load_pipeline_config
from pipeline.results import Word

EN_RU = ("en", "ru")
DOCUMENTS = ("en", "ru", "de", "fr", "es", "pt", "it")  # the documents preset's languages


def _word(text, x, rec_score=1.0, word_scores=None):
    return Word(text=text, polygon=((x, 0), (x + 40, 0), (x + 40, 20), (x, 20)),
                bbox=(x, 0, x + 40, 20), label="word", det_score=1.0, rec_score=rec_score,
                word_scores=word_scores)


def _assembler(**text):
    return Assembler(AssemblerConfig(text=TextConfig(**text)))


@pytest.mark.parametrize("read,meant", [
    ("offce", "office"),            # fi ligature read as f
    ("confrmed", "confirmed"),
    ("unigue,", "unique,"),         # q read as g, punctuation kept
    ("chiidren", "children"),       # l read as i
    ("glven", "given"),             # ... and never "gIven"
    ("her.She", "her. She"),        # a lost space after a full stop
    ("lt's", "It's"),               # serif capital I read as l
    ('"l', '"I'),
    ("modern", "modern"),           # rn is not m here: modern is a word
    ("sighed", "sighed"),           # a common word is never "corrected" (to signed)
    ("привет", "привет"),           # Russian words are looked up in Russian
    ("zyxwvut", "zyxwvut"),         # unknown, and no confusion makes it a word
])
def test_correct_word(read, meant):
    assert correct_word(read, EN_RU) == meant


@pytest.mark.parametrize("word", [
    "1993", "A4", "2nd", "B-52", "978-3-16-148410-0", "ISBN", "S43,456.78", "l0", "3rd",
    "Wait", "Walt", "Hlere", "NATO", "RESORED",  # capitalised: never edited, even unsure
])
def test_numbers_codes_and_capitalised_words_are_never_edited(word):
    assert correct_word(word, DOCUMENTS) == word
    assert correct_text(f"the {word} is here", DOCUMENTS) == f"the {word} is here"


@pytest.mark.parametrize("text", [
    "Die Straße ist groß und die Füße sind müde, weiß der Bürger.",
    "Er aß süße Äpfel auf der Brücke über die Straße.",
    "Rafał pojechał z Łodzi do Wrocławia, a Łódź i Wrocław są duże.",
    "Xin chào Việt Nam, chào bạn.",
    "We met Rafał in Łódź, then flew to Việt Nam to say chào.",
    "Model B-52 costs 43,456.78 on page 2nd of ISBN 978-3-16-148410-0 in A4.",
])
def test_correct_text_stays_correct_even_when_every_word_is_unsure(text):
    # correct_text takes every word as unsure: only the word rules protect these
    assert correct_page([text], DOCUMENTS) == [text]


def test_german_words_with_sharp_s_are_known_words():
    assert fold("Straße") == "strasse"
    assert zipf("Straße", ("de",)) == zipf("strasse", ("de",)) > 4
    assert zipf("groß", ("de",)) > 4
    assert correct_word("straße", ("de",)) == "straße"  # lower-case, unsure: still a word


def test_letters_outside_the_pages_languages_are_never_edited():
    # an unknown Vietnamese word on an English page: "chào" was "chao" before
    assert correct_word("chào", ("en",)) == "chào"
    assert correct_word("złoty", ("en",)) == "złoty"
    # a misread accent of a page language is still fixed: French has è and é
    assert correct_word("fenétre", ("fr",)) == "fenêtre"


def test_words_of_a_script_the_page_does_not_use_are_never_edited():
    page = ["the quick brown fox jumps over the lazy dog while everyone watches",
            "and then said привет to the dog"]
    assert page_languages(page, EN_RU) == ("en", "ru")  # a Russian word voted
    english = ["the quick brown fox jumps over the lazy dog while everyone watches",
               "and then said првиет to the dog"]   # no Russian word: no Cyrillic language
    assert page_languages(english, EN_RU) == ("en",)
    assert correct_page(english, EN_RU) == english


def test_only_unsure_words_are_corrected():
    texts = ["it is an offce", "the unigue offce"]
    sure = [(0.99, 0.99, 0.99, 0.95), (0.99, 0.9, 0.4)]
    assert correct_page(texts, EN_RU, scores=sure) == ["it is an offce", "the unigue office"]
    assert correct_page(texts, EN_RU, scores=sure, unsure_below=0.0) == texts
    assert correct_page(texts, EN_RU, scores=[None, sure[1]]) == ["it is an office",
                                                                  "the unigue office"]
    with pytest.raises(ValueError, match="word scores"):
        correct_page(texts, EN_RU, scores=[(0.5,), None])


def test_a_typical_ocr_confusion_on_an_unsure_word_is_corrected_in_the_assembler():
    # one line read as one crop: only its unsure words are corrected
    line = _word("lt is an unigue offce", 0, word_scores=(0.55, 0.99, 0.98, 0.42, 0.97))
    (fixed,) = _assembler(lexicon=["en"]).assemble([line])
    assert fixed.text == "It is an unique offce"
    # the line crop comes back as its words, each with the recognizer's score of that word
    assert [w.text for w in fixed.words] == ["It", "is", "an", "unique", "offce"]
    assert [w.word_scores for w in fixed.words] == [(s,) for s in line.word_scores]
    assert [w.rec_score for w in fixed.words] == list(line.word_scores)


def test_assembler_applies_the_lexicon_only_when_configured():
    words = [_word("lt", 0, word_scores=(0.5,)), _word("is", 50, word_scores=(0.99,)),
             _word("unigue", 100, word_scores=(0.3,))]
    assert _assembler().assemble(words)[0].text == "lt is unigue"
    assert _assembler(lexicon=["en"]).assemble(words)[0].text == "It is unique"
    assert _assembler(lexicon=["en"], lexicon_unsure_below=0.2).assemble(words)[0].text == \
        "lt is unigue"


def test_assembler_without_word_scores_uses_the_confidence_per_character():
    unsure = [_word("lt is unigue", 0, rec_score=0.2)]  # 0.87 a character
    sure = [_word("lt is unigue", 0, rec_score=0.9)]     # 0.99 a character
    assert _assembler(lexicon=["en"], lexicon_unsure_below=0.9).assemble(unsure)[0].text == \
        "It is unique"
    assert _assembler(lexicon=["en"], lexicon_unsure_below=0.9).assemble(sure)[0].text == \
        "lt is unigue"
    # no recognizer confidence at all: nothing to say the word was misread
    assert _assembler(lexicon=["en"]).assemble([_word("unigue", 0, rec_score=None)])[0].text \
        == "unigue"


def test_the_lexicon_is_switched_off_by_an_empty_language_list():
    cfg = load_pipeline_config("documents", None, ["assembler.text.lexicon=[]"])
    assert cfg.assembler.text.lexicon == []
    on = load_pipeline_config("documents", None, [])
    assert on.assembler.text.lexicon and on.assembler.text.lexicon_unsure_below == UNSURE_BELOW


def test_unknown_lexicon_language_is_a_config_error():
    with pytest.raises(ConfigError, match="lexicon"):
        load_pipeline_config("documents", None, ["assembler.text.lexicon=[en, xx]"])


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


def test_min_char_score_blanks_junk_reads_but_not_long_lines():
    words = [_word("485", 0, 0.004),                       # 0.16 per character: junk
             _word("BY RALPH KINNEY BENNETT", 50, 0.003),  # 0.78 per character: a long line
             _word("ok", 100, None)]                       # not read (detect mode): kept
    assert _assembler().assemble(words)[0].text.startswith("485 ")
    kept = _assembler(min_char_score=0.3).assemble(words)
    assert kept[0].text == "BY RALPH KINNEY BENNETT ok"
    # the blanked region stays (its box), the line crop comes back as its words
    assert [w.text for w in kept[0].words] == ["", "BY", "RALPH", "KINNEY", "BENNETT", "ok"]


def test_hyphen_broken_pieces_are_not_corrected():
    # "set-" / "tlement" are halves of one word: "tlement" must not become "element"
    assert correct_text("a set- tlement of", EN_RU) == "a set- tlement of"
    assert correct_text("a tlement of", EN_RU) == "a element of"


def test_sentence_case_only_capitalises_unsure_lookalike_letters_after_a_full_stop():
    texts = ["the keys In", "this. In the", "say Will and", "Or else", "tears. when",
             "parenting- He", "e.g. when", "etc. the", "Haben Sie"]
    # capitals are never lowered; "t" and "T" differ in shape, "w" and "W" only in size
    assert sentence_case(texts) == ["the keys In", "this. In the", "say Will and",
                                    "Or else", "tears. When", "parenting- He", "e.g. when",
                                    "etc. the", "Haben Sie"]
    sure = [[True] * len(t.split()) for t in texts]
    sure[4] = [True, False]  # the recognizer was sure of "when"
    assert sentence_case(texts, sure)[4] == "tears. when"


def test_page_languages_follow_the_page():
    langs = ("en", "ru", "de", "fr")
    english = ["the quick brown fox jumps over the lazy dog while everyone watches"]
    assert page_languages(english, langs) == ("en",)  # no Cyrillic word: no Cyrillic language
    assert page_languages(["lt is"], langs) == ("en", "ru")  # nothing voted: first of each
    mixed = english + ["der schnelle braune Fuchs springt über den faulen Hund"]
    assert page_languages(mixed, langs) == ("en", "de")
    # on a German page a German word is a word, not an English misread
    assert correct_text("springt", ("en",)) != "springt"
    assert correct_page(mixed, langs)[1].split()[4] == "springt"


def test_word_lists_are_compact_and_lazy():
    words = WordList.from_buckets(iter([(100, ["the", "of"]), (300, ["strasse"])]))
    assert list(words.zipf(["the", "strasse", "nope"])) == [8.0, 6.0, 0.0]
    assert words.alphabet == frozenset("theofsra")
    assert words.nbytes == 3 * 10
    en = word_list("en")
    assert en.nbytes < 4_000_000 and {"a", "z"} <= en.alphabet and "à" not in en.alphabet
    assert "ß" in word_list("de").alphabet  # stored as ss, written as ß


def test_a_word_split_by_its_correction_keeps_its_flag_in_both_halves():
    # "her.She" gets its lost space back: one read word, two words out; the page's word
    # scores still line up with the words after it (an IndexError before)
    texts = ["I met her.She said hello. when", "fine"]
    scores = [(0.99, 0.99, 0.5, 0.99, 0.99, 0.5), (0.99,)]
    assert correct_page(texts, EN_RU, scores=scores) == ["I met her. She said hello. When",
                                                         "fine"]

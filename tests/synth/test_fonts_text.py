import numpy as np
import pytest

from recognition.alphabet import unsupported_chars
from synth.fonts import FontBook, MissingFontError, classify
from synth.glyphs import draw_text
from synth.text import TextStyle, WordSampler, quote_speech, word_list


def test_handwriting_fonts_for_cyrillic_cover_cyrillic(fonts):
    hand = fonts.fonts("hand", "cyrillic")
    assert hand
    for face in hand:
        assert face.covers("Съешь же ещё этих мягких булок")
    latin_only = [f for f in fonts.fonts("hand", "latin") if not f.covers("жЖ")]
    assert latin_only, "expected Latin-only handwriting fonts (dkg, comic, humor)"
    rng = np.random.default_rng(0)
    for _ in range(20):
        face = fonts.pick(rng, ("hand",), "cyrillic", "привет")
        assert face is not None and face.covers("привет")


def test_pick_returns_none_when_no_font_has_the_glyphs(fonts):
    assert fonts.pick(np.random.default_rng(0), ("hand",), "latin", "\u0d9e") is None


def test_missing_fonts_error_names_debian_packages():
    with pytest.raises(MissingFontError, match="fonts-sjfonts"):
        FontBook(faces=()).fonts("hand", "cyrillic")


def test_classify():
    assert classify("DejaVu Sans Mono", "/x/DejaVuSansMono.ttf") == "mono"
    assert classify("Liberation Serif", "/x/LiberationSerif-Regular.ttf") == "serif"
    assert classify("Steve", "/x/SteveHand.ttf") == "hand"
    assert classify("Noto Sans Arabic", "/x/NotoSansArabic-Regular.ttf") is None
    assert classify("EB Garamond", "/x/EBGaramond12-Regular.otf") == "serif"
    assert classify("Linux Libertine O", "/x/LinLibertine_R.otf") == "serif"
    assert classify("Linux Libertine Initials O", "/x/LinLibertine_I.otf") is None
    assert classify("CMU Typewriter Text", "/x/cmuntt.ttf") == "mono"
    # condensed display faces for plates stay out of "sans" (page generators unchanged)
    assert classify("Bebas Neue", "/x/BebasNeue-Bold.otf") == "display"
    assert classify("Roboto Condensed", "/x/RobotoCondensed-Bold.ttf") == "display"
    assert classify("DejaVu Sans", "/x/DejaVuSansCondensed-Bold.ttf") == "sans"
    assert classify("Roboto", "/x/Roboto-Bold.ttf") is None


def test_full_width_cyrillic_is_respaced(fonts):
    klee = [f for f in fonts.fonts("hand", "cyrillic") if "Klee" in f.family]
    assert klee and klee[0].fullwidth_cyrillic
    dejavu = [f for f in fonts.fonts("sans", "cyrillic") if "DejaVu" in f.family][0]
    assert not dejavu.fullwidth_cyrillic
    klee_w = draw_text(klee[0], 40, "школа").mask.shape[1]
    latin_w = draw_text(klee[0], 40, "shkola").mask.shape[1]
    assert klee_w < 1.5 * latin_w  # a full em per letter would be ~2x


def test_word_lists_and_samples_stay_in_alphabet():
    for lang in ("ru", "en"):
        words = word_list(lang)
        assert len(words) > 10000
        sampler = WordSampler(lang)
        rng = np.random.default_rng(1)
        text = " ".join(sampler.words_n(rng, 300) + sampler.sentence_words(rng, 300))
        assert not unsupported_chars(text)


def test_symbols_and_accents_draw_rare_printed_glyphs_inside_the_alphabet():
    rng = np.random.default_rng(2)
    plain = " ".join(WordSampler("en").words_n(rng, 400))
    rich = " ".join(WordSampler("en", TextStyle(symbols=0.3, accents=0.3)).words_n(rng, 400))
    ru = " ".join(WordSampler("ru", TextStyle(symbols=0.3, accents=0.3)).words_n(rng, 400))
    assert not unsupported_chars(rich + ru)
    rare = set("[]{}<>@#$/\\|„“éüñçàöß")
    assert len(rare & set(rich)) >= 12 and not rare & set(plain)
    assert not set("éüñçàöß") & set(ru)  # accents are for Latin words only


def test_natural_word_weights_make_function_words_common_and_write_english_i_capital():
    rng_flat, rng_nat = np.random.default_rng(3), np.random.default_rng(3)
    flat = WordSampler("en")
    natural = WordSampler("en", TextStyle(zipf=1.0, proper_i=True))
    n = 4000
    flat_words = [flat.plain_word(rng_flat) for _ in range(n)]
    natural_words = [natural.plain_word(rng_nat) for _ in range(n)]
    short = {"a", "I", "i", "of", "to", "the", "and"}
    # 1/rank weights give the top words several times the share of the flattened default
    assert sum(w in short for w in natural_words) > 3 * sum(w in short for w in flat_words)
    assert "I" in natural_words and "i" not in natural_words
    assert "i" in flat_words  # the default keeps wordfreq's lower-case "i" (earlier seeds)


def test_quoted_speech_opens_before_a_capital_and_closes_after_the_mark():
    words = ["it's", "nothing", "how", "could", "she"]
    ends = {"both": 0, "open": 0, "close": 0}
    marks_inside = 0
    for i in range(200):
        out = quote_speech(list(words), "en", np.random.default_rng([4, i]))
        assert [w.strip('".,?!').lower() for w in out] == words  # same words, same order
        text = " ".join(out)
        assert text.count('"') in (1, 2)
        opened = [w for w in out if w.startswith('"')]
        closed = [w for w in out if w.endswith('"') or w[:-1].endswith('"')]
        if opened:
            assert opened[0][1].isupper()  # speech starts with a capital
        if opened and closed:
            ends["both"] += 1
            assert out.index(opened[0]) <= out.index(closed[0])
        else:
            ends["open" if opened else "close"] += 1
        marks_inside += any(w[-2:-1] in ".,?!" and w.endswith('"') for w in out)
    assert min(ends.values()) >= 30 and ends["both"] > ends["open"]
    assert marks_inside >= 60  # English: '."' not '".'
    ru = [quote_speech(["нет", "сказал", "он"], "ru", np.random.default_rng([5, i]))
          for i in range(100)]
    ru_text = " ".join(" ".join(w) for w in ru)
    assert "«Нет" in ru_text and not unsupported_chars(ru_text)
    assert not any(w.endswith(("!»", ".»", ",»", "?»")) for r in ru for w in r)  # mark after »

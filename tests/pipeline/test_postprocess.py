"""Word-fragment merging before reading and script unification after it."""

from __future__ import annotations

import numpy as np
import pytest

from core.geometry import box_polygon
from detection.types import Region
from pipeline.assembler import Assembler
from pipeline.ocr import OcrPipeline
from pipeline.postprocess import (
    merge_fragments,
    reach_ink,
    relock_kind,
    script_lock,
    snap_to_ink,
    unify_scripts,
)
from pipeline.presets import (
    AssemblerConfig,
    CropsConfig,
    RegionsConfig,
    ScriptLockConfig,
    TextConfig,
)
from pipeline.results import Word
from recognition.types import Recognition
from tests.pipeline.fakes import SizeRecognizer


def box(x1, y1, x2, y2, score=0.5):
    return Region(box_polygon(x1, y1, x2, y2), (x1, y1, x2, y2), score, "word")


def boxes_of(regions):
    return sorted(tuple(round(v) for v in r.bbox) for r in regions)


def test_overlapping_pieces_of_a_line_merge_and_the_rest_stays():
    pieces = [box(10, 100, 50, 120, 0.3), box(40, 101, 80, 121, 0.9), box(70, 99, 100, 120)]
    apart = box(110, 100, 150, 120)        # next word: a gap, no overlap
    other_line = box(40, 130, 80, 150)     # below: overlaps in x only
    taller = box(90, 90, 130, 140)         # overlaps in x, but 2.5x the height
    out = merge_fragments(pieces + [apart, other_line, taller], min_overlap=0.2)
    assert boxes_of(out) == sorted([(10, 99, 100, 121), (110, 100, 150, 120),
                                    (40, 130, 80, 150), (90, 90, 130, 140)])
    merged = next(r for r in out if r.bbox[0] == 10)
    assert merged.score == pytest.approx(0.9)
    assert np.asarray(merged.polygon).shape == (4, 2)


def test_small_overlaps_and_long_results_do_not_merge():
    touching = [box(0, 0, 40, 20), box(38, 0, 80, 20)]       # 2 px of 40: neighbours
    assert len(merge_fragments(touching, min_overlap=0.3)) == 2
    assert len(merge_fragments(touching, min_overlap=0.04)) == 1
    long = [box(0, 0, 200, 20), box(150, 0, 360, 20)]         # merged: 18 heights
    assert len(merge_fragments(long, min_overlap=0.1, max_aspect=16)) == 2
    assert len(merge_fragments(long, min_overlap=0.1, max_aspect=20)) == 1


def test_unify_scripts_uses_the_word_then_the_page():
    latin_o, cyr_o = "o", "\u043e"
    out = unify_scripts([f"d{cyr_o}g", f"н{latin_o}с", "c" + cyr_o, "Hello"])
    assert out[0] == "dog"
    assert out[1] == "нос"                     # Latin o inside a Russian word
    assert out[2] == "co"                      # only look-alikes: the page is Latin
    assert out[3] == "Hello"
    assert unify_scripts(["с" + latin_o, "мир", "дом"])[0] == "со"
    assert unify_scripts(["OK"]) == ["OK"]     # no evidence anywhere: untouched
    assert unify_scripts([]) == []


def test_assembler_unifies_scripts_only_when_asked():
    words = [Word("d\u043eg", box_polygon(0, 0, 30, 10), (0, 0, 30, 10)),
             Word("cat", box_polygon(40, 0, 70, 10), (40, 0, 70, 10))]
    assert Assembler(AssemblerConfig()).assemble(words)[0].text == "d\u043eg cat"
    on = Assembler(AssemblerConfig(text=TextConfig(unify_scripts=True))).assemble(words)
    assert on[0].text == "dog cat"
    assert on[0].words[0].text == "dog"


class PiecesDetector:
    """Finds one word as two overlapping pieces."""

    def predict(self, images):
        return [[box(10, 10, 60, 30), box(40, 10, 90, 30)] for _ in images]


def test_pipeline_reads_merged_fragments_as_one_crop():
    img = np.full((60, 120, 3), 255, np.uint8)
    plain = OcrPipeline(PiecesDetector(), SizeRecognizer()).run([img])[0]
    assert plain.text == "50x20 50x20"
    merged = OcrPipeline(PiecesDetector(), SizeRecognizer(),
                         regions=RegionsConfig(merge_fragments=0.3)).run([img])[0]
    assert merged.text == "80x20"


class CountingDetector(PiecesDetector):
    def __init__(self):
        self.seen: list[tuple[int, ...]] = []

    def predict(self, images):
        self.seen.append(tuple(img.shape[1] for img in images))
        return super().predict(images)


def test_line_strips_are_read_whole_and_only_the_rest_is_detected():
    strip = np.full((20, 300, 3), 255, np.uint8)       # 15x wider than high
    page = np.full((60, 120, 3), 255, np.uint8)
    det = CountingDetector()
    ocr = OcrPipeline(det, SizeRecognizer(), regions=RegionsConfig(line_image_aspect=8))
    out = ocr.run([strip, page, strip])
    assert det.seen == [(120,)]
    assert [p.text for p in out] == ["300x20", "50x20 50x20", "300x20"]
    assert out[0].lines[0].words[0].label == "line"
    only_strips = CountingDetector()
    ocr = OcrPipeline(only_strips, SizeRecognizer(), regions=RegionsConfig(line_image_aspect=8))
    assert ocr.run([strip])[0].text == "300x20"
    assert only_strips.seen == []
    default = CountingDetector()
    assert OcrPipeline(default, SizeRecognizer()).run([strip])[0].text == "50x10 50x10"  # clipped


def test_merge_gap_joins_neighbouring_words_but_not_columns():
    words = [box(0, 0, 40, 20), box(48, 1, 90, 21), box(97, 0, 140, 20)]   # gaps of 8, 7 px
    column = box(200, 0, 260, 20)                                          # 60 px: 3 heights
    assert len(merge_fragments(words + [column], min_overlap=0.3)) == 4
    out = merge_fragments(words + [column], min_overlap=0.3, max_gap=0.5)
    assert boxes_of(out) == [(0, 0, 140, 21), (200, 0, 260, 20)]


def test_snap_to_ink_moves_boxes_onto_their_line():
    page = np.full((120, 200, 3), 255, np.uint8)
    page[20:40, 10:190:3] = 0                    # line 1: strokes, a third of the columns
    page[60:80, 11:190:3] = 0                    # line 2
    page[104:106, :] = 0                         # a ruled line: inked across, not text
    off = box(20, 30, 80, 52)                    # mostly on line 1, spilling below
    low = box(100, 66, 160, 90)                  # mostly on line 2
    blank = box(20, 95, 80, 115)                 # only the rule: left alone
    tilted = Region(np.array([[20, 30], [80, 28], [81, 50], [21, 52]], float),
                    (20, 28, 81, 52), 0.5, "word")
    out = snap_to_ink([off, low, blank, tilted], page, margin=0.1)
    assert out[0].bbox == pytest.approx((20, 18, 80, 42))
    assert out[1].bbox == pytest.approx((100, 58, 160, 82))
    assert out[2] is blank and out[3] is tilted
    assert snap_to_ink([], page) == []


def _glyph(page, x, y, w, h):
    page[y:y + h, x:x + w] = 0


def test_reach_ink_takes_in_a_colon_but_not_a_rule_or_a_lone_digit():
    page = np.full((200, 400, 3), 255, np.uint8)
    for row, y in enumerate((20, 80)):
        for k in range(5):                        # a word: 5 glyphs of 20 px, 4 px apart
            _glyph(page, 20 + 24 * k, y, 16, 20)
        _glyph(page, 150, y + 4, 4, 4)            # a colon after a space: two 4-px dots
        _glyph(page, 150, y + 14, 4, 4)
        _glyph(page, 200 + row * 10, y, 60, 20)   # the next word, boxed
    _glyph(page, 330, 80, 12, 20)                 # a lone "1" 2 heights after row 2's end
    page[140:142, 20:380:6] = 0                   # a dotted rule, 2 px dashes 4 px apart
    _glyph(page, 20, 150, 80, 20)                 # a word under it
    words = [box(16, 16, 140, 44), box(196, 16, 264, 44),
             box(16, 76, 140, 104), box(206, 76, 274, 104), box(16, 138, 104, 174)]
    out = reach_ink(words, page, gap=1.0)
    assert out[0].bbox == pytest.approx((16, 16, 154, 44))   # the colon joins its word...
    assert out[2].bbox == pytest.approx((16, 76, 154, 104))  # ...on each row
    assert [r.bbox for r in out[1:2] + out[3:5]] == [w.bbox for w in words[1:2] + words[3:5]]
    assert len(out) == 5                                     # the lone "1" 56 px away: no
    near = reach_ink(words, page, gap=0.2)                   # 10 px: too far at 0.2 heights
    assert near[0].bbox == words[0].bbox


def test_reach_ink_leaves_a_dusty_page_alone():
    rng = np.random.default_rng(0)
    page = np.full((300, 300, 3), 255, np.uint8)
    for y, x in rng.integers(0, 290, size=(200, 2)):
        _glyph(page, int(x), int(y), 5, 5)                    # specks all over
    _glyph(page, 20, 20, 80, 20)
    _glyph(page, 20, 60, 80, 20)
    words = [box(16, 16, 104, 44), box(16, 56, 104, 84)]
    out = reach_ink(words, page)
    assert [r.bbox for r in out] == [w.bbox for w in words]
    assert reach_ink(words[:1], page) == words[:1]            # one box: no text height


def test_merge_never_joins_across_a_column_gutter():
    # Two columns of 3-word rows, 30 px gutter, 10-14 px word gaps, 30 px text.
    rng = np.random.default_rng(0)
    regions = []
    for x_start in (0.0, 430.0):
        for row in range(6):
            y = 40.0 * row
            widths = rng.uniform(110, 126, 3)
            x = x_start
            for w in widths:
                regions.append(Region(box_polygon(x, y, x + w, y + 30), (x, y, x + w, y + 30),
                                      0.9, "word"))
                x += w + rng.uniform(10, 14)

    def spans_gutter(r):
        return r.bbox[0] < 415 < r.bbox[2]
    loose = merge_fragments(regions, max_aspect=40, max_gap=1.5)
    assert any(spans_gutter(r) for r in loose)
    merged = merge_fragments(regions, max_aspect=40, max_gap=1.5, gutter=0.4)
    assert not any(spans_gutter(r) for r in merged)
    # Words of a row still merge (a word gap that lines up with gaps above may not).
    assert len(merged) <= 14 < len(regions)


def test_script_lock_names_the_minority_script_of_a_one_script_page():
    english = ["The quick brown fox", "jumps over the lazy dog", "tenderl\u044f"]
    forbid = script_lock(english, 0.9)
    assert "\u044f" in forbid and "\u0416" in forbid and "a" not in forbid
    russian = ["Съешь же ещё этих мягких", "французских булок да выпей чаю", "чаю"]
    assert "a" in script_lock(russian + ["x"], 0.9) and "ж" not in script_lock(russian, 0.9)
    assert script_lock(russian, 0.9) == ""                # nothing foreign to forbid
    assert script_lock(english[:2] + russian, 0.9) == ""  # a bilingual page keeps both
    assert script_lock(["ok \u044f"], 0.9) == ""          # too few letters to judge


def test_relock_kind_tells_mixed_words_from_whole_foreign_ones():
    cyr = script_lock(["the quick brown fox jumps over the lazy dog"] * 2 + ["\u044f"], 0.9)
    assert relock_kind("tenderl\u044f love", cyr) == "mixed"
    assert relock_kind("tender love", cyr) is None
    assert relock_kind("привет tenderl\u044f", cyr) == "whole"  # a whole Russian word
    assert relock_kind("\u044f tenderl\u044f", cyr) == "mixed"  # a lone letter is no word
    assert relock_kind("the \u042f cat", cyr) == "whole"  # ... but it may be a misread "a"


class MixedScriptReader:
    """Reads every crop as a Latin word with one Cyrillic letter unless Cyrillic is
    forbidden; counts the crops it was given with and without ``forbid``."""

    def __init__(self):
        self.calls: list[tuple[int, bool]] = []

    def predict(self, crops, forbid=""):
        self.calls.append((len(crops), bool(forbid)))
        text = "tenderly" if "\u044f" in forbid else "tenderl\u044f"
        return [Recognition(text, 0.5) for _ in crops]


class TwoWordReader:
    """Reads crop ``i`` as ``first[i]``, or as ``again[i]`` when given letters to forbid."""

    def __init__(self, first, again):
        self.first, self.again = first, again

    def predict(self, crops, forbid=""):
        table = self.again if forbid else self.first
        return [Recognition(*table[int(c[0, 0, 0])]) for c in crops]


class TwoBoxes:
    def predict(self, images):
        return [[box(10, 10, 60, 30), box(70, 10, 120, 30)] for _ in images]


def test_script_lock_words_re_reads_whole_foreign_words_and_keeps_confident_ones():
    img = np.full((40, 130, 3), 255, np.uint8)
    img[:, :65, 0], img[:, 65:, 0] = 0, 1  # the reader tells the two crops apart by colour
    english = "the quick brown fox jumps over the lazy dog and then some more"
    # crop 0: a page of English and a misread "рирру"; crop 1 stays Latin
    first = {0: ("рирру", 0.4), 1: (english, 0.9)}
    again = {0: ("puppy", 0.3), 1: (english, 0.9)}
    run = lambda words, f=first, a=again: OcrPipeline(  # noqa: E731
        TwoBoxes(), TwoWordReader(f, a),
        script_lock=ScriptLockConfig(min_share=0.8, whole_words=words)).run([img])[0]
    assert run(None).text.startswith("рирру")  # off: first read kept
    assert run(0.5).text.startswith("puppy ")  # 0.3 >= 0.5 * 0.4: the re-read wins
    # a real foreign word, read confidently, re-reads as garbage and keeps its first read
    first = {0: ("привет", 0.9), 1: (english, 0.9)}
    again = {0: ("npuBet", 0.2), 1: (english, 0.9)}
    assert run(0.5, first, again).text.startswith("привет ")


class PiecesOfWords:
    def predict(self, images):
        return [[box(10 + 60 * i, 10, 60 + 60 * i, 30) for i in range(8)] for _ in images]


def test_pipeline_re_reads_foreign_letters_of_a_one_script_page():
    img = np.full((60, 540, 3), 255, np.uint8)
    reader = MixedScriptReader()
    off = OcrPipeline(PiecesOfWords(), reader).run([img])[0]
    assert off.text == " ".join(["tenderl\u044f"] * 8) and reader.calls == [(8, False)]
    reader = MixedScriptReader()
    locked = OcrPipeline(PiecesOfWords(), reader,
                         script_lock=ScriptLockConfig(min_share=0.8)).run([img])[0]
    assert locked.text == " ".join(["tenderly"] * 8)
    assert reader.calls == [(8, False), (8, True)]
    # A recognizer without ``forbid`` is left as it is.
    plain = OcrPipeline(PiecesOfWords(), SizeRecognizer(),
                        script_lock=ScriptLockConfig(min_share=0.8)).run([img])[0]
    assert plain.text.startswith("50x20")


class TightBoxDetector:
    def predict(self, images):
        return [[box(40, 20, 90, 40)] for _ in images]


def test_crop_pad_reads_a_larger_crop_but_keeps_the_detected_polygon():
    img = np.full((60, 120, 3), 255, np.uint8)
    tight = OcrPipeline(TightBoxDetector(), SizeRecognizer()).run([img])[0]
    assert tight.text == "50x20"
    padded = OcrPipeline(TightBoxDetector(), SizeRecognizer(),
                         crops=CropsConfig(pad=0.1)).run([img])[0]
    assert padded.text == "60x24"  # 10 % of 50 x 20 more on every side
    assert padded.lines[0].words[0].bbox == tight.lines[0].words[0].bbox == (40, 20, 90, 40)
    edge = OcrPipeline(TightBoxDetector(), SizeRecognizer(),
                       crops=CropsConfig(pad=1.0)).run([img])[0]
    assert edge.text == "120x60"  # clipped to the image


def test_caps_lookalikes_capitalises_small_capitals_in_words_in_capitals():
    from pipeline.postprocess import caps_lookalikes

    assert caps_lookalikes("PHARMAcY") == "PHARMACY"
    assert caps_lookalikes("EXIT cAFE oPEN") == "EXIT CAFE OPEN"
    assert caps_lookalikes("СТОЛОвАЯ") == "СТОЛОВАЯ"
    # mixed case, lone capitals, letters unlike their capitals, half lower: left alone
    for text in ("Pharmacy", "Co", "PHARMAcy", "HOTEl", "ABcd", "x", ""):
        assert caps_lookalikes(text) == text, text
    assert caps_lookalikes("McDONALD") == "MCDONALD"  # the price: such names lose their c

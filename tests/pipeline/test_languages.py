"""Per-line languages and ``--lang``: detection from a line's letters and the lexicon's word
lists, what a restriction forbids, the script lock re-reading forbidden letters, the lexicon
kept to the given languages, and unknown codes refused."""

import json

import pytest
from pydantic import ValidationError

from core.letters import CYRILLIC_LETTERS, LATIN_LETTERS
from pipeline.assembler import Assembler
from pipeline.languages import forbidden_letters, line_language
from pipeline.presets import AssemblerConfig, TextConfig, load_pipeline_config
from pipeline.results import Word
from pipeline.steps import Crops, ScriptLock
from recognition.types import Recognition
from tests.pipeline.fakes import page
from tests.pipeline.test_run_cli import fakes, run_cli, save  # noqa: F401


@pytest.mark.parametrize(("text", "lang"), [
    ("The quick brown fox jumps over the lazy dog", "en"),
    ("Съешь же ещё этих мягких французских булок", "ru"),
    ("Der schnelle braune Fuchs springt über den faulen Hund", "de"),
    ("Le renard brun rapide saute par-dessus le chien paresseux", "fr"),
    ("鲁LDZ4784", "zh"),            # a Chinese plate
    ("TGND342", "und"),             # a plate: letters, no words
    ("12.5 % 2024", "und"),         # no letters
])
def test_line_language(text, lang):
    assert line_language(text) == lang


def test_line_language_keeps_to_the_candidates():
    assert line_language("the house is on the hill", ["ru"]) == "und"  # no Latin candidate
    assert line_language("the house is on the hill", ["de", "en"]) == "en"
    assert line_language("鲁LDZ4784", ["en"]) == "und"


def test_forbidden_letters_by_script():
    assert forbidden_letters([]) == ""
    assert forbidden_letters(["en", "de"]) == CYRILLIC_LETTERS
    assert forbidden_letters(["ru"]) == LATIN_LETTERS
    assert forbidden_letters(["ru", "en"]) == ""
    assert forbidden_letters(["zh"]) == CYRILLIC_LETTERS  # plates: hanzi and Latin


class ForbidReader:
    """Reads 'рирру' unless the Cyrillic letters are forbidden, then 'puppy' (unsure)."""

    def __init__(self):
        self.forbids: list[str] = []

    def predict(self, crops, forbid: str = ""):
        self.forbids.append(forbid)
        text = "puppy" if "р" in forbid else "рирру"
        return [Recognition(text, 0.01 if forbid else 0.9) for _ in crops]


def test_script_lock_rereads_letters_of_a_forbidden_script_whatever_the_score():
    reader = ForbidReader()
    crops = Crops([page(["a"])[:20, :40]], [0])
    first = reader.predict(crops.images)
    # off without a restriction (min_share null): first reads kept
    assert ScriptLock(reader)(crops, first, ["p"]) == first
    again = ScriptLock(reader, forbid=CYRILLIC_LETTERS)(crops, first, ["p"])
    assert again[0].text == "puppy" and reader.forbids[-1] == CYRILLIC_LETTERS


def test_lexicon_keeps_to_the_given_languages():
    word = Word("offce", ((0, 0), (50, 0), (50, 10), (0, 10)), (0.0, 0.0, 50.0, 10.0),
                rec_score=0.1)  # unsure: 0.1 ** (1 / 5) = 0.63 per character
    def read(**text):
        config = AssemblerConfig(text=TextConfig(lexicon=["en"], **text))
        [line] = Assembler(config).assemble([word])
        return line
    assert read().text == "office" and read().lang == "en"
    assert read(languages=["en"]).text == "office"
    line = read(languages=["ru"])
    assert line.text == "offce" and line.lang == "und"  # no English lexicon, no English


def test_unknown_language_refused():
    with pytest.raises(ValidationError, match="unknown language xx"):
        TextConfig(languages=["en", "xx"])
    cfg = load_pipeline_config("documents", overrides=["assembler.text.languages=[ru,en]"])
    assert cfg.assembler.text.languages == ["ru", "en"]


def test_run_lang_option(tmp_path, fakes):  # noqa: F811
    save(page(["abc"]), tmp_path / "p.png")
    out = tmp_path / "r.json"
    result = run_cli(tmp_path / "p.png", "--out", out, "--lang", "ru,xx")
    assert result.exit_code == 2 and "unknown language xx" in result.output
    result = run_cli(tmp_path / "p.png", "--out", out, "--lang", "en,ru")
    assert result.exit_code == 0, result.output
    [line] = json.loads(out.read_text())["images"][0]["lines"]
    assert line["lang"] == "und" and line["text"] == "a b c"  # single letters: no words

import pytest

from core.config import ConfigError
from pipeline.presets import PipelineConfig, load_pipeline_config, preset_names


def test_shipped_presets_validate():
    assert {"documents", "plates"} <= set(preset_names())
    for name in preset_names():
        cfg = load_pipeline_config(name)
        assert isinstance(cfg, PipelineConfig)
        assert cfg.name == name


@pytest.mark.parametrize("name", ["documents", "plates", "scene", "receipts"])
def test_presets_accept_overrides(name):
    cfg = load_pipeline_config(name, overrides=["batch_size=3", "detector.conf=0.45"])
    assert cfg.batch_size == 3
    assert cfg.detector.conf == 0.45


def test_presets_put_each_setting_in_the_section_of_its_step():
    docs = load_pipeline_config("documents")
    assert docs.regions.line_image_aspect == 6 and docs.regions.merge_fragments == 0.3
    assert docs.script_lock.min_share == 0.9 and docs.script_lock.whole_words == 0.3
    assert docs.assembler.text.lexicon and docs.assembler.text.unify_scripts
    assert docs.assembler.layout.order == "topological"
    plates = load_pipeline_config("plates")
    assert plates.crops.pad == 0.1
    assert plates.assembler.layout.kind == "plate"
    assert plates.assembler.layout.word_separator == ""


def test_step_sections_accept_overrides():
    cfg = load_pipeline_config("documents", overrides=[
        "regions.snap_to_ink=true", "crops.pad=0.05", "script_lock.min_share=null",
        "assembler.text.min_char_score=0.5", "assembler.layout.kind=plate"])
    assert cfg.regions.snap_to_ink and cfg.crops.pad == 0.05
    assert cfg.script_lock.min_share is None
    assert cfg.assembler.text.min_char_score == 0.5 and cfg.assembler.layout.kind == "plate"


@pytest.mark.parametrize("old,new", [
    ("crop_pad=0.1", "crops.pad"),
    ("merge_fragments=0.3", "regions.merge_fragments"),
    ("script_lock_words=0.3", "script_lock.whole_words"),
    ("lexicon=[en]", "assembler.text.lexicon"),
    ("kind=plate", "assembler.layout.kind"),
])
def test_a_former_flat_assembler_key_says_where_it_went(old, new):
    with pytest.raises(ConfigError, match=f"is now {new}"):
        load_pipeline_config("documents", overrides=[f"assembler.{old}"])


def test_every_setting_is_documented():
    from pipeline.presets import (
        CropsConfig,
        LayoutConfig,
        RegionsConfig,
        ScriptLockConfig,
        TextConfig,
    )

    for section in (RegionsConfig, CropsConfig, ScriptLockConfig, TextConfig, LayoutConfig):
        for name, field in section.model_fields.items():
            assert field.description, f"{section.__name__}.{name} has no description"


def test_a_preset_that_extends_another_says_only_what_differs(tmp_path):
    documents = load_pipeline_config("documents").model_dump()
    receipts = load_pipeline_config("receipts").model_dump()
    assert receipts["name"] == "receipts"
    text = documents["assembler"]["text"]
    assert (text["min_char_score"], receipts["assembler"]["text"]["min_char_score"]) == (
        0.0, 0.35)
    # one key of a section replaced, its siblings kept
    assert receipts["assembler"]["text"] == {**text, "min_char_score": 0.35}
    layout = receipts["assembler"]["layout"]
    assert (layout["order"], layout["column_gap"]) == ("cuts", 1000)
    assert layout["gutter_gap"] == documents["assembler"]["layout"]["gutter_gap"]  # kept
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: receipts\nname: mine\nbatch_size: 3\n", encoding="utf-8")
    cfg = load_pipeline_config(config=mine, overrides=["detector.conf=0.4"]).model_dump()
    assert (cfg["batch_size"], cfg["detector"]["conf"]) == (3, 0.4)
    assert cfg["assembler"]["layout"] == layout  # two levels down
    mine.write_text("extends: nowhere\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown preset 'nowhere'"):
        load_pipeline_config(config=mine)

import pytest

from pipeline.presets import PipelineConfig, load_pipeline_config, preset_names


def test_shipped_presets_validate():
    assert {"documents", "plates"} <= set(preset_names())
    for name in preset_names():
        cfg = load_pipeline_config(name)
        assert isinstance(cfg, PipelineConfig)
        assert cfg.name == name


@pytest.mark.parametrize("name", ["documents", "plates"])
def test_presets_accept_overrides(name):
    cfg = load_pipeline_config(name, overrides=["batch_size=3", "detector.conf=0.45"])
    assert cfg.batch_size == 3
    assert cfg.detector.conf == 0.45

from pathlib import Path

import pytest
from pydantic import Field

from core.config import (
    ConfigError,
    StrictModel,
    apply_overrides,
    load_config,
    parse_override,
)


class Train(StrictModel):
    epochs: int = 1
    lr: float = 1e-3


class Experiment(StrictModel):
    name: str
    size: int = Field(8, ge=1)
    train: Train = Train()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


def test_load_valid_config(tmp_path):
    cfg = load_config(write(tmp_path, "name: a\ntrain:\n  epochs: 3\n"), Experiment)
    assert cfg.name == "a"
    assert cfg.train.epochs == 3
    assert cfg.size == 8


def test_wrong_type_names_field_and_file(tmp_path):
    path = write(tmp_path, "name: a\ntrain:\n  epochs: many\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, Experiment)
    assert err.value.field == "train.epochs"
    assert str(path) in str(err.value)
    assert "many" in str(err.value)


def test_unknown_field_is_rejected(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "name: a\ntrian: {}\n"), Experiment)
    assert err.value.field == "trian"


def test_constraint_violation(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "name: a\nsize: 0\n"), Experiment)
    assert err.value.field == "size"


def test_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(write(tmp_path, "name: [unclosed\n"), Experiment)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml", Experiment)
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path, "- a\n- b\n"), Experiment)


def test_overrides_are_typed_and_nested(tmp_path):
    path = write(tmp_path, "name: a\n")
    cfg = load_config(path, Experiment, ["train.epochs=7", "train.lr=0.5", "name=b"])
    assert (cfg.train.epochs, cfg.train.lr, cfg.name) == (7, 0.5, "b")


def test_override_errors():
    with pytest.raises(ConfigError):
        parse_override("no-equals-sign")
    with pytest.raises(ConfigError) as err:
        apply_overrides({"name": "a"}, ["name.sub=1"])
    assert err.value.field == "name"


def test_overrides_do_not_mutate_input():
    data = {"train": {"epochs": 1}}
    out = apply_overrides(data, ["train.epochs=2"])
    assert data["train"]["epochs"] == 1
    assert out["train"]["epochs"] == 2

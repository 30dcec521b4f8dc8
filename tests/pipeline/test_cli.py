import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def test_help_lists_all_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "train", "evaluate", "submit", "synth"):
        assert command in result.output


@pytest.mark.parametrize("args", [
    ["run"], ["submit"], ["synth"], ["train", "detector"], ["train", "recognizer"],
    ["evaluate", "detection"], ["evaluate", "recognition"], ["evaluate", "nto"],
])
def test_every_command_has_help(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_wrong_type_in_pipeline_config_exits_2_naming_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbatch_size: lots\n")
    result = runner.invoke(app, ["run", str(tmp_path), "--config", str(bad)])
    assert result.exit_code == 2
    assert "batch_size" in result.output
    assert str(bad) in result.output


def test_bad_override_exits_2(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path), "--set", "detector.imgsz=huge"])
    assert result.exit_code == 2
    assert "detector.imgsz" in result.output


def test_unknown_preset_exits_2(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path), "--preset", "nonsense"])
    assert result.exit_code == 2
    assert "documents" in result.output

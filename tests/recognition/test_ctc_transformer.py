"""The joint reader without its decoder: conversion, identical CTC reads, fine-tune, resume."""

import pytest
import torch
import yaml
from typer.testing import CliRunner

from core.config import validate
from pipeline.cli import app
from recognition.checkpoint import read_checkpoint, save_atomic, save_checkpoint
from recognition.config import RecognizerConfig, RecognizerTrainConfig
from recognition.conversion import drop_decoder
from recognition.factory import build_recognizer
from recognition.models import create_model
from recognition.predictor import RecognitionPredictor
from recognition.preprocess import PreprocessConfig
from recognition.tokenizer import Tokenizer
from recognition.train import train
from tests.recognition.helpers import (
    TINY_CHARSET,
    TINY_KWARGS,
    TINY_SIZE,
    render_word,
    write_crops_dataset,
)

WORDS = ["A1", "B22", "C3", "E45", "H5", "K67", "M7", "O89", "P9", "T10", "X11", "Y12",
         "AB", "BC", "CE", "EH", "HK", "KM", "MO", "OP"]
JOINT = "joint_ctc_transformer"


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    return write_crops_dataset(tmp_path_factory.mktemp("crops"), WORDS)


def _joint_file(path, num_regions=0):
    """A tiny joint reader with random weights (every tensor differs from a fresh init)."""
    tok = Tokenizer(TINY_CHARSET)
    torch.manual_seed(1)
    kwargs = {**TINY_KWARGS[JOINT], "num_regions": num_regions}
    model = create_model(JOINT, tok.num_ctc_classes, tok.num_attn_classes, **kwargs).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    h, w = TINY_SIZE[JOINT]
    regions = [f"r{i}" for i in range(num_regions)]
    save_checkpoint(path, model, JOINT, kwargs, tok, PreprocessConfig(h, w, None), regions)
    return model, tok, path


@pytest.mark.parametrize("num_regions", [0, 3])
def test_drop_decoder_keeps_everything_but_the_decoder(tmp_path, num_regions):
    joint, tok, path = _joint_file(tmp_path / "joint.pt", num_regions)
    src = read_checkpoint(path)
    ctc = drop_decoder(src)
    assert ctc["arch"] == "ctc_transformer"
    assert "num_decoder_layers" not in ctc["model_kwargs"]
    assert "max_length" not in ctc["model_kwargs"]
    dropped = [k for k in src["state_dict"] if k not in ctc["state_dict"]]
    assert dropped and all(k.startswith("decoder.") for k in dropped)
    assert ctc["meta"]["converted_from"] == {"arch": JOINT, "dropped": len(dropped)}
    for k, v in ctc["state_dict"].items():  # the mapping is the identity on kept keys
        assert torch.equal(v, src["state_dict"][k]), k
    assert sum(v.numel() for v in ctc["state_dict"].values()) < sum(
        v.numel() for v in src["state_dict"].values())


def test_converted_model_reads_ctc_exactly_like_the_joint_model(tmp_path):
    joint, tok, path = _joint_file(tmp_path / "joint.pt", num_regions=2)
    cfg = RecognizerConfig(arch="ctc_transformer", weights=str(path), height=32, width=128,
                           batch_size=3, width_step=32)
    ctc = build_recognizer(cfg, "cpu")
    assert not ctc.model.has_decoder and not hasattr(ctc.model, "decoder")
    h, w = TINY_SIZE[JOINT]
    x, widths = torch.randn(4, 3, h, w), torch.tensor([w, 90, 40, 17])
    with torch.no_grad():
        a, b = joint.encode(x, widths), ctc.model(x, widths)
    for key in ("ctc_logits", "mask", "region_logits"):
        assert torch.equal(a[key], b[key]), key
    # batched reads through the predictors, as the pipeline reads: same texts and scores
    images = [render_word(t) for t in WORDS[:7]]
    joint_pred = RecognitionPredictor(joint, tok, PreprocessConfig(h, w, None), "ctc", 3,
                                      torch.device("cpu"), regions=["r0", "r1"],
                                      width_step=32)
    expected = joint_pred.predict(images)
    got = ctc.predict(images)
    assert [(r.text, r.score, r.region) for r in got] == [
        (r.text, r.score, r.region) for r in expected]
    # merge rules that need a decoder fall back to the CTC read on a model without one
    rule = build_recognizer(cfg.model_copy(update={"merge": "closest"}), "cpu")
    assert [r.text for r in rule.predict(images)] == [r.text for r in expected]


def test_drop_decoder_is_strict_about_what_it_drops(tmp_path):
    _, _, path = _joint_file(tmp_path / "joint.pt")
    src = read_checkpoint(path)
    extra = {**src, "state_dict": {**src["state_dict"], "extra.weight": torch.zeros(2)}}
    with pytest.raises(ValueError, match="unexpected.*extra.weight"):
        drop_decoder(extra)
    missing = {**src, "state_dict": {k: v for k, v in src["state_dict"].items()
                                     if k != "ctc_head.bias"}}
    with pytest.raises(ValueError, match="missing.*ctc_head.bias"):
        drop_decoder(missing)
    reshaped = {**src, "model_kwargs": {**src["model_kwargs"], "ffn_dim": 48}}
    with pytest.raises(ValueError, match="other shape"):
        drop_decoder(reshaped)
    with pytest.raises(ValueError, match="expected a joint_ctc_transformer"):
        drop_decoder({**src, "arch": "crnn"})


def _config(tmp_path, crops, weights=None, **train_settings):
    h, w = TINY_SIZE["ctc_transformer"]
    return {
        "name": "tiny_ctc", "output_dir": str(tmp_path / "runs"),
        "recognizer": {"arch": "ctc_transformer", "model": TINY_KWARGS["ctc_transformer"],
                       "charset": TINY_CHARSET, "height": h, "width": w, "batch_size": 8,
                       "weights": weights},
        "data": {"train": [{"path": str(crops)}], "val_fraction": 0.2},
        "train": {"epochs": 50, "batch_size": 8, "lr": 3e-3, "warmup_steps": 2,
                  "log_every": 1, "seed": 3, "device": "cpu", **train_settings},
        "augment": {"enabled": True},
    }


def test_fine_tune_of_a_joint_file_starts_from_its_encoder_and_ctc_head(tmp_path, crops):
    _, _, path = _joint_file(tmp_path / "joint.pt")
    data = _config(tmp_path, crops, str(path), max_steps=1, eval_every=100, lr=1e-12)
    result = train(validate(data, RecognizerTrainConfig), progress=False)
    src = read_checkpoint(path)["state_dict"]
    tuned = torch.load(result.last, weights_only=True)
    assert tuned["arch"] == "ctc_transformer"
    assert not any(k.startswith("decoder.") for k in tuned["state_dict"])
    for k, v in tuned["state_dict"].items():  # a step at lr 1e-12 leaves them near the file
        assert torch.allclose(v, src[k], atol=1e-4), k
    # ... which are far from the model the run builds before loading (seed 3)
    tok = Tokenizer(TINY_CHARSET)
    torch.manual_seed(3)
    fresh = create_model("ctc_transformer", tok.num_ctc_classes, tok.num_attn_classes,
                         **TINY_KWARGS["ctc_transformer"]).state_dict()
    assert not torch.allclose(fresh["ctc_head.weight"], src["ctc_head.weight"], atol=1e-2)


def test_resume_of_a_ctc_transformer_run_continues_exactly(tmp_path, crops):
    _, _, path = _joint_file(tmp_path / "joint.pt")
    full = train(validate(_config(tmp_path / "a", crops, str(path), max_steps=6, eval_every=2),
                          RecognizerTrainConfig), progress=False)
    cfg = validate(_config(tmp_path / "b", crops, str(path), max_steps=6, eval_every=2),
                   RecognizerTrainConfig)
    part = train(cfg, progress=False, stop_after_steps=3)
    resumed = train(cfg, resume=True, progress=False)
    assert part.step == 3 and resumed.step == 6
    a = torch.load(full.last, weights_only=True)["state_dict"]
    b = torch.load(resumed.last, weights_only=True)["state_dict"]
    for k, v in a.items():
        assert torch.equal(v, b[k]), k
    assert full.losses == part.losses + resumed.losses


def test_cli_resume_with_max_time_s(tmp_path, crops):
    """The CPU recipe: a run bounded by train.max_time_s, continued with --resume."""
    _, _, path = _joint_file(tmp_path / "joint.pt")
    cfg_path = tmp_path / "ctc.yaml"
    cfg_path.write_text(yaml.safe_dump(_config(tmp_path, crops, str(path), max_steps=40,
                                               eval_every=100, max_time_s=0.01)),
                        encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["train", "recognizer", str(cfg_path), "--no-progress"])
    assert first.exit_code == 0, first.output
    step = torch.load(tmp_path / "runs" / "tiny_ctc" / "last.pt", weights_only=True)["meta"]
    assert 1 <= step["step"] < 40
    again = runner.invoke(app, ["train", "recognizer", str(cfg_path), "--resume",
                                "--no-progress"])
    assert again.exit_code == 0, again.output
    later = torch.load(tmp_path / "runs" / "tiny_ctc" / "last.pt", weights_only=True)["meta"]
    assert later["step"] > step["step"]


def test_shipped_file_of_a_ctc_run_has_no_decoder(tmp_path, crops):
    _, _, path = _joint_file(tmp_path / "joint.pt")
    result = train(validate(_config(tmp_path, crops, str(path), max_steps=2, eval_every=100),
                            RecognizerTrainConfig), progress=False)
    ckpt = read_checkpoint(result.last)
    shipped = save_atomic({k: v for k, v in ckpt.items() if k != "train"}, tmp_path / "s.pt")
    pred = build_recognizer(RecognizerConfig(arch="ctc_transformer", weights=str(shipped),
                                             height=32, width=128), "cpu")
    assert len(pred.predict([render_word("AB")])) == 1


def test_export_as_ctc_transformer_ships_a_joint_reader_without_its_decoder(tmp_path):
    joint, tok, path = _joint_file(tmp_path / "joint.pt", num_regions=2)
    out = tmp_path / "shipped.pt"
    runner = CliRunner()
    result = runner.invoke(app, ["convert", "recognizer-weights", str(path), "--out", str(out),
                                 "--arch", "ctc_transformer"])
    assert result.exit_code == 0, result.output
    ckpt = read_checkpoint(out)
    assert ckpt["arch"] == "ctc_transformer"
    assert not any(k.startswith("decoder.") for k in ckpt["state_dict"])
    assert ckpt["meta"]["stored_dtype"] == "float16"
    assert out.stat().st_size < path.stat().st_size / 2  # float16 and no decoder
    # the shipped file reads as the joint file's CTC head does (float16 storage apart)
    cfg = RecognizerConfig(arch="ctc_transformer", weights=str(out), height=32, width=128,
                           batch_size=3, width_step=32)
    half_joint = RecognitionPredictor(
        joint.half().float(), tok, PreprocessConfig(*TINY_SIZE[JOINT], None), "ctc", 3,
        torch.device("cpu"), regions=["r0", "r1"], width_step=32)
    images = [render_word(t) for t in WORDS[:7]]
    assert [(r.text, r.region) for r in build_recognizer(cfg, "cpu").predict(images)] == [
        (r.text, r.region) for r in half_joint.predict(images)]
    # an architecture no conversion reaches is refused by name, and nothing is written
    bad = runner.invoke(app, ["convert", "recognizer-weights", str(path), "--out",
                              str(tmp_path / "bad.pt"), "--arch", "crnn"])
    assert bad.exit_code != 0 and "'crnn'" in bad.output
    assert not (tmp_path / "bad.pt").exists()

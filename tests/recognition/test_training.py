import hashlib

import pytest
import torch
import yaml
from typer.testing import CliRunner

from core.config import validate
from pipeline.cli import app
from recognition.augment import Augmenter, build_augment
from recognition.checkpoint import load_checkpoint
from recognition.config import AugmentConfig, RecognizerTrainConfig
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


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    return write_crops_dataset(tmp_path_factory.mktemp("crops"), WORDS)


def _config(tmp_path, crops, arch="crnn", **train):
    h, w = TINY_SIZE[arch]
    data = {
        "name": f"tiny_{arch}", "output_dir": str(tmp_path / "runs"),
        "recognizer": {"arch": arch, "model": TINY_KWARGS[arch], "charset": TINY_CHARSET,
                       "height": h, "width": w, "batch_size": 8},
        "data": {"train": [{"path": str(crops)}], "val_fraction": 0.2},
        "train": {"epochs": 50, "batch_size": 8, "lr": 3e-3, "warmup_steps": 2,
                  "log_every": 1, "seed": 3, "device": "cpu", **train},
        "augment": {"enabled": True},
    }
    return data


@pytest.mark.parametrize("arch,precision", [("crnn", "fp32"), ("joint_ctc_transformer", "fp32"),
                                            ("crnn", "bf16"), ("joint_ctc_transformer", "bf16")])
def test_few_steps_make_the_loss_fall(tmp_path, crops, arch, precision):
    data = _config(tmp_path, crops, arch, max_steps=24, eval_every=100, precision=precision)
    data["augment"]["enabled"] = False
    result = train(validate(data, RecognizerTrainConfig), progress=False)
    first, last = result.losses[:3], result.losses[-3:]
    assert result.step == 24
    assert sum(last) / 3 < 0.8 * sum(first) / 3, result.losses
    assert result.last.is_file() and result.best is not None
    assert (result.run_dir / "metrics.csv").read_text().count("\n") >= 2
    assert any((result.run_dir / "tensorboard").iterdir())
    weights = torch.load(result.last, weights_only=True)["state_dict"]
    assert all(v.dtype in (torch.float32, torch.int64) for v in weights.values())  # fp32 kept


def test_resume_continues_exactly(tmp_path, crops):
    straight = _config(tmp_path / "a", crops, max_steps=6, eval_every=2)
    full = train(validate(straight, RecognizerTrainConfig), progress=False)

    split = _config(tmp_path / "b", crops, max_steps=6, eval_every=2)
    cfg = validate(split, RecognizerTrainConfig)
    part = train(cfg, progress=False, stop_after_steps=3)
    assert part.step == 3
    ckpt = torch.load(part.last, weights_only=True)
    assert ckpt["train"]["step"] == 3 and ckpt["train"]["optimizer"]["state"]
    resumed = train(cfg, resume=True, progress=False)
    assert resumed.step == 6

    a = torch.load(full.last, weights_only=True)
    b = torch.load(resumed.last, weights_only=True)
    for k, v in a["state_dict"].items():  # exact: same batches, seeds and RNG states
        assert torch.equal(v, b["state_dict"][k]), k
    assert a["train"]["scheduler"]["last_epoch"] == b["train"]["scheduler"]["last_epoch"] == 6
    assert full.losses == part.losses + resumed.losses


def test_fine_tune_starts_from_recognizer_weights(tmp_path, crops):
    first = train(validate(_config(tmp_path / "a", crops, max_steps=12, eval_every=100),
                           RecognizerTrainConfig), progress=False)
    tuned = _config(tmp_path / "b", crops, max_steps=1, eval_every=100, lr=1e-9)
    tuned["recognizer"]["weights"] = str(first.last)
    again = train(validate(tuned, RecognizerTrainConfig), progress=False)
    scratch = train(validate(_config(tmp_path / "c", crops, max_steps=1, eval_every=100,
                                     lr=1e-9), RecognizerTrainConfig), progress=False)
    # the first step of the fine-tune already has the trained model's low loss
    assert again.losses[0] < 0.7 * scratch.losses[0], (again.losses, scratch.losses)
    a = torch.load(first.last, weights_only=True)["state_dict"]
    b = torch.load(again.last, weights_only=True)["state_dict"]
    learned = [k for k in a if "running_" not in k and "num_batches" not in k]  # not BN stats
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-4) for k in learned)

    wider = _config(tmp_path / "d", crops, max_steps=1)
    wider["recognizer"]["weights"] = str(first.last)
    wider["recognizer"]["model"] = {**wider["recognizer"]["model"], "hidden": 24}
    with pytest.raises(ValueError, match="recognizer.weights"):
        train(validate(wider, RecognizerTrainConfig), progress=False)


def test_a_reader_without_a_region_head_gets_a_fresh_one(tmp_path, crops):
    first = train(validate(_config(tmp_path / "a", crops, max_steps=6, eval_every=100),
                           RecognizerTrainConfig), progress=False)
    regions = ["cn" if i % 2 else "us" for i in range(len(WORDS))]
    labelled = write_crops_dataset(tmp_path / "regions", WORDS, regions)
    headed = _config(tmp_path / "b", labelled, max_steps=1, eval_every=100, lr=1e-9)
    headed["region_head"] = True
    headed["recognizer"]["weights"] = str(first.last)
    again = train(validate(headed, RecognizerTrainConfig), progress=False)
    a = torch.load(first.last, weights_only=True)
    b = torch.load(again.last, weights_only=True)
    assert not any(k.startswith("region_head.") for k in a["state_dict"])
    assert any(k.startswith("region_head.") for k in b["state_dict"])
    learned = [k for k in a["state_dict"] if "running_" not in k and "num_batches" not in k]
    assert all(torch.allclose(a["state_dict"][k].float(), b["state_dict"][k].float(),
                              atol=1e-4) for k in learned)  # the reader itself carried over
    model, _, _, names = load_checkpoint(again.last)
    assert names == ["cn", "us"] and model.region_head is not None


def test_augmentations_are_seeded():
    aug = Augmenter(AugmentConfig(extra_lines_p=1, rotate_p=1, distort_p=1, blur_p=1, clahe_p=1,
                                  shadow_p=1, cutout_p=1))
    img = render_word("AB12")
    a, b, c = aug(img, 5), aug(img, 5), aug(img, 6)
    assert a.shape[2] == 3
    assert (a == b).all() and not (a == c).all() and not (a == img).all()


runner = CliRunner()


def test_cli_train_then_evaluate(tmp_path, crops):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(_config(tmp_path, crops)), encoding="utf-8")
    result = runner.invoke(app, ["train", "recognizer", str(path), "--set", "train.max_steps=2",
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    last = tmp_path / "runs" / "tiny_crnn" / "last.pt"
    assert last.is_file() and "trained 2 steps" in result.output

    result = runner.invoke(app, ["evaluate", "recognition", str(crops), "--weights", str(last),
                                 "--out", str(tmp_path / "eval.json")])
    assert result.exit_code == 0, result.output
    assert "CER" in result.output and f"{len(WORDS)} samples" in result.output
    assert (tmp_path / "eval.json").is_file()


def test_cli_bad_config_exits_2_naming_the_field(tmp_path, crops):
    data = _config(tmp_path, crops)
    data["train"]["lr"] = "fast"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["train", "recognizer", str(path)])
    assert result.exit_code == 2
    assert "train.lr" in result.output and str(path) in result.output


def test_cli_resume_without_checkpoint_fails_cleanly(tmp_path, crops):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(_config(tmp_path, crops)), encoding="utf-8")
    result = runner.invoke(app, ["train", "recognizer", str(path), "--resume", "--no-progress"])
    assert result.exit_code == 1
    assert "last.pt" in result.output


def test_max_chars_drops_long_samples(crops):
    from recognition.config import DatasetConfig
    from recognition.training_data import read_datasets

    everything, = read_datasets([DatasetConfig(path=crops)], TINY_CHARSET)
    short, = read_datasets([DatasetConfig(path=crops, max_chars=2)], TINY_CHARSET)
    assert len(everything) == len(WORDS)
    assert sorted(s.text for s in short) == sorted(w for w in WORDS if len(w) <= 2)


def test_text_pattern_keeps_matching_samples_before_the_limit(crops):
    import pytest
    from pydantic import ValidationError

    from recognition.config import DatasetConfig
    from recognition.training_data import read_datasets

    letterless, = read_datasets([DatasetConfig(path=crops, text_pattern="[^A-Z]+")],
                                TINY_CHARSET)
    assert letterless == []  # every word here has a letter
    with_digit, = read_datasets([DatasetConfig(path=crops, text_pattern=r"[A-Z]\d+")],
                                TINY_CHARSET)
    assert sorted(s.text for s in with_digit) == sorted(w for w in WORDS if w[1:].isdigit())
    two, = read_datasets([DatasetConfig(path=crops, text_pattern=r"[A-Z]\d+", limit=2)],
                         TINY_CHARSET)
    assert len(two) == 2 and all(s.text[1:].isdigit() for s in two)
    with pytest.raises(ValidationError, match="text_pattern"):
        DatasetConfig(path=crops, text_pattern="[")


def test_exported_half_weights_read_like_the_run_checkpoint(tmp_path, crops):
    from recognition.checkpoint import load_checkpoint, read_checkpoint
    from recognition.config import RecognizerConfig
    from recognition.factory import build_recognizer

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(_config(tmp_path, crops, "joint_ctc_transformer")),
                    encoding="utf-8")
    result = runner.invoke(app, ["train", "recognizer", str(path), "--set", "train.max_steps=6",
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    last = tmp_path / "runs" / "tiny_joint_ctc_transformer" / "last.pt"
    shipped = tmp_path / "shipped.pt"
    result = runner.invoke(app, ["convert", "recognizer-weights", str(last), "--out",
                                 str(shipped)])
    assert result.exit_code == 0, result.output
    ckpt = read_checkpoint(shipped)
    assert "train" not in ckpt and ckpt["meta"]["stored_dtype"] == "float16"
    assert all(v.dtype != torch.float32 for v in ckpt["state_dict"].values())
    assert shipped.stat().st_size < 0.3 * last.stat().st_size  # no optimizer, half floats

    model, *_ = load_checkpoint(shipped)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    images = [render_word(w) for w in WORDS[:6]]
    reads = [build_recognizer(RecognizerConfig(weights=str(p)), "cpu").predict(images)
             for p in (last, shipped)]
    assert [r.text for r in reads[0]] == [r.text for r in reads[1]]
    assert max(abs(a.score - b.score) for a, b in zip(*reads, strict=True)) < 1e-2

    again = runner.invoke(app, ["convert", "recognizer-weights", str(last), "--out",
                                str(shipped)])
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_cli_fine_tune_from_another_file_than_pinned_fails_cleanly(tmp_path, crops):
    first = train(validate(_config(tmp_path / "a", crops, max_steps=1, eval_every=100),
                           RecognizerTrainConfig), progress=False)
    data = _config(tmp_path / "b", crops)
    data["recognizer"]["weights"] = str(first.last)
    data["init_sha256"] = "ab" * 32
    path = tmp_path / "tuned.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["train", "recognizer", str(path), "--no-progress"])
    # one "error: ..." line (the command's ValueError exit), not a ChecksumMismatch traceback
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    actual = hashlib.sha256(first.last.read_bytes()).hexdigest()
    assert "error: recognizer.weights" in result.output
    assert str(first.last) in result.output and "ab" * 32 in result.output
    assert actual in result.output
    assert not (tmp_path / "b" / "runs" / "tiny_crnn" / "last.pt").exists()


def test_camera_augmentations_are_seeded_and_off_by_default():
    img = render_word("AB12")
    plain = AugmentConfig(rotate_p=1, blur_p=1)
    # off by default: the pipeline (and so its random stream) is the one older runs had
    assert len(build_augment(plain).transforms) == len(
        build_augment(plain.model_copy(update={"perspective_p": 0.0})).transforms)
    camera = AugmentConfig(extra_lines_p=0, rotate_p=0, distort_p=0, blur_p=0, clahe_p=0,
                           shadow_p=0, cutout_p=0, perspective_p=1, crop_jitter_p=1,
                           color_p=1, downscale_p=1, jpeg_p=1)
    assert len(build_augment(camera).transforms) == len(build_augment(plain).transforms) + 5
    aug = Augmenter(camera)
    a, b = aug(img, 11), aug(img, 11)
    assert (a.shape == b.shape) and (a == b).all()
    # the box moves: over a few seeds the crop's size changes, and the pixels always do
    shapes = {aug(img, s).shape[:2] for s in range(8)}
    assert len(shapes) > 1
    assert all(aug(img, s).shape[2] == 3 for s in range(4))
    assert not any(aug(img, s).shape == img.shape and (aug(img, s) == img).all()
                   for s in range(4))


def test_average_recognizers_mixes_two_runs_of_one_model_and_refuses_two_models(tmp_path, crops):
    from recognition.checkpoint import read_checkpoint

    a = train(validate(_config(tmp_path / "a", crops, max_steps=1, eval_every=100),
                       RecognizerTrainConfig), progress=False).last
    b = train(validate(_config(tmp_path / "b", crops, max_steps=3, eval_every=100),
                       RecognizerTrainConfig), progress=False).last
    out = tmp_path / "avg.pt"
    result = runner.invoke(app, ["convert", "average-recognizers", str(a), str(b), "--out",
                                 str(out), "--weight", "0.25"])
    assert result.exit_code == 0, result.output
    sa, sb = read_checkpoint(a)["state_dict"], read_checkpoint(b)["state_dict"]
    avg = read_checkpoint(out)
    assert "train" not in avg and avg["meta"]["averaged"]["weight"] == 0.25
    moved = [k for k in sb if sb[k].is_floating_point() and not torch.equal(sa[k], sb[k])]
    assert moved  # the two runs differ, so the average is not one of them
    for k in moved:
        assert torch.allclose(avg["state_dict"][k], 0.75 * sa[k] + 0.25 * sb[k], atol=1e-6)

    other = train(validate(_config(tmp_path / "c", crops, "joint_ctc_transformer",
                                   max_steps=1, eval_every=100),
                           RecognizerTrainConfig), progress=False).last
    result = runner.invoke(app, ["convert", "average-recognizers", str(a), str(other),
                                 "--out", str(tmp_path / "bad.pt")])
    assert result.exit_code == 1 and "differ in arch" in result.output
    assert not (tmp_path / "bad.pt").exists()


def test_case_folded_sets_read_in_capitals_and_flag_their_samples(crops):
    from recognition.config import DatasetConfig
    from recognition.training_data import CropDataset, collate, read_datasets

    plain, folded = read_datasets([DatasetConfig(path=crops),
                                   DatasetConfig(path=crops, case_folded=True)], TINY_CHARSET)
    assert not any(s.case_folded for s in plain)
    assert folded and all(s.case_folded and s.text == s.text.upper() for s in folded)
    from recognition.preprocess import PreprocessConfig

    dataset = CropDataset(plain[:1] + folded[:1], PreprocessConfig(height=16, width=64))
    batch = collate([dataset[0], dataset[1]])
    assert batch["case_folded"].tolist() == [False, True]


def test_evaluation_compares_a_folded_sample_in_capitals(tmp_path):
    import numpy as np
    from PIL import Image

    from recognition.datasets import TextSample
    from recognition.evaluate import evaluate_recognizer
    from recognition.types import Recognition

    path = tmp_path / "x.png"
    Image.fromarray(np.full((8, 8, 3), 255, np.uint8)).save(path)

    class ReadsSmall:
        def predict(self, crops):
            return [Recognition(text="total", score=1.0) for _ in crops]

    samples = [TextSample(path, "TOTAL", case_folded=True), TextSample(path, "TOTAL")]
    result = evaluate_recognizer(ReadsSmall(), samples)
    assert [p.text for p in result.predictions] == ["TOTAL", "total"]
    assert result.metrics.accuracy == pytest.approx(0.5)

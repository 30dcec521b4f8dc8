"""The pieces of recognition/train.py, each on its own (tiny CRNN / joint models, CPU)."""

import csv

import pytest
import torch

from core.checksums import ChecksumMismatch, sha256_of
from core.config import validate
from recognition import train as train_mod
from recognition.config import RecognizerTrainConfig, TrainSettings
from recognition.losses import JointCTCAttentionLoss
from recognition.tokenizer import Tokenizer
from recognition.train import (
    Progress,
    RunLogger,
    Schedule,
    TrainState,
    build_model,
    build_optimizer,
    build_scheduler,
    compute_loss,
    epoch_loader,
    evaluate,
    evaluate_and_save,
    load_teacher,
    plan_schedule,
    prepare_run,
    resume_from,
    should_evaluate,
    start_from_weights,
    train,
    train_one_epoch,
    train_one_step,
    training_checkpoint,
)
from recognition.training_data import CropDataset, KeySampler, build_data, collate, epoch_keys
from tests.recognition.helpers import TINY_CHARSET, write_crops_dataset
from tests.recognition.test_training import WORDS, _config, crops  # noqa: F401 (fixture)

DEVICE = torch.device("cpu")


def _cfg(tmp_path, crops, arch="crnn", **train):  # noqa: F811
    return validate(_config(tmp_path, crops, arch, **train), RecognizerTrainConfig)


def _setup(cfg):
    tokenizer = Tokenizer(cfg.recognizer.charset)
    data = build_data(cfg, tokenizer.charset)
    parts = build_model(cfg, tokenizer, data.regions, DEVICE)
    return data, parts


def _batch(parts, data, n=4):
    dataset = CropDataset(data.train_samples, parts.preprocess, None, data.regions)
    return collate([dataset[i] for i in range(n)])


def _criterion(tokenizer, tc):
    return JointCTCAttentionLoss(tokenizer, tc.ctc_weight, tc.ce_weight, tc.region_weight)


# --- schedule and position ---------------------------------------------------------------


def test_plan_schedule_counts_steps_and_caps_warmup():
    tc = TrainSettings(epochs=3, batch_size=8, warmup_epochs=0.5)
    assert plan_schedule(tc, 20) == Schedule(steps_per_epoch=3, total_steps=9, warmup=2)
    capped = TrainSettings(epochs=3, batch_size=8, max_steps=4, warmup_steps=10)
    assert plan_schedule(capped, 20) == Schedule(3, 4, 3)  # warm-up ends before the last step


def test_train_state_rolls_over_epochs_and_evaluation_points():
    state = TrainState()
    for _ in range(3):
        state.advance(steps_per_epoch=3)
    assert (state.step, state.epoch, state.batch_in_epoch) == (3, 1, 0)
    assert should_evaluate(state, TrainSettings())  # once per epoch by default
    state.advance(3)
    assert not should_evaluate(state, TrainSettings())
    assert should_evaluate(state, TrainSettings(eval_every=2))


def test_epoch_keys_do_not_augment_during_warmup():
    order = list(range(10))
    keys = epoch_keys(order, seed=1, epoch=0, first_step=0, batch_size=4, warmup=1,
                      augment=True)
    assert [i for i, _ in keys] == order
    assert all(s == -1 for _, s in keys[:4]) and all(s >= 0 for _, s in keys[4:])
    assert keys == epoch_keys(order, 1, 0, 0, 4, 1, True)  # pure
    assert all(s == -1 for _, s in epoch_keys(order, 1, 0, 0, 4, 1, False))
    assert list(KeySampler(keys[4:])) == keys[4:] and len(KeySampler(keys)) == 10


# --- data, model, optimizer --------------------------------------------------------------


def test_build_data_holds_out_validation_and_names_regions(tmp_path):
    regions = ["north" if i % 2 else "south" for i in range(len(WORDS))]
    root = write_crops_dataset(tmp_path / "r", WORDS, regions)
    data_cfg = _config(tmp_path, root)
    data = build_data(validate(data_cfg, RecognizerTrainConfig), TINY_CHARSET)
    assert len(data.val_samples) == 4 and data.sizes == [16] and data.regions == []
    assert not {s.path for s in data.val_samples} & {s.path for s in data.train_samples}
    with_head = validate({**data_cfg, "region_head": True}, RecognizerTrainConfig)
    assert build_data(with_head, TINY_CHARSET).regions == ["north", "south"]


def test_build_data_without_training_samples_fails(tmp_path):
    root = write_crops_dataset(tmp_path / "one", ["A1"])
    data_cfg = _config(tmp_path, root)
    data_cfg["data"]["val"] = [{"path": str(root)}]
    data_cfg["data"]["train"][0]["max_chars"] = 1
    with pytest.raises(ValueError, match="no training samples"):
        build_data(validate(data_cfg, RecognizerTrainConfig), TINY_CHARSET)


def test_scheduler_warms_up_then_decays(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops, warmup_steps=2, max_steps=10, min_lr_ratio=0.1)
    _, parts = _setup(cfg)
    optimizer = build_optimizer(parts.model, cfg.train)
    scheduler = build_scheduler(optimizer, plan_schedule(cfg.train, 16), cfg.train)
    lrs = []
    for _ in range(10):
        lrs.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    lr = cfg.train.lr
    assert lrs[:2] == pytest.approx([lr / 2, lr])
    assert all(a >= b for a, b in zip(lrs[1:], lrs[2:], strict=False))
    assert lrs[-1] > 0.1 * lr and scheduler.get_last_lr()[0] == pytest.approx(0.1 * lr)


def test_epoch_loader_resumes_mid_epoch(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops, batch_size=4)
    data, parts = _setup(cfg)
    dataset = CropDataset(data.train_samples, parts.preprocess)
    schedule = plan_schedule(cfg.train, len(dataset))
    whole = [b["texts"] for b in epoch_loader(dataset, data, cfg, schedule, 1, 0, DEVICE)]
    rest = [b["texts"] for b in epoch_loader(dataset, data, cfg, schedule, 1, 2, DEVICE)]
    assert len(whole) == schedule.steps_per_epoch == 4 and rest == whole[2:]
    other = [b["texts"] for b in epoch_loader(dataset, data, cfg, schedule, 2, 0, DEVICE)]
    assert other != whole


# --- one step ----------------------------------------------------------------------------


@pytest.mark.parametrize("arch,terms", [("crnn", {"ctc", "loss"}),
                                        ("joint_ctc_transformer", {"ctc", "ce", "loss"})])
def test_compute_loss_terms(tmp_path, crops, arch, terms):  # noqa: F811
    cfg = _cfg(tmp_path, crops, arch, ctc_weight=0.3, ce_weight=0.7)
    data, parts = _setup(cfg)
    out = compute_loss(parts, _batch(parts, data), _criterion(parts.tokenizer, cfg.train),
                       DEVICE, cfg.train)
    assert set(out) == terms
    expected = out["ctc"] if arch == "crnn" else 0.3 * out["ctc"] + 0.7 * out["ce"]
    assert out["loss"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_compute_loss_adds_the_distillation_term(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops, distill_weight=2.0)
    data, parts = _setup(cfg)
    batch, criterion = _batch(parts, data), _criterion(parts.tokenizer, cfg.train)
    parts.model.eval()  # batch-norm statistics: the model itself is then its own teacher
    own = compute_loss(parts, batch, criterion, DEVICE, cfg.train, teacher=parts.model)
    assert own["distill"].item() == pytest.approx(0, abs=1e-5)
    other = build_model(cfg, parts.tokenizer, [], DEVICE).model.eval()
    taught = compute_loss(parts, batch, criterion, DEVICE, cfg.train, teacher=other)
    assert taught["distill"].item() > 0
    assert taught["loss"].item() == pytest.approx(
        (taught["ctc"] + 2.0 * taught["distill"]).item(), rel=1e-6)


def test_compute_loss_with_region_head_under_bf16(tmp_path):
    regions = ["north" if i % 2 else "south" for i in range(len(WORDS))]
    root = write_crops_dataset(tmp_path / "r", WORDS, regions)
    data_cfg = _config(tmp_path, root, precision="bf16")
    cfg = validate({**data_cfg, "region_head": True}, RecognizerTrainConfig)
    data, parts = _setup(cfg)
    out = compute_loss(parts, _batch(parts, data), _criterion(parts.tokenizer, cfg.train),
                       DEVICE, cfg.train)
    assert {"ctc", "region", "loss"} <= set(out) and out["loss"].dtype == torch.float32


def test_train_one_step_updates_weights_and_clips(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops, grad_clip=1e-3)
    data, parts = _setup(cfg)
    batch, criterion = _batch(parts, data), _criterion(parts.tokenizer, cfg.train)
    before = {k: v.clone() for k, v in parts.model.state_dict().items()}
    optimizer = build_optimizer(parts.model, cfg.train)
    loss = train_one_step(parts, batch, criterion, optimizer, DEVICE, cfg.train)
    assert isinstance(loss, float) and loss > 0
    grad_norm = torch.linalg.vector_norm(
        torch.stack([p.grad.norm() for p in parts.model.parameters() if p.grad is not None]))
    assert grad_norm.item() <= 1e-3 * 1.01
    assert any(not torch.equal(before[k], v) for k, v in parts.model.state_dict().items())


# --- evaluation, checkpoints, logs -------------------------------------------------------


def test_evaluate_scores_and_leaves_train_mode(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops)
    data, parts = _setup(cfg)
    assert evaluate(parts, [], cfg.recognizer, DEVICE) is None
    metrics = evaluate(parts, data.val_samples, cfg.recognizer, DEVICE)
    assert 0 <= metrics.accuracy <= 1 and metrics.cer >= 0 and parts.model.training


def test_checkpoint_then_resume_restores_everything(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops)
    cfg.run_dir.mkdir(parents=True)
    data, parts = _setup(cfg)
    optimizer = build_optimizer(parts.model, cfg.train)
    scheduler = build_scheduler(optimizer, plan_schedule(cfg.train, 16), cfg.train)
    train_one_step(parts, _batch(parts, data), _criterion(parts.tokenizer, cfg.train),
                   optimizer, DEVICE, cfg.train)
    scheduler.step()
    state = TrainState(step=1, batch_in_epoch=1)
    metrics = evaluate_and_save(cfg, parts, state, optimizer, scheduler, data.val_samples,
                                DEVICE)
    assert state.best_cer == metrics.cer
    best = torch.load(cfg.run_dir / "best.pt", weights_only=True)
    assert "train" not in best and best["meta"]["best_cer"] == metrics.cer
    assert "train" not in training_checkpoint(cfg, parts, state)
    torch.manual_seed(123)
    expected_draw = torch.rand(3)

    _, fresh = _setup(cfg)
    fresh_opt = build_optimizer(fresh.model, cfg.train)
    fresh_sched = build_scheduler(fresh_opt, plan_schedule(cfg.train, 16), cfg.train)
    torch.manual_seed(123)  # resuming restores the RNG as it was at saving
    restored = resume_from(cfg.run_dir / "last.pt", fresh, fresh_opt, fresh_sched, DEVICE)
    assert restored == state
    assert fresh_sched.last_epoch == 1 and fresh_opt.state_dict()["state"]
    for k, v in parts.model.state_dict().items():
        assert torch.equal(v, fresh.model.state_dict()[k]), k
    assert not torch.equal(torch.rand(3), expected_draw)
    with pytest.raises(FileNotFoundError, match="--resume"):
        resume_from(tmp_path / "nothing.pt", fresh, fresh_opt, fresh_sched, DEVICE)


def test_start_from_weights_checks_the_pin_first(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path / "a", crops)
    cfg.run_dir.mkdir(parents=True)
    _, parts = _setup(cfg)
    source = tmp_path / "source.pt"
    torch.save(training_checkpoint(cfg, parts, TrainState()), source)
    data = {**_config(tmp_path / "b", crops), "init_sha256": sha256_of(source)}
    data["recognizer"]["weights"] = str(source)
    tuned = validate(data, RecognizerTrainConfig)
    _, target = _setup(tuned)
    start_from_weights(tuned, target, DEVICE)
    assert all(torch.equal(v, target.model.state_dict()[k])
               for k, v in parts.model.state_dict().items())
    wrong = tuned.model_copy(update={"init_sha256": "0" * 64})
    with pytest.raises(ChecksumMismatch, match="recognizer.weights"):
        start_from_weights(wrong, target, DEVICE)


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step")  # steps stubbed
def test_fine_tune_with_a_wrong_pin_fails_before_any_step(tmp_path, crops, monkeypatch):  # noqa: F811
    first = train(_cfg(tmp_path / "a", crops, max_steps=1, eval_every=100), progress=False)
    data = _config(tmp_path / "b", crops, max_steps=2)
    data["recognizer"]["weights"] = str(first.last)
    data["init_sha256"] = "ab" * 32
    cfg = validate(data, RecognizerTrainConfig)
    steps = []
    monkeypatch.setattr(train_mod, "train_one_step", lambda *a, **k: steps.append(1) or 0.0)
    with pytest.raises(ChecksumMismatch) as err:
        train(cfg, progress=False)
    assert str(first.last) in str(err.value) and sha256_of(first.last) in str(err.value)
    assert steps == [] and not (cfg.run_dir / "last.pt").exists()
    assert not (cfg.run_dir / "metrics.csv").exists()
    # the right pin trains
    train(cfg.model_copy(update={"init_sha256": sha256_of(first.last)}), progress=False)
    assert len(steps) == 2


def test_load_teacher_is_frozen_and_refuses_another_charset(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops)
    cfg.run_dir.mkdir(parents=True)
    _, parts = _setup(cfg)
    path = tmp_path / "teacher.pt"
    torch.save(training_checkpoint(cfg, parts, TrainState()), path)
    teacher = load_teacher(path, parts, DEVICE)
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    other = validate({**_config(tmp_path, crops),
                      "recognizer": {**_config(tmp_path, crops)["recognizer"],
                                     "charset": TINY_CHARSET + "Z"}}, RecognizerTrainConfig)
    _, other_parts = _setup(other)
    with pytest.raises(ValueError, match="another charset"):
        load_teacher(path, other_parts, DEVICE)


def test_run_logger_writes_a_row_per_evaluation_and_appends_on_resume(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops)
    cfg.run_dir.mkdir(parents=True)
    logger = RunLogger(cfg, step=0)
    logger.train(1, 2.5, 1e-3)
    logger.evaluation(TrainState(step=2), 1e-3, [1.0, 3.0], None, 0.04)
    logger.close()
    logger = RunLogger(cfg, step=2, append=True)
    logger.evaluation(TrainState(step=4, epoch=1), 5e-4, [], None, 1.0)
    logger.close()
    with (cfg.run_dir / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["step"], r["epoch"], r["train_loss"], r["val_cer"]) for r in rows] == [
        ("2", "0", "2.0", ""), ("4", "1", "", "")]
    RunLogger(cfg, step=0).close()  # a fresh run starts the file again
    assert (cfg.run_dir / "metrics.csv").read_text().count("\n") == 1


# --- set-up and one epoch ----------------------------------------------------------------


def test_prepare_run_builds_everything_and_resumes_only_from_a_checkpoint(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops, epochs=3, max_steps=None)
    run, state = prepare_run(cfg)
    run.logger.close()
    assert state == TrainState()
    assert len(run.dataset) == 16 and len(run.data.val_samples) == 4  # val_fraction 0.2
    assert run.schedule == Schedule(steps_per_epoch=2, total_steps=6, warmup=2)
    assert run.teacher is None
    assert run.optimizer.param_groups[0]["params"][0] is next(run.parts.model.parameters())
    with pytest.raises(FileNotFoundError, match="--resume"):
        prepare_run(_cfg(tmp_path / "other", crops), resume=True)


def test_train_one_epoch_steps_to_the_epoch_end_and_saves(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops, epochs=3)  # eval_every unset: evaluate at each epoch's end
    run, state = prepare_run(cfg)
    done = Progress(0.0)
    assert train_one_epoch(run, state, done) is False
    run.logger.close()
    assert (state.step, state.epoch, state.batch_in_epoch) == (2, 1, 0)
    assert done.steps == 2 and len(done.losses) == 2 and done.recent == []
    assert done.metrics is not None and (cfg.run_dir / "last.pt").is_file()
    assert torch.load(cfg.run_dir / "last.pt", weights_only=True)["train"]["step"] == 2


def test_train_one_epoch_stops_mid_epoch_when_told(tmp_path, crops):  # noqa: F811
    cfg = _cfg(tmp_path, crops, epochs=3, eval_every=100)
    run, state = prepare_run(cfg)
    done = Progress(0.0, stop_after_steps=1)
    assert train_one_epoch(run, state, done) is True
    run.logger.close()
    assert (state.step, state.epoch, state.batch_in_epoch) == (1, 0, 1)
    saved = torch.load(cfg.run_dir / "last.pt", weights_only=True)["train"]
    assert (saved["step"], saved["batch_in_epoch"]) == (1, 1)  # --resume goes on from here


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_trains_bf16_only_where_the_cpu_runs_it_natively(monkeypatch, native):
    monkeypatch.setattr(train_mod, "native_bf16", lambda device: native)
    auto = TrainSettings(precision="auto")
    assert train_mod.trains_bf16(auto, DEVICE) is native
    assert train_mod.uses_channels_last(auto, DEVICE) is native
    # an explicit choice is taken as written, whatever the CPU
    assert train_mod.trains_bf16(TrainSettings(precision="bf16"), DEVICE) is True
    assert train_mod.trains_bf16(TrainSettings(precision="fp32"), DEVICE) is False

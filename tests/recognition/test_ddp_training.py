"""Recognizer training in 2 processes (``torchrun``, gloo on the CPU): shards, one model,
rank-0 files, exact ``resume``. The processes run ``tests/recognition/ddp_worker.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.distributed import DistributedEnv, distributed_env, shard
from tests.recognition.helpers import TINY_CHARSET, TINY_KWARGS, TINY_SIZE, write_crops_dataset

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = Path(sys.executable).with_name("torchrun")
WORDS = ["A1", "B22", "C3", "E45", "H5", "K67", "M7", "O89", "P9", "T10", "X11", "Y12",
         "AB", "BC", "CE", "EH", "HK", "KM", "MO", "OP"]


def test_distributed_env_reads_torchrun_variables():
    assert distributed_env({}) == DistributedEnv(0, 1, 0)
    env = distributed_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert (env.rank, env.world_size, env.local_rank, env.is_main) == (3, 4, 1, False)
    with pytest.raises(ValueError, match="RANK=4"):
        distributed_env({"RANK": "4", "WORLD_SIZE": "4"})
    with pytest.raises(ValueError, match="integers"):
        distributed_env({"RANK": "one", "WORLD_SIZE": "2"})


def test_distributed_shards_deal_every_nth_item_and_pad_evenly():
    items = list(range(7))
    parts = [shard(items, DistributedEnv(r, 3)) for r in range(3)]
    assert parts == [[0, 3, 6], [1, 4, 0], [2, 5, 1]]  # padded by wrapping round
    assert shard(items, DistributedEnv()) == items


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """Both processes' reports after the worker's runs (straight, and split + resume)."""
    tmp = tmp_path_factory.mktemp("ddp")
    crops = write_crops_dataset(tmp / "crops", WORDS)
    h, w = TINY_SIZE["crnn"]
    config = {
        "name": "tiny_ddp", "output_dir": str(tmp / "unused"),
        "recognizer": {"arch": "crnn", "model": TINY_KWARGS["crnn"], "charset": TINY_CHARSET,
                       "height": h, "width": w, "batch_size": 8},
        "data": {"train": [{"path": str(crops)}], "val_fraction": 0.2},
        "train": {"epochs": 10, "batch_size": 4, "lr": 3e-3, "warmup_steps": 1,
                  "max_steps": 4, "eval_every": 2, "log_every": 1, "seed": 3,
                  "device": "cpu", "num_workers": 0},
        "augment": {"enabled": True},
    }
    (tmp / "config.json").write_text(json.dumps(config))
    out = tmp / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([str(TORCHRUN), "--standalone", "--nproc-per-node", "2",
                           str(ROOT / "tests" / "recognition" / "ddp_worker.py"),
                           str(tmp / "config.json"), str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    return out, reports


def test_ddp_ranks_read_disjoint_shards_of_each_epoch(ddp_run):
    _, (r0, r1) = ddp_run
    # 16 training samples, 2 processes x 4 a step: 2 steps an epoch, 4 steps = 2 epochs.
    assert r0["straight0"]["step"] == r1["straight0"]["step"] == 4
    assert r0["straight0"]["epoch"] == 2
    assert r0["straight0"]["wrapped"] == "DistributedDataParallel"
    for epoch in range(2):
        a = r0["straight0"]["seen"][epoch * 8:(epoch + 1) * 8]
        b = r1["straight0"]["seen"][epoch * 8:(epoch + 1) * 8]
        assert len(a) == len(b) == 8
        assert not set(a) & set(b)
        assert sorted(a + b) == list(range(16))
    assert r0["straight0"]["losses"] != r1["straight0"]["losses"]  # different data


def test_ddp_parameters_are_identical_across_ranks(ddp_run):
    out, _ = ddp_run
    for run in ("straight", "split"):
        w0 = torch.load(out / f"rank0_{run}.pt", weights_only=True)
        w1 = torch.load(out / f"rank1_{run}.pt", weights_only=True)
        assert w0.keys() == w1.keys() and len(w0) > 4
        for k, v in w0.items():
            assert torch.equal(v, w1[k]), (run, k)
        saved = torch.load(out / run / "tiny_ddp" / "last.pt", weights_only=True)["state_dict"]
        for k, v in w0.items():  # what rank 0 saved is the model every rank holds
            assert torch.equal(v, saved[k]), (run, k)


def test_ddp_only_rank_0_writes_checkpoints_and_logs(ddp_run):
    out, (r0, r1) = ddp_run
    assert r1["writes"] == [] and r1["logs"] == []
    assert sorted({Path(p).name for p in r0["writes"]}) == ["best.pt", "last.pt"]
    assert len(r0["logs"]) == 3  # straight, split, resumed split
    run_dir = out / "straight" / "tiny_ddp"
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows] == ["step", "2", "4"]  # one row per evaluation
    ckpt = torch.load(run_dir / "last.pt", weights_only=True)
    assert ckpt["train"]["processes"] == 2 and len(ckpt["train"]["rng_per_process"]) == 2


def test_ddp_resume_continues_exactly(ddp_run):
    out, reports = ddp_run
    for r in reports:
        assert (r["split0"]["step"], r["split1"]["step"]) == (2, 4)
        # The resumed half reads exactly what the straight run read in its last 2 steps.
        assert r["split0"]["seen"] + r["split1"]["seen"] == r["straight0"]["seen"]
        assert r["split0"]["losses"] + r["split1"]["losses"] == r["straight0"]["losses"]
    a = torch.load(out / "straight" / "tiny_ddp" / "last.pt", weights_only=True)
    b = torch.load(out / "split" / "tiny_ddp" / "last.pt", weights_only=True)
    assert a["train"]["step"] == b["train"]["step"] == 4
    for k, v in a["state_dict"].items():
        assert torch.equal(v, b["state_dict"][k]), k

"""Mask R-CNN training in 2 processes (``torchrun``, gloo on the CPU): disjoint shards,
one model, rank-0 files, resume. The processes run ``tests/detection/ddp_maskrcnn_worker.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.detection.synthetic import MASKRCNN_TINY, make_coco_pages, train_config

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = Path(sys.executable).with_name("torchrun")


def test_distributed_maskrcnn_trains_one_model_on_disjoint_shards(tmp_path):
    make_coco_pages(tmp_path / "data", n=4)
    data = train_config(tmp_path / "data", MASKRCNN_TINY, tmp_path / "run", iterations=2,
                        warmup_iters=1, checkpoint_every=1, batch=1)
    data["data"]["val_fraction"] = 0.0
    (tmp_path / "config.json").write_text(json.dumps(data))
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([str(TORCHRUN), "--standalone", "--nproc-per-node", "2",
                           str(ROOT / "tests" / "detection" / "ddp_maskrcnn_worker.py"),
                           str(tmp_path / "config.json"), str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    r0, r1 = (json.loads((out / f"rank{r}.json").read_text()) for r in range(2))
    # 4 images, 2 processes, 1 image a step: a pass is 2 steps; together they read all 4.
    assert len(r0["first"]["seen"]) == len(r1["first"]["seen"]) == 2
    assert sorted(r0["first"]["seen"] + r1["first"]["seen"]) == [0, 1, 2, 3]
    for part in ("first", "resumed"):
        w0 = torch.load(out / f"rank0_{part}.pt", weights_only=True)
        w1 = torch.load(out / f"rank1_{part}.pt", weights_only=True)
        assert w0.keys() == w1.keys() and len(w0) > 10
        for k, v in w0.items():
            assert torch.equal(v, w1[k]), (part, k)
        last = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    # Only rank 0 writes: last.pt after steps 1 and 2, then after the resumed step 3.
    assert r1["first"]["writes"] == r1["resumed"]["writes"] == []
    assert len(r0["first"]["writes"]) == 2 and len(r0["resumed"]["writes"]) == 1
    # Resumed from the same last.pt in both processes: one more step, on another image in
    # each (the loop fetches the next batch before it sees the run is done: read, not used).
    assert last["step"] == 3 and last["processes"] == 2
    assert r0["resumed"]["seen"][0] != r1["resumed"]["seen"][0]
    for k, v in w0.items():  # what rank 0 saved is the model both hold
        assert torch.equal(v, last["state_dict"][k]), k
    assert (tmp_path / "run" / "best_detector.pt").is_file()


def test_yolo_device_list_passes_through_for_distributed_training(monkeypatch):
    from detection.train_yolo import _train_args, yolo_devices

    assert yolo_devices("cpu") == (torch.device("cpu"), "cpu")
    with pytest.raises(ValueError, match="CUDA is not available"):
        yolo_devices("0,1")  # this machine has no GPU: said before any data is prepared
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert yolo_devices("0,1") == (torch.device("cuda", 0), "0,1")
    assert yolo_devices("cuda:1, cuda:0")[1] == "1,0"
    with pytest.raises(ValueError, match="only 2 GPU"):
        yolo_devices("0,2")
    with pytest.raises(ValueError, match="twice"):
        yolo_devices("0,0")
    from detection.config import DetectorTrainConfig

    cfg = DetectorTrainConfig.model_validate(
        {"device": "0,1", "data": {"train": {"annotations": "a.json"}}})
    args = _train_args(cfg, Path("data.yaml"), Path("run"), *yolo_devices(cfg.device))
    assert args["device"] == "0,1"

"""One training process of ``test_ddp_training.py``, started twice by ``torchrun``.

It joins the gloo process group itself (so ``train`` keeps it between runs), records which
samples this process read, which files it wrote and its own model's final parameters, and runs:
4 steps straight in ``OUT/straight``, then 2 steps and ``resume`` to step 4 in ``OUT/split``.
What it saw goes to ``OUT/rank<R>.json``, its parameters to ``OUT/rank<R>_<run>.pt``.

Usage: ``torchrun --nproc-per-node 2 tests/recognition/ddp_worker.py CONFIG.json OUT``
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

import recognition.train as training
from core.config import validate
from recognition.config import RecognizerTrainConfig
from recognition.training_data import CropDataset


def main(config_json: str, out: str) -> None:
    rank = int(os.environ["RANK"])
    out_dir = Path(out)
    dist.init_process_group("gloo")
    seen: list[int] = []
    writes: list[str] = []
    logs: list[str] = []
    runs: list[training.TrainingRun] = []

    read, save = CropDataset.__getitem__, training.save_atomic
    prepare, open_logs = training.prepare_run, training.RunLogger.__init__

    def reading(self, key):
        seen.append(key[0] if isinstance(key, tuple) else key)
        return read(self, key)

    def saving(ckpt, path):
        writes.append(str(path))
        return save(ckpt, path)

    def opening_logs(self, cfg, step, append=False):
        logs.append(str(cfg.run_dir))
        return open_logs(self, cfg, step, append)

    def preparing(cfg, resume=False):
        run, state = prepare(cfg, resume)
        runs.append(run)
        return run, state

    CropDataset.__getitem__ = reading
    training.save_atomic = saving
    training.RunLogger.__init__ = opening_logs
    training.prepare_run = preparing

    data = json.loads(Path(config_json).read_text())
    report: dict[str, object] = {}
    for name, calls in (("straight", [{}]),
                        ("split", [{"stop_after_steps": 2}, {"resume": True}])):
        data["output_dir"] = str(out_dir / name)
        cfg = validate(data, RecognizerTrainConfig)
        for n, kwargs in enumerate(calls):
            seen.clear()
            result = training.train(cfg, progress=False, **kwargs)
            report[f"{name}{n}"] = {"seen": list(seen), "step": result.step,
                                    "epoch": result.epoch, "losses": result.losses,
                                    "wrapped": type(runs[-1].forward).__name__}
        # Parameters, not buffers: batch-norm statistics follow each process's last batch
        # until DDP copies rank 0's at the next forward pass (and rank 0's are saved).
        torch.save({k: v.detach() for k, v in runs[-1].parts.model.named_parameters()},
                   out_dir / f"rank{rank}_{name}.pt")
    report["writes"] = writes
    report["logs"] = logs
    (out_dir / f"rank{rank}.json").write_text(json.dumps(report))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:])

"""One process of ``test_distributed_maskrcnn.py``, started twice by ``torchrun``: trains the
tiny Mask R-CNN for ``iterations`` steps, then resumes it for one step more, recording the
images this process read, the files it wrote and its parameters after each part
(``OUT/rank<R>.json``, ``OUT/rank<R>_<part>.pt``). It joins the gloo process group itself,
so the trainer keeps it between the two parts.

Usage: ``torchrun --nproc-per-node 2 tests/detection/ddp_maskrcnn_worker.py CONFIG.json OUT``
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

import detection.train_maskrcnn as training
from detection.config import DetectorTrainConfig
from detection.maskrcnn_data import CocoMaskDataset


def main(config_json: str, out: str) -> None:
    rank = int(os.environ["RANK"])
    dist.init_process_group("gloo")
    seen: list[int] = []
    writes: list[str] = []
    models: list[torch.nn.Module] = []
    read, save, wrap = (CocoMaskDataset.__getitem__, training.save_checkpoint,
                        training.wrap_model)

    def reading(self, index):
        seen.append(int(index))
        return read(self, index)

    def saving(path, *args, **kwargs):
        writes.append(str(path))
        return save(path, *args, **kwargs)

    def wrapping(model, device):
        models.append(model)
        return wrap(model, device)

    CocoMaskDataset.__getitem__ = reading
    training.save_checkpoint = saving
    training.wrap_model = wrapping
    data = json.loads(Path(config_json).read_text())
    out_dir = Path(out)
    report = {}
    for part, resume in (("first", False), ("resumed", True)):
        if resume:
            data["train"]["iterations"] += 1
        seen.clear()
        training.train_maskrcnn(DetectorTrainConfig.model_validate(data), resume=resume)
        torch.save({k: v.detach() for k, v in models[-1].named_parameters()},
                   out_dir / f"rank{rank}_{part}.pt")
        report[part] = {"seen": list(seen), "writes": list(writes)}
        writes.clear()
    (out_dir / f"rank{rank}.json").write_text(json.dumps(report))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:])

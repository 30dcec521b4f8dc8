"""One process of ``test_distributed_maskrcnn.py``, started twice by ``torchrun``: trains the
tiny Mask R-CNN for ``iterations`` steps, recording the images this process read, the files
it wrote and its final parameters (``OUT/rank<R>.json``, ``OUT/rank<R>.pt``).

Usage: ``torchrun --nproc-per-node 2 tests/detection/ddp_maskrcnn_worker.py CONFIG.json OUT``
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

import detection.train_maskrcnn as training
from detection.config import DetectorTrainConfig
from detection.maskrcnn_data import CocoMaskDataset


def main(config_json: str, out: str) -> None:
    rank = int(os.environ["RANK"])
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
    cfg = DetectorTrainConfig.model_validate(json.loads(Path(config_json).read_text()))
    training.train_maskrcnn(cfg)
    out_dir = Path(out)
    torch.save({k: v.detach() for k, v in models[0].named_parameters()},
               out_dir / f"rank{rank}.pt")
    (out_dir / f"rank{rank}.json").write_text(json.dumps({"seen": seen, "writes": writes}))


if __name__ == "__main__":
    main(*sys.argv[1:])

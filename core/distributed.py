"""Several training processes (``torchrun --nproc-per-node N``): one process group, one model.

torchrun starts N copies of a training command with ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` in their environment. :func:`distributed_env` reads them (a plain run is rank 0
of 1, and everything here is then a no-op), :func:`init_distributed` joins the group (gloo on
CPU, NCCL on CUDA, each process on the GPU ``LOCAL_RANK``), :func:`wrap_model` puts the model
in ``DistributedDataParallel`` (gradients averaged over processes, so every copy takes the same
step), :func:`shard` gives each process its part of a batch order, and :func:`is_main` /
:func:`barrier` keep logs, evaluation and checkpoint writes on rank 0 while the others wait.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class DistributedEnv:
    """Where this process stands among the training processes.

    Attributes:
        rank: 0 … ``world_size - 1``; rank 0 logs, evaluates and saves.
        world_size: number of processes (1: a plain run).
        local_rank: index on this machine, which picks its GPU.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """Whether there are several processes."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Whether this process logs, evaluates and writes files."""
        return self.rank == 0


def distributed_env(environ: dict[str, str] | None = None) -> DistributedEnv:
    """The ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` torchrun sets; rank 0 of 1 without them.

    Raises:
        ValueError: values that are not integers, or a rank outside the world.
    """
    env = os.environ if environ is None else environ
    try:
        world = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise ValueError(f"RANK / WORLD_SIZE / LOCAL_RANK must be integers: {exc}") from exc
    if world < 1 or not 0 <= rank < world or local < 0:
        raise ValueError(f"RANK={rank} is not a rank of WORLD_SIZE={world}")
    return DistributedEnv(rank, world, local)


def init_distributed(device: torch.device) -> DistributedEnv:
    """Join the process group torchrun describes (no-op for a single process).

    Args:
        device: the device the run asked for; CUDA uses NCCL and moves this process to GPU
            ``LOCAL_RANK`` (see :func:`process_device`), CPU uses gloo.

    Returns:
        this process's :class:`DistributedEnv`.
    """
    env = distributed_env()
    if not env.enabled or dist.is_initialized():
        return env
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(env.local_rank)
    dist.init_process_group(backend=backend)
    log.info("process group joined: rank %d of %d (%s)", env.rank, env.world_size, backend)
    return env


def process_device(device: torch.device, env: DistributedEnv) -> torch.device:
    """The device of this process: ``cuda:LOCAL_RANK`` when several processes share CUDA."""
    if env.enabled and device.type == "cuda":
        return torch.device("cuda", env.local_rank)
    return device


def cleanup_distributed() -> None:
    """Leave the process group, if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def is_main() -> bool:
    """Whether this process is rank 0 (always, without a process group)."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def barrier() -> None:
    """Wait for every process (no-op without a process group)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def wrap_model(model: nn.Module, device: torch.device,
               find_unused_parameters: bool = True) -> nn.Module:
    """``model`` in ``DistributedDataParallel`` when there is a process group, else itself.

    DDP copies rank 0's weights to every process at once and averages gradients in
    ``backward``, so all copies stay equal. ``find_unused_parameters`` (default on): loss
    weights can switch a head off, and a parameter without a gradient would stall DDP.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids,
                                               find_unused_parameters=find_unused_parameters)


def unwrap_model(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (what checkpoints store), or ``model`` itself."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def shard(items: Sequence[T], env: DistributedEnv, epoch: int = 0) -> list[T]:
    """This process's part of an ordered list, as ``DistributedSampler`` deals it.

    The order is kept (no shuffling: the caller's order is already seeded per epoch, so
    ``set_epoch`` is only passed through); the list is padded by wrapping round so every
    process gets as many items, and process ``r`` takes items ``r, r + N, r + 2N, …``. Batch
    ``b`` of every process thus comes from the same stretch of the order, which makes a resumed
    run continue exactly.
    """
    if not env.enabled:
        return list(items)
    sampler = DistributedSampler(range(len(items)), num_replicas=env.world_size,  # type: ignore[arg-type]
                                 rank=env.rank, shuffle=False, drop_last=False)
    sampler.set_epoch(epoch)
    return [items[i] for i in sampler]


def _collective_tensor(values: list[float], dtype: torch.dtype) -> torch.Tensor:
    # NCCL reduces only CUDA tensors, gloo CPU ones.
    device = f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"
    return torch.tensor(values, dtype=dtype, device=device)


def all_agree(flag: bool) -> bool:
    """Whether ``flag`` holds on every process (a collective: all must call it)."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    value = _collective_tensor([1 if flag else 0], torch.int64)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item())


def any_process(flag: bool) -> bool:
    """Whether ``flag`` holds on some process (a collective: all must call it)."""
    return not all_agree(not flag)


def mean_over_processes(value: float) -> float:
    """The mean of ``value`` over all processes (a collective; ``value`` itself alone)."""
    if not (dist.is_available() and dist.is_initialized()):
        return value
    t = _collective_tensor([value], torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / dist.get_world_size()


def gather_objects(obj: Any) -> list[Any]:
    """Every process's ``obj``, by rank (a collective; ``[obj]`` alone)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out

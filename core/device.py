"""Device choice: ``auto`` picks CUDA when present, else CPU."""

from __future__ import annotations

import torch


def select_device(name: str = "auto") -> torch.device:
    """Turn ``auto`` / ``cpu`` / ``cuda`` / ``cuda:N`` into a usable ``torch.device``.

    Raises:
        ValueError: for an unknown name, or CUDA asked for on a machine without it.
    """
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {name!r}; use auto, cpu or cuda[:N]") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} asked for, but CUDA is not available here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: only {torch.cuda.device_count()} GPU(s) present")
    elif device.type != "cpu":
        raise ValueError(f"unsupported device {name!r}; use auto, cpu or cuda[:N]")
    return device

"""A flat registry of recognizer architectures with their default keyword arguments.

``@register("name", input_size=(h, w), **defaults)`` on a builder
``fn(num_ctc_classes, num_attn_classes, **kwargs) -> nn.Module``. Configs override kwargs;
the merged kwargs are what checkpoints store, so a model rebuilds exactly as trained.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

Builder = Callable[..., nn.Module]

_BUILDERS: dict[str, Builder] = {}
_DEFAULTS: dict[str, dict[str, Any]] = {}
DEFAULT_CFGS: dict[str, dict[str, Any]] = {}


def register(name: str, *, input_size: tuple[int, int], two_row_aspect: float | None = None,
             **defaults: Any) -> Callable[[Builder], Builder]:
    """Register a builder under ``name`` with default kwargs and a default input size.

    Args:
        name: architecture name used in configs (``arch:``).
        input_size: default ``(height, width)`` of the input.
        two_row_aspect: default two-row threshold (see :class:`PreprocessConfig`).
        **defaults: default keyword arguments of the builder.
    """

    def deco(fn: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(f"architecture {name!r} registered twice")
        _BUILDERS[name] = fn
        _DEFAULTS[name] = dict(defaults)
        DEFAULT_CFGS[name] = {"input_size": input_size, "two_row_aspect": two_row_aspect}
        return fn

    return deco


def list_models() -> list[str]:
    """Registered architecture names."""
    return sorted(_BUILDERS)


def model_defaults(name: str) -> dict[str, Any]:
    """A copy of the default kwargs of ``name``."""
    _check(name)
    return dict(_DEFAULTS[name])


def merged_kwargs(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults of ``name`` updated by ``overrides``; unknown keys are an error."""
    kwargs = model_defaults(name)
    unknown = set(overrides or {}) - set(kwargs)
    if unknown:
        raise ValueError(f"unknown model option(s) for {name!r}: {sorted(unknown)}; "
                         f"known: {sorted(kwargs)}")
    kwargs.update(overrides or {})
    return kwargs


def create_model(name: str, num_ctc_classes: int, num_attn_classes: int,
                 **overrides: Any) -> nn.Module:
    """Build architecture ``name`` with its defaults updated by ``overrides``."""
    kwargs = merged_kwargs(name, overrides)
    return _BUILDERS[name](num_ctc_classes=num_ctc_classes, num_attn_classes=num_attn_classes,
                           **kwargs)


def _check(name: str) -> None:
    if name not in _BUILDERS:
        raise ValueError(f"unknown recognizer architecture {name!r}; known: {list_models()}")

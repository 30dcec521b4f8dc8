"""YAML configs validated into typed pydantic models, with ``--set key.sub=value`` overrides.

Every stage defines its own config models (``detection.config``, ``recognition.config``,
``pipeline.presets``); this module only loads, overrides and validates, and turns any
failure into a :class:`ConfigError` that names the file and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for config sections: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class ConfigError(ValueError):
    """A config could not be read or validated.

    Attributes:
        file: the config file (or ``"<overrides>"``).
        field: dotted path of the offending field, or ``None`` for file-level errors.
    """

    def __init__(self, file: str | Path, field: str | None, message: str):
        self.file = str(file)
        self.field = field
        self.message = message
        where = f"field '{field}'" if field else "file"
        super().__init__(f"config {self.file}: {where}: {message}")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; raises :class:`ConfigError` for missing files or bad YAML."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, None, "no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, f"invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, None, f"top level must be a mapping, got {type(data).__name__}")
    return data


def parse_override(item: str) -> tuple[list[str], Any]:
    """Split ``"a.b.c=value"`` into its key path and a YAML-typed value."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError("<overrides>", item, "expected KEY=VALUE, e.g. train.epochs=5")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return [k for k in key.strip().split(".")], value


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a deep copy of ``data`` with each ``key.sub=value`` override applied."""
    out = _deep_copy(data)
    for item in overrides:
        keys, value = parse_override(item)
        node = out
        for depth, k in enumerate(keys[:-1]):
            child = node.get(k)
            if child is None:
                child = node[k] = {}
            elif not isinstance(child, dict):
                raise ConfigError("<overrides>", ".".join(keys[: depth + 1]),
                                  f"is a {type(child).__name__}, cannot set a sub-key")
            node = child
        node[keys[-1]] = value
    return out


def validate(data: Mapping[str, Any], model: type[M], source: str | Path = "<config>") -> M:
    """Validate a mapping into ``model``; the first error becomes a :class:`ConfigError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        got = f"; got {err['input']!r}" if "input" in err and not isinstance(
            err["input"], dict) else ""
        raise ConfigError(source, field, f"{err['msg']}{got}{extra}") from exc


def load_config(path: str | Path, model: type[M], overrides: Iterable[str] = ()) -> M:
    """Read ``path``, apply ``overrides`` and validate into ``model``."""
    data = apply_overrides(read_yaml(path), overrides)
    return validate(data, model, path)


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}

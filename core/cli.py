"""Small helpers shared by every CLI command: clean exits instead of tracebacks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from pydantic import BaseModel

from core.config import ConfigError, load_config

M = TypeVar("M", bound=BaseModel)

EXIT_FAILED = 1
EXIT_USAGE = 2

SET_HELP = "Override a config field, e.g. --set train.epochs=5 (repeatable)."


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def not_available(feature: str) -> NoReturn:
    """Exit for a command whose implementation has not landed yet."""
    fail(f"{feature} is not available yet in this version of the pipeline")


def load_config_or_exit(path: Path, model: type[M], overrides: Iterable[str] = ()) -> M:
    """Load a config; a bad file or field exits 2 with the file and the field named."""
    try:
        return load_config(path, model, list(overrides))
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)

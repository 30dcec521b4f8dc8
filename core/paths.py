"""Where the project's own files live, and how relative paths in configs are resolved."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIGS_DIR = PROJECT_ROOT / "configs"
DATA_DIR = PROJECT_ROOT / "data"
MODELS_DIR = DATA_DIR / "models"


def resolve_path(path: str | Path) -> Path:
    """Resolve a path from a config file.

    Absolute paths are kept. A relative path is taken from the current directory when it
    exists there, otherwise from the project root, so shipped configs that name
    ``data/models/...`` work from any working directory.
    """
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    return PROJECT_ROOT / p

"""Pipeline presets: named YAML configs under ``configs/pipeline/`` (``documents``, ``plates``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import Field

from detection.config import DetectorConfig
from pipeline.config import ConfigError, StrictModel, load_config
from pipeline.paths import CONFIGS_DIR
from recognition.config import RecognizerConfig

PRESETS_DIR = CONFIGS_DIR / "pipeline"


class AssemblerConfig(StrictModel):
    """Reading-order settings (lines, columns, two-row plates)."""

    kind: str = "page"


class PipelineConfig(StrictModel):
    """A whole pipeline: detector + recognizer + assembler, and run settings."""

    name: str = "custom"
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    recognizer: RecognizerConfig = Field(default_factory=RecognizerConfig)
    assembler: AssemblerConfig = Field(default_factory=AssemblerConfig)
    device: str = "auto"
    batch_size: int = Field(32, ge=1)


def preset_names() -> list[str]:
    """Names of the shipped presets."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    """Config file of a shipped preset; :class:`ConfigError` for an unknown name."""
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(preset_names())
        raise ConfigError(path, None, f"unknown preset {name!r}; known: {known}")
    return path


def load_pipeline_config(preset: str | None = "documents", config: Path | None = None,
                         overrides: Iterable[str] = ()) -> PipelineConfig:
    """Load a preset by name, or a config file when given (the file wins)."""
    path = config if config is not None else preset_path(preset or "documents")
    return load_config(path, PipelineConfig, overrides)

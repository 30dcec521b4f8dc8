"""``pipeline models list`` and ``pipeline models export``: the shipped weights, and their
export to ONNX (``pipeline.onnx_backend``)."""

from __future__ import annotations

import json
import re
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from core.cli import EXIT_USAGE, SET_HELP, fail

models_app = typer.Typer(help="The shipped models: list them, export them to ONNX.",
                         no_args_is_help=True)

_CARD_ROW = re.compile(r"^\|\s*`(?P<file>[^`]+\.pt)`\s*\|\s*`(?P<sha>[0-9a-f]{64})`\s*\|"
                       r"\s*(?P<summary>[^|]+?)\s*\|")


def card_summaries(card: Path) -> dict[str, str]:
    """File name → the one-line summary of the model card's table (``data/models/README.md``:
    ``| `file.pt` | `sha256` | summary | recipe |``)."""
    if not card.is_file():
        return {}
    rows = (_CARD_ROW.match(line) for line in card.read_text(encoding="utf-8").splitlines())
    return {m["file"]: m["summary"] for m in rows if m}


def _architecture(path: Path) -> tuple[str, str]:
    """``(role, architecture)`` of a weights file, from its own metadata (weights_only)."""
    import torch

    from detection.yolo import CHECKPOINT_FORMAT
    from recognition.checkpoint import FORMAT

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a foreign or broken file: say so in the row
        return "?", f"unreadable ({type(exc).__name__})"
    fmt = payload.get("format") if isinstance(payload, dict) else None
    if fmt == CHECKPOINT_FORMAT:
        yaml = payload.get("yaml", {})
        name = Path(str(yaml.get("yaml_file", "yolo"))).name
        return "detector", f"yolo {name} ({', '.join(payload.get('classes', []))})"
    if fmt == FORMAT:
        kwargs = payload.get("model_kwargs", {})
        encoder = f" {kwargs['encoder']}" if "encoder" in kwargs else ""
        return "recognizer", f"{payload.get('arch')}{encoder}"
    return "?", "unknown format"


def model_rows() -> list[dict[str, Any]]:
    """One row per ``data/models/*.pt``: file, presets that use it (``-``: none, an
    alternative), role, architecture, size, SHA-256 and the card's summary."""
    from core.checksums import sha256_of
    from core.paths import MODELS_DIR, resolve_path
    from pipeline.presets import load_pipeline_config, preset_names

    used: dict[Path, list[str]] = {}
    for name in preset_names():
        cfg = load_pipeline_config(name)
        second = cfg.second_reader.recognizer.weights if cfg.second_reader.enabled else None
        for weights in (cfg.detector.weights, cfg.recognizer.weights, second):
            if weights is not None:
                used.setdefault(resolve_path(weights).resolve(), []).append(name)
    summaries = card_summaries(MODELS_DIR / "README.md")
    rows = []
    for path in sorted(MODELS_DIR.glob("*.pt")):
        role, arch = _architecture(path)
        rows.append({"file": f"data/models/{path.name}",
                     "preset": ",".join(used.get(path.resolve(), [])) or "-",
                     "role": role, "architecture": arch, "size_bytes": path.stat().st_size,
                     "sha256": sha256_of(path), "summary": summaries.get(path.name, "")})
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    columns = ["file", "preset", "role", "architecture", "size", "summary"]
    cells = [[r["file"], r["preset"], r["role"], r["architecture"],
              f"{r['size_bytes'] / 2**20:.1f} MiB", r["summary"]] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    return "\n".join(lines)


@models_app.command("list")
def list_models(
    json_: bool = typer.Option(False, "--json", help="Print JSON (with SHA-256) instead of "
                               "a table."),
) -> None:
    """The shipped models (data/models/*.pt): preset, role, architecture, size, summary."""
    rows = model_rows()
    typer.echo(json.dumps(rows, indent=2, ensure_ascii=False) if json_ else _table(rows))


class ExportFormat(str, Enum):
    onnx = "onnx"


@models_app.command("export")
def export_models(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write (created)."),
    preset: str = typer.Option("documents", help="Shipped preset whose models to export."),
    config: Path | None = typer.Option(None, help="Pipeline YAML config (overrides --preset)."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    format_: ExportFormat = typer.Option(ExportFormat.onnx, "--format", help="Export format."),
) -> None:
    """Export a preset's detector and recognizer (ONNX, dynamic batch and width) into OUT,
    with export.json: each file's role, weights SHA-256, inputs, outputs, opset and its
    check against torch (max abs difference on a sample batch)."""
    from core.logs import setup_logging
    from pipeline.cli.run import failures_reported
    from pipeline.onnx_backend import export_pipeline
    from pipeline.presets import load_pipeline_config

    setup_logging("INFO")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file; give a folder", EXIT_USAGE)
    with failures_reported():
        cfg = load_pipeline_config(preset, config, set_)
    with failures_reported(f"could not export the models of {cfg.name!r}"):
        manifest = export_pipeline(cfg, out)
    for name, entry in manifest["files"].items():
        diffs = ", ".join(f"{k} {v:.2g}" for k, v in entry["check"]["max_abs_diff"].items())
        typer.echo(f"{out / name}: {entry['role']} {entry['architecture']}; max abs diff vs "
                   f"torch: {diffs}")
    typer.echo(f"{out / 'export.json'} ({format_.value}, opset {manifest['opset']})")

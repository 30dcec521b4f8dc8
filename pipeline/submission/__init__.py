"""Packaging an NTO submission: ``metadata.json``, ``run.py``, config, weights and the code.

Layout of the folder (and of the zip, at its root)::

    metadata.json   {"image": "<docker image>", "entry_point": "python run.py"}
    run.py          python run.py TEST_IMAGES_PATH SAVE_PATH
    config.yaml     the pipeline config, weights pointing into weights/
    weights/        detector.pt, recognizer.pt, second_reader.pt when the config has one
                    (copied from the config's weights)
    src/            pipeline/, detection/, recognition/ (this project's code)

The docker image must provide the project's dependencies (torch, torchvision, ultralytics,
timm, opencv, shapely, rapidfuzz, pydantic, pyyaml, pillow, numpy).
"""

from __future__ import annotations

import json
import logging
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.paths import PROJECT_ROOT
from core.weights import required_weights
from pipeline.presets import PipelineConfig

log = logging.getLogger(__name__)

DEFAULT_DOCKER_IMAGE = "ocr-pipeline:latest"
PACKAGES = ("core", "pipeline", "detection", "recognition")
TEMPLATE = Path(__file__).with_name("run_template.py")


@dataclass(frozen=True)
class Submission:
    """Where a packaged submission was written and what it bundles."""

    folder: Path
    zip_path: Path | None
    weights: dict[str, str | None]


def package_submission(config: PipelineConfig, folder: Path,
                       docker_image: str = DEFAULT_DOCKER_IMAGE, make_zip: bool = False
                       ) -> Submission:
    """Write a self-contained submission folder (and optionally ``<folder>.zip``).

    Args:
        config: the pipeline config to bundle; its weights files are copied.
        folder: output folder (replaced if it exists).
        docker_image: the ``image`` field of ``metadata.json``.
        make_zip: also write ``<folder>.zip`` with the folder's contents at its root.

    Returns:
        The written paths; ``weights`` maps stage → bundled file, ``None`` for a stage the
        config asks to run untrained (``untrained: true``; logged).

    Raises:
        MissingWeightsError: a stage names no weights file, or a missing one, without
            ``untrained: true`` (the package would fail where it is graded).
    """
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "weights").mkdir(parents=True)
    weights: dict[str, str | None] = {}
    updates = {}
    stages = [("detector", config.detector), ("recognizer", config.recognizer)]
    if config.second_reader.enabled:
        stages.append(("second_reader", config.second_reader.recognizer))
    for stage, stage_cfg in stages:
        src = required_weights(stage_cfg.weights, stage_cfg.untrained, f"{stage}.weights")
        if src is None:
            log.warning("submission: the %s is UNTRAINED (untrained: true); so is the package",
                        stage)
            weights[stage] = None
            updates[stage] = stage_cfg
            continue
        rel = Path("weights") / f"{stage}{src.suffix or '.pt'}"
        shutil.copy2(src, folder / rel)
        weights[stage] = str(rel)
        updates[stage] = stage_cfg.model_copy(update={"weights": rel})
    if "second_reader" in updates:
        updates["second_reader"] = config.second_reader.model_copy(
            update={"recognizer": updates["second_reader"]})
    bundled = config.model_copy(update={**updates, "device": "auto"})
    data = bundled.model_dump(mode="json")
    (folder / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                        encoding="utf-8")
    (folder / "metadata.json").write_text(
        json.dumps({"image": docker_image, "entry_point": "python run.py"}, indent=1) + "\n",
        encoding="utf-8")
    shutil.copyfile(TEMPLATE, folder / "run.py")
    for package in PACKAGES:
        shutil.copytree(PROJECT_ROOT / package, folder / "src" / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    zip_path = _zip(folder) if make_zip else None
    return Submission(folder=folder, zip_path=zip_path, weights=weights)


def _zip(folder: Path) -> Path:
    zip_path = folder.with_suffix(".zip")
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    tmp.replace(zip_path)
    return zip_path

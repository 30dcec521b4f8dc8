"""What a packaged submission's ``run.py`` calls: predict a folder into one NTO JSON."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from core.logs import setup_logging
from pipeline.nto import predictions_from_pages
from pipeline.presets import PipelineConfig, load_pipeline_config

log = logging.getLogger(__name__)

USAGE = "usage: python run.py TEST_IMAGES_PATH SAVE_PATH"


def config_with_local_weights(config_path: Path) -> PipelineConfig:
    """Load a packaged config; relative weights paths are taken from the config's folder."""
    cfg = load_pipeline_config(config=config_path)
    base = config_path.resolve().parent
    def local(stage):
        if stage.weights is not None and not stage.weights.is_absolute():
            return stage.model_copy(update={"weights": base / stage.weights})
        return stage

    second = cfg.second_reader.model_copy(
        update={"recognizer": local(cfg.second_reader.recognizer)})
    return cfg.model_copy(update={"detector": local(cfg.detector),
                                  "recognizer": local(cfg.recognizer), "second_reader": second})


def predictions_path(save_path: Path) -> Path:
    """SAVE_PATH itself, or ``prediction.json`` inside it when it is a folder."""
    if save_path.is_dir() or str(save_path).endswith(("/", "\\")):
        return save_path / "prediction.json"
    return save_path


def main(argv: list[str], config_path: Path) -> int:
    """Run the pipeline on ``argv[0]`` (folder of images) and write ``argv[1]``.

    Returns:
        0 when the predictions file was written (failed images get empty predictions and
        are logged), 2 for bad arguments.
    """
    setup_logging("INFO")
    if len(argv) != 2:
        print(USAGE, file=sys.stderr)
        return 2
    from pipeline.images import find_images
    from pipeline.ocr import OcrPipeline
    from pipeline.results_file import write_json_atomic

    images_dir, save_path = Path(argv[0]), Path(argv[1])
    images, missing = find_images([images_dir])
    if missing:
        print(f"error: {images_dir} does not exist", file=sys.stderr)
        return 2
    ocr = OcrPipeline.from_config(config_with_local_weights(config_path))
    log.info("models: %s", ocr.models)
    pages = []
    for n, (page, _) in enumerate(ocr.iter_pages(images), 1):
        if page.error:
            log.warning("%s: %s", page.file, page.error)
        pages.append(page)
        if n % 10 == 0:
            log.info("%d / %d images", n, len(images))
    out = predictions_path(save_path)
    write_json_atomic(out, predictions_from_pages(pages))
    log.info("wrote %s (%d images)", out, len(pages))
    return 0

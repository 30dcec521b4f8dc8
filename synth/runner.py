"""Generate N samples with a renderer into a folder, in parallel, reproducibly.

Sample ``i`` is drawn from ``numpy.random.default_rng([seed, i])``, so the output does not
depend on the number of workers. Workers write the image files; the parent collects labels
in index order and writes ``labels.tsv`` (crops) or ``annotations.json`` (COCO NTO layout).
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from synth.base import Renderer
from synth.records import CropSample, PageSample

log = logging.getLogger(__name__)

RendererFactory = Callable[[], Renderer]
MAX_ATTEMPTS = 3
JPEG_QUALITY = 92

_worker_renderer: Renderer | None = None


@dataclass(frozen=True)
class GenerationSummary:
    """What a run produced: counts and where the labels went."""

    written: int
    failed: int
    labels_path: Path


def sample_rng(seed: int, index: int, attempt: int = 0) -> np.random.Generator:
    """The generator for sample ``index`` (independent of workers and order)."""
    return np.random.default_rng([seed, index, attempt])


def _init_worker(factory: RendererFactory) -> None:
    global _worker_renderer
    cv2.setNumThreads(1)
    _worker_renderer = factory()


def _write_image(path: Path, image: np.ndarray) -> None:
    bgr = np.ascontiguousarray(image[..., ::-1])
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if path.suffix == ".jpg" \
        else [cv2.IMWRITE_PNG_COMPRESSION, 1]
    if not cv2.imwrite(str(path), bgr, params):
        raise OSError(f"could not write {path}")


def _render_one(args: tuple[int, int, str]) -> dict[str, Any] | None:
    index, seed, images_dir = args
    renderer = _worker_renderer
    assert renderer is not None
    for attempt in range(MAX_ATTEMPTS):
        try:
            sample = renderer.render(sample_rng(seed, index, attempt))
            break
        except Exception as exc:  # one bad sample must not kill a run
            log.warning("sample %d attempt %d failed: %s", index, attempt, exc)
    else:
        return None
    ext = ".png" if isinstance(sample, CropSample) else ".jpg"
    name = f"{index + 1:06d}{ext}"
    _write_image(Path(images_dir) / name, sample.image)
    h, w = sample.image.shape[:2]
    if isinstance(sample, CropSample):
        return {"file": f"images/{name}", "text": sample.text, "region": sample.region}
    return {"file": name, "width": w, "height": h, "annotations": _export(sample)}


def _export(sample: PageSample) -> list[dict[str, Any]]:
    out = []
    for a in sample.annotations:
        out.append({"category": a.category, "text": a.text, "attributes": a.attributes,
                    "polygon": [[round(float(x), 1), round(float(y), 1)] for x, y in a.polygon]})
    return out


def _results(factory: RendererFactory, tasks: list[tuple[int, int, str]],
             workers: int) -> Iterator[dict[str, Any] | None]:
    if workers <= 1:
        _init_worker(factory)
        yield from map(_render_one, tasks)
        return
    ctx = mp.get_context("fork" if os.name == "posix" else "spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(factory,)) as pool:
        yield from pool.imap(_render_one, tasks, chunksize=4)


def generate(factory: RendererFactory, out: Path, n: int, seed: int = 0, workers: int = 1,
             progress: bool = True, start: int = 0) -> GenerationSummary:
    """Render ``n`` samples into ``out``.

    Args:
        factory: builds the renderer (called once per worker process).
        out: output folder (created); images go to ``out/images``.
        n: number of samples.
        seed: base seed.
        workers: processes (1 = in this process).
        progress: show a tqdm bar.
        start: index of the first sample (to extend a data set without repeating samples).

    Returns:
        Counts and the path of ``labels.tsv`` or ``annotations.json``.
    """
    out = Path(out)
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    probe = factory()
    tasks = [(i, seed, str(images)) for i in range(start, start + n)]
    results = _results(factory, tasks, workers)
    bar = tqdm(results, total=n, disable=not progress, desc=f"synth {type(probe).__name__}",
               unit="img")
    records = [r for r in bar]
    failed = sum(r is None for r in records)
    done = [r for r in records if r is not None]
    if probe.output == "crops":
        path = out / "labels.tsv"
        with open(path, "w", encoding="utf-8") as f:
            for r in done:
                cols = [r["file"], r["text"]] + ([r["region"]] if r["region"] else [])
                f.write("\t".join(cols) + "\n")
    else:
        path = out / "annotations.json"
        write_coco(path, done, probe.categories)
    if failed:
        log.warning("%d of %d samples failed and were skipped", failed, n)
    return GenerationSummary(written=len(done), failed=failed, labels_path=path)


def write_coco(path: Path, records: list[dict[str, Any]], categories: tuple[str, ...]) -> None:
    """Write page records as COCO JSON in the NTO layout."""
    cat_ids = {name: i + 1 for i, name in enumerate(categories)}
    images, annotations = [], []
    for image_id, r in enumerate(records, start=1):
        images.append({"id": image_id, "file_name": r["file"], "width": r["width"],
                       "height": r["height"]})
        for a in r["annotations"]:
            annotations.append(coco_annotation(len(annotations) + 1, image_id,
                                               cat_ids[a["category"]], a["polygon"],
                                               a["text"], a["attributes"]))
    data = {"images": images, "annotations": annotations,
            "categories": [{"id": i, "name": n} for n, i in cat_ids.items()]}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def coco_annotation(ann_id: int, image_id: int, category_id: int, polygon: list[list[float]],
                    text: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """One COCO annotation dict with bbox, flat segmentation, shoelace area and attributes."""
    pts = np.asarray(polygon, np.float64)
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    xs, ys = pts[:, 0], pts[:, 1]
    area = 0.5 * abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))))
    return {"id": ann_id, "image_id": image_id, "category_id": category_id,
            "bbox": [round(float(x0), 1), round(float(y0), 1), round(float(x1 - x0), 1),
                     round(float(y1 - y0), 1)],
            "segmentation": [[round(float(v), 1) for v in pts.reshape(-1)]],
            "area": round(area, 1), "iscrowd": 0,
            "attributes": {"translation": text, **attributes}}

"""The sample images shipped in ``data/samples``, regenerated deterministically.

``documents/``: one notebook page, one printed page (photo or grey scan) and one 1-bit
scan (PNG, lossless: a JPEG would blur its two levels); ``plates/``: two car scenes. Each
folder gets an ``annotations.json`` (COCO NTO layout) with the ground truth.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from synth.base import Renderer
from synth.pages import DocumentRenderer, NotebookRenderer
from synth.records import PageSample
from synth.runner import _export, sample_rng, write_coco
from synth.scenes import PlateSceneRenderer

DOCUMENT_MAX_BYTES = 400_000
PLATE_MAX_BYTES = 300_000


def _encode(image: np.ndarray, max_bytes: int) -> bytes:
    """JPEG bytes at the highest quality (from 92 down) that fits ``max_bytes``."""
    bgr = np.ascontiguousarray(image[..., ::-1])
    for quality in range(92, 30, -4):
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(buf) <= max_bytes:
            return buf.tobytes()
    raise ValueError(f"cannot encode a {image.shape} image under {max_bytes} bytes")


def _pick(renderer: Renderer, seed: int, index: int, want: int) -> PageSample:
    """The first sample from ``index`` on with at least ``want`` annotations."""
    for k in range(index, index + 50):
        sample = renderer.render(sample_rng(seed, k))
        assert isinstance(sample, PageSample)
        if len(sample.annotations) >= want:
            return sample
    return sample


def _write(folder: Path, named: list[tuple[str, PageSample]], categories: tuple[str, ...],
           max_bytes: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    records, paths = [], []
    for name, sample in named:
        path = folder / name
        if path.suffix == ".png":
            ok, buf = cv2.imencode(".png", np.ascontiguousarray(sample.image[..., ::-1]))
            if not ok or len(buf) > max_bytes:
                raise ValueError(f"cannot encode {name} as PNG under {max_bytes} bytes")
            path.write_bytes(buf.tobytes())
        else:
            path.write_bytes(_encode(sample.image, max_bytes))
        h, w = sample.image.shape[:2]
        records.append({"file": name, "width": w, "height": h, "annotations": _export(sample)})
        paths.append(path)
    write_coco(folder / "annotations.json", records, categories)
    return paths


def write_samples(out: Path, seed: int = 0, long_side: int = 1600) -> list[Path]:
    """Write the sample images and their ground truth under ``out``.

    Args:
        out: root folder (``data/samples`` for the shipped ones).
        seed: base seed.
        long_side: long side of every image in pixels.

    Returns:
        The image paths written.
    """
    out = Path(out)
    notebook = _pick(NotebookRenderer(long_side=long_side), seed, 0, want=20)
    printed = _pick(DocumentRenderer(long_side=long_side), seed, 100, want=60)
    scan = _pick(DocumentRenderer(long_side=long_side, bilevel_prob=1.0), seed, 400, want=60)
    paths = _write(out / "documents", [("notebook.jpg", notebook), ("printed.jpg", printed),
                                       ("scan.png", scan)],
                   NotebookRenderer.categories, DOCUMENT_MAX_BYTES)
    scenes = PlateSceneRenderer(long_side=long_side)
    cars = [_pick(scenes, seed, 200, want=1), _pick(scenes, seed, 300, want=2)]
    paths += _write(out / "plates", [("car_1.jpg", cars[0]), ("car_2.jpg", cars[1])],
                    PlateSceneRenderer.categories, PLATE_MAX_BYTES)
    return paths

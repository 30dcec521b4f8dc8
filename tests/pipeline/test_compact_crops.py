"""scripts/compact_crops.py: a crops folder rewritten small, still read by the dataset reader."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

from recognition.datasets import load_sample, read_dataset

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compact_crops.py"


def _module():
    spec = importlib.util.spec_from_file_location("compact_crops", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _crops(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for i, text in enumerate(["тест line", "word"]):
        img = np.full((80, 300, 3), 255, np.uint8)
        img[30:50, 20:280:7] = 0  # "ink"
        img = np.clip(img.astype(int) - rng.integers(0, 30, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / "images" / f"{i:03d}.png")
        rows.append(f"images/{i:03d}.png\t{text}")
    (root / "labels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def test_gray_mode_scales_to_height_and_keeps_labels(tmp_path):
    src = _crops(tmp_path / "src")
    n = _module().compact(src, tmp_path / "dst", "gray", 40, 85, False)
    samples = read_dataset(tmp_path / "dst")
    assert n == 2 and [s.text for s in samples] == ["тест line", "word"]
    assert all(s.path.suffix == ".webp" for s in samples)
    image = load_sample(samples[0])
    assert image.shape[:2] == (40, 150)  # 300x80 scaled to 40 rows, aspect kept


def test_bilevel_mode_writes_two_valued_images_at_stored_size(tmp_path):
    src = _crops(tmp_path / "src")
    _module().compact(src, tmp_path / "dst", "bilevel", 40, 85, False)
    samples = read_dataset(tmp_path / "dst")
    image = load_sample(samples[1])
    assert image.shape[:2] == (80, 300)
    assert set(np.unique(image)) == {0, 255}
    with Image.open(samples[1].path) as im:
        assert im.mode == "1"

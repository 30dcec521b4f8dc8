import json
import logging

import numpy as np
import pytest
from PIL import Image

from core.ccpd import parse_ccpd_name
from recognition.datasets import load_sample, read_dataset
from recognition.preprocess import PreprocessConfig
from recognition.training_data import CropDataset, collate, split_by_length
from tests.recognition.helpers import TINY_CHARSET, render_word, write_crops_dataset

CCPD_NAME = "025-95_113-154&383_386&473-386&473_177&454_154&383_363&402-0_0_22_27_27_33_16-37-15"


def test_ccpd_name_decoding():
    plate = parse_ccpd_name(CCPD_NAME + ".jpg")
    assert plate.text == "皖AY339S"
    assert plate.bbox == (154, 383, 386, 473)
    assert plate.vertices[0] == (386, 473)
    assert (plate.brightness, plate.blur) == (37, 15)
    with pytest.raises(ValueError, match="not-a-plate"):
        parse_ccpd_name("not-a-plate.jpg")


def test_ccpd_folder_is_read_and_cropped_by_bbox(tmp_path):
    img = np.zeros((600, 500, 3), np.uint8)
    img[383:473, 154:386] = 200
    Image.fromarray(img).save(tmp_path / f"{CCPD_NAME}.jpg", quality=100)
    samples = read_dataset(tmp_path)
    assert [s.text for s in samples] == ["皖AY339S"]
    crop = load_sample(samples[0])
    assert crop.shape == (90, 232, 3)
    assert abs(float(crop.mean()) - 200) < 3


def test_plate_course_meta_file_with_regions(tmp_path):
    (tmp_path / "annotations" / "train").mkdir(parents=True)
    (tmp_path / "ru" / "train").mkdir(parents=True)
    Image.fromarray(render_word("A123BC77")).save(tmp_path / "ru" / "train" / "1.jpg")
    Image.fromarray(render_word("A12")).save(tmp_path / "ru" / "train" / "2.jpg")
    (tmp_path / "annotations" / "train" / "meta_ru_ref").write_text(
        "1.jpg\tA123BC77\n2.jpg\tA12\n", encoding="utf-8")
    samples = read_dataset(tmp_path, phase="train")
    assert [(s.text, s.region, s.path.name) for s in samples] == [
        ("A123BC77", "ru", "1.jpg"), ("A12", "ru", "2.jpg")]
    assert load_sample(samples[0]).ndim == 3


def test_coco_words_cropped_by_polygon(tmp_path):
    (tmp_path / "images").mkdir()
    page = np.full((100, 200, 3), 90, np.uint8)
    Image.fromarray(page).save(tmp_path / "images" / "p.png")
    ann = {"images": [{"id": 1, "file_name": "p.png", "width": 200, "height": 100}],
           "annotations": [
               {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 20],
                "segmentation": [[10, 10, 60, 10, 60, 30, 10, 30]],
                "attributes": {"translation": "Привет"}},
               {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 40, 40, 40],
                "segmentation": [[120, 40, 140, 60, 120, 80, 100, 60]],
                "attributes": {"translation": "да"}},
               {"id": 3, "image_id": 1, "category_id": 2, "bbox": [0, 0, 200, 40],
                "segmentation": [[0, 0, 200, 0, 200, 40, 0, 40]],
                "attributes": {"translation": "line"}}],
           "categories": [{"id": 1, "name": "word"}, {"id": 2, "name": "line"}]}
    (tmp_path / "annotations.json").write_text(json.dumps(ann), encoding="utf-8")
    samples = read_dataset(tmp_path)
    assert [s.text for s in samples] == ["Привет", "да"]
    diamond = load_sample(samples[1])
    assert diamond.shape[:2] == (40, 40)
    assert (diamond[0, 0] == 255).all() and (diamond[20, 20] == 90).all()


def test_manifest_layout(tmp_path):
    (tmp_path / "images").mkdir()
    Image.fromarray(render_word("AB1")).save(tmp_path / "images" / "a.png")
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"images": {"images/a.png": {"text": "AB1", "state": "ca"}}}), encoding="utf-8")
    samples = read_dataset(tmp_path, region_field="state")
    assert [(s.text, s.region) for s in samples] == [("AB1", "ca")]


def test_bad_labels_are_reported_with_file_and_skipped(tmp_path, caplog):
    write_crops_dataset(tmp_path, ["AB12", "OK7", "BAD€", ""])
    (tmp_path / "images" / "junk.png").write_bytes(b"this is not an image")
    with (tmp_path / "labels.tsv").open("a", encoding="utf-8") as f:
        f.write("images/junk.png\tABC\nimages/missing.png\tABC\n")
    with caplog.at_level(logging.WARNING):
        samples = read_dataset(tmp_path, charset=TINY_CHARSET)
    names = [s.path.name for s in samples]
    assert names == ["00000.png", "00001.png", "junk.png"]
    log = caplog.text
    assert "00002.png" in log and "unknown characters" in log and "€" in log
    assert "00003.png" in log and "empty text" in log
    assert "missing.png" in log and "not found" in log

    caplog.clear()
    dataset = CropDataset(samples, PreprocessConfig(32, 128))
    with caplog.at_level(logging.WARNING):
        items = [dataset[i] for i in range(len(dataset))]
    assert items[2] is None
    assert "junk.png" in caplog.text and "unreadable" in caplog.text
    batch = collate(items)
    assert batch["texts"] == ["AB12", "OK7"] and batch["images"].shape[0] == 2


def test_validation_split_is_stratified_by_length(tmp_path):
    from recognition.datasets import TextSample

    samples = [TextSample(tmp_path / f"{i}.png", "A" * (1 + i % 4)) for i in range(40)]
    train, val = split_by_length(samples, 0.25, 100, seed=0)
    assert len(val) == 10 and len(train) == 30
    lengths = sorted(len(s.text) for s in val)
    assert {1, 2, 3, 4} <= set(lengths)
    assert not {s.path for s in val} & {s.path for s in train}

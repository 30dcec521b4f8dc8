"""``pipeline convert``: COCO <-> YOLO round trip and real layouts → crops folder."""

import json
from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.convert import convert_app
from recognition.datasets import read_dataset

runner = CliRunner()

# Province 0 = 皖, letter 0 = A, then ADS indices: 22 = Y, 27 = 3, 33 = 9, 16 = S.
CCPD_NAME = "025-95_113-40&30_160&90-160&90_40&88_42&30_158&32-0_0_22_27_27_33_16-37-15.jpg"
CCPD_TEXT = "皖AY339S"


def _image(path: Path, size=(200, 120), box=None, color=(200, 30, 30)) -> None:
    arr = np.full((size[1], size[0], 3), 240, np.uint8)
    if box is not None:
        x1, y1, x2, y2 = box
        arr[y1:y2, x1:x2] = color
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def _labels(folder: Path) -> list[list[str]]:
    lines = (folder / "labels.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines]


def _coco(root: Path) -> Path:
    """Two pages: words with quad polygons and translations, plus one line."""
    images, anns = [], []
    pages = {
        "a.jpg": [("word", [10, 20, 60, 20, 60, 40, 10, 40], "привет"),
                  ("word", [70, 22, 120, 22, 120, 44, 70, 44], "world"),
                  ("line", [8, 18, 122, 18, 122, 46, 8, 46], "привет world")],
        "b.jpg": [("word", [30.5, 50.25, 90.75, 50.25, 90.75, 70.5, 30.5, 70.5], "Hi")],
    }
    cat_ids = {"word": 1, "line": 2}
    for image_id, (name, words) in enumerate(pages.items(), 1):
        _image(root / "images" / name, size=(160, 100))
        images.append({"id": image_id, "file_name": name, "width": 160, "height": 100})
        for cat, poly, text in words:
            xs, ys = poly[0::2], poly[1::2]
            bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            anns.append({"id": len(anns) + 1, "image_id": image_id,
                         "category_id": cat_ids[cat], "bbox": bbox, "segmentation": [poly],
                         "area": bbox[2] * bbox[3], "iscrowd": 0,
                         "attributes": {"translation": text}})
    path = root / "annotations.json"
    path.write_text(json.dumps({
        "images": images, "annotations": anns,
        "categories": [{"id": 1, "name": "word"}, {"id": 2, "name": "line"}]},
        ensure_ascii=False), encoding="utf-8")
    return path


def test_coco_to_yolo_to_coco_round_trip(tmp_path):
    ann = _coco(tmp_path / "pages")
    out = tmp_path / "yolo"
    result = runner.invoke(convert_app, ["coco-to-yolo", str(ann), "--out", str(out),
                                         "--classes", "word,line", "--val-fraction", "0"])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == {0: "word", 1: "line"}
    labels = sorted((out / "labels" / "train").glob("*.txt"))
    assert len(labels) == 2
    first = labels[0].read_text().split("\n")
    assert [line.split()[0] for line in first if line] == ["0", "0", "1"]
    assert len(list((out / "images" / "val").iterdir())) == 2  # val = train when fraction 0

    back = tmp_path / "back.json"
    result = runner.invoke(convert_app, [
        "yolo-to-coco", str(out / "images" / "train"), str(out / "labels" / "train"),
        "--classes", "word,line", "--out", str(back)])
    assert result.exit_code == 0, result.output
    original = json.loads(ann.read_text(encoding="utf-8"))
    converted = json.loads(back.read_text(encoding="utf-8"))
    assert [im["file_name"].split("_", 1)[1] for im in converted["images"]] == ["a.jpg", "b.jpg"]
    assert len(converted["annotations"]) == len(original["annotations"])
    for a, b in zip(original["annotations"], converted["annotations"], strict=True):
        assert a["image_id"] == b["image_id"] and a["category_id"] == b["category_id"]
        assert np.allclose(a["bbox"], b["bbox"], atol=1.0), (a["bbox"], b["bbox"])


def test_coco_to_yolo_copy_and_default_classes(tmp_path):
    ann = _coco(tmp_path / "pages")
    out = tmp_path / "yolo"
    result = runner.invoke(convert_app, ["coco-to-yolo", str(ann), "--out", str(out),
                                         "--val-fraction", "0.5", "--copy"])
    assert result.exit_code == 0, result.output
    train = list((out / "images" / "train").iterdir())
    val = list((out / "images" / "val").iterdir())
    assert len(train) == len(val) == 1
    assert not any(p.is_symlink() for p in train + val)
    assert yaml.safe_load((out / "data.yaml").read_text())["names"] == {0: "word", 1: "line"}


def test_yolo_to_coco_names_the_bad_label_file(tmp_path):
    _image(tmp_path / "images" / "x.png")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "x.txt").write_text("0 0.5 0.5 0.2\n")
    result = runner.invoke(convert_app, [
        "yolo-to-coco", str(tmp_path / "images"), str(tmp_path / "labels"),
        "--classes", "plate", "--out", str(tmp_path / "a.json")])
    assert result.exit_code == 1
    assert "x.txt" in result.output


def test_ccpd_crops_by_bbox_and_bad_samples_skipped_by_name(tmp_path):
    src = tmp_path / "ccpd"
    _image(src / CCPD_NAME, box=(40, 30, 160, 90))
    _image(src / "not-a-ccpd-name.jpg")
    broken = "025-95_113-10&10_50&40-50&40_10&40_10&10_50&10-1_2_3_4_5_6_7-37-15.jpg"
    (src / broken).write_bytes(b"not an image")
    out = tmp_path / "crops"
    result = runner.invoke(convert_app, ["crops", str(src), "--out", str(out),
                                         "--kind", "ccpd"])
    assert result.exit_code == 0, result.output
    assert "not-a-ccpd-name.jpg" in result.output
    assert broken in result.output
    rows = _labels(out)
    assert rows == [["images/000001.png", CCPD_TEXT]]
    crop = np.asarray(Image.open(out / rows[0][0]))
    assert crop.shape == (60, 120, 3)
    # JPEG: the crop is the plate's colour, give or take compression noise.
    assert np.abs(crop.reshape(-1, 3).mean(0) - (200, 30, 30)).max() < 15
    # The folder reads back as a crops dataset.
    assert [s.text for s in read_dataset(out)] == [CCPD_TEXT]


def test_plate_course_meta_to_labels_tsv_with_region(tmp_path):
    root = tmp_path / "plates"
    _image(root / "ru" / "train" / "001.jpg", size=(100, 30))
    _image(root / "ru" / "train" / "002.jpg", size=(90, 25))
    meta = root / "annotations" / "train" / "meta_ru_ref"
    meta.parent.mkdir(parents=True)
    meta.write_text("001.jpg\tA123BC77\n002.jpg\tM001MM199\nmissing.jpg\tK777KK77\n",
                    encoding="utf-8")
    out = tmp_path / "crops"
    result = runner.invoke(convert_app, ["crops", str(root), "--out", str(out),
                                         "--phase", "train"])
    assert result.exit_code == 0, result.output
    assert "missing.jpg" in result.output
    rows = _labels(out)
    assert [r[1:] for r in rows] == [["A123BC77", "ru"], ["M001MM199", "ru"]]
    assert Image.open(out / rows[1][0]).size == (90, 25)
    assert {s.region for s in read_dataset(out)} == {"ru"}
    # A second run refuses to overwrite without --overwrite.
    again = runner.invoke(convert_app, ["crops", str(root), "--out", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_coco_words_cropped_by_polygon(tmp_path):
    ann = _coco(tmp_path / "pages")
    out = tmp_path / "crops"
    result = runner.invoke(app, ["convert", "crops", str(ann.parent), "--out", str(out),
                                 "--kind", "coco"])
    assert result.exit_code == 0, result.output
    rows = _labels(out)
    assert [r[1] for r in rows] == ["привет", "world", "Hi"]  # the line category is left out
    assert Image.open(out / rows[0][0]).size == (50, 20)


def test_coco_objects_cut_by_their_box_grown_as_the_pipeline_grows_a_detector_box(tmp_path):
    ann = _coco(tmp_path / "pages")
    out = tmp_path / "crops"
    result = runner.invoke(app, ["convert", "crops", str(ann.parent), "--out", str(out),
                                 "--kind", "coco", "--box-pad", "0.1"])
    assert result.exit_code == 0, result.output
    rows = _labels(out)
    assert [r[1] for r in rows] == ["привет", "world", "Hi"]
    # the 50x20 box at (10, 20) grown by 10 % a side: x 5..65, y 18..42
    assert Image.open(out / rows[0][0]).size == (60, 24)

    def sizes(seed):
        dst = tmp_path / f"jitter{seed}"
        done = runner.invoke(app, ["convert", "crops", str(ann.parent), "--out", str(dst),
                                   "--kind", "coco", "--box-pad", "0.1", "--box-jitter", "0.2",
                                   "--seed", str(seed), "--overwrite"])
        assert done.exit_code == 0, done.output
        return [Image.open(dst / r[0]).size for r in _labels(dst)]

    small = tmp_path / "tall"
    done = runner.invoke(app, ["convert", "crops", str(ann.parent), "--out", str(small),
                               "--kind", "coco", "--box-pad", "0.1", "--min-height", "21"])
    assert done.exit_code == 0, done.output
    assert [r[1] for r in _labels(small)] == ["world"]  # 22 px high; the others 20 and 20.25
    assert sizes(1) == sizes(1) != sizes(2)  # seeded box errors
    assert all(40 <= w <= 80 and 14 <= h <= 34 for w, h in sizes(1)[:2])


def _line_crops(root: Path) -> Path:
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


def test_crops_as_gray_webp_scaled_to_a_height_keep_their_labels(tmp_path):
    from recognition.datasets import load_sample

    src, out = _line_crops(tmp_path / "src"), tmp_path / "dst"
    result = runner.invoke(convert_app, ["crops", str(src), "--out", str(out),
                                         "--format", "webp", "--height", "40"])
    assert result.exit_code == 0, result.output
    samples = read_dataset(out)
    assert [s.text for s in samples] == ["тест line", "word"]
    assert all(s.path.suffix == ".webp" for s in samples)
    assert load_sample(samples[0]).shape[:2] == (40, 150)  # 300x80 scaled to 40 rows


def test_crops_as_bilevel_png_are_two_valued_at_their_size(tmp_path):
    from recognition.datasets import load_sample

    src, out = _line_crops(tmp_path / "src"), tmp_path / "dst"
    result = runner.invoke(convert_app, ["crops", str(src), "--out", str(out),
                                         "--format", "bilevel"])
    assert result.exit_code == 0, result.output
    samples = read_dataset(out)
    image = load_sample(samples[1])
    assert image.shape[:2] == (80, 300)
    assert set(np.unique(image)) == {0, 255}
    with Image.open(samples[1].path) as im:
        assert im.mode == "1"

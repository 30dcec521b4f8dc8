import numpy as np
import yaml

from detection.coco import CocoImage, CocoObject, load_coco
from detection.config import DetectorTrainConfig
from detection.split import image_key, stratified_split
from detection.train_yolo import prepare_yolo_dataset
from detection.yolo_dataset import coco_to_yolo_labels, yolo_dir_to_coco, yolo_labels_to_coco
from tests.detection.synthetic import YOLO_TINY, make_coco_pages, train_config


def test_coco_yolo_round_trip_keeps_boxes():
    objects = [CocoObject("word", (10.0, 20.0, 30.0, 8.0), None),
               CocoObject("line", (5.0, 15.0, 100.0, 20.0), None),
               CocoObject("word", (150.0, 90.0, 12.5, 9.25), None)]
    image = CocoImage(1, "a.jpg", 200, 100, objects)
    lines = coco_to_yolo_labels(image, ["word", "line"])
    back = yolo_labels_to_coco(lines, 200, 100, ["word", "line"])
    assert [o.label for o in back] == ["word", "line", "word"]
    for a, b in zip(objects, back, strict=True):
        np.testing.assert_allclose(a.bbox, b.bbox, atol=1e-3)


def test_boxes_outside_image_are_clipped_and_unknown_classes_dropped():
    image = CocoImage(1, "a.jpg", 100, 50, [CocoObject("word", (-10.0, 40.0, 30.0, 20.0), None),
                                            CocoObject("stamp", (1.0, 1.0, 5.0, 5.0), None)])
    (line,) = coco_to_yolo_labels(image, ["word"])
    x, y, w, h = yolo_labels_to_coco([line], 100, 50, ["word"])[0].bbox
    assert (x, y, w, h) == (0.0, 40.0, 20.0, 10.0)


def test_stratified_split_keeps_each_orientation(tmp_path):
    images = load_coco(make_coco_pages(tmp_path, n=8))
    train, val = stratified_split(images, 0.25, ["orientation"], seed=1)
    assert len(train) + len(val) == 8
    assert sorted(image_key(im, "orientation") for im in val) == ["landscape", "portrait"]
    assert image_key(images[1], "language") == "ru" and image_key(images[0], "language") == "en"


def test_prepared_dataset_round_trips_source_boxes(tmp_path):
    src = tmp_path / "src"
    make_coco_pages(src, n=6)
    before = sorted(p.name for p in src.rglob("*"))
    cfg = DetectorTrainConfig.model_validate(
        train_config(src, {**YOLO_TINY, "classes": ["word", "line"]}, tmp_path / "run"))
    data_yaml = prepare_yolo_dataset(cfg, tmp_path / "run")
    assert sorted(p.name for p in src.rglob("*")) == before  # source untouched
    spec = yaml.safe_load(data_yaml.read_text())
    assert spec["names"] == {0: "word", 1: "line"}
    ds = data_yaml.parent
    coco = {}
    for split in ("train", "val"):
        back = yolo_dir_to_coco(ds / "images" / split, ds / "labels" / split, ["word", "line"])
        for img in back["images"]:
            source_id = int(img["file_name"].split("_")[0])
            coco[source_id] = sorted(
                (a["category_id"], *np.round(a["bbox"], 2)) for a in back["annotations"]
                if a["image_id"] == img["id"])
    original = load_coco(src / "annotations.json")
    assert sorted(coco) == [im.id for im in original]
    for im in original:
        expected = sorted((1 if o.label == "word" else 2, *np.round(o.bbox, 2))
                          for o in im.objects)
        np.testing.assert_allclose(np.array(coco[im.id]), np.array(expected), atol=0.02)


def test_several_train_sources_are_merged(tmp_path):
    from detection.data_split import load_splits

    make_coco_pages(tmp_path / "a", n=4)
    make_coco_pages(tmp_path / "b", n=3)
    data = train_config(tmp_path / "a", YOLO_TINY, tmp_path / "run")
    data["data"]["train"] = [{"annotations": str(tmp_path / d / "annotations.json")}
                             for d in ("a", "b")]
    data["data"]["val_fraction"] = 0.0
    cfg = DetectorTrainConfig.model_validate(data)
    train, _ = load_splits(cfg)
    assert len(train.images) == 7
    assert len({im.id for im in train.images}) == 7
    for image in train.images:
        path = train.images_dir / image.file_name
        assert path.is_absolute() and path.is_file()


def test_rename_reads_a_category_as_another(tmp_path):
    from detection.data_split import load_splits

    make_coco_pages(tmp_path / "a", n=4)
    make_coco_pages(tmp_path / "v", n=2)
    data = train_config(tmp_path / "a", YOLO_TINY, tmp_path / "run")
    data["data"]["train"] = {"annotations": str(tmp_path / "a" / "annotations.json"),
                             "rename": {"line": "word"}}
    data["data"]["val"] = {"annotations": str(tmp_path / "v" / "annotations.json"),
                           "rename": {"word": "text"}}
    train, val = load_splits(DetectorTrainConfig.model_validate(data))
    before = load_coco(tmp_path / "a" / "annotations.json")
    assert {o.label for im in before for o in im.objects} == {"word", "line"}
    assert {o.label for im in train.images for o in im.objects} == {"word"}
    assert sum(len(im.objects) for im in train.images) == sum(len(im.objects) for im in before)
    assert {o.label for im in val.images for o in im.objects} == {"text", "line"}

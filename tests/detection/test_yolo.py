import logging

import numpy as np
import pytest
import torch
from PIL import Image
from pydantic import ValidationError
from typer.testing import CliRunner

from core.errors import MissingWeightsError, UnsafeWeightsError, UsageError
from core.geometry import is_valid_polygon
from detection.config import DetectorConfig, DetectorTrainConfig
from detection.factory import build_detector
from detection.train import train_detector
from detection.yolo import build_yolo_model, load_yolo_weights, save_yolo_checkpoint
from tests.detection.synthetic import MASKRCNN_TINY, YOLO_TINY, make_coco_pages, train_config


def assert_regions_valid(regions, width, height):
    for r in regions:
        assert is_valid_polygon(r.polygon)
        assert r.polygon[:, 0].min() >= 0 and r.polygon[:, 0].max() <= width
        assert r.polygon[:, 1].min() >= 0 and r.polygon[:, 1].max() <= height
        x1, y1, x2, y2 = r.bbox
        assert x1 < x2 and y1 < y2 and 0 <= r.score <= 1


def test_untrained_build_warns_and_predicts_in_image_coordinates(caplog):
    cfg = DetectorConfig(**{**YOLO_TINY, "conf": 0.0, "max_det": 7, "batch_size": 2},
                         untrained=True)
    with caplog.at_level(logging.WARNING):
        det = build_detector(cfg, device="cpu")
    assert "UNTRAINED" in det.description and "UNTRAINED" in caplog.text
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
              for h, w in ((50, 120), (130, 40), (64, 64))]
    batched = det.predict(images)
    assert all(0 < len(r) <= 7 for r in batched)  # boxes wholly in the padding are dropped
    for image, regions in zip(images, batched, strict=True):
        assert_regions_valid(regions, image.shape[1], image.shape[0])
        assert regions[0].label == "word"
    single = [det.predict([im])[0] for im in images]
    for a, b in zip(batched, single, strict=True):
        np.testing.assert_allclose([r.bbox for r in a], [r.bbox for r in b], atol=1e-3)


@pytest.mark.parametrize("backend", ["yolo", "maskrcnn"])
def test_missing_weights_file_is_an_error_naming_field_and_file(tmp_path, backend):
    cfg = DetectorConfig(**YOLO_TINY) if backend == "yolo" else DetectorConfig(**MASKRCNN_TINY)
    with pytest.raises(MissingWeightsError) as err:
        build_detector(cfg.model_copy(update={"weights": tmp_path / "none.pt"}), "cpu")
    assert isinstance(err.value, UsageError) and isinstance(err.value, FileNotFoundError)
    assert "detector.weights" in str(err.value) and str(tmp_path / "none.pt") in str(err.value)
    assert "detector.untrained" in str(err.value)  # says how to ask for a random model


def test_no_weights_named_is_an_error_unless_untrained_is_asked_for():
    with pytest.raises(MissingWeightsError, match="detector.weights is not set"):
        build_detector(DetectorConfig(**YOLO_TINY), "cpu")
    det = build_detector(DetectorConfig(**YOLO_TINY, untrained=True), "cpu")
    assert "UNTRAINED" in det.description


def test_untrained_with_weights_is_a_config_error(tmp_path):
    with pytest.raises(ValidationError, match="untrained: true builds a random model"):
        DetectorConfig(**YOLO_TINY, untrained=True, weights=tmp_path / "w.pt")


def _ultralytics_pickle(path):
    # What ultralytics writes (best.pt, yolov8n.pt): the pickled model object itself.
    model = build_yolo_model("yolov8n.yaml", 2)
    model.names = {0: "word", 1: "line"}
    torch.save({"ema": None, "model": model.half(), "train_args": {"imgsz": 64}}, path)
    return model.float()


def test_ultralytics_pickle_is_never_unpickled_on_load(tmp_path, monkeypatch):
    path = tmp_path / "best.pt"
    _ultralytics_pickle(path)
    real_load, calls = torch.load, []

    def recording_load(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", recording_load)
    with pytest.raises(UnsafeWeightsError) as err:
        build_detector(DetectorConfig(**YOLO_TINY, weights=path), "cpu")
    assert isinstance(err.value, UsageError)
    assert str(path) in str(err.value)
    assert "pipeline convert detector-weights" in str(err.value)
    assert calls == [True]  # one safe attempt, no unpickling retry


def test_convert_detector_weights_gives_a_safe_file_with_the_same_output(tmp_path):
    from pipeline.cli import app

    src, out = tmp_path / "best.pt", tmp_path / "converted.pt"
    _ultralytics_pickle(src)
    result = CliRunner().invoke(app, ["convert", "detector-weights", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    payload = torch.load(out, weights_only=True)
    assert payload["classes"] == ["word", "line"] and payload["extra"]["imgsz"] == 64
    cfg = DetectorConfig(**{**YOLO_TINY, "classes": ["word", "line"], "conf": 0.0,
                            "max_det": 5}, weights=out)
    det = build_detector(cfg, "cpu")
    assert "UNTRAINED" not in det.description
    from detection.yolo import load_ultralytics_checkpoint_trusted

    original, classes, _ = load_ultralytics_checkpoint_trusted(src)
    x = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        np.testing.assert_allclose(det.model(x)[0].numpy(), original(x)[0].numpy(), atol=1e-4)
    # a second run refuses to overwrite, and a file already ours is not "converted" again
    again = CliRunner().invoke(app, ["convert", "detector-weights", str(src), "--out", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    ours = CliRunner().invoke(app, ["convert", "detector-weights", str(out), "--out",
                                    str(tmp_path / "x.pt")])
    assert ours.exit_code == 2 and "nothing to convert" in ours.output


def test_convert_help_warns_that_it_runs_pickled_code():
    from pipeline.cli import app

    result = CliRunner().invoke(app, ["convert", "detector-weights", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "EXECUTES CODE" in text and "files you trust" in text


def test_checkpoint_round_trip_gives_same_output(tmp_path):
    cfg = DetectorConfig(**{**YOLO_TINY, "conf": 0.0, "max_det": 5}, untrained=True)
    det = build_detector(cfg, "cpu")
    path = save_yolo_checkpoint(det.model, ["word"], tmp_path / "w.pt")
    model, classes = load_yolo_weights(path)
    assert classes == ["word"]
    image = np.full((70, 90, 3), 200, np.uint8)
    again = build_detector(cfg.model_copy(update={"weights": path, "untrained": False}), "cpu")
    assert "UNTRAINED" not in again.description
    a, b = det.predict([image])[0], again.predict([image])[0]
    np.testing.assert_allclose([r.bbox for r in a], [r.bbox for r in b], atol=1e-4)


@pytest.mark.parametrize("model_yaml", ["yolov5l.yaml"])
def test_recipe_yaml_builds_with_our_class_count(model_yaml):
    det = build_detector(DetectorConfig(model=model_yaml, classes=["word", "line"], imgsz=64,
                                        untrained=True), "cpu")
    assert det.model.model[-1].nc == 2 and det.model.yaml["scale"] == "l"


def test_train_one_epoch_then_detect(tmp_path):
    make_coco_pages(tmp_path / "data", n=6)
    cfg = DetectorTrainConfig.model_validate(
        train_config(tmp_path / "data", YOLO_TINY, tmp_path / "run", epochs=1))
    weights = train_detector(cfg)
    assert weights == (tmp_path / "run" / "best_detector.pt").resolve()
    payload = torch.load(weights, weights_only=True)
    assert payload["classes"] == ["word"]
    det = build_detector(cfg.model.model_copy(update={"weights": weights, "conf": 0.0}), "cpu")
    assert "UNTRAINED" not in det.description
    image = np.asarray(Image.open(tmp_path / "data" / "images" / "001.jpg").convert("RGB"))
    (regions,) = det.predict([image])
    assert regions
    assert_regions_valid(regions, image.shape[1], image.shape[0])


def test_fine_tune_starts_from_model_weights(tmp_path):
    # ultralytics silently drops a .pt model's weights when pretrained=False: a fine-tune at
    # a vanishing learning rate must end where it started, not at a fresh initialisation.
    make_coco_pages(tmp_path / "data", n=6)
    first = train_detector(DetectorTrainConfig.model_validate(
        train_config(tmp_path / "data", YOLO_TINY, tmp_path / "a", epochs=1)))
    tuned = train_detector(DetectorTrainConfig.model_validate(
        train_config(tmp_path / "data", {**YOLO_TINY, "weights": str(first)}, tmp_path / "b",
                     epochs=1, lr0=1e-12, warmup_epochs=0.0)))
    start, end = load_yolo_weights(first)[0], load_yolo_weights(tuned)[0]
    for name, p in start.named_parameters():
        if p.dim() == 4:  # conv kernels: no running statistics
            assert torch.allclose(dict(end.named_parameters())[name], p, atol=1e-4), name


def test_fine_tune_from_a_missing_file_is_an_error_not_training_from_scratch(tmp_path):
    missing = tmp_path / "gone.pt"
    cfg = DetectorTrainConfig.model_validate(
        train_config(tmp_path / "data", {**YOLO_TINY, "weights": str(missing)}, tmp_path / "run",
                     epochs=1))
    with pytest.raises(MissingWeightsError, match="model.weights") as err:
        train_detector(cfg)  # fails before any data is read (there is none here)
    assert str(missing) in str(err.value) and "model.weights: null" in str(err.value)


def test_text_scale_size_brings_median_height_to_target():
    from detection.yolo import text_scale_imgsz

    # 40 px words on a 1000 px image, trained on 10 px words: a 250 px letterbox (to stride).
    assert text_scale_imgsz([38, 40, 42], 1000, 10, 32, 64, 1600) == 256
    # tiny text is enlarged, but never past max_size; huge text is bounded by min_size
    assert text_scale_imgsz([5, 5, 5], 1000, 20, 32, 64, 1600) == 1600
    assert text_scale_imgsz([900, 900, 900], 1000, 10, 32, 160, 1600) == 160
    # too few boxes to trust a median: keep the configured size
    assert text_scale_imgsz([40, 40], 1000, 10, 32, 64, 1600) is None


def test_text_scale_pass_reruns_at_the_size_it_measured(monkeypatch):
    from core.geometry import box_polygon
    from detection.types import Region

    cfg = DetectorConfig(**{**YOLO_TINY, "imgsz": 256, "text_height": 8.0, "min_imgsz": 64,
                            "max_imgsz": 640}, untrained=True)
    det = build_detector(cfg, "cpu")
    sizes = []

    def fake_infer(images, imgsz, max_upscale=None):  # every pass finds three 40 px words
        sizes.append(imgsz)
        box = (10.0, 10.0, 100.0, 50.0)
        return [[Region(polygon=box_polygon(*box), bbox=box, score=0.9, label="word")] * 3
                for _ in images]

    monkeypatch.setattr(det, "_infer", fake_infer)
    wide, small = np.full((120, 300, 3), 255, np.uint8), np.full((60, 60, 3), 255, np.uint8)
    det.predict([wide])
    # 40 px words -> 8 px: the 300 px side becomes 60 -> 64 (stride 32), far from 256: re-run
    assert sizes == [256, 64]
    sizes.clear()
    monkeypatch.setattr(det.cfg, "text_height", None)
    det.predict([wide, small])
    assert sizes == [256]  # without text_height one pass only


def test_content_window_is_the_texts_part_of_the_image_only_when_small():
    from detection.yolo import content_window

    boxes = [(400, 500, 600, 520), (420, 540, 580, 560), (410, 900, 590, 920)]
    # union 400-600 x 500-920, grown by 3 % of 2000 = 60 px each way
    assert content_window(boxes, 2000, 1400, 0.5) == (340, 440, 660, 980)
    assert content_window(boxes, 2000, 1400, 0.05) is None       # 0.062 of the page > 0.05
    assert content_window(boxes[:2], 2000, 1400, 0.5) is None    # too few boxes to trust
    assert content_window([(0, 0, 1400, 2000)] + boxes, 2000, 1400, 0.9) is None  # all of it
    assert content_window([(5, 5, 60, 20)] * 3, 2000, 1400, 0.5)[:2] == (0, 0)   # clipped


def test_content_zoom_reads_a_small_receipt_in_its_part_and_maps_it_back(monkeypatch):
    from core.geometry import box_polygon
    from detection.types import Region

    cfg = DetectorConfig(**{**YOLO_TINY, "imgsz": 256, "text_height": 8.0, "min_imgsz": 64,
                            "max_imgsz": 1024, "content_zoom": 0.3}, untrained=True)
    det = build_detector(cfg, "cpu")
    looks = []

    def fake_infer(images, imgsz, max_upscale=None):
        looks.append((images[0].shape[:2], imgsz))
        h, w = images[0].shape[:2]
        if h == 2000:  # the whole page: three boxes of the strip in its middle, too tall
            boxes = [(600.0, 600.0, 800.0, 700.0), (600.0, 800.0, 800.0, 900.0),
                     (600.0, 1000.0, 800.0, 1100.0)]
        else:           # its part: 20 px words at its top left
            boxes = [(10.0, 10.0, 90.0, 30.0)] * 3
        return [[Region(polygon=box_polygon(*b), bbox=b, score=0.9, label="word")
                 for b in boxes] for _ in images]

    monkeypatch.setattr(det, "_infer", fake_infer)
    page = np.full((2000, 1400, 3), 255, np.uint8)
    found = det.predict([page])[0]
    # the part: 600-800 x 600-1100 grown by 60 px; measured at 256 there, then re-run where a
    # 20 px word of its 620 px side is 8 px (248 -> 256 is not far off: no re-run)
    assert looks == [((2000, 1400), 256), ((620, 320), 256)]
    assert [r.bbox for r in found] == [(550.0, 550.0, 630.0, 570.0)] * 3
    assert np.allclose(found[0].polygon, box_polygon(550.0, 550.0, 630.0, 570.0))
    looks.clear()
    monkeypatch.setattr(det.cfg, "content_zoom", None)   # off: the page's 100 px boxes say
    det.predict([page])                                  # large text: shrunk to 160
    assert [size for _, size in looks] == [256, 160]


def test_content_zoom_needs_text_height():
    with pytest.raises(ValidationError, match="content_zoom needs text_height"):
        DetectorConfig(**{**YOLO_TINY, "content_zoom": 0.3}, untrained=True)


def test_max_upscale_keeps_a_small_image_small_in_the_first_look(monkeypatch):
    import detection.yolo as yolo

    looks = []

    def recording_letterbox(image, size, fill=1.0, canvas=None):
        looks.append((image.shape[:2], size, fill))
        return letterbox(image, size, fill, canvas)

    letterbox = yolo.letterbox
    monkeypatch.setattr(yolo, "letterbox", recording_letterbox)
    cfg = DetectorConfig(**{**YOLO_TINY, "imgsz": 256, "conf": 0.0, "max_upscale": 1.0},
                         untrained=True)
    det = build_detector(cfg, "cpu")
    small, large = np.full((40, 128, 3), 255, np.uint8), np.full((300, 600, 3), 255, np.uint8)
    found = det.predict([small, large])
    # the 128 px crop sits at its own size in the 256 square; the large page still fits it
    assert looks == [((40, 128), 256, 0.5), ((300, 600), 256, 1.0)]
    assert_regions_valid(found[0], 128, 40)
    looks.clear()
    monkeypatch.setattr(det.cfg, "max_upscale", 1.5)
    det.predict([small])
    assert looks == [((40, 128), 256, 0.75)]
    looks.clear()
    monkeypatch.setattr(det.cfg, "max_upscale", None)  # off: blown up to the square
    det.predict([small])
    assert looks == [((40, 128), 256, 1.0)]


def test_letterbox_fill_shrinks_the_image_inside_the_square():
    from detection.yolo import letterbox

    image = np.full((100, 200, 3), 255, np.uint8)
    out, scale, (left, top) = letterbox(image, 200, fill=0.5)
    assert out.shape == (200, 200, 3) and scale == 0.5 and (left, top) == (50.0, 75.0)
    assert out[75:125, 50:150].min() == 255          # the image, at half size, centred
    assert out[:75].max() < 255 and out[:, :50].max() < 255   # grey all round


def test_rect_canvas_pads_only_to_the_stride_and_keeps_a_zoomed_out_look_in_proportion():
    from detection.yolo import letterbox, rect_canvas

    assert rect_canvas(1080, 1920, 1280, 32) == (736, 1280)
    assert rect_canvas(1920, 1080, 1280, 32) == (1280, 736)
    assert rect_canvas(500, 500, 480, 32) == (480, 480)
    image = np.full((1080, 1920, 3), 255, np.uint8)
    out, scale, (left, top) = letterbox(image, 480, 0.5, rect_canvas(1080, 1920, 480, 32))
    assert out.shape == (288, 480, 3) and scale == 0.125
    assert (left, top) == (120.0, 76.0) and out[76:76 + 135, 120:360].min() == 255
    assert out[:76].max() < 255 and out[:, :120].max() < 255   # grey round it, as in the square
    with pytest.raises(ValueError, match="does not fit"):
        letterbox(image, 480, 1.0, (240, 480))


class _BoxTheBrightPart(torch.nn.Module):
    """A stand-in YOLO: one 'word' box around the white pixels of each input (raw
    ultralytics layout, centre-size boxes), and the canvas sizes it was given."""

    stride = torch.tensor([32])

    def __init__(self):
        super().__init__()
        self.shapes = []

    def forward(self, batch):
        self.shapes.append(tuple(batch.shape[2:]))
        raw = torch.zeros(batch.shape[0], 5, 1)
        for k, img in enumerate(batch):
            ys, xs = torch.nonzero(img[0] > 0.99, as_tuple=True)
            x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
            raw[k, :, 0] = torch.tensor([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, 0.9])
        return raw


@pytest.mark.parametrize("mode", ["square", "rect"])
def test_rect_letterbox_runs_a_smaller_canvas_and_maps_boxes_to_the_same_place(mode):
    cfg = DetectorConfig(**{**YOLO_TINY, "imgsz": 320, "conf": 0.5, "letterbox": mode},
                         untrained=True)
    det = build_detector(cfg, "cpu")
    det.model = fake = _BoxTheBrightPart()
    grey = np.full((180, 320, 3), 60, np.uint8)
    grey[40:100, 80:240] = 255                       # the 'word'
    tall = np.full((320, 100, 3), 60, np.uint8)
    tall[10:30, 20:60] = 255
    found = det.predict([grey]) + det.predict([grey, tall])
    assert fake.shapes == ([(320, 320)] * 2 if mode == "square" else [(192, 320), (320, 320)])
    for regions, expect in zip(found, [(80, 40, 240, 100), (80, 40, 240, 100), (20, 10, 60, 30)],
                               strict=True):
        assert np.allclose(regions[0].bbox, expect, atol=1.5)


def test_merge_regions_keeps_the_best_of_overlapping_looks_per_label():
    from core.geometry import box_polygon
    from detection.types import Region
    from detection.yolo import merge_regions

    def region(box, score, label="plate"):
        return Region(polygon=box_polygon(*box), bbox=box, score=score, label=label)

    a, b = region((0, 0, 100, 40), 0.6), region((2, 1, 101, 41), 0.9)
    c, d = region((200, 0, 300, 40), 0.3), region((0, 0, 100, 40), 0.5, "word")
    merged = merge_regions([a, b, c, d], iou=0.5, max_det=10)
    assert merged == [b, d, c]
    assert merge_regions([a, b, c, d], iou=0.5, max_det=2) == [b, d]
    assert merge_regions([], iou=0.5, max_det=2) == []


def test_drop_contained_removes_a_box_inside_a_better_one_of_its_label():
    from core.geometry import box_polygon
    from detection.types import Region
    from detection.yolo import drop_contained

    def region(box, score, label="plate"):
        return Region(polygon=box_polygon(*box), bbox=box, score=score, label=label)

    # the two boxes one plate got from two looks: IoU 0.5, 73 % of the smaller inside
    big, small = region((802, 278, 900, 308), 0.65), region((815, 269, 890, 302), 0.63)
    other = region((100, 100, 200, 140), 0.9)
    word = region((815, 269, 890, 302), 0.95, "word")
    assert drop_contained([big, small, other, word], 0.6) == [big, other, word]
    assert drop_contained([big, small, other], 0.8) == [big, small, other]
    # the better-scoring one stays, whichever is larger
    small_best = region((815, 269, 890, 302), 0.9)
    assert drop_contained([big, small_best], 0.6) == [small_best]
    assert drop_contained([], 0.6) == []


def test_extra_passes_look_again_and_merge(monkeypatch):
    from core.geometry import box_polygon
    from detection.types import Region

    cfg = DetectorConfig(**{**YOLO_TINY, "imgsz": 256,
                            "extra_passes": [{"imgsz": 256, "fill": 0.5}, {"imgsz": 500}]},
                         untrained=True)
    det = build_detector(cfg, "cpu")
    calls = []
    found = {(256, 1.0): (10.0, 10.0, 60.0, 30.0), (256, 0.5): (11.0, 10.0, 61.0, 30.0),
             (512, 1.0): (150.0, 80.0, 170.0, 86.0)}

    def fake_infer(images, imgsz, fill=1.0, max_upscale=None):
        calls.append((imgsz, fill))
        box = found[(imgsz, fill)]
        return [[Region(polygon=box_polygon(*box), bbox=box, score=fill * 0.8, label="word")]
                for _ in images]

    monkeypatch.setattr(det, "_infer", fake_infer)
    (regions,) = det.predict([np.full((120, 300, 3), 255, np.uint8)])
    assert calls == [(256, 1.0), (256, 0.5), (512, 1.0)]  # sizes rounded up to the stride
    assert [r.bbox for r in regions] == [found[(256, 1.0)], found[(512, 1.0)]]
    # a pass's own conf drops its weaker finds before the merge (the 500 px pass scores 0.8)
    monkeypatch.setattr(det.cfg.extra_passes[1], "conf", 0.9)
    (regions,) = det.predict([np.full((120, 300, 3), 255, np.uint8)])
    assert [r.bbox for r in regions] == [found[(256, 1.0)]]
    # heights are bounded in the pass's own letterbox pixels: the 6 px box of the 512 pass
    # is 6 * 512 / 300 = 10.2 px there
    monkeypatch.setattr(det.cfg.extra_passes[1], "conf", None)
    for top, kept in ((10.0, False), (10.5, True)):
        monkeypatch.setattr(det.cfg.extra_passes[1], "max_height", top)
        (regions,) = det.predict([np.full((120, 300, 3), 255, np.uint8)])
        assert (found[(512, 1.0)] in [r.bbox for r in regions]) is kept
    monkeypatch.setattr(det.cfg.extra_passes[1], "min_height", 10.5)
    (regions,) = det.predict([np.full((120, 300, 3), 255, np.uint8)])
    assert [r.bbox for r in regions] == [found[(256, 1.0)]]


def test_extra_passes_map_boxes_back_to_the_image_and_bad_fill_is_named():
    cfg = DetectorConfig(**{**YOLO_TINY, "imgsz": 128, "conf": 0.0, "max_det": 30,
                            "extra_passes": [{"imgsz": 128, "fill": 0.5}]}, untrained=True)
    det = build_detector(cfg, "cpu")
    (regions,) = det.predict([np.random.default_rng(0).integers(0, 255, (90, 160, 3),
                                                                   dtype=np.uint8)])
    assert 0 < len(regions) <= 30
    assert_regions_valid(regions, 160, 90)
    with pytest.raises(ValidationError, match="fill"):
        DetectorConfig(**{**YOLO_TINY, "extra_passes": [{"imgsz": 128, "fill": 0.0}]})


def test_resume_takes_the_configs_new_time_budget_and_keeps_the_rest(tmp_path, monkeypatch):
    # A killed ultralytics run resumes with the arguments it began with; the few it lets a
    # resume change (the time budget above all) come from the config as it is now.
    import ultralytics

    import detection.train_yolo as train_yolo

    cfg = DetectorTrainConfig.model_validate(
        train_config(tmp_path / "data", YOLO_TINY, tmp_path / "run", epochs=1))
    cfg.train.ultralytics.update({"time": 1.5, "mosaic": 0.5})
    calls = []

    class FakeYOLO:
        def __init__(self, path):
            calls.append(("init", path))

        def train(self, **kwargs):
            calls.append(("train", kwargs))
            raise RuntimeError("stop here")  # the export after training is not this test's

    monkeypatch.setattr(ultralytics, "YOLO", FakeYOLO)
    with pytest.raises(FileNotFoundError, match="--resume: no"):
        train_detector(cfg, resume=True)
    last = tmp_path / "run" / train_yolo.ULTRALYTICS_NAME / "train" / "weights" / "last.pt"
    last.parent.mkdir(parents=True)
    last.write_bytes(b"")
    with pytest.raises(RuntimeError, match="stop here"):
        train_detector(cfg, resume=True)
    (_, path), (_, kwargs) = calls
    assert path == str(last)
    assert kwargs["resume"] is True and kwargs["time"] == 1.5
    assert kwargs["patience"] == cfg.train.patience and kwargs["batch"] == cfg.train.batch
    assert "mosaic" not in kwargs and "lr0" not in kwargs and "epochs" not in kwargs

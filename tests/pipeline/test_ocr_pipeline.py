"""OcrPipeline with fake stages: composition, batching, modes, failures, result types."""

import numpy as np
import pytest

from pipeline.assembler import Assembler
from pipeline.ocr import OcrPipeline
from pipeline.presets import AssemblerConfig, LayoutConfig
from pipeline.results import Page, Word
from recognition.types import Recognition
from tests.pipeline.fakes import BlobDetector, GreyRecognizer, SizeRecognizer, page, rotated_page


def lines_text(p: Page) -> list[str]:
    return [line.text for line in p.lines]


def test_page_is_read_in_order_and_results_are_typed():
    ocr = OcrPipeline(BlobDetector(), GreyRecognizer())
    [result] = ocr.run([page(["abc", "de", "fgh"])])
    assert ocr.mode == "ocr"
    assert lines_text(result) == ["a b c", "d e", "f g h"]
    assert result.text == "a b c\nd e\nf g h"
    assert result.error is None
    assert (result.width, result.height) == (400, 300)
    word = result.lines[0].words[0]
    assert word.label == "word" and word.det_score == pytest.approx(0.9)
    assert word.rec_score == pytest.approx(0.5)
    assert len(word.polygon) == 4
    assert Page.from_dict(result.export()) == result


def test_two_columns_through_the_pipeline():
    img = page(["ab", "cd", "ef"], width=600, x0=20)
    img = page(["gh", "ij"], canvas=img, x0=330)  # right column, rows aligned
    [result] = OcrPipeline(BlobDetector(), GreyRecognizer()).run([img])
    assert lines_text(result) == ["a b", "c d", "e f", "g h", "i j"]


@pytest.mark.parametrize("degrees", [8, -8])
def test_skewed_page_through_the_pipeline(degrees):
    rows = ["abcde", "fghij", "kaceg"]
    [result] = OcrPipeline(BlobDetector(), GreyRecognizer()).run([rotated_page(rows, degrees)])
    assert lines_text(result) == [" ".join(r) for r in rows]


def test_batched_equals_single_and_crops_of_several_images_read_together():
    images = [page(["ab", "c"]), page(["de"]), page(["fgh", "ij", "k"])]
    rec = GreyRecognizer()
    batched = OcrPipeline(BlobDetector(), rec, images_per_batch=3).run(images)
    assert rec.calls == [3 + 2 + 6]  # one recognizer call for all crops of the batch
    single = [OcrPipeline(BlobDetector(), GreyRecognizer(), images_per_batch=1).run([im])[0]
              for im in images]
    assert [p.lines for p in batched] == [p.lines for p in single]


def test_detect_mode_has_regions_and_no_text():
    ocr = OcrPipeline(BlobDetector(), None)
    [result] = ocr.run([page(["ab", "cde"])])
    assert ocr.mode == "detect"
    assert [len(line.words) for line in result.lines] == [2, 3]
    assert result.text == ""
    for w in result.words:
        assert w.text == "" and w.rec_score is None and w.det_score == pytest.approx(0.9)


def test_recognize_mode_reads_each_image_as_one_crop():
    ocr = OcrPipeline(None, SizeRecognizer())
    crops = [np.full((20, 50, 3), 0, np.uint8), np.full((33, 41, 3), 9, np.uint8)]
    results = ocr.run(crops)
    assert ocr.mode == "recognize"
    assert [p.text for p in results] == ["50x20", "41x33"]
    word = results[1].lines[0].words[0]
    assert word.polygon == ((0, 0), (41, 0), (41, 33), (0, 33))
    assert word.bbox == (0, 0, 41, 33) and word.label == "crop" and word.det_score is None


def test_failed_stage_costs_only_its_image():
    class Picky(BlobDetector):
        def predict(self, images):
            if any(im.shape[0] == 77 for im in images):
                raise RuntimeError("boom")
            return super().predict(images)

    images = [page(["ab"]), page(["c"], height=77), page(["d"])]
    results = OcrPipeline(Picky(), GreyRecognizer(), images_per_batch=3).run(images)
    assert [p.text for p in results] == ["a b", "", "d"]
    assert results[1].error.startswith("detection failed")


def test_bad_inputs_become_errors(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"not a png")
    results = OcrPipeline(BlobDetector(), GreyRecognizer()).run([bad, page(["a"])])
    assert results[0].error and "not an image" in results[0].error
    assert results[0].file == str(bad)
    assert results[1].text == "a"


def test_plate_assembler_makes_one_line_per_plate():
    img = np.full((200, 400, 3), 255, np.uint8)
    img[50:80, 40:140] = 0      # plate 1, top row "a"
    img[86:110, 50:130] = 20    # plate 1, bottom row "b"
    img[60:90, 250:350] = 40    # plate 2 "c"
    ocr = OcrPipeline(BlobDetector("plate"), GreyRecognizer(),
                      Assembler(AssemblerConfig(layout=LayoutConfig(kind="plate",
                                                                    word_separator=""))))
    [result] = ocr.run([img])
    assert lines_text(result) == ["ab", "c"]


def test_needs_a_stage():
    with pytest.raises(ValueError):
        OcrPipeline(None, None)


@pytest.fixture
def fake_factories(monkeypatch):
    monkeypatch.setattr("detection.factory.build_detector",
                        lambda cfg, device="auto": BlobDetector(cfg.classes[0]))
    monkeypatch.setattr("recognition.factory.build_recognizer",
                        lambda cfg, device="auto": GreyRecognizer())


def test_each_config_section_steers_its_own_step(fake_factories):
    docs = OcrPipeline.from_preset("documents", device="cpu")
    assert docs.detect.line_image_aspect == 6
    assert docs.clean.config.merge_fragments == 0.3 and docs.clean.config.merge_gap == 0.5
    assert docs.clean.gutter_gap == docs.assembler.config.layout.gutter_gap == 0.4
    assert docs.crop.pad == 0.0
    assert docs.script_lock.config.min_share == 0.9
    assert docs.assembler.config.text.min_char_score == 0.0
    plates = OcrPipeline.from_preset("plates", device="cpu",
                                     overrides=["assembler.layout.gutter_gap=0.7"])
    assert plates.crop.pad == 0.1 and plates.detect.line_image_aspect is None
    assert plates.clean.gutter_gap == 0.7  # one gutter setting for merging and for order
    assert plates.assembler.config.layout.kind == "plate"
    assert plates.script_lock.config.min_share is None


def test_modes_build_the_steps_they_need(fake_factories):
    detect = OcrPipeline.from_preset("documents", device="cpu", mode="detect")
    assert detect.mode == "detect" and detect.read.recognizer is None
    recognize = OcrPipeline.from_preset("plates", device="cpu", mode="recognize")
    assert recognize.mode == "recognize" and recognize.detect.detector is None
    assert [p.text for p in recognize.run([page(["b"], width=60, height=40)])] == ["b"]


def test_rgba_array_is_read_on_white_as_files_are():
    rgb = page(["abc", "de"])
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    rgba[:, :, :3][rgba[:, :, 0] > 128] = 0  # paper colour hidden behind transparency:
    rgba[:, :, 3][rgb[:, :, 0] > 128] = 0    # read against black it would be all ink
    ocr = OcrPipeline(BlobDetector(), GreyRecognizer())
    assert lines_text(ocr.run([rgba])[0]) == lines_text(ocr.run([rgb])[0]) == ["a b c", "d e"]


def test_a_plate_region_read_by_the_recognizer_is_kept_and_exported():
    class RegionRecognizer:
        description = "fake region recognizer"

        def predict(self, crops):
            return [Recognition("AB12", 0.9, "cn" if c.shape[1] > 60 else None) for c in crops]

    img = np.full((120, 300, 3), 255, np.uint8)
    img[20:50, 20:120] = 0     # wide: the fake says cn
    img[80:100, 200:240] = 0   # narrow: no region
    [page] = OcrPipeline(BlobDetector("plate"), RegionRecognizer()).run([img])
    words = [w for line in page.lines for w in line.words]
    assert sorted(str(w.region) for w in words) == ["None", "cn"]
    exported = [w.export() for w in words]
    assert sorted(e.get("region", "-") for e in exported) == ["-", "cn"]
    assert [Word.from_dict(e).region for e in exported] == [w.region for w in words]

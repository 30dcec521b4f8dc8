"""The second reader: unsure crops of the first recognizer are read again by the second."""

import numpy as np
import pytest

from pipeline.ocr import OcrPipeline
from pipeline.presets import load_pipeline_config
from pipeline.second_reader import BothPolarities, SecondReader
from recognition.types import Recognition
from tests.pipeline.test_end_to_end import TINY_JOINT, TINY_YOLO


class Fixed:
    """Reads crop k (its first pixel's value) as ``reads[k]``; records what it was given."""

    def __init__(self, reads, name="fixed"):
        self.reads, self.seen, self.forbids = reads, [], []
        self.description = name

    def predict(self, crops, forbid=""):
        keys = [int(c[0, 0, 0]) for c in crops]
        self.seen.append(keys)
        self.forbids.append(forbid)
        return [self.reads[k] for k in keys]


def crops(n):
    return [np.full((8, 16, 3), k, np.uint8) for k in range(n)]


def test_only_unsure_crops_are_read_again_and_replaced():
    # scores are whole-read scores: "ab" at 0.81 is 0.9 per character, "xy" at 0.25 is 0.5
    first = Fixed([Recognition("ab", 0.81), Recognition("xy", 0.25), Recognition("", 0.0)])
    second = Fixed([Recognition("AB", 0.99), Recognition("hw", 0.3), Recognition("z", 0.2)])
    out = SecondReader(first, second, below=0.8).predict(crops(3))
    assert [r.text for r in out] == ["ab", "hw", "z"]
    assert second.seen == [[1, 2]]  # the confident crop 0 is never read twice


def test_below_zero_never_reads_again_and_one_always_does():
    first = Fixed([Recognition("ab", 0.81), Recognition("xy", 0.25)])
    second = Fixed([Recognition("AB", 0.5), Recognition("HW", 0.5)])
    assert [r.text for r in SecondReader(first, second, 0.0).predict(crops(2))] == ["ab", "xy"]
    assert second.seen == []
    assert [r.text for r in SecondReader(first, second, 1.0).predict(crops(2))] == ["AB", "HW"]
    with pytest.raises(ValueError, match="below"):
        SecondReader(first, second, 1.5)


def test_narrow_crops_keep_the_fuller_of_both_readings():
    # crop 1 (w / h 1.25, a two-row plate): the first reader drops a row, the second reads
    # both; crop 3 (narrow too): the same length, the first more sure; crop 2 wide and unsure
    first = Fixed([Recognition("ab", 0.81), Recognition("xy", 0.81), Recognition("q", 0.1),
                   Recognition("mn", 0.9)])
    second = Fixed([Recognition("AB", 0.5), Recognition("WXY", 0.5), Recognition("", 0.5),
                    Recognition("MN", 0.5)])
    shapes = [(8, 40), (16, 20), (8, 40), (16, 20)]
    plates = [np.full((*hw, 3), k, np.uint8) for k, hw in enumerate(shapes)]
    out = SecondReader(first, second, 0.5, narrower_than=1.75).predict(plates)
    assert [r.text for r in out] == ["ab", "WXY", "", "mn"]
    assert second.seen == [[1, 2, 3]]  # the narrow ones and the unsure wide one
    assert "1.75:1" in SecondReader(first, second, 0.5, 1.75).description
    with pytest.raises(ValueError, match="narrower_than"):
        SecondReader(first, second, 0.5, narrower_than=0.0)


def test_forbidden_letters_reach_both_readers():
    first = Fixed([Recognition("xy", 0.1)])
    second = Fixed([Recognition("hw", 0.1)])
    SecondReader(first, second, 0.8).predict(crops(1), forbid="абв")
    assert first.forbids == ["абв"] and second.forbids == ["абв"]


def test_the_documents_preset_reads_with_a_second_reader_and_says_so():
    cfg = load_pipeline_config("documents")
    assert cfg.second_reader.enabled and cfg.second_reader.recognizer.weights is not None
    ocr = OcrPipeline.from_preset("documents", device="cpu", overrides=TINY_YOLO + TINY_JOINT)
    assert isinstance(ocr.recognizer, SecondReader)
    assert "read again by" in ocr.models["recognizer"]
    off = OcrPipeline.from_preset("documents", device="cpu", overrides=[
        *TINY_YOLO, *TINY_JOINT, "second_reader.enabled=false"])
    assert not isinstance(off.recognizer, SecondReader)
    scene = load_pipeline_config("scene")
    assert not scene.second_reader.enabled


def test_the_plates_preset_reads_narrow_crops_with_its_two_row_reader():
    cfg = load_pipeline_config("plates")
    section = cfg.second_reader
    assert section.enabled and section.below == 0.0 and section.narrower_than == 1.75
    assert section.recognizer.weights.name == "plates_two_row_recognizer.pt"
    ocr = OcrPipeline.from_preset("plates", device="cpu")
    assert isinstance(ocr.recognizer, SecondReader)
    assert ocr.recognizer.second.preprocess.row_split  # the shipped file was trained so
    assert not ocr.recognizer.first.preprocess.row_split


def test_a_bad_threshold_names_the_field():
    with pytest.raises(Exception, match="second_reader.below"):
        load_pipeline_config("documents", overrides=["second_reader.below=2"])


class ByInk:
    """Reads a crop by its first pixel: "dark" (< 128) or "light", sure of dark ones (or of
    light ones); records every batch it was given."""

    def __init__(self, sure_when_dark: bool = True):
        self.batches, self.sure_when_dark = [], sure_when_dark

    def predict(self, crops):
        self.batches.append([int(c[0, 0, 0]) for c in crops])
        out = []
        for c in crops:
            dark = int(c[0, 0, 0]) < 128
            out.append(Recognition("dark" if dark else "light",
                                   0.9 if dark == self.sure_when_dark else 0.2))
        return out


def test_both_polarities_read_each_crop_twice_in_one_batch_and_keep_the_surer():
    reader = ByInk()
    both = BothPolarities(reader)
    out = both.predict([np.full((8, 16, 3), v, np.uint8) for v in (10, 250)])
    assert reader.batches == [[10, 250, 245, 5]]  # as cut, then inverted: one batch
    # crop 0 is surer as cut (dark), crop 1 inverted (it became dark)
    assert [(r.text, r.score) for r in out] == [("dark", 0.9), ("dark", 0.9)]
    assert "inverted" in both.description


def test_both_polarities_keep_the_crop_as_cut_on_a_tie_and_pass_forbid_on():
    first = Fixed([Recognition("ab", 0.81)] * 256)
    out = BothPolarities(first).predict(crops(2), forbid="xyz")
    assert [r.text for r in out] == ["ab", "ab"]
    assert first.seen == [[0, 1, 255, 254]] and first.forbids == ["xyz"]


def test_the_scene_preset_switch_wraps_its_reader():
    cfg = load_pipeline_config("scene", None, ["crops.both_polarities=true"])
    pipe = OcrPipeline.from_config(cfg, device="cpu", mode="recognize")
    assert isinstance(pipe.recognizer, BothPolarities)
    off = load_pipeline_config("scene", None, ["crops.both_polarities=false"])
    assert not isinstance(OcrPipeline.from_config(off, device="cpu", mode="recognize")
                          .recognizer, BothPolarities)

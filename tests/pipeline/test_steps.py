"""Each step of pipeline.steps alone, on hand-made images and fake models."""

import logging

import numpy as np
import pytest

import pipeline.steps as steps
from core.geometry import box_polygon
from detection.types import Region
from pipeline.ocr import OcrPipeline
from pipeline.presets import RegionsConfig, ScriptLockConfig
from pipeline.steps import (
    CleanRegions,
    CropRegions,
    Crops,
    DetectRegions,
    ImageRegions,
    ReadCrops,
    ScriptLock,
    clean_region,
    crop_region,
    grown,
    page_words,
    whole_image_region,
)
from recognition.types import Recognition
from tests.pipeline.fakes import BlobDetector, GreyRecognizer, SizeRecognizer, page


def box(x1, y1, x2, y2, label="word", score=0.9):
    return Region(box_polygon(x1, y1, x2, y2), (x1, y1, x2, y2), score, label)


def white(h, w):
    return np.full((h, w, 3), 255, np.uint8)


# --- DetectRegions --------------------------------------------------------------------------

def test_detect_without_a_detector_makes_each_image_one_region():
    found = DetectRegions(None)([white(20, 50), white(33, 41)], ["a", "b"])
    assert [f.source for f in found] == ["image", "image"]
    [region] = found[1].regions
    assert region.bbox == (0, 0, 41, 33) and region.label == "crop" and region.score == 1.0


def test_detect_reads_line_strips_whole_and_detects_the_rest_together():
    det = BlobDetector()
    images = [white(20, 300), page(["ab"]), white(20, 300), page(["c"])]
    found = DetectRegions(det, line_image_aspect=8)(images, list("abcd"))
    assert det.calls == [2]
    assert [f.source for f in found] == ["line", "detector", "line", "detector"]
    assert found[0].regions[0].label == "line" and found[0].regions[0].bbox == (0, 0, 300, 20)
    assert [len(f.regions) for f in found] == [1, 2, 1, 1]
    assert DetectRegions(det)(images[:1], ["a"])[0].source == "detector"  # off by default


def written_lines(rows, h=90, w=400, ground=255, margin=None):
    """Dark strokes in ``rows`` (top, bottom) on a light ground; ``margin``: a white polygon
    margin round a darker paper (a line cut out of a page photo)."""
    image = np.full((h, w, 3), ground, np.uint8)
    if margin is not None:
        image[:] = 255
        image[margin:h - margin, margin:w - margin] = ground
    for top, bottom in rows:
        for x in range(20, w - 20, 14):   # letters: short vertical strokes 3 px wide
            image[top:bottom, x:x + 3] = 30
    return image


def test_an_image_whose_ink_is_one_band_is_read_whole():
    from pipeline.presets import LineInkConfig

    ink = LineInkConfig(row_share=0.2, band_share=0.3, max_height=200)
    det = BlobDetector()
    detect = DetectRegions(det, line_image_aspect=8, line_image_ink=ink)
    one = written_lines([(30, 60)])
    on_paper = written_lines([(30, 60)], ground=190, margin=6)   # white margin is not ink
    with_bits = written_lines([(30, 60), (82, 86)])   # a descender of the next line: too little
    two = written_lines([(10, 35), (55, 80)])
    three = written_lines([(8, 26), (36, 54), (64, 82)])
    tall = written_lines([(100, 130)], h=260)         # above max_height: never one line
    small_in_page = written_lines([(80, 90)], h=180)  # one line, a twentieth of the height
    assert [detect.is_line_strip(i) for i in (one, on_paper, with_bits, two, three, tall,
                                              small_in_page)] == [
        True, True, True, False, False, False, False]
    assert not detect.is_line_strip(white(90, 400))   # no ink at all: not a line of text
    specks = white(90, 400)
    specks[40, 100:104] = 0                           # a few dark pixels are not writing
    assert not detect.is_line_strip(specks)
    found = detect([one, two], ["a", "b"])
    assert [f.source for f in found] == ["line", "detector"] and det.calls == [1]
    assert not DetectRegions(det, line_image_aspect=8).is_line_strip(one)   # off by default


def test_an_image_the_line_check_cannot_judge_goes_to_the_detector(monkeypatch, caplog):
    from pipeline.presets import LineInkConfig

    def broken(image, row_share):
        raise ValueError("odd pixels")

    monkeypatch.setattr(steps, "ink_bands", broken)
    det = BlobDetector()
    detect = DetectRegions(det, line_image_ink=LineInkConfig())
    with caplog.at_level(logging.WARNING):
        found = detect([written_lines([(30, 60)]), page(["ab"])], ["odd.png", "page.png"])
    assert [f.source for f in found] == ["detector", "detector"] and det.calls == [2]
    assert "odd.png: could not tell" in caplog.text


def test_a_small_image_of_a_crops_shape_is_one_crop_read_whole():
    from pipeline.presets import CropImageConfig

    det = BlobDetector()
    detect = DetectRegions(det, crop_image=CropImageConfig(max_side=400, min_aspect=1.9))
    plate, photo, wide_photo = white(24, 94), page(["ab"]), white(300, 640)
    found = detect([plate, photo, wide_photo, white(100, 180)], list("abcd"))
    # the 94x24 crop is one region as in recognize mode; the photo (400x300), a wide
    # photo over 400 px and a 1.8:1 image go to the detector, together
    assert [f.source for f in found] == ["image", "detector", "detector", "detector"]
    assert det.calls == [3]
    [region] = found[0].regions
    assert region.bbox == (0, 0, 94, 24) and region.label == "crop"
    assert DetectRegions(det)([plate], ["a"])[0].source == "detector"   # off by default


def test_ink_bands_find_rows_of_writing_and_their_share():
    from core.imaging import ink_bands

    bands = ink_bands(written_lines([(10, 35), (55, 65)]), row_share=0.2)
    assert len(bands) == 2
    (t1, b1, s1), (t2, b2, s2) = bands
    assert abs(t1 - 10) <= 2 and abs(b1 - 35) <= 2 and abs(t2 - 55) <= 2 and abs(b2 - 65) <= 2
    assert s1 > s2 and abs(s1 + s2 - 1.0) < 1e-6 and abs(s1 / s2 - 2.5) < 0.3
    assert ink_bands(white(50, 100), row_share=0.2) == []


def test_a_failed_detection_batch_is_retried_image_by_image(caplog):
    class Picky(BlobDetector):
        def predict(self, images):
            self.calls.append(len(images))
            if any(im.shape[0] == 77 for im in images):
                raise RuntimeError("boom")
            return BlobDetector.predict(self, images)

    det = Picky()
    images = [page(["ab"]), page(["c"], height=77), page(["d"])]
    with caplog.at_level(logging.ERROR, logger="pipeline.steps"):
        found = DetectRegions(det)(images, ["p1", "p2", "p3"])
    assert det.calls[0] == 3 and len(det.calls) == 1 + 3 + 2  # batch, then one by one
    assert isinstance(found[1], str) and found[1].startswith("detection failed")
    assert [len(found[0].regions), len(found[2].regions)] == [2, 1]
    assert "p2: detection failed" in caplog.text


def test_a_detector_answering_for_too_few_images_counts_as_failed():
    class Short:
        def predict(self, images):
            return [[box(0, 0, 5, 5)]][: 1 if len(images) == 1 else 0]

    found = DetectRegions(Short())([white(10, 10), white(10, 10)], ["a", "b"])
    assert [len(f.regions) for f in found] == [1, 1]  # retried one by one


# --- CleanRegions ---------------------------------------------------------------------------

def test_clean_region_clips_to_the_image_and_drops_what_is_outside():
    img = white(50, 100)
    clipped = clean_region(box(-10, 40, 30, 70, score=0.5), img)
    assert clipped.bbox == (0, 40, 30, 50) and clipped.score == 0.5 and clipped.label == "word"
    assert clean_region(box(120, 0, 150, 20), img) is None
    flat = Region(np.array([[0, 0], [10, 0], [20, 0]], float), (0, 0, 20, 0), 0.9, "word")
    assert clean_region(flat, img) is None


def test_clean_skips_labels_and_merges_pieces_when_asked():
    img = white(60, 200)
    found = ImageRegions([box(10, 10, 60, 30), box(40, 10, 90, 30), box(0, 0, 200, 40, "line"),
                          box(250, 0, 260, 10)])
    plain = CleanRegions()(found, img)
    assert [r.bbox for r in plain.regions] == [(10, 10, 60, 30), (40, 10, 90, 30)]
    merged = CleanRegions(RegionsConfig(merge_fragments=0.3))(found, img)
    assert [r.bbox for r in merged.regions] == [(10, 10, 90, 30)]
    keep_lines = CleanRegions(RegionsConfig(skip_labels=[]))(found, img)
    assert [r.label for r in keep_lines.regions] == ["word", "word", "line"]


def test_clean_never_merges_across_the_layout_gutter():
    # Two columns of three rows; a 24 px (1.2 heights) gap between them on every row.
    regions = [box(x, y, x + 80, y + 20) for y in (0, 30, 60) for x in (0, 104)]
    img = white(100, 200)
    cfg = RegionsConfig(merge_fragments=0.3, merge_gap=1.5, max_merged_aspect=40)
    loose = CleanRegions(cfg, gutter_gap=None)(ImageRegions(regions), img)
    assert len(loose.regions) == 3
    columns = CleanRegions(cfg, gutter_gap=0.4)(ImageRegions(regions), img)
    assert len(columns.regions) == 6


def test_clean_leaves_images_read_whole_alone():
    img = white(20, 300)
    strip = ImageRegions([whole_image_region(img, "line")], "line")
    assert CleanRegions()(strip, img) is strip  # "line" is a skipped label for detections


def test_clean_snaps_boxes_onto_the_ink_when_asked():
    img = white(80, 100)
    img[40:60, 10:90:3] = 0
    off = ImageRegions([box(10, 30, 90, 50)])
    assert CleanRegions()(off, img).regions[0].bbox == (10, 30, 90, 50)
    snapped = CleanRegions(RegionsConfig(snap_to_ink=True))(off, img).regions[0]
    assert snapped.bbox[1] > 30


# --- CropRegions ----------------------------------------------------------------------------

def test_grown_pads_each_side_and_clips_to_the_image():
    poly = box_polygon(40, 20, 90, 40)
    assert grown(poly, 0.0, (60, 120)) is poly
    assert grown(poly, 0.1, (60, 120)).tolist() == [[35, 18], [95, 18], [95, 42], [35, 42]]
    assert grown(poly, 1.0, (60, 120)).tolist() == [[0, 0], [120, 0], [120, 60], [0, 60]]


def test_crops_of_a_batch_keep_their_owner_and_skip_failed_images():
    images = [white(60, 120), white(30, 30), white(40, 50)]
    found = [ImageRegions([box(40, 20, 90, 40), box(0, 0, 10, 10)]), "detection failed",
             ImageRegions([whole_image_region(images[2])], "image")]
    crops = CropRegions(pad=0.1)(images, found, ["a", "b", "c"])
    assert crops.owners == [0, 0, 2]
    assert [c.shape[:2] for c in crops.images] == [(24, 60), (11, 11), (40, 50)]  # clipped at 0
    assert crops.images[2] is images[2]  # no detector: the image itself, never padded


def test_a_region_that_cannot_be_cropped_is_a_blank_crop_and_a_warning(monkeypatch, caplog):
    def broken(image, polygon):
        raise ValueError("degenerate")

    monkeypatch.setattr(steps, "crop_polygon", broken)
    with caplog.at_level(logging.WARNING, logger="pipeline.steps"):
        crop = crop_region(white(20, 20), box_polygon(1, 2, 3, 4), "scan.png")
    assert crop.shape == (8, 8, 3) and (crop == 255).all()
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "scan.png" in record.getMessage() and "[[1.0, 2.0], [3.0, 2.0]" in record.getMessage()
    assert "degenerate" in record.getMessage()


def test_a_failed_crop_keeps_the_page_going(monkeypatch, caplog):
    real = steps.crop_polygon

    def picky(image, polygon):
        if np.asarray(polygon)[0, 0] > 50:
            raise ValueError("degenerate")
        return real(image, polygon)

    monkeypatch.setattr(steps, "crop_polygon", picky)
    with caplog.at_level(logging.WARNING, logger="pipeline.steps"):
        [result] = OcrPipeline(BlobDetector(), SizeRecognizer()).run([page(["ab"])])
    assert result.error is None
    assert result.text == "30x14 8x8"
    assert "<array 0>: could not crop polygon" in caplog.text


# --- ReadCrops ------------------------------------------------------------------------------

def crops_of(*owners):
    return Crops([np.full((10, 10 + k, 3), 0, np.uint8) for k in range(len(owners))],
                 list(owners))


def test_read_without_a_recognizer_gives_no_reads():
    assert ReadCrops(None)(crops_of(0, 0, 1), ["a", "b"]) == [None, None, None]


def test_all_crops_of_a_batch_are_read_in_one_call():
    rec = GreyRecognizer()
    reads = ReadCrops(rec)(crops_of(0, 0, 1, 2), ["a", "b", "c"])
    assert rec.calls == [4] and [r.text for r in reads] == ["a"] * 4
    assert ReadCrops(rec)(crops_of(), []) == [] and rec.calls == [4]


def test_a_failed_read_costs_only_the_crops_of_its_image(caplog):
    class Picky:
        def __init__(self):
            self.calls = []

        def predict(self, crops):
            self.calls.append(len(crops))
            if any(c.shape[1] == 11 for c in crops):
                raise RuntimeError("boom")
            return [Recognition("ok", 0.5) for _ in crops]

    rec = Picky()
    with caplog.at_level(logging.ERROR, logger="pipeline.steps"):
        reads = ReadCrops(rec)(crops_of(0, 1, 1, 2), ["a", "b", "c"])
    assert rec.calls == [4, 1, 2, 1]
    assert reads[0].text == "ok" and reads[3].text == "ok"
    assert reads[1] == reads[2] == "recognition failed: see log"
    assert "b: recognition failed" in caplog.text


def test_a_recognizer_answering_for_too_few_crops_counts_as_failed():
    class Short:
        def predict(self, crops):
            return [Recognition("x", 1.0)]

    reads = ReadCrops(Short())(crops_of(0, 0), ["a"])
    assert reads == ["recognition failed: see log"] * 2


# --- ScriptLock -----------------------------------------------------------------------------

ENGLISH = "the quick brown fox jumps over the lazy dog and then some more"


class ForbiddingReader:
    """Reads every crop as ``again`` when given letters to forbid."""

    def __init__(self, again=("tenderly", 0.5)):
        self.again = again
        self.forbidden: list[tuple[int, str]] = []

    def predict(self, crops, forbid=""):
        self.forbidden.append((len(crops), forbid))
        return [Recognition(*self.again) for _ in crops]


def test_script_lock_re_reads_mixed_words_page_by_page():
    reader = ForbiddingReader()
    reads = [Recognition(ENGLISH, 0.9), Recognition("tenderl\u044f", 0.5),
             Recognition("\u043f\u0440\u0438\u0432\u0435\u0442", 0.9), "recognition failed"]
    crops = crops_of(0, 0, 1, 2)
    out = ScriptLock(reader, ScriptLockConfig(min_share=0.8))(crops, reads, ["a", "b", "c"])
    assert out[0] is reads[0] and out[1].text == "tenderly"
    assert out[2] is reads[2] and out[3] == "recognition failed"  # page b: all one script
    [(n, forbid)] = reader.forbidden
    assert n == 1 and "\u044f" in forbid and "a" not in forbid


def test_script_lock_keeps_whole_foreign_words_unless_the_re_read_is_confident():
    reads = [Recognition(ENGLISH, 0.9), Recognition("\u0440\u0438\u0440\u0440\u0443", 0.4)]
    crops = crops_of(0, 0)
    words_off = ScriptLock(ForbiddingReader(("puppy", 0.3)), ScriptLockConfig(min_share=0.8))
    assert words_off(crops, reads, ["a"])[1] is reads[1]
    confident = ScriptLock(ForbiddingReader(("puppy", 0.3)),
                           ScriptLockConfig(min_share=0.8, whole_words=0.5))
    assert confident(crops, reads, ["a"])[1].text == "puppy"       # 0.3 >= 0.5 * 0.4
    garbage = ScriptLock(ForbiddingReader(("npuBet", 0.1)),
                         ScriptLockConfig(min_share=0.8, whole_words=0.5))
    assert garbage(crops, reads, ["a"])[1] is reads[1]


@pytest.mark.parametrize("reader,config", [
    (ForbiddingReader(), ScriptLockConfig()),                 # off
    (SizeRecognizer(), ScriptLockConfig(min_share=0.8)),      # no ``forbid``
    (None, ScriptLockConfig(min_share=0.8)),                  # detect mode
])
def test_script_lock_leaves_reads_alone_when_it_cannot_apply(reader, config):
    reads = [Recognition(ENGLISH, 0.9), Recognition("tenderl\u044f", 0.5)]
    assert ScriptLock(reader, config)(crops_of(0, 0), reads, ["a"]) is reads


def test_a_failed_re_read_keeps_the_first_reads(caplog):
    class Broken:
        def predict(self, crops, forbid=""):
            raise RuntimeError("boom")

    reads = [Recognition(ENGLISH, 0.9), Recognition("tenderl\u044f", 0.5)]
    with caplog.at_level(logging.ERROR, logger="pipeline.steps"):
        out = ScriptLock(Broken(), ScriptLockConfig(min_share=0.8))(crops_of(0, 0), reads, ["a"])
    assert out == reads
    assert "a: script-locked re-reading failed" in caplog.text


# --- page_words -----------------------------------------------------------------------------

def test_page_words_pair_regions_with_their_reads_image_by_image():
    found = [ImageRegions([box(0, 0, 10, 10), box(20, 0, 30, 10, score=0.7)]),
             "detection failed: see log",
             ImageRegions([box(0, 0, 5, 5)]),
             ImageRegions([whole_image_region(white(8, 16))], "image")]
    reads = [Recognition("a", 0.5, spans=((0.0, 1.0),), word_scores=(0.7,)),
             Recognition("b", 0.25),
             "recognition failed: see log", Recognition("c", 1.0)]
    out = page_words(found, reads)
    first, second = out[0]
    assert (first.text, first.rec_score, first.det_score, first.spans) == ("a", 0.5, 0.9,
                                                                            ((0.0, 1.0),))
    assert first.word_scores == (0.7,) and second.word_scores is None
    assert second.text == "b" and second.det_score == pytest.approx(0.7)
    assert second.polygon == ((20, 0), (30, 0), (30, 10), (20, 10))
    assert out[1] == "detection failed: see log"
    assert out[2] == "recognition failed: see log"
    [crop] = out[3]
    assert crop.det_score is None and crop.label == "crop" and crop.bbox == (0, 0, 16, 8)


def test_page_words_without_reads_have_no_text():
    [[word]] = page_words([ImageRegions([box(0, 0, 10, 10)])], [None])
    assert word.text == "" and word.rec_score is None and word.spans is None


def test_crop_level_cuts_a_turned_plate_level_and_leaves_level_ones_alone():
    from pipeline.presets import LevelConfig
    from tests.pipeline.test_crops import _turned_plate

    img, b = _turned_plate(-20.0)
    (x0, y0), (x1, y1) = b.min(axis=0), b.max(axis=0)
    found = [ImageRegions([box(x0, y0, x1, y1, "plate")])]
    plain = CropRegions()([img], found, ["a"])
    level = CropRegions(level=LevelConfig())([img], found, ["a"])
    assert plain.images[0].shape[0] > 60  # the upright box of a turned plate is tall
    assert level.images[0].shape[0] < 45 and level.images[0].shape[1] > 120
    assert not np.allclose(level.quads[0], plain.quads[0])  # characters are placed along it
    assert found[0].regions[0].bbox == (x0, y0, x1, y1)  # the region itself is kept
    flat, fb = _turned_plate(0.0)
    (x0, y0), (x1, y1) = fb.min(axis=0), fb.max(axis=0)
    still = CropRegions(level=LevelConfig())([flat], [ImageRegions([box(x0, y0, x1, y1)])], ["b"])
    alone = CropRegions()([flat], [ImageRegions([box(x0, y0, x1, y1)])], ["b"])
    assert np.array_equal(still.images[0], alone.images[0])

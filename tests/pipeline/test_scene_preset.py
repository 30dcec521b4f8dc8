"""The scene preset reads sign words with its shipped reader, light on dark included."""

from PIL import Image, ImageDraw, ImageFont

from pipeline.ocr import OcrPipeline
from pipeline.presets import load_pipeline_config

SIGNS = [("OPEN", (200, 30, 30), (255, 255, 255)), ("EXIT", (20, 120, 40), (255, 255, 255)),
         ("PHARMACY", (240, 240, 240), (10, 60, 160)), ("CAFE", (20, 20, 20), (250, 220, 0)),
         ("HOTEL", (30, 40, 120), (255, 255, 255))]


def test_scene_preset_reads_sign_words(tmp_path):
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 48)
    paths = []
    for i, (word, board, paint) in enumerate(SIGNS):
        image = Image.new("RGB", (60 + 34 * len(word), 80), board)
        ImageDraw.Draw(image).text((30, 12), word, font=font, fill=paint)
        paths.append(tmp_path / f"{i}.png")
        image.save(paths[-1])
    pipe = OcrPipeline.from_preset("scene", device="cpu", mode="recognize")
    assert [page.text for page in pipe.run(paths)] == [w for w, _, _ in SIGNS]


def test_scene_preset_reads_photos_as_photos():
    cfg = load_pipeline_config("scene")
    assert not cfg.page_geometry.enabled and not cfg.polarity.enabled
    assert cfg.assembler.text.min_char_score == 0.75  # chosen on the tune photos
    assert cfg.crops.both_polarities  # light words on dark signs: read inverted too
    assert cfg.recognizer.weights.name == "scene_recognizer.pt"
    assert cfg.detector.weights.name == "scene_detector.pt"
    assert cfg.regions.merge_fragments is None  # the reader learned word crops

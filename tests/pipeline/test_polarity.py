"""Light writing on a dark ground is read inverted (step FixPolarity, documents preset)."""

import numpy as np
import pytest

from pipeline.ocr import OcrPipeline
from pipeline.presets import PolarityConfig, load_pipeline_config
from pipeline.steps import FixPolarity, light_on_dark
from tests.pipeline.test_char_boxes import text_page
from tests.pipeline.test_page_geometry import LINES, photo

ON = PolarityConfig(enabled=True)


def test_white_writing_on_black_is_found_and_dark_ink_on_paper_is_not():
    page = text_page(LINES)
    assert not light_on_dark(page, ON)
    assert light_on_dark(255 - page, ON)


def test_a_light_page_on_a_dark_table_is_not_inverted():
    shot = photo(text_page(LINES))  # dark table around a white page with black print
    assert not light_on_dark(shot, ON)
    assert light_on_dark(255 - shot, ON)


def test_a_blank_or_flat_image_is_left_alone():
    for value in (0, 128, 255):
        assert not light_on_dark(np.full((200, 300, 3), value, np.uint8), ON)


def test_the_step_inverts_only_what_it_finds_and_nothing_when_off():
    page = text_page(LINES[:2])
    neg = 255 - page
    out = FixPolarity(ON)([page, neg])
    assert out[0] is page and np.array_equal(out[1], page)
    assert FixPolarity(PolarityConfig())([neg])[0] is neg


def test_documents_preset_turns_it_on_and_bad_settings_are_refused():
    assert load_pipeline_config("documents").polarity.enabled
    assert not load_pipeline_config("plates").polarity.enabled
    with pytest.raises(Exception, match="min_ratio"):
        load_pipeline_config("documents", overrides=["polarity.min_ratio=0.5"])


def test_a_negative_page_reads_like_the_page():
    page = text_page(LINES[:2])
    pipe = OcrPipeline.from_preset("documents", overrides=["orientation.enabled=false"])
    [up], [neg] = pipe.run([page]), pipe.run([255 - page])
    assert "river" in up.text
    assert neg.export()["lines"] == up.export()["lines"]


@pytest.mark.parametrize("shape", [(1, 5000, 3), (4000, 2, 3), (1, 1, 3)])
def test_slivers_are_judged_without_error(shape):
    sliver = np.full(shape, 255, np.uint8)
    assert not light_on_dark(sliver, ON)
    assert FixPolarity(ON)([sliver])[0] is sliver

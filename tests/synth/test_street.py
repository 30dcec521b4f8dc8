import numpy as np
import pytest

from synth.street import StreetSceneRenderer, draw_text
from tests.synth.checks import assert_alphabet, assert_ink_agrees, assert_inside


@pytest.fixture(scope="module")
def street(fonts):
    return StreetSceneRenderer(fonts=fonts, long_side=640, empty_prob=0.0)


def test_street_scenes_have_small_labelled_plates_on_several_cars(street):
    widths, counts = [], []
    for i in range(6):
        s = street.render(np.random.default_rng([31, i]))
        assert max(s.image.shape[:2]) == 640
        assert all(a.category == "plate" for a in s.annotations)
        assert_inside(s)
        assert_alphabet(s)
        assert assert_ink_agrees(s, "plate") >= len(s.annotations) - 1
        w = s.image.shape[1]
        widths += [float(np.ptp(a.polygon[:, 0])) / w for a in s.annotations]
        counts.append(len(s.annotations))
    assert max(counts) >= 2
    # plates drawn at 1.5-10 % of the width, narrower when turned away from the camera
    assert widths and max(widths) <= 0.11
    assert min(widths) < 0.04


def test_hidden_plates_are_not_labelled(street):
    # every labelled plate keeps at least half of its characters visible
    for i in range(6):
        s = street.render(np.random.default_rng([32, i]))
        for a in s.annotations:
            assert (s.ink == a.ink_id).sum() > 0, a.text
        labelled = {a.ink_id for a in s.annotations}
        assert set(np.unique(s.ink)) - {0} <= labelled


def test_empty_scenes_have_text_but_no_plate(fonts):
    renderer = StreetSceneRenderer(fonts=fonts, long_side=480, empty_prob=1.0)
    s = renderer.render(np.random.default_rng([33, 0]))
    assert s.annotations == [] and s.image.std() > 5


def test_street_scenes_are_deterministic(street):
    a = street.render(np.random.default_rng([34, 1]))
    b = street.render(np.random.default_rng([34, 1]))
    assert np.array_equal(a.image, b.image)
    assert [x.text for x in a.annotations] == [x.text for x in b.annotations]


def test_draw_text_writes_inside_its_box_only(fonts):
    face = fonts.fonts("sans", "latin")[0]
    img = np.full((60, 200, 3), 255, np.uint8)
    draw_text(img, "PHARMACY", (20, 10, 120, 30), face, (0, 0, 0))
    dark = img.min(axis=2) < 128
    ys, xs = np.nonzero(dark)
    assert len(xs) > 50
    assert xs.min() >= 20 and xs.max() < 140 and ys.min() >= 10 and ys.max() < 40
    # clipped at the image edge without error
    draw_text(img, "EXIT", (180, 50, 60, 30), face, (0, 0, 0))

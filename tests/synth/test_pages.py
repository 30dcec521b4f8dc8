import numpy as np
import pytest

from synth.pages import DocumentRenderer, NotebookRenderer
from synth.scenes import PlateSceneRenderer
from tests.synth.checks import assert_alphabet, assert_ink_agrees, assert_inside


@pytest.fixture(scope="module")
def documents(fonts):
    return DocumentRenderer(fonts=fonts, long_side=480)


@pytest.fixture(scope="module")
def notebooks(fonts):
    return NotebookRenderer(fonts=fonts, long_side=480, strike_prob=0.2)


@pytest.fixture(scope="module")
def scenes(fonts):
    return PlateSceneRenderer(fonts=fonts, long_side=320)


@pytest.mark.parametrize("name", ["documents", "notebooks"])
def test_pages_have_words_and_lines_whose_polygons_cover_their_ink(request, name):
    renderer = request.getfixturevalue(name)
    for i in range(3):
        s = renderer.render(np.random.default_rng([11, i]))
        assert max(s.image.shape[:2]) == 480
        words = [a for a in s.annotations if a.category == "word"]
        lines = [a for a in s.annotations if a.category == "line"]
        assert len(words) >= 5 and lines
        assert " ".join(a.text for a in lines).split() == [a.text for a in words]
        assert_inside(s)
        assert_alphabet(s)
        assert assert_ink_agrees(s, "word") >= 0.9 * len(words)


def test_misaligned_labels_are_caught(documents):
    """The ink check fails when words and polygons are paired wrongly."""
    s = documents.render(np.random.default_rng([11, 0]))
    words = [a for a in s.annotations if a.category == "word"]
    shifted = [type(a)(a.category, b.polygon, a.text, a.attributes, a.ink_id)
               for a, b in zip(words, words[1:] + words[:1], strict=True)]
    bad = type(s)(s.image, shifted, s.ink)
    with pytest.raises(AssertionError):
        assert_ink_agrees(bad, "word")


def test_notebooks_cross_out_some_words(notebooks):
    crossed = 0
    for i in range(3):
        s = notebooks.render(np.random.default_rng([12, i]))
        crossed += sum(bool(a.attributes.get("crossed_out")) for a in s.annotations)
    assert crossed > 0


def test_plate_scenes_polygons_cover_plates(scenes):
    regions = set()
    for i in range(4):
        s = scenes.render(np.random.default_rng([13, i]))
        assert s.annotations and all(a.category == "plate" for a in s.annotations)
        assert_inside(s)
        assert_alphabet(s)
        assert assert_ink_agrees(s, "plate") == len(s.annotations)
        regions |= {a.attributes["region"] for a in s.annotations}
    assert regions <= {"ru", "ua", "eu", "us", "cn", "br"} and regions


def test_plate_scenes_max_roll_turns_plates_further(fonts):
    def turns(max_roll):
        renderer = PlateSceneRenderer(fonts=fonts, long_side=320, max_roll=max_roll)
        out = []
        for i in range(6):
            for a in renderer.render(np.random.default_rng([14, i])).annotations:
                (x0, y0), (x1, y1) = np.asarray(a.polygon, float)[:2]
                out.append(abs(np.degrees(np.arctan2(y1 - y0, x1 - x0))))
        return out

    default, tilted = turns(8.0), turns(35.0)
    assert max(default) < 15  # 8 degrees of turn, plus a little of the perspective skew
    assert max(tilted) > 20


def test_pages_are_deterministic(notebooks):
    a = notebooks.render(np.random.default_rng([9, 9]))
    b = notebooks.render(np.random.default_rng([9, 9]))
    assert np.array_equal(a.image, b.image)
    assert [x.text for x in a.annotations] == [x.text for x in b.annotations]


def test_document_text_scale_makes_fewer_larger_words(fonts):
    def words(scale):
        renderer = DocumentRenderer(fonts=fonts, long_side=480, text_scale=scale)
        found = []
        for i in range(2):
            s = renderer.render(np.random.default_rng([5, i]))
            found += [a for a in s.annotations if a.category == "word"]
        return found

    small, large = words(1.0), words(2.5)
    def height(ws):
        return np.median([a.polygon[:, 1].max() - a.polygon[:, 1].min() for a in ws])

    assert height(large) > 1.8 * height(small)
    assert len(large) < len(small)
    with pytest.raises(ValueError, match="text_scale"):
        DocumentRenderer(fonts=fonts, text_scale=0)

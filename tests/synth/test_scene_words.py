import numpy as np

from recognition.alphabet import unsupported_chars
from synth.scene_words import SceneWordRenderer, board, contrasting_color, luma, scene_case


def test_scene_word_crops_are_labelled_sized_and_reproducible(fonts):
    renderer = SceneWordRenderer(fonts=fonts, min_height=24, max_height=48)
    upper = 0
    for i in range(30):
        s = renderer.render(np.random.default_rng([4, i]))
        h, w = s.image.shape[:2]
        assert s.image.dtype == np.uint8 and s.image.shape[2] == 3
        assert 24 <= h <= 48 and w >= 2
        assert s.text and s.text.strip() == s.text and not unsupported_chars(s.text)
        upper += s.text.isupper()
        assert s.image.std() > 3  # not a blank board
    assert 3 <= upper <= 27  # signs shout often, not always
    a = renderer.render(np.random.default_rng([9, 1]))
    b = renderer.render(np.random.default_rng([9, 1]))
    assert a.text == b.text and np.array_equal(a.image, b.image)


def test_text_colour_stands_out_from_the_board():
    rng = np.random.default_rng(0)
    for _ in range(50):
        bg = rng.uniform(0, 255, 3)
        color = contrasting_color(rng, bg, 70)
        assert abs(luma(color) - luma(bg)) >= 70
    img = board(30, 90, np.random.default_rng(1))
    assert img.shape == (30, 90, 3) and img.dtype == np.uint8


def test_scene_case_keeps_the_letters():
    rng = np.random.default_rng(2)
    seen = {scene_case("Shop", rng) for _ in range(40)}
    assert seen == {"SHOP", "Shop"}
    assert {scene_case("кафе", rng) for _ in range(40)} == {"КАФЕ", "Кафе", "кафе"}

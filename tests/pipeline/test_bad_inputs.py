"""``pipeline run`` on a generated corpus of good, odd and bad files (fake models).

Every file gets exactly one entry per page; a bad file an error saying why, never a
traceback; a good file reads exactly as when it is run alone, in every mode; transparent
images read as on white. The unreadable file is made so by failing its ``os.open`` with
EACCES (the tests run as root, where chmod 000 stops no reads); a FIFO and a broken link are
real.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pipeline.images import load_image
from tests.pipeline.input_corpus import (
    ALPHA_ROWS,
    UNREADABLE,
    Expect,
    page_image,
    write_corpus,
)
from tests.pipeline.test_run_cli import fakes, run_cli  # noqa: F401  (fixture)

MODES = ("ocr", "detect", "recognize")
PAGE_TEXT = "a b c\nd e"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, Expect]]:
    folder = tmp_path_factory.mktemp("corpus")
    return folder, write_corpus(folder)


@pytest.fixture
def unreadable(monkeypatch):
    """Opening the corpus' UNREADABLE file fails with EACCES, as chmod 000 does for a user."""
    real_open = os.open

    def open_(path, *args, **kwargs):
        if os.fspath(path).endswith(UNREADABLE):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


def expected_keys(expected: dict[str, Expect]) -> Counter:
    keys: Counter = Counter()
    for name, e in expected.items():
        for number in [None] if e.pages == 1 else range(1, e.pages + 1):
            keys[name, number] += 1
    return keys


def run_folder(args, out: Path) -> tuple[object, list[dict]]:
    result = run_cli(*args, "--out", out)
    data = json.loads(out.read_text()) if out.exists() else {"images": []}
    return result, data["images"]


def test_corpus_is_large_and_varied(corpus):
    folder, expected = corpus
    assert len(expected) >= 60
    bad = [n for n, e in expected.items() if e.error]
    assert len(bad) >= 30 and len(expected) - len(bad) >= 30
    for ext in ("jpg", "png", "bmp", "tif", "webp", "gif"):  # every format broken each way
        for kind in ("zero", "truncated", "corrupt", "bomb"):
            assert f"{kind}.{ext}" in expected


@pytest.mark.parametrize("mode", MODES)
def test_whole_corpus_one_entry_per_page_clear_errors(corpus, fakes, unreadable,  # noqa: F811
                                                      tmp_path, mode):
    folder, expected = corpus
    out = tmp_path / "r.json"
    result, images = run_folder([folder, "--mode", mode, "--viz", tmp_path / "viz"], out)
    assert result.exit_code == 1, result.output  # some files are bad, the run finished
    assert "Traceback" not in result.output

    by_key = {(Path(e["file"]).relative_to(folder).as_posix(), e["page"]): e for e in images}
    assert Counter((Path(e["file"]).relative_to(folder).as_posix(), e["page"])
                   for e in images) == expected_keys(expected)
    n_bad = sum(1 for e in expected.values() if e.error)
    assert f"{len(images) - n_bad} images ok, {n_bad} failed" in result.output

    for (name, _), entry in by_key.items():
        want = expected[name]
        if want.error:
            assert entry["error"] and want.error in entry["error"], (name, entry["error"])
            assert entry["lines"] == [] and entry["text"] == "", name
            assert (entry["width"], entry["height"]) == (0, 0), name
        else:
            assert entry["error"] is None, (name, entry["error"])
    # One picture per page read; the bad files have none.
    assert len(list((tmp_path / "viz").iterdir())) == len(images) - n_bad


def test_good_files_read_as_when_run_alone(corpus, fakes, tmp_path):  # noqa: F811
    """Batched with 78 neighbours, bad ones among them, or alone: the same entry."""
    folder, expected = corpus
    _, images = run_folder([folder], tmp_path / "all.json")
    by_key = {(e["file"], e["page"]): e for e in images}
    good = [n for n, e in expected.items() if not e.error]
    for n, name in enumerate(good):
        _, alone = run_folder([folder / name], tmp_path / f"{n}.json")
        assert alone, name
        for entry in alone:
            assert by_key[entry["file"], entry["page"]] == entry, name
            img = load_image(folder / name, page=entry["page"])
            assert (entry["height"], entry["width"]) == img.shape[:2], name


def test_good_files_read_right(corpus, fakes, tmp_path):  # noqa: F811
    """The fake models read the page's words in every lossless format and pixel mode."""
    folder, expected = corpus
    _, images = run_folder([folder], tmp_path / "r.json")
    text = {(Path(e["file"]).relative_to(folder).as_posix(), e["page"]): e["text"]
            for e in images}
    same_page = [
        "page.png", "page.bmp", "page.tif", "page.webp", "page.gif", "page_lzw.tif",
        "UPPER.PNG", "Mixed.TiFf", "png_inside.jpg", "sub/deeper/nested.png",
        "folder_named.png/inside.png", "gray.png", "palette.png", "gray16.png", "gray16.tif",
        "float.tif", "link_to_page.png", "animated.gif", "animated.png", "animated.webp",
        "multipage_mixed.tif", "page.jpg", "exif_rotated.jpg", "cmyk.tif",
    ]
    for name in same_page:
        assert text[name, None if expected[name].pages == 1 else 1] == PAGE_TEXT, name
    for name in (n for n, e in expected.items() if e.alpha):
        assert text[name, None] == "b c d\ne f", name  # against black: one big blob
    assert [text["multipage.tif", n] for n in (1, 2, 3)] == [PAGE_TEXT, "f", "g h"]
    assert text["multipage_mixed.tif", 2] == PAGE_TEXT  # 16-bit second page
    assert text["bilevel.png", None] == "a a a\na a"  # every box black
    assert text["tall_1x5000.png", None] == text["wide_5000x1.png", None] == "c"


def test_transparent_images_are_composited_on_white(corpus):
    """Their background is transparent *black*: read against black the page would vanish."""
    folder, expected = corpus
    opaque = page_image(ALPHA_ROWS)
    alpha = [n for n, e in expected.items() if e.alpha]
    assert len(alpha) >= 9
    for name in alpha:
        img = load_image(folder / name)
        background = opaque.min(axis=2) == 255
        assert (img[background] == 255).all(), name
        assert np.abs(img.astype(int) - opaque).max() <= 1, name  # ink kept as drawn


def test_named_bad_files_are_entries_not_usage_errors(corpus, fakes, unreadable,  # noqa: F811
                                                      tmp_path):
    """A file the user names gets its entry whatever it is; only a path that is nothing at
    all is a usage error."""
    folder, expected = corpus
    names = ["broken_link.png", "fifo.png", UNREADABLE, "zero.gif", "readme.txt", "page.png"]
    result, images = run_folder([folder / n for n in names], tmp_path / "r.json")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert [Path(e["file"]).name for e in images] == names
    errors = {Path(e["file"]).name: e["error"] for e in images}
    assert errors["page.png"] is None
    assert "not an image: a text file" in errors["readme.txt"]
    for name in names[:4]:
        assert expected[name].error in errors[name], name

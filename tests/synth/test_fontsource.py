"""synth.fontsource: @fontsource npm packages -> one TrueType face per weight."""

import io
import json
import tarfile
from pathlib import Path

import pytest
from fontTools import subset
from fontTools.ttLib import TTFont

from synth.fonts import SCRIPT_SAMPLES, _scan
from synth.fontsource import build_fonts, build_package, main

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _woff2(text: str) -> bytes:
    """DejaVu Sans cut to the glyphs of ``text``, as woff2 (as fontsource ships a subset)."""
    font = TTFont(DEJAVU)
    opts = subset.Options()
    opts.flavor = "woff2"
    sub = subset.Subsetter(opts)
    sub.populate(text=text)
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff2"
    font.save(buf)
    return buf.getvalue()


def _package(folder: Path, font_id: str, subsets: dict[str, str], family: str = "Test Hand"
             ) -> Path:
    path = folder / f"fontsource-{font_id}-5.0.0.tgz"
    files = {"package/metadata.json": json.dumps(
        {"id": font_id, "family": family, "category": "handwriting",
         "license": {"type": "OFL-1.1"}}).encode()}
    for name, text in subsets.items():
        files[f"package/files/{font_id}-{name}-400-normal.woff2"] = _woff2(text)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packs")
    latin = SCRIPT_SAMPLES["latin"] + " .,"
    cyrillic = SCRIPT_SAMPLES["cyrillic"].replace("0123456789", "") + "ёЁ"
    _package(folder, "caveat", {"latin": latin, "cyrillic": cyrillic})
    _package(folder, "neucha", {"cyrillic": cyrillic})  # no Latin subset: refused
    _package(folder, "unlisted", {"latin": latin})  # not one of the families asked for
    return folder


def test_latin_and_cyrillic_subsets_become_one_face(packs, tmp_path):
    built = build_package(packs / "fontsource-caveat-5.0.0.tgz", tmp_path)
    assert [(b.family, b.weight, b.subsets, b.license) for b in built] == \
        [("Test Hand", 400, ("latin", "cyrillic"), "OFL-1.1")]
    font = TTFont(built[0].path)
    cmap = font.getBestCmap()
    for ch in "Hello Съешь ещё":
        assert ord(ch) in cmap, ch
    assert font["name"].getBestFamilyName() == "Test Hand"
    # fontconfig-free discovery reads the family we wrote
    assert [f for _, _, f in _scan((tmp_path,))] == ["Test Hand"]


def test_build_fonts_takes_only_the_listed_families_and_skips_a_bad_one(packs, tmp_path):
    built = build_fonts(packs, tmp_path, families=("caveat", "neucha", "pangolin"))
    assert [b.path.name for b in built] == ["caveat-400.ttf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["caveat-400.ttf"]


def test_no_package_of_any_family_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="npm pack"):
        build_fonts(tmp_path, tmp_path / "out")
    assert main([str(tmp_path)]) == 2  # usage

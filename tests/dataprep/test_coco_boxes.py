"""coco_boxes reads COCO detection files (Roboflow exports) from a git commit."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from dataprep.converters import CONVERTERS
from dataprep.errors import DataError
from dataprep.gitsource import GitSource

from .conftest import commit_files, git, png_bytes

COCO = {
    "categories": [{"id": 0, "name": "plates"}, {"id": 1, "name": "plate"},
                   {"id": 2, "name": "car"}],
    "images": [{"id": 7, "file_name": "a_jpg.rf.1.jpg"}, {"id": 8, "file_name": "b_jpg.rf.2.jpg"},
               {"id": 9, "file_name": "a_jpg.rf.3.jpg"}],
    "annotations": [{"image_id": 7, "category_id": 1, "bbox": [4, 5, 20, 8]},
                    {"image_id": 7, "category_id": 2, "bbox": [0, 0, 40, 18]},
                    {"image_id": 9, "category_id": 1, "bbox": [1, 1, 0, 3]}],
}


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "r"
    path.mkdir()
    git(path, "init", "-q")
    bad = {**COCO, "images": [{"id": 7, "file_name": "missing.jpg"}]}
    commit = commit_files(path, {
        "ds/train/_annotations.coco.json": json.dumps(COCO),
        "ds/train/a_jpg.rf.1.jpg": png_bytes(1), "ds/train/b_jpg.rf.2.jpg": png_bytes(2),
        "ds/train/a_jpg.rf.3.jpg": png_bytes(3),
        "bad/_annotations.coco.json": json.dumps(bad), "broken.json": "{\n\"images\": [",
    }, "data")
    with GitSource(path, commit) as src:
        yield src


def convert(source, skipped=None, **options):
    conv = CONVERTERS["coco_boxes"]
    return list(conv.items(source, conv.Options(**options), skipped if skipped is not None
                           else Counter()))


def test_every_image_is_a_page_with_its_kept_boxes(source):
    skipped = Counter()
    pages = convert(source, skipped, files=["ds/train/_annotations.coco.json"],
                    categories=["plate"], region="US", group=r"/([^/]*)_jpg\.rf")
    assert [p.image for p in pages] == ["ds/train/a_jpg.rf.1.jpg", "ds/train/b_jpg.rf.2.jpg",
                                        "ds/train/a_jpg.rf.3.jpg"]
    first, empty, degenerate = pages
    assert [r.polygon for r in first.regions] == [((4, 5), (24, 5), (24, 13), (4, 13))]
    assert first.regions[0].region == "US" and first.regions[0].category == "plate"
    assert empty.regions == () and degenerate.regions == ()
    assert first.group == degenerate.group == "a" and empty.group == "b"
    assert skipped == Counter({"other category": 1, "empty box": 1})


def test_all_categories_by_default(source):
    first = convert(source, files=["ds/train/_annotations.coco.json"])[0]
    assert len(first.regions) == 2


def test_missing_image_and_malformed_json_name_the_file(source):
    with pytest.raises(DataError, match=r"bad/_annotations\.coco\.json: names missing\.jpg"):
        convert(source, files=["bad/_annotations.coco.json"])
    with pytest.raises(DataError, match=r"broken\.json:\d+: malformed JSON"):
        convert(source, files=["broken.json"])
    with pytest.raises(DataError, match="no such file"):
        convert(source, files=["nope.json"])

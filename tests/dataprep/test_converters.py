"""Converters read PAGE XML lines/words, VOC boxes and CSV box tables from a git commit."""

from __future__ import annotations

from collections import Counter

import pytest

from dataprep.converters import CONVERTERS
from dataprep.converters.base import group_key
from dataprep.errors import DataError
from dataprep.gitsource import GitSource

from .conftest import commit_files, git, png_bytes

PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15">
 <Page imageFilename="L_1_001.jpg" imageWidth="48" imageHeight="20"><TextRegion id="r1">
  <TextLine id="l1"><Coords points="1,1 40,1 40,9 1,9"/>
   <Word id="w1"><Coords points="1,1 20,1 20,9 1,9"/>
    <TextEquiv><Unicode>Dear</Unicode></TextEquiv></Word>
   <TextEquiv><Unicode>Dear  Sir</Unicode></TextEquiv></TextLine>
 </TextRegion></Page>
</PcGts>
"""

VOC = """<annotation><filename>car.png</filename><object><name>plate</name>
<bndbox><xmin>5</xmin><ymin>6</ymin><xmax>30.5</xmax><ymax>15</ymax></bndbox></object>
</annotation>"""

VOC_CARS = """<annotation><object><name>car</name><bndbox><xmin>1</xmin><ymin>1</ymin>
<xmax>40</xmax><ymax>30</ymax></bndbox></object><object><name> plate </name><bndbox>
<xmin>5</xmin><ymin>6</ymin><xmax>20</xmax><ymax>10</ymax></bndbox></object></annotation>"""


def make_repo(path, files: dict[str, bytes | str]) -> tuple:
    """A git repository at ``path`` holding ``files`` in one commit: ``(path, commit)``."""
    path.mkdir()
    git(path, "init", "-q")
    return path, commit_files(path, files, "data")


@pytest.fixture
def repo(tmp_path):
    path, commit = make_repo(tmp_path / "r", {
        "L_1_001.jpg": png_bytes(1), "L_1_001.xml": PAGE,
        "cars/ann/vid.mp4#t=125.xml": VOC, "cars/images/vid.mp4#t=125.jpg": png_bytes(2),
        "boxes.csv": "img_id,ymin,xmin,ymax,xmax\np.jpg,2,3,10,20\np.jpg,1,1,4,4\n",
        "p.jpg": png_bytes(3), "ru/ann/1.xml": VOC_CARS, "ru/images/1.jpg": png_bytes(4),
        "bad.xml": "<annotation><object>\n<bndbox>\n</annotation>",
    })
    with GitSource(path, commit) as source:
        yield source


def convert(source, name, **options):
    conv = CONVERTERS[name]
    return list(conv.items(source, conv.Options(**options), Counter()))


def test_page_xml_lines_and_words(repo):
    (page,) = convert(repo, "page_xml_lines", pattern="L_*.xml", group=r"(L_\d+)_\d+\.jpg$")
    assert page.image == "L_1_001.jpg" and page.group == "L_1"
    assert [(r.category, r.text) for r in page.regions] == [("line", "Dear Sir"),
                                                            ("word", "Dear")]


def test_voc_boxes_with_video_minute_key(repo):
    (page,) = convert(repo, "voc_boxes", under="cars/ann", images="{parent}/images",
                      group=r"([^/]*\.mp4)#t=(\d+)", group_every=60)
    assert page.image == "cars/images/vid.mp4#t=125.jpg" and page.group == "vid.mp4@2"
    assert page.regions[0].polygon[2] == (30.5, 15.0)


def test_voc_boxes_keep_only_the_named_objects(repo):
    conv = CONVERTERS["voc_boxes"]
    skipped: Counter[str] = Counter()
    (page,) = conv.items(repo, conv.Options(under="ru/ann", images="{parent}/images",
                                            names=["plate"], region="ru"), skipped)
    assert [(r.category, r.polygon[0], r.polygon[2]) for r in page.regions] == [
        ("plate", (5.0, 6.0), (20.0, 10.0))]
    assert skipped == Counter({"object of another name": 1})
    (every,) = convert(repo, "voc_boxes", under="ru/ann", images="{parent}/images")
    assert len(every.regions) == 2


def test_csv_boxes_group_rows_by_image(repo):
    (page,) = convert(repo, "table_boxes", labels="boxes.csv", images="",
                      columns={"image": "img_id", "x1": "xmin", "y1": "ymin", "x2": "xmax",
                               "y2": "ymax"})
    assert page.image == "p.jpg" and len(page.regions) == 2


def test_malformed_xml_names_file_and_line(repo):
    with pytest.raises(DataError, match=r"bad\.xml:\d+: malformed XML"):
        convert(repo, "voc_boxes", pattern="bad.xml", images="")


def test_group_key_defaults_to_the_path():
    assert group_key("a/b.png", None) == "a/b.png"
    assert group_key("a/b.png", "folder") == "a"


def test_paired_text_crops_join_lines_and_replace_letters(tmp_path):
    path, commit = make_repo(tmp_path / "p", {
        "d/img/1_2_3.jpg": png_bytes(1), "d/txt/1_2_3.txt": "iз питербурха\nрѣля 1712\n",
        "d/img/1_2_4.jpg": png_bytes(2), "d/txt/1_2_4.txt": "  \n",
        "d/img/7_1_1.jpg": png_bytes(3), "d/img/notes.md": "not an image",
    })
    conv = CONVERTERS["paired_text_crops"]
    skipped: Counter[str] = Counter()
    with GitSource(path, commit) as source:
        options = conv.Options(images="d/img", texts="d/txt", replace={"ѣ": "е", "i": "и"},
                               group=r"/(\d+)_\d+_\d+\.jpg$")
        crops = list(conv.items(source, options, skipped))
    assert [(c.image, c.text, c.group) for c in crops] == [
        ("d/img/1_2_3.jpg", "из питербурха реля 1712", "1")]
    assert skipped == Counter({"empty or unreadable label": 1, "image without transcription": 1})
    with pytest.raises(ValueError, match="single characters"):
        conv.Options(images="d/img", texts="d/txt", replace={"ѣя": "е"})


def test_paired_text_crops_read_several_folder_pairs_in_order(tmp_path):
    path, commit = make_repo(tmp_path / "p", {
        "svt/IMG/1.jpg": png_bytes(1), "svt/label/1.txt": "Shell\n",
        "cute/IMG/1.jpg": png_bytes(2), "cute/label/1.txt": "eBizu\n",
        "cute/IMG/2.jpg": png_bytes(3),
    })
    conv = CONVERTERS["paired_text_crops"]
    skipped: Counter[str] = Counter()
    with GitSource(path, commit) as source:
        options = conv.Options(images=["svt/IMG", "cute/IMG"], texts=["svt/label", "cute/label"])
        crops = list(conv.items(source, options, skipped))
    assert [(c.image, c.text) for c in crops] == [("svt/IMG/1.jpg", "Shell"),
                                                  ("cute/IMG/1.jpg", "eBizu")]
    assert skipped == Counter({"image without transcription": 1})
    for images, texts in ((["a", "b"], ["a"]), (["a"], "a"), ([], [])):
        with pytest.raises(ValueError, match="images"):
            conv.Options(images=images, texts=texts)


def test_icdar03_words_read_boxes_text_and_turns(tmp_path):
    xml = """<?xml version="1.0" encoding="ISO-8859-1"?>
<tagset>
  <image><imageName>a/IMG_1.JPG</imageName><taggedRectangles>
    <taggedRectangle x="10.0" y="20.0" width="30.0" height="10.0" rotation="0.0">
      <tag>self</tag></taggedRectangle>
    <taggedRectangle x="0" y="0" width="20" height="10" rotation="90"><tag></tag>
    </taggedRectangle>
    <taggedRectangle x="5" y="5" width="0" height="10"><tag>flat</tag></taggedRectangle>
  </taggedRectangles></image>
  <image><imageName>a/IMG_2.JPG</imageName><taggedRectangles/></image>
</tagset>"""
    path, commit = make_repo(tmp_path / "ic03", {
        "T/words.xml": xml, "T/a/IMG_1.JPG": png_bytes(1), "T/a/IMG_2.JPG": png_bytes(2),
        "T/a/IMG_3.JPG": png_bytes(3),
    })
    conv = CONVERTERS["icdar03_words"]
    skipped: Counter[str] = Counter()
    with GitSource(path, commit) as source:
        pages = list(conv.items(source, conv.Options(labels="T/words.xml", images="T"),
                                skipped))
    assert [p.image for p in pages] == ["T/a/IMG_1.JPG", "T/a/IMG_2.JPG"]
    first, turned = pages[0].regions
    assert (first.category, first.text) == ("word", "self")
    assert first.polygon == ((10.0, 20.0), (40.0, 20.0), (40.0, 30.0), (10.0, 30.0))
    assert turned.category == "ignore"   # no text: a box for the detector, nothing to read
    xs, ys = [p[0] for p in turned.polygon], [p[1] for p in turned.polygon]
    assert (min(xs), max(xs), min(ys), max(ys)) == pytest.approx((5, 15, -5, 15))
    assert pages[1].regions == ()
    assert skipped == Counter({"empty box": 1})
    bad = xml.replace("a/IMG_2.JPG", "a/IMG_9.JPG")
    path, commit = make_repo(tmp_path / "bad", {"T/words.xml": bad,
                                               "T/a/IMG_1.JPG": png_bytes(1)})
    with GitSource(path, commit) as source, pytest.raises(DataError, match="IMG_9"):
        list(conv.items(source, conv.Options(labels="T/words.xml", images="T"), Counter()))


def test_icdar_quads_keep_commas_in_text_and_unreadable_words_as_ignore(tmp_path):
    path, commit = make_repo(tmp_path / "ic", {
        "Imgs/img_1.jpg": png_bytes(1), "Gts/gt_img_1.txt":
            "\ufeff1,2,30,2,30,12,1,12,Hello, world\n\n5,5,9,5,9,9,5,9,###\n"
            "3,3,3,3,3,3,3,3,dot\n",
        "Imgs/img_2.jpg": png_bytes(2),
        "Imgs/img_3.jpg": png_bytes(3), "Gts/gt_img_3.txt": "1,1,8,1,8,4,1,4,A\n",
    })
    conv = CONVERTERS["icdar_quads"]
    skipped: Counter[str] = Counter()
    with GitSource(path, commit) as source:
        pages = list(conv.items(source, conv.Options(images="Imgs", labels="Gts"), skipped))
    assert [p.image for p in pages] == ["Imgs/img_1.jpg", "Imgs/img_3.jpg"]
    first = pages[0].regions
    assert [(r.category, r.text) for r in first] == [("word", "Hello, world"), ("ignore", "")]
    assert first[0].polygon == ((1, 2), (30, 2), (30, 12), (1, 12))
    assert skipped == Counter({"image without ground truth": 1, "empty box": 1,
                               "unreadable word (kept as ignore)": 1})


def test_icdar_quads_bad_coordinate_names_file_and_line(tmp_path):
    path, commit = make_repo(tmp_path / "ic", {
        "Imgs/img_1.jpg": png_bytes(1),
        "Gts/gt_img_1.txt": "1,1,8,1,8,4,1,4,A\n1,x,8,1,8,4,1,4,B\n"})
    conv = CONVERTERS["icdar_quads"]
    with GitSource(path, commit) as source, pytest.raises(DataError, match=r"gt_img_1.txt.*2"):
        list(conv.items(source, conv.Options(images="Imgs", labels="Gts"), Counter()))


def test_icdar_word_list_unescapes_quotes(tmp_path):
    path, commit = make_repo(tmp_path / "wl", {
        "W/word_1.png": png_bytes(1), "W/word_2.png": png_bytes(2),
        "W/gt.txt": '\ufeffword_1.png, "Genaxis Theatre"\nword_2.png, "\\"SCAN\\", 2"\n',
    })
    conv = CONVERTERS["table_crops"]
    options = conv.Options(tables=[{"labels": "W/gt.txt", "images": "W", "format": "icdar"}])
    with GitSource(path, commit) as source:
        crops = list(conv.items(source, options, Counter()))
    assert [(c.image, c.text) for c in crops] == [("W/word_1.png", "Genaxis Theatre"),
                                                 ("W/word_2.png", '"SCAN", 2')]


def test_spaced_word_list_splits_at_first_space_and_groups_by_photo(tmp_path):
    path, commit = make_repo(tmp_path / "sp", {
        "train/10_1.png": png_bytes(1), "train/10_2.png": png_bytes(2),
        "train/7_1.png": png_bytes(3),
        "train.tags": "train/10_1.png Rescue\ntrain/10_2.png two words\n\ntrain/7_1.png 24h\n",
        "bad.tags": "train/7_1.png\n",
    })
    conv = CONVERTERS["table_crops"]
    options = conv.Options(tables=[{"labels": "train.tags", "images": "", "format": "spaced"}],
                           group=r"/(\d+)_")
    with GitSource(path, commit) as source:
        crops = list(conv.items(source, options, Counter()))
        assert [(c.image, c.text) for c in crops] == [
            ("train/10_1.png", "Rescue"), ("train/10_2.png", "two words"),
            ("train/7_1.png", "24h")]
        assert crops[0].group == crops[1].group != crops[2].group
        bad = conv.Options(tables=[{"labels": "bad.tags", "images": "", "format": "spaced"}])
        with pytest.raises(DataError, match=r"bad.tags.*1.*a space"):
            list(conv.items(source, bad, Counter()))


def test_icdar_quads_read_folder_pairs_with_suffix_and_fallback_encoding(tmp_path):
    path, commit = make_repo(tmp_path / "sr", {
        "a/images/001.jpg": png_bytes(1), "a/bbox/001.csv": "1,1,9,1,9,5,1,5,TOTAL 5.00\n",
        "b/images/002.jpg": png_bytes(2),
        "b/bbox/002.csv": "1,1,9,1,9,5,1,5,\xa31.20\n".encode("cp1252"),
    })
    conv = CONVERTERS["icdar_quads"]
    options = dict(images=["a/images", "b/images"], labels=["a/bbox", "b/bbox"], prefix="",
                   suffix=".csv", category="line")
    with GitSource(path, commit) as source:
        with pytest.raises(DataError, match=r"002\.csv: not UTF-8"):
            list(conv.items(source, conv.Options(**options), Counter()))
        pages = list(conv.items(source, conv.Options(**options, fallback_encoding="cp1252"),
                                Counter()))
    assert [(p.image, p.regions[0].category, p.regions[0].text) for p in pages] == [
        ("a/images/001.jpg", "line", "TOTAL 5.00"), ("b/images/002.jpg", "line", "£1.20")]
    with pytest.raises(ValueError, match="same length"):
        conv.Options(images=["a/images", "b/images"], labels=["a/bbox"])


def test_ccpd_names_give_the_plate_corners_and_text(tmp_path):
    name = ("025-95_113-154&383_386&473-386&473_177&454_154&383_363&402-0_0_22_27_27_33_16"
            "-37-15.jpg")
    path, commit = make_repo(tmp_path / "cc", {f"photos/{name}": png_bytes(1),
                                               "bad/not-a-ccpd-name.jpg": png_bytes(2)})
    conv = CONVERTERS["ccpd_names"]
    with GitSource(path, commit) as source:
        (page,) = list(conv.items(source, conv.Options(under=["photos"]), Counter()))
        with pytest.raises(DataError, match="not-a-ccpd-name.jpg"):
            list(conv.items(source, conv.Options(under=["bad"]), Counter()))
    (plate,) = page.regions
    assert (plate.category, plate.text, plate.region) == ("plate", "皖AY339S", "cn")
    assert plate.polygon == ((386, 473), (177, 454), (154, 383), (363, 402))


def test_voc_chars_read_a_plate_left_to_right(tmp_path):
    chars = "".join(f"<object><name>{c}</name><bndbox><xmin>{x}</xmin><ymin>1</ymin>"
                    f"<xmax>{x + 8}</xmax><ymax>20</ymax></bndbox></object>"
                    for c, x in (("7", 90), ("A", 10), ("1", 30), ("B", 50), ("7", 70)))
    path, commit = make_repo(tmp_path / "vc", {
        "p/annotations/00.xml": f"<annotation>{chars}</annotation>",
        "p/images/00.jpg": png_bytes(1),
        "p/annotations/01.xml": "<annotation><object><name>AB</name><bndbox><xmin>1</xmin>"
                                "<xmax>9</xmax></bndbox></object></annotation>",
        "p/images/01.jpg": png_bytes(2),
    })
    conv = CONVERTERS["voc_chars"]
    with GitSource(path, commit) as source:
        crops = list(conv.items(source, conv.Options(under="p/annotations", pattern="00.xml",
                                                     images="{parent}/images", region="ru"),
                                Counter()))
        with pytest.raises(DataError, match="01.xml.*not one character"):
            list(conv.items(source, conv.Options(under="p/annotations", pattern="01.xml",
                                                 images="{parent}/images"), Counter()))
    assert [(c.image, c.text, c.region) for c in crops] == [("p/images/00.jpg", "A1B77", "ru")]

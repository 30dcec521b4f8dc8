"""``pipeline data list | prepare`` on tiny fixture repositories made with ``git init``."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from dataprep.catalogue import DatasetEntry, load_catalogue
from dataprep.prepare import FORMAT_VERSION, fingerprint
from dataprep.reserved import DEFAULT_TOOL
from dataprep.split import split_of
from pipeline.cli import app
from recognition.datasets import read_dataset

from .conftest import CROPS_ENTRY, WORDS, commit_files, git, png_bytes, sha256

runner = CliRunner()

# A stand-in for ../shared/tools/reserved.py (exact copies only), so these tests do not need
# the shared folder; test_reserved_image_dropped_by_shared_tool uses the real one.
STAND_IN_TOOL = '''
import hashlib
from pathlib import Path

def load_reserved(path):
    shas = set()
    for line in Path(path).read_text().splitlines():
        if line and not line.startswith("#"):
            shas.add(line.split("\\t")[0])
    return shas, []

def is_reserved(path, reserved):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() in reserved[0]
'''


def reserved_tsv(path: Path, shas: list[str]) -> Path:
    """A reserved list in the shared TSV format: sha256, dhash256, aspect."""
    rows = [f"{s}\t{'0' * 64}\t99.0" for s in shas]
    path.write_text("# sha256\tdhash256\taspect\n" + "".join(r + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.fixture
def tool(tmp_path: Path) -> list[str]:
    script = tmp_path / "tool" / "reserved.py"
    script.parent.mkdir()
    script.write_text(STAND_IN_TOOL, encoding="utf-8")
    tsv = reserved_tsv(script.parent / "reserved_images.tsv", [])
    return ["--reserved-tool", str(script), "--reserved-list", str(tsv)]


def prepare(fx, name: str, out: Path, *extra: str, source: Path | None = None):
    return runner.invoke(app, ["data", "prepare", name, "--out", str(out), "--source",
                               str(source or fx.repo), "--catalogue", str(fx.catalogue),
                               "--no-progress", *extra])


def labels(folder: Path) -> list[list[str]]:
    return [line.split("\t") for line in
            (folder / "labels.tsv").read_text(encoding="utf-8").splitlines()]


def test_list_json_shows_the_catalogue(fixture_repo):
    result = runner.invoke(app, ["data", "list", "--json", "--catalogue",
                                 str(fixture_repo.catalogue)])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert set(rows) == {"pages", "words"}
    assert rows["words"]["commit"] == fixture_repo.commit
    assert rows["words"]["licence"] == "none stated"
    assert rows["words"]["kind"] == "handwritten_words" and rows["words"]["images"] == 12


def test_shipped_catalogue_is_valid():
    entries = load_catalogue()
    assert len(entries) >= 8
    for e in entries.values():
        assert len(e.commit) == 40 and e.licence


def test_prepare_crops_from_clone(fixture_repo, tmp_path, tool):
    out = tmp_path / "out"
    result = prepare(fixture_repo, "words", out, *tool)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "prepared.json").read_text())
    assert report["images"] == report["written"] == 12
    assert sum(report["samples"].values()) == 12
    texts = {}
    for split in ("train", "tune", "test"):
        for name, text in labels(out / split):
            assert (out / split / name).is_file()
            texts[text] = split
    assert sorted(texts) == sorted(WORDS)
    # the split is the stable hash of the source path
    for i, word in enumerate(WORDS):
        assert texts[word] == split_of(f"words/img/{i}.png")
    # the recognizer's reader takes the folder as it is
    assert len(read_dataset(out / "train", kind="crops")) == report["samples"]["train"]


def test_prepare_from_bare_repository_gives_the_same_output(fixture_repo, tmp_path, tool):
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(fixture_repo.repo), str(bare)],
                   check=True)
    a, b = tmp_path / "a", tmp_path / "b"
    assert prepare(fixture_repo, "words", a, *tool).exit_code == 0
    result = prepare(fixture_repo, "words", b, *tool, source=bare)
    assert result.exit_code == 0, result.output
    for split in ("train", "tune", "test"):
        assert labels(a / split) == labels(b / split)


def test_pages_split_by_writer_and_read_as_coco(fixture_repo, tmp_path, tool):
    out = tmp_path / "out"
    result = prepare(fixture_repo, "pages", out, *tool)
    assert result.exit_code == 0, result.output
    where = {}
    for split in ("train", "tune", "test"):
        data = json.loads((out / split / "annotations.json").read_text())
        assert [c["name"] for c in data["categories"]] == ["line"]
        for im in data["images"]:
            assert (out / split / "images" / im["file_name"]).is_file()
            where[im["source"]] = split
        texts = [a["attributes"]["translation"] for a in data["annotations"]]
        assert texts.count("mon testament") == len(data["images"])
    assert len(where) == 4
    for hand in ("hand1", "hand2"):
        splits = {s for src, s in where.items() if hand in src}
        assert splits == {split_of(hand)}  # both pages of a writer in one split
    lines = read_dataset(out / split_of("hand1"), kind="coco", categories=["line"])
    assert {s.text for s in lines} == {"Ceci est", "mon testament"}


def test_rerun_skips_finished_work(fixture_repo, tmp_path, tool):
    out = tmp_path / "out"
    assert prepare(fixture_repo, "words", out, *tool).exit_code == 0
    again = prepare(fixture_repo, "words", out, *tool)
    assert again.exit_code == 0 and "already prepared" in again.output
    # an interrupted run (no report yet) resumes from the journal without redoing images
    before = labels(out / "train")
    (out / "prepared.json").unlink()
    resumed = prepare(fixture_repo, "words", out, *tool)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((out / "prepared.json").read_text())["resumed"] == 12
    assert labels(out / "train") == before


def test_malformed_label_exits_2_naming_file_and_line(fixture_repo, tmp_path, tool):
    text = (fixture_repo.repo / "words/labels.txt").read_text().splitlines()
    text[2] = "2.png beta-without-a-tab"
    commit = commit_files(fixture_repo.repo, {"words/labels.txt": "\n".join(text) + "\n"},
                          "break a label")
    fixture_repo.write_entry("broken", "kind: handwritten_words\nimages: 12\n"
                             "converter: table_crops\noptions:\n  tables:\n"
                             "    - {labels: words/labels.txt, images: words/img}\n", commit)
    result = prepare(fixture_repo, "broken", tmp_path / "out", *tool)
    assert result.exit_code == 2
    assert "words/labels.txt:3" in result.output and "malformed label" in result.output


def test_wrong_commit_exits_2_naming_it(fixture_repo, tmp_path, tool):
    fixture_repo.write_entry("gone", "kind: handwritten_words\nimages: 1\n"
                             "converter: table_crops\noptions:\n  tables:\n"
                             "    - {labels: words/labels.txt, images: words/img}\n",
                             commit="0123456789" * 4)
    result = prepare(fixture_repo, "gone", tmp_path / "out", *tool)
    assert result.exit_code == 2
    assert "0123456789" * 4 in result.output


def test_corrupt_image_is_skipped_and_counted(fixture_repo, tmp_path, tool):
    broken = png_bytes(3)[:60]  # a truncated PNG
    commit_files(fixture_repo.repo, {"words/img/3.png": broken}, "truncate an image")
    fixture_repo.write_entry("words", "kind: handwritten_words\nimages: 12\n"
                             "converter: table_crops\noptions:\n  tables:\n"
                             "    - {labels: words/labels.txt, images: words/img}\n",
                             git(fixture_repo.repo, "rev-parse", "HEAD"))
    out = tmp_path / "out"
    result = prepare(fixture_repo, "words", out, *tool)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "prepared.json").read_text())
    assert report["bad_images"] == ["words/img/3.png"] and report["written"] == 11
    assert "bad images 1" in result.output


def test_reserved_image_dropped_with_stand_in_tool(fixture_repo, tmp_path, tool):
    tsv = reserved_tsv(tmp_path / "reserved.tsv",
                       [sha256(fixture_repo.images["words/img/5.png"])])
    out = tmp_path / "out"
    result = prepare(fixture_repo, "words", out, *tool[:2], "--reserved-list", str(tsv))
    assert result.exit_code == 0, result.output
    report = json.loads((out / "prepared.json").read_text())
    assert report["reserved_dropped"] == 1 and report["written"] == 11
    all_texts = [t for s in ("train", "tune", "test") for _, t in labels(out / s)]
    assert WORDS[5] not in all_texts
    assert not list(out.rglob("5.png*")) and not list(out.rglob("*__5.png"))


@pytest.mark.skipif(not DEFAULT_TOOL.is_file(), reason="../shared/tools/reserved.py not here")
def test_reserved_image_dropped_by_shared_tool(fixture_repo, tmp_path):
    tsv = reserved_tsv(tmp_path / "reserved.tsv",
                       [sha256(fixture_repo.images["words/img/7.png"])])
    out = tmp_path / "out"
    result = prepare(fixture_repo, "words", out, "--reserved-list", str(tsv))
    assert result.exit_code == 0, result.output
    assert "reserved dropped 1" in result.output
    assert json.loads((out / "prepared.json").read_text())["reserved_dropped"] == 1


def test_missing_reserved_tool_exits_2_unless_waived(fixture_repo, tmp_path):
    missing = ["--reserved-tool", str(tmp_path / "nowhere" / "reserved.py")]
    result = prepare(fixture_repo, "words", tmp_path / "out", *missing)
    assert result.exit_code == 2 and "reserved-images tool not found" in result.output
    waived = prepare(fixture_repo, "words", tmp_path / "out", *missing, "--no-reserved-check")
    assert waived.exit_code == 0, waived.output
    assert "WARNING: --no-reserved-check" in waived.output


def test_forbidden_repository_is_refused(fixture_repo, tmp_path):
    path = fixture_repo.write_entry("words", "kind: plate_crops\nimages: 1\n"
                                    "converter: table_crops\noptions:\n  tables:\n"
                                    "    - {labels: a.txt, images: b}\n")
    path.write_text(path.read_text().replace("example/words", "sirius-ai/LPRNet_Pytorch"))
    result = runner.invoke(app, ["data", "list", "--catalogue", str(fixture_repo.catalogue)])
    assert result.exit_code == 2
    assert "words.yaml" in result.output and "repo" in result.output


# --- evaluation-only sets (the rules forbid training on every SROIE mirror) -----------------

def _eval_only_entry(fx, name: str, base: str) -> None:
    """``name``: the fixture entry ``base`` (words or pages) marked evaluation only."""
    body = (fx.catalogue / f"{base}.yaml").read_text(encoding="utf-8").split("licence: ", 1)[1]
    fx.write_entry(name, body.split("\n", 1)[1] + "evaluation_only: true\n")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_sroie_mirror_without_evaluation_only_is_refused(fixture_repo):
    fixture_repo.write_entry("sroie_words", CROPS_ENTRY)  # repo example/sroie_words
    result = runner.invoke(app, ["data", "list", "--catalogue", str(fixture_repo.catalogue)])
    assert result.exit_code == 2
    for needed in ("sroie_words.yaml", "example/sroie_words", "SROIE mirror",
                   "evaluation_only: true"):
        assert needed in result.output
    # any spelling of the name in owner/name; evaluation_only: true makes it valid
    data = {"name": "x", "title": "t", "repo": "Someone/ICDAR-2019-SRoIE-copy",
            "commit": "0" * 40, "licence": "none stated", "kind": "receipts", "images": 1,
            "converter": "table_crops", "options": {}}
    with pytest.raises(ValidationError, match="Someone/ICDAR-2019-SRoIE-copy"):
        DatasetEntry.model_validate(data)
    assert DatasetEntry.model_validate({**data, "evaluation_only": True}).evaluation_only
    assert not DatasetEntry.model_validate({**data, "repo": "a/receipts"}).evaluation_only


def test_shipped_sroie_receipts_is_evaluation_only():
    entries = load_catalogue()
    assert entries["sroie_receipts"].evaluation_only
    assert "Not a copy of the held-out" not in entries["sroie_receipts"].notes
    assert not entries["icdar15_scene_words"].evaluation_only


@pytest.mark.parametrize("base", ["words", "pages"])
def test_evaluation_only_writes_the_same_tune_and_test_and_no_train(fixture_repo, tmp_path,
                                                                    tool, base):
    _eval_only_entry(fixture_repo, "sroie_" + base, base)
    normal, held = tmp_path / "normal", tmp_path / "held"
    assert prepare(fixture_repo, base, normal, *tool).exit_code == 0
    result = prepare(fixture_repo, "sroie_" + base, held, *tool)
    assert result.exit_code == 0, result.output
    full = json.loads((normal / "prepared.json").read_text())
    report = json.loads((held / "prepared.json").read_text())
    assert full["samples"]["train"] > 0  # the fixture has a train part to leave out
    assert not (held / "train").exists()
    for split in ("tune", "test"):
        assert _files(held / split) == _files(normal / split)  # byte for byte
        assert report["samples"][split] == full["samples"][split]
    assert "train" not in report["samples"]
    assert report["evaluation_only"] is True and full["evaluation_only"] is False
    assert report["train_not_written"] == full["samples"]["train"]
    assert report["images"] == full["images"]
    assert report["written"] == full["written"] - full["samples"]["train"]
    assert (f"evaluation only: {full['samples']['train']} train-part images not written"
            in result.output)
    assert "evaluation only" not in prepare(fixture_repo, base, normal, *tool).output
    # a rerun finds the set finished and still writes no train part
    again = prepare(fixture_repo, "sroie_" + base, held, *tool)
    assert again.exit_code == 0 and "already prepared" in again.output
    assert not (held / "train").exists()


def test_stale_train_part_is_removed(fixture_repo, tmp_path, tool):
    out = tmp_path / "out"
    # prepared before the entry was marked evaluation only: a train part is there
    fixture_repo.write_entry("receipts", CROPS_ENTRY)
    assert prepare(fixture_repo, "receipts", out, *tool).exit_code == 0
    assert labels(out / "train")
    tune_before = _files(out / "tune")
    _eval_only_entry(fixture_repo, "receipts", "words")
    result = prepare(fixture_repo, "receipts", out, *tool)
    assert result.exit_code == 0, result.output
    assert not (out / "train").exists()
    assert "removed the train part" in result.output
    assert _files(out / "tune") == tune_before
    report = json.loads((out / "prepared.json").read_text())
    assert report["stale_train_removed"] is True and report["train_not_written"] == 9
    # a finished evaluation-only set with a train folder put back: removed on the next run
    (out / "train" / "images").mkdir(parents=True)
    (out / "train" / "labels.tsv").write_text("images/x.png\tx\n", encoding="utf-8")
    (out / "train_lines").mkdir()  # made from the old train part by another command
    again = prepare(fixture_repo, "receipts", out, *tool)
    assert again.exit_code == 0 and "already prepared" in again.output
    assert "removed the train part" in again.output
    assert not (out / "train").exists()
    assert "still holds train_lines" in again.output and (out / "train_lines").is_dir()


def test_list_shows_evaluation_only(fixture_repo):
    _eval_only_entry(fixture_repo, "sroie_words", "words")
    cat = ["--catalogue", str(fixture_repo.catalogue)]
    result = runner.invoke(app, ["data", "list", "--json", *cat])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["sroie_words"]["evaluation_only"] is True
    assert rows["words"]["evaluation_only"] is False
    table = runner.invoke(app, ["data", "list", *cat])
    assert table.exit_code == 0, table.output
    lines = {line.split()[0]: line.split() for line in table.output.splitlines()}
    assert "eval only" in table.output.splitlines()[0]
    assert lines["sroie_words"][5] == "yes" and lines["words"][5] == "no"


def test_fingerprint_of_a_set_without_the_flag_is_unchanged(fixture_repo):
    # sets prepared before evaluation_only existed must not be prepared again
    entry = load_catalogue(fixture_repo.catalogue)["words"]
    old = json.dumps([entry.model_dump(exclude={"evaluation_only"}), FORMAT_VERSION, "r"],
                     sort_keys=True, ensure_ascii=False)
    assert fingerprint(entry, "r") == hashlib.sha1(old.encode("utf-8")).hexdigest()
    flagged = entry.model_copy(update={"evaluation_only": True})
    assert fingerprint(flagged, "r") != fingerprint(entry, "r")

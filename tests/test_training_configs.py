"""Training configs say what they are, and a fine-tune names the exact file it starts from.

configs/detection and configs/recognition hold the shipped recipes (the last stage of each
shipped model), the full-size competition recipes and candidates still training (whose status
says so and names the file they would replace); earlier stages, tried experiments and
withdrawn stages (shipped once, then taken back: their status says when and why) live in
history/. Every file's first line is its status. A config whose weights name a start
file pins that file's SHA-256 (init_sha256), and when the file is an earlier shipped version
its header says how to get it from git, which this test checks against the pinned hash.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.config import load_config
from core.paths import CONFIGS_DIR, PROJECT_ROOT
from detection.config import DetectorTrainConfig
from recognition.config import RecognizerTrainConfig

STAGES = {"detection": DetectorTrainConfig, "recognition": RecognizerTrainConfig}
CONFIGS = sorted(p for stage in STAGES for p in (CONFIGS_DIR / stage).rglob("*.yaml"))
SHIPPED = {"documents_detector.pt", "documents_recognizer.pt", "documents_crnn.pt",
           "plates_detector.pt", "plates_recognizer.pt", "handwriting_recognizer.pt",
           "scene_recognizer.pt", "scene_detector.pt", "plates_two_row_recognizer.pt",
           "receipts_detector.pt"}
# Fine-tunes whose start file was never kept (not in git, not on disk), so no hash can be
# pinned; each says so in its header ("Start not pinned") and sets init_sha256: null.
NOT_KEPT = {
    "recognition/history/documents_joint_gpu_ft.yaml": "stage-1 float16 export, GPU machine",
    "recognition/history/documents_joint_natural2.yaml": "stage-3 best.pt, never shipped",
    "recognition/history/documents_joint_quotes.yaml": "float32 stage-4 best.pt",
    "recognition/history/documents_joint_typeset.yaml": "float32 stage-4 best.pt",
}
GIT_SHOW = re.compile(r"^#\s+git show (\w+):(data/models/[\w.]+) > (\S+)\s*$")


def _rel(path: Path) -> str:
    return str(path.relative_to(CONFIGS_DIR))


def _load(path: Path):
    return load_config(path, STAGES[_rel(path).split("/")[0]])


def _weights(cfg) -> Path | None:
    model = cfg.model if isinstance(cfg, DetectorTrainConfig) else cfg.recognizer
    return model.weights


def _status(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# status: "), f"{_rel(path)}: first line is not '# status: ...'"
    return first.removeprefix("# status: ")


@pytest.mark.parametrize("path", CONFIGS, ids=_rel)
def test_status_line_matches_the_folder(path):
    status = _status(path)
    if path.parent.name == "history":
        assert re.match(r"(replaced by \w+\.yaml: stage \d+ .*of data/models/\w+\.pt\b"
                        r"|tried, not shipped\b.*: .*\d"
                        r"|withdrawn: stage \d+ of .*\d{4}-\d\d-\d\d.*: .*)", status), status
    else:
        assert re.match(r"(shipped as data/models/\w+\.pt \(stage (\d+) of \2\b"
                        r"|full-size competition recipe"
                        r"|candidate for data/models/\w+\.pt, not shipped: .*)", status), status


@pytest.mark.parametrize("path", [p for p in CONFIGS if p.parent.name == "history"], ids=_rel)
def test_a_replaced_stage_names_its_successor_and_model(path):
    m = re.match(r"replaced by (\w+\.yaml): stage \d+ .*of data/models/(\w+\.pt)",
                 _status(path))
    if m is None:
        return  # a tried experiment
    successor, model = m.groups()
    stage_dir = path.parent.parent
    found = [p for p in (stage_dir / successor, stage_dir / "history" / successor) if p.is_file()]
    assert len(found) == 1, f"{_rel(path)}: {successor} not in {_rel(stage_dir)}(/history)"
    assert model in SHIPPED
    assert model in _status(found[0])  # the successor is a stage of the same model


def test_each_shipped_model_has_one_top_level_recipe():
    named = [m.group(1) for p in CONFIGS if p.parent.name != "history"
             if (m := re.match(r"shipped as data/models/(\w+\.pt)", _status(p)))]
    assert sorted(named) == sorted(SHIPPED)


@pytest.mark.parametrize("path", CONFIGS, ids=_rel)
def test_fine_tune_pins_its_start(path):
    cfg = _load(path)
    weights = _weights(cfg)
    if weights is None:
        assert cfg.init_sha256 is None, "init_sha256 without weights to check it against"
        assert _rel(path) not in NOT_KEPT
        return
    if _rel(path) in NOT_KEPT:
        assert cfg.init_sha256 is None
        assert "# Start not pinned" in path.read_text(encoding="utf-8")
        return
    assert cfg.init_sha256, f"{_rel(path)} starts from {weights} but pins no init_sha256"
    on_disk = PROJECT_ROOT / weights
    if on_disk.is_file():
        assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == cfg.init_sha256


def _git_blob(commit: str, path: str) -> bytes:
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(["git", "cat-file", "blob", f"{commit}:{path}"], cwd=PROJECT_ROOT,
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"{commit} not in this clone (shallow?): {done.stderr.decode().strip()}")
    return done.stdout


PINNED_FROM_GIT = [p for p in CONFIGS
                   if any(GIT_SHOW.match(line) for line in p.read_text().splitlines())]


def test_git_pinned_configs_are_found():
    assert len(PINNED_FROM_GIT) >= 14


@pytest.mark.parametrize("path", PINNED_FROM_GIT, ids=_rel)
def test_header_git_show_gives_the_pinned_file(path):
    cfg = _load(path)
    commands = [m for line in path.read_text().splitlines() if (m := GIT_SHOW.match(line))]
    own = [m for m in commands if Path(m.group(3)) == _weights(cfg)]
    assert len(own) == 1, f"{_rel(path)}: no 'git show COMMIT:FILE > {_weights(cfg)}' line"
    commit, src, _ = own[0].groups()
    assert hashlib.sha256(_git_blob(commit, src)).hexdigest() == cfg.init_sha256

import logging
import random

import numpy as np
import pytest
import torch

from core.device import select_device
from core.logs import setup_logging
from core.paths import PROJECT_ROOT, resolve_path
from core.seeding import rng_state, seed_everything, set_rng_state


def test_auto_device_matches_cuda_availability():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert select_device("auto").type == expected
    assert select_device("cpu").type == "cpu"


def test_bad_device_names():
    with pytest.raises(ValueError, match="unknown device"):
        select_device("tpu-ish")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            select_device("cuda")


def draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_seed_everything_is_reproducible():
    seed_everything(123)
    a = draw()
    seed_everything(123)
    assert draw() == a
    seed_everything(124)
    assert draw() != a


def test_rng_state_roundtrip():
    seed_everything(5)
    state = rng_state()
    a = draw()
    set_rng_state(state)
    assert draw() == a


def test_logging_to_file(tmp_path):
    log_file = tmp_path / "logs" / "run.log"
    setup_logging("INFO", log_file)
    setup_logging("INFO", log_file)  # again: no duplicated handlers
    logging.getLogger("test").info("hello %d", 42)
    for h in logging.getLogger().handlers:
        h.flush()
    assert log_file.read_text().count("hello 42") == 1


def test_resolve_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here.txt").write_text("x")
    assert resolve_path("here.txt") == tmp_path.joinpath("here.txt").relative_to(tmp_path)
    assert resolve_path("configs/pipeline") == PROJECT_ROOT / "configs" / "pipeline"
    assert resolve_path(tmp_path) == tmp_path

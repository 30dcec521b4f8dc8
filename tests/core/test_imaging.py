import numpy as np

from core.imaging import true_runs


def test_true_runs_gives_each_run_start_and_end():
    mask = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    assert true_runs(mask).tolist() == [[0, 2], [4, 5], [6, 9]]
    assert true_runs(~mask).tolist() == [[2, 4], [5, 6]]
    assert true_runs(np.zeros(5, bool)).shape == (0, 2)
    assert true_runs(np.ones(3, bool)).tolist() == [[0, 3]]

"""`python -m models.toy`: report 003's decision-boundary experiments from the command line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from models import toy

ROOT = Path(__file__).resolve().parents[2]


def test_data_are_scikit_learns_make_moons_and_make_blobs():
    from sklearn.datasets import make_blobs, make_moons
    X, y = toy.make_data("moons", 200, noise=0.2, seed=0)
    X_ref, y_ref = make_moons(200, noise=0.2, random_state=0)
    assert np.array_equal(X, X_ref) and np.array_equal(y, y_ref)
    X, y = toy.make_data("blobs", 200, centers=2, cluster_std=1.0, seed=0)
    X_ref, y_ref = make_blobs(200, centers=2, cluster_std=1.0, random_state=0)
    assert np.array_equal(X, X_ref) and np.array_equal(y, y_ref)


def test_one_step_is_report_003s_update_on_the_summed_loss():
    """θ ← θ − ε(∂ΣCE/∂θ + λW), with the gradients derived by hand (no tape)."""
    X, y = toy.make_data("moons", 40, seed=1)
    eps, lam = 0.01, 0.01
    from models.nn import MLP
    start = MLP([2, 5, 2], "tanh", "lecun", seed=3, dtype=np.float64).state_dict()
    model, _, _ = toy.train(X, y, hidden=5, depth=1, activation="tanh", steps=1, lr=eps,
                            l2=lam, init="lecun", seed=3)
    W1, b1, W2, b2 = (start[k] for k in ("W1", "b1", "W2", "b2"))
    H = np.tanh(X @ W1 + b1)
    S = H @ W2 + b2
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    delta2 = P - np.eye(2)[y]                       # ∂ΣCE/∂S: not divided by N
    delta1 = (delta2 @ W2.T) * (1 - H ** 2)
    expected = {"W1": W1 - eps * (X.T @ delta1 + lam * W1), "b1": b1 - eps * delta1.sum(0),
                "W2": W2 - eps * (H.T @ delta2 + lam * W2), "b2": b2 - eps * delta2.sum(0)}
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-10, atol=1e-12)


def test_report_defaults_separate_the_moons():
    X, y = toy.make_data("moons")
    _, loss, acc = toy.train(X, y, hidden=5, depth=1, activation="tanh", steps=1500)
    assert acc >= 0.95 and loss < 0.15


def test_command_trains_every_combination_and_draws_the_labelled_grid(tmp_path, capsys):
    out = tmp_path / "grid"
    assert toy.main(["--dataset", "blobs", "--activation", "tanh", "relu", "--hidden", "3", "5",
                     "--depth", "1", "2", "--steps", "30", "--out", str(out),
                     "--no-progress"]) == 0
    printed = capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())["results"]
    assert [(r["activation"], r["depth"], r["hidden"]) for r in results] == [
        (a, d, h) for a in ("tanh", "relu") for d in (1, 2) for h in (3, 5)]
    assert printed.count("\n") >= 2 + 8 + 1 and "make_blobs(200, centers=2" in printed
    for name, min_height in (("data.png", 300), ("boundaries.png", 1000)):
        assert matplotlib.image.imread(out / name).shape[0] > min_height
    assert sorted(p.name for p in out.iterdir()) == ["boundaries.png", "data.png",
                                                      "results.json"]   # no temp files left


def test_grid_rows_and_columns_are_labelled():
    from viz.plots import plot_decision_boundary_grid
    X, y = toy.make_data("moons", 40)
    rule = lambda P: (P[:, 1] < 0.25).astype(int)          # noqa: E731
    fig = plot_decision_boundary_grid([("a", rule)] * 4, X, y, ncols=2,
                                      row_labels=["tanh", "relu"], col_labels=["3 hidden",
                                                                              "5 hidden"])
    axes = fig.axes
    assert axes[0].get_title().startswith("3 hidden") and axes[1].get_title().startswith("5 hidden")
    assert axes[0].get_ylabel().startswith("tanh") and axes[2].get_ylabel().startswith("relu")
    with pytest.raises(ValueError, match="3 row labels for 2 rows"):
        plot_decision_boundary_grid([("a", rule)] * 4, X, y, ncols=2, row_labels=["a"] * 3)


@pytest.mark.parametrize("flags, message", [
    (["--dataset", "circles"], "--dataset"),
    (["--hidden", "0"], "--hidden values must be at least 1"),
    (["--depth", "2", "-1"], "--depth values must be at least 1"),
    (["--activation", "tanh", "swish"], "--activation: unknown swish"),
    (["--lr", "-1"], "--lr must be positive"),
    (["--steps", "x"], "--steps"),
])
def test_bad_input_is_one_line_and_exit_2(flags, message):
    result = subprocess.run([sys.executable, "-m", "models.toy", *flags], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ,
                                                                 "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_every_flag_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for action in toy.parser()._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert flag in readme, flag

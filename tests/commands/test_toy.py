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
    (["--lr", "-1"], "--lr must be a positive finite number, got -1.0"),
    (["--steps", "x"], "--steps"),
    # every numeric flag has a range: beyond it a run takes hours or all the memory
    (["--samples", "100000000"], "--samples must be between 4 and 100,000"),
    (["--samples", "3"], "--samples must be between 4 and 100,000"),
    (["--depth", "100000"], "--depth values must be at most 20, got 100,000"),
    (["--hidden", "5", "100000"], "--hidden values must be at most 1,000"),
    (["--steps", "100000000"], "--steps must be between 1 and 1,000,000"),
    (["--dataset", "blobs", "--centers", "1000"], "--centers must be between 2 and 20"),
    (["--hidden", *map(str, range(1, 12)), "--depth", *map(str, range(1, 11))],
     "110 networks (activations × depths × widths) is more than 100"),
    (["--seed", "-1"], "--seed must be an integer between 0 and 2³² − 1, got -1"),
    (["--data-seed", "-1"], "--data-seed must be an integer between 0 and 2³² − 1"),
    (["--data-seed", str(2 ** 32)], "--data-seed must be an integer between 0 and 2³² − 1"),
    (["--lr", "inf"], "--lr must be a positive finite number, got inf"),
    (["--lr", "nan"], "--lr must be a positive finite number, got nan"),
    (["--l2", "inf"], "--l2 must be a non-negative finite number"),
    (["--noise", "inf"], "--noise must be a non-negative finite number"),
    (["--cluster-std", "nan"], "--cluster-std must be a positive finite number"),
    (["--weight-scale", "inf"], "--weight-scale must be a positive finite number"),
])
def test_bad_input_is_one_line_and_exit_2(flags, message):
    result = subprocess.run([sys.executable, "-m", "models.toy", *flags], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,   # unbounded: fails
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_every_flag_is_in_docs_toy():
    readme = (ROOT / "docs" / "toy.md").read_text()
    for action in toy.parser()._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert flag in readme, flag


def test_a_diverging_network_stops_with_the_divergence_message_and_exit_1(tmp_path):
    """lr 1e6: the loss explodes in the first steps. As models.twolayer, the command
    says so, blames the likely cause and exits with 1; the outputs are still written."""
    def toy_run(*flags):
        out = tmp_path / "-".join(flags)
        result = subprocess.run([sys.executable, "-m", "models.toy", "--hidden", "3", "5",
                                 "--steps", "30", "--no-progress", "--out", str(out), *flags],
                                cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert result.returncode == 1, result.stderr
        assert (out / "boundaries.png").is_file() and (out / "results.json").is_file()
        line, = result.stderr.splitlines()
        assert line.startswith("training diverged: the loss of 2 of 2 networks became NaN, "
                               "inf or more than 10·ln K (tanh depth 1 hidden 3, tanh depth "
                               "1 hidden 5); ")
        return line

    assert toy_run("--lr", "1e6").endswith(
        "the L2 strength is too large for this learning rate: lr·l2 = 1e+06·0.01 ≥ 1, so "
        "the decay term alone overshoots zero; make lr·l2 < 1 with a smaller --l2 or --lr")
    assert toy_run("--lr", "1e6", "--l2", "0").endswith(
        "the learning rate 1e+06 is probably too large: try a smaller --lr (e.g. 100000)")
    assert toy_run("--lr", "50").endswith("the learning rate 50 is probably too large: try "
                                          "a smaller --lr (e.g. 5)")


def test_a_diverging_network_stops_at_its_first_exploded_loss():
    X, y = toy.make_data("moons", 40)
    model, loss, _ = toy.train(X, y, hidden=3, depth=1, activation="tanh", steps=10_000,
                               lr=1e6, l2=0)
    assert toy.exploded(loss, 2)
    stopped = toy.train(X, y, hidden=3, depth=1, activation="tanh", steps=100, lr=1e6, l2=0)
    assert stopped[1] == loss            # the same step: it stopped there, not at 10,000
    assert toy.exploded(float("inf"), 2) and toy.exploded(24.0, 10)
    assert not toy.exploded(2.0, 2)
    assert np.isfinite(toy.train(X, y, hidden=3, depth=1, activation="tanh", steps=50)[1])


def test_a_read_only_out_is_one_line_before_any_training(tmp_path):
    from tests.commands.test_command_errors import mount_tmpfs
    folder = mount_tmpfs(tmp_path / "ro", "size=64k", "ro")
    try:
        for out in (folder, folder / "toy"):
            result = subprocess.run([sys.executable, "-m", "models.toy", "--out", str(out)],
                                    cwd=ROOT, capture_output=True, text=True, timeout=60,
                                    env={**os.environ, "PYTHONPATH": str(ROOT)})
            assert result.returncode == 2 and result.stdout == ""
            assert result.stderr.splitlines() == [
                f"python -m models.toy: error: --out: cannot write into {folder} (Read-only "
                f"file system); choose a folder you can write to (see --help)"]
    finally:
        subprocess.run(["umount", str(folder)], check=True)


# ---- a title that fits, a diverged net that is flagged -------------------------------------

@pytest.mark.parametrize("columns", [1, 2])
def test_the_grid_title_fits_inside_the_figure_with_one_or_two_columns(columns):
    from viz.plots import plot_decision_boundary_grid
    X, y = toy.make_data("moons", 40)
    panels = [(f"net {k}", lambda P: (P[:, 0] > 0).astype(int)) for k in range(columns)]
    fig = plot_decision_boundary_grid(
        panels, X, y, ncols=columns, resolution=20,
        title="make_moons(200, noise=0.2): activation and depth (rows) × width (columns); "
              "gradient descent, lr 0.01, L2 0.01, 20000 steps")
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    box = fig._suptitle.get_window_extent(renderer)
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width


def test_diverged_is_a_grown_or_non_finite_loss():
    assert toy.diverged(18.6, 0.7, 2) and toy.diverged(float("nan"), 0.7, 2)
    assert not toy.diverged(0.25, 0.7, 2)


def test_a_net_that_blew_up_is_flagged_in_the_table_the_figure_and_results(tmp_path, monkeypatch):
    from viz import plots
    titles = []
    original = plots.plot_decision_boundary_grid

    def spy(panels, *a, **kw):
        titles.extend(name for name, _ in panels)
        return original(panels, *a, **kw)
    monkeypatch.setattr(plots, "plot_decision_boundary_grid", spy)
    lines = []
    args = toy.parser().parse_args(["--hidden", "10", "--depth", "8", "1", "--lr", "0.05",
                                    "--steps", "300", "--samples", "60", "--no-progress",
                                    "--out", str(tmp_path)])
    results = toy.run(args, log=lines.append)
    assert [r["diverged"] for r in results] == [True, False]
    table = [l for l in lines if l.startswith("tanh")]
    assert "DIVERGED" in table[0] and "DIVERGED" not in table[1]
    assert any(l.startswith("warning: 1 of 2 networks diverged") for l in lines)
    assert "DIVERGED" in titles[0] and "DIVERGED" not in titles[1]
    saved = json.loads((tmp_path / "results.json").read_text())["results"]
    assert [r["diverged"] for r in saved] == [True, False]

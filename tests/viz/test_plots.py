"""Every plot helper returns a titled Figure, writes a real PNG, leaves no pyplot state
behind, and refuses bad input with a message that says what was expected."""

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from viz import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HISTORY = [{"epoch": e, "train_loss": 1 / e, "train_acc": 1 - 0.5 / e,
            "val_loss": 1.2 / e, "val_acc": 1 - 0.6 / e} for e in range(1, 6)]
rng = np.random.default_rng(0)


def suptitle(fig):
    return fig._suptitle.get_text() if fig._suptitle is not None else ""


def check_png(path, fig, min_height=200, min_width=300):
    """A PNG that matplotlib reads back at a plausible size, from a Figure with a title."""
    assert isinstance(fig, Figure) and suptitle(fig)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    height, width = matplotlib.image.imread(path).shape[:2]
    assert height >= min_height and width >= min_width


def two_class_problem(n=60):
    X = rng.standard_normal((n, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def linear_rule(P):
    return (P[:, 0] + P[:, 1] > 0).astype(int)


# ---- learning curves -------------------------------------------------------------------

def test_learning_curves_png_with_two_labelled_panels(tmp_path):
    fig = plots.plot_learning_curves(HISTORY, path=tmp_path / "c.png", title="run")
    check_png(tmp_path / "c.png", fig)
    assert suptitle(fig) == "run"
    loss_ax, acc_ax = fig.axes
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == ("epoch", "loss")
    assert (acc_ax.get_xlabel(), acc_ax.get_ylabel()) == ("epoch", "accuracy")
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["training", "validation"]
    best = acc_ax.get_legend().get_texts()[-1].get_text()
    assert best == "best validation: 0.8800 (epoch 5)"


def test_learning_curves_without_validation_have_one_line_per_panel(tmp_path):
    history = [{k: v for k, v in row.items() if not k.startswith("val")} for row in HISTORY]
    fig = plots.plot_learning_curves(history, path=tmp_path / "c.png")
    check_png(tmp_path / "c.png", fig)
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 1]


def test_learning_curves_of_a_single_epoch(tmp_path):
    fig = plots.plot_learning_curves(HISTORY[:1], path=tmp_path / "c.png")
    check_png(tmp_path / "c.png", fig)


# ---- decision boundaries -----------------------------------------------------------------

def test_decision_boundary_png_with_labelled_axes_and_a_legend(tmp_path):
    X, y = two_class_problem()
    fig = plots.plot_decision_boundary(linear_rule, X, y, title="linear", path=tmp_path / "d.png",
                                       resolution=50)
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and ax.get_title() == "linear"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    assert (tmp_path / "d.png").read_bytes()[:8] == PNG_SIGNATURE


def test_decision_boundary_draws_into_a_given_axes_and_grids_in_the_data_dtype():
    X, y = two_class_problem()
    X = X.astype(np.float32)
    seen = []

    def predict(P):
        seen.append(P.dtype)
        return linear_rule(P)
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_decision_boundary(predict, X, y, ax=ax, resolution=20) is fig
    assert seen == [np.float32]


def test_decision_boundary_takes_three_classes_and_argmaxes_scores():
    X = rng.standard_normal((90, 2)) * 3
    y = np.digitize(X[:, 0], [-1, 1])                      # three vertical bands

    def scores(P):                                         # (n, 3), one column per class
        return -np.abs(P[:, :1] - np.array([[-3.0, 0.0, 3.0]]))
    fig = plots.plot_decision_boundary(scores, X, y, resolution=40)
    assert len(fig.axes[0].get_legend().get_texts()) == 3


def test_decision_boundary_grid(tmp_path):
    X, y = two_class_problem()
    panels = [("linear", linear_rule), ("constant", lambda P: np.zeros(len(P), int)),
              ("first coordinate", lambda P: (P[:, 0] > 0).astype(int))]
    fig = plots.plot_decision_boundary_grid(panels, X, y, ncols=2, path=tmp_path / "g.png",
                                            title="three rules", resolution=40)
    check_png(tmp_path / "g.png", fig)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["linear", "constant", "first coordinate"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["class 0", "class 1"]


# ---- weights -------------------------------------------------------------------------------

PARAMS = {"W1": rng.standard_normal((784, 20)), "b1": rng.standard_normal(20),
          "W2": rng.standard_normal((20, 10)), "b2": rng.standard_normal(10)}


def test_weight_images_one_tile_per_hidden_unit_without_ticks(tmp_path):
    fig = plots.plot_weight_images(PARAMS["W1"], path=tmp_path / "w.png", ncols=8)
    check_png(tmp_path / "w.png", fig, min_width=200)
    tiles = [ax for ax in fig.axes if ax.get_visible() and ax.get_images() and ax.get_label() != "<colorbar>"]
    assert len(tiles) == 20
    assert all(not ax.get_xticks().size and not ax.get_yticks().size for ax in tiles)
    assert tiles[0].get_images()[0].get_array().shape == (28, 28)


def test_weight_images_stop_at_max_images_and_take_other_shapes():
    fig = plots.plot_weight_images(rng.standard_normal((64, 50)), shape=(8, 8), max_images=12,
                                   largest=False)
    tiles = [ax for ax in fig.axes if ax.get_visible() and ax.get_images() and ax.get_label() != "<colorbar>"]
    assert len(tiles) == 12 and "units 0–11 of 50" in suptitle(fig)


def tiles_of(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_images()
            and ax.get_label() != "<colorbar>"]


def test_weight_images_show_the_units_with_the_largest_norms_first():
    W = rng.standard_normal((784, 40)) * 0.01
    W[:, [7, 30, 3]] *= [50, 40, 30]                       # three strong units
    fig = plots.plot_weight_images(W, max_images=5)
    titles = [ax.get_title() for ax in tiles_of(fig)]
    assert [t.split(":")[0] for t in titles[:3]] == ["7", "30", "3"]
    norm7 = np.linalg.norm(W[:, 7])
    assert titles[0] == f"7: {norm7:.2f}"
    assert "the 5 units with the largest ‖w‖ of 40" in suptitle(fig)


def test_weight_images_with_the_initial_weights_show_what_training_changed():
    W0 = rng.standard_normal((784, 10))
    template = np.zeros((784, 10))
    template[:392, 4] = 0.5                                # unit 4 learned "top half bright"
    fig = plots.plot_weight_images(W0 + template, initial=W0)
    first = tiles_of(fig)[0]
    assert first.get_title().startswith("4:")
    np.testing.assert_allclose(first.get_images()[0].get_array(), template[:, 4].reshape(28, 28),
                               atol=1e-12)
    bar = next(ax for ax in fig.axes if ax.get_label() == "<colorbar>")
    assert bar.get_ylabel() == "change since initialisation, W − W₀"
    ticks = [t.get_text() for t in bar.get_yticklabels()]
    assert any(t.replace("−", "-").replace(".", "").lstrip("-").isdigit() for t in ticks)
    assert "random start is taken" in fig._supxlabel.get_text()


def test_weight_histograms_one_labelled_panel_per_array(tmp_path):
    fig = plots.plot_weight_histograms(PARAMS, path=tmp_path / "h.png")
    check_png(tmp_path / "h.png", fig)
    assert [ax.get_title() for ax in fig.axes] == [
        "W1 (784, 20): weights", "b1 (20,): biases", "W2 (20, 10): weights", "b2 (10,): biases"]
    assert all(ax.get_xlabel() == "value" and ax.get_ylabel() == "count" for ax in fig.axes)


def test_weight_heatmaps_draw_the_matrices_with_colour_bars(tmp_path):
    fig = plots.plot_weight_heatmaps(PARAMS, path=tmp_path / "m.png")
    check_png(tmp_path / "m.png", fig)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["W1 (784, 20)", "W2 (20, 10)"]
    assert len(fig.axes) == 4                                # two heatmaps, two colour bars


def test_no_pyplot_figures_are_left_open():
    before = plt.get_fignums()
    plots.plot_learning_curves(HISTORY)
    plots.plot_weight_heatmaps({"W": np.eye(3)})
    assert plt.get_fignums() == before


# ---- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: plots.plot_learning_curves([{"epoch": 1, "train_acc": 0.5}]),
     r"needs 'train_loss'; row 0 has \['epoch', 'train_acc'\]"),
    (lambda: plots.plot_learning_curves([]), "non-empty list of per-epoch dicts"),
    (lambda: plots.plot_weight_images(np.zeros((100, 5))),
     r"W must have shape \(784, hidden\) to show 28×28 images, got \(100, 5\)"),
    (lambda: plots.plot_decision_boundary(linear_rule, np.zeros((5, 3)), np.zeros(5)),
     r"shape \(n, 2\), got \(5, 3\)"),
    (lambda: plots.plot_decision_boundary(linear_rule, np.zeros((5, 2)), np.zeros(4)),
     r"one label per point, shape \(5,\); got \(4,\)"),
    (lambda: plots.plot_decision_boundary(lambda P: np.zeros(3), np.zeros((5, 2)), np.zeros(5)),
     r"predict must map \(\d+, 2\) points to \d+ class ids, got an array of shape \(3,\)"),
    (lambda: plots.plot_decision_boundary_grid([], np.zeros((5, 2)), np.zeros(5)), "no panels"),
    (lambda: plots.plot_decision_boundary_grid([linear_rule], np.zeros((5, 2)), np.zeros(5)),
     r"panel 0 must be a pair \(title, predict\)"),
    (lambda: plots.plot_weight_histograms({}), "non-empty dict of name -> array"),
    (lambda: plots.plot_weight_heatmaps({"b1": np.zeros(3)}), r"no weight matrices \(2-D arrays\)"),
])
def test_bad_input_is_refused_clearly(call, message):
    with pytest.raises(ValueError, match=message):
        call()

"""Every plot helper writes a real PNG with a title, and refuses bad input clearly."""

import matplotlib.image
import numpy as np
import pytest

from viz import plots

PNG = b"\x89PNG\r\n\x1a\n"
HISTORY = [{"epoch": e, "train_loss": 1 / e, "train_acc": 1 - 0.5 / e,
            "val_loss": 1.2 / e, "val_acc": 1 - 0.6 / e} for e in range(1, 6)]
rng = np.random.default_rng(0)


def check_png(path, fig):
    assert path.read_bytes()[:8] == PNG
    height, width = matplotlib.image.imread(path).shape[:2]
    assert height > 200 and width > 300
    assert fig._suptitle is not None and fig._suptitle.get_text()


def test_learning_curves(tmp_path):
    fig = plots.plot_learning_curves(HISTORY, path=tmp_path / "c.png", title="run")
    check_png(tmp_path / "c.png", fig)
    loss_ax = fig.axes[0]
    assert loss_ax.get_xlabel() == "epoch" and len(loss_ax.get_legend().get_texts()) == 2


def test_learning_curves_without_validation_have_one_line(tmp_path):
    history = [{k: v for k, v in row.items() if not k.startswith("val")} for row in HISTORY]
    fig = plots.plot_learning_curves(history, path=tmp_path / "c.png")
    assert len(fig.axes[0].get_lines()) == 1


def test_decision_boundary_grid(tmp_path):
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    panels = [("linear", lambda P: (P[:, 0] > 0).astype(int) + (P[:, 1] > 0)),
              ("constant", lambda P: np.zeros(len(P), int))]
    fig = plots.plot_decision_boundary_grid(panels, X, y, path=tmp_path / "b.png")
    check_png(tmp_path / "b.png", fig)


def test_weight_images_histograms_heatmaps(tmp_path):
    params = {"W1": rng.standard_normal((784, 20)), "b1": rng.standard_normal(20),
              "W2": rng.standard_normal((20, 10)), "b2": rng.standard_normal(10)}
    check_png(tmp_path / "w.png", plots.plot_weight_images(params["W1"], path=tmp_path / "w.png"))
    check_png(tmp_path / "h.png", plots.plot_weight_histograms(params, path=tmp_path / "h.png"))
    check_png(tmp_path / "m.png", plots.plot_weight_heatmaps(params, path=tmp_path / "m.png"))


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="needs 'train_loss'"):
        plots.plot_learning_curves([{"epoch": 1, "train_acc": 0.5}])
    with pytest.raises(ValueError, match=r"W must have shape \(784, hidden\).*got \(100, 5\)"):
        plots.plot_weight_images(np.zeros((100, 5)))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plots.plot_decision_boundary(lambda P: P[:, 0], np.zeros((5, 3)), np.zeros(5))

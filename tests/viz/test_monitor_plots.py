"""The pictures of a watched run (curves.png with every step, stats.png) and
`python -m viz.redraw` on a saved model."""

import numpy as np
import pytest

from models.train.checkpoint import save_checkpoint
from models.data.datasets import CLASS_NAMES
from viz import plots, redraw
from viz.stats_figure import plot_layer_statistics, rebinned_histograms

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
rng = np.random.default_rng(0)
HISTORY = [{"epoch": e, "train_loss": 1 / e, "train_acc": 1 - 0.5 / e, "val_loss": 1.2 / e,
            "val_acc": 1 - 0.6 / e, "train_sample_loss": 0.9 / e,
            "train_sample_acc": 1 - 0.45 / e} for e in range(1, 5)]


def visible_tiles(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_images()
            and ax.get_label() != "<colorbar>"]


def test_curves_draw_every_step_light_under_the_epoch_means(tmp_path):
    steps = 10
    iterations = 2 / np.arange(1, 41) + 0.05 * rng.random(40)
    evaluations = {"iteration": np.array([5, 10, 15, 20, 25, 30, 35, 40]),
                   "val_loss": np.linspace(1, 0.3, 8), "val_acc": np.linspace(0.5, 0.8, 8),
                   "test_loss": np.linspace(1, 0.3, 8), "test_acc": np.linspace(0.5, 0.8, 8)}
    fig = plots.plot_learning_curves(HISTORY, path=tmp_path / "c.png", iterations=iterations,
                                     steps_per_epoch=steps, evaluations=evaluations)
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG_SIGNATURE
    loss_ax, acc_ax = fig.axes[:2]
    per_step = loss_ax.get_lines()[0]
    assert len(per_step.get_xdata()) == 40 and per_step.get_alpha() < 0.5
    np.testing.assert_allclose(per_step.get_xdata()[[0, -1]], [0.1, 4.0])
    labels = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert labels[:2] == ["training (each mini-batch)", "training (mean over the epoch)"]
    assert "test (not for choosing), every 5 iterations" in labels
    assert "training (sample, after the epoch)" in [t.get_text() for t in
                                                    acc_ax.get_legend().get_texts()]


def test_curves_refuse_steps_without_steps_per_epoch():
    with pytest.raises(ValueError, match="needs steps_per_epoch"):
        plots.plot_learning_curves(HISTORY, iterations=[1.0, 0.5])


def test_rebinned_histograms_keep_every_value_and_match_identical_bins():
    counts = np.array([[1, 2, 3, 4], [4, 0, 0, 4]])
    lo, hi = np.array([0.0, -1.0]), np.array([4.0, 3.0])
    same = rebinned_histograms(counts[:1], lo[:1], hi[:1], np.linspace(0, 4, 5))
    np.testing.assert_allclose(same[0], [0.1, 0.2, 0.3, 0.4])
    wide = rebinned_histograms(counts, lo, hi, np.linspace(-2, 5, 15))
    np.testing.assert_allclose(wide.sum(axis=1), [1.0, 1.0])


def fake_stats(records=6, every=50, bins=40):
    stats = {"iteration": np.arange(1, records + 1) * every, "epoch": np.arange(records)}
    for name, shape in (("W1", (30, 8)), ("b1", (8,)), ("W2", (8, 3)), ("b2", (3,))):
        for k in range(records):
            values = rng.standard_normal(shape) * (1 + 0.1 * k)
            counts, edges = np.histogram(values, bins=bins)
            row = {"weight_min": values.min(), "weight_max": values.max(),
                   "weight_mean": values.mean(), "weight_std": values.std(),
                   "grad_min": -0.1, "grad_max": 0.1, "grad_mean": 0.0, "grad_std": 0.03,
                   "update_ratio": 1e-3 * (k + 1), "hist_lo": edges[0], "hist_hi": edges[-1],
                   "hist_counts": counts}
            for key, value in row.items():
                stats.setdefault(f"{name}/{key}", []).append(value)
    return {k: np.asarray(v) for k, v in stats.items()}


def test_stats_png_has_a_row_per_parameter_and_a_histogram_image_over_time(tmp_path):
    fig = plot_layer_statistics(fake_stats(), steps_per_epoch=100, path=tmp_path / "s.png",
                                title="tiny")
    assert (tmp_path / "s.png").read_bytes()[:8] == PNG_SIGNATURE
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[:4] == ["W1: weights", "W1: gradients ∂L/∂W1",
                          "W1: update / weight ‖Δθ‖/‖θ‖", "W1: histogram over training"]
    assert len(titles) == 16
    hist_ax = fig.axes[3]
    mesh = hist_ax.collections[0]
    assert mesh.get_array().shape == (80, 6)                 # weight value × time
    assert hist_ax.get_ylabel() == "weight value"
    assert "every 50 iterations" in fig._suptitle.get_text()
    ratio_ax = fig.axes[2]
    assert ratio_ax.get_yscale() == "log"


def test_stats_png_refuses_an_empty_record():
    with pytest.raises(ValueError, match="no records"):
        plot_layer_statistics({"iteration": np.array([])}, 10)


def test_weight_images_are_titled_by_the_matrix_and_by_class(tmp_path):
    W2 = rng.standard_normal((64, 10))
    fig = plots.plot_weight_images(W2, shape=(8, 8), name="W2", labels=CLASS_NAMES["fashion-mnist"])
    assert fig._suptitle.get_text().startswith("W2 (64, 10)")
    assert "First-layer" not in fig._suptitle.get_text()
    assert [ax.get_title() for ax in visible_tiles(fig)][9] == "9: Ankle boot"


def test_heatmap_tick_labels_of_a_784_by_1024_matrix_do_not_overlap():
    fig = plots.plot_weight_heatmaps({"W1": rng.standard_normal((784, 1024)).astype(np.float32),
                                      "W2": rng.standard_normal((1024, 10))})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in (a for a in fig.axes if a.get_title()):
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels()
                     if t.get_visible() and t.get_text()]
            assert 2 <= len(boxes) <= 8
            for a, b in zip(boxes, boxes[1:]):
                assert not a.overlaps(b), (ax.get_title(), a, b)


# ---- python -m viz.redraw---------------------------------------------------------------------

def saved_model(path, dataset="fashion-mnist"):
    params = {"W1": rng.standard_normal((784, 16)).astype(np.float32), "b1": np.zeros(16),
              "W2": rng.standard_normal((16, 10)), "b2": rng.standard_normal(10)}
    save_checkpoint(path, params, {"config": {"dataset": dataset, "hidden": [16]}})
    return params


def test_cli_draws_images_histograms_and_heatmaps_of_a_saved_model(tmp_path, capsys):
    saved_model(tmp_path / "model.npz")
    assert redraw.main([str(tmp_path / "model.npz"), "--out", str(tmp_path / "figs")]) == 0
    written = capsys.readouterr().out.split()
    names = sorted(p.rsplit("/", 1)[1] for p in written)
    assert names == ["heatmaps.png", "histograms.png", "weights_W1.png", "weights_W2.png"]
    for name in names:
        assert (tmp_path / "figs" / name).read_bytes()[:8] == PNG_SIGNATURE


def weight_images_drawn(monkeypatch):
    """The keyword arguments (and W, as "W") of every plot_weight_images call, as made."""
    drawn = []
    original = plots.plot_weight_images

    def spy(W, **kwargs):
        drawn.append({**kwargs, "W": W})
        return original(W, **kwargs)
    monkeypatch.setattr(plots, "plot_weight_images", spy)
    return drawn


def test_cli_takes_a_run_directory_and_names_the_classes(tmp_path, monkeypatch):
    saved_model(tmp_path / "model.npz")
    drawn = weight_images_drawn(monkeypatch)
    assert redraw.main([str(tmp_path)]) == 0
    assert drawn[1]["labels"] == CLASS_NAMES["fashion-mnist"] and drawn[1]["shape"] == (4, 4)
    assert (tmp_path / "redraw" / "weights_W2.png").is_file()


def test_redraw_writes_to_its_own_folder_and_never_over_the_runs_figures(tmp_path, capsys):
    saved_model(tmp_path / "model.npz")
    for name in ("curves.png", "stats.png", "weights_W1.png"):
        (tmp_path / name).write_bytes(b"the run's own figure")
    assert redraw.main([str(tmp_path)]) == 0
    for name in ("curves.png", "stats.png", "weights_W1.png"):
        assert (tmp_path / name).read_bytes() == b"the run's own figure"
    assert all(line.startswith(str(tmp_path / "redraw"))
               for line in capsys.readouterr().out.split())


def test_units_zero_draws_every_first_layer_unit_in_order(tmp_path, monkeypatch):
    saved_model(tmp_path / "model.npz")
    drawn = weight_images_drawn(monkeypatch)
    assert redraw.main([str(tmp_path), "--units", "0"]) == 0
    assert drawn[0]["max_images"] == 16 and drawn[0]["largest"] is False
    assert redraw.main([str(tmp_path), "--units", "5"]) == 0
    assert drawn[-2]["max_images"] == 5


def test_minus_initial_draws_what_training_changed(tmp_path, capsys, monkeypatch):
    from models import twolayer
    from tests.fake_data import write_data_dir
    data = write_data_dir(tmp_path / "data")
    assert twolayer.main(["--data-dir", str(data), "--no-download", "--val-size", "100",
                          "--hidden", "8", "--epochs", "1", "--no-progress", "--no-plots",
                          "--out", str(tmp_path / "run")]) == 0
    drawn = weight_images_drawn(monkeypatch)
    assert redraw.main([str(tmp_path / "run"), "--minus-initial", "--units", "0"]) == 0
    W, kwargs = drawn[0]["W"], drawn[0]
    initial = twolayer.build_model(twolayer.FAMILY.config_class(hidden=[8], val_size=100,
                                                                epochs=1), (28, 28), 10)
    assert np.array_equal(kwargs["initial"], initial.layers[0].W.data)
    assert not np.array_equal(W, kwargs["initial"])


def test_the_old_spelling_viz_plots_still_draws_and_names_viz_redraw(tmp_path):
    import subprocess
    import sys
    saved_model(tmp_path / "model.npz")
    done = subprocess.run([sys.executable, "-m", "viz.plots", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "viz.redraw" in done.stderr
    assert (tmp_path / "redraw" / "weights_W1.png").is_file()


def test_units_must_not_be_negative(tmp_path, capsys):
    saved_model(tmp_path / "model.npz")
    with pytest.raises(SystemExit) as exit:
        redraw.main([str(tmp_path), "--units", "-1"])
    assert exit.value.code == 2 and "--units must be" in capsys.readouterr().err


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.npz", "no such file or directory"),
    (lambda d: d, "holds no model.npz"),
    (lambda d: (d / "junk.npz").write_text("not a zip") and d / "junk.npz",
     "is not a .npz checkpoint"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, make, message):
    assert redraw.main([str(make(tmp_path))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and err.startswith("error: ")


def test_convolution_kernels_are_drawn_filter_by_filter(tmp_path):
    params = {"conv1.W": rng.standard_normal((6, 1, 5, 5)), "conv1.b": np.zeros(6),
              "fc.W": rng.standard_normal((24, 10)), "fc.b": np.zeros(10)}
    written = plots.draw_model_figures(params, tmp_path, CLASS_NAMES["mnist"])
    assert [p.name for p in written] == ["weights_conv1.W.png", "weights_fc.W.png",
                                         "histograms.png", "heatmaps.png"]
    assert all(p.read_bytes()[:8] == PNG_SIGNATURE for p in written)


def test_a_model_without_weights_is_refused():
    with pytest.raises(ValueError, match="no weight matrices or convolution kernels"):
        plots.draw_model_figures({"b1": np.zeros(3)}, "unused")

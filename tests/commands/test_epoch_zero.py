"""The Solver's epoch-0 accuracies (before any step, with --log-every) are kept in
metrics.json and drawn on curves.png's accuracy panel."""

import json

import numpy as np

from models import twolayer
from tests.fake_data import write_data_dir
from viz.plots import plot_learning_curves


def test_epoch_0_accuracies_are_kept_in_metrics_json(tmp_path, capsys):
    data = write_data_dir(tmp_path / "data")
    assert twolayer.main(["--data-dir", str(data), "--no-download", "--val-size", "100",
                          "--hidden", "8", "--epochs", "1", "--no-progress", "--no-plots",
                          "--log-every", "5", "--out", str(tmp_path / "run")]) == 0
    printed = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("(Epoch 0"))
    epoch_0 = json.loads((tmp_path / "run" / "metrics.json").read_text())["epoch_0"]
    assert printed == (f"(Epoch 0 / 1) train acc: {epoch_0['train_acc']:.6f}; "
                       f"val_acc: {epoch_0['val_acc']:.6f}")


def test_without_log_every_there_is_no_epoch_0_measurement(tmp_path, capsys):
    data = write_data_dir(tmp_path / "data")
    assert twolayer.main(["--data-dir", str(data), "--no-download", "--val-size", "100",
                          "--hidden", "8", "--epochs", "1", "--no-progress", "--no-plots",
                          "--out", str(tmp_path / "run")]) == 0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epoch_0"] is None


def test_the_accuracy_panel_draws_epoch_0_before_the_first_epoch():
    history = [{"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5 + 0.1 * e,
                "val_loss": 1.0 / e, "val_acc": 0.5 + 0.1 * e, "train_sample_acc": 0.55 + 0.1 * e}
               for e in (1, 2)]
    fig = plot_learning_curves(history, epoch_0={"train_acc": 0.11, "val_acc": 0.12})
    acc_ax = fig.axes[1]
    at_zero = sorted(float(np.ravel(line.get_ydata())[0]) for line in acc_ax.get_lines()
                     if len(np.ravel(line.get_xdata())) and np.ravel(line.get_xdata())[0] == 0)
    assert 0.11 in at_zero and 0.12 in at_zero
    assert "before training (epoch 0)" in [t.get_text() for t in acc_ax.get_legend().get_texts()]

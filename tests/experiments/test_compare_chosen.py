"""`models.compare --config`: chosen configurations, watched as one run is, and found again."""

import json
import subprocess
import sys

import numpy as np
import pytest

from models import compare
from tests.experiments.test_compare import flags
from tests.fake_data import write_data_dir

CHOSEN = ["--config", "activation=relu,optimizer=adam",
          "--config", "activation=tanh,optimizer=sgd,lr=0.1",
          "--config", "activation=relu,optimizer=adagrad"]
WATCH = ["--batch-size", "100", "--eval-every", "4", "--eval-test", "--stats-every", "5"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_data_dir(tmp_path_factory.mktemp("tiny"))


def table(out):
    """[(trial, folder, configuration)] of the printed table."""
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("trial"))
    end = next(i for i in range(start + 2, len(lines)) if not lines[i].strip())
    return [tuple(l.split()[:3]) for l in lines[start + 2:end]]


def test_chosen_configurations_run_in_the_order_given_each_naming_its_trial_and_folder(
        data_dir, tmp_path, capsys):
    assert compare.main(flags(data_dir, tmp_path, "--no-plots", *CHOSEN)) == 0
    rows = table(capsys.readouterr().out)
    assert rows == [("0", "trials/0000", "activation=relu,optimizer=adam"),
                    ("1", "trials/0001", "activation=tanh,optimizer=sgd,lr=0.1"),
                    ("2", "trials/0002", "activation=relu,optimizer=adagrad")]
    for trial, folder, configuration in rows:      # each folder holds what its row says
        config = json.loads((tmp_path / folder / "metrics.json").read_text())["config"]
        for pair in configuration.split(","):
            name, value = pair.split("=")
            assert str(config[name]) == value
    assert (tmp_path / "best" / "model.npz").is_file()


def test_a_config_file_holds_one_configuration_per_line(data_dir, tmp_path, capsys):
    listing = tmp_path / "configs.txt"
    listing.write_text("# report 003's pairs\nactivation=relu,optimizer=adam\n\n"
                       "activation=tanh,optimizer=adagrad  # the light blue line\n")
    assert compare.main(flags(data_dir, tmp_path / "out", "--no-plots",
                              "--config-file", str(listing))) == 0
    assert [r[2] for r in table(capsys.readouterr().out)] == [
        "activation=relu,optimizer=adam", "activation=tanh,optimizer=adagrad"]


def test_a_product_of_two_varied_flags_runs_in_table_order_too(data_dir, tmp_path, capsys):
    args = flags(data_dir, tmp_path, "--no-plots", "--vary", "optimizer=sgd,adam",
                 "--vary", "hidden=8,8x8", "--lr", "0.01")
    assert compare.main(args) == 0
    rows = table(capsys.readouterr().out)
    assert [r[:2] for r in rows] == [(str(k), f"trials/{k:04d}") for k in range(4)]


def test_watching_flags_reach_every_configuration_and_are_drawn_side_by_side(
        data_dir, tmp_path, capsys):
    assert compare.main(flags(data_dir, tmp_path, *CHOSEN, *WATCH)) == 0
    out = capsys.readouterr().out
    for k in range(3):
        folder = tmp_path / "trials" / f"{k:04d}"
        with np.load(folder / "history.npz") as h:
            assert len(h["loss"]) == 3 * 5                       # 500 images / 100, 3 epochs
            assert list(h["eval/iteration"]) == [4, 8, 12]
            assert np.isfinite(h["eval/test_acc"]).all()
        with np.load(folder / "stats.npz") as s:
            assert list(s["iteration"]) == [5, 10, 15]
        evaluations = json.loads((folder / "metrics.json").read_text())["monitoring"]["evaluations"]
        assert len(evaluations) == 3 and evaluations[0]["test_acc"] is not None
    for name in ("curves.png", "watched.png", "layers.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert str(tmp_path / name) in out


def test_keep_models_keeps_each_configurations_best_model_and_the_best_in_best(
        data_dir, tmp_path, capsys):
    assert compare.main(flags(data_dir, tmp_path, "--no-plots", "--keep-models", *CHOSEN)) == 0
    capsys.readouterr()
    for k in range(3):
        assert (tmp_path / "trials" / f"{k:04d}" / "model.npz").is_file()
    assert (tmp_path / "best" / "model.npz").is_file()


def test_without_keep_models_only_the_best_model_stays(data_dir, tmp_path, capsys):
    assert compare.main(flags(data_dir, tmp_path, "--no-plots", *CHOSEN)) == 0
    capsys.readouterr()
    assert sorted(p.parent.name for p in tmp_path.glob("trials/*/model.npz")) == []
    assert (tmp_path / "best" / "model.npz").is_file()


def test_the_printed_test_command_works_exactly_as_printed(data_dir, tmp_path, capsys):
    assert compare.main(flags(data_dir, tmp_path, "--no-plots", *CHOSEN)) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("test it: "))
    command = line.removeprefix("test it: ").split()
    assert command[:2] == ["python", "-m"]
    done = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True,
                          cwd=tmp_path.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "test accuracy:" in done.stdout


def test_the_cnn_runs_chosen_configurations_with_tensorboard_runs_side_by_side(
        data_dir, tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    args = ["--model", "cnn", "--data-dir", str(data_dir), "--no-download", "--val-size", "100",
            "--epochs", "1", "--channels", "4", "--fc", "16", "--no-progress",
            "--out", str(tmp_path), "--batch-size", "100", "--eval-every", "2", "--eval-test",
            "--stats-every", "2", "--tensorboard",
            "--config", "activation=relu,optimizer=adam",
            "--config", "activation=tanh,optimizer=adagrad"]
    assert compare.main(args) == 0
    out = capsys.readouterr().out
    assert f"tensorboard --logdir {tmp_path / 'tensorboard'}" in out
    runs = sorted(p.name for p in (tmp_path / "tensorboard").iterdir())
    assert runs == ["0000 activation=relu,optimizer=adam",
                    "0001 activation=tanh,optimizer=adagrad"]
    for run in runs:
        events = EventAccumulator(str(tmp_path / "tensorboard" / run)).Reload()
        tags = events.Tags()
        assert len(events.Scalars("train/loss")) == 5           # 500 images / 100
        assert [e.step for e in events.Scalars("eval/test_acc")] == [2, 4]
        assert any(t.endswith("/weights") for t in tags["histograms"])
    assert (tmp_path / "layers.png").is_file() and (tmp_path / "watched.png").is_file()

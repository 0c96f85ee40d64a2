"""`python -m models.twolayer` end to end, on the real Fashion-MNIST (Debian's package)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from models import twolayer
from models.cli import command
from models.train import loop as training
from models.train.config import Config, build_model
from models.train.checkpoint import load_checkpoint

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                   reason="apt-get install dataset-fashion-mnist")

SMALL = ["--dataset", "fashion-mnist", "--no-download", "--no-progress", "--no-plots",
         "--hidden", "64", "--val-size", "1000"]


def last_line(capsys):
    return capsys.readouterr().out.strip().splitlines()[-1]


def figures(line):
    m = re.fullmatch(r"test accuracy: (\d\.\d{4})  test loss: (\d+\.\d{4})", line)
    assert m, f"unexpected last line: {line!r}"
    return float(m.group(1)), float(m.group(2))


@needs_fashion
def test_one_epoch_on_10000_real_images_reaches_80_percent(tmp_path, capsys):
    # a broken gradient cannot get here: chance is 10%
    code = twolayer.main(["--dataset", "fashion-mnist", "--no-download", "--no-progress",
                          "--train-size", "10000", "--epochs", "1", "--hidden", "128",
                          "--optimizer", "adam", "--lr", "0.002", "--batch-size", "32",
                          "--out", str(tmp_path)])
    assert code == 0
    accuracy, loss = figures(last_line(capsys))
    assert accuracy >= 0.80
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(accuracy, abs=5e-5)
    assert metrics["test_loss"] == pytest.approx(loss, abs=5e-5)
    assert len(metrics["history"]) == 1 and metrics["config"]["hidden"] == [128]
    for png in ("curves.png", "weights.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_fashion
def test_test_mode_reproduces_the_figures_printed_by_training(tmp_path, capsys):
    assert twolayer.main(SMALL + ["--train-size", "2000", "--epochs", "2",
                                  "--out", str(tmp_path)]) == 0
    trained = last_line(capsys)
    assert twolayer.main(["--test", str(tmp_path / "model.npz"), "--no-download"]) == 0
    assert last_line(capsys) == trained


@needs_fashion
def test_saved_model_loads_with_identical_predictions(tmp_path, capsys):
    assert twolayer.main(SMALL + ["--train-size", "1000", "--epochs", "1",
                                  "--out", str(tmp_path)]) == 0
    params, saved = load_checkpoint(tmp_path / "model.npz")
    config = Config.from_dict(saved["config"])
    a, b = build_model(config), build_model(config)
    a.load_state_dict(params)
    b.load_state_dict(load_checkpoint(tmp_path / "model.npz")[0])
    x = np.random.default_rng(0).random((50, 784), dtype=np.float32)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert saved["versions"]["numpy"] == np.__version__


@needs_fashion
def test_resume_after_an_interrupt_equals_an_uninterrupted_run(
        tmp_path, capsys, interrupted_after_epoch):
    args = SMALL + ["--train-size", "1500", "--epochs", "3", "--optimizer", "adam",
                    "--lr", "0.002"]
    assert twolayer.main(args + ["--out", str(tmp_path / "straight")]) == 0
    straight = last_line(capsys)

    with interrupted_after_epoch(2):
        assert twolayer.main(args + ["--out", str(tmp_path / "split")]) == 130
    assert twolayer.main(["--resume", str(tmp_path / "split"), "--no-download",
                          "--no-progress", "--no-plots"]) == 0
    assert last_line(capsys) == straight
    a, _ = load_checkpoint(tmp_path / "straight" / "last.npz")
    b, _ = load_checkpoint(tmp_path / "split" / "last.npz")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@needs_fashion
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys, monkeypatch):
    original = training.train_epoch

    def poison_second_epoch(model, optimizer, x, y, config, epoch, *args):
        if epoch == 1:
            model.layers[0].W.data[0, 0] = np.inf
        return original(model, optimizer, x, y, config, epoch, *args)

    monkeypatch.setattr(training, "train_epoch", poison_second_epoch)
    code = twolayer.main(SMALL + ["--train-size", "1000", "--epochs", "3",
                                  "--out", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "diverged" in err and "--lr" in err and "epoch 1" in err
    params, saved = load_checkpoint(tmp_path / "model.npz")
    assert saved["epoch"] == 1 and np.isfinite(params["W1"]).all()


def test_check_grads_agrees_to_1e_6_in_float64(capsys):
    code = twolayer.main(["--check-grads", "--hidden", "16", "--dataset", "fashion-mnist"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert all(name in out for name in ("W1", "b1", "W2", "b2"))


def test_check_grads_exits_1_when_the_tape_disagrees(capsys, monkeypatch):
    from models.manual import three_ways as check_grads
    original = check_grads.tape_loss_and_grads

    def broken(*args):
        loss, grads = original(*args)
        grads["b1"] = grads["b1"] * 1.01
        return loss, grads

    monkeypatch.setattr(check_grads, "tape_loss_and_grads", broken)
    assert twolayer.main(["--check-grads", "--hidden", "8"]) == 1
    assert "NO" in capsys.readouterr().out


def exit_code(main, argv):
    """main's exit code, whether it returns it or argparse raises SystemExit."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


@pytest.mark.parametrize("flags, message", [
    (["--lr", "-0.1"], "--lr must be a positive finite number, got -0.1"),
    (["--lr", "nan"], "--lr must be a positive finite number, got nan"),
    (["--l2", "inf"], "--l2 must be a non-negative finite number, got inf"),
    (["--seed", "-1"], "--seed must be a non-negative integer"),
    (["--hidden", "0"], "--hidden sizes must be at least 1"),
    (["--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["--val-size", "70000"], "--val-size must be between 0 and 59,999"),
    (["--train-size", "-5"], "--train-size must be between 0 (all) and 55000"),
    (["--batch-size", "0"], "--batch-size must be between 1 and 60,000"),
    (["--epochs", "0"], "--epochs must be between 1 and 100,000"),
    (["--test", "no/such/model.npz"], "no/such/model.npz: no such file or directory"),
])
def test_bad_values_fail_before_any_data_is_loaded(flags, message, capsys, monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded")

    monkeypatch.setattr(command, "load_data", no_data)
    assert exit_code(twolayer.main, flags) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit):
        twolayer.main(["--help"])
    out = capsys.readouterr().out
    for action in twolayer.parser()._actions:
        for flag in action.option_strings:
            assert flag in out


@pytest.mark.slow
@needs_fashion
def test_default_configuration_beats_the_report_on_fashion_mnist(tmp_path, capsys):
    # ≈ 90 s on 2 cores: python -m pytest -m slow
    assert twolayer.main(["--dataset", "fashion-mnist", "--no-download", "--no-progress",
                          "--out", str(tmp_path)]) == 0
    accuracy, _ = figures(last_line(capsys))
    assert accuracy >= 0.895

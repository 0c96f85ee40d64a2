"""`--compile` and `--print-backward` of the training commands, and models.toy's compiled
training: the replayed steps give the tape's results to the last digit."""

from pathlib import Path

import numpy as np
import pytest

from models import cnn, toy, twolayer

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                   reason="apt-get install dataset-fashion-mnist")
SMALL = ["--dataset", "fashion-mnist", "--no-download", "--no-progress", "--no-plots",
         "--train-size", "1000", "--val-size", "300", "--epochs", "2"]


def saved_arrays(path):
    with np.load(path) as saved:
        return {k: saved[k] for k in saved.files if saved[k].dtype.kind == "f"}


def test_print_backward_prints_the_configured_mlps_forward_and_backward(capsys):
    assert twolayer.main(["--print-backward", "--hidden", "256", "--batch-size", "64",
                          "--l2", "0"]) == 0
    out = capsys.readouterr().out
    forward, backward = out.split("# backward")
    assert "MLP([784, 256, 10]" in forward and "z1 = X @ W1" in forward
    assert "z1 += b1" in forward and "h1 = np.maximum(z1, 0)" in forward
    for line in ("dz1 = dh1 * (z1 > 0)", "dW1 = X.T @ dz1", "db1 = ones64 @ dz1",
                 "dW2 = h1.T @ softmax_minus_onehot"):
        assert line in backward
    assert "dX" not in out                          # no gradient for the data


def test_print_backward_writes_the_l2_penaltys_gradient_too(capsys):
    assert twolayer.main(["--print-backward", "--hidden", "32", "--l2", "0.01"]) == 0
    backward = capsys.readouterr().out.split("# backward")[1]
    assert "0.005 * W1" in backward and "0.005 * W2" in backward      # ½λ folded


def test_print_backward_and_test_are_refused_together(capsys):
    with pytest.raises(SystemExit) as exit_:
        twolayer.main(["--print-backward", "--test", "model.npz"])
    assert exit_.value.code == 2 and "choose at most one" in capsys.readouterr().err


@needs_fashion
@pytest.mark.parametrize("flags", [["--hidden", "32"],
                                   ["--hidden", "32", "--loss", "mse", "--l2", "0.01"],
                                   ["--hidden", "16", "16", "--activation", "tanh",
                                    "--optimizer", "adam", "--lr", "0.001", "--batch-size", "96"]])
def test_twolayer_compile_trains_to_the_same_weights_to_the_last_digit(flags, tmp_path, capsys):
    runs = {}
    for compiled in (False, True):
        out = tmp_path / ("compiled" if compiled else "eager")
        argv = [*SMALL, *flags, "--out", str(out)] + (["--compile"] if compiled else [])
        assert twolayer.main(argv) == 0
        runs[compiled] = (saved_arrays(out / "model.npz"),
                          capsys.readouterr().out.strip().splitlines()[-1])
    (eager, eager_line), (compiled, compiled_line) = runs[False], runs[True]
    assert compiled_line == eager_line               # the test accuracy and loss
    assert eager.keys() == compiled.keys()
    assert all(np.array_equal(eager[k], compiled[k]) for k in eager)


@needs_fashion
def test_cnn_compile_trains_to_the_same_weights_to_the_last_digit(tmp_path, capsys):
    runs = {}
    for compiled in (False, True):
        out = tmp_path / ("compiled" if compiled else "eager")
        argv = [*SMALL, "--train-size", "256", "--epochs", "1", "--channels", "4", "8",
                "--fc", "16", "--out", str(out)] + (["--compile"] if compiled else [])
        assert cnn.main(argv) == 0
        runs[compiled] = saved_arrays(out / "model.npz")
    assert all(np.array_equal(runs[False][k], runs[True][k]) for k in runs[False])


def test_toy_training_replays_the_compiled_step_and_equals_the_tape():
    X, y = toy.make_data("moons", 100, 0.2, seed=0)
    results = [toy.train(X, y, hidden=5, depth=2, activation=activation, steps=200,
                         compile=compiled)
               for activation in ("tanh", "relu") for compiled in (True, False)]
    for (model, loss, accuracy), (eager, eager_loss, eager_accuracy) in zip(results[::2],
                                                                             results[1::2]):
        assert loss == eager_loss and accuracy == eager_accuracy
        assert all(np.array_equal(p.data, q.data)
                   for p, q in zip(model.parameters(), eager.parameters()))

"""The CNN: its layers, and `python -m models.cnn` training, testing and resuming through
the same code as `models.twolayer` (real Fashion-MNIST, Debian's package)."""

import json
from pathlib import Path

import numpy as np
import pytest

import tape
from models import cnn
from models.cli import command
from models.cli import flags as command_flags
from models.train.checkpoint import load_checkpoint
from models.nn import CNN, Conv2d, Flatten, MaxPool2d

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                   reason="apt-get install dataset-fashion-mnist")

TINY = ["--dataset", "fashion-mnist", "--no-download", "--no-progress",
        "--channels", "4", "8", "--fc", "32", "--val-size", "500"]


def last_line(capsys):
    return capsys.readouterr().out.strip().splitlines()[-1]


# ---- layers ---------------------------------------------------------------------------

def test_conv2d_same_padding_keeps_the_image_size_and_he_variance_is_2_over_fan_in():
    layer = Conv2d(16, 64, 5, rng=np.random.default_rng(0))
    assert layer.W.shape == (64, 16, 5, 5) and layer.padding == 2
    assert layer.W.data.var() == pytest.approx(2 / (16 * 25), rel=0.05)
    x = np.zeros((2, 16, 9, 7), np.float32)
    assert layer(x).shape == (2, 64, 9, 7)


def test_conv2d_same_padding_needs_an_odd_kernel():
    with pytest.raises(ValueError, match="odd kernel"):
        Conv2d(1, 4, 4)


def test_maxpool_halves_and_flatten_makes_rows():
    x = tape.tensor(np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4))
    pooled = MaxPool2d(2)(x)
    assert pooled.shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(Flatten()(pooled).data, pooled.data.reshape(2, 12))


def test_default_cnn_is_report_003s_network_with_named_parameters():
    model = CNN()
    shapes = {k: p.shape for k, p in model.named_parameters().items()}
    assert shapes == {"conv1.W": (32, 1, 5, 5), "conv1.b": (32,),
                      "conv2.W": (64, 32, 5, 5), "conv2.b": (64,),
                      "fc1.W": (7 * 7 * 64, 1024), "fc1.b": (1024,),
                      "fc2.W": (1024, 10), "fc2.b": (10,)}
    assert [w.shape for w in model.weights()] == [(32, 1, 5, 5), (64, 32, 5, 5),
                                                  (3136, 1024), (1024, 10)]


def test_cnn_takes_flattened_or_image_shaped_input_alike():
    model = CNN([3], 3, [8], seed=1)
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    flat, images = model(x.reshape(4, 784)), model(x)
    assert flat.shape == (4, 10) and flat.dtype == np.float32
    np.testing.assert_array_equal(flat.data, images.data)
    np.testing.assert_array_equal(model.predict(x), images.data.argmax(axis=1))


def test_cnn_state_dict_round_trip_gives_identical_outputs():
    a, b = CNN([3, 4], 3, [8], seed=1), CNN([3, 4], 3, [8], seed=2)
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    assert not np.array_equal(a(x).data, b(x).data)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_cnn_weight_gradients_equal_finite_differences_in_float64():
    model = CNN([2], 3, [5], in_shape=(1, 6, 6), n_classes=3, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).permutation(2 * 36).reshape(2, 1, 6, 6) * 0.03
    y = np.array([0, 2])
    names = list(model.named_parameters())

    def loss(*params):
        for name, p in zip(names, params):
            setattr_path(model, name, p)
        return tape.cross_entropy(model(x), y)

    params = [p.data.copy() for p in model.parameters()]
    assert tape.gradcheck(loss, params)


def setattr_path(model, name, value):
    layer, attr = name.split(".")
    setattr(getattr(model, layer), attr, value)


# ---- the command ----------------------------------------------------------------------------

def test_cnn_defaults_are_adam_at_each_optimisers_own_learning_rate():
    p = cnn.parser()

    def config(*flags):
        return command_flags.config_from(p.parse_args(list(flags)), cnn.FAMILY)

    assert (config().optimizer, config().lr) == ("adam", 1e-3)
    assert (config().channels, config().kernel, config().fc) == ([32, 64], 5, [1024])
    assert config("--optimizer", "adagrad").lr == 0.01
    assert config("--optimizer", "momentum").lr == 0.01
    assert config("--optimizer", "adagrad", "--lr", "0.3").lr == 0.3


def test_parameter_shapes_match_the_model_built_for_any_architecture():
    for flags in ([], ["--channels", "8", "16", "32"], ["--kernel", "3", "--fc", "64", "32"]):
        config = command_flags.config_from(cnn.parser().parse_args(flags), cnn.FAMILY)
        model = cnn.build_model(config, (28, 28), 10)
        built = {k: p.shape for k, p in model.named_parameters().items()}
        assert cnn.parameter_shapes(config, (28, 28), 10) == built
        assert list(cnn.parameter_shapes(config, (28, 28), 10)) == list(built)


@needs_fashion
def test_train_then_test_prints_the_same_figures_and_saves_plots(tmp_path, capsys):
    assert cnn.main(TINY + ["--train-size", "1500", "--epochs", "1", "--batch-size", "32",
                            "--lr", "0.003", "--out", str(tmp_path)]) == 0
    trained = last_line(capsys)
    assert trained.startswith("test accuracy: ") and "  test loss: " in trained
    accuracy = float(trained.split()[2])
    assert accuracy > 0.5            # chance is 0.1
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["channels"] == [4, 8] and metrics["config"]["optimizer"] == "adam"
    assert load_checkpoint(tmp_path / "model.npz")[1]["family"] == "cnn"
    for png in ("curves.png", "filters.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cnn.main(["--test", str(tmp_path / "model.npz"), "--no-download"]) == 0
    assert last_line(capsys) == trained


@needs_fashion
def test_cnn_resume_after_an_interrupt_equals_an_uninterrupted_run(
        tmp_path, capsys, interrupted_after_epoch):
    args = TINY + ["--train-size", "600", "--epochs", "2", "--batch-size", "64",
                   "--channels", "2", "4", "--fc", "16"]
    assert cnn.main(args + ["--out", str(tmp_path / "straight")]) == 0
    straight = last_line(capsys)

    with interrupted_after_epoch(1):
        assert cnn.main(args + ["--out", str(tmp_path / "split")]) == 130
    assert cnn.main(["--resume", str(tmp_path / "split"), "--no-download",
                     "--no-progress"]) == 0
    assert last_line(capsys) == straight
    a, _ = load_checkpoint(tmp_path / "straight" / "last.npz")
    b, _ = load_checkpoint(tmp_path / "split" / "last.npz")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_check_grads_of_a_small_cnn_agrees_to_1e_6(capsys):
    code = cnn.main(["--check-grads", "--channels", "2", "3", "--fc", "8", "--kernel", "3"])
    out = capsys.readouterr().out
    assert code == 0, out
    for name in ("conv1.W", "conv1.b", "conv2.W", "conv2.b", "fc1.W", "fc1.b", "fc2.W", "fc2.b"):
        assert f"\n{name} " in out


@pytest.mark.parametrize("flags, message", [
    (["--kernel", "4"], "--kernel must be an odd number"),
    (["--channels", "8", "0"], "--channels must all be between 1 and"),
    (["--fc", "0"], "--fc sizes must be between 1 and"),
    (["--channels", "1", "2", "3", "4", "5"], "at most 4"),
    (["--lr", "0"], "--lr must be a positive"),
    (["--hidden", "10"], "unrecognized arguments: --hidden"),
])
def test_bad_cnn_flags_fail_with_one_line_before_any_data_is_loaded(flags, message, capsys,
                                                                      monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded")

    monkeypatch.setattr(command, "load_data", no_data)
    with pytest.raises(SystemExit) as exit:
        cnn.main(flags)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


def test_check_grads_exits_1_when_a_convolution_gradient_is_wrong(capsys, monkeypatch):
    from models.manual import three_ways as check_grads
    original = check_grads.tape_loss_and_grads

    def broken(*args):
        loss, grads = original(*args)
        grads["conv2.W"] = grads["conv2.W"] * 1.01
        return loss, grads

    monkeypatch.setattr(check_grads, "tape_loss_and_grads", broken)
    assert cnn.main(["--check-grads", "--channels", "2", "3", "--fc", "8", "--kernel", "3"]) == 1
    out = capsys.readouterr().out
    assert "conv2.W" in out and "NO" in out

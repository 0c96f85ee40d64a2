"""What a new user meets first in `python -m models.twolayer`: sensible defaults per
optimiser, a header that names the whole setup, singular and plural right, and the
pictures a run leaves behind."""

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from models import twolayer
from models.cli import flags as command_flags
from models.cli import wording
from models.cli import figures
from models.train.checkpoint import load_checkpoint
from models.optim import DEFAULT_LR
from models.train.config import Config, build_model

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                   reason="apt-get install dataset-fashion-mnist")
SMALL = ["--dataset", "fashion-mnist", "--no-download", "--no-progress", "--hidden", "32",
         "--val-size", "500", "--train-size", "1000"]


@pytest.mark.parametrize("optimizer", list(DEFAULT_LR))
def test_without_lr_each_optimizer_starts_from_its_own_default(optimizer):
    args = twolayer.parser().parse_args(["--optimizer", optimizer])
    assert command_flags.config_from(args, twolayer.FAMILY).lr == DEFAULT_LR[optimizer]


def test_a_given_lr_wins_over_the_optimizers_default():
    args = twolayer.parser().parse_args(["--optimizer", "adam", "--lr", "0.02"])
    assert command_flags.config_from(args, twolayer.FAMILY).lr == 0.02


def test_the_help_lists_every_default_learning_rate(capsys):
    with pytest.raises(SystemExit):
        twolayer.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "adam 0.001" in text and "adagrad 0.01" in text and "momentum 0.05" in text


def test_plural_and_the_setup_line():
    assert wording.plural(1, "epoch") == "1 epoch" and wording.plural(40, "epoch") == "40 epochs"
    config = Config(loss="mse_half", init="gaussian", weight_scale=1e-3, dtype="float64")
    assert wording.describe_setup(config) == "loss mse_half · init gaussian σ 0.001 · float64"
    assert wording.number(0.30261) == "0.3026" and wording.number(2.4e30) == "2.4e+30"


@needs_fashion
def test_adam_without_lr_trains_and_the_header_names_loss_init_dtype(tmp_path, capsys):
    assert twolayer.main(SMALL + ["--optimizer", "adam", "--epochs", "1", "--batch-size", "16",
                                  "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("model "))
    assert "adam lr 0.001 " in header and header.endswith("· 1 epoch")
    assert "loss cross_entropy · init he · float32" in header
    assert float(out.strip().splitlines()[-1].split()[2]) > 0.6   # 63 steps of Adam at 1e-3


@needs_fashion
def test_weights_png_shows_what_the_first_layer_learned(tmp_path, capsys):
    assert twolayer.main(SMALL + ["--epochs", "2", "--init", "xavier",
                                  "--out", str(tmp_path)]) == 0
    assert matplotlib.image.imread(tmp_path / "curves.png").shape[0] > 300
    assert matplotlib.image.imread(tmp_path / "weights.png").shape[0] > 300
    params, saved = load_checkpoint(tmp_path / "model.npz")
    initial = build_model(Config.from_dict(saved["config"])).state_dict()["W1"]
    assert not np.allclose(params["W1"], initial)      # the picture's W − W₀ is not zero
    assert np.linalg.norm(params["W1"] - initial) < np.linalg.norm(initial)


def test_the_curves_title_names_loss_init_and_dtype():
    title = figures.curves_title(Config(loss="mse", init="xavier", optimizer="adam", lr=1e-3),
                                 "MLP([784, 8, 10], activation='relu')")
    assert title.splitlines() == [
        "mnist: MLP([784, 8, 10], activation='relu')",
        "loss mse · init xavier · float32 · adam lr 0.001 (cosine) · l2 0.0001 · batch 128"]

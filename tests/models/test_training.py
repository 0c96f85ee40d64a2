"""The training loop (models/train/loop.py): early stopping, the per-epoch table that keeps
its columns whatever the numbers, and a diverging run that says so once."""

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from models.data.datasets import Splits
from models.train.config import Config
from models.train.divergence import Diverged
from models.train.loop import Run
from models.train.table import COLUMNS, format_row

ROW = {"epoch": 1, "lr": 0.05, "train_loss": 0.5123, "train_acc": 0.8197, "val_loss": 0.4341,
       "val_acc": 0.8388, "seconds": 1.8}


def column_ends(line):
    """Where each right-aligned column ends: the character positions followed by a gap."""
    return [i for i, c in enumerate(line) if c != " " and (i + 1 == len(line) or line[i + 1] == " ")]


@pytest.mark.parametrize("changes", [
    {"train_loss": 4.6e23, "val_loss": 2.39e30},
    {"train_loss": -123456789.0, "val_loss": -0.5},
    {"train_loss": math.inf, "val_loss": math.nan, "val_acc": math.nan},
    {"seconds": 1234567.3, "lr": 1000.0, "epoch": 40},
])
def test_every_row_lines_up_under_the_header_whatever_the_values(changes):
    header, first = format_row(ROW, header=True).splitlines()
    other = format_row({**ROW, **changes})
    assert len(other) == len(first) == len(header)
    assert column_ends(other) == column_ends(header)
    for name, value in changes.items():
        if isinstance(value, float) and not math.isfinite(value):
            assert str(value) in other.split()


def test_ordinary_values_keep_their_fixed_point_form():
    header, line = format_row(ROW, header=True).splitlines()
    assert line.split() == ["1", "5.00e-02", "0.5123", "0.8197", "0.4341", "0.8388", "1.8"]
    assert header.split() == [name for name, _, _ in COLUMNS]


def test_a_diverging_run_raises_once_without_numpy_warnings():
    rng = np.random.default_rng(0)
    x = rng.random((256, 784), dtype=np.float32)
    y = rng.integers(0, 10, 256)
    splits = Splits(x, y, x[:64], y[:64], x[:64], y[:64], tuple("0123456789"))
    run = Run(Config(hidden=[32], lr=1e4, epochs=3, batch_size=32, schedule="constant"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # any RuntimeWarning would fail here
        with pytest.raises(Diverged, match="the loss (became|exploded)"):
            run.fit(splits, progress=False, log=lambda line: None)


def test_patience_stops_when_validation_accuracy_stalls():
    config = Config(hidden=[4], epochs=10, patience=2, lr=1e-9, optimizer="sgd")
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    splits = SimpleNamespace(x_train=x, y_train=rng.integers(0, 10, 64),
                             x_val=x[:32], y_val=rng.integers(0, 10, 32))
    run = Run(config)
    lines = []
    run.fit(splits, progress=False, log=lines.append)
    # lr 1e-9 changes nothing: epoch 1 is the best, epochs 2 and 3 do not improve
    assert len(run.history) == 3 and run.best["epoch"] == 1
    assert "early stopping" in lines[-1]

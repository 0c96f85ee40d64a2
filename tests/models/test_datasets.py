"""Fashion-MNIST from Debian's package, the validation split, and the offline errors."""

from pathlib import Path

import numpy as np
import pytest

from models.data.datasets import cache_dir, load_dataset

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                   reason="apt-get install dataset-fashion-mnist")


@pytest.fixture(scope="module")
def fashion():
    return load_dataset("fashion-mnist", download=False)


@needs_fashion
def test_fashion_mnist_splits_55000_5000_10000_in_unit_range(fashion):
    assert fashion.x_train.shape == (55000, 784) and fashion.y_train.shape == (55000,)
    assert fashion.x_val.shape == (5000, 784) and fashion.x_test.shape == (10000, 784)
    assert fashion.x_train.dtype == np.float32 and fashion.y_train.dtype == np.int64
    assert fashion.x_train.min() == 0.0 and fashion.x_train.max() == 1.0
    assert set(np.unique(fashion.y_train)) == set(range(10))
    assert fashion.class_names[9] == "Ankle boot"


@needs_fashion
def test_validation_split_is_seeded_and_disjoint_from_training(fashion):
    same = load_dataset("fashion-mnist", download=False, seed=0)
    other = load_dataset("fashion-mnist", download=False, seed=1)
    np.testing.assert_array_equal(same.x_val, fashion.x_val)
    assert not np.array_equal(other.y_val, fashion.y_val)
    train_rows = {row.tobytes() for row in fashion.x_train[:, 200:600]}
    overlap = sum(row.tobytes() in train_rows for row in fashion.x_val[:, 200:600])
    assert overlap < 20       # a handful of images in Fashion-MNIST are duplicates


@needs_fashion
def test_val_size_zero_and_float64(fashion):
    s = load_dataset("fashion-mnist", download=False, val_size=0, dtype=np.float64)
    assert s.x_val.shape == (0, 784) and s.x_train.shape == (60000, 784)
    assert s.x_train.dtype == np.float64


def test_offline_without_data_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    message = str(error.value)
    assert "not available offline" in message and str(tmp_path / "mnist") in message
    assert "train-images-idx3-ubyte.gz" in message and "--data-dir" in message
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", data_dir=tmp_path, download=False, system_dir=tmp_path / "none")


def test_unknown_dataset_and_bad_val_size_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'cifar10': choose one of mnist, fashion-mnist"):
        load_dataset("cifar10")


@needs_fashion
def test_val_size_must_leave_a_training_set():
    with pytest.raises(ValueError, match="val_size must be between 0 and 59999"):
        load_dataset("fashion-mnist", download=False, val_size=60000)


def test_cache_dir_follows_argument_then_env_then_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("TAPE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "tape-autodiff"
    monkeypatch.setenv("TAPE_DATA_DIR", str(tmp_path / "env"))
    assert cache_dir() == tmp_path / "env"
    assert cache_dir(tmp_path / "arg") == tmp_path / "arg"

"""MNIST and Fashion-MNIST: found on disk or downloaded once, then split.

    splits = load_dataset("mnist")      # x_train (55000, 784) float32 in [0, 1], ...

Where the files are looked for, in order:
- a folder the user named: `data_dir` (--data-dir), else $TAPE_DATA_DIR, with a
  subfolder per dataset. What the user names is what gets read;
- Fashion-MNIST only: the Debian package `dataset-fashion-mnist`
  (/usr/share/datasets/fashion-mnist). Debian recompressed those files, so they are
  checked by their IDX structure, not by the upstream checksums;
- the cache folder ($XDG_CACHE_HOME/tape-autodiff, ~/.cache/tape-autodiff), or the
  named folder if there is one;
- the public mirrors, tried in turn, each file checked against its known MD5.

Files are checked as they are read: images must be (n, rows, cols) with finite values,
labels (n,) integers in 0..9, as many labels as images; each error names the file.

The validation set is a seeded random sample of the 60,000 training images, held out
of training (55,000 / 5,000 / 10,000 by default, as in the course reports).
"""

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from models.data.download import DownloadError, download as fetch
from models.data.idx import IDXError, read_idx
from models.io.files import remove_stale_temporaries

FILES = {"train_images": "train-images-idx3-ubyte.gz",
         "train_labels": "train-labels-idx1-ubyte.gz",
         "test_images": "t10k-images-idx3-ubyte.gz",
         "test_labels": "t10k-labels-idx1-ubyte.gz"}

MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/",
              "http://yann.lecun.com/exdb/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"],
}

MD5 = {
    "mnist": {"train_images": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
              "train_labels": "d53e105ee54ea40749a09fcbcd1e9432",
              "test_images": "9fb629c4189551a2d022fa330f9573f3",
              "test_labels": "ec29112dd5afa0611ce80d1b7f02629c"},
    "fashion-mnist": {"train_images": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                      "train_labels": "25c81989df183df01b3e8a0aad5dffbe",
                      "test_images": "bef4ecab320f06d8554ea6380940ec79",
                      "test_labels": "bb300cfdad3c16e7a12a480ee83cd310"},
}

# the upstream files' sizes in bytes: a download may not send more than this
SIZES = {
    "mnist": {"train_images": 9912422, "train_labels": 28881,
              "test_images": 1648877, "test_labels": 4542},
    "fashion-mnist": {"train_images": 26421880, "train_labels": 29515,
                      "test_images": 4422102, "test_labels": 5148},
}

SYSTEM_DIRS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}

CLASS_NAMES = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                      "Shirt", "Sneaker", "Bag", "Ankle boot"),
}


class DatasetError(ValueError):
    """A request the dataset cannot meet (an unknown name, a split larger than the data)."""

    user_error = True


class Splits(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    source: Path = None          # the folder the files were read from


def cache_dir(data_dir=None):
    """The folder that holds downloaded datasets."""
    if data_dir:
        return Path(data_dir)
    if os.environ.get("TAPE_DATA_DIR"):
        return Path(os.environ["TAPE_DATA_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "tape-autodiff"


def load_dataset(name, data_dir=None, download=True, val_size=5000, seed=0, flatten=True,
                 dtype=np.float32, mirrors=None, system_dir=None):
    """The train / validation / test splits of `name` ("mnist" or "fashion-mnist")."""
    if name not in MIRRORS:
        raise DatasetError(f"unknown dataset {name!r}: choose one of {', '.join(MIRRORS)}")
    files = locate(name, data_dir, download, mirrors, system_dir)
    x_train, y_train = _pair(files["train_images"], files["train_labels"])
    x_test, y_test = _pair(files["test_images"], files["test_labels"])
    if files["train_images"].parent != cache_dir(data_dir) / name:
        _check_installed(name, x_train, x_test)
    if not 0 <= val_size < len(x_train):
        raise DatasetError(f"val_size must be between 0 and {len(x_train) - 1} (the training "
                         f"set has {len(x_train)} images), got {val_size}")
    order = np.random.default_rng(seed).permutation(len(x_train))
    val, train = np.sort(order[:val_size]), np.sort(order[val_size:])

    def images(x):
        x = (x.reshape(len(x), -1 if len(x) else 28 * 28) if flatten else x).astype(dtype)
        x /= 255                     # pixels in [0, 1]
        return x

    return Splits(images(x_train[train]), y_train[train].astype(np.int64),
                  images(x_train[val]), y_train[val].astype(np.int64),
                  images(x_test), y_test.astype(np.int64), CLASS_NAMES[name],
                  files["train_images"].parent)


def named_dir(data_dir=None):
    """The folder the user named (--data-dir, else $TAPE_DATA_DIR), or None."""
    if data_dir:
        return Path(data_dir)
    if os.environ.get("TAPE_DATA_DIR"):
        return Path(os.environ["TAPE_DATA_DIR"])
    return None


def locate(name, data_dir=None, download=True, mirrors=None, system_dir=None):
    """{file key: path} of the four files, downloading what is missing if allowed."""
    folder = cache_dir(data_dir) / name
    files = {k: folder / f for k, f in FILES.items()}
    named = named_dir(data_dir)
    if named is not None and any(path.exists() for path in files.values()):
        pass                 # the user's folder is what gets read, even if incomplete
    else:
        system = Path(system_dir) if system_dir else SYSTEM_DIRS.get(name)
        if system is not None and all((system / f).is_file() for f in FILES.values()):
            return {k: system / f for k, f in FILES.items()}
    missing = [k for k, path in files.items() if not path.is_file()]
    if missing:        # downloads killed more than an hour ago left these behind
        remove_stale_temporaries(folder, FILES.values(), older_than=3600)
    if missing and not download:
        raise FileNotFoundError(_offline_help(name, folder, [files[k].name for k in missing]))
    for key in missing:
        urls = [base + FILES[key] for base in (mirrors or MIRRORS[name])]
        try:
            fetch(urls, files[key], MD5[name].get(key), size=SIZES[name].get(key))
        except DownloadError as e:
            raise DownloadError(_download_help(name, folder, e), e.failures) from None
    return files


def _download_help(name, folder, error):
    """One line: why the download failed, and the two ways on."""
    if error.offline:
        why = "no network (the mirrors' names could not be looked up)"
    else:
        url, reason = error.failures[-1] if error.failures else ("", "no mirror given")
        why = f"every mirror failed, the last with: {reason}"
    other = ("use --dataset fashion-mnist (apt-get install dataset-fashion-mnist), or "
             if name == "mnist" else "install Debian's copy (apt-get install "
             "dataset-fashion-mnist), or ")
    return (f"could not download {name}: {why}. To go on, {other}put the four files "
            f"{', '.join(FILES.values())} in {folder}")


def _check_installed(name, x_train, x_test):
    """A packaged copy must be whole: Debian recompressed the files, so their bytes
    differ from upstream and cannot be checked by the upstream MD5s."""
    if x_train.shape != (60000, 28, 28) or x_test.shape != (10000, 28, 28):
        raise IDXError(f"the installed {name} has {x_train.shape} training and "
                       f"{x_test.shape} test images, expected (60000, 28, 28) and "
                       f"(10000, 28, 28); it looks damaged (reinstall the package)")


def _pair(images_path, labels_path):
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1:
        raise IDXError(f"{images_path} should hold (n, rows, cols) images and "
                       f"{labels_path} (n,) labels; got {images.shape} and {labels.shape}")
    if len(images) != len(labels):
        raise IDXError(f"{images_path} has {len(images)} images but {labels_path} has "
                       f"{len(labels)} labels; they must agree")
    if labels.dtype.kind not in "iu":
        raise IDXError(f"{labels_path}: labels must be integers (class ids 0..9), but the "
                       f"file holds {labels.dtype} values")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise IDXError(f"{labels_path}: labels must be 0..9, found {labels.min()}..{labels.max()}")
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        bad = int(images.size - np.isfinite(images).sum())
        raise IDXError(f"{images_path}: {bad} pixel values are NaN or infinite; images "
                       f"must be finite numbers")
    return images, labels


def _offline_help(name, folder, missing):
    """One line: what is missing where, and the ways to get it."""
    ways = []
    if name == "fashion-mnist":
        ways.append("install Debian's copy (apt-get install dataset-fashion-mnist)")
    ways += ["run once with network access (without --no-download) to download it",
             f"or copy the four files {', '.join(FILES.values())} into {folder} (or point "
             f"--data-dir / TAPE_DATA_DIR at a folder holding a '{name}' subfolder with them)"]
    return (f"{name} is not available offline: missing {', '.join(missing)} in {folder}; "
            + ", ".join(ways))

"""Small generated MNIST-format datasets, for running the commands in a few seconds.

    folder = write_dataset(tmp_path)         # tmp_path/mnist/*.gz, 300 + 100 images
    twolayer.main(["--data-dir", str(tmp_path), ...])

Each class k is a bright 7×7 square at its own place on the 28×28 canvas plus noise, so
a network learns it within an epoch or two, like the real thing but at a fraction of
the cost.
"""

import numpy as np

from models.data.datasets import FILES
from models.data.idx import write_idx


def images_and_labels(n, rng):
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        r, c = 3 + 7 * (k // 4), 2 + 6 * (k % 4)
        images[i, r:r + 7, c:c + 7] = 200 + rng.integers(0, 55)
    return images, labels


def write_dataset(root, name="mnist", n_train=300, n_test=100, seed=0, files=None):
    """Write the four IDX files of `name` under root/name; returns that folder.

    files: optional {file key: ndarray} replacing a generated file's content.
    """
    rng = np.random.default_rng(seed)
    folder = root / name
    train_x, train_y = images_and_labels(n_train, rng)
    test_x, test_y = images_and_labels(n_test, rng)
    content = {"train_images": train_x, "train_labels": train_y,
               "test_images": test_x, "test_labels": test_y}
    content.update(files or {})
    for key, array in content.items():
        write_idx(folder / FILES[key], array)
    return folder


def write_data_dir(data_dir, n_train=600, n_test=200, seed=0):
    """write_dataset(data_dir, "mnist", ...) for tests that train many short runs; returns
    data_dir, for --data-dir data_dir --no-download."""
    write_dataset(data_dir, "mnist", n_train, n_test, seed)
    return data_dir

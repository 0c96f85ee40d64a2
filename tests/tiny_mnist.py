"""A tiny learnable MNIST in IDX files, for tests that train many short runs.

Each class lights its own 8×4 patch on a noisy background, so a small net reaches
high accuracy in a few epochs and a bad learning rate visibly does not.
"""

import numpy as np

from models.data.datasets import FILES
from models.data.idx import write_idx


def images(n, rng):
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = rng.integers(0, 60, (n, 28, 28)).astype(np.int32)
    for k in range(10):
        r, c = divmod(k, 5)
        x[y == k, 4 + 10 * r:12 + 10 * r, 2 + 5 * c:6 + 5 * c] += 150
    return x.clip(0, 255).astype(np.uint8), y


def write_tiny_mnist(data_dir, n_train=600, n_test=200, seed=0):
    """Write <data_dir>/mnist/*.gz; use with --data-dir data_dir --no-download."""
    rng = np.random.default_rng(seed)
    folder = data_dir / "mnist"
    for (x, y), (images_key, labels_key) in (
            (images(n_train, rng), ("train_images", "train_labels")),
            (images(n_test, rng), ("test_images", "test_labels"))):
        write_idx(folder / FILES[images_key], x)
        write_idx(folder / FILES[labels_key], y)
    return data_dir

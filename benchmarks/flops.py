"""The FLOP lower bound of an epoch: how long its matrix products alone would take.

An epoch of the 784-256-10 network does five matrix products per batch: forward X·W1 and
H·W2, backward dW2 = Hᵀ·Δ₂, dH = Δ₂·W2ᵀ and dW1 = Xᵀ·Δ₁ (the images need no gradient).
At the machine's peak float32 matmul speed they take `epoch_flops / peak` seconds; a
backend's fraction of that bound is the bound divided by its real epoch time. The peak
is measured in each round just before the epochs it is compared with: the shared
machine's speed drifts.
"""

import numpy as np

from .measure import median_time


def peak_matmul_gflops(n=2048, repeat=5):
    """The machine's float32 matmul speed on a large square product (numpy's BLAS)."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    seconds = median_time(lambda: a @ b, repeat=repeat, number=1)
    return 2 * n ** 3 / seconds / 1e9


def epoch_flops(n_examples, sizes=(784, 256, 10)):
    """2·m·k·n per product of an (m, k) and a (k, n) matrix, for the five products."""
    d, h, k = sizes
    forward = 2 * n_examples * (d * h + h * k)
    backward = 2 * n_examples * (h * k + k * h + d * h)
    return forward + backward

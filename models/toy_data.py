"""Two-dimensional toy datasets, as scikit-learn makes them (it is not a dependency).

`make_moons` and `make_blobs` take the same parameters as `sklearn.datasets` and
follow the same recipe, so the course's experiments can be repeated without it.
"""

import numbers

import numpy as np


def _rng(random_state):
    if isinstance(random_state, np.random.RandomState):
        return random_state
    return np.random.RandomState(random_state)


def make_moons(n_samples=100, shuffle=True, noise=None, random_state=None):
    """Two interleaving half circles: X (n, 2) and labels y (n,) in {0, 1}.

    The outer moon is (cos t, sin t), the inner one (1 − cos t, 1 − sin t − ½), t in [0, π];
    `noise` is the standard deviation of Gaussian noise added to every point.
    """
    if isinstance(n_samples, numbers.Integral):
        if n_samples < 2:
            raise ValueError(f"make_moons needs n_samples ≥ 2, got {n_samples}")
        n_out, n_in = n_samples // 2 + n_samples % 2, n_samples // 2
    else:
        try:
            n_out, n_in = n_samples
        except (TypeError, ValueError):
            raise ValueError("n_samples must be an int or a pair (n_outer, n_inner)") from None
    if noise is not None and noise < 0:
        raise ValueError(f"noise must be non-negative, got {noise}")
    rng = _rng(random_state)
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.c_[np.cos(t_out), np.sin(t_out)],
                   np.c_[1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]])
    y = np.r_[np.zeros(n_out, np.int64), np.ones(n_in, np.int64)]
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    if noise is not None:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def make_blobs(n_samples=100, n_features=2, centers=None, cluster_std=1.0,
               center_box=(-10.0, 10.0), shuffle=True, random_state=None):
    """Gaussian clusters: X (n, n_features) and labels y (n,), one label per centre.

    `centers` is a number of clusters (placed uniformly at random in `center_box`) or
    an array of centres; `n_samples` an int split as evenly as possible, or one count per
    cluster; `cluster_std` one standard deviation or one per cluster.
    """
    rng = _rng(random_state)
    if isinstance(n_samples, numbers.Integral):
        if centers is None:
            centers = 3
        if isinstance(centers, numbers.Integral):
            centers = rng.uniform(center_box[0], center_box[1], size=(centers, n_features))
        else:
            centers = np.asarray(centers, dtype=float)
            n_features = centers.shape[1]
        counts = [n_samples // len(centers)] * len(centers)
        for i in range(n_samples % len(centers)):
            counts[i] += 1
    else:
        counts = list(n_samples)
        if centers is None:
            centers = rng.uniform(center_box[0], center_box[1], size=(len(counts), n_features))
        centers = np.asarray(centers, dtype=float)
        if len(centers) != len(counts):
            raise ValueError(f"make_blobs: {len(counts)} sample counts but {len(centers)} centers")
        n_features = centers.shape[1]
    stds = np.full(len(centers), cluster_std, dtype=float) if np.isscalar(cluster_std) \
        else np.asarray(cluster_std, dtype=float)
    if len(stds) != len(centers):
        raise ValueError(f"make_blobs: cluster_std has {len(stds)} values for {len(centers)} centers")
    X = np.vstack([rng.normal(loc=c, scale=s, size=(n, n_features))
                   for c, s, n in zip(centers, stds, counts)])
    y = np.concatenate([np.full(n, k, np.int64) for k, n in enumerate(counts)])
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return X, y

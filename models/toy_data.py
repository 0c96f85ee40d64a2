"""Two-dimensional toy datasets, as scikit-learn makes them (it is not a dependency).

`make_moons` and `make_blobs` take the parameters of `sklearn.datasets.make_moons` and
`sklearn.datasets.make_blobs`, mean the same by them, and draw from the random
generator in the same order, so a given `random_state` gives the same points as
scikit-learn does. X is float64 of shape (n_samples, n_features); y holds int64 labels.
"""

import numbers

import numpy as np


def check_random_state(random_state):
    """The generator to draw from, as scikit-learn chooses it.

    None: numpy's global RandomState (so `np.random.seed` makes the data reproducible);
    an int: a new RandomState seeded with it; a RandomState: itself, and it advances.
    """
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, numbers.Integral):
        return np.random.RandomState(random_state)
    if isinstance(random_state, np.random.RandomState):
        return random_state
    raise ValueError(f"random_state must be None, an int or a np.random.RandomState, "
                     f"got {random_state!r}")


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_moons(n_samples=100, shuffle=True, noise=None, random_state=None):
    """Two interleaving half circles: X of shape (n, 2) and labels y of shape (n,) in {0, 1}.

    Class 0, the outer moon: (cos t, sin t) for t from 0 to π, an upper half circle.
    Class 1, the inner moon: (1 − cos t, ½ − sin t), the same circle turned upside down
    and moved by (1, −½), so that each moon reaches into the other's hollow.
    The angles t are evenly spaced; `noise` (if not None) is the standard deviation of
    Gaussian noise added to every coordinate.

    n_samples: the total (an odd point goes to the inner moon) or a pair
    (n_outer, n_inner). Shuffling, then the noise, are drawn from `random_state`.
    """
    if isinstance(n_samples, numbers.Integral):
        if n_samples < 1:
            raise ValueError(f"make_moons: n_samples must be at least 1, got {n_samples}")
        n_outer = n_samples // 2
        n_inner = n_samples - n_outer
    elif isinstance(n_samples, (tuple, list)) and len(n_samples) == 2 \
            and all(isinstance(n, numbers.Integral) and n >= 0 for n in n_samples):
        n_outer, n_inner = n_samples
    else:
        raise ValueError(f"make_moons: n_samples must be an int or a pair of counts "
                         f"(n_outer, n_inner), got {n_samples!r}")
    if noise is not None and not noise >= 0:
        raise ValueError(f"make_moons: noise must be non-negative (a standard deviation) "
                         f"or None, got {noise!r}")
    rng = check_random_state(random_state)

    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n_inner)
    outer = np.column_stack([np.cos(t_outer), np.sin(t_outer)])
    inner = np.column_stack([1 - np.cos(t_inner), 1 - np.sin(t_inner) - 0.5])
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])

    if shuffle:
        X, y = _shuffled(X, y, rng)
    if noise is not None:
        X += rng.normal(scale=noise, size=X.shape)
    return X, y


def make_blobs(n_samples=100, n_features=2, centers=None, cluster_std=1.0,
               center_box=(-10.0, 10.0), shuffle=True, random_state=None,
               return_centers=False):
    """Isotropic Gaussian clusters: X (n, n_features) and labels y (n,), label k for centre k.

    n_samples:   an int, split as evenly as possible over the centres (the first ones
                 get one more), or a sequence with one count per centre.
    centers:     an int, the number of centres, drawn uniformly in `center_box`
                 (default 3 when n_samples is an int); or an array (n_centers, n_features),
                 which then fixes n_features. With a sequence of counts, centers must be
                 None (one random centre per count) or an array of as many centres.
    cluster_std: one standard deviation for all clusters, or one per cluster.
    Returns (X, y), or (X, y, centers) when return_centers is True.
    """
    rng = check_random_state(random_state)

    if isinstance(n_samples, numbers.Integral):
        if n_samples < 1:
            raise ValueError(f"make_blobs: n_samples must be at least 1, got {n_samples}")
        if centers is None:
            centers = 3
        if isinstance(centers, numbers.Integral):
            if centers < 1:
                raise ValueError(f"make_blobs: centers must be at least 1, got {centers}")
            centers = rng.uniform(center_box[0], center_box[1], size=(centers, n_features))
        else:
            centers = _as_centers(centers)
        k = len(centers)
        counts = [n_samples // k + (i < n_samples % k) for i in range(k)]
    else:
        counts = [int(n) for n in n_samples]
        if any(n < 0 for n in counts):
            raise ValueError(f"make_blobs: sample counts must be non-negative, got {counts}")
        if centers is None:
            centers = rng.uniform(center_box[0], center_box[1], size=(len(counts), n_features))
        elif isinstance(centers, numbers.Integral):
            raise ValueError(f"make_blobs: with one sample count per cluster ({counts}), "
                             f"centers must be None or an array of centres, got {centers}")
        centers = _as_centers(centers)
        if len(centers) != len(counts):
            raise ValueError(f"make_blobs: {len(counts)} sample counts but {len(centers)} "
                             f"centers (shape {centers.shape})")
    k, n_features = centers.shape

    if np.ndim(cluster_std) == 0:
        stds = np.full(k, float(cluster_std))
    else:
        stds = np.asarray(cluster_std, dtype=float)
        if len(stds) != k:
            raise ValueError(f"make_blobs: cluster_std has {len(stds)} values for {k} centers")
    if (stds < 0).any():
        raise ValueError(f"make_blobs: cluster_std must be non-negative, got {cluster_std!r}")

    # cluster by cluster, in order: the same draws as scikit-learn
    X = np.concatenate([rng.normal(loc=centre, scale=std, size=(n, n_features))
                        for centre, std, n in zip(centers, stds, counts)])
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    if shuffle:
        X, y = _shuffled(X, y, rng)
    return (X, y, centers) if return_centers else (X, y)


def _as_centers(centers):
    centers = np.asarray(centers, dtype=float)
    if centers.ndim != 2 or len(centers) == 0:
        raise ValueError(f"make_blobs: centers must be an int or an array of shape "
                         f"(n_centers, n_features), got shape {centers.shape}")
    return centers

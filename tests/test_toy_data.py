"""make_moons and make_blobs: scikit-learn's parameters and shapes, seeded."""

import numpy as np
import pytest

from models.toy_data import make_blobs, make_moons


def test_moons_without_noise_lie_on_the_two_half_circles():
    X, y = make_moons(101, noise=None, random_state=0)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [51, 50]
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0)
    assert (outer[:, 1] >= -1e-12).all() and (inner[:, 1] <= 0.5 + 1e-12).all()


def test_moons_are_reproducible_and_noisy_when_asked():
    a, b = make_moons(50, noise=0.1, random_state=3), make_moons(50, noise=0.1, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(np.hypot(*a[0][a[1] == 0].T), 1.0)
    X, y = make_moons((10, 30), shuffle=False)
    assert np.bincount(y).tolist() == [10, 30] and (y[:10] == 0).all()


def test_blobs_are_centred_with_the_asked_spread():
    centers = np.array([[0.0, 0.0], [10.0, -5.0]])
    X, y = make_blobs(4000, centers=centers, cluster_std=[0.5, 2.0], random_state=0)
    for k, (c, s) in enumerate(zip(centers, [0.5, 2.0])):
        np.testing.assert_allclose(X[y == k].mean(axis=0), c, atol=0.15)
        np.testing.assert_allclose(X[y == k].std(axis=0), s, rtol=0.08)


def test_blobs_defaults_and_counts():
    X, y = make_blobs(10, random_state=1)
    assert X.shape == (10, 2) and np.bincount(y).tolist() == [4, 3, 3]
    X, y = make_blobs([5, 7], n_features=3, random_state=1)
    assert X.shape == (12, 3) and np.bincount(y).tolist() == [5, 7]
    assert y.dtype == np.int64


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="noise must be non-negative"):
        make_moons(10, noise=-1)
    with pytest.raises(ValueError, match="2 sample counts but 3 centers"):
        make_blobs([5, 5], centers=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="cluster_std has 2 values for 3 centers"):
        make_blobs(9, centers=3, cluster_std=[1.0, 2.0])

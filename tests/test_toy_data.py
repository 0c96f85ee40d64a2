"""make_moons and make_blobs: scikit-learn's parameters, shapes, label counts and draws."""

import numpy as np
import pytest

from models.toy_data import check_random_state, make_blobs, make_moons


# ---- make_moons -------------------------------------------------------------------------

def test_moons_shapes_and_dtypes():
    X, y = make_moons(100, random_state=0)
    assert X.shape == (100, 2) and y.shape == (100,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50]


def test_moons_odd_point_goes_to_the_inner_moon():
    _, y = make_moons(101, random_state=0)
    assert np.bincount(y).tolist() == [50, 51]


@pytest.mark.parametrize("counts", [(10, 30), [7, 0]])
def test_moons_take_a_pair_of_counts(counts):
    X, y = make_moons(counts, shuffle=False)
    assert len(X) == sum(counts) and np.bincount(y, minlength=2).tolist() == list(counts)
    assert (y[:counts[0]] == 0).all()                       # unshuffled: outer moon first


def test_moons_without_noise_lie_exactly_on_the_two_half_circles():
    X, y = make_moons(101, noise=None, random_state=0)
    outer, inner = X[y == 0], X[y == 1]
    # outer: the upper half of the unit circle around (0, 0)
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, rtol=1e-12)
    assert (outer[:, 1] >= -1e-12).all()
    # inner: the lower half of the unit circle around (1, ½)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, rtol=1e-12)
    assert (inner[:, 1] <= 0.5 + 1e-12).all()


def test_moons_angles_are_evenly_spaced_from_0_to_pi():
    X, y = make_moons(10, shuffle=False)
    t = np.linspace(0, np.pi, 5)
    np.testing.assert_allclose(X[:5], np.column_stack([np.cos(t), np.sin(t)]))
    np.testing.assert_allclose(X[5:], np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]))


def test_moons_noise_is_gaussian_with_the_asked_std():
    clean, y_clean = make_moons(4000, random_state=1)
    noisy, y = make_moons(4000, noise=0.2, random_state=1)      # same shuffle, then noise
    assert np.array_equal(y, y_clean)
    residual = noisy - clean
    assert abs(residual.mean()) < 0.01
    np.testing.assert_allclose(residual.std(axis=0), 0.2, rtol=0.05)


def test_moons_are_reproducible_with_random_state():
    a, b = make_moons(50, noise=0.1, random_state=3), make_moons(50, noise=0.1, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = make_moons(50, noise=0.1, random_state=4)
    assert not np.array_equal(a[0], c[0])


def test_moons_draw_what_scikit_learn_draws():
    # sklearn.datasets.make_moons(6, noise=0.1, random_state=0), scikit-learn 1.9.1
    X, y = make_moons(6, noise=0.1, random_state=0)
    np.testing.assert_array_equal(y, [1, 0, 0, 1, 0, 1])
    np.testing.assert_allclose(X, [[1.9157275946170713, 0.6969924447869893],
                                   [-0.8733881470142222, -0.05058765397605105],
                                   [0.25452007784710545, 1.1080811913055446],
                                   [0.04843121541206648, 0.5579140478706729],
                                   [0.9818417427268804, 0.1410204631131214],
                                   [0.9625528309019793, -0.47248016844236795]], rtol=1e-12)


# ---- make_blobs --------------------------------------------------------------------------

def test_blobs_defaults_three_centres_and_counts_split_evenly():
    X, y = make_blobs(random_state=0)
    assert X.shape == (100, 2) and np.bincount(y).tolist() == [34, 33, 33]
    X, y = make_blobs(10, random_state=1)
    assert np.bincount(y).tolist() == [4, 3, 3]
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_blobs_take_one_count_per_cluster():
    X, y = make_blobs([5, 7], n_features=3, random_state=1)
    assert X.shape == (12, 3) and np.bincount(y).tolist() == [5, 7]


def test_blobs_centres_array_sets_the_number_of_features():
    X, y = make_blobs(20, n_features=7, centers=np.zeros((4, 5)), random_state=0)
    assert X.shape == (20, 5) and np.bincount(y).tolist() == [5, 5, 5, 5]


def test_blobs_are_centred_where_asked_with_the_asked_spread():
    centers = np.array([[0.0, 0.0], [10.0, -5.0]])
    X, y = make_blobs(4000, centers=centers, cluster_std=[0.5, 2.0], random_state=0)
    for k, (c, s) in enumerate(zip(centers, [0.5, 2.0])):
        cluster = X[y == k]
        # the standard error of a mean of 2000 draws is s / √2000 ≤ 0.045
        np.testing.assert_allclose(cluster.mean(axis=0), c, atol=4 * s / np.sqrt(len(cluster)))
        np.testing.assert_allclose(cluster.std(axis=0), s, rtol=0.08)


def test_blobs_random_centres_lie_in_the_center_box():
    _, _, centers = make_blobs(50, n_features=3, centers=20, center_box=(2.0, 3.0),
                               random_state=0, return_centers=True)
    assert centers.shape == (20, 3) and ((centers >= 2) & (centers <= 3)).all()


def test_blobs_unshuffled_come_cluster_by_cluster():
    _, y = make_blobs([2, 3, 1], shuffle=False, random_state=0)
    assert y.tolist() == [0, 0, 1, 1, 1, 2]


def test_blobs_draw_what_scikit_learn_draws():
    # the examples of scikit-learn's make_blobs docstring
    _, y = make_blobs(n_samples=10, centers=3, n_features=2, random_state=0)
    assert y.tolist() == [0, 0, 1, 0, 2, 2, 2, 1, 1, 0]
    _, y = make_blobs(n_samples=[3, 3, 4], centers=None, n_features=2, random_state=0)
    assert y.tolist() == [0, 1, 2, 0, 2, 2, 2, 1, 1, 0]
    # sklearn.datasets.make_blobs(5, centers=2, random_state=1, return_centers=True), 1.9.1
    X, y, centers = make_blobs(5, centers=2, random_state=1, return_centers=True)
    assert y.tolist() == [1, 1, 0, 0, 0]
    np.testing.assert_allclose(centers, [[-1.6595599059485195, 4.4064898688431615],
                                         [-9.997712503653101, -3.9533485473632046]], rtol=1e-12)
    np.testing.assert_allclose(X[0], [-8.535604566608127, -6.013489256860859], rtol=1e-12)


# ---- random_state ------------------------------------------------------------------------

def test_random_state_none_follows_np_random_seed_and_a_generator_advances():
    saved = np.random.get_state()
    try:
        np.random.seed(5)
        a = make_blobs(8, random_state=None)[0]
        np.random.seed(5)
        b = make_blobs(8, random_state=None)[0]
    finally:
        np.random.set_state(saved)                   # leave the global generator as found
    np.testing.assert_array_equal(a, b)
    rng = np.random.RandomState(0)
    assert check_random_state(rng) is rng
    first, second = make_moons(8, noise=0.1, random_state=rng), make_moons(8, noise=0.1, random_state=rng)
    assert not np.array_equal(first[0], second[0])


# ---- bad arguments ---------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: make_moons(10, noise=-1), "noise must be non-negative"),
    (lambda: make_moons(0), "n_samples must be at least 1, got 0"),
    (lambda: make_moons((1, 2, 3)), r"a pair of counts \(n_outer, n_inner\), got \(1, 2, 3\)"),
    (lambda: make_moons(10, random_state="seed"), "random_state must be None, an int"),
    (lambda: make_blobs([5, 5], centers=np.zeros((3, 2))), "2 sample counts but 3 centers"),
    (lambda: make_blobs([5, 5], centers=2), "centers must be None or an array of centres"),
    (lambda: make_blobs(9, centers=3, cluster_std=[1.0, 2.0]), "cluster_std has 2 values for 3 centers"),
    (lambda: make_blobs(9, cluster_std=-1.0), "cluster_std must be non-negative"),
    (lambda: make_blobs(9, centers=np.zeros(3)), r"shape \(n_centers, n_features\), got shape \(3,\)"),
    (lambda: make_blobs(0), "n_samples must be at least 1"),
])
def test_bad_arguments_are_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()

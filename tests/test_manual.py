"""models/manual.py, the hand-derived reference: each backward against finite
differences, the named formulas, float32 kept, and a network that learns."""

import numpy as np
import pytest

from models import manual

rng = np.random.default_rng(0)


def numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        plus = f()
        x[idx] = old - eps
        minus = f()
        x[idx] = old
        g[idx] = (plus - minus) / (2 * eps)
    return g


def test_affine_backward_is_xT_delta_delta_wT_and_sum():
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    D = rng.standard_normal((4, 2))
    _, cache = manual.affine_forward(X, W, b)
    dX, dW, db = manual.affine_backward(D, cache)
    np.testing.assert_allclose(dW, numeric_grad(lambda: (manual.affine_forward(X, W, b)[0] * D).sum(), W), rtol=1e-6)
    np.testing.assert_allclose(dX, numeric_grad(lambda: (manual.affine_forward(X, W, b)[0] * D).sum(), X), rtol=1e-6)
    np.testing.assert_allclose(db, D.sum(0))
    assert manual.affine_backward(D, cache, need_dX=False)[0] is None


@pytest.mark.parametrize("name", list(manual.ACTIVATIONS))
def test_activation_backward_matches_finite_differences(name):
    forward, backward = manual.ACTIVATIONS[name]
    z = rng.uniform(-2, 2, (3, 4))
    z[np.abs(z) < 0.05] = 0.3
    z[np.abs(np.abs(z) - 1) < 0.05] = 0.5           # away from the kinks of hardtanh
    D = rng.standard_normal(z.shape)
    _, cache = forward(z)
    np.testing.assert_allclose(backward(D, cache), numeric_grad(lambda: (forward(z)[0] * D).sum(), z),
                               rtol=1e-5, atol=1e-8)


def test_softmax_cross_entropy_gradient_is_a_minus_y_over_n_and_stable():
    scores, y = rng.standard_normal((5, 4)), np.array([0, 1, 3, 3, 2])
    loss, d = manual.softmax_cross_entropy(scores, y)
    np.testing.assert_allclose(d, numeric_grad(lambda: manual.softmax_cross_entropy(scores, y)[0], scores), rtol=1e-5, atol=1e-9)
    loss, d = manual.softmax_cross_entropy(np.array([[1e4, 0.0], [0.0, 1e4]]), np.array([0, 0]))
    assert np.isfinite(loss) and loss == pytest.approx(5000.0)


@pytest.mark.parametrize("activation", list(manual.ACTIVATIONS))
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("sizes", [[5, 4, 3], [5, 4, 6, 3]])
def test_mlp_loss_and_grads_matches_finite_differences(activation, loss, sizes):
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = rng.standard_normal((a, b)) * 0.7
        params[f"b{i}"] = rng.standard_normal(b) * 0.1
    X, y = rng.standard_normal((6, sizes[0])), rng.integers(0, sizes[-1], 6)
    value, grads = manual.mlp_loss_and_grads(params, X, y, activation, loss, l2=0.01)
    for name, p in params.items():
        f = lambda: manual.mlp_loss_and_grads(params, X, y, activation, loss, l2=0.01)[0]  # noqa: E731
        np.testing.assert_allclose(grads[name], numeric_grad(f, p), rtol=1e-4, atol=1e-7, err_msg=name)


def test_float32_stays_float32():
    params = {"W1": rng.standard_normal((5, 4)).astype(np.float32), "b1": np.zeros(4, np.float32),
              "W2": rng.standard_normal((4, 3)).astype(np.float32), "b2": np.zeros(3, np.float32)}
    X = rng.standard_normal((6, 5)).astype(np.float32)
    for loss in ("cross_entropy", "mse"):
        _, grads = manual.mlp_loss_and_grads(params, X, rng.integers(0, 3, 6), loss=loss, l2=0.1)
        assert all(g.dtype == np.float32 for g in grads.values())


def test_sgd_momentum_drives_the_loss_down():
    X = rng.standard_normal((100, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    params = {"W1": rng.standard_normal((2, 8)).astype(np.float32), "b1": np.zeros(8, np.float32),
              "W2": rng.standard_normal((8, 2)).astype(np.float32), "b2": np.zeros(2, np.float32)}
    velocity = {}
    first = manual.mlp_loss_and_grads(params, X, y)[0]
    for _ in range(200):
        _, grads = manual.mlp_loss_and_grads(params, X, y)
        manual.sgd_momentum_step(params, grads, velocity, lr=0.1, momentum=0.9)
    assert manual.mlp_loss_and_grads(params, X, y)[0] < 0.2 * first

"""models/manual/formulas.py, the hand-derived reference: each backward against central finite
differences (float64), the named formulas, float32 kept float32, clear errors, and a
network trained with sgd_momentum_step that learns."""

import warnings

import numpy as np
import pytest

from models import manual
from tape import numerical_gradient

rng = np.random.default_rng(0)


def numeric_grad(f, x, eps=1e-6):
    """∂f/∂x by the project's one finite-difference helper, for an f() that reads x:
    x is set to each moved copy in turn, and restored."""
    original = x.copy()

    def at(moved):
        x[...] = moved
        return f()

    try:
        return numerical_gradient(at, x, eps)
    finally:
        x[...] = original


def random_params(sizes, dtype=np.float64):
    params = {}
    for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = (rng.standard_normal((a, b)) * 0.7).astype(dtype)
        params[f"b{l}"] = (rng.standard_normal(b) * 0.1).astype(dtype)
    return params


# ---- the fully connected layer -----------------------------------------------------

def test_affine_forward_is_xw_plus_b():
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    Z, _ = manual.affine_forward(X, W, b)
    np.testing.assert_allclose(Z, X @ W + b)


def test_affine_backward_is_xT_delta_delta_wT_and_batch_sum():
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    D = rng.standard_normal((4, 2))
    _, cache = manual.affine_forward(X, W, b)
    dX, dW, db = manual.affine_backward(D, cache)
    np.testing.assert_allclose(dW, X.T @ D)               # dW = XᵀΔ
    np.testing.assert_allclose(dX, D @ W.T)               # dX = ΔWᵀ
    np.testing.assert_allclose(db, D.sum(axis=0))         # db = ΣΔ over the batch


def test_affine_backward_matches_finite_differences():
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    D = rng.standard_normal((4, 2))
    _, cache = manual.affine_forward(X, W, b)
    dX, dW, db = manual.affine_backward(D, cache)

    def f():
        return (manual.affine_forward(X, W, b)[0] * D).sum()
    for analytic, wrt in ((dX, X), (dW, W), (db, b)):
        np.testing.assert_allclose(analytic, numeric_grad(f, wrt), rtol=1e-6, atol=1e-9)


def test_affine_backward_can_skip_the_input_gradient():
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), np.zeros(2)
    _, cache = manual.affine_forward(X, W, b)
    assert manual.affine_backward(np.ones((4, 2)), cache, need_dX=False)[0] is None


def test_affine_shape_error_names_the_shapes():
    with pytest.raises(ValueError, match=r"X \(4, 3\) @ W \(5, 2\) \+ b \(2,\)"):
        manual.affine_forward(np.zeros((4, 3)), np.zeros((5, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"b \(3,\)"):
        manual.affine_forward(np.zeros((4, 3)), np.zeros((3, 2)), np.zeros(3))


# ---- activations ---------------------------------------------------------------------

def away_from_kinks(shape):
    """Points where every activation is differentiable (not at 0, not at ±1)."""
    z = rng.uniform(-2, 2, shape)
    z[np.abs(z) < 0.05] = 0.3
    z[np.abs(np.abs(z) - 1) < 0.05] = 0.5
    return z


@pytest.mark.parametrize("name", list(manual.ACTIVATIONS))
def test_activation_backward_matches_finite_differences(name):
    forward, backward = manual.ACTIVATIONS[name]
    z = away_from_kinks((3, 4))
    D = rng.standard_normal(z.shape)
    _, cache = forward(z)
    np.testing.assert_allclose(backward(D, cache),
                               numeric_grad(lambda: (forward(z)[0] * D).sum(), z),
                               rtol=1e-5, atol=1e-8)


def test_activation_derivatives_are_the_course_formulas():
    z = away_from_kinks((50,))
    ones = np.ones_like(z)
    s = 1 / (1 + np.exp(-z))
    assert np.array_equal(manual.relu_backward(ones, manual.relu_forward(z)[1]), (z > 0) * 1.0)
    np.testing.assert_allclose(manual.sigmoid_backward(ones, manual.sigmoid_forward(z)[1]),
                               s * (1 - s))                          # σ(1 − σ)
    np.testing.assert_allclose(manual.tanh_backward(ones, manual.tanh_forward(z)[1]),
                               1 - np.tanh(z) ** 2)                  # 1 − tanh²
    np.testing.assert_allclose(manual.leaky_relu_backward(ones, manual.leaky_relu_forward(z)[1]),
                               np.where(z > 0, 1.0, 0.01))           # default slope 0.01


def test_leaky_relu_slope_is_a_parameter():
    z = away_from_kinks((3, 4))
    D = rng.standard_normal(z.shape)
    out, cache = manual.leaky_relu_forward(z, slope=0.2)
    np.testing.assert_allclose(out, np.where(z > 0, z, 0.2 * z))
    np.testing.assert_allclose(
        manual.leaky_relu_backward(D, cache),
        numeric_grad(lambda: (manual.leaky_relu_forward(z, 0.2)[0] * D).sum(), z), rtol=1e-6)


def test_hardtanh_gradient_is_one_strictly_inside_and_zero_outside():
    z = np.array([-3.0, -1.0, -0.999, 0.0, 0.5, 0.999, 1.0, 3.0])
    out, cache = manual.hardtanh_forward(z)
    np.testing.assert_array_equal(out, np.clip(z, -1, 1))
    np.testing.assert_array_equal(manual.hardtanh_backward(np.ones_like(z), cache),
                                  [0, 0, 1, 1, 1, 1, 0, 0])


def test_sigmoid_saturates_without_overflow_warnings():
    z = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, _ = manual.sigmoid_forward(z)
    np.testing.assert_allclose(a, [0, 0, 0.5, 1, 1], atol=1e-30)


# ---- losses ----------------------------------------------------------------------------

def softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_softmax_cross_entropy_is_mean_negative_log_probability():
    scores, y = rng.standard_normal((5, 4)), np.array([0, 1, 3, 3, 2])
    loss, _ = manual.softmax_cross_entropy(scores, y)
    assert loss == pytest.approx(-np.log(softmax(scores)[np.arange(5), y]).mean())


def test_softmax_cross_entropy_gradient_is_a_minus_onehot_over_n():
    scores, y = rng.standard_normal((5, 4)), np.array([0, 1, 3, 3, 2])
    _, dscores = manual.softmax_cross_entropy(scores, y)
    np.testing.assert_allclose(dscores, (softmax(scores) - np.eye(4)[y]) / 5)
    np.testing.assert_allclose(
        dscores, numeric_grad(lambda: manual.softmax_cross_entropy(scores, y)[0], scores),
        rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_is_stable_for_huge_logits(dtype):
    scores = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0], [1e4, 1e4, 0.0]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no overflow, no log(0)
        loss, dscores = manual.softmax_cross_entropy(scores, np.array([0, 0, 1]))
    # −log a_y: 0 for a sure right answer, 1e4 for a sure wrong one, log 2 for a tie
    assert loss == pytest.approx((0 + 1e4 + np.log(2)) / 3, rel=1e-6)
    assert np.isfinite(dscores).all()
    np.testing.assert_allclose(dscores, [[0, 0, 0], [-1 / 3, 1 / 3, 0], [1 / 6, -1 / 6, 0]],
                               atol=1e-7)


def test_softmax_cross_entropy_refuses_bad_labels():
    with pytest.raises(ValueError, match=r"got scores \(5, 4\) and y \(4,\)"):
        manual.softmax_cross_entropy(np.zeros((5, 4)), np.zeros(4, int))
    with pytest.raises(TypeError, match="integer class ids"):
        manual.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_mse_is_mean_square_with_gradient_2_diff_over_size():
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, dpred = manual.mse_loss(pred, target)
    assert loss == pytest.approx(((pred - target) ** 2).mean())
    np.testing.assert_allclose(dpred, 2 * (pred - target) / pred.size)
    np.testing.assert_allclose(dpred, numeric_grad(lambda: manual.mse_loss(pred, target)[0], pred),
                               rtol=1e-6, atol=1e-10)


def test_mse_times_k_over_2_is_the_course_half_sum_over_n():
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    n, k = pred.shape
    loss, dpred = manual.mse_loss(pred, target)
    assert loss * k / 2 == pytest.approx(0.5 * ((pred - target) ** 2).sum() / n)
    np.testing.assert_allclose(dpred * k / 2, (pred - target) / n)


def test_mse_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"got \(4, 3\) and \(4, 2\)"):
        manual.mse_loss(np.zeros((4, 3)), np.zeros((4, 2)))


def test_l2_penalty_is_half_lambda_sum_of_squares_with_gradient_lambda_w():
    Ws = [rng.standard_normal((3, 2)), rng.standard_normal((2, 4))]
    loss, grads = manual.l2_penalty(Ws, 0.3)
    assert loss == pytest.approx(0.5 * 0.3 * sum((W ** 2).sum() for W in Ws))
    for W, g in zip(Ws, grads):
        np.testing.assert_allclose(g, 0.3 * W)
    named_loss, named = manual.l2_penalty({"W1": Ws[0], "W2": Ws[1]}, 0.3)
    assert named_loss == loss and list(named) == ["W1", "W2"]


# ---- a whole MLP ------------------------------------------------------------------------

@pytest.mark.parametrize("activation", list(manual.ACTIVATIONS))
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("sizes", [[5, 3], [5, 4, 3], [5, 4, 6, 3]])
def test_mlp_loss_and_grads_matches_finite_differences(activation, loss, sizes):
    params = random_params(sizes)
    X, y = rng.standard_normal((6, sizes[0])), rng.integers(0, sizes[-1], 6)

    def f():
        return manual.mlp_loss_and_grads(params, X, y, activation, loss, l2=0.01)[0]
    _, grads = manual.mlp_loss_and_grads(params, X, y, activation, loss, l2=0.01)
    assert set(grads) == set(params)
    for name, p in params.items():
        np.testing.assert_allclose(grads[name], numeric_grad(f, p), rtol=1e-4, atol=1e-7,
                                   err_msg=name)


def test_one_layer_mlp_is_softmax_regression_with_dw_xT_delta():
    params = random_params([5, 3])
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    _, grads = manual.mlp_loss_and_grads(params, X, y)
    delta = (softmax(X @ params["W1"] + params["b1"]) - np.eye(3)[y]) / 6
    np.testing.assert_allclose(grads["W1"], X.T @ delta)
    np.testing.assert_allclose(grads["b1"], delta.sum(axis=0))


def test_l2_reaches_the_weights_but_not_the_biases():
    params = random_params([5, 4, 3])
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    plain_loss, plain = manual.mlp_loss_and_grads(params, X, y)
    loss, reg = manual.mlp_loss_and_grads(params, X, y, l2=0.5)
    assert loss == pytest.approx(plain_loss + 0.25 * sum((params[w] ** 2).sum() for w in ("W1", "W2")))
    for name in ("W1", "W2"):
        np.testing.assert_allclose(reg[name], plain[name] + 0.5 * params[name])
    for name in ("b1", "b2"):
        np.testing.assert_array_equal(reg[name], plain[name])


def test_mlp_predict_is_the_argmax_of_the_scores():
    params = random_params([5, 4, 3])
    X = rng.standard_normal((6, 5))
    scores = np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
    np.testing.assert_allclose(manual.mlp_scores(params, X), scores)
    np.testing.assert_array_equal(manual.mlp_predict(params, X), scores.argmax(axis=1))


def test_mlp_refuses_unknown_names_and_missing_parameters():
    params = random_params([5, 4, 3])
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        manual.mlp_loss_and_grads(params, X, y, activation="swish")
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        manual.mlp_loss_and_grads(params, X, y, loss="hinge")
    del params["b2"]
    with pytest.raises(ValueError, match="W1, b1, ..., WL, bL"):
        manual.mlp_loss_and_grads(params, X, y)
    with pytest.raises(ValueError, match=r"X \(6, 7\) @ W \(5, 4\)"):
        manual.mlp_loss_and_grads(random_params([5, 4, 3]), rng.standard_normal((6, 7)), y)


# ---- float32 stays float32 ----------------------------------------------------------------

F32 = np.float32


def test_every_layer_and_loss_keeps_float32():
    X, W, b = (rng.standard_normal(s).astype(F32) for s in ((4, 3), (3, 2), (2,)))
    Z, cache = manual.affine_forward(X, W, b)
    assert Z.dtype == F32
    assert all(g.dtype == F32 for g in manual.affine_backward(Z, cache))
    for name, (forward, backward) in manual.ACTIVATIONS.items():
        out, cache = forward(Z)
        assert out.dtype == F32 and backward(Z, cache).dtype == F32, name
    out, cache = manual.leaky_relu_forward(Z, slope=np.float64(0.1))   # a float64 scalar
    assert out.dtype == F32 and manual.leaky_relu_backward(Z, cache).dtype == F32
    assert manual.softmax_cross_entropy(Z, np.array([0, 1, 1, 0]))[1].dtype == F32
    assert manual.mse_loss(Z, np.zeros_like(Z))[1].dtype == F32
    assert all(g.dtype == F32 for g in manual.l2_penalty([W], np.float64(0.1))[1])


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_mlp_gradients_and_sgd_step_keep_float32(loss):
    params = manual.init_mlp_params([5, 4, 3], dtype=F32)
    X = rng.standard_normal((6, 5)).astype(F32)
    _, grads = manual.mlp_loss_and_grads(params, X, rng.integers(0, 3, 6), loss=loss,
                                         l2=np.float64(0.1))
    assert all(g.dtype == F32 for g in grads.values())
    velocity = {}
    manual.sgd_momentum_step(params, grads, velocity, lr=np.float64(0.1), momentum=np.float64(0.9))
    assert all(p.dtype == F32 for p in params.values())
    assert all(v.dtype == F32 for v in velocity.values())


# ---- training ---------------------------------------------------------------------------

def test_sgd_momentum_step_is_v_mu_v_minus_lr_g_then_p_plus_v_in_place():
    p, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    v = np.array([0.1, 0.2])
    params, velocity = {"W1": p}, {"W1": v}
    manual.sgd_momentum_step(params, {"W1": g}, velocity, lr=0.1, momentum=0.9)
    expected_v = 0.9 * np.array([0.1, 0.2]) - 0.1 * g
    np.testing.assert_allclose(velocity["W1"], expected_v)
    np.testing.assert_allclose(params["W1"], np.array([1.0, 2.0]) + expected_v)
    assert params["W1"] is p and velocity["W1"] is v              # updated in place


def test_sgd_momentum_velocity_starts_at_zero():
    params, velocity = {"b1": np.zeros(2)}, {}
    manual.sgd_momentum_step(params, {"b1": np.array([1.0, -2.0])}, velocity, lr=0.5, momentum=0.9)
    np.testing.assert_allclose(params["b1"], [-0.5, 1.0])          # first step: plain SGD


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_sgd_momentum_trains_an_mlp_on_a_separable_problem(activation):
    X = rng.standard_normal((100, 2)).astype(F32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    params = manual.init_mlp_params([2, 8, 2], seed=1)
    velocity = {}
    first = manual.mlp_loss_and_grads(params, X, y, activation)[0]
    for _ in range(200):
        _, grads = manual.mlp_loss_and_grads(params, X, y, activation)
        manual.sgd_momentum_step(params, grads, velocity, lr=0.1, momentum=0.9)
    assert manual.mlp_loss_and_grads(params, X, y, activation)[0] < 0.2 * first
    assert (manual.mlp_predict(params, X, activation) == y).mean() > 0.95

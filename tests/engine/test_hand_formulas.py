"""The formulas the course derives by hand, each checked against the tape."""

import numpy as np
import pytest

import tape

rng = np.random.default_rng(42)
X = rng.standard_normal((6, 4))
W = rng.standard_normal((4, 3))
b = rng.standard_normal(3)
DELTA = rng.standard_normal((6, 3))          # ∂L/∂Z arriving from above


def layer():
    x = tape.tensor(X, requires_grad=True)
    w = tape.tensor(W, requires_grad=True)
    bias = tape.tensor(b, requires_grad=True)
    (x @ w + bias).backward(DELTA)
    return x, w, bias


def test_linear_weight_grad_is_xT_delta():
    np.testing.assert_allclose(layer()[1].grad, X.T @ DELTA, rtol=1e-12)


def test_linear_bias_grad_is_delta_summed_over_the_batch():
    np.testing.assert_allclose(layer()[2].grad, DELTA.sum(axis=0), rtol=1e-12)


def test_linear_input_grad_is_delta_wT():
    np.testing.assert_allclose(layer()[0].grad, DELTA @ W.T, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_op_grads_are_xT_delta_delta_wT_and_delta_summed(dtype):
    # tape.linear (what models.nn.Linear calls) has rules of its own, not matmul's and add's
    x, w, bias = (tape.tensor(v.astype(dtype), requires_grad=True) for v in (X, W, b))
    tape.linear(x, w, bias).backward(DELTA.astype(dtype))
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    delta, weights, inputs = DELTA.astype(dtype), W.astype(dtype), X.astype(dtype)
    np.testing.assert_allclose(w.grad, inputs.T @ delta, rtol=rtol)
    np.testing.assert_allclose(x.grad, delta @ weights.T, rtol=rtol)
    np.testing.assert_allclose(bias.grad, delta.sum(axis=0), rtol=rtol)
    assert w.grad.dtype == x.grad.dtype == bias.grad.dtype == dtype


def activation_grad(f, z, **kw):
    """dL/dz for L = Σ δ ⊙ f(z): the tape's answer, to compare with δ ⊙ f'(z)."""
    z = tape.tensor(z, requires_grad=True)
    f(z, **kw).backward(delta_for(z.shape))
    return z.grad


def delta_for(shape):
    return np.random.default_rng(7).uniform(0.5, 2.0, shape)   # Δ arriving from above


Z = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 2.5])


def test_relu_mask_is_zero_where_z_is_at_most_zero():
    mask = np.array([0, 0, 0, 1, 1, 1])               # z = 0 counts as "not active"
    np.testing.assert_array_equal(activation_grad(tape.relu, Z), delta_for(Z.shape) * mask)


def test_relu_mask_on_a_matrix_with_exact_zeros():
    z = np.array([[0.0, 1.0, -1.0], [2.0, 0.0, -0.0]])
    np.testing.assert_array_equal(activation_grad(tape.relu, z), delta_for(z.shape) * (z > 0))


def test_sigmoid_grad_is_sigma_times_one_minus_sigma():
    s = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(activation_grad(tape.sigmoid, Z), delta_for(Z.shape) * s * (1 - s),
                               rtol=1e-12)


def test_tanh_grad_is_one_minus_tanh_squared():
    np.testing.assert_allclose(activation_grad(tape.tanh, Z),
                               delta_for(Z.shape) * (1 - np.tanh(Z) ** 2), rtol=1e-12)


def test_leaky_relu_grad_is_one_or_the_slope():
    expected = np.array([0.01, 0.01, 0.01, 1, 1, 1])  # the default slope is 0.01
    np.testing.assert_allclose(activation_grad(tape.leaky_relu, Z), delta_for(Z.shape) * expected,
                               rtol=1e-12)
    expected = np.array([0.2, 0.2, 0.2, 1, 1, 1])
    np.testing.assert_allclose(activation_grad(tape.leaky_relu, Z, slope=0.2),
                               delta_for(Z.shape) * expected, rtol=1e-12)


def test_hardtanh_grad_is_one_inside_and_zero_outside():
    z = np.array([-2.0, -1.0, -0.5, 0.0, 0.9, 1.0, 1.5])
    inside = np.array([0, 0, 1, 1, 1, 0, 0])          # the corners ±1 count as outside
    np.testing.assert_array_equal(activation_grad(tape.hardtanh, z), delta_for(z.shape) * inside)


def second_derivative(f, z):
    return np.array([float(tape.grad(tape.grad(lambda x: f(x)))(v)) for v in z])


def test_sigmoid_second_derivative_is_sigma_one_minus_sigma_one_minus_two_sigma():
    s = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(second_derivative(tape.sigmoid, Z), s * (1 - s) * (1 - 2 * s),
                               rtol=1e-10, atol=1e-15)


def test_tanh_second_derivative_is_minus_two_tanh_times_one_minus_tanh_squared():
    t = np.tanh(Z)
    np.testing.assert_allclose(second_derivative(tape.tanh, Z), -2 * t * (1 - t * t),
                               rtol=1e-10, atol=1e-15)


def test_piecewise_linear_activations_have_zero_second_derivative():
    z = Z[Z != 0]
    for f in (tape.relu, tape.leaky_relu, tape.hardtanh):
        np.testing.assert_array_equal(second_derivative(f, z), 0.0)


def test_softmax_cross_entropy_grad_is_a_minus_y_over_n():
    scores = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    s = tape.tensor(scores, requires_grad=True)
    tape.cross_entropy(s, y).backward()
    a = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(s.grad, (a - np.eye(4)[y]) / 5, rtol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    s = tape.tensor(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]]), requires_grad=True)
    loss = tape.cross_entropy(s, np.array([0, 2]))
    loss.backward()
    assert loss.item() == pytest.approx(0.5 * 1e4)
    np.testing.assert_allclose(s.grad, [[0, 0, 0], [0, 0.5, -0.5]], atol=1e-12)


def test_mse_grad_is_two_residuals_over_size():
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    p = tape.tensor(pred, requires_grad=True)
    loss = tape.mse(p, target)
    loss.backward()
    assert loss.item() == pytest.approx(((pred - target) ** 2).mean())
    np.testing.assert_allclose(p.grad, 2 * (pred - target) / pred.size, rtol=1e-12)


def test_l2_penalty_grad_is_lambda_w():
    w = tape.tensor(W, requires_grad=True)
    (0.5 * 0.01 * (w * w).sum()).backward()
    np.testing.assert_allclose(w.grad, 0.01 * W, rtol=1e-12)


def test_two_layer_net_matches_the_reports_backward_pass():
    # the listing of report 001, in row-major form: dZ2 = a − y, dW2 = A1ᵀdZ2/N, ...
    y = np.array([0, 2, 1, 1, 0, 2])
    W2 = rng.standard_normal((3, 3))
    w1, b1, w2 = (tape.tensor(v, requires_grad=True) for v in (W, b, W2))
    tape.cross_entropy(tape.relu(X @ w1 + b1) @ w2, y).backward()
    Z1 = X @ W + b
    A1 = np.maximum(Z1, 0)
    S = A1 @ W2
    a = np.exp(S - S.max(1, keepdims=True))
    a /= a.sum(1, keepdims=True)
    dZ2 = (a - np.eye(3)[y]) / 6
    dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
    np.testing.assert_allclose(w2.grad, A1.T @ dZ2, rtol=1e-12)
    np.testing.assert_allclose(w1.grad, X.T @ dZ1, rtol=1e-12)
    np.testing.assert_allclose(b1.grad, dZ1.sum(0), rtol=1e-12)


def test_max_splits_the_gradient_equally_between_ties():
    x = tape.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0, 0.5, 0.5, 0])


def test_maximum_splits_the_gradient_half_and_half_at_a_tie():
    x = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tape.tensor([2.0, 2.0, 1.0], requires_grad=True)
    tape.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0.5, 1])
    np.testing.assert_array_equal(y.grad, [1, 0.5, 0])


def test_repeated_indices_add_their_gradients():
    x = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1])


@pytest.mark.parametrize("shape", [(1, 2), (3, 1), (4, 3)])
def test_cross_entropy_leaves_the_logits_as_they_were(shape):
    logits = np.random.default_rng(0).standard_normal(shape)
    before = logits.copy()
    tape.cross_entropy(tape.tensor(logits, requires_grad=True), np.zeros(shape[0], int))
    np.testing.assert_array_equal(logits, before)


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.5, 1.0, 2.0, -0.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_is_z_or_slope_times_z_exactly_for_any_slope(slope, dtype):
    z = np.array([-np.inf, -2.0, -0.5, -0.0, 0.0, 0.3, 1.0, np.inf, np.nan], dtype)
    with np.errstate(invalid="ignore"):              # slope 0: 0·(−∞) is nan, by definition
        expected = np.where(z > 0, z, z * dtype(slope))
        out = tape.leaky_relu(tape.tensor(z), slope=slope).data
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))   # −0.0 stays −0.0
    finite = z[np.isfinite(z)]
    grad = activation_grad(tape.leaky_relu, finite.astype(np.float64), slope=slope)
    np.testing.assert_allclose(grad, delta_for(finite.shape) * np.where(finite > 0, 1, slope),
                               rtol=1e-12)


def test_relu_gives_plus_zero_and_keeps_nan_and_infinities():
    z = np.array([-np.inf, -1.5, -0.0, 0.0, 2.0, np.inf, np.nan], np.float32)
    out = tape.relu(tape.tensor(z)).data
    np.testing.assert_array_equal(out, [0, 0, 0, 0, 2, np.inf, np.nan])
    assert not np.signbit(out[:4]).any() and out.dtype == np.float32


def test_leaky_relu_keeps_float32_whatever_type_the_slope_has():
    z = tape.tensor(np.array([-1.0, 2.0], np.float32), requires_grad=True)
    out = tape.leaky_relu(z, slope=np.float64(0.1))
    assert out.dtype == np.float32
    out.backward(np.ones(2, np.float32))
    assert z.grad.dtype == np.float32
    np.testing.assert_allclose(z.grad, [0.1, 1.0], rtol=1e-6)

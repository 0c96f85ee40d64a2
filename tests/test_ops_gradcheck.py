"""Every op: the tape's gradient equals central finite differences (float64),
over generated shapes, broadcasting included."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tape
from tests.strategies import arrays, broadcast_pair, distinct, positive, shapes


def check(f, *inputs):
    assert tape.gradcheck(f, list(inputs))


# ---- arithmetic, with broadcasting ------------------------------------------------

@pytest.mark.parametrize("op", [tape.add, tape.subtract, tape.multiply])
@given(data=st.data())
def test_binary_ops_with_broadcasting(op, data):
    a_shape, b_shape = data.draw(broadcast_pair())
    check(op, data.draw(arrays(a_shape)), data.draw(arrays(b_shape)))


@given(data=st.data())
def test_divide_with_broadcasting(data):
    a_shape, b_shape = data.draw(broadcast_pair())
    check(tape.divide, data.draw(arrays(a_shape)), data.draw(positive(b_shape)))


@given(data=st.data())
def test_power_tensor_to_scalar_and_tensor_to_tensor(data):
    a_shape, b_shape = data.draw(broadcast_pair())
    x = data.draw(positive(a_shape))
    check(lambda x: x ** 3, x)
    check(lambda x: x ** 0.5, x)
    check(tape.power, x, data.draw(arrays(b_shape, -1.5, 1.5)))


@given(x=shapes.flatmap(arrays))
def test_negative(x):
    check(lambda x: -x, x)


@given(x=shapes.flatmap(positive))
def test_reflected_operators_with_numbers(x):
    check(lambda x: 2 - x, x)
    check(lambda x: 1 / x, x)
    check(lambda x: 2 ** x, x)
    check(lambda x: 3 * x + 1, x)


def test_reflected_operators_with_arrays():
    rng = np.random.default_rng(0)
    A, W, C = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    check(lambda W: A @ W, W)
    check(lambda W: C - W, W)
    check(lambda W: np.ones((4, 2)) / (W * W + 1), W)


# ---- matmul in every arrangement -----------------------------------------------------

@pytest.mark.parametrize("a_shape, b_shape", [
    ((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)),
    ((4,), (4,)), ((2, 3, 4), (2, 4, 5)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))])
def test_matmul(a_shape, b_shape):
    rng = np.random.default_rng(0)
    check(tape.matmul, rng.standard_normal(a_shape), rng.standard_normal(b_shape))


@given(n=st.integers(1, 4), d=st.integers(1, 4), m=st.integers(1, 4))
def test_linear_is_xw_plus_b(n, d, m):
    rng = np.random.default_rng(n * 100 + d * 10 + m)
    X, W, b = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal(m)
    check(tape.linear, X, W, b)
    np.testing.assert_allclose(tape.linear(X, W, b).data, X @ W + b)


# ---- elementwise functions ---------------------------------------------------------------

@pytest.mark.parametrize("f", [tape.exp, tape.tanh, tape.sigmoid])
@given(x=shapes.flatmap(arrays))
def test_smooth_elementwise(f, x):
    check(f, x)


@pytest.mark.parametrize("f", [tape.log, tape.sqrt])
@given(x=shapes.flatmap(positive))
def test_functions_of_positive_inputs(f, x):
    check(f, x)


@given(x=shapes.flatmap(lambda s: arrays(s, away_from=[0.0])))
def test_relu_and_leaky_relu_away_from_the_kink(x):
    check(tape.relu, x)
    check(lambda x: tape.leaky_relu(x, slope=0.1), x)


@given(x=shapes.flatmap(lambda s: arrays(s, -2, 2, away_from=[-1.0, 1.0])))
def test_hardtanh_away_from_the_corners(x):
    check(tape.hardtanh, x)


@given(data=st.data())
def test_maximum_without_ties(data):
    a_shape, b_shape = data.draw(broadcast_pair())
    a = data.draw(arrays(a_shape))
    b = data.draw(arrays(b_shape))
    if np.min(np.abs(np.subtract(a, b))) > 0.05:
        check(tape.maximum, a, b)


@given(data=st.data())
def test_where(data):
    a_shape, b_shape = data.draw(broadcast_pair())
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    condition = np.broadcast_to(np.add(a, b) > 0, np.broadcast_shapes(a_shape, b_shape))
    check(lambda a, b: tape.where(condition, a, b), a, b)


# ---- reductions ------------------------------------------------------------------------

AXES = [None, 0, -1, (0, 1)]


@pytest.mark.parametrize("reduce", [tape.sum, tape.mean])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean(reduce, axis, keepdims):
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    check(lambda x: reduce(x, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@given(x=distinct((3, 4)))
def test_max_without_ties(axis, keepdims, x):
    check(lambda x: tape.max(x, axis=axis, keepdims=keepdims), x)


def test_max_splits_the_gradient_between_ties():
    x = tape.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0, 0.5, 0.5, 0])


# ---- shapes ------------------------------------------------------------------------------

def test_reshape_and_transpose():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    check(lambda x: x.reshape(4, 6) * np.arange(24.0).reshape(4, 6), x)
    check(lambda x: x.transpose(2, 0, 1) * np.arange(24.0).reshape(4, 2, 3), x)
    check(lambda x: x[0].T * np.arange(12.0).reshape(4, 3), x)


@pytest.mark.parametrize("index", [
    1, slice(1, 3), (slice(None), 2), (Ellipsis, 0), np.array([0, 2, 2, 1]),
    (np.array([0, 1, 1]), np.array([3, 0, 0])), (slice(None, None, -1), None)])
def test_indexing_including_repeated_integer_indices(index):
    x = np.random.default_rng(0).standard_normal((3, 4))
    weights = np.random.default_rng(1).standard_normal(x[index].shape)
    check(lambda x: x[index] * weights, x)


def test_indexing_with_repeats_adds_the_gradients():
    x = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    w = rng.standard_normal(np.concatenate([a, b], axis=axis).shape)
    check(lambda a, b: tape.concatenate([a, b], axis=axis) * w, a, b)
    ws = rng.standard_normal(np.stack([a, b], axis=axis).shape)
    check(lambda a, b: tape.stack([a, b], axis=axis) * ws, a, b)


@given(data=st.data())
def test_broadcast_to_and_sum_to_are_adjoint(data):
    small, _ = data.draw(broadcast_pair())
    big = (2,) + tuple(max(n, 2) for n in small)
    x = data.draw(arrays(small))
    w = np.random.default_rng(0).standard_normal(big)
    check(lambda x: tape.broadcast_to(x, shape=big) * w, x)
    y = np.random.default_rng(1).standard_normal(big)
    check(lambda y: tape.sum_to(y, shape=small) * x, y)


# ---- softmax and the losses ------------------------------------------------------------------

@pytest.mark.parametrize("axis", [-1, 0])
@given(x=arrays((3, 4), -5, 5))
def test_softmax_and_log_softmax(axis, x):
    w = np.random.default_rng(0).standard_normal((3, 4))
    check(lambda x: tape.softmax(x, axis=axis) * w, x)
    check(lambda x: tape.log_softmax(x, axis=axis) * w, x)


@given(logits=arrays((5, 4), -5, 5), labels=st.lists(st.integers(0, 3), min_size=5, max_size=5))
def test_cross_entropy(logits, labels):
    check(lambda z: tape.cross_entropy(z, np.array(labels)), logits)


@given(data=st.data())
def test_mse(data):
    shape = data.draw(shapes)
    check(tape.mse, data.draw(arrays(shape)), data.draw(arrays(shape)))

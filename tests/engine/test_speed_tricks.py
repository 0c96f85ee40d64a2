"""Every speed trick in tape/ computes what its plain form, written beside it, computes."""

import numpy as np
import pytest

import tape
from models import manual

rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_against_an_array_of_zeros_is_np_maximum_x_0(dtype):
    x = rng.standard_normal((64, 33)).astype(dtype)
    x[0, :3] = [0.0, -0.0, np.inf]
    np.testing.assert_array_equal(tape.relu(tape.tensor(x)).data, np.maximum(x, 0))


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.0])
def test_leaky_relu_as_a_maximum_is_the_where_form(slope):
    x = rng.standard_normal((50, 7)).astype(np.float32)
    fast = tape.leaky_relu(tape.tensor(x), slope=slope).data
    np.testing.assert_array_equal(fast, np.where(x > 0, x, x * np.float32(slope)))


def test_linear_bias_gradient_as_a_product_is_the_sum_over_the_batch():
    x = tape.tensor(rng.standard_normal((128, 20)))
    w = tape.tensor(rng.standard_normal((20, 10)), requires_grad=True)
    b = tape.tensor(rng.standard_normal(10), requires_grad=True)
    g = rng.standard_normal((128, 10))
    tape.linear(x, w, b).backward(g)
    np.testing.assert_allclose(b.grad, g.sum(axis=0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 1, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["0-d array", "numpy scalar"])
def test_broadcast_to_of_one_number_built_directly_is_np_broadcast_to(shape, dtype, kind):
    from tape.shapes import broadcast_to
    # a numpy scalar is what a 0-d adjoint times a number gives (the mean's g / n)
    x = np.array(2.5, dtype=dtype) if kind == "0-d array" else dtype(2.5)
    fast, plain = broadcast_to(x, shape=shape), np.broadcast_to(x, shape)
    assert fast.shape == plain.shape and fast.dtype == plain.dtype
    assert fast.strides == plain.strides and not fast.flags.writeable
    if kind == "0-d array":
        assert np.shares_memory(fast, x)
    np.testing.assert_array_equal(fast, plain)


@pytest.mark.parametrize("n", [1, 7, 512])
def test_cross_entropy_along_the_batch_is_the_per_row_formula(n):
    logits = rng.standard_normal((n, 10)) * 5
    labels = rng.integers(0, 10, n)
    expected_loss, expected_grad = manual.softmax_cross_entropy(logits, labels)
    z = tape.tensor(logits, requires_grad=True)
    loss = tape.cross_entropy(z, labels)
    loss.backward()
    np.testing.assert_allclose(loss.item(), expected_loss, rtol=1e-12)
    np.testing.assert_allclose(z.grad, expected_grad, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.bool_])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_as_add_reduce_is_np_sum(dtype, axis, keepdims):
    from tape.reductions import sum as tape_sum
    x = (rng.standard_normal((3, 4)) * 10).astype(dtype)
    fast, plain = tape_sum(x, axis=axis, keepdims=keepdims), np.sum(x, axis=axis, keepdims=keepdims)
    assert np.shape(fast) == np.shape(plain) and np.result_type(fast) == np.result_type(plain)
    np.testing.assert_array_equal(fast, plain)


@pytest.mark.parametrize("x", [rng.standard_normal((5, 3)), rng.standard_normal((5, 3)).T,
                               np.float32([[-1, 0, 2]]), np.array(-0.0), [1.0, -2.0]],
                         ids=["C", "transposed", "float32", "0-d", "list"])
def test_relu_against_fresh_zeros_is_np_maximum_with_0(x):
    from tape.activations import relu
    fast, plain = relu(x), np.maximum(x, 0)
    assert fast.shape == plain.shape and fast.dtype == plain.dtype
    np.testing.assert_array_equal(fast, plain)


@pytest.mark.parametrize("axes", [None, (1, 0, 2), (2, 0, 1), (-1, 0, 1)])
def test_transpose_and_reshape_as_methods_are_numpys_functions(axes):
    from tape.shapes import reshape, transpose
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(transpose(x, axes=axes), np.transpose(x, axes))
    np.testing.assert_array_equal(reshape(x, shape=(4, -1)), np.reshape(x, (4, -1)))
    np.testing.assert_array_equal(transpose([[1, 2]], axes=None), np.transpose([[1, 2]]))

"""Beyond the op table (tests/op_table.py, tests/engine/test_ops.py): the operators and the
methods of Tensor, numbers and ndarrays on either side, constants mixed with tensors,
and arrangements worth naming one by one (matmul's, indexing's). The tape's gradient
equals central finite differences in float64; values stay away from kinks and ties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tape
from tests.strategies import arrays, broadcast_pair, gridded, positive, shapes


def check(f, *inputs):
    assert tape.gradcheck(f, list(inputs)) is True


def weights(shape, seed=1):
    """A fixed random weighting, so that a linear op's gradient is not all ones."""
    return np.random.default_rng(seed).standard_normal(shape)


# ---- arithmetic, with broadcasting --------------------------------------------------

@given(data=st.data())
def test_operators_match_the_named_ops_with_broadcasting(data):
    a_shape, b_shape = data.draw(broadcast_pair())
    a, b = data.draw(arrays(a_shape)), data.draw(positive(b_shape))
    check(lambda a, b: a + b, a, b)
    check(lambda a, b: a - b, a, b)
    check(lambda a, b: a * b, a, b)
    check(lambda a, b: a / b, a, b)


@given(data=st.data())
def test_power_tensor_to_a_scalar(data):
    x = data.draw(shapes.flatmap(positive))
    check(lambda x: x ** 3, x)
    check(lambda x: x ** 0.5, x)
    check(lambda x: x ** -1.5, x)
    check(lambda x: tape.power(x, 2.0), x)


@given(x=shapes.flatmap(positive))
def test_reflected_operators_with_python_numbers(x):
    check(lambda x: 2 - x, x)
    check(lambda x: 1 / x, x)
    check(lambda x: 2 ** x, x)
    check(lambda x: 3 * x + 1, x)


def test_reflected_operators_with_ndarrays():
    rng = np.random.default_rng(0)
    A, W, C = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    check(lambda W: A @ W, W)
    check(lambda W: C - W, W)
    check(lambda W: C + W, W)
    check(lambda W: C * W, W)
    check(lambda W: np.ones((4, 2)) / (W * W + 1), W)
    check(lambda W: np.full((4, 2), 1.5) ** W, W)
    v = rng.standard_normal(4)
    check(lambda W: v @ W, W)


# ---- matmul in every arrangement -------------------------------------------------------

@pytest.mark.parametrize("a_shape, b_shape", [
    ((3, 4), (4, 2)),        # 2-D @ 2-D
    ((4,), (4, 2)),          # 1-D @ 2-D
    ((3, 4), (4,)),          # 2-D @ 1-D
    ((2, 3, 4), (4, 5)),     # batched 3-D @ 2-D
    ((4,), (4,)),            # 1-D @ 1-D
    ((2, 3, 4), (2, 4, 5)),  # batched @ batched
    ((4,), (2, 4, 3)),       # 1-D @ batched
    ((2, 3, 4), (4,)),       # batched @ 1-D
    ((2, 1, 3, 4), (5, 4, 2)),   # batch axes broadcast
])
def test_matmul_in_every_arrangement(a_shape, b_shape):
    rng = np.random.default_rng(0)
    check(tape.matmul, rng.standard_normal(a_shape), rng.standard_normal(b_shape))
    check(lambda a, b: a @ b, rng.standard_normal(a_shape), rng.standard_normal(b_shape))


# ---- elementwise functions -----------------------------------------------------------------

@given(x=shapes.flatmap(lambda s: arrays(s, -30, 30)))
def test_sigmoid_for_large_inputs_of_both_signs(x):
    check(tape.sigmoid, x)


@given(x=shapes.flatmap(lambda s: arrays(s, away_from=[0.0])))
def test_relu_and_leaky_relu_away_from_the_kink(x):
    check(tape.relu, x)
    check(tape.leaky_relu, x)
    check(lambda x: tape.leaky_relu(x, slope=0.1), x)


@given(x=shapes.flatmap(lambda s: gridded(s, offset=0.1)))
def test_maximum_with_a_constant(x):
    check(lambda x: tape.maximum(x, 0.0), x)
    check(lambda x: tape.maximum(0.0, x), x)


@given(data=st.data())
def test_where_with_broadcasting(data):
    a_shape, b_shape = data.draw(broadcast_pair())
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    condition = np.add(a, b) > 0
    check(lambda a, b: tape.where(condition, a, b), a, b)
    check(lambda a: tape.where(condition, a, 0.0), a)
    check(lambda b: tape.where(condition, 1.0, b), b)


# ---- reductions ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (-1, 0)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_methods_with_int_and_tuple_axes(method, axis, keepdims):
    x = np.random.default_rng(0).permutation(24).reshape(2, 3, 4) * 0.25
    w = weights(getattr(np, method)(x, axis=axis, keepdims=keepdims).shape)
    check(lambda x: getattr(x, method)(axis=axis, keepdims=keepdims) * w, x)


# ---- shapes --------------------------------------------------------------------------------

@given(data=st.data())
def test_reshape(data):
    x = data.draw(shapes.flatmap(arrays))
    n = x.size
    for new_shape in [(n,), (1, n), (n, 1, 1), (-1,)]:
        w = weights(np.reshape(x, new_shape).shape)
        check(lambda x: x.reshape(new_shape) * w, x)
        check(lambda x: tape.reshape(x, shape=new_shape) * w, x)


@given(data=st.data())
def test_transpose_with_any_permutation(data):
    x = data.draw(shapes.flatmap(arrays))
    perm = tuple(data.draw(st.permutations(range(x.ndim))))
    w = weights(np.transpose(x, perm).shape)
    check(lambda x: x.transpose(perm) * w, x)
    check(lambda x: x.transpose(*perm) * w, x)
    check(lambda x: tape.transpose(x, axes=perm) * w, x)
    check(lambda x: x.T * weights(x.T.shape), x)


def test_transpose_with_negative_axes_routes_the_gradient_back():
    # (-1, 0, 1) is the permutation (2, 0, 1): its inverse is (1, 2, 0)
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    w = weights((4, 2, 3))
    check(lambda x: x.transpose(-1, 0, 1) * w, x)
    check(lambda x: x.transpose(0, -1, -2) * weights((2, 4, 3)), x)


@pytest.mark.parametrize("index", [
    1, -1, slice(1, 3), slice(None, None, -1), (slice(None), 2), (Ellipsis, 0),
    (1, slice(0, 4, 2)), (slice(None), None), np.array([0, 2, 2, 1]),
    [2, 0, 0], (np.array([0, 1, 1]), np.array([3, 0, 0])),
    (slice(None), np.array([3, 3, 1])), np.array([[0, 0], [2, 1]])])
def test_indexing_basic_and_integer_arrays_with_repeats(index):
    x = np.random.default_rng(0).standard_normal((3, 4))
    w = weights(x[index].shape)
    check(lambda x: x[index] * w, x)


def test_indexing_with_a_boolean_mask():
    x = np.random.default_rng(0).standard_normal((3, 4))
    mask = x > 0
    check(lambda x: x[mask] * weights(int(mask.sum())), x)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_of_differently_sized_tensors(axis):
    rng = np.random.default_rng(0)
    sizes_ = [1, 3, 2]
    parts = [rng.standard_normal((2, 3, n) if axis != 0 else (n, 2, 3)) for n in sizes_]
    if axis == 1:
        parts = [np.moveaxis(p, -1, 1) for p in parts]
    w = weights(np.concatenate(parts, axis=axis).shape)
    check(lambda a, b, c: tape.concatenate([a, b, c], axis=axis) * w, *parts)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis):
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((2, 3)) for _ in range(3))
    w = weights(np.stack([a, b, c], axis=axis).shape)
    check(lambda a, b, c: tape.stack([a, b, c], axis=axis) * w, a, b, c)


def test_concatenate_and_stack_with_a_constant():
    rng = np.random.default_rng(0)
    a, constant = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    check(lambda a: tape.concatenate([a, constant], axis=1) * weights((2, 6)), a)
    check(lambda a: tape.stack([constant, a]) * weights((2, 2, 3)), a)


# ---- cast ----------------------------------------------------------------------------------

def test_cast_to_float32_and_back():
    x = np.random.default_rng(0).standard_normal((2, 3))
    # float32 round-off is ~1e-7: compare loosely, the check is that the gradient flows
    assert tape.gradcheck(lambda x: x.astype(np.float32).astype(np.float64) * 2.0, [x],
                          eps=1e-3, atol=1e-3)

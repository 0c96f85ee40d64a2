"""Every row of the op table (tests/op_table.py): the forward equals numpy's, the
gradients of first and second order equal finite differences, float32 stays float32
in values and in gradients of both orders — with inputs in any memory layout."""

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tape
from tests.op_table import NOT_OPS, OPERATORS, OPS
from tests.strategies import laid_out

# derandomize: the same examples on every run, so CI never turns red by chance
FORWARD = settings(max_examples=15, derandomize=True, deadline=None)
CASES = settings(max_examples=8, derandomize=True, deadline=None)
FIRST = settings(max_examples=10, derandomize=True, deadline=None)
SECOND = settings(max_examples=5, derandomize=True, deadline=None)
FLOAT32 = settings(max_examples=8, derandomize=True, deadline=None)

rows = pytest.mark.parametrize("op", OPS, ids=[op.id for op in OPS])


def draw_case(data, op, dtype=np.float64):
    """(inputs, params), the inputs in `dtype` and in a layout drawn at random."""
    inputs, params = data.draw(op.cases)
    inputs = tuple(data.draw(laid_out(np.asarray(x, dtype=dtype)), label=f"input {i}")
                   for i, x in enumerate(inputs))
    return inputs, params


def bound(op, params):
    return lambda *xs: op.apply(*xs, **params)


# ---- the table covers the whole of tape ------------------------------------------------

def exported_ops():
    """Every public name of `tape` that is a Primitive, or a function that is not in
    the short list of non-op helpers (concatenate, cross_entropy and mse wrap primitives)."""
    found = set()
    for name in dir(tape):
        if name.startswith("_"):
            continue
        value = getattr(tape, name)
        if isinstance(value, tape.Primitive) or (inspect.isfunction(value)
                                                   and name not in NOT_OPS):
            found.add(name)
    return found


def test_every_op_exported_by_tape_has_a_row():
    missing = sorted(exported_ops() - {op.name for op in OPS})
    assert not missing, (f"ops exported by tape with no row in tests/op_table.py: {missing}; "
                         f"add each with its numpy reference, its input strategy and its kinks")


def test_every_row_is_an_op_of_tape_or_a_tensor_operator():
    for op in OPS:
        assert op.name in exported_ops() or hasattr(tape.Tensor, OPERATORS.get(op.name, "?")), \
            f"row {op.id}: tape exports no op {op.name!r}"


def test_the_table_has_the_ops_of_the_course():
    names = {op.name for op in OPS}
    assert {"linear", "relu", "sigmoid", "tanh", "leaky_relu", "hardtanh", "softmax",
            "cross_entropy", "mse", "matmul", "getitem", "abs"} <= names


@pytest.mark.parametrize("op", [op for op in OPS if op.kinks and op.kinks != "ties"],
                         ids=[op.id for op in OPS if op.kinks and op.kinks != "ties"])
@CASES
@given(data=st.data())
def test_the_cases_stay_away_from_the_kinks(op, data):
    inputs, _ = data.draw(op.cases)
    x = np.asarray(inputs[op.kinked_input])
    for kink in op.kinks:
        assert np.all(np.abs(x - kink) > 0.05 - 1e-12), f"{op.id}: an input at its kink {kink}"


@pytest.mark.parametrize("op", [op for op in OPS if op.kinks == "ties"],
                         ids=[op.id for op in OPS if op.kinks == "ties"])
@CASES
@given(data=st.data())
def test_the_cases_of_max_and_maximum_have_no_ties(op, data):
    inputs, params = data.draw(op.cases)
    if len(inputs) == 2:
        a, b = np.broadcast_arrays(*inputs)
        assert np.all(np.abs(a - b) > 0.05)
    elif "axis" not in params:                      # pooling: every window has one maximum
        (x,) = inputs
        assert np.unique(x).size == x.size
    else:
        (x,) = inputs
        winners = x == np.max(x, axis=params["axis"], keepdims=True)
        assert np.all(winners.sum(axis=params["axis"]) == 1)


# ---- forward ------------------------------------------------------------------------------

@rows
@FORWARD
@given(data=st.data())
def test_forward_equals_the_numpy_reference(op, data):
    inputs, params = draw_case(data, op)
    tensors = [tape.tensor(x, requires_grad=True) for x in inputs]
    out = op.apply(*tensors, **params)
    expected = np.asarray(op.reference(*[x.copy() for x in inputs], **params))
    assert isinstance(out, tape.Tensor)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@rows
@CASES
@given(data=st.data())
def test_forward_leaves_its_inputs_unchanged(op, data):
    inputs, params = draw_case(data, op)
    before = [x.copy() for x in inputs]
    op.apply(*[tape.tensor(x, requires_grad=True) for x in inputs], **params)
    for x, b in zip(inputs, before):
        np.testing.assert_array_equal(x, b)


# ---- gradients ----------------------------------------------------------------------------

@rows
@FIRST
@given(data=st.data())
def test_gradient_equals_finite_differences(op, data):
    inputs, params = draw_case(data, op)
    assert tape.gradcheck(bound(op, params), list(inputs), order=1, **op.gradcheck)


@rows
@SECOND
@given(data=st.data())
def test_second_order_gradient_equals_finite_differences(op, data):
    inputs, params = draw_case(data, op)
    assert tape.gradcheck(bound(op, params), list(inputs), order=2, **op.gradcheck)


# ---- float32 --------------------------------------------------------------------------------

def projected(f, out_shape, dtype, seed=0):
    """⟨f(x), r⟩ for a fixed r in `dtype`: a scalar that keeps the dtype."""
    r = np.random.default_rng(seed).standard_normal(out_shape).astype(dtype)
    return lambda *xs: (f(*xs) * r).sum()


def first_and_second(f, inputs):
    """∇f, and ∇⟨∇f, v⟩ for a fixed v, both computed by the tape."""
    argnums = tuple(range(len(inputs)))
    gradient = tape.grad(f, argnums=argnums)
    v = [np.random.default_rng(1).standard_normal(x.shape).astype(x.dtype) for x in inputs]

    def along_v(*xs):
        return sum((g * vi).sum() for g, vi in zip(gradient(*xs), v))

    return gradient(*inputs), tape.grad(along_v, argnums=argnums)(*inputs)


@rows
@FLOAT32
@given(data=st.data())
def test_float32_stays_float32_in_values_and_in_both_orders_of_gradients(op, data):
    inputs, params = draw_case(data, op, np.float32)
    out = op.apply(*[tape.tensor(x) for x in inputs], **params)
    assert out.dtype == (op.out_dtype or np.float32), f"{op.id}: float32 inputs gave {out.dtype}"
    expected = op.reference(*[x.astype(np.float64) for x in inputs], **params)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0)))
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-5 * scale)

    f = projected(bound(op, params), out.shape, out.dtype)
    first, second = first_and_second(f, inputs)
    for x, g, h in zip(inputs, first, second):
        assert isinstance(g, np.ndarray) and g.dtype == np.float32 and g.shape == x.shape
        assert isinstance(h, np.ndarray) and h.dtype == np.float32 and h.shape == x.shape
    # and they are the float64 gradients, to float32 precision
    wide = [x.astype(np.float64) for x in inputs]
    first64, second64 = first_and_second(projected(bound(op, params), out.shape, np.float64),
                                         wide)
    for g, g64, h, h64 in zip(first, first64, second, second64):
        for low, high in ((g, g64), (h, h64)):
            scale = max(1.0, float(np.max(np.abs(high), initial=0)))
            np.testing.assert_allclose(low, high, rtol=1e-3, atol=1e-4 * scale)

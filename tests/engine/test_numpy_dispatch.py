"""numpy's own functions and the ndarray's habits on Tensors (tape/numpy_dispatch.py,
tape/operators.py): what a student's numpy code does, recorded on the tape."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tape
from tape import numpy_dispatch
from tests.op_table import NUMPY_SPELLINGS

SPELLINGS = settings(max_examples=10, derandomize=True, deadline=None)


def _gradients(f, inputs, seed=0):
    """f's value and the gradient of ⟨f, r⟩ for a fixed random r, for every input."""
    tensors = [tape.tensor(x, requires_grad=True) for x in inputs]
    out = f(*tensors)
    r = np.random.default_rng(seed).standard_normal(out.shape)
    (out * r).sum().backward()
    return out.data, [t.grad for t in tensors]


@pytest.mark.parametrize("row", NUMPY_SPELLINGS, ids=[row.id for row in NUMPY_SPELLINGS])
@SPELLINGS
@given(data=st.data())
def test_the_numpy_spelling_gives_the_tape_spellings_values_and_gradients(row, data):
    inputs, params = data.draw(row.cases)
    value, grads = _gradients(lambda *xs: row.numpy(*xs, **params), inputs)
    expected_value, expected_grads = _gradients(lambda *xs: row.tape(*xs, **params), inputs)
    np.testing.assert_array_equal(value, expected_value)
    for g, expected in zip(grads, expected_grads):
        np.testing.assert_array_equal(g, expected)


def test_every_function_numpy_hands_to_the_tape_has_a_spelling_row():
    covered = {row.dispatched for row in NUMPY_SPELLINGS}
    tables = set(numpy_dispatch.UFUNCS) | set(numpy_dispatch.FUNCTIONS)
    missing = sorted(numpy_dispatch.numpy_name(f) if not isinstance(f, np.ufunc) else
                     f"np.{f.__name__}" for f in tables - covered)
    assert not missing, f"dispatched with no row in NUMPY_SPELLINGS (tests/op_table.py): {missing}"


# ---- no gradient: plain values and boolean tensors ---------------------------------------

def test_functions_with_no_gradient_answer_with_plain_values():
    t = tape.tensor(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]), requires_grad=True)
    assert type(np.argmax(t, axis=1)) is np.ndarray
    np.testing.assert_array_equal(np.argmax(t, axis=1), [1, 0])
    np.testing.assert_array_equal(np.argmin(t), 4)
    np.testing.assert_array_equal(t.argmax(axis=1), [1, 0])
    assert type(np.ones_like(t)) is np.ndarray and np.ones_like(t).shape == (2, 3)
    assert type(np.zeros_like(t)) is np.ndarray
    assert np.shape(t) == (2, 3) and len(t) == 2 and np.ndim(t) == 2
    assert type(np.sign(t)) is np.ndarray


def test_comparisons_and_their_combinations_are_boolean_tensors_without_gradient():
    z = tape.tensor(np.array([-2.0, -0.5, 0.5, 2.0]), requires_grad=True)
    inside = (z > -1) & (z < 1)
    assert isinstance(inside, tape.Tensor) and not inside.requires_grad
    np.testing.assert_array_equal(inside.data, [False, True, True, False])
    np.testing.assert_array_equal((~inside).data, [True, False, False, True])
    np.testing.assert_array_equal(((z < -1) | (z > 1)).data, [True, False, False, True])
    np.testing.assert_array_equal(np.greater(z, 0).data, [False, False, True, True])
    np.testing.assert_array_equal(np.logical_and(z > -1, z < 1).data, inside.data)


def test_a_numpy_function_the_tape_has_no_rule_for_raises_one_error_naming_it():
    t = tape.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match=r"^np\.linalg\.norm was given a Tensor: the tape "
                                         r"has no gradient rule for norm; define one with tape\.primitive"):
        np.linalg.norm(t)
    with pytest.raises(TypeError, match=r"^np\.sort was given a Tensor"):
        np.sort(t)
    with pytest.raises(TypeError, match=r"np\.add\.reduce"):
        np.add.reduce(t)


# ---- the methods students use ---------------------------------------------------------------

@pytest.mark.parametrize("method, reference", [
    ("exp", np.exp), ("log", np.log), ("sqrt", np.sqrt), ("tanh", np.tanh),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))), ("relu", lambda x: np.maximum(x, 0)),
])
def test_pytorch_style_methods_are_bound_to_the_tensor(method, reference):
    x = np.array([0.5, 1.5, 2.5])
    t = tape.tensor(x, requires_grad=True)
    out = getattr(t, method)()                   # failed with "missing 1 required argument"
    np.testing.assert_allclose(out.data, reference(x), rtol=1e-12)
    out.sum().backward()
    assert t.grad.shape == x.shape


def test_ndarray_methods_record_their_gradients():
    x = np.arange(6.0).reshape(2, 3) - 2.5
    w = np.array([[1.0, -1.0], [0.5, 2.0], [-0.5, 1.0]])
    t = tape.tensor(x, requires_grad=True)
    W = tape.tensor(w, requires_grad=True)
    loss = (t.dot(W).sum() + t.copy().clip(-1, 1).sum() + t.min() + t.max(axis=0).sum()
            + t.flatten().sum() + t.ravel().mean() + t.reshape(3, 2).T.sum()
            + t.transpose().squeeze().sum() + t.astype(np.float64).sum())
    loss.backward()
    clip_grad = ((x >= -1) & (x <= 1)).astype(float)
    expected = (w.sum(axis=1) + clip_grad + (x == x.min()) + (x == x.max(axis=0))
                + 1 + 1 / 6 + 1 + 1 + 1)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-12)
    np.testing.assert_allclose(W.grad, np.repeat(x.sum(axis=0)[:, None], 2, axis=1), rtol=1e-12)


def test_copy_and_deepcopy_of_a_computed_tensor_are_recorded_copies():
    x = tape.tensor(np.array([1.0, -2.0]), requires_grad=True)
    h = x * 3.0
    for c in (copy.copy(h), copy.deepcopy(h)):
        assert c is not h and c.data is not h.data and c.requires_grad
        c[0] = 0.0                             # assigning into the copy leaves h alone
    np.testing.assert_array_equal(h.data, [3.0, -6.0])
    copy.deepcopy(h).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_deepcopy_of_a_parameter_is_a_new_leaf_with_its_own_values():
    W = tape.tensor(np.array([1.0, 2.0]), requires_grad=True, name="W")
    twin = copy.deepcopy(W)
    assert twin.is_leaf and twin.requires_grad and twin.data is not W.data and twin.name == "W"


def test_a_0d_tensor_formats_and_prints_like_a_number():
    loss = tape.tensor(np.array([0.5, 0.25]), requires_grad=True).sum()
    assert f"{loss:.4f}" == "0.7500"
    assert f"{loss}" == str(loss) == repr(loss)
    assert len(tape.tensor(np.zeros((4, 2)))) == 4


@pytest.mark.parametrize("index", [range(3), [0, 2], np.array([2, 0]), np.array([True, False, True]),
                                   (range(3), [1, 0, 1])],
                         ids=["range", "list", "integer-array", "boolean-array", "range-and-list"])
def test_indexing_with_ranges_lists_and_arrays_gives_the_scattered_gradient(index):
    x = np.arange(6.0).reshape(3, 2)
    t = tape.tensor(x, requires_grad=True)
    t[index].sum().backward()
    expected = np.zeros_like(x)
    np.add.at(expected, index if not isinstance(index, tuple) else tuple(map(np.asarray, index)), 1.0)
    np.testing.assert_array_equal(t.grad, expected)


def test_indexing_with_a_boolean_tensor_mask():
    t = tape.tensor(np.array([-1.0, 2.0, -3.0]), requires_grad=True)
    t[t > 0].sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1.0, 0.0])


# ---- assignment into computed tensors (PyTorch's in-place rules) --------------------------

def test_masked_assignment_of_zero_is_relu():
    x = np.array([-1.0, 2.0, -3.0, 4.0])
    t = tape.tensor(x, requires_grad=True)
    z = t * 1.0
    z[z < 0] = 0                                  # report 003's relu
    (z * np.arange(4.0)).sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1.0, 0.0, 3.0])


def test_masked_assignment_of_a_scaled_part_is_leaky_relu():
    x = np.array([-1.0, 2.0, -3.0])
    t = tape.tensor(x, requires_grad=True)
    out = copy.deepcopy(t * 1.0)                  # report 002
    out[out <= 0] = 0.01 * out[out <= 0]
    out.sum().backward()
    np.testing.assert_allclose(t.grad, [0.01, 1.0, 0.01], rtol=1e-12)


def test_a_copy_taken_before_an_assignment_keeps_the_old_values_and_the_backward_works():
    # report 003: self.z = np.copy(z) before z[z < 0] = 0; today's version check refused it
    t = tape.tensor(np.array([-1.0, 2.0]), requires_grad=True)
    z = t * 2.0
    kept = np.copy(z)
    z[z < 0] = 0
    np.testing.assert_array_equal(kept.data, [-2.0, 4.0])
    (kept * z).sum().backward()                   # d/dt of Σ (2t)·relu(2t)
    np.testing.assert_allclose(t.grad, [0.0, 16.0])


def test_cs231n_softmax_gradient_assignments_give_the_right_gradient():
    rng = np.random.default_rng(0)
    s = rng.standard_normal((4, 3))
    y = np.array([0, 2, 1, 2])
    N = len(y)
    S = tape.tensor(s, requires_grad=True)
    probs = np.exp(S) / np.sum(np.exp(S), axis=1, keepdims=True)
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    weights = rng.standard_normal((4, 3))
    (dx * weights).sum().backward()
    # d/ds of Σ w·(p − onehot)/N: only p depends on s, dp = p ⊙ (v − Σ p v) per row
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    v = weights / N
    np.testing.assert_allclose(S.grad, p * (v - (p * v).sum(axis=1, keepdims=True)), rtol=1e-12)


def test_an_in_place_change_of_a_tensor_reaches_every_alias_as_in_numpy():
    t = tape.tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (t * t).sum()
    grads = {"t": loss}
    loss += 3.0 * t.sum()                         # loss += reg * ..., cs231n style
    assert grads["t"] is loss
    loss.backward()
    np.testing.assert_array_equal(t.grad, 2 * t.data + 3.0)


def test_assignment_with_a_repeated_index_passes_on_only_the_last_write():
    t = tape.tensor(np.zeros(3), requires_grad=True)
    v = tape.tensor(np.array([1.0, 2.0]), requires_grad=True)
    z = t * 1.0
    z[np.array([1, 1])] = v                       # numpy keeps the last write: z[1] = v[1]
    assert z.data[1] == 2.0
    (z * np.array([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(v.grad, [0.0, 10.0])
    np.testing.assert_array_equal(t.grad, [1.0, 0.0, 100.0])


def test_assignment_into_a_parameter_outside_no_grad_names_the_fix():
    W = tape.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"no_grad.*\.data"):
        W[0] = 0.0
    with tape.no_grad():
        W[0] = 0.0                               # an update: allowed, and W stays a leaf
    assert W.is_leaf and W.data[0] == 0.0


def test_the_version_check_refuses_only_values_a_rule_reads():
    x = tape.tensor(np.array([1.0, 2.0]))         # needs no gradient: changed without a record
    W = tape.tensor(np.array([3.0, 4.0]), requires_grad=True)
    total = (W + x).sum()                         # add's rules never read x
    x *= 2.0
    total.backward()
    np.testing.assert_array_equal(W.grad, [1.0, 1.0])
    product = (W * x).sum()                       # multiply's rule for W reads x
    x *= 2.0
    with pytest.raises(RuntimeError, match="multiply"):
        product.backward()


def test_a_computed_tensor_changed_under_no_grad_is_refused_if_its_rule_reads_it():
    W = tape.tensor(np.array([1.0, 2.0]), requires_grad=True)
    e = tape.exp(W)                               # exp's rule reads its output
    loss = e.sum()
    with tape.no_grad():
        e *= 2.0
    with pytest.raises(RuntimeError, match="exp"):
        loss.backward()


# ---- the trap: an ndarray's own method given a Tensor ------------------------------------------

def test_an_ndarray_method_given_a_tensor_names_the_line_and_the_fix():
    x = np.ones((2, 3))
    w = tape.tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(tape.DroppedGradientError) as error:
        x.reshape(2, -1).dot(w)
    message = str(error.value)
    assert "\n" not in message
    assert "test_numpy_dispatch.py" in message and "x.reshape(2, -1).dot(w)" in message
    assert "np.dot(x, w)" in message and "x @ w" in message


def test_np_dot_and_the_at_operator_with_an_ndarray_on_the_left_record():
    x = np.arange(6.0).reshape(2, 3)
    w = tape.tensor(np.ones((3, 2)), requires_grad=True)
    (np.dot(x, w).sum() + (x @ w).sum()).backward()
    np.testing.assert_array_equal(w.grad, 2 * np.repeat(x.sum(axis=0)[:, None], 2, axis=1))


def test_the_values_of_a_tensor_are_given_freely_where_no_gradient_is_lost():
    w = tape.tensor(np.ones(3), requires_grad=True)
    with tape.no_grad():
        assert np.asarray(w) is w.data            # plots, evaluation
    mask = tape.tensor(np.array([True, False, True]))
    np.testing.assert_array_equal(np.arange(3.0)[mask], [0.0, 2.0])
    a = np.zeros(3)
    a[mask.data] = 1.0
    assert np.asarray(w.detach()) is w.data


def test_the_listing_shows_an_assignment_as_an_in_place_entry_on_the_value_before():
    t = tape.tensor(np.array([1.0, -2.0]), requires_grad=True, name="t")
    with tape.Tape() as recorded:
        z = t * 2.0
        kept = np.copy(z)
        z[z < 0] = 0
        z /= 2
    lines = str(recorded).splitlines()
    assert [line.split(" = ")[1].split("(")[0] for line in lines] == [
        "multiply", "copy", "setitem", "div_"]
    assert lines[1].startswith("v2 = copy(v1)")            # the copy read z before it changed
    assert lines[2].startswith("v3 = setitem(v1, 0,")
    assert lines[3].startswith("v4 = div_(v3, 2)")
    np.testing.assert_array_equal(kept.data, [2.0, -4.0])


def test_a_function_without_a_rule_computes_on_the_values_where_no_gradient_is_wanted():
    constant = tape.tensor(np.array([1.0, 3.0]))
    np.testing.assert_allclose(np.log1p(constant), np.log1p([1.0, 3.0]))
    np.testing.assert_allclose(np.linalg.norm(constant), np.sqrt(10.0))
    W = tape.tensor(np.array([1.0, 3.0]), requires_grad=True)
    with tape.no_grad():
        np.testing.assert_allclose(np.linalg.norm(W), np.sqrt(10.0))
    with pytest.raises(TypeError, match="np.log1p was given a Tensor"):
        np.log1p(W)

"""The Tensor API: attributes, dtypes, accumulation, no_grad, comparisons."""

import numpy as np
import pytest

import tape


def test_tensor_wraps_scalars_and_arrays():
    s = tape.tensor(3.0)
    assert s.shape == () and s.ndim == 0 and s.item() == 3.0 and s.dtype == np.float64
    a = np.arange(6.0).reshape(2, 3)
    t = tape.tensor(a)
    assert t.shape == (2, 3) and t.numpy() is a and len(t) == 2
    assert t.grad is None and not t.requires_grad and t.is_leaf


def test_detach_stops_the_gradient():
    x = tape.tensor(2.0, requires_grad=True)
    y = x * x.detach()
    y.backward()
    assert x.grad == 2.0            # only the first factor is differentiated
    assert not x.detach().requires_grad


FLOAT32_OPS = [
    lambda x, w: x * 2.5 + 1,
    lambda x, w: (x @ w).sum(),
    lambda x, w: tape.tanh(x) / 3.0,
    lambda x, w: tape.sigmoid(x) ** 2,
    lambda x, w: tape.relu(x) - 0.5,
    lambda x, w: tape.leaky_relu(x, slope=0.1),
    lambda x, w: tape.hardtanh(x * 2),
    lambda x, w: tape.exp(x).mean(axis=0),
    lambda x, w: tape.log(x * x + 1),
    lambda x, w: tape.sqrt(x * x + 1),
    lambda x, w: tape.softmax(x),
    lambda x, w: tape.log_softmax(x),
    lambda x, w: tape.cross_entropy(x, np.array([0, 1])),
    lambda x, w: tape.mse(x, np.zeros((2, 3), np.float32)),
    lambda x, w: tape.maximum(x, 0.1),
    lambda x, w: x.max(axis=1),
    lambda x, w: x.T.reshape(6)[np.array([0, 0, 5])],
    lambda x, w: tape.concatenate([x, x], axis=0),
    lambda x, w: tape.linear(x, w, np.zeros(4, np.float32)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", FLOAT32_OPS)
def test_dtype_is_kept_in_values_and_gradients(dtype, op):
    rng = np.random.default_rng(0)
    x = tape.tensor(rng.standard_normal((2, 3)).astype(dtype), requires_grad=True)
    w = tape.tensor(rng.standard_normal((3, 4)).astype(dtype), requires_grad=True)
    out = op(x, w)
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == dtype
    assert w.grad is None or w.grad.dtype == dtype


def test_comparisons_give_boolean_tensors_without_gradient():
    x = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal(mask.data, [False, True, True])
    np.testing.assert_array_equal((x == 2.0).data, [False, True, False])
    np.testing.assert_array_equal((x <= tape.tensor(2.0)).data, [True, True, False])


def test_grad_accumulates_across_backward_calls_until_reset():
    x = tape.tensor(3.0, requires_grad=True)
    (x * x).backward()
    (x * x).backward()
    assert x.grad == 12.0           # 6 + 6, as in PyTorch
    x.grad = None
    (x * x).backward()
    assert x.grad == 6.0


def test_no_grad_records_nothing():
    x = tape.tensor(np.ones(3), requires_grad=True)
    with tape.Tape() as t, tape.no_grad():
        y = (x * 2).sum()
    assert not y.requires_grad and y._entry is None and len(t) == 0
    assert tape.is_recording()


def test_no_grad_as_decorator():
    @tape.no_grad()
    def evaluate(x):
        return x * 2

    assert not evaluate(tape.tensor(1.0, requires_grad=True)).requires_grad


def test_tensors_that_need_no_gradient_record_nothing():
    with tape.Tape() as t:
        tape.tanh(tape.tensor(np.ones(3)) * 2)
    assert len(t) == 0


def test_ndarray_on_the_left_gives_a_tensor():
    x = tape.tensor(np.ones(2), requires_grad=True)
    y = np.array([1.0, 2.0]) + x
    assert isinstance(y, tape.Tensor) and y.requires_grad
    assert isinstance(np.ones((2, 2)) @ x, tape.Tensor)


def test_repr_shows_values_dtype_and_requires_grad():
    text = repr(tape.tensor(np.array([1.5, 2.0], np.float32), requires_grad=True, name="w"))
    assert text == "tensor([1.5, 2. ], dtype=float32, requires_grad=True, name='w')"


def test_each_leaf_gets_its_own_grad_array():
    a = tape.tensor(np.ones(3), requires_grad=True)
    b = tape.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()          # add passes the same adjoint to both inputs
    a.grad *= 0
    np.testing.assert_array_equal(b.grad, np.ones(3))
    a.grad = None
    a.sum().backward()                # the adjoint of a sum is a read-only broadcast view
    a.grad += 1                       # ... yet .grad is writable

"""The Tensor API: attributes, dtypes, accumulation, no_grad, comparisons."""

import numpy as np
import pytest

import tape


def test_tensor_wraps_scalars_and_arrays():
    s = tape.tensor(3.0)
    assert s.shape == () and s.ndim == 0 and s.item() == 3.0 and s.dtype == np.float64
    assert isinstance(s.data, np.ndarray) and s.data.shape == ()
    a = np.arange(6.0).reshape(2, 3)
    t = tape.tensor(a)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.data is a and t.numpy() is a          # shared, not copied
    assert t.grad is None and not t.requires_grad and t.is_leaf


def test_tensor_from_lists_and_with_a_dtype():
    assert tape.tensor([1.0, 2.0]).dtype == np.float64
    assert tape.tensor([1, 2]).dtype == np.int64
    t = tape.tensor([1, 2], dtype=np.float32, requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad
    np.testing.assert_array_equal(t.data, np.array([1, 2], np.float32))
    assert tape.tensor(t).data is t.data            # a Tensor is unwrapped, not copied


def test_item_and_numpy_and_float():
    t = tape.tensor(np.array([[2.5]]))
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert float(tape.tensor(1.25)) == 1.25
    assert int(tape.tensor(3)) == 3


def test_a_result_of_an_op_is_not_a_leaf():
    x = tape.tensor(np.ones(2), requires_grad=True)
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.grad is None
    y.sum().backward()
    assert y.grad is None                            # only leaves get .grad
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_detach_stops_the_gradient():
    x = tape.tensor(2.0, requires_grad=True)
    y = x * x.detach()
    y.backward()
    assert x.grad == 2.0            # only the first factor is differentiated, d(x·c)/dx = c
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.data is x.data


def test_a_computation_on_a_detached_tensor_has_no_gradient():
    x = tape.tensor(2.0, requires_grad=True)
    y = tape.exp(x).detach() * 3
    assert not y.requires_grad


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
    lambda x, w: 2 - x,
    lambda x, w: 1 / (x * x + 1),
    lambda x, w: 2 ** x,
    lambda x, w: (x * x + 0.5) ** 1.5,
    lambda x, w: (x * x + 0.5) ** (w[:2, :3] * 0.1),
    lambda x, w: -x / 2.0,
    lambda x, w: x[0] @ w,
    lambda x, w: x @ w[:, 0],
    lambda x, w: x[0] @ w[:, 1],
    lambda x, w: tape.where(x.data > 0, x, 0.5),
    lambda x, w: tape.stack([x, x * 0.5], axis=1),
    lambda x, w: tape.broadcast_to(x, shape=(4, 2, 3)),
    lambda x, w: tape.sum_to(x, shape=(1, 3)),
    lambda x, w: x.transpose(1, 0) + 1.5,
    lambda x, w: x.sum(axis=(0, 1), keepdims=True),
    lambda x, w: x[np.array([1, 1]), :][:, 1:],
    lambda x, w: tape.maximum(x, w[:, :2].T),
    lambda x, w: np.float32(2.0) * x - np.ones((2, 3), np.float32),
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
        """Doubles x."""
        return x * 2

    with tape.Tape() as t:
        y = evaluate(tape.tensor(1.0, requires_grad=True))
    assert not y.requires_grad and y._entry is None and len(t) == 0
    assert tape.is_recording()                      # switched back on afterwards
    assert evaluate.__name__ == "evaluate" and evaluate.__doc__ == "Doubles x."


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with tape.no_grad():
            1 / 0
    assert tape.is_recording()


def test_enable_grad_records_inside_no_grad():
    x = tape.tensor(1.0, requires_grad=True)
    with tape.no_grad():
        with tape.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_enable_grad_as_decorator_records_inside_no_grad():
    @tape.enable_grad()
    def double(x):
        return x * 2

    with tape.no_grad():
        y = double(tape.tensor(1.0, requires_grad=True))
    assert y.requires_grad            # as a decorator it must switch recording on, not off


def test_tensors_that_need_no_gradient_record_nothing():
    with tape.Tape() as t:
        tape.tanh(tape.tensor(np.ones(3)) * 2)
    assert len(t) == 0


def test_ndarray_on_the_left_gives_a_tensor():
    x = tape.tensor(np.ones(2), requires_grad=True)
    y = np.array([1.0, 2.0]) + x
    assert isinstance(y, tape.Tensor) and y.requires_grad
    np.testing.assert_array_equal(y.data, [2.0, 3.0])
    for result in [np.ones((2, 2)) @ x, np.ones(2) - x, np.ones(2) * x, np.ones(2) / x,
                   np.ones(2) ** x, np.float64(2.0) * x]:
        assert isinstance(result, tape.Tensor) and result.requires_grad
    np.testing.assert_array_equal((np.array([3.0, 5.0]) - x).data, [2.0, 4.0])


def test_repr_shows_values_dtype_and_requires_grad():
    text = repr(tape.tensor(np.array([1.5, 2.0], np.float32), requires_grad=True, name="w"))
    assert text == "tensor([1.5, 2. ], dtype=float32, requires_grad=True, name='w')"
    assert repr(tape.tensor([1.0, 2.0])) == "tensor([1., 2.])"        # float64: the default
    assert repr(tape.tensor(3)) == "tensor(3)"
    assert repr(tape.tensor(np.eye(2))) == "tensor([[1., 0.],\n        [0., 1.]])"


def test_each_leaf_gets_its_own_grad_array():
    a = tape.tensor(np.ones(3), requires_grad=True)
    b = tape.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()          # add passes the same adjoint to both inputs
    a.grad *= 0
    np.testing.assert_array_equal(b.grad, np.ones(3))
    a.grad = None
    a.sum().backward()                # the adjoint of a sum is a read-only broadcast view
    a.grad += 1                       # ... yet .grad is writable

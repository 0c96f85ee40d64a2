"""The engine's semantics where a teaching engine is easiest to get wrong, checked
against what JAX, HIPS autograd and PyTorch do: one named test per item of the
"Wrong today" and "PyTorch habits" lists of the engine issue.

1. nested gradients keep their perturbations apart
2. powers at zero have their finite limits, not 0·∞ = nan
3. float32 stays float32 next to numpy scalars and integer arrays
4. `create_graph=True` keeps the forward graph (retain_graph defaults to it)
5. gradients of 0-d tensors are 0-d ndarrays
6. `Tape(keep_adjoints=True)` keeps the adjoints of a sweep started by `backward()`
7. each thread has its own recording state
and the PyTorch habits: in-place updates under `no_grad`, the version counter,
numpy functions on a Tensor, `abs`. (Drawing after `backward()`: tests/viz/
test_drawing_after_backward.py; `Module` parameters in lists, tuples, dicts:
tests/models/test_module.py.)
"""

import json
import operator
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import tape
from models import nn
from models.optim import SGD

ROOT = str(Path(__file__).resolve().parents[2])


# ---- 1. nested gradients ------------------------------------------------------------------

def test_nested_grad_keeps_inner_and_outer_perturbations_apart():
    # d/dx [ d/dy (x·y) at y = x ] = d/dx [x] = 1 (JAX and HIPS autograd give 1)
    assert float(tape.grad(lambda x: tape.grad(lambda y: x * y)(x))(5.0)) == 1.0


def test_nested_grad_of_x_times_an_inner_gradient_is_the_derivative_of_x_squared():
    # f(x) = x · d/dy (x·y) = x · x, so f'(x) = 2x; confusing the perturbations gives 4x
    f = lambda x: x * tape.grad(lambda y: x * y)(x)        # noqa: E731
    assert float(tape.grad(f)(3.0)) == pytest.approx(6.0, abs=1e-12)


def test_grad_of_grad_of_x_cubed_at_2_is_12():
    assert float(tape.grad(tape.grad(lambda x: x ** 3))(2.0)) == pytest.approx(12.0, abs=1e-12)


# ---- 2. powers at zero --------------------------------------------------------------------

def test_power_at_zero_has_the_finite_limits_not_nan():
    # PyTorch's values: d(x⁰)/dx = 0 at 0, d(0ᵗ)/dt = 0 for t > 0, (x²)''' = 0 at 0
    assert float(tape.grad(lambda x: x ** 0)(0.0)) == 0.0
    assert float(tape.grad(lambda x: x ** 0.0)(0.0)) == 0.0
    assert float(tape.grad(lambda t: 0.0 ** t)(2.0)) == 0.0
    assert float(tape.grad(lambda t: tape.power(np.zeros(3), t).sum())(np.float64(0.5))) == 0.0
    third = tape.grad(tape.grad(tape.grad(lambda x: x ** 2)))
    assert float(third(0.0)) == 0.0


def test_power_near_zero_keeps_its_ordinary_derivatives():
    assert float(tape.grad(lambda x: x ** 2)(0.0)) == 0.0
    assert float(tape.grad(tape.grad(lambda x: x ** 2))(0.0)) == 2.0
    assert float(tape.grad(lambda x: x ** 3)(0.0)) == 0.0
    assert float(tape.grad(lambda x: x ** 0.5)(4.0)) == pytest.approx(0.25, rel=1e-12)
    assert float(tape.grad(lambda x: x ** 0)(2.0)) == 0.0
    assert float(tape.grad(lambda t: 2.0 ** t)(3.0)) == pytest.approx(8 * np.log(2), rel=1e-12)


def test_power_mixed_second_derivative_at_exponent_zero_is_one_over_x():
    # ∂²(xʸ)/∂x∂y = xʸ⁻¹(1 + y ln x) = 1/x at y = 0, in either order, for x ≠ 0;
    # keeping 0·∞ out of the rule at x = 0 must not change it elsewhere
    x, y = np.array([0.5, 2.0, 4.0]), np.zeros(3)
    dx_then_dy = tape.grad(lambda y: tape.grad(lambda x: tape.power(x, y).sum())(x).sum())(y)
    dy_then_dx = tape.grad(lambda x: tape.grad(lambda y: tape.power(x, y).sum())(y).sum())(x)
    np.testing.assert_allclose(dy_then_dx, 1 / x, rtol=1e-12)
    np.testing.assert_allclose(dx_then_dy, 1 / x, rtol=1e-12)


# ---- 3. float32 stays float32 -----------------------------------------------------------------

OTHERS = {
    "numpy-float64-scalar": np.float64(2.0),
    "numpy-int64-scalar": np.int64(3),
    "np.prod-of-a-shape": np.prod((2, 3)),
    "python-float": 2.5,
    "python-int": 3,
    "integer-array": np.array([1, 2, 3]),
}
OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow}


@pytest.mark.parametrize("symbol", OPERATORS)
@pytest.mark.parametrize("other", OTHERS.values(), ids=OTHERS.keys())
def test_float32_stays_float32_next_to_numpy_scalars_and_integer_arrays(symbol, other):
    # PyTorch's promotion: a number (Python or numpy) or an integer array never upcasts
    # a float tensor; values and gradients both stay float32, on either side
    op = OPERATORS[symbol]
    for side in ("tensor first", "tensor second"):
        x = tape.tensor(np.array([0.5, 1.5, 2.0], np.float32), requires_grad=True)
        y = op(x, other) if side == "tensor first" else op(other, x)
        assert y.dtype == np.float32, f"x {symbol} {other!r} ({side}) gave {y.dtype}"
        y.sum().backward()
        assert x.grad.dtype == np.float32


def test_a_mean_written_with_np_prod_of_the_shape_stays_float32():
    x = tape.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    m = x.sum() / np.prod(x.shape)
    assert m.dtype == np.float32
    m.backward()
    assert x.grad.dtype == np.float32


def test_float32_and_float64_arrays_promote_as_numpy_does():
    x = tape.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    w = tape.tensor(np.array([3.0, 4.0]), requires_grad=True)            # float64
    y = x * w
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    assert (x * np.array([1.0, 2.0])).dtype == np.float64                  # float64 ndarray
    assert (w * np.array([1.0, 2.0], np.float32)).dtype == np.float64


# ---- 4. create_graph keeps the forward graph ------------------------------------------------

def test_tape_gradient_with_create_graph_can_be_differentiated_again():
    x = tape.tensor(0.7, requires_grad=True)
    with tape.Tape() as outer:
        with tape.Tape() as inner:
            y = tape.exp(x * x)
        (g,) = inner.gradient(y, [x], create_graph=True)        # 2x·e^(x²)
    (h,) = outer.gradient(g, [x])                                # (2 + 4x²)·e^(x²)
    assert float(g.data) == pytest.approx(2 * 0.7 * np.exp(0.49), rel=1e-12)
    assert float(h) == pytest.approx((2 + 4 * 0.49) * np.exp(0.49), rel=1e-12)


def test_a_gradient_from_create_graph_can_be_backpropagated_through_the_forward_graph():
    x = tape.tensor(0.7, requires_grad=True)
    with tape.Tape() as t:
        y = tape.tanh(x) * x
    (g,) = t.gradient(y, [x], create_graph=True)   # tanh x + x(1 − tanh²x)
    g.backward()                                    # reads tanh's output: it must be kept
    th = np.tanh(0.7)
    assert float(x.grad) == pytest.approx(2 * (1 - th ** 2) - 2 * 0.7 * th * (1 - th ** 2),
                                          rel=1e-12)


def test_tape_gradient_with_create_graph_retains_the_graph_by_default():
    x = tape.tensor(0.7, requires_grad=True)
    with tape.Tape() as t:
        y = tape.tanh(x) * x
    (g,) = t.gradient(y, [x], create_graph=True)
    (again,) = t.gradient(y, [x])                   # the forward graph is still there
    assert float(again) == pytest.approx(float(g.data), rel=1e-12)


def test_backward_with_create_graph_retains_the_graph_by_default():
    x = tape.tensor(0.7, requires_grad=True)
    y = tape.tanh(x)
    y.backward(create_graph=True)
    y.backward()                                  # the graph was kept: gradients add up
    assert float(x.grad) == pytest.approx(2 * (1 - np.tanh(0.7) ** 2), rel=1e-12)


# ---- 5. 0-d gradients are ndarrays ----------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_grad_of_a_0d_leaf_is_a_0d_ndarray_after_two_backward_calls(dtype):
    x = tape.tensor(np.array(2.0, dtype), requires_grad=True)
    (x * x).backward()
    (x * 3.0).backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad.dtype == dtype
    assert float(x.grad) == 7.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tape_gradient_and_grad_give_0d_ndarrays_for_0d_inputs(dtype):
    x = tape.tensor(np.array(3.0, dtype), requires_grad=True)
    with tape.Tape() as t:
        y = x * x + x
    (g,) = t.gradient(y, [x])
    assert type(g) is np.ndarray and g.shape == () and float(g) == 7.0
    for gradient in (tape.grad(lambda x: x * x + x)(np.array(3.0, dtype)),
                     tape.value_and_grad(lambda x: x * x + x)(np.array(3.0, dtype))[1]):
        assert type(gradient) is np.ndarray and gradient.shape == () and gradient.dtype == dtype
        assert float(gradient) == 7.0


@pytest.mark.parametrize("step", [
    lambda x: x[0] * 2.0,                                   # getitem's rule gets g = 2.0
    lambda x: x[0].astype(np.float64) * 2.0,                # cast's rule gets g = 2.0
    lambda x: tape.softmax(x)[1] * 2.0,                     # then softmax's
    lambda x: tape.concatenate([x, x])[3] * 2.0,
], ids=["getitem", "cast", "softmax", "concatenate"])
def test_a_0d_adjoint_that_numpy_gives_as_a_scalar_still_flows_back(step):
    # in a plain backward, g * 2.0 with g a 0-d array is a numpy scalar (np.float64),
    # not an ndarray; the next rule must still get an array (.dtype, .astype, .ndim)
    x = tape.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    step(x).backward()
    assert type(x.grad) is np.ndarray and x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, tape.numerical_gradient(
        lambda v: float(step(tape.tensor(v.astype(np.float32))).data), x.data, eps=1e-3),
        rtol=1e-3, atol=1e-4)


# ---- 6. keep_adjoints with backward() ---------------------------------------------------------

def _small_loss(a, b):
    return (tape.tanh(a * b) * a).sum()


def test_keep_adjoints_is_filled_by_backward_as_by_gradient():
    values = np.array([0.3, -1.0, 2.0]), np.array([1.5, 0.5, -0.2])
    adjoints = []
    for start in ("backward", "gradient"):
        a, b = (tape.tensor(v, requires_grad=True) for v in values)
        with tape.Tape(keep_adjoints=True) as t:
            loss = _small_loss(a, b)
        if start == "backward":
            loss.backward()
        else:
            t.gradient(loss, [a, b])
        assert len(t.adjoints) == len(t), f"started by {start}"
        adjoints.append(list(t.adjoints.values()))            # in the order of the sweep
    for by_backward, by_gradient in zip(*adjoints):
        np.testing.assert_array_equal(by_backward, by_gradient)


# ---- 8. threads ---------------------------------------------------------------------------------

def _train_tiny_mlp(seed, steps=300, start=None):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    model = nn.MLP([3, 8, 1], "tanh", seed=seed, dtype=np.float64)
    optimizer = SGD(model.parameters(), lr=0.05)
    if start is not None:
        start.wait()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = tape.mse(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, model.state_dict()


def _alone_and_together():
    """Train seeds 0 and 1 one after the other, then both at once in two threads;
    what each got, as exact hex floats, and whether recording is still on."""
    alone = {seed: _train_tiny_mlp(seed) for seed in (0, 1)}
    together, errors = {}, []
    start = threading.Barrier(2)

    def run(seed):
        try:
            together[seed] = _train_tiny_mlp(seed, start=start)
        except Exception as e:                   # reported by the test, with the seed
            errors.append(f"seed {seed}: {type(e).__name__}: {e}")

    sys.setswitchinterval(1e-5)                  # switch threads often: interleave the steps
    threads = [threading.Thread(target=run, args=(seed,)) for seed in (0, 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    def exact(result):
        losses, state = result
        return {"losses": [x.hex() for x in losses],
                "state": {k: [float(v).hex() for v in a.ravel()] for k, a in state.items()}}

    return {"errors": errors, "recording_after": tape.is_recording(),
            "alone": {s: exact(r) for s, r in alone.items()},
            "together": {s: exact(r) for s, r in together.items()}}


def test_two_threads_training_at_once_get_exactly_what_each_gets_alone():
    # in a process of its own: an engine with global state could leave recording off
    # for every test that runs after this one
    code = ("import json; from tests.engine.test_engine_semantics import _alone_and_together; "
            "print(json.dumps(_alone_and_together()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert not result["errors"], result["errors"]
    assert result["recording_after"], "recording was left off after the threads finished"
    for seed in ("0", "1"):
        alone, together = result["alone"][seed], result["together"][seed]
        assert together["losses"] == alone["losses"], \
            f"seed {seed}: the losses differ from training alone"
        assert together["state"] == alone["state"], \
            f"seed {seed}: the parameters differ from training alone"


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    entered, checked = threading.Event(), threading.Event()
    seen_inside = []

    def hold_no_grad():
        with tape.no_grad():
            entered.set()
            checked.wait(10)
            seen_inside.append(tape.is_recording())

    th = threading.Thread(target=hold_no_grad)
    th.start()
    try:
        assert entered.wait(10)
        assert tape.is_recording()
        x = tape.tensor(2.0, requires_grad=True)
        y = x * 3.0
        assert y.requires_grad
        y.backward()
        assert float(x.grad) == 3.0
    finally:
        checked.set()
        th.join()
    assert seen_inside == [False]                 # and the other thread's no_grad held


def test_a_fresh_thread_records():
    seen = []
    with tape.no_grad():
        th = threading.Thread(target=lambda: seen.append(tape.is_recording()))
        th.start()
        th.join()
    assert seen == [True]


# ---- PyTorch habits: in-place updates -----------------------------------------------------------

IN_PLACE = ["-=", "+=", "*=", "/="]


def _update(W, symbol, step):
    if symbol == "-=":
        W -= step
    elif symbol == "+=":
        W += step
    elif symbol == "*=":
        W *= step
    else:
        W /= step
    return W


@pytest.mark.parametrize("symbol", IN_PLACE)
def test_in_place_update_under_no_grad_changes_data_and_keeps_a_leaf(symbol):
    x = np.array([0.5, -1.0, 2.0])
    W = tape.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, name="W")
    same, data = W, W.data
    (W * x).sum().backward()
    step = 1 + 0.1 * W.grad                        # positive: fine for *= and /= too
    expected = {"-=": np.subtract, "+=": np.add, "*=": np.multiply, "/=": np.divide}[symbol](
        data.copy(), step)
    with tape.no_grad():
        W = _update(W, symbol, step)
    assert W is same and W.data is data
    np.testing.assert_array_equal(W.data, expected)
    assert W.is_leaf and W.requires_grad and W.name == "W"
    W.grad = None
    (W * x).sum().backward()                       # the next step works as the first did
    np.testing.assert_array_equal(W.grad, x)


@pytest.mark.parametrize("symbol", IN_PLACE)
def test_in_place_update_of_a_leaf_outside_no_grad_says_use_no_grad_or_data(symbol):
    W = tape.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(RuntimeError) as error:
        _update(W, symbol, 2.0)
    message = str(error.value)
    assert "no_grad" in message and ".data" in message, message


def test_backward_after_a_saved_tensor_was_changed_in_place_names_the_op():
    # PyTorch's version counter: multiply saved W to compute W·W's gradient
    W = tape.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    loss = (W * W).sum()
    with tape.no_grad():
        W -= 0.1
    with pytest.raises(RuntimeError, match="multiply"):
        loss.backward()


def test_backward_after_a_saved_constant_was_changed_in_place_names_the_op():
    W = tape.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    x = tape.tensor(np.array([0.5, -1.0, 2.0]))     # W's gradient is x: multiply saved it
    loss = (W * x).sum()
    with tape.no_grad():
        x *= 2.0
    with pytest.raises(RuntimeError, match="multiply"):
        loss.backward()


def test_writing_through_data_is_the_escape_hatch_and_is_not_detected():
    W = tape.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    x = tape.tensor(np.array([0.5, -1.0, 2.0]))
    loss = (W * W * x).sum()
    W.data[...] = 0.0
    x.data *= 2.0
    loss.backward()                                 # no error: .data is not watched
    assert W.grad.shape == (3,)


# ---- PyTorch habits: numpy functions and abs ----------------------------------------------------

@pytest.mark.parametrize("call, advice", [
    (lambda t: np.exp(t), r"tape\.exp"),
    (lambda t: np.log(t), r"tape\.log"),
    (lambda t: np.tanh(t), r"tape\.tanh"),
    (lambda t: np.sqrt(t), r"tape\.sqrt"),
    (lambda t: np.max(t), r"tape\.max|\.max\(\)"),
    (lambda t: np.sum(t), r"tape\.sum|\.sum\(\)"),
    (lambda t: np.mean(t), r"tape\.mean|\.mean\(\)"),
], ids=["exp", "log", "tanh", "sqrt", "max", "sum", "mean"])
def test_numpy_functions_on_a_tensor_say_which_tape_function_to_use(call, advice):
    t = tape.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match=advice) as error:
        call(t)
    # Python's own complaint ("Tensor.sum() got an unexpected keyword argument 'out'")
    # also contains ".sum()", but tells the student nothing
    assert "unexpected keyword" not in str(error.value)


def test_a_numpy_ufunc_the_tape_has_an_op_for_either_refuses_or_records():
    # np.maximum(t, 0) may be the tape's maximum (as ndarray * t is the tape's multiply);
    # what it must not do is give values with no gradient
    t = tape.tensor(np.array([1.0, -2.0]), requires_grad=True)
    try:
        out = np.maximum(t, 0.0)
    except TypeError as error:
        assert "tape.maximum" in str(error)
        return
    assert isinstance(out, tape.Tensor) and out.requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [1.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_abs_works_and_its_gradient_is_the_sign(dtype):
    x = tape.tensor(np.array([-2.0, 0.0, 3.0, -0.5], dtype), requires_grad=True)
    y = abs(x)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, [2.0, 0.0, 3.0, 0.5])
    y.backward(np.ones(4, dtype))
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0, -1.0])     # sign(x), 0 at 0
    assert x.grad.dtype == dtype

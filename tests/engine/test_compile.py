"""tape.compile: the replay gives the tape's results bit for bit, refuses what it cannot
repeat, traces again when the shapes change, and its source reads like the homework."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tape
from tests.op_table import OPS

REPLAY = settings(max_examples=4, derandomize=True, deadline=None)
rows = pytest.mark.parametrize("op", OPS, ids=[op.id for op in OPS])


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def all_primitives():
    """Every Primitive defined in any module of the tape package (helpers included)."""
    found = {}
    for info in pkgutil.walk_packages(tape.__path__, "tape."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            # a table of ops counts too: operators.py's in-place forms (add_, div_, ...)
            for op in (value.values() if isinstance(value, dict) else (value,)):
                if isinstance(op, tape.Primitive):
                    found[op.name] = op
    return found


def test_the_scan_finds_the_ops_of_every_file():
    assert {"tanh", "linear", "sum", "cross_entropy", "conv2d", "max_pool2d", "unpool",
            "reshape", "identity", "greater", "setitem", "copy", "square", "outer", "minimum",
            "clip", "min", "add_", "sub_", "mul_", "div_", "pow_"} <= set(all_primitives())


# ---- every op has a generated form -------------------------------------------------------

def test_every_primitive_has_a_generated_form_for_its_forward_and_each_rule():
    missing = []
    for name, op in sorted(all_primitives().items()):
        if getattr(op, "source", None) is None:
            missing.append(f"{name} (no defsource)")
            continue
        _, vjps, _ = op.source
        rules = op.vjps
        for i, rule in enumerate(rules):
            if rule is not None and (i >= len(vjps) or vjps[i] is None):
                missing.append(f"{name} (no form for the rule of input {i})")
    assert not missing, ("ops with no generated form beside their gradient rule "
                         f"(tape.compile could not replay them): {missing}")


@rows
def test_every_row_of_the_op_table_records_only_ops_with_a_generated_form(op):
    inputs, params = OPS_EXAMPLE(op)
    xs = [tape.tensor(x, requires_grad=True) for x in inputs]
    with tape.Tape() as t:
        op.apply(*xs, **params)
    missing = {e.op.name for e in t.entries if getattr(e.op, "source", None) is None}
    assert not missing, f"{op.id} records {missing}, which have no generated form"


def OPS_EXAMPLE(op):
    """One example of the op's cases (the first hypothesis draws, fixed)."""
    found = []

    @settings(max_examples=1, derandomize=True, deadline=None, database=None)
    @given(case=op.cases)
    def first(case):
        found.append(case)
    first()
    inputs, params = found[0]
    return tuple(np.asarray(x, dtype=np.float64) for x in inputs), params


# ---- the replay equals the tape, bit for bit -------------------------------------------------

def weighted_sum(op, params, weights):
    """A scalar of the op's output with a weight per element, so every adjoint differs."""
    def f(*xs):
        return (op.apply(*xs, **params) * weights).sum()
    return f


@rows
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@REPLAY
@given(data=st.data())
def test_replayed_values_and_gradients_equal_the_tapes_bit_for_bit(op, dtype, data):
    inputs, params = data.draw(op.cases)
    inputs = [np.asarray(x, dtype=dtype) for x in inputs]
    out = np.asarray(op.apply(*[tape.tensor(x) for x in inputs], **params).data)
    weights = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
    f = weighted_sum(op, params, weights)
    argnums = tuple(range(len(inputs)))
    eager = tape.value_and_grad(f, argnums)
    compiled = tape.compile(eager)
    compiled(*inputs)                                     # traced on these values
    other = [x * 1.25 - 0.125 for x in inputs]            # replayed on others, same shapes
    if op.name in ("log", "sqrt", "power", "divide"):
        other = [np.abs(x) + 0.5 for x in other]
    other = [np.asarray(x, dtype=dtype) for x in other]
    value, grads = compiled(*other)
    expected_value, expected_grads = eager(*other)
    assert compiled.traces == 1
    assert same_bits(value, expected_value)
    for g, e in zip(grads, expected_grads):
        assert same_bits(g, e), f"{op.id}: the replayed gradient differs from the tape's"
        assert type(g) is np.ndarray                       # a 0-d one too, never a scalar


SECOND_ORDER = ["exp", "tanh", "sigmoid", "log", "multiply", "matmul", "linear", "sum", "mean",
                "softmax", "log_softmax", "cross_entropy", "sqrt", "divide", "reshape",
                "transpose", "conv2d", "avg_pool2d", "mse", "subtract", "add"]


@pytest.mark.parametrize("op", [op for op in OPS if op.name in SECOND_ORDER and not op.label],
                         ids=[op.id for op in OPS if op.name in SECOND_ORDER and not op.label])
@settings(max_examples=2, derandomize=True, deadline=None)
@given(data=st.data())
def test_second_order_replays_equal_the_tapes_bit_for_bit(op, data):
    """grad of (a vector · grad f): the inner backward is recorded (create_graph), traced
    and replayed like any forward."""
    inputs, params = data.draw(op.cases)
    inputs = [np.abs(np.asarray(x, dtype=np.float64)) + 0.5 for x in inputs]
    out = np.asarray(op.apply(*[tape.tensor(x) for x in inputs], **params).data)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    f = weighted_sum(op, params, weights)
    directions = [np.random.default_rng(2 + i).standard_normal(np.shape(x))
                  for i, x in enumerate(inputs)]
    argnums = tuple(range(len(inputs)))
    first = tape.grad(f, argnums)

    def directional(*xs):
        return sum((g * v).sum() for g, v in zip(first(*xs), directions))
    eager = tape.grad(directional, argnums)
    compiled = tape.compile(eager)
    compiled(*inputs)
    other = [x * 1.25 for x in inputs]
    for g, e in zip(compiled(*other), eager(*other)):
        assert same_bits(g, e)


def test_second_order_through_relu_is_refused_not_frozen():
    """relu's rule multiplies by the mask z > 0 computed from the values: recorded for a
    second derivative, that mask is a constant of the trace, so a replay would keep it."""
    first = tape.grad(lambda x: (tape.relu(x) * x).sum())
    compiled = tape.compile(tape.grad(lambda x: (first(x) * first(x)).sum()))
    with pytest.raises(tape.TracedValueError, match="freeze"):
        compiled(np.array([1.0, -2.0, 3.0]))


# ---- guards: what a replay could not repeat is refused -------------------------------------------

W = np.ones((3, 2))
X = np.arange(12.0).reshape(4, 3)


def refuses(f, match, *args):
    compiled = tape.compile(tape.grad(f))
    with pytest.raises(tape.TracedValueError, match=match) as raised:
        compiled(*(args or (W.copy(), X)))
    return str(raised.value)


def line_of(text):
    """'test_compile.py:<n> (<text>)' for the line of this file that holds `text`."""
    source, _ = inspect.getsourcelines(inspect.getmodule(line_of))
    number = next(i + 1 for i, line in enumerate(source) if text in line
                  and "line_of" not in line)
    return f"test_compile.py:{number} ({text})"


def test_if_on_a_traced_loss_is_refused_naming_the_line():
    def f(W, X):
        loss = (X @ W).sum()
        if loss > 1:
            return loss * 2
        return loss
    assert line_of("if loss > 1:") in refuses(f, "bool")


def test_while_on_float_of_a_traced_value_is_refused_naming_the_line():
    def f(W, X):
        z = X @ W
        while float(z.sum()) < 1000:
            z = z * 2
        return z.sum()
    assert line_of("while float(z.sum()) < 1000:") in refuses(f, "float")


def test_item_of_a_traced_value_is_refused():
    def f(W, X):
        s = (X @ W).sum()
        return s * s.item()
    assert line_of("return s * s.item()") in refuses(f, "item")


def test_bool_of_a_traced_tensor_is_refused():
    def f(W, X):
        s = (X @ W).sum()
        return s * 2 if bool(s) else s
    refuses(f, "bool")


def test_int_of_a_traced_value_is_refused():
    refuses(lambda W, X: (X @ W).sum() * int((X @ W).sum()), "int")


def test_values_taken_out_of_the_tape_are_refused():
    refuses(lambda W, X: (X @ W).sum() * np.asarray(X @ W).sum(), "asarray")
    refuses(lambda W, X: (X @ W).sum() * (X @ W).detach().sum(), "detach")
    refuses(lambda W, X: (X @ W).sum() * tape.tensor((X @ W).numpy()).sum(), "numpy")


def test_an_array_computed_from_data_outside_the_tape_is_refused():
    def f(W, X):
        mask = tape.tensor((X @ W).data > 20)          # .data: the escape hatch of the tape
        return tape.where(mask, X @ W, 0.0).sum()
    assert line_of("return tape.where(mask, X @ W, 0.0).sum()") in refuses(f, "freeze")


def test_numpys_random_generator_inside_f_is_refused():
    refuses(lambda W, X: (X @ W * np.random.rand()).sum(), "random")


def test_an_input_changed_in_place_inside_f_is_refused():
    def f(W, X):
        with tape.no_grad():
            W -= 1
        return (X @ W).sum()
    refuses(f, "in place")


def test_a_comparison_inside_f_is_replayed_not_frozen():
    def f(W, X):
        z = X @ W
        return tape.where(z > 20, z, 0.0).sum()
    compiled = tape.compile(tape.grad(f))
    compiled(W, X)
    for data in (X - 5, X * 3, -X):
        assert same_bits(compiled(W, data), tape.grad(f)(W, data))
    assert compiled.traces == 1


# ---- assignment into computed tensors (z[mask] = 0, dx /= N): replayed or refused ----------------

LABELS = np.array([0, 1, 1, 0])


def _updated(W, X):
    z = X @ W
    z += 1.5
    z -= X.sum()
    z *= 2.0
    z /= 3.0
    z **= 2
    return z.sum()


def _assigned_rows(W, X):
    z = X @ W
    z[:, 1] = 0.0
    z[1] = z[2] * 2
    return (z * z).sum()


def _cs231n_dx(W, X):
    dx = X @ W
    dx[np.arange(4), LABELS] -= 1              # the labels a constant of the function
    dx /= 4
    return (dx * dx).sum()


def _penalty_added(W, X):
    loss = ((X @ W) ** 2).sum()
    loss += 0.1 * (W * W).sum()
    return loss


@pytest.mark.parametrize("f", [_updated, _assigned_rows, _cs231n_dx, _penalty_added],
                         ids=["+= -= *= /= **=", "z[rows] = ...", "dx[range(N), y] -= 1", "loss +="])
def test_assignments_into_computed_tensors_replay_the_tape_bit_for_bit(f):
    """The in-place forms and setitem rebase the tensor's history; the replay reads every
    entry's inputs as recorded (the z before the assignment), as the sweep does."""
    eager = tape.grad(f, (0, 1))
    compiled = tape.compile(eager)
    compiled(W, X)
    rng = np.random.default_rng(3)
    for _ in range(3):
        w, x = rng.standard_normal(W.shape), rng.standard_normal(X.shape)
        assert all(same_bits(a, b) for a, b in zip(compiled(w, x), eager(w, x)))
    assert compiled.traces == 1


def test_an_index_computed_from_the_traced_values_is_refused_not_frozen():
    """`z[z < 0] = 0`: the mask is the index of the assignment, a constant of the entry;
    a replay would keep the first call's mask for every input."""
    def f(W, X):
        z = X @ W
        z[z < 3] = 0
        return (z * z).sum()
    assert line_of("z[z < 3] = 0") in refuses(f, "index is computed from the traced values")

    def g(W, X):
        z = X @ W
        return (z[z > 3] ** 2).sum()
    assert "getitem's index" in refuses(g, "tape.where")


# ---- re-tracing ------------------------------------------------------------------------------------

def test_other_shapes_dtypes_or_requires_grad_trace_again_and_say_why():
    f = tape.grad(lambda W, X: tape.tanh(X @ W).sum())
    compiled = tape.compile(f)
    compiled(W, X)
    compiled(W, X + 1)
    assert compiled.traces == 1
    compiled(W, np.ones((5, 3)))
    assert compiled.traces == 2 and "X was (4, 3) float64, is now (5, 3) float64" in compiled.reasons[0]
    compiled(W, X.astype(np.float32))
    assert compiled.traces == 3 and "float32" in compiled.reasons[1]
    for data in (X, np.ones((5, 3)), X.astype(np.float32)):
        assert same_bits(compiled(W, data), f(W, data))
    assert compiled.traces == 3                       # all three are kept


def test_a_parameter_that_stops_requiring_grad_traces_again():
    W1 = tape.tensor(np.ones((3, 2)), requires_grad=True, name="W1")
    b1 = tape.tensor(np.zeros(2), requires_grad=True, name="b1")
    compiled = tape.compile(lambda X: tape.tanh(tape.linear(X, W1, b1)).sum(), parameters=[W1, b1])
    compiled(X)
    b1.requires_grad = False
    compiled(X)
    assert compiled.traces == 2 and "not requiring grad" in compiled.reasons[0]


def test_the_cache_keeps_a_few_traces_and_forgets_the_oldest():
    f = tape.grad(lambda x: (x * x).sum())
    compiled = tape.compile(f, cache_size=2)
    for n in (1, 2, 3, 1):
        compiled(np.ones(n))
    assert compiled.traces == 4                       # (1,) was forgotten, traced again


def test_under_no_grad_or_inside_an_outer_gradient_it_runs_the_tape_itself():
    f = tape.grad(lambda x: (x * x * x).sum())
    compiled = tape.compile(f)
    outer = tape.grad(lambda x: compiled(x).sum())
    assert same_bits(outer(np.array([2.0])), np.array([12.0]))     # d(3x²)/dx = 6x
    assert compiled.traces == 0


# ---- the source ------------------------------------------------------------------------------------

def moons_like():
    W1 = tape.tensor(np.linspace(-1, 1, 32).reshape(2, 16), requires_grad=True, name="W1")
    b1 = tape.tensor(np.zeros(16), requires_grad=True, name="b1")
    W2 = tape.tensor(np.linspace(-1, 1, 16).reshape(16, 1), requires_grad=True, name="W2")
    b2 = tape.tensor(np.zeros(1), requires_grad=True, name="b2")
    params = [W1, b1, W2, b2]

    def loss(X, y):
        h = tape.relu(tape.linear(X, W1, b1))
        s = tape.linear(h, W2, b2)
        return tape.relu(1 - y * s).mean() + 1e-4 * sum((p * p).sum() for p in params)
    return loss, params


def test_the_source_reads_like_the_homework():
    loss, params = moons_like()
    compiled = tape.compile(loss, parameters=params)
    X = np.random.default_rng(0).standard_normal((100, 2))
    y = np.sign(X[:, :1])
    compiled(X, y)
    source = compiled.source
    forward, backward = source.split("# backward")
    assert "def step_loss(X, y, W1, b1, W2, b2):" in forward
    assert "z1 = X @ W1" in forward and "h1 = np.maximum(z1, 0)" in forward
    assert "dW1" in backward and "X.T @ dz1" in backward
    assert "dX" not in source and "dy" not in source            # no gradient for the data
    assert "0.01 * (" in backward                               # 1/N folded, not computed
    lines = [line for line in source.splitlines() if line.startswith("    ")]
    assert all(line.count(" = ") <= 1 for line in lines)        # one statement per line


def test_a_gradient_alone_does_not_compute_what_only_the_value_needs():
    compiled = tape.compile(tape.grad(lambda x: (x * x).sum() + tape.exp(x).sum() * 0 + 3))
    compiled(np.ones(3))
    assert ".sum()" not in compiled.source.split("# backward")[0]


# ---- training: compiled and eager, to the last digit -----------------------------------------------

def test_a_float32_net_with_an_l2_penalty_and_aux_outputs_replays_the_tape():
    """Sums of float32 squares are numpy scalars in the replay, 0-d arrays on the tape:
    the types still come out the same (float32), and so do the bits."""
    from models.nn import MLP, l2_penalty
    model = MLP([4, 5, 3], seed=0)
    rng = np.random.default_rng(0)

    def objective(X, y):
        logits = model(X)
        loss = tape.cross_entropy(logits, y)
        return loss + l2_penalty(model.weights(), 0.01), (loss, logits)
    compiled = tape.compile(objective, parameters=model, has_aux=True)
    for _ in range(3):
        X, y = rng.random((6, 4), dtype=np.float32), rng.integers(0, 3, 6)
        model.zero_grad()
        value, (data_loss, logits) = compiled(X, y)
        grads = [p.grad for p in model.parameters()]
        model.zero_grad()
        total, (eager_loss, eager_logits) = objective(X, y)
        total.backward()
        assert same_bits(value, total.data) and same_bits(data_loss, eager_loss.data)
        assert same_bits(logits, eager_logits.data) and value.dtype == np.float32
        assert all(same_bits(g, p.grad) for g, p in zip(grads, model.parameters()))
    assert compiled.traces == 1


def test_a_short_compiled_training_run_equals_the_eager_one_to_the_last_digit():
    from models.optim import SGD
    X = np.random.default_rng(0).standard_normal((100, 2))
    y = np.sign(X[:, :1] * X[:, 1:])
    runs = []
    for compiled in (False, True):
        loss, params = moons_like()
        optimizer = SGD(params, lr=0.5, momentum=0.9)
        step = tape.compile(loss, parameters=params) if compiled else None
        losses = []
        for _ in range(20):
            optimizer.zero_grad()
            if step is None:
                value = loss(X, y)
                value.backward()
                value = value.data
            else:
                value = step(X, y)
            optimizer.step()
            losses.append(value)
        runs.append((losses, [p.data.copy() for p in params]))
    (eager_losses, eager_params), (losses, params) = runs
    assert all(same_bits(a, b) for a, b in zip(losses, eager_losses))
    assert all(same_bits(a, b) for a, b in zip(params, eager_params))

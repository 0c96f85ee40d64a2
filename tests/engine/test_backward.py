"""The reverse sweep: shared nodes, long chains, the Tape context, higher order."""

import re

import numpy as np
import pytest

import tape


def test_a_node_used_twice_gets_both_contributions():
    a = tape.tensor(3.0, requires_grad=True)
    b = a + a
    c = b * b
    c.backward()
    assert a.grad == 2 * b.item() * 2         # dc/db = 2b, db/da = 2


def test_diamond_graph_sums_both_paths():
    x = tape.tensor(0.7, requires_grad=True)
    y = tape.tanh(x) * tape.exp(x)            # two paths from x to y
    y.backward()
    expected = (1 - np.tanh(0.7) ** 2) * np.exp(0.7) + np.tanh(0.7) * np.exp(0.7)
    assert x.grad == pytest.approx(expected, rel=1e-12)


def test_a_chain_of_100000_ops_runs_backward_without_recursion():
    x = tape.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.000001
    y.backward()
    assert x.grad == pytest.approx(1.000001 ** 100_000, rel=1e-9)


def test_a_long_chain_dropped_without_backward_is_freed_quietly():
    x = tape.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    del y                                      # deallocating the chain must not overflow


def test_tape_gradient_returns_gradients_and_leaves_grad_alone():
    w = tape.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, name="w")
    b = tape.tensor(np.array([0.5, -0.5]), requires_grad=True, name="b")
    x = np.array([[1.0, -1.0]])
    with tape.Tape() as t:
        loss = tape.tanh(x @ w + b).sum()
    dw, db = t.gradient(loss, [w, b])
    d = 1 - np.tanh(x @ w.data + b.data) ** 2
    np.testing.assert_allclose(dw, x.T @ d)
    np.testing.assert_allclose(db, d.sum(0))
    assert w.grad is None and b.grad is None


def test_printed_tape_is_one_ssa_line_per_entry_before_and_after_gradient():
    w = tape.tensor(np.ones((3, 2), np.float32), requires_grad=True, name="W")
    x = np.ones((4, 3), np.float32)
    with tape.Tape() as t:
        loss = tape.relu(x @ w).sum()
    before = str(t)
    lines = before.splitlines()
    assert len(lines) == 3
    assert re.match(r"v1 = matmul\(array\(4, 3\), W\)\s+\(4, 2\) float32$", lines[0])
    assert re.match(r"v2 = relu\(v1\)\s+\(4, 2\) float32$", lines[1])
    assert re.match(r"v3 = sum\(v2\)\s+\(\) float32$", lines[2])
    t.gradient(loss, [w])
    assert str(t) == before


def test_print_tape_shows_the_listing(capsys):
    x = tape.tensor(np.ones(3), requires_grad=True, name="x")
    with tape.Tape() as t:
        y = tape.exp(x * 2.0)
        loss = y.sum()
    print(t)
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in printed] == [
        ["v1", "=", "multiply(x,"], ["v2", "=", "exp(v1)"], ["v3", "=", "sum(v2)"]]
    assert printed[0].endswith("(3,) float64") and printed[2].endswith("() float64")
    t.gradient(loss, [x])
    print(t)
    assert capsys.readouterr().out.splitlines() == printed
    assert str(tape.Tape()) == "(empty tape)"


def test_tape_keeps_adjoints_for_the_reverse_sweep():
    x = tape.tensor(2.0, requires_grad=True, name="x")
    with tape.Tape(keep_adjoints=True) as t:
        y = x * 3.0
        z = tape.tanh(y)
    t.gradient(z, [x])
    assert t.adjoints[t.entries[1].index] == 1.0                      # dz/dz
    assert t.adjoints[t.entries[0].index] == pytest.approx(1 - np.tanh(6) ** 2)
    assert "adjoint" in t.listing(adjoints=True)


def test_retain_graph_allows_a_second_backward_and_the_grads_double():
    x = tape.tensor(1.5, requires_grad=True)
    y = tape.exp(x) * x
    y.backward(retain_graph=True)
    first = x.grad.copy()
    np.testing.assert_allclose(first, np.exp(1.5) * 2.5, rtol=1e-12)   # (eˣx)' = eˣ(x + 1)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-12)


def test_leaf_grads_never_share_memory_with_each_other_or_the_seed():
    # add hands one adjoint to both inputs, and a transpose's vjp is a view of it
    a = tape.tensor(np.ones((2, 2)), requires_grad=True)
    b = tape.tensor(np.ones((2, 2)), requires_grad=True)
    ((a.T + b) * 2).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a.grad *= 0                              # e.g. gradient clipping in place
    np.testing.assert_array_equal(b.grad, np.full((2, 2), 2.0))
    seed = np.ones(3)
    c = tape.tensor(np.ones(3), requires_grad=True)
    d = tape.tensor(np.ones(3), requires_grad=True)
    (c + d).backward(seed)
    assert not np.shares_memory(c.grad, seed) and not np.shares_memory(d.grad, seed)


def test_tape_gradient_returns_independent_writable_arrays():
    a = tape.tensor(np.ones(3), requires_grad=True)
    b = tape.tensor(np.ones(3), requires_grad=True)
    with tape.Tape() as t:
        loss = (a + b).sum()
    ga, gb = t.gradient(loss, [a, b])
    assert not np.shares_memory(ga, gb)
    ga *= 0.1                                # e.g. an optimiser scaling its step in place
    np.testing.assert_array_equal(gb, np.ones(3))
    g = tape.grad(lambda x: x.sum())(np.ones(3))
    g *= 2
    np.testing.assert_array_equal(g, np.full(3, 2.0))


def test_tape_gradient_of_one_loss_leaves_another_losss_graph_usable():
    w = tape.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with tape.Tape() as t:
        first = (w * 2.0).sum()
        second = (w * w).sum()
    np.testing.assert_array_equal(t.gradient(second, [w])[0], [2.0, 4.0])
    first.backward()                         # its entries were never used by `second`
    np.testing.assert_array_equal(w.grad, [2.0, 2.0])


def test_gradient_with_respect_to_an_intermediate_value():
    x = tape.tensor(np.array([0.5, -1.0]), requires_grad=True)
    with tape.Tape() as t:
        h = x * 3.0
        loss = (h * h).sum()
    gh, gx = t.gradient(loss, [h, x])
    np.testing.assert_allclose(gh, 2 * h.data, rtol=1e-12)
    np.testing.assert_allclose(gx, 18 * x.data, rtol=1e-12)


def test_an_unrelated_source_gets_zeros():
    x = tape.tensor(np.ones(2), requires_grad=True)
    unused = tape.tensor(np.ones(3), requires_grad=True)
    with tape.Tape() as t:
        y = (x * x).sum()
    gx, gu = t.gradient(y, [x, unused])
    np.testing.assert_array_equal(gu, np.zeros(3))
    np.testing.assert_array_equal(gx, [2, 2])


def test_grad_and_value_and_grad_with_argnums():
    def f(a, b):
        return (a * a * b).sum()

    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_allclose(tape.grad(f)(a, b), 2 * a * b)
    np.testing.assert_allclose(tape.grad(f, argnums=1)(a, b), a * a)
    value, (ga, gb) = tape.value_and_grad(f, argnums=(0, 1))(a, b)
    assert value == pytest.approx(19.0)
    np.testing.assert_allclose(ga, 2 * a * b)
    np.testing.assert_allclose(gb, a * a)


def test_second_derivative_of_tanh():
    d2 = tape.grad(tape.grad(tape.tanh))
    for z in np.linspace(-3, 3, 13):
        exact = -2 * np.tanh(z) * (1 - np.tanh(z) ** 2)
        eps = 1e-5
        fd = (tape.grad(tape.tanh)(z + eps) - tape.grad(tape.tanh)(z - eps)) / (2 * eps)
        assert float(d2(z)) == pytest.approx(exact, abs=1e-12)
        assert float(d2(z)) == pytest.approx(fd, abs=1e-8)


def test_third_derivative_of_tanh():
    d3 = tape.grad(tape.grad(tape.grad(tape.tanh)))
    for z in np.linspace(-2, 2, 9):
        t = np.tanh(z)
        assert float(d3(z)) == pytest.approx((1 - t * t) * (6 * t * t - 2), abs=1e-12)


def test_hessian_vector_product_of_a_small_mlp():
    # 3-4-2 with tanh and cross-entropy; H·v = ∇⟨∇f, v⟩, against (∇f(θ + εv) − ∇f(θ − εv)) / 2ε
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)

    def loss(W1, b1, W2):
        return tape.cross_entropy(tape.tanh(X @ W1 + b1) @ W2, y)

    params = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((4, 2))]
    v = [rng.standard_normal(p.shape) for p in params]
    everything = (0, 1, 2)
    grad_loss = tape.grad(loss, argnums=everything)

    def grad_dot_v(*ps):
        return sum((g * vi).sum() for g, vi in zip(grad_loss(*ps), v))

    hvp = tape.grad(grad_dot_v, argnums=everything)(*params)
    eps = 1e-5
    plus = grad_loss(*[p + eps * vi for p, vi in zip(params, v)])
    minus = grad_loss(*[p - eps * vi for p, vi in zip(params, v)])
    for h, gp, gm in zip(hvp, plus, minus):
        np.testing.assert_allclose(h, (gp - gm) / (2 * eps), rtol=1e-6, atol=1e-9)


SECOND_ORDER = {
    "exp": lambda x: tape.exp(x), "log": lambda x: tape.log(x * x + 1),
    "sqrt": lambda x: tape.sqrt(x * x + 1), "sigmoid": tape.sigmoid, "tanh": tape.tanh,
    "divide": lambda x: 1 / (x * x + 1), "power": lambda x: (x * x + 1) ** 1.5,
    "power_of_tensors": lambda x: (x * x + 1) ** x,
    "matmul": lambda x: tape.tanh(x @ np.arange(12.0).reshape(4, 3) * 0.1),
    "matmul_1d": lambda x: tape.tanh(x[0] @ x[1]),
    "softmax": lambda x: tape.softmax(x) * np.arange(12.0).reshape(3, 4),
    "log_softmax": lambda x: tape.log_softmax(x, axis=0) * np.arange(12.0).reshape(3, 4),
    "cross_entropy": lambda x: tape.cross_entropy(x, np.array([0, 3, 1])),
    "mse": lambda x: tape.mse(x * x, np.ones((3, 4))),
    "mean_max": lambda x: (x * x).mean(axis=0) * (x * x).max(axis=1, keepdims=True),
    "shapes": lambda x: tape.exp(tape.concatenate([x.T, x[np.array([0, 0])].T], axis=1))
    .reshape(-1)[np.array([1, 1, 7])],
    "stack_broadcast": lambda x: tape.sum_to(tape.stack([x, x * x]) * x, shape=(1, 4)),
    "where_relu": lambda x: tape.where(x.data > 0, x * x, tape.relu(x) * x) + tape.leaky_relu(x) * x,
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_gradient_of_a_gradient_passes_gradcheck(name):
    # every rule is written with tape ops, so its backward pass can be differentiated again
    f = SECOND_ORDER[name]
    v = np.random.default_rng(3).standard_normal((3, 4))
    directional = lambda x: (tape.grad(lambda x: f(x).sum())(x) * v).sum()   # noqa: E731
    x = np.random.default_rng(2).uniform(0.3, 1.2, (3, 4)) * np.sign(v)
    assert tape.gradcheck(directional, [x], rtol=1e-5, atol=1e-7)


def test_a_user_defined_op_passes_gradcheck():
    @tape.primitive
    def cube(x):
        return x ** 3

    cube.defvjp(lambda g, ans, x: g * 3 * x * x)
    assert tape.gradcheck(lambda x: cube(x).sum(), [np.array([0.5, -1.0, 2.0])])
    assert float(tape.grad(tape.grad(lambda x: cube(x)))(2.0)) == pytest.approx(12.0)


def test_a_wrong_rule_is_caught_with_input_index_and_values():
    @tape.primitive
    def square(x):
        return x * x

    square.defvjp(lambda g, ans, x: g * x)          # forgot the factor 2
    with pytest.raises(tape.GradcheckError) as error:
        tape.gradcheck(lambda a, b: (square(a) * b).sum(),
                       [np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    message = str(error.value)
    assert "input 0" in message and "index (1,)" in message
    assert "tape gradient 8" in message and "finite differences 16" in message


def test_rules_get_ndarrays_in_a_plain_backward_and_tensors_when_it_is_recorded():
    seen = []

    @tape.primitive
    def cube(x):
        return x ** 3

    def rule(g, ans, x):
        seen.append((type(g), type(ans), type(x)))
        return g * 3 * x * x                      # d x³ = 3x² dx

    cube.defvjp(rule)
    x = tape.tensor(2.0, requires_grad=True)
    cube(x).backward()
    assert seen == [(np.ndarray, np.ndarray, np.ndarray)] and x.grad == 12.0
    seen.clear()
    d2 = tape.grad(tape.grad(lambda x: cube(x)))(2.0)      # (x³)'' = 6x, through the rule
    assert d2 == pytest.approx(12.0)
    assert (tape.Tensor, tape.Tensor, tape.Tensor) in seen

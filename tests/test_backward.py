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


def test_tape_keeps_adjoints_for_the_reverse_sweep():
    x = tape.tensor(2.0, requires_grad=True, name="x")
    with tape.Tape(keep_adjoints=True) as t:
        y = x * 3.0
        z = tape.tanh(y)
    t.gradient(z, [x])
    assert t.adjoints[t.entries[1].index] == 1.0                      # dz/dz
    assert t.adjoints[t.entries[0].index] == pytest.approx(1 - np.tanh(6) ** 2)
    assert "adjoint" in t.listing(adjoints=True)


def test_retain_graph_allows_a_second_backward():
    x = tape.tensor(1.5, requires_grad=True)
    y = tape.exp(x) * x
    y.backward(retain_graph=True)
    first = x.grad
    y.backward()
    assert x.grad == pytest.approx(2 * first)


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


def test_hessian_vector_product_of_a_small_mlp():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    W2 = rng.standard_normal((4, 2))

    def loss(W1):
        return tape.cross_entropy(tape.tanh(X @ W1) @ W2, y)

    W1 = rng.standard_normal((3, 4))
    v = rng.standard_normal((3, 4))
    hvp = tape.grad(lambda W: (tape.grad(loss)(W) * v).sum())(W1)
    eps = 1e-5
    fd = (tape.grad(loss)(W1 + eps * v) - tape.grad(loss)(W1 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hvp, fd, rtol=1e-6, atol=1e-9)


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

"""Optimisers and schedules: each update equals the formula in its docstring."""

import math

import numpy as np
import pytest

import tape
from models.optim import SGD, Adagrad, Adam, RMSProp, make_optimizer
from models.optim.schedules import learning_rate


def param(values):
    return tape.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def run(optimizer, p, grads):
    for g in grads:
        p.grad = np.array(g, dtype=np.float64)
        optimizer.step()
    return p.data


GRADS = [[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0]]


def test_sgd_moves_against_the_gradient():
    p = param([1.0, 1.0])
    np.testing.assert_allclose(run(SGD([p], lr=0.1), p, GRADS),
                               [1 - 0.1 * 0.5, 1 - 0.1 * 1.5])


def test_momentum_accumulates_velocity():
    p = param([0.0, 0.0])
    v, theta = np.zeros(2), np.zeros(2)
    for g in GRADS:
        v = 0.9 * v - 0.1 * np.array(g)
        theta = theta + v
    np.testing.assert_allclose(run(SGD([p], lr=0.1, momentum=0.9), p, GRADS), theta)


def test_nesterov_looks_ahead_along_the_velocity():
    p = param([0.0, 0.0])
    v, theta = np.zeros(2), np.zeros(2)
    for g in GRADS:
        v = 0.9 * v - 0.1 * np.array(g)
        theta = theta + 0.9 * v - 0.1 * np.array(g)
    np.testing.assert_allclose(run(SGD([p], lr=0.1, momentum=0.9, nesterov=True), p, GRADS), theta)


def test_adagrad_divides_by_root_of_summed_squares():
    p = param([0.0, 0.0])
    r, theta = np.zeros(2), np.zeros(2)
    for g in GRADS:
        g = np.array(g)
        r += g * g
        theta -= 0.5 * g / (np.sqrt(r) + 1e-8)
    np.testing.assert_allclose(run(Adagrad([p], lr=0.5), p, GRADS), theta)


def test_rmsprop_uses_a_running_mean_of_squares():
    p = param([0.0, 0.0])
    r, theta = np.zeros(2), np.zeros(2)
    for g in GRADS:
        g = np.array(g)
        r = 0.9 * r + 0.1 * g * g
        theta -= 0.01 * g / (np.sqrt(r) + 1e-8)
    np.testing.assert_allclose(run(RMSProp([p], lr=0.01), p, GRADS), theta)


def test_adam_matches_the_bias_corrected_update():
    p = param([0.0, 0.0])
    m, v, theta = np.zeros(2), np.zeros(2), np.zeros(2)
    for t, g in enumerate(GRADS, start=1):
        g = np.array(g)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
        theta -= 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(run(Adam([p], lr=0.01), p, GRADS), theta, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("dtype, grad_dtype", [(np.float32, np.float32),
                                               (np.float64, np.float64),
                                               (np.float32, np.float64)])   # the plain path
def test_adam_in_pieces_in_place_gives_the_bits_of_the_update_as_written(
        dtype, grad_dtype, monkeypatch):
    """More numbers than a piece and not a multiple of it, a small one, and one not
    C-contiguous (updated as written): every step's θ, m and v the same bits."""
    rng = np.random.default_rng(0)
    shapes = [(3 * Adam.PIECE + 123,), (7,), (40, 30)]
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    start[2] = np.asfortranarray(start[2])
    fast = [tape.tensor(a.copy(order="K"), requires_grad=True) for a in start]
    assert not fast[2].data.flags.c_contiguous
    plain = [a.copy(order="K") for a in start]
    moments = [(np.zeros_like(a), np.zeros_like(a)) for a in plain]
    opt = Adam(fast, lr=0.01)
    pieces = []
    in_place = Adam.update_in_place
    monkeypatch.setattr(Adam, "update_in_place",
                        lambda self, theta, *rest: pieces.append(theta.size) or
                        in_place(self, theta, *rest))
    for t in range(1, 4):
        grads = [rng.standard_normal(s).astype(grad_dtype) for s in shapes]
        for p, g in zip(fast, grads):
            p.grad = g.copy()
        opt.step()
        step = 0.01 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        for theta, g, (m, v) in zip(plain, grads, moments):
            opt.update_as_written(theta, g, m, v, step)
        for i, (p, theta, (m, v)) in enumerate(zip(fast, plain, moments)):
            np.testing.assert_array_equal(p.data, theta)
            np.testing.assert_array_equal(opt.slots["m"][i], m)
            np.testing.assert_array_equal(opt.slots["v"][i], v)
    same_dtype = dtype is grad_dtype                    # else every update is as written
    assert pieces == ([Adam.PIECE] * 3 + [123, 7]) * 3 if same_dtype else pieces == []


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam", "adagrad", "rmsprop"])
def test_every_optimizer_minimises_a_quadratic_and_keeps_float32(name):
    target = np.array([3.0, -2.0], dtype=np.float32)
    p = tape.tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    lr = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.1, "adagrad": 1.0, "rmsprop": 0.05}[name]
    opt = make_optimizer(name, [p], lr)
    for _ in range(500):
        opt.zero_grad()
        ((p - target) ** 2).sum().backward()
        opt.step()
    assert p.data.dtype == np.float32
    np.testing.assert_allclose(p.data, target, atol=0.05)


def test_optimizer_state_roundtrip_continues_identically():
    a, b = param([1.0, 2.0]), param([1.0, 2.0])
    opt_a, opt_b = Adam([a], lr=0.1), Adam([b], lr=0.1)
    run(opt_a, a, GRADS[:2])
    run(opt_b, b, GRADS[:2])
    fresh = Adam([b], lr=0.1)
    fresh.load_state_dict(opt_b.state_dict())
    np.testing.assert_array_equal(run(opt_a, a, GRADS[2:]), run(fresh, b, GRADS[2:]))


def test_bad_optimizer_arguments_are_refused():
    with pytest.raises(ValueError, match="learning rate must be positive"):
        SGD([param([0.0])], lr=-1)
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        make_optimizer("adamw", [], 0.1)
    with pytest.raises(ValueError, match="momentum"):
        SGD([param([0.0])], lr=0.1, momentum=1.5)


@pytest.mark.parametrize("schedule, epoch, expected", [
    ("constant", 7, 0.1),
    ("step", 25, 0.1 * 0.5 ** 2),                 # step_size 10, gamma 0.5
    ("exponential", 3, 0.1 * 0.5 ** 3),
    ("inverse_time", 4, 0.1 / (1 + 0.01 * 4)),
    ("cosine", 5, 0.5 * 0.1 * (1 + math.cos(math.pi * 5 / 10))),
])
def test_learning_rate_schedules_follow_their_formulas(schedule, epoch, expected):
    assert learning_rate(schedule, 0.1, epoch, epochs=10) == pytest.approx(expected)


def test_cosine_schedule_starts_at_lr_and_reaches_min_lr():
    assert learning_rate("cosine", 0.1, 0, epochs=10) == pytest.approx(0.1)
    assert learning_rate("cosine", 0.1, 10, epochs=10, min_lr=0.001) == pytest.approx(0.001)


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        learning_rate("linear", 0.1, 0)

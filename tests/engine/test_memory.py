"""Training for many steps leaves no tape behind: entries are freed, memory stays flat.

The MLP is written out here with plain tape ops, so this checks the engine alone."""

import gc

import numpy as np

import tape


def live_entries():
    gc.collect()
    return sum(type(o) is tape.Entry for o in gc.get_objects())


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2 ** 20


def make_mlp(sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append(tape.tensor(rng.standard_normal((n_in, n_out)) / np.sqrt(n_in),
                                  requires_grad=True))
        params.append(tape.tensor(np.zeros(n_out), requires_grad=True))
    return params


def forward(params, X):
    W1, b1, W2, b2 = params
    return tape.tanh(X @ W1 + b1) @ W2 + b2


def test_1000_training_steps_leave_no_entries_and_flat_memory():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 20))
    y = rng.integers(0, 3, 64)
    params = make_mlp([20, 32, 3])
    before = live_entries()
    rss, losses = {}, []
    for step in range(1, 1001):
        for p in params:
            p.grad = None
        loss = tape.cross_entropy(forward(params, X), y)
        loss.backward()
        with tape.no_grad():
            for p in params:
                p.data -= 0.1 * p.grad          # SGD, in place
        losses.append(loss.item())
        if step in (200, 1000):
            rss[step] = rss_mb()
    del loss
    assert live_entries() == before
    assert rss[1000] - rss[200] < 20, f"RSS grew from {rss[200]:.1f} MB to {rss[1000]:.1f} MB"
    assert losses[-1] < 0.5 * losses[0]         # the steps did train the model


def test_steps_without_backward_also_leave_no_entries():
    params = make_mlp([20, 32, 3])
    X, y = np.ones((8, 20)), np.zeros(8, dtype=int)
    before = live_entries()
    for _ in range(50):
        loss = tape.cross_entropy(forward(params, X), y)      # computed, then dropped
    del loss
    assert live_entries() == before


def test_evaluation_under_no_grad_makes_no_entries():
    params = make_mlp([20, 32, 3])
    before = live_entries()
    with tape.Tape() as t, tape.no_grad():
        out = forward(params, np.ones((8, 20)))
    assert out._entry is None and not out.requires_grad and len(t) == 0
    assert live_entries() == before


def test_a_recorded_forward_makes_entries_that_backward_frees():
    params = make_mlp([20, 32, 3])
    before = live_entries()
    loss = tape.cross_entropy(forward(params, np.ones((8, 20))), np.zeros(8, dtype=int))
    assert live_entries() == before + 6      # matmul, add, tanh, matmul, add, cross_entropy
    loss.backward()
    assert loss._entry.freed and loss._entry.inputs is None

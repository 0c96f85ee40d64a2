"""Training for many steps leaves no tape behind: entries are freed, memory stays flat."""

import gc

import numpy as np

import tape
from models.nn import MLP


def live_entries():
    gc.collect()
    return sum(isinstance(o, tape.Entry) for o in gc.get_objects())


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2 ** 20


def test_1000_training_steps_leave_no_entries_and_flat_memory():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 20)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    model = MLP([20, 32, 3])
    before = live_entries()
    rss = {}
    for step in range(1, 1001):
        loss = tape.cross_entropy(model(X), y)
        model.zero_grad()
        loss.backward()
        with tape.no_grad():
            for p in model.parameters():
                p.data -= 0.1 * p.grad
        if step in (200, 1000):
            rss[step] = rss_mb()
    del loss
    assert live_entries() == before
    assert rss[1000] - rss[200] < 20
    assert tape.cross_entropy(model(X), y).item() < 0.5      # it did learn


def test_evaluation_under_no_grad_makes_no_entries():
    model = MLP([20, 32, 3])
    before = live_entries()
    with tape.no_grad():
        out = model(np.ones((8, 20), np.float32))
    assert out._entry is None
    assert live_entries() == before

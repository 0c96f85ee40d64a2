"""`python -m benchmarks.dispatch`: what numpy's protocols on Tensors cost the two-layer step.

`Tensor.__array_ufunc__`, `__array_function__` and `__array__` (tape/numpy_dispatch.py)
are reached only when numpy meets a Tensor; the training step is built from the tape's
own ops (linear, relu, cross_entropy), so it should not pay for them. This times the
step — forward, backward, SGD update — of the 784-256-10 MLP on a batch of 128 float32
images, with the protocols attached and with them taken off the class (numpy then treats
a Tensor as an opaque object), the two in turn, call by call, the order swapped from pair to pair (whichever of two
calls runs first is a few per cent slower here: an A/A pair measured 1.03–1.08).
A ratio of 1 means the dispatch costs nothing.
"""

import json
import time

import numpy as np

import tape
from models.io.errors import OneLineParser
from models.nn import MLP
from models.optim import SGD

PROTOCOLS = ("__array_ufunc__", "__array_function__", "__array__")


def two_layer_step(batch_size=128, hidden=256, seed=0):
    """One training step of the two-layer net, as a function of no arguments."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch_size, 784), dtype=np.float32)
    y = rng.integers(0, 10, batch_size)
    model = MLP([784, hidden, 10], "relu", seed=seed)
    optimizer = SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        tape.cross_entropy(model(x), y).backward()
        optimizer.step()
    return step


class protocols_removed:
    """`with protocols_removed():` Tensor without numpy's three protocols."""

    def __enter__(self):
        self.kept = {name: getattr(tape.Tensor, name) for name in PROTOCOLS}
        for name in PROTOCOLS:
            delattr(tape.Tensor, name)
        return self

    def __exit__(self, *exc):
        for name, value in self.kept.items():
            setattr(tape.Tensor, name, value)
        return False


def swapped_pairs_ratio(fn, baseline, pairs):
    """Median over pairs of seconds(fn) / seconds(baseline), timed back to back, with fn
    first in even pairs and baseline first in odd ones, so neither gains by its place."""
    def seconds(f):
        started = time.perf_counter()
        f()
        return time.perf_counter() - started
    ratios = []
    for k in range(pairs):
        if k % 2 == 0:
            a = seconds(fn)
            b = seconds(baseline)
        else:
            b = seconds(baseline)
            a = seconds(fn)
        ratios.append(a / b)
    return float(np.median(ratios))


def dispatch_ratio(pairs=41, batch_size=128, hidden=256):
    """Median over pairs of (step with the protocols) / (step without them)."""
    step = two_layer_step(batch_size, hidden)
    for _ in range(5):
        step()                                       # warm up: BLAS threads, allocator

    def without():
        with protocols_removed():
            step()
    return swapped_pairs_ratio(step, without, pairs)


def main(argv=None):
    parser = OneLineParser(prog="python -m benchmarks.dispatch", description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=41)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    ratios = [dispatch_ratio(args.pairs) for _ in range(args.rounds)]
    print(json.dumps({"step_with_over_without_dispatch": float(np.median(ratios)),
                      "rounds": [round(r, 4) for r in ratios]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

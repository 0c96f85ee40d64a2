"""Train one or more backends in one process, interleaved, and time every step.

    python -m benchmarks.trainer --backends numpy tape autograd --batch-size 128 --epochs 2

prints one JSON object per backend. Backends in one process share numpy's BLAS threads,
and they take turns in blocks of 10 steps: each block's batches are fetched once, then
every backend (in an order rotated from block to block) trains on them. Whatever the
shared machine is doing at that moment, all of them see it.

With `--serve` the process loads the data, warms up, and then waits: each line `epoch`
on its standard input trains one more epoch of every backend and answers with a JSON
line of timings; `finish` answers with the final results and exits. That is how
`benchmarks.run` alternates this process with PyTorch's (PyTorch has thread pools of its
own, which fight numpy's when both run in one process).

With `--memory-steps N` it trains one backend N steps and reports only its memory:
`peak_rss_mb`, the process's peak resident memory while training (the data and the
backend's libraries included), and `train_rss_mb`, how much of it training added.

Per backend and epoch: `step_seconds`, the median training step alone — forward,
backward, update — and `epoch_seconds`, the sum of all its steps and of fetching the
batches (X[idx], the same numpy call for every backend, timed once for all).
"""

import argparse
import gc
import json
import sys
import time

import numpy as np

from models.data.datasets import load_dataset
from models.io.errors import OneLineParser
from models.train.loop import batch_order

from .backends import BACKENDS, available, initial_params
from .flops import peak_matmul_gflops
from .measure import current_rss_mb, peak_rss_mb, reset_peak_rss

WARMUP_STEPS = 20
BLOCK = 10


def load_fashion(train_size=0):
    data = load_dataset("fashion-mnist", download=False, val_size=5000, seed=0)
    if train_size:
        data = data._replace(x_train=data.x_train[:train_size], y_train=data.y_train[:train_size])
    return data


def rotated(names, k):
    return names[k % len(names):] + names[:k % len(names)]


class Trainer:
    """Backends training side by side on the same batches, and the epochs done so far."""

    def __init__(self, names, batch_size, train_size=0, measure_peak=False):
        self.data = load_fashion(train_size)
        self.batch_size = batch_size
        self.names = list(names)
        self.measure_peak = measure_peak
        gc.collect()                      # the data and the libraries are loaded: from here
        self.rss_before = current_rss_mb()
        self.peak_is_training = reset_peak_rss()
        self.backends = {name: BACKENDS[name](initial_params()) for name in self.names}
        self.epochs = 0
        # the warm-up pays the one-time costs (BLAS threads starting, PyTorch's lazy
        # set-up), untimed, on shuffle 0 (the epochs use 1, 2, ...); every backend takes
        # the same steps, so all stay on the same trajectory
        warmup = batch_order(len(self.data.x_train), 0, 0)[:WARMUP_STEPS * batch_size]
        for xb, yb in self.batches(warmup):
            for backend in self.backends.values():
                backend.step(xb, yb)

    def batches(self, order):
        """(x, y) for each full batch of `order`."""
        x, y, b = self.data.x_train, self.data.y_train, self.batch_size
        for start in range(0, len(order) - b + 1, b):
            idx = order[start:start + b]
            yield x[idx], y[idx]

    def epoch(self):
        """One epoch of every backend: {name: {"step_seconds", "epoch_seconds"}}, and, if
        asked, the machine's peak matmul speed measured just before (`peak_gflops`)."""
        peak = peak_matmul_gflops(repeat=3) if self.measure_peak else None
        x, b = self.data.x_train, self.batch_size
        order = batch_order(len(x), 0, self.epochs + 1)     # the same for every backend
        steps = {name: [] for name in self.names}
        fetching = 0.0
        n_steps = len(x) // b
        for block, first in enumerate(range(0, n_steps, BLOCK)):
            started = time.perf_counter()
            batches = list(self.batches(order[first * b:min(first + BLOCK, n_steps) * b]))
            fetching += time.perf_counter() - started
            for name in rotated(self.names, block):
                step = self.backends[name].step
                for xb, yb in batches:
                    t = time.perf_counter()
                    step(xb, yb)
                    steps[name].append(time.perf_counter() - t)
        self.epochs += 1
        return {name: {"step_seconds": float(np.median(s)), "epoch_seconds": sum(s) + fetching,
                       "peak_gflops": peak}
                for name, s in steps.items()}

    def finish(self):
        """Test accuracy of every backend, and the sizes of what it trained on."""
        n = len(self.data.x_train) // self.batch_size
        results = {}
        for name, backend in self.backends.items():
            accuracy = float((backend.predict(self.data.x_test) == self.data.y_test).mean())
            results[name] = {"backend": name, "batch_size": self.batch_size,
                             "epochs": self.epochs, "steps_per_epoch": n,
                             "examples_per_epoch": n * self.batch_size,
                             "test_accuracy": accuracy}
        return results

    def memory(self):
        peak = peak_rss_mb()
        return {"peak_rss_mb": peak,
                "train_rss_mb": peak - self.rss_before if self.peak_is_training else None}


def serve(trainer, commands=sys.stdin, answers=sys.stdout):
    print(json.dumps({"ready": trainer.names}), file=answers, flush=True)
    for line in commands:
        if line.strip() == "epoch":
            print(json.dumps(trainer.epoch()), file=answers, flush=True)
        elif line.strip() == "finish":
            print(json.dumps(trainer.finish()), file=answers, flush=True)
            return
        else:
            raise ValueError(f"unknown command {line.strip()!r}: send 'epoch' or 'finish'")


def main(argv=None):
    p = OneLineParser(prog="python -m benchmarks.trainer", description=__doc__,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backends", nargs="+", choices=list(BACKENDS), required=True)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--train-size", type=int, default=0,
                   help="train on the first N images only (0: all 55,000)")
    p.add_argument("--serve", action="store_true",
                   help="train an epoch per 'epoch' line on stdin, until 'finish'")
    p.add_argument("--measure-peak", action="store_true",
                   help="measure the peak matmul speed before each epoch (numpy's BLAS)")
    p.add_argument("--memory-steps", type=int, default=0,
                   help="train one backend this many steps and report its memory only")
    args = p.parse_args(argv)
    missing = [name for name in args.backends if not available(name)]
    if missing:
        p.error(f"not installed: {', '.join(missing)} (pip install torch==2.13.0 autograd)")
    if args.memory_steps:
        if len(args.backends) != 1:
            p.error("--memory-steps measures one backend: give exactly one")
        trainer = Trainer(args.backends, args.batch_size, args.train_size)
        backend = trainer.backends[args.backends[0]]
        order = batch_order(len(trainer.data.x_train), 0, 1)[:args.memory_steps * args.batch_size]
        for xb, yb in trainer.batches(order):
            backend.step(xb, yb)
        print(json.dumps({"backend": args.backends[0], "batch_size": args.batch_size,
                          **trainer.memory()}))
        return
    trainer = Trainer(args.backends, args.batch_size, args.train_size, args.measure_peak)
    if args.serve:
        serve(trainer)
        return
    epochs = [trainer.epoch() for _ in range(args.epochs)]
    for name, result in trainer.finish().items():
        result["rounds"] = [epoch[name] for epoch in epochs]
        print(json.dumps(result))


if __name__ == "__main__":
    main()

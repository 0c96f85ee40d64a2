"""Time one backend in a process of its own (so its peak memory is its own).

    python -m benchmarks.train_one --backend tape --batch-size 128 --epochs 3

Prints one JSON object: seconds per epoch and per step, test accuracy, peak RSS.
"""

import argparse
import json
import resource
import time

import numpy as np

from .backends import BACKENDS, initial_params


def load_fashion():
    from models.datasets import load_dataset
    return load_dataset("fashion-mnist", download=False, val_size=5000, seed=0)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=list(BACKENDS), required=True)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    args = p.parse_args(argv)

    data = load_fashion()
    rss_before = current_rss_mb()
    if args.backend == "pytorch" and args.threads:
        import torch
        torch.set_num_threads(args.threads)
    backend = BACKENDS[args.backend](initial_params())
    x, y, b = data.x_train, data.y_train, args.batch_size
    epoch_seconds, step_seconds = [], []
    rss_peak = current_rss_mb()
    for epoch in range(args.epochs):
        order = np.random.default_rng([0, epoch]).permutation(len(x))
        started = time.perf_counter()
        for start in range(0, len(x) - b + 1, b):          # full batches only
            idx = order[start:start + b]
            t = time.perf_counter()
            backend.step(x[idx], y[idx])
            step_seconds.append(time.perf_counter() - t)
            if len(step_seconds) % 50 == 0:
                rss_peak = max(rss_peak, current_rss_mb())
        epoch_seconds.append(time.perf_counter() - started)
    accuracy = float((backend.predict(data.x_test) == data.y_test).mean())
    print(json.dumps({
        "backend": args.backend, "batch_size": b, "epochs": args.epochs,
        "epoch_seconds": epoch_seconds,
        "median_epoch_seconds": float(np.median(epoch_seconds)),
        "median_step_ms": float(np.median(step_seconds) * 1e3),
        "steps_per_epoch": len(x) // b,
        "test_accuracy": accuracy,
        # RSS sampled every 50 steps, minus what the data took before training began
        "train_rss_mb": rss_peak - rss_before, "peak_rss_mb": peak_rss_mb(),
    }))


def current_rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2 ** 20


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()

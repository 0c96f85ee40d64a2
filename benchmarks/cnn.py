"""`python -m benchmarks.cnn`: the CNN of `models.cnn` on the tape, against PyTorch on the CPU.

1. A training step (forward, backward, Adam) of the default network (conv 5×5 32 → pool →
   conv 5×5 64 → pool → fc 1024 → 10) at one batch size, the tape in this process and
   PyTorch in a process of its own (their thread pools fight in one process), the two
   taking turns: each round times `--steps` steps of one, then of the other, on the same
   batches from the same initial weights. Reported: the median over rounds of the ratio
   tape / PyTorch. PyTorch is not a dependency of the project: it is only imported here,
   and the comparison is skipped if it is not installed.
2. The forward convolution against its own im2col matrix product, W·X̂, for each layer:
   the product of the whole prebuilt X̂ in one call is the FLOP-bound part, the rest (the
   copies into X̂, the bias, the layout) is overhead; their ratio is the median over calls
   of the two taking turns. Also the copies alone (plain im2col, and the forward's
   channels-last blocks), and the per-layer split of the tape's time:
   forward, backward-input (conv_transpose2d), backward-weight (conv2d_weight_grad, which
   builds X̂ again), and the products alone of that weight gradient, in both orders.
3. `--memory`: peak resident memory of a training run on Fashion-MNIST, and the resident
   memory after each epoch, against 1.5 × the dataset + the largest im2col buffer.

The machine is shared: every figure is a median, and the ratios are what to read.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import tape
from tape.conv_blocked import (blocked_conv2d, blocked_conv2d_weight_grad,
                               blocked_conv_transpose2d, channels_last, column_blocks,
                               windows_last)
from tape.im2col import as_matrix, im2col
from models.cnn import CNNConfig, build_model
from models.data.datasets import load_dataset
from models.io.errors import OneLineParser
from models.io.files import atomic_write
from models.nn import CNN
from models.optim import Adam
from models.train.allocator import keep_freed_memory
from models.train.loop import Run

from .measure import current_rss_mb, median_time, paired_ratio, peak_rss_mb, reset_peak_rss

HERE = Path(__file__).resolve().parent
LR = 1e-3


def batches(batch_size, count, seed=0):
    """The same `count` batches of random 1×28×28 images and labels in both processes."""
    rng = np.random.default_rng(seed)
    return [(rng.random((batch_size, 1, 28, 28), dtype=np.float32),
             rng.integers(0, 10, batch_size)) for _ in range(count)]


# ---- the two contestants ------------------------------------------------------------------

class TapeCNN:
    def __init__(self, params):
        self.tape = tape
        self.model = CNN()
        self.model.load_state_dict(params)
        self.optimizer = Adam(self.model.parameters(), lr=LR)

    def step(self, x, y):
        loss = self.tape.cross_entropy(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(loss.data)


class TorchCNN:
    def __init__(self, params):
        import torch                    # optional: only for the comparison
        from torch import nn             # optional: only for the comparison
        self.torch = torch
        self.model = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Linear(1024, 10))
        conv1, conv2, fc1, fc2 = self.model[0], self.model[3], self.model[7], self.model[9]
        with torch.no_grad():         # the tape's weights; Linear keeps Wᵀ
            for layer, name, transpose in [(conv1, "conv1", False), (conv2, "conv2", False),
                                           (fc1, "fc1", True), (fc2, "fc2", True)]:
                W = params[f"{name}.W"]
                layer.weight.copy_(torch.from_numpy(W.T.copy() if transpose else W))
                layer.bias.copy_(torch.from_numpy(params[f"{name}.b"]))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.loss = nn.CrossEntropyLoss()

    def step(self, x, y):
        torch = self.torch
        loss = self.loss(self.model(torch.from_numpy(x)), torch.from_numpy(y))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def minor_faults():
    """The process's page faults so far that needed no disk (fresh or reclaimed pages)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_steps(net, data, steps, start):
    """Seconds per step, median of `steps` steps on data[start:start + steps]."""
    times, losses = [], []
    for x, y in data[start:start + steps]:
        began = time.perf_counter()
        losses.append(net.step(x, y))
        times.append(time.perf_counter() - began)
    return float(np.median(times)), losses


def time_tape_steps(net, data, steps, start):
    """time_steps, and the page faults per step over those steps."""
    before = minor_faults()
    seconds, losses = time_steps(net, data, steps, start)
    return seconds, losses, (minor_faults() - before) / steps


def serve_torch(weights, batch_size, count):
    """The PyTorch side: one line of JSON in (the steps to time), one line out."""
    params = dict(np.load(weights))
    net, data = TorchCNN(params), batches(batch_size, count)
    print(json.dumps({"ready": True, "threads": net.torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        seconds, losses = time_steps(net, data, request["steps"], request["start"])
        print(json.dumps({"seconds": seconds, "losses": losses}), flush=True)


def training_step_ratio(batch_size, rounds, steps, log=print):
    params = CNN().state_dict()
    count = 1 + rounds * steps
    data = batches(batch_size, count)
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "weights.npz"
        np.savez(weights, **params)
        worker = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.cnn", "--serve-torch", str(weights),
             "--batch-size", str(batch_size), "--count", str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE.parent)

        def ask(start, n):
            worker.stdin.write(json.dumps({"start": start, "steps": n}) + "\n")
            worker.stdin.flush()
            return json.loads(worker.stdout.readline())

        threads = json.loads(worker.stdout.readline())["threads"]
        tape_net = TapeCNN(params)
        # the first step of each, from the same weights on the same batch: the same loss
        _, tape_first = time_steps(tape_net, data, 1, 0)
        torch_first = ask(0, 1)["losses"]
        log(f"first step, same weights and batch: loss {tape_first[0]:.6f} (tape), "
            f"{torch_first[0]:.6f} (PyTorch, {threads} threads)")
        rows = []
        for r in range(rounds):
            start = 1 + r * steps
            tape_seconds, _, faults = time_tape_steps(tape_net, data, steps, start)
            torch_seconds = ask(start, steps)["seconds"]
            rows.append({"tape": tape_seconds, "pytorch": torch_seconds,
                         "ratio": tape_seconds / torch_seconds, "tape_faults": faults})
            log(f"round {r + 1}: tape {tape_seconds * 1e3:7.1f} ms  PyTorch "
                f"{torch_seconds * 1e3:7.1f} ms  ratio {tape_seconds / torch_seconds:5.2f}  "
                f"tape page faults {faults:6.0f} a step")
        worker.stdin.close()
        worker.wait()
    return {"rounds": rows, "first_loss": {"tape": tape_first[0], "pytorch": torch_first[0]},
            "median_ratio": float(np.median([r["ratio"] for r in rows])),
            "tape_ms": 1e3 * float(np.median([r["tape"] for r in rows])),
            "pytorch_ms": 1e3 * float(np.median([r["pytorch"] for r in rows])),
            "tape_faults": float(np.median([r["tape_faults"] for r in rows]))}


# ---- 2. the convolution alone ----------------------------------------------------------------

LAYERS = {"conv1": (1, 32, 28), "conv2": (32, 64, 14)}     # C_in, C_out, image side


def per_layer(batch_size, repeat=7):
    """Per layer: forward vs its own W·X̂ product, and the two halves of the backward pass."""
    rng = np.random.default_rng(0)
    rows = {}
    for name, (c_in, c_out, side) in LAYERS.items():
        x = rng.random((batch_size, c_in, side, side), dtype=np.float32)
        w = rng.standard_normal((c_out, c_in, 5, 5)).astype(np.float32)
        b = np.zeros(c_out, np.float32)
        g = rng.standard_normal((batch_size, c_out, side, side)).astype(np.float32)
        s, p = (1, 1), (2, 2)
        cols, _ = im2col(x, (5, 5), s, p)
        W = w.reshape(c_out, -1)
        windows = windows_last(channels_last(x, p, x.dtype), (5, 5), s)
        blocks = [(as_matrix(g[images]), block.copy(order="K"))
                  for images, block in column_blocks(windows)]

        def columns():        # the forward's copies alone: X̂ channels last, block by block
            windows = windows_last(channels_last(x, p, x.dtype), (5, 5), s)
            for _ in column_blocks(windows):
                pass

        rows[name] = {
            "im2col_bytes": cols.nbytes,
            "matmul": median_time(lambda: W @ cols, repeat, 1),        # one product, whole X̂
            "im2col": median_time(lambda: im2col(x, (5, 5), s, p), repeat, 1),
            "columns": median_time(columns, repeat, 1),
            "forward": median_time(lambda: blocked_conv2d(x, w, b, s, p),
                                   repeat, 1),
            "backward_input": median_time(lambda: blocked_conv_transpose2d(
                g, w, x.shape, s, p), repeat, 1),
            "backward_weight": median_time(lambda: blocked_conv2d_weight_grad(
                x, g, w.shape, s, p), repeat, 1),
            # the products alone of the weight gradient, Σ over X̂'s blocks (prebuilt here)
            # of G·X̂ᵀ in the order written, against (X̂·Gᵀ)ᵀ, the order computed
            "weight_product_as_written": median_time(
                lambda: sum(G @ block.T for G, block in blocks), repeat, 1),
            "weight_product_as_computed": median_time(
                lambda: sum((block @ G.T).T for G, block in blocks), repeat, 1),
        }
        # the ratio from the two taking turns, call by call (their medians above come from
        # separate stretches of time, and this machine's speed drifts between them)
        rows[name]["forward_over_matmul"] = paired_ratio(
            lambda: blocked_conv2d(x, w, b, s, p), lambda: W @ cols,
            3 * repeat)
    return rows


# ---- 3. memory -----------------------------------------------------------------------------------

def memory(epochs, train_size, log=print):
    """Peak RSS of CNN training after the data is loaded, and the RSS after each epoch."""
    splits = load_dataset("fashion-mnist", download=False)
    dataset = sum(a.nbytes for a in splits[:6])
    config = CNNConfig(epochs=epochs, train_size=train_size)
    keep = np.random.default_rng([config.seed, 1]).permutation(len(splits.x_train))
    splits = splits._replace(x_train=splits.x_train[np.sort(keep[:train_size])],
                             y_train=splits.y_train[np.sort(keep[:train_size])])
    # the largest im2col buffer: conv2 (800 rows) at the larger of the two batch sizes
    largest_batch = max(config.batch_size, CNN.eval_batch_size)
    im2col = 32 * 25 * largest_batch * 14 * 14 * 4
    reset_peak_rss()
    after = []
    run = Run(config, model=build_model(config, (28, 28), 10))
    run.fit(splits, on_epoch=lambda run, improved: after.append(current_rss_mb()),
            progress=False, log=lambda line: None)
    peak = peak_rss_mb()
    bound = (1.5 * dataset + im2col) / 2 ** 20
    log(f"dataset {dataset / 2 ** 20:.0f} MiB, largest im2col buffer {im2col / 2 ** 20:.0f} MiB "
        f"(batch {largest_batch}): bound 1.5 × dataset + im2col = {bound:.0f} MiB")
    log(f"peak RSS while training {peak:.0f} MiB ({peak / bound:.2f} of the bound); RSS after "
        f"each epoch: {', '.join(f'{m:.0f}' for m in after)} MiB")
    return {"dataset_mb": dataset / 2 ** 20, "im2col_mb": im2col / 2 ** 20, "bound_mb": bound,
            "peak_mb": peak, "after_epoch_mb": after}


# ---- the command -------------------------------------------------------------------------------

def parser():
    p = OneLineParser(prog="python -m benchmarks.cnn",
                      description="The CNN on the tape against PyTorch on the CPU.")
    p.add_argument("--batch-size", type=int, default=128, help="images per training step")
    p.add_argument("--rounds", type=int, default=5, help="rounds of tape-then-PyTorch steps")
    p.add_argument("--steps", type=int, default=5, help="steps per contestant per round")
    p.add_argument("--parts", nargs="+", choices=("step", "layers", "memory"),
                   default=["step", "layers"],
                   help="what to measure: the training step against PyTorch, each "
                        "convolution alone, the memory of a training run on Fashion-MNIST")
    p.add_argument("--memory-epochs", type=int, default=3, help="epochs of that run")
    p.add_argument("--memory-train-size", type=int, default=5000,
                   help="training images of that run (the whole dataset stays loaded)")
    p.add_argument("--public-api", action="store_true",
                   help="time the tape as `import tape` alone runs it: without "
                        "models/train/allocator.py's keep_freed_memory(), which the "
                        "training commands call")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    p.add_argument("--serve-torch", metavar="WEIGHTS", help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, help=argparse.SUPPRESS)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if args.serve_torch:
        serve_torch(args.serve_torch, args.batch_size, args.count)
        return 0
    for name in ("batch_size", "rounds", "steps", "memory_epochs", "memory_train_size"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    if not args.public_api:
        keep_freed_memory()             # the tape trains here as the commands train it
    results = {"batch_size": args.batch_size, "public_api": args.public_api}
    try:
        if "step" not in args.parts:
            raise LookupError
        import torch  # noqa: F401  (only to know whether the comparison can run)
        how = ("public API alone, no allocator setting" if args.public_api
               else "freed memory kept for reuse, as the training commands run")
        print(f"1. training step at batch {args.batch_size}, tape ({how}) vs PyTorch "
              f"(median of {args.steps} steps per round):")
        results["step"] = training_step_ratio(args.batch_size, args.rounds, args.steps)
        s = results["step"]
        print(f"   median: tape {s['tape_ms']:.1f} ms, PyTorch {s['pytorch_ms']:.1f} ms, "
              f"ratio {s['median_ratio']:.2f} (goal ≤ 1.5); tape page faults "
              f"{s['tape_faults']:.0f} a step")
    except ImportError:
        print("1. PyTorch is not installed: no comparison (pip install torch to run it)")
    except LookupError:
        pass
    if "layers" in args.parts:
        layer_table(args, results)
    if "memory" in args.parts:
        print(f"3. memory of {args.memory_epochs} epochs on {args.memory_train_size} "
              f"Fashion-MNIST images:")
        results["memory"] = memory(args.memory_epochs, args.memory_train_size,
                                   log=lambda line: print("   " + line))
    if args.json:
        atomic_write(args.json, lambda f: f.write(json.dumps(results, indent=2).encode()))
    return 0


def layer_table(args, results):
    print(f"2. each convolution at batch {args.batch_size}, milliseconds (medians):")
    results["layers"] = per_layer(args.batch_size)
    print(f"   {'layer':<6} {'im2col':>7} {'X̂ blocks':>9} {'W·X̂':>7} {'forward':>8} "
          f"{'fwd/W·X̂':>9} {'bwd-input':>10} {'bwd-weight':>11} {'G·X̂ᵀ':>7} {'(X̂·Gᵀ)ᵀ':>9}")
    for name, r in results["layers"].items():
        print(f"   {name:<6} {r['im2col'] * 1e3:7.1f} {r['columns'] * 1e3:9.1f} "
              f"{r['matmul'] * 1e3:7.1f} {r['forward'] * 1e3:8.1f} "
              f"{r['forward_over_matmul']:9.2f} {r['backward_input'] * 1e3:10.1f} "
              f"{r['backward_weight'] * 1e3:11.1f} {r['weight_product_as_written'] * 1e3:7.1f} "
              f"{r['weight_product_as_computed'] * 1e3:9.1f}")


if __name__ == "__main__":
    sys.exit(main())

"""`python -m benchmarks.run`: the whole benchmark, one table, one JSON file.

1. Training: 784-256-10 on Fashion-MNIST, every backend at batch 32, 128 and 512,
   each in its own process; median seconds per epoch and per step, test accuracy,
   peak RSS, and the ratio to hand-written numpy.
2. The machine's peak float32 matmul speed, and each backend's fraction of the FLOP
   lower bound of an epoch (forward: 2 matmuls; backward: 3 — dW2, dH, dW1).
3. Per-op overhead: one recorded op, forward + backward, on tiny tensors.
4. The make_moons step: a 2-16-16-1 MLP on a full batch of 100 points.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .backends import BACKENDS, available

HERE = Path(__file__).resolve().parent


def median_time(fn, repeat=7, number=None):
    """Median seconds per call of fn over `repeat` timings of `number` calls each."""
    if number is None:
        number, t = 1, 0.0
        while t < 0.05:
            number *= 2
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            t = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return float(np.median(times))


# ---- 1. training ---------------------------------------------------------------------

def train_all(batch_sizes, epochs, backends):
    rows = []
    for b in batch_sizes:
        for name in backends:
            cmd = [sys.executable, "-m", "benchmarks.train_one", "--backend", name,
                   "--batch-size", str(b), "--epochs", str(epochs)]
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
            if out.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"  batch {b:>3} {name:<9} {row['median_step_ms']:7.3f} ms/step  "
                  f"{row['median_epoch_seconds']:6.2f} s/epoch  acc {row['test_accuracy']:.4f}",
                  flush=True)
    for row in rows:
        base = next(r for r in rows if r["backend"] == "numpy" and r["batch_size"] == row["batch_size"])
        row["ratio_to_numpy"] = row["median_epoch_seconds"] / base["median_epoch_seconds"]
        row["rss_ratio_to_numpy"] = row["peak_rss_mb"] / base["peak_rss_mb"]
    return rows


# ---- 2. the FLOP bound -----------------------------------------------------------------

def peak_matmul_gflops(n=2048):
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    seconds = median_time(lambda: a @ b, repeat=5, number=3)
    return 2 * n ** 3 / seconds / 1e9


def epoch_flops(n_examples, sizes=(784, 256, 10)):
    """Forward X·W1 and H·W2; backward dW2 = Hᵀ·Δ, dH = Δ·W2ᵀ, dW1 = Xᵀ·Δ₁."""
    (a, b), (_, c) = (sizes[0], sizes[1]), (sizes[1], sizes[2])
    forward = 2 * n_examples * (a * b + b * c)
    backward = 2 * n_examples * (b * c + b * c + a * b)
    return forward + backward


# ---- 3. per-op overhead ------------------------------------------------------------------

def per_op_overhead():
    import tape
    x_np = np.ones(4, np.float32)
    y_np = np.full(4, 2.0, np.float32)
    bare = median_time(lambda: np.multiply(x_np, y_np))
    x = tape.tensor(x_np, requires_grad=True)
    y = tape.tensor(y_np, requires_grad=True)
    chain = 100

    def forward_backward():
        z = x
        for _ in range(chain):
            z = z * y
        z.sum().backward()
        x.grad = y.grad = None

    def forward_no_grad():
        with tape.no_grad():
            z = x
            for _ in range(chain):
                z = z * y

    recorded = median_time(forward_backward, repeat=5) / chain
    unrecorded = median_time(forward_no_grad, repeat=5) / chain
    return {"numpy_multiply_us": bare * 1e6,
            "tape_multiply_no_grad_us": unrecorded * 1e6,
            "tape_multiply_forward_backward_us": recorded * 1e6}


# ---- 4. the make_moons step ----------------------------------------------------------------

def moons_steps():
    from models.toy_data import make_moons
    X, y = make_moons(100, noise=0.1, random_state=0)
    X = X.astype(np.float32)
    yf = y.astype(np.float32).reshape(-1, 1)
    rng = np.random.default_rng(0)
    sizes = [2, 16, 16, 1]
    init = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32)
            for a, b in zip(sizes[:-1], sizes[1:])]
    results = {}

    # hand-written numpy: tanh hidden layers, sigmoid + binary cross-entropy written as MSE-free logistic loss
    Ws = [w.copy() for w in init]
    bs = [np.zeros(w.shape[1], np.float32) for w in init]

    def numpy_step():
        h1 = np.tanh(X @ Ws[0] + bs[0])
        h2 = np.tanh(h1 @ Ws[1] + bs[1])
        p = 1 / (1 + np.exp(-(h2 @ Ws[2] + bs[2])))
        d3 = (p - yf) / len(X)                       # sigmoid + cross-entropy: a − y
        d2 = (d3 @ Ws[2].T) * (1 - h2 * h2)
        d1 = (d2 @ Ws[1].T) * (1 - h1 * h1)
        for W, b, d, a in ((Ws[2], bs[2], d3, h2), (Ws[1], bs[1], d2, h1), (Ws[0], bs[0], d1, X)):
            W -= 0.1 * (a.T @ d)
            b -= 0.1 * d.sum(0)
    results["numpy"] = median_time(numpy_step)

    import tape
    from models.optim import SGD
    tW = [tape.tensor(w.copy(), requires_grad=True) for w in init]
    tb = [tape.tensor(np.zeros(w.shape[1], np.float32), requires_grad=True) for w in init]
    opt = SGD(tW + tb, lr=0.1)

    def tape_step():
        h = tape.tanh(tape.linear(X, tW[0], tb[0]))
        h = tape.tanh(tape.linear(h, tW[1], tb[1]))
        p = tape.sigmoid(tape.linear(h, tW[2], tb[2]))
        loss = -(yf * tape.log(p) + (1 - yf) * tape.log(1 - p)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    results["tape"] = median_time(tape_step)

    if available("pytorch"):
        import torch
        pW = [torch.tensor(w, requires_grad=True) for w in init]
        pb = [torch.zeros(w.shape[1], requires_grad=True) for w in init]
        popt = torch.optim.SGD(pW + pb, lr=0.1)
        tX, ty = torch.from_numpy(X), torch.from_numpy(yf)

        def torch_step():
            h = torch.tanh(tX @ pW[0] + pb[0])
            h = torch.tanh(h @ pW[1] + pb[1])
            loss = torch.nn.functional.binary_cross_entropy(torch.sigmoid(h @ pW[2] + pb[2]), ty)
            popt.zero_grad(set_to_none=True)
            loss.backward()
            popt.step()
        results["pytorch"] = median_time(torch_step)

    try:
        from micrograd.engine import Value
        from micrograd.nn import MLP as MicroMLP
    except ImportError:
        Value = None
    if Value is not None:
        model = MicroMLP(2, [16, 16, 1])
        points = [[Value(float(a)) for a in row] for row in X]

        def micrograd_step():
            # micrograd's MLP: ReLU hidden layers, linear output; hinge loss as in its demo
            scores = [model(p) for p in points]
            loss = sum((1 + -float(2 * t - 1) * s).relu() for t, s in zip(y, scores)) * (1.0 / len(y))
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= 0.1 * p.grad
        results["micrograd"] = median_time(micrograd_step, repeat=3, number=1)
    return {k: v * 1e3 for k, v in results.items()}   # ms per step


# ---- the table -------------------------------------------------------------------------------

def format_report(report):
    lines = [f"machine: {report['machine']['processor']}, {report['machine']['cores']} cores, "
             f"numpy {report['machine']['numpy']}, peak float32 matmul "
             f"{report['peak_gflops']:.0f} GFLOP/s", ""]
    lines.append(f"{'batch':>5}  {'backend':<9} {'ms/step':>8} {'s/epoch':>8} {'× numpy':>8} "
                 f"{'% FLOP bound':>12} {'test acc':>8} {'peak RSS MB':>11} {'+ training':>10}")
    for r in report["training"]:
        lines.append(f"{r['batch_size']:>5}  {r['backend']:<9} {r['median_step_ms']:>8.3f} "
                     f"{r['median_epoch_seconds']:>8.3f} {r['ratio_to_numpy']:>8.2f} "
                     f"{100 * r['flop_fraction']:>11.0f}% {r['test_accuracy']:>8.4f} "
                     f"{r['peak_rss_mb']:>11.0f} {r['train_rss_mb']:>10.1f}")
    o = report["per_op"]
    lines += ["", "per-op overhead (multiply of two 4-element float32 tensors):",
              f"  numpy {o['numpy_multiply_us']:.2f} µs · tape, not recorded "
              f"{o['tape_multiply_no_grad_us']:.2f} µs · tape, recorded + backward "
              f"{o['tape_multiply_forward_backward_us']:.2f} µs"]
    lines += ["", "make_moons step, 2-16-16-1, full batch of 100 (ms per step):",
              "  " + " · ".join(f"{k} {v:.3f}" for k, v in report["moons_ms"].items())]
    return "\n".join(lines)


def markdown_table(report):
    """The training table as Markdown, for the README."""
    lines = ["| batch | backend | ms / step | s / epoch | × numpy | % of FLOP bound | test acc | peak RSS (MB) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in report["training"]:
        lines.append(f"| {r['batch_size']} | {r['backend']} | {r['median_step_ms']:.3f} | "
                     f"{r['median_epoch_seconds']:.3f} | {r['ratio_to_numpy']:.2f} | "
                     f"{100 * r['flop_fraction']:.0f} % | {r['test_accuracy']:.4f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per backend (median)")
    p.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    p.add_argument("--out", default=str(HERE / "results.json"))
    args = p.parse_args(argv)
    backends = [b for b in args.backends if available(b)]
    missing = sorted(set(args.backends) - set(backends))
    if missing:
        print(f"not installed, skipped: {', '.join(missing)} "
              f"(pip install torch==2.13.0 autograd micrograd)")
    if "numpy" not in backends:
        p.error("the numpy backend is the baseline and must be included")

    print("peak float32 matmul ...", flush=True)
    gflops = peak_matmul_gflops()
    print(f"  {gflops:.0f} GFLOP/s\ntraining, {args.epochs} epochs per backend and batch size:",
          flush=True)
    training = train_all(args.batch_sizes, args.epochs, backends)
    for r in training:
        flops = epoch_flops(r["steps_per_epoch"] * r["batch_size"])
        r["flop_fraction"] = flops / (gflops * 1e9) / r["median_epoch_seconds"]
    report = {
        "machine": {"processor": platform.processor() or platform.machine(),
                    "cores": os.cpu_count(), "numpy": np.__version__,
                    "python": platform.python_version(),
                    "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")},
        "peak_gflops": gflops, "training": training,
        "per_op": per_op_overhead(), "moons_ms": moons_steps(),
    }
    print()
    print(format_report(report))
    print()
    print(markdown_table(report))
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

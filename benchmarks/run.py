"""`python -m benchmarks.run`: the whole benchmark, one table, one JSON file.

1. Training: 784-256-10 on Fashion-MNIST with every installed backend at batch 32, 128
   and 512. numpy, the tape and HIPS autograd train side by side in one process, taking
   turns every 10 steps on the same batches, so that all three see the same machine (on
   a shared machine the speed drifts by tens of per cent within seconds); PyTorch,
   whose thread pools fight numpy's, trains in a process of its own, the two processes
   taking turns epoch by epoch. Each ratio to hand-written numpy is taken within a
   round (an epoch of every backend), and the median over rounds is reported; the
   rounds are spread over several starts of fresh processes, as a process's memory
   layout alone moves a ratio by a few per cent. Memory is measured apart: each backend
   alone in a fresh process.
2. The machine's peak float32 matmul speed, and each backend's fraction of the FLOP
   lower bound of an epoch (five matrix products per batch).
3. Per-op overhead: one recorded op, forward + backward, on tiny tensors.
4. The make_moons step (2-16-16-1, full batch of 100) against micrograd.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from models.io.errors import OneLineParser, run_command
from models.io.files import check_writable_dir, write_json

from .backends import BACKENDS, available
from .flops import epoch_flops
from .moons import STEPS as MOONS_BACKENDS, moons_benchmark
from .per_op import per_op_overhead
from .trainer import rotated

HERE = Path(__file__).resolve().parent


# ---- 1. training ----------------------------------------------------------------------

def process_groups(backends):
    """Which backends share a process: numpy's family (numpy, tape, autograd use numpy's
    BLAS threads) together, interleaved step by step; PyTorch alone, as its own thread
    pools fight numpy's in one process (docs/speed.md says by how much)."""
    shared = [b for b in backends if b != "pytorch"]
    return [shared] + ([["pytorch"]] if "pytorch" in backends else [])


class Worker:
    """A process training some backends (`trainer --serve`), an epoch of each per request."""

    def __init__(self, names, batch_size, train_size):
        self.names = names
        self.errors = tempfile.TemporaryFile(mode="w+")
        cmd = [sys.executable, "-m", "benchmarks.trainer", "--serve", "--backends", *names,
               "--batch-size", str(batch_size), "--train-size", str(train_size)]
        if "numpy" in names:          # its BLAS is numpy's: measure the machine's peak there
            cmd.append("--measure-peak")
        self.process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.errors, text=True, cwd=HERE.parent)

    def answer(self):
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            self.errors.seek(0)
            raise RuntimeError(f"the worker for {', '.join(self.names)} stopped (exit code "
                               f"{self.process.returncode}):\n{self.errors.read()}")
        return json.loads(line)

    def ask(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.answer()

    def cpu_seconds(self):
        """CPU time used so far by the worker and all its threads."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def settle(self, poll=0.05, limit=1.0):
        """Wait until the worker is idle. After an epoch, numpy's BLAS threads spin-wait
        for about 0.1 s before they sleep; the next worker must not start beside them."""
        waited, before = 0.0, self.cpu_seconds()
        while waited < limit:
            time.sleep(poll)
            waited += poll
            now = self.cpu_seconds()
            if now == before:
                return
            before = now

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.errors.close()


def measure_memory(name, batch_size, train_size, steps=100):
    """Peak memory of one backend training alone, in a fresh process."""
    cmd = [sys.executable, "-m", "benchmarks.trainer", "--backends", name, "--memory-steps",
           str(steps), "--batch-size", str(batch_size), "--train-size", str(train_size)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def train_all(batch_sizes, backends, rounds, processes=1, train_size=0, log=print):
    """One row per (batch size, backend). Fresh processes are started `processes` times
    (a process's memory layout alone moves a ratio by a few per cent); each trains
    `rounds` rounds, a round being one epoch of every backend, the processes taking
    turns in an order rotated from round to round."""
    rows = []
    for b in batch_sizes:
        epochs = {name: [] for name in backends}
        for start in range(processes):
            workers = [Worker(group, b, train_size) for group in process_groups(backends)]
            try:
                for worker in workers:
                    worker.answer()                      # data loaded, warmed up
                for worker in workers:
                    worker.settle()
                for r in range(start * rounds, (start + 1) * rounds):
                    for worker in rotated(workers, r):
                        for name, timing in worker.ask("epoch").items():
                            epochs[name].append(timing)
                        worker.settle()
                    for name in backends:            # the round's peak, measured by numpy's
                        epochs[name][-1]["peak_gflops"] = epochs["numpy"][-1]["peak_gflops"]
                    log(f"  batch {b:>3}, round {r + 1}/{processes * rounds}: " + "  ".join(
                        f"{n} {epochs[n][-1]['epoch_seconds']:.3f} s" for n in backends))
                finals = {}
                for worker in workers:
                    finals.update(worker.ask("finish"))  # the same in every process
            finally:
                for worker in workers:
                    worker.close()
        k = median_round(epochs)
        for name in backends:
            memory = measure_memory(name, b, train_size)
            rows.append(summarise({**finals[name], **memory}, epochs[name], epochs["numpy"], k))
    return rows


def per_round_ratio(rounds, base_rounds, key):
    """The median over rounds of this backend's time over the base's, round by round."""
    return float(np.median([a[key] / b[key] for a, b in zip(rounds, base_rounds)]))


def median_round(epochs):
    """The round that stands for a batch size in the table: the one whose tape ÷ numpy step
    ratio is the median (the lower middle one of an even count), so that every number of
    every row at that batch size comes from one measurement. Without the tape, the first
    other backend's ratio decides; with numpy alone, its median step time."""
    ref = "tape" if "tape" in epochs else next((n for n in epochs if n != "numpy"), "numpy")
    ratios = [a["step_seconds"] / b["step_seconds"]
              for a, b in zip(epochs[ref], epochs["numpy"])]
    if ref == "numpy":
        ratios = [r["step_seconds"] for r in epochs["numpy"]]
    order = np.argsort(ratios, kind="stable")
    return int(order[(len(order) - 1) // 2])


def summarise(final, rounds, numpy_rounds, k):
    """The row of one backend: every figure from round k (see median_round), against numpy's
    time in that same round and the peak measured in it; the spread of the step ratio over
    all rounds beside it."""
    bound = epoch_flops(final["examples_per_epoch"]) / 1e9        # GFLOP in an epoch
    r, base = rounds[k], numpy_rounds[k]
    step_ratios = [a["step_seconds"] / b["step_seconds"] for a, b in zip(rounds, numpy_rounds)]
    return {**final, "rounds": rounds, "table_round": k,
            "step_ms": 1e3 * r["step_seconds"],
            "step_ratio_to_numpy": r["step_seconds"] / base["step_seconds"],
            "step_ratio_range": [min(step_ratios), max(step_ratios)],
            "epoch_seconds": r["epoch_seconds"],
            "epoch_ratio_to_numpy": r["epoch_seconds"] / base["epoch_seconds"],
            "flop_fraction": bound / r["peak_gflops"] / r["epoch_seconds"]}


def resummarise(report):
    """The table of a saved report, recomputed from its rounds by the method above."""
    by_batch = {}
    for row in report["training"]:
        by_batch.setdefault(row["batch_size"], {})[row["backend"]] = row
    training = []
    for b, rows in by_batch.items():
        k = median_round({name: row["rounds"] for name, row in rows.items()})
        keep = ("rounds", "table_round", "step_ms", "step_ratio_to_numpy", "step_ratio_range",
                "epoch_seconds", "epoch_ratio_to_numpy", "flop_fraction")
        for name, row in rows.items():
            final = {key: v for key, v in row.items() if key not in keep}
            training.append(summarise(final, row["rounds"], rows["numpy"]["rounds"], k))
    return {**report, "training": training, "goals": goals(training)}


# ---- the goals of the issue ----------------------------------------------------------

def goals(training):
    """(goal, measured, met) for each speed goal that the run has the numbers for."""
    rows = {(r["batch_size"], r["backend"]): r for r in training}
    sizes = sorted({r["batch_size"] for r in training})
    found = []

    def tape_vs(backend, b):
        return per_round_ratio(rows[(b, backend)]["rounds"], rows[(b, "tape")]["rounds"],
                               "step_seconds")

    for b, limit in ((128, 1.10), (32, 1.25)):
        if (b, "tape") in rows and (b, "numpy") in rows:
            ratio = per_round_ratio(rows[(b, "tape")]["rounds"], rows[(b, "numpy")]["rounds"],
                                    "step_seconds")
            found.append((f"tape step ≤ {limit:.2f}× hand-written numpy at batch {b}",
                          f"{ratio:.2f}×", ratio <= limit))
    for backend, text, good in (("pytorch", "faster than PyTorch", lambda m: m > 1),
                                ("autograd", "≥ 2× faster than HIPS autograd", lambda m: m >= 2)):
        measured = [tape_vs(backend, b) for b in sizes if (b, backend) in rows and (b, "tape") in rows]
        if measured:
            found.append((f"tape {text} at every batch size",
                          " / ".join(f"{m:.2f}×" for m in measured), all(map(good, measured))))
    gaps = [abs(r["test_accuracy"] - rows[(r["batch_size"], "numpy")]["test_accuracy"])
            for r in training if (r["batch_size"], "numpy") in rows]
    found.append(("every backend's test accuracy within 1 point of numpy's (the same math)",
                  f"largest gap {100 * max(gaps):.2f} points", max(gaps) <= 0.01))
    rss = [rows[(b, "tape")]["peak_rss_mb"] / rows[(b, "numpy")]["peak_rss_mb"]
           for b in sizes if (b, "tape") in rows and (b, "numpy") in rows]
    if rss:
        found.append(("peak RSS of training within 10 % of numpy",
                      " / ".join(f"{m:.3f}×" for m in rss), max(rss) <= 1.10))
    if (128, "tape") in rows:
        fraction = rows[(128, "tape")]["flop_fraction"]
        found.append(("aim: ≥ 65 % of the FLOP bound at batch 128", f"{100 * fraction:.0f} %",
                      fraction >= 0.65))
    return found


# ---- the report ------------------------------------------------------------------------

def format_report(report):
    m = report["machine"]
    lines = [f"machine: {m['processor']}, {m['cores']} cores, numpy {m['numpy']}"
             f"{', torch ' + m['torch'] if m.get('torch') else ''}, OPENBLAS_CORETYPE="
             f"{m['openblas_coretype']}; peak float32 matmul {report['peak_gflops']:.0f} GFLOP/s "
             f"(median of the rounds' own)",
             f"{report['rounds']} rounds in {report['processes']} sets of fresh processes, an "
             f"epoch of every backend in each round (numpy, tape and autograd interleaved in "
             f"one process, PyTorch in its own). Each batch size's rows are one round: the one "
             f"whose tape ÷ numpy step ratio is the median (its number in `round`); "
             f"'range': that ratio's lowest and highest over all rounds", ""]
    lines.append(f"{'batch':>5}  {'backend':<9} {'round':>5} {'ms/step':>8} {'× numpy':>7} "
                 f"{'range':>9} {'s/epoch':>8} {'× numpy':>7} {'% FLOP bound':>12} "
                 f"{'test acc':>8} {'peak RSS MB':>11} {'training MB':>11}")
    for r in report["training"]:
        added = f"{r['train_rss_mb']:.1f}" if r["train_rss_mb"] is not None else "?"
        low, high = r["step_ratio_range"]
        lines.append(f"{r['batch_size']:>5}  {r['backend']:<9} {r['table_round'] + 1:>5} "
                     f"{r['step_ms']:>8.3f} {r['step_ratio_to_numpy']:>7.2f} "
                     f"{f'{low:.2f}–{high:.2f}':>9} {r['epoch_seconds']:>8.3f} "
                     f"{r['epoch_ratio_to_numpy']:>7.2f} {100 * r['flop_fraction']:>11.0f}% "
                     f"{r['test_accuracy']:>8.4f} {r['peak_rss_mb']:>11.0f} {added:>11}")
    lines += ["", "goals:"]
    lines += [f"  {'met ' if met else 'NOT '} {goal}: {measured}"
              for goal, measured, met in report["goals"]]
    o = report["per_op"]
    lines += ["", "per-op overhead, z = x * y on 4-element float32 tensors (µs per op):",
              f"  numpy forward {o['numpy_forward_us']:.2f} · numpy forward + backward by hand "
              f"{o['numpy_forward_backward_us']:.2f} · tape forward, not recorded "
              f"{o['tape_forward_no_grad_us']:.2f} · tape recorded, forward + backward "
              f"{o['tape_forward_backward_us']:.2f}"]
    if report["moons"]:
        lines += ["", "make_moons step, 2-16-16-1, full batch of 100, micrograd's loss (ms per step; "
                  "largest loss difference to numpy over 3 steps):"]
        lines += [f"  {name:<9} {r['ms_per_step']:>10.3f} ms   {r['max_loss_difference']:.1e}"
                  for name, r in report["moons"].items()]
    return "\n".join(lines)


def markdown_table(report):
    """The training table as Markdown, for the README."""
    lines = ["| batch | backend | round | ms / step | × numpy | range over rounds | s / epoch "
             "| × numpy | % of FLOP bound | test acc | peak RSS (MB) | training adds (MB) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["training"]:
        added = f"{r['train_rss_mb']:.1f}" if r["train_rss_mb"] is not None else "?"
        low, high = r["step_ratio_range"]
        lines.append(f"| {r['batch_size']} | {r['backend']} | {r['table_round'] + 1} | "
                     f"{r['step_ms']:.3f} | {r['step_ratio_to_numpy']:.2f} | "
                     f"{low:.2f}–{high:.2f} | {r['epoch_seconds']:.3f} | "
                     f"{r['epoch_ratio_to_numpy']:.2f} | {100 * r['flop_fraction']:.0f} % | "
                     f"{r['test_accuracy']:.4f} | {r['peak_rss_mb']:.0f} | {added} |")
    return "\n".join(lines)


def machine():
    info = {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "numpy": np.__version__, "python": platform.python_version(),
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")}
    if available("pytorch"):
        import torch
        info["torch"] = torch.__version__
    return info


def parser():
    p = OneLineParser(prog="python -m benchmarks.run", description=__doc__,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    p.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    p.add_argument("--processes", type=int, default=3,
                   help="how many times fresh worker processes are started per batch size")
    p.add_argument("--rounds", type=int, default=2,
                   help="rounds per start: in each, every backend trains one epoch")
    p.add_argument("--train-size", type=int, default=0,
                   help="train on the first N images only (0: all 55,000; for a quick look)")
    p.add_argument("--moons-backends", nargs="*", default=list(MOONS_BACKENDS),
                   choices=list(MOONS_BACKENDS), help="none: skip the make_moons step")
    p.add_argument("--out", default="runs/benchmarks/results.json",
                   help="where the results are written as JSON (an untracked path by default)")
    p.add_argument("--from-json", metavar="FILE",
                   help="measure nothing: print the table of a saved results file, "
                        "recomputed from its rounds")
    return p


def main(argv=None):
    """The command; a mistake in the flags or --out is one line and exit code 2."""
    return run_command(_benchmark, argv)


def _benchmark(argv):
    p = parser()
    args = p.parse_args(argv)
    if args.from_json:
        try:
            report = resummarise(json.loads(Path(args.from_json).read_text()))
        except (OSError, ValueError, KeyError) as e:
            p.error(f"--from-json {args.from_json}: not a results file of this benchmark ({e})")
        print(format_report(report))
        print()
        print(markdown_table(report))
        return
    if min(args.rounds, args.processes) < 1:
        p.error("--rounds and --processes must be at least 1")
    if min(args.batch_sizes) < 1:
        p.error(f"--batch-sizes must all be at least 1, got {args.batch_sizes}")
    if args.train_size < 0:
        p.error(f"--train-size must be 0 (all) or positive, got {args.train_size}")
    out = Path(args.out)
    if out.is_dir():
        p.error(f"--out {out} is a directory; give a file name such as results.json")
    check_writable_dir(out.parent)          # now, not after an hour of benchmarking
    backends = [b for b in args.backends if available(b)]
    missing = sorted(set(args.backends) - set(backends))
    if missing:
        print(f"not installed, skipped: {', '.join(missing)} "
              f"(pip install torch==2.13.0 autograd micrograd)")
    if "numpy" not in backends:
        p.error("the numpy backend is the baseline: --backends must include numpy")
    backends = ["numpy"] + [b for b in backends if b != "numpy"]
    moons_backends = ["numpy"] + [b for b in args.moons_backends if b != "numpy"] \
        if args.moons_backends else []

    print(f"training: {args.processes} × {args.rounds} rounds, an epoch per backend in each",
          flush=True)
    training = train_all(args.batch_sizes, backends, args.rounds, args.processes, args.train_size,
                         log=lambda line: print(line, flush=True))
    gflops = float(np.median([r["peak_gflops"] for row in training for r in row["rounds"]]))
    print("per-op overhead and the make_moons step ...", flush=True)
    report = {"machine": machine(), "peak_gflops": gflops, "processes": args.processes,
              "rounds": args.processes * args.rounds,
              "train_size": args.train_size or None,
              "training": training, "per_op": per_op_overhead(),
              "moons": moons_benchmark(moons_backends) if moons_backends else {}}
    report["goals"] = goals(training)
    print()
    print(format_report(report))
    print()
    print(markdown_table(report))
    write_json(out, report)                # atomic: a crash never leaves half a results file
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

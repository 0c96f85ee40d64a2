"""`python -m benchmarks.engine`: what the tape's bookkeeping costs, on graphs too small
for numpy's own work to hide it, and on the two-layer network where it should vanish.

1. One recorded op, forward + backward: z = z * y along a chain of 100 multiplies of
   4-element float32 tensors, per op; numpy's three calls (the product, and by hand the
   two gradients g·y and g·x) beside it.
2. A chain of 1,000,000 recorded ops: the time of its backward() alone, and the peak
   memory of recording it and going back through it.
3. The make_moons step (2-16-16-1, full batch of 100, micrograd's loss; see moons.py):
   hand-written numpy, the tape and the lean reference take turns in blocks of steps in
   one process; PyTorch runs in processes of its own — once limited to one thread, once
   with its default thread pool — alternating with the numpy/tape process block by
   block, as its thread pool fights numpy's inside one process. Each ratio is taken
   within a round; medians over rounds are reported.
4. The two-layer step 784-256-10 at batch 128, float32 (benchmarks/backends.py: the
   hand-derived numpy of models/manual/formulas.py against models.nn.MLP on the tape), the two
   taking turns every 10 steps on the same random batches.

Figures 1–3 have the lean reference beside them (lean.py): the same computation on an
eager tape with no checks, so that the tape's ratio to it is what its semantics cost
(threads, no_grad, Tapes, freeing, version, shape and dtype checks, higher order); and
lean_checked.py, the lean design with those run-time checks put back as cheaply as we
could write them (all but higher order and the float32 rule): what the lean design
would give the tape.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import tape
from models.io.errors import OneLineParser

from . import lean, lean_checked, moons
from .backends import BACKENDS, initial_params
from .measure import current_rss_mb, peak_rss_mb, reset_peak_rss
from .per_op import per_op_overhead

LEAN = "lean (no checks)"
LEAN_CHECKED = "lean + checks"
REFERENCES = {"lean": lean, "lean_checked": lean_checked}
GOALS = {"per_op_vs_numpy": 3.5, "chain_backward_s": 1.5, "moons_vs_numpy": 2.0,
         "moons_faster_than_torch": 3.0, "two_layer_vs_numpy": 1.05}


def chain_backward(n=1_000_000, reference=None):
    """(seconds of backward() through a chain of n recorded multiplies, MiB of memory
    at the peak of recording and sweeping it above what the process held before).

    Run in a fresh process (`chain_in_a_process`): Python's garbage collector walks every
    object of the process now and then while a million entries are made, so in a process
    that has imported PyTorch the same backward takes twice as long."""
    reset_peak_rss()
    before = current_rss_mb()
    if reference:                       # "lean" or "lean_checked"
        seconds = REFERENCES[reference].chain_backward_seconds(n)
    else:
        x = tape.tensor(np.ones(1), requires_grad=True)
        z = x
        for _ in range(n):
            z = z * 1.0000001
        started = time.perf_counter()
        z.backward(np.ones(1))
        seconds = time.perf_counter() - started
        del x, z
    return seconds, peak_rss_mb() - before


def chain_in_a_process(n, reference=None):
    """chain_backward(n, reference) measured in a process of its own."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.engine", "--serve-chain", str(n)]
        + (["--reference", reference] if reference else []), capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parent.parent)
    return tuple(json.loads(out.stdout))


def two_layer_ratios(blocks, batch_size=128, steps=10, seed=0):
    """Per pair of blocks, the tape's time ÷ numpy's: the two take turns every `steps`
    steps on the same random batches (numpy's BLAS threads make single steps noisy)."""
    rng = np.random.default_rng(seed)
    batches = [(rng.random((batch_size, 784), dtype=np.float32), rng.integers(0, 10, batch_size))
               for _ in range(steps)]
    nets = [BACKENDS[name](initial_params()) for name in ("numpy", "tape")]

    def block(net):
        started = time.perf_counter()
        for x, y in batches:
            net.step(x, y)
        return time.perf_counter() - started

    for net in nets:
        block(net)                                # warm-up, untimed
    ratios = []
    for _ in range(blocks):
        numpy_seconds = block(nets[0])
        ratios.append(block(nets[1]) / numpy_seconds)
    return ratios


def block_seconds(step, steps):
    """Median seconds per step over a block of `steps` steps."""
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def serve(backend, threads):
    """A worker process: answer each `block N` line with the median step time of N steps."""
    if backend == "pytorch":
        import torch
        if threads:
            torch.set_num_threads(threads)
    X, ys = moons.moons_data()
    step = moons.STEPS[backend](moons.initial_params(), X, ys)
    for _ in range(20):
        step()                                   # warm-up, untimed
    print("ready", flush=True)
    for line in sys.stdin:
        if line.startswith("block"):
            print(json.dumps(block_seconds(step, int(line.split()[1]))), flush=True)
        else:
            return


class Worker:
    def __init__(self, backend, threads=0):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.engine", "--serve", backend,
             "--threads", str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, cwd=Path(__file__).resolve().parent.parent)
        assert self.process.stdout.readline().strip() == "ready"

    def block(self, steps):
        self.process.stdin.write(f"block {steps}\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.write("finish\n")
        self.process.stdin.flush()
        self.process.wait()


def moons_rounds(rounds, steps, with_torch):
    """Per round: numpy and tape interleaved in this process, then each PyTorch worker."""
    X, ys = moons.moons_data()
    init = moons.initial_params()
    numpy_step, tape_step = (moons.numpy_step(init, X, ys), moons.tape_step(init, X, ys))
    lean_step = moons.lean_step(init, X, ys)
    checked_step = moons.lean_checked_step(init, X, ys)
    for _ in range(20):
        numpy_step(), tape_step(), lean_step(), checked_step()
    workers = {}
    if with_torch:
        workers = {"pytorch (1 thread)": Worker("pytorch", 1),
                   "pytorch (default threads)": Worker("pytorch", 0)}
    results = []
    try:
        for _ in range(rounds):
            row = {"numpy": block_seconds(numpy_step, steps),
                   "tape": block_seconds(tape_step, steps),
                   LEAN: block_seconds(lean_step, steps),
                   LEAN_CHECKED: block_seconds(checked_step, steps)}
            for name, worker in workers.items():
                row[name] = worker.block(steps)
            results.append(row)
    finally:
        for worker in workers.values():
            worker.close()
    return results


def report(per_op, chain, rounds, chain_length=1_000_000, lean_chain=None, two_layer=None,
           checked_chain=None):
    """The measured table and the goals, as text. `chain`, `lean_chain`, `checked_chain`:
    (seconds, MiB)."""
    names = list(rounds[0])
    median = {n: float(np.median([r[n] for r in rounds])) for n in names}
    ratio = {n: float(np.median([r[n] / r["numpy"] for r in rounds])) for n in names}
    per_op_ratio = per_op.get("tape_vs_numpy",      # the median of the rounds' own ratios
                              per_op["tape_forward_backward_us"] / per_op["numpy_forward_backward_us"])
    lines = ["make_moons step (median over rounds; ratio taken within each round):",
             f"  {'backend':<26} {'ms / step':>9} {'× numpy':>8}"]
    lines += [f"  {n:<26} {median[n] * 1e3:>9.3f} {ratio[n]:>8.2f}" for n in names]
    if LEAN in names:
        to_lean = float(np.median([r["tape"] / r[LEAN] for r in rounds]))
        lines.append(f"  the tape ÷ the lean reference: {to_lean:.2f} (what its semantics cost)")
    if LEAN_CHECKED in names:
        to_checked = float(np.median([r["tape"] / r[LEAN_CHECKED] for r in rounds]))
        lines.append(f"  the tape ÷ lean + checks: {to_checked:.2f} (what its op protocol costs)")
    lines += ["", f"one recorded op, forward + backward: {per_op['tape_forward_backward_us']:.2f} µs, "
              f"{per_op_ratio:.2f}× numpy's three calls by hand (within each round) "
              f"({per_op['numpy_forward_backward_us']:.2f} µs); the tape unrecorded: "
              f"{per_op['tape_forward_no_grad_us']:.2f} µs; the lean reference: "
              f"{per_op['lean_forward_backward_us']:.2f} µs"
              + (f", lean + checks: {per_op['lean_checked_forward_backward_us']:.2f} µs"
                 if "lean_checked_forward_backward_us" in per_op else ""),
              f"backward through a chain of {chain_length:,} ops: {chain[0]:.2f} s, peak memory "
              f"{chain[1]:.0f} MiB" + ("" if lean_chain is None else
                                       f" (the lean reference: {lean_chain[0]:.2f} s, "
                                       f"{lean_chain[1]:.0f} MiB)")
              + ("" if checked_chain is None else
                 f" (lean + checks: {checked_chain[0]:.2f} s, {checked_chain[1]:.0f} MiB)")]
    if two_layer:
        lines.append(f"two-layer step 784-256-10, batch 128, float32: tape ÷ numpy "
                     f"{np.median(two_layer):.3f} (median of {len(two_layer)} pairs of 10-step blocks; "
                     f"quartiles {np.percentile(two_layer, 25):.3f}–"
                     f"{np.percentile(two_layer, 75):.3f})")

    def references(lean_figure, checked_figure):
        shown = [f"lean {lean_figure}" if lean_figure else None,
                 f"lean + checks {checked_figure}" if checked_figure else None]
        return ", ".join(s for s in shown if s) or None

    def times_numpy(name):          # a reference's make_moons ratio, if it ran
        return name in names and f"{np.median([r[name] / r['numpy'] for r in rounds]):.2f}×"

    def faster_than(torch, name):
        return name in names and f"{np.median([r[torch] / r[name] for r in rounds]):.2f}×"

    def per_op_figure(name):
        key = f"{name}_forward_backward_us"
        return (f"{per_op.get(f'{name}_vs_numpy', per_op[key] / per_op['numpy_forward_backward_us']):.2f}×"
                if key in per_op else None)

    goals = [(f"a recorded op, forward + backward ≤ {GOALS['per_op_vs_numpy']}× numpy's three calls",
              f"{per_op_ratio:.2f}×", per_op_ratio <= GOALS["per_op_vs_numpy"],
              references(per_op_figure("lean"), per_op_figure("lean_checked"))),
             (f"a 1,000,000-op chain backward ≤ {GOALS['chain_backward_s']} s",
              f"{chain[0]:.2f} s" + ("" if chain_length == 1_000_000 else
                                     f" (for {chain_length:,} ops; not comparable)"),
              chain[0] <= GOALS["chain_backward_s"] and chain_length >= 1_000_000,
              references(lean_chain and f"{lean_chain[0]:.2f} s",
                         checked_chain and f"{checked_chain[0]:.2f} s")),
             (f"make_moons step ≤ {GOALS['moons_vs_numpy']}× numpy", f"{ratio['tape']:.2f}×",
              ratio["tape"] <= GOALS["moons_vs_numpy"],
              references(times_numpy(LEAN), times_numpy(LEAN_CHECKED)))]
    for n in names:
        if n.startswith("pytorch (1"):
            faster = float(np.median([r[n] / r["tape"] for r in rounds]))
            goals.append((f"make_moons step ≥ {GOALS['moons_faster_than_torch']}× faster than "
                          f"{n}", f"{faster:.2f}×", faster >= GOALS["moons_faster_than_torch"],
                          references(faster_than(n, LEAN), faster_than(n, LEAN_CHECKED))))
    if two_layer:
        goals.append((f"two-layer step at batch 128 ≤ {GOALS['two_layer_vs_numpy']}× numpy",
                      f"{np.median(two_layer):.3f}×",
                      np.median(two_layer) <= GOALS["two_layer_vs_numpy"], None))
    lines += ["", "goals:"]
    lines += [f"  {'met ' if met else 'NOT '} {goal}: {measured}"
              + (f"   ({at_lean})" if at_lean else "")
              for goal, measured, met, at_lean in goals]
    return "\n".join(lines)


def parser():
    p = OneLineParser(prog="python -m benchmarks.engine", description=__doc__,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=9, help="rounds of the make_moons step")
    p.add_argument("--steps", type=int, default=200, help="steps per backend in each round")
    p.add_argument("--chain", type=int, default=1_000_000, help="length of the chain whose "
                   "backward is timed")
    p.add_argument("--two-layer-blocks", type=int, default=30, help="pairs of 10-step blocks "
                   "of the 784-256-10 network, numpy then the tape (0: skip it)")
    p.add_argument("--serve", choices=list(moons.STEPS), help=argparse.SUPPRESS)
    p.add_argument("--serve-chain", type=int, help=argparse.SUPPRESS)
    p.add_argument("--reference", choices=list(REFERENCES), help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if args.serve:
        serve(args.serve, args.threads)
        return 0
    if args.serve_chain:
        print(json.dumps(chain_backward(args.serve_chain, args.reference)))
        return 0
    if min(args.rounds, args.steps, args.chain) < 1 or args.two_layer_blocks < 0:
        p.error("--rounds, --steps and --chain must be at least 1, --two-layer-blocks at least 0")
    with_torch = moons.installed("pytorch")
    if not with_torch:
        print("PyTorch is not installed: its columns are skipped (pip install torch==2.13.0)")
    rounds = moons_rounds(args.rounds, args.steps, with_torch)
    two_layer = two_layer_ratios(args.two_layer_blocks) if args.two_layer_blocks else None
    per_op = per_op_overhead()
    chain = chain_in_a_process(args.chain)
    lean_chain = chain_in_a_process(args.chain, reference="lean")
    checked_chain = chain_in_a_process(args.chain, reference="lean_checked")
    print(report(per_op, chain, rounds, args.chain, lean_chain, two_layer, checked_chain))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

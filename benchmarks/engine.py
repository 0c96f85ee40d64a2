"""`python -m benchmarks.engine`: what the tape's bookkeeping costs, on graphs too small
for numpy's own work to hide it.

1. One recorded op, forward + backward: z = z * y along a chain of 100 multiplies of
   4-element float32 tensors, per op; numpy's three calls (the product, and by hand the
   two gradients g·y and g·x) beside it.
2. A chain of 1,000,000 recorded ops: the time of its backward() alone.
3. The make_moons step (2-16-16-1, full batch of 100, micrograd's loss; see moons.py):
   hand-written numpy, the tape and the floor take turns in blocks of steps in one process;
   PyTorch runs in processes of its own — once limited to one thread, once with its
   default thread pool — alternating with the numpy/tape process block by block, as its
   thread pool fights numpy's inside one process. Each ratio is taken within a round;
   medians over rounds are reported.

Each figure has the floor beside it (floor.py): the same computation on the least
bookkeeping a Python tape can do, to tell the engine's own cost from what any tape
written in Python pays.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import floor, moons
from .per_op import per_op_overhead

FLOOR = "floor (least Python tape)"
GOALS = {"per_op_us": 2.5, "chain_backward_s": 2.0, "moons_vs_numpy": 2.0,
         "moons_faster_than_torch": 1.5}


def chain_backward_seconds(n=1_000_000):
    """Seconds for backward() through a chain of n recorded multiplies."""
    import tape
    x = tape.tensor(np.ones(1), requires_grad=True)
    z = x
    for _ in range(n):
        z = z * 1.0000001
    started = time.perf_counter()
    z.backward(np.ones(1))
    return time.perf_counter() - started


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
    floor_step = floor.moons_step(init, X, ys)
    for _ in range(20):
        numpy_step(), tape_step(), floor_step()
    workers = {}
    if with_torch:
        workers = {"pytorch (1 thread)": Worker("pytorch", 1),
                   "pytorch (default threads)": Worker("pytorch", 0)}
    results = []
    try:
        for _ in range(rounds):
            row = {"numpy": block_seconds(numpy_step, steps),
                   "tape": block_seconds(tape_step, steps),
                   FLOOR: block_seconds(floor_step, steps)}
            for name, worker in workers.items():
                row[name] = worker.block(steps)
            results.append(row)
    finally:
        for worker in workers.values():
            worker.close()
    return results


def report(per_op, chain, rounds, chain_length=1_000_000, floor_chain=None):
    """The measured table and the goals, as text."""
    names = list(rounds[0])
    median = {n: float(np.median([r[n] for r in rounds])) for n in names}
    ratio = {n: float(np.median([r[n] / r["numpy"] for r in rounds])) for n in names}
    lines = ["make_moons step (median over rounds; ratio taken within each round):",
             f"  {'backend':<26} {'ms / step':>9} {'× numpy':>8}"]
    lines += [f"  {n:<26} {median[n] * 1e3:>9.3f} {ratio[n]:>8.2f}" for n in names]
    lines += ["", f"one recorded op, forward + backward: {per_op['tape_forward_backward_us']:.2f} µs "
              f"(numpy's three calls by hand: {per_op['numpy_forward_backward_us']:.2f} µs; "
              f"the tape unrecorded: {per_op['tape_forward_no_grad_us']:.2f} µs; the floor: "
              f"{per_op['floor_forward_backward_us']:.2f} µs)",
              f"backward through a chain of {chain_length:,} ops: {chain:.2f} s"
              + ("" if floor_chain is None else f" (the floor: {floor_chain:.2f} s)"),
              "", "goals:"]
    floor = FLOOR if FLOOR in names else None
    goals = [(f"a recorded op, forward + backward ≤ {GOALS['per_op_us']} µs",
              f"{per_op['tape_forward_backward_us']:.2f} µs",
              per_op["tape_forward_backward_us"] <= GOALS["per_op_us"],
              f"{per_op['floor_forward_backward_us']:.2f} µs"
              if "floor_forward_backward_us" in per_op else None),
             (f"a 1,000,000-op chain backward ≤ {GOALS['chain_backward_s']} s",
              f"{chain:.2f} s" + ("" if chain_length == 1_000_000 else
                                  f" (for {chain_length:,} ops; not comparable)"),
              chain <= GOALS["chain_backward_s"] and chain_length >= 1_000_000,
              None if floor_chain is None else f"{floor_chain:.2f} s"),
             (f"make_moons step ≤ {GOALS['moons_vs_numpy']}× numpy", f"{ratio['tape']:.2f}×",
              ratio["tape"] <= GOALS["moons_vs_numpy"],
              floor and f"{ratio[floor]:.2f}×")]
    for n in names:
        if n.startswith("pytorch"):
            faster = float(np.median([r[n] / r["tape"] for r in rounds]))
            goals.append((f"make_moons step ≥ {GOALS['moons_faster_than_torch']}× faster than "
                          f"{n}", f"{faster:.2f}×", faster >= GOALS["moons_faster_than_torch"],
                          floor and f"{np.median([r[n] / r[floor] for r in rounds]):.2f}×"))
    lines += [f"  {'met ' if met else 'NOT '} {goal}: {measured}"
              + (f"   (the floor: {at_floor})" if at_floor else "")
              for goal, measured, met, at_floor in goals]
    return "\n".join(lines)


def parser():
    p = argparse.ArgumentParser(prog="python -m benchmarks.engine", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=9, help="rounds of the make_moons step")
    p.add_argument("--steps", type=int, default=200, help="steps per backend in each round")
    p.add_argument("--chain", type=int, default=1_000_000, help="length of the chain whose "
                   "backward is timed")
    p.add_argument("--serve", choices=list(moons.STEPS), help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if args.serve:
        serve(args.serve, args.threads)
        return 0
    if min(args.rounds, args.steps, args.chain) < 1:
        p.error("--rounds, --steps and --chain must be at least 1")
    with_torch = moons.installed("pytorch")
    if not with_torch:
        print("PyTorch is not installed: its columns are skipped (pip install torch==2.13.0)")
    rounds = moons_rounds(args.rounds, args.steps, with_torch)
    print(report(per_op_overhead(), chain_backward_seconds(args.chain), rounds, args.chain,
                 floor.chain_backward_seconds(args.chain)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

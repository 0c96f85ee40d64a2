"""`python -m benchmarks.search_jobs`: trials per hour of `models.search --jobs 2` against
`--jobs 1` (goal: at least 1.7× on a 2-core machine).

The same grid runs as a fresh study with --jobs 1, --jobs 2, and --jobs 1 limited to one
BLAS thread, in alternating rounds, so that all see the same machine: on a shared machine
the speed drifts within minutes. Each round's throughput is the number of trials over the
command's whole wall time (start-up, data loading and the report included: what a user
waits for); the ratio is taken between neighbouring rounds and its median reported,
with the spread. The CPU seconds per trial of each mode are measured too: on a machine
shared with other work, two processes get a larger share of the cores than one, so the
wall-time ratio alone can exceed 2.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from models.io.errors import OneLineParser

ROOT = Path(__file__).resolve().parent.parent


def parser():
    p = OneLineParser(prog="python -m benchmarks.search_jobs",
                      description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="runs of each of --jobs 1 and 2")
    p.add_argument("--trials", type=int, default=8, help="grid size (learning rates)")
    p.add_argument("--train-size", type=int, default=5000, help="training subset")
    p.add_argument("--epochs", type=int, default=2, help="epochs per trial")
    p.add_argument("--hidden", type=int, default=256, help="hidden units")
    p.add_argument("--dataset", default="fashion-mnist", help="dataset of the trials")
    p.add_argument("--json", metavar="FILE", help="also write the measurements here")
    return p


MODES = {"--jobs 1": (1, None), "--jobs 2": (2, None),
         "--jobs 1, 1 BLAS thread": (1, "1")}


def one_run(args, mode, folder):
    jobs, threads = MODES[mode]
    lrs = ",".join(f"{0.01 * (k + 1):g}" for k in range(args.trials))
    cmd = [sys.executable, "-m", "models.search", "--dataset", args.dataset, "--no-download",
           "--train-size", str(args.train_size), "--epochs", str(args.epochs),
           "--hidden", str(args.hidden), "--schedule", "constant", "--grid", f"lr={lrs}",
           "--jobs", str(jobs), "--out", str(folder), "--no-plots", "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if threads:
        env.update(OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
                   MKL_NUM_THREADS=threads)
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        sys.exit(f"models.search failed: {done.stderr.strip().splitlines()[-1]}")
    return {"mode": mode, "jobs": jobs, "seconds": seconds, "trials_per_hour": args.trials * 3600 / seconds,
            "cpu_seconds": cpu, "cpu_seconds_per_trial": cpu / args.trials}


def _children_cpu():
    """CPU seconds (user + system) used so far by finished child processes and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv=None):
    args = parser().parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for k, mode in enumerate(MODES):
                run = one_run(args, mode, Path(tmp) / f"round{r}-mode{k}")
                runs.append(run)
                print(f"round {r + 1}: {mode}: {args.trials} trials in "
                      f"{run['seconds']:.1f} s = {run['trials_per_hour']:.0f} trials/hour "
                      f"({run['cpu_seconds_per_trial']:.1f} CPU s per trial; load average "
                      f"{os.getloadavg()[0]:.1f})", flush=True)

    def rates(mode):
        return [r["trials_per_hour"] for r in runs if r["mode"] == mode]

    two = rates("--jobs 2")
    ratios = {}
    for baseline in ("--jobs 1", "--jobs 1, 1 BLAS thread"):
        ratios[baseline] = [b / a for a, b in zip(rates(baseline), two)]
        ratio = statistics.median(ratios[baseline])
        print(f"--jobs 2 / {baseline}: median {ratio:.2f}× trials per hour (rounds: "
              f"{', '.join(f'{x:.2f}' for x in ratios[baseline])})"
              + ("; goal ≥ 1.7×: " + ("met" if ratio >= 1.7 else "not met")
                 if baseline == "--jobs 1" else ""))
    for mode in MODES:
        cpu = statistics.median(r["cpu_seconds_per_trial"] for r in runs if r["mode"] == mode)
        print(f"CPU seconds per trial, {mode}: {cpu:.2f}")
    print(f"cores: {len(os.sched_getaffinity(0))}. A load average above the core count means "
          f"other processes share the machine; two workers then win more than one's share "
          f"of it, which inflates the ratio.")
    ratio = statistics.median(ratios["--jobs 1"])
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "ratios": ratios,
                                               "median_ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

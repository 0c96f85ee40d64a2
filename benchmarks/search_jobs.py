"""`python -m benchmarks.search_jobs`: trials per hour of `models.search --jobs 2` against
`--jobs 1` (goal: at least 1.7× on a 2-core machine).

The same grid runs as a fresh study with --jobs 1 and with --jobs 2, in alternating
rounds (1, 2, 1, 2, ...), so that both see the same machine: on a shared machine the
speed drifts within minutes. Each round's throughput is the number of trials over the
command's whole wall time (start-up, data loading and the report included: what a user
waits for); the ratio is taken between neighbouring rounds and its median reported,
with the spread. The CPU seconds per trial of each mode are measured too: on a machine
shared with other work, two processes get a larger share of the cores than one, so the
wall-time ratio alone can exceed 2.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parser():
    p = argparse.ArgumentParser(prog="python -m benchmarks.search_jobs",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="runs of each of --jobs 1 and 2")
    p.add_argument("--trials", type=int, default=8, help="grid size (learning rates)")
    p.add_argument("--train-size", type=int, default=5000, help="training subset")
    p.add_argument("--epochs", type=int, default=2, help="epochs per trial")
    p.add_argument("--hidden", type=int, default=256, help="hidden units")
    p.add_argument("--dataset", default="fashion-mnist", help="dataset of the trials")
    p.add_argument("--json", metavar="FILE", help="also write the measurements here")
    return p


def one_run(args, jobs, folder):
    lrs = ",".join(f"{0.01 * (k + 1):g}" for k in range(args.trials))
    cmd = [sys.executable, "-m", "models.search", "--dataset", args.dataset, "--no-download",
           "--train-size", str(args.train_size), "--epochs", str(args.epochs),
           "--hidden", str(args.hidden), "--schedule", "constant", "--grid", f"lr={lrs}",
           "--jobs", str(jobs), "--out", str(folder), "--no-plots", "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        sys.exit(f"models.search failed: {done.stderr.strip().splitlines()[-1]}")
    return {"jobs": jobs, "seconds": seconds, "trials_per_hour": args.trials * 3600 / seconds,
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
            for jobs in (1, 2):
                run = one_run(args, jobs, Path(tmp) / f"round{r}-jobs{jobs}")
                runs.append(run)
                print(f"round {r + 1}: --jobs {jobs}: {args.trials} trials in "
                      f"{run['seconds']:.1f} s = {run['trials_per_hour']:.0f} trials/hour "
                      f"({run['cpu_seconds_per_trial']:.1f} CPU s per trial; load average "
                      f"{os.getloadavg()[0]:.1f})", flush=True)
    one = [r["trials_per_hour"] for r in runs if r["jobs"] == 1]
    two = [r["trials_per_hour"] for r in runs if r["jobs"] == 2]
    ratios = [b / a for a, b in zip(one, two)]
    ratio = statistics.median(ratios)
    print(f"\n--jobs 2 / --jobs 1 trials per hour: median {ratio:.2f}× "
          f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}); goal ≥ 1.7×: "
          f"{'met' if ratio >= 1.7 else 'not met'}")
    cpu1 = statistics.median(r["cpu_seconds_per_trial"] for r in runs if r["jobs"] == 1)
    cpu2 = statistics.median(r["cpu_seconds_per_trial"] for r in runs if r["jobs"] == 2)
    print(f"CPU seconds per trial: --jobs 1 {cpu1:.2f}, --jobs 2 {cpu2:.2f} (equal: two "
          f"processes cost no extra work per trial); cores: {len(os.sched_getaffinity(0))}. "
          f"A load average above the core count means other processes share the machine, "
          f"and two workers then win more than their share of it: the ratio is inflated.")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "ratios": ratios,
                                               "median_ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m models.toy`: decision boundaries on two-dimensional toy data, every combination.

    python -m models.toy --dataset moons --activation tanh sigmoid relu --hidden 3 5 10 15 20
    python -m models.toy --dataset moons --hidden 3 5 10 --depth 1 2 3
    python -m models.toy --dataset blobs --hidden 3 5 --depth 1 3

Trains one network per (activation, depth, hidden width) and draws the grid of their
decision boundaries (a row per activation and depth, a column per width), plus the data
alone. The defaults are report 003's (the course's three_layer_neural_network.py):

    data      sklearn.datasets.make_moons(200, noise=0.20), or make_blobs(200, centers=2)
    network   2 → hidden × depth → classes, weights randn/√fan_in ("lecun"), biases 0
    loss      L = Σᵢ CEᵢ + ½λ Σ‖W‖²       (summed over the points, not averaged)
    update    θ ← θ − ε ∇L, full batch, ε = 0.01, λ = 0.01, 20,000 steps

In the mean-loss convention of `models.twolayer` (L/N) the same update is lr = ε·N and
L2 λ/N: with 200 points, lr 2.0 and L2 5e-5. The loss printed is L/N, as the report prints it.
"""

import argparse
import itertools
import json
import math
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

import tape
from models.io.errors import OneLineParser, UsageError, run_command
from models.io.files import atomic_write, check_writable_dir
from models.io.progress import progress_bar
from models.nn import ACTIVATIONS, INITS, MLP, l2_penalty
from models.optim import SGD
from models.train.divergence import EXPLOSION_FACTOR

DATASETS = ("moons", "blobs")


def parser():
    p = OneLineParser(prog="python -m models.toy",
                      description="Train a small MLP on make_moons or make_blobs for every "
                                  "combination of activation, depth and width, and draw the "
                                  "grid of decision boundaries (report 003's experiments).",
                      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", choices=DATASETS, default="moons",
                   help="moons: sklearn make_moons; blobs: sklearn make_blobs")
    p.add_argument("--samples", type=int, default=200, help="number of points")
    p.add_argument("--noise", type=float, default=0.20,
                   help="moons: standard deviation of the Gaussian noise")
    p.add_argument("--centers", type=int, default=2, help="blobs: number of clusters (classes)")
    p.add_argument("--cluster-std", type=float, default=1.0,
                   help="blobs: standard deviation of each cluster")
    p.add_argument("--data-seed", type=int, default=0,
                   help="random_state of make_moons / make_blobs")
    p.add_argument("--activation", nargs="+", default=["tanh"], metavar="NAME",
                   help=f"one or more of {', '.join(ACTIVATIONS)}")
    p.add_argument("--hidden", nargs="+", type=int, default=[3, 5, 10, 15, 20], metavar="N",
                   help="hidden layer widths (one column each)")
    p.add_argument("--depth", nargs="+", type=int, default=[1], metavar="D",
                   help="numbers of hidden layers (report 003's layer_num = depth + 2)")
    p.add_argument("--init", choices=INITS, default="lecun",
                   help="initial weights (lecun: randn/√fan_in, as the report)")
    p.add_argument("--weight-scale", type=float, default=1e-3,
                   help="standard deviation for --init gaussian")
    p.add_argument("--lr", type=float, default=0.01,
                   help="ε in θ ← θ − ε∇L, L summed over the points")
    p.add_argument("--l2", type=float, default=0.01, help="λ in L = Σ CE + ½λΣ‖W‖²")
    p.add_argument("--steps", type=int, default=20000,
                   help="full-batch gradient-descent steps per network")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights")
    p.add_argument("--out", metavar="DIR",
                   help="folder for data.png, boundaries.png, results.json "
                        "(default: runs/toy-<dataset>-<timestamp>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-compile", action="store_true",
                   help="record every step on the tape instead of replaying the step "
                        "tape.compile wrote (the same results to the last digit, slower)")
    return p


# What the course's toy experiments need, with room to spare; beyond these a run takes
# hours or the memory of the machine (the cost grows as samples · steps · hidden² · depth).
LIMITS = {"samples": 100_000, "hidden": 1000, "depth": 20, "centers": 20,
          "steps": 1_000_000, "networks": 100}
MAX_SEED = 2 ** 32 - 1          # scikit-learn's random_state and numpy's seeds: [0, 2³² − 1]


def validate(args, p):
    bad = [a for a in args.activation if a not in ACTIVATIONS]
    if bad:
        p.error(f"--activation: unknown {', '.join(bad)}; choose from {', '.join(ACTIVATIONS)}")
    for flag, values in (("--hidden", args.hidden), ("--depth", args.depth)):
        if min(values) < 1:
            p.error(f"{flag} values must be at least 1, got {values}")
        most = LIMITS[flag[2:]]
        if max(values) > most:
            p.error(f"{flag} values must be at most {most:,}, got {max(values):,}")
    finite = {name: math.isfinite(getattr(args, name))
              for name in ("noise", "cluster_std", "lr", "l2", "weight_scale")}
    networks = len(args.activation) * len(args.hidden) * len(args.depth)
    checks = [(4 <= args.samples <= LIMITS["samples"],
               f"--samples must be between 4 and {LIMITS['samples']:,}, got {args.samples:,}"),
              (finite["noise"] and args.noise >= 0,
               f"--noise must be a non-negative finite number, got {args.noise}"),
              (2 <= args.centers <= LIMITS["centers"],
               f"--centers must be between 2 and {LIMITS['centers']} (classes), "
               f"got {args.centers}"),
              (finite["cluster_std"] and args.cluster_std > 0,
               f"--cluster-std must be a positive finite number, got {args.cluster_std}"),
              (finite["lr"] and args.lr > 0,
               f"--lr must be a positive finite number, got {args.lr}"),
              (finite["l2"] and args.l2 >= 0,
               f"--l2 must be a non-negative finite number, got {args.l2}"),
              (1 <= args.steps <= LIMITS["steps"],
               f"--steps must be between 1 and {LIMITS['steps']:,}, got {args.steps:,}"),
              (finite["weight_scale"] and args.weight_scale > 0,
               f"--weight-scale must be a positive finite number, got {args.weight_scale}"),
              (networks <= LIMITS["networks"],
               f"{networks:,} networks (activations × depths × widths) is more than "
               f"{LIMITS['networks']}; give fewer values"),
              *[(0 <= value <= MAX_SEED,
                 f"{flag} must be an integer between 0 and 2³² − 1, got {value}")
                for flag, value in (("--seed", args.seed), ("--data-seed", args.data_seed))]]
    for ok, message in checks:
        if not ok:
            p.error(message)
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        p.error(f"--out {args.out} is a file, not a folder")
    try:
        check_writable_dir(args.out or "runs")
    except UsageError as e:
        p.error(f"--out: {e}")


def make_data(dataset, samples=200, noise=0.20, centers=2, cluster_std=1.0, seed=0):
    """(X, y): the report's calls to scikit-learn's generators, X in float64."""
    from sklearn.datasets import make_blobs, make_moons   # start-up: scikit-learn is slow to import
    if dataset == "moons":
        return make_moons(samples, noise=noise, random_state=seed)
    if dataset == "blobs":
        return make_blobs(samples, centers=centers, cluster_std=cluster_std, random_state=seed)
    raise ValueError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")


def train(X, y, hidden, depth, activation, steps=20000, lr=0.01, l2=0.01, init="lecun",
          weight_scale=1e-3, seed=0, compile=True):
    """Full-batch gradient descent on L = Σ CE + ½λΣ‖W‖²; returns (model, L/N, accuracy).

    A diverging network stops at its first loss that is not finite or has exploded (see
    `exploded`), which is the L/N returned (NaN if a step left a parameter non-finite);
    `main` reports it and exits with 1."""
    fit = descend(X, y, hidden, depth, activation, steps, lr, l2, init, weight_scale, seed,
                  compile)
    return fit["model"], fit["loss"], fit["accuracy"]


def descend(X, y, hidden, depth, activation, steps=20000, lr=0.01, l2=0.01, init="lecun",
            weight_scale=1e-3, seed=0, compile=True):
    """train(), also returning the loss before the first step and whether the net diverged:
    {"model", "loss", "start_loss", "accuracy", "diverged"}.

    Every step records the same tape: `compile` writes it out once as numpy
    (tape.compile) and replays that, with the same results to the last digit."""
    n_classes = int(y.max()) + 1
    model = MLP([X.shape[1], *[hidden] * depth, n_classes], activation, init,
                seed=seed, dtype=np.float64, weight_scale=weight_scale)
    optimizer = SGD(model.parameters(), lr=lr)
    weights, n = model.weights(), len(X)
    X = np.asarray(X, dtype=np.float64)

    def objective(X, y):
        return tape.cross_entropy(model(X), y) * n + l2_penalty(weights, l2)
    step = tape.compile(objective, parameters=model) if compile else None
    loss, start = None, None
    with np.errstate(all="ignore"):           # a diverging run is reported, not warned about
        for _ in range(steps):
            optimizer.zero_grad()
            if step is not None:
                loss = step(X, y)             # the loss; its gradients added into p.grad
            else:
                recorded = objective(X, y)
                loss = recorded.data
            start = float(loss) / n if start is None else start
            if exploded(float(loss) / n, n_classes):
                break
            if step is None:
                recorded.backward()
            optimizer.step()
        final = float(loss) / n
        if not all(np.isfinite(p.data).all() for p in model.parameters()):
            final = float("nan")
        accuracy = float((model.predict(X) == y).mean())
    return {"model": model, "loss": final, "start_loss": start, "accuracy": accuracy,
            "diverged": diverged(final, start, n_classes)}


def diverged(final, start, n_classes):
    """Blown up: the loss is NaN/inf or exploded (`exploded`), or gradient descent ended
    higher than it began (a step too large for the net overshoots, and the loss grows
    instead of shrinking)."""
    return exploded(final, n_classes) or final > start


def run(args, log=print):
    from viz.plots import plot_decision_boundary_grid, plot_points  # start-up: matplotlib loads only when a figure is drawn
    X, y = make_data(args.dataset, args.samples, args.noise, args.centers, args.cluster_std,
                     args.data_seed)
    out = Path(args.out) if args.out else _new_out(args.dataset)
    out.mkdir(parents=True, exist_ok=True)
    describe = (f"make_moons({args.samples}, noise={args.noise:g})" if args.dataset == "moons"
                else f"make_blobs({args.samples}, centers={args.centers}, "
                     f"cluster_std={args.cluster_std:g})")
    plot_points(X, y, path=out / "data.png",
                title=f"{describe}, random_state={args.data_seed}")

    rows = list(itertools.product(args.activation, args.depth))
    combos = [(a, d, h) for a, d in rows for h in args.hidden]
    log(f"{describe}: {len(combos)} networks, full-batch gradient descent, lr {args.lr:g}, "
        f"l2 {args.l2:g}, {args.steps} step{'s' if args.steps != 1 else ''} each, "
        f"init {args.init}; output in {out}")
    log(f"{'activation':<10}  {'depth':>5}  {'hidden':>6}  {'loss':>9}  {'accuracy':>8}  "
        f"{'seconds':>7}  note")
    bar = progress_bar(len(combos), None, "net", not args.no_progress)
    results, panels = [], []
    for activation, depth, hidden in combos:
        started = time.perf_counter()
        fit = descend(X, y, hidden, depth, activation, args.steps, args.lr, args.l2,
                      args.init, args.weight_scale, args.seed, compile=not args.no_compile)
        model, loss, acc = fit["model"], fit["loss"], fit["accuracy"]
        seconds = time.perf_counter() - started
        note = (f"DIVERGED (loss {fit['start_loss']:.3f} at the start)" if fit["diverged"]
                else "")
        results.append({"activation": activation, "depth": depth, "hidden": hidden,
                        "loss": loss if np.isfinite(loss) else None, "accuracy": acc,
                        "start_loss": fit["start_loss"], "diverged": fit["diverged"],
                        "seconds": round(seconds, 3)})
        panels.append((f"acc {acc:.2f}, loss {loss:.3f}" + ("\nDIVERGED" if fit["diverged"]
                                                              else ""), _quiet(model.predict)))
        if bar is not None:
            bar.update(1)
        shown = f"{loss:>9.4f}" if abs(loss) < 1e4 else f"{loss:>9.3g}"   # an exploded one in e-notation
        log(f"{activation:<10}  {depth:>5d}  {hidden:>6d}  {shown}  {acc:>8.3f}  "
            f"{seconds:>7.1f}  {note}".rstrip())
    if bar is not None:
        bar.close()

    layers = {d: f"{d} hidden layer{'s' if d > 1 else ''}" for d in args.depth}
    row_labels = [f"{a}, {layers[d]}" if len(args.depth) > 1 else a for a, d in rows]
    plot_decision_boundary_grid(
        panels, X, y, ncols=len(args.hidden), path=out / "boundaries.png",
        row_labels=row_labels, col_labels=[f"{h} hidden units" for h in args.hidden],
        title=f"{describe}: activation{' and depth' if len(args.depth) > 1 else ''} (rows) × "
              f"width (columns); gradient descent, lr {args.lr:g}, L2 {args.l2:g}, "
              f"{args.steps} steps")
    summary = {"dataset": args.dataset, "data": describe, "config": vars(args),
               "results": results}
    atomic_write(out / "results.json", lambda f: f.write(json.dumps(summary, indent=2).encode()))
    blown = [r for r in results if r["diverged"]]
    if blown:
        log(f"warning: {len(blown)} of {len(results)} networks diverged (their loss grew or "
            f"became NaN: a smaller --lr, or fewer layers, trains them)")
    log(f"wrote {out / 'data.png'}, {out / 'boundaries.png'}, {out / 'results.json'}")
    return results


def exploded(loss, n_classes):
    """models.twolayer's rule: L/N is NaN or infinite, or above EXPLOSION_FACTOR · ln K
    (ten times a uniform guess's loss; a network that is learning never gets there)."""
    return not math.isfinite(loss) or loss > EXPLOSION_FACTOR * math.log(max(n_classes, 2))


def divergence_message(results, args, n_classes):
    """The line for the networks whose training diverged (results: run's), or None."""
    bad = [r for r in results if r["loss"] is None or exploded(r["loss"], n_classes)]
    if not bad:
        return None
    which = ", ".join(f"{r['activation']} depth {r['depth']} hidden {r['hidden']}"
                      for r in bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
    if args.lr * args.l2 >= 1:        # θ ← (1 − ελ)θ − ε∇CE: the decay alone overshoots zero
        cause = (f"the L2 strength is too large for this learning rate: lr·l2 = "
                 f"{args.lr:g}·{args.l2:g} ≥ 1, so the decay term alone overshoots zero; "
                 f"make lr·l2 < 1 with a smaller --l2 or --lr")
    else:
        cause = (f"the learning rate {args.lr:g} is probably too large: try a smaller "
                 f"--lr (e.g. {args.lr / 10:g})")
    return (f"training diverged: the loss of {len(bad)} of {len(results)} networks became "
            f"NaN, inf or more than {EXPLOSION_FACTOR}·ln K ({which}); {cause}")


def _quiet(predict):
    """predict without numpy's overflow warnings (a diverged network's are reported once)."""
    def quiet(points):
        with np.errstate(all="ignore"):
            return predict(points)
    return quiet


def _new_out(dataset):
    base = Path("runs") / f"toy-{dataset}-{datetime.now():%Y%m%d-%H%M%S}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    validate(args, p)

    def run_and_check(_):
        try:
            results = run(args)
        except KeyboardInterrupt:
            print("\ninterrupted; no grid drawn", file=sys.stderr)
            return 130
        message = divergence_message(results, args, 2 if args.dataset == "moons" else args.centers)
        if message:
            print(message, file=sys.stderr)
            return 1
        return 0

    return run_command(run_and_check)


if __name__ == "__main__":
    sys.exit(main())

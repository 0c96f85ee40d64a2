"""Several watched runs side by side (`models.compare` with --log-every, --eval-every,
--stats-every): one panel per quantity, one line (one colour) per configuration.

    plot_watched_runs(runs, path)     loss per iteration (smoothed), test (or validation)
                                      error at each evaluation, validation accuracy per epoch
    plot_layer_comparison(runs, path) per layer: weight std and update/weight ratio

runs: a list of `WatchedRun` (label, per-epoch history, history.npz and stats.npz arrays).
"""

from dataclasses import dataclass, field

import numpy as np
from matplotlib.ticker import MaxNLocator

from viz.experiments import COLOURS
from viz.figure import new_figure, save
from viz.stats_figure import parameter_names

FONT = 13           # readable on a projector


@dataclass
class WatchedRun:
    label: str
    history: list                                   # models.train.loop.Run.history
    iterations: dict = field(default_factory=dict)  # history.npz: loss, eval/..., steps_per_epoch
    stats: dict = field(default_factory=dict)       # stats.npz: iteration, <param>/<key>


def smoothed(values, window):
    """The running mean over `window` iterations (shorter at the start): the moving
    average of cs231n's loss plots, so a noisy mini-batch loss shows its trend."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(values) == 0:
        return values
    sums = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _style(ax, title, xlabel, ylabel):
    ax.set_title(title, fontsize=FONT + 1)
    ax.set_xlabel(xlabel, fontsize=FONT)
    ax.set_ylabel(ylabel, fontsize=FONT)
    ax.tick_params(labelsize=FONT - 2)
    ax.grid(alpha=0.3)


def _legend(fig, axes, runs, missing=()):
    handles = [axes[0].plot([], [], color=COLOURS[k % len(COLOURS)], lw=2.5, label=r.label)[0]
               for k, r in enumerate(runs)]
    handles += [axes[0].plot([], [], "x", color="0.4", ms=9, mew=2, label=label)[0]
                for label in missing]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(runs), 2),
               fontsize=FONT, frameon=False)


def plot_watched_runs(runs, path=None, title=None, window=None, missing=()):
    """Three panels: the mini-batch loss per iteration (thin: as measured, thick: its
    running mean), the error (1 − accuracy) at each periodic evaluation — on the test set
    with --eval-test, else validation — and the validation accuracy after each epoch.
    missing: legend lines for the configurations with nothing to draw (e.g. "trial 1:
    ... diverged in epoch 1"), so that no configuration silently disappears."""
    if not runs:
        raise ValueError("plot_watched_runs: no run to draw")
    fig = new_figure(16, 5.8)
    loss_ax, error_ax, acc_ax = fig.subplots(1, 3)
    tested = any(np.isfinite(r.iterations.get("eval/test_acc", np.array([]))).any() for r in runs)
    split = "test" if tested else "validation"
    for k, r in enumerate(runs):
        colour = COLOURS[k % len(COLOURS)]
        loss = r.iterations.get("loss")
        if loss is not None and len(loss):
            it = np.arange(1, len(loss) + 1)
            w = window or max(1, len(loss) // 50)
            loss_ax.plot(it, loss, color=colour, lw=0.6, alpha=0.25)
            loss_ax.plot(it, smoothed(loss, w), color=colour, lw=2.2)
        key = "eval/test_acc" if tested else "eval/val_acc"
        if key in r.iterations and len(r.iterations[key]):
            error_ax.plot(r.iterations["eval/iteration"], 1 - r.iterations[key], "o-",
                          color=colour, lw=2.2, ms=5)
        epochs = [row["epoch"] for row in r.history]
        acc_ax.plot(epochs, [row["val_acc"] for row in r.history], "o-", color=colour,
                    lw=2.2, ms=5)
    _style(loss_ax, "training loss per iteration\n(thin: mini-batch, thick: running mean)",
           "iteration", "loss")
    _style(error_ax, f"{split} error at each evaluation", "iteration", f"{split} error")
    _style(acc_ax, "validation accuracy per epoch", "epoch", "validation accuracy")
    acc_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not any(len(r.iterations.get("eval/iteration", [])) for r in runs):
        error_ax.text(0.5, 0.5, "no periodic evaluation\n(give --eval-every N)",
                      ha="center", va="center", transform=error_ax.transAxes, fontsize=FONT)
    _legend(fig, [loss_ax], runs, missing)
    fig.suptitle(title or "Configurations compared", fontsize=FONT + 3)
    return save(fig, path, dpi=100)


def plot_layer_comparison(runs, path=None, title=None):
    """Per layer (parameter): its weights' standard deviation (solid, left) and the
    update/weight ratio ‖Δθ‖/‖θ‖ (right, log scale; cs231n's rule of thumb: about 1e-3),
    one colour per configuration."""
    runs = [r for r in runs if r.stats and len(r.stats.get("iteration", []))]
    if not runs:
        raise ValueError("plot_layer_comparison: no run has layer statistics "
                         "(give --stats-every N)")
    names = [n for n in parameter_names(runs[0].stats)
             if all(f"{n}/weight_std" in r.stats for r in runs)]
    if not names:
        raise ValueError("plot_layer_comparison: the runs share no parameter name")
    fig = new_figure(13, 3.4 * len(names) + 1.2)
    axes = np.array(fig.subplots(len(names), 2, squeeze=False))
    for row, name in zip(axes, names):
        for k, r in enumerate(runs):
            colour = COLOURS[k % len(COLOURS)]
            x = r.stats["iteration"]
            row[0].plot(x, r.stats[f"{name}/weight_std"], color=colour, lw=2.2)
            ratio = np.asarray(r.stats[f"{name}/update_ratio"], dtype=np.float64)
            positive = ratio > 0
            row[1].plot(x[positive], ratio[positive], color=colour, lw=2.2)
        _style(row[0], f"{name}: weight std", "iteration", "std of the weights")
        _style(row[1], f"{name}: update / weight", "iteration", "‖Δθ‖ / ‖θ‖")
        row[1].set_yscale("log")
    _legend(fig, axes[0], runs)
    fig.suptitle(title or "Layer statistics of each configuration", fontsize=FONT + 3)
    return save(fig, path, dpi=90)

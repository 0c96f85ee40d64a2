"""Pictures of an experiment (many training runs): validation accuracy against each
searched parameter, a heatmap over two parameters, and learning curves of several
configurations overlaid (training dashed, validation solid, one colour per configuration).

Rows are the dicts of `models.experiments.results.trial_rows`; parameters are `models.experiments.searchspace.Param`.
Every figure is titled and labelled, and written atomically as PNG.
"""

import itertools
import math

import matplotlib
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from viz.figure import new_figure, save

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
# how a trial that has no ordinary result is drawn
MARKERS = {"complete": ("o", "#1f77b4"), "diverged": ("X", "#d62728"),
           "pruned": ("v", "#7f7f7f"), "error": ("x", "#000000"), "killed": ("x", "#000000"),
           "interrupted": ("x", "#000000")}


def _positions(param, rows):
    """x of each row: the index of its value for listed values, the value for a range."""
    if param.is_range:
        return [r["params"][param.name] for r in rows]
    index = {v: i for i, v in enumerate(param.values)}
    return [index.get(r["params"][param.name]) for r in rows]


def plot_param_effects(rows, params, path=None, title=None):
    """One panel per parameter: every trial's best validation accuracy at its value,
    the best per value joined by a line; diverged, pruned and failed trials marked
    (a trial with no accuracy at all sits on the bottom edge)."""
    if not params:
        raise ValueError("plot_param_effects: no parameters to draw")
    ncols = min(3, len(params))
    nrows = math.ceil(len(params) / ncols)
    fig = new_figure(4.4 * ncols, 3.6 * nrows + 0.5)
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax in axes[len(params):]:
        ax.set_visible(False)
    rng = np.random.default_rng(0)
    finite = [r["val_acc"] for r in rows if r["val_acc"] is not None and math.isfinite(r["val_acc"])]
    floor = min(finite, default=0.0)
    seen = set()
    for ax, param in zip(axes, params):
        xs = _positions(param, rows)
        for how, (marker, colour) in MARKERS.items():
            pts = [(x, r["val_acc"] if r["val_acc"] is not None else floor)
                   for x, r in zip(xs, rows) if r["outcome"] == how and x is not None]
            if not pts:
                continue
            x, y = np.array(pts, dtype=float).T
            if not param.is_range:       # spread the points of one value a little
                x = x + rng.uniform(-0.12, 0.12, len(x))
            ax.scatter(x, y, marker=marker, color=colour, s=26, alpha=0.75, linewidths=1.2)
            seen.add(how)
        if not param.is_range:
            best = []
            for i, v in enumerate(param.values):
                vals = [r["val_acc"] for r in rows if r["params"][param.name] == v
                        and r["val_acc"] is not None and r["state"] == "COMPLETE"]
                best.append(max(vals) if vals else np.nan)
            ax.plot(range(len(best)), best, "-", color="#2ca02c", lw=1.8, zorder=3)
            ax.set_xticks(range(len(param.values)), [param.show(v) for v in param.values],
                          rotation=30 if len(param.values) > 5 else 0)
            ax.set_xlim(-0.5, len(param.values) - 0.5)
        elif param.log:
            ax.set_xscale("log")
        ax.set(xlabel=param.flag, ylabel="best validation accuracy",
               title=f"validation accuracy vs {param.name}")
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], ls="", marker=MARKERS[h][0], color=MARKERS[h][1], label=h)
               for h in MARKERS if h in seen]
    if any(not p.is_range for p in params):
        handles.append(Line2D([], [], color="#2ca02c", lw=1.8, label="best per value"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle(title or "Best validation accuracy of every trial, per parameter")
    if path is not None:
        save(fig, path, dpi=100)
    return fig


def heatmap_grid(rows, a, b):
    """The best validation accuracy over the other parameters for each (a, b) cell."""
    grid = np.full((len(a.values), len(b.values)), np.nan)
    for r in rows:
        if r["val_acc"] is None or r["state"] != "COMPLETE":
            continue
        try:
            i, j = a.values.index(r["params"][a.name]), b.values.index(r["params"][b.name])
        except ValueError:
            continue
        grid[i, j] = np.fmax(grid[i, j], r["val_acc"])
    return grid


def plot_heatmaps(rows, params, path=None, title=None):
    """For every pair of listed parameters, a heatmap of the best validation accuracy
    reached in each cell (over the other parameters), each cell labelled."""
    pairs = list(itertools.combinations([p for p in params if not p.is_range], 2))
    if not pairs:
        raise ValueError("plot_heatmaps: needs two parameters with listed values")
    ncols = min(3, len(pairs))
    nrows = math.ceil(len(pairs) / ncols)
    fig = new_figure(4.8 * ncols + 0.8, 4.0 * nrows + 0.6)
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax in axes[len(pairs):]:
        ax.set_visible(False)
    finite = [r["val_acc"] for r in rows if r["val_acc"] is not None and r["state"] == "COMPLETE"]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    image = None
    for ax, (a, b) in zip(axes, pairs):
        grid = heatmap_grid(rows, a, b)
        image = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", vmin=lo, vmax=hi,
                          aspect="auto", origin="lower")
        ax.set_facecolor("#dddddd")      # no result in that cell
        for (i, j), v in np.ndenumerate(grid):
            text = "–" if np.isnan(v) else f"{v:.3f}"
            dark = not np.isnan(v) and v < lo + 0.6 * (hi - lo)
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
        ax.set_xticks(range(len(b.values)), [b.show(v) for v in b.values])
        ax.set_yticks(range(len(a.values)), [a.show(v) for v in a.values])
        ax.set(xlabel=b.flag, ylabel=a.flag, title=f"{a.name} × {b.name}")
    fig.colorbar(image, ax=list(axes[:len(pairs)]), shrink=0.85,
                 label="best validation accuracy")
    fig.suptitle(title or "Best validation accuracy for each pair of values\n"
                          "(the best over the other parameters; – : no result)")
    if path is not None:
        save(fig, path, dpi=100)
    return fig


def plot_curves_overlay(runs, path=None, title=None):
    """Loss and accuracy per epoch of several runs in one figure: one colour per run,
    training dashed, validation solid (report 001's Figure 5).

    runs: a list of (label, history) with history as `models.train.loop.Run.history`."""
    runs = [(label, h) for label, h in runs if h]
    if not runs:
        raise ValueError("plot_curves_overlay: no run has any epoch to draw")
    fig = new_figure(11, 4.4)
    loss_ax, acc_ax = fig.subplots(1, 2)
    for k, (label, history) in enumerate(runs):
        colour = COLOURS[k % len(COLOURS)]
        epochs = [row["epoch"] for row in history]
        for ax, what in ((loss_ax, "loss"), (acc_ax, "acc")):
            ax.plot(epochs, [row[f"train_{what}"] for row in history], "--", color=colour, lw=1.4)
            ax.plot(epochs, [row[f"val_{what}"] for row in history], "-", color=colour, lw=1.8)
    for ax, label in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        ax.set(xlabel="epoch", ylabel=label, title=f"{label} per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=COLOURS[k % len(COLOURS)], lw=2, label=label)
               for k, (label, _) in enumerate(runs)]
    handles += [Line2D([], [], color="k", ls="--", label="training"),
                Line2D([], [], color="k", ls="-", label="validation")]
    fig.legend(handles=handles, loc="outside right center", frameon=False)
    fig.suptitle(title or "Learning curves of every configuration")
    if path is not None:
        save(fig, path, dpi=100)
    return fig


def plot_contour(study, names, path=None, title=None):
    """Validation accuracy over two sampled parameters (ranges), interpolated between the
    trials, drawn by optuna.visualization.matplotlib: the heatmap of a --space search."""
    matplotlib.use("Agg")
    # imports pyplot: only once Agg is chosen, and only for the figures Optuna draws
    from optuna.visualization.matplotlib import plot_contour as optuna_contour
    with matplotlib.rc_context():        # Optuna switches pyplot's style; keep it local
        ax = optuna_contour(study, params=list(names), target_name="validation accuracy")
        ax.set_title(title or f"Validation accuracy over {names[0]} and {names[1]} "
                              f"(dots: trials)")
        return _finish_optuna_figure(ax.figure, (7, 5), path)


def plot_importances(study, path=None, title=None):
    """Optuna's parameter importances (how much of the variation in validation accuracy
    each parameter explains), drawn by optuna.visualization.matplotlib."""
    matplotlib.use("Agg")
    # imports pyplot: only once Agg is chosen, and only for the figures Optuna draws
    from optuna.visualization.matplotlib import plot_param_importances
    with matplotlib.rc_context():        # Optuna switches pyplot's style; keep it local
        ax = plot_param_importances(study, target_name="validation accuracy")
        ax.set_title("", loc="left")
        ax.set_title(title or "Parameter importances for validation accuracy")
        return _finish_optuna_figure(ax.figure, (7, 0.9 * len(ax.get_yticks()) + 1.6), path)


def _finish_optuna_figure(fig, size, path):
    """Size, lay out and save (if `path`) a figure Optuna drew through pyplot, and let
    pyplot forget it, as it would otherwise keep every such figure open."""
    import matplotlib.pyplot as plt     # Optuna drew through pyplot: see above
    fig.set_size_inches(*size)
    fig.tight_layout()
    try:
        if path is not None:
            save(fig, path, dpi=100)
    finally:
        plt.close(fig)
    return fig

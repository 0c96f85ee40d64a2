"""stats.png: each parameter's statistics over training, one row per parameter.

    weights            min, max and mean ± std of θ
    gradients          min, max and mean ± std of ∂L/∂θ
    update / weight    ‖Δθ‖/‖θ‖ on a log scale, with the healthy 1e-3 marked
    histogram          θ's distribution over time as an image (time → right, value ↑)

The input is `models.train.layer_statistics.LayerStatistics.arrays()` (or stats.npz of a run).
"""

import numpy as np
from matplotlib.colors import PowerNorm

from viz.figure import new_figure, save

HEALTHY_RATIO = 1e-3
WEIGHT_COLOUR, GRAD_COLOUR, RATIO_COLOUR = "#4c72b0", "#c44e52", "#55a868"


def parameter_names(stats):
    """The parameters in the stats arrays, in their saved order (W1, b1, W2, ...)."""
    names = []
    for key in stats:
        if "/" in key and key.split("/", 1)[0] not in names:
            names.append(key.split("/", 1)[0])
    return names


def rebinned_histograms(counts, lo, hi, edges):
    """Each record's histogram (its own `bins` equal bins on [lo, hi]) moved onto the
    common `edges`, by interpolating its cumulative count: (records, len(edges) − 1)
    fractions of the values, each row summing to 1."""
    out = np.zeros((len(counts), len(edges) - 1))
    for r, (c, a, b) in enumerate(zip(counts, lo, hi)):
        own_edges = np.linspace(a, b, len(c) + 1)
        cumulative = np.concatenate([[0.0], np.cumsum(c, dtype=np.float64)])
        total = cumulative[-1] or 1.0
        out[r] = np.diff(np.interp(edges, own_edges, cumulative)) / total
    return out


def _band(ax, x, stats, prefix, colour):
    mean, std = stats[f"{prefix}_mean"], stats[f"{prefix}_std"]
    ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.25, lw=0,
                    label="mean ± std")
    ax.plot(x, mean, "-", color=colour, lw=1.4, label="mean")
    ax.plot(x, stats[f"{prefix}_min"], ":", color=colour, lw=1, label="min / max")
    ax.plot(x, stats[f"{prefix}_max"], ":", color=colour, lw=1)
    ax.grid(alpha=0.3)


def plot_layer_statistics(stats, steps_per_epoch, path=None, title=None, bins=80):
    """The figure described above; x axes in epochs (record i at iteration / steps)."""
    names = parameter_names(stats)
    if "iteration" not in stats or not names or len(stats["iteration"]) == 0:
        raise ValueError("plot_layer_statistics: no records (expected the arrays of "
                         "LayerStatistics or a run's stats.npz, with at least one record)")
    if not steps_per_epoch or steps_per_epoch < 1:
        raise ValueError(f"plot_layer_statistics: steps_per_epoch must be a positive "
                         f"number of iterations, got {steps_per_epoch}")
    x = np.asarray(stats["iteration"]) / steps_per_epoch
    fig = new_figure(17, 2.7 * len(names) + 0.9)
    axes = np.atleast_2d(fig.subplots(len(names), 4, sharex=True))
    for row, name in zip(axes, names):
        per = {key.split("/", 1)[1]: np.asarray(v) for key, v in stats.items()
               if key.startswith(name + "/")}
        weight_ax, grad_ax, ratio_ax, hist_ax = row
        _band(weight_ax, x, per, "weight", WEIGHT_COLOUR)
        weight_ax.set(ylabel=f"{name}\nvalue", title=f"{name}: weights")
        _band(grad_ax, x, per, "grad", GRAD_COLOUR)
        grad_ax.set(title=f"{name}: gradients ∂L/∂{name}")

        ratio = per["update_ratio"]
        positive = ratio[ratio > 0]
        ratio_ax.plot(x, np.where(ratio > 0, ratio, np.nan), "o-", ms=2.5, color=RATIO_COLOUR)
        ratio_ax.axhline(HEALTHY_RATIO, color="k", ls="--", lw=0.8, label="1e-3 (healthy)")
        ratio_ax.set_yscale("log")
        if positive.size:       # at least 1e-4 … 1e-2, so the axis shows three decades
            ratio_ax.set_ylim(min(positive.min() / 3, HEALTHY_RATIO / 10),
                              max(positive.max() * 3, HEALTHY_RATIO * 10))
        ratio_ax.set(title=f"{name}: update / weight ‖Δθ‖/‖θ‖")
        ratio_ax.minorticks_off()
        ratio_ax.grid(alpha=0.3)

        lo, hi = per["hist_lo"], per["hist_hi"]
        edges = np.linspace(lo.min(), hi.max(), bins + 1)
        density = rebinned_histograms(per["hist_counts"], lo, hi, edges)
        # record i covers the time from halfway since the previous record to halfway to the next
        time_edges = np.concatenate([[x[0] - (x[1] - x[0]) / 2 if len(x) > 1 else x[0] - 0.5],
                                     (x[1:] + x[:-1]) / 2,
                                     [x[-1] + (x[-1] - x[-2]) / 2 if len(x) > 1 else x[-1] + 0.5]])
        image = hist_ax.pcolormesh(time_edges, edges, density.T, cmap="magma",
                                   norm=PowerNorm(0.5, vmin=0, vmax=density.max() or 1))
        hist_ax.set(title=f"{name}: histogram over training")
        fig.colorbar(image, ax=hist_ax, pad=0.01, label="share of values")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    axes[0, 0].legend(fontsize=7, loc="best")
    axes[0, 2].legend(fontsize=7, loc="best")
    for ax in axes[:, 3]:
        ax.set_ylabel("weight value")
    every = int(np.diff(stats["iteration"]).min()) if len(x) > 1 else None
    when = f"every {every} iterations" if every else "once"
    fig.suptitle(f"{title or 'Layer statistics'}\nrecorded {when}; an update ratio near "
                 f"1e-3 is healthy (far above: learning rate too high; far below: too low)",
                 fontsize=12)
    return save(fig, path)

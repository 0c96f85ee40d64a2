"""Training pictures with matplotlib: learning curves, decision boundaries, weights.

Every function builds its own `Figure` (no pyplot global state, nothing shown on
screen), returns it, and saves it as a PNG when given `path=`.
"""

import math

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

CLASS_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _save(fig, path):
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def plot_learning_curves(history, path=None, title=None):
    """Loss and accuracy per epoch, training against validation."""
    if not history:
        raise ValueError("plot_learning_curves: the history is empty (train at least one epoch)")
    for key in ("epoch", "train_loss", "train_acc"):
        if key not in history[0]:
            raise ValueError(f"plot_learning_curves: each history row needs {key!r}; "
                             f"got keys {sorted(history[0])}")
    epochs = [row["epoch"] for row in history]
    fig = Figure(figsize=(10, 4), layout="constrained")
    for ax, what, label in zip(fig.subplots(1, 2), ("loss", "acc"), ("loss", "accuracy")):
        ax.plot(epochs, [row[f"train_{what}"] for row in history], "o-", ms=3, label="training")
        val = [row.get(f"val_{what}", math.nan) for row in history]
        if not all(math.isnan(v) for v in val):
            ax.plot(epochs, val, "s-", ms=3, label="validation")
        ax.set(xlabel="epoch", ylabel=label, title=f"{label} per epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or "Learning curves")
    return _save(fig, path)


def plot_decision_boundary(predict, X, y, ax=None, title=None, resolution=200):
    """The regions a classifier assigns to each class, with the training points."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points of shape (n, 2), got {X.shape}")
    fig = None
    if ax is None:
        fig = Figure(figsize=(5, 4.5), layout="constrained")
        ax = fig.add_subplot()
    pad = 0.5
    (x0, y0), (x1, y1) = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.c_[gx.ravel(), gy.ravel()].astype(X.dtype)
    regions = np.asarray(predict(grid)).reshape(gx.shape)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(regions)])).astype(int)
    colours = ListedColormap([CLASS_COLOURS[c % 10] for c in range(classes.max() + 1)])
    ax.contourf(gx, gy, regions, levels=np.arange(classes.max() + 2) - 0.5, cmap=colours,
                alpha=0.25)
    ax.contour(gx, gy, regions, levels=np.arange(classes.max() + 1) + 0.5, colors="k",
               linewidths=0.6)
    for c in np.unique(y):
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=14, color=CLASS_COLOURS[int(c) % 10],
                   edgecolor="k", linewidth=0.3, label=f"class {c}")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$", title=title or "")
    ax.legend(loc="lower right", fontsize=7, framealpha=0.8)
    return fig if fig is not None else ax.figure


def plot_decision_boundary_grid(panels, X, y, ncols=3, title=None, path=None):
    """One decision boundary per (title, predict) panel, over the same data."""
    if not panels:
        raise ValueError("plot_decision_boundary_grid: no panels")
    ncols = min(ncols, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(3.6 * ncols, 3.4 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax, (name, predict) in zip(axes, panels):
        plot_decision_boundary(predict, X, y, ax=ax, title=name, resolution=150)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title or "Decision boundaries")
    return _save(fig, path)


def plot_weight_images(W, path=None, shape=(28, 28), ncols=16, max_images=64, title=None):
    """Each hidden unit's incoming weights (a column of W) shown as an image."""
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != shape[0] * shape[1]:
        raise ValueError(f"plot_weight_images: W must have shape ({shape[0] * shape[1]}, hidden) "
                         f"to show {shape} images, got {W.shape}")
    n = min(W.shape[1], max_images)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(ncols * 0.8, nrows * 0.8 + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for k, ax in enumerate(axes):
        ax.set_axis_off()
        if k < n:
            img = W[:, k].reshape(shape)
            limit = np.abs(img).max() or 1.0        # each unit on its own symmetric scale
            ax.imshow(img, cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(title or f"First-layer weights: {n} of {W.shape[1]} hidden units "
                          f"(red positive, blue negative)")
    return _save(fig, path)


def plot_weight_histograms(params, path=None, title=None):
    """A histogram of the values of each weight matrix and bias vector."""
    if not params:
        raise ValueError("plot_weight_histograms: no parameters")
    names = list(params)
    ncols = 2
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(9, 2.8 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax, name in zip(axes, names):
        values = np.asarray(params[name]).ravel()
        ax.hist(values, bins=60, color="#4c72b0" if name.startswith("W") else "#dd8452")
        ax.set(title=f"{name} {np.shape(params[name])}: mean {values.mean():+.3f}, "
                     f"std {values.std():.3f}", xlabel="value", ylabel="count")
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(title or "Distribution of weights and biases, layer by layer")
    return _save(fig, path)


def plot_weight_heatmaps(params, path=None, title=None):
    """Each weight matrix as a heatmap (rows: inputs, columns: units), with a colour bar."""
    mats = {k: np.asarray(v) for k, v in params.items() if np.ndim(v) == 2}
    if not mats:
        raise ValueError("plot_weight_heatmaps: no weight matrices (2-D arrays) given")
    fig = Figure(figsize=(max(6.5, 4.2 * len(mats)), 4.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(mats)))
    for ax, (name, W) in zip(axes, mats.items()):
        limit = np.abs(W).max() or 1.0
        im = ax.imshow(W, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
                       interpolation="nearest")
        ax.set(title=f"{name} {W.shape}", xlabel="output unit", ylabel="input")
        fig.colorbar(im, ax=ax, shrink=0.8, label="weight")
    fig.suptitle(title or "Weight matrices")
    return _save(fig, path)

"""Training pictures with matplotlib: learning curves, decision boundaries, weights.

Every function builds its own `Figure` on the non-interactive Agg canvas (no pyplot,
no global state, nothing shown on screen, so nothing leaks from one call into the
next), returns it, and also writes it as a PNG when given `path=`.

One piece (some 450 lines) because its sections share the colours and the layout above
them: the course's figures look alike wherever they are drawn. A saved model's figures
(`draw_model_figures`) are its last section; `python -m viz.redraw` draws them.
"""

import math
import runpy
import sys
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from viz.figure import new_figure, save, subplot_grid

# one colour per class (matplotlib's tab10), cycled past ten classes
CLASS_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
TRAIN_COLOUR, VAL_COLOUR, TEST_COLOUR = "#1f77b4", "#ff7f0e", "#2ca02c"
WEIGHT_COLOUR, BIAS_COLOUR = "#4c72b0", "#dd8452"
DIVERGING = "RdBu_r"        # red positive, white zero, blue negative


# ---- learning curves ---------------------------------------------------------------

def plot_learning_curves(history, path=None, title=None, iterations=None,
                         steps_per_epoch=None, evaluations=None, epoch_0=None):
    """Loss and accuracy per epoch, training against validation, side by side.

    history: one dict per epoch with keys epoch, train_loss, train_acc and, if there
    is a validation set, val_loss and val_acc (as `models.train.loop.Run.history`); with
    train_sample_acc (accuracy on a training sample after the epoch) it is drawn too.
    iterations: every step's training loss (`Run.iterations.loss`), drawn light under
    the epoch means; steps_per_epoch places step i at epoch i / steps_per_epoch.
    evaluations: {"iteration": ..., "val_loss": ..., "val_acc": ..., "test_loss": ...,
    "test_acc": ...} arrays from evaluating every N iterations, drawn as points.
    epoch_0: {"train_acc", "val_acc"} measured before any step (the Solver's epoch 0),
    drawn at epoch 0 and joined to the first epoch's.
    """
    if not isinstance(history, (list, tuple)) or not history:
        raise ValueError("plot_learning_curves: history must be a non-empty list of "
                         "per-epoch dicts (train at least one epoch)")
    for i, row in enumerate(history):
        for key in ("epoch", "train_loss", "train_acc"):
            if not isinstance(row, dict) or key not in row:
                got = sorted(row) if isinstance(row, dict) else type(row).__name__
                raise ValueError(f"plot_learning_curves: each history row needs {key!r}; "
                                 f"row {i} has {got}")
    per_step = iterations is not None and len(iterations) > 0
    if (per_step or evaluations is not None) and not steps_per_epoch:
        raise ValueError("plot_learning_curves: per-iteration data needs steps_per_epoch "
                         "(iterations in one epoch) to place it on the epoch axis")

    def column(key):
        return np.array([np.nan if row.get(key) is None else float(row[key]) for row in history])

    epochs = column("epoch")
    # a running mean over an epoch describes its middle; a measurement after it, its end
    running_x = epochs - 0.5 if per_step else epochs
    running = "training (mean over the epoch)" if per_step else "training"
    fig = new_figure(11, 4.4)
    loss_ax, acc_ax = fig.subplots(1, 2)
    if per_step:
        steps = np.arange(1, len(iterations) + 1) / steps_per_epoch
        loss_ax.plot(steps, iterations, "-", lw=0.6, color=TRAIN_COLOUR, alpha=0.3,
                     label="training (each mini-batch)")
        # a few huge first losses should not flatten the rest of the curve
        top = max(np.nanpercentile(iterations, 99.5), np.nanmax(column("train_loss")))
        loss_ax.set_ylim(0, 1.08 * top)
    for ax, what, label in ((loss_ax, "loss", "loss"), (acc_ax, "acc", "accuracy")):
        ax.plot(running_x, column(f"train_{what}"), "o-", ms=3, color=TRAIN_COLOUR,
                label=running)
        sample = column(f"train_sample_{what}")
        if not np.isnan(sample).all():
            ax.plot(epochs, sample, "^--", ms=4, color=TRAIN_COLOUR,
                    label="training (sample, after the epoch)")
        val = column(f"val_{what}")
        if not np.isnan(val).all():
            ax.plot(epochs, val, "s-", ms=3, color=VAL_COLOUR, label="validation")
        if evaluations is not None and len(evaluations["iteration"]):
            at = np.asarray(evaluations["iteration"]) / steps_per_epoch
            for split, colour, marker, name in (
                    ("val", VAL_COLOUR, "x", "validation, every"),
                    ("test", TEST_COLOUR, "+", "test (not for choosing), every")):
                values = np.asarray(evaluations.get(f"{split}_{what}", ()), dtype=float)
                if values.size and not np.isnan(values).all():
                    every = int(evaluations["iteration"][0])
                    ax.plot(at, values, marker, ms=6, mew=1.5, color=colour,
                            label=f"{name} {every} iterations")
        ax.set(xlabel="epoch", ylabel=label, title=f"{label} per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if per_step:
            ax.set_xlim(0, max(steps[-1], epochs[-1]) + 0.2)
            top_axis = ax.secondary_xaxis("top", functions=(
                lambda e: e * steps_per_epoch, lambda i: i / steps_per_epoch))
            top_axis.set_xlabel("iteration", fontsize=8)
            top_axis.tick_params(labelsize=7)

    if epoch_0:
        for key, after, colour, marker in (("train_acc", "train_sample_acc", TRAIN_COLOUR, "^"),
                                           ("val_acc", "val_acc", VAL_COLOUR, "s")):
            if epoch_0.get(key) is not None:
                first = column(after)[0]
                acc_ax.plot([0, epochs[0]], [epoch_0[key], first], ":", color=colour, lw=1)
                acc_ax.plot(0, epoch_0[key], marker, ms=6, color=colour, mfc="white")
        acc_ax.plot([], [], "o", color="0.4", mfc="white", label="before training (epoch 0)")
        acc_ax.set_xlim(left=-0.2)
    val_acc = column("val_acc")
    if not np.isnan(val_acc).all():      # the epoch one would keep (early stopping)
        best = int(np.nanargmax(val_acc))
        acc_ax.plot(epochs[best], val_acc[best], "*", ms=13, color=VAL_COLOUR, mec="k",
                    label=f"best validation: {val_acc[best]:.4f} (epoch {epochs[best]:g})")
    loss_ax.legend(loc="upper right", fontsize=8)
    acc_ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(title or "Learning curves")
    return save(fig, path)


# ---- decision boundaries -----------------------------------------------------------

def _class_ids(predict, points):
    """predict(points) as one class id per point; scores or probabilities (n, K) are arg-maxed."""
    out = np.asarray(predict(points))
    if out.ndim == 2 and out.shape[0] == len(points):
        out = out.argmax(axis=1)
    if out.shape != (len(points),):
        raise ValueError(f"plot_decision_boundary: predict must map ({len(points)}, 2) points "
                         f"to {len(points)} class ids, got an array of shape {out.shape}")
    return out.astype(int)


def plot_decision_boundary(predict, X, y, ax=None, title=None, resolution=200, path=None,
                           legend=True):
    """The regions a classifier gives each class, its boundaries, and the training points.

    predict maps an (n, 2) array of points to n class ids (ints). Works for any number of
    classes. Draws into `ax` if given (returns its figure), else into a new figure.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points of shape (n, 2), got {X.shape}")
    if y.shape != (len(X),):
        raise ValueError(f"plot_decision_boundary: y must hold one label per point, shape "
                         f"({len(X)},); got {y.shape}")
    fig = ax.figure if ax is not None else new_figure(5.2, 4.6)
    if ax is None:
        ax = fig.add_subplot()

    # a grid over the data, with a margin; float32 data gets a float32 grid (the model's dtype)
    margin = 0.1 * np.ptp(X, axis=0) + 0.25
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    dtype = X.dtype if X.dtype.kind == "f" else np.float64
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(dtype)
    regions = _class_ids(predict, grid).reshape(gx.shape)

    labels = np.unique(y).astype(int)
    n_colours = max(regions.max(), labels.max()) + 1
    colours = ListedColormap([CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(n_colours)])
    levels = np.arange(n_colours + 1) - 0.5            # class c fills the band (c − ½, c + ½)
    ax.contourf(gx, gy, regions, levels=levels, cmap=colours, alpha=0.28)
    if len(np.unique(regions)) > 1:
        ax.contour(gx, gy, regions, levels=levels[1:-1], colors="k", linewidths=0.8)
    for c in labels:
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=16, color=CLASS_COLOURS[c % len(CLASS_COLOURS)],
                   edgecolor="white", linewidth=0.5, label=f"class {c}")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$")
    ax.set_title(title or "Decision boundary", fontsize=10)
    if legend:
        ax.legend(loc="best", fontsize=8, framealpha=0.85)
    return save(fig, path)


def plot_decision_boundary_grid(panels, X, y, ncols=3, title=None, path=None, resolution=150,
                                row_labels=None, col_labels=None):
    """One decision boundary per (title, predict) panel, all over the same points X, y.

    For a sweep, e.g. activation (rows) × hidden units (columns): pass the panels row by
    row, ncols = the number of columns, and optionally `row_labels` (written left of
    each row) and `col_labels` (above each column). One legend serves every panel.
    """
    if not panels:
        raise ValueError("plot_decision_boundary_grid: no panels (expected a list of "
                         "(title, predict) pairs)")
    for i, panel in enumerate(panels):
        if not (isinstance(panel, (tuple, list)) and len(panel) == 2 and callable(panel[1])):
            raise ValueError(f"plot_decision_boundary_grid: panel {i} must be a pair "
                             f"(title, predict), got {panel!r}")
    ncols = max(1, min(ncols, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    for labels, n, what in ((row_labels, nrows, "row"), (col_labels, ncols, "column")):
        if labels is not None and len(labels) != n:
            raise ValueError(f"plot_decision_boundary_grid: {len(labels)} {what} labels "
                             f"for {n} {what}s")
    fig = new_figure(3.6 * ncols + (0.5 if row_labels else 0), 3.3 * nrows + 0.6)
    axes = subplot_grid(fig, len(panels), ncols)
    for k, (ax, (name, predict)) in enumerate(zip(axes, panels)):
        row, col = divmod(k, ncols)
        if col_labels is not None and row == 0:
            name = f"{col_labels[col]}\n{name}"
        plot_decision_boundary(predict, X, y, ax=ax, title=name, resolution=resolution,
                               legend=False)
        if "DIVERGED" in name:                       # a blown-up net: framed in red
            for spine in ax.spines.values():
                spine.set(color="#d62728", linewidth=3)
            ax.title.set_color("#d62728")
        ax.label_outer()                             # axis labels on the outer panels only
        if row_labels is not None and col == 0:
            ax.set_ylabel(f"{row_labels[row]}\n$x_2$", fontsize=11)
    labels = np.unique(np.asarray(y)).astype(int)
    handles = [Line2D([], [], ls="", marker="o", ms=6, mec="white",
                      color=CLASS_COLOURS[c % len(CLASS_COLOURS)]) for c in labels]
    fig.legend(handles, [f"class {c}" for c in labels], loc="outside lower center",
               ncols=len(labels), frameon=False)
    # wrapped to the figure's width: one or two columns are narrow (about 11 characters
    # of the default title font per inch)
    width = fig.get_size_inches()[0]
    fig.suptitle(textwrap.fill(title or "Decision boundaries", max(24, int(width * 11))))
    return save(fig, path)


def plot_points(X, y, path=None, title=None):
    """The data alone: a scatter of the 2-D points, coloured by class."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (len(X),):
        raise ValueError(f"plot_points needs points of shape (n, 2) and one label each, "
                         f"got X {X.shape} and y {y.shape}")
    fig = new_figure(5.2, 4.6)
    ax = fig.add_subplot()
    for c in np.unique(y).astype(int):
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=18, color=CLASS_COLOURS[c % len(CLASS_COLOURS)],
                   edgecolor="white", linewidth=0.5, label=f"class {c} ({len(pts)} points)")
    ax.set(xlabel="$x_1$", ylabel="$x_2$")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    fig.suptitle(title or f"The data: {len(X)} points")
    return save(fig, path)


# ---- weights -------------------------------------------------------------------------

def plot_weight_images(W, path=None, shape=(28, 28), ncols=8, max_images=32, title=None,
                       name=None, labels=None, initial=None, largest=None):
    """Each column of W (one unit's incoming weights) as a shape[0]×shape[1] image.

    For the first layer, W1 (784, hidden): what each hidden unit looks for in the image.
    For the last layer, W (hidden, 10) with `labels` = the class names: what each class
    wants from the hidden units, the hidden layer laid out as a grid (report 004).

    largest (default: when there are no labels) shows the `max_images` columns with the
    largest norm, strongest first; otherwise the first ones, in order. With `initial`
    (W at initialisation) each image is what training changed, W − W₀: a wide net's units
    start as random noise about as large as all they then learn, so W alone looks like
    noise while W − W₀ shows the templates. All images share one colour scale (red
    positive, blue negative, white zero) whose numbers are on the colour bar; each tile
    is titled with its column and norm, or its label. name: the matrix's name ("W1").
    """
    W = np.asarray(W, dtype=np.float64)
    pixels = shape[0] * shape[1]
    if W.ndim != 2 or W.shape[0] != pixels:
        raise ValueError(f"plot_weight_images: W must have shape ({pixels}, hidden) to show "
                         f"{shape[0]}×{shape[1]} images, got {W.shape}")
    if W.shape[1] == 0:
        raise ValueError(f"plot_weight_images: W {W.shape} has no hidden units to show")
    if initial is not None:
        initial = np.asarray(initial, dtype=np.float64)
        if initial.shape != W.shape:
            raise ValueError(f"plot_weight_images: initial must have W's shape {W.shape}, "
                             f"got {initial.shape}")
        W = W - initial
    n = min(W.shape[1], max_images)
    if labels is not None and len(labels) < n:
        raise ValueError(f"plot_weight_images: {len(labels)} labels for {n} images")
    largest = labels is None if largest is None else largest
    norms = np.linalg.norm(W, axis=0)
    units = np.argsort(-norms, kind="stable")[:n] if largest else np.arange(n)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    size = 1.05 if labels is None else 1.3          # room for a class name over each
    fig = new_figure(size * ncols + 1.4, (size + 0.05) * nrows + 1.4)
    # one scale for all, robust to a few extreme pixels (beyond it, colours saturate)
    limit = float(np.percentile(np.abs(W[:, units]), 99.5)) or 1.0
    image = None
    for ax, k in zip(subplot_grid(fig, n, ncols), units):
        image = ax.imshow(W[:, k].reshape(shape), cmap=DIVERGING, vmin=-limit, vmax=limit,
                          interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{k}: {labels[k]}" if labels is not None else f"{k}: {norms[k]:.2f}",
                     fontsize=7 if labels is None else 8, pad=2)
    what = "change since initialisation, W − W₀" if initial is not None else "weight"
    bar = fig.colorbar(image, ax=fig.axes, shrink=0.85, aspect=30, pad=0.01)
    bar.set_label(what, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    columns = "classes" if labels is not None else "units"
    which = (f"the {n} {columns} with the largest ‖{'W − W₀' if initial is not None else 'w'}‖"
             if largest else f"{columns} 0–{n - 1}") + f" of {W.shape[1]}"
    tile = "" if labels is not None else " (tile: unit and norm)"
    if name:
        default = f"{name} {W.shape}, each column as a {shape[0]}×{shape[1]} image: {which}{tile}"
    else:
        default = (f"First-layer {'learning' if initial is not None else 'weights'} as "
                   f"{shape[0]}×{shape[1]} images: {which}{tile}")
    fig.suptitle(title or default, fontsize=10)
    if initial is not None:
        fig.supxlabel("Red: pixels whose weight training raised, blue: lowered. The random "
                      "start is taken\naway: in a wide net it is noise as large as all that "
                      "is learned, and hides it.", fontsize=8, color="0.3")
    elif labels is None and shape == (28, 28):
        fig.supxlabel("Each unit starts as random noise; in a wide net each learns a small "
                      "part, so its\nweights stay close to that noise. Show W − W₀ "
                      "(initial=) to see what was learned.", fontsize=8, color="0.3")
    return save(fig, path)

def grid_shape(n):
    """The most nearly square (rows, columns) with rows × columns = n: 64 → (8, 8)."""
    rows = math.isqrt(n)
    while n % rows:
        rows -= 1
    return rows, n // rows


def _named_arrays(params, what):
    if not isinstance(params, dict) or not params:
        raise ValueError(f"{what}: params must be a non-empty dict of name -> array, "
                         f"e.g. {{'W1': ..., 'b1': ...}}")
    arrays = {name: np.asarray(value) for name, value in params.items()}
    empty = [name for name, a in arrays.items() if a.size == 0]
    if empty:
        raise ValueError(f"{what}: empty arrays have nothing to draw: {empty}")
    return arrays


def plot_weight_histograms(params, path=None, title=None, bins=60):
    """A histogram of the values in each weight matrix and bias vector, layer by layer.

    params: a dict name -> array in layer order (W1, b1, W2, b2, ...): two per row, so a
    layer's weights and bias sit side by side.
    """
    arrays = _named_arrays(params, "plot_weight_histograms")
    fig = new_figure(9, 2.6 * math.ceil(len(arrays) / 2) + 0.5)
    for ax, (name, values) in zip(subplot_grid(fig, len(arrays), 2), arrays.items()):
        flat = values.ravel()
        is_weight = values.ndim >= 2
        # fewer bins for a short bias vector, so its histogram is not mostly gaps
        ax.hist(flat, bins=min(bins, max(8, 2 * math.isqrt(flat.size))),
                color=WEIGHT_COLOUR if is_weight else BIAS_COLOUR, edgecolor="white", linewidth=0.3)
        ax.axvline(0, color="k", lw=0.6, alpha=0.5)
        kind = "weights" if is_weight else "biases"
        ax.set(title=f"{name} {values.shape}: {kind}", xlabel="value", ylabel="count")
        ax.text(0.98, 0.95, f"mean {flat.mean():+.3g}\nstd {flat.std():.3g}",
                transform=ax.transAxes, ha="right", va="top", fontsize=8,
                bbox=dict(boxstyle="round", fc="white", ec="0.8", alpha=0.9))
        ax.grid(alpha=0.3)
    fig.suptitle(title or "Distribution of weights and biases, layer by layer")
    return save(fig, path)


def plot_weight_heatmaps(params, path=None, title=None, ncols=3):
    """Each weight matrix as a heatmap (rows: inputs, columns: units), with a colour bar.

    params: a dict name -> array; only the 2-D arrays (weight matrices) are drawn.
    """
    arrays = _named_arrays(params, "plot_weight_heatmaps")
    matrices = {name: W for name, W in arrays.items() if W.ndim == 2}
    if not matrices:
        raise ValueError(f"plot_weight_heatmaps: no weight matrices (2-D arrays) among "
                         f"{ {name: a.shape for name, a in arrays.items()} }")
    ncols = max(1, min(ncols, len(matrices)))
    fig = new_figure(max(6.5, 4.3 * ncols), 4.4 * math.ceil(len(matrices) / ncols) + 0.4)
    for ax, (name, W) in zip(subplot_grid(fig, len(matrices), ncols), matrices.items()):
        limit = float(np.abs(W).max()) or 1.0    # symmetric: white is exactly zero
        image = ax.imshow(W, cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto",
                          interpolation="nearest")
        ax.set(title=f"{name} {W.shape}", xlabel="output unit (column)",
               ylabel="input (row)")
        # a few round ticks: 784 rows or 1024 columns must not print a crowd of labels
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.tick_params(labelsize=8)
        fig.colorbar(image, ax=ax, shrink=0.85, label="weight")
    fig.suptitle(title or "Weight matrices (red positive, blue negative)")
    return save(fig, path)


# ---- a saved model's figures (python -m viz.redraw draws them from the command line) ------

def draw_model_figures(params, out, class_names=None, image_shape=(28, 28), units=32,
                       initial=None):
    """The pictures of a saved model's parameters, written into `out`; returns their paths.

    weights_<name>.png  the first matrix with one row per pixel, each unit as an image;
                        4-D convolution kernels, each filter as an image; the last matrix,
                        one image per class (titled with `class_names`) over the hidden units
    histograms.png      every parameter's values
    heatmaps.png        every weight matrix
    params: {name: array} in layer order (W1, b1, W2, b2, ... for the MLP).
    units: how many of the first layer's units to show (0: all of them, in order, as
    report 004 shows W1); initial: {name: array} at initialisation, to show the first
    layer as W − W₀ (what training changed) instead of the raw weights.
    """
    out = Path(out)
    arrays = _named_arrays(params, "draw_model_figures")
    matrices = [name for name, a in arrays.items() if a.ndim == 2]
    kernels = [name for name, a in arrays.items() if a.ndim == 4]
    if not matrices and not kernels:
        raise ValueError(f"no weight matrices or convolution kernels among "
                         f"{ {name: a.shape for name, a in arrays.items()} }")
    written = []
    pixels = image_shape[0] * image_shape[1]
    n_classes = len(class_names) if class_names is not None else None
    for name in kernels:                     # (out, in, kh, kw): filter k, input channel 0
        K = arrays[name]
        plot_weight_images(K[:, 0].reshape(len(K), -1).T, path=out / f"weights_{name}.png",
                           shape=K.shape[2:], name=name, ncols=8,
                           title=f"{name} {K.shape}: each filter (input channel 0) as a "
                                 f"{K.shape[2]}×{K.shape[3]} image\n(red positive, blue negative)")
        written.append(out / f"weights_{name}.png")
    first = matrices[0] if matrices else None
    if first is not None and arrays[first].shape[0] == pixels:
        W = arrays[first]
        labels = class_names if len(matrices) == 1 and W.shape[1] == n_classes else None
        shown = W.shape[1] if not units or labels is not None else min(units, W.shape[1])
        plot_weight_images(W, path=out / f"weights_{first}.png", shape=image_shape,
                           name=f"{first} (first layer)", labels=labels,
                           ncols=5 if labels is not None else min(20, max(8, math.isqrt(shown))),
                           max_images=shown, largest=False if not units else None,
                           initial=None if initial is None else initial.get(first))
        written.append(out / f"weights_{first}.png")
    last = matrices[-1] if len(matrices) > 1 or (matrices and kernels) else None
    if last is not None:
        W = arrays[last]
        rows, cols = grid_shape(W.shape[0])
        labels = class_names if W.shape[1] == n_classes else None
        plot_weight_images(W, path=out / f"weights_{last}.png", shape=(rows, cols),
                           name=last, labels=labels, ncols=5,
                           title=f"{last} {W.shape}, the last layer: each "
                                 f"{'class' if labels else 'output'}'s weights on its "
                                 f"{W.shape[0]} inputs,\nlaid out {rows}×{cols} "
                                 f"(red positive, blue negative)")
        written.append(out / f"weights_{last}.png")
    plot_weight_histograms(arrays, path=out / "histograms.png")
    written.append(out / "histograms.png")
    if matrices:
        plot_weight_heatmaps({name: arrays[name] for name in matrices},
                             path=out / "heatmaps.png")
        written.append(out / "heatmaps.png")
    return written


if __name__ == "__main__":
    # `python -m viz.plots RUN_DIR` was the figure command before the layout change moved it
    # to viz.redraw; the old spelling still works (run as that module, by name: viz.redraw
    # imports this one), and says where it went
    print("note: python -m viz.plots is now python -m viz.redraw (running it)", file=sys.stderr)
    runpy.run_module("viz.redraw", run_name="__main__", alter_sys=True)

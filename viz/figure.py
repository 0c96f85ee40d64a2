"""What every figure of viz/ starts and ends with: a Figure drawn by Agg, saved atomically."""

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from models.io.files import save_figure


def new_figure(width, height):
    """A constrained-layout Figure of width × height inches, drawn with Agg whatever
    pyplot's backend is (no window, no global state)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig, path, dpi=110):
    """Write the figure atomically (a temporary file renamed into place): a run killed
    while drawing never leaves a 0-byte or half-written PNG under the real name. With
    path None nothing is written. Returns the figure."""
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig


def subplot_grid(fig, n, ncols):
    """n axes in rows of ncols; spare cells of the last row are hidden."""
    ncols = max(1, min(ncols, n))
    axes = np.atleast_1d(fig.subplots(math.ceil(n / ncols), ncols)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return axes[:n]

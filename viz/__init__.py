"""Pictures: computation graphs (graphviz) and training plots (matplotlib).

- `graph.py`   `draw(tensor_or_tape)` → a graphviz.Digraph; `render(graph, path)` with `dot`
- `sweep.py`   the reverse sweep as a table: each entry's incoming gradient (adjoint)
- `figure.py`  what every figure starts and ends with: `new_figure`, `save` (atomic)
- `plots.py`   learning curves, decision boundaries, weight images, histograms, heatmaps
- `stats_figure.py`  stats.png: each layer's statistics and weight histogram over training
- `experiments.py`  an experiment's figures (accuracy per parameter, heatmaps, curves)
- `redraw.py`  `python -m viz.redraw RUN_DIR_OR_MODEL.npz` draws a saved run's figures again

The names below are imported on first use, not here: `python -m viz.graph` then runs
viz/graph.py once, as the command, rather than after importing it as a module.
"""

import importlib

_NAMES = {"draw": "graph", "render": "graph", "GraphvizMissing": "graph",
          "sweep_table": "sweep", "format_sweep": "sweep"}

__all__ = list(_NAMES)


def __getattr__(name):
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")

"""Pictures: computation graphs (graphviz) and training plots (matplotlib).

- `graph.py`   `draw(tensor_or_tape)` → a graphviz.Digraph; `render(graph, path)` with `dot`
- `sweep.py`   the reverse sweep as a table: each entry's incoming gradient (adjoint)
- `plots.py`   learning curves, decision boundaries, weight images, histograms, heatmaps;
               `python -m viz.plots RUN_DIR_OR_MODEL.npz` draws a saved model's weights
- `layer_stats.py`  stats.png: each layer's statistics and weight histogram over training
"""

from .graph import GraphvizMissing, draw, render
from .sweep import format_sweep, sweep_table

__all__ = ["draw", "render", "GraphvizMissing", "sweep_table", "format_sweep"]

"""Tutorials, in order; each runs as `python -m tutorials.NAME` and opens as a notebook
(jupytext "percent" format: `# %%` code cells, `# %% [markdown]` text cells).

1. scalars              — a scalar expression, its graph, the printed tape, the reverse sweep by hand
2. backprop_by_hand     — dW = XᵀΔ and a − y derived, computed with numpy, checked against the tape
3. decision_boundaries  — make_moons / make_blobs, boundaries by activation, width and depth
4. mnist                — the two-layer net on an MNIST-style subset: training, curves, weights
5. convolution          — conv2d as im2col + matmul; its backward derived by hand, checked
6. layer_statistics     — a healthy and a diverging run read through their layer statistics
"""

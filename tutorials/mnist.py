# %% [markdown]
# # 4. The two-layer network on MNIST
#
# The network of the course reports — 784 inputs, one hidden ReLU layer, 10 outputs,
# softmax cross-entropy, SGD with momentum and L2 — trained with the same code that
# `python -m models.twolayer` runs, on a subset so that it takes seconds.
#
# MNIST is downloaded on first use. Where there is no network (as on the machines this
# project is tested on), the tutorial uses Fashion-MNIST from Debian's package instead.

# %%
import numpy as np

from models.manual.three_ways import compare, format_table
from models.data.datasets import load_dataset
from models.train.config import Config, build_model
from models.train.loop import Run
from models.train.losses import evaluate
from tutorials.output import setup, show
from viz.plots import (plot_learning_curves, plot_weight_heatmaps, plot_weight_histograms,
                       plot_weight_images)

out, fast = setup("mnist")
try:
    dataset = "mnist"
    splits = load_dataset(dataset, download=False)
except (OSError, ValueError):
    dataset = "fashion-mnist"
    splits = load_dataset(dataset, download=False)
train_size = 3000 if fast else 15000
print(f"dataset: {dataset}; training on {train_size} of {len(splits.x_train)} images")
splits = splits._replace(x_train=splits.x_train[:train_size], y_train=splits.y_train[:train_size])

# %% [markdown]
# ## Training
#
# One row per epoch: the learning rate (a cosine schedule), the loss and accuracy seen
# during the epoch, and on the held-out validation set.

# %%
config = Config(dataset=dataset, hidden=[256], epochs=4 if fast else 12, lr=0.05, l2=1e-4)
run = Run(config)
run.fit(splits, progress=False)
run.model.load_state_dict(run.best["params"])
test_loss, test_acc = evaluate(run.model, splits.x_test, splits.y_test)
print(f"test accuracy {test_acc:.4f}, test loss {test_loss:.4f} "
      f"(best validation epoch {run.best['epoch']})")

# %% [markdown]
# ## Learning curves
#
# The training loss keeps falling; the validation loss flattens — the gap is overfitting,
# which the course reports watch for to stop early or to pick the L2 strength.

# %%
show(plot_learning_curves(run.history, path=out / "curves.png",
                          title=f"{dataset}, {train_size} training images: MLP [784, 256, 10]"))

# %% [markdown]
# ## What the first layer learned
#
# Each hidden unit's 784 incoming weights, shown as a 28×28 image. Drawn as they are,
# they look like noise: every unit starts from random weights (He: standard deviation
# $\sqrt{2/784} \approx 0.05$ per pixel), and in a net of 256 units each one moves only a
# little from there. Taking the start away, $W - W_0$, shows what training put in:
# strokes and outlines that the unit responds to (red) or against (blue). The tiles are
# the units that changed most; each is titled with its index and $\|W - W_0\|$.

# %%
params = run.model.state_dict()
initial = build_model(config).state_dict()["W1"]       # the same seed: the same W₀
show(plot_weight_images(params["W1"], path=out / "weights_raw.png", max_images=16))
show(plot_weight_images(params["W1"], initial=initial, path=out / "weights.png"))
show(plot_weight_histograms(params, path=out / "histograms.png"))
show(plot_weight_heatmaps({"W2": params["W2"]}, path=out / "heatmap_W2.png",
                          title="Second layer: hidden units (rows) → classes (columns)"))

# %% [markdown]
# ## Hand-derived gradients against the tape
#
# `models/manual/formulas.py` implements the course's formulas (dW = XᵀΔ, a − y) in numpy.
# On one batch, in float64, they agree with the tape and with finite differences.

# %%
rows = compare(splits.x_train[:32].astype(np.float64), splits.y_train[:32], hidden=[32])
print(format_table(rows))
assert max(max(r["manual_vs_tape"], r["tape_vs_finite_diff"]) for r in rows) < 1e-6
print(f"figures written to {out}")

# %% [markdown]
# # 6. Reading the layer statistics of a healthy and of a diverging run
#
# A loss curve says *that* a run goes wrong; the statistics of each layer say *where* and
# *how*. Report 003 watched the min, max and standard deviation of every layer's weights
# and biases while a network trained. Here we record them — with
# `models.train.layer_statistics.LayerStatistics`, the callback behind `--stats-every` — for two runs
# of the same two-layer net that differ only in the learning rate, and read them side by
# side:
#
# * the **update ratio** $\|\Delta\theta\| / \|\theta\|$: how far one step moves a
#   parameter, relative to its size. About $10^{-3}$ is healthy; far above, the learning
#   rate throws the weights about; far below, nothing is learnt.
# * the **gradients** $\partial L/\partial\theta$: in a healthy run their spread stays
#   about level; a spike followed by a collapse to zero means units have died;
# * the **weights**: their distribution widens slowly as the net learns; a diverging run
#   spreads it ten- to a hundredfold within a few dozen steps.

# %%
import numpy as np
from matplotlib.figure import Figure

from models.data.datasets import load_dataset
from models.train.layer_statistics import LayerStatistics
from models.train.config import Config
from models.train.divergence import Diverged
from models.train.loop import Run
from tutorials.output import setup, show, written_atomically
from viz.stats_figure import HEALTHY_RATIO, plot_layer_statistics

out, fast = setup("layer_statistics")
try:
    dataset = "mnist"
    splits = load_dataset(dataset, download=False, val_size=1000)
except (OSError, ValueError):
    dataset = "fashion-mnist"
    splits = load_dataset(dataset, download=False, val_size=1000)
train_size = 2000 if fast else 10000
splits = splits._replace(x_train=splits.x_train[:train_size], y_train=splits.y_train[:train_size])
print(f"dataset: {dataset}; training on {train_size} images")

# %% [markdown]
# ## Two runs, one difference
#
# The same network, `MLP([784, 64, 10])` with He initialisation, SGD with momentum 0.9 on
# mini-batches of 64, recorded every 2 steps. The healthy run uses lr 0.05 (the default);
# the other 16 times that, lr 0.8. (At lr 1.0 and above the loss explodes within three
# steps and training stops at once, before there is much to read; 0.8 fails more slowly.)

# %%
def train(lr, epochs):
    config = Config(dataset=dataset, hidden=[64], lr=lr, epochs=epochs, batch_size=64,
                    schedule="constant", l2=1e-4)
    stats = LayerStatistics(every=2)
    run = Run(config, callbacks=[stats])
    try:
        run.fit(splits, progress=False, log=print)
        ending = f"finished {run.epoch} epochs, validation accuracy {run.history[-1]['val_acc']:.3f}"
    except Diverged as error:
        ending = f"stopped: {error}"
    print(f"lr {lr:g}: {ending}")
    return run, stats.arrays()


healthy, healthy_stats = train(0.05, epochs=2 if fast else 4)
diverging, diverging_stats = train(0.8, epochs=2 if fast else 4)

# %% [markdown]
# ## The healthy run
#
# One row per parameter. Read the third column first: the update ratio of $W_1$ and $W_2$
# stays steady around $10^{-2}$ — ten times the rule of thumb, as momentum 0.9 makes each
# step up to ten gradient steps long — and it does not climb. The gradients' mean stays
# at zero and their spread stays about the same; the spread of the weights barely moves
# (in a wide layer each weight changes only a little, see lesson 4) and their histogram
# keeps its shape. The biases start at zero and spread out as they learn, which is why
# their ratio starts high and falls.

# %%
steps = healthy.steps_per_epoch
show(plot_layer_statistics(healthy_stats, steps, path=out / "healthy.png",
                           title=f"Healthy: lr 0.05, {dataset}, MLP [784, 64, 10]"))

# %% [markdown]
# ## The diverging run
#
# The same picture at lr 0.8. In the first steps the update ratio of $W_1$ is 0.2–0.7:
# each step moves the weights by a large part of their own size, hundreds of times the
# healthy rate. The min / max lines of the weights fan out and the histogram smears: the
# spread of $W_1$ grows about tenfold. Then the gradients collapse: with weights that
# large, most ReLU units end up negative for every image and pass no gradient back (dead
# units), so the ratio falls again — not because the run recovered, but because nothing
# but the L2 decay moves the weights any more (its ratio: lr·λ/(1 − μ) = 0.8·10⁻⁴/0.1
# ≈ 8·10⁻⁴, where the curve levels off). The loss never becomes NaN, yet the accuracy
# is at chance.

# %%
show(plot_layer_statistics(diverging_stats, diverging.steps_per_epoch,
                           path=out / "diverging.png",
                           title=f"Diverging: lr 0.8, {dataset}, MLP [784, 64, 10]"))


# %% [markdown]
# ## Side by side: the numbers to look at
#
# For each parameter: the largest update ratio, how much the spread (std) of its weights
# and of its gradients changed from the first record to the last, and the share of hidden
# units that no longer pass any gradient. Biases start at zero, so their ratio is large
# at first in any run; the weight matrices are what to read.

# %%
def summary(stats, name):
    ratio = stats[f"{name}/update_ratio"]
    weight_std, grad_std = stats[f"{name}/weight_std"], stats[f"{name}/grad_std"]
    return (float(np.nanmax(ratio[np.isfinite(ratio)])), weight_std[-1] / weight_std[0],
            grad_std[-1] / grad_std[0])


def dead_units(run):
    """Hidden units whose ReLU is off (z ≤ 0) for every validation image."""
    W1, b1 = run.model.layers[0].W.data, run.model.layers[0].b.data
    return float(((splits.x_val @ W1 + b1) <= 0).all(axis=0).mean())


print(f"{'param':<6} {'run':<10} {'max ‖Δθ‖/‖θ‖':>13} {'weight std ×':>13} {'grad std ×':>11}")
for name in ("W1", "b1", "W2", "b2"):
    for label, stats in (("healthy", healthy_stats), ("diverging", diverging_stats)):
        ratio, weight_growth, grad_growth = summary(stats, name)
        print(f"{name:<6} {label:<10} {ratio:>13.2e} {weight_growth:>13.3g} {grad_growth:>11.3g}")
for label, run in (("healthy", healthy), ("diverging", diverging)):
    print(f"{label}: {dead_units(run):.0%} of the hidden units are dead; validation accuracy "
          f"{run.history[-1]['val_acc']:.3f}")
assert summary(diverging_stats, "W1")[0] > 10 * summary(healthy_stats, "W1")[0]
assert summary(diverging_stats, "W1")[1] > 3 > summary(healthy_stats, "W1")[1]


# %% [markdown]
# ## One plot to keep in mind
#
# The update ratio of $W_1$ in both runs, on one log axis, over the iterations. A healthy
# run stays level, near the dashed line; a ratio that starts two orders of magnitude above
# it and then sinks below it is a run that blew up its weights and then died — lower the
# learning rate. Its loss never became NaN, so only the statistics (or the accuracy at
# chance) say so.

# %%
fig = Figure(figsize=(8, 4), layout="constrained")
ax = fig.add_subplot()
for label, stats, colour in (("healthy, lr 0.05", healthy_stats, "#55a868"),
                             ("diverging, lr 0.8", diverging_stats, "#c44e52")):
    ratio = stats["W1/update_ratio"]
    ax.plot(stats["iteration"], np.where(ratio > 0, ratio, np.nan), "o-", ms=3, color=colour,
            label=label)
ax.axhline(HEALTHY_RATIO, color="k", ls="--", lw=0.8, label="1e-3 (healthy)")
ax.set(yscale="log", xlabel="iteration", ylabel="‖ΔW1‖ / ‖W1‖",
       title="Update ratio of the first layer: healthy against diverging")
ax.grid(alpha=0.3)
ax.legend()
with written_atomically(out / "update_ratio.png") as path:
    fig.savefig(path, dpi=110)
show(fig)
print(f"figures written to {out}")

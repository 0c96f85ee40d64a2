# %% [markdown]
# # 3. Decision boundaries on make_moons and make_blobs
#
# A small network draws a boundary between classes in the plane. How does that
# boundary depend on the activation, on the width of the hidden layer, on depth?
# These are the experiments of the course report on "three_layer_neural_network.py",
# with every network built from tape operations and the data from scikit-learn's
# `make_moons` / `make_blobs`, the report's own calls. (To run the report's grids exactly —
# plain gradient descent, L2 0.01 — from the command line: `python -m models.toy`.)

# %%
import numpy as np
from matplotlib import animation
from matplotlib.figure import Figure
from sklearn.datasets import make_blobs, make_moons

import tape
from models.nn import MLP
from models.optim import Adam
from tutorials.output import compiling, setup, show, written_atomically
from viz.plots import plot_decision_boundary, plot_decision_boundary_grid

out, fast = setup("decision_boundaries")
compiled = compiling()               # --no-compile: the eager tape at every step
steps = 300 if fast else 2000
frames = 12 if fast else 40          # snapshots in the training animation

X_moons, y_moons = make_moons(200, noise=0.20, random_state=0)
X_blobs, y_blobs = make_blobs(300, centers=4, cluster_std=1.6, random_state=3)
X_moons, X_blobs = X_moons.astype(np.float32), X_blobs.astype(np.float32)

# %% [markdown]
# ## A classifier from tape operations
#
# `MLP([2, h, K])` is Linear → activation → Linear; the loss is softmax
# cross-entropy; Adam takes full-batch steps.
#
# Every step records the same tape, so `tape.compile` records it once, writes it out as
# numpy source — the forward, then the backward pass — and replays that source at every
# later step: the same numbers to the last digit, several times faster (lesson 8 reads
# the source). Run the lesson with `--no-compile` to take every step on the tape itself.

# %%
def train(X, y, hidden, activation, steps=steps, lr=0.02, seed=0, snapshots=None):
    model = MLP([2, *hidden, int(y.max()) + 1], activation, init="xavier", seed=seed)
    optimizer = Adam(model.parameters(), lr=lr)

    def loss_of(X, y):
        return tape.cross_entropy(model(X), y)
    step_on = tape.compile(loss_of, parameters=model) if compiled else None
    for step in range(steps):
        optimizer.zero_grad()
        if step_on is not None:
            loss = step_on(X, y)         # the loss; the gradients are added into p.grad
        else:
            loss = loss_of(X, y)
            loss.backward()
            loss = loss.data
        optimizer.step()
        if snapshots is not None and step % max(1, steps // frames) == 0:
            snapshots.append((step, model.state_dict(), float(loss)))
    return model


def accuracy(model, X, y):
    return (model.predict(X) == y).mean()


# %% [markdown]
# ## Activation × width
#
# tanh and sigmoid give smooth boundaries, ReLU piecewise-linear ones; with more hidden
# units the boundary can bend more.

# %%
widths = [3, 5, 20] if fast else [3, 5, 10, 20, 50]
activations = ["tanh", "sigmoid", "relu"]
panels = []
for activation in activations:
    for h in widths:
        model = train(X_moons, y_moons, [h], activation)
        panels.append((f"acc {accuracy(model, X_moons, y_moons):.2f}", model.predict))
show(plot_decision_boundary_grid(
    panels, X_moons, y_moons, ncols=len(widths), row_labels=activations,
    col_labels=[f"{h} hidden units" for h in widths],
    title="make_moons: activation (rows) × hidden units (columns)",
    path=out / "moons_activation_width.png"))

# %% [markdown]
# ## Depth
#
# The same 10 units per layer, stacked 1, 2 and 4 times.

# %%
panels = []
for depth in (1, 2, 4):
    model = train(X_moons, y_moons, [10] * depth, "tanh")
    panels.append((f"tanh, {depth} hidden layer{'s' if depth > 1 else ''} of 10: "
                   f"acc {accuracy(model, X_moons, y_moons):.2f}", model.predict))
show(plot_decision_boundary_grid(panels, X_moons, y_moons, ncols=3,
                                 title="make_moons: deeper networks",
                                 path=out / "moons_depth.png"))

# %% [markdown]
# ## Four blobs
#
# With four classes, the softmax output splits the plane into four regions.

# %%
panels = []
for activation in activations:
    model = train(X_blobs, y_blobs, [10], activation)
    panels.append((f"{activation}, 10 hidden: acc {accuracy(model, X_blobs, y_blobs):.2f}",
                   model.predict))
show(plot_decision_boundary_grid(panels, X_blobs, y_blobs, ncols=3,
                                 title="make_blobs, 4 centres: one hidden layer of 10",
                                 path=out / "blobs_activation.png"))

# %% [markdown]
# ## Watching the boundary move during training
#
# Snapshots of the parameters every few steps, replayed as an animated GIF.

# %%
snapshots = []
model = train(X_moons, y_moons, [20], "tanh", snapshots=snapshots)
fig = Figure(figsize=(5, 4.5))
fig.subplots_adjust(left=0.13, right=0.97, bottom=0.11, top=0.92)   # fixed: fast per frame
ax = fig.add_subplot()


def frame(k):
    step, state, loss = snapshots[k]
    model.load_state_dict(state)
    ax.clear()
    plot_decision_boundary(model.predict, X_moons, y_moons, ax=ax, resolution=100,
                           title=f"tanh, 20 hidden — step {step}, loss {loss:.3f}")


movie = animation.FuncAnimation(fig, frame, frames=len(snapshots))
with written_atomically(out / "moons_training.gif") as path:
    movie.save(path, writer=animation.PillowWriter(fps=8), dpi=80)
show(out / "moons_training.gif")
print(f"figures written to {out}")

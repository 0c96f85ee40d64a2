# %% [markdown]
# # 8. The backward pass, written out by the tape
#
# A Wengert list is a program: the operations of one step, in the order they ran. For a
# step with fixed shapes the tape is the same every time, so it can be written out once
# as plain numpy — the forward pass, then the backward pass, one statement per line —
# and that source run at every later step. `tape.compile` does exactly this:
#
#     step = tape.compile(loss, parameters=model)    # traced on the first call
#     value = step(X, y)                             # then replayed: the gradients go to p.grad
#     print(step.source)                             # the numpy it replays
#
# The source reads like the homework of lesson 2, and we put it beside
# `models/manual/formulas.py`'s backpropagation by hand, line for line.

# %%
import inspect
import time

import numpy as np
from matplotlib.figure import Figure

import tape
from models import manual
from models.nn import MLP
from tutorials.output import setup, show, written_atomically

out, fast = setup("the_backward_pass_written")
rng = np.random.default_rng(0)
N = 64                               # the batch
X = rng.random((N, 784), dtype=np.float32)
y = rng.integers(0, 10, N)

# %% [markdown]
# ## The course's two-layer net, compiled
#
# `MLP([784, 256, 10])` names its parameters W1, b1, W2, b2; the loss is softmax
# cross-entropy. The first call runs the step on the tape, writes the source and checks
# that it gives the tape's results bit for bit.

# %%
model = MLP([784, 256, 10], seed=0)


def loss(X, y):
    return tape.cross_entropy(model(X), y)


step = tape.compile(loss, parameters=model)
value = step(X, y)
print(step.source)

# %% [markdown]
# Read it from the top. The forward is `models.nn`'s: `z1 = X @ W1`, then `z1 += b1`
# (linear adds the bias into the product's own buffer), ReLU, the second layer, and
# cross-entropy, which returns both the loss and its gradient (a − y)/N, the
# `softmax_minus_onehot` of the derivation. After `# backward`:
#
# * `dh1 = softmax_minus_onehot @ W2.T` — Δ₂W₂ᵀ,
# * `dW2 = h1.T @ softmax_minus_onehot` — HᵀΔ₂,
# * `db2 = ones64 @ softmax_minus_onehot` — ΣΔ₂, summed as a product with a row of ones
#   (a constant, made once when traced; 64 is the batch),
# * `dz1 = dh1 * (z1 > 0)` — ReLU's mask,
# * `dW1 = X.T @ dz1`, `db1 = ones128 @ dz1`.
#
# There is no `dX`: nobody asked for the gradient of the data, so none is computed.
#
# ## Beside the hand-written backpropagation
#
# The homework of lesson 2, for this net, in the names of `models/manual/formulas.py` (the
# cs231n-style reference: `softmax_cross_entropy` returns the loss and Δ₂ = (a − y)/N):

# %%
def by_hand(W1, b1, W2, b2, X, y):
    z1 = X @ W1 + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ W2 + b2
    loss, delta2 = manual.softmax_cross_entropy(z2, y)
    # backward
    dh1 = delta2 @ W2.T
    dW2 = h1.T @ delta2
    db2 = delta2.sum(axis=0)
    delta1 = dh1 * (z1 > 0)
    dW1 = X.T @ delta1
    db1 = delta1.sum(axis=0)
    return loss, dW1, db1, dW2, db2


def statements(source):
    """The body's statements, a bias added in place joined to its product."""
    rows = []
    for line in source.splitlines():
        if not line.startswith("    ") or line.strip().startswith("return"):
            continue                     # the header, the def line, the return
        line = line.strip()
        if "+=" in line and rows:
            rows[-1] += "; " + line
        else:
            rows.append(line)
    return rows


hand = statements(inspect.getsource(by_hand))
generated = statements(step.source)
figure = Figure(figsize=(14, 6.5))
ax = figure.subplots()
ax.axis("off")
ax.set_xlim(0, 1)
ax.set_ylim(len(hand) + 1, -1)
ax.text(0.0, -0.5, "by hand (lesson 2, manual/formulas.py)", fontsize=13, weight="bold")
ax.text(0.46, -0.5, "written by the tape (step.source)", fontsize=13, weight="bold")
for row, (left, right) in enumerate(zip(hand, generated)):
    if row % 2 == 0:
        ax.axhspan(row + 0.5, row + 1.5, color="0.93", zorder=0)
    ax.text(0.0, row + 1, left, family="monospace", fontsize=10.5, va="center")
    ax.text(0.46, row + 1, right, family="monospace", fontsize=10.5, va="center")
figure.suptitle("The two-layer net's step, line for line: the forward, then the backward "
                "(dW = HᵀΔ, db = ΣΔ, Δ₁ = Δ₂W₂ᵀ ⊙ [z₁ > 0])", fontsize=13)
with written_atomically(out / "side_by_side.png") as path:
    figure.savefig(path, dpi=100)
show(figure)

# %% [markdown]
# Row for row the same formulas. Two differences are choices of the tape's ops, made for
# speed: the bias is added into the product's own buffer (`z1 += b1`), and Σ over the batch
# is a product with a row of ones (`ones64 @ Δ`), which BLAS computes faster than `.sum`.

# %% [markdown]
# ## The same numbers
#
# The replay makes the same numpy calls as the tape, in the same order, so it gives the
# same bits; the hand-written step computes the same gradients a little differently (its
# softmax, its bias sums), so the two agree to float32's precision, not bit for bit.

# %%
params = {name: p.data for name, p in model.named_parameters().items()}
for p in model.parameters():
    p.grad = None
value = step(X, y)                     # a replay: the gradients are added into p.grad
replayed = {name: p.grad.copy() for name, p in model.named_parameters().items()}
for p in model.parameters():
    p.grad = None
loss(X, y).backward()                  # the tape itself
taped = {name: p.grad for name, p in model.named_parameters().items()}
hand_grads = dict(zip(["W1", "b1", "W2", "b2"], by_hand(*params.values(), X, y)[1:]))
for name in params:
    same = np.array_equal(replayed[name], taped[name])
    close = np.abs(replayed[name] - hand_grads[name]).max()
    print(f"{name}: replay == tape bit for bit: {same};  max |replay − by hand| = {close:.1e}")

# %% [markdown]
# ## As fast as the hand-written step
#
# The replay is numpy statements and nothing else: no entries recorded, no sweep to
# organise. Timed here in turns, one call of each per round, medians over the rounds (on
# a shared machine the numbers move from run to run; `python -m benchmarks.compiled`
# measures them properly):

# %%
def on_tape():
    loss(X, y).backward()


contestants = {"by hand": lambda: by_hand(*params.values(), X, y),
               "compiled (the replay)": lambda: step(X, y),
               "the tape": on_tape}
times = {name: [] for name in contestants}
for _ in range(10 if fast else 50):
    for name, f in contestants.items():
        started = time.perf_counter()
        f()
        times[name].append(time.perf_counter() - started)
for name, ts in times.items():
    print(f"{name:28} {1e3 * np.median(ts):7.2f} ms")
print(f"traced {step.traces} time(s); the first call took {1e3 * step.trace_seconds[0]:.0f} ms "
      f"(tracing, writing the source, checking it against the tape)")

# %% [markdown]
# ## What a replay cannot do
#
# A replay repeats the statements of one trace. A Python decision on a value — `if loss
# > 1:`, `while float(x) < 10:`, `.item()` — was taken once, for the first call's values,
# so while tracing it is refused, naming the line:

# %%
def clipped(X, y):
    value = tape.cross_entropy(model(X), y)
    if value > 1:                      # a decision on a traced value
        value = value * 0.5
    return value


try:
    tape.compile(clipped, parameters=model)(X, y)
except tape.TracedValueError as error:
    print(str(error)[:200], "...")

# %% [markdown]
# `tape.where(condition, a, b)` makes the choice element by element instead, and is
# replayed like any op. A call with other shapes (the last, smaller batch of an epoch)
# is traced again, and both traces are kept:

# %%
step(X[:10], y[:10])
print(f"traces: {step.traces}; why the second: {step.reasons}")

# %%
print(f"figures written to {out}")

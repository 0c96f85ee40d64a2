# %% [markdown]
# # 7. Check your own backward pass
#
# The homework: write a two-layer network's forward *and* backward pass by hand, in
# numpy, cs231n style — `loss(params) -> (loss, grads)`. How do you know your
# gradients are right? `tape.check_manual` runs your function three ways:
#
# 1. on your arrays: your loss and **your** gradients;
# 2. on tape Tensors in place of the arrays: numpy's functions (`np.exp`, `np.sum`,
#    `np.maximum`, `@`, even `dx[rows, y] -= 1`) record on the tape, so the tape
#    differentiates **your forward pass, as you wrote it** — no rewrite;
# 3. with finite differences at a few sampled elements, to check the tape too.
#
# No change to your file: the same function runs on arrays and on Tensors.

# %%
import numpy as np
from matplotlib.figure import Figure

import tape
from tutorials.output import setup, show, written_atomically

out, fast = setup("check_your_backward")
rng = np.random.default_rng(0)
N, D, H, K = 8, 5, 6, 3
X = rng.standard_normal((N, D))
y = rng.integers(0, K, N)
params = {"W1": rng.standard_normal((D, H)) * 0.5, "b1": rng.normal(0, 0.1, H),
          "W2": rng.standard_normal((H, K)) * 0.5, "b2": rng.normal(0, 0.1, K)}

# %% [markdown]
# ## A student's two-layer net, in plain numpy
#
# $Z = XW_1 + b_1$, $H = \mathrm{ReLU}(Z)$, $S = HW_2 + b_2$, softmax cross-entropy
# averaged over the batch. The backward pass is the course's:
# $\Delta_2 = (\mathrm{softmax}(S) - Y)/N$, $dW_2 = H^\top\Delta_2$, $db_2 = \sum\Delta_2$,
# $\Delta_1 = (\Delta_2 W_2^\top)\odot[Z > 0]$, $dW_1 = X^\top\Delta_1$, $db_1 = \sum\Delta_1$.
# The three switches plant the three classic bugs, one at a time.

# %%
def two_layer_loss(params, missing_1_over_N=False, mask_dropped=False, dW1_transposed=False):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    # forward
    z = np.dot(X, W1) + b1
    h = np.maximum(0, z)
    scores = np.dot(h, W2) + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    # backward, by hand
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    if not missing_1_over_N:
        dscores /= N
    dW2 = h.T.dot(dscores)
    db2 = np.sum(dscores, axis=0)
    dh = dscores.dot(W2.T)
    if not mask_dropped:
        dh[z <= 0] = 0
    dW1 = dh.T.dot(X) if dW1_transposed else X.T.dot(dh)
    db1 = np.sum(dh, axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


result = tape.check_manual(two_layer_loss, params)
print(result)
print("ok:", result.ok)

# %% [markdown]
# Each row compares your gradient with the tape's over *every* element,
# max|yours − tape| / max|tape|, and the tape with finite differences at 20 sampled
# elements. Around 1e-16 means the same numbers up to rounding; the tolerance is 1e-6.
#
# ## Bug 1: the missing 1/N
#
# Forget `dscores /= N` and every gradient is N times too large. The table names the
# parameters, and the line under it says what kind of error it is: the ratio of your
# gradient to the tape's is the same constant, 8, everywhere — the batch size.

# %%
missing = tape.check_manual(lambda p: two_layer_loss(p, missing_1_over_N=True), params)
print(missing)
print("failed:", missing.failed)

# %% [markdown]
# ## Bug 2: the ReLU mask dropped
#
# Without `dh[z <= 0] = 0`, the gradient flows back through units that were off. Only
# the first layer's parameters are wrong (the second layer's come before the mask), and
# no constant ratio explains the error.

# %%
masked = tape.check_manual(lambda p: two_layer_loss(p, mask_dropped=True), params)
print(masked)
print("failed:", masked.failed)

# %% [markdown]
# ## Bug 3: dW transposed
#
# `dh.T.dot(X)` instead of `X.T.dot(dh)`: the shapes give it away, (H, D) where W1 is
# (D, H), and the result says so — and that it is exactly the tape's gradient turned over.

# %%
flipped = tape.check_manual(lambda p: two_layer_loss(p, dW1_transposed=True), params)
print(flipped)
print("failed:", flipped.failed)

# %% [markdown]
# ## The same checks, in a picture
#
# Each dot is one element of $dW_1$: the tape's value across, yours up. A correct
# gradient lies on the diagonal. The missing $1/N$ is a steeper line through zero, the
# dropped mask a cloud, and the transposed gradient lies on the diagonal only once it is
# turned back.

# %%
def gradient(**bug):
    return two_layer_loss(params, **bug)[1]["W1"]


tape_dW1 = result.tape["W1"]          # the check keeps both gradients: .manual and .tape

panels = [("correct", gradient(), "on the diagonal"),
          ("missing 1/N", gradient(missing_1_over_N=True), f"slope N = {N}"),
          ("ReLU mask dropped", gradient(mask_dropped=True), "off the diagonal"),
          ("dW₁ transposed (turned back)", gradient(dW1_transposed=True).T, "on the diagonal")]
fig = Figure(figsize=(12, 3.4), layout="constrained")
axes = fig.subplots(1, 4, sharex=True)
limit = np.abs(tape_dW1).max() * 1.1
for ax, (title, mine, note) in zip(axes, panels):
    ax.plot([-limit, limit], [-limit, limit], color="0.7", lw=1, label="yours = tape's")
    ax.scatter(tape_dW1.ravel(), mine.ravel(), s=14, color="C3" if title != "correct" else "C2")
    ax.set(title=f"{title}\n({note})", xlabel="tape's dW₁ element")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("your dW₁ element")
axes[0].legend(loc="upper left", fontsize=8)
fig.suptitle("Your gradient against the tape's, element by element (tape.check_manual)")
with written_atomically(out / "check_your_backward.png") as path:
    fig.savefig(path, dpi=120)
show(fig)

# %% [markdown]
# ## One trap: an ndarray's own method given a Tensor
#
# cs231n's most common spelling is `x.reshape(N, -1).dot(w)`. With `x` your data (an
# ndarray) and `w` a Tensor, that is the *ndarray's* method: numpy takes the Tensor's
# values and computes without the tape, so the gradient would be lost silently. In the
# forward pass the checker refuses it with one line naming your line and the fix:

# %%
def cs231n_style(params):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    h = np.maximum(0, X.reshape(N, -1).dot(W1) + b1)
    scores = np.dot(h, W2) + b2
    return np.sum(scores ** 2) / N, {k: np.zeros_like(v) for k, v in params.items()}


try:
    tape.check_manual(cs231n_style, params)
except tape.DroppedGradientError as error:
    print(error)

# %% [markdown]
# Write `np.dot(x, w)` or `x @ w` there. In your *backward* pass the same spelling
# (`x.T.dot(dout)`) is harmless and is let be: the checker gives NaN in place of the
# values numpy took and sees that they never reach the loss
# ([docs/check_your_backward.md](../docs/check_your_backward.md) says how).

# %%
print(f"figures written to {out}")

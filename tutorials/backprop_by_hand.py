# %% [markdown]
# # 2. Backpropagation by hand
#
# The course derives the gradients of a two-layer network on paper. Here we write
# those formulas in numpy, and check them against the tape and against finite
# differences. Then we teach the tape a new operation of our own.
#
# The network, for a batch $X$ of $N$ rows and integer labels $y$:
#
# $$Z_1 = XW_1 + b_1,\quad H = \mathrm{ReLU}(Z_1),\quad S = HW_2 + b_2,\quad
#   L = -\frac1N\sum_i \log \mathrm{softmax}(S_i)_{y_i}$$

# %%
import numpy as np

import tape
from tutorials.output import setup, show, written_atomically

out, fast = setup("backprop_by_hand")
rng = np.random.default_rng(0)
N, D, H, K = 8, 5, 4, 3
X = rng.standard_normal((N, D))
y = rng.integers(0, K, N)
W1, b1 = rng.standard_normal((D, H)) * 0.5, rng.normal(0, 0.1, H)
W2, b2 = rng.standard_normal((H, K)) * 0.5, rng.normal(0, 0.1, K)

# %% [markdown]
# ## The derivation
#
# * Softmax cross-entropy: with $a = \mathrm{softmax}(S)$ and $Y$ the one-hot labels,
#   $\partial L/\partial S = (a - Y)/N$ — call it $\Delta_2$.
# * A fully connected layer $Z = XW + b$ with $\Delta = \partial L/\partial Z$:
#   $\partial L/\partial W = X^\top\Delta$, $\partial L/\partial b = \sum_i \Delta_i$,
#   $\partial L/\partial X = \Delta W^\top$.
# * ReLU passes the gradient where $z > 0$ and blocks it where $z \le 0$:
#   $\Delta_1 = (\Delta_2 W_2^\top) \odot [Z_1 > 0]$.

# %%
Z1 = X @ W1 + b1
Hh = np.maximum(Z1, 0)
S = Hh @ W2 + b2
a = np.exp(S - S.max(axis=1, keepdims=True))
a /= a.sum(axis=1, keepdims=True)
Y = np.eye(K)[y]

delta2 = (a - Y) / N                 # ∂L/∂S = (a − y)/N
dW2 = Hh.T @ delta2                  # Xᵀ Δ, with X = H here
db2 = delta2.sum(axis=0)             # Σ Δ
delta1 = (delta2 @ W2.T) * (Z1 > 0)  # Δ Wᵀ, masked by ReLU
dW1 = X.T @ delta1
db1 = delta1.sum(axis=0)
by_hand = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

# %% [markdown]
# ## The same with the tape
#
# We only write the forward pass; `backward()` walks the tape in reverse.

# %%
params = {name: tape.tensor(value, requires_grad=True, name=name)
          for name, value in {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items()}
loss = tape.cross_entropy(
    tape.relu(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"], y)
loss.backward()

print(f"{'param':<6} {'max |hand − tape|':>18}")
for name, g in by_hand.items():
    error = np.abs(g - params[name].grad).max()
    print(f"{name:<6} {error:>18.2e}")
    assert error < 1e-12

# %% [markdown]
# ## And with finite differences
#
# `tape.gradcheck` nudges each input by ±ε and compares
# $(L(\theta+\varepsilon) - L(\theta-\varepsilon))/2\varepsilon$ with the tape's gradient.

# %%
def two_layer_loss(W1, b1, W2, b2):
    return tape.cross_entropy(tape.relu(X @ W1 + b1) @ W2 + b2, y)


print("gradcheck:", tape.gradcheck(two_layer_loss, [W1, b1, W2, b2]))

# %% [markdown]
# ## A new operation with its own gradient rule
#
# The *softplus* $f(x) = \log(1 + e^x)$ is a smooth ReLU; its derivative is the
# sigmoid, $f'(x) = \sigma(x)$. An operation is a numpy forward plus one rule per
# input: the vector-Jacobian product, $g \cdot f'(x)$.

# %%
@tape.primitive
def softplus(x):
    return np.logaddexp(0, x)          # log(1 + eˣ) without overflow


softplus.defvjp(lambda g, ans, x: g * tape.sigmoid(x))   # d softplus = σ(x) dx

z = rng.standard_normal(6) * 3
print("softplus gradcheck:", tape.gradcheck(lambda z: softplus(z).sum(), [z]))

# %% [markdown]
# A wrong rule is caught, and the error says where:

# %%
wrong = tape.primitive(lambda x: np.logaddexp(0, x), name="softplus_wrong")
wrong.defvjp(lambda g, ans, x: g * tape.tanh(x))         # not the derivative
try:
    tape.gradcheck(lambda z: wrong(z).sum(), [z])
except tape.GradcheckError as error:
    print("caught:", error)

# %% [markdown]
# Because the rule is itself written with tape operations, the second derivative of
# our new op comes for free: $f''(x) = \sigma(x)(1-\sigma(x))$.

# %%
second = tape.grad(tape.grad(lambda x: softplus(x)))
s = 1 / (1 + np.exp(-1.5))
print(f"softplus''(1.5) = {float(second(1.5)):.6f}, σ(1−σ) = {s * (1 - s):.6f}")

# %% [markdown]
# Summing over a grid of points turns the scalar derivative into an elementwise one,
# so the whole curves can be drawn: the function, its first and its second derivative,
# all computed by the tape.

# %%
from matplotlib.figure import Figure

grid = np.linspace(-5, 5, 201)
first = tape.grad(lambda x: softplus(x).sum())
second_sum = tape.grad(lambda x: first(x).sum())
fig = Figure(figsize=(7, 4), layout="constrained")
ax = fig.add_subplot()
ax.plot(grid, softplus(grid), label="softplus(x) = log(1 + eˣ)")
ax.plot(grid, first(grid), label="first derivative (tape) = σ(x)")
ax.plot(grid, second_sum(grid), label="second derivative (tape) = σ(x)(1 − σ(x))")
ax.plot(grid, np.maximum(grid, 0), "k:", lw=1, label="ReLU, for comparison")
ax.set(title="A custom op and the derivatives the tape computes for it",
       xlabel="x", ylabel="value")
ax.grid(alpha=0.3)
ax.legend()
with written_atomically(out / "softplus.png") as path:
    fig.savefig(path, dpi=120)
show(fig)
print(f"figures written to {out}")

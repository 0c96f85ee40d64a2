# %% [markdown]
# # 1. Scalars and the tape
#
# A single neuron with two inputs:
#
# $$o = \tanh(n), \qquad n = x_1 w_1 + x_2 w_2 + b$$
#
# We compute it with `tape`, look at what was recorded, and then do the reverse sweep
# by hand, one line at a time, next to the tape's answer.

# %%
import numpy as np

import tape
from tutorials.output import setup, show

out, fast = setup("scalars")

x1 = tape.tensor(2.0, requires_grad=True, name="x1")
x2 = tape.tensor(0.0, requires_grad=True, name="x2")
w1 = tape.tensor(-3.0, requires_grad=True, name="w1")
w2 = tape.tensor(1.0, requires_grad=True, name="w2")
b = tape.tensor(6.8813735870195432, requires_grad=True, name="b")

with tape.Tape(keep_adjoints=True) as t:
    n = x1 * w1 + x2 * w2 + b
    n.name = "n"
    o = tape.tanh(n)
    o.name = "o"

# %% [markdown]
# ## The tape: a Wengert list
#
# Every operation became one entry, in the order it ran. Each line is a single
# assignment: the program unrolled into its elementary steps.

# %%
print(t)

# %% [markdown]
# ## The reverse sweep by hand
#
# Backpropagation reads the list from the bottom up. Each value $v$ gets an
# *adjoint* $\bar v = \partial o / \partial v$; we start with $\bar o = 1$ and apply
# the local derivative of each line:
#
# | line | local rule |
# |---|---|
# | $o = \tanh(n)$ | $\bar n = \bar o\,(1 - o^2)$ |
# | $n = s + b$ | $\bar s = \bar n,\ \bar b = \bar n$ |
# | $s = p_1 + p_2$ | $\bar p_1 = \bar s,\ \bar p_2 = \bar s$ |
# | $p_i = x_i w_i$ | $\bar x_i = \bar p_i w_i,\ \bar w_i = \bar p_i x_i$ |

# %%
o_val = np.tanh(2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432)
o_bar = 1.0
n_bar = o_bar * (1 - o_val ** 2)
s_bar = b_bar = n_bar
p1_bar = p2_bar = s_bar
by_hand = {"x1": p1_bar * -3.0, "w1": p1_bar * 2.0, "x2": p2_bar * 1.0, "w2": p2_bar * 0.0,
           "b": b_bar}

grads = t.gradient(o, [x1, w1, x2, w2, b], retain_graph=True)
print(f"{'value':<6} {'by hand':>10} {'tape':>10}")
for (name, hand), g in zip(by_hand.items(), grads):
    print(f"{name:<6} {hand:>10.6f} {float(g):>10.6f}")
    assert np.isclose(hand, g)

# %% [markdown]
# The tape kept each adjoint as it went by (`Tape(keep_adjoints=True)`), so the
# sweep itself can be printed: the gradient that arrived at each line's output.

# %%
from viz.sweep import format_sweep

print(format_sweep(t))

# %% [markdown]
# ## The graph
#
# The same computation as a picture: values (with their data and gradient) and the
# operations between them. `backward()` fills in `.grad` on every leaf.

# %%
from viz.graph import draw, render

o.backward(retain_graph=True)
graph = draw(t, title="o = tanh(x1·w1 + x2·w2 + b)")   # the tape knows every adjoint
for suffix in ("svg", "png"):
    render(graph, out / f"neuron.{suffix}")
show(graph)

# %% [markdown]
# ## Watch the sweep happen
#
# The same tape as a page to step through (→ and ← or the buttons): first the forward
# pass writes the five entries one by one, then the reverse sweep reads them from `o`
# back to the leaves. At each entry the panel shows the adjoint arriving at its output,
# the rule that turns it into its inputs' adjoints ($\bar w_1 = \bar p_1 x_1$ is
# `dw1 = Δ ⊙ x1`) and the numbers it sends. In a notebook the page is shown below; the
# script writes it to `neuron_sweep.html`, which opens in any browser, offline.

# %%
from viz.sweep_page import sweep_page

page = sweep_page(t, out / "neuron_sweep.html", title="o = tanh(x1·w1 + x2·w2 + b)")
page

# %% [markdown]
# ## A second derivative for free
#
# The gradient rules are themselves tape operations, so the backward pass can be
# recorded and differentiated again: `tape.grad(tape.grad(f))` is $f''$.

# %%
d2tanh = tape.grad(tape.grad(tape.tanh))
for z in (-1.0, 0.0, 0.5):
    exact = -2 * np.tanh(z) * (1 - np.tanh(z) ** 2)
    print(f"tanh''({z:+.1f}) = {float(d2tanh(z)):+.6f}   (−2 tanh·(1 − tanh²) = {exact:+.6f})")

print(f"figures written to {out}")

# %% [markdown]
# # 5. Convolution as a matrix product, and its backward pass by hand
#
# A convolutional layer slides a small kernel over the image. Written with loops it is
# six nested sums; written as a matrix product it is the fully connected layer of
# tutorial 2 in disguise, and its backward pass is the same three formulas,
# $dW = X^\top\Delta$, $dX = \Delta W^\top$, $db = \sum\Delta$, once the image is laid
# out as the right matrix. This tutorial builds that matrix (*im2col*), derives the
# gradients by hand, and checks them against the tape (`tape.conv2d`), the naive loops
# of `models/manual/formulas.py` and finite differences.
#
# Shapes are PyTorch's: images $x$ of shape $(N, C, H, W)$, kernels $w$ of shape
# $(F, C, k, k)$, one bias per output channel. With stride $s$ and $p$ zeros of padding,
#
# $$y_{n,f,i,j} = b_f + \sum_{c,p,q} \hat x_{n,c,\,is+p,\,js+q}\; w_{f,c,p,q}$$
#
# ($\hat x$ is $x$ padded), an output of $H_o = (H + 2p - k)/s + 1$ rows.

# %%
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import tape
from tape.im2col import im2col
from models.manual import conv_backward_naive, conv_forward_naive
from tutorials.output import setup, show, written_atomically

out, fast = setup("convolution")
rng = np.random.default_rng(0)
N, C, H, W, F, k = 2, 3, 5, 5, 4, 3
x = rng.standard_normal((N, C, H, W))
w = rng.standard_normal((F, C, k, k))
b = rng.standard_normal(F)

# %% [markdown]
# ## im2col: one column per window
#
# Every $k\times k$ window of every channel becomes one column of a matrix $\hat X$:
# its rows are indexed by $(c, p, q)$ — channel and position in the kernel — and its
# columns by $(n, i, j)$ — image and output pixel. numpy's `sliding_window_view` gives
# all the windows as a view (no copy); one transpose and reshape lay them out.

# %%
pad = 1                                        # 'same' padding for k = 3
xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
windows = sliding_window_view(xp, (k, k), axis=(2, 3))      # (N, C, Ho, Wo, k, k)
Ho, Wo = windows.shape[2:4]
X_hat = windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * k * k, N * Ho * Wo)
W_mat = w.reshape(F, C * k * k)                # each kernel flattened into a row
print(f"x {x.shape} -> X̂ {X_hat.shape}: {C}·{k}·{k} rows, {N}·{Ho}·{Wo} columns")

# %% [markdown]
# The convolution is now one product, $Y = W\hat X + b$: row $f$ of $W$ meets column
# $(n,i,j)$ of $\hat X$ in exactly the sum of the formula above. Reshaping its
# $(F, N\cdot H_o\cdot W_o)$ result gives the images back.

# %%
Y = (W_mat @ X_hat + b[:, None]).reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)
loops, cache = conv_forward_naive(x, w, b, stride=1, pad=pad)
print("matrix product vs naive loops: max |difference| =", np.abs(Y - loops).max())
print("tape.conv2d    vs naive loops: max |difference| =",
      np.abs(tape.conv2d(x, w, b, padding=pad) - loops).max())   # arrays in: an array out

# %% [markdown]
# ## The backward pass, derived
#
# Let $G = \partial L/\partial Y$, the output's adjoint, laid out like $Y$ as an
# $(F, N\cdot H_o\cdot W_o)$ matrix. Since $Y = W\hat X + b$ is a product:
#
# * $\partial L/\partial W = G\,\hat X^\top$ — summing, for each weight, the inputs it
#   multiplied times the gradients of the outputs it produced: the **correlation of
#   $x$ with $G$**.
# * $\partial L/\partial b_f = \sum_{n,i,j} G_{f,(n,i,j)}$ — the bias touches every output.
# * $\partial L/\partial \hat X = W^\top G$ — one column of gradient per window. A pixel
#   lies in up to $k^2$ windows, so its gradient is the **sum** over them: *col2im*
#   adds each column back onto its window. Written out, that sum is the **full
#   convolution of $G$ with the kernel turned by 180°** — which is how
#   `conv_backward_naive` computes it.

# %%
G4 = rng.standard_normal(Y.shape)              # some upstream gradient ∂L/∂Y
G = G4.transpose(1, 0, 2, 3).reshape(F, -1)    # as the (F, N·Ho·Wo) matrix

dW = (G @ X_hat.T).reshape(w.shape)            # G X̂ᵀ
db = G.sum(axis=1)                             # Σ G
dX_hat = (W_mat.T @ G).reshape(C, k, k, N, Ho, Wo)   # Wᵀ G: one column per window
dxp = np.zeros((C, N, H + 2 * pad, W + 2 * pad))
for p in range(k):                             # col2im: add each window back in place,
    for q in range(k):                         # one kernel offset at a time
        dxp[:, :, p:p + Ho, q:q + Wo] += dX_hat[:, p, q]
dx = dxp[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3)

# %% [markdown]
# The same gradients three more ways: the naive loops (the full convolution with the
# flipped kernel), the tape's `backward()`, and, for the tape, finite differences.

# %%
dx_loops, dw_loops, db_loops = conv_backward_naive(G4, cache)
xt, wt, bt = (tape.tensor(a, requires_grad=True) for a in (x, w, b))
tape.conv2d(xt, wt, bt, padding=pad).backward(G4)
for name, hand, loop, taped in [("dx", dx, dx_loops, xt.grad), ("dw", dW, dw_loops, wt.grad),
                                ("db", db, db_loops, bt.grad)]:
    print(f"{name}: by hand vs loops {np.abs(hand - loop).max():.1e}, "
          f"by hand vs tape {np.abs(hand - taped).max():.1e}")
print("tape vs finite differences:",
      tape.gradcheck(lambda x, w, b: tape.conv2d(x, w, b, stride=2, padding=1), [x, w, b]))

# %% [markdown]
# ## Max-pooling: the gradient goes to the winner
#
# $y = \max$ of a window has derivative 1 with respect to the input that was the
# maximum and 0 for the others, so the backward pass routes each output's gradient
# to its window's winner. When several inputs tie, `tape.max_pool2d` gives it all to
# the first in reading order (as PyTorch does).

# %%
image = np.array([[[[1., 5., 2., 2.],
                    [3., 4., 0., 1.]]]])
xt = tape.tensor(image, requires_grad=True)
pooled = tape.max_pool2d(xt, 2)
pooled.backward(np.array([[[[10., 20.]]]]))
print("pooled:", pooled.data.ravel(), " gradient:\n", xt.grad[0, 0])

# %% [markdown]
# ## Gradients of gradients
#
# The tape's rule for $\partial L/\partial x$ is itself an op (`conv_transpose2d`) with
# gradient rules, and so is the rule for $\partial L/\partial w$. So a Hessian-vector
# product through a convolution is just `grad` of a `grad`, checked here against
# finite differences of the gradient.

# %%
v = rng.standard_normal(w.shape)


def dloss_dw_along_v(w):
    g = tape.grad(lambda w: (tape.tanh(tape.conv2d(x, w, b, padding=pad)) ** 2).sum())(w)
    return (g * v).sum()               # its gradient is the Hessian times v


print("Hessian-vector product vs finite differences:", tape.gradcheck(dloss_dw_along_v, [w]))

# %% [markdown]
# ## On a real image
#
# A vertical-edge kernel (Sobel) on a Fashion-MNIST image, and the gradient that a
# loss on the edge map sends back to the pixels: the full convolution of the
# adjoint with the flipped kernel, computed by the tape.

# %%
from matplotlib.figure import Figure

try:
    from models.data.datasets import load_dataset
    picture = load_dataset("fashion-mnist", download=False, val_size=0,
                           flatten=False).x_test[0].astype(np.float64)
    source = "a Fashion-MNIST test image"
except (OSError, ValueError):          # not installed: a drawn shape will do
    yy, xx = np.mgrid[:28, :28]
    picture = (((yy - 14) ** 2 + (xx - 14) ** 2) < 80).astype(np.float64)
    source = "a drawn disc (Fashion-MNIST is not installed)"
sobel = np.array([[[[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]]]])
pixels = tape.tensor(picture[None, None], requires_grad=True)
edges = tape.conv2d(pixels, sobel, padding=1)
(edges ** 2).mean().backward()          # a loss on the edge map: its mean square
cols_shown, _ = im2col(picture[None, None], (3, 3), padding=(1, 1))

fig = Figure(figsize=(12, 3.6), layout="constrained")
axes = fig.subplots(1, 4, width_ratios=[1, 1, 1, 1.6])
panels = [(picture, "input x", "gray"), (edges.data[0, 0], "y = x ⋆ Sobel", "RdBu_r"),
          (pixels.grad[0, 0], "∂L/∂x for L = mean(y²)", "RdBu_r")]
for ax, (data, title, cmap) in zip(axes, panels):
    limit = np.abs(data).max() or 1.0
    shown = ax.imshow(data, cmap=cmap, vmin=-limit if cmap != "gray" else 0, vmax=limit)
    ax.set(title=title, xticks=[], yticks=[])
    fig.colorbar(shown, ax=ax, shrink=0.7)
axes[3].imshow(cols_shown[:, 28 * 10:28 * 10 + 84], cmap="gray", aspect="auto",
               interpolation="nearest")
axes[3].set(title="X̂ (im2col) for image rows 10-12:\none column per 3×3 window",
            xlabel="window (n, i, j)", ylabel="position in the kernel (p, q)")
fig.suptitle(f"Convolution as im2col + matrix product, on {source}")
with written_atomically(out / "convolution.png") as path:
    fig.savefig(path, dpi=110)
show(fig)
print(f"figures written to {out}")

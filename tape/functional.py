"""`grad` and `value_and_grad`: gradients as functions, as in HIPS autograd and JAX.

    dtanh = tape.grad(tape.tanh)          # x ↦ 1 − tanh²(x)
    d2tanh = tape.grad(dtanh)             # x ↦ −2 tanh(x)(1 − tanh²(x))

Called with arrays, the gradient function returns arrays. Called with a Tensor that
an outer gradient is tracking, it records its own backward pass on the tape and returns
a Tensor, so the outer gradient can differentiate through it: that is how
`grad(grad(f))` gives the second derivative.
"""

import numpy as np

from .backward import gradients
from .tensor import Tensor


def value_and_grad(f, argnums=0):
    """A function returning (f(*args), ∂f/∂args[argnums]) for a scalar-valued f."""
    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)

    def value_and_gradient(*args):
        args = list(args)
        nested = False
        for i in positions:
            if i >= len(args):
                raise IndexError(f"argnums={argnums} but the function got {len(args)} arguments")
            a = args[i]
            if isinstance(a, Tensor) and a.requires_grad:
                nested = True                    # an outer gradient is watching this input
            else:
                args[i] = Tensor(_as_float(a), requires_grad=True)
        value = f(*args)
        if not isinstance(value, Tensor):
            raise TypeError(f"grad: f must return a Tensor, got {type(value).__name__}")
        if value.size != 1:
            raise ValueError(f"grad: f must return a scalar, got shape {value.shape}; "
                             f"reduce it with .sum() or .mean()")
        if not value.requires_grad:     # f does not depend on its inputs at all
            gs = [np.zeros_like(args[i].data) for i in positions]
        else:
            gs = gradients(value, [args[i] for i in positions], create_graph=nested,
                           retain_graph=nested)
        if not nested:
            value = value.data
        return value, (gs[0] if single else tuple(gs))

    value_and_gradient.__name__ = f"value_and_grad_{getattr(f, '__name__', 'f')}"
    return value_and_gradient


def grad(f, argnums=0):
    """A function returning ∂f/∂args[argnums] for a scalar-valued f."""
    value_and_gradient = value_and_grad(f, argnums)

    def gradient(*args):
        return value_and_gradient(*args)[1]

    gradient.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    return gradient


def _as_float(a):
    a = a.data if isinstance(a, Tensor) else np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)

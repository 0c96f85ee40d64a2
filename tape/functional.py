"""`grad` and `value_and_grad`: gradients as functions, as in HIPS autograd and JAX.

    dtanh = tape.grad(tape.tanh)          # x ↦ 1 − tanh²(x)
    d2tanh = tape.grad(dtanh)             # x ↦ −2 tanh(x)(1 − tanh²(x))

Called on its own, a gradient function returns arrays. Called while an outer gradient
is being taken (inside the function that `grad(...)` is differentiating), it records
its own backward pass on the tape and returns Tensors, so the outer gradient can
differentiate through it: that is how `grad(grad(f))` gives the second derivative.

Nesting needs one precaution. In

    grad(lambda x: grad(lambda y: x * y)(x))(5.0)

the inner function is differentiated with respect to *its* argument y, holding the
outer x fixed: d(x·y)/dy = x, whose derivative in x is 1. Had the inner gradient used
the outer x itself as its variable, it would have differentiated x·x and answered 2x,
mixing the two perturbations ("perturbation confusion"). So every call of a gradient
function gives its arguments fresh identities: `y = identity(x)`, a new node on the
tape whose gradient is asked for, which still carries x's dependence outwards.
"""

import threading

import numpy as np

from .backprop import gradients
from .primitive import primitive
from .sources import defsource
from ._tensor import Tensor


@primitive
def identity(x):
    """x itself, as a new variable on the tape."""
    return x


identity.defvjp(lambda g, ans, x: g)         # d x / d x = 1
defsource(identity, lambda c, x: x, lambda c, g, ans, x: g)    # a new name, nothing computed


def is_nested():
    """Is a gradient function evaluating its f in this thread (an outer gradient is
    being taken)?"""
    return _nesting.depth > 0


class _Nesting(threading.local):
    depth = 0           # how many gradient functions are evaluating f in this thread


_nesting = _Nesting()


def value_and_grad(f, argnums=0):
    """A function returning (f(*args), ∂f/∂args[argnums]) for a scalar-valued f."""
    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)

    def value_and_gradient(*args):
        args = list(args)
        nested = _nesting.depth > 0 or any(
            isinstance(args[i], Tensor) and args[i].requires_grad
            for i in positions if i < len(args))
        for i in positions:
            if i >= len(args):
                raise IndexError(f"argnums={argnums} but the function got {len(args)} arguments")
            a = args[i]
            if isinstance(a, Tensor) and a.requires_grad:
                args[i] = identity(a)             # a variable of its own (see above)
            else:
                args[i] = Tensor(_as_float(a), requires_grad=True)
        _nesting.depth += 1
        try:
            value = f(*args)
        finally:
            _nesting.depth -= 1
        if not isinstance(value, Tensor):
            raise TypeError(f"grad: f must return a Tensor, got {type(value).__name__}")
        if value.size != 1:
            raise ValueError(f"grad: f must return a scalar, got shape {value.shape}; "
                             f"reduce it with .sum() or .mean()")
        sources = [args[i] for i in positions]
        if not value.requires_grad:     # f does not depend on its inputs at all
            gs = [np.zeros_like(s.data) for s in sources]
            gs = [Tensor._wrap(g) for g in gs] if nested else gs
        else:
            gs = gradients(value, sources, create_graph=nested)
        if not nested:
            value = value.data
        return value, (gs[0] if single else tuple(gs))

    value_and_gradient.__name__ = f"value_and_grad_{getattr(f, '__name__', 'f')}"
    value_and_gradient.differentiates = (f, argnums, True)     # for tape.compile
    return value_and_gradient


def grad(f, argnums=0):
    """A function returning ∂f/∂args[argnums] for a scalar-valued f."""
    value_and_gradient = value_and_grad(f, argnums)

    def gradient(*args):
        return value_and_gradient(*args)[1]

    gradient.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    gradient.differentiates = (f, argnums, False)
    return gradient


def _as_float(a):
    a = a.data if isinstance(a, Tensor) else np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)

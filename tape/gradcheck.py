"""`gradcheck`: compare the tape's gradients with central finite differences.

    ∂f/∂xᵢ ≈ (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε          (error O(ε²))

`numerical_gradient` is that formula, the one finite-difference loop of the project
(the tests and `models/manual/three_ways.py` use it too). It works in float64, where
ε = 1e-6 leaves about ten correct digits.

A function with a non-scalar output is checked through a fixed random projection
⟨f(x), r⟩, which tests every column of the Jacobian at once.

Second order (`order=2`) is checked as HIPS autograd's `check_grads` does: along a
fixed random direction v, the gradient of s(x) = ⟨∇f(x), v⟩ — a backward pass through
a backward pass — must equal the finite differences of s, where each s(x ± ε·eᵢ) uses
the tape's first-order gradient. Once first order is right, this checks the rules'
own gradients (that the rules are written with tape ops, so they can be recorded).
"""

import numpy as np

from .functional import grad
from ._tensor import Tensor


class GradcheckError(AssertionError):
    """The tape's gradient and the finite-difference estimate disagree."""


def numerical_gradient(f, x, eps=1e-6, indices=None):
    """(f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε for each element i of x, in float64.

    `f` takes an array shaped like x and returns a number; it is given a float64 copy
    of x with one element moved, never x itself. With `indices` (a list of index
    tuples), only those elements are estimated and a 1-D array of them is returned.
    """
    _check_eps(eps)
    x = np.array(x, dtype=np.float64)            # our own copy: it is changed and restored
    wanted = list(np.ndindex(x.shape)) if indices is None else [tuple(i) for i in indices]
    estimates = np.empty(len(wanted))
    for k, idx in enumerate(wanted):
        original = x[idx]
        x[idx] = original + eps
        plus = float(f(x))
        x[idx] = original - eps
        minus = float(f(x))
        x[idx] = original
        estimates[k] = (plus - minus) / (2 * eps)
    return estimates.reshape(x.shape) if indices is None else estimates


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, order=1):
    """Check the derivatives of f(*inputs) for every floating-point input; True or an error.

    order=1 checks the gradient; order=2 also checks the gradient of ⟨∇f, v⟩ for a
    random direction v (a Hessian-vector product). Inputs that are not floating point
    (labels, masks) are passed through unchanged. The error names the input, the order,
    the worst element, and both values.
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    _check_eps(eps)
    if isinstance(inputs, (np.ndarray, Tensor)) or np.isscalar(inputs):
        inputs = [inputs]
    inputs = list(inputs)
    checked = tuple(i for i, x in enumerate(inputs) if _is_float(x))
    if not checked:
        raise TypeError("gradcheck: no floating-point input to check")
    # float64 for the check; a float64 array is used as it is (a view stays a view)
    args = [np.asarray(_data(x), dtype=np.float64) if i in checked else _data(x)
            for i, x in enumerate(inputs)]
    scalar_f = _projected(f, seed)
    first = grad(scalar_f, argnums=checked)

    _check(first, scalar_f, args, checked, inputs, eps, atol, rtol, order=1)
    if order == 2:
        rng = np.random.default_rng(seed + 1)
        directions = {i: rng.standard_normal(np.shape(args[i])) for i in checked}

        def along_v(*xs):       # s(x) = ⟨∇f(x), v⟩, a scalar the tape can differentiate
            return sum((g * directions[i]).sum() for i, g in zip(checked, first(*xs)))

        def along_v_value(*xs):
            return float(sum(np.sum(_data(g) * directions[i])
                             for i, g in zip(checked, first(*xs))))

        _check(grad(along_v, argnums=checked), along_v_value, args, checked, inputs,
               eps, atol, rtol, order=2)
    return True


def _projected(f, seed):
    """f made scalar: a one-element output as it is, else ⟨f(x), r⟩ for a fixed r."""
    projection = {}

    def scalar_f(*args):
        out = f(*args)
        if not isinstance(out, Tensor):
            if any(isinstance(a, Tensor) for a in args):   # the tape saw nothing
                raise TypeError(f"gradcheck: f must return a Tensor computed from its "
                                f"inputs by tape operations, got {type(out).__name__}; "
                                f"use tape's ops (x * x, tape.exp(x), ...), not numpy's "
                                f"on x.data")
            out = Tensor(out)
        if out.size == 1:
            return out.reshape(())
        if "r" not in projection:   # one fixed random direction for the output
            projection["r"] = np.random.default_rng(seed).standard_normal(out.shape)
        return (out * projection["r"]).sum()

    return scalar_f


def _check_eps(eps):
    if not (np.isscalar(eps) and np.isfinite(eps) and eps > 0):
        raise ValueError(f"gradcheck: eps, the finite-difference step, must be a positive "
                         f"number (1e-6 suits float64), got {eps!r}")


def _check(analytic_of, value_of, args, checked, inputs, eps, atol, rtol, order):
    analytic = analytic_of(*args)
    for i, g in zip(checked, analytic):
        def moved(x, i=i):
            return float(_data(value_of(*args[:i], x, *args[i + 1:])))
        numeric = numerical_gradient(moved, args[i], eps)
        _compare(i, inputs[i], np.asarray(_data(g)), numeric, atol, rtol, order)


def _compare(i, original, analytic, numeric, atol, rtol, order):
    what = "gradient" if order == 1 else "second-order gradient ∇⟨∇f, v⟩"
    if analytic.shape != numeric.shape:
        raise GradcheckError(f"gradcheck: input {i}: the tape's {what} has shape "
                             f"{analytic.shape}, the input has shape {numeric.shape}")
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if excess.size and (excess.max() > 0 or not np.all(np.isfinite(analytic))):
        worst = np.unravel_index(np.nanargmax(np.where(np.isfinite(excess), excess, np.inf)),
                                 excess.shape)
        name = getattr(original, "name", None)
        label = f"input {i}" + (f" ({name!r})" if name else "")
        raise GradcheckError(
            f"gradcheck failed for {label} of shape {numeric.shape} at index "
            f"{tuple(int(k) for k in worst)}: tape {what} {analytic[worst]:.10g}, "
            f"finite differences {numeric[worst]:.10g} "
            f"(|difference| {abs(analytic[worst] - numeric[worst]):.3g} > "
            f"atol {atol:g} + rtol {rtol:g} × |finite difference|)")


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _is_float(x):
    return np.issubdtype(np.asarray(_data(x)).dtype, np.floating)

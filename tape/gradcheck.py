"""`gradcheck`: compare the tape's gradients with central finite differences.

    ∂f/∂xᵢ ≈ (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε          (error O(ε²))

Everything is done in float64, where ε = 1e-6 leaves about ten correct digits.
A function with a non-scalar output is checked through a fixed random projection
⟨f(x), r⟩, which tests every column of the Jacobian at once.
"""

import numpy as np

from .backprop import gradients
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The tape's gradient and the finite-difference estimate disagree."""


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check d f(*inputs) / d input for every floating-point input; True or an error.

    The error names the input, the worst element, and both values.
    """
    if isinstance(inputs, (np.ndarray, Tensor)) or np.isscalar(inputs):
        inputs = [inputs]
    arrays = [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
              if _is_float(x) else (x.data if isinstance(x, Tensor) else x) for x in inputs]
    checked = [i for i, x in enumerate(inputs) if _is_float(x)]
    if not checked:
        raise TypeError("gradcheck: no floating-point input to check")
    projection = {}

    def scalar_f(*args):
        out = f(*args)
        if not isinstance(out, Tensor):
            out = Tensor(out)
        if out.size == 1:
            return out.reshape(())
        if "r" not in projection:   # one fixed random direction for the output
            projection["r"] = np.random.default_rng(seed).standard_normal(out.shape)
        return (out * projection["r"]).sum()

    # the tape's answer
    tensors = [Tensor(a, requires_grad=True) if i in checked else a for i, a in enumerate(arrays)]
    out = scalar_f(*tensors)
    if not out.requires_grad:
        analytic = [np.zeros_like(arrays[i]) for i in checked]
    else:
        analytic = gradients(out, [tensors[i] for i in checked])

    # the finite-difference answer, one element at a time
    for i, g in zip(checked, analytic):
        x = arrays[i]
        numeric = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            original = x[idx]
            x[idx] = original + eps
            plus = _value(scalar_f, arrays, checked)
            x[idx] = original - eps
            minus = _value(scalar_f, arrays, checked)
            x[idx] = original
            numeric[idx] = (plus - minus) / (2 * eps)
        _compare(i, inputs[i], g, numeric, atol, rtol)
    return True


def _value(scalar_f, arrays, checked):
    return float(scalar_f(*[Tensor(a) if i in checked else a for i, a in enumerate(arrays)]).data)


def _compare(i, original, analytic, numeric, atol, rtol):
    if analytic.shape != numeric.shape:
        raise GradcheckError(f"gradcheck: input {i}: the tape's gradient has shape "
                             f"{analytic.shape}, the input has shape {numeric.shape}")
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if excess.size and (excess.max() > 0 or not np.all(np.isfinite(analytic))):
        worst = np.unravel_index(np.nanargmax(np.where(np.isfinite(excess), excess, np.inf)),
                                 excess.shape)
        name = getattr(original, "name", None)
        label = f"input {i}" + (f" ({name!r})" if name else "")
        raise GradcheckError(
            f"gradcheck failed for {label} of shape {numeric.shape} at index "
            f"{tuple(int(k) for k in worst)}: tape gradient {analytic[worst]:.10g}, "
            f"finite differences {numeric[worst]:.10g} "
            f"(|difference| {abs(analytic[worst] - numeric[worst]):.3g} > "
            f"atol {atol:g} + rtol {rtol:g} × |finite difference|)")


def _is_float(x):
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    return np.issubdtype(data.dtype, np.floating)

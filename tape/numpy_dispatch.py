"""numpy's own functions on Tensors: `np.exp(t)`, `np.sum(t)`, `np.dot(x, w)` are tape ops.

Before numpy computes, it asks its arguments whether they want to do it themselves
(NEP 13 and NEP 18): a ufunc (np.exp, np.add, np.maximum, ...) calls
`Tensor.__array_ufunc__`, any other function (np.sum, np.dot, np.copy, ...) calls
`Tensor.__array_function__`. Both look the function up in the tables below and call
the tape's op, so a student's numpy code runs on the tape as it was written. They are
reached only when numpy meets a Tensor: numpy on plain arrays, and the tape's own ops,
never come here.

A function gets one of three answers:
- it has a tape op (UFUNCS, FUNCTIONS): the op is called and recorded like any other;
- it gives no gradient (argmax, ones_like, comparisons, np.shape): plain values, or
  boolean tensors, as the student's code expects (NO_GRADIENT, COMPARISONS);
- anything else: one error naming the function and how to give it a rule — when a
  gradient is wanted (a Tensor that requires grad, while recording); otherwise numpy
  computes on the values, as no gradient can be lost.

One conversion no protocol reaches: an ndarray's own method given a Tensor (`x.dot(w)`
with x an ndarray, `a[i] = t`, `a += t`) makes numpy ask the Tensor for its values
(`__array__`) and compute without the tape, dropping the gradient. `values_for_numpy`
refuses that for a Tensor that needs a gradient, naming the student's line and the fix;
`tape.check_manual` watches it instead (`watch_conversions`), because in a student's
backward pass, run on Tensors with its values ignored, the same conversion is harmless.
"""

import linecache
import os
import sys
import threading

import numpy as np

from . import activations, arithmetic, reductions, shapes
from .tape import is_recording
from ._tensor import Tensor, as_array


# ---- ufuncs: np.exp(t), ndarray * t, np.e ** t ------------------------------------------

UFUNCS = {
    np.add: arithmetic.add, np.subtract: arithmetic.subtract,
    np.multiply: arithmetic.multiply, np.true_divide: arithmetic.divide,
    np.power: arithmetic.power, np.negative: arithmetic.negative,
    np.positive: lambda x: x, np.matmul: arithmetic.matmul,
    np.square: arithmetic.square, np.absolute: arithmetic.absolute,
    np.exp: activations.exp, np.log: activations.log, np.sqrt: activations.sqrt,
    np.tanh: activations.tanh, np.maximum: activations.maximum,
    np.minimum: activations.minimum,
}

# a boolean tensor, no gradient: masks such as z > 0, (z > -1) & (z < 1)
COMPARISONS = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
               np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
               np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert,
               np.isnan, np.isinf, np.isfinite, np.signbit}

# piecewise constant: their derivative is 0 wherever it exists, so the values will do
CONSTANT_UFUNCS = {np.sign, np.floor, np.ceil, np.trunc, np.rint, np.floor_divide}


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """`Tensor.__array_ufunc__`: numpy hands every ufunc given a Tensor to the tape."""
    out = kwargs.pop("out", None)
    if method != "__call__" or kwargs:
        if not _needs_gradient((inputs, kwargs)):    # np.add.at, where=...: values will do
            kwargs = {**kwargs, "out": out} if out is not None else kwargs
            return getattr(ufunc, method)(*_values(inputs), **_values(kwargs))
        called = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        extra = f" with {', '.join(f'{k}=' for k in kwargs)}" if kwargs else ""
        return _no_rule(called + extra, f"{ufunc.__name__}{'' if method == '__call__' else '.' + method}")
    if ufunc in COMPARISONS:
        result = Tensor._wrap(ufunc(*[as_array(x) for x in inputs]))
    elif ufunc in CONSTANT_UFUNCS:
        result = ufunc(*[as_array(x) for x in inputs])
    elif ufunc in UFUNCS:
        result = UFUNCS[ufunc](*inputs)
    elif not _needs_gradient(inputs):
        result = ufunc(*_values(inputs))             # no gradient wanted: the values will do
    else:
        return _no_rule(f"np.{ufunc.__name__}", ufunc.__name__)
    return result if out is None else _write_out(result, out[0] if len(out) == 1 else out)


def _write_out(result, target):
    """`np.add(a, b, out=a)`, and `a += t` for an ndarray a: the result is written into
    the target. Into a Tensor it is an assignment the tape records; into an ndarray only
    values can go (`values_for_numpy`)."""
    if isinstance(target, tuple):
        raise TypeError("a numpy ufunc with several outputs was given a Tensor; the tape "
                        "has no rule for it")
    if isinstance(target, Tensor):
        target[...] = result
        return target
    target[...] = values_for_numpy(result) if isinstance(result, Tensor) else result
    return target


# ---- functions: np.sum(t), np.dot(x, w), np.copy(t) --------------------------------------

def _plain(name, **unsupported):
    """Refuse keywords the tape's op does not take (out=, dtype=, where=, ...)."""
    given = [k for k, v in unsupported.items() if v is not None and v is not np._NoValue]
    if given:
        _no_rule(f"np.{name} with {', '.join(k + '=' for k in given)}", f"{name} with {given[0]}=")


def _reduction(op, name):
    def reduce(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        _plain(name, dtype=dtype, out=out, initial=initial, where=where)
        return op(a, axis=axis, keepdims=bool(keepdims))
    return reduce


def dot(a, b, out=None):
    """np.dot: a product of matrices, of a matrix and a vector, or of two vectors (matmul),
    or by a scalar (multiply)."""
    _plain("dot", out=out)
    if np.ndim(as_array(a)) == 0 or np.ndim(as_array(b)) == 0:
        return arithmetic.multiply(a, b)
    if np.ndim(as_array(b)) > 2:
        _no_rule("np.dot of an array with more than 2 axes on the right", "dot with N-d b")
    return arithmetic.matmul(a, b)


def vdot(a, b):
    """np.vdot: Σ aᵢbᵢ over both flattened (real numbers)."""
    flat = lambda t: shapes.reshape(t, shape=(-1,))           # noqa: E731
    return reductions.sum(arithmetic.multiply(flat(a), flat(b)))


def reshape(a, *args, **kwargs):
    shape = kwargs.pop("shape", kwargs.pop("newshape", args[0] if args else None))
    _plain("reshape", **{k: v for k, v in kwargs.items() if k != "order" or v != "C"})
    return shapes.reshape(a, shape=tuple(np.atleast_1d(shape).tolist()))


def squeezed(a, axis=None):
    """np.squeeze as a reshape: the length-1 axes (or those given) dropped."""
    shape = np.shape(as_array(a))
    drop = {i for i, n in enumerate(shape) if n == 1} if axis is None else {
        i % len(shape) for i in np.atleast_1d(axis).tolist()}
    if any(shape[i] != 1 for i in drop):
        raise ValueError(f"squeeze: axis {axis} of a tensor of shape {shape} has a size "
                         f"other than 1, so it cannot be squeezed out")
    return shapes.reshape(a, shape=tuple(n for i, n in enumerate(shape) if i not in drop))


def expand_dims(a, axis):
    shape = list(np.shape(as_array(a)))
    for i in sorted(k % (len(shape) + len(np.atleast_1d(axis))) for k in np.atleast_1d(axis)):
        shape.insert(i, 1)
    return shapes.reshape(a, shape=tuple(shape))


def clip(a, a_min=None, a_max=None, out=None, **kwargs):
    """np.clip: constant bounds are the tape's clip; bounds that are Tensors themselves are
    the maximum and minimum they stand for, so they get gradients too."""
    a_min, a_max = kwargs.pop("min", a_min), kwargs.pop("max", a_max)
    a_min, a_max = (None if v is np._NoValue else v for v in (a_min, a_max))
    _plain("clip", out=out, **kwargs)
    if isinstance(a_min, Tensor) or isinstance(a_max, Tensor):
        if a_min is not None:
            a = activations.maximum(a, a_min)
        return a if a_max is None else activations.minimum(a, a_max)
    bound = lambda v: v.item() if isinstance(v, np.generic) else v   # noqa: E731 (keeps float32)
    return activations.clip(a, a_min=bound(a_min), a_max=bound(a_max))


def where(condition, x=None, y=None):
    if x is None and y is None:
        return np.where(as_array(condition))                     # the indices: no gradient
    return activations.where(as_array(condition), x, y)


def _joined(op, name):
    def join(arrays, axis=0, out=None, dtype=None, casting=None):
        _plain(name, out=out, dtype=dtype)
        return op(list(arrays), axis=axis)
    return join


def _copy(a, order=None, subok=None):
    return shapes.copy(a)


FUNCTIONS = {
    np.sum: _reduction(reductions.sum, "sum"), np.mean: _reduction(reductions.mean, "mean"),
    np.max: _reduction(reductions.max, "max"), np.min: _reduction(reductions.min, "min"),
    np.amax: _reduction(reductions.max, "amax"), np.amin: _reduction(reductions.min, "amin"),
    np.dot: dot, np.vdot: vdot,
    np.outer: lambda a, b, out=None: (_plain("outer", out=out), arithmetic.outer(a, b))[1],
    np.reshape: reshape,
    np.transpose: lambda a, axes=None: shapes.transpose(
        a, axes=None if axes is None else tuple(axes)),
    np.ravel: lambda a, order="C": shapes.reshape(a, shape=(-1,)),
    np.squeeze: squeezed, np.expand_dims: expand_dims,
    np.broadcast_to: lambda array, shape, subok=False: shapes.broadcast_to(
        array, shape=tuple(np.atleast_1d(shape).tolist())),
    np.concatenate: _joined(shapes.concatenate, "concatenate"),
    np.stack: _joined(shapes.stack, "stack"),
    np.copy: _copy, np.clip: clip, np.where: where,
}

# functions whose result has no gradient: they answer for the values
NO_GRADIENT = {np.argmax, np.argmin, np.argsort, np.ones_like, np.zeros_like, np.empty_like,
               np.full_like, np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj,
               np.isrealobj, np.array_equal, np.allclose, np.isclose, np.count_nonzero,
               np.nonzero, np.flatnonzero, np.any, np.all, np.round, np.around, np.unique, np.may_share_memory, np.shares_memory, np.can_cast}


def array_function(self, function, types, args, kwargs):
    """`Tensor.__array_function__`: np.sum(t), np.dot(x, w), ... become tape ops."""
    op = FUNCTIONS.get(function)
    if op is not None:
        return op(*args, **kwargs)
    if function in NO_GRADIENT or not _needs_gradient((args, kwargs)):
        return function(*_values(args), **_values(kwargs))
    return _no_rule(numpy_name(function), function.__name__)


def _needs_gradient(args):
    """Is a Tensor that needs a gradient among args (inside lists, tuples, dicts too),
    while recording? Without one, a function with no rule may compute on the values."""
    if isinstance(args, Tensor):
        return args.requires_grad and is_recording()
    if isinstance(args, dict):
        args = list(args.values())
    if isinstance(args, (list, tuple)):
        return any(_needs_gradient(a) for a in args)
    return False


def _values(args):
    """Tensors (also inside lists and tuples) replaced by their values."""
    if isinstance(args, dict):
        return {k: _values(v) for k, v in args.items()}
    if isinstance(args, (list, tuple)):
        return type(args)(_values(a) for a in args)
    return as_array(args)


def numpy_name(function):
    """np.sum, np.fft.fft, np.linalg.norm: the name a student would type."""
    module = getattr(function, "__module__", None) or "numpy"
    public = [part for part in module.split(".")[1:] if not part.startswith("_")]
    return ".".join(["np", *public, function.__name__])


def _no_rule(called, name):
    raise TypeError(
        f"{called} was given a Tensor: the tape has no gradient rule for {name}; define one "
        f"with tape.primitive (docs/check_your_backward.md shows how), or pass t.data for "
        f"the values alone (no gradient flows through them)")


# ---- values for numpy: the conversion no protocol intercepts -------------------------------

class DroppedGradientError(TypeError):
    """numpy took a Tensor's values where the tape needed the Tensor itself."""


class _Watch(threading.local):
    current = None


_watch = _Watch()


class watch_conversions:
    """`with watch_conversions(poison=...) as w:` notes, instead of refusing, every place
    where numpy takes the values of a Tensor that needs a gradient (`w.places`).

    `poison(k)` (k counts the conversions from 0) says whether the k-th is given NaN in
    place of the values: a conversion whose NaN reaches the loss was on the way to it
    (the forward pass, where it drops a gradient); one whose NaN only reaches the hand
    gradients was in the backward pass, whose values the check ignores. That is how
    `tape.check_manual` tells the two apart.
    """

    def __init__(self, poison=None):
        self.poison = poison
        self.places = []

    def __enter__(self):
        self._before, _watch.current = _watch.current, self
        return self

    def __exit__(self, *exc):
        _watch.current = self._before
        return False


def values_for_numpy(t, dtype=None, copy=None):
    """`Tensor.__array__`: the values, for numpy to compute with (np.asarray(t)).

    numpy computing on them itself drops the tape, so a Tensor that needs a gradient is
    refused while recording, with the line of the student's code that asked and the fix.
    Under `no_grad` (plots, evaluation) and for tensors with no gradient (masks, labels)
    the values are simply given.
    """
    data = t.data
    if t.requires_grad and is_recording():
        place = student_line()
        watch = _watch.current
        if watch is None:
            raise DroppedGradientError(dropped_gradient_message(place))
        k = len(watch.places)
        watch.places.append(place)
        if watch.poison is not None and watch.poison(k):
            data = np.full(data.shape, np.nan, data.dtype)
    if dtype is not None and np.dtype(dtype) != data.dtype:
        return data.astype(dtype)
    return data.copy() if copy else data


_HERE = os.path.dirname(os.path.abspath(__file__))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))


def student_line():
    """(file, line number, source) of the innermost caller outside tape and numpy."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(_HERE + os.sep) or path.startswith(_NUMPY + os.sep)):
            return path, frame.f_lineno, linecache.getline(path, frame.f_lineno).strip()
        frame = frame.f_back
    return "<unknown>", 0, ""


def dropped_gradient_message(place):
    path, line, source = place
    where = f"line {line} of {os.path.basename(path)}" + (f", `{source}`" if source else "")
    if ".dot(" in source:
        fix = ("an ndarray's own .dot(), given a Tensor, computes with its values alone: "
               "write np.dot(x, w) or x @ w, which the tape records")
    elif "np.array(" in source or "np.asarray(" in source:
        fix = ("np.array(t) / np.asarray(t) keep the values only: use tape.stack for a list "
               "of tensors, or t.detach() / t.data where you mean the values")
    else:
        fix = ("an ndarray's own method, or a write into an ndarray (a[i] = t, a += t), "
               "takes a Tensor's values alone: use numpy's function form (np.dot(x, w), "
               "np.sum(t)) or the Tensor's methods, which the tape records, or t.data where "
               "you mean the values")
    return f"{where}: numpy took the values of a Tensor that needs a gradient, so the gradient is lost; {fix}"


Tensor.__array_ufunc__ = array_ufunc
Tensor.__array_function__ = array_function
Tensor.__array__ = values_for_numpy

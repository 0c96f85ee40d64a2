"""Python's operators and methods on Tensors, attached once the ops exist.

`x * y` calls `multiply(x, y)`, `x.sum()` calls `sum(x)`, `x[0]` calls `getitem`.
The Tensor class itself (_tensor.py) knows nothing of the ops; this module gives it
its arithmetic, its comparisons and what makes it read like an array (`len`, `.item()`,
`float()`, its printed form), so the mechanism underneath imports no op at all.

numpy's own functions do not know the tape: `np.exp(t)` would compute on the values
and silently drop the gradient. So a Tensor answers numpy with the tape's op where one
does the same (`ndarray * Tensor`, which numpy turns into np.multiply), and otherwise
with an error naming the tape function to use.
"""

import numpy as np

from . import activations, arithmetic, losses, reductions, shapes
from ._tensor import Tensor, as_array, ufunc_ops


def _index(index):
    """An index with any Tensors in it replaced by their values (a mask, say)."""
    if isinstance(index, tuple):
        return tuple(as_array(i) for i in index)
    return as_array(index)


def _shape_args(args):
    """x.reshape(2, 3) and x.reshape((2, 3)) alike."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


_binary = {
    "add": arithmetic.add, "sub": arithmetic.subtract, "mul": arithmetic.multiply,
    "truediv": arithmetic.divide, "pow": arithmetic.power, "matmul": arithmetic.matmul,
}
for _name, _op in _binary.items():
    setattr(Tensor, f"__{_name}__", lambda self, other, op=_op: op(self, other))
    setattr(Tensor, f"__r{_name}__", lambda self, other, op=_op: op(other, self))

# ---- comparisons: boolean tensors, no gradient ---------------------------------------
Tensor.__lt__ = lambda self, other: Tensor._wrap(self.data < as_array(other))
Tensor.__le__ = lambda self, other: Tensor._wrap(self.data <= as_array(other))
Tensor.__gt__ = lambda self, other: Tensor._wrap(self.data > as_array(other))
Tensor.__ge__ = lambda self, other: Tensor._wrap(self.data >= as_array(other))
Tensor.__eq__ = lambda self, other: Tensor._wrap(self.data == as_array(other))
Tensor.__ne__ = lambda self, other: Tensor._wrap(self.data != as_array(other))

# ---- a Tensor as a value: its numbers, its length, its printed form -------------------
Tensor.__len__ = lambda self: len(self.data)
Tensor.item = lambda self: self.data.item()
Tensor.numpy = lambda self: self.data            # the ndarray (shared, not copied)
Tensor.__float__ = lambda self: float(self.data)
Tensor.__int__ = lambda self: int(self.data)
Tensor.__bool__ = lambda self: bool(self.data)


def _repr(self):
    body = np.array2string(self.data, precision=4, separator=", ", prefix="tensor(")
    extra = ", requires_grad=True" if self.requires_grad else ""
    if self.dtype not in (np.float64, np.int64, np.bool_):
        extra = f", dtype={self.dtype}" + extra
    if self.name:
        extra += f", name={self.name!r}"
    return f"tensor({body}{extra})"


Tensor.__repr__ = _repr

# ---- arithmetic and methods ----------------------------------------------------------
Tensor.__neg__ = lambda self: arithmetic.negative(self)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: arithmetic.absolute(self)
Tensor.__getitem__ = lambda self, index: shapes.getitem(self, index=_index(index))
Tensor.reshape = lambda self, *shape: shapes.reshape(self, shape=_shape_args(shape))
Tensor.transpose = lambda self, *axes: shapes.transpose(
    self, axes=_shape_args(axes) if axes else None)
Tensor.T = property(lambda self: shapes.transpose(self, axes=None))
Tensor.astype = lambda self, dtype: shapes.cast(self, dtype=np.dtype(dtype))
Tensor.sum = lambda self, axis=None, keepdims=False: reductions.sum(self, axis=axis, keepdims=keepdims)
Tensor.mean = lambda self, axis=None, keepdims=False: reductions.mean(self, axis=axis, keepdims=keepdims)
Tensor.max = lambda self, axis=None, keepdims=False: reductions.max(self, axis=axis, keepdims=keepdims)
for _name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu"):    # for chaining: x.exp().sum()
    setattr(Tensor, _name, getattr(activations, _name))

# the ops `+= -= *= /=` fall back to when they must record (_tensor.py, `_in_place`)
ufunc_ops.update({np.add: arithmetic.add, np.subtract: arithmetic.subtract,
                  np.multiply: arithmetic.multiply, np.true_divide: arithmetic.divide})

# ---- numpy meeting a Tensor ------------------------------------------------------------
_tape_ufuncs = {**ufunc_ops, np.power: arithmetic.power, np.matmul: arithmetic.matmul,
                np.negative: arithmetic.negative, np.maximum: activations.maximum}

_tape_names = {name: f"tape.{name}" for name in (
    "exp", "log", "sqrt", "tanh", "maximum", "where", "sum", "mean", "max", "reshape",
    "transpose", "broadcast_to", "concatenate", "stack", "matmul", "softmax")}
_tape_names.update({"absolute": "abs(t)", "abs": "abs(t)", "amax": "tape.max",
                    "true_divide": "/", "divide": "/", "add": "+", "subtract": "-",
                    "multiply": "*", "power": "**", "negative": "-t"})


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """`ndarray * Tensor` becomes the tape's multiply; np.exp(t) is refused by name."""
    op = _tape_ufuncs.get(ufunc)
    if op is not None and method == "__call__" and not kwargs:
        return op(*inputs)
    return _refuse(ufunc.__name__)


# functions that only look at the shape or type answer for the values
_harmless = {np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj}


def _array_function(self, function, types, args, kwargs):
    if function in _harmless:
        return function(*[as_array(a) for a in args], **kwargs)
    return _refuse(function.__name__)


def _refuse(name):
    use = _tape_names.get(name)
    advice = (f"use {use} instead" if use else
              "use a tape function (see tape/__init__.py), or t.data for the values alone "
              "(no gradient flows through them)")
    raise TypeError(f"numpy's {name} was given a Tensor: numpy would drop the tape and "
                    f"with it the gradient; {advice}")


Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function
Tensor.__array__ = lambda self, dtype=None, copy=None: (
    self.data if dtype is None else self.data.astype(dtype))   # np.asarray(t): the values

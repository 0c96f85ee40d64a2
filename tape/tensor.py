"""`Tensor`: an ndarray that remembers how it was computed.

A Tensor holds
- `data`: the ndarray itself (optimisers update it in place),
- `grad`: the accumulated gradient of the last backward() calls, an ndarray or None,
- `requires_grad`: whether operations on it are recorded on the tape,
- `_entry`: the tape entry that produced it (None for a leaf: an input or a parameter).

Operators (`+ - * / ** @`, indexing, `.sum()`, ...) call the primitives of the
`arithmetic`, `reductions`, `shapes` and `activations` modules; comparisons give
boolean tensors with no gradient.
"""

import numpy as np


class Tensor:
    __slots__ = ("data", "grad", "requires_grad", "_entry", "name", "__weakref__")
    __array_ufunc__ = None   # `ndarray + Tensor` calls Tensor.__radd__, not numpy

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        data = np.asarray(data, dtype=dtype)
        if requires_grad and not np.issubdtype(data.dtype, np.floating):
            raise TypeError(
                f"requires_grad=True needs a floating-point tensor, but the data is "
                f"{data.dtype}; convert it first, e.g. "
                f"tape.tensor(x, dtype=np.float32, requires_grad=True)")
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._entry = None
        self.name = name

    @classmethod
    def _wrap(cls, data):
        """A result of a primitive: no checks, no copies (the hot path)."""
        t = cls.__new__(cls)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = False
        t._entry = None
        t.name = None
        return t

    # ---- what it is -------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._entry is None)

    def __len__(self):
        return len(self.data)

    def item(self):
        return self.data.item()

    def numpy(self):
        """The ndarray (shared, not copied)."""
        return self.data

    def detach(self):
        """The same values, cut off from the tape: gradients stop here."""
        return Tensor._wrap(self.data)

    def __repr__(self):
        body = np.array2string(self.data, precision=4, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.dtype not in (np.float64, np.int64, np.bool_):
            extra = f", dtype={self.dtype}" + extra
        if self.name:
            extra += f", name={self.name!r}"
        return f"tensor({body}{extra})"

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __bool__(self):
        return bool(self.data)

    __hash__ = object.__hash__   # tensors are dict keys by identity (optimiser state)

    # ---- backward -----------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d self / d leaf into `leaf.grad` for every leaf that needs it.

        Gradients *add up* across calls, as in PyTorch: set `p.grad = None` (or call
        the optimiser's `zero_grad()`) before each training step. The entries used
        are freed afterwards; pass `retain_graph=True` to go back through them again.
        """
        reverse_sweep.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # ---- arithmetic -----------------------------------------------------------------
    def __add__(self, other): return arithmetic.add(self, other)
    def __radd__(self, other): return arithmetic.add(other, self)
    def __sub__(self, other): return arithmetic.subtract(self, other)
    def __rsub__(self, other): return arithmetic.subtract(other, self)
    def __mul__(self, other): return arithmetic.multiply(self, other)
    def __rmul__(self, other): return arithmetic.multiply(other, self)
    def __truediv__(self, other): return arithmetic.divide(self, other)
    def __rtruediv__(self, other): return arithmetic.divide(other, self)
    def __pow__(self, other): return arithmetic.power(self, other)
    def __rpow__(self, other): return arithmetic.power(other, self)
    def __matmul__(self, other): return arithmetic.matmul(self, other)
    def __rmatmul__(self, other): return arithmetic.matmul(other, self)
    def __neg__(self): return arithmetic.negative(self)
    def __pos__(self): return self

    # ---- comparisons: boolean tensors, no gradient -----------------------------------
    def __lt__(self, other): return Tensor._wrap(self.data < _value(other))
    def __le__(self, other): return Tensor._wrap(self.data <= _value(other))
    def __gt__(self, other): return Tensor._wrap(self.data > _value(other))
    def __ge__(self, other): return Tensor._wrap(self.data >= _value(other))
    def __eq__(self, other): return Tensor._wrap(self.data == _value(other))
    def __ne__(self, other): return Tensor._wrap(self.data != _value(other))

    # ---- shapes and reductions ----------------------------------------------------------
    def __getitem__(self, index):
        return shapes.getitem(self, index=_value_index(index))

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return shapes.reshape(self, shape=tuple(shape))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return shapes.transpose(self, axes=tuple(axes) if axes else None)

    T = property(lambda self: shapes.transpose(self, axes=None))

    def sum(self, axis=None, keepdims=False):
        return reductions.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return reductions.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return reductions.max(self, axis=axis, keepdims=keepdims)

    def astype(self, dtype):
        return arithmetic.cast(self, dtype=np.dtype(dtype))

    # elementwise functions as methods, for chaining: x.exp().sum()
    def exp(self): return activations.exp(self)
    def log(self): return activations.log(self)
    def sqrt(self): return activations.sqrt(self)
    def tanh(self): return activations.tanh(self)
    def sigmoid(self): return activations.sigmoid(self)
    def relu(self): return activations.relu(self)


def tensor(data, requires_grad=False, dtype=None, name=None):
    """Wrap data (an ndarray, a list, a number) as a Tensor.

    An ndarray of the right dtype is shared, not copied (like torch.from_numpy):
    an optimiser that updates `t.data` in place updates your array too.
    Integer data cannot require gradients.
    """
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def _value(x):
    return x.data if isinstance(x, Tensor) else x


def _value_index(index):
    if isinstance(index, tuple):
        return tuple(_value(i) for i in index)
    return _value(index)


from . import activations, arithmetic, reductions, shapes  # noqa: E402  (they need Tensor)
from . import backward as reverse_sweep  # noqa: E402

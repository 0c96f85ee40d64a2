"""`Tensor`: an ndarray that remembers how it was computed.

A Tensor holds
- `data`: the ndarray itself (optimisers update it in place),
- `grad`: the accumulated gradient of the last backward() calls, an ndarray or None,
- `requires_grad`: whether operations on it are recorded on the tape,
- `_entry`: the tape entry that produced it (None for a leaf: an input or a parameter),
- `_version`: when it was last changed in place (`+=` under no_grad, operators.py).

This module knows nothing of the operations: the arithmetic operators, comparisons,
indexing, assignment, `+=`, printing and methods such as `.sum()` are attached to the class
by `operators.py`, after the ops are defined (as autodidact attaches its array methods
to its Box), and `.backward()` by `backprop.py`, which holds the reverse sweep.
"""

import numpy as np


class Tensor:
    __slots__ = ("data", "grad", "requires_grad", "_entry", "_version", "name",
                 "__weakref__")

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        data = np.asarray(data, dtype=dtype)
        if requires_grad and not np.issubdtype(data.dtype, np.floating):
            raise TypeError(
                f"requires_grad=True needs a floating-point tensor, but the data is "
                f"{data.dtype}; convert it first, e.g. "
                f"tape.tensor(x, dtype=np.float32, requires_grad=True)")
        self.data, self.requires_grad, self.name = data, bool(requires_grad), name
        self.grad, self._entry, self._version = None, None, 0

    _wrap = staticmethod(lambda data: wrap_value(data, False))   # an op's result, unchecked

    # ---- what it is -------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._entry is None)

    def detach(self):
        """The same values, cut off from the tape: gradients stop here."""
        return Tensor._wrap(self.data)

    __hash__ = object.__hash__   # tensors are dict keys by identity (optimiser state)


def wrap_value(data, requires_grad):
    """A Tensor around an op's result, without Tensor()'s checks or copies: the hot path."""
    t = _new(Tensor)
    t.data = data if type(data) is np.ndarray else np.asarray(data)
    t.grad, t.requires_grad, t._entry, t._version, t.name = None, requires_grad, None, 0, None
    return t


_new = object.__new__


def tensor(data, requires_grad=False, dtype=None, name=None):
    """Wrap data (an ndarray, a list, a number) as a Tensor.

    An ndarray of the right dtype is shared, not copied (like torch.from_numpy):
    an optimiser that updates `t.data` in place updates your array too.
    Integer data cannot require gradients.
    """
    return Tensor(as_array(data), requires_grad=requires_grad, dtype=dtype, name=name)


def as_array(value):
    """The ndarray (or Python scalar) behind a Tensor or a constant."""
    return value.data if isinstance(value, Tensor) else value


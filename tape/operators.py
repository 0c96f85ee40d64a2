"""Python's operators and methods on Tensors, attached once the ops exist.

`x * y` calls `multiply(x, y)`, `x.sum()` calls `sum(x)`, `x[0]` calls `getitem`.
The Tensor class itself (_tensor.py) knows nothing of the ops; this module gives it
its arithmetic, its comparisons and what makes it read like an array (`len`, `.item()`,
`float()`, its printed form), so the mechanism underneath imports no op at all.

Assignment into a tensor (`z[z < 0] = 0`, `dx[rows, y] -= 1`, `dx /= N`) is recorded
as PyTorch records an in-place op on a tensor computed from parameters: the tensor's
history is *rebased* onto the assignment (see `rebase`). numpy's own functions on
Tensors are in numpy_dispatch.py.
"""

import copy as _copy_module
import weakref

import numpy as np

from . import activations, arithmetic, losses, reductions, shapes
from .sources import defsource
from ._tensor import Tensor, as_array
from .tape import clock as _clock, is_recording, versions


def _index(index):
    """An index as numpy takes it: Tensors in it (a mask, say) replaced by their values,
    ranges and lists by arrays."""
    if isinstance(index, tuple):
        return tuple(_index_part(i) for i in index)
    return _index_part(index)


def _index_part(i):
    if isinstance(i, Tensor):
        return i.data
    if isinstance(i, (range, list)):
        return np.asarray(i)
    return i


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

# ---- methods: the ndarray's spellings, and PyTorch's x.exp().sum() -------------------------
Tensor.reshape = lambda self, *shape: shapes.reshape(self, shape=_shape_args(shape))
Tensor.transpose = lambda self, *axes: shapes.transpose(
    self, axes=_shape_args(axes) if axes else None)
Tensor.T = property(lambda self: shapes.transpose(self, axes=None))
Tensor.astype = lambda self, dtype, copy=True: shapes.cast(self, dtype=np.dtype(dtype))
Tensor.sum = lambda self, axis=None, keepdims=False: reductions.sum(self, axis=axis, keepdims=keepdims)
Tensor.mean = lambda self, axis=None, keepdims=False: reductions.mean(self, axis=axis, keepdims=keepdims)
Tensor.max = lambda self, axis=None, keepdims=False: reductions.max(self, axis=axis, keepdims=keepdims)
Tensor.min = lambda self, axis=None, keepdims=False: reductions.min(self, axis=axis, keepdims=keepdims)
Tensor.dot = lambda self, other: np.dot(self, other)           # numpy_dispatch.dot
Tensor.copy = lambda self: shapes.copy(self)
Tensor.clip = lambda self, a_min=None, a_max=None, **bounds: np.clip(self, a_min, a_max, **bounds)
Tensor.flatten = lambda self: shapes.copy(shapes.reshape(self, shape=(-1,)))
Tensor.ravel = lambda self: shapes.reshape(self, shape=(-1,))
Tensor.squeeze = lambda self, axis=None: np.squeeze(self, axis)
Tensor.argmax = lambda self, axis=None: self.data.argmax(axis=axis)     # indices: no gradient
Tensor.argmin = lambda self, axis=None: self.data.argmin(axis=axis)
# A Primitive stored on the class would not be bound as a method (it is not a function),
# so t.exp() would call exp() with no argument: each gets a real method
for _name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu"):      # for chaining: x.exp().sum()
    setattr(Tensor, _name, lambda self, op=getattr(activations, _name): op(self))
Tensor.abs = lambda self: arithmetic.absolute(self)
Tensor.square = lambda self: arithmetic.square(self)

# ---- boolean tensors: masks combine with & | ^ ~, no gradient ------------------------------
for _name, _ufunc in (("and", np.logical_and), ("or", np.logical_or), ("xor", np.logical_xor)):
    setattr(Tensor, f"__{_name}__", lambda self, other, f=_ufunc: _mask(f, self, other))
    setattr(Tensor, f"__r{_name}__", lambda self, other, f=_ufunc: _mask(f, other, self))
Tensor.__invert__ = lambda self: Tensor._wrap(~self.data)


def _mask(logical, x, y):
    x, y = as_array(x), as_array(y)
    if x.dtype != bool or np.asarray(y).dtype != bool:   # integers: numpy's bitwise meaning
        return Tensor._wrap({np.logical_and: np.bitwise_and, np.logical_or: np.bitwise_or,
                             np.logical_xor: np.bitwise_xor}[logical](x, y))
    return Tensor._wrap(logical(x, y))


# ---- printing: f"{loss:.4f}" and print(loss) ---------------------------------------------
Tensor.__format__ = lambda self, spec: format(self.data, spec) if spec else str(self)

# ---- copies: copy.copy(t), copy.deepcopy(t) ---------------------------------------------


def _copied(self, memo=None):
    """A copy the student can assign into: a computed tensor's copy is a recorded op (its
    gradient flows back to the original); a leaf's copy is a new leaf with its own values,
    as PyTorch's deepcopy of a parameter."""
    if self._entry is not None and is_recording():
        return shapes.copy(self)
    twin = Tensor(self.data.copy(), requires_grad=self.requires_grad, name=self.name)
    if self.grad is not None:
        twin.grad = _copy_module.deepcopy(self.grad, memo)
    return twin


Tensor.__copy__ = _copied
Tensor.__deepcopy__ = _copied


# ---- assignment: z[mask] = 0, dx[rows, y] -= 1, dx /= N -----------------------------------

def rebase(z, assign):
    """Record an assignment into z: z moves on to the new value, its history rebased.

    `assign(before)` computes the new value with an in-place form of an op (setitem,
    add_, ...), from `before`, a fresh Tensor that takes over what z was until now: z's
    values and z's entry. The entries recorded earlier still name z among their inputs;
    the sweep finds, through z's new entry (whose first input is `before`), the value
    they really used (backprop.py, `_as_recorded`). The old values are not overwritten
    (the assignment writes into a new array), so their rules still read what they saw.
    """
    before = Tensor._wrap(z.data)
    before.requires_grad, before.name, before._version = z.requires_grad, z.name, z._version
    before._entry = z._entry
    if before._entry is not None:
        before._entry.out = weakref.ref(before)      # the old entry made `before`, not z now
    new = assign(before)
    if new.dtype != z.dtype:                          # numpy's rule: z keeps its dtype
        new = shapes.cast(new, dtype=z.dtype)
    z.data, z.requires_grad, z._entry = new.data, new.requires_grad, new._entry
    if z._entry is not None:
        z._entry.out = weakref.ref(z)
        z._version = versions.last = z._entry.index   # later than every entry that used z
    return z


def _needs_record(z, value):
    return is_recording() and (z.requires_grad or (isinstance(value, Tensor) and value.requires_grad))


def _refuse_leaf(symbol):
    raise RuntimeError(
        f"`{symbol}` on a leaf that requires grad would change it under the tape's feet: "
        f"update parameters inside `with tape.no_grad():` (as optimisers do), or write to "
        f"`.data` directly, or assign into a copy (`w = W.copy()`)")


def _setitem(self, index, value):
    index = _index(index)
    if not _needs_record(self, value):
        self.data[index] = as_array(value)
        self._version = versions.last = next(_clock)   # backward checks what its rules read
        return
    if self._entry is None and self.requires_grad:
        _refuse_leaf("t[...] = value")
    rebase(self, lambda before: shapes.setitem(before, value, index=index))


Tensor.__setitem__ = _setitem


def _in_place(self, ufunc, other, symbol):
    """`z += y`: under no_grad (a parameter update) the values change in place and z
    stays the same leaf; while recording, a computed tensor is rebased onto z + y."""
    if not _needs_record(self, other):
        ufunc(self.data, as_array(other), out=self.data, casting="same_kind")
        self._version = versions.last = next(_clock)
        return self
    if self._entry is None and self.requires_grad:
        _refuse_leaf(f"{symbol}=")
    op = _IN_PLACE_FORMS[ufunc]
    return rebase(self, lambda before: op(before, other))


def _in_place_form(op, name):
    """The op as an in-place form: the same forward and rules, listed as `add_` (as
    PyTorch names its in-place ops), its first input the tensor as it was before."""
    form = type(op)(op.forward, name=name, reads=op.reads, in_place=True)
    forward, vjps, hint = op.source                   # and the same generated form (tape.compile)
    return defsource(form.defvjp(*op.vjps), forward, *vjps, name=hint)


_IN_PLACE_FORMS = {np.add: _in_place_form(arithmetic.add, "add_"),
                   np.subtract: _in_place_form(arithmetic.subtract, "sub_"),
                   np.multiply: _in_place_form(arithmetic.multiply, "mul_"),
                   np.true_divide: _in_place_form(arithmetic.divide, "div_"),
                   np.power: _in_place_form(arithmetic.power, "pow_")}

Tensor.__iadd__ = lambda self, other: _in_place(self, np.add, other, "+")
Tensor.__isub__ = lambda self, other: _in_place(self, np.subtract, other, "-")
Tensor.__imul__ = lambda self, other: _in_place(self, np.multiply, other, "*")
Tensor.__itruediv__ = lambda self, other: _in_place(self, np.true_divide, other, "/")
Tensor.__ipow__ = lambda self, other: _in_place(self, np.power, other, "**")

"""Operations that move values around without changing them.

Their gradients move the adjoint back: a reshape is undone by a reshape, a
transpose by the inverse transpose, a broadcast by a sum, an index by a scatter.
`unbroadcast` is the one helper every gradient rule relies on: numpy may have
stretched an input to the output's shape, so the gradient is summed back.
"""

import numpy as np

from .primitive import primitive
from .sources import defsource
from ._tensor import as_array


# ---- broadcasting ------------------------------------------------------------------

def broadcast_axes(input_shape, output_shape):
    """The output axes over which a gradient is summed for an input of `input_shape`:
    those broadcasting added in front, and those it stretched from length 1."""
    extra = len(output_shape) - len(input_shape)
    return tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(input_shape)
        if n == 1 and output_shape[extra + i] != 1)


@primitive(reads=())
def sum_to(x, shape):
    """Sum x over the axes that broadcasting added or stretched, to get `shape`."""
    axes = broadcast_axes(shape, x.shape)
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape)


@primitive(reads=())
def broadcast_to(x, shape):
    """Stretch x to `shape` (a read-only view; no copy)."""
    if type(x) is np.ndarray and x.ndim == 0 or isinstance(x, np.generic):
        # A single number, the adjoint of every full sum or mean: the view is built
        # directly, every stride 0. Plain form: np.broadcast_to(x, shape), which makes
        # the same view through several Python-level checks (docs/speed.md)
        view = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    return np.broadcast_to(x, shape)


sum_to.defvjp(lambda g, ans, x, shape: broadcast_to(g, shape=x.shape))
broadcast_to.defvjp(lambda g, ans, x, shape: sum_to(g, shape=x.shape))

# generated forms (tape.compiler): the same numpy calls as the forward and the rule
defsource(sum_to, lambda c, x, shape: c.unbroadcast(x, tuple(shape)),
                 lambda c, g, ans, x, shape: f"np.broadcast_to({g}, {x.shape})")
defsource(broadcast_to, lambda c, x, shape: f"np.broadcast_to({x}, {tuple(shape)})",
                       lambda c, g, ans, x, shape: c.unbroadcast(g, x))


def unbroadcast(g, x):
    """The gradient of a broadcast input x: g summed back to x's shape (`x` may also
    be the shape itself)."""
    shape = x if type(x) is tuple else x.shape      # an input that needs a gradient
    if g.shape == shape:
        return g
    return sum_to(g, shape=shape)


# ---- reshaping ---------------------------------------------------------------------

@primitive(reads=())
def reshape(x, shape):
    return np.asarray(x).reshape(shape)     # np.reshape(x, shape), without its wrapper


@primitive(reads=())
def transpose(x, axes=None):
    return np.asarray(x).transpose(axes)    # np.transpose(x, axes), without its wrapper


def _inverse(axes):
    """The permutation that undoes `axes` (negative axes count from the end)."""
    if axes is None:
        return None
    return tuple(int(a) for a in np.argsort([a % len(axes) for a in axes]))


reshape.defvjp(lambda g, ans, x, shape: reshape(g, shape=x.shape))
transpose.defvjp(lambda g, ans, x, axes=None: transpose(g, axes=_inverse(axes)))


def _transpose_source(x, axes):
    return f"{x}.T" if axes is None else f"{x}.transpose({tuple(axes)})"


defsource(reshape, lambda c, x, shape: f"{x}.reshape({tuple(shape)})",
                  lambda c, g, ans, x, shape: f"{g}.reshape({x.shape})")
defsource(transpose, lambda c, x, axes=None: _transpose_source(x, axes),
                    lambda c, g, ans, x, axes=None: _transpose_source(g, _inverse(axes)))


# ---- indexing ----------------------------------------------------------------------

@primitive(reads=())
def getitem(x, index):
    return x[index]


@primitive
def scatter_add(g, index, shape):
    """Zeros of `shape` with g added at `index` (repeated integer indices add up)."""
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _is_basic(index):
    """Slices, ints, None and Ellipsis select each element at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in parts)


getitem.defvjp(lambda g, ans, x, index: scatter_add(g, index=index, shape=x.shape))
scatter_add.defvjp(lambda g, ans, dy, index, shape: getitem(g, index=index))


def index_source(c, index):
    """An index as written between brackets: `:, 0`, `2:5`, an array as a named constant."""
    parts = index if isinstance(index, tuple) else (index,)
    written = []
    for i in parts:
        if isinstance(i, slice):
            text = ":".join("" if v is None else repr(v) for v in (i.start, i.stop, i.step))
            written.append(text[:-1] if text.endswith(":") and i.step is None else text)
        elif i is Ellipsis:
            written.append("...")
        elif isinstance(i, np.ndarray) or isinstance(i, list):
            written.append(c.constant(np.asarray(i), "index", how=repr(i)).name)
        else:
            written.append(repr(i))
    text = ", ".join(written)
    return text + "," if isinstance(index, tuple) and len(index) == 1 else text or "()"


defsource(getitem, lambda c, x, index: f"{x}[{index_source(c, index)}]",
                  lambda c, g, ans, x, index:
                      f"{c.helper('scatter_add', scatter_add.forward)}({g}, "
                      f"{c.literal(index)}, {x.shape})")
defsource(scatter_add, lambda c, g, index, shape:
                          f"{c.helper('scatter_add', scatter_add.forward)}({g}, "
                          f"{c.literal(index)}, {tuple(shape)})",
                      lambda c, h, ans, g, index, shape: f"{h}[{index_source(c, index)}]")


# ---- assignment: z[z < 0] = 0, dx[rows, y] -= 1 ----------------------------------------

@primitive(reads=(), in_place=True)
def setitem(x, value, index):
    """x with `value` written at `index`, as a new array: x as it was is left alone,
    so the entries that used it keep their values (operators.py, `rebase`)."""
    out = x.copy()
    out[index] = value
    return out


def _outside(g, index, shape):
    """g with the overwritten elements zeroed: they no longer depend on x."""
    keep = np.ones(shape, dtype=bool)
    keep[index] = False
    return g * keep


def _written(index, shape):
    """Which elements of x[index] were really written: with a repeated integer index
    numpy keeps the last write, so only that one passes its gradient on."""
    if _is_basic(index):
        return None
    picked = np.shape(np.empty(shape)[index])
    order = np.arange(int(np.prod(picked))).reshape(picked)
    last = np.full(shape, -1)
    last[index] = order
    return last[index] == order


def _setitem_value(g, ans, x, value, index):
    # d out / d value: the adjoint at the written places, summed back over a broadcast value
    picked = getitem(g, index=index)
    won = _written(index, ans.shape)
    return unbroadcast(picked if won is None else picked * won, value)


setitem.defvjp(lambda g, ans, x, value, index: _outside(g, index, ans.shape),
               _setitem_value)


def _setitem_source(c, x, value, index):
    out = c.let(f"{x}.copy()", "z", fold=False)    # a new array, as the op writes: x is kept
    return c.update(out, f"{out}[{index_source(c, index)}] = {value}")


defsource(setitem, _setitem_source,
          lambda c, g, ans, x, value, index:
              f"{c.helper('outside', _outside)}({g}, {c.literal(index)}, {ans.shape})",
          lambda c, g, ans, x, value, index:
              f"{c.helper('setitem_value', _setitem_value)}({g}, {ans}, {x}, {value}, "
              f"{c.literal(index)})")


@primitive(reads=())
def copy(x):
    """A new array with x's values (np.copy, x.copy(), copy.deepcopy)."""
    return np.array(x, copy=True)


copy.defvjp(lambda g, ans, x: g)                                 # d copy(x) = dx
defsource(copy, lambda c, x: f"np.array({x}, copy=True)", lambda c, g, ans, x: g)


# ---- joining -----------------------------------------------------------------------

@primitive(name="concatenate", variadic=True)
def _concatenate(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


def _concatenate_vjp(argnum, g, ans, *xs, axis=0):
    # d/dx_i of [x_0, x_1, ...] picks out x_i's slice of the adjoint
    sizes = [np.shape(as_array(x))[axis] for x in xs]
    start = sum(sizes[:argnum])
    index = [slice(None)] * ans.ndim
    index[axis] = slice(start, start + sizes[argnum])
    return getitem(g, index=tuple(index))


_concatenate.defvjp(_concatenate_vjp)


def _concatenate_vjp_source(c, argnum, g, ans, *xs, axis=0):
    sizes = [x.shape[axis] for x in xs]
    start = sum(sizes[:argnum])
    index = [slice(None)] * ans.ndim
    index[axis] = slice(start, start + sizes[argnum])
    return f"{g}[{index_source(c, tuple(index))}]"


defsource(_concatenate, 
    lambda c, *xs, axis=0: f"np.concatenate(({''.join(f'{x}, ' for x in xs)}), axis={axis})",
    _concatenate_vjp_source)


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis (np.concatenate)."""
    return _concatenate(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join tensors along a new axis (np.stack): each is given a length-1 axis first."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    ndim = np.ndim(as_array(tensors[0])) + 1
    axis = axis % ndim
    expanded = []
    for t in tensors:
        shape = np.shape(as_array(t))
        expanded.append(reshape(t, shape=shape[:axis] + (1,) + shape[axis:]))
    return concatenate(expanded, axis=axis)


# ---- types ---------------------------------------------------------------------------

def same_float(x, y):
    """x, y such that a number, a numpy scalar or an integer array does not widen the
    float type of the other operand (PyTorch's rule; numpy alone would make float32
    float64 beside np.float64(2.0), np.int64(3) or an int64 array)."""
    tx, ty = type(x), type(y)
    if tx is np.ndarray and ty is np.ndarray:
        if x.dtype == y.dtype or x.ndim and y.ndim and x.dtype.kind == y.dtype.kind:
            return x, y                     # the common case; float32 with float64 widens
    elif tx in _PYTHON_NUMBERS or ty in _PYTHON_NUMBERS:
        return x, y                         # numpy itself never lets these widen a float
    return _weak(x, y), _weak(y, x)


_PYTHON_NUMBERS = {int, float, bool}


def _weak(a, other):
    """a, made to follow `other`'s float type if a is a scalar or an integer array."""
    dtype = getattr(other, "dtype", None)
    if dtype is None or dtype.kind != "f":
        return a
    if isinstance(a, np.generic):
        return a.item()                     # a Python number: numpy lets it follow
    if type(a) is np.ndarray:
        if a.dtype.kind in "iub":
            return a.astype(dtype)
        if a.ndim == 0 and other.ndim:      # a 0-d array beside a real array: a scalar
            return a.item()
    return a


@primitive(reads=())
def cast(x, dtype):
    return x.astype(dtype, copy=False)


cast.defvjp(lambda g, ans, x, dtype: cast(g, dtype=np.result_type(as_array(x))))
defsource(cast, lambda c, x, dtype: f"{x}.astype(np.{np.dtype(dtype).name}, copy=False)",
               lambda c, g, ans, x, dtype: f"{g}.astype(np.{x.dtype.name}, copy=False)")


def same_float_source(c, x, symbol, y, ufunc):
    """`x + y` where numpy's types already follow PyTorch's rule (same_float changes
    nothing), else the op's own call on the values as the tape holds them (0-d arrays,
    where the replay may have numpy scalars): `np.add(*same_float(np.asarray(x), y))`."""
    f = getattr(np, ufunc)
    a, b = (np.asarray(v) if isinstance(v, np.generic) else v for v in (x.value, y.value))
    if np.result_type(f(a, b)) == np.result_type(f(*same_float(a, b))):
        template = f"{{}} {symbol} {{}}" if symbol else f"np.{ufunc}({{}}, {{}})"
        return template.format(x, y)    # the same type either way: the same numbers
    xs, ys = (f"np.asarray({s})" if isinstance(s.value, np.generic) else s for s in (x, y))
    return f"np.{ufunc}(*{c.helper('same_float', same_float)}({xs}, {ys}))"

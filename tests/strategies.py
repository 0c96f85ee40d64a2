"""Shared hypothesis strategies (minitorch style): shapes, broadcastable pairs, arrays in
safe ranges, positive arrays for log and sqrt, and values kept away from kinks and ties."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# 0-3 dimensions, each of size 1-4
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
sizes = st.integers(1, 4)


@st.composite
def broadcast_pair(draw):
    """Two shapes numpy can broadcast together (either may be the smaller one)."""
    drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                   min_side=1, max_side=4))
    return drawn.input_shapes


def arrays(shape, low=-2.0, high=2.0, away_from=None):
    """float64 arrays in [low, high]; `away_from` keeps every value 0.05 off those kinks."""
    values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if away_from is not None:
        values = values.filter(lambda v: all(abs(v - k) > 0.05 for k in away_from))
    return hnp.arrays(np.float64, shape, elements=values)


def positive(shape):
    """float64 arrays in [0.2, 3]: safe for log, sqrt, division and powers."""
    return arrays(shape, 0.2, 3.0)


def gridded(shape, offset=0.0):
    """Values k·0.2 + offset, k in -10..10: two grids with offsets 0 and 0.1 never
    come closer than 0.1, so maximum(a, b) has no ties."""
    return hnp.arrays(np.float64, shape,
                      elements=st.integers(-10, 10).map(lambda k: k * 0.2 + offset))


@st.composite
def distinct(draw, shape):
    """Arrays whose entries are at least 0.2 apart, so max has no ties."""
    n = int(np.prod(shape, dtype=int))
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    jitter = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 0.05)))
    return ((order + jitter) * 0.25 - n * 0.1).reshape(shape)


@st.composite
def axes(draw, ndim):
    """An `axis` argument for a reduction over `ndim` axes: None, an int
    (possibly negative) or a tuple of distinct axes."""
    kind = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(chosen)


def away_from_zero(shape, low=0.5, high=3.0):
    """float64 arrays with low ≤ |v| ≤ high, of either sign: safe denominators."""
    magnitude = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return hnp.arrays(np.float64, shape,
                      elements=st.tuples(magnitude, st.booleans()).map(
                          lambda ms: -ms[0] if ms[1] else ms[0]))


@st.composite
def laid_out(draw, array):
    """The same values in another memory layout, as student code produces them:
    a fresh C-ordered array, a Fortran-ordered one (what `.T` of a C array is),
    every other element of a larger buffer (`x[::2]`), or reversed strides (`x[::-1]`).
    The gaps of the strided buffer hold nan, so reading outside the view shows."""
    if array.ndim == 0:
        return array
    kind = draw(st.sampled_from(["C", "F", "strided", "reversed"]))
    if kind == "C":
        return array.copy(order="C")
    if kind == "F":
        return np.asfortranarray(array)
    if kind == "strided":
        buffer = np.full(tuple(2 * n for n in array.shape), np.nan, dtype=array.dtype)
        view = buffer[(slice(None, None, 2),) * array.ndim]
        view[...] = array
        return view
    flip = (slice(None, None, -1),) * array.ndim
    return array[flip].copy()[flip]

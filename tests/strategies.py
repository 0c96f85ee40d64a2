"""Shared hypothesis strategies: shapes, broadcastable pairs, arrays in safe ranges."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
matrix_shapes = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=4)


@st.composite
def broadcast_pair(draw):
    """Two shapes numpy can broadcast together (either may be the smaller one)."""
    shapes_ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                     min_side=1, max_side=4))
    return shapes_.input_shapes


def arrays(shape, low=-2.0, high=2.0, away_from=None):
    """float64 arrays in [low, high]; `away_from` keeps values off a kink (e.g. 0)."""
    values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if away_from is not None:
        values = values.filter(lambda v: all(abs(v - k) > 0.05 for k in away_from))
    return hnp.arrays(np.float64, shape, elements=values)


def positive(shape):
    return arrays(shape, 0.2, 3.0)


@st.composite
def distinct(draw, shape):
    """Arrays whose entries are at least 0.1 apart, so max has no ties."""
    n = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    jitter = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 0.05)))
    return ((order + jitter) * 0.2 - n * 0.1).reshape(shape)

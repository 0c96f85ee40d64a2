"""The op table (minitorch's `MathTest`): every op of `tape`, with

- `apply`:     the op called through tape, on Tensors (or arrays), with keyword `params`
- `reference`: the same computation in plain numpy, float64
- `cases`:     a hypothesis strategy drawing (inputs, params): float64 input arrays,
               and the constants (axis, labels, an index, a condition) that go with them
- `kinks`:     where the op is not differentiable; the cases keep input `kinked_input`
               0.05 away from those values, or have no ties ("ties": max, maximum)

tests/engine/test_ops.py runs every row: forward against the reference, gradcheck of first and
second order, float32 kept in values and in gradients of both orders, inputs in
non-contiguous layouts. A new op exported by `tape` without a row fails
`test_every_op_exported_by_tape_has_a_row`.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tape
from tests.strategies import arrays, away_from_zero, axes, distinct, gridded, positive

# small shapes: a second-order check costs two first-order gradients per input element
small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
small_nonscalar = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
sizes = st.integers(1, 3)


@dataclass(frozen=True)
class Op:
    name: str                     # the name `tape` exports (or the Tensor operator used)
    apply: Callable
    reference: Callable
    cases: st.SearchStrategy
    kinks: tuple = ()
    kinked_input: int = 0         # which input the kinks are about (divide: the denominator)
    label: str = ""               # tells apart several rows of one op
    out_dtype: object = None      # the result's dtype if not the inputs' (cast)
    gradcheck: dict = field(default_factory=dict)   # eps/atol/rtol, if not the defaults

    @property
    def id(self):
        return f"{self.name}-{self.label}" if self.label else self.name


def no_params(inputs):
    return st.tuples(inputs, st.just({}))


def elementwise(values):
    """One input of any small shape, elements from `values(shape)`."""
    return no_params(small_shapes.flatmap(values).map(lambda x: (x,)))


def away_from(kinks, low=-2.0, high=2.0):
    return lambda shape: arrays(shape, low, high, away_from=kinks)


@st.composite
def broadcast_shapes(draw, n=2):
    drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3,
                                                   min_side=1, max_side=3))
    return drawn.input_shapes


@st.composite
def binary(draw, left=lambda s: arrays(s), right=lambda s: arrays(s)):
    a_shape, b_shape = draw(broadcast_shapes())
    return (draw(left(a_shape)), draw(right(b_shape))), {}


@st.composite
def power_with_a_constant_exponent(draw):
    exponent = draw(st.sampled_from([2, 3, 0.5, -1.5, 2.0, 1]))
    x = draw(small_shapes.flatmap(positive))
    return (x,), {"exponent": exponent}


@st.composite
def integer_powers_of_any_sign(draw):
    x = draw(small_shapes.flatmap(arrays))
    return (x,), {"exponent": draw(st.sampled_from([2, 3, 4]))}


@st.composite
def matmul_cases(draw):
    n, k, m = draw(sizes), draw(sizes), draw(sizes)
    batch = draw(st.sampled_from([(), (2,), (1,)]))
    a_shape, b_shape = draw(st.sampled_from([
        ((n, k), (k, m)), ((k,), (k, m)), ((n, k), (k,)), ((k,), (k,)),
        (batch + (n, k), (k, m)), ((k,), batch + (k, m)), (batch + (n, k), (k,)),
        ((2,) + (n, k), (1, k, m)), ((2, 1, n, k), (2, k, m))]))
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {}


@st.composite
def linear_cases(draw):
    n, d, m = draw(sizes), draw(sizes), draw(sizes)
    return (draw(arrays((n, d))), draw(arrays((d, m))), draw(arrays((m,)))), {}


@st.composite
def where_cases(draw):
    c_shape, a_shape, b_shape = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=3, min_dims=0, max_dims=3, min_side=1, max_side=3)).input_shapes
    condition = draw(hnp.arrays(np.bool_, c_shape))
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {"condition": condition}


@st.composite
def reduction_cases(draw, values=arrays):
    x = draw(small_shapes.flatmap(values))
    return (x,), {"axis": draw(axes(x.ndim)), "keepdims": draw(st.booleans())}


@st.composite
def reshape_cases(draw):
    x = draw(small_shapes.flatmap(arrays))
    n = x.size
    shape = draw(st.sampled_from([(n,), (1, n), (n, 1, 1), (-1,), x.shape[::-1]]))
    return (x,), {"shape": shape}


@st.composite
def transpose_cases(draw):
    x = draw(small_shapes.flatmap(arrays))
    axes = draw(st.one_of(st.none(), st.permutations(range(x.ndim)).map(tuple)))
    return (x,), {"axes": axes}


@st.composite
def broadcast_to_cases(draw):
    small = draw(small_shapes)
    big = (2,) + tuple(draw(st.sampled_from([n, 2])) if n == 1 else n for n in small)
    return (draw(arrays(small)),), {"shape": big}


@st.composite
def sum_to_cases(draw):
    small = draw(small_shapes)
    big = (2,) + tuple(draw(st.sampled_from([1, 2, 3])) if n == 1 else n for n in small)
    return (draw(arrays(big)),), {"shape": small}


@st.composite
def joining_cases(draw, same_shape):
    count = draw(st.integers(1, 3))
    shape = draw(small_nonscalar)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    shapes = []
    for _ in range(count):
        s = list(shape)
        if not same_shape:
            s[axis] = draw(sizes)
        shapes.append(tuple(s))
    if same_shape:
        axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return tuple(draw(arrays(s)) for s in shapes), {"axis": axis}


@st.composite
def softmax_cases(draw):
    x = draw(small_nonscalar.flatmap(lambda s: arrays(s, -4, 4)))
    return (x,), {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}


@st.composite
def cross_entropy_cases(draw):
    n, k = draw(sizes), draw(st.integers(2, 4))
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return (draw(arrays((n, k), -4, 4)),), {"labels": labels}


@st.composite
def same_shape_pair(draw):
    shape = draw(small_shapes)
    return (draw(arrays(shape)), draw(arrays(shape))), {}


@st.composite
def outer_cases(draw):
    a_shape, b_shape = draw(small_shapes), draw(small_shapes)
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {}


CLIP_BOUNDS = [{"a_min": -0.5, "a_max": 1.0}, {"a_min": -1.0}, {"a_max": 0.5}]


@st.composite
def clip_cases(draw):
    x = draw(small_shapes.flatmap(away_from((-1.0, -0.5, 0.5, 1.0))))
    return (x,), draw(st.sampled_from(CLIP_BOUNDS))


# (index, the shape of the value written there): masks, rows, cs231n's dx[range(N), y]
ASSIGNMENTS = [(1, (4,)), (1, ()), ((slice(None), 2), (3,)), (np.array([0, 2]), (2, 4)),
               ((np.arange(3), np.array([3, 0, 1])), (3,)), ((np.array([0, 0]), np.array([1, 1])), (2,)),
               ((slice(0, 2), slice(1, 3)), (1, 2)), (Ellipsis, (4,))]


@st.composite
def setitem_cases(draw):
    x = draw(arrays((3, 4)))
    if draw(st.booleans()):
        mask = draw(hnp.arrays(np.bool_, (3, 4)).filter(lambda m: m.any()))
        return (x, draw(arrays((int(mask.sum()),)))), {"index": mask}
    index, shape = draw(st.sampled_from(ASSIGNMENTS))
    return (x, draw(arrays(shape))), {"index": index}


def _assigned(x, value, index):
    """y = a copy of x, then y[index] = value: an assignment into a computed tensor."""
    y = tape.copy(x) if isinstance(x, tape.Tensor) else x.copy()
    y[index] = value
    return y


INDICES = [1, -1, slice(1, 3), slice(None, None, -1), (slice(None), 2), (Ellipsis, 0),
           (1, slice(0, 4, 2)), (slice(None), None), np.array([0, 2, 2, 1]), [2, 0, 0],
           (np.array([0, 1, 1]), np.array([3, 0, 0])), (slice(None), np.array([3, 3, 1])),
           np.array([[0, 0], [2, 1]])]


@st.composite
def getitem_cases(draw):
    x = draw(arrays((3, 4)))
    index = draw(st.one_of(st.sampled_from(INDICES),
                           hnp.arrays(np.bool_, (3, 4)).filter(lambda m: m.any())))
    return (x,), {"index": index}


@st.composite
def conv_geometry(draw):
    """An image batch shape, a kernel shape, a stride and a padding that fit together."""
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    h = draw(st.integers(max(1, kh - 2 * padding), 4))
    w = draw(st.integers(max(1, kw - 2 * padding), 4))
    return (n, c_in, h, w), (c_out, c_in, kh, kw), stride, padding


@st.composite
def conv2d_cases(draw):
    x_shape, w_shape, stride, padding = draw(conv_geometry())
    inputs = (draw(arrays(x_shape)), draw(arrays(w_shape)))
    if draw(st.booleans()):
        inputs += (draw(arrays(w_shape[:1])),)          # with a bias
    return inputs, {"stride": stride, "padding": padding}


@st.composite
def conv_transpose2d_cases(draw):
    x_shape, w_shape, stride, padding = draw(conv_geometry())
    out_shape = _conv2d_loops(np.zeros(x_shape), np.zeros(w_shape), None, stride, padding).shape
    return ((draw(arrays(out_shape)), draw(arrays(w_shape))),
            {"shape": x_shape, "stride": stride, "padding": padding})


@st.composite
def pool_cases(draw, values=arrays):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = draw(st.integers(1, 2))
    stride = draw(st.sampled_from([None, 1, 2]))
    shape = (n, c, draw(st.integers(k, 4)), draw(st.integers(k, 4)))
    return (draw(values(shape)),), {"kernel_size": k, "stride": stride}


def _conv2d_loops(x, w, b=None, stride=1, padding=0):
    """cs231n's naive convolution: one output position at a time."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = w.shape[2:]
    ho, wo = (xp.shape[2] - kh) // stride + 1, (xp.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for i in range(ho):
        for j in range(wo):
            window = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out if b is None else out + b[None, :, None, None]


def _conv_transpose2d_loops(g, w, shape, stride=1, padding=0):
    """The input's gradient of a convolution: each output's g spread back over its window."""
    n, c, h, wd = shape
    kh, kw = w.shape[2:]
    dxp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    for i in range(g.shape[2]):
        for j in range(g.shape[3]):
            dxp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += \
                np.tensordot(g[:, :, i, j], w, axes=([1], [0]))
    return dxp[:, :, padding:padding + h, padding:padding + wd]


def _pool_loops(reduce):
    def pool(x, kernel_size, stride=None):
        k, s = kernel_size, stride or kernel_size
        ho, wo = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
        out = np.zeros(x.shape[:2] + (ho, wo))
        for i in range(ho):
            for j in range(wo):
                out[:, :, i, j] = reduce(x[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
        return out
    return pool


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _cross_entropy(z, labels):
    return -_log_softmax(z, 1)[np.arange(len(labels)), labels].mean()


def _sum_to(x, shape):
    extra = x.ndim - len(shape)
    x = x.sum(axis=tuple(range(extra)))
    return x.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


OPS = [
    # ---- arithmetic
    Op("add", tape.add, np.add, binary()),
    Op("subtract", tape.subtract, np.subtract, binary()),
    Op("multiply", tape.multiply, np.multiply, binary()),
    Op("divide", tape.divide, np.divide, binary(right=away_from_zero), kinks=(0.0,),
       kinked_input=1),
    Op("negative", tape.negative, np.negative, elementwise(arrays)),
    Op("power", tape.power, np.power, binary(left=positive, right=lambda s: arrays(s, -1.5, 1.5)),
       kinks=(0.0,), label="tensor-exponent"),
    Op("power", lambda x, exponent: tape.power(x, exponent),
       lambda x, exponent: np.power(x, exponent), power_with_a_constant_exponent(),
       kinks=(0.0,), label="constant-exponent"),
    Op("power", lambda x, exponent: x ** exponent, lambda x, exponent: x ** exponent,
       integer_powers_of_any_sign(), label="integer-exponent"),
    Op("square", tape.square, np.square, elementwise(arrays)),
    Op("outer", tape.outer, np.outer, outer_cases()),
    Op("matmul", tape.matmul, np.matmul, matmul_cases()),
    Op("linear", tape.linear, lambda x, w, b: x @ w + b, linear_cases()),
    Op("cast", lambda x: tape.cast(x, dtype=np.float64), lambda x: x, elementwise(arrays),
       label="to-float64", out_dtype=np.float64),
    # float32 rounding is ~1e-7 of the value: a wider ε keeps it out of the differences
    Op("cast", lambda x: tape.cast(tape.cast(x, dtype=np.float32), dtype=x.dtype),
       lambda x: x.astype(np.float32).astype(np.float64), elementwise(arrays),
       label="through-float32", gradcheck={"eps": 1e-3, "atol": 1e-3}),
    # ---- elementwise functions
    Op("exp", tape.exp, np.exp, elementwise(arrays)),
    Op("log", tape.log, np.log, elementwise(positive), kinks=(0.0,)),
    Op("sqrt", tape.sqrt, np.sqrt, elementwise(positive), kinks=(0.0,)),
    Op("tanh", tape.tanh, np.tanh, elementwise(arrays)),
    Op("sigmoid", tape.sigmoid, lambda x: 1 / (1 + np.exp(-x)),
       elementwise(lambda s: arrays(s, -6, 6))),
    Op("relu", tape.relu, lambda x: np.maximum(x, 0), elementwise(away_from((0.0,))),
       kinks=(0.0,)),
    Op("leaky_relu", tape.leaky_relu, lambda x, slope=0.01: np.where(x > 0, x, slope * x),
       st.tuples(small_shapes.flatmap(away_from((0.0,))).map(lambda x: (x,)),
                 st.sampled_from([{}, {"slope": 0.2}, {"slope": 1.5}, {"slope": -0.5}])),
       kinks=(0.0,)),
    Op("hardtanh", tape.hardtanh, lambda x: np.clip(x, -1, 1),
       elementwise(away_from((-1.0, 1.0))), kinks=(-1.0, 1.0)),
    Op("hardtanh", lambda x: tape.hardtanh(x, min_val=-0.5, max_val=1.5),
       lambda x: np.clip(x, -0.5, 1.5), elementwise(away_from((-0.5, 1.5))),
       kinks=(-0.5, 1.5), label="own-limits"),
    Op("abs", lambda x: abs(x), np.abs, elementwise(away_from((0.0,))), kinks=(0.0,)),
    Op("maximum", tape.maximum, np.maximum,
       binary(left=gridded, right=lambda s: gridded(s, offset=0.1)), kinks="ties"),
    Op("minimum", tape.minimum, np.minimum,
       binary(left=gridded, right=lambda s: gridded(s, offset=0.1)), kinks="ties"),
    Op("clip", tape.clip, lambda x, a_min=None, a_max=None: np.clip(x, a_min, a_max), clip_cases(), kinks=(-1.0, -0.5, 0.5, 1.0)),
    Op("where", lambda x, y, condition: tape.where(condition, x, y),
       lambda x, y, condition: np.where(condition, x, y), where_cases()),
    # ---- reductions
    Op("sum", tape.sum, np.sum, reduction_cases()),
    Op("mean", tape.mean, np.mean, reduction_cases()),
    Op("max", tape.max, np.max, reduction_cases(distinct), kinks="ties"),
    Op("min", tape.min, np.min, reduction_cases(distinct), kinks="ties"),
    # ---- shapes
    Op("reshape", tape.reshape, np.reshape, reshape_cases()),
    Op("transpose", tape.transpose, np.transpose, transpose_cases()),
    Op("broadcast_to", tape.broadcast_to, np.broadcast_to, broadcast_to_cases()),
    Op("sum_to", tape.sum_to, _sum_to, sum_to_cases()),
    Op("concatenate", lambda *xs, axis: tape.concatenate(list(xs), axis=axis),
       lambda *xs, axis: np.concatenate(xs, axis=axis), joining_cases(same_shape=False)),
    Op("stack", lambda *xs, axis: tape.stack(list(xs), axis=axis),
       lambda *xs, axis: np.stack(xs, axis=axis), joining_cases(same_shape=True)),
    Op("copy", tape.copy, np.copy, elementwise(arrays)),
    Op("setitem", _assigned, _assigned, setitem_cases()),
    Op("getitem", lambda x, index: x[index], lambda x, index: x[index], getitem_cases()),
    # one element out: its adjoint is 0-d, which numpy likes to turn into a scalar
    Op("getitem", lambda x, index: x[index], lambda x, index: x[index],
       st.tuples(arrays((3, 4)).map(lambda x: (x,)),
                 st.sampled_from([(1, 2), (-1, 0), (0, -1)]).map(lambda i: {"index": i})),
       label="one-element"),
    # ---- convolution and pooling, against cs231n's naive loops
    Op("conv2d", tape.conv2d, _conv2d_loops, conv2d_cases()),
    Op("conv_transpose2d", tape.conv_transpose2d, _conv_transpose2d_loops,
       conv_transpose2d_cases()),
    Op("max_pool2d", tape.max_pool2d, _pool_loops(np.max), pool_cases(distinct), kinks="ties"),
    Op("avg_pool2d", tape.avg_pool2d, _pool_loops(np.mean), pool_cases()),
    # ---- softmax and the losses
    Op("softmax", tape.softmax, _softmax, softmax_cases()),
    Op("log_softmax", tape.log_softmax, _log_softmax, softmax_cases()),
    Op("cross_entropy", tape.cross_entropy, _cross_entropy, cross_entropy_cases()),
    Op("mse", tape.mse, lambda a, b: np.mean((a - b) ** 2), same_shape_pair()),
]

# Public callables of `tape` that are not operations on tensors.
NOT_OPS = {"tensor", "primitive", "is_recording", "scope", "grad", "value_and_grad", "gradients",
           "backward", "entries_reaching", "broadcast_axes", "listing",
           "gradcheck", "numerical_gradient", "one_hot", "unbroadcast", "check_manual",
           "inputs_as_recorded", "compile"}
# Rows reached through a Tensor operator rather than a name of `tape`.
OPERATORS = {"getitem": "__getitem__", "abs": "__abs__", "setitem": "__setitem__"}


# ---- numpy's spellings: np.exp(t) records what tape.exp(t) records ------------------------
#
# One row per numpy function or ufunc that numpy_dispatch.py hands to the tape. Every
# input is a Tensor; tests/engine/test_numpy_dispatch.py checks that the numpy spelling
# and the tape spelling give the same values and the same gradients.

@dataclass(frozen=True)
class Spelling:
    dispatched: object            # the numpy function or ufunc (a key of numpy_dispatch's tables)
    numpy: Callable               # the student's spelling, called on Tensors
    tape: Callable                # the tape's own spelling of the same thing
    cases: st.SearchStrategy
    label: str = ""

    @property
    def id(self):
        name = getattr(self.dispatched, "__name__", str(self.dispatched))
        return f"np.{name}-{self.label}" if self.label else f"np.{name}"


@st.composite
def dot_cases(draw):
    n, k, m = draw(sizes), draw(sizes), draw(sizes)
    a_shape, b_shape = draw(st.sampled_from([((n, k), (k, m)), ((k,), (k,)), ((n, k), (k,)),
                                             ((k,), (k, m)), ((), (n, k)), ((n,), ())]))
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {}


@st.composite
def squeeze_cases(draw):
    shape = draw(st.sampled_from([(1, 3), (2, 1, 3), (1, 1), (3,)]))
    return (draw(arrays(shape)),), {}


def _with(params_strategy, inputs):
    return st.tuples(inputs, params_strategy)


_one = small_shapes.flatmap(arrays).map(lambda x: (x,))
_positive = small_shapes.flatmap(positive).map(lambda x: (x,))
_ties_apart = binary(left=gridded, right=lambda s: gridded(s, offset=0.1))
_CONSTANT = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])     # an ndarray beside a Tensor

NUMPY_SPELLINGS = [
    Spelling(np.add, lambda x, y: np.add(x, y), tape.add, binary()),
    Spelling(np.subtract, lambda x, y: np.subtract(x, y), tape.subtract, binary()),
    Spelling(np.multiply, lambda x, y: np.multiply(x, y), tape.multiply, binary()),
    Spelling(np.multiply, lambda x: _CONSTANT * x, lambda x: tape.multiply(_CONSTANT, x),
             no_params(arrays((2, 3)).map(lambda x: (x,))), label="ndarray-on-the-left"),
    Spelling(np.true_divide, lambda x, y: np.divide(x, y), tape.divide,
             binary(right=away_from_zero)),
    Spelling(np.power, lambda x, y: np.power(x, y), tape.power,
             binary(left=positive, right=lambda s: arrays(s, -1.5, 1.5))),
    Spelling(np.power, lambda x: np.e ** x, lambda x: tape.power(np.e, x), no_params(_one),
             label="e-to-the-tensor"),
    Spelling(np.negative, lambda x: np.negative(x), tape.negative, no_params(_one)),
    Spelling(np.positive, lambda x: np.positive(x), lambda x: x, no_params(_one)),
    Spelling(np.matmul, lambda x, w: np.matmul(x, w), tape.matmul, matmul_cases()),
    Spelling(np.matmul, lambda w: _CONSTANT @ w, lambda w: tape.matmul(_CONSTANT, w),
             no_params(arrays((3, 2)).map(lambda x: (x,))), label="ndarray-on-the-left"),
    Spelling(np.square, lambda x: np.square(x), tape.square, no_params(_one)),
    Spelling(np.absolute, lambda x: np.abs(x), tape.abs,
             elementwise(away_from((0.0,)))),
    Spelling(np.exp, lambda x: np.exp(x), tape.exp, no_params(_one)),
    Spelling(np.log, lambda x: np.log(x), tape.log, no_params(_positive)),
    Spelling(np.sqrt, lambda x: np.sqrt(x), tape.sqrt, no_params(_positive)),
    Spelling(np.tanh, lambda x: np.tanh(x), tape.tanh, no_params(_one)),
    Spelling(np.maximum, lambda x, y: np.maximum(x, y), tape.maximum, _ties_apart),
    Spelling(np.minimum, lambda x, y: np.minimum(x, y), tape.minimum, _ties_apart),
    Spelling(np.sum, lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
             tape.sum, reduction_cases()),
    Spelling(np.mean, lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
             tape.mean, reduction_cases()),
    Spelling(np.max, lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
             tape.max, reduction_cases(distinct)),
    Spelling(np.min, lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
             tape.min, reduction_cases(distinct)),
    Spelling(np.amax, lambda x, axis, keepdims: np.amax(x, axis=axis, keepdims=keepdims),
             tape.max, reduction_cases(distinct)),
    Spelling(np.amin, lambda x, axis, keepdims: np.amin(x, axis=axis, keepdims=keepdims),
             tape.min, reduction_cases(distinct)),
    Spelling(np.dot, lambda x, w: np.dot(x, w),
             lambda x, w: tape.multiply(x, w) if 0 in (x.ndim, w.ndim) else tape.matmul(x, w),
             dot_cases()),
    Spelling(np.vdot, lambda x, y: np.vdot(x, y), lambda x, y: tape.sum(tape.multiply(x, y)),
             same_shape_pair()),
    Spelling(np.outer, lambda x, y: np.outer(x, y), tape.outer, outer_cases()),
    Spelling(np.reshape, lambda x, shape: np.reshape(x, shape), tape.reshape, reshape_cases()),
    Spelling(np.transpose, lambda x, axes: np.transpose(x, axes), tape.transpose,
             transpose_cases()),
    Spelling(np.ravel, lambda x: np.ravel(x), lambda x: tape.reshape(x, shape=(-1,)),
             no_params(_one)),
    Spelling(np.squeeze, lambda x: np.squeeze(x),
             lambda x: tape.reshape(x, shape=tuple(n for n in x.shape if n != 1)),
             squeeze_cases()),
    Spelling(np.expand_dims, lambda x: np.expand_dims(x, 0),
             lambda x: tape.reshape(x, shape=(1, *x.shape)), no_params(_one)),
    Spelling(np.broadcast_to, lambda x, shape: np.broadcast_to(x, shape), tape.broadcast_to,
             broadcast_to_cases()),
    Spelling(np.concatenate, lambda *xs, axis: np.concatenate(xs, axis=axis),
             lambda *xs, axis: tape.concatenate(list(xs), axis=axis),
             joining_cases(same_shape=False)),
    Spelling(np.stack, lambda *xs, axis: np.stack(xs, axis=axis),
             lambda *xs, axis: tape.stack(list(xs), axis=axis), joining_cases(same_shape=True)),
    Spelling(np.copy, lambda x: np.copy(x), tape.copy, no_params(_one)),
    Spelling(np.clip, lambda x, a_min=None, a_max=None: np.clip(x, a_min, a_max), tape.clip,
             clip_cases()),
    Spelling(np.where, lambda x, y, condition: np.where(condition, x, y),
             lambda x, y, condition: tape.where(condition, x, y), where_cases()),
]

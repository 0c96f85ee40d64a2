"""tape: reverse-mode automatic differentiation over numpy, one recorded entry per operation.

Read it bottom-up; each layer uses only the ones above it in this list.

The mechanism (no op in it):
- `tape.py`       an `Entry` per recorded operation, numbered in order; `no_grad`,
                  kept per thread
- `_tensor.py`    the Tensor: an ndarray with `.grad` and a link to the entry that made it
                  (named as PyTorch names it, so that `tape.tensor` is the constructor)
- `primitive.py`  how an op is defined and recorded: a numpy forward plus one vjp rule
                  per input
- `assignment.py` an assignment into a tensor (`z[z < 0] = 0`) as the sweep sees it
- `backprop.py`   the reverse sweep (backpropagation): `backward`, `gradients`
- `listing.py`    the `Tape` context, and its entries printed as a Wengert list

The ops, each with its gradient rule beside it:
- `shapes.py`, `activations.py`, `arithmetic.py`, `reductions.py`, `losses.py`
- `im2col.py`     the convolution as the lesson derives it: im2col, one product, col2im
- `workspace.py`  scratch arrays an op reuses from call to call, per thread (never outputs)
- `conv_blocked.py` the same products a few images at a time, channels last (the speed)
- `conv.py`       the ops conv2d, conv_transpose2d and their vjp rules
- `pool.py`       max_pool2d, avg_pool2d
- `operators.py`  attaches `+ - * / ** @`, comparisons, indexing, assignment, printing and
                  methods to Tensor
- `numpy_dispatch.py`  numpy's own functions on Tensors (np.exp(t), np.dot(x, w)) as tape ops

On top:
- `functional.py` `grad`, `value_and_grad` (nested gradients kept apart)
- `gradcheck.py`  finite-difference checking
- `check_manual.py`  a student's hand-written backward pass checked against the tape
- `compiler/`     `compile`: a gradient traced once, replayed as generated numpy source
"""

from .tape import Entry, enable_grad, is_recording, no_grad, scope
from ._tensor import Tensor, tensor
from .primitive import Primitive, primitive
from .backprop import backward, gradients
from .assignment import inputs_as_recorded
from .listing import Tape, entries_reaching, listing
from .shapes import (reshape, transpose, broadcast_to, sum_to, unbroadcast, broadcast_axes,
                     concatenate, stack, cast, copy)
from .activations import (exp, log, sqrt, tanh, sigmoid, relu, leaky_relu, hardtanh, maximum,
                          minimum, clip, where)
from .arithmetic import (add, subtract, multiply, divide, negative, power, matmul, linear,
                         square, outer, absolute as abs)
from .reductions import sum, mean, max, min
from .conv import conv2d, conv_transpose2d
from .pool import max_pool2d, avg_pool2d
from .losses import softmax, log_softmax, cross_entropy, mse, one_hot
from . import operators  # noqa: F401  (gives Tensor its operators)
from .numpy_dispatch import DroppedGradientError
from .functional import grad, value_and_grad
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .check_manual import CheckResult, check_manual
from .compiler import CompileError, TracedValueError, compile

__version__ = "0.2.0"

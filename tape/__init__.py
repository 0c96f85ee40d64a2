"""tape: reverse-mode automatic differentiation over numpy, one recorded entry per operation.

- `tensor.py`      the Tensor: an ndarray with `.grad` and a link to the entry that made it
- `tape.py`        the tape: `Entry`, the `Tape` context, `no_grad`
- `primitive.py`   how an op is defined: a numpy forward plus one vjp rule per input
- `arithmetic.py`, `activations.py`, `reductions.py`, `shapes.py`, `losses.py`
                   the ops, each with its gradient rule beside it
- `conv.py`        conv2d, max_pool2d, avg_pool2d: im2col and one matrix product
- `backward.py`    the reverse sweep (backpropagation)
- `functional.py`  `grad`, `value_and_grad`
- `gradcheck.py`   finite-difference checking
"""

from .tape import Entry, Tape, enable_grad, is_recording, no_grad, scope
from .tensor import Tensor, tensor
from .primitive import Primitive, primitive
from .arithmetic import add, subtract, multiply, divide, negative, power, matmul, linear, cast
from .activations import exp, log, sqrt, tanh, sigmoid, relu, leaky_relu, hardtanh, maximum, where
from .reductions import sum, mean, max
from .conv import conv2d, conv_transpose2d, max_pool2d, avg_pool2d
from .shapes import reshape, transpose, broadcast_to, sum_to, unbroadcast, concatenate, stack
from .losses import softmax, log_softmax, cross_entropy, mse, one_hot
from .backward import gradients
from .functional import grad, value_and_grad
from .gradcheck import GradcheckError, gradcheck

__version__ = "0.1.0"

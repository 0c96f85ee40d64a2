"""Layers built from tape operations: `Linear`, `Conv2d`, `MaxPool2d`, `Flatten` and the
activations, with the initialisations their weights start from (`INITS`)."""

import numpy as np

import tape
from models.nn.module import Module


# ---- initialisation ------------------------------------------------------------------

INITS = ("he", "xavier", "lecun", "gaussian")


def init_weight(fan_in, fan_out, init, rng, dtype, shape=None, weight_scale=1e-3):
    """W ~ N(0, std²), with std chosen by `init`:

    he        std = √(2/fan_in)            keeps the variance through ReLU layers
    xavier    std = √(2/(fan_in+fan_out))  Glorot's, for tanh and sigmoid
    lecun     std = √(1/fan_in)            randn/√fan_in, as in report 003's template
    gaussian  std = weight_scale           a fixed scale, cs231n's weight_scale (1e-3)

    The shape is (fan_in, fan_out) unless given (a convolution's (C_out, C_in, k, k)).
    """
    if init == "he":
        std = np.sqrt(2.0 / fan_in)
    elif init == "xavier":
        std = np.sqrt(2.0 / (fan_in + fan_out))
    elif init == "lecun":
        std = np.sqrt(1.0 / fan_in)
    elif init == "gaussian":
        if not weight_scale > 0:
            raise ValueError(f"init 'gaussian' needs a positive weight_scale (the standard "
                             f"deviation), got {weight_scale!r}")
        std = weight_scale
    else:
        raise ValueError(f"unknown init {init!r}: choose one of {', '.join(INITS)}")
    return (rng.standard_normal(shape or (fan_in, fan_out)) * std).astype(dtype)


class Linear(Module):
    """A fully connected layer: Z = XW + b, with W of shape (in, out)."""

    def __init__(self, fan_in, fan_out, init="he", rng=None, dtype=np.float32, label=None,
                 weight_scale=1e-3):
        if fan_in < 1 or fan_out < 1:
            raise ValueError(f"Linear needs positive sizes, got ({fan_in}, {fan_out})")
        rng = rng if rng is not None else np.random.default_rng()
        self.W = tape.tensor(init_weight(fan_in, fan_out, init, rng, dtype,
                                         weight_scale=weight_scale),
                             requires_grad=True, name="W")
        self.b = tape.tensor(np.zeros(fan_out, dtype=dtype), requires_grad=True, name="b")
        self.label = label

    def forward(self, x):
        return tape.linear(x, self.W, self.b)      # Z = XW + b

    def __repr__(self):
        return f"Linear({self.W.shape[0]}, {self.W.shape[1]})"


class Conv2d(Module):
    """A convolutional layer: Y = W ⋆ X + b, W of shape (C_out, C_in, k, k) (PyTorch's layout).

    padding="same" (the default) keeps the image size for an odd kernel at stride 1:
    k // 2 zeros on every side. He initialisation counts C_in·k·k inputs per output.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding="same",
                 init="he", rng=None, dtype=np.float32, label=None):
        if min(in_channels, out_channels, kernel_size, stride) < 1:
            raise ValueError(f"Conv2d needs positive channels, kernel size and stride, got "
                             f"({in_channels}, {out_channels}, {kernel_size}, stride={stride})")
        if padding == "same":
            if kernel_size % 2 == 0 or stride != 1:
                raise ValueError(f"Conv2d: padding='same' needs an odd kernel size and stride "
                                 f"1, got kernel {kernel_size}, stride {stride}; give padding "
                                 f"as a number instead")
            padding = kernel_size // 2
        rng = rng if rng is not None else np.random.default_rng()
        k = kernel_size            # each output sees C_in·k·k inputs; each input feeds C_out·k·k
        W = init_weight(in_channels * k * k, out_channels * k * k, init, rng, dtype,
                        shape=(out_channels, in_channels, k, k))
        self.W = tape.tensor(W, requires_grad=True, name="W")
        self.b = tape.tensor(np.zeros(out_channels, dtype=dtype), requires_grad=True, name="b")
        self.stride, self.padding, self.label = stride, padding, label

    def forward(self, x):
        return tape.conv2d(x, self.W, self.b, stride=self.stride, padding=self.padding)

    def output_size(self, size):
        """The height (or width) of the output for an input of that height (or width)."""
        return (size + 2 * self.padding - self.W.shape[2]) // self.stride + 1

    def __repr__(self):
        c_out, c_in, k, _ = self.W.shape
        return f"Conv2d({c_in}, {c_out}, {k}, padding={self.padding})"


class MaxPool2d(Module):
    """The maximum of each k×k window (stride k: the image shrinks k-fold)."""

    def __init__(self, kernel_size=2, stride=None, label=None):
        self.kernel_size, self.stride, self.label = kernel_size, stride, label

    def forward(self, x):
        return tape.max_pool2d(x, self.kernel_size, self.stride)

    def output_size(self, size):
        return (size - self.kernel_size) // (self.stride or self.kernel_size) + 1

    def __repr__(self):
        return f"MaxPool2d({self.kernel_size})"


class Flatten(Module):
    """(N, C, H, W) images to (N, C·H·W) rows, for the fully connected layers."""

    def forward(self, x):
        return x.reshape(len(x), -1)

    def __repr__(self):
        return "Flatten()"


# ---- activations ---------------------------------------------------------------------

class Activation(Module):
    function = None

    def forward(self, x):
        return type(self).function(x)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ReLU(Activation):
    function = staticmethod(tape.relu)


class Sigmoid(Activation):
    function = staticmethod(tape.sigmoid)


class Tanh(Activation):
    function = staticmethod(tape.tanh)


class HardTanh(Activation):
    function = staticmethod(tape.hardtanh)


class LeakyReLU(Activation):
    def __init__(self, slope=0.01):
        self.slope = slope

    def forward(self, x):
        return tape.leaky_relu(x, slope=self.slope)

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope})"


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh,
               "leaky_relu": LeakyReLU, "hardtanh": HardTanh}


def activation(name):
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}: choose one of "
                         f"{', '.join(ACTIVATIONS)}") from None

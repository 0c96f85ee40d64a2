"""Layers built from tape operations: `Linear`, `Conv2d`, `MaxPool2d`, `Flatten`, the
activations, and two classifiers: the `MLP` and the `CNN`.

A module is a callable holding parameters. Calling it runs `forward` inside a
`tape.scope` named after the module, so a drawing of the tape can group its entries.
Nothing here computes a gradient: the tape does, from the operations `forward` used.
"""

import numpy as np

import tape


class Module:
    """Base class: parameters are found by walking the attributes, into submodules and
    into the lists, tuples and dicts that hold them (`self.layers = [Linear(4, 3), ...]`
    gives `layers.0.W`, `layers.0.b`, ...), as PyTorch's Module does."""

    label = None   # the name drawn around this module's entries; defaults to the class name

    def __call__(self, *args, **kwargs):
        with tape.scope(self.label or type(self).__name__):
            return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def named_parameters(self):
        """{name: Tensor} for every parameter, in a fixed order (each tensor once)."""
        found, seen = {}, set()
        for attr, value in vars(self).items():
            for name, p in _parameters_in(value, attr):
                if id(p) not in seen:
                    seen.add(id(p))
                    found[name] = p
        return found

    def parameters(self):
        return list(self.named_parameters().values())

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def state_dict(self):
        """{name: ndarray} copies of the parameters (for checkpoints and best-so-far)."""
        return {k: p.data.copy() for k, p in self.named_parameters().items()}

    def load_state_dict(self, state):
        params = self.named_parameters()
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {missing}, "
                           f"unexpected {unexpected}")
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: {name} has shape "
                                 f"{value.shape} in the state but {p.shape} in the model")
            p.data[...] = value


def _parameters_in(value, name):
    """(name, tensor) for the parameters held by an attribute's value."""
    if isinstance(value, tape.Tensor):
        if value.requires_grad:
            yield name, value
    elif isinstance(value, Module):
        for k, p in value.named_parameters().items():
            yield f"{name}.{k}", p
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _parameters_in(item, f"{name}.{i}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _parameters_in(item, f"{name}.{key}")


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


SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_dtype(dtype, who):
    """float32 or float64; anything else is refused with the reason."""
    dtype = np.dtype(dtype)
    if dtype not in SUPPORTED_DTYPES:
        why = (" (float16's range ends at 65504, so softmax and the loss overflow, and its "
               "3 significant digits lose small updates)" if dtype == np.float16 else "")
        raise ValueError(f"{who}: dtype {dtype} is not supported{why}; use float32 or float64")
    return dtype


def as_input(x, dtype, who):
    """The input batch in the model's dtype.

    An ndarray (or list) of another type — integer pixels, booleans, float64 data for a
    float32 model — is converted to the model's dtype, values unchanged (integer pixels
    are *not* rescaled to [0, 1]). A Tensor of another dtype is refused rather than
    converted, since converting it would cut it off the tape.
    """
    if isinstance(x, tape.Tensor):
        if x.dtype != dtype:
            raise TypeError(f"{who}: the input Tensor is {x.dtype} but the model is {dtype}; "
                            f"convert it first, e.g. tape.tensor(x.data.astype('{dtype}'))")
        return x
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{who}: inputs must be numbers, got dtype {x.dtype}")
    return x.astype(dtype, copy=False)


class Classifier(Module):
    """A module mapping a batch of inputs to class scores (logits): what the trainer takes.

    The training loop (`models/train/loop.py`) needs `parameters()`, `named_parameters()`,
    `weights()` (what L2 penalises), `state_dict()` / `load_state_dict()`, and calls the
    model on mini-batches; evaluation runs it on `eval_batch_size` inputs at a time.
    """

    eval_batch_size = 10000

    def weights(self):
        raise NotImplementedError

    def predict(self, x, batch_size=None):
        """Class ids for a batch of inputs (no tape: evaluation only)."""
        batch_size = batch_size or self.eval_batch_size
        with tape.no_grad():
            return np.concatenate([self(x[i:i + batch_size]).data.argmax(axis=1)
                                   for i in range(0, len(x), batch_size)])


class MLP(Classifier):
    """A multilayer perceptron: Linear → activation → ... → Linear (logits).

    `MLP([784, 256, 10])` is the course's two-layer network; `MLP([784, 600, 400, 10])`
    has two hidden layers. Parameters are named W1, b1, W2, b2, ... as in the reports.
    """

    def __init__(self, sizes, activation_name="relu", init="he", seed=0, dtype=np.float32,
                 weight_scale=1e-3):
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP needs at least an input and an output size, all "
                             f"positive; got {sizes}")
        self.dtype = check_dtype(dtype, "MLP")
        rng = np.random.default_rng(seed)
        self.sizes = sizes
        self.activation_name = activation_name
        self.layers = [Linear(a, b, init, rng, dtype, label=f"Linear{i + 1}",
                              weight_scale=weight_scale)
                       for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.activations = [activation(activation_name) for _ in sizes[2:]]
        for i, act in enumerate(self.activations, start=1):
            act.label = f"{type(act).__name__}{i}"     # one box per layer in a drawing
        for i, layer in enumerate(self.layers, start=1):
            layer.W.name, layer.b.name = f"W{i}", f"b{i}"

    def forward(self, x):
        x = as_input(x, self.dtype, "MLP")
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"MLP: expected inputs of shape (batch, {self.sizes[0]}), got "
                             f"{tuple(x.shape)}")
        for layer, act in zip(self.layers, self.activations):
            x = act(layer(x))
        return self.layers[-1](x)

    def named_parameters(self):
        found = {}
        for i, layer in enumerate(self.layers, start=1):
            found[f"W{i}"], found[f"b{i}"] = layer.W, layer.b
        return found

    def weights(self):
        """The weight matrices only: what L2 regularisation penalises."""
        return [layer.W for layer in self.layers]

    def __repr__(self):
        return f"MLP({self.sizes}, activation={self.activation_name!r})"


class CNN(Classifier):
    """A convolutional classifier (the network of report 003 by default):

        [conv k×k 'same' → activation → max-pool 2] per entry of `channels`
        → flatten → [linear → activation] per entry of `fc` → linear (logits)

    `CNN()` is conv 5×5 32 → relu → pool → conv 5×5 64 → relu → pool → fc 1024 → relu →
    fc 10 on 1×28×28 images. Inputs may also come flattened, (N, 784): they are viewed
    as (N, 1, 28, 28). Parameters are named conv1.W, conv1.b, ..., fc1.W, fc1.b, ...
    """

    eval_batch_size = 256      # an im2col buffer of 256 images, not of the whole test set

    def __init__(self, channels=(32, 64), kernel=5, fc=(1024,), activation_name="relu",
                 in_shape=(1, 28, 28), n_classes=10, init="he", seed=0, dtype=np.float32):
        channels, fc = [int(c) for c in channels], [int(n) for n in fc]
        if not channels or min(channels + fc + [kernel, n_classes]) < 1:
            raise ValueError(f"CNN needs at least one convolution and positive sizes; got "
                             f"channels {channels}, kernel {kernel}, fc {fc}")
        self.dtype = check_dtype(dtype, "CNN")
        rng = np.random.default_rng(seed)
        self.channels, self.kernel, self.fc = channels, int(kernel), fc
        self.activation_name, self.in_shape = activation_name, tuple(in_shape)
        self.sequence = []            # the layers in the order forward calls them

        def numbered_activation():    # ReLU1, ReLU2, ...: one box each in a drawing
            act = activation(activation_name)
            count = sum(isinstance(layer, Activation) for layer in self.sequence)
            act.label = f"{type(act).__name__}{count + 1}"
            return act

        c, h, w = self.in_shape
        for i, c_out in enumerate(channels, start=1):
            conv = Conv2d(c, c_out, kernel, init=init, rng=rng, dtype=dtype, label=f"Conv{i}")
            pool = MaxPool2d(2, label=f"MaxPool{i}")
            h, w = pool.output_size(conv.output_size(h)), pool.output_size(conv.output_size(w))
            if h < 1 or w < 1:
                raise ValueError(f"CNN: {len(channels)} convolution+pooling stages shrink a "
                                 f"{self.in_shape[1]}×{self.in_shape[2]} image to nothing; "
                                 f"use fewer --channels")
            setattr(self, f"conv{i}", conv)      # model.conv1, model.conv2, ...
            self.sequence += [conv, numbered_activation(), pool]
            c = c_out
        self.sequence.append(Flatten())
        sizes = [c * h * w, *fc, n_classes]
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            layer = Linear(a, b, init, rng, dtype, label=f"fc{i}")
            setattr(self, f"fc{i}", layer)
            self.sequence.append(layer)
            if i < len(sizes) - 1:
                self.sequence.append(numbered_activation())

    def forward(self, x):
        x = as_input(x, self.dtype, "CNN")
        c, h, w = self.in_shape
        if x.ndim == 2 and x.shape[1] == c * h * w or x.ndim == 3 and x.shape[1:] == (h, w):
            x = x.reshape(len(x), c, h, w)    # flattened images, as the MLP takes them
        if x.shape[1:] != self.in_shape:
            raise ValueError(f"CNN: expected images of shape (batch, {c}, {h}, {w}) (or "
                             f"(batch, {c * h * w}) flattened), got {tuple(x.shape)}")
        for layer in self.sequence:
            x = layer(x)
        return x

    def named_parameters(self):
        """conv1.W, conv1.b, ..., fc1.W, fc1.b, ...: the layers by name, in order."""
        found = {}
        for layer in self.sequence:
            if isinstance(layer, (Conv2d, Linear)):
                found[f"{layer.label.lower()}.W"], found[f"{layer.label.lower()}.b"] = \
                    layer.W, layer.b
        return found

    def weights(self):
        """The convolution kernels and weight matrices: what L2 regularisation penalises."""
        return [p for name, p in self.named_parameters().items() if name.endswith(".W")]

    def __repr__(self):
        return (f"CNN(channels={self.channels}, kernel={self.kernel}, fc={self.fc}, "
                f"activation={self.activation_name!r})")


def l2_penalty(weights, lam):
    """½·λ·Σ‖W‖²: its gradient with respect to each W is λW (biases are not penalised)."""
    return 0.5 * lam * sum((w * w).sum() for w in weights)

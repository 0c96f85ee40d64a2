"""Layers built from tape operations: `Linear`, the activations, and the `MLP`.

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


def init_weight(fan_in, fan_out, init, rng, dtype, weight_scale=1e-3):
    """W ~ N(0, std²) of shape (fan_in, fan_out), with std chosen by `init`:

    he        std = √(2/fan_in)            keeps the variance through ReLU layers
    xavier    std = √(2/(fan_in+fan_out))  Glorot's, for tanh and sigmoid
    lecun     std = √(1/fan_in)            randn/√fan_in, as in report 003's template
    gaussian  std = weight_scale           a fixed scale, cs231n's weight_scale (1e-3)
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
    return (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype)


class Linear(Module):
    """A fully connected layer: Z = XW + b, with W of shape (in, out)."""

    def __init__(self, fan_in, fan_out, init="he", rng=None, dtype=np.float32, label=None,
                 weight_scale=1e-3):
        if fan_in < 1 or fan_out < 1:
            raise ValueError(f"Linear needs positive sizes, got ({fan_in}, {fan_out})")
        rng = rng if rng is not None else np.random.default_rng()
        self.W = tape.tensor(init_weight(fan_in, fan_out, init, rng, dtype, weight_scale),
                             requires_grad=True, name="W")
        self.b = tape.tensor(np.zeros(fan_out, dtype=dtype), requires_grad=True, name="b")
        self.label = label

    def forward(self, x):
        return tape.linear(x, self.W, self.b)      # Z = XW + b

    def __repr__(self):
        return f"Linear({self.W.shape[0]}, {self.W.shape[1]})"


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


class MLP(Module):
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

    def predict(self, x, batch_size=10000):
        """Class ids for a batch of inputs (no tape: evaluation only)."""
        with tape.no_grad():
            return np.concatenate([self(x[i:i + batch_size]).data.argmax(axis=1)
                                   for i in range(0, len(x), batch_size)])

    def __repr__(self):
        return f"MLP({self.sizes}, activation={self.activation_name!r})"


def l2_penalty(weights, lam):
    """½·λ·Σ‖W‖²: its gradient with respect to each W is λW (biases are not penalised)."""
    return 0.5 * lam * sum((w * w).sum() for w in weights)

"""The course's two classifiers, `MLP` and `CNN`, built from the layers, and `l2_penalty`."""

import numpy as np

import tape
from models.nn.layers import Activation, Conv2d, Flatten, Linear, MaxPool2d, activation
from models.nn.module import Module


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

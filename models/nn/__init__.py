"""Networks built from tape operations, PyTorch-style: a `Module` holds parameters and
calls tape ops in `forward`.

Read `layers.py` top to bottom: `Module`, the initialisations (`INITS`), the layers
(`Linear`, `Conv2d`, `MaxPool2d`, `Flatten`, the activations), then the two networks of the
course, `MLP` and `CNN`, and `l2_penalty`.
"""

from .layers import (Module, INITS, init_weight, Linear, Conv2d, MaxPool2d, Flatten,
                     Activation, ReLU, Sigmoid, Tanh, HardTanh, LeakyReLU, ACTIVATIONS,
                     activation, SUPPORTED_DTYPES, check_dtype, as_input, Classifier,
                     MLP, CNN, l2_penalty)

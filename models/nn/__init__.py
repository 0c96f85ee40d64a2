"""Networks built from tape operations, PyTorch-style: a `Module` holds parameters and
calls tape ops in `forward`.

Read `module.py` (`Module`: parameters, state dicts, the scope of a call), then
`layers.py` (the initialisations `INITS`, `Linear`, `Conv2d`, `MaxPool2d`, `Flatten`,
the activations), then `nets.py` (the course's `MLP` and `CNN`, and `l2_penalty`).
"""

from .layers import (INITS, init_weight, Linear, Conv2d, MaxPool2d, Flatten,
                     Activation, ReLU, Sigmoid, Tanh, HardTanh, LeakyReLU, ACTIVATIONS,
                     activation)
from .module import Module
from .nets import (SUPPORTED_DTYPES, check_dtype, as_input, Classifier, MLP, CNN,
                   l2_penalty)

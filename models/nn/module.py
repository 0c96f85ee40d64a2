"""`Module`: a callable holding parameters, found by walking its attributes.

Calling a module runs `forward` inside a `tape.scope` named after the module, so a
drawing of the tape can group its entries. Nothing here computes a gradient: the tape
does, from the operations `forward` used.
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

"""One training step of the same network, 784-256-10, ReLU, softmax cross-entropy,
SGD with momentum 0.9, float32, written for each backend.

Every backend starts from the same weights and sees the same batches, so all of them
must reach the same test accuracy: the same math, different bookkeeping.
"""

import importlib

import numpy as np

import tape
from models import manual
from models.nn import MLP
from models.optim import SGD

LR, MOMENTUM = 0.01, 0.9


def initial_params(sizes=(784, 256, 10), seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = (rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32)
        params[f"b{i}"] = np.zeros(b, np.float32)
    return params


class NumpyBackend:
    """The hand-derived formulas of models/manual/formulas.py, updated in place."""
    name = "numpy"
    imports = ("models.manual",)

    def __init__(self, params):
        self.manual = manual
        self.params = {k: v.copy() for k, v in params.items()}
        self.velocity = {}

    def step(self, x, y):
        loss, grads = self.manual.mlp_loss_and_grads(self.params, x, y)
        self.manual.sgd_momentum_step(self.params, grads, self.velocity, LR, MOMENTUM)
        return loss

    def predict(self, x):
        p = self.params
        return (np.maximum(x @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]).argmax(1)


class TapeBackend:
    """The tape: models.nn.MLP, loss.backward(), models.optim.SGD."""
    name = "tape"
    imports = ("tape", "models.nn", "models.optim")

    def __init__(self, params):
        self.tape = tape
        self.model = MLP([784, 256, 10])
        self.model.load_state_dict(params)
        self.optimizer = SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def step(self, x, y):
        loss = self.tape.cross_entropy(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(loss.data)

    def predict(self, x):
        return self.model.predict(x)


class TorchBackend:
    """PyTorch CPU, the same network with torch.nn.functional and torch.optim.SGD."""
    name = "pytorch"
    imports = ("torch",)

    def __init__(self, params):
        import torch                    # optional: only for the comparison
        self.torch = torch
        self.params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        # torch's momentum is v ← μv + g; θ ← θ − ηv: the same trajectory as v ← μv − ηg
        self.optimizer = torch.optim.SGD(self.params.values(), lr=LR, momentum=MOMENTUM)

    def forward(self, x):
        p = self.params
        return self.torch.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]

    def step(self, x, y):
        torch = self.torch
        loss = torch.nn.functional.cross_entropy(self.forward(torch.from_numpy(x)),
                                                 torch.from_numpy(y))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def predict(self, x):
        with self.torch.no_grad():
            return self.forward(self.torch.from_numpy(x)).argmax(1).numpy()


class AutogradBackend:
    """HIPS autograd: grad of a numpy function, momentum written by hand."""
    name = "autograd"
    imports = ("autograd", "autograd.numpy")

    def __init__(self, params):
        import autograd                 # optional: only for the comparison
        import autograd.numpy as anp     # optional: only for the comparison
        self.params = {k: v.copy() for k, v in params.items()}
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()}

        def loss(p, x, y):
            z = anp.maximum(anp.dot(x, p["W1"]) + p["b1"], 0.0)
            s = anp.dot(z, p["W2"]) + p["b2"]
            s = s - anp.max(s, axis=1, keepdims=True)
            log_probs = s - anp.log(anp.sum(anp.exp(s), axis=1, keepdims=True))
            return -anp.mean(log_probs[np.arange(len(y)), y])

        self.value_and_grad = autograd.value_and_grad(loss)

    def step(self, x, y):
        loss, grads = self.value_and_grad(self.params, x, y)
        for k, g in grads.items():
            v = self.velocity[k]
            v *= MOMENTUM
            v -= LR * g
            self.params[k] += v
        return float(loss)

    def predict(self, x):
        p = self.params
        return (np.maximum(x @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]).argmax(1)


BACKENDS = {b.name: b for b in (TapeBackend, NumpyBackend, TorchBackend, AutogradBackend)}


def available(name):
    """Whether the libraries a backend needs are installed."""
    try:
        for module in BACKENDS[name].imports:
            importlib.import_module(module)
        return True
    except ImportError:
        return False

"""`Module`, as PyTorch users expect it: parameters found in lists, tuples and dicts, and
every argument of a call passed to `forward`."""

import numpy as np
import pytest

import tape
from models import nn


def _linear_pair(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Linear(4, 3, rng=rng, dtype=np.float64), nn.Linear(3, 2, rng=rng, dtype=np.float64)


class ListNet(nn.Module):
    def __init__(self):
        self.layers = list(_linear_pair())

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class TupleNet(ListNet):
    def __init__(self):
        self.layers = _linear_pair()


class DictNet(nn.Module):
    def __init__(self):
        first, second = _linear_pair()
        self.blocks = {"encoder": first, "decoder": second}

    def forward(self, x):
        return self.blocks["decoder"](self.blocks["encoder"](x))


@pytest.mark.parametrize("net, prefixes", [
    (ListNet, ["layers.0", "layers.1"]),
    (TupleNet, ["layers.0", "layers.1"]),
    (DictNet, ["blocks.encoder", "blocks.decoder"]),
], ids=["list", "tuple", "dict"])
def test_module_finds_parameters_in_lists_tuples_and_dicts(net, prefixes):
    model = net()
    held = model.layers if hasattr(model, "layers") else list(model.blocks.values())
    expected = {f"{p}.{k}": getattr(layer, k) for p, layer in zip(prefixes, held)
                for k in ("W", "b")}
    found = model.named_parameters()
    assert set(found) == set(expected)
    assert all(found[k] is expected[k] for k in expected)
    assert len(model.parameters()) == 4
    model.zero_grad()
    tape.mse(model(np.ones((5, 4))), np.zeros((5, 2))).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_module_call_passes_every_argument_to_forward():
    class Shifted(nn.Module):
        def __init__(self):
            self.layer = _linear_pair()[0]

        def forward(self, x, shift, scale=1.0):
            return self.layer(x) * scale + shift

    net = Shifted()
    x, shift = np.ones((2, 4)), np.full((2, 3), 0.5)
    out = net(x, shift, scale=2.0)
    expected = (x @ net.layer.W.data + net.layer.b.data) * 2.0 + 0.5
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)

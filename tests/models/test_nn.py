"""Layers and the MLP: shapes, initialisation, parameter names, state round trips."""

import numpy as np
import pytest

import tape
from models.nn import MLP, Linear, activation, l2_penalty


def test_linear_computes_xw_plus_b():
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(layer(x).data, x @ layer.W.data + layer.b.data, rtol=1e-6)


@pytest.mark.parametrize("init, variance", [("he", 2 / 400), ("xavier", 2 / (400 + 300))])
def test_initialisation_has_the_textbook_variance(init, variance):
    layer = Linear(400, 300, init=init, rng=np.random.default_rng(0))
    assert layer.W.data.var() == pytest.approx(variance, rel=0.05)
    assert not layer.b.data.any()


def test_mlp_names_parameters_as_the_reports_do():
    model = MLP([784, 600, 400, 10])
    assert list(model.named_parameters()) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert model.named_parameters()["W2"].shape == (600, 400)
    assert model(np.zeros((5, 784), np.float32)).shape == (5, 10)


def test_mlp_same_seed_same_weights_other_seed_other_weights():
    a, b, c = MLP([10, 8, 3], seed=1), MLP([10, 8, 3], seed=1), MLP([10, 8, 3], seed=2)
    np.testing.assert_array_equal(a.layers[0].W.data, b.layers[0].W.data)
    assert not np.array_equal(a.layers[0].W.data, c.layers[0].W.data)


def test_state_dict_roundtrip_gives_identical_predictions():
    x = np.random.default_rng(0).standard_normal((20, 10)).astype(np.float32)
    a, b = MLP([10, 8, 3], seed=1), MLP([10, 8, 3], seed=2)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_names_the_mismatch():
    model = MLP([10, 8, 3])
    state = model.state_dict()
    state["W1"] = np.zeros((9, 8), np.float32)
    with pytest.raises(ValueError, match=r"W1 has shape \(9, 8\)"):
        model.load_state_dict(state)
    del state["W1"]
    with pytest.raises(KeyError, match="missing \\['W1'\\]"):
        model.load_state_dict(state)


def test_modules_label_their_entries_on_the_tape():
    model = MLP([4, 3, 2])
    with tape.Tape() as t:
        model(np.ones((1, 4), np.float32))
    scopes = [e.scope for e in t.entries]
    assert scopes[0] == ("MLP", "Linear1") and ("MLP", "ReLU1") in scopes
    assert scopes[-1] == ("MLP", "Linear2")


def test_each_hidden_layers_activation_has_its_own_label():
    model = MLP([4, 3, 3, 3, 2], "tanh")
    with tape.Tape() as t:
        model(np.ones((1, 4), np.float32))
    assert list(dict.fromkeys(e.scope[-1] for e in t.entries)) == [
        "Linear1", "Tanh1", "Linear2", "Tanh2", "Linear3", "Tanh3", "Linear4"]


def test_l2_penalty_gradient_is_lambda_w():
    model = MLP([5, 4, 3])
    l2_penalty(model.weights(), 0.3).backward()
    for layer in model.layers:
        np.testing.assert_allclose(layer.W.grad, 0.3 * layer.W.data, rtol=1e-6)
        assert layer.b.grad is None     # biases are not penalised


def test_unknown_activation_lists_the_choices():
    with pytest.raises(ValueError, match="relu, sigmoid, tanh, leaky_relu, hardtanh"):
        activation("swish")


def test_mlp_refuses_zero_sized_layers():
    with pytest.raises(ValueError, match="positive"):
        MLP([784, 0, 10])

"""The reports' own conventions, each checked against its hand formula and its conversion."""

import numpy as np
import pytest

import tape
from models.nn import MLP, init_weight
from models.optim import DEFAULT_LR, OPTIMIZERS, SGD, make_optimizer
from models.train.losses import LOSSES, data_loss

rng = np.random.default_rng(0)
GRADIENTS = [rng.standard_normal((3, 2)) for _ in range(4)]


def follow(optimizer, theta, gradients=GRADIENTS):
    """Run the optimiser on one parameter through a fixed sequence of gradients."""
    path = []
    for g in gradients:
        theta.grad = g.copy()
        optimizer.step()
        path.append(theta.data.copy())
    return path


# ---- momentum, damped (report 001) ------------------------------------------------------

def test_damped_momentum_is_v_beta_v_minus_1_minus_beta_g_then_theta_plus_eta_v():
    eta, beta = 0.01, 0.8
    theta = tape.tensor(np.ones((3, 2)), requires_grad=True)
    path = follow(make_optimizer("momentum_damped", [theta], eta, momentum=beta), theta)
    w, v = np.ones((3, 2)), np.zeros((3, 2))
    for g, got in zip(GRADIENTS, path):
        v = beta * v - (1 - beta) * g           # report 001: v ← βv − (1−β)∇L
        w = w + eta * v                         # a step down the gradient, of size η
        np.testing.assert_allclose(got, w, rtol=1e-14)


def test_damped_eta_beta_takes_the_steps_of_momentum_with_lr_eta_times_1_minus_beta():
    eta, beta = 0.01, 0.8
    a = tape.tensor(np.ones((3, 2)), requires_grad=True)
    b = tape.tensor(np.ones((3, 2)), requires_grad=True)
    damped = follow(SGD([a], lr=eta, momentum=beta, damped=True), a)
    standard = follow(SGD([b], lr=eta * (1 - beta), momentum=beta), b)
    for x, y in zip(damped, standard):
        np.testing.assert_allclose(x, y, rtol=1e-13)


def test_standard_momentum_is_still_v_mu_v_minus_eta_g():
    theta = tape.tensor(np.zeros((3, 2)), requires_grad=True)
    path = follow(make_optimizer("momentum", [theta], 0.1, momentum=0.9), theta)
    w, v = np.zeros((3, 2)), np.zeros((3, 2))
    for g, got in zip(GRADIENTS, path):
        v = 0.9 * v - 0.1 * g
        w = w + v
        np.testing.assert_allclose(got, w, rtol=1e-14)


def test_damped_form_refuses_nesterov_and_zero_momentum():
    theta = tape.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="damped form needs a momentum"):
        SGD([theta], lr=0.1, momentum=0.0, damped=True)


def test_every_optimizer_has_its_own_default_learning_rate():
    assert set(DEFAULT_LR) == set(OPTIMIZERS)
    assert DEFAULT_LR["adam"] == DEFAULT_LR["rmsprop"] == 1e-3 and DEFAULT_LR["adagrad"] == 1e-2
    assert DEFAULT_LR["momentum_damped"] * (1 - 0.9) == pytest.approx(DEFAULT_LR["momentum"])


# ---- MSE as ½·Σ(y − ŷ)²/N (report 002) ----------------------------------------------------

def test_mse_half_is_half_the_squared_error_summed_over_outputs_averaged_over_the_batch():
    logits = rng.standard_normal((6, 10))
    y = rng.integers(0, 10, 6)
    Y = np.eye(10)[y]
    expected = 0.5 * np.sum((Y - logits) ** 2) / 6
    S = tape.tensor(logits, requires_grad=True)
    loss = data_loss(S, y, "mse_half")
    assert float(loss.data) == pytest.approx(expected, rel=1e-14)
    loss.backward()
    np.testing.assert_allclose(S.grad, (logits - Y) / 6, rtol=1e-13)   # report 002's gradient


def test_mse_half_is_k_over_2_times_the_mean_over_all_elements():
    logits = rng.standard_normal((5, 10))
    y = rng.integers(0, 10, 5)
    mean = float(data_loss(tape.tensor(logits), y, "mse").data)
    assert mean == pytest.approx(np.mean((np.eye(10)[y] - logits) ** 2))
    assert float(data_loss(tape.tensor(logits), y, "mse_half").data) == pytest.approx(5 * mean)
    assert LOSSES == ("cross_entropy", "mse", "mse_half")


# ---- Gaussian initialisation with a given scale (cs231n, report 004) ---------------------

@pytest.mark.parametrize("init, std", [
    ("gaussian", 1e-3), ("he", np.sqrt(2 / 784)), ("xavier", np.sqrt(2 / (784 + 500))),
    ("lecun", np.sqrt(1 / 784))])
def test_initial_weights_have_the_formulas_standard_deviation(init, std):
    W = init_weight(784, 500, init, np.random.default_rng(1), np.float64, weight_scale=1e-3)
    assert W.std() == pytest.approx(std, rel=0.01)          # 392,000 draws: ±0.2 %
    assert abs(W.mean()) < 5 * std / np.sqrt(W.size)


def test_gaussian_init_with_weight_scale_sets_every_layer_and_leaves_biases_zero():
    model = MLP([784, 300, 100, 10], init="gaussian", weight_scale=1e-2, seed=0,
                dtype=np.float64)
    for layer in model.layers:
        assert layer.W.data.std() == pytest.approx(1e-2, rel=0.05)
        assert not layer.b.data.any()


def test_gaussian_init_needs_a_positive_scale():
    with pytest.raises(ValueError, match="positive weight_scale"):
        init_weight(4, 3, "gaussian", np.random.default_rng(0), np.float32, weight_scale=0.0)


# ---- the README's conversions, as whole training runs -----------------------------------

def one_epoch(**config):
    from models.data.datasets import Splits
    from models.train.config import Config
    from models.train.loop import Run
    data = np.random.default_rng(3)
    x = data.random((96, 784))
    y = data.integers(0, 10, 96)
    run = Run(Config(hidden=[16], epochs=1, batch_size=32, schedule="constant",
                     dtype="float64", **config))
    run.fit(Splits(x, y, x[:8], y[:8], x[:8], y[:8], tuple("0123456789")), progress=False,
            log=lambda line: None)
    return run.model.state_dict()


@pytest.mark.parametrize("report, default", [
    (dict(loss="mse_half", optimizer="sgd", lr=0.01, l2=1e-3),
     dict(loss="mse", optimizer="sgd", lr=0.05, l2=2e-4)),             # 5× lr, ⅕ L2
    (dict(optimizer="momentum_damped", lr=0.01, momentum=0.8),
     dict(optimizer="momentum", lr=0.002, momentum=0.8)),               # lr·(1 − β)
])
def test_the_readmes_conversion_gives_the_same_training_run(report, default):
    a, b = one_epoch(**report), one_epoch(**default)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-9, atol=1e-12)

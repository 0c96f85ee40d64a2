"""tape.check_manual on the students' own code from the course reports (tests/engine/students/):
the code runs unchanged on the tape, a correct backward pass passes, and a planted bug is
found in exactly the parameters it breaks."""

import numpy as np
import pytest

import tape
from tests.engine.students import cs231n_fc_net, cs231n_layers, report001, report002, report003


def _data(n=6, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, k, n)


def _onehot(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1
    return out


# ---- report 001: back_propagate, column layout ----------------------------------------------

def _report001(network_class):
    x, y = _data(k=4)
    net = network_class([5, 4, 3, 4], activation="relu")
    Y = _onehot(y, 4)

    def f(params):
        net.params = params
        output = net.feed_forward(x)
        return net.cross_entropy_loss(Y, output), net.back_propagate(Y, output)
    return f, dict(net.params)


def test_report_001_back_propagate_agrees_with_the_tape():
    result = tape.check_manual(*_report001(report001.ShallowNeuralNetwork))
    assert result.ok and result.failed == [], str(result)


@pytest.mark.parametrize("bug, broken", [
    (report001.Db2WithoutTheMean, ["b2"]),
    (report001.FirstActivationDerivativeForgotten, ["W1", "b1"]),
])
def test_report_001_planted_bug_is_found_in_exactly_its_parameters(bug, broken):
    result = tape.check_manual(*_report001(bug))
    assert not result.ok and result.failed == broken, str(result)
    assert result.tape_doubtful == []


def test_report_001_missing_mean_is_named_as_a_factor_of_the_batch_size():
    result = tape.check_manual(*_report001(report001.Db2WithoutTheMean))
    assert "yours is 6 × the tape's everywhere: a missing 1/6" in str(result)


# ---- report 002: LeakyRelu with copy.deepcopy and masked assignment, Mse ---------------------

def _report002(activation=report002.LeakyRelu, loss=report002.Mse):
    x, y = _data(k=3)
    net = report002.TwoLayerNetwork([5, 4, 3], activation=activation, loss=loss)
    target = _onehot(y, 3)

    def f(params):
        net.params = params
        return net.loss_and_grads(x, target)
    return f, dict(net.params)


def test_report_002_leaky_relu_and_mse_agree_with_the_tape():
    result = tape.check_manual(*_report002())
    assert result.ok, str(result)


@pytest.mark.parametrize("variant, broken", [
    ({"loss": report002.MseGradientNotAveraged}, ["W1", "b1", "W2", "b2"]),
    ({"activation": report002.LeakyReluWrongSlope}, ["W1", "b1"]),
])
def test_report_002_planted_bug_is_found_in_exactly_its_parameters(variant, broken):
    result = tape.check_manual(*_report002(**variant))
    assert sorted(result.failed) == sorted(broken), str(result)


# ---- report 003: LinearLayer / ActivationLayer, np.copy then z[z < 0] = 0 ---------------------

def _report003(network_class=report003.DeepNeuralNetwork, activation="tanh", layer=None):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((8, 2)), rng.integers(0, 2, 8)
    net = network_class(2, 2, 4, 3, actFun_type=activation, reg_lambda=0.01)
    if layer is not None:
        net.activations[0] = layer(activation)

    def f(params):
        for i, fc in enumerate(net.fcs, start=1):
            fc.W, fc.bias = params[f"W{i}"], params[f"b{i}"]
        loss = net.calculate_loss(X, y)
        net.backprop(X, y)
        # the student's update is W -= ε(dW + λW) and bias -= ε·db (db broadcast onto (1, n))
        grads = {}
        for i, fc in enumerate(net.fcs, start=1):
            grads[f"W{i}"] = fc.dW + (net.reg_lambda * fc.W if net.regularized_in_update else 0)
            grads[f"b{i}"] = fc.db.reshape(fc.bias.shape)
        return loss, grads
    params = {}
    for i, fc in enumerate(net.fcs, start=1):
        params[f"W{i}"], params[f"b{i}"] = fc.W, fc.bias + 0.1 * rng.standard_normal(fc.bias.shape)
    return f, params


LOOSER = 1e-3     # the student's loss adds 1e-5 inside the log; their gradient leaves it out


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_report_003_as_written_has_dW_N_times_the_gradient_of_its_averaged_loss(activation):
    result = tape.check_manual(*_report003(activation=activation), tolerance=LOOSER)
    assert result.failed == ["W1", "W2"], str(result)          # db = grad.mean(axis=0) is right
    assert "yours is 8 × the tape's everywhere: a missing 1/8" in str(result)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_report_003_corrected_agrees_with_the_tape_to_the_1e_5_in_the_log(activation):
    f, params = _report003(report003.Corrected, activation)
    assert tape.check_manual(f, params, tolerance=LOOSER).ok
    strict = tape.check_manual(f, params)                         # 1e-5 inside the log shows
    assert strict.failed and not strict.tape_doubtful


def test_report_003_planted_bug_in_tanh_derivative_breaks_only_the_first_layer():
    f, params = _report003(report003.Corrected, "tanh", layer=report003.TanhDerivativeNotSquared)
    result = tape.check_manual(f, params, tolerance=LOOSER)
    assert result.failed == ["W1", "b1"], str(result)


# ---- report 004: cs231n's TwoLayerNet ------------------------------------------------------

def _report004(reg=0.1, sizes=(6, 4, 3)):
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((5, sizes[0])), rng.integers(0, sizes[2], 5)
    model = cs231n_fc_net.TwoLayerNet(input_dim=sizes[0], hidden_dim=sizes[1],
                                      num_classes=sizes[2], weight_scale=0.5, reg=reg)
    return (lambda params: (setattr(model, "params", params), model.loss(X, y))[1]), dict(model.params)


def test_report_004_as_written_is_refused_at_the_forward_dot_naming_the_line_and_the_fix():
    with pytest.raises(tape.DroppedGradientError) as error:
        tape.check_manual(*_report004())
    message = str(error.value)
    assert "\n" not in message
    assert "cs231n_layers.py" in message and "out = x.reshape(N, -1).dot(w) + b" in message
    assert "np.dot(x, w) or x @ w" in message


def test_report_004_the_same_spelling_in_its_backward_pass_does_not_stop_the_check(monkeypatch):
    # affine_backward keeps x.reshape(N, -1).T.dot(dout): harmless, the values are ignored
    monkeypatch.setattr(cs231n_layers, "affine_forward", cs231n_layers.affine_forward_fixed)
    result = tape.check_manual(*_report004())
    assert result.ok, str(result)


# dW transposed: with square weights, or `dW + reg * W` fails in the student's own code
@pytest.mark.parametrize("name, bug, reg, broken", [
    ("affine_backward", cs231n_layers.affine_backward_dw_transposed, 0.0, ["W1", "W2"]),
    ("relu_backward", cs231n_layers.relu_backward_mask_dropped, 0.1, ["W1", "b1"]),
    ("softmax_loss", cs231n_layers.softmax_loss_without_1_over_N, 0.0, ["W1", "b1", "W2", "b2"]),
])
def test_report_004_planted_bug_is_found_in_exactly_its_parameters(monkeypatch, name, bug, reg,
                                                                     broken):
    monkeypatch.setattr(cs231n_layers, "affine_forward", cs231n_layers.affine_forward_fixed)
    monkeypatch.setattr(cs231n_layers, name, bug)
    result = tape.check_manual(*_report004(reg, sizes=(4, 4, 4)))
    assert result.failed == broken, str(result)


def test_report_004_says_what_each_bug_looks_like(monkeypatch):
    monkeypatch.setattr(cs231n_layers, "affine_forward", cs231n_layers.affine_forward_fixed)
    monkeypatch.setattr(cs231n_layers, "softmax_loss", cs231n_layers.softmax_loss_without_1_over_N)
    assert "a missing 1/5 (1/N for a batch of 5?)" in str(tape.check_manual(*_report004(0.0)))
    monkeypatch.undo()
    monkeypatch.setattr(cs231n_layers, "affine_forward", cs231n_layers.affine_forward_fixed)
    monkeypatch.setattr(cs231n_layers, "affine_backward", cs231n_layers.affine_backward_dw_transposed)
    text = str(tape.check_manual(*_report004(0.0, sizes=(4, 4, 4))))
    assert "W1: your gradient is the tape's transposed" in text


def test_a_gradient_of_the_transposed_shape_is_named_a_transpose():
    x = np.arange(6.0).reshape(3, 2)

    def f(params):
        W = params["W"]                                  # (2, 4)
        delta = np.ones((3, 4))
        return np.sum(np.dot(x, W)), {"W": delta.T.dot(x)}    # (4, 2): Δᵀ·X
    text = str(tape.check_manual(f, {"W": np.ones((2, 4))}))
    assert "W: your gradient has shape (4, 2), the tape's (2, 4): transposed " \
           "(and equal to the tape's transpose)" in text


# ---- the result and its table ------------------------------------------------------------------

def test_the_table_has_a_row_per_parameter_with_both_errors_and_the_verdict():
    result = tape.check_manual(*_report002())
    lines = str(result).splitlines()
    assert lines[0].split() == ["parameter", "shape", "manual", "vs", "tape", "tape", "vs",
                                "finite", "diff", "ok"]
    assert [line.split()[0] for line in lines[1:]] == ["W1", "b1", "W2", "b2"]
    for row in result.rows:
        assert row.ok and row.manual_vs_tape < 1e-12 and row.tape_vs_finite_diff < 1e-6
        assert row.shape == {"W1": (5, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}[row.name]


def test_a_kink_in_the_tape_is_reported_apart_from_the_students_gradient():
    # |w| at w = 0: the tape's rule says 0, central differences say 0 too, but |w| at 1e-7
    # is within eps of the kink: the tape and finite differences disagree there
    def f(params):
        w = params["w"]
        return np.sum(np.abs(w)), {"w": np.sign(w)}
    result = tape.check_manual(f, {"w": np.array([1e-7, 2.0])})
    assert result.failed == [] and result.tape_doubtful == ["w"] and not result.ok
    assert "the tape itself disagrees with finite differences" in str(result)


def test_a_loss_given_as_a_float_is_refused_with_the_fix():
    def f(params):
        return float(np.sum(params["w"] ** 2)), {"w": 2 * params["w"]}
    with pytest.raises(TypeError, match=r"not float\(loss\)"):
        tape.check_manual(f, {"w": np.ones(2)})


def test_grads_missing_a_parameter_are_refused_naming_it():
    def f(params):
        return np.sum(params["w"] * params["v"]), {"w": params["v"]}
    with pytest.raises(ValueError, match="no entry for v"):
        tape.check_manual(f, {"w": np.ones(2), "v": np.ones(2)})


def test_a_difference_confined_to_some_columns_is_named_by_its_columns():
    x = np.arange(6.0).reshape(3, 2) + 1.0

    def f(params):
        W = params["W"]                                   # (2, 4)
        dW = np.dot(x.T, np.ones((3, 4)))
        dW[:, 3] *= 2.0                                   # the fourth unit's gradient is wrong
        return np.sum(np.dot(x, W)), {"W": dW}
    text = str(tape.check_manual(f, {"W": np.ones((2, 4))}))
    assert "only in columns 3 of 4" in text and "rows" not in text.split("only in")[1]

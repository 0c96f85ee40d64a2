"""tape.compile(loss, parameters=, optimizer=): a whole training step in one replay, whose
parameters, slots, gradients and step count equal the eager step's bit for bit."""

import numpy as np
import pytest

import tape
from models.optim import SGD, Adagrad, Adam
from tests.engine.test_compile import moons_like, same_bits

FOLDED = {"sgd": dict(lr=0.1), "momentum": dict(lr=0.05, momentum=0.9),
          "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
          "damped": dict(lr=0.5, momentum=0.8, damped=True)}


def data(n=100, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, 2))
    return X, np.sign(X[:, :1] * X[:, 1:])


def eager_step(loss, optimizer, X, y):
    optimizer.zero_grad()
    value = loss(X, y)
    value.backward()
    optimizer.step()
    return value.data


def twins(make_optimizer):
    """The moons-like net twice from the same weights, each with its own optimiser."""
    (loss, params), (loss_2, params_2) = moons_like(), moons_like()
    return (loss, params, make_optimizer(params)), (loss_2, params_2, make_optimizer(params_2))


def assert_same_state(params, optimizer, params_2, optimizer_2):
    assert all(same_bits(p.data, q.data) for p, q in zip(params, params_2))
    assert all(same_bits(p.grad, q.grad) for p, q in zip(params, params_2))
    assert optimizer.steps == optimizer_2.steps
    assert optimizer.slots.keys() == optimizer_2.slots.keys()
    for name in optimizer.slots:
        assert all(same_bits(a, b) for a, b in zip(optimizer.slots[name], optimizer_2.slots[name]))


@pytest.mark.parametrize("form", FOLDED)
def test_a_folded_step_moves_the_parameters_as_the_eager_step_bit_for_bit(form):
    (loss, params, optimizer), (loss_2, params_2, optimizer_2) = \
        twins(lambda ps: SGD(ps, **FOLDED[form]))
    step = tape.compile(loss_2, parameters=params_2, optimizer=optimizer_2)
    X, y = data()
    for _ in range(6):
        assert same_bits(step(X, y), eager_step(loss, optimizer, X, y))
        assert_same_state(params, optimizer, params_2, optimizer_2)
    assert step.traces == 1 and "# the update: SGD.update_source()" in step.source
    assert next(iter(step.cache.values())).fold.plain        # the replay's own path ran


@pytest.mark.parametrize("make", [lambda ps: Adam(ps, lr=1e-2), lambda ps: Adagrad(ps)],
                         ids=["adam", "adagrad"])
def test_an_optimiser_with_no_generated_form_steps_after_the_replay(make):
    (loss, params, optimizer), (loss_2, params_2, optimizer_2) = twins(make)
    step = tape.compile(loss_2, parameters=params_2, optimizer=optimizer_2)
    X, y = data()
    for _ in range(4):
        assert same_bits(step(X, y), eager_step(loss, optimizer, X, y))
        assert_same_state(params, optimizer, params_2, optimizer_2)
    assert "update" not in step.source and next(iter(step.cache.values())).fold is None


def test_grad_holds_this_steps_gradients_not_a_sum():
    loss, params = moons_like()
    optimizer = SGD(params, lr=0.1)
    step = tape.compile(loss, parameters=params, optimizer=optimizer)
    X, y = data()
    step(X, y)
    step(X, y)
    for p in params:
        p.grad = None
    loss(X, y).backward()                      # the gradients at the weights the step sees ...
    expected = [p.grad.copy() for p in params]
    for p in params:
        p.grad = np.ones_like(p.data)          # left over: the step does not add to it
    before = [p.data.copy() for p in params]
    step(X, y)                                 # ... are the ones it leaves in .grad
    assert all(same_bits(p.grad, g) for p, g in zip(params, expected))
    assert all(same_bits(b - 0.1 * g, p.data) for b, g, p in zip(before, expected, params))
    assert optimizer.steps == 3


def test_a_schedule_or_a_checkpoint_between_steps_is_read_by_the_next_step():
    (loss, params, optimizer), (loss_2, params_2, optimizer_2) = \
        twins(lambda ps: SGD(ps, lr=0.05, momentum=0.9))
    step = tape.compile(loss_2, parameters=params_2, optimizer=optimizer_2)
    X, y = data()
    for lr in (0.05, 0.02, 0.01):
        optimizer.lr = optimizer_2.lr = lr
        for _ in range(2):
            assert same_bits(step(X, y), eager_step(loss, optimizer, X, y))
    state = optimizer.state_dict()             # new velocity arrays, as a resumed run has
    optimizer.load_state_dict(state)
    optimizer_2.load_state_dict(state)
    for _ in range(2):
        assert same_bits(step(X, y), eager_step(loss, optimizer, X, y))
        assert_same_state(params, optimizer, params_2, optimizer_2)
    assert step.traces == 1


def test_another_batch_size_traces_again_and_still_steps_bit_for_bit():
    (loss, params, optimizer), (loss_2, params_2, optimizer_2) = \
        twins(lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True))
    step = tape.compile(loss_2, parameters=params_2, optimizer=optimizer_2)
    for n in (100, 100, 37, 37, 100):
        X, y = data(n, seed=n)
        assert same_bits(step(X, y), eager_step(loss, optimizer, X, y))
        assert_same_state(params, optimizer, params_2, optimizer_2)
    assert step.traces == 2 and step.reasons == ["X was (100, 2) float64, is now (37, 2) float64"]


def test_a_frozen_parameter_and_one_the_optimiser_does_not_hold_are_left_alone():
    (loss, params, optimizer), (loss_2, params_2, optimizer_2) = \
        twins(lambda ps: SGD(ps[1:], lr=0.1, momentum=0.9))    # W1 is not the optimiser's
    for ps in (params, params_2):
        ps[3].requires_grad = False                              # b2 is frozen
    step = tape.compile(loss_2, parameters=params_2, optimizer=optimizer_2)
    X, y = data()
    for _ in range(3):
        params[0].grad = params_2[0].grad = None                 # not zero_grad's to clear
        assert same_bits(step(X, y), eager_step(loss, optimizer, X, y))
        assert_same_state(params[:3], optimizer, params_2[:3], optimizer_2)
    assert params_2[3].grad is None and "W1 +=" not in step.source and "b1 +=" in step.source


def test_a_generated_form_that_is_not_the_update_is_refused_when_traced():
    class Wrong(SGD):
        def update_source(self):
            return ["theta -= g * lr * 1.0000001"], ("lr",), ()
    loss, params = moons_like()
    step = tape.compile(loss, parameters=params, optimizer=Wrong(params, lr=0.1))
    with pytest.raises(tape.CompileError, match="bit for bit"):
        step(*data())


def test_an_optimizer_needs_the_parameters_form():
    loss, params = moons_like()
    with pytest.raises(TypeError, match="parameters form"):
        tape.compile(tape.grad(loss), optimizer=SGD(params))


def test_aux_outputs_and_a_scalar_parameter_take_the_general_path_bit_for_bit():
    def model():
        loss, params = moons_like()
        scale = tape.tensor(np.array(0.5), requires_grad=True, name="scale")    # 0-d

        def objective(X, y):
            data_loss = loss(X, y)
            return data_loss + scale * scale, data_loss
        return objective, params + [scale]
    (objective, params), (objective_2, params_2) = model(), model()
    optimizer, optimizer_2 = SGD(params, lr=0.1, momentum=0.5), SGD(params_2, lr=0.1, momentum=0.5)
    step = tape.compile(objective_2, parameters=params_2, optimizer=optimizer_2, has_aux=True)
    X, y = data()
    for _ in range(3):
        optimizer.zero_grad()
        total, data_loss = objective(X, y)
        total.backward()
        optimizer.step()
        value, aux = step(X, y)
        assert same_bits(value, total.data) and same_bits(aux, data_loss.data)
        assert_same_state(params, optimizer, params_2, optimizer_2)
    assert type(params_2[-1].grad) is np.ndarray and "scale +=" in step.source

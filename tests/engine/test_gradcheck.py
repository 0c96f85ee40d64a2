"""The checking helpers themselves: `numerical_gradient` is central differences, and
`gradcheck` catches a wrong first-order rule and (order=2) a rule that cannot be
differentiated again, naming the input."""

import numpy as np
import pytest

import tape


def test_numerical_gradient_is_central_differences_of_a_known_function():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    numeric = tape.numerical_gradient(lambda x: np.sum(np.sin(x) * x), x)
    np.testing.assert_allclose(numeric, np.cos(x) * x + np.sin(x), rtol=1e-8)


def test_numerical_gradient_leaves_its_input_alone_and_works_in_float64():
    x = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    before = x.copy()
    seen = []
    tape.numerical_gradient(lambda x: seen.append(x.dtype) or float(np.sum(x * x)), x)
    np.testing.assert_array_equal(x, before)
    assert set(seen) == {np.dtype(np.float64)}


def test_numerical_gradient_at_chosen_indices_only():
    x = np.arange(6.0).reshape(2, 3)
    numeric = tape.numerical_gradient(lambda x: np.sum(x ** 3), x, indices=[(0, 1), (1, 2)])
    np.testing.assert_allclose(numeric, [3 * 1.0 ** 2, 3 * 5.0 ** 2], rtol=1e-8)


def test_gradcheck_rejects_a_wrong_first_order_rule_and_names_the_input():
    wrong = tape.primitive(lambda x: x * x, name="square_with_a_wrong_rule")
    wrong.defvjp(lambda g, ans, x: g * x)           # should be 2x
    with pytest.raises(tape.GradcheckError, match="input 0"):
        tape.gradcheck(wrong, [np.array([0.5, 1.5, -2.0])])


def test_gradcheck_order_2_rejects_a_rule_that_cannot_be_differentiated_again():
    # the rule is right, but written in bare numpy: its own gradient is lost (zero),
    # which order=1 cannot see and order=2 must
    opaque = tape.primitive(lambda x: np.sin(x), name="sin_with_an_opaque_rule")
    opaque.defvjp(lambda g, ans, x: g * np.cos(x.data if isinstance(x, tape.Tensor) else x))
    x = np.array([0.3, -1.2, 2.0])
    assert tape.gradcheck(opaque, [x], order=1) is True
    with pytest.raises(tape.GradcheckError, match="second-order"):
        tape.gradcheck(opaque, [x], order=2)


def test_gradcheck_order_2_accepts_rules_written_with_tape_ops():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    assert tape.gradcheck(lambda W, b: tape.cross_entropy(tape.tanh(X @ W + b), y),
                          [rng.standard_normal((3, 3)), rng.standard_normal(3)], order=2)


def test_gradcheck_passes_non_float_inputs_through_unchanged():
    labels = np.array([1, 0])
    assert tape.gradcheck(tape.cross_entropy, [np.array([[0.1, 0.4], [2.0, -1.0]]), labels],
                          order=2)


def test_gradcheck_keeps_a_non_contiguous_float64_view():
    base = np.random.default_rng(1).standard_normal((4, 6))
    view = base[::2, ::3].T                         # strided and transposed
    seen = []

    def f(x):
        seen.append(x.data.flags.c_contiguous if isinstance(x, tape.Tensor) else None)
        return tape.tanh(x) * x

    assert tape.gradcheck(f, [view], order=2)
    assert False in seen                            # the tape saw the view itself


def test_gradcheck_order_must_be_1_or_2():
    with pytest.raises(ValueError, match="order"):
        tape.gradcheck(tape.exp, [np.ones(2)], order=3)


@pytest.mark.parametrize("eps", [0, -1e-6, float("nan"), float("inf")])
def test_gradcheck_and_numerical_gradient_refuse_a_step_that_is_not_positive(eps):
    f = lambda x: (x * x).sum()             # noqa: E731
    with pytest.raises(ValueError, match="eps, the finite-difference step, must be a "
                                         "positive number"):
        tape.gradcheck(f, [np.ones(3)], eps=eps)
    with pytest.raises(ValueError, match="must be a positive number"):
        tape.numerical_gradient(lambda x: float(np.sum(x * x)), np.ones(3), eps=eps)


def test_gradcheck_says_f_must_return_a_tensor_when_it_computes_in_numpy():
    """numpy on x.data is invisible to the tape: its gradient would read as zero, and
    the check would blame the engine for a wrong gradient."""
    def in_numpy(x):
        return np.exp(x.data if isinstance(x, tape.Tensor) else x).sum()
    with pytest.raises(TypeError, match="gradcheck: f must return a Tensor computed from "
                                        "its inputs by tape operations, got float64"):
        tape.gradcheck(in_numpy, [np.ones(3)])
    with pytest.raises(TypeError, match="got ndarray"):
        tape.gradcheck(lambda x: np.exp(x.data if isinstance(x, tape.Tensor) else x),
                       [np.ones(3)])


def test_gradcheck_of_a_function_of_plain_arrays_still_works_on_the_tape():
    assert tape.gradcheck(lambda x: x * 2.0, [np.ones(3)])

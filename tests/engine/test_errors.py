"""Bad input: errors that name the op and the shapes or dtypes, and say what to do."""

import numpy as np
import pytest

import tape


def test_matmul_of_incompatible_shapes_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        tape.tensor(np.ones((2, 3))) @ np.ones((4, 5))


def test_backward_of_a_non_scalar_needs_a_seed():
    y = tape.tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"non-scalar tensor of shape \(2, 3\) needs a seed"):
        y.backward()


def test_seed_of_the_wrong_shape():
    y = tape.tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"seed gradient has shape \(3,\) but the output has shape \(2, 3\)"):
        y.backward(np.ones(3))


def test_requires_grad_on_integers_names_the_dtype():
    with pytest.raises(TypeError, match="floating-point tensor, but the data is int64"):
        tape.tensor(np.arange(3), requires_grad=True)


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 3]), "label 3 is out of range for 3 classes"),
    (np.array([0, -1]), "label -1 is out of range"),
    (np.array([0, 1, 2]), r"labels must have shape \(2,\), one per row of the logits \(2, 3\)"),
    (np.array([0.0, 1.0]), "labels must be integer class ids, got dtype float64"),
])
def test_cross_entropy_label_errors(labels, message):
    logits = tape.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises((ValueError, TypeError), match=message):
        tape.cross_entropy(logits, labels)


def test_second_backward_through_a_freed_tape_says_retain_graph():
    x = tape.tensor(2.0, requires_grad=True)
    y = tape.exp(x) * 3
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True"):
        y.backward()


def test_mse_shape_mismatch():
    with pytest.raises(ValueError, match=r"mse: pred and target must have the same shape, got \(2, 3\) and \(3, 2\)"):
        tape.mse(tape.tensor(np.ones((2, 3))), np.ones((3, 2)))


def test_backward_on_a_tensor_without_history():
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        tape.tensor(1.0).backward()


def test_linear_names_its_expected_shapes():
    with pytest.raises(ValueError, match=r"linear: expected X \(n, in\), W \(in, out\), b \(out,\)"):
        tape.linear(np.ones((2, 3)), np.ones((3, 4)), np.ones(3))


@pytest.mark.parametrize("a_shape, b_shape", [
    ((3,), (4,)), ((3,), (4, 2)), ((2, 3), (4,)), ((2, 3, 4), (5, 6))])
def test_matmul_error_names_the_op_and_both_shapes_in_every_arrangement(a_shape, b_shape):
    with pytest.raises(ValueError) as error:
        tape.tensor(np.ones(a_shape), requires_grad=True) @ np.ones(b_shape)
    message = str(error.value)
    assert "matmul" in message and str(a_shape) in message and str(b_shape) in message


def test_matmul_with_mismatched_batch_axes_names_the_op_and_both_shapes():
    with pytest.raises(ValueError) as error:
        tape.tensor(np.ones((2, 3, 4))) @ np.ones((3, 4, 5))
    message = str(error.value)
    assert "matmul" in message and "(2, 3, 4)" in message and "(3, 4, 5)" in message


def test_matmul_of_a_scalar_says_use_multiply():
    with pytest.raises(ValueError, match=r"matmul: scalars cannot be matrix-multiplied.*use \*"):
        tape.tensor(np.ones(3)) @ 2.0


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_requires_grad_on_non_float_data_names_its_dtype(dtype):
    with pytest.raises(TypeError, match=f"but the data is {np.dtype(dtype)}"):
        tape.Tensor(np.zeros(3, dtype=dtype), requires_grad=True)


def test_cross_entropy_needs_2d_logits():
    with pytest.raises(ValueError, match=r"cross_entropy: logits must be \(batch, classes\), got shape \(3,\)"):
        tape.cross_entropy(tape.tensor(np.zeros(3), requires_grad=True), np.array([0]))


def test_tape_gradient_through_a_freed_tape_says_retain_graph():
    x = tape.tensor(2.0, requires_grad=True)
    with tape.Tape() as t:
        y = tape.tanh(x) * 3
    t.gradient(y, [x])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        t.gradient(y, [x])


def test_backward_inside_no_grad_names_the_cause():
    x = tape.tensor(1.0, requires_grad=True)
    with tape.no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match="with no_grad"):
        y.backward()


def test_backward_of_a_non_tensor():
    with pytest.raises(TypeError, match="backward needs a Tensor, got float"):
        tape.gradients(1.0, [])


def test_gradient_sources_must_be_tensors():
    x = tape.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="gradient sources must be Tensors, got ndarray"):
        tape.gradients(x * 2, [np.ones(1)])


def test_grad_of_a_non_scalar_function_names_the_shape():
    with pytest.raises(ValueError, match=r"grad: f must return a scalar, got shape \(3,\)"):
        tape.grad(lambda x: x * 2)(np.ones(3))


def test_grad_of_a_function_returning_a_non_tensor():
    with pytest.raises(TypeError, match="grad: f must return a Tensor, got float"):
        tape.grad(lambda x: 1.0)(np.ones(3))


def test_grad_with_argnums_beyond_the_arguments():
    with pytest.raises(IndexError, match="argnums=2 but the function got 1 arguments"):
        tape.grad(lambda x: x.sum(), argnums=2)(np.ones(3))


def test_a_primitive_without_a_rule_names_the_op_and_the_input():
    @tape.primitive
    def twice(x):
        return 2 * x

    x = tape.tensor(1.0, requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"twice: no gradient rule for input 0.*twice\.defvjp"):
        twice(x).backward()


def test_a_primitive_with_fewer_rules_than_inputs_names_the_input_without_one():
    @tape.primitive
    def scaled(x, y):
        return x * y

    scaled.defvjp(lambda g, ans, x, y: g * y)            # a rule for x only
    x, y = tape.tensor(2.0, requires_grad=True), tape.tensor(3.0, requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"scaled: no gradient rule for input 1"):
        scaled(x, y).backward()


def test_stack_of_nothing():
    with pytest.raises(ValueError, match="stack needs at least one tensor"):
        tape.stack([])


def test_gradcheck_needs_a_float_input():
    with pytest.raises(TypeError, match="no floating-point input"):
        tape.gradcheck(lambda i: tape.tensor(1.0), [np.arange(3)])


def test_cross_entropy_of_an_empty_batch_says_so_not_zero_division():
    logits = tape.tensor(np.zeros((0, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"cross_entropy: the batch is empty \(logits of "
                                         r"shape \(0, 4\)\); the mean over no examples"):
        tape.cross_entropy(logits, np.zeros(0, dtype=int))

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
